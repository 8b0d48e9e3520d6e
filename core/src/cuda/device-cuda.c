/* The CUDA device: buffers from cudaMalloc (accounted like the CPU device's), cuFFT in-place
 * r2c/c2r plans cached per shape with work areas Lucy allocates itself
 * (cufftSetAutoAllocation(0), the size from cufftMakePlanMany64/cufftGetSize, cufftSetWorkArea;
 * one area shared by the r2c and c2r plans of a shape), and the fused kernels of
 * cuda-kernels.cu. Everything runs in order on one stream per device; calls that return
 * results to the host (download, reductions) synchronise it.
 *
 * Host arrays move through one device staging buffer (at most LUCY_CUDA_STAGING_MAX bytes,
 * grown on demand to the largest transfer and kept until the device is freed), in chunks of
 * whole rows: embed uploads a chunk and scatters it into the padded buffer, extract gathers a
 * chunk and downloads it. Small fixed buffers (LUCY_CUDA_SCRATCH_BYTES on the device for the
 * reductions' partial sums) are made with the device.
 *
 * A shape {1, Y, X} gets a 2-D plan (the low-memory OTF transforms the PSF plane by plane,
 * otf.c); its work area is Lucy's like the others'. zotf_apply (the low-memory OTF's z-DFT
 * fused with the multiply) and rl_update's box weights run as kernels with the CPU device's
 * arithmetic.
 *
 * Every CUDA and cuFFT call is checked: failures become LUCY_ERR_DEVICE (or
 * LUCY_ERR_DEVICE_MEMORY for allocation failures, with the bytes asked for and free) and a
 * message naming the call, the error code's name and the sizes involved.
 *
 * NUFFT's complex-to-complex transforms (cfft_*) are not implemented on this device yet: they
 * return LUCY_ERR_UNSUPPORTED. */
#include <cuda_runtime.h>
#include <cufft.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda-kernels.h"
#include "device-cuda.h"
#include "device-impl.h"
#include "memory-private.h"
#include "status-private.h"

struct LucyFftPlan {
  size_t shape[3];
  cufftHandle r2c, c2r;
  int have_r2c, have_c2r;
  void *work; /* NULL while no plan holds the shape (users == 0) */
  size_t work_bytes;
  int users;  /* fft_plan calls not yet matched by fft_plan_release */
  LucyFftPlan *next;
};

typedef struct Block {
  void *ptr;
  size_t bytes;
  struct Block *next;
} Block;

typedef struct CudaState {
  int ordinal;
  cudaStream_t stream;
  pthread_mutex_t lock;    /* the blocks list (raw_alloc and raw_release) */
  pthread_mutex_t op_lock; /* one host thread at a time in the ops: see enter() */
  Block *blocks;
  LucyFftPlan *plans;
  float *staging;
  size_t staging_bytes;
  double *partial;      /* device, LUCY_CUK_BLOCKS * 4 doubles */
  double host_partial[LUCY_CUK_BLOCKS * 4];
} CudaState;

/* cuFFT's result names by value (the enum differs between CUDA releases). */
static const char *cufft_name(cufftResult r) {
  static const char *const names[] = {
    "CUFFT_SUCCESS", "CUFFT_INVALID_PLAN", "CUFFT_ALLOC_FAILED", "CUFFT_INVALID_TYPE",
    "CUFFT_INVALID_VALUE", "CUFFT_INTERNAL_ERROR", "CUFFT_EXEC_FAILED", "CUFFT_SETUP_FAILED",
    "CUFFT_INVALID_SIZE", "CUFFT_UNALIGNED_DATA", "CUFFT_INCOMPLETE_PARAMETER_LIST",
    "CUFFT_INVALID_DEVICE", "CUFFT_PARSE_ERROR", "CUFFT_NO_WORKSPACE", "CUFFT_NOT_IMPLEMENTED",
    "CUFFT_LICENSE_ERROR", "CUFFT_NOT_SUPPORTED", "CUFFT_MISSING_DEPENDENCY",
    "CUFFT_NVRTC_FAILURE", "CUFFT_NVJITLINK_FAILURE", "CUFFT_NVSHMEM_FAILURE"};
  const unsigned v = (unsigned)r;
  return v < sizeof names / sizeof names[0] ? names[v] : "CUFFT_UNKNOWN_ERROR";
}

/* A failed CUDA runtime call: LUCY_ERR_DEVICE_MEMORY for allocation failures, else
 * LUCY_ERR_DEVICE; the sticky-free error state is cleared so the device stays usable. */
