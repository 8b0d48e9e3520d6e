/* LucyWindow: wires the panels, the projection view and background runs together. */
#include "lucy-window.h"

#include <math.h>
#include <string.h>

#include "lucy-convolve-task.h"
#include "lucy-deconvolve-task.h"
#include "lucy-error.h"
#include "lucy-hyperstack-bar.h"
#include "lucy-operations-panel.h"
#include "lucy-points-view.h"
#include "lucy-compare-view.h"
#include "lucy-psf-dialog.h"
#include "lucy-psf-panel.h"
#include "lucy-read-task.h"
#include "lucy-snapshot.h"
#include "lucy-voxel-dialog.h"

#define N_VIEWS 4
#define MAX_RECENT 8

struct _LucyWindow {
  GtkApplicationWindow parent_instance;

  /* template */
  GtkMenuButton *open_menu_button;
  GMenu *recent_submenu;
  LucyDisplayPanel *display_panel;
  LucyOperationsPanel *operations_panel;
  LucyMemoryGauge *memory_gauge;
  LucyProjectionView *projection_view;
  LucyHyperstackBar *hyperstack_bar;
  GtkLabel *hover_label;
  GtkLabel *info_label;        /* the view and the stack's title (shortened when long) */
  GtkLabel *info_detail_label; /* its shape and voxel size, shown whole */
  char *info_text;             /* both, as lucy_window_get_info_text() gives them */
  GtkButton *voxel_button;
  GtkLabel *warning_label; /* the PSF's ⚠ lines, above the gauge: always in view */

  GSettings *settings;
  LucyStack *image, *psf, *result, *difference;
  /* the built-in demo: the sharp phantom for convolution, the same blurred with the demo PSF
   * plus Poisson noise for deconvolution (NULL once another image is opened) */
  LucyStack *demo_sharp, *demo_blurred;
  gboolean psf_builtin; /* the PSF is the built-in Gaussian: no PSF file was given */
  LucyPadMode mode;
  LucyPadMode result_mode;
  LucyView view;
  LucyRenderOptions view_opts[N_VIEWS];

  /* auto contrast, resolved once per (stack, slice, z) so a gamma change only re-renders */
  LucyStack *range_stack;
  gboolean range_slice;
  guint range_z;
  double range_pmin, range_pmax;
  double range_vmin, range_vmax;

  LucyDevice *device;
  LucyPlanning device_planning; /* device's FFT planning, fixed when it was made */
  GCancellable *cancellable;
  gboolean running;
  gboolean rerun_pending;
  gboolean auto_run;
  gint64 run_started;
  char *last_error;
  GtkFileChooserNative *chooser;
  gboolean disposed;
  guint inputs_generation; /* bumped when the image or PSF changes */
  guint run_generation;    /* inputs_generation when the running job started */
  GCancellable *read_cancel; /* another channel or frame of the image on its way; NULL: none */
  guint read_channel, read_frame; /* what it reads */
  /* channel → ChannelRange: the display range each channel of the image's file had when the
   * user left it, as Fiji keeps one per channel; emptied when another image comes */
  GHashTable *channel_ranges;

  /* deconvolution */
  LucyOperation operation;     /* what Run does */
  LucyOperation run_operation; /* what the running (or last) job does */
  LucyStack *saved_result;     /* the result before a deconvolution's previews replaced it */
  LucyPadMode saved_result_mode;
  int preview_every;
  guint preview_count;
  guint64 memory_limit; /* bytes a run may use on the device; 0: what is free */
  char *run_summary; /* "I-div 1.2e+05 · change 3.1e-03", the latest iteration */
};

enum { RUN_FINISHED, PREVIEW, N_SIGNALS };
static guint signals[N_SIGNALS];
enum { PROP_0, PROP_PSF, N_PROPS };
static GParamSpec *props[N_PROPS];

G_DEFINE_FINAL_TYPE(LucyWindow, lucy_window, GTK_TYPE_APPLICATION_WINDOW)

static const char *view_names[N_VIEWS] = {"image", "psf", "result", "difference"};
static const char *view_titles[N_VIEWS] = {"Image", "PSF", "Result", "Difference"};

const char *lucy_view_name(LucyView view) {
  return (unsigned)view < N_VIEWS ? view_names[view] : "image";
}

gboolean lucy_view_parse(const char *name, LucyView *view) {
  for (int i = 0; i < N_VIEWS; i++)
    if (g_ascii_strcasecmp(name, view_names[i]) == 0) {
      *view = (LucyView)i;
      return TRUE;
    }
  return FALSE;
}

static void update_display(LucyWindow *self);
static void update_prediction(LucyWindow *self);
static void update_actions(LucyWindow *self);

/* ---- stacks ---------------------------------------------------------------------------- */

LucyStack *lucy_window_get_stack(LucyWindow *self, LucyView view);

static LucyStack *compute_difference(LucyWindow *self) {
  if (!self->result || !self->image) return NULL;
  const LucyVolume *img = lucy_stack_get_volume(self->image);
  const LucyVolume *res = lucy_stack_get_volume(self->result);
  const LucyVolume *psf = self->psf ? lucy_stack_get_volume(self->psf) : NULL;
  ptrdiff_t origin[3] = {0, 0, 0};
  for (int a = 0; a < 3 && psf; a++) {
    ptrdiff_t m = (ptrdiff_t)psf->shape[a], c = m / 2;
    if (self->result_mode == LUCY_PAD_FULL) origin[a] = -c;
    else if (self->result_mode == LUCY_PAD_VALID) origin[a] = m - 1 - c;
  }
  /* the image on the result's grid: image voxel j sits where the PSF origin put it */
  LucyVolume *diff = NULL;
  if (lucy_volume_crop_pad(img, origin, res->shape, 0.0f, &diff) != LUCY_OK) {
    g_warning("Could not align the image with the result: %s", lucy_error_message());
    return NULL;
  }
  size_t n = lucy_shape_count(res->shape);
  for (size_t i = 0; i < n; i++) diff->data[i] = res->data[i] - diff->data[i];
  for (int a = 0; a < 3; a++) diff->voxel_um[a] = res->voxel_um[a];
  LucyStack *stack = lucy_stack_new_take(diff, "result − image");
  lucy_stack_set_signed(stack, TRUE);
  lucy_stack_copy_calibration(stack, self->result);
  return stack;
}

LucyStack *lucy_window_get_stack(LucyWindow *self, LucyView view) {
  switch (view) {
    case LUCY_VIEW_IMAGE: return self->image;
    case LUCY_VIEW_PSF: return self->psf;
    case LUCY_VIEW_RESULT: return self->result;
    case LUCY_VIEW_DIFFERENCE:
      if (!self->difference) self->difference = compute_difference(self);
      return self->difference;
  }
  return NULL;
}

static void clear_result(LucyWindow *self) {
  g_clear_object(&self->result);
  g_clear_object(&self->difference);
  lucy_operations_panel_set_result_text(self->operations_panel, NULL);
  lucy_operations_panel_set_result_tooltip(self->operations_panel, NULL);
}

static void reset_view_opts(LucyWindow *self, LucyView view) {
  LucyRenderOptions *o = &self->view_opts[view];
  lucy_render_options_default(o);
  if (view == LUCY_VIEW_PSF) {
    /* A PSF is judged by its peak and its faint wings: show the whole range, log scaled. */
    o->colormap = LUCY_CMAP_MAGMA;
    o->log = 1;
    o->pmin = 0;
    o->pmax = 100;
  }
  if (view == LUCY_VIEW_DIFFERENCE) o->colormap = LUCY_CMAP_COOLWARM;
}

/* A read of another channel or frame still on its way would replace the image set now. */
static void cancel_read(LucyWindow *self) {
  if (self->read_cancel) g_cancellable_cancel(self->read_cancel);
  g_clear_object(&self->read_cancel);
}

/* keep_display: another channel or frame of the same file keeps the image's display options,
 * which the caller has set up for it (carry_contrast). */
static void replace_image(LucyWindow *self, LucyStack *image, gboolean keep_display) {
  if (self->running) lucy_window_cancel(self);
  cancel_read(self);
  g_set_object(&self->image, image);
  self->inputs_generation++;
  clear_result(self);
  if (!keep_display) {
    reset_view_opts(self, LUCY_VIEW_IMAGE);
    g_hash_table_remove_all(self->channel_ranges);
  }
  reset_view_opts(self, LUCY_VIEW_RESULT);
  reset_view_opts(self, LUCY_VIEW_DIFFERENCE);
  if (image) {
    char *title = g_strdup_printf("Lucy — %s", lucy_stack_get_title(image));
    gtk_window_set_title(GTK_WINDOW(self), title);
    g_free(title);
  }
  update_prediction(self);
  update_actions(self);
  if (self->view != LUCY_VIEW_IMAGE) lucy_window_set_view(self, LUCY_VIEW_IMAGE);
  else update_display(self);
}

static void set_image(LucyWindow *self, LucyStack *image) { replace_image(self, image, FALSE); }

void lucy_window_set_image(LucyWindow *self, LucyStack *image) {
  g_return_if_fail(LUCY_IS_WINDOW(self));
  g_clear_object(&self->demo_sharp);
  g_clear_object(&self->demo_blurred);
  set_image(self, image);
}

/* The demo's image for the operation: deconvolving the sharp phantom would only sharpen what
 * is already sharp (spikes and ringing), so Deconvolve gets the blurred, noisy version. */
static void show_demo_for_operation(LucyWindow *self) {
  if (!self->demo_sharp || !self->demo_blurred) return;
  LucyStack *want =
      self->operation == LUCY_OPERATION_DECONVOLVE ? self->demo_blurred : self->demo_sharp;
  if (self->image != want) set_image(self, want);
}

static void set_psf(LucyWindow *self, LucyStack *psf, gboolean builtin) {
  if (self->running) lucy_window_cancel(self);
  self->psf_builtin = builtin;
  const gboolean changed = g_set_object(&self->psf, psf);
  self->inputs_generation++;
  clear_result(self);
  reset_view_opts(self, LUCY_VIEW_PSF);
  update_prediction(self);
  update_actions(self);
  update_display(self);
  if (changed) g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PSF]);
}

void lucy_window_set_psf(LucyWindow *self, LucyStack *psf) {
  g_return_if_fail(LUCY_IS_WINDOW(self));
  set_psf(self, psf, FALSE);
}

/* Wide enough that circular wrap-around is plain to see at the edges of the demo. */
static LucyStack *make_default_psf(const double voxel[3], GError **error) {
  const double sigma_um[3] = {0.9, 0.3, 0.3};
  size_t shape[3];
  for (int a = 0; a < 3; a++) {
    double sv = voxel[a] > 0 ? sigma_um[a] / voxel[a] : 1.0;
    shape[a] = (size_t)CLAMP(2 * (int)ceil(4 * sv) + 1, 1, 129);
  }
  return lucy_psf_dialog_make_gaussian(voxel, sigma_um, shape, error);
}

