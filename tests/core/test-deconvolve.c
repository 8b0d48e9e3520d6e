/* Deconvolution: the RL operators (adjoint identity, impulses, W = H^T 1) for both boundaries,
 * RL against a direct double-precision reference, skimage fixtures, the bars data (errors at
 * 0/10/50/200 iterations, acceleration), RL-TV on a noisy sphere phantom, non-circulant edges,
 * Wiener, PSF checks and cropping, bad input, cancellation, monitor and memory.
 *
 * Needs LUCY_FIXTURES (tests/fixtures) and LUCY_SHARED_DATA (../shared/data); the tests that
 * need them skip with a message when they are missing. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deconvolve-private.h"
#include "device-impl.h"
#include "lucy/convolve.h"
#include "lucy/deconvolve.h"
#include "lucy/phantom.h"
#include "lucy/tiff.h"
#include "lucy/volume.h"
#include "test-target.h"

static size_t count3(const size_t s[3]) { return s[0] * s[1] * s[2]; }

static LucyVolume *volume(const size_t shape[3]) {
  LucyVolume *v = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &v), ==, LUCY_OK);
  return v;
}

static LucyVolume *random_volume(GRand *rng, const size_t shape[3], double lo, double hi) {
  LucyVolume *v = volume(shape);
  for (size_t i = 0; i < count3(shape); i++) v->data[i] = (float)g_rand_double_range(rng, lo, hi);
  return v;
}

/* The plans' strategy: the checks against independent references run again with
 * LUCY_STRATEGY_LOW_MEMORY (OTF as PSF planes, non-circulant weights from prefix sums). */
static LucyStrategy plan_strategy = LUCY_STRATEGY_AUTO;

static LucyDeconOptions options(LucyBoundary boundary, int iterations) {
  LucyDeconOptions o;
  lucy_decon_options_default(&o);
  o.boundary = boundary;
  o.iterations = iterations;
  o.threads = 2;
  o.strategy = plan_strategy;
  o.device = test_target_device();
  return o;
}

static size_t org(size_t m, LucyOrigin o) { return o == LUCY_ORIGIN_SCIPY ? (m - 1) / 2 : m / 2; }

/* Relative L2 error of a to the truth after the best least-squares scaling of a. */
static double scaled_error(const float *a, const float *truth, size_t n) {
  double at = 0, aa = 0, tt = 0;
  for (size_t i = 0; i < n; i++) {
    at += (double)a[i] * truth[i];
    aa += (double)a[i] * a[i];
    tt += (double)truth[i] * truth[i];
  }
  const double s = aa > 0 ? at / aa : 0;
  double e = 0;
  for (size_t i = 0; i < n; i++) {
    const double d = s * a[i] - truth[i];
    e += d * d;
  }
  return sqrt(e / tt);
}

/* ---- operators ---------------------------------------------------------------------------- */

/* <H x, y> = <x, H^T y> in double, for random x on the estimate domain and y on the image. */
static void check_adjoint(LucyBoundary boundary, const size_t N[3], const size_t M[3],
                          LucyOrigin origin, GRand *rng) {
  LucyVolume *psf = random_volume(rng, M, 0.05, 1);
  LucyDeconOptions o = options(boundary, 1);
  o.origin = origin;
  LucyDeconPlan *plan = NULL;
  g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_OK);
  size_t L[3];
  lucy_decon_fft_shape(plan, L);
  for (int a = 0; a < 3; a++)
    g_assert_cmpuint(L[a], ==,
                     boundary == LUCY_BOUNDARY_CIRCULAR ? N[a]
                                                        : lucy_fft_good_size(N[a] + M[a] - 1));
  const size_t nl = count3(L), nn = count3(N);
  float *x = g_new(float, nl), *hx = g_new(float, nn), *y = g_new(float, nn);
  float *hty = g_new(float, nl);
  for (size_t i = 0; i < nl; i++) x[i] = (float)g_rand_double_range(rng, -1, 1);
  for (size_t i = 0; i < nn; i++) y[i] = (float)g_rand_double_range(rng, -1, 1);
  g_assert_cmpint(lucy__decon_forward(plan, x, hx), ==, LUCY_OK);
  g_assert_cmpint(lucy__decon_adjoint(plan, y, hty), ==, LUCY_OK);
  double lhs = 0, rhs = 0, scale = 0;
  for (size_t i = 0; i < nn; i++) {
    lhs += (double)hx[i] * y[i];
    scale += fabs((double)hx[i] * y[i]);
  }
  for (size_t i = 0; i < nl; i++) rhs += (double)x[i] * hty[i];
  if (fabs(lhs - rhs) > 1e-5 * scale)
    g_error("adjoint %s N=%zux%zux%zu M=%zux%zux%zu: <Hx,y> = %.9g, <x,H^T y> = %.9g",
            lucy_boundary_name(boundary), N[0], N[1], N[2], M[0], M[1], M[2], lhs, rhs);
  g_free(x);
  g_free(hx);
  g_free(y);
  g_free(hty);
  lucy_decon_plan_free(plan);
  lucy_volume_free(psf);
}

static void test_adjoint(void) {
  GRand *rng = g_rand_new_with_seed(11);
  const size_t cases[][2][3] = {
      {{6, 7, 8}, {3, 4, 5}}, {{5, 9, 6}, {5, 3, 2}}, {{1, 12, 10}, {1, 5, 4}},
      {{8, 8, 8}, {8, 8, 8}}, {{4, 5, 3}, {7, 2, 6}}};
  for (size_t c = 0; c < G_N_ELEMENTS(cases); c++)
    for (int b = 0; b < 2; b++)
      for (int og = 0; og < 2; og++) {
        const int too_big = cases[c][1][0] > cases[c][0][0] || cases[c][1][1] > cases[c][0][1] ||
                            cases[c][1][2] > cases[c][0][2];
        if (b == LUCY_BOUNDARY_CIRCULAR && too_big) continue;
        check_adjoint((LucyBoundary)b, cases[c][0], cases[c][1], (LucyOrigin)og, rng);
      }
  g_rand_free(rng);
}

/* An impulse at p maps to the normalised PSF with its origin at p: wrapped for circular edges,
 * cut at the border (never wrapped) for non-circulant ones; and the adjoint of an impulse at j
 * is the flipped PSF. */
