/* xoshiro256** (Blackman and Vigna), splitmix64 seeding, and samplers built on basic IEEE
 * arithmetic only, so results do not depend on the C library's libm. */
#include <float.h>
#include <math.h>

#include "rng.h"

static uint64_t splitmix64(uint64_t *x) {
  uint64_t z = (*x += UINT64_C(0x9E3779B97F4A7C15));
  z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
  z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
  return z ^ (z >> 31);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

void lucy__rng_seed(LucyRng *r, uint64_t seed, uint64_t stream) {
  /* Mix seed and stream through two splitmix64 steps so nearby (seed, stream) pairs give
   * unrelated states; then expand with splitmix64 as the xoshiro authors recommend. */
  uint64_t a = seed;
  uint64_t b = stream ^ UINT64_C(0x6A09E667F3BCC909);
  uint64_t x = splitmix64(&a) ^ rotl(splitmix64(&b), 17);
  for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&x);
  if (!(r->s[0] | r->s[1] | r->s[2] | r->s[3])) r->s[0] = 1; /* the one forbidden state */
  r->spare = 0;
  r->has_spare = 0;
}

uint64_t lucy__rng_next(LucyRng *r) {
  uint64_t *s = r->s;
  const uint64_t result = rotl(s[1] * 5, 7) * 9;
  const uint64_t t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

double lucy__rng_uniform(LucyRng *r) {
  return (double)(lucy__rng_next(r) >> 11) * 0x1.0p-53;
}

/* ---- portable log and exp ------------------------------------------------------------- */

/* ln(x) for finite x > 0: x = m * 2^e with m in [sqrt(1/2), sqrt(2)), then
 * ln(m) = 2 atanh(s), s = (m - 1) / (m + 1), |s| < 0.1716, by its odd series. */
double lucy__rng_log(double x) {
  if (!(x > 0)) return x == 0 ? -INFINITY : NAN;
  if (x == INFINITY) return x;
  int e = 0;
  double m = x;
  /* Exact scaling by powers of two (no frexp, to stay within +, *, / semantics). */
  while (m >= 0x1.0p+64) { m *= 0x1.0p-64; e += 64; }
  while (m < 0x1.0p-64) { m *= 0x1.0p+64; e -= 64; }
  while (m >= 2) { m *= 0.5; e++; }
  while (m < 1) { m *= 2; e--; }
  if (m > 1.4142135623730951) { m *= 0.5; e++; }
  double s = (m - 1) / (m + 1), s2 = s * s;
  /* 2 * (s + s^3/3 + ... + s^23/23): the next term is below 2e-19 relative. */
  double p = 1.0 / 23;
  for (int k = 21; k >= 1; k -= 2) p = 1.0 / k + s2 * p;
  const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  return e * ln2_hi + (2 * s * p + e * ln2_lo);
}

/* exp(x): x = k ln2 + r, |r| <= ln2/2, Taylor series to r^17, then scaled by 2^k exactly. */
double lucy__rng_exp(double x) {
  if (x != x) return x;
  if (x > 709.78) return INFINITY;
  if (x < -745.2) return 0;
  const double ln2_hi = 6.93147180369123816490e-01, ln2_lo = 1.90821492927058770002e-10;
  double kd = x * 1.4426950408889634;
  int k = (int)(kd < 0 ? kd - 0.5 : kd + 0.5);
  double rr = (x - k * ln2_hi) - k * ln2_lo;
  double p = 1;
  for (int n = 17; n >= 1; n--) p = 1 + rr * p / n;
  /* Scale by 2^k in steps that never overflow or lose bits before the last one. */
  while (k > 0) { int step = k > 60 ? 60 : k; p *= (double)(UINT64_C(1) << step); k -= step; }
  while (k < 0) { int step = -k > 60 ? 60 : -k; p /= (double)(UINT64_C(1) << step); k += step; }
  return p;
}

/* ---- normals and Poisson ---------------------------------------------------------------- */

double lucy__rng_normal(LucyRng *r) {
  if (r->has_spare) {
    r->has_spare = 0;
    return r->spare;
  }
  double u, v, s;
  do {
    u = 2 * lucy__rng_uniform(r) - 1;
    v = 2 * lucy__rng_uniform(r) - 1;
    s = u * u + v * v;
  } while (s >= 1 || s == 0);
  double f = sqrt(-2 * lucy__rng_log(s) / s); /* sqrt is correctly rounded by IEEE 754 */
  r->spare = v * f;
  r->has_spare = 1;
  return u * f;
}

/* ln(k!) : a table by summation for small k, Stirling's series (error < 1e-14) above. */
static double log_factorial(double k) {
  if (k < 16) {
    double f = 1;
    for (int i = 2; i <= (int)k; i++) f *= i;
    return lucy__rng_log(f);
  }
  double n = k + 1, in = 1 / n, in2 = in * in;
  const double half_log_2pi = 0.91893853320467274178;
  double series = in * (1.0 / 12 - in2 * (1.0 / 360 - in2 * (1.0 / 1260 - in2 * (1.0 / 1680))));
  return (n - 0.5) * lucy__rng_log(n) - n + half_log_2pi + series;
}

/* PTRS: W. Hormann, "The transformed rejection method for generating Poisson random
 * variables", Insurance: Mathematics and Economics 12 (1993) 39-45. Exact for mean >= 10. */
static double poisson_ptrs(LucyRng *r, double lam) {
  const double slam = sqrt(lam), loglam = lucy__rng_log(lam);
  const double b = 0.931 + 2.53 * slam;
  const double a = -0.059 + 0.02483 * b;
  const double invalpha = 1.1239 + 1.1328 / (b - 3.4);
  const double vr = 0.9277 - 3.6224 / (b - 2);
  const double log_invalpha = lucy__rng_log(invalpha);
  for (;;) {
    double u = lucy__rng_uniform(r) - 0.5;
    double v = lucy__rng_uniform(r);
    double us = 0.5 - fabs(u);
    double k = floor((2 * a / us + b) * u + lam + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    if (lucy__rng_log(v) + log_invalpha - lucy__rng_log(a / (us * us) + b) <=
        -lam + k * loglam - log_factorial(k))
      return k;
  }
}

double lucy__rng_poisson(LucyRng *r, double mean) {
  if (!(mean > 0)) return 0;
  if (mean >= 10) return poisson_ptrs(r, mean);
  /* Knuth: count uniforms until their product falls below exp(-mean). */
  const double limit = lucy__rng_exp(-mean);
  double prod = lucy__rng_uniform(r);
  double k = 0;
  while (prod > limit) {
    prod *= lucy__rng_uniform(r);
    k++;
  }
  return k;
}
