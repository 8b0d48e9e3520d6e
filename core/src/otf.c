/* PSF validation and OTF building, shared by convolution and deconvolution (see otf.h). */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
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

LucyStatus lucy__psf_check_range(const LucyVolume *psf) {
  const size_t count = lucy_shape_count(psf->shape);
  double abs_sum = 0.0;
  for (size_t i = 0; i < count; i++) abs_sum += fabs((double)psf->data[i]);
  if (abs_sum > FLT_MAX / 2)
    return lucy__fail(LUCY_ERR_NUMERIC,
                      "PSF values are too large for float32 FFTs: the sum of |PSF| is %g, above "
                      "%g; scale the PSF down (it is normalised anyway)", abs_sum,
                      (double)FLT_MAX / 2);
  return LUCY_OK;
}

LucyStatus lucy__psf_validate(const LucyVolume *psf, int normalize, double *sum_out) {
  const size_t count = lucy_shape_count(psf->shape);
  LucyStatus st = lucy__check_finite(psf->data, psf->shape, 1, "PSF");
  if (!st) st = lucy__psf_check_range(psf);
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

void lucy__otf_layout(const size_t L[3], const size_t M[3], int low_memory, LucyOtfLayout *out) {
  memset(out, 0, sizeof *out);
  /* With as many PSF planes as L0 (circular edges, 2-D images) the planes are no smaller. */
  out->zpartial = low_memory && M[0] < L[0];
  if (!out->zpartial) {
    out->bytes[0] = lucy__padded_count(L) * sizeof(float);
    return;
  }
  out->plane_shape[0] = 1;
  out->plane_shape[1] = L[1];
  out->plane_shape[2] = L[2];
  out->mz = M[0];
  /* 16 floats = 64 bytes: every plane starts aligned like the first (FFTW checks alignment). */
  out->plane_floats = (lucy__padded_count(out->plane_shape) + 15) / 16 * 16;
  out->bytes[0] = out->mz * out->plane_floats * sizeof(float);
  out->bytes[1] = L[0] * 2 * sizeof(float);
}

/* The L0 twiddles e^{-2 pi i m / L0} (FFTW's forward sign), made in double on the host. */
static LucyStatus upload_twiddles(LucyDevice *dev, size_t L0, float *dst) {
  float *tw = malloc(2 * L0 * sizeof(float));
  if (!tw)
    return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes for the OTF's twiddles",
                      2 * L0 * sizeof(float));
  const double two_pi = 6.283185307179586476925286766559;
  for (size_t m = 0; m < L0; m++) {
    const double t = two_pi * (double)m / (double)L0;
    tw[2 * m] = (float)cos(t);
    tw[2 * m + 1] = (float)-sin(t);
  }
  LucyStatus st = dev->ops->upload(dev, dst, tw, 2 * L0);
  free(tw);
  return st;
}

LucyStatus lucy__otf_new(LucyDevice *dev, LucyFftPlan *fft, const size_t L[3],
                         const LucyVolume *psf, LucyOrigin origin, double scale, int low_memory,
                         LucyOtf *otf) {
  const LucyDeviceOps *ops = dev->ops;
  memset(otf, 0, sizeof *otf);
  memcpy(otf->L, L, sizeof otf->L);
  lucy__otf_layout(L, psf->shape, low_memory, &otf->layout);
  const LucyOtfLayout *lay = &otf->layout;
  if (!lay->zpartial) {
    LucyStatus st = lucy__dev_alloc(dev, lay->bytes[0], &otf->full);
    if (!st) st = lucy__otf_build(dev, fft, L, psf, origin, scale, otf->full);
    return st;
  }
  LucyStatus st = ops->fft_plan(dev, lay->plane_shape, &otf->plane_fft);
  LucyFftPlan *const plane_fft = otf->plane_fft;
  if (!st) st = lucy__dev_alloc(dev, lay->bytes[0], &otf->planes);
  if (!st) st = lucy__dev_alloc(dev, lay->bytes[1], &otf->twiddle);
  if (!st) st = upload_twiddles(dev, L[0], otf->twiddle);
  /* Plane p of the PSF, embedded at (-o1, -o2) and transformed along y and x, sits at
   * z = p - o0 (mod L0): the z-DFT of zotf_apply adds that phase. */
  const size_t M1 = psf->shape[1], M2 = psf->shape[2], nq = lucy__spectrum_count(lay->plane_shape);
  const ptrdiff_t shift[3] = {0, -(ptrdiff_t)lucy__psf_origin(M1, origin),
                              -(ptrdiff_t)lucy__psf_origin(M2, origin)};
  const size_t plane_psf[3] = {1, M1, M2};
  for (size_t p = 0; !st && p < lay->mz; p++) {
    float *dst = otf->planes + p * lay->plane_floats;
    st = ops->embed(dev, dst, lay->plane_shape, psf->data + p * M1 * M2, plane_psf, shift, 1);
    if (!st) st = ops->fft_r2c(dev, plane_fft, dst);
    if (!st) st = ops->cscale(dev, dst, nq, (float)scale);
  }
  if (st) return st;
  otf->z = (LucyZOtf){.planes = otf->planes,
                      .twiddle = otf->twiddle,
                      .mz = lay->mz,
                      .plane_floats = lay->plane_floats,
                      .z0 = lucy__psf_origin(psf->shape[0], origin)};
  memcpy(otf->z.L, L, sizeof otf->z.L);
  return LUCY_OK;
}

void lucy__otf_free(LucyDevice *dev, LucyOtf *otf) {
  lucy__dev_release(dev, otf->full);
  lucy__dev_release(dev, otf->planes);
  lucy__dev_release(dev, otf->twiddle);
  lucy__dev_fft_plan_release(dev, otf->plane_fft);
  otf->full = otf->planes = otf->twiddle = NULL;
  otf->plane_fft = NULL;
}

size_t lucy__otf_bytes(LucyDevice *dev, const LucyOtf *otf) {
  return (otf->full || otf->planes ? otf->layout.bytes[0] : 0) +
         (otf->twiddle ? otf->layout.bytes[1] : 0) +
         (otf->plane_fft ? dev->ops->fft_work_bytes(dev, otf->plane_fft) : 0);
}

LucyStatus lucy__otf_apply(LucyDevice *dev, const LucyOtf *otf, float *a, int conjugate) {
  if (otf->full)
    return dev->ops->cmul(dev, a, otf->full, lucy__spectrum_count(otf->L), conjugate, 1.0f);
  return dev->ops->zotf_apply(dev, conjugate ? LUCY_ZOTF_CONJ : LUCY_ZOTF_MUL, a, &otf->z, 0.0f,
                              1.0f, NULL);
}

LucyStatus lucy__otf_wiener(LucyDevice *dev, const LucyOtf *otf, float *a, float k_abs,
                            float scale) {
  if (otf->full)
    return dev->ops->wiener(dev, a, otf->full, lucy__spectrum_count(otf->L), k_abs, scale);
  return dev->ops->zotf_apply(dev, LUCY_ZOTF_WIENER, a, &otf->z, k_abs, scale, NULL);
}

LucyStatus lucy__otf_max_abs2(LucyDevice *dev, const LucyOtf *otf, double *out) {
  if (otf->full) return dev->ops->cmax_abs2(dev, otf->full, lucy__spectrum_count(otf->L), out);
  return dev->ops->zotf_apply(dev, LUCY_ZOTF_MAX_ABS2, NULL, &otf->z, 0.0f, 1.0f, out);
}