static void test_impulse(void) {
  const size_t N[3] = {7, 9, 8}, M[3] = {3, 5, 4};
  GRand *rng = g_rand_new_with_seed(12);
  LucyVolume *psf = random_volume(rng, M, 0.1, 1);
  double sum = 0;
  for (size_t i = 0; i < count3(M); i++) sum += psf->data[i];
  for (int b = 0; b < 2; b++) {
    LucyDeconOptions o = options((LucyBoundary)b, 1);
    LucyDeconPlan *plan = NULL;
    g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_OK);
    size_t L[3];
    lucy_decon_fft_shape(plan, L);
    float *x = g_new0(float, count3(L)), *y = g_new(float, count3(N));
    const size_t ps[][3] = {{3, 4, 4}, {0, 0, 0}, {6, 8, 7}, {1, 8, 0}};
    for (size_t t = 0; t < G_N_ELEMENTS(ps); t++) {
      const size_t *p = ps[t];
      memset(x, 0, count3(L) * sizeof(float));
      x[(p[0] * L[1] + p[1]) * L[2] + p[2]] = 1.0f;
      g_assert_cmpint(lucy__decon_forward(plan, x, y), ==, LUCY_OK);
      for (size_t z = 0; z < N[0]; z++)
        for (size_t yy = 0; yy < N[1]; yy++)
          for (size_t xx = 0; xx < N[2]; xx++) {
            /* psf index k = j - p + o, wrapped mod N (circular) or not at all */
            const size_t j[3] = {z, yy, xx};
            double want = 0;
            ptrdiff_t k[3];
            int inside = 1;
            for (int a = 0; a < 3; a++) {
              k[a] = (ptrdiff_t)j[a] - (ptrdiff_t)p[a] + (ptrdiff_t)org(M[a], LUCY_ORIGIN_CENTER);
              if (b == LUCY_BOUNDARY_CIRCULAR)
                k[a] = ((k[a] % (ptrdiff_t)N[a]) + (ptrdiff_t)N[a]) % (ptrdiff_t)N[a];
              inside &= k[a] >= 0 && k[a] < (ptrdiff_t)M[a];
            }
            if (inside) want = psf->data[(k[0] * M[1] + k[1]) * M[2] + k[2]] / sum;
            const double got = y[(z * N[1] + yy) * N[2] + xx];
            if (fabs(got - want) > 1e-6)
              g_error("impulse %s at %zu,%zu,%zu: at %zu,%zu,%zu got %g want %g",
                      lucy_boundary_name((LucyBoundary)b), p[0], p[1], p[2], z, yy, xx, got,
                      want);
          }
    }
    g_free(x);
    g_free(y);
    lucy_decon_plan_free(plan);
  }
  lucy_volume_free(psf);
  g_rand_free(rng);
}

/* ---- RL against a direct double-precision reference -------------------------------------- */

/* Non-circulant RL by definition, in double: the object lives on the extended box
 * E = [-(M-1-o), N-1+o] per axis, (Hx)[j] = sum_{i in E} x[i] psf[j - i + o] for j in [0, N),
 * W[i] = sum_j psf[j - i + o], x <- x / W * H^T(y / (Hx + b)). Returns x on [0, N). */
static double *reference_rl(const float *img, const size_t N[3], const float *psf,
                            const size_t M[3], int iters, double b, double start) {
  size_t E[3];
  ptrdiff_t e0[3];
  double psum = 0;
  for (size_t i = 0; i < count3(M); i++) psum += psf[i];
  for (int a = 0; a < 3; a++) {
    E[a] = N[a] + M[a] - 1;
    e0[a] = -(ptrdiff_t)(M[a] - 1 - M[a] / 2);
  }
  const size_t ne = count3(E), nn = count3(N);
  double *x = g_new(double, ne), *w = g_new0(double, ne), *c = g_new(double, ne);
  double *r = g_new(double, nn);
  for (size_t i = 0; i < ne; i++) x[i] = start;
#define FOR_PAIRS(body)                                                                    \
  for (size_t jz = 0; jz < N[0]; jz++)                                                     \
    for (size_t jy = 0; jy < N[1]; jy++)                                                   \
      for (size_t jx = 0; jx < N[2]; jx++)                                                 \
        for (size_t kz = 0; kz < M[0]; kz++)                                               \
          for (size_t ky = 0; ky < M[1]; ky++)                                             \
            for (size_t kx = 0; kx < M[2]; kx++) {                                         \
              /* i = j - k + o, as an index into E */                                      \
              const size_t iz = jz + M[0] / 2 - kz - (size_t)e0[0];                         \
              const size_t iy = jy + M[1] / 2 - ky - (size_t)e0[1];                         \
              const size_t ix = jx + M[2] / 2 - kx - (size_t)e0[2];                         \
              const size_t ii = (iz * E[1] + iy) * E[2] + ix;                              \
              const size_t jj = (jz * N[1] + jy) * N[2] + jx;                              \
              const double h = psf[(kz * M[1] + ky) * M[2] + kx] / psum;                   \
              (void)ii;                                                                    \
              (void)jj;                                                                    \
              body;                                                                        \
            }
  FOR_PAIRS(w[ii] += h);
  for (int it = 0; it < iters; it++) {
    for (size_t j = 0; j < nn; j++) r[j] = 0;
    FOR_PAIRS(r[jj] += h * x[ii]);
    for (size_t j = 0; j < nn; j++) r[j] = img[j] / (r[j] + b);
    for (size_t i = 0; i < ne; i++) c[i] = 0;
    FOR_PAIRS(c[ii] += h * r[jj]);
    for (size_t i = 0; i < ne; i++) x[i] = w[i] > 1e-4 ? x[i] * c[i] / w[i] : 0;
  }
#undef FOR_PAIRS
  double *out = g_new(double, nn);
  for (size_t z = 0; z < N[0]; z++)
    for (size_t y = 0; y < N[1]; y++)
      for (size_t xx = 0; xx < N[2]; xx++)
        out[(z * N[1] + y) * N[2] + xx] =
            x[((z - (size_t)e0[0]) * E[1] + y - (size_t)e0[1]) * E[2] + xx - (size_t)e0[2]];
  g_free(x);
  g_free(w);
  g_free(c);
  g_free(r);
  return out;
}

static void test_direct_reference(void) {
  const size_t N[3] = {5, 7, 6}, M[3] = {3, 4, 5};
  GRand *rng = g_rand_new_with_seed(13);
  LucyVolume *psf = random_volume(rng, M, 0.1, 1);
  LucyVolume *img = random_volume(rng, N, 1, 10);
  for (int bg = 0; bg < 2; bg++) {
    LucyDeconOptions o = options(LUCY_BOUNDARY_NONCIRCULANT, 12);
    o.background = bg ? 0.5 : 0.0;
    o.start = LUCY_START_VALUE;
    o.start_value = 3.0;
    float *out = g_new(float, count3(N));
    LucyDeconPlan *plan = NULL;
    g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_OK);
    int done = 0;
    g_assert_cmpint(lucy_decon_execute(plan, img->data, out, &done), ==, LUCY_OK);
    g_assert_cmpint(done, ==, 12);
    double *want = reference_rl(img->data, N, psf->data, M, 12, o.background, 3.0);
    double maxd = 0, maxr = 0;
    for (size_t i = 0; i < count3(N); i++) {
      maxd = fmax(maxd, fabs(out[i] - want[i]));
      maxr = fmax(maxr, fabs(want[i]));
    }
    g_test_message("non-circulant RL (b = %g) vs direct double reference: max rel diff %.2e",
                   o.background, maxd / maxr);
    g_assert_cmpfloat(maxd / maxr, <, 1e-4);
    g_free(want);
    g_free(out);
    lucy_decon_plan_free(plan);
  }
  lucy_volume_free(psf);
  lucy_volume_free(img);
  g_rand_free(rng);
}

