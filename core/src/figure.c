/* The composite figure: XY max projection, ZY to its right (rows shared), XZ below (columns
 * shared), each scaled with nearest-neighbour sampling to the physical voxel size, one contrast
 * for all three, written as PNG through cairo, atomically.
 *
 * Layout, in pixels (rz = voxel_z / voxel_x):
 *   sxy = opts.sxy, or 768 / max(nx + nz*rz, ny + nz*rz) but at least 1
 *   sz  = opts.sz, or sxy * rz
 *   Wxy = round(nx * sxy), Hxy = round(ny * sxy), D = round(nz * sz)   (each at least 1)
 *   XY at (0, 0) Wxy x Hxy;  ZY at (Wxy + gap, 0) D x Hxy;  XZ at (0, Hxy + gap) Wxy x D
 *   figure: (Wxy + gap + D) x (Hxy + gap + D), background dark grey (#202020). */
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic-file.h"
#include "lucy/project.h"
#include "render-private.h"
#include "status-private.h"

#define FIGURE_FIT_PX 768.0
#define FIGURE_MAX_PX 32767 /* cairo's limit per side */
#define FIGURE_BACKGROUND 0x20

void lucy_figure_options_default(LucyFigureOptions *opts) {
  memset(opts, 0, sizeof *opts);
  lucy_render_options_default(&opts->render);
  opts->sxy = 0;
  opts->sz = 0;
  opts->gap = 4;
}

typedef struct FigureLayout {
  double sxy, sz;
  int wxy, hxy, d, gap, width, height;
} FigureLayout;

static int scaled_px(size_t n, double s) {
  double v = floor((double)n * s + 0.5);
  return v < 1 ? 1 : (v > FIGURE_MAX_PX ? FIGURE_MAX_PX + 1 : (int)v);
}

static LucyStatus figure_layout(const LucyVolume *vol, const LucyFigureOptions *opts,
                                FigureLayout *l) {
  const size_t nz = vol->shape[0], ny = vol->shape[1], nx = vol->shape[2];
  double rz = vol->voxel_um[LUCY_Z] / vol->voxel_um[LUCY_X];
  if (!(rz > 0) || !isfinite(rz)) rz = 1;
  if (opts->gap < 0 || opts->gap > 4096)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "gap of %d pixels is out of range (0 to 4096)",
                      opts->gap);
  if (opts->sxy < 0 || !isfinite(opts->sxy) || opts->sz < 0 || !isfinite(opts->sz))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "scale factors must be positive (0 for automatic), got sxy %g, sz %g",
                      opts->sxy, opts->sz);
  l->sxy = opts->sxy;
  if (l->sxy == 0) {
    double wide = (double)nx + (double)nz * rz, tall = (double)ny + (double)nz * rz;
    double longest = wide > tall ? wide : tall;
    l->sxy = FIGURE_FIT_PX / longest;
    if (l->sxy < 1) l->sxy = 1;
  }
  l->sz = opts->sz > 0 ? opts->sz : l->sxy * rz;
  l->wxy = scaled_px(nx, l->sxy);
  l->hxy = scaled_px(ny, l->sxy);
  l->d = scaled_px(nz, l->sz);
  l->gap = opts->gap;
  long width = (long)l->wxy + l->gap + l->d, height = (long)l->hxy + l->gap + l->d;
  if (width > FIGURE_MAX_PX || height > FIGURE_MAX_PX)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "the figure would be %ld x %ld pixels, more than cairo's %d per side; "
                      "choose smaller scale factors (sxy %g, sz %g)",
                      width, height, FIGURE_MAX_PX, l->sxy, l->sz);
  l->width = (int)width;
  l->height = (int)height;
  return LUCY_OK;
}

static LucyStatus cairo_fail(cairo_status_t cs, const char *what, const char *path) {
  return lucy__fail(cs == CAIRO_STATUS_NO_MEMORY ? LUCY_ERR_OUT_OF_MEMORY : LUCY_ERR_IO,
                    "writing %s: %s: %s", path, what, cairo_status_to_string(cs));
}

/* Renders img to a new image surface of its own size (caller destroys it). */
static LucyStatus panel_surface(const LucyImage *img, const LucyRenderOptions *ro, double vmin,
                                double vmax, const char *path, cairo_surface_t **out) {
  cairo_surface_t *s =
      cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)img->width, (int)img->height);
  cairo_status_t cs = cairo_surface_status(s);
  if (cs != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(s);
    return cairo_fail(cs, "creating a panel", path);
  }
  cairo_surface_flush(s);
  unsigned char *data = cairo_image_surface_get_data(s);
  int stride = cairo_image_surface_get_stride(s);
  lucy__render_argb32(img, ro, vmin, vmax, (uint32_t *)(void *)data, (size_t)stride / 4);
  cairo_surface_mark_dirty(s);
  *out = s;
  return LUCY_OK;
}

static void draw_panel(cairo_t *cr, cairo_surface_t *panel, const LucyImage *img, int x, int y,
                       int w, int h) {
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, (double)w / (double)img->width, (double)h / (double)img->height);
  cairo_set_source_surface(cr, panel, 0, 0);
  cairo_pattern_t *pat = cairo_get_source(cr);
  cairo_pattern_set_filter(pat, CAIRO_FILTER_NEAREST);
  cairo_pattern_set_extend(pat, CAIRO_EXTEND_PAD);
  cairo_rectangle(cr, 0, 0, (double)img->width, (double)img->height);
  cairo_fill(cr);
  cairo_restore(cr);
}

