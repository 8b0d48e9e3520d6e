// Kernel launches for the emulated kernels (cuda-emu-kernel.h): the checks a launch makes, the
// host threads that run a grid's blocks, and the fibers that give __syncthreads its meaning.
//
// Blocks are handed out to the calling thread and, for grids big enough to pay for waking
// them, to worker threads ($LUCY_CUDA_EMU_THREADS, default: the machine's cores, at most 8):
// blocks run concurrently on a GPU too, so this is one of the schedules a kernel must be
// correct under. Launches themselves are serialised.
//
// A kernel that can reach __syncthreads runs each block's threads as fibers on a fixed set of
// stacks per host thread (reused by every block). Thread i runs until it reaches the barrier
// or returns, then switches straight to thread i + 1; the last one switches back to the
// scheduler, which checks that every thread stopped at the barrier (next round) or every
// thread returned (next block). A mix is a divergent barrier, undefined on a GPU: the launch
// fails with a report. CUDA wants a barrier reached by all of a block's threads or by none, so
// when thread 0 returns without reaching one (a reduction kernel called without its
// reduction), the block's other threads run as plain calls, one after another on a stack of
// their own, without switches; one of them reaching a barrier after all is reported as the
// divergence it is. The switch saves only what the x86-64 System V ABI makes callee-saved
// (six registers and the stack pointer): glibc's swapcontext also saves the signal mask with a
// system call per switch, far too slow for 512 blocks of 256 threads and nine barriers per
// reduction.
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cuda-emu-kernel.h"
#include "cuda-emu.h"

#if !defined(__x86_64__)
#error "the emulator's fiber switch is x86-64 only (tests/gpu/emu/meson.build builds it there only)"
#endif

LUCY_EMU_TLS uint3 threadIdx, blockIdx;
LUCY_EMU_TLS dim3 blockDim, gridDim;
LUCY_EMU_TLS unsigned lucy_emu_worker;

// lucy_emu_switch: what the ABI makes callee-saved goes on the current stack, the stack
// pointer to *save; then the other way round from `to`.
__asm__(
    ".text\n"
    ".p2align 4\n"
    ".globl lucy_emu_switch\n"
    ".hidden lucy_emu_switch\n"
    ".type lucy_emu_switch, @function\n"
    "lucy_emu_switch:\n"
    "  pushq %rbp\n"
    "  pushq %rbx\n"
    "  pushq %r12\n"
    "  pushq %r13\n"
    "  pushq %r14\n"
    "  pushq %r15\n"
    "  movq %rsp, (%rdi)\n"
    "  movq %rsi, %rsp\n"
    "  popq %r15\n"
    "  popq %r14\n"
    "  popq %r13\n"
    "  popq %r12\n"
    "  popq %rbx\n"
    "  popq %rbp\n"
    "  ret\n"
    ".size lucy_emu_switch, .-lucy_emu_switch\n");

