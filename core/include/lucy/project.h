/* Orthogonal max (and signed extreme) projections and rendering to RGBA: gamma, contrast,
 * colormaps, log display, and the composite XY | ZY over XZ figure written as PNG through cairo. */
#ifndef LUCY_PROJECT_H
#define LUCY_PROJECT_H

#include <stdint.h>
#include "volume.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A 2-D float image, row-major, width fastest. */
typedef struct LucyImage {
  size_t height, width;
  float *data;
} LucyImage;

void lucy_image_free(LucyImage *img); /* frees data and the struct */

typedef enum LucyProjection {
  LUCY_PROJ_XY = 0, /* max along z: height ny, width nx */
  LUCY_PROJ_ZY,     /* max along x: height ny, width nz (sits right of XY, rows shared) */
  LUCY_PROJ_XZ      /* max along y: height nz, width nx (sits below XY, columns shared) */
} LucyProjection;

LucyStatus lucy_project_max(const LucyVolume *vol, LucyProjection which, LucyImage **out);
/* All three projections in one pass over the volume (faster than three calls): out[k] is the
 * projection k (LucyProjection order); all are NULL on failure. NaN voxels are ignored; a pixel
 * whose whole line is NaN is NaN. */
LucyStatus lucy_project_max_all(const LucyVolume *vol, LucyImage *out[3]);
/* The signed counterpart for difference volumes, with the same shapes, single pass and outputs
 * as lucy_project_max_all: each pixel is the value of largest magnitude on its line, sign kept.
 * Between +a and -a the positive one wins (+0 over -0), so the result is exact and does not
 * depend on the thread count. NaN voxels are ignored; a pixel whose whole line is NaN is NaN. */
LucyStatus lucy_project_extreme_all(const LucyVolume *vol, LucyImage *out[3]);
/* One z plane as an image (slice mode). */
LucyStatus lucy_volume_plane(const LucyVolume *vol, size_t z, LucyImage **out);

typedef enum LucyColormap {
  LUCY_CMAP_GRAY = 0, LUCY_CMAP_MAGMA, LUCY_CMAP_VIRIDIS, LUCY_CMAP_COOLWARM /* diverging */
} LucyColormap;

const char *lucy_colormap_name(LucyColormap cmap);
LucyStatus lucy_colormap_parse(const char *name, LucyColormap *cmap);
/* The colormap's colour at t in [0, 1] as 0xRRGGBB. */
uint32_t lucy_colormap_rgb(LucyColormap cmap, double t);

typedef struct LucyRenderOptions {
  double vmin, vmax;       /* used when auto_contrast is 0 */
  int auto_contrast;       /* 1 (default): vmin, vmax from the percentiles below */
  double pmin, pmax;       /* percentiles for auto contrast (default 0.1 and 99.9) */
  double gamma;            /* default 1 */
  LucyColormap colormap;   /* default gray */
  int log;                 /* log display, for PSFs (default 0) */
  double log_decades;      /* decades shown below vmax in log display (default 4) */
} LucyRenderOptions;

void lucy_render_options_default(LucyRenderOptions *opts);

/* The display mapping, exactly: t = clamp((v - vmin) / (vmax - vmin), 0, 1); then t = t^gamma;
 * the colour is the colormap at t. vmin is honoured whatever gamma is. With log:
 * lo = max(vmin, vmax * 10^-log_decades) (must be > 0), and
 * t = clamp(log10(max(v, lo) / lo) / log10(vmax / lo), 0, 1) before gamma.
 * NaN renders as t = 0. vmax <= vmin renders everything as t = 0. */
double lucy_render_value(const LucyRenderOptions *opts, double vmin, double vmax, double v);

/* Resolves auto contrast over the given values (percentiles) or returns the explicit range. */
void lucy_render_range(const LucyRenderOptions *opts, const float *values, size_t count,
                       double *vmin, double *vmax);

/* Renders img into rgba (height*width*4 bytes, R,G,B,A order, A = 255) with the given range. */
void lucy_render_rgba(const LucyImage *img, const LucyRenderOptions *opts, double vmin,
                      double vmax, uint8_t *rgba);

typedef struct LucyFigureOptions {
  LucyRenderOptions render; /* contrast is shared by all three panels */
  double sxy;  /* screen pixels per lateral voxel (default 0: fit the longest side to ~768 px) */
  double sz;   /* screen pixels per axial voxel (default 0: sxy * voxel_z / voxel_x) */
  int gap;     /* pixels between panels (default 4) */
} LucyFigureOptions;

void lucy_figure_options_default(LucyFigureOptions *opts);

/* XY max projection with ZY to its right and XZ below, scaled to the physical voxel size with
 * nearest-neighbour sampling, written as PNG (atomically; overwrite as asked). */
LucyStatus lucy_figure_write_png(const LucyVolume *vol, const LucyFigureOptions *opts,
                                 const char *path, int overwrite);

#ifdef __cplusplus
}
#endif
#endif
