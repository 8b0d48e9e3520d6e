/* The CPU device: host buffers from fftwf_malloc, FFTW3f real FFTs (in place, threads), and the
 * element-wise kernels with OpenMP.
 *
 * FFTW's planner is not thread-safe: every planner call, fftwf_destroy_plan and every wisdom
 * import/export runs behind one process-wide mutex. Executing a plan on a new array
 * (fftwf_execute_dft_r2c/c2r) is thread-safe and needs no lock.
 *
 * Wisdom: LUCY_PLAN_FAST uses measured wisdom when there is some for the shape, else
 * FFTW_ESTIMATE (the first call never stalls). LUCY_PLAN_THOROUGH runs FFTW_MEASURE on a
 * scratch buffer and then saves the process's wisdom, merged with whatever other processes
 * saved meanwhile, to $XDG_CACHE_HOME/lucy/fftwf-wisdom (~/.cache when unset) through a
 * temporary file renamed into place, so concurrent processes never see a partial file. The
 * file is imported once per process. */
#include <errno.h>
#include <fftw3.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "device-impl.h"
#include "status-private.h"

#ifdef _OPENMP
#define LUCY_OMP_FOR _Pragma("omp parallel for num_threads(nthreads) if(parallel) schedule(static)")
/* The same for element-wise loops that should also vectorise (at any -O level). */
#define LUCY_OMP_FOR_SIMD \
  _Pragma("omp parallel for simd num_threads(nthreads) if(parallel) schedule(static)")
#else
#define LUCY_OMP_FOR_SIMD \
  (void)nthreads;         \
  (void)parallel;
#define LUCY_OMP_FOR \
  (void)nthreads;    \
  (void)parallel;
#endif

/* Work below this many floats is not worth waking threads for. */
#define PARALLEL_MIN ((size_t)1 << 16)

/* Buffers carry a header with their size so release can unaccount it; 64 bytes keep the
 * SIMD alignment fftwf_malloc gives. */
#define HEADER 64

/* The pruned transforms of one box (cpu_fft_plan_box): 2-D (y, x) transforms of the first nz
 * z-planes. Immutable once published on its plan's list. */
typedef struct BoxPlan {
  size_t nz;
  fftwf_plan r2c_xy, c2r_xy;
  int alignment;
  struct BoxPlan *next;
} BoxPlan;

struct LucyFftPlan {
  size_t shape[3];
  fftwf_plan r2c, c2r;
  int alignment; /* fftwf_alignment_of the planning buffer; execute buffers must match */
  fftwf_plan r2c_out; /* out-of-place forward, made by cpu_fft_plan_r2c_out (fftw_lock) */
  int out_alignment[2]; /* its source's and destination's alignment */
  /* Pruned transforms: the z passes over every column, shared by all boxes, made with the
   * first box; the boxes are prepended under fftw_lock and read without it (execute must not
   * wait for a planner that may be measuring for seconds). */
  fftwf_plan z_fwd, z_bwd;
  int z_alignment;
  _Atomic(BoxPlan *) boxes;
  LucyFftPlan *next;
};

typedef struct CpuState {
  LucyFftPlan *plans; /* cache, guarded by fftw_lock */
} CpuState;

static pthread_mutex_t fftw_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t fftw_once = PTHREAD_ONCE_INIT;
static int fftw_threads_ok;
static int wisdom_imported; /* guarded by fftw_lock */

#ifdef _OPENMP
/* FFTW's parallel loops run on OpenMP's threads, the same pool as our element-wise kernels.
 * With FFTW's own pthreads the two pools fight: OpenMP workers spin-wait for a while after each
 * parallel region (libgomp's default), stealing the cores FFTW's threads need next; measured on
 * 2 cores this made a warm convolution 1.5x slower. */
static void omp_parallel_loop(void *(*work)(char *), char *jobdata, size_t elsize, int njobs,
                              void *data) {
  (void)data;
#pragma omp parallel for num_threads(njobs) schedule(static, 1)
  for (int i = 0; i < njobs; i++) work(jobdata + elsize * (size_t)i);
}
#endif

static void fftw_init_once(void) {
  fftw_threads_ok = fftwf_init_threads() != 0;
#ifdef _OPENMP
  if (fftw_threads_ok) fftwf_threads_set_callback(omp_parallel_loop, NULL);
#endif
}

/* Threads for a transform of shape s: one below PARALLEL_MIN floats. Small transforms (tiles,
 * PSF planes) gain nothing from threads, and on a loaded machine waking them costs far more
 * than the transform: a 25-tile RL run took 392 s with 2 threads against 0.43 s with 1. */
static int fft_threads(const LucyDevice *dev, const size_t s[3]) {
  return s[0] * s[1] * s[2] < PARALLEL_MIN ? 1 : dev->opts.threads;
}

/* ---- buffers ---------------------------------------------------------------------------- */

static LucyStatus cpu_alloc(LucyDevice *dev, size_t bytes, float **out) {
  *out = NULL;
  if (bytes > SIZE_MAX - HEADER)
    return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes", bytes);
  unsigned char *p = fftwf_malloc(bytes + HEADER);
  if (!p) {
    LucyMemoryInfo info = {0};
    dev->ops->memory_info(dev, &info);
    return lucy__fail(LUCY_ERR_OUT_OF_MEMORY,
                      "cannot allocate %zu bytes of host memory (%zu bytes available)", bytes,
                      info.free_bytes);
  }
  memcpy(p, &bytes, sizeof bytes);
  lucy__device_account(dev, bytes);
  *out = (float *)(void *)(p + HEADER);
  return LUCY_OK;
}

static void cpu_release(LucyDevice *dev, float *buf) {
  if (!buf) return;
  unsigned char *p = (unsigned char *)buf - HEADER;
  size_t bytes;
  memcpy(&bytes, p, sizeof bytes);
  lucy__device_unaccount(dev, bytes);
  fftwf_free(p);
}

static LucyStatus cpu_copy(LucyDevice *dev, float *dst, const float *src, size_t count) {
  (void)dev;
  if (count) memcpy(dst, src, count * sizeof(float));
  return LUCY_OK;
}

/* ---- embed / extract -------------------------------------------------------------------- */

static inline size_t wrap_index(ptrdiff_t v, size_t n) {
  ptrdiff_t m = v % (ptrdiff_t)n;
  return (size_t)(m < 0 ? m + (ptrdiff_t)n : m);
}

/* d[(xs + i) mod L] += s[i] for i < m, in contiguous segments. */
static void add_row_wrapped(float *restrict d, size_t L, const float *restrict s, size_t m,
                            size_t xs) {
  size_t i = 0, pos = xs;
  while (i < m) {
    size_t n = m - i < L - pos ? m - i : L - pos;
    for (size_t k = 0; k < n; k++) d[pos + k] += s[i + k];
    i += n;
    pos = 0;
  }
}

static LucyStatus cpu_embed(LucyDevice *dev, float *dst, const size_t L[3], const float *src,
                            const size_t M[3], const ptrdiff_t shift[3], int src_on_host) {
  (void)src_on_host;
  const size_t row = lucy__padded_row(L[2]);
  const size_t nrows = L[0] * L[1];
  const size_t xs = wrap_index(shift[2], L[2]);
  const int nthreads = dev->opts.threads;
  const int parallel = nrows * row >= PARALLEL_MIN && nthreads > 1;
  LUCY_OMP_FOR
  for (size_t r = 0; r < nrows; r++) {
    const size_t z = r / L[1], y = r % L[1];
    float *d = dst + r * row;
    /* The first source z and y landing on this row; later ones are L apart (wrap). */
    const size_t z0 = wrap_index((ptrdiff_t)z - shift[0], L[0]);
    const size_t y0 = wrap_index((ptrdiff_t)y - shift[1], L[1]);
    const size_t nz = z0 < M[0] ? (M[0] - 1 - z0) / L[0] + 1 : 0;
    const size_t ny = y0 < M[1] ? (M[1] - 1 - y0) / L[1] + 1 : 0;
    if (nz == 0 || ny == 0) {
      memset(d, 0, row * sizeof(float));
      continue;
    }
    if (nz == 1 && ny == 1 && M[2] <= L[2]) {
      /* The common case: one source row, at most two contiguous pieces, zeros elsewhere. */
      const float *s = src + (z0 * M[1] + y0) * M[2];
      const size_t n1 = M[2] < L[2] - xs ? M[2] : L[2] - xs;
      const size_t n2 = M[2] - n1;
      memcpy(d + xs, s, n1 * sizeof(float));
      if (n2) {
        memcpy(d, s + n1, n2 * sizeof(float));
        memset(d + n2, 0, (xs - n2) * sizeof(float));
      } else {
        memset(d, 0, xs * sizeof(float));
        memset(d + xs + n1, 0, (L[2] - xs - n1) * sizeof(float));
      }
      memset(d + L[2], 0, (row - L[2]) * sizeof(float));
      continue;
    }
    memset(d, 0, row * sizeof(float));
    for (size_t iz = 0; iz < nz; iz++)
      for (size_t iy = 0; iy < ny; iy++) {
        const float *s = src + ((z0 + iz * L[0]) * M[1] + y0 + iy * L[1]) * M[2];
        add_row_wrapped(d, L[2], s, M[2], xs);
      }
  }
  return LUCY_OK;
}

