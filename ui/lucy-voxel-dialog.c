/* LucyVoxelDialog: the voxel sizes of the image and the PSF. */
#include "lucy-voxel-dialog.h"

#include <math.h>
#include <string.h>

#include "lucy-error.h"

#define N_ROWS 2 /* image, PSF */

struct _LucyVoxelDialog {
  GtkWindow parent_instance;
  GtkGrid *grid;
  GtkLabel *message_label;
  GtkWidget *apply_button;
  GtkWidget *same_button;
  GtkEntry *entry[N_ROWS][3];
  GtkLabel *name_label[N_ROWS];
  GtkLabel *source_label[N_ROWS];
  gboolean edited[N_ROWS];
  guint filling;
  LucyWindow *window; /* weak */
};

G_DEFINE_FINAL_TYPE(LucyVoxelDialog, lucy_voxel_dialog, GTK_TYPE_WINDOW)

static const LucyView row_views[N_ROWS] = {LUCY_VIEW_IMAGE, LUCY_VIEW_PSF};
static const char *row_names[N_ROWS] = {"Image", "PSF"};
static const char *axis_names[3] = {"z", "y", "x"};

static int row_of(LucyView which) { return which == LUCY_VIEW_PSF ? 1 : 0; }

const char *lucy_voxel_dialog_describe_source(LucyStack *stack) {
  if (!stack) return "";
  if (lucy_stack_is_voxel_size_set_by_user(stack)) return "set by you";
  if (!lucy_stack_is_calibrated(stack)) return "uncalibrated: 1 µm assumed";
  return lucy_stack_get_path(stack) ? "from the file" : "as made";
}

/* A unit after the number: µm when none; nm, since a voxel size is often written so. */
static gboolean parse_unit(const char *unit, double *scale) {
  static const struct { const char *name; double scale; } units[] = {
      {"", 1}, {"µm", 1}, {"um", 1}, {"micron", 1}, {"microns", 1}, {"nm", 1e-3}};
  for (gsize i = 0; i < G_N_ELEMENTS(units); i++)
    if (g_ascii_strcasecmp(unit, units[i].name) == 0) {
      *scale = units[i].scale;
      return TRUE;
    }
  return FALSE;
}

/* strtod also reads C's hexadecimal ("0x10" is 16), which no one means by a voxel size. */
static gboolean is_hex(const char *text) {
  if (*text == '+' || *text == '-') text++;
  return text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
}

/* The text as µm, or NULL and why not. Commas are decimal points: many locales write 0,1. */
static const char *parse_voxel(const char *entered, double *out) {
  char *text = g_strstrip(g_strdup(entered));
  g_strdelimit(text, ",", '.');
  char *end = NULL;
  const double v = *text ? g_ascii_strtod(text, &end) : 0;
  double scale = 1;
  const char *why = NULL;
  if (!*text) why = "is empty: enter the voxel size in µm, e.g. 0.1";
  else if (end == text || is_hex(text) || !parse_unit(g_strstrip(end), &scale))
    why = "is not a number of µm (or of nm, with “nm” after it)";
  else if (!isfinite(v)) why = "is not a finite number";
  else if (!(v > 0)) why = "is not positive: a voxel is more than 0 µm";
  else if (v * scale < LUCY_VOXEL_MIN_UM || v * scale > LUCY_VOXEL_MAX_UM)
    why = "is not a voxel size (0.1 nm to 1 cm)";
  g_free(text);
  *out = v * scale;
  return why;
}

/* The entry's voxel size, or FALSE and why (“Image y: …”). */
static gboolean parse_entry(LucyVoxelDialog *self, int row, int axis, double *out,
                            char **why) {
  const char *text = gtk_editable_get_text(GTK_EDITABLE(self->entry[row][axis]));
  const char *what = parse_voxel(text, out);
  if (!what) return TRUE;
  *why = *text ? g_strdup_printf("%s %s: “%s” %s", row_names[row], axis_names[axis], text, what)
               : g_strdup_printf("%s %s %s", row_names[row], axis_names[axis], what);
  return FALSE;
}

static LucyStack *row_stack(LucyVoxelDialog *self, int row) {
  return self->window ? lucy_window_get_stack(self->window, row_views[row]) : NULL;
}

/* Checks the rows that hold a stack; the first problem goes under the numbers and Apply waits
 * for it to be fixed. */
static gboolean validate(LucyVoxelDialog *self, double voxel[N_ROWS][3], char **why) {
  *why = NULL;
  for (int r = 0; r < N_ROWS; r++)
    for (int a = 0; a < 3 && row_stack(self, r); a++)
      if (!parse_entry(self, r, a, &voxel[r][a], why)) return FALSE;
  return TRUE;
}

