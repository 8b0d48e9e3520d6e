/* The padding-mode comparison: the four convolutions and their figure.
 *
 * Layout, in pixels (s = opts.scale, or 1600 / (sum of the panels' widths in voxels), at least
 * 1): a label band of LABEL_H rows on top; below it, from the left after MARGIN, the XY max
 * projections of circular, same, full and valid, then circular - same, each round(n * s) wide
 * and high, GAP apart, tops aligned. The four mode panels share one contrast; the difference
 * uses the diverging colormap, symmetric about 0. The valid region is outlined in yellow. */
#include <cairo.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic-file.h"
#include "lucy/compare.h"
#include "render-private.h"
#include "status-private.h"

#define LABEL_H 36
#define MARGIN 8
#define FIT_PX 1600.0
#define MAX_PX 32767

void lucy_compare_clear(LucyCompare *cmp) {
  if (!cmp) return;
  for (int k = 0; k < 4; k++) lucy_volume_free(cmp->out[k]);
  lucy_volume_free(cmp->diff);
  memset(cmp, 0, sizeof *cmp);
}

LucyStatus lucy_compare_compute(const LucyVolume *image, const LucyVolume *psf,
                                const LucyConvOptions *base, LucyCompare *cmp) {
  if (!cmp) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "compare: no result given");
  memset(cmp, 0, sizeof *cmp);
  if (!image || !psf) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "compare: no image or PSF");
  LucyConvOptions opts;
  if (base)
    opts = *base;
  else
    lucy_conv_options_default(&opts);
  const size_t *N = image->shape, *M = psf->shape;
  int valid_ok = 1;
  for (int a = 0; a < 3; a++) valid_ok &= M[a] <= N[a];
  LucyStatus st = LUCY_OK;
  for (int k = 0; k < 4 && !st; k++) {
    if (k == LUCY_PAD_VALID && !valid_ok) continue;
    opts.mode = (LucyPadMode)k;
    st = lucy_conv_shapes(N, M, opts.mode, cmp->out_shape[k], cmp->fft_shape[k]);
    if (!st) st = lucy_convolve(image, psf, &opts, &cmp->out[k]);
  }
  if (st) {
    lucy_compare_clear(cmp);
    return lucy__fail_context(st, "comparing padding modes: ");
  }
  for (int a = 0; a < 3; a++) {
    const size_t o = opts.origin == LUCY_ORIGIN_SCIPY ? (M[a] - 1) / 2 : M[a] / 2;
    cmp->valid_shape[a] = valid_ok ? N[a] - M[a] + 1 : 0;
    /* same[j] = full[j + o], valid[j] = full[j + M - 1]; circular == same where nothing
     * wrapped, which is exactly the valid region */
    cmp->valid_start[LUCY_PAD_FULL][a] = (ptrdiff_t)M[a] - 1;
    cmp->valid_start[LUCY_PAD_SAME][a] = (ptrdiff_t)M[a] - 1 - (ptrdiff_t)o;
    cmp->valid_start[LUCY_PAD_CIRCULAR][a] = (ptrdiff_t)M[a] - 1 - (ptrdiff_t)o;
    cmp->valid_start[LUCY_PAD_VALID][a] = 0;
  }
  if ((st = lucy_volume_copy(cmp->out[LUCY_PAD_CIRCULAR], &cmp->diff))) {
    lucy_compare_clear(cmp);
    return st;
  }
  const size_t n = lucy_shape_count(N);
  for (size_t i = 0; i < n; i++) cmp->diff->data[i] -= cmp->out[LUCY_PAD_SAME]->data[i];
  double sum = 0;
  for (size_t i = 0; i < lucy_shape_count(M); i++) sum += psf->data[i];
  cmp->psf_sum = sum;
  return LUCY_OK;
}

void lucy_compare_figure_options_default(LucyCompareFigureOptions *opts) {
  memset(opts, 0, sizeof *opts);
  lucy_render_options_default(&opts->render);
  opts->gap = 8;
}

typedef struct Layout {
  double s;
  int x[5], w[5], h[5], width, height;
} Layout;

static const LucyVolume *panel_volume(const LucyCompare *c, int k) {
  return k < 4 ? c->out[k] : c->diff;
}

static int px(size_t n, double s) {
  double v = floor((double)n * s + 0.5);
  return v < 1 ? 1 : (v > MAX_PX ? MAX_PX + 1 : (int)v);
}

