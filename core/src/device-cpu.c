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
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic-file.h"
#include "device-impl.h"
#include "device-impl.h"
#include "status-private.h"

#ifdef _OPENMP
#define LUCY_OMP_FOR _Pragma("omp parallel for num_threads(nthreads) if(parallel) schedule(static)")
#else
#define LUCY_OMP_FOR \
  (void)nthreads;    \
  (void)parallel;
#endif

/* Work below this many floats is not worth waking threads for. */
#define PARALLEL_MIN ((size_t)1 << 16)

/* Buffers carry a header with their size so release can unaccount it; 64 bytes keep the
 * SIMD alignment fftwf_malloc gives. */
#define HEADER 64

struct LucyFftPlan {
  size_t shape[3];
  fftwf_plan r2c, c2r;
  int alignment; /* fftwf_alignment_of the planning buffer; execute buffers must match */
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

static void destroy_plan(LucyFftPlan *p) {
  if (p->r2c) fftwf_destroy_plan(p->r2c);
  if (p->c2r) fftwf_destroy_plan(p->c2r);
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
  if (fftw_threads_ok) fftwf_plan_with_nthreads(dev->opts.threads);
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
  LUCY_OMP_FOR
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
  LUCY_OMP_FOR
  for (size_t k = 0; k < n; k++) a[k] *= scale;
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

static const LucyDeviceOps cpu_ops = {
  .name = "cpu",
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
  .cmul = cpu_cmul,
  .cscale = cpu_cscale,
  .memory_info = cpu_memory_info,
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
