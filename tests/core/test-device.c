/* The CPU device: buffers and accounting, embed/extract against naive loops (wrap and
 * accumulation), FFT round trips (in place and out of place), the pruned (box) transforms
 * against the full ones, the plan cache, element-wise kernels (the RL ratio and its
 * I-divergence against log1p in double), memory info, and FFTW wisdom written atomically. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "device-impl.h"
#include "lucy/device.h"

static LucyDevice *new_cpu(int threads) {
  LucyDeviceOptions o;
  lucy_device_options_default(&o);
  o.threads = threads;
  LucyDevice *dev = NULL;
  g_assert_cmpint(lucy_device_new(&o, &dev), ==, LUCY_OK);
  g_assert_nonnull(dev);
  return dev;
}

static size_t held(LucyDevice *dev) {
  LucyMemoryInfo info;
  g_assert_cmpint(lucy_device_memory_info(dev, &info), ==, LUCY_OK);
  return info.lucy_bytes;
}

static void test_options_and_names(void) {
  LucyDeviceOptions o;
  memset(&o, 0x55, sizeof o);
  lucy_device_options_default(&o);
  g_assert_cmpint(o.kind, ==, LUCY_DEVICE_CPU);
  g_assert_cmpint(o.threads, ==, 0);
  g_assert_cmpint(o.planning, ==, LUCY_PLAN_FAST);
  g_assert_cmpint(o.use_wisdom, ==, 1);

  LucyDevice *dev = NULL;
  g_assert_cmpint(lucy_device_new(NULL, &dev), ==, LUCY_OK);
  g_assert_cmpint(lucy_device_kind(dev), ==, LUCY_DEVICE_CPU);
  g_assert_cmpint(lucy_device_threads(dev), ==, (int)g_get_num_processors());
  g_assert_true(g_str_has_prefix(lucy_device_name(dev), "cpu ("));
  lucy_device_unref(dev);

  dev = new_cpu(1);
  g_assert_cmpstr(lucy_device_name(dev), ==, "cpu (1 thread)");
  /* A second reference keeps the device alive past the first unref. */
  g_assert_true(lucy_device_ref(dev) == dev);
  lucy_device_unref(dev);
  g_assert_cmpint(lucy_device_threads(dev), ==, 1);
  lucy_device_unref(dev);

  dev = new_cpu(2);
  g_assert_cmpstr(lucy_device_name(dev), ==, "cpu (2 threads)");
  lucy_device_unref(dev);
  lucy_device_unref(NULL);
}

static void test_cuda_unavailable(void) {
  const char *reason = NULL;
  g_assert_cmpint(lucy_cuda_available(&reason), ==, 0);
  g_assert_nonnull(reason);
  g_assert_nonnull(strstr(reason, "no CUDA device"));
  g_assert_cmpint(lucy_cuda_available(NULL), ==, 0);
  LucyDeviceOptions o;
  lucy_device_options_default(&o);
  o.kind = LUCY_DEVICE_CUDA;
  LucyDevice *dev = (LucyDevice *)&o; /* must be reset to NULL */
  g_assert_cmpint(lucy_device_new(&o, &dev), ==, LUCY_ERR_UNSUPPORTED);
  g_assert_null(dev);
  g_assert_nonnull(strstr(lucy_error_message(), "CUDA"));
}

static void test_accounting(void) {
  LucyDevice *dev = new_cpu(1);
  g_assert_cmpuint(held(dev), ==, 0);
  float *a = NULL, *b = NULL;
  g_assert_cmpint(lucy__dev_alloc(dev, 1000, &a), ==, LUCY_OK);
  g_assert_cmpuint(held(dev), ==, 1000);
  g_assert_cmpint(lucy__dev_alloc(dev, 4096, &b), ==, LUCY_OK);
  g_assert_cmpuint(held(dev), ==, 5096);
  /* Buffers are SIMD aligned and writable over their whole size. */
  g_assert_cmpuint((uintptr_t)a % 16, ==, 0);
  memset(a, 1, 1000);
  memset(b, 1, 4096);
  lucy__dev_release(dev, a);
  g_assert_cmpuint(held(dev), ==, 4096);
  lucy__dev_release(dev, b);
  lucy__dev_release(dev, NULL);
  LucyMemoryInfo info;
  g_assert_cmpint(lucy_device_memory_info(dev, &info), ==, LUCY_OK);
  g_assert_cmpuint(info.lucy_bytes, ==, 0);
  g_assert_cmpuint(info.lucy_peak_bytes, ==, 5096);
  lucy_device_unref(dev);
}

