/* bench-nufft: times one Lucy NUFFT on points and data read from raw files written by
 * tests/bench/bench_nufft.py (so Lucy and FINUFFT see the same numbers), and prints one JSON
 * line: plan, setpts and execute seconds (median of --reps) and a checksum of the output.
 *
 *   bench-nufft --dim 2 --type 1 --modes 512,512 --eps 1e-6 --precision double --threads 2
 *               --points PTS.f64 --data DATA.f64 --count M [--reps 5] [--out OUT.f64]
 *
 * PTS.f64: dim arrays of M doubles (x then y then z); DATA.f64: the input vector (type 1: M
 * complex strengths, type 2: N1*N2*N3 complex modes, modeord 0), interleaved doubles. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench-util.h"
#include "lucy/lucy.h"

static double *read_doubles(const char *path, size_t n) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(1);
  }
  double *v = malloc(n * sizeof *v);
  if (!v || fread(v, sizeof *v, n, f) != n) {
    fprintf(stderr, "%s: expected %zu doubles\n", path, n);
    exit(1);
  }
  fclose(f);
  return v;
}

int main(int argc, char **argv) {
  int dim = 2, type = 1, threads = 2, reps = 5, isign = 1;
  long long modes[3] = {1, 1, 1};
  double eps = 1e-6;
  size_t M = 0;
  const char *prec = "double", *pts_path = NULL, *data_path = NULL, *out_path = NULL;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
    if (!strcmp(a, "--dim")) dim = atoi(v), i++;
    else if (!strcmp(a, "--type")) type = atoi(v), i++;
    else if (!strcmp(a, "--threads")) threads = atoi(v), i++;
    else if (!strcmp(a, "--reps")) reps = atoi(v), i++;
    else if (!strcmp(a, "--isign")) isign = atoi(v), i++;
    else if (!strcmp(a, "--eps")) eps = atof(v), i++;
    else if (!strcmp(a, "--count")) M = (size_t)atoll(v), i++;
    else if (!strcmp(a, "--precision")) prec = v, i++;
    else if (!strcmp(a, "--points")) pts_path = v, i++;
    else if (!strcmp(a, "--data")) data_path = v, i++;
    else if (!strcmp(a, "--out")) out_path = v, i++;
    else if (!strcmp(a, "--modes")) {
      sscanf(v, "%lld,%lld,%lld", &modes[0], &modes[1], &modes[2]);
      i++;
    } else {
      fprintf(stderr, "bench-nufft: unknown argument %s\n", a);
      return 2;
    }
  }
  if (!pts_path || !data_path || M == 0) {
    fprintf(stderr, "bench-nufft: --points, --data and --count are required\n");
    return 2;
  }
  const int single = !strcmp(prec, "float");
  size_t Nt = 1;
  int64_t N[3];
  for (int a = 0; a < dim; a++) {
    N[a] = modes[a];
    Nt *= (size_t)modes[a];
  }
  double *xyz = read_doubles(pts_path, (size_t)dim * M);
  const size_t nin = type == 1 ? M : Nt, nout = type == 1 ? Nt : M;
  double *in = read_doubles(data_path, 2 * nin);
  double *out = malloc(2 * nout * sizeof *out);
  float *xyzf = NULL, *inf = NULL, *outf = NULL;
  if (single) {
    xyzf = malloc((size_t)dim * M * sizeof *xyzf);
    inf = malloc(2 * nin * sizeof *inf);
    outf = malloc(2 * nout * sizeof *outf);
    for (size_t i = 0; i < (size_t)dim * M; i++) xyzf[i] = (float)xyz[i];
    for (size_t i = 0; i < 2 * nin; i++) inf[i] = (float)in[i];
  }
  LucyNufftOptions o;
  lucy_nufft_options_default(&o);
  o.threads = threads;
  o.precision = single ? LUCY_NUFFT_FLOAT : LUCY_NUFFT_DOUBLE;
  if (reps < 1 || reps > 1000) reps = 5;
  double *t_plan = calloc((size_t)reps, sizeof(double)), *t_set = calloc((size_t)reps, sizeof(double));
  double *t_exec = calloc((size_t)reps, sizeof(double));
  if (!t_plan || !t_set || !t_exec) return 1;
  LucyNufftPlan *p = NULL;
  for (int r = 0; r < reps; r++) {
    double t0 = bench_now();
    if (lucy_nufft_plan_new(type, dim, N, isign, eps, &o, &p)) {
      fprintf(stderr, "bench-nufft: %s\n", lucy_error_message());
      return 1;
    }
    double t1 = bench_now();
    LucyStatus st;
    if (single)
      st = lucy_nufftf_setpts(p, M, xyzf, dim > 1 ? xyzf + M : NULL,
                              dim > 2 ? xyzf + 2 * M : NULL);
    else
      st = lucy_nufft_setpts(p, M, xyz, dim > 1 ? xyz + M : NULL, dim > 2 ? xyz + 2 * M : NULL);
    double t2 = bench_now();
    if (!st) st = single ? lucy_nufftf_execute(p, 1, inf, outf) : lucy_nufft_execute(p, 1, in, out);
    double t3 = bench_now();
    if (st) {
      fprintf(stderr, "bench-nufft: %s\n", lucy_error_message());
      return 1;
    }
    t_plan[r] = t1 - t0;
    t_set[r] = t2 - t1;
    t_exec[r] = t3 - t2;
    if (r + 1 < reps) lucy_nufft_plan_free(p);
  }
  if (single)
    for (size_t i = 0; i < 2 * nout; i++) out[i] = outf[i];
  if (out_path) {
    FILE *f = fopen(out_path, "wb");
    if (!f || fwrite(out, sizeof *out, 2 * nout, f) != 2 * nout) {
      perror(out_path);
      return 1;
    }
    fclose(f);
  }
  size_t nf[3];
  lucy_nufft_plan_fine_shape(p, nf);
  printf("{\"plan_s\": %.6f, \"setpts_s\": %.6f, \"execute_s\": %.6f, \"width\": %d, "
         "\"fine\": [%zu, %zu, %zu], \"threads\": %d}\n",
         bench_median(t_plan, reps), bench_median(t_set, reps), bench_median(t_exec, reps),
         lucy_nufft_plan_kernel_width(p), nf[0], nf[1], nf[2],
         threads);
  lucy_nufft_plan_free(p);
  free(t_plan);
  free(t_set);
  free(t_exec);
  free(xyz);
  free(in);
  free(out);
  free(xyzf);
  free(inf);
  free(outf);
  return 0;
}
