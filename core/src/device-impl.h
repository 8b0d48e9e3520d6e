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

typedef struct LucyDeviceOps {
  const char *name;
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

  /* a[k] = scale * a[k] * (conjugate ? conj(b[k]) : b[k]) over count complex values. */
  LucyStatus (*cmul)(LucyDevice *dev, float *a, const float *b, size_t count, int conjugate,
                     float scale);
  /* a[k] *= scale over count complex values (used to normalise an OTF once). */
  LucyStatus (*cscale)(LucyDevice *dev, float *a, size_t count, float scale);

  /* Host/device memory report. */
  LucyStatus (*memory_info)(LucyDevice *dev, LucyMemoryInfo *info);
  /* Later issues add: RL ratio with epsilon, multiply-accumulate, TV term, reductions. */
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

#pragma GCC visibility pop

#endif