static void test_memory_info(void) {
  LucyDevice *dev = new_cpu(1);
  LucyMemoryInfo info;
  g_assert_cmpint(lucy_device_memory_info(dev, &info), ==, LUCY_OK);
  g_assert_cmpuint(info.total_bytes, >, (size_t)64 << 20);
  g_assert_cmpuint(info.free_bytes, >, 0);
  g_assert_cmpuint(info.free_bytes, <=, info.total_bytes);
  g_assert_cmpuint(info.lucy_bytes, ==, 0);
  g_assert_cmpint(lucy_device_memory_info(NULL, &info), ==, LUCY_ERR_INVALID_ARGUMENT);
  lucy_device_unref(dev);
}

static size_t wrap(ptrdiff_t v, size_t n) {
  ptrdiff_t m = v % (ptrdiff_t)n;
  return (size_t)(m < 0 ? m + (ptrdiff_t)n : m);
}

/* Small integers: sums are exact whatever the order, so embed can be compared exactly. */
static void fill_ints(GRand *rng, float *v, size_t n) {
  for (size_t i = 0; i < n; i++) v[i] = (float)g_rand_int_range(rng, -50, 51);
}

static void check_embed(LucyDevice *dev, GRand *rng, const size_t L[3], const size_t M[3],
                        const ptrdiff_t shift[3]) {
  const size_t row = lucy__padded_row(L[2]), pc = lucy__padded_count(L);
  const size_t mc = M[0] * M[1] * M[2];
  float *src = g_new(float, mc), *naive = g_new0(float, pc), *dst = NULL;
  fill_ints(rng, src, mc);
  g_assert_cmpint(lucy__dev_alloc(dev, pc * sizeof(float), &dst), ==, LUCY_OK);
  for (size_t i = 0; i < pc; i++) dst[i] = 12345.0f; /* embed must clear everything */
  for (size_t z = 0; z < M[0]; z++)
    for (size_t y = 0; y < M[1]; y++)
      for (size_t x = 0; x < M[2]; x++) {
        size_t dz = wrap((ptrdiff_t)z + shift[0], L[0]);
        size_t dy = wrap((ptrdiff_t)y + shift[1], L[1]);
        size_t dx = wrap((ptrdiff_t)x + shift[2], L[2]);
        naive[(dz * L[1] + dy) * row + dx] += src[(z * M[1] + y) * M[2] + x];
      }
  g_assert_cmpint(dev->ops->embed(dev, dst, L, src, M, shift, 1), ==, LUCY_OK);
  for (size_t i = 0; i < pc; i++)
    if (dst[i] != naive[i])
      g_error("embed L=%zux%zux%zu M=%zux%zux%zu shift=%td,%td,%td: float %zu is %g, not %g",
              L[0], L[1], L[2], M[0], M[1], M[2], shift[0], shift[1], shift[2], i, dst[i],
              naive[i]);
  lucy__dev_release(dev, dst);
  g_free(src);
  g_free(naive);
}

static void test_embed(void) {
  LucyDevice *dev = new_cpu(2);
  GRand *rng = g_rand_new_with_seed(11);
  static const struct {
    size_t L[3], M[3];
    ptrdiff_t s[3];
  } cases[] = {
    {{4, 5, 6}, {2, 3, 4}, {0, 0, 0}},      /* plain zero padding */
    {{4, 5, 6}, {2, 3, 4}, {-1, -1, -2}},   /* PSF-style negative shift, wraps */
    {{4, 5, 6}, {4, 5, 6}, {1, 2, 3}},      /* same size, pure roll */
    {{4, 5, 7}, {3, 4, 5}, {7, -9, 12}},    /* shifts beyond the size */
    {{3, 4, 5}, {7, 9, 11}, {-3, -4, -5}},  /* larger than the domain: accumulates */
    {{1, 4, 5}, {1, 9, 3}, {0, -4, -1}},    /* 2-D, y accumulates */
    {{2, 3, 4}, {1, 1, 13}, {0, 0, -6}},    /* x wraps three times */
    {{1, 1, 1}, {3, 2, 2}, {0, 0, 0}},      /* everything onto one voxel */
    {{8, 64, 70}, {8, 60, 64}, {0, 0, 0}},  /* large enough for the threaded path */
    {{8, 64, 70}, {5, 63, 65}, {-2, -31, -32}},
    {{8, 64, 70}, {9, 66, 71}, {-4, -33, -35}}, /* threaded with accumulation */
  };
  for (size_t c = 0; c < G_N_ELEMENTS(cases); c++)
    check_embed(dev, rng, cases[c].L, cases[c].M, cases[c].s);
  g_rand_free(rng);
  g_assert_cmpuint(held(dev), ==, 0);
  lucy_device_unref(dev);
}

