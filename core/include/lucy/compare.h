/* The wrap-around lesson: one image convolved with one PSF in the four padding modes, side by
 * side at the same scale and contrast, with the valid region outlined and the circular - same
 * difference that shows the ghosts wrapped across the edges (DESIGN.md, Padding modes). */
#ifndef LUCY_COMPARE_H
#define LUCY_COMPARE_H

#include "convolve.h"
#include "project.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct LucyCompare {
  LucyVolume *out[4];          /* indexed by LucyPadMode; out[LUCY_PAD_VALID] is NULL when the
                                  PSF is larger than the image on some axis */
  size_t out_shape[4][3];      /* output shape per mode (0 for an impossible valid) */
  size_t fft_shape[4][3];      /* padded FFT shape per mode */
  LucyVolume *diff;            /* circular - same (image shape) */
  ptrdiff_t valid_start[4][3]; /* where the valid region starts in each output's coordinates */
  size_t valid_shape[3];       /* N - M + 1 per axis (0 when M > N) */
  double psf_sum;              /* before normalisation */
} LucyCompare;

/* Convolves image with psf in the four modes. base supplies normalisation, origin and device
 * (its mode is ignored); NULL for defaults. lucy_compare_clear frees the results. */
LucyStatus lucy_compare_compute(const LucyVolume *image, const LucyVolume *psf,
                                const LucyConvOptions *base, LucyCompare *cmp);
void lucy_compare_clear(LucyCompare *cmp);

typedef struct LucyCompareFigureOptions {
  LucyRenderOptions render; /* one contrast for the four mode panels (default auto) */
  double scale;             /* screen pixels per voxel, all panels (0: fit ~1600 px wide) */
  int gap;                  /* pixels between panels (default 8) */
} LucyCompareFigureOptions;

void lucy_compare_figure_options_default(LucyCompareFigureOptions *opts);

/* The figure's size in pixels: five XY max-projection panels (circular, same, full, valid,
 * circular - same) in a row under a label band naming the mode, output size and FFT size. */
LucyStatus lucy_compare_figure_size(const LucyCompare *cmp, const LucyCompareFigureOptions *opts,
                                    int *width, int *height);

/* Writes the figure as PNG, atomically (overwrite as asked). */
LucyStatus lucy_compare_write_png(const LucyCompare *cmp, const LucyCompareFigureOptions *opts,
                                  const char *path, int overwrite);

#ifdef __cplusplus
}
#endif
#endif
