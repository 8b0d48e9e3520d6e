/* Shared scaffolding of the benchmark drivers. */
#include "bench-util.h"

#include <time.h>

double bench_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double bench_median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

LucyVolume *bench_read_f32(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(2);
  }
  size_t shape[3];
  if (fscanf(f, "LUCYF32 %zu %zu %zu", &shape[0], &shape[1], &shape[2]) != 3 || fgetc(f) != '\n') {
    fprintf(stderr, "%s: not a LUCYF32 file\n", path);
    exit(2);
  }
  LucyVolume *v = NULL;
  BENCH_CHECK(lucy_volume_new(shape, &v));
  size_t n = lucy_shape_count(shape);
  if (fread(v->data, sizeof(float), n, f) != n) { /* little-endian hosts only */
    fprintf(stderr, "%s: truncated\n", path);
    exit(2);
  }
  fclose(f);
  return v;
}

void bench_write_f32(const char *path, const float *data, const size_t shape[3]) {
  FILE *f = fopen(path, "wb");
  if (!f) {
    perror(path);
    exit(2);
  }
  fprintf(f, "LUCYF32 %zu %zu %zu\n", shape[0], shape[1], shape[2]);
  size_t n = lucy_shape_count(shape);
  if (fwrite(data, sizeof(float), n, f) != n || fclose(f) != 0) {
    fprintf(stderr, "%s: could not write %zu floats\n", path, n);
    exit(2);
  }
}

long bench_peak_rss_kb(void) {
  FILE *f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  while (f && fgets(line, sizeof line, f))
    if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
  if (f) fclose(f);
  return kb;
}
