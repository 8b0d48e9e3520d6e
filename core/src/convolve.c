/* FFT convolution in the four padding modes, written once against the device interface.
 *
 * Per axis, with N the image size, M the PSF size and o its origin (M//2, or (M-1)//2 for the
 * scipy origin), full[n] = sum_i img[i] psf[n-i] and
 *   same[j]     = full[j + o]                     FFT size L = good(N + max(o, M-1-o))
 *   full[n]                                       L = good(N + M - 1)
 *   valid[j]    = full[j + M - 1]                 L = good(N)
 *   circular[j] = sum_k img[(j - k + o) mod N] psf[k]        L = N
 * The image is embedded at shift 0, the PSF at shift -o (its origin folded onto index 0 of the
 * periodic domain, wrapping and accumulating if M > L), and the output is the window of the
 * periodic result starting at offset 0 (same, circular), -o (full) or M-1-o (valid). These L
 * are the smallest sizes at which no wrapped term reaches the extracted window.
 *
 * The plan holds two padded buffers: the OTF, transformed once and pre-scaled by
 * 1/(L0*L1*L2) (and 1/sum when normalising), and one work buffer. Execute is embed, forward
 * FFT, multiply, inverse FFT, extract, with no allocation; where the device can, the forward
 * FFT skips the zero padding around the image and the inverse one computes only the box that
 * holds the output window (fft_r2c_box / fft_c2r_box). The low-memory strategy keeps the
 * OTF as the PSF's z-planes transformed along y and x (M0/L0 of P, otf.h) and does the z-axis
 * DFT inside the multiply. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "device-impl.h"
#include "fft-size.h"
#include "lucy/convolve.h"
#include "memory-private.h"
#include "otf.h"
#include "status-private.h"

struct LucyConvPlan {
  LucyDevice *dev;
  LucyPadMode mode;
  LucyOrigin origin;
  int normalize;
  LucyProgressFn progress;
  void *progress_user;
  size_t image_shape[3], psf_shape[3], out_shape[3], fft_shape[3];
  ptrdiff_t out_offset[3];
  LucyFftPlan *fft;
  LucyOtf otf;
  float *work;
  size_t buffer_bytes; /* of work (P) */
  int low_memory;
  double psf_sum;
};

static const char *const axis_names[3] = {"z", "y", "x"};
static const char *const mode_names[4] = {"circular", "same", "full", "valid"};

void lucy_conv_options_default(LucyConvOptions *opts) {
  if (!opts) return;
  memset(opts, 0, sizeof *opts);
  opts->mode = LUCY_PAD_SAME;
  opts->origin = LUCY_ORIGIN_CENTER;
  opts->normalize = 1;
  opts->device = NULL;
  opts->threads = 0;
  opts->planning = LUCY_PLAN_FAST;
}

const char *lucy_pad_mode_name(LucyPadMode mode) {
  return (unsigned)mode < 4 ? mode_names[mode] : "unknown";
}

LucyStatus lucy_pad_mode_parse(const char *name, LucyPadMode *mode) {
  for (int i = 0; name && i < 4; i++)
    if (strcasecmp(name, mode_names[i]) == 0) {
      if (mode) *mode = (LucyPadMode)i;
      return LUCY_OK;
    }
  return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                    "unknown padding mode '%s' (accepted: circular, same, full, valid)",
                    name ? name : "(null)");
}

