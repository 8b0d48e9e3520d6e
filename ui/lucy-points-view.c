/* LucyPointsView: gridded point-cloud convolution with the points overlaid. */
#include "lucy-points-view.h"

#include <lucy/lucy.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lucy-error.h"

#define TWO_PI 6.283185307179586

struct _LucyPointsView {
  GtkBox parent_instance;
  GtkSpinButton *grid_spin;
  GtkSpinButton *sigma_spin;
  GtkCheckButton *markers_check;
  GtkLabel *status_label;
  GtkDrawingArea *canvas;
  /* the points */
  char *name;
  size_t count;
  double *x, *y, *w;
  /* the last result */
  int n;
  float *image;
  double *values;
  float vmin, vmax;
  double values_max; /* largest value at the points */
  cairo_surface_t *surface; /* the image, colour mapped */
  /* the running task */
  guint generation;
  gboolean busy;
  gboolean show_markers;
  char *last_error;
};

enum { COMPUTED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(LucyPointsView, lucy_points_view, GTK_TYPE_BOX)

/* ---- CSV ------------------------------------------------------------------------------------ */

static gboolean parse_csv(const char *text, size_t *count, double **x, double **y, double **w,
                          GError **error) {
  char **lines = g_strsplit(text, "\n", -1);
  int cx = -1, cy = -1, cw = -1, ncol = 0;
  gboolean ok = FALSE;
  GArray *ax = g_array_new(FALSE, FALSE, sizeof(double));
  GArray *ay = g_array_new(FALSE, FALSE, sizeof(double));
  GArray *aw = g_array_new(FALSE, FALSE, sizeof(double));
  guint l = 0;
  while (lines[l] && !*g_strstrip(lines[l])) l++;
  if (!lines[l]) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "the file is empty");
    goto done;
  }
  {
    char **head = g_strsplit(lines[l], ",", -1);
    for (ncol = 0; head[ncol]; ncol++) {
      const char *h = g_strstrip(head[ncol]);
      if (!g_ascii_strcasecmp(h, "x")) cx = ncol;
      else if (!g_ascii_strcasecmp(h, "y")) cy = ncol;
      else if (!g_ascii_strcasecmp(h, "w")) cw = ncol;
    }
    g_strfreev(head);
  }
  if (cx < 0 || cy < 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                "the header (line %u) must name the columns x and y", l + 1);
    goto done;
  }
  for (guint i = l + 1; lines[i]; i++) {
    char *line = g_strstrip(lines[i]);
    if (!*line) continue;
    char **f = g_strsplit(line, ",", -1);
    int nf = (int)g_strv_length(f);
    double v[3] = {0, 0, 1};
    const int cols[3] = {cx, cy, cw};
    for (int k = 0; k < 3; k++) {
      if (cols[k] < 0) continue;
      char *end = NULL;
      const char *s = cols[k] < nf ? g_strstrip(f[cols[k]]) : "";
      v[k] = g_ascii_strtod(s, &end);
      if (!*s || !end || *end || !isfinite(v[k])) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "line %u: column %c is not a finite number (“%s”)", i + 1, "xyw"[k], s);
        g_strfreev(f);
        goto done;
      }
    }
    g_strfreev(f);
    g_array_append_val(ax, v[0]);
    g_array_append_val(ay, v[1]);
    g_array_append_val(aw, v[2]);
  }
  if (ax->len == 0) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "no points after the header");
    goto done;
  }
  *count = ax->len;
  *x = (double *)(void *)g_array_free(ax, FALSE);
  *y = (double *)(void *)g_array_free(ay, FALSE);
  *w = (double *)(void *)g_array_free(aw, FALSE);
  ax = ay = aw = NULL;
  ok = TRUE;
done:
  if (ax) g_array_free(ax, TRUE);
  if (ay) g_array_free(ay, TRUE);
  if (aw) g_array_free(aw, TRUE);
  g_strfreev(lines);
  return ok;
}

/* ---- the convolution task ---------------------------------------------------------------- */

typedef struct {
  guint generation;
  int n;
  double sigma;
  size_t count;
  double *x, *y, *w;
  float *image;
  double *values;
  double seconds;
} Job;