gboolean lucy_window_use_default_psf(LucyWindow *self, GError **error) {
  double voxel[3] = {0.3, 0.1, 0.1};
  if (self->image) memcpy(voxel, lucy_stack_get_volume(self->image)->voxel_um, sizeof voxel);
  LucyStack *psf = make_default_psf(voxel, error);
  if (!psf) return FALSE;
  /* why it is there, not its σ: short, so that the status line has room for it whole */
  lucy_stack_set_title(psf, "built-in demo PSF (no PSF file given)");
  /* made at the image's voxel size: as much a guess as the image's */
  if (self->image) lucy_stack_copy_calibration(psf, self->image);
  set_psf(self, psf, TRUE);
  g_object_unref(psf);
  return TRUE;
}

/* The phantom as a microscope would record it: blurred by the PSF (same size), then Poisson
 * noise at DEMO_PHOTONS per unit of the phantom's intensity, seeded so every run looks alike. */
#define DEMO_PHOTONS 200.0
static LucyStack *make_demo_blurred(const LucyVolume *sharp, const LucyVolume *psf,
                                    GError **error) {
  LucyConvOptions o;
  lucy_conv_options_default(&o);
  o.mode = LUCY_PAD_SAME;
  LucyVolume *blurred = NULL;
  LucyStatus st = lucy_convolve(sharp, psf, &o, &blurred);
  if (st == LUCY_OK) st = lucy_noise_poisson(blurred, DEMO_PHOTONS, 20240602u);
  if (st != LUCY_OK) {
    lucy_set_error_from_status(error, st, "Could not blur the demo phantom");
    if (blurred) lucy_volume_free(blurred);
    return NULL;
  }
  return lucy_stack_new_take(blurred, "demo spheres, blurred + Poisson noise");
}

gboolean lucy_window_load_demo(LucyWindow *self, GError **error) {
  const size_t shape[3] = {32, 128, 128};
  const double voxel[3] = {0.3, 0.1, 0.1};
  LucyVolume *vol = NULL;
  LucyStatus st = lucy_volume_new(shape, &vol);
  if (st == LUCY_OK) {
    for (int a = 0; a < 3; a++) vol->voxel_um[a] = voxel[a];
    st = lucy_phantom_random_spheres(vol, 24, 3.0, 9.0, 1.0, 20240601u, NULL);
  }
  if (st != LUCY_OK) {
    lucy_set_error_from_status(error, st, "Could not make the demo phantom");
    if (vol) lucy_volume_free(vol);
    return FALSE;
  }
  LucyStack *psf = make_default_psf(voxel, error);
  if (psf) { /* "demo Gaussian σ …", like "demo spheres" */
    char *title = g_strconcat("demo ", lucy_stack_get_title(psf), NULL);
    lucy_stack_set_title(psf, title);
    g_free(title);
  }
  LucyStack *blurred = psf ? make_demo_blurred(vol, lucy_stack_get_volume(psf), error) : NULL;
  if (!blurred) {
    g_clear_object(&psf);
    lucy_volume_free(vol);
    return FALSE;
  }
  LucyStack *sharp = lucy_stack_new_take(vol, "demo spheres");
  lucy_window_set_psf(self, psf);
  lucy_window_set_image(self, sharp); /* drops an older demo pair */
  self->demo_sharp = sharp;
  self->demo_blurred = blurred;
  show_demo_for_operation(self);
  g_object_unref(psf);
  return TRUE;
}

gboolean lucy_window_is_demo(LucyWindow *self) {
  g_return_val_if_fail(LUCY_IS_WINDOW(self), FALSE);
  return self->demo_sharp != NULL;
}

static LucyStack *read_stack(GFile *file, const LucyTiffReadOptions *opts, GError **error) {
  char *path = g_file_get_path(file);
  if (!path) {
    char *uri = g_file_get_uri(file);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "%s is not a local file", uri);
    g_free(uri);
    return NULL;
  }
  LucyStack *stack = lucy_read_stack(path, NULL, opts, error);
  g_free(path);
  return stack;
}

static void add_recent(LucyWindow *self, GFile *file) {
  GtkRecentManager *rm = gtk_recent_manager_get_default();
  char *uri = g_file_get_uri(file);
  GtkRecentData data = {0};
  data.mime_type = (char *)"image/tiff";
  data.app_name = (char *)"Lucy";
  data.app_exec = (char *)"lucy %f";
  gtk_recent_manager_add_full(rm, uri, &data);
  g_free(uri);
  if (self->settings) {
    GFile *parent = g_file_get_parent(file);
    char *folder = parent ? g_file_get_path(parent) : NULL;
    if (folder) g_settings_set_string(self->settings, "last-folder", folder);
    g_free(folder);
    g_clear_object(&parent);
  }
}

gboolean lucy_window_open_stack(LucyWindow *self, GFile *file, GError **error) {
  return lucy_window_open_stack_at(self, file, 0, 0, error);
}

gboolean lucy_window_open_stack_at(LucyWindow *self, GFile *file, guint channel, guint frame,
                                   GError **error) {
  LucyTiffReadOptions opts;
  lucy_tiff_read_options_default(&opts);
  opts.channel = channel;
  opts.frame = frame;
  LucyStack *stack = read_stack(file, &opts, error);
  if (!stack) return FALSE;
  add_recent(self, file);
  /* a PSF that does not match the new image stays: the prediction says what would happen */
  lucy_window_set_image(self, stack);
  g_object_unref(stack);
  return TRUE;
}

gboolean lucy_window_open_psf(LucyWindow *self, GFile *file, GError **error) {
  LucyStack *stack = read_stack(file, NULL, error); /* channel 0, frame 0, as lucy-cli reads it */
  if (!stack) return FALSE;
  add_recent(self, file);
  lucy_window_set_psf(self, stack);
  g_object_unref(stack);
  return TRUE;
}

/* ---- hyperstacks: another channel or frame of the image's file, read in the background ---- */

/* The image's hyperstack numbers, or NULL when it is not one. */
static const LucyTiffInfo *image_hyperstack(LucyWindow *self) {
  return self->image && lucy_stack_is_hyperstack(self->image)
             ? lucy_stack_get_tiff_info(self->image) : NULL;
}

/* The same file's other channel: the voxel size the user gave the file still holds. */
static void keep_user_voxel(LucyStack *old, LucyStack *fresh) {
  if (old && lucy_stack_is_voxel_size_set_by_user(old) &&
      g_strcmp0(lucy_stack_get_path(old), lucy_stack_get_path(fresh)) == 0)
    lucy_stack_set_voxel_size(fresh, lucy_stack_get_volume(old)->voxel_um);
}

typedef struct {
  double vmin, vmax;
} ChannelRange;

/* Another frame keeps the display range, so brightness compares across time (as in Fiji and
 * napari, not auto per frame); another channel gets back the range it had when left, or auto
 * contrast the first time, since channels differ in brightness. */
static void carry_contrast(LucyWindow *self, LucyStack *fresh) {
  LucyRenderOptions *o = &self->view_opts[LUCY_VIEW_IMAGE];
  const guint from = (guint)lucy_stack_get_tiff_info(self->image)->channel;
  const guint to = (guint)lucy_stack_get_tiff_info(fresh)->channel;
  if (from != to) {
    ChannelRange *left = g_new(ChannelRange, 1);
    *left = (ChannelRange){o->vmin, o->vmax};
    g_hash_table_insert(self->channel_ranges, GUINT_TO_POINTER(from), left);
  }
  const ChannelRange *back =
      from == to ? NULL : g_hash_table_lookup(self->channel_ranges, GUINT_TO_POINTER(to));
  o->auto_contrast = from != to && !back;
  if (back) {
    o->vmin = back->vmin;
    o->vmax = back->vmax;
  }
}

static void hyperstack_read_cb(GObject *source, GAsyncResult *res, gpointer data) {
  LucyWindow *self = data;
  GError *error = NULL;
  LucyStack *stack = lucy_read_task_finish(res, &error);
  if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED) || self->disposed) {
    /* superseded by another choice or image, or the window closed */
    g_clear_error(&error);
    g_clear_object(&stack);
    g_object_unref(self);
    return;
  }
  g_clear_object(&self->read_cancel);
  if (stack) {
    keep_user_voxel(self->image, stack);
    carry_contrast(self, stack);
    replace_image(self, stack, TRUE);
    g_object_unref(stack);
  } else {
    update_display(self); /* the bar goes back to what is shown */
    lucy_window_show_error(self, "Could not read that channel and frame", error);
    g_error_free(error);
  }
  g_object_unref(self);
}

gboolean lucy_window_read_hyperstack(LucyWindow *self, guint channel, guint frame) {
  g_return_val_if_fail(LUCY_IS_WINDOW(self), FALSE);
  const LucyTiffInfo *info = image_hyperstack(self);
  if (!info || channel >= info->channels || frame >= info->frames) return FALSE;
  cancel_read(self);
  self->read_cancel = g_cancellable_new();
  self->read_channel = channel;
  self->read_frame = frame;
  lucy_hyperstack_bar_set_choice(self->hyperstack_bar, channel, frame);
  lucy_hyperstack_bar_set_reading(self->hyperstack_bar, TRUE);
  LucyTiffReadOptions opts;
  lucy_tiff_read_options_default(&opts);
  opts.channel = channel;
  opts.frame = frame;
  lucy_read_task_run_async(lucy_stack_get_path(self->image), NULL, &opts, self->read_cancel,
                           hyperstack_read_cb, g_object_ref(self));
  return TRUE;
}

gboolean lucy_window_is_reading(LucyWindow *self) {
  g_return_val_if_fail(LUCY_IS_WINDOW(self), FALSE);
  return self->read_cancel != NULL;
}

LucyHyperstackBar *lucy_window_get_hyperstack_bar(LucyWindow *self) {
  return self->hyperstack_bar;
}

static void hyperstack_chosen_cb(LucyWindow *self, guint channel, guint frame) {
  lucy_window_read_hyperstack(self, channel, frame);
}

/* Ctrl+] and friends: one step from what is read or on its way, within the file. */
static void step_hyperstack(LucyWindow *self, int axis, int delta) {
  const LucyTiffInfo *info = image_hyperstack(self);
  if (!info) return;
  gint64 c = self->read_cancel ? self->read_channel : (guint)info->channel;
  gint64 t = self->read_cancel ? self->read_frame : (guint)info->frame;
  if (axis == 0) c += delta;
  else t += delta;
  if (c >= 0 && t >= 0) lucy_window_read_hyperstack(self, (guint)c, (guint)t);
}

