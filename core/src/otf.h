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

/* The PSF is finite and not all zero, and (when normalising) does not sum to zero; *sum gets
 * its sum (double). */
LucyStatus lucy__psf_validate(const LucyVolume *psf, int normalize, double *sum);

/* otf (padded layout, fft_shape) = r2c(psf embedded at -origin) * scale. */
LucyStatus lucy__otf_build(LucyDevice *dev, LucyFftPlan *fft, const size_t fft_shape[3],
                           const LucyVolume *psf, LucyOrigin origin, double scale, float *otf);

#pragma GCC visibility pop

#endif
