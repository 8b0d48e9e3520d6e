/* Deconvolution: Richardson-Lucy (plain, total-variation regularised, accelerated) with
 * circulant or non-circulant edges, and a one-step Wiener/Tikhonov preview. Written once
 * against the device interface, like convolution.
 *
 * Plans follow FFTW: lucy_decon_plan_new allocates every buffer, plans the FFTs and transforms
 * the PSF; lucy_decon_execute then runs without allocating, as often as wanted. */
#ifndef LUCY_DECONVOLVE_H
#define LUCY_DECONVOLVE_H

#include "convolve.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum LucyDeconMethod {
  LUCY_DECON_RL = 0, /* Richardson-Lucy */
  LUCY_DECON_RLTV,   /* Richardson-Lucy with total-variation regularisation (Dey et al. 2006) */
  LUCY_DECON_WIENER  /* one-step Wiener/Tikhonov: X = conj(H) Y / (|H|^2 + k) */
} LucyDeconMethod;

typedef enum LucyBoundary {
  LUCY_BOUNDARY_NONCIRCULANT = 0, /* embed in >= N+M-1, normalise by H^T of the observed mask */
  LUCY_BOUNDARY_CIRCULAR          /* periodic: FFT size N, fastest */
} LucyBoundary;

typedef enum LucyStart {
  LUCY_START_FLAT = 0, /* constant = mean of the image (the default) */
  LUCY_START_IMAGE,    /* the image itself (negative voxels clipped to a small positive value) */
  LUCY_START_VALUE     /* constant start_value */
} LucyStart;

/* What the monitor sees after each iteration. */
typedef struct LucyDeconIteration {
  int iteration;       /* 1-based */
  double idiv;         /* I-divergence of the model to the image over the observed region:
                          sum(y log(y / (Hx+b)) - y + Hx + b), in the image's units, of the
                          estimate this iteration started from (from the Hx the iteration
                          computes anyway: no extra FFT); NAN when neither a monitor nor
                          acceleration asked for it */
  double rel_change;   /* ||x_k - x_{k-1}||_1 / ||x_{k-1}||_1 */
  double seconds;      /* since execute started */
  const float *estimate; /* the current estimate (image shape, host memory) on iterations that
                            are multiples of preview_every, else NULL; valid during the call */
} LucyDeconIteration;

/* Called after each iteration from the thread running execute; return non-zero to cancel. */
typedef int (*LucyDeconMonitorFn)(void *user, const LucyDeconIteration *it);

typedef struct LucyDeconOptions {
  LucyDeconMethod method;   /* default LUCY_DECON_RL */
  LucyBoundary boundary;    /* default LUCY_BOUNDARY_NONCIRCULANT */
  int iterations;           /* maximum iterations (default 50); must be >= 1 for RL methods */
  double stop_rel;          /* stop when rel_change < stop_rel (default 0: never) */
  double tv_lambda;         /* RL-TV weight (default 0.002) */
  int accelerate;           /* Biggs-Andrews vector extrapolation (default 0) */
  double background;        /* constant b in the model y ~ Hx + b (default 0) */
  LucyStart start;
  double start_value;       /* for LUCY_START_VALUE */
  double wiener_k;          /* Wiener/Tikhonov regularisation, relative to max|H|^2 (default 1e-3) */
  LucyOrigin origin;        /* PSF origin (default center, M//2) */
  int normalize;            /* normalise the PSF to sum 1 (default 1) */
  LucyDevice *device;       /* NULL: a CPU device with `threads` threads made for the plan */
  int threads;
  LucyPlanning planning;
  LucyDeconMonitorFn monitor; /* optional per-iteration report and cancel */
  void *monitor_user;
  int preview_every;        /* pass the estimate to the monitor every N iterations (0: never) */
  LucyProgressFn progress;  /* optional: fraction of iterations done; checked inside iterations */
  void *progress_user;
  /* Memory strategy (memory.h). lucy_deconvolve honours all of them; a plan honours in-memory and
   * low-memory, and for the others picks low-memory exactly when in-memory's predicted peak
   * exceeds the budget and low-memory's does not; when neither fits, planning fails with
   * LUCY_ERR_DEVICE_MEMORY naming the strategy that would (a plan cannot tile or change
   * device; lucy_deconvolve can). */
  LucyStrategy strategy;     /* default LUCY_STRATEGY_AUTO */
  size_t memory_limit_bytes; /* budget on the device; 0: its free memory (default) */
  size_t tile[2];            /* tiled: core tile (y, x) before halos; 0: chosen from the budget */
} LucyDeconOptions;