static LucyStatus cuda_fail(cudaError_t e, const char *call, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static LucyStatus cuda_fail(cudaError_t e, const char *call, const char *fmt, ...) {
  char what[256] = "";
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  (void)cudaGetLastError();
  const LucyStatus st = e == cudaErrorMemoryAllocation ? LUCY_ERR_DEVICE_MEMORY : LUCY_ERR_DEVICE;
  return lucy__fail(st, "%s failed: %s (%s) %s", call, cudaGetErrorName(e), cudaGetErrorString(e),
                    what);
}

#define CK(expr, ...)                                       \
  do {                                                      \
    cudaError_t ck_e_ = (expr);                             \
    if (ck_e_ != cudaSuccess) return cuda_fail(ck_e_, #expr, __VA_ARGS__); \
  } while (0)

#define CKFFT(expr, ...)                                                               \
  do {                                                                                 \
    cufftResult ck_r_ = (expr);                                                        \
    if (ck_r_ != CUFFT_SUCCESS) {                                                      \
      char ck_w_[200];                                                                 \
      snprintf(ck_w_, sizeof ck_w_, __VA_ARGS__);                                      \
      return lucy__fail(ck_r_ == CUFFT_ALLOC_FAILED ? LUCY_ERR_DEVICE_MEMORY : LUCY_ERR_FFT, \
                        "%s failed: %s (%d) %s", #expr, cufft_name(ck_r_), (int)ck_r_, ck_w_); \
    }                                                                                  \
  } while (0)

/* A kernel launcher's result. */
#define CKK(expr, name, n)                                                                \
  do {                                                                                    \
    int ck_k_ = (expr);                                                                   \
    if (ck_k_) return cuda_fail((cudaError_t)ck_k_, name, "(%zu elements)", (size_t)(n)); \
  } while (0)

static CudaState *state(LucyDevice *dev) { return dev->impl; }

/* ---- availability ---------------------------------------------------------------------- */

static char avail_reason[256];
static int avail_count = -1;
static pthread_once_t avail_once = PTHREAD_ONCE_INIT;

static void probe(void) {
  int n = 0;
  cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess || n <= 0) {
    (void)cudaGetLastError();
    snprintf(avail_reason, sizeof avail_reason,
             "no CUDA device found (cudaGetDeviceCount: %s: %s)",
             e != cudaSuccess ? cudaGetErrorName(e) : "0 devices",
             e != cudaSuccess ? cudaGetErrorString(e) : "no GPU visible");
    avail_count = 0;
    return;
  }
  avail_count = n;
  avail_reason[0] = '\0';
}

int lucy__cuda_device_count(const char **reason) {
  pthread_once(&avail_once, probe);
  if (reason) *reason = avail_count > 0 ? "" : avail_reason;
  return avail_count;
}

/* The r2c and c2r plans of a shape, auto-allocation off, through the 64-bit planner: a
 * shape's product may pass 2^31 elements (an 8.6 GB buffer, well within an H200), and cuFFT
 * documents such sizes for cufftMakePlanMany64 only (above 2^32 with every factor <= 127 and
 * an even x, which 2,3,5,7-smooth sizes with even x satisfy; padded domains that large get an
 * even x, fft-size.h, but a circular one keeps the image's x). A z or y of 1 is
 * dropped (a {1, Y, X} shape is a 2-D plan, as the low-memory OTF's PSF planes are): the padded
 * layout is the same. *work = the larger work area of the two (one area serves both).
 * On failure *call names the cuFFT call and the result is returned; the handles made so far are
 * flagged in have[] for the caller to destroy. */
static cufftResult plan_pair(const size_t s[3], cufftHandle h[2], int have[2], size_t *work,
                             const char **call) {
  long long n[3];
  int rank = 0;
  for (int a = 0; a < 3; a++)
    if (s[a] != 1 || a == 2) n[rank++] = (long long)s[a]; /* z, y of 1: same layout without */
  static const cufftType types[2] = {CUFFT_R2C, CUFFT_C2R};
  size_t w[2] = {0, 0};
  *work = 0;
  for (int k = 0; k < 2; k++) {
    cufftResult r;
    if ((r = cufftCreate(&h[k])) != CUFFT_SUCCESS) {
      *call = "cufftCreate";
      return r;
    }
    have[k] = 1;
    if ((r = cufftSetAutoAllocation(h[k], 0)) != CUFFT_SUCCESS) {
      *call = "cufftSetAutoAllocation";
      return r;
    }
    /* NULL embeds: the basic layout, which for in-place real transforms is the padded one. */
    if ((r = cufftMakePlanMany64(h[k], rank, n, NULL, 1, 0, NULL, 1, 0, types[k], 1, &w[k])) !=
        CUFFT_SUCCESS) {
      *call = k ? "cufftMakePlanMany64 (c2r)" : "cufftMakePlanMany64 (r2c)";
      return r;
    }
    size_t g = 0;
    if ((r = cufftGetSize(h[k], &g)) != CUFFT_SUCCESS) {
      *call = "cufftGetSize";
      return r;
    }
    if (g > w[k]) w[k] = g;
  }
  *work = w[0] > w[1] ? w[0] : w[1];
  return CUFFT_SUCCESS;
}

/* The current GPU's total memory in bytes, or 0 when unknown. */
static size_t gpu_total_bytes(void) {
  size_t fr = 0, tot = 0;
  if (cudaMemGetInfo(&fr, &tot) != cudaSuccess) {
    (void)cudaGetLastError();
    return 0;
  }
  return tot;
}

/* The work area make_plan will allocate for a shape, exactly: the same two plans are made
 * (auto-allocation off: nothing P-sized is allocated) and destroyed. cufftEstimate* is only
 * documented as an estimate (the figure after planning is the exact one), and the planner is
 * held to 5 % of the measured peak; a plan costs milliseconds, so answers are cached (the
 * planner asks for the same few shapes many times while it searches tile sizes). cuFFT needs
 * a driver: without a device (or for a shape whose buffer alone exceeds the card, which no
 * plan will serve) this answers 0 and the planner uses its bound. */
#define ESTIMATE_CACHE 64
static struct {
  size_t shape[3], bytes;
} estimates[ESTIMATE_CACHE];
static size_t n_estimates;
static pthread_mutex_t estimate_lock = PTHREAD_MUTEX_INITIALIZER;

int lucy__cuda_fft_estimate(const size_t s[3], size_t *bytes) {
  if (lucy__cuda_device_count(NULL) <= 0) return 0;
  for (int a = 0; a < 3; a++)
    if (s[a] == 0 || s[a] > INT_MAX) return 0;
  pthread_mutex_lock(&estimate_lock);
  for (size_t i = 0; i < n_estimates && i < ESTIMATE_CACHE; i++)
    if (memcmp(estimates[i].shape, s, sizeof estimates[i].shape) == 0) {
      *bytes = estimates[i].bytes;
      pthread_mutex_unlock(&estimate_lock);
      return 1;
    }
  pthread_mutex_unlock(&estimate_lock);
  const size_t total = gpu_total_bytes();
  if (total == 0 || lucy__padded_count(s) > total / sizeof(float)) return 0;
  cufftHandle h[2];
  int have[2] = {0, 0};
  size_t w = 0;
  const char *call = NULL;
  const cufftResult r = plan_pair(s, h, have, &w, &call);
  for (int k = 0; k < 2; k++)
    if (have[k]) (void)cufftDestroy(h[k]);
  (void)cudaGetLastError();
  if (r != CUFFT_SUCCESS) return 0;
  pthread_mutex_lock(&estimate_lock);
  const size_t slot = n_estimates++ % ESTIMATE_CACHE;
  memcpy(estimates[slot].shape, s, sizeof estimates[slot].shape);
  estimates[slot].bytes = w;
  pthread_mutex_unlock(&estimate_lock);
  *bytes = w;
  return 1;
}

/* ---- buffers ---------------------------------------------------------------------------- */

static LucyStatus raw_alloc(LucyDevice *dev, size_t bytes, void **out) {
  CudaState *cs = state(dev);
  *out = NULL;
  void *p = NULL;
  cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
  if (e != cudaSuccess) {
    (void)cudaGetLastError();
    size_t fr = 0, tot = 0;
    (void)cudaMemGetInfo(&fr, &tot);
    (void)cudaGetLastError();
    return lucy__fail(e == cudaErrorMemoryAllocation ? LUCY_ERR_DEVICE_MEMORY : LUCY_ERR_DEVICE,
                      "cudaMalloc failed: %s: cannot allocate %zu bytes on GPU %d "
                      "(%zu bytes free of %zu; Lucy holds %zu)",
                      cudaGetErrorName(e), bytes, cs->ordinal, fr, tot,
                      (size_t)atomic_load(&dev->held_bytes));
  }
  Block *b = malloc(sizeof *b);
  if (!b) {
    cudaFree(p);
    return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of host memory tracking a GPU buffer");
  }
  b->ptr = p;
  b->bytes = bytes;
  pthread_mutex_lock(&cs->lock);
  b->next = cs->blocks;
  cs->blocks = b;
  pthread_mutex_unlock(&cs->lock);
  lucy__device_account(dev, bytes);
  *out = p;
  return LUCY_OK;
}

static void raw_release(LucyDevice *dev, void *p) {
  if (!p) return;
  CudaState *cs = state(dev);
  size_t bytes = 0;
  pthread_mutex_lock(&cs->lock);
  for (Block **pp = &cs->blocks; *pp; pp = &(*pp)->next)
    if ((*pp)->ptr == p) {
      Block *b = *pp;
      *pp = b->next;
      bytes = b->bytes;
      free(b);
      break;
    }
  pthread_mutex_unlock(&cs->lock);
  /* Nothing queued on the device's stream may still use the buffer. (cudaFree synchronises in
   * practice, but a non-blocking stream is not ordered with it by any documented rule.) */
  (void)cudaStreamSynchronize(cs->stream);
  (void)cudaFree(p);
  (void)cudaGetLastError();
  lucy__device_unaccount(dev, bytes);
}

static LucyStatus cuda_alloc(LucyDevice *dev, size_t bytes, float **out) {
  void *p = NULL;
  LucyStatus st = raw_alloc(dev, bytes, &p);
  *out = p;
  return st;
}

static void cuda_release(LucyDevice *dev, float *buf) { raw_release(dev, buf); }

static LucyStatus cuda_upload(LucyDevice *dev, float *dst, const float *src, size_t count) {
  CudaState *cs = state(dev);
  if (!count) return LUCY_OK;
  CK(cudaMemcpyAsync(dst, src, count * sizeof(float), cudaMemcpyHostToDevice, cs->stream),
     "(upload of %zu floats)", count);
  CK(cudaStreamSynchronize(cs->stream), "(after an upload of %zu floats)", count);
  return LUCY_OK;
}

static LucyStatus cuda_download(LucyDevice *dev, float *dst, const float *src, size_t count) {
  CudaState *cs = state(dev);
  if (!count) return LUCY_OK;
  CK(cudaMemcpyAsync(dst, src, count * sizeof(float), cudaMemcpyDeviceToHost, cs->stream),
     "(download of %zu floats)", count);
  CK(cudaStreamSynchronize(cs->stream), "(after a download of %zu floats)", count);
  return LUCY_OK;
}

/* The staging buffer, at least min(want, LUCY_CUDA_STAGING_MAX) bytes; *rows = how many rows
 * of row_bytes fit. */
static LucyStatus staging(LucyDevice *dev, size_t want, size_t row_bytes, size_t *rows) {
  CudaState *cs = state(dev);
  size_t need = want < LUCY_CUDA_STAGING_MAX ? want : LUCY_CUDA_STAGING_MAX;
  if (need < row_bytes) need = row_bytes; /* one row at least */
  if (cs->staging_bytes < need) {
    raw_release(dev, cs->staging);
    cs->staging = NULL;
    cs->staging_bytes = 0;
    void *p = NULL;
    LucyStatus st = raw_alloc(dev, need, &p);
    if (st) return lucy__fail_context(st, "staging buffer: ");
    cs->staging = p;
    cs->staging_bytes = need;
  }
  *rows = cs->staging_bytes / row_bytes;
  return LUCY_OK;
}

static LucyStatus cuda_embed(LucyDevice *dev, float *dst, const size_t L[3], const float *src,
                             const size_t M[3], const ptrdiff_t shift[3], int src_on_host) {
  CudaState *cs = state(dev);
  const size_t bytes = lucy__padded_count(L) * sizeof(float);
  CK(cudaMemsetAsync(dst, 0, bytes, cs->stream), "(zeroing %zu bytes)", bytes);
  const size_t nrows = M[0] * M[1], row_bytes = M[2] * sizeof(float);
  if (!src_on_host) {
    CKK(lucy_cuk_embed(dst, L, src, M, shift, 0, nrows, cs->stream), "embed kernel",
        nrows * M[2]);
    return LUCY_OK;
  }
  size_t chunk = 0;
  LucyStatus st = staging(dev, nrows * row_bytes, row_bytes, &chunk);
  if (st) return st;
  for (size_t r = 0; r < nrows; r += chunk) {
    const size_t n = nrows - r < chunk ? nrows - r : chunk;
    CK(cudaMemcpyAsync(cs->staging, src + r * M[2], n * row_bytes, cudaMemcpyHostToDevice,
                       cs->stream),
       "(embedding rows %zu..%zu of a %zux%zux%zu host array)", r, r + n, M[0], M[1], M[2]);
    CKK(lucy_cuk_embed(dst, L, cs->staging, M, shift, r, n, cs->stream), "embed kernel",
        n * M[2]);
  }
  /* The host array may change once we return: the copies must be done. */
  CK(cudaStreamSynchronize(cs->stream), "(after embedding a %zux%zux%zu host array)", M[0],
     M[1], M[2]);
  return LUCY_OK;
}

static LucyStatus cuda_extract(LucyDevice *dev, float *dst, const size_t N[3], const float *src,
                               const size_t L[3], const ptrdiff_t offset[3], float scale,
                               int dst_on_host) {
  CudaState *cs = state(dev);
  const size_t nrows = N[0] * N[1], row_bytes = N[2] * sizeof(float);
  if (!dst_on_host) {
    CKK(lucy_cuk_extract(dst, N, src, L, offset, scale, 0, nrows, cs->stream), "extract kernel",
        nrows * N[2]);
    return LUCY_OK;
  }
  size_t chunk = 0;
  LucyStatus st = staging(dev, nrows * row_bytes, row_bytes, &chunk);
  if (st) return st;
  for (size_t r = 0; r < nrows; r += chunk) {
    const size_t n = nrows - r < chunk ? nrows - r : chunk;
    CKK(lucy_cuk_extract(cs->staging, N, src, L, offset, scale, r, n, cs->stream),
        "extract kernel", n * N[2]);
    CK(cudaMemcpyAsync(dst + r * N[2], cs->staging, n * row_bytes, cudaMemcpyDeviceToHost,
                       cs->stream),
       "(extracting rows %zu..%zu of a %zux%zux%zu array)", r, r + n, N[0], N[1], N[2]);
  }
  CK(cudaStreamSynchronize(cs->stream), "(after extracting a %zux%zux%zu array)", N[0], N[1],
     N[2]);
  return LUCY_OK;
}

/* ---- FFT plans -------------------------------------------------------------------------- */

static void destroy_plan(LucyDevice *dev, LucyFftPlan *p) {
  if (p->have_r2c) cufftDestroy(p->r2c);
  if (p->have_c2r) cufftDestroy(p->c2r);
  raw_release(dev, p->work);
  free(p);
}

/* The work area, allocated when the first user takes the shape (fft_plan) and freed when the
 * last one gives it back (fft_plan_release); the cuFFT handles stay cached without it. */
static LucyStatus attach_work(LucyDevice *dev, LucyFftPlan *p) {
  if (p->work || !p->work_bytes) return LUCY_OK;
  LucyStatus st = raw_alloc(dev, p->work_bytes, &p->work);
  if (st)
    return lucy__fail_context(st, "cuFFT work area for a %zux%zux%zu plan: ", p->shape[0],
                              p->shape[1], p->shape[2]);
  CKFFT(cufftSetWorkArea(p->r2c, p->work), "(r2c %zu bytes)", p->work_bytes);
  CKFFT(cufftSetWorkArea(p->c2r, p->work), "(c2r %zu bytes)", p->work_bytes);
  return LUCY_OK;
}

static LucyStatus make_plan(LucyDevice *dev, const size_t s[3], LucyFftPlan *p) {
  CudaState *cs = state(dev);
  /* An in-place plan is useless without its P-byte buffer: a shape whose buffer alone exceeds
   * the card fails here, as the allocation would, rather than in cuFFT's planner (which
   * refuses some such shapes with CUFFT_INVALID_SIZE). */
  const size_t total = gpu_total_bytes(), P = lucy__padded_count(s) * sizeof(float);
  if (total && P > total)
    return lucy__fail(LUCY_ERR_DEVICE_MEMORY,
                      "an FFT of %zux%zux%zu transforms a %zu-byte buffer in place, more than "
                      "GPU %d has (%zu bytes)", s[0], s[1], s[2], P, cs->ordinal, total);
  cufftHandle h[2];
  int have[2] = {0, 0};
  const char *call = NULL;
  const cufftResult r = plan_pair(s, h, have, &p->work_bytes, &call);
  p->r2c = h[0];
  p->have_r2c = have[0];
  p->c2r = h[1];
  p->have_c2r = have[1];
  if (r != CUFFT_SUCCESS) {
    (void)cudaGetLastError();
    return lucy__fail(r == CUFFT_ALLOC_FAILED ? LUCY_ERR_DEVICE_MEMORY : LUCY_ERR_FFT,
                      "%s failed: %s (%d) planning the in-place r2c/c2r pair of %zux%zux%zu",
                      call, cufft_name(r), (int)r, s[0], s[1], s[2]);
  }
  LucyStatus st = attach_work(dev, p);
  if (st) return st;
  CKFFT(cufftSetStream(p->r2c, cs->stream), "(r2c)");
  CKFFT(cufftSetStream(p->c2r, cs->stream), "(c2r)");
  return LUCY_OK;
}

static LucyStatus cuda_fft_plan(LucyDevice *dev, const size_t s[3], LucyFftPlan **out) {
  *out = NULL;
  for (int a = 0; a < 3; a++)
    if (s[a] == 0 || s[a] > INT_MAX)
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "cannot plan an FFT of shape %zux%zux%zu",
                        s[0], s[1], s[2]);
  CudaState *cs = state(dev);
  pthread_mutex_lock(&cs->lock);
  LucyFftPlan *p = cs->plans;
  while (p && memcmp(p->shape, s, sizeof p->shape) != 0) p = p->next;
  pthread_mutex_unlock(&cs->lock);
  if (p) {
    LucyStatus st = attach_work(dev, p);
    if (st) return st;
    p->users++;
    *out = p;
    return LUCY_OK;
  }
  p = calloc(1, sizeof *p);
  if (!p) return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory planning an FFT");
  memcpy(p->shape, s, sizeof p->shape);
  LucyStatus st = make_plan(dev, s, p);
  if (st) {
    destroy_plan(dev, p);
    return st;
  }
  p->users = 1;
  pthread_mutex_lock(&cs->lock);
  p->next = cs->plans;
  cs->plans = p;
  pthread_mutex_unlock(&cs->lock);
  *out = p;
  return LUCY_OK;
}

static void cuda_fft_plan_release(LucyDevice *dev, LucyFftPlan *p) {
  if (!p || p->users <= 0) return;
  if (--p->users == 0) { /* raw_release waits for the stream: no queued FFT still uses it */
    raw_release(dev, p->work);
    p->work = NULL;
  }
}

static LucyStatus cuda_fft_r2c(LucyDevice *dev, LucyFftPlan *p, float *buf) {
  (void)dev;
  CKFFT(cufftExecR2C(p->r2c, (cufftReal *)buf, (cufftComplex *)(void *)buf),
        "(in place, %zux%zux%zu)", p->shape[0], p->shape[1], p->shape[2]);
  lucy__device_count_fft();
  return LUCY_OK;
}

static LucyStatus cuda_fft_c2r(LucyDevice *dev, LucyFftPlan *p, float *buf) {
  (void)dev;
  CKFFT(cufftExecC2R(p->c2r, (cufftComplex *)(void *)buf, (cufftReal *)buf),
        "(in place, %zux%zux%zu)", p->shape[0], p->shape[1], p->shape[2]);
  lucy__device_count_fft();
  return LUCY_OK;
}

static size_t cuda_fft_work_bytes(LucyDevice *dev, LucyFftPlan *p) {
  (void)dev;
  return p ? p->work_bytes : 0;
}

/* ---- element-wise and reductions -------------------------------------------------------- */

static LucyStatus cuda_cmul(LucyDevice *dev, float *a, const float *b, size_t count,
                            int conjugate, float scale) {
  CKK(lucy_cuk_cmul(a, b, count, conjugate, scale, state(dev)->stream), "cmul kernel", count);
  return LUCY_OK;
}

static LucyStatus cuda_cscale(LucyDevice *dev, float *a, size_t count, float scale) {
  CKK(lucy_cuk_scale(a, 2 * count, scale, state(dev)->stream), "cscale kernel", count);
  return LUCY_OK;
}

static LucyStatus cuda_fill(LucyDevice *dev, float *buf, size_t count, float value) {
  CKK(lucy_cuk_fill(buf, count, value, state(dev)->stream), "fill kernel", count);
  return LUCY_OK;
}

/* Downloads k partial sums and adds each in block order. */
static LucyStatus finish_sums(LucyDevice *dev, int k, double *out) {
  CudaState *cs = state(dev);
  const size_t n = (size_t)k * LUCY_CUK_BLOCKS;
  CK(cudaMemcpyAsync(cs->host_partial, cs->partial, n * sizeof(double), cudaMemcpyDeviceToHost,
                     cs->stream),
     "(%d reduction partials)", k);
  CK(cudaStreamSynchronize(cs->stream), "(after a reduction)");
  for (int s = 0; s < k; s++) {
    double acc = 0.0;
    for (size_t b = 0; b < LUCY_CUK_BLOCKS; b++) acc += cs->host_partial[s * LUCY_CUK_BLOCKS + b];
    out[s] = acc;
  }
  return LUCY_OK;
}

static LucyStatus cuda_reduce(LucyDevice *dev, const float *buf, size_t count, double out[3]) {
  CudaState *cs = state(dev);
  if (!count) {
    out[0] = out[1] = out[2] = 0.0;
    return LUCY_OK;
  }
  CKK(lucy_cuk_reduce(buf, count, cs->partial, cs->stream), "reduce kernel", count);
  CK(cudaMemcpyAsync(cs->host_partial, cs->partial, 3 * LUCY_CUK_BLOCKS * sizeof(double),
                     cudaMemcpyDeviceToHost, cs->stream),
     "(reduction partials)");
  CK(cudaStreamSynchronize(cs->stream), "(after a reduction of %zu floats)", count);
  double sum = 0.0, lo = cs->host_partial[LUCY_CUK_BLOCKS], hi = cs->host_partial[2 * LUCY_CUK_BLOCKS];
  for (size_t b = 0; b < LUCY_CUK_BLOCKS; b++) {
    sum += cs->host_partial[b];
    const double l = cs->host_partial[LUCY_CUK_BLOCKS + b], h = cs->host_partial[2 * LUCY_CUK_BLOCKS + b];
    lo = l < lo ? l : lo;
    hi = h > hi ? h : hi;
  }
  out[0] = sum;
  out[1] = lo;
  out[2] = hi;
  return LUCY_OK;
}

/* Downloads one partial maximum per block and takes the largest. */
static LucyStatus finish_max(LucyDevice *dev, size_t count, double *out) {
  CudaState *cs = state(dev);
  CK(cudaMemcpyAsync(cs->host_partial, cs->partial, LUCY_CUK_BLOCKS * sizeof(double),
                     cudaMemcpyDeviceToHost, cs->stream),
     "(reduction partials)");
  CK(cudaStreamSynchronize(cs->stream), "(after max |a|^2 over %zu values)", count);
  double hi = 0.0;
  for (size_t b = 0; b < LUCY_CUK_BLOCKS; b++) hi = cs->host_partial[b] > hi ? cs->host_partial[b] : hi;
  *out = hi;
  return LUCY_OK;
}

static LucyStatus cuda_cmax_abs2(LucyDevice *dev, const float *a, size_t count, double *out) {
  CKK(lucy_cuk_cmax_abs2(a, count, state(dev)->partial, state(dev)->stream), "cmax_abs2 kernel",
      count);
  return finish_max(dev, count, out);
}

static LucyStatus cuda_zotf_apply(LucyDevice *dev, LucyZOtfOp op, float *a, const LucyZOtf *h,
                                  float k_abs, float scale, double *max_abs2) {
  CudaState *cs = state(dev);
  if (!lucy__zotf_args_ok(op, a, h, max_abs2))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "zotf_apply: bad arguments (op %d)", (int)op);
  const size_t count = lucy__spectrum_count(h->L);
  CKK(lucy_cuk_zotf((int)op, a, h->L, h->planes, h->mz, h->plane_floats, h->z0, h->twiddle,
                    k_abs, scale, cs->partial, cs->stream),
      "zotf kernel", count * h->mz);
  return op == LUCY_ZOTF_MAX_ABS2 ? finish_max(dev, count, max_abs2) : LUCY_OK;
}

