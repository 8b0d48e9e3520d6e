/* Orthogonal projections in one pass over the volume: max, or extreme (the signed value of
 * largest magnitude, for differences).
 *
 * Each z plane is read once and updates all requested projections: XY (over z) and XZ
 * (over y) element-wise, ZY (over x) by a row reduction. One loop serves both kinds through
 * keep4/keep1, a per-lane "does a win over m" that is a total order on non-NaN values with NaN
 * losing to everything:
 *  - max: the running maxima start at -inf and take a value only when it is greater, so NaN
 *    never wins; a pixel still at -inf is checked afterwards and becomes NaN when its whole line
 *    was NaN.
 *  - extreme: the running values start at NaN (which anything else beats, so an all-NaN line
 *    stays NaN); a wins when |a| > |m|, or |a| == |m| with a positive and m negative (+a over -a,
 *    +0 over -0).
 * With OpenMP the z planes are split between threads, each with its own XY accumulator, merged
 * at the end (both orders are total, so the result does not depend on the thread count). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "lucy/project.h"
#include "status-private.h"

/* 4-lane vectors (GCC/Clang vector extensions; SSE2/NEON width, so no ABI questions). */
typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

static inline v4f load4(const float *p) {
  v4f v;
  memcpy(&v, p, sizeof v);
  return v;
}

static inline void store4(float *p, v4f v) { memcpy(p, &v, sizeof v); }

/* What a projection keeps of a line. */
typedef enum Keep { KEEP_MAX, KEEP_EXTREME } Keep;

/* The value a line starts from: what every other value beats. */
static inline float keep_identity(Keep keep) { return keep == KEEP_MAX ? -INFINITY : NAN; }

/* Per lane, a if a wins over m (see the top of the file), else m. */
static inline v4f keep4(Keep keep, v4f a, v4f m) {
  v4i wins;
  if (keep == KEEP_MAX) {
    wins = a > m;
  } else {
    const v4i abs_mask = {INT32_MAX, INT32_MAX, INT32_MAX, INT32_MAX}, zero = {0, 0, 0, 0};
    v4i ai = (v4i)a, mi = (v4i)m;
    v4f aa = (v4f)(ai & abs_mask), ma = (v4f)(mi & abs_mask);
    wins = (aa > ma) | ((aa == ma) & (ai >= zero) & (mi < zero)) | ((m != m) & (a == a));
  }
  return (v4f)((wins & (v4i)a) | (~wins & (v4i)m));
}

/* keep4 for one value. */
static inline float keep1(Keep keep, float a, float m) {
  if (keep == KEEP_MAX) return a > m ? a : m;
  if (isnan(a)) return m;
  if (isnan(m)) return a;
  float fa = fabsf(a), fm = fabsf(m);
  return fa > fm || (fa == fm && !signbit(a) && signbit(m)) ? a : m;
}

void lucy_image_free(LucyImage *img) {
  if (!img) return;
  free(img->data);
  free(img);
}

static LucyStatus image_new(size_t height, size_t width, LucyImage **out) {
  LucyImage *img = malloc(sizeof *img);
  float *data = malloc(height * width * sizeof(float));
  if (!img || !data) {
    free(img);
    free(data);
    return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory for a %zu x %zu image", height,
                      width);
  }
  img->height = height;
  img->width = width;
  img->data = data;
  *out = img;
  return LUCY_OK;
}

static LucyStatus check_volume(const LucyVolume *vol) {
  if (!vol || !vol->data) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "no volume given");
  if (!vol->shape[0] || !vol->shape[1] || !vol->shape[2])
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "empty volume (%zu x %zu x %zu)",
                      vol->shape[0], vol->shape[1], vol->shape[2]);
  return LUCY_OK;
}

static void fill(float *a, size_t n, float v) {
  for (size_t i = 0; i < n; i++) a[i] = v;
}

/* Planes [z0, z1): xy (ny x nx, may be NULL) and xz rows z0..z1 (may be NULL) accumulate,
 * zy (ny x nz, may be NULL) gets its columns z0..z1. Always inlined into project_planes, so
 * that each kind gets its own loop with keep4 resolved at compile time. */
