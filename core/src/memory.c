/* The memory planner (memory.h). Every figure mirrors an allocation the code makes through the
 * device, in the same order:
 *   convolve.c   fft_plan (CPU: a transient scratch of P while FFTW plans; CUDA: the cuFFT
 *                work area, kept with the cached plan), then the OTF (otf.c: P in memory; for
 *                low-memory the plane FFT's scratch or work area, the PSF planes and the
 *                twiddles, as lucy__otf_layout says) and the work buffer (P); execute
 *                allocates nothing on the CPU; the CUDA device moves host arrays through its
 *                staging buffer (core/src/cuda/).
 *   deconvolve.c fft_plan and the OTF as above, then work, the observed image (N floats, not on
 *                a host-memory device), the estimate (RL), W (RL, noncirculant: P in memory;
 *                low-memory the PSF's prefix sums, (M0+1)(M1+1)(M2+1) doubles, made in a host
 *                array of that size first), the TV term (RL-TV), previous estimate and step
 *                (accelerated), each P; a host preview (N floats) when a monitor wants
 *                previews.
 * lucy_convolve / lucy_deconvolve also allocate the result volume on the host. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "device-impl.h"
#include "fft-size.h"
#include "lucy/memory.h"
#include "memory-private.h"
#include "otf.h"
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

void lucy__memory_request_for(LucyMemoryOp op, const size_t image_shape[3],
                              const size_t psf_shape[3], LucyMemoryRequest *req) {
  lucy_memory_request_default(req);
  req->op = op;
  memcpy(req->image_shape, image_shape, sizeof req->image_shape);
  memcpy(req->psf_shape, psf_shape, sizeof req->psf_shape);
}

size_t lucy_cuda_fft_work_estimate(const size_t shape[3], int *exact) {
  if (exact) *exact = 0;
  if (!shape) return 0;
#ifdef LUCY_HAVE_CUDA
  size_t w = 0;
  if (lucy__cuda_fft_estimate(shape, &w)) { /* the module made the plans and asked cuFFT */
    if (exact) *exact = 1;
    return w;
  }
#endif
  /* Without a driver cuFFT cannot estimate (device-cuda.c): the bound seen for multi-
   * dimensional r2c/c2r plans of 2,3,5,7-smooth sizes, one complex array at the shape. */
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

/* Resident bytes per side; the peak is the larger of that and any transient item (transients
 * are made and freed before the resident buffers: FFT planning scratch, the host copy of the
 * prefix sums). */
static void sum_items(LucyMemoryPlan *p) {
  size_t dev = 0, dev_transient = 0, host = 0, host_transient = 0;
  for (size_t i = 0; i < p->n_items; i++) {
    const LucyMemoryItem *it = &p->items[i];
    if (!it->on_device && it->transient)
      host_transient = max_size(host_transient, it->bytes);
    else if (!it->on_device)
      host += it->bytes;
    else if (it->transient)
      dev_transient = max_size(dev_transient, it->bytes);
    else
      dev += it->bytes;
  }
  p->peak_device_bytes = max_size(dev, dev_transient);
  p->peak_host_bytes = max_size(host, host_transient);
}

/* The FFT plan of `shape`: CPU planning scratch (transient) or the cuFFT work area. */
static void add_fft(LucyMemoryPlan *p, const size_t shape[3], int cuda, const char *what) {
  char name[48];
  if (cuda) {
    snprintf(name, sizeof name, "FFT work area%s", what);
    add_item(p, name, lucy_cuda_fft_work_estimate(shape, NULL), 1, 0);
  } else {
    snprintf(name, sizeof name, "FFT planning scratch%s", what);
    add_item(p, name, lucy__padded_count(shape) * sizeof(float), 1, 1);
  }
}

