/* LucyPsfPanel: lucy_psf_measure shown as text and plots, the OTF, lucy_psf_fix as buttons. */
#include "lucy-psf-panel.h"

#include <math.h>
#include <string.h>

#include "lucy-error.h"
#include "lucy-otf-view.h"
#include "lucy-psf-dialog.h"

struct _LucyPsfPanel {
  GtkBox parent_instance;
  /* template */
  GtkLabel *title_label;
  GtkLabel *warning_label;
  GtkWidget *voxel_button;
  GtkGrid *numbers_grid;
  GtkBox *plots_box;
  GtkSpinButton *na_spin, *wl_spin, *n_spin;
  GtkLabel *report_label;
  GtkWidget *fix_box;
  LucyOtfView *otf_view;

  LucyWindow *window; /* weak */
  LucyStack *stack;   /* the PSF measured (a ref) */
  GCancellable *fix_cancel; /* the running fix's; NULL when none runs */
  GCancellable *measure_cancel; /* the running measurement's; cancelled when superseded */
  gboolean disposed;
  gboolean measured;
  LucyPsfMeasure m;
  double *profile[3]; /* z, y, x: through the peak */
  GtkWidget *plot[3];
  GHashTable *labels; /* field name -> GtkLabel */
  gboolean updating;
};

enum { MEASURED, N_SIGNALS };
static guint signals[N_SIGNALS];

G_DEFINE_FINAL_TYPE(LucyPsfPanel, lucy_psf_panel, GTK_TYPE_BOX)

static const char *axis_names[3] = {"z", "y", "x"};

#define MEASURING "measuring…"

static void set_text(LucyPsfPanel *self, const char *field, const char *text) {
  GtkLabel *l = g_hash_table_lookup(self->labels, field);
  if (l) gtk_label_set_label(l, text ? text : "—");
}