static LucyStatus cuda_wiener(LucyDevice *dev, float *a, const float *h, size_t count,
                              float k_abs, float scale) {
  CKK(lucy_cuk_wiener(a, h, count, k_abs, scale, state(dev)->stream), "wiener kernel", count);
  return LUCY_OK;
}

static LucyStatus cuda_embed_smooth(LucyDevice *dev, float *dst, const size_t L[3],
                                    const float *src, const size_t N[3], float lo) {
  CKK(lucy_cuk_embed_smooth(dst, L, src, N, lo, state(dev)->stream), "embed_smooth kernel",
      L[0] * L[1] * L[2]);
  return LUCY_OK;
}

static LucyStatus cuda_rl_ratio(LucyDevice *dev, float *hx, const size_t L[3], const float *obs,
                                const size_t N[3], float background, float eps, double *idiv) {
  CudaState *cs = state(dev);
  CKK(lucy_cuk_rl_ratio(hx, L, obs, N, background, eps, idiv != NULL, cs->partial, cs->stream),
      "rl_ratio kernel", L[0] * L[1] * L[2]);
  if (idiv) return finish_sums(dev, 1, idiv);
  return LUCY_OK;
}

static LucyStatus cuda_rl_update(LucyDevice *dev, float *x, float *corr, const size_t L[3],
                                 const float *weight, const LucyBoxWeights *box,
                                 float weight_value, float weight_min, const float *tv,
                                 float *copy, float *step, double sums[4]) {
  CudaState *cs = state(dev);
  if (box && (weight || !box->sat))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "rl_update: box weights need a table and no "
                      "weight array");
  LucyCukBox b;
  memset(&b, 0, sizeof b);
  if (box) {
    b.sat = box->sat;
    memcpy(b.N, box->N, sizeof b.N);
    memcpy(b.M, box->M, sizeof b.M);
    memcpy(b.L, box->L, sizeof b.L);
    memcpy(b.origin, box->origin, sizeof b.origin);
  }
  CKK(lucy_cuk_rl_update(x, corr, L, weight, &b, weight_value, weight_min, tv, copy, step,
                         sums ? cs->partial : NULL, cs->stream),
      "rl_update kernel", L[0] * L[1] * L[2]);
  if (sums) return finish_sums(dev, 4, sums);
  return LUCY_OK;
}

