/* Point clouds: NUFFT convolution (points -> type 1 -> times the kernel's DFT -> type 2 or an
 * inverse FFT), the direct Gaussian sums that check it, and least-squares kernel fitting by
 * CGLS. See lucy/points.h for the definitions. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "device-impl.h"
#include "lucy/nufft.h"
#include "lucy/points.h"
#include "status-private.h"

#ifndef M_PI
#define M_PI 3.14159265358979323846
#endif

/* ---- geometry helpers ----------------------------------------------------------------------- */

typedef struct Geom {
  int dim;
  size_t N[3]; /* x, y, z (NUFFT order); 1 on unused axes */
  size_t ntot;
  double L[3]; /* x, y, z periods */
} Geom;

static LucyStatus geom_init(Geom *g, const size_t shape[3], const double period[3]) {
  for (int a = 0; a < 3; a++)
    if (shape[a] == 0 || shape[a] > (1u << 20))
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                        "point grid %zux%zux%zu: every extent must be 1 to %u", shape[0],
                        shape[1], shape[2], 1u << 20);
  for (int a = 0; a < 3; a++)
    if (!(period[a] > 0.0) || !isfinite(period[a]))
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "point box period %g on axis %c: must be > 0",
                        period[a], "zyx"[a]);
  g->dim = shape[0] > 1 ? 3 : (shape[1] > 1 ? 2 : 1);
  g->ntot = 1;
  for (int a = 0; a < 3; a++) {
    g->N[a] = shape[2 - a];
    g->L[a] = period[2 - a];
    g->ntot *= g->N[a];
  }
  if ((double)g->ntot > 1e9)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "point grid of %zu voxels is too large",
                      g->ntot);
  return LUCY_OK;
}

static LucyStatus check_cloud(const Geom *g, const LucyPointCloud *pc, const char *what) {
  if (!pc) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "%s: no point cloud", what);
  if (pc->count == 0) return LUCY_OK;
  const double *c[3] = {pc->x, pc->y, pc->z};
  for (int a = 0; a < g->dim; a++)
    if (!c[a])
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                        "%s: the %c coordinates are missing (%dD grid)", what, "xyz"[a], g->dim);
  return LUCY_OK;
}

/* coordinates scaled to radians, in newly allocated arrays */
static LucyStatus to_radians(const Geom *g, size_t M, const double *const src[3],
                             double *dst[3]) {
  for (int a = 0; a < 3; a++) dst[a] = NULL;
  for (int a = 0; a < g->dim; a++) {
    dst[a] = malloc((M ? M : 1) * sizeof(double));
    if (!dst[a]) {
      for (int b = 0; b < a; b++) free(dst[b]);
      return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory scaling %zu points", M);
    }
    const double s = 2.0 * M_PI / g->L[a];
    for (size_t j = 0; j < M; j++) dst[a][j] = src[a][j] * s;
  }
  return LUCY_OK;
}

/* index of signed mode (k1, k2, k3) in an FFT-ordered grid array, x fastest */
static size_t fft_pos(const Geom *g, long k1, long k2, long k3) {
  const size_t f1 = k1 >= 0 ? (size_t)k1 : (size_t)(k1 + (long)g->N[0]);
  const size_t f2 = k2 >= 0 ? (size_t)k2 : (size_t)(k2 + (long)g->N[1]);
  const size_t f3 = k3 >= 0 ? (size_t)k3 : (size_t)(k3 + (long)g->N[2]);
  return (f3 * g->N[1] + f2) * g->N[0] + f1;
}

/* position i of a mode-order-0 array -> its FFT-ordered index */
static size_t mode_to_fft(const Geom *g, size_t i) {
  const size_t i1 = i % g->N[0], i2 = (i / g->N[0]) % g->N[1], i3 = i / (g->N[0] * g->N[1]);
  return fft_pos(g, (long)i1 - (long)(g->N[0] / 2), (long)i2 - (long)(g->N[1] / 2),
                 (long)i3 - (long)(g->N[2] / 2));
}

