/* LucyProjectionView: draws cached projections with cairo, nearest-neighbour. */
#include "lucy-projection-view.h"

#include <math.h>
#include <string.h>

#define GAP 6.0
#define MARGIN 12.0
#define ZOOM_MIN 0.1
#define ZOOM_MAX 200.0

struct _LucyProjectionView {
  GtkWidget parent_instance;
  LucyStack *stack;
  gboolean slice;
  guint z;
  LucyRenderOptions opts;
  double vmin, vmax;
  gboolean have_render;
  /* per panel: rendered RGBA and the cairo surface drawn from it */
  guint8 *rgba[3];
  gsize rw[3], rh[3];
  cairo_surface_t *surface[3];
  guint render_count;
  double zoom, pan_x, pan_y;
  double drag_pan_x, drag_pan_y;
  char *hover_text;
  gboolean pointer_in;
  double pointer_x, pointer_y;
  char *empty_text; /* drawn without a stack */
  char *note;       /* drawn over the panels: a constant stack's value */
  gboolean constant;
  double constant_value;
};

enum { PROP_0, PROP_STACK, PROP_HOVER_TEXT, N_PROPS };
static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE(LucyProjectionView, lucy_projection_view, GTK_TYPE_WIDGET)

typedef struct {
  double scale; /* screen pixels per micrometre */
  graphene_rect_t r[3];
} Layout;

static gboolean compute_layout(LucyProjectionView *self, double W, double H, Layout *L) {
  if (!self->stack) return FALSE;
  const LucyVolume *v = lucy_stack_get_volume(self->stack);
  double wxy = v->shape[LUCY_X] * v->voxel_um[LUCY_X];
  double hxy = v->shape[LUCY_Y] * v->voxel_um[LUCY_Y];
  /* ZY and XZ even one plane thin: a 1×1×1 result is three panels of one voxel each */
  double dz = v->shape[LUCY_Z] * v->voxel_um[LUCY_Z];
  double aw = MAX(W - 2 * MARGIN - GAP, 16.0), ah = MAX(H - 2 * MARGIN - GAP, 16.0);
  double fit = MIN(aw / (wxy + dz), ah / (hxy + dz));
  double s = fit * self->zoom;
  double cw = (wxy + dz) * s + GAP, ch = (hxy + dz) * s + GAP;
  double ox = floor((W - cw) / 2 + self->pan_x), oy = floor((H - ch) / 2 + self->pan_y);
  L->scale = s;
  graphene_rect_init(&L->r[LUCY_PROJ_XY], ox, oy, wxy * s, hxy * s);
  graphene_rect_init(&L->r[LUCY_PROJ_ZY], ox + wxy * s + GAP, oy, dz * s, hxy * s);
  graphene_rect_init(&L->r[LUCY_PROJ_XZ], ox, oy + hxy * s + GAP, wxy * s, dz * s);
  return TRUE;
}

const LucyImage *lucy_projection_view_get_shown(LucyProjectionView *self, LucyProjection which) {
  g_return_val_if_fail(LUCY_IS_PROJECTION_VIEW(self), NULL);
  if (!self->stack) return NULL;
  if (which == LUCY_PROJ_XY && self->slice) return lucy_stack_get_plane(self->stack, self->z);
  return lucy_stack_get_projection(self->stack, which);
}

static void free_render(LucyProjectionView *self) {
  for (int i = 0; i < 3; i++) {
    g_clear_pointer(&self->surface[i], cairo_surface_destroy);
    g_clear_pointer(&self->rgba[i], g_free);
    self->rw[i] = self->rh[i] = 0;
  }
}

/* A constant stack has no range to stretch (min = max maps every voxel to the colormap's
 * bottom), so it is shown around its value at the colormap's middle: halfway between
 * value ∓ |value|/2, or a decade either side of it in log display. */
static void display_range(LucyProjectionView *self, double *vmin, double *vmax) {
  *vmin = self->vmin;
  *vmax = self->vmax;
  if (self->vmax > self->vmin || !self->constant) return;
  const double c = self->constant_value;
  if (self->opts.log && c > 0) {
    *vmin = c / 10;
    *vmax = c * 10;
  } else {
    const double d = c != 0 ? fabs(c) / 2 : 1;
    *vmin = c - d;
    *vmax = c + d;
  }
}

/* Every voxel the same finite value: the projections are flat first (cheap), then the
 * volume's min and max agree (one pass, only for flat projections). */
