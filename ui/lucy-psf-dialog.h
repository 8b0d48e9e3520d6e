/* LucyPsfDialog: generate a PSF — a Gaussian (σ per axis, in µm), the Born & Wolf scalar
 * widefield model or Gibson & Lanni (NA, emission wavelength, refractive indices, depth, voxel
 * size, shape). The optical models are computed in a GTask thread. */
#pragma once

#include <gtk/gtk.h>
#include "lucy-stack.h"

G_BEGIN_DECLS

#define LUCY_TYPE_PSF_DIALOG (lucy_psf_dialog_get_type())
G_DECLARE_FINAL_TYPE(LucyPsfDialog, lucy_psf_dialog, LUCY, PSF_DIALOG, GtkWindow)

typedef enum {
  LUCY_PSF_DIALOG_GAUSSIAN = 0,
  LUCY_PSF_DIALOG_BORN_WOLF,
  LUCY_PSF_DIALOG_GIBSON_LANNI
} LucyPsfDialogModel;

/* The optics a generated PSF was made with, attached to its LucyStack (NULL for a Gaussian
 * given by σ or a PSF read from a file); the PSF QA panel uses NA, wavelength and ni for the
 * theoretical FWHM. */
#define LUCY_PSF_OPTICS_KEY "lucy-psf-optics"

/* voxel_um: the image's voxel size, used for the PSF too. Emits "generated" (LucyStack) and
 * closes, or shows the core's error (and emits "failed" with the message). */
LucyPsfDialog *lucy_psf_dialog_new(GtkWindow *parent, const double voxel_um[3]);

/* The Gaussian PSF of the demo: sigma in µm, the shape to ±4 sigma (odd sizes). */
LucyStack *lucy_psf_dialog_make_gaussian(const double voxel_um[3], const double sigma_um[3],
                                         const size_t shape[3], GError **error);
/* A Born & Wolf or Gibson & Lanni PSF (blocking; about a second for 33 × 65 × 65), the
 * optics attached under LUCY_PSF_OPTICS_KEY. */
LucyStack *lucy_psf_dialog_make_model(LucyPsfModel model, const size_t shape[3],
                                      const LucyPsfOptics *optics, GError **error);

/* The form, for tests and scripting: what the widgets show. */
void lucy_psf_dialog_set_model(LucyPsfDialog *self, LucyPsfDialogModel model);
void lucy_psf_dialog_set_shape(LucyPsfDialog *self, const size_t shape[3]);
/* na, wavelength (µm), ni, ns, depth (µm), lateral and axial voxel (µm) */
void lucy_psf_dialog_set_optics(LucyPsfDialog *self, double na, double wavelength_um, double ni,
                                double ns, double depth_um, double dxy_um, double dz_um);
/* Same as pressing Generate. */
void lucy_psf_dialog_generate(LucyPsfDialog *self);
gboolean lucy_psf_dialog_is_busy(LucyPsfDialog *self);
/* The message of the last error shown, or NULL. */
const char *lucy_psf_dialog_get_last_error(LucyPsfDialog *self);

G_END_DECLS
