/* Projections, the display mapping, colormaps, RGBA rendering and the composite PNG figure. */
#include <cairo.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>

#include "lucy/project.h"
#include "lucy/volume.h"

static LucyVolume *volume_new(size_t nz, size_t ny, size_t nx) {
  const size_t shape[3] = {nz, ny, nx};
  LucyVolume *vol = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &vol), ==, LUCY_OK);
  return vol;
}

#define AT(vol, z, y, x) ((vol)->data[((z) * (vol)->shape[1] + (y)) * (vol)->shape[2] + (x)])

/* The reference, NaN-ignoring and NaN when the whole line is NaN: the max of a line, or with
 * extreme the value of largest magnitude (of +a and -a the positive one, +0 over -0). */
static float line_reduce(const LucyVolume *vol, LucyProjection which, size_t i, size_t j,
                         int extreme) {
  const size_t nz = vol->shape[0], ny = vol->shape[1], nx = vol->shape[2];
  size_t n = which == LUCY_PROJ_XY ? nz : which == LUCY_PROJ_ZY ? nx : ny;
  float m = NAN;
  for (size_t k = 0; k < n; k++) {
    float v = which == LUCY_PROJ_XY ? AT(vol, k, i, j)
              : which == LUCY_PROJ_ZY ? AT(vol, j, i, k)
                                      : AT(vol, i, k, j);
    if (isnan(v)) continue;
    if (isnan(m)) m = v;
    else if (!extreme && v > m) m = v;
    else if (extreme && (fabs(v) > fabs(m) || (fabs(v) == fabs(m) && signbit(m) && !signbit(v))))
      m = v;
  }
  return m;
}

/* With extreme, the sign of zero is checked too. */
static void check_projection_kind(const LucyVolume *vol, LucyProjection which,
                                  const LucyImage *img, int extreme) {
  const size_t nz = vol->shape[0], ny = vol->shape[1], nx = vol->shape[2];
  g_assert_cmpuint(img->height, ==, which == LUCY_PROJ_XZ ? nz : ny);
  g_assert_cmpuint(img->width, ==, which == LUCY_PROJ_ZY ? nz : nx);
  for (size_t i = 0; i < img->height; i++)
    for (size_t j = 0; j < img->width; j++) {
      float want = line_reduce(vol, which, i, j, extreme), got = img->data[i * img->width + j];
      if (isnan(want)) g_assert_true(isnan(got));
      else g_assert_cmpfloat(got, ==, want);
      if (extreme) g_assert_cmpint(!!signbit(got), ==, !!signbit(want));
    }
}

static void check_projection(const LucyVolume *vol, LucyProjection which, const LucyImage *img) {
  check_projection_kind(vol, which, img, 0);
}

static void test_project_small(void) {
  /* 2 x 3 x 4 with value 100z + 10y + x, a NaN-only line along z at (y=1, x=2), a NaN-only
   * line along x at (z=1, y=2), a NaN-only line along y at (z=0, x=3), and single NaNs. */
  LucyVolume *vol = volume_new(2, 3, 4);
  for (size_t z = 0; z < 2; z++)
    for (size_t y = 0; y < 3; y++)
      for (size_t x = 0; x < 4; x++) AT(vol, z, y, x) = (float)(100 * z + 10 * y + x);
  AT(vol, 0, 1, 2) = AT(vol, 1, 1, 2) = NAN;
  for (size_t x = 0; x < 4; x++) AT(vol, 1, 2, x) = NAN;
  for (size_t y = 0; y < 3; y++) AT(vol, 0, y, 3) = NAN;
  AT(vol, 1, 0, 0) = NAN;

  LucyImage *xy, *zy, *xz;
  g_assert_cmpint(lucy_project_max(vol, LUCY_PROJ_XY, &xy), ==, LUCY_OK);
  g_assert_cmpint(lucy_project_max(vol, LUCY_PROJ_ZY, &zy), ==, LUCY_OK);
  g_assert_cmpint(lucy_project_max(vol, LUCY_PROJ_XZ, &xz), ==, LUCY_OK);
  /* Hand-computed pixels. */
  g_assert_cmpuint(xy->height, ==, 3);
  g_assert_cmpuint(xy->width, ==, 4);
  g_assert_cmpfloat(xy->data[0 * 4 + 0], ==, 0);   /* z=1 is NaN there: 0 from z=0 */
  g_assert_cmpfloat(xy->data[0 * 4 + 1], ==, 101);
  g_assert_true(isnan(xy->data[1 * 4 + 2]));        /* all-NaN line */
  g_assert_cmpfloat(xy->data[2 * 4 + 1], ==, 21);   /* z=1 row 2 is NaN */
  g_assert_cmpfloat(xy->data[0 * 4 + 3], ==, 103);  /* z=0 column 3 is NaN */
  g_assert_true(isnan(xy->data[2 * 4 + 3]));        /* NaN at z=0 and at z=1 */
  g_assert_cmpuint(zy->height, ==, 3);
  g_assert_cmpuint(zy->width, ==, 2);
  g_assert_cmpfloat(zy->data[0 * 2 + 0], ==, 2);    /* x=3 NaN at z=0 */
  g_assert_cmpfloat(zy->data[1 * 2 + 1], ==, 113);
  g_assert_true(isnan(zy->data[2 * 2 + 1]));
  g_assert_cmpuint(xz->height, ==, 2);
  g_assert_cmpuint(xz->width, ==, 4);
  g_assert_true(isnan(xz->data[0 * 4 + 3]));
  g_assert_cmpfloat(xz->data[1 * 4 + 0], ==, 110);
  g_assert_cmpfloat(xz->data[1 * 4 + 3], ==, 113);
  check_projection(vol, LUCY_PROJ_XY, xy);
  check_projection(vol, LUCY_PROJ_ZY, zy);
  check_projection(vol, LUCY_PROJ_XZ, xz);
  lucy_image_free(xy);
  lucy_image_free(zy);
  lucy_image_free(xz);
  lucy_volume_free(vol);
}

