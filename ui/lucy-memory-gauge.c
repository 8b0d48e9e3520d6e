/* LucyMemoryGauge: a level bar of used/total memory with a predicted-peak marker. */
#include "lucy-memory-gauge.h"

#define POLL_MS 333

struct _LucyMemoryGauge {
  GtkBox parent_instance;
  GtkLabel *title_label;
  GtkLevelBar *level_bar;
  GtkLabel *used_label;
  GtkLabel *peak_label;
  LucyDevice *device;
  guint64 predicted;
  LucyMemoryInfo info;
  gboolean have_info;
  gboolean warning;
  guint timer;
};

G_DEFINE_FINAL_TYPE(LucyMemoryGauge, lucy_memory_gauge, GTK_TYPE_BOX)

static void update_peak_text(LucyMemoryGauge *self) {
  if (!self->predicted) {
    gtk_label_set_label(self->peak_label, "Peak: nothing set up");
    return;
  }
  char *p = g_format_size_full(self->predicted, G_FORMAT_SIZE_IEC_UNITS);
  char *text;
  if (self->have_info && self->warning) {
    char *f = g_format_size_full(self->info.free_bytes, G_FORMAT_SIZE_IEC_UNITS);
    text = g_strdup_printf("Predicted peak %s exceeds the %s free", p, f);
    g_free(f);
  } else if (self->have_info && self->info.lucy_peak_bytes > 0) {
    char *m = g_format_size_full(self->info.lucy_peak_bytes, G_FORMAT_SIZE_IEC_UNITS);
    text = g_strdup_printf("Peak: %s predicted (marker), %s seen", p, m);
    g_free(m);
  } else {
    text = g_strdup_printf("Peak: %s predicted (marker)", p);
  }
  gtk_label_set_label(self->peak_label, text);
  g_free(text);
  g_free(p);
}

gboolean lucy_memory_gauge_update(LucyMemoryGauge *self) {
  g_return_val_if_fail(LUCY_IS_MEMORY_GAUGE(self), FALSE);
  if (!self->device || lucy_device_memory_info(self->device, &self->info) != LUCY_OK ||
      self->info.total_bytes == 0) {
    self->have_info = FALSE;
    gtk_level_bar_set_value(self->level_bar, 0);
    gtk_label_set_label(self->used_label, "Memory: unknown");
    return FALSE;
  }
  self->have_info = TRUE;
  const LucyMemoryInfo *m = &self->info;
  size_t used = m->total_bytes > m->free_bytes ? m->total_bytes - m->free_bytes : 0;
  gtk_level_bar_set_value(self->level_bar, (double)used / (double)m->total_bytes);
  char *u = g_format_size_full(used, G_FORMAT_SIZE_IEC_UNITS);
  char *t = g_format_size_full(m->total_bytes, G_FORMAT_SIZE_IEC_UNITS);
  char *l = g_format_size_full(m->lucy_bytes, G_FORMAT_SIZE_IEC_UNITS);
  char *text = g_strdup_printf("%s / %s · Lucy %s", u, t, l);
  gtk_label_set_label(self->used_label, text);
  g_free(text);
  g_free(u);
  g_free(t);
  g_free(l);
  gboolean warning = self->predicted > 0 && self->predicted > (guint64)m->free_bytes;
  if (warning != self->warning) {
    self->warning = warning;
    if (warning) gtk_widget_add_css_class(GTK_WIDGET(self), "warning");
    else gtk_widget_remove_css_class(GTK_WIDGET(self), "warning");
  }
  update_peak_text(self);
  gtk_widget_queue_draw(GTK_WIDGET(self));
  return TRUE;
}

const char *lucy_memory_gauge_get_text(LucyMemoryGauge *self) {
  return gtk_label_get_label(self->used_label);
}

gboolean lucy_memory_gauge_get_warning(LucyMemoryGauge *self) { return self->warning; }

void lucy_memory_gauge_set_device(LucyMemoryGauge *self, LucyDevice *dev) {
  g_return_if_fail(LUCY_IS_MEMORY_GAUGE(self));
  if (dev) lucy_device_ref(dev);
  if (self->device) lucy_device_unref(self->device);
  self->device = dev;
  if (dev) {
    const char *kind = lucy_device_kind(dev) == LUCY_DEVICE_CPU ? "Host memory" : "GPU memory";
    gtk_label_set_label(self->title_label, kind);
  }
  lucy_memory_gauge_update(self);
}