/* A c2c transform of an ntot-complex double array, in place through dev (sign +-1). */
static LucyStatus grid_fft(LucyDevice *dev, const Geom *g, int sign, double *host) {
  size_t shape[3];
  for (int a = 0; a < g->dim; a++) shape[a] = g->N[g->dim - 1 - a];
  LucyCfftPlan *p = NULL;
  float *buf = NULL;
  const size_t bytes = 2 * g->ntot * sizeof(double);
  LucyStatus st = dev->ops->cfft_plan(dev, g->dim, shape, sign, 1, &p);
  if (!st) st = lucy__dev_alloc(dev, bytes, &buf);
  if (!st)
    st = dev->ops->upload(dev, buf, (const float *)(const void *)host, bytes / sizeof(float));
  if (!st) st = dev->ops->cfft_execute(dev, p, buf);
  if (!st) st = dev->ops->download(dev, (float *)(void *)host, buf, bytes / sizeof(float));
  lucy__dev_release(dev, buf);
  if (p) dev->ops->cfft_plan_free(dev, p);
  return st;
}

static LucyStatus make_device(LucyDevice *given, int threads, LucyDevice **out) {
  if (given) {
    if (lucy_device_kind(given) != LUCY_DEVICE_CPU)
      return lucy__fail(LUCY_ERR_UNSUPPORTED,
                        "point-cloud convolution runs on the CPU only so far");
    *out = lucy_device_ref(given);
    return LUCY_OK;
  }
  LucyDeviceOptions d;
  lucy_device_options_default(&d);
  d.threads = threads;
  return lucy_device_new(&d, out);
}

static LucyStatus nufft_pair(const Geom *g, double eps, LucyDevice *dev, LucyNufftPlan **t1,
                             LucyNufftPlan **t2) {
  LucyNufftOptions o;
  lucy_nufft_options_default(&o);
  o.device = dev;
  const int64_t modes[3] = {(int64_t)g->N[0], (int64_t)g->N[1], (int64_t)g->N[2]};
  LucyStatus st = lucy_nufft_plan_new(1, g->dim, modes, -1, eps, &o, t1);
  if (!st) st = lucy_nufft_plan_new(2, g->dim, modes, +1, eps, &o, t2);
  return st;
}

/* ---- the kernel's DFT ------------------------------------------------------------------------ */

static LucyStatus kernel_hat(const Geom *g, const LucyPointKernel *k, LucyDevice *dev,
                             double *khat) {
  if (k->kind == LUCY_POINT_KERNEL_GAUSSIAN) {
    /* separable: per axis sum_m exp(-(h m)^2 / 2 sigma^2) cos(2 pi k m / N), m = -N//2.. */
    double *ax[3] = {NULL, NULL, NULL};
    for (int a = 0; a < 3; a++) {
      const size_t N = g->N[a];
      ax[a] = calloc(N, sizeof(double));
      if (!ax[a]) {
        for (int b = 0; b < a; b++) free(ax[b]);
        return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory for the kernel's DFT");
      }
      if (a >= g->dim) {
        ax[a][0] = 1.0;
        continue;
      }
      const double sigma = k->sigma[2 - a], h = g->L[a] / (double)N;
      for (size_t i = 0; i < N; i++) {
        const long kk = (long)i - (long)(N / 2);
        double s = 0.0;
        for (long m = -(long)(N / 2); m < (long)N - (long)(N / 2); m++) {
          const double d = h * (double)m;
          long km = (kk * m) % (long)N;
          s += exp(-d * d / (2.0 * sigma * sigma)) * cos(2.0 * M_PI * (double)km / (double)N);
        }
        ax[a][i] = s;
      }
    }
    for (size_t i = 0; i < g->ntot; i++) {
      const size_t i1 = i % g->N[0], i2 = (i / g->N[0]) % g->N[1], i3 = i / (g->N[0] * g->N[1]);
      khat[2 * i] = ax[0][i1] * ax[1][i2] * ax[2][i3];
      khat[2 * i + 1] = 0.0;
    }
    for (int a = 0; a < 3; a++) free(ax[a]);
    return LUCY_OK;
  }
  /* a kernel on the grid: origin M//2 -> index 0, DFT with sign -1 */
  const LucyVolume *v = k->grid;
  double *buf = calloc(2 * g->ntot, sizeof(double));
  if (!buf) return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory for the kernel's DFT");
  const size_t *M = v->shape; /* z, y, x */
  for (size_t z = 0; z < M[0]; z++)
    for (size_t y = 0; y < M[1]; y++)
      for (size_t x = 0; x < M[2]; x++) {
        const size_t pos = fft_pos(g, (long)x - (long)(M[2] / 2), (long)y - (long)(M[1] / 2),
                                   (long)z - (long)(M[0] / 2));
        buf[2 * pos] += v->data[(z * M[1] + y) * M[2] + x];
      }
  LucyStatus st = grid_fft(dev, g, -1, buf);
  if (!st)
    for (size_t i = 0; i < g->ntot; i++) {
      const size_t pos = mode_to_fft(g, i);
      khat[2 * i] = buf[2 * pos];
      khat[2 * i + 1] = buf[2 * pos + 1];
    }
  free(buf);
  return st;
}

