/* The deconvolution worker. */
#include "lucy-deconvolve-task.h"

#include <string.h>

#include "lucy-plan-or-tile.h"

#define PREVIEW_INTERVAL_US (200 * 1000) /* at most ~5 previews a second */

typedef struct {
  LucyStack *image;
  LucyStack *psf;
  LucyDeconOptions opts;
  LucyTaskRelay *relay;
  LucyDeconPreviewFunc preview_func;
  gint executing; /* atomic: 0 while planning, 1 while iterating */
  int total;
  gint64 last_preview; /* worker thread only */
  int iterations_done;
  char *warning;
} TaskData;

/* LucyProgressFn, on the worker thread (or the core's threads). While iterating the monitor
 * reports; this only answers whether to stop, so Cancel is seen inside long iterations. */
static int decon_progress(void *user, double fraction, const char *stage) {
  TaskData *d = user;
  if (!g_atomic_int_get(&d->executing))
    return lucy_task_relay_progress(d->relay, fraction, stage && stage[0] ? stage : "Planning");
  return lucy_task_relay_is_cancelled(d->relay) ? 1 : 0;
}

typedef struct {
  LucyDeconPreviewFunc func;
  LucyStack *stack;
  int iteration;
} Preview;

static void preview_free(gpointer data) {
  Preview *p = data;
  g_clear_object(&p->stack);
  g_free(p);
}

static void preview_deliver(GObject *target, gpointer data) {
  Preview *p = data;
  p->func(target, p->stack, p->iteration);
}

/* A copy of the estimate with its projections, made here so the main loop only swaps it in;
 * skipped while the last one is not shown yet, or was shown just now. */
static void make_preview(TaskData *d, const LucyDeconIteration *it) {
  gint64 now = g_get_monotonic_time();
  if (now - d->last_preview < PREVIEW_INTERVAL_US) return;
  const LucyVolume *img = lucy_stack_get_volume(d->image);
  LucyVolume *vol = NULL;
  if (lucy_volume_new(img->shape, &vol) != LUCY_OK) return; /* a preview is optional */
  memcpy(vol->data, it->estimate, lucy_shape_count(img->shape) * sizeof(float));
  memcpy(vol->voxel_um, img->voxel_um, sizeof vol->voxel_um);
  char *title = g_strdup_printf("estimate at iteration %d of %d", it->iteration, d->total);
  Preview *p = g_new0(Preview, 1);
  p->func = d->preview_func;
  p->iteration = it->iteration;
  p->stack = lucy_stack_new_take(vol, title);
  g_free(title);
  GError *error = NULL;
  if (!lucy_stack_ensure_projections(p->stack, &error)) {
    g_clear_error(&error);
    preview_free(p);
    return;
  }
  d->last_preview = now; /* also when dropped: a busy main loop gets a rest */
  if (!lucy_task_relay_deliver(d->relay, preview_deliver, p, preview_free)) preview_free(p);
}

/* LucyDeconMonitorFn, on the worker thread after each iteration. */
static int decon_monitor(void *user, const LucyDeconIteration *it) {
  TaskData *d = user;
  if (lucy_task_relay_is_cancelled(d->relay)) return 1;
  lucy_task_relay_iteration(d->relay, it->iteration, d->total, it->idiv, it->rel_change,
                            it->seconds);
  if (it->estimate && d->preview_func) make_preview(d, it);
  return lucy_task_relay_is_cancelled(d->relay) ? 1 : 0;
}

