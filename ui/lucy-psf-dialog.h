/* LucyPsfDialog: generate a Gaussian PSF (sizes and sigmas per axis, in µm). */
#pragma once

#include <gtk/gtk.h>
#include "lucy-stack.h"

G_BEGIN_DECLS

#define LUCY_TYPE_PSF_DIALOG (lucy_psf_dialog_get_type())
G_DECLARE_FINAL_TYPE(LucyPsfDialog, lucy_psf_dialog, LUCY, PSF_DIALOG, GtkWindow)

/* voxel_um: the image's voxel size, used for the PSF too. Emits "generated" (LucyStack) and
 * closes, or shows the core's error. */
LucyPsfDialog *lucy_psf_dialog_new(GtkWindow *parent, const double voxel_um[3]);

/* The Gaussian PSF of the demo: sigma in µm, the shape to ±4 sigma (odd sizes). */
LucyStack *lucy_psf_dialog_make_gaussian(const double voxel_um[3], const double sigma_um[3],
                                         const size_t shape[3], GError **error);

G_END_DECLS