static void set_textf(LucyPsfPanel *self, const char *field, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
static void set_textf(LucyPsfPanel *self, const char *field, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  char *s = g_strdup_vprintf(fmt, ap);
  va_end(ap);
  set_text(self, field, s);
  g_free(s);
}

const char *lucy_psf_panel_get_text(LucyPsfPanel *self, const char *field) {
  g_return_val_if_fail(LUCY_IS_PSF_PANEL(self), NULL);
  if (g_strcmp0(field, "warning") == 0) return gtk_label_get_label(self->warning_label);
  if (g_strcmp0(field, "report") == 0) return gtk_label_get_label(self->report_label);
  GtkLabel *l = g_hash_table_lookup(self->labels, field);
  return l ? gtk_label_get_label(l) : NULL;
}

gboolean lucy_psf_panel_get_measure(LucyPsfPanel *self, LucyPsfMeasure *m) {
  if (!self->measured) return FALSE;
  *m = self->m;
  return TRUE;
}

/* text: "—" (nothing to show) or MEASURING */
static void clear_fields(LucyPsfPanel *self, const char *text) {
  GHashTableIter it;
  gpointer value;
  g_hash_table_iter_init(&it, self->labels);
  while (g_hash_table_iter_next(&it, NULL, &value)) gtk_label_set_label(value, text);
  for (int a = 0; a < 3; a++) g_clear_pointer(&self->profile[a], g_free);
}

static char *fmt_flags(const LucyPsfMeasure *m) {
  GString *s = g_string_new(NULL);
  if (m->saturated)
    g_string_append_printf(s, "saturated (%zu voxels at the maximum)", m->saturated_count);
  if (m->clipped)
    g_string_append_printf(s, "%sclipped (%zu voxels at the minimum)", s->len ? "; " : "",
                           m->clipped_count);
  for (int a = 0; a < 3; a++)
    if (!m->fit[a].ok) g_string_append_printf(s, "%sno fit along %s", s->len ? "; " : "", axis_names[a]);
  if (!s->len) g_string_append(s, "none");
  return g_string_free(s, FALSE);
}

/* A PSF read from a file without calibration has 1 µm voxels by assumption only. */
static gboolean voxel_known(LucyPsfPanel *self) {
  return !self->stack || lucy_stack_is_calibrated(self->stack);
}

/* The warnings, with the Voxel Size button beside them when the voxel size is a guess; their
 * row takes no room (nor the box's spacing) without them. */
static void show_warning(LucyPsfPanel *self, const char *text, gboolean offer_voxel) {
  gtk_label_set_label(self->warning_label, text);
  gtk_widget_set_visible(GTK_WIDGET(self->warning_label), *text);
  gtk_widget_set_visible(self->voxel_button, offer_voxel);
  gtk_widget_set_visible(gtk_widget_get_parent(self->voxel_button), *text || offer_voxel);
}

static const char *voxel_note(LucyPsfPanel *self) {
  if (!voxel_known(self)) return " (uncalibrated)";
  return self->stack && lucy_stack_is_voxel_size_set_by_user(self->stack) ? " (set by you)" : "";
}

static void update_fields(LucyPsfPanel *self) {
  const LucyPsfMeasure *m = &self->m;
  for (int a = 2; a >= 0; a--) {
    char f[16], t[16];
    g_snprintf(f, sizeof f, "fwhm-%s", axis_names[a]);
    g_snprintf(t, sizeof t, "theory-%s", axis_names[a]);
    const LucyPsfFit1d *fit = &m->fit[a];
    if (fit->ok) set_textf(self, f, "%.3f µm · %.2f px · R² %.4f", fit->fwhm_um, fit->fwhm_px, fit->r2);
    else set_text(self, f, "no fit");
    if (m->theory_fwhm_um[a] > 0 && fit->ok)
      set_textf(self, t, "%.3f µm · measured/theory %.2f", m->theory_fwhm_um[a], m->fwhm_ratio[a]);
    else if (m->theory_fwhm_um[a] > 0)
      set_textf(self, t, "%.3f µm", m->theory_fwhm_um[a]);
    else set_text(self, t, "give NA and λ below");
  }
  set_textf(self, "peak", "%.4g at z %zu · y %zu · x %zu", m->peak_value, m->peak[0], m->peak[1],
            m->peak[2]);
  set_textf(self, "centroid", "z %.3f · y %.3f · x %.3f", m->centroid[0], m->centroid[1],
            m->centroid[2]);
  set_textf(self, "offset", "z %+.3f · y %+.3f · x %+.3f voxel (origin %zu, %zu, %zu)",
            m->offset_px[0], m->offset_px[1], m->offset_px[2], m->origin[0], m->origin[1],
            m->origin[2]);
  set_textf(self, "background", "%.4g (noise %.3g, from the border)", m->background, m->noise);
  if (isfinite(m->sbr)) set_textf(self, "sbr", "%.4g · SNR %.4g", m->sbr, m->snr);
  else set_textf(self, "sbr", "∞ (background ≤ 0) · SNR %.4g", m->snr);
  set_textf(self, "sum", "%.6g (above background %.6g)", m->sum, m->sum_above_background);
  if (m->lateral_ok)
    set_textf(self, "lateral", "%.3f (σ %.2f / %.2f px) at %.0f° · R² %.4f", m->lateral_ratio,
              m->lateral_sigma_major_px, m->lateral_sigma_minor_px, m->lateral_angle_deg,
              m->lateral_r2);
  else set_text(self, "lateral", "no fit");
  if (isnan(m->axial_symmetry)) set_text(self, "axial", "— (focal plane on the border)");
  else set_textf(self, "axial", "%.4f (mirror correlation about z %zu)", m->axial_symmetry, m->peak[0]);
  char *flags = fmt_flags(m);
  set_text(self, "flags", flags);
  g_free(flags);
  set_textf(self, "shape", "%zu × %zu × %zu (z, y, x) · voxel %.4g × %.4g × %.4g µm%s",
            m->shape[0], m->shape[1], m->shape[2], m->voxel_um[0], m->voxel_um[1],
            m->voxel_um[2], voxel_note(self));

  /* the warning users need: an even-sized or off-centre PSF shifts the result */
  GString *w = g_string_new(NULL);
  for (int a = 0; a < 3; a++)
    if (m->shape[a] > 1 && m->shape[a] % 2 == 0)
      g_string_append_printf(w, "%s⚠ Even size along %s (%zu): the origin M//2 is not the middle.",
                             w->len ? "\n" : "", axis_names[a], m->shape[a]);
  double off = 0;
  for (int a = 0; a < 3; a++) off = MAX(off, fabs(m->offset_px[a]));
  if (off > 0.25)
    g_string_append_printf(w, "%s⚠ Off-centre by up to %.2f voxel: results will be shifted by "
                           "as much. Centre it.", w->len ? "\n" : "", off);
  if (!voxel_known(self))
    g_string_append_printf(w, "%s⚠ Voxel size unknown (no calibration in the file, 1 µm "
                           "assumed): the µm and the NA/λ theory mean nothing until it is set "
                           "(Voxel Size…, Ctrl+Shift+P in the main window).",
                           w->len ? "\n" : "");
  show_warning(self, w->str, !voxel_known(self) && self->window);
  g_string_free(w, TRUE);
}

static void extract_profiles(LucyPsfPanel *self, const LucyVolume *v) {
  const size_t *p = self->m.peak;
  for (int a = 0; a < 3; a++) {
    g_free(self->profile[a]);
    self->profile[a] = g_new(double, v->shape[a]);
    for (size_t i = 0; i < v->shape[a]; i++) {
      size_t q[3] = {p[0], p[1], p[2]};
      q[a] = i;
      self->profile[a][i] = v->data[(q[0] * v->shape[1] + q[1]) * v->shape[2] + q[2]];
    }
  }
}

/* ---- measuring (lucy_psf_measure in a worker thread) ---------------------------------------- */

typedef struct {
  LucyStack *stack; /* the PSF being measured */
  LucyPsfMeasureOptions opts;
} MeasureJob; /* the task's result is the LucyPsfMeasure */

static void measure_job_free(gpointer data) {
  MeasureJob *j = data;
  g_clear_object(&j->stack);
  g_free(j);
}

/* A core call's failure as the task's error; on the worker thread, where the core's detailed
 * message lives. */
static void return_core_error(GTask *task, LucyStatus st, const char *what) {
  GError *error = NULL;
  lucy_set_error_from_status(&error, st, what);
  g_task_return_error(task, error);
}

static void measure_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel) {
  MeasureJob *j = data;
  if (g_task_return_error_if_cancelled(task)) return;
  LucyPsfMeasure m;
  LucyStatus st = lucy_psf_measure(lucy_stack_get_volume(j->stack), &j->opts, &m);
  if (st == LUCY_OK) g_task_return_pointer(task, g_memdup2(&m, sizeof m), g_free);
  else return_core_error(task, st, "Could not measure the PSF");
}

