/* The display mapping (contrast, gamma, log) and rendering to RGBA.
 *
 * lucy_render_value is the definition. Rendering must give exactly its colour for every pixel
 * but cannot afford a pow() or log10() per pixel, so the mapping is prepared once: since the
 * colour index floor(256 t) is monotone in the value, it changes at (at most) 255 thresholds,
 * found by bisection over the ordered float values with lucy_render_value itself. A pixel's
 * index is then the number of thresholds at or below it, found from a guess per bin of a
 * 16384-bin table over the threshold range plus a few comparisons. */
#include <math.h>
#include <string.h>

#include "colormap-private.h"
#include "lucy/project.h"
#include "lucy/volume.h"
#include "render-private.h"

void lucy_render_options_default(LucyRenderOptions *opts) {
  memset(opts, 0, sizeof *opts);
  opts->vmin = 0;
  opts->vmax = 1;
  opts->auto_contrast = 1;
  opts->pmin = 0.1;
  opts->pmax = 99.9;
  opts->gamma = 1;
  opts->colormap = LUCY_CMAP_GRAY;
  opts->log = 0;
  opts->log_decades = 4;
}

double lucy_render_value(const LucyRenderOptions *opts, double vmin, double vmax, double v) {
  LucyRenderOptions defaults;
  if (!opts) {
    lucy_render_options_default(&defaults);
    opts = &defaults;
  }
  if (isnan(v) || !(vmax > vmin)) return 0; /* also a NaN limit */
  double t;
  if (opts->log) {
    /* A tiny positive vmin (auto contrast on a PSF) must not stretch the axis over many
     * decades: log_decades below vmax is the floor unless vmin is higher. */
    double lo = fmax(vmin, vmax * pow(10.0, -opts->log_decades));
    if (!(lo > 0) || !(vmax > lo)) return 0;
    double x = v > lo ? v : lo;
    t = log10(x / lo) / log10(vmax / lo);
  } else {
    t = (v - vmin) / (vmax - vmin);
  }
  if (!(t > 0)) return 0; /* also NaN from infinite limits */
  if (t > 1) t = 1;
  double gamma = opts->gamma;
  if (gamma != 1 && gamma > 0 && isfinite(gamma)) t = pow(t, gamma); /* else gamma 1 */
  return t;
}

void lucy_render_range(const LucyRenderOptions *opts, const float *values, size_t count,
                       double *vmin, double *vmax) {
  LucyRenderOptions defaults;
  if (!opts) {
    lucy_render_options_default(&defaults);
    opts = &defaults;
  }
  if (!opts->auto_contrast) {
    *vmin = opts->vmin;
    *vmax = opts->vmax;
    return;
  }
  double lo = lucy_percentile(values, count, opts->pmin);
  double hi = lucy_percentile(values, count, opts->pmax);
  if (isnan(lo) || isnan(hi)) { /* no finite value */
    *vmin = 0;
    *vmax = 1;
    return;
  }
  if (!(hi > lo)) {
    /* The percentiles coincide (e.g. a few bright voxels in a dark stack): use the full range
     * of finite values so that something is visible. Equal when the image is constant. */
    double a = lucy_percentile(values, count, 0), b = lucy_percentile(values, count, 100);
    if (b > a) {
      lo = a;
      hi = b;
    }
  }
  *vmin = lo;
  *vmax = hi;
}

/* ---- the prepared mapping ------------------------------------------------------------ */

#define RENDER_BINS 16384

typedef struct RenderMap {
  float thr[257];  /* thr[k]: the smallest float whose index is >= k; -inf / +inf outside */
  int nan_idx;     /* index of NaN */
  int idx_lo;      /* index of -inf (the smallest) */
  int idx_hi;      /* index of +inf (the largest) */
  float first, last;
  float bin_scale; /* bins per unit value over [first, last) */
  uint8_t guess[RENDER_BINS];
} RenderMap;

/* Maps floats to unsigned integers in the same order (NaN excluded). */
static uint32_t float_key(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return (u & UINT32_C(0x80000000)) ? ~u : (u | UINT32_C(0x80000000));
}

