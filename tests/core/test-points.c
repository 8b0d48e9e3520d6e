/* Point clouds: NUFFT convolution against periodised (and unwrapped) direct sums on the
 * classic's setup, on the grid, in 3-D and with a kernel given on the grid; kernel fitting by
 * CGLS on the classic's setup; bad input. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lucy/nufft.h"
#include "lucy/points.h"
#include "lucy/volume.h"

static double rel_l2(const double *a, const double *ref, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    num += (a[i] - ref[i]) * (a[i] - ref[i]);
    den += ref[i] * ref[i];
  }
  return sqrt(num / den);
}

static void random_cloud(GRand *rng, size_t n, double *x, double *y, double *z, double L) {
  for (size_t j = 0; j < n; j++) {
    x[j] = g_rand_double_range(rng, 0, L);
    if (y) y[j] = g_rand_double_range(rng, 0, L);
    if (z) z[j] = g_rand_double_range(rng, 0, L);
  }
}

/* The classic: torus [0, 2pi)^2, 20 unit-weight points, 128 x 128, Gaussian sigma 0.5. */
static void test_classic(void) {
  GRand *rng = g_rand_new_with_seed(20);
  const size_t shape[3] = {1, 128, 128}, M = 20;
  double x[20], y[20], v[20], per[20], unw[20];
  LucyPointsOptions o;
  lucy_points_options_default(&o);
  o.eps = 1e-12;
  o.threads = 2;
  LucyPointKernel k = {LUCY_POINT_KERNEL_GAUSSIAN, {0.5, 0.5, 0.5}, NULL};
  LucyPointConvPlan *p = NULL;
  g_assert_cmpint(lucy_point_conv_plan_new(shape, &k, &o, &p), ==, LUCY_OK);
  double worst_per = 0, sum_unw = 0;
  const int draws = 20;
  for (int d = 0; d < draws; d++) {
    random_cloud(rng, M, x, y, NULL, 2 * G_PI);
    LucyPointCloud pc = {M, x, y, NULL, NULL};
    g_assert_cmpint(lucy_point_conv_execute(p, &pc, v, NULL), ==, LUCY_OK);
    g_assert_cmpint(lucy_points_direct_gaussian(shape, &pc, &pc, k.sigma, o.period, 1, per), ==,
                    LUCY_OK);
    g_assert_cmpint(lucy_points_direct_gaussian(shape, &pc, &pc, k.sigma, o.period, 0, unw), ==,
                    LUCY_OK);
    const double e_per = rel_l2(v, per, M), e_unw = rel_l2(v, unw, M);
    if (d == 0)
      printf("# classic draw 0: rel l2 vs periodised direct sum %.3g, vs unwrapped %.3g\n", e_per,
             e_unw);
    if (e_per > worst_per) worst_per = e_per;
    sum_unw += e_unw;
  }
  printf("# classic, %d draws of 20 points: worst rel l2 vs periodised %.3g; mean vs unwrapped "
         "%.3g\n",
         draws, worst_per, sum_unw / draws);
  g_test_message("classic: periodised worst %.3g, unwrapped mean %.3g", worst_per, sum_unw / draws);
  g_assert_cmpfloat(worst_per, <, 1e-8);
  g_assert_cmpfloat(sum_unw / draws, >, 100 * worst_per);
  lucy_point_conv_plan_free(p);
  g_rand_free(rng);
}

/* The image: the convolution at the grid voxels (non-square grid, period other than 2 pi,
 * anisotropic sigma, weights). */
