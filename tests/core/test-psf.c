/* PSF models against analytic results, measurement against known Gaussians and the scipy
 * fixture of the shared bead data, the fixes (centring by FFT phase ramp), and the OTF against
 * the analytic OTF of a Gaussian and a direct DFT. */
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lucy/lucy.h"

#define AIRY_ZERO_V 3.8317059702075125 /* first zero of J1 */
#define AIRY_HALF_V 1.6163399561
#define SINC2_HALF_X 1.3915573782515795

static void optics_bw(LucyPsfOptics *o, double na, double lambda, double n) {
  lucy_psf_optics_default(o);
  o->na = na;
  o->wavelength_um = lambda;
  o->ni = n;
}

/* r where f(r) crosses level between lo (f > level) and hi (f < level), by bisection. */
static double bisect_r(const LucyPsfOptics *o, LucyPsfModel model, int axial, double level,
                       double lo, double hi) {
  for (int i = 0; i < 80; i++) {
    const double mid = 0.5 * (lo + hi);
    const double v = axial ? lucy_psf_model_intensity(model, o, 0, mid, 0)
                           : lucy_psf_model_intensity(model, o, mid, 0, 0);
    if (v > level) lo = mid; else hi = mid;
  }
  return 0.5 * (lo + hi);
}

/* Born & Wolf in focus is the Airy pattern 0.25 |2 J1(v)/v|^2, v = k NA r. */
static void test_bw_airy(void) {
  LucyPsfOptics o;
  optics_bw(&o, 1.2, 0.5, 1.33);
  const double k = 2 * M_PI / o.wavelength_um;
  double maxerr = 0;
  for (int i = 0; i <= 400; i++) {
    const double r = i * 0.005; /* to 2 um: v up to 30 */
    const double v = k * o.na * r;
    const double airy = v == 0 ? 0.25 : 0.25 * pow(2 * jn(1, v) / v, 2);
    const double got = lucy_psf_model_intensity(LUCY_PSF_BORN_WOLF, &o, r, 0, 0);
    maxerr = fmax(maxerr, fabs(got - airy));
  }
  g_test_message("Born & Wolf vs Airy in focus: max |diff| %.2e of peak 0.25", maxerr);
  g_assert_cmpfloat(maxerr, <, 1e-9);
  /* first zero: intensity minimum between 0.5 and 0.7 lambda/NA */
  const double unit = o.wavelength_um / o.na;
  double best = 1, rz = 0;
  for (int i = 0; i <= 20000; i++) {
    const double r = (0.5 + 0.2 * i / 20000.0) * unit;
    const double v = lucy_psf_model_intensity(LUCY_PSF_BORN_WOLF, &o, r, 0, 0);
    if (v < best) { best = v; rz = r; }
  }
  g_test_message("first zero at %.5f lambda/NA (Airy: %.5f), intensity %.1e", rz / unit,
                 AIRY_ZERO_V / (2 * M_PI), best);
  g_assert_cmpfloat(fabs(rz / unit - 0.6098), <, 0.0005);
  g_assert_cmpfloat(best, <, 1e-9);
  const double half = bisect_r(&o, LUCY_PSF_BORN_WOLF, 0, 0.125, 0, 0.5 * unit);
  g_test_message("lateral FWHM %.5f lambda/NA (theory 0.5145)", 2 * half / unit);
  g_assert_cmpfloat(fabs(2 * half / unit - 2 * AIRY_HALF_V / (2 * M_PI)), <, 1e-6);
  double lat, ax;
  lucy_psf_theoretical_fwhm(o.na, o.wavelength_um, o.ni, &lat, &ax);
  g_assert_cmpfloat(fabs(lat / unit - 0.5145), <, 1e-4);
}

/* On axis the paraxial model is exactly 0.25 sinc^2(k NA^2 z / (4 n)). */
static void test_bw_axial(void) {
  LucyPsfOptics o;
  optics_bw(&o, 0.8, 0.6, 1.33);
  const double k = 2 * M_PI / o.wavelength_um;
  double maxerr = 0;
  for (int i = -300; i <= 300; i++) {
    const double z = i * 0.02;
    const double x = k * o.na * o.na * z / (4 * o.ni);
    const double want = x == 0 ? 0.25 : 0.25 * pow(sin(x) / x, 2);
    maxerr = fmax(maxerr, fabs(lucy_psf_model_intensity(LUCY_PSF_BORN_WOLF, &o, 0, z, 0) - want));
  }
  g_test_message("on-axis vs sinc^2: max |diff| %.2e", maxerr);
  g_assert_cmpfloat(maxerr, <, 1e-10);
  const double unit = o.ni * o.wavelength_um / (o.na * o.na);
  const double half = bisect_r(&o, LUCY_PSF_BORN_WOLF, 1, 0.125, 0, 2 * unit);
  g_test_message("axial FWHM %.5f n lambda/NA^2 (paraxial theory 1.7718)", 2 * half / unit);
  g_assert_cmpfloat(fabs(2 * half / unit - 1.7718), <, 1e-3);
  double lat, ax;
  lucy_psf_theoretical_fwhm(o.na, o.wavelength_um, o.ni, &lat, &ax);
  g_assert_cmpfloat(fabs(ax / unit - 2 * half / unit), <, 1e-6);
}

