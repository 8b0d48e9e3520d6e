/* The memory planner (memory.h). Every figure mirrors an allocation the code makes through the
 * device, in the same order:
 *   convolve.c   fft_plan (CPU: a transient scratch of P while FFTW plans; CUDA: the cuFFT
 *                work area, kept with the cached plan), then the OTF (P) and the work buffer
 *                (P); execute allocates nothing on the CPU; the CUDA device moves host arrays
 *                through its staging buffer (core/src/cuda/).
 *   deconvolve.c fft_plan as above, then OTF, work, the observed image (N floats, not on a
 *                host-memory device), the estimate (RL), W (RL, noncirculant), the TV term
 *                (RL-TV), previous estimate and step (accelerated), each P; a host preview
 *                (N floats) when a monitor wants previews.
 * lucy_convolve / lucy_deconvolve also allocate the result volume on the host. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "device-impl.h"
#include "lucy/memory.h"
#include "memory-private.h"
#include "status-private.h"

static const char *const strategy_names[5] = {"auto", "in-memory", "low-memory", "tiled", "cpu"};

const char *lucy_strategy_name(LucyStrategy s) {
  return (unsigned)s < 5 ? strategy_names[s] : "unknown";
}

LucyStatus lucy_strategy_parse(const char *name, LucyStrategy *s) {
  for (int i = 0; name && i < 5; i++)
    if (strcasecmp(name, strategy_names[i]) == 0) {
      if (s) *s = (LucyStrategy)i;
      return LUCY_OK;
    }
  return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                    "unknown strategy '%s' (accepted: auto, in-memory, low-memory, tiled, cpu)",
                    name ? name : "(null)");
}

void lucy_memory_request_default(LucyMemoryRequest *req) {
  if (!req) return;
  memset(req, 0, sizeof *req);
  req->op = LUCY_MEMORY_CONVOLVE;
  req->mode = LUCY_PAD_SAME;
  req->method = LUCY_DECON_RL;
  req->boundary = LUCY_BOUNDARY_NONCIRCULANT;
  req->device = LUCY_DEVICE_CPU;
  req->strategy = LUCY_STRATEGY_AUTO;
}

size_t lucy_cuda_fft_work_estimate(const size_t shape[3], int *exact) {
  if (exact) *exact = 0;
  if (!shape) return 0;
#ifdef LUCY_HAVE_CUDA
  size_t w = lucy__cuda_fft_estimate(shape);
  if (w) {
    if (exact) *exact = 1;
    return w;
  }
#endif
  /* An upper bound seen for multi-dimensional r2c/c2r plans: one complex array. */
  return lucy__spectrum_count(shape) * 2 * sizeof(float);
}

static void add_item(LucyMemoryPlan *p, const char *name, size_t bytes, int on_device,
                     int transient) {
  if (p->n_items >= LUCY_MEMORY_MAX_ITEMS || bytes == 0) return;
  LucyMemoryItem *it = &p->items[p->n_items++];
  snprintf(it->name, sizeof it->name, "%s", name);
  it->bytes = bytes;
  it->on_device = on_device;
  it->transient = transient;
}

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }
static size_t max_size(size_t a, size_t b) { return a > b ? a : b; }

/* Resident device bytes; the peak is the larger of that and any transient item. */
static void sum_items(LucyMemoryPlan *p) {
  size_t dev = 0, dev_transient = 0, host = 0;
  for (size_t i = 0; i < p->n_items; i++) {
    const LucyMemoryItem *it = &p->items[i];
    if (!it->on_device)
      host += it->bytes;
    else if (it->transient)
      dev_transient = max_size(dev_transient, it->bytes);
    else
      dev += it->bytes;
  }
  p->peak_device_bytes = max_size(dev, dev_transient);
  p->peak_host_bytes = host;
}