static LucyStatus cpu_extract(LucyDevice *dev, float *dst, const size_t N[3], const float *src,
                              const size_t L[3], const ptrdiff_t offset[3], float scale,
                              int dst_on_host) {
  (void)dst_on_host;
  const size_t row = lucy__padded_row(L[2]);
  const size_t nrows = N[0] * N[1];
  const size_t xs = wrap_index(offset[2], L[2]);
  const int nthreads = dev->opts.threads;
  const int parallel = nrows * N[2] >= PARALLEL_MIN && nthreads > 1;
  LUCY_OMP_FOR
  for (size_t r = 0; r < nrows; r++) {
    const size_t z = r / N[1], y = r % N[1];
    const size_t sz = wrap_index((ptrdiff_t)z + offset[0], L[0]);
    const size_t sy = wrap_index((ptrdiff_t)y + offset[1], L[1]);
    const float *restrict s = src + (sz * L[1] + sy) * row;
    float *restrict d = dst + r * N[2];
    size_t i = 0, pos = xs;
    while (i < N[2]) {
      size_t n = N[2] - i < L[2] - pos ? N[2] - i : L[2] - pos;
      if (scale == 1.0f)
        memcpy(d + i, s + pos, n * sizeof(float));
      else
        for (size_t k = 0; k < n; k++) d[i + k] = scale * s[pos + k];
      i += n;
      pos = 0;
    }
  }
  return LUCY_OK;
}

/* ---- wisdom ----------------------------------------------------------------------------- */

/* "$XDG_CACHE_HOME/lucy" (or "$HOME/.cache/lucy"); 0 when neither is usable. */
static int wisdom_dir(char *buf, size_t len) {
  const char *xdg = getenv("XDG_CACHE_HOME");
  int n;
  if (xdg && xdg[0] == '/')
    n = snprintf(buf, len, "%s/lucy", xdg);
  else {
    const char *home = getenv("HOME");
    if (!home || home[0] != '/') return 0;
    n = snprintf(buf, len, "%s/.cache/lucy", home);
  }
  return n > 0 && (size_t)n < len;
}

static int wisdom_path(char *buf, size_t len) {
  char dir[PATH_MAX];
  if (!wisdom_dir(dir, sizeof dir)) return 0;
  int n = snprintf(buf, len, "%s/fftwf-wisdom", dir);
  return n > 0 && (size_t)n < len;
}

/* mkdir -p for the cache folder; 0 on failure. */
static int make_dirs(const char *path) {
  char tmp[PATH_MAX];
  size_t n = strlen(path);
  if (n == 0 || n >= sizeof tmp) return 0;
  memcpy(tmp, path, n + 1);
  for (char *p = tmp + 1; *p; p++) {
    if (*p != '/') continue;
    *p = '\0';
    if (mkdir(tmp, 0777) != 0 && errno != EEXIST) return 0;
    *p = '/';
  }
  return mkdir(tmp, 0777) == 0 || errno == EEXIST;
}

/* Called with fftw_lock held. */
static void wisdom_import_once(void) {
  if (wisdom_imported) return;
  wisdom_imported = 1;
  char path[PATH_MAX];
  if (wisdom_path(path, sizeof path))
    (void)fftwf_import_wisdom_from_filename(path); /* missing or stale: plan without it */
}

/* Called with fftw_lock held. Failing to save wisdom only costs planning time next run, so it
 * is not an error; the thread's error message is left as it was. */
static void wisdom_save(void) {
  char dir[PATH_MAX], path[PATH_MAX + 32];
  if (!wisdom_dir(dir, sizeof dir) || !make_dirs(dir)) return;
  snprintf(path, sizeof path, "%s/fftwf-wisdom", dir);
  /* Merge what other processes saved since we imported. */
  (void)fftwf_import_wisdom_from_filename(path);
  char *text = fftwf_export_wisdom_to_string();
  if (!text) return;
  char saved_error[1024];
  snprintf(saved_error, sizeof saved_error, "%s", lucy_error_message());
  LucyAtomicFile af;
  if (lucy__atomic_begin(&af, path, 1) == LUCY_OK) {
    size_t len = strlen(text), done = 0;
    int ok = 1;
    while (done < len) {
      ssize_t w = write(af.fd, text + done, len - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        ok = 0;
        break;
      }
      done += (size_t)w;
    }
    if (ok)
      (void)lucy__atomic_commit(&af);
    else
      lucy__atomic_abort(&af);
  }
  free(text);
  lucy__fail(LUCY_OK, "%s", saved_error);
}

/* ---- FFT plans -------------------------------------------------------------------------- */

static void destroy_box(BoxPlan *b) {
  if (b->r2c_xy) fftwf_destroy_plan(b->r2c_xy);
  if (b->c2r_xy) fftwf_destroy_plan(b->c2r_xy);
  free(b);
}

static void destroy_plan(LucyFftPlan *p) {
  if (p->r2c) fftwf_destroy_plan(p->r2c);
  if (p->c2r) fftwf_destroy_plan(p->c2r);
  if (p->r2c_out) fftwf_destroy_plan(p->r2c_out);
  if (p->z_fwd) fftwf_destroy_plan(p->z_fwd);
  if (p->z_bwd) fftwf_destroy_plan(p->z_bwd);
  for (BoxPlan *b = atomic_load(&p->boxes), *next; b; b = next) {
    next = b->next;
    destroy_box(b);
  }
  free(p);
}

/* Plans both directions; fftw_lock held. */
static LucyStatus make_plan(LucyDevice *dev, const size_t s[3], LucyFftPlan **out) {
  const int n0 = (int)s[0], n1 = (int)s[1], n2 = (int)s[2];
  const size_t bytes = lucy__padded_count(s) * sizeof(float);
  float *scratch = NULL;
  LucyStatus st = cpu_alloc(dev, bytes, &scratch);
  if (st) return lucy__fail_context(st, "planning a %zux%zux%zu FFT: ", s[0], s[1], s[2]);
  LucyFftPlan *p = calloc(1, sizeof *p);
  if (!p) {
    cpu_release(dev, scratch);
    return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory planning an FFT");
  }
  memcpy(p->shape, s, sizeof p->shape);
  p->alignment = fftwf_alignment_of(scratch);
  fftwf_complex *spec = (fftwf_complex *)(void *)scratch;
  if (fftw_threads_ok) fftwf_plan_with_nthreads(fft_threads(dev, s));
  if (dev->opts.use_wisdom) wisdom_import_once();

  if (dev->opts.planning == LUCY_PLAN_THOROUGH) {
    /* MEASURE overwrites the arrays it plans on: the scratch buffer is there for that. */
    p->r2c = fftwf_plan_dft_r2c_3d(n0, n1, n2, scratch, spec, FFTW_MEASURE);
    p->c2r = p->r2c ? fftwf_plan_dft_c2r_3d(n0, n1, n2, spec, scratch, FFTW_MEASURE) : NULL;
    if (p->c2r && dev->opts.use_wisdom) wisdom_save();
  } else {
    const unsigned wise = FFTW_MEASURE | FFTW_WISDOM_ONLY;
    p->r2c = fftwf_plan_dft_r2c_3d(n0, n1, n2, scratch, spec, wise);
    if (!p->r2c) p->r2c = fftwf_plan_dft_r2c_3d(n0, n1, n2, scratch, spec, FFTW_ESTIMATE);
    if (p->r2c) {
      p->c2r = fftwf_plan_dft_c2r_3d(n0, n1, n2, spec, scratch, wise);
      if (!p->c2r) p->c2r = fftwf_plan_dft_c2r_3d(n0, n1, n2, spec, scratch, FFTW_ESTIMATE);
    }
  }
  cpu_release(dev, scratch);
  if (!p->r2c || !p->c2r) {
    destroy_plan(p);
    return lucy__fail(LUCY_ERR_FFT, "FFTW could not plan a real FFT of shape %zux%zux%zu", s[0],
                      s[1], s[2]);
  }
  *out = p;
  return LUCY_OK;
}

static LucyStatus cpu_fft_plan(LucyDevice *dev, const size_t s[3], LucyFftPlan **out) {
  *out = NULL;
  for (int a = 0; a < 3; a++)
    if (s[a] == 0 || s[a] > INT_MAX)
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "cannot plan an FFT of shape %zux%zux%zu",
                        s[0], s[1], s[2]);
  if ((double)s[0] * s[1] * lucy__padded_row(s[2]) > (double)(SIZE_MAX / 8))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "FFT shape %zux%zux%zu is too large", s[0],
                      s[1], s[2]);
  pthread_once(&fftw_once, fftw_init_once);
  CpuState *cs = dev->impl;
  LucyStatus st = LUCY_OK;
  pthread_mutex_lock(&fftw_lock);
  LucyFftPlan *p = cs->plans;
  while (p && memcmp(p->shape, s, sizeof p->shape) != 0) p = p->next;
  if (!p) {
    st = make_plan(dev, s, &p);
    if (!st) {
      p->next = cs->plans;
      cs->plans = p;
    }
  }
  pthread_mutex_unlock(&fftw_lock);
  if (!st) *out = p;
  return st;
}

static LucyStatus check_alignment(const LucyFftPlan *p, const float *buf) {
  if (fftwf_alignment_of((float *)buf) == p->alignment) return LUCY_OK;
  return lucy__fail(LUCY_ERR_FFT, "FFT buffer %p is not aligned like the %zux%zux%zu plan's",
                    (const void *)buf, p->shape[0], p->shape[1], p->shape[2]);
}

