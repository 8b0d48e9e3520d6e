/* LucyApplication: the GtkApplication of Lucy. */
#include "lucy-application.h"

#include <lucy/lucy.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "lucy-compare-view.h"
#include "lucy-points-view.h"
#include "lucy-psf-panel.h"
#include "lucy-screenshot.h"
#include "lucy-voxel-dialog.h"
#include "lucy-window.h"

struct _LucyApplication {
  GtkApplication parent_instance;
  int exit_status;
};

G_DEFINE_FINAL_TYPE(LucyApplication, lucy_application, GTK_TYPE_APPLICATION)

/* ---- command line ------------------------------------------------------------------------ */

typedef enum {
  WINDOW_MAIN = 0, WINDOW_COMPARE, WINDOW_PSF_QA, WINDOW_POINTS, N_WINDOWS
} WindowKind;
static const char *const window_names[N_WINDOWS] = {"main", "compare", "psf-qa", "points"};
static const guint window_max_files[N_WINDOWS] = {2, 2, 2, 1};

static const GOptionEntry option_entries[] = {
    {"screenshot", 0, 0, G_OPTION_ARG_FILENAME, NULL,
     "Render the window (see --window) to a PNG file after the requested action, then quit",
     "FILE"},
    {"window", 0, 0, G_OPTION_ARG_STRING, NULL,
     "Window to open and render: main (default), compare (the padding modes; without files, the "
     "wrap-around sample), psf-qa (PSF QA; a single file is the PSF) or points (FILE is a CSV "
     "of points)",
     "WINDOW"},
    {"run", 0, 0, G_OPTION_ARG_NONE, NULL, "Run the operation on start", NULL},
    {"operation", 0, 0, G_OPTION_ARG_STRING, NULL, "Operation: convolve or deconvolve", "OP"},
    {"iterations", 0, 0, G_OPTION_ARG_STRING, NULL, "Deconvolution iterations", "N"},
    {"method", 0, 0, G_OPTION_ARG_STRING, NULL, "Deconvolution method: rl, rltv or wiener",
     "METHOD"},
    {"mode", 0, 0, G_OPTION_ARG_STRING, NULL, "Padding mode: circular, same, full or valid", "MODE"},
    {"view", 0, 0, G_OPTION_ARG_STRING, NULL, "View: image, psf, result or difference", "VIEW"},
    {"channel", 0, 0, G_OPTION_ARG_STRING, NULL,
     "Hyperstack channel of the stack to read, from 0 (the PSF is always channel 0)", "C"},
    {"frame", 0, 0, G_OPTION_ARG_STRING, NULL,
     "Hyperstack time point of the stack to read, from 0 (the PSF is always frame 0)", "T"},
    {"voxel", 0, 0, G_OPTION_ARG_STRING, NULL,
     "Voxel size of the stack in µm, instead of the file's (as Voxel Size… sets it)", "Z,Y,X"},
    {"psf-voxel", 0, 0, G_OPTION_ARG_STRING, NULL, "Voxel size of the PSF in µm", "Z,Y,X"},
    {"na", 0, 0, G_OPTION_ARG_STRING, NULL,
     "With --window psf-qa: numerical aperture for the theoretical FWHM and OTF cutoff", "NA"},
    {"wavelength", 0, 0, G_OPTION_ARG_STRING, NULL,
     "With --window psf-qa: emission wavelength in µm (default 0.52)", "UM"},
    {"ni", 0, 0, G_OPTION_ARG_STRING, NULL,
     "With --window psf-qa: immersion refractive index (default 1.515)", "N"},
    {"version", 0, 0, G_OPTION_ARG_NONE, NULL, "Print the version and quit", NULL},
    /* the usage line names the files (g_application_set_option_context_parameter_string) */
    {G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, NULL, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL},
};

typedef struct {
  const char *mode_name, *view_name, *op_name, *method_name, *window_name;
  const char *screenshot;
  const char **files;
  guint nfiles;
  gboolean run, have_iterations, have_theory;
  gint64 iterations;
  guint64 channel, frame;
  gboolean have_voxel, have_psf_voxel;
  double voxel[3], psf_voxel[3];
  LucyPadMode mode;
  LucyOperation op;
  LucyDeconMethod method;
  LucyView view;
  WindowKind window;
  double na, wavelength, ni;
} Options;

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

