/* A core LucyImage rendered (lucy_render_rgba: contrast, gamma, colormap, log) into a cairo
 * image surface for drawing areas. */
#pragma once

#include <cairo.h>
#include <lucy/lucy.h>

/* A new RGB24 surface of img's size; free with cairo_surface_destroy. */
cairo_surface_t *lucy_image_surface_new(const LucyImage *img, const LucyRenderOptions *ro,
                                        double vmin, double vmax);
