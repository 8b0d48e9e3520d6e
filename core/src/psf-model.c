/* Optical PSF models: the scalar pupil integral
 *
 *   h(r, z) = | int_0^1 J0(k NA r rho) exp(i k OPD(rho, z)) rho drho |^2,   k = 2 pi / lambda
 *
 * with Born & Wolf's paraxial defocus OPD = -NA^2 rho^2 z / (2 n_i), or Gibson & Lanni's exact
 * optical path difference through sample, coverslip and immersion (as in Li, Xue and Blu,
 * JOSA A 34 (2017), and MicroscPSF):
 *
 *   OPD = zp S(ns) + (ti0 + zs) S(ni) - ti0 S(ni0) + tg S(ng) - tg0 S(ng0),
 *   S(n) = sqrt(n^2 - NA^2 rho^2),   zs = z - zp ni / ns
 *
 * where zs is the stage position measured so that z = 0 is the paraxial image of a source at
 * depth zp (the rho^2 terms then reduce to Born & Wolf's). A sample with ns < NA rho makes S
 * imaginary: those rays are evanescent in the sample and decay as exp(-k zp |S|).
 *
 * Numerics: one Gauss-Legendre rule over rho in [0, 1] (nodes by Newton's method on the
 * Legendre recurrence, to 1e-15), J0 from libm (glibc: a few ulp). The automatic rule has
 * 32 + 4 ceil(Phi) points, Phi the total phase the integrand turns through (the largest J0
 * argument plus the pupil phase's range), which converges far below 1e-6 of the peak; the tests
 * check that doubling the points changes nothing beyond that. Each voxel is the mean of
 * oversample^3 sub-samples; within a plane the radial profile is tabulated at a step of at most
 * 0.02 lambda/NA (and dxy / (2 oversample)) and read with 4-point Lagrange interpolation
 * (relative error ~ 1e-5 of the peak). */
#include <complex.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lucy/phantom.h"
#include "lucy/psf.h"
#include "status-private.h"

#define FWHM_PER_SIGMA 2.3548200450309493 /* 2 sqrt(2 ln 2) */
#define AIRY_HALF_V 1.6163399561      /* |2 J1(v)/v|^2 = 1/2 */
#define SINC2_HALF_X 1.3915573782515795 /* (sin x / x)^2 = 1/2 */

void lucy_psf_optics_default(LucyPsfOptics *o) {
  memset(o, 0, sizeof *o);
  o->na = 1.4;
  o->wavelength_um = 0.52;
  o->ni = 1.515;
  o->dxy_um = 0.1;
  o->dz_um = 0.2;
  o->ni0 = 0; /* 0: same as ni */
  o->ns = 1.33;
  o->ng = 1.5255;
  o->ng0 = 1.5255;
  o->tg_um = 170;
  o->tg0_um = 170;
  o->ti0_um = 150;
  o->depth_um = 0;
  o->oversample = 3;
  o->quad_points = 0;
  o->normalize = 1;
}

void lucy_psf_theoretical_fwhm(double na, double wavelength_um, double n, double *lateral_um,
                               double *axial_um) {
  const double k = 2 * M_PI / wavelength_um;
  if (lateral_um) *lateral_um = 2 * AIRY_HALF_V / (k * na);
  if (axial_um) *axial_um = 2 * SINC2_HALF_X * 4 * n / (k * na * na);
}

static double ni0_of(const LucyPsfOptics *o) { return o->ni0 > 0 ? o->ni0 : o->ni; }

static LucyStatus check_optics(LucyPsfModel model, const LucyPsfOptics *o) {
  if (!o) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "PSF model: no optics given");
  if (model != LUCY_PSF_BORN_WOLF && model != LUCY_PSF_GIBSON_LANNI)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "PSF model: unknown model %d", (int)model);
  if (!(o->na > 0) || !isfinite(o->na))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "NA must be > 0, got %g", o->na);
  if (!(o->wavelength_um > 0) || !isfinite(o->wavelength_um))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "wavelength must be > 0 um, got %g",
                      o->wavelength_um);
  if (!(o->dxy_um > 0) || !(o->dz_um > 0) || !isfinite(o->dxy_um) || !isfinite(o->dz_um))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "voxel size must be > 0 um, got dxy %g, dz %g",
                      o->dxy_um, o->dz_um);
  if (o->oversample < 1 || o->oversample > 15)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "oversampling must be 1 to 15, got %d",
                      o->oversample);
  if (o->quad_points < 0 || o->quad_points > 100000)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "quadrature points must be 0 (automatic) to 100000, got %d", o->quad_points);
  const struct { const char *name; double n; } idx[] = {
    {"immersion index ni", o->ni}, {"design immersion index ni0", ni0_of(o)},
    {"coverslip index ng", o->ng}, {"design coverslip index ng0", o->ng0}};
  const int count = model == LUCY_PSF_BORN_WOLF ? 1 : 4;
  for (int i = 0; i < count; i++)
    if (!(o->na < idx[i].n))
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                        "NA %g must be smaller than the %s %g: no ray can leave the objective "
                        "at that angle", o->na, idx[i].name, idx[i].n);
  if (model == LUCY_PSF_GIBSON_LANNI) {
    if (!(o->ns > 0) || !(o->tg_um >= 0) || !(o->tg0_um >= 0) || !(o->ti0_um >= 0) ||
        !(o->depth_um >= 0))
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                        "Gibson & Lanni: ns %g must be > 0 and the thicknesses (tg %g, tg0 %g, "
                        "ti0 %g, depth %g um) >= 0", o->ns, o->tg_um, o->tg0_um, o->ti0_um,
                        o->depth_um);
  }
  return LUCY_OK;
}

