/* Deconvolution written once against the device interface: Richardson-Lucy (plain, RL-TV,
 * Biggs-Andrews accelerated) with circulant or non-circulant edges, and one-step
 * Wiener/Tikhonov.
 *
 * Model. Per axis, N is the image size, M the PSF size and o its origin (M//2, or (M-1)//2 for
 * the scipy origin). The forward operator is convolution's `same`:
 *   (H x)[j] = sum_i x[i] psf[j - i + o]
 * computed on a periodic domain of size L with the PSF's origin folded onto index 0 (the OTF of
 * convolve.c, pre-scaled by 1/(L0 L1 L2) and 1/sum when normalising) and the image at [0, N).
 *   circular:      L = N; the estimate is the image-sized periodic object.
 *   noncirculant:  L = good(N + M - 1); the estimate lives on the whole L domain, and only the
 *                  observed box [0, N) enters the data term. Object voxels i in
 *                  [-(M-1-o), N-1+o] (mod L) are the ones whose light reaches the box; as
 *                  L >= N + M - 1 they are distinct mod L, so the model is the exact linear
 *                  (not wrapped) convolution restricted to the box (Bertero & Boccacci 2005).
 * The back-projection H^T multiplies by the conjugate OTF: the exact adjoint on the periodic
 * domain. With the mask m of the observed box (all ones for circular),
 *   x_{k+1} = x_k / W * H^T( m * y / (H x_k + b) ),   W = H^T m,
 * W is computed once per plan (circular: the constant PSF sum, 1 when normalised); voxels with
 * W below 1e-4 of the PSF sum carry almost no light into the image and are held at 0. The
 * output is the estimate cropped to [0, N).
 *
 * RL-TV (Dey et al. 2006): the denominator becomes W (1 - lambda div(grad x / |grad x|)), the
 * factor floored at 1/4, gradients on the periodic L domain divided by the voxel size over the
 * smallest one. For circular edges (W constant) this is Dey's update; noncirculant, the TV
 * term divides the normalised update rather than being subtracted from W, because in the
 * padding around the image, where W << 1, W - lambda div swung between W/4 and twice W from one
 * iteration to the next (relative change 0.3-0.6 per iteration on the bars data, whatever
 * lambda, instead of settling like RL).
 *
 * Acceleration (Biggs & Andrews 1997): y_k = x_k + alpha_k (x_k - x_{k-1}), x_{k+1} = RL(y_k),
 * g_k = x_{k+1} - y_k, alpha_{k+1} = sum g_k g_{k-1} / sum g_{k-1} g_{k-1} clipped to
 * [0, ALPHA_MAX]; negative extrapolated voxels are clipped to 0 and alpha restarts from 0 when
 * the I-divergence grows.
 *
 * Buffers (all made by plan_new; P = one padded float32 array at L): estimate P, OTF P, work P,
 * observed image N floats (not on a host-memory device, which reads the caller's), W P (noncirculant only); RL-TV adds P (the TV term), acceleration
 * adds 2 P (previous estimate and previous step). One iteration: forward FFT (out of place,
 * estimate -> work, where the device has fft_r2c_out), multiply, inverse FFT, ratio
 * (+ I-divergence) fused with zeroing outside the box, forward FFT, conjugate multiply, inverse
 * FFT, update fused with the L1 change (and, without fft_r2c_out, with the copy of the new
 * estimate into the work buffer: one more pass over P). The inverse FFT before the ratio and
 * the forward one after it are pruned to the observed box where the device can
 * (fft_c2r_box / fft_r2c_box: only the box of H x is read, the ratio is zero outside it).
 *
 * Low-memory (memory.h): the same iterations with two P-sized buffers gone. The OTF is kept as
 * the PSF's z-planes transformed along y and x (M0/L0 of P, otf.h), its z-axis DFT done inside
 * each multiply (M0 complex multiply-adds per spectrum value), and the non-circulant W is not
 * stored: rl_update sums the PSF over each voxel's box from the PSF's prefix sums
 * (LucyBoxWeights, (M0+1)(M1+1)(M2+1) doubles). W is then exact where in-memory's carries FFT
 * rounding, so the two agree to float precision, not bit for bit. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "deconvolve-private.h"
#include "device-impl.h"
#include "fft-size.h"
#include "lucy/deconvolve.h"
#include "memory-private.h"
#include "otf.h"
#include "status-private.h"

#define WEIGHT_MIN_REL 1e-4 /* voxels with W below this (relative to the PSF sum) are held at 0 */
#define ALPHA_MAX 0.95      /* Biggs-Andrews extrapolation never goes further than this */
#define RATIO_EPS_REL 1e-6  /* H x + b below this (relative to the image mean) gives ratio 0 */
#define TV_EPS_REL 1e-3     /* |grad x| smoothing, relative to the image mean per voxel */