/* Circular RL with a normalised PSF and no background conserves the image's flux exactly. */
static void test_flux(void) {
  const size_t N[3] = {6, 10, 12}, M[3] = {3, 5, 5};
  GRand *rng = g_rand_new_with_seed(14);
  LucyVolume *psf = random_volume(rng, M, 0.1, 1);
  LucyVolume *img = random_volume(rng, N, 0, 10);
  double ysum = 0;
  for (size_t i = 0; i < count3(N); i++) ysum += img->data[i];
  LucyDeconOptions o = options(LUCY_BOUNDARY_CIRCULAR, 20);
  for (int s = 0; s < 3; s++) {
    o.start = (LucyStart)s;
    o.start_value = 2.0;
    LucyVolume *out = NULL;
    g_assert_cmpint(lucy_deconvolve(img, psf, &o, &out, NULL), ==, LUCY_OK);
    double xs = 0;
    for (size_t i = 0; i < count3(N); i++) xs += out->data[i];
    g_assert_cmpfloat(fabs(xs - ysum), <, 1e-4 * ysum);
    lucy_volume_free(out);
  }
  lucy_volume_free(psf);
  lucy_volume_free(img);
  g_rand_free(rng);
}

/* ---- skimage ------------------------------------------------------------------------------ */

static float *read_f32(const char *dir, const char *name, const char *kind, size_t shape[3]) {
  char *file = g_strdup_printf("%s.%s.f32", name, kind);
  char *path = g_build_filename(dir, file, NULL);
  gchar *bytes = NULL;
  gsize len = 0;
  GError *err = NULL;
  if (!g_file_get_contents(path, &bytes, &len, &err)) g_error("%s", err->message);
  const char *nl = memchr(bytes, '\n', len);
  g_assert_nonnull(nl);
  g_assert_cmpint(sscanf(bytes, "LUCYF32 %zu %zu %zu", &shape[0], &shape[1], &shape[2]), ==, 3);
  const size_t n = count3(shape);
  g_assert_cmpuint(len - (size_t)(nl + 1 - bytes), ==, n * sizeof(float));
  float *v = g_new(float, n);
  memcpy(v, nl + 1, n * sizeof(float));
  g_free(bytes);
  g_free(path);
  g_free(file);
  return v;
}

/* skimage.restoration.richardson_lucy(image, psf, num_iter, clip=False) against Lucy with
 * circular edges, flat start 0.5, scipy origin, no normalisation (the PSF sums to 1), no
 * background, no acceleration. skimage convolves with scipy.signal.convolve(mode="same"):
 * zero-padded, not periodic, and it neither divides by H^T 1 nor models a background. The
 * fixtures (tests/fixtures/make_decon_fixtures.py) make the two exactly equal: the image is 0
 * in a border twice the PSF's half-width wide, so the estimate stays 0 within h of the border
 * and no convolution that matters reaches across it (the script checks skimage against a
 * periodic numpy RL to 1e-9). On general images the two differ near the borders, where
 * skimage's zero padding darkens the model, and Lucy's default non-circulant edges differ
 * from both (they model the light from outside the field of view). skimage ran in float64;
 * Lucy runs in float32. */
static void test_skimage(void) {
  const char *fixtures = g_getenv("LUCY_FIXTURES");
  if (!fixtures) {
    g_test_skip("LUCY_FIXTURES is not set");
    return;
  }
  char *dir = g_build_filename(fixtures, "decon", NULL);
  char *index = g_build_filename(dir, "cases.txt", NULL);
  char *text = NULL;
  GError *err = NULL;
  if (!g_file_get_contents(index, &text, NULL, &err)) {
    g_test_skip(err->message);
    g_error_free(err);
    g_free(dir);
    g_free(index);
    return;
  }
  char **lines = g_strsplit(text, "\n", -1);
  int cases = 0;
  for (char **l = lines; *l; l++) {
    char name[64];
    int iters;
    if (**l == '#' || sscanf(*l, "%63s %d", name, &iters) != 2) continue;
    size_t N[3], M[3], R[3];
    float *img = read_f32(dir, name, "img", N);
    float *psfv = read_f32(dir, name, "psf", M);
    float *ref = read_f32(dir, name, "out", R);
    LucyVolume psf = {{M[0], M[1], M[2]}, {1, 1, 1}, psfv};
    LucyDeconOptions o = options(LUCY_BOUNDARY_CIRCULAR, iters);
    o.origin = LUCY_ORIGIN_SCIPY;
    o.normalize = 0;
    o.start = LUCY_START_VALUE;
    o.start_value = 0.5;
    LucyDeconPlan *plan = NULL;
    g_assert_cmpint(lucy_decon_plan_new(N, NULL, &psf, &o, &plan), ==, LUCY_OK);
    float *out = g_new(float, count3(N));
    g_assert_cmpint(lucy_decon_execute(plan, img, out, NULL), ==, LUCY_OK);
    double maxd = 0, maxr = 0;
    for (size_t i = 0; i < count3(N); i++) {
      maxd = fmax(maxd, fabs((double)out[i] - ref[i]));
      maxr = fmax(maxr, fabs((double)ref[i]));
    }
    g_test_message("skimage fixture %s (%d iterations): max |Lucy - skimage| / max |skimage| "
                   "= %.2e", name, iters, maxd / maxr);
    g_assert_cmpfloat(maxd / maxr, <, 1e-4);
    cases++;
    lucy_decon_plan_free(plan);
    g_free(out);
    g_free(img);
    g_free(psfv);
    g_free(ref);
  }
  g_assert_cmpint(cases, >=, 2);
  g_strfreev(lines);
  g_free(text);
  g_free(index);
  g_free(dir);
}

/* ---- bars --------------------------------------------------------------------------------- */

typedef struct {
  size_t n;
  float *snap10, *snap50;
  double idiv[1024];
  int last;
  double target; /* stop (cancel) once idiv <= target, when > 0 */
  int reached;
} BarsMonitor;

static int bars_monitor(void *user, const LucyDeconIteration *it) {
  BarsMonitor *m = user;
  if (it->iteration < 1024) m->idiv[it->iteration] = it->idiv;
  m->last = it->iteration;
  if (it->estimate && it->iteration == 10 && m->snap10)
    memcpy(m->snap10, it->estimate, m->n * sizeof(float));
  if (it->estimate && it->iteration == 50 && m->snap50)
    memcpy(m->snap50, it->estimate, m->n * sizeof(float));
  if (m->target > 0 && it->idiv <= m->target && !m->reached) {
    m->reached = it->iteration;
    return 1;
  }
  return 0;
}

static LucyVolume *read_shared(const char *name) {
  const char *shared = g_getenv("LUCY_SHARED_DATA");
  if (!shared) return NULL;
  char *path = g_build_filename(shared, "real", name, NULL);
  LucyVolume *v = NULL;
  if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_free(path);
    return NULL;
  }
  g_assert_cmpint(lucy_tiff_read(path, NULL, &v, NULL), ==, LUCY_OK);
  g_free(path);
  return v;
}

/* RL on bars (noncirculant, default options): the error to the truth after the best scaling
 * at 0/10/50/200 iterations; then the accelerated run must reach plain RL's I-divergence at
 * iteration 200 within 60% of the iterations. */