static LucyStatus cpu_fft_r2c(LucyDevice *dev, LucyFftPlan *p, float *buf) {
  (void)dev;
  LucyStatus st = check_alignment(p, buf);
  if (st) return st;
  fftwf_execute_dft_r2c(p->r2c, buf, (fftwf_complex *)(void *)buf);
  lucy__device_count_fft();
  return LUCY_OK;
}

static LucyStatus cpu_fft_c2r(LucyDevice *dev, LucyFftPlan *p, float *buf) {
  (void)dev;
  LucyStatus st = check_alignment(p, buf);
  if (st) return st;
  fftwf_execute_dft_c2r(p->c2r, (fftwf_complex *)(void *)buf, buf);
  lucy__device_count_fft();
  return LUCY_OK;
}

/* The out-of-place forward plan, made once per cached plan on the caller's two buffers (no
 * scratch): FFTW_PRESERVE_INPUT (the default for out-of-place r2c, asked for explicitly), the
 * source in padded layout (rows of 2 (n2/2+1) floats) so that the same buffers work both ways. */
static LucyStatus cpu_fft_plan_r2c_out(LucyDevice *dev, LucyFftPlan *p, float *src, float *dst) {
  if (!src || !dst || src == dst)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "out-of-place FFT: need two distinct buffers");
  const size_t *s = p->shape;
  const int n[3] = {(int)s[0], (int)s[1], (int)s[2]};
  const int inembed[3] = {n[0], n[1], (int)lucy__padded_row(s[2])};
  const int onembed[3] = {n[0], n[1], n[2] / 2 + 1};
  fftwf_complex *out = (fftwf_complex *)(void *)dst;
  pthread_mutex_lock(&fftw_lock);
  if (!p->r2c_out) {
    if (fftw_threads_ok) fftwf_plan_with_nthreads(fft_threads(dev, s));
    if (dev->opts.use_wisdom) wisdom_import_once();
    const unsigned keep = FFTW_PRESERVE_INPUT;
#define PLAN_OUT(flags) \
  fftwf_plan_many_dft_r2c(3, n, 1, src, inembed, 1, 0, out, onembed, 1, 0, (flags) | keep)
    if (dev->opts.planning == LUCY_PLAN_THOROUGH) {
      p->r2c_out = PLAN_OUT(FFTW_MEASURE);
      if (p->r2c_out && dev->opts.use_wisdom) wisdom_save();
    } else {
      p->r2c_out = PLAN_OUT(FFTW_MEASURE | FFTW_WISDOM_ONLY);
      if (!p->r2c_out) p->r2c_out = PLAN_OUT(FFTW_ESTIMATE);
    }
#undef PLAN_OUT
    p->out_alignment[0] = fftwf_alignment_of(src);
    p->out_alignment[1] = fftwf_alignment_of(dst);
  }
  const int ok = p->r2c_out != NULL;
  pthread_mutex_unlock(&fftw_lock);
  if (!ok)
    return lucy__fail(LUCY_ERR_FFT, "FFTW could not plan an out-of-place real FFT of shape "
                      "%zux%zux%zu", s[0], s[1], s[2]);
  return LUCY_OK;
}

static LucyStatus cpu_fft_r2c_out(LucyDevice *dev, LucyFftPlan *p, const float *src, float *dst) {
  (void)dev;
  if (!p->r2c_out) /* set before the caller's fft_plan_r2c_out returned; never reset */
    return lucy__fail(LUCY_ERR_FFT, "the out-of-place %zux%zux%zu FFT was not planned",
                      p->shape[0], p->shape[1], p->shape[2]);
  if (src == dst || fftwf_alignment_of((float *)src) != p->out_alignment[0] ||
      fftwf_alignment_of(dst) != p->out_alignment[1])
    return lucy__fail(LUCY_ERR_FFT, "out-of-place FFT buffers %p, %p are not distinct and "
                      "aligned like the %zux%zux%zu plan's", (const void *)src, (void *)dst,
                      p->shape[0], p->shape[1], p->shape[2]);
  fftwf_execute_dft_r2c(p->r2c_out, (float *)src, (fftwf_complex *)(void *)dst);
  lucy__device_count_fft();
  return LUCY_OK;
}

/* ---- pruned transforms (fft_r2c_box, fft_c2r_box) -------------------------------------
 * A 3-D r2c whose input is zero past z-plane nz is, axis by axis, a 2-D (y, x) r2c of the
 * first nz planes (the others transform to zero) and a 1-D c2c along z of every column; a c2r
 * whose output is wanted only on those planes is the mirror image. Only whole z-planes are
 * skipped: in a standalone test at 96x320x320 with a 64x256x256 box (2 threads) this pair took
 * 0.81 (FFTW_ESTIMATE) and 0.83 (FFTW_MEASURE) of the time of FFTW's 3-D pair, and skipping
 * the box's empty rows as well (a 1-D r2c of its rows and a c2c along y of its planes) was no
 * faster: FFTW's 2-D plans outrun the split passes. */

enum { GURU_R2C, GURU_C2R, GURU_FWD, GURU_BWD };

typedef struct Guru {
  int kind, rank;
  fftwf_iodim64 dims[2], loop; /* one loop: planes or columns */
  float *buf;                  /* in place */
} Guru;

static fftwf_plan guru_plan(const Guru *g, unsigned flags) {
  fftwf_complex *c = (fftwf_complex *)(void *)g->buf;
  switch (g->kind) {
  case GURU_R2C: return fftwf_plan_guru64_dft_r2c(g->rank, g->dims, 1, &g->loop, g->buf, c, flags);
  case GURU_C2R: return fftwf_plan_guru64_dft_c2r(g->rank, g->dims, 1, &g->loop, c, g->buf, flags);
  default:
    return fftwf_plan_guru64_dft(g->rank, g->dims, 1, &g->loop, c, c,
                                 g->kind == GURU_FWD ? FFTW_FORWARD : FFTW_BACKWARD, flags);
  }
}

/* make_plan's rigour: THOROUGH measures (the caller saves the wisdom), FAST takes measured
 * wisdom or FFTW_ESTIMATE. fftw_lock held. */
static fftwf_plan plan_rigour(const LucyDevice *dev, const Guru *g) {
  if (dev->opts.planning == LUCY_PLAN_THOROUGH) return guru_plan(g, FFTW_MEASURE);
  fftwf_plan p = guru_plan(g, FFTW_MEASURE | FFTW_WISDOM_ONLY);
  return p ? p : guru_plan(g, FFTW_ESTIMATE);
}

/* The 1-D transform along z of every (y, kx) column, in complex units. */
static Guru z_pass(const size_t s[3], int kind, float *buf) {
  const ptrdiff_t cols = (ptrdiff_t)(s[1] * (s[2] / 2 + 1));
  return (Guru){.kind = kind, .rank = 1, .dims = {{(ptrdiff_t)s[0], cols, cols}},
                .loop = {cols, 1, 1}, .buf = buf};
}

/* The 2-D (y, x) real transform of the first nz planes; real strides in floats, complex ones
 * in complex values. */
static Guru xy_pass(const size_t s[3], size_t nz, int kind, float *buf) {
  const ptrdiff_t cx = (ptrdiff_t)(s[2] / 2 + 1), row = 2 * cx, ny = (ptrdiff_t)s[1];
  const ptrdiff_t is = kind == GURU_R2C ? row : cx, os = kind == GURU_R2C ? cx : row;
  return (Guru){.kind = kind, .rank = 2,
                .dims = {{ny, is, os}, {(ptrdiff_t)s[2], 1, 1}},
                .loop = {(ptrdiff_t)nz, ny * is, ny * os}, .buf = buf};
}

static BoxPlan *find_box(LucyFftPlan *p, size_t nz) {
  for (BoxPlan *b = atomic_load_explicit(&p->boxes, memory_order_acquire); b; b = b->next)
    if (b->nz == nz) return b;
  return NULL;
}

static LucyStatus box_fail(const LucyFftPlan *p, const size_t box[3], const char *what) {
  return lucy__fail(LUCY_ERR_FFT, "%s the pruned FFTs of shape %zux%zux%zu for the box "
                    "%zux%zux%zu", what, p->shape[0], p->shape[1], p->shape[2], box[0], box[1],
                    box[2]);
}