/* Doubling the automatic number of quadrature points changes nothing beyond 1e-7 of the
 * peak; a rule far too small does (so the check can fail). */
static void test_convergence(void) {
  for (int model = 0; model < 2; model++) {
    LucyPsfOptics o;
    optics_bw(&o, 1.4, 0.52, 1.515);
    o.depth_um = model ? 5 : 0; /* Gibson & Lanni with 5 um into water: aberrated */
    const double pts[][2] = {{0, 0}, {0.3, 0.5}, {1.5, -2}, {4, 3}, {0.8, 6}};
    double worst = 0, coarse = 0;
    for (size_t i = 0; i < G_N_ELEMENTS(pts); i++) {
      const double r = pts[i][0], z = pts[i][1];
      const double a = lucy_psf_model_intensity(model, &o, r, z, 0);
      /* a reference with well over twice the automatic count (its phase bound plus margin) */
      const int n_ref = 2 * (32 + 4 * (int)ceil(2 * M_PI / o.wavelength_um * o.na * r + 200));
      const double b = lucy_psf_model_intensity(model, &o, r, z, n_ref);
      worst = fmax(worst, fabs(a - b) / 0.25);
      coarse = fmax(coarse, fabs(lucy_psf_model_intensity(model, &o, r, z, 6) - b) / 0.25);
      g_assert_true(isfinite(a));
    }
    g_test_message("%s: automatic vs many points: max diff %.2e of the peak; 6 points: %.2e",
                   model ? "Gibson & Lanni" : "Born & Wolf", worst, coarse);
    g_assert_cmpfloat(worst, <, 1e-7);
    g_assert_cmpfloat(coarse, >, 1e-4);
  }
}

/* At NA 0.5 with matched indices and the source at the coverslip, Gibson & Lanni's exact
 * defocus equals Born & Wolf's paraxial one to within the neglected 4th-order term. */
static void test_bw_vs_gl(void) {
  LucyPsfOptics o;
  optics_bw(&o, 0.5, 0.52, 1.515);
  o.ni0 = o.ni;
  o.ns = o.ni;
  o.ng = o.ng0 = o.ni;
  o.tg_um = o.tg0_um = 170;
  o.depth_um = 0;
  o.dxy_um = 0.1;
  o.dz_um = 0.25;
  o.oversample = 1;
  const size_t shape[3] = {25, 33, 33};
  LucyVolume *bw = NULL, *gl = NULL;
  g_assert_cmpint(lucy_psf_model(LUCY_PSF_BORN_WOLF, shape, &o, &bw), ==, LUCY_OK);
  g_assert_cmpint(lucy_psf_model(LUCY_PSF_GIBSON_LANNI, shape, &o, &gl), ==, LUCY_OK);
  const size_t n = lucy_shape_count(shape);
  double maxd = 0, peak = 0;
  for (size_t i = 0; i < n; i++) {
    maxd = fmax(maxd, fabs(bw->data[i] - gl->data[i]));
    peak = fmax(peak, bw->data[i]);
  }
  g_test_message("NA 0.5, z to +-3 um: max |BW - GL| = %.3e of the peak", maxd / peak);
  /* the neglected term k z NA^4 rho^4 / (8 n^3) is 0.08 rad at the box's z = 3 um */
  g_assert_cmpfloat(maxd / peak, <, 0.03);
  /* within +-1 um of focus (0.03 rad) the two agree to 0.5 % */
  maxd = 0;
  for (size_t z = 8; z <= 16; z++)
    for (size_t i = 0; i < 33 * 33; i++)
      maxd = fmax(maxd, fabs(bw->data[z * 33 * 33 + i] - gl->data[z * 33 * 33 + i]));
  g_test_message("NA 0.5, z within +-1 um: max |BW - GL| = %.3e of the peak", maxd / peak);
  g_assert_cmpfloat(maxd / peak, <, 0.005);
  /* and pointwise in focus they are the same function */
  for (int i = 0; i < 20; i++) {
    const double r = 0.05 * i;
    g_assert_cmpfloat(fabs(lucy_psf_model_intensity(LUCY_PSF_BORN_WOLF, &o, r, 0, 0) -
                           lucy_psf_model_intensity(LUCY_PSF_GIBSON_LANNI, &o, r, 0, 0)),
                      <, 1e-12);
  }
  lucy_volume_free(bw);
  lucy_volume_free(gl);
}