static void test_bars(void) {
  LucyVolume *data = read_shared("bars-data.tif"), *psf = read_shared("bars-psf.tif");
  LucyVolume *truth = read_shared("bars-truth.tif");
  if (!data || !psf || !truth) {
    g_test_skip("shared data ../shared/data/real/bars-*.tif not found (LUCY_SHARED_DATA)");
    lucy_volume_free(data);
    lucy_volume_free(psf);
    lucy_volume_free(truth);
    return;
  }
  const size_t n = count3(data->shape);
  BarsMonitor m = {.n = n};
  m.snap10 = g_new(float, n);
  m.snap50 = g_new(float, n);
  LucyDeconOptions o = options(LUCY_BOUNDARY_NONCIRCULANT, 200);
  o.monitor = bars_monitor;
  o.monitor_user = &m;
  o.preview_every = 10;
  LucyDeconPlan *plan = NULL;
  g_assert_cmpint(lucy_decon_plan_new(data->shape, data->voxel_um, psf, &o, &plan), ==, LUCY_OK);
  g_assert_null(lucy_decon_plan_warning(plan)); /* even sizes: centroid at origin - 0.5 */
  float *out = g_new(float, n);
  gint64 t0 = g_get_monotonic_time();
  int done = 0;
  g_assert_cmpint(lucy_decon_execute(plan, data->data, out, &done), ==, LUCY_OK);
  const double secs = (g_get_monotonic_time() - t0) * 1e-6;
  g_assert_cmpint(done, ==, 200);
  const double e0 = scaled_error(data->data, truth->data, n);
  const double e10 = scaled_error(m.snap10, truth->data, n);
  const double e50 = scaled_error(m.snap50, truth->data, n);
  const double e200 = scaled_error(out, truth->data, n);
  size_t L[3];
  lucy_decon_fft_shape(plan, L);
  g_test_message("bars (noncirculant, FFT %zux%zux%zu): relative error to the truth after "
                 "best scaling: input %.4f, RL-10 %.4f, RL-50 %.4f, RL-200 %.4f "
                 "(%.1f%% less than the input); 200 iterations in %.2f s",
                 L[0], L[1], L[2], e0, e10, e50, e200, 100 * (1 - e200 / e0), secs);
  g_assert_cmpfloat(e200, <=, 0.8 * e0);
  g_assert_cmpfloat(e50, <, e0);
  /* I-divergence decreases (RL is monotone in it) */
  for (int k = 2; k <= 200; k++) g_assert_cmpfloat(m.idiv[k], <=, m.idiv[k - 1] * (1 + 1e-6));
  lucy_decon_plan_free(plan);

  /* acceleration */
  BarsMonitor a = {.n = n, .target = m.idiv[200]};
  LucyDeconOptions oa = options(LUCY_BOUNDARY_NONCIRCULANT, 120);
  oa.accelerate = 1;
  oa.monitor = bars_monitor;
  oa.monitor_user = &a;
  g_assert_cmpint(lucy_decon_plan_new(data->shape, data->voxel_um, psf, &oa, &plan), ==,
                  LUCY_OK);
  const LucyStatus st = lucy_decon_execute(plan, data->data, out, NULL);
  g_test_message("acceleration: plain RL's I-divergence at iteration 200 (%.6g) reached by "
                 "Biggs-Andrews at iteration %d (%s; plain RL at 60, 100, 120: %.6g, %.6g, "
                 "%.6g)", m.idiv[200], a.reached, a.reached ? "stopped there" : "not reached",
                 m.idiv[60], m.idiv[100], m.idiv[120]);
  g_assert_cmpint(a.reached, >, 0);
  g_assert_cmpint(a.reached, <=, 120);
  g_assert_cmpint(st, ==, LUCY_ERR_CANCELLED);
  lucy_decon_plan_free(plan);

  g_free(out);
  g_free(m.snap10);
  g_free(m.snap50);
  lucy_volume_free(data);
  lucy_volume_free(psf);
  lucy_volume_free(truth);
}

/* ---- RL-TV on a noisy phantom ------------------------------------------------------------- */

/* The relative change of the last iteration, for the monitor. */
static int last_change(void *user, const LucyDeconIteration *it) {
  *(double *)user = it->rel_change;
  return 0;
}

static void test_rltv_phantom(void) {
  const size_t N[3] = {32, 64, 64}, M[3] = {15, 15, 15};
  LucyVolume *truth = volume(N);
  truth->voxel_um[0] = 0.2;
  truth->voxel_um[1] = truth->voxel_um[2] = 0.1;
  g_assert_cmpint(lucy_phantom_random_spheres(truth, 12, 3, 7, 10.0, 5, NULL), ==, LUCY_OK);
  for (size_t i = 0; i < count3(N); i++) truth->data[i] += 1.0f; /* a dim background */
  LucyVolume *psf = NULL;
  const double sigma[3] = {1.5, 2.0, 2.0};
  g_assert_cmpint(lucy_psf_gaussian(M, sigma, &psf), ==, LUCY_OK);
  LucyConvOptions co;
  lucy_conv_options_default(&co);
  co.threads = 2;
  LucyVolume *blurred = NULL;
  g_assert_cmpint(lucy_convolve(truth, psf, &co, &blurred), ==, LUCY_OK);
  g_assert_cmpint(lucy_noise_poisson(blurred, 2.0, 77), ==, LUCY_OK); /* ~2-20 photons */
  memcpy(blurred->voxel_um, truth->voxel_um, sizeof truth->voxel_um);
  const size_t n = count3(N);
  double err[2], change[2] = {0, 0};
  const double lambda = 0.01;
  for (int tv = 0; tv < 2; tv++) {
    LucyDeconOptions o = options(LUCY_BOUNDARY_NONCIRCULANT, 200);
    o.method = tv ? LUCY_DECON_RLTV : LUCY_DECON_RL;
    o.tv_lambda = lambda;
    o.monitor = last_change;
    o.monitor_user = &change[tv];
    LucyVolume *out = NULL;
    g_assert_cmpint(lucy_deconvolve(blurred, psf, &o, &out, NULL), ==, LUCY_OK);
    err[tv] = scaled_error(out->data, truth->data, n);
    lucy_volume_free(out);
  }
  const double e0 = scaled_error(blurred->data, truth->data, n);
  g_test_message("noisy sphere phantom (Poisson, 2 photons per unit, voxel 0.2x0.1x0.1 um): "
                 "relative error input %.4f, RL-200 %.4f, RL-TV-200 (lambda %g) %.4f; relative "
                 "change at iteration 200: RL %.2e, RL-TV %.2e",
                 e0, err[0], lambda, err[1], change[0], change[1]);
  g_assert_cmpfloat(err[1], <, err[0]);
  /* RL-TV settles like RL. (With the TV term subtracted from W instead of dividing the
   * normalised update, the padding around the image, where W << 1, oscillated: a relative
   * change of 0.27-0.58 per iteration on the bars data, whatever lambda.) */
  g_assert_cmpfloat(change[1], <, 2.0 * change[0] + 1e-3);
  lucy_volume_free(truth);
  lucy_volume_free(psf);
  lucy_volume_free(blurred);
}

/* ---- edges -------------------------------------------------------------------------------- */

/* Spheres cut by the image border: the truth is a larger field blurred and cropped, so the
 * image holds light from objects outside it. Non-circulant edges restore the border region
 * with a clearly smaller error than circular ones (which wrap the opposite edge in). */
