/* The CUDA emulator's own tests: that it holds callers to the contracts it claims to check
 * (gpu-emu's other tests only show that Lucy keeps them), and that its transforms and kernel
 * launches compute what cuFFT and a GPU would. Linked against the emulator's objects, not the
 * module: it calls the CUDA and cuFFT functions itself. A broken contract that loses the
 * emulated context (a red zone written) or kills the process (a guard page read) is tested in
 * a subprocess. */
#include <cuda_runtime_api.h>
#include <cufft.h>
#include <glib.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "test-emu-kernels.h"

#define CAPACITY ((size_t)256 << 20) /* $LUCY_CUDA_EMU_BYTES, set in main */

static void *dev_alloc(size_t bytes) {
  void *p = NULL;
  g_assert_cmpint(cudaMalloc(&p, bytes), ==, cudaSuccess);
  g_assert_nonnull(p);
  return p;
}

static size_t free_bytes(void) {
  size_t fr = 0, tot = 0;
  g_assert_cmpint(cudaMemGetInfo(&fr, &tot), ==, cudaSuccess);
  g_assert_cmpuint(tot, ==, CAPACITY);
  return fr;
}

static void test_device(void) {
  int n = 0;
  g_assert_cmpint(cudaGetDeviceCount(&n), ==, cudaSuccess);
  g_assert_cmpint(n, ==, 1);
  struct cudaDeviceProp prop;
  g_assert_cmpint(cudaGetDeviceProperties(&prop, 0), ==, cudaSuccess);
  g_assert_nonnull(strstr(prop.name, "emulator"));
  g_assert_cmpuint(prop.totalGlobalMem, ==, CAPACITY);
  g_assert_cmpint(cudaSetDevice(0), ==, cudaSuccess);
  /* An error is the thread's last error until read, once. */
  g_assert_cmpint(cudaSetDevice(1), ==, cudaErrorInvalidDevice);
  g_assert_cmpint(cudaGetLastError(), ==, cudaErrorInvalidDevice);
  g_assert_cmpint(cudaGetLastError(), ==, cudaSuccess);
  g_assert_cmpstr(cudaGetErrorName(cudaErrorMemoryAllocation), ==, "cudaErrorMemoryAllocation");
}

static void test_malloc(void) {
  const size_t free0 = free_bytes();
  g_assert_cmpuint(free0, <, CAPACITY); /* the context's reservation */
  float *p = dev_alloc(1000);
  g_assert_cmpuint((uintptr_t)p % 256, ==, 0);
  g_assert_cmpuint(free_bytes(), ==, free0 - 1024); /* rounded to 256 bytes */
  for (int i = 0; i < 250; i++) g_assert_true(isnan(p[i])); /* uninitialised: NaN */

  void *big = NULL, *more = NULL;
  g_assert_cmpint(cudaMalloc(&big, free0 - 4096), ==, cudaSuccess);
  g_assert_cmpint(cudaMalloc(&more, 8192), ==, cudaErrorMemoryAllocation);
  g_assert_null(more);
  g_assert_cmpint(cudaGetLastError(), ==, cudaErrorMemoryAllocation);
  g_assert_cmpint(cudaFree(big), ==, cudaSuccess);
  g_assert_cmpint(cudaMalloc(&more, 8192), ==, cudaSuccess);
  g_assert_cmpint(cudaFree(more), ==, cudaSuccess);

  g_assert_cmpint(cudaFree(p + 1), ==, cudaErrorInvalidValue); /* not a block's start */
  g_assert_cmpint(cudaFree(p), ==, cudaSuccess);
  g_assert_cmpint(cudaFree(p), ==, cudaErrorInvalidValue); /* twice */
  float host = 0;
  g_assert_cmpint(cudaFree(&host), ==, cudaErrorInvalidValue);
  g_assert_cmpint(cudaFree(NULL), ==, cudaSuccess);
  (void)cudaGetLastError();
  void *none = &host;
  g_assert_cmpint(cudaMalloc(&none, 0), ==, cudaSuccess);
  g_assert_null(none);
  g_assert_cmpuint(free_bytes(), ==, free0);
}

