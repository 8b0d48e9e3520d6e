/* Sphere phantoms: solid spheres with anti-aliased edges, and random non-overlapping ones.
 *
 * A sphere's radius is given in x voxels; its semi-axis along axis a is r * voxel_x / voxel_a
 * voxels, so it is round in micrometres. A voxel (a unit cube around its centre index) gets
 * value * (the fraction of it inside): 1 or 0 when it is certainly inside or outside, else the
 * fraction of its 4 x 4 x 4 sub-voxel centres inside. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lucy/phantom.h"
#include "rng.h"
#include "status-private.h"

#define SUPERSAMPLE 4
#define PLACEMENT_TRIES 5000

static LucyStatus check_volume(const LucyVolume *vol) {
  if (!vol || !vol->data) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "no volume given");
  for (int a = 0; a < 3; a++)
    if (!(vol->voxel_um[a] > 0) || !isfinite(vol->voxel_um[a]))
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "voxel size %g um on axis %d is not positive",
                        vol->voxel_um[a], a);
  return LUCY_OK;
}

/* Semi-axes in voxels (z, y, x) of a sphere of radius r x-voxels. */
static void semi_axes(const LucyVolume *vol, double r, double axes[3]) {
  for (int a = 0; a < 3; a++) axes[a] = r * vol->voxel_um[LUCY_X] / vol->voxel_um[a];
}

static void add_sphere(LucyVolume *vol, const LucySphere *s) {
  const size_t ny = vol->shape[1], nx = vol->shape[2];
  double ax[3];
  semi_axes(vol, s->radius, ax);
  size_t lo[3], hi[3]; /* voxel index range [lo, hi] that can touch the sphere */
  for (int a = 0; a < 3; a++) {
    double l = ceil(s->center[a] - ax[a] - 0.5), h = floor(s->center[a] + ax[a] + 0.5);
    double top = (double)vol->shape[a] - 1;
    if (h < 0 || l > top) return;
    lo[a] = l < 0 ? 0 : (size_t)l;
    hi[a] = h > top ? vol->shape[a] - 1 : (size_t)h;
  }
  /* In coordinates scaled by 1/axes the sphere is the unit ball and a voxel's corners lie
   * within `reach` of its centre. */
  const double inv[3] = {1 / ax[0], 1 / ax[1], 1 / ax[2]};
  const double reach =
      0.5 * sqrt(inv[0] * inv[0] + inv[1] * inv[1] + inv[2] * inv[2]);
  const double value = s->value;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if ((hi[0] - lo[0] + 1) * (hi[1] - lo[1] + 1) * \
                                              (hi[2] - lo[2] + 1) > 65536)
#endif
  for (size_t z = lo[0]; z <= hi[0]; z++) {
    double dz = ((double)z - s->center[0]) * inv[0];
    for (size_t y = lo[1]; y <= hi[1]; y++) {
      double dy = ((double)y - s->center[1]) * inv[1];
      float *row = vol->data + (z * ny + y) * nx;
      for (size_t x = lo[2]; x <= hi[2]; x++) {
        double dx = ((double)x - s->center[2]) * inv[2];
        double d = sqrt(dz * dz + dy * dy + dx * dx);
        double frac;
        if (d + reach <= 1) {
          frac = 1;
        } else if (d - reach >= 1) {
          continue;
        } else {
          int inside = 0;
          for (int i = 0; i < SUPERSAMPLE; i++) {
            double sz = dz + ((i + 0.5) / SUPERSAMPLE - 0.5) * inv[0];
            for (int j = 0; j < SUPERSAMPLE; j++) {
              double sy = dy + ((j + 0.5) / SUPERSAMPLE - 0.5) * inv[1];
              double rest = 1 - sz * sz - sy * sy;
              if (rest < 0) continue;
              for (int k = 0; k < SUPERSAMPLE; k++) {
                double sx = dx + ((k + 0.5) / SUPERSAMPLE - 0.5) * inv[2];
                if (sx * sx <= rest) inside++;
              }
            }
          }
          if (!inside) continue;
          frac = inside / (double)(SUPERSAMPLE * SUPERSAMPLE * SUPERSAMPLE);
        }
        row[x] = (float)(row[x] + value * frac);
      }
    }
  }
}

