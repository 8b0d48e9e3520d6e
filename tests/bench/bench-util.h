/* What every benchmark driver needs: a monotonic clock, medians (the shared machines are
 * noisy, so no single time is reported), the LUCYF32 exchange files the Python drivers write
 * (tests/fixtures/make_conv_fixtures.py), the peak resident set, and a CHECK that stops with
 * the core's message. Benchmarks are not tests: they print key=value lines and assert nothing. */
#pragma once

#include <stdio.h>
#include <stdlib.h>

#include "lucy/status.h"
#include "lucy/volume.h"

double bench_now(void);
/* Median of n values (sorts them in place). */
double bench_median(double *v, int n);
/* "LUCYF32 nz ny nx\n" + little-endian float32; exits 2 with a message on a bad file. */
LucyVolume *bench_read_f32(const char *path);
void bench_write_f32(const char *path, const float *data, const size_t shape[3]);
/* VmHWM of this process in kB (ru_maxrss would include the parent's peak from before exec),
 * or -1 when /proc does not say. */
long bench_peak_rss_kb(void);

#define BENCH_CHECK(call)                                                                  \
  do {                                                                                     \
    LucyStatus st_ = (call);                                                               \
    if (st_) {                                                                             \
      fprintf(stderr, "%s: %s: %s\n", #call, lucy_status_name(st_), lucy_error_message()); \
      exit(1);                                                                             \
    }                                                                                      \
  } while (0)
