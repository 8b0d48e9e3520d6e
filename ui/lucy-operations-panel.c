/* LucyOperationsPanel: what to run and how, and how far it got. */
#include "lucy-operations-panel.h"

struct _LucyOperationsPanel {
  GtkBox parent_instance;
  GtkLabel *mode_explanation;
  GtkToggleButton *cpu_button;
  GtkToggleButton *gpu_button;
  GtkSpinButton *threads_spin;
  GtkCheckButton *thorough_check;
  GtkProgressBar *progress_bar;
  GtkLabel *result_label;
  GtkWidget *padding_box;
  GtkWidget *decon_box;
  GtkSpinButton *iterations_spin;
  GtkToggleButton *rl_button;
  GtkToggleButton *rltv_button;
  GtkToggleButton *wiener_button;
  GtkWidget *tv_row;
  GtkSpinButton *tv_spin;
  GtkToggleButton *noncirculant_button;
  GtkToggleButton *circular_edges_button;
  GtkCheckButton *accelerate_check;
  gboolean setting_decon; /* inside set_decon: one "decon-changed" at the end */
};

enum { SETTINGS_CHANGED, DECON_CHANGED, N_SIGNALS };
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

const char *lucy_operation_name(LucyOperation op) {
  return op == LUCY_OPERATION_DECONVOLVE ? "deconvolve" : "convolve";
}

gboolean lucy_operation_parse(const char *name, LucyOperation *op) {
  if (!name) return FALSE;
  if (g_ascii_strcasecmp(name, "convolve") == 0) {
    *op = LUCY_OPERATION_CONVOLVE;
    return TRUE;
  }
  if (g_ascii_strcasecmp(name, "deconvolve") == 0) {
    *op = LUCY_OPERATION_DECONVOLVE;
    return TRUE;
  }
  return FALSE;
}

void lucy_operations_panel_show_operation(LucyOperationsPanel *self, LucyOperation op) {
  gboolean decon = op == LUCY_OPERATION_DECONVOLVE;
  gtk_widget_set_visible(self->padding_box, !decon);
  gtk_widget_set_visible(self->decon_box, decon);
}

gboolean lucy_operations_panel_get_padding_visible(LucyOperationsPanel *self) {
  return gtk_widget_get_visible(self->padding_box);
}

gboolean lucy_operations_panel_get_decon_visible(LucyOperationsPanel *self) {
  return gtk_widget_get_visible(self->decon_box);
}

static LucyDeconMethod shown_method(LucyOperationsPanel *self) {
  if (gtk_toggle_button_get_active(self->rltv_button)) return LUCY_DECON_RLTV;
  if (gtk_toggle_button_get_active(self->wiener_button)) return LUCY_DECON_WIENER;
  return LUCY_DECON_RL;
}

/* Controls that do not apply to the method are greyed out or hidden. */
static void sync_decon_controls(LucyOperationsPanel *self) {
  LucyDeconMethod method = shown_method(self);
  gboolean iterative = method != LUCY_DECON_WIENER;
  gtk_widget_set_sensitive(GTK_WIDGET(self->iterations_spin), iterative);
  gtk_widget_set_sensitive(GTK_WIDGET(self->accelerate_check), iterative);
  gtk_widget_set_visible(self->tv_row, method == LUCY_DECON_RLTV);
}

void lucy_operations_panel_get_decon(LucyOperationsPanel *self, LucyDeconOptions *opts) {
  opts->method = shown_method(self);
  opts->boundary = gtk_toggle_button_get_active(self->circular_edges_button)
                       ? LUCY_BOUNDARY_CIRCULAR
                       : LUCY_BOUNDARY_NONCIRCULANT;
  opts->iterations = gtk_spin_button_get_value_as_int(self->iterations_spin);
  opts->tv_lambda = gtk_spin_button_get_value(self->tv_spin);
  opts->accelerate = gtk_check_button_get_active(self->accelerate_check) ? 1 : 0;
}

