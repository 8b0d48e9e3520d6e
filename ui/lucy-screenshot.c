/* lucy --screenshot (see lucy-screenshot.h). */
#include "lucy-screenshot.h"

#include "lucy-snapshot.h"

#define LOOK_MS 400              /* between looks at the window */
#define DRAW_ATTEMPTS 100        /* on a busy machine a window may draw late */
#define BUSY_LIMIT_US 600000000  /* 10 minutes for the window's own computation */

typedef struct {
  GApplication *app;
  int *exit_status;
  LucyScreenshotRequest req; /* with refs on window and target; path owned */
  gulong handler;
  guint attempts;
  gint64 busy_deadline;
  gboolean was_busy;
} Screenshot;

typedef enum { CONTENT_WAIT, CONTENT_READY, CONTENT_FAILED } ContentState;

static void screenshot_finish(Screenshot *s, int status) {
  *s->exit_status = status;
  if (s->handler) g_signal_handler_disconnect(s->req.window, s->handler);
  g_object_set_data(G_OBJECT(s->req.window), "lucy-no-save-size", GINT_TO_POINTER(1));
  if (s->req.target != GTK_WINDOW(s->req.window)) gtk_window_destroy(s->req.target);
  gtk_window_destroy(GTK_WINDOW(s->req.window));
  g_object_unref(s->req.target);
  g_object_unref(s->req.window);
  g_application_release(s->app);
  g_free((char *)s->req.path);
  g_free(s);
}

/* Still computing, just finished (a frame must draw the result first), ready, or failed (the
 * message is printed). */
static ContentState content_state(Screenshot *s) {
  const char *error = NULL;
  if (s->req.busy && s->req.busy(s->req.target, &error)) {
    s->was_busy = TRUE;
    if (g_get_monotonic_time() < s->busy_deadline) return CONTENT_WAIT;
    g_printerr("lucy: the window was still computing after %d minutes\n",
               (int)(BUSY_LIMIT_US / 60000000));
    return CONTENT_FAILED;
  }
  if (error) {
    g_printerr("lucy: %s\n", error);
    return CONTENT_FAILED;
  }
  if (s->was_busy) {
    s->was_busy = FALSE;
    gtk_widget_queue_draw(GTK_WIDGET(s->req.target));
    return CONTENT_WAIT;
  }
  return CONTENT_READY;
}

static gboolean screenshot_take(gpointer data) {
  Screenshot *s = data;
  switch (content_state(s)) {
    case CONTENT_WAIT: return G_SOURCE_CONTINUE;
    case CONTENT_FAILED: screenshot_finish(s, 1); return G_SOURCE_REMOVE;
    case CONTENT_READY: break;
  }
  GError *error = NULL;
  if (lucy_widget_save_png(GTK_WIDGET(s->req.target), s->req.path, &error)) {
    screenshot_finish(s, 0);
    return G_SOURCE_REMOVE;
  }
  if (++s->attempts < DRAW_ATTEMPTS) {
    g_error_free(error);
    return G_SOURCE_CONTINUE;
  }
  g_printerr("lucy: %s\n", error->message);
  g_error_free(error);
  screenshot_finish(s, 1);
  return G_SOURCE_REMOVE;
}

static void after_action(Screenshot *s) {
  if (s->req.set_view) lucy_window_set_view(s->req.window, s->req.view);
  /* no focus ring or selected text in the picture */
  GtkWidget *focus = gtk_window_get_focus(s->req.target);
  if (GTK_IS_EDITABLE(focus)) gtk_editable_select_region(GTK_EDITABLE(focus), 0, 0);
  gtk_window_set_focus(s->req.target, NULL);
  /* let layout and a frame happen before rendering (looked at again until drawn) */
  gtk_widget_queue_draw(GTK_WIDGET(s->req.target));
  s->busy_deadline = g_get_monotonic_time() + BUSY_LIMIT_US;
  g_timeout_add(LOOK_MS, screenshot_take, s);
}

static void run_finished(LucyWindow *win, gboolean ok, GError *error, Screenshot *s) {
  if (!ok) {
    g_printerr("lucy: the run failed: %s\n", error ? error->message : "unknown error");
    screenshot_finish(s, 1);
    return;
  }
  after_action(s);
}

static gboolean screenshot_start(gpointer data) {
  Screenshot *s = data;
  if (!s->req.run) {
    after_action(s);
    return G_SOURCE_REMOVE;
  }
  s->handler = g_signal_connect(s->req.window, "run-finished", G_CALLBACK(run_finished), s);
  if (!lucy_window_run(s->req.window)) {
    g_printerr("lucy: nothing to run: %s\n", lucy_window_get_last_error(s->req.window));
    screenshot_finish(s, 1);
  }
  return G_SOURCE_REMOVE;
}

void lucy_screenshot_start(GApplication *app, const LucyScreenshotRequest *request,
                           int *exit_status) {
  Screenshot *s = g_new0(Screenshot, 1);
  s->app = app;
  s->exit_status = exit_status;
  s->req = *request;
  g_object_ref(s->req.window);
  g_object_ref(s->req.target);
  s->req.path = g_strdup(request->path);
  g_application_hold(app);
  g_timeout_add(200, screenshot_start, s);
}