static LucyStatus cuda_rl_extrapolate(LucyDevice *dev, float *x, float *prev, float *copy,
                                      const size_t L[3], float alpha, double sums[2]) {
  CudaState *cs = state(dev);
  CKK(lucy_cuk_rl_extrapolate(x, prev, copy, L, alpha, sums ? cs->partial : NULL, cs->stream),
      "rl_extrapolate kernel", L[0] * L[1] * L[2]);
  if (sums) return finish_sums(dev, 2, sums);
  return LUCY_OK;
}

static LucyStatus cuda_tv_term(LucyDevice *dev, float *tv, const float *x, const size_t L[3],
                               const float spacing[3], float lambda, float eps) {
  CKK(lucy_cuk_tv_term(tv, x, L, spacing, lambda, eps, state(dev)->stream), "tv_term kernel",
      L[0] * L[1] * L[2]);
  return LUCY_OK;
}

/* ---- NUFFT transforms: not on this device yet ------------------------------------------- */

static LucyStatus cuda_cfft_plan(LucyDevice *dev, int rank, const size_t shape[3], int sign,
                                 int double_precision, LucyCfftPlan **out) {
  (void)dev, (void)rank, (void)shape, (void)sign, (void)double_precision;
  *out = NULL;
  return lucy__fail(LUCY_ERR_UNSUPPORTED,
                    "the CUDA device has no complex-to-complex FFTs yet (NUFFT runs on the CPU)");
}

