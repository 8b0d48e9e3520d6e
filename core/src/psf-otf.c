/* The OTF magnitude of a PSF for display and QA: |DFT(psf)| / |sum(psf)|, centred (DC at M//2
 * on each axis, as numpy.fft.fftshift puts it), through the device interface's real-to-complex
 * transform; the half of the spectrum it does not store follows from |F(-k)| = |F(k)|. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "device-impl.h"
#include "lucy/psf.h"
#include "otf.h"
#include "status-private.h"

/* The PSF is there, finite, and sums to a non-zero finite value (*sum, in double). */
static LucyStatus check_psf(const LucyVolume *psf, double *sum) {
  if (!psf || !psf->data) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "PSF OTF: no PSF given");
  const size_t n = lucy_shape_count(psf->shape);
  if (n == 0)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "PSF OTF: the PSF is empty (%zu x %zu x %zu)",
                      psf->shape[0], psf->shape[1], psf->shape[2]);
  LucyStatus st = lucy__check_finite(psf->data, psf->shape, 1, "PSF");
  if (!st) st = lucy__psf_check_range(psf);
  if (st) return lucy__fail_context(st, "PSF OTF: ");
  double s = 0;
  for (size_t i = 0; i < n; i++) s += psf->data[i];
  if (s == 0 || !isfinite(s))
    return lucy__fail(LUCY_ERR_NUMERIC,
                      "PSF OTF: the PSF (%zu x %zu x %zu) sums to %g; the OTF is normalised by "
                      "its DC value, the sum, which must be finite and non-zero",
                      psf->shape[0], psf->shape[1], psf->shape[2], s);
  *sum = s;
  return LUCY_OK;
}

/* spec: the r2c half spectrum of shape N (N[0] x N[1] x (N[2]/2+1) complex values); out: the
 * full centred magnitude times scale. */
static void unfold_centred(const float *spec, const size_t N[3], double scale, float *out) {
  const size_t hx = N[2] / 2 + 1;
  for (size_t jz = 0; jz < N[0]; jz++) {
    const size_t fz = (jz + N[0] - N[0] / 2) % N[0], mz = (N[0] - fz) % N[0];
    for (size_t jy = 0; jy < N[1]; jy++) {
      const size_t fy = (jy + N[1] - N[1] / 2) % N[1], my = (N[1] - fy) % N[1];
      float *row = out + (jz * N[1] + jy) * N[2];
      for (size_t jx = 0; jx < N[2]; jx++) {
        const size_t fx = (jx + N[2] - N[2] / 2) % N[2];
        /* F(-k) = conj F(k) for a real PSF: the stored half holds the other one */
        const size_t k = fx < hx ? (fz * N[1] + fy) * hx + fx : (mz * N[1] + my) * hx + N[2] - fx;
        row[jx] = (float)(hypot(spec[2 * k], spec[2 * k + 1]) * scale);
      }
    }
  }
}

/* spec (host, 2 * spectrum count floats) = r2c(psf) on dev. */
static LucyStatus transform(LucyDevice *dev, const LucyVolume *psf, float *spec) {
  const LucyDeviceOps *ops = dev->ops;
  const size_t *N = psf->shape;
  const size_t floats = lucy__padded_count(N);
  LucyFftPlan *plan = NULL;
  float *buf = NULL;
  const ptrdiff_t zero[3] = {0, 0, 0};
  LucyStatus st = ops->fft_plan(dev, N, &plan);
  if (!st) st = lucy__dev_alloc(dev, floats * sizeof(float), &buf);
  if (!st) st = ops->embed(dev, buf, N, psf->data, N, zero, 1);
  if (!st) st = ops->fft_r2c(dev, plan, buf);
  if (!st) st = ops->download(dev, spec, buf, 2 * lucy__spectrum_count(N));
  lucy__dev_release(dev, buf);
  lucy__dev_fft_plan_release(dev, plan);
  return st;
}

LucyStatus lucy_psf_otf(const LucyVolume *psf, LucyVolume **out) {
  if (!out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "PSF OTF: no output given");
  *out = NULL;
  double sum = 0;
  LucyStatus st = check_psf(psf, &sum);
  if (st) return st;
  const size_t *N = psf->shape;
  float *spec = malloc(2 * lucy__spectrum_count(N) * sizeof(float));
  if (!spec)
    return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "PSF OTF: out of memory for the spectrum (%zu bytes)",
                      2 * lucy__spectrum_count(N) * sizeof(float));
  LucyDevice *dev = NULL;
  LucyVolume *res = NULL;
  if (!(st = lucy__device_for_plan(NULL, 0, LUCY_PLAN_FAST, &dev))) st = transform(dev, psf, spec);
  if (!st) st = lucy_volume_new(N, &res);
  if (!st) {
    memcpy(res->voxel_um, psf->voxel_um, sizeof res->voxel_um);
    unfold_centred(spec, N, 1.0 / fabs(sum), res->data);
    *out = res;
  }
  if (dev) lucy_device_unref(dev);
  free(spec);
  return st;
}
