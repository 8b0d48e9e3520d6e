/* The device interface: the one place that knows where memory lives. Convolution,
 * deconvolution and NUFFT are written once against these operations; a new device (another GPU
 * API) is a new LucyDeviceOps table, not a new algorithm.
 *
 * Spectral buffers use FFTW's in-place real-to-complex layout: a real array of logical shape
 * (nz, ny, nx) is stored with rows of lucy__padded_row(nx) = 2*(nx/2+1) floats, and after the
 * forward transform the same buffer holds nz*ny*(nx/2+1) interleaved complex values.
 * "Device pointers" (float *) are opaque to algorithm code: only ops may dereference them. */
#ifndef LUCY_DEVICE_IMPL_H
#define LUCY_DEVICE_IMPL_H

#include <stddef.h>
#include <stdatomic.h>

#include "lucy/device.h"

/* Internals shared across core files: never exported from liblucy. */
#pragma GCC visibility push(hidden)

typedef struct LucyFftPlan LucyFftPlan; /* device-specific, cached by shape in the device */
typedef struct LucyCfftPlan LucyCfftPlan; /* complex-to-complex (NUFFT), owned by its caller */

/* The low-memory strategy's OTF (core/src/otf.c): instead of the full spectrum at L (P bytes),
 * the PSF's mz < L0 z-planes, each embedded at L1 x L2 and transformed along y and x only
 * (spectra of nq = L1 (L2/2+1) complex values, plane_floats floats apart), and the z-axis DFT
 * done on the fly where the OTF is used:
 *   H[kz, q] = sum_{p < mz} tw[(kz (p - z0)) mod L0] * planes[p][q],  tw[m] = e^{-2 pi i m/L0},
 * which is the full OTF (FFTW's forward sign) of the PSF plane p sitting at z = p - z0 mod L0.
 * Costs mz complex multiply-adds per spectrum value and use; holds mz/L0 of P. */
typedef struct LucyZOtf {
  size_t L[3];          /* the real FFT shape */
  const float *planes;  /* device: mz planes */
  const float *twiddle; /* device: L0 complex values e^{-2 pi i m / L0} */
  size_t mz;
  size_t plane_floats;  /* distance between planes (a multiple of 16 floats: aligned alike) */
  size_t z0;            /* the PSF's z origin (< mz) */
} LucyZOtf;

typedef enum LucyZOtfOp {
  LUCY_ZOTF_MUL = 0, /* a[k] *= H[k] */
  LUCY_ZOTF_CONJ,    /* a[k] *= conj(H[k]) (back-projection) */
  LUCY_ZOTF_WIENER,  /* a[k] = scale * conj(H[k]) a[k] / (|H[k]|^2 + k_abs), as ops->wiener */
  LUCY_ZOTF_MAX_ABS2 /* *max_abs2 = max |H[k]|^2 (a unused), as ops->cmax_abs2 */
} LucyZOtfOp;

/* The arguments a device's zotf_apply accepts (each device fails with its own message). */
static inline int lucy__zotf_args_ok(LucyZOtfOp op, const float *a, const LucyZOtf *h,
                                     const double *max_abs2) {
  return (unsigned)op <= LUCY_ZOTF_MAX_ABS2 && h && h->planes && h->twiddle && h->mz > 0 &&
         h->mz <= h->L[0] && h->z0 < h->mz && (op == LUCY_ZOTF_MAX_ABS2 ? max_abs2 != NULL : a != NULL);
}

/* The low-memory strategy's non-circulant RL weights W = H^T(mask of the observed box [0, N))
 * without a P-sized array. As L >= N + M - 1, W at voxel i is the sum of the PSF over a box of
 * PSF indices: per axis the p in [0, M) with (i + p - origin) mod L in [0, N), one contiguous
 * range (lucy__box_range); the box sum is 8 lookups in the PSF's inclusive prefix sums
 * sat[(M0+1) x (M1+1) x (M2+1)] (doubles; sat[a][b][c] = sum over p<a, q<b, r<c; already
 * divided by the PSF sum when normalising, so W needs no scaling). Exact up to the double
 * rounding of the sums, where the FFT-made W of in-memory carries float FFT noise. */