/* Gauss-Legendre nodes and weights on [0, 1]. */
static void gauss_legendre01(int n, double *x, double *w) {
  for (int i = 0; i < (n + 1) / 2; i++) {
    double t = cos(M_PI * (i + 0.75) / (n + 0.5)), dp = 1;
    for (int it = 0; it < 100; it++) {
      double p0 = 1, p1 = t;
      for (int k = 2; k <= n; k++) {
        double p2 = ((2.0 * k - 1) * t * p1 - (k - 1.0) * p0) / k;
        p0 = p1;
        p1 = p2;
      }
      if (n == 1) { p1 = t; p0 = 1; }
      dp = n * (t * p1 - p0) / (t * t - 1);
      double dt = p1 / dp;
      t -= dt;
      if (fabs(dt) < 1e-16) break;
    }
    double wt = 2 / ((1 - t * t) * dp * dp);
    x[i] = 0.5 * (1 - t);
    x[n - 1 - i] = 0.5 * (1 + t);
    w[i] = w[n - 1 - i] = 0.5 * wt;
  }
}

/* k * OPD(rho, z): the pupil phase (its amplitude part for evanescent rays in *amp). */
static double pupil_phase(LucyPsfModel model, const LucyPsfOptics *o, double rho, double z,
                          double *amp) {
  const double k = 2 * M_PI / o->wavelength_um;
  const double a = o->na * o->na * rho * rho;
  *amp = 1;
  if (model == LUCY_PSF_BORN_WOLF) return -k * a * z / (2 * o->ni);
  const double ni0 = ni0_of(o), zs = z - o->depth_um * o->ni / o->ns;
  double opd = (o->ti0_um + zs) * sqrt(o->ni * o->ni - a) - o->ti0_um * sqrt(ni0 * ni0 - a) +
               o->tg_um * sqrt(o->ng * o->ng - a) - o->tg0_um * sqrt(o->ng0 * o->ng0 - a);
  const double s2 = o->ns * o->ns - a;
  if (s2 >= 0)
    opd += o->depth_um * sqrt(s2);
  else
    *amp = exp(-k * o->depth_um * sqrt(-s2));
  /* remove the rho-independent part so the phase stays small (it does not change |.|^2) */
  const double opd0 = (o->ti0_um + zs) * o->ni - o->ti0_um * ni0 + o->tg_um * o->ng -
                      o->tg0_um * o->ng0 + o->depth_um * o->ns;
  return k * (opd - opd0);
}

/* Radians the integrand turns through for r <= r_max, |z| <= z_max. */
static double total_phase(LucyPsfModel model, const LucyPsfOptics *o, double r_max,
                          double z_max) {
  const double k = 2 * M_PI / o->wavelength_um;
  double range = 0;
  const double zs[3] = {-z_max, 0, z_max};
  for (int j = 0; j < 3; j++) {
    double amp, p0 = pupil_phase(model, o, 0, zs[j], &amp), lo = p0, hi = p0;
    for (int i = 1; i <= 256; i++) {
      double p = pupil_phase(model, o, i / 256.0, zs[j], &amp);
      if (p < lo) lo = p;
      if (p > hi) hi = p;
    }
    if (hi - lo > range) range = hi - lo;
  }
  return k * o->na * r_max + range;
}

static int auto_points(double phase) {
  double n = 32 + 4 * ceil(phase);
  return n > 100000 ? 100000 : (int)n;
}

typedef struct Quad {
  int n;
  double *x, *w;
} Quad;

/* The rule over rho in [0, 1]. When the sample's index is below NA (Gibson & Lanni), the
 * integrand has a square-root kink at rho_c = ns / NA; the interval is then split there and
 * each half mapped by a square (rho = rho_c t (2 - t) and rho = rho_c + (1 - rho_c) t^2) so the
 * integrand is smooth in t and the rule converges as fast as without the kink. */