/* The bar follows the view: the image's channel and frame to choose (also under Result and
 * Difference, which come from it), or what the PSF was read as. */
static void update_hyperstack_bar(LucyWindow *self) {
  const gboolean psf = self->view == LUCY_VIEW_PSF;
  lucy_hyperstack_bar_show_stack(self->hyperstack_bar, psf ? self->psf : self->image, !psf);
  if (!psf && self->read_cancel) {
    lucy_hyperstack_bar_set_choice(self->hyperstack_bar, self->read_channel, self->read_frame);
    lucy_hyperstack_bar_set_reading(self->hyperstack_bar, TRUE);
  }
}

/* ---- voxel size: the user's, for files without calibration or with a wrong one ------------- */

/* In place: no worker reads the image while no run is under way, and the result and the
 * difference lie on its grid, so they take its voxel size (and a saved result carries it). */
static void set_image_voxel(LucyWindow *self, const double voxel[3]) {
  LucyStack *on_grid[] = {self->image, self->result, self->difference, self->demo_sharp,
                          self->demo_blurred};
  for (gsize i = 0; i < G_N_ELEMENTS(on_grid); i++)
    if (on_grid[i]) lucy_stack_set_voxel_size(on_grid[i], voxel);
  /* the built-in PSF has its σ in µm: made again at the new voxel size */
  if (self->psf_builtin) lucy_window_use_default_psf(self, NULL);
  update_prediction(self);
  update_display(self);
  gtk_widget_queue_draw(GTK_WIDGET(self->projection_view));
}

/* A copy, since PSF QA's workers may be reading the PSF shown; it notifies "psf" so that they
 * measure again. The result stays: it depends on the PSF's voxels, not on their size. */
static gboolean set_psf_voxel(LucyWindow *self, const double voxel[3], GError **error) {
  LucyStack *psf = lucy_stack_copy(self->psf, error);
  if (!psf) return FALSE;
  lucy_stack_set_voxel_size(psf, voxel);
  const LucyPsfOptics *optics = g_object_get_data(G_OBJECT(self->psf), LUCY_PSF_OPTICS_KEY);
  if (optics)
    g_object_set_data_full(G_OBJECT(psf), LUCY_PSF_OPTICS_KEY, g_memdup2(optics, sizeof *optics),
                           g_free);
  g_set_object(&self->psf, psf);
  g_object_unref(psf);
  update_prediction(self);
  update_display(self);
  g_object_notify_by_pspec(G_OBJECT(self), props[PROP_PSF]);
  return TRUE;
}

gboolean lucy_window_set_voxel_size(LucyWindow *self, LucyView which, const double voxel_um[3],
                                    GError **error) {
  g_return_val_if_fail(LUCY_IS_WINDOW(self), FALSE);
  LucyStack *stack = which == LUCY_VIEW_IMAGE ? self->image
                     : which == LUCY_VIEW_PSF ? self->psf : NULL;
  if (!stack) {
    g_set_error(error, LUCY_ERROR, LUCY_ERR_INVALID_ARGUMENT, "There is no %s to set the voxel "
                "size of", which == LUCY_VIEW_PSF ? "PSF" : "image");
    return FALSE;
  }
  for (int a = 0; a < 3; a++)
    if (!(isfinite(voxel_um[a]) && voxel_um[a] > 0)) {
      g_set_error(error, LUCY_ERROR, LUCY_ERR_INVALID_ARGUMENT, "A voxel size must be a "
                  "positive, finite number of µm, not %g (%c)", voxel_um[a], "zyx"[a]);
      return FALSE;
    }
  if (self->running) {
    g_set_error_literal(error, LUCY_ERROR, LUCY_ERR_INVALID_ARGUMENT, "A run is under way and "
                        "uses the voxel size: cancel it or let it finish, then set it");
    return FALSE;
  }
  if (which == LUCY_VIEW_PSF) return set_psf_voxel(self, voxel_um, error);
  set_image_voxel(self, voxel_um);
  return TRUE;
}

/* The button says more when the voxel size shown is a guess. */
static void update_voxel_button(LucyWindow *self, LucyStack *stack) {
  const gboolean guess = stack && !lucy_stack_is_calibrated(stack);
  gtk_button_set_label(self->voxel_button, guess ? "⚠ Set Voxel Size…" : "Voxel Size…");
  if (guess) gtk_widget_add_css_class(GTK_WIDGET(self->voxel_button), "uncalibrated");
  else gtk_widget_remove_css_class(GTK_WIDGET(self->voxel_button), "uncalibrated");
}

/* ---- display ---------------------------------------------------------------------------- */

static void resolve_range(LucyWindow *self, LucyStack *stack, const LucyRenderOptions *opts,
                          gboolean slice, guint z, double *vmin, double *vmax) {
  if (self->range_stack == stack && self->range_slice == slice && (!slice || self->range_z == z) &&
      self->range_pmin == opts->pmin && self->range_pmax == opts->pmax) {
    *vmin = self->range_vmin;
    *vmax = self->range_vmax;
    return;
  }
  /* the values shown: the three panels (or the plane with the two side projections) */
  const LucyImage *img[3];
  gsize total = 0;
  for (int i = 0; i < 3; i++) {
    img[i] = lucy_projection_view_get_shown(self->projection_view, (LucyProjection)i);
    if (img[i]) total += img[i]->width * img[i]->height;
  }
  float *values = g_new(float, MAX(total, 1));
  const float *arrays[3];
  gsize counts[3];
  gsize k = 0;
  for (int i = 0; i < 3; i++) {
    arrays[i] = img[i] ? img[i]->data : NULL;
    counts[i] = img[i] ? img[i]->width * img[i]->height : 0;
    if (counts[i]) memcpy(values + k, img[i]->data, counts[i] * sizeof(float));
    k += counts[i];
  }
  LucyRenderOptions o = *opts;
  o.auto_contrast = 1;
  lucy_render_range(&o, values, total, vmin, vmax);
  g_free(values);
  if (stack == self->difference) {
    /* diverging: symmetric around zero so white means "no change" */
    double a = MAX(fabs(*vmin), fabs(*vmax));
    if (!(a > 0)) a = 1;
    *vmin = -a;
    *vmax = a;
  }
  lucy_display_panel_set_histogram(self->display_panel, arrays, counts, 3);
  self->range_stack = stack;
  self->range_slice = slice;
  self->range_z = z;
  self->range_pmin = opts->pmin;
  self->range_pmax = opts->pmax;
  self->range_vmin = *vmin;
  self->range_vmax = *vmax;
}

static void invalidate_range(LucyWindow *self) { self->range_stack = NULL; }

/* What an empty view says, on the canvas and in the status line alike. */
static const char *empty_text(LucyWindow *self) {
  switch (self->view) {
    case LUCY_VIEW_IMAGE: return "No stack — open one with Ctrl+O";
    case LUCY_VIEW_PSF: return "No PSF — open one with Ctrl+Shift+O or generate one with Ctrl+G";
    default:
      if (!self->image) return "No result yet — open an image (Ctrl+O) and a PSF, then press Run";
      if (!self->psf) return "No result yet — open a PSF (Ctrl+Shift+O), then press Run";
      return "No result yet — press Run (Ctrl+R)";
  }
}

/* "Image · title · shape · voxel size": the title in one label, which a long file name may
 * shorten in the middle (its tooltip has it whole), the shape and voxel size in another that
 * is never shortened. */
static void update_info(LucyWindow *self, LucyStack *stack) {
  g_free(self->info_text);
  if (!stack) {
    self->info_text = g_strdup(empty_text(self));
    gtk_label_set_label(self->info_label, self->info_text);
    gtk_widget_set_tooltip_text(GTK_WIDGET(self->info_label), NULL);
    gtk_widget_set_visible(GTK_WIDGET(self->info_detail_label), FALSE);
    return;
  }
  char *desc = lucy_stack_describe(stack);
  const char *title = lucy_stack_get_title(stack);
  char *head = *title ? g_strdup_printf("%s · %s · ", view_titles[self->view], title)
                      : g_strdup_printf("%s · ", view_titles[self->view]);
  self->info_text = g_strconcat(head, desc, NULL);
  char *tip = g_strdup_printf("%s: %s", view_titles[self->view], title);
  gtk_label_set_label(self->info_label, head);
  gtk_widget_set_tooltip_text(GTK_WIDGET(self->info_label), tip);
  gtk_label_set_label(self->info_detail_label, desc);
  gtk_widget_set_visible(GTK_WIDGET(self->info_detail_label), TRUE);
  g_free(tip);
  g_free(head);
  g_free(desc);
}

static void update_display(LucyWindow *self) {
  LucyStack *stack = lucy_window_get_stack(self, self->view);
  LucyStack *old = lucy_projection_view_get_stack(self->projection_view);
  if (old != stack) invalidate_range(self);
  lucy_projection_view_set_empty_text(self->projection_view, empty_text(self));
  lucy_projection_view_set_stack(self->projection_view, stack);
  update_info(self, stack);
  update_hyperstack_bar(self);
  update_voxel_button(self, stack);
  if (!stack) return;
  const LucyVolume *vol = lucy_stack_get_volume(stack);
  lucy_display_panel_set_depth(self->display_panel, (guint)vol->shape[LUCY_Z]);
  guint z = 0;
  gboolean slice = lucy_display_panel_get_slice(self->display_panel, &z);
  lucy_projection_view_set_slice(self->projection_view, slice, z);
  lucy_projection_view_get_slice(self->projection_view, &z);
  LucyRenderOptions *opts = &self->view_opts[self->view];
  double vmin, vmax;
  if (opts->auto_contrast) {
    resolve_range(self, stack, opts, slice, z, &vmin, &vmax);
    opts->vmin = vmin;
    opts->vmax = vmax;
  } else {
    double a, b;
    resolve_range(self, stack, opts, slice, z, &a, &b); /* keeps the histogram current */
    vmin = opts->vmin;
    vmax = opts->vmax;
  }
  lucy_display_panel_set_options(self->display_panel, opts);
  lucy_projection_view_set_render(self->projection_view, opts, vmin, vmax);
}

static void display_changed_cb(LucyWindow *self) {
  LucyRenderOptions *opts = &self->view_opts[self->view];
  lucy_display_panel_get_options(self->display_panel, opts);
  update_display(self);
}

static void auto_contrast_cb(LucyWindow *self) {
  self->view_opts[self->view].auto_contrast = 1;
  invalidate_range(self);
}

static void reset_contrast_cb(LucyWindow *self) {
  LucyStack *stack = lucy_window_get_stack(self, self->view);
  if (!stack) return;
  double lo, hi;
  lucy_stack_get_range(stack, &lo, &hi);
  if (stack == self->difference) {
    double a = MAX(fabs(lo), fabs(hi));
    lo = -a;
    hi = a;
  }
  /* the panel emits "changed" after this; take the range into its options now */
  LucyRenderOptions opts;
  lucy_display_panel_get_options(self->display_panel, &opts);
  opts.auto_contrast = 0;
  opts.vmin = lo;
  opts.vmax = hi;
  lucy_display_panel_set_options(self->display_panel, &opts);
}

