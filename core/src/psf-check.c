/* PSF preparation: is the PSF centred on the origin convolution uses (peak and
 * background-subtracted centroid), and cropping it to the box that carries all but a given
 * fraction of its energy. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lucy/deconvolve.h"
#include "otf.h"
#include "psf-private.h"
#include "status-private.h"

static LucyStatus check_psf_arg(const LucyVolume *psf, LucyOrigin origin, const char *fn) {
  if (!psf || !psf->data) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "%s: NULL PSF", fn);
  if (origin != LUCY_ORIGIN_CENTER && origin != LUCY_ORIGIN_SCIPY)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "%s: unknown PSF origin %d", fn, (int)origin);
  if (lucy_shape_count(psf->shape) == 0)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "%s: empty PSF", fn);
  return lucy__check_finite(psf->data, psf->shape, 1, "PSF");
}

/* The median of the voxels on the faces of the box, over the axes longer than 2 (a 2-D PSF's
 * single plane is not all border); 0 when there is no such axis. *mad (may be NULL) gets the
 * median absolute deviation from it. Shared with psf-measure.c and psf-fix.c. */
double lucy__psf_border_median(const LucyVolume *psf, double *mad) {
  if (mad) *mad = 0.0;
  const size_t *M = psf->shape;
  int any = 0;
  for (int a = 0; a < 3; a++) any |= M[a] > 2;
  if (!any) return 0.0;
  const size_t n = lucy_shape_count(M);
  float *v = malloc(n * sizeof *v);
  if (!v) return 0.0;
  size_t k = 0;
  for (size_t z = 0; z < M[0]; z++)
    for (size_t y = 0; y < M[1]; y++)
      for (size_t x = 0; x < M[2]; x++) {
        const int edge = (M[0] > 2 && (z == 0 || z == M[0] - 1)) ||
                         (M[1] > 2 && (y == 0 || y == M[1] - 1)) ||
                         (M[2] > 2 && (x == 0 || x == M[2] - 1));
        if (edge) v[k++] = psf->data[(z * M[1] + y) * M[2] + x];
      }
  const double med = k ? lucy_percentile(v, k, 50.0) : 0.0;
  if (mad && k) {
    for (size_t i = 0; i < k; i++) v[i] = (float)fabs(v[i] - med);
    *mad = lucy_percentile(v, k, 50.0);
  }
  free(v);
  return med;
}

LucyStatus lucy_psf_check(const LucyVolume *psf, LucyOrigin origin, LucyPsfCheck *check) {
  if (!check) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_psf_check: check is NULL");
  memset(check, 0, sizeof *check);
  LucyStatus st = check_psf_arg(psf, origin, "lucy_psf_check");
  if (st) return st;
  const size_t *M = psf->shape;
  const size_t n = lucy_shape_count(M);
  double sum = 0.0;
  size_t peak = 0;
  for (size_t i = 0; i < n; i++) {
    sum += psf->data[i];
    if (psf->data[i] > psf->data[peak]) peak = i;
  }
  check->sum = sum;
  check->peak[2] = peak % M[2];
  check->peak[1] = (peak / M[2]) % M[1];
  check->peak[0] = peak / (M[2] * M[1]);
  const double bg = lucy__psf_border_median(psf, NULL);
  double w = 0.0, c[3] = {0, 0, 0};
  for (size_t z = 0; z < M[0]; z++)
    for (size_t y = 0; y < M[1]; y++)
      for (size_t x = 0; x < M[2]; x++) {
        const double v = psf->data[(z * M[1] + y) * M[2] + x] - bg;
        if (v <= 0) continue;
        w += v;
        c[0] += v * (double)z;
        c[1] += v * (double)y;
        c[2] += v * (double)x;
      }
  int off = 0;
  for (int a = 0; a < 3; a++) {
    check->origin[a] = lucy__psf_origin(M[a], origin);
    check->centroid[a] = w > 0 ? c[a] / w : (double)check->peak[a];
    check->offset[a] = check->centroid[a] - (double)check->origin[a];
    off |= check->peak[a] != check->origin[a] || fabs(check->offset[a]) > 0.75;
  }
  check->off_centre = off;
  if (off)
    snprintf(check->message, sizeof check->message,
             "PSF is off-centre: peak at z=%zu, y=%zu, x=%zu and centroid offset by "
             "(%.2f, %.2f, %.2f) voxels from the origin (%zu, %zu, %zu); the result will be "
             "shifted by that much",
             check->peak[0], check->peak[1], check->peak[2], check->offset[0], check->offset[1],
             check->offset[2], check->origin[0], check->origin[1], check->origin[2]);
  return LUCY_OK;
}

LucyStatus lucy_psf_crop_energy(const LucyVolume *psf, LucyOrigin origin, double drop_fraction,
                                LucyVolume **out) {
  if (!out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_psf_crop_energy: out is NULL");
  *out = NULL;
  LucyStatus st = check_psf_arg(psf, origin, "lucy_psf_crop_energy");
  if (st) return st;
  if (!(drop_fraction >= 0.0 && drop_fraction < 1.0))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "PSF crop: the energy fraction to drop must be in [0, 1), got %g",
                      drop_fraction);
  const size_t *M = psf->shape;
  /* The positive energy's marginal along each axis. Dropping at most drop/3 on each axis
   * keeps at least 1 - drop of the total inside the box (a union bound). */
  double *marg[3];
  for (int a = 0; a < 3; a++) {
    marg[a] = calloc(M[a], sizeof(double));
    if (!marg[a]) {
      for (int b = 0; b < a; b++) free(marg[b]);
      return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory cropping the PSF");
    }
  }
  double total = 0.0;
  for (size_t z = 0; z < M[0]; z++)
    for (size_t y = 0; y < M[1]; y++)
      for (size_t x = 0; x < M[2]; x++) {
        const double v = psf->data[(z * M[1] + y) * M[2] + x];
        if (v <= 0) continue;
        marg[0][z] += v;
        marg[1][y] += v;
        marg[2][x] += v;
        total += v;
      }
  if (total <= 0) {
    for (int a = 0; a < 3; a++) free(marg[a]);
    return lucy__fail(LUCY_ERR_NUMERIC, "PSF crop: the PSF has no positive voxel");
  }
  ptrdiff_t start[3];
  size_t shape[3];
  for (int a = 0; a < 3; a++) {
    const size_t o = lucy__psf_origin(M[a], origin);
    const size_t rmax = o < M[a] - 1 - o ? o : M[a] - 1 - o;
    const double allowed = total * drop_fraction / 3.0;
    size_t r = 0;
    for (; r <= rmax; r++) { /* smallest symmetric half-width r that drops <= allowed */
      double inside = 0.0;
      for (size_t i = o - r; i <= o + r; i++) inside += marg[a][i];
      if (total - inside <= allowed) break;
    }
    if (r > rmax) { /* the symmetric box does not fit: keep the whole axis */
      start[a] = 0;
      shape[a] = M[a];
    } else {
      start[a] = (ptrdiff_t)(o - r);
      shape[a] = 2 * r + 1;
    }
    free(marg[a]);
  }
  return lucy_volume_crop_pad(psf, start, shape, 0.0f, out);
}
