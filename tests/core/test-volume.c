/* Volumes, statistics, percentiles and atomic file writing. */
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic-file.h"
#include "lucy/lucy.h"

static void test_new_and_zero_extent(void) {
  LucyVolume *v = NULL;
  size_t shape[3] = {2, 3, 4};
  g_assert_cmpint(lucy_volume_new(shape, &v), ==, LUCY_OK);
  g_assert_cmpuint(v->shape[0], ==, 2);
  g_assert_cmpfloat(v->voxel_um[2], ==, 1.0);
  for (size_t i = 0; i < 24; i++) g_assert_cmpfloat(v->data[i], ==, 0.0f);
  lucy_volume_free(v);

  size_t zero[3] = {2, 0, 4};
  v = NULL;
  g_assert_cmpint(lucy_volume_new(zero, &v), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_null(v);
  g_assert_nonnull(strstr(lucy_error_message(), "2x0x4"));

  size_t huge[3] = {SIZE_MAX / 2, 4, 4};
  g_assert_cmpint(lucy_volume_new(huge, &v), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(lucy_error_message(), "too large"));
}

static void test_from_data_every_type(void) {
  size_t shape[3] = {1, 1, 3};
  const uint8_t u8[] = {0, 128, 255};
  const int8_t i8[] = {-128, 0, 127};
  const uint16_t u16[] = {0, 1000, 65535};
  const int16_t i16[] = {-32768, -1, 32767};
  const uint32_t u32[] = {0, 70000, 4000000000u};
  const int32_t i32[] = {-2000000000, 5, 2000000000};
  const float f32[] = {-1.5f, 0.25f, 3e30f};
  const double f64[] = {-1.5, 1e-3, 1e30};
  const void *src[] = {u8, i8, u16, i16, u32, i32, f32, f64};
  const double expect[8][3] = {{0, 128, 255},           {-128, 0, 127},
                               {0, 1000, 65535},        {-32768, -1, 32767},
                               {0, 70000, 4000000000.0}, {-2000000000, 5, 2000000000},
                               {-1.5, 0.25, 3e30},      {-1.5, 1e-3, 1e30}};
  for (int t = LUCY_U8; t <= LUCY_F64; t++) {
    LucyVolume *v = NULL;
    g_assert_cmpint(lucy_volume_from_data(src[t], (LucySampleType)t, shape, &v), ==, LUCY_OK);
    for (int i = 0; i < 3; i++)
      g_assert_cmpfloat_with_epsilon(v->data[i], (float)expect[t][i],
                                     fabs(expect[t][i]) * 1e-7 + 1e-9);
    lucy_volume_free(v);
  }
  g_assert_cmpstr(lucy_sample_type_name(LUCY_U16), ==, "uint16");
  g_assert_cmpuint(lucy_sample_type_size(LUCY_F64), ==, 8);
}

static void test_crop_pad(void) {
  size_t shape[3] = {2, 3, 4};
  LucyVolume *v = NULL, *c = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &v), ==, LUCY_OK);
  v->voxel_um[0] = 0.3;
  for (size_t i = 0; i < 24; i++) v->data[i] = (float)i;
  /* A window that starts before the volume and runs past it on every axis. */
  ptrdiff_t origin[3] = {-1, 1, -2};
  size_t out[3] = {4, 3, 7};
  g_assert_cmpint(lucy_volume_crop_pad(v, origin, out, -7.0f, &c), ==, LUCY_OK);
  g_assert_cmpfloat(c->voxel_um[0], ==, 0.3);
  for (size_t z = 0; z < 4; z++)
    for (size_t y = 0; y < 3; y++)
      for (size_t x = 0; x < 7; x++) {
        ptrdiff_t sz = (ptrdiff_t)z - 1, sy = (ptrdiff_t)y + 1, sx = (ptrdiff_t)x - 2;
        int inside = sz >= 0 && sz < 2 && sy >= 0 && sy < 3 && sx >= 0 && sx < 4;
        float want = inside ? (float)((sz * 3 + sy) * 4 + sx) : -7.0f;
        g_assert_cmpfloat(c->data[(z * 3 + y) * 7 + x], ==, want);
      }
  lucy_volume_free(c);
  /* Entirely outside: all fill. */
  ptrdiff_t far[3] = {10, 10, 10};
  g_assert_cmpint(lucy_volume_crop_pad(v, far, out, 2.0f, &c), ==, LUCY_OK);
  for (size_t i = 0; i < 84; i++) g_assert_cmpfloat(c->data[i], ==, 2.0f);
  lucy_volume_free(c);
  LucyVolume *copy = NULL;
  g_assert_cmpint(lucy_volume_copy(v, &copy), ==, LUCY_OK);
  g_assert_cmpmem(copy->data, 24 * sizeof(float), v->data, 24 * sizeof(float));
  lucy_volume_free(copy);
  lucy_volume_free(v);
}

