/* LucyProjectionView: XY max projection (or one z plane) with ZY beside it and XZ below, at
 * the true physical aspect ratio, nearest-neighbour, with zoom, pan and a voxel read-out. A
 * constant stack is drawn at the colormap's middle with a note of its value. */
#pragma once

#include <gtk/gtk.h>
#include "lucy-stack.h"

G_BEGIN_DECLS

#define LUCY_TYPE_PROJECTION_VIEW (lucy_projection_view_get_type())
G_DECLARE_FINAL_TYPE(LucyProjectionView, lucy_projection_view, LUCY, PROJECTION_VIEW, GtkWidget)

GtkWidget *lucy_projection_view_new(void);
void lucy_projection_view_set_stack(LucyProjectionView *self, LucyStack *stack);
LucyStack *lucy_projection_view_get_stack(LucyProjectionView *self);
/* slice: show plane z in the XY panel (ZY and XZ stay max projections, marked at z). */
void lucy_projection_view_set_slice(LucyProjectionView *self, gboolean slice, guint z);
gboolean lucy_projection_view_get_slice(LucyProjectionView *self, guint *z);
/* The image shown in a panel now (the plane for XY in slice mode); NULL without a stack. */
const LucyImage *lucy_projection_view_get_shown(LucyProjectionView *self, LucyProjection which);
/* Re-renders the RGBA of the three panels from the cached images; never re-projects. */
void lucy_projection_view_set_render(LucyProjectionView *self, const LucyRenderOptions *opts,
                                     double vmin, double vmax);
/* The rendered RGBA (R, G, B, A bytes, row-major) of a panel; NULL when there is none. */
const guint8 *lucy_projection_view_get_rgba(LucyProjectionView *self, LucyProjection which,
                                            gsize *width, gsize *height);
guint lucy_projection_view_get_render_count(LucyProjectionView *self);
const char *lucy_projection_view_get_hover_text(LucyProjectionView *self);
/* Describes the voxel under widget point (x, y) as the status line does; NULL outside. */
char *lucy_projection_view_describe_point(LucyProjectionView *self, double x, double y);
/* Where a panel lies in widget coordinates now (FALSE without a stack). */
gboolean lucy_projection_view_get_panel_rect(LucyProjectionView *self, LucyProjection which,
                                             graphene_rect_t *rect);
/* The line drawn over the panels, e.g. "constant: every voxel is 18508.2"; NULL when none. */
const char *lucy_projection_view_get_note(LucyProjectionView *self);
/* What the canvas says when there is no stack to show (default "No stack — open one with
 * Ctrl+O"); the owner knows why, e.g. no result yet. */
void lucy_projection_view_set_empty_text(LucyProjectionView *self, const char *text);
const char *lucy_projection_view_get_empty_text(LucyProjectionView *self);
void lucy_projection_view_zoom(LucyProjectionView *self, double factor);
void lucy_projection_view_zoom_fit(LucyProjectionView *self);
double lucy_projection_view_get_zoom(LucyProjectionView *self);

G_END_DECLS