static void test_image_2d(void) {
  GRand *rng = g_rand_new_with_seed(21);
  const size_t shape[3] = {1, 48, 64}, M = 50;
  double x[50], y[50], w[50];
  random_cloud(rng, M, x, y, NULL, 10.0);
  for (size_t j = 0; j < M; j++) w[j] = g_rand_double_range(rng, 0.5, 2.0);
  LucyPointsOptions o;
  lucy_points_options_default(&o);
  o.period[1] = o.period[2] = 10.0;
  o.eps = 1e-12;
  o.threads = 2;
  LucyPointKernel k = {LUCY_POINT_KERNEL_GAUSSIAN, {0, 0.6, 0.9}, NULL};
  LucyPointConvPlan *p = NULL;
  g_assert_cmpint(lucy_point_conv_plan_new(shape, &k, &o, &p), ==, LUCY_OK);
  float *img = g_new(float, 48 * 64);
  LucyPointCloud pc = {M, x, y, NULL, w};
  g_assert_cmpint(lucy_point_conv_execute(p, &pc, NULL, img), ==, LUCY_OK);
  double *gx = g_new(double, 48 * 64), *gy = g_new(double, 48 * 64), *ref = g_new(double, 48 * 64),
         *got = g_new(double, 48 * 64);
  for (size_t iy = 0; iy < 48; iy++)
    for (size_t ix = 0; ix < 64; ix++) {
      gx[iy * 64 + ix] = ix * 10.0 / 64;
      gy[iy * 64 + ix] = iy * 10.0 / 48;
      got[iy * 64 + ix] = img[iy * 64 + ix];
    }
  LucyPointCloud tg = {48 * 64, gx, gy, NULL, NULL};
  g_assert_cmpint(lucy_points_direct_gaussian(shape, &pc, &tg, k.sigma, o.period, 1, ref), ==,
                  LUCY_OK);
  const double err = rel_l2(got, ref, 48 * 64);
  printf("# image 48x64 vs periodised direct sum: rel l2 %.3g (float image)\n", err);
  g_assert_cmpfloat(err, <, 1e-6);
  lucy_point_conv_plan_free(p);
  g_free(img);
  g_free(gx);
  g_free(gy);
  g_free(ref);
  g_free(got);
  g_rand_free(rng);
}

/* 3-D with anisotropic sigma; and the same kernel given on the grid gives the same values. */
static void test_3d_and_grid_kernel(void) {
  GRand *rng = g_rand_new_with_seed(22);
  const size_t shape[3] = {28, 32, 30}, M = 100;
  double x[100], y[100], z[100], v[100], v2[100], ref[100];
  random_cloud(rng, M, x, y, z, 2 * G_PI);
  LucyPointsOptions o;
  lucy_points_options_default(&o);
  o.eps = 1e-12;
  o.threads = 2;
  LucyPointKernel k = {LUCY_POINT_KERNEL_GAUSSIAN, {0.45, 0.5, 0.4}, NULL};
  LucyPointConvPlan *p = NULL;
  g_assert_cmpint(lucy_point_conv_plan_new(shape, &k, &o, &p), ==, LUCY_OK);
  LucyPointCloud pc = {M, x, y, z, NULL};
  g_assert_cmpint(lucy_point_conv_execute(p, &pc, v, NULL), ==, LUCY_OK);
  g_assert_cmpint(lucy_points_direct_gaussian(shape, &pc, &pc, k.sigma, o.period, 1, ref), ==,
                  LUCY_OK);
  const double err = rel_l2(v, ref, M);
  printf("# 3-D 28x32x30, sigma 0.45,0.5,0.4 vs periodised direct sum: rel l2 %.3g\n", err);
  g_assert_cmpfloat(err, <, 1e-7);
  /* the sampled Gaussian as a grid kernel (origin N//2): the same convolution */
  LucyVolume *kv = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &kv), ==, LUCY_OK);
  for (size_t iz = 0; iz < shape[0]; iz++)
    for (size_t iy = 0; iy < shape[1]; iy++)
      for (size_t ix = 0; ix < shape[2]; ix++) {
        const double dz = ((double)iz - shape[0] / 2) * 2 * G_PI / shape[0];
        const double dy = ((double)iy - shape[1] / 2) * 2 * G_PI / shape[1];
        const double dx = ((double)ix - shape[2] / 2) * 2 * G_PI / shape[2];
        kv->data[(iz * shape[1] + iy) * shape[2] + ix] =
            (float)exp(-dz * dz / (2 * 0.2025) - dy * dy / (2 * 0.25) - dx * dx / (2 * 0.16));
      }
  LucyPointKernel kg = {LUCY_POINT_KERNEL_GRID, {0, 0, 0}, kv};
  LucyPointConvPlan *p2 = NULL;
  g_assert_cmpint(lucy_point_conv_plan_new(shape, &kg, &o, &p2), ==, LUCY_OK);
  g_assert_cmpint(lucy_point_conv_execute(p2, &pc, v2, NULL), ==, LUCY_OK);
  const double e2 = rel_l2(v2, v, M);
  printf("# grid kernel (float samples) vs Gaussian kind: rel l2 %.3g\n", e2);
  g_assert_cmpfloat(e2, <, 1e-6);
  lucy_point_conv_plan_free(p);
  lucy_point_conv_plan_free(p2);
  lucy_volume_free(kv);
  g_rand_free(rng);
}

/* Kernel fitting on the classic's setup: sets of 20 random unit-weight points on the torus,
 * observed values = the periodised Gaussian (sigma 0.5) sum, a 128 x 128 grid. */