static void check_extract(LucyDevice *dev, GRand *rng, const size_t L[3], const size_t N[3],
                          const ptrdiff_t off[3], float scale) {
  const size_t row = lucy__padded_row(L[2]), pc = lucy__padded_count(L);
  const size_t nc = N[0] * N[1] * N[2];
  float *src = NULL, *dst = g_new(float, nc);
  g_assert_cmpint(lucy__dev_alloc(dev, pc * sizeof(float), &src), ==, LUCY_OK);
  fill_ints(rng, src, pc);
  g_assert_cmpint(dev->ops->extract(dev, dst, N, src, L, off, scale, 1), ==, LUCY_OK);
  for (size_t z = 0; z < N[0]; z++)
    for (size_t y = 0; y < N[1]; y++)
      for (size_t x = 0; x < N[2]; x++) {
        size_t sz = wrap((ptrdiff_t)z + off[0], L[0]);
        size_t sy = wrap((ptrdiff_t)y + off[1], L[1]);
        size_t sx = wrap((ptrdiff_t)x + off[2], L[2]);
        float want = scale * src[(sz * L[1] + sy) * row + sx];
        float got = dst[(z * N[1] + y) * N[2] + x];
        if (got != want)
          g_error("extract L=%zux%zux%zu N=%zux%zux%zu at %zu,%zu,%zu: %g, not %g", L[0], L[1],
                  L[2], N[0], N[1], N[2], z, y, x, got, want);
      }
  lucy__dev_release(dev, src);
  g_free(dst);
}

static void test_extract(void) {
  LucyDevice *dev = new_cpu(2);
  GRand *rng = g_rand_new_with_seed(12);
  static const struct {
    size_t L[3], N[3];
    ptrdiff_t o[3];
    float scale;
  } cases[] = {
    {{4, 5, 6}, {4, 5, 6}, {0, 0, 0}, 1.0f},
    {{4, 5, 6}, {2, 3, 4}, {1, 2, 2}, 1.0f},
    {{4, 5, 6}, {4, 5, 6}, {-1, -2, -3}, 0.5f},  /* full-mode style negative offset */
    {{3, 4, 5}, {7, 9, 11}, {-2, 5, -13}, 2.0f}, /* larger than the source: repeats */
    {{1, 6, 7}, {1, 3, 2}, {0, 4, 6}, 1.0f},
    {{8, 64, 70}, {8, 60, 64}, {-3, -30, -34}, 0.25f}, /* threaded */
  };
  for (size_t c = 0; c < G_N_ELEMENTS(cases); c++)
    check_extract(dev, rng, cases[c].L, cases[c].N, cases[c].o, cases[c].scale);
  g_rand_free(rng);
  lucy_device_unref(dev);
}

static void test_fft_round_trip(void) {
  LucyDevice *dev = new_cpu(2);
  GRand *rng = g_rand_new_with_seed(13);
  static const size_t shapes[][3] = {{1, 1, 1}, {1, 7, 9}, {4, 5, 6}, {6, 10, 15}, {16, 24, 35}};
  for (size_t c = 0; c < G_N_ELEMENTS(shapes); c++) {
    const size_t *s = shapes[c];
    const size_t n = s[0] * s[1] * s[2], row = lucy__padded_row(s[2]);
    LucyFftPlan *plan = NULL;
    g_assert_cmpint(dev->ops->fft_plan(dev, s, &plan), ==, LUCY_OK);
    float *buf = NULL, *orig = g_new(float, n);
    g_assert_cmpint(lucy__dev_alloc(dev, lucy__padded_count(s) * sizeof(float), &buf), ==,
                    LUCY_OK);
    size_t before = lucy__device_fft_count();
    double sum = 0;
    for (size_t i = 0; i < n; i++) {
      orig[i] = (float)g_rand_double_range(rng, -1, 1);
      sum += orig[i];
    }
    const size_t M[3] = {s[0], s[1], s[2]};
    const ptrdiff_t zero[3] = {0, 0, 0};
    g_assert_cmpint(dev->ops->embed(dev, buf, s, orig, M, zero, 1), ==, LUCY_OK);
    g_assert_cmpint(dev->ops->fft_r2c(dev, plan, buf), ==, LUCY_OK);
    /* The DC term is the sum, imaginary part zero. */
    g_assert_cmpfloat(fabs(buf[0] - sum), <, 1e-4 * (1 + fabs(sum)));
    g_assert_cmpfloat(fabs(buf[1]), <, 1e-4);
    g_assert_cmpint(dev->ops->fft_c2r(dev, plan, buf), ==, LUCY_OK);
    g_assert_cmpuint(lucy__device_fft_count() - before, ==, 2);
    double maxerr = 0;
    for (size_t z = 0; z < s[0]; z++)
      for (size_t y = 0; y < s[1]; y++)
        for (size_t x = 0; x < s[2]; x++) {
          double got = buf[(z * s[1] + y) * row + x] / (double)n;
          double err = fabs(got - orig[(z * s[1] + y) * s[2] + x]);
          if (err > maxerr) maxerr = err;
        }
    g_assert_cmpfloat(maxerr, <, 1e-5);
    lucy__dev_release(dev, buf);
    g_free(orig);
  }
  g_rand_free(rng);
  g_assert_cmpuint(held(dev), ==, 0);
  lucy_device_unref(dev);
}

