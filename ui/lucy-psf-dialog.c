/* LucyPsfDialog: a small form around lucy_psf_gaussian. */
#include "lucy-psf-dialog.h"

#include <math.h>

#include "lucy-error.h"

struct _LucyPsfDialog {
  GtkWindow parent_instance;
  GtkGrid *grid;
  GtkSpinButton *size[3];
  GtkSpinButton *sigma[3];
  double voxel_um[3];
};

enum { GENERATED, N_SIGNALS };
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

static void generate_clicked_cb(LucyPsfDialog *self) {
  size_t shape[3];
  double sigma[3];
  for (int a = 0; a < 3; a++) {
    shape[a] = (size_t)gtk_spin_button_get_value_as_int(self->size[a]);
    sigma[a] = gtk_spin_button_get_value(self->sigma[a]);
  }
  GError *error = NULL;
  LucyStack *stack = lucy_psf_dialog_make_gaussian(self->voxel_um, sigma, shape, &error);
  if (!stack) {
    GtkWidget *dlg = gtk_message_dialog_new(GTK_WINDOW(self), GTK_DIALOG_MODAL, GTK_MESSAGE_ERROR,
                                            GTK_BUTTONS_CLOSE, "%s", error->message);
    g_signal_connect(dlg, "response", G_CALLBACK(gtk_window_destroy), NULL);
    gtk_window_present(GTK_WINDOW(dlg));
    g_error_free(error);
    return;
  }
  g_signal_emit(self, signals[GENERATED], 0, stack);
  g_object_unref(stack);
  gtk_window_destroy(GTK_WINDOW(self));
}

static void lucy_psf_dialog_class_init(LucyPsfDialogClass *klass) {
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  signals[GENERATED] = g_signal_new("generated", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                    NULL, NULL, NULL, G_TYPE_NONE, 1, LUCY_TYPE_STACK);
  gtk_widget_class_set_template_from_resource(widget_class, "/org/lucy/Lucy/lucy-psf-dialog.ui");
  gtk_widget_class_bind_template_child(widget_class, LucyPsfDialog, grid);
  gtk_widget_class_bind_template_callback(widget_class, generate_clicked_cb);
}

static void lucy_psf_dialog_init(LucyPsfDialog *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  static const char *axes[3] = {"z", "y", "x"};
  GtkWidget *h1 = gtk_label_new("Size (voxels)"), *h2 = gtk_label_new("σ (µm)");
  gtk_widget_add_css_class(h1, "dim-label");
  gtk_widget_add_css_class(h2, "dim-label");
  gtk_grid_attach(self->grid, h1, 1, 0, 1, 1);
  gtk_grid_attach(self->grid, h2, 2, 0, 1, 1);
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
  GtkWidget *note = gtk_label_new("Peak at the voxel M//2 on each axis, normalised to sum 1.");
  gtk_widget_add_css_class(note, "dim-label");
  gtk_label_set_wrap(GTK_LABEL(note), TRUE);
  gtk_label_set_xalign(GTK_LABEL(note), 0);
  gtk_grid_attach(self->grid, note, 0, 4, 3, 1);
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
  return self;
}