static LucyStatus quad_new(LucyPsfModel model, const LucyPsfOptics *o, int n, Quad *q) {
  q->n = n;
  q->x = malloc((size_t)n * sizeof(double));
  q->w = malloc((size_t)n * sizeof(double));
  if (!q->x || !q->w) {
    free(q->x);
    free(q->w);
    return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory for %d quadrature points", n);
  }
  const double rc = o->ns / o->na;
  if (model != LUCY_PSF_GIBSON_LANNI || rc >= 1 || n < 4) {
    gauss_legendre01(n, q->x, q->w);
    return LUCY_OK;
  }
  const int n1 = n / 2, n2 = n - n1;
  gauss_legendre01(n1, q->x, q->w);
  for (int i = 0; i < n1; i++) {
    const double t = q->x[i];
    q->x[i] = rc * t * (2 - t);
    q->w[i] *= 2 * rc * (1 - t);
  }
  gauss_legendre01(n2, q->x + n1, q->w + n1);
  for (int i = n1; i < n; i++) {
    const double t = q->x[i];
    q->x[i] = rc + (1 - rc) * t * t;
    q->w[i] *= 2 * (1 - rc) * t;
  }
  return LUCY_OK;
}

static void quad_free(Quad *q) {
  free(q->x);
  free(q->w);
}

double lucy_psf_model_intensity(LucyPsfModel model, const LucyPsfOptics *o, double r_um,
                                double z_um, int n_points) {
  if (check_optics(model, o)) return NAN;
  const int n = n_points > 0 ? n_points : auto_points(total_phase(model, o, fabs(r_um), fabs(z_um)));
  Quad q;
  if (quad_new(model, o, n, &q)) return NAN;
  const double kv = 2 * M_PI / o->wavelength_um * o->na * r_um;
  double complex s = 0;
  for (int i = 0; i < n; i++) {
    double amp, ph = pupil_phase(model, o, q.x[i], z_um, &amp);
    s += q.w[i] * q.x[i] * amp * j0(kv * q.x[i]) * cexp(I * ph);
  }
  quad_free(&q);
  return creal(s) * creal(s) + cimag(s) * cimag(s);
}

/* 4-point Lagrange interpolation of table t (step dr) at r. */
static inline double interp4(const double *t, size_t n, double dr, double r) {
  double u = r / dr;
  size_t i = (size_t)u;
  if (i < 1) i = 1;
  if (i + 2 >= n) i = n - 3;
  double f = u - (double)i; /* in [0,1) normally */
  const double a = t[i - 1], b = t[i], c = t[i + 1], d = t[i + 2];
  const double fm = f - 1, fp = f + 1, f2 = f - 2;
  return -a * f * fm * f2 / 6 + b * fp * fm * f2 / 2 - c * fp * f * f2 / 2 + d * fp * f * fm / 6;
}

LucyStatus lucy_psf_model(LucyPsfModel model, const size_t shape[3], const LucyPsfOptics *o,
                          LucyVolume **out) {
  if (!out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "PSF model: no output given");
  *out = NULL;
  if (!shape) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "PSF model: no shape given");
  LucyStatus st = check_optics(model, o);
  if (st) return st;
  LucyVolume *vol;
  if ((st = lucy_volume_new(shape, &vol))) return st;
  vol->voxel_um[LUCY_Z] = o->dz_um;
  vol->voxel_um[LUCY_Y] = o->dxy_um;
  vol->voxel_um[LUCY_X] = o->dxy_um;
  const size_t nz = shape[0], ny = shape[1], nx = shape[2];
  const size_t cz = nz / 2, cy = ny / 2, cx = nx / 2;
  const int os = o->oversample;
  const double k = 2 * M_PI / o->wavelength_um;
  /* largest radius and defocus any sub-sample reaches */
  const double ry = ((double)(cy > ny - 1 - cy ? cy : ny - 1 - cy) + 0.5) * o->dxy_um;
  const double rx = ((double)(cx > nx - 1 - cx ? cx : nx - 1 - cx) + 0.5) * o->dxy_um;
  const double r_max = hypot(rx, ry);
  const double z_max = ((double)(cz > nz - 1 - cz ? cz : nz - 1 - cz) + 0.5) * o->dz_um;
  double dr = 0.02 * o->wavelength_um / o->na;
  if (o->dxy_um / (2 * os) < dr) dr = o->dxy_um / (2 * os);
  const size_t nr = (size_t)ceil(r_max / dr) + 4;
  const int nq = o->quad_points > 0 ? o->quad_points : auto_points(total_phase(model, o, r_max, z_max));
  Quad q = {0};
  double *jt = NULL, *prof = NULL, *plane = NULL;
  double complex *ph = NULL;
  if ((st = quad_new(model, o, nq, &q))) goto fail;
  jt = malloc(nr * (size_t)nq * sizeof(double));
  prof = malloc(nr * sizeof(double));
  plane = malloc(ny * nx * sizeof(double));
  ph = malloc((size_t)nq * sizeof(double complex));
  if (!jt || !prof || !plane || !ph) {
    st = lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory for the PSF model (%zu x %d table)",
                    nr, nq);
    goto fail;
  }
  /* J0(k NA r rho) rho w, one row per radius */