static void job_free(gpointer data) {
  Job *j = data;
  g_free(j->x);
  g_free(j->y);
  g_free(j->w);
  g_free(j->image);
  g_free(j->values);
  g_free(j);
}

static void job_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel) {
  Job *j = data;
  const gint64 t0 = g_get_monotonic_time();
  const size_t shape[3] = {1, (size_t)j->n, (size_t)j->n};
  LucyPointKernel kernel = {.kind = LUCY_POINT_KERNEL_GAUSSIAN,
                            .sigma = {j->sigma, j->sigma, j->sigma}};
  LucyPointsOptions opts;
  lucy_points_options_default(&opts);
  opts.eps = 1e-6;
  LucyPointConvPlan *plan = NULL;
  LucyStatus st = lucy_point_conv_plan_new(shape, &kernel, &opts, &plan);
  GError *error = NULL;
  if (st != LUCY_OK) {
    lucy_set_error_from_status(&error, st, "Could not plan the point convolution");
    g_task_return_error(task, error);
    return;
  }
  j->image = g_new(float, (size_t)j->n * (size_t)j->n);
  j->values = g_new(double, j->count);
  const LucyPointCloud pts = {.count = j->count, .x = j->x, .y = j->y, .w = j->w};
  st = lucy_point_conv_execute(plan, &pts, j->values, j->image);
  if (st != LUCY_OK) lucy_set_error_from_status(&error, st, "The point convolution failed");
  lucy_point_conv_plan_free(plan);
  j->seconds = (double)(g_get_monotonic_time() - t0) * 1e-6;
  if (error)
    g_task_return_error(task, error);
  else
    g_task_return_boolean(task, TRUE);
}

/* inferno-like colour map */
static void colour_map(double t, guint8 rgb[3]) {
  static const double stops[5][3] = {
      {0, 0, 4}, {87, 16, 110}, {188, 55, 84}, {249, 142, 9}, {252, 255, 164}};
  t = CLAMP(t, 0.0, 1.0) * 4.0;
  int i = (int)t;
  if (i >= 4) i = 3;
  const double f = t - i;
  for (int c = 0; c < 3; c++)
    rgb[c] = (guint8)lround(stops[i][c] + f * (stops[i + 1][c] - stops[i][c]));
}

static void rebuild_surface(LucyPointsView *self) {
  g_clear_pointer(&self->surface, cairo_surface_destroy);
  if (!self->image) return;
  const int n = self->n;
  float lo = self->image[0], hi = self->image[0];
  for (size_t i = 0; i < (size_t)n * n; i++) {
    lo = MIN(lo, self->image[i]);
    hi = MAX(hi, self->image[i]);
  }
  self->vmin = lo;
  self->vmax = hi;
  self->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, n, n);
  cairo_surface_flush(self->surface);
  guint8 *data = cairo_image_surface_get_data(self->surface);
  const int stride = cairo_image_surface_get_stride(self->surface);
  const double scale = hi > lo ? 1.0 / (hi - lo) : 0.0; /* square-root display scale */
  for (int r = 0; r < n; r++) {
    guint32 *row = (guint32 *)(void *)(data + (size_t)r * stride);
    for (int c = 0; c < n; c++) {
      guint8 rgb[3];
      colour_map(sqrt((self->image[(size_t)r * n + c] - lo) * scale), rgb);
      row[c] = ((guint32)rgb[0] << 16) | ((guint32)rgb[1] << 8) | rgb[2];
    }
  }
  cairo_surface_mark_dirty(self->surface);
}

