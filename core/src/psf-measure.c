/* PSF measurement and QA: background and noise from the border, signal-to-background ratio,
 * peak, centroid (lucy_psf_check) and their offset from the origin M//2, FWHM per axis from
 * Gaussian fits (Levenberg-Marquardt) to the profiles through the peak voxel, lateral asymmetry
 * from a rotated 2-D Gaussian fitted to the whole focal plane, axial symmetry, saturation and
 * clipping flags, and the theoretical FWHM beside the measured one.
 *
 * The definitions are mirrored by tests/fixtures/make_psf_fixtures.py (scipy curve_fit), which
 * the tests compare against. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lucy/deconvolve.h"
#include "lucy/psf.h"
#include "psf-private.h"
#include "status-private.h"

#define FWHM_PER_SIGMA 2.3548200450309493
#define LM_MAX_PARAMS 7

void lucy_psf_measure_options_default(LucyPsfMeasureOptions *opts) {
  memset(opts, 0, sizeof *opts);
  opts->ni = 1.515;
}

/* model(p, i, grad) -> value at point i; grad[0..np) its derivatives. */
typedef double (*ModelFn)(const double *p, size_t i, const void *ctx, double *grad);

/* Solves A x = b (n x n, symmetric positive definite after damping) by Gaussian elimination
 * with partial pivoting; returns 0 when singular. */
static int solve(int n, double A[LM_MAX_PARAMS][LM_MAX_PARAMS], double *b, double *x) {
  double M[LM_MAX_PARAMS][LM_MAX_PARAMS + 1];
  for (int i = 0; i < n; i++) {
    for (int j = 0; j < n; j++) M[i][j] = A[i][j];
    M[i][n] = b[i];
  }
  for (int c = 0; c < n; c++) {
    int piv = c;
    for (int r = c + 1; r < n; r++)
      if (fabs(M[r][c]) > fabs(M[piv][c])) piv = r;
    if (!(fabs(M[piv][c]) > 1e-300)) return 0;
    if (piv != c)
      for (int j = 0; j <= n; j++) {
        double t = M[c][j];
        M[c][j] = M[piv][j];
        M[piv][j] = t;
      }
    for (int r = c + 1; r < n; r++) {
      double f = M[r][c] / M[c][c];
      for (int j = c; j <= n; j++) M[r][j] -= f * M[c][j];
    }
  }
  for (int i = n - 1; i >= 0; i--) {
    double s = M[i][n];
    for (int j = i + 1; j < n; j++) s -= M[i][j] * x[j];
    x[i] = s / M[i][i];
  }
  return 1;
}

static double ssr(ModelFn f, const double *p, const double *y, size_t m, const void *ctx) {
  double s = 0, g[LM_MAX_PARAMS];
  for (size_t i = 0; i < m; i++) {
    double r = y[i] - f(p, i, ctx, g);
    s += r * r;
  }
  return s;
}

