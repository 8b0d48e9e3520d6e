/* Reading TIFF stacks for the window: at once (opening a file) or in a GTask thread (another
 * channel or time point of a hyperstack), into a LucyStack that remembers its file, what the
 * reader found (LucyTiffInfo) and whether the file gave a voxel size. */
#pragma once

#include <gio/gio.h>
#include "lucy-stack.h"

G_BEGIN_DECLS

/* Reads path (opts NULL: channel 0, frame 0), titled title (NULL: the file's name, with the
 * channel and frame of a hyperstack); NULL with error (LUCY_ERROR, the core's message naming
 * the file) on failure. */
LucyStack *lucy_read_stack(const char *path, const char *title, const LucyTiffReadOptions *opts,
                           GError **error);

/* The same in a worker thread, projections included; cancelling drops the result
 * (G_IO_ERROR_CANCELLED), the read itself runs to its end. */
void lucy_read_task_run_async(const char *path, const char *title,
                              const LucyTiffReadOptions *opts, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
LucyStack *lucy_read_task_finish(GAsyncResult *result, GError **error);

G_END_DECLS