/* Plans the z passes (once per shape) and the box's (y, x) passes on buf; fftw_lock held. */
static LucyStatus plan_box_locked(LucyDevice *dev, LucyFftPlan *p, float *buf,
                                  const size_t box[3]) {
  const size_t *s = p->shape;
  if (fftw_threads_ok) fftwf_plan_with_nthreads(fft_threads(dev, s));
  if (dev->opts.use_wisdom) wisdom_import_once();
  if (p->z_fwd && fftwf_alignment_of(buf) != p->z_alignment)
    return box_fail(p, box, "the buffer is not aligned like the one that planned");
  if (!p->z_fwd) {
    Guru fwd = z_pass(s, GURU_FWD, buf), bwd = z_pass(s, GURU_BWD, buf);
    fftwf_plan f = plan_rigour(dev, &fwd), b = f ? plan_rigour(dev, &bwd) : NULL;
    if (!b) {
      if (f) fftwf_destroy_plan(f);
      return box_fail(p, box, "FFTW could not plan the z passes of");
    }
    p->z_fwd = f;
    p->z_bwd = b;
    p->z_alignment = fftwf_alignment_of(buf);
  }
  BoxPlan *bp = calloc(1, sizeof *bp);
  if (!bp) return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory planning a pruned FFT");
  bp->nz = box[0];
  bp->alignment = p->z_alignment;
  Guru r2c = xy_pass(s, box[0], GURU_R2C, buf), c2r = xy_pass(s, box[0], GURU_C2R, buf);
  bp->r2c_xy = plan_rigour(dev, &r2c);
  bp->c2r_xy = bp->r2c_xy ? plan_rigour(dev, &c2r) : NULL;
  if (!bp->c2r_xy) {
    destroy_box(bp);
    return box_fail(p, box, "FFTW could not plan the (y, x) passes of");
  }
  if (dev->opts.planning == LUCY_PLAN_THOROUGH && dev->opts.use_wisdom) wisdom_save();
  bp->next = atomic_load_explicit(&p->boxes, memory_order_relaxed);
  atomic_store_explicit(&p->boxes, bp, memory_order_release);
  return LUCY_OK;
}

static LucyStatus check_box(const LucyFftPlan *p, const size_t box[3]) {
  for (int a = 0; a < 3; a++)
    if (!box || box[a] == 0 || box[a] > p->shape[a]) {
      static const size_t none[3] = {0, 0, 0};
      const size_t *b = box ? box : none;
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "the box %zux%zux%zu does not fit the "
                        "%zux%zux%zu FFT", b[0], b[1], b[2], p->shape[0], p->shape[1],
                        p->shape[2]);
    }
  return LUCY_OK;
}

static LucyStatus cpu_fft_plan_box(LucyDevice *dev, LucyFftPlan *p, float *buf,
                                   const size_t box[3]) {
  LucyStatus st = check_box(p, box);
  if (st) return st;
  if (!buf) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "planning a pruned FFT: NULL buffer");
  if (box[0] == p->shape[0]) return LUCY_OK; /* no whole plane to skip: the full transforms */
  pthread_mutex_lock(&fftw_lock);
  if (!find_box(p, box[0])) st = plan_box_locked(dev, p, buf, box);
  pthread_mutex_unlock(&fftw_lock);
  return st;
}

/* The box's plans for buf; *out NULL when the box spans every plane (run the full ones). */
static LucyStatus box_for(LucyFftPlan *p, const float *buf, const size_t box[3], BoxPlan **out) {
  *out = NULL;
  LucyStatus st = check_box(p, box);
  if (st || box[0] == p->shape[0]) return st;
  BoxPlan *b = find_box(p, box[0]);
  if (!b) return box_fail(p, box, "executing before planning");
  if (fftwf_alignment_of((float *)buf) != b->alignment)
    return box_fail(p, box, "a buffer not aligned like the planning one for");
  *out = b;
  return LUCY_OK;
}

/* The z passes read the planes past nz as complex values: their logical values are zero by
 * contract, and the row padding (anything, by the layout's rules) is made zero too. */
static void zero_padding_past(const size_t s[3], float *buf, size_t nz) {
  const size_t row = lucy__padded_row(s[2]), pad = row - s[2];
  for (size_t r = nz * s[1]; r < s[0] * s[1]; r++)
    memset(buf + r * row + s[2], 0, pad * sizeof(float));
}

static LucyStatus cpu_fft_r2c_box(LucyDevice *dev, LucyFftPlan *p, float *buf,
                                  const size_t box[3]) {
  BoxPlan *b;
  LucyStatus st = box_for(p, buf, box, &b);
  if (st || !b) return st ? st : cpu_fft_r2c(dev, p, buf);
  fftwf_complex *c = (fftwf_complex *)(void *)buf;
  zero_padding_past(p->shape, buf, b->nz);
  fftwf_execute_dft_r2c(b->r2c_xy, buf, c);
  fftwf_execute_dft(p->z_fwd, c, c);
  lucy__device_count_fft();
  return LUCY_OK;
}

static LucyStatus cpu_fft_c2r_box(LucyDevice *dev, LucyFftPlan *p, float *buf,
                                  const size_t box[3]) {
  BoxPlan *b;
  LucyStatus st = box_for(p, buf, box, &b);
  if (st || !b) return st ? st : cpu_fft_c2r(dev, p, buf);
  fftwf_complex *c = (fftwf_complex *)(void *)buf;
  fftwf_execute_dft(p->z_bwd, c, c);
  fftwf_execute_dft_c2r(b->c2r_xy, c, buf);
  lucy__device_count_fft();
  return LUCY_OK;
}

/* FFTW keeps its small work buffers inside the plan and does not report them; in-place real
 * transforms need no array-sized work area. */
static size_t cpu_fft_work_bytes(LucyDevice *dev, LucyFftPlan *p) {
  (void)dev;
  (void)p;
  return 0;
}

/* ---- element-wise ----------------------------------------------------------------------- */

static LucyStatus cpu_cmul(LucyDevice *dev, float *a, const float *b, size_t count,
                           int conjugate, float scale) {
  const int nthreads = dev->opts.threads;
  const int parallel = count >= PARALLEL_MIN / 2 && nthreads > 1;
  const float sg = conjugate ? -1.0f : 1.0f;
  LUCY_OMP_FOR_SIMD
  for (size_t k = 0; k < count; k++) {
    const float ar = a[2 * k], ai = a[2 * k + 1];
    const float br = b[2 * k], bi = sg * b[2 * k + 1];
    a[2 * k] = scale * (ar * br - ai * bi);
    a[2 * k + 1] = scale * (ar * bi + ai * br);
  }
  return LUCY_OK;
}

static LucyStatus cpu_cscale(LucyDevice *dev, float *a, size_t count, float scale) {
  const int nthreads = dev->opts.threads;
  const size_t n = 2 * count;
  const int parallel = n >= PARALLEL_MIN && nthreads > 1;
  LUCY_OMP_FOR_SIMD
  for (size_t k = 0; k < n; k++) a[k] *= scale;
  return LUCY_OK;
}

/* ---- deconvolution kernels -------------------------------------------------------------- */

#define LUCY_PRAGMA(x) _Pragma(#x)
#ifdef _OPENMP
#define LUCY_OMP_FOR_SUM(...) \
  LUCY_PRAGMA(omp parallel for num_threads(nthreads) if(parallel) schedule(static) reduction(+ : __VA_ARGS__))
#else
#define LUCY_OMP_FOR_SUM(...) \
  (void)nthreads;             \
  (void)parallel;
#endif

static LucyStatus cpu_fill(LucyDevice *dev, float *buf, size_t count, float value) {
  const int nthreads = dev->opts.threads;
  const int parallel = count >= PARALLEL_MIN && nthreads > 1;
  LUCY_OMP_FOR_SIMD
  for (size_t k = 0; k < count; k++) buf[k] = value;
  return LUCY_OK;
}

static LucyStatus cpu_reduce(LucyDevice *dev, const float *buf, size_t count, double out[3]) {
  const int nthreads = dev->opts.threads;
  const int parallel = count >= PARALLEL_MIN && nthreads > 1;
  double sum = 0.0;
  float lo = count ? buf[0] : 0.0f, hi = lo;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) if (parallel) schedule(static) \
    reduction(+ : sum) reduction(min : lo) reduction(max : hi)
#endif
  for (size_t k = 0; k < count; k++) {
    const float v = buf[k];
    sum += v;
    lo = v < lo ? v : lo;
    hi = v > hi ? v : hi;
  }
  (void)parallel;
  out[0] = sum;
  out[1] = lo;
  out[2] = hi;
  return LUCY_OK;
}

static LucyStatus cpu_cmax_abs2(LucyDevice *dev, const float *a, size_t count, double *out) {
  const int nthreads = dev->opts.threads;
  const int parallel = count >= PARALLEL_MIN / 2 && nthreads > 1;
  float hi = 0.0f;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) if (parallel) schedule(static) reduction(max : hi)
#endif
  for (size_t k = 0; k < count; k++) {
    const float m = a[2 * k] * a[2 * k] + a[2 * k + 1] * a[2 * k + 1];
    hi = m > hi ? m : hi;
  }
  (void)parallel;
  *out = hi;
  return LUCY_OK;
}

static LucyStatus cpu_wiener(LucyDevice *dev, float *a, const float *h, size_t count,
                             float k_abs, float scale) {
  const int nthreads = dev->opts.threads;
  const int parallel = count >= PARALLEL_MIN / 2 && nthreads > 1;
  LUCY_OMP_FOR
  for (size_t k = 0; k < count; k++) {
    const float ar = a[2 * k], ai = a[2 * k + 1], hr = h[2 * k], hi = h[2 * k + 1];
    const float f = scale / (hr * hr + hi * hi + k_abs);
    a[2 * k] = f * (hr * ar + hi * ai); /* conj(h) a */
    a[2 * k + 1] = f * (hr * ai - hi * ar);
  }
  return LUCY_OK;
}

/* Where position p of an axis of extended size l falls on the image of size n: itself inside,
 * else a linear ramp from the last sample (n-1) to the first (0, the next period's). */
static inline void smooth_index(size_t p, size_t n, size_t l, size_t *i0, size_t *i1,
                                float *w) {
  if (p < n) {
    *i0 = *i1 = p;
    *w = 0.0f;
  } else {
    *i0 = n - 1;
    *i1 = 0;
    *w = (float)(p - n + 1) / (float)(l - n + 1);
  }
}

