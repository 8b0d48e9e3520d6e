/* NUFFT: type 1 and 2 in 1-D, 2-D and 3-D, isign +-1, both mode orders, double (eps 1e-6 and
 * 1e-12) and float (eps 1e-5) against direct double-precision sums; the adjoint identity;
 * points on the grid against a plain FFT; batches against one-by-one; bad input. */
#include <fftw3.h>
#include <float.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lucy/nufft.h"
#include "lucy/status.h"

typedef struct Case {
  int dim, type, isign, modeord;
  LucyNufftPrecision prec;
  double eps;
} Case;

static const int64_t case_modes[3][3] = {{101, 1, 1}, {24, 17, 1}, {10, 9, 8}};
#define NPTS 700

static size_t ntot_of(const int64_t *N, int dim) {
  size_t n = 1;
  for (int a = 0; a < dim; a++) n *= (size_t)N[a];
  return n;
}

/* signed mode of position i on an axis of N modes */
static long kmode(size_t i, size_t N, int modeord) {
  if (modeord == 0) return (long)i - (long)(N / 2);
  return i < N - N / 2 ? (long)i : (long)i - (long)N;
}

/* the direct sums in double: type 1 out[k] = sum_j c_j e^{s i k.x_j}; type 2 out[j] = sum_k */
static void direct(int type, int dim, const int64_t *N, int isign, int modeord, size_t M,
                   const double *const xyz[3], const double *in, double *out) {
  const size_t Nt = ntot_of(N, dim);
  const size_t N1 = (size_t)N[0], N2 = dim > 1 ? (size_t)N[1] : 1;
  if (type == 1) memset(out, 0, 2 * Nt * sizeof(double));
  for (size_t j = 0; j < M; j++) {
    double sr = 0, si = 0;
    for (size_t m = 0; m < Nt; m++) {
      const size_t i1 = m % N1, i2 = (m / N1) % N2, i3 = m / (N1 * N2);
      double ph = kmode(i1, N1, modeord) * xyz[0][j];
      if (dim > 1) ph += kmode(i2, N2, modeord) * xyz[1][j];
      if (dim > 2) ph += kmode(i3, (size_t)N[2], modeord) * xyz[2][j];
      const double c = cos(ph), s = isign * sin(ph);
      if (type == 1) {
        out[2 * m] += in[2 * j] * c - in[2 * j + 1] * s;
        out[2 * m + 1] += in[2 * j] * s + in[2 * j + 1] * c;
      } else {
        sr += in[2 * m] * c - in[2 * m + 1] * s;
        si += in[2 * m] * s + in[2 * m + 1] * c;
      }
    }
    if (type == 2) {
      out[2 * j] = sr;
      out[2 * j + 1] = si;
    }
  }
}

static double rel_l2(const double *a, const double *ref, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    num += (a[i] - ref[i]) * (a[i] - ref[i]);
    den += ref[i] * ref[i];
  }
  return sqrt(num / den);
}

static LucyNufftPlan *make_plan(int type, int dim, const int64_t *N, int isign, double eps,
                                int modeord, LucyNufftPrecision prec, int threads) {
  LucyNufftOptions o;
  lucy_nufft_options_default(&o);
  o.modeord = modeord;
  o.precision = prec;
  o.threads = threads;
  LucyNufftPlan *p = NULL;
  LucyStatus st = lucy_nufft_plan_new(type, dim, N, isign, eps, &o, &p);
  if (st) g_error("plan_new: %s", lucy_error_message());
  return p;
}

