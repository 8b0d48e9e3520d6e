/* The cuFFT calls of core/src/cuda/device-cuda.c over FFTW single precision, holding callers to
 * cuFFT's contract rather than FFTW's:
 *
 * - Layouts are cuFFT's: NULL embeds mean the basic layout, which for an in-place real
 *   transform has the real rows padded to 2 (n/2 + 1) floats; otherwise rank, n, the embeds,
 *   strides, distances and batch go to FFTW's guru64 interface as they are. Transforms are
 *   unnormalised, like cuFFT's and FFTW's.
 * - Every plan reports a work area of one complex array at its shape (the bound that real
 *   multi-dimensional r2c/c2r plans stay within, and what core/src/memory.c assumes without a
 *   driver), and every exec first fills that area with NaN: a caller that keeps
 *   data in a work area between transforms loses it here, as it would on a GPU. With
 *   auto-allocation off, exec without a work area, or with one that is not inside a live block
 *   of at least the reported size, fails.
 * - The data of an exec must lie inside live blocks big enough for the transform; an
 *   out-of-place c2r leaves NaN in its input (cuFFT may overwrite it).
 *
 * FFTW plans are made lazily at the first exec, one for in-place and one for out-of-place use
 * (FFTW plans are one or the other), with FFTW_ESTIMATE | FFTW_UNALIGNED so that the new-array
 * execute functions accept any buffer. FFTW's planner is not thread-safe and liblucy's CPU
 * device plans in the same process: planning here holds the emulator's lock, and the planner
 * is made thread-safe process-wide (fftwf_make_planner_thread_safe) against liblucy's. */
#include <cufft.h>
#include <fftw3.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cuda-emu.h"

typedef struct Plan {
  int made, auto_alloc, basic;
  int rank;
  long long n[3], inembed[3], onembed[3];
  long long istride, idist, ostride, odist, batch;
  cufftType type;
  size_t work_size;
  void *work;
  int work_owned; /* auto-allocated by the plan */
  cudaStream_t stream;
  fftwf_plan fftw[2]; /* [in place] */
} Plan;

static pthread_mutex_t plan_lock = PTHREAD_MUTEX_INITIALIZER; /* the handle table */
static pthread_mutex_t fftw_lock = PTHREAD_MUTEX_INITIALIZER; /* FFTW's planner */
static Plan **plans;
static int n_plans;
static int fft_threads;

/* When the module is opened, before it plans anything: FFTW's planner serialised process-wide,
 * and large transforms on the machine's cores (the gpu tests' biggest shapes are GPU-sized). */
__attribute__((constructor)) static void fftw_init(void) {
  /* before any fftwf_plan_with_nthreads: without it, FFTW 3.3.10's first call runs
   * fftwf_cleanup, which would undo the plans liblucy's CPU device already holds */
  fftwf_init_threads();
  fftwf_make_planner_thread_safe();
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  fft_threads = cpus > 4 ? 4 : cpus > 1 ? (int)cpus : 1;
}

static Plan *get(cufftHandle h) {
  pthread_mutex_lock(&plan_lock);
  Plan *p = h >= 1 && h <= n_plans ? plans[h - 1] : NULL;
  pthread_mutex_unlock(&plan_lock);
  return p;
}

