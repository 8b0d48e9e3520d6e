/* The generic part of the device layer: options, reference counting, names, memory accounting,
 * and dispatch to the implementation (core/src/device-cpu.c; the CUDA device later). */
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "device-impl.h"
#include "status-private.h"

#define CUDA_REASON                                                                          \
  "built without CUDA: this build has no CUDA device (configure with -Dcuda=enabled where "   \
  "nvcc and cuFFT are installed)"

#ifdef LUCY_HAVE_CUDA
#include "cuda/device-cuda.h"
#endif

static atomic_size_t fft_count;

void lucy__device_count_fft(void) { atomic_fetch_add_explicit(&fft_count, 1, memory_order_relaxed); }

size_t lucy__device_fft_count(void) { return atomic_load(&fft_count); }

void lucy_device_options_default(LucyDeviceOptions *opts) {
  if (!opts) return;
  memset(opts, 0, sizeof *opts);
  opts->kind = LUCY_DEVICE_CPU;
  opts->threads = 0;
  opts->planning = LUCY_PLAN_FAST;
  opts->ordinal = 0;
  opts->use_wisdom = 1;
}

/* One FFT thread per CPU this process may run on (its affinity: taskset, a container's cpuset),
 * not per online core: threads beyond those only wait for each other. */
static int usable_cpus(void) {
  cpu_set_t set;
  long n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
  if (n <= 0) n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (n > 4096 ? 4096 : (int)n) : 1;
}

int lucy_cuda_available(const char **reason) {
#ifdef LUCY_HAVE_CUDA
  const char *why = NULL;
  const int n = lucy__cuda_device_count(&why);
  if (reason) *reason = n > 0 ? "" : why;
  return n > 0;
#else
  if (reason) *reason = CUDA_REASON;
  return 0;
#endif
}

LucyStatus lucy_device_new(const LucyDeviceOptions *opts, LucyDevice **out) {
  if (!out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_device_new: out is NULL");
  *out = NULL;
  LucyDeviceOptions o;
  if (opts)
    o = *opts;
  else
    lucy_device_options_default(&o);
  if (o.kind != LUCY_DEVICE_CPU && o.kind != LUCY_DEVICE_CUDA)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "unknown device kind %d", (int)o.kind);
  if (o.planning != LUCY_PLAN_FAST && o.planning != LUCY_PLAN_THOROUGH)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "unknown FFT planning mode %d", (int)o.planning);
  if (o.kind == LUCY_DEVICE_CUDA) {
#ifndef LUCY_HAVE_CUDA
    return lucy__fail(LUCY_ERR_UNSUPPORTED, "cannot use the CUDA device: %s", CUDA_REASON);
#endif
  }
  if (o.threads <= 0) o.threads = usable_cpus();

  LucyDevice *dev = calloc(1, sizeof *dev);
  if (!dev) return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory creating a device");
  dev->opts = o;
  atomic_init(&dev->refcount, 1);
  atomic_init(&dev->held_bytes, 0);
  atomic_init(&dev->peak_bytes, 0);
  LucyStatus st;
#ifdef LUCY_HAVE_CUDA
  if (o.kind == LUCY_DEVICE_CUDA)
    st = lucy__device_cuda_init(dev);
  else
#endif
    st = lucy__device_cpu_init(dev);
  if (st) {
    free(dev);
    return st;
  }
  *out = dev;
  return LUCY_OK;
}

LucyDevice *lucy_device_ref(LucyDevice *dev) {
  if (dev) atomic_fetch_add(&dev->refcount, 1);
  return dev;
}

void lucy_device_unref(LucyDevice *dev) {
  if (!dev) return;
  if (atomic_fetch_sub(&dev->refcount, 1) != 1) return;
  if (dev->ops && dev->ops->destroy) dev->ops->destroy(dev);
  free(dev);
}

LucyDeviceKind lucy_device_kind(const LucyDevice *dev) {
  return dev ? dev->opts.kind : LUCY_DEVICE_CPU;
}

const char *lucy_device_name(const LucyDevice *dev) { return dev ? dev->name : "(none)"; }

int lucy_device_threads(const LucyDevice *dev) { return dev ? dev->opts.threads : 0; }

LucyStatus lucy_device_memory_info(LucyDevice *dev, LucyMemoryInfo *info) {
  if (!dev || !info)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_device_memory_info: NULL argument");
  memset(info, 0, sizeof *info);
  LucyStatus st = dev->ops->memory_info(dev, info);
  info->lucy_bytes = atomic_load(&dev->held_bytes);
  info->lucy_peak_bytes = atomic_load(&dev->peak_bytes);
  return st;
}

void lucy__device_account(LucyDevice *dev, size_t bytes) {
  size_t now = atomic_fetch_add(&dev->held_bytes, bytes) + bytes;
  size_t peak = atomic_load(&dev->peak_bytes);
  while (now > peak && !atomic_compare_exchange_weak(&dev->peak_bytes, &peak, now)) {
  }
}

void lucy__device_unaccount(LucyDevice *dev, size_t bytes) {
  atomic_fetch_sub(&dev->held_bytes, bytes);
}

LucyStatus lucy__device_for_plan(LucyDevice *given, int threads, LucyPlanning planning,
                                 LucyDevice **out) {
  if (given) {
    *out = lucy_device_ref(given);
    return LUCY_OK;
  }
  LucyDeviceOptions dopts;
  lucy_device_options_default(&dopts);
  dopts.threads = threads;
  dopts.planning = planning;
  return lucy_device_new(&dopts, out);
}