static LucyStatus cpu_embed_smooth(LucyDevice *dev, float *dst, const size_t L[3],
                                   const float *src, const size_t N[3], float lo) {
  const size_t row = lucy__padded_row(L[2]), nrows = L[0] * L[1];
  const int nthreads = dev->opts.threads;
  const int parallel = nrows * L[2] >= PARALLEL_MIN && nthreads > 1;
  LUCY_OMP_FOR
  for (size_t r = 0; r < nrows; r++) {
    size_t z0, z1, y0, y1;
    float wz, wy;
    smooth_index(r / L[1], N[0], L[0], &z0, &z1, &wz);
    smooth_index(r % L[1], N[1], L[1], &y0, &y1, &wy);
    const float *s00 = src + (z0 * N[1] + y0) * N[2], *s01 = src + (z0 * N[1] + y1) * N[2];
    const float *s10 = src + (z1 * N[1] + y0) * N[2], *s11 = src + (z1 * N[1] + y1) * N[2];
    float *d = dst + r * row;
    for (size_t x = 0; x < L[2]; x++) {
      size_t x0, x1;
      float wx;
      smooth_index(x, N[2], L[2], &x0, &x1, &wx);
      const float a = (1 - wx) * s00[x0] + wx * s00[x1], b = (1 - wx) * s01[x0] + wx * s01[x1];
      const float c = (1 - wx) * s10[x0] + wx * s10[x1], e = (1 - wx) * s11[x0] + wx * s11[x1];
      const float v = (1 - wz) * ((1 - wy) * a + wy * b) + wz * ((1 - wy) * c + wy * e);
      d[x] = v > lo ? v : lo;
    }
  }
  return LUCY_OK;
}

#pragma GCC push_options
#pragma GCC optimize("no-trapping-math")
/* Vector code for the per-iteration kernels. `omp simd` vectorises these loops at any -O level
 * (meson's debugoptimized is -O2, where GCC 12 vectorises almost nothing by itself); the row
 * functions also get an AVX2 + FMA clone chosen at load time (x86-64 with ifunc), as the NUFFT
 * spreader does, so a portable build runs 8-wide code where the CPU has it. The arithmetic is
 * the scalar code's, element by element (a, b, c in the same order), so results do not depend
 * on the vector width; only the float partial sums are added in another order. Without
 * -fno-trapping-math (pushed above, up to cpu_rl_extrapolate; it changes no result, FP traps
 * are never enabled) GCC keeps the selects after divisions as branches and vectorises nothing. */
#ifdef _OPENMP
#define LUCY_SIMD_SUM(...) LUCY_PRAGMA(omp simd reduction(+ : __VA_ARGS__))
#define LUCY_SIMD _Pragma("omp simd")
#else
#define LUCY_SIMD_SUM(...)
#define LUCY_SIMD
#endif
#define ALWAYS_INLINE inline __attribute__((always_inline))
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__linux__)
#define HOT_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define HOT_CLONES
#endif

/* One voxel's I-divergence term y log(y/d) - y + d (d when y = 0), for y >= 0, d > 0 and
 * q = y/d (the ratio, already computed), in branch-free float arithmetic with one division
 * that vectorises (libm's log1pf does not). q = 2^k m with m in [sqrt(1/2), sqrt(2)); p = d 2^k
 * (exact), so y/p = m and y - p is exact (Sterbenz); s = (y - p)/(y + p) gives
 * log m = 2 atanh s = 2 s (1 + s^2 Q(s^2)), Q(t) = 1/3 + t/5 + ... + t^6/15 (|s| <= 0.1716:
 * truncation far below float rounding). With d - y = (d - p) + (p - y) and (p - y) + 2 y s =
 * s (y - p),
 *   term = y k ln 2 + (d - p) + s ((y - p) + 2 y s^2 Q),
 * which for k = 0 (d/y in (0.71, 1.41]) is s ((y - d) + 2 y s^2 Q): no cancellation where y and
 * d are close; elsewhere the parts cancel by at most a factor ~13 (at d/y near 0.71). Accuracy
 * against y (u - log1p u), u = (d - y)/y, in double: ~1e-6 relative per voxel at worst, a few
 * 1e-8 typically, errors of both signs, so sums over many voxels are good to ~1e-8 relative
 * (tests/core/test-device.c checks both). q is clamped to [2^-125, 2^126], which only matters
 * for images spanning more than 10^37. */
static ALWAYS_INLINE float idiv_term(float y, float d, float q) {
  q = q > 0x1p-125f ? q : 0x1p-125f; /* also y = 0: that lane's result is replaced by d */
  q = q < 0x1p126f ? q : 0x1p126f;
  union {
    float f;
    uint32_t u;
  } bits = {.f = q};
  const uint32_t ix = bits.u + (0x3f800000u - 0x3f3504f3u); /* mantissa to [sqrt 1/2, sqrt 2) */
  const float kf = (float)((int)(ix >> 23) - 127);
  bits.u = ix & 0x7f800000u; /* 2^k */
  const float p = d * bits.f;
  const float s = (y - p) / (y + p), t = s * s;
  const float qs =
      1.0f / 3 +
      t * (1.0f / 5 +
           t * (1.0f / 7 + t * (1.0f / 9 + t * (1.0f / 11 + t * (1.0f / 13 + t * (1.0f / 15))))));
  const float yk = y * kf;
  /* ln 2 = hi + lo, hi with 15 significant bits, so the constant's own rounding stays out */
  const float term = yk * 0.693145752f +
                     ((d - p) + (yk * 1.42860677e-6f + s * ((y - p) + 2.0f * y * t * qs)));
  return y > 0.0f ? term : d;
}

/* One observed row of the ratio: h = y / d (0 where d <= eps), *acc += I-divergence terms
 * (d floored at eps). */
static ALWAYS_INLINE void ratio_row_idiv(float *restrict h, const float *restrict o, size_t n,
                                         float background, float eps, double *acc) {
  double a = 0.0; /* per-lane double partial sums */
  LUCY_SIMD_SUM(a)
  for (size_t x = 0; x < n; x++) {
    const float ov = o[x], yv = ov > 0.0f ? ov : 0.0f, d = h[x] + background;
    const float dd = d > eps ? d : eps;
    const float q = yv / dd;
    h[x] = d > eps ? q : 0.0f;
    a += idiv_term(yv, dd, q);
  }
  *acc += a;
}

HOT_CLONES static void ratio_row(float *restrict h, const float *restrict o, size_t n,
                                 float background, float eps, int want, double *acc) {
  if (want) {
    ratio_row_idiv(h, o, n, background, eps, acc);
    return;
  }
  LUCY_SIMD
  for (size_t x = 0; x < n; x++) {
    const float ov = o[x], yv = ov > 0.0f ? ov : 0.0f, d = h[x] + background;
    const float q = yv / d;
    h[x] = d > eps ? q : 0.0f;
  }
}

static LucyStatus cpu_rl_ratio(LucyDevice *dev, float *hx, const size_t L[3], const float *obs,
                               const size_t N[3], float background, float eps, double *idiv) {
  const size_t row = lucy__padded_row(L[2]), nrows = L[0] * L[1];
  const int nthreads = dev->opts.threads;
  const int parallel = nrows * L[2] >= PARALLEL_MIN && nthreads > 1;
  const int want = idiv != NULL;
  double acc = 0.0;
  LUCY_OMP_FOR_SUM(acc)
  for (size_t r = 0; r < nrows; r++) {
    const size_t z = r / L[1], y = r % L[1];
    float *restrict h = hx + r * row;
    size_t x0 = 0;
    if (z < N[0] && y < N[1]) {
      double racc = 0.0;
      ratio_row(h, obs + (z * N[1] + y) * N[2], N[2], background, eps, want, &racc);
      acc += racc;
      x0 = N[2];
    }
    if (x0 < L[2]) memset(h + x0, 0, (L[2] - x0) * sizeof(float));
  }
  if (idiv) *idiv = acc;
  return LUCY_OK;
}

/* One row of the RL update; the flags are constants in each instance (see update_row). corr
 * may alias copy (same index only), so neither is restrict. */
static ALWAYS_INLINE void update_row_impl(float *restrict x, const float *c,
                                          const float *restrict w, float weight_value,
                                          float weight_min, const float *restrict t, float *cp,
                                          float *restrict g, size_t n, float acc[4], int has_w,
                                          int has_t, int has_cp, int has_g) {
  float a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
  LUCY_SIMD_SUM(a0, a1, a2, a3)
  for (size_t i = 0; i < n; i++) {
    const float wv = has_w ? w[i] : weight_value, xo = x[i];
    float den = wv;
    if (has_t) {
      const float f = 1.0f - t[i];
      den = wv * (f < 0.25f ? 0.25f : f);
    }
    float xn = xo * c[i] / den;
    xn = xn > 0.0f ? xn : 0.0f; /* also NaN */
    xn = wv > weight_min ? xn : 0.0f;
    x[i] = xn;
    if (has_cp) cp[i] = xn;
    const float dx = xn - xo;
    a0 += fabsf(dx);
    a1 += fabsf(xo);
    if (has_g) {
      a2 += dx * g[i];
      a3 += dx * dx;
      g[i] = dx;
    }
  }
  acc[0] = a0;
  acc[1] = a1;
  acc[2] = a2;
  acc[3] = a3;
}

