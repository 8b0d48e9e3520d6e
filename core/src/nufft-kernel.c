/* The NUFFT's spreading kernel: FINUFFT's "exponential of semicircle" (ES)
 *   phi(x) = exp(beta (sqrt(1 - (2x/w)^2) - 1)),  |x| < w/2 (fine-grid units),
 * its width w and shape beta from the tolerance and the upsampling factor (the rules of
 * FINUFFT's setup_spreader, from the SISC 2019 paper: w = ceil(log10(10/eps)) and
 * beta = 2.30 w for sigma = 2, with small-width tweaks; w = ceil(ln(1/eps) / (pi sqrt(1 -
 * 1/sigma))) and beta = 0.97 pi (1 - 1/(2 sigma)) w otherwise), a piecewise polynomial
 * approximation evaluated by Horner's rule in the spreader (one polynomial per grid interval,
 * all w intervals in one vectorisable loop, as FINUFFT does; here the coefficients are fitted
 * at plan time by Chebyshev interpolation until they match phi to a tenth of eps), and the
 * kernel's Fourier transform by Gauss-Legendre quadrature. */
#include <float.h>
#include <math.h>
#include <string.h>

#include "nufft-private.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

double lucy__es_eval(const LucyEsKernel *k, double x) {
  const double s = 1.0 - k->c * x * x;
  if (s < 0.0) return 0.0; /* |x| > w/2; at |x| = w/2 the limit exp(-beta) */
  return exp(k->beta * (sqrt(s) - 1.0));
}

void lucy__gauss_legendre(int n, double *nodes, double *weights) {
  for (int i = 0; i < n; i++) {
    double x = cos(M_PI * (i + 0.75) / (n + 0.5)), dp = 1.0;
    for (int it = 0; it < 100; it++) {
      double p0 = 1.0, p1 = x;
      for (int j = 2; j <= n; j++) {
        const double p2 = ((2.0 * j - 1.0) * x * p1 - (j - 1.0) * p0) / j;
        p0 = p1;
        p1 = p2;
      }
      if (n == 1) p0 = 1.0, p1 = x;
      dp = n * (x * p1 - p0) / (x * x - 1.0);
      const double dx = p1 / dp;
      x -= dx;
      if (fabs(dx) < 1e-16) break;
    }
    /* recompute the derivative at the converged node */
    double p0 = 1.0, p1 = x;
    for (int j = 2; j <= n; j++) {
      const double p2 = ((2.0 * j - 1.0) * x * p1 - (j - 1.0) * p0) / j;
      p0 = p1;
      p1 = p2;
    }
    dp = n * (x * p1 - p0) / (x * x - 1.0);
    nodes[i] = x;
    weights[i] = 2.0 / ((1.0 - x * x) * dp * dp);
  }
}

/* Chebyshev interpolation of phi on interval k with degree P, converted to monomials in z. */
static void fit_interval(const LucyEsKernel *k, int iv, int P, double *mono) {
  double f[LUCY_NUFFT_MAX_DEGREE + 1], a[LUCY_NUFFT_MAX_DEGREE + 1];
  const int n = P + 1;
  for (int i = 0; i < n; i++) {
    const double z = cos(M_PI * (i + 0.5) / n);
    f[i] = lucy__es_eval(k, -0.5 * k->ns + iv + 0.5 * (z + 1.0));
  }
  for (int m = 0; m < n; m++) {
    double s = 0.0;
    for (int i = 0; i < n; i++) s += f[i] * cos(M_PI * m * (i + 0.5) / n);
    a[m] = (m == 0 ? 1.0 : 2.0) * s / n;
  }
  /* T_m as monomial coefficient rows: t_prev = T_{m-1}, t_cur = T_m. */
  double tp[LUCY_NUFFT_MAX_DEGREE + 2] = {0}, tc[LUCY_NUFFT_MAX_DEGREE + 2] = {0},
         tn[LUCY_NUFFT_MAX_DEGREE + 2] = {0};
  for (int d = 0; d <= P; d++) mono[d] = 0.0;
  tp[0] = 1.0; /* T_0 */
  mono[0] += a[0];
  if (P >= 1) {
    tc[1] = 1.0; /* T_1 */
    mono[1] += a[1];
  }
  for (int m = 2; m <= P; m++) {
    for (int d = 0; d <= m; d++) tn[d] = (d > 0 ? 2.0 * tc[d - 1] : 0.0) - tp[d];
    for (int d = 0; d <= m; d++) mono[d] += a[m] * tn[d];
    memcpy(tp, tc, sizeof tp);
    memcpy(tc, tn, sizeof tc);
  }
}

