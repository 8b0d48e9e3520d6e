/* Fixing a PSF: subtract the border background, centre it on its centroid or fitted peak by a
 * sub-voxel FFT phase-ramp shift (through the device interface), pad to odd sizes centred on
 * the peak, normalise; each action reports what it changed. */
#include <complex.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device-impl.h"
#include "lucy/psf.h"
#include "psf-private.h"
#include "status-private.h"

void lucy_psf_fix_options_default(LucyPsfFixOptions *opts) {
  memset(opts, 0, sizeof *opts);
  opts->centre = LUCY_PSF_CENTRE_NONE;
}

/* The factor of a shift by s along an axis of size n at FFT index k: exp(-2 pi i f s) with f
 * the signed frequency; at the Nyquist index of an even axis its real part, so the spectrum
 * stays that of a real array. */
static double complex ramp(size_t k, size_t n, double s) {
  if (n % 2 == 0 && k == n / 2) return cos(M_PI * s);
  const double f = (k <= n / 2 ? (double)k : (double)k - (double)n) / (double)n;
  return cexp(-2 * M_PI * I * f * s);
}

LucyStatus lucy_volume_shift_fft(const LucyVolume *vol, const double shift[3], LucyVolume **out) {
  if (!out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "FFT shift: no output given");
  *out = NULL;
  if (!vol || !vol->data || !shift)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "FFT shift: no volume or shift given");
  for (int a = 0; a < 3; a++)
    if (!isfinite(shift[a]))
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "FFT shift: shift %g on axis %c is not finite",
                        shift[a], "zyx"[a]);
  const size_t *N = vol->shape;
  LucyDeviceOptions dopts;
  lucy_device_options_default(&dopts);
  dopts.threads = 1;
  LucyDevice *dev = NULL;
  LucyStatus st = lucy_device_new(&dopts, &dev);
  if (st) return st;
  const LucyDeviceOps *ops = dev->ops;
  LucyFftPlan *plan = NULL;
  float *buf = NULL, *ramp_dev = NULL;
  float *ramp_host = NULL;
  LucyVolume *res = NULL;
  const size_t nspec = lucy__spectrum_count(N), hx = N[2] / 2 + 1;
  const size_t padded = lucy__padded_count(N);
  if ((st = ops->fft_plan(dev, N, &plan))) goto done;
  if ((st = lucy__dev_alloc(dev, padded * sizeof(float), &buf))) goto done;
  if ((st = lucy__dev_alloc(dev, 2 * nspec * sizeof(float), &ramp_dev))) goto done;
  ramp_host = malloc(2 * nspec * sizeof(float));
  if (!ramp_host) {
    st = lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory for the phase ramp");
    goto done;
  }
  for (size_t z = 0; z < N[0]; z++) {
    const double complex fz = ramp(z, N[0], shift[0]);
    for (size_t y = 0; y < N[1]; y++) {
      const double complex fzy = fz * ramp(y, N[1], shift[1]);
      for (size_t x = 0; x < hx; x++) {
        const double complex v = fzy * ramp(x, N[2], shift[2]);
        const size_t k = (z * N[1] + y) * hx + x;
        ramp_host[2 * k] = (float)creal(v);
        ramp_host[2 * k + 1] = (float)cimag(v);
      }
    }
  }
  const ptrdiff_t zero[3] = {0, 0, 0};
  if ((st = ops->upload(dev, ramp_dev, ramp_host, 2 * nspec))) goto done;
  if ((st = ops->embed(dev, buf, N, vol->data, N, zero, 1))) goto done;
  if ((st = ops->fft_r2c(dev, plan, buf))) goto done;
  if ((st = ops->cmul(dev, buf, ramp_dev, nspec, 0, 1.0f))) goto done;
  if ((st = ops->fft_c2r(dev, plan, buf))) goto done;
  if ((st = lucy_volume_new(N, &res))) goto done;
  memcpy(res->voxel_um, vol->voxel_um, sizeof res->voxel_um);
  if ((st = ops->extract(dev, res->data, N, buf, N, zero,
                         (float)(1.0 / (double)lucy_shape_count(N)), 1)))
    goto done;
done:
  free(ramp_host);
  lucy__dev_fft_plan_release(dev, plan);
  lucy__dev_release(dev, buf);
  lucy__dev_release(dev, ramp_dev);
  lucy_device_unref(dev);
  if (st) {
    lucy_volume_free(res);
    return st;
  }
  *out = res;
  return LUCY_OK;
}

