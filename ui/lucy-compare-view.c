/* LucyCompareView: the four padding modes side by side, with circular − same. */
#include "lucy-compare-view.h"

#include <math.h>
#include <string.h>

#include "lucy-error.h"
#include "lucy-image-surface.h"

#define MARGIN 12.0
#define GAP 10.0
#define LABEL_H 44.0
#define MAX_SCALE 8.0

static const char *const panel_names[LUCY_COMPARE_N_PANELS] = {"circular", "same", "full", "valid",
                                                               "circular − same"};

struct _LucyCompareView {
  GtkBox parent_instance;
  GtkLabel *status_label;
  GtkDrawingArea *canvas;
  GtkLabel *explanation;
  /* the last result */
  gboolean have;
  LucyCompare cmp;
  LucyImage *proj[LUCY_COMPARE_N_PANELS];    /* XY */
  LucyImage *proj_xz[LUCY_COMPARE_N_PANELS]; /* XZ, the row below */
  cairo_surface_t *surface[LUCY_COMPARE_N_PANELS];
  cairo_surface_t *surface_xz[LUCY_COMPARE_N_PANELS];
  double vmin, vmax; /* the four mode panels' shared contrast */
  double dmax;       /* the difference's symmetric range */
  char *source;      /* what was compared, for the status line */
  /* the running task */
  guint generation;
  gboolean busy;
  char *last_error;
};

enum { COMPUTED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(LucyCompareView, lucy_compare_view, GTK_TYPE_BOX)

/* ---- the comparison task ----------------------------------------------------------------- */

typedef struct {
  guint generation;
  LucyVolume *image, *psf;
  LucyCompare cmp;
  LucyImage *proj[LUCY_COMPARE_N_PANELS];
  LucyImage *proj_xz[LUCY_COMPARE_N_PANELS];
  double seconds;
} Job;

static void clear_proj(LucyImage *proj[LUCY_COMPARE_N_PANELS]) {
  for (int i = 0; i < LUCY_COMPARE_N_PANELS; i++) {
    if (proj[i]) lucy_image_free(proj[i]);
    proj[i] = NULL;
  }
}

static void job_free(gpointer data) {
  Job *j = data;
  lucy_volume_free(j->image);
  lucy_volume_free(j->psf);
  lucy_compare_clear(&j->cmp);
  clear_proj(j->proj);
  clear_proj(j->proj_xz);
  g_free(j);
}

static void job_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel) {
  Job *j = data;
  const gint64 t0 = g_get_monotonic_time();
  GError *error = NULL;
  LucyStatus st = lucy_compare_compute(j->image, j->psf, NULL, &j->cmp);
  if (st != LUCY_OK) {
    lucy_set_error_from_status(&error, st, "Could not compare the padding modes");
    g_task_return_error(task, error);
    return;
  }
  for (int k = 0; k < LUCY_COMPARE_N_PANELS && !st; k++) {
    const LucyVolume *v = k < 4 ? j->cmp.out[k] : j->cmp.diff;
    if (!v) continue;
    LucyImage *all[3] = {NULL, NULL, NULL};
    st = k < 4 ? lucy_project_max_all(v, all) : lucy_project_extreme_all(v, all);
    if (!st) {
      j->proj[k] = all[LUCY_PROJ_XY];
      j->proj_xz[k] = all[LUCY_PROJ_XZ];
      lucy_image_free(all[LUCY_PROJ_ZY]);
    }
  }
  if (st != LUCY_OK) {
    lucy_set_error_from_status(&error, st, "Could not project the results");
    g_task_return_error(task, error);
    return;
  }
  j->seconds = (double)(g_get_monotonic_time() - t0) * 1e-6;
  g_task_return_boolean(task, TRUE);
}

static void clear_result(LucyCompareView *self) {
  for (int i = 0; i < LUCY_COMPARE_N_PANELS; i++) {
    g_clear_pointer(&self->surface[i], cairo_surface_destroy);
    g_clear_pointer(&self->surface_xz[i], cairo_surface_destroy);
  }
  clear_proj(self->proj);
  clear_proj(self->proj_xz);
  lucy_compare_clear(&self->cmp);
  self->have = FALSE;
}

/* One contrast for the four mode panels (percentiles over all their pixels, as lucy-cli compare
 * does); the difference symmetric about 0 in the diverging colormap. */
