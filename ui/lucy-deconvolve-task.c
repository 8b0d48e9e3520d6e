/* The deconvolution worker. */
#include "lucy-deconvolve-task.h"

#include <string.h>

#include "lucy-error.h"

#define REPORT_INTERVAL_US (100 * 1000)  /* ~10 Hz */
#define PREVIEW_INTERVAL_US (200 * 1000) /* at most ~5 previews a second */

/* Shared between the worker and the main loop; reference counted. */
typedef struct {
  gint ref;
  GMutex lock;
  GCancellable *cancellable;
  GWeakRef target;
  LucyTaskProgressFunc progress_func;
  LucyDeconIterationFunc iteration_func;
  LucyDeconPreviewFunc preview_func;
  gint executing; /* atomic: 0 while planning, 1 while iterating */

  /* the latest report, under lock */
  double fraction;
  char stage[64];
  gboolean have_iteration;
  int iteration, total;
  double idiv, rel_change, seconds;
  gint64 last_dispatch;
  gboolean idle_pending;

  /* the latest preview, under lock */
  LucyStack *preview;
  int preview_iteration;
  gint64 last_preview;
  size_t shape[3];
  double voxel_um[3];
} Relay;

static Relay *relay_ref(Relay *r) {
  g_atomic_int_inc(&r->ref);
  return r;
}

static void relay_unref(gpointer data) {
  Relay *r = data;
  if (!g_atomic_int_dec_and_test(&r->ref)) return;
  g_clear_object(&r->preview);
  g_mutex_clear(&r->lock);
  g_clear_object(&r->cancellable);
  g_weak_ref_clear(&r->target);
  g_free(r);
}

static gboolean report_idle(gpointer data) {
  Relay *r = data;
  g_mutex_lock(&r->lock);
  double fraction = r->fraction;
  char stage[64];
  g_strlcpy(stage, r->stage, sizeof stage);
  gboolean have_iteration = r->have_iteration;
  int iteration = r->iteration, total = r->total;
  double idiv = r->idiv, rel_change = r->rel_change, seconds = r->seconds;
  r->idle_pending = FALSE;
  g_mutex_unlock(&r->lock);
  GObject *target = g_weak_ref_get(&r->target);
  if (target) {
    if (!g_cancellable_is_cancelled(r->cancellable)) {
      if (r->progress_func) r->progress_func(target, fraction, stage);
      if (have_iteration && r->iteration_func)
        r->iteration_func(target, iteration, total, idiv, rel_change, seconds);
    }
    g_object_unref(target);
  }
  return G_SOURCE_REMOVE;
}

/* Call with the lock held: shows the latest report soon, at most every REPORT_INTERVAL_US. */
static void dispatch_locked(Relay *r, gboolean force) {
  gint64 now = g_get_monotonic_time();
  if (!r->idle_pending && (force || now - r->last_dispatch >= REPORT_INTERVAL_US)) {
    r->idle_pending = TRUE;
    r->last_dispatch = now;
    g_idle_add_full(G_PRIORITY_DEFAULT, report_idle, relay_ref(r), relay_unref);
  }
}

static void relay_stage(Relay *r, double fraction, const char *stage) {
  g_mutex_lock(&r->lock);
  r->fraction = fraction;
  g_strlcpy(r->stage, stage, sizeof r->stage);
  dispatch_locked(r, TRUE);
  g_mutex_unlock(&r->lock);
}

/* LucyProgressFn, on the worker thread (or the core's threads). While iterating the monitor
 * reports; this only answers whether to stop, so Cancel is seen inside long iterations. */
static int relay_progress(void *user, double fraction, const char *stage) {
  Relay *r = user;
  if (!g_atomic_int_get(&r->executing)) {
    g_mutex_lock(&r->lock);
    r->fraction = fraction;
    g_strlcpy(r->stage, stage && stage[0] ? stage : "Planning", sizeof r->stage);
    dispatch_locked(r, FALSE);
    g_mutex_unlock(&r->lock);
  }
  return g_cancellable_is_cancelled(r->cancellable) ? 1 : 0;
}

static gboolean preview_idle(gpointer data) {
  Relay *r = data;
  g_mutex_lock(&r->lock);
  LucyStack *preview = r->preview;
  int iteration = r->preview_iteration;
  r->preview = NULL;
  g_mutex_unlock(&r->lock);
  GObject *target = g_weak_ref_get(&r->target);
  if (target && preview && r->preview_func && !g_cancellable_is_cancelled(r->cancellable))
    r->preview_func(target, preview, iteration);
  g_clear_object(&target);
  g_clear_object(&preview);
  return G_SOURCE_REMOVE;
}

