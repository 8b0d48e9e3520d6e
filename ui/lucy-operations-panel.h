/* LucyOperationsPanel: operation, padding mode (via the win.mode action), backend, threads,
 * Run/Cancel (win.run, win.cancel) and progress. */
#pragma once

#include <gtk/gtk.h>
#include <lucy/lucy.h>

G_BEGIN_DECLS

#define LUCY_TYPE_OPERATIONS_PANEL (lucy_operations_panel_get_type())
G_DECLARE_FINAL_TYPE(LucyOperationsPanel, lucy_operations_panel, LUCY, OPERATIONS_PANEL, GtkBox)

/* One line saying what a padding mode does. */
const char *lucy_pad_mode_explanation(LucyPadMode mode);
void lucy_operations_panel_show_mode(LucyOperationsPanel *self, LucyPadMode mode);
int lucy_operations_panel_get_threads(LucyOperationsPanel *self);
void lucy_operations_panel_set_threads(LucyOperationsPanel *self, int threads);
LucyDeviceKind lucy_operations_panel_get_backend(LucyOperationsPanel *self);
/* fraction < 0: pulse; stage NULL: "Idle" */
void lucy_operations_panel_set_progress(LucyOperationsPanel *self, double fraction,
                                        const char *stage);
void lucy_operations_panel_set_result_text(LucyOperationsPanel *self, const char *text);

G_END_DECLS
