/* Sphere phantoms, Gaussian PSFs, seeded noise and the generator behind them. */
#include <glib.h>
#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "lucy/phantom.h"
#include "lucy/volume.h"
#include "rng.h"

/* First number and a Poisson sum of stream 7 of seed 2024 (see test_rng_pinned). */
#define PINNED_FIRST UINT64_C(7800879160763680562)
#define PINNED_SUM 351348.0

static LucyVolume *volume_new(size_t nz, size_t ny, size_t nx) {
  const size_t shape[3] = {nz, ny, nx};
  LucyVolume *vol = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &vol), ==, LUCY_OK);
  return vol;
}

static double volume_sum(const LucyVolume *vol) {
  double s = 0;
  size_t n = lucy_shape_count(vol->shape);
  for (size_t i = 0; i < n; i++) s += vol->data[i];
  return s;
}

#define AT(vol, z, y, x) ((vol)->data[((z) * (vol)->shape[1] + (y)) * (vol)->shape[2] + (x)])

/* ---- the generator ------------------------------------------------------------------- */

static void test_rng_functions(void) {
  GRand *rand = g_rand_new_with_seed(3);
  for (int i = 0; i < 100000; i++) {
    double x = exp(g_rand_double_range(rand, -700, 700));
    double want = log(x), got = lucy__rng_log(x);
    g_assert_cmpfloat(fabs(got - want), <=, 4e-16 * fmax(1, fabs(want)));
    double y = g_rand_double_range(rand, -700, 700);
    g_assert_cmpfloat(fabs(lucy__rng_exp(y) - exp(y)), <=, 6e-16 * exp(y));
  }
  g_assert_cmpfloat(lucy__rng_log(1), ==, 0);
  g_assert_cmpfloat(lucy__rng_exp(0), ==, 1);
  g_rand_free(rand);

  /* Streams: reproducible, and different streams or seeds give different numbers. */
  LucyRng a, b, c;
  lucy__rng_seed(&a, 42, 0);
  lucy__rng_seed(&b, 42, 0);
  lucy__rng_seed(&c, 42, 1);
  for (int i = 0; i < 100; i++) {
    uint64_t x = lucy__rng_next(&a);
    g_assert_cmpuint(x, ==, lucy__rng_next(&b));
    g_assert_cmpuint(x, !=, lucy__rng_next(&c));
  }
  /* Uniforms in [0, 1) with the right mean; normals with mean 0, variance 1. */
  double su = 0, sn = 0, sn2 = 0;
  const int n = 400000;
  for (int i = 0; i < n; i++) {
    double u = lucy__rng_uniform(&a);
    g_assert_true(u >= 0 && u < 1);
    su += u;
    double g = lucy__rng_normal(&a);
    sn += g;
    sn2 += g * g;
  }
  g_assert_cmpfloat(fabs(su / n - 0.5), <, 6 * sqrt(1.0 / 12 / n));
  g_assert_cmpfloat(fabs(sn / n), <, 6 / sqrt(n));
  g_assert_cmpfloat(fabs(sn2 / n - 1), <, 6 * sqrt(2.0 / n));
}

/* Pinned numbers: a seed gives the same data on every machine and every build. */
static void test_rng_pinned(void) {
  LucyRng r;
  lucy__rng_seed(&r, 2024, 7);
  uint64_t first = lucy__rng_next(&r);
  lucy__rng_seed(&r, 2024, 7);
  g_assert_cmpuint(lucy__rng_next(&r), ==, first);
  double sum = 0;
  for (int i = 0; i < 1000; i++) sum += lucy__rng_poisson(&r, i % 2 ? 3.5 : 700.0);
  g_test_message("pinned: first %" G_GUINT64_FORMAT ", Poisson sum %.0f", first, sum);
  g_assert_cmpuint(first, ==, PINNED_FIRST);
  g_assert_cmpfloat(sum, ==, PINNED_SUM);
}

/* ---- spheres ------------------------------------------------------------------------- */