typedef struct LucyDeconPlan LucyDeconPlan;

void lucy_decon_options_default(LucyDeconOptions *opts);
const char *lucy_decon_method_name(LucyDeconMethod method); /* "rl", "rltv", "wiener" */
LucyStatus lucy_decon_method_parse(const char *name, LucyDeconMethod *method);
const char *lucy_boundary_name(LucyBoundary boundary); /* "noncirculant", "circular" */
LucyStatus lucy_boundary_parse(const char *name, LucyBoundary *boundary);

/* Plans deconvolution of images of image_shape (voxel size voxel_um, z,y,x, used by the TV
 * gradients) with psf. Errors: PSF with NaN/Inf or zero sum, PSF larger than the padded domain
 * (circular: M > N on an axis), bad option values (iterations <= 0, negative lambda,
 * background or wiener_k), each with the numbers. */
LucyStatus lucy_decon_plan_new(const size_t image_shape[3], const double voxel_um[3],
                               const LucyVolume *psf, const LucyDeconOptions *opts,
                               LucyDeconPlan **out);

/* out (image shape) = the restored object; out may be the image itself. The image must be
 * finite and not all <= 0 (LUCY_ERR_NUMERIC otherwise; negative voxels count as 0). Cancelled (monitor or progress): LUCY_ERR_CANCELLED and out is
 * untouched. *iterations_done (may be NULL) gets the iterations run. */
LucyStatus lucy_decon_execute(LucyDeconPlan *plan, const float *image, float *out,
                              int *iterations_done);

void lucy_decon_fft_shape(const LucyDeconPlan *plan, size_t shape[3]);
/* A warning for the user found while planning (e.g. the PSF is off-centre, see
 * lucy_psf_check), or NULL when there is none. Owned by the plan. */
const char *lucy_decon_plan_warning(const LucyDeconPlan *plan);
size_t lucy_decon_plan_bytes(const LucyDeconPlan *plan);
/* LUCY_STRATEGY_IN_MEMORY or LUCY_STRATEGY_LOW_MEMORY: what the plan was made with. */
LucyStrategy lucy_decon_plan_strategy(const LucyDeconPlan *plan);
double lucy_decon_psf_sum(const LucyDeconPlan *plan);
void lucy_decon_plan_free(LucyDeconPlan *plan);

/* One-shot: plan, execute, free. The result keeps the image's voxel size. */
LucyStatus lucy_deconvolve(const LucyVolume *image, const LucyVolume *psf,
                           const LucyDeconOptions *opts, LucyVolume **out,
                           int *iterations_done);

/* ---- PSF preparation ---- */

typedef struct LucyPsfCheck {
  double sum;            /* before any normalisation */
  size_t peak[3];        /* index of the maximum, z,y,x */
  double centroid[3];    /* intensity-weighted centre (after subtracting the border median) */
  size_t origin[3];      /* the origin convolution uses (M//2 or (M-1)//2) */
  double offset[3];      /* centroid - origin, voxels */
  int off_centre;        /* 1 when the peak is not the origin or |offset| > 0.75 on any axis
                            (a symmetric PSF of even size has its centroid at origin - 0.5) */
  char message[256];     /* a warning for the user when off_centre, else empty */
} LucyPsfCheck;

LucyStatus lucy_psf_check(const LucyVolume *psf, LucyOrigin origin, LucyPsfCheck *check);

/* A copy of psf cropped symmetrically about its origin to the smallest box that keeps at least
 * (1 - drop_fraction) of its (positive) energy; the origin stays the origin (M'//2 on each axis
 * for the default origin). drop_fraction in [0, 1). */
LucyStatus lucy_psf_crop_energy(const LucyVolume *psf, LucyOrigin origin, double drop_fraction,
                                LucyVolume **out);

#ifdef __cplusplus
}
#endif
#endif
