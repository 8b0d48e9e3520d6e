/* Shared by the planner (memory.c), the strategies (strategy.c) and the CUDA device: the
 * tiling geometry and the CUDA device's staging size, so prediction and execution agree. */
#ifndef LUCY_MEMORY_PRIVATE_H
#define LUCY_MEMORY_PRIVATE_H

#include "lucy/memory.h"

#pragma GCC visibility push(hidden)

/* The CUDA device moves host arrays through one device staging buffer of at most this many
 * bytes (in chunks of whole z-planes or rows); it grows to min(largest transfer, this). */
#define LUCY_CUDA_STAGING_MAX ((size_t)64 << 20)
/* ... and holds this many bytes for the reductions' partial sums from creation on. */
#define LUCY_CUDA_SCRATCH_BYTES ((size_t)512 * 4 * sizeof(double))

/* Per-axis tile geometry for an operation. Convolution: output tiles of tile[] (z: the whole
 * output), each computed as a `valid` convolution of the input block tile + M - 1 (halo M - 1
 * split M-1-o before and o after, o the origin offset the mode implies). Deconvolution: core
 * tiles of tile[] with a halo of M voxels on each side (clipped to the image), blended. */
typedef struct LucyTiling {
  size_t tile[3];     /* output (convolution) or core (deconvolution) tile */
  size_t block[3];    /* the input block one tile reads (uniform: edge tiles shift inward) */
  size_t count[3];    /* tiles per axis */
  size_t halo[3];     /* per side (deconvolution), or M - 1 in total (convolution) */
} LucyTiling;

/* Fills the geometry for output/core tiles of (ty, tx). */
void lucy__tiling_make(LucyMemoryOp op, const size_t image_shape[3], const size_t psf_shape[3],
                       const size_t out_shape[3], size_t ty, size_t tx, LucyTiling *t);

/* The in-memory prediction of one plan (no strategy logic): items appended to *plan, peak
 * device bytes returned. Fails like planning on invalid shapes. */
LucyStatus lucy__memory_in_memory(const LucyMemoryRequest *req, LucyMemoryPlan *plan);

/* The one-shot functions: strategy.c chooses, the *_direct ones run a single in-memory plan. */
LucyStatus lucy__convolve_direct(const LucyVolume *image, const LucyVolume *psf,
                                 const LucyConvOptions *opts, LucyVolume **out);
LucyStatus lucy__deconvolve_direct(const LucyVolume *image, const LucyVolume *psf,
                                   const LucyDeconOptions *opts, LucyVolume **out,
                                   int *iterations_done);
LucyStatus lucy__convolve_strategy(const LucyVolume *image, const LucyVolume *psf,
                                   const LucyConvOptions *opts, LucyVolume **out);
LucyStatus lucy__deconvolve_strategy(const LucyVolume *image, const LucyVolume *psf,
                                     const LucyDeconOptions *opts, LucyVolume **out,
                                     int *iterations_done);

#ifdef LUCY_HAVE_CUDA
/* cuFFT's work-area estimate for an in-place r2c + c2r pair; 0 when cuFFT cannot answer. */
size_t lucy__cuda_fft_estimate(const size_t shape[3]);
#endif

#pragma GCC visibility pop

#endif