/* ---- convolution ---------------------------------------------------------------------------- */

struct LucyPointConvPlan {
  Geom g;
  LucyDevice *dev;
  LucyNufftPlan *t1, *t2;
  double *khat; /* 2 ntot, mode order 0 */
  double *f;    /* 2 ntot work */
};

void lucy_points_options_default(LucyPointsOptions *opts) {
  if (!opts) return;
  memset(opts, 0, sizeof *opts);
  for (int a = 0; a < 3; a++) opts->period[a] = 2.0 * M_PI;
  opts->eps = 1e-9;
}

LucyStatus lucy_point_conv_plan_new(const size_t shape[3], const LucyPointKernel *kernel,
                                    const LucyPointsOptions *opts, LucyPointConvPlan **out) {
  if (!out || !shape || !kernel)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_point_conv_plan_new: NULL argument");
  *out = NULL;
  LucyPointsOptions o;
  if (opts)
    o = *opts;
  else
    lucy_points_options_default(&o);
  Geom g;
  LucyStatus st = geom_init(&g, shape, o.period);
  if (st) return st;
  if (kernel->kind == LUCY_POINT_KERNEL_GAUSSIAN) {
    for (int a = 3 - g.dim; a < 3; a++)
      if (!(kernel->sigma[a] > 0.0) || !isfinite(kernel->sigma[a]))
        return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                          "Gaussian kernel sigma %g on axis %c: must be > 0", kernel->sigma[a],
                          "zyx"[a]);
  } else if (kernel->kind == LUCY_POINT_KERNEL_GRID) {
    const LucyVolume *v = kernel->grid;
    if (!v || !v->data) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "grid kernel is missing");
    for (int a = 0; a < 3; a++)
      if (v->shape[a] > shape[a])
        return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                          "kernel %zux%zux%zu is larger than the grid %zux%zux%zu", v->shape[0],
                          v->shape[1], v->shape[2], shape[0], shape[1], shape[2]);
    const size_t n = v->shape[0] * v->shape[1] * v->shape[2];
    for (size_t i = 0; i < n; i++)
      if (!isfinite(v->data[i]))
        return lucy__fail(LUCY_ERR_NUMERIC, "kernel voxel %zu is not finite", i);
  } else {
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "unknown point kernel kind %d",
                      (int)kernel->kind);
  }
  LucyPointConvPlan *p = calloc(1, sizeof *p);
  if (!p) return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory creating a point plan");
  p->g = g;
  p->khat = malloc(2 * g.ntot * sizeof(double));
  p->f = malloc(2 * g.ntot * sizeof(double));
  if (!p->khat || !p->f) {
    lucy_point_conv_plan_free(p);
    return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory creating a point plan");
  }
  if ((st = make_device(o.device, o.threads, &p->dev)) ||
      (st = kernel_hat(&g, kernel, p->dev, p->khat)) ||
      (st = nufft_pair(&g, o.eps, p->dev, &p->t1, &p->t2))) {
    lucy_point_conv_plan_free(p);
    return st;
  }
  *out = p;
  return LUCY_OK;
}

const double *lucy_point_conv_kernel_hat(const LucyPointConvPlan *p) {
  return p ? p->khat : NULL;
}