static void test_edges(void) {
  const size_t big[3] = {24, 96, 96}, N[3] = {24, 64, 64}, M[3] = {9, 15, 15};
  LucyVolume *field = volume(big);
  const LucySphere spheres[] = {{{12, 48, 16}, 7, 10}, {{12, 20, 40}, 6, 8},
                                {{12, 70, 78}, 8, 6}, {{12, 40, 60}, 5, 9}};
  g_assert_cmpint(lucy_phantom_add_spheres(field, spheres, G_N_ELEMENTS(spheres)), ==, LUCY_OK);
  for (size_t i = 0; i < count3(big); i++) field->data[i] += 0.5f;
  LucyVolume *psf = NULL;
  const double sigma[3] = {1.5, 2.5, 2.5};
  g_assert_cmpint(lucy_psf_gaussian(M, sigma, &psf), ==, LUCY_OK);
  LucyConvOptions co;
  lucy_conv_options_default(&co);
  co.threads = 2;
  LucyVolume *blurred_big = NULL;
  g_assert_cmpint(lucy_convolve(field, psf, &co, &blurred_big), ==, LUCY_OK);
  /* the window x in [16, 80): spheres 1 (x 9..23) and 3 (x 70..86) are cut by its border */
  const ptrdiff_t at[3] = {0, 16, 16};
  LucyVolume *img = NULL, *truth = NULL;
  g_assert_cmpint(lucy_volume_crop_pad(blurred_big, at, N, 0, &img), ==, LUCY_OK);
  g_assert_cmpint(lucy_volume_crop_pad(field, at, N, 0, &truth), ==, LUCY_OK);
  double edge_err[2], inner_err[2];
  for (int b = 0; b < 2; b++) {
    LucyDeconOptions o = options((LucyBoundary)b, 100);
    LucyVolume *out = NULL;
    g_assert_cmpint(lucy_deconvolve(img, psf, &o, &out, NULL), ==, LUCY_OK);
    double ee = 0, et = 0, ie = 0, it = 0;
    for (size_t z = 0; z < N[0]; z++)
      for (size_t y = 0; y < N[1]; y++)
        for (size_t x = 0; x < N[2]; x++) {
          const size_t i = (z * N[1] + y) * N[2] + x;
          const double d = out->data[i] - truth->data[i], t = truth->data[i];
          const int edge = y < 8 || y >= N[1] - 8 || x < 8 || x >= N[2] - 8;
          if (edge) {
            ee += d * d;
            et += t * t;
          } else {
            ie += d * d;
            it += t * t;
          }
        }
    edge_err[b] = sqrt(ee / et);
    inner_err[b] = sqrt(ie / it);
    lucy_volume_free(out);
  }
  g_test_message("objects cut by the border, RL-100: relative error within 8 voxels of the y/x "
                 "borders: noncirculant %.4f, circular %.4f (ratio %.2f); inside: %.4f, %.4f",
                 edge_err[0], edge_err[1], edge_err[0] / edge_err[1], inner_err[0],
                 inner_err[1]);
  g_assert_cmpfloat(edge_err[0], <, 0.7 * edge_err[1]);
  lucy_volume_free(field);
  lucy_volume_free(psf);
  lucy_volume_free(blurred_big);
  lucy_volume_free(img);
  lucy_volume_free(truth);
}

/* ---- Wiener ------------------------------------------------------------------------------- */

static void test_wiener(void) {
  const size_t N[3] = {8, 16, 12}, M[3] = {3, 3, 3};
  GRand *rng = g_rand_new_with_seed(15);
  LucyVolume *truth = random_volume(rng, N, 0, 1);
  /* A well-conditioned PSF (|OTF| >= 0.2): Wiener with a tiny k inverts it. */
  LucyVolume *psf = volume(M);
  for (size_t i = 0; i < count3(M); i++) psf->data[i] = 0.01f;
  psf->data[13] = 0.74f;
  LucyConvOptions co;
  lucy_conv_options_default(&co);
  co.mode = LUCY_PAD_CIRCULAR;
  LucyVolume *blurred = NULL;
  g_assert_cmpint(lucy_convolve(truth, psf, &co, &blurred), ==, LUCY_OK);
  LucyDeconOptions o = options(LUCY_BOUNDARY_CIRCULAR, 1);
  o.method = LUCY_DECON_WIENER;
  o.wiener_k = 1e-7;
  LucyVolume *out = NULL;
  g_assert_cmpint(lucy_deconvolve(blurred, psf, &o, &out, NULL), ==, LUCY_OK);
  double maxd = 0;
  for (size_t i = 0; i < count3(N); i++) maxd = fmax(maxd, fabs(out->data[i] - truth->data[i]));
  g_test_message("Wiener (circular, k = 1e-7) inverting a well-conditioned blur: max error %.2e",
                 maxd);
  g_assert_cmpfloat(maxd, <, 1e-3);
  lucy_volume_free(out);
  /* non-circulant: blurred spheres restore closer to the truth than the input */
  o.boundary = LUCY_BOUNDARY_NONCIRCULANT;
  o.wiener_k = 1e-3;
  const size_t SN[3] = {16, 40, 40};
  LucyVolume *spheres = volume(SN);
  g_assert_cmpint(lucy_phantom_random_spheres(spheres, 6, 3, 6, 1.0, 3, NULL), ==, LUCY_OK);
  LucyVolume *g = NULL;
  const double sigma[3] = {1, 1.5, 1.5};
  const size_t GM[3] = {5, 9, 9};
  g_assert_cmpint(lucy_psf_gaussian(GM, sigma, &g), ==, LUCY_OK);
  co.mode = LUCY_PAD_SAME;
  LucyVolume *b2 = NULL;
  g_assert_cmpint(lucy_convolve(spheres, g, &co, &b2), ==, LUCY_OK);
  g_assert_cmpint(lucy_deconvolve(b2, g, &o, &out, NULL), ==, LUCY_OK);
  const double e_in = scaled_error(b2->data, spheres->data, count3(SN));
  const double e_out = scaled_error(out->data, spheres->data, count3(SN));
  g_test_message("Wiener (noncirculant, k = 1e-3) on blurred spheres: error %.4f -> %.4f", e_in,
                 e_out);
  g_assert_cmpfloat(e_out, <, 0.8 * e_in);
  lucy_volume_free(spheres);
  lucy_volume_free(out);
  lucy_volume_free(b2);
  lucy_volume_free(g);
  lucy_volume_free(blurred);
  lucy_volume_free(psf);
  lucy_volume_free(truth);
  g_rand_free(rng);
}

/* ---- PSF check and crop ------------------------------------------------------------------- */