static void test_plan_cache(void) {
  LucyDevice *dev = new_cpu(1);
  const size_t a[3] = {4, 6, 10}, b[3] = {4, 6, 12}, a2[3] = {4, 6, 10};
  LucyFftPlan *pa = NULL, *pb = NULL, *pa2 = NULL;
  g_assert_cmpint(dev->ops->fft_plan(dev, a, &pa), ==, LUCY_OK);
  g_assert_cmpint(dev->ops->fft_plan(dev, b, &pb), ==, LUCY_OK);
  g_assert_cmpint(dev->ops->fft_plan(dev, a2, &pa2), ==, LUCY_OK);
  g_assert_nonnull(pa);
  g_assert_true(pa == pa2);
  g_assert_true(pa != pb);
  g_assert_cmpuint(dev->ops->fft_work_bytes(dev, pa), <, 4 * 6 * 12 * sizeof(float));
  /* Planning's scratch buffer is gone; cached plans hold no array. */
  g_assert_cmpuint(held(dev), ==, 0);
  const size_t bad[3] = {0, 4, 4};
  LucyFftPlan *pbad = NULL;
  g_assert_cmpint(dev->ops->fft_plan(dev, bad, &pbad), ==, LUCY_ERR_INVALID_ARGUMENT);
  lucy_device_unref(dev);
}

static void test_cmul_cscale(void) {
  LucyDevice *dev = new_cpu(2);
  GRand *rng = g_rand_new_with_seed(14);
  const size_t counts[] = {1, 17, 70000};
  for (size_t c = 0; c < G_N_ELEMENTS(counts); c++) {
    const size_t n = counts[c];
    for (int conj = 0; conj < 2; conj++) {
      float *a = g_new(float, 2 * n), *b = g_new(float, 2 * n), *a0 = g_new(float, 2 * n);
      for (size_t i = 0; i < 2 * n; i++) {
        a[i] = a0[i] = (float)g_rand_double_range(rng, -2, 2);
        b[i] = (float)g_rand_double_range(rng, -2, 2);
      }
      g_assert_cmpint(dev->ops->cmul(dev, a, b, n, conj, 0.5f), ==, LUCY_OK);
      for (size_t k = 0; k < n; k++) {
        double br = b[2 * k], bi = conj ? -b[2 * k + 1] : b[2 * k + 1];
        double re = 0.5 * (a0[2 * k] * br - a0[2 * k + 1] * bi);
        double im = 0.5 * (a0[2 * k] * bi + a0[2 * k + 1] * br);
        g_assert_cmpfloat(fabs(a[2 * k] - re), <, 1e-5);
        g_assert_cmpfloat(fabs(a[2 * k + 1] - im), <, 1e-5);
      }
      float *c0 = g_memdup2(a0, 2 * n * sizeof(float));
      g_assert_cmpint(dev->ops->cscale(dev, a0, n, -3.0f), ==, LUCY_OK);
      for (size_t i = 0; i < 2 * n; i++) g_assert_cmpfloat(a0[i], ==, -3.0f * c0[i]);
      g_free(c0);
      g_free(a);
      g_free(b);
      g_free(a0);
    }
  }
  /* cscale against stored values. */
  float v[6] = {1, -2, 3, -4, 5, -6};
  g_assert_cmpint(dev->ops->cscale(dev, v, 3, -0.5f), ==, LUCY_OK);
  const float want[6] = {-0.5f, 1, -1.5f, 2, -2.5f, 3};
  for (int i = 0; i < 6; i++) g_assert_cmpfloat(v[i], ==, want[i]);
  g_rand_free(rng);
  lucy_device_unref(dev);
}