/* A refused call: the reason on stderr, the result to the caller. */
static cufftResult bad(cufftResult r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static cufftResult bad(cufftResult r, const char *fmt, ...) {
  char line[500];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  lucy_emu_report("%s", line);
  return r;
}

cufftResult cufftCreate(cufftHandle *handle) {
  if (!handle) return CUFFT_INVALID_VALUE;
  Plan *p = calloc(1, sizeof *p);
  if (!p) return CUFFT_ALLOC_FAILED;
  p->auto_alloc = 1;
  pthread_mutex_lock(&plan_lock);
  Plan **t = realloc(plans, (size_t)(n_plans + 1) * sizeof *t);
  if (!t) {
    pthread_mutex_unlock(&plan_lock);
    free(p);
    return CUFFT_ALLOC_FAILED;
  }
  plans = t;
  plans[n_plans++] = p;
  *handle = n_plans;
  pthread_mutex_unlock(&plan_lock);
  return CUFFT_SUCCESS;
}

cufftResult cufftSetAutoAllocation(cufftHandle plan, int autoAllocate) {
  Plan *p = get(plan);
  if (!p) return bad(CUFFT_INVALID_PLAN, "cufftSetAutoAllocation(%d): no such plan", plan);
  if (p->made)
    return bad(CUFFT_INVALID_VALUE, "cufftSetAutoAllocation(%d): after the plan was made", plan);
  p->auto_alloc = autoAllocate != 0;
  return CUFFT_SUCCESS;
}

/* Complex values of one transform: the last axis halved, as r2c leaves it. */
static long long spectrum_count(const Plan *p) {
  long long c = 1;
  for (int i = 0; i < p->rank; i++) c *= i == p->rank - 1 ? p->n[i] / 2 + 1 : p->n[i];
  return c;
}

/* The work area of every plan: one complex array per transform, rounded up to 256 bytes. */
static size_t work_bytes(const Plan *p) {
  const size_t spectrum_bytes = (size_t)(spectrum_count(p) * p->batch) * 2 * sizeof(float);
  return (spectrum_bytes + 255) / 256 * 256;
}

static int largest_prime_factor(long long v) {
  long long best = 1;
  for (long long f = 2; f * f <= v; f++)
    while (v % f == 0) {
      best = f;
      v /= f;
    }
  if (v > 1) best = v;
  return best > INT32_MAX ? INT32_MAX : (int)best;
}

cufftResult cufftMakePlanMany64(cufftHandle plan, int rank, long long int *n,
                                long long int *inembed, long long int istride,
                                long long int idist, long long int *onembed,
                                long long int ostride, long long int odist, cufftType type,
                                long long int batch, size_t *workSize) {
  Plan *p = get(plan);
  if (!p) return bad(CUFFT_INVALID_PLAN, "cufftMakePlanMany64(%d): no such plan", plan);
  if (p->made) return bad(CUFFT_INVALID_PLAN, "cufftMakePlanMany64(%d): made twice", plan);
  if (rank < 1 || rank > 3 || !n || batch < 1)
    return bad(CUFFT_INVALID_VALUE, "cufftMakePlanMany64: rank %d, batch %lld", rank, batch);
  if (type != CUFFT_R2C && type != CUFFT_C2R)
    return bad(CUFFT_NOT_IMPLEMENTED, "cufftMakePlanMany64: the emulator has R2C and C2R only");
  if ((inembed == NULL) != (onembed == NULL))
    return bad(CUFFT_INVALID_VALUE, "cufftMakePlanMany64: one embed NULL, the other not");
  long long total = batch;
  for (int i = 0; i < rank; i++) {
    if (n[i] < 1) return bad(CUFFT_INVALID_SIZE, "cufftMakePlanMany64: n[%d] = %lld", i, n[i]);
    total *= n[i];
  }
  /* cuFFT documents transforms above 2^32 elements only for sizes whose prime factors are
   * all <= 127, and real ones only with an even innermost size. */
  if (total > (1LL << 32)) {
    for (int i = 0; i < rank; i++)
      if (largest_prime_factor(n[i]) > 127)
        return bad(CUFFT_INVALID_SIZE, "cufftMakePlanMany64: %lld elements and n[%d] = %lld has "
                   "a prime factor above 127", total, i, n[i]);
    if (n[rank - 1] % 2)
      return bad(CUFFT_INVALID_SIZE, "cufftMakePlanMany64: %lld elements and an odd last size",
                 total);
  }
  p->rank = rank;
  p->type = type;
  p->batch = batch;
  p->basic = inembed == NULL;
  for (int i = 0; i < rank; i++) {
    p->n[i] = n[i];
    if (!p->basic) {
      p->inembed[i] = inembed[i];
      p->onembed[i] = onembed[i];
    }
  }
  if (!p->basic) {
    if (istride < 1 || ostride < 1 || idist < 1 || odist < 1)
      return bad(CUFFT_INVALID_VALUE, "cufftMakePlanMany64: strides and distances must be >= 1");
    p->istride = istride;
    p->idist = idist;
    p->ostride = ostride;
    p->odist = odist;
  }
  p->work_size = work_bytes(p);
  if (p->auto_alloc) {
    if (lucy_emu_malloc(&p->work, p->work_size) != cudaSuccess)
      return bad(CUFFT_ALLOC_FAILED, "cufftMakePlanMany64: no room for the %zu-byte work area",
                 p->work_size);
    p->work_owned = 1;
  }
  p->made = 1;
  if (workSize) *workSize = p->work_size;
  return CUFFT_SUCCESS;
}

/* The estimates are the figures the plans will report (the documented promise is only that
 * the estimate is at least what the plan needs). */
cufftResult cufftEstimateMany(int rank, int *n, int *inembed, int istride, int idist,
                              int *onembed, int ostride, int odist, cufftType type, int batch,
                              size_t *workSize) {
  (void)inembed, (void)istride, (void)idist, (void)onembed, (void)ostride, (void)odist;
  if (rank < 1 || rank > 3 || !n || batch < 1 || !workSize) return CUFFT_INVALID_VALUE;
  if (type != CUFFT_R2C && type != CUFFT_C2R) return CUFFT_NOT_IMPLEMENTED;
  Plan p = {.rank = rank, .batch = batch};
  for (int i = 0; i < rank; i++) {
    if (n[i] < 1) return CUFFT_INVALID_SIZE;
    p.n[i] = n[i];
  }
  *workSize = work_bytes(&p);
  return CUFFT_SUCCESS;
}

cufftResult cufftEstimate1d(int nx, cufftType type, int batch, size_t *workSize) {
  return cufftEstimateMany(1, (int[]){nx}, NULL, 1, 0, NULL, 1, 0, type, batch, workSize);
}

cufftResult cufftEstimate2d(int nx, int ny, cufftType type, size_t *workSize) {
  return cufftEstimateMany(2, (int[]){nx, ny}, NULL, 1, 0, NULL, 1, 0, type, 1, workSize);
}

cufftResult cufftEstimate3d(int nx, int ny, int nz, cufftType type, size_t *workSize) {
  return cufftEstimateMany(3, (int[]){nx, ny, nz}, NULL, 1, 0, NULL, 1, 0, type, 1, workSize);
}

cufftResult cufftGetSize(cufftHandle handle, size_t *workSize) {
  Plan *p = get(handle);
  if (!p || !p->made) return bad(CUFFT_INVALID_PLAN, "cufftGetSize(%d): no plan made", handle);
  if (!workSize) return CUFFT_INVALID_VALUE;
  *workSize = p->work_size;
  return CUFFT_SUCCESS;
}

cufftResult cufftSetWorkArea(cufftHandle plan, void *workArea) {
  Plan *p = get(plan);
  if (!p) return bad(CUFFT_INVALID_PLAN, "cufftSetWorkArea(%d): no such plan", plan);
  if (p->work_owned) { /* cuFFT frees an auto-allocated area it replaces */
    lucy_emu_free(p->work);
    p->work_owned = 0;
  }
  p->work = workArea;
  return CUFFT_SUCCESS;
}

cufftResult cufftSetStream(cufftHandle plan, cudaStream_t stream) {
  Plan *p = get(plan);
  if (!p) return bad(CUFFT_INVALID_PLAN, "cufftSetStream(%d): no such plan", plan);
  if (!lucy_emu_stream_ok(stream))
    return bad(CUFFT_INVALID_VALUE, "cufftSetStream(%d): stream %p is not live", plan,
               (void *)stream);
  p->stream = stream;
  return CUFFT_SUCCESS;
}

cufftResult cufftDestroy(cufftHandle plan) {
  pthread_mutex_lock(&plan_lock);
  Plan *p = plan >= 1 && plan <= n_plans ? plans[plan - 1] : NULL;
  if (p) plans[plan - 1] = NULL;
  pthread_mutex_unlock(&plan_lock);
  if (!p) return bad(CUFFT_INVALID_PLAN, "cufftDestroy(%d): no such plan", plan);
  pthread_mutex_lock(&fftw_lock);
  for (int k = 0; k < 2; k++)
    if (p->fftw[k]) fftwf_destroy_plan(p->fftw[k]);
  pthread_mutex_unlock(&fftw_lock);
  if (p->work_owned) lucy_emu_free(p->work);
  free(p);
  return CUFFT_SUCCESS;
}

/* ---- execution ------------------------------------------------------------------------------ */

/* One side of a transform in elements of its type: per-axis strides, distance, extent. */
typedef struct Side {
  long long n[3], stride[3], dist, extent;
} Side;

/* real: the real side (n), else the complex side (last axis n/2 + 1). embed NULL: the basic
 * layout, whose real rows are padded in place. */
static Side side_of(const Plan *p, int real, const long long *embed, long long stride,
                    long long dist, int in_place) {
  Side s;
  long long e[3];
  for (int i = 0; i < p->rank; i++) {
    s.n[i] = p->n[i];
    if (!real && i == p->rank - 1) s.n[i] = p->n[i] / 2 + 1;
    e[i] = embed ? embed[i] : s.n[i];
  }
  if (!embed) {
    if (real && in_place) e[p->rank - 1] = 2 * (p->n[p->rank - 1] / 2 + 1);
    stride = 1;
    dist = 1;
    for (int i = 0; i < p->rank; i++) dist *= e[i];
  }
  long long acc = stride, extent = 1 + (p->batch - 1) * dist;
  for (int i = p->rank - 1; i >= 0; i--) {
    s.stride[i] = acc;
    extent += (s.n[i] - 1) * acc;
    acc *= e[i];
  }
  s.dist = dist;
  s.extent = extent;
  return s;
}

static fftwf_plan make_fftw(const Plan *p, const Side *in, const Side *out, void *idata,
                            void *odata) {
  fftwf_iodim64 dims[3], loop = {.n = p->batch, .is = in->dist, .os = out->dist};
  for (int i = 0; i < p->rank; i++)
    dims[i] = (fftwf_iodim64){.n = p->n[i], .is = in->stride[i], .os = out->stride[i]};
  const unsigned flags = FFTW_ESTIMATE | FFTW_UNALIGNED;
  long long total = p->batch;
  for (int i = 0; i < p->rank; i++) total *= p->n[i];
  pthread_mutex_lock(&fftw_lock);
  const int before = fftwf_planner_nthreads();
  fftwf_plan_with_nthreads(total >= (1 << 20) ? fft_threads : 1);
  fftwf_plan f = p->type == CUFFT_R2C
                     ? fftwf_plan_guru64_dft_r2c(p->rank, dims, 1, &loop, idata, odata, flags)
                     : fftwf_plan_guru64_dft_c2r(p->rank, dims, 1, &loop, idata, odata, flags);
  fftwf_plan_with_nthreads(before);
  pthread_mutex_unlock(&fftw_lock);
  return f;
}

static cufftResult exec(cufftHandle plan, cufftType type, const char *call, void *idata,
                        void *odata) {
  Plan *p = get(plan);
  if (!p || !p->made) return bad(CUFFT_INVALID_PLAN, "%s(%d): no plan made", call, plan);
  if (p->type != type) return bad(CUFFT_INVALID_PLAN, "%s(%d): the plan is of another type", call, plan);
  if (lucy_emu_sticky()) return CUFFT_EXEC_FAILED;
  if (!lucy_emu_stream_ok(p->stream))
    return bad(CUFFT_EXEC_FAILED, "%s(%d): its stream %p was destroyed", call, plan,
               (void *)p->stream);
  const int in_place = idata == odata, r2c = type == CUFFT_R2C;
  const Side in = side_of(p, r2c, p->basic ? NULL : p->inembed, p->istride, p->idist, in_place);
  const Side out = side_of(p, !r2c, p->basic ? NULL : p->onembed, p->ostride, p->odist, in_place);
  const size_t in_bytes = (size_t)in.extent * (r2c ? sizeof(float) : 2 * sizeof(float));
  const size_t out_bytes = (size_t)out.extent * (r2c ? 2 * sizeof(float) : sizeof(float));
  char why[300];
  if (!lucy_emu_device_range(idata, in_bytes, why, sizeof why))
    return bad(CUFFT_INVALID_VALUE, "%s(%d): the input needs %zu bytes at %p: %s", call, plan,
               in_bytes, idata, why);
  if (!lucy_emu_device_range(odata, out_bytes, why, sizeof why))
    return bad(CUFFT_INVALID_VALUE, "%s(%d): the output needs %zu bytes at %p: %s", call, plan,
               out_bytes, odata, why);
  const unsigned char *ib = idata, *ob = odata;
  if (!in_place && ib < ob + out_bytes && ob < ib + in_bytes)
    return bad(CUFFT_INVALID_VALUE, "%s(%d): input and output overlap without being in place",
               call, plan);
  if ((uintptr_t)(r2c ? odata : idata) % sizeof(cufftComplex))
    return bad(CUFFT_INVALID_VALUE, "%s(%d): complex data at %p is not %zu-byte aligned", call,
               plan, r2c ? odata : idata, sizeof(cufftComplex));
  if (p->work_size) {
    if (!p->work)
      return bad(CUFFT_INVALID_VALUE, "%s(%d): auto-allocation is off and no work area was set "
                 "(cufftSetWorkArea)", call, plan);
    const size_t have = lucy_emu_bytes_after(p->work);
    if (have < p->work_size)
      return bad(CUFFT_INVALID_VALUE, "%s(%d): the work area %p has %zu bytes in a live block, "
                 "the plan needs %zu", call, plan, p->work, have, p->work_size);
    const unsigned char *w = p->work;
    if ((w < ib + in_bytes && ib < w + p->work_size) ||
        (w < ob + out_bytes && ob < w + p->work_size))
      return bad(CUFFT_INVALID_VALUE, "%s(%d): the work area overlaps the data", call, plan);
    memset(p->work, 0xFF, p->work_size);
  }
  if (!p->fftw[in_place]) {
    p->fftw[in_place] = make_fftw(p, &in, &out, idata, odata);
    if (!p->fftw[in_place])
      return bad(CUFFT_INTERNAL_ERROR, "%s(%d): FFTW cannot plan this layout", call, plan);
  }
  lucy_emu_activity = call;
  if (r2c)
    fftwf_execute_dft_r2c(p->fftw[in_place], idata, odata);
  else
    fftwf_execute_dft_c2r(p->fftw[in_place], idata, odata);
  if (!r2c && !in_place) memset(idata, 0xFF, in_bytes);
  lucy_emu_activity = "host code";
  return CUFFT_SUCCESS;
}

cufftResult cufftExecR2C(cufftHandle plan, cufftReal *idata, cufftComplex *odata) {
  return exec(plan, CUFFT_R2C, "cufftExecR2C", idata, odata);
}

cufftResult cufftExecC2R(cufftHandle plan, cufftComplex *idata, cufftReal *odata) {
  return exec(plan, CUFFT_C2R, "cufftExecC2R", idata, odata);
}
