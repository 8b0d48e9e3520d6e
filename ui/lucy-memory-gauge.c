/* LucyMemoryGauge: a level bar of used/total memory with a predicted-peak marker, and the
 * "what if" row (the operation set up, scaled, planned against a budget). */
#include "lucy-memory-gauge.h"

#include <stdio.h>
#include <unistd.h>

#define POLL_MS 333

/* The "what if" choices, in the order of the .ui's string lists. */
static const guint factors[] = {1, 2, 4, 8, 16, 32};
static const guint64 budgets[] = {0 /* free now */, (guint64)80 << 30, (guint64)24 << 30,
                                  (guint64)12 << 30, (guint64)6 << 30, (guint64)3 << 30,
                                  (guint64)1536 << 20, (guint64)768 << 20, (guint64)384 << 20};

struct _LucyMemoryGauge {
  GtkBox parent_instance;
  GtkLabel *title_label;
  GtkLevelBar *level_bar;
  GtkLabel *used_label;
  GtkLabel *peak_label;
  GtkDropDown *factor_dropdown;
  GtkDropDown *budget_dropdown;
  GtkLabel *what_if_label;
  LucyDevice *device;
  gboolean have_request;
  LucyMemoryRequest request;  /* the operation set up */
  gboolean have_what_if;
  LucyMemoryRequest what_if_request; /* scaled, with the budget */
  LucyMemoryPlan what_if;
  guint64 predicted;
  LucyMemoryInfo info;
  gboolean have_info;
  guint64 held; /* what the text says Lucy holds */
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

/* Two lines: the scaled shape and the strategy, then the peak against the budget, e.g.
 *   32 × 1024 × 1024 → low-memory
 *   peak 577.4 MiB of 768.0 MiB */
static char *what_if_text(const LucyMemoryRequest *r, const LucyMemoryPlan *p, LucyStatus st) {
  char *peak = g_format_size_full(p->peak_device_bytes, G_FORMAT_SIZE_IEC_UNITS);
  char *budget = r->free_bytes ? g_format_size_full(r->free_bytes, G_FORMAT_SIZE_IEC_UNITS)
                               : g_strdup("no limit");
  char *how;
  if (p->strategy == LUCY_STRATEGY_TILED)
    how = g_strdup_printf("tiled, %zu × %zu tiles of %zu × %zu", p->tiles[1], p->tiles[2],
                          p->tile_shape[1], p->tile_shape[2]);
  else if (p->strategy == LUCY_STRATEGY_CPU)
    how = g_strdup("cpu: nothing fits the GPU");
  else
    how = g_strdup(lucy_strategy_name(p->strategy));
  char *text;
  if (st == LUCY_ERR_DEVICE_MEMORY)
    text = g_strdup_printf("%zu × %zu × %zu → does not fit %s\nthe smallest plan (%s) needs %s",
                           r->image_shape[0], r->image_shape[1], r->image_shape[2], budget, how,
                           peak);
  else if (p->strategy == LUCY_STRATEGY_CPU) {
    char *host = g_format_size_full(p->peak_host_bytes, G_FORMAT_SIZE_IEC_UNITS);
    text = g_strdup_printf("%zu × %zu × %zu → %s\n%s of host memory", r->image_shape[0],
                           r->image_shape[1], r->image_shape[2], how, host);
    g_free(host);
  } else
    text = g_strdup_printf("%zu × %zu × %zu → %s\npeak %s of %s", r->image_shape[0],
                           r->image_shape[1], r->image_shape[2], how, peak, budget);
  g_free(peak);
  g_free(budget);
  g_free(how);
  return text;
}

/* Plans the operation set up, scaled by the chosen factor in y and x, against the chosen
 * budget (item 0: the device's free memory when known), and shows the plan. */
static void update_what_if(LucyMemoryGauge *self) {
  self->have_what_if = FALSE;
  if (!self->what_if_label) return; /* the template is still being built */
  if (!self->have_request) {
    gtk_label_set_label(self->what_if_label, "Set up an operation to plan it larger");
    return;
  }
  const guint fi = MIN(gtk_drop_down_get_selected(self->factor_dropdown), G_N_ELEMENTS(factors) - 1);
  const guint bi = MIN(gtk_drop_down_get_selected(self->budget_dropdown), G_N_ELEMENTS(budgets) - 1);
  LucyMemoryRequest r = self->request;
  for (int a = 1; a < 3; a++) r.image_shape[a] *= factors[fi];
  r.strategy = LUCY_STRATEGY_AUTO;
  r.free_bytes = budgets[bi] ? (size_t)budgets[bi]
                 : self->have_info ? self->info.free_bytes : 0;
  LucyMemoryPlan p;
  LucyStatus st = lucy_memory_plan(&r, &p);
  if (st != LUCY_OK && st != LUCY_ERR_DEVICE_MEMORY) {
    char *text = g_strdup_printf("×%u: cannot plan: %s", factors[fi], lucy_error_message());
    gtk_label_set_label(self->what_if_label, text);
    g_free(text);
    return;
  }
  self->have_what_if = TRUE;
  self->what_if_request = r;
  self->what_if = p;
  char *text = what_if_text(&r, &p, st);
  /* the same words as the real plan's ("does not fit") turn the line to the warning colour */
  if (st == LUCY_ERR_DEVICE_MEMORY) gtk_widget_add_css_class(GTK_WIDGET(self->what_if_label), "error");
  else gtk_widget_remove_css_class(GTK_WIDGET(self->what_if_label), "error");
  gtk_label_set_label(self->what_if_label, text);
  g_free(text);
}

static void what_if_changed_cb(LucyMemoryGauge *self) { update_what_if(self); }

/* The process's resident set. On the CPU all of it is host memory Lucy holds (stacks,
 * projections, run buffers, the toolkit): the figure a system monitor shows for it, where the
 * device's count alone (run buffers, freed after each run) read "0 bytes" beside loaded stacks. */
static guint64 resident_bytes(void) {
  g_autofree char *text = NULL;
  unsigned long long size = 0, resident = 0;
  if (!g_file_get_contents("/proc/self/statm", &text, NULL, NULL) ||
      sscanf(text, "%llu %llu", &size, &resident) != 2)
    return 0;
  const long page = sysconf(_SC_PAGESIZE);
  return (guint64)resident * (guint64)(page > 0 ? page : 4096);
}

static gboolean on_cpu(LucyMemoryGauge *self) {
  return lucy_device_kind(self->device) == LUCY_DEVICE_CPU;
}

/* What "Lucy holds" counts, as a tooltip: the gauge's one line cannot say it all. */
static char *held_tooltip(LucyMemoryGauge *self, const char *used, const char *total,
                          guint64 resident) {
  const LucyMemoryInfo *m = &self->info;
  g_autofree char *held = g_format_size_full(self->held, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *run = g_format_size_full(m->lucy_bytes, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *peak = g_format_size_full(m->lucy_peak_bytes, G_FORMAT_SIZE_IEC_UNITS);
  if (!on_cpu(self))
    return g_strdup_printf("GPU memory in use by all processes, CUDA contexts included: %s of "
                           "%s.\nLucy holds %s on this GPU: its run buffers and cuFFT work "
                           "areas, freed after each run (most at once: %s).",
                           used, total, held, peak);
  if (!resident)
    return g_strdup_printf("Host memory in use by all programs: %s of %s.\nLucy holds %s in "
                           "run buffers and FFT plans now (most at once: %s); this system does "
                           "not say how much resident memory the process has.",
                           used, total, run, peak);
  return g_strdup_printf("Host memory in use by all programs: %s of %s.\nLucy holds %s: this "
                         "process's resident memory (stacks, projections, the window), of which "
                         "run buffers and FFT plans now %s (most at once: %s).",
                         used, total, held, run, peak);
}

/* "612.9 MiB / 23.5 GiB used · Lucy holds 180.2 MiB" (on this GPU: its buffers only) */
static void update_used_text(LucyMemoryGauge *self, size_t used) {
  const LucyMemoryInfo *m = &self->info;
  const guint64 resident = on_cpu(self) ? resident_bytes() : 0;
  self->held = MAX(resident, (guint64)m->lucy_bytes);
  g_autofree char *u = g_format_size_full(used, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *t = g_format_size_full(m->total_bytes, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *h = g_format_size_full(self->held, G_FORMAT_SIZE_IEC_UNITS);
  g_autofree char *text = g_strdup_printf("%s / %s used · Lucy holds %s%s", u, t, h,
                                          on_cpu(self) ? "" : " on this GPU");
  g_autofree char *tip = held_tooltip(self, u, t, resident);
  gtk_label_set_label(self->used_label, text);
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->used_label), tip);
}

gboolean lucy_memory_gauge_update(LucyMemoryGauge *self) {
  g_return_val_if_fail(LUCY_IS_MEMORY_GAUGE(self), FALSE);
  if (!self->device || lucy_device_memory_info(self->device, &self->info) != LUCY_OK ||
      self->info.total_bytes == 0) {
    self->have_info = FALSE;
    self->held = 0;
    gtk_level_bar_set_value(self->level_bar, 0);
    gtk_label_set_label(self->used_label, "Memory: unknown");
    gtk_widget_set_tooltip_text(GTK_WIDGET(self->used_label), NULL);
    return FALSE;
  }
  self->have_info = TRUE;
  const LucyMemoryInfo *m = &self->info;
  size_t used = m->total_bytes > m->free_bytes ? m->total_bytes - m->free_bytes : 0;
  gtk_level_bar_set_value(self->level_bar, (double)used / (double)m->total_bytes);
  update_used_text(self, used);
  gboolean warning = self->predicted > 0 && self->predicted > (guint64)m->free_bytes;
  if (warning != self->warning) {
    self->warning = warning;
    if (warning) gtk_widget_add_css_class(GTK_WIDGET(self), "warning");
    else gtk_widget_remove_css_class(GTK_WIDGET(self), "warning");
  }
  update_peak_text(self);
  /* "free now" follows the device */
  if (gtk_drop_down_get_selected(self->budget_dropdown) == 0) update_what_if(self);
  gtk_widget_queue_draw(GTK_WIDGET(self));
  return TRUE;
}

const char *lucy_memory_gauge_get_text(LucyMemoryGauge *self) {
  return gtk_label_get_label(self->used_label);
}

gboolean lucy_memory_gauge_get_warning(LucyMemoryGauge *self) { return self->warning; }

GtkWidget *lucy_memory_gauge_get_text_widget(LucyMemoryGauge *self) {
  return GTK_WIDGET(self->used_label);
}

guint64 lucy_memory_gauge_get_held_bytes(LucyMemoryGauge *self) { return self->held; }

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

void lucy_memory_gauge_set_request(LucyMemoryGauge *self, const LucyMemoryRequest *req) {
  g_return_if_fail(LUCY_IS_MEMORY_GAUGE(self));
  self->have_request = req != NULL;
  if (req) self->request = *req;
  update_what_if(self);
}

GtkDropDown *lucy_memory_gauge_get_factor_control(LucyMemoryGauge *self) {
  g_return_val_if_fail(LUCY_IS_MEMORY_GAUGE(self), NULL);
  return self->factor_dropdown;
}

GtkDropDown *lucy_memory_gauge_get_budget_control(LucyMemoryGauge *self) {
  g_return_val_if_fail(LUCY_IS_MEMORY_GAUGE(self), NULL);
  return self->budget_dropdown;
}

gboolean lucy_memory_gauge_get_what_if(LucyMemoryGauge *self, LucyMemoryRequest *req,
                                       LucyMemoryPlan *plan) {
  g_return_val_if_fail(LUCY_IS_MEMORY_GAUGE(self), FALSE);
  if (!self->have_what_if) return FALSE;
  if (req) *req = self->what_if_request;
  if (plan) *plan = self->what_if;
  return TRUE;
}

const char *lucy_memory_gauge_get_what_if_text(LucyMemoryGauge *self) {
  g_return_val_if_fail(LUCY_IS_MEMORY_GAUGE(self), NULL);
  return gtk_label_get_label(self->what_if_label);
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
  gtk_widget_class_bind_template_child(widget_class, LucyMemoryGauge, factor_dropdown);
  gtk_widget_class_bind_template_child(widget_class, LucyMemoryGauge, budget_dropdown);
  gtk_widget_class_bind_template_child(widget_class, LucyMemoryGauge, what_if_label);
  gtk_widget_class_bind_template_callback(widget_class, what_if_changed_cb);
}

static void lucy_memory_gauge_init(LucyMemoryGauge *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  /* no low/high colouring by fill level: the marker carries the warning */
  gtk_level_bar_remove_offset_value(self->level_bar, GTK_LEVEL_BAR_OFFSET_LOW);
  gtk_level_bar_remove_offset_value(self->level_bar, GTK_LEVEL_BAR_OFFSET_HIGH);
  gtk_level_bar_remove_offset_value(self->level_bar, GTK_LEVEL_BAR_OFFSET_FULL);
  update_peak_text(self);
  update_what_if(self);
}