/* A row Apply sets: one the user edited; with none edited, one whose 1 µm is only assumed, so
 * that Apply with the numbers shown confirms them (an edit of the image alone does not confirm
 * the PSF's guess behind the user's back). */
static gboolean row_to_apply(LucyVoxelDialog *self, int row) {
  LucyStack *stack = row_stack(self, row);
  if (!stack) return FALSE;
  if (self->edited[0] || self->edited[1]) return self->edited[row];
  return !lucy_stack_is_calibrated(stack) && !lucy_stack_is_voxel_size_set_by_user(stack);
}

/* Apply is on when the numbers are valid and it would set something. */
static void update_apply(LucyVoxelDialog *self, gboolean valid) {
  gboolean any = FALSE;
  for (int r = 0; r < N_ROWS; r++) any |= row_to_apply(self, r);
  gtk_widget_set_sensitive(self->apply_button, valid && any);
}

static void show_message(LucyVoxelDialog *self, const char *text) {
  gtk_label_set_label(self->message_label, text ? text : "");
  gtk_widget_set_visible(GTK_WIDGET(self->message_label), text && *text);
}

static void revalidate(LucyVoxelDialog *self) {
  double voxel[N_ROWS][3];
  char *why = NULL;
  const gboolean ok = validate(self, voxel, &why);
  show_message(self, why);
  update_apply(self, ok);
  g_free(why);
}

static void entry_changed_cb(GtkEditable *entry, LucyVoxelDialog *self) {
  if (self->filling) return;
  for (int r = 0; r < N_ROWS; r++)
    for (int a = 0; a < 3; a++)
      if (GTK_EDITABLE(self->entry[r][a]) == entry) self->edited[r] = TRUE;
  revalidate(self);
}

static void fill_row(LucyVoxelDialog *self, int row) {
  LucyStack *stack = row_stack(self, row);
  self->filling++;
  for (int a = 0; a < 3; a++) {
    char text[G_ASCII_DTOSTR_BUF_SIZE] = "";
    if (stack) g_snprintf(text, sizeof text, "%.6g", lucy_stack_get_volume(stack)->voxel_um[a]);
    gtk_editable_set_text(GTK_EDITABLE(self->entry[row][a]), text);
    gtk_widget_set_sensitive(GTK_WIDGET(self->entry[row][a]), stack != NULL);
  }
  self->filling--;
  self->edited[row] = FALSE;
  gtk_label_set_label(self->name_label[row], stack ? lucy_stack_get_title(stack)
                                                   : row == 0 ? "no image" : "no PSF");
  gtk_label_set_label(self->source_label[row], stack ? lucy_voxel_dialog_describe_source(stack)
                                                     : "");
}

GtkEditable *lucy_voxel_dialog_get_entry(LucyVoxelDialog *self, LucyView which, int axis) {
  g_return_val_if_fail(LUCY_IS_VOXEL_DIALOG(self) && axis >= 0 && axis < 3, NULL);
  return GTK_EDITABLE(self->entry[row_of(which)][axis]);
}

void lucy_voxel_dialog_same_as_image(LucyVoxelDialog *self) {
  g_return_if_fail(LUCY_IS_VOXEL_DIALOG(self));
  for (int a = 0; a < 3; a++)
    gtk_editable_set_text(GTK_EDITABLE(self->entry[1][a]),
                          gtk_editable_get_text(GTK_EDITABLE(self->entry[0][a])));
  self->edited[1] = TRUE;
  revalidate(self); /* the same numbers again change no text, yet the PSF row is now set */
}

gboolean lucy_voxel_dialog_apply(LucyVoxelDialog *self, GError **error) {
  g_return_val_if_fail(LUCY_IS_VOXEL_DIALOG(self), FALSE);
  double voxel[N_ROWS][3];
  char *why = NULL;
  if (!validate(self, voxel, &why)) {
    show_message(self, why);
    g_set_error_literal(error, LUCY_ERROR, LUCY_ERR_INVALID_ARGUMENT, why);
    g_free(why);
    return FALSE;
  }
  gboolean apply[N_ROWS]; /* before fill_row() forgets the edits */
  for (int r = 0; r < N_ROWS; r++) apply[r] = row_to_apply(self, r);
  for (int r = 0; r < N_ROWS; r++) {
    if (!apply[r]) continue;
    GError *refused = NULL;
    if (!lucy_window_set_voxel_size(self->window, row_views[r], voxel[r], &refused)) {
      show_message(self, refused->message);
      g_propagate_error(error, refused);
      return FALSE;
    }
    fill_row(self, r);
  }
  show_message(self, NULL);
  update_apply(self, TRUE);
  return TRUE;
}

const char *lucy_voxel_dialog_get_message(LucyVoxelDialog *self) {
  g_return_val_if_fail(LUCY_IS_VOXEL_DIALOG(self), NULL);
  return gtk_label_get_label(self->message_label);
}

