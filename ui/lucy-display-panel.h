/* LucyDisplayPanel: gamma, contrast (min/max, Auto, Reset), colormap, log display, max
 * projection or slice mode with a z slider, and a small histogram. */
#pragma once

#include <gtk/gtk.h>
#include <lucy/lucy.h>

G_BEGIN_DECLS

#define LUCY_TYPE_DISPLAY_PANEL (lucy_display_panel_get_type())
G_DECLARE_FINAL_TYPE(LucyDisplayPanel, lucy_display_panel, LUCY, DISPLAY_PANEL, GtkBox)

/* The options the controls say now; auto_contrast is 1 until min or max is edited by hand. */
void lucy_display_panel_get_options(LucyDisplayPanel *self, LucyRenderOptions *opts);
/* Shows opts without emitting "changed". */
void lucy_display_panel_set_options(LucyDisplayPanel *self, const LucyRenderOptions *opts);
/* Shows the contrast range in use (resolved from auto contrast) without emitting "changed". */
void lucy_display_panel_show_range(LucyDisplayPanel *self, double vmin, double vmax);
void lucy_display_panel_set_gamma(LucyDisplayPanel *self, double gamma);
gboolean lucy_display_panel_get_slice(LucyDisplayPanel *self, guint *z);
void lucy_display_panel_set_slice(LucyDisplayPanel *self, gboolean slice, guint z);
/* Number of z planes of what is shown (for the slider). */
void lucy_display_panel_set_depth(LucyDisplayPanel *self, guint nz);
/* Values the histogram is made of (copied and binned now). */
void lucy_display_panel_set_histogram(LucyDisplayPanel *self, const float *const *values,
                                      const gsize *counts, guint n_arrays);
/* Whether the histogram has bars to draw (any finite value). */
gboolean lucy_display_panel_has_histogram(LucyDisplayPanel *self);

G_END_DECLS
