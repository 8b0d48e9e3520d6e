/* The CUDA device lives in a module (lucy-cuda.so) that liblucy opens on first use, so that a
 * process which never asks for a GPU neither needs the CUDA libraries installed nor pays for
 * loading them (libcudart + libcufft make ~8 MiB resident at load). The module and the library
 * are built from the same tree; the ABI number, sizeof(LucyDevice) and sizeof(LucyDeviceOps)
 * (the table the module fills and the library calls through) guard against a stale module
 * next to a newer library. Bump the ABI number when LucyCudaHost or LucyCudaModule change. */
#ifndef LUCY_CUDA_MODULE_H
#define LUCY_CUDA_MODULE_H

#include <stddef.h>

#include "device-impl.h"

#define LUCY_CUDA_MODULE_ABI 2
#define LUCY_CUDA_MODULE_ENTRY "lucy_cuda_module_entry"

/* What the module needs from liblucy: its error state and the device accounting. */
typedef struct LucyCudaHost {
  int abi;
  size_t device_size; /* sizeof(LucyDevice) in the library */
  size_t ops_size;    /* sizeof(LucyDeviceOps) in the library */
  LucyStatus (*fail)(LucyStatus status, const char *message);
  LucyStatus (*fail_context)(LucyStatus status, const char *prefix);
  void (*account)(LucyDevice *dev, size_t bytes);
  void (*unaccount)(LucyDevice *dev, size_t bytes);
  void (*count_fft)(void);
} LucyCudaHost;

/* What liblucy calls in the module (see device-cuda.c). */
typedef struct LucyCudaModule {
  int (*device_count)(const char **reason);
  LucyStatus (*device_init)(LucyDevice *dev);
  int (*fft_estimate)(const size_t shape[3], size_t *bytes);
} LucyCudaModule;

/* Fills *out; 0 on success, else -1 with a reason in *why (ABI or layout mismatch). */
typedef int (*LucyCudaModuleEntry)(const LucyCudaHost *host, LucyCudaModule *out,
                                   const char **why);
/* The module's only exported symbol (LUCY_CUDA_MODULE_ENTRY). */
__attribute__((visibility("default"))) int lucy_cuda_module_entry(const LucyCudaHost *host,
                                                                  LucyCudaModule *out,
                                                                  const char **why);

#endif