static void apply_clicked_cb(LucyVoxelDialog *self) {
  if (lucy_voxel_dialog_apply(self, NULL)) gtk_window_destroy(GTK_WINDOW(self));
}

static void cancel_clicked_cb(LucyVoxelDialog *self) { gtk_window_destroy(GTK_WINDOW(self)); }

static void same_clicked_cb(LucyVoxelDialog *self) { lucy_voxel_dialog_same_as_image(self); }

static void lucy_voxel_dialog_dispose(GObject *object) {
  LucyVoxelDialog *self = LUCY_VOXEL_DIALOG(object);
  if (self->window) g_object_remove_weak_pointer(G_OBJECT(self->window), (gpointer *)&self->window);
  self->window = NULL;
  G_OBJECT_CLASS(lucy_voxel_dialog_parent_class)->dispose(object);
}

static void lucy_voxel_dialog_class_init(LucyVoxelDialogClass *klass) {
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->dispose = lucy_voxel_dialog_dispose;
  gtk_widget_class_set_template_from_resource(widget_class, "/org/lucy/Lucy/lucy-voxel-dialog.ui");
  gtk_widget_class_bind_template_child(widget_class, LucyVoxelDialog, grid);
  gtk_widget_class_bind_template_child(widget_class, LucyVoxelDialog, message_label);
  gtk_widget_class_bind_template_child(widget_class, LucyVoxelDialog, apply_button);
  gtk_widget_class_bind_template_child(widget_class, LucyVoxelDialog, same_button);
  gtk_widget_class_bind_template_callback(widget_class, apply_clicked_cb);
  gtk_widget_class_bind_template_callback(widget_class, cancel_clicked_cb);
  gtk_widget_class_bind_template_callback(widget_class, same_clicked_cb);
}

/* One row: the name and title of the stack, three entries, where the numbers come from. */
static void build_row(LucyVoxelDialog *self, int r) {
  GtkWidget *box = gtk_box_new(GTK_ORIENTATION_VERTICAL, 0);
  GtkWidget *name = gtk_label_new(row_names[r]);
  gtk_label_set_xalign(GTK_LABEL(name), 0);
  gtk_widget_add_css_class(name, "heading");
  self->name_label[r] = GTK_LABEL(gtk_label_new(NULL));
  gtk_label_set_xalign(self->name_label[r], 0);
  gtk_label_set_ellipsize(self->name_label[r], PANGO_ELLIPSIZE_MIDDLE);
  gtk_label_set_max_width_chars(self->name_label[r], 24);
  gtk_widget_add_css_class(GTK_WIDGET(self->name_label[r]), "dim-label");
  gtk_box_append(GTK_BOX(box), name);
  gtk_box_append(GTK_BOX(box), GTK_WIDGET(self->name_label[r]));
  gtk_grid_attach(self->grid, box, 0, r + 1, 1, 1);
  for (int a = 0; a < 3; a++) {
    GtkEntry *e = GTK_ENTRY(gtk_entry_new());
    gtk_editable_set_width_chars(GTK_EDITABLE(e), 8);
    gtk_entry_set_input_purpose(e, GTK_INPUT_PURPOSE_NUMBER);
    gtk_entry_set_activates_default(e, TRUE);
    g_signal_connect(e, "changed", G_CALLBACK(entry_changed_cb), self);
    gtk_grid_attach(self->grid, GTK_WIDGET(e), a + 1, r + 1, 1, 1);
    self->entry[r][a] = e;
  }
  self->source_label[r] = GTK_LABEL(gtk_label_new(NULL));
  gtk_label_set_xalign(self->source_label[r], 0);
  gtk_widget_add_css_class(GTK_WIDGET(self->source_label[r]), "dim-label");
  gtk_grid_attach(self->grid, GTK_WIDGET(self->source_label[r]), 4, r + 1, 1, 1);
}

static void lucy_voxel_dialog_init(LucyVoxelDialog *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  for (int r = 0; r < N_ROWS; r++) build_row(self, r);
  gtk_window_set_default_widget(GTK_WINDOW(self), self->apply_button);
}

LucyVoxelDialog *lucy_voxel_dialog_new(LucyWindow *window) {
  LucyVoxelDialog *self = g_object_new(LUCY_TYPE_VOXEL_DIALOG, "transient-for", window, NULL);
  self->window = window;
  g_object_add_weak_pointer(G_OBJECT(window), (gpointer *)&self->window);
  for (int r = 0; r < N_ROWS; r++) fill_row(self, r);
  gtk_widget_set_sensitive(self->same_button, row_stack(self, 0) && row_stack(self, 1));
  show_message(self, NULL);
  update_apply(self, TRUE);
  return self;
}