static LucyStatus cuda_cfft_execute(LucyDevice *dev, LucyCfftPlan *plan, void *buf) {
  (void)dev, (void)plan, (void)buf;
  return lucy__fail(LUCY_ERR_UNSUPPORTED, "the CUDA device has no complex-to-complex FFTs yet");
}

static void cuda_cfft_plan_free(LucyDevice *dev, LucyCfftPlan *plan) { (void)dev, (void)plan; }

static LucyStatus cuda_cfft_plan_strided(LucyDevice *dev, size_t n, ptrdiff_t stride,
                                         int nbatch, const size_t batch_n[4],
                                         const ptrdiff_t batch_stride[4], int sign,
                                         int double_precision, void *buf, LucyCfftPlan **out) {
  (void)dev, (void)n, (void)stride, (void)nbatch, (void)batch_n, (void)batch_stride, (void)sign;
  (void)double_precision, (void)buf;
  *out = NULL;
  return lucy__fail(LUCY_ERR_UNSUPPORTED, "the CUDA device has no strided complex FFTs yet");
}

/* ---- memory and lifetime ---------------------------------------------------------------- */

static LucyStatus cuda_memory_info(LucyDevice *dev, LucyMemoryInfo *info) {
  size_t fr = 0, tot = 0;
  CK(cudaMemGetInfo(&fr, &tot), "(GPU %d)", state(dev)->ordinal);
  info->total_bytes = tot;
  info->free_bytes = fr;
  return LUCY_OK;
}

