/* The low-memory strategy against in-memory on the same synthetic data in one process: the
 * device peak each plan reaches (Lucy's allocation counter, in bytes and in P), the planner's
 * prediction of it, the time per convolution execute and per RL iteration (medians), and the
 * largest difference between the two results.
 *
 *   bench-low-memory [--shape Z,Y,X] [--psf-shape Z,Y,X] [--threads 2] [--iterations 10]
 *                    [--reps 5] [--boundary noncirculant|circular] [--method rl|rltv|wiener]
 *                    [--mode same|full|valid|circular] [--accelerate] [--device cpu|cuda]
 *
 * Defaults: 64x256x256 (*) 31x63x63 (a Gaussian PSF, sigma 2/4/4 voxels), 2 threads, RL with
 * non-circulant edges, `same` convolution, the CPU device (--device cuda runs it unchanged on a
 * GPU machine). Each strategy gets a fresh device, so its peak is its own (FFT planning
 * included). Prints one line per measurement; seconds, bytes. Not a test: nothing is
 * asserted. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-util.h"
#include "lucy/convolve.h"
#include "lucy/deconvolve.h"
#include "lucy/memory.h"

static void parse_shape(const char *s, size_t out[3]) {
  if (sscanf(s, "%zu,%zu,%zu", &out[0], &out[1], &out[2]) != 3) {
    fprintf(stderr, "bad shape '%s' (want Z,Y,X)\n", s);
    exit(2);
  }
}

static LucyVolume *make_image(const size_t shape[3]) {
  LucyVolume *v = NULL;
  BENCH_CHECK(lucy_volume_new(shape, &v));
  unsigned s = 12345;
  for (size_t i = 0; i < lucy_shape_count(shape); i++) {
    s = s * 1103515245u + 12345u;
    v->data[i] = 10.0f + (float)((s >> 8) & 0xffff) / 655.36f; /* 10 .. 110 */
  }
  return v;
}

static LucyVolume *make_psf(const size_t shape[3]) {
  LucyVolume *v = NULL;
  BENCH_CHECK(lucy_volume_new(shape, &v));
  const double sig[3] = {2.0, 4.0, 4.0};
  for (size_t z = 0; z < shape[0]; z++)
    for (size_t y = 0; y < shape[1]; y++)
      for (size_t x = 0; x < shape[2]; x++) {
        const double dz = ((double)z - (double)(shape[0] / 2)) / sig[0];
        const double dy = ((double)y - (double)(shape[1] / 2)) / sig[1];
        const double dx = ((double)x - (double)(shape[2] / 2)) / sig[2];
        v->data[(z * shape[1] + y) * shape[2] + x] = (float)exp(-0.5 * (dz * dz + dy * dy + dx * dx));
      }
  return v;
}

static double max_rel(const float *a, const float *b, size_t n) {
  double num = 0.0, den = 0.0;
  for (size_t i = 0; i < n; i++) {
    num = fmax(num, fabs((double)a[i] - b[i]));
    den = fmax(den, fabs((double)b[i]));
  }
  return den > 0 ? num / den : num;
}