/* A copy of the estimate with its projections, made here so the main loop only swaps it in. */
static void make_preview(Relay *r, const LucyDeconIteration *it) {
  gint64 now = g_get_monotonic_time();
  g_mutex_lock(&r->lock);
  gboolean want = r->preview == NULL && now - r->last_preview >= PREVIEW_INTERVAL_US;
  g_mutex_unlock(&r->lock);
  if (!want) return; /* the last one is not shown yet, or it was just now: skip this one */
  LucyVolume *vol = NULL;
  if (lucy_volume_new(r->shape, &vol) != LUCY_OK) return; /* a preview is optional */
  memcpy(vol->data, it->estimate, lucy_shape_count(r->shape) * sizeof(float));
  memcpy(vol->voxel_um, r->voxel_um, sizeof vol->voxel_um);
  char *title = g_strdup_printf("estimate at iteration %d of %d", it->iteration, r->total);
  LucyStack *stack = lucy_stack_new_take(vol, title);
  g_free(title);
  GError *error = NULL;
  if (!lucy_stack_ensure_projections(stack, &error)) {
    g_clear_error(&error);
    g_object_unref(stack);
    return;
  }
  g_mutex_lock(&r->lock);
  g_clear_object(&r->preview);
  r->preview = stack;
  r->preview_iteration = it->iteration;
  r->last_preview = now;
  g_mutex_unlock(&r->lock);
  g_idle_add_full(G_PRIORITY_DEFAULT, preview_idle, relay_ref(r), relay_unref);
}

/* LucyDeconMonitorFn, on the worker thread after each iteration. */
static int relay_monitor(void *user, const LucyDeconIteration *it) {
  Relay *r = user;
  if (g_cancellable_is_cancelled(r->cancellable)) return 1;
  g_mutex_lock(&r->lock);
  r->have_iteration = TRUE;
  r->iteration = it->iteration;
  r->idiv = it->idiv;
  r->rel_change = it->rel_change;
  r->seconds = it->seconds;
  r->fraction = r->total > 0 ? (double)it->iteration / r->total : 0.0;
  g_snprintf(r->stage, sizeof r->stage, "Iteration %d/%d", it->iteration, r->total);
  dispatch_locked(r, FALSE);
  g_mutex_unlock(&r->lock);
  if (it->estimate && r->preview_func) make_preview(r, it);
  return g_cancellable_is_cancelled(r->cancellable) ? 1 : 0;
}

typedef struct {
  LucyStack *image;
  LucyStack *psf;
  LucyDeconOptions opts;
  Relay *relay;
  int iterations_done;
  char *warning;
} TaskData;

static void task_data_free(gpointer data) {
  TaskData *d = data;
  g_clear_object(&d->image);
  g_clear_object(&d->psf);
  if (d->opts.device) lucy_device_unref(d->opts.device);
  relay_unref(d->relay);
  g_free(d->warning);
  g_free(d);
}

static const char *method_title(LucyDeconMethod m) {
  switch (m) {
    case LUCY_DECON_RL: return "RL";
    case LUCY_DECON_RLTV: return "RL-TV";
    case LUCY_DECON_WIENER: return "Wiener";
  }
  return "?";
}

