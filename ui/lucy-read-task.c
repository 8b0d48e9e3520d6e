/* Reading TIFF stacks, at once or in a worker thread. */
#include "lucy-read-task.h"

#include <string.h>

#include "lucy-error.h"

/* A hyperstack's title says which channel and frame it is, so the status line does too. */
static char *stack_title(const char *path, const char *title, const LucyTiffInfo *info) {
  char *base = title ? g_strdup(title) : g_path_get_basename(path);
  if (info->channels <= 1 && info->frames <= 1) return base;
  char *full = g_strdup_printf("%s · channel %zu, frame %zu", base, info->channel, info->frame);
  g_free(base);
  return full;
}

LucyStack *lucy_read_stack(const char *path, const char *title, const LucyTiffReadOptions *opts,
                           GError **error) {
  LucyVolume *vol = NULL;
  LucyTiffInfo info;
  memset(&info, 0, sizeof info);
  LucyStatus st = lucy_tiff_read(path, opts, &vol, &info);
  if (st != LUCY_OK) {
    /* the core's message names the file already; say it only when it does not */
    char *what = strstr(lucy_error_message(), path) ? g_strdup("Could not open the file")
                                                    : g_strdup_printf("Could not open “%s”", path);
    lucy_set_error_from_status(error, st, what);
    g_free(what);
    return NULL;
  }
  char *name = stack_title(path, title, &info);
  LucyStack *stack = lucy_stack_new_take(vol, name);
  g_free(name);
  lucy_stack_set_calibrated(stack, info.calibration[0] && strcmp(info.calibration, "none") != 0);
  lucy_stack_set_source(stack, path, &info);
  return stack;
}

typedef struct {
  char *path;
  char *title;
  LucyTiffReadOptions opts;
} ReadJob;

static void read_job_free(gpointer data) {
  ReadJob *j = data;
  g_free(j->path);
  g_free(j->title);
  g_free(j);
}

static void read_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel) {
  ReadJob *j = data;
  GError *error = NULL;
  LucyStack *stack = lucy_read_stack(j->path, j->title, &j->opts, &error);
  /* the projections too: the main thread then only draws */
  if (stack && !lucy_stack_ensure_projections(stack, &error)) g_clear_object(&stack);
  if (!stack) g_task_return_error(task, error);
  else if (!g_task_return_error_if_cancelled(task)) g_task_return_pointer(task, stack, g_object_unref);
  else g_object_unref(stack);
}

void lucy_read_task_run_async(const char *path, const char *title,
                              const LucyTiffReadOptions *opts, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data) {
  g_return_if_fail(path != NULL);
  ReadJob *j = g_new0(ReadJob, 1);
  j->path = g_strdup(path);
  j->title = g_strdup(title);
  if (opts) j->opts = *opts;
  else lucy_tiff_read_options_default(&j->opts);
  GTask *task = g_task_new(NULL, cancellable, callback, user_data);
  g_task_set_source_tag(task, lucy_read_task_run_async);
  g_task_set_name(task, "lucy-read");
  g_task_set_task_data(task, j, read_job_free);
  g_task_run_in_thread(task, read_thread);
  g_object_unref(task);
}

LucyStack *lucy_read_task_finish(GAsyncResult *result, GError **error) {
  g_return_val_if_fail(g_task_is_valid(result, NULL), NULL);
  return g_task_propagate_pointer(G_TASK(result), error);
}
