/* Deconvolution in a GTask thread: plan, iterate, project. Per-iteration reports reach the main
 * loop through g_idle_add at most ~10 times a second, and a live preview of the estimate (a
 * LucyStack with its projections computed in the worker) every few iterations; Cancel is seen
 * by the core between iterations (the monitor) and inside them (the progress callback). */
#pragma once

#include <gio/gio.h>
#include "lucy-convolve-task.h"
#include "lucy-stack.h"

G_BEGIN_DECLS

/* A snapshot of the estimate after `iteration` (image shape and voxel size, projections
 * computed), on the main thread; the callee takes a reference if it keeps it. */
typedef void (*LucyDeconPreviewFunc)(gpointer target, LucyStack *estimate, int iteration);

/* opts->monitor, progress and their user pointers are replaced; opts->device is referenced for
 * the run; opts->preview_every chooses how often a preview is made (0: never; previews are
 * also skipped while the previous one has not been shown yet, and at most ~5 a second).
 * target is held weakly: reports stop when it is finalised. Any callback may be NULL. */
void lucy_deconvolve_task_run_async(LucyStack *image, LucyStack *psf,
                                    const LucyDeconOptions *opts, GCancellable *cancellable,
                                    LucyTaskProgressFunc progress,
                                    LucyTaskIterationFunc iteration,
                                    LucyDeconPreviewFunc preview, GObject *target,
                                    GAsyncReadyCallback callback, gpointer user_data);
/* The restored stack (projections computed) or NULL with error (G_IO_ERROR_CANCELLED when
 * cancelled, LUCY_ERROR with the core's message otherwise). *iterations_done (may be NULL)
 * gets the iterations run; *warning (may be NULL) a newly allocated warning from planning
 * (e.g. an off-centre PSF) or NULL. */
LucyStack *lucy_deconvolve_task_finish(GAsyncResult *result, int *iterations_done,
                                       char **warning, GError **error);

G_END_DECLS
