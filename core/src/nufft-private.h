/* NUFFT internals shared by nufft.c (plans), nufft-kernel.c (the ES kernel, its Horner
 * approximation and Fourier transform) and nufft-spread.c (binning, spreading, interpolation,
 * deconvolution). Never exported. */
#ifndef LUCY_NUFFT_PRIVATE_H
#define LUCY_NUFFT_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include "lucy/nufft.h"

#pragma GCC visibility push(hidden)

#define LUCY_NUFFT_MAX_NS 16     /* widest kernel (FINUFFT's MAX_NSPREAD) */
#define LUCY_NUFFT_MAX_DEGREE 24 /* highest Horner degree tried */

/* The "exponential of semicircle" kernel phi(x) = exp(beta (sqrt(1 - c x^2) - 1)) on
 * |x| < ns/2 (x in fine-grid units, c = 4/ns^2), and its piecewise polynomial approximation:
 * on the grid interval k (x in [-ns/2 + k, -ns/2 + k + 1]) with local variable
 * z = 2 (x + ns/2 - k) - 1 in [-1, 1], phi = sum_d coef[d][k] z^d. */
typedef struct LucyEsKernel {
  int ns;           /* width in fine-grid points, 2..16 */
  int degree;       /* Horner degree */
  double beta, c;   /* shape parameters */
  double upsampfac; /* sigma */
  double eps;       /* the tolerance the kernel was chosen for (after clamping) */
  double fit_error; /* max |Horner - phi| found on a dense check */
  double coef_d[LUCY_NUFFT_MAX_DEGREE + 1][LUCY_NUFFT_MAX_NS];
  float coef_f[LUCY_NUFFT_MAX_DEGREE + 1][LUCY_NUFFT_MAX_NS];
} LucyEsKernel;

/* FINUFFT's choice of width and shape for tolerance eps and upsampling sigma, then the Horner
 * fit. Returns the clamped tolerance; *clamped is set when eps was raised (to the machine
 * epsilon of the precision, or because the width was clipped to 16). */
double lucy__es_setup(double eps, double upsampfac, int is_float, LucyEsKernel *k,
                      int *clamped);
/* phi(x) evaluated from its formula. */
double lucy__es_eval(const LucyEsKernel *k, double x);
/* phihat[j] = integral of phi(x) cos(2 pi j x / nf) dx for j = 0..nmax, by Gauss-Legendre
 * quadrature (the kernel is even, so this is its Fourier transform at frequency j on a fine
 * grid of nf points). */
void lucy__es_fourier(const LucyEsKernel *k, size_t nf, size_t nmax, double *phihat);
/* Gauss-Legendre nodes and weights on [-1, 1] (n >= 1), by Newton iteration. */
void lucy__gauss_legendre(int n, double *nodes, double *weights);

/* Points after setpts: sorted by bin (slowest axis major, then by user index), with each
 * coordinate split into the first grid index the kernel touches (i0, may be negative) and the
 * local Horner variable z in [-1, 1). Bins are taken on i0 wrapped into [0, nf), so a point of
 * slow bin b touches slow rows b*B .. b*B + ns - 1 (mod nf). The arrays are kept between setpts
 * calls and only grown. */
typedef struct LucySpreadPts {
  size_t M;
  size_t cap;         /* points the arrays below hold room for */
  size_t *perm;       /* sorted position -> user index */
  int32_t *i0[3];     /* per axis (0 = x, fastest), sorted order */
  void *z[3];         /* float or double per the plan's precision, sorted order */
  size_t nbins[3];    /* bins per axis */
  size_t binsize[3];  /* grid points per bin per axis (powers of two) */
  unsigned binshift[3]; /* log2 of binsize */
  size_t *slow_start; /* nbins[dim-1] + 1 offsets: first sorted point of each slowest-axis bin */
  size_t slow_cap;
  void *work;         /* 2M values of the plan's precision: strengths gathered in sorted order */
  uint32_t *key;      /* M bin keys (setpts scratch) */
} LucySpreadPts;

typedef struct LucySpreadGeom {
  int dim;
  int ns;
  int nthreads;
  size_t nf[3];      /* fine grid, nf[0] = x fastest; 1 on unused axes */
  size_t slab_rows;  /* rows (slowest-axis grid planes) per spreading slab: a multiple of the
                        slow bin size and at least ns - 1 */
  const LucyEsKernel *kernel;
} LucySpreadGeom;

