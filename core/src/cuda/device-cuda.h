/* The CUDA device's entry points (with lucy__device_cuda_init in device-impl.h and
 * lucy__cuda_fft_estimate in memory-private.h). device-cuda.c defines them inside the lucy-cuda
 * module; cuda-loader.c defines the same names in liblucy, forwarding to the module it opens
 * on first use (cuda-module.h), so device.c and memory.c call them without knowing where the
 * device lives. */
#ifndef LUCY_DEVICE_CUDA_H
#define LUCY_DEVICE_CUDA_H

#include <stddef.h>

#include "lucy/status.h"

#pragma GCC visibility push(hidden)

/* CUDA devices visible to this process (probed once); 0 with *reason ("no CUDA device found
 * (cudaGetDeviceCount: ...)", or why the module could not be opened) when there are none. */
int lucy__cuda_device_count(const char **reason);

#pragma GCC visibility pop

#endif
