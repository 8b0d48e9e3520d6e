/* What the emulator's parts (cuda-emu-runtime.c: memory, streams, errors; cuda-emu-cufft.c:
 * cuFFT over FFTW; cuda-emu-launch.cc: kernel launches) ask of each other. Everything here is
 * hidden inside lucy-cuda-emu.so; only the CUDA and cuFFT API names are its public face, and
 * the module's version script keeps even those local. */
#ifndef LUCY_CUDA_EMU_H
#define LUCY_CUDA_EMU_H

#include <cuda_runtime_api.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#pragma GCC visibility push(hidden)

/* One line on stderr, prefixed "lucy-cuda-emu: ": why a call failed or what a kernel broke.
 * Lucy turns failures into its own messages; this says which contract was broken. */
void lucy_emu_report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Records e as this host thread's last error (what cudaGetLastError returns and clears) and
 * returns it; cudaSuccess passes through untouched. Every failing API call goes through it. */
cudaError_t lucy_emu_fail(cudaError_t e);

/* cudaErrorIllegalAddress once a kernel wrote outside its buffers (the context is then lost,
 * as on a GPU), else cudaSuccess. */
cudaError_t lucy_emu_sticky(void);

/* 1 when [p, p + bytes) lies inside one live allocation (bytes 0: p itself inside one). On 0,
 * *why (when not NULL) gets a description of what p is instead, for the report. */
int lucy_emu_device_range(const void *p, size_t bytes, char *why, size_t why_size);

/* 1 when [p, p + bytes) overlaps no live allocation: a host range. */
int lucy_emu_host_range(const void *p, size_t bytes);

/* Bytes from p to the end of the live allocation holding p; 0 when none holds it. */
size_t lucy_emu_bytes_after(const void *p);

/* Device memory for the emulator itself (cuFFT's auto-allocated work areas), from the same
 * table and capacity as cudaMalloc. */
cudaError_t lucy_emu_malloc(void **p, size_t bytes);
cudaError_t lucy_emu_free(void *p);

/* 1 for the default stream (NULL) or a stream created and not yet destroyed. */
int lucy_emu_stream_ok(cudaStream_t s);

/* Checks every live allocation's red zones after a kernel or a transform; a damaged one is
 * reported (naming `who`), repaired, and makes the context's error sticky. */
void lucy_emu_check_red_zones(const char *who);

/* Gives the calling thread a signal stack of its own for the fault handler, which would not
 * fit on a kernel fiber's stack. Called before a launch. */
void lucy_emu_alt_stack(void);

/* What the emulated device is doing now (a kernel's name, "cufftExecR2C"), for the report
 * when an access hits a guard page. Set by the one thread that holds the launch lock. */
extern const char *volatile lucy_emu_activity;

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif

#endif
