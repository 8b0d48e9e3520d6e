/* Does fusing the OTF multiply into a cache-sized FFT pipeline beat FFTW's 3-D plans?
 *
 *   bench-fused-convolution [Z Y X] [--threads T] [--planning fast|thorough] [--reps R]
 *                           [--groups G1,G2,...]
 *
 * One convolution step at a padded size (default 96x320x320, the noncirculant RL domain of
 * the deconvolution benchmark), two ways, interleaved, on the same data:
 *   3d:    FFTW's 3-D r2c, a complex multiply by an OTF, FFTW's 3-D c2r (what Lucy does);
 *   fused: 1-D r2c along x, plane by plane; then for each group of G kx columns, the (z, y)
 *          slab gathered into a contiguous scratch, a 2-D c2c forward, the multiply and the
 *          2-D c2c backward there while it is in cache, and scattered back; 1-D c2r along x.
 * The fused pipeline reads and writes the big array three times instead of about seven; it
 * would pay if the 3-D transforms were bound by memory traffic. Prints key=value lines: the
 * medians, fused/3d, and the largest difference between the two results relative to the
 * largest value (float rounding, ~1e-6). Run it under another libfftw3f (LD_LIBRARY_PATH) to
 * compare FFTW builds. A benchmark, not a test: it asserts nothing. */
#include <complex.h>
#include <fftw3.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench-util.h"

typedef struct {
  int z, y, x, xc;
} Dims;

static void need(int ok, const char *what) {
  if (!ok) {
    fprintf(stderr, "bench-fused-convolution: %s failed\n", what);
    exit(1);
  }
}

static double conv_3d(fftwf_plan f, fftwf_plan b, fftwf_complex *c, const fftwf_complex *otf,
                      size_t nc) {
  double t = bench_now();
  fftwf_execute(f);
#pragma omp parallel for simd schedule(static)
  for (size_t i = 0; i < nc; i++) c[i] *= otf[i];
  fftwf_execute(b);
  return bench_now() - t;
}

typedef struct {
  int g;
  fftwf_plan rows_f, rows_b, slab_f, slab_b; /* single-threaded, run from OpenMP threads */
  fftwf_complex **scratch;                   /* one slab per thread */
} Fused;

static void fused_plan(Fused *p, Dims d, int g, int threads, unsigned flags, float *r,
                       fftwf_complex *c) {
  p->g = g;
  int n1[1] = {d.x};
  /* The row plans run on every plane: planes not 64-byte aligned like the first need this. */
  const unsigned rows = (8u * (size_t)d.y * d.xc) % 64 ? flags | FFTW_UNALIGNED : flags;
  p->rows_f = fftwf_plan_many_dft_r2c(1, n1, d.y, r, NULL, 1, 2 * d.xc, c, NULL, 1, d.xc, rows);
  p->rows_b = fftwf_plan_many_dft_c2r(1, n1, d.y, c, NULL, 1, d.xc, r, NULL, 1, 2 * d.xc, rows);
  p->scratch = calloc((size_t)threads, sizeof *p->scratch);
  need(p->scratch != NULL, "calloc");
  for (int t = 0; t < threads; t++) {
    p->scratch[t] = fftwf_alloc_complex((size_t)d.z * d.y * g);
    need(p->scratch[t] != NULL, "fftwf_alloc_complex");
  }
  fftw_iodim dims[2] = {{d.z, d.y * g, d.y * g}, {d.y, g, g}}, many[1] = {{g, 1, 1}};
  fftwf_complex *s = p->scratch[0];
  p->slab_f = fftwf_plan_guru_dft(2, dims, 1, many, s, s, FFTW_FORWARD, flags);
  p->slab_b = fftwf_plan_guru_dft(2, dims, 1, many, s, s, FFTW_BACKWARD, flags);
  need(p->rows_f && p->rows_b && p->slab_f && p->slab_b, "FFTW planning");
}

/* One group's slab: gather (zero-filling past the last column), transform, multiply, back. */
static void fused_slab(const Fused *p, Dims d, fftwf_complex *c, const fftwf_complex *otf,
                       int k0, fftwf_complex *s) {
  const int g = p->g, w = k0 + g <= d.xc ? g : d.xc - k0;
  const size_t lines = (size_t)d.z * d.y;
  for (size_t q = 0; q < lines; q++)
    for (int j = 0; j < g; j++) s[q * g + j] = j < w ? c[q * d.xc + k0 + j] : 0;
  fftwf_execute_dft(p->slab_f, s, s);
  for (size_t q = 0; q < lines; q++)
    for (int j = 0; j < w; j++) s[q * g + j] *= otf[q * d.xc + k0 + j];
  fftwf_execute_dft(p->slab_b, s, s);
  for (size_t q = 0; q < lines; q++)
    for (int j = 0; j < w; j++) c[q * d.xc + k0 + j] = s[q * g + j];
}

