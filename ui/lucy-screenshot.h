/* lucy --screenshot: renders a window to a PNG once its content is ready — after the main
 * window's run when one was asked for, and not while the window says it is still computing —
 * then closes the windows, records the exit status and releases the application. */
#pragma once

#include <gtk/gtk.h>
#include "lucy-window.h"

G_BEGIN_DECLS

/* TRUE while target is still computing what it shows; when it returns FALSE with *error set,
 * the computation failed and no screenshot is taken. */
typedef gboolean (*LucyScreenshotBusyFn)(GtkWindow *target, const char **error);

typedef struct {
  LucyWindow *window;        /* the main window: runs (run), shows view (set_view) */
  GtkWindow *target;         /* what is rendered: window, or a window of its own */
  const char *path;
  gboolean run;
  gboolean set_view;
  LucyView view;
  LucyScreenshotBusyFn busy; /* NULL: ready once drawn */
} LucyScreenshotRequest;

/* Holds app until done; *exit_status gets 0 on success, 1 when the run, the computation or the
 * rendering failed (with one line on stderr). */
void lucy_screenshot_start(GApplication *app, const LucyScreenshotRequest *request,
                           int *exit_status);

G_END_DECLS