static LucyStatus layout(const LucyCompare *c, const LucyCompareFigureOptions *o, Layout *l) {
  if (!c || !c->out[0] || !c->diff)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "compare figure: nothing computed");
  if (o->gap < 0 || o->gap > 4096 || o->scale < 0 || !isfinite(o->scale))
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "compare figure: gap %d (0 to 4096) or scale %g (>= 0) out of range",
                      o->gap, o->scale);
  double voxels = 0;
  for (int k = 0; k < 5; k++) {
    const LucyVolume *v = panel_volume(c, k);
    voxels += v ? (double)v->shape[2] : (double)c->out[LUCY_PAD_SAME]->shape[2];
  }
  l->s = o->scale > 0 ? o->scale : FIT_PX / voxels;
  if (l->s < 1 && o->scale <= 0) l->s = 1;
  int x = MARGIN, hmax = 0;
  for (int k = 0; k < 5; k++) {
    const LucyVolume *v = panel_volume(c, k);
    const LucyVolume *ref = v ? v : c->out[LUCY_PAD_SAME];
    l->w[k] = px(ref->shape[2], l->s);
    l->h[k] = px(ref->shape[1], l->s);
    l->x[k] = x;
    x += l->w[k] + (k < 4 ? o->gap : 0);
    if (l->h[k] > hmax) hmax = l->h[k];
  }
  const long width = (long)x + MARGIN, height = (long)LABEL_H + hmax + MARGIN;
  if (width > MAX_PX || height > MAX_PX)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "the comparison figure would be %ld x %ld pixels, more than cairo's %d per "
                      "side; choose a smaller scale (now %g)", width, height, MAX_PX, l->s);
  l->width = (int)width;
  l->height = (int)height;
  return LUCY_OK;
}

LucyStatus lucy_compare_figure_size(const LucyCompare *cmp, const LucyCompareFigureOptions *opts,
                                    int *width, int *height) {
  LucyCompareFigureOptions defaults;
  if (!opts) {
    lucy_compare_figure_options_default(&defaults);
    opts = &defaults;
  }
  Layout l;
  LucyStatus st = layout(cmp, opts, &l);
  if (st) return st;
  if (width) *width = l.width;
  if (height) *height = l.height;
  return LUCY_OK;
}

static cairo_surface_t *panel(const LucyImage *img, const LucyRenderOptions *ro, double vmin,
                              double vmax) {
  cairo_surface_t *s =
      cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)img->width, (int)img->height);
  if (cairo_surface_status(s) != CAIRO_STATUS_SUCCESS) return s;
  cairo_surface_flush(s);
  lucy__render_argb32(img, ro, vmin, vmax, (uint32_t *)(void *)cairo_image_surface_get_data(s),
                      (size_t)cairo_image_surface_get_stride(s) / 4);
  cairo_surface_mark_dirty(s);
  return s;
}