static gboolean stack_constant(LucyStack *stack, double *value) {
  for (int i = 0; i < 3; i++) {
    const LucyImage *p = lucy_stack_get_projection(stack, (LucyProjection)i);
    if (!p) return FALSE;
    for (gsize k = 1; k < p->width * p->height; k++)
      if (p->data[k] != p->data[0]) return FALSE;
  }
  double lo, hi;
  lucy_stack_get_range(stack, &lo, &hi);
  *value = lo;
  return isfinite(lo) && lo == hi;
}

static void update_note(LucyProjectionView *self) {
  g_clear_pointer(&self->note, g_free);
  self->constant = self->stack && stack_constant(self->stack, &self->constant_value);
  if (self->constant)
    self->note = g_strdup_printf("constant: every voxel is %.6g", self->constant_value);
}

static void render_panel(LucyProjectionView *self, int i) {
  const LucyImage *img = lucy_projection_view_get_shown(self, (LucyProjection)i);
  if (!img || img->width == 0 || img->height == 0) return;
  if (!self->surface[i] || self->rw[i] != img->width || self->rh[i] != img->height) {
    g_clear_pointer(&self->surface[i], cairo_surface_destroy);
    g_free(self->rgba[i]);
    self->rgba[i] = g_malloc(img->width * img->height * 4);
    self->rw[i] = img->width;
    self->rh[i] = img->height;
    self->surface[i] =
        cairo_image_surface_create(CAIRO_FORMAT_RGB24, (int)img->width, (int)img->height);
  }
  double vmin, vmax;
  display_range(self, &vmin, &vmax);
  lucy_render_rgba(img, &self->opts, vmin, vmax, self->rgba[i]);
  cairo_surface_flush(self->surface[i]);
  guint8 *dst = cairo_image_surface_get_data(self->surface[i]);
  int stride = cairo_image_surface_get_stride(self->surface[i]);
  const guint8 *src = self->rgba[i];
  for (gsize y = 0; y < img->height; y++) {
    guint32 *row = (guint32 *)(void *)(dst + (gsize)stride * y);
    const guint8 *s = src + y * img->width * 4;
    for (gsize x = 0; x < img->width; x++, s += 4)
      row[x] = 0xff000000u | ((guint32)s[0] << 16) | ((guint32)s[1] << 8) | s[2];
  }
  cairo_surface_mark_dirty(self->surface[i]);
}

static void rerender(LucyProjectionView *self) {
  if (!self->stack || !self->have_render) {
    free_render(self);
    gtk_widget_queue_draw(GTK_WIDGET(self));
    return;
  }
  for (int i = 0; i < 3; i++) render_panel(self, i);
  self->render_count++;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void lucy_projection_view_set_render(LucyProjectionView *self, const LucyRenderOptions *opts,
                                     double vmin, double vmax) {
  g_return_if_fail(LUCY_IS_PROJECTION_VIEW(self));
  self->opts = *opts;
  self->vmin = vmin;
  self->vmax = vmax;
  self->have_render = TRUE;
  rerender(self);
}

const guint8 *lucy_projection_view_get_rgba(LucyProjectionView *self, LucyProjection which,
                                            gsize *width, gsize *height) {
  g_return_val_if_fail(LUCY_IS_PROJECTION_VIEW(self), NULL);
  if (width) *width = self->rw[which];
  if (height) *height = self->rh[which];
  return self->rgba[which];
}

guint lucy_projection_view_get_render_count(LucyProjectionView *self) {
  return self->render_count;
}

static void set_hover_text(LucyProjectionView *self, const char *text) {
  if (g_strcmp0(self->hover_text, text) == 0) return;
  g_free(self->hover_text);
  self->hover_text = g_strdup(text);
  g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_HOVER_TEXT]);
}

const char *lucy_projection_view_get_hover_text(LucyProjectionView *self) {
  return self->hover_text;
}

