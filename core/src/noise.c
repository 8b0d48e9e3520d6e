/* Seeded noise. Every row (z, y) of the volume draws from its own stream of the seed, so the
 * result is the same whatever the number of threads, and the same on every machine. */
#include <math.h>

#include "lucy/phantom.h"
#include "rng.h"
#include "status-private.h"

static LucyStatus check_volume(const LucyVolume *vol) {
  if (!vol || !vol->data) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "no volume given");
  return LUCY_OK;
}

LucyStatus lucy_noise_poisson(LucyVolume *vol, double scale, uint64_t seed) {
  LucyStatus status = check_volume(vol);
  if (status) return status;
  if (!(scale > 0) || !isfinite(scale))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "Poisson scale (photons per unit intensity) must be positive, got %g", scale);
  const size_t nx = vol->shape[2], rows = vol->shape[0] * vol->shape[1];
  const size_t n = rows * nx;
  /* A mean must be finite: refuse before changing anything. */
  for (size_t i = 0; i < n; i++) {
    double mean = (double)vol->data[i] * scale;
    if (isinf(vol->data[i]) || (vol->data[i] > 0 && !isfinite(mean)))
      return lucy__fail(LUCY_ERR_NUMERIC,
                        "voxel %zu is %g: a Poisson mean of %g photons cannot be sampled", i,
                        (double)vol->data[i], mean);
  }
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (n > 65536)
#endif
  for (size_t r = 0; r < rows; r++) {
    LucyRng rng;
    lucy__rng_seed(&rng, seed, (uint64_t)r);
    float *row = vol->data + r * nx;
    for (size_t x = 0; x < nx; x++) {
      float v = row[x];
      if (isnan(v)) continue; /* no information: stays NaN */
      double mean = v > 0 ? (double)v * scale : 0;
      row[x] = (float)(lucy__rng_poisson(&rng, mean) / scale);
    }
  }
  return LUCY_OK;
}

LucyStatus lucy_noise_gaussian(LucyVolume *vol, double sigma, uint64_t seed) {
  LucyStatus status = check_volume(vol);
  if (status) return status;
  if (!(sigma >= 0) || !isfinite(sigma))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "Gaussian noise sigma must be finite and >= 0, got %g", sigma);
  if (sigma == 0) return LUCY_OK;
  const size_t nx = vol->shape[2], rows = vol->shape[0] * vol->shape[1];
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (rows * nx > 65536)
#endif
  for (size_t r = 0; r < rows; r++) {
    LucyRng rng;
    /* Streams offset from Poisson's so the two noises of one seed are independent. */
    lucy__rng_seed(&rng, seed, (uint64_t)r | UINT64_C(0x8000000000000000));
    float *row = vol->data + r * nx;
    for (size_t x = 0; x < nx; x++) {
      double g = lucy__rng_normal(&rng);
      if (!isnan(row[x])) row[x] = (float)(row[x] + sigma * g);
    }
  }
  return LUCY_OK;
}