/* A strictly parsed number in [lo, hi] for --name, or a message and FALSE. */
static gboolean parse_number(GApplicationCommandLine *cmdline, GVariantDict *options,
                             const char *name, double lo, double hi, double *out) {
  const char *text = NULL;
  if (!g_variant_dict_lookup(options, name, "&s", &text)) return TRUE;
  char *end = NULL;
  const double v = g_ascii_strtod(text, &end);
  if (end == text || *end || !(v >= lo && v <= hi)) {
    g_application_command_line_printerr(cmdline, "lucy: --%s “%s” is not a number in %g..%g\n",
                                        name, text, lo, hi);
    return FALSE;
  }
  *out = v;
  return TRUE;
}

static gboolean parse_window(GApplicationCommandLine *cmdline, Options *o) {
  o->window = WINDOW_MAIN;
  if (!o->window_name) return TRUE;
  for (int k = 0; k < N_WINDOWS; k++)
    if (g_strcmp0(o->window_name, window_names[k]) == 0) {
      o->window = (WindowKind)k;
      return TRUE;
    }
  g_application_command_line_printerr(
      cmdline, "lucy: unknown window “%s” (main, compare, psf-qa or points)\n", o->window_name);
  return FALSE;
}

/* The names of the operation settings: FALSE (and a message) when one is not known. */
static gboolean parse_settings(GApplicationCommandLine *cmdline, GVariantDict *options,
                               Options *o) {
  const char *iterations_text = NULL;
  g_variant_dict_lookup(options, "iterations", "&s", &iterations_text);
  o->have_iterations = iterations_text != NULL;
  if (o->mode_name && lucy_pad_mode_parse(o->mode_name, &o->mode) != LUCY_OK) {
    g_application_command_line_printerr(cmdline, "lucy: %s\n", lucy_error_message());
    return FALSE;
  }
  if (o->op_name && !lucy_operation_parse(o->op_name, &o->op)) {
    g_application_command_line_printerr(
        cmdline, "lucy: unknown operation “%s” (convolve or deconvolve)\n", o->op_name);
    return FALSE;
  }
  if (o->method_name && lucy_decon_method_parse(o->method_name, &o->method) != LUCY_OK) {
    g_application_command_line_printerr(
        cmdline, "lucy: unknown method “%s” (rl, rltv or wiener)\n", o->method_name);
    return FALSE;
  }
  if (o->have_iterations &&
      !g_ascii_string_to_signed(iterations_text, 10, 1, 100000, &o->iterations, NULL)) {
    g_application_command_line_printerr(
        cmdline, "lucy: --iterations “%s” is not an integer in 1..100000\n", iterations_text);
    return FALSE;
  }
  if (o->view_name && !lucy_view_parse(o->view_name, &o->view)) {
    g_application_command_line_printerr(
        cmdline, "lucy: unknown view “%s” (image, psf, result or difference)\n", o->view_name);
    return FALSE;
  }
  return TRUE;
}

/* --channel and --frame: strictly parsed, and only where a stack file is read. */
static gboolean parse_index(GApplicationCommandLine *cmdline, GVariantDict *options,
                            const char *name, const Options *o, guint64 *out) {
  const char *text = NULL;
  if (!g_variant_dict_lookup(options, name, "&s", &text)) return TRUE;
  if (!g_ascii_string_to_unsigned(text, 10, 0, G_MAXUINT32, out, NULL)) {
    g_application_command_line_printerr(cmdline, "lucy: --%s “%s” is not an index from 0\n",
                                        name, text);
    return FALSE;
  }
  if (o->nfiles == 0 || o->window == WINDOW_POINTS ||
      (o->window == WINDOW_PSF_QA && o->nfiles == 1)) {
    g_application_command_line_printerr(cmdline, "lucy: --%s chooses in the stack file given "
                                        "first (a PSF is read from channel 0, frame 0)\n", name);
    return FALSE;
  }
  return TRUE;
}

