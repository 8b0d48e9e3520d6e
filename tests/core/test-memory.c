/* The memory planner and the strategies on the CPU device: the predicted peak equals the peak
 * Lucy's allocation counter measures for every mode, boundary, method and strategy (in memory
 * and low memory); low-memory results equal in-memory ones to float precision and need less;
 * auto picks low-memory between the two peaks and tiles below; tiled convolution equals the
 * untiled result to float precision in all four modes; tiled deconvolution stays close to the
 * untiled one (the difference is printed); a budget nothing fits fails with
 * LUCY_ERR_DEVICE_MEMORY and the numbers; the tiled work ratio is 1 untiled and what the shapes
 * give tiled, and auto refuses tiles over the CPU work limit (naming the budget that runs)
 * while a CUDA problem twice the budget still tiles. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lucy/lucy.h"
#include "lucy/memory.h"

static LucyDevice *new_cpu(void) {
  LucyDeviceOptions o;
  lucy_device_options_default(&o);
  o.threads = 2;
  o.use_wisdom = 0;
  LucyDevice *dev = NULL;
  g_assert_cmpint(lucy_device_new(&o, &dev), ==, LUCY_OK);
  return dev;
}

static size_t peak(LucyDevice *dev) {
  LucyMemoryInfo info;
  g_assert_cmpint(lucy_device_memory_info(dev, &info), ==, LUCY_OK);
  g_assert_cmpuint(info.lucy_bytes, ==, 0); /* everything released */
  return info.lucy_peak_bytes;
}

static LucyVolume *volume(const size_t shape[3], guint32 seed, int psf) {
  LucyVolume *v = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &v), ==, LUCY_OK);
  GRand *r = g_rand_new_with_seed(seed);
  const size_t n = lucy_shape_count(shape);
  for (size_t i = 0; i < n; i++) v->data[i] = (float)g_rand_double_range(r, psf ? 0.1 : 0.5, 1.0);
  g_rand_free(r);
  return v;
}

static const size_t img_shape[3] = {6, 21, 26}, psf_shape[3] = {3, 5, 4};

static void test_names(void) {
  LucyStrategy s;
  for (int i = 0; i <= LUCY_STRATEGY_CPU; i++) {
    g_assert_cmpint(lucy_strategy_parse(lucy_strategy_name((LucyStrategy)i), &s), ==, LUCY_OK);
    g_assert_cmpint(s, ==, i);
  }
  g_assert_cmpint(lucy_strategy_parse("bogus", &s), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(lucy_error_message(), "tiled"));
}

static const LucyStrategy whole[2] = {LUCY_STRATEGY_IN_MEMORY, LUCY_STRATEGY_LOW_MEMORY};

static void test_convolve_exact(void) {
  LucyVolume *img = volume(img_shape, 1, 0), *psf = volume(psf_shape, 2, 1);
  for (int mode = 0; mode < 4; mode++) {
    size_t peaks[2];
    for (int s = 0; s < 2; s++) {
      LucyMemoryRequest req;
      lucy_memory_request_default(&req);
      memcpy(req.image_shape, img_shape, sizeof req.image_shape);
      memcpy(req.psf_shape, psf_shape, sizeof req.psf_shape);
      req.mode = (LucyPadMode)mode;
      req.strategy = whole[s];
      LucyMemoryPlan mp;
      g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
      g_assert_cmpint(mp.strategy, ==, whole[s]);
      LucyDevice *dev = new_cpu();
      LucyConvOptions o;
      lucy_conv_options_default(&o);
      o.mode = (LucyPadMode)mode;
      o.device = dev;
      o.strategy = whole[s];
      LucyVolume *out = NULL;
      g_assert_cmpint(lucy_convolve(img, psf, &o, &out), ==, LUCY_OK);
      const size_t measured = peak(dev);
      g_test_message("convolve %s %s: predicted %zu, measured %zu (P = %zu)",
                     lucy_pad_mode_name(o.mode), lucy_strategy_name(whole[s]),
                     mp.peak_device_bytes, measured, mp.padded_bytes);
      g_assert_cmpuint(mp.peak_device_bytes, ==, measured);
      g_assert_cmpuint(mp.peak_device_bytes, <=, 3 * mp.padded_bytes);
      g_assert_cmpuint(mp.peak_host_bytes, ==, lucy_shape_count(out->shape) * sizeof(float));
      size_t fft[3];
      g_assert_cmpint(lucy_conv_shapes(img_shape, psf_shape, o.mode, NULL, fft), ==, LUCY_OK);
      g_assert_cmpmem(fft, sizeof fft, mp.padded_shape, sizeof fft);
      peaks[s] = measured;
      lucy_volume_free(out);
      lucy_device_unref(dev);
    }
    /* The PSF has 3 planes, every padded z size here is 6 or more: low-memory keeps 3 of them. */
    g_assert_cmpuint(peaks[1], <, peaks[0]);
  }
  lucy_volume_free(img);
  lucy_volume_free(psf);
}

