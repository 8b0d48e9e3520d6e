/* The gpu suite: convolution and deconvolution on the CUDA device, in memory and low memory,
 * against the CPU device (relative 1e-5 for convolution against in memory; after 50 RL
 * iterations, against the same strategy within a rounding bound), the adjoint identity, the
 * planner against the measured peak (Lucy's allocation counter, exact, and cudaMemGetInfo,
 * within 5 %), tiled against untiled, and an allocation larger than the card that fails with
 * LUCY_ERR_DEVICE_MEMORY and leaves the process usable.
 *
 * Without a CUDA device (a build without CUDA, or no GPU or driver) it exits 77 (skipped) and
 * says why. Run it under compute-sanitizer on a GPU machine:
 *   compute-sanitizer --tool memcheck build/tests/test-gpu */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lucy/lucy.h"
#include "lucy/memory.h"

static LucyDevice *gpu, *cpu;

static LucyDevice *new_device(LucyDeviceKind kind) {
  LucyDeviceOptions o;
  lucy_device_options_default(&o);
  o.kind = kind;
  o.use_wisdom = 0;
  LucyDevice *dev = NULL;
  LucyStatus st = lucy_device_new(&o, &dev);
  if (st) g_error("cannot create the %s device: %s", kind == LUCY_DEVICE_CUDA ? "CUDA" : "CPU",
                  lucy_error_message());
  return dev;
}

static LucyVolume *random_volume(const size_t shape[3], guint32 seed, double lo) {
  LucyVolume *v = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &v), ==, LUCY_OK);
  GRand *r = g_rand_new_with_seed(seed);
  for (size_t i = 0; i < lucy_shape_count(shape); i++) v->data[i] = (float)g_rand_double_range(r, lo, 1.0);
  g_rand_free(r);
  return v;
}

static LucyVolume *gaussian_psf(const size_t shape[3], double sigma) {
  LucyVolume *v = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &v), ==, LUCY_OK);
  for (size_t z = 0; z < shape[0]; z++)
    for (size_t y = 0; y < shape[1]; y++)
      for (size_t x = 0; x < shape[2]; x++) {
        const double dz = z - shape[0] / 2.0 + 0.5, dy = y - shape[1] / 2.0 + 0.5;
        const double dx = x - shape[2] / 2.0 + 0.5;
        v->data[(z * shape[1] + y) * shape[2] + x] =
            (float)exp(-(dz * dz + dy * dy + dx * dx) / (2 * sigma * sigma));
      }
  return v;
}

/* max |a - b| / max |b| */
static double rel_diff(const LucyVolume *a, const LucyVolume *b) {
  g_assert_cmpmem(a->shape, sizeof a->shape, b->shape, sizeof b->shape);
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < lucy_shape_count(a->shape); i++) {
    g_assert_true(isfinite(a->data[i]));
    num = fmax(num, fabs((double)a->data[i] - b->data[i]));
    den = fmax(den, fabs((double)b->data[i]));
  }
  g_assert_cmpfloat(den, >, 0.0); /* never silent zeros */
  return num / den;
}

static void test_convolve_parity(void) {
  const size_t shapes[][2][3] = {{{17, 40, 33}, {5, 7, 6}}, {{8, 64, 64}, {9, 9, 9}},
                                 {{1, 50, 61}, {1, 11, 4}}};
  for (size_t s = 0; s < G_N_ELEMENTS(shapes); s++) {
    LucyVolume *img = random_volume(shapes[s][0], 10 + s, 0.0);
    LucyVolume *psf = random_volume(shapes[s][1], 20 + s, 0.1);
    for (int origin = 0; origin < 2; origin++)
      for (int mode = 0; mode < 4; mode++)
      for (int low = 0; low < 2; low++) {
        LucyConvOptions o;
        lucy_conv_options_default(&o);
        o.mode = (LucyPadMode)mode;
        o.origin = (LucyOrigin)origin;
        o.strategy = LUCY_STRATEGY_IN_MEMORY;
        LucyVolume *a = NULL, *b = NULL;
        /* valid needs the PSF no larger than the image: the 9x9x9 PSF of an 8-plane image
         * is refused on both devices alike */
        int refused = 0;
        for (int ax = 0; ax < 3; ax++)
          refused |= o.mode == LUCY_PAD_VALID && shapes[s][1][ax] > shapes[s][0][ax];
        o.device = cpu;
        g_assert_cmpint(lucy_convolve(img, psf, &o, &a), ==,
                        refused ? LUCY_ERR_INVALID_ARGUMENT : LUCY_OK);
        o.device = gpu;
        o.strategy = low ? LUCY_STRATEGY_LOW_MEMORY : LUCY_STRATEGY_IN_MEMORY;
        if (refused) {
          g_assert_cmpint(lucy_convolve(img, psf, &o, &b), ==, LUCY_ERR_INVALID_ARGUMENT);
          g_assert_null(b);
          continue;
        }
        if (lucy_convolve(img, psf, &o, &b)) g_error("%s", lucy_error_message());
        const double d = rel_diff(b, a);
        g_test_message("convolve %s origin %d shape %zu: GPU %s vs CPU %.3g",
                       lucy_pad_mode_name(o.mode), origin, s, lucy_strategy_name(o.strategy), d);
        g_assert_cmpfloat(d, <, 1e-5);
        lucy_volume_free(a);
        lucy_volume_free(b);
      }
    lucy_volume_free(img);
    lucy_volume_free(psf);
  }
}

