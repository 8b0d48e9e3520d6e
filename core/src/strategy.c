/* Memory strategies for the one-shot lucy_convolve / lucy_deconvolve (memory.h): the choice
 * from the planner's prediction and the device's free memory (or the caller's budget), and the
 * tiled execution, written once on top of the public plans (so on every device).
 *
 * Tiled convolution: the output is cut into x/y tiles of one size (edge tiles shift inward so
 * every tile has it and one plan serves them all). Per axis, with off the output offset of the
 * mode (same 0, full -o, valid M-1-o, circular 0) and o the PSF origin,
 *   out[j] = sum_k psf[k] img[j + off + o - k],
 * so the tile [a, a+T) reads the input block starting at s = a + off + o - (M-1), T + M - 1
 * long (zero outside the image, or wrapped for circular), and equals the `valid` convolution of
 * that block with the PSF. Only the FFT size differs from the untiled run: the results agree
 * to float rounding.
 *
 * In memory and low memory run one whole plan (lucy__*_direct) with that strategy; the CPU
 * fallback runs in memory on a new CPU device.
 *
 * Tiled deconvolution: core tiles with a halo of M voxels on each side (clipped to the image),
 * each restored on its own with the same options, and blended with weights that ramp down
 * across the halos. Not identical to the untiled result (each tile has its own edges): tests
 * report the difference. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "device-impl.h"
#include "lucy/memory.h"
#include "memory-private.h"
#include "otf.h"
#include "status-private.h"


static LucyStatus get_device(LucyDevice *given, int threads, LucyPlanning planning,
                             LucyDevice **out) {
  if (given) {
    *out = lucy_device_ref(given);
    return LUCY_OK;
  }
  LucyDeviceOptions d;
  lucy_device_options_default(&d);
  d.threads = threads;
  d.planning = planning;
  return lucy_device_new(&d, out);
}

/* The plan for this request on dev: the budget is the caller's limit, or (for auto) the
 * device's free memory. */
static LucyStatus choose(LucyDevice *dev, LucyMemoryRequest *req, size_t limit,
                         LucyMemoryPlan *mp) {
  req->device = lucy_device_kind(dev);
  req->free_bytes = limit;
  if (!limit && req->strategy == LUCY_STRATEGY_AUTO) {
    LucyMemoryInfo info;
    if (lucy_device_memory_info(dev, &info) == LUCY_OK) req->free_bytes = info.free_bytes;
  }
  return lucy_memory_plan(req, mp);
}

static int cancelled(LucyProgressFn fn, void *user, double f, const char *stage) {
  return fn && fn(user, f, stage);
}

/* dst (block shape B) = the image at [s, s+B), zero outside it, or wrapped when periodic. */
static void gather(float *dst, const size_t B[3], const float *src, const size_t N[3],
                   const ptrdiff_t s[3], int periodic) {
  for (size_t z = 0; z < B[0]; z++) {
    ptrdiff_t iz = s[0] + (ptrdiff_t)z;
    if (periodic) iz = ((iz % (ptrdiff_t)N[0]) + (ptrdiff_t)N[0]) % (ptrdiff_t)N[0];
    for (size_t y = 0; y < B[1]; y++) {
      ptrdiff_t iy = s[1] + (ptrdiff_t)y;
      if (periodic) iy = ((iy % (ptrdiff_t)N[1]) + (ptrdiff_t)N[1]) % (ptrdiff_t)N[1];
      float *d = dst + (z * B[1] + y) * B[2];
      if (iz < 0 || iz >= (ptrdiff_t)N[0] || iy < 0 || iy >= (ptrdiff_t)N[1]) {
        memset(d, 0, B[2] * sizeof(float));
        continue;
      }
      const float *row = src + ((size_t)iz * N[1] + (size_t)iy) * N[2];
      for (size_t x = 0; x < B[2]; x++) {
        ptrdiff_t ix = s[2] + (ptrdiff_t)x;
        if (periodic) ix = ((ix % (ptrdiff_t)N[2]) + (ptrdiff_t)N[2]) % (ptrdiff_t)N[2];
        d[x] = ix < 0 || ix >= (ptrdiff_t)N[2] ? 0.0f : row[ix];
      }
    }
  }
}

