/* Devices: where arrays live and FFTs run. The CPU device (FFTW3f + threads) is always present;
 * the CUDA device is built when the cuda option is on. Algorithms are written once against the
 * private interface in core/src/device-impl.h. */
#ifndef LUCY_DEVICE_H
#define LUCY_DEVICE_H

#include <stddef.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum LucyDeviceKind { LUCY_DEVICE_CPU = 0, LUCY_DEVICE_CUDA } LucyDeviceKind;

typedef enum LucyPlanning {
  LUCY_PLAN_FAST = 0, /* FFTW_ESTIMATE (or wisdom): the first call never stalls (default) */
  LUCY_PLAN_THOROUGH  /* FFTW_MEASURE: seconds of planning once, remembered as wisdom */
} LucyPlanning;

typedef struct LucyDeviceOptions {
  LucyDeviceKind kind; /* default LUCY_DEVICE_CPU */
  int threads;         /* CPU threads; <= 0 means one per online core (default) */
  LucyPlanning planning;
  int ordinal;         /* CUDA device number (default 0) */
  int use_wisdom;      /* read/write FFTW wisdom under $XDG_CACHE_HOME/lucy/ (default 1) */
} LucyDeviceOptions;

typedef struct LucyDevice LucyDevice;

/* How an operation fits in device memory (see memory.h): the planner's choice by default. */
typedef enum LucyStrategy {
  LUCY_STRATEGY_AUTO = 0,   /* in-memory if it fits the free memory, else low-memory, else
                               tiled, else cpu */
  LUCY_STRATEGY_IN_MEMORY,  /* every buffer resident */
  LUCY_STRATEGY_LOW_MEMORY, /* OTF as PSF planes, non-circulant weights from prefix sums */
  LUCY_STRATEGY_TILED,      /* x/y tiles with halos of at least the PSF support */
  LUCY_STRATEGY_CPU         /* fall back to a CPU device */
} LucyStrategy;

void lucy_device_options_default(LucyDeviceOptions *opts);
LucyStatus lucy_device_new(const LucyDeviceOptions *opts, LucyDevice **out);
/* Devices are reference counted: plans keep a reference to the device they run on. */
LucyDevice *lucy_device_ref(LucyDevice *dev);
void lucy_device_unref(LucyDevice *dev);

LucyDeviceKind lucy_device_kind(const LucyDevice *dev);
const char *lucy_device_name(const LucyDevice *dev); /* e.g. "cpu (2 threads)" */
int lucy_device_threads(const LucyDevice *dev);

/* 1 when a CUDA device can be used in this build on this machine; else 0 and, if reason is not
 * NULL, a sentence saying why ("built without CUDA", "no CUDA device found"). */
int lucy_cuda_available(const char **reason);

typedef struct LucyMemoryInfo {
  size_t total_bytes;   /* device memory (host RAM for the CPU device) */
  size_t free_bytes;    /* free/available now */
  size_t lucy_bytes;    /* held by Lucy's buffers and FFT work areas on this device now */
  size_t lucy_peak_bytes; /* the most Lucy has held at once since the device was made */
} LucyMemoryInfo;

LucyStatus lucy_device_memory_info(LucyDevice *dev, LucyMemoryInfo *info);

#ifdef __cplusplus
}
#endif
#endif