LucyStatus lucy__memory_direct(const LucyMemoryRequest *r, int low, LucyMemoryPlan *p) {
  const int cuda = r->device == LUCY_DEVICE_CUDA;
  size_t L[3], out[3];
  size_t staging = 0; /* the largest host<->device transfer through the CUDA staging buffer */
  size_t staging_row = 0; /* ... and its largest row */
  const size_t nimg = lucy_shape_count(r->image_shape), npsf = lucy_shape_count(r->psf_shape);
  LucyStatus st;
  if (r->op == LUCY_MEMORY_CONVOLVE) {
    st = lucy_conv_shapes(r->image_shape, r->psf_shape, r->mode, out, L);
    if (st) return st;
    staging = max_size(max_size(nimg, npsf), lucy_shape_count(out)) * sizeof(float);
    staging_row = max_size(max_size(r->image_shape[2], r->psf_shape[2]), out[2]) * sizeof(float);
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
    if (r->boundary != LUCY_BOUNDARY_CIRCULAR) lucy__fft_domain_even_x(L);
    staging = max_size(nimg, npsf) * sizeof(float);
    staging_row = max_size(r->image_shape[2], r->psf_shape[2]) * sizeof(float);
  } else {
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "memory plan: unknown operation %d", (int)r->op);
  }
  memcpy(p->padded_shape, L, sizeof L);
  memcpy(p->out_shape, out, sizeof out);
  const size_t P = lucy__padded_count(L) * sizeof(float);
  p->padded_bytes = P;

  add_fft(p, L, cuda, "");
  LucyOtfLayout otf;
  lucy__otf_layout(L, r->psf_shape, low, &otf);
  if (otf.zpartial) {
    char name[48];
    add_fft(p, otf.plane_shape, cuda, " (PSF planes)");
    snprintf(name, sizeof name, "OTF (%zu of %zu z-planes)", otf.mz, L[0]);
    add_item(p, name, otf.bytes[0], 1, 0);
    add_item(p, "OTF twiddles", otf.bytes[1], 1, 0);
    add_item(p, "OTF twiddles (host, planning)", otf.bytes[1], 0, 1);
  } else {
    add_item(p, "OTF", otf.bytes[0], 1, 0);
  }
  add_item(p, "work buffer", P, 1, 0);
  if (r->op == LUCY_MEMORY_DECONVOLVE) {
    const int rl = r->method != LUCY_DECON_WIENER;
    if (cuda) add_item(p, "observed image", nimg * sizeof(float), 1, 0);
    if (rl) add_item(p, "estimate", P, 1, 0);
    if (rl && r->boundary == LUCY_BOUNDARY_NONCIRCULANT && !low)
      add_item(p, "weights H^T(mask)", P, 1, 0);
    if (rl && r->boundary == LUCY_BOUNDARY_NONCIRCULANT && low) {
      const size_t sat = (r->psf_shape[0] + 1) * (r->psf_shape[1] + 1) * (r->psf_shape[2] + 1) *
                         sizeof(double);
      add_item(p, "weights: PSF prefix sums", sat, 1, 0);
      add_item(p, "prefix sums (host, planning)", sat, 0, 1);
    }
    if (r->method == LUCY_DECON_RLTV) add_item(p, "TV term", P, 1, 0);
    if (rl && r->accelerate) {
      add_item(p, "previous estimate", P, 1, 0);
      add_item(p, "previous step", P, 1, 0);
    }
    if (rl && r->preview) add_item(p, "preview (host)", nimg * sizeof(float), 0, 0);
  }
  if (cuda) /* device-cuda.c's staging(): min(largest transfer, the cap), one row at least */
    add_item(p, "staging", max_size(min_size(staging, LUCY_CUDA_STAGING_MAX), staging_row), 1, 0);
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
 * `valid` convolution, or the deconvolution itself), plus the host blocks. whole_fft is the
 * untiled plan's padded shape, for the work ratio. */