/* Runs one case with M points (coordinates spread over [-3pi, 3pi) to exercise folding). */
static double run_case(const Case *cs, GRand *rng, int report) {
  const int64_t *N = case_modes[cs->dim - 1];
  const size_t Nt = ntot_of(N, cs->dim), M = NPTS;
  double *xyz[3] = {NULL, NULL, NULL};
  float *xyzf[3] = {NULL, NULL, NULL};
  for (int a = 0; a < cs->dim; a++) {
    xyz[a] = g_new(double, M);
    xyzf[a] = g_new(float, M);
    for (size_t j = 0; j < M; j++) {
      double v = g_rand_double_range(rng, -3 * G_PI, 3 * G_PI);
      if (cs->prec == LUCY_NUFFT_FLOAT) v = (double)(float)v;
      xyz[a][j] = v;
      xyzf[a][j] = (float)v;
    }
  }
  const size_t nin = cs->type == 1 ? M : Nt, nout = cs->type == 1 ? Nt : M;
  double *in = g_new(double, 2 * nin), *out = g_new0(double, 2 * nout),
         *ref = g_new(double, 2 * nout);
  for (size_t i = 0; i < 2 * nin; i++) {
    double v = g_rand_double_range(rng, -1, 1);
    if (cs->prec == LUCY_NUFFT_FLOAT) v = (double)(float)v;
    in[i] = v;
  }
  direct(cs->type, cs->dim, N, cs->isign, cs->modeord, M, (const double *const *)xyz, in, ref);
  LucyNufftPlan *p = make_plan(cs->type, cs->dim, N, cs->isign, cs->eps, cs->modeord, cs->prec, 2);
  g_assert_cmpuint(lucy_nufft_plan_warnings(p), ==, 0);
  if (cs->prec == LUCY_NUFFT_DOUBLE) {
    g_assert_cmpint(lucy_nufft_setpts(p, M, xyz[0], xyz[1], xyz[2]), ==, LUCY_OK);
    g_assert_cmpint(lucy_nufft_execute(p, 1, in, out), ==, LUCY_OK);
  } else {
    float *inf = g_new(float, 2 * nin), *outf = g_new(float, 2 * nout);
    for (size_t i = 0; i < 2 * nin; i++) inf[i] = (float)in[i];
    g_assert_cmpint(lucy_nufftf_setpts(p, M, xyzf[0], xyzf[1], xyzf[2]), ==, LUCY_OK);
    g_assert_cmpint(lucy_nufftf_execute(p, 1, inf, outf), ==, LUCY_OK);
    for (size_t i = 0; i < 2 * nout; i++) out[i] = outf[i];
    g_free(inf);
    g_free(outf);
  }
  const double err = rel_l2(out, ref, 2 * nout);
  if (report)
    g_test_message("%dD type %d isign %+d modeord %d %s eps %g: w=%d rel l2 err %.3g (%.2f eps)",
                   cs->dim, cs->type, cs->isign, cs->modeord,
                   cs->prec == LUCY_NUFFT_FLOAT ? "float" : "double", cs->eps,
                   lucy_nufft_plan_kernel_width(p), err, err / cs->eps);
  lucy_nufft_plan_free(p);
  for (int a = 0; a < 3; a++) {
    g_free(xyz[a]);
    g_free(xyzf[a]);
  }
  g_free(in);
  g_free(out);
  g_free(ref);
  return err;
}

static void test_accuracy(void) {
  GRand *rng = g_rand_new_with_seed(6);
  const double eps_d[2] = {1e-6, 1e-12};
  double worst[3] = {0, 0, 0};
  int ncases = 0;
  for (int dim = 1; dim <= 3; dim++)
    for (int type = 1; type <= 2; type++)
      for (int sg = 0; sg < 2; sg++)
        for (int mo = 0; mo < 2; mo++)
          for (int pe = 0; pe < 3; pe++) {
            Case cs = {dim, type, sg ? -1 : 1, mo, pe == 2 ? LUCY_NUFFT_FLOAT : LUCY_NUFFT_DOUBLE,
                       pe == 2 ? 1e-5 : eps_d[pe]};
            const double err = run_case(&cs, rng, 1);
            if (err / cs.eps > worst[pe]) worst[pe] = err / cs.eps;
            ncases++;
            if (!(err <= 5 * cs.eps))
              g_error("%dD type %d isign %d modeord %d eps %g: rel l2 error %.3g > 5 eps", dim,
                      type, cs.isign, mo, cs.eps, err);
          }
  g_test_message("%d cases; worst error / eps: double 1e-6 %.3f, double 1e-12 %.3f, float 1e-5 "
                 "%.3f",
                 ncases, worst[0], worst[1], worst[2]);
  printf("# %d cases; worst error/eps: double 1e-6 %.3f, double 1e-12 %.3f, float 1e-5 %.3f\n",
         ncases, worst[0], worst[1], worst[2]);
  g_rand_free(rng);
}