static void test_sphere_volume(void) {
  LucyVolume *vol = volume_new(48, 48, 48);
  LucySphere s = {{23.3, 24.1, 22.7}, 10, 2.0};
  g_assert_cmpint(lucy_phantom_add_spheres(vol, &s, 1), ==, LUCY_OK);
  double want = 4.0 / 3 * G_PI * 1000 * 2.0;
  g_assert_cmpfloat(fabs(volume_sum(vol) - want), <, 0.02 * want);
  g_assert_cmpfloat(AT(vol, 23, 24, 23), ==, 2.0f);
  g_assert_cmpfloat(AT(vol, 23, 24, 35), ==, 0.0f);
  size_t n = lucy_shape_count(vol->shape);
  for (size_t i = 0; i < n; i++) g_assert_true(vol->data[i] >= 0 && vol->data[i] <= 2.0f);
  /* Spheres add. */
  g_assert_cmpint(lucy_phantom_add_spheres(vol, &s, 1), ==, LUCY_OK);
  g_assert_cmpfloat(AT(vol, 23, 24, 23), ==, 4.0f);
  lucy_volume_free(vol);

  /* Anisotropic voxels: round in micrometres, so 2.5 times fewer voxels along z. */
  vol = volume_new(24, 48, 48);
  vol->voxel_um[LUCY_Z] = 0.5;
  vol->voxel_um[LUCY_Y] = vol->voxel_um[LUCY_X] = 0.2;
  LucySphere t = {{11.5, 24, 24}, 12, 1.0};
  g_assert_cmpint(lucy_phantom_add_spheres(vol, &t, 1), ==, LUCY_OK);
  want = 4.0 / 3 * G_PI * 12 * 12 * (12 / 2.5);
  g_assert_cmpfloat(fabs(volume_sum(vol) - want), <, 0.02 * want);
  g_assert_cmpfloat(AT(vol, 11, 24, 24), ==, 1.0f);
  g_assert_cmpfloat(AT(vol, 11, 24, 35), >, 0.0f); /* 11 voxels along x: inside */
  g_assert_cmpfloat(AT(vol, 11 - 6, 24, 24), ==, 0.0f); /* 6 voxels along z: outside (4.8) */
  /* A sphere partly outside the volume is clipped, not an error. */
  LucySphere edge = {{0, 0, 0}, 5, 1.0};
  g_assert_cmpint(lucy_phantom_add_spheres(vol, &edge, 1), ==, LUCY_OK);
  LucySphere bad = {{0, 0, 0}, -1, 1.0};
  g_assert_cmpint(lucy_phantom_add_spheres(vol, &bad, 1), ==, LUCY_ERR_INVALID_ARGUMENT);
  lucy_volume_free(vol);
}