/* m: the measurement of stack, or NULL with error. */
static void show_measure(LucyPsfPanel *self, LucyStack *stack, const LucyPsfMeasure *m,
                         const GError *error) {
  clear_fields(self, "—");
  if (m) {
    self->m = *m;
    self->measured = TRUE;
    update_fields(self);
    extract_profiles(self, lucy_stack_get_volume(stack));
  } else {
    show_warning(self, error->message, FALSE);
  }
  for (int a = 0; a < 3; a++) gtk_widget_queue_draw(self->plot[a]);
}

static void measure_done(GObject *source, GAsyncResult *res, gpointer data) {
  LucyPsfPanel *self = LUCY_PSF_PANEL(source);
  MeasureJob *j = g_task_get_task_data(G_TASK(res));
  GError *error = NULL;
  LucyPsfMeasure *m = g_task_propagate_pointer(G_TASK(res), &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    g_error_free(error); /* superseded by another PSF or other optics, or the panel is gone */
    return;
  }
  g_clear_object(&self->measure_cancel);
  show_measure(self, j->stack, m, error);
  g_signal_emit(self, signals[MEASURED], 0, m != NULL);
  g_clear_error(&error);
  g_free(m);
}

static void measure_options(LucyPsfPanel *self, LucyPsfMeasureOptions *o) {
  lucy_psf_measure_options_default(o);
  o->na = gtk_spin_button_get_value(self->na_spin);
  o->wavelength_um = gtk_spin_button_get_value(self->wl_spin);
  o->ni = gtk_spin_button_get_value(self->n_spin);
}

/* Cancels the measurement on its way (its result is dropped) and starts one of stack (NULL:
 * none). */
static void start_measure(LucyPsfPanel *self, LucyStack *stack, const LucyPsfMeasureOptions *o) {
  if (self->measure_cancel) g_cancellable_cancel(self->measure_cancel);
  g_clear_object(&self->measure_cancel);
  if (!stack) return;
  MeasureJob *j = g_new0(MeasureJob, 1);
  j->stack = g_object_ref(stack);
  j->opts = *o;
  self->measure_cancel = g_cancellable_new();
  GTask *task = g_task_new(self, self->measure_cancel, measure_done, NULL);
  g_task_set_task_data(task, j, measure_job_free);
  g_task_run_in_thread(task, measure_thread);
  g_object_unref(task);
}

void lucy_psf_panel_refresh(LucyPsfPanel *self) {
  g_return_if_fail(LUCY_IS_PSF_PANEL(self));
  LucyStack *stack = self->window ? lucy_window_get_stack(self->window, LUCY_VIEW_PSF) : NULL;
  g_set_object(&self->stack, stack);
  self->measured = FALSE;
  clear_fields(self, stack ? MEASURING : "—");
  gtk_widget_set_sensitive(self->fix_box, stack != NULL && !self->fix_cancel);
  LucyPsfMeasureOptions o;
  measure_options(self, &o);
  lucy_otf_view_set_psf(self->otf_view, stack);
  lucy_otf_view_set_optics(self->otf_view, o.na, o.wavelength_um, o.ni);
  show_warning(self, "", FALSE);
  gtk_label_set_label(self->title_label,
                      stack ? lucy_stack_get_title(stack) : "No PSF — open or generate one");
  start_measure(self, stack, &o);
  for (int a = 0; a < 3; a++) gtk_widget_queue_draw(self->plot[a]);
}

