/* NUFFT plans: validation, FINUFFT's kernel and fine-grid choices, setpts, and execute as
 * spread -> FFT -> deconvolve (type 1) or deconvolve -> FFT -> interpolate (type 2). The fine
 * grid's FFT runs through the device interface (cfft_* ops): the x stage as one strided plan,
 * the y and z stages buffered (16 columns at a time transposed into per-thread scratch and
 * transformed there by a single-threaded plan; FFTW's estimated plans for those power-of-two
 * strides were 5-8x slower). Spreading and interpolation run on the host (nufft-spread.c), so
 * only CPU devices are accepted until the CUDA spreader lands. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "device-impl.h"
#include "fft-size.h"
#include "lucy/convolve.h"
#include "nufft-private.h"
#include "status-private.h"

struct LucyNufftPlan {
  int type, dim, isign, modeord;
  LucyNufftPrecision prec;
  size_t modes[3]; /* x, y, z; 1 on unused axes */
  size_t ntot;
  LucyDevice *dev;
  LucyEsKernel kernel;
  LucySpreadGeom geom;
  LucySpreadPts pts;
  int have_pts;
  double *fac[3];
  float *fine; /* device buffer: nf[0]*nf[1]*nf[2] complex values of the plan's precision */
  size_t fine_bytes;
  LucyCfftPlan *stage[3]; /* the pruned FFT: the x stage as one strided plan (NULL for the
                             y and z stages, which run buffered through col[]) */
  int stage_axis[3];
  int nstages;
  LucyColStage col[3];  /* buffered y and z stages (col[1], col[2]) */
  LucyDevice *dev1;     /* single-threaded CPU device for their plans */
  void *scratch[64];    /* one column buffer per thread */
  int nscratch;
  double eps;
  unsigned warnings;
  char warning[256];
};

void lucy_nufft_options_default(LucyNufftOptions *opts) {
  if (!opts) return;
  memset(opts, 0, sizeof *opts);
  opts->precision = LUCY_NUFFT_DOUBLE;
  opts->modeord = 0;
  opts->upsampfac = 0.0;
  opts->device = NULL;
  opts->threads = 0;
  opts->planning = LUCY_PLAN_FAST;
}

/* Kept columns along axis b (the ones that hold modes or feed them): up to two blocks
 * (first, length). */
static int kept_blocks(const LucyNufftPlan *p, int b, size_t blk[2][2]) {
  const size_t nf = p->geom.nf[b], L = p->modes[b] - p->modes[b] / 2;
  if (2 * L <= nf) {
    blk[0][0] = 0;
    blk[0][1] = L;
    blk[1][0] = nf - L;
    blk[1][1] = L;
    return 2;
  }
  blk[0][0] = 0;
  blk[0][1] = nf;
  return 1;
}

/* The buffered stage along axis a >= 1 (see LucyColStage): columns are the kept x columns;
 * panels are the kept indices of the axes between x and a and all indices of the slower axes
 * (type 1 transforms x, y, z; type 2 z, y, x: either way those are the non-zero columns). */