static void test_copies(void) {
  const size_t n = 1000;
  float *d = dev_alloc(n * sizeof(float)), *e = dev_alloc(n * sizeof(float));
  float *h = g_new0(float, n + 8);
  cudaStream_t s = NULL;
  g_assert_cmpint(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), ==, cudaSuccess);
  for (size_t i = 0; i < n; i++) h[i] = (float)i;
  g_assert_cmpint(cudaMemcpyAsync(d, h, n * sizeof(float), cudaMemcpyHostToDevice, s), ==,
                  cudaSuccess);
  /* Ranges that leave their block, or start in a freed one, or put host data in device
   * memory, fail and copy nothing. */
  g_assert_cmpint(cudaMemcpyAsync(d + 1, h, n * sizeof(float), cudaMemcpyHostToDevice, s), ==,
                  cudaErrorInvalidValue);
  g_assert_cmpint(cudaMemcpyAsync(h, d, (n + 1) * sizeof(float), cudaMemcpyDeviceToHost, s), ==,
                  cudaErrorInvalidValue);
  g_assert_cmpint(cudaMemcpyAsync(e, d, sizeof(float), cudaMemcpyHostToDevice, s), ==,
                  cudaErrorInvalidValue);
  g_assert_cmpint(cudaMemcpyAsync(h, h + 4, sizeof(float), cudaMemcpyDeviceToHost, s), ==,
                  cudaErrorInvalidValue);
  g_assert_cmpint(cudaMemsetAsync(d + n - 1, 0, 2 * sizeof(float), s), ==, cudaErrorInvalidValue);
  g_assert_cmpint(cudaMemsetAsync(e, 0, n * sizeof(float), s), ==, cudaSuccess);
  g_assert_cmpint(cudaFree(e), ==, cudaSuccess);
  g_assert_cmpint(cudaMemsetAsync(e, 0, 4, s), ==, cudaErrorInvalidValue);
  (void)cudaGetLastError();

  memset(h, 0, n * sizeof(float));
  g_assert_cmpint(cudaMemcpyAsync(h, d, n * sizeof(float), cudaMemcpyDeviceToHost, s), ==,
                  cudaSuccess);
  g_assert_cmpint(cudaStreamSynchronize(s), ==, cudaSuccess);
  for (size_t i = 0; i < n; i++) g_assert_cmpfloat(h[i], ==, (float)i);

  g_assert_cmpint(cudaStreamDestroy(s), ==, cudaSuccess);
  g_assert_cmpint(cudaMemcpyAsync(h, d, 4, cudaMemcpyDeviceToHost, s), ==,
                  cudaErrorInvalidResourceHandle);
  g_assert_cmpint(cudaStreamSynchronize(s), ==, cudaErrorInvalidResourceHandle);
  (void)cudaGetLastError();
  g_assert_cmpint(cudaFree(d), ==, cudaSuccess);
  g_free(h);
}

/* ---- cuFFT ---------------------------------------------------------------------------------- */

/* The r2c spectrum of x (shape n, C order) at frequency k, in double. */
static void dft(const float *x, const long long n[3], const long long k[3], double *re,
                double *im) {
  *re = *im = 0;
  for (long long a = 0; a < n[0]; a++)
    for (long long b = 0; b < n[1]; b++)
      for (long long c = 0; c < n[2]; c++) {
        const double ph = -2 * G_PI * ((double)k[0] * a / n[0] + (double)k[1] * b / n[1] +
                                       (double)k[2] * c / n[2]);
        const double v = x[(a * n[1] + b) * n[2] + c];
        *re += v * cos(ph);
        *im += v * sin(ph);
      }
}