static void test_wisdom(void) {
  GError *err = NULL;
  char *tmp = g_dir_make_tmp("lucy-wisdom-XXXXXX", &err);
  g_assert_no_error(err);
  char *old = g_strdup(g_getenv("XDG_CACHE_HOME"));
  g_setenv("XDG_CACHE_HOME", tmp, TRUE);

  LucyDeviceOptions o;
  lucy_device_options_default(&o);
  o.threads = 1;
  o.planning = LUCY_PLAN_THOROUGH;
  LucyDevice *dev = NULL;
  g_assert_cmpint(lucy_device_new(&o, &dev), ==, LUCY_OK);
  const size_t s[3] = {3, 8, 10};
  LucyFftPlan *p = NULL;
  g_assert_cmpint(dev->ops->fft_plan(dev, s, &p), ==, LUCY_OK);
  g_assert_cmpuint(held(dev), ==, 0);

  char *dir = g_build_filename(tmp, "lucy", NULL);
  char *path = g_build_filename(dir, "fftwf-wisdom", NULL);
  char *text = NULL;
  gsize len = 0;
  g_assert_true(g_file_get_contents(path, &text, &len, &err));
  g_assert_no_error(err);
  g_assert_cmpuint(len, >, 10);
  g_assert_true(g_str_has_prefix(text, "(fftw-3"));
  g_free(text);
  /* Nothing but the wisdom file: the temporary was renamed into place. */
  GDir *d = g_dir_open(dir, 0, &err);
  g_assert_no_error(err);
  const char *name;
  int files = 0;
  while ((name = g_dir_read_name(d))) {
    g_assert_cmpstr(name, ==, "fftwf-wisdom");
    files++;
  }
  g_dir_close(d);
  g_assert_cmpint(files, ==, 1);

  /* A second thorough plan (another shape) rewrites it whole; a fast device then uses it. */
  const size_t s2[3] = {2, 6, 9};
  g_assert_cmpint(dev->ops->fft_plan(dev, s2, &p), ==, LUCY_OK);
  g_assert_true(g_file_get_contents(path, &text, &len, &err));
  g_assert_true(g_str_has_prefix(text, "(fftw-3"));
  g_free(text);
  lucy_device_unref(dev);
  o.planning = LUCY_PLAN_FAST;
  g_assert_cmpint(lucy_device_new(&o, &dev), ==, LUCY_OK);
  g_assert_cmpint(dev->ops->fft_plan(dev, s, &p), ==, LUCY_OK);
  lucy_device_unref(dev);

  g_remove(path);
  g_rmdir(dir);
  g_rmdir(tmp);
  if (old)
    g_setenv("XDG_CACHE_HOME", old, TRUE);
  else
    g_unsetenv("XDG_CACHE_HOME");
  g_free(old);
  g_free(path);
  g_free(dir);
  g_free(tmp);
}

/* The out-of-place forward transform: the same spectrum as the in-place one (to float
 * rounding), its source untouched, one counted transform, and the misuse errors. */
static void test_fft_r2c_out(void) {
  LucyDevice *dev = new_cpu(2);
  GRand *rng = g_rand_new_with_seed(17);
  static const size_t shapes[][3] = {{1, 1, 1}, {1, 7, 9}, {4, 5, 6}, {6, 10, 15}, {16, 24, 35}};
  for (size_t c = 0; c < G_N_ELEMENTS(shapes); c++) {
    const size_t *s = shapes[c];
    const size_t count = lucy__padded_count(s), bytes = count * sizeof(float);
    LucyFftPlan *plan = NULL;
    g_assert_cmpint(dev->ops->fft_plan(dev, s, &plan), ==, LUCY_OK);
    float *src = NULL, *dst = NULL, *ref = NULL;
    g_assert_cmpint(lucy__dev_alloc(dev, bytes, &src), ==, LUCY_OK);
    g_assert_cmpint(lucy__dev_alloc(dev, bytes, &dst), ==, LUCY_OK);
    g_assert_cmpint(lucy__dev_alloc(dev, bytes, &ref), ==, LUCY_OK);
    /* not planned yet: an error, not a crash */
    g_assert_cmpint(dev->ops->fft_r2c_out(dev, plan, src, dst), ==, LUCY_ERR_FFT);
    g_assert_cmpint(dev->ops->fft_plan_r2c_out(dev, plan, src, src), ==,
                    LUCY_ERR_INVALID_ARGUMENT);
    g_assert_cmpint(dev->ops->fft_plan_r2c_out(dev, plan, src, dst), ==, LUCY_OK);
    for (size_t i = 0; i < count; i++) src[i] = (float)g_rand_double_range(rng, -1, 1);
    memcpy(ref, src, bytes);
    float *keep = g_memdup2(src, bytes);
    size_t before = lucy__device_fft_count();
    g_assert_cmpint(dev->ops->fft_r2c_out(dev, plan, src, dst), ==, LUCY_OK);
    g_assert_cmpuint(lucy__device_fft_count() - before, ==, 1);
    g_assert_cmpint(memcmp(src, keep, bytes), ==, 0); /* the source, padding included */
    g_assert_cmpint(dev->ops->fft_r2c(dev, plan, ref), ==, LUCY_OK);
    double maxerr = 0, maxabs = 0;
    for (size_t i = 0; i < 2 * lucy__spectrum_count(s); i++) {
      maxerr = fmax(maxerr, fabs((double)dst[i] - ref[i]));
      maxabs = fmax(maxabs, fabs((double)ref[i]));
    }
    g_assert_cmpfloat(maxerr, <=, 1e-5 * maxabs);
    /* the same buffers in place: an error */
    g_assert_cmpint(dev->ops->fft_r2c_out(dev, plan, src, src), ==, LUCY_ERR_FFT);
    g_free(keep);
    lucy__dev_release(dev, src);
    lucy__dev_release(dev, dst);
    lucy__dev_release(dev, ref);
  }
  g_rand_free(rng);
  g_assert_cmpuint(held(dev), ==, 0);
  lucy_device_unref(dev);
}