static LucyStatus tiled_plan(const LucyMemoryRequest *r, const size_t out[3],
                             const size_t whole_fft[3], size_t ty, size_t tx, LucyMemoryPlan *p) {
  LucyTiling t;
  lucy__tiling_make(r->op, r->image_shape, r->psf_shape, out, ty, tx, &t);
  LucyMemoryRequest sub = *r;
  memcpy(sub.image_shape, t.block, sizeof t.block);
  if (r->op == LUCY_MEMORY_CONVOLVE) sub.mode = LUCY_PAD_VALID;
  memset(p, 0, sizeof *p);
  LucyStatus st = lucy__memory_direct(&sub, 0, p);
  if (st) return st;
  memcpy(p->out_shape, out, 3 * sizeof(size_t));
  memcpy(p->tile_shape, t.tile, sizeof t.tile);
  memcpy(p->tile_input_shape, t.block, sizeof t.block);
  memcpy(p->tiles, t.count, sizeof t.count);
  memcpy(p->halo, t.halo, sizeof t.halo);
  /* Every tile transforms its own padded block (uniform: edge tiles shift inward). */
  p->tiled_work_ratio = (double)lucy_shape_count(t.count) *
                        (double)lucy_shape_count(p->padded_shape) /
                        (double)lucy_shape_count(whole_fft);
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

/* AUTO's limit on tiles' FFT work (memory.h says why these numbers). */
static double auto_work_limit(LucyDeviceKind device) {
  return device == LUCY_DEVICE_CUDA ? LUCY_TILED_WORK_LIMIT_CUDA : LUCY_TILED_WORK_LIMIT_CPU;
}

/* What choose_tiles found. */
typedef struct TileSearch {
  int fits;          /* the plan returned fits the budget */
  int within;        /* ... and its work ratio is within the limit */
  size_t min_budget; /* the least peak among tiles within the limit (0: no tiles are) */
} TileSearch;

/* The next, smaller tile: the longer axis shrinks by ~20%; 0 at 1x1. */
static int shrink_tile(size_t *ty, size_t *tx) {
  if (*ty <= 1 && *tx <= 1) return 0;
  if (*ty >= *tx && *ty > 1)
    *ty -= (*ty + 4) / 5;
  else
    *tx -= (*tx + 4) / 5;
  return 1;
}

/* The largest tiles whose plan fits the budget and whose work ratio is within limit (0: any),
 * shrinking the longer tile axis by ~20% a step; explicit tiles, or no budget, as they are.
 * When none meet both, *p is the largest tiles that fit (else the smallest plan), and the walk
 * went down to 1x1 so s->min_budget is the least budget at which AUTO finds tiles. */
static LucyStatus choose_tiles(const LucyMemoryRequest *r, const LucyMemoryPlan *whole,
                               size_t budget, double limit, LucyMemoryPlan *p, TileSearch *s) {
  const size_t *out = whole->out_shape;
  size_t ty = r->tile[0] ? r->tile[0] : (r->op == LUCY_MEMORY_CONVOLVE ? out[1] : r->image_shape[1]);
  size_t tx = r->tile[1] ? r->tile[1] : (r->op == LUCY_MEMORY_CONVOLVE ? out[2] : r->image_shape[2]);
  const int one = (r->tile[0] && r->tile[1]) || budget == 0;
  memset(s, 0, sizeof *s);
  LucyMemoryPlan step;
  do {
    LucyStatus st = tiled_plan(r, out, whole->padded_shape, ty, tx, &step);
    if (st) return st;
    const int fits = budget == 0 || step.peak_device_bytes <= budget;
    const int within = one || limit <= 0 || step.tiled_work_ratio <= limit;
    if (within && (!s->min_budget || step.peak_device_bytes < s->min_budget))
      s->min_budget = step.peak_device_bytes;
    if ((fits && within) || one || !s->fits) *p = step;
    s->fits |= fits;
    if (fits && within) {
      s->within = 1;
      break;
    }
  } while (!one && shrink_tile(&ty, &tx));
  return LUCY_OK;
}

/* A whole (untiled) plan on req's device, in memory or low-memory, with the host result. */
static LucyStatus whole_plan(const LucyMemoryRequest *req, int low, LucyMemoryPlan *p) {
  memset(p, 0, sizeof *p);
  LucyStatus st = lucy__memory_direct(req, low, p);
  if (st) return st;
  p->device = req->device;
  p->strategy = low ? LUCY_STRATEGY_LOW_MEMORY : LUCY_STRATEGY_IN_MEMORY;
  add_item(p, "result volume (host)", lucy_shape_count(p->out_shape) * sizeof(float), 0, 0);
  sum_items(p);
  memcpy(p->tile_shape, p->out_shape, sizeof p->out_shape);
  memcpy(p->tile_input_shape, req->image_shape, sizeof p->tile_input_shape);
  p->tiles[0] = p->tiles[1] = p->tiles[2] = 1;
  p->tiled_work_ratio = 1.0;
  return LUCY_OK;
}

/* From a CUDA request: in memory on a CPU device, where every byte is host memory and the GPU
 * budget does not apply. */
static LucyStatus cpu_fallback(const LucyMemoryRequest *req, LucyMemoryPlan *p) {
  LucyMemoryRequest cpu = *req;
  cpu.device = LUCY_DEVICE_CPU;
  LucyStatus st = whole_plan(&cpu, 0, p);
  if (st) return st;
  p->strategy = LUCY_STRATEGY_CPU;
  p->peak_host_bytes += p->peak_device_bytes;
  p->peak_device_bytes = 0;
  return LUCY_OK;
}

/* The refusal of tiles over the CPU work limit, with the least budget that runs within it,
 * in t's note. */
static void over_limit_note(LucyMemoryPlan *t, const TileSearch *s, size_t budget,
                            size_t need_low) {
  const int tiles = s->min_budget && s->min_budget < need_low;
  snprintf(t->note, sizeof t->note, "%zu bytes allow only %zux%zu tiles of %zux%zu: %.4gx the "
           "untiled FFT work, over auto's CPU limit of %.0fx; %s from %zu bytes; --strategy "
           "tiled or --tile Y,X forces tiles", budget, t->tiles[1], t->tiles[2],
           t->tile_shape[1], t->tile_shape[2], t->tiled_work_ratio, LUCY_TILED_WORK_LIMIT_CPU,
           tiles ? "tiles within it fit" : "low-memory fits", tiles ? s->min_budget : need_low);
}

/* AUTO when not even low-memory fits: tiles within the device's work limit, else from a GPU
 * the CPU; on the CPU device tiles over the limit are refused (*refused, the reason in the
 * note). */
static LucyStatus auto_tiles(const LucyMemoryRequest *req, const LucyMemoryPlan *mem,
                             size_t need_low, size_t budget, LucyMemoryPlan *p, int *refused) {
  const double limit = auto_work_limit(req->device);
  TileSearch ts;
  LucyStatus st = choose_tiles(req, mem, budget, limit, p, &ts);
  if (st) return st;
  const size_t need_in = mem->peak_device_bytes;
  if (ts.within) {
    snprintf(p->note, sizeof p->note, "in-memory needs %zu bytes, low-memory %zu, but %zu are "
             "free: %zux%zu tiles of %zux%zu (%.4gx the untiled FFT work)", need_in, need_low,
             budget, p->tiles[1], p->tiles[2], p->tile_shape[1], p->tile_shape[2],
             p->tiled_work_ratio);
  } else if (req->device == LUCY_DEVICE_CUDA) {
    const double ratio = p->tiled_work_ratio;
    if ((st = cpu_fallback(req, p))) return st;
    if (ts.fits)
      snprintf(p->note, sizeof p->note, "tiles that fit %zu free bytes on the GPU would do "
               "%.4gx the untiled FFT work (over %.0fx; in-memory needs %zu, low-memory %zu): "
               "CPU fallback", budget, ratio, limit, need_in, need_low);
    else
      snprintf(p->note, sizeof p->note, "nothing fits %zu free bytes on the GPU (in-memory "
               "needs %zu, low-memory %zu): CPU fallback", budget, need_in, need_low);
  } else if (ts.fits) {
    *refused = 1;
    over_limit_note(p, &ts, budget, need_low);
  }
  return LUCY_OK;
}

/* When the chosen plan does not fit: what would, with the numbers (low memory, else tiles
 * with their work ratio, else the CPU). */
static void would_fit(const LucyMemoryRequest *req, const LucyMemoryPlan *mem, size_t need_low,
                      size_t budget, char *would, size_t size) {
  LucyMemoryPlan t;
  TileSearch ts;
  snprintf(would, size, "no strategy fits this budget");
  if (req->strategy != LUCY_STRATEGY_LOW_MEMORY && need_low <= budget)
    snprintf(would, size, "the low-memory strategy would fit (%zu bytes)", need_low);
  else if (req->strategy != LUCY_STRATEGY_TILED &&
           choose_tiles(req, mem, budget, 0, &t, &ts) == LUCY_OK && ts.fits)
    snprintf(would, size, "the tiled strategy would fit (%zux%zu tiles of %zux%zu, %zu bytes, "
             "%.4gx the untiled FFT work)", t.tiles[1], t.tiles[2], t.tile_shape[1],
             t.tile_shape[2], t.peak_device_bytes, t.tiled_work_ratio);
  else if (req->device == LUCY_DEVICE_CUDA)
    snprintf(would, size, "the cpu strategy would run it in host memory");
}

LucyStatus lucy_memory_plan(const LucyMemoryRequest *r, LucyMemoryPlan *out) {
  if (!r || !out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_memory_plan: NULL argument");
  memset(out, 0, sizeof *out);
  if ((unsigned)r->strategy > LUCY_STRATEGY_CPU)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "memory plan: unknown strategy %d",
                      (int)r->strategy);
  LucyMemoryRequest req = *r;
  if (req.strategy == LUCY_STRATEGY_CPU) req.device = LUCY_DEVICE_CPU;

  LucyMemoryPlan mem, low;
  LucyStatus st = whole_plan(&req, 0, &mem);
  if (!st) st = whole_plan(&req, 1, &low);
  if (st) return st;
  const size_t budget = r->free_bytes;
  const size_t need_in_memory = mem.peak_device_bytes, need_low = low.peak_device_bytes;
#define FITS(bytes) (budget == 0 || (bytes) <= budget)

  LucyMemoryPlan chosen = mem;
  TileSearch ts;
  int refused = 0;
  switch (req.strategy) {
  case LUCY_STRATEGY_IN_MEMORY:
  case LUCY_STRATEGY_CPU:
    chosen.strategy = req.strategy;
    snprintf(chosen.note, sizeof chosen.note, "%s as asked", lucy_strategy_name(req.strategy));
    break;
  case LUCY_STRATEGY_LOW_MEMORY:
    chosen = low;
    snprintf(chosen.note, sizeof chosen.note, "low-memory as asked (in-memory would need %zu "
             "bytes)", need_in_memory);
    break;
  case LUCY_STRATEGY_TILED: /* no work limit: whoever forces tiles has chosen the cost */
    if ((st = choose_tiles(&req, &mem, budget, 0, &chosen, &ts))) return st;
    snprintf(chosen.note, sizeof chosen.note, "tiled as asked: %zux%zu tiles of %zux%zu, %.4gx "
             "the untiled FFT work", chosen.tiles[1], chosen.tiles[2], chosen.tile_shape[1],
             chosen.tile_shape[2], chosen.tiled_work_ratio);
    break;
  default: /* AUTO: in memory, else low memory, else tiles, else (from a GPU) the CPU */
    if (budget == 0) {
      snprintf(chosen.note, sizeof chosen.note, "in-memory (no budget given)");
    } else if (FITS(need_in_memory)) {
      snprintf(chosen.note, sizeof chosen.note, "in-memory fits (%zu of %zu bytes)",
               need_in_memory, budget);
    } else if (FITS(need_low)) {
      chosen = low;
      snprintf(chosen.note, sizeof chosen.note,
               "in-memory needs %zu bytes but %zu are free: low-memory fits (%zu bytes)",
               need_in_memory, budget, need_low);
    } else if ((st = auto_tiles(&req, &mem, need_low, budget, &chosen, &refused))) {
      return st;
    }
    break;
  }
  chosen.free_bytes = budget;
  chosen.in_memory_device_bytes = need_in_memory;
  chosen.low_memory_device_bytes = need_low;
  chosen.fits = FITS(chosen.peak_device_bytes) && !refused;
  *out = chosen;
  if (refused) return lucy__fail(LUCY_ERR_DEVICE_MEMORY, "%s", out->note);
  if (!chosen.fits) {
    char would[192];
    would_fit(&req, &mem, need_low, budget, would, sizeof would);
    snprintf(out->note, sizeof out->note, "%s needs %zu bytes of device memory, %zu free; %s",
             lucy_strategy_name(chosen.strategy), chosen.peak_device_bytes, budget, would);
    return lucy__fail(LUCY_ERR_DEVICE_MEMORY, "%s", out->note);
  }
#undef FITS
  return LUCY_OK;
}

LucyStatus lucy__plan_strategy(LucyDevice *dev, const LucyMemoryRequest *req,
                               LucyStrategy strategy, size_t limit, int *low_memory) {
  *low_memory = strategy == LUCY_STRATEGY_LOW_MEMORY;
  if (strategy == LUCY_STRATEGY_LOW_MEMORY || strategy == LUCY_STRATEGY_IN_MEMORY) {
    if (!limit) return LUCY_OK;
    /* a forced strategy still answers to an explicit budget, as lucy_convolve's does */
    LucyMemoryRequest r = *req;
    r.device = lucy_device_kind(dev);
    r.strategy = strategy;
    r.free_bytes = limit;
    LucyMemoryPlan mp;
    if (lucy_memory_plan(&r, &mp) == LUCY_ERR_DEVICE_MEMORY) return LUCY_ERR_DEVICE_MEMORY;
    lucy__clear_error();
    return LUCY_OK;
  }
  if ((unsigned)strategy > LUCY_STRATEGY_CPU)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "unknown strategy %d", (int)strategy);
  LucyMemoryRequest r = *req;
  r.device = lucy_device_kind(dev);
  r.strategy = LUCY_STRATEGY_AUTO;
  r.free_bytes = limit;
  LucyMemoryInfo info;
  if (!limit && lucy_device_memory_info(dev, &info) == LUCY_OK) r.free_bytes = info.free_bytes;
  LucyMemoryPlan mp;
  LucyStatus st = lucy_memory_plan(&r, &mp);
  if (st == LUCY_ERR_DEVICE_MEMORY) return st; /* the planner's message has the numbers */
  /* Shapes the planner refuses are left for the plan to report in its own words. */
  lucy__clear_error();
  if (st != LUCY_OK) return LUCY_OK;
  if (mp.strategy == LUCY_STRATEGY_TILED || mp.strategy == LUCY_STRATEGY_CPU)
    /* One plan cannot tile or move to the host: say what would work, and let the caller (the
     * one-shot lucy_convolve / lucy_deconvolve, the app) choose it. */
    return lucy__fail(LUCY_ERR_DEVICE_MEMORY,
                      "one plan needs %zu bytes (low-memory %zu), more than the %zu bytes "
                      "budget; the %s strategy would fit",
                      mp.in_memory_device_bytes, mp.low_memory_device_bytes, r.free_bytes,
                      lucy_strategy_name(mp.strategy));
  *low_memory = mp.strategy == LUCY_STRATEGY_LOW_MEMORY;
  return LUCY_OK;
}