static void test_psf_check(void) {
  const size_t M[3] = {15, 21, 21};
  const double sigma[3] = {2, 2.5, 2.5};
  LucyVolume *psf = NULL;
  g_assert_cmpint(lucy_psf_gaussian(M, sigma, &psf), ==, LUCY_OK);
  LucyPsfCheck c;
  g_assert_cmpint(lucy_psf_check(psf, LUCY_ORIGIN_CENTER, &c), ==, LUCY_OK);
  g_assert_false(c.off_centre);
  g_assert_cmpstr(c.message, ==, "");
  g_assert_cmpfloat(fabs(c.sum - 1), <, 1e-5);
  for (int a = 0; a < 3; a++) {
    g_assert_cmpuint(c.peak[a], ==, M[a] / 2);
    g_assert_cmpfloat(fabs(c.offset[a]), <, 1e-3);
  }
  /* shifted by (1, -3, 2) */
  const ptrdiff_t at[3] = {-1, 3, -2};
  LucyVolume *shifted = NULL;
  g_assert_cmpint(lucy_volume_crop_pad(psf, at, M, 0, &shifted), ==, LUCY_OK);
  g_assert_cmpint(lucy_psf_check(shifted, LUCY_ORIGIN_CENTER, &c), ==, LUCY_OK);
  g_assert_true(c.off_centre);
  g_assert_cmpuint(c.peak[0], ==, 8);
  g_assert_cmpuint(c.peak[1], ==, 7);
  g_assert_cmpuint(c.peak[2], ==, 12);
  g_assert_cmpfloat(fabs(c.offset[0] - 1), <, 0.1);
  g_assert_cmpfloat(fabs(c.offset[1] + 3), <, 0.1);
  g_assert_cmpfloat(fabs(c.offset[2] - 2), <, 0.1);
  g_assert_nonnull(strstr(c.message, "off-centre"));
  g_test_message("%s", c.message);
  /* the plan warns (and still plans) */
  const size_t N[3] = {16, 24, 24};
  LucyDeconOptions o = options(LUCY_BOUNDARY_NONCIRCULANT, 1);
  LucyDeconPlan *plan = NULL;
  g_assert_cmpint(lucy_decon_plan_new(N, NULL, shifted, &o, &plan), ==, LUCY_OK);
  g_assert_nonnull(lucy_decon_plan_warning(plan));
  g_assert_nonnull(strstr(lucy_decon_plan_warning(plan), "off-centre"));
  lucy_decon_plan_free(plan);
  g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_OK);
  g_assert_null(lucy_decon_plan_warning(plan));
  g_assert_cmpfloat(fabs(lucy_decon_psf_sum(plan) - 1), <, 1e-5);
  lucy_decon_plan_free(plan);

  /* crop: keeps >= 1 - drop of the energy, odd sizes centred on the origin */
  LucyVolume *big = NULL, *crop = NULL;
  const size_t B[3] = {31, 41, 40};
  g_assert_cmpint(lucy_psf_gaussian(B, sigma, &big), ==, LUCY_OK);
  g_assert_cmpint(lucy_psf_crop_energy(big, LUCY_ORIGIN_CENTER, 1e-3, &crop), ==, LUCY_OK);
  double kept = 0;
  for (size_t i = 0; i < count3(crop->shape); i++) kept += crop->data[i];
  g_test_message("PSF crop, drop 1e-3: %zux%zux%zu -> %zux%zux%zu keeping %.5f of the energy",
                 B[0], B[1], B[2], crop->shape[0], crop->shape[1], crop->shape[2], kept);
  g_assert_cmpfloat(kept, >=, 1 - 1e-3);
  for (int a = 0; a < 3; a++) {
    g_assert_cmpuint(crop->shape[a], <, B[a]);
    g_assert_cmpuint(crop->shape[a] % 2, ==, 1);
  }
  g_assert_cmpint(lucy_psf_check(crop, LUCY_ORIGIN_CENTER, &c), ==, LUCY_OK);
  g_assert_false(c.off_centre);
  lucy_volume_free(crop);
  g_assert_cmpint(lucy_psf_crop_energy(big, LUCY_ORIGIN_CENTER, 1.0, &crop), ==,
                  LUCY_ERR_INVALID_ARGUMENT);
  g_assert_null(crop);
  lucy_volume_free(big);
  lucy_volume_free(shifted);
  lucy_volume_free(psf);
}

/* ---- bad input ---------------------------------------------------------------------------- */

static void test_bad_input(void) {
  const size_t N[3] = {6, 8, 10}, M[3] = {3, 5, 5};
  GRand *rng = g_rand_new_with_seed(16);
  LucyVolume *psf = random_volume(rng, M, 0.1, 1);
  LucyDeconPlan *plan = NULL;
  /* PSF larger than the circular domain */
  const size_t small[3] = {6, 4, 10};
  LucyDeconOptions o = options(LUCY_BOUNDARY_CIRCULAR, 5);
  g_assert_cmpint(lucy_decon_plan_new(small, NULL, psf, &o, &plan), ==,
                  LUCY_ERR_INVALID_ARGUMENT);
  g_assert_null(plan);
  g_test_message("%s", lucy_error_message());
  g_assert_nonnull(strstr(lucy_error_message(), "on y the PSF has 5 voxels"));
  g_assert_nonnull(strstr(lucy_error_message(), "4"));
  /* iterations <= 0 */
  o = options(LUCY_BOUNDARY_NONCIRCULANT, 0);
  g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_cmpstr(lucy_error_message(), ==,
                  "deconvolution: iterations must be at least 1, got 0");
  o.iterations = -3;
  g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(lucy_error_message(), "-3"));
  /* negative lambda, background, k; bad start value; bad voxel size */
  o = options(LUCY_BOUNDARY_NONCIRCULANT, 3);
  o.tv_lambda = -1;
  g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(lucy_error_message(), "lambda"));
  o = options(LUCY_BOUNDARY_NONCIRCULANT, 3);
  o.background = -0.5;
  g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(lucy_error_message(), "-0.5"));
  o = options(LUCY_BOUNDARY_NONCIRCULANT, 3);
  o.method = LUCY_DECON_WIENER;
  o.wiener_k = 0;
  g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_ERR_INVALID_ARGUMENT);
  o = options(LUCY_BOUNDARY_NONCIRCULANT, 3);
  o.start = LUCY_START_VALUE;
  o.start_value = 0;
  g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_ERR_INVALID_ARGUMENT);
  o = options(LUCY_BOUNDARY_NONCIRCULANT, 3);
  const double vox[3] = {1, 0, 1};
  g_assert_cmpint(lucy_decon_plan_new(N, vox, psf, &o, &plan), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(lucy_error_message(), "on y"));
  /* NaN in the PSF */
  psf->data[7] = NAN;
  g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_ERR_NUMERIC);
  g_assert_cmpstr(lucy_error_message(), ==, "PSF has 1 non-finite value, first at z=0, y=1, x=2");
  psf->data[7] = 0.5f;
  g_assert_null(plan);

  /* images: zero, negative, NaN */
  g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_OK);
  float *img = g_new0(float, count3(N)), *out = g_new(float, count3(N));
  for (size_t i = 0; i < count3(N); i++) out[i] = 42.0f;
  g_assert_cmpint(lucy_decon_execute(plan, img, out, NULL), ==, LUCY_ERR_NUMERIC);
  g_test_message("%s", lucy_error_message());
  g_assert_nonnull(strstr(lucy_error_message(), "no positive voxel"));
  for (size_t i = 0; i < count3(N); i++) img[i] = -1.0f;
  g_assert_cmpint(lucy_decon_execute(plan, img, out, NULL), ==, LUCY_ERR_NUMERIC);
  g_assert_nonnull(strstr(lucy_error_message(), "maximum -1"));
  /* a background at or above every voxel leaves nothing to restore (RL would give zeros) */
  lucy_decon_plan_free(plan);
  plan = NULL;
  o.background = 2.0;
  g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_OK);
  for (size_t i = 0; i < count3(N); i++) img[i] = 1.0f + (float)(i % 2);
  g_assert_cmpint(lucy_decon_execute(plan, img, out, NULL), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(lucy_error_message(), "background 2 is at or above the image's maximum 2"));
  for (size_t i = 0; i < count3(N); i++) g_assert_cmpfloat(out[i], ==, 42.0f);
  lucy_decon_plan_free(plan);
  plan = NULL;
  o.background = 0.0;
  g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_OK);
  for (size_t i = 0; i < count3(N); i++) img[i] = 1.0f;
  img[(2 * N[1] + 3) * N[2] + 4] = NAN;
  g_assert_cmpint(lucy_decon_execute(plan, img, out, NULL), ==, LUCY_ERR_NUMERIC);
  g_assert_cmpstr(lucy_error_message(), ==, "image has 1 non-finite value, first at z=2, y=3, x=4");
  for (size_t i = 0; i < count3(N); i++) g_assert_cmpfloat(out[i], ==, 42.0f);
  g_assert_cmpint(lucy_decon_execute(plan, NULL, out, NULL), ==, LUCY_ERR_INVALID_ARGUMENT);
  /* names */
  LucyDeconMethod meth;
  LucyBoundary bd;
  g_assert_cmpint(lucy_decon_method_parse("RLTV", &meth), ==, LUCY_OK);
  g_assert_cmpint(meth, ==, LUCY_DECON_RLTV);
  g_assert_cmpint(lucy_decon_method_parse("mem", &meth), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(lucy_error_message(), "rl, rltv, wiener"));
  g_assert_cmpint(lucy_boundary_parse("circular", &bd), ==, LUCY_OK);
  g_assert_cmpint(bd, ==, LUCY_BOUNDARY_CIRCULAR);
  g_assert_cmpint(lucy_boundary_parse("mirror", &bd), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_cmpstr(lucy_decon_method_name(LUCY_DECON_WIENER), ==, "wiener");
  g_assert_cmpstr(lucy_boundary_name(LUCY_BOUNDARY_NONCIRCULANT), ==, "noncirculant");
  lucy_decon_plan_free(plan);
  g_free(img);
  g_free(out);
  lucy_volume_free(psf);
  g_rand_free(rng);
}