/* Levenberg-Marquardt (Marquardt's diagonal scaling). Returns 1 on convergence. */
static int levenberg_marquardt(ModelFn f, int np, double *p, const double *y, size_t m,
                               const void *ctx) {
  double lambda = 1e-3, cur = ssr(f, p, y, m, ctx);
  if (!isfinite(cur)) return 0;
  for (int it = 0; it < 300; it++) {
    double A[LM_MAX_PARAMS][LM_MAX_PARAMS] = {{0}}, b[LM_MAX_PARAMS] = {0}, g[LM_MAX_PARAMS];
    for (size_t i = 0; i < m; i++) {
      double r = y[i] - f(p, i, ctx, g);
      for (int a = 0; a < np; a++) {
        b[a] += g[a] * r;
        for (int c = 0; c <= a; c++) A[a][c] += g[a] * g[c];
      }
    }
    for (int a = 0; a < np; a++)
      for (int c = a + 1; c < np; c++) A[a][c] = A[c][a];
    int improved = 0;
    for (int tries = 0; tries < 40 && !improved; tries++) {
      double D[LM_MAX_PARAMS][LM_MAX_PARAMS], step[LM_MAX_PARAMS], trial[LM_MAX_PARAMS];
      memcpy(D, A, sizeof D);
      for (int a = 0; a < np; a++) D[a][a] = A[a][a] * (1 + lambda) + 1e-300;
      if (!solve(np, D, b, step)) {
        lambda *= 10;
        continue;
      }
      for (int a = 0; a < np; a++) trial[a] = p[a] + step[a];
      double t = ssr(f, trial, y, m, ctx);
      if (isfinite(t) && t <= cur) {
        double rel = (cur - t) / (cur > 0 ? cur : 1);
        double smax = 0;
        for (int a = 0; a < np; a++) {
          double sc = fabs(step[a]) / (fabs(p[a]) + 1e-12);
          if (sc > smax) smax = sc;
        }
        memcpy(p, trial, (size_t)np * sizeof(double));
        cur = t;
        lambda = lambda / 10 > 1e-12 ? lambda / 10 : 1e-12;
        improved = 1;
        if (rel < 1e-13 || smax < 1e-10) return 1;
      } else {
        lambda *= 10;
      }
    }
    if (!improved) return cur < INFINITY; /* at a minimum to machine precision */
  }
  return 1;
}

static double gauss1d(const double *p, size_t i, const void *ctx, double *g) {
  (void)ctx;
  const double d = (double)i - p[1], s = p[2];
  const double e = exp(-0.5 * d * d / (s * s));
  g[0] = e;
  g[1] = p[0] * e * d / (s * s);
  g[2] = p[0] * e * d * d / (s * s * s);
  g[3] = 1;
  return p[0] * e + p[3];
}

static double r_squared(const double *y, size_t n, double res) {
  double mean = 0, tot = 0;
  for (size_t i = 0; i < n; i++) mean += y[i];
  mean /= (double)n;
  for (size_t i = 0; i < n; i++) tot += (y[i] - mean) * (y[i] - mean);
  return tot > 0 ? 1 - res / tot : 0;
}

int lucy_psf_fit_gaussian_1d(const double *y, size_t n, double p[4], double *r2) {
  if (!y || n < 4 || !p) return 0;
  int ok = levenberg_marquardt(gauss1d, 4, p, y, n, NULL);
  p[2] = fabs(p[2]);
  if (r2) *r2 = r_squared(y, n, ssr(gauss1d, p, y, n, NULL));
  return ok && isfinite(p[2]) && p[2] > 0;
}

/* Starting values for a profile: offset = its minimum, amplitude = max - min, centre = argmax,
 * sigma from the number of samples above half maximum. */
static void gauss1d_start(const double *y, size_t n, size_t at, double p[4]) {
  double lo = y[0], hi = y[at];
  for (size_t i = 0; i < n; i++)
    if (y[i] < lo) lo = y[i];
  size_t above = 0;
  for (size_t i = 0; i < n; i++)
    if (y[i] - lo > 0.5 * (hi - lo)) above++;
  p[0] = hi - lo;
  p[1] = (double)at;
  p[2] = (double)above / FWHM_PER_SIGMA;
  if (p[2] < 0.5) p[2] = 0.5;
  p[3] = lo;
}

typedef struct Plane {
  size_t ny, nx;
} Plane;

/* p = {A, x0, y0, a, b, c, offset}: A exp(-(a dx^2 + 2 b dx dy + c dy^2) / 2) + offset. */
static double gauss2d(const double *p, size_t i, const void *ctx, double *g) {
  const Plane *pl = ctx;
  const double dx = (double)(i % pl->nx) - p[1], dy = (double)(i / pl->nx) - p[2];
  const double q = p[3] * dx * dx + 2 * p[4] * dx * dy + p[5] * dy * dy;
  const double e = exp(-0.5 * q), ae = p[0] * e;
  g[0] = e;
  g[1] = ae * (p[3] * dx + p[4] * dy);
  g[2] = ae * (p[4] * dx + p[5] * dy);
  g[3] = -0.5 * ae * dx * dx;
  g[4] = -ae * dx * dy;
  g[5] = -0.5 * ae * dy * dy;
  g[6] = 1;
  return ae + p[6];
}