void lucy_operations_panel_set_decon(LucyOperationsPanel *self, const LucyDeconOptions *opts) {
  self->setting_decon = TRUE;
  GtkToggleButton *m = opts->method == LUCY_DECON_RLTV     ? self->rltv_button
                       : opts->method == LUCY_DECON_WIENER ? self->wiener_button
                                                           : self->rl_button;
  gtk_toggle_button_set_active(m, TRUE);
  gtk_toggle_button_set_active(opts->boundary == LUCY_BOUNDARY_CIRCULAR
                                   ? self->circular_edges_button
                                   : self->noncirculant_button,
                               TRUE);
  gtk_spin_button_set_value(self->iterations_spin, opts->iterations);
  gtk_spin_button_set_value(self->tv_spin, opts->tv_lambda);
  gtk_check_button_set_active(self->accelerate_check, opts->accelerate != 0);
  self->setting_decon = FALSE;
  sync_decon_controls(self);
  g_signal_emit(self, signals[DECON_CHANGED], 0);
}

static void decon_changed_cb(LucyOperationsPanel *self) {
  /* a radio group toggles twice (off, then on): the state is whole once the new one is on */
  sync_decon_controls(self);
  if (!self->setting_decon) g_signal_emit(self, signals[DECON_CHANGED], 0);
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

LucyPlanning lucy_operations_panel_get_planning(LucyOperationsPanel *self) {
  g_return_val_if_fail(LUCY_IS_OPERATIONS_PANEL(self), LUCY_PLAN_FAST);
  return gtk_check_button_get_active(self->thorough_check) ? LUCY_PLAN_THOROUGH : LUCY_PLAN_FAST;
}

void lucy_operations_panel_set_planning(LucyOperationsPanel *self, LucyPlanning planning) {
  g_return_if_fail(LUCY_IS_OPERATIONS_PANEL(self));
  gtk_check_button_set_active(self->thorough_check, planning == LUCY_PLAN_THOROUGH);
}

GtkCheckButton *lucy_operations_panel_get_planning_control(LucyOperationsPanel *self) {
  g_return_val_if_fail(LUCY_IS_OPERATIONS_PANEL(self), NULL);
  return self->thorough_check;
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

const char *lucy_operations_panel_get_result_text(LucyOperationsPanel *self) {
  g_return_val_if_fail(LUCY_IS_OPERATIONS_PANEL(self), NULL);
  return gtk_label_get_label(self->result_label);
}

void lucy_operations_panel_set_result_tooltip(LucyOperationsPanel *self, const char *text) {
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->result_label), text);
}

static void threads_changed_cb(LucyOperationsPanel *self) {
  g_signal_emit(self, signals[SETTINGS_CHANGED], 0);
}

static void planning_toggled_cb(LucyOperationsPanel *self) {
  g_signal_emit(self, signals[SETTINGS_CHANGED], 0);
}

static void backend_toggled_cb(LucyOperationsPanel *self) {
  g_signal_emit(self, signals[SETTINGS_CHANGED], 0);
}

static void lucy_operations_panel_class_init(LucyOperationsPanelClass *klass) {
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  signals[SETTINGS_CHANGED] = g_signal_new("settings-changed", G_TYPE_FROM_CLASS(klass),
                                           G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[DECON_CHANGED] = g_signal_new("decon-changed", G_TYPE_FROM_CLASS(klass),
                                        G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  gtk_widget_class_set_template_from_resource(widget_class,
                                              "/org/lucy/Lucy/lucy-operations-panel.ui");
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, mode_explanation);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, cpu_button);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, gpu_button);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, threads_spin);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, thorough_check);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, progress_bar);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, result_label);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, padding_box);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, decon_box);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, iterations_spin);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, rl_button);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, rltv_button);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, wiener_button);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, tv_row);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, tv_spin);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, noncirculant_button);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, circular_edges_button);
  gtk_widget_class_bind_template_child(widget_class, LucyOperationsPanel, accelerate_check);
  gtk_widget_class_bind_template_callback(widget_class, threads_changed_cb);
  gtk_widget_class_bind_template_callback(widget_class, planning_toggled_cb);
  gtk_widget_class_bind_template_callback(widget_class, decon_changed_cb);
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
  sync_decon_controls(self);
}