/* Sizes that exercise the vector body and tail, and one big enough for the threaded path
 * (>= 2^20 voxels, nz > 1). */
static const size_t random_shapes[][3] = {
    {1, 1, 1}, {1, 5, 3}, {7, 9, 37}, {3, 2, 16}, {24, 48, 1001}};

/* Random values with NaN, +-inf and mixed signs; an all-NaN line along z, and when nz > 2
 * along x, and along y a line of -inf and NaN for max (stays -inf), of NaN for extreme. For
 * extreme, many exact ties in magnitude (+a/-a, +0/-0) too. */
static LucyVolume *random_volume(GRand *rand, const size_t shape[3], int extreme) {
  LucyVolume *vol = volume_new(shape[0], shape[1], shape[2]);
  size_t n = lucy_shape_count(vol->shape);
  for (size_t i = 0; i < n; i++) {
    double u = g_rand_double(rand);
    if (!extreme)
      vol->data[i] = u < 0.1 ? NAN : u < 0.101 ? -INFINITY : (float)g_rand_double_range(rand, -5, 3);
    else
      vol->data[i] = u < 0.1    ? NAN
                     : u < 0.101 ? (g_rand_boolean(rand) ? INFINITY : -INFINITY)
                     : u < 0.15  ? (g_rand_boolean(rand) ? 0.0f : -0.0f)
                     : u < 0.6   ? (float)g_rand_int_range(rand, -8, 9) / 4
                                 : (float)g_rand_double_range(rand, -5, 5);
  }
  for (size_t z = 0; z < vol->shape[0]; z++) AT(vol, z, 0, 0) = NAN;
  if (vol->shape[0] > 2) {
    for (size_t x = 0; x < vol->shape[2]; x++) AT(vol, 1, vol->shape[1] - 1, x) = NAN;
    for (size_t y = 0; y < vol->shape[1]; y++)
      AT(vol, 2, y, vol->shape[2] - 1) = y % 2 || extreme ? NAN : -INFINITY;
  }
  return vol;
}

static void test_project_random(void) {
  GRand *rand = g_rand_new_with_seed(7);
  for (size_t s = 0; s < G_N_ELEMENTS(random_shapes); s++) {
    LucyVolume *vol = random_volume(rand, random_shapes[s], 0);
    LucyImage *all[3];
    g_assert_cmpint(lucy_project_max_all(vol, all), ==, LUCY_OK);
    for (int k = 0; k < 3; k++) {
      check_projection(vol, (LucyProjection)k, all[k]);
      LucyImage *one;
      g_assert_cmpint(lucy_project_max(vol, (LucyProjection)k, &one), ==, LUCY_OK);
      g_assert_cmpmem(one->data, one->height * one->width * sizeof(float), all[k]->data,
                      all[k]->height * all[k]->width * sizeof(float));
      lucy_image_free(one);
      lucy_image_free(all[k]);
    }
    lucy_volume_free(vol);
  }
  g_rand_free(rand);
}