static LucyStatus plan_column_stage(LucyNufftPlan *p, int a) {
  const LucySpreadGeom *g = &p->geom;
  LucyColStage *cs = &p->col[a];
  LucyStatus st;
  if (!p->dev1) {
    LucyDeviceOptions dopts;
    lucy_device_options_default(&dopts);
    dopts.threads = 1;
    dopts.planning = p->dev->opts.planning;
    if ((st = lucy_device_new(&dopts, &p->dev1))) return st;
    size_t nmax = 1;
    for (int b = 1; b < p->dim; b++)
      if (g->nf[b] > nmax) nmax = g->nf[b];
    const size_t bytes = nmax * LUCY_NUFFT_COLS * 2 *
                         (p->prec == LUCY_NUFFT_DOUBLE ? sizeof(double) : sizeof(float));
    int nt = g->nthreads < 1 ? 1 : (g->nthreads > 64 ? 64 : g->nthreads);
    for (int t = 0; t < nt; t++) {
      float *buf;
      if ((st = lucy__dev_alloc(p->dev1, bytes, &buf))) return st;
      memset(buf, 0, bytes);
      p->scratch[p->nscratch++] = buf;
    }
  }
  cs->dev = p->dev1;
  cs->n = g->nf[a];
  cs->stride = 1;
  for (int b = 0; b < a; b++) cs->stride *= g->nf[b];
  /* x chunks */
  size_t xb[2][2];
  const int nxb = kept_blocks(p, 0, xb);
  size_t nch = 0;
  for (int k = 0; k < nxb; k++) nch += (xb[k][1] + LUCY_NUFFT_COLS - 1) / LUCY_NUFFT_COLS;
  cs->chunk = malloc(nch * sizeof *cs->chunk);
  /* panels: kept y when a == 2 (3-D), all z planes when a == 1 in 3-D, one panel in 2-D */
  size_t pb[2][2];
  int npb = 1;
  size_t pstride = 0;
  if (a == 2) {
    npb = kept_blocks(p, 1, pb);
    pstride = g->nf[0];
  } else if (p->dim == 3) {
    pb[0][0] = 0;
    pb[0][1] = g->nf[2];
    pstride = g->nf[0] * g->nf[1];
  } else {
    pb[0][0] = 0;
    pb[0][1] = 1;
  }
  size_t npan = 0;
  for (int k = 0; k < npb; k++) npan += pb[k][1];
  cs->panel_off = malloc(npan * sizeof *cs->panel_off);
  if (!cs->chunk || !cs->panel_off)
    return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory creating a NUFFT plan");
  cs->nchunks = 0;
  for (int k = 0; k < nxb; k++)
    for (size_t x = 0; x < xb[k][1]; x += LUCY_NUFFT_COLS) {
      cs->chunk[cs->nchunks][0] = xb[k][0] + x;
      cs->chunk[cs->nchunks][1] =
          xb[k][1] - x < LUCY_NUFFT_COLS ? xb[k][1] - x : LUCY_NUFFT_COLS;
      cs->nchunks++;
    }
  cs->npanels = 0;
  for (int k = 0; k < npb; k++)
    for (size_t i = 0; i < pb[k][1]; i++) cs->panel_off[cs->npanels++] = (pb[k][0] + i) * pstride;
  const size_t bn[1] = {LUCY_NUFFT_COLS};
  const ptrdiff_t bs[1] = {(ptrdiff_t)cs->n};
  return p->dev1->ops->cfft_plan_strided(p->dev1, cs->n, 1, 1, bn, bs, p->isign,
                                         p->prec == LUCY_NUFFT_DOUBLE, p->scratch[0],
                                         &cs->plan);
}

