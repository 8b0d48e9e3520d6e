/* Point clouds on a periodic box: convolution of weighted points with a kernel through
 * non-uniform FFTs, evaluated on a grid (an image) or back at the points; the periodised and
 * unwrapped direct sums that check it; and fitting a kernel from observed point data by least
 * squares.
 *
 * Geometry: the box has length period[a] on each axis (default 2 pi) and is periodic (a torus);
 * coordinates may be any finite value and are folded. The grid has shape[3] = {Nz, Ny, Nx} like
 * a LucyVolume (shape[0] == 1: 2-D with coordinates x, y; shape[0] == shape[1] == 1: 1-D with x
 * only); grid voxel i sits at coordinate i * period / N. Arrays indexed by axis (period, sigma)
 * are in Lucy's z, y, x order; coordinate arrays are x, y, z.
 *
 * The convolution (the classic's construction): f = type-1 NUFFT (isign -1) of the weights on
 * the N-grid of modes, times the kernel's DFT Khat (the kernel sampled on the grid with its
 * origin moved to index 0, i.e. ifftshifted), divided by the number of modes, then a type-2
 * NUFFT (isign +1) at the points or an inverse FFT onto the grid. The result at y is
 * sum_j w_j K~(y - x_j) with K~ the trigonometric interpolant of the sampled kernel, which for
 * a kernel resolved by the grid is the kernel periodised over the box. */
#ifndef LUCY_POINTS_H
#define LUCY_POINTS_H

#include <stddef.h>

#include "device.h"
#include "status.h"
#include "volume.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct LucyPointCloud {
  size_t count;
  const double *x, *y, *z; /* count coordinates each; y NULL in 1-D, z NULL below 3-D */
  const double *w;         /* count weights; NULL: all 1 */
} LucyPointCloud;

typedef enum LucyPointKernelKind {
  LUCY_POINT_KERNEL_GAUSSIAN = 0, /* exp(-sum_a d_a^2 / (2 sigma_a^2)) sampled on the grid,
                                     not normalised (the classic's kernel) */
  LUCY_POINT_KERNEL_GRID          /* values given on the grid (a kernel, a PSF stack, a fitted
                                     kernel): origin at voxel M//2 per axis, used as they are */
} LucyPointKernelKind;

typedef struct LucyPointKernel {
  LucyPointKernelKind kind;
  double sigma[3];        /* GAUSSIAN: per axis z, y, x, in coordinate units, > 0 */
  const LucyVolume *grid; /* GRID: shape <= the grid on every axis (zero-padded around its
                             origin); voxel size ignored */
} LucyPointKernel;

typedef struct LucyPointsOptions {
  double period[3];   /* z, y, x box lengths in coordinate units (default 2 pi) */
  double eps;         /* NUFFT tolerance (default 1e-9) */
  LucyDevice *device; /* NULL: a CPU device with `threads` threads */
  int threads;        /* <= 0: one per core */
} LucyPointsOptions;

void lucy_points_options_default(LucyPointsOptions *opts);

typedef struct LucyPointConvPlan LucyPointConvPlan;

/* Plans convolution of point clouds with kernel on a grid of the given shape: the kernel's DFT
 * and the two NUFFT plans are made here. */
LucyStatus lucy_point_conv_plan_new(const size_t shape[3], const LucyPointKernel *kernel,
                                    const LucyPointsOptions *opts, LucyPointConvPlan **out);
/* Convolves pts: values (pts->count doubles, may be NULL) receives the result at the points,
 * image (N floats in z-y-x order, may be NULL) the result at the grid voxels. */
LucyStatus lucy_point_conv_execute(LucyPointConvPlan *plan, const LucyPointCloud *pts,
                                   double *values, float *image);
/* The kernel's DFT: N complex values (re, im), mode order -N/2..N/2-1 per axis, x fastest. */
const double *lucy_point_conv_kernel_hat(const LucyPointConvPlan *plan);
void lucy_point_conv_plan_free(LucyPointConvPlan *plan);

/* Reference: out[t] = sum_j w_j prod_a g_a(targets_a[t] - src_a[j]) for a Gaussian g of sigma,
 * either periodised over the box (periodic = 1: sum over all images, the torus) or plainly on
 * the unwrapped differences (periodic = 0, what the classic compared with). Direct O(M T). */
LucyStatus lucy_points_direct_gaussian(const size_t shape[3], const LucyPointCloud *src,
                                       const LucyPointCloud *targets, const double sigma[3],
                                       const double period[3], int periodic, double *out);

/* ---- kernel fitting ------------------------------------------------------------------------- */

typedef struct LucyPointFitOptions {
  double period[3];   /* as in LucyPointsOptions (default 2 pi) */
  double eps;         /* NUFFT tolerance (default 1e-9) */
  double tikhonov;    /* lambda of the penalty lambda * ||Khat||^2 (default 0: plain least squares) */
  size_t band[3];     /* z, y, x: fit only the modes with |k| <= band on that axis (the others
                         stay 0); 0 (default): every mode of the grid. The data constrain about
                         (number of observations) unknowns, so a band that keeps the unknowns
                         well below that turns an underdetermined fit into a well-posed one */
  int max_iter;       /* conjugate-gradient iterations (default 200) */
  double tol;         /* stop when ||A^H r|| <= tol * ||A^H b|| (default 1e-10) */
  LucyDevice *device;
  int threads;
  LucyProgressFn progress; /* optional, once per iteration; non-zero cancels */
  void *progress_user;
} LucyPointFitOptions;

typedef struct LucyPointFitResult {
  size_t iterations;  /* CG iterations run */
  double *loss;       /* iterations + 1 values: mean squared residual over the observations
                         after each iteration (loss[0]: the zero kernel) */
  double *kernel_hat; /* N complex values (re, im), mode order -N/2..N/2-1, x fastest */
  LucyVolume *kernel; /* the real-space kernel on the grid, origin at voxel N//2 (like a PSF) */
} LucyPointFitResult;

void lucy_point_fit_options_default(LucyPointFitOptions *opts);

/* Fits the kernel K on the grid from observations: points i with set[i], coordinates, input
 * weight w[i] (NULL: 1) and observed value[i], where value[i] = sum over the points j of the
 * same set of w[j] K(x_i - x_j) (points of a set were convolved together). The model is linear
 * in Khat, so this solves the least-squares problem min ||A Khat - value||^2 + lambda ||Khat||^2
 * by conjugate gradients on the normal equations (CGLS); A applies one type-2 NUFFT at all
 * within-set differences x_i - x_j and sums per observation, A^H one type-1 NUFFT.
 * The caller frees the result with lucy_point_fit_result_clear. */
LucyStatus lucy_points_fit_kernel(const size_t shape[3], size_t count, const size_t *set,
                                  const double *x, const double *y, const double *z,
                                  const double *w, const double *value,
                                  const LucyPointFitOptions *opts, LucyPointFitResult *out);
void lucy_point_fit_result_clear(LucyPointFitResult *result);

#ifdef __cplusplus
}
#endif
#endif