LucyStatus lucy_conv_shapes(const size_t image_shape[3], const size_t psf_shape[3],
                            LucyPadMode mode, size_t out_shape[3], size_t fft_shape[3]) {
  if (!image_shape || !psf_shape)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "convolution: NULL shape");
  if ((unsigned)mode > LUCY_PAD_VALID)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "convolution: unknown padding mode %d",
                      (int)mode);
  size_t out[3], fft[3];
  for (int a = 0; a < 3; a++) {
    const size_t n = image_shape[a], m = psf_shape[a];
    if (n == 0 || m == 0)
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                        "convolution: empty shape (image %zux%zux%zu, PSF %zux%zux%zu)",
                        image_shape[0], image_shape[1], image_shape[2], psf_shape[0],
                        psf_shape[1], psf_shape[2]);
    if (n > SIZE_MAX / 4 || m > SIZE_MAX / 4)
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "convolution: %s size too large",
                        axis_names[a]);
    switch (mode) {
    case LUCY_PAD_CIRCULAR:
      out[a] = n;
      fft[a] = n;
      break;
    case LUCY_PAD_SAME: /* max(o, M-1-o) is M//2 for either origin */
      out[a] = n;
      fft[a] = lucy_fft_good_size(n + m / 2);
      break;
    case LUCY_PAD_FULL:
      out[a] = n + m - 1;
      fft[a] = lucy_fft_good_size(n + m - 1);
      break;
    case LUCY_PAD_VALID:
      if (m > n)
        return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                          "valid convolution needs the PSF no larger than the image on every "
                          "axis, but on %s the PSF has %zu voxels and the image %zu",
                          axis_names[a], m, n);
      out[a] = n - m + 1;
      fft[a] = lucy_fft_good_size(n);
      break;
    }
    if (fft[a] == 0)
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "convolution: no FFT size for %s",
                        axis_names[a]);
  }
  if (mode != LUCY_PAD_CIRCULAR) lucy__fft_domain_even_x(fft);
  if (out_shape) memcpy(out_shape, out, sizeof out);
  if (fft_shape) memcpy(fft_shape, fft, sizeof fft);
  return LUCY_OK;
}

static LucyStatus report(LucyConvPlan *plan, double fraction, const char *stage) {
  if (plan->progress && plan->progress(plan->progress_user, fraction, stage))
    return lucy__fail(LUCY_ERR_CANCELLED, "convolution cancelled before the %s", stage);
  return LUCY_OK;
}

/* The box [0, box) of the periodic domain L that holds a window of `shape` at `offset`, for
 * the pruned transforms (fft_r2c_box): per axis offset + shape, or all of L where the window
 * wraps (negative offsets: full's). */
static void window_box(const ptrdiff_t offset[3], const size_t shape[3], const size_t L[3],
                       size_t box[3]) {
  for (int a = 0; a < 3; a++)
    box[a] = offset[a] >= 0 && (size_t)offset[a] + shape[a] <= L[a]
                 ? (size_t)offset[a] + shape[a]
                 : L[a];
}