static void job_done(GObject *source, GAsyncResult *res, gpointer data) {
  LucyPointsView *self = LUCY_POINTS_VIEW(source);
  GTask *task = G_TASK(res);
  Job *j = g_task_get_task_data(task);
  GError *error = NULL;
  const gboolean ok = g_task_propagate_boolean(task, &error);
  if (j->generation != self->generation) { /* superseded: a newer job is running */
    g_clear_error(&error);
    return;
  }
  self->busy = FALSE;
  g_clear_pointer(&self->last_error, g_free);
  if (ok) {
    g_free(self->image);
    g_free(self->values);
    self->image = g_steal_pointer(&j->image);
    self->values = g_steal_pointer(&j->values);
    self->n = j->n;
    self->values_max = 0;
    for (size_t i = 0; i < self->count; i++) self->values_max = MAX(self->values_max, self->values[i]);
    rebuild_surface(self);
    char *msg = g_strdup_printf("%s · %zu points · %d × %d grid · σ %.3g · %.0f ms · peak %.3g · "
                                "square-root colour scale · marker area ∝ value at the point",
                                self->name ? self->name : "points", self->count, self->n,
                                self->n, j->sigma, j->seconds * 1e3, self->vmax);
    gtk_label_set_text(self->status_label, msg);
    g_free(msg);
  } else {
    self->last_error = g_strdup(error->message);
    gtk_label_set_text(self->status_label, error->message);
    g_error_free(error);
  }
  gtk_widget_queue_draw(GTK_WIDGET(self->canvas));
  g_signal_emit(self, signals[COMPUTED], 0, ok);
}

static void start_job(LucyPointsView *self) {
  if (!self->count) return;
  Job *j = g_new0(Job, 1);
  j->generation = ++self->generation;
  j->n = gtk_spin_button_get_value_as_int(self->grid_spin);
  j->sigma = gtk_spin_button_get_value(self->sigma_spin);
  j->count = self->count;
  j->x = g_memdup2(self->x, self->count * sizeof(double));
  j->y = g_memdup2(self->y, self->count * sizeof(double));
  j->w = g_memdup2(self->w, self->count * sizeof(double));
  self->busy = TRUE;
  gtk_label_set_text(self->status_label, "Convolving…");
  GTask *task = g_task_new(self, NULL, job_done, NULL);
  g_task_set_task_data(task, j, job_free);
  g_task_run_in_thread(task, job_thread);
  g_object_unref(task);
}

/* ---- drawing -------------------------------------------------------------------------------- */

/* The square the image occupies in the canvas. */
static void image_box(LucyPointsView *self, int width, int height, double *ox, double *oy,
                      double *side) {
  const double margin = 12;
  double s = MIN(width, height) - 2 * margin;
  if (s < 1) s = 1;
  *side = s;
  *ox = (width - s) / 2;
  *oy = (height - s) / 2;
}

static double marker_radius(LucyPointsView *self, double side, double value) {
  const double vmax = self->values_max;
  const double rmax = MAX(5.0, 0.022 * side);
  if (!(vmax > 0)) return 2.0;
  return MAX(2.0, rmax * sqrt(MAX(value, 0.0) / vmax)); /* area ∝ value */
}

gboolean lucy_points_view_get_marker(LucyPointsView *self, size_t i, double *x, double *y,
                                     double *radius) {
  g_return_val_if_fail(LUCY_IS_POINTS_VIEW(self), FALSE);
  if (!self->values || i >= self->count) return FALSE;
  double ox, oy, side;
  image_box(self, gtk_widget_get_width(GTK_WIDGET(self->canvas)),
            gtk_widget_get_height(GTK_WIDGET(self->canvas)), &ox, &oy, &side);
  const double px = side / self->n; /* voxel i's centre at (i + 0.5) px */
  double u = fmod(self->x[i], TWO_PI), v = fmod(self->y[i], TWO_PI);
  if (u < 0) u += TWO_PI;
  if (v < 0) v += TWO_PI;
  *x = ox + (u / TWO_PI * self->n + 0.5) * px;
  *y = oy + (v / TWO_PI * self->n + 0.5) * px;
  if (*x >= ox + side) *x -= side;
  if (*y >= oy + side) *y -= side;
  *radius = marker_radius(self, side, self->values[i]);
  return TRUE;
}