static cufftHandle plan_r2c_c2r(long long n[3], cufftType type, size_t *work) {
  cufftHandle h;
  g_assert_cmpint(cufftCreate(&h), ==, CUFFT_SUCCESS);
  g_assert_cmpint(cufftSetAutoAllocation(h, 0), ==, CUFFT_SUCCESS);
  g_assert_cmpint(cufftMakePlanMany64(h, 3, n, NULL, 1, 0, NULL, 1, 0, type, 1, work), ==,
                  CUFFT_SUCCESS);
  size_t w = 0, estimate = 0;
  g_assert_cmpint(cufftGetSize(h, &w), ==, CUFFT_SUCCESS);
  g_assert_cmpuint(w, ==, *work);
  g_assert_cmpuint(w, >, 0);
  g_assert_cmpint(cufftEstimate3d((int)n[0], (int)n[1], (int)n[2], type, &estimate), ==,
                  CUFFT_SUCCESS);
  g_assert_cmpuint(estimate, >=, w);
  return h;
}

static void test_cufft_in_place(void) {
  long long n[3] = {4, 6, 5};
  const long long row = 2 * (n[2] / 2 + 1), count = n[0] * n[1] * n[2];
  const size_t bytes = (size_t)(n[0] * n[1] * row) * sizeof(float);
  size_t work = 0;
  cufftHandle r2c = plan_r2c_c2r(n, CUFFT_R2C, &work), c2r = plan_r2c_c2r(n, CUFFT_C2R, &work);
  float *x = g_new(float, count), *padded = g_new0(float, bytes / sizeof(float));
  for (long long i = 0; i < count; i++) x[i] = (float)sin(0.7 * i) + 0.25f;
  for (long long r = 0; r < n[0] * n[1]; r++) memcpy(padded + r * row, x + r * n[2], n[2] * 4);
  float *buf = dev_alloc(bytes), *area = dev_alloc(work), *small = dev_alloc(bytes - 4);
  g_assert_cmpint(cudaMemcpyAsync(buf, padded, bytes, cudaMemcpyHostToDevice, 0), ==, cudaSuccess);

  /* No work area with auto-allocation off; one in a block smaller than the plan's; data in a
   * block without the in-place padding: all refused. */
  g_assert_cmpint(cufftExecR2C(r2c, buf, (cufftComplex *)buf), ==, CUFFT_INVALID_VALUE);
  g_assert_cmpint(cufftSetWorkArea(r2c, small + (bytes - 4) / 4 - work / 8), ==, CUFFT_SUCCESS);
  g_assert_cmpint(cufftExecR2C(r2c, buf, (cufftComplex *)buf), ==, CUFFT_INVALID_VALUE);
  g_assert_cmpint(cufftSetWorkArea(r2c, area), ==, CUFFT_SUCCESS);
  g_assert_cmpint(cufftExecR2C(r2c, small, (cufftComplex *)small), ==, CUFFT_INVALID_VALUE);

  g_assert_cmpint(cufftExecR2C(r2c, buf, (cufftComplex *)buf), ==, CUFFT_SUCCESS);
  float *spec = g_new(float, bytes / sizeof(float));
  g_assert_cmpint(cudaMemcpyAsync(spec, buf, bytes, cudaMemcpyDeviceToHost, 0), ==, cudaSuccess);
  double worst = 0;
  for (long long a = 0; a < n[0]; a++)
    for (long long b = 0; b < n[1]; b++)
      for (long long c = 0; c <= n[2] / 2; c++) {
        double re, im;
        dft(x, n, (long long[]){a, b, c}, &re, &im);
        const float *got = spec + (a * n[1] + b) * row + 2 * c;
        worst = fmax(worst, fmax(fabs(got[0] - re), fabs(got[1] - im)));
      }
  g_assert_cmpfloat(worst, <, 1e-4 * count);
  /* The work area holds nothing between transforms. */
  float probe[4];
  g_assert_cmpint(cudaMemcpyAsync(probe, area, sizeof probe, cudaMemcpyDeviceToHost, 0), ==,
                  cudaSuccess);
  for (int i = 0; i < 4; i++) g_assert_true(isnan(probe[i]));

  /* c2r: unnormalised, so back to count times x. */
  g_assert_cmpint(cufftSetWorkArea(c2r, area), ==, CUFFT_SUCCESS);
  g_assert_cmpint(cufftExecC2R(c2r, (cufftComplex *)buf, buf), ==, CUFFT_SUCCESS);
  g_assert_cmpint(cudaMemcpyAsync(padded, buf, bytes, cudaMemcpyDeviceToHost, 0), ==, cudaSuccess);
  for (long long r = 0; r < n[0] * n[1]; r++)
    for (long long c = 0; c < n[2]; c++)
      g_assert_cmpfloat(fabs(padded[r * row + c] - count * x[r * n[2] + c]), <, 1e-3 * count);
  g_assert_cmpint(cufftExecC2R(r2c, (cufftComplex *)buf, buf), ==, CUFFT_INVALID_PLAN);

  g_assert_cmpint(cufftDestroy(r2c), ==, CUFFT_SUCCESS);
  g_assert_cmpint(cufftDestroy(c2r), ==, CUFFT_SUCCESS);
  g_assert_cmpint(cufftExecR2C(r2c, buf, (cufftComplex *)buf), ==, CUFFT_INVALID_PLAN);
  g_assert_cmpint(cudaFree(buf), ==, cudaSuccess);
  g_assert_cmpint(cudaFree(area), ==, cudaSuccess);
  g_assert_cmpint(cudaFree(small), ==, cudaSuccess);
  g_free(x);
  g_free(padded);
  g_free(spec);
}

