/* LucyMemoryGauge: memory of the device work runs on ("used / total", what Lucy holds: on the
 * CPU the process's resident host memory, on a GPU its buffers there), polled
 * 3 times a second while shown, with a marker for the predicted peak of the operation set up,
 * and a "what if" row: the operation set up with its image scaled in y and x (x1 .. x32) against
 * a budget (the free memory now, or 80 GiB .. 384 MiB), and the plan lucy_memory_plan chooses for
 * it (strategy, peak, tiles), so that a class can ask for a problem larger than the GPU and see
 * the plan switch to low-memory, then to tiles, instead of failing. */
#pragma once

#include <gtk/gtk.h>
#include <lucy/lucy.h>

G_BEGIN_DECLS

#define LUCY_TYPE_MEMORY_GAUGE (lucy_memory_gauge_get_type())
G_DECLARE_FINAL_TYPE(LucyMemoryGauge, lucy_memory_gauge, LUCY, MEMORY_GAUGE, GtkBox)

/* The gauge keeps a reference to dev (may be NULL). */
void lucy_memory_gauge_set_device(LucyMemoryGauge *self, LucyDevice *dev);
/* Predicted peak bytes of the operation set up (0: none). */
void lucy_memory_gauge_set_predicted(LucyMemoryGauge *self, guint64 bytes);
/* Polls now (also called by the timer); FALSE when the device could not be asked. */
gboolean lucy_memory_gauge_update(LucyMemoryGauge *self);
const char *lucy_memory_gauge_get_text(LucyMemoryGauge *self);
/* The label of lucy_memory_gauge_get_text; its tooltip says what "Lucy holds" counts. */
GtkWidget *lucy_memory_gauge_get_text_widget(LucyMemoryGauge *self);
/* The bytes the text says Lucy holds: on the CPU the process's resident memory (at least its
 * run buffers), on a GPU Lucy's buffers and FFT work areas there. */
guint64 lucy_memory_gauge_get_held_bytes(LucyMemoryGauge *self);
/* TRUE when the predicted peak exceeds what is free. */
gboolean lucy_memory_gauge_get_warning(LucyMemoryGauge *self);

/* The operation set up (copied; NULL: none), which the "what if" row scales. */
void lucy_memory_gauge_set_request(LucyMemoryGauge *self, const LucyMemoryRequest *req);
/* The "what if" controls: the y/x scale factor (items x1, x2, ... x32) and the budget (item
 * 0: the device's free memory now, then 80, 24, 12, 6, 3, 1.5 GiB, 768, 384 MiB). */
GtkDropDown *lucy_memory_gauge_get_factor_control(LucyMemoryGauge *self);
GtkDropDown *lucy_memory_gauge_get_budget_control(LucyMemoryGauge *self);
/* The plan the "what if" row shows (also when it does not fit); FALSE when there is none (no
 * operation, or shapes the planner refuses). */
gboolean lucy_memory_gauge_get_what_if(LucyMemoryGauge *self, LucyMemoryRequest *req,
                                       LucyMemoryPlan *plan);
const char *lucy_memory_gauge_get_what_if_text(LucyMemoryGauge *self);

G_END_DECLS
