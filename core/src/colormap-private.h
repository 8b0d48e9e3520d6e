/* Colormap tables shared by colormap.c and render.c. */
#ifndef LUCY_COLORMAP_PRIVATE_H
#define LUCY_COLORMAP_PRIVATE_H

#include <stdint.h>

#include "lucy/project.h"

/* Internals shared across core files: never exported from liblucy. */
#pragma GCC visibility push(hidden)

/* The table entry for t in [0, 1]: floor(t * 256) clipped to [0, 255]; NaN gives 0. */
int lucy__colormap_index(double t);
/* The colormap's 256 RGB entries (gray for an unknown value). */
const uint8_t (*lucy__colormap_table(LucyColormap cmap))[3];

#pragma GCC visibility pop

#endif
