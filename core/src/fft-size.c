/* FFT sizes: the next 2,3,5,7-smooth size, which FFTW and cuFFT transform fast. */
#include <stdint.h>

#include "lucy/convolve.h"

static int is_smooth(size_t n) {
  static const size_t primes[] = {2, 3, 5, 7};
  for (int i = 0; i < 4; i++)
    while (n % primes[i] == 0) n /= primes[i];
  return n == 1;
}

size_t lucy_fft_good_size(size_t n) {
  if (n <= 1) return 1;
  /* 7-smooth numbers are dense enough (gaps are a small fraction of n) for a linear scan. */
  for (size_t m = n; m >= n; m++)
    if (is_smooth(m)) return m;
  return 0; /* no 7-smooth size fits in size_t */
}
