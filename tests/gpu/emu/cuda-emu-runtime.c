/* The CUDA runtime calls of core/src/cuda/device-cuda.c, emulated on the host, strict where
 * the documented API is strict, so that the CUDA device's bookkeeping can be tested on a
 * machine without a GPU (tests/gpu/emu/meson.build runs the gpu tests against it).
 *
 * Device memory is host memory that only cudaMalloc hands out, from a table with an emulated
 * card capacity ($LUCY_CUDA_EMU_BYTES, default 4 GiB, less a fixed context reservation so that
 * free < total as on a GPU). Each allocation is its own mapping: a PROT_NONE guard page on
 * either side, red zones between the guards and the 256-byte-aligned block, and the block
 * itself filled with NaN (cudaMalloc's memory is uninitialised: a kernel that reads what
 * nobody wrote sees NaN, not a friendly zero). A freed block stays mapped PROT_NONE for a while,
 * so a late access faults instead of reading a successor. Faults in guard pages or freed blocks
 * are explained on stderr (which kernel, how far past which block) before the process dies.
 *
 * Copies and memsets check that every device range lies inside one live allocation and every
 * host range outside all of them, and run at once (a synchronous stream is one legal schedule
 * of an asynchronous one). Errors follow the runtime: each failing call returns its error and
 * leaves it as the thread's last error until cudaGetLastError reads it; a kernel that damaged
 * a red zone makes cudaErrorIllegalAddress sticky for every later call, as a GPU's lost
 * context does. */
#include <cuda_runtime_api.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cuda-emu.h"

#define ALIGN 256          /* cudaMalloc's documented alignment */
#define RED 0xA5           /* red-zone byte */
#define QUARANTINE 256     /* freed blocks kept PROT_NONE, oldest unmapped first */
#define DEFAULT_CAPACITY ((size_t)4 << 30)
#define CONTEXT_RESERVE ((size_t)256 << 20)

typedef struct Alloc {
  unsigned char *map; /* guard page, red zone, block, red zone, guard page */
  size_t map_bytes;
  unsigned char *ptr; /* what cudaMalloc returned */
  size_t bytes;       /* asked for */
  size_t charged;     /* bytes rounded up to ALIGN: what cudaMemGetInfo counts */
  int live;           /* 0: freed, in quarantine */
  unsigned long serial;
} Alloc;

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;
static Alloc *table; /* live and quarantined blocks; read unlocked only by the fault handler */
static size_t n_table, cap_table;
static size_t used_bytes; /* charged bytes of live blocks */
static unsigned long next_serial;
static size_t page_bytes, capacity, reserve;
static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static _Thread_local cudaError_t last_error;
static volatile int sticky_error; /* cudaError_t once set */
const char *volatile lucy_emu_activity = "host code";

void lucy_emu_report(const char *fmt, ...) {
  char line[600];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  fprintf(stderr, "lucy-cuda-emu: %s\n", line);
}

cudaError_t lucy_emu_fail(cudaError_t e) {
  if (e != cudaSuccess) last_error = e;
  return e;
}

cudaError_t lucy_emu_sticky(void) { return (cudaError_t)sticky_error; }

/* ---- setup and the fault handler -------------------------------------------------------- */

static struct sigaction previous_segv;

static const Alloc *find_mapping(const unsigned char *a) {
  for (size_t i = 0; i < n_table; i++)
    if (a >= table[i].map && a < table[i].map + table[i].map_bytes) return &table[i];
  return NULL;
}

/* An access to a guard page or a freed block: say what it hit, then let the fault happen
 * again under the previous handler (normally the default: the process dies). */
