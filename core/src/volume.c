#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lucy/volume.h"
#include "status-private.h"

size_t lucy_shape_count(const size_t shape[3]) { return shape[0] * shape[1] * shape[2]; }

const char *lucy_sample_type_name(LucySampleType type) {
  static const char *names[] = {"uint8", "int8", "uint16", "int16",
                                "uint32", "int32", "float32", "float64"};
  return (unsigned)type < sizeof names / sizeof names[0] ? names[type] : "unknown";
}

size_t lucy_sample_type_size(LucySampleType type) {
  static const size_t sizes[] = {1, 1, 2, 2, 4, 4, 4, 8};
  return (unsigned)type < sizeof sizes / sizeof sizes[0] ? sizes[type] : 0;
}

/* Voxel count of shape, refusing zero extents and sizes whose bytes overflow size_t. */
static LucyStatus checked_count(const size_t shape[3], size_t *count) {
  size_t n = 1;
  for (int a = 0; a < 3; a++) {
    if (shape[a] == 0)
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                        "volume shape %zux%zux%zu (z,y,x) has a zero extent", shape[0],
                        shape[1], shape[2]);
    if (n > SIZE_MAX / sizeof(float) / shape[a])
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                        "volume shape %zux%zux%zu (z,y,x) is too large to address", shape[0],
                        shape[1], shape[2]);
    n *= shape[a];
  }
  *count = n;
  return LUCY_OK;
}

LucyStatus lucy_volume_new(const size_t shape[3], LucyVolume **out) {
  size_t n = 0;
  LucyStatus st = checked_count(shape, &n);
  if (st) return st;
  LucyVolume *v = calloc(1, sizeof *v);
  float *data = v ? calloc(n, sizeof(float)) : NULL;
  if (!data) {
    free(v);
    return lucy__fail(LUCY_ERR_OUT_OF_MEMORY,
                      "cannot allocate a %zux%zux%zu float32 volume (%zu bytes)", shape[0],
                      shape[1], shape[2], n * sizeof(float));
  }
  for (int a = 0; a < 3; a++) {
    v->shape[a] = shape[a];
    v->voxel_um[a] = 1.0;
  }
  v->data = data;
  *out = v;
  return LUCY_OK;
}

void lucy_volume_free(LucyVolume *vol) {
  if (!vol) return;
  free(vol->data);
  free(vol);
}

LucyStatus lucy_volume_copy(const LucyVolume *src, LucyVolume **out) {
  LucyVolume *v;
  LucyStatus st = lucy_volume_new(src->shape, &v);
  if (st) return st;
  memcpy(v->voxel_um, src->voxel_um, sizeof v->voxel_um);
  memcpy(v->data, src->data, lucy_shape_count(src->shape) * sizeof(float));
  *out = v;
  return LUCY_OK;
}

#define CONVERT_LOOP(T)                                    \
  do {                                                     \
    const T *s = samples;                                  \
    for (size_t i = 0; i < n; i++) d[i] = (float)s[i];     \
  } while (0)

LucyStatus lucy_volume_from_data(const void *samples, LucySampleType type,
                                 const size_t shape[3], LucyVolume **out) {
  if (!samples || lucy_sample_type_size(type) == 0)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "no samples or unknown sample type %d",
                      (int)type);
  LucyVolume *v;
  LucyStatus st = lucy_volume_new(shape, &v);
  if (st) return st;
  size_t n = lucy_shape_count(shape);
  float *d = v->data;
  switch (type) {
  case LUCY_U8: CONVERT_LOOP(uint8_t); break;
  case LUCY_I8: CONVERT_LOOP(int8_t); break;
  case LUCY_U16: CONVERT_LOOP(uint16_t); break;
  case LUCY_I16: CONVERT_LOOP(int16_t); break;
  case LUCY_U32: CONVERT_LOOP(uint32_t); break;
  case LUCY_I32: CONVERT_LOOP(int32_t); break;
  case LUCY_F32: memcpy(d, samples, n * sizeof(float)); break;
  case LUCY_F64: CONVERT_LOOP(double); break;
  }
  *out = v;
  return LUCY_OK;
}

/* The overlap of [origin, origin+len) with [0, extent) along one axis, as [lo, hi) in the
 * destination's coordinates. */
static void overlap(ptrdiff_t origin, size_t len, size_t extent, size_t *lo, size_t *hi) {
  ptrdiff_t a = origin < 0 ? -origin : 0;
  ptrdiff_t b = (ptrdiff_t)extent - origin;
  if (b > (ptrdiff_t)len) b = (ptrdiff_t)len;
  if (b < a) b = a;
  *lo = (size_t)a;
  *hi = (size_t)b;
}

