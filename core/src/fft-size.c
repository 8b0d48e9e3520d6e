/* FFT sizes: the next 2,3,5,7-smooth size, which FFTW and cuFFT transform fast. */
#include <stdint.h>

#include "fft-size.h"
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

size_t lucy__fft_good_size_even(size_t n) {
  size_t m = lucy_fft_good_size(n);
  while (m % 2) m = lucy_fft_good_size(m + 1);
  return m;
}

void lucy__fft_domain_even_x(size_t L[3]) {
  const size_t limit = ((size_t)1 << 32) - 1; /* "more than 2^32" read as "2^32 or more" */
  if (L[2] % 2 == 0 || L[0] == 0 || L[1] == 0) return;
  const int large = L[0] > limit / L[1] || L[0] * L[1] > limit / L[2];
  if (!large) return;
  const size_t x = lucy__fft_good_size_even(L[2] + 1);
  if (x) L[2] = x;
}