static void on_segv(int sig, siginfo_t *info, void *uctx) {
  (void)uctx;
  const unsigned char *a = info->si_addr;
  const Alloc *b = find_mapping(a);
  if (b) {
    char line[400];
    const char *who = lucy_emu_activity;
    if (!b->live)
      snprintf(line, sizeof line,
               "lucy-cuda-emu: %s accessed %p, byte %td of a %zu-byte block that was freed "
               "(cudaFree) before\n", who, (const void *)a, a - b->ptr, b->bytes);
    else if (a < b->ptr)
      snprintf(line, sizeof line,
               "lucy-cuda-emu: %s accessed %p, %td bytes before the %zu-byte block at %p\n", who,
               (const void *)a, b->ptr - a, b->bytes, (const void *)b->ptr);
    else
      snprintf(line, sizeof line,
               "lucy-cuda-emu: %s accessed %p, %td bytes past the end of the %zu-byte block at "
               "%p\n", who, (const void *)a, a - (b->ptr + b->bytes), b->bytes,
               (const void *)b->ptr);
    ssize_t w = write(2, line, strlen(line));
    (void)w;
  }
  (void)sig;
  sigaction(SIGSEGV, &previous_segv, NULL);
}

static size_t parse_bytes(const char *s, size_t fallback) {
  if (!s || !*s) return fallback;
  char *end = NULL;
  errno = 0;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno || end == s) return fallback;
  switch (*end) {
  case 'G': case 'g': v <<= 30; break;
  case 'M': case 'm': v <<= 20; break;
  case 'K': case 'k': v <<= 10; break;
  default: break;
  }
  return (size_t)v;
}

static void init(void) {
  page_bytes = (size_t)sysconf(_SC_PAGESIZE);
  capacity = parse_bytes(getenv("LUCY_CUDA_EMU_BYTES"), DEFAULT_CAPACITY);
  if (capacity < ((size_t)64 << 20)) capacity = (size_t)64 << 20;
  reserve = capacity / 16 < CONTEXT_RESERVE ? capacity / 16 : CONTEXT_RESERVE;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_segv;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK; /* fibers' stacks are small (lucy_emu_alt_stack) */
  sigemptyset(&sa.sa_mask);
  sigaction(SIGSEGV, &sa, &previous_segv);
}

static void ensure_init(void) { pthread_once(&init_once, init); }

void lucy_emu_alt_stack(void) {
  static _Thread_local int done;
  if (done) return;
  done = 1;
  stack_t ss = {.ss_size = 64 << 10};
  ss.ss_sp = malloc(ss.ss_size); /* kept for the thread's life */
  if (ss.ss_sp) sigaltstack(&ss, NULL);
}

/* ---- the allocation table ---------------------------------------------------------------- */

static size_t round_up(size_t v, size_t to) { return (v + to - 1) / to * to; }

/* Table lock held. */
static const Alloc *holder(const unsigned char *p) {
  for (size_t i = 0; i < n_table; i++)
    if (table[i].live && p >= table[i].ptr && p < table[i].ptr + table[i].bytes) return &table[i];
  return NULL;
}

/* Table lock held: what p is, for a report. */
static void describe(const unsigned char *p, char *why, size_t n) {
  const Alloc *near = NULL;
  for (size_t i = 0; i < n_table; i++) {
    const Alloc *b = &table[i];
    if (p >= b->map && p < b->map + b->map_bytes) {
      near = b;
      break;
    }
  }
  if (!near)
    snprintf(why, n, "%p is not device memory", (const void *)p);
  else if (!near->live)
    snprintf(why, n, "%p is inside a %zu-byte block freed before", (const void *)p, near->bytes);
  else if (p < near->ptr)
    snprintf(why, n, "%p is %td bytes before the %zu-byte block at %p", (const void *)p,
             near->ptr - p, near->bytes, (const void *)near->ptr);
  else
    snprintf(why, n, "%p is %td bytes past the end of the %zu-byte block at %p",
             (const void *)p, p - (near->ptr + near->bytes), near->bytes,
             (const void *)near->ptr);
}