/* <T1 c, f> = <c, T2 f> where T2 has the opposite sign (the adjoint of type 1). */
static void test_adjoint(void) {
  GRand *rng = g_rand_new_with_seed(7);
  for (int dim = 1; dim <= 3; dim++)
    for (int sg = -1; sg <= 1; sg += 2) {
      const int64_t *N = case_modes[dim - 1];
      const size_t Nt = ntot_of(N, dim), M = 2000;
      double *xyz[3] = {NULL, NULL, NULL};
      for (int a = 0; a < dim; a++) {
        xyz[a] = g_new(double, M);
        for (size_t j = 0; j < M; j++) xyz[a][j] = g_rand_double_range(rng, 0, 2 * G_PI);
      }
      double *c = g_new(double, 2 * M), *f = g_new(double, 2 * Nt);
      double *T1c = g_new(double, 2 * Nt), *T2f = g_new(double, 2 * M);
      for (size_t i = 0; i < 2 * M; i++) c[i] = g_rand_double_range(rng, -1, 1);
      for (size_t i = 0; i < 2 * Nt; i++) f[i] = g_rand_double_range(rng, -1, 1);
      LucyNufftPlan *p1 = make_plan(1, dim, N, sg, 1e-12, 0, LUCY_NUFFT_DOUBLE, 2);
      LucyNufftPlan *p2 = make_plan(2, dim, N, -sg, 1e-12, 0, LUCY_NUFFT_DOUBLE, 2);
      g_assert_cmpint(lucy_nufft_setpts(p1, M, xyz[0], xyz[1], xyz[2]), ==, LUCY_OK);
      g_assert_cmpint(lucy_nufft_setpts(p2, M, xyz[0], xyz[1], xyz[2]), ==, LUCY_OK);
      g_assert_cmpint(lucy_nufft_execute(p1, 1, c, T1c), ==, LUCY_OK);
      g_assert_cmpint(lucy_nufft_execute(p2, 1, f, T2f), ==, LUCY_OK);
      /* <a, b> = sum conj(a) b */
      double lr = 0, li = 0, rr = 0, ri = 0, na = 0, nb = 0;
      for (size_t k = 0; k < Nt; k++) {
        lr += T1c[2 * k] * f[2 * k] + T1c[2 * k + 1] * f[2 * k + 1];
        li += T1c[2 * k] * f[2 * k + 1] - T1c[2 * k + 1] * f[2 * k];
        na += T1c[2 * k] * T1c[2 * k] + T1c[2 * k + 1] * T1c[2 * k + 1];
      }
      for (size_t j = 0; j < M; j++) {
        rr += c[2 * j] * T2f[2 * j] + c[2 * j + 1] * T2f[2 * j + 1];
        ri += c[2 * j] * T2f[2 * j + 1] - c[2 * j + 1] * T2f[2 * j];
        nb += T2f[2 * j] * T2f[2 * j] + T2f[2 * j + 1] * T2f[2 * j + 1];
      }
      double fn = 0, cn = 0;
      for (size_t k = 0; k < 2 * Nt; k++) fn += f[k] * f[k];
      for (size_t j = 0; j < 2 * M; j++) cn += c[j] * c[j];
      const double scale = sqrt(na * fn) + sqrt(nb * cn);
      const double rel = hypot(lr - rr, li - ri) / scale;
      g_test_message("adjoint %dD isign %+d: |<T1c,f> - <c,T2f>| / scale = %.3g", dim, sg, rel);
      g_assert_cmpfloat(rel, <, 1e-11);
      lucy_nufft_plan_free(p1);
      lucy_nufft_plan_free(p2);
      for (int a = 0; a < 3; a++) g_free(xyz[a]);
      g_free(c);
      g_free(f);
      g_free(T1c);
      g_free(T2f);
    }
  g_rand_free(rng);
}