static void test_model_volume(void) {
  LucyPsfOptics o;
  optics_bw(&o, 1.0, 0.5, 1.33);
  o.dxy_um = 0.05;
  o.dz_um = 0.1;
  const size_t shape[3] = {31, 41, 41};
  LucyVolume *v = NULL;
  g_assert_cmpint(lucy_psf_model(LUCY_PSF_BORN_WOLF, shape, &o, &v), ==, LUCY_OK);
  g_assert_cmpfloat(v->voxel_um[0], ==, 0.1);
  g_assert_cmpfloat(v->voxel_um[2], ==, 0.05);
  double sum = 0;
  size_t peak = 0;
  for (size_t i = 0; i < lucy_shape_count(shape); i++) {
    sum += v->data[i];
    if (v->data[i] > v->data[peak]) peak = i;
  }
  g_assert_cmpfloat(fabs(sum - 1), <, 1e-5);
  g_assert_cmpuint(peak, ==, (15 * 41 + 20) * 41 + 20);
  /* x/y and +-z symmetry */
#define AT(z, y, x) v->data[((z) * 41 + (y)) * 41 + (x)]
  g_assert_cmpfloat(fabs(AT(15, 20, 25) - AT(15, 25, 20)), <, 1e-6 * AT(15, 20, 20));
  g_assert_cmpfloat(fabs(AT(10, 20, 22) - AT(20, 20, 22)), <, 1e-6 * AT(15, 20, 20));
  /* oversampled vs point samples: the in-focus centre voxel averages the peak down */
  LucyPsfMeasure m;
  g_assert_cmpint(lucy_psf_measure(v, NULL, &m), ==, LUCY_OK);
  double lat, ax;
  lucy_psf_theoretical_fwhm(o.na, o.wavelength_um, o.ni, &lat, &ax);
  g_test_message("B&W volume: Gaussian-fit FWHM z %.3f y %.3f x %.3f um; theory %.3f, %.3f um",
                 m.fit[0].fwhm_um, m.fit[1].fwhm_um, m.fit[2].fwhm_um, ax, lat);
  g_assert_cmpfloat(fabs(m.fit[2].fwhm_um / lat - 1), <, 0.08);
  g_assert_cmpfloat(fabs(m.fit[0].fwhm_um / ax - 1), <, 0.08);
  lucy_volume_free(v);
  /* the Gaussian from NA and wavelength has the theoretical FWHM */
  LucyVolume *g = NULL;
  g_assert_cmpint(lucy_psf_gaussian_optics(shape, &o, &g), ==, LUCY_OK);
  g_assert_cmpint(lucy_psf_measure(g, NULL, &m), ==, LUCY_OK);
  g_assert_cmpfloat(fabs(m.fit[2].fwhm_um / lat - 1), <, 0.01);
  g_assert_cmpfloat(fabs(m.fit[0].fwhm_um / ax - 1), <, 0.01);
  lucy_volume_free(g);
#undef AT
}

static void test_model_errors(void) {
  LucyPsfOptics o;
  optics_bw(&o, 1.6, 0.5, 1.515);
  const size_t shape[3] = {5, 5, 5};
  LucyVolume *v = (LucyVolume *)1;
  g_assert_cmpint(lucy_psf_model(LUCY_PSF_BORN_WOLF, shape, &o, &v), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_null(v);
  g_assert_nonnull(strstr(lucy_error_message(), "NA 1.6 must be smaller than the immersion index"));
  o.na = 1.515;
  g_assert_cmpint(lucy_psf_model(LUCY_PSF_GIBSON_LANNI, shape, &o, &v), ==, LUCY_ERR_INVALID_ARGUMENT);
  o.na = 1.4;
  o.ng = 1.3;
  g_assert_cmpint(lucy_psf_model(LUCY_PSF_GIBSON_LANNI, shape, &o, &v), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(lucy_error_message(), "coverslip"));
  o.ng = 1.5255;
  o.wavelength_um = 0;
  g_assert_cmpint(lucy_psf_model(LUCY_PSF_BORN_WOLF, shape, &o, &v), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_true(isnan(lucy_psf_model_intensity(LUCY_PSF_BORN_WOLF, &o, 0, 0, 0)));
}

/* ---- measurement ------------------------------------------------------------------------ */

/* bg + amp * exp(-d^2/2s^2) per axis, centre at c[], plus seeded Gaussian noise. */
static LucyVolume *gaussian_blob(const size_t shape[3], const double c[3], const double s[3],
                                 double amp, double bg, double noise, guint32 seed) {
  LucyVolume *v = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &v), ==, LUCY_OK);
  GRand *rand = g_rand_new_with_seed(seed);
  for (size_t z = 0; z < shape[0]; z++)
    for (size_t y = 0; y < shape[1]; y++)
      for (size_t x = 0; x < shape[2]; x++) {
        const double d[3] = {(z - c[0]) / s[0], (y - c[1]) / s[1], (x - c[2]) / s[2]};
        double val = bg + amp * exp(-0.5 * (d[0] * d[0] + d[1] * d[1] + d[2] * d[2]));
        if (noise > 0) {
          double u1 = g_rand_double(rand), u2 = g_rand_double(rand);
          val += noise * sqrt(-2 * log(1 - u1)) * cos(2 * M_PI * u2);
        }
        v->data[(z * shape[1] + y) * shape[2] + x] = (float)val;
      }
  g_rand_free(rand);
  return v;
}