static void blit(cairo_t *cr, cairo_surface_t *s, const LucyImage *img, int x, int y, int w,
                 int h) {
  cairo_save(cr);
  cairo_translate(cr, x, y);
  cairo_scale(cr, (double)w / (double)img->width, (double)h / (double)img->height);
  cairo_set_source_surface(cr, s, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_rectangle(cr, 0, 0, (double)img->width, (double)img->height);
  cairo_fill(cr);
  cairo_restore(cr);
}

static void label(cairo_t *cr, int x, int y, const char *text) {
  cairo_move_to(cr, x, y);
  cairo_show_text(cr, text);
}

typedef struct Writer {
  int fd, err;
} Writer;

static cairo_status_t write_fd(void *closure, const unsigned char *data, unsigned int length) {
  Writer *w = closure;
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

static LucyStatus draw(const LucyCompare *c, const LucyCompareFigureOptions *o, const Layout *l,
                       cairo_surface_t **out) {
  LucyImage *proj[5][3] = {{NULL}};
  cairo_surface_t *surf[5] = {NULL};
  float *all = NULL;
  LucyStatus st = LUCY_OK;
  *out = NULL;
  for (int k = 0; k < 5 && !st; k++) {
    const LucyVolume *v = panel_volume(c, k);
    if (!v) continue;
    st = k < 4 ? lucy_project_max_all(v, proj[k]) : lucy_project_extreme_all(v, proj[k]);
  }
  if (st) goto done;
  double vmin = o->render.vmin, vmax = o->render.vmax;
  if (o->render.auto_contrast) {
    size_t n = 0, at = 0;
    for (int k = 0; k < 4; k++)
      if (proj[k][0]) n += proj[k][0]->height * proj[k][0]->width;
    all = malloc(n * sizeof(float));
    if (!all) {
      st = lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory for the figure's contrast");
      goto done;
    }
    for (int k = 0; k < 4; k++)
      if (proj[k][0]) {
        const size_t m = proj[k][0]->height * proj[k][0]->width;
        memcpy(all + at, proj[k][0]->data, m * sizeof(float));
        at += m;
      }
    lucy_render_range(&o->render, all, n, &vmin, &vmax);
  }
  for (int k = 0; k < 4; k++)
    if (proj[k][0]) surf[k] = panel(proj[k][0], &o->render, vmin, vmax);
  {
    const LucyImage *d = proj[4][0];
    double dmax = 0;
    for (size_t i = 0; i < d->height * d->width; i++)
      if (isfinite(d->data[i]) && fabs(d->data[i]) > dmax) dmax = fabs(d->data[i]);
    if (dmax == 0) dmax = 1;
    LucyRenderOptions dr;
    lucy_render_options_default(&dr);
    dr.auto_contrast = 0;
    dr.colormap = LUCY_CMAP_COOLWARM;
    surf[4] = panel(d, &dr, -dmax, dmax);
  }
  cairo_surface_t *fig = cairo_image_surface_create(CAIRO_FORMAT_RGB24, l->width, l->height);
  cairo_t *cr = cairo_create(fig);
  cairo_set_source_rgb(cr, 0x20 / 255.0, 0x20 / 255.0, 0x20 / 255.0);
  cairo_paint(cr);
  cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 12);
  static const char *const names[5] = {"circular", "same", "full", "valid", "circular - same"};
  for (int k = 0; k < 5; k++) {
    char line1[96], line2[96];
    if (k < 4 && !c->out[k]) {
      snprintf(line1, sizeof line1, "%s: n/a", names[k]);
      snprintf(line2, sizeof line2, "PSF larger than the image");
    } else if (k < 4) {
      const size_t *s = c->out_shape[k], *f = c->fft_shape[k];
      snprintf(line1, sizeof line1, "%s  out %zux%zux%zu", names[k], s[0], s[1], s[2]);
      snprintf(line2, sizeof line2, "FFT %zux%zux%zu", f[0], f[1], f[2]);
    } else {
      snprintf(line1, sizeof line1, "%s", names[k]);
      snprintf(line2, sizeof line2, "ghosts: red +, blue -");
    }
    cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
    label(cr, l->x[k], 15, line1);
    label(cr, l->x[k], 30, line2);
    if (!surf[k]) continue;
    blit(cr, surf[k], proj[k][0], l->x[k], LABEL_H, l->w[k], l->h[k]);
    if (c->valid_shape[1] && c->valid_shape[2]) { /* outline of the valid region */
      const double x0 = l->x[k] + (double)c->valid_start[k < 4 ? k : 0][2] * l->s;
      const double y0 = LABEL_H + (double)c->valid_start[k < 4 ? k : 0][1] * l->s;
      cairo_set_source_rgb(cr, 1.0, 0.85, 0.1);
      cairo_set_line_width(cr, 1.0);
      cairo_rectangle(cr, floor(x0) + 0.5, floor(y0) + 0.5,
                      floor((double)c->valid_shape[2] * l->s) - 1,
                      floor((double)c->valid_shape[1] * l->s) - 1);
      cairo_stroke(cr);
    }
  }
  cairo_status_t cs = cairo_status(cr);
  cairo_destroy(cr);
  cairo_surface_flush(fig);
  if (cs == CAIRO_STATUS_SUCCESS) cs = cairo_surface_status(fig);
  if (cs != CAIRO_STATUS_SUCCESS) {
    cairo_surface_destroy(fig);
    st = lucy__fail(cs == CAIRO_STATUS_NO_MEMORY ? LUCY_ERR_OUT_OF_MEMORY : LUCY_ERR_IO,
                    "drawing the comparison figure: %s", cairo_status_to_string(cs));
    goto done;
  }
  *out = fig;
done:
  for (int k = 0; k < 5; k++) {
    if (surf[k]) cairo_surface_destroy(surf[k]);
    for (int j = 0; j < 3; j++) lucy_image_free(proj[k][j]);
  }
  free(all);
  return st;
}

LucyStatus lucy_compare_write_png(const LucyCompare *cmp, const LucyCompareFigureOptions *opts,
                                  const char *path, int overwrite) {
  LucyCompareFigureOptions defaults;
  if (!opts) {
    lucy_compare_figure_options_default(&defaults);
    opts = &defaults;
  }
  if (!path || !*path) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "no output path given");
  Layout l;
  LucyStatus st = layout(cmp, opts, &l);
  if (st) return st;
  LucyAtomicFile af;
  if ((st = lucy__atomic_begin(&af, path, overwrite))) return st;
  cairo_surface_t *fig = NULL;
  if ((st = draw(cmp, opts, &l, &fig))) {
    lucy__atomic_abort(&af);
    return st;
  }
  Writer w = {af.fd, 0};
  cairo_status_t cs = cairo_surface_write_to_png_stream(fig, write_fd, &w);
  cairo_surface_destroy(fig);
  if (cs != CAIRO_STATUS_SUCCESS) {
    st = w.err ? lucy__fail(LUCY_ERR_IO, "writing %s: %s", path, strerror(w.err))
               : lucy__fail(LUCY_ERR_IO, "writing %s: encoding PNG: %s", path,
                            cairo_status_to_string(cs));
    lucy__atomic_abort(&af);
    return st;
  }
  return lucy__atomic_commit(&af);
}
