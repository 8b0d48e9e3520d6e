/* The padding-mode comparison: the outputs differ exactly where the modes say, and the figure
 * has the size its layout promises. */
#include <cairo.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>

#include "lucy/lucy.h"

static LucyVolume *vol_new(size_t nz, size_t ny, size_t nx) {
  const size_t shape[3] = {nz, ny, nx};
  LucyVolume *v = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &v), ==, LUCY_OK);
  return v;
}

#define AT(v, z, y, x) ((v)->data[((size_t)(z) * (v)->shape[1] + (size_t)(y)) * (v)->shape[2] + (size_t)(x)])

static void test_compare_modes(void) {
  /* an image with bright content touching every border, an asymmetric even-sized PSF */
  LucyVolume *img = vol_new(10, 24, 21), *psf = vol_new(4, 5, 6);
  GRand *r = g_rand_new_with_seed(11);
  for (size_t i = 0; i < lucy_shape_count(img->shape); i++)
    img->data[i] = (float)g_rand_double_range(r, 0, 1);
  for (size_t i = 0; i < lucy_shape_count(psf->shape); i++)
    psf->data[i] = (float)g_rand_double_range(r, 0.1, 1);
  g_rand_free(r);
  LucyCompare c;
  g_assert_cmpint(lucy_compare_compute(img, psf, NULL, &c), ==, LUCY_OK);
  const size_t *N = img->shape, *M = psf->shape;
  double scale = 0;
  for (size_t i = 0; i < lucy_shape_count(c.out[LUCY_PAD_FULL]->shape); i++)
    scale = fmax(scale, fabs(c.out[LUCY_PAD_FULL]->data[i]));
  const double tol = 1e-5 * scale;
  const LucyVolume *full = c.out[LUCY_PAD_FULL], *same = c.out[LUCY_PAD_SAME];
  const LucyVolume *circ = c.out[LUCY_PAD_CIRCULAR], *valid = c.out[LUCY_PAD_VALID];
  for (int a = 0; a < 3; a++) {
    g_assert_cmpuint(full->shape[a], ==, N[a] + M[a] - 1);
    g_assert_cmpuint(same->shape[a], ==, N[a]);
    g_assert_cmpuint(valid->shape[a], ==, N[a] - M[a] + 1);
    g_assert_cmpuint(c.valid_shape[a], ==, N[a] - M[a] + 1);
  }
  /* same == full cropped at the origin M//2 */
  double dmax = 0;
  for (size_t z = 0; z < N[0]; z++)
    for (size_t y = 0; y < N[1]; y++)
      for (size_t x = 0; x < N[2]; x++)
        dmax = fmax(dmax, fabs(AT(same, z, y, x) - AT(full, z + M[0] / 2, y + M[1] / 2, x + M[2] / 2)));
  g_assert_cmpfloat(dmax, <, tol);
  /* valid == full cropped at M - 1 */
  dmax = 0;
  for (size_t z = 0; z < valid->shape[0]; z++)
    for (size_t y = 0; y < valid->shape[1]; y++)
      for (size_t x = 0; x < valid->shape[2]; x++)
        dmax = fmax(dmax, fabs(AT(valid, z, y, x) - AT(full, z + M[0] - 1, y + M[1] - 1, x + M[2] - 1)));
  g_assert_cmpfloat(dmax, <, tol);
  /* circular == same exactly in the valid region (nothing wrapped there), differs elsewhere */
  double inside = 0;
  size_t outside = 0, outside_differs = 0;
  for (size_t z = 0; z < N[0]; z++)
    for (size_t y = 0; y < N[1]; y++)
      for (size_t x = 0; x < N[2]; x++) {
        const size_t p[3] = {z, y, x};
        int in = 1;
        for (int a = 0; a < 3; a++)
          in &= (ptrdiff_t)p[a] >= c.valid_start[LUCY_PAD_SAME][a] &&
                (ptrdiff_t)p[a] < c.valid_start[LUCY_PAD_SAME][a] + (ptrdiff_t)c.valid_shape[a];
        const double d = fabs(AT(circ, z, y, x) - AT(same, z, y, x));
        g_assert_cmpfloat(fabs(AT(c.diff, z, y, x) - (AT(circ, z, y, x) - AT(same, z, y, x))), <=, 1e-6);
        if (in) inside = fmax(inside, d);
        else {
          outside++;
          if (d > 1e-3 * scale) outside_differs++;
        }
      }
  g_test_message("circular vs same: max |diff| inside the valid region %.2e, outside %zu of %zu "
                 "voxels differ", inside / scale, outside_differs, outside);
  g_assert_cmpfloat(inside, <, tol);
  g_assert_cmpuint(outside_differs, ==, outside);
  /* and the valid region in same coordinates is the valid output */
  dmax = 0;
  const ptrdiff_t *s0 = c.valid_start[LUCY_PAD_SAME];
  for (size_t z = 0; z < valid->shape[0]; z++)
    for (size_t y = 0; y < valid->shape[1]; y++)
      for (size_t x = 0; x < valid->shape[2]; x++)
        dmax = fmax(dmax, fabs(AT(valid, z, y, x) - AT(same, z + s0[0], y + s0[1], x + s0[2])));
  g_assert_cmpfloat(dmax, <, tol);
  /* FFT sizes as documented */
  for (int a = 0; a < 3; a++) {
    g_assert_cmpuint(c.fft_shape[LUCY_PAD_CIRCULAR][a], ==, N[a]);
    g_assert_cmpuint(c.fft_shape[LUCY_PAD_FULL][a], ==, lucy_fft_good_size(N[a] + M[a] - 1));
  }

  /* the figure: its PNG has the size the layout promises */
  LucyCompareFigureOptions fo;
  lucy_compare_figure_options_default(&fo);
  fo.scale = 3;
  int w = 0, h = 0;
  g_assert_cmpint(lucy_compare_figure_size(&c, &fo, &w, &h), ==, LUCY_OK);
  /* 5 panels: widths 21, 21, 26, 16, 21 voxels * 3, gaps 8, margins 8; label band 36 */
  g_assert_cmpint(w, ==, 8 + 3 * (21 + 21 + 26 + 16 + 21) + 4 * 8 + 8);
  g_assert_cmpint(h, ==, 36 + 3 * (24 + 5 - 1) + 8);
  char *dir = g_dir_make_tmp("lucy-compare-XXXXXX", NULL);
  char *path = g_build_filename(dir, "cmp.png", NULL);
  g_assert_cmpint(lucy_compare_write_png(&c, &fo, path, 0), ==, LUCY_OK);
  g_assert_cmpint(lucy_compare_write_png(&c, &fo, path, 0), ==, LUCY_ERR_EXISTS);
  cairo_surface_t *s = cairo_image_surface_create_from_png(path);
  g_assert_cmpint(cairo_surface_status(s), ==, CAIRO_STATUS_SUCCESS);
  g_assert_cmpint(cairo_image_surface_get_width(s), ==, w);
  g_assert_cmpint(cairo_image_surface_get_height(s), ==, h);
  cairo_surface_destroy(s);
  g_remove(path);
  g_rmdir(dir);
  g_free(path);
  g_free(dir);
  lucy_compare_clear(&c);
  lucy_volume_free(img);
  lucy_volume_free(psf);
}

/* A PSF larger than the image: valid is not possible, the other three are drawn. */
static void test_compare_no_valid(void) {
  LucyVolume *img = vol_new(1, 8, 8), *psf = vol_new(1, 11, 3);
  for (size_t i = 0; i < 64; i++) img->data[i] = (float)(i % 5);
  for (size_t i = 0; i < 33; i++) psf->data[i] = 1;
  LucyCompare c;
  g_assert_cmpint(lucy_compare_compute(img, psf, NULL, &c), ==, LUCY_OK);
  g_assert_null(c.out[LUCY_PAD_VALID]);
  g_assert_nonnull(c.out[LUCY_PAD_FULL]);
  g_assert_cmpuint(c.valid_shape[1], ==, 0);
  int w, h;
  g_assert_cmpint(lucy_compare_figure_size(&c, NULL, &w, &h), ==, LUCY_OK);
  lucy_compare_clear(&c);
  lucy_volume_free(img);
  lucy_volume_free(psf);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/compare/modes", test_compare_modes);
  g_test_add_func("/compare/no-valid", test_compare_no_valid);
  return g_test_run();
}