LucyStatus lucy_phantom_add_spheres(LucyVolume *vol, const LucySphere *spheres, size_t count) {
  LucyStatus status = check_volume(vol);
  if (status) return status;
  if (count && !spheres) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "no spheres given");
  for (size_t i = 0; i < count; i++) {
    const LucySphere *s = &spheres[i];
    if (!(s->radius > 0) || !isfinite(s->radius) || !isfinite(s->value) ||
        !isfinite(s->center[0]) || !isfinite(s->center[1]) || !isfinite(s->center[2]))
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                        "sphere %zu: radius %g must be positive and centre (%g, %g, %g) and "
                        "value %g finite",
                        i, s->radius, s->center[0], s->center[1], s->center[2], s->value);
  }
  for (size_t i = 0; i < count; i++) add_sphere(vol, &spheres[i]);
  return LUCY_OK;
}

/* Physical distance (um) between two centres given in voxels. */
static double distance_um(const LucyVolume *vol, const double a[3], const double b[3]) {
  double s = 0;
  for (int k = 0; k < 3; k++) {
    double d = (a[k] - b[k]) * vol->voxel_um[k];
    s += d * d;
  }
  return sqrt(s);
}

/* A stack thinner than a sphere is a section through it: the centre on the stack's middle
 * plane, the faces cutting the sphere (a disc in a one-plane stack), so that 2-D images get
 * phantoms too. Spheres that fit keep their random centre z, and their results. */
static double centre_z(const LucyVolume *vol, double ax_z, double z) {
  const double depth = (double)vol->shape[0];
  return depth - 2 * ax_z < -1e-12 ? 0.5 * (depth - 1) : z;
}

LucyStatus lucy_phantom_random_spheres(LucyVolume *vol, size_t count, double rmin, double rmax,
                                       double value, uint64_t seed, LucySphere *spheres) {
  LucyStatus status = check_volume(vol);
  if (status) return status;
  if (!(rmin > 0) || !(rmax >= rmin) || !isfinite(rmax))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "sphere radii must satisfy 0 < rmin <= rmax, got %g and %g", rmin, rmax);
  if (!isfinite(value))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "sphere value %g is not finite", value);
  if (count == 0) return LUCY_OK;
  LucySphere *placed = malloc(count * sizeof *placed);
  if (!placed) return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory for %zu spheres", count);

  LucyRng rng;
  lucy__rng_seed(&rng, seed, 0);
  const double vx = vol->voxel_um[LUCY_X];
  size_t n = 0;
  double failed_radius = 0;
  for (size_t i = 0; i < count; i++) {
    double r = rmin + (rmax - rmin) * lucy__rng_uniform(&rng);
    double ax[3];
    semi_axes(vol, r, ax);
    /* Fully inside: the centre lies in [ax - 0.5, n - 0.5 - ax] on every axis, except z in a
     * stack thinner than the sphere (see centre_z). */
    int fits_at_all = 1;
    for (int a = 1; a < 3; a++)
      if ((double)vol->shape[a] - 2 * ax[a] < -1e-12) fits_at_all = 0;
    int ok = 0;
    for (int t = 0; fits_at_all && t < PLACEMENT_TRIES && !ok; t++) {
      double c[3];
      for (int a = 0; a < 3; a++) {
        double span = (double)vol->shape[a] - 2 * ax[a];
        c[a] = ax[a] - 0.5 + span * lucy__rng_uniform(&rng);
      }
      c[0] = centre_z(vol, ax[0], c[0]);
      ok = 1;
      for (size_t j = 0; j < n && ok; j++)
        if (distance_um(vol, c, placed[j].center) < (r + placed[j].radius) * vx) ok = 0;
      if (ok) {
        memcpy(placed[n].center, c, sizeof c);
        placed[n].radius = r;
        placed[n].value = value;
        n++;
      }
    }
    if (!ok) {
      failed_radius = r;
      break;
    }
  }
  if (n < count) {
    free(placed);
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "only %zu of %zu spheres of radius %g to %g voxels fit without overlapping "
                      "in the %zu x %zu x %zu volume (sphere %zu, radius %.3g, found no place "
                      "in %d tries); ask for fewer or smaller spheres",
                      n, count, rmin, rmax, vol->shape[0], vol->shape[1], vol->shape[2], n + 1,
                      failed_radius, PLACEMENT_TRIES);
  }
  for (size_t i = 0; i < n; i++) add_sphere(vol, &placed[i]);
  if (spheres) memcpy(spheres, placed, n * sizeof *placed);
  free(placed);
  return LUCY_OK;
}