LucyStatus lucy_nufft_plan_new(int type, int dim, const int64_t *modes, int isign, double eps,
                               const LucyNufftOptions *opts, LucyNufftPlan **out) {
  if (!out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_nufft_plan_new: out is NULL");
  *out = NULL;
  LucyNufftOptions o;
  if (opts)
    o = *opts;
  else
    lucy_nufft_options_default(&o);
  if (type != 1 && type != 2)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "NUFFT type must be 1 or 2, not %d", type);
  if (dim < 1 || dim > 3)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "NUFFT dimension must be 1, 2 or 3, not %d", dim);
  if (!modes) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "NUFFT modes array is NULL");
  for (int a = 0; a < dim; a++)
    if (modes[a] <= 0 || modes[a] > (int64_t)INT_MAX / 4)
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                        "NUFFT modes N%d = %lld: must be between 1 and %d", a + 1,
                        (long long)modes[a], INT_MAX / 4);
  if (isign != 1 && isign != -1)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "NUFFT isign must be +1 or -1, not %d", isign);
  if (!(eps > 0.0) || !isfinite(eps))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "NUFFT tolerance eps = %g: must be > 0", eps);
  if (o.precision != LUCY_NUFFT_DOUBLE && o.precision != LUCY_NUFFT_FLOAT)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "unknown NUFFT precision %d", (int)o.precision);
  if (o.modeord != 0 && o.modeord != 1)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "NUFFT modeord must be 0 or 1, not %d",
                      o.modeord);
  if (o.upsampfac != 0.0 && !(o.upsampfac > 1.0 && o.upsampfac <= 4.0))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "NUFFT upsampling factor %g: must be 0 (automatic) or in (1, 4]",
                      o.upsampfac);
  if (o.device && lucy_device_kind(o.device) != LUCY_DEVICE_CPU)
    return lucy__fail(LUCY_ERR_UNSUPPORTED,
                      "the NUFFT runs on the CPU device only so far (its CUDA spreader is a "
                      "later step)");
  double ntot_d = 1.0;
  for (int a = 0; a < dim; a++) ntot_d *= (double)modes[a];
  if (ntot_d > 1e12)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "NUFFT with %.3g modes is too large", ntot_d);

  LucyNufftPlan *p = calloc(1, sizeof *p);
  if (!p) return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory creating a NUFFT plan");
  p->type = type;
  p->dim = dim;
  p->isign = isign;
  p->modeord = o.modeord;
  p->prec = o.precision;
  p->ntot = 1;
  for (int a = 0; a < 3; a++) {
    p->modes[a] = a < dim ? (size_t)modes[a] : 1;
    p->ntot *= p->modes[a];
  }
  LucyStatus st;
  if ((st = lucy__device_for_plan(o.device, o.threads, o.planning, &p->dev))) {
    free(p);
    return st;
  }

  /* upsampling factor: FINUFFT's automatic rule */
  double sigma = o.upsampfac;
  if (sigma == 0.0) {
    sigma = 2.0;
    if (eps >= 1e-9 && ((dim == 1 && p->ntot > 10000000) || (dim == 2 && p->ntot > 300000) ||
                        (dim == 3 && p->ntot > 3000000)))
      sigma = 1.25;
  }
  int clamped = 0;
  p->eps = lucy__es_setup(eps, sigma, p->prec == LUCY_NUFFT_FLOAT, &p->kernel, &clamped);
  if (clamped) {
    p->warnings |= LUCY_NUFFT_WARN_EPS_CLAMPED;
    snprintf(p->warning, sizeof p->warning,
             "requested NUFFT tolerance %g is below what %s precision with upsampling %g "
             "reaches; using %g",
             eps, p->prec == LUCY_NUFFT_FLOAT ? "float" : "double", sigma, p->eps);
  }
  const int ns = p->kernel.ns;
  LucySpreadGeom *g = &p->geom;
  g->dim = dim;
  g->ns = ns;
  g->nthreads = lucy_device_threads(p->dev);
  g->kernel = &p->kernel;
  for (int a = 0; a < 3; a++) {
    if (a >= dim) {
      g->nf[a] = 1;
      continue;
    }
    size_t want = (size_t)ceil(sigma * (double)p->modes[a]);
    if (want < 2 * (size_t)ns) want = 2 * (size_t)ns;
    g->nf[a] = lucy__fft_good_size_even(want);
  }
  {
    /* slabs of at least ns - 1 rows (so a slab's kernel tails reach only the next slab), and
       enough of them (64) for the dynamic schedule to balance; not from the thread count, so
       that the summation order, and the result, do not depend on it */
    const size_t nfs = g->nf[dim - 1], B = lucy__spread_slow_binsize(dim);
    size_t target = (size_t)ns - 1;
    const size_t share = nfs / 64;
    if (share > target) target = share;
    size_t h = (target + B - 1) / B * B;
    if (h > nfs) h = nfs;
    g->slab_rows = h;
  }
  /* deconvolution factors 1/phihat per axis */
  for (int a = 0; a < 3; a++) {
    const size_t N = p->modes[a];
    p->fac[a] = malloc(N * sizeof(double));
    if (!p->fac[a]) {
      lucy_nufft_plan_free(p);
      return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory creating a NUFFT plan");
    }
    if (a >= dim) {
      p->fac[a][0] = 1.0;
      continue;
    }
    double *ph = malloc((N / 2 + 1) * sizeof(double));
    if (!ph) {
      lucy_nufft_plan_free(p);
      return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory creating a NUFFT plan");
    }
    lucy__es_fourier(&p->kernel, g->nf[a], N / 2, ph);
    for (size_t i = 0; i < N; i++) {
      const long k = (long)i - (long)(N / 2);
      p->fac[a][i] = 1.0 / ph[k < 0 ? -k : k];
    }
    free(ph);
  }
  const size_t elem = p->prec == LUCY_NUFFT_DOUBLE ? 2 * sizeof(double) : 2 * sizeof(float);
  const double fine_d = (double)g->nf[0] * (double)g->nf[1] * (double)g->nf[2];
  if (fine_d * (double)elem > (double)(SIZE_MAX / 2)) {
    lucy_nufft_plan_free(p);
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "NUFFT fine grid of %.3g points is too large",
                      fine_d);
  }
  p->fine_bytes = (size_t)fine_d * elem;
  if ((st = lucy__dev_alloc(p->dev, p->fine_bytes, &p->fine))) {
    lucy_nufft_plan_free(p);
    return lucy__fail_context(st, "NUFFT fine grid %zux%zux%zu: ", g->nf[0], g->nf[1],
                              g->nf[2]);
  }
  /* Pruned FFT (as FINUFFT does): only the fine-grid columns that hold modes (type 2) or feed
   * them (type 1) are transformed along the slower axes. Type 1 goes x, y, z; type 2 z, y, x. */
  memset(p->fine, 0, p->fine_bytes); /* first touch here, not in the first execute */
  for (int s = 0; s < dim; s++) {
    const int a = type == 1 ? s : dim - 1 - s; /* the axis this stage transforms */
    p->stage_axis[s] = a;
    if (a > 0) {
      if ((st = plan_column_stage(p, a))) {
        lucy_nufft_plan_free(p);
        return st;
      }
      p->nstages = s + 1;
      continue;
    }
    /* x: contiguous rows, all of them (every y and z plane) */
    size_t bn[1] = {1};
    ptrdiff_t bs[1] = {(ptrdiff_t)g->nf[0]};
    for (int b = 1; b < dim; b++) bn[0] *= g->nf[b];
    if ((st = p->dev->ops->cfft_plan_strided(p->dev, g->nf[0], 1, bn[0] > 1 ? 1 : 0, bn, bs,
                                             isign, p->prec == LUCY_NUFFT_DOUBLE, p->fine,
                                             &p->stage[s]))) {
      lucy_nufft_plan_free(p);
      return st;
    }
    p->nstages = s + 1;
  }
  *out = p;
  return LUCY_OK;
}