static double horner_error(const LucyEsKernel *k, int P) {
  double worst = 0.0;
  for (int iv = 0; iv < k->ns; iv++)
    for (int s = 0; s <= 64; s++) {
      const double z = -1.0 + 2.0 * s / 64.0;
      double v = k->coef_d[P][iv];
      for (int d = P - 1; d >= 0; d--) v = v * z + k->coef_d[d][iv];
      const double e = fabs(v - lucy__es_eval(k, -0.5 * k->ns + iv + 0.5 * (z + 1.0)));
      if (e > worst) worst = e;
    }
  return worst;
}

double lucy__es_setup(double eps, double sigma, int is_float, LucyEsKernel *k, int *clamped) {
  memset(k, 0, sizeof *k);
  *clamped = 0;
  const double mach = is_float ? (double)FLT_EPSILON : DBL_EPSILON;
  if (eps < mach) {
    eps = mach;
    *clamped = 1;
  }
  int ns;
  if (sigma == 2.0)
    ns = (int)ceil(-log10(eps / 10.0));
  else
    ns = (int)ceil(-log(eps) / (M_PI * sqrt(1.0 - 1.0 / sigma)));
  if (ns < 2) ns = 2;
  if (ns > LUCY_NUFFT_MAX_NS) {
    ns = LUCY_NUFFT_MAX_NS;
    /* the tolerance a width-16 kernel reaches by the same rule */
    const double reach = sigma == 2.0 ? 10.0 * pow(10.0, -ns)
                                      : exp(-ns * M_PI * sqrt(1.0 - 1.0 / sigma));
    if (reach > eps) eps = reach;
    *clamped = 1;
  }
  double betaoverns = 2.30;
  if (ns == 2) betaoverns = 2.20;
  if (ns == 3) betaoverns = 2.26;
  if (ns == 4) betaoverns = 2.38;
  if (sigma != 2.0) betaoverns = 0.97 * M_PI * (1.0 - 1.0 / (2.0 * sigma));
  k->ns = ns;
  k->beta = betaoverns * ns;
  k->c = 4.0 / ((double)ns * ns);
  k->upsampfac = sigma;
  k->eps = eps;

  /* Horner fit: the lowest degree within a tenth of eps (or the best up to the cap). */
  const double target = 0.1 * (eps > mach ? eps : mach);
  int best = -1;
  double best_err = INFINITY;
  for (int P = 4; P <= LUCY_NUFFT_MAX_DEGREE; P++) {
    double mono[LUCY_NUFFT_MAX_DEGREE + 1];
    for (int iv = 0; iv < ns; iv++) {
      fit_interval(k, iv, P, mono);
      for (int d = 0; d <= P; d++) k->coef_d[d][iv] = mono[d];
    }
    for (int d = P + 1; d <= LUCY_NUFFT_MAX_DEGREE; d++)
      for (int iv = 0; iv < ns; iv++) k->coef_d[d][iv] = 0.0;
    const double err = horner_error(k, P);
    if (err < best_err) {
      best_err = err;
      best = P;
    }
    if (err <= target) break;
  }
  /* refit the best degree (the loop may have gone past it) */
  double mono[LUCY_NUFFT_MAX_DEGREE + 1];
  for (int iv = 0; iv < ns; iv++) {
    fit_interval(k, iv, best, mono);
    for (int d = 0; d <= LUCY_NUFFT_MAX_DEGREE; d++) k->coef_d[d][iv] = d <= best ? mono[d] : 0.0;
  }
  k->degree = best;
  k->fit_error = best_err;
  for (int d = 0; d <= LUCY_NUFFT_MAX_DEGREE; d++)
    for (int iv = 0; iv < LUCY_NUFFT_MAX_NS; iv++) k->coef_f[d][iv] = (float)k->coef_d[d][iv];
  return eps;
}

void lucy__es_fourier(const LucyEsKernel *k, size_t nf, size_t nmax, double *phihat) {
  enum { QMAX = 3 * LUCY_NUFFT_MAX_NS + 10 };
  const int q = 3 * k->ns + 10;
  double t[QMAX], w[QMAX], x[QMAX], f[QMAX];
  lucy__gauss_legendre(q, t, w);
  const double half = 0.5 * k->ns;
  for (int i = 0; i < q; i++) {
    x[i] = 0.5 * half * (t[i] + 1.0); /* [0, w/2] */
    f[i] = 2.0 * 0.5 * half * w[i] * lucy__es_eval(k, x[i]);
  }
  for (size_t j = 0; j <= nmax; j++) phihat[j] = 0.0;
  for (int i = 0; i < q; i++) {
    const double a = 2.0 * M_PI * x[i] / (double)nf;
    const double cr = cos(a), ci = sin(a);
    double zr = 1.0, zi = 0.0;
    for (size_t j = 0; j <= nmax; j++) {
      if ((j & 63) == 0) {
        zr = cos(a * (double)j);
        zi = sin(a * (double)j);
      }
      phihat[j] += f[i] * zr;
      const double nr = zr * cr - zi * ci;
      zi = zr * ci + zi * cr;
      zr = nr;
    }
  }
}
