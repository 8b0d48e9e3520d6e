/* LucyPsfDialog: a small form around lucy_psf_gaussian and lucy_psf_model. */
#include "lucy-psf-dialog.h"

#include <math.h>
#include <string.h>

#include "lucy-error.h"

struct _LucyPsfDialog {
  GtkWindow parent_instance;
  GtkGrid *grid;
  GtkButton *generate_button;
  GtkDropDown *model_drop;
  GtkSpinner *spinner;
  GtkLabel *status_label;
  GtkSpinButton *size[3];
  GtkSpinButton *sigma[3];
  GtkWidget *sigma_header;
  /* optics */
  GtkSpinButton *na, *wavelength, *ni, *ns, *depth, *dxy, *dz;
  GtkWidget *ns_row[2], *depth_row[2], *optics_rows[16];
  int n_optics_rows;
  double voxel_um[3];
  gboolean busy, closed;
  char *last_error;
};

enum { GENERATED, FAILED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(LucyPsfDialog, lucy_psf_dialog, GTK_TYPE_WINDOW)

LucyStack *lucy_psf_dialog_make_gaussian(const double voxel_um[3], const double sigma_um[3],
                                         const size_t shape[3], GError **error) {
  double sigma_vox[3];
  for (int a = 0; a < 3; a++) sigma_vox[a] = voxel_um[a] > 0 ? sigma_um[a] / voxel_um[a] : 0;
  LucyVolume *psf = NULL;
  LucyStatus st = lucy_psf_gaussian(shape, sigma_vox, &psf);
  if (st != LUCY_OK) {
    lucy_set_error_from_status(error, st, "Could not make the Gaussian PSF");
    return NULL;
  }
  for (int a = 0; a < 3; a++) psf->voxel_um[a] = voxel_um[a];
  char *title = g_strdup_printf("Gaussian σ %.3g × %.3g × %.3g µm", sigma_um[0], sigma_um[1],
                                sigma_um[2]);
  LucyStack *stack = lucy_stack_new_take(psf, title);
  g_free(title);
  return stack;
}

LucyStack *lucy_psf_dialog_make_model(LucyPsfModel model, const size_t shape[3],
                                      const LucyPsfOptics *optics, GError **error) {
  LucyVolume *psf = NULL;
  LucyStatus st = lucy_psf_model(model, shape, optics, &psf);
  const char *name = model == LUCY_PSF_BORN_WOLF ? "Born & Wolf" : "Gibson & Lanni";
  if (st != LUCY_OK) {
    char *what = g_strdup_printf("Could not make the %s PSF", name);
    lucy_set_error_from_status(error, st, what);
    g_free(what);
    return NULL;
  }
  char *title = model == LUCY_PSF_BORN_WOLF
                    ? g_strdup_printf("%s NA %.3g λ %.3g µm n %.4g", name, optics->na,
                                      optics->wavelength_um, optics->ni)
                    : g_strdup_printf("%s NA %.3g λ %.3g µm ni %.4g ns %.4g depth %.3g µm", name,
                                      optics->na, optics->wavelength_um, optics->ni, optics->ns,
                                      optics->depth_um);
  LucyStack *stack = lucy_stack_new_take(psf, title);
  g_free(title);
  g_object_set_data_full(G_OBJECT(stack), LUCY_PSF_OPTICS_KEY,
                         g_memdup2(optics, sizeof *optics), g_free);
  return stack;
}

/* ---- the form ----------------------------------------------------------------------------- */

static LucyPsfDialogModel current_model(LucyPsfDialog *self) {
  return (LucyPsfDialogModel)gtk_drop_down_get_selected(self->model_drop);
}

static void update_sensitivity(LucyPsfDialog *self) {
  if (!self->sigma_header) return; /* the template sets the model before the form exists */
  LucyPsfDialogModel m = current_model(self);
  gboolean gauss = m == LUCY_PSF_DIALOG_GAUSSIAN, gl = m == LUCY_PSF_DIALOG_GIBSON_LANNI;
  gtk_widget_set_visible(self->sigma_header, gauss);
  for (int a = 0; a < 3; a++) gtk_widget_set_visible(GTK_WIDGET(self->sigma[a]), gauss);
  for (int i = 0; i < self->n_optics_rows; i++) gtk_widget_set_visible(self->optics_rows[i], !gauss);
  for (int i = 0; i < 2; i++) {
    gtk_widget_set_visible(self->ns_row[i], gl);
    gtk_widget_set_visible(self->depth_row[i], gl);
  }
  gtk_widget_set_sensitive(GTK_WIDGET(self->generate_button), !self->busy);
  gtk_widget_set_sensitive(GTK_WIDGET(self->grid), !self->busy);
}

static void model_changed_cb(LucyPsfDialog *self) { update_sensitivity(self); }

static void show_error(LucyPsfDialog *self, const char *message) {
  g_free(self->last_error);
  self->last_error = g_strdup(message);
  GtkWidget *dlg = gtk_message_dialog_new(GTK_WINDOW(self), GTK_DIALOG_MODAL, GTK_MESSAGE_ERROR,
                                          GTK_BUTTONS_CLOSE, "%s", message);
  g_signal_connect(dlg, "response", G_CALLBACK(gtk_window_destroy), NULL);
  gtk_window_present(GTK_WINDOW(dlg));
  g_signal_emit(self, signals[FAILED], 0, message);
}

typedef struct {
  LucyPsfModel model;
  size_t shape[3];
  LucyPsfOptics optics;
} Job;

static void job_thread(GTask *task, gpointer source, gpointer data, GCancellable *c) {
  Job *job = data;
  GError *error = NULL;
  LucyStack *stack = lucy_psf_dialog_make_model(job->model, job->shape, &job->optics, &error);
  if (stack && !lucy_stack_ensure_projections(stack, &error)) g_clear_object(&stack);
  if (!stack) g_task_return_error(task, error);
  else g_task_return_pointer(task, stack, g_object_unref);
}

static void job_done(GObject *source, GAsyncResult *res, gpointer data) {
  LucyPsfDialog *self = LUCY_PSF_DIALOG(source);
  GError *error = NULL;
  LucyStack *stack = g_task_propagate_pointer(G_TASK(res), &error);
  self->busy = FALSE;
  gtk_spinner_stop(self->spinner);
  gtk_label_set_label(self->status_label, "");
  if (self->closed) { /* cancelled while it ran: drop the result */
    g_clear_object(&stack);
    g_clear_error(&error);
    return;
  }
  update_sensitivity(self);
  if (!stack) {
    show_error(self, error->message);
    g_error_free(error);
    return;
  }
  g_signal_emit(self, signals[GENERATED], 0, stack);
  g_object_unref(stack);
  self->closed = TRUE;
  gtk_window_destroy(GTK_WINDOW(self));
}

void lucy_psf_dialog_generate(LucyPsfDialog *self) {
  g_return_if_fail(LUCY_IS_PSF_DIALOG(self));
  if (self->busy || self->closed) return;
  size_t shape[3];
  for (int a = 0; a < 3; a++) shape[a] = (size_t)gtk_spin_button_get_value_as_int(self->size[a]);
  LucyPsfDialogModel m = current_model(self);
  GError *error = NULL;
  if (m == LUCY_PSF_DIALOG_GAUSSIAN) {
    double sigma[3];
    for (int a = 0; a < 3; a++) sigma[a] = gtk_spin_button_get_value(self->sigma[a]);
    LucyStack *stack = lucy_psf_dialog_make_gaussian(self->voxel_um, sigma, shape, &error);
    if (!stack) {
      show_error(self, error->message);
      g_error_free(error);
      return;
    }
    g_signal_emit(self, signals[GENERATED], 0, stack);
    g_object_unref(stack);
    self->closed = TRUE;
    gtk_window_destroy(GTK_WINDOW(self));
    return;
  }
  Job *job = g_new0(Job, 1);
  job->model = m == LUCY_PSF_DIALOG_BORN_WOLF ? LUCY_PSF_BORN_WOLF : LUCY_PSF_GIBSON_LANNI;
  memcpy(job->shape, shape, sizeof shape);
  lucy_psf_optics_default(&job->optics);
  job->optics.na = gtk_spin_button_get_value(self->na);
  job->optics.wavelength_um = gtk_spin_button_get_value(self->wavelength);
  job->optics.ni = gtk_spin_button_get_value(self->ni);
  job->optics.ni0 = job->optics.ni;
  job->optics.dxy_um = gtk_spin_button_get_value(self->dxy);
  job->optics.dz_um = gtk_spin_button_get_value(self->dz);
  if (m == LUCY_PSF_DIALOG_GIBSON_LANNI) {
    job->optics.ns = gtk_spin_button_get_value(self->ns);
    job->optics.depth_um = gtk_spin_button_get_value(self->depth);
  }
  self->busy = TRUE;
  update_sensitivity(self);
  gtk_spinner_start(self->spinner);
  gtk_label_set_label(self->status_label, "Integrating the pupil…");
  GTask *task = g_task_new(self, NULL, job_done, NULL);
  g_task_set_task_data(task, job, g_free);
  g_task_run_in_thread(task, job_thread);
  g_object_unref(task);
}

static void generate_clicked_cb(LucyPsfDialog *self) { lucy_psf_dialog_generate(self); }

static void cancel_clicked_cb(LucyPsfDialog *self) {
  self->closed = TRUE;
  gtk_window_destroy(GTK_WINDOW(self));
}

gboolean lucy_psf_dialog_is_busy(LucyPsfDialog *self) { return self->busy; }
const char *lucy_psf_dialog_get_last_error(LucyPsfDialog *self) { return self->last_error; }

void lucy_psf_dialog_set_model(LucyPsfDialog *self, LucyPsfDialogModel model) {
  gtk_drop_down_set_selected(self->model_drop, (guint)model);
}

void lucy_psf_dialog_set_shape(LucyPsfDialog *self, const size_t shape[3]) {
  for (int a = 0; a < 3; a++) gtk_spin_button_set_value(self->size[a], (double)shape[a]);
}

void lucy_psf_dialog_set_optics(LucyPsfDialog *self, double na, double wavelength_um, double ni,
                                double ns, double depth_um, double dxy_um, double dz_um) {
  gtk_spin_button_set_value(self->na, na);
  gtk_spin_button_set_value(self->wavelength, wavelength_um);
  gtk_spin_button_set_value(self->ni, ni);
  gtk_spin_button_set_value(self->ns, ns);
  gtk_spin_button_set_value(self->depth, depth_um);
  gtk_spin_button_set_value(self->dxy, dxy_um);
  gtk_spin_button_set_value(self->dz, dz_um);
}

static gboolean close_request_cb(GtkWindow *win) {
  LUCY_PSF_DIALOG(win)->closed = TRUE;
  return FALSE;
}

static void lucy_psf_dialog_finalize(GObject *object) {
  g_free(LUCY_PSF_DIALOG(object)->last_error);
  G_OBJECT_CLASS(lucy_psf_dialog_parent_class)->finalize(object);
}

static void lucy_psf_dialog_class_init(LucyPsfDialogClass *klass) {
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->finalize = lucy_psf_dialog_finalize;
  GTK_WINDOW_CLASS(klass)->close_request = close_request_cb;
  signals[GENERATED] = g_signal_new("generated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                    NULL, NULL, NULL, G_TYPE_NONE, 1, LUCY_TYPE_STACK);
  signals[FAILED] = g_signal_new("failed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                 NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
  gtk_widget_class_set_template_from_resource(widget_class, "/org/lucy/Lucy/lucy-psf-dialog.ui");
  gtk_widget_class_bind_template_child(widget_class, LucyPsfDialog, grid);
  gtk_widget_class_bind_template_child(widget_class, LucyPsfDialog, generate_button);
  gtk_widget_class_bind_template_child(widget_class, LucyPsfDialog, model_drop);
  gtk_widget_class_bind_template_child(widget_class, LucyPsfDialog, spinner);
  gtk_widget_class_bind_template_child(widget_class, LucyPsfDialog, status_label);
  gtk_widget_class_bind_template_callback(widget_class, generate_clicked_cb);
  gtk_widget_class_bind_template_callback(widget_class, cancel_clicked_cb);
  gtk_widget_class_bind_template_callback(widget_class, model_changed_cb);
}

static GtkSpinButton *optic_row(LucyPsfDialog *self, int row, const char *label, double lo,
                                double hi, double step, int digits, double value,
                                GtkWidget **row_widgets) {
  GtkWidget *l = gtk_label_new(label);
  gtk_label_set_xalign(GTK_LABEL(l), 0);
  GtkSpinButton *s = GTK_SPIN_BUTTON(gtk_spin_button_new_with_range(lo, hi, step));
  gtk_spin_button_set_digits(s, (guint)digits);
  gtk_spin_button_set_value(s, value);
  gtk_grid_attach(self->grid, l, 0, row, 1, 1);
  gtk_grid_attach(self->grid, GTK_WIDGET(s), 1, row, 2, 1);
  g_assert(self->n_optics_rows + 2 <= (int)G_N_ELEMENTS(self->optics_rows));
  self->optics_rows[self->n_optics_rows++] = l;
  self->optics_rows[self->n_optics_rows++] = GTK_WIDGET(s);
  if (row_widgets) {
    row_widgets[0] = l;
    row_widgets[1] = GTK_WIDGET(s);
  }
  return s;
}

static void lucy_psf_dialog_init(LucyPsfDialog *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  static const char *axes[3] = {"z", "y", "x"};
  GtkWidget *h1 = gtk_label_new("Size (voxels)");
  self->sigma_header = gtk_label_new("σ (µm)");
  gtk_widget_add_css_class(h1, "dim-label");
  gtk_widget_add_css_class(self->sigma_header, "dim-label");
  gtk_grid_attach(self->grid, h1, 1, 0, 1, 1);
  gtk_grid_attach(self->grid, self->sigma_header, 2, 0, 1, 1);
  for (int a = 0; a < 3; a++) {
    GtkWidget *label = gtk_label_new(axes[a]);
    gtk_label_set_xalign(GTK_LABEL(label), 0);
    gtk_grid_attach(self->grid, label, 0, a + 1, 1, 1);
    self->size[a] = GTK_SPIN_BUTTON(gtk_spin_button_new_with_range(1, 1024, 1));
    self->sigma[a] = GTK_SPIN_BUTTON(gtk_spin_button_new_with_range(0, 100, 0.01));
    gtk_spin_button_set_digits(self->sigma[a], 3);
    gtk_grid_attach(self->grid, GTK_WIDGET(self->size[a]), 1, a + 1, 1, 1);
    gtk_grid_attach(self->grid, GTK_WIDGET(self->sigma[a]), 2, a + 1, 1, 1);
  }
  self->na = optic_row(self, 4, "Numerical aperture", 0.01, 1.7, 0.01, 3, 1.2, NULL);
  self->wavelength = optic_row(self, 5, "Emission λ (µm)", 0.2, 2.0, 0.005, 3, 0.52, NULL);
  self->ni = optic_row(self, 6, "Immersion index ni", 1.0, 2.0, 0.001, 4, 1.515, NULL);
  self->ns = optic_row(self, 7, "Sample index ns", 1.0, 2.0, 0.001, 4, 1.33, self->ns_row);
  self->depth = optic_row(self, 8, "Source depth (µm)", 0, 500, 0.5, 2, 0, self->depth_row);
  self->dxy = optic_row(self, 9, "Lateral voxel (µm)", 0.001, 10, 0.005, 4, 0.1, NULL);
  self->dz = optic_row(self, 10, "Axial voxel (µm)", 0.001, 50, 0.01, 4, 0.3, NULL);
  GtkWidget *note = gtk_label_new("Peak at the voxel M//2 on each axis, normalised to sum 1.");
  gtk_widget_add_css_class(note, "dim-label");
  gtk_label_set_wrap(GTK_LABEL(note), TRUE);
  gtk_label_set_max_width_chars(GTK_LABEL(note), 40);
  gtk_label_set_xalign(GTK_LABEL(note), 0);
  gtk_grid_attach(self->grid, note, 0, 11, 3, 1);
  update_sensitivity(self);
}

LucyPsfDialog *lucy_psf_dialog_new(GtkWindow *parent, const double voxel_um[3]) {
  LucyPsfDialog *self = g_object_new(LUCY_TYPE_PSF_DIALOG, "transient-for", parent, NULL);
  static const double sigma_default[3] = {0.6, 0.15, 0.15};
  for (int a = 0; a < 3; a++) {
    self->voxel_um[a] = voxel_um[a] > 0 ? voxel_um[a] : 1.0;
    double sv = sigma_default[a] / self->voxel_um[a];
    int n = 2 * (int)ceil(4 * sv) + 1;
    gtk_spin_button_set_value(self->size[a], CLAMP(n, 1, 255));
    gtk_spin_button_set_value(self->sigma[a], sigma_default[a]);
  }
  gtk_spin_button_set_value(self->dxy, self->voxel_um[2]);
  gtk_spin_button_set_value(self->dz, self->voxel_um[0]);
  return self;
}
