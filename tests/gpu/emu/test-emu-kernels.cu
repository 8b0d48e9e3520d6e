// Kernels that test the emulator's launches (test-cuda-emu.c): barriers through a __device__
// function, a divergent barrier, out-of-range stores and loads, atomics across blocks, and
// multi-dimensional indices. Plain CUDA: gen-emu-kernels.py makes the host copy.
#include <cuda_runtime.h>
#include <stddef.h>

#include "test-emu-kernels.h"

namespace {

constexpr int kThreads = EMU_TEST_THREADS;

__device__ float block_total(float v) {
  __shared__ float sh[kThreads];
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if ((int)threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
    __syncthreads();
  }
  const float total = sh[0];
  __syncthreads();  // nobody overwrites sh before everyone has read the total
  return total;
}

__global__ void k_block_sums(const float *in, size_t n, float *out) {
  float v = 0.0f;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x)
    v += in[i];
  const float total = block_total(v);
  if (threadIdx.x == 0) out[blockIdx.x] = total;
}

__global__ void k_diverge(float *out, unsigned from, unsigned to) {
  if (threadIdx.x >= from && threadIdx.x < to) return;
  __syncthreads();
  out[threadIdx.x] = 1.0f;
}

__global__ void k_store(float *out, size_t i, float v) {
  if (blockIdx.x == 0 && threadIdx.x == 0) out[i] = v;
}

__global__ void k_load(const float *in, size_t i, float *out) {
  if (blockIdx.x == 0 && threadIdx.x == 0) out[0] = in[i];
}

__global__ void k_swap_pairs(float2 *a, size_t n) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x)
    a[i] = make_float2(a[i].y, a[i].x);
}

__global__ void k_count(float *counter) { atomicAdd(counter, 1.0f); }

__global__ void k_indices(unsigned *out) {
  const unsigned block = (blockIdx.z * gridDim.y + blockIdx.y) * gridDim.x + blockIdx.x;
  const unsigned thread = (threadIdx.z * blockDim.y + threadIdx.y) * blockDim.x + threadIdx.x;
  const unsigned i = block * (blockDim.x * blockDim.y * blockDim.z) + thread;
  out[i] = i;
}

int launched() { return (int)cudaGetLastError(); }

}  // namespace

extern "C" {

int emu_test_block_sums(const float *in, size_t n, float *out, unsigned blocks) {
  k_block_sums<<<blocks, kThreads>>>(in, n, out);
  return launched();
}

int emu_test_diverge(float *out, unsigned blocks, unsigned from, unsigned to) {
  k_diverge<<<blocks, kThreads>>>(out, from, to);
  return launched();
}

int emu_test_store(float *out, size_t i, float v) {
  k_store<<<1, kThreads>>>(out, i, v);
  return launched();
}

int emu_test_load(const float *in, size_t i, float *out) {
  k_load<<<1, kThreads>>>(in, i, out);
  return launched();
}

int emu_test_swap_pairs(float *a, size_t n) {
  k_swap_pairs<<<4, kThreads>>>((float2 *)a, n);
  return launched();
}

int emu_test_count(float *counter, unsigned blocks) {
  k_count<<<blocks, kThreads>>>(counter);
  return launched();
}

int emu_test_indices(unsigned *out, const unsigned grid[3], const unsigned block[3]) {
  k_indices<<<dim3(grid[0], grid[1], grid[2]), dim3(block[0], block[1], block[2])>>>(out);
  return launched();
}

}  // extern "C"