HOT_CLONES static void update_row(float *restrict x, const float *c, const float *restrict w,
                                  float weight_value, float weight_min, const float *restrict t,
                                  float *cp, float *restrict g, size_t n, float acc[4]) {
  const int variant = (w != NULL) | (t != NULL) << 1 | (cp != NULL) << 2 | (g != NULL) << 3;
  switch (variant) {
#define UPDATE_CASE(v)                                                                  \
  case v:                                                                               \
    update_row_impl(x, c, w, weight_value, weight_min, t, cp, g, n, acc, (v) & 1,       \
                    ((v) >> 1) & 1, ((v) >> 2) & 1, ((v) >> 3) & 1);                   \
    break;
    UPDATE_CASE(0) UPDATE_CASE(1) UPDATE_CASE(2) UPDATE_CASE(3)
    UPDATE_CASE(4) UPDATE_CASE(5) UPDATE_CASE(6) UPDATE_CASE(7)
    UPDATE_CASE(8) UPDATE_CASE(9) UPDATE_CASE(10) UPDATE_CASE(11)
    UPDATE_CASE(12) UPDATE_CASE(13) UPDATE_CASE(14) UPDATE_CASE(15)
#undef UPDATE_CASE
  }
}

/* Box weights (LucyBoxWeights) of n voxels of row (z, y) into w, in double from the prefix
 * sums: the (z, y) box collapses 4 sat rows into T(c) = (a11 - a01) - (a10 - a00), then
 * W(x) = T(hi_x) - T(lo_x) with the x ranges xr (lo, hi pairs) made once per call. */
#define BOX_CHUNK 256
static void box_weights_row(const LucyBoxWeights *b, size_t z, size_t y, const size_t *xr,
                            size_t n, float *w) {
  size_t z_lo, z_hi, y_lo, y_hi;
  lucy__box_range(z, b->N[0], b->M[0], b->origin[0], b->L[0], &z_lo, &z_hi);
  lucy__box_range(y, b->N[1], b->M[1], b->origin[1], b->L[1], &y_lo, &y_hi);
  const size_t s2 = b->M[2] + 1, s1 = (b->M[1] + 1) * s2;
  const double *a11 = b->sat + z_hi * s1 + y_hi * s2, *a01 = b->sat + z_lo * s1 + y_hi * s2;
  const double *a10 = b->sat + z_hi * s1 + y_lo * s2, *a00 = b->sat + z_lo * s1 + y_lo * s2;
  for (size_t i = 0; i < n; i++) {
    const size_t lo = xr[2 * i], hi = xr[2 * i + 1];
    const double t_hi = (a11[hi] - a01[hi]) - (a10[hi] - a00[hi]);
    const double t_lo = (a11[lo] - a01[lo]) - (a10[lo] - a00[lo]);
    w[i] = (float)(t_hi - t_lo);
  }
}

static LucyStatus cpu_rl_update(LucyDevice *dev, float *xbuf, float *corr, const size_t L[3],
                                const float *weight, const LucyBoxWeights *box,
                                float weight_value, float weight_min, const float *tv,
                                float *copy, float *step, double sums[4]) {
  const size_t row = lucy__padded_row(L[2]), nrows = L[0] * L[1];
  const int nthreads = dev->opts.threads;
  const int parallel = nrows * L[2] >= PARALLEL_MIN && nthreads > 1;
  if (box && (weight || !box->sat))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "rl_update: box weights need a table and no "
                      "weight array");
  size_t *xr = NULL; /* box: the x ranges, the same for every row */
  if (box) {
    xr = malloc(2 * L[2] * sizeof *xr);
    if (!xr)
      return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "rl_update: cannot allocate %zu bytes",
                        2 * L[2] * sizeof *xr);
    for (size_t x = 0; x < L[2]; x++)
      lucy__box_range(x, box->N[2], box->M[2], box->origin[2], box->L[2], &xr[2 * x],
                      &xr[2 * x + 1]);
  }
  double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
  LUCY_OMP_FOR_SUM(s0, s1, s2, s3)
  for (size_t r = 0; r < nrows; r++) {
    float a[4]; /* per row (or chunk) in float, then into double */
    if (!box) {
      update_row(xbuf + r * row, corr + r * row, weight ? weight + r * row : NULL,
                 weight_value, weight_min, tv ? tv + r * row : NULL,
                 copy ? copy + r * row : NULL, step ? step + r * row : NULL, L[2], a);
      s0 += a[0];
      s1 += a[1];
      s2 += a[2];
      s3 += a[3];
      continue;
    }
    /* The weights are made a chunk at a time on the stack: no P-sized array. */
    float w[BOX_CHUNK];
    for (size_t x0 = 0; x0 < L[2]; x0 += BOX_CHUNK) {
      const size_t n = L[2] - x0 < BOX_CHUNK ? L[2] - x0 : BOX_CHUNK, o = r * row + x0;
      box_weights_row(box, r / L[1], r % L[1], xr + 2 * x0, n, w);
      update_row(xbuf + o, corr + o, w, weight_value, weight_min, tv ? tv + o : NULL,
                 copy ? copy + o : NULL, step ? step + o : NULL, n, a);
      s0 += a[0];
      s1 += a[1];
      s2 += a[2];
      s3 += a[3];
    }
  }
  free(xr);
  if (sums) {
    sums[0] = s0;
    sums[1] = s1;
    sums[2] = s2;
    sums[3] = s3;
  }
  return LUCY_OK;
}

static ALWAYS_INLINE void extrapolate_row_impl(float *restrict x, float *restrict p,
                                               float *restrict cp, size_t n, float alpha,
                                               float acc[2], int has_cp, int has_alpha) {
  float a0 = 0.0f, a1 = 0.0f;
  LUCY_SIMD_SUM(a0, a1)
  for (size_t i = 0; i < n; i++) {
    const float v = x[i], pv = p[i]; /* pv may be anything when alpha is 0 */
    float e = has_alpha ? v + alpha * (v - pv) : v;
    e = e > 0.0f ? e : 0.0f;
    x[i] = e;
    p[i] = v;
    if (has_cp) cp[i] = e;
    a0 += fabsf(v - pv);
    a1 += fabsf(pv);
  }
  acc[0] = a0;
  acc[1] = a1;
}

HOT_CLONES static void extrapolate_row(float *restrict x, float *restrict p, float *restrict cp,
                                       size_t n, float alpha, float acc[2]) {
  if (cp && alpha != 0.0f)
    extrapolate_row_impl(x, p, cp, n, alpha, acc, 1, 1);
  else if (cp)
    extrapolate_row_impl(x, p, cp, n, alpha, acc, 1, 0);
  else if (alpha != 0.0f)
    extrapolate_row_impl(x, p, cp, n, alpha, acc, 0, 1);
  else
    extrapolate_row_impl(x, p, cp, n, alpha, acc, 0, 0);
}

static LucyStatus cpu_rl_extrapolate(LucyDevice *dev, float *xbuf, float *prev, float *copy,
                                     const size_t L[3], float alpha, double sums[2]) {
  const size_t row = lucy__padded_row(L[2]), nrows = L[0] * L[1];
  const int nthreads = dev->opts.threads;
  const int parallel = nrows * L[2] >= PARALLEL_MIN && nthreads > 1;
  double s0 = 0.0, s1 = 0.0;
  LUCY_OMP_FOR_SUM(s0, s1)
  for (size_t r = 0; r < nrows; r++) {
    float a[2];
    extrapolate_row(xbuf + r * row, prev + r * row, copy ? copy + r * row : NULL, L[2], alpha,
                    a);
    s0 += a[0];
    s1 += a[1];
  }
  if (sums) {
    sums[0] = s0;
    sums[1] = s1;
  }
  return LUCY_OK;
}
#pragma GCC pop_options

/* The low-memory OTF (LucyZOtf in device-impl.h). Each thread takes blocks of ZQ spectrum
 * columns q and walks kz in groups of ZK: the z-DFT of the ZQ columns of all mz planes is
 * accumulated for ZK frequencies at once, so each plane value is loaded L0/ZK times from
 * cache rather than L0 times from memory, and the result is applied to a right away. */