static void hover_text_cb(LucyWindow *self) {
  const char *text = lucy_projection_view_get_hover_text(self->projection_view);
  gtk_label_set_label(self->hover_label,
                      text ? text : "Hover to read voxels");
}

void lucy_window_set_view(LucyWindow *self, LucyView view) {
  g_return_if_fail(LUCY_IS_WINDOW(self));
  g_action_group_change_action_state(G_ACTION_GROUP(self), "view",
                                     g_variant_new_string(lucy_view_name(view)));
}

LucyView lucy_window_get_view(LucyWindow *self) { return self->view; }

static void view_state_cb(GSimpleAction *action, GVariant *value, gpointer data) {
  LucyWindow *self = data;
  LucyView view;
  if (!lucy_view_parse(g_variant_get_string(value, NULL), &view)) return;
  g_simple_action_set_state(action, value);
  self->view = view;
  update_display(self);
}

/* ---- runs --------------------------------------------------------------------------------- */

static gboolean auto_rerun_allowed(LucyWindow *self) {
  if (!self->image) return FALSE;
  guint64 limit = self->settings ? g_settings_get_uint64(self->settings, "auto-rerun-voxels")
                                 : 16u * 1024 * 1024;
  return lucy_shape_count(lucy_stack_get_volume(self->image)->shape) <= limit;
}

/* Deconvolution's padded domain: N for circular edges; for non-circulant ones at least N+M-1
 * at a fast size, which is what full convolution needs. */
static gboolean decon_fft_shape(LucyWindow *self, size_t fft[3]) {
  const LucyVolume *img = lucy_stack_get_volume(self->image);
  const LucyVolume *psf = lucy_stack_get_volume(self->psf);
  LucyDeconOptions o;
  lucy_decon_options_default(&o);
  lucy_operations_panel_get_decon(self->operations_panel, &o);
  size_t out[3];
  LucyPadMode mode = o.boundary == LUCY_BOUNDARY_CIRCULAR ? LUCY_PAD_CIRCULAR : LUCY_PAD_FULL;
  if (lucy_conv_shapes(img->shape, psf->shape, mode, out, fft) != LUCY_OK) return FALSE;
  for (int a = 0; a < 3 && mode == LUCY_PAD_CIRCULAR; a++)
    if (psf->shape[a] > img->shape[a]) return FALSE;
  return TRUE;
}

/* The planner's request (memory.h) for what Run would do now, on the chosen backend, with no
 * budget yet. */
static gboolean memory_request(LucyWindow *self, LucyMemoryRequest *req) {
  if (!self->image || !self->psf) return FALSE;
  const LucyVolume *img = lucy_stack_get_volume(self->image);
  const LucyVolume *psf = lucy_stack_get_volume(self->psf);
  lucy_memory_request_default(req);
  memcpy(req->image_shape, img->shape, sizeof req->image_shape);
  memcpy(req->psf_shape, psf->shape, sizeof req->psf_shape);
  req->device = lucy_operations_panel_get_backend(self->operations_panel);
  if (self->operation == LUCY_OPERATION_DECONVOLVE) {
    LucyDeconOptions o;
    lucy_decon_options_default(&o);
    lucy_operations_panel_get_decon(self->operations_panel, &o);
    req->op = LUCY_MEMORY_DECONVOLVE;
    req->method = o.method;
    req->boundary = o.boundary;
    req->accelerate = o.accelerate;
    req->preview = 1; /* the window asks for previews */
  } else {
    req->op = LUCY_MEMORY_CONVOLVE;
    req->mode = self->mode;
  }
  return TRUE;
}

/* The memory planner's plan for what Run would do now, with the strategy chosen against the
 * device's free memory (when a device is set up). */
static gboolean plan_memory(LucyWindow *self, LucyMemoryPlan *mp) {
  LucyMemoryRequest req;
  if (!memory_request(self, &req)) return FALSE;
  LucyMemoryInfo mi;
  if (self->device && lucy_device_kind(self->device) == req.device &&
      lucy_device_memory_info(self->device, &mi) == LUCY_OK)
    req.free_bytes = mi.free_bytes;
  if (self->memory_limit && (!req.free_bytes || self->memory_limit < req.free_bytes))
    req.free_bytes = self->memory_limit;
  LucyStatus st = lucy_memory_plan(&req, mp);
  return st == LUCY_OK || st == LUCY_ERR_DEVICE_MEMORY;
}

guint64 lucy_window_get_predicted_peak(LucyWindow *self) {
  LucyMemoryPlan mp;
  if (!plan_memory(self, &mp)) return 0;
  /* On the CPU the gauge shows host RAM: Lucy's buffers there plus the result it allocates. */
  return (guint64)mp.peak_device_bytes +
         (mp.device == LUCY_DEVICE_CPU ? (guint64)mp.peak_host_bytes : 0);
}

static void append_hyperstack_note(GString *note, LucyStack *psf) {
  if (!lucy_stack_is_hyperstack(psf)) return;
  const LucyTiffInfo *i = lucy_stack_get_tiff_info(psf);
  g_string_append_printf(note, "\n⚠ PSF: channel %zu, frame %zu of %zu channel%s × %zu frame%s "
                         "(always, for a PSF)", i->channel, i->frame, i->channels,
                         i->channels == 1 ? "" : "s", i->frames, i->frames == 1 ? "" : "s");
}

/* Convolution works voxel by voxel: a PSF sampled unlike the image acts at the wrong scale,
 * most often because one of the two files lacks its calibration. */
static void append_voxel_note(GString *note, LucyStack *image, LucyStack *psf) {
  const double *i = lucy_stack_get_volume(image)->voxel_um;
  const double *p = lucy_stack_get_volume(psf)->voxel_um;
  gboolean differ = FALSE;
  for (int a = 0; a < 3; a++) differ |= fabs(i[a] - p[a]) > 0.01 * MAX(i[a], p[a]);
  if (differ)
    g_string_append_printf(note, "\n⚠ PSF voxels %g×%g×%g µm, the image's %g×%g×%g: set them "
                           "alike (Voxel Size…, Ctrl+Shift+P)", p[0], p[1], p[2], i[0], i[1],
                           i[2]);
}

/* The ⚠ lines say when the PSF is not the user's but stood in for a missing file, is
 * one channel and frame of a hyperstack, or is sampled unlike the image. */
static char *psf_note(LucyWindow *self) {
  if (self->psf_builtin)
    return g_strdup("\n⚠ PSF: the built-in demo Gaussian — no PSF file was given");
  GString *note = g_string_new(NULL);
  if (self->psf) append_hyperstack_note(note, self->psf);
  if (self->psf && self->image) append_voxel_note(note, self->image, self->psf);
  return g_string_free(note, FALSE);
}

/* Above the memory gauge rather than under Run: in Slice mode or under Deconvolve the controls
 * fill the sidebar at 1280x820, and lines at their end would sit below the fold. */
static void update_warnings(LucyWindow *self) {
  g_autofree char *note = psf_note(self);
  const char *text = note[0] == '\n' ? note + 1 : note;
  gtk_label_set_label(self->warning_label, text);
  gtk_widget_set_visible(GTK_WIDGET(self->warning_label), *text != '\0');
}

static void update_prediction(LucyWindow *self) {
  update_warnings(self);
  lucy_memory_gauge_set_predicted(self->memory_gauge, lucy_window_get_predicted_peak(self));
  LucyMemoryRequest req; /* the gauge's "what if" scales it */
  lucy_memory_gauge_set_request(self->memory_gauge, memory_request(self, &req) ? &req : NULL);
  if (self->image && self->psf && !self->running) {
    const LucyVolume *img = lucy_stack_get_volume(self->image);
    const LucyVolume *psf = lucy_stack_get_volume(self->psf);
    size_t out[3], fft[3];
    char *text;
    if (self->operation == LUCY_OPERATION_DECONVOLVE) {
      LucyDeconOptions o;
      lucy_decon_options_default(&o);
      lucy_operations_panel_get_decon(self->operations_panel, &o);
      if (!decon_fft_shape(self, fft))
        text = g_strdup_printf("deconvolve cannot run: the PSF (%zu × %zu × %zu) is larger than "
                               "the image with circular edges",
                               psf->shape[0], psf->shape[1], psf->shape[2]);
      else if (o.method == LUCY_DECON_WIENER)
        text = g_strdup_printf("deconvolve: Wiener in one step, %s edges, FFT %zu × %zu × %zu",
                               lucy_boundary_name(o.boundary), fft[0], fft[1], fft[2]);
      else
        text = g_strdup_printf("deconvolve: %s, %d iterations, %s edges, FFT %zu × %zu × %zu",
                               o.method == LUCY_DECON_RLTV ? "RL-TV" : "RL", o.iterations,
                               lucy_boundary_name(o.boundary), fft[0], fft[1], fft[2]);
    } else if (lucy_conv_shapes(img->shape, psf->shape, self->mode, out, fft) == LUCY_OK)
      text = g_strdup_printf("%s: output %zu × %zu × %zu, FFT %zu × %zu × %zu",
                             lucy_pad_mode_name(self->mode), out[0], out[1], out[2], fft[0],
                             fft[1], fft[2]);
    else
      text = g_strdup_printf("%s cannot run: %s", lucy_pad_mode_name(self->mode),
                             lucy_error_message());
    LucyMemoryPlan mp;
    if (plan_memory(self, &mp)) { /* the strategy Run will use, next to Run */
      char *with = g_strdup_printf("%s · strategy: %s%s", text, lucy_strategy_name(mp.strategy),
                                   mp.fits ? "" : " (does not fit)");
      g_free(text);
      text = with;
    }
    if (!self->result) lucy_operations_panel_set_result_text(self->operations_panel, text);
    g_free(text);
  }
}

static void update_actions(LucyWindow *self) {
  GAction *run = g_action_map_lookup_action(G_ACTION_MAP(self), "run");
  GAction *cancel = g_action_map_lookup_action(G_ACTION_MAP(self), "cancel");
  GAction *save = g_action_map_lookup_action(G_ACTION_MAP(self), "save-result");
  g_simple_action_set_enabled(G_SIMPLE_ACTION(run), self->image && self->psf && !self->running);
  g_simple_action_set_enabled(G_SIMPLE_ACTION(cancel), self->running);
  g_simple_action_set_enabled(G_SIMPLE_ACTION(save), self->result != NULL);
  /* a run reads the voxel sizes; the steps need channels or frames to step through */
  GAction *voxel = g_action_map_lookup_action(G_ACTION_MAP(self), "voxel-size");
  g_simple_action_set_enabled(G_SIMPLE_ACTION(voxel), (self->image || self->psf) && !self->running);
  const LucyTiffInfo *info = image_hyperstack(self);
  static const char *steps[] = {"next-channel", "previous-channel", "next-frame", "previous-frame"};
  for (int i = 0; i < 4; i++) {
    GAction *step = g_action_map_lookup_action(G_ACTION_MAP(self), steps[i]);
    g_simple_action_set_enabled(G_SIMPLE_ACTION(step),
                                info && (i < 2 ? info->channels : info->frames) > 1);
  }
}