static void test_measure_gaussian(void) {
  const size_t shape[3] = {33, 41, 41};
  const double c[3] = {16.3, 19.8, 20.4}, s[3] = {3.0, 1.6, 1.9};
  for (int noisy = 0; noisy < 2; noisy++) {
    LucyVolume *v = gaussian_blob(shape, c, s, 1000, 100, noisy ? 10 : 0, 7);
    v->voxel_um[0] = 0.2;
    v->voxel_um[1] = v->voxel_um[2] = 0.1;
    LucyPsfMeasure m;
    g_assert_cmpint(lucy_psf_measure(v, NULL, &m), ==, LUCY_OK);
    for (int a = 0; a < 3; a++) {
      const double want = 2.3548200450309493 * s[a];
      g_test_message("%s axis %c: FWHM %.4f px (true %.4f), centre %.4f (true %.2f), "
                     "centroid %.4f, R2 %.5f", noisy ? "noisy" : "clean", "zyx"[a],
                     m.fit[a].fwhm_px, want, m.fit_centre[a], c[a], m.centroid[a], m.fit[a].r2);
      g_assert_true(m.fit[a].ok);
      g_assert_cmpfloat(fabs(m.fit[a].fwhm_px / want - 1), <, 0.02);
      g_assert_cmpfloat(fabs(m.fit_centre[a] - c[a]), <, 0.05);
      g_assert_cmpfloat(fabs(m.fit[a].fwhm_um - m.fit[a].fwhm_px * v->voxel_um[a]), <, 1e-12);
      if (!noisy) {
        g_assert_cmpfloat(fabs(m.centroid[a] - c[a]), <, 0.05);
        g_assert_cmpfloat(fabs(m.offset_px[a] - (c[a] - (double)(shape[a] / 2))), <, 0.05);
      }
    }
    g_assert_cmpfloat(fabs(m.background - 100), <, noisy ? 1.0 : 1e-3);
    g_assert_cmpfloat(fabs(m.sbr - (m.peak_value - m.background) / m.background), <, 1e-9);
    g_assert_true(m.lateral_ok);
    g_assert_cmpfloat(fabs(m.lateral_ratio - 1.9 / 1.6), <, 0.02);
    g_assert_cmpfloat(fabs(m.lateral_angle_deg - 0), <, 1.0); /* major axis along x */
    g_assert_cmpfloat(m.axial_symmetry, >, noisy ? 0.8 : 0.95); /* mostly noise voxels; z offset 0.3 */
    g_assert_false(m.saturated);
    g_assert_false(m.clipped);
    if (noisy) g_assert_cmpfloat(fabs(m.noise - 10) / 10, <, 0.1);
    lucy_volume_free(v);
  }
}

/* A rotated elliptical Gaussian in the plane: ratio and angle. */
static void test_measure_rotated(void) {
  const size_t shape[3] = {9, 48, 48};
  LucyVolume *v = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &v), ==, LUCY_OK);
  const double th = 30 * M_PI / 180, s1 = 3.0, s2 = 2.0;
  for (size_t z = 0; z < 9; z++)
    for (size_t y = 0; y < 48; y++)
      for (size_t x = 0; x < 48; x++) {
        const double dx = x - 24.0, dy = y - 24.0, dz = z - 4.0;
        const double u = dx * cos(th) + dy * sin(th), w = -dx * sin(th) + dy * cos(th);
        v->data[(z * 48 + y) * 48 + x] =
            (float)(5 + 100 * exp(-0.5 * (u * u / (s1 * s1) + w * w / (s2 * s2) + dz * dz / 4)));
      }
  LucyPsfMeasure m;
  g_assert_cmpint(lucy_psf_measure(v, NULL, &m), ==, LUCY_OK);
  g_test_message("rotated: ratio %.4f (1.5), angle %.3f deg (30)", m.lateral_ratio,
                 m.lateral_angle_deg);
  g_assert_cmpfloat(fabs(m.lateral_ratio - 1.5), <, 1e-3);
  g_assert_cmpfloat(fabs(m.lateral_angle_deg - 30), <, 0.1);
  g_assert_cmpfloat(fabs(m.lateral_sigma_major_px - 3), <, 1e-3);
  lucy_volume_free(v);
}

static void test_measure_flags_theory(void) {
  const size_t shape[3] = {21, 21, 21};
  const double c[3] = {10, 10, 10}, s[3] = {2, 1.5, 1.5};
  LucyVolume *v = gaussian_blob(shape, c, s, 1000, 0, 0, 1);
  const size_t n = lucy_shape_count(shape);
  for (size_t i = 0; i < n; i++) {
    if (v->data[i] > 700) v->data[i] = 700; /* saturated */
    if (v->data[i] < 1) v->data[i] = 0;     /* clipped */
  }
  v->voxel_um[0] = 0.3;
  v->voxel_um[1] = v->voxel_um[2] = 0.1;
  LucyPsfMeasureOptions mo;
  lucy_psf_measure_options_default(&mo);
  mo.na = 1.4;
  mo.wavelength_um = 0.52;
  mo.ni = 1.515;
  LucyPsfMeasure m;
  g_assert_cmpint(lucy_psf_measure(v, &mo, &m), ==, LUCY_OK);
  g_assert_true(m.saturated);
  g_assert_cmpuint(m.saturated_count, >, 1);
  g_assert_true(m.clipped);
  g_assert_true(isinf(m.sbr));
  double lat, ax;
  lucy_psf_theoretical_fwhm(1.4, 0.52, 1.515, &lat, &ax);
  g_assert_cmpfloat(m.theory_fwhm_um[2], ==, lat);
  g_assert_cmpfloat(m.theory_fwhm_um[0], ==, ax);
  g_assert_cmpfloat(fabs(m.fwhm_ratio[2] - m.fit[2].fwhm_um / lat), <, 1e-12);
  lucy_volume_free(v);
}