static void test_stats(void) {
  size_t shape[3] = {1, 2, 3};
  LucyVolume *v = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &v), ==, LUCY_OK);
  const float vals[] = {1, -2, NAN, 4, INFINITY, 7};
  memcpy(v->data, vals, sizeof vals);
  LucyStats s;
  lucy_volume_stats(v, &s);
  g_assert_cmpuint(s.count, ==, 6);
  g_assert_cmpuint(s.nonfinite, ==, 2);
  g_assert_cmpfloat(s.min, ==, -2);
  g_assert_cmpfloat(s.max, ==, 7);
  g_assert_cmpfloat(s.sum, ==, 10);
  g_assert_cmpfloat(s.mean, ==, 2.5);
  lucy_volume_free(v);
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

/* Reference: numpy.percentile's linear method on a fully sorted copy. */
static double reference_percentile(const float *v, size_t n, double p) {
  double *s = g_new(double, n);
  size_t m = 0;
  for (size_t i = 0; i < n; i++)
    if (isfinite(v[i])) s[m++] = v[i];
  qsort(s, m, sizeof *s, cmp_double);
  double pos = p / 100.0 * (double)(m - 1);
  size_t k = (size_t)floor(pos);
  double r = k + 1 < m ? s[k] + (pos - (double)k) * (s[k + 1] - s[k]) : s[k];
  g_free(s);
  return r;
}

static void test_percentile(void) {
  GRand *rng = g_rand_new_with_seed(7);
  for (size_t n = 1; n < 300; n += 37) {
    float *v = g_new(float, n);
    for (size_t i = 0; i < n; i++)
      v[i] = (i % 5 == 0) ? 3.0f : (float)g_rand_double_range(rng, -10, 10); /* ties too */
    if (n > 3) v[2] = NAN;
    const double ps[] = {0, 0.1, 1, 25, 50, 73.3, 99, 99.9, 100};
    for (size_t j = 0; j < G_N_ELEMENTS(ps); j++)
      g_assert_cmpfloat_with_epsilon(lucy_percentile(v, n, ps[j]),
                                     reference_percentile(v, n, ps[j]), 1e-5);
    g_free(v);
  }
  float nan1[] = {NAN, NAN};
  g_assert_true(isnan(lucy_percentile(nan1, 2, 50)));
  float ex[] = {1, 2, 3, 4};
  g_assert_cmpfloat_with_epsilon(lucy_percentile(ex, 4, 50), 2.5, 1e-12); /* numpy: 2.5 */
  g_rand_free(rng);
}

static guint count_entries(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  guint n = 0;
  while (g_dir_read_name(d)) n++;
  g_dir_close(d);
  return n;
}

/* Against closed forms: a scaled copy has error 0; truth t and estimate t + c u with u
 * orthogonal to t (t on the even voxels, u on the odd ones) have error sqrt(U / (T + U)),
 * T = ||t||^2, U = c^2 ||u||^2. Bad input fails with the numbers. */
static void test_scaled_error(void) {
  const size_t shape[3] = {3, 5, 7}, other[3] = {3, 5, 6};
  LucyVolume *t = NULL, *e = NULL, *o = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &t), ==, LUCY_OK);
  g_assert_cmpint(lucy_volume_new(shape, &e), ==, LUCY_OK);
  g_assert_cmpint(lucy_volume_new(other, &o), ==, LUCY_OK);
  const size_t n = lucy_shape_count(shape);
  const double c = 0.75;
  double T = 0.0, U = 0.0;
  for (size_t i = 0; i < n; i++) {
    const double ti = i % 2 ? 0.0 : 1.0 + (double)(i % 5), ui = i % 2 ? 2.0 + (double)(i % 3) : 0.0;
    t->data[i] = (float)ti;
    e->data[i] = (float)(ti + c * ui);
    T += ti * ti;
    U += c * c * ui * ui;
  }
  double err = -1.0;
  g_assert_cmpint(lucy_volume_scaled_error(e, t, &err), ==, LUCY_OK);
  g_assert_cmpfloat(fabs(err - sqrt(U / (T + U))), <, 1e-12);
  for (size_t i = 0; i < n; i++) e->data[i] = 250.0f * t->data[i];
  g_assert_cmpint(lucy_volume_scaled_error(e, t, &err), ==, LUCY_OK);
  g_assert_cmpfloat(err, <, 1e-12);

  g_assert_cmpint(lucy_volume_scaled_error(o, t, &err), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(lucy_error_message(), "3x5x6"));
  e->data[4] = NAN;
  g_assert_cmpint(lucy_volume_scaled_error(e, t, &err), ==, LUCY_ERR_NUMERIC);
  g_assert_nonnull(strstr(lucy_error_message(), "1 voxels"));
  memset(e->data, 0, n * sizeof(float));
  g_assert_cmpint(lucy_volume_scaled_error(e, t, &err), ==, LUCY_ERR_NUMERIC);
  g_assert_nonnull(strstr(lucy_error_message(), "estimate is all zeros"));
  lucy_volume_free(t);
  lucy_volume_free(e);
  lucy_volume_free(o);
}