static inline __attribute__((always_inline)) void
project_planes_keep(const LucyVolume *vol, Keep keep, size_t z0, size_t z1, float *xy,
                    float *zy, float *xz) {
  const size_t ny = vol->shape[1], nx = vol->shape[2], nz = vol->shape[0];
  const size_t nx8 = nx & ~(size_t)7;
  const float id = keep_identity(keep);
  const v4f id4 = {id, id, id, id};
  for (size_t z = z0; z < z1; z++) {
    const float *plane = vol->data + z * ny * nx;
    float *xzr = xz ? xz + z * nx : NULL;
    for (size_t y = 0; y < ny; y++) {
      const float *row = plane + y * nx;
      float *xyr = xy ? xy + y * nx : NULL;
      v4f ra = id4, rb = id4;
      size_t x = 0;
      for (; x < nx8; x += 8) {
        v4f a = load4(row + x), b = load4(row + x + 4);
        if (xyr) {
          store4(xyr + x, keep4(keep, a, load4(xyr + x)));
          store4(xyr + x + 4, keep4(keep, b, load4(xyr + x + 4)));
        }
        if (xzr) {
          store4(xzr + x, keep4(keep, a, load4(xzr + x)));
          store4(xzr + x + 4, keep4(keep, b, load4(xzr + x + 4)));
        }
        ra = keep4(keep, a, ra);
        rb = keep4(keep, b, rb);
      }
      ra = keep4(keep, rb, ra);
      float rm = id;
      for (int l = 0; l < 4; l++) rm = keep1(keep, ra[l], rm);
      for (; x < nx; x++) {
        float v = row[x];
        if (xyr) xyr[x] = keep1(keep, v, xyr[x]);
        if (xzr) xzr[x] = keep1(keep, v, xzr[x]);
        rm = keep1(keep, v, rm);
      }
      if (zy) zy[y * nz + z] = rm;
    }
  }
}

static void project_planes(const LucyVolume *vol, Keep keep, size_t z0, size_t z1, float *xy,
                           float *zy, float *xz) {
  if (keep == KEEP_MAX) project_planes_keep(vol, KEEP_MAX, z0, z1, xy, zy, xz);
  else project_planes_keep(vol, KEEP_EXTREME, z0, z1, xy, zy, xz);
}

/* A pixel left at -inf is NaN when every voxel of its line is NaN. */
static void fix_all_nan(const LucyVolume *vol, LucyProjection which, float *img) {
  const size_t nz = vol->shape[0], ny = vol->shape[1], nx = vol->shape[2];
  const size_t h = which == LUCY_PROJ_XZ ? nz : ny, w = which == LUCY_PROJ_ZY ? nz : nx;
  for (size_t i = 0; i < h; i++) {
    for (size_t j = 0; j < w; j++) {
      if (img[i * w + j] != -INFINITY) continue;
      /* The line through the volume: start index and stride, length n. */
      size_t start, stride, n;
      if (which == LUCY_PROJ_XY) start = i * nx + j, stride = ny * nx, n = nz;
      else if (which == LUCY_PROJ_ZY) start = (j * ny + i) * nx, stride = 1, n = nx;
      else start = i * ny * nx + j, stride = nx, n = ny;
      int all_nan = 1;
      for (size_t k = 0; k < n && all_nan; k++)
        if (!isnan(vol->data[start + k * stride])) all_nan = 0;
      if (all_nan) img[i * w + j] = NAN;
    }
  }
}