static void test_deconvolve_exact(void) {
  LucyVolume *img = volume(img_shape, 3, 0), *psf = volume(psf_shape, 4, 1);
  for (int method = 0; method < 3; method++)
    for (int boundary = 0; boundary < 2; boundary++)
      for (int accel = 0; accel < 2; accel++)
      for (int s = 0; s < 2; s++) {
        if (method == LUCY_DECON_WIENER && accel) continue;
        LucyMemoryRequest req;
        lucy_memory_request_default(&req);
        req.op = LUCY_MEMORY_DECONVOLVE;
        memcpy(req.image_shape, img_shape, sizeof req.image_shape);
        memcpy(req.psf_shape, psf_shape, sizeof req.psf_shape);
        req.method = (LucyDeconMethod)method;
        req.boundary = (LucyBoundary)boundary;
        req.accelerate = accel;
        req.strategy = s ? LUCY_STRATEGY_LOW_MEMORY : LUCY_STRATEGY_AUTO;
        LucyMemoryPlan mp;
        g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
        g_assert_cmpint(mp.strategy, ==, whole[s]);
        /* Low-memory drops the OTF's 8 - 3 planes and, non-circulant RL, W (P each). */
        const size_t saved = mp.in_memory_device_bytes - mp.low_memory_device_bytes;
        g_assert_cmpuint(saved, >, (method != LUCY_DECON_WIENER && boundary == 0 ? 1 : 0) *
                                       mp.padded_bytes);
        LucyDevice *dev = new_cpu();
        LucyDeconOptions o;
        lucy_decon_options_default(&o);
        o.method = (LucyDeconMethod)method;
        o.boundary = (LucyBoundary)boundary;
        o.accelerate = accel;
        o.iterations = 3;
        o.device = dev;
        o.strategy = req.strategy;
        LucyVolume *out = NULL;
        g_assert_cmpint(lucy_deconvolve(img, psf, &o, &out, NULL), ==, LUCY_OK);
        const size_t measured = peak(dev);
        g_test_message("deconvolve %s %s%s %s: predicted %zu, measured %zu (P = %zu)",
                       lucy_decon_method_name(o.method), lucy_boundary_name(o.boundary),
                       accel ? " accelerated" : "", lucy_strategy_name(whole[s]),
                       mp.peak_device_bytes, measured, mp.padded_bytes);
        g_assert_cmpuint(mp.peak_device_bytes, ==, measured);
        lucy_volume_free(out);
        lucy_device_unref(dev);
      }
  lucy_volume_free(img);
  lucy_volume_free(psf);
}

static double max_rel_diff(const LucyVolume *a, const LucyVolume *b) {
  g_assert_cmpmem(a->shape, sizeof a->shape, b->shape, sizeof b->shape);
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < lucy_shape_count(a->shape); i++) {
    num = fmax(num, fabs((double)a->data[i] - b->data[i]));
    den = fmax(den, fabs((double)b->data[i]));
  }
  return num / den;
}

static void test_convolve_tiled(void) {
  LucyVolume *img = volume(img_shape, 5, 0), *psf = volume(psf_shape, 6, 1);
  for (int origin = 0; origin < 2; origin++)
    for (int mode = 0; mode < 4; mode++) {
      LucyConvOptions o;
      lucy_conv_options_default(&o);
      o.mode = (LucyPadMode)mode;
      o.origin = (LucyOrigin)origin;
      o.threads = 1;
      o.strategy = LUCY_STRATEGY_IN_MEMORY;
      LucyVolume *ref = NULL, *tiled = NULL;
      g_assert_cmpint(lucy_convolve(img, psf, &o, &ref), ==, LUCY_OK);
      o.strategy = LUCY_STRATEGY_TILED;
      o.tile[0] = 7;
      o.tile[1] = 6;
      g_assert_cmpint(lucy_convolve(img, psf, &o, &tiled), ==, LUCY_OK);
      const double d = max_rel_diff(tiled, ref);
      g_test_message("tiled %s (origin %d): max |tiled - untiled| / max = %.3g",
                     lucy_pad_mode_name(o.mode), origin, d);
      g_assert_cmpfloat(d, <, 2e-6);
      lucy_volume_free(ref);
      lucy_volume_free(tiled);
    }
  lucy_volume_free(img);
  lucy_volume_free(psf);
}

/* A budget below in-memory's peak: auto picks tiles, each plan stays under it (measured), and
 * the result still matches. */
