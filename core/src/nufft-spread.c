/* NUFFT spreading and interpolation on the CPU: binning of the points, type-1 spreading onto
 * the fine grid, type-2 interpolation from it, and the deconvolution by the kernel's Fourier
 * transform between the fine grid and the mode box. The code is written once in
 * nufft-spread-tmpl.h and compiled here for double and for float.
 *
 * Threads and races: type-1 spreading divides the fine grid into slabs of whole planes of the
 * slowest axis (y in 2-D, z in 3-D, x in 1-D), at least ns - 1 planes each, 64 of them when the
 * grid allows (not from the thread count, so the result does not depend on it). Each point
 * belongs to the slab that holds its first plane (bins are taken on that plane, so a slab's
 * points are a contiguous run of the sorted order) and is spread once, straight into the
 * global grid; its last ns - 1 planes may fall into the next slab. So slabs run in colours:
 * all even slabs (dynamic schedule), then all odd ones, then an odd last slab on its own (it
 * wraps onto slab 0). No two threads write the same value at the same time: no atomics, no
 * private grids to reduce, and every value sums its contributions in a fixed order.
 * Type-2 interpolation only reads the grid; threads take chunks of sorted points.
 * Setpts folds each coordinate twice (once for the bin key in user order, once gathering
 * through the permutation into sorted order, with prefetch) rather than scattering several
 * arrays to random places.
 *
 * The y and z stages of the fine grid's FFT are buffered here too (lucy__column_fft: panels of
 * 16 columns transposed into a thread's scratch, see LucyColStage); the x stage is FFTW's. */
/* The spreader is the NUFFT's hot loop: full loop optimisation here regardless of the build
 * type, and (on x86-64 with ifunc support) a second copy of the kernels for AVX2 + FMA chosen
 * at load time, so a portable build still runs the vector code where the CPU has it. Products
 * and sums are fused (fp-contract=fast: -std=c11 turns it off) for the FMA clone. Kernel
 * values are padded to whole 32-byte vectors, and the spreading row updates and the Horner
 * steps are written with GCC vector types (GCC did not vectorise the interleaved re/im row
 * update by itself: it emitted scalar code). */
#pragma GCC optimize("O3", "fp-contract=fast")
#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "device-impl.h"
#include "nufft-private.h"
#include "status-private.h"

#ifdef _OPENMP
#define LUCY_PRAGMA(x) _Pragma(#x)
#define LUCY_OMP(x) LUCY_PRAGMA(omp x)
static int thread_num(void) { return omp_get_thread_num(); }
#else
#define LUCY_OMP(x)
static int thread_num(void) { return 0; }
#endif

#define ALWAYS_INLINE inline __attribute__((always_inline))
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define HOT_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define HOT_CLONES
#endif

/* Dispatches on the kernel width so that every inner loop has a constant trip count. */
#define NS_SWITCH(ns, CALL)                                                                   \
  switch (ns) {                                                                               \
  case 2: CALL(2); break;                                                                     \
  case 3: CALL(3); break;                                                                     \
  case 4: CALL(4); break;                                                                     \
  case 5: CALL(5); break;                                                                     \
  case 6: CALL(6); break;                                                                     \
  case 7: CALL(7); break;                                                                     \
  case 8: CALL(8); break;                                                                     \
  case 9: CALL(9); break;                                                                     \
  case 10: CALL(10); break;                                                                   \
  case 11: CALL(11); break;                                                                   \
  case 12: CALL(12); break;                                                                   \
  case 13: CALL(13); break;                                                                   \
  case 14: CALL(14); break;                                                                   \
  case 15: CALL(15); break;                                                                   \
  default: CALL(16); break;                                                                   \
  }

void lucy__spread_pts_clear(LucySpreadPts *pts) {
  free(pts->perm);
  for (int a = 0; a < 3; a++) {
    free(pts->i0[a]);
    free(pts->z[a]);
  }
  free(pts->slow_start);
  free(pts->work);
  free(pts->key);
  memset(pts, 0, sizeof *pts);
}

/* x in radians -> fine-grid coordinate in [0, nf). */
static inline double fold_scale(double x, double nf) {
  double u = x * 0.15915494309189533577; /* 1 / (2 pi) */
  u -= floor(u);
  double t = u * nf;
  if (t >= nf) t -= nf;
  if (t < 0.0) t = 0.0;
  return t;
}

#define FLT double
#define SFX _d
#include "nufft-spread-tmpl.h"
#undef FLT
#undef SFX

#define FLT float
#define SFX _f
#include "nufft-spread-tmpl.h"
#undef FLT
#undef SFX