/* The device the panel's settings ask for, made again when one changed (a device's planning
 * mode, like its kind and threads, is fixed when it is made). Callers never do this while a
 * run is under way: the run keeps the device it started with. */
static gboolean ensure_device(LucyWindow *self, GError **error) {
  LucyDeviceKind kind = lucy_operations_panel_get_backend(self->operations_panel);
  int threads = lucy_operations_panel_get_threads(self->operations_panel);
  LucyPlanning planning = lucy_operations_panel_get_planning(self->operations_panel);
  if (self->device && lucy_device_kind(self->device) == kind &&
      (kind != LUCY_DEVICE_CPU || lucy_device_threads(self->device) == threads) &&
      self->device_planning == planning)
    return TRUE;
  LucyDeviceOptions o;
  lucy_device_options_default(&o);
  o.kind = kind;
  o.threads = threads;
  o.planning = planning;
  LucyDevice *dev = NULL;
  LucyStatus st = lucy_device_new(&o, &dev);
  if (st != LUCY_OK) {
    lucy_set_error_from_status(error, st, "Could not set up the device");
    return FALSE;
  }
  if (self->device) lucy_device_unref(self->device);
  self->device = dev;
  self->device_planning = planning;
  lucy_memory_gauge_set_device(self->memory_gauge, dev);
  return TRUE;
}

LucyPlanning lucy_window_get_device_planning(LucyWindow *self) {
  g_return_val_if_fail(LUCY_IS_WINDOW(self), LUCY_PLAN_FAST);
  return self->device_planning;
}

static void progress_cb(gpointer user, double fraction, const char *stage) {
  LucyWindow *self = user;
  if (self->running && !self->disposed) lucy_operations_panel_set_progress(self->operations_panel, fraction, stage);
}

/* On the demo the object is known: how far the blurred image and the restoration are from
 * the phantom (after the best scaling: counts and phantom differ in scale), so a class sees
 * what the iterations bought. NULL when the image is not the demo's blurred one. */
static char *demo_error_text(LucyWindow *self, LucyStack *result) {
  if (!self->demo_sharp || self->image != self->demo_blurred) return NULL;
  const LucyVolume *truth = lucy_stack_get_volume(self->demo_sharp);
  double before, after;
  if (lucy_volume_scaled_error(lucy_stack_get_volume(self->image), truth, &before) != LUCY_OK ||
      lucy_volume_scaled_error(lucy_stack_get_volume(result), truth, &after) != LUCY_OK)
    return NULL;
  return g_strdup_printf("\nerror to the phantom: %.3f → %.3f", before, after);
}

static void run_done_cb(GObject *source, GAsyncResult *res, gpointer data) {
  LucyWindow *self = data;
  GError *error = NULL;
  int iterations_done = 0;
  g_autofree char *warning = NULL;
  gboolean decon = self->run_operation == LUCY_OPERATION_DECONVOLVE;
  LucyStack *result = decon ? lucy_deconvolve_task_finish(res, &iterations_done, &warning, &error)
                            : lucy_convolve_task_finish(res, &error);
  if (self->disposed) { /* the window closed while the run was under way */
    g_clear_object(&result);
    g_clear_error(&error);
    g_object_unref(self);
    return;
  }
  gboolean auto_run = self->auto_run;
  LucyPadMode mode_run = self->result_mode;
  self->running = FALSE;
  g_clear_object(&self->cancellable);
  if (result && self->run_generation != self->inputs_generation) {
    /* finished just as the inputs changed: it belongs to the old ones */
    g_clear_object(&result);
    g_set_error_literal(&error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "The inputs changed");
  }
  if (decon && !result && self->run_generation == self->inputs_generation) {
    /* cancelled or failed: the previews go, the result from before the run comes back */
    g_clear_object(&self->result);
    g_clear_object(&self->difference);
    self->result = g_steal_pointer(&self->saved_result);
    self->result_mode = self->saved_result_mode;
    invalidate_range(self);
    update_display(self);
  }
  g_clear_object(&self->saved_result);
  if (result && self->image) /* at the image's voxel size, a guess when the image's is */
    lucy_stack_copy_calibration(result, self->image);
  if (result && decon) {
    double seconds = (g_get_monotonic_time() - self->run_started) / 1e6;
    g_clear_object(&self->result);
    g_clear_object(&self->difference);
    self->result = result;
    self->result_mode = LUCY_PAD_SAME; /* the image's grid */
    invalidate_range(self);
    /* a planning warning (an off-centre PSF) in short, the whole of it in the tooltip */
    g_autofree char *short_warning = NULL;
    if (warning) {
      const char *colon = strchr(warning, ':');
      short_warning = colon ? g_strndup(warning, (gsize)(colon - warning)) : g_strdup(warning);
    }
    g_autofree char *truth = demo_error_text(self, result);
    char *text = g_strdup_printf("Result: %s%s%s%s%s%s", lucy_stack_get_title(result),
                                 self->run_summary ? "\n" : "",
                                 self->run_summary ? self->run_summary : "",
                                 truth ? truth : "",
                                 warning ? "\n⚠ " : "", warning ? short_warning : "");
    lucy_operations_panel_set_result_text(self->operations_panel, text);
    lucy_operations_panel_set_result_tooltip(self->operations_panel, warning);
    g_free(text);
    char *done = iterations_done > 0
                     ? g_strdup_printf("Done: %d iteration%s in %.2f s", iterations_done,
                                       iterations_done == 1 ? "" : "s", seconds)
                     : g_strdup("Done");
    lucy_operations_panel_set_progress(self->operations_panel, 1.0, done);
    g_free(done);
    if (self->view == LUCY_VIEW_IMAGE || self->view == LUCY_VIEW_PSF)
      lucy_window_set_view(self, LUCY_VIEW_RESULT);
    else
      update_display(self);
  } else if (result) {
    double seconds = (g_get_monotonic_time() - self->run_started) / 1e6;
    g_clear_object(&self->result);
    g_clear_object(&self->difference);
    self->result = result;
    self->result_mode = mode_run;
    invalidate_range(self);
    const LucyVolume *v = lucy_stack_get_volume(result);
    char *text = g_strdup_printf("Result: %zu × %zu × %zu (%s) in %.2f s", v->shape[0],
                                 v->shape[1], v->shape[2], lucy_pad_mode_name(mode_run), seconds);
    lucy_operations_panel_set_result_text(self->operations_panel, text);
    lucy_operations_panel_set_progress(self->operations_panel, 1.0, "Done");
    g_free(text);
    if (!auto_run && (self->view == LUCY_VIEW_IMAGE || self->view == LUCY_VIEW_PSF))
      lucy_window_set_view(self, LUCY_VIEW_RESULT);
    else
      update_display(self);
  } else if (g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED)) {
    lucy_operations_panel_set_progress(self->operations_panel, 0.0, "Cancelled");
  } else {
    lucy_operations_panel_set_progress(self->operations_panel, 0.0, "Failed");
    lucy_window_show_error(self, decon ? "The deconvolution failed" : "The convolution failed",
                           error);
  }
  update_actions(self);
  lucy_memory_gauge_update(self->memory_gauge);
  g_signal_emit(self, signals[RUN_FINISHED], 0, result != NULL, error);
  g_clear_error(&error);
  if (self->rerun_pending) {
    self->rerun_pending = FALSE;
    self->auto_run = TRUE;
    if (self->image && self->psf) lucy_window_run(self);
    self->auto_run = FALSE;
  }
  g_object_unref(self);
}

/* ---- deconvolution runs: iteration reports and live previews ---------------------------- */

static void iteration_cb(gpointer user, int iteration, int total, double idiv, double change,
                         double seconds) {
  LucyWindow *self = user;
  if (!self->running || self->disposed) return;
  g_free(self->run_summary);
  self->run_summary = g_strdup_printf("I-div %.4g · change %.2g", idiv, change);
  char *text = g_strdup_printf("Iteration %d of %d, %.1f s\n%s", iteration, total, seconds,
                               self->run_summary);
  lucy_operations_panel_set_result_text(self->operations_panel, text);
  g_free(text);
}

static void preview_cb(gpointer user, LucyStack *estimate, int iteration) {
  LucyWindow *self = user;
  if (!self->running || self->disposed || self->run_operation != LUCY_OPERATION_DECONVOLVE ||
      self->run_generation != self->inputs_generation)
    return;
  /* the estimate so far replaces the Result (its projections were made in the worker) */
  lucy_stack_copy_calibration(estimate, self->image);
  g_clear_object(&self->difference);
  g_set_object(&self->result, estimate);
  self->result_mode = LUCY_PAD_SAME;
  self->preview_count++;
  if (self->preview_count == 1 && !self->auto_run &&
      (self->view == LUCY_VIEW_IMAGE || self->view == LUCY_VIEW_PSF))
    lucy_window_set_view(self, LUCY_VIEW_RESULT);
  else if (self->view == LUCY_VIEW_RESULT || self->view == LUCY_VIEW_DIFFERENCE)
    update_display(self);
  g_signal_emit(self, signals[PREVIEW], 0, iteration);
}

static gboolean run_deconvolve(LucyWindow *self) {
  LucyDeconOptions opts;
  lucy_decon_options_default(&opts);
  lucy_operations_panel_get_decon(self->operations_panel, &opts);
  opts.device = self->device;
  opts.planning = self->device_planning; /* also for a CPU fallback of the GPU */
  opts.memory_limit_bytes = self->memory_limit;
  opts.preview_every = opts.method == LUCY_DECON_WIENER ? 0 : self->preview_every;
  self->cancellable = g_cancellable_new();
  self->running = TRUE;
  self->run_operation = LUCY_OPERATION_DECONVOLVE;
  self->run_generation = self->inputs_generation;
  self->run_started = g_get_monotonic_time();
  self->preview_count = 0;
  g_clear_pointer(&self->run_summary, g_free);
  g_set_object(&self->saved_result, self->result);
  self->saved_result_mode = self->result_mode;
  lucy_operations_panel_set_result_tooltip(self->operations_panel, NULL);
  lucy_operations_panel_set_progress(self->operations_panel, 0.0, "Starting");
  update_actions(self);
  lucy_deconvolve_task_run_async(self->image, self->psf, &opts, self->cancellable, progress_cb,
                                 iteration_cb, preview_cb, G_OBJECT(self), run_done_cb,
                                 g_object_ref(self));
  return TRUE;
}