static LucyStatus run_fft(LucyNufftPlan *p, void *fine) {
  for (int s = 0; s < p->nstages; s++) {
    const int a = p->stage_axis[s];
    LucyStatus st;
    if (a == 0)
      st = p->dev->ops->cfft_execute(p->dev, p->stage[s], fine);
    else if (p->prec == LUCY_NUFFT_DOUBLE)
      lucy__column_fft_d(&p->col[a], p->nscratch, fine, p->scratch, &st);
    else
      lucy__column_fft_f(&p->col[a], p->nscratch, fine, p->scratch, &st);
    if (st) return st;
  }
  return LUCY_OK;
}

static LucyStatus check_prec(const LucyNufftPlan *p, LucyNufftPrecision want, const char *fn) {
  if (!p) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "%s: plan is NULL", fn);
  if (p->prec != want)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "%s called on a %s-precision NUFFT plan (use lucy_nufft%s_*)", fn,
                      p->prec == LUCY_NUFFT_DOUBLE ? "double" : "float",
                      p->prec == LUCY_NUFFT_DOUBLE ? "" : "f");
  return LUCY_OK;
}

static LucyStatus check_coords(const LucyNufftPlan *p, size_t M, const void *x, const void *y,
                               const void *z) {
  const void *c[3] = {x, y, z};
  if (M == 0) return LUCY_OK;
  for (int a = 0; a < p->dim; a++)
    if (!c[a])
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "NUFFT setpts: the %c coordinates are NULL",
                        "xyz"[a]);
  if (M > (size_t)INT32_MAX * 64)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "NUFFT setpts: %zu points are too many", M);
  return LUCY_OK;
}