int lucy_emu_device_range(const void *p, size_t bytes, char *why, size_t why_size) {
  const unsigned char *a = p;
  pthread_mutex_lock(&table_lock);
  const Alloc *b = holder(a);
  if (!b && bytes == 0) { /* a pointer just past the end of a block: an empty range there */
    for (size_t i = 0; i < n_table && !b; i++)
      if (table[i].live && a == table[i].ptr + table[i].bytes) b = &table[i];
  }
  int ok = b && (size_t)(b->ptr + b->bytes - a) >= bytes;
  if (!ok && why) {
    if (!b)
      describe(a, why, why_size);
    else
      snprintf(why, why_size, "[%p, +%zu) runs %zu bytes past the end of the %zu-byte block at %p",
               p, bytes, bytes - (size_t)(b->ptr + b->bytes - a), b->bytes, (const void *)b->ptr);
  }
  pthread_mutex_unlock(&table_lock);
  return ok;
}

int lucy_emu_host_range(const void *p, size_t bytes) {
  const unsigned char *a = p;
  int ok = 1;
  pthread_mutex_lock(&table_lock);
  for (size_t i = 0; i < n_table && ok; i++)
    if (a < table[i].map + table[i].map_bytes && a + bytes > table[i].map) ok = 0;
  pthread_mutex_unlock(&table_lock);
  return ok;
}

size_t lucy_emu_bytes_after(const void *p) {
  pthread_mutex_lock(&table_lock);
  const Alloc *b = holder(p);
  const size_t n = b ? (size_t)(b->ptr + b->bytes - (const unsigned char *)p) : 0;
  pthread_mutex_unlock(&table_lock);
  return n;
}

static void fill_red_zones(const Alloc *b) {
  memset(b->map + page_bytes, RED, (size_t)(b->ptr - (b->map + page_bytes)));
  memset(b->ptr + b->bytes, RED, b->charged - b->bytes);
}

/* 0 when both red zones of b are intact. */
static int red_zones_damaged(const Alloc *b, size_t *first, const char **side) {
  const unsigned char *lo = b->map + page_bytes;
  for (const unsigned char *q = lo; q < b->ptr; q++)
    if (*q != RED) {
      *first = (size_t)(b->ptr - q);
      *side = "before";
      return 1;
    }
  for (const unsigned char *q = b->ptr + b->bytes; q < b->ptr + b->charged; q++)
    if (*q != RED) {
      *first = (size_t)(q - (b->ptr + b->bytes));
      *side = "past the end of";
      return 1;
    }
  return 0;
}

void lucy_emu_check_red_zones(const char *who) {
  pthread_mutex_lock(&table_lock);
  for (size_t i = 0; i < n_table; i++) {
    const Alloc *b = &table[i];
    size_t at = 0;
    const char *side = NULL;
    if (!b->live || !red_zones_damaged(b, &at, &side)) continue;
    lucy_emu_report("%s wrote %zu bytes %s the %zu-byte block at %p (its red zone): the context "
                    "is lost (cudaErrorIllegalAddress from now on)",
                    who, at, side, b->bytes, (const void *)b->ptr);
    fill_red_zones(b);
    sticky_error = cudaErrorIllegalAddress;
  }
  pthread_mutex_unlock(&table_lock);
}

/* Table lock held: drop the oldest freed blocks beyond QUARANTINE. */
static void trim_quarantine(void) {
  size_t freed = 0;
  for (size_t i = 0; i < n_table; i++) freed += !table[i].live;
  while (freed > QUARANTINE) {
    size_t oldest = n_table;
    for (size_t i = 0; i < n_table; i++)
      if (!table[i].live && (oldest == n_table || table[i].serial < table[oldest].serial))
        oldest = i;
    munmap(table[oldest].map, table[oldest].map_bytes);
    table[oldest] = table[--n_table];
    freed--;
  }
}