LucyStatus lucy__memory_in_memory(const LucyMemoryRequest *r, LucyMemoryPlan *p) {
  const int cuda = r->device == LUCY_DEVICE_CUDA;
  size_t L[3], out[3];
  size_t staging = 0; /* the largest host<->device transfer through the CUDA staging buffer */
  const size_t nimg = lucy_shape_count(r->image_shape), npsf = lucy_shape_count(r->psf_shape);
  LucyStatus st;
  if (r->op == LUCY_MEMORY_CONVOLVE) {
    st = lucy_conv_shapes(r->image_shape, r->psf_shape, r->mode, out, L);
    if (st) return st;
    staging = max_size(max_size(nimg, npsf), lucy_shape_count(out)) * sizeof(float);
  } else if (r->op == LUCY_MEMORY_DECONVOLVE) {
    if ((unsigned)r->boundary > LUCY_BOUNDARY_CIRCULAR || (unsigned)r->method > LUCY_DECON_WIENER)
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "memory plan: unknown method or boundary");
    for (int a = 0; a < 3; a++) {
      const size_t n = r->image_shape[a], m = r->psf_shape[a];
      if (n == 0 || m == 0)
        return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "memory plan: empty shape");
      if (r->boundary == LUCY_BOUNDARY_CIRCULAR) {
        if (m > n)
          return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                            "the PSF is larger than the circular domain on axis %d (%zu > %zu)",
                            a, m, n);
        L[a] = n;
      } else {
        L[a] = lucy_fft_good_size(n + m - 1);
      }
      out[a] = n;
    }
    staging = max_size(nimg, npsf) * sizeof(float);
  } else {
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "memory plan: unknown operation %d", (int)r->op);
  }
  memcpy(p->padded_shape, L, sizeof L);
  memcpy(p->out_shape, out, sizeof out);
  const size_t P = lucy__padded_count(L) * sizeof(float);
  p->padded_bytes = P;

  if (cuda)
    add_item(p, "FFT work area", lucy_cuda_fft_work_estimate(L, NULL), 1, 0);
  else
    add_item(p, "FFT planning scratch", P, 1, 1);
  add_item(p, "OTF", P, 1, 0);
  add_item(p, "work buffer", P, 1, 0);
  if (r->op == LUCY_MEMORY_DECONVOLVE) {
    const int rl = r->method != LUCY_DECON_WIENER;
    if (cuda) add_item(p, "observed image", nimg * sizeof(float), 1, 0);
    if (rl) add_item(p, "estimate", P, 1, 0);
    if (rl && r->boundary == LUCY_BOUNDARY_NONCIRCULANT) add_item(p, "weights H^T(mask)", P, 1, 0);
    if (r->method == LUCY_DECON_RLTV) add_item(p, "TV term", P, 1, 0);
    if (rl && r->accelerate) {
      add_item(p, "previous estimate", P, 1, 0);
      add_item(p, "previous step", P, 1, 0);
    }
    if (rl && r->preview) add_item(p, "preview (host)", nimg * sizeof(float), 0, 0);
  }
  if (cuda) add_item(p, "staging", min_size(staging, LUCY_CUDA_STAGING_MAX), 1, 0);
  if (cuda) add_item(p, "reduction scratch", LUCY_CUDA_SCRATCH_BYTES, 1, 0);
  return LUCY_OK;
}

void lucy__tiling_make(LucyMemoryOp op, const size_t image_shape[3], const size_t psf_shape[3],
                       const size_t out_shape[3], size_t ty, size_t tx, LucyTiling *t) {
  memset(t, 0, sizeof *t);
  const size_t want[3] = {out_shape[0], ty, tx};
  for (int a = 0; a < 3; a++) {
    const size_t m = psf_shape[a];
    if (op == LUCY_MEMORY_CONVOLVE) {
      const size_t n = out_shape[a];
      t->tile[a] = want[a] < 1 ? 1 : want[a] > n ? n : want[a];
      t->block[a] = t->tile[a] + m - 1;
      t->halo[a] = m - 1;
    } else {
      const size_t n = image_shape[a];
      t->tile[a] = a == 0 ? n : (want[a] < 1 ? 1 : want[a] > n ? n : want[a]);
      t->halo[a] = a == 0 ? 0 : m;
      t->block[a] = min_size(n, t->tile[a] + 2 * t->halo[a]);
    }
    const size_t n = op == LUCY_MEMORY_CONVOLVE ? out_shape[a] : image_shape[a];
    t->count[a] = (n + t->tile[a] - 1) / t->tile[a];
  }
}

/* The tiled plan for output/core tiles (ty, tx): one in-memory plan of the block shape (a
 * `valid` convolution, or the deconvolution itself), plus the host blocks. */