LucyStatus lucy_point_conv_execute(LucyPointConvPlan *p, const LucyPointCloud *pts,
                                   double *values, float *image) {
  if (!p) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_point_conv_execute: plan is NULL");
  LucyStatus st = check_cloud(&p->g, pts, "point convolution");
  if (st) return st;
  const Geom *g = &p->g;
  const size_t M = pts->count;
  const double *src[3] = {pts->x, pts->y, pts->z};
  double *xyz[3];
  if ((st = to_radians(g, M, src, xyz))) return st;
  double *c = malloc(2 * (M ? M : 1) * sizeof(double));
  double *buf = image ? malloc(2 * g->ntot * sizeof(double)) : NULL;
  if (!c || (image && !buf)) {
    st = lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory convolving %zu points", M);
    goto done;
  }
  for (size_t j = 0; j < M; j++) {
    c[2 * j] = pts->w ? pts->w[j] : 1.0;
    c[2 * j + 1] = 0.0;
  }
  if ((st = lucy_nufft_setpts(p->t1, M, xyz[0], xyz[1], xyz[2])) ||
      (st = lucy_nufft_execute(p->t1, 1, c, p->f)))
    goto done;
  const double inv = 1.0 / (double)g->ntot;
  for (size_t i = 0; i < g->ntot; i++) {
    const double fr = p->f[2 * i], fi = p->f[2 * i + 1];
    const double kr = p->khat[2 * i], ki = p->khat[2 * i + 1];
    p->f[2 * i] = inv * (fr * kr - fi * ki);
    p->f[2 * i + 1] = inv * (fr * ki + fi * kr);
  }
  if (values) {
    if ((st = lucy_nufft_setpts(p->t2, M, xyz[0], xyz[1], xyz[2])) ||
        (st = lucy_nufft_execute(p->t2, 1, p->f, c)))
      goto done;
    for (size_t j = 0; j < M; j++) values[j] = c[2 * j];
  }
  if (image) {
    for (size_t i = 0; i < g->ntot; i++) {
      const size_t pos = mode_to_fft(g, i);
      buf[2 * pos] = p->f[2 * i];
      buf[2 * pos + 1] = p->f[2 * i + 1];
    }
    if ((st = grid_fft(p->dev, g, +1, buf))) goto done;
    for (size_t i = 0; i < g->ntot; i++) image[i] = (float)buf[2 * i];
  }
done:
  for (int a = 0; a < 3; a++) free(xyz[a]);
  free(c);
  free(buf);
  return st;
}

void lucy_point_conv_plan_free(LucyPointConvPlan *p) {
  if (!p) return;
  lucy_nufft_plan_free(p->t1);
  lucy_nufft_plan_free(p->t2);
  if (p->dev) lucy_device_unref(p->dev);
  free(p->khat);
  free(p->f);
  free(p);
}

/* ---- direct sums ---------------------------------------------------------------------------- */

static double gauss_axis(double d, double sigma, double L, int periodic) {
  const double s2 = 2.0 * sigma * sigma;
  if (!periodic) return exp(-d * d / s2);
  d -= L * floor(d / L + 0.5); /* nearest image, then every image within 40 sigma */
  const long R = (long)ceil(40.0 * sigma / L) + 1;
  double s = 0.0;
  for (long n = -R; n <= R; n++) {
    const double e = d + (double)n * L;
    s += exp(-e * e / s2);
  }
  return s;
}

LucyStatus lucy_points_direct_gaussian(const size_t shape[3], const LucyPointCloud *src,
                                       const LucyPointCloud *targets, const double sigma[3],
                                       const double period[3], int periodic, double *out) {
  Geom g;
  LucyStatus st = geom_init(&g, shape, period);
  if (st || (st = check_cloud(&g, src, "direct sum")) ||
      (st = check_cloud(&g, targets, "direct sum targets")))
    return st;
  if (targets->count && !out)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "direct sum: out is NULL");
  for (int a = 0; a < g.dim; a++)
    if (!(sigma[2 - a] > 0.0))
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "direct sum: sigma %g on axis %c",
                        sigma[2 - a], "xyz"[a]);
  const double *s[3] = {src->x, src->y, src->z}, *t[3] = {targets->x, targets->y, targets->z};
  const long T = (long)targets->count;
#ifdef _OPENMP
#pragma omp parallel for schedule(dynamic, 16)
#endif
  for (long i = 0; i < T; i++) {
    double acc = 0.0;
    for (size_t j = 0; j < src->count; j++) {
      double v = src->w ? src->w[j] : 1.0;
      for (int a = 0; a < g.dim; a++)
        v *= gauss_axis(t[a][i] - s[a][j], sigma[2 - a], g.L[a], periodic);
      acc += v;
    }
    out[i] = acc;
  }
  return LUCY_OK;
}

