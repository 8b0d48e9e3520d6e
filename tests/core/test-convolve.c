/* Convolution: every padding mode and origin against a direct double-precision sum, scipy
 * fixtures, impulses and wrap-around ghosts, the adjoint identity, normalisation, bad input,
 * cancellation, plan reuse and memory. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device-impl.h"
#include "memory-private.h"
#include "test-target.h"
#include "lucy/convolve.h"
#include "lucy/volume.h"

#define REL_TOL 1e-5

static const char *mode_name[] = {"circular", "same", "full", "valid"};

/* ---- helpers ------------------------------------------------------------------------------ */

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

static size_t origin(size_t m, LucyOrigin o) { return o == LUCY_ORIGIN_SCIPY ? (m - 1) / 2 : m / 2; }

/* The direct sum full[n] = sum_i img[i] psf[n - i] in double, shape N + M - 1. */
static double *direct_full(const float *img, const size_t N[3], const float *psf,
                           const size_t M[3], double psf_scale) {
  const size_t F[3] = {N[0] + M[0] - 1, N[1] + M[1] - 1, N[2] + M[2] - 1};
  double *full = g_new0(double, count3(F));
  for (size_t iz = 0; iz < N[0]; iz++)
    for (size_t iy = 0; iy < N[1]; iy++)
      for (size_t ix = 0; ix < N[2]; ix++) {
        const double v = img[(iz * N[1] + iy) * N[2] + ix];
        for (size_t kz = 0; kz < M[0]; kz++)
          for (size_t ky = 0; ky < M[1]; ky++)
            for (size_t kx = 0; kx < M[2]; kx++)
              full[((iz + kz) * F[1] + iy + ky) * F[2] + ix + kx] +=
                  v * psf_scale * psf[(kz * M[1] + ky) * M[2] + kx];
      }
  return full;
}

/* circular[j] = sum_k img[(j - k + o) mod N] psf[k], directly. */
static double *direct_circular(const float *img, const size_t N[3], const float *psf,
                               const size_t M[3], const size_t o[3], double psf_scale) {
  double *out = g_new0(double, count3(N));
  for (size_t jz = 0; jz < N[0]; jz++)
    for (size_t jy = 0; jy < N[1]; jy++)
      for (size_t jx = 0; jx < N[2]; jx++) {
        double acc = 0;
        for (size_t kz = 0; kz < M[0]; kz++)
          for (size_t ky = 0; ky < M[1]; ky++)
            for (size_t kx = 0; kx < M[2]; kx++) {
              /* (j - k + o) mod N with k up to M - 1, possibly > N */
              size_t z = (jz + o[0] + N[0] * M[0] - kz) % N[0];
              size_t y = (jy + o[1] + N[1] * M[1] - ky) % N[1];
              size_t x = (jx + o[2] + N[2] * M[2] - kx) % N[2];
              acc += (double)img[(z * N[1] + y) * N[2] + x] * psf_scale *
                     psf[(kz * M[1] + ky) * M[2] + kx];
            }
        out[(jz * N[1] + jy) * N[2] + jx] = acc;
      }
  return out;
}

/* The expected output of mode for img (*) psf, by the definitions: same[j] = full[j + o],
 * valid[j] = full[j + M - 1]. Sets out_shape. */
static double *reference(LucyPadMode mode, LucyOrigin org, const float *img, const size_t N[3],
                         const float *psf, const size_t M[3], double psf_scale,
                         size_t out_shape[3]) {
  size_t o[3];
  for (int a = 0; a < 3; a++) o[a] = origin(M[a], org);
  if (mode == LUCY_PAD_CIRCULAR) {
    memcpy(out_shape, N, 3 * sizeof(size_t));
    return direct_circular(img, N, psf, M, o, psf_scale);
  }
  double *full = direct_full(img, N, psf, M, psf_scale);
  const size_t F[3] = {N[0] + M[0] - 1, N[1] + M[1] - 1, N[2] + M[2] - 1};
  if (mode == LUCY_PAD_FULL) {
    memcpy(out_shape, F, sizeof F);
    return full;
  }
  size_t start[3];
  for (int a = 0; a < 3; a++) {
    start[a] = mode == LUCY_PAD_SAME ? o[a] : M[a] - 1;
    out_shape[a] = mode == LUCY_PAD_SAME ? N[a] : N[a] - M[a] + 1;
  }
  double *out = g_new(double, count3(out_shape));
  for (size_t z = 0; z < out_shape[0]; z++)
    for (size_t y = 0; y < out_shape[1]; y++)
      for (size_t x = 0; x < out_shape[2]; x++)
        out[(z * out_shape[1] + y) * out_shape[2] + x] =
            full[((z + start[0]) * F[1] + y + start[1]) * F[2] + x + start[2]];
  g_free(full);
  return out;
}

/* max |got - want| / max |want| */
static double rel_error(const float *got, const double *want, size_t n) {
  double maxdiff = 0, maxref = 0;
  for (size_t i = 0; i < n; i++) {
    maxdiff = fmax(maxdiff, fabs(got[i] - want[i]));
    maxref = fmax(maxref, fabs(want[i]));
  }
  return maxref > 0 ? maxdiff / maxref : maxdiff;
}

/* The plans' strategy: the tests against direct sums and the adjoint tests run again with
 * LUCY_STRATEGY_LOW_MEMORY (the OTF as PSF planes, its z-DFT inside the multiply). */
static LucyStrategy plan_strategy = LUCY_STRATEGY_AUTO;

static LucyConvOptions options(LucyPadMode mode, LucyOrigin org, int normalize) {
  LucyConvOptions o;
  lucy_conv_options_default(&o);
  o.mode = mode;
  o.origin = org;
  o.normalize = normalize;
  o.threads = 2;
  o.strategy = plan_strategy;
  o.device = test_target_device();
  return o;
}

/* ---- every mode against the direct sum ----------------------------------------------------- */

typedef struct {
  size_t N[3], M[3];
} ShapeCase;

static const ShapeCase shape_cases[] = {
  {{5, 6, 7}, {3, 4, 2}},     /* odd and even PSF sizes, smaller than the image */
  {{6, 7, 8}, {4, 3, 5}},
  {{7, 8, 6}, {2, 6, 4}},     /* all even */
  {{6, 5, 9}, {5, 3, 7}},     /* all odd */
  {{4, 5, 6}, {5, 6, 7}},     /* PSF larger than the image on every axis */
  {{3, 4, 5}, {8, 9, 12}},    /* much larger: wraps more than once in circular */
  {{5, 6, 7}, {1, 1, 1}},     /* a single voxel */
  {{4, 9, 2}, {4, 1, 2}},     /* PSF as large as the image on some axes */
  {{1, 12, 13}, {1, 5, 4}},   /* 2-D */
  {{1, 9, 10}, {1, 11, 14}},  /* 2-D, PSF larger */
  {{1, 1, 17}, {1, 1, 6}},    /* 1-D */
};