/* --voxel Z,Y,X and --psf-voxel: three voxel sizes in µm from 0.1 nm to 1 cm, as lucy-cli and
 * the Voxel Size dialog take them. */
static gboolean parse_voxel(GApplicationCommandLine *cmdline, GVariantDict *options,
                            const char *name, gboolean *have, double out[3]) {
  const char *text = NULL;
  if (!g_variant_dict_lookup(options, name, "&s", &text)) return TRUE;
  char **parts = g_strsplit(text, ",", -1);
  gboolean ok = g_strv_length(parts) == 3;
  for (int a = 0; a < 3 && ok; a++) {
    char *end = NULL;
    out[a] = g_ascii_strtod(parts[a], &end);
    ok = end != parts[a] && !*end && out[a] >= LUCY_VOXEL_MIN_UM && out[a] <= LUCY_VOXEL_MAX_UM;
  }
  g_strfreev(parts);
  if (!ok)
    g_application_command_line_printerr(cmdline, "lucy: --%s “%s” is not Z,Y,X: three voxel "
                                        "sizes in µm, each from %g (0.1 nm) to %g (1 cm)\n",
                                        name, text, LUCY_VOXEL_MIN_UM, LUCY_VOXEL_MAX_UM);
  *have = ok;
  return ok;
}

/* --window and what goes with it: the theory options, --run, the number of files. */
static gboolean parse_window_options(GApplicationCommandLine *cmdline, GVariantDict *options,
                                     Options *o) {
  if (!parse_window(cmdline, o)) return FALSE;
  o->have_theory = g_variant_dict_contains(options, "na") ||
                   g_variant_dict_contains(options, "wavelength") ||
                   g_variant_dict_contains(options, "ni");
  if (o->have_theory && o->window != WINDOW_PSF_QA) {
    g_application_command_line_printerr(
        cmdline, "lucy: --na, --wavelength and --ni are the theory of --window psf-qa\n");
    return FALSE;
  }
  if (!parse_number(cmdline, options, "na", 0, 1.7, &o->na) ||
      !parse_number(cmdline, options, "wavelength", 0.2, 2, &o->wavelength) ||
      !parse_number(cmdline, options, "ni", 1, 2, &o->ni))
    return FALSE;
  if (o->run && o->window != WINDOW_MAIN) {
    g_application_command_line_printerr(
        cmdline, "lucy: --run works on the main window, not with --window %s\n", o->window_name);
    return FALSE;
  }
  if (o->nfiles > window_max_files[o->window]) {
    g_application_command_line_printerr(
        cmdline, "lucy: %s\n",
        o->window == WINDOW_POINTS ? "--window points takes one file, a CSV of points"
                                   : "give at most a stack and a PSF");
    return FALSE;
  }
  return TRUE;
}

/* Fills o from the options; FALSE after a message when they are not usable (exit status 2). */
static gboolean parse_options(GApplicationCommandLine *cmdline, Options *o) {
  GVariantDict *options = g_application_command_line_get_options_dict(cmdline);
  memset(o, 0, sizeof *o);
  o->mode = LUCY_PAD_SAME;
  o->op = LUCY_OPERATION_CONVOLVE;
  o->method = LUCY_DECON_RL;
  o->view = LUCY_VIEW_IMAGE;
  o->wavelength = 0.52;
  o->ni = 1.515;
  g_variant_dict_lookup(options, "mode", "&s", &o->mode_name);
  g_variant_dict_lookup(options, "view", "&s", &o->view_name);
  g_variant_dict_lookup(options, "operation", "&s", &o->op_name);
  g_variant_dict_lookup(options, "method", "&s", &o->method_name);
  g_variant_dict_lookup(options, "window", "&s", &o->window_name);
  g_variant_dict_lookup(options, "screenshot", "^&ay", &o->screenshot);
  g_variant_dict_lookup(options, G_OPTION_REMAINING, "^a&ay", &o->files);
  o->nfiles = o->files ? g_strv_length((char **)o->files) : 0;
  o->run = g_variant_dict_contains(options, "run");
  return parse_settings(cmdline, options, o) && parse_window_options(cmdline, options, o) &&
         parse_index(cmdline, options, "channel", o, &o->channel) &&
         parse_index(cmdline, options, "frame", o, &o->frame) &&
         parse_voxel(cmdline, options, "voxel", &o->have_voxel, o->voxel) &&
         parse_voxel(cmdline, options, "psf-voxel", &o->have_psf_voxel, o->psf_voxel);
}

