/* LucyMemoryGauge: memory of the device work runs on ("used / total", what Lucy holds), polled
 * 3 times a second while shown, with a marker for the predicted peak of the operation set up. */
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
/* TRUE when the predicted peak exceeds what is free. */
gboolean lucy_memory_gauge_get_warning(LucyMemoryGauge *self);

G_END_DECLS
