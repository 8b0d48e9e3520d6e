/* Lucy's random numbers: xoshiro256** seeded through splitmix64, with independent streams
 * derived from (seed, stream) so parallel work can give each row its own generator and get the
 * same result whatever the thread count. Every transcendental function used for sampling is
 * Lucy's own (basic IEEE arithmetic only), so a seed gives the same numbers on every machine. */
#ifndef LUCY_RNG_H
#define LUCY_RNG_H

#include <stdint.h>

/* Internals shared across core files: never exported from liblucy. */
#pragma GCC visibility push(hidden)

typedef struct LucyRng {
  uint64_t s[4];
  double spare;   /* the second normal of the last polar pair */
  int has_spare;
} LucyRng;

/* Seeds r for stream number `stream` of `seed`; different streams are independent. */
void lucy__rng_seed(LucyRng *r, uint64_t seed, uint64_t stream);
uint64_t lucy__rng_next(LucyRng *r);
/* Uniform in [0, 1) with 53 random bits. */
double lucy__rng_uniform(LucyRng *r);
/* Standard normal (Marsaglia's polar method). */
double lucy__rng_normal(LucyRng *r);
/* Poisson sample of the given mean (exact: Knuth's product method below 10, Hormann's PTRS
 * transformed rejection above). mean <= 0 or NaN gives 0. */
double lucy__rng_poisson(LucyRng *r, double mean);

/* Portable natural log and exp (within a few ulp; identical on every IEEE-754 machine). */
double lucy__rng_log(double x);
double lucy__rng_exp(double x);

#pragma GCC visibility pop

#endif