cudaError_t lucy_emu_malloc(void **out, size_t bytes) {
  ensure_init();
  const size_t charged = round_up(bytes, ALIGN);
  const size_t body = round_up(charged, page_bytes);
  pthread_mutex_lock(&table_lock);
  const int fits = charged <= capacity - reserve - used_bytes && charged >= bytes;
  if (fits) used_bytes += charged;
  pthread_mutex_unlock(&table_lock);
  if (!fits) return cudaErrorMemoryAllocation;
  const size_t map_bytes = body + 2 * page_bytes;
  unsigned char *map = mmap(NULL, map_bytes, PROT_READ | PROT_WRITE,
                            MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (map == MAP_FAILED) {
    pthread_mutex_lock(&table_lock);
    used_bytes -= charged;
    pthread_mutex_unlock(&table_lock);
    return cudaErrorMemoryAllocation;
  }
  mprotect(map, page_bytes, PROT_NONE);
  mprotect(map + page_bytes + body, page_bytes, PROT_NONE);
  Alloc a = {.map = map, .map_bytes = map_bytes, .ptr = map + page_bytes + body - charged,
             .bytes = bytes, .charged = charged, .live = 1};
  memset(a.ptr, 0xFF, bytes); /* NaN as float and as double */
  fill_red_zones(&a);
  pthread_mutex_lock(&table_lock);
  if (n_table == cap_table) {
    const size_t cap = cap_table ? 2 * cap_table : 64;
    Alloc *t = realloc(table, cap * sizeof *t);
    if (!t) {
      used_bytes -= charged;
      pthread_mutex_unlock(&table_lock);
      munmap(map, map_bytes);
      return cudaErrorMemoryAllocation;
    }
    table = t;
    cap_table = cap;
  }
  a.serial = next_serial++;
  table[n_table++] = a;
  pthread_mutex_unlock(&table_lock);
  *out = a.ptr;
  return cudaSuccess;
}

cudaError_t lucy_emu_free(void *p) {
  pthread_mutex_lock(&table_lock);
  Alloc *b = NULL;
  for (size_t i = 0; i < n_table && !b; i++)
    if (table[i].live && table[i].ptr == p) b = &table[i];
  if (!b) {
    char why[200];
    describe(p, why, sizeof why);
    pthread_mutex_unlock(&table_lock);
    lucy_emu_report("cudaFree(%p): not a block from cudaMalloc (%s)", p, why);
    return cudaErrorInvalidValue;
  }
  size_t at = 0;
  const char *side = NULL;
  if (red_zones_damaged(b, &at, &side)) {
    lucy_emu_report("cudaFree(%p): something wrote %zu bytes %s this %zu-byte block", p, at,
                    side, b->bytes);
    sticky_error = cudaErrorIllegalAddress;
  }
  used_bytes -= b->charged;
  b->live = 0;
  b->serial = next_serial++;
  madvise(b->map, b->map_bytes, MADV_DONTNEED);
  mprotect(b->map, b->map_bytes, PROT_NONE);
  trim_quarantine();
  pthread_mutex_unlock(&table_lock);
  return cudaSuccess;
}

/* ---- memory API ---------------------------------------------------------------------------- */

cudaError_t cudaMalloc(void **devPtr, size_t size) {
  ensure_init();
  if (sticky_error) return lucy_emu_fail(sticky_error);
  if (!devPtr) return lucy_emu_fail(cudaErrorInvalidValue);
  *devPtr = NULL;
  if (size == 0) return cudaSuccess;
  return lucy_emu_fail(lucy_emu_malloc(devPtr, size));
}

cudaError_t cudaFree(void *devPtr) {
  ensure_init();
  if (!devPtr) return cudaSuccess;
  const cudaError_t e = lucy_emu_free(devPtr);
  if (e) return lucy_emu_fail(e);
  return sticky_error ? lucy_emu_fail(sticky_error) : cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total) {
  ensure_init();
  if (sticky_error) return lucy_emu_fail(sticky_error);
  if (!free_bytes || !total) return lucy_emu_fail(cudaErrorInvalidValue);
  pthread_mutex_lock(&table_lock);
  *free_bytes = capacity - reserve - used_bytes;
  *total = capacity;
  pthread_mutex_unlock(&table_lock);
  return cudaSuccess;
}

static int bad_device_range(const char *call, const char *role, const void *p, size_t n) {
  char why[300];
  if (lucy_emu_device_range(p, n, why, sizeof why)) return 0;
  lucy_emu_report("%s: the %s range [%p, +%zu bytes) is not inside one live block: %s", call,
                  role, p, n, why);
  return 1;
}

static int bad_host_range(const char *call, const char *role, const void *p, size_t n) {
  if (!p) {
    lucy_emu_report("%s: the %s pointer is NULL", call, role);
    return 1;
  }
  if (lucy_emu_host_range(p, n)) return 0;
  lucy_emu_report("%s: the %s range [%p, +%zu bytes) should be host memory but overlaps a "
                  "device block", call, role, p, n);
  return 1;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t count, enum cudaMemcpyKind kind,
                            cudaStream_t stream) {
  ensure_init();
  static const char call[] = "cudaMemcpyAsync";
  if (sticky_error) return lucy_emu_fail(sticky_error);
  if (!lucy_emu_stream_ok(stream)) {
    lucy_emu_report("%s: stream %p was never created or is destroyed", call, (void *)stream);
    return lucy_emu_fail(cudaErrorInvalidResourceHandle);
  }
  if (count == 0) return cudaSuccess;
  if (kind == cudaMemcpyDefault) { /* unified addressing: the pointers say where they live */
    const int dd = lucy_emu_bytes_after(dst) > 0, sd = lucy_emu_bytes_after(src) > 0;
    kind = dd ? (sd ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice)
              : (sd ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost);
  }
  int bad = 0;
  switch (kind) {
  case cudaMemcpyHostToDevice:
    bad = bad_device_range(call, "destination", dst, count) ||
          bad_host_range(call, "source", src, count);
    break;
  case cudaMemcpyDeviceToHost:
    bad = bad_device_range(call, "source", src, count) ||
          bad_host_range(call, "destination", dst, count);
    break;
  case cudaMemcpyDeviceToDevice:
    bad = bad_device_range(call, "destination", dst, count) ||
          bad_device_range(call, "source", src, count);
    break;
  case cudaMemcpyHostToHost:
    bad = bad_host_range(call, "destination", dst, count) ||
          bad_host_range(call, "source", src, count);
    break;
  default:
    lucy_emu_report("%s: copy kind %d", call, (int)kind);
    return lucy_emu_fail(cudaErrorInvalidMemcpyDirection);
  }
  if (bad) return lucy_emu_fail(cudaErrorInvalidValue);
  const unsigned char *s = src, *d = dst;
  if (d < s + count && s < d + count) {
    lucy_emu_report("%s: source and destination overlap", call);
    return lucy_emu_fail(cudaErrorInvalidValue);
  }
  memcpy(dst, src, count);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void *devPtr, int value, size_t count, cudaStream_t stream) {
  ensure_init();
  if (sticky_error) return lucy_emu_fail(sticky_error);
  if (!lucy_emu_stream_ok(stream)) {
    lucy_emu_report("cudaMemsetAsync: stream %p was never created or is destroyed",
                    (void *)stream);
    return lucy_emu_fail(cudaErrorInvalidResourceHandle);
  }
  if (count == 0) return cudaSuccess;
  if (bad_device_range("cudaMemsetAsync", "destination", devPtr, count))
    return lucy_emu_fail(cudaErrorInvalidValue);
  memset(devPtr, value, count);
  return cudaSuccess;
}

/* ---- streams ---------------------------------------------------------------------------------- */

typedef struct EmuStream {
  unsigned magic;
  unsigned flags;
  struct EmuStream *next;
} EmuStream;

#define STREAM_MAGIC 0x5354524du
static pthread_mutex_t stream_lock = PTHREAD_MUTEX_INITIALIZER;
static EmuStream *streams;

int lucy_emu_stream_ok(cudaStream_t s) {
  if (s == NULL || s == cudaStreamLegacy || s == cudaStreamPerThread) return 1;
  int ok = 0;
  pthread_mutex_lock(&stream_lock);
  for (EmuStream *e = streams; e && !ok; e = e->next) ok = (cudaStream_t)(void *)e == s;
  pthread_mutex_unlock(&stream_lock);
  return ok;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *pStream, unsigned int flags) {
  ensure_init();
  if (sticky_error) return lucy_emu_fail(sticky_error);
  if (!pStream || (flags & ~(unsigned)cudaStreamNonBlocking))
    return lucy_emu_fail(cudaErrorInvalidValue);
  EmuStream *e = calloc(1, sizeof *e);
  if (!e) return lucy_emu_fail(cudaErrorMemoryAllocation);
  e->magic = STREAM_MAGIC;
  e->flags = flags;
  pthread_mutex_lock(&stream_lock);
  e->next = streams;
  streams = e;
  pthread_mutex_unlock(&stream_lock);
  *pStream = (cudaStream_t)(void *)e;
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t stream) {
  pthread_mutex_lock(&stream_lock);
  EmuStream **pp = &streams;
  while (*pp && (cudaStream_t)(void *)*pp != stream) pp = &(*pp)->next;
  EmuStream *e = *pp;
  if (e) *pp = e->next;
  pthread_mutex_unlock(&stream_lock);
  if (!e) {
    lucy_emu_report("cudaStreamDestroy(%p): not a live stream", (void *)stream);
    return lucy_emu_fail(cudaErrorInvalidResourceHandle);
  }
  free(e);
  return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) {
  if (!lucy_emu_stream_ok(stream)) {
    lucy_emu_report("cudaStreamSynchronize(%p): not a live stream", (void *)stream);
    return lucy_emu_fail(cudaErrorInvalidResourceHandle);
  }
  return sticky_error ? lucy_emu_fail(sticky_error) : cudaSuccess;
}

/* ---- the device ------------------------------------------------------------------------------- */

#define EMU_NAME "Lucy CUDA emulator (CPU)"

cudaError_t cudaGetDeviceCount(int *count) {
  ensure_init();
  if (!count) return lucy_emu_fail(cudaErrorInvalidValue);
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  ensure_init();
  if (device != 0) return lucy_emu_fail(cudaErrorInvalidDevice);
  return sticky_error ? lucy_emu_fail(sticky_error) : cudaSuccess;
}

cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *prop, int device) {
  ensure_init();
  if (!prop) return lucy_emu_fail(cudaErrorInvalidValue);
  if (device != 0) return lucy_emu_fail(cudaErrorInvalidDevice);
  memset(prop, 0, sizeof *prop);
  snprintf(prop->name, sizeof prop->name, "%s", EMU_NAME);
  prop->totalGlobalMem = capacity;
  prop->sharedMemPerBlock = 48 << 10;
  prop->regsPerBlock = 65536;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = 1024;
  prop->maxThreadsDim[0] = prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 0x7fffffff;
  prop->maxGridSize[1] = prop->maxGridSize[2] = 65535;
  prop->major = 9;
  prop->minor = 0;
  prop->multiProcessorCount = 1;
  return cudaSuccess;
}

