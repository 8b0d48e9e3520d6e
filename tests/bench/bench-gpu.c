/* Times Lucy on the CUDA device (driven by bench_gpu.py, which times the tutorial's CuPy
 * pipeline on the same data in the same run). Prints key=value lines (seconds, bytes).
 *
 *   bench-gpu conv IMAGE.f32 PSF.f32 [--reps 7] [--mode same]
 *       warm lucy_conv_execute (upload, 2 FFTs, multiply, extract, download) on one plan,
 *       the counter's peak bytes and the cudaMemGetInfo drop while the plan is held, the
 *       planner's prediction, and the upload and download rates from pageable and page-locked
 *       host memory with the pageable transfers' share of the warm execute
 *   bench-gpu rl IMAGE.f32 PSF.f32 [--iterations 20] [--reps 3]
 *       RL seconds per iteration (warm, from the monitor's timestamps) against the floor: two
 *       r2c + c2r pairs at the padded size on the same device, timed with CUDA events
 *   bench-gpu tiled IMAGE.f32 PSF.f32 [--limit BYTES]
 *       one-shot convolution with strategy auto under a budget (default: the GPU's free bytes),
 *       the chosen strategy and tiles, and the time; then the same on the CPU device
 * Not a test: nothing is asserted. Built only with the CUDA device (ninja
 * tests/bench/bench-gpu). */
#include <cuda_runtime.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

#include "bench-util.h"
#include "device-impl.h"
#include "lucy/lucy.h"
#include "lucy/memory.h"


static LucyDevice *device(LucyDeviceKind kind) {
  LucyDeviceOptions o;
  lucy_device_options_default(&o);
  o.kind = kind;
  LucyDevice *dev = NULL;
  BENCH_CHECK(lucy_device_new(&o, &dev));
  return dev;
}

static size_t free_bytes(LucyDevice *dev) {
  LucyMemoryInfo mi;
  BENCH_CHECK(lucy_device_memory_info(dev, &mi));
  return mi.free_bytes;
}

