/* Colormaps: matplotlib's 256-entry tables (generated into colormap-tables.h), looked up the
 * way matplotlib does: index floor(t * 256), clipped to [0, 255]. */
#include <math.h>
#include <strings.h>

#include "colormap-private.h"
#include "colormap-tables.h"
#include "lucy/project.h"
#include "status-private.h"

static const char *const names[] = {"gray", "magma", "viridis", "coolwarm"};
#define N_COLORMAPS (sizeof names / sizeof names[0])

const char *lucy_colormap_name(LucyColormap cmap) {
  if ((unsigned)cmap < N_COLORMAPS) return names[cmap];
  return "unknown";
}

LucyStatus lucy_colormap_parse(const char *name, LucyColormap *cmap) {
  if (!name || !cmap) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "no colormap name given");
  for (unsigned i = 0; i < N_COLORMAPS; i++) {
    if (strcasecmp(name, names[i]) == 0) {
      *cmap = (LucyColormap)i;
      return LUCY_OK;
    }
  }
  if (strcasecmp(name, "grey") == 0) {
    *cmap = LUCY_CMAP_GRAY;
    return LUCY_OK;
  }
  return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                    "unknown colormap '%s' (choose gray, magma, viridis or coolwarm)", name);
}

int lucy__colormap_index(double t) {
  if (!(t > 0)) return 0; /* also NaN */
  if (t >= 1) return 255;
  int i = (int)(t * 256);
  return i > 255 ? 255 : i;
}

const uint8_t (*lucy__colormap_table(LucyColormap cmap))[3] {
  return lucy_colormap_tables[(unsigned)cmap < N_COLORMAPS ? cmap : LUCY_CMAP_GRAY];
}

uint32_t lucy_colormap_rgb(LucyColormap cmap, double t) {
  const uint8_t *c = lucy__colormap_table(cmap)[lucy__colormap_index(t)];
  return (uint32_t)c[0] << 16 | (uint32_t)c[1] << 8 | c[2];
}