static void rebuild_surfaces(LucyCompareView *self) {
  LucyRenderOptions ro;
  lucy_render_options_default(&ro);
  size_t n = 0;
  for (int k = 0; k < 4; k++)
    if (self->proj[k]) n += self->proj[k]->width * self->proj[k]->height;
  float *all = g_new(float, MAX(n, 1));
  n = 0;
  for (int k = 0; k < 4; k++)
    if (self->proj[k]) {
      const size_t c = self->proj[k]->width * self->proj[k]->height;
      memcpy(all + n, self->proj[k]->data, c * sizeof(float));
      n += c;
    }
  lucy_render_range(&ro, all, n, &self->vmin, &self->vmax);
  g_free(all);
  for (int k = 0; k < 4; k++)
    if (self->proj[k]) {
      self->surface[k] = lucy_image_surface_new(self->proj[k], &ro, self->vmin, self->vmax);
      self->surface_xz[k] =
          lucy_image_surface_new(self->proj_xz[k], &ro, self->vmin, self->vmax);
    }
  const LucyImage *d = self->proj[LUCY_COMPARE_PANEL_DIFF];
  double m = 0;
  for (size_t i = 0; i < d->width * d->height; i++)
    if (isfinite(d->data[i])) m = MAX(m, fabs(d->data[i]));
  self->dmax = m;
  ro.colormap = LUCY_CMAP_COOLWARM;
  ro.auto_contrast = 0;
  const double r = m > 0 ? m : 1.0;
  self->surface[LUCY_COMPARE_PANEL_DIFF] = lucy_image_surface_new(d, &ro, -r, r);
  self->surface_xz[LUCY_COMPARE_PANEL_DIFF] =
      lucy_image_surface_new(self->proj_xz[LUCY_COMPARE_PANEL_DIFF], &ro, -r, r);
}

static void job_done(GObject *source, GAsyncResult *res, gpointer data) {
  LucyCompareView *self = LUCY_COMPARE_VIEW(source);
  GTask *task = G_TASK(res);
  Job *j = g_task_get_task_data(task);
  GError *error = NULL;
  const gboolean ok = g_task_propagate_boolean(task, &error);
  if (j->generation != self->generation) { /* superseded, or the view is gone */
    g_clear_error(&error);
    return;
  }
  self->busy = FALSE;
  g_clear_pointer(&self->last_error, g_free);
  if (ok) {
    clear_result(self);
    self->cmp = j->cmp;
    memset(&j->cmp, 0, sizeof j->cmp);
    memcpy(self->proj, j->proj, sizeof self->proj);
    memset(j->proj, 0, sizeof j->proj);
    memcpy(self->proj_xz, j->proj_xz, sizeof self->proj_xz);
    memset(j->proj_xz, 0, sizeof j->proj_xz);
    self->have = TRUE;
    rebuild_surfaces(self);
    const size_t *N = j->image->shape, *M = j->psf->shape;
    char *text = g_strdup_printf(
        "%s: image %zu×%zu×%zu, PSF %zu×%zu×%zu (z×y×x) · valid %zu×%zu×%zu · %.2f s · "
        "contrast %.3g – %.3g, difference ±%.3g",
        self->source ? self->source : "Current image", N[0], N[1], N[2], M[0], M[1], M[2],
        self->cmp.valid_shape[0], self->cmp.valid_shape[1], self->cmp.valid_shape[2], j->seconds,
        self->vmin, self->vmax, self->dmax);
    gtk_label_set_text(self->status_label, text);
    g_free(text);
  } else {
    self->last_error = g_strdup(error->message);
    gtk_label_set_text(self->status_label, error->message);
    g_error_free(error);
  }
  gtk_widget_queue_draw(GTK_WIDGET(self->canvas));
  g_signal_emit(self, signals[COMPUTED], 0, ok);
}

static void start_job(LucyCompareView *self, LucyVolume *image, LucyVolume *psf) {
  Job *j = g_new0(Job, 1);
  j->generation = ++self->generation;
  j->image = image;
  j->psf = psf;
  self->busy = TRUE;
  gtk_label_set_text(self->status_label, "Convolving in the four padding modes…");
  GTask *task = g_task_new(self, NULL, job_done, NULL);
  g_task_set_task_data(task, j, job_free);
  g_task_run_in_thread(task, job_thread);
  g_object_unref(task);
}

/* ---- drawing ------------------------------------------------------------------------------ */