static void test_random_spheres(void) {
  const size_t count = 12;
  LucySphere sa[12], sb[12];
  LucyVolume *a = volume_new(40, 64, 64), *b = volume_new(40, 64, 64);
  a->voxel_um[LUCY_Z] = b->voxel_um[LUCY_Z] = 2.0; /* semi-axis along z is r / 2 */
  g_assert_cmpint(lucy_phantom_random_spheres(a, count, 3, 7, 1.0, 42, sa), ==, LUCY_OK);
  g_assert_cmpint(lucy_phantom_random_spheres(b, count, 3, 7, 1.0, 42, sb), ==, LUCY_OK);
  g_assert_cmpmem(a->data, lucy_shape_count(a->shape) * sizeof(float), b->data,
                  lucy_shape_count(b->shape) * sizeof(float));
  g_assert_cmpmem(sa, sizeof sa, sb, sizeof sb);
  double want = 0;
  for (size_t i = 0; i < count; i++) {
    const LucySphere *s = &sa[i];
    g_assert_cmpfloat(s->radius, >=, 3);
    g_assert_cmpfloat(s->radius, <=, 7);
    g_assert_cmpfloat(s->value, ==, 1.0);
    for (int k = 0; k < 3; k++) {
      double ax = s->radius * a->voxel_um[LUCY_X] / a->voxel_um[k];
      g_assert_cmpfloat(s->center[k] - ax, >=, -0.5 - 1e-9);
      g_assert_cmpfloat(s->center[k] + ax, <=, (double)a->shape[k] - 0.5 + 1e-9);
    }
    for (size_t j = 0; j < i; j++) {
      double d2 = 0;
      for (int k = 0; k < 3; k++) {
        double d = (s->center[k] - sa[j].center[k]) * a->voxel_um[k];
        d2 += d * d;
      }
      g_assert_cmpfloat(sqrt(d2), >=, s->radius + sa[j].radius);
    }
    want += 4.0 / 3 * G_PI * pow(s->radius, 3) / 2;
  }
  /* No overlap: the total is the sum of the spheres, and no voxel exceeds the value. */
  g_assert_cmpfloat(fabs(volume_sum(a) - want), <, 0.03 * want);
  size_t n = lucy_shape_count(a->shape);
  for (size_t i = 0; i < n; i++) g_assert_cmpfloat(a->data[i], <=, 1.0f + 1e-6f);

  /* Another seed, other spheres. */
  LucyVolume *c = volume_new(40, 64, 64);
  c->voxel_um[LUCY_Z] = 2.0;
  g_assert_cmpint(lucy_phantom_random_spheres(c, count, 3, 7, 1.0, 43, NULL), ==, LUCY_OK);
  g_assert_true(memcmp(a->data, c->data, n * sizeof(float)) != 0);

  /* Too many: an error that says how many fitted, and the volume is untouched. */
  LucyVolume *d = volume_new(32, 32, 32);
  g_assert_cmpint(lucy_phantom_random_spheres(d, 50, 8, 8, 1.0, 1, NULL), ==,
                  LUCY_ERR_INVALID_ARGUMENT);
  g_test_message("%s", lucy_error_message());
  g_assert_nonnull(strstr(lucy_error_message(), "of 50 spheres"));
  g_assert_cmpfloat(volume_sum(d), ==, 0);
  /* Bigger than the volume. */
  g_assert_cmpint(lucy_phantom_random_spheres(d, 1, 20, 20, 1.0, 1, NULL), ==,
                  LUCY_ERR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(lucy_error_message(), "only 0 of 1"));
  g_assert_cmpint(lucy_phantom_random_spheres(d, 1, 0, 2, 1.0, 1, NULL), ==,
                  LUCY_ERR_INVALID_ARGUMENT);
  g_assert_cmpint(lucy_phantom_random_spheres(d, 1, 3, 2, 1.0, 1, NULL), ==,
                  LUCY_ERR_INVALID_ARGUMENT);
  lucy_volume_free(a);
  lucy_volume_free(b);
  lucy_volume_free(c);
  lucy_volume_free(d);
}

/* A stack thinner than the spheres is a section through them: each centre on its middle plane,
 * the faces cutting the sphere, so one plane holds discs of the spheres' radii. */
static void test_random_spheres_thin(void) {
  LucySphere sp[6];
  LucyVolume *v = volume_new(1, 64, 64);
  g_assert_cmpint(lucy_phantom_random_spheres(v, 6, 4, 6, 1.0, 3, sp), ==, LUCY_OK);
  double want = 0;
  for (size_t i = 0; i < 6; i++) {
    g_assert_cmpfloat(sp[i].center[0], ==, 0.0);
    g_assert_cmpfloat(sp[i].center[1] - sp[i].radius, >=, -0.5 - 1e-9);
    g_assert_cmpfloat(sp[i].center[2] + sp[i].radius, <=, 63.5 + 1e-9);
    want += G_PI * sp[i].radius * sp[i].radius; /* the equator, a disc */
  }
  g_assert_cmpfloat(fabs(volume_sum(v) - want), <, 0.03 * want);
  lucy_volume_free(v);
  /* Two planes at z = 0.5: both cut near the equator; a radius that fits stays whole. */
  v = volume_new(2, 48, 48);
  g_assert_cmpint(lucy_phantom_random_spheres(v, 3, 3, 5, 1.0, 3, sp), ==, LUCY_OK);
  for (size_t i = 0; i < 3; i++) g_assert_cmpfloat(sp[i].center[0], ==, 0.5);
  lucy_volume_free(v);
  /* Laterally, spheres must still fit. */
  v = volume_new(1, 16, 16);
  g_assert_cmpint(lucy_phantom_random_spheres(v, 1, 9, 9, 1.0, 1, NULL), ==,
                  LUCY_ERR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(lucy_error_message(), "only 0 of 1"));
  lucy_volume_free(v);
}