gboolean lucy_psf_panel_is_measuring(LucyPsfPanel *self) { return self->measure_cancel != NULL; }

void lucy_psf_panel_set_theory(LucyPsfPanel *self, double na, double wavelength_um, double n) {
  self->updating = TRUE;
  gtk_spin_button_set_value(self->na_spin, MAX(na, 0));
  gtk_spin_button_set_value(self->wl_spin, wavelength_um);
  gtk_spin_button_set_value(self->n_spin, n);
  self->updating = FALSE;
  lucy_psf_panel_refresh(self);
}

static void theory_changed_cb(LucyPsfPanel *self) {
  if (!self->updating) lucy_psf_panel_refresh(self);
}

/* the optics a PSF was generated with give the theory, once per new stack */
static void adopt_optics(LucyPsfPanel *self, LucyStack *stack) {
  const LucyPsfOptics *o = stack ? g_object_get_data(G_OBJECT(stack), LUCY_PSF_OPTICS_KEY) : NULL;
  if (!o) return;
  self->updating = TRUE;
  gtk_spin_button_set_value(self->na_spin, o->na);
  gtk_spin_button_set_value(self->wl_spin, o->wavelength_um);
  gtk_spin_button_set_value(self->n_spin, o->ni);
  self->updating = FALSE;
}

/* the window's "psf" was notified: a fix still running was for the old PSF */
static void psf_changed_cb(LucyPsfPanel *self, GParamSpec *pspec, LucyWindow *window) {
  if (self->fix_cancel) g_cancellable_cancel(self->fix_cancel);
  if (self->disposed) return;
  LucyStack *now = lucy_window_get_stack(window, LUCY_VIEW_PSF);
  if (now == self->stack) return;
  adopt_optics(self, now);
  lucy_psf_panel_refresh(self);
}

/* ---- fixes -------------------------------------------------------------------------------- */

static const char *fix_names[] = {"centred on the centroid", "centred on the peak",
                                  "background subtracted", "odd size", "normalised"};
static const char *fix_doing[] = {"Centring on the centroid (FFT sub-voxel shift)…",
                                  "Centring on the peak (FFT sub-voxel shift)…",
                                  "Subtracting the background…", "Cropping to odd sizes…",
                                  "Normalising…"};

typedef struct {
  LucyStack *stack; /* the PSF being fixed */
  LucyPsfPanelFix fix;
  LucyPsfFixOptions opts;
  LucyVolume *out;
  LucyPsfFixReport report;
  GTask *outer; /* the caller's */
} FixJob;

static void fix_job_free(gpointer data) {
  FixJob *j = data;
  g_clear_object(&j->stack);
  if (j->out) lucy_volume_free(j->out);
  g_free(j);
}

static void fix_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancel) {
  FixJob *j = data;
  LucyStatus st = lucy_psf_fix(lucy_stack_get_volume(j->stack), &j->opts, &j->out, &j->report);
  if (st == LUCY_OK) g_task_return_boolean(task, TRUE);
  else return_core_error(task, st, "Could not fix the PSF");
}

#define FIX_DROPPED "The PSF changed while the fix ran; the fix was dropped"

/* The fixed PSF replaces the window's (which notifies "psf" and so refreshes this panel),
 * unless the window's PSF changed while the fix ran. */
static gboolean replace_psf(LucyPsfPanel *self, FixJob *j, GError **error) {
  if (!self->window || lucy_window_get_stack(self->window, LUCY_VIEW_PSF) != j->stack) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, FIX_DROPPED);
    return FALSE;
  }
  char *title = g_strdup_printf("%s · %s", lucy_stack_get_title(j->stack), fix_names[j->fix]);
  LucyStack *fixed = lucy_stack_new_take(j->out, title);
  lucy_stack_copy_calibration(fixed, j->stack);
  j->out = NULL;
  g_free(title);
  const LucyPsfOptics *optics = g_object_get_data(G_OBJECT(j->stack), LUCY_PSF_OPTICS_KEY);
  if (optics)
    g_object_set_data_full(G_OBJECT(fixed), LUCY_PSF_OPTICS_KEY, g_memdup2(optics, sizeof *optics),
                           g_free);
  lucy_window_set_psf(self->window, fixed);
  g_object_unref(fixed);
  return TRUE;
}