/* ---- kernel fitting ------------------------------------------------------------------------- */

void lucy_point_fit_options_default(LucyPointFitOptions *opts) {
  if (!opts) return;
  memset(opts, 0, sizeof *opts);
  for (int a = 0; a < 3; a++) opts->period[a] = 2.0 * M_PI;
  opts->eps = 1e-9;
  opts->tikhonov = 0.0;
  opts->max_iter = 200;
  opts->tol = 1e-10;
}

void lucy_point_fit_result_clear(LucyPointFitResult *r) {
  if (!r) return;
  free(r->loss);
  free(r->kernel_hat);
  lucy_volume_free(r->kernel);
  memset(r, 0, sizeof *r);
}

typedef struct SetIdx {
  size_t set, idx;
} SetIdx;

static int cmp_setidx(const void *a, const void *b) {
  const SetIdx *x = a, *y = b;
  if (x->set != y->set) return x->set < y->set ? -1 : 1;
  return x->idx < y->idx ? -1 : (x->idx > y->idx);
}

typedef struct FitOp {
  const Geom *g;
  LucyNufftPlan *t1, *t2;
  size_t nobs;
  const size_t *row_off; /* nobs + 1 offsets into the pair arrays */
  const double *dw;      /* pair weights w_j */
  double *tmp;           /* 2 * pairs */
} FitOp;

/* q = A p: predictions (1/N) sum_j w_j Ktilde(x_i - x_j) for every observation i */
static LucyStatus op_apply(FitOp *op, const double *p, double *q) {
  LucyStatus st = lucy_nufft_execute(op->t2, 1, p, op->tmp);
  if (st) return st;
  const double inv = 1.0 / (double)op->g->ntot;
  for (size_t r = 0; r < op->nobs; r++) {
    double sr = 0, si = 0;
    for (size_t e = op->row_off[r]; e < op->row_off[r + 1]; e++) {
      sr += op->dw[e] * op->tmp[2 * e];
      si += op->dw[e] * op->tmp[2 * e + 1];
    }
    q[2 * r] = inv * sr;
    q[2 * r + 1] = inv * si;
  }
  return LUCY_OK;
}

/* s = A^H r */
static LucyStatus op_adjoint(FitOp *op, const double *r, double *s) {
  const double inv = 1.0 / (double)op->g->ntot;
  for (size_t o = 0; o < op->nobs; o++)
    for (size_t e = op->row_off[o]; e < op->row_off[o + 1]; e++) {
      op->tmp[2 * e] = inv * op->dw[e] * r[2 * o];
      op->tmp[2 * e + 1] = inv * op->dw[e] * r[2 * o + 1];
    }
  return lucy_nufft_execute(op->t1, 1, op->tmp, s);
}

static double norm2(const double *v, size_t n) {
  double s = 0;
  for (size_t i = 0; i < 2 * n; i++) s += v[i] * v[i];
  return s;
}

