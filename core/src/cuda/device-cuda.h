/* What the generic device layer (device.c) needs from the CUDA device (device-cuda.c). */
#ifndef LUCY_DEVICE_CUDA_H
#define LUCY_DEVICE_CUDA_H

#pragma GCC visibility push(hidden)

/* CUDA devices visible to this process (probed once); 0 with *reason ("no CUDA device found
 * (cudaGetDeviceCount: ...)") when there are none. */
int lucy__cuda_device_count(const char **reason);

#pragma GCC visibility pop

#endif