LucyStatus lucy_conv_plan_new(const size_t image_shape[3], const LucyVolume *psf,
                              const LucyConvOptions *opts, LucyConvPlan **out) {
  if (!out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_conv_plan_new: out is NULL");
  *out = NULL;
  if (!image_shape || !psf || !psf->data)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_conv_plan_new: NULL image shape or PSF");
  LucyConvOptions o;
  if (opts)
    o = *opts;
  else
    lucy_conv_options_default(&o);
  if (o.origin != LUCY_ORIGIN_CENTER && o.origin != LUCY_ORIGIN_SCIPY)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "convolution: unknown PSF origin %d",
                      (int)o.origin);

  size_t out_shape[3], fft_shape[3];
  LucyStatus st = lucy_conv_shapes(image_shape, psf->shape, o.mode, out_shape, fft_shape);
  if (st) return st;

  /* The PSF: finite, not all zero, and with a usable sum when normalising. */
  double sum = 0.0;
  st = lucy__psf_validate(psf, o.normalize, &sum);
  if (st) return st;

  LucyConvPlan *plan = calloc(1, sizeof *plan);
  if (!plan) return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory making a convolution plan");
  plan->mode = o.mode;
  plan->origin = o.origin;
  plan->normalize = o.normalize != 0;
  plan->progress = o.progress;
  plan->progress_user = o.progress_user;
  plan->psf_sum = sum;
  memcpy(plan->image_shape, image_shape, sizeof plan->image_shape);
  memcpy(plan->psf_shape, psf->shape, sizeof plan->psf_shape);
  memcpy(plan->out_shape, out_shape, sizeof plan->out_shape);
  memcpy(plan->fft_shape, fft_shape, sizeof plan->fft_shape);

  for (int a = 0; a < 3; a++) {
    const size_t m = psf->shape[a], org = lucy__psf_origin(m, o.origin);
    switch (o.mode) {
    case LUCY_PAD_FULL: plan->out_offset[a] = -(ptrdiff_t)org; break;
    case LUCY_PAD_VALID: plan->out_offset[a] = (ptrdiff_t)(m - 1 - org); break;
    default: plan->out_offset[a] = 0; break;
    }
  }

  if ((st = lucy__device_for_plan(o.device, o.threads, o.planning, &plan->dev))) {
    free(plan);
    return st;
  }
  LucyDevice *dev = plan->dev;
  const LucyDeviceOps *ops = dev->ops;

  LucyMemoryRequest req;
  lucy__memory_request_for(LUCY_MEMORY_CONVOLVE, image_shape, psf->shape, &req);
  req.mode = o.mode;
  st = lucy__plan_strategy(dev, &req, o.strategy, o.memory_limit_bytes, &plan->low_memory);

  /* Plan the FFT first: planning may use a scratch buffer, freed before ours exist. */
  if (!st) st = ops->fft_plan(dev, fft_shape, &plan->fft);
  if (!st) {
    double scale = 1.0 / ((double)fft_shape[0] * (double)fft_shape[1] * (double)fft_shape[2]);
    if (plan->normalize) scale /= sum;
    st = lucy__otf_new(dev, plan->fft, fft_shape, psf, o.origin, scale, plan->low_memory,
                       &plan->otf);
  }
  plan->buffer_bytes = lucy__padded_count(fft_shape) * sizeof(float);
  if (!st) st = lucy__dev_alloc(dev, plan->buffer_bytes, &plan->work);
  /* The two boxes apply() prunes to, in execute and adjoint: the image's and the output
   * window's (planned on the work buffer while it holds nothing). */
  static const ptrdiff_t zero[3] = {0, 0, 0};
  size_t box[3];
  window_box(zero, image_shape, fft_shape, box);
  if (!st) st = lucy__dev_fft_plan_box(dev, plan->fft, plan->work, fft_shape, box);
  window_box(plan->out_offset, out_shape, fft_shape, box);
  if (!st) st = lucy__dev_fft_plan_box(dev, plan->fft, plan->work, fft_shape, box);
  if (st) {
    lucy__fail_context(st, "planning %s convolution of %zux%zux%zu with a %zux%zux%zu PSF: ",
                       lucy_pad_mode_name(o.mode), image_shape[0], image_shape[1],
                       image_shape[2], psf->shape[0], psf->shape[1], psf->shape[2]);
    lucy_conv_plan_free(plan);
    return st;
  }
  *out = plan;
  return LUCY_OK;
}

/* Shared by execute and adjoint: src (host, src_shape) embedded at shift, transformed,
 * multiplied by the OTF or its conjugate, transformed back, and the dst_shape window at
 * offset extracted into dst (host) only after the last cancellation point. */
static LucyStatus apply(LucyConvPlan *plan, const float *src, const size_t src_shape[3],
                        const ptrdiff_t shift[3], int conjugate, float *dst,
                        const size_t dst_shape[3], const ptrdiff_t offset[3], const char *what) {
  LucyDevice *dev = plan->dev;
  const LucyDeviceOps *ops = dev->ops;
  const size_t *L = plan->fft_shape;
  size_t in_box[3], out_box[3];
  window_box(shift, src_shape, L, in_box);
  window_box(offset, dst_shape, L, out_box);
  LucyStatus st;
  if ((st = ops->embed(dev, plan->work, L, src, src_shape, shift, 1))) return st;
  if ((st = report(plan, 0.05, "forward FFT"))) return st;
  if ((st = lucy__dev_fft_r2c_box(dev, plan->fft, plan->work, L, in_box))) return st;
  /* The zero-frequency term is the sum of the input: it is NaN or infinite exactly when the
   * input holds a NaN or an infinity (or its sum overflows), so this costs no extra pass. Only
   * then is the input scanned, for the count and the first position. */
  float dc[2];
  if ((st = ops->download(dev, dc, plan->work, 2))) return st;
  if (!isfinite(dc[0]) || !isfinite(dc[1])) {
    st = lucy__check_finite(src, src_shape, dev->opts.threads, what);
    if (st) return st;
    return lucy__fail(LUCY_ERR_NUMERIC, "%s sums to a non-finite value (float32 overflow)", what);
  }
  if ((st = report(plan, 0.45, "multiply"))) return st;
  if ((st = lucy__otf_apply(dev, &plan->otf, plan->work, conjugate))) return st;
  if ((st = report(plan, 0.5, "inverse FFT"))) return st;
  if ((st = lucy__dev_fft_c2r_box(dev, plan->fft, plan->work, L, out_box))) return st;
  if ((st = ops->extract(dev, dst, dst_shape, plan->work, L, offset, 1.0f, 1)))
    return st;
  if (plan->progress) (void)plan->progress(plan->progress_user, 1.0, "done");
  return LUCY_OK;
}

