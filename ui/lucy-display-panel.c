/* LucyDisplayPanel: the display controls of the sidebar. */
#include "lucy-display-panel.h"

#include <math.h>
#include <string.h>

#define HIST_BINS 64

struct _LucyDisplayPanel {
  GtkBox parent_instance;
  GtkToggleButton *max_button;
  GtkToggleButton *slice_button;
  GtkWidget *z_box;
  GtkScale *z_scale;
  GtkScale *gamma_scale;
  GtkSpinButton *min_spin;
  GtkSpinButton *max_spin;
  GtkDrawingArea *histogram;
  GtkDropDown *colormap_dropdown;
  GtkCheckButton *log_check;
  LucyRenderOptions opts;
  guint blocked;
  double hist_lo, hist_hi;
  double hist[HIST_BINS];
  gboolean have_hist;
};

enum { CHANGED, AUTO_CONTRAST, RESET_CONTRAST, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(LucyDisplayPanel, lucy_display_panel, GTK_TYPE_BOX)

static void emit_changed(LucyDisplayPanel *self) {
  if (!self->blocked) g_signal_emit(self, signals[CHANGED], 0);
}

static void gamma_changed_cb(LucyDisplayPanel *self) {
  self->opts.gamma = gtk_range_get_value(GTK_RANGE(self->gamma_scale));
  emit_changed(self);
}

static void range_changed_cb(LucyDisplayPanel *self) {
  if (self->blocked) return;
  self->opts.vmin = gtk_spin_button_get_value(self->min_spin);
  self->opts.vmax = gtk_spin_button_get_value(self->max_spin);
  self->opts.auto_contrast = 0;
  gtk_widget_queue_draw(GTK_WIDGET(self->histogram));
  emit_changed(self);
}

static void auto_clicked_cb(LucyDisplayPanel *self) {
  self->opts.auto_contrast = 1;
  g_signal_emit(self, signals[AUTO_CONTRAST], 0);
  emit_changed(self);
}

static void reset_clicked_cb(LucyDisplayPanel *self) {
  self->opts.auto_contrast = 0;
  g_signal_emit(self, signals[RESET_CONTRAST], 0);
  emit_changed(self);
}

static void colormap_changed_cb(LucyDisplayPanel *self) {
  self->opts.colormap = (LucyColormap)gtk_drop_down_get_selected(self->colormap_dropdown);
  emit_changed(self);
}

static void log_toggled_cb(LucyDisplayPanel *self) {
  self->opts.log = gtk_check_button_get_active(self->log_check);
  emit_changed(self);
}

static void slice_mode_toggled_cb(LucyDisplayPanel *self) {
  gboolean slice = !gtk_toggle_button_get_active(self->max_button);
  gtk_widget_set_visible(self->z_box, slice);
  emit_changed(self);
}

static void z_changed_cb(LucyDisplayPanel *self) {
  if (gtk_toggle_button_get_active(self->slice_button)) emit_changed(self);
}

static void set_spin_range(GtkSpinButton *spin, double v, double a) {
  /* digits and steps that suit the magnitude a of the data */
  guint digits = a >= 1000 ? 1 : a >= 10 ? 3 : a >= 0.01 ? 4 : 7;
  gtk_spin_button_set_digits(spin, digits);
  double step = a > 0 ? pow(10, floor(log10(a)) - 2) : 0.001;
  gtk_spin_button_set_increments(spin, step, step * 10);
  gtk_spin_button_set_value(spin, v);
}

void lucy_display_panel_show_range(LucyDisplayPanel *self, double vmin, double vmax) {
  g_return_if_fail(LUCY_IS_DISPLAY_PANEL(self));
  self->blocked++;
  double a = MAX(fabs(vmin), fabs(vmax));
  set_spin_range(self->min_spin, vmin, a);
  set_spin_range(self->max_spin, vmax, a);
  self->blocked--;
  self->opts.vmin = vmin;
  self->opts.vmax = vmax;
  gtk_widget_queue_draw(GTK_WIDGET(self->histogram));
}

void lucy_display_panel_get_options(LucyDisplayPanel *self, LucyRenderOptions *opts) {
  g_return_if_fail(LUCY_IS_DISPLAY_PANEL(self));
  *opts = self->opts;
}

void lucy_display_panel_set_options(LucyDisplayPanel *self, const LucyRenderOptions *opts) {
  g_return_if_fail(LUCY_IS_DISPLAY_PANEL(self));
  self->blocked++;
  self->opts = *opts;
  gtk_range_set_value(GTK_RANGE(self->gamma_scale), opts->gamma);
  gtk_drop_down_set_selected(self->colormap_dropdown, (guint)opts->colormap);
  gtk_check_button_set_active(self->log_check, opts->log != 0);
  double a = MAX(fabs(opts->vmin), fabs(opts->vmax));
  set_spin_range(self->min_spin, opts->vmin, a);
  set_spin_range(self->max_spin, opts->vmax, a);
  self->opts = *opts; /* the widgets' handlers were blocked, but keep exactly what we got */
  self->blocked--;
  gtk_widget_queue_draw(GTK_WIDGET(self->histogram));
}

void lucy_display_panel_set_gamma(LucyDisplayPanel *self, double gamma) {
  gtk_range_set_value(GTK_RANGE(self->gamma_scale), gamma);
}

gboolean lucy_display_panel_get_slice(LucyDisplayPanel *self, guint *z) {
  if (z) *z = (guint)gtk_range_get_value(GTK_RANGE(self->z_scale));
  return gtk_toggle_button_get_active(self->slice_button);
}

void lucy_display_panel_set_slice(LucyDisplayPanel *self, gboolean slice, guint z) {
  self->blocked++;
  gtk_range_set_value(GTK_RANGE(self->z_scale), z);
  gtk_toggle_button_set_active(slice ? self->slice_button : self->max_button, TRUE);
  gtk_widget_set_visible(self->z_box, slice);
  self->blocked--;
  emit_changed(self);
}

void lucy_display_panel_set_depth(LucyDisplayPanel *self, guint nz) {
  GtkAdjustment *adj = gtk_range_get_adjustment(GTK_RANGE(self->z_scale));
  self->blocked++;
  double z = gtk_adjustment_get_value(adj);
  gtk_adjustment_set_upper(adj, nz > 0 ? nz - 1 : 0);
  if (z > nz - 1) gtk_adjustment_set_value(adj, nz > 0 ? nz - 1 : 0);
  else if (z == 0 && nz > 1 && !gtk_toggle_button_get_active(self->slice_button))
    gtk_adjustment_set_value(adj, nz / 2);
  self->blocked--;
}

void lucy_display_panel_set_histogram(LucyDisplayPanel *self, const float *const *values,
                                      const gsize *counts, guint n_arrays) {
  double lo = INFINITY, hi = -INFINITY;
  for (guint a = 0; a < n_arrays; a++)
    for (gsize i = 0; i < counts[a]; i++) {
      float v = values[a][i];
      if (!isfinite(v)) continue;
      lo = MIN(lo, v);
      hi = MAX(hi, v);
    }
  memset(self->hist, 0, sizeof self->hist);
  self->have_hist = isfinite(lo);
  if (self->have_hist && hi == lo) { /* constant: one bar, in the middle as the view draws it */
    const double d = lo != 0 ? fabs(lo) / 2 : 1;
    lo -= d;
    hi += d;
  }
  if (self->have_hist) {
    for (guint a = 0; a < n_arrays; a++)
      for (gsize i = 0; i < counts[a]; i++) {
        float v = values[a][i];
        if (!isfinite(v)) continue;
        int b = (int)((v - lo) / (hi - lo) * HIST_BINS);
        self->hist[CLAMP(b, 0, HIST_BINS - 1)] += 1;
      }
    self->hist_lo = lo;
    self->hist_hi = hi;
  }
  gtk_widget_queue_draw(GTK_WIDGET(self->histogram));
}

gboolean lucy_display_panel_has_histogram(LucyDisplayPanel *self) { return self->have_hist; }

static void draw_histogram(GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data) {
  LucyDisplayPanel *self = data;
  GdkRGBA fg;
  gtk_style_context_get_color(gtk_widget_get_style_context(GTK_WIDGET(area)), &fg);
  cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, 0.08);
  cairo_rectangle(cr, 0, 0, w, h);
  cairo_fill(cr);
  if (!self->have_hist) return;
  double top = 0;
  for (int b = 0; b < HIST_BINS; b++) top = MAX(top, log1p(self->hist[b]));
  if (top <= 0) return;
  cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, 0.55);
  double bw = (double)w / HIST_BINS;
  for (int b = 0; b < HIST_BINS; b++) {
    double bh = log1p(self->hist[b]) / top * (h - 2);
    cairo_rectangle(cr, b * bw, h - bh, MAX(bw - 0.5, 0.5), bh);
  }
  cairo_fill(cr);
  double span = self->hist_hi - self->hist_lo;
  cairo_set_line_width(cr, 1.5);
  cairo_set_source_rgba(cr, 0.21, 0.52, 0.89, 1.0);
  for (int k = 0; k < 2; k++) {
    double v = k == 0 ? self->opts.vmin : self->opts.vmax;
    double x = (v - self->hist_lo) / span * w;
    if (x < 0 || x > w) continue;
    cairo_move_to(cr, x, 0);
    cairo_line_to(cr, x, h);
  }
  cairo_stroke(cr);
}

