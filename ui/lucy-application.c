/* LucyApplication: the GtkApplication of Lucy. */
#include "lucy-application.h"

#include <lucy/lucy.h>
#include <stdio.h>

#include "lucy-window.h"
#include "lucy-snapshot.h"

struct _LucyApplication {
  GtkApplication parent_instance;
  int exit_status;
};

G_DEFINE_FINAL_TYPE(LucyApplication, lucy_application, GTK_TYPE_APPLICATION)

/* ---- --screenshot ------------------------------------------------------------------------ */

typedef struct {
  LucyApplication *app;
  LucyWindow *window;
  char *path;
  LucyView view;
  gboolean set_view;
  gboolean run;
  gulong handler;
  guint attempts;
} Screenshot;

static void screenshot_finish(Screenshot *s, int status) {
  s->app->exit_status = status;
  if (s->handler) g_signal_handler_disconnect(s->window, s->handler);
  g_object_set_data(G_OBJECT(s->window), "lucy-no-save-size", GINT_TO_POINTER(1));
  gtk_window_destroy(GTK_WINDOW(s->window));
  g_object_unref(s->window);
  g_application_release(G_APPLICATION(s->app));
  g_free(s->path);
  g_free(s);
}

static gboolean screenshot_take(gpointer data) {
  Screenshot *s = data;
  GError *error = NULL;
  if (!lucy_widget_save_png(GTK_WIDGET(s->window), s->path, &error)) {
    /* the window may not have been drawn yet on a loaded machine: try again for a while */
    if (++s->attempts < 100) {
      g_error_free(error);
      return G_SOURCE_CONTINUE;
    }
    g_printerr("lucy: %s\n", error->message);
    g_error_free(error);
    screenshot_finish(s, 1);
  } else {
    screenshot_finish(s, 0);
  }
  return G_SOURCE_REMOVE;
}

static void screenshot_after_action(Screenshot *s) {
  if (s->set_view) lucy_window_set_view(s->window, s->view);
  /* let layout and a frame happen before rendering (retried every 100 ms until drawn) */
  gtk_widget_queue_draw(GTK_WIDGET(s->window));
  g_timeout_add(400, screenshot_take, s);
}

static void screenshot_run_finished(LucyWindow *win, gboolean ok, GError *error, Screenshot *s) {
  if (!ok) {
    g_printerr("lucy: the run failed: %s\n", error ? error->message : "unknown error");
    s->app->exit_status = 1;
    screenshot_finish(s, 1);
    return;
  }
  screenshot_after_action(s);
}

static gboolean screenshot_start(gpointer data) {
  Screenshot *s = data;
  if (s->run) {
    s->handler = g_signal_connect(s->window, "run-finished", G_CALLBACK(screenshot_run_finished), s);
    if (!lucy_window_run(s->window)) {
      g_printerr("lucy: nothing to run: %s\n", lucy_window_get_last_error(s->window));
      screenshot_finish(s, 1);
    }
    return G_SOURCE_REMOVE;
  }
  screenshot_after_action(s);
  return G_SOURCE_REMOVE;
}

/* ---- command line ------------------------------------------------------------------------ */

static const GOptionEntry option_entries[] = {
    {"screenshot", 0, 0, G_OPTION_ARG_FILENAME, NULL,
     "Render the window to a PNG file after the requested action, then quit", "FILE"},
    {"run", 0, 0, G_OPTION_ARG_NONE, NULL, "Run the operation on start", NULL},
    {"operation", 0, 0, G_OPTION_ARG_STRING, NULL, "Operation: convolve or deconvolve", "OP"},
    {"iterations", 0, 0, G_OPTION_ARG_STRING, NULL, "Deconvolution iterations", "N"},
    {"method", 0, 0, G_OPTION_ARG_STRING, NULL, "Deconvolution method: rl, rltv or wiener",
     "METHOD"},
    {"mode", 0, 0, G_OPTION_ARG_STRING, NULL, "Padding mode: circular, same, full or valid", "MODE"},
    {"view", 0, 0, G_OPTION_ARG_STRING, NULL, "View: image, psf, result or difference", "VIEW"},
    {"version", 0, 0, G_OPTION_ARG_NONE, NULL, "Print the version and quit", NULL},
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, NULL, NULL, "[STACK.tif [PSF.tif]]"},
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

