/* Volumes: float32 stacks in C order z-y-x (x fastest) with a voxel size per axis. */
#ifndef LUCY_VOLUME_H
#define LUCY_VOLUME_H

#include <stddef.h>
#include <stdint.h>
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Axis indices into shape[] and voxel_um[]. */
enum { LUCY_Z = 0, LUCY_Y = 1, LUCY_X = 2 };

typedef struct LucyVolume {
  size_t shape[3];    /* z, y, x; a 2-D image has shape[0] == 1 */
  double voxel_um[3]; /* voxel size in micrometres, z, y, x; 1.0 when unknown */
  float *data;        /* shape[0]*shape[1]*shape[2] floats, owned by the volume */
} LucyVolume;

/* Sample types for conversion into float32. */
typedef enum LucySampleType {
  LUCY_U8, LUCY_I8, LUCY_U16, LUCY_I16, LUCY_U32, LUCY_I32, LUCY_F32, LUCY_F64
} LucySampleType;

typedef struct LucyStats {
  double min, max, mean, sum; /* over finite voxels */
  size_t count;               /* number of voxels */
  size_t nonfinite;           /* NaN and +-Inf voxels, excluded from the above */
} LucyStats;

size_t lucy_shape_count(const size_t shape[3]);
const char *lucy_sample_type_name(LucySampleType type); /* "uint16", "float32", ... */
size_t lucy_sample_type_size(LucySampleType type);

/* A zero-filled volume with voxel size 1 µm. Fails with LUCY_ERR_INVALID_ARGUMENT for a zero
 * extent or a size that overflows, LUCY_ERR_OUT_OF_MEMORY when the allocation fails. */
LucyStatus lucy_volume_new(const size_t shape[3], LucyVolume **out);
void lucy_volume_free(LucyVolume *vol);
LucyStatus lucy_volume_copy(const LucyVolume *src, LucyVolume **out);

/* Converts samples of the given type (C order z-y-x, native byte order) into a new volume. */
LucyStatus lucy_volume_from_data(const void *samples, LucySampleType type,
                                 const size_t shape[3], LucyVolume **out);

/* A new volume of the given shape whose voxel (0,0,0) is src's voxel at origin[] (which may be
 * negative or extend past src: those voxels get fill). Crop and pad in one. Keeps voxel size. */
LucyStatus lucy_volume_crop_pad(const LucyVolume *src, const ptrdiff_t origin[3],
                                const size_t shape[3], float fill, LucyVolume **out);

void lucy_volume_stats(const LucyVolume *vol, LucyStats *stats);
/* ||s*estimate - truth|| / ||truth|| with s the least-squares scale of estimate onto truth
 * (s = <e,t>/<e,e>): how far a restoration is from a known object whose intensity scale
 * differs (photon counts vs a phantom of 1s), sums in double. Fails on different shapes,
 * non-finite voxels, an all-zero truth or estimate (LUCY_ERR_INVALID_ARGUMENT / NUMERIC). */
LucyStatus lucy_volume_scaled_error(const LucyVolume *estimate, const LucyVolume *truth,
                                    double *error);

/* Value at percentile p in [0, 100] of the finite voxels (linear interpolation between order
 * statistics, like numpy.percentile). Returns NaN when there is no finite voxel. */
double lucy_percentile(const float *values, size_t count, double p);

#ifdef __cplusplus
}
#endif
#endif
