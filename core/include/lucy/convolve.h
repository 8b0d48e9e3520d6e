/* FFT convolution of a stack with a PSF in the four padding modes of DESIGN.md.
 *
 * Plans follow FFTW: lucy_conv_plan_new does all allocation, FFT planning and the PSF's
 * transform (the OTF is cached in the plan); lucy_conv_execute can then run many times on
 * images of the planned shape without allocating. */
#ifndef LUCY_CONVOLVE_H
#define LUCY_CONVOLVE_H

#include "device.h"
#include "volume.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum LucyPadMode {
  LUCY_PAD_CIRCULAR = 0, /* periodic wrap-around, FFT size N, output N */
  LUCY_PAD_SAME,         /* output N: the part of full starting at the PSF origin */
  LUCY_PAD_FULL,         /* output N+M-1 */
  LUCY_PAD_VALID         /* output N-M+1; M > N on any axis is an error */
} LucyPadMode;

typedef enum LucyOrigin {
  LUCY_ORIGIN_CENTER = 0, /* PSF origin at M//2 on each axis (numpy.fft.ifftshift's) */
  LUCY_ORIGIN_SCIPY       /* (M-1)//2: same == scipy.signal.fftconvolve(mode="same") */
} LucyOrigin;

typedef struct LucyConvOptions {
  LucyPadMode mode;   /* default LUCY_PAD_SAME */
  LucyOrigin origin;  /* default LUCY_ORIGIN_CENTER */
  int normalize;      /* divide the PSF by its sum (default 1) */
  LucyDevice *device; /* NULL: a CPU device with `threads` threads, made for the plan */
  int threads;        /* used only when device is NULL; <= 0: one per core */
  LucyPlanning planning; /* used only when device is NULL */
  LucyProgressFn progress; /* optional; checked between FFT stages */
  void *progress_user;
  /* Memory strategy (memory.h). lucy_convolve honours all of them; a plan honours in-memory and
   * low-memory, and for the others picks low-memory exactly when in-memory's predicted peak
   * exceeds the budget and low-memory's does not; when neither fits, planning fails with
   * LUCY_ERR_DEVICE_MEMORY naming the strategy that would (a plan cannot tile or change
   * device; lucy_convolve can). */
  LucyStrategy strategy;     /* default LUCY_STRATEGY_AUTO */
  size_t memory_limit_bytes; /* budget on the device; 0: its free memory (default) */
  size_t tile[2];            /* tiled: output tile (y, x); 0: chosen from the budget */
} LucyConvOptions;

typedef struct LucyConvPlan LucyConvPlan;

void lucy_conv_options_default(LucyConvOptions *opts);
const char *lucy_pad_mode_name(LucyPadMode mode); /* "circular", "same", "full", "valid" */
/* Parses a mode name; returns LUCY_ERR_INVALID_ARGUMENT (with the accepted names) otherwise. */
LucyStatus lucy_pad_mode_parse(const char *name, LucyPadMode *mode);

/* Output shape and FFT shape for an image/PSF pair without making a plan. FFT sizes are the
 * smallest 2,3,5,7-smooth sizes at or above what the mode needs (exactly N for circular); a
 * padded domain of 2^32 elements or more takes the smallest even such x (cuFFT needs one). */
LucyStatus lucy_conv_shapes(const size_t image_shape[3], const size_t psf_shape[3],
                            LucyPadMode mode, size_t out_shape[3], size_t fft_shape[3]);

/* Plans convolution of images of image_shape with psf. Fails on a PSF with NaN/Inf or a zero
 * sum (LUCY_ERR_NUMERIC), valid with M > N (LUCY_ERR_INVALID_ARGUMENT). */
LucyStatus lucy_conv_plan_new(const size_t image_shape[3], const LucyVolume *psf,
                              const LucyConvOptions *opts, LucyConvPlan **out);

/* out = image (*) psf, out has lucy_conv_output_shape() voxels; image and out may not alias.
 * An image with NaN/Inf is refused (LUCY_ERR_NUMERIC) rather than smeared over the output. */
LucyStatus lucy_conv_execute(LucyConvPlan *plan, const float *image, float *out);

/* The exact adjoint: x = A^T y, y of the output shape, x of the image shape
 * (back-projection by the conjugate OTF), so <A x, y> = <x, A^T y> to float precision. */
LucyStatus lucy_conv_adjoint(LucyConvPlan *plan, const float *y, float *x);

void lucy_conv_output_shape(const LucyConvPlan *plan, size_t shape[3]);
void lucy_conv_fft_shape(const LucyConvPlan *plan, size_t shape[3]);
/* The PSF's sum before normalisation (reported to users). */
double lucy_conv_psf_sum(const LucyConvPlan *plan);
/* Bytes the plan holds on its device (buffers, OTF, FFT work areas). */
size_t lucy_conv_plan_bytes(const LucyConvPlan *plan);
/* LUCY_STRATEGY_IN_MEMORY or LUCY_STRATEGY_LOW_MEMORY: what the plan was made with. */
LucyStrategy lucy_conv_plan_strategy(const LucyConvPlan *plan);
void lucy_conv_plan_free(LucyConvPlan *plan);

/* One-shot convenience: plan, execute, free. The result keeps image's voxel size. */
LucyStatus lucy_convolve(const LucyVolume *image, const LucyVolume *psf,
                         const LucyConvOptions *opts, LucyVolume **out);

/* The smallest n' >= n whose prime factors are all 2, 3, 5 or 7. */
size_t lucy_fft_good_size(size_t n);

#ifdef __cplusplus
}
#endif
#endif