static void fix_done(GObject *source, GAsyncResult *res, gpointer data) {
  LucyPsfPanel *self = LUCY_PSF_PANEL(source);
  FixJob *j = g_task_get_task_data(G_TASK(res));
  GTask *outer = j->outer;
  j->outer = NULL;
  g_clear_object(&self->fix_cancel);
  GError *error = NULL;
  const gboolean ok =
      g_task_propagate_boolean(G_TASK(res), &error) && replace_psf(self, j, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) { /* say why, not GIO's words */
    g_clear_error(&error);
    g_set_error_literal(&error, G_IO_ERROR, G_IO_ERROR_CANCELLED, FIX_DROPPED);
  }
  if (!self->disposed) {
    gtk_widget_set_sensitive(self->fix_box, self->stack != NULL);
    const char *msg = j->report.message[0] ? j->report.message : "Nothing changed.";
    gtk_label_set_label(self->report_label, ok ? msg : error->message);
  }
  if (ok) g_task_return_boolean(outer, TRUE);
  else g_task_return_error(outer, error);
  g_object_unref(outer);
}

static void fix_options(LucyPsfPanelFix fix, LucyPsfFixOptions *o) {
  lucy_psf_fix_options_default(o);
  switch (fix) {
    case LUCY_PSF_FIX_CENTRE_CENTROID: o->centre = LUCY_PSF_CENTRE_CENTROID; break;
    case LUCY_PSF_FIX_CENTRE_PEAK: o->centre = LUCY_PSF_CENTRE_PEAK; break;
    case LUCY_PSF_FIX_SUBTRACT_BACKGROUND: o->subtract_background = 1; break;
    case LUCY_PSF_FIX_ODD: o->odd = 1; break;
    case LUCY_PSF_FIX_NORMALISE: o->normalize = 1; break;
  }
}

void lucy_psf_panel_fix_async(LucyPsfPanel *self, LucyPsfPanelFix fix,
                              GAsyncReadyCallback callback, gpointer user_data) {
  g_return_if_fail(LUCY_IS_PSF_PANEL(self));
  g_return_if_fail((unsigned)fix < G_N_ELEMENTS(fix_names));
  GTask *outer = g_task_new(self, NULL, callback, user_data);
  LucyStack *stack = self->window ? lucy_window_get_stack(self->window, LUCY_VIEW_PSF) : NULL;
  if (!stack || self->fix_cancel) {
    g_task_return_new_error(outer, LUCY_ERROR, LUCY_ERR_INVALID_ARGUMENT, "%s",
                            stack ? "Another fix is still running" : "There is no PSF to fix");
    g_object_unref(outer);
    return;
  }
  FixJob *j = g_new0(FixJob, 1);
  j->stack = g_object_ref(stack);
  j->fix = fix;
  j->outer = outer;
  fix_options(fix, &j->opts);
  self->fix_cancel = g_cancellable_new();
  gtk_widget_set_sensitive(self->fix_box, FALSE);
  gtk_label_set_label(self->report_label, fix_doing[fix]);
  GTask *task = g_task_new(self, self->fix_cancel, fix_done, NULL);
  g_task_set_task_data(task, j, fix_job_free);
  g_task_run_in_thread(task, fix_thread);
  g_object_unref(task);
}

gboolean lucy_psf_panel_fix_finish(LucyPsfPanel *self, GAsyncResult *result, GError **error) {
  g_return_val_if_fail(g_task_is_valid(result, self), FALSE);
  return g_task_propagate_boolean(G_TASK(result), error);
}

gboolean lucy_psf_panel_is_fixing(LucyPsfPanel *self) { return self->fix_cancel != NULL; }

static void fix_clicked_done(GObject *source, GAsyncResult *res, gpointer data) {
  LucyPsfPanel *self = LUCY_PSF_PANEL(source);
  GError *error = NULL;
  if (lucy_psf_panel_fix_finish(self, res, &error)) return;
  GtkRoot *root = self->disposed ? NULL : gtk_widget_get_root(GTK_WIDGET(self));
  if (root && !g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    GtkWidget *dlg = gtk_message_dialog_new(GTK_IS_WINDOW(root) ? GTK_WINDOW(root) : NULL,
                                            GTK_DIALOG_MODAL, GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE,
                                            "%s", error->message);
    g_signal_connect(dlg, "response", G_CALLBACK(gtk_window_destroy), NULL);
    gtk_window_present(GTK_WINDOW(dlg));
  }
  g_error_free(error);
}

static void fix_clicked(LucyPsfPanel *self, LucyPsfPanelFix fix) {
  lucy_psf_panel_fix_async(self, fix, fix_clicked_done, NULL);
}