static LucyStatus convolve_tiled(const LucyVolume *image, const LucyVolume *psf,
                                 const LucyConvOptions *o, LucyDevice *dev,
                                 const LucyMemoryPlan *mp, LucyVolume **out) {
  const size_t *N = image->shape, *M = psf->shape, *O = mp->out_shape;
  LucyTiling t;
  lucy__tiling_make(LUCY_MEMORY_CONVOLVE, N, M, O, mp->tile_shape[1], mp->tile_shape[2], &t);
  ptrdiff_t off[3];
  for (int a = 0; a < 3; a++) {
    const ptrdiff_t org = (ptrdiff_t)lucy__psf_origin(M[a], o->origin);
    off[a] = o->mode == LUCY_PAD_FULL ? -org
             : o->mode == LUCY_PAD_VALID ? (ptrdiff_t)M[a] - 1 - org : 0;
    off[a] += org - ((ptrdiff_t)M[a] - 1); /* block start relative to the tile start */
  }
  LucyConvOptions so = *o;
  so.mode = LUCY_PAD_VALID;
  so.device = dev;
  so.progress = NULL;
  so.strategy = LUCY_STRATEGY_IN_MEMORY;
  so.memory_limit_bytes = 0; /* the tiles were sized to the budget */
  LucyConvPlan *plan = NULL;
  LucyVolume *result = NULL;
  float *block = NULL, *tile = NULL;
  LucyStatus st = lucy_conv_plan_new(t.block, psf, &so, &plan);
  if (!st) st = lucy_volume_new(O, &result);
  if (!st) {
    block = malloc(lucy_shape_count(t.block) * sizeof(float));
    tile = malloc(lucy_shape_count(t.tile) * sizeof(float));
    if (!block || !tile)
      st = lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "cannot allocate the tile buffers (%zu + %zu floats)",
                      lucy_shape_count(t.block), lucy_shape_count(t.tile));
  }
  const size_t ntiles = t.count[1] * t.count[2];
  for (size_t k = 0; !st && k < ntiles; k++) {
    const size_t iy = k / t.count[2], ix = k % t.count[2];
    size_t a[3] = {0, iy * t.tile[1], ix * t.tile[2]};
    for (int d = 1; d < 3; d++)
      if (a[d] + t.tile[d] > O[d]) a[d] = O[d] - t.tile[d];
    ptrdiff_t s[3];
    for (int d = 0; d < 3; d++) s[d] = (ptrdiff_t)a[d] + off[d];
    if (cancelled(o->progress, o->progress_user, (double)k / (double)ntiles, "tile")) {
      st = lucy__fail(LUCY_ERR_CANCELLED, "convolution cancelled before tile %zu of %zu", k + 1,
                      ntiles);
      break;
    }
    gather(block, t.block, image->data, N, s, o->mode == LUCY_PAD_CIRCULAR);
    st = lucy_conv_execute(plan, block, tile);
    if (st) {
      lucy__fail_context(st, "tile %zu of %zu: ", k + 1, ntiles);
      break;
    }
    for (size_t z = 0; z < t.tile[0]; z++)
      for (size_t y = 0; y < t.tile[1]; y++)
        memcpy(result->data + ((a[0] + z) * O[1] + a[1] + y) * O[2] + a[2],
               tile + (z * t.tile[1] + y) * t.tile[2], t.tile[2] * sizeof(float));
  }
  free(block);
  free(tile);
  lucy_conv_plan_free(plan);
  if (st) {
    lucy_volume_free(result);
    return st;
  }
  if (o->progress) (void)o->progress(o->progress_user, 1.0, "done");
  memcpy(result->voxel_um, image->voxel_um, sizeof result->voxel_um);
  *out = result;
  return LUCY_OK;
}

/* The blending weight of block position p (block [b, b+B) of an axis of size n, halo h): 1 in
 * the middle, ramping down to 1/(h+1) over the halo on sides that are not the image's edge. */
static float ramp(size_t p, size_t b, size_t B, size_t n, size_t h) {
  float w = 1.0f;
  if (h == 0) return w;
  if (b > 0 && p < h) w = fminf(w, (float)(p + 1) / (float)(h + 1));
  if (b + B < n && B - 1 - p < h) w = fminf(w, (float)(B - p) / (float)(h + 1));
  return w;
}