static void cuda_destroy(LucyDevice *dev) {
  CudaState *cs = state(dev);
  if (!cs) return;
  (void)cudaSetDevice(cs->ordinal); /* the last unref may come from any thread */
  (void)cudaStreamSynchronize(cs->stream);
  while (cs->plans) {
    LucyFftPlan *next = cs->plans->next;
    destroy_plan(dev, cs->plans);
    cs->plans = next;
  }
  raw_release(dev, cs->staging);
  raw_release(dev, cs->partial);
  while (cs->blocks) { /* buffers a caller forgot: free them with the device */
    Block *b = cs->blocks;
    cs->blocks = b->next;
    (void)cudaFree(b->ptr);
    lucy__device_unaccount(dev, b->bytes);
    free(b);
  }
  if (cs->stream) (void)cudaStreamDestroy(cs->stream);
  (void)cudaGetLastError();
  pthread_mutex_destroy(&cs->lock);
  pthread_mutex_destroy(&cs->op_lock);
  free(cs);
  dev->impl = NULL;
}

/* ---- entry: one host thread at a time ------------------------------------------------------ */

/* Every op runs under the device's op_lock: the staging buffer, the reduction scratch and the
 * cached cuFFT plans (cuFFT allows concurrent use of distinct plans only) are shared by all the
 * plans on a device, and its one stream orders their GPU work anyway. Each entry also makes the
 * device's GPU current, which a thread other than the creator's need not have (multi-GPU). */