LucyStatus lucy_volume_crop_pad(const LucyVolume *src, const ptrdiff_t origin[3],
                                const size_t shape[3], float fill, LucyVolume **out) {
  LucyVolume *v;
  LucyStatus st = lucy_volume_new(shape, &v);
  if (st) return st;
  memcpy(v->voxel_um, src->voxel_um, sizeof v->voxel_um);
  size_t lo[3], hi[3];
  for (int a = 0; a < 3; a++) overlap(origin[a], shape[a], src->shape[a], &lo[a], &hi[a]);
  size_t n = lucy_shape_count(shape);
  int any = hi[0] > lo[0] && hi[1] > lo[1] && hi[2] > lo[2];
  if (!any || lo[0] || lo[1] || lo[2] || hi[0] < shape[0] || hi[1] < shape[1] ||
      hi[2] < shape[2])
    for (size_t i = 0; i < n; i++) v->data[i] = fill;
  if (any) {
    size_t row = (hi[2] - lo[2]) * sizeof(float);
    for (size_t z = lo[0]; z < hi[0]; z++)
      for (size_t y = lo[1]; y < hi[1]; y++) {
        size_t sz = (size_t)((ptrdiff_t)z + origin[0]), sy = (size_t)((ptrdiff_t)y + origin[1]);
        size_t sx = (size_t)((ptrdiff_t)lo[2] + origin[2]);
        memcpy(v->data + (z * shape[1] + y) * shape[2] + lo[2],
               src->data + (sz * src->shape[1] + sy) * src->shape[2] + sx, row);
      }
  }
  *out = v;
  return LUCY_OK;
}

void lucy_volume_stats(const LucyVolume *vol, LucyStats *stats) {
  size_t n = lucy_shape_count(vol->shape), finite = 0, bad = 0;
  double mn = INFINITY, mx = -INFINITY, sum = 0.0;
#pragma omp parallel for reduction(min : mn) reduction(max : mx) reduction(+ : sum, finite, bad)
  for (size_t i = 0; i < n; i++) {
    double x = vol->data[i];
    if (!isfinite(x)) {
      bad++;
      continue;
    }
    finite++;
    sum += x;
    if (x < mn) mn = x;
    if (x > mx) mx = x;
  }
  stats->count = n;
  stats->nonfinite = bad;
  stats->sum = sum;
  stats->min = finite ? mn : NAN;
  stats->max = finite ? mx : NAN;
  stats->mean = finite ? sum / (double)finite : NAN;
}

LucyStatus lucy_volume_scaled_error(const LucyVolume *estimate, const LucyVolume *truth,
                                    double *error) {
  if (!estimate || !truth || !error)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_volume_scaled_error: NULL argument");
  const size_t *a = estimate->shape, *b = truth->shape;
  if (memcmp(a, b, sizeof estimate->shape) != 0)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "scaled error: estimate %zux%zux%zu and truth %zux%zux%zu differ in shape",
                      a[0], a[1], a[2], b[0], b[1], b[2]);
  const size_t n = lucy_shape_count(a);
  double et = 0.0, ee = 0.0, tt = 0.0;
  size_t bad = 0;
#pragma omp parallel for reduction(+ : et, ee, tt, bad)
  for (size_t i = 0; i < n; i++) {
    const double e = estimate->data[i], t = truth->data[i];
    if (!isfinite(e) || !isfinite(t)) bad++;
    et += e * t;
    ee += e * e;
    tt += t * t;
  }
  if (bad)
    return lucy__fail(LUCY_ERR_NUMERIC, "scaled error: %zu voxels are NaN or infinite", bad);
  if (ee == 0.0 || tt == 0.0)
    return lucy__fail(LUCY_ERR_NUMERIC, "scaled error: the %s is all zeros",
                      tt == 0.0 ? "truth" : "estimate");
  /* ||s e - t||^2 = tt - et^2/ee at the best s, computed that way it can cancel to a tiny
   * negative: the direct sum is as cheap and never does. */
  const double s = et / ee;
  double d2 = 0.0;
#pragma omp parallel for reduction(+ : d2)
  for (size_t i = 0; i < n; i++) {
    const double d = s * estimate->data[i] - truth->data[i];
    d2 += d * d;
  }
  *error = sqrt(d2 / tt);
  return LUCY_OK;
}
