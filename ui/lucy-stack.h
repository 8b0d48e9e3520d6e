/* LucyStack: a volume shown in the UI, with its projections computed once and cached, so that
 * re-rendering after a gamma or contrast change never recomputes them. */
#pragma once

#include <glib-object.h>
#include <lucy/lucy.h>

G_BEGIN_DECLS

#define LUCY_TYPE_STACK (lucy_stack_get_type())
G_DECLARE_FINAL_TYPE(LucyStack, lucy_stack, LUCY, STACK, GObject)

/* Takes ownership of vol. */
LucyStack *lucy_stack_new_take(LucyVolume *vol, const char *title);
/* A copy of the volume with the title, calibration, sign and source (projections are made
 * again when asked for); NULL with error when memory is short. */
LucyStack *lucy_stack_copy(LucyStack *self, GError **error);
const LucyVolume *lucy_stack_get_volume(LucyStack *self);
const char *lucy_stack_get_title(LucyStack *self);
void lucy_stack_set_title(LucyStack *self, const char *title);
/* FALSE when the voxel size is a guess: read from a file without calibration (1 µm assumed),
 * or computed from such a stack. TRUE (the default) for data made at a known voxel size. */
void lucy_stack_set_calibrated(LucyStack *self, gboolean calibrated);
gboolean lucy_stack_is_calibrated(LucyStack *self);
/* The voxel size the user gave (µm, z y x; positive and finite): it replaces the volume's and
 * the stack is calibrated "set by you". Only on the main thread, while no worker reads it. */
void lucy_stack_set_voxel_size(LucyStack *self, const double voxel_um[3]);
gboolean lucy_stack_is_voxel_size_set_by_user(LucyStack *self);
/* dst's voxel size is as known as src's (a guess, the file's or the user's): for what is
 * computed on src's grid. The voxel sizes themselves are not copied. */
void lucy_stack_copy_calibration(LucyStack *dst, LucyStack *src);
/* The file the stack was read from and what the reader said about it (channels, frames, which
 * were read); NULL for stacks not read from a file. */
void lucy_stack_set_source(LucyStack *self, const char *path, const LucyTiffInfo *info);
const char *lucy_stack_get_path(LucyStack *self);
const LucyTiffInfo *lucy_stack_get_tiff_info(LucyStack *self);
/* TRUE when read from a file with several channels or time points. */
gboolean lucy_stack_is_hyperstack(LucyStack *self);
/* A signed stack (a difference) is projected by the value of largest magnitude along each
 * line, keeping its sign, so that a max projection does not hide the negative half. Set it
 * before the projections are computed. */
void lucy_stack_set_signed(LucyStack *self, gboolean is_signed);
gboolean lucy_stack_get_signed(LucyStack *self);
/* Computes the three max projections if not done yet (may be called from a worker thread
 * before the stack is shared). */
gboolean lucy_stack_ensure_projections(LucyStack *self, GError **error);
/* Cached projection (NULL if it could not be computed). */
const LucyImage *lucy_stack_get_projection(LucyStack *self, LucyProjection which);
/* One z plane, cached (the last one asked for). */
const LucyImage *lucy_stack_get_plane(LucyStack *self, gsize z);
void lucy_stack_get_range(LucyStack *self, double *min, double *max);
float lucy_stack_get_voxel(LucyStack *self, gsize z, gsize y, gsize x);
/* How many times projections were computed for this stack (for tests). */
guint lucy_stack_get_projection_count(LucyStack *self);
/* "32×128×128 (z,y,x) · 0.3×0.1×0.1 µm", with " (uncalibrated)" after a guessed voxel size and
 * " (set by you)" after one the user gave */
char *lucy_stack_describe(LucyStack *self);

G_END_DECLS