void lucy_window_set_operation(LucyWindow *self, LucyOperation op) {
  g_return_if_fail(LUCY_IS_WINDOW(self));
  g_action_group_change_action_state(G_ACTION_GROUP(self), "operation",
                                     g_variant_new_string(lucy_operation_name(op)));
}

LucyOperation lucy_window_get_operation(LucyWindow *self) { return self->operation; }

void lucy_window_set_preview_every(LucyWindow *self, int iterations) {
  self->preview_every = MAX(iterations, 0);
}

guint lucy_window_get_preview_count(LucyWindow *self) { return self->preview_count; }

void lucy_window_set_memory_limit(LucyWindow *self, guint64 bytes) {
  g_return_if_fail(LUCY_IS_WINDOW(self));
  self->memory_limit = bytes;
  update_prediction(self);
}

guint64 lucy_window_get_memory_limit(LucyWindow *self) { return self->memory_limit; }

LucyOperationsPanel *lucy_window_get_operations_panel(LucyWindow *self) {
  return self->operations_panel;
}

static void operation_state_cb(GSimpleAction *action, GVariant *value, gpointer data) {
  LucyWindow *self = data;
  LucyOperation op;
  if (!lucy_operation_parse(g_variant_get_string(value, NULL), &op)) return;
  g_simple_action_set_state(action, value);
  self->operation = op;
  lucy_operations_panel_show_operation(self->operations_panel, op);
  if (self->settings) g_settings_set_enum(self->settings, "operation", (int)op);
  show_demo_for_operation(self);
  update_prediction(self);
}

static void decon_changed_cb(LucyWindow *self) {
  if (self->settings) {
    LucyDeconOptions o;
    lucy_decon_options_default(&o);
    lucy_operations_panel_get_decon(self->operations_panel, &o);
    g_settings_set_enum(self->settings, "decon-method", (int)o.method);
    g_settings_set_enum(self->settings, "decon-boundary", (int)o.boundary);
    g_settings_set_int(self->settings, "decon-iterations", o.iterations);
    g_settings_set_double(self->settings, "decon-tv-lambda", o.tv_lambda);
    g_settings_set_boolean(self->settings, "decon-accelerate", o.accelerate != 0);
  }
  update_prediction(self);
}

gboolean lucy_window_run(LucyWindow *self) {
  g_return_val_if_fail(LUCY_IS_WINDOW(self), FALSE);
  if (self->running) return FALSE;
  GError *error = NULL;
  if (!self->image || !self->psf) {
    g_set_error_literal(&error, LUCY_ERROR, LUCY_ERR_INVALID_ARGUMENT,
                        "Open an image and a PSF first");
    lucy_window_show_error(self, "Nothing to run", error);
    g_error_free(error);
    return FALSE;
  }
  if (!ensure_device(self, &error)) {
    lucy_window_show_error(self, "Could not run", error);
    g_error_free(error);
    return FALSE;
  }
  if (self->operation == LUCY_OPERATION_DECONVOLVE) return run_deconvolve(self);
  LucyConvOptions opts;
  lucy_conv_options_default(&opts);
  opts.mode = self->mode;
  opts.device = self->device;
  opts.planning = self->device_planning; /* also for a CPU fallback of the GPU */
  opts.memory_limit_bytes = self->memory_limit;
  self->cancellable = g_cancellable_new();
  self->running = TRUE;
  self->run_operation = LUCY_OPERATION_CONVOLVE;
  self->result_mode = self->mode;
  self->run_generation = self->inputs_generation;
  self->run_started = g_get_monotonic_time();
  lucy_operations_panel_set_progress(self->operations_panel, 0.0, "Starting");
  update_actions(self);
  lucy_convolve_task_run_async(self->image, self->psf, &opts, self->cancellable, progress_cb,
                               G_OBJECT(self), run_done_cb, g_object_ref(self));
  return TRUE;
}

void lucy_window_cancel(LucyWindow *self) {
  if (self->cancellable) g_cancellable_cancel(self->cancellable);
  self->rerun_pending = FALSE;
  lucy_operations_panel_set_progress(self->operations_panel, -1.0, "Cancelling…");
}

gboolean lucy_window_is_running(LucyWindow *self) { return self->running; }

void lucy_window_set_mode(LucyWindow *self, LucyPadMode mode) {
  g_action_group_change_action_state(G_ACTION_GROUP(self), "mode",
                                     g_variant_new_string(lucy_pad_mode_name(mode)));
}

LucyPadMode lucy_window_get_mode(LucyWindow *self) { return self->mode; }

static void mode_state_cb(GSimpleAction *action, GVariant *value, gpointer data) {
  LucyWindow *self = data;
  LucyPadMode mode;
  if (lucy_pad_mode_parse(g_variant_get_string(value, NULL), &mode) != LUCY_OK) return;
  g_simple_action_set_state(action, value);
  gboolean changed = mode != self->mode;
  self->mode = mode;
  lucy_operations_panel_show_mode(self->operations_panel, mode);
  if (self->settings) g_settings_set_enum(self->settings, "padding-mode", (int)mode);
  if (!changed) return;
  gboolean had_result = self->result != NULL;
  update_prediction(self);
  /* a class flips circular ↔ full and watches the ghosts come and go: re-run small stacks */
  if (had_result && self->operation == LUCY_OPERATION_CONVOLVE && auto_rerun_allowed(self) &&
      lucy_window_get_predicted_peak(self) > 0) {
    if (self->running) {
      g_cancellable_cancel(self->cancellable);
      self->rerun_pending = TRUE;
    } else {
      self->auto_run = TRUE;
      lucy_window_run(self);
      self->auto_run = FALSE;
    }
  }
}

static void operation_settings_changed_cb(LucyWindow *self) {
  if (self->settings)
    g_settings_set_int(self->settings, "threads",
                       lucy_operations_panel_get_threads(self->operations_panel));
  if (!self->running) {
    GError *error = NULL;
    if (!ensure_device(self, &error)) {
      lucy_window_show_error(self, "Could not set up the device", error);
      g_error_free(error);
    }
  }
}

/* ---- errors ------------------------------------------------------------------------------ */

void lucy_window_show_error(LucyWindow *self, const char *title, const GError *error) {
  g_free(self->last_error);
  self->last_error = g_strdup(error ? error->message : title);
  GtkWidget *dlg = gtk_message_dialog_new(GTK_WINDOW(self), GTK_DIALOG_MODAL | GTK_DIALOG_DESTROY_WITH_PARENT,
                                          GTK_MESSAGE_ERROR, GTK_BUTTONS_CLOSE, "%s", title);
  if (error)
    gtk_message_dialog_format_secondary_text(GTK_MESSAGE_DIALOG(dlg), "%s", error->message);
  g_signal_connect(dlg, "response", G_CALLBACK(gtk_window_destroy), NULL);
  gtk_window_present(GTK_WINDOW(dlg));
}

const char *lucy_window_get_last_error(LucyWindow *self) { return self->last_error; }

/* ---- file choosers ----------------------------------------------------------------------- */

gboolean lucy_window_save_result(LucyWindow *self, GFile *file, gboolean overwrite,
                                 GError **error) {
  if (!self->result) {
    g_set_error_literal(error, LUCY_ERROR, LUCY_ERR_INVALID_ARGUMENT, "There is no result yet");
    return FALSE;
  }
  char *path = g_file_get_path(file);
  if (!path) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "Not a local file");
    return FALSE;
  }
  LucyTiffWriteOptions o;
  lucy_tiff_write_options_default(&o);
  o.overwrite = overwrite;
  LucyStatus st = lucy_tiff_write(path, lucy_stack_get_volume(self->result), &o);
  g_free(path);
  if (st != LUCY_OK) {
    lucy_set_error_from_status(error, st, "Could not save the result");
    return FALSE;
  }
  add_recent(self, file);
  return TRUE;
}

gboolean lucy_window_export_view(LucyWindow *self, GFile *file, GError **error) {
  char *path = g_file_get_path(file);
  if (!path) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "Not a local file");
    return FALSE;
  }
  gboolean ok = lucy_widget_save_png(GTK_WIDGET(self->projection_view), path, error);
  g_free(path);
  return ok;
}

typedef enum { CHOOSE_STACK, CHOOSE_PSF, CHOOSE_SAVE_RESULT, CHOOSE_EXPORT_PNG } ChooseKind;

static void chooser_response_cb(GtkNativeDialog *dialog, int response, gpointer data) {
  LucyWindow *self = data;
  ChooseKind kind = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(dialog), "lucy-kind"));
  GFile *file = response == GTK_RESPONSE_ACCEPT ? gtk_file_chooser_get_file(GTK_FILE_CHOOSER(dialog))
                                                : NULL;
  g_clear_object(&self->chooser);
  if (!file) return;
  GError *error = NULL;
  char *path = g_file_get_path(file);
  switch (kind) {
    case CHOOSE_STACK:
      if (!lucy_window_open_stack(self, file, &error))
        lucy_window_show_error(self, "Could not open the stack", error);
      break;
    case CHOOSE_PSF:
      if (!lucy_window_open_psf(self, file, &error))
        lucy_window_show_error(self, "Could not open the PSF", error);
      break;
    case CHOOSE_SAVE_RESULT:
      /* the chooser asked before replacing a file */
      if (!lucy_window_save_result(self, file, TRUE, &error))
        lucy_window_show_error(self, "Could not save the result", error);
      break;
    case CHOOSE_EXPORT_PNG:
      if (!lucy_window_export_view(self, file, &error))
        lucy_window_show_error(self, "Could not export the view", error);
      break;
  }
  g_clear_error(&error);
  g_free(path);
  g_object_unref(file);
}