static void check_against_direct(LucyPadMode mode, LucyOrigin org, const ShapeCase *c,
                                  GRand *rng, int normalize) {
  LucyVolume *img = random_volume(rng, c->N, -1, 1);
  LucyVolume *psf = random_volume(rng, c->M, 0, 1);
  LucyConvOptions opts = options(mode, org, normalize);
  LucyConvPlan *plan = NULL;
  g_assert_cmpint(lucy_conv_plan_new(c->N, psf, &opts, &plan), ==, LUCY_OK);
  if (plan_strategy == LUCY_STRATEGY_LOW_MEMORY)
    g_assert_cmpint(lucy_conv_plan_strategy(plan), ==, LUCY_STRATEGY_LOW_MEMORY);
  double sum = 0;
  for (size_t i = 0; i < count3(c->M); i++) sum += psf->data[i];
  g_assert_cmpfloat(fabs(lucy_conv_psf_sum(plan) - sum), <, 1e-9 * sum);
  size_t want_shape[3], got_shape[3];
  double *want = reference(mode, org, img->data, c->N, psf->data, c->M,
                           normalize ? 1.0 / sum : 1.0, want_shape);
  lucy_conv_output_shape(plan, got_shape);
  for (int a = 0; a < 3; a++) g_assert_cmpuint(got_shape[a], ==, want_shape[a]);
  float *out = g_new(float, count3(got_shape));
  g_assert_cmpint(lucy_conv_execute(plan, img->data, out), ==, LUCY_OK);
  double err = rel_error(out, want, count3(got_shape));
  if (err >= REL_TOL)
    g_error("%s origin=%d N=%zux%zux%zu M=%zux%zux%zu: relative error %g", mode_name[mode], org,
            c->N[0], c->N[1], c->N[2], c->M[0], c->M[1], c->M[2], err);
  g_free(out);
  g_free(want);
  lucy_conv_plan_free(plan);
  lucy_volume_free(img);
  lucy_volume_free(psf);
}

static void test_direct(gconstpointer data) {
  const LucyPadMode mode = (LucyPadMode)GPOINTER_TO_INT(data);
  GRand *rng = g_rand_new_with_seed(100 + mode);
  int checked = 0;
  for (size_t c = 0; c < G_N_ELEMENTS(shape_cases); c++) {
    const ShapeCase *sc = &shape_cases[c];
    if (mode == LUCY_PAD_VALID &&
        (sc->M[0] > sc->N[0] || sc->M[1] > sc->N[1] || sc->M[2] > sc->N[2]))
      continue;
    for (int org = 0; org < 2; org++)
      for (int norm = 0; norm < 2; norm++) {
        check_against_direct(mode, (LucyOrigin)org, sc, rng, norm);
        checked++;
      }
  }
  g_assert_cmpint(checked, >=, 24);
  g_rand_free(rng);
}

/* Random shapes: sizes 1..9, PSF 1..11 (also larger than the image). */
static void test_direct_random(void) {
  GRand *rng = g_rand_new_with_seed(7);
  for (int t = 0; t < 60; t++) {
    ShapeCase c;
    for (int a = 0; a < 3; a++) {
      c.N[a] = (size_t)g_rand_int_range(rng, 1, 10);
      c.M[a] = (size_t)g_rand_int_range(rng, 1, 12);
    }
    LucyPadMode mode = (LucyPadMode)(t % 4);
    if (mode == LUCY_PAD_VALID)
      for (int a = 0; a < 3; a++)
        if (c.M[a] > c.N[a]) c.M[a] = c.N[a];
    check_against_direct(mode, (LucyOrigin)((t / 4) % 2), &c, rng, 1);
  }
  g_rand_free(rng);
}

/* ---- scipy fixtures ------------------------------------------------------------------------- */

static float *read_f32(const char *dir, const char *name, const char *kind, size_t shape[3]) {
  char *file = g_strdup_printf("%s.%s.f32", name, kind);
  char *path = g_build_filename(dir, file, NULL);
  char *bytes = NULL;
  gsize len = 0;
  GError *err = NULL;
  if (!g_file_get_contents(path, &bytes, &len, &err)) g_error("%s", err->message);
  char *nl = memchr(bytes, '\n', len);
  g_assert_nonnull(nl);
  g_assert_cmpint(sscanf(bytes, "LUCYF32 %zu %zu %zu", &shape[0], &shape[1], &shape[2]), ==, 3);
  const size_t n = count3(shape);
  g_assert_cmpuint(len - (size_t)(nl + 1 - bytes), ==, n * 4);
  float *v = g_new(float, n);
  const unsigned char *p = (const unsigned char *)nl + 1;
  for (size_t i = 0; i < n; i++) {
    guint32 u = (guint32)p[4 * i] | (guint32)p[4 * i + 1] << 8 | (guint32)p[4 * i + 2] << 16 |
                (guint32)p[4 * i + 3] << 24;
    memcpy(&v[i], &u, 4);
  }
  g_free(bytes);
  g_free(path);
  g_free(file);
  return v;
}

static void test_scipy_fixtures(void) {
  const char *fixtures = g_getenv("LUCY_FIXTURES");
  if (!fixtures) {
    g_test_skip("LUCY_FIXTURES is not set");
    return;
  }
  char *dir = g_build_filename(fixtures, "conv", NULL);
  char *index = g_build_filename(dir, "cases.txt", NULL);
  char *text = NULL;
  GError *err = NULL;
  if (!g_file_get_contents(index, &text, NULL, &err)) g_error("%s", err->message);
  char **lines = g_strsplit(text, "\n", -1);
  int cases = 0, same_even = 0;
  for (char **l = lines; *l; l++) {
    char name[64], mode_str[16];
    if (**l == '#' || sscanf(*l, "%63s %15s", name, mode_str) != 2) continue;
    LucyPadMode mode;
    g_assert_cmpint(lucy_pad_mode_parse(mode_str, &mode), ==, LUCY_OK);
    size_t N[3], M[3], R[3], got[3];
    float *img = read_f32(dir, name, "img", N);
    float *psfv = read_f32(dir, name, "psf", M);
    float *ref = read_f32(dir, name, "out", R);
    LucyVolume psf = {{M[0], M[1], M[2]}, {1, 1, 1}, psfv};
    LucyConvOptions opts = options(mode, LUCY_ORIGIN_SCIPY, 0);
    LucyConvPlan *plan = NULL;
    g_assert_cmpint(lucy_conv_plan_new(N, &psf, &opts, &plan), ==, LUCY_OK);
    lucy_conv_output_shape(plan, got);
    for (int a = 0; a < 3; a++) g_assert_cmpuint(got[a], ==, R[a]);
    float *out = g_new(float, count3(R));
    g_assert_cmpint(lucy_conv_execute(plan, img, out), ==, LUCY_OK);
    double *refd = g_new(double, count3(R));
    for (size_t i = 0; i < count3(R); i++) refd[i] = ref[i];
    double e = rel_error(out, refd, count3(R));
    if (e >= REL_TOL) g_error("fixture %s: relative error %g against scipy", name, e);
    if (mode == LUCY_PAD_SAME && (M[1] % 2 == 0 || M[2] % 2 == 0)) same_even++;
    cases++;
    lucy_conv_plan_free(plan);
    g_free(out);
    g_free(refd);
    g_free(img);
    g_free(psfv);
    g_free(ref);
  }
  g_assert_cmpint(cases, >=, 10);
  g_assert_cmpint(same_even, >=, 2);
  g_strfreev(lines);
  g_free(text);
  g_free(index);
  g_free(dir);
}

