/* Convolution in a GTask thread: plan, execute, project; progress forwarded to the main loop
 * with g_idle_add at most ~10 times a second; cancel through the core's progress callback. */
#pragma once

#include <gio/gio.h>
#include "lucy-stack.h"
#include "lucy-task-relay.h"

G_BEGIN_DECLS

/* opts->progress and opts->progress_user are replaced; opts->device is referenced for the
 * run. progress_target is held weakly: progress stops when it is finalised. */
void lucy_convolve_task_run_async(LucyStack *image, LucyStack *psf, const LucyConvOptions *opts,
                                  GCancellable *cancellable, LucyTaskProgressFunc progress,
                                  GObject *progress_target, GAsyncReadyCallback callback,
                                  gpointer user_data);
/* The result (projections already computed) or NULL with error (G_IO_ERROR_CANCELLED when
 * cancelled, LUCY_ERROR with the core's message otherwise). */
LucyStack *lucy_convolve_task_finish(GAsyncResult *result, GError **error);

G_END_DECLS