static float key_float(uint32_t k) {
  uint32_t u = (k & UINT32_C(0x80000000)) ? (k & UINT32_C(0x7FFFFFFF)) : ~k;
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static int value_index(const LucyRenderOptions *opts, double vmin, double vmax, float v) {
  return lucy__colormap_index(lucy_render_value(opts, vmin, vmax, v));
}

static void render_map_init(RenderMap *m, const LucyRenderOptions *opts, double vmin,
                            double vmax) {
  m->nan_idx = value_index(opts, vmin, vmax, NAN);
  m->idx_lo = value_index(opts, vmin, vmax, -INFINITY);
  m->idx_hi = value_index(opts, vmin, vmax, INFINITY);
  if (m->idx_hi < m->idx_lo) m->idx_hi = m->idx_lo; /* cannot happen for a monotone map */
  for (int k = 0; k <= 256; k++) m->thr[k] = k <= m->idx_lo ? -INFINITY : INFINITY;
  uint32_t lo_key = float_key(-INFINITY);
  const uint32_t top_key = float_key(INFINITY);
  for (int k = m->idx_lo + 1; k <= m->idx_hi; k++) {
    /* Invariant: index(lo) < k <= index(hi). */
    uint32_t lo = lo_key, hi = top_key;
    while (hi - lo > 1) {
      uint32_t mid = lo + (hi - lo) / 2;
      if (value_index(opts, vmin, vmax, key_float(mid)) >= k) hi = mid;
      else lo = mid;
    }
    m->thr[k] = key_float(hi);
    lo_key = lo; /* thresholds increase with k */
  }
  if (m->idx_hi == m->idx_lo) {
    m->first = m->last = INFINITY;
    m->bin_scale = 0;
    memset(m->guess, m->idx_lo, sizeof m->guess);
    return;
  }
  m->first = m->thr[m->idx_lo + 1];
  m->last = m->thr[m->idx_hi];
  double width = (double)m->last - (double)m->first;
  double scale = width > 0 && isfinite(width) ? RENDER_BINS / width : 0;
  if (scale > 3e38) scale = 3e38;
  m->bin_scale = (float)scale;
  int idx = m->idx_lo;
  for (int j = 0; j < RENDER_BINS; j++) {
    float b = m->bin_scale > 0 ? (float)((double)m->first + j / (double)m->bin_scale) : m->first;
    while (idx < m->idx_hi && b >= m->thr[idx + 1]) idx++;
    m->guess[j] = (uint8_t)idx;
  }
}

static inline int render_map_index(const RenderMap *m, float v) {
  if (!(v >= m->first)) return v != v ? m->nan_idx : m->idx_lo;
  if (v >= m->last) return m->idx_hi;
  float f = (v - m->first) * m->bin_scale;
  int j = f < (float)(RENDER_BINS - 1) ? (int)f : RENDER_BINS - 1;
  int idx = m->guess[j];
  /* thr[idx_lo] = -inf and thr[idx_hi] = last > v bound both walks. */
  while (v >= m->thr[idx + 1]) idx++;
  while (v < m->thr[idx]) idx--;
  return idx;
}

/* Writes each pixel's colour as a 32-bit word from colors[] at out[y * stride + x]. */
static void render_words(const LucyImage *img, const LucyRenderOptions *opts, double vmin,
                         double vmax, const uint32_t colors[256], void *out, size_t stride_px) {
  LucyRenderOptions defaults;
  if (!opts) {
    lucy_render_options_default(&defaults);
    opts = &defaults;
  }
  RenderMap map; /* about 17 KiB */
  render_map_init(&map, opts, vmin, vmax);
  const RenderMap *m = &map;
  const size_t h = img->height, w = img->width;
  unsigned char *base = out;
#ifdef _OPENMP
#pragma omp parallel for schedule(static) if (h * w > ((size_t)1 << 20))
#endif
  for (size_t y = 0; y < h; y++) {
    const float *src = img->data + y * w;
    unsigned char *row = base + y * stride_px * 4;
    for (size_t x = 0; x < w; x++) {
      uint32_t c = colors[render_map_index(m, src[x])];
      memcpy(row + 4 * x, &c, 4);
    }
  }
}

void lucy_render_rgba(const LucyImage *img, const LucyRenderOptions *opts, double vmin,
                      double vmax, uint8_t *rgba) {
  if (!img || !rgba || !img->data) return;
  const uint8_t(*table)[3] = lucy__colormap_table(opts ? opts->colormap : LUCY_CMAP_GRAY);
  uint32_t colors[256];
  for (int i = 0; i < 256; i++) {
    uint8_t bytes[4] = {table[i][0], table[i][1], table[i][2], 255};
    memcpy(&colors[i], bytes, 4); /* R, G, B, A in memory whatever the byte order */
  }
  render_words(img, opts, vmin, vmax, colors, rgba, img->width);
}

void lucy__render_argb32(const LucyImage *img, const LucyRenderOptions *opts, double vmin,
                         double vmax, uint32_t *dst, size_t stride_px) {
  if (!img || !dst || !img->data) return;
  const uint8_t(*table)[3] = lucy__colormap_table(opts ? opts->colormap : LUCY_CMAP_GRAY);
  uint32_t colors[256];
  for (int i = 0; i < 256; i++)
    colors[i] = UINT32_C(0xFF000000) | (uint32_t)table[i][0] << 16 | (uint32_t)table[i][1] << 8 |
                table[i][2];
  render_words(img, opts, vmin, vmax, colors, dst, stride_px);
}
