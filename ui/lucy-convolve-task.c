/* The convolution worker. */
#include "lucy-convolve-task.h"

#include "lucy-plan-or-tile.h"

typedef struct {
  LucyStack *image;
  LucyStack *psf;
  LucyConvOptions opts;
  LucyTaskRelay *relay;
} TaskData;

static void task_data_free(gpointer data) {
  TaskData *d = data;
  g_clear_object(&d->image);
  g_clear_object(&d->psf);
  if (d->opts.device) lucy_device_unref(d->opts.device);
  lucy_task_relay_unref(d->relay);
  g_free(d);
}

/* One plan kept on the device (in-memory or low-memory, as the budget allows): the usual case. */
static LucyStatus convolve_planned(gpointer op, const LucyVolume *img, const LucyVolume *psf,
                                   LucyVolume **out, const char **what) {
  TaskData *d = op;
  LucyConvPlan *plan = NULL;
  *what = "Could not plan the convolution";
  LucyStatus st = lucy_conv_plan_new(img->shape, psf, &d->opts, &plan);
  if (st != LUCY_OK) return st;
  size_t shape[3];
  lucy_conv_output_shape(plan, shape);
  *what = "Could not allocate the result";
  st = lucy_volume_new(shape, out);
  if (st == LUCY_OK) {
    for (int a = 0; a < 3; a++) (*out)->voxel_um[a] = img->voxel_um[a];
    *what = "Convolution failed";
    st = lucy_conv_execute(plan, img->data, (*out)->data);
  }
  lucy_conv_plan_free(plan);
  return st;
}

static LucyStatus convolve_tiled(gpointer op, const LucyVolume *img, const LucyVolume *psf,
                                 LucyVolume **out) {
  TaskData *d = op;
  return lucy_convolve(img, psf, &d->opts, out);
}

static char *convolve_title(gpointer op, gboolean tiled, double seconds) {
  TaskData *d = op;
  return g_strdup_printf("convolved, %s%s, %.2f s", lucy_pad_mode_name(d->opts.mode),
                         tiled ? ", tiled" : "", seconds);
}

static const LucyPlanOrTile convolve_steps = {
    convolve_planned, convolve_tiled, "Tiled convolution failed", convolve_title};

static void convolve_thread(GTask *task, gpointer source, gpointer task_data,
                            GCancellable *cancellable) {
  TaskData *d = task_data;
  lucy_plan_or_tile_run(task, &convolve_steps, d, d->relay, d->image, d->psf,
                        lucy_plan_or_tile_measures(d->opts.device, d->opts.planning));
}

void lucy_convolve_task_run_async(LucyStack *image, LucyStack *psf, const LucyConvOptions *opts,
                                  GCancellable *cancellable, LucyTaskProgressFunc progress,
                                  GObject *progress_target, GAsyncReadyCallback callback,
                                  gpointer user_data) {
  g_return_if_fail(LUCY_IS_STACK(image) && LUCY_IS_STACK(psf));
  TaskData *d = g_new0(TaskData, 1);
  d->image = g_object_ref(image);
  d->psf = g_object_ref(psf);
  d->opts = *opts;
  if (d->opts.device) lucy_device_ref(d->opts.device);
  d->relay = lucy_task_relay_new(cancellable, progress_target, progress, NULL);
  d->opts.progress = lucy_task_relay_progress;
  d->opts.progress_user = d->relay;
  GTask *task = g_task_new(NULL, lucy_task_relay_get_cancellable(d->relay), callback, user_data);
  g_task_set_source_tag(task, lucy_convolve_task_run_async);
  g_task_set_name(task, "lucy-convolve");
  g_task_set_task_data(task, d, task_data_free);
  g_task_set_return_on_cancel(task, FALSE);
  g_task_run_in_thread(task, convolve_thread);
  g_object_unref(task);
}

LucyStack *lucy_convolve_task_finish(GAsyncResult *result, GError **error) {
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}