static void centre_centroid_cb(LucyPsfPanel *s) { fix_clicked(s, LUCY_PSF_FIX_CENTRE_CENTROID); }
static void centre_peak_cb(LucyPsfPanel *s) { fix_clicked(s, LUCY_PSF_FIX_CENTRE_PEAK); }
static void background_cb(LucyPsfPanel *s) { fix_clicked(s, LUCY_PSF_FIX_SUBTRACT_BACKGROUND); }
static void odd_cb(LucyPsfPanel *s) { fix_clicked(s, LUCY_PSF_FIX_ODD); }
static void normalise_cb(LucyPsfPanel *s) { fix_clicked(s, LUCY_PSF_FIX_NORMALISE); }

/* the main window's Voxel Size dialog: it owns the PSF */
static void voxel_clicked_cb(LucyPsfPanel *self) {
  if (self->window)
    g_action_group_activate_action(G_ACTION_GROUP(self->window), "voxel-size", NULL);
}

/* ---- profile plots ------------------------------------------------------------------------ */

static void draw_profile(GtkDrawingArea *area, cairo_t *cr, int w, int h, gpointer data) {
  LucyPsfPanel *self = data;
  const int a = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(area), "axis"));
  GdkRGBA fg;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  gtk_style_context_get_color(gtk_widget_get_style_context(GTK_WIDGET(area)), &fg);
  G_GNUC_END_IGNORE_DEPRECATIONS
  const double l = 44, r = 8, t = 18, b = 22;
  const double pw = w - l - r, ph = h - t - b;
  cairo_set_line_width(cr, 1);
  cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, 0.35);
  cairo_rectangle(cr, l + 0.5, t + 0.5, pw, ph);
  cairo_stroke(cr);
  cairo_select_font_face(cr, "Sans", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
  cairo_set_font_size(cr, 11);
  if (!self->measured || !self->profile[a] || pw < 10 || ph < 10) {
    cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, 0.6);
    cairo_move_to(cr, l + 6, t + 16);
    cairo_show_text(cr, self->measure_cancel ? MEASURING : "no profile");
    return;
  }
  const LucyPsfMeasure *m = &self->m;
  const size_t n = m->shape[a];
  const double vox = m->voxel_um[a] > 0 ? m->voxel_um[a] : 1;
  const double *y = self->profile[a];
  double ymin = y[0], ymax = y[0];
  for (size_t i = 1; i < n; i++) ymin = MIN(ymin, y[i]), ymax = MAX(ymax, y[i]);
  ymin = MIN(ymin, 0);
  if (!(ymax > ymin)) ymax = ymin + 1;
  const double x0 = -(double)m->origin[a] * vox, x1 = ((double)n - 1 - (double)m->origin[a]) * vox;
  const double xspan = x1 > x0 ? x1 - x0 : 1;
#define PX(i) (l + ((((double)(i)) - (double)m->origin[a]) * vox - x0) / xspan * pw)
#define PY(v) (t + ph - ((v) - ymin) / (ymax - ymin) * ph)
  /* origin M//2 */
  cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, 0.4);
  double dash[] = {3, 3};
  cairo_set_dash(cr, dash, 2, 0);
  cairo_move_to(cr, PX(m->origin[a]), t);
  cairo_line_to(cr, PX(m->origin[a]), t + ph);
  cairo_stroke(cr);
  cairo_set_dash(cr, NULL, 0, 0);
  /* fit */
  const LucyPsfFit1d *f = &m->fit[a];
  if (f->ok && f->sigma > 0) {
    cairo_set_source_rgb(cr, 0.93, 0.45, 0.1);
    cairo_set_line_width(cr, 2);
    const int steps = (int)MAX(pw, 2);
    for (int k = 0; k <= steps; k++) {
      double i = (double)k / steps * ((double)n - 1);
      double d = (i - f->centre) / f->sigma;
      double v = f->amplitude * exp(-0.5 * d * d) + f->offset;
      if (k == 0) cairo_move_to(cr, PX(i), PY(CLAMP(v, ymin, ymax)));
      else cairo_line_to(cr, PX(i), PY(CLAMP(v, ymin, ymax)));
    }
    cairo_stroke(cr);
    /* half maximum */
    double hm = f->offset + f->amplitude / 2, hw = f->fwhm_px / 2;
    cairo_set_line_width(cr, 1);
    cairo_move_to(cr, PX(f->centre - hw), PY(hm));
    cairo_line_to(cr, PX(f->centre + hw), PY(hm));
    cairo_stroke(cr);
  }
  /* data */
  cairo_set_source_rgb(cr, 0.2, 0.5, 0.9);
  for (size_t i = 0; i < n; i++) {
    cairo_arc(cr, PX(i), PY(y[i]), n > 80 ? 1.5 : 2.5, 0, 2 * G_PI);
    cairo_fill(cr);
  }
  /* labels */
  cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, 0.85);
  char s[160];
  if (f->ok)
    g_snprintf(s, sizeof s, "%s: FWHM %.3f µm (%.2f px) · R² %.4f", axis_names[a], f->fwhm_um,
               f->fwhm_px, f->r2);
  else g_snprintf(s, sizeof s, "%s: no fit", axis_names[a]);
  cairo_move_to(cr, l, t - 5);
  cairo_show_text(cr, s);
  cairo_set_source_rgba(cr, fg.red, fg.green, fg.blue, 0.6);
  cairo_set_font_size(cr, 10);
  g_snprintf(s, sizeof s, "%.2f", x0);
  cairo_move_to(cr, l, h - 6);
  cairo_show_text(cr, s);
  cairo_text_extents_t e;
  g_snprintf(s, sizeof s, "%.2f µm", x1);
  cairo_text_extents(cr, s, &e);
  cairo_move_to(cr, l + pw - e.x_advance, h - 6);
  cairo_show_text(cr, s);
  g_snprintf(s, sizeof s, "0");
  cairo_text_extents(cr, s, &e);
  cairo_move_to(cr, PX(m->origin[a]) - e.x_advance / 2, h - 6);
  cairo_show_text(cr, s);
  g_snprintf(s, sizeof s, "%.2g", ymax);
  cairo_move_to(cr, 2, t + 10);
  cairo_show_text(cr, s);
  g_snprintf(s, sizeof s, "%.2g", ymin);
  cairo_move_to(cr, 2, t + ph);
  cairo_show_text(cr, s);