static void lucy_display_panel_class_init(LucyDisplayPanelClass *klass) {
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  signals[CHANGED] = g_signal_new("changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                  NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[AUTO_CONTRAST] = g_signal_new("auto-contrast", G_TYPE_FROM_CLASS(klass),
                                        G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[RESET_CONTRAST] = g_signal_new("reset-contrast", G_TYPE_FROM_CLASS(klass),
                                         G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_set_template_from_resource(widget_class, "/org/lucy/Lucy/lucy-display-panel.ui");
  gtk_widget_class_bind_template_child(widget_class, LucyDisplayPanel, max_button);
  gtk_widget_class_bind_template_child(widget_class, LucyDisplayPanel, slice_button);
  gtk_widget_class_bind_template_child(widget_class, LucyDisplayPanel, z_box);
  gtk_widget_class_bind_template_child(widget_class, LucyDisplayPanel, z_scale);
  gtk_widget_class_bind_template_child(widget_class, LucyDisplayPanel, gamma_scale);
  gtk_widget_class_bind_template_child(widget_class, LucyDisplayPanel, min_spin);
  gtk_widget_class_bind_template_child(widget_class, LucyDisplayPanel, max_spin);
  gtk_widget_class_bind_template_child(widget_class, LucyDisplayPanel, histogram);
  gtk_widget_class_bind_template_child(widget_class, LucyDisplayPanel, colormap_dropdown);
  gtk_widget_class_bind_template_child(widget_class, LucyDisplayPanel, log_check);
  gtk_widget_class_bind_template_callback(widget_class, gamma_changed_cb);
  gtk_widget_class_bind_template_callback(widget_class, range_changed_cb);
  gtk_widget_class_bind_template_callback(widget_class, auto_clicked_cb);
  gtk_widget_class_bind_template_callback(widget_class, reset_clicked_cb);
  gtk_widget_class_bind_template_callback(widget_class, colormap_changed_cb);
  gtk_widget_class_bind_template_callback(widget_class, log_toggled_cb);
  gtk_widget_class_bind_template_callback(widget_class, slice_mode_toggled_cb);
  gtk_widget_class_bind_template_callback(widget_class, z_changed_cb);
}

static void lucy_display_panel_init(LucyDisplayPanel *self) {
  self->blocked++; /* template signals fire while the widgets are built */
  gtk_widget_init_template(GTK_WIDGET(self));
  lucy_render_options_default(&self->opts);
  gtk_drawing_area_set_draw_func(self->histogram, draw_histogram, self, NULL);
  self->blocked--;
}