typedef struct LucyBoxWeights {
  const double *sat; /* device */
  size_t N[3], M[3], L[3];
  size_t origin[3];
} LucyBoxWeights;

/* The PSF index range [*lo, *hi) whose light reaches the box [0, n) from voxel i of the
 * periodic axis of length l >= n + m - 1 (PSF size m, origin o); empty (*lo == *hi) when none.
 * Shared by the devices (the CUDA kernel has its copy) and the tests. */
static inline void lucy__box_range(size_t i, size_t n, size_t m, size_t o, size_t l, size_t *lo,
                                   size_t *hi) {
  /* p reaches z = i + p - o: in [0, n) directly, or in [l, l + n) wrapped; the gap between the
   * two copies (l - n >= m - 1) keeps the m candidates from touching both. */
  const long long ii = (long long)i, on = (long long)o, nn = (long long)n, mm = (long long)m;
  for (int wrap = 0; wrap < 2; wrap++) {
    const long long base = wrap ? (long long)l : 0;
    long long a = on + base - ii, b = on + base + nn - ii; /* half-open */
    a = a < 0 ? 0 : a;
    b = b > mm ? mm : b;
    if (a < b) {
      *lo = (size_t)a;
      *hi = (size_t)b;
      return;
    }
  }
  *lo = *hi = 0;
}

