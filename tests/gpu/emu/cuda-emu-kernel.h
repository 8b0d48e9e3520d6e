// What CUDA device code needs to compile and run as host C++: the part of CUDA that
// core/src/cuda/cuda-kernels.cu uses, for the copy of it that gen-emu-kernels.py makes (its
// `#include <cuda_runtime.h>` becomes this header; each `k<<<grid, block, shmem, stream>>>(args)`
// becomes `lucy_emu::launch<k, barriers>("k", grid, block, shmem, stream, args)`, and each
// `__shared__ T name[N];` becomes `auto &name = lucy_emu::shared<T[N], id>();`).
//
// A launch converts the arguments to the kernel's parameter types once, as CUDA does, checks
// every pointer among them (NULL, or inside a live device block and aligned for its type: a
// host pointer or a freed buffer fails the launch with a report instead of faulting later,
// a misaligned float2 the way cudaErrorMisalignedAddress would), then runs every thread of
// every block of the grid (cuda-emu-launch.cc). Blocks may run at the same time on several
// host threads, as on a GPU; the threads of one block run on one host thread, one after
// another on a plain loop, or as fibers switched at each __syncthreads for the kernels whose
// code can reach it (the generator follows the calls). So the thread indices and __shared__
// arrays are per host thread, and atomicAdd is a real atomic.
#ifndef LUCY_CUDA_EMU_KERNEL_H
#define LUCY_CUDA_EMU_KERNEL_H

// Before the CUDA headers, which define them only when undefined. __shared__ must not remain:
// the host compiler would make a per-thread array of it.
#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __shared__ __shared___left_for_gen_emu_kernels_to_rewrite

#include <cuda_runtime_api.h>
#include <math.h>
#include <stddef.h>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector_functions.h>

#include "cuda-kernels.h"

#pragma GCC visibility push(hidden)
// The running thread's indices, set by the launcher. Initial-exec TLS: read on every loop
// iteration of every kernel, they must cost a plain load. (The module's whole TLS must then fit
// the little static TLS that glibc keeps for modules opened later: block-shared arrays are not
// thread_local but one copy per host thread, below.)
#define LUCY_EMU_TLS thread_local __attribute__((tls_model("initial-exec")))
extern LUCY_EMU_TLS uint3 threadIdx, blockIdx;
extern LUCY_EMU_TLS dim3 blockDim, gridDim;
extern LUCY_EMU_TLS unsigned lucy_emu_worker;  // which host thread: 0 .. kMaxWorkers - 1

// Saves the callee-saved registers on the current stack and the stack pointer in *save, then
// resumes the context whose stack pointer is `to` (cuda-emu-launch.cc).
extern "C" void lucy_emu_switch(void **save, void *to);

namespace lucy_emu {
constexpr unsigned kMaxThreads = 1024;  // per block, as on every CUDA GPU

// The fibers of the block that a host thread is running (cuda-emu-launch.cc).
struct Fibers {
  void *sp[kMaxThreads];     // each fiber's saved stack pointer
  uint3 index[kMaxThreads];  // each fiber's threadIdx
  void *scheduler_sp;
  unsigned count, current;
  unsigned returned;  // fibers of this round that returned (the others are at the barrier)
  unsigned parked;    // fibers 0 .. parked - 1 wait in fiber_main for the next block
  bool probing;       // thread 0 of the block runs, alone, until it returns or waits
  bool unfibered;     // the block's other threads run as plain calls (thread 0 never waited)
  bool diverged;      // ... and one of them reached a barrier after all
  void *runner_sp;    // the stack those plain calls run on
  void (*thread)(const void *);
  const void *args;
  unsigned char *stacks;  // kMaxThreads + 1 stacks (the last: the runner's) above guard pages
  size_t page;
};
extern LUCY_EMU_TLS Fibers *fibers;  // NULL outside a launch of a kernel with barriers
[[noreturn]] void barrier_without_fibers();
cudaError_t begin(const char *kernel, dim3 grid, dim3 block, size_t shmem, cudaStream_t stream);
void end(const char *kernel, cudaError_t failure);
int pointer_ok(const char *kernel, int index, const void *p, size_t align);
// Runs every block: run_block(args) for plain kernels (all the threads of blockIdx), or
// thread(args) on a fiber per thread for kernels with barriers.
cudaError_t run(const char *kernel, dim3 grid, dim3 block, void (*run_block)(const void *),
                void (*thread)(const void *), const void *args);
}  // namespace lucy_emu
#pragma GCC visibility pop