struct LucyDeconPlan {
  LucyDevice *dev;
  LucyDeconOptions o;
  size_t N[3], M[3], L[3];
  float spacing[3];
  LucyFftPlan *fft;
  LucyOtf otf;
  float *work, *est, *obs, *weight, *tv, *prev, *step;
  float *sat;          /* low-memory, non-circulant RL: the PSF's prefix sums (doubles) */
  LucyBoxWeights box;  /* ... and what rl_update needs to read them */
  int low_memory;
  int r2c_out; /* forward transforms read est and write work (fft_r2c_out): no copy pass */
  const float *y; /* the image being restored: obs, or the caller's array on a host device */
  float *preview; /* host, image shape, when a monitor wants previews */
  size_t padded_bytes;
  double psf_sum;
  double weight_value; /* W for circular edges: the PSF sum the model uses (1 normalised) */
  double otf_max_abs2; /* Wiener */
  char warning[256];
};

static const char *const axis_names[3] = {"z", "y", "x"};
static const char *const method_names[3] = {"rl", "rltv", "wiener"};
static const char *const boundary_names[2] = {"noncirculant", "circular"};

void lucy_decon_options_default(LucyDeconOptions *opts) {
  if (!opts) return;
  memset(opts, 0, sizeof *opts);
  opts->method = LUCY_DECON_RL;
  opts->boundary = LUCY_BOUNDARY_NONCIRCULANT;
  opts->iterations = 50;
  opts->stop_rel = 0.0;
  opts->tv_lambda = 0.002;
  opts->accelerate = 0;
  opts->background = 0.0;
  opts->start = LUCY_START_FLAT;
  opts->start_value = 0.0;
  opts->wiener_k = 1e-3;
  opts->origin = LUCY_ORIGIN_CENTER;
  opts->normalize = 1;
  opts->planning = LUCY_PLAN_FAST;
  opts->preview_every = 0;
}

const char *lucy_decon_method_name(LucyDeconMethod method) {
  return (unsigned)method < 3 ? method_names[method] : "unknown";
}

LucyStatus lucy_decon_method_parse(const char *name, LucyDeconMethod *method) {
  for (int i = 0; name && i < 3; i++)
    if (strcasecmp(name, method_names[i]) == 0) {
      if (method) *method = (LucyDeconMethod)i;
      return LUCY_OK;
    }
  return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                    "unknown deconvolution method '%s' (accepted: rl, rltv, wiener)",
                    name ? name : "(null)");
}

const char *lucy_boundary_name(LucyBoundary boundary) {
  return (unsigned)boundary < 2 ? boundary_names[boundary] : "unknown";
}

LucyStatus lucy_boundary_parse(const char *name, LucyBoundary *boundary) {
  for (int i = 0; name && i < 2; i++)
    if (strcasecmp(name, boundary_names[i]) == 0) {
      if (boundary) *boundary = (LucyBoundary)i;
      return LUCY_OK;
    }
  return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                    "unknown boundary '%s' (accepted: noncirculant, circular)",
                    name ? name : "(null)");
}

static int finite_nonneg(double v) { return isfinite(v) && v >= 0.0; }

static LucyStatus check_options(const LucyDeconOptions *o) {
  if ((unsigned)o->method > LUCY_DECON_WIENER)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "deconvolution: unknown method %d",
                      (int)o->method);
  if ((unsigned)o->boundary > LUCY_BOUNDARY_CIRCULAR)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "deconvolution: unknown boundary %d",
                      (int)o->boundary);
  if (o->origin != LUCY_ORIGIN_CENTER && o->origin != LUCY_ORIGIN_SCIPY)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "deconvolution: unknown PSF origin %d",
                      (int)o->origin);
  if (o->method != LUCY_DECON_WIENER && o->iterations <= 0)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "deconvolution: iterations must be at least 1, got %d", o->iterations);
  if (!finite_nonneg(o->stop_rel))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "deconvolution: stop_rel must be finite and >= 0, got %g", o->stop_rel);
  if (!finite_nonneg(o->tv_lambda))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "deconvolution: the TV weight lambda must be finite and >= 0, got %g",
                      o->tv_lambda);
  if (!finite_nonneg(o->background))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "deconvolution: the background must be finite and >= 0, got %g",
                      o->background);
  if (!(isfinite(o->wiener_k) && o->wiener_k > 0.0) && o->method == LUCY_DECON_WIENER)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "deconvolution: the Wiener constant k must be finite and > 0, got %g",
                      o->wiener_k);
  if (!finite_nonneg(o->wiener_k))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "deconvolution: the Wiener constant k must be finite and >= 0, got %g",
                      o->wiener_k);
  if ((unsigned)o->start > LUCY_START_VALUE)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "deconvolution: unknown start %d",
                      (int)o->start);
  if (o->start == LUCY_START_VALUE && !(isfinite(o->start_value) && o->start_value > 0.0))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "deconvolution: the start value must be finite and > 0, got %g",
                      o->start_value);
  if (o->preview_every < 0)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "deconvolution: preview_every must be >= 0, got %d", o->preview_every);
  return LUCY_OK;
}