static void test_atomic_file(void) {
  g_autofree char *dir = g_dir_make_tmp("lucy-atomic-XXXXXX", NULL);
  g_autofree char *path = g_build_filename(dir, "out.bin", NULL);
  LucyAtomicFile af;
  g_assert_cmpint(lucy__atomic_begin(&af, path, 0), ==, LUCY_OK);
  g_assert_false(g_file_test(path, G_FILE_TEST_EXISTS)); /* nothing visible until commit */
  g_assert_cmpint(write(af.fd, "abc", 3), ==, 3);
  g_assert_cmpint(lucy__atomic_commit(&af), ==, LUCY_OK);
  g_autofree char *got = NULL;
  g_assert_true(g_file_get_contents(path, &got, NULL, NULL));
  g_assert_cmpstr(got, ==, "abc");

  /* Existing file without overwrite: refused before anything is written. */
  g_assert_cmpint(lucy__atomic_begin(&af, path, 0), ==, LUCY_ERR_EXISTS);
  g_assert_nonnull(strstr(lucy_error_message(), "--force"));
  /* A file that appears between begin and commit is not replaced either. */
  g_autofree char *p2 = g_build_filename(dir, "race.bin", NULL);
  g_assert_cmpint(lucy__atomic_begin(&af, p2, 0), ==, LUCY_OK);
  g_assert_cmpint(write(af.fd, "new", 3), ==, 3);
  g_assert_true(g_file_set_contents(p2, "old", 3, NULL));
  g_assert_cmpint(lucy__atomic_commit(&af), ==, LUCY_ERR_EXISTS);
  g_autofree char *kept = NULL;
  g_assert_true(g_file_get_contents(p2, &kept, NULL, NULL));
  g_assert_cmpstr(kept, ==, "old");

  /* Overwrite replaces; abort leaves nothing behind. */
  g_assert_cmpint(lucy__atomic_begin(&af, path, 1), ==, LUCY_OK);
  g_assert_cmpint(write(af.fd, "xyz", 3), ==, 3);
  g_assert_cmpint(lucy__atomic_commit(&af), ==, LUCY_OK);
  g_free(got);
  got = NULL;
  g_assert_true(g_file_get_contents(path, &got, NULL, NULL));
  g_assert_cmpstr(got, ==, "xyz");
  g_assert_cmpint(lucy__atomic_begin(&af, path, 1), ==, LUCY_OK);
  lucy__atomic_abort(&af);
  g_assert_cmpuint(count_entries(dir), ==, 2);

  /* Missing folder and a file used as a folder: specific errors, nothing created. */
  g_autofree char *missing = g_build_filename(dir, "nope", "out.bin", NULL);
  g_assert_cmpint(lucy__atomic_begin(&af, missing, 0), ==, LUCY_ERR_IO);
  g_assert_nonnull(strstr(lucy_error_message(), "nope"));
  g_autofree char *under_file = g_build_filename(path, "out.bin", NULL);
  g_assert_cmpint(lucy__atomic_begin(&af, under_file, 0), ==, LUCY_ERR_IO);
  g_assert_nonnull(strstr(lucy_error_message(), "not a folder"));
  g_assert_cmpuint(count_entries(dir), ==, 2);
  g_unlink(path);
  g_unlink(p2);
  g_rmdir(dir);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/volume/new", test_new_and_zero_extent);
  g_test_add_func("/volume/from-data", test_from_data_every_type);
  g_test_add_func("/volume/crop-pad", test_crop_pad);
  g_test_add_func("/volume/stats", test_stats);
  g_test_add_func("/volume/percentile", test_percentile);
  g_test_add_func("/volume/scaled-error", test_scaled_error);
  g_test_add_func("/volume/atomic-file", test_atomic_file);
  return g_test_run();
}
