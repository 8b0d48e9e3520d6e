/* Widget → texture → PNG. */
#include "lucy-snapshot.h"

#include <errno.h>
#include <unistd.h>

#include <glib/gstdio.h>

GdkTexture *lucy_widget_render_texture(GtkWidget *widget, GError **error) {
  int w = gtk_widget_get_width(widget), h = gtk_widget_get_height(widget);
  GtkNative *native = gtk_widget_get_native(widget);
  GskRenderer *renderer = native ? gtk_native_get_renderer(native) : NULL;
  if (w <= 0 || h <= 0 || !renderer) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_NOT_INITIALIZED,
                        "The widget is not shown yet, so it cannot be rendered");
    return NULL;
  }
  GdkPaintable *paintable = gtk_widget_paintable_new(widget);
  GtkSnapshot *snapshot = gtk_snapshot_new();
  gdk_paintable_snapshot(paintable, GDK_SNAPSHOT(snapshot), w, h);
  GskRenderNode *node = gtk_snapshot_free_to_node(snapshot);
  g_object_unref(paintable);
  if (!node) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_FAILED, "Nothing was drawn");
    return NULL;
  }
  GdkTexture *texture =
      gsk_renderer_render_texture(renderer, node, &GRAPHENE_RECT_INIT(0, 0, (float)w, (float)h));
  gsk_render_node_unref(node);
  return texture;
}

gboolean lucy_widget_save_png(GtkWidget *widget, const char *path, GError **error) {
  GdkTexture *texture = lucy_widget_render_texture(widget, error);
  if (!texture) return FALSE;
  char *tmp = g_strdup_printf("%s.tmp-%d", path, (int)getpid());
  gboolean ok = gdk_texture_save_to_png(texture, tmp);
  g_object_unref(texture);
  if (!ok) {
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, "Could not write %s", tmp);
    g_unlink(tmp);
    g_free(tmp);
    return FALSE;
  }
  if (g_rename(tmp, path) != 0) {
    int e = errno;
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e), "Could not rename %s to %s: %s", tmp,
                path, g_strerror(e));
    g_unlink(tmp);
    g_free(tmp);
    return FALSE;
  }
  g_free(tmp);
  return TRUE;
}