static void test_convolve_auto_limit(void) {
  const size_t shape[3] = {8, 64, 60}, pshape[3] = {3, 7, 7};
  LucyVolume *img = volume(shape, 7, 0), *psf = volume(pshape, 8, 1);
  LucyConvOptions o;
  lucy_conv_options_default(&o);
  o.threads = 1;
  LucyVolume *ref = NULL, *tiled = NULL;
  g_assert_cmpint(lucy_convolve(img, psf, &o, &ref), ==, LUCY_OK);
  LucyMemoryRequest req;
  lucy_memory_request_default(&req);
  memcpy(req.image_shape, shape, sizeof shape);
  memcpy(req.psf_shape, pshape, sizeof pshape);
  LucyMemoryPlan full;
  g_assert_cmpint(lucy_memory_plan(&req, &full), ==, LUCY_OK);
  const size_t limit = full.peak_device_bytes / 3;
  req.free_bytes = limit;
  LucyMemoryPlan mp;
  g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
  g_assert_cmpint(mp.strategy, ==, LUCY_STRATEGY_TILED);
  g_assert_cmpuint(mp.peak_device_bytes, <=, limit);
  g_assert_cmpuint(mp.tiles[1] * mp.tiles[2], >, 1);
  LucyDevice *dev = new_cpu();
  o.device = dev;
  o.memory_limit_bytes = limit;
  g_assert_cmpint(lucy_convolve(img, psf, &o, &tiled), ==, LUCY_OK);
  const size_t measured = peak(dev);
  g_test_message("auto under %zu bytes: %zux%zu tiles, predicted %zu, measured %zu (in-memory %zu)",
                 limit, mp.tiles[1], mp.tiles[2], mp.peak_device_bytes, measured,
                 full.peak_device_bytes);
  g_assert_cmpuint(measured, ==, mp.peak_device_bytes);
  g_assert_cmpfloat(max_rel_diff(tiled, ref), <, 2e-6);
  lucy_volume_free(tiled);
  /* A plan cannot tile: under the same budget it refuses, naming tiles, and allocates nothing
   * (the app then calls lucy_convolve). */
  LucyConvPlan *plan = NULL;
  lucy_device_unref(dev);
  dev = new_cpu();
  o.device = dev;
  g_assert_cmpint(lucy_conv_plan_new(shape, psf, &o, &plan), ==, LUCY_ERR_DEVICE_MEMORY);
  g_assert_null(plan);
  g_test_message("plan under %zu bytes: %s", limit, lucy_error_message());
  g_assert_nonnull(strstr(lucy_error_message(), "tiled strategy would fit"));
  /* ... and so does a plan forced to in-memory or low-memory under an explicit limit */
  o.strategy = LUCY_STRATEGY_IN_MEMORY;
  g_assert_cmpint(lucy_conv_plan_new(shape, psf, &o, &plan), ==, LUCY_ERR_DEVICE_MEMORY);
  g_assert_nonnull(strstr(lucy_error_message(), "in-memory needs"));
  o.strategy = LUCY_STRATEGY_LOW_MEMORY;
  g_assert_cmpint(lucy_conv_plan_new(shape, psf, &o, &plan), ==, LUCY_ERR_DEVICE_MEMORY);
  g_test_message("forced low-memory under %zu bytes: %s", limit, lucy_error_message());
  g_assert_nonnull(strstr(lucy_error_message(), "low-memory needs"));
  o.strategy = LUCY_STRATEGY_AUTO;
  g_assert_cmpuint(peak(dev), ==, 0);
  lucy_device_unref(dev);

  /* Nothing fits: the error says what is needed and what is free. */
  o.device = NULL;
  o.memory_limit_bytes = 1000;
  tiled = (LucyVolume *)img;
  g_assert_cmpint(lucy_convolve(img, psf, &o, &tiled), ==, LUCY_ERR_DEVICE_MEMORY);
  g_assert_null(tiled);
  g_test_message("%s", lucy_error_message());
  g_assert_nonnull(strstr(lucy_error_message(), "1000 free"));
  /* Forced in-memory under a budget that only tiles meet: the error names tiles. */
  o.memory_limit_bytes = limit;
  o.strategy = LUCY_STRATEGY_IN_MEMORY;
  g_assert_cmpint(lucy_convolve(img, psf, &o, &tiled), ==, LUCY_ERR_DEVICE_MEMORY);
  g_test_message("%s", lucy_error_message());
  g_assert_nonnull(strstr(lucy_error_message(), "tiled strategy would fit"));
  /* ... and the process is fine afterwards. */
  o.memory_limit_bytes = 0;
  o.strategy = LUCY_STRATEGY_AUTO;
  g_assert_cmpint(lucy_convolve(img, psf, &o, &tiled), ==, LUCY_OK);
  g_assert_cmpfloat(max_rel_diff(tiled, ref), <, 1e-6);
  lucy_volume_free(tiled);
  lucy_volume_free(ref);
  lucy_volume_free(img);
  lucy_volume_free(psf);
}

static void test_deconvolve_tiled(void) {
  const size_t shape[3] = {8, 48, 44}, pshape[3] = {5, 5, 5};
  LucyVolume *img = volume(shape, 9, 0), *psf = NULL;
  g_assert_cmpint(lucy_volume_new(pshape, &psf), ==, LUCY_OK);
  for (size_t z = 0; z < 5; z++)
    for (size_t y = 0; y < 5; y++)
      for (size_t x = 0; x < 5; x++) {
        const double r2 = (z - 2.0) * (z - 2.0) + (y - 2.0) * (y - 2.0) + (x - 2.0) * (x - 2.0);
        psf->data[(z * 5 + y) * 5 + x] = (float)exp(-r2 / 2.0);
      }
  for (int method = 0; method < 2; method++) {
    LucyDeconOptions o;
    lucy_decon_options_default(&o);
    o.method = (LucyDeconMethod)method;
    o.iterations = 10;
    o.threads = 1;
    LucyVolume *ref = NULL, *tiled = NULL;
    g_assert_cmpint(lucy_deconvolve(img, psf, &o, &ref, NULL), ==, LUCY_OK);
    o.strategy = LUCY_STRATEGY_TILED;
    o.tile[0] = 20;
    o.tile[1] = 16;
    int done = 0;
    g_assert_cmpint(lucy_deconvolve(img, psf, &o, &tiled, &done), ==, LUCY_OK);
    g_assert_cmpint(done, ==, 10);
    const double d = max_rel_diff(tiled, ref);
    double num = 0, den = 0;
    for (size_t i = 0; i < lucy_shape_count(shape); i++) {
      num += fabs((double)tiled->data[i] - ref->data[i]);
      den += fabs((double)ref->data[i]);
    }
    g_test_message("tiled %s deconvolution (3x3 tiles of 20x16, halo 5): max error %.3g, "
                   "mean relative error %.3g vs untiled", lucy_decon_method_name(o.method), d,
                   num / den);
    g_assert_cmpfloat(num / den, <, 0.05);
    lucy_volume_free(ref);
    lucy_volume_free(tiled);
  }
  lucy_volume_free(img);
  lucy_volume_free(psf);
}

/* Low-memory equals in-memory to float precision: the OTF's z-DFT done in float next to
 * FFTW's, and exact box-sum weights next to FFT-made ones, are the only differences. Each case
 * also measures how far in-memory moves itself when the image moves by one float step: the
 * low-memory difference is of that size (RL-TV, whose normalised gradients amplify rounding in
 * flat regions, is held to a few times it). */