typedef struct {
  double scale;
  graphene_rect_t r[LUCY_COMPARE_N_PANELS];  /* XY */
  graphene_rect_t rz[LUCY_COMPARE_N_PANELS]; /* XZ, below */
  double slot[LUCY_COMPARE_N_PANELS];        /* width of the column: image or header */
} Layout;

/* Panel i's two header lines: its name, then its sizes (or the difference's scale). */
static char *header_markup(LucyCompareView *self, int i) {
  char *line2;
  if (i < 4 && !self->proj[i])
    line2 = g_strdup("n/a: PSF larger than the image");
  else if (i < 4)
    line2 = g_strdup_printf("out %zu×%zu×%zu · FFT %zu×%zu×%zu", self->cmp.out_shape[i][0],
                            self->cmp.out_shape[i][1], self->cmp.out_shape[i][2],
                            self->cmp.fft_shape[i][0], self->cmp.fft_shape[i][1],
                            self->cmp.fft_shape[i][2]);
  else
    line2 = g_strdup_printf("<span foreground=\"#f08070\">red +</span>, "
                            "<span foreground=\"#80a8f0\">blue −</span> · ±%.3g",
                            self->dmax);
  char *markup = g_strdup_printf("<b>%s</b>\n<small>%s</small>", panel_names[i], line2);
  g_free(line2);
  return markup;
}

static PangoLayout *header_layout(LucyCompareView *self, int i) {
  PangoLayout *layout = gtk_widget_create_pango_layout(GTK_WIDGET(self->canvas), NULL);
  char *markup = header_markup(self, i);
  pango_layout_set_markup(layout, markup, -1);
  g_free(markup);
  return layout;
}

/* The largest scale at which the columns, each as wide as its image or its header, fit in
 * avail; by bisection, as the total width only grows with the scale. */
static double fit_scale(const int w[], const double header_w[], double avail, double s_max) {
  double lo = 0, hi = s_max;
  for (int it = 0; it < 50; it++) {
    const double s = (lo + hi) / 2;
    double total = 0;
    for (int i = 0; i < LUCY_COMPARE_N_PANELS; i++) total += MAX(w[i] * s, header_w[i]);
    if (total <= avail) lo = s;
    else hi = s;
  }
  return lo;
}

/* Every column is at least as wide as its header (up to a fifth of the width each, so the five
 * always fit): a panel a few pixels wide (a tiny valid region) cannot push its header under
 * the next one. */
static gboolean compute_layout(LucyCompareView *self, int W, int H, Layout *L) {
  if (!self->have) return FALSE;
  double sumw = 0, maxh = 0, maxd = 0, header_w[LUCY_COMPARE_N_PANELS];
  int w[LUCY_COMPARE_N_PANELS], h[LUCY_COMPARE_N_PANELS], d[LUCY_COMPARE_N_PANELS];
  const double avail = W - 2 * MARGIN - 4 * GAP;
  for (int i = 0; i < LUCY_COMPARE_N_PANELS; i++) {
    /* an impossible valid keeps an empty column for its header */
    w[i] = self->proj[i] ? (int)self->proj[i]->width : 0;
    h[i] = self->proj[i] ? (int)self->proj[i]->height : 0;
    d[i] = self->proj_xz[i] ? (int)self->proj_xz[i]->height : 0;
    sumw += w[i];
    maxh = MAX(maxh, h[i]);
    maxd = MAX(maxd, d[i]);
    int lw, lh;
    PangoLayout *layout = header_layout(self, i);
    pango_layout_get_pixel_size(layout, &lw, &lh);
    g_object_unref(layout);
    header_w[i] = MIN(lw + 6, avail / LUCY_COMPARE_N_PANELS);
  }
  if (sumw <= 0 || maxh <= 0 || avail <= 0) return FALSE;
  double s = MIN(avail / sumw, (H - 2 * MARGIN - LABEL_H - GAP) / (maxh + maxd));
  s = fit_scale(w, header_w, avail, MIN(s, MAX_SCALE));
  if (s <= 0) return FALSE;
  double total = 4 * GAP;
  for (int i = 0; i < LUCY_COMPARE_N_PANELS; i++) total += L->slot[i] = MAX(w[i] * s, header_w[i]);
  double x = MAX(MARGIN, (W - total) / 2);
  for (int i = 0; i < LUCY_COMPARE_N_PANELS; i++) {
    L->r[i] = GRAPHENE_RECT_INIT((float)round(x), (float)(MARGIN + LABEL_H), (float)(w[i] * s),
                                 (float)(h[i] * s));
    L->rz[i] = GRAPHENE_RECT_INIT((float)round(x), (float)round(MARGIN + LABEL_H + maxh * s + GAP),
                                  (float)(w[i] * s), (float)(d[i] * s));
    x += L->slot[i] + GAP;
  }
  L->scale = s;
  return TRUE;
}