/* The low-memory W (LucyBoxWeights): the PSF's prefix sums over (M0+1) x (M1+1) x (M2+1)
 * corners, divided by norm (the PSF sum when normalising, as the OTF is), made in double on
 * the host by running sums along x, y and z, and uploaded once. */
static LucyStatus make_box_weights(LucyDeconPlan *plan, const LucyVolume *psf, double norm) {
  LucyDevice *dev = plan->dev;
  const size_t *M = psf->shape, s2 = M[2] + 1, s1 = (M[1] + 1) * s2, n = (M[0] + 1) * s1;
  LucyStatus st = lucy__dev_alloc(dev, n * sizeof(double), &plan->sat);
  if (st) return st;
  double *sat = calloc(n, sizeof(double));
  if (!sat)
    return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes for the PSF's prefix "
                      "sums", n * sizeof(double));
  for (size_t z = 0; z < M[0]; z++)
    for (size_t y = 0; y < M[1]; y++) {
      const float *row = psf->data + (z * M[1] + y) * M[2];
      double *d = sat + (z + 1) * s1 + (y + 1) * s2;
      for (size_t x = 0; x < M[2]; x++) d[x + 1] = d[x] + (double)row[x] / norm;
    }
  for (size_t z = 1; z <= M[0]; z++)
    for (size_t y = 2; y <= M[1]; y++)
      for (size_t x = 1; x <= M[2]; x++) sat[z * s1 + y * s2 + x] += sat[z * s1 + (y - 1) * s2 + x];
  for (size_t z = 2; z <= M[0]; z++)
    for (size_t i = s2; i < s1; i++) sat[z * s1 + i] += sat[(z - 1) * s1 + i];
  /* The doubles travel as twice as many floats: upload copies bytes. */
  st = dev->ops->upload(dev, plan->sat, (const float *)(const void *)sat, 2 * n);
  free(sat);
  if (st) return st;
  plan->box.sat = (const double *)(const void *)plan->sat;
  for (int a = 0; a < 3; a++) {
    plan->box.N[a] = plan->N[a];
    plan->box.M[a] = M[a];
    plan->box.L[a] = plan->L[a];
    plan->box.origin[a] = lucy__psf_origin(M[a], plan->o.origin);
  }
  return LUCY_OK;
}