static void test_low_memory_matches(void) {
  const size_t shape[3] = {8, 24, 22}, pshape[3] = {4, 5, 7}; /* even PSF z: origin 2 or 1 */
  LucyVolume *img = volume(shape, 11, 0), *psf = volume(pshape, 12, 1);
  for (int method = 0; method < 3; method++)
    for (int boundary = 0; boundary < 2; boundary++)
      for (int accel = 0; accel < 2; accel++)
        for (int origin = 0; origin < 2; origin++) {
          if (method == LUCY_DECON_WIENER && accel) continue;
          LucyDeconOptions o;
          lucy_decon_options_default(&o);
          o.method = (LucyDeconMethod)method;
          o.boundary = (LucyBoundary)boundary;
          o.accelerate = accel;
          o.origin = (LucyOrigin)origin;
          o.iterations = 20;
          o.threads = 1; /* tiny problems: no threads to wait for under a loaded meson test */
          o.strategy = LUCY_STRATEGY_IN_MEMORY;
          LucyVolume *in = NULL, *low = NULL;
          int done_in = 0, done_low = 0;
          g_assert_cmpint(lucy_deconvolve(img, psf, &o, &in, &done_in), ==, LUCY_OK);
          o.strategy = LUCY_STRATEGY_LOW_MEMORY;
          g_assert_cmpint(lucy_deconvolve(img, psf, &o, &low, &done_low), ==, LUCY_OK);
          g_assert_cmpint(done_low, ==, done_in);
          const double d = max_rel_diff(low, in);
          /* The same in-memory run on an image one float step away in every voxel: how much
           * float rounding alone moves this result. */
          LucyVolume *nudged = volume(shape, 11, 0), *in2 = NULL;
          for (size_t i = 0; i < lucy_shape_count(shape); i++)
            nudged->data[i] = nextafterf(nudged->data[i], (i & 1) ? 2.0f : 0.0f);
          o.strategy = LUCY_STRATEGY_IN_MEMORY;
          g_assert_cmpint(lucy_deconvolve(nudged, psf, &o, &in2, NULL), ==, LUCY_OK);
          const double d_ulp = max_rel_diff(in2, in);
          g_test_message("low-memory vs in-memory %s %s%s origin %d, 20 iterations: %.3g "
                         "(in-memory, image moved by 1 ulp: %.3g)",
                         lucy_decon_method_name(o.method), lucy_boundary_name(o.boundary),
                         accel ? " accelerated" : "", origin, d, d_ulp);
          lucy_volume_free(nudged);
          lucy_volume_free(in2);
          /* RL-TV's normalised gradients amplify rounding in flat regions: there the bound is
           * a few times what one ulp of input moves in-memory's own result. */
          const double tol = method == LUCY_DECON_WIENER ? 1e-5
                             : method == LUCY_DECON_RLTV ? fmax(1e-4, 5.0 * d_ulp)
                                                         : 1e-4;
          g_assert_cmpfloat(d, <=, tol);
          lucy_volume_free(in);
          lucy_volume_free(low);
        }
  lucy_volume_free(img);
  lucy_volume_free(psf);
}

static void plan_request(LucyMemoryRequest *req, LucyMemoryOp op, const size_t shape[3],
                         const size_t pshape[3]) {
  lucy_memory_request_default(req);
  req->op = op;
  memcpy(req->image_shape, shape, 3 * sizeof(size_t));
  memcpy(req->psf_shape, pshape, 3 * sizeof(size_t));
}

/* Auto: in memory when it fits, low memory when only that fits (before tiles), tiles below;
 * the one-shot functions and the plans follow the choice, and the measured peak is the
 * predicted one. */