namespace {

using lucy_emu::Fibers;
using lucy_emu::fibers;
using lucy_emu::kMaxThreads;
using lucy_emu::kMaxWorkers;
// Kernel frames are small, and the fault handler runs on a stack of its own
// (lucy_emu_alt_stack). Small stacks also keep 256 fibers' working set in cache and TLB:
// switches cost twice as much with 128 KiB stacks.
constexpr size_t kStack = 32 << 10;
// Grids with fewer threads than this run on the calling thread alone: waking the workers
// costs tens of microseconds.
constexpr unsigned long long kParallelThreads = 1 << 17;

// Fiber i is done for this round: on to fiber i + 1, or back to the scheduler.
void pass_on(Fibers &f, unsigned i) {
  const unsigned next = i + 1;
  if (next < f.count) {
    f.current = next;
    threadIdx = f.index[next];
    lucy_emu_switch(&f.sp[i], f.sp[next]);
  } else {
    lucy_emu_switch(&f.sp[i], f.scheduler_sp);
  }
}

// A fiber runs its thread of one block after another (and of later launches on this host
// thread): a returned thread waits here, without a fresh stack per block.
[[noreturn]] void fiber_main() {
  for (;;) {
    Fibers &f = *fibers;
    f.thread(f.args);
    f.returned++;
    if (f.probing && f.current == 0)  // thread 0 never waited: the scheduler runs the rest
      lucy_emu_switch(&f.sp[0], f.scheduler_sp);
    else
      pass_on(f, f.current);
  }
}

// Threads 1 .. count - 1 of a block whose thread 0 returned without waiting, as plain calls.
[[noreturn]] void runner_main() {
  Fibers &f = *fibers;
  for (unsigned i = 1; i < f.count; i++) {
    threadIdx = f.index[i];
    f.thread(f.args);
  }
  lucy_emu_switch(&f.runner_sp, f.scheduler_sp);
  __builtin_trap();  // started afresh for every block that needs it
}

// Stack i (kMaxThreads: the runner's) ready to start `entry`.
void *fresh_stack(Fibers &f, unsigned i, void (*entry)()) {
  // Stack tops a whole number of pages apart would all fall into the same cache sets: each
  // one starts on its own cache line of the page instead.
  unsigned char *top = f.stacks + (size_t)(i + 1) * (kStack + f.page) - (i % 64) * 64;
  void **s = reinterpret_cast<void **>(top);
  *--s = nullptr;                            // entry's return address: none
  *--s = reinterpret_cast<void *>(entry);    // where the switch's ret goes
  for (int r = 0; r < 6; r++) *--s = nullptr;  // rbp, rbx, r12..r15
  return s;
}

Fibers *new_fibers() {
  Fibers *f = static_cast<Fibers *>(calloc(1, sizeof(Fibers)));
  if (!f) return nullptr;
  f->page = (size_t)sysconf(_SC_PAGESIZE);
  const size_t bytes = (kMaxThreads + 1) * (kStack + f->page);
  void *m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (m == MAP_FAILED) {
    free(f);
    return nullptr;
  }
  f->stacks = static_cast<unsigned char *>(m);
  for (unsigned i = 0; i <= kMaxThreads; i++)  // a guard page below each stack
    mprotect(f->stacks + (size_t)i * (kStack + f->page), f->page, PROT_NONE);
  return f;
}

// The launch being run: every host thread takes blocks from `next` until none are left.
struct Grid {
  const char *kernel;
  dim3 grid, block;
  void (*run_block)(const void *);
  void (*thread)(const void *);
  const void *args;
  unsigned long long blocks, chunk;
  unsigned long long next;  // atomic
  int failed;               // atomic: a divergent barrier or no memory for stacks
};

// Runs one block's threads as fibers; 0, or -1 after reporting a divergent barrier.
int run_fiber_block(Fibers &f, const Grid &g) {
  for (unsigned i = f.parked; i < f.count; i++) f.sp[i] = fresh_stack(f, i, fiber_main);
  if (f.parked < f.count) f.parked = f.count;
  for (int round = 0;; round++) {
    f.returned = 0;
    f.current = 0;
    f.probing = round == 0 && f.count > 1;
    threadIdx = f.index[0];
    lucy_emu_switch(&f.scheduler_sp, f.sp[0]);
    if (f.probing && f.current == 0) {  // thread 0 returned: no thread waits at a barrier
      f.probing = false;
      f.unfibered = true;
      f.diverged = false;
      lucy_emu_switch(&f.scheduler_sp, fresh_stack(f, kMaxThreads, runner_main));
      f.unfibered = false;
      if (!f.diverged) return 0;
      lucy_emu_report("%s: block (%u, %u, %u) diverged: thread 0 returned without reaching "
                      "__syncthreads, thread (%u, %u, %u) reached it", g.kernel, blockIdx.x,
                      blockIdx.y, blockIdx.z, threadIdx.x, threadIdx.y, threadIdx.z);
      return -1;
    }
    f.probing = false;
    const unsigned returned = f.returned;
    if (returned == f.count) return 0;
    if (returned) {
      lucy_emu_report("%s: block (%u, %u, %u) diverged at __syncthreads number %d: %u of its %u "
                      "threads returned without reaching it", g.kernel, blockIdx.x, blockIdx.y,
                      blockIdx.z, round + 1, returned, f.count);
      f.parked = 0;  // the ones at the barrier are abandoned: all start afresh next time
      return -1;
    }
  }
}

LUCY_EMU_TLS Fibers *own_fibers;  // this host thread's, made on its first fiber launch

void work(Grid &g) {
  lucy_emu_alt_stack();
  gridDim = g.grid;
  blockDim = g.block;
  if (g.thread) {
    if (!own_fibers) own_fibers = new_fibers();
    if (!own_fibers) {
      if (!__atomic_exchange_n(&g.failed, 1, __ATOMIC_RELAXED))
        lucy_emu_report("%s: no memory for fiber stacks", g.kernel);
      return;
    }
    Fibers &f = *own_fibers;
    f.count = g.block.x * g.block.y * g.block.z;
    for (unsigned i = 0; i < f.count; i++)
      f.index[i] = uint3{i % g.block.x, i / g.block.x % g.block.y, i / (g.block.x * g.block.y)};
    f.thread = g.thread;
    f.args = g.args;
    fibers = &f;
  }
  const unsigned long long plane = (unsigned long long)g.grid.x * g.grid.y;
  for (;;) {
    const unsigned long long first = __atomic_fetch_add(&g.next, g.chunk, __ATOMIC_RELAXED);
    if (first >= g.blocks || __atomic_load_n(&g.failed, __ATOMIC_RELAXED)) break;
    const unsigned long long last = first + g.chunk < g.blocks ? first + g.chunk : g.blocks;
    for (unsigned long long b = first; b < last; b++) {
      blockIdx = uint3{(unsigned)(b % g.grid.x), (unsigned)(b % plane / g.grid.x),
                       (unsigned)(b / plane)};
      if (!g.thread) {
        g.run_block(g.args);
      } else if (run_fiber_block(*fibers, g)) {
        __atomic_store_n(&g.failed, 1, __ATOMIC_RELAXED);
        break;
      }
    }
  }
  fibers = nullptr;
}

// The worker threads and the launch they are working on.
pthread_mutex_t launch_lock = PTHREAD_MUTEX_INITIALIZER;  // one launch at a time
pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER;
pthread_cond_t pool_start = PTHREAD_COND_INITIALIZER, pool_done = PTHREAD_COND_INITIALIZER;
Grid *pool_grid;
unsigned long pool_generation;
unsigned pool_busy, n_workers;  // n_workers: started, besides the launching thread
pthread_once_t pool_once = PTHREAD_ONCE_INIT;

void *worker(void *index) {
  lucy_emu_worker = (unsigned)(uintptr_t)index;
  unsigned long seen = 0;
  for (;;) {
    pthread_mutex_lock(&pool_lock);
    while (pool_generation == seen) pthread_cond_wait(&pool_start, &pool_lock);
    seen = pool_generation;
    Grid *g = pool_grid;
    pthread_mutex_unlock(&pool_lock);
    work(*g);
    pthread_mutex_lock(&pool_lock);
    if (--pool_busy == 0) pthread_cond_signal(&pool_done);
    pthread_mutex_unlock(&pool_lock);
  }
  return nullptr;
}

void start_pool() {
  long want = sysconf(_SC_NPROCESSORS_ONLN);
  if (const char *env = getenv("LUCY_CUDA_EMU_THREADS")) want = atol(env);
  if (want > (long)kMaxWorkers) want = kMaxWorkers;
  for (long i = 1; i < want; i++) {
    pthread_t t;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    if (pthread_create(&t, &attr, worker, (void *)(uintptr_t)(n_workers + 1)) == 0) n_workers++;
    pthread_attr_destroy(&attr);
  }
}

}  // namespace