static void apply_settings(LucyWindow *window, const Options *o) {
  if (o->mode_name) lucy_window_set_mode(window, o->mode);
  if (o->op_name) lucy_window_set_operation(window, o->op);
  if (o->method_name || o->have_iterations) {
    LucyOperationsPanel *panel = lucy_window_get_operations_panel(window);
    LucyDeconOptions d;
    lucy_decon_options_default(&d);
    lucy_operations_panel_get_decon(panel, &d);
    if (o->method_name) d.method = o->method;
    if (o->have_iterations) d.iterations = (int)o->iterations;
    lucy_operations_panel_set_decon(panel, &d);
  }
}

/* The main window's stack and PSF: the files, or the demo. With --window psf-qa a single file
 * is the PSF (beside the demo image); a points CSV is not the main window's. */
static gboolean load_inputs(LucyWindow *window, GApplicationCommandLine *cmdline,
                            const Options *o, GError **error) {
  const guint n = o->window == WINDOW_POINTS ? 0 : o->nfiles;
  if (n == 0 || (n == 1 && o->window == WINDOW_PSF_QA)) {
    if (!lucy_window_load_demo(window, error)) return FALSE;
    if (n == 0) return TRUE;
    GFile *file = g_application_command_line_create_file_for_arg(cmdline, o->files[0]);
    const gboolean ok = lucy_window_open_psf(window, file, error);
    g_object_unref(file);
    return ok;
  }
  gboolean ok = TRUE;
  for (guint i = 0; i < n && ok; i++) {
    GFile *file = g_application_command_line_create_file_for_arg(cmdline, o->files[i]);
    ok = i == 0 ? lucy_window_open_stack_at(window, file, (guint)o->channel, (guint)o->frame,
                                            error)
                : lucy_window_open_psf(window, file, error);
    g_object_unref(file);
  }
  /* a stack without a PSF: a Gaussian at the stack's voxel size, so Run works at once */
  if (ok && n == 1) ok = lucy_window_use_default_psf(window, error);
  /* the image's first: a built-in PSF is made again at its voxel size */
  if (ok && o->have_voxel)
    ok = lucy_window_set_voxel_size(window, LUCY_VIEW_IMAGE, o->voxel, error);
  if (ok && o->have_psf_voxel)
    ok = lucy_window_set_voxel_size(window, LUCY_VIEW_PSF, o->psf_voxel, error);
  return ok;
}

/* ---- the other windows: compare, psf-qa, points ------------------------------------------- */

static gboolean compare_busy(GtkWindow *w, const char **error) {
  LucyCompareView *v = LUCY_COMPARE_VIEW(gtk_window_get_child(w));
  *error = lucy_compare_view_get_last_error(v);
  return lucy_compare_view_is_busy(v);
}

static gboolean psf_qa_busy(GtkWindow *w, const char **error) {
  LucyPsfPanel *p = LUCY_PSF_PANEL(gtk_window_get_child(w));
  LucyOtfView *otf = lucy_psf_panel_get_otf_view(p);
  *error = lucy_otf_view_get_last_error(otf);
  return lucy_otf_view_is_busy(otf) || lucy_psf_panel_is_measuring(p) ||
         lucy_psf_panel_is_fixing(p);
}

static gboolean points_busy(GtkWindow *w, const char **error) {
  LucyPointsView *v = LUCY_POINTS_VIEW(gtk_window_get_child(w));
  *error = lucy_points_view_get_last_error(v);
  return lucy_points_view_is_busy(v);
}

static const LucyScreenshotBusyFn window_busy[N_WINDOWS] = {NULL, compare_busy, psf_qa_busy,
                                                            points_busy};

/* Compare on the main window's image and PSF when files were given, else the wrap-around
 * sample (the view's one-click sample). */