/* The advanced layout, batched and out of place: 3 transforms of 8 reals, 9 floats apart,
 * into 3 spectra of 5 complex values, 6 apart; the auto-allocated work area. And an
 * out-of-place c2r leaves its input overwritten, as cuFFT may. */
static void test_cufft_batched(void) {
  long long n[1] = {8}, embed[1] = {8};
  cufftHandle r2c, c2r;
  size_t work = 0;
  g_assert_cmpint(cufftCreate(&r2c), ==, CUFFT_SUCCESS);
  g_assert_cmpint(cufftMakePlanMany64(r2c, 1, n, embed, 1, 9, embed, 1, 6, CUFFT_R2C, 3, &work),
                  ==, CUFFT_SUCCESS);
  g_assert_cmpint(cufftCreate(&c2r), ==, CUFFT_SUCCESS);
  g_assert_cmpint(cufftMakePlanMany64(c2r, 1, n, embed, 1, 6, embed, 1, 9, CUFFT_C2R, 3, &work),
                  ==, CUFFT_SUCCESS);
  float in[27], back[27];
  for (int i = 0; i < 27; i++) in[i] = (float)((i * 7) % 5) - 1.5f;
  float *din = dev_alloc(sizeof in), *dout = dev_alloc(3 * 6 * 2 * sizeof(float));
  g_assert_cmpint(cudaMemcpyAsync(din, in, sizeof in, cudaMemcpyHostToDevice, 0), ==, cudaSuccess);
  g_assert_cmpint(cufftExecR2C(r2c, din, (cufftComplex *)dout), ==, CUFFT_SUCCESS);
  float spec[36];
  g_assert_cmpint(cudaMemcpyAsync(spec, dout, sizeof spec, cudaMemcpyDeviceToHost, 0), ==,
                  cudaSuccess);
  for (int b = 0; b < 3; b++)
    for (int k = 0; k < 5; k++) {
      double re, im;
      dft(in + 9 * b, (long long[]){1, 1, 8}, (long long[]){0, 0, k}, &re, &im);
      g_assert_cmpfloat(fabs(spec[2 * (6 * b + k)] - re), <, 1e-4);
      g_assert_cmpfloat(fabs(spec[2 * (6 * b + k) + 1] - im), <, 1e-4);
    }
  g_assert_cmpint(cufftExecC2R(c2r, (cufftComplex *)dout, din), ==, CUFFT_SUCCESS);
  g_assert_cmpint(cudaMemcpyAsync(back, din, sizeof back, cudaMemcpyDeviceToHost, 0), ==,
                  cudaSuccess);
  for (int b = 0; b < 3; b++)
    for (int i = 0; i < 8; i++) g_assert_cmpfloat(fabs(back[9 * b + i] - 8 * in[9 * b + i]), <, 1e-3);
  g_assert_cmpint(cudaMemcpyAsync(spec, dout, sizeof spec, cudaMemcpyDeviceToHost, 0), ==,
                  cudaSuccess);
  g_assert_true(isnan(spec[0]));
  /* The output block is too small for the third transform. */
  float *short_out = dev_alloc(2 * 6 * 2 * sizeof(float));
  g_assert_cmpint(cufftExecR2C(r2c, din, (cufftComplex *)short_out), ==, CUFFT_INVALID_VALUE);
  g_assert_cmpint(cufftDestroy(r2c), ==, CUFFT_SUCCESS);
  g_assert_cmpint(cufftDestroy(c2r), ==, CUFFT_SUCCESS);
  g_assert_cmpint(cudaFree(din), ==, cudaSuccess);
  g_assert_cmpint(cudaFree(dout), ==, cudaSuccess);
  g_assert_cmpint(cudaFree(short_out), ==, cudaSuccess);
}

