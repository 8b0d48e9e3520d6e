/* The memory planner: the peak device and host bytes of a convolution or deconvolution before
 * it runs, itemised, and the strategy that makes it fit.
 *
 * P is the bytes of one float32 array at the padded FFT size (padded_shape, in FFTW's in-place
 * real-to-complex layout: rows of 2*(nx/2+1) floats). For the CPU device the prediction is
 * exact: it mirrors every allocation convolve.c / deconvolve.c make through the device, and
 * tests compare it with lucy_device_memory_info's lucy_peak_bytes. For CUDA the cuFFT work area
 * is the device's own figure (cufftGetSize) when a device is present, else an estimate.
 *
 * Strategies:
 *   in-memory   every buffer of the plan resident on the device (the default when it fits);
 *   low-memory  accepted and planned; today it uses the same buffers as in-memory (nothing to
 *               drop on the CPU device; see the CUDA notes in core/src/cuda/);
 *   tiled       x/y tiles with halos of at least the PSF support, one plan reused for every
 *               tile: convolution equals the untiled result to float precision, deconvolution
 *               blends overlapping tiles (an approximation: the error is small, not zero);
 *   cpu         run on a CPU device instead of the accelerator (host RAM).
 * LUCY_STRATEGY_AUTO picks in-memory when its peak fits the free bytes, else tiles, else
 * (from a CUDA device) the CPU; when nothing fits, LUCY_ERR_DEVICE_MEMORY with the numbers. */
#ifndef LUCY_MEMORY_H
#define LUCY_MEMORY_H

#include <stddef.h>

#include "convolve.h"
#include "deconvolve.h"
#include "device.h"

#ifdef __cplusplus
extern "C" {
#endif

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

#define LUCY_MEMORY_MAX_ITEMS 16

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
  int fits;                  /* 1 when peak_device_bytes <= free_bytes (or no budget) */
  size_t free_bytes;         /* the budget the choice was made against */
  size_t in_memory_device_bytes; /* what in-memory would need (for messages) */
  size_t n_items;
  LucyMemoryItem items[LUCY_MEMORY_MAX_ITEMS];
  char note[256];            /* why this strategy, in a sentence */
} LucyMemoryPlan;

void lucy_memory_request_default(LucyMemoryRequest *req);
/* Predicts an operation's memory. Invalid shapes (e.g. valid with M > N, circular
 * deconvolution with M > N) fail like planning would; a budget nothing fits fails with
 * LUCY_ERR_DEVICE_MEMORY ("needs X bytes, Y free; ...") and still fills *out with the smallest
 * plan found (fits = 0). */
LucyStatus lucy_memory_plan(const LucyMemoryRequest *req, LucyMemoryPlan *out);

const char *lucy_strategy_name(LucyStrategy strategy); /* "auto", "in-memory", "low-memory", "tiled", "cpu" */
LucyStatus lucy_strategy_parse(const char *name, LucyStrategy *strategy);

/* The cuFFT work area of an in-place r2c + c2r pair at a real shape (what the CUDA device
 * allocates, shared by both directions): cuFFT's own estimate when it answers (it needs a
 * driver), else an upper bound of one complex array at the shape. *exact = 1 for cuFFT's. */
size_t lucy_cuda_fft_work_estimate(const size_t shape[3], int *exact);

#ifdef __cplusplus
}
#endif
#endif