LucyStatus lucy_decon_plan_new(const size_t image_shape[3], const double voxel_um[3],
                               const LucyVolume *psf, const LucyDeconOptions *opts,
                               LucyDeconPlan **out) {
  if (!out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_decon_plan_new: out is NULL");
  *out = NULL;
  if (!image_shape || !psf || !psf->data)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_decon_plan_new: NULL image shape or PSF");
  LucyDeconOptions o;
  if (opts)
    o = *opts;
  else
    lucy_decon_options_default(&o);
  LucyStatus st = check_options(&o);
  if (st) return st;

  double vmin = INFINITY;
  for (int a = 0; a < 3; a++) {
    const double v = voxel_um ? voxel_um[a] : 1.0;
    if (!(isfinite(v) && v > 0.0))
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                        "deconvolution: the voxel size on %s must be finite and > 0, got %g",
                        axis_names[a], v);
    vmin = fmin(vmin, v);
  }

  size_t L[3];
  for (int a = 0; a < 3; a++) {
    const size_t n = image_shape[a], m = psf->shape[a];
    if (n == 0 || m == 0)
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                        "deconvolution: empty shape (image %zux%zux%zu, PSF %zux%zux%zu)",
                        image_shape[0], image_shape[1], image_shape[2], psf->shape[0],
                        psf->shape[1], psf->shape[2]);
    if (n > ((size_t)1 << 30) || m > ((size_t)1 << 30))
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "deconvolution: %s size too large",
                        axis_names[a]);
    if (o.boundary == LUCY_BOUNDARY_CIRCULAR) {
      if (m > n)
        return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                          "the PSF is larger than the padded domain: on %s the PSF has %zu "
                          "voxels and the circular domain (the image) %zu; crop the PSF or "
                          "use noncirculant edges",
                          axis_names[a], m, n);
      L[a] = n;
    } else {
      L[a] = lucy_fft_good_size(n + m - 1);
      if (L[a] == 0)
        return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "deconvolution: no FFT size for %s",
                          axis_names[a]);
    }
  }
  if (o.boundary != LUCY_BOUNDARY_CIRCULAR) lucy__fft_domain_even_x(L);

  double sum = 0.0;
  st = lucy__psf_validate(psf, o.normalize, &sum);
  if (st) return st;
  if (o.method != LUCY_DECON_WIENER && !(sum > 0.0))
    return lucy__fail(LUCY_ERR_NUMERIC,
                      "Richardson-Lucy needs a PSF with a positive sum, got %g", sum);

  LucyDeconPlan *plan = calloc(1, sizeof *plan);
  if (!plan) return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory making a deconvolution plan");
  plan->o = o;
  plan->o.device = NULL;
  plan->psf_sum = sum;
  plan->weight_value = o.normalize ? 1.0 : sum;
  memcpy(plan->N, image_shape, sizeof plan->N);
  memcpy(plan->M, psf->shape, sizeof plan->M);
  memcpy(plan->L, L, sizeof plan->L);
  for (int a = 0; a < 3; a++)
    plan->spacing[a] = (float)((voxel_um ? voxel_um[a] : 1.0) / vmin);

  LucyPsfCheck check;
  if (lucy_psf_check(psf, o.origin, &check) == LUCY_OK && check.off_centre)
    snprintf(plan->warning, sizeof plan->warning, "%s", check.message);

  if ((st = lucy__device_for_plan(o.device, o.threads, o.planning, &plan->dev))) {
    free(plan);
    return st;
  }
  LucyDevice *dev = plan->dev;
  const LucyDeviceOps *ops = dev->ops;
  const int rl = o.method != LUCY_DECON_WIENER;
  const int noncirc = o.boundary == LUCY_BOUNDARY_NONCIRCULANT;
  const size_t nimg = lucy_shape_count(image_shape);

  LucyMemoryRequest req;
  lucy__memory_request_for(LUCY_MEMORY_DECONVOLVE, image_shape, psf->shape, &req);
  req.method = o.method;
  req.boundary = o.boundary;
  req.accelerate = o.accelerate;
  req.preview = o.monitor != NULL && o.preview_every > 0;
  st = lucy__plan_strategy(dev, &req, o.strategy, o.memory_limit_bytes, &plan->low_memory);

  /* Plan the FFT first: planning may use a scratch buffer, freed before ours exist. */
  if (!st) st = ops->fft_plan(dev, L, &plan->fft);
  const size_t P = lucy__padded_count(L) * sizeof(float);
  plan->padded_bytes = P;
  if (!st) {
    double scale = 1.0 / ((double)L[0] * (double)L[1] * (double)L[2]);
    if (o.normalize) scale /= sum;
    st = lucy__otf_new(dev, plan->fft, L, psf, o.origin, scale, plan->low_memory, &plan->otf);
  }
  if (!st) st = lucy__dev_alloc(dev, P, &plan->work);
  /* A host-memory device reads the caller's image in place: no copy, N floats less. */
  if (!st && !ops->host_memory) st = lucy__dev_alloc(dev, nimg * sizeof(float), &plan->obs);
  if (!st && rl) st = lucy__dev_alloc(dev, P, &plan->est);
  if (!st && rl && noncirc && !plan->low_memory)
    st = lucy__dev_alloc(dev, P, &plan->weight);
  if (!st && rl && noncirc && plan->low_memory)
    st = make_box_weights(plan, psf, o.normalize ? sum : 1.0);
  if (!st && o.method == LUCY_DECON_RLTV) st = lucy__dev_alloc(dev, P, &plan->tv);
  if (!st && rl && o.accelerate) st = lucy__dev_alloc(dev, P, &plan->prev);
  if (!st && rl && o.accelerate) st = lucy__dev_alloc(dev, P, &plan->step);
  /* The out-of-place forward transform est -> work is planned on those two buffers now,
   * while they hold nothing (the device may overwrite both). */
  if (!st && rl && ops->fft_r2c_out) {
    if (ops->fft_plan_r2c_out) st = ops->fft_plan_r2c_out(dev, plan->fft, plan->est, plan->work);
    plan->r2c_out = !st;
  }
  /* The data term lives on the observed box: its transforms skip the padding (also planned on
   * the idle work buffer). */
  if (!st) st = lucy__dev_fft_plan_box(dev, plan->fft, plan->work, L, image_shape);
  if (!st && rl && o.monitor && o.preview_every > 0) {
    plan->preview = malloc(nimg * sizeof(float));
    if (!plan->preview)
      st = lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes for the preview",
                      nimg * sizeof(float));
  }
  if (!st && !rl) st = lucy__otf_max_abs2(dev, &plan->otf, &plan->otf_max_abs2);
  if (!st && plan->weight) {
    /* W = H^T(mask of the observed box), once. */
    static const ptrdiff_t zero[3] = {0, 0, 0};
    /* The work buffer (>= N floats, idle until execute) holds the compact mask. */
    st = ops->fill(dev, plan->work, nimg, 1.0f);
    if (!st) st = ops->embed(dev, plan->weight, L, plan->work, image_shape, zero, 0);
    if (!st) st = lucy__dev_fft_r2c_box(dev, plan->fft, plan->weight, L, image_shape);
    if (!st) st = lucy__otf_apply(dev, &plan->otf, plan->weight, 1);
    if (!st) st = ops->fft_c2r(dev, plan->fft, plan->weight);
  }
  if (st) {
    lucy__fail_context(st, "planning %s deconvolution (%s edges) of %zux%zux%zu with a "
                       "%zux%zux%zu PSF: ", lucy_decon_method_name(o.method),
                       lucy_boundary_name(o.boundary), image_shape[0], image_shape[1],
                       image_shape[2], psf->shape[0], psf->shape[1], psf->shape[2]);
    lucy_decon_plan_free(plan);
    return st;
  }
  *out = plan;
  return LUCY_OK;
}

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static LucyStatus report(LucyDeconPlan *plan, int iteration, double stage, const char *what) {
  const LucyDeconOptions *o = &plan->o;
  if (!o->progress) return LUCY_OK;
  const double total = o->method == LUCY_DECON_WIENER ? 1.0 : (double)o->iterations;
  if (o->progress(o->progress_user, ((double)iteration + stage) / total, what))
    return lucy__fail(LUCY_ERR_CANCELLED, "deconvolution cancelled in iteration %d, before the %s",
                      iteration + 1, what);
  return LUCY_OK;
}