/* Lays layout out at most max_w wide (cut with "…" beyond) and says where its plate goes. */
static graphene_rect_t fit_text(PangoLayout *layout, double x, double y, double max_w,
                                gboolean *cut) {
  pango_layout_set_width(layout, (int)(MAX(max_w, 1) * PANGO_SCALE));
  pango_layout_set_ellipsize(layout, PANGO_ELLIPSIZE_END);
  int lw, lh;
  pango_layout_get_pixel_size(layout, &lw, &lh);
  if (cut) *cut = pango_layout_is_ellipsized(layout);
  return GRAPHENE_RECT_INIT((float)(x - 3), (float)(y - 1), (float)(lw + 6), (float)(lh + 2));
}

static void show_text(cairo_t *cr, PangoLayout *layout, const graphene_rect_t *plate) {
  /* a dark plate keeps the label readable whatever the theme */
  cairo_set_source_rgba(cr, 0, 0, 0, 0.6);
  cairo_rectangle(cr, plate->origin.x, plate->origin.y, plate->size.width, plate->size.height);
  cairo_fill(cr);
  cairo_set_source_rgba(cr, 1, 1, 1, 0.95);
  cairo_move_to(cr, plate->origin.x + 3, plate->origin.y + 1);
  pango_cairo_show_layout(cr, layout);
}

static void draw_text(LucyCompareView *self, cairo_t *cr, double x, double y, double max_w,
                      const char *markup) {
  PangoLayout *layout = gtk_widget_create_pango_layout(GTK_WIDGET(self->canvas), NULL);
  pango_layout_set_markup(layout, markup, -1);
  const graphene_rect_t plate = fit_text(layout, x, y, max_w, NULL);
  show_text(cr, layout, &plate);
  g_object_unref(layout);
}

/* Panel i's header, within its column; a new layout, the caller's to unref. */
static PangoLayout *place_header(LucyCompareView *self, const Layout *L, int i,
                                 graphene_rect_t *plate, gboolean *cut) {
  PangoLayout *layout = header_layout(self, i);
  *plate = fit_text(layout, L->r[i].origin.x + 3, MARGIN, L->slot[i] - 6, cut);
  return layout;
}

static void draw_panel(LucyCompareView *self, cairo_t *cr, cairo_surface_t *surf,
                       const graphene_rect_t *r, double scale, int i, int xy);

static void draw_cb(GtkDrawingArea *area, cairo_t *cr, int W, int H, gpointer data) {
  LucyCompareView *self = data;
  cairo_set_source_rgb(cr, 0.12, 0.12, 0.13);
  cairo_paint(cr);
  Layout L;
  if (!compute_layout(self, W, H, &L)) {
    draw_text(self, cr, MARGIN, MARGIN, W - 2 * MARGIN,
              self->busy ? "Computing…"
                         : "Open an image and a PSF in the main window, or click "
                           "<b>Wrap-around sample</b>");
    return;
  }
  for (int i = 0; i < LUCY_COMPARE_N_PANELS; i++) {
    graphene_rect_t plate;
    PangoLayout *layout = place_header(self, &L, i, &plate, NULL);
    show_text(cr, layout, &plate);
    g_object_unref(layout);
    if (!self->surface[i]) continue;
    draw_panel(self, cr, self->surface[i], &L.r[i], L.scale, i, 1);
    draw_panel(self, cr, self->surface_xz[i], &L.rz[i], L.scale, i, 0);
  }
}

/* One panel: the image, its frame and the valid region's outline (axis 1 is y for XY, 0 is z
 * for XZ; the difference is on same's grid). */