static double dot(const float *a, const float *b, size_t n) {
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += (double)a[i] * b[i];
  return s;
}

static void test_adjoint(void) {
  const size_t ishape[3] = {9, 30, 28}, pshape[3] = {4, 5, 7};
  LucyVolume *psf = random_volume(pshape, 3, 0.1);
  for (int mode = 0; mode < 8; mode++) {
    LucyConvOptions o;
    lucy_conv_options_default(&o);
    o.mode = (LucyPadMode)(mode % 4);
    o.strategy = mode < 4 ? LUCY_STRATEGY_IN_MEMORY : LUCY_STRATEGY_LOW_MEMORY;
    o.device = gpu;
    LucyConvPlan *plan = NULL;
    g_assert_cmpint(lucy_conv_plan_new(ishape, psf, &o, &plan), ==, LUCY_OK);
    g_assert_cmpint(lucy_conv_plan_strategy(plan), ==, o.strategy);
    size_t oshape[3];
    lucy_conv_output_shape(plan, oshape);
    LucyVolume *x = random_volume(ishape, 4, -1.0), *y = random_volume(oshape, 5, -1.0);
    LucyVolume *ax = NULL, *aty = NULL;
    g_assert_cmpint(lucy_volume_new(oshape, &ax), ==, LUCY_OK);
    g_assert_cmpint(lucy_volume_new(ishape, &aty), ==, LUCY_OK);
    g_assert_cmpint(lucy_conv_execute(plan, x->data, ax->data), ==, LUCY_OK);
    g_assert_cmpint(lucy_conv_adjoint(plan, y->data, aty->data), ==, LUCY_OK);
    const double l = dot(ax->data, y->data, lucy_shape_count(oshape));
    const double r = dot(x->data, aty->data, lucy_shape_count(ishape));
    g_test_message("adjoint %s %s: <Ax,y> %.9g <x,A^T y> %.9g", lucy_pad_mode_name(o.mode),
                   lucy_strategy_name(o.strategy), l, r);
    g_assert_cmpfloat(fabs(l - r), <=, 1e-5 * (fabs(l) + 1.0));
    lucy_volume_free(x);
    lucy_volume_free(y);
    lucy_volume_free(ax);
    lucy_volume_free(aty);
    lucy_conv_plan_free(plan);
  }
  lucy_volume_free(psf);
}

/* 50 iterations on a noise image amplify rounding: the CPU's own low-memory and in-memory
 * strategies differ by 1.7e-4 (RL, noncirculant), and 1 ulp moved in the image moves
 * accelerated RL by 1 %. So each GPU strategy is held to the CPU running the same strategy,
 * within 1e-4 (1e-3 accelerated) or five times what 1 ulp of input moves the CPU's in-memory
 * result, whichever is larger (the bound of tests/core/test-memory.c). */
