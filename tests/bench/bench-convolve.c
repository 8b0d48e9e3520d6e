/* Times Lucy's convolution on given data (driven by bench_convolve.py, which times scipy on the
 * same data): the cold first call (plan + execute), warm executes on a kept plan (as the GUI
 * does), one r2c + c2r pair at the padded size (the floor), and the other stages alone.
 *
 *   bench-convolve IMAGE.f32 PSF.f32 [--mode same] [--origin scipy|center] [--threads 2]
 *                  [--planning fast|thorough] [--reps 7] [--normalize] [--out OUT.f32]
 *
 * Files are "LUCYF32 nz ny nx\n" + little-endian float32 (tests/fixtures/make_conv_fixtures.py).
 * Prints key=value lines; times in seconds. Not a test: nothing is asserted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-util.h"
#include "device-impl.h"
#include "lucy/convolve.h"
#include "lucy/volume.h"


int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: %s IMAGE.f32 PSF.f32 [--mode M] [--origin scipy|center] "
                    "[--threads T] [--planning fast|thorough] [--reps R] [--normalize] "
                    "[--out OUT.f32]\n", argv[0]);
    return 2;
  }
  LucyConvOptions opts;
  lucy_conv_options_default(&opts);
  opts.origin = LUCY_ORIGIN_SCIPY;
  opts.normalize = 0; /* to compare with scipy */
  LucyDeviceOptions dopts;
  lucy_device_options_default(&dopts);
  int reps = 7;
  const char *out_path = NULL;
  for (int i = 3; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(a, "--mode")) {
      BENCH_CHECK(lucy_pad_mode_parse(v, &opts.mode));
      i++;
    } else if (!strcmp(a, "--origin")) {
      opts.origin = strcmp(v, "center") ? LUCY_ORIGIN_SCIPY : LUCY_ORIGIN_CENTER;
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
    } else if (!strcmp(a, "--normalize")) {
      opts.normalize = 1;
    } else {
      fprintf(stderr, "unknown option %s\n", a);
      return 2;
    }
  }
  if (reps < 1) reps = 1;
  LucyVolume *img = bench_read_f32(argv[1]), *psf = bench_read_f32(argv[2]);

  /* Cold: a fresh device (empty plan cache), plan (FFTW planning, OTF) and one execute. */
  double t0 = bench_now();
  LucyDevice *dev = NULL;
  BENCH_CHECK(lucy_device_new(&dopts, &dev));
  opts.device = dev;
  LucyConvPlan *plan = NULL;
  BENCH_CHECK(lucy_conv_plan_new(img->shape, psf, &opts, &plan));
  double t_plan = bench_now();
  size_t os[3], fs[3];
  lucy_conv_output_shape(plan, os);
  lucy_conv_fft_shape(plan, fs);
  float *out = malloc(lucy_shape_count(os) * sizeof(float));
  if (!out) return 1;
  BENCH_CHECK(lucy_conv_execute(plan, img->data, out));
  double t_cold = bench_now();

  /* The floor: one r2c + c2r pair at the padded size, and the other stages alone, with the
   * device's ops on buffers of our own (the plan's FFT plan is cached in the device). */
  LucyFftPlan *fft = NULL;
  BENCH_CHECK(dev->ops->fft_plan(dev, fs, &fft));
  float *buf = NULL, *otf = NULL;
  const size_t P = lucy__padded_count(fs) * sizeof(float);
  BENCH_CHECK(lucy__dev_alloc(dev, P, &buf));
  BENCH_CHECK(lucy__dev_alloc(dev, P, &otf));
  static const ptrdiff_t zero[3] = {0, 0, 0};
  BENCH_CHECK(dev->ops->embed(dev, otf, fs, psf->data, psf->shape, zero, 1));
  BENCH_CHECK(dev->ops->fft_r2c(dev, fft, otf));
  double *f = calloc((size_t)reps, sizeof *f), *e = calloc((size_t)reps, sizeof *e);
  double *m = calloc((size_t)reps, sizeof *m), *x = calloc((size_t)reps, sizeof *x);
  double *fwd = calloc((size_t)reps, sizeof *fwd);
  /* Warm executes on the kept plan (as in the GUI), interleaved with the stages run alone so
   * that both see the same machine load. */
  double *w = calloc((size_t)reps, sizeof *w);
  for (int r = 0; r < reps; r++) {
    double t = bench_now();
    BENCH_CHECK(lucy_conv_execute(plan, img->data, out));
    w[r] = bench_now() - t;
    double a = bench_now();
    BENCH_CHECK(dev->ops->embed(dev, buf, fs, img->data, img->shape, zero, 1));
    double b = bench_now();
    BENCH_CHECK(dev->ops->fft_r2c(dev, fft, buf));
    double c = bench_now();
    BENCH_CHECK(dev->ops->cmul(dev, buf, otf, lucy__spectrum_count(fs), 0, 1.0f));
    double d = bench_now();
    BENCH_CHECK(dev->ops->fft_c2r(dev, fft, buf));
    double g = bench_now();
    BENCH_CHECK(dev->ops->extract(dev, out, os, buf, fs, zero, 1.0f, 1));
    double h = bench_now();
    e[r] = b - a;
    fwd[r] = c - b;
    m[r] = d - c;
    f[r] = (c - b) + (g - d);
    x[r] = h - g;
  }
  double warm = bench_median(w, reps);
  if (out_path) {
    BENCH_CHECK(lucy_conv_execute(plan, img->data, out));
    bench_write_f32(out_path, out, os);
  }

  printf("device=%s\n", lucy_device_name(dev));
  printf("planning=%s\n", dopts.planning == LUCY_PLAN_THOROUGH ? "thorough" : "fast");
  printf("image=%zux%zux%zu psf=%zux%zux%zu mode=%s\n", img->shape[0], img->shape[1],
         img->shape[2], psf->shape[0], psf->shape[1], psf->shape[2],
         lucy_pad_mode_name(opts.mode));
  printf("fft_shape=%zux%zux%zu\n", fs[0], fs[1], fs[2]);
  printf("padded_bytes=%zu\n", P);
  printf("plan_bytes=%zu\n", lucy_conv_plan_bytes(plan));
  printf("plan_s=%.6f\n", t_plan - t0);
  printf("cold_s=%.6f\n", t_cold - t0);
  printf("warm_median_s=%.6f\n", warm);
  printf("warm_min_s=%.6f\n", w[0]); /* sorted by bench_median() */
  printf("fft_pair_median_s=%.6f\n", bench_median(f, reps));
  printf("fft_pair_min_s=%.6f\n", f[0]);
  printf("r2c_median_s=%.6f\n", bench_median(fwd, reps));
  printf("embed_median_s=%.6f\n", bench_median(e, reps));
  printf("cmul_median_s=%.6f\n", bench_median(m, reps));
  printf("extract_median_s=%.6f\n", bench_median(x, reps));
  printf("reps=%d\n", reps);

  lucy__dev_release(dev, buf);
  lucy__dev_release(dev, otf);
  lucy_conv_plan_free(plan);
  lucy_device_unref(dev);
  lucy_volume_free(img);
  lucy_volume_free(psf);
  free(out);
  free(w);
  free(f);
  free(e);
  free(m);
  free(x);
  free(fwd);
  return 0;
}
