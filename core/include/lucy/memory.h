/* The memory planner: the peak device and host bytes of a convolution or deconvolution before
 * it runs, itemised, and the strategy that makes it fit.
 *
 * P is the bytes of one float32 array at the padded FFT size (padded_shape, in FFTW's in-place
 * real-to-complex layout: rows of 2*(nx/2+1) floats). For the CPU device the prediction is
 * exact: it mirrors every allocation convolve.c / deconvolve.c / otf.c make through the device,
 * and tests compare it with lucy_device_memory_info's lucy_peak_bytes for every mode, method,
 * boundary and strategy. For CUDA the cuFFT work areas are cufftEstimate's figures when a GPU
 * is present; without a driver cuFFT cannot estimate (cufftEstimate* return
 * CUFFT_INTERNAL_ERROR), so the planner uses a bound: one complex array at the shape.
 *
 * Strategies:
 *   in-memory   every buffer of the plan resident on the device (the default when it fits):
 *               convolution 2 P (OTF, work), RL 3 P + 1 P for non-circulant edges (the weights
 *               W), + 1 P RL-TV, + 2 P acceleration; Wiener 2 P.
 *   low-memory  the same algorithm with two P-sized buffers gone (core/src/otf.c,
 *               core/src/deconvolve.c):
 *               - the OTF is kept as the PSF's M0 z-planes transformed along y and x
 *                 (M0/L0 of P instead of P) and its z-axis DFT is done inside each multiply:
 *                 M0 complex multiply-adds per spectrum value per use (when M0 >= L0, e.g.
 *                 circular edges, the full OTF is kept: no saving);
 *               - non-circulant RL's W = H^T(mask) is not stored: each voxel's W is the PSF's
 *                 sum over a box, 8 lookups in the PSF's prefix sums ((M0+1)(M1+1)(M2+1)
 *                 doubles).
 *               Results equal in-memory's to float precision (not bit for bit: W is then exact
 *               where in-memory's carries FFT rounding; against a double-precision RL reference
 *               low-memory is the closer of the two). Trade-off measured on the CPU device
 *               (2 shared cores, 2 threads, 64x256x256 (*) 31x63x63, tests/bench/
 *               bench-low-memory.c, medians of 5, three runs): RL non-circulant 4.00 P -> 2.35 P
 *               for 1.24-1.37x the time per iteration (0.12 s -> 0.16 s); `same` convolution
 *               2.00 P -> 1.39 P for 1.28-1.34x the time (0.035 s -> 0.045 s). On a GPU the
 *               multiply becomes a compute-bound kernel beside memory-bound FFTs: its cost
 *               there is still to be measured (bench-low-memory runs on the CPU device).
 *   tiled       x/y tiles with halos of at least the PSF support, one in-memory plan reused for
 *               every tile: convolution equals the untiled result to float precision,
 *               deconvolution blends overlapping tiles (an approximation: the error is small,
 *               not zero);
 *   cpu         run on a CPU device instead of the accelerator (host RAM).
 * LUCY_STRATEGY_AUTO picks in-memory when its peak fits the free bytes, else low-memory, else
 * the largest tiles that fit and whose work ratio is within the device's limit (below), else
 * (from a CUDA device) the CPU; when nothing fits, LUCY_ERR_DEVICE_MEMORY with the numbers and
 * the strategy that would work. Tiles that fit only over the CPU limit fail the same way,
 * naming the least budget that would do and that forcing tiles runs them. */
#ifndef LUCY_MEMORY_H
#define LUCY_MEMORY_H

#include <stddef.h>

#include "convolve.h"
#include "deconvolve.h"
#include "device.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The most FFT work AUTO accepts from tiles, as a multiple of the untiled plan's
 * (LucyMemoryPlan.tiled_work_ratio). Time follows the ratio or worse: every tile runs the whole
 * plan, and small tiles add per-tile costs (lucy-cli RL, 32x128x128 (*) 9x15x15, 10 iterations,
 * 1 thread: ratio 11.1 took 11.0x the untiled wall time, ratio 36 took 47.6x).
 *   CPU: the alternative is failing, so the limit is the slowdown AUTO may impose unasked;
 *     beyond it the user is better told the budget that avoids it, or forces tiles. 16x: for
 *     noncirculant RL (block = tile + 2 M, padded by M - 1 more) that is tiles about the PSF's
 *     size ((t + 3M) / t squared with t = M, for N >> M); the 16x40x40 (*) 9x9x9 RL under
 *     300 kB that used to run 1600 tiles of 1x1 (506x; 10 iterations took 11.5 s instead of
 *     0.01 s) now fails, naming 483840 bytes.
 *   CUDA: the alternative is the CPU fallback, untiled, and GPU FFT throughput is about two
 *     orders above a 2-core CPU's, so tiles win up to roughly 100x. 64x leaves room for what
 *     the ratio misses (per-tile host<->device copies and launches). The case, a
 *     problem twice the free GPU memory, 128x512x512 (*) 64x128x128 under half its in-memory
 *     need, tiles at 2.86x (`same` convolution) and 31.6x (RL noncirculant, 8x8 tiles of 67x67
 *     with halos of 128): within 64x with a factor 2 to spare. */