/* Fills the box [0, box) of a padded-layout buffer of shape s with random values and the rest
 * of its logical values with zeros; the row padding gets `pad` (anything, for the op). */
static void fill_box(GRand *rng, float *buf, const size_t s[3], const size_t box[3], float pad) {
  const size_t row = lucy__padded_row(s[2]);
  for (size_t z = 0; z < s[0]; z++)
    for (size_t y = 0; y < s[1]; y++)
      for (size_t x = 0; x < row; x++) {
        const int in = z < box[0] && y < box[1] && x < box[2];
        buf[(z * s[1] + y) * row + x] =
            x >= s[2] ? pad : in ? (float)g_rand_double_range(rng, -1, 1) : 0.0f;
      }
}

/* max |a - b| over the logical values inside the box, relative to max |b| there. */
static double box_rel_diff(const float *a, const float *b, const size_t s[3], const size_t box[3]) {
  const size_t row = lucy__padded_row(s[2]);
  double err = 0, big = 0;
  for (size_t z = 0; z < box[0]; z++)
    for (size_t y = 0; y < box[1]; y++)
      for (size_t x = 0; x < box[2]; x++) {
        const size_t i = (z * s[1] + y) * row + x;
        err = fmax(err, fabs((double)a[i] - b[i]));
        big = fmax(big, fabs((double)b[i]));
      }
  return big > 0 ? err / big : err;
}

/* One box on one shape: r2c_box gives fft_r2c's spectrum from a box-supported input (padding
 * holding garbage), and c2r_box fft_c2r's values inside the box; one counted transform each. */
static void check_fft_box(LucyDevice *dev, GRand *rng, const size_t s[3], const size_t box[3]) {
  const size_t count = lucy__padded_count(s), bytes = count * sizeof(float);
  LucyFftPlan *plan = NULL;
  g_assert_cmpint(dev->ops->fft_plan(dev, s, &plan), ==, LUCY_OK);
  float *buf = NULL, *ref = NULL;
  g_assert_cmpint(lucy__dev_alloc(dev, bytes, &buf), ==, LUCY_OK);
  g_assert_cmpint(lucy__dev_alloc(dev, bytes, &ref), ==, LUCY_OK);
  const size_t held_before = held(dev);
  g_assert_cmpint(dev->ops->fft_plan_box(dev, plan, buf, box), ==, LUCY_OK);
  g_assert_cmpuint(held(dev), ==, held_before); /* planned on buf: nothing allocated */

  fill_box(rng, buf, s, box, 1e3f); /* garbage padding */
  memcpy(ref, buf, bytes);
  size_t before = lucy__device_fft_count();
  g_assert_cmpint(dev->ops->fft_r2c_box(dev, plan, buf, box), ==, LUCY_OK);
  g_assert_cmpuint(lucy__device_fft_count() - before, ==, 1);
  g_assert_cmpint(dev->ops->fft_r2c(dev, plan, ref), ==, LUCY_OK);
  double err = 0, big = 0;
  for (size_t i = 0; i < 2 * lucy__spectrum_count(s); i++) {
    err = fmax(err, fabs((double)buf[i] - ref[i]));
    big = fmax(big, fabs((double)ref[i]));
  }
  g_assert_cmpfloat(err, <=, 1e-6 * big);

  /* c2r of a real spectrum (the full transform of full random data) */
  const size_t all[3] = {s[0], s[1], s[2]};
  fill_box(rng, ref, s, all, 0.0f);
  g_assert_cmpint(dev->ops->fft_r2c(dev, plan, ref), ==, LUCY_OK);
  memcpy(buf, ref, bytes);
  before = lucy__device_fft_count();
  g_assert_cmpint(dev->ops->fft_c2r_box(dev, plan, buf, box), ==, LUCY_OK);
  g_assert_cmpuint(lucy__device_fft_count() - before, ==, 1);
  g_assert_cmpint(dev->ops->fft_c2r(dev, plan, ref), ==, LUCY_OK);
  g_assert_cmpfloat(box_rel_diff(buf, ref, s, box), <=, 1e-6);

  /* the helpers take the same path (or the full transforms for a whole box) */
  fill_box(rng, buf, s, box, -7.0f);
  memcpy(ref, buf, bytes);
  g_assert_cmpint(lucy__dev_fft_r2c_box(dev, plan, buf, s, box), ==, LUCY_OK);
  g_assert_cmpint(lucy__dev_fft_c2r_box(dev, plan, buf, s, box), ==, LUCY_OK);
  const double n = (double)s[0] * (double)s[1] * (double)s[2];
  for (size_t i = 0; i < count; i++) buf[i] = (float)(buf[i] / n);
  g_assert_cmpfloat(box_rel_diff(buf, ref, s, box), <=, 1e-5);
  lucy__dev_release(dev, buf);
  lucy__dev_release(dev, ref);
}

