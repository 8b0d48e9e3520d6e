/* The kernels of test-cuda-emu.c (test-emu-kernels.cu), behind plain C launchers that return
 * the launch's cudaError_t (cudaGetLastError after it) as an int. */
#ifndef LUCY_TEST_EMU_KERNELS_H
#define LUCY_TEST_EMU_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define EMU_TEST_THREADS 128 /* threads per block of every launcher below */

/* out[b] = sum of in[i] over the i that block b's threads visit (grid-stride): a shared-memory
 * tree with __syncthreads, through a __device__ function. */
int emu_test_block_sums(const float *in, size_t n, float *out, unsigned blocks);
/* Threads [from, to) of each block return before the barrier the others wait at. */
int emu_test_diverge(float *out, unsigned blocks, unsigned from, unsigned to);
/* Thread 0 of block 0 stores v at out[i]. */
int emu_test_store(float *out, size_t i, float v);
/* Thread 0 of block 0 copies in[i] to out[0]. */
int emu_test_load(const float *in, size_t i, float *out);
/* Swaps the two floats of each of the n pairs at a (read as float2: a must be 8-aligned). */
int emu_test_swap_pairs(float *a, size_t n);
/* Every thread of blocks x threads adds 1 to *counter with atomicAdd. */
int emu_test_count(float *counter, unsigned blocks);
/* A (gx, gy, gz) grid of (bx, by, bz) blocks: each thread writes its linear global index
 * into out at its linear global index (so out[i] == i when the indices are right). */
int emu_test_indices(unsigned *out, const unsigned grid[3], const unsigned block[3]);

#ifdef __cplusplus
}
#endif
#endif