/* Points exactly on the N1 x N2 grid: type 1 (modeord 1, isign +1) is FFTW's backward DFT. */
static void test_grid_points_fft(void) {
  GRand *rng = g_rand_new_with_seed(8);
  const int64_t N[2] = {32, 20};
  const size_t M = (size_t)(N[0] * N[1]);
  double *x = g_new(double, M), *y = g_new(double, M), *c = g_new(double, 2 * M),
         *f = g_new(double, 2 * M);
  fftw_complex *a = fftw_malloc(sizeof(fftw_complex) * M);
  for (size_t l2 = 0; l2 < (size_t)N[1]; l2++)
    for (size_t l1 = 0; l1 < (size_t)N[0]; l1++) {
      const size_t j = l2 * (size_t)N[0] + l1;
      x[j] = 2 * G_PI * (double)l1 / (double)N[0];
      y[j] = 2 * G_PI * (double)l2 / (double)N[1];
      c[2 * j] = a[j][0] = g_rand_double_range(rng, -1, 1);
      c[2 * j + 1] = a[j][1] = g_rand_double_range(rng, -1, 1);
    }
  fftw_plan fp = fftw_plan_dft_2d((int)N[1], (int)N[0], a, a, FFTW_BACKWARD, FFTW_ESTIMATE);
  fftw_execute(fp);
  for (int pe = 0; pe < 2; pe++) {
    const double eps = pe ? 1e-12 : 1e-6;
    LucyNufftPlan *p = make_plan(1, 2, N, +1, eps, 1, LUCY_NUFFT_DOUBLE, 2);
    g_assert_cmpint(lucy_nufft_setpts(p, M, x, y, NULL), ==, LUCY_OK);
    g_assert_cmpint(lucy_nufft_execute(p, 1, c, f), ==, LUCY_OK);
    const double err = rel_l2(f, (const double *)a, 2 * M);
    g_test_message("grid points vs FFTW, eps %g: rel l2 err %.3g", eps, err);
    g_assert_cmpfloat(err, <=, 5 * eps);
    lucy_nufft_plan_free(p);
  }
  fftw_destroy_plan(fp);
  fftw_free(a);
  g_free(x);
  g_free(y);
  g_free(c);
  g_free(f);
  g_rand_free(rng);
}

/* A batch of 3 equals three single calls bit for bit, and 1 thread equals 2 threads. */
static void test_batch_and_threads(void) {
  GRand *rng = g_rand_new_with_seed(9);
  for (int dim = 1; dim <= 3; dim++)
    for (int type = 1; type <= 2; type++) {
      const int64_t N[3] = {dim == 1 ? 200 : 40, 36, 20};
      const size_t Nt = ntot_of(N, dim), M = 5000, B = 3;
      double *xyz[3] = {NULL, NULL, NULL};
      for (int a = 0; a < dim; a++) {
        xyz[a] = g_new(double, M);
        for (size_t j = 0; j < M; j++) xyz[a][j] = g_rand_double_range(rng, -G_PI, G_PI);
      }
      const size_t nin = type == 1 ? M : Nt, nout = type == 1 ? Nt : M;
      double *in = g_new(double, 2 * nin * B), *outb = g_new(double, 2 * nout * B),
             *out1 = g_new(double, 2 * nout * B), *outt = g_new(double, 2 * nout);
      for (size_t i = 0; i < 2 * nin * B; i++) in[i] = g_rand_double_range(rng, -1, 1);
      LucyNufftPlan *p = make_plan(type, dim, N, -1, 1e-9, 0, LUCY_NUFFT_DOUBLE, 2);
      LucyNufftPlan *q = make_plan(type, dim, N, -1, 1e-9, 0, LUCY_NUFFT_DOUBLE, 1);
      g_assert_cmpint(lucy_nufft_setpts(p, M, xyz[0], xyz[1], xyz[2]), ==, LUCY_OK);
      g_assert_cmpint(lucy_nufft_setpts(q, M, xyz[0], xyz[1], xyz[2]), ==, LUCY_OK);
      g_assert_cmpint(lucy_nufft_execute(p, B, in, outb), ==, LUCY_OK);
      for (size_t b = 0; b < B; b++)
        g_assert_cmpint(lucy_nufft_execute(p, 1, in + 2 * nin * b, out1 + 2 * nout * b), ==,
                        LUCY_OK);
      g_assert_cmpmem(outb, 2 * nout * B * sizeof(double), out1, 2 * nout * B * sizeof(double));
      g_assert_cmpint(lucy_nufft_execute(q, 1, in, outt), ==, LUCY_OK);
      g_assert_cmpmem(outt, 2 * nout * sizeof(double), out1, 2 * nout * sizeof(double));
      lucy_nufft_plan_free(p);
      lucy_nufft_plan_free(q);
      for (int a = 0; a < 3; a++) g_free(xyz[a]);
      g_free(in);
      g_free(outb);
      g_free(out1);
      g_free(outt);
    }
  g_rand_free(rng);
}