/* ---- kernels -------------------------------------------------------------------------------- */

static void test_kernels(void) {
  /* 2048 blocks: enough for the worker threads. */
  const size_t n = 300000;
  const unsigned blocks = 2048;
  float *h = g_new(float, n), *dh = dev_alloc(n * sizeof(float)), *dsum = dev_alloc(blocks * 4);
  for (size_t i = 0; i < n; i++) h[i] = (float)(i % 7);
  g_assert_cmpint(cudaMemcpyAsync(dh, h, n * 4, cudaMemcpyHostToDevice, 0), ==, cudaSuccess);
  g_assert_cmpint(emu_test_block_sums(dh, n, dsum, blocks), ==, cudaSuccess);
  float *sums = g_new(float, blocks);
  g_assert_cmpint(cudaMemcpyAsync(sums, dsum, blocks * 4, cudaMemcpyDeviceToHost, 0), ==,
                  cudaSuccess);
  for (unsigned b = 0; b < blocks; b++) {
    double want = 0;
    for (size_t i = b * EMU_TEST_THREADS; i < n; i += (size_t)blocks * EMU_TEST_THREADS)
      for (size_t t = i; t < i + EMU_TEST_THREADS && t < n; t++) want += h[t];
    g_assert_cmpfloat(sums[b], ==, want); /* small integers: exact */
  }

  float *counter = dev_alloc(sizeof(float)), zero = 0, got = 0;
  g_assert_cmpint(cudaMemcpyAsync(counter, &zero, 4, cudaMemcpyHostToDevice, 0), ==, cudaSuccess);
  g_assert_cmpint(emu_test_count(counter, 4096), ==, cudaSuccess);
  g_assert_cmpint(cudaMemcpyAsync(&got, counter, 4, cudaMemcpyDeviceToHost, 0), ==, cudaSuccess);
  g_assert_cmpfloat(got, ==, 4096.0 * EMU_TEST_THREADS);

  const unsigned grid[3] = {3, 2, 2}, block[3] = {4, 3, 2}, total = 12 * 24;
  unsigned *didx = dev_alloc(total * sizeof(unsigned)), idx[12 * 24];
  g_assert_cmpint(emu_test_indices(didx, grid, block), ==, cudaSuccess);
  g_assert_cmpint(cudaMemcpyAsync(idx, didx, sizeof idx, cudaMemcpyDeviceToHost, 0), ==,
                  cudaSuccess);
  for (unsigned i = 0; i < total; i++) g_assert_cmpuint(idx[i], ==, i);
  const unsigned big_block[3] = {33, 32, 1};
  g_assert_cmpint(emu_test_indices(didx, grid, big_block), ==, cudaErrorInvalidConfiguration);

  /* A divergent barrier, and pointers that are not device memory or not aligned for their
   * type, fail the launch; the context stays usable. */
  g_assert_cmpint(emu_test_diverge(dsum, 4, 0, 5), ==, cudaErrorLaunchFailure);
  g_assert_cmpint(emu_test_diverge(dsum, 4, 100, EMU_TEST_THREADS), ==, cudaErrorLaunchFailure);
  g_assert_cmpint(emu_test_diverge(dsum, 4, 0, EMU_TEST_THREADS), ==, cudaSuccess); /* none wait */
  g_assert_cmpint(emu_test_diverge(dsum, 4, 0, 0), ==, cudaSuccess);                /* all wait */
  g_assert_cmpint(emu_test_store(h, 0, 1.0f), ==, cudaErrorLaunchFailure);
  float *freed = dev_alloc(64);
  g_assert_cmpint(cudaFree(freed), ==, cudaSuccess);
  g_assert_cmpint(emu_test_store(freed, 0, 1.0f), ==, cudaErrorLaunchFailure);
  g_assert_cmpint(emu_test_store(dsum, blocks - 1, 1.0f), ==, cudaSuccess);
  g_assert_cmpint(emu_test_swap_pairs(dh + 1, 10), ==, cudaErrorLaunchFailure); /* misaligned */
  g_assert_cmpint(emu_test_swap_pairs(dh + 2, 10), ==, cudaSuccess);

  g_assert_cmpint(cudaFree(dh), ==, cudaSuccess);
  g_assert_cmpint(cudaFree(dsum), ==, cudaSuccess);
  g_assert_cmpint(cudaFree(counter), ==, cudaSuccess);
  g_assert_cmpint(cudaFree(didx), ==, cudaSuccess);
  g_free(h);
  g_free(sums);
}