static void test_deconvolve_parity(void) {
  const size_t ishape[3] = {16, 48, 40}, pshape[3] = {7, 9, 9};
  LucyVolume *obj = random_volume(ishape, 6, 0.0), *psf = gaussian_psf(pshape, 1.5);
  LucyVolume *nudged = random_volume(ishape, 6, 0.0);
  for (size_t i = 0; i < lucy_shape_count(ishape); i++)
    nudged->data[i] = nextafterf(nudged->data[i], (i & 1) ? 2.0f : 0.0f);
  for (int method = 0; method < 3; method++)
    for (int boundary = 0; boundary < 2; boundary++)
      for (int accel = 0; accel < 2; accel++) {
        if (method == LUCY_DECON_WIENER && accel) continue;
        LucyDeconOptions o;
        lucy_decon_options_default(&o);
        o.method = (LucyDeconMethod)method;
        o.boundary = (LucyBoundary)boundary;
        o.accelerate = accel;
        o.iterations = 50;
        o.device = cpu;
        LucyVolume *ref[2] = {NULL, NULL}, *moved = NULL;
        int done[2] = {0, 0};
        for (int low = 0; low < 2; low++) {
          o.strategy = low ? LUCY_STRATEGY_LOW_MEMORY : LUCY_STRATEGY_IN_MEMORY;
          g_assert_cmpint(lucy_deconvolve(obj, psf, &o, &ref[low], &done[low]), ==, LUCY_OK);
        }
        o.strategy = LUCY_STRATEGY_IN_MEMORY;
        g_assert_cmpint(lucy_deconvolve(nudged, psf, &o, &moved, NULL), ==, LUCY_OK);
        const double d_ulp = rel_diff(moved, ref[0]);
        lucy_volume_free(moved);
        o.device = gpu;
        for (int low = 0; low < 2; low++) {
          o.strategy = low ? LUCY_STRATEGY_LOW_MEMORY : LUCY_STRATEGY_IN_MEMORY;
          LucyVolume *b = NULL;
          int db = 0;
          if (lucy_deconvolve(obj, psf, &o, &b, &db)) g_error("%s", lucy_error_message());
          g_assert_cmpint(db, ==, done[low]);
          const double d = rel_diff(b, ref[low]), tol = fmax(accel ? 1e-3 : 1e-4, 5.0 * d_ulp);
          g_test_message("deconvolve %s %s%s %s: GPU vs CPU %.3g (bound %.3g; 1 ulp of input "
                         "moves the CPU by %.3g)", lucy_decon_method_name(o.method),
                         lucy_boundary_name(o.boundary), accel ? " accelerated" : "",
                         lucy_strategy_name(o.strategy), d, tol, d_ulp);
          g_assert_cmpfloat(d, <, tol);
          lucy_volume_free(ref[low]);
          lucy_volume_free(b);
        }
      }
  lucy_volume_free(nudged);
  lucy_volume_free(obj);
  lucy_volume_free(psf);
}

static size_t gpu_free(LucyDevice *dev) {
  LucyMemoryInfo mi;
  g_assert_cmpint(lucy_device_memory_info(dev, &mi), ==, LUCY_OK);
  return mi.free_bytes;
}

static void test_planner(void) {
  /* Large enough (P = 345 MB at 140x784x784) that cudaMemGetInfo's granularity (allocations
   * are rounded to 2 MiB pages) and cuFFT's own small allocations stay well inside 5 %. */
  const size_t ishape[3] = {128, 768, 768}, pshape[3] = {16, 32, 32};
  LucyVolume *img = random_volume(ishape, 7, 0.0), *psf = gaussian_psf(pshape, 2.0);
  for (int op = 0; op < 2; op++)
  for (int low = 0; low < 2; low++) {
    LucyDevice *dev = new_device(LUCY_DEVICE_CUDA); /* a fresh peak counter */
    LucyMemoryRequest req;
    lucy_memory_request_default(&req);
    req.op = (LucyMemoryOp)op;
    req.device = LUCY_DEVICE_CUDA;
    req.strategy = low ? LUCY_STRATEGY_LOW_MEMORY : LUCY_STRATEGY_IN_MEMORY;
    memcpy(req.image_shape, ishape, sizeof ishape);
    memcpy(req.psf_shape, pshape, sizeof pshape);
    LucyMemoryPlan mp;
    g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
    const size_t free0 = gpu_free(dev);
    size_t held = 0;
    LucyVolume *out = NULL;
    if (op == 0) {
      LucyConvOptions o;
      lucy_conv_options_default(&o);
      o.device = dev;
      o.strategy = req.strategy;
      LucyConvPlan *plan = NULL;
      g_assert_cmpint(lucy_conv_plan_new(ishape, psf, &o, &plan), ==, LUCY_OK);
      g_assert_cmpint(lucy_volume_new(ishape, &out), ==, LUCY_OK);
      g_assert_cmpint(lucy_conv_execute(plan, img->data, out->data), ==, LUCY_OK);
      held = free0 - gpu_free(dev);
      lucy_conv_plan_free(plan);
    } else {
      LucyDeconOptions o;
      lucy_decon_options_default(&o);
      o.device = dev;
      o.iterations = 3;
      o.strategy = req.strategy;
      LucyDeconPlan *plan = NULL;
      g_assert_cmpint(lucy_decon_plan_new(ishape, NULL, psf, &o, &plan), ==, LUCY_OK);
      g_assert_cmpint(lucy_volume_new(ishape, &out), ==, LUCY_OK);
      g_assert_cmpint(lucy_decon_execute(plan, img->data, out->data, NULL), ==, LUCY_OK);
      held = free0 - gpu_free(dev);
      lucy_decon_plan_free(plan);
    }
    LucyMemoryInfo mi;
    g_assert_cmpint(lucy_device_memory_info(dev, &mi), ==, LUCY_OK);
    const double err = fabs((double)mi.lucy_peak_bytes - (double)mp.peak_device_bytes) /
                       (double)mp.peak_device_bytes;
    const double err_free = fabs((double)held - (double)mp.peak_device_bytes) /
                            (double)mp.peak_device_bytes;
    g_test_message("%s %s: predicted %zu (%.2f P), counter peak %zu (%.3f%%), cudaMemGetInfo "
                   "drop %zu (%.2f%%)", op ? "RL" : "convolve", lucy_strategy_name(req.strategy),
                   mp.peak_device_bytes,
                   (double)mp.peak_device_bytes / mp.padded_bytes, mi.lucy_peak_bytes,
                   100 * err, held, 100 * err_free);
    g_assert_cmpfloat(err, <=, 0.05);
    g_assert_cmpfloat(err_free, <=, 0.05);
    lucy_volume_free(out);
    lucy_device_unref(dev);
  }
  lucy_volume_free(img);
  lucy_volume_free(psf);
}