/* The image on the host: finite, with a positive voxel; *mean = mean of max(y, 0). */
static LucyStatus check_image(LucyDeconPlan *plan, const float *image, double *mean) {
  LucyStatus st = lucy__check_finite(image, plan->N, plan->dev->opts.threads, "image");
  if (st) return st;
  const size_t n = lucy_shape_count(plan->N);
  double sum = 0.0;
  float hi = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    const float v = image[i];
    if (v > 0.0f) sum += v;
    hi = v > hi ? v : hi;
  }
  if (!(hi > 0.0f))
    return lucy__fail(LUCY_ERR_NUMERIC,
                      "the image has no positive voxel (maximum %g over %zu voxels); "
                      "deconvolution needs intensities > 0", (double)hi, n);
  /* With b at or above every voxel the model H x + b explains the image without any object:
   * RL drives the estimate to 0 (the whole output zeros). */
  if (plan->o.method != LUCY_DECON_WIENER && plan->o.background >= (double)hi)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "the background %g is at or above the image's maximum %g: the model "
                      "H x + b would need no object, and the estimate would go to 0; give the "
                      "level of the image's darkest (object-free) region",
                      plan->o.background, (double)hi);
  *mean = sum / (double)n;
  return LUCY_OK;
}

static LucyStatus run_wiener(LucyDeconPlan *plan, float *out) {
  LucyDevice *dev = plan->dev;
  const LucyDeviceOps *ops = dev->ops;
  const size_t *L = plan->L;
  LucyStatus st = ops->embed_smooth(dev, plan->work, L, plan->y, plan->N, -FLT_MAX);
  if (!st) st = report(plan, 0, 0.1, "forward FFT");
  if (!st) st = ops->fft_r2c(dev, plan->fft, plan->work);
  if (!st) {
    /* X = conj(H) Y / (|H|^2 + k max|H|^2) with the stored OTF o = H / n (n = L0 L1 L2): the
     * inverse transform multiplies by n, so the spectrum is conj(o) Y / (|o|^2 + k max|o|^2)
     * / n^2. */
    const double n = (double)L[0] * (double)L[1] * (double)L[2];
    const double kabs = fmax(plan->o.wiener_k * plan->otf_max_abs2, (double)FLT_MIN);
    st = lucy__otf_wiener(dev, &plan->otf, plan->work, (float)kabs, (float)(1.0 / (n * n)));
  }
  if (!st) st = report(plan, 0, 0.6, "inverse FFT");
  if (!st) st = lucy__dev_fft_c2r_box(dev, plan->fft, plan->work, L, plan->N);
  static const ptrdiff_t zero[3] = {0, 0, 0};
  if (!st) st = ops->extract(dev, out, plan->N, plan->work, L, zero, 1.0f, 1);
  return st;
}

