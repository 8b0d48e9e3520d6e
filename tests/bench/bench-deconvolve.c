/* Times Lucy's Richardson-Lucy on given data (driven by bench_deconvolve.py, which times
 * skimage on the same data): the cold first call (device, plan, first execute), warm executes
 * on a kept plan, per-iteration time, and the floor: two r2c + c2r pairs at the padded size
 * (what one RL iteration must transform), timed in the same process and interleaved.
 *
 *   bench-deconvolve IMAGE.f32 PSF.f32 [--boundary noncirculant|circular] [--iterations 20]
 *                    [--threads 2] [--planning fast|thorough] [--reps 5] [--monitor]
 *                    [--method rl|rltv] [--accelerate] [--rss-only] [--out OUT.f32]
 *
 * Executes run in place (out == image, as lucy-cli does), so the process holds one image-sized
 * array; timed executes restore the input from a pristine copy first (untimed). --rss-only
 * plans and executes once, with no copy and no floor buffers, and prints the peak resident set
 * and the plan's bytes, also in P, so that the driver can compare them with the 5 P budget.
 * Prints key=value lines; seconds, bytes. Not a test: nothing is asserted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-util.h"
#include "device-impl.h"
#include "lucy/deconvolve.h"
#include "lucy/volume.h"



static int quiet_monitor(void *user, const LucyDeconIteration *it) {
  double *last = user;
  *last = it->idiv;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s IMAGE.f32 PSF.f32 [--boundary B] [--iterations N] [--threads T] "
                    "[--planning fast|thorough] [--reps R] [--monitor] [--method rl|rltv] "
                    "[--accelerate] [--rss-only] [--out OUT.f32]\n", argv[0]);
    return 2;
  }
  LucyDeconOptions opts;
  lucy_decon_options_default(&opts);
  opts.iterations = 20;
  LucyDeviceOptions dopts;
  lucy_device_options_default(&dopts);
  int reps = 5, monitor = 0, rss_only = 0;
  const char *out_path = NULL;
  double last_idiv = 0;
  for (int i = 3; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(a, "--boundary")) {
      BENCH_CHECK(lucy_boundary_parse(v, &opts.boundary));
      i++;
    } else if (!strcmp(a, "--method")) {
      BENCH_CHECK(lucy_decon_method_parse(v, &opts.method));
      i++;
    } else if (!strcmp(a, "--iterations")) {
      opts.iterations = atoi(v);
      i++;
    } else if (!strcmp(a, "--threads")) {
      dopts.threads = atoi(v);
      i++;
    } else if (!strcmp(a, "--planning")) {
      dopts.planning = strcmp(v, "thorough") ? LUCY_PLAN_FAST : LUCY_PLAN_THOROUGH;
      i++;
    } else if (!strcmp(a, "--reps")) {
      reps = atoi(v);
      i++;
    } else if (!strcmp(a, "--out")) {
      out_path = v;
      i++;
    } else if (!strcmp(a, "--monitor")) {
      monitor = 1;
    } else if (!strcmp(a, "--accelerate")) {
      opts.accelerate = 1;
    } else if (!strcmp(a, "--rss-only")) {
      rss_only = 1;
    } else {
      fprintf(stderr, "unknown option %s\n", a);
      return 2;
    }
  }
  if (reps < 1) reps = 1;
  if (monitor) {
    opts.monitor = quiet_monitor;
    opts.monitor_user = &last_idiv;
  }
  LucyVolume *img = bench_read_f32(argv[1]), *psf = bench_read_f32(argv[2]);
  const long rss_data_kb = bench_peak_rss_kb();

  /* Cold: a fresh device (empty plan cache), plan (FFTW planning, OTF, W) and one execute. */
  double t0 = bench_now();
  LucyDevice *dev = NULL;
  BENCH_CHECK(lucy_device_new(&dopts, &dev));
  opts.device = dev;
  LucyDeconPlan *plan = NULL;
  BENCH_CHECK(lucy_decon_plan_new(img->shape, img->voxel_um, psf, &opts, &plan));
  double t_plan = bench_now();
  size_t fs[3];
  lucy_decon_fft_shape(plan, fs);
  const size_t n = lucy_shape_count(img->shape);
  /* In place: out == image. Timed runs need the input again: keep a copy (not in --rss-only). */
  float *out = img->data, *orig = NULL;
  if (!rss_only) {
    orig = malloc(n * sizeof(float));
    if (!orig) return 1;
    memcpy(orig, img->data, n * sizeof(float));
  }
  BENCH_CHECK(lucy_decon_execute(plan, img->data, out, NULL));
  double t_cold = bench_now();
  const size_t P = lucy__padded_count(fs) * sizeof(float);
  printf("device=%s\n", lucy_device_name(dev));
  printf("image=%zux%zux%zu psf=%zux%zux%zu boundary=%s method=%s accelerate=%d monitor=%d\n",
         img->shape[0], img->shape[1], img->shape[2], psf->shape[0], psf->shape[1],
         psf->shape[2], lucy_boundary_name(opts.boundary), lucy_decon_method_name(opts.method),
         opts.accelerate, monitor);
  printf("fft_shape=%zux%zux%zu\n", fs[0], fs[1], fs[2]);
  printf("padded_bytes=%zu\n", P);
  printf("plan_bytes=%zu\n", lucy_decon_plan_bytes(plan));
  printf("plan_P=%.3f\n", (double)lucy_decon_plan_bytes(plan) / (double)P);
  printf("iterations=%d\n", opts.iterations);
  printf("plan_s=%.6f\n", t_plan - t0);
  printf("cold_s=%.6f\n", t_cold - t0);
  if (rss_only) {
    printf("rss_data_kb=%ld\n", rss_data_kb);
    const long peak_kb = bench_peak_rss_kb();
    printf("peak_rss_kb=%ld\n", peak_kb);
    printf("peak_rss_P=%.3f\n", (double)peak_kb * 1024.0 / (double)P);
    lucy_decon_plan_free(plan);
    lucy_device_unref(dev);
    return 0;
  }

  /* The floor: two r2c + c2r pairs at the padded size on a buffer of our own. */
  LucyFftPlan *fft = NULL;
  BENCH_CHECK(dev->ops->fft_plan(dev, fs, &fft));
  float *buf = NULL;
  BENCH_CHECK(lucy__dev_alloc(dev, P, &buf));
  BENCH_CHECK(dev->ops->fill(dev, buf, P / sizeof(float), 1.0f));
  double *w = calloc((size_t)reps, sizeof *w), *f = calloc((size_t)reps, sizeof *f);
  for (int r = 0; r < reps; r++) {
    memcpy(img->data, orig, n * sizeof(float));
    double t = bench_now();
    BENCH_CHECK(lucy_decon_execute(plan, img->data, out, NULL));
    w[r] = (bench_now() - t) / opts.iterations;
    double a = bench_now();
    for (int k = 0; k < 2; k++) {
      BENCH_CHECK(dev->ops->fft_r2c(dev, fft, buf));
      BENCH_CHECK(dev->ops->fft_c2r(dev, fft, buf));
      BENCH_CHECK(dev->ops->cscale(dev, buf, lucy__spectrum_count(fs), 0.0f)); /* keep it finite */
    }
    /* the cscale passes are not part of the floor: time them alone and subtract */
    double b = bench_now();
    for (int k = 0; k < 2; k++) BENCH_CHECK(dev->ops->cscale(dev, buf, lucy__spectrum_count(fs), 0.0f));
    double c = bench_now();
    f[r] = (b - a) - (c - b);
  }
  if (out_path) bench_write_f32(out_path, out, img->shape);
  printf("iter_median_s=%.6f\n", bench_median(w, reps));
  printf("iter_min_s=%.6f\n", w[0]);
  printf("floor_median_s=%.6f\n", bench_median(f, reps));
  printf("floor_min_s=%.6f\n", f[0]);
  printf("reps=%d\n", reps);
  if (monitor) printf("last_idiv=%.9g\n", last_idiv);
  lucy__dev_release(dev, buf);
  lucy_decon_plan_free(plan);
  lucy_device_unref(dev);
  lucy_volume_free(img);
  lucy_volume_free(psf);
  free(orig);
  free(w);
  free(f);
  return 0;
}