// This fiber is done with the round: on to the block's next thread, or back to the scheduler
// after the last. Inline: it runs 256 times per barrier per block.
inline void __syncthreads() {
  lucy_emu::Fibers *f = lucy_emu::fibers;
  if (__builtin_expect(f == nullptr || f->unfibered, 0)) lucy_emu::barrier_without_fibers();
  const unsigned i = f->current, next = i + 1;
  if (next < f->count) {
    f->current = next;
    threadIdx = f->index[next];
    if (next + 2 < f->count) {  // the stack of the one after was last touched a round ago
      const char *ahead = static_cast<const char *>(f->sp[next + 2]);
      __builtin_prefetch(ahead);
      __builtin_prefetch(ahead + 64);
      __builtin_prefetch(ahead + 128);
    }
    lucy_emu_switch(&f->sp[i], f->sp[next]);
  } else {
    lucy_emu_switch(&f->sp[i], f->scheduler_sp);
  }
  __asm__ __volatile__("" ::: "memory");  // shared arrays changed under us
}

inline float atomicAdd(float *address, float value) {
  float old = *address, sum;
  do
    sum = old + value;
  while (!__atomic_compare_exchange(address, &old, &sum, true, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED));
  return old;
}

inline double atomicAdd(double *address, double value) {
  double old = *address, sum;
  do
    sum = old + value;
  while (!__atomic_compare_exchange(address, &old, &sum, true, __ATOMIC_RELAXED,
                                    __ATOMIC_RELAXED));
  return old;
}

namespace lucy_emu {

constexpr unsigned kMaxWorkers = 8;

// A __shared__ array: one per host thread, which runs one block at a time. Id tells apart
// declarations of the same type.
template <class T, int Id>
inline T &shared() {
  static T storage[kMaxWorkers];
  return storage[lucy_emu_worker];
}

// A pointer argument must be NULL or point into a live device block, aligned for its type (a
// misaligned float2 load is cudaErrorMisalignedAddress on a GPU).
template <class T>
inline int check_arg(const char *kernel, int index, const T &value) {
  if constexpr (std::is_pointer_v<T>)
    return value == nullptr ||
           pointer_ok(kernel, index, (const void *)value, alignof(std::remove_pointer_t<T>));
  else
    return 1;
}

// The one struct argument of Lucy's kernels that carries a device pointer.
inline int check_arg(const char *kernel, int index, const LucyCukBox &box) {
  return box.sat == nullptr || pointer_ok(kernel, index, box.sat, alignof(double));
}

template <class F>
struct params;
template <class... P>
struct params<void (*)(P...)> {
  using type = std::tuple<std::decay_t<P>...>;
};

template <auto K, class Args>
void run_block(const void *args) {
  const Args &a = *static_cast<const Args *>(args);
  const dim3 block = blockDim;
  for (unsigned tz = 0; tz < block.z; tz++)
    for (unsigned ty = 0; ty < block.y; ty++)
      for (unsigned tx = 0; tx < block.x; tx++) {
        threadIdx = uint3{tx, ty, tz};
        std::apply(K, a);
      }
}

template <auto K, class Args>
void run_thread(const void *args) {
  std::apply(K, *static_cast<const Args *>(args));
}

template <auto K, bool Barriers, class... A>
void launch(const char *kernel, dim3 grid, dim3 block, size_t shmem, cudaStream_t stream,
            A &&...a) {
  using Args = typename params<decltype(K)>::type;
  const Args args(std::forward<A>(a)...);
  if (begin(kernel, grid, block, shmem, stream) != cudaSuccess) return;
  int ok = 1, index = 0;
  std::apply([&](const auto &...v) { ((ok &= check_arg(kernel, index++, v)), ...); }, args);
  cudaError_t failure = cudaErrorLaunchFailure;
  if (ok)
    failure = run(kernel, grid, block, Barriers ? nullptr : run_block<K, Args>,
                  Barriers ? run_thread<K, Args> : nullptr, &args);
  end(kernel, failure);
}

}  // namespace lucy_emu

#endif