LucyStatus lucy_nufft_setpts(LucyNufftPlan *p, size_t M, const double *x, const double *y,
                             const double *z) {
  LucyStatus st = check_prec(p, LUCY_NUFFT_DOUBLE, "lucy_nufft_setpts");
  if (st || (st = check_coords(p, M, x, y, z))) return st;
  p->have_pts = 0;
  const double *xyz[3] = {x, y, z};
  if ((st = lucy__spread_setpts_d(&p->geom, &p->pts, M, xyz))) return st;
  p->have_pts = 1;
  return LUCY_OK;
}

LucyStatus lucy_nufftf_setpts(LucyNufftPlan *p, size_t M, const float *x, const float *y,
                              const float *z) {
  LucyStatus st = check_prec(p, LUCY_NUFFT_FLOAT, "lucy_nufftf_setpts");
  if (st || (st = check_coords(p, M, x, y, z))) return st;
  p->have_pts = 0;
  const float *xyz[3] = {x, y, z};
  if ((st = lucy__spread_setpts_f(&p->geom, &p->pts, M, xyz))) return st;
  p->have_pts = 1;
  return LUCY_OK;
}

static LucyStatus check_exec(const LucyNufftPlan *p, size_t ntransf, const void *in, void *out) {
  if (!p->have_pts)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "NUFFT execute before setpts (no points set)");
  if (ntransf == 0) return LUCY_OK;
  const size_t nin = p->type == 1 ? p->pts.M : p->ntot, nout = p->type == 1 ? p->ntot : p->pts.M;
  if ((nin && !in) || (nout && !out))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "NUFFT execute: %s array is NULL",
                      (nin && !in) ? "input" : "output");
  return LUCY_OK;
}

LucyStatus lucy_nufft_execute(LucyNufftPlan *p, size_t ntransf, const double *in, double *out) {
  LucyStatus st = check_prec(p, LUCY_NUFFT_DOUBLE, "lucy_nufft_execute");
  if (st || (st = check_exec(p, ntransf, in, out))) return st;
  double *fine = (double *)(void *)p->fine;
  const double *fac[3] = {p->fac[0], p->fac[1], p->fac[2]};
  const size_t M = p->pts.M;
  for (size_t t = 0; t < ntransf; t++) {
    if (p->type == 1) {
      lucy__spread_d(&p->geom, &p->pts, in + 2 * M * t, fine);
      if ((st = run_fft(p, fine))) return st;
      lucy__deconv_to_modes_d(&p->geom, p->modes, p->modeord, fac, fine, out + 2 * p->ntot * t);
    } else {
      lucy__deconv_to_fine_d(&p->geom, p->modes, p->modeord, fac, in + 2 * p->ntot * t, fine);
      if ((st = run_fft(p, fine))) return st;
      if (M) lucy__interp_d(&p->geom, &p->pts, fine, out + 2 * M * t);
    }
  }
  return LUCY_OK;
}