static void test_auto_low_memory(void) {
  const size_t shape[3] = {8, 40, 36}, pshape[3] = {3, 7, 5};
  LucyVolume *img = volume(shape, 13, 0), *psf = volume(pshape, 14, 1);
  for (int op = 0; op < 2; op++) {
    LucyMemoryRequest req;
    plan_request(&req, op ? LUCY_MEMORY_DECONVOLVE : LUCY_MEMORY_CONVOLVE, shape, pshape);
    req.strategy = LUCY_STRATEGY_IN_MEMORY;
    LucyMemoryPlan in, low, mp;
    g_assert_cmpint(lucy_memory_plan(&req, &in), ==, LUCY_OK);
    req.strategy = LUCY_STRATEGY_LOW_MEMORY;
    g_assert_cmpint(lucy_memory_plan(&req, &low), ==, LUCY_OK);
    g_assert_cmpuint(low.peak_device_bytes, <, in.peak_device_bytes);
    g_assert_cmpuint(in.low_memory_device_bytes, ==, low.peak_device_bytes);
    g_assert_cmpuint(low.in_memory_device_bytes, ==, in.peak_device_bytes);
    req.strategy = LUCY_STRATEGY_AUTO;
    const size_t budgets[3] = {in.peak_device_bytes, in.peak_device_bytes - 1,
                               low.peak_device_bytes};
    const LucyStrategy want[3] = {LUCY_STRATEGY_IN_MEMORY, LUCY_STRATEGY_LOW_MEMORY,
                                  LUCY_STRATEGY_LOW_MEMORY};
    for (int b = 0; b < 3; b++) {
      req.free_bytes = budgets[b];
      g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
      g_test_message("%s auto under %zu bytes: %s (%s)", op ? "deconvolve" : "convolve",
                     budgets[b], lucy_strategy_name(mp.strategy), mp.note);
      g_assert_cmpint(mp.strategy, ==, want[b]);
      g_assert_true(mp.fits);
    }
    /* One byte less than low-memory: tiles. */
    req.free_bytes = low.peak_device_bytes - 1;
    g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
    g_assert_cmpint(mp.strategy, ==, LUCY_STRATEGY_TILED);
    g_assert_cmpuint(mp.peak_device_bytes, <, low.peak_device_bytes);
    /* Forced in-memory under the low-memory budget: the error names low-memory and numbers. */
    req.strategy = LUCY_STRATEGY_IN_MEMORY;
    req.free_bytes = low.peak_device_bytes;
    g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_ERR_DEVICE_MEMORY);
    g_assert_false(mp.fits);
    g_test_message("%s", lucy_error_message());
    char *text = g_strdup_printf("in-memory needs %zu bytes of device memory, %zu free; the "
                                 "low-memory strategy would fit (%zu bytes)",
                                 in.peak_device_bytes, low.peak_device_bytes,
                                 low.peak_device_bytes);
    g_assert_cmpstr(lucy_error_message(), ==, text);
    g_free(text);

    /* The one-shot functions under that budget: low memory, its predicted peak, the same
     * result; and plans with the same limit choose low memory too. */
    LucyDevice *dev = new_cpu();
    LucyVolume *ref = NULL, *got = NULL;
    if (op == 0) {
      LucyConvOptions o;
      lucy_conv_options_default(&o);
      o.threads = 2;
      g_assert_cmpint(lucy_convolve(img, psf, &o, &ref), ==, LUCY_OK);
      o.device = dev;
      o.memory_limit_bytes = low.peak_device_bytes;
      g_assert_cmpint(lucy_convolve(img, psf, &o, &got), ==, LUCY_OK);
      g_assert_cmpuint(peak(dev), ==, low.peak_device_bytes);
      g_assert_cmpfloat(max_rel_diff(got, ref), <=, 1e-5);
      LucyConvPlan *plan = NULL;
      g_assert_cmpint(lucy_conv_plan_new(shape, psf, &o, &plan), ==, LUCY_OK);
      g_assert_cmpint(lucy_conv_plan_strategy(plan), ==, LUCY_STRATEGY_LOW_MEMORY);
      lucy_conv_plan_free(plan);
      o.memory_limit_bytes = in.peak_device_bytes;
      g_assert_cmpint(lucy_conv_plan_new(shape, psf, &o, &plan), ==, LUCY_OK);
      g_assert_cmpint(lucy_conv_plan_strategy(plan), ==, LUCY_STRATEGY_IN_MEMORY);
      lucy_conv_plan_free(plan);
    } else {
      LucyDeconOptions o;
      lucy_decon_options_default(&o);
      o.threads = 2;
      o.iterations = 10;
      g_assert_cmpint(lucy_deconvolve(img, psf, &o, &ref, NULL), ==, LUCY_OK);
      o.device = dev;
      o.memory_limit_bytes = low.peak_device_bytes;
      g_assert_cmpint(lucy_deconvolve(img, psf, &o, &got, NULL), ==, LUCY_OK);
      g_assert_cmpuint(peak(dev), ==, low.peak_device_bytes);
      g_assert_cmpfloat(max_rel_diff(got, ref), <=, 1e-4);
      LucyDeconPlan *plan = NULL;
      g_assert_cmpint(lucy_decon_plan_new(shape, NULL, psf, &o, &plan), ==, LUCY_OK);
      g_assert_cmpint(lucy_decon_plan_strategy(plan), ==, LUCY_STRATEGY_LOW_MEMORY);
      lucy_decon_plan_free(plan);
      o.memory_limit_bytes = in.peak_device_bytes;
      g_assert_cmpint(lucy_decon_plan_new(shape, NULL, psf, &o, &plan), ==, LUCY_OK);
      g_assert_cmpint(lucy_decon_plan_strategy(plan), ==, LUCY_STRATEGY_IN_MEMORY);
      lucy_decon_plan_free(plan);
    }
    lucy_volume_free(ref);
    lucy_volume_free(got);
    lucy_device_unref(dev);
  }
  lucy_volume_free(img);
  lucy_volume_free(psf);
}

/* The next 2,3,5,7-smooth size (what FFT plans pad to), written here again so the expected
 * work ratios do not come from the planner's own arithmetic. */
static size_t smooth_size(size_t n) {
  for (size_t m = n;; m++) {
    size_t k = m;
    for (size_t p = 2; p <= 7; p++)
      while (k % p == 0) k /= p;
    if (k == 1) return m;
  }
}

static size_t ceil_div(size_t a, size_t b) { return (a + b - 1) / b; }

/* The work ratio: 1 untiled; for tiles, tiles x the tile plan's padded voxels over the untiled
 * plan's, here worked out from the shapes (convolution `same`: untiled FFT n + m/2 per axis,
 * each tile a `valid` convolution of tile + m - 1; RL noncirculant: untiled n + m - 1, each
 * tile's block tile + 2 m (clipped to n) padded by m - 1). */