static LucyStatus deconvolve_tiled(const LucyVolume *image, const LucyVolume *psf,
                                   const LucyDeconOptions *o, LucyDevice *dev,
                                   const LucyMemoryPlan *mp, LucyVolume **out, int *done) {
  const size_t *N = image->shape;
  LucyTiling t;
  lucy__tiling_make(LUCY_MEMORY_DECONVOLVE, N, psf->shape, N, mp->tile_shape[1], mp->tile_shape[2],
                    &t);
  LucyDeconOptions so = *o;
  so.device = dev;
  so.progress = NULL;
  so.monitor = NULL;
  so.preview_every = 0;
  so.strategy = LUCY_STRATEGY_IN_MEMORY;
  so.memory_limit_bytes = 0; /* the tiles were sized to the budget */
  LucyDeconPlan *plan = NULL;
  LucyVolume *result = NULL;
  float *block = NULL, *restored = NULL, *wsum = NULL;
  const size_t nblock = lucy_shape_count(t.block), nimg = lucy_shape_count(N);
  LucyStatus st = lucy_decon_plan_new(t.block, image->voxel_um, psf, &so, &plan);
  if (!st) st = lucy_volume_new(N, &result);
  if (!st) {
    block = malloc(nblock * sizeof(float));
    restored = malloc(nblock * sizeof(float));
    wsum = calloc(nimg, sizeof(float));
    if (!block || !restored || !wsum)
      st = lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "cannot allocate the tile buffers (%zu floats)",
                      2 * nblock + nimg);
  }
  if (!st) memset(result->data, 0, nimg * sizeof(float));
  const size_t ntiles = t.count[1] * t.count[2];
  int iters = 0;
  for (size_t k = 0; !st && k < ntiles; k++) {
    const size_t iy = k / t.count[2], ix = k % t.count[2];
    size_t c[3] = {0, iy * t.tile[1], ix * t.tile[2]}, b[3];
    ptrdiff_t s[3];
    for (int d = 0; d < 3; d++) {
      if (c[d] + t.tile[d] > N[d]) c[d] = N[d] - t.tile[d];
      b[d] = c[d] > t.halo[d] ? c[d] - t.halo[d] : 0;
      if (b[d] + t.block[d] > N[d]) b[d] = N[d] - t.block[d];
      s[d] = (ptrdiff_t)b[d];
    }
    if (cancelled(o->progress, o->progress_user, (double)k / (double)ntiles, "tile")) {
      st = lucy__fail(LUCY_ERR_CANCELLED, "deconvolution cancelled before tile %zu of %zu",
                      k + 1, ntiles);
      break;
    }
    gather(block, t.block, image->data, N, s, 0);
    st = lucy_decon_execute(plan, block, restored, &iters);
    if (st == LUCY_ERR_NUMERIC) {
      /* A tile with no light (all <= 0) restores to zero; anything else is an error. */
      double hi = -INFINITY;
      for (size_t i = 0; i < nblock; i++) hi = fmax(hi, block[i]);
      if (!(hi > 0.0) && isfinite(hi)) {
        memset(restored, 0, nblock * sizeof(float));
        st = LUCY_OK;
      }
    }
    if (st) {
      lucy__fail_context(st, "tile %zu of %zu: ", k + 1, ntiles);
      break;
    }
    for (size_t z = 0; z < t.block[0]; z++)
      for (size_t y = 0; y < t.block[1]; y++) {
        const float wy = ramp(y, b[1], t.block[1], N[1], t.halo[1]);
        const size_t row = ((b[0] + z) * N[1] + b[1] + y) * N[2] + b[2];
        const float *r = restored + (z * t.block[1] + y) * t.block[2];
        for (size_t x = 0; x < t.block[2]; x++) {
          const float w = wy * ramp(x, b[2], t.block[2], N[2], t.halo[2]);
          result->data[row + x] += w * r[x];
          wsum[row + x] += w;
        }
      }
  }
  if (!st)
    for (size_t i = 0; i < nimg; i++) result->data[i] = wsum[i] > 0 ? result->data[i] / wsum[i] : 0;
  free(block);
  free(restored);
  free(wsum);
  lucy_decon_plan_free(plan);
  if (st) {
    lucy_volume_free(result);
    return st;
  }
  if (o->progress) (void)o->progress(o->progress_user, 1.0, "done");
  memcpy(result->voxel_um, image->voxel_um, sizeof result->voxel_um);
  if (done) *done = iters;
  *out = result;
  return LUCY_OK;
}

