/* LucyOtfView: log10 |OTF| sections through DC with the widefield cutoff (lucy-otf-view.h). */
#include "lucy-otf-view.h"

#include <math.h>
#include <string.h>

#include "lucy-error.h"
#include "lucy-image-surface.h"

#define ML 44.0      /* left of each panel: the vertical tick labels */
#define MT 22.0      /* above the panels: their titles */
#define MB 34.0      /* below: the tick labels and the axis name */
#define GAP 12.0     /* between the first panel and the second's tick labels */
#define BAR 52.0     /* the colour bar at the right */
#define CAPTION 36.0 /* the two-line caption under the panels */
#define LOG_FLOOR (-4.0)

static const char *const titles[2] = {"kx–ky at kz = 0", "kx–kz at ky = 0"};
static const char *const vnames[2] = {"ky", "kz"};

struct _LucyOtfView {
  GtkDrawingArea parent_instance;
  LucyStack *psf;      /* shown, or being computed */
  GCancellable *cancel; /* the running computation's; cancelled when superseded */
  gboolean busy;
  char *last_error;
  LucyImage *section[2];
  cairo_surface_t *surface[2];
  size_t shape[3];
  double voxel[3];
  double na, wavelength, n;
};

enum { COMPUTED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(LucyOtfView, lucy_otf_view, GTK_TYPE_DRAWING_AREA)

/* ---- the OTF task ------------------------------------------------------------------------- */

typedef struct {
  LucyStack *psf;
  LucyImage *section[2];
} Job;

static void section_free(LucyImage *img) {
  if (!img) return;
  g_free(img->data);
  g_free(img);
}

/* log10 |OTF| on the plane through DC: XY (rows y at z = M//2) or XZ (rows z at y = M//2). */
static LucyImage *log_section(const LucyVolume *otf, LucyOtfSection which) {
  const size_t *N = otf->shape;
  LucyImage *img = g_new0(LucyImage, 1);
  img->width = N[2];
  img->height = which == LUCY_OTF_SECTION_XY ? N[1] : N[0];
  img->data = g_new(float, img->width * img->height);
  for (size_t r = 0; r < img->height; r++) {
    const size_t z = which == LUCY_OTF_SECTION_XY ? N[0] / 2 : r;
    const size_t y = which == LUCY_OTF_SECTION_XY ? r : N[1] / 2;
    const float *src = otf->data + (z * N[1] + y) * N[2];
    for (size_t x = 0; x < N[2]; x++)
      img->data[r * N[2] + x] = (float)log10(MAX((double)src[x], LUCY_OTF_VIEW_FLOOR));
  }
  return img;
}

static void job_free(gpointer data) {
  Job *j = data;
  g_clear_object(&j->psf);
  for (int i = 0; i < 2; i++) section_free(j->section[i]);
  g_free(j);
}

static void job_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel) {
  Job *j = data;
  if (g_task_return_error_if_cancelled(task)) return;
  LucyVolume *otf = NULL;
  LucyStatus st = lucy_psf_otf(lucy_stack_get_volume(j->psf), &otf);
  if (st != LUCY_OK) {
    GError *error = NULL;
    lucy_set_error_from_status(&error, st, "Could not compute the OTF");
    g_task_return_error(task, error);
    return;
  }
  j->section[LUCY_OTF_SECTION_XY] = log_section(otf, LUCY_OTF_SECTION_XY);
  j->section[LUCY_OTF_SECTION_XZ] = log_section(otf, LUCY_OTF_SECTION_XZ);
  lucy_volume_free(otf);
  g_task_return_boolean(task, TRUE);
}

static void clear_result(LucyOtfView *self) {
  for (int i = 0; i < 2; i++) {
    g_clear_pointer(&self->surface[i], cairo_surface_destroy);
    g_clear_pointer(&self->section[i], section_free);
  }
}

static void take_result(LucyOtfView *self, Job *j) {
  clear_result(self);
  LucyRenderOptions ro;
  lucy_render_options_default(&ro);
  ro.auto_contrast = 0;
  ro.colormap = LUCY_CMAP_MAGMA;
  for (int i = 0; i < 2; i++) {
    self->section[i] = j->section[i];
    j->section[i] = NULL;
    self->surface[i] = lucy_image_surface_new(self->section[i], &ro, LOG_FLOOR, 0.0);
  }
  const LucyVolume *v = lucy_stack_get_volume(j->psf);
  memcpy(self->shape, v->shape, sizeof self->shape);
  for (int a = 0; a < 3; a++) self->voxel[a] = v->voxel_um[a] > 0 ? v->voxel_um[a] : 1.0;
}

