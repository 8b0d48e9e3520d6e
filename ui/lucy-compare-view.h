/* LucyCompareView: the wrap-around lesson. One image convolved with one PSF in the four padding
 * modes (circular, same, full, valid; core compare API, in a GTask thread), shown as XY max
 * projections side by side at one scale and one contrast, each labelled with its output and FFT
 * size, the valid region outlined, and circular − same in a diverging colormap; with a short
 * explanation of each mode and a one-click sample that shows the ghosts. */
#pragma once

#include <gtk/gtk.h>
#include <lucy/lucy.h>

G_BEGIN_DECLS

#define LUCY_TYPE_COMPARE_VIEW (lucy_compare_view_get_type())
G_DECLARE_FINAL_TYPE(LucyCompareView, lucy_compare_view, LUCY, COMPARE_VIEW, GtkBox)

/* Panels, left to right: the four modes in LucyPadMode order, then the difference. */
enum { LUCY_COMPARE_PANEL_DIFF = 4, LUCY_COMPARE_N_PANELS = 5 };

LucyCompareView *lucy_compare_view_new(void);
/* A window holding a new view ("Padding Modes"), transient for parent (may be NULL). */
GtkWindow *lucy_compare_view_new_window(GtkWindow *parent, LucyCompareView **view);

/* Copies image and psf and starts the comparison. */
void lucy_compare_view_set_volumes(LucyCompareView *self, const LucyVolume *image,
                                   const LucyVolume *psf);
/* The wrap-around sample: spheres touching the borders (24×96×96) and a Gaussian PSF long along
 * z (21×15×15); starts the comparison. */
gboolean lucy_compare_view_load_sample(LucyCompareView *self, GError **error);

/* TRUE while a comparison runs; "computed" (gboolean ok) is emitted when one ends. */
gboolean lucy_compare_view_is_busy(LucyCompareView *self);
const char *lucy_compare_view_get_last_error(LucyCompareView *self);
/* The last result (NULL before the first): the four outputs, their shapes and FFT shapes, the
 * difference and the valid region, as computed by the core. */
const LucyCompare *lucy_compare_view_get_compare(LucyCompareView *self);
/* Panel i's data: its XY max projection (signed extreme for the difference), height rows of
 * width floats. NULL when the panel is empty (valid with a PSF larger than the image). */
const float *lucy_compare_view_get_panel(LucyCompareView *self, int i, int *width, int *height);
/* Where panel i is drawn in the canvas's coordinates, and its screen pixels per voxel. */
gboolean lucy_compare_view_get_panel_rect(LucyCompareView *self, int i, graphene_rect_t *rect,
                                          double *scale);
/* Where panel i's header (name, sizes or scale) is drawn, plate included, and whether its text
 * had to be cut short to fit. */
gboolean lucy_compare_view_get_header_rect(LucyCompareView *self, int i, graphene_rect_t *rect,
                                           gboolean *ellipsized);
GtkWidget *lucy_compare_view_get_canvas(LucyCompareView *self);
GtkLabel *lucy_compare_view_get_explanation(LucyCompareView *self);

G_END_DECLS