static LucyStatus run_rl(LucyDeconPlan *plan, double mean, float *out, int *done) {
  LucyDevice *dev = plan->dev;
  const LucyDeviceOps *ops = dev->ops;
  const LucyDeconOptions *o = &plan->o;
  const size_t *L = plan->L, *N = plan->N;
  const size_t nfloats = lucy__padded_count(L);
  const LucyBoxWeights *box = plan->sat ? &plan->box : NULL;
  static const ptrdiff_t zero[3] = {0, 0, 0};
  const double t0 = now_s();
  const float b = (float)o->background;
  const float eps = (float)fmax(RATIO_EPS_REL * mean, (double)FLT_MIN);
  const float wmin = (float)(WEIGHT_MIN_REL * plan->weight_value);
  const int accel = o->accelerate != 0;
  const int want_idiv = o->monitor != NULL || accel;
  LucyStatus st;

  /* The start, also copied into the work buffer (and the previous estimate). */
  if (o->start == LUCY_START_IMAGE) {
    st = ops->embed_smooth(dev, plan->est, L, plan->y, N, (float)fmax(1e-3 * mean, FLT_MIN));
  } else {
    double v = o->start_value;
    if (o->start == LUCY_START_FLAT) v = (mean > o->background ? mean - o->background : mean) /
                                          plan->weight_value;
    st = ops->fill(dev, plan->est, nfloats, (float)v);
  }
  /* prev = est (accelerated); the forward transform's input in work unless it reads est. */
  float *const copy = plan->r2c_out ? NULL : plan->work;
  if (!st && (accel || copy))
    st = ops->rl_extrapolate(dev, plan->est, accel ? plan->prev : copy, accel ? copy : NULL, L,
                             0.0f, NULL);

  double idiv_prev = INFINITY, gg_prev = 0.0;
  int k = 0;
  for (; !st && k < o->iterations; k++) {
    const int last = k + 1 == o->iterations;
    double idiv = NAN, sums[4] = {0, 0, 0, 0};
    if ((st = report(plan, k, 0.0, "forward projection"))) break;
    if ((st = plan->r2c_out ? ops->fft_r2c_out(dev, plan->fft, plan->est, plan->work)
                            : ops->fft_r2c(dev, plan->fft, plan->work)))
      break;
    if ((st = lucy__otf_apply(dev, &plan->otf, plan->work, 0))) break;
    if ((st = report(plan, k, 0.25, "inverse FFT"))) break;
    /* Only the observed box of H x is read, and the ratio is zero outside it. */
    if ((st = lucy__dev_fft_c2r_box(dev, plan->fft, plan->work, L, N))) break;
    if ((st = ops->rl_ratio(dev, plan->work, L, plan->y, N, b, eps, want_idiv ? &idiv : NULL)))
      break;
    if ((st = report(plan, k, 0.5, "back-projection"))) break;
    if ((st = lucy__dev_fft_r2c_box(dev, plan->fft, plan->work, L, N))) break;
    if ((st = lucy__otf_apply(dev, &plan->otf, plan->work, 1))) break;
    if ((st = report(plan, k, 0.75, "inverse FFT"))) break;
    if ((st = ops->fft_c2r(dev, plan->fft, plan->work))) break;
    if (plan->tv &&
        (st = ops->tv_term(dev, plan->tv, plan->est, L, plan->spacing, (float)o->tv_lambda,
                           (float)fmax(TV_EPS_REL * mean / plan->weight_value, FLT_MIN))))
      break;
    double rel;
    if (!accel) {
      st = ops->rl_update(dev, plan->est, plan->work, L, plan->weight, box,
                          (float)plan->weight_value, wmin, plan->tv, last ? NULL : copy, NULL,
                          sums);
      if (st) break;
      rel = sums[1] > 0 ? sums[0] / sums[1] : 0.0;
    } else {
      /* est held y_k; now x_{k+1} = RL(y_k), step = g_k (reading g_{k-1}). */
      st = ops->rl_update(dev, plan->est, plan->work, L, plan->weight, box,
                          (float)plan->weight_value, wmin, plan->tv, NULL, plan->step, sums);
      if (st) break;
      double alpha = 0.0;
      if (idiv > idiv_prev) {
        gg_prev = 0.0; /* the divergence grew: restart the extrapolation */
      } else if (gg_prev > 0.0) {
        alpha = sums[2] / gg_prev;
        alpha = alpha < 0.0 ? 0.0 : alpha > ALPHA_MAX ? ALPHA_MAX : alpha;
        gg_prev = sums[3];
      } else {
        gg_prev = sums[3];
      }
      idiv_prev = idiv;
      /* est = y_{k+1} = x_{k+1} + alpha (x_{k+1} - x_k), prev = x_{k+1}, work = y_{k+1}. */
      double s2[2];
      st = ops->rl_extrapolate(dev, plan->est, plan->prev, last ? NULL : copy, L,
                               last ? 0.0f : (float)alpha, s2);
      if (st) break;
      rel = s2[1] > 0 ? s2[0] / s2[1] : 0.0;
    }
    float *current = accel ? plan->prev : plan->est;
    if (o->monitor) {
      LucyDeconIteration it = {.iteration = k + 1, .idiv = idiv, .rel_change = rel,
                               .seconds = now_s() - t0, .estimate = NULL};
      if (plan->preview && (k + 1) % o->preview_every == 0) {
        if ((st = ops->extract(dev, plan->preview, N, current, L, zero, 1.0f, 1))) break;
        it.estimate = plan->preview;
      }
      if (o->monitor(o->monitor_user, &it)) {
        st = lucy__fail(LUCY_ERR_CANCELLED, "deconvolution cancelled by the monitor after "
                        "iteration %d", k + 1);
        break;
      }
    }
    if (o->stop_rel > 0.0 && rel < o->stop_rel) {
      k++;
      break;
    }
  }
  if (st) return st;
  /* Only now is out written: a cancelled run leaves it untouched. */
  st = ops->extract(dev, out, N, accel ? plan->prev : plan->est, L, zero, 1.0f, 1);
  if (!st && done) *done = k;
  return st;
}