typedef struct LucyDeviceOps {
  const char *name;
  /* 1 when device buffers are plain host memory (the CPU device): an algorithm may then read a
   * caller's host array in place instead of uploading a copy, saving that copy's memory. */
  int host_memory;
  void (*destroy)(LucyDevice *dev);

  /* Buffers. alloc may fail with LUCY_ERR_OUT_OF_MEMORY / LUCY_ERR_DEVICE_MEMORY. */
  LucyStatus (*alloc)(LucyDevice *dev, size_t bytes, float **out);
  void (*release)(LucyDevice *dev, float *buf);
  LucyStatus (*upload)(LucyDevice *dev, float *dst, const float *host_src, size_t count);
  LucyStatus (*download)(LucyDevice *dev, float *host_dst, const float *src, size_t count);

  /* dst (padded layout, logical shape dst_shape) = 0, then for every src voxel i:
   * dst[(i + shift) mod dst_shape] += src[i]  (accumulates when src wraps onto itself).
   * src is compact (C order, src_shape) and lives on the host when src_on_host, else on the
   * device. */
  LucyStatus (*embed)(LucyDevice *dev, float *dst, const size_t dst_shape[3], const float *src,
                      const size_t src_shape[3], const ptrdiff_t shift[3], int src_on_host);

  /* dst[j] = scale * src[(j + offset) mod src_shape] for every voxel j of the compact dst
   * (dst_shape); src is in padded layout. dst on the host when dst_on_host. */
  LucyStatus (*extract)(LucyDevice *dev, float *dst, const size_t dst_shape[3], const float *src,
                        const size_t src_shape[3], const ptrdiff_t offset[3], float scale,
                        int dst_on_host);

  /* FFT plans for a logical real shape, in place on padded-layout buffers; unnormalised
   * (c2r(r2c(x)) = nz*ny*nx * x). Plans are cached by the device and freed with it. */
  LucyStatus (*fft_plan)(LucyDevice *dev, const size_t shape[3], LucyFftPlan **out);
  LucyStatus (*fft_r2c)(LucyDevice *dev, LucyFftPlan *plan, float *buf);
  LucyStatus (*fft_c2r)(LucyDevice *dev, LucyFftPlan *plan, float *buf);
  size_t (*fft_work_bytes)(LucyDevice *dev, LucyFftPlan *plan);
  /* Gives back a plan fft_plan returned: every fft_plan call is matched by one release, after
   * the plan's last use. May be NULL (the CPU device: FFTW plans hold no large memory and stay
   * cached). The CUDA device frees a shape's work area when no plan holds it, so that memory
   * is not held, out of the planner's sight, after the operation that needed it is freed. */
  void (*fft_plan_release)(LucyDevice *dev, LucyFftPlan *plan);
  /* Optional out-of-place forward transform (NULL when a device lacks it: algorithms then copy
   * and transform in place): dst (padded layout) = r2c(src), src (padded layout, distinct from
   * dst) preserved. fft_plan_r2c_out (may be NULL when nothing needs preparing) readies it once
   * per cached plan, planning on src and dst themselves so that it needs no scratch memory:
   * both may be overwritten, so call it before they hold data. Execute buffers must be aligned
   * like the planning ones (all alloc buffers are). */
  LucyStatus (*fft_plan_r2c_out)(LucyDevice *dev, LucyFftPlan *plan, float *src, float *dst);
  LucyStatus (*fft_r2c_out)(LucyDevice *dev, LucyFftPlan *plan, const float *src, float *dst);
  /* Optional pruned transforms for data that fills only the box [0, box) of the plan's shape
   * (1 <= box[a] <= shape[a]); NULL when a device lacks them. Algorithms call the
   * lucy__dev_fft_*_box helpers below, which fall back to the full transforms.
   * fft_r2c_box: buf's logical values are zero outside the box (its row padding may hold
   *   anything); gives fft_r2c's spectrum without transforming the known zeros.
   * fft_c2r_box: only the output inside the box is wanted: those values equal fft_c2r's; the
   *   rest of buf is left undefined.
   * fft_plan_box readies both for one box, planning on buf without allocating (buf may be
   * overwritten: call it before buf holds data, like fft_plan_r2c_out); executing a box that
   * was not readied fails. A device may prune less than the box asks (the CPU skips whole
   * z-planes only) and run a box it cannot prune as the full transform. */
  LucyStatus (*fft_plan_box)(LucyDevice *dev, LucyFftPlan *plan, float *buf, const size_t box[3]);
  LucyStatus (*fft_r2c_box)(LucyDevice *dev, LucyFftPlan *plan, float *buf, const size_t box[3]);
  LucyStatus (*fft_c2r_box)(LucyDevice *dev, LucyFftPlan *plan, float *buf, const size_t box[3]);

  /* a[k] = scale * a[k] * (conjugate ? conj(b[k]) : b[k]) over count complex values. */
  LucyStatus (*cmul)(LucyDevice *dev, float *a, const float *b, size_t count, int conjugate,
                     float scale);
  /* a[k] *= scale over count complex values (used to normalise an OTF once). */
  LucyStatus (*cscale)(LucyDevice *dev, float *a, size_t count, float scale);
  /* The low-memory OTF's uses (LucyZOtf above) on the spectrum a of shape h->L. */
  LucyStatus (*zotf_apply)(LucyDevice *dev, LucyZOtfOp op, float *a, const LucyZOtf *h,
                           float k_abs, float scale, double *max_abs2);

  /* Host/device memory report. */
  LucyStatus (*memory_info)(LucyDevice *dev, LucyMemoryInfo *info);
  /* ---- Deconvolution kernels (core/src/deconvolve.c) -----------------------------------
   * "Volumes" are padded-layout real buffers of logical shape L (rows of
   * lucy__padded_row(L[2]) floats); only the L[2] logical values of a row are read or written,
   * the padding floats may hold anything. The observed region is the box [0, N) in the corner
   * of L (N <= L on every axis; N == L for circular edges); observed images are compact
   * (C order, shape N) device buffers. Reductions accumulate in double and return to the host. */

  /* buf[k] = value for k < count (contiguous floats). */
  LucyStatus (*fill)(LucyDevice *dev, float *buf, size_t count, float value);

  /* out[0..2] = sum, minimum and maximum of count contiguous floats. */
  LucyStatus (*reduce)(LucyDevice *dev, const float *buf, size_t count, double out[3]);

  /* *out = max |a[k]|^2 over count complex values (the Wiener filter's scale). */
  LucyStatus (*cmax_abs2)(LucyDevice *dev, const float *a, size_t count, double *out);

  /* Wiener/Tikhonov in the spectrum: a[k] = scale * conj(h[k]) a[k] / (|h[k]|^2 + k_abs). */
  LucyStatus (*wiener)(LucyDevice *dev, float *a, const float *h, size_t count, float k_abs,
                       float scale);

  /* dst (volume of shape L) = the compact src (shape N, on the device) at [0, N), extended
   * periodically without a jump: on each axis the voxels N..L-1 ramp linearly from the last
   * plane to the first; values are clamped below at lo. L == N copies. */
  LucyStatus (*embed_smooth)(LucyDevice *dev, float *dst, const size_t L[3], const float *src,
                             const size_t N[3], float lo);

  /* The Richardson-Lucy ratio in place on hx (a volume holding H x): for voxels j in the
   * observed box, with y = max(obs[j], 0) and d = hx[j] + background,
   *   hx[j] = d > eps ? y / d : 0;
   * voxels outside the box get 0. When idiv is not NULL, *idiv = the sum over the box of the
   * I-divergence terms y log(y / d) - y + d (d when y = 0), d floored at eps. */
  LucyStatus (*rl_ratio)(LucyDevice *dev, float *hx, const size_t L[3], const float *obs,
                         const size_t N[3], float background, float eps, double *idiv);

  /* The Richardson-Lucy update over the volume x (shape L), corr = H^T(ratio):
   *   w = weight ? weight[j] : box ? the box sum of LucyBoxWeights at j : weight_value;
   *   den = max(w - (tv ? tv[j] : 0), w / 4);
   *   x_new = w > weight_min ? x[j] * corr[j] / den : 0  (and 0 if that is negative).
   * x[j] = x_new; copy[j] = x_new when copy is not NULL (copy may be corr: the next forward
   * transform's input). When step is not NULL (Biggs-Andrews), g = x_new - x_old is stored
   * there after reading the previous g. sums (may be NULL): [0] sum |x_new - x_old|,
   * [1] sum |x_old|, [2] sum g * g_previous, [3] sum g * g. */
  LucyStatus (*rl_update)(LucyDevice *dev, float *x, float *corr, const size_t L[3],
                          const float *weight, const LucyBoxWeights *box, float weight_value,
                          float weight_min, const float *tv, float *copy, float *step,
                          double sums[4]);

  /* Biggs-Andrews extrapolation over the volume x (shape L): with v = x[j], p = prev[j],
   *   x[j] = max(v + alpha (v - p), 0);  prev[j] = v;  copy[j] = x[j] when copy is not NULL.
   * With alpha 0, prev is only written (a copy). sums (may be NULL): [0] sum |v - p|,
   * [1] sum |p|. */
  LucyStatus (*rl_extrapolate)(LucyDevice *dev, float *x, float *prev, float *copy,
                               const size_t L[3], float alpha, double sums[2]);

  /* The RL-TV term (Dey et al. 2006) over the volume x (shape L, periodic differences):
   *   tv[j] = lambda * div( grad x / sqrt(|grad x|^2 + eps^2) )[j]
   * forward differences for the gradient, backward ones for the divergence, each divided by
   * spacing[a] (the voxel size over the smallest one: all 1 for isotropic voxels). */
  LucyStatus (*tv_term)(LucyDevice *dev, float *tv, const float *x, const size_t L[3],
                        const float spacing[3], float lambda, float eps);

  /* ---- complex-to-complex FFTs (used by the NUFFT) ------------------------------------
   * In-place transforms of interleaved complex arrays (re, im) in float or double, rank 1 to 3,
   * shape in C order (slowest axis first, shape[rank-1] fastest), exponent sign -1 or +1,
   * unnormalised. Not cached: the caller owns the plan and frees it with cfft_plan_free.
   * Buffers passed to cfft_execute must come from alloc (alignment is checked). */
  LucyStatus (*cfft_plan)(LucyDevice *dev, int rank, const size_t shape[3], int sign,
                          int double_precision, LucyCfftPlan **out);
  LucyStatus (*cfft_execute)(LucyDevice *dev, LucyCfftPlan *plan, void *buf);
  void (*cfft_plan_free)(LucyDevice *dev, LucyCfftPlan *plan);
  /* Batched strided 1-D transforms, the stages of a pruned multi-dimensional FFT: length n at
   * element stride `stride` (complex values), repeated over nbatch (0..4) batch dimensions of
   * batch_n[i] transforms batch_stride[i] apart. Planned on buf (overwritten when the device
   * plans THOROUGH); cfft_execute runs it in place on buf (or on a buffer aligned like it). */
  LucyStatus (*cfft_plan_strided)(LucyDevice *dev, size_t n, ptrdiff_t stride, int nbatch,
                                  const size_t batch_n[4], const ptrdiff_t batch_stride[4],
                                  int sign, int double_precision, void *buf, LucyCfftPlan **out);
} LucyDeviceOps;