static void test_bad_input(void) {
  const int64_t N[3] = {16, 16, 16};
  LucyNufftPlan *p = NULL;
  LucyNufftOptions o;
  lucy_nufft_options_default(&o);
  o.threads = 2;
  /* modes <= 0, NULL, bad type/dim/isign/eps/modeord/upsampfac */
  const int64_t bad0[2] = {16, 0}, badneg[1] = {-4};
  g_assert_cmpint(lucy_nufft_plan_new(1, 2, bad0, 1, 1e-6, &o, &p), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(lucy_error_message(), "N2 = 0"));
  g_assert_cmpint(lucy_nufft_plan_new(1, 1, badneg, 1, 1e-6, &o, &p), ==,
                  LUCY_ERR_INVALID_ARGUMENT);
  g_assert_nonnull(strstr(lucy_error_message(), "-4"));
  g_assert_cmpint(lucy_nufft_plan_new(1, 1, NULL, 1, 1e-6, &o, &p), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_cmpint(lucy_nufft_plan_new(3, 1, N, 1, 1e-6, &o, &p), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_cmpint(lucy_nufft_plan_new(1, 4, N, 1, 1e-6, &o, &p), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_cmpint(lucy_nufft_plan_new(1, 1, N, 0, 1e-6, &o, &p), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_cmpint(lucy_nufft_plan_new(1, 1, N, 1, 0.0, &o, &p), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_cmpint(lucy_nufft_plan_new(1, 1, N, 1, NAN, &o, &p), ==, LUCY_ERR_INVALID_ARGUMENT);
  o.modeord = 2;
  g_assert_cmpint(lucy_nufft_plan_new(1, 1, N, 1, 1e-6, &o, &p), ==, LUCY_ERR_INVALID_ARGUMENT);
  o.modeord = 0;
  o.upsampfac = 0.9;
  g_assert_cmpint(lucy_nufft_plan_new(1, 1, N, 1, 1e-6, &o, &p), ==, LUCY_ERR_INVALID_ARGUMENT);
  o.upsampfac = 0;
  g_assert_null(p);

  /* eps below the precision: warn and clamp (float to FLT_EPSILON, double to DBL_EPSILON) */
  o.precision = LUCY_NUFFT_FLOAT;
  g_assert_cmpint(lucy_nufft_plan_new(1, 2, N, 1, 1e-10, &o, &p), ==, LUCY_OK);
  g_assert_cmpuint(lucy_nufft_plan_warnings(p), ==, LUCY_NUFFT_WARN_EPS_CLAMPED);
  g_assert_cmpfloat(lucy_nufft_plan_eps(p), ==, (double)FLT_EPSILON);
  g_assert_nonnull(strstr(lucy_nufft_plan_warning_text(p), "1e-10"));
  g_test_message("float eps 1e-10: %s (w=%d)", lucy_nufft_plan_warning_text(p),
                 lucy_nufft_plan_kernel_width(p));
  /* double entry points on a float plan */
  double xd[1] = {0}, cd[2] = {1, 0}, fd[512];
  g_assert_cmpint(lucy_nufft_setpts(p, 1, xd, xd, NULL), ==, LUCY_ERR_INVALID_ARGUMENT);
  lucy_nufft_plan_free(p);
  o.precision = LUCY_NUFFT_DOUBLE;
  g_assert_cmpint(lucy_nufft_plan_new(2, 1, N, 1, 1e-20, &o, &p), ==, LUCY_OK);
  g_assert_cmpuint(lucy_nufft_plan_warnings(p), ==, LUCY_NUFFT_WARN_EPS_CLAMPED);
  g_assert_cmpint(lucy_nufft_plan_kernel_width(p), ==, 16);
  g_test_message("double eps 1e-20: %s", lucy_nufft_plan_warning_text(p));
  lucy_nufft_plan_free(p);
  g_assert_cmpint(lucy_nufft_plan_new(2, 1, N, 1, 1e-6, &o, &p), ==, LUCY_OK);
  g_assert_cmpuint(lucy_nufft_plan_warnings(p), ==, 0);
  g_assert_cmpstr(lucy_nufft_plan_warning_text(p), ==, "");
  lucy_nufft_plan_free(p);

  /* NaN / Inf coordinates; execute before setpts */
  g_assert_cmpint(lucy_nufft_plan_new(1, 2, N, 1, 1e-6, &o, &p), ==, LUCY_OK);
  g_assert_cmpint(lucy_nufft_execute(p, 1, cd, fd), ==, LUCY_ERR_INVALID_ARGUMENT);
  double x[4] = {0, 1, 2, 3}, y[4] = {0, 1, NAN, 3};
  g_assert_cmpint(lucy_nufft_setpts(p, 4, x, y, NULL), ==, LUCY_ERR_NUMERIC);
  g_assert_nonnull(strstr(lucy_error_message(), "point 2"));
  y[2] = 2;
  x[3] = INFINITY;
  g_assert_cmpint(lucy_nufft_setpts(p, 4, x, y, NULL), ==, LUCY_ERR_NUMERIC);
  g_assert_nonnull(strstr(lucy_error_message(), "point 3"));
  g_assert_cmpint(lucy_nufft_execute(p, 1, cd, fd), ==, LUCY_ERR_INVALID_ARGUMENT);
  g_assert_cmpint(lucy_nufft_setpts(p, 4, x, NULL, NULL), ==, LUCY_ERR_INVALID_ARGUMENT);
  /* empty point set: type 1 gives zeros */
  g_assert_cmpint(lucy_nufft_setpts(p, 0, NULL, NULL, NULL), ==, LUCY_OK);
  for (int i = 0; i < 512; i++) fd[i] = 7;
  g_assert_cmpint(lucy_nufft_execute(p, 1, NULL, fd), ==, LUCY_OK);
  for (int i = 0; i < 512; i++) g_assert_cmpfloat(fd[i], ==, 0.0);
  lucy_nufft_plan_free(p);
  g_assert_cmpint(lucy_nufft_plan_new(2, 2, N, 1, 1e-6, &o, &p), ==, LUCY_OK);
  g_assert_cmpint(lucy_nufft_setpts(p, 0, NULL, NULL, NULL), ==, LUCY_OK);
  g_assert_cmpint(lucy_nufft_execute(p, 1, fd, NULL), ==, LUCY_OK);
  lucy_nufft_plan_free(p);
}

/* FINUFFT's parameter choices: widths and fine grids. */
static void test_parameters(void) {
  const int64_t N[2] = {512, 512};
  LucyNufftPlan *p = make_plan(1, 2, N, 1, 1e-6, 0, LUCY_NUFFT_DOUBLE, 1);
  size_t nf[3];
  lucy_nufft_plan_fine_shape(p, nf);
  g_assert_cmpint(lucy_nufft_plan_kernel_width(p), ==, 7);
  g_assert_cmpfloat(fabs(lucy_nufft_plan_kernel_beta(p) - 2.30 * 7), <, 1e-12);
  g_assert_cmpuint(nf[0], ==, 1024);
  g_assert_cmpuint(nf[1], ==, 1024);
  g_assert_cmpuint(nf[2], ==, 1);
  lucy_nufft_plan_free(p);
  p = make_plan(1, 2, N, 1, 1e-12, 0, LUCY_NUFFT_DOUBLE, 1);
  g_assert_cmpint(lucy_nufft_plan_kernel_width(p), ==, 13);
  lucy_nufft_plan_free(p);
  LucyNufftOptions o;
  lucy_nufft_options_default(&o);
  o.upsampfac = 1.25;
  const int64_t N1[1] = {1000};
  g_assert_cmpint(lucy_nufft_plan_new(1, 1, N1, 1, 1e-6, &o, &p), ==, LUCY_OK);
  lucy_nufft_plan_fine_shape(p, nf);
  g_assert_cmpuint(nf[0] % 2, ==, 0);
  g_assert_cmpuint(nf[0], >=, 1250);
  g_test_message("sigma 1.25, eps 1e-6: w=%d beta=%.3f nf=%zu", lucy_nufft_plan_kernel_width(p),
                 lucy_nufft_plan_kernel_beta(p), nf[0]);
  lucy_nufft_plan_free(p);
}

/* sigma = 1.25 meets the tolerance too (1-D to 3-D, both types). */
static void test_upsampfac_125(void) {
  GRand *rng = g_rand_new_with_seed(10);
  for (int dim = 1; dim <= 3; dim++)
    for (int type = 1; type <= 2; type++) {
      const int64_t *N = case_modes[dim - 1];
      const size_t Nt = ntot_of(N, dim), M = 600;
      double *xyz[3] = {NULL, NULL, NULL};
      for (int a = 0; a < dim; a++) {
        xyz[a] = g_new(double, M);
        for (size_t j = 0; j < M; j++) xyz[a][j] = g_rand_double_range(rng, -G_PI, G_PI);
      }
      const size_t nin = type == 1 ? M : Nt, nout = type == 1 ? Nt : M;
      double *in = g_new(double, 2 * nin), *out = g_new(double, 2 * nout),
             *ref = g_new(double, 2 * nout);
      for (size_t i = 0; i < 2 * nin; i++) in[i] = g_rand_double_range(rng, -1, 1);
      direct(type, dim, N, 1, 0, M, (const double *const *)xyz, in, ref);
      LucyNufftOptions o;
      lucy_nufft_options_default(&o);
      o.upsampfac = 1.25;
      o.threads = 2;
      for (int e = 0; e < 2; e++) {
        const double eps = e ? 1e-9 : 1e-5;
        LucyNufftPlan *p = NULL;
        g_assert_cmpint(lucy_nufft_plan_new(type, dim, N, 1, eps, &o, &p), ==, LUCY_OK);
        g_assert_cmpint(lucy_nufft_setpts(p, M, xyz[0], xyz[1], xyz[2]), ==, LUCY_OK);
        g_assert_cmpint(lucy_nufft_execute(p, 1, in, out), ==, LUCY_OK);
        const double err = rel_l2(out, ref, 2 * nout);
        g_test_message("sigma 1.25 %dD type %d eps %g: w=%d err %.3g", dim, type, eps,
                       lucy_nufft_plan_kernel_width(p), err);
        g_assert_cmpfloat(err, <=, 5 * eps);
        lucy_nufft_plan_free(p);
      }
      for (int a = 0; a < 3; a++) g_free(xyz[a]);
      g_free(in);
      g_free(out);
      g_free(ref);
    }
  g_rand_free(rng);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/nufft/accuracy", test_accuracy);
  g_test_add_func("/nufft/adjoint", test_adjoint);
  g_test_add_func("/nufft/grid-points-fft", test_grid_points_fft);
  g_test_add_func("/nufft/batch-and-threads", test_batch_and_threads);
  g_test_add_func("/nufft/bad-input", test_bad_input);
  g_test_add_func("/nufft/parameters", test_parameters);
  g_test_add_func("/nufft/upsampfac-1.25", test_upsampfac_125);
  return g_test_run();
}