static int lucy_application_handle_local_options(GApplication *app, GVariantDict *options) {
  if (g_variant_dict_contains(options, "version")) {
    g_print("lucy %s\n", lucy_version());
    return 0;
  }
  if (g_variant_dict_contains(options, "screenshot")) {
    /* automation: its own process, never handed to a running instance */
    g_application_set_flags(app, g_application_get_flags(app) | G_APPLICATION_NON_UNIQUE);
  }
  return -1;
}

static int lucy_application_command_line(GApplication *gapp, GApplicationCommandLine *cmdline) {
  LucyApplication *self = LUCY_APPLICATION(gapp);
  GVariantDict *options = g_application_command_line_get_options_dict(cmdline);
  const char *mode_name = NULL, *view_name = NULL, *op_name = NULL, *method_name = NULL;
  const char *iterations_text = NULL;
  gint64 iterations = 0;
  const char *screenshot = NULL;
  const char **files = NULL;
  g_variant_dict_lookup(options, "mode", "&s", &mode_name);
  g_variant_dict_lookup(options, "view", "&s", &view_name);
  g_variant_dict_lookup(options, "operation", "&s", &op_name);
  g_variant_dict_lookup(options, "method", "&s", &method_name);
  g_variant_dict_lookup(options, "iterations", "&s", &iterations_text);
  gboolean have_iterations = iterations_text != NULL;
  g_variant_dict_lookup(options, "screenshot", "^&ay", &screenshot);
  g_variant_dict_lookup(options, G_OPTION_REMAINING, "^a&ay", &files);
  gboolean run = g_variant_dict_contains(options, "run");

  LucyPadMode mode = LUCY_PAD_SAME;
  if (mode_name && lucy_pad_mode_parse(mode_name, &mode) != LUCY_OK) {
    g_application_command_line_printerr(cmdline, "lucy: %s\n", lucy_error_message());
    g_free(files);
    return 2;
  }
  LucyOperation op = LUCY_OPERATION_CONVOLVE;
  if (op_name && !lucy_operation_parse(op_name, &op)) {
    g_application_command_line_printerr(
        cmdline, "lucy: unknown operation “%s” (convolve or deconvolve)\n", op_name);
    g_free(files);
    return 2;
  }
  LucyDeconMethod method = LUCY_DECON_RL;
  if (method_name && lucy_decon_method_parse(method_name, &method) != LUCY_OK) {
    g_application_command_line_printerr(
        cmdline, "lucy: unknown method “%s” (rl, rltv or wiener)\n", method_name);
    g_free(files);
    return 2;
  }
  if (have_iterations &&
      !g_ascii_string_to_signed(iterations_text, 10, 1, 100000, &iterations, NULL)) {
    g_application_command_line_printerr(
        cmdline, "lucy: --iterations “%s” is not an integer in 1..100000\n", iterations_text);
    g_free(files);
    return 2;
  }
  LucyView view = LUCY_VIEW_IMAGE;
  if (view_name && !lucy_view_parse(view_name, &view)) {
    g_application_command_line_printerr(
        cmdline, "lucy: unknown view “%s” (image, psf, result or difference)\n", view_name);
    g_free(files);
    return 2;
  }
  guint nfiles = files ? g_strv_length((char **)files) : 0;
  if (nfiles > 2) {
    g_application_command_line_printerr(cmdline, "lucy: give at most a stack and a PSF\n");
    g_free(files);
    return 2;
  }

  LucyWindow *window = lucy_window_new(GTK_APPLICATION(gapp));
  if (screenshot) gtk_window_set_default_size(GTK_WINDOW(window), 1280, 820);
  if (mode_name) lucy_window_set_mode(window, mode);
  if (op_name) lucy_window_set_operation(window, op);
  if (method_name || have_iterations) {
    LucyOperationsPanel *panel = lucy_window_get_operations_panel(window);
    LucyDeconOptions o;
    lucy_decon_options_default(&o);
    lucy_operations_panel_get_decon(panel, &o);
    if (method_name) o.method = method;
    if (have_iterations) o.iterations = (int)iterations;
    lucy_operations_panel_set_decon(panel, &o);
  }
  GError *error = NULL;
  gboolean ok = TRUE;
  if (nfiles == 0) {
    ok = lucy_window_load_demo(window, &error);
  } else {
    for (guint i = 0; i < nfiles && ok; i++) {
      GFile *file = g_application_command_line_create_file_for_arg(cmdline, files[i]);
      ok = i == 0 ? lucy_window_open_stack(window, file, &error)
                  : lucy_window_open_psf(window, file, &error);
      g_object_unref(file);
    }
    /* a stack without a PSF: a Gaussian at the stack's voxel size, so Run works at once */
    if (ok && nfiles == 1) ok = lucy_window_use_default_psf(window, &error);
  }
  g_free(files);
  if (!ok) {
    if (screenshot) {
      g_application_command_line_printerr(cmdline, "lucy: %s\n", error->message);
      g_error_free(error);
      gtk_window_destroy(GTK_WINDOW(window));
      return 1;
    }
    gtk_window_present(GTK_WINDOW(window));
    lucy_window_show_error(window, "Could not open the file", error);
    g_error_free(error);
    return 0;
  }
  if (view_name && !run) lucy_window_set_view(window, view);
  gtk_window_present(GTK_WINDOW(window));
  if (screenshot) {
    Screenshot *s = g_new0(Screenshot, 1);
    s->app = self;
    s->window = g_object_ref(window);
    s->path = g_strdup(screenshot);
    s->view = view;
    s->set_view = view_name != NULL;
    s->run = run;
    g_application_hold(gapp);
    g_timeout_add(200, screenshot_start, s);
  } else if (run) {
    lucy_window_run(window);
  }
  return 0;
}