struct LucyDevice {
  const LucyDeviceOps *ops;
  LucyDeviceOptions opts;
  atomic_int refcount;
  atomic_size_t held_bytes; /* buffers + FFT work areas held now */
  atomic_size_t peak_bytes;
  char name[64];
  void *impl; /* the implementation's state */
};

/* Floats per row of a padded-layout buffer with nx real samples. */
static inline size_t lucy__padded_row(size_t nx) { return 2 * (nx / 2 + 1); }
/* Floats in a padded-layout buffer of logical shape. */
static inline size_t lucy__padded_count(const size_t shape[3]) {
  return shape[0] * shape[1] * lucy__padded_row(shape[2]);
}
/* Complex values in the spectrum of a logical real shape. */
static inline size_t lucy__spectrum_count(const size_t shape[3]) {
  return shape[0] * shape[1] * (shape[2] / 2 + 1);
}

/* The device a plan runs on: a new reference to `given`, or (given NULL) a new CPU device with
 * the plan's thread count and planning. Release with lucy_device_unref. */
LucyStatus lucy__device_for_plan(LucyDevice *given, int threads, LucyPlanning planning,
                                 LucyDevice **out);

/* Accounting for implementations: call after a successful alloc / before a release. */
void lucy__device_account(LucyDevice *dev, size_t bytes);
void lucy__device_unaccount(LucyDevice *dev, size_t bytes);