static void job_done(GObject *source, GAsyncResult *res, gpointer data) {
  LucyOtfView *self = LUCY_OTF_VIEW(source);
  Job *j = g_task_get_task_data(G_TASK(res));
  GError *error = NULL;
  const gboolean ok = g_task_propagate_boolean(G_TASK(res), &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_error_free(error); /* superseded by another PSF, or the view is gone */
    return;
  }
  g_clear_object(&self->cancel);
  self->busy = FALSE;
  g_clear_pointer(&self->last_error, g_free);
  if (ok) {
    take_result(self, j);
  } else {
    self->last_error = g_strdup(error->message);
    g_error_free(error);
  }
  gtk_widget_queue_draw(GTK_WIDGET(self));
  g_signal_emit(self, signals[COMPUTED], 0, ok);
}

void lucy_otf_view_set_psf(LucyOtfView *self, LucyStack *psf) {
  g_return_if_fail(LUCY_IS_OTF_VIEW(self));
  if (psf == self->psf) return;
  g_set_object(&self->psf, psf);
  if (self->cancel) g_cancellable_cancel(self->cancel);
  g_clear_object(&self->cancel);
  self->busy = psf != NULL;
  g_clear_pointer(&self->last_error, g_free);
  clear_result(self);
  gtk_widget_queue_draw(GTK_WIDGET(self));
  if (!psf) return;
  Job *j = g_new0(Job, 1);
  j->psf = g_object_ref(psf);
  self->cancel = g_cancellable_new();
  GTask *task = g_task_new(self, self->cancel, job_done, NULL);
  g_task_set_task_data(task, j, job_free);
  g_task_run_in_thread(task, job_thread);
  g_object_unref(task);
}

void lucy_otf_view_set_optics(LucyOtfView *self, double na, double wavelength_um, double n) {
  g_return_if_fail(LUCY_IS_OTF_VIEW(self));
  self->na = na;
  self->wavelength = wavelength_um;
  self->n = n;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

gboolean lucy_otf_view_is_busy(LucyOtfView *self) { return self->busy; }
const char *lucy_otf_view_get_last_error(LucyOtfView *self) { return self->last_error; }
const LucyImage *lucy_otf_view_get_section(LucyOtfView *self, LucyOtfSection which) {
  return (unsigned)which < 2 ? self->section[which] : NULL;
}

/* ---- layout ------------------------------------------------------------------------------- */

typedef struct {
  double s;                /* screen pixels per cycle/µm, both axes */
  graphene_rect_t r[2];    /* XY, XZ */
  double fmin[3], fmax[3]; /* frequencies at the outer edges of the first and last bins */
} Layout;

/* Bin j (signed frequency j - n//2) spans ±half a bin of 1 / (n d) cycles/µm. */
static void freq_extent(size_t n, double d, double *lo, double *hi) {
  const double bin = 1.0 / ((double)n * d);
  *lo = (-(double)(n / 2) - 0.5) * bin;
  *hi = ((double)(n - 1 - n / 2) + 0.5) * bin;
}

static gboolean compute_layout(LucyOtfView *self, int W, int H, Layout *L) {
  if (!self->section[0]) return FALSE;
  for (int a = 0; a < 3; a++) freq_extent(self->shape[a], self->voxel[a], &L->fmin[a], &L->fmax[a]);
  double span[3];
  for (int a = 0; a < 3; a++) span[a] = L->fmax[a] - L->fmin[a];
  L->s = MIN((W - 2 * ML - GAP - BAR) / (2 * span[2]),
             (H - MT - MB - CAPTION) / MAX(span[0], span[1]));
  if (!(L->s * span[2] >= 24 && L->s * MIN(span[0], span[1]) >= 4)) return FALSE;
  for (int p = 0; p < 2; p++) {
    const double x = ML + p * (span[2] * L->s + GAP + ML);
    const double h = span[p == LUCY_OTF_SECTION_XY ? 1 : 0] * L->s;
    L->r[p] = GRAPHENE_RECT_INIT((float)round(x), (float)MT, (float)(span[2] * L->s), (float)h);
  }
  return TRUE;
}

gboolean lucy_otf_view_get_panel_rect(LucyOtfView *self, LucyOtfSection which,
                                      graphene_rect_t *rect, double *px_per_cycle) {
  g_return_val_if_fail(LUCY_IS_OTF_VIEW(self), FALSE);
  Layout L;
  if ((unsigned)which >= 2 || !compute_layout(self, gtk_widget_get_width(GTK_WIDGET(self)),
                                              gtk_widget_get_height(GTK_WIDGET(self)), &L))
    return FALSE;
  if (rect) *rect = L.r[which];
  if (px_per_cycle) *px_per_cycle = L.s;
  return TRUE;
}

/* ---- drawing ------------------------------------------------------------------------------ */

/* Panel p's screen position of frequency (fx, fv); fv along z for XZ, y for XY; up is +. */
static double px_x(const Layout *L, int p, double fx) {
  return L->r[p].origin.x + (fx - L->fmin[2]) * L->s;
}
static double px_v(const Layout *L, int p, double fv) {
  const int a = p == LUCY_OTF_SECTION_XY ? 1 : 0;
  return L->r[p].origin.y + L->r[p].size.height - (fv - L->fmin[a]) * L->s;
}

/* 1, 2, 2.5 or 5 times a power of ten, about a quarter of span */
static double nice_step(double span) {
  const double raw = span / 4, mag = pow(10, floor(log10(raw))), m = raw / mag;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 2.5 ? 2.5 : m <= 5 ? 5 : 10) * mag;
}