/* ---- cancel, monitor, stop, memory -------------------------------------------------------- */

typedef struct {
  int calls, cancel_at;
} Counter;

static int cancel_progress(void *user, double fraction, const char *stage) {
  Counter *c = user;
  (void)stage;
  g_assert_cmpfloat(fraction, >=, 0);
  g_assert_cmpfloat(fraction, <=, 1);
  return ++c->calls == c->cancel_at;
}

static int cancel_monitor(void *user, const LucyDeconIteration *it) {
  Counter *c = user;
  c->calls++;
  g_assert_cmpint(it->iteration, ==, c->calls);
  g_assert_true(isfinite(it->idiv));
  return it->iteration == c->cancel_at;
}

static void test_cancel(void) {
  const size_t N[3] = {8, 16, 16}, M[3] = {3, 5, 5};
  GRand *rng = g_rand_new_with_seed(17);
  LucyVolume *psf = random_volume(rng, M, 0.1, 1);
  LucyVolume *img = random_volume(rng, N, 1, 5);
  float *out = g_new(float, count3(N));
  for (int accel = 0; accel < 2; accel++)
    for (int b = 0; b < 2; b++) {
      Counter c = {0, 9}; /* inside the third iteration */
      LucyDeconOptions o = options((LucyBoundary)b, 10);
      o.accelerate = accel;
      o.progress = cancel_progress;
      o.progress_user = &c;
      LucyDeconPlan *plan = NULL;
      g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_OK);
      for (size_t i = 0; i < count3(N); i++) out[i] = -7.0f;
      int done = -1;
      g_assert_cmpint(lucy_decon_execute(plan, img->data, out, &done), ==, LUCY_ERR_CANCELLED);
      g_assert_cmpint(done, ==, 0);
      for (size_t i = 0; i < count3(N); i++) g_assert_cmpfloat(out[i], ==, -7.0f);
      g_assert_nonnull(strstr(lucy_error_message(), "cancelled in iteration 3"));
      /* the plan still works after a cancel */
      c.cancel_at = -1;
      g_assert_cmpint(lucy_decon_execute(plan, img->data, out, &done), ==, LUCY_OK);
      g_assert_cmpint(done, ==, 10);
      lucy_decon_plan_free(plan);
      /* the monitor cancels too */
      Counter mc = {0, 4};
      o.progress = NULL;
      o.monitor = cancel_monitor;
      o.monitor_user = &mc;
      g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_OK);
      for (size_t i = 0; i < count3(N); i++) out[i] = -7.0f;
      g_assert_cmpint(lucy_decon_execute(plan, img->data, out, NULL), ==, LUCY_ERR_CANCELLED);
      g_assert_cmpint(mc.calls, ==, 4);
      for (size_t i = 0; i < count3(N); i++) g_assert_cmpfloat(out[i], ==, -7.0f);
      lucy_decon_plan_free(plan);
    }
  g_free(out);
  lucy_volume_free(psf);
  lucy_volume_free(img);
  g_rand_free(rng);
}

typedef struct {
  int calls, previews;
  double last_rel;
  float *last_preview;
  size_t n;
} Watch;

static int watch(void *user, const LucyDeconIteration *it) {
  Watch *w = user;
  w->calls++;
  w->last_rel = it->rel_change;
  g_assert_cmpfloat(it->seconds, >=, 0);
  if (it->estimate) {
    g_assert_cmpint(it->iteration % 3, ==, 0);
    w->previews++;
    memcpy(w->last_preview, it->estimate, w->n * sizeof(float));
  }
  return 0;
}

static void test_monitor_stop(void) {
  const size_t N[3] = {8, 20, 18}, M[3] = {3, 5, 5};
  GRand *rng = g_rand_new_with_seed(18);
  LucyVolume *psf = random_volume(rng, M, 0.1, 1);
  LucyVolume *img = random_volume(rng, N, 1, 5);
  const size_t n = count3(N);
  for (int accel = 0; accel < 2; accel++) {
    Watch w = {.n = n, .last_preview = g_new(float, n)};
    LucyDeconOptions o = options(LUCY_BOUNDARY_NONCIRCULANT, 12);
    o.accelerate = accel;
    o.monitor = watch;
    o.monitor_user = &w;
    o.preview_every = 3;
    LucyDeconPlan *plan = NULL;
    g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_OK);
    float *out = g_new(float, n);
    int done = 0;
    g_assert_cmpint(lucy_decon_execute(plan, img->data, out, &done), ==, LUCY_OK);
    g_assert_cmpint(done, ==, 12);
    g_assert_cmpint(w.calls, ==, 12);
    g_assert_cmpint(w.previews, ==, 4);
    for (size_t i = 0; i < n; i++) g_assert_cmpfloat(w.last_preview[i], ==, out[i]);
    lucy_decon_plan_free(plan);
    /* stop on the relative change */
    o.iterations = 500;
    o.stop_rel = 2e-3;
    w.calls = 0;
    g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_OK);
    g_assert_cmpint(lucy_decon_execute(plan, img->data, out, &done), ==, LUCY_OK);
    g_test_message("stop_rel 2e-3 (%s): stopped after %d iterations, last change %.2e",
                   accel ? "accelerated" : "plain", done, w.last_rel);
    g_assert_cmpint(done, <, 500);
    g_assert_cmpint(done, ==, w.calls);
    g_assert_cmpfloat(w.last_rel, <, 2e-3);
    /* out may be the image itself */
    float *copy = g_memdup2(img->data, n * sizeof(float));
    g_assert_cmpint(lucy_decon_execute(plan, copy, copy, NULL), ==, LUCY_OK);
    for (size_t i = 0; i < n; i++) g_assert_cmpfloat(copy[i], ==, out[i]);
    g_free(copy);
    lucy_decon_plan_free(plan);
    g_free(out);
    g_free(w.last_preview);
  }
  lucy_volume_free(psf);
  lucy_volume_free(img);
  g_rand_free(rng);
}

