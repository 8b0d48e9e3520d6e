/* The display mapping prepared once per (options, range): value -> colormap entry, exactly as
 * lucy_colormap_rgb(cmap, lucy_render_value(opts, vmin, vmax, v)) gives it, but fast. */
#ifndef LUCY_RENDER_PRIVATE_H
#define LUCY_RENDER_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "lucy/project.h"

/* Internals shared across core files: never exported from liblucy. */
#pragma GCC visibility push(hidden)

/* Renders img into 32-bit pixels in cairo's CAIRO_FORMAT_RGB24/ARGB32 layout (native-endian
 * 0xAARRGGBB, A = 255); stride_px is the distance between rows in pixels. */
void lucy__render_argb32(const LucyImage *img, const LucyRenderOptions *opts, double vmin,
                         double vmax, uint32_t *dst, size_t stride_px);

#pragma GCC visibility pop

#endif
