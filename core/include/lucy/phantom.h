/* Synthetic data so every test and the demo work without downloads: sphere phantoms, Gaussian
 * PSFs and seeded noise. All random numbers come from Lucy's own generator, so a seed gives the
 * same data on every machine. */
#ifndef LUCY_PHANTOM_H
#define LUCY_PHANTOM_H

#include <stdint.h>
#include "volume.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct LucySphere {
  double center[3]; /* z, y, x in voxels */
  double radius;    /* in voxels along x; scaled by voxel size on the other axes */
  double value;
} LucySphere;

/* Adds solid spheres (anti-aliased by 4x supersampling per axis at the edge) to vol. */
LucyStatus lucy_phantom_add_spheres(LucyVolume *vol, const LucySphere *spheres, size_t count);

/* Places count non-overlapping spheres with radii in [rmin, rmax] voxels fully inside vol, at
 * random from seed; writes them to spheres (may be NULL). A sphere taller than the stack is
 * centred on its middle plane and cut by its faces: a disc in a one-plane stack, a slab of
 * the sphere in a few planes. Fails (LUCY_ERR_INVALID_ARGUMENT, saying how many fitted) when
 * they cannot all be placed (laterally, every sphere must fit). */
LucyStatus lucy_phantom_random_spheres(LucyVolume *vol, size_t count, double rmin, double rmax,
                                       double value, uint64_t seed, LucySphere *spheres);

/* Gaussian PSF sampled at voxel centres, peak at the origin voxel M//2 on each axis, sum 1.
 * sigma in voxels (z, y, x); a sigma of 0 puts all weight in the centre plane of that axis. */
LucyStatus lucy_psf_gaussian(const size_t shape[3], const double sigma_vox[3], LucyVolume **out);

/* Replaces every voxel v by a Poisson sample of mean max(v, 0) * scale, divided by scale
 * (scale = photons per unit intensity). */
LucyStatus lucy_noise_poisson(LucyVolume *vol, double scale, uint64_t seed);
/* Adds Gaussian noise of the given standard deviation. */
LucyStatus lucy_noise_gaussian(LucyVolume *vol, double sigma, uint64_t seed);

#ifdef __cplusplus
}
#endif
#endif