void lucy_memory_gauge_set_predicted(LucyMemoryGauge *self, guint64 bytes) {
  self->predicted = bytes;
  lucy_memory_gauge_update(self);
  update_peak_text(self);
}

static gboolean poll_cb(gpointer data) {
  lucy_memory_gauge_update(LUCY_MEMORY_GAUGE(data));
  return G_SOURCE_CONTINUE;
}

static void lucy_memory_gauge_map(GtkWidget *widget) {
  LucyMemoryGauge *self = LUCY_MEMORY_GAUGE(widget);
  GTK_WIDGET_CLASS(lucy_memory_gauge_parent_class)->map(widget);
  if (!self->timer) self->timer = g_timeout_add(POLL_MS, poll_cb, self);
  lucy_memory_gauge_update(self);
}

static void lucy_memory_gauge_unmap(GtkWidget *widget) {
  LucyMemoryGauge *self = LUCY_MEMORY_GAUGE(widget);
  g_clear_handle_id(&self->timer, g_source_remove);
  GTK_WIDGET_CLASS(lucy_memory_gauge_parent_class)->unmap(widget);
}

static void lucy_memory_gauge_snapshot(GtkWidget *widget, GtkSnapshot *snapshot) {
  LucyMemoryGauge *self = LUCY_MEMORY_GAUGE(widget);
  GTK_WIDGET_CLASS(lucy_memory_gauge_parent_class)->snapshot(widget, snapshot);
  if (!self->predicted || !self->have_info) return;
  graphene_rect_t b;
  if (!gtk_widget_compute_bounds(GTK_WIDGET(self->level_bar), widget, &b)) return;
  size_t used = self->info.total_bytes > self->info.free_bytes
                    ? self->info.total_bytes - self->info.free_bytes : 0;
  /* the peak lands on top of what is in use now, less what Lucy itself holds (it is reused) */
  double base = (double)used - (double)self->info.lucy_bytes;
  if (base < 0) base = 0;
  double frac = (base + (double)self->predicted) / (double)self->info.total_bytes;
  frac = CLAMP(frac, 0.0, 1.0);
  float x = b.origin.x + (float)(frac * b.size.width);
  GdkRGBA color = self->warning ? (GdkRGBA){0.88f, 0.11f, 0.14f, 1.0f}
                                : (GdkRGBA){0.96f, 0.47f, 0.0f, 1.0f};
  gtk_snapshot_append_color(snapshot, &color,
                            &GRAPHENE_RECT_INIT(MAX(x - 1.5f, b.origin.x), b.origin.y - 3, 3,
                                                b.size.height + 6));
}

static void lucy_memory_gauge_dispose(GObject *object) {
  LucyMemoryGauge *self = LUCY_MEMORY_GAUGE(object);
  g_clear_handle_id(&self->timer, g_source_remove);
  if (self->device) lucy_device_unref(self->device);
  self->device = NULL;
  G_OBJECT_CLASS(lucy_memory_gauge_parent_class)->dispose(object);
}

static void lucy_memory_gauge_class_init(LucyMemoryGaugeClass *klass) {
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->dispose = lucy_memory_gauge_dispose;
  widget_class->map = lucy_memory_gauge_map;
  widget_class->unmap = lucy_memory_gauge_unmap;
  widget_class->snapshot = lucy_memory_gauge_snapshot;
  gtk_widget_class_set_template_from_resource(widget_class, "/org/lucy/Lucy/lucy-memory-gauge.ui");
  gtk_widget_class_bind_template_child(widget_class, LucyMemoryGauge, title_label);
  gtk_widget_class_bind_template_child(widget_class, LucyMemoryGauge, level_bar);
  gtk_widget_class_bind_template_child(widget_class, LucyMemoryGauge, used_label);
  gtk_widget_class_bind_template_child(widget_class, LucyMemoryGauge, peak_label);
}

static void lucy_memory_gauge_init(LucyMemoryGauge *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  /* no low/high colouring by fill level: the marker carries the warning */
  gtk_level_bar_remove_offset_value(self->level_bar, GTK_LEVEL_BAR_OFFSET_LOW);
  gtk_level_bar_remove_offset_value(self->level_bar, GTK_LEVEL_BAR_OFFSET_HIGH);
  gtk_level_bar_remove_offset_value(self->level_bar, GTK_LEVEL_BAR_OFFSET_FULL);
  update_peak_text(self);
}