int main(int argc, char **argv) {
  size_t shape[3] = {64, 256, 256}, pshape[3] = {31, 63, 63};
  int threads = 2, iterations = 10, reps = 5;
  LucyDeviceKind kind = LUCY_DEVICE_CPU;
  LucyDeconOptions dopts;
  lucy_decon_options_default(&dopts);
  LucyConvOptions copts;
  lucy_conv_options_default(&copts);
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(a, "--accelerate")) {
      dopts.accelerate = 1;
      continue;
    }
    if (!strcmp(a, "--shape")) parse_shape(v, shape);
    else if (!strcmp(a, "--psf-shape")) parse_shape(v, pshape);
    else if (!strcmp(a, "--threads")) threads = atoi(v);
    else if (!strcmp(a, "--iterations")) iterations = atoi(v);
    else if (!strcmp(a, "--reps")) reps = atoi(v);
    else if (!strcmp(a, "--boundary")) BENCH_CHECK(lucy_boundary_parse(v, &dopts.boundary));
    else if (!strcmp(a, "--method")) BENCH_CHECK(lucy_decon_method_parse(v, &dopts.method));
    else if (!strcmp(a, "--mode")) BENCH_CHECK(lucy_pad_mode_parse(v, &copts.mode));
    else if (!strcmp(a, "--device") && (!strcmp(v, "cpu") || !strcmp(v, "cuda")))
      kind = strcmp(v, "cuda") ? LUCY_DEVICE_CPU : LUCY_DEVICE_CUDA;
    else {
      fprintf(stderr, "unknown argument '%s' (see the comment at the top of bench-low-memory.c)\n", a);
      return 2;
    }
    i++;
  }
  if (reps < 1 || reps > 100 || iterations < 1) {
    fprintf(stderr, "--reps must be 1..100 and --iterations >= 1\n");
    return 2;
  }
  LucyVolume *img = make_image(shape), *psf = make_psf(pshape);
  const size_t n = lucy_shape_count(shape);
  printf("shape=%zux%zux%zu psf=%zux%zux%zu device=%s threads=%d\n", shape[0], shape[1],
         shape[2], pshape[0], pshape[1], pshape[2], kind == LUCY_DEVICE_CUDA ? "cuda" : "cpu",
         threads);

  static const LucyStrategy strategies[2] = {LUCY_STRATEGY_IN_MEMORY, LUCY_STRATEGY_LOW_MEMORY};
  float *results[2][2] = {{NULL, NULL}, {NULL, NULL}}; /* [op][strategy] */
  double times[2][2], peaks_p[2][2];
  for (int op = 0; op < 2; op++)
    for (int s = 0; s < 2; s++) {
      LucyDeviceOptions d; /* a fresh device: the peak counter sees only this plan */
      lucy_device_options_default(&d);
      d.kind = kind;
      d.threads = threads;
      d.use_wisdom = 0;
      LucyDevice *dev = NULL;
      BENCH_CHECK(lucy_device_new(&d, &dev));
      LucyMemoryRequest req;
      lucy_memory_request_default(&req);
      req.op = op ? LUCY_MEMORY_DECONVOLVE : LUCY_MEMORY_CONVOLVE;
      memcpy(req.image_shape, shape, sizeof shape);
      memcpy(req.psf_shape, pshape, sizeof pshape);
      req.mode = copts.mode;
      req.method = dopts.method;
      req.boundary = dopts.boundary;
      req.accelerate = dopts.accelerate;
      req.strategy = strategies[s];
      req.device = kind;
      LucyMemoryPlan mp;
      BENCH_CHECK(lucy_memory_plan(&req, &mp));
      double t[100];
      size_t out_shape[3];
      float *out = NULL;
      if (op == 0) {
        LucyConvOptions o = copts;
        o.device = dev;
        o.strategy = strategies[s];
        LucyConvPlan *plan = NULL;
        BENCH_CHECK(lucy_conv_plan_new(shape, psf, &o, &plan));
        lucy_conv_output_shape(plan, out_shape);
        out = malloc(lucy_shape_count(out_shape) * sizeof(float));
        if (!out) return 1;
        BENCH_CHECK(lucy_conv_execute(plan, img->data, out)); /* warm-up */
        for (int r = 0; r < reps; r++) {
          const double t0 = bench_now();
          BENCH_CHECK(lucy_conv_execute(plan, img->data, out));
          t[r] = bench_now() - t0;
        }
        lucy_conv_plan_free(plan);
      } else {
        LucyDeconOptions o = dopts;
        o.device = dev;
        o.iterations = iterations;
        o.strategy = strategies[s];
        LucyDeconPlan *plan = NULL;
        BENCH_CHECK(lucy_decon_plan_new(shape, img->voxel_um, psf, &o, &plan));
        memcpy(out_shape, shape, sizeof shape);
        out = malloc(n * sizeof(float));
        if (!out) return 1;
        for (int r = 0; r < reps; r++) {
          const double t0 = bench_now();
          BENCH_CHECK(lucy_decon_execute(plan, img->data, out, NULL));
          t[r] = (bench_now() - t0) / iterations;
        }
        lucy_decon_plan_free(plan);
      }
      LucyMemoryInfo info;
      BENCH_CHECK(lucy_device_memory_info(dev, &info));
      const size_t peak = info.lucy_peak_bytes;
      const char *what = op ? "rl_iteration" : "conv_execute";
      times[op][s] = bench_median(t, reps);
      peaks_p[op][s] = (double)peak / (double)mp.padded_bytes;
      printf("%s %s: median %.4f s (of %d), device peak %zu bytes = %.3f P, predicted %zu, "
             "P = %zu, padded %zux%zux%zu\n",
             what, lucy_strategy_name(strategies[s]), times[op][s], reps, peak, peaks_p[op][s],
             mp.peak_device_bytes, mp.padded_bytes, mp.padded_shape[0], mp.padded_shape[1],
             mp.padded_shape[2]);
      results[op][s] = out;
      lucy_device_unref(dev);
      if (s == 1)
        printf("%s low/in: time %.2fx, peak %.3f P -> %.3f P, max |low - in| / max = %.3g\n", what,
               times[op][1] / times[op][0], peaks_p[op][0], peaks_p[op][1],
               max_rel(results[op][1], results[op][0], lucy_shape_count(out_shape)));
    }
  for (int op = 0; op < 2; op++)
    for (int s = 0; s < 2; s++) free(results[op][s]);
  lucy_volume_free(img);
  lucy_volume_free(psf);
  return 0;
}