#define CUDA_CHECK(call)                                                                  \
  do {                                                                                    \
    cudaError_t e_ = (call);                                                              \
    if (e_ != cudaSuccess) {                                                              \
      fprintf(stderr, "%s: %s: %s\n", #call, cudaGetErrorName(e_), cudaGetErrorString(e_)); \
      exit(1);                                                                            \
    }                                                                                     \
  } while (0)

/* Median seconds of reps cudaMemcpy calls of bytes (synchronous: the call returns when done). */
static double copy_time(void *dst, const void *src, size_t bytes, enum cudaMemcpyKind kind,
                        int reps) {
  double *t = calloc((size_t)reps, sizeof *t);
  for (int r = 0; r < reps; r++) {
    const double t0 = bench_now();
    CUDA_CHECK(cudaMemcpy(dst, src, bytes, kind));
    t[r] = bench_now() - t0;
  }
  const double m = bench_median(t, reps);
  free(t);
  return m;
}

/* Where overlapping transfers would pay: the image's upload and the result's download from
 * the caller's pageable memory (what lucy_conv_execute gets) against page-locked memory, in
 * GB/s, and the pageable transfers' share of the warm execute. */
static void transfer_rates(const float *image, size_t in_count, float *out, size_t out_count,
                           double warm, int reps) {
  const size_t in_b = in_count * sizeof(float), out_b = out_count * sizeof(float);
  const size_t big = in_b > out_b ? in_b : out_b;
  void *dbuf = NULL, *pinned = NULL;
  CUDA_CHECK(cudaMalloc(&dbuf, big));
  CUDA_CHECK(cudaMallocHost(&pinned, big));
  memcpy(pinned, image, in_b);
  const double up = copy_time(dbuf, image, in_b, cudaMemcpyHostToDevice, reps);
  const double up_pin = copy_time(dbuf, pinned, in_b, cudaMemcpyHostToDevice, reps);
  const double down = copy_time(out, dbuf, out_b, cudaMemcpyDeviceToHost, reps);
  const double down_pin = copy_time(pinned, dbuf, out_b, cudaMemcpyDeviceToHost, reps);
  printf("h2d_pageable_GBps=%.2f\nh2d_pinned_GBps=%.2f\nd2h_pageable_GBps=%.2f\n"
         "d2h_pinned_GBps=%.2f\ntransfer_share=%.3f\n",
         in_b / up * 1e-9, in_b / up_pin * 1e-9, out_b / down * 1e-9, out_b / down_pin * 1e-9,
         (up + down) / warm);
  CUDA_CHECK(cudaFreeHost(pinned));
  CUDA_CHECK(cudaFree(dbuf));
}

static int bench_conv(LucyVolume *img, LucyVolume *psf, int reps, LucyPadMode mode) {
  LucyDevice *dev = device(LUCY_DEVICE_CUDA);
  LucyMemoryRequest req;
  lucy_memory_request_default(&req);
  memcpy(req.image_shape, img->shape, sizeof req.image_shape);
  memcpy(req.psf_shape, psf->shape, sizeof req.psf_shape);
  req.mode = mode;
  req.device = LUCY_DEVICE_CUDA;
  req.strategy = LUCY_STRATEGY_IN_MEMORY;
  LucyMemoryPlan mp;
  BENCH_CHECK(lucy_memory_plan(&req, &mp));
  const size_t free0 = free_bytes(dev);
  LucyConvOptions o;
  lucy_conv_options_default(&o);
  o.mode = mode;
  o.device = dev;
  double t0 = bench_now();
  LucyConvPlan *plan = NULL;
  BENCH_CHECK(lucy_conv_plan_new(img->shape, psf, &o, &plan));
  size_t oshape[3];
  lucy_conv_output_shape(plan, oshape);
  LucyVolume *out = NULL;
  BENCH_CHECK(lucy_volume_new(oshape, &out));
  BENCH_CHECK(lucy_conv_execute(plan, img->data, out->data));
  const double cold = bench_now() - t0;
  const size_t drop = free0 - free_bytes(dev);
  double *t = calloc((size_t)reps, sizeof *t);
  for (int r = 0; r < reps; r++) {
    t0 = bench_now();
    BENCH_CHECK(lucy_conv_execute(plan, img->data, out->data));
    t[r] = bench_now() - t0;
  }
  LucyMemoryInfo mi;
  BENCH_CHECK(lucy_device_memory_info(dev, &mi));
  size_t L[3];
  lucy_conv_fft_shape(plan, L);
  printf("device=%s\nfft_shape=%zux%zux%zu\nP_bytes=%zu\ncold_s=%.6f\nwarm_s=%.6f\n",
         lucy_device_name(dev), L[0], L[1], L[2], mp.padded_bytes, cold, bench_median(t, reps));
  printf("peak_counter_bytes=%zu\nmeminfo_drop_bytes=%zu\npredicted_bytes=%zu\n",
         mi.lucy_peak_bytes, drop, mp.peak_device_bytes);
  transfer_rates(img->data, lucy_shape_count(img->shape), out->data, lucy_shape_count(oshape),
                 bench_median(t, reps), reps);
  FILE *f = getenv("BENCH_GPU_OUT") ? fopen(getenv("BENCH_GPU_OUT"), "wb") : NULL;
  if (f) {
    fprintf(f, "LUCYF32 %zu %zu %zu\n", oshape[0], oshape[1], oshape[2]);
    fwrite(out->data, sizeof(float), lucy_shape_count(oshape), f);
    fclose(f);
  }
  free(t);
  lucy_volume_free(out);
  lucy_conv_plan_free(plan);
  lucy_device_unref(dev);
  return 0;
}

typedef struct Stamps {
  double t[4096];
  int n;
} Stamps;

static int stamp(void *user, const LucyDeconIteration *it) {
  Stamps *s = user;
  if (s->n < 4096) s->t[s->n++] = it->seconds;
  return 0;
}

static int bench_rl(LucyVolume *img, LucyVolume *psf, int iterations, int reps) {
  LucyDevice *dev = device(LUCY_DEVICE_CUDA);
  Stamps *s = calloc(1, sizeof *s);
  LucyDeconOptions o;
  lucy_decon_options_default(&o);
  o.device = dev;
  o.iterations = iterations;
  o.monitor = stamp;
  o.monitor_user = s;
  LucyDeconPlan *plan = NULL;
  BENCH_CHECK(lucy_decon_plan_new(img->shape, img->voxel_um, psf, &o, &plan));
  LucyVolume *out = NULL;
  BENCH_CHECK(lucy_volume_new(img->shape, &out));
  BENCH_CHECK(lucy_decon_execute(plan, img->data, out->data, NULL)); /* warm-up */
  double best = 1e30;
  for (int r = 0; r < reps; r++) {
    s->n = 0;
    BENCH_CHECK(lucy_decon_execute(plan, img->data, out->data, NULL));
    if (s->n > 2) {
      const double per = (s->t[s->n - 1] - s->t[0]) / (double)(s->n - 1);
      best = per < best ? per : best;
    }
  }
  size_t L[3];
  lucy_decon_fft_shape(plan, L);
  LucyMemoryInfo mi; /* RL's peak, before the floor's buffer below adds a P */
  BENCH_CHECK(lucy_device_memory_info(dev, &mi));
  /* The floor: two r2c + c2r pairs at L, CUDA events around them. */
  LucyFftPlan *fp = NULL;
  BENCH_CHECK(dev->ops->fft_plan(dev, L, &fp));
  float *buf = NULL;
  BENCH_CHECK(lucy__dev_alloc(dev, lucy__padded_count(L) * sizeof(float), &buf));
  BENCH_CHECK(dev->ops->fill(dev, buf, lucy__padded_count(L), 1.0f));
  cudaEvent_t e0, e1;
  cudaEventCreate(&e0);
  cudaEventCreate(&e1);
  double *ft = calloc(7, sizeof *ft);
  for (int r = 0; r < 7; r++) {
    cudaDeviceSynchronize();
    cudaEventRecord(e0, 0);
    for (int k = 0; k < 2; k++) {
      BENCH_CHECK(dev->ops->fft_r2c(dev, fp, buf));
      BENCH_CHECK(dev->ops->fft_c2r(dev, fp, buf));
    }
    cudaDeviceSynchronize(); /* Lucy's stream is non-blocking: wait for it, then stamp */
    cudaEventRecord(e1, 0);
    cudaEventSynchronize(e1);
    float ms = 0;
    cudaEventElapsedTime(&ms, e0, e1);
    ft[r] = ms / 1000.0;
  }
  const double floor_s = bench_median(ft, 7);
  printf("device=%s\nfft_shape=%zux%zux%zu\nrl_iteration_s=%.6f\nfloor_s=%.6f\nratio=%.3f\n"
         "peak_counter_bytes=%zu\n",
         lucy_device_name(dev), L[0], L[1], L[2], best, floor_s, best / floor_s,
         mi.lucy_peak_bytes);
  lucy__dev_release(dev, buf);
  lucy__dev_fft_plan_release(dev, fp);
  free(ft);
  free(s);
  lucy_volume_free(out);
  lucy_decon_plan_free(plan);
  lucy_device_unref(dev);
  return 0;
}

static int bench_tiled(LucyVolume *img, LucyVolume *psf, size_t limit) {
  LucyDevice *gpu = device(LUCY_DEVICE_CUDA);
  if (!limit) limit = free_bytes(gpu);
  LucyMemoryRequest req;
  lucy_memory_request_default(&req);
  memcpy(req.image_shape, img->shape, sizeof req.image_shape);
  memcpy(req.psf_shape, psf->shape, sizeof req.psf_shape);
  req.device = LUCY_DEVICE_CUDA;
  req.free_bytes = limit;
  LucyMemoryPlan mp;
  BENCH_CHECK(lucy_memory_plan(&req, &mp));
  printf("budget_bytes=%zu\nin_memory_bytes=%zu\nstrategy=%s\ntiles=%zux%zu\ntile=%zux%zu\n"
         "predicted_bytes=%zu\n",
         limit, mp.in_memory_device_bytes, lucy_strategy_name(mp.strategy), mp.tiles[1],
         mp.tiles[2], mp.tile_shape[1], mp.tile_shape[2], mp.peak_device_bytes);
  LucyConvOptions o;
  lucy_conv_options_default(&o);
  o.device = gpu;
  o.memory_limit_bytes = limit;
  LucyVolume *a = NULL, *b = NULL;
  double t0 = bench_now();
  BENCH_CHECK(lucy_convolve(img, psf, &o, &a));
  const double tg = bench_now() - t0;
  LucyMemoryInfo mi;
  BENCH_CHECK(lucy_device_memory_info(gpu, &mi));
  printf("gpu_s=%.3f\npeak_counter_bytes=%zu\n", tg, mi.lucy_peak_bytes);
  fflush(stdout);
  o.device = NULL; /* the CPU path, in memory */
  o.memory_limit_bytes = 0;
  o.strategy = LUCY_STRATEGY_IN_MEMORY;
  t0 = bench_now();
  BENCH_CHECK(lucy_convolve(img, psf, &o, &b));
  const double tc = bench_now() - t0;
  double num = 0, den = 0;
  for (size_t i = 0; i < lucy_shape_count(a->shape); i++) {
    const double d = (double)a->data[i] - b->data[i];
    num = d * d > num ? d * d : num;
    den = (double)b->data[i] * b->data[i] > den ? (double)b->data[i] * b->data[i] : den;
  }
  printf("cpu_s=%.3f\ncpu_over_gpu=%.2f\nmax_rel_diff=%.3g\n", tc, tc / tg,
         den > 0 ? sqrt(num / den) : 0.0);
  lucy_volume_free(a);
  lucy_volume_free(b);
  lucy_device_unref(gpu);
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: bench-gpu conv|rl|tiled IMAGE.f32 PSF.f32 [options]\n");
    return 2;
  }
  const char *reason = NULL;
  if (!lucy_cuda_available(&reason)) {
    printf("skipped=%s\n", reason);
    return 77;
  }
  int reps = 7, iterations = 20;
  size_t limit = 0;
  LucyPadMode mode = LUCY_PAD_SAME;
  for (int i = 4; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--iterations")) iterations = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--limit")) limit = (size_t)strtoull(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--mode")) BENCH_CHECK(lucy_pad_mode_parse(argv[i + 1], &mode));
    else {
      fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  LucyVolume *img = bench_read_f32(argv[2]), *psf = bench_read_f32(argv[3]);
  int rc;
  if (!strcmp(argv[1], "conv"))
    rc = bench_conv(img, psf, reps < 1 ? 1 : reps, mode);
  else if (!strcmp(argv[1], "rl"))
    rc = bench_rl(img, psf, iterations < 3 ? 3 : iterations, reps < 1 ? 1 : reps);
  else if (!strcmp(argv[1], "tiled"))
    rc = bench_tiled(img, psf, limit);
  else {
    fprintf(stderr, "unknown mode %s\n", argv[1]);
    rc = 2;
  }
  lucy_volume_free(img);
  lucy_volume_free(psf);
  return rc;
}