#pragma omp parallel for schedule(static)
  for (size_t i = 0; i < nr; i++)
    for (int j = 0; j < nq; j++)
      jt[i * (size_t)nq + (size_t)j] = j0(k * o->na * (double)i * dr * q.x[j]) * q.x[j] * q.w[j];
  double total = 0;
  for (size_t z = 0; z < nz; z++) {
    if (o->progress && o->progress(o->progress_user, (double)z / (double)nz, "PSF planes")) {
      st = lucy__fail(LUCY_ERR_CANCELLED, "PSF model cancelled at plane %zu of %zu", z, nz);
      goto fail;
    }
    memset(plane, 0, ny * nx * sizeof(double));
    for (int sz = 0; sz < os; sz++) {
      const double zum = ((double)z - (double)cz + (sz + 0.5) / os - 0.5) * o->dz_um;
      for (int j = 0; j < nq; j++) {
        double amp, p = pupil_phase(model, o, q.x[j], zum, &amp);
        ph[j] = amp * cexp(I * p);
      }
#pragma omp parallel for schedule(static)
      for (size_t i = 0; i < nr; i++) {
        double re = 0, im = 0;
        const double *row = jt + i * (size_t)nq;
        for (int j = 0; j < nq; j++) {
          re += row[j] * creal(ph[j]);
          im += row[j] * cimag(ph[j]);
        }
        prof[i] = re * re + im * im;
      }
#pragma omp parallel for schedule(static)
      for (size_t y = 0; y < ny; y++)
        for (size_t x = 0; x < nx; x++) {
          double acc = 0;
          for (int sy = 0; sy < os; sy++) {
            const double yy = ((double)y - (double)cy + (sy + 0.5) / os - 0.5) * o->dxy_um;
            for (int sx = 0; sx < os; sx++) {
              const double xx = ((double)x - (double)cx + (sx + 0.5) / os - 0.5) * o->dxy_um;
              acc += interp4(prof, nr, dr, hypot(xx, yy));
            }
          }
          plane[y * nx + x] += acc;
        }
    }
    const double scale = 1.0 / ((double)os * os * os);
    for (size_t i = 0; i < ny * nx; i++) {
      const double v = plane[i] * scale * 4.0; /* the in-focus Airy peak is 1/4 */
      total += v;
      vol->data[z * ny * nx + i] = (float)v;
    }
  }
  if (o->normalize) {
    if (!(total > 0)) {
      st = lucy__fail(LUCY_ERR_NUMERIC, "PSF model: the PSF sums to %g", total);
      goto fail;
    }
    const size_t n = nz * ny * nx;
    for (size_t i = 0; i < n; i++) vol->data[i] = (float)(vol->data[i] / total);
  }
  quad_free(&q);
  free(jt);
  free(prof);
  free(plane);
  free(ph);
  *out = vol;
  return LUCY_OK;
fail:
  if (q.x) quad_free(&q);
  free(jt);
  free(prof);
  free(plane);
  free(ph);
  lucy_volume_free(vol);
  return st;
}

LucyStatus lucy_psf_gaussian_optics(const size_t shape[3], const LucyPsfOptics *o,
                                    LucyVolume **out) {
  if (!out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "Gaussian PSF: no output given");
  *out = NULL;
  LucyStatus st = check_optics(LUCY_PSF_BORN_WOLF, o);
  if (st) return st;
  double lat, ax;
  lucy_psf_theoretical_fwhm(o->na, o->wavelength_um, o->ni, &lat, &ax);
  const double sigma[3] = {ax / FWHM_PER_SIGMA / o->dz_um, lat / FWHM_PER_SIGMA / o->dxy_um,
                           lat / FWHM_PER_SIGMA / o->dxy_um};
  if ((st = lucy_psf_gaussian(shape, sigma, out))) return st;
  (*out)->voxel_um[LUCY_Z] = o->dz_um;
  (*out)->voxel_um[LUCY_Y] = o->dxy_um;
  (*out)->voxel_um[LUCY_X] = o->dxy_um;
  return LUCY_OK;
}