static LucyStatus enter(CudaState *cs) {
  pthread_mutex_lock(&cs->op_lock);
  cudaError_t e = cudaSetDevice(cs->ordinal);
  if (e == cudaSuccess) return LUCY_OK;
  pthread_mutex_unlock(&cs->op_lock);
  return cuda_fail(e, "cudaSetDevice", "(GPU %d)", cs->ordinal);
}

static void leave(CudaState *cs) { pthread_mutex_unlock(&cs->op_lock); }

#define LOCKED(op, params, args)                                                               \
  static LucyStatus locked_##op params {                                                       \
    CudaState *cs = state(dev);                                                                \
    LucyStatus st = enter(cs);                                                                 \
    if (st) return st;                                                                         \
    st = cuda_##op args;                                                                       \
    leave(cs);                                                                                 \
    return st;                                                                                 \
  }

LOCKED(alloc, (LucyDevice *dev, size_t bytes, float **out), (dev, bytes, out))
LOCKED(upload, (LucyDevice *dev, float *dst, const float *src, size_t n), (dev, dst, src, n))
LOCKED(download, (LucyDevice *dev, float *dst, const float *src, size_t n), (dev, dst, src, n))
LOCKED(embed, (LucyDevice *dev, float *dst, const size_t L[3], const float *src, const size_t M[3],
               const ptrdiff_t shift[3], int on_host), (dev, dst, L, src, M, shift, on_host))
LOCKED(extract, (LucyDevice *dev, float *dst, const size_t N[3], const float *src,
                 const size_t L[3], const ptrdiff_t off[3], float scale, int on_host),
       (dev, dst, N, src, L, off, scale, on_host))
LOCKED(fft_plan, (LucyDevice *dev, const size_t s[3], LucyFftPlan **out), (dev, s, out))
LOCKED(fft_r2c, (LucyDevice *dev, LucyFftPlan *p, float *buf), (dev, p, buf))
LOCKED(fft_c2r, (LucyDevice *dev, LucyFftPlan *p, float *buf), (dev, p, buf))
LOCKED(cmul, (LucyDevice *dev, float *a, const float *b, size_t n, int conj, float scale),
       (dev, a, b, n, conj, scale))
LOCKED(cscale, (LucyDevice *dev, float *a, size_t n, float scale), (dev, a, n, scale))
LOCKED(zotf_apply, (LucyDevice *dev, LucyZOtfOp op, float *a, const LucyZOtf *h, float k_abs,
                    float scale, double *max_abs2), (dev, op, a, h, k_abs, scale, max_abs2))
LOCKED(memory_info, (LucyDevice *dev, LucyMemoryInfo *info), (dev, info))
LOCKED(fill, (LucyDevice *dev, float *buf, size_t n, float value), (dev, buf, n, value))
LOCKED(reduce, (LucyDevice *dev, const float *buf, size_t n, double out[3]), (dev, buf, n, out))
LOCKED(cmax_abs2, (LucyDevice *dev, const float *a, size_t n, double *out), (dev, a, n, out))
LOCKED(wiener, (LucyDevice *dev, float *a, const float *h, size_t n, float k_abs, float scale),
       (dev, a, h, n, k_abs, scale))
