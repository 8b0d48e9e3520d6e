/* Non-uniform FFTs of type 1 and 2 in 1, 2 and 3 dimensions, in double or float, with
 * FINUFFT's definitions and conventions:
 *
 *   type 1 (points -> modes):  f[k] = sum_j c[j] exp(isign i k.x_j),   k in the mode box
 *   type 2 (modes -> points):  c[j] = sum_k f[k] exp(isign i k.x_j)
 *
 * The mode box has N1 (x) x N2 (y) x N3 (z) modes, k_a in [-N_a/2, (N_a-1)/2]; arrays of modes
 * are stored with k1 fastest, f[i1 + N1 (i2 + N2 i3)], where with modeord 0 i = k + N/2
 * (k = -N/2 ... N/2-1, FINUFFT's default) and with modeord 1 i = k mod N (FFT order: 0 ...
 * N/2-1, -N/2 ... -1). Point coordinates are radians and are folded periodically: any finite
 * value works ([-pi, pi) and [0, 2pi) are equivalent). Complex arrays are interleaved (re, im).
 *
 * Method (Barnett, Magland, af Klinteberg 2019): spread with the "exponential of semicircle"
 * kernel of width w and shape beta chosen from eps and the upsampling factor sigma (2 or
 * 1.25) as FINUFFT does, onto a fine grid of sigma*N points per axis (the next even
 * 2,3,5,7-smooth size), FFT, divide by the kernel's Fourier transform (Gauss-Legendre
 * quadrature). Points are sorted into bins; spreading runs on all threads, each owning slabs
 * of the fine grid (no atomics, results independent of the thread count).
 *
 * Plans follow FINUFFT: lucy_nufft_plan_new (kernel choice, fine grid, FFT planning and all
 * execute-time memory), lucy_nufft_setpts (fold, sort; may be called again with new points),
 * lucy_nufft_execute (any number of vectors per call, no allocation), lucy_nufft_plan_free.
 * A plan is used by one thread at a time; it runs its work on the device's threads. */
#ifndef LUCY_NUFFT_H
#define LUCY_NUFFT_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum LucyNufftPrecision {
  LUCY_NUFFT_DOUBLE = 0, /* double coordinates and data: lucy_nufft_setpts/_execute */
  LUCY_NUFFT_FLOAT       /* float coordinates and data: lucy_nufft_setptsf/_executef */
} LucyNufftPrecision;

/* Bits of lucy_nufft_plan_warnings(). */
enum {
  LUCY_NUFFT_WARN_EPS_CLAMPED = 1 /* eps was raised to what the precision/kernel allows */
};

typedef struct LucyNufftOptions {
  LucyNufftPrecision precision; /* default LUCY_NUFFT_DOUBLE */
  int modeord;                  /* 0 (default): -N/2..N/2-1; 1: FFT order */
  double upsampfac;  /* sigma: 0 (default) chooses like FINUFFT (2, or 1.25 for eps >= 1e-9 on
                        large grids); else 2.0, 1.25 or any value in (1, 4] */
  LucyDevice *device; /* NULL: a CPU device with `threads` threads, made for the plan */
  int threads;        /* used only when device is NULL; <= 0: one per core */
  LucyPlanning planning; /* used only when device is NULL */
} LucyNufftOptions;

typedef struct LucyNufftPlan LucyNufftPlan;

void lucy_nufft_options_default(LucyNufftOptions *opts);

/* type 1 or 2, dim 1..3, modes[0..dim-1] = N1 (x), N2 (y), N3 (z) each >= 1, isign +1 or -1
 * (nothing else), eps the requested relative l2 tolerance (> 0).
 * An eps below what the precision allows (its machine epsilon, or what a width-16 kernel
 * reaches) is not an error: it is clamped as FINUFFT does and the plan carries a warning
 * (lucy_nufft_plan_warnings, lucy_nufft_plan_warning_text, lucy_nufft_plan_eps).
 * Only CPU devices run NUFFTs so far (LUCY_ERR_UNSUPPORTED otherwise). */
LucyStatus lucy_nufft_plan_new(int type, int dim, const int64_t *modes, int isign, double eps,
                               const LucyNufftOptions *opts, LucyNufftPlan **out);

/* Sets the M points (x, y, z arrays of M coordinates in radians; y NULL in 1-D, z NULL below
 * 3-D). The coordinates are copied (folded and sorted), so the arrays may be freed after.
 * M = 0 is allowed (type 1 then gives zeros). NaN or infinite coordinates: LUCY_ERR_NUMERIC,
 * naming the first bad point, and the plan keeps no points. */
LucyStatus lucy_nufft_setpts(LucyNufftPlan *plan, size_t M, const double *x, const double *y,
                             const double *z);
LucyStatus lucy_nufftf_setpts(LucyNufftPlan *plan, size_t M, const float *x, const float *y,
                              const float *z);

/* Runs ntransf transforms with the same points. Type 1: in = ntransf vectors of M complex
 * strengths c (2M values each), out = ntransf vectors of N1*N2*N3 complex modes. Type 2: in =
 * modes, out = values at the points. in and out may not overlap. */
LucyStatus lucy_nufft_execute(LucyNufftPlan *plan, size_t ntransf, const double *in,
                              double *out);
LucyStatus lucy_nufftf_execute(LucyNufftPlan *plan, size_t ntransf, const float *in,
                               float *out);

/* What the plan chose. */
int lucy_nufft_plan_type(const LucyNufftPlan *plan);
int lucy_nufft_plan_dim(const LucyNufftPlan *plan);
size_t lucy_nufft_plan_points(const LucyNufftPlan *plan);   /* M of the last setpts */
size_t lucy_nufft_plan_modes(const LucyNufftPlan *plan);    /* N1*N2*N3 */
void lucy_nufft_plan_fine_shape(const LucyNufftPlan *plan, size_t nf[3]); /* x, y, z */
int lucy_nufft_plan_kernel_width(const LucyNufftPlan *plan);
double lucy_nufft_plan_kernel_beta(const LucyNufftPlan *plan);
double lucy_nufft_plan_upsampfac(const LucyNufftPlan *plan);
double lucy_nufft_plan_eps(const LucyNufftPlan *plan);      /* after clamping */
unsigned lucy_nufft_plan_warnings(const LucyNufftPlan *plan); /* LUCY_NUFFT_WARN_* bits */
/* A sentence for the user when warnings != 0 ("requested eps 1e-20 is below ...; using
 * 2.2e-16"), else "". Never NULL. */
const char *lucy_nufft_plan_warning_text(const LucyNufftPlan *plan);
/* Bytes the plan holds (fine grid, sorted points, kernel tables). */
size_t lucy_nufft_plan_bytes(const LucyNufftPlan *plan);
void lucy_nufft_plan_free(LucyNufftPlan *plan);

#ifdef __cplusplus
}
#endif
#endif