/* The first tick at or above lo, counting one within rounding of an edge as inside. */
static double first_tick(double lo, double step) { return ceil(lo / step - 1e-6) * step; }

static void show_text_at(cairo_t *cr, double x, double y, double align, const char *s) {
  cairo_text_extents_t e;
  cairo_text_extents(cr, s, &e);
  cairo_move_to(cr, x - align * e.x_advance, y);
  cairo_show_text(cr, s);
}

/* Ticks in cycles/µm along the bottom (kx) and the left (ky or kz) of panel p. */
static void draw_axes(cairo_t *cr, const Layout *L, int p, const GdkRGBA *fg) {
  const graphene_rect_t *r = &L->r[p];
  const int va = p == LUCY_OTF_SECTION_XY ? 1 : 0;
  char s[32];
  cairo_set_source_rgba(cr, fg->red, fg->green, fg->blue, 0.7);
  cairo_set_font_size(cr, 10);
  const double bottom = r->origin.y + r->size.height;
  const double hs = nice_step(L->fmax[2] - L->fmin[2]), vs = nice_step(L->fmax[va] - L->fmin[va]);
  for (double f = first_tick(L->fmin[2], hs); f <= L->fmax[2] + 1e-6 * hs; f += hs) {
    const double x = round(px_x(L, p, f)) + 0.5;
    cairo_move_to(cr, x, bottom);
    cairo_line_to(cr, x, bottom + 4);
    cairo_stroke(cr);
    g_snprintf(s, sizeof s, "%.3g", fabs(f) < 1e-9 * hs ? 0.0 : f);
    show_text_at(cr, x, bottom + 15, 0.5, s);
  }
  for (double f = first_tick(L->fmin[va], vs); f <= L->fmax[va] + 1e-6 * vs; f += vs) {
    const double y = round(px_v(L, p, f)) + 0.5;
    cairo_move_to(cr, r->origin.x - 4, y);
    cairo_line_to(cr, r->origin.x, y);
    cairo_stroke(cr);
    g_snprintf(s, sizeof s, "%.3g", fabs(f) < 1e-9 * vs ? 0.0 : f);
    show_text_at(cr, r->origin.x - 6, y + 3.5, 1.0, s);
  }
  show_text_at(cr, r->origin.x + r->size.width / 2, bottom + 29, 0.5, "kx (cycles/µm)");
  show_text_at(cr, r->origin.x - 6, r->origin.y - 6, 1.0, vnames[p]);
  cairo_set_font_size(cr, 11);
  cairo_set_source_rgba(cr, fg->red, fg->green, fg->blue, 0.85);
  show_text_at(cr, r->origin.x, r->origin.y - 6, 0.0, titles[p]);
}