static void draw_cb(GtkDrawingArea *area, cairo_t *cr, int width, int height, gpointer data) {
  LucyPointsView *self = data;
  cairo_set_source_rgb(cr, 0.12, 0.12, 0.13);
  cairo_paint(cr);
  if (!self->surface) return;
  double ox, oy, side;
  image_box(self, width, height, &ox, &oy, &side);
  cairo_save(cr);
  cairo_translate(cr, ox, oy);
  cairo_scale(cr, side / self->n, side / self->n);
  cairo_set_source_surface(cr, self->surface, 0, 0);
  cairo_pattern_set_filter(cairo_get_source(cr), CAIRO_FILTER_NEAREST);
  cairo_rectangle(cr, 0, 0, self->n, self->n);
  cairo_fill(cr);
  cairo_restore(cr);
  if (!self->show_markers || !self->values) return;
  cairo_set_line_width(cr, 2.0);
  for (size_t i = 0; i < self->count; i++) {
    double x, y, r;
    lucy_points_view_get_marker(self, i, &x, &y, &r);
    cairo_new_sub_path(cr);
    cairo_arc(cr, x, y, r, 0, TWO_PI);
    cairo_set_source_rgba(cr, 0.0, 1.0, 1.0, 0.08);
    cairo_fill_preserve(cr);
    cairo_set_source_rgb(cr, 0.0, 1.0, 1.0);
    cairo_stroke(cr);
  }
}

/* ---- controls ------------------------------------------------------------------------------- */

static void controls_changed_cb(LucyPointsView *self) { start_job(self); }

static void markers_toggled_cb(LucyPointsView *self) {
  self->show_markers = gtk_check_button_get_active(self->markers_check);
  gtk_widget_queue_draw(GTK_WIDGET(self->canvas));
}

static void open_native_response_cb(GtkNativeDialog *dialog, int response, gpointer data) {
  LucyPointsView *self = data;
  if (response == GTK_RESPONSE_ACCEPT) {
    GFile *file = gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog));
    char *path = file ? g_file_get_path(file) : NULL;
    GError *error = NULL;
    if (path && !lucy_points_view_load_csv(self, path, &error)) {
      gtk_label_set_text(self->status_label, error->message);
      g_error_free(error);
    }
    g_free(path);
    g_clear_object(&file);
  }
  gtk_native_dialog_destroy(dialog);
  g_object_unref(dialog);
  g_object_unref(self);
}

static void open_clicked_cb(LucyPointsView *self) {
  GtkRoot *root = gtk_widget_get_root(GTK_WIDGET(self));
  GtkFileChooserNative *dlg = gtk_file_chooser_native_new(
      "Open Points", GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
      GTK_FILE_CHOOSER_ACTION_OPEN, "_Open", "_Cancel");
  GtkFileFilter *filter = gtk_file_filter_new();
  gtk_file_filter_set_name(filter, "CSV points");
  gtk_file_filter_add_pattern(filter, "*.csv");
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(dlg), filter);
  g_object_unref(filter);
  g_signal_connect(dlg, "response", G_CALLBACK(open_native_response_cb), g_object_ref(self));
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(dlg));
}

/* ---- public --------------------------------------------------------------------------------- */

gboolean lucy_points_view_load_csv(LucyPointsView *self, const char *path, GError **error) {
  g_return_val_if_fail(LUCY_IS_POINTS_VIEW(self), FALSE);
  char *text = NULL;
  if (!g_file_get_contents(path, &text, NULL, error)) return FALSE;
  size_t count = 0;
  double *x = NULL, *y = NULL, *w = NULL;
  GError *err = NULL;
  const gboolean ok = parse_csv(text, &count, &x, &y, &w, &err);
  g_free(text);
  if (!ok) {
    char *base = g_path_get_basename(path);
    g_set_error(error, err->domain, err->code, "%s: %s", base, err->message);
    g_free(base);
    g_error_free(err);
    return FALSE;
  }
  g_free(self->x);
  g_free(self->y);
  g_free(self->w);
  g_free(self->name);
  self->x = x;
  self->y = y;
  self->w = w;
  self->count = count;
  self->name = g_path_get_basename(path);
  g_clear_pointer(&self->values, g_free);
  g_clear_pointer(&self->image, g_free);
  g_clear_pointer(&self->surface, cairo_surface_destroy);
  start_job(self);
  return TRUE;
}