#define ZQ 64
#define ZK 4
HOT_CLONES static void zotf_block(LucyZOtfOp op, float *a, const LucyZOtf *h, size_t q0, size_t qn,
                       float k_abs, float scale, float *max_abs2) {
  const size_t L0 = h->L[0], nq = h->L[1] * (h->L[2] / 2 + 1);
  float hr[ZK][ZQ], hi[ZK][ZQ];
  float best = 0.0f;
  for (size_t kz0 = 0; kz0 < L0; kz0 += ZK) {
    const size_t kb = L0 - kz0 < ZK ? L0 - kz0 : ZK;
    memset(hr, 0, sizeof hr);
    memset(hi, 0, sizeof hi);
    for (size_t p = 0; p < h->mz; p++) {
      const float *restrict g = h->planes + p * h->plane_floats + 2 * q0;
      const size_t d = (p + L0 - h->z0) % L0; /* plane p sits at z = d */
      size_t m = (kz0 * d) % L0;                /* (kz d) mod L0, kz = kz0 + k */
      for (size_t k = 0; k < kb; k++, m = m + d >= L0 ? m + d - L0 : m + d) {
        const float c = h->twiddle[2 * m], sn = h->twiddle[2 * m + 1];
        float *restrict r = hr[k], *restrict im = hi[k];
        LUCY_SIMD
        for (size_t q = 0; q < qn; q++) {
          r[q] += c * g[2 * q] - sn * g[2 * q + 1];
          im[q] += c * g[2 * q + 1] + sn * g[2 * q];
        }
      }
    }
    for (size_t k = 0; k < kb; k++) {
      float *restrict x = a ? a + 2 * ((kz0 + k) * nq + q0) : NULL;
      const float *restrict r = hr[k], *restrict im = hi[k];
      switch (op) {
      case LUCY_ZOTF_MUL:
      case LUCY_ZOTF_CONJ: { /* as cpu_cmul with scale 1 */
        const float sg = op == LUCY_ZOTF_CONJ ? -1.0f : 1.0f;
        LUCY_SIMD
        for (size_t q = 0; q < qn; q++) {
          const float ar = x[2 * q], ai = x[2 * q + 1], br = r[q], bi = sg * im[q];
          x[2 * q] = ar * br - ai * bi;
          x[2 * q + 1] = ar * bi + ai * br;
        }
        break;
      }
      case LUCY_ZOTF_WIENER: /* as cpu_wiener */
        for (size_t q = 0; q < qn; q++) {
          const float ar = x[2 * q], ai = x[2 * q + 1], br = r[q], bi = im[q];
          const float f = scale / (br * br + bi * bi + k_abs);
          x[2 * q] = f * (br * ar + bi * ai);
          x[2 * q + 1] = f * (br * ai - bi * ar);
        }
        break;
      case LUCY_ZOTF_MAX_ABS2:
        for (size_t q = 0; q < qn; q++) {
          const float m = r[q] * r[q] + im[q] * im[q];
          best = m > best ? m : best;
        }
        break;
      }
    }
  }
  *max_abs2 = best;
}

static LucyStatus cpu_zotf_apply(LucyDevice *dev, LucyZOtfOp op, float *a, const LucyZOtf *h,
                                 float k_abs, float scale, double *max_abs2) {
  if (!lucy__zotf_args_ok(op, a, h, max_abs2))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "zotf_apply: bad arguments (op %d)", (int)op);
  const size_t nq = h->L[1] * (h->L[2] / 2 + 1), nblocks = (nq + ZQ - 1) / ZQ;
  const int nthreads = dev->opts.threads;
  const int parallel = nq * h->L[0] >= PARALLEL_MIN / 2 && nthreads > 1;
  float hi = 0.0f;
#ifdef _OPENMP
#pragma omp parallel for num_threads(nthreads) if (parallel) schedule(static) reduction(max : hi)
#endif
  for (size_t b = 0; b < nblocks; b++) {
    const size_t q0 = b * ZQ, qn = nq - q0 < ZQ ? nq - q0 : ZQ;
    float m = 0.0f;
    zotf_block(op, a, h, q0, qn, k_abs, scale, &m);
    hi = m > hi ? m : hi;
  }
  (void)parallel;
  if (op == LUCY_ZOTF_MAX_ABS2) *max_abs2 = hi;
  return LUCY_OK;
}
#undef ZQ
#undef ZK


/* The normalised gradient's component along `along` (0 z, 1 y, 2 x) from its three scaled
 * forward differences. */
static inline float tv_unit(float gz, float gy, float gx, float e2, int along) {
  const float g = along == 0 ? gz : along == 1 ? gy : gx;
  return g / sqrtf(gz * gz + gy * gy + gx * gx + e2);
}

static LucyStatus cpu_tv_term(LucyDevice *dev, float *tv, const float *xbuf, const size_t L[3],
                              const float spacing[3], float lambda, float eps) {
  const size_t row = lucy__padded_row(L[2]), nrows = L[0] * L[1], nx = L[2];
  const int nthreads = dev->opts.threads;
  const int parallel = nrows * L[2] >= PARALLEL_MIN && nthreads > 1;
  const float iz = 1.0f / spacing[0], iy = 1.0f / spacing[1], ix = 1.0f / spacing[2];
  const float e2 = eps * eps;
  LUCY_OMP_FOR
  for (size_t r = 0; r < nrows; r++) {
    const size_t z = r / L[1], y = r % L[1];
    const size_t zp = (z + 1) % L[0], zm = (z + L[0] - 1) % L[0];
    const size_t yp = (y + 1) % L[1], ym = (y + L[1] - 1) % L[1];
#define ROW(zz, yy) (xbuf + ((zz) * L[1] + (yy)) * row)
    const float *c = ROW(z, y), *czp = ROW(zp, y), *cyp = ROW(z, yp);
    const float *czm = ROW(zm, y), *czm_yp = ROW(zm, yp);
    const float *cym = ROW(z, ym), *czp_ym = ROW(zp, ym);
#undef ROW
    float *t = tv + r * row;
    for (size_t x = 0; x < nx; x++) {
      const size_t xp = x + 1 < nx ? x + 1 : 0, xm = x > 0 ? x - 1 : nx - 1;
      const float v = c[x];
      /* at x itself */
      const float gz = (czp[x] - v) * iz, gy = (cyp[x] - v) * iy, gx = (c[xp] - v) * ix;
      const float n2 = gz * gz + gy * gy + gx * gx + e2, s = 1.0f / sqrtf(n2);
      /* one voxel back along z, y and x: the component along that axis */
      const float bz = tv_unit((v - czm[x]) * iz, (czm_yp[x] - czm[x]) * iy,
                               (czm[xp] - czm[x]) * ix, e2, 0);
      const float by = tv_unit((czp_ym[x] - cym[x]) * iz, (v - cym[x]) * iy,
                               (cym[xp] - cym[x]) * ix, e2, 1);
      const float bx = tv_unit((czp[xm] - c[xm]) * iz, (cyp[xm] - c[xm]) * iy,
                               (v - c[xm]) * ix, e2, 2);
      const float div = (gz * s - bz) * iz + (gy * s - by) * iy + (gx * s - bx) * ix;
      t[x] = lambda * div;
    }
  }
  return LUCY_OK;
}

/* ---- memory ----------------------------------------------------------------------------- */

static LucyStatus cpu_memory_info(LucyDevice *dev, LucyMemoryInfo *info) {
  (void)dev;
  FILE *f = fopen("/proc/meminfo", "r");
  if (!f) {
    long pages = sysconf(_SC_PHYS_PAGES), avail = sysconf(_SC_AVPHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);
    if (pages <= 0 || page <= 0)
      return lucy__fail(LUCY_ERR_IO, "cannot read /proc/meminfo: %s", strerror(errno));
    info->total_bytes = (size_t)pages * (size_t)page;
    info->free_bytes = avail > 0 ? (size_t)avail * (size_t)page : 0;
    return LUCY_OK;
  }
  char line[256];
  unsigned long long total = 0, available = 0, free_kb = 0;
  int have_available = 0;
  while (fgets(line, sizeof line, f)) {
    unsigned long long v;
    if (sscanf(line, "MemTotal: %llu kB", &v) == 1)
      total = v;
    else if (sscanf(line, "MemAvailable: %llu kB", &v) == 1) {
      available = v;
      have_available = 1;
    } else if (sscanf(line, "MemFree: %llu kB", &v) == 1)
      free_kb = v;
  }
  fclose(f);
  if (total == 0) return lucy__fail(LUCY_ERR_IO, "/proc/meminfo has no MemTotal line");
  info->total_bytes = (size_t)(total * 1024);
  info->free_bytes = (size_t)((have_available ? available : free_kb) * 1024);
  return LUCY_OK;
}

/* ---- the device ------------------------------------------------------------------------- */

static void cpu_destroy(LucyDevice *dev) {
  CpuState *cs = dev->impl;
  if (!cs) return;
  pthread_mutex_lock(&fftw_lock);
  while (cs->plans) {
    LucyFftPlan *next = cs->plans->next;
    destroy_plan(cs->plans);
    cs->plans = next;
  }
  pthread_mutex_unlock(&fftw_lock);
  free(cs);
  dev->impl = NULL;
}

/* ---- complex-to-complex FFTs (NUFFT) ---------------------------------------------------
 * fftwf (float) or fftw (double) in-place c2c plans for one sign, owned by the caller. Planning
 * runs behind fftw_lock like the real plans (the double library's planner is no more
 * thread-safe than the float one); execution on a new array needs no lock. The double library
 * gets its threads (on OpenMP's pool, like fftwf) the first time a double plan is made. */

struct LucyCfftPlan {
  int double_precision;
  size_t shape[3];
  int rank;
  fftwf_plan pf;
  fftw_plan pd;
  int alignment;
};

static pthread_once_t fftw_double_once = PTHREAD_ONCE_INIT;
static int fftw_double_threads_ok;

static void fftw_double_init_once(void) {
  fftw_double_threads_ok = fftw_init_threads() != 0;
#ifdef _OPENMP
  if (fftw_double_threads_ok) fftw_threads_set_callback(omp_parallel_loop, NULL);
#endif
}

static void cpu_cfft_plan_free(LucyDevice *dev, LucyCfftPlan *p) {
  (void)dev;
  if (!p) return;
  pthread_mutex_lock(&fftw_lock);
  if (p->pf) fftwf_destroy_plan(p->pf);
  if (p->pd) fftw_destroy_plan(p->pd);
  pthread_mutex_unlock(&fftw_lock);
  free(p);
}