/* ---- errors ------------------------------------------------------------------------------------ */

cudaError_t cudaGetLastError(void) {
  const cudaError_t e = last_error;
  last_error = cudaSuccess;
  return e != cudaSuccess ? e : (cudaError_t)sticky_error;
}

static const struct {
  cudaError_t e;
  const char *name, *text;
} errors[] = {
    {cudaSuccess, "cudaSuccess", "no error"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
    {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration",
     "invalid configuration argument"},
    {cudaErrorInvalidMemcpyDirection, "cudaErrorInvalidMemcpyDirection",
     "invalid copy direction for memcpy"},
    {cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal"},
    {cudaErrorNoDevice, "cudaErrorNoDevice", "no CUDA-capable device is detected"},
    {cudaErrorInvalidResourceHandle, "cudaErrorInvalidResourceHandle",
     "invalid resource handle"},
    {cudaErrorIllegalAddress, "cudaErrorIllegalAddress",
     "an illegal memory access was encountered"},
    {cudaErrorLaunchFailure, "cudaErrorLaunchFailure", "unspecified launch failure"},
};

const char *cudaGetErrorName(cudaError_t error) {
  for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
    if (errors[i].e == error) return errors[i].name;
  return "cudaErrorUnknown";
}

const char *cudaGetErrorString(cudaError_t error) {
  for (size_t i = 0; i < sizeof errors / sizeof errors[0]; i++)
    if (errors[i].e == error) return errors[i].text;
  return "unknown error";
}