void lucy_points_view_set_grid_size(LucyPointsView *self, int n) {
  gtk_spin_button_set_value(self->grid_spin, n);
}

void lucy_points_view_set_sigma(LucyPointsView *self, double sigma) {
  gtk_spin_button_set_value(self->sigma_spin, sigma);
}

void lucy_points_view_set_show_markers(LucyPointsView *self, gboolean show) {
  gtk_check_button_set_active(self->markers_check, show);
}

gboolean lucy_points_view_is_busy(LucyPointsView *self) { return self->busy; }

const char *lucy_points_view_get_last_error(LucyPointsView *self) { return self->last_error; }

const float *lucy_points_view_get_image(LucyPointsView *self, int *n) {
  if (n) *n = self->image ? self->n : 0;
  return self->image;
}

const double *lucy_points_view_get_values(LucyPointsView *self, size_t *count) {
  if (count) *count = self->values ? self->count : 0;
  return self->values;
}

GtkWidget *lucy_points_view_get_canvas(LucyPointsView *self) {
  return GTK_WIDGET(self->canvas);
}

static void lucy_points_view_dispose(GObject *object) {
  LucyPointsView *self = LUCY_POINTS_VIEW(object);
  self->generation++; /* a result still on its way is dropped */
  self->busy = FALSE;
  gtk_widget_dispose_template(GTK_WIDGET(self), LUCY_TYPE_POINTS_VIEW);
  G_OBJECT_CLASS(lucy_points_view_parent_class)->dispose(object);
}

static void lucy_points_view_finalize(GObject *object) {
  LucyPointsView *self = LUCY_POINTS_VIEW(object);
  g_free(self->name);
  g_free(self->x);
  g_free(self->y);
  g_free(self->w);
  g_free(self->image);
  g_free(self->values);
  g_free(self->last_error);
  g_clear_pointer(&self->surface, cairo_surface_destroy);
  G_OBJECT_CLASS(lucy_points_view_parent_class)->finalize(object);
}

static void lucy_points_view_class_init(LucyPointsViewClass *klass) {
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->dispose = lucy_points_view_dispose;
  G_OBJECT_CLASS(klass)->finalize = lucy_points_view_finalize;
  signals[COMPUTED] = g_signal_new("computed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
  gtk_widget_class_set_template_from_resource(widget_class,
                                              "/org/lucy/Lucy/lucy-points-view.ui");
  gtk_widget_class_bind_template_child(widget_class, LucyPointsView, grid_spin);
  gtk_widget_class_bind_template_child(widget_class, LucyPointsView, sigma_spin);
  gtk_widget_class_bind_template_child(widget_class, LucyPointsView, markers_check);
  gtk_widget_class_bind_template_child(widget_class, LucyPointsView, status_label);
  gtk_widget_class_bind_template_child(widget_class, LucyPointsView, canvas);
  gtk_widget_class_bind_template_callback(widget_class, open_clicked_cb);
  gtk_widget_class_bind_template_callback(widget_class, controls_changed_cb);
  gtk_widget_class_bind_template_callback(widget_class, markers_toggled_cb);
}

static void lucy_points_view_init(LucyPointsView *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  self->show_markers = TRUE;
  gtk_drawing_area_set_draw_func(self->canvas, draw_cb, self, NULL);
}

LucyPointsView *lucy_points_view_new(void) { return g_object_new(LUCY_TYPE_POINTS_VIEW, NULL); }

GtkWindow *lucy_points_view_new_window(GtkWindow *parent, LucyPointsView **view) {
  GtkWindow *win = GTK_WINDOW(gtk_window_new());
  gtk_window_set_title(win, "Point Clouds — Lucy");
  gtk_window_set_default_size(win, 760, 820);
  if (parent) {
    gtk_window_set_transient_for(win, parent);
    gtk_window_set_application(win, gtk_window_get_application(parent));
  }
  LucyPointsView *v = lucy_points_view_new();
  gtk_window_set_child(win, GTK_WIDGET(v));
  if (view) *view = v;
  return win;
}
