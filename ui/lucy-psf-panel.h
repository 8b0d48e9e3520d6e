/* LucyPsfPanel: quality assurance of the window's PSF — the numbers of lucy_psf_measure
 * (FWHM from Gaussian fits with R², theory and ratio for a given NA and wavelength, peak,
 * centroid and offset from the origin M//2, background, SBR, sum, lateral asymmetry, axial
 * symmetry, flags), the three profiles through the peak with their fits, the OTF (LucyOtfView),
 * and the fixes (centre, subtract background, crop to odd, normalise) that replace the window's
 * PSF and say what changed; measuring, the OTF and the fixes run in worker threads. It follows
 * the window's PSF while open, through the window's "psf" property notifications. */
#pragma once

#include <gtk/gtk.h>
#include "lucy-otf-view.h"
#include "lucy-window.h"

G_BEGIN_DECLS

#define LUCY_TYPE_PSF_PANEL (lucy_psf_panel_get_type())
G_DECLARE_FINAL_TYPE(LucyPsfPanel, lucy_psf_panel, LUCY, PSF_PANEL, GtkBox)

typedef enum {
  LUCY_PSF_FIX_CENTRE_CENTROID = 0,
  LUCY_PSF_FIX_CENTRE_PEAK,
  LUCY_PSF_FIX_SUBTRACT_BACKGROUND,
  LUCY_PSF_FIX_ODD,
  LUCY_PSF_FIX_NORMALISE
} LucyPsfPanelFix;

LucyPsfPanel *lucy_psf_panel_new(LucyWindow *window);
/* A window ("PSF QA") holding a new panel, transient for window. */
GtkWindow *lucy_psf_panel_new_window(LucyWindow *window, LucyPsfPanel **panel);

/* Measures the window's PSF again (done by itself when the PSF or the theory changes), in a
 * worker thread: the fields read "measuring…" until "measured" (gboolean ok) is emitted. A
 * measurement still running for another PSF or other optics is cancelled and its result
 * dropped (no "measured" for it), as it is when the panel goes away. */
void lucy_psf_panel_refresh(LucyPsfPanel *self);
/* TRUE from a refresh until its "measured". */
gboolean lucy_psf_panel_is_measuring(LucyPsfPanel *self);
/* NA <= 0: no theoretical FWHM. */
void lucy_psf_panel_set_theory(LucyPsfPanel *self, double na, double wavelength_um, double n);
/* The text shown for a field: "fwhm-x", "fwhm-y", "fwhm-z", "theory-x", ..., "peak",
 * "centroid", "offset", "background", "sbr", "sum", "lateral", "axial", "flags", "shape",
 * "warning", "report"; NULL for an unknown name. */
const char *lucy_psf_panel_get_text(LucyPsfPanel *self, const char *field);
/* The last measurement; FALSE when there is no PSF, while it is measured, or when it could
 * not be measured. */
gboolean lucy_psf_panel_get_measure(LucyPsfPanel *self, LucyPsfMeasure *m);
/* Applies one fix (lucy_psf_fix) to the window's PSF in a worker thread, then replaces the
 * window's PSF with the result; the "report" text says what changed. The fix is cancelled, and
 * its result dropped (G_IO_ERROR_CANCELLED), when the window's PSF changes meanwhile or the
 * panel goes away (its QA window is closed, or it is disposed). One fix at a time: the buttons are insensitive while one runs, and another
 * call fails at once. */
void lucy_psf_panel_fix_async(LucyPsfPanel *self, LucyPsfPanelFix fix,
                              GAsyncReadyCallback callback, gpointer user_data);
gboolean lucy_psf_panel_fix_finish(LucyPsfPanel *self, GAsyncResult *result, GError **error);
gboolean lucy_psf_panel_is_fixing(LucyPsfPanel *self);
/* The OTF display (log10 |OTF| sections through DC) of the PSF measured. */
LucyOtfView *lucy_psf_panel_get_otf_view(LucyPsfPanel *self);
/* "Set Voxel Size…", shown beside the warning while the PSF's voxel size is a guess: opens the
 * main window's Voxel Size dialog. */
GtkWidget *lucy_psf_panel_get_voxel_button(LucyPsfPanel *self);

G_END_DECLS