/* The section image, one rectangle per frequency bin, +k up. */
static void draw_section(LucyOtfView *self, cairo_t *cr, const Layout *L, int p) {
  const graphene_rect_t *r = &L->r[p];
  const LucyImage *img = self->section[p];
  cairo_save(cr);
  cairo_rectangle(cr, r->origin.x, r->origin.y, r->size.width, r->size.height);
  cairo_clip(cr);
  cairo_translate(cr, r->origin.x, r->origin.y + r->size.height);
  cairo_scale(cr, r->size.width / (double)img->width, -r->size.height / (double)img->height);
  cairo_set_source_surface(cr, self->surface[p], 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
  cairo_paint(cr);
  cairo_restore(cr);
}

/* The support of the widefield OTF (the autocorrelation of the pupil's spherical cap): laterally
 * |k| <= 2NA/λ; in kx–kz bounded by circles of radius n/λ centred at (±NA/λ, ∓√(n²−NA²)/λ),
 * |kz| <= √((n/λ)² − (|kx| − NA/λ)²) − √(n² − NA²)/λ, which is 0 on the kz axis: the missing
 * cone. */
static double support_kz(double kx, double na, double lambda, double n) {
  const double a = n / lambda, c = na / lambda, d = fabs(kx) - c;
  return MAX(sqrt(MAX(a * a - d * d, 0)) - sqrt(n * n - na * na) / lambda, 0);
}

static void draw_cutoff(LucyOtfView *self, cairo_t *cr, const Layout *L, int p) {
  const double kc = 2 * self->na / self->wavelength;
  const graphene_rect_t *r = &L->r[p];
  const double dash[2] = {5, 3};
  cairo_save(cr);
  cairo_rectangle(cr, r->origin.x, r->origin.y, r->size.width, r->size.height);
  cairo_clip(cr);
  cairo_set_dash(cr, dash, 2, 0);
  cairo_set_line_width(cr, 1.5);
  cairo_set_source_rgba(cr, 0.35, 0.85, 1.0, 0.95);
  if (p == LUCY_OTF_SECTION_XY) {
    cairo_new_sub_path(cr);
    cairo_arc(cr, px_x(L, p, 0), px_v(L, p, 0), kc * L->s, 0, 2 * G_PI);
  } else if (self->na < self->n) {
    const int steps = 256;
    for (int i = 0; i <= 2 * steps; i++) { /* the upper arcs left to right, the lower back */
      const double t = i <= steps ? (double)i / steps : (double)(2 * steps - i) / steps;
      const double kx = -kc + 2 * kc * t;
      const double kz = (i <= steps ? 1 : -1) * support_kz(kx, self->na, self->wavelength, self->n);
      if (i == 0) cairo_move_to(cr, px_x(L, p, kx), px_v(L, p, kz));
      else cairo_line_to(cr, px_x(L, p, kx), px_v(L, p, kz));
    }
    cairo_close_path(cr);
  } else { /* NA >= n: no axial support to draw, the lateral limits only */
    for (int sgn = -1; sgn <= 1; sgn += 2) {
      cairo_move_to(cr, px_x(L, p, sgn * kc), r->origin.y);
      cairo_line_to(cr, px_x(L, p, sgn * kc), r->origin.y + r->size.height);
    }
  }
  cairo_stroke(cr);
  cairo_restore(cr);
}

/* magma from 10^-4 (bottom) to 1 (top), right of the panels */
static void draw_colorbar(cairo_t *cr, double x, double y, double h, const GdkRGBA *fg) {
  for (int i = 0; i < (int)h; i++) {
    const guint32 c = lucy_colormap_rgb(LUCY_CMAP_MAGMA, 1.0 - i / MAX(h - 1, 1));
    cairo_set_source_rgb(cr, ((c >> 16) & 255) / 255.0, ((c >> 8) & 255) / 255.0,
                         (c & 255) / 255.0);
    cairo_rectangle(cr, x, y + i, 10, 1);
    cairo_fill(cr);
  }
  cairo_set_source_rgba(cr, fg->red, fg->green, fg->blue, 0.7);
  cairo_set_font_size(cr, 10);
  show_text_at(cr, x + 14, y + 8, 0, "1");
  show_text_at(cr, x + 14, y + h / 2 + 4, 0, "10⁻²");
  show_text_at(cr, x + 14, y + h, 0, "10⁻⁴");
  show_text_at(cr, x, y - 6, 0, "|OTF|");
}

/* "cycles/µm" that does not break after the slash (U+2060 word joiner) */
#define CYCLES_PER_UM "cycles/\u2060µm"

static char *caption_text(LucyOtfView *self) {
  const double nyq[3] = {0.5 / self->voxel[0], 0.5 / self->voxel[1], 0.5 / self->voxel[2]};
  GString *s = g_string_new(NULL);
  g_string_append_printf(s, "Central sections of log₁₀ |OTF|, floor 10⁻⁴. Nyquist: x %.3g, "
                         "y %.3g, z %.3g " CYCLES_PER_UM ".", nyq[2], nyq[1], nyq[0]);
  if (!(self->na > 0 && self->wavelength > 0)) {
    g_string_append(s, " Set NA and λ to draw the widefield cutoff.");
  } else {
    const double kc = 2 * self->na / self->wavelength;
    g_string_append_printf(s, " Dashed: widefield support, 2NA/λ = %.3g " CYCLES_PER_UM, kc);
    if (self->na < self->n) {
      const double n = self->n, na = self->na;
      const double kz = (n - sqrt(n * n - na * na)) / self->wavelength;
      g_string_append_printf(s, ", axially (n − √(n² − NA²))/λ = %.3g", kz);
      if (kz > nyq[0]) g_string_append(s, " — beyond Nyquist in z: undersampled");
    }
    g_string_append(s, kc > MIN(nyq[1], nyq[2]) ? "; beyond lateral Nyquist: undersampled." : ".");
  }
  return g_string_free(s, FALSE);
}

static void draw_message(LucyOtfView *self, cairo_t *cr, double x, double y, double w,
                         const char *text, const GdkRGBA *fg, double alpha) {
  PangoLayout *layout = gtk_widget_create_pango_layout(GTK_WIDGET(self), text);
  PangoFontDescription *font = pango_font_description_from_string("Sans 9");
  pango_layout_set_font_description(layout, font);
  pango_font_description_free(font);
  pango_layout_set_width(layout, (int)(MAX(w, 10) * PANGO_SCALE));
  pango_layout_set_wrap(layout, PANGO_WRAP_WORD_CHAR);
  cairo_set_source_rgba(cr, fg->red, fg->green, fg->blue, alpha);
  cairo_move_to(cr, x, y);
  pango_cairo_show_layout(cr, layout);
  g_object_unref(layout);
}

static void draw_cb(GtkDrawingArea *area, cairo_t *cr, int W, int H, gpointer data) {
  LucyOtfView *self = LUCY_OTF_VIEW(area);
  GdkRGBA fg;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color(gtk_widget_get_style_context(GTK_WIDGET(area)), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS
  cairo_select_font_face(cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_line_width(cr, 1);
  Layout L;
  if (!compute_layout(self, W, H, &L)) {
    const char *text = self->last_error ? self->last_error
                       : self->busy     ? "Computing the OTF…"
                       : self->psf      ? "Too small to show the OTF"
                                        : "No OTF: there is no PSF";
    draw_message(self, cr, ML, MT, W - ML - 8, text, &fg, 0.7);
    return;
  }
  for (int p = 0; p < 2; p++) {
    draw_section(self, cr, &L, p);
    draw_axes(cr, &L, p, &fg);
    if (self->na > 0 && self->wavelength > 0) draw_cutoff(self, cr, &L, p);
  }
  const double maxh = MAX(L.r[0].size.height, L.r[1].size.height);
  const double bx = L.r[1].origin.x + L.r[1].size.width + 10;
  draw_colorbar(cr, bx, MT, MIN(maxh, 140), &fg);
  char *caption = caption_text(self);
  draw_message(self, cr, 6, MT + maxh + MB + 2, W - 12, caption, &fg, 0.7);
  g_free(caption);
}

/* ---- life cycle --------------------------------------------------------------------------- */

static void lucy_otf_view_dispose(GObject *object) {
  LucyOtfView *self = LUCY_OTF_VIEW(object);
  if (self->cancel) g_cancellable_cancel(self->cancel); /* a result on its way is dropped */
  g_clear_object(&self->cancel);
  self->busy = FALSE;
  g_clear_object(&self->psf);
  G_OBJECT_CLASS(lucy_otf_view_parent_class)->dispose(object);
}

static void lucy_otf_view_finalize(GObject *object) {
  LucyOtfView *self = LUCY_OTF_VIEW(object);
  clear_result(self);
  g_free(self->last_error);
  G_OBJECT_CLASS(lucy_otf_view_parent_class)->finalize(object);
}

static void lucy_otf_view_class_init(LucyOtfViewClass *klass) {
  G_OBJECT_CLASS(klass)->dispose = lucy_otf_view_dispose;
  G_OBJECT_CLASS(klass)->finalize = lucy_otf_view_finalize;
  signals[COMPUTED] = g_signal_new("computed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
}

static void lucy_otf_view_init(LucyOtfView *self) {
  self->wavelength = 0.52;
  self->n = 1.515;
  gtk_drawing_area_set_content_width(GTK_DRAWING_AREA(self), 480);
  gtk_drawing_area_set_content_height(GTK_DRAWING_AREA(self), 300);
  gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(self), draw_cb, NULL, NULL);
}

LucyOtfView *lucy_otf_view_new(void) { return g_object_new(LUCY_TYPE_OTF_VIEW, NULL); }