void lucy_projection_view_set_stack(LucyProjectionView *self, LucyStack *stack) {
  g_return_if_fail(LUCY_IS_PROJECTION_VIEW(self));
  if (self->stack == stack) return;
  gboolean same_shape = FALSE;
  if (self->stack && stack) {
    const LucyVolume *a = lucy_stack_get_volume(self->stack), *b = lucy_stack_get_volume(stack);
    same_shape = memcmp(a->shape, b->shape, sizeof a->shape) == 0;
  }
  g_set_object(&self->stack, stack);
  if (stack) {
    guint nz = (guint)lucy_stack_get_volume(stack)->shape[LUCY_Z];
    if (self->z >= nz) self->z = nz - 1;
  }
  if (!same_shape) self->zoom = 1.0, self->pan_x = self->pan_y = 0.0;
  update_note(self);
  free_render(self);
  set_hover_text(self, NULL);
  /* The owner sets new render options for the new stack; until then nothing is drawn. */
  self->have_render = FALSE;
  gtk_widget_queue_draw(GTK_WIDGET(self));
  g_object_notify_by_pspec(G_OBJECT(self), properties[PROP_STACK]);
}

LucyStack *lucy_projection_view_get_stack(LucyProjectionView *self) { return self->stack; }

void lucy_projection_view_set_slice(LucyProjectionView *self, gboolean slice, guint z) {
  g_return_if_fail(LUCY_IS_PROJECTION_VIEW(self));
  if (self->stack) {
    guint nz = (guint)lucy_stack_get_volume(self->stack)->shape[LUCY_Z];
    if (z >= nz) z = nz - 1;
  }
  if (self->slice == !!slice && self->z == z) return;
  self->slice = !!slice;
  self->z = z;
  free_render(self);
  self->have_render = FALSE; /* the owner re-resolves contrast for what is shown */
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

gboolean lucy_projection_view_get_slice(LucyProjectionView *self, guint *z) {
  if (z) *z = self->z;
  return self->slice;
}

gboolean lucy_projection_view_get_panel_rect(LucyProjectionView *self, LucyProjection which,
                                             graphene_rect_t *rect) {
  Layout L;
  if (!compute_layout(self, gtk_widget_get_width(GTK_WIDGET(self)),
                      gtk_widget_get_height(GTK_WIDGET(self)), &L))
    return FALSE;
  *rect = L.r[which];
  return TRUE;
}

static void draw_panel(cairo_t *cr, cairo_surface_t *surf, gsize w, gsize h,
                       const graphene_rect_t *r) {
  if (!surf || r->size.width <= 0 || r->size.height <= 0) return;
  cairo_save(cr);
  cairo_rectangle(cr, r->origin.x, r->origin.y, r->size.width, r->size.height);
  cairo_clip(cr);
  cairo_translate(cr, r->origin.x, r->origin.y);
  cairo_scale(cr, r->size.width / (double)w, r->size.height / (double)h);
  cairo_set_source_surface(cr, surf, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_pattern_set_extend(cairo_get_source(cr), CAIRO_EXTEND_PAD);
  cairo_paint(cr);
  cairo_restore(cr);
}

static void add_label(LucyProjectionView *self, GtkSnapshot *snapshot, const char *text, double x,
                      double y) {
  PangoLayout *layout = gtk_widget_create_pango_layout(GTK_WIDGET(self), text);
  /* A dark plate keeps the label readable on bright data (light colormaps, saturated panels). */
  GdkRGBA plate = {0, 0, 0, 0.6}, fg = {1, 1, 1, 0.95};
  int lw, lh;
  pango_layout_get_pixel_size(layout, &lw, &lh);
  gtk_snapshot_save(snapshot);
  gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT((float)x, (float)y));
  gtk_snapshot_append_color(snapshot, &plate, &GRAPHENE_RECT_INIT(-3, -1, lw + 6, lh + 2));
  gtk_snapshot_append_layout(snapshot, layout, &fg);
  gtk_snapshot_restore(snapshot);
  g_object_unref(layout);
}

/* Centred at the bottom of the canvas, where a flat stack hides nothing under it. */
static void add_note(LucyProjectionView *self, GtkSnapshot *snapshot, const char *text, double W,
                     double H) {
  PangoLayout *layout = gtk_widget_create_pango_layout(GTK_WIDGET(self), text);
  int lw, lh;
  pango_layout_get_pixel_size(layout, &lw, &lh);
  g_object_unref(layout);
  add_label(self, snapshot, text, floor((W - lw) / 2), H - MARGIN - lh);
}

static void lucy_projection_view_snapshot(GtkWidget *widget, GtkSnapshot *snapshot) {
  LucyProjectionView *self = LUCY_PROJECTION_VIEW(widget);
  double W = gtk_widget_get_width(widget), H = gtk_widget_get_height(widget);
  Layout L;
  if (!compute_layout(self, W, H, &L)) {
    PangoLayout *layout = gtk_widget_create_pango_layout(widget, self->empty_text);
    int lw, lh;
    pango_layout_get_pixel_size(layout, &lw, &lh);
    GdkRGBA fg = {0.8, 0.8, 0.8, 1};
    gtk_snapshot_save(snapshot);
    gtk_snapshot_translate(snapshot, &GRAPHENE_POINT_INIT((float)(W - lw) / 2, (float)(H - lh) / 2));
    gtk_snapshot_append_layout(snapshot, layout, &fg);
    gtk_snapshot_restore(snapshot);
    g_object_unref(layout);
    return;
  }
  const LucyVolume *v = lucy_stack_get_volume(self->stack);
  cairo_t *cr = gtk_snapshot_append_cairo(snapshot, &GRAPHENE_RECT_INIT(0, 0, (float)W, (float)H));
  for (int i = 0; i < 3; i++) draw_panel(cr, self->surface[i], self->rw[i], self->rh[i], &L.r[i]);
  /* panel frames */
  cairo_set_line_width(cr, 1.0);
  cairo_set_source_rgba(cr, 0.6, 0.6, 0.6, 0.8);
  for (int i = 0; i < 3; i++)
    cairo_rectangle(cr, L.r[i].origin.x - 0.5, L.r[i].origin.y - 0.5, L.r[i].size.width + 1,
                    L.r[i].size.height + 1);
  cairo_stroke(cr);
  if (self->slice) {
    double dz = v->voxel_um[LUCY_Z] * L.scale;
    double zx = L.r[LUCY_PROJ_ZY].origin.x + (self->z + 0.5) * dz;
    double zy = L.r[LUCY_PROJ_XZ].origin.y + (self->z + 0.5) * dz;
    static const double dash[] = {4.0, 3.0};
    cairo_set_dash(cr, dash, 2, 0);
    cairo_set_source_rgba(cr, 1.0, 0.85, 0.2, 0.9);
    cairo_move_to(cr, zx, L.r[LUCY_PROJ_ZY].origin.y);
    cairo_line_to(cr, zx, L.r[LUCY_PROJ_ZY].origin.y + L.r[LUCY_PROJ_ZY].size.height);
    cairo_move_to(cr, L.r[LUCY_PROJ_XZ].origin.x, zy);
    cairo_line_to(cr, L.r[LUCY_PROJ_XZ].origin.x + L.r[LUCY_PROJ_XZ].size.width, zy);
    cairo_stroke(cr);
  }
  cairo_destroy(cr);
  char xy_label[64];
  if (self->slice)
    g_snprintf(xy_label, sizeof xy_label, "XY  z = %u", self->z);
  else
    g_snprintf(xy_label, sizeof xy_label, "XY");
  static const char *names[3] = {NULL, "ZY", "XZ"};
  for (int i = 0; i < 3; i++) {
    if (L.r[i].size.width < 28 || L.r[i].size.height < 20) continue;
    add_label(self, snapshot, i == 0 ? xy_label : names[i], L.r[i].origin.x + 4,
              L.r[i].origin.y + 2);
  }
  if (self->note) add_note(self, snapshot, self->note, W, H);
}

char *lucy_projection_view_describe_point(LucyProjectionView *self, double px, double py) {
  Layout L;
  if (!compute_layout(self, gtk_widget_get_width(GTK_WIDGET(self)),
                      gtk_widget_get_height(GTK_WIDGET(self)), &L))
    return NULL;
  const LucyVolume *v = lucy_stack_get_volume(self->stack);
  const double *vu = v->voxel_um;
  for (int i = 0; i < 3; i++) {
    const graphene_rect_t *r = &L.r[i];
    if (px < r->origin.x || py < r->origin.y || px >= r->origin.x + r->size.width ||
        py >= r->origin.y + r->size.height)
      continue;
    const LucyImage *img = lucy_projection_view_get_shown(self, (LucyProjection)i);
    if (!img) return NULL;
    gsize col = (gsize)((px - r->origin.x) / r->size.width * img->width);
    gsize row = (gsize)((py - r->origin.y) / r->size.height * img->height);
    col = MIN(col, img->width - 1);
    row = MIN(row, img->height - 1);
    float value = img->data[row * img->width + col];
    switch (i) {
      case LUCY_PROJ_XY:
        if (self->slice)
          return g_strdup_printf("XY  x %zu  y %zu  z %u  (%.2f, %.2f, %.2f µm)   %.6g", col, row,
                                 self->z, col * vu[LUCY_X], row * vu[LUCY_Y],
                                 self->z * vu[LUCY_Z], value);
        return g_strdup_printf("XY max over z  x %zu  y %zu  (%.2f, %.2f µm)   %.6g", col, row,
                               col * vu[LUCY_X], row * vu[LUCY_Y], value);
      case LUCY_PROJ_ZY:
        return g_strdup_printf("ZY max over x  z %zu  y %zu  (%.2f, %.2f µm)   %.6g", col, row,
                               col * vu[LUCY_Z], row * vu[LUCY_Y], value);
      default:
        return g_strdup_printf("XZ max over y  x %zu  z %zu  (%.2f, %.2f µm)   %.6g", col, row,
                               col * vu[LUCY_X], row * vu[LUCY_Z], value);
    }
  }
  return NULL;
}

static void motion_cb(GtkEventControllerMotion *c, double x, double y, LucyProjectionView *self) {
  self->pointer_in = TRUE;
  self->pointer_x = x;
  self->pointer_y = y;
  char *text = lucy_projection_view_describe_point(self, x, y);
  set_hover_text(self, text);
  g_free(text);
}

static void leave_cb(GtkEventControllerMotion *c, LucyProjectionView *self) {
  self->pointer_in = FALSE;
  set_hover_text(self, NULL);
}

static void zoom_at(LucyProjectionView *self, double factor, double px, double py) {
  double W = gtk_widget_get_width(GTK_WIDGET(self)), H = gtk_widget_get_height(GTK_WIDGET(self));
  Layout before, after;
  if (!compute_layout(self, W, H, &before)) return;
  double nz = CLAMP(self->zoom * factor, ZOOM_MIN, ZOOM_MAX);
  if (nz == self->zoom) return;
  double ratio = nz / self->zoom;
  self->zoom = nz;
  compute_layout(self, W, H, &after);
  /* keep the scene point under (px, py) fixed */
  double want_x = px - (px - before.r[0].origin.x) * ratio;
  double want_y = py - (py - before.r[0].origin.y) * ratio;
  self->pan_x += want_x - after.r[0].origin.x;
  self->pan_y += want_y - after.r[0].origin.y;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

void lucy_projection_view_zoom(LucyProjectionView *self, double factor) {
  zoom_at(self, factor, gtk_widget_get_width(GTK_WIDGET(self)) / 2.0,
          gtk_widget_get_height(GTK_WIDGET(self)) / 2.0);
}

void lucy_projection_view_zoom_fit(LucyProjectionView *self) {
  self->zoom = 1.0;
  self->pan_x = self->pan_y = 0.0;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

double lucy_projection_view_get_zoom(LucyProjectionView *self) { return self->zoom; }

const char *lucy_projection_view_get_note(LucyProjectionView *self) { return self->note; }

void lucy_projection_view_set_empty_text(LucyProjectionView *self, const char *text) {
  g_return_if_fail(LUCY_IS_PROJECTION_VIEW(self));
  if (g_strcmp0(self->empty_text, text) == 0) return;
  g_free(self->empty_text);
  self->empty_text = g_strdup(text);
  if (!self->stack) gtk_widget_queue_draw(GTK_WIDGET(self));
}

const char *lucy_projection_view_get_empty_text(LucyProjectionView *self) {
  return self->empty_text;
}

static gboolean scroll_cb(GtkEventControllerScroll *c, double dx, double dy,
                          LucyProjectionView *self) {
  double x = self->pointer_in ? self->pointer_x : gtk_widget_get_width(GTK_WIDGET(self)) / 2.0;
  double y = self->pointer_in ? self->pointer_y : gtk_widget_get_height(GTK_WIDGET(self)) / 2.0;
  if (dy == 0) return FALSE;
  zoom_at(self, pow(1.2, -dy), x, y);
  return TRUE;
}

static void drag_begin_cb(GtkGestureDrag *g, double x, double y, LucyProjectionView *self) {
  self->drag_pan_x = self->pan_x;
  self->drag_pan_y = self->pan_y;
}

static void drag_update_cb(GtkGestureDrag *g, double dx, double dy, LucyProjectionView *self) {
  self->pan_x = self->drag_pan_x + dx;
  self->pan_y = self->drag_pan_y + dy;
  gtk_widget_queue_draw(GTK_WIDGET(self));
}

static void lucy_projection_view_get_property(GObject *object, guint prop_id, GValue *value,
                                              GParamSpec *pspec) {
  LucyProjectionView *self = LUCY_PROJECTION_VIEW(object);
  switch (prop_id) {
    case PROP_STACK: g_value_set_object(value, self->stack); break;
    case PROP_HOVER_TEXT: g_value_set_string(value, self->hover_text); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void lucy_projection_view_set_property(GObject *object, guint prop_id,
                                              const GValue *value, GParamSpec *pspec) {
  LucyProjectionView *self = LUCY_PROJECTION_VIEW(object);
  switch (prop_id) {
    case PROP_STACK: lucy_projection_view_set_stack(self, g_value_get_object(value)); break;
    default: G_OBJECT_WARN_INVALID_PROPERTY_ID(object, prop_id, pspec);
  }
}

static void lucy_projection_view_dispose(GObject *object) {
  LucyProjectionView *self = LUCY_PROJECTION_VIEW(object);
  g_clear_object(&self->stack);
  free_render(self);
  G_OBJECT_CLASS(lucy_projection_view_parent_class)->dispose(object);
}

static void lucy_projection_view_finalize(GObject *object) {
  g_free(LUCY_PROJECTION_VIEW(object)->hover_text);
  g_free(LUCY_PROJECTION_VIEW(object)->empty_text);
  g_free(LUCY_PROJECTION_VIEW(object)->note);
  G_OBJECT_CLASS(lucy_projection_view_parent_class)->finalize(object);
}

static void lucy_projection_view_measure(GtkWidget *widget, GtkOrientation orientation,
                                         int for_size, int *minimum, int *natural,
                                         int *minimum_baseline, int *natural_baseline) {
  *minimum = 160;
  *natural = orientation == GTK_ORIENTATION_HORIZONTAL ? 800 : 640;
}

static void lucy_projection_view_class_init(LucyProjectionViewClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->get_property = lucy_projection_view_get_property;
  object_class->set_property = lucy_projection_view_set_property;
  object_class->dispose = lucy_projection_view_dispose;
  object_class->finalize = lucy_projection_view_finalize;
  widget_class->snapshot = lucy_projection_view_snapshot;
  widget_class->measure = lucy_projection_view_measure;
  properties[PROP_STACK] = g_param_spec_object("stack", NULL, NULL, LUCY_TYPE_STACK,
                                               G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS);
  properties[PROP_HOVER_TEXT] = g_param_spec_string("hover-text", NULL, NULL, NULL,
                                                    G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, properties);
  gtk_widget_class_set_css_name(widget_class, "projection-view");
}

static void lucy_projection_view_init(LucyProjectionView *self) {
  self->zoom = 1.0;
  self->empty_text = g_strdup("No stack — open one with Ctrl+O");
  lucy_render_options_default(&self->opts);
  gtk_widget_set_overflow(GTK_WIDGET(self), GTK_OVERFLOW_HIDDEN);
  gtk_widget_set_cursor_from_name(GTK_WIDGET(self), "crosshair");
  gtk_widget_add_css_class(GTK_WIDGET(self), "projection-view");

  GtkEventController *motion = gtk_event_controller_motion_new();
  g_signal_connect(motion, "motion", G_CALLBACK(motion_cb), self);
  g_signal_connect(motion, "leave", G_CALLBACK(leave_cb), self);
  gtk_widget_add_controller(GTK_WIDGET(self), motion);

  GtkEventController *scroll = gtk_event_controller_scroll_new(
      GTK_EVENT_CONTROLLER_SCROLL_VERTICAL | GTK_EVENT_CONTROLLER_SCROLL_DISCRETE);
  g_signal_connect(scroll, "scroll", G_CALLBACK(scroll_cb), self);
  gtk_widget_add_controller(GTK_WIDGET(self), scroll);

  GtkGesture *drag = gtk_gesture_drag_new();
  g_signal_connect(drag, "drag-begin", G_CALLBACK(drag_begin_cb), self);
  g_signal_connect(drag, "drag-update", G_CALLBACK(drag_update_cb), self);
  gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drag));
}

GtkWidget *lucy_projection_view_new(void) {
  return g_object_new(LUCY_TYPE_PROJECTION_VIEW, NULL);
}