static void deconvolve_thread(GTask *task, gpointer source, gpointer task_data,
                              GCancellable *cancellable) {
  TaskData *d = task_data;
  const LucyVolume *img = lucy_stack_get_volume(d->image);
  const LucyVolume *psf = lucy_stack_get_volume(d->psf);
  GError *error = NULL;
  LucyDeconPlan *plan = NULL;
  LucyVolume *out = NULL;
  gint64 t0 = g_get_monotonic_time();

  relay_stage(d->relay, 0.0, "Planning");
  LucyStatus st = lucy_decon_plan_new(img->shape, img->voxel_um, psf, &d->opts, &plan);
  if (st != LUCY_OK) {
    lucy_set_error_from_status(&error, st, "Could not plan the deconvolution");
    goto fail;
  }
  const char *warning = lucy_decon_plan_warning(plan);
  if (warning && warning[0]) d->warning = g_strdup(warning);
  st = lucy_volume_new(img->shape, &out);
  if (st != LUCY_OK) {
    lucy_set_error_from_status(&error, st, "Could not allocate the result");
    goto fail;
  }
  memcpy(out->voxel_um, img->voxel_um, sizeof out->voxel_um);
  g_atomic_int_set(&d->relay->executing, 1);
  if (d->opts.method == LUCY_DECON_WIENER)
    relay_stage(d->relay, 0.0, "Wiener");
  else
    relay_stage(d->relay, 0.0, "Iterating");
  st = lucy_decon_execute(plan, img->data, out->data, &d->iterations_done);
  if (st != LUCY_OK) {
    lucy_set_error_from_status(&error, st, "Deconvolution failed");
    goto fail;
  }
  lucy_decon_plan_free(plan);
  plan = NULL;
  if (g_task_return_error_if_cancelled(task)) {
    lucy_volume_free(out);
    return;
  }
  relay_stage(d->relay, 1.0, "Projecting");
  double seconds = (g_get_monotonic_time() - t0) / 1e6;
  char *title;
  if (d->opts.method == LUCY_DECON_WIENER)
    title = g_strdup_printf("Wiener (k %g), %s, %.2f s", d->opts.wiener_k,
                            lucy_boundary_name(d->opts.boundary), seconds);
  else
    title = g_strdup_printf("%s%s, %d iteration%s, %s, %.2f s",
                            method_title(d->opts.method), d->opts.accelerate ? " accelerated" : "",
                            d->iterations_done, d->iterations_done == 1 ? "" : "s",
                            lucy_boundary_name(d->opts.boundary), seconds);
  LucyStack *result = lucy_stack_new_take(out, title);
  g_free(title);
  if (!lucy_stack_ensure_projections(result, &error)) {
    g_object_unref(result);
    g_task_return_error(task, error);
    return;
  }
  g_task_return_pointer(task, result, g_object_unref);
  return;

fail:
  if (plan) lucy_decon_plan_free(plan);
  if (out) lucy_volume_free(out);
  /* the core's LUCY_ERR_CANCELLED is reported as G_IO_ERROR_CANCELLED like GTask's own */
  if (st == LUCY_ERR_CANCELLED || g_cancellable_is_cancelled(d->relay->cancellable)) {
    g_clear_error(&error);
    g_set_error_literal(&error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
  }
  g_task_return_error(task, error);
}

void lucy_deconvolve_task_run_async(LucyStack *image, LucyStack *psf,
                                    const LucyDeconOptions *opts, GCancellable *cancellable,
                                    LucyTaskProgressFunc progress,
                                    LucyDeconIterationFunc iteration,
                                    LucyDeconPreviewFunc preview, GObject *target,
                                    GAsyncReadyCallback callback, gpointer user_data) {
  g_return_if_fail(LUCY_IS_STACK(image) && LUCY_IS_STACK(psf));
  TaskData *d = g_new0(TaskData, 1);
  d->image = g_object_ref(image);
  d->psf = g_object_ref(psf);
  d->opts = *opts;
  if (d->opts.device) lucy_device_ref(d->opts.device);
  Relay *r = g_new0(Relay, 1);
  r->ref = 1;
  g_mutex_init(&r->lock);
  r->cancellable = cancellable ? g_object_ref(cancellable) : g_cancellable_new();
  r->progress_func = progress;
  r->iteration_func = iteration;
  r->preview_func = preview;
  g_weak_ref_init(&r->target, target);
  r->total = opts->method == LUCY_DECON_WIENER ? 1 : opts->iterations;
  const LucyVolume *img = lucy_stack_get_volume(image);
  memcpy(r->shape, img->shape, sizeof r->shape);
  memcpy(r->voxel_um, img->voxel_um, sizeof r->voxel_um);
  r->last_preview = G_MININT64 / 2;
  d->relay = r;
  d->opts.progress = relay_progress;
  d->opts.progress_user = r;
  d->opts.monitor = relay_monitor;
  d->opts.monitor_user = r;
  if (!preview) d->opts.preview_every = 0;
  GTask *task = g_task_new(NULL, r->cancellable, callback, user_data);
  g_task_set_source_tag(task, lucy_deconvolve_task_run_async);
  g_task_set_name(task, "lucy-deconvolve");
  g_task_set_task_data(task, d, task_data_free);
  g_task_set_return_on_cancel(task, FALSE);
  g_task_run_in_thread(task, deconvolve_thread);
  g_object_unref(task);
}

LucyStack *lucy_deconvolve_task_finish(GAsyncResult *result, int *iterations_done,
                                       char **warning, GError **error) {
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  TaskData *d = g_task_get_task_data(G_TASK(result));
  if (iterations_done) *iterations_done = d ? d->iterations_done : 0;
  if (warning) *warning = d ? g_strdup(d->warning) : NULL;
  return g_task_propagate_pointer(G_TASK(result), error);
}