static LucyStatus cpu_cfft_plan(LucyDevice *dev, int rank, const size_t shape[3], int sign,
                                int double_precision, LucyCfftPlan **out) {
  *out = NULL;
  if (rank < 1 || rank > 3 || (sign != 1 && sign != -1))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "cannot plan a rank-%d complex FFT of sign %d",
                      rank, sign);
  int n[3];
  double total = 1.0;
  for (int a = 0; a < rank; a++) {
    if (shape[a] == 0 || shape[a] > INT_MAX)
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "cannot plan a complex FFT of extent %zu",
                        shape[a]);
    n[a] = (int)shape[a];
    total *= (double)shape[a];
  }
  const size_t elem = double_precision ? 2 * sizeof(double) : 2 * sizeof(float);
  if (total > (double)(SIZE_MAX / 2 / elem))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "complex FFT of %.0f values is too large", total);
  pthread_once(&fftw_once, fftw_init_once);
  if (double_precision) pthread_once(&fftw_double_once, fftw_double_init_once);
  float *scratch = NULL;
  LucyStatus st = cpu_alloc(dev, (size_t)total * elem, &scratch);
  if (st) return lucy__fail_context(st, "planning a complex FFT: ");
  LucyCfftPlan *p = calloc(1, sizeof *p);
  if (!p) {
    cpu_release(dev, scratch);
    return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory planning a complex FFT");
  }
  p->double_precision = double_precision;
  p->rank = rank;
  for (int a = 0; a < rank; a++) p->shape[a] = shape[a];
  const int dir = sign < 0 ? FFTW_FORWARD : FFTW_BACKWARD;
  const unsigned flags = dev->opts.planning == LUCY_PLAN_THOROUGH ? FFTW_MEASURE : FFTW_ESTIMATE;
  pthread_mutex_lock(&fftw_lock);
  if (double_precision) {
    fftw_complex *b = (fftw_complex *)(void *)scratch;
    p->alignment = fftw_alignment_of((double *)(void *)scratch);
    if (fftw_double_threads_ok) fftw_plan_with_nthreads(dev->opts.threads);
    p->pd = fftw_plan_dft(rank, n, b, b, dir, flags);
  } else {
    fftwf_complex *b = (fftwf_complex *)(void *)scratch;
    p->alignment = fftwf_alignment_of(scratch);
    if (fftw_threads_ok) fftwf_plan_with_nthreads(dev->opts.threads);
    if (dev->opts.use_wisdom) wisdom_import_once();
    p->pf = fftwf_plan_dft(rank, n, b, b, dir, flags);
  }
  pthread_mutex_unlock(&fftw_lock);
  cpu_release(dev, scratch);
  if (!p->pd && !p->pf) {
    free(p);
    return lucy__fail(LUCY_ERR_FFT, "FFTW could not plan a rank-%d complex FFT (%s)", rank,
                      double_precision ? "double" : "float");
  }
  *out = p;
  return LUCY_OK;
}

static LucyStatus cpu_cfft_plan_strided(LucyDevice *dev, size_t n, ptrdiff_t stride,
                                        int nbatch, const size_t batch_n[4],
                                        const ptrdiff_t batch_stride[4], int sign,
                                        int double_precision, void *buf, LucyCfftPlan **out) {
  *out = NULL;
  if (n == 0 || n > INT_MAX || nbatch < 0 || nbatch > 4 || (sign != 1 && sign != -1) || !buf)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "cannot plan %zu-point strided complex FFTs (%d batch dimensions)", n,
                      nbatch);
  for (int i = 0; i < nbatch; i++)
    if (batch_n[i] == 0 || batch_n[i] > INT_MAX || batch_stride[i] > INT_MAX ||
        batch_stride[i] < -INT_MAX)
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "strided FFT batch %d: %zu at stride %td", i,
                        batch_n[i], batch_stride[i]);
  if (stride > INT_MAX || stride < -INT_MAX)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "strided FFT stride %td", stride);
  pthread_once(&fftw_once, fftw_init_once);
  if (double_precision) pthread_once(&fftw_double_once, fftw_double_init_once);
  LucyCfftPlan *p = calloc(1, sizeof *p);
  if (!p) return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory planning a complex FFT");
  p->double_precision = double_precision;
  p->rank = 1;
  p->shape[0] = n;
  const int dir = sign < 0 ? FFTW_FORWARD : FFTW_BACKWARD;
  const unsigned flags = dev->opts.planning == LUCY_PLAN_THOROUGH ? FFTW_MEASURE : FFTW_ESTIMATE;
  pthread_mutex_lock(&fftw_lock);
  if (double_precision) {
    fftw_iodim d = {(int)n, (int)stride, (int)stride}, h[4];
    for (int i = 0; i < nbatch; i++)
      h[i] = (fftw_iodim){(int)batch_n[i], (int)batch_stride[i], (int)batch_stride[i]};
    fftw_complex *b = buf;
    p->alignment = fftw_alignment_of((double *)buf);
    if (fftw_double_threads_ok) fftw_plan_with_nthreads(dev->opts.threads);
    p->pd = fftw_plan_guru_dft(1, &d, nbatch, h, b, b, dir, flags);
  } else {
    fftwf_iodim d = {(int)n, (int)stride, (int)stride}, h[4];
    for (int i = 0; i < nbatch; i++)
      h[i] = (fftwf_iodim){(int)batch_n[i], (int)batch_stride[i], (int)batch_stride[i]};
    fftwf_complex *b = buf;
    p->alignment = fftwf_alignment_of((float *)buf);
    if (fftw_threads_ok) fftwf_plan_with_nthreads(dev->opts.threads);
    if (dev->opts.use_wisdom) wisdom_import_once();
    p->pf = fftwf_plan_guru_dft(1, &d, nbatch, h, b, b, dir, flags);
  }
  pthread_mutex_unlock(&fftw_lock);
  if (!p->pd && !p->pf) {
    free(p);
    return lucy__fail(LUCY_ERR_FFT, "FFTW could not plan %zu-point strided complex FFTs", n);
  }
  *out = p;
  return LUCY_OK;
}

static LucyStatus cpu_cfft_execute(LucyDevice *dev, LucyCfftPlan *p, void *buf) {
  (void)dev;
  if (p->double_precision) {
    if (fftw_alignment_of((double *)buf) != p->alignment)
      return lucy__fail(LUCY_ERR_FFT, "complex FFT buffer %p is not aligned like its plan's", buf);
    fftw_execute_dft(p->pd, (fftw_complex *)buf, (fftw_complex *)buf);
  } else {
    if (fftwf_alignment_of((float *)buf) != p->alignment)
      return lucy__fail(LUCY_ERR_FFT, "complex FFT buffer %p is not aligned like its plan's", buf);
    fftwf_execute_dft(p->pf, (fftwf_complex *)buf, (fftwf_complex *)buf);
  }
  lucy__device_count_fft();
  return LUCY_OK;
}

static const LucyDeviceOps cpu_ops = {
  .name = "cpu",
  .host_memory = 1,
  .destroy = cpu_destroy,
  .alloc = cpu_alloc,
  .release = cpu_release,
  .upload = cpu_copy,
  .download = cpu_copy,
  .embed = cpu_embed,
  .extract = cpu_extract,
  .fft_plan = cpu_fft_plan,
  .fft_r2c = cpu_fft_r2c,
  .fft_c2r = cpu_fft_c2r,
  .fft_work_bytes = cpu_fft_work_bytes,
  .fft_plan_r2c_out = cpu_fft_plan_r2c_out,
  .fft_r2c_out = cpu_fft_r2c_out,
  .fft_plan_box = cpu_fft_plan_box,
  .fft_r2c_box = cpu_fft_r2c_box,
  .fft_c2r_box = cpu_fft_c2r_box,
  .cmul = cpu_cmul,
  .cscale = cpu_cscale,
  .zotf_apply = cpu_zotf_apply,
  .memory_info = cpu_memory_info,
  .fill = cpu_fill,
  .reduce = cpu_reduce,
  .cmax_abs2 = cpu_cmax_abs2,
  .wiener = cpu_wiener,
  .embed_smooth = cpu_embed_smooth,
  .rl_ratio = cpu_rl_ratio,
  .rl_update = cpu_rl_update,
  .rl_extrapolate = cpu_rl_extrapolate,
  .tv_term = cpu_tv_term,
  /* complex-to-complex FFTs (NUFFT) */
  .cfft_plan = cpu_cfft_plan,
  .cfft_execute = cpu_cfft_execute,
  .cfft_plan_free = cpu_cfft_plan_free,
  .cfft_plan_strided = cpu_cfft_plan_strided,
};

LucyStatus lucy__device_cpu_init(LucyDevice *dev) {
  CpuState *cs = calloc(1, sizeof *cs);
  if (!cs) return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory creating the CPU device");
  pthread_once(&fftw_once, fftw_init_once);
  if (!fftw_threads_ok && dev->opts.threads > 1) dev->opts.threads = 1;
  dev->ops = &cpu_ops;
  dev->impl = cs;
  snprintf(dev->name, sizeof dev->name, "cpu (%d thread%s)", dev->opts.threads,
           dev->opts.threads == 1 ? "" : "s");
  return LUCY_OK;
}