/* The pruned transforms against the full ones on random data: shapes with odd sizes (the last
 * one large enough for 2 threads), boxes equal to the shape, of one voxel, and in between; both
 * planning rigours (THOROUGH on one thread and the small shapes: FFTW_MEASURE on a loaded
 * machine takes long); the misuse errors. */
static void test_fft_box(void) {
  static const size_t shapes[][3] = {{1, 1, 1},  {1, 7, 9},   {4, 5, 6},
                                     {6, 10, 15}, {9, 12, 17}, {17, 48, 81}};
  GRand *rng = g_rand_new_with_seed(29);
  for (int thorough = 0; thorough < 2; thorough++) {
    LucyDeviceOptions o;
    lucy_device_options_default(&o);
    o.threads = thorough ? 1 : 2;
    o.use_wisdom = 0;
    o.planning = thorough ? LUCY_PLAN_THOROUGH : LUCY_PLAN_FAST;
    LucyDevice *dev = NULL;
    g_assert_cmpint(lucy_device_new(&o, &dev), ==, LUCY_OK);
    for (size_t c = 0; c < G_N_ELEMENTS(shapes) - (size_t)thorough; c++) {
      const size_t *s = shapes[c];
      const size_t boxes[][3] = {{s[0], s[1], s[2]},
                                 {1, 1, 1},
                                 {(s[0] + 1) / 2, (s[1] + 1) / 2, s[2] > 1 ? s[2] - 1 : 1},
                                 {s[0] > 1 ? s[0] - 1 : 1, s[1], s[2]},
                                 {s[0], (s[1] + 2) / 3, 1}};
      for (size_t b = 0; b < G_N_ELEMENTS(boxes); b++) check_fft_box(dev, rng, s, boxes[b]);
    }
    g_assert_cmpuint(held(dev), ==, 0);
    lucy_device_unref(dev);
  }

  LucyDevice *dev = new_cpu(1);
  const size_t s[3] = {6, 10, 15}, bytes = lucy__padded_count(s) * sizeof(float);
  LucyFftPlan *plan = NULL;
  g_assert_cmpint(dev->ops->fft_plan(dev, s, &plan), ==, LUCY_OK);
  float *buf = NULL;
  g_assert_cmpint(lucy__dev_alloc(dev, bytes, &buf), ==, LUCY_OK);
  memset(buf, 0, bytes);
  const size_t unplanned[3] = {2, 10, 15}, zero[3] = {0, 5, 5}, big[3] = {6, 11, 15};
  g_assert_cmpint(dev->ops->fft_r2c_box(dev, plan, buf, unplanned), ==, LUCY_ERR_FFT);
  g_assert_cmpint(dev->ops->fft_c2r_box(dev, plan, buf, unplanned), ==, LUCY_ERR_FFT);
  g_assert_cmpint(dev->ops->fft_plan_box(dev, plan, buf, zero), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_cmpint(dev->ops->fft_plan_box(dev, plan, buf, big), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_cmpint(dev->ops->fft_r2c_box(dev, plan, buf, big), ==, LUCY_ERR_INVALID_ARGUMENT);
  lucy__dev_release(dev, buf);
  g_rand_free(rng);
  lucy_device_unref(dev);
}

/* The I-divergence reference in double: y log(y/d) - y + d = y (u - log1p(u)), u = (d - y)/y
 * (no cancellation near d = y); d when y = 0. */
static double idiv_ref(double y, double d) {
  if (y <= 0) return d;
  const double u = (d - y) / y;
  return y * (u - log1p(u));
}

/* rl_ratio: the ratio exactly y / d (0 where d <= eps, and outside the observed box), and the
 * I-divergence (a vectorised float log, see device-cpu.c) against log1p in double: per voxel
 * over ratios d/y from 1e-6 to 1e6 and near 1, and summed over a noisy volume. */
static void test_rl_ratio_idiv(void) {
  LucyDevice *dev = new_cpu(2);
  GRand *rng = g_rand_new_with_seed(23);
  const float eps = 1e-6f, b = 0.25f;
  /* one voxel at a time: per-term accuracy */
  {
    static const size_t one[3] = {1, 1, 1};
    float *h = NULL;
    g_assert_cmpint(lucy__dev_alloc(dev, 2 * sizeof(float), &h), ==, LUCY_OK);
    double worst = 0, worst_near = 0;
    for (int i = 0; i < 20000; i++) {
      const float y = (float)exp(g_rand_double_range(rng, log(1e-3), log(1e4)));
      const double lr = i % 2 ? g_rand_double_range(rng, -0.5, 0.5)  /* around k = 0 */
                              : g_rand_double_range(rng, log(1e-6), log(1e6));
      const float hx = (float)(y * exp(i % 4 == 1 ? lr * 1e-3 : lr)) - b; /* d = hx + b */
      h[0] = hx;
      double got = NAN;
      g_assert_cmpint(dev->ops->rl_ratio(dev, h, one, &y, one, b, eps, &got), ==, LUCY_OK);
      const float d = hx + b;
      g_assert_cmpfloat(h[0], ==, d > eps ? y / d : 0.0f);
      const double want = idiv_ref(y, d > eps ? d : eps);
      const double rel = fabs(got - want) / want;
      worst = fmax(worst, rel);
      if (fabs(lr) < 0.3) worst_near = fmax(worst_near, rel);
    }
    g_test_message("I-divergence per voxel: max relative error %.2e (%.2e with d/y in "
                   "[0.74, 1.35])", worst, worst_near);
    g_assert_cmpfloat(worst, <, 2e-6);
    g_assert_cmpfloat(worst_near, <, 5e-7);
    lucy__dev_release(dev, h);
  }
  /* a noisy volume in a larger domain (noncirculant layout), with zeros, negatives and d
   * below eps: the sum */
  {
    static const size_t L[3] = {8, 32, 40}, N[3] = {6, 30, 33};
    const size_t row = lucy__padded_row(L[2]), n = N[0] * N[1] * N[2];
    float *h = NULL, *obs = g_new(float, n);
    g_assert_cmpint(lucy__dev_alloc(dev, lucy__padded_count(L) * sizeof(float), &h), ==,
                    LUCY_OK);
    float *hx = g_new(float, lucy__padded_count(L));
    for (size_t i = 0; i < lucy__padded_count(L); i++)
      hx[i] = (float)g_rand_double_range(rng, 0, 100);
    for (size_t i = 0; i < n; i++) {
      const double v = g_rand_double_range(rng, 0, 100);
      obs[i] = i % 97 == 0 ? 0.0f : i % 89 == 0 ? -1.0f : (float)v;
    }
    double want = 0;
    for (size_t z = 0; z < N[0]; z++)
      for (size_t y = 0; y < N[1]; y++)
        for (size_t x = 0; x < N[2]; x++) {
          const size_t j = (z * N[1] + y) * N[2] + x, k = (z * L[1] + y) * row + x;
          const float yv = obs[j] > 0 ? obs[j] : 0.0f;
          /* H x close to y (a converged estimate), a few far off, one below eps */
          hx[k] = j == 5 ? -b : (float)(yv * (1 + 0.02 * g_rand_double_range(rng, -1, 1))) - b;
          if (j % 7 == 0) hx[k] = (float)g_rand_double_range(rng, 0, 200);
          const float d = hx[k] + b;
          want += idiv_ref(yv, d > eps ? d : eps);
        }
    memcpy(h, hx, lucy__padded_count(L) * sizeof(float));
    double got = NAN;
    g_assert_cmpint(dev->ops->rl_ratio(dev, h, L, obs, N, b, eps, &got), ==, LUCY_OK);
    g_test_message("I-divergence sum: %.12g, double reference %.12g, relative error %.2e", got,
                   want, fabs(got - want) / want);
    g_assert_cmpfloat(fabs(got - want), <, 1e-7 * want);
    /* without the I-divergence: the same ratio */
    memcpy(h, hx, lucy__padded_count(L) * sizeof(float));
    g_assert_cmpint(dev->ops->rl_ratio(dev, h, L, obs, N, b, eps, NULL), ==, LUCY_OK);
    for (size_t z = 0; z < L[0]; z++)
      for (size_t y = 0; y < L[1]; y++)
        for (size_t x = 0; x < L[2]; x++) {
          const size_t k = (z * L[1] + y) * row + x;
          float want_h = 0.0f;
          if (z < N[0] && y < N[1] && x < N[2]) {
            const float o = obs[(z * N[1] + y) * N[2] + x], yv = o > 0 ? o : 0.0f;
            const float d = hx[k] + b;
            want_h = d > eps ? yv / d : 0.0f;
          }
          g_assert_cmpfloat(h[k], ==, want_h);
        }
    g_free(hx);
    g_free(obs);
    lucy__dev_release(dev, h);
  }
  g_rand_free(rng);
  lucy_device_unref(dev);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/device/options-and-names", test_options_and_names);
  g_test_add_func("/device/cuda-unavailable", test_cuda_unavailable);
  g_test_add_func("/device/accounting", test_accounting);
  g_test_add_func("/device/memory-info", test_memory_info);
  g_test_add_func("/device/embed", test_embed);
  g_test_add_func("/device/extract", test_extract);
  g_test_add_func("/device/fft-round-trip", test_fft_round_trip);
  g_test_add_func("/device/plan-cache", test_plan_cache);
  g_test_add_func("/device/cmul-cscale", test_cmul_cscale);
  g_test_add_func("/device/fft-r2c-out", test_fft_r2c_out);
  g_test_add_func("/device/fft-box", test_fft_box);
  g_test_add_func("/device/rl-ratio-idiv", test_rl_ratio_idiv);
  g_test_add_func("/device/wisdom", test_wisdom);
  return g_test_run();
}
