/* LucyImage → cairo surface (see lucy-image-surface.h). */
#include "lucy-image-surface.h"

#include <glib.h>

cairo_surface_t *lucy_image_surface_new(const LucyImage *img, const LucyRenderOptions *ro,
                                        double vmin, double vmax) {
  const int w = (int)img->width, h = (int)img->height;
  guint8 *rgba = g_malloc((gsize)w * h * 4);
  lucy_render_rgba(img, ro, vmin, vmax, rgba);
  cairo_surface_t *s = cairo_image_surface_create(CAIRO_FORMAT_RGB24, w, h);
  cairo_surface_flush(s);
  guint8 *dst = cairo_image_surface_get_data(s);
  const int stride = cairo_image_surface_get_stride(s);
  for (int r = 0; r < h; r++) {
    guint32 *row = (guint32 *)(void *)(dst + (size_t)r * stride);
    const guint8 *src = rgba + (size_t)r * w * 4;
    for (int c = 0; c < w; c++)
      row[c] = ((guint32)src[4 * c] << 16) | ((guint32)src[4 * c + 1] << 8) | src[4 * c + 2];
  }
  cairo_surface_mark_dirty(s);
  g_free(rgba);
  return s;
}