/* A process-wide count of executed transforms (forward and inverse, every device), so tests
 * can check that a plan transforms its PSF once and an execute runs exactly two transforms.
 * Implementations call lucy__device_count_fft() once per executed transform. */
void lucy__device_count_fft(void);
size_t lucy__device_fft_count(void);

/* Implementations. */
LucyStatus lucy__device_cpu_init(LucyDevice *dev);
#ifdef LUCY_HAVE_CUDA
LucyStatus lucy__device_cuda_init(LucyDevice *dev);
#endif

/* Buffer helpers on any device. */
static inline LucyStatus lucy__dev_alloc(LucyDevice *dev, size_t bytes, float **out) {
  return dev->ops->alloc(dev, bytes, out);
}
static inline void lucy__dev_release(LucyDevice *dev, float *buf) {
  if (buf) dev->ops->release(dev, buf);
}
static inline void lucy__dev_fft_plan_release(LucyDevice *dev, LucyFftPlan *plan) {
  if (plan && dev->ops->fft_plan_release) dev->ops->fft_plan_release(dev, plan);
}

/* Pruned transforms (fft_r2c_box above) for the plan of shape L, or the full ones where the
 * device has none or the box is all of L. */
static inline int lucy__box_is_whole(const size_t L[3], const size_t box[3]) {
  return box[0] >= L[0] && box[1] >= L[1] && box[2] >= L[2];
}
static inline LucyStatus lucy__dev_fft_plan_box(LucyDevice *dev, LucyFftPlan *plan,
                                                float *buf, const size_t L[3],
                                                const size_t box[3]) {
  if (!dev->ops->fft_plan_box || lucy__box_is_whole(L, box)) return LUCY_OK;
  return dev->ops->fft_plan_box(dev, plan, buf, box);
}
static inline LucyStatus lucy__dev_fft_r2c_box(LucyDevice *dev, LucyFftPlan *plan,
                                               float *buf, const size_t L[3],
                                               const size_t box[3]) {
  if (!dev->ops->fft_r2c_box || lucy__box_is_whole(L, box))
    return dev->ops->fft_r2c(dev, plan, buf);
  return dev->ops->fft_r2c_box(dev, plan, buf, box);
}
static inline LucyStatus lucy__dev_fft_c2r_box(LucyDevice *dev, LucyFftPlan *plan,
                                               float *buf, const size_t L[3],
                                               const size_t box[3]) {
  if (!dev->ops->fft_c2r_box || lucy__box_is_whole(L, box))
    return dev->ops->fft_c2r(dev, plan, buf);
  return dev->ops->fft_c2r_box(dev, plan, buf, box);
}

#pragma GCC visibility pop

#endif