static void test_measure_errors(void) {
  const size_t shape[3] = {9, 9, 9};
  LucyVolume *v = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &v), ==, LUCY_OK);
  LucyPsfMeasure m;
  g_assert_cmpint(lucy_psf_measure(v, NULL, &m), ==, LUCY_ERR_NUMERIC);
  g_assert_nonnull(strstr(lucy_error_message(), "constant (every voxel is 0)"));
  for (size_t i = 0; i < 729; i++) v->data[i] = 3.5f;
  g_assert_cmpint(lucy_psf_measure(v, NULL, &m), ==, LUCY_ERR_NUMERIC);
  g_assert_nonnull(strstr(lucy_error_message(), "constant"));
  v->data[(4 * 9 + 4) * 9 + 0] = 10; /* peak on the x border */
  g_assert_cmpint(lucy_psf_measure(v, NULL, &m), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(lucy_error_message(), "on the border"));
  v->data[3] = NAN;
  g_assert_cmpint(lucy_psf_measure(v, NULL, &m), ==, LUCY_ERR_NUMERIC);
  lucy_volume_free(v);
}

/* The shared bead stacks against the tests/fixtures/psf text files (scipy curve_fit). */
static double fixture_value(const char *name, const char *key) {
  const char *dir = g_getenv("LUCY_FIXTURES");
  g_assert_nonnull(dir);
  char *path = g_strdup_printf("%s/psf/%s.txt", dir, name);
  FILE *f = fopen(path, "r");
  g_assert_nonnull(f);
  char line[256], k[128];
  double v = NAN, got;
  while (fgets(line, sizeof line, f))
    if (sscanf(line, "%127s %lf", k, &got) == 2 && strcmp(k, key) == 0) v = got;
  fclose(f);
  g_free(path);
  g_assert_false(isnan(v));
  return v;
}

static void test_measure_bead(gconstpointer data) {
  const char *name = data;
  const char *shared = g_getenv("LUCY_SHARED_DATA");
  char *path = g_strdup_printf("%s/real/%s.tif", shared ? shared : ".", name);
  if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
    g_free(path);
    g_test_skip("shared bead data not found");
    return;
  }
  LucyVolume *v = NULL;
  g_assert_cmpint(lucy_tiff_read(path, NULL, &v, NULL), ==, LUCY_OK);
  g_free(path);
  LucyPsfMeasure m;
  g_assert_cmpint(lucy_psf_measure(v, NULL, &m), ==, LUCY_OK);
  g_assert_cmpfloat(m.background, ==, fixture_value(name, "background"));
  g_assert_cmpfloat(fabs(m.sbr / fixture_value(name, "sbr") - 1), <, 1e-6);
  for (int a = 0; a < 3; a++) {
    char key[64];
    const char ax = "zyx"[a];
    snprintf(key, sizeof key, "peak_%c", ax);
    g_assert_cmpfloat((double)m.peak[a], ==, fixture_value(name, key));
    snprintf(key, sizeof key, "centroid_%c", ax);
    g_assert_cmpfloat(fabs(m.centroid[a] - fixture_value(name, key)), <, 1e-4);
    snprintf(key, sizeof key, "fwhm_px_%c", ax);
    const double fw = fixture_value(name, key);
    g_test_message("%s %c: FWHM %.5f px (scipy %.5f), centre %.4f, R2 %.4f", name, ax,
                   m.fit[a].fwhm_px, fw, m.fit_centre[a], m.fit[a].r2);
    g_assert_cmpfloat(fabs(m.fit[a].fwhm_px / fw - 1), <, 1e-3);
    snprintf(key, sizeof key, "r2_%c", ax);
    g_assert_cmpfloat(fabs(m.fit[a].r2 - fixture_value(name, key)), <, 1e-4);
  }
  g_test_message("%s: lateral ratio %.4f (scipy %.4f), angle %.2f (scipy %.2f), axial "
                 "symmetry %.4f (%.4f)", name, m.lateral_ratio,
                 fixture_value(name, "lateral_ratio"), m.lateral_angle_deg,
                 fixture_value(name, "lateral_angle_deg"), m.axial_symmetry,
                 fixture_value(name, "axial_symmetry"));
  g_assert_cmpfloat(fabs(m.lateral_ratio - fixture_value(name, "lateral_ratio")), <, 2e-3);
  g_assert_cmpfloat(fabs(m.lateral_angle_deg - fixture_value(name, "lateral_angle_deg")), <, 1.0);
  g_assert_cmpfloat(fabs(m.axial_symmetry - fixture_value(name, "axial_symmetry")), <, 1e-6);
  lucy_volume_free(v);
}

/* ---- fixing ----------------------------------------------------------------------------- */