LucyStatus lucy__convolve_strategy(const LucyVolume *image, const LucyVolume *psf,
                                   const LucyConvOptions *opts, LucyVolume **out) {
  LucyConvOptions o;
  if (opts)
    o = *opts;
  else
    lucy_conv_options_default(&o);
  if ((o.strategy == LUCY_STRATEGY_IN_MEMORY || o.strategy == LUCY_STRATEGY_LOW_MEMORY) &&
      o.memory_limit_bytes == 0)
    return lucy__convolve_direct(image, psf, &o, out);
  LucyDevice *dev = NULL;
  LucyStatus st = get_device(o.device, o.threads, o.planning, &dev);
  if (st) return st;
  LucyMemoryRequest req;
  lucy__memory_request_for(LUCY_MEMORY_CONVOLVE, image->shape, psf->shape, &req);
  req.mode = o.mode;
  req.strategy = o.strategy;
  req.tile[0] = o.tile[0];
  req.tile[1] = o.tile[1];
  LucyMemoryPlan mp;
  st = choose(dev, &req, o.memory_limit_bytes, &mp);
  if (st && st != LUCY_ERR_DEVICE_MEMORY) {
    /* Invalid shapes: let planning say so in its own words. */
    o.device = dev;
    st = lucy__convolve_direct(image, psf, &o, out);
  } else if (st) {
    lucy__fail_context(st, "convolution: ");
  } else if (mp.strategy == LUCY_STRATEGY_TILED) {
    st = convolve_tiled(image, psf, &o, dev, &mp, out);
  } else if (mp.strategy == LUCY_STRATEGY_CPU && lucy_device_kind(dev) != LUCY_DEVICE_CPU) {
    o.device = NULL;
    o.strategy = LUCY_STRATEGY_IN_MEMORY; /* the fallback the planner predicted */
    o.memory_limit_bytes = 0;             /* the budget was the GPU's, not the host's */
    st = lucy__convolve_direct(image, psf, &o, out);
  } else {
    o.device = dev;
    o.strategy = mp.strategy == LUCY_STRATEGY_LOW_MEMORY ? LUCY_STRATEGY_LOW_MEMORY
                                                          : LUCY_STRATEGY_IN_MEMORY;
    st = lucy__convolve_direct(image, psf, &o, out);
  }
  lucy_device_unref(dev);
  return st;
}

LucyStatus lucy__deconvolve_strategy(const LucyVolume *image, const LucyVolume *psf,
                                     const LucyDeconOptions *opts, LucyVolume **out,
                                     int *iterations_done) {
  LucyDeconOptions o;
  if (opts)
    o = *opts;
  else
    lucy_decon_options_default(&o);
  if ((o.strategy == LUCY_STRATEGY_IN_MEMORY || o.strategy == LUCY_STRATEGY_LOW_MEMORY) &&
      o.memory_limit_bytes == 0)
    return lucy__deconvolve_direct(image, psf, &o, out, iterations_done);
  LucyDevice *dev = NULL;
  LucyStatus st = get_device(o.device, o.threads, o.planning, &dev);
  if (st) return st;
  LucyMemoryRequest req;
  lucy__memory_request_for(LUCY_MEMORY_DECONVOLVE, image->shape, psf->shape, &req);
  req.method = o.method;
  req.boundary = o.boundary;
  req.accelerate = o.accelerate;
  req.preview = o.monitor != NULL && o.preview_every > 0;
  req.strategy = o.strategy;
  req.tile[0] = o.tile[0];
  req.tile[1] = o.tile[1];
  LucyMemoryPlan mp;
  st = choose(dev, &req, o.memory_limit_bytes, &mp);
  if (st && st != LUCY_ERR_DEVICE_MEMORY) {
    o.device = dev;
    st = lucy__deconvolve_direct(image, psf, &o, out, iterations_done);
  } else if (st) {
    lucy__fail_context(st, "deconvolution: ");
  } else if (mp.strategy == LUCY_STRATEGY_TILED) {
    st = deconvolve_tiled(image, psf, &o, dev, &mp, out, iterations_done);
  } else if (mp.strategy == LUCY_STRATEGY_CPU && lucy_device_kind(dev) != LUCY_DEVICE_CPU) {
    o.device = NULL;
    o.strategy = LUCY_STRATEGY_IN_MEMORY; /* the fallback the planner predicted */
    o.memory_limit_bytes = 0;             /* the budget was the GPU's, not the host's */
    st = lucy__deconvolve_direct(image, psf, &o, out, iterations_done);
  } else {
    o.device = dev;
    o.strategy = mp.strategy == LUCY_STRATEGY_LOW_MEMORY ? LUCY_STRATEGY_LOW_MEMORY
                                                          : LUCY_STRATEGY_IN_MEMORY;
    st = lucy__deconvolve_direct(image, psf, &o, out, iterations_done);
  }
  lucy_device_unref(dev);
  return st;
}