/* ---- impulses and wrap-around ------------------------------------------------------------- */

static void test_impulse(void) {
  const size_t N[3] = {9, 11, 13}, M[3] = {3, 4, 6};
  GRand *rng = g_rand_new_with_seed(3);
  LucyVolume *psf = random_volume(rng, M, 0.1, 1);
  double sum = 0;
  for (size_t i = 0; i < count3(M); i++) sum += psf->data[i];
  for (int org = 0; org < 2; org++) {
    LucyConvOptions opts = options(LUCY_PAD_SAME, (LucyOrigin)org, 1);
    LucyConvPlan *plan = NULL;
    g_assert_cmpint(lucy_conv_plan_new(N, psf, &opts, &plan), ==, LUCY_OK);
    const size_t centres[][3] = {{4, 5, 6}, {5, 3, 9}, {0, 0, 0}, {8, 10, 12}};
    float *img = g_new0(float, count3(N)), *out = g_new(float, count3(N));
    for (size_t c = 0; c < G_N_ELEMENTS(centres); c++) {
      const size_t *ct = centres[c];
      memset(img, 0, count3(N) * sizeof(float));
      img[(ct[0] * N[1] + ct[1]) * N[2] + ct[2]] = 1.0f;
      g_assert_cmpint(lucy_conv_execute(plan, img, out), ==, LUCY_OK);
      /* The PSF appears with its origin voxel on the impulse: out[c + k - o] = psf[k]. */
      for (size_t z = 0; z < N[0]; z++)
        for (size_t y = 0; y < N[1]; y++)
          for (size_t x = 0; x < N[2]; x++) {
            ptrdiff_t kz = (ptrdiff_t)z - (ptrdiff_t)ct[0] + (ptrdiff_t)origin(M[0], org);
            ptrdiff_t ky = (ptrdiff_t)y - (ptrdiff_t)ct[1] + (ptrdiff_t)origin(M[1], org);
            ptrdiff_t kx = (ptrdiff_t)x - (ptrdiff_t)ct[2] + (ptrdiff_t)origin(M[2], org);
            double want = 0;
            if (kz >= 0 && ky >= 0 && kx >= 0 && kz < (ptrdiff_t)M[0] &&
                ky < (ptrdiff_t)M[1] && kx < (ptrdiff_t)M[2])
              want = psf->data[((size_t)kz * M[1] + (size_t)ky) * M[2] + (size_t)kx] / sum;
            g_assert_cmpfloat(fabs(out[(z * N[1] + y) * N[2] + x] - want), <, 1e-6);
          }
    }
    g_free(img);
    g_free(out);
    lucy_conv_plan_free(plan);
  }
  /* With the centre origin an odd PSF's centre lands on the impulse, and the origin of an even
   * PSF is the voxel just past the middle (numpy.fft.ifftshift's). */
  const size_t M2[3] = {1, 1, 4};
  LucyVolume *ramp = volume(M2);
  for (int i = 0; i < 4; i++) ramp->data[i] = (float)(i + 1);
  const size_t N2[3] = {1, 1, 8};
  LucyConvOptions opts = options(LUCY_PAD_SAME, LUCY_ORIGIN_CENTER, 0);
  LucyConvPlan *plan = NULL;
  g_assert_cmpint(lucy_conv_plan_new(N2, ramp, &opts, &plan), ==, LUCY_OK);
  float img[8] = {0, 0, 0, 0, 1, 0, 0, 0}, out[8];
  g_assert_cmpint(lucy_conv_execute(plan, img, out), ==, LUCY_OK);
  const float want[8] = {0, 0, 1, 2, 3, 4, 0, 0};
  for (int i = 0; i < 8; i++) g_assert_cmpfloat(fabs(out[i] - want[i]), <, 1e-6);
  lucy_conv_plan_free(plan);
  lucy_volume_free(ramp);
  lucy_volume_free(psf);
  g_rand_free(rng);
}

static void test_wrap_ghost(void) {
  /* An impulse one voxel from the right edge, a 5-wide PSF: circular wraps two voxels of it
   * onto the left edge; same cuts them off; full keeps them past the edge. */
  const size_t N[3] = {1, 3, 16}, M[3] = {1, 1, 5};
  LucyVolume *psf = volume(M);
  for (int i = 0; i < 5; i++) psf->data[i] = (float)(i + 1);
  float img[48] = {0}, out[48], outf[3 * 20];
  img[16 + 14] = 1.0f; /* y = 1, x = 14 */
  LucyConvOptions oc = options(LUCY_PAD_CIRCULAR, LUCY_ORIGIN_CENTER, 0);
  LucyConvPlan *plan = NULL;
  g_assert_cmpint(lucy_conv_plan_new(N, psf, &oc, &plan), ==, LUCY_OK);
  g_assert_cmpint(lucy_conv_execute(plan, img, out), ==, LUCY_OK);
  /* x = 12..16 get psf[0..4]; 16 wraps to 0 */
  g_assert_cmpfloat(fabs(out[16 + 12] - 1), <, 1e-6);
  g_assert_cmpfloat(fabs(out[16 + 15] - 4), <, 1e-6);
  g_assert_cmpfloat(fabs(out[16 + 0] - 5), <, 1e-6); /* the ghost */
  g_assert_cmpfloat(fabs(out[16 + 1]), <, 1e-6);
  lucy_conv_plan_free(plan);

  LucyConvOptions os = options(LUCY_PAD_SAME, LUCY_ORIGIN_CENTER, 0);
  g_assert_cmpint(lucy_conv_plan_new(N, psf, &os, &plan), ==, LUCY_OK);
  g_assert_cmpint(lucy_conv_execute(plan, img, out), ==, LUCY_OK);
  g_assert_cmpfloat(fabs(out[16 + 15] - 4), <, 1e-6);
  for (int x = 0; x < 12; x++) g_assert_cmpfloat(fabs(out[16 + x]), <, 1e-6); /* no ghost */
  lucy_conv_plan_free(plan);

  LucyConvOptions of = options(LUCY_PAD_FULL, LUCY_ORIGIN_CENTER, 0);
  g_assert_cmpint(lucy_conv_plan_new(N, psf, &of, &plan), ==, LUCY_OK);
  size_t fs[3];
  lucy_conv_output_shape(plan, fs);
  g_assert_cmpuint(fs[2], ==, 20);
  g_assert_cmpint(lucy_conv_execute(plan, img, outf), ==, LUCY_OK);
  /* full[n] = sum img[i] psf[n - i]: n = 14..18 */
  for (int x = 0; x < 20; x++) {
    float want = x >= 14 && x <= 18 ? (float)(x - 14 + 1) : 0.0f;
    g_assert_cmpfloat(fabs(outf[20 + x] - want), <, 1e-6);
  }
  lucy_conv_plan_free(plan);
  lucy_volume_free(psf);
}