LucyStatus lucy_decon_execute(LucyDeconPlan *plan, const float *image, float *out,
                              int *iterations_done) {
  if (iterations_done) *iterations_done = 0;
  if (!plan || !image || !out)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_decon_execute: NULL argument");
  double mean = 0.0;
  LucyStatus st = check_image(plan, image, &mean);
  if (st) return st;
  LucyDevice *dev = plan->dev;
  if (plan->obs) {
    st = dev->ops->upload(dev, plan->obs, image, lucy_shape_count(plan->N));
    if (st) return st;
    plan->y = plan->obs;
  } else {
    plan->y = image; /* host-memory device; out may alias image: it is written only at the end */
  }
  if (plan->o.method == LUCY_DECON_WIENER) {
    st = run_wiener(plan, out);
    if (!st && iterations_done) *iterations_done = 1;
  } else {
    st = run_rl(plan, mean, out, iterations_done);
  }
  if (!st && plan->o.progress) (void)plan->o.progress(plan->o.progress_user, 1.0, "done");
  return st;
}

/* Test hooks (deconvolve-private.h): the operators exactly as the iterations apply them. */
static LucyStatus apply_op(LucyDeconPlan *plan, const float *src, const size_t src_shape[3],
                           int conjugate, float *dst, const size_t dst_shape[3]) {
  if (!plan || !src || !dst)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "deconvolution operator: NULL argument");
  LucyDevice *dev = plan->dev;
  const LucyDeviceOps *ops = dev->ops;
  static const ptrdiff_t zero[3] = {0, 0, 0};
  LucyStatus st = ops->embed(dev, plan->work, plan->L, src, src_shape, zero, 1);
  if (!st) st = lucy__dev_fft_r2c_box(dev, plan->fft, plan->work, plan->L, src_shape);
  if (!st) st = lucy__otf_apply(dev, &plan->otf, plan->work, conjugate);
  if (!st) st = lucy__dev_fft_c2r_box(dev, plan->fft, plan->work, plan->L, dst_shape);
  if (!st) st = ops->extract(dev, dst, dst_shape, plan->work, plan->L, zero, 1.0f, 1);
  return st;
}