static double conv_fused(const Fused *p, Dims d, float *r, fftwf_complex *c,
                         const fftwf_complex *otf) {
  const size_t plane_r = (size_t)d.y * 2 * d.xc, plane_c = (size_t)d.y * d.xc;
  const int groups = (d.xc + p->g - 1) / p->g;
  double t = bench_now();
#pragma omp parallel for schedule(static)
  for (int z = 0; z < d.z; z++) fftwf_execute_dft_r2c(p->rows_f, r + z * plane_r, c + z * plane_c);
#pragma omp parallel for schedule(dynamic)
  for (int k = 0; k < groups; k++)
    fused_slab(p, d, c, otf, k * p->g, p->scratch[omp_get_thread_num()]);
#pragma omp parallel for schedule(static)
  for (int z = 0; z < d.z; z++) fftwf_execute_dft_c2r(p->rows_b, c + z * plane_c, r + z * plane_r);
  return bench_now() - t;
}

/* Largest |a - b| over the largest |a|, on the real rows' first x values (not the padding). */
static double rel_diff(const float *a, const float *b, Dims d) {
  double dmax = 0, amax = 0;
  for (size_t row = 0; row < (size_t)d.z * d.y; row++)
    for (int x = 0; x < d.x; x++) {
      const size_t i = row * 2 * d.xc + x;
      dmax = fmax(dmax, fabs((double)a[i] - b[i]));
      amax = fmax(amax, fabs((double)a[i]));
    }
  return amax > 0 ? dmax / amax : dmax;
}

int main(int argc, char **argv) {
  Dims d = {96, 320, 320, 0};
  int threads = 2, reps = 7, ngroups = 3, pos = 0;
  int groups[8] = {4, 8, 16};
  unsigned flags = FFTW_ESTIMATE;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--planning") && i + 1 < argc)
      flags = !strcmp(argv[++i], "thorough") ? FFTW_MEASURE : FFTW_ESTIMATE;
    else if (!strcmp(argv[i], "--groups") && i + 1 < argc) {
      ngroups = 0;
      for (char *s = strtok(argv[++i], ","); s && ngroups < 8; s = strtok(NULL, ","))
        groups[ngroups++] = atoi(s);
    } else if (pos < 3 && atoi(argv[i]) > 0) {
      int *axis[3] = {&d.z, &d.y, &d.x};
      *axis[pos++] = atoi(argv[i]);
    } else {
      fprintf(stderr, "usage: bench-fused-convolution [Z Y X] [--threads T] "
                      "[--planning fast|thorough] [--reps R] [--groups G1,G2,...]\n");
      return 2;
    }
  }
  if (threads < 1 || reps < 1 || reps > 99 || ngroups < 1) return 2;
  for (int k = 0; k < ngroups; k++)
    if (groups[k] < 1) return 2;
  d.xc = d.x / 2 + 1;
  const size_t nc = (size_t)d.z * d.y * d.xc;
  need(fftwf_init_threads(), "fftwf_init_threads");
  omp_set_num_threads(threads);

  fftwf_complex *c = fftwf_alloc_complex(nc), *otf = fftwf_alloc_complex(nc);
  float *x0 = fftwf_alloc_real(2 * nc), *ref = fftwf_alloc_real(2 * nc), *r = (float *)c;
  need(c && otf && x0 && ref, "fftwf_alloc");
  fftwf_plan_with_nthreads(threads);
  fftwf_plan f = fftwf_plan_dft_r2c_3d(d.z, d.y, d.x, r, c, flags);
  fftwf_plan b = fftwf_plan_dft_c2r_3d(d.z, d.y, d.x, c, r, flags);
  need(f && b, "FFTW 3-D planning");
  fftwf_plan_with_nthreads(1);
  Fused *fused = calloc((size_t)ngroups, sizeof *fused);
  need(fused != NULL, "calloc");
  for (int k = 0; k < ngroups; k++) fused_plan(&fused[k], d, groups[k], threads, flags, r, c);

  /* Planning may have written the buffers: fill them now. */
  srand(1);
  for (size_t i = 0; i < 2 * nc; i++) x0[i] = (float)rand() / (float)RAND_MAX;
  for (size_t i = 0; i < nc; i++)
    otf[i] = (float)rand() / (float)RAND_MAX + I * ((float)rand() / (float)RAND_MAX - 0.5f);

  double t3[99], tf[8][99], diff[8] = {0};
  for (int rep = 0; rep < reps; rep++) {
    memcpy(r, x0, 2 * nc * sizeof(float));
    t3[rep] = conv_3d(f, b, c, otf, nc);
    memcpy(ref, r, 2 * nc * sizeof(float));
    for (int k = 0; k < ngroups; k++) {
      memcpy(r, x0, 2 * nc * sizeof(float));
      tf[k][rep] = conv_fused(&fused[k], d, r, c, otf);
      diff[k] = fmax(diff[k], rel_diff(ref, r, d));
    }
  }
  printf("shape=%dx%dx%d threads=%d planning=%s reps=%d\n", d.z, d.y, d.x, threads,
         flags == FFTW_MEASURE ? "thorough" : "fast", reps);
  const double m3 = bench_median(t3, reps);
  printf("fftw_3d_s=%.4f\n", m3);
  for (int k = 0; k < ngroups; k++) {
    const double mf = bench_median(tf[k], reps);
    printf("fused_g%d_s=%.4f fused_over_3d=%.2f max_rel_diff=%.1e\n", groups[k], mf, mf / m3,
           diff[k]);
  }
  return 0;
}
