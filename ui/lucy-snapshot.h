/* Rendering a widget (or a whole window) to a PNG file through its native's GskRenderer. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

GdkTexture *lucy_widget_render_texture(GtkWidget *widget, GError **error);
/* Writes atomically: a temporary file beside path, renamed into place. */
gboolean lucy_widget_save_png(GtkWidget *widget, const char *path, GError **error);

G_END_DECLS