static void task_data_free(gpointer data) {
  TaskData *d = data;
  g_clear_object(&d->image);
  g_clear_object(&d->psf);
  if (d->opts.device) lucy_device_unref(d->opts.device);
  lucy_task_relay_unref(d->relay);
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

/* One plan kept on the device (in-memory or low-memory, as the budget allows): the usual case,
 * with per-iteration reports and previews. */
static LucyStatus deconvolve_planned(gpointer op, const LucyVolume *img, const LucyVolume *psf,
                                     LucyVolume **out, const char **what) {
  TaskData *d = op;
  LucyDeconPlan *plan = NULL;
  *what = "Could not plan the deconvolution";
  LucyStatus st = lucy_decon_plan_new(img->shape, img->voxel_um, psf, &d->opts, &plan);
  if (st != LUCY_OK) return st;
  const char *warning = lucy_decon_plan_warning(plan);
  if (warning && warning[0]) d->warning = g_strdup(warning);
  *what = "Could not allocate the result";
  st = lucy_volume_new(img->shape, out);
  if (st == LUCY_OK) {
    memcpy((*out)->voxel_um, img->voxel_um, sizeof (*out)->voxel_um);
    g_atomic_int_set(&d->executing, 1);
    lucy_task_relay_stage(d->relay, 0.0,
                          d->opts.method == LUCY_DECON_WIENER ? "Wiener" : "Iterating", TRUE);
    *what = "Deconvolution failed";
    st = lucy_decon_execute(plan, img->data, (*out)->data, &d->iterations_done);
  }
  lucy_decon_plan_free(plan);
  return st;
}

/* Progress per tile; no previews, since no whole estimate exists until the end. */
static LucyStatus deconvolve_tiled(gpointer op, const LucyVolume *img, const LucyVolume *psf,
                                   LucyVolume **out) {
  TaskData *d = op;
  return lucy_deconvolve(img, psf, &d->opts, out, &d->iterations_done);
}

static char *deconvolve_title(gpointer op, gboolean tiled, double seconds) {
  TaskData *d = op;
  const char *edges = lucy_boundary_name(d->opts.boundary);
  if (d->opts.method == LUCY_DECON_WIENER)
    return g_strdup_printf("Wiener (k %g), %s%s, %.2f s", d->opts.wiener_k, edges,
                           tiled ? ", tiled" : "", seconds);
  return g_strdup_printf("%s%s, %d iteration%s, %s%s, %.2f s", method_title(d->opts.method),
                         d->opts.accelerate ? " accelerated" : "", d->iterations_done,
                         d->iterations_done == 1 ? "" : "s", edges, tiled ? ", tiled" : "",
                         seconds);
}

static const LucyPlanOrTile deconvolve_steps = {
    deconvolve_planned, deconvolve_tiled, "Tiled deconvolution failed", deconvolve_title};

static void deconvolve_thread(GTask *task, gpointer source, gpointer task_data,
                              GCancellable *cancellable) {
  TaskData *d = task_data;
  lucy_plan_or_tile_run(task, &deconvolve_steps, d, d->relay, d->image, d->psf,
                        lucy_plan_or_tile_measures(d->opts.device, d->opts.planning));
}

void lucy_deconvolve_task_run_async(LucyStack *image, LucyStack *psf,
                                    const LucyDeconOptions *opts, GCancellable *cancellable,
                                    LucyTaskProgressFunc progress,
                                    LucyTaskIterationFunc iteration,
                                    LucyDeconPreviewFunc preview, GObject *target,
                                    GAsyncReadyCallback callback, gpointer user_data) {
  g_return_if_fail(LUCY_IS_STACK(image) && LUCY_IS_STACK(psf));
  TaskData *d = g_new0(TaskData, 1);
  d->image = g_object_ref(image);
  d->psf = g_object_ref(psf);
  d->opts = *opts;
  if (d->opts.device) lucy_device_ref(d->opts.device);
  d->relay = lucy_task_relay_new(cancellable, target, progress, iteration);
  d->preview_func = preview;
  d->total = opts->method == LUCY_DECON_WIENER ? 1 : opts->iterations;
  d->last_preview = G_MININT64 / 2;
  d->opts.progress = decon_progress;
  d->opts.progress_user = d;
  d->opts.monitor = decon_monitor;
  d->opts.monitor_user = d;
  if (!preview) d->opts.preview_every = 0;
  GTask *task = g_task_new(NULL, lucy_task_relay_get_cancellable(d->relay), callback, user_data);
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