static void fit_lateral(const LucyVolume *psf, LucyPsfMeasure *m) {
  const size_t ny = psf->shape[1], nx = psf->shape[2], z = m->peak[0];
  if (ny < 4 || nx < 4 || !m->fit[1].ok || !m->fit[2].ok) return;
  double *y = malloc(ny * nx * sizeof(double));
  if (!y) return;
  for (size_t i = 0; i < ny * nx; i++) y[i] = psf->data[z * ny * nx + i];
  const double sx = m->fit[2].sigma, sy = m->fit[1].sigma;
  double p[7] = {m->fit[2].amplitude, m->fit[2].centre, m->fit[1].centre, 1 / (sx * sx), 0,
                 1 / (sy * sy), m->fit[2].offset};
  Plane pl = {ny, nx};
  int ok = levenberg_marquardt(gauss2d, 7, p, y, ny * nx, &pl);
  const double det = p[3] * p[5] - p[4] * p[4];
  if (ok && p[3] > 0 && p[5] > 0 && det > 0) {
    /* covariance = inverse of [[a, b], [b, c]] */
    const double sxx = p[5] / det, syy = p[3] / det, sxy = -p[4] / det;
    const double tr = sxx + syy, dd = sqrt(0.25 * (sxx - syy) * (sxx - syy) + sxy * sxy);
    const double l1 = 0.5 * tr + dd, l2 = 0.5 * tr - dd;
    if (l2 > 0) {
      m->lateral_sigma_major_px = sqrt(l1);
      m->lateral_sigma_minor_px = sqrt(l2);
      m->lateral_ratio = sqrt(l1 / l2);
      double ang = 0.5 * atan2(2 * sxy, sxx - syy) * 180 / M_PI;
      if (ang < 0) ang += 180;
      if (ang >= 180) ang -= 180;
      m->lateral_angle_deg = ang;
      m->lateral_r2 = r_squared(y, ny * nx, ssr(gauss2d, p, y, ny * nx, &pl));
      m->lateral_ok = 1;
    }
  }
  free(y);
}

static double axial_symmetry(const LucyVolume *psf, size_t z0) {
  const size_t nz = psf->shape[0], plane = psf->shape[1] * psf->shape[2];
  const size_t dmax = z0 < nz - 1 - z0 ? z0 : nz - 1 - z0;
  if (dmax == 0) return NAN;
  double sa = 0, sb = 0, saa = 0, sbb = 0, sab = 0, n = 0;
  for (size_t d = 1; d <= dmax; d++) {
    const float *a = psf->data + (z0 + d) * plane, *b = psf->data + (z0 - d) * plane;
    for (size_t i = 0; i < plane; i++) {
      sa += a[i];
      sb += b[i];
      saa += (double)a[i] * a[i];
      sbb += (double)b[i] * b[i];
      sab += (double)a[i] * b[i];
      n += 1;
    }
  }
  const double va = saa - sa * sa / n, vb = sbb - sb * sb / n, cab = sab - sa * sb / n;
  return va > 0 && vb > 0 ? cab / sqrt(va * vb) : NAN;
}