/* ---- adjoint ------------------------------------------------------------------------------- */

static void test_adjoint(void) {
  GRand *rng = g_rand_new_with_seed(21);
  const ShapeCase cases[] = {
    {{5, 6, 7}, {3, 4, 2}}, {{6, 7, 8}, {4, 3, 5}}, {{4, 5, 6}, {5, 6, 7}},
    {{3, 4, 5}, {8, 9, 12}}, {{1, 12, 13}, {1, 5, 4}}, {{8, 10, 9}, {8, 10, 9}},
  };
  for (int mode = 0; mode < 4; mode++)
    for (int org = 0; org < 2; org++)
      for (size_t c = 0; c < G_N_ELEMENTS(cases); c++) {
        const ShapeCase *sc = &cases[c];
        if (mode == LUCY_PAD_VALID &&
            (sc->M[0] > sc->N[0] || sc->M[1] > sc->N[1] || sc->M[2] > sc->N[2]))
          continue;
        LucyVolume *psf = random_volume(rng, sc->M, 0, 1);
        LucyConvOptions opts = options((LucyPadMode)mode, (LucyOrigin)org, 1);
        LucyConvPlan *plan = NULL;
        g_assert_cmpint(lucy_conv_plan_new(sc->N, psf, &opts, &plan), ==, LUCY_OK);
        size_t S[3];
        lucy_conv_output_shape(plan, S);
        const size_t nx = count3(sc->N), ny = count3(S);
        float *x = g_new(float, nx), *y = g_new(float, ny), *ax = g_new(float, ny),
              *aty = g_new(float, nx);
        for (size_t i = 0; i < nx; i++) x[i] = (float)g_rand_double_range(rng, -1, 1);
        for (size_t i = 0; i < ny; i++) y[i] = (float)g_rand_double_range(rng, -1, 1);
        g_assert_cmpint(lucy_conv_execute(plan, x, ax), ==, LUCY_OK);
        g_assert_cmpint(lucy_conv_adjoint(plan, y, aty), ==, LUCY_OK);
        double lhs = 0, rhs = 0, nax = 0, ny2 = 0, nx2 = 0, naty = 0;
        for (size_t i = 0; i < ny; i++) {
          lhs += (double)ax[i] * y[i];
          nax += (double)ax[i] * ax[i];
          ny2 += (double)y[i] * y[i];
        }
        for (size_t i = 0; i < nx; i++) {
          rhs += (double)x[i] * aty[i];
          nx2 += (double)x[i] * x[i];
          naty += (double)aty[i] * aty[i];
        }
        /* Relative to the Cauchy-Schwarz bound, so random signs cannot make it look tiny. */
        double scale = fmax(sqrt(nax * ny2), sqrt(nx2 * naty));
        double err = fabs(lhs - rhs) / scale;
        if (err >= REL_TOL)
          g_error("adjoint %s origin %d case %zu: <Ax,y>=%.9g <x,A'y>=%.9g (rel %g)",
                  mode_name[mode], org, c, lhs, rhs, err);
        g_free(x);
        g_free(y);
        g_free(ax);
        g_free(aty);
        lucy_conv_plan_free(plan);
        lucy_volume_free(psf);
      }
  g_rand_free(rng);
}

/* The adjoint against a direct sum too: A^T y [i] = sum_n y[n] psf[n' - i]. */
static void test_adjoint_direct(void) {
  GRand *rng = g_rand_new_with_seed(22);
  const size_t N[3] = {4, 5, 6}, M[3] = {3, 2, 4};
  for (int mode = 0; mode < 4; mode++) {
    LucyVolume *psf = random_volume(rng, M, 0, 1);
    LucyConvOptions opts = options((LucyPadMode)mode, LUCY_ORIGIN_CENTER, 0);
    LucyConvPlan *plan = NULL;
    g_assert_cmpint(lucy_conv_plan_new(N, psf, &opts, &plan), ==, LUCY_OK);
    size_t S[3];
    lucy_conv_output_shape(plan, S);
    float *y = g_new(float, count3(S)), *x = g_new(float, count3(N));
    for (size_t i = 0; i < count3(S); i++) y[i] = (float)g_rand_double_range(rng, -1, 1);
    g_assert_cmpint(lucy_conv_adjoint(plan, y, x), ==, LUCY_OK);
    /* Column i of A is A e_i: build A^T y by applying the reference to unit vectors. */
    double *want = g_new0(double, count3(N));
    float *e = g_new0(float, count3(N));
    for (size_t i = 0; i < count3(N); i++) {
      e[i] = 1;
      size_t rs[3];
      double *col = reference((LucyPadMode)mode, LUCY_ORIGIN_CENTER, e, N, psf->data, M, 1.0, rs);
      for (size_t n = 0; n < count3(S); n++) want[i] += col[n] * y[n];
      g_free(col);
      e[i] = 0;
    }
    double err = rel_error(x, want, count3(N));
    if (err >= REL_TOL) g_error("adjoint %s vs direct: %g", mode_name[mode], err);
    g_free(e);
    g_free(want);
    g_free(x);
    g_free(y);
    lucy_conv_plan_free(plan);
    lucy_volume_free(psf);
  }
  g_rand_free(rng);
}

/* ---- normalisation ------------------------------------------------------------------------- */

static void test_normalisation(void) {
  const size_t N[3] = {4, 6, 8}, M[3] = {3, 3, 3};
  LucyVolume *img = volume(N), *psf = volume(M);
  for (size_t i = 0; i < count3(N); i++) img->data[i] = (float)(i % 7);
  double isum = 0;
  for (size_t i = 0; i < count3(N); i++) isum += img->data[i];
  for (size_t i = 0; i < count3(M); i++) psf->data[i] = 2.0f; /* sum 54 */
  for (int norm = 0; norm < 2; norm++) {
    LucyConvOptions opts = options(LUCY_PAD_FULL, LUCY_ORIGIN_CENTER, norm);
    LucyConvPlan *plan = NULL;
    g_assert_cmpint(lucy_conv_plan_new(N, psf, &opts, &plan), ==, LUCY_OK);
    g_assert_cmpfloat(lucy_conv_psf_sum(plan), ==, 54.0); /* reported before normalising */
    size_t S[3];
    lucy_conv_output_shape(plan, S);
    float *out = g_new(float, count3(S));
    g_assert_cmpint(lucy_conv_execute(plan, img->data, out), ==, LUCY_OK);
    double osum = 0;
    for (size_t i = 0; i < count3(S); i++) osum += out[i];
    const double want = norm ? isum : isum * 54.0;
    g_assert_cmpfloat(fabs(osum - want), <, 1e-5 * want);
    g_free(out);
    lucy_conv_plan_free(plan);
  }
  LucyConvOptions d;
  lucy_conv_options_default(&d);
  g_assert_cmpint(d.normalize, ==, 1);
  g_assert_cmpint(d.mode, ==, LUCY_PAD_SAME);
  g_assert_cmpint(d.origin, ==, LUCY_ORIGIN_CENTER);
  g_assert_null(d.device);
  lucy_volume_free(img);
  lucy_volume_free(psf);
}