static LucyStatus tiled_plan(const LucyMemoryRequest *r, const size_t out[3], size_t ty,
                             size_t tx, LucyMemoryPlan *p) {
  LucyTiling t;
  lucy__tiling_make(r->op, r->image_shape, r->psf_shape, out, ty, tx, &t);
  LucyMemoryRequest sub = *r;
  memcpy(sub.image_shape, t.block, sizeof t.block);
  if (r->op == LUCY_MEMORY_CONVOLVE) sub.mode = LUCY_PAD_VALID;
  memset(p, 0, sizeof *p);
  LucyStatus st = lucy__memory_in_memory(&sub, p);
  if (st) return st;
  memcpy(p->out_shape, out, 3 * sizeof(size_t));
  memcpy(p->tile_shape, t.tile, sizeof t.tile);
  memcpy(p->tile_input_shape, t.block, sizeof t.block);
  memcpy(p->tiles, t.count, sizeof t.count);
  memcpy(p->halo, t.halo, sizeof t.halo);
  const size_t nblock = lucy_shape_count(t.block), nout = lucy_shape_count(out);
  add_item(p, "input block (host)", nblock * sizeof(float), 0, 0);
  if (r->op == LUCY_MEMORY_CONVOLVE) {
    add_item(p, "tile result (host)", lucy_shape_count(t.tile) * sizeof(float), 0, 0);
  } else {
    add_item(p, "block result (host)", nblock * sizeof(float), 0, 0);
    add_item(p, "blend weights (host)", nout * sizeof(float), 0, 0);
  }
  add_item(p, "result volume (host)", nout * sizeof(float), 0, 0);
  p->strategy = LUCY_STRATEGY_TILED;
  p->device = r->device;
  sum_items(p);
  return LUCY_OK;
}

/* The largest tiles whose plan fits the budget: shrink the longer tile axis by ~20% a step. */
static LucyStatus choose_tiles(const LucyMemoryRequest *r, const size_t out[3], size_t budget,
                               LucyMemoryPlan *p) {
  size_t ty = r->tile[0] ? r->tile[0] : (r->op == LUCY_MEMORY_CONVOLVE ? out[1] : r->image_shape[1]);
  size_t tx = r->tile[1] ? r->tile[1] : (r->op == LUCY_MEMORY_CONVOLVE ? out[2] : r->image_shape[2]);
  LucyStatus st = tiled_plan(r, out, ty, tx, p);
  if (st || (r->tile[0] && r->tile[1]) || budget == 0) return st;
  while (p->peak_device_bytes > budget && (ty > 1 || tx > 1)) {
    if (ty >= tx && ty > 1)
      ty = ty - (ty + 4) / 5;
    else
      tx = tx - (tx + 4) / 5;
    if ((st = tiled_plan(r, out, ty, tx, p))) return st;
  }
  return LUCY_OK;
}