static void test_fix_centre(void) {
  const size_t shape[3] = {24, 32, 31};
  const double c[3] = {12.35, 15.6, 15.27}, s[3] = {2.5, 1.5, 1.7};
  for (int mode = LUCY_PSF_CENTRE_CENTROID; mode <= LUCY_PSF_CENTRE_PEAK; mode++) {
    LucyVolume *v = gaussian_blob(shape, c, s, 1000, 10, 0, 3);
    LucyPsfFixOptions fo;
    lucy_psf_fix_options_default(&fo);
    fo.centre = mode;
    fo.subtract_background = 1;
    LucyVolume *out = NULL;
    LucyPsfFixReport rep;
    g_assert_cmpint(lucy_psf_fix(v, &fo, &out, &rep), ==, LUCY_OK);
    LucyPsfMeasure m;
    g_assert_cmpint(lucy_psf_measure(out, NULL, &m), ==, LUCY_OK);
    g_test_message("%s", rep.message);
    for (int a = 0; a < 3; a++) {
      const double got = mode == LUCY_PSF_CENTRE_PEAK ? m.fit_centre[a] : m.centroid[a];
      g_assert_cmpfloat(fabs(got - (double)(shape[a] / 2)), <, 0.05);
      g_assert_cmpfloat(fabs(rep.shift_px[a] - ((double)(shape[a] / 2) - c[a])), <, 0.05);
      g_assert_cmpuint(m.peak[a], ==, shape[a] / 2);
    }
    g_assert_nonnull(strstr(rep.message, "subtracted the border background"));
    g_assert_nonnull(strstr(rep.message, "even")); /* 24 and 32 are even: the warning */
    lucy_volume_free(v);
    lucy_volume_free(out);
  }
}

/* Centring an undersampled PSF (sigma 0.6 voxels) by a sub-voxel shift rings below 0; the
 * fixed PSF has no negative voxel and the report says how many were clamped. */
static void test_fix_ringing(void) {
  const size_t shape[3] = {15, 15, 15};
  const double c[3] = {7.4, 6.7, 7.35}, s[3] = {0.6, 0.6, 0.6};
  LucyVolume *v = gaussian_blob(shape, c, s, 1000, 0, 0, 3);
  LucyPsfFixOptions fo;
  lucy_psf_fix_options_default(&fo);
  fo.centre = LUCY_PSF_CENTRE_PEAK;
  LucyVolume *out = NULL;
  LucyPsfFixReport rep;
  g_assert_cmpint(lucy_psf_fix(v, &fo, &out, &rep), ==, LUCY_OK);
  g_test_message("%s", rep.message);
  g_assert_nonnull(strstr(rep.message, "rang below 0"));
  for (size_t i = 0; i < lucy_shape_count(out->shape); i++)
    g_assert_cmpfloat(out->data[i], >=, 0.0f);
  lucy_volume_free(v);
  lucy_volume_free(out);
}

static void test_fix_odd_normalize(void) {
  const size_t shape[3] = {16, 20, 20};
  const double c[3] = {8, 10, 10}, s[3] = {2, 1.5, 1.5};
  LucyVolume *v = gaussian_blob(shape, c, s, 50, 0, 0, 3);
  LucyPsfFixOptions fo;
  lucy_psf_fix_options_default(&fo);
  fo.odd = 1;
  fo.normalize = 1;
  LucyVolume *out = NULL;
  LucyPsfFixReport rep;
  g_assert_cmpint(lucy_psf_fix(v, &fo, &out, &rep), ==, LUCY_OK);
  g_assert_cmpuint(out->shape[0], ==, 17);
  g_assert_cmpuint(out->shape[1], ==, 21);
  g_assert_cmpuint(out->shape[2], ==, 21);
  double sum = 0;
  for (size_t i = 0; i < lucy_shape_count(out->shape); i++) sum += out->data[i];
  g_assert_cmpfloat(fabs(sum - 1), <, 1e-5);
  LucyPsfMeasure m;
  g_assert_cmpint(lucy_psf_measure(out, NULL, &m), ==, LUCY_OK);
  for (int a = 0; a < 3; a++) g_assert_cmpuint(m.peak[a], ==, out->shape[a] / 2);
  g_assert_nonnull(strstr(rep.message, "padded to 17 x 21 x 21"));
  g_assert_nonnull(strstr(rep.message, "normalised"));
  g_assert_null(strstr(rep.message, "even"));
  lucy_volume_free(v);
  lucy_volume_free(out);
}

/* An integer FFT shift is an exact circular shift. */
static void test_shift_fft(void) {
  const size_t shape[3] = {6, 7, 8};
  LucyVolume *v = NULL, *out = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &v), ==, LUCY_OK);
  for (size_t i = 0; i < 6 * 7 * 8; i++) v->data[i] = (float)((i * 37) % 11);
  const double sh[3] = {1, -2, 3};
  g_assert_cmpint(lucy_volume_shift_fft(v, sh, &out), ==, LUCY_OK);
  for (size_t z = 0; z < 6; z++)
    for (size_t y = 0; y < 7; y++)
      for (size_t x = 0; x < 8; x++) {
        const size_t zs = (z + 6 - 1) % 6, ys = (y + 2) % 7, xs = (x + 8 - 3) % 8;
        g_assert_cmpfloat(fabs(out->data[(z * 7 + y) * 8 + x] - v->data[(zs * 7 + ys) * 8 + xs]),
                          <, 1e-4);
      }
  lucy_volume_free(v);
  lucy_volume_free(out);
}

/* ---- OTF -------------------------------------------------------------------------------- */