static void test_project_extreme_small(void) {
  /* 2 x 3 x 3, N = NaN:  z=0: y0 [ 1 -3 N]  y1 [-2 -0 N]  y2 [N  N N]
   *                      z=1: y0 [-1  3 N]  y1 [ N +0 N]  y2 [5 -6 N] */
  const float n = NAN, values[] = {1, -3, n, -2, -0.0f, n, n, n, n, -1, 3, n, n, 0, n, 5, -6, n};
  LucyVolume *vol = volume_new(2, 3, 3);
  memcpy(vol->data, values, sizeof values);
  LucyImage *p[3];
  g_assert_cmpint(lucy_project_extreme_all(vol, p), ==, LUCY_OK);
  /* Hand-computed, row by row; ties +a/-a and +0/-0 go to the positive one. */
  const float xy[] = {1, 3, n, -2, 0, n, 5, -6, n}; /* 3 x 3 */
  const float zy[] = {-3, 3, -2, 0, n, -6};          /* 3 x 2 (y, z) */
  const float xz[] = {-2, -3, n, 5, -6, n};          /* 2 x 3 (z, x) */
  const float *want[3] = {xy, zy, xz};
  const size_t h[3] = {3, 3, 2}, w[3] = {3, 2, 3};
  for (int k = 0; k < 3; k++) {
    g_assert_cmpuint(p[k]->height, ==, h[k]);
    g_assert_cmpuint(p[k]->width, ==, w[k]);
    for (size_t i = 0; i < h[k] * w[k]; i++) {
      if (isnan(want[k][i])) {
        g_assert_true(isnan(p[k]->data[i]));
      } else {
        g_assert_cmpfloat(p[k]->data[i], ==, want[k][i]);
        g_assert_cmpint(!!signbit(p[k]->data[i]), ==, !!signbit(want[k][i])); /* +0, not -0 */
      }
    }
    check_projection_kind(vol, (LucyProjection)k, p[k], 1);
    lucy_image_free(p[k]);
  }
  lucy_volume_free(vol);
}

/* Against the direct loop, exactly (sign of zero included), on every shape. */
static void test_project_extreme_random(void) {
  GRand *rand = g_rand_new_with_seed(11);
  for (size_t s = 0; s < G_N_ELEMENTS(random_shapes); s++) {
    LucyVolume *vol = random_volume(rand, random_shapes[s], 1);
    LucyImage *all[3];
    g_assert_cmpint(lucy_project_extreme_all(vol, all), ==, LUCY_OK);
    g_assert_true(isnan(all[LUCY_PROJ_XY]->data[0]));
    if (vol->shape[0] > 2) {
      g_assert_true(isnan(all[LUCY_PROJ_ZY]->data[(vol->shape[1] - 1) * vol->shape[0] + 1]));
      g_assert_true(isnan(all[LUCY_PROJ_XZ]->data[2 * vol->shape[2] + vol->shape[2] - 1]));
    }
    for (int k = 0; k < 3; k++) {
      check_projection_kind(vol, (LucyProjection)k, all[k], 1);
      lucy_image_free(all[k]);
    }
    lucy_volume_free(vol);
  }
  g_rand_free(rand);
}

