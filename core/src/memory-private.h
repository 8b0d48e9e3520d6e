/* Shared by the planner (memory.c), the strategies (strategy.c) and the CUDA device: the
 * tiling geometry and the CUDA device's staging size, so prediction and execution agree. */
#ifndef LUCY_MEMORY_PRIVATE_H
#define LUCY_MEMORY_PRIVATE_H

#include "lucy/memory.h"

#pragma GCC visibility push(hidden)

/* The CUDA device moves host arrays through one device staging buffer of at most this many
 * bytes (in chunks of whole rows); it grows to min(largest transfer, this), or one row when a
 * row is larger. 8 MiB: at 64x256x256 a 64 MiB cap held the whole image (0.6 P of a 3 P
 * budget), while 8 MiB chunks cost one more copy-and-scatter per 8 MiB (~0.4 ms of PCIe). */
#define LUCY_CUDA_STAGING_MAX ((size_t)8 << 20)
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

/* The prediction of one whole plan, in memory (low 0) or low-memory (low 1), with no strategy
 * logic: items appended to *plan. Fails like planning on invalid shapes. */
LucyStatus lucy__memory_direct(const LucyMemoryRequest *req, int low, LucyMemoryPlan *plan);

/* *req = the defaults with op and the two shapes. */
void lucy__memory_request_for(LucyMemoryOp op, const size_t image_shape[3],
                              const size_t psf_shape[3], LucyMemoryRequest *req);

/* The strategy a plan (lucy_conv_plan_new, lucy_decon_plan_new) uses: low-memory when asked;
 * in-memory when asked; otherwise (AUTO, and TILED or CPU, which only the one-shot functions
 * can honour) low-memory exactly when in-memory's predicted peak exceeds the budget (limit, or
 * the device's free memory when 0) and low-memory's does not. req holds the operation and
 * shapes. Fails on an unknown strategy value, and with LUCY_ERR_DEVICE_MEMORY (naming what
 * would fit) when neither fits the budget there, when the planner refuses (tiles over the CPU
 * work limit: its message, with the least budget), or when a forced strategy exceeds an
 * explicit limit. */
LucyStatus lucy__plan_strategy(LucyDevice *dev, const LucyMemoryRequest *req,
                               LucyStrategy strategy, size_t limit, int *low_memory);

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
/* cuFFT's work-area estimate for an in-place r2c + c2r pair into *bytes (0 is an answer: no
 * work area); returns 0 when cuFFT cannot answer (no device or driver). */
int lucy__cuda_fft_estimate(const size_t shape[3], size_t *bytes);
#endif

#pragma GCC visibility pop

#endif