LucyStatus lucy_psf_measure(const LucyVolume *psf, const LucyPsfMeasureOptions *opts,
                            LucyPsfMeasure *m) {
  if (!m) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "PSF measure: no result given");
  memset(m, 0, sizeof *m);
  LucyPsfMeasureOptions defaults;
  if (!opts) {
    lucy_psf_measure_options_default(&defaults);
    opts = &defaults;
  }
  LucyPsfCheck check;
  LucyStatus st = lucy_psf_check(psf, LUCY_ORIGIN_CENTER, &check);
  if (st) return lucy__fail_context(st, "measuring the PSF: ");
  const size_t *M = psf->shape, n = lucy_shape_count(psf->shape);
  float lo = psf->data[0], hi = psf->data[0];
  for (size_t i = 0; i < n; i++) {
    if (psf->data[i] < lo) lo = psf->data[i];
    if (psf->data[i] > hi) hi = psf->data[i];
  }
  if (!(hi > lo))
    return lucy__fail(LUCY_ERR_NUMERIC,
                      "the PSF is constant (every voxel is %g): there is no peak to measure", hi);
  for (int a = 0; a < 3; a++)
    if (M[a] > 2 && (check.peak[a] == 0 || check.peak[a] == M[a] - 1))
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                        "the PSF's peak (z=%zu, y=%zu, x=%zu, value %g) is on the border of the "
                        "%zu x %zu x %zu box along %c: it is cut off, or this is not a PSF",
                        check.peak[0], check.peak[1], check.peak[2], hi, M[0], M[1], M[2],
                        "zyx"[a]);
  memcpy(m->shape, M, sizeof m->shape);
  memcpy(m->voxel_um, psf->voxel_um, sizeof m->voxel_um);
  double mad;
  m->background = lucy__psf_border_median(psf, &mad);
  m->noise = 1.4826 * mad;
  m->peak_value = hi;
  m->sbr = m->background > 0 ? (hi - m->background) / m->background : INFINITY;
  m->snr = m->noise > 0 ? (hi - m->background) / m->noise : INFINITY;
  m->sum = check.sum;
  m->sum_above_background = check.sum - m->background * (double)n;
  for (int a = 0; a < 3; a++) {
    m->peak[a] = check.peak[a];
    m->centroid[a] = check.centroid[a];
    m->origin[a] = check.origin[a];
    m->offset_px[a] = check.offset[a];
  }
  for (size_t i = 0; i < n; i++) {
    if (psf->data[i] == hi) m->saturated_count++;
    if (psf->data[i] == lo) m->clipped_count++;
  }
  m->saturated = m->saturated_count > 1;
  m->clipped = lo <= 0 && (double)m->clipped_count > 0.01 * (double)n;

  /* 1-D fits through the peak voxel */
  size_t longest = M[0] > M[1] ? M[0] : M[1];
  if (M[2] > longest) longest = M[2];
  double *prof = malloc(longest * sizeof(double));
  if (!prof) return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory measuring the PSF");
  const size_t stride[3] = {M[1] * M[2], M[2], 1};
  const size_t base = m->peak[0] * stride[0] + m->peak[1] * stride[1] + m->peak[2];
  for (int a = 0; a < 3; a++) {
    LucyPsfFit1d *f = &m->fit[a];
    m->fit_centre[a] = (double)m->peak[a];
    if (M[a] < 4) continue;
    const size_t start = base - m->peak[a] * stride[a];
    for (size_t i = 0; i < M[a]; i++) prof[i] = psf->data[start + i * stride[a]];
    double p[4];
    gauss1d_start(prof, M[a], m->peak[a], p);
    f->ok = lucy_psf_fit_gaussian_1d(prof, M[a], p, &f->r2);
    f->amplitude = p[0];
    f->centre = p[1];
    f->sigma = p[2];
    f->offset = p[3];
    f->fwhm_px = FWHM_PER_SIGMA * p[2];
    f->fwhm_um = f->fwhm_px * psf->voxel_um[a];
    if (f->ok && fabs(p[1] - (double)m->peak[a]) < 2.0) m->fit_centre[a] = p[1];
  }
  free(prof);
  fit_lateral(psf, m);
  m->axial_symmetry = axial_symmetry(psf, m->peak[0]);
  if (opts->na > 0 && opts->wavelength_um > 0) {
    double lat, ax;
    lucy_psf_theoretical_fwhm(opts->na, opts->wavelength_um, opts->ni > 0 ? opts->ni : 1.515,
                              &lat, &ax);
    m->theory_fwhm_um[0] = ax;
    m->theory_fwhm_um[1] = lat;
    m->theory_fwhm_um[2] = lat;
    for (int a = 0; a < 3; a++)
      m->fwhm_ratio[a] = m->fit[a].ok ? m->fit[a].fwhm_um / m->theory_fwhm_um[a] : NAN;
  }
  return LUCY_OK;
}