static void choose(LucyWindow *self, ChooseKind kind) {
  static const char *titles[] = {"Open Stack", "Open PSF", "Save Result as TIFF",
                                 "Export View as PNG"};
  gboolean save = kind == CHOOSE_SAVE_RESULT || kind == CHOOSE_EXPORT_PNG;
  if (self->chooser) gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
  g_clear_object(&self->chooser);
  self->chooser = gtk_file_chooser_native_new(
      titles[kind], GTK_WINDOW(self), save ? GTK_FILE_CHOOSER_ACTION_SAVE : GTK_FILE_CHOOSER_ACTION_OPEN,
      save ? "_Save" : "_Open", "_Cancel");
  g_object_set_data(G_OBJECT(self->chooser), "lucy-kind", GINT_TO_POINTER(kind));
  GtkFileFilter *filter = gtk_file_filter_new();
  if (kind == CHOOSE_EXPORT_PNG) {
    gtk_file_filter_set_name(filter, "PNG images");
    gtk_file_filter_add_mime_type(filter, "image/png");
    gtk_file_filter_add_suffix(filter, "png");
    gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(self->chooser), "lucy-view.png");
  } else {
    gtk_file_filter_set_name(filter, "TIFF stacks");
    gtk_file_filter_add_mime_type(filter, "image/tiff");
    gtk_file_filter_add_suffix(filter, "tif");
    gtk_file_filter_add_suffix(filter, "tiff");
    if (kind == CHOOSE_SAVE_RESULT)
      gtk_file_chooser_set_current_name(GTK_FILE_CHOOSER(self->chooser), "result.tif");
  }
  gtk_file_chooser_add_filter(GTK_FILE_CHOOSER(self->chooser), filter);
  g_object_unref(filter);
  if (self->settings) {
    char *folder = g_settings_get_string(self->settings, "last-folder");
    if (folder && *folder) {
      GFile *f = g_file_new_for_path(folder);
      gtk_file_chooser_set_current_folder(GTK_FILE_CHOOSER(self->chooser), f, NULL);
      g_object_unref(f);
    }
    g_free(folder);
  }
  g_signal_connect(self->chooser, "response", G_CALLBACK(chooser_response_cb), self);
  gtk_native_dialog_show(GTK_NATIVE_DIALOG(self->chooser));
}

/* ---- recent files -------------------------------------------------------------------------- */

static gint recent_newer_first(gconstpointer a, gconstpointer b) {
  GDateTime *ta = gtk_recent_info_get_modified((GtkRecentInfo *)a);
  GDateTime *tb = gtk_recent_info_get_modified((GtkRecentInfo *)b);
  return g_date_time_compare(tb, ta);
}

static void rebuild_recent(LucyWindow *self) {
  g_menu_remove_all(self->recent_submenu);
  GList *items = gtk_recent_manager_get_items(gtk_recent_manager_get_default());
  items = g_list_sort(items, recent_newer_first);
  int n = 0;
  for (GList *l = items; l && n < MAX_RECENT; l = l->next) {
    GtkRecentInfo *info = l->data;
    if (!gtk_recent_info_has_application(info, "Lucy") || !gtk_recent_info_is_local(info))
      continue;
    const char *uri = gtk_recent_info_get_uri(info);
    if (!g_str_has_suffix(uri, ".tif") && !g_str_has_suffix(uri, ".tiff")) continue;
    GMenuItem *item = g_menu_item_new(gtk_recent_info_get_display_name(info), NULL);
    g_menu_item_set_action_and_target_value(item, "win.open-recent", g_variant_new_string(uri));
    g_menu_append_item(self->recent_submenu, item);
    g_object_unref(item);
    n++;
  }
  g_list_free_full(items, (GDestroyNotify)gtk_recent_info_unref);
  if (n == 0) g_menu_append(self->recent_submenu, "No recent files", "win.no-recent");
}

/* ---- actions ----------------------------------------------------------------------------- */

static void open_action(GSimpleAction *a, GVariant *p, gpointer self) { choose(self, CHOOSE_STACK); }
static void open_psf_action(GSimpleAction *a, GVariant *p, gpointer self) { choose(self, CHOOSE_PSF); }
static void save_result_action(GSimpleAction *a, GVariant *p, gpointer self) {
  choose(self, CHOOSE_SAVE_RESULT);
}
static void export_view_action(GSimpleAction *a, GVariant *p, gpointer self) {
  choose(self, CHOOSE_EXPORT_PNG);
}

static void open_recent_action(GSimpleAction *a, GVariant *p, gpointer data) {
  LucyWindow *self = data;
  GFile *file = g_file_new_for_uri(g_variant_get_string(p, NULL));
  GError *error = NULL;
  if (!lucy_window_open_stack(self, file, &error)) {
    lucy_window_show_error(self, "Could not open the stack", error);
    g_error_free(error);
  }
  g_object_unref(file);
}

static void demo_action(GSimpleAction *a, GVariant *p, gpointer data) {
  GError *error = NULL;
  if (!lucy_window_load_demo(data, &error)) {
    lucy_window_show_error(data, "Could not make the demo data", error);
    g_error_free(error);
  }
}

static void psf_generated_cb(LucyPsfDialog *dialog, LucyStack *psf, LucyWindow *self) {
  lucy_window_set_psf(self, psf);
  lucy_window_set_view(self, LUCY_VIEW_PSF);
}

/* Points: a window of its own (a point cloud is not a stack) */
static void points_action(GSimpleAction *a, GVariant *p, gpointer data) {
  gtk_window_present(lucy_points_view_new_window(GTK_WINDOW(data), NULL));
}

/* Compare: the four padding modes side by side, in a window of their own, on the current image
 * and PSF (or, without them, waiting for the wrap-around sample) */
static void compare_action(GSimpleAction *a, GVariant *p, gpointer data) {
  LucyWindow *self = data;
  LucyCompareView *view = NULL;
  GtkWindow *win = lucy_compare_view_new_window(GTK_WINDOW(self), &view);
  if (self->image && self->psf)
    lucy_compare_view_set_volumes(view, lucy_stack_get_volume(self->image),
                                  lucy_stack_get_volume(self->psf));
  gtk_window_present(win);
}

/* PSF QA: a window of its own that follows this window's PSF */
static void psf_qa_action(GSimpleAction *a, GVariant *p, gpointer data) {
  gtk_window_present(lucy_psf_panel_new_window(LUCY_WINDOW(data), NULL));
}

static void generate_psf_action(GSimpleAction *a, GVariant *p, gpointer data) {
  LucyWindow *self = data;
  double voxel[3] = {0.3, 0.1, 0.1};
  if (self->image) memcpy(voxel, lucy_stack_get_volume(self->image)->voxel_um, sizeof voxel);
  LucyPsfDialog *dialog = lucy_psf_dialog_new(GTK_WINDOW(self), voxel);
  g_signal_connect_object(dialog, "generated", G_CALLBACK(psf_generated_cb), self, 0);
  gtk_window_present(GTK_WINDOW(dialog));
}

/* Voxel Size: one dialog at a time, modal over the window */
static void voxel_size_action(GSimpleAction *a, GVariant *p, gpointer data) {
  gtk_window_present(GTK_WINDOW(lucy_voxel_dialog_new(LUCY_WINDOW(data))));
}

static void next_channel_action(GSimpleAction *a, GVariant *p, gpointer self) {
  step_hyperstack(self, 0, 1);
}
static void previous_channel_action(GSimpleAction *a, GVariant *p, gpointer self) {
  step_hyperstack(self, 0, -1);
}
static void next_frame_action(GSimpleAction *a, GVariant *p, gpointer self) {
  step_hyperstack(self, 1, 1);
}
static void previous_frame_action(GSimpleAction *a, GVariant *p, gpointer self) {
  step_hyperstack(self, 1, -1);
}

static void run_action(GSimpleAction *a, GVariant *p, gpointer self) { lucy_window_run(self); }
static void cancel_action(GSimpleAction *a, GVariant *p, gpointer self) { lucy_window_cancel(self); }
static void zoom_in_action(GSimpleAction *a, GVariant *p, gpointer data) {
  lucy_projection_view_zoom(LUCY_WINDOW(data)->projection_view, 1.25);
}
static void zoom_out_action(GSimpleAction *a, GVariant *p, gpointer data) {
  lucy_projection_view_zoom(LUCY_WINDOW(data)->projection_view, 0.8);
}
static void zoom_fit_action(GSimpleAction *a, GVariant *p, gpointer data) {
  lucy_projection_view_zoom_fit(LUCY_WINDOW(data)->projection_view);
}

static const GActionEntry win_actions[] = {
    {"open", open_action, NULL, NULL, NULL, {0}},
    {"open-psf", open_psf_action, NULL, NULL, NULL, {0}},
    {"open-recent", open_recent_action, "s", NULL, NULL, {0}},
    {"generate-psf", generate_psf_action, NULL, NULL, NULL, {0}},
    {"points", points_action, NULL, NULL, NULL, {0}},
    {"psf-qa", psf_qa_action, NULL, NULL, NULL, {0}},
    {"compare", compare_action, NULL, NULL, NULL, {0}},
    {"demo", demo_action, NULL, NULL, NULL, {0}},
    {"save-result", save_result_action, NULL, NULL, NULL, {0}},
    {"export-view", export_view_action, NULL, NULL, NULL, {0}},
    {"voxel-size", voxel_size_action, NULL, NULL, NULL, {0}},
    {"next-channel", next_channel_action, NULL, NULL, NULL, {0}},
    {"previous-channel", previous_channel_action, NULL, NULL, NULL, {0}},
    {"next-frame", next_frame_action, NULL, NULL, NULL, {0}},
    {"previous-frame", previous_frame_action, NULL, NULL, NULL, {0}},
    {"run", run_action, NULL, NULL, NULL, {0}},
    {"cancel", cancel_action, NULL, NULL, NULL, {0}},
    {"zoom-in", zoom_in_action, NULL, NULL, NULL, {0}},
    {"zoom-out", zoom_out_action, NULL, NULL, NULL, {0}},
    {"zoom-fit", zoom_fit_action, NULL, NULL, NULL, {0}},
    {"view", NULL, "s", "'image'", view_state_cb, {0}},
    {"mode", NULL, "s", "'same'", mode_state_cb, {0}},
    {"operation", NULL, "s", "'convolve'", operation_state_cb, {0}},
};

/* ---- drag and drop ------------------------------------------------------------------------ */

static gboolean drop_cb(GtkDropTarget *target, const GValue *value, double x, double y,
                        LucyWindow *self) {
  if (!G_VALUE_HOLDS(value, GDK_TYPE_FILE_LIST)) return FALSE;
  GSList *files = g_value_get_boxed(value);
  if (!files) return FALSE;
  GError *error = NULL;
  /* one file: the stack; two: the stack and its PSF */
  if (!lucy_window_open_stack(self, files->data, &error)) {
    lucy_window_show_error(self, "Could not open the dropped stack", error);
    g_error_free(error);
    return FALSE;
  }
  if (files->next && !lucy_window_open_psf(self, files->next->data, &error)) {
    lucy_window_show_error(self, "Could not open the dropped PSF", error);
    g_error_free(error);
  }
  return TRUE;
}

/* ---- lifecycle --------------------------------------------------------------------------- */

static gboolean lucy_window_close_request(GtkWindow *window) {
  LucyWindow *self = LUCY_WINDOW(window);
  if (self->cancellable) g_cancellable_cancel(self->cancellable);
  if (self->settings && !g_object_get_data(G_OBJECT(self), "lucy-no-save-size")) {
    int w, h;
    gtk_window_get_default_size(window, &w, &h);
    g_settings_set_int(self->settings, "window-width", w);
    g_settings_set_int(self->settings, "window-height", h);
    g_settings_set_boolean(self->settings, "window-maximized", gtk_window_is_maximized(window));
  }
  return GTK_WINDOW_CLASS(lucy_window_parent_class)->close_request(window);
}