LucyStatus lucy_conv_execute(LucyConvPlan *plan, const float *image, float *out) {
  if (!plan || !image || !out)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_conv_execute: NULL argument");
  static const ptrdiff_t zero[3] = {0, 0, 0};
  return apply(plan, image, plan->image_shape, zero, 0, out, plan->out_shape, plan->out_offset,
               "image");
}

LucyStatus lucy_conv_adjoint(LucyConvPlan *plan, const float *y, float *x) {
  if (!plan || !y || !x)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_conv_adjoint: NULL argument");
  /* The transpose of extracting at offset is embedding at the same offset; the transpose of
   * embedding the image at 0 is extracting at 0. */
  static const ptrdiff_t zero[3] = {0, 0, 0};
  return apply(plan, y, plan->out_shape, plan->out_offset, 1, x, plan->image_shape, zero,
               "adjoint input");
}

void lucy_conv_output_shape(const LucyConvPlan *plan, size_t shape[3]) {
  if (plan && shape) memcpy(shape, plan->out_shape, sizeof plan->out_shape);
}

void lucy_conv_fft_shape(const LucyConvPlan *plan, size_t shape[3]) {
  if (plan && shape) memcpy(shape, plan->fft_shape, sizeof plan->fft_shape);
}

double lucy_conv_psf_sum(const LucyConvPlan *plan) { return plan ? plan->psf_sum : NAN; }

size_t lucy_conv_plan_bytes(const LucyConvPlan *plan) {
  if (!plan) return 0;
  size_t work = plan->fft ? plan->dev->ops->fft_work_bytes(plan->dev, plan->fft) : 0;
  return lucy__otf_bytes(plan->dev, &plan->otf) + (plan->work ? plan->buffer_bytes : 0) + work;
}

LucyStrategy lucy_conv_plan_strategy(const LucyConvPlan *plan) {
  return plan && plan->low_memory ? LUCY_STRATEGY_LOW_MEMORY : LUCY_STRATEGY_IN_MEMORY;
}

void lucy_conv_plan_free(LucyConvPlan *plan) {
  if (!plan) return;
  if (plan->dev) {
    lucy__otf_free(plan->dev, &plan->otf);
    lucy__dev_fft_plan_release(plan->dev, plan->fft);
    lucy__dev_release(plan->dev, plan->work);
    lucy_device_unref(plan->dev); /* the FFT plan stays cached in the device */
  }
  free(plan);
}

/* One in-memory plan; lucy_convolve below chooses the strategy (strategy.c). */
LucyStatus lucy__convolve_direct(const LucyVolume *image, const LucyVolume *psf,
                                 const LucyConvOptions *opts, LucyVolume **out) {
  if (!out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_convolve: out is NULL");
  *out = NULL;
  if (!image || !image->data || !psf)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_convolve: NULL image or PSF");
  LucyConvPlan *plan = NULL;
  LucyStatus st = lucy_conv_plan_new(image->shape, psf, opts, &plan);
  if (st) return st;
  LucyVolume *result = NULL;
  st = lucy_volume_new(plan->out_shape, &result);
  if (!st) st = lucy_conv_execute(plan, image->data, result->data);
  lucy_conv_plan_free(plan);
  if (st) {
    lucy_volume_free(result);
    return st;
  }
  memcpy(result->voxel_um, image->voxel_um, sizeof result->voxel_um);
  *out = result;
  return LUCY_OK;
}

LucyStatus lucy_convolve(const LucyVolume *image, const LucyVolume *psf,
                         const LucyConvOptions *opts, LucyVolume **out) {
  if (!out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_convolve: out is NULL");
  *out = NULL;
  if (!image || !image->data || !psf || !psf->data)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_convolve: NULL image or PSF");
  return lucy__convolve_strategy(image, psf, opts, out);
}