static void test_work_ratio(void) {
  LucyMemoryRequest req;
  LucyMemoryPlan mp;
  for (int op = 0; op < 2; op++)
    for (LucyStrategy s = LUCY_STRATEGY_AUTO; s <= LUCY_STRATEGY_CPU; s++) {
      if (s == LUCY_STRATEGY_TILED) continue;
      plan_request(&req, op ? LUCY_MEMORY_DECONVOLVE : LUCY_MEMORY_CONVOLVE, img_shape,
                   psf_shape);
      req.strategy = s;
      g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
      g_assert_cmpfloat(mp.tiled_work_ratio, ==, 1.0);
    }

  /* Convolution 6x21x26 (*) 3x5x4 `same`, tiles of 7x6: untiled FFT 7x24x28; 3 x 5 tiles,
   * blocks 8x11x9, FFT 8x12x9: 15 * 864 / 4704 = 2.755. */
  plan_request(&req, LUCY_MEMORY_CONVOLVE, img_shape, psf_shape);
  req.strategy = LUCY_STRATEGY_TILED;
  req.tile[0] = 7;
  req.tile[1] = 6;
  g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
  double untiled = 1.0, tile = 1.0;
  const size_t t[3] = {img_shape[0], 7, 6};
  for (int a = 0; a < 3; a++) {
    untiled *= (double)smooth_size(img_shape[a] + psf_shape[a] / 2);
    tile *= (double)(smooth_size(t[a] + psf_shape[a] - 1) * ceil_div(img_shape[a], t[a]));
  }
  g_test_message("convolve 6x21x26 (*) 3x5x4 in 7x6 tiles: work ratio %.4f (expected %.4f)",
                 mp.tiled_work_ratio, tile / untiled);
  g_assert_cmpfloat(fabs(tile / untiled - 15.0 * 864.0 / 4704.0), <, 1e-12);
  g_assert_cmpfloat(fabs(mp.tiled_work_ratio - tile / untiled), <, 1e-12);
  g_assert_nonnull(strstr(mp.note, "2.755x the untiled FFT work"));

  /* RL noncirculant 8x48x44 (*) 5x5x5 in 20x16 tiles: untiled 12x54x48; 3 x 3 tiles, blocks
   * 8x30x26 (z is not tiled: no halo), FFT 12x35x30: 9 * 12600 / 31104 = 3.646. */
  const size_t dshape[3] = {8, 48, 44}, dpsf[3] = {5, 5, 5}, dt[3] = {8, 20, 16};
  plan_request(&req, LUCY_MEMORY_DECONVOLVE, dshape, dpsf);
  req.strategy = LUCY_STRATEGY_TILED;
  req.tile[0] = 20;
  req.tile[1] = 16;
  g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
  untiled = tile = 1.0;
  for (int a = 0; a < 3; a++) {
    const size_t halo = a ? dpsf[a] : 0;
    const size_t block = MIN(dshape[a], dt[a] + 2 * halo);
    untiled *= (double)smooth_size(dshape[a] + dpsf[a] - 1);
    tile *= (double)(smooth_size(block + dpsf[a] - 1) * ceil_div(dshape[a], dt[a]));
  }
  g_test_message("RL 8x48x44 (*) 5x5x5 in 20x16 tiles: work ratio %.4f (expected %.4f)",
                 mp.tiled_work_ratio, tile / untiled);
  g_assert_cmpfloat(fabs(tile / untiled - 9.0 * 12600.0 / 31104.0), <, 1e-12);
  g_assert_cmpfloat(fabs(mp.tiled_work_ratio - tile / untiled), <, 1e-12);
}

/* The least budget an AUTO refusal names ("tiles within it fit from B bytes"). */
static size_t named_budget(const char *message) {
  const char *at = strstr(message, "fit from ");
  g_assert_nonnull(at);
  size_t b = 0;
  g_assert_cmpint(sscanf(at, "fit from %zu bytes", &b), ==, 1);
  return b;
}

/* AUTO on the CPU refuses tiles whose work is over the limit: RL 16x40x40 (*) 9x9x9 under
 * 300 kB used to run 1600 tiles of 1x1 (24x27x27 each against 24x48x48 untiled: 506.25x).
 * The planner, a plan and the one-shot function all refuse with the same numbers; the budget
 * they name runs (tiles within the limit, the predicted peak measured); forcing tiles still
 * plans the 1x1 tiles. */