static void test_tiled(void) {
  const size_t ishape[3] = {12, 96, 80}, pshape[3] = {5, 9, 9};
  LucyVolume *img = random_volume(ishape, 8, 0.0), *psf = gaussian_psf(pshape, 1.5);
  for (int mode = 0; mode < 4; mode++) {
    LucyConvOptions o;
    lucy_conv_options_default(&o);
    o.mode = (LucyPadMode)mode;
    o.device = gpu;
    o.strategy = LUCY_STRATEGY_IN_MEMORY;
    LucyVolume *a = NULL, *b = NULL;
    g_assert_cmpint(lucy_convolve(img, psf, &o, &a), ==, LUCY_OK);
    o.strategy = LUCY_STRATEGY_TILED;
    o.tile[0] = 40;
    o.tile[1] = 33;
    g_assert_cmpint(lucy_convolve(img, psf, &o, &b), ==, LUCY_OK);
    const double d = rel_diff(b, a);
    g_test_message("tiled convolve %s on the GPU: %.3g", lucy_pad_mode_name(o.mode), d);
    g_assert_cmpfloat(d, <, 2e-6);
    lucy_volume_free(a);
    lucy_volume_free(b);
  }
  LucyDeconOptions d;
  lucy_decon_options_default(&d);
  d.device = gpu;
  d.iterations = 20;
  LucyVolume *a = NULL, *b = NULL;
  g_assert_cmpint(lucy_deconvolve(img, psf, &d, &a, NULL), ==, LUCY_OK);
  d.strategy = LUCY_STRATEGY_TILED;
  d.tile[0] = 48;
  d.tile[1] = 40;
  g_assert_cmpint(lucy_deconvolve(img, psf, &d, &b, NULL), ==, LUCY_OK);
  g_test_message("tiled RL on the GPU: max error vs untiled %.3g", rel_diff(b, a));
  lucy_volume_free(a);
  lucy_volume_free(b);
  lucy_volume_free(img);
  lucy_volume_free(psf);
}

