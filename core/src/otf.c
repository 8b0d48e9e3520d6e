/* PSF validation and OTF building, shared by convolution and deconvolution (see otf.h). */
#include <stdint.h>
#include <string.h>

#include "otf.h"
#include "status-private.h"

/* Non-finite floats have all exponent bits set; the bit test vectorises where isfinite may
 * not. */
static inline int nonfinite_bits(float v) {
  uint32_t u;
  memcpy(&u, &v, sizeof u);
  return (u & 0x7f800000u) == 0x7f800000u;
}

size_t lucy__count_nonfinite(const float *v, size_t n, int threads, size_t *first) {
  size_t bad = 0;
#ifdef _OPENMP
  const int parallel = n >= ((size_t)1 << 18) && threads > 1;
#pragma omp parallel for reduction(+ : bad) num_threads(threads) if (parallel) schedule(static)
#else
  (void)threads;
#endif
  for (size_t i = 0; i < n; i++) bad += (size_t)nonfinite_bits(v[i]);
  if (bad && first) {
    size_t i = 0;
    while (!nonfinite_bits(v[i])) i++;
    *first = i;
  }
  return bad;
}

LucyStatus lucy__check_finite(const float *v, const size_t shape[3], int threads,
                              const char *what) {
  size_t first = 0;
  const size_t bad = lucy__count_nonfinite(v, lucy_shape_count(shape), threads, &first);
  if (!bad) return LUCY_OK;
  const size_t x = first % shape[2], y = (first / shape[2]) % shape[1];
  const size_t z = first / (shape[2] * shape[1]);
  return lucy__fail(LUCY_ERR_NUMERIC, "%s has %zu non-finite value%s, first at z=%zu, y=%zu, x=%zu",
                    what, bad, bad == 1 ? "" : "s", z, y, x);
}

LucyStatus lucy__psf_validate(const LucyVolume *psf, int normalize, double *sum_out) {
  const size_t count = lucy_shape_count(psf->shape);
  LucyStatus st = lucy__check_finite(psf->data, psf->shape, 1, "PSF");
  if (st) return st;
  double sum = 0.0;
  size_t nonzero = 0;
  for (size_t i = 0; i < count; i++) {
    sum += psf->data[i];
    nonzero += psf->data[i] != 0.0f;
  }
  if (nonzero == 0)
    return lucy__fail(LUCY_ERR_NUMERIC, "PSF is all zero (%zux%zux%zu voxels)", psf->shape[0],
                      psf->shape[1], psf->shape[2]);
  if (normalize && sum == 0.0)
    return lucy__fail(LUCY_ERR_NUMERIC, "PSF sums to zero; cannot normalise");
  if (sum_out) *sum_out = sum;
  return LUCY_OK;
}

LucyStatus lucy__otf_build(LucyDevice *dev, LucyFftPlan *fft, const size_t fft_shape[3],
                           const LucyVolume *psf, LucyOrigin origin, double scale, float *otf) {
  const LucyDeviceOps *ops = dev->ops;
  ptrdiff_t shift[3];
  for (int a = 0; a < 3; a++) shift[a] = -(ptrdiff_t)lucy__psf_origin(psf->shape[a], origin);
  LucyStatus st = ops->embed(dev, otf, fft_shape, psf->data, psf->shape, shift, 1);
  if (!st) st = ops->fft_r2c(dev, fft, otf);
  if (!st) st = ops->cscale(dev, otf, lucy__spectrum_count(fft_shape), (float)scale);
  return st;
}