static void test_auto_work_limit(void) {
  const size_t shape[3] = {16, 40, 40}, pshape[3] = {9, 9, 9};
  LucyMemoryRequest req;
  plan_request(&req, LUCY_MEMORY_DECONVOLVE, shape, pshape);
  req.free_bytes = 300000;
  LucyMemoryPlan mp;
  g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_ERR_DEVICE_MEMORY);
  const char *msg = lucy_error_message();
  g_test_message("auto under 300000 bytes: %s", msg);
  g_assert_false(mp.fits);
  g_assert_cmpint(mp.strategy, ==, LUCY_STRATEGY_TILED);
  g_assert_cmpfloat(mp.tiled_work_ratio, ==, 1600.0 * 27 * 27 / (48.0 * 48.0));
  for (const char *const *k = (const char *const[]){"300000 bytes", "40x40 tiles of 1x1",
                                                   "506.2x", "limit of 16x", "--strategy tiled",
                                                   NULL};
       *k; k++)
    g_assert_nonnull(strstr(msg, *k));
  g_assert_cmpstr(mp.note, ==, msg);
  const size_t least = named_budget(msg);
  g_assert_cmpuint(least, >, 300000);
  g_assert_cmpuint(least, <, mp.low_memory_device_bytes);

  /* A plan and the one-shot function under that budget refuse with the same numbers. */
  LucyVolume *img = volume(shape, 15, 0), *psf = volume(pshape, 16, 1), *out = NULL;
  LucyDevice *dev = new_cpu();
  LucyDeconOptions o;
  lucy_decon_options_default(&o);
  o.iterations = 3;
  o.threads = 1;
  o.device = dev;
  o.memory_limit_bytes = 300000;
  LucyDeconPlan *plan = NULL;
  g_assert_cmpint(lucy_decon_plan_new(shape, NULL, psf, &o, &plan), ==, LUCY_ERR_DEVICE_MEMORY);
  g_assert_null(plan);
  g_assert_cmpuint(named_budget(lucy_error_message()), ==, least);
  g_assert_cmpint(lucy_deconvolve(img, psf, &o, &out, NULL), ==, LUCY_ERR_DEVICE_MEMORY);
  g_assert_null(out);
  g_assert_cmpuint(named_budget(lucy_error_message()), ==, least);
  g_assert_cmpuint(peak(dev), ==, 0); /* nothing was allocated */

  /* The named budget runs: tiles within the limit, at the predicted peak. */
  req.free_bytes = least;
  g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
  g_test_message("auto under %zu bytes: %s", least, mp.note);
  g_assert_cmpint(mp.strategy, ==, LUCY_STRATEGY_TILED);
  g_assert_cmpfloat(mp.tiled_work_ratio, <=, LUCY_TILED_WORK_LIMIT_CPU);
  g_assert_cmpuint(mp.peak_device_bytes, <=, least);
  o.memory_limit_bytes = least;
  g_assert_cmpint(lucy_deconvolve(img, psf, &o, &out, NULL), ==, LUCY_OK);
  g_assert_cmpuint(peak(dev), ==, mp.peak_device_bytes);
  lucy_volume_free(out);
  req.free_bytes = least - 1; /* ... and it is the least */
  g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_ERR_DEVICE_MEMORY);

  /* Forced tiles have no limit: the same 1x1 tiles, the ratio in the note. */
  req.free_bytes = 300000;
  req.strategy = LUCY_STRATEGY_TILED;
  g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
  g_test_message("forced tiled under 300000 bytes: %s", mp.note);
  g_assert_cmpuint(mp.tiles[1] * mp.tiles[2], ==, 1600);
  g_assert_cmpuint(mp.tile_shape[1], ==, 1);
  g_assert_nonnull(strstr(mp.note, "506.2x the untiled FFT work"));
  /* ... and so do explicit tiles under auto */
  req.strategy = LUCY_STRATEGY_AUTO;
  req.tile[0] = req.tile[1] = 1;
  g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
  g_assert_cmpuint(mp.tiles[1] * mp.tiles[2], ==, 1600);
  g_assert_cmpfloat(mp.tiled_work_ratio, >, LUCY_TILED_WORK_LIMIT_CPU);
  lucy_device_unref(dev);
  lucy_volume_free(img);
  lucy_volume_free(psf);
}

/* The planner pads a noncirculant RL domain of 2^32 elements or more to an even x, as the
 * plan does (cuFFT's 64-bit planner needs one); circular keeps the image's shape. */
static void test_even_x_domain(void) {
  const size_t shape[3] = {1000, 2048, 2048}, pshape[3] = {64, 128, 128};
  LucyMemoryRequest req;
  LucyMemoryPlan mp;
  plan_request(&req, LUCY_MEMORY_DECONVOLVE, shape, pshape);
  g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
  g_assert_cmpuint(mp.padded_shape[0], ==, 1080);
  g_assert_cmpuint(mp.padded_shape[1], ==, 2187);
  g_assert_cmpuint(mp.padded_shape[2], ==, 2240);
  const size_t odd[3] = {1024, 2048, 2187};
  plan_request(&req, LUCY_MEMORY_DECONVOLVE, odd, pshape);
  req.boundary = LUCY_BOUNDARY_CIRCULAR;
  g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
  g_assert_cmpuint(mp.padded_shape[2], ==, 2187);
  /* a small noncirculant domain keeps an odd x: 16+9-1 = 24, 40+8 = 48, 35+8 = 43 -> 45 */
  const size_t small[3] = {16, 40, 35}, psmall[3] = {9, 9, 9};
  plan_request(&req, LUCY_MEMORY_DECONVOLVE, small, psmall);
  g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
  g_assert_cmpuint(mp.padded_shape[2], ==, 45);
}

