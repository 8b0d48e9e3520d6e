/* LucyVoxelDialog: the voxel size (z, y, x in µm) of the window's image and PSF, for files
 * without calibration (read as 1 µm) or with a wrong one, like Fiji's Image ▸ Properties. Each
 * row says where its numbers come from (the file, a guess, you); Apply checks that they are
 * positive, finite numbers, says which is not, and gives the rows that were edited to the
 * window (lucy_window_set_voxel_size). The files are not changed. */
#pragma once

#include <gtk/gtk.h>
#include "lucy-window.h"

G_BEGIN_DECLS

/* What a voxel size may be, in µm: 0.1 nm to 1 cm (lucy-cli's --voxel takes the same). */
#define LUCY_VOXEL_MIN_UM 1e-4
#define LUCY_VOXEL_MAX_UM 1e4

#define LUCY_TYPE_VOXEL_DIALOG (lucy_voxel_dialog_get_type())
G_DECLARE_FINAL_TYPE(LucyVoxelDialog, lucy_voxel_dialog, LUCY, VOXEL_DIALOG, GtkWindow)

/* Filled from window's image and PSF (held weakly). */
LucyVoxelDialog *lucy_voxel_dialog_new(LucyWindow *window);

/* The form, for tests: the entry of LUCY_VIEW_IMAGE or LUCY_VIEW_PSF, axis 0 z, 1 y, 2 x. */
GtkEditable *lucy_voxel_dialog_get_entry(LucyVoxelDialog *self, LucyView which, int axis);
/* The PSF row takes the image row's numbers (the "Same as Image" button). */
void lucy_voxel_dialog_same_as_image(LucyVoxelDialog *self);
/* Apply without closing: FALSE with the message shown (also in error) when a number is not a
 * voxel size or the window refused it (a run under way). */
gboolean lucy_voxel_dialog_apply(LucyVoxelDialog *self, GError **error);
/* What the dialog says under the numbers: the first problem, or "" when they are fine. */
const char *lucy_voxel_dialog_get_message(LucyVoxelDialog *self);
/* Where a stack's voxel size comes from: "from the file", "uncalibrated: 1 µm assumed", "set
 * by you" (static strings). */
const char *lucy_voxel_dialog_describe_source(LucyStack *stack);

G_END_DECLS