static void test_fit_classic(void) {
  GRand *rng = g_rand_new_with_seed(23);
  const size_t shape[3] = {1, 128, 128};
  const size_t S = 400, n = 20, count = S * n;
  const double sigma[3] = {0.5, 0.5, 0.5};
  size_t *set = g_new(size_t, count);
  double *x = g_new(double, count), *y = g_new(double, count), *val = g_new(double, count);
  LucyPointsOptions po;
  lucy_points_options_default(&po);
  for (size_t s = 0; s < S; s++) {
    random_cloud(rng, n, x + s * n, y + s * n, NULL, 2 * G_PI);
    LucyPointCloud pc = {n, x + s * n, y + s * n, NULL, NULL};
    g_assert_cmpint(lucy_points_direct_gaussian(shape, &pc, &pc, sigma, po.period, 1, val + s * n),
                    ==, LUCY_OK);
    for (size_t j = 0; j < n; j++) set[s * n + j] = s;
  }
  LucyPointFitOptions fo;
  lucy_point_fit_options_default(&fo);
  fo.threads = 2;
  fo.max_iter = 100;
  fo.band[1] = fo.band[2] = 16; /* 33 x 33 = 1089 unknowns for 8000 observations */
  LucyPointFitResult res;
  const gint64 t0 = g_get_monotonic_time();
  g_assert_cmpint(lucy_points_fit_kernel(shape, count, set, x, y, NULL, NULL, val, &fo, &res), ==,
                  LUCY_OK);
  const double secs = (g_get_monotonic_time() - t0) * 1e-6;
  const double final = res.loss[res.iterations];
  printf("# fit: %zu sets x %zu points, 128x128 grid, band 16, %zu CG iterations in %.1f s: loss %.3g -> %.3g "
         "(classic AdamW plateau ~0.2: %.2gx lower)\n",
         S, n, res.iterations, secs, res.loss[0], final, 0.2 / final);
  printf("# loss curve:");
  for (size_t i = 0; i <= res.iterations; i += (res.iterations / 6 ? res.iterations / 6 : 1))
    printf(" [%zu] %.3g", i, res.loss[i]);
  printf("\n");
  g_assert_cmpfloat(final, <, 0.2 / 100);
  /* the true Khat: the sampled Gaussian's DFT */
  LucyPointKernel k = {LUCY_POINT_KERNEL_GAUSSIAN, {0.5, 0.5, 0.5}, NULL};
  LucyPointConvPlan *p = NULL;
  g_assert_cmpint(lucy_point_conv_plan_new(shape, &k, &po, &p), ==, LUCY_OK);
  const double *kt = lucy_point_conv_kernel_hat(p);
  /* the frequencies fitted (and constrained by the 8000 observations): |k1|, |k2| <= 16; the
     true Khat is below 1e-13 of its peak outside them; and all modes */
  double num_b = 0, den_b = 0, num_a = 0, den_a = 0;
  for (size_t i2 = 0; i2 < 128; i2++)
    for (size_t i1 = 0; i1 < 128; i1++) {
      const size_t i = i2 * 128 + i1;
      const double k1 = (double)i1 - 64, k2 = (double)i2 - 64;
      const double dr = res.kernel_hat[2 * i] - kt[2 * i], di = res.kernel_hat[2 * i + 1] - kt[2 * i + 1];
      const double e2 = dr * dr + di * di, r2 = kt[2 * i] * kt[2 * i] + kt[2 * i + 1] * kt[2 * i + 1];
      num_a += e2;
      den_a += r2;
      if (fabs(k1) <= 16 && fabs(k2) <= 16) {
        num_b += e2;
        den_b += r2;
      }
    }
  printf("# recovered Khat rel l2 error: band |k1|,|k2| <= 16: %.3g; all 128x128 modes: %.3g\n",
         sqrt(num_b / den_b), sqrt(num_a / den_a));
  /* held-out loss with the fitted kernel (as a grid kernel) on fresh sets */
  LucyPointKernel kf = {LUCY_POINT_KERNEL_GRID, {0, 0, 0}, res.kernel};
  LucyPointConvPlan *pf = NULL;
  g_assert_cmpint(lucy_point_conv_plan_new(shape, &kf, &po, &pf), ==, LUCY_OK);
  double held = 0;
  const int H = 50;
  for (int h = 0; h < H; h++) {
    double hx[20], hy[20], hv[20], hr[20];
    random_cloud(rng, n, hx, hy, NULL, 2 * G_PI);
    LucyPointCloud pc = {n, hx, hy, NULL, NULL};
    g_assert_cmpint(lucy_point_conv_execute(pf, &pc, hv, NULL), ==, LUCY_OK);
    g_assert_cmpint(lucy_points_direct_gaussian(shape, &pc, &pc, sigma, po.period, 1, hr), ==,
                    LUCY_OK);
    for (size_t j = 0; j < n; j++) held += (hv[j] - hr[j]) * (hv[j] - hr[j]);
  }
  held /= (double)(H * n);
  printf("# held-out loss (50 fresh sets, fitted kernel as a float grid kernel): %.3g\n", held);
  g_assert_cmpfloat(sqrt(num_b / den_b), <, 1e-2);
  g_assert_cmpfloat(held, <, 0.2 / 100);
  lucy_point_conv_plan_free(p);
  lucy_point_conv_plan_free(pf);
  lucy_point_fit_result_clear(&res);
  g_free(set);
  g_free(x);
  g_free(y);
  g_free(val);
  g_rand_free(rng);
}