/* ---- Gaussian PSF -------------------------------------------------------------------- */

static void check_psf(const size_t shape[3], const double sigma[3], int check_moments) {
  LucyVolume *psf;
  g_assert_cmpint(lucy_psf_gaussian(shape, sigma, &psf), ==, LUCY_OK);
  g_assert_cmpmem(psf->shape, sizeof psf->shape, shape, 3 * sizeof(size_t));
  double sum = 0, m1[3] = {0}, m2[3] = {0};
  size_t arg = 0;
  for (size_t z = 0; z < shape[0]; z++)
    for (size_t y = 0; y < shape[1]; y++)
      for (size_t x = 0; x < shape[2]; x++) {
        size_t i = (z * shape[1] + y) * shape[2] + x;
        double v = psf->data[i];
        g_assert_cmpfloat(v, >=, 0);
        sum += v;
        if (v > psf->data[arg]) arg = i;
        double d[3] = {(double)z - (double)(shape[0] / 2), (double)y - (double)(shape[1] / 2),
                       (double)x - (double)(shape[2] / 2)};
        for (int k = 0; k < 3; k++) {
          m1[k] += v * d[k];
          m2[k] += v * d[k] * d[k];
        }
      }
  g_assert_cmpfloat(fabs(sum - 1), <, 1e-6);
  size_t centre = ((shape[0] / 2) * shape[1] + shape[1] / 2) * shape[2] + shape[2] / 2;
  g_assert_cmpuint(arg, ==, centre);
  for (int k = 0; k < 3; k++) {
    if (sigma[k] == 0) {
      g_assert_cmpfloat(m1[k], ==, 0);
      g_assert_cmpfloat(m2[k], ==, 0);
    } else if (check_moments) {
      /* Centred at the origin voxel (an even size cuts one tail a voxel short) with
       * variance sigma^2. */
      double var = m2[k] - m1[k] * m1[k];
      g_assert_cmpfloat(fabs(m1[k]), <, 1e-3 * sigma[k]);
      g_assert_cmpfloat(fabs(var - sigma[k] * sigma[k]), <, 0.01 * sigma[k] * sigma[k]);
    }
  }
  /* Every voxel against a direct double-precision evaluation of the normalised Gaussian. */
  double norm = 0, vmax = 0;
  double *ref = g_new(double, lucy_shape_count(shape));
  for (size_t z = 0; z < shape[0]; z++)
    for (size_t y = 0; y < shape[1]; y++)
      for (size_t x = 0; x < shape[2]; x++) {
        size_t pos[3] = {z, y, x};
        double e = 1;
        for (int k = 0; k < 3; k++) {
          double d = (double)pos[k] - (double)(shape[k] / 2);
          e *= sigma[k] > 0 ? exp(-0.5 * d * d / (sigma[k] * sigma[k])) : (d == 0 ? 1 : 0);
        }
        ref[(z * shape[1] + y) * shape[2] + x] = e;
        norm += e;
      }
  for (size_t i = 0; i < lucy_shape_count(shape); i++) vmax = fmax(vmax, ref[i] / norm);
  for (size_t i = 0; i < lucy_shape_count(shape); i++)
    g_assert_cmpfloat(fabs(psf->data[i] - ref[i] / norm), <=, 1e-6 * vmax);
  g_free(ref);
  lucy_volume_free(psf);
}