static void lucy_window_dispose(GObject *object) {
  LucyWindow *self = LUCY_WINDOW(object);
  self->disposed = TRUE;
  self->running = FALSE;
  self->rerun_pending = FALSE;
  if (self->cancellable) g_cancellable_cancel(self->cancellable);
  g_clear_object(&self->cancellable);
  cancel_read(self);
  if (self->chooser) gtk_native_dialog_destroy(GTK_NATIVE_DIALOG(self->chooser));
  g_clear_object(&self->chooser);
  g_clear_object(&self->image);
  g_clear_object(&self->demo_sharp);
  g_clear_object(&self->demo_blurred);
  g_clear_object(&self->psf);
  g_clear_object(&self->result);
  g_clear_object(&self->difference);
  g_clear_object(&self->saved_result);
  g_clear_object(&self->settings);
  if (self->device) lucy_device_unref(self->device);
  self->device = NULL;
  G_OBJECT_CLASS(lucy_window_parent_class)->dispose(object);
}

static void lucy_window_finalize(GObject *object) {
  g_free(LUCY_WINDOW(object)->info_text);
  g_free(LUCY_WINDOW(object)->last_error);
  g_free(LUCY_WINDOW(object)->run_summary);
  g_hash_table_destroy(LUCY_WINDOW(object)->channel_ranges);
  G_OBJECT_CLASS(lucy_window_parent_class)->finalize(object);
}

static void lucy_window_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec) {
  if (id == PROP_PSF) g_value_set_object(value, LUCY_WINDOW(object)->psf);
  else G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

static void lucy_window_set_property(GObject *object, guint id, const GValue *value,
                                     GParamSpec *pspec) {
  if (id == PROP_PSF) lucy_window_set_psf(LUCY_WINDOW(object), g_value_get_object(value));
  else G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
}

static void lucy_window_class_init(LucyWindowClass *klass) {
  GObjectClass *object_class = G_OBJECT_CLASS(klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS(klass);
  object_class->dispose = lucy_window_dispose;
  object_class->finalize = lucy_window_finalize;
  object_class->get_property = lucy_window_get_property;
  object_class->set_property = lucy_window_set_property;
  /* notified whenever the PSF is replaced: opened, generated, fixed, the demo's */
  props[PROP_PSF] = g_param_spec_object("psf", NULL, NULL, LUCY_TYPE_STACK,
                                        G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY |
                                            G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties(object_class, N_PROPS, props);
  GTK_WINDOW_CLASS(klass)->close_request = lucy_window_close_request;

  signals[RUN_FINISHED] = g_signal_new("run-finished", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST,
                                       0, NULL, NULL, NULL, G_TYPE_NONE, 2, G_TYPE_BOOLEAN,
                                       G_TYPE_ERROR);
  signals[PREVIEW] = g_signal_new("preview", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL,
                                  NULL, NULL, G_TYPE_NONE, 1, G_TYPE_INT);

  g_type_ensure(LUCY_TYPE_DISPLAY_PANEL);
  g_type_ensure(LUCY_TYPE_OPERATIONS_PANEL);
  g_type_ensure(LUCY_TYPE_MEMORY_GAUGE);
  g_type_ensure(LUCY_TYPE_PROJECTION_VIEW);
  g_type_ensure(LUCY_TYPE_HYPERSTACK_BAR);
  gtk_widget_class_set_template_from_resource(widget_class, "/org/lucy/Lucy/lucy-window.ui");
  gtk_widget_class_bind_template_child(widget_class, LucyWindow, open_menu_button);
  gtk_widget_class_bind_template_child(widget_class, LucyWindow, recent_submenu);
  gtk_widget_class_bind_template_child(widget_class, LucyWindow, display_panel);
  gtk_widget_class_bind_template_child(widget_class, LucyWindow, operations_panel);
  gtk_widget_class_bind_template_child(widget_class, LucyWindow, memory_gauge);
  gtk_widget_class_bind_template_child(widget_class, LucyWindow, projection_view);
  gtk_widget_class_bind_template_child(widget_class, LucyWindow, hyperstack_bar);
  gtk_widget_class_bind_template_child(widget_class, LucyWindow, hover_label);
  gtk_widget_class_bind_template_child(widget_class, LucyWindow, voxel_button);
  gtk_widget_class_bind_template_child(widget_class, LucyWindow, warning_label);
  gtk_widget_class_bind_template_child(widget_class, LucyWindow, info_label);
  gtk_widget_class_bind_template_child(widget_class, LucyWindow, info_detail_label);
  gtk_widget_class_bind_template_callback(widget_class, display_changed_cb);
  gtk_widget_class_bind_template_callback(widget_class, auto_contrast_cb);
  gtk_widget_class_bind_template_callback(widget_class, reset_contrast_cb);
  gtk_widget_class_bind_template_callback(widget_class, hover_text_cb);
  gtk_widget_class_bind_template_callback(widget_class, hyperstack_chosen_cb);
  gtk_widget_class_bind_template_callback(widget_class, operation_settings_changed_cb);
}

static GSettings *lucy_settings_new_if_installed(void) {
  GSettingsSchemaSource *src = g_settings_schema_source_get_default();
  GSettingsSchema *schema = src ? g_settings_schema_source_lookup(src, "org.lucy.Lucy", TRUE) : NULL;
  if (!schema) return NULL; /* uninstalled and no GSETTINGS_SCHEMA_DIR: run on defaults */
  g_settings_schema_unref(schema);
  return g_settings_new("org.lucy.Lucy");
}

static void lucy_window_init(LucyWindow *self) {
  self->mode = LUCY_PAD_SAME;
  self->operation = LUCY_OPERATION_CONVOLVE;
  self->preview_every = 5;
  for (int v = 0; v < N_VIEWS; v++) reset_view_opts(self, (LucyView)v);
  self->channel_ranges = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
  gtk_widget_init_template(GTK_WIDGET(self));
  g_action_map_add_action_entries(G_ACTION_MAP(self), win_actions, G_N_ELEMENTS(win_actions), self);
  GSimpleAction *no_recent = g_simple_action_new("no-recent", NULL);
  g_simple_action_set_enabled(no_recent, FALSE);
  g_action_map_add_action(G_ACTION_MAP(self), G_ACTION(no_recent));
  g_object_unref(no_recent);

  self->settings = lucy_settings_new_if_installed();
  if (self->settings) {
    gtk_window_set_default_size(GTK_WINDOW(self), g_settings_get_int(self->settings, "window-width"),
                                g_settings_get_int(self->settings, "window-height"));
    if (g_settings_get_boolean(self->settings, "window-maximized"))
      gtk_window_maximize(GTK_WINDOW(self));
    int threads = g_settings_get_int(self->settings, "threads");
    if (threads > 0) lucy_operations_panel_set_threads(self->operations_panel, threads);
    self->mode = (LucyPadMode)g_settings_get_enum(self->settings, "padding-mode");
    self->operation = (LucyOperation)g_settings_get_enum(self->settings, "operation");
    self->preview_every = g_settings_get_int(self->settings, "decon-preview-every");
    self->memory_limit = g_settings_get_uint64(self->settings, "memory-limit-mib") << 20;
    LucyDeconOptions o;
    lucy_decon_options_default(&o);
    o.method = (LucyDeconMethod)g_settings_get_enum(self->settings, "decon-method");
    o.boundary = (LucyBoundary)g_settings_get_enum(self->settings, "decon-boundary");
    o.iterations = g_settings_get_int(self->settings, "decon-iterations");
    o.tv_lambda = g_settings_get_double(self->settings, "decon-tv-lambda");
    o.accelerate = g_settings_get_boolean(self->settings, "decon-accelerate");
    lucy_operations_panel_set_decon(self->operations_panel, &o);
    /* both ways: the check follows the key (set elsewhere) and the key the check; the device
     * is made below, so the first sync is not a settings change */
    g_signal_handlers_block_by_func(self->operations_panel, operation_settings_changed_cb, self);
    g_settings_bind(self->settings, "thorough-planning",
                    lucy_operations_panel_get_planning_control(self->operations_panel), "active",
                    G_SETTINGS_BIND_DEFAULT);
    g_signal_handlers_unblock_by_func(self->operations_panel, operation_settings_changed_cb, self);
  }
  g_signal_connect_object(self->operations_panel, "decon-changed", G_CALLBACK(decon_changed_cb),
                          self, G_CONNECT_SWAPPED);
  g_simple_action_set_state(
      G_SIMPLE_ACTION(g_action_map_lookup_action(G_ACTION_MAP(self), "operation")),
      g_variant_new_string(lucy_operation_name(self->operation)));
  lucy_operations_panel_show_operation(self->operations_panel, self->operation);
  g_simple_action_set_state(
      G_SIMPLE_ACTION(g_action_map_lookup_action(G_ACTION_MAP(self), "mode")),
      g_variant_new_string(lucy_pad_mode_name(self->mode)));
  lucy_operations_panel_show_mode(self->operations_panel, self->mode);

  GError *error = NULL;
  if (!ensure_device(self, &error)) {
    g_warning("%s", error->message);
    g_clear_error(&error);
  }

  GtkDropTarget *drop = gtk_drop_target_new(GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);
  g_signal_connect(drop, "drop", G_CALLBACK(drop_cb), self);
  gtk_widget_add_controller(GTK_WIDGET(self), GTK_EVENT_CONTROLLER(drop));

  rebuild_recent(self);
  g_signal_connect_object(gtk_recent_manager_get_default(), "changed", G_CALLBACK(rebuild_recent),
                          self, G_CONNECT_SWAPPED);
  update_actions(self);
  update_display(self);
}

LucyWindow *lucy_window_new(GtkApplication *app) {
  return g_object_new(LUCY_TYPE_WINDOW, "application", app, NULL);
}

const char *lucy_window_get_warning_text(LucyWindow *self) {
  g_return_val_if_fail(LUCY_IS_WINDOW(self), NULL);
  return gtk_label_get_label(self->warning_label);
}

const char *lucy_window_get_info_text(LucyWindow *self) {
  return self->info_text ? self->info_text : gtk_label_get_label(self->info_label);
}

LucyProjectionView *lucy_window_get_projection_view(LucyWindow *self) {
  return self->projection_view;
}
LucyDisplayPanel *lucy_window_get_display_panel(LucyWindow *self) { return self->display_panel; }
LucyMemoryGauge *lucy_window_get_memory_gauge(LucyWindow *self) { return self->memory_gauge; }