LucyStatus lucy__decon_forward(LucyDeconPlan *plan, const float *x, float *y) {
  return apply_op(plan, x, plan ? plan->L : NULL, 0, y, plan ? plan->N : NULL);
}

LucyStatus lucy__decon_adjoint(LucyDeconPlan *plan, const float *y, float *x) {
  return apply_op(plan, y, plan ? plan->N : NULL, 1, x, plan ? plan->L : NULL);
}

void lucy_decon_fft_shape(const LucyDeconPlan *plan, size_t shape[3]) {
  if (plan && shape) memcpy(shape, plan->L, sizeof plan->L);
}

const char *lucy_decon_plan_warning(const LucyDeconPlan *plan) {
  return plan && plan->warning[0] ? plan->warning : NULL;
}

size_t lucy_decon_plan_bytes(const LucyDeconPlan *plan) {
  if (!plan) return 0;
  size_t bytes = plan->fft ? plan->dev->ops->fft_work_bytes(plan->dev, plan->fft) : 0;
  bytes += lucy__otf_bytes(plan->dev, &plan->otf);
  float *const bufs[] = {plan->work, plan->est, plan->weight, plan->tv, plan->prev, plan->step};
  for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++)
    if (bufs[i]) bytes += plan->padded_bytes;
  if (plan->obs) bytes += lucy_shape_count(plan->N) * sizeof(float);
  if (plan->sat)
    bytes += (plan->M[0] + 1) * (plan->M[1] + 1) * (plan->M[2] + 1) * sizeof(double);
  if (plan->preview) bytes += lucy_shape_count(plan->N) * sizeof(float);
  return bytes;
}

double lucy_decon_psf_sum(const LucyDeconPlan *plan) { return plan ? plan->psf_sum : NAN; }

LucyStrategy lucy_decon_plan_strategy(const LucyDeconPlan *plan) {
  return plan && plan->low_memory ? LUCY_STRATEGY_LOW_MEMORY : LUCY_STRATEGY_IN_MEMORY;
}

void lucy_decon_plan_free(LucyDeconPlan *plan) {
  if (!plan) return;
  if (plan->dev) {
    lucy__otf_free(plan->dev, &plan->otf);
    lucy__dev_fft_plan_release(plan->dev, plan->fft);
    float *const bufs[] = {plan->work, plan->est, plan->obs,  plan->weight,
                           plan->sat,  plan->tv,  plan->prev, plan->step};
    for (size_t i = 0; i < sizeof bufs / sizeof bufs[0]; i++) lucy__dev_release(plan->dev, bufs[i]);
    lucy_device_unref(plan->dev);
  }
  free(plan->preview);
  free(plan);
}

/* One in-memory plan; lucy_deconvolve below chooses the strategy (strategy.c). */
LucyStatus lucy__deconvolve_direct(const LucyVolume *image, const LucyVolume *psf,
                                   const LucyDeconOptions *opts, LucyVolume **out,
                                   int *iterations_done) {
  if (iterations_done) *iterations_done = 0;
  if (!out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_deconvolve: out is NULL");
  *out = NULL;
  if (!image || !image->data || !psf)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_deconvolve: NULL image or PSF");
  LucyDeconPlan *plan = NULL;
  LucyStatus st = lucy_decon_plan_new(image->shape, image->voxel_um, psf, opts, &plan);
  if (st) return st;
  LucyVolume *result = NULL;
  st = lucy_volume_new(image->shape, &result);
  if (!st) st = lucy_decon_execute(plan, image->data, result->data, iterations_done);
  lucy_decon_plan_free(plan);
  if (st) {
    lucy_volume_free(result);
    return st;
  }
  memcpy(result->voxel_um, image->voxel_um, sizeof result->voxel_um);
  *out = result;
  return LUCY_OK;
}

LucyStatus lucy_deconvolve(const LucyVolume *image, const LucyVolume *psf,
                           const LucyDeconOptions *opts, LucyVolume **out,
                           int *iterations_done) {
  if (iterations_done) *iterations_done = 0;
  if (!out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_deconvolve: out is NULL");
  *out = NULL;
  if (!image || !image->data || !psf || !psf->data)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_deconvolve: NULL image or PSF");
  return lucy__deconvolve_strategy(image, psf, opts, out, iterations_done);
}
