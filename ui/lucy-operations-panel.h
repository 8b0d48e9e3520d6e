/* LucyOperationsPanel: operation (via the win.operation action), padding mode (win.mode) or the
 * deconvolution settings, backend, threads, FFT planning, Run/Cancel (win.run, win.cancel) and
 * progress. */
#pragma once

#include <gtk/gtk.h>
#include <lucy/lucy.h>

G_BEGIN_DECLS

#define LUCY_TYPE_OPERATIONS_PANEL (lucy_operations_panel_get_type())
G_DECLARE_FINAL_TYPE(LucyOperationsPanel, lucy_operations_panel, LUCY, OPERATIONS_PANEL, GtkBox)

typedef enum {
  LUCY_OPERATION_CONVOLVE = 0,
  LUCY_OPERATION_DECONVOLVE
} LucyOperation;

const char *lucy_operation_name(LucyOperation op); /* "convolve", "deconvolve" */
gboolean lucy_operation_parse(const char *name, LucyOperation *op);

/* Shows the padding controls for convolution, the deconvolution settings for deconvolution
 * (deconvolution has its own edge handling, so padding modes do not apply). */
void lucy_operations_panel_show_operation(LucyOperationsPanel *self, LucyOperation op);
gboolean lucy_operations_panel_get_padding_visible(LucyOperationsPanel *self);
gboolean lucy_operations_panel_get_decon_visible(LucyOperationsPanel *self);
/* The deconvolution settings shown: method, boundary, iterations, tv_lambda, accelerate (the
 * other fields are left as they are). Setting them emits "decon-changed". */
void lucy_operations_panel_get_decon(LucyOperationsPanel *self, LucyDeconOptions *opts);
void lucy_operations_panel_set_decon(LucyOperationsPanel *self, const LucyDeconOptions *opts);

/* One line saying what a padding mode does. */
const char *lucy_pad_mode_explanation(LucyPadMode mode);
void lucy_operations_panel_show_mode(LucyOperationsPanel *self, LucyPadMode mode);
int lucy_operations_panel_get_threads(LucyOperationsPanel *self);
void lucy_operations_panel_set_threads(LucyOperationsPanel *self, int threads);
LucyDeviceKind lucy_operations_panel_get_backend(LucyOperationsPanel *self);
/* "Thorough FFT planning" (the check button next to Run; GSettings thorough-planning):
 * LUCY_PLAN_THOROUGH measures FFT plans, seconds the first time for each size (remembered as
 * wisdom), then faster transforms; LUCY_PLAN_FAST (default) estimates them. Changing it emits
 * "settings-changed", like the backend and threads. */
LucyPlanning lucy_operations_panel_get_planning(LucyOperationsPanel *self);
void lucy_operations_panel_set_planning(LucyOperationsPanel *self, LucyPlanning planning);
/* The check button itself (its "active" property is what GSettings binds). */
GtkCheckButton *lucy_operations_panel_get_planning_control(LucyOperationsPanel *self);
/* fraction < 0: pulse; stage NULL: "Idle" */
void lucy_operations_panel_set_progress(LucyOperationsPanel *self, double fraction,
                                        const char *stage);
void lucy_operations_panel_set_result_text(LucyOperationsPanel *self, const char *text);
/* The line under Run (the set-up, the strategy Run will use, or the last result). */
const char *lucy_operations_panel_get_result_text(LucyOperationsPanel *self);
/* The result line's tooltip (details, e.g. a whole warning); NULL for none. */
void lucy_operations_panel_set_result_tooltip(LucyOperationsPanel *self, const char *text);

G_END_DECLS
