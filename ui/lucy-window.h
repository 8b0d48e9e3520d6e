/* LucyWindow: the main window — header bar with the view switcher, the sidebar of display and
 * operation controls with the memory gauge, the projection view and the status line. */
#pragma once

#include <gtk/gtk.h>
#include "lucy-display-panel.h"
#include "lucy-hyperstack-bar.h"
#include "lucy-memory-gauge.h"
#include "lucy-operations-panel.h"
#include "lucy-projection-view.h"
#include "lucy-stack.h"

G_BEGIN_DECLS

typedef enum {
  LUCY_VIEW_IMAGE = 0,
  LUCY_VIEW_PSF,
  LUCY_VIEW_RESULT,
  LUCY_VIEW_DIFFERENCE
} LucyView;

#define LUCY_TYPE_WINDOW (lucy_window_get_type())
G_DECLARE_FINAL_TYPE(LucyWindow, lucy_window, LUCY, WINDOW, GtkApplicationWindow)

LucyWindow *lucy_window_new(GtkApplication *app);

const char *lucy_view_name(LucyView view); /* "image", "psf", "result", "difference" */
gboolean lucy_view_parse(const char *name, LucyView *view);

/* The built-in demo: a sphere phantom (32×128×128, voxel 0.3×0.1×0.1 µm) and a Gaussian PSF.
 * Deconvolve shows the phantom blurred by that PSF with Poisson noise instead (switching the
 * operation switches the image) until another image is opened. */
gboolean lucy_window_load_demo(LucyWindow *self, GError **error);
gboolean lucy_window_is_demo(LucyWindow *self);
/* Reads a TIFF stack or PSF; on failure returns FALSE and keeps what was shown. */
gboolean lucy_window_open_stack(LucyWindow *self, GFile *file, GError **error);
/* The same for one channel and time point of a hyperstack (0-based, as lucy-cli --channel and
 * --frame). */
gboolean lucy_window_open_stack_at(LucyWindow *self, GFile *file, guint channel, guint frame,
                                   GError **error);
/* Reads another channel and frame of the image's hyperstack in a worker thread, dropping a
 * read still on its way; when it arrives it replaces the image (the result goes, the display
 * settings stay) and the bar under the image says what was read. FALSE when the image is not
 * a hyperstack or has no such channel or frame. Ctrl+] / Ctrl+[ step the channel, Ctrl+. /
 * Ctrl+, the frame. */
gboolean lucy_window_read_hyperstack(LucyWindow *self, guint channel, guint frame);
/* TRUE while such a read is on its way. */
gboolean lucy_window_is_reading(LucyWindow *self);
gboolean lucy_window_open_psf(LucyWindow *self, GFile *file, GError **error);
/* A Gaussian PSF (σ 0.9 µm axial, 0.3 µm lateral) at the image's voxel size, for an image
 * opened without a PSF file: titled "built-in demo PSF (no PSF file given)", and the line under
 * Run says so until another PSF replaces it. */
gboolean lucy_window_use_default_psf(LucyWindow *self, GError **error);
void lucy_window_set_image(LucyWindow *self, LucyStack *image);
/* Replaces the PSF; the "psf" property (LucyStack) is notified whenever it changes, however it
 * was replaced (opened, generated, fixed, the demo's). */
void lucy_window_set_psf(LucyWindow *self, LucyStack *psf);

/* Sets the voxel size (µm, z y x) of the image (LUCY_VIEW_IMAGE: also of the result on its
 * grid) or of the PSF (LUCY_VIEW_PSF: PSF QA measures again), marked "set by you" in the
 * status line, used by the projections' aspect, PSF QA and saved results. FALSE with a message
 * for a value that is not positive and finite, a missing stack, or a run under way (it reads
 * them). Ctrl+Shift+P opens the Voxel Size dialog, which calls this. */
gboolean lucy_window_set_voxel_size(LucyWindow *self, LucyView which, const double voxel_um[3],
                                    GError **error);

/* Writes the result as a float32 TIFF with its calibration (atomically). */
gboolean lucy_window_save_result(LucyWindow *self, GFile *file, gboolean overwrite,
                                 GError **error);
/* Renders the projection view as it is now to a PNG. */
gboolean lucy_window_export_view(LucyWindow *self, GFile *file, GError **error);

void lucy_window_set_view(LucyWindow *self, LucyView view);
LucyView lucy_window_get_view(LucyWindow *self);
/* Changes the padding mode; on a small stack a result is recomputed automatically. */
void lucy_window_set_mode(LucyWindow *self, LucyPadMode mode);
LucyPadMode lucy_window_get_mode(LucyWindow *self);
LucyStack *lucy_window_get_stack(LucyWindow *self, LucyView view);

/* What Run does: convolve with the padding mode, or deconvolve with the settings in the
 * operations panel (lucy_window_get_operations_panel). */
void lucy_window_set_operation(LucyWindow *self, LucyOperation op);
LucyOperation lucy_window_get_operation(LucyWindow *self);
/* While deconvolving, the Result shows the estimate every this many iterations (0: only the
 * end; default from the decon-preview-every setting, 5). Each shown estimate emits "preview"
 * (int iteration); a cancelled or failed deconvolution puts back the result from before. */
void lucy_window_set_preview_every(LucyWindow *self, int iterations);
/* The most device memory a run may use (bytes; 0: what is free; GSettings memory-limit-mib).
 * Runs that need more go low-memory, then tiled (as the text under Run says). */
void lucy_window_set_memory_limit(LucyWindow *self, guint64 bytes);
guint64 lucy_window_get_memory_limit(LucyWindow *self);
/* The FFT planning mode of the device runs use (the panel's "Thorough FFT planning", GSettings
 * thorough-planning): the current or last run's; once the setting changes, the device is made
 * again with the new mode when no run is under way, so the next run plans that way. */
LucyPlanning lucy_window_get_device_planning(LucyWindow *self);
/* Previews shown during the current (or last) deconvolution. */
guint lucy_window_get_preview_count(LucyWindow *self);

/* Starts a convolution or deconvolution (FALSE when there is nothing to run; the reason is
 * shown). Emits "run-finished" (gboolean success, GError or NULL) when done, failed or
 * cancelled. */
gboolean lucy_window_run(LucyWindow *self);
void lucy_window_cancel(LucyWindow *self);
gboolean lucy_window_is_running(LucyWindow *self);
/* Predicted peak bytes of the run set up now (0 when it cannot run). */
guint64 lucy_window_get_predicted_peak(LucyWindow *self);

/* Shows an error dialog with error's message and remembers it. */
void lucy_window_show_error(LucyWindow *self, const char *title, const GError *error);
const char *lucy_window_get_last_error(LucyWindow *self);

/* The status line's right-hand text: the view, the stack's title, its shape and voxel size. */
const char *lucy_window_get_info_text(LucyWindow *self);
/* the ⚠ lines about the PSF above the memory gauge ("" when none) */
const char *lucy_window_get_warning_text(LucyWindow *self);
LucyProjectionView *lucy_window_get_projection_view(LucyWindow *self);
LucyDisplayPanel *lucy_window_get_display_panel(LucyWindow *self);
LucyMemoryGauge *lucy_window_get_memory_gauge(LucyWindow *self);
LucyHyperstackBar *lucy_window_get_hyperstack_bar(LucyWindow *self);
LucyOperationsPanel *lucy_window_get_operations_panel(LucyWindow *self);

G_END_DECLS