static void project(const LucyVolume *vol, Keep keep, LucyImage *out[3]) {
  const size_t nz = vol->shape[0], ny = vol->shape[1], nx = vol->shape[2];
  const float id = keep_identity(keep);
  float *xy = out[LUCY_PROJ_XY] ? out[LUCY_PROJ_XY]->data : NULL;
  float *zy = out[LUCY_PROJ_ZY] ? out[LUCY_PROJ_ZY]->data : NULL;
  float *xz = out[LUCY_PROJ_XZ] ? out[LUCY_PROJ_XZ]->data : NULL;
  if (xy) fill(xy, ny * nx, id);
  if (xz) fill(xz, nz * nx, id);

  int threads = 1;
#ifdef _OPENMP
  if (nz > 1 && nz * ny * nx >= ((size_t)1 << 20)) threads = omp_get_max_threads();
  if ((size_t)threads > nz) threads = (int)nz;
  if (threads < 1) threads = 1;
#endif
  float **partial = NULL; /* XY accumulators of threads 1.., thread 0 uses xy itself */
  if (threads > 1 && xy) {
    partial = calloc((size_t)threads, sizeof *partial);
    int ok = partial != NULL;
    for (int t = 1; ok && t < threads; t++) {
      partial[t] = malloc(ny * nx * sizeof(float));
      if (!partial[t]) ok = 0;
      else fill(partial[t], ny * nx, id);
    }
    if (!ok) { /* not enough memory for the copies: one thread needs none */
      for (int t = 1; partial && t < threads; t++) free(partial[t]);
      free(partial);
      partial = NULL;
      threads = 1;
    }
  }
  if (threads == 1) {
    project_planes(vol, keep, 0, nz, xy, zy, xz);
  } else {
#ifdef _OPENMP
#pragma omp parallel num_threads(threads)
    {
      int t = omp_get_thread_num(), nt = omp_get_num_threads();
      size_t z0 = nz * (size_t)t / (size_t)nt, z1 = nz * (size_t)(t + 1) / (size_t)nt;
      project_planes(vol, keep, z0, z1, xy ? (t == 0 ? xy : partial[t]) : NULL, zy, xz);
    }
#endif
    if (partial) {
      for (int t = 1; t < threads; t++) {
        const float *p = partial[t];
        for (size_t i = 0; i < ny * nx; i++) xy[i] = keep1(keep, p[i], xy[i]);
        free(partial[t]);
      }
      free(partial);
    }
  }
  if (keep == KEEP_MAX)
    for (int k = 0; k < 3; k++)
      if (out[k]) fix_all_nan(vol, (LucyProjection)k, out[k]->data);
}

static void projection_size(const LucyVolume *vol, LucyProjection which, size_t *h, size_t *w) {
  const size_t nz = vol->shape[0], ny = vol->shape[1], nx = vol->shape[2];
  *h = which == LUCY_PROJ_XZ ? nz : ny;
  *w = which == LUCY_PROJ_ZY ? nz : nx;
}

LucyStatus lucy_project_max(const LucyVolume *vol, LucyProjection which, LucyImage **out) {
  if (!out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "no output given");
  *out = NULL;
  LucyStatus status = check_volume(vol);
  if (status) return status;
  if ((unsigned)which > LUCY_PROJ_XZ)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "unknown projection %d", (int)which);
  size_t h, w;
  projection_size(vol, which, &h, &w);
  LucyImage *imgs[3] = {NULL, NULL, NULL};
  status = image_new(h, w, &imgs[which]);
  if (status) return status;
  project(vol, KEEP_MAX, imgs);
  *out = imgs[which];
  return LUCY_OK;
}

static LucyStatus project_all(const LucyVolume *vol, Keep keep, LucyImage *out[3]) {
  if (!out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "no output given");
  out[0] = out[1] = out[2] = NULL;
  LucyStatus status = check_volume(vol);
  if (status) return status;
  LucyImage *imgs[3] = {NULL, NULL, NULL};
  for (int k = 0; k < 3 && !status; k++) {
    size_t h, w;
    projection_size(vol, (LucyProjection)k, &h, &w);
    status = image_new(h, w, &imgs[k]);
  }
  if (status) {
    for (int k = 0; k < 3; k++) lucy_image_free(imgs[k]);
    return status;
  }
  project(vol, keep, imgs);
  for (int k = 0; k < 3; k++) out[k] = imgs[k];
  return LUCY_OK;
}

LucyStatus lucy_project_max_all(const LucyVolume *vol, LucyImage *out[3]) {
  return project_all(vol, KEEP_MAX, out);
}

LucyStatus lucy_project_extreme_all(const LucyVolume *vol, LucyImage *out[3]) {
  return project_all(vol, KEEP_EXTREME, out);
}

LucyStatus lucy_volume_plane(const LucyVolume *vol, size_t z, LucyImage **out) {
  if (!out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "no output given");
  *out = NULL;
  LucyStatus status = check_volume(vol);
  if (status) return status;
  if (z >= vol->shape[0])
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "plane %zu is outside the stack (0 to %zu)", z,
                      vol->shape[0] - 1);
  const size_t ny = vol->shape[1], nx = vol->shape[2];
  LucyImage *img;
  status = image_new(ny, nx, &img);
  if (status) return status;
  memcpy(img->data, vol->data + z * ny * nx, ny * nx * sizeof(float));
  *out = img;
  return LUCY_OK;
}