static void test_project_errors(void) {
  LucyImage *all[3] = {(LucyImage *)1, (LucyImage *)1, (LucyImage *)1};
  g_assert_cmpint(lucy_project_extreme_all(NULL, all), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_true(!all[0] && !all[1] && !all[2]);
  g_assert_cmpint(lucy_project_extreme_all(NULL, NULL), ==, LUCY_ERR_INVALID_ARGUMENT);
  LucyImage *img = (LucyImage *)1;
  g_assert_cmpint(lucy_project_max(NULL, LUCY_PROJ_XY, &img), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_null(img);
  LucyVolume *vol = volume_new(2, 2, 2);
  g_assert_cmpint(lucy_project_max(vol, (LucyProjection)7, &img), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_cmpint(lucy_volume_plane(vol, 2, &img), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(lucy_error_message(), "plane 2"));
  lucy_volume_free(vol);
}

static void test_volume_plane(void) {
  LucyVolume *vol = volume_new(3, 2, 5);
  for (size_t i = 0; i < 30; i++) vol->data[i] = (float)i;
  LucyImage *img;
  g_assert_cmpint(lucy_volume_plane(vol, 1, &img), ==, LUCY_OK);
  g_assert_cmpuint(img->height, ==, 2);
  g_assert_cmpuint(img->width, ==, 5);
  for (size_t i = 0; i < 10; i++) g_assert_cmpfloat(img->data[i], ==, (float)(10 + i));
  lucy_image_free(img);
  lucy_volume_free(vol);
}

/* ---- the display mapping ------------------------------------------------------------- */

static void test_render_value(void) {
  LucyRenderOptions o;
  lucy_render_options_default(&o);
  g_assert_cmpint(o.auto_contrast, ==, 1);
  g_assert_cmpfloat(o.pmin, ==, 0.1);
  g_assert_cmpfloat(o.pmax, ==, 99.9);
  g_assert_cmpfloat(o.gamma, ==, 1);
  g_assert_cmpint(o.colormap, ==, LUCY_CMAP_GRAY);
  g_assert_cmpint(o.log, ==, 0);
  g_assert_cmpfloat(o.log_decades, ==, 4);

  /* Linear, clamped. */
  g_assert_cmpfloat_with_epsilon(lucy_render_value(&o, 10, 20, 15), 0.5, 1e-15);
  g_assert_cmpfloat(lucy_render_value(&o, 10, 20, 5), ==, 0);
  g_assert_cmpfloat(lucy_render_value(&o, 10, 20, 25), ==, 1);
  g_assert_cmpfloat(lucy_render_value(&o, 10, 20, INFINITY), ==, 1);
  g_assert_cmpfloat(lucy_render_value(&o, 10, 20, -INFINITY), ==, 0);
  g_assert_cmpfloat(lucy_render_value(&o, 10, 20, NAN), ==, 0);
  /* vmax <= vmin and NaN limits: everything at 0. */
  g_assert_cmpfloat(lucy_render_value(&o, 20, 20, 30), ==, 0);
  g_assert_cmpfloat(lucy_render_value(&o, 20, 10, 15), ==, 0);
  g_assert_cmpfloat(lucy_render_value(&o, NAN, 10, 5), ==, 0);
  /* Gamma with vmin honoured: ((15 - 10) / 10)^2 = 0.25, ((12 - 10) / 10)^0.5. */
  o.gamma = 2;
  g_assert_cmpfloat_with_epsilon(lucy_render_value(&o, 10, 20, 15), 0.25, 1e-15);
  g_assert_cmpfloat(lucy_render_value(&o, 10, 20, 9), ==, 0);
  g_assert_cmpfloat(lucy_render_value(&o, 10, 20, 21), ==, 1);
  o.gamma = 0.5;
  g_assert_cmpfloat_with_epsilon(lucy_render_value(&o, 10, 20, 12), sqrt(0.2), 1e-15);
  g_assert_cmpfloat_with_epsilon(lucy_render_value(&o, -10, 10, 0), sqrt(0.5), 1e-15);

  /* Log: vmin <= 0 shows log_decades below vmax: lo = 1000 * 10^-3 = 1. */
  lucy_render_options_default(&o);
  o.log = 1;
  o.log_decades = 3;
  g_assert_cmpfloat_with_epsilon(lucy_render_value(&o, 0, 1000, 10), 1.0 / 3, 1e-12);
  g_assert_cmpfloat_with_epsilon(lucy_render_value(&o, -5, 1000, 100), 2.0 / 3, 1e-12);
  g_assert_cmpfloat(lucy_render_value(&o, 0, 1000, 0.5), ==, 0);
  g_assert_cmpfloat(lucy_render_value(&o, 0, 1000, -3), ==, 0);
  g_assert_cmpfloat(lucy_render_value(&o, 0, 1000, 5000), ==, 1);
  g_assert_cmpfloat(lucy_render_value(&o, 0, 1000, NAN), ==, 0);
  /* vmin > 0 is the bottom: t = log10(20 / 2) / log10(1000 / 2). */
  g_assert_cmpfloat_with_epsilon(lucy_render_value(&o, 2, 1000, 20), 1 / log10(500), 1e-12);
  /* A tiny positive vmin does not widen the range past log_decades: lo = 1. */
  g_assert_cmpfloat_with_epsilon(lucy_render_value(&o, 1e-9, 1000, 10), 1.0 / 3, 1e-12);
  /* Log then gamma. */
  o.gamma = 2;
  g_assert_cmpfloat_with_epsilon(lucy_render_value(&o, 0, 1000, 10), 1.0 / 9, 1e-12);
  /* Degenerate log ranges render at 0. */
  g_assert_cmpfloat(lucy_render_value(&o, -5, -1, -2), ==, 0);
  g_assert_cmpfloat(lucy_render_value(&o, 0, 0, 1), ==, 0);
}

static void test_render_range(void) {
  float values[101];
  for (int i = 0; i <= 100; i++) values[i] = (float)i;
  values[50] = NAN; /* ignored, as numpy.nanpercentile */
  LucyRenderOptions o;
  lucy_render_options_default(&o);
  double lo, hi;
  o.pmin = 10;
  o.pmax = 90;
  lucy_render_range(&o, values, 101, &lo, &hi);
  /* 100 finite values 0..49, 51..100: position 0.1 * 99 = 9.9 -> 9.9; 0.9 * 99 = 89.1 -> 90.1 */
  g_assert_cmpfloat_with_epsilon(lo, 9.9, 1e-9);
  g_assert_cmpfloat_with_epsilon(hi, 90.1, 1e-9);
  o.auto_contrast = 0;
  o.vmin = -3;
  o.vmax = 7;
  lucy_render_range(&o, values, 101, &lo, &hi);
  g_assert_cmpfloat(lo, ==, -3);
  g_assert_cmpfloat(hi, ==, 7);
  /* One bright value among many zeros: the percentiles coincide, the full range is used. */
  float sparse[5000] = {0};
  sparse[1234] = 8;
  lucy_render_options_default(&o);
  lucy_render_range(&o, sparse, 5000, &lo, &hi);
  g_assert_cmpfloat(lo, ==, 0);
  g_assert_cmpfloat(hi, ==, 8);
  /* Nothing finite. */
  float nans[3] = {NAN, NAN, NAN};
  lucy_render_range(&o, nans, 3, &lo, &hi);
  g_assert_cmpfloat(lo, ==, 0);
  g_assert_cmpfloat(hi, ==, 1);
}

static void test_colormaps(void) {
  /* matplotlib's published colours (matplotlib.colors.to_hex(cmap(t))). */
  struct { LucyColormap c; double t; uint32_t rgb; } cases[] = {
      {LUCY_CMAP_MAGMA, 0, 0x000004},    {LUCY_CMAP_MAGMA, 1, 0xfcfdbf},
      {LUCY_CMAP_MAGMA, 0.5, 0xb73779},  {LUCY_CMAP_MAGMA, 0.25, 0x51127c},
      {LUCY_CMAP_VIRIDIS, 0, 0x440154},  {LUCY_CMAP_VIRIDIS, 1, 0xfde725},
      {LUCY_CMAP_VIRIDIS, 0.5, 0x21918c}, {LUCY_CMAP_VIRIDIS, 0.25, 0x3b528b},
      {LUCY_CMAP_COOLWARM, 0, 0x3b4cc0}, {LUCY_CMAP_COOLWARM, 1, 0xb40426},
      {LUCY_CMAP_COOLWARM, 0.5, 0xdddcdc}, {LUCY_CMAP_COOLWARM, 0.25, 0x8db0fe},
      {LUCY_CMAP_GRAY, 0, 0x000000},     {LUCY_CMAP_GRAY, 1, 0xffffff},
      {LUCY_CMAP_GRAY, 0.5, 0x808080},   {LUCY_CMAP_GRAY, 0.25, 0x404040},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    uint32_t got = lucy_colormap_rgb(cases[i].c, cases[i].t);
    if (got != cases[i].rgb)
      g_error("%s(%g) = #%06x, matplotlib gives #%06x", lucy_colormap_name(cases[i].c),
              cases[i].t, got, cases[i].rgb);
  }
  /* Out of range and NaN clamp to the ends. */
  g_assert_cmphex(lucy_colormap_rgb(LUCY_CMAP_MAGMA, -1), ==, 0x000004);
  g_assert_cmphex(lucy_colormap_rgb(LUCY_CMAP_MAGMA, 2), ==, 0xfcfdbf);
  g_assert_cmphex(lucy_colormap_rgb(LUCY_CMAP_MAGMA, NAN), ==, 0x000004);
  /* Gray is a ramp; the diverging map is light in the middle and symmetric in lightness. */
  for (int i = 0; i < 256; i++) {
    uint32_t c = lucy_colormap_rgb(LUCY_CMAP_GRAY, (i + 0.5) / 256);
    g_assert_cmphex(c, ==, (uint32_t)i * 0x010101);
  }
  /* Names round-trip. */
  const char *names[] = {"gray", "magma", "viridis", "coolwarm"};
  for (int i = 0; i < 4; i++) {
    LucyColormap c;
    g_assert_cmpstr(lucy_colormap_name((LucyColormap)i), ==, names[i]);
    g_assert_cmpint(lucy_colormap_parse(names[i], &c), ==, LUCY_OK);
    g_assert_cmpint(c, ==, i);
  }
  LucyColormap c;
  g_assert_cmpint(lucy_colormap_parse("Magma", &c), ==, LUCY_OK);
  g_assert_cmpint(c, ==, LUCY_CMAP_MAGMA);
  g_assert_cmpint(lucy_colormap_parse("grey", &c), ==, LUCY_OK);
  g_assert_cmpint(c, ==, LUCY_CMAP_GRAY);
  g_assert_cmpint(lucy_colormap_parse("jet", &c), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(lucy_error_message(), "jet"));
}

static uint32_t pixel_rgb(const uint8_t *rgba, size_t i) {
  g_assert_cmpuint(rgba[4 * i + 3], ==, 255);
  return (uint32_t)rgba[4 * i] << 16 | (uint32_t)rgba[4 * i + 1] << 8 | rgba[4 * i + 2];
}

static void test_render_rgba_endpoints(void) {
  float data[6] = {0, 10, NAN, -5, 20, 5};
  LucyImage img = {2, 3, data};
  uint8_t rgba[24];
  LucyRenderOptions o;
  lucy_render_options_default(&o);
  lucy_render_rgba(&img, &o, 0, 10, rgba);
  g_assert_cmphex(pixel_rgb(rgba, 0), ==, 0x000000);
  g_assert_cmphex(pixel_rgb(rgba, 1), ==, 0xffffff);
  g_assert_cmphex(pixel_rgb(rgba, 2), ==, 0x000000); /* NaN at t = 0 */
  g_assert_cmphex(pixel_rgb(rgba, 3), ==, 0x000000);
  g_assert_cmphex(pixel_rgb(rgba, 4), ==, 0xffffff);
  g_assert_cmphex(pixel_rgb(rgba, 5), ==, 0x808080);
  o.colormap = LUCY_CMAP_MAGMA;
  lucy_render_rgba(&img, &o, 0, 10, rgba);
  g_assert_cmphex(pixel_rgb(rgba, 0), ==, 0x000004);
  g_assert_cmphex(pixel_rgb(rgba, 1), ==, 0xfcfdbf);
  g_assert_cmphex(pixel_rgb(rgba, 2), ==, 0x000004);
  g_assert_cmphex(pixel_rgb(rgba, 5), ==, 0xb73779);
  /* vmax <= vmin: all at the bottom colour. */
  lucy_render_rgba(&img, &o, 10, 10, rgba);
  for (size_t i = 0; i < 6; i++) g_assert_cmphex(pixel_rgb(rgba, i), ==, 0x000004);
}

/* Every pixel's colour against the formula, for many values and option sets. */
static void test_render_rgba_formula(void) {
  const size_t n = 200000;
  float *data = g_new(float, n);
  uint8_t *rgba = g_new(uint8_t, 4 * n);
  GRand *rand = g_rand_new_with_seed(11);
  struct { double gamma; int log; double decades; double vmin, vmax; LucyColormap c; } sets[] = {
      {1, 0, 4, 0, 1, LUCY_CMAP_GRAY},      {0.3, 0, 4, 0.2, 0.9, LUCY_CMAP_GRAY},
      {2.2, 0, 4, -1, 1, LUCY_CMAP_MAGMA},  {0.05, 0, 4, 0, 1, LUCY_CMAP_VIRIDIS},
      {1, 1, 4, 0, 1, LUCY_CMAP_GRAY},      {0.5, 1, 2, 0.01, 1, LUCY_CMAP_COOLWARM},
      {1, 0, 4, 0.5, 0.5, LUCY_CMAP_GRAY},  {1, 0, 4, 1e-7, 1.0000001e-7, LUCY_CMAP_GRAY},
  };
  for (size_t s = 0; s < G_N_ELEMENTS(sets); s++) {
    LucyRenderOptions o;
    lucy_render_options_default(&o);
    o.gamma = sets[s].gamma;
    o.log = sets[s].log;
    o.log_decades = sets[s].decades;
    o.colormap = sets[s].c;
    double span = sets[s].vmax - sets[s].vmin;
    if (span <= 0) span = 1;
    for (size_t i = 0; i < n; i++) {
      double u = g_rand_double(rand);
      if (i % 1000 == 0) data[i] = NAN;
      else if (i % 1000 == 1) data[i] = i % 2000 == 1 ? INFINITY : -INFINITY;
      else if (u < 0.3) /* log-uniform values across decades */
        data[i] = (float)(sets[s].vmax * pow(10, -6 * g_rand_double(rand)));
      else
        data[i] = (float)(sets[s].vmin + span * (1.4 * g_rand_double(rand) - 0.2));
    }
    LucyImage img = {n / 400, 400, data};
    lucy_render_rgba(&img, &o, sets[s].vmin, sets[s].vmax, rgba);
    size_t exact = 0;
    for (size_t i = 0; i < n; i++) {
      uint32_t want =
          lucy_colormap_rgb(o.colormap, lucy_render_value(&o, sets[s].vmin, sets[s].vmax, data[i]));
      uint32_t got = pixel_rgb(rgba, i);
      if (got == want) {
        exact++;
        continue;
      }
      if (o.colormap == LUCY_CMAP_GRAY) {
        int d = (int)(got & 0xff) - (int)(want & 0xff);
        if (d >= -1 && d <= 1) continue;
      }
      g_error("set %zu: value %.9g renders #%06x, the formula gives #%06x", s, (double)data[i],
              got, want);
    }
    g_assert_cmpuint(exact, >=, n - n / 1000);
  }
  g_rand_free(rand);
  g_free(data);
  g_free(rgba);
}

/* ---- the figure ---------------------------------------------------------------------- */

static uint32_t png_pixel(cairo_surface_t *s, int x, int y) {
  const unsigned char *data = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  uint32_t p;
  memcpy(&p, data + (size_t)y * (size_t)stride + 4 * (size_t)x, 4);
  return p & 0xffffff;
}

static cairo_surface_t *load_png(const char *path) {
  cairo_surface_t *s = cairo_image_surface_create_from_png(path);
  g_assert_cmpint(cairo_surface_status(s), ==, CAIRO_STATUS_SUCCESS);
  return s;
}

typedef struct Fixture {
  char *dir;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
  GError *err = NULL;
  f->dir = g_dir_make_tmp("lucy-render-XXXXXX", &err);
  g_assert_no_error(err);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
  GDir *d = g_dir_open(f->dir, 0, NULL);
  const char *name;
  while (d && (name = g_dir_read_name(d))) {
    char *p = g_build_filename(f->dir, name, NULL);
    g_unlink(p);
    g_free(p);
  }
  if (d) g_dir_close(d);
  g_rmdir(f->dir);
  g_free(f->dir);
}

static int count_files(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  int n = 0;
  while (d && g_dir_read_name(d)) n++;
  if (d) g_dir_close(d);
  return n;
}

/* A single bright voxel lands where the layout puts it in every panel. */
static void test_figure_bright_voxel(Fixture *f, gconstpointer data) {
  const size_t nz = 6, ny = 10, nx = 12, z0 = 4, y0 = 3, x0 = 7;
  LucyVolume *vol = volume_new(nz, ny, nx);
  AT(vol, z0, y0, x0) = 1;
  LucyFigureOptions o;
  lucy_figure_options_default(&o);
  g_assert_cmpint(o.gap, ==, 4);
  g_assert_cmpfloat(o.sxy, ==, 0);
  g_assert_cmpfloat(o.sz, ==, 0);
  o.render.auto_contrast = 0;
  o.render.vmin = 0;
  o.render.vmax = 1;
  o.sxy = 3;
  o.sz = 5;
  o.gap = 2;
  char *path = g_build_filename(f->dir, "fig.png", NULL);
  g_assert_cmpint(lucy_figure_write_png(vol, &o, path, 0), ==, LUCY_OK);
  cairo_surface_t *s = load_png(path);
  const int wxy = 36, hxy = 30, d = 30, gap = 2;
  g_assert_cmpint(cairo_image_surface_get_width(s), ==, wxy + gap + d);
  g_assert_cmpint(cairo_image_surface_get_height(s), ==, hxy + gap + d);
  for (int y = 0; y < hxy + gap + d; y++)
    for (int x = 0; x < wxy + gap + d; x++) {
      uint32_t want;
      int in_xy = x < wxy && y < hxy, in_zy = x >= wxy + gap && y < hxy,
          in_xz = x < wxy && y >= hxy + gap;
      if (in_xy) want = (x / 3 == (int)x0 && y / 3 == (int)y0) ? 0xffffff : 0;
      else if (in_zy) want = ((x - wxy - gap) / 5 == (int)z0 && y / 3 == (int)y0) ? 0xffffff : 0;
      else if (in_xz) want = (x / 3 == (int)x0 && (y - hxy - gap) / 5 == (int)z0) ? 0xffffff : 0;
      else want = 0x202020;
      if (png_pixel(s, x, y) != want)
        g_error("figure pixel (%d, %d) is #%06x, expected #%06x", x, y, png_pixel(s, x, y), want);
    }
  cairo_surface_destroy(s);

  /* Refuses to overwrite, then overwrites when asked. */
  g_assert_cmpint(lucy_figure_write_png(vol, &o, path, 0), ==, LUCY_ERR_EXISTS);
  g_assert_nonnull(strstr(lucy_error_message(), "fig.png"));
  g_assert_cmpint(count_files(f->dir), ==, 1);
  o.sxy = 1;
  o.sz = 1;
  g_assert_cmpint(lucy_figure_write_png(vol, &o, path, 1), ==, LUCY_OK);
  s = load_png(path);
  g_assert_cmpint(cairo_image_surface_get_width(s), ==, 12 + 2 + 6);
  g_assert_cmpint(cairo_image_surface_get_height(s), ==, 10 + 2 + 6);
  cairo_surface_destroy(s);
  g_assert_cmpint(count_files(f->dir), ==, 1);
  g_free(path);
  lucy_volume_free(vol);
}

/* Default scales: sxy fits ~768 px, sz follows the voxel aspect; auto contrast. */
static void test_figure_default_scale(Fixture *f, gconstpointer data) {
  const size_t nz = 8, ny = 40, nx = 50, z0 = 5, y0 = 20, x0 = 30;
  LucyVolume *vol = volume_new(nz, ny, nx);
  vol->voxel_um[LUCY_Z] = 0.5;
  vol->voxel_um[LUCY_Y] = vol->voxel_um[LUCY_X] = 0.2; /* rz = 2.5 */
  AT(vol, z0, y0, x0) = 100;
  LucyFigureOptions o;
  lucy_figure_options_default(&o);
  char *path = g_build_filename(f->dir, "auto.png", NULL);
  g_assert_cmpint(lucy_figure_write_png(vol, &o, path, 0), ==, LUCY_OK);
  /* longest = max(50 + 8 * 2.5, 40 + 20) = 70: sxy = 768 / 70, sz = 2.5 sxy. */
  const double sxy = 768.0 / 70, sz = 2.5 * sxy;
  const int wxy = (int)lround(50 * sxy), hxy = (int)lround(40 * sxy), d = (int)lround(8 * sz);
  const int gap = 4;
  g_assert_cmpint(wxy, ==, 549);
  g_assert_cmpint(d, ==, 219);
  cairo_surface_t *s = load_png(path);
  g_assert_cmpint(cairo_image_surface_get_width(s), ==, wxy + gap + d);
  g_assert_cmpint(cairo_image_surface_get_height(s), ==, hxy + gap + d);
  /* Centres of the bright blocks are white, their neighbours black, the gap grey. */
  int cx = (int)((x0 + 0.5) * sxy), cy = (int)((y0 + 0.5) * sxy), cz = (int)((z0 + 0.5) * sz);
  g_assert_cmphex(png_pixel(s, cx, cy), ==, 0xffffff);
  g_assert_cmphex(png_pixel(s, cx + (int)sxy, cy), ==, 0);
  g_assert_cmphex(png_pixel(s, wxy + gap + cz, cy), ==, 0xffffff);
  g_assert_cmphex(png_pixel(s, wxy + gap + cz + (int)sz, cy), ==, 0);
  g_assert_cmphex(png_pixel(s, cx, hxy + gap + cz), ==, 0xffffff);
  g_assert_cmphex(png_pixel(s, cx, hxy + gap + cz - (int)sz), ==, 0);
  g_assert_cmphex(png_pixel(s, wxy + 1, 5), ==, 0x202020);
  g_assert_cmphex(png_pixel(s, wxy + gap + 5, hxy + gap + 5), ==, 0x202020);
  cairo_surface_destroy(s);
  g_free(path);
  lucy_volume_free(vol);
}

static void test_figure_errors(Fixture *f, gconstpointer data) {
  LucyVolume *vol = volume_new(2, 3, 4);
  LucyFigureOptions o;
  lucy_figure_options_default(&o);
  char *missing = g_build_filename(f->dir, "no-such-folder", "fig.png", NULL);
  g_assert_cmpint(lucy_figure_write_png(vol, &o, missing, 0), ==, LUCY_ERR_IO);
  g_assert_nonnull(strstr(lucy_error_message(), "no-such-folder"));
  g_assert_cmpint(count_files(f->dir), ==, 0); /* no temporary left behind */
  char *path = g_build_filename(f->dir, "fig.png", NULL);
  o.gap = -1;
  g_assert_cmpint(lucy_figure_write_png(vol, &o, path, 0), ==, LUCY_ERR_INVALID_ARGUMENT);
  o.gap = 4;
  o.sxy = 100000;
  g_assert_cmpint(lucy_figure_write_png(vol, &o, path, 0), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_cmpint(count_files(f->dir), ==, 0);
  g_free(missing);
  g_free(path);
  lucy_volume_free(vol);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/project/small", test_project_small);
  g_test_add_func("/project/random", test_project_random);
  g_test_add_func("/project/extreme-small", test_project_extreme_small);
  g_test_add_func("/project/extreme-random", test_project_extreme_random);
  g_test_add_func("/project/errors", test_project_errors);
  g_test_add_func("/project/plane", test_volume_plane);
  g_test_add_func("/render/value", test_render_value);
  g_test_add_func("/render/range", test_render_range);
  g_test_add_func("/render/colormaps", test_colormaps);
  g_test_add_func("/render/rgba-endpoints", test_render_rgba_endpoints);
  g_test_add_func("/render/rgba-formula", test_render_rgba_formula);
  g_test_add("/figure/bright-voxel", Fixture, NULL, fixture_setup, test_figure_bright_voxel,
             fixture_teardown);
  g_test_add("/figure/default-scale", Fixture, NULL, fixture_setup, test_figure_default_scale,
             fixture_teardown);
  g_test_add("/figure/errors", Fixture, NULL, fixture_setup, test_figure_errors,
             fixture_teardown);
  return g_test_run();
}