LucyStatus lucy_memory_plan(const LucyMemoryRequest *r, LucyMemoryPlan *out) {
  if (!r || !out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_memory_plan: NULL argument");
  memset(out, 0, sizeof *out);
  if ((unsigned)r->strategy > LUCY_STRATEGY_CPU)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "memory plan: unknown strategy %d",
                      (int)r->strategy);
  LucyMemoryRequest req = *r;
  if (req.strategy == LUCY_STRATEGY_CPU) req.device = LUCY_DEVICE_CPU;

  LucyMemoryPlan mem;
  memset(&mem, 0, sizeof mem);
  LucyStatus st = lucy__memory_in_memory(&req, &mem);
  if (st) return st;
  mem.device = req.device;
  add_item(&mem, "result volume (host)", lucy_shape_count(mem.out_shape) * sizeof(float), 0, 0);
  sum_items(&mem);
  memcpy(mem.tile_shape, mem.out_shape, sizeof mem.out_shape);
  memcpy(mem.tile_input_shape, r->image_shape, sizeof mem.tile_input_shape);
  mem.tiles[0] = mem.tiles[1] = mem.tiles[2] = 1;
  const size_t budget = r->free_bytes;
  const size_t need_in_memory = mem.peak_device_bytes;

  LucyMemoryPlan chosen = mem;
  switch (req.strategy) {
  case LUCY_STRATEGY_IN_MEMORY:
  case LUCY_STRATEGY_LOW_MEMORY:
  case LUCY_STRATEGY_CPU:
    chosen.strategy = req.strategy == LUCY_STRATEGY_CPU ? LUCY_STRATEGY_CPU : req.strategy;
    snprintf(chosen.note, sizeof chosen.note, "%s as asked", lucy_strategy_name(req.strategy));
    break;
  case LUCY_STRATEGY_TILED:
    if ((st = choose_tiles(&req, mem.out_shape, budget, &chosen))) return st;
    snprintf(chosen.note, sizeof chosen.note, "tiled as asked: %zux%zu tiles of %zux%zu",
             chosen.tiles[1], chosen.tiles[2], chosen.tile_shape[1], chosen.tile_shape[2]);
    break;
  default: /* AUTO */
    if (budget == 0 || need_in_memory <= budget) {
      chosen.strategy = LUCY_STRATEGY_IN_MEMORY;
      snprintf(chosen.note, sizeof chosen.note, "in-memory fits (%zu of %zu bytes)",
               need_in_memory, budget);
      if (budget == 0) snprintf(chosen.note, sizeof chosen.note, "in-memory (no budget given)");
    } else {
      if ((st = choose_tiles(&req, mem.out_shape, budget, &chosen))) return st;
      if (chosen.peak_device_bytes <= budget) {
        snprintf(chosen.note, sizeof chosen.note,
                 "in-memory needs %zu bytes but %zu are free: %zux%zu tiles of %zux%zu",
                 need_in_memory, budget, chosen.tiles[1], chosen.tiles[2], chosen.tile_shape[1],
                 chosen.tile_shape[2]);
      } else if (req.device == LUCY_DEVICE_CUDA) {
        LucyMemoryRequest cpu = req;
        cpu.device = LUCY_DEVICE_CPU;
        memset(&chosen, 0, sizeof chosen);
        if ((st = lucy__memory_in_memory(&cpu, &chosen))) return st;
        add_item(&chosen, "result volume (host)",
                 lucy_shape_count(chosen.out_shape) * sizeof(float), 0, 0);
        chosen.device = LUCY_DEVICE_CPU;
        chosen.strategy = LUCY_STRATEGY_CPU;
        sum_items(&chosen);
        /* On the CPU device every byte is host memory: the GPU budget does not apply. */
        chosen.peak_host_bytes += chosen.peak_device_bytes;
        chosen.peak_device_bytes = 0;
        memcpy(chosen.tile_shape, chosen.out_shape, sizeof chosen.out_shape);
        memcpy(chosen.tile_input_shape, r->image_shape, sizeof chosen.tile_input_shape);
        chosen.tiles[0] = chosen.tiles[1] = chosen.tiles[2] = 1;
        snprintf(chosen.note, sizeof chosen.note,
                 "nothing fits %zu free bytes on the GPU (in-memory needs %zu): CPU fallback",
                 budget, need_in_memory);
      }
    }
    break;
  }
  chosen.free_bytes = budget;
  chosen.in_memory_device_bytes = need_in_memory;
  chosen.fits = budget == 0 || chosen.peak_device_bytes <= budget;
  *out = chosen;
  if (!chosen.fits) {
    /* What would work: tiles, if any fit; say so with the numbers. */
    LucyMemoryPlan t;
    char would[160] = "no strategy fits this budget";
    if (req.strategy != LUCY_STRATEGY_TILED && choose_tiles(&req, mem.out_shape, budget, &t) == LUCY_OK &&
        t.peak_device_bytes <= budget)
      snprintf(would, sizeof would, "the tiled strategy would fit (%zux%zu tiles of %zux%zu, %zu bytes)",
               t.tiles[1], t.tiles[2], t.tile_shape[1], t.tile_shape[2], t.peak_device_bytes);
    else if (req.device == LUCY_DEVICE_CUDA)
      snprintf(would, sizeof would, "the cpu strategy would run it in host memory");
    snprintf(out->note, sizeof out->note, "%s needs %zu bytes of device memory, %zu free; %s",
             lucy_strategy_name(chosen.strategy), chosen.peak_device_bytes, budget, would);
    return lucy__fail(LUCY_ERR_DEVICE_MEMORY, "%s", out->note);
  }
  return LUCY_OK;
}