/* ---- bad input ----------------------------------------------------------------------------- */

static void test_bad_psf(void) {
  const size_t N[3] = {4, 5, 6}, M[3] = {3, 4, 5};
  LucyVolume *psf = volume(M);
  LucyConvOptions opts = options(LUCY_PAD_SAME, LUCY_ORIGIN_CENTER, 1);
  LucyConvPlan *plan = (LucyConvPlan *)&opts;
  /* all zero: an error with or without normalisation */
  g_assert_cmpint(lucy_conv_plan_new(N, psf, &opts, &plan), ==, LUCY_ERR_NUMERIC);
  g_assert_null(plan);
  g_assert_nonnull(strstr(lucy_error_message(), "zero"));
  opts.normalize = 0;
  g_assert_cmpint(lucy_conv_plan_new(N, psf, &opts, &plan), ==, LUCY_ERR_NUMERIC);
  g_assert_nonnull(strstr(lucy_error_message(), "zero"));
  /* sums to zero: an error only when normalising */
  psf->data[0] = 1.0f;
  psf->data[7] = -1.0f;
  g_assert_cmpint(lucy_conv_plan_new(N, psf, &opts, &plan), ==, LUCY_OK);
  lucy_conv_plan_free(plan);
  opts.normalize = 1;
  g_assert_cmpint(lucy_conv_plan_new(N, psf, &opts, &plan), ==, LUCY_ERR_NUMERIC);
  g_assert_cmpstr(lucy_error_message(), ==, "PSF sums to zero; cannot normalise");
  /* non-finite values, with the count and the first position */
  for (size_t i = 0; i < count3(M); i++) psf->data[i] = 1.0f;
  psf->data[(1 * M[1] + 2) * M[2] + 3] = NAN;
  psf->data[(2 * M[1] + 0) * M[2] + 1] = INFINITY;
  psf->data[(2 * M[1] + 3) * M[2] + 4] = -INFINITY;
  g_assert_cmpint(lucy_conv_plan_new(N, psf, &opts, &plan), ==, LUCY_ERR_NUMERIC);
  g_assert_cmpstr(lucy_error_message(), ==,
                  "PSF has 3 non-finite values, first at z=1, y=2, x=3");
  /* finite but so large that a float32 transform would overflow to inf and NaN */
  for (size_t i = 0; i < count3(M); i++) psf->data[i] = 0.0f;
  psf->data[0] = psf->data[1] = 3e38f;
  g_assert_cmpint(lucy_conv_plan_new(N, psf, &opts, &plan), ==, LUCY_ERR_NUMERIC);
  g_test_message("%s", lucy_error_message());
  g_assert_nonnull(strstr(lucy_error_message(), "too large for float32 FFTs"));
  lucy_volume_free(psf);
}