static GtkWindow *open_compare(LucyWindow *main_win, const Options *o, GError **error) {
  LucyCompareView *view = NULL;
  GtkWindow *win = lucy_compare_view_new_window(GTK_WINDOW(main_win), &view);
  if (o->nfiles == 0) {
    if (lucy_compare_view_load_sample(view, error)) return win;
    gtk_window_destroy(win);
    return NULL;
  }
  lucy_compare_view_set_volumes(
      view, lucy_stack_get_volume(lucy_window_get_stack(main_win, LUCY_VIEW_IMAGE)),
      lucy_stack_get_volume(lucy_window_get_stack(main_win, LUCY_VIEW_PSF)));
  return win;
}

static GtkWindow *open_points(LucyWindow *main_win, GApplicationCommandLine *cmdline,
                              const Options *o, GError **error) {
  LucyPointsView *view = NULL;
  GtkWindow *win = lucy_points_view_new_window(GTK_WINDOW(main_win), &view);
  if (o->nfiles == 0) return win;
  GFile *file = g_application_command_line_create_file_for_arg(cmdline, o->files[0]);
  char *path = g_file_get_path(file);
  const gboolean ok = lucy_points_view_load_csv(view, path, error);
  g_free(path);
  g_object_unref(file);
  if (ok) return win;
  gtk_window_destroy(win);
  return NULL;
}

/* The window --window asked for with its content, transient for the main window (the main
 * window itself for main); NULL with error when its content could not be loaded. */
static GtkWindow *open_window(LucyWindow *main_win, GApplicationCommandLine *cmdline,
                              const Options *o, GError **error) {
  switch (o->window) {
    case WINDOW_COMPARE: return open_compare(main_win, o, error);
    case WINDOW_POINTS: return open_points(main_win, cmdline, o, error);
    case WINDOW_PSF_QA: {
      LucyPsfPanel *panel = NULL;
      GtkWindow *win = lucy_psf_panel_new_window(main_win, &panel);
      if (o->have_theory) lucy_psf_panel_set_theory(panel, o->na, o->wavelength, o->ni);
      return win;
    }
    case WINDOW_MAIN:
    case N_WINDOWS: break;
  }
  return GTK_WINDOW(main_win);
}

static int lucy_application_command_line(GApplication *gapp, GApplicationCommandLine *cmdline) {
  LucyApplication *self = LUCY_APPLICATION(gapp);
  Options o;
  if (!parse_options(cmdline, &o)) {
    g_free(o.files);
    return 2;
  }
  LucyWindow *window = lucy_window_new(GTK_APPLICATION(gapp));
  if (o.screenshot) gtk_window_set_default_size(GTK_WINDOW(window), 1280, 820);
  apply_settings(window, &o);
  GError *error = NULL;
  GtkWindow *shown = NULL;
  if (load_inputs(window, cmdline, &o, &error)) shown = open_window(window, cmdline, &o, &error);
  g_free(o.files);
  if (!shown) {
    if (o.screenshot) {
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
  if (o.view_name && !o.run) lucy_window_set_view(window, o.view);
  /* a screenshot of another window does not need the main one on screen */
  if (!o.screenshot || shown == GTK_WINDOW(window)) gtk_window_present(GTK_WINDOW(window));
  if (shown != GTK_WINDOW(window)) gtk_window_present(shown);
  if (o.screenshot) {
    const LucyScreenshotRequest req = {window,       shown,  o.screenshot, o.run,
                                       o.view_name != NULL, o.view, window_busy[o.window]};
    lucy_screenshot_start(gapp, &req, &self->exit_status);
  } else if (o.run) {
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
      /* Fiji's Image ▸ Properties, where its users set the voxel size */
      {"win.voxel-size", {"<Primary><Shift>p", NULL, NULL}},
      {"win.next-channel", {"<Primary>bracketright", NULL, NULL}},
      {"win.previous-channel", {"<Primary>bracketleft", NULL, NULL}},
      /* Fiji's > and < step through a stack */
      {"win.next-frame", {"<Primary>period", NULL, NULL}},
      {"win.previous-frame", {"<Primary>comma", NULL, NULL}},
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
