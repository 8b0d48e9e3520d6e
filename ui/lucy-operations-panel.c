/* LucyOperationsPanel: what to run and how, and how far it got. */
#include "lucy-operations-panel.h"

struct _LucyOperationsPanel {
  GtkBox parent_instance;
  GtkLabel *mode_explanation;
  GtkToggleButton *cpu_button;
  GtkToggleButton *gpu_button;
  GtkSpinButton *threads_spin;
  GtkProgressBar *progress_bar;
  GtkLabel *result_label;
};

enum { SETTINGS_CHANGED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(LucyOperationsPanel, lucy_operations_panel, GTK_TYPE_BOX)

const char *lucy_pad_mode_explanation(LucyPadMode mode) {
  switch (mode) {
    case LUCY_PAD_CIRCULAR:
      return "No padding: the FFT wraps around, so blur leaks across opposite edges. Output N.";
    case LUCY_PAD_SAME:
      return "Zero padding, output cropped to the image's size N, aligned with the input.";
    case LUCY_PAD_FULL:
      return "Zero padding, the whole blurred result: N + M − 1 voxels per axis.";
    case LUCY_PAD_VALID:
      return "Only voxels that saw the whole PSF: N − M + 1 voxels per axis.";
  }
  return "";
}

void lucy_operations_panel_show_mode(LucyOperationsPanel *self, LucyPadMode mode) {
  gtk_label_set_label(self->mode_explanation, lucy_pad_mode_explanation(mode));
}

int lucy_operations_panel_get_threads(LucyOperationsPanel *self) {
  return gtk_spin_button_get_value_as_int(self->threads_spin);
}

void lucy_operations_panel_set_threads(LucyOperationsPanel *self, int threads) {
  gtk_spin_button_set_value(self->threads_spin, threads);
}

LucyDeviceKind lucy_operations_panel_get_backend(LucyOperationsPanel *self) {
  return gtk_toggle_button_get_active(self->gpu_button) ? LUCY_DEVICE_CUDA : LUCY_DEVICE_CPU;
}

void lucy_operations_panel_set_progress(LucyOperationsPanel *self, double fraction,
                                        const char *stage) {
  if (!stage) {
    gtk_progress_bar_set_fraction(self->progress_bar, 0.0);
    gtk_progress_bar_set_text(self->progress_bar, "Idle");
    return;
  }
  if (fraction < 0)
    gtk_progress_bar_pulse(self->progress_bar);
  else
    gtk_progress_bar_set_fraction(self->progress_bar, CLAMP(fraction, 0.0, 1.0));
  char *text = fraction >= 0 ? g_strdup_printf("%s — %.0f %%", stage, 100 * fraction)
                             : g_strdup(stage);
  gtk_progress_bar_set_text(self->progress_bar, text);
  g_free(text);
}

void lucy_operations_panel_set_result_text(LucyOperationsPanel *self, const char *text) {
  gtk_label_set_label(self->result_label, text ? text : "");
}

static void threads_changed_cb(LucyOperationsPanel *self) {
  g_signal_emit(self, signals[SETTINGS_CHANGED], 0);
}

static void backend_toggled_cb(LucyOperationsPanel *self) {
  g_signal_emit(self, signals[SETTINGS_CHANGED], 0);
}

static void lucy_operations_panel_class_init(LucyOperationsPanelClass *klass) {
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  signals[SETTINGS_CHANGED] = g_signal_new("settings-changed", G_TYPE_FROM_CLASS(klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_set_template_from_resource(widget_class,
                                              "/org/lucy/Lucy/lucy-operations-panel.ui");
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, mode_explanation);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, cpu_button);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, gpu_button);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, threads_spin);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, progress_bar);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, result_label);
  gtk_widget_class_bind_template_callback(widget_class, threads_changed_cb);
}

static void lucy_operations_panel_init(LucyOperationsPanel *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  int cores = (int)g_get_num_processors();
  gtk_spin_button_set_range(self->threads_spin, 1, MAX(cores, 1) * 2);
  gtk_spin_button_set_value(self->threads_spin, MAX(cores, 1));
  const char *reason = NULL;
  if (!lucy_cuda_available(&reason)) {
    gtk_widget_set_sensitive(GTK_WIDGET(self->gpu_button), FALSE);
    char *tip = g_strdup_printf("GPU unavailable: %s", reason ? reason : "no CUDA device");
    gtk_widget_set_tooltip_text(GTK_WIDGET(self->gpu_button), tip);
    g_free(tip);
  } else {
    gtk_widget_set_tooltip_text(GTK_WIDGET(self->gpu_button), "cuFFT on the CUDA device");
  }
  g_signal_connect_swapped(self->gpu_button, "toggled", G_CALLBACK(backend_toggled_cb), self);
  lucy_operations_panel_show_mode(self, LUCY_PAD_SAME);
}