static void test_bad_shapes(void) {
  const size_t N[3] = {4, 5, 6}, Mbig[3] = {3, 6, 5};
  LucyVolume *psf = volume(Mbig);
  for (size_t i = 0; i < count3(Mbig); i++) psf->data[i] = 1.0f;
  LucyConvOptions opts = options(LUCY_PAD_VALID, LUCY_ORIGIN_CENTER, 1);
  LucyConvPlan *plan = NULL;
  g_assert_cmpint(lucy_conv_plan_new(N, psf, &opts, &plan), ==, LUCY_ERR_INVALID_ARGUMENT);
  const char *msg = lucy_error_message();
  g_assert_nonnull(strstr(msg, "on y"));
  g_assert_nonnull(strstr(msg, "6"));
  g_assert_nonnull(strstr(msg, "5"));
  size_t os[3], fs[3];
  g_assert_cmpint(lucy_conv_shapes(N, Mbig, LUCY_PAD_VALID, os, fs), ==,
                  LUCY_ERR_INVALID_ARGUMENT);
  /* the other modes accept a larger PSF */
  opts.mode = LUCY_PAD_SAME;
  g_assert_cmpint(lucy_conv_plan_new(N, psf, &opts, &plan), ==, LUCY_OK);
  lucy_conv_plan_free(plan);
  /* zero sizes */
  const size_t Z[3] = {4, 0, 6};
  g_assert_cmpint(lucy_conv_plan_new(Z, psf, &opts, &plan), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_null(plan);
  g_assert_cmpint(lucy_conv_shapes(N, Z, LUCY_PAD_SAME, os, fs), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_cmpint(lucy_conv_shapes(Z, N, LUCY_PAD_FULL, os, fs), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_cmpint(lucy_conv_plan_new(N, NULL, &opts, &plan), ==, LUCY_ERR_INVALID_ARGUMENT);
  opts.mode = (LucyPadMode)9;
  g_assert_cmpint(lucy_conv_plan_new(N, psf, &opts, &plan), ==, LUCY_ERR_INVALID_ARGUMENT);
  lucy_volume_free(psf);
}

static void test_bad_image(void) {
  const size_t N[3] = {3, 4, 5}, M[3] = {3, 3, 3};
  LucyVolume *psf = volume(M);
  for (size_t i = 0; i < count3(M); i++) psf->data[i] = 1.0f;
  LucyConvOptions opts = options(LUCY_PAD_SAME, LUCY_ORIGIN_CENTER, 1);
  LucyConvPlan *plan = NULL;
  g_assert_cmpint(lucy_conv_plan_new(N, psf, &opts, &plan), ==, LUCY_OK);
  float img[60], out[60];
  for (int i = 0; i < 60; i++) {
    img[i] = 1.0f;
    out[i] = -7.0f;
  }
  img[(2 * 4 + 1) * 5 + 4] = NAN;
  g_assert_cmpint(lucy_conv_execute(plan, img, out), ==, LUCY_ERR_NUMERIC);
  g_assert_cmpstr(lucy_error_message(), ==, "image has 1 non-finite value, first at z=2, y=1, x=4");
  for (int i = 0; i < 60; i++) g_assert_cmpfloat(out[i], ==, -7.0f);
  img[(2 * 4 + 1) * 5 + 4] = 1.0f;
  img[3] = -INFINITY;
  g_assert_cmpint(lucy_conv_adjoint(plan, img, out), ==, LUCY_ERR_NUMERIC);
  g_assert_cmpint(lucy_conv_execute(plan, NULL, out), ==, LUCY_ERR_INVALID_ARGUMENT);
  /* Finite values whose FFT overflows float32 are refused too. */
  for (int i = 0; i < 60; i++) {
    img[i] = 3e38f;
    out[i] = -7.0f;
  }
  g_assert_cmpint(lucy_conv_execute(plan, img, out), ==, LUCY_ERR_NUMERIC);
  g_assert_nonnull(strstr(lucy_error_message(), "overflow"));
  for (int i = 0; i < 60; i++) g_assert_cmpfloat(out[i], ==, -7.0f);
  lucy_conv_plan_free(plan);
  lucy_volume_free(psf);
}

/* ---- progress and cancellation ------------------------------------------------------------- */

typedef struct {
  GPtrArray *stages;
  double last;
  const char *cancel_at;
} Progress;

static int on_progress(void *user, double fraction, const char *stage) {
  Progress *p = user;
  g_assert_cmpfloat(fraction, >=, p->last);
  g_assert_cmpfloat(fraction, <=, 1.0);
  p->last = fraction;
  g_ptr_array_add(p->stages, g_strdup(stage));
  return p->cancel_at && strcmp(stage, p->cancel_at) == 0;
}

static void test_progress_cancel(void) {
  const size_t N[3] = {4, 8, 8}, M[3] = {3, 3, 3};
  LucyVolume *psf = volume(M);
  for (size_t i = 0; i < count3(M); i++) psf->data[i] = 1.0f;
  float img[256], out[256];
  for (int i = 0; i < 256; i++) img[i] = (float)i;
  const char *stages[] = {"forward FFT", "multiply", "inverse FFT"};
  Progress p = {g_ptr_array_new_with_free_func(g_free), 0, NULL};
  LucyConvOptions opts = options(LUCY_PAD_SAME, LUCY_ORIGIN_CENTER, 1);
  opts.progress = on_progress;
  opts.progress_user = &p;
  LucyConvPlan *plan = NULL;
  g_assert_cmpint(lucy_conv_plan_new(N, psf, &opts, &plan), ==, LUCY_OK);
  g_assert_cmpint(lucy_conv_execute(plan, img, out), ==, LUCY_OK);
  g_assert_cmpuint(p.stages->len, >=, 3);
  for (int s = 0; s < 3; s++) g_assert_cmpstr(g_ptr_array_index(p.stages, s), ==, stages[s]);
  for (int s = 0; s < 3; s++) {
    for (int i = 0; i < 256; i++) out[i] = 12345.0f;
    g_ptr_array_set_size(p.stages, 0);
    p.last = 0;
    p.cancel_at = stages[s];
    g_assert_cmpint(lucy_conv_execute(plan, img, out), ==, LUCY_ERR_CANCELLED);
    for (int i = 0; i < 256; i++) g_assert_cmpfloat(out[i], ==, 12345.0f);
    g_assert_cmpstr(g_ptr_array_index(p.stages, p.stages->len - 1), ==, stages[s]);
    p.last = 0;
    g_assert_cmpint(lucy_conv_adjoint(plan, img, out), ==, LUCY_ERR_CANCELLED);
    for (int i = 0; i < 256; i++) g_assert_cmpfloat(out[i], ==, 12345.0f);
  }
  /* A cancelled plan still works. */
  p.cancel_at = NULL;
  p.last = 0;
  g_assert_cmpint(lucy_conv_execute(plan, img, out), ==, LUCY_OK);
  g_assert_cmpfloat(out[0], !=, 12345.0f);
  lucy_conv_plan_free(plan);
  g_ptr_array_unref(p.stages);
  lucy_volume_free(psf);
}

/* ---- plans: reuse, FFT counts, memory, devices ---------------------------------------------- */

static void test_plan_reuse(void) {
  GRand *rng = g_rand_new_with_seed(31);
  const size_t N[3] = {6, 10, 12}, M[3] = {3, 5, 4};
  LucyVolume *psf = random_volume(rng, M, 0, 1);
  LucyDevice *dev = NULL;
  LucyDeviceOptions dopts;
  lucy_device_options_default(&dopts);
  dopts.threads = 2;
  g_assert_cmpint(lucy_device_new(&dopts, &dev), ==, LUCY_OK);
  LucyConvOptions opts = options(LUCY_PAD_SAME, LUCY_ORIGIN_CENTER, 1);
  opts.device = dev;
  LucyConvPlan *plan = NULL;
  size_t c0 = lucy__device_fft_count();
  g_assert_cmpint(lucy_conv_plan_new(N, psf, &opts, &plan), ==, LUCY_OK);
  g_assert_cmpuint(lucy__device_fft_count() - c0, ==, 1); /* the OTF, once */
  double sum = lucy_conv_psf_sum(plan);
  for (int rep = 0; rep < 3; rep++) {
    LucyVolume *img = random_volume(rng, N, -1, 1);
    float *out = g_new(float, count3(N));
    size_t c1 = lucy__device_fft_count();
    g_assert_cmpint(lucy_conv_execute(plan, img->data, out), ==, LUCY_OK);
    g_assert_cmpuint(lucy__device_fft_count() - c1, ==, 2); /* forward and inverse, no OTF */
    size_t rs[3];
    double *want = reference(LUCY_PAD_SAME, LUCY_ORIGIN_CENTER, img->data, N, psf->data, M,
                             1.0 / sum, rs);
    g_assert_cmpfloat(rel_error(out, want, count3(N)), <, REL_TOL);
    g_free(want);
    g_free(out);
    lucy_volume_free(img);
  }
  /* Memory: exactly two padded buffers, all of it accounted on the device, and none left
   * after the plan is freed. */
  size_t fs[3];
  lucy_conv_fft_shape(plan, fs);
  const size_t P = lucy__padded_count(fs) * sizeof(float);
  g_assert_cmpuint(lucy_conv_plan_bytes(plan), ==, 2 * P);
  LucyMemoryInfo info;
  g_assert_cmpint(lucy_device_memory_info(dev, &info), ==, LUCY_OK);
  g_assert_cmpuint(info.lucy_bytes, ==, 2 * P);
  g_assert_cmpuint(info.lucy_peak_bytes, <=, 2 * P);
  /* The plan keeps its device alive. */
  lucy_device_unref(dev);
  float *out = g_new(float, count3(N));
  LucyVolume *img = random_volume(rng, N, -1, 1);
  g_assert_cmpint(lucy_conv_execute(plan, img->data, out), ==, LUCY_OK);
  lucy_device_ref(dev);
  lucy_conv_plan_free(plan);
  g_assert_cmpint(lucy_device_memory_info(dev, &info), ==, LUCY_OK);
  g_assert_cmpuint(info.lucy_bytes, ==, 0);
  lucy_device_unref(dev);
  g_free(out);
  lucy_volume_free(img);
  lucy_volume_free(psf);
  g_rand_free(rng);
}

static void test_one_shot(void) {
  GRand *rng = g_rand_new_with_seed(41);
  const size_t N[3] = {3, 7, 9}, M[3] = {2, 3, 3};
  LucyVolume *img = random_volume(rng, N, 0, 1), *psf = random_volume(rng, M, 0, 1);
  img->voxel_um[0] = 0.3;
  img->voxel_um[1] = 0.1;
  img->voxel_um[2] = 0.11;
  psf->voxel_um[0] = 9;
  LucyVolume *out = NULL;
  LucyConvOptions opts = options(LUCY_PAD_FULL, LUCY_ORIGIN_SCIPY, 1);
  g_assert_cmpint(lucy_convolve(img, psf, &opts, &out), ==, LUCY_OK);
  g_assert_cmpuint(out->shape[0], ==, 4);
  g_assert_cmpuint(out->shape[1], ==, 9);
  g_assert_cmpuint(out->shape[2], ==, 11);
  g_assert_cmpfloat(out->voxel_um[0], ==, 0.3);
  g_assert_cmpfloat(out->voxel_um[1], ==, 0.1);
  g_assert_cmpfloat(out->voxel_um[2], ==, 0.11);
  double sum = 0;
  for (size_t i = 0; i < count3(M); i++) sum += psf->data[i];
  size_t rs[3];
  double *want = reference(LUCY_PAD_FULL, LUCY_ORIGIN_SCIPY, img->data, N, psf->data, M,
                           1.0 / sum, rs);
  g_assert_cmpfloat(rel_error(out->data, want, count3(rs)), <, REL_TOL);
  g_free(want);
  lucy_volume_free(out);
  /* NULL options: same, centre origin, normalised */
  g_assert_cmpint(lucy_convolve(img, psf, NULL, &out), ==, LUCY_OK);
  g_assert_cmpuint(out->shape[2], ==, 9);
  lucy_volume_free(out);
  out = (LucyVolume *)img;
  img->data[5] = NAN;
  g_assert_cmpint(lucy_convolve(img, psf, &opts, &out), ==, LUCY_ERR_NUMERIC);
  g_assert_null(out);
  lucy_volume_free(img);
  lucy_volume_free(psf);
  g_rand_free(rng);
}

/* ---- plans made and run from several threads on one device --------------------------------- */

typedef struct {
  LucyDevice *dev;
  int index;
  double err;
} ThreadJob;

static gpointer thread_job(gpointer data) {
  ThreadJob *job = data;
  GRand *rng = g_rand_new_with_seed(50 + (guint32)job->index);
  const ShapeCase *c = &shape_cases[job->index % G_N_ELEMENTS(shape_cases)];
  LucyVolume *img = random_volume(rng, c->N, -1, 1), *psf = random_volume(rng, c->M, 0, 1);
  LucyConvOptions opts = options((LucyPadMode)(job->index % 3), LUCY_ORIGIN_CENTER, 0);
  opts.device = job->dev;
  job->err = 1;
  for (int rep = 0; rep < 3; rep++) {
    LucyConvPlan *plan = NULL;
    if (lucy_conv_plan_new(c->N, psf, &opts, &plan) != LUCY_OK) break;
    size_t S[3];
    lucy_conv_output_shape(plan, S);
    float *out = g_new(float, count3(S));
    if (lucy_conv_execute(plan, img->data, out) == LUCY_OK) {
      size_t rs[3];
      double *want = reference(opts.mode, opts.origin, img->data, c->N, psf->data, c->M, 1.0, rs);
      job->err = rel_error(out, want, count3(S));
      g_free(want);
    }
    g_free(out);
    lucy_conv_plan_free(plan);
  }
  lucy_volume_free(img);
  lucy_volume_free(psf);
  g_rand_free(rng);
  return NULL;
}

static void test_threads(void) {
  LucyDeviceOptions dopts;
  lucy_device_options_default(&dopts);
  dopts.threads = 2;
  dopts.kind = test_target_kind();
  LucyDevice *dev = NULL;
  g_assert_cmpint(lucy_device_new(&dopts, &dev), ==, LUCY_OK);
  ThreadJob jobs[6];
  GThread *threads[6];
  for (int i = 0; i < 6; i++) {
    jobs[i] = (ThreadJob){dev, i, 1};
    threads[i] = g_thread_new("conv", thread_job, &jobs[i]);
  }
  for (int i = 0; i < 6; i++) {
    g_thread_join(threads[i]);
    g_assert_cmpfloat(jobs[i].err, <, REL_TOL);
  }
  /* Every plan freed gives back all it held: on the CPU all; the CUDA device keeps only its
   * reduction scratch and staging buffer (FFT work areas go with their last plan). */
  LucyMemoryInfo info;
  g_assert_cmpint(lucy_device_memory_info(dev, &info), ==, LUCY_OK);
  if (test_target_kind() == LUCY_DEVICE_CUDA)
    g_assert_cmpuint(info.lucy_bytes, <=, LUCY_CUDA_SCRATCH_BYTES + LUCY_CUDA_STAGING_MAX);
  else
    g_assert_cmpuint(info.lucy_bytes, ==, 0);
  lucy_device_unref(dev);
}

/* ---- sizes and names ------------------------------------------------------------------------ */

static int smooth(size_t n) {
  for (size_t p = 2; p <= 7; p++)
    while (n % p == 0) n /= p;
  return n == 1;
}

static void test_good_size(void) {
  g_assert_cmpuint(lucy_fft_good_size(0), ==, 1);
  g_assert_cmpuint(lucy_fft_good_size(1), ==, 1);
  g_assert_cmpuint(lucy_fft_good_size(11), ==, 12);
  g_assert_cmpuint(lucy_fft_good_size(13), ==, 14);
  g_assert_cmpuint(lucy_fft_good_size(17), ==, 18);
  g_assert_cmpuint(lucy_fft_good_size(121), ==, 125);
  g_assert_cmpuint(lucy_fft_good_size(257), ==, 270);
  g_assert_cmpuint(lucy_fft_good_size(1021), ==, 1024);
  for (size_t n = 1; n < 3000; n++) {
    size_t g = lucy_fft_good_size(n), want = n;
    while (!smooth(want)) want++;
    g_assert_cmpuint(g, ==, want);
  }
}

static void test_shapes(void) {
  const size_t N[3] = {64, 256, 256}, M[3] = {31, 63, 63};
  size_t os[3], fs[3];
  g_assert_cmpint(lucy_conv_shapes(N, M, LUCY_PAD_SAME, os, fs), ==, LUCY_OK);
  /* N + M//2 = 79, 287, 287 -> 80, 288, 288 */
  g_assert_cmpuint(os[0], ==, 64);
  g_assert_cmpuint(fs[0], ==, 80);
  g_assert_cmpuint(fs[1], ==, 288);
  g_assert_cmpuint(fs[2], ==, 288);
  g_assert_cmpint(lucy_conv_shapes(N, M, LUCY_PAD_FULL, os, fs), ==, LUCY_OK);
  g_assert_cmpuint(os[0], ==, 94);
  g_assert_cmpuint(fs[0], ==, 96);
  g_assert_cmpuint(os[1], ==, 318);
  g_assert_cmpuint(fs[1], ==, 320);
  g_assert_cmpint(lucy_conv_shapes(N, M, LUCY_PAD_VALID, os, fs), ==, LUCY_OK);
  g_assert_cmpuint(os[0], ==, 34);
  g_assert_cmpuint(fs[0], ==, 64);
  g_assert_cmpuint(os[2], ==, 194);
  g_assert_cmpint(lucy_conv_shapes(N, M, LUCY_PAD_CIRCULAR, os, fs), ==, LUCY_OK);
  g_assert_cmpuint(os[1], ==, 256);
  g_assert_cmpuint(fs[1], ==, 256);
  const size_t N2[3] = {13, 11, 17}; /* circular keeps a non-smooth N */
  g_assert_cmpint(lucy_conv_shapes(N2, M, LUCY_PAD_CIRCULAR, os, fs), ==, LUCY_OK);
  g_assert_cmpuint(fs[0], ==, 13);
  g_assert_cmpuint(fs[2], ==, 17);

  /* A padded domain of 2^32 elements or more gets an even x (cuFFT's 64-bit planner needs
   * one), on every device: 1000x2048x2048 (*) 64x128x128 full is 1080x2187x2187 by the good
   * size, and x becomes the next even 7-smooth size, 2240 = 2^6 5 7. y stays odd. */
  const size_t Nbig[3] = {1000, 2048, 2048}, Mbig2[3] = {64, 128, 128};
  g_assert_cmpint(lucy_conv_shapes(Nbig, Mbig2, LUCY_PAD_FULL, os, fs), ==, LUCY_OK);
  g_assert_cmpuint(fs[0], ==, 1080);
  g_assert_cmpuint(fs[1], ==, 2187);
  g_assert_cmpuint(fs[2], ==, 2240);
  g_assert_cmpuint(os[2], ==, 2175);
  /* ... while a smaller domain keeps its odd x (100 planes: 168x2187x2187 < 2^32) */
  const size_t Nmid[3] = {100, 2048, 2048};
  g_assert_cmpint(lucy_conv_shapes(Nmid, Mbig2, LUCY_PAD_FULL, os, fs), ==, LUCY_OK);
  g_assert_cmpuint(fs[2], ==, 2187);
  /* ... and circular keeps the image's shape whatever its size */
  const size_t Nodd[3] = {1024, 2048, 2187};
  g_assert_cmpint(lucy_conv_shapes(Nodd, Mbig2, LUCY_PAD_CIRCULAR, os, fs), ==, LUCY_OK);
  g_assert_cmpuint(fs[2], ==, 2187);
}

static void test_mode_names(void) {
  LucyPadMode m = LUCY_PAD_FULL;
  for (int i = 0; i < 4; i++) {
    g_assert_cmpstr(lucy_pad_mode_name((LucyPadMode)i), ==, mode_name[i]);
    g_assert_cmpint(lucy_pad_mode_parse(mode_name[i], &m), ==, LUCY_OK);
    g_assert_cmpint(m, ==, i);
  }
  g_assert_cmpint(lucy_pad_mode_parse("reflect", &m), ==, LUCY_ERR_INVALID_ARGUMENT);
  const char *msg = lucy_error_message();
  g_assert_nonnull(strstr(msg, "reflect"));
  g_assert_nonnull(strstr(msg, "circular, same, full, valid"));
  g_assert_cmpint(lucy_pad_mode_parse(NULL, &m), ==, LUCY_ERR_INVALID_ARGUMENT);
}

/* The checks against independent references again, on low-memory plans. */
typedef void (*TestFunc)(void);
static void direct_circular_mode(void) { test_direct(GINT_TO_POINTER(LUCY_PAD_CIRCULAR)); }
static void direct_same_mode(void) { test_direct(GINT_TO_POINTER(LUCY_PAD_SAME)); }
static void direct_full_mode(void) { test_direct(GINT_TO_POINTER(LUCY_PAD_FULL)); }
static void direct_valid_mode(void) { test_direct(GINT_TO_POINTER(LUCY_PAD_VALID)); }
static const struct {
  const char *path;
  TestFunc func;
} low_memory_tests[] = {
  {"/convolve/low-memory/direct/circular", direct_circular_mode},
  {"/convolve/low-memory/direct/same", direct_same_mode},
  {"/convolve/low-memory/direct/full", direct_full_mode},
  {"/convolve/low-memory/direct/valid", direct_valid_mode},
  {"/convolve/low-memory/direct/random-shapes", test_direct_random},
  {"/convolve/low-memory/scipy-fixtures", test_scipy_fixtures},
  {"/convolve/low-memory/adjoint", test_adjoint},
  {"/convolve/low-memory/adjoint-direct", test_adjoint_direct},
};

static void run_low_memory(gconstpointer data) {
  plan_strategy = LUCY_STRATEGY_LOW_MEMORY;
  low_memory_tests[GPOINTER_TO_SIZE(data)].func();
  plan_strategy = LUCY_STRATEGY_AUTO;
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  test_target_init();
  for (int m = 0; m < 4; m++) {
    char *path = g_strdup_printf("/convolve/direct/%s", mode_name[m]);
    g_test_add_data_func(path, GINT_TO_POINTER(m), test_direct);
    g_free(path);
  }
  for (size_t i = 0; i < G_N_ELEMENTS(low_memory_tests); i++)
    g_test_add_data_func(low_memory_tests[i].path, GSIZE_TO_POINTER(i), run_low_memory);
  g_test_add_func("/convolve/direct/random-shapes", test_direct_random);
  g_test_add_func("/convolve/scipy-fixtures", test_scipy_fixtures);
  g_test_add_func("/convolve/impulse", test_impulse);
  g_test_add_func("/convolve/wrap-ghost", test_wrap_ghost);
  g_test_add_func("/convolve/adjoint", test_adjoint);
  g_test_add_func("/convolve/adjoint-direct", test_adjoint_direct);
  g_test_add_func("/convolve/normalisation", test_normalisation);
  g_test_add_func("/convolve/bad-psf", test_bad_psf);
  g_test_add_func("/convolve/bad-shapes", test_bad_shapes);
  g_test_add_func("/convolve/bad-image", test_bad_image);
  g_test_add_func("/convolve/progress-cancel", test_progress_cancel);
  g_test_add_func("/convolve/plan-reuse", test_plan_reuse);
  g_test_add_func("/convolve/one-shot", test_one_shot);
  g_test_add_func("/convolve/threads", test_threads);
  g_test_add_func("/convolve/good-size", test_good_size);
  g_test_add_func("/convolve/shapes", test_shapes);
  g_test_add_func("/convolve/mode-names", test_mode_names);
  return g_test_run();
}
