/* A Gaussian PSF: separable, sampled at voxel centres, peak at the origin voxel M//2 on each
 * axis, each 1-D profile normalised to sum 1 in double so the product sums to 1. */
#include <math.h>
#include <stdlib.h>

#include "lucy/phantom.h"
#include "status-private.h"

LucyStatus lucy_psf_gaussian(const size_t shape[3], const double sigma_vox[3], LucyVolume **out) {
  if (!out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "no output given");
  *out = NULL;
  if (!shape || !sigma_vox) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "no shape or sigma given");
  for (int a = 0; a < 3; a++)
    if (!(sigma_vox[a] >= 0) || !isfinite(sigma_vox[a]))
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                        "Gaussian sigma %g voxels on axis %d must be finite and >= 0",
                        sigma_vox[a], a);
  LucyVolume *vol;
  LucyStatus status = lucy_volume_new(shape, &vol);
  if (status) return status;
  double *prof[3] = {NULL, NULL, NULL};
  for (int a = 0; a < 3; a++) {
    prof[a] = malloc(shape[a] * sizeof(double));
    if (!prof[a]) {
      for (int b = 0; b < a; b++) free(prof[b]);
      lucy_volume_free(vol);
      return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory for a Gaussian profile");
    }
    const size_t m = shape[a], c = m / 2;
    double sum = 0;
    for (size_t i = 0; i < m; i++) {
      double d = (double)i - (double)c;
      double g = sigma_vox[a] > 0 ? exp(-0.5 * (d / sigma_vox[a]) * (d / sigma_vox[a]))
                                  : (i == c ? 1.0 : 0.0);
      prof[a][i] = g;
      sum += g;
    }
    for (size_t i = 0; i < m; i++) prof[a][i] /= sum; /* sum >= 1: the centre is exp(0) */
  }
  const size_t ny = shape[1], nx = shape[2];
  for (size_t z = 0; z < shape[0]; z++)
    for (size_t y = 0; y < ny; y++) {
      const double zy = prof[0][z] * prof[1][y];
      float *row = vol->data + (z * ny + y) * nx;
      for (size_t x = 0; x < nx; x++) row[x] = (float)(zy * prof[2][x]);
    }
  for (int a = 0; a < 3; a++) free(prof[a]);
  *out = vol;
  return LUCY_OK;
}