static void test_cuda_planning(void) {
  /* The CUDA prediction needs no device: the budget rules hold (3 P convolution, 5 P RL). */
  LucyMemoryRequest req;
  lucy_memory_request_default(&req);
  const size_t shape[3] = {128, 512, 512}, pshape[3] = {64, 128, 128};
  memcpy(req.image_shape, shape, sizeof shape);
  memcpy(req.psf_shape, pshape, sizeof pshape);
  req.device = LUCY_DEVICE_CUDA;
  LucyMemoryPlan mp;
  g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
  g_test_message("CUDA convolve 128x512x512 * 64x128x128 same: %zu bytes = %.2f P", 
                 mp.peak_device_bytes, (double)mp.peak_device_bytes / mp.padded_bytes);
  /* 2 P of buffers + the cuFFT work area (estimated as one complex array, about P, without a
   * GPU) + the staging buffer (<= 8 MiB) + 16 KiB of reduction scratch. */
  g_assert_cmpuint(mp.peak_device_bytes, <=, 3 * mp.padded_bytes + ((size_t)8 << 20) + 16384);
  /* Twice too big (the "2x larger than free GPU memory"): auto tiles, `same`
   * convolution and RL noncirculant, within the CUDA work limit (low-memory needs more than
   * half of in-memory too). */
  for (int op = 0; op < 2; op++) {
    plan_request(&req, op ? LUCY_MEMORY_DECONVOLVE : LUCY_MEMORY_CONVOLVE, shape, pshape);
    req.device = LUCY_DEVICE_CUDA;
    g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
    req.free_bytes = mp.peak_device_bytes / 2;
    g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
    g_test_message("CUDA %s 128x512x512 * 64x128x128 under %zu bytes: %s",
                   op ? "RL" : "convolve", req.free_bytes, mp.note);
    g_assert_cmpint(mp.strategy, ==, LUCY_STRATEGY_TILED);
    g_assert_cmpint(mp.device, ==, LUCY_DEVICE_CUDA);
    g_assert_cmpuint(mp.peak_device_bytes, <=, req.free_bytes);
    g_assert_cmpfloat(mp.tiled_work_ratio, >, 1.0);
    g_assert_cmpfloat(mp.tiled_work_ratio, <=, LUCY_TILED_WORK_LIMIT_CUDA);
  }
  /* Tiles that fit only over the CUDA limit: the CPU instead (16x40x40 (*) 9x9x9 RL, where
   * 450 kB of GPU would take 1x1 tiles, 506x the work, with the no-driver work-area bound). */
  const size_t small[3] = {16, 40, 40}, spsf[3] = {9, 9, 9};
  plan_request(&req, LUCY_MEMORY_DECONVOLVE, small, spsf);
  req.device = LUCY_DEVICE_CUDA;
  req.free_bytes = 450000;
  g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
  g_test_message("CUDA RL 16x40x40 * 9x9x9 under 450000 bytes: %s", mp.note);
  g_assert_true(mp.strategy == LUCY_STRATEGY_CPU ||
                mp.tiled_work_ratio <= LUCY_TILED_WORK_LIMIT_CUDA);
  if (!lucy_cuda_available(NULL)) {
    g_assert_cmpint(mp.strategy, ==, LUCY_STRATEGY_CPU);
    g_assert_nonnull(strstr(mp.note, "506.2x the untiled FFT work (over 64x"));
  }
  if (mp.strategy == LUCY_STRATEGY_CPU) g_assert_cmpfloat(mp.tiled_work_ratio, ==, 1.0);

  /* Without a driver cuFFT cannot plan: the work area is then the bound of one complex array
   * at the shape, and not "exact". With a GPU it is cuFFT's own figure for the plans. */
  int exact = -1;
  const size_t L[3] = {96, 320, 320};
  const size_t work = lucy_cuda_fft_work_estimate(L, &exact);
  g_assert_cmpint(exact, ==, lucy_cuda_available(NULL) ? 1 : 0);
  if (!lucy_cuda_available(NULL)) g_assert_cmpuint(work, ==, (size_t)96 * 320 * 161 * 8);
  g_assert_cmpuint(work, >, 0);

  /* The budgets (convolution <= 3 P, RL <= 5 P) on the CUDA device at
   * 64x256x256 (*) 31x63x63 and 128x512x512 (*) 64x128x128: low-memory meets them with the
   * cuFFT work area at its no-driver bound (one complex array, ~1 P); in-memory RL does not. */
  const size_t shapes[2][2][3] = {{{64, 256, 256}, {31, 63, 63}}, {{128, 512, 512}, {64, 128, 128}}};
  for (int c = 0; c < 2; c++)
    for (int op = 0; op < 2; op++) {
      plan_request(&req, op ? LUCY_MEMORY_DECONVOLVE : LUCY_MEMORY_CONVOLVE, shapes[c][0],
                   shapes[c][1]);
      req.device = LUCY_DEVICE_CUDA;
      LucyMemoryPlan in, low;
      req.strategy = LUCY_STRATEGY_IN_MEMORY;
      g_assert_cmpint(lucy_memory_plan(&req, &in), ==, LUCY_OK);
      req.strategy = LUCY_STRATEGY_LOW_MEMORY;
      g_assert_cmpint(lucy_memory_plan(&req, &low), ==, LUCY_OK);
      const double P = (double)in.padded_bytes;
      g_test_message("CUDA %s %zux%zux%zu * %zux%zux%zu: in-memory %.2f P, low-memory %.2f P "
                     "(P = %zu bytes)", op ? "RL noncirculant" : "convolve same",
                     shapes[c][0][0], shapes[c][0][1], shapes[c][0][2], shapes[c][1][0],
                     shapes[c][1][1], shapes[c][1][2], in.peak_device_bytes / P,
                     low.peak_device_bytes / P, in.padded_bytes);
      g_assert_cmpuint(low.peak_device_bytes, <=, (op ? 5 : 3) * in.padded_bytes);
      g_assert_cmpuint(low.peak_device_bytes + in.padded_bytes / 2, <, in.peak_device_bytes);
      /* Auto against a budget between the two: low memory. */
      req.strategy = LUCY_STRATEGY_AUTO;
      req.free_bytes = (in.peak_device_bytes + low.peak_device_bytes) / 2;
      g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
      g_assert_cmpint(mp.strategy, ==, LUCY_STRATEGY_LOW_MEMORY);
      g_assert_cmpint(mp.device, ==, LUCY_DEVICE_CUDA);
    }
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/memory/names", test_names);
  g_test_add_func("/memory/convolve-exact", test_convolve_exact);
  g_test_add_func("/memory/deconvolve-exact", test_deconvolve_exact);
  g_test_add_func("/memory/convolve-tiled", test_convolve_tiled);
  g_test_add_func("/memory/convolve-auto-limit", test_convolve_auto_limit);
  g_test_add_func("/memory/deconvolve-tiled", test_deconvolve_tiled);
  g_test_add_func("/memory/low-memory-matches", test_low_memory_matches);
  g_test_add_func("/memory/auto-low-memory", test_auto_low_memory);
  g_test_add_func("/memory/work-ratio", test_work_ratio);
  g_test_add_func("/memory/auto-work-limit", test_auto_work_limit);
  g_test_add_func("/memory/even-x-domain", test_even_x_domain);
  g_test_add_func("/memory/cuda-planning", test_cuda_planning);
  return g_test_run();
}
