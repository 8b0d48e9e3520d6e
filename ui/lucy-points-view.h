/* LucyPointsView: a point cloud (CSV with columns x,y[,w], coordinates in [0, 2π) on the
 * periodic box) convolved with a Gaussian kernel through the core's NUFFT point convolution,
 * shown as the gridded image with the points overlaid (marker area ∝ value at the point);
 * grid size and kernel width controls. The convolution runs in a GTask thread. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LUCY_TYPE_POINTS_VIEW (lucy_points_view_get_type())
G_DECLARE_FINAL_TYPE(LucyPointsView, lucy_points_view, LUCY, POINTS_VIEW, GtkBox)

LucyPointsView *lucy_points_view_new(void);
/* A window holding a new view ("Point Clouds"), transient for parent (may be NULL). */
GtkWindow *lucy_points_view_new_window(GtkWindow *parent, LucyPointsView **view);

/* Reads the CSV (header naming the columns; x and y required, w optional, other columns
 * ignored) and starts the convolution. */
gboolean lucy_points_view_load_csv(LucyPointsView *self, const char *path, GError **error);
void lucy_points_view_set_grid_size(LucyPointsView *self, int n);
void lucy_points_view_set_sigma(LucyPointsView *self, double sigma);
void lucy_points_view_set_show_markers(LucyPointsView *self, gboolean show);
/* TRUE while a convolution runs; "computed" (gboolean ok) is emitted when one ends. */
gboolean lucy_points_view_is_busy(LucyPointsView *self);
const char *lucy_points_view_get_last_error(LucyPointsView *self);
/* The last result: n x n floats (row y, column x; voxel i at coordinate i * 2π / n), and the
 * values at the points. NULL before the first result. */
const float *lucy_points_view_get_image(LucyPointsView *self, int *n);
const double *lucy_points_view_get_values(LucyPointsView *self, size_t *count);
/* Where point i's marker is drawn in the drawing area's coordinates, and its radius. */
gboolean lucy_points_view_get_marker(LucyPointsView *self, size_t i, double *x, double *y,
                                     double *radius);
GtkWidget *lucy_points_view_get_canvas(LucyPointsView *self);

G_END_DECLS