LOCKED(embed_smooth, (LucyDevice *dev, float *dst, const size_t L[3], const float *src,
                      const size_t N[3], float lo), (dev, dst, L, src, N, lo))
LOCKED(rl_ratio, (LucyDevice *dev, float *hx, const size_t L[3], const float *obs,
                  const size_t N[3], float bg, float eps, double *idiv),
       (dev, hx, L, obs, N, bg, eps, idiv))
LOCKED(rl_update, (LucyDevice *dev, float *x, float *corr, const size_t L[3], const float *w,
                   const LucyBoxWeights *box, float wv, float wmin, const float *tv, float *copy,
                   float *step, double sums[4]), (dev, x, corr, L, w, box, wv, wmin, tv, copy,
                                                   step, sums))
LOCKED(rl_extrapolate, (LucyDevice *dev, float *x, float *prev, float *copy, const size_t L[3],
                        float alpha, double sums[2]), (dev, x, prev, copy, L, alpha, sums))
LOCKED(tv_term, (LucyDevice *dev, float *tv, const float *x, const size_t L[3],
                 const float spacing[3], float lambda, float eps),
       (dev, tv, x, L, spacing, lambda, eps))
#undef LOCKED

static void locked_release(LucyDevice *dev, float *buf) {
  CudaState *cs = state(dev);
  pthread_mutex_lock(&cs->op_lock);
  (void)cudaSetDevice(cs->ordinal); /* a release cannot fail: cudaFree reports nothing here */
  cuda_release(dev, buf);
  pthread_mutex_unlock(&cs->op_lock);
}

static void locked_fft_plan_release(LucyDevice *dev, LucyFftPlan *p) {
  CudaState *cs = state(dev);
  pthread_mutex_lock(&cs->op_lock);
  (void)cudaSetDevice(cs->ordinal);
  cuda_fft_plan_release(dev, p);
  pthread_mutex_unlock(&cs->op_lock);
}

static size_t locked_fft_work_bytes(LucyDevice *dev, LucyFftPlan *p) {
  CudaState *cs = state(dev);
  pthread_mutex_lock(&cs->op_lock);
  const size_t bytes = cuda_fft_work_bytes(dev, p);
  pthread_mutex_unlock(&cs->op_lock);
  return bytes;
}

static const LucyDeviceOps cuda_ops = {
  .name = "cuda",
  .host_memory = 0,
  .destroy = cuda_destroy,
  .alloc = locked_alloc,
  .release = locked_release,
  .upload = locked_upload,
  .download = locked_download,
  .embed = locked_embed,
  .extract = locked_extract,
  .fft_plan = locked_fft_plan,
  .fft_r2c = locked_fft_r2c,
  .fft_c2r = locked_fft_c2r,
  .fft_work_bytes = locked_fft_work_bytes,
  .fft_plan_release = locked_fft_plan_release,
  .cmul = locked_cmul,
  .cscale = locked_cscale,
  .zotf_apply = locked_zotf_apply,
  .memory_info = locked_memory_info,
  .fill = locked_fill,
  .reduce = locked_reduce,
  .cmax_abs2 = locked_cmax_abs2,
  .wiener = locked_wiener,
  .embed_smooth = locked_embed_smooth,
  .rl_ratio = locked_rl_ratio,
  .rl_update = locked_rl_update,
  .rl_extrapolate = locked_rl_extrapolate,
  .tv_term = locked_tv_term,
  .cfft_plan = cuda_cfft_plan,
  .cfft_execute = cuda_cfft_execute,
  .cfft_plan_free = cuda_cfft_plan_free,
  .cfft_plan_strided = cuda_cfft_plan_strided,
};

_Static_assert(LUCY_CUDA_SCRATCH_BYTES == LUCY_CUK_BLOCKS * 4 * sizeof(double),
               "the planner's scratch size is the kernels' partial-sum area");

LucyStatus lucy__device_cuda_init(LucyDevice *dev) {
  const char *reason = NULL;
  const int count = lucy__cuda_device_count(&reason);
  if (count <= 0) return lucy__fail(LUCY_ERR_UNSUPPORTED, "cannot use the CUDA device: %s", reason);
  const int ord = dev->opts.ordinal;
  if (ord < 0 || ord >= count)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "CUDA device %d does not exist (%d found)", ord,
                      count);
  CK(cudaSetDevice(ord), "(GPU %d)", ord);
  CudaState *cs = calloc(1, sizeof *cs);
  if (!cs) return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory creating the CUDA device");
  cs->ordinal = ord;
  pthread_mutex_init(&cs->lock, NULL);
  pthread_mutex_init(&cs->op_lock, NULL);
  dev->impl = cs;
  dev->ops = &cuda_ops;
  cudaError_t e = cudaStreamCreateWithFlags(&cs->stream, cudaStreamNonBlocking);
  LucyStatus st = LUCY_OK;
  if (e != cudaSuccess)
    st = cuda_fail(e, "cudaStreamCreateWithFlags", "(GPU %d)", ord);
  void *p = NULL;
  if (!st) st = raw_alloc(dev, LUCY_CUDA_SCRATCH_BYTES, &p);
  cs->partial = p;
  if (st) {
    cuda_destroy(dev);
    dev->ops = NULL;
    return st;
  }
  struct cudaDeviceProp prop;
  if (cudaGetDeviceProperties(&prop, ord) == cudaSuccess)
    snprintf(dev->name, sizeof dev->name, "cuda:%d (%.40s)", ord, prop.name);
  else
    snprintf(dev->name, sizeof dev->name, "cuda:%d", ord);
  (void)cudaGetLastError();
  return LUCY_OK;
}