static void test_huge_allocation(void) {
  LucyMemoryInfo mi;
  g_assert_cmpint(lucy_device_memory_info(gpu, &mi), ==, LUCY_OK);
  /* 1. A convolution whose FFT buffer alone is larger than the card, forced in memory: the
   * device refuses the FFT plan before cuFFT plans it. */
  const size_t side = (size_t)cbrt((double)mi.total_bytes / 4.0) + 64;
  const size_t ishape[3] = {side, side, side}, pshape[3] = {3, 3, 3};
  LucyVolume *psf = gaussian_psf(pshape, 1.0);
  LucyConvOptions o;
  lucy_conv_options_default(&o);
  o.device = gpu;
  o.strategy = LUCY_STRATEGY_IN_MEMORY;
  LucyConvPlan *plan = NULL;
  LucyStatus st = lucy_conv_plan_new(ishape, psf, &o, &plan);
  g_test_message("plan of %zu^3 on a %zu-byte card: %s: %s", side, mi.total_bytes,
                 lucy_status_name(st), lucy_error_message());
  g_assert_cmpint(st, ==, LUCY_ERR_DEVICE_MEMORY);
  g_assert_null(plan);
  g_assert_nonnull(strstr(lucy_error_message(), "bytes"));
  g_assert_cmpint(lucy_device_memory_info(gpu, &mi), ==, LUCY_OK);
  /* Only cached FFT plans' work areas and the staging buffer may remain. */
  g_test_message("held after the failure: %zu bytes", mi.lucy_bytes);

  /* 2. cudaMalloc itself failing: accelerated RL-TV holds about 9 P-sized buffers (the FFT's
   * work area, OTF, work, observed image, estimate, weights, TV term, previous estimate and
   * step), each of which fits, but not all. x is 2048 (even) and every size 2,3,5,7-smooth:
   * what cuFFT's 64-bit planner needs for a real transform above 2^32 elements. On a fresh
   * device, whose cached FFT plan (and its work area) goes with it. */
  {
    const size_t want_p = mi.total_bytes / 8 + ((size_t)1 << 30); /* P over an eighth */
    const size_t l0 = lucy_fft_good_size(want_p / ((size_t)2048 * 2050 * sizeof(float)) + 1);
    /* + 3 - 1 (the 3x3x3 PSF): FFT l0 x 2048 x 2048 */
    const size_t dshape[3] = {l0 - 2, 2046, 2046};
    LucyDevice *fresh = new_device(LUCY_DEVICE_CUDA);
    LucyDeconOptions d;
    lucy_decon_options_default(&d);
    d.device = fresh;
    d.method = LUCY_DECON_RLTV;
    d.accelerate = 1;
    d.strategy = LUCY_STRATEGY_IN_MEMORY;
    LucyDeconPlan *dp = NULL;
    st = lucy_decon_plan_new(dshape, NULL, psf, &d, &dp);
    g_test_message("accelerated RL-TV plan of %zux%zux%zu (FFT %zux2048x2048): %s: %s",
                   dshape[0], dshape[1], dshape[2], l0, lucy_status_name(st),
                   lucy_error_message());
    g_assert_cmpint(st, ==, LUCY_ERR_DEVICE_MEMORY);
    g_assert_null(dp);
    g_assert_nonnull(strstr(lucy_error_message(), "bytes"));
    LucyMemoryInfo fi;
    g_assert_cmpint(lucy_device_memory_info(fresh, &fi), ==, LUCY_OK);
    g_test_message("held by the fresh device after the failure: %zu bytes", fi.lucy_bytes);
    lucy_device_unref(fresh);
  }
  /* The process and the device are still usable. */
  const size_t small[3] = {8, 32, 32};
  LucyVolume *img = random_volume(small, 9, 0.0), *a = NULL, *b = NULL;
  g_assert_cmpint(lucy_convolve(img, psf, &o, &a), ==, LUCY_OK);
  o.device = cpu;
  g_assert_cmpint(lucy_convolve(img, psf, &o, &b), ==, LUCY_OK);
  g_assert_cmpfloat(rel_diff(a, b), <, 1e-5);
  lucy_volume_free(a);
  lucy_volume_free(b);
  lucy_volume_free(img);
  lucy_volume_free(psf);
}

int main(int argc, char **argv) {
  const char *reason = NULL;
  if (!lucy_cuda_available(&reason)) {
    printf("SKIP: the gpu suite needs a CUDA device: %s\n", reason ? reason : "unavailable");
    return 77;
  }
  g_test_init(&argc, &argv, NULL);
  gpu = new_device(LUCY_DEVICE_CUDA);
  cpu = new_device(LUCY_DEVICE_CPU);
  g_test_add_func("/gpu/convolve-parity", test_convolve_parity);
  g_test_add_func("/gpu/adjoint", test_adjoint);
  g_test_add_func("/gpu/deconvolve-parity", test_deconvolve_parity);
  g_test_add_func("/gpu/planner", test_planner);
  g_test_add_func("/gpu/tiled", test_tiled);
  g_test_add_func("/gpu/huge-allocation", test_huge_allocation);
  const int rc = g_test_run();
  lucy_device_unref(gpu);
  lucy_device_unref(cpu);
  return rc;
}