static void draw_panel(LucyCompareView *self, cairo_t *cr, cairo_surface_t *surf,
                       const graphene_rect_t *r, double scale, int i, int xy) {
  {
    const int ax = xy ? 1 : 0;
    cairo_save(cr);
    cairo_rectangle(cr, r->origin.x, r->origin.y, r->size.width, r->size.height);
    cairo_clip(cr);
    cairo_translate(cr, r->origin.x, r->origin.y);
    cairo_scale(cr, scale, scale);
    cairo_set_source_surface(cr, surf, 0, 0);
    cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
    cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
    cairo_paint(cr);
    cairo_restore(cr);
    /* frame */
    cairo_set_line_width(cr, 1.0);
    cairo_set_source_rgba(cr, 0.6, 0.6, 0.6, 0.8);
    cairo_rectangle(cr, r->origin.x - 0.5, r->origin.y - 0.5, r->size.width + 1,
                    r->size.height + 1);
    cairo_stroke(cr);
    /* the valid region, in this panel's coordinates (the difference is on same's grid) */
    const size_t *vs = self->cmp.valid_shape;
    if (vs[ax] && vs[2]) {
      const int mode = i < 4 ? i : LUCY_PAD_SAME;
      const double x0 = r->origin.x + self->cmp.valid_start[mode][2] * scale;
      const double y0 = r->origin.y + self->cmp.valid_start[mode][ax] * scale;
      const double dash[2] = {5, 3};
      cairo_save(cr);
      cairo_set_dash(cr, dash, 2, 0);
      cairo_set_line_width(cr, 1.5);
      cairo_set_source_rgba(cr, 1.0, 0.85, 0.2, 0.95);
      cairo_rectangle(cr, x0 + 0.75, y0 + 0.75, vs[2] * scale - 1.5, vs[ax] * scale - 1.5);
      cairo_stroke(cr);
      cairo_restore(cr);
    }
  }
}

/* ---- the sample ------------------------------------------------------------------------- */

static gboolean make_sample(LucyVolume **image, LucyVolume **psf, GError **error) {
  const size_t shape[3] = {24, 96, 96};
  const double voxel[3] = {0.3, 0.1, 0.1};
  LucyStatus st = lucy_volume_new(shape, image);
  if (st) {
    lucy_set_error_from_status(error, st, "Could not make the sample");
    return FALSE;
  }
  memcpy((*image)->voxel_um, voxel, sizeof voxel);
  /* spheres cut by the borders (left, top, bottom-right corner, the first and last planes) and
   * one well inside, for comparison */
  const LucySphere spheres[] = {
      {{12, 46, 2}, 10, 1.0}, {{10, 3, 64}, 8, 0.8}, {{14, 92, 92}, 9, 0.9},
      {{1, 70, 30}, 7, 0.7},  {{22, 24, 28}, 6, 0.6}, {{12, 52, 56}, 7, 1.0},
  };
  st = lucy_phantom_add_spheres(*image, spheres, G_N_ELEMENTS(spheres));
  const size_t pshape[3] = {21, 15, 15};
  const double sigma[3] = {4.0, 2.0, 2.0}; /* long along z */
  if (!st) st = lucy_psf_gaussian(pshape, sigma, psf);
  if (st) {
    lucy_set_error_from_status(error, st, "Could not make the sample");
    lucy_volume_free(*image);
    *image = NULL;
    return FALSE;
  }
  memcpy((*psf)->voxel_um, voxel, sizeof voxel);
  return TRUE;
}

gboolean lucy_compare_view_load_sample(LucyCompareView *self, GError **error) {
  LucyVolume *image = NULL, *psf = NULL;
  if (!make_sample(&image, &psf, error)) return FALSE;
  g_free(self->source);
  self->source = g_strdup("Wrap-around sample");
  start_job(self, image, psf);
  gtk_widget_queue_draw(GTK_WIDGET(self->canvas));
  return TRUE;
}

static void sample_clicked_cb(LucyCompareView *self) {
  GError *error = NULL;
  if (!lucy_compare_view_load_sample(self, &error)) {
    gtk_label_set_text(self->status_label, error->message);
    g_error_free(error);
  }
}

/* ---- public ----------------------------------------------------------------------------- */

void lucy_compare_view_set_volumes(LucyCompareView *self, const LucyVolume *image,
                                   const LucyVolume *psf) {
  LucyVolume *a = NULL, *b = NULL;
  if (lucy_volume_copy(image, &a) || lucy_volume_copy(psf, &b)) {
    lucy_volume_free(a);
    gtk_label_set_text(self->status_label, "Out of memory copying the image and PSF");
    return;
  }
  g_free(self->source);
  self->source = g_strdup("Current image");
  start_job(self, a, b);
  gtk_widget_queue_draw(GTK_WIDGET(self->canvas));
}

gboolean lucy_compare_view_is_busy(LucyCompareView *self) { return self->busy; }