LucyStatus lucy_nufftf_execute(LucyNufftPlan *p, size_t ntransf, const float *in, float *out) {
  LucyStatus st = check_prec(p, LUCY_NUFFT_FLOAT, "lucy_nufftf_execute");
  if (st || (st = check_exec(p, ntransf, in, out))) return st;
  float *fine = p->fine;
  const double *fac[3] = {p->fac[0], p->fac[1], p->fac[2]};
  const size_t M = p->pts.M;
  for (size_t t = 0; t < ntransf; t++) {
    if (p->type == 1) {
      lucy__spread_f(&p->geom, &p->pts, in + 2 * M * t, fine);
      if ((st = run_fft(p, fine))) return st;
      lucy__deconv_to_modes_f(&p->geom, p->modes, p->modeord, fac, fine, out + 2 * p->ntot * t);
    } else {
      lucy__deconv_to_fine_f(&p->geom, p->modes, p->modeord, fac, in + 2 * p->ntot * t, fine);
      if ((st = run_fft(p, fine))) return st;
      if (M) lucy__interp_f(&p->geom, &p->pts, fine, out + 2 * M * t);
    }
  }
  return LUCY_OK;
}

int lucy_nufft_plan_type(const LucyNufftPlan *p) { return p ? p->type : 0; }
int lucy_nufft_plan_dim(const LucyNufftPlan *p) { return p ? p->dim : 0; }
size_t lucy_nufft_plan_points(const LucyNufftPlan *p) { return p ? p->pts.M : 0; }
size_t lucy_nufft_plan_modes(const LucyNufftPlan *p) { return p ? p->ntot : 0; }
void lucy_nufft_plan_fine_shape(const LucyNufftPlan *p, size_t nf[3]) {
  for (int a = 0; a < 3; a++) nf[a] = p ? p->geom.nf[a] : 0;
}
int lucy_nufft_plan_kernel_width(const LucyNufftPlan *p) { return p ? p->kernel.ns : 0; }
double lucy_nufft_plan_kernel_beta(const LucyNufftPlan *p) { return p ? p->kernel.beta : 0.0; }
double lucy_nufft_plan_upsampfac(const LucyNufftPlan *p) {
  return p ? p->kernel.upsampfac : 0.0;
}
double lucy_nufft_plan_eps(const LucyNufftPlan *p) { return p ? p->eps : 0.0; }
unsigned lucy_nufft_plan_warnings(const LucyNufftPlan *p) { return p ? p->warnings : 0; }
const char *lucy_nufft_plan_warning_text(const LucyNufftPlan *p) {
  return p ? p->warning : "";
}

size_t lucy_nufft_plan_bytes(const LucyNufftPlan *p) {
  if (!p) return 0;
  size_t b = p->fine_bytes + sizeof *p;
  for (int a = 0; a < 3; a++) b += p->modes[a] * sizeof(double);
  const size_t zsize = p->prec == LUCY_NUFFT_DOUBLE ? sizeof(double) : sizeof(float);
  b += p->pts.M * (sizeof(size_t) + (size_t)p->dim * (sizeof(int32_t) + zsize));
  return b;
}

void lucy_nufft_plan_free(LucyNufftPlan *p) {
  if (!p) return;
  for (int s = 0; s < p->nstages; s++)
    if (p->stage[s]) p->dev->ops->cfft_plan_free(p->dev, p->stage[s]);
  for (int a = 1; a < 3; a++) {
    if (p->col[a].plan) p->dev1->ops->cfft_plan_free(p->dev1, p->col[a].plan);
    free(p->col[a].panel_off);
    free(p->col[a].chunk);
  }
  for (int t = 0; t < p->nscratch; t++) lucy__dev_release(p->dev1, p->scratch[t]);
  if (p->dev1) lucy_device_unref(p->dev1);
  if (p->fine) lucy__dev_release(p->dev, p->fine);
  lucy__spread_pts_clear(&p->pts);
  for (int a = 0; a < 3; a++) free(p->fac[a]);
  if (p->dev) lucy_device_unref(p->dev);
  free(p);
}