LucyStatus lucy_points_fit_kernel(const size_t shape[3], size_t count, const size_t *set,
                                  const double *x, const double *y, const double *z,
                                  const double *w, const double *value,
                                  const LucyPointFitOptions *opts, LucyPointFitResult *out) {
  if (!out || !shape) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "kernel fit: NULL argument");
  memset(out, 0, sizeof *out);
  LucyPointFitOptions o;
  if (opts)
    o = *opts;
  else
    lucy_point_fit_options_default(&o);
  Geom g;
  LucyStatus st = geom_init(&g, shape, o.period);
  if (st) return st;
  if (count == 0) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "kernel fit: no observations");
  if (!set || !value || !x || (g.dim > 1 && !y) || (g.dim > 2 && !z))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "kernel fit: set, coordinates (%dD) and values are required", g.dim);
  if (o.max_iter < 1 || !(o.tikhonov >= 0.0) || !(o.tol >= 0.0))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "kernel fit: max_iter %d, tikhonov %g and tol %g must be >= 1, >= 0, >= 0",
                      o.max_iter, o.tikhonov, o.tol);
  const double *c[3] = {x, y, z};
  for (size_t i = 0; i < count; i++) {
    int bad = !isfinite(value[i]) || (w && !isfinite(w[i]));
    for (int a = 0; a < g.dim; a++) bad = bad || !isfinite(c[a][i]);
    if (bad)
      return lucy__fail(LUCY_ERR_NUMERIC,
                        "kernel fit: observation %zu has a non-finite coordinate, weight or value",
                        i);
  }
  SetIdx *order = malloc(count * sizeof *order);
  size_t *row_off = malloc((count + 1) * sizeof *row_off);
  if (!order || !row_off) {
    free(order);
    free(row_off);
    return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "kernel fit: out of memory");
  }
  for (size_t i = 0; i < count; i++) order[i] = (SetIdx){set[i], i};
  qsort(order, count, sizeof *order, cmp_setidx);
  double D = 0;
  for (size_t a = 0; a < count;) {
    size_t b = a;
    while (b < count && order[b].set == order[a].set) b++;
    D += (double)(b - a) * (double)(b - a);
    a = b;
  }
  if (D > 4e8) {
    free(order);
    free(row_off);
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "kernel fit: %.3g within-set pairs are too many (use smaller sets)", D);
  }
  /* the fitted modes: the band (odd sizes 2K + 1, symmetric) or the whole grid */
  Geom gb = g;
  gb.ntot = 1;
  for (int a = 0; a < 3; a++) {
    const size_t K = o.band[2 - a];
    if (a < g.dim && K > 0 && 2 * K + 1 < g.N[a]) gb.N[a] = 2 * K + 1;
    gb.ntot *= gb.N[a];
  }
  const size_t nD = (size_t)D, Nt = gb.ntot, nobs = count;
  double *dxyz[3] = {NULL, NULL, NULL}, *dw = malloc(nD * sizeof(double));
  for (int a = 0; a < g.dim; a++) dxyz[a] = malloc(nD * sizeof(double));
  double *tmp = malloc(2 * nD * sizeof(double));
  double *xk = calloc(2 * Nt, sizeof(double)), *s = malloc(2 * Nt * sizeof(double)),
         *pv = malloc(2 * Nt * sizeof(double));
  double *r = malloc(2 * nobs * sizeof(double)), *q = malloc(2 * nobs * sizeof(double));
  double *loss = malloc(((size_t)o.max_iter + 1) * sizeof(double));
  LucyDevice *dev = NULL;
  LucyNufftPlan *t1 = NULL, *t2 = NULL;
  int ok = dw && tmp && xk && s && pv && r && q && loss;
  for (int a = 0; a < g.dim; a++) ok = ok && dxyz[a];
  if (!ok) {
    st = lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "kernel fit: out of memory for %zu pairs", nD);
    goto done;
  }
  {
    /* pairs (i, j) of each set, row-major by observation i in sorted order */
    size_t e = 0, row = 0;
    for (size_t a = 0; a < count;) {
      size_t b = a;
      while (b < count && order[b].set == order[a].set) b++;
      for (size_t i = a; i < b; i++, row++) {
        row_off[row] = e;
        const size_t ii = order[i].idx;
        for (size_t j = a; j < b; j++, e++) {
          const size_t jj = order[j].idx;
          for (int ax = 0; ax < g.dim; ax++)
            dxyz[ax][e] = (c[ax][ii] - c[ax][jj]) * (2.0 * M_PI / g.L[ax]);
          dw[e] = w ? w[jj] : 1.0;
        }
        r[2 * row] = value[ii];
        r[2 * row + 1] = 0.0;
      }
      a = b;
    }
    row_off[nobs] = e;
  }
  if ((st = make_device(o.device, o.threads, &dev)) ||
      (st = nufft_pair(&gb, o.eps, dev, &t1, &t2)) ||
      (st = lucy_nufft_setpts(t1, nD, dxyz[0], dxyz[1], dxyz[2])) ||
      (st = lucy_nufft_setpts(t2, nD, dxyz[0], dxyz[1], dxyz[2])))
    goto done;
  FitOp op = {&g, t1, t2, nobs, row_off, dw, tmp};
  /* CGLS for min ||A x - b||^2 + lam ||x||^2: x = 0, r = b, s = A^H r, p = s */
  const double lam = o.tikhonov;
  loss[0] = norm2(r, nobs) / (double)nobs;
  if ((st = op_adjoint(&op, r, s))) goto done;
  memcpy(pv, s, 2 * Nt * sizeof(double));
  double gamma = norm2(s, Nt);
  const double gamma0 = gamma;
  size_t it = 0;
  while (it < (size_t)o.max_iter && gamma > 0 && sqrt(gamma) > o.tol * sqrt(gamma0)) {
    if ((st = op_apply(&op, pv, q))) goto done;
    const double delta = norm2(q, nobs) + lam * norm2(pv, Nt);
    if (!(delta > 0)) break;
    const double alpha = gamma / delta;
    for (size_t i = 0; i < 2 * Nt; i++) xk[i] += alpha * pv[i];
    for (size_t i = 0; i < 2 * nobs; i++) r[i] -= alpha * q[i];
    if ((st = op_adjoint(&op, r, s))) goto done;
    for (size_t i = 0; i < 2 * Nt; i++) s[i] -= lam * xk[i];
    const double gnew = norm2(s, Nt);
    const double beta = gnew / gamma;
    for (size_t i = 0; i < 2 * Nt; i++) pv[i] = s[i] + beta * pv[i];
    gamma = gnew;
    it++;
    loss[it] = norm2(r, nobs) / (double)nobs;
    if (o.progress && o.progress(o.progress_user, (double)it / o.max_iter, "fit")) {
      st = lucy__fail(LUCY_ERR_CANCELLED, "kernel fit cancelled after %zu iterations", it);
      goto done;
    }
  }
  {
    /* Khat on the whole grid (zero outside the band), then the real-space kernel: inverse
       DFT / N, voxel index = offset + N//2 */
    const size_t Nfull = g.ntot;
    double *full = calloc(2 * Nfull, sizeof(double));
    double *buf = calloc(2 * Nfull, sizeof(double));
    LucyVolume *vol = NULL;
    if (!full || !buf || (st = lucy_volume_new(shape, &vol))) {
      free(buf);
      free(full);
      if (!st) st = lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "kernel fit: out of memory");
      goto done;
    }
    for (size_t i = 0; i < Nt; i++) {
      const size_t i1 = i % gb.N[0], i2 = (i / gb.N[0]) % gb.N[1], i3 = i / (gb.N[0] * gb.N[1]);
      const size_t j1 = i1 - gb.N[0] / 2 + g.N[0] / 2, j2 = i2 - gb.N[1] / 2 + g.N[1] / 2,
                   j3 = i3 - gb.N[2] / 2 + g.N[2] / 2;
      const size_t j = (j3 * g.N[1] + j2) * g.N[0] + j1;
      full[2 * j] = xk[2 * i];
      full[2 * j + 1] = xk[2 * i + 1];
    }
    free(xk);
    xk = full;
    for (size_t i = 0; i < Nfull; i++) {
      const size_t pos = mode_to_fft(&g, i);
      buf[2 * pos] = xk[2 * i];
      buf[2 * pos + 1] = xk[2 * i + 1];
    }
    if ((st = grid_fft(dev, &g, +1, buf))) {
      free(buf);
      lucy_volume_free(vol);
      goto done;
    }
    for (size_t zz = 0; zz < shape[0]; zz++)
      for (size_t yy = 0; yy < shape[1]; yy++)
        for (size_t xx = 0; xx < shape[2]; xx++) {
          const size_t pos = fft_pos(&g, (long)xx - (long)(shape[2] / 2),
                                     (long)yy - (long)(shape[1] / 2),
                                     (long)zz - (long)(shape[0] / 2));
          vol->data[(zz * shape[1] + yy) * shape[2] + xx] =
              (float)(buf[2 * pos] / (double)Nfull);
        }
    free(buf);
    out->kernel = vol;
  }
  out->iterations = it;
  out->loss = loss;
  out->kernel_hat = xk;
  loss = NULL;
  xk = NULL;
done:
  lucy_nufft_plan_free(t1);
  lucy_nufft_plan_free(t2);
  if (dev) lucy_device_unref(dev);
  free(order);
  free(row_off);
  for (int a = 0; a < 3; a++) free(dxyz[a]);
  free(dw);
  free(tmp);
  free(xk);
  free(s);
  free(pv);
  free(r);
  free(q);
  free(loss);
  return st;
}