static void lucy_application_activate(GApplication *app) {
  GtkWindow *window = gtk_application_get_active_window(GTK_APPLICATION(app));
  if (!window) {
    LucyWindow *w = lucy_window_new(GTK_APPLICATION(app));
    GError *error = NULL;
    if (!lucy_window_load_demo(w, &error)) {
      lucy_window_show_error(w, "Could not make the demo data", error);
      g_error_free(error);
    }
    window = GTK_WINDOW(w);
  }
  gtk_window_present(window);
}

/* ---- app actions ------------------------------------------------------------------------- */

static void quit_action(GSimpleAction *a, GVariant *p, gpointer app) {
  for (GList *l = gtk_application_get_windows(app); l;) {
    GList *next = l->next;
    gtk_window_close(l->data);
    l = next;
  }
  g_application_quit(app);
}

static void about_action(GSimpleAction *a, GVariant *p, gpointer app) {
  static const char *authors[] = {"The Lucy authors", NULL};
  gtk_show_about_dialog(gtk_application_get_active_window(app), "program-name", "Lucy",
                        "logo-icon-name", "org.lucy.Lucy", "version", lucy_version(), "comments",
                        "FFT convolution and deconvolution of 3-D microscopy stacks",
                        "license-type", GTK_LICENSE_LGPL_2_1, "authors", authors, NULL);
}

static const GActionEntry app_actions[] = {
    {"quit", quit_action, NULL, NULL, NULL, {0}},
    {"about", about_action, NULL, NULL, NULL, {0}},
};