#undef PX
#undef PY
}

/* ---- life cycle --------------------------------------------------------------------------- */

static void lucy_psf_panel_dispose(GObject *object) {
  LucyPsfPanel *self = LUCY_PSF_PANEL(object);
  self->disposed = TRUE;
  if (self->fix_cancel) g_cancellable_cancel(self->fix_cancel); /* its result is dropped */
  if (self->measure_cancel) g_cancellable_cancel(self->measure_cancel); /* likewise */
  g_clear_object(&self->measure_cancel);
  if (self->window) {
    g_object_remove_weak_pointer(G_OBJECT(self->window), (gpointer *)&self->window);
    self->window = NULL;
  }
  g_clear_object(&self->stack);
  gtk_widget_dispose_template(GTK_WIDGET(self), LUCY_TYPE_PSF_PANEL);
  G_OBJECT_CLASS(lucy_psf_panel_parent_class)->dispose(object);
}

/* Closing the QA window is the panel going away for its user, though a worker's GTask may keep
 * the object alive a while: a fix still running must not replace the PSF afterwards. */
static void lucy_psf_panel_unroot(GtkWidget *widget) {
  LucyPsfPanel *self = LUCY_PSF_PANEL(widget);
  if (self->fix_cancel) g_cancellable_cancel(self->fix_cancel);
  if (self->measure_cancel) g_cancellable_cancel(self->measure_cancel);
  GTK_WIDGET_CLASS(lucy_psf_panel_parent_class)->unroot(widget);
}

static void lucy_psf_panel_finalize(GObject *object) {
  LucyPsfPanel *self = LUCY_PSF_PANEL(object);
  for (int a = 0; a < 3; a++) g_free(self->profile[a]);
  g_hash_table_unref(self->labels);
  G_OBJECT_CLASS(lucy_psf_panel_parent_class)->finalize(object);
}

static void lucy_psf_panel_class_init(LucyPsfPanelClass *klass) {
  GtkWidgetClass *wc = GTK_WIDGET_CLASS(klass);
  G_OBJECT_CLASS(klass)->dispose = lucy_psf_panel_dispose;
  G_OBJECT_CLASS(klass)->finalize = lucy_psf_panel_finalize;
  wc->unroot = lucy_psf_panel_unroot;
  g_type_ensure(LUCY_TYPE_OTF_VIEW);
  signals[MEASURED] = g_signal_new("measured", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0,
                                   NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_BOOLEAN);
  gtk_widget_class_set_template_from_resource(wc, "/org/lucy/Lucy/lucy-psf-panel.ui");
  gtk_widget_class_bind_template_child(wc, LucyPsfPanel, title_label);
  gtk_widget_class_bind_template_child(wc, LucyPsfPanel, warning_label);
  gtk_widget_class_bind_template_child(wc, LucyPsfPanel, voxel_button);
  gtk_widget_class_bind_template_child(wc, LucyPsfPanel, numbers_grid);
  gtk_widget_class_bind_template_child(wc, LucyPsfPanel, plots_box);
  gtk_widget_class_bind_template_child(wc, LucyPsfPanel, na_spin);
  gtk_widget_class_bind_template_child(wc, LucyPsfPanel, wl_spin);
  gtk_widget_class_bind_template_child(wc, LucyPsfPanel, n_spin);
  gtk_widget_class_bind_template_child(wc, LucyPsfPanel, report_label);
  gtk_widget_class_bind_template_child(wc, LucyPsfPanel, fix_box);
  gtk_widget_class_bind_template_child(wc, LucyPsfPanel, otf_view);
  gtk_widget_class_bind_template_callback(wc, theory_changed_cb);
  gtk_widget_class_bind_template_callback(wc, centre_centroid_cb);
  gtk_widget_class_bind_template_callback(wc, centre_peak_cb);
  gtk_widget_class_bind_template_callback(wc, background_cb);
  gtk_widget_class_bind_template_callback(wc, odd_cb);
  gtk_widget_class_bind_template_callback(wc, normalise_cb);
  gtk_widget_class_bind_template_callback(wc, voxel_clicked_cb);
}