typedef struct FdWriter {
  int fd;
  int err;
} FdWriter;

static cairo_status_t write_fd(void *closure, const unsigned char *data, unsigned int length) {
  FdWriter *w = closure;
  while (length > 0) {
    ssize_t n = write(w->fd, data, length);
    if (n < 0) {
      if (errno == EINTR) continue;
      w->err = errno;
      return CAIRO_STATUS_WRITE_ERROR;
    }
    data += n;
    length -= (unsigned int)n;
  }
  return CAIRO_STATUS_SUCCESS;
}

/* Draws the figure into a new surface (caller destroys it). */
static LucyStatus draw_figure(const LucyVolume *vol, const LucyFigureOptions *opts,
                              const FigureLayout *l, const char *path, cairo_surface_t **out) {
  LucyImage *proj[3] = {NULL, NULL, NULL};
  cairo_surface_t *panels[3] = {NULL, NULL, NULL};
  cairo_surface_t *fig = NULL;
  cairo_t *cr = NULL;
  float *all = NULL;
  LucyStatus status = lucy_project_max_all(vol, proj);
  if (status) goto done;

  /* One contrast for all three panels. */
  double vmin = opts->render.vmin, vmax = opts->render.vmax;
  if (opts->render.auto_contrast) {
    size_t n = 0;
    for (int k = 0; k < 3; k++) n += proj[k]->height * proj[k]->width;
    all = malloc(n * sizeof(float));
    if (!all) {
      status = lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory for the figure's contrast");
      goto done;
    }
    size_t at = 0;
    for (int k = 0; k < 3; k++) {
      size_t m = proj[k]->height * proj[k]->width;
      memcpy(all + at, proj[k]->data, m * sizeof(float));
      at += m;
    }
    lucy_render_range(&opts->render, all, n, &vmin, &vmax);
  }
  for (int k = 0; k < 3 && !status; k++)
    status = panel_surface(proj[k], &opts->render, vmin, vmax, path, &panels[k]);
  if (status) goto done;

  fig = cairo_image_surface_create(CAIRO_FORMAT_RGB24, l->width, l->height);
  cairo_status_t cs = cairo_surface_status(fig);
  if (cs != CAIRO_STATUS_SUCCESS) {
    status = cairo_fail(cs, "creating the figure", path);
    goto done;
  }
  cr = cairo_create(fig);
  cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
  cairo_set_source_rgb(cr, FIGURE_BACKGROUND / 255.0, FIGURE_BACKGROUND / 255.0,
                       FIGURE_BACKGROUND / 255.0);
  cairo_paint(cr);
  draw_panel(cr, panels[LUCY_PROJ_XY], proj[LUCY_PROJ_XY], 0, 0, l->wxy, l->hxy);
  draw_panel(cr, panels[LUCY_PROJ_ZY], proj[LUCY_PROJ_ZY], l->wxy + l->gap, 0, l->d, l->hxy);
  draw_panel(cr, panels[LUCY_PROJ_XZ], proj[LUCY_PROJ_XZ], 0, l->hxy + l->gap, l->wxy, l->d);
  cs = cairo_status(cr);
  if (cs != CAIRO_STATUS_SUCCESS) {
    status = cairo_fail(cs, "drawing the figure", path);
    goto done;
  }
  cairo_surface_flush(fig);
  cs = cairo_surface_status(fig);
  if (cs != CAIRO_STATUS_SUCCESS) status = cairo_fail(cs, "drawing the figure", path);

done:
  if (cr) cairo_destroy(cr);
  if (status && fig) {
    cairo_surface_destroy(fig);
    fig = NULL;
  }
  for (int k = 0; k < 3; k++) {
    if (panels[k]) cairo_surface_destroy(panels[k]);
    lucy_image_free(proj[k]);
  }
  free(all);
  *out = fig;
  return status;
}

LucyStatus lucy_figure_write_png(const LucyVolume *vol, const LucyFigureOptions *opts,
                                 const char *path, int overwrite) {
  LucyFigureOptions defaults;
  if (!opts) {
    lucy_figure_options_default(&defaults);
    opts = &defaults;
  }
  if (!vol || !vol->data || !vol->shape[0] || !vol->shape[1] || !vol->shape[2])
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "no volume to draw");
  if (!path || !*path) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "no output path given");
  FigureLayout layout = {0};
  LucyStatus status = figure_layout(vol, opts, &layout);
  if (status) return status;

  LucyAtomicFile af;
  status = lucy__atomic_begin(&af, path, overwrite);
  if (status) return status;
  cairo_surface_t *fig = NULL;
  status = draw_figure(vol, opts, &layout, path, &fig);
  if (status) {
    lucy__atomic_abort(&af);
    return status;
  }
  FdWriter w = {af.fd, 0};
  cairo_status_t cs = cairo_surface_write_to_png_stream(fig, write_fd, &w);
  cairo_surface_destroy(fig);
  if (cs != CAIRO_STATUS_SUCCESS) {
    if (w.err)
      status = lucy__fail(LUCY_ERR_IO, "writing %s: %s", path, strerror(w.err));
    else
      status = cairo_fail(cs, "encoding PNG", path);
    lucy__atomic_abort(&af);
    return status;
  }
  return lucy__atomic_commit(&af);
}