#define LUCY_TILED_WORK_LIMIT_CPU 16.0
#define LUCY_TILED_WORK_LIMIT_CUDA 64.0

typedef enum LucyMemoryOp { LUCY_MEMORY_CONVOLVE = 0, LUCY_MEMORY_DECONVOLVE } LucyMemoryOp;

/* LucyStrategy (auto, in-memory, low-memory, tiled, cpu) is in device.h. */

typedef struct LucyMemoryRequest {
  LucyMemoryOp op;        /* default LUCY_MEMORY_CONVOLVE */
  size_t image_shape[3];   /* z, y, x */
  size_t psf_shape[3];
  LucyPadMode mode;        /* convolution (default same) */
  LucyDeconMethod method;  /* deconvolution (default rl) */
  LucyBoundary boundary;   /* deconvolution (default noncirculant) */
  int accelerate;          /* deconvolution: Biggs-Andrews adds two buffers */
  int preview;             /* deconvolution: a monitor asks for previews (a host image copy) */
  LucyDeviceKind device;   /* default LUCY_DEVICE_CPU */
  LucyStrategy strategy;   /* default AUTO */
  size_t free_bytes;       /* the budget on the device; 0: unlimited (AUTO then = in-memory) */
  size_t tile[2];          /* tiled: output tile size (y, x); 0: the planner chooses */
} LucyMemoryRequest;

#define LUCY_MEMORY_MAX_ITEMS 24

typedef struct LucyMemoryItem {
  char name[48];    /* "OTF", "work buffer", "FFT work area", "FFT planning scratch", ... */
  size_t bytes;
  int on_device;    /* 1 device memory, 0 host memory allocated by Lucy */
  int transient;    /* 1 when freed before the resident buffers are made (not in the peak sum) */
} LucyMemoryItem;

typedef struct LucyMemoryPlan {
  LucyStrategy strategy;     /* the chosen one (never AUTO) */
  LucyDeviceKind device;     /* where it runs (CPU for the cpu strategy) */
  size_t peak_device_bytes;  /* the most Lucy holds on the device at once */
  size_t peak_host_bytes;    /* host memory Lucy allocates beyond the device (results, tiles) */
  size_t padded_shape[3];    /* the FFT shape of the (tile's) plan */
  size_t padded_bytes;       /* P at padded_shape */
  size_t out_shape[3];       /* the result's shape */
  size_t tile_shape[3];      /* tiled: the output tile (z, y, x); else the whole output */
  size_t tile_input_shape[3];/* tiled: the input block each tile reads (tile + halos) */
  size_t tiles[3];           /* tiled: tiles per axis; else 1, 1, 1 */
  size_t halo[3];            /* tiled: halo voxels per side */
  int fits;                  /* 1 when peak_device_bytes <= free_bytes (or no budget) and the
                                plan is not refused (0 exactly when LUCY_ERR_DEVICE_MEMORY) */
  size_t free_bytes;         /* the budget the choice was made against */
  size_t in_memory_device_bytes;  /* what in-memory would need (for messages) */
  size_t low_memory_device_bytes; /* what low-memory would need */
  size_t n_items;
  LucyMemoryItem items[LUCY_MEMORY_MAX_ITEMS];
  char note[256];            /* why this strategy, in a sentence */
  /* tiled: the FFT work of all tiles over the untiled plan's, each plan's padded voxels:
   * tiles * |tile padded_shape| / |untiled padded_shape| (halos are transformed again in every
   * tile, and each tile pads its block again); 1 when untiled. */
  double tiled_work_ratio;
} LucyMemoryPlan;

void lucy_memory_request_default(LucyMemoryRequest *req);
/* Predicts an operation's memory. Invalid shapes (e.g. valid with M > N, circular
 * deconvolution with M > N) fail like planning would; a budget nothing fits fails with
 * LUCY_ERR_DEVICE_MEMORY ("needs X bytes, Y free; ...") and still fills *out with the smallest
 * plan found (fits = 0). AUTO on the CPU device under a budget only tiles over
 * LUCY_TILED_WORK_LIMIT_CPU meet fails the same way ("... tiles within it fit from B bytes"),
 * *out holding those tiles (fits = 0). */
LucyStatus lucy_memory_plan(const LucyMemoryRequest *req, LucyMemoryPlan *out);

const char *lucy_strategy_name(LucyStrategy strategy); /* "auto", "in-memory", "low-memory", "tiled", "cpu" */
LucyStatus lucy_strategy_parse(const char *name, LucyStrategy *strategy);

/* The cuFFT work area of an in-place r2c + c2r pair at a real shape (what the CUDA device
 * allocates, shared by both directions; a shape {1, Y, X} is a 2-D plan). With a GPU the CUDA
 * module makes the two plans, without a work area, and reports cuFFT's own figure (*exact = 1);
 * without one (no driver, no CUDA build, or a buffer larger than the card) a bound of one
 * complex array at the shape (*exact = 0). */
size_t lucy_cuda_fft_work_estimate(const size_t shape[3], int *exact);

#ifdef __cplusplus
}
#endif
#endif