static void append(LucyPsfFixReport *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void append(LucyPsfFixReport *r, const char *fmt, ...) {
  const size_t used = strlen(r->message);
  if (used + 1 >= sizeof r->message) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(r->message + used, sizeof r->message - used, fmt, ap);
  va_end(ap);
}

/* A sub-voxel shift interpolates with sincs: an undersampled PSF rings below 0 around its
 * peak (to -8 % of it on bead-psf.tif). Light is never negative, so those voxels are set to 0
 * and the report says how many and how deep they were. */
static void clamp_ringing(LucyVolume *v, LucyPsfFixReport *report) {
  const size_t n = lucy_shape_count(v->shape);
  size_t count = 0;
  float lo = 0.0f, hi = 0.0f;
  for (size_t i = 0; i < n; i++) {
    hi = v->data[i] > hi ? v->data[i] : hi;
    if (v->data[i] < 0.0f) {
      lo = v->data[i] < lo ? v->data[i] : lo;
      v->data[i] = 0.0f;
      count++;
    }
  }
  if (count)
    append(report, "the sub-voxel shift rang below 0 in %zu voxels (down to %.2g%% of the peak): "
                   "clamped at 0. ", count, hi > 0 ? -100.0 * lo / hi : 0.0);
}

LucyStatus lucy_psf_fix(const LucyVolume *psf, const LucyPsfFixOptions *opts, LucyVolume **out,
                        LucyPsfFixReport *report) {
  if (!out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "PSF fix: no output given");
  *out = NULL;
  LucyPsfFixOptions defaults;
  if (!opts) {
    lucy_psf_fix_options_default(&defaults);
    opts = &defaults;
  }
  LucyPsfFixReport local;
  if (!report) report = &local;
  memset(report, 0, sizeof *report);
  if (opts->centre != LUCY_PSF_CENTRE_NONE && opts->centre != LUCY_PSF_CENTRE_CENTROID &&
      opts->centre != LUCY_PSF_CENTRE_PEAK)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "PSF fix: unknown centring %d", (int)opts->centre);
  LucyPsfMeasure m;
  LucyStatus st = lucy_psf_measure(psf, NULL, &m);
  if (st) return st;
  memcpy(report->shape_before, psf->shape, sizeof report->shape_before);
  LucyVolume *cur = NULL;
  if ((st = lucy_volume_copy(psf, &cur))) return st;
  const size_t n = lucy_shape_count(cur->shape);
  double fill = m.background;

  if (opts->subtract_background) {
    report->background_subtracted = m.background;
    for (size_t i = 0; i < n; i++) {
      double v = cur->data[i] - m.background;
      if (v < 0) {
        v = 0;
        report->clamped++;
      }
      cur->data[i] = (float)v;
    }
    fill = 0;
    append(report, "subtracted the border background %g (%zu voxels clamped at 0). ",
           m.background, report->clamped);
  }
  if (opts->centre != LUCY_PSF_CENTRE_NONE) {
    LucyPsfMeasure mc;
    if ((st = lucy_psf_measure(cur, NULL, &mc))) goto fail;
    const double *c = opts->centre == LUCY_PSF_CENTRE_PEAK ? mc.fit_centre : mc.centroid;
    for (int a = 0; a < 3; a++) {
      report->centre_before[a] = c[a];
      report->shift_px[a] = (double)mc.origin[a] - c[a];
      if (cur->shape[a] == 1) report->shift_px[a] = 0;
    }
    /* Shift the PSF minus its fill value so what wraps round is flat. */
    for (size_t i = 0; i < n; i++) cur->data[i] -= (float)fill;
    LucyVolume *shifted;
    st = lucy_volume_shift_fft(cur, report->shift_px, &shifted);
    if (st) goto fail;
    lucy_volume_free(cur);
    cur = shifted;
    for (size_t i = 0; i < n; i++) cur->data[i] += (float)fill;
    if ((st = lucy_psf_measure(cur, NULL, &mc))) goto fail;
    const double *c2 = opts->centre == LUCY_PSF_CENTRE_PEAK ? mc.fit_centre : mc.centroid;
    memcpy(report->centre_after, c2, sizeof report->centre_after);
    append(report,
           "centred the %s: moved by (%.3f, %.3f, %.3f) voxels (z, y, x) from (%.3f, %.3f, "
           "%.3f) to (%.3f, %.3f, %.3f). ",
           opts->centre == LUCY_PSF_CENTRE_PEAK ? "peak" : "centroid", report->shift_px[0],
           report->shift_px[1], report->shift_px[2], report->centre_before[0],
           report->centre_before[1], report->centre_before[2], c2[0], c2[1], c2[2]);
    clamp_ringing(cur, report);
  }
  if (opts->odd) {
    LucyPsfMeasure mo;
    if ((st = lucy_psf_measure(cur, NULL, &mo))) goto fail;
    ptrdiff_t origin[3];
    size_t shape[3];
    for (int a = 0; a < 3; a++) {
      const size_t p = mo.peak[a], last = cur->shape[a] - 1;
      const size_t h = p > last - p ? p : last - p;
      shape[a] = 2 * h + 1;
      origin[a] = (ptrdiff_t)p - (ptrdiff_t)h;
    }
    LucyVolume *padded;
    if ((st = lucy_volume_crop_pad(cur, origin, shape, (float)fill, &padded))) goto fail;
    lucy_volume_free(cur);
    cur = padded;
    append(report, "padded to %zu x %zu x %zu (odd, the peak at the centre M//2). ", shape[0],
           shape[1], shape[2]);
  }
  {
    const size_t nn = lucy_shape_count(cur->shape);
    double sum = 0;
    for (size_t i = 0; i < nn; i++) sum += cur->data[i];
    report->sum_before = sum;
    if (opts->normalize) {
      if (!(sum > 0) || !isfinite(sum)) {
        st = lucy__fail(LUCY_ERR_NUMERIC, "PSF fix: cannot normalise a PSF that sums to %g", sum);
        goto fail;
      }
      for (size_t i = 0; i < nn; i++) cur->data[i] = (float)(cur->data[i] / sum);
      append(report, "normalised: divided by the sum %g. ", sum);
    }
  }
  memcpy(report->shape_after, cur->shape, sizeof report->shape_after);
  for (int a = 0; a < 3; a++)
    if (cur->shape[a] % 2 == 0) {
      append(report, "warning: size %zu along %c is even; the origin M//2 is past the middle, "
                     "so a symmetric PSF shifts the result by half a voxel (use --odd). ",
             cur->shape[a], "zyx"[a]);
      break;
    }
  if (!report->message[0]) append(report, "nothing to change. ");
  *out = cur;
  return LUCY_OK;
fail:
  lucy_volume_free(cur);
  return st;
}
