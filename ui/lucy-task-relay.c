/* The worker-to-main-loop relay shared by the convolution and deconvolution tasks. */
#include "lucy-task-relay.h"

#define REPORT_INTERVAL_US (100 * 1000) /* ~10 Hz */

struct _LucyTaskRelay {
  gint ref;
  GMutex lock;
  GCancellable *cancellable;
  GWeakRef target;
  LucyTaskProgressFunc progress_func;
  LucyTaskIterationFunc iteration_func;

  /* the latest report, under lock */
  double fraction;
  char stage[64];
  gboolean have_iteration;
  int iteration, total;
  double idiv, rel_change, seconds;
  gint64 last_dispatch;
  gboolean report_pending;

  gint delivery_pending; /* atomic */
};

LucyTaskRelay *lucy_task_relay_new(GCancellable *cancellable, GObject *target,
                                   LucyTaskProgressFunc progress,
                                   LucyTaskIterationFunc iteration) {
  LucyTaskRelay *r = g_new0(LucyTaskRelay, 1);
  r->ref = 1;
  g_mutex_init(&r->lock);
  r->cancellable = cancellable ? g_object_ref(cancellable) : g_cancellable_new();
  g_weak_ref_init(&r->target, target);
  r->progress_func = progress;
  r->iteration_func = iteration;
  r->last_dispatch = G_MININT64 / 2;
  return r;
}

LucyTaskRelay *lucy_task_relay_ref(LucyTaskRelay *r) {
  g_atomic_int_inc(&r->ref);
  return r;
}

void lucy_task_relay_unref(gpointer data) {
  LucyTaskRelay *r = data;
  if (!r || !g_atomic_int_dec_and_test(&r->ref)) return;
  g_mutex_clear(&r->lock);
  g_clear_object(&r->cancellable);
  g_weak_ref_clear(&r->target);
  g_free(r);
}

GCancellable *lucy_task_relay_get_cancellable(LucyTaskRelay *r) { return r->cancellable; }

gboolean lucy_task_relay_is_cancelled(LucyTaskRelay *r) {
  return g_cancellable_is_cancelled(r->cancellable);
}

/* The live target, or NULL when it is gone or the work was cancelled (unref what you get). */
static GObject *live_target(LucyTaskRelay *r) {
  GObject *target = g_weak_ref_get(&r->target);
  if (target && lucy_task_relay_is_cancelled(r)) g_clear_object(&target);
  return target;
}

static gboolean report_idle(gpointer data) {
  LucyTaskRelay *r = data;
  g_mutex_lock(&r->lock);
  double fraction = r->fraction;
  char stage[64];
  g_strlcpy(stage, r->stage, sizeof stage);
  gboolean have_iteration = r->have_iteration;
  int iteration = r->iteration, total = r->total;
  double idiv = r->idiv, rel_change = r->rel_change, seconds = r->seconds;
  r->report_pending = FALSE;
  g_mutex_unlock(&r->lock);
  GObject *target = live_target(r);
  if (!target) return G_SOURCE_REMOVE;
  if (r->progress_func) r->progress_func(target, fraction, stage);
  if (have_iteration && r->iteration_func)
    r->iteration_func(target, iteration, total, idiv, rel_change, seconds);
  g_object_unref(target);
  return G_SOURCE_REMOVE;
}

/* With the lock held: one idle at a time, at most every REPORT_INTERVAL_US unless forced; the
 * idle reads whatever is latest when it runs, so nothing newer is lost by skipping. */
static void dispatch_locked(LucyTaskRelay *r, gboolean force) {
  gint64 now = g_get_monotonic_time();
  if (r->report_pending || (!force && now - r->last_dispatch < REPORT_INTERVAL_US)) return;
  r->report_pending = TRUE;
  r->last_dispatch = now;
  g_idle_add_full(G_PRIORITY_DEFAULT, report_idle, lucy_task_relay_ref(r),
                  lucy_task_relay_unref);
}

void lucy_task_relay_stage(LucyTaskRelay *r, double fraction, const char *stage,
                           gboolean force) {
  g_mutex_lock(&r->lock);
  r->fraction = fraction;
  g_strlcpy(r->stage, stage ? stage : "", sizeof r->stage);
  dispatch_locked(r, force);
  g_mutex_unlock(&r->lock);
}

void lucy_task_relay_iteration(LucyTaskRelay *r, int iteration, int total, double idiv,
                               double rel_change, double seconds) {
  g_mutex_lock(&r->lock);
  r->have_iteration = TRUE;
  r->iteration = iteration;
  r->total = total;
  r->idiv = idiv;
  r->rel_change = rel_change;
  r->seconds = seconds;
  r->fraction = total > 0 ? (double)iteration / total : 0.0;
  g_snprintf(r->stage, sizeof r->stage, "Iteration %d/%d", iteration, total);
  dispatch_locked(r, FALSE);
  g_mutex_unlock(&r->lock);
}

int lucy_task_relay_progress(void *user, double fraction, const char *stage) {
  LucyTaskRelay *r = user;
  lucy_task_relay_stage(r, fraction, stage, FALSE);
  return lucy_task_relay_is_cancelled(r) ? 1 : 0;
}

typedef struct {
  LucyTaskRelay *relay;
  LucyTaskDeliverFunc func;
  gpointer data;
  GDestroyNotify destroy;
} Delivery;

static gboolean deliver_idle(gpointer p) {
  Delivery *d = p;
  GObject *target = live_target(d->relay);
  if (target) d->func(target, d->data);
  g_clear_object(&target);
  if (d->destroy) d->destroy(d->data);
  g_atomic_int_set(&d->relay->delivery_pending, 0);
  lucy_task_relay_unref(d->relay);
  g_free(d);
  return G_SOURCE_REMOVE;
}

gboolean lucy_task_relay_deliver(LucyTaskRelay *r, LucyTaskDeliverFunc func, gpointer data,
                                 GDestroyNotify destroy) {
  if (!g_atomic_int_compare_and_exchange(&r->delivery_pending, 0, 1)) return FALSE;
  Delivery *d = g_new(Delivery, 1);
  d->relay = lucy_task_relay_ref(r);
  d->func = func;
  d->data = data;
  d->destroy = destroy;
  g_idle_add(deliver_idle, d);
  return TRUE;
}