/* out may be the image itself (the CLI restores in place to save memory): the result must be
 * bit-identical to restoring into a separate array, for RL with both edges and for Wiener. */
static void test_in_place(void) {
  const size_t N[3] = {6, 20, 18}, M[3] = {3, 7, 5};
  GRand *rng = g_rand_new_with_seed(23);
  LucyVolume *psf = random_volume(rng, M, 0.1, 1);
  LucyVolume *img = random_volume(rng, N, 1, 2);
  const size_t n = count3(N);
  const struct { LucyBoundary b; LucyDeconMethod m; } cases[] = {
      {LUCY_BOUNDARY_NONCIRCULANT, LUCY_DECON_RL}, {LUCY_BOUNDARY_CIRCULAR, LUCY_DECON_RL},
      {LUCY_BOUNDARY_NONCIRCULANT, LUCY_DECON_WIENER}};
  for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
    LucyDeconOptions o = options(cases[c].b, 5);
    o.method = cases[c].m;
    LucyDeconPlan *plan = NULL;
    g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_OK);
    float *apart = g_new(float, n), *inplace = g_memdup2(img->data, n * sizeof(float));
    g_assert_cmpint(lucy_decon_execute(plan, img->data, apart, NULL), ==, LUCY_OK);
    g_assert_cmpint(lucy_decon_execute(plan, inplace, inplace, NULL), ==, LUCY_OK);
    g_assert_cmpmem(inplace, n * sizeof(float), apart, n * sizeof(float));
    g_free(apart);
    g_free(inplace);
    lucy_decon_plan_free(plan);
  }
  lucy_volume_free(img);
  lucy_volume_free(psf);
  g_rand_free(rng);
}

static void test_memory(void) {
  const size_t N[3] = {10, 30, 28}, M[3] = {5, 9, 7};
  GRand *rng = g_rand_new_with_seed(19);
  LucyVolume *psf = random_volume(rng, M, 0.1, 1);
  LucyDeviceOptions dopts;
  lucy_device_options_default(&dopts);
  dopts.threads = 2;
  LucyDevice *dev = NULL;
  g_assert_cmpint(lucy_device_new(&dopts, &dev), ==, LUCY_OK);
  const struct {
    LucyBoundary b;
    LucyDeconMethod m;
    int accel;
    int expect_p; /* padded buffers */
  } cases[] = {{LUCY_BOUNDARY_NONCIRCULANT, LUCY_DECON_RL, 0, 4},
               {LUCY_BOUNDARY_CIRCULAR, LUCY_DECON_RL, 0, 3},
               {LUCY_BOUNDARY_NONCIRCULANT, LUCY_DECON_RLTV, 0, 5},
               {LUCY_BOUNDARY_NONCIRCULANT, LUCY_DECON_RL, 1, 6},
               {LUCY_BOUNDARY_CIRCULAR, LUCY_DECON_WIENER, 0, 2}};
  for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
    LucyDeconOptions o = options(cases[c].b, 3);
    o.method = cases[c].m;
    o.accelerate = cases[c].accel;
    o.device = dev;
    LucyMemoryInfo before, during;
    g_assert_cmpint(lucy_device_memory_info(dev, &before), ==, LUCY_OK);
    LucyDeconPlan *plan = NULL;
    g_assert_cmpint(lucy_decon_plan_new(N, NULL, psf, &o, &plan), ==, LUCY_OK);
    size_t L[3];
    lucy_decon_fft_shape(plan, L);
    const size_t P = lucy__padded_count(L) * sizeof(float);
    /* The CPU device reads the caller's image in place: padded buffers only, no N copy. */
    const size_t want = (size_t)cases[c].expect_p * P;
    g_assert_cmpuint(lucy_decon_plan_bytes(plan), ==, want);
    g_assert_cmpint(lucy_device_memory_info(dev, &during), ==, LUCY_OK);
    g_assert_cmpuint(during.lucy_bytes - before.lucy_bytes, ==, want);
    /* executing allocates nothing on the device */
    LucyVolume *img = random_volume(rng, N, 1, 2);
    float *out = g_new(float, count3(N));
    const size_t peak_before = during.lucy_peak_bytes;
    g_assert_cmpint(lucy_decon_execute(plan, img->data, out, NULL), ==, LUCY_OK);
    g_assert_cmpint(lucy_device_memory_info(dev, &during), ==, LUCY_OK);
    g_assert_cmpuint(during.lucy_peak_bytes, ==, peak_before);
    g_free(out);
    lucy_volume_free(img);
    lucy_decon_plan_free(plan);
  }
  lucy_device_unref(dev);
  lucy_volume_free(psf);
  g_rand_free(rng);
}

typedef void (*TestFunc)(void);
static const struct {
  const char *path;
  TestFunc func;
} low_memory_tests[] = {
  {"/deconvolve/low-memory/adjoint", test_adjoint},
  {"/deconvolve/low-memory/impulse", test_impulse},
  {"/deconvolve/low-memory/direct-reference", test_direct_reference},
  {"/deconvolve/low-memory/flux", test_flux},
  {"/deconvolve/low-memory/skimage", test_skimage},
  {"/deconvolve/low-memory/edges", test_edges},
  {"/deconvolve/low-memory/wiener", test_wiener},
  {"/deconvolve/low-memory/in-place", test_in_place},
};

static void run_low_memory(gconstpointer data) {
  plan_strategy = LUCY_STRATEGY_LOW_MEMORY;
  low_memory_tests[GPOINTER_TO_SIZE(data)].func();
  plan_strategy = LUCY_STRATEGY_AUTO;
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  test_target_init();
  for (size_t i = 0; i < G_N_ELEMENTS(low_memory_tests); i++)
    g_test_add_data_func(low_memory_tests[i].path, GSIZE_TO_POINTER(i), run_low_memory);
  g_test_add_func("/deconvolve/adjoint", test_adjoint);
  g_test_add_func("/deconvolve/impulse", test_impulse);
  g_test_add_func("/deconvolve/direct-reference", test_direct_reference);
  g_test_add_func("/deconvolve/flux", test_flux);
  g_test_add_func("/deconvolve/skimage", test_skimage);
  g_test_add_func("/deconvolve/bars", test_bars);
  g_test_add_func("/deconvolve/rltv-phantom", test_rltv_phantom);
  g_test_add_func("/deconvolve/edges", test_edges);
  g_test_add_func("/deconvolve/wiener", test_wiener);
  g_test_add_func("/deconvolve/psf-check", test_psf_check);
  g_test_add_func("/deconvolve/bad-input", test_bad_input);
  g_test_add_func("/deconvolve/cancel", test_cancel);
  g_test_add_func("/deconvolve/monitor-stop", test_monitor_stop);
  g_test_add_func("/deconvolve/memory", test_memory);
  g_test_add_func("/deconvolve/in-place", test_in_place);
  return g_test_run();
}
