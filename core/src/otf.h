/* PSF validation and OTF building shared by convolution and deconvolution: the PSF's origin,
 * finiteness checks with the count and first position, and the OTF (the PSF embedded with its
 * origin folded onto index 0 of the periodic FFT domain, transformed once and pre-scaled). */
#ifndef LUCY_OTF_H
#define LUCY_OTF_H

#include <stddef.h>

#include "device-impl.h"
#include "lucy/convolve.h"

/* Internals shared across core files: never exported from liblucy. */
#pragma GCC visibility push(hidden)

/* The origin index of a PSF axis of size m: m//2 (center) or (m-1)//2 (scipy). */
static inline size_t lucy__psf_origin(size_t m, LucyOrigin origin) {
  return origin == LUCY_ORIGIN_SCIPY ? (m - 1) / 2 : m / 2;
}

/* NaN/Inf values in v[0..n): the count, and the first index in *first (when any). */
size_t lucy__count_nonfinite(const float *v, size_t n, int threads, size_t *first);

/* LUCY_ERR_NUMERIC "<what> has K non-finite value(s), first at z=.., y=.., x=.." or LUCY_OK. */
LucyStatus lucy__check_finite(const float *v, const size_t shape[3], int threads,
                              const char *what);

/* Every |F(k)| of a PSF is at most the sum of |PSF|, so float32 transforms cannot overflow
 * when that sum is below FLT_MAX / 2; larger PSFs (finite voxels, e.g. 3e38) are refused
 * rather than turned into inf and NaN. */
LucyStatus lucy__psf_check_range(const LucyVolume *psf);

/* The PSF is finite and not all zero, and (when normalising) does not sum to zero; *sum gets
 * its sum (double). */
LucyStatus lucy__psf_validate(const LucyVolume *psf, int normalize, double *sum);

/* otf (padded layout, fft_shape) = r2c(psf embedded at -origin) * scale. */
LucyStatus lucy__otf_build(LucyDevice *dev, LucyFftPlan *fft, const size_t fft_shape[3],
                           const LucyVolume *psf, LucyOrigin origin, double scale, float *otf);

/* A plan's OTF, in memory (the full spectrum at L, P bytes) or low-memory (the PSF's z-planes
 * transformed along y and x, LucyZOtf in device-impl.h: mz/L0 of P, the z-DFT done where it
 * is used). Low-memory falls back to the full OTF when the PSF has as many planes as L0 (no
 * saving). What lucy__otf_new allocates, in order, is lucy__otf_layout's; the planner
 * (memory.c) predicts from the same layout. */
typedef struct LucyOtfLayout {
  int zpartial;           /* 1: the LucyZOtf form */
  size_t plane_shape[3];  /* zpartial: the FFT shape of one PSF plane, {1, L1, L2} */
  size_t mz;              /* zpartial: planes kept (the PSF's z size) */
  size_t plane_floats;    /* zpartial: floats per plane, rounded up to 16 (equal alignment) */
  size_t bytes[2];        /* the allocations: full OTF (P) and 0, or planes and twiddles */
} LucyOtfLayout;

void lucy__otf_layout(const size_t L[3], const size_t psf_shape[3], int low_memory,
                      LucyOtfLayout *out);

typedef struct LucyOtf {
  LucyOtfLayout layout;
  size_t L[3];
  float *full;     /* in memory */
  float *planes;   /* low-memory */
  float *twiddle;  /* low-memory */
  LucyZOtf z;      /* low-memory: what zotf_apply reads (planes, twiddle) */
  LucyFftPlan *plane_fft; /* low-memory: the {1, L1, L2} plan, released by lucy__otf_free */
} LucyOtf;

/* Plans (the plane FFT when zpartial: before any other buffer, as its planning scratch is
 * transient), allocates and builds the OTF of psf (embedded at -origin, times scale) for the
 * FFT shape L; fft is the plan at L. On failure *otf holds what was allocated: free it. */
LucyStatus lucy__otf_new(LucyDevice *dev, LucyFftPlan *fft, const size_t L[3],
                         const LucyVolume *psf, LucyOrigin origin, double scale, int low_memory,
                         LucyOtf *otf);
void lucy__otf_free(LucyDevice *dev, LucyOtf *otf);
/* Device bytes the OTF holds (with the plane FFT's work area, where the device has one). */
size_t lucy__otf_bytes(LucyDevice *dev, const LucyOtf *otf);
/* a (spectrum at L) *= H, or conj(H) for the back-projection. */
LucyStatus lucy__otf_apply(LucyDevice *dev, const LucyOtf *otf, float *a, int conjugate);
/* Wiener: a = scale conj(H) a / (|H|^2 + k_abs); max |H|^2. */
LucyStatus lucy__otf_wiener(LucyDevice *dev, const LucyOtf *otf, float *a, float k_abs,
                            float scale);
LucyStatus lucy__otf_max_abs2(LucyDevice *dev, const LucyOtf *otf, double *out);

#pragma GCC visibility pop

#endif