/* A store just past a block lands in its red zone: the launch reports the lost context, and
 * so does every call after it. */
static void test_red_zone(void) {
  if (g_test_subprocess()) {
    float *d = dev_alloc(100 * sizeof(float));
    g_assert_cmpint(emu_test_store(d, 100, 1.0f), ==, cudaErrorIllegalAddress);
    void *p = NULL;
    g_assert_cmpint(cudaMalloc(&p, 16), ==, cudaErrorIllegalAddress);
    g_assert_cmpint(cudaStreamSynchronize(0), ==, cudaErrorIllegalAddress);
    return;
  }
  g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed();
  g_test_trap_assert_stderr("*k_store wrote 0 bytes past the end of the 400-byte block*");
}

/* A load a page past a block, or from a freed one, faults; the report says where it hit. */
static void test_guard_pages(void) {
  if (g_test_subprocess()) {
    float *d = dev_alloc(100 * sizeof(float)), *out = dev_alloc(sizeof(float));
    if (strcmp(g_getenv("EMU_TEST_CASE"), "freed") == 0) {
      g_assert_cmpint(cudaFree(d), ==, cudaSuccess);
      /* the launch refuses the freed pointer; a pointer into the freed block from a live one
       * shows the fault path (argument checks only see where a pointer starts) */
      (void)emu_test_load(out, (size_t)(d - out) + 10, out);
    } else {
      (void)emu_test_load(d, 1000, out); /* in the guard page after the block */
    }
    return;
  }
  const char *const cases[][2] = {{"past", "*k_load accessed * bytes past the end of the 400-byte block*"},
                                  {"freed", "*k_load accessed *of a 400-byte block that was freed*"}};
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    g_setenv("EMU_TEST_CASE", cases[i][0], TRUE);
    g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDIN);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr(cases[i][1]);
  }
}

int main(int argc, char **argv) {
  g_setenv("LUCY_CUDA_EMU_BYTES", "256M", TRUE);
  g_setenv("LUCY_CUDA_EMU_THREADS", "3", TRUE); /* worker threads even on one core */
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/emu/device", test_device);
  g_test_add_func("/emu/malloc", test_malloc);
  g_test_add_func("/emu/copies", test_copies);
  g_test_add_func("/emu/cufft/in-place", test_cufft_in_place);
  g_test_add_func("/emu/cufft/batched", test_cufft_batched);
  g_test_add_func("/emu/kernels", test_kernels);
  g_test_add_func("/emu/red-zone", test_red_zone);
  g_test_add_func("/emu/guard-pages", test_guard_pages);
  return g_test_run();
}