static void lucy_application_startup(GApplication *app) {
  G_APPLICATION_CLASS(lucy_application_parent_class)->startup(app);
  g_set_application_name("Lucy");
  gtk_window_set_default_icon_name("org.lucy.Lucy");
  g_action_map_add_action_entries(G_ACTION_MAP(app), app_actions, G_N_ELEMENTS(app_actions), app);
  static const struct {
    const char *action;
    const char *accels[3];
  } accels[] = {
      {"app.quit", {"<Primary>q", NULL, NULL}},
      {"win.open", {"<Primary>o", NULL, NULL}},
      {"win.open-psf", {"<Primary><Shift>o", NULL, NULL}},
      {"win.generate-psf", {"<Primary>g", NULL, NULL}},
      {"win.psf-qa", {"<Primary>i", NULL, NULL}},
      {"win.compare", {"<Primary>m", NULL, NULL}},
      {"win.save-result", {"<Primary>s", NULL, NULL}},
      {"win.export-view", {"<Primary>e", NULL, NULL}},
      {"win.run", {"<Primary>r", "F5", NULL}},
      {"win.cancel", {"Escape", NULL, NULL}},
      {"win.zoom-in", {"<Primary>plus", "<Primary>equal", NULL}},
      {"win.zoom-out", {"<Primary>minus", NULL, NULL}},
      {"win.zoom-fit", {"<Primary>0", NULL, NULL}},
      {"win.view::image", {"<Primary>1", NULL, NULL}},
      {"win.view::psf", {"<Primary>2", NULL, NULL}},
      {"win.view::result", {"<Primary>3", NULL, NULL}},
      {"win.view::difference", {"<Primary>4", NULL, NULL}},
      {"win.mode::circular", {"<Alt>1", NULL, NULL}},
      {"win.mode::same", {"<Alt>2", NULL, NULL}},
      {"win.mode::full", {"<Alt>3", NULL, NULL}},
      {"win.mode::valid", {"<Alt>4", NULL, NULL}},
      {"win.show-help-overlay", {"<Primary>question", NULL, NULL}},
  };
  for (gsize i = 0; i < G_N_ELEMENTS(accels); i++)
    gtk_application_set_accels_for_action(GTK_APPLICATION(app), accels[i].action, accels[i].accels);

  GtkCssProvider *css = gtk_css_provider_new();
  gtk_css_provider_load_from_resource(css, "/org/lucy/Lucy/style.css");
  gtk_style_context_add_provider_for_display(gdk_display_get_default(), GTK_STYLE_PROVIDER(css),
                                             GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);
  g_object_unref(css);
  gtk_icon_theme_add_resource_path(gtk_icon_theme_get_for_display(gdk_display_get_default()),
                                   "/org/lucy/Lucy/icons");
}

static void lucy_application_class_init(LucyApplicationClass *klass) {
  GApplicationClass *app_class = G_APPLICATION_CLASS(klass);
  app_class->startup = lucy_application_startup;
  app_class->activate = lucy_application_activate;
  app_class->command_line = lucy_application_command_line;
  app_class->handle_local_options = lucy_application_handle_local_options;
}

static void lucy_application_init(LucyApplication *self) {
  g_application_add_main_option_entries(G_APPLICATION(self), option_entries);
  g_application_set_option_context_parameter_string(G_APPLICATION(self), "[STACK.tif [PSF.tif]]");
  g_application_set_option_context_summary(
      G_APPLICATION(self),
      "Without files, Lucy opens on built-in demo data (a sphere phantom and a Gaussian PSF).");
}

LucyApplication *lucy_application_new(void) {
  return g_object_new(LUCY_TYPE_APPLICATION, "application-id", "org.lucy.Lucy", "flags",
                      G_APPLICATION_HANDLES_COMMAND_LINE, "resource-base-path", "/org/lucy/Lucy",
                      NULL);
}

int lucy_application_get_exit_status(LucyApplication *self) { return self->exit_status; }
