/* Plan, else tile (lucy-plan-or-tile.h). */
#include "lucy-plan-or-tile.h"

#include "lucy-error.h"

/* the relay keeps a stage in 64 bytes */
G_STATIC_ASSERT(sizeof LUCY_PLAN_OR_TILE_MEASURING <= 64);

/* One plan; only when none fits the budget, tiles (a plan that fails otherwise is an error the
 * user must see, not a reason to try something slower). */
static LucyStatus compute(const LucyPlanOrTile *steps, gpointer op, LucyTaskRelay *relay,
                          const LucyVolume *img, const LucyVolume *psf, LucyVolume **out,
                          gboolean measuring, gboolean *tiled, const char **what) {
  if (measuring)
    lucy_task_relay_stage(relay, -1.0, LUCY_PLAN_OR_TILE_MEASURING, TRUE);
  else
    lucy_task_relay_stage(relay, 0.0, "Planning", TRUE);
  LucyStatus st = steps->planned(op, img, psf, out, what);
  *tiled = st == LUCY_ERR_DEVICE_MEMORY;
  if (!*tiled) return st;
  g_clear_pointer(out, lucy_volume_free);
  *what = steps->tiled_failed;
  lucy_task_relay_stage(relay, 0.0, "tiles", TRUE);
  return steps->tiled(op, img, psf, out);
}

static void return_failure(GTask *task, LucyTaskRelay *relay, LucyStatus st, const char *what) {
  /* whatever the core made of a Cancel (LUCY_ERR_CANCELLED, or a step that failed after it),
   * the caller hears G_IO_ERROR_CANCELLED, like GTask's own */
  if (lucy_task_relay_is_cancelled(relay)) st = LUCY_ERR_CANCELLED;
  GError *error = NULL;
  lucy_set_error_from_status(&error, st, what);
  g_task_return_error(task, error);
}

/* Projections are made here so the main loop only swaps the stack in. */
static void return_result(GTask *task, LucyVolume *out, const char *title) {
  LucyStack *result = lucy_stack_new_take(out, title);
  GError *error = NULL;
  if (lucy_stack_ensure_projections(result, &error)) {
    g_task_return_pointer(task, result, g_object_unref);
    return;
  }
  g_object_unref(result);
  g_task_return_error(task, error);
}

gboolean lucy_plan_or_tile_measures(LucyDevice *device, LucyPlanning planning) {
  return planning == LUCY_PLAN_THOROUGH &&
         (!device || lucy_device_kind(device) == LUCY_DEVICE_CPU);
}

void lucy_plan_or_tile_run(GTask *task, const LucyPlanOrTile *steps, gpointer op,
                           LucyTaskRelay *relay, LucyStack *image, LucyStack *psf,
                           gboolean measuring) {
  const LucyVolume *img = lucy_stack_get_volume(image);
  const gint64 t0 = g_get_monotonic_time();
  LucyVolume *out = NULL;
  gboolean tiled = FALSE;
  const char *what = NULL;
  LucyStatus st = compute(steps, op, relay, img, lucy_stack_get_volume(psf), &out, measuring,
                           &tiled, &what);
  if (st != LUCY_OK) {
    if (out) lucy_volume_free(out);
    return_failure(task, relay, st, what);
    return;
  }
  if (g_task_return_error_if_cancelled(task)) {
    lucy_volume_free(out);
    return;
  }
  lucy_task_relay_stage(relay, 1.0, "Projecting", TRUE);
  char *title = steps->title(op, tiled, (double)(g_get_monotonic_time() - t0) / 1e6);
  return_result(task, out, title);
  g_free(title);
}