static void test_bad_input(void) {
  const size_t shape[3] = {1, 16, 16}, bad[3] = {1, 0, 16};
  LucyPointKernel k = {LUCY_POINT_KERNEL_GAUSSIAN, {0.5, 0.5, 0.5}, NULL};
  LucyPointConvPlan *p = NULL;
  g_assert_cmpint(lucy_point_conv_plan_new(bad, &k, NULL, &p), ==, LUCY_ERR_INVALID_ARGUMENT);
  k.sigma[2] = 0;
  g_assert_cmpint(lucy_point_conv_plan_new(shape, &k, NULL, &p), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(lucy_error_message(), "sigma"));
  k.sigma[2] = 0.5;
  LucyPointsOptions o;
  lucy_points_options_default(&o);
  o.period[2] = -1;
  g_assert_cmpint(lucy_point_conv_plan_new(shape, &k, &o, &p), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_null(p);
  g_assert_cmpint(lucy_point_conv_plan_new(shape, &k, NULL, &p), ==, LUCY_OK);
  double x[2] = {0, NAN}, y[2] = {0, 1}, v[2];
  LucyPointCloud pc = {2, x, y, NULL, NULL};
  g_assert_cmpint(lucy_point_conv_execute(p, &pc, v, NULL), ==, LUCY_ERR_NUMERIC);
  LucyPointCloud no_y = {2, x, NULL, NULL, NULL};
  g_assert_cmpint(lucy_point_conv_execute(p, &no_y, v, NULL), ==, LUCY_ERR_INVALID_ARGUMENT);
  LucyPointCloud empty = {0, NULL, NULL, NULL, NULL};
  float img[256];
  g_assert_cmpint(lucy_point_conv_execute(p, &empty, NULL, img), ==, LUCY_OK);
  for (int i = 0; i < 256; i++) g_assert_cmpfloat(img[i], ==, 0.0f);
  lucy_point_conv_plan_free(p);
  /* a grid kernel larger than the grid */
  LucyVolume *kv = NULL;
  const size_t big[3] = {1, 17, 16};
  g_assert_cmpint(lucy_volume_new(big, &kv), ==, LUCY_OK);
  LucyPointKernel kg = {LUCY_POINT_KERNEL_GRID, {0, 0, 0}, kv};
  g_assert_cmpint(lucy_point_conv_plan_new(shape, &kg, NULL, &p), ==, LUCY_ERR_INVALID_ARGUMENT);
  lucy_volume_free(kv);
  /* fitting: no data, NaN values */
  LucyPointFitResult r;
  size_t set[2] = {0, 0};
  double val[2] = {1, NAN};
  g_assert_cmpint(lucy_points_fit_kernel(shape, 0, set, x, y, NULL, NULL, val, NULL, &r), ==,
                  LUCY_ERR_INVALID_ARGUMENT);
  x[1] = 1;
  g_assert_cmpint(lucy_points_fit_kernel(shape, 2, set, x, y, NULL, NULL, val, NULL, &r), ==,
                  LUCY_ERR_NUMERIC);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/points/classic", test_classic);
  g_test_add_func("/points/image-2d", test_image_2d);
  g_test_add_func("/points/3d-and-grid-kernel", test_3d_and_grid_kernel);
  g_test_add_func("/points/fit-classic", test_fit_classic);
  g_test_add_func("/points/bad-input", test_bad_input);
  return g_test_run();
}