/* Slow-axis bin size (grid points) for a dimension; the slab height is a multiple of it. */
static inline size_t lucy__spread_slow_binsize(int dim) { return dim == 1 ? 16 : 4; }

/* Binning: fills pts (allocating its arrays) from user coordinates (double or float arrays,
 * radians, any finite value; folded periodically). Fails on NaN/Inf with the point's index. */
LucyStatus lucy__spread_setpts_d(const LucySpreadGeom *g, LucySpreadPts *pts, size_t M,
                                 const double *const xyz[3]);
LucyStatus lucy__spread_setpts_f(const LucySpreadGeom *g, LucySpreadPts *pts, size_t M,
                                 const float *const xyz[3]);
void lucy__spread_pts_clear(LucySpreadPts *pts);

/* Type-1 spreading: grid (interleaved complex, nf[0]*nf[1]*nf[2]) = sum_j c_j phi(. - x_j),
 * overwriting the grid. Each point is spread once, by the slab of the slowest axis that holds
 * its first row; slabs run in two colours (even, odd; a third for an odd last slab) so that no
 * two threads write the same row at once: no atomics, and deterministic. */
void lucy__spread_d(const LucySpreadGeom *g, const LucySpreadPts *pts, const double *c,
                    double *grid);
void lucy__spread_f(const LucySpreadGeom *g, const LucySpreadPts *pts, const float *c,
                    float *grid);
/* Type-2 interpolation: c_j = sum phi(l - x_j) grid[l]. */
void lucy__interp_d(const LucySpreadGeom *g, const LucySpreadPts *pts, const double *grid,
                    double *c);
void lucy__interp_f(const LucySpreadGeom *g, const LucySpreadPts *pts, const float *grid,
                    float *c);

/* A buffered FFT stage along a slower axis (y or z): the power-of-two strides of those columns
 * make FFTW's estimated strided plans thrash the caches (5-8x slower than contiguous), so
 * blocks of LUCY_NUFFT_COLS adjacent x columns of one panel (a plane or row of the other axes)
 * are transposed into a thread's scratch buffer, transformed there as contiguous columns by a
 * single-threaded plan, and copied back. Panels x chunks are shared among the threads. */
#define LUCY_NUFFT_COLS 16
struct LucyDevice;
struct LucyCfftPlan;
typedef struct LucyColStage {
  struct LucyDevice *dev;    /* single-threaded CPU device the plan belongs to */
  struct LucyCfftPlan *plan; /* LUCY_NUFFT_COLS contiguous transforms of length n */
  size_t n;                  /* transform length */
  size_t stride;             /* complex elements between successive points of a column */
  size_t npanels, *panel_off; /* element offsets of the panels */
  size_t nchunks, (*chunk)[2]; /* x column chunks: first column, width (<= LUCY_NUFFT_COLS) */
} LucyColStage;
void lucy__column_fft_d(const LucyColStage *s, int nthreads, double *fine,
                        void *const *scratch, LucyStatus *status);
void lucy__column_fft_f(const LucyColStage *s, int nthreads, float *fine,
                        void *const *scratch, LucyStatus *status);

/* Mode <-> fine grid. modes[a] (N per axis, 1 on unused), fac[a][i] = 1 / phihat for signed
 * mode i - N/2 (i = 0..N-1). Type 1: f = fine[k mod nf] * fac (modeord order); type 2:
 * fine = 0, fine[k mod nf] = f * fac. */
void lucy__deconv_to_modes_d(const LucySpreadGeom *g, const size_t modes[3], int modeord,
                             const double *const fac[3], const double *fine, double *f);
void lucy__deconv_to_modes_f(const LucySpreadGeom *g, const size_t modes[3], int modeord,
                             const double *const fac[3], const float *fine, float *f);
void lucy__deconv_to_fine_d(const LucySpreadGeom *g, const size_t modes[3], int modeord,
                            const double *const fac[3], const double *f, double *fine);
void lucy__deconv_to_fine_f(const LucySpreadGeom *g, const size_t modes[3], int modeord,
                            const double *const fac[3], const float *f, float *fine);

#pragma GCC visibility pop

#endif