const char *lucy_compare_view_get_last_error(LucyCompareView *self) { return self->last_error; }

const LucyCompare *lucy_compare_view_get_compare(LucyCompareView *self) {
  return self->have ? &self->cmp : NULL;
}

const float *lucy_compare_view_get_panel(LucyCompareView *self, int i, int *width, int *height) {
  const LucyImage *p =
      self->have && i >= 0 && i < LUCY_COMPARE_N_PANELS ? self->proj[i] : NULL;
  if (width) *width = p ? (int)p->width : 0;
  if (height) *height = p ? (int)p->height : 0;
  return p ? p->data : NULL;
}

gboolean lucy_compare_view_get_panel_rect(LucyCompareView *self, int i, graphene_rect_t *rect,
                                          double *scale) {
  Layout L;
  if (i < 0 || i >= LUCY_COMPARE_N_PANELS ||
      !compute_layout(self, gtk_widget_get_width(GTK_WIDGET(self->canvas)),
                      gtk_widget_get_height(GTK_WIDGET(self->canvas)), &L))
    return FALSE;
  if (rect) *rect = L.r[i];
  if (scale) *scale = L.scale;
  return TRUE;
}

gboolean lucy_compare_view_get_header_rect(LucyCompareView *self, int i, graphene_rect_t *rect,
                                           gboolean *ellipsized) {
  Layout L;
  if (i < 0 || i >= LUCY_COMPARE_N_PANELS ||
      !compute_layout(self, gtk_widget_get_width(GTK_WIDGET(self->canvas)),
                      gtk_widget_get_height(GTK_WIDGET(self->canvas)), &L))
    return FALSE;
  graphene_rect_t plate;
  g_object_unref(place_header(self, &L, i, &plate, ellipsized));
  if (rect) *rect = plate;
  return TRUE;
}

GtkWidget *lucy_compare_view_get_canvas(LucyCompareView *self) { return GTK_WIDGET(self->canvas); }

GtkLabel *lucy_compare_view_get_explanation(LucyCompareView *self) { return self->explanation; }

static void lucy_compare_view_dispose(GObject *object) {
  LucyCompareView *self = LUCY_COMPARE_VIEW(object);
  self->generation++; /* a result still on its way is dropped */
  self->busy = FALSE;
  gtk_widget_dispose_template(GTK_WIDGET(self), LUCY_TYPE_COMPARE_VIEW);
  G_OBJECT_CLASS(lucy_compare_view_parent_class)->dispose(object);
}

static void lucy_compare_view_finalize(GObject *object) {
  LucyCompareView *self = LUCY_COMPARE_VIEW(object);
  clear_result(self);
  g_free(self->source);
  g_free(self->last_error);
  G_OBJECT_CLASS(lucy_compare_view_parent_class)->finalize(object);
}

static void lucy_compare_view_class_init(LucyCompareViewClass *klass) {
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->dispose = lucy_compare_view_dispose;
  G_OBJECT_CLASS(klass)->finalize = lucy_compare_view_finalize;
  signals[COMPUTED] = g_signal_new("computed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
  gtk_widget_class_set_template_from_resource(widget_class,
                                              "/org/lucy/Lucy/lucy-compare-view.ui");
  gtk_widget_class_bind_template_child(widget_class, LucyCompareView, status_label);
  gtk_widget_class_bind_template_child(widget_class, LucyCompareView, canvas);
  gtk_widget_class_bind_template_child(widget_class, LucyCompareView, explanation);
  gtk_widget_class_bind_template_callback(widget_class, sample_clicked_cb);
}

static void lucy_compare_view_init(LucyCompareView *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  gtk_drawing_area_set_draw_func(self->canvas, draw_cb, self, NULL);
}

LucyCompareView *lucy_compare_view_new(void) { return g_object_new(LUCY_TYPE_COMPARE_VIEW, NULL); }

GtkWindow *lucy_compare_view_new_window(GtkWindow *parent, LucyCompareView **view) {
  GtkWindow *win = GTK_WINDOW(gtk_window_new());
  gtk_window_set_title(win, "Padding Modes — Lucy");
  gtk_window_set_default_size(win, 1500, 600);
  if (parent) {
    gtk_window_set_transient_for(win, parent);
    gtk_window_set_application(win, gtk_window_get_application(parent));
  }
  LucyCompareView *v = lucy_compare_view_new();
  gtk_window_set_child(win, GTK_WIDGET(v));
  if (view) *view = v;
  return win;
}