namespace lucy_emu {

LUCY_EMU_TLS Fibers *fibers;

// A barrier where none can be. In a block whose thread 0 returned without one: back to the
// scheduler, which reports the divergence (the runner's stack is abandoned). In a kernel
// launched on the plain loop: gen-emu-kernels.py missed a call path to __syncthreads, an
// emulator bug that would make the results wrong.
void barrier_without_fibers() {
  if (Fibers *f = fibers) {
    f->diverged = true;
    lucy_emu_switch(&f->runner_sp, f->scheduler_sp);
    __builtin_trap();  // never resumed
  }
  lucy_emu_report("%s called __syncthreads but was launched without fibers "
                  "(gen-emu-kernels.py missed a call path to it)", lucy_emu_activity);
  abort();
}

cudaError_t begin(const char *kernel, dim3 grid, dim3 block, size_t shmem, cudaStream_t stream) {
  if (const cudaError_t e = lucy_emu_sticky()) return lucy_emu_fail(e);
  const unsigned long long threads = (unsigned long long)block.x * block.y * block.z;
  if (!grid.x || !grid.y || !grid.z || grid.x > 0x7fffffffu || grid.y > 65535 ||
      grid.z > 65535 || !threads || threads > kMaxThreads || block.z > 64) {
    lucy_emu_report("%s: launch configuration grid (%u, %u, %u) block (%u, %u, %u)", kernel,
                    grid.x, grid.y, grid.z, block.x, block.y, block.z);
    return lucy_emu_fail(cudaErrorInvalidConfiguration);
  }
  if (shmem > (48u << 10)) {
    lucy_emu_report("%s: %zu bytes of dynamic shared memory", kernel, shmem);
    return lucy_emu_fail(cudaErrorInvalidValue);
  }
  if (!lucy_emu_stream_ok(stream)) {
    lucy_emu_report("%s: stream %p is not live", kernel, (void *)stream);
    return lucy_emu_fail(cudaErrorInvalidResourceHandle);
  }
  pthread_mutex_lock(&launch_lock);
  lucy_emu_activity = kernel;
  return cudaSuccess;
}

void end(const char *kernel, cudaError_t failure) {
  lucy_emu_check_red_zones(kernel);
  lucy_emu_activity = "host code";
  pthread_mutex_unlock(&launch_lock);
  if (failure != cudaSuccess) lucy_emu_fail(failure);
}

int pointer_ok(const char *kernel, int index, const void *p, size_t align) {
  char why[300];
  if (!lucy_emu_device_range(p, 0, why, sizeof why)) {
    lucy_emu_report("%s: argument %d is not a device pointer: %s", kernel, index, why);
    return 0;
  }
  if ((uintptr_t)p % align) {
    lucy_emu_report("%s: argument %d (%p) is not aligned to its type's %zu bytes", kernel, index,
                    p, align);
    return 0;
  }
  return 1;
}

cudaError_t run(const char *kernel, dim3 grid, dim3 block, void (*run_block)(const void *),
                void (*thread)(const void *), const void *args) {
  Grid g = {kernel, grid, block, run_block, thread, args, 0, 1, 0, 0};
  g.blocks = (unsigned long long)grid.x * grid.y * grid.z;
  const unsigned long long threads = g.blocks * block.x * block.y * block.z;
  pthread_once(&pool_once, start_pool);
  const unsigned helpers = threads >= kParallelThreads && g.blocks > 1 ? n_workers : 0;
  g.chunk = g.blocks / (8ull * (helpers + 1)) + 1;  // a few chunks each: even finishing times
  if (helpers) {
    pthread_mutex_lock(&pool_lock);
    pool_grid = &g;
    pool_busy = helpers;
    pool_generation++;
    pthread_cond_broadcast(&pool_start);
    pthread_mutex_unlock(&pool_lock);
  }
  work(g);
  if (helpers) {
    pthread_mutex_lock(&pool_lock);
    while (pool_busy) pthread_cond_wait(&pool_done, &pool_lock);
    pthread_mutex_unlock(&pool_lock);
  }
  return g.failed ? cudaErrorLaunchFailure : cudaSuccess;
}

}  // namespace lucy_emu