/* The voxel of the centred OTF that holds frequency -k when voxel j holds k = j - M//2. */
static size_t mirror_index(size_t j, size_t m) { return (2 * (m / 2) + m - j) % m; }

/* A sampled Gaussian PSF of sigma s voxels has, to the aliasing term exp(-2 pi^2 s^2) and its
 * truncation, the OTF exp(-k^2 / (2 sk^2)) with sk = M / (2 pi s) frequency bins per axis. */
static void test_otf_gaussian(void) {
  const size_t shape[3] = {32, 27, 40};
  const double sigma[3] = {2.5, 2.0, 3.0};
  LucyVolume *psf = NULL, *otf = NULL;
  g_assert_cmpint(lucy_psf_gaussian(shape, sigma, &psf), ==, LUCY_OK);
  const double voxel[3] = {0.2, 0.08, 0.08};
  memcpy(psf->voxel_um, voxel, sizeof voxel);
  g_assert_cmpint(lucy_psf_otf(psf, &otf), ==, LUCY_OK);
  for (int a = 0; a < 3; a++) {
    g_assert_cmpuint(otf->shape[a], ==, shape[a]);
    g_assert_cmpfloat(otf->voxel_um[a], ==, voxel[a]);
  }
  double sk[3];
  for (int a = 0; a < 3; a++) sk[a] = (double)shape[a] / (2 * M_PI * sigma[a]);
  double max_abs = 0, max_rel = 0;
  float top = 0;
  for (size_t z = 0; z < shape[0]; z++)
    for (size_t y = 0; y < shape[1]; y++)
      for (size_t x = 0; x < shape[2]; x++) {
        const double k[3] = {(double)z - (double)(shape[0] / 2), (double)y - (double)(shape[1] / 2),
                             (double)x - (double)(shape[2] / 2)};
        double e = 0;
        for (int a = 0; a < 3; a++) e += k[a] * k[a] / (2 * sk[a] * sk[a]);
        const double want = exp(-e);
        const float got = otf->data[(z * shape[1] + y) * shape[2] + x];
        top = fmaxf(top, got);
        max_abs = fmax(max_abs, fabs(got - want));
        if (want > 1e-3) max_rel = fmax(max_rel, fabs(got / want - 1));
      }
  const float dc = otf->data[((shape[0] / 2) * shape[1] + shape[1] / 2) * shape[2] + shape[2] / 2];
  g_test_message("OTF of a Gaussian (sigma 2.5, 2, 3 voxels; 32 x 27 x 40) vs "
                 "exp(-k^2/(2 sk^2)), sk = M/(2 pi sigma): max |diff| %.2e, max relative %.2e "
                 "where > 1e-3, DC %.9f",
                 max_abs, max_rel, dc);
  g_assert_cmpfloat(fabs(dc - 1), <, 1e-6);
  g_assert_cmpfloat(top, ==, dc);
  g_assert_cmpfloat(max_abs, <, 5e-7);
  g_assert_cmpfloat(max_rel, <, 2e-4);
  lucy_volume_free(psf);
  lucy_volume_free(otf);
}

/* A random (asymmetric, off-centre) real PSF against a direct double-precision DFT at every
 * frequency, and |OTF(k)| = |OTF(-k)|, for odd and even sizes. */
static void test_otf_direct_dft(void) {
  const size_t shapes[2][3] = {{6, 7, 8}, {5, 4, 9}};
  for (int s = 0; s < 2; s++) {
    const size_t *N = shapes[s];
    LucyVolume *psf = NULL, *otf = NULL;
    g_assert_cmpint(lucy_volume_new(N, &psf), ==, LUCY_OK);
    const size_t n = lucy_shape_count(N);
    double sum = 0;
    for (size_t i = 0; i < n; i++) sum += psf->data[i] = (float)((i * 7919) % 101) / 101.0f + 0.01f;
    g_assert_cmpint(lucy_psf_otf(psf, &otf), ==, LUCY_OK);
    double max_err = 0, max_sym = 0;
    for (size_t j = 0; j < n; j++) {
      const size_t jx = j % N[2], jy = (j / N[2]) % N[1], jz = j / (N[2] * N[1]);
      const double f[3] = {((double)jz - (double)(N[0] / 2)) / (double)N[0],
                           ((double)jy - (double)(N[1] / 2)) / (double)N[1],
                           ((double)jx - (double)(N[2] / 2)) / (double)N[2]};
      double re = 0, im = 0;
      for (size_t i = 0; i < n; i++) {
        const double ix = (double)(i % N[2]), iy = (double)((i / N[2]) % N[1]);
        const double iz = (double)(i / (N[2] * N[1]));
        const double ph = -2 * M_PI * (f[0] * iz + f[1] * iy + f[2] * ix);
        re += psf->data[i] * cos(ph);
        im += psf->data[i] * sin(ph);
      }
      max_err = fmax(max_err, fabs(otf->data[j] - hypot(re, im) / sum));
      const size_t m = (mirror_index(jz, N[0]) * N[1] + mirror_index(jy, N[1])) * N[2] +
                       mirror_index(jx, N[2]);
      max_sym = fmax(max_sym, fabs(otf->data[j] - otf->data[m]));
    }
    g_test_message("OTF %zu x %zu x %zu vs direct DFT: max |diff| %.2e; max ||OTF(k)| - "
                   "|OTF(-k)|| %.2e", N[0], N[1], N[2], max_err, max_sym);
    g_assert_cmpfloat(max_err, <, 1e-6);
    g_assert_cmpfloat(max_sym, <, 1e-6);
    lucy_volume_free(psf);
    lucy_volume_free(otf);
  }
}