static void lucy_psf_panel_init(LucyPsfPanel *self) {
  gtk_widget_init_template(GTK_WIDGET(self));
  self->labels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
  static const struct {
    const char *field, *title;
  } rows[] = {
      {"shape", "Shape"},          {"fwhm-x", "FWHM x"},       {"theory-x", "  theory x"},
      {"fwhm-y", "FWHM y"},        {"theory-y", "  theory y"}, {"fwhm-z", "FWHM z"},
      {"theory-z", "  theory z"},  {"peak", "Peak"},           {"centroid", "Centroid"},
      {"offset", "Offset from M//2"}, {"background", "Background"}, {"sbr", "SBR"},
      {"sum", "Sum"},              {"lateral", "Lateral asymmetry"},
      {"axial", "Axial symmetry"}, {"flags", "Flags"},
  };
  for (guint i = 0; i < G_N_ELEMENTS(rows); i++) {
    GtkWidget *k = gtk_label_new(rows[i].title);
    gtk_label_set_xalign(GTK_LABEL(k), 0);
    gtk_widget_add_css_class(k, "dim-label");
    GtkWidget *v = gtk_label_new("—");
    gtk_label_set_xalign(GTK_LABEL(v), 0);
    gtk_widget_add_css_class(v, "numeric");
    gtk_grid_attach(self->numbers_grid, k, 0, (int)i, 1, 1);
    gtk_grid_attach(self->numbers_grid, v, 1, (int)i, 1, 1);
    g_hash_table_insert(self->labels, g_strdup(rows[i].field), v);
  }
  for (int a = 2; a >= 0; a--) {
    GtkWidget *area = gtk_drawing_area_new();
    gtk_drawing_area_set_content_width(GTK_DRAWING_AREA(area), 360);
    gtk_drawing_area_set_content_height(GTK_DRAWING_AREA(area), 120);
    gtk_widget_set_vexpand(area, TRUE);
    g_object_set_data(G_OBJECT(area), "axis", GINT_TO_POINTER(a));
    gtk_drawing_area_set_draw_func(GTK_DRAWING_AREA(area), draw_profile, self, NULL);
    gtk_box_append(self->plots_box, area);
    self->plot[a] = area;
  }
}

LucyPsfPanel *lucy_psf_panel_new(LucyWindow *window) {
  LucyPsfPanel *self = g_object_new(LUCY_TYPE_PSF_PANEL, NULL);
  self->window = window;
  if (window) g_object_add_weak_pointer(G_OBJECT(window), (gpointer *)&self->window);
  LucyStack *stack = window ? lucy_window_get_stack(window, LUCY_VIEW_PSF) : NULL;
  adopt_optics(self, stack);
  lucy_psf_panel_refresh(self);
  if (window)
    g_signal_connect_object(window, "notify::psf", G_CALLBACK(psf_changed_cb), self,
                            G_CONNECT_SWAPPED);
  return self;
}

GtkWindow *lucy_psf_panel_new_window(LucyWindow *window, LucyPsfPanel **panel) {
  GtkWindow *win = GTK_WINDOW(gtk_window_new());
  gtk_window_set_title(win, "PSF QA — Lucy");
  gtk_window_set_default_size(win, 1120, 860);
  if (window) {
    gtk_window_set_transient_for(win, GTK_WINDOW(window));
    gtk_window_set_application(win, gtk_window_get_application(GTK_WINDOW(window)));
  }
  LucyPsfPanel *p = lucy_psf_panel_new(window);
  gtk_window_set_child(win, GTK_WIDGET(p));
  if (panel) *panel = p;
  return win;
}

LucyOtfView *lucy_psf_panel_get_otf_view(LucyPsfPanel *self) { return self->otf_view; }

GtkWidget *lucy_psf_panel_get_voxel_button(LucyPsfPanel *self) { return self->voxel_button; }