static void test_psf_gaussian(void) {
  const size_t odd[3] = {31, 33, 35}, even[3] = {32, 30, 28}, mixed[3] = {8, 17, 64};
  const double s1[3] = {2, 1.5, 3};
  check_psf(odd, s1, 0);
  check_psf(even, s1, 0);
  check_psf(mixed, s1, 0);
  /* Second moments are sigma^2 when the shape holds the tails. */
  const size_t big[3] = {48, 64, 80};
  const double s2[3] = {3, 4.5, 6};
  check_psf(big, s2, 1);
  const size_t bigeven[3] = {64, 64, 64};
  const double s3[3] = {5, 2, 7.5};
  check_psf(bigeven, s3, 1);
  /* sigma 0: a delta along that axis; all zero: a single voxel. */
  const double s4[3] = {0, 2, 0};
  check_psf(even, s4, 0);
  const double s5[3] = {0, 0, 0};
  check_psf(odd, s5, 0);
  const size_t one[3] = {1, 1, 1};
  check_psf(one, s1, 0);
  LucyVolume *psf;
  const double bad[3] = {1, -1, 1};
  g_assert_cmpint(lucy_psf_gaussian(odd, bad, &psf), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_null(psf);
  const double nan3[3] = {1, NAN, 1};
  g_assert_cmpint(lucy_psf_gaussian(odd, nan3, &psf), ==, LUCY_ERR_INVALID_ARGUMENT);
  const size_t zero[3] = {4, 0, 4};
  g_assert_cmpint(lucy_psf_gaussian(zero, s1, &psf), !=, LUCY_OK);
}

/* ---- noise --------------------------------------------------------------------------- */

static double poisson_pmf(double lam, int k) {
  return exp(k * log(lam) - lam - lgamma(k + 1.0));
}

static void test_noise_poisson(void) {
  const double lams[] = {0.5, 5, 50, 5000};
  const size_t n = 250000;
  for (size_t l = 0; l < G_N_ELEMENTS(lams); l++) {
    double lam = lams[l];
    LucyVolume *vol = volume_new(10, 100, n / 1000);
    for (size_t i = 0; i < n; i++) vol->data[i] = (float)lam;
    g_assert_cmpint(lucy_noise_poisson(vol, 1.0, 1234), ==, LUCY_OK);
    double s = 0, s2 = 0;
    int *hist = g_new0(int, 64);
    for (size_t i = 0; i < n; i++) {
      double v = vol->data[i];
      g_assert_cmpfloat(v, ==, floor(v));
      g_assert_cmpfloat(v, >=, 0);
      s += v;
      s2 += v * v;
      int k = (int)v - (int)floor(lam) + 32;
      if (k >= 0 && k < 64) hist[k]++;
    }
    double mean = s / n, var = s2 / n - mean * mean;
    /* Standard errors: mean sqrt(lam / n); variance sqrt((lam + 2 lam^2) / n). */
    g_test_message("lambda %g: mean %.5g, variance %.5g", lam, mean, var);
    g_assert_cmpfloat(fabs(mean - lam), <, 6 * sqrt(lam / n));
    g_assert_cmpfloat(fabs(var - lam), <, 6 * sqrt((lam + 2 * lam * lam) / n));
    /* Frequencies near the mode match the distribution (each within 6 standard errors). */
    for (int k = 0; k < 64; k++) {
      int value = k + (int)floor(lam) - 32;
      if (value < 0) continue;
      double p = poisson_pmf(lam, value);
      if (p < 1e-4) continue;
      double se = sqrt(p * (1 - p) / n);
      if (fabs(hist[k] / (double)n - p) > 6 * se)
        g_error("lambda %g: P(%d) is %g, expected %g", lam, value, hist[k] / (double)n, p);
    }
    g_free(hist);
    lucy_volume_free(vol);
  }
}

static void test_noise_poisson_details(void) {
  LucyVolume *a = volume_new(4, 64, 300), *b = volume_new(4, 64, 300);
  size_t n = lucy_shape_count(a->shape);
  for (size_t i = 0; i < n; i++) a->data[i] = b->data[i] = (float)(i % 97) * 0.7f - 3;
  a->data[5] = b->data[5] = NAN;
  g_assert_cmpint(lucy_noise_poisson(a, 2.0, 99), ==, LUCY_OK);
#ifdef _OPENMP
  int threads = omp_get_max_threads();
  omp_set_num_threads(threads > 1 ? 1 : 3); /* another thread count, the same numbers */
#endif
  g_assert_cmpint(lucy_noise_poisson(b, 2.0, 99), ==, LUCY_OK);
#ifdef _OPENMP
  omp_set_num_threads(threads);
#endif
  g_assert_cmpmem(a->data, n * sizeof(float), b->data, n * sizeof(float));
  g_assert_true(isnan(a->data[5]));
  for (size_t i = 0; i < n; i++) {
    if (i == 5) continue;
    g_assert_cmpfloat(a->data[i] * 2, ==, floor(a->data[i] * 2)); /* photons / scale */
    if ((float)(i % 97) * 0.7f - 3 <= 0) g_assert_cmpfloat(a->data[i], ==, 0);
  }
  /* Another seed, other numbers. */
  for (size_t i = 0; i < n; i++) b->data[i] = (float)(i % 97) * 0.7f - 3;
  g_assert_cmpint(lucy_noise_poisson(b, 2.0, 100), ==, LUCY_OK);
  g_assert_true(memcmp(a->data, b->data, n * sizeof(float)) != 0);
  /* Bad arguments leave the volume untouched. */
  memcpy(b->data, a->data, n * sizeof(float));
  b->data[7] = INFINITY;
  g_assert_cmpint(lucy_noise_poisson(b, 1.0, 1), ==, LUCY_ERR_NUMERIC);
  b->data[7] = a->data[7];
  g_assert_cmpmem(a->data, n * sizeof(float), b->data, n * sizeof(float));
  g_assert_cmpint(lucy_noise_poisson(b, 0, 1), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_cmpint(lucy_noise_poisson(b, NAN, 1), ==, LUCY_ERR_INVALID_ARGUMENT);
  lucy_volume_free(a);
  lucy_volume_free(b);
}

static void test_noise_gaussian(void) {
  LucyVolume *a = volume_new(8, 100, 250), *b = volume_new(8, 100, 250);
  size_t n = lucy_shape_count(a->shape);
  for (size_t i = 0; i < n; i++) a->data[i] = b->data[i] = 10;
  g_assert_cmpint(lucy_noise_gaussian(a, 2.5, 7), ==, LUCY_OK);
  g_assert_cmpint(lucy_noise_gaussian(b, 2.5, 7), ==, LUCY_OK);
  g_assert_cmpmem(a->data, n * sizeof(float), b->data, n * sizeof(float));
  double s = 0, s2 = 0;
  for (size_t i = 0; i < n; i++) {
    double d = a->data[i] - 10.0;
    s += d;
    s2 += d * d;
  }
  double mean = s / n, sd = sqrt(s2 / n - mean * mean);
  g_test_message("Gaussian noise: mean %.4g, std %.4g", mean, sd);
  g_assert_cmpfloat(fabs(mean), <, 6 * 2.5 / sqrt(n));
  g_assert_cmpfloat(fabs(sd - 2.5), <, 6 * 2.5 / sqrt(2.0 * n));
  g_assert_cmpint(lucy_noise_gaussian(b, 2.5, 8), ==, LUCY_OK);
  g_assert_true(memcmp(a->data, b->data, n * sizeof(float)) != 0);
  g_assert_cmpint(lucy_noise_gaussian(a, -1, 7), ==, LUCY_ERR_INVALID_ARGUMENT);
  memcpy(b->data, a->data, n * sizeof(float));
  g_assert_cmpint(lucy_noise_gaussian(a, 0, 7), ==, LUCY_OK);
  g_assert_cmpmem(a->data, n * sizeof(float), b->data, n * sizeof(float));
  lucy_volume_free(a);
  lucy_volume_free(b);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/rng/functions", test_rng_functions);
  g_test_add_func("/rng/pinned", test_rng_pinned);
  g_test_add_func("/phantom/sphere-volume", test_sphere_volume);
  g_test_add_func("/phantom/random-spheres", test_random_spheres);
  g_test_add_func("/phantom/random-spheres-thin", test_random_spheres_thin);
  g_test_add_func("/psf/gaussian", test_psf_gaussian);
  g_test_add_func("/noise/poisson", test_noise_poisson);
  g_test_add_func("/noise/poisson-details", test_noise_poisson_details);
  g_test_add_func("/noise/gaussian", test_noise_gaussian);
  return g_test_run();
}