/* A single voxel anywhere (also 2-D, one plane) transmits every frequency: |OTF| = 1. */
static void test_otf_delta(void) {
  const size_t shapes[2][3] = {{5, 6, 7}, {1, 16, 15}};
  for (int s = 0; s < 2; s++) {
    LucyVolume *psf = NULL, *otf = NULL;
    g_assert_cmpint(lucy_volume_new(shapes[s], &psf), ==, LUCY_OK);
    const size_t n = lucy_shape_count(shapes[s]);
    psf->data[n / 3] = 4.0f; /* off-centre, not normalised */
    g_assert_cmpint(lucy_psf_otf(psf, &otf), ==, LUCY_OK);
    for (size_t i = 0; i < n; i++) g_assert_cmpfloat(fabsf(otf->data[i] - 1.0f), <, 1e-6f);
    lucy_volume_free(psf);
    lucy_volume_free(otf);
  }
}

static void test_otf_errors(void) {
  const size_t shape[3] = {4, 5, 6};
  LucyVolume *v = NULL, *otf = (LucyVolume *)&otf;
  g_assert_cmpint(lucy_psf_otf(NULL, &otf), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_null(otf);
  g_assert_nonnull(strstr(lucy_error_message(), "no PSF given"));
  g_assert_cmpint(lucy_volume_new(shape, &v), ==, LUCY_OK);
  g_assert_cmpint(lucy_psf_otf(v, NULL), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(lucy_error_message(), "no output given"));
  /* all zero, and a sum that cancels to zero */
  g_assert_cmpint(lucy_psf_otf(v, &otf), ==, LUCY_ERR_NUMERIC);
  g_assert_null(otf);
  g_test_message("%s", lucy_error_message());
  g_assert_nonnull(strstr(lucy_error_message(), "PSF OTF: the PSF (4 x 5 x 6) sums to 0"));
  v->data[3] = 2.5f;
  v->data[77] = -2.5f;
  g_assert_cmpint(lucy_psf_otf(v, &otf), ==, LUCY_ERR_NUMERIC);
  g_assert_nonnull(strstr(lucy_error_message(), "sums to 0"));
  /* NaN and Inf: the count and the first position */
  v->data[77] = NAN;
  g_assert_cmpint(lucy_psf_otf(v, &otf), ==, LUCY_ERR_NUMERIC);
  g_test_message("%s", lucy_error_message());
  g_assert_nonnull(strstr(lucy_error_message(), "PSF OTF: PSF has 1 non-finite value, first at "
                                                "z=2, y=2, x=5"));
  v->data[77] = INFINITY;
  g_assert_cmpint(lucy_psf_otf(v, &otf), ==, LUCY_ERR_NUMERIC);
  g_assert_nonnull(strstr(lucy_error_message(), "non-finite"));
  g_assert_null(otf);
  /* finite voxels whose transform would overflow float32 (it used to return inf, "OK") */
  v->data[77] = 3e38f;
  v->data[3] = 3e38f;
  g_assert_cmpint(lucy_psf_otf(v, &otf), ==, LUCY_ERR_NUMERIC);
  g_assert_nonnull(strstr(lucy_error_message(), "PSF OTF: PSF values are too large"));
  g_assert_null(otf);
  lucy_volume_free(v);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/psf/model/born-wolf-airy", test_bw_airy);
  g_test_add_func("/psf/model/born-wolf-axial-sinc2", test_bw_axial);
  g_test_add_func("/psf/model/quadrature-convergence", test_convergence);
  g_test_add_func("/psf/model/born-wolf-vs-gibson-lanni", test_bw_vs_gl);
  g_test_add_func("/psf/model/volume", test_model_volume);
  g_test_add_func("/psf/model/errors", test_model_errors);
  g_test_add_func("/psf/measure/gaussian", test_measure_gaussian);
  g_test_add_func("/psf/measure/rotated", test_measure_rotated);
  g_test_add_func("/psf/measure/flags-theory", test_measure_flags_theory);
  g_test_add_func("/psf/measure/errors", test_measure_errors);
  g_test_add_data_func("/psf/measure/bead-data", "bead-data", test_measure_bead);
  g_test_add_data_func("/psf/measure/bead-psf", "bead-psf", test_measure_bead);
  g_test_add_func("/psf/fix/shift-fft", test_shift_fft);
  g_test_add_func("/psf/fix/centre", test_fix_centre);
  g_test_add_func("/psf/fix/odd-normalize", test_fix_odd_normalize);
  g_test_add_func("/psf/fix/ringing", test_fix_ringing);
  g_test_add_func("/psf/otf/gaussian", test_otf_gaussian);
  g_test_add_func("/psf/otf/direct-dft", test_otf_direct_dft);
  g_test_add_func("/psf/otf/delta", test_otf_delta);
  g_test_add_func("/psf/otf/errors", test_otf_errors);
  return g_test_run();
}
