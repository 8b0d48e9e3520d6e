/* LucyOtfView: the OTF of a PSF (lucy_psf_otf, computed in a GTask thread) as log10 |OTF|
 * through DC: the kx–ky section at kz = 0 beside the kx–kz section at ky = 0 (central planes,
 * not projections: a projection along kz would fill the missing cone), drawn with cairo at the
 * physical aspect with axes in cycles/µm, and, when NA and λ are set, the widefield support:
 * the 2NA/λ circle in kx–ky and the arcs bounding it in kx–kz (the missing cone about kz). */
#pragma once

#include <gtk/gtk.h>
#include "lucy-stack.h"

G_BEGIN_DECLS

#define LUCY_TYPE_OTF_VIEW (lucy_otf_view_get_type())
G_DECLARE_FINAL_TYPE(LucyOtfView, lucy_otf_view, LUCY, OTF_VIEW, GtkDrawingArea)

/* Magnitudes below this are shown as it (log10: -4). */
#define LUCY_OTF_VIEW_FLOOR 1e-4

typedef enum { LUCY_OTF_SECTION_XY = 0, LUCY_OTF_SECTION_XZ = 1 } LucyOtfSection;

LucyOtfView *lucy_otf_view_new(void);
/* Computes and shows the OTF of psf (NULL: empty). The same stack again does nothing. */
void lucy_otf_view_set_psf(LucyOtfView *self, LucyStack *psf);
/* The widefield cutoff drawn over the sections; na <= 0: none. n is the immersion index. */
void lucy_otf_view_set_optics(LucyOtfView *self, double na, double wavelength_um, double n);
/* TRUE while the OTF is computed; "computed" (gboolean ok) is emitted when done. */
gboolean lucy_otf_view_is_busy(LucyOtfView *self);
const char *lucy_otf_view_get_last_error(LucyOtfView *self);
/* A section's log10 |OTF| (clamped at log10 of LUCY_OTF_VIEW_FLOOR): XY is ny rows of nx, XZ
 * nz rows of nx, DC at (M//2, M//2); NULL before a result. */
const LucyImage *lucy_otf_view_get_section(LucyOtfView *self, LucyOtfSection which);
/* Where a section is drawn (widget coordinates) and its screen pixels per cycle/µm. */
gboolean lucy_otf_view_get_panel_rect(LucyOtfView *self, LucyOtfSection which,
                                      graphene_rect_t *rect, double *px_per_cycle);

G_END_DECLS
