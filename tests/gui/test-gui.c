/* The desktop app under Xvfb (GSK_RENDERER=cairo): demo data, gamma, contrast, padding modes,
 * runs to the end, cancel, memory gauge, corrupt files, rendered pixels, and deconvolution
 * (settings, runs, live previews, cancel). Exits 77 (skip)
 * when there is no display. */
#include <gtk/gtk.h>
#include <glib/gstdio.h>
#include <math.h>
#include <string.h>
#include <sys/wait.h>

#include "lucy-application.h"
#include "lucy-display-panel.h"
#include "lucy-error.h"
#include "lucy-hyperstack-bar.h"
#include "lucy-memory-gauge.h"
#include "lucy-operations-panel.h"
#include "lucy-points-view.h"
#include "lucy-compare-view.h"
#include "lucy-projection-view.h"
#include "lucy-psf-dialog.h"
#include "lucy-otf-view.h"
#include "lucy-plan-or-tile.h"
#include "lucy-psf-panel.h"
#include "lucy-snapshot.h"
#include "lucy-voxel-dialog.h"
#include "lucy-window.h"

static LucyApplication *app;

/* Iterates the main loop until *flag is set or timeout_ms passes; returns *flag. */
static gboolean wait_for_flag(const gboolean *flag, guint timeout_ms) {
  gint64 end = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
  while (!*flag && g_get_monotonic_time() < end) g_main_context_iteration(NULL, FALSE), g_usleep(500);
  return *flag;
}

static void spin(guint ms) {
  gint64 end = g_get_monotonic_time() + (gint64)ms * 1000;
  while (g_get_monotonic_time() < end) {
    while (g_main_context_iteration(NULL, FALSE)) {}
    g_usleep(1000);
  }
}

static LucyWindow *demo_window(void) {
  LucyWindow *win = lucy_window_new(GTK_APPLICATION(app));
  GError *error = NULL;
  g_assert_true(lucy_window_load_demo(win, &error));
  g_assert_no_error(error);
  gtk_window_set_default_size(GTK_WINDOW(win), 1280, 820);
  gtk_window_present(GTK_WINDOW(win));
  /* wait until it is laid out */
  LucyProjectionView *view = lucy_window_get_projection_view(win);
  gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  while ((gtk_widget_get_width(GTK_WIDGET(view)) < 200 || !gtk_widget_get_mapped(GTK_WIDGET(win))) &&
         g_get_monotonic_time() < end)
    g_main_context_iteration(NULL, FALSE), g_usleep(1000);
  g_assert_cmpint(gtk_widget_get_width(GTK_WIDGET(view)), >=, 200);
  spin(50);
  return win;
}

static void close_window(LucyWindow *win) {
  gtk_window_destroy(GTK_WINDOW(win));
  spin(20);
}

typedef struct {
  gboolean done;
  gboolean ok;
  gboolean cancelled;
  char *message;
} RunResult;

static void run_finished_cb(LucyWindow *win, gboolean ok, GError *error, RunResult *r) {
  r->done = TRUE;
  r->ok = ok;
  r->cancelled = g_error_matches(error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_free(r->message);
  r->message = error ? g_strdup(error->message) : NULL;
}

static void run_to_end(LucyWindow *win, RunResult *r) {
  memset(r, 0, sizeof *r);
  gulong id = g_signal_connect(win, "run-finished", G_CALLBACK(run_finished_cb), r);
  g_assert_true(lucy_window_run(win));
  g_assert_true(wait_for_flag(&r->done, 120000));
  g_signal_handler_disconnect(win, id);
  if (!r->ok) g_printerr("run failed: %s\n", r->message ? r->message : "?");
  g_assert_true(r->ok);
}

/* ---- demo --------------------------------------------------------------------------------- */

static void test_demo(void) {
  LucyWindow *win = demo_window();
  LucyStack *image = lucy_window_get_stack(win, LUCY_VIEW_IMAGE);
  LucyStack *psf = lucy_window_get_stack(win, LUCY_VIEW_PSF);
  g_assert_nonnull(image);
  g_assert_nonnull(psf);
  const LucyVolume *v = lucy_stack_get_volume(image);
  g_assert_cmpuint(v->shape[0], ==, 32);
  g_assert_cmpuint(v->shape[1], ==, 128);
  g_assert_cmpuint(v->shape[2], ==, 128);
  g_assert_cmpfloat(v->voxel_um[0], ==, 0.3);
  g_assert_cmpfloat(v->voxel_um[2], ==, 0.1);
  LucyProjectionView *view = lucy_window_get_projection_view(win);
  gsize w, h;
  const guint8 *rgba = lucy_projection_view_get_rgba(view, LUCY_PROJ_XY, &w, &h);
  g_assert_nonnull(rgba);
  g_assert_cmpuint(w, ==, 128);
  g_assert_cmpuint(h, ==, 128);
  g_assert_nonnull(lucy_projection_view_get_rgba(view, LUCY_PROJ_ZY, &w, &h));
  g_assert_cmpuint(w, ==, 32);
  g_assert_cmpuint(h, ==, 128);
  g_assert_nonnull(lucy_projection_view_get_rgba(view, LUCY_PROJ_XZ, &w, &h));
  g_assert_cmpuint(w, ==, 128);
  g_assert_cmpuint(h, ==, 32);
  /* spheres on black: both bright and dark pixels */
  rgba = lucy_projection_view_get_rgba(view, LUCY_PROJ_XY, &w, &h);
  gsize bright = 0, dark = 0;
  for (gsize i = 0; i < w * h; i++) {
    if (rgba[4 * i] > 200) bright++;
    if (rgba[4 * i] < 20) dark++;
  }
  g_assert_cmpuint(bright, >, w * h / 50);
  g_assert_cmpuint(dark, >, w * h / 4);
  /* physical aspect: ZY is 32 × 0.3 = 9.6 µm wide next to XY's 12.8 µm */
  graphene_rect_t rxy, rzy, rxz;
  g_assert_true(lucy_projection_view_get_panel_rect(view, LUCY_PROJ_XY, &rxy));
  g_assert_true(lucy_projection_view_get_panel_rect(view, LUCY_PROJ_ZY, &rzy));
  g_assert_true(lucy_projection_view_get_panel_rect(view, LUCY_PROJ_XZ, &rxz));
  g_assert_cmpfloat_with_epsilon(rzy.size.width / rxy.size.width, 9.6 / 12.8, 1e-3);
  g_assert_cmpfloat_with_epsilon(rxz.size.height / rxy.size.height, 9.6 / 12.8, 1e-3);
  g_assert_cmpfloat_with_epsilon(rxy.size.width, rxy.size.height, 1e-3);
  g_assert_cmpfloat_with_epsilon(rzy.size.height, rxy.size.height, 1e-3);
  g_assert_cmpfloat(rzy.origin.x, >, rxy.origin.x + rxy.size.width);
  g_assert_cmpfloat(rxz.origin.y, >, rxy.origin.y + rxy.size.height);
  /* the status line reads the voxel under a point */
  double px = rxy.origin.x + (10.5 / 128.0) * rxy.size.width;
  double py = rxy.origin.y + (20.5 / 128.0) * rxy.size.height;
  char *text = lucy_projection_view_describe_point(view, px, py);
  g_assert_nonnull(text);
  g_assert_nonnull(strstr(text, "x 10"));
  g_assert_nonnull(strstr(text, "y 20"));
  g_free(text);
  close_window(win);
}

/* ---- gamma and contrast follow lucy_render_value ----------------------------------------- */

static void check_pixels_follow_formula(LucyWindow *win) {
  LucyProjectionView *view = lucy_window_get_projection_view(win);
  LucyRenderOptions opts;
  lucy_display_panel_get_options(lucy_window_get_display_panel(win), &opts);
  for (int p = 0; p < 3; p++) {
    const LucyImage *img = lucy_projection_view_get_shown(view, (LucyProjection)p);
    gsize w, h;
    const guint8 *rgba = lucy_projection_view_get_rgba(view, (LucyProjection)p, &w, &h);
    g_assert_nonnull(img);
    g_assert_nonnull(rgba);
    g_assert_cmpuint(w, ==, img->width);
    g_assert_cmpuint(h, ==, img->height);
    for (gsize i = 0; i < w * h; i++) {
      double t = lucy_render_value(&opts, opts.vmin, opts.vmax, img->data[i]);
      guint32 c = lucy_colormap_rgb(opts.colormap, t);
      int dr = abs((int)rgba[4 * i] - (int)((c >> 16) & 0xff));
      int dg = abs((int)rgba[4 * i + 1] - (int)((c >> 8) & 0xff));
      int db = abs((int)rgba[4 * i + 2] - (int)(c & 0xff));
      if (dr > 1 || dg > 1 || db > 1)
        g_error("panel %d pixel %zu: value %g gamma %g range %g..%g gives t %g: got %u,%u,%u "
                "want %06x",
                p, (size_t)i, img->data[i], opts.gamma, opts.vmin, opts.vmax, t, rgba[4 * i],
                rgba[4 * i + 1], rgba[4 * i + 2], c);
      g_assert_cmpuint(rgba[4 * i + 3], ==, 255);
    }
  }
}

static void test_gamma(void) {
  LucyWindow *win = demo_window();
  LucyDisplayPanel *panel = lucy_window_get_display_panel(win);
  LucyProjectionView *view = lucy_window_get_projection_view(win);
  LucyStack *image = lucy_window_get_stack(win, LUCY_VIEW_IMAGE);
  guint projections = lucy_stack_get_projection_count(image);
  g_assert_cmpuint(projections, ==, 1);
  check_pixels_follow_formula(win);

  /* a mid-grey voxel brightens with gamma < 1 */
  const LucyImage *xy = lucy_projection_view_get_shown(view, LUCY_PROJ_XY);
  LucyRenderOptions opts;
  lucy_display_panel_get_options(panel, &opts);
  gsize mid = G_MAXSIZE;
  for (gsize i = 0; i < xy->width * xy->height && mid == G_MAXSIZE; i++) {
    double t = (xy->data[i] - opts.vmin) / (opts.vmax - opts.vmin);
    if (t > 0.2 && t < 0.6) mid = i;
  }
  g_assert_cmpuint(mid, !=, G_MAXSIZE);
  guint8 before = lucy_projection_view_get_rgba(view, LUCY_PROJ_XY, NULL, NULL)[4 * mid];

  guint renders = lucy_projection_view_get_render_count(view);
  const double gammas[] = {0.5, 2.0, 0.1, 5.0, 1.7};
  for (gsize g = 0; g < G_N_ELEMENTS(gammas); g++) {
    lucy_display_panel_set_gamma(panel, gammas[g]);
    lucy_display_panel_get_options(panel, &opts);
    g_assert_cmpfloat_with_epsilon(opts.gamma, gammas[g], 1e-9);
    check_pixels_follow_formula(win);
    if (gammas[g] == 0.5) {
      guint8 after = lucy_projection_view_get_rgba(view, LUCY_PROJ_XY, NULL, NULL)[4 * mid];
      g_assert_cmpuint(after, >, before);
    }
  }
  g_assert_cmpuint(lucy_projection_view_get_render_count(view), >=, renders + G_N_ELEMENTS(gammas));
  /* re-rendering never re-projected */
  g_assert_cmpuint(lucy_stack_get_projection_count(image), ==, projections);

  /* explicit contrast, colormap and log follow the same formula */
  lucy_display_panel_get_options(panel, &opts);
  opts.auto_contrast = 0;
  opts.vmin = 0.1;
  opts.vmax = 0.7;
  opts.colormap = LUCY_CMAP_VIRIDIS;
  lucy_display_panel_set_options(panel, &opts);
  g_signal_emit_by_name(panel, "changed");
  check_pixels_follow_formula(win);
  opts.log = 1;
  lucy_display_panel_set_options(panel, &opts);
  g_signal_emit_by_name(panel, "changed");
  check_pixels_follow_formula(win);
  g_assert_cmpuint(lucy_stack_get_projection_count(image), ==, projections);

  /* slice mode shows plane z */
  lucy_display_panel_set_slice(panel, TRUE, 7);
  guint z = 0;
  g_assert_true(lucy_projection_view_get_slice(view, &z));
  g_assert_cmpuint(z, ==, 7);
  const LucyImage *plane = lucy_projection_view_get_shown(view, LUCY_PROJ_XY);
  const LucyVolume *vol = lucy_stack_get_volume(image);
  for (gsize i = 0; i < 128 * 128; i++)
    g_assert_cmpfloat(plane->data[i], ==, vol->data[7 * 128 * 128 + i]);
  check_pixels_follow_formula(win);
  close_window(win);
}

/* ---- the rendered window shows the RGBA, nearest-neighbour -------------------------------- */

static void test_window_pixels(void) {
  LucyWindow *win = demo_window();
  LucyProjectionView *view = lucy_window_get_projection_view(win);
  /* wait for the first frame: the paintable shows what was drawn */
  GError *error = NULL;
  GdkTexture *tex = NULL;
  for (int i = 0; i < 100 && !tex; i++) {
    spin(50);
    g_clear_error(&error);
    tex = lucy_widget_render_texture(GTK_WIDGET(view), &error);
  }
  g_assert_no_error(error);
  int tw = gdk_texture_get_width(tex), th = gdk_texture_get_height(tex);
  guint8 *pix = g_malloc((gsize)tw * th * 4);
  gdk_texture_download(tex, pix, (gsize)tw * 4); /* cairo ARGB32: B, G, R, A in memory */
  graphene_rect_t r;
  g_assert_true(lucy_projection_view_get_panel_rect(view, LUCY_PROJ_XY, &r));
  gsize w, h;
  const guint8 *rgba = lucy_projection_view_get_rgba(view, LUCY_PROJ_XY, &w, &h);
  int checked = 0;
  for (gsize y = 2; y < h - 2; y += 7)
    for (gsize x = 2; x < w - 2; x += 5) {
      int sx = (int)(r.origin.x + (x + 0.5) * r.size.width / w);
      int sy = (int)(r.origin.y + (y + 0.5) * r.size.height / h);
      if (sx < 0 || sy < 0 || sx >= tw || sy >= th) continue;
      const guint8 *p = pix + ((gsize)sy * tw + sx) * 4;
      const guint8 *q = rgba + (y * w + x) * 4;
      /* labels sit in the top-left corner */
      if (y < 20 && x < 30) continue;
      g_assert_cmpint(abs(p[2] - q[0]), <=, 2);
      g_assert_cmpint(abs(p[1] - q[1]), <=, 2);
      g_assert_cmpint(abs(p[0] - q[2]), <=, 2);
      checked++;
    }
  g_assert_cmpint(checked, >, 300);
  g_free(pix);
  g_object_unref(tex);

  /* zoom keeps the centre and magnifies */
  double z0 = lucy_projection_view_get_zoom(view);
  g_action_group_activate_action(G_ACTION_GROUP(win), "zoom-in", NULL);
  g_assert_cmpfloat(lucy_projection_view_get_zoom(view), >, z0);
  graphene_rect_t r2;
  g_assert_true(lucy_projection_view_get_panel_rect(view, LUCY_PROJ_XY, &r2));
  g_assert_cmpfloat(r2.size.width, >, r.size.width * 1.2);
  g_action_group_activate_action(G_ACTION_GROUP(win), "zoom-fit", NULL);
  g_assert_cmpfloat(lucy_projection_view_get_zoom(view), ==, 1.0);
  close_window(win);
}

/* ---- padding modes, runs, auto re-run, difference ---------------------------------------- */

static void test_modes(void) {
  LucyWindow *win = demo_window();
  const LucyVolume *img = lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_IMAGE));
  const LucyVolume *psf = lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_PSF));
  const LucyPadMode modes[] = {LUCY_PAD_CIRCULAR, LUCY_PAD_SAME, LUCY_PAD_FULL, LUCY_PAD_VALID};
  guint64 peak_same = 0, peak_full = 0;
  for (gsize m = 0; m < G_N_ELEMENTS(modes); m++) {
    lucy_window_set_mode(win, modes[m]);
    g_assert_cmpint(lucy_window_get_mode(win), ==, modes[m]);
    /* after the first result, a mode change re-runs by itself on this small stack */
    if (m > 0) {
      g_assert_true(lucy_window_is_running(win));
      RunResult r = {0};
      gulong id = g_signal_connect(win, "run-finished", G_CALLBACK(run_finished_cb), &r);
      g_assert_true(wait_for_flag(&r.done, 120000));
      g_signal_handler_disconnect(win, id);
      g_assert_true(r.ok);
      g_free(r.message);
    } else {
      RunResult r;
      run_to_end(win, &r);
      g_free(r.message);
    }
    if (modes[m] == LUCY_PAD_SAME) peak_same = lucy_window_get_predicted_peak(win);
    if (modes[m] == LUCY_PAD_FULL) peak_full = lucy_window_get_predicted_peak(win);
    size_t out[3], fft[3];
    g_assert_cmpint(lucy_conv_shapes(img->shape, psf->shape, modes[m], out, fft), ==, LUCY_OK);
    LucyStack *result = lucy_window_get_stack(win, LUCY_VIEW_RESULT);
    g_assert_nonnull(result);
    const LucyVolume *res = lucy_stack_get_volume(result);
    for (int a = 0; a < 3; a++) {
      size_t n = img->shape[a], k = psf->shape[a];
      size_t want = modes[m] == LUCY_PAD_FULL ? n + k - 1 : modes[m] == LUCY_PAD_VALID ? n - k + 1 : n;
      g_assert_cmpuint(res->shape[a], ==, want);
      g_assert_cmpuint(out[a], ==, want);
    }
    /* the result view shows it; the difference is result − image on the result's grid */
    g_assert_cmpint(lucy_window_get_view(win), ==, LUCY_VIEW_RESULT);
    lucy_window_set_view(win, LUCY_VIEW_DIFFERENCE);
    LucyStack *diff = lucy_window_get_stack(win, LUCY_VIEW_DIFFERENCE);
    g_assert_nonnull(diff);
    const LucyVolume *d = lucy_stack_get_volume(diff);
    g_assert_cmpmem(d->shape, sizeof d->shape, res->shape, sizeof res->shape);
    /* voxel (z, y, x) of the result sits over image voxel (z, y, x) + offset */
    for (int probe = 0; probe < 50; probe++) {
      size_t q[3];
      for (int a = 0; a < 3; a++) q[a] = (size_t)g_test_rand_int_range(0, (gint32)res->shape[a]);
      ptrdiff_t iz = (ptrdiff_t)q[0], iy = (ptrdiff_t)q[1], ix = (ptrdiff_t)q[2];
      ptrdiff_t off[3] = {0, 0, 0};
      for (int a = 0; a < 3; a++) {
        ptrdiff_t k = (ptrdiff_t)psf->shape[a];
        off[a] = modes[m] == LUCY_PAD_FULL ? -(k / 2) : modes[m] == LUCY_PAD_VALID ? k - 1 - k / 2 : 0;
      }
      iz += off[0], iy += off[1], ix += off[2];
      float iv = 0;
      if (iz >= 0 && iy >= 0 && ix >= 0 && iz < (ptrdiff_t)img->shape[0] &&
          iy < (ptrdiff_t)img->shape[1] && ix < (ptrdiff_t)img->shape[2])
        iv = img->data[((size_t)iz * img->shape[1] + (size_t)iy) * img->shape[2] + (size_t)ix];
      size_t qi = (q[0] * res->shape[1] + q[1]) * res->shape[2] + q[2];
      g_assert_cmpfloat_with_epsilon(d->data[qi], res->data[qi] - iv, 1e-6);
    }
    LucyRenderOptions opts;
    lucy_display_panel_get_options(lucy_window_get_display_panel(win), &opts);
    g_assert_cmpint(opts.colormap, ==, LUCY_CMAP_COOLWARM);
    g_assert_cmpfloat_with_epsilon(opts.vmin, -opts.vmax, 1e-12);
    check_pixels_follow_formula(win);
    /* the projection of a difference keeps both signs: blur lowers the spheres' insides and
     * raises their surroundings */
    const LucyImage *dxy =
        lucy_projection_view_get_shown(lucy_window_get_projection_view(win), LUCY_PROJ_XY);
    float dmin = 0, dmax = 0;
    for (gsize i = 0; i < dxy->width * dxy->height; i++)
      dmin = MIN(dmin, dxy->data[i]), dmax = MAX(dmax, dxy->data[i]);
    g_assert_cmpfloat(dmin, <, -0.05);
    g_assert_cmpfloat(dmax, >, 0.05);
    lucy_window_set_view(win, LUCY_VIEW_RESULT);
  }
  /* the memory gauge's prediction follows the mode */
  g_assert_cmpuint(peak_same, >, 0);
  g_assert_cmpuint(peak_full, >, peak_same);
  LucyMemoryGauge *gauge = lucy_window_get_memory_gauge(win);
  g_assert_true(lucy_memory_gauge_update(gauge));
  g_assert_nonnull(strstr(lucy_memory_gauge_get_text(gauge), " / "));
  close_window(win);
}

/* ---- a real stack and PSF from the shared data -------------------------------------------- */

static void test_real_files(void) {
  const char *shared = g_getenv("LUCY_SHARED_DATA");
  char *data = g_build_filename(shared ? shared : "../shared/data", "real", "bars-data.tif", NULL);
  char *psfp = g_build_filename(shared ? shared : "../shared/data", "real", "bars-psf.tif", NULL);
  if (!g_file_test(data, G_FILE_TEST_EXISTS) || !g_file_test(psfp, G_FILE_TEST_EXISTS)) {
    g_test_skip("shared data not found (LUCY_SHARED_DATA)");
    g_free(data);
    g_free(psfp);
    return;
  }
  LucyWindow *win = demo_window();
  GError *error = NULL;
  GFile *f = g_file_new_for_path(data), *g = g_file_new_for_path(psfp);
  g_assert_true(lucy_window_open_stack(win, f, &error));
  g_assert_no_error(error);
  g_assert_true(lucy_window_open_psf(win, g, &error));
  g_assert_no_error(error);
  const LucyVolume *v = lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_IMAGE));
  g_assert_cmpuint(v->shape[0], ==, 32);
  g_assert_cmpuint(v->shape[1], ==, 64);
  g_assert_cmpuint(v->shape[2], ==, 64);
  gsize w, h;
  g_assert_nonnull(lucy_projection_view_get_rgba(lucy_window_get_projection_view(win),
                                                 LUCY_PROJ_XY, &w, &h));
  g_assert_cmpuint(w, ==, 64);
  lucy_window_set_mode(win, LUCY_PAD_SAME);
  RunResult r;
  run_to_end(win, &r);
  g_free(r.message);
  const LucyVolume *res = lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_RESULT));
  g_assert_cmpmem(res->shape, sizeof res->shape, v->shape, sizeof v->shape);

  /* save the result as TIFF and read it back: values and calibration */
  char *dir = g_dir_make_tmp("lucy-save-XXXXXX", NULL);
  char *out = g_build_filename(dir, "result.tif", NULL);
  GFile *of = g_file_new_for_path(out);
  g_assert_true(lucy_window_save_result(win, of, FALSE, &error));
  g_assert_no_error(error);
  g_assert_false(lucy_window_save_result(win, of, FALSE, &error)); /* never overwritten unasked */
  g_assert_nonnull(error);
  g_clear_error(&error);
  g_assert_true(lucy_window_save_result(win, of, TRUE, &error));
  LucyVolume *back = NULL;
  g_assert_cmpint(lucy_tiff_read(out, NULL, &back, NULL), ==, LUCY_OK);
  g_assert_cmpmem(back->shape, sizeof back->shape, res->shape, sizeof res->shape);
  for (int a = 0; a < 3; a++) g_assert_cmpfloat_with_epsilon(back->voxel_um[a], res->voxel_um[a], 1e-6);
  for (size_t i = 0; i < lucy_shape_count(res->shape); i += 97)
    g_assert_cmpfloat(back->data[i], ==, res->data[i]);
  lucy_volume_free(back);
  /* export the view as PNG */
  char *png = g_build_filename(dir, "view.png", NULL);
  GFile *pf = g_file_new_for_path(png);
  spin(200);
  g_assert_true(lucy_window_export_view(win, pf, &error));
  g_assert_no_error(error);
  GdkTexture *tex = gdk_texture_new_from_filename(png, &error);
  g_assert_no_error(error);
  g_assert_cmpint(gdk_texture_get_width(tex), ==,
                  gtk_widget_get_width(GTK_WIDGET(lucy_window_get_projection_view(win))));
  g_object_unref(tex);
  g_unlink(png);
  g_unlink(out);
  g_rmdir(dir);
  g_object_unref(pf);
  g_object_unref(of);
  g_free(png);
  g_free(out);
  g_free(dir);
  g_object_unref(f);
  g_object_unref(g);
  g_free(data);
  g_free(psfp);
  close_window(win);
}

/* ---- cancel a long run; the window stays responsive -------------------------------------- */

typedef struct {
  LucyWindow *win;
  guint ticks;
  gboolean cancelled;
  gint64 cancel_time;
  gint64 last_tick, max_gap;
} CancelState;

static gboolean tick_cb(gpointer data) {
  CancelState *s = data;
  gint64 now = g_get_monotonic_time();
  if (s->last_tick) s->max_gap = MAX(s->max_gap, now - s->last_tick);
  s->last_tick = now;
  s->ticks++;
  return G_SOURCE_CONTINUE;
}

static void test_cancel(void) {
  LucyWindow *win = demo_window();
  /* a stack big enough that the run takes seconds on one thread */
  const size_t shape[3] = {96, 384, 384};
  LucyVolume *vol = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &vol), ==, LUCY_OK);
  for (int a = 0; a < 3; a++) vol->voxel_um[a] = a == 0 ? 0.3 : 0.1;
  g_assert_cmpint(lucy_phantom_random_spheres(vol, 40, 3, 12, 1.0, 7, NULL), ==, LUCY_OK);
  LucyStack *big = lucy_stack_new_take(vol, "big");
  lucy_window_set_image(win, big);
  g_object_unref(big);
  GError *error = NULL;
  g_assert_true(lucy_window_use_default_psf(win, &error));
  g_assert_no_error(error);
  lucy_window_set_mode(win, LUCY_PAD_FULL);

  CancelState s = {win, 0, FALSE, 0, 0, 0};
  guint timer = g_timeout_add(20, tick_cb, &s);
  RunResult r = {0};
  gulong id = g_signal_connect(win, "run-finished", G_CALLBACK(run_finished_cb), &r);
  gint64 t0 = g_get_monotonic_time();
  g_assert_true(lucy_window_run(win));
  g_assert_true(lucy_window_is_running(win));
  /* let it get going, then cancel */
  spin(300);
  if (!r.done) {
    lucy_window_cancel(win);
    s.cancel_time = g_get_monotonic_time();
  }
  g_assert_true(wait_for_flag(&r.done, 120000));
  gint64 t1 = g_get_monotonic_time();
  g_signal_handler_disconnect(win, id);
  g_source_remove(timer);
  if (!s.cancel_time) {
    g_test_message("the run finished in %.2f s before it could be cancelled",
                   (t1 - t0) / 1e6);
    g_test_incomplete("run too fast to cancel on this machine");
  } else {
    g_assert_false(r.ok);
    g_assert_true(r.cancelled);
    g_test_message("cancelled after %.3f s; stopped %.3f s after Cancel",
                   (s.cancel_time - t0) / 1e6, (t1 - s.cancel_time) / 1e6);
    /* no result and the window can run again */
    g_assert_null(lucy_window_get_stack(win, LUCY_VIEW_RESULT));
  }
  g_assert_false(lucy_window_is_running(win));
  /* the main loop kept turning: a 20 ms timer never waited long (generous for loaded CI) */
  g_test_message("main loop: %u ticks, longest gap %.0f ms", s.ticks, s.max_gap / 1e3);
  g_assert_cmpuint(s.ticks, >=, 3);
  g_assert_cmpint(s.max_gap, <, 750 * 1000);
  g_free(r.message);

  /* closing the window during a run cancels it without a crash */
  g_assert_true(lucy_window_run(win));
  spin(100);
  close_window(win);
  spin(1500);
}

/* ---- memory gauge ------------------------------------------------------------------------- */

static void test_memory_gauge(void) {
  LucyWindow *win = demo_window();
  LucyMemoryGauge *gauge = lucy_window_get_memory_gauge(win);
  g_assert_true(lucy_memory_gauge_update(gauge));
  const char *text = lucy_memory_gauge_get_text(gauge);
  g_assert_nonnull(strstr(text, " / "));
  g_assert_false(lucy_memory_gauge_get_warning(gauge));
  /* a prediction larger than what is free turns the gauge to its warning colour */
  lucy_memory_gauge_set_predicted(gauge, G_MAXUINT64 / 2);
  g_assert_true(lucy_memory_gauge_get_warning(gauge));
  g_assert_true(gtk_widget_has_css_class(GTK_WIDGET(gauge), "warning"));
  lucy_memory_gauge_set_predicted(gauge, lucy_window_get_predicted_peak(win));
  g_assert_false(lucy_memory_gauge_get_warning(gauge));
  /* it polls by itself while shown */
  spin(800);
  g_assert_true(lucy_memory_gauge_update(gauge));
  close_window(win);
}

/* What the gauge says Lucy holds: on the CPU the process's resident host memory (never "0 bytes"
 * with stacks loaded), with the run buffers apart in the tooltip; the wording says which. */
static void test_memory_gauge_held(void) {
  LucyWindow *win = demo_window();
  LucyMemoryGauge *gauge = lucy_window_get_memory_gauge(win);
  g_assert_true(lucy_memory_gauge_update(gauge));
  const char *text = lucy_memory_gauge_get_text(gauge);
  const char *tip = gtk_widget_get_tooltip_text(lucy_memory_gauge_get_text_widget(gauge));
  g_test_message("gauge: %s\ntooltip: %s", text, tip ? tip : "(none)");
  g_assert_nonnull(strstr(text, " / "));
  g_assert_nonnull(strstr(text, "Lucy holds"));
  g_assert_null(strstr(text, "Lucy holds 0 bytes"));
  const LucyVolume *v = lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_IMAGE));
  g_assert_cmpuint(lucy_memory_gauge_get_held_bytes(gauge), >=,
                   lucy_shape_count(v->shape) * sizeof(float));
  g_assert_nonnull(tip);
  g_assert_nonnull(strstr(tip, "resident"));
  g_assert_nonnull(strstr(tip, "run buffers"));
  close_window(win);
}

/* The first widget of type under root, depth first (a collapsed GtkExpander has no child in
 * the tree, so search from the outside in). */
static GtkWidget *find_descendant(GtkWidget *root, GType type) {
  if (G_TYPE_CHECK_INSTANCE_TYPE(root, type)) return root;
  for (GtkWidget *c = gtk_widget_get_first_child(root); c; c = gtk_widget_get_next_sibling(c)) {
    GtkWidget *found = find_descendant(c, type);
    if (found) return found;
  }
  return NULL;
}

/* w lies wholly inside what its scrolled window (or else the window) shows now. */
static void assert_in_view(LucyWindow *win, GtkWidget *w) {
  GtkWidget *frame = gtk_widget_get_ancestor(w, GTK_TYPE_SCROLLED_WINDOW);
  if (!frame) frame = GTK_WIDGET(win);
  graphene_rect_t r;
  g_assert_true(gtk_widget_compute_bounds(w, frame, &r));
  g_test_message("%s: y %.0f to %.0f of %d", G_OBJECT_TYPE_NAME(w), r.origin.y,
                 r.origin.y + r.size.height, gtk_widget_get_height(frame));
  g_assert_cmpfloat(r.origin.y, >=, 0);
  g_assert_cmpfloat(r.origin.y + r.size.height, <=, gtk_widget_get_height(frame));
}

/* At 1280x820 the gauge is in view on both operations' pages: a footer under the sidebar's
 * scrolled controls, so no page can push it below the fold; and the controls above it (Run,
 * progress, the plan's strategy) fit without scrolling. */
static void test_memory_gauge_in_view(void) {
  LucyWindow *win = demo_window();
  GtkWidget *gauge = GTK_WIDGET(lucy_window_get_memory_gauge(win));
  g_assert_null(gtk_widget_get_ancestor(gauge, GTK_TYPE_SCROLLED_WINDOW));
  GtkWidget *ops = GTK_WIDGET(lucy_window_get_operations_panel(win));
  GtkWidget *sw = gtk_widget_get_ancestor(ops, GTK_TYPE_SCROLLED_WINDOW);
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment(GTK_SCROLLED_WINDOW(sw));
  /* Convolve last: the choice is remembered (GSettings) and later tests start from it */
  static const LucyOperation pages[2] = {LUCY_OPERATION_DECONVOLVE, LUCY_OPERATION_CONVOLVE};
  for (int i = 0; i < 2; i++) {
    lucy_window_set_operation(win, pages[i]);
    spin(100);
    assert_in_view(win, gauge);
    assert_in_view(win, find_descendant(ops, GTK_TYPE_PROGRESS_BAR));
    g_assert_cmpfloat(gtk_adjustment_get_upper(adj), <=, gtk_adjustment_get_page_size(adj));
  }
  close_window(win);
}

/* The "what if" row: for every budget, growing the deconvolution set up in y and x moves the
 * plan from in-memory to low-memory to tiles (never back), each step the plan lucy_memory_plan
 * gives for the scaled problem, with its strategy, peak and tiles in the text, and for some
 * budget all three appear; changing the set-up changes the row; the strategy Run will use is
 * shown next to Run. */
static void test_memory_what_if(void) {
  LucyWindow *win = demo_window();
  lucy_window_set_operation(win, LUCY_OPERATION_DECONVOLVE);
  spin(20);
  LucyMemoryGauge *gauge = lucy_window_get_memory_gauge(win);
  GtkDropDown *factor = lucy_memory_gauge_get_factor_control(gauge);
  GtkDropDown *budget = lucy_memory_gauge_get_budget_control(gauge);
  /* folded under "What if…" until asked for, as a user would unfold it */
  GtkExpander *expander = GTK_EXPANDER(find_descendant(GTK_WIDGET(gauge), GTK_TYPE_EXPANDER));
  g_assert_nonnull(expander);
  g_assert_false(gtk_expander_get_expanded(expander));
  g_assert_false(gtk_widget_get_mapped(GTK_WIDGET(factor)));
  gtk_expander_set_expanded(expander, TRUE);
  spin(50);
  g_assert_true(gtk_widget_get_mapped(GTK_WIDGET(factor)));
  const guint n_factors = g_list_model_get_n_items(gtk_drop_down_get_model(factor));
  const guint n_budgets = g_list_model_get_n_items(gtk_drop_down_get_model(budget));
  g_assert_cmpuint(n_factors, ==, 6);
  g_assert_cmpuint(n_budgets, ==, 9);
  /* x1 against the free memory now: the real operation, which fits */
  LucyMemoryRequest req;
  LucyMemoryPlan plan;
  g_assert_true(lucy_memory_gauge_get_what_if(gauge, &req, &plan));
  g_assert_cmpint(req.op, ==, LUCY_MEMORY_DECONVOLVE);
  g_assert_cmpuint(req.image_shape[1], ==, 128);
  g_assert_cmpint(plan.strategy, ==, LUCY_STRATEGY_IN_MEMORY);
  /* next to Run: the strategy Run will use */
  g_assert_nonnull(strstr(lucy_operations_panel_get_result_text(lucy_window_get_operations_panel(win)),
                          "strategy: in-memory"));

  const LucyStrategy order[3] = {LUCY_STRATEGY_IN_MEMORY, LUCY_STRATEGY_LOW_MEMORY,
                                 LUCY_STRATEGY_TILED};
  gboolean all_three = FALSE;
  for (guint b = 1; b < n_budgets; b++) {
    gtk_drop_down_set_selected(budget, b);
    int step = 0, seen[3] = {0, 0, 0};
    size_t limit = 0;
    for (guint i = 0; i < n_factors; i++) {
      gtk_drop_down_set_selected(factor, i);
      g_assert_true(lucy_memory_gauge_get_what_if(gauge, &req, &plan));
      const char *text = lucy_memory_gauge_get_what_if_text(gauge);
      g_test_message("what if, budget %u, x%u: %s", b, 1u << i, text);
      g_assert_cmpuint(req.image_shape[0], ==, 32);
      g_assert_cmpuint(req.image_shape[1], ==, 128u << i);
      g_assert_cmpuint(req.image_shape[2], ==, 128u << i);
      if (i == 0) limit = req.free_bytes;
      g_assert_cmpuint(req.free_bytes, ==, limit); /* the budget does not follow the factor */
      /* what the planner says for that problem, independently */
      LucyMemoryRequest r;
      lucy_memory_request_default(&r);
      r.op = LUCY_MEMORY_DECONVOLVE;
      memcpy(r.image_shape, req.image_shape, sizeof r.image_shape);
      memcpy(r.psf_shape, req.psf_shape, sizeof r.psf_shape);
      r.method = req.method;
      r.boundary = req.boundary;
      r.preview = 1;
      r.free_bytes = limit;
      LucyMemoryPlan want;
      const LucyStatus st = lucy_memory_plan(&r, &want);
      g_assert_true(st == LUCY_OK || st == LUCY_ERR_DEVICE_MEMORY);
      g_assert_cmpint(plan.strategy, ==, want.strategy);
      g_assert_cmpuint(plan.peak_device_bytes, ==, want.peak_device_bytes);
      g_assert_nonnull(strstr(text, lucy_strategy_name(want.strategy)));
      char *peak = g_format_size_full(want.peak_device_bytes, G_FORMAT_SIZE_IEC_UNITS);
      g_assert_nonnull(strstr(text, peak));
      g_free(peak);
      if (want.strategy == LUCY_STRATEGY_TILED) {
        char *tiles = g_strdup_printf("%zu × %zu tiles", want.tiles[1], want.tiles[2]);
        g_assert_nonnull(strstr(text, tiles));
        g_free(tiles);
      }
      int k = 0;
      while (k < 3 && order[k] != plan.strategy) k++;
      g_assert_cmpint(k, <, 3);
      g_assert_cmpint(k, >=, step); /* in-memory, then low-memory, then tiles */
      step = k;
      seen[k] = 1;
    }
    all_three = all_three || (seen[0] && seen[1] && seen[2]);
  }
  g_assert_true(all_three);
  /* The largest budget takes x8 back from tiles. */
  gtk_drop_down_set_selected(factor, 3);
  gtk_drop_down_set_selected(budget, 1);
  g_assert_true(lucy_memory_gauge_get_what_if(gauge, NULL, &plan));
  g_assert_cmpint(plan.strategy, ==, LUCY_STRATEGY_IN_MEMORY);
  /* The set-up changes the row: convolution holds fewer buffers. */
  LucyMemoryPlan before;
  g_assert_true(lucy_memory_gauge_get_what_if(gauge, NULL, &before));
  lucy_window_set_operation(win, LUCY_OPERATION_CONVOLVE);
  spin(5);
  g_assert_true(lucy_memory_gauge_get_what_if(gauge, &req, &plan));
  g_assert_cmpint(req.op, ==, LUCY_MEMORY_CONVOLVE);
  g_assert_cmpuint(plan.in_memory_device_bytes, <, before.in_memory_device_bytes);
  close_window(win);
}

/* ---- corrupt files give an error, not a crash --------------------------------------------- */

static void test_corrupt(void) {
  LucyWindow *win = demo_window();
  char *dir = g_dir_make_tmp("lucy-gui-XXXXXX", NULL);
  char *path = g_build_filename(dir, "corrupt.tif", NULL);
  /* a TIFF header whose first IFD points far past the end */
  static const guint8 bytes[] = {'I', 'I', 42, 0, 0xff, 0xff, 0xff, 0x0f, 1, 2, 3, 4, 5, 6};
  g_assert_true(g_file_set_contents(path, (const char *)bytes, sizeof bytes, NULL));
  LucyStack *before = lucy_window_get_stack(win, LUCY_VIEW_IMAGE);
  GFile *file = g_file_new_for_path(path);
  GError *error = NULL;
  g_assert_false(lucy_window_open_stack(win, file, &error));
  g_assert_nonnull(error);
  g_assert_true(error->domain == LUCY_ERROR);
  g_assert_nonnull(strstr(error->message, "corrupt.tif"));
  g_test_message("error: %s", error->message);
  g_clear_error(&error);
  g_assert_true(lucy_window_get_stack(win, LUCY_VIEW_IMAGE) == before);

  /* through the UI path: an error dialog with the core's message */
  char *uri = g_file_get_uri(file);
  g_action_group_activate_action(G_ACTION_GROUP(win), "open-recent", g_variant_new_string(uri));
  spin(50);
  g_assert_nonnull(lucy_window_get_last_error(win));
  g_assert_nonnull(strstr(lucy_window_get_last_error(win), "corrupt.tif"));
  /* a file that is not there */
  GFile *missing = g_file_new_for_path("/nonexistent/lucy/missing.tif");
  g_assert_false(lucy_window_open_psf(win, missing, &error));
  g_assert_nonnull(error);
  g_clear_error(&error);
  g_object_unref(missing);
  g_free(uri);
  g_object_unref(file);
  g_unlink(path);
  g_rmdir(dir);
  g_free(path);
  g_free(dir);
  close_window(win);
}

/* ---- lucy --screenshot, checked by regions ------------------------------------------------ */

static guint8 *load_png(const char *path, int *w, int *h) {
  GError *error = NULL;
  GdkTexture *tex = gdk_texture_new_from_filename(path, &error);
  g_assert_no_error(error);
  *w = gdk_texture_get_width(tex);
  *h = gdk_texture_get_height(tex);
  guint8 *pix = g_malloc((gsize)*w * *h * 4);
  gdk_texture_download(tex, pix, (gsize)*w * 4);
  g_object_unref(tex);
  return pix;
}

/* mean luminance (0..255) of a rectangle, and the fraction of pixels brighter than 128 */
static double region_mean(const guint8 *pix, int w, int x0, int y0, int x1, int y1,
                          double *bright_frac) {
  double sum = 0;
  long n = 0, bright = 0;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++) {
      const guint8 *p = pix + ((gsize)y * w + x) * 4;
      double l = 0.299 * p[2] + 0.587 * p[1] + 0.114 * p[0];
      sum += l;
      bright += l > 128;
      n++;
    }
  if (bright_frac) *bright_frac = (double)bright / MAX(n, 1);
  return sum / MAX(n, 1);
}

static void run_lucy(const char *const *args, int *status, char **err) {
  const char *exe = g_getenv("LUCY_GUI");
  g_assert_nonnull(exe);
  GPtrArray *argv = g_ptr_array_new();
  g_ptr_array_add(argv, (gpointer)exe);
  for (int i = 0; args[i]; i++) g_ptr_array_add(argv, (gpointer)args[i]);
  g_ptr_array_add(argv, NULL);
  GError *error = NULL;
  g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL,
                             err, status, &error));
  g_assert_no_error(error);
  g_ptr_array_free(argv, TRUE);
}

/* Runs lucy ARGS: it must exit with want_status and, when want is not NULL, say it on stderr. */
static void run_lucy_expect(const char *const *args, int want_status, const char *want) {
  int status;
  char *err = NULL;
  run_lucy(args, &status, &err);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != want_status || want) g_test_message("%s", err);
  g_assert_true(WIFEXITED(status));
  g_assert_cmpint(WEXITSTATUS(status), ==, want_status);
  if (want) g_assert_nonnull(strstr(err, want));
  g_free(err);
}

static void test_screenshot(void) {
  char *dir = g_dir_make_tmp("lucy-shot-XXXXXX", NULL);
  char *png_c = g_build_filename(dir, "circular.png", NULL);
  char *png_f = g_build_filename(dir, "full.png", NULL);
  char *png_i = g_build_filename(dir, "image.png", NULL);
  const char *a1[] = {"--run", "--mode", "circular", "--view", "result", "--screenshot", png_c, NULL};
  run_lucy_expect(a1, 0, NULL);
  const char *a2[] = {"--run", "--mode", "full", "--screenshot", png_f, NULL};
  run_lucy_expect(a2, 0, NULL);
  const char *a3[] = {"--screenshot", png_i, NULL};
  run_lucy_expect(a3, 0, NULL);

  int w, h;
  guint8 *pc = load_png(png_c, &w, &h);
  g_assert_cmpint(w, >=, 1000);
  g_assert_cmpint(h, >=, 700);
  /* header bar at the top and the sidebar on the left are light (default theme) */
  g_assert_cmpfloat(region_mean(pc, w, w / 3, 2, 2 * w / 3, 30, NULL), >, 150);
  g_assert_cmpfloat(region_mean(pc, w, 10, h / 2, 250, h / 2 + 100, NULL), >, 150);
  /* the view's background is dark, right of the panels */
  g_assert_cmpfloat(region_mean(pc, w, w - 60, h - 200, w - 20, h - 100, NULL), <, 60);
  /* the XY panel holds blurred spheres: some bright, mostly dark */
  double frac;
  double mean = region_mean(pc, w, 460, 80, 840, 440, &frac);
  g_assert_cmpfloat(mean, >, 10);
  g_assert_cmpfloat(mean, <, 150);
  g_assert_cmpfloat(frac, >, 0.01);

  /* full mode grows the result, so at the same window size the projections shrink on screen:
   * the blurred result is darker per area than the sharp image, and differs from circular */
  int w2, h2;
  guint8 *pf = load_png(png_f, &w2, &h2);
  g_assert_cmpint(w2, ==, w);
  g_assert_cmpint(h2, ==, h);
  long differing = 0;
  for (int y = 60; y < h - 40; y += 3)
    for (int x = 360; x < w - 10; x += 3) {
      const guint8 *p = pc + ((gsize)y * w + x) * 4, *q = pf + ((gsize)y * w + x) * 4;
      if (abs(p[1] - q[1]) > 40) differing++;
    }
  g_assert_cmpint(differing, >, 200);
  int w3, h3;
  guint8 *pi = load_png(png_i, &w3, &h3);
  double frac_img;
  region_mean(pi, w3, 460, 80, 840, 440, &frac_img);
  g_assert_cmpfloat(frac_img, >, frac); /* sharp spheres are brighter over more area */

  /* a bad mode is refused with a message and exit status 2 */
  const char *a4[] = {"--mode", "sideways", "--screenshot", png_i, NULL};
  run_lucy_expect(a4, 2, "sideways");
  g_free(pc);
  g_free(pf);
  g_free(pi);
  g_unlink(png_c);
  g_unlink(png_f);
  g_unlink(png_i);
  g_rmdir(dir);
  g_free(png_c);
  g_free(png_f);
  g_free(png_i);
  g_free(dir);
}

/* pixels of a B, G, R, A picture in a rectangle for which pred holds */
static long count_pixels(const guint8 *pix, int w, int x0, int y0, int x1, int y1,
                         gboolean (*pred)(const guint8 *p)) {
  long n = 0;
  for (int y = y0; y < y1; y++)
    for (int x = x0; x < x1; x++) n += pred(pix + ((gsize)y * w + x) * 4);
  return n;
}
static gboolean is_near_black(const guint8 *p) { return p[0] < 25 && p[1] < 25 && p[2] < 25; }
static gboolean is_reddish(const guint8 *p) { return p[2] > 170 && p[1] < 130 && p[0] < 130; }
static gboolean is_plot_blue(const guint8 *p) { return p[0] > 190 && p[2] < 90; }
/* the OTF view's cutoff colour, (0.35, 0.85, 1.0) at 95 % */
static gboolean is_cutoff_cyan(const guint8 *p) {
  return p[0] > 200 && p[1] > 170 && p[2] < 150;
}

/* lucy --window compare|psf-qa --screenshot: the windows render themselves once their content
 * is computed (the README's pictures are made this way); a bad --window is a usage error. */
static void test_screenshot_windows(void) {
  char *dir = g_dir_make_tmp("lucy-shot-XXXXXX", NULL);
  char *png_c = g_build_filename(dir, "compare.png", NULL);
  char *png_q = g_build_filename(dir, "psf-qa.png", NULL);
  char *psf_path = g_build_filename(dir, "bw.tif", NULL);
  LucyPsfOptics o;
  lucy_psf_optics_default(&o);
  o.na = 1.4, o.wavelength_um = 0.52, o.ni = 1.515, o.dxy_um = 0.05, o.dz_um = 0.1;
  const size_t shape[3] = {25, 49, 49};
  LucyVolume *bw = NULL;
  g_assert_cmpint(lucy_psf_model(LUCY_PSF_BORN_WOLF, shape, &o, &bw), ==, LUCY_OK);
  g_assert_cmpint(lucy_tiff_write(psf_path, bw, NULL), ==, LUCY_OK);
  lucy_volume_free(bw);

  /* compare: the wrap-around sample, without files */
  const char *a1[] = {"--window", "compare", "--screenshot", png_c, NULL};
  run_lucy_expect(a1, 0, NULL);
  int w, h;
  guint8 *pc = load_png(png_c, &w, &h);
  g_assert_cmpint(w, >=, 1400);
  g_assert_cmpint(h, >=, 550);
  double frac;
  const double mean = region_mean(pc, w, 12, 100, 222, 312, &frac); /* circular's XY panel */
  g_test_message("compare: circular panel mean %.1f, bright %.3f; red pixels %ld", mean, frac,
                 count_pixels(pc, w, 880, 90, 1120, 420, is_reddish));
  g_assert_cmpfloat(mean, >, 5);
  g_assert_cmpfloat(mean, <, 120);
  g_assert_cmpfloat(frac, >, 0.01);                                  /* spheres */
  g_assert_cmpfloat(region_mean(pc, w, w - 340, 60, w - 20, 500, NULL), >, 170); /* the text */
  g_assert_cmpint(count_pixels(pc, w, 880, 90, 1120, 420, is_reddish), >, 200); /* ghosts */

  /* psf-qa: a Born & Wolf PSF file with its optics: numbers, profiles, OTF and cutoff */
  const char *a2[] = {"--window", "psf-qa", psf_path, "--na", "1.4", "--wavelength", "0.52",
                      "--ni", "1.515", "--screenshot", png_q, NULL};
  run_lucy_expect(a2, 0, NULL);
  guint8 *pq = load_png(png_q, &w, &h);
  g_assert_cmpint(w, >=, 1000);
  g_assert_cmpint(h, >=, 700);
  const long black = count_pixels(pq, w, 0, h / 3, w / 2, h, is_near_black);
  const long cyan = count_pixels(pq, w, 0, h / 3, w / 2, h, is_cutoff_cyan);
  const long blue = count_pixels(pq, w, w / 2, 0, w, h, is_plot_blue);
  g_test_message("psf-qa: %ld black (OTF floor), %ld cyan (cutoff), %ld blue (profile data) "
                 "pixels", black, cyan, blue);
  g_assert_cmpfloat(region_mean(pq, w, 10, 40, 500, 340, NULL), >, 170); /* the numbers */
  g_assert_cmpint(black, >, 3000);
  g_assert_cmpint(cyan, >, 150);
  g_assert_cmpint(blue, >, 150);

  const char *b1[] = {"--window", "bogus", "--screenshot", png_c, NULL};
  run_lucy_expect(b1, 2, "unknown window “bogus” (main, compare, psf-qa or points)");
  const char *b2[] = {"--window", "compare", "--na", "1.2", "--screenshot", png_c, NULL};
  run_lucy_expect(b2, 2, "are the theory of --window psf-qa");
  const char *b3[] = {"--window", "psf-qa", "--na", "1.2x", "--screenshot", png_c, NULL};
  run_lucy_expect(b3, 2, "--na “1.2x” is not a number in 0..1.7");
  const char *b4[] = {"--window", "compare", "--run", "--screenshot", png_c, NULL};
  run_lucy_expect(b4, 2, "--run works on the main window");
  g_free(pc);
  g_free(pq);
  g_unlink(png_c);
  g_unlink(png_q);
  g_unlink(psf_path);
  g_rmdir(dir);
  g_free(png_c);
  g_free(png_q);
  g_free(psf_path);
  g_free(dir);
}

/* ---- deconvolution ------------------------------------------------------------------------ */

static void set_decon(LucyWindow *win, LucyDeconMethod method, int iterations) {
  LucyOperationsPanel *panel = lucy_window_get_operations_panel(win);
  LucyDeconOptions o;
  lucy_decon_options_default(&o);
  o.method = method;
  o.iterations = iterations;
  lucy_operations_panel_set_decon(panel, &o);
  LucyDeconOptions back;
  lucy_decon_options_default(&back);
  lucy_operations_panel_get_decon(panel, &back);
  g_assert_cmpint(back.method, ==, method);
  g_assert_cmpint(back.iterations, ==, iterations);
  g_assert_cmpint(back.boundary, ==, LUCY_BOUNDARY_NONCIRCULANT);
  g_assert_cmpint(back.accelerate, ==, 0);
}

/* The window and the settings back to convolution, so later tests start as users do. */
static void restore_convolve(LucyWindow *win) {
  set_decon(win, LUCY_DECON_RL, 50);
  lucy_window_set_operation(win, LUCY_OPERATION_CONVOLVE);
  g_assert_true(lucy_operations_panel_get_padding_visible(lucy_window_get_operations_panel(win)));
}

static double max_abs_difference(const LucyVolume *a, const LucyVolume *b, double *max_b) {
  double d = 0, m = 0;
  for (size_t i = 0; i < lucy_shape_count(a->shape); i++) {
    d = fmax(d, fabs((double)a->data[i] - b->data[i]));
    m = fmax(m, fabs((double)b->data[i]));
  }
  if (max_b) *max_b = m;
  return d;
}

/* Choose Deconvolve (the action its button activates): padding hides, the deconvolution
 * settings show; a few RL iterations run to the end on the demo and give what lucy_deconvolve
 * gives; Wiener runs too; the choices are kept in GSettings. */
static void test_deconvolve_run(void) {
  LucyWindow *win = demo_window();
  LucyOperationsPanel *panel = lucy_window_get_operations_panel(win);
  g_assert_cmpint(lucy_window_get_operation(win), ==, LUCY_OPERATION_CONVOLVE);
  g_assert_true(lucy_operations_panel_get_padding_visible(panel));
  g_assert_false(lucy_operations_panel_get_decon_visible(panel));
  g_assert_true(g_action_group_get_action_enabled(G_ACTION_GROUP(win), "operation"));
  g_action_group_activate_action(G_ACTION_GROUP(win), "operation",
                                 g_variant_new_string("deconvolve"));
  g_assert_cmpint(lucy_window_get_operation(win), ==, LUCY_OPERATION_DECONVOLVE);
  g_assert_false(lucy_operations_panel_get_padding_visible(panel));
  g_assert_true(lucy_operations_panel_get_decon_visible(panel));

  set_decon(win, LUCY_DECON_RL, 6);
  lucy_window_set_preview_every(win, 0);
  RunResult r;
  run_to_end(win, &r);
  g_free(r.message);
  g_assert_cmpuint(lucy_window_get_preview_count(win), ==, 0);
  LucyStack *image = lucy_window_get_stack(win, LUCY_VIEW_IMAGE);
  const LucyVolume *img = lucy_stack_get_volume(image);
  LucyStack *result = lucy_window_get_stack(win, LUCY_VIEW_RESULT);
  g_assert_nonnull(result);
  const LucyVolume *res = lucy_stack_get_volume(result);
  g_assert_cmpmem(res->shape, sizeof res->shape, img->shape, sizeof img->shape);
  for (int a = 0; a < 3; a++) g_assert_cmpfloat(res->voxel_um[a], ==, img->voxel_um[a]);
  double max_img;
  g_assert_cmpfloat(max_abs_difference(res, img, &max_img), >, 1e-3 * max_img);
  g_test_message("result: %s", lucy_stack_get_title(result));
  g_assert_nonnull(strstr(lucy_stack_get_title(result), "RL"));
  g_assert_nonnull(strstr(lucy_stack_get_title(result), "6 iterations"));
  g_assert_cmpint(lucy_window_get_view(win), ==, LUCY_VIEW_RESULT);

  /* the same numbers as the library called here (FFTs on another thread count: float
   * round-off apart) */
  LucyDeconOptions o;
  lucy_decon_options_default(&o);
  o.iterations = 6;
  LucyVolume *ref = NULL;
  int done = 0;
  g_assert_cmpint(lucy_deconvolve(img, lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_PSF)),
                                  &o, &ref, &done),
                  ==, LUCY_OK);
  g_assert_cmpint(done, ==, 6);
  double max_ref, d = max_abs_difference(res, ref, &max_ref);
  g_test_message("app vs lucy_deconvolve: max |diff| %.3g of %.3g", d, max_ref);
  g_assert_cmpfloat(d, <=, 1e-4 * max_ref);
  lucy_volume_free(ref);

  /* the difference view is result − image on the image's grid */
  lucy_window_set_view(win, LUCY_VIEW_DIFFERENCE);
  LucyStack *diff = lucy_window_get_stack(win, LUCY_VIEW_DIFFERENCE);
  g_assert_nonnull(diff);
  const LucyVolume *dv = lucy_stack_get_volume(diff);
  g_assert_cmpmem(dv->shape, sizeof dv->shape, img->shape, sizeof img->shape);
  for (size_t i = 0; i < lucy_shape_count(img->shape); i += 101)
    g_assert_cmpfloat_with_epsilon(dv->data[i], res->data[i] - img->data[i], 1e-5);

  /* one-step Wiener */
  set_decon(win, LUCY_DECON_WIENER, 6);
  run_to_end(win, &r);
  g_free(r.message);
  LucyStack *wiener = lucy_window_get_stack(win, LUCY_VIEW_RESULT);
  g_assert_true(wiener != result);
  g_assert_nonnull(strstr(lucy_stack_get_title(wiener), "Wiener"));
  const LucyVolume *wv = lucy_stack_get_volume(wiener);
  g_assert_cmpmem(wv->shape, sizeof wv->shape, img->shape, sizeof img->shape);
  g_assert_cmpfloat(max_abs_difference(wv, img, NULL), >, 1e-3 * max_img);

  /* the choices are settings */
  GSettings *settings = g_settings_new("org.lucy.Lucy");
  g_assert_cmpint(g_settings_get_enum(settings, "operation"), ==, LUCY_OPERATION_DECONVOLVE);
  g_assert_cmpint(g_settings_get_enum(settings, "decon-method"), ==, LUCY_DECON_WIENER);
  g_assert_cmpint(g_settings_get_int(settings, "decon-iterations"), ==, 6);
  /* ... that a new window starts with */
  LucyWindow *second = lucy_window_new(GTK_APPLICATION(app));
  g_assert_cmpint(lucy_window_get_operation(second), ==, LUCY_OPERATION_DECONVOLVE);
  g_assert_true(lucy_operations_panel_get_decon_visible(lucy_window_get_operations_panel(second)));
  lucy_decon_options_default(&o);
  lucy_operations_panel_get_decon(lucy_window_get_operations_panel(second), &o);
  g_assert_cmpint(o.method, ==, LUCY_DECON_WIENER);
  g_assert_cmpint(o.iterations, ==, 6);
  gtk_window_destroy(GTK_WINDOW(second));

  restore_convolve(win);
  g_assert_cmpint(g_settings_get_enum(settings, "operation"), ==, LUCY_OPERATION_CONVOLVE);
  g_object_unref(settings);
  close_window(win);
}

typedef struct {
  guint count;
  int last_iteration;
  gboolean all_running, all_shapes, all_multiples;
  const LucyVolume *image;
} PreviewState;

static void preview_signal_cb(LucyWindow *win, int iteration, PreviewState *p) {
  p->count++;
  p->last_iteration = iteration;
  p->all_running &= lucy_window_is_running(win);
  LucyStack *res = lucy_window_get_stack(win, LUCY_VIEW_RESULT);
  const LucyVolume *v = res ? lucy_stack_get_volume(res) : NULL;
  p->all_shapes &= v && memcmp(v->shape, p->image->shape, sizeof v->shape) == 0;
  p->all_multiples &= iteration % 2 == 0;
}

/* Relative error of a against truth after the best least-squares scaling of a. */
static double scaled_error(const LucyVolume *a, const LucyVolume *truth) {
  double at = 0, aa = 0, tt = 0;
  for (size_t i = 0; i < lucy_shape_count(a->shape); i++) {
    at += (double)a->data[i] * truth->data[i];
    aa += (double)a->data[i] * a->data[i];
    tt += (double)truth->data[i] * truth->data[i];
  }
  double s = at / aa, e = 0;
  for (size_t i = 0; i < lucy_shape_count(a->shape); i++) {
    double d = s * a->data[i] - truth->data[i];
    e += d * d;
  }
  return sqrt(e / tt);
}

/* The demo under Deconvolve is the phantom blurred by the demo PSF with Poisson noise (the
 * sharp phantom would only grow spikes); RL brings it measurably closer to the phantom;
 * switching back shows the phantom; opening another image ends the swapping. */
static void test_demo_deconvolve(void) {
  LucyWindow *win = demo_window();
  g_assert_true(lucy_window_is_demo(win));
  LucyStack *sharp = g_object_ref(lucy_window_get_stack(win, LUCY_VIEW_IMAGE));
  const LucyVolume *truth = lucy_stack_get_volume(sharp);
  lucy_window_set_operation(win, LUCY_OPERATION_DECONVOLVE);
  LucyStack *blurred = lucy_window_get_stack(win, LUCY_VIEW_IMAGE);
  g_assert_true(blurred != sharp);
  g_assert_nonnull(strstr(lucy_stack_get_title(blurred), "blurred"));
  const LucyVolume *img = lucy_stack_get_volume(blurred);
  g_assert_cmpmem(img->shape, sizeof img->shape, truth->shape, sizeof truth->shape);
  /* noisy: not an exact convolution, so some voxels of the blurred image are not smooth */
  double before = scaled_error(img, truth);
  g_assert_cmpfloat(before, >, 0.2);

  set_decon(win, LUCY_DECON_RL, 30);
  lucy_window_set_preview_every(win, 0);
  RunResult r;
  run_to_end(win, &r);
  g_free(r.message);
  double after = scaled_error(lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_RESULT)),
                              truth);
  g_test_message("demo vs phantom: blurred %.3f, RL 30 iterations %.3f", before, after);
  g_assert_cmpfloat(after, <, 0.85 * before);
  /* the panel says the same numbers */
  char *expect = g_strdup_printf("error to the phantom: %.3f → %.3f", before, after);
  const char *shown = lucy_operations_panel_get_result_text(lucy_window_get_operations_panel(win));
  g_test_message("%s", shown);
  g_assert_nonnull(strstr(shown, expect));
  g_free(expect);

  lucy_window_set_operation(win, LUCY_OPERATION_CONVOLVE);
  g_assert_true(lucy_window_get_stack(win, LUCY_VIEW_IMAGE) == sharp);

  LucyVolume *other = NULL;
  const size_t shape[3] = {8, 16, 16};
  g_assert_cmpint(lucy_volume_new(shape, &other), ==, LUCY_OK);
  LucyStack *stack = lucy_stack_new_take(other, "other");
  lucy_window_set_image(win, stack);
  g_assert_false(lucy_window_is_demo(win));
  lucy_window_set_operation(win, LUCY_OPERATION_DECONVOLVE);
  g_assert_true(lucy_window_get_stack(win, LUCY_VIEW_IMAGE) == stack);
  lucy_window_set_operation(win, LUCY_OPERATION_CONVOLVE);
  g_object_unref(stack);
  g_object_unref(sharp);
  close_window(win);
}

/* A budget (bytes) under which the planner tiles the window's pending operation. */
static guint64 tiling_budget(LucyWindow *win, LucyMemoryOp op) {
  const LucyVolume *img = lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_IMAGE));
  const LucyVolume *psf = lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_PSF));
  LucyMemoryRequest req;
  lucy_memory_request_default(&req);
  req.op = op;
  memcpy(req.image_shape, img->shape, sizeof req.image_shape);
  memcpy(req.psf_shape, psf->shape, sizeof req.psf_shape);
  req.preview = op == LUCY_MEMORY_DECONVOLVE;
  LucyMemoryPlan mp;
  g_assert_cmpint(lucy_memory_plan(&req, &mp), ==, LUCY_OK);
  for (size_t budget = mp.low_memory_device_bytes - 1; budget > 1024; budget = budget * 9 / 10) {
    req.free_bytes = budget;
    if (lucy_memory_plan(&req, &mp) == LUCY_OK && mp.strategy == LUCY_STRATEGY_TILED && mp.fits)
      return budget;
  }
  g_assert_not_reached();
  return 0;
}

/* A memory limit below what one plan needs: the text under Run says "tiled" and Run really
 * tiles (it used to fail with a device-memory error): convolution equal to the untiled result
 * to float precision, deconvolution close to it (tiles are blended, not exact). */
static void test_tiled_run(void) {
  LucyWindow *win = demo_window();
  LucyOperationsPanel *panel = lucy_window_get_operations_panel(win);
  lucy_window_set_operation(win, LUCY_OPERATION_CONVOLVE); /* earlier tests' GSettings */
  lucy_window_set_mode(win, LUCY_PAD_SAME);
  const LucyVolume *img = lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_IMAGE));
  const LucyVolume *psf = lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_PSF));
  lucy_window_set_memory_limit(win, tiling_budget(win, LUCY_MEMORY_CONVOLVE));
  g_assert_nonnull(strstr(lucy_operations_panel_get_result_text(panel), "strategy: tiled"));
  RunResult r;
  run_to_end(win, &r);
  g_free(r.message);
  LucyStack *result = lucy_window_get_stack(win, LUCY_VIEW_RESULT);
  g_assert_nonnull(strstr(lucy_stack_get_title(result), "tiled"));
  LucyVolume *ref = NULL;
  g_assert_cmpint(lucy_convolve(img, psf, NULL, &ref), ==, LUCY_OK);
  const LucyVolume *res = lucy_stack_get_volume(result);
  g_assert_cmpmem(res->shape, sizeof res->shape, ref->shape, sizeof ref->shape);
  double max_ref, d = max_abs_difference(res, ref, &max_ref);
  g_test_message("tiled convolution vs untiled: %.3g of %.3g", d, max_ref);
  g_assert_cmpfloat(d, <=, 1e-5 * max_ref);
  lucy_volume_free(ref);

  lucy_window_set_operation(win, LUCY_OPERATION_DECONVOLVE);
  img = lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_IMAGE));
  set_decon(win, LUCY_DECON_RL, 5);
  lucy_window_set_memory_limit(win, tiling_budget(win, LUCY_MEMORY_DECONVOLVE));
  g_assert_nonnull(strstr(lucy_operations_panel_get_result_text(panel), "strategy: tiled"));
  run_to_end(win, &r);
  g_free(r.message);
  result = lucy_window_get_stack(win, LUCY_VIEW_RESULT);
  g_assert_nonnull(strstr(lucy_stack_get_title(result), "tiled"));
  LucyDeconOptions o;
  lucy_decon_options_default(&o);
  o.iterations = 5;
  int done = 0;
  g_assert_cmpint(lucy_deconvolve(img, psf, &o, &ref, &done), ==, LUCY_OK);
  res = lucy_stack_get_volume(result);
  g_assert_cmpmem(res->shape, sizeof res->shape, ref->shape, sizeof ref->shape);
  double err = scaled_error(lucy_stack_get_volume(result), ref);
  g_test_message("tiled RL (5 iterations) vs untiled: relative %.3g", err);
  g_assert_cmpfloat(err, <, 0.05);
  lucy_volume_free(ref);
  lucy_window_set_memory_limit(win, 0);
  lucy_window_set_operation(win, LUCY_OPERATION_CONVOLVE);
  close_window(win);
}

/* The estimate shows in the Result view every few iterations while RL runs; the end result
 * replaces the last preview. */
static void test_deconvolve_preview(void) {
  LucyWindow *win = demo_window();
  lucy_window_set_operation(win, LUCY_OPERATION_DECONVOLVE);
  set_decon(win, LUCY_DECON_RL, 60);
  lucy_window_set_preview_every(win, 2);
  PreviewState p = {0, 0, TRUE, TRUE, TRUE,
                    lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_IMAGE))};
  gulong id = g_signal_connect(win, "preview", G_CALLBACK(preview_signal_cb), &p);
  gint64 t0 = g_get_monotonic_time();
  RunResult r;
  run_to_end(win, &r);
  g_free(r.message);
  g_signal_handler_disconnect(win, id);
  g_test_message("%u previews in %.2f s, the last at iteration %d", p.count,
                 (g_get_monotonic_time() - t0) / 1e6, p.last_iteration);
  g_assert_cmpuint(p.count, >=, 2);
  g_assert_cmpuint(lucy_window_get_preview_count(win), ==, p.count);
  g_assert_true(p.all_running);
  g_assert_true(p.all_shapes);
  g_assert_true(p.all_multiples);
  g_assert_cmpint(p.last_iteration, <=, 60);
  /* the first preview switched to the Result view; the final result replaced the estimate */
  g_assert_cmpint(lucy_window_get_view(win), ==, LUCY_VIEW_RESULT);
  LucyStack *result = lucy_window_get_stack(win, LUCY_VIEW_RESULT);
  g_assert_nonnull(strstr(lucy_stack_get_title(result), "60 iterations"));
  restore_convolve(win);
  close_window(win);
}

/* Cancel a long deconvolution: it stops within about an iteration, the previews go and the
 * result from before comes back, the main loop keeps turning; closing mid-run is safe. */
static void test_deconvolve_cancel(void) {
  LucyWindow *win = demo_window();
  const size_t shape[3] = {64, 256, 256};
  LucyVolume *vol = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &vol), ==, LUCY_OK);
  for (int a = 0; a < 3; a++) vol->voxel_um[a] = a == 0 ? 0.3 : 0.1;
  g_assert_cmpint(lucy_phantom_random_spheres(vol, 40, 3, 12, 1.0, 7, NULL), ==, LUCY_OK);
  for (size_t i = 0; i < lucy_shape_count(shape); i++) vol->data[i] += 0.01f;
  LucyStack *big = lucy_stack_new_take(vol, "big");
  lucy_window_set_image(win, big);
  g_object_unref(big);
  GError *error = NULL;
  g_assert_true(lucy_window_use_default_psf(win, &error));
  g_assert_no_error(error);
  lucy_window_set_operation(win, LUCY_OPERATION_DECONVOLVE);
  set_decon(win, LUCY_DECON_RL, 100000);
  lucy_window_set_preview_every(win, 1);
  g_assert_null(lucy_window_get_stack(win, LUCY_VIEW_RESULT));

  CancelState s = {win, 0, FALSE, 0, 0, 0};
  guint timer = g_timeout_add(20, tick_cb, &s);
  PreviewState p = {0, 0, TRUE, TRUE, TRUE, lucy_stack_get_volume(big)};
  gulong pid = g_signal_connect(win, "preview", G_CALLBACK(preview_signal_cb), &p);
  RunResult r = {0};
  gulong id = g_signal_connect(win, "run-finished", G_CALLBACK(run_finished_cb), &r);
  gint64 t0 = g_get_monotonic_time();
  g_assert_true(lucy_window_run(win));
  /* let it plan and iterate a while (a preview or 10 s), then cancel */
  gint64 end = t0 + 10 * G_USEC_PER_SEC;
  while (p.count == 0 && !r.done && g_get_monotonic_time() < end)
    g_main_context_iteration(NULL, FALSE), g_usleep(500);
  spin(300);
  g_assert_false(r.done);
  g_assert_true(lucy_window_is_running(win));
  lucy_window_cancel(win);
  gint64 t_cancel = g_get_monotonic_time();
  g_assert_true(wait_for_flag(&r.done, 60000));
  gint64 t1 = g_get_monotonic_time();
  g_signal_handler_disconnect(win, id);
  g_signal_handler_disconnect(win, pid);
  g_source_remove(timer);
  g_test_message("cancelled after %.2f s (%u previews, the last at iteration %d); stopped "
                 "%.3f s after Cancel; main loop: %u ticks, longest gap %.0f ms",
                 (t_cancel - t0) / 1e6, p.count, p.last_iteration, (t1 - t_cancel) / 1e6,
                 s.ticks, s.max_gap / 1e3);
  g_assert_false(r.ok);
  g_assert_true(r.cancelled);
  g_assert_false(lucy_window_is_running(win));
  g_assert_true(p.all_shapes);
  /* an iteration at this size takes well under a second on two cores */
  g_assert_cmpint(t1 - t_cancel, <, 3 * G_USEC_PER_SEC);
  g_assert_null(lucy_window_get_stack(win, LUCY_VIEW_RESULT));
  g_assert_cmpuint(s.ticks, >=, 3);
  g_assert_cmpint(s.max_gap, <, 750 * 1000);
  g_free(r.message);

  /* closing the window during a run cancels it without a crash */
  g_assert_true(lucy_window_run(win));
  spin(300);
  restore_convolve(win);
  close_window(win);
  spin(1500);
}

/* lucy --operation deconvolve --iterations N --run: the screenshot shows the result; bad
 * values are refused with exit status 2. */
static void test_deconvolve_screenshot(void) {
  char *dir = g_dir_make_tmp("lucy-shot-XXXXXX", NULL);
  char *png = g_build_filename(dir, "decon.png", NULL);
  int status;
  char *err = NULL;
  const char *a1[] = {"--operation", "deconvolve", "--iterations", "5", "--run", "--view",
                      "result", "--screenshot", png, NULL};
  run_lucy(a1, &status, &err);
  if (!g_spawn_check_wait_status(status, NULL)) g_printerr("%s", err);
  g_assert_true(g_spawn_check_wait_status(status, NULL));
  g_free(err);
  int w, h;
  guint8 *pix = load_png(png, &w, &h);
  g_assert_cmpint(w, >=, 1000);
  g_assert_cmpint(h, >=, 700);
  /* the XY panel holds the restored spheres: some bright, mostly dark */
  double frac;
  double mean = region_mean(pix, w, 460, 80, 840, 440, &frac);
  g_assert_cmpfloat(mean, >, 2);
  g_assert_cmpfloat(mean, <, 150);
  g_assert_cmpfloat(frac, >, 0.005);
  g_free(pix);
  const char *bad[][6] = {
      {"--operation", "sharpen", "--screenshot", png, NULL},
      {"--operation", "deconvolve", "--iterations", "0", "--screenshot", png},
      {"--method", "lucy", "--screenshot", png, NULL},
  };
  const char *says[] = {"sharpen", "--iterations", "lucy"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    const char *args[7] = {NULL};
    for (int k = 0; k < 6 && bad[i][k]; k++) args[k] = bad[i][k];
    run_lucy(args, &status, &err);
    g_assert_false(g_spawn_check_wait_status(status, NULL));
    g_assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 2);
    g_assert_nonnull(strstr(err, says[i]));
    g_free(err);
  }
  g_unlink(png);
  g_rmdir(dir);
  g_free(png);
  g_free(dir);
}

/* Without a D-Bus session (plain Xvfb) GTK warns once that it has no session bus: not fatal. */
static gboolean log_fatal_cb(const char *domain, GLogLevelFlags level, const char *message,
                             gpointer data) {
  if (message && strstr(message, "session bus")) return FALSE;
  return TRUE;
}

/* ---- point clouds ------------------------------------------------------------------------- */

static void points_computed_cb(LucyPointsView *view, gboolean ok, gboolean *done) { *done = TRUE; }

static void points_wait(LucyPointsView *view) {
  gboolean done = FALSE;
  gulong id = g_signal_connect(view, "computed", G_CALLBACK(points_computed_cb), &done);
  if (lucy_points_view_is_busy(view)) g_assert_true(wait_for_flag(&done, 60000));
  g_signal_handler_disconnect(view, id);
  g_assert_false(lucy_points_view_is_busy(view));
  g_assert_null(lucy_points_view_get_last_error(view));
  spin(100);
}

static guint8 *points_pixels(LucyPointsView *view, int *tw) {
  GError *error = NULL;
  GdkTexture *tex = NULL;
  for (int i = 0; i < 100 && !tex; i++) {
    spin(30);
    g_clear_error(&error);
    tex = lucy_widget_render_texture(lucy_points_view_get_canvas(view), &error);
  }
  g_assert_no_error(error);
  *tw = gdk_texture_get_width(tex);
  guint8 *pix = g_malloc((gsize)*tw * gdk_texture_get_height(tex) * 4);
  gdk_texture_download(tex, pix, (gsize)*tw * 4); /* B, G, R, A */
  g_object_unref(tex);
  return pix;
}

static gboolean is_cyan(const guint8 *p) { return p[2] < 100 && p[1] > 150 && p[0] > 150; }

static void test_points(void) {
  /* three points on voxel centres of a 64-grid, far apart relative to sigma */
  const int n = 64;
  const double h = 2 * G_PI / n, sigma = 0.2;
  const int vx[3] = {10, 40, 25}, vy[3] = {20, 12, 50};
  const double w[3] = {1, 3, 2};
  char *dir = g_dir_make_tmp("lucy-points-XXXXXX", NULL);
  char *csv = g_build_filename(dir, "pts.csv", NULL);
  GString *text = g_string_new("x,y,w\n");
  for (int i = 0; i < 3; i++) g_string_append_printf(text, "%.17g,%.17g,%g\n", vx[i] * h, vy[i] * h, w[i]);
  g_assert_true(g_file_set_contents(csv, text->str, -1, NULL));
  g_string_free(text, TRUE);

  LucyPointsView *view = NULL;
  GtkWindow *win = lucy_points_view_new_window(NULL, &view);
  gtk_window_set_default_size(win, 760, 820);
  gtk_window_present(win);
  lucy_points_view_set_grid_size(view, n);
  lucy_points_view_set_sigma(view, sigma);
  GError *error = NULL;
  g_assert_true(lucy_points_view_load_csv(view, csv, &error));
  g_assert_no_error(error);
  points_wait(view);

  /* the gridded convolution: size, peaks at the points with the kernel's unnormalised height */
  int gn = 0;
  const float *img = lucy_points_view_get_image(view, &gn);
  g_assert_nonnull(img);
  g_assert_cmpint(gn, ==, n);
  size_t imax = 0;
  for (size_t i = 1; i < (size_t)n * n; i++)
    if (img[i] > img[imax]) imax = i;
  g_assert_cmpint((int)(imax / n), ==, vy[1]);
  g_assert_cmpint((int)(imax % n), ==, vx[1]);
  size_t count = 0;
  const double *val = lucy_points_view_get_values(view, &count);
  g_assert_cmpuint(count, ==, 3);
  for (int i = 0; i < 3; i++) {
    const float peak = img[vy[i] * n + vx[i]];
    g_assert_cmpfloat(fabs(peak - w[i]), <, 1e-3);
    g_assert_cmpfloat(fabs(val[i] - w[i]), <, 1e-3);
    for (int d = -3; d <= 3; d++)
      for (int e = -3; e <= 3; e++)
        if (d || e) g_assert_cmpfloat(img[((vy[i] + d + n) % n) * n + (vx[i] + e + n) % n], <, peak);
  }

  /* markers: cyan rings at the points, larger for larger values; gone when switched off */
  double mx[3], my[3], mr[3];
  for (int i = 0; i < 3; i++) g_assert_true(lucy_points_view_get_marker(view, i, &mx[i], &my[i], &mr[i]));
  g_assert_cmpfloat(mr[1], >, mr[2]);
  g_assert_cmpfloat(mr[2], >, mr[0]);
  int tw;
  guint8 *pix = points_pixels(view, &tw);
  for (int i = 0; i < 3; i++) {
    const int px = (int)lround(mx[i] + mr[i] - 0.5), py = (int)floor(my[i]); /* on the ring */
    g_assert_true(is_cyan(pix + ((gsize)py * tw + px) * 4));
  }
  /* the image under the markers: the brightest voxel's colour at the strongest point */
  lucy_points_view_set_show_markers(view, FALSE);
  g_free(pix);
  pix = points_pixels(view, &tw);
  for (int i = 0; i < 3; i++) {
    const int px = (int)lround(mx[i] + mr[i] - 0.5), py = (int)floor(my[i]); /* on the ring */
    g_assert_false(is_cyan(pix + ((gsize)py * tw + px) * 4));
  }
  const guint8 *c = pix + ((gsize)(int)my[1] * tw + (int)mx[1]) * 4;
  g_assert_cmpint(c[2], >, 240); /* the colour map's top: pale yellow */
  g_assert_cmpint(c[1], >, 240);
  g_free(pix);
  lucy_points_view_set_show_markers(view, TRUE);

  /* grid size control */
  lucy_points_view_set_grid_size(view, 96);
  points_wait(view);
  lucy_points_view_get_image(view, &gn);
  g_assert_cmpint(gn, ==, 96);

  /* docs/screenshot-points.png: LUCY_POINTS_SCREENSHOT=path, a cloud of clustered points */
  const char *shot = g_getenv("LUCY_POINTS_SCREENSHOT");
  if (shot) {
    GRand *rng = g_rand_new_with_seed(7);
    text = g_string_new("x,y,w\n");
    for (int k = 0; k < 6; k++) {
      const double cx = g_rand_double_range(rng, 0.6, 5.6), cy = g_rand_double_range(rng, 0.6, 5.6);
      const int m = g_rand_int_range(rng, 4, 14);
      for (int j = 0; j < m; j++)
        g_string_append_printf(text, "%.6f,%.6f,%.3f\n", cx + 0.25 * (g_rand_double(rng) - 0.5) * 2,
                               cy + 0.25 * (g_rand_double(rng) - 0.5) * 2,
                               g_rand_double_range(rng, 0.5, 1.5));
    }
    for (int j = 0; j < 12; j++)
      g_string_append_printf(text, "%.6f,%.6f,1\n", g_rand_double_range(rng, 0, 2 * G_PI),
                             g_rand_double_range(rng, 0, 2 * G_PI));
    g_rand_free(rng);
    g_assert_true(g_file_set_contents(csv, text->str, -1, NULL));
    g_string_free(text, TRUE);
    lucy_points_view_set_grid_size(view, 256);
    lucy_points_view_set_sigma(view, 0.12);
    points_wait(view);
    g_assert_true(lucy_points_view_load_csv(view, csv, &error));
    points_wait(view);
    g_assert_true(lucy_widget_save_png(GTK_WIDGET(win), shot, &error));
    g_assert_no_error(error);
  }
  /* closing while a convolution runs: its result is dropped */
  lucy_points_view_set_grid_size(view, 512);
  g_assert_true(lucy_points_view_is_busy(view));
  gtk_window_destroy(win);
  spin(1500);
  g_unlink(csv);
  g_rmdir(dir);
  g_free(csv);
  g_free(dir);
}

/* Open ▸ Point Clouds… opens a window with a Points view */
static void test_points_action(void) {
  LucyWindow *win = lucy_window_new(GTK_APPLICATION(app));
  gtk_window_present(GTK_WINDOW(win));
  spin(50);
  GListModel *tops = gtk_window_get_toplevels();
  const guint before = g_list_model_get_n_items(tops);
  g_action_group_activate_action(G_ACTION_GROUP(win), "points", NULL);
  spin(100);
  g_assert_cmpuint(g_list_model_get_n_items(tops), ==, before + 1);
  GtkWindow *pw = NULL;
  for (guint i = 0; i < g_list_model_get_n_items(tops) && !pw; i++) {
    GtkWindow *w = g_list_model_get_item(tops, i);
    if (LUCY_IS_POINTS_VIEW(gtk_window_get_child(w))) pw = w;
    g_object_unref(w);
  }
  g_assert_nonnull(pw);
  g_assert_true(gtk_window_get_transient_for(pw) == GTK_WINDOW(win));
  gtk_window_destroy(pw);
  close_window(win);
}

/* Compare (Ctrl+M): the four padding modes on the wrap-around sample; panel sizes are the modes'
 * sizes, same is full cropped, circular - same is zero exactly inside the valid region. */
static void compare_computed_cb(LucyCompareView *view, gboolean ok, gboolean *done) {
  *done = TRUE;
}

static void compare_wait(LucyCompareView *view) {
  gboolean done = !lucy_compare_view_is_busy(view);
  gulong id = g_signal_connect(view, "computed", G_CALLBACK(compare_computed_cb), &done);
  g_assert_true(wait_for_flag(&done, 120000));
  g_signal_handler_disconnect(view, id);
  g_assert_null(lucy_compare_view_get_last_error(view));
  spin(100);
}

static void test_compare(void) {
  LucyWindow *win = lucy_window_new(GTK_APPLICATION(app));
  gtk_window_present(GTK_WINDOW(win));
  spin(50);
  GListModel *tops = gtk_window_get_toplevels();
  const guint before = g_list_model_get_n_items(tops);
  g_action_group_activate_action(G_ACTION_GROUP(win), "compare", NULL);
  spin(100);
  g_assert_cmpuint(g_list_model_get_n_items(tops), ==, before + 1);
  GtkWindow *cw = NULL;
  for (guint i = 0; i < g_list_model_get_n_items(tops) && !cw; i++) {
    GtkWindow *w = g_list_model_get_item(tops, i);
    if (LUCY_IS_COMPARE_VIEW(gtk_window_get_child(w))) cw = w;
    g_object_unref(w);
  }
  g_assert_nonnull(cw);
  g_assert_true(gtk_window_get_transient_for(cw) == GTK_WINDOW(win));
  LucyCompareView *view = LUCY_COMPARE_VIEW(gtk_window_get_child(cw));
  g_assert_null(lucy_compare_view_get_compare(view)); /* no image in the main window */
  char **accels = gtk_application_get_accels_for_action(GTK_APPLICATION(app), "win.compare");
  guint key = 0;
  GdkModifierType mods = 0;
  g_assert_true(accels && accels[0] && gtk_accelerator_parse(accels[0], &key, &mods));
  g_assert_cmpuint(key, ==, GDK_KEY_m);
  g_assert_cmpuint(mods, ==, GDK_CONTROL_MASK);
  g_strfreev(accels);

  GError *error = NULL;
  g_assert_true(lucy_compare_view_load_sample(view, &error));
  g_assert_no_error(error);
  g_assert_true(lucy_compare_view_is_busy(view));
  compare_wait(view);
  const LucyCompare *c = lucy_compare_view_get_compare(view);
  g_assert_nonnull(c);
  const size_t *N = c->out_shape[LUCY_PAD_CIRCULAR];
  const size_t *F = c->out_shape[LUCY_PAD_FULL];
  g_assert_cmpuint(N[0], ==, 24);
  g_assert_cmpuint(N[1], ==, 96);
  g_assert_cmpuint(N[2], ==, 96);
  /* the five panels' data: XY projections of the modes' outputs, the difference on the image grid */
  for (int i = 0; i < LUCY_COMPARE_N_PANELS; i++) {
    int w, h;
    g_assert_nonnull(lucy_compare_view_get_panel(view, i, &w, &h));
    const size_t *s = i < 4 ? c->out_shape[i] : N;
    g_assert_cmpint(w, ==, (int)s[2]);
    g_assert_cmpint(h, ==, (int)s[1]);
    if (i < 4) {
      g_assert_nonnull(c->out[i]);
      g_assert_cmpmem(c->out[i]->shape, sizeof c->out[i]->shape, s, 3 * sizeof(size_t));
    }
  }
  g_assert_cmpuint(F[1], >, N[1]);
  g_assert_cmpuint(c->out_shape[LUCY_PAD_VALID][1], <, N[1]);
  for (int a = 0; a < 3; a++) g_assert_cmpuint(c->out_shape[LUCY_PAD_VALID][a], ==, c->valid_shape[a]);
  /* same is full cropped (at same's valid start relative to full's) */
  const LucyVolume *same = c->out[LUCY_PAD_SAME], *full = c->out[LUCY_PAD_FULL];
  ptrdiff_t off[3];
  for (int a = 0; a < 3; a++)
    off[a] = c->valid_start[LUCY_PAD_FULL][a] - c->valid_start[LUCY_PAD_SAME][a];
  float smax = 0;
  for (size_t i = 0; i < N[0] * N[1] * N[2]; i++) smax = MAX(smax, same->data[i]);
  g_assert_cmpfloat(smax, >, 0.1);
  for (size_t z = 0; z < N[0]; z++)
    for (size_t y = 0; y < N[1]; y++)
      for (size_t x = 0; x < N[2]; x++) {
        const float a = same->data[(z * N[1] + y) * N[2] + x];
        const float b = full->data[((z + off[0]) * F[1] + y + off[1]) * F[2] + x + off[2]];
        g_assert_cmpfloat(fabsf(a - b), <=, 1e-5f * smax);
      }
  /* circular - same: zero inside the valid region, ghosts outside */
  double inside = 0, outside = 0;
  for (size_t z = 0; z < N[0]; z++)
    for (size_t y = 0; y < N[1]; y++)
      for (size_t x = 0; x < N[2]; x++) {
        const size_t p[3] = {z, y, x};
        gboolean in = TRUE;
        for (int a = 0; a < 3; a++)
          in &= (ptrdiff_t)p[a] >= c->valid_start[LUCY_PAD_SAME][a] &&
                (ptrdiff_t)p[a] < c->valid_start[LUCY_PAD_SAME][a] + (ptrdiff_t)c->valid_shape[a];
        const double d = fabs(c->diff->data[(z * N[1] + y) * N[2] + x]);
        if (in)
          inside = MAX(inside, d);
        else
          outside = MAX(outside, d);
      }
  g_assert_cmpfloat(inside, <=, 1e-5 * smax);
  g_assert_cmpfloat(outside, >, 0.05 * smax);
  /* all five panels laid out at one scale, left to right, on screen */
  double s0 = 0;
  graphene_rect_t prev;
  for (int i = 0; i < LUCY_COMPARE_N_PANELS; i++) {
    graphene_rect_t r;
    double s;
    g_assert_true(lucy_compare_view_get_panel_rect(view, i, &r, &s));
    if (i == 0) s0 = s;
    g_assert_cmpfloat(s, ==, s0);
    g_assert_cmpfloat(s, >=, 1.0);
    int w, h;
    lucy_compare_view_get_panel(view, i, &w, &h);
    g_assert_cmpfloat(fabs(r.size.width - w * s), <, 0.01);
    if (i) g_assert_cmpfloat(r.origin.x, >=, prev.origin.x + prev.size.width);
    g_assert_cmpfloat(r.origin.x + r.size.width, <=,
                      gtk_widget_get_width(lucy_compare_view_get_canvas(view)));
    prev = r;
  }
  g_assert_true(strstr(gtk_label_get_text(lucy_compare_view_get_explanation(view)), "valid"));

  gtk_window_destroy(cw);

  /* on the main window's image and PSF: the demo; closing while it runs drops the result */
  g_assert_true(lucy_window_load_demo(win, &error));
  g_assert_no_error(error);
  g_action_group_activate_action(G_ACTION_GROUP(win), "compare", NULL);
  spin(20);
  cw = NULL;
  for (guint i = 0; i < g_list_model_get_n_items(tops) && !cw; i++) {
    GtkWindow *w = g_list_model_get_item(tops, i);
    if (LUCY_IS_COMPARE_VIEW(gtk_window_get_child(w))) cw = w;
    g_object_unref(w);
  }
  g_assert_nonnull(cw);
  g_assert_true(lucy_compare_view_is_busy(LUCY_COMPARE_VIEW(gtk_window_get_child(cw))));
  gtk_window_destroy(cw);
  spin(1500);
  close_window(win);
}

/* ---- PSF dialog models and the PSF QA panel ------------------------------------------------ */

typedef struct {
  LucyStack *stack;
  char *error;
  gboolean done;
} PsfGen;

static void psf_gen_cb(LucyPsfDialog *d, LucyStack *s, PsfGen *g) {
  g->stack = g_object_ref(s);
  g->done = TRUE;
}
static void psf_fail_cb(LucyPsfDialog *d, const char *msg, PsfGen *g) {
  g_free(g->error);
  g->error = g_strdup(msg);
  g->done = TRUE;
}

static void destroy_message_dialogs(void) {
  GListModel *tops = gtk_window_get_toplevels();
  for (guint i = g_list_model_get_n_items(tops); i-- > 0;) {
    GtkWindow *w = g_list_model_get_item(tops, i);
    if (GTK_IS_MESSAGE_DIALOG(w)) gtk_window_destroy(w);
    g_object_unref(w);
  }
  spin(20);
}

static LucyPsfPanel *psf_qa_open(LucyWindow *win, GtkWindow **qa) {
  GListModel *tops = gtk_window_get_toplevels();
  const guint before = g_list_model_get_n_items(tops);
  g_action_group_activate_action(G_ACTION_GROUP(win), "psf-qa", NULL);
  spin(100);
  g_assert_cmpuint(g_list_model_get_n_items(tops), ==, before + 1);
  *qa = NULL;
  for (guint i = 0; i < g_list_model_get_n_items(tops) && !*qa; i++) {
    GtkWindow *w = g_list_model_get_item(tops, i);
    if (LUCY_IS_PSF_PANEL(gtk_window_get_child(w))) *qa = w;
    g_object_unref(w);
  }
  g_assert_nonnull(*qa);
  g_assert_true(gtk_window_get_transient_for(*qa) == GTK_WINDOW(win));
  return LUCY_PSF_PANEL(gtk_window_get_child(*qa));
}

static void offset_shown(LucyPsfPanel *panel, double off[3]) {
  const char *text = lucy_psf_panel_get_text(panel, "offset");
  g_assert_nonnull(text);
  g_test_message("offset shown: %s", text);
  static const char *keys[3] = {"z ", "y ", "x "};
  for (int a = 0; a < 3; a++) {
    const char *at = strstr(text, keys[a]);
    g_assert_nonnull(at);
    char *end = NULL;
    off[a] = g_ascii_strtod(at + 2, &end);
    g_assert_true(end > at + 2);
  }
}

static void count_notify_cb(GObject *obj, GParamSpec *pspec, guint *count) { (*count)++; }

static void done_cb(gpointer obj, gboolean ok, gboolean *done) { *done = TRUE; }

/* Iterates the main loop until obj emits its "done" signal (one gboolean ok argument) for the
 * work in its worker thread; at once when it was not busy. */
static void wait_for_done(gpointer obj, const char *signal, gboolean busy) {
  gboolean done = !busy;
  const gulong id = g_signal_connect(obj, signal, G_CALLBACK(done_cb), &done);
  g_assert_true(wait_for_flag(&done, 120000));
  g_signal_handler_disconnect(obj, id);
}

static void otf_wait(LucyOtfView *view) {
  wait_for_done(view, "computed", lucy_otf_view_is_busy(view));
  spin(50);
}

static void measure_wait(LucyPsfPanel *panel) {
  wait_for_done(panel, "measured", lucy_psf_panel_is_measuring(panel));
}

/* The sections of lucy_psf_otf, and where they are drawn: 0 (|OTF| = 1) at DC, the floor far
 * outside the widefield cutoff 2NA/λ, and the cutoff circle (cyan) on screen. */
static void check_otf_view(LucyOtfView *view, const LucyVolume *psf, double na, double lambda) {
  otf_wait(view);
  g_assert_null(lucy_otf_view_get_last_error(view));
  LucyVolume *otf = NULL;
  g_assert_cmpint(lucy_psf_otf(psf, &otf), ==, LUCY_OK);
  const size_t *N = psf->shape;
  const LucyImage *xy = lucy_otf_view_get_section(view, LUCY_OTF_SECTION_XY);
  const LucyImage *xz = lucy_otf_view_get_section(view, LUCY_OTF_SECTION_XZ);
  g_assert_nonnull(xy);
  g_assert_nonnull(xz);
  g_assert_cmpuint(xy->width, ==, N[2]);
  g_assert_cmpuint(xy->height, ==, N[1]);
  g_assert_cmpuint(xz->height, ==, N[0]);
  /* the sections are log10 of the core's OTF through DC */
  for (size_t y = 0; y < N[1]; y++)
    for (size_t x = 0; x < N[2]; x++) {
      const double v = otf->data[((N[0] / 2) * N[1] + y) * N[2] + x];
      g_assert_cmpfloat(fabs(xy->data[y * N[2] + x] - log10(MAX(v, LUCY_OTF_VIEW_FLOOR))), <, 1e-5);
    }
  g_assert_cmpfloat(fabs(xy->data[(N[1] / 2) * N[2] + N[2] / 2]), <, 1e-6);
  g_assert_cmpfloat(fabs(xz->data[(N[0] / 2) * N[2] + N[2] / 2]), <, 1e-6);
  /* beyond 1.2 x 2NA/λ on the kx axis the widefield OTF is at the floor */
  const double kc = 2 * na / lambda, bin = 1 / (N[2] * psf->voxel_um[2]);
  double outside = -10;
  for (size_t x = 0; x < N[2]; x++)
    if (fabs(((double)x - (double)(N[2] / 2)) * bin) > 1.2 * kc)
      outside = MAX(outside, xy->data[(N[1] / 2) * N[2] + x]);
  g_test_message("OTF: max log10 |OTF| beyond 1.2 x cutoff on kx: %.2f", outside);
  g_assert_cmpfloat(outside, <, -3);
  lucy_volume_free(otf);
  /* on screen: the panel, and the dashed cutoff circle where 2NA/λ puts it */
  graphene_rect_t r;
  double s;
  g_assert_true(lucy_otf_view_get_panel_rect(view, LUCY_OTF_SECTION_XY, &r, &s));
  g_assert_cmpfloat(r.size.width, >, 100);
  GError *error = NULL;
  GdkTexture *tex = lucy_widget_render_texture(GTK_WIDGET(view), &error);
  g_assert_no_error(error);
  const int tw = gdk_texture_get_width(tex), th = gdk_texture_get_height(tex);
  guint8 *pix = g_malloc((gsize)tw * th * 4);
  gdk_texture_download(tex, pix, (gsize)tw * 4);
  g_object_unref(tex);
  /* DC is the centre of bin M//2, M//2 + 0.5 bins from the panel's low edge (+k up) */
  const double cx = r.origin.x + (N[2] / 2 + 0.5) * bin * s;
  const double cy = r.origin.y + r.size.height - (N[1] / 2 + 0.5) * s / (N[1] * psf->voxel_um[1]);
  const double R = kc * s;
  int sectors = 0;
  long stray = 0;
  for (int k = 0; k < 36; k++) { /* each 10° sector of the circle holds part of a dash */
    gboolean hit = FALSE;
    for (int a = 10 * k; a < 10 * k + 10 && !hit; a++)
      for (int d = -2; d <= 2 && !hit; d++) {
        const int px = (int)lround(cx + (R + d) * cos(a * G_PI / 180));
        const int py = (int)lround(cy - (R + d) * sin(a * G_PI / 180));
        hit = is_cutoff_cyan(pix + ((gsize)py * tw + px) * 4);
      }
    sectors += hit;
  }
  for (int py = (int)r.origin.y; py < (int)(r.origin.y + r.size.height); py++)
    for (int px = (int)r.origin.x; px < (int)(r.origin.x + r.size.width); px++)
      if (fabs(hypot(px + 0.5 - cx, py + 0.5 - cy) - R) > 4)
        stray += is_cutoff_cyan(pix + ((gsize)py * tw + px) * 4);
  g_test_message("OTF view: cutoff circle of radius %.1f px in %d of 36 sectors, %ld cyan "
                 "pixels elsewhere", R, sectors, stray);
  g_assert_cmpint(sectors, >=, 33);
  g_assert_cmpint(stray, ==, 0);
  g_free(pix);
}

typedef struct {
  gboolean done, ok;
  GError *error;
} FixResult;

static void fix_done_cb(GObject *source, GAsyncResult *res, gpointer data) {
  FixResult *r = data;
  r->ok = lucy_psf_panel_fix_finish(LUCY_PSF_PANEL(source), res, &r->error);
  r->done = TRUE;
}

/* One fix in the panel's worker thread: the main loop runs meanwhile, the buttons wait. */
static gboolean psf_fix(LucyPsfPanel *panel, LucyPsfPanelFix fix, GError **error) {
  FixResult r = {0};
  lucy_psf_panel_fix_async(panel, fix, fix_done_cb, &r);
  g_assert_true(lucy_psf_panel_is_fixing(panel));
  g_assert_false(r.done);
  g_assert_true(wait_for_flag(&r.done, 60000));
  g_assert_false(lucy_psf_panel_is_fixing(panel));
  if (r.error) g_propagate_error(error, r.error);
  return r.ok;
}

/* A fix running while the window's PSF is replaced is cancelled and its result dropped; a
 * second fix while one runs is refused. */
static void check_fix_cancelled(LucyWindow *win, LucyPsfPanel *panel, LucyStack *other) {
  FixResult r = {0}, second = {0};
  lucy_psf_panel_fix_async(panel, LUCY_PSF_FIX_CENTRE_PEAK, fix_done_cb, &r);
  lucy_psf_panel_fix_async(panel, LUCY_PSF_FIX_NORMALISE, fix_done_cb, &second);
  lucy_window_set_psf(win, other); /* before the main loop can see the first fix end */
  g_assert_true(wait_for_flag(&second.done, 10000));
  g_assert_false(second.ok);
  g_assert_nonnull(strstr(second.error->message, "Another fix is still running"));
  g_error_free(second.error);
  g_assert_true(wait_for_flag(&r.done, 60000));
  g_assert_false(r.ok);
  g_assert_error(r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpstr(r.error->message, ==, lucy_psf_panel_get_text(panel, "report"));
  g_assert_nonnull(strstr(r.error->message, "The PSF changed while the fix ran"));
  g_error_free(r.error);
  g_assert_true(lucy_window_get_stack(win, LUCY_VIEW_PSF) == other); /* not the fixed one */
  spin(100);
  g_assert_true(lucy_window_get_stack(win, LUCY_VIEW_PSF) == other);
}

static void test_psf_qa(void) {
  LucyWindow *win = lucy_window_new(GTK_APPLICATION(app));
  gtk_window_present(GTK_WINDOW(win));
  spin(50);
  const double voxel[3] = {0.2, 0.08, 0.08};
  LucyPsfDialog *dialog = lucy_psf_dialog_new(GTK_WINDOW(win), voxel);
  PsfGen gen = {0};
  g_signal_connect(dialog, "generated", G_CALLBACK(psf_gen_cb), &gen);
  g_signal_connect(dialog, "failed", G_CALLBACK(psf_fail_cb), &gen);
  gtk_window_present(GTK_WINDOW(dialog));
  spin(30);

  /* NA >= n: the core's message in an error dialog, the dialog stays */
  const size_t shape[3] = {33, 65, 65};
  lucy_psf_dialog_set_model(dialog, LUCY_PSF_DIALOG_BORN_WOLF);
  lucy_psf_dialog_set_shape(dialog, shape);
  lucy_psf_dialog_set_optics(dialog, 1.45, 0.52, 1.33, 1.33, 0, 0.08, 0.2);
  lucy_psf_dialog_generate(dialog);
  g_assert_true(wait_for_flag(&gen.done, 60000));
  g_assert_null(gen.stack);
  g_assert_nonnull(gen.error);
  g_assert_nonnull(strstr(gen.error, "NA 1.45 must be smaller"));
  g_assert_cmpstr(lucy_psf_dialog_get_last_error(dialog), ==, gen.error);
  destroy_message_dialogs();

  /* Born & Wolf, computed in a thread */
  gen.done = FALSE;
  lucy_psf_dialog_set_optics(dialog, 1.0, 0.52, 1.515, 1.33, 0, 0.08, 0.2);
  lucy_psf_dialog_generate(dialog);
  g_assert_true(lucy_psf_dialog_is_busy(dialog));
  g_assert_true(wait_for_flag(&gen.done, 120000));
  g_assert_nonnull(gen.stack);
  const LucyVolume *bw = lucy_stack_get_volume(gen.stack);
  for (int a = 0; a < 3; a++) g_assert_cmpuint(bw->shape[a], ==, shape[a]);
  g_assert_cmpfloat_with_epsilon(bw->voxel_um[2], 0.08, 1e-12);
  g_assert_cmpfloat_with_epsilon(bw->voxel_um[0], 0.2, 1e-12);
  lucy_window_set_psf(win, gen.stack);

  /* the QA panel shows lucy_psf_measure's numbers, theory from the generating optics */
  GtkWindow *qa = NULL;
  LucyPsfPanel *panel = psf_qa_open(win, &qa);
  measure_wait(panel);
  LucyPsfMeasureOptions mo;
  lucy_psf_measure_options_default(&mo);
  mo.na = 1.0;
  mo.wavelength_um = 0.52;
  mo.ni = 1.515;
  LucyPsfMeasure m;
  g_assert_cmpint(lucy_psf_measure(bw, &mo, &m), ==, LUCY_OK);
  static const char *fields[3] = {"fwhm-z", "fwhm-y", "fwhm-x"};
  for (int a = 0; a < 3; a++) {
    char *want = g_strdup_printf("%.3f µm · %.2f px", m.fit[a].fwhm_um, m.fit[a].fwhm_px);
    g_assert_true(g_str_has_prefix(lucy_psf_panel_get_text(panel, fields[a]), want));
    g_free(want);
  }
  char *want = g_strdup_printf("%.3f µm", m.theory_fwhm_um[2]);
  g_assert_true(g_str_has_prefix(lucy_psf_panel_get_text(panel, "theory-x"), want));
  g_free(want);
  g_assert_nonnull(strstr(lucy_psf_panel_get_text(panel, "theory-x"), "measured/theory"));

  check_otf_view(lucy_psf_panel_get_otf_view(panel), bw, 1.0, 0.52);

  /* centring a shifted Gaussian: the offset shown drops below 0.05 voxel */
  const size_t gshape[3] = {25, 41, 41};
  const double sigma[3] = {2.5, 1.8, 1.8}, shift[3] = {0.6, 1.3, -0.7};
  LucyVolume *g = NULL, *shifted = NULL;
  g_assert_cmpint(lucy_psf_gaussian(gshape, sigma, &g), ==, LUCY_OK);
  g_assert_cmpint(lucy_volume_shift_fft(g, shift, &shifted), ==, LUCY_OK);
  lucy_volume_free(g);
  for (int a = 0; a < 3; a++) shifted->voxel_um[a] = voxel[a];
  LucyStack *sstack = lucy_stack_new_take(shifted, "shifted Gaussian");
  guint notified = 0;
  const gulong nid = g_signal_connect(win, "notify::psf", G_CALLBACK(count_notify_cb), &notified);
  lucy_window_set_psf(win, sstack);
  /* the panel follows the window's "psf" notification at once, with no main loop turn: it
   * starts measuring in its worker thread and says so meanwhile */
  g_assert_cmpuint(notified, ==, 1);
  g_assert_true(lucy_psf_panel_is_measuring(panel));
  g_assert_cmpstr(lucy_psf_panel_get_text(panel, "offset"), ==, "measuring…");
  measure_wait(panel);
  double off[3];
  offset_shown(panel, off);
  for (int a = 0; a < 3; a++) g_assert_cmpfloat(fabs(off[a] - shift[a]), <, 0.05);
  g_assert_nonnull(strstr(lucy_psf_panel_get_text(panel, "warning"), "Off-centre"));
  GError *error = NULL;
  g_assert_true(psf_fix(panel, LUCY_PSF_FIX_CENTRE_CENTROID, &error));
  g_assert_no_error(error);
  g_assert_cmpuint(notified, ==, 2); /* the fixed PSF replaced the window's */
  g_assert_true(lucy_window_get_stack(win, LUCY_VIEW_PSF) != sstack);
  measure_wait(panel);
  offset_shown(panel, off);
  for (int a = 0; a < 3; a++) g_assert_cmpfloat(fabs(off[a]), <, 0.05);
  g_assert_nonnull(strstr(lucy_psf_panel_get_text(panel, "report"), "centred the centroid"));
  check_fix_cancelled(win, panel, sstack);
  notified = 0;
  g_assert_true(lucy_window_load_demo(win, &error)); /* the demo's PSF notifies too */
  g_assert_cmpuint(notified, ==, 1);
  g_signal_handler_disconnect(win, nid);

  /* an all-zero PSF: a clear message, no numbers */
  const size_t zshape[3] = {9, 9, 9};
  LucyVolume *zero = NULL;
  g_assert_cmpint(lucy_volume_new(zshape, &zero), ==, LUCY_OK);
  LucyStack *zstack = lucy_stack_new_take(zero, "zeros");
  lucy_window_set_psf(win, zstack);
  measure_wait(panel);
  g_assert_nonnull(strstr(lucy_psf_panel_get_text(panel, "warning"), "Could not measure"));
  g_assert_false(lucy_psf_panel_get_measure(panel, &m));
  LucyOtfView *otf = lucy_psf_panel_get_otf_view(panel);
  otf_wait(otf);
  g_assert_nonnull(lucy_otf_view_get_last_error(otf));
  g_assert_nonnull(strstr(lucy_otf_view_get_last_error(otf), "sums to 0"));
  g_assert_null(lucy_otf_view_get_section(otf, LUCY_OTF_SECTION_XY));

  g_object_unref(zstack);
  g_object_unref(sstack);
  g_object_unref(gen.stack);
  g_free(gen.error);
  gtk_window_destroy(qa);
  close_window(win);
}

/* ---- PSF QA: lucy_psf_measure in the panel's worker thread -------------------------------- */

static LucyStack *gaussian_stack(const size_t shape[3], double sigma_xy, const char *title) {
  const double sigma[3] = {1.6 * sigma_xy, sigma_xy, sigma_xy};
  LucyVolume *v = NULL;
  g_assert_cmpint(lucy_psf_gaussian(shape, sigma, &v), ==, LUCY_OK);
  const double voxel[3] = {0.2, 0.08, 0.08};
  memcpy(v->voxel_um, voxel, sizeof voxel);
  return lucy_stack_new_take(v, title);
}

/* What the panel shows is lucy_psf_measure's result on psf, called here directly with the
 * panel's optics (a new panel: NA 0, so no theory). */
static void check_measure_of(LucyPsfPanel *panel, LucyStack *psf) {
  LucyPsfMeasureOptions mo;
  lucy_psf_measure_options_default(&mo);
  mo.wavelength_um = 0.52;
  LucyPsfMeasure want, got;
  g_assert_cmpint(lucy_psf_measure(lucy_stack_get_volume(psf), &mo, &want), ==, LUCY_OK);
  g_assert_true(lucy_psf_panel_get_measure(panel, &got));
  for (int a = 0; a < 3; a++) {
    g_assert_cmpuint(got.shape[a], ==, want.shape[a]);
    g_assert_cmpuint(got.peak[a], ==, want.peak[a]);
    g_assert_cmpfloat_with_epsilon(got.centroid[a], want.centroid[a], 1e-9);
    g_assert_cmpfloat_with_epsilon(got.fit[a].fwhm_px, want.fit[a].fwhm_px, 1e-9);
  }
  g_assert_cmpfloat_with_epsilon(got.sum, want.sum, 1e-9);
  char *fwhm = g_strdup_printf("%.3f µm · %.2f px", want.fit[2].fwhm_um, want.fit[2].fwhm_px);
  g_assert_true(g_str_has_prefix(lucy_psf_panel_get_text(panel, "fwhm-x"), fwhm));
  g_test_message("measured in the panel's thread: FWHM x %s", fwhm);
  g_free(fwhm);
}

static void count_cb(gpointer obj, gboolean ok, guint *count) { (*count)++; }

static void gone_cb(gpointer flag, GObject *where_it_was) { *(gboolean *)flag = TRUE; }

/* A big PSF replaced before its measurement could be delivered: only the current one (b)
 * shows, also once the stale work has ended (its stack is freed only after its task is
 * done); *measured counts "measured". */
static void check_stale_dropped(LucyWindow *win, LucyPsfPanel *panel, LucyStack *b,
                                const guint *measured) {
  const size_t big[3] = {127, 255, 255}; /* ~0.1 s to measure */
  const guint before = *measured;
  LucyStack *a = gaussian_stack(big, 3.0, "big Gaussian");
  gboolean a_gone = FALSE;
  g_object_weak_ref(G_OBJECT(a), gone_cb, &a_gone);
  lucy_window_set_psf(win, a);
  g_object_unref(a);
  g_assert_true(lucy_psf_panel_is_measuring(panel));
  g_usleep(20000); /* let its thread start measuring */
  lucy_window_set_psf(win, b);
  measure_wait(panel);
  g_assert_cmpuint(*measured, ==, before + 1);
  check_measure_of(panel, b);
  g_assert_true(wait_for_flag(&a_gone, 60000));
  spin(50);
  g_assert_cmpuint(*measured, ==, before + 1);
  g_assert_false(lucy_psf_panel_is_measuring(panel));
  check_measure_of(panel, b);
}

/* Disposed mid-measure: no result, no "measured". (Closing the QA window alone does not
 * dispose the panel in GTK 4 while a task still holds it as its source; the result then lands
 * on the orphaned panel, harmlessly. Disposing is what cancels.) */
static void check_disposed_mid_measure(LucyWindow *win, GtkWindow *qa, LucyPsfPanel *panel,
                                       const guint *measured) {
  const size_t big[3] = {127, 255, 255};
  const guint before = *measured;
  LucyStack *c = gaussian_stack(big, 2.5, "another big Gaussian");
  lucy_window_set_psf(win, c);
  g_object_unref(c);
  g_assert_true(lucy_psf_panel_is_measuring(panel));
  gboolean panel_gone = FALSE;
  g_object_weak_ref(G_OBJECT(panel), gone_cb, &panel_gone);
  g_object_ref(panel);
  gtk_window_destroy(qa);
  g_object_run_dispose(G_OBJECT(panel));
  g_object_unref(panel);
  g_assert_true(wait_for_flag(&panel_gone, 60000));
  g_assert_cmpuint(*measured, ==, before);
}

/* A main window whose PSF is a Gaussian of the given shape and sigma (*psf, owned by the
 * caller), and its PSF QA window, presented. */
static GtkWindow *open_psf_qa(const size_t shape[3], double sigma, LucyWindow **win,
                              LucyStack **psf, LucyPsfPanel **panel) {
  *win = lucy_window_new(GTK_APPLICATION(app));
  gtk_window_present(GTK_WINDOW(*win));
  *psf = gaussian_stack(shape, sigma, "Gaussian PSF");
  lucy_window_set_psf(*win, *psf);
  GtkWindow *qa = lucy_psf_panel_new_window(*win, panel);
  gtk_window_present(qa);
  return qa;
}

/* The panel measures off the main thread: "measuring…" until the result arrives, which is
 * lucy_psf_measure's; a PSF replaced mid-measure, or a panel disposed mid-measure, never shows
 * (or signals) the stale result. */
static void test_psf_measure_thread(void) {
  const size_t small[3] = {33, 65, 65};
  LucyWindow *win = NULL;
  LucyStack *b = NULL;
  LucyPsfPanel *panel = NULL;
  GtkWindow *qa = open_psf_qa(small, 1.5, &win, &b, &panel);
  guint measured = 0;
  g_signal_connect(panel, "measured", G_CALLBACK(count_cb), &measured);
  /* asynchronous: nothing yet, then the direct call's numbers */
  g_assert_true(lucy_psf_panel_is_measuring(panel));
  LucyPsfMeasure m;
  g_assert_false(lucy_psf_panel_get_measure(panel, &m));
  g_assert_cmpstr(lucy_psf_panel_get_text(panel, "fwhm-x"), ==, "measuring…");
  measure_wait(panel);
  g_assert_cmpuint(measured, ==, 1);
  check_measure_of(panel, b);
  check_stale_dropped(win, panel, b, &measured);
  check_disposed_mid_measure(win, qa, panel, &measured);
  g_object_unref(b);
  close_window(win);
}

/* Closing the QA window while a fix runs drops the fix: the window's PSF stays the one the
 * user had, although the fix's thread ends after the close. */
static void test_psf_closed_mid_fix(void) {
  const size_t big[3] = {127, 255, 255};
  LucyWindow *win = NULL;
  LucyStack *b = NULL;
  LucyPsfPanel *panel = NULL;
  GtkWindow *qa = open_psf_qa(big, 2.5, &win, &b, &panel);
  measure_wait(panel);
  FixResult r = {0};
  lucy_psf_panel_fix_async(panel, LUCY_PSF_FIX_CENTRE_CENTROID, fix_done_cb, &r);
  g_assert_true(lucy_psf_panel_is_fixing(panel));
  gtk_window_destroy(qa); /* before the main loop can see the fix end */
  g_assert_true(wait_for_flag(&r.done, 60000));
  g_assert_false(r.ok);
  g_assert_error(r.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_error_free(r.error);
  spin(100);
  g_assert_true(lucy_window_get_stack(win, LUCY_VIEW_PSF) == b);
  g_object_unref(b);
  close_window(win);
}

/* ---- thorough FFT planning ---------------------------------------------------------------- */

/* The FFTW wisdom file a thorough plan rewrites (as the core finds it), and its identity: a
 * rewrite is a new file (written aside, then renamed over), so a new inode or time. */
static char *wisdom_file(void) {
  const char *xdg = g_getenv("XDG_CACHE_HOME");
  if (xdg && xdg[0] == '/') return g_build_filename(xdg, "lucy", "fftwf-wisdom", NULL);
  return g_build_filename(g_get_home_dir(), ".cache", "lucy", "fftwf-wisdom", NULL);
}

typedef struct {
  gboolean exists;
  guint64 ino;
  gint64 mtime_ns;
} FileId;

static FileId file_id(const char *path) {
  FileId id = {FALSE, 0, 0};
  GStatBuf st;
  if (g_stat(path, &st) == 0) {
    id.exists = TRUE;
    id.ino = (guint64)st.st_ino;
    id.mtime_ns = (gint64)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
  }
  return id;
}

static gboolean file_id_equal(FileId a, FileId b) {
  return a.exists == b.exists && a.ino == b.ino && a.mtime_ns == b.mtime_ns;
}

/* "Thorough FFT planning" (GSettings thorough-planning, the check next to Run): with it set,
 * the window's device plans thoroughly and a convolution (and a deconvolution) measures its
 * FFTs, which saves FFTW wisdom; set back, the device is fast again and nothing is measured.
 * A change during a run keeps the running device; the next run picks it up. The measuring
 * stage fits the sidebar. */
static void test_thorough_planning(void) {
  GSettings *settings = g_settings_new("org.lucy.Lucy");
  g_assert_false(g_settings_get_boolean(settings, "thorough-planning")); /* the default */
  LucyWindow *win = demo_window();
  LucyOperationsPanel *panel = lucy_window_get_operations_panel(win);
  GtkCheckButton *check = lucy_operations_panel_get_planning_control(panel);
  g_assert_true(gtk_widget_get_mapped(GTK_WIDGET(check)));
  g_assert_nonnull(gtk_widget_get_tooltip_text(GTK_WIDGET(check)));
  g_assert_false(gtk_check_button_get_active(check));
  g_assert_cmpint(lucy_window_get_device_planning(win), ==, LUCY_PLAN_FAST);
  /* the sidebar's width on both pages, before any stage was shown */
  static const LucyOperation pages[2] = {LUCY_OPERATION_DECONVOLVE, LUCY_OPERATION_CONVOLVE};
  int sidebar_width = 0;
  for (int i = 0; i < 2; i++) {
    lucy_window_set_operation(win, pages[i]);
    spin(50);
    sidebar_width = MAX(sidebar_width, gtk_widget_get_width(GTK_WIDGET(panel)));
  }
  lucy_window_set_mode(win, LUCY_PAD_SAME);
  const size_t ishape[3] = {8, 40, 36}, pshape[3] = {5, 9, 9};
  LucyStack *image = gaussian_stack(ishape, 4.0, "small");
  LucyStack *psf = gaussian_stack(pshape, 1.2, "small PSF");
  lucy_window_set_image(win, image);
  lucy_window_set_psf(win, psf);
  g_object_unref(image);
  g_object_unref(psf);
  char *wisdom = wisdom_file();
  g_test_message("wisdom: %s", wisdom);

  /* on: the key moves the check, and the device is made again (no run is under way) */
  g_settings_set_boolean(settings, "thorough-planning", TRUE);
  spin(20);
  g_assert_true(gtk_check_button_get_active(check));
  g_assert_cmpint(lucy_operations_panel_get_planning(panel), ==, LUCY_PLAN_THOROUGH);
  g_assert_cmpint(lucy_window_get_device_planning(win), ==, LUCY_PLAN_THOROUGH);
  FileId before = file_id(wisdom);
  RunResult r;
  run_to_end(win, &r);
  g_free(r.message);
  g_assert_cmpint(lucy_window_get_device_planning(win), ==, LUCY_PLAN_THOROUGH);
  FileId after = file_id(wisdom);
  g_assert_true(after.exists); /* measured, and remembered */
  g_assert_false(file_id_equal(before, after));
  g_assert_nonnull(strstr(lucy_stack_get_title(lucy_window_get_stack(win, LUCY_VIEW_RESULT)),
                          "convolved"));
  /* deconvolution plans on the same device */
  lucy_window_set_operation(win, LUCY_OPERATION_DECONVOLVE);
  lucy_window_set_image(win, lucy_window_get_stack(win, LUCY_VIEW_RESULT));
  set_decon(win, LUCY_DECON_RL, 2);
  before = file_id(wisdom);
  run_to_end(win, &r);
  g_free(r.message);
  g_assert_false(file_id_equal(before, file_id(wisdom)));
  lucy_window_set_operation(win, LUCY_OPERATION_CONVOLVE);

  /* off again: fast, and a fast plan never writes wisdom */
  g_settings_set_boolean(settings, "thorough-planning", FALSE);
  spin(20);
  g_assert_false(gtk_check_button_get_active(check));
  g_assert_cmpint(lucy_window_get_device_planning(win), ==, LUCY_PLAN_FAST);
  before = file_id(wisdom);
  run_to_end(win, &r);
  g_free(r.message);
  g_assert_cmpint(lucy_window_get_device_planning(win), ==, LUCY_PLAN_FAST);
  g_assert_true(file_id_equal(before, file_id(wisdom)));

  /* the check during a run: saved at once, but the running device stays; the next run uses
   * a thorough one */
  memset(&r, 0, sizeof r);
  gulong id = g_signal_connect(win, "run-finished", G_CALLBACK(run_finished_cb), &r);
  g_assert_true(lucy_window_run(win));
  g_assert_true(lucy_window_is_running(win));
  gtk_check_button_set_active(check, TRUE);
  g_assert_true(g_settings_get_boolean(settings, "thorough-planning"));
  g_assert_cmpint(lucy_window_get_device_planning(win), ==, LUCY_PLAN_FAST);
  g_assert_true(wait_for_flag(&r.done, 120000));
  g_signal_handler_disconnect(win, id);
  g_assert_true(r.ok);
  g_free(r.message);
  g_assert_cmpint(lucy_window_get_device_planning(win), ==, LUCY_PLAN_FAST);
  before = file_id(wisdom);
  run_to_end(win, &r);
  g_free(r.message);
  g_assert_cmpint(lucy_window_get_device_planning(win), ==, LUCY_PLAN_THOROUGH);
  g_assert_false(file_id_equal(before, file_id(wisdom)));

  /* a new window starts from the setting */
  LucyWindow *other = demo_window();
  g_assert_true(gtk_check_button_get_active(
      lucy_operations_panel_get_planning_control(lucy_window_get_operations_panel(other))));
  g_assert_cmpint(lucy_window_get_device_planning(other), ==, LUCY_PLAN_THOROUGH);
  close_window(other);

  /* the measuring stage (thorough on the CPU only): no percentage, and neither it nor the runs
   * above widened the sidebar on either page (a wider one stays wide) */
  g_assert_true(lucy_plan_or_tile_measures(NULL, LUCY_PLAN_THOROUGH));
  g_assert_false(lucy_plan_or_tile_measures(NULL, LUCY_PLAN_FAST));
  GtkWidget *bar = find_descendant(GTK_WIDGET(panel), GTK_TYPE_PROGRESS_BAR);
  for (int i = 0; i < 2; i++) {
    lucy_window_set_operation(win, pages[i]);
    lucy_operations_panel_set_progress(panel, -1.0, LUCY_PLAN_OR_TILE_MEASURING);
    spin(50);
    g_assert_cmpstr(gtk_progress_bar_get_text(GTK_PROGRESS_BAR(bar)), ==,
                    LUCY_PLAN_OR_TILE_MEASURING);
    g_assert_cmpint(gtk_widget_get_width(GTK_WIDGET(panel)), <=, sidebar_width);
    assert_in_view(win, bar);
    if (g_getenv("TMP_SHOT") && i == 0)
      lucy_widget_save_png(GTK_WIDGET(win), g_getenv("TMP_SHOT"), NULL);
    lucy_operations_panel_set_progress(panel, 0.0, NULL);
  }

  g_settings_set_boolean(settings, "thorough-planning", FALSE); /* later tests: the default */
  spin(20);
  restore_convolve(win);
  g_free(wisdom);
  g_object_unref(settings);
  close_window(win);
}

/* ---- what the views tell the user: headers, constant stacks, empty views, files, PSFs ------ */

/* $env/sub/name, with fallback for an unset $env. */
static char *data_path(const char *env, const char *fallback, const char *sub, const char *name) {
  const char *dir = g_getenv(env);
  return g_build_filename(dir ? dir : fallback, sub, name, NULL);
}

/* A file of the shared real data, or NULL (the test is skipped) when it is not there: the
 * shared data lives outside the checkout and may be absent. */
static char *real_file(const char *name) {
  char *path = data_path("LUCY_SHARED_DATA", "../shared/data", "real", name);
  if (g_file_test(path, G_FILE_TEST_EXISTS)) return path;
  g_test_skip("shared data not found (LUCY_SHARED_DATA)");
  g_free(path);
  return NULL;
}

/* A window without data, laid out at the size the other tests use. */
static LucyWindow *plain_window(void) {
  LucyWindow *win = lucy_window_new(GTK_APPLICATION(app));
  gtk_window_set_default_size(GTK_WINDOW(win), 1280, 820);
  gtk_window_present(GTK_WINDOW(win));
  LucyProjectionView *view = lucy_window_get_projection_view(win);
  gint64 end = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
  while (gtk_widget_get_width(GTK_WIDGET(view)) < 200 && g_get_monotonic_time() < end)
    g_main_context_iteration(NULL, FALSE), g_usleep(1000);
  spin(50);
  return win;
}

static LucyStack *filled_stack(const size_t shape[3], float value, const char *title) {
  LucyVolume *v = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &v), ==, LUCY_OK);
  for (size_t i = 0; i < lucy_shape_count(shape); i++) v->data[i] = value;
  return lucy_stack_new_take(v, title);
}

/* With the valid region one voxel wide (image and PSF of one size, as bars-data.tif with
 * bars-psf.tif) or none at all (a PSF wider than the image), every header keeps a column of its
 * own, and the difference's scale is shown whole. */
static void check_compare_headers(const size_t psf_shape[3], size_t want_valid) {
  const size_t shape[3] = {32, 64, 64};
  const double wide[3] = {6, 10, 10}, narrow[3] = {3, 2, 2};
  LucyVolume *img = NULL, *psf = NULL;
  g_assert_cmpint(lucy_psf_gaussian(shape, wide, &img), ==, LUCY_OK);
  g_assert_cmpint(lucy_psf_gaussian(psf_shape, narrow, &psf), ==, LUCY_OK);
  LucyCompareView *view = NULL;
  GtkWindow *cw = lucy_compare_view_new_window(NULL, &view);
  gtk_window_set_default_size(cw, 1400, 600); /* the canvas as in `lucy --window compare` */
  gtk_window_present(cw);
  lucy_compare_view_set_volumes(view, img, psf);
  lucy_volume_free(img);
  lucy_volume_free(psf);
  compare_wait(view);
  const LucyCompare *c = lucy_compare_view_get_compare(view);
  for (int a = 0; a < 3; a++) g_assert_cmpuint(c->valid_shape[a], ==, want_valid);
  const double canvas_w = gtk_widget_get_width(lucy_compare_view_get_canvas(view));
  graphene_rect_t prev = {0};
  for (int i = 0; i < LUCY_COMPARE_N_PANELS; i++) {
    graphene_rect_t h, r;
    gboolean cut = TRUE;
    g_assert_true(lucy_compare_view_get_header_rect(view, i, &h, &cut));
    g_assert_true(lucy_compare_view_get_panel_rect(view, i, &r, NULL));
    g_test_message("canvas %.0f: header %d at x %.0f, %.0f wide%s; panel at x %.0f, %.0f wide",
                   canvas_w, i, h.origin.x, h.size.width, cut ? " (cut)" : "", r.origin.x,
                   r.size.width);
    if (i) g_assert_cmpfloat(h.origin.x, >=, prev.origin.x + prev.size.width);
    g_assert_cmpfloat(h.origin.x, >=, 0);
    g_assert_cmpfloat(h.origin.x + h.size.width, <=, canvas_w);
    if (i == LUCY_COMPARE_PANEL_DIFF) g_assert_false(cut);
    prev = h;
  }
  gtk_window_destroy(cw);
  spin(20);
}

static void test_compare_headers(void) {
  const size_t same_size[3] = {32, 64, 64}, wider[3] = {9, 9, 80};
  check_compare_headers(same_size, 1);
  check_compare_headers(wider, 0);
}

/* A constant stack: every panel (the 1-voxel-thin ones too) at the colormap's middle, a note
 * that says why, and a histogram with its one bar. */
static void check_constant_shown(LucyWindow *win, const char *value) {
  LucyProjectionView *view = lucy_window_get_projection_view(win);
  spin(50);
  const char *note = lucy_projection_view_get_note(view);
  g_test_message("note: %s", note ? note : "(none)");
  g_assert_nonnull(note);
  g_assert_nonnull(strstr(note, "constant"));
  g_assert_nonnull(strstr(note, value));
  for (int i = 0; i < 3; i++) {
    gsize w = 0, h = 0;
    const guint8 *rgba = lucy_projection_view_get_rgba(view, (LucyProjection)i, &w, &h);
    g_assert_nonnull(rgba);
    for (gsize k = 0; k < w * h; k++) g_assert_cmpint(abs((int)rgba[4 * k] - 128), <=, 1);
    graphene_rect_t r;
    g_assert_true(lucy_projection_view_get_panel_rect(view, (LucyProjection)i, &r));
    g_assert_cmpfloat(r.size.width, >, 1);
    g_assert_cmpfloat(r.size.height, >, 1);
  }
  g_assert_true(lucy_display_panel_has_histogram(lucy_window_get_display_panel(win)));
}

static void test_constant_stack(void) {
  LucyWindow *win = plain_window();
  const size_t one[3] = {1, 1, 1};
  LucyStack *c = filled_stack(one, 18508.2f, "one voxel");
  lucy_window_set_image(win, c);
  g_object_unref(c);
  check_constant_shown(win, "18508.2");
  /* valid with a PSF as large as the image: a 1×1×1 result, as with the bars data */
  const size_t shape[3] = {3, 5, 5};
  LucyVolume *ramp = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &ramp), ==, LUCY_OK);
  for (size_t i = 0; i < lucy_shape_count(shape); i++) ramp->data[i] = (float)i;
  LucyStack *img = lucy_stack_new_take(ramp, "ramp");
  lucy_window_set_image(win, img);
  g_object_unref(img);
  spin(20);
  g_assert_null(lucy_projection_view_get_note(lucy_window_get_projection_view(win)));
  LucyStack *box = filled_stack(shape, 1, "box");
  lucy_window_set_psf(win, box);
  g_object_unref(box);
  lucy_window_set_mode(win, LUCY_PAD_VALID);
  RunResult r;
  run_to_end(win, &r);
  g_free(r.message);
  g_assert_cmpint(lucy_window_get_view(win), ==, LUCY_VIEW_RESULT);
  const LucyVolume *res = lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_RESULT));
  g_assert_cmpuint(lucy_shape_count(res->shape), ==, 1);
  char value[32];
  g_snprintf(value, sizeof value, "%.6g", res->data[0]);
  check_constant_shown(win, value);
  lucy_window_set_mode(win, LUCY_PAD_SAME);
  close_window(win);
}

/* Before a run the Result and Difference canvases say what the status line says, and so do
 * empty Image and PSF views. */
static void check_empty_view(LucyWindow *win, LucyView view, const char *want) {
  lucy_window_set_view(win, view);
  spin(20);
  const char *canvas = lucy_projection_view_get_empty_text(lucy_window_get_projection_view(win));
  g_test_message("%s: canvas “%s”, status “%s”", lucy_view_name(view), canvas,
                 lucy_window_get_info_text(win));
  g_assert_nonnull(strstr(canvas, want));
  g_assert_cmpstr(canvas, ==, lucy_window_get_info_text(win));
}

static void test_empty_views(void) {
  LucyWindow *win = plain_window();
  check_empty_view(win, LUCY_VIEW_IMAGE, "No stack");
  check_empty_view(win, LUCY_VIEW_PSF, "No PSF");
  const size_t shape[3] = {4, 8, 8};
  LucyStack *img = filled_stack(shape, 1, "image");
  lucy_window_set_image(win, img);
  g_object_unref(img);
  check_empty_view(win, LUCY_VIEW_RESULT, "No result yet");
  g_assert_true(lucy_window_use_default_psf(win, NULL));
  check_empty_view(win, LUCY_VIEW_RESULT, "No result yet — press Run");
  check_empty_view(win, LUCY_VIEW_DIFFERENCE, "No result yet — press Run");
  close_window(win);
}

/* The status line names the file shown and says when its voxel size is a guess, and so does
 * everything computed from it; the built-in data keeps its real voxel size. */
static void test_status_names_file(void) {
  LucyWindow *demo = demo_window();
  const char *info = lucy_window_get_info_text(demo);
  g_test_message("demo: %s", info);
  g_assert_nonnull(strstr(info, "demo spheres"));
  g_assert_nonnull(strstr(info, "0.3×0.1×0.1 µm"));
  g_assert_null(strstr(info, "uncalibrated"));
  close_window(demo);
  char *data = real_file("bars-data.tif");
  if (!data) return;
  LucyWindow *win = plain_window();
  GFile *f = g_file_new_for_path(data);
  GError *error = NULL;
  g_assert_true(lucy_window_open_stack(win, f, &error));
  g_assert_no_error(error);
  g_assert_true(lucy_window_use_default_psf(win, &error)); /* as `lucy bars-data.tif` does */
  g_assert_no_error(error);
  info = lucy_window_get_info_text(win);
  g_test_message("image: %s", info);
  g_assert_true(g_str_has_prefix(info, "Image · bars-data.tif · 32×64×64 (z,y,x)"));
  g_assert_nonnull(strstr(info, "1×1×1 µm (uncalibrated)"));
  RunResult r;
  run_to_end(win, &r);
  g_free(r.message);
  static const LucyView views[] = {LUCY_VIEW_PSF, LUCY_VIEW_RESULT, LUCY_VIEW_DIFFERENCE};
  for (gsize i = 0; i < G_N_ELEMENTS(views); i++) {
    lucy_window_set_view(win, views[i]);
    spin(20);
    g_test_message("%s: %s", lucy_view_name(views[i]), lucy_window_get_info_text(win));
    g_assert_nonnull(strstr(lucy_window_get_info_text(win), "(uncalibrated)"));
  }
  g_object_unref(f);
  g_free(data);
  close_window(win);
}

/* An image without a PSF file gets the built-in Gaussian, and the user is told so: in its
 * title (status line, PSF view) and in the line under Run, before and after a run. */
static void test_default_psf_said(void) {
  LucyWindow *win = plain_window();
  const size_t shape[3] = {8, 16, 16};
  LucyStack *img = filled_stack(shape, 1, "image");
  lucy_window_set_image(win, img);
  g_object_unref(img);
  g_assert_true(lucy_window_use_default_psf(win, NULL));
  const char *title = lucy_stack_get_title(lucy_window_get_stack(win, LUCY_VIEW_PSF));
  g_test_message("PSF title: %s", title);
  g_assert_nonnull(strstr(title, "built-in"));
  g_assert_nonnull(strstr(title, "no PSF file"));
  lucy_window_set_view(win, LUCY_VIEW_PSF);
  spin(20);
  g_assert_nonnull(strstr(lucy_window_get_info_text(win), "built-in"));
  g_test_message("warning: %s", lucy_window_get_warning_text(win));
  g_assert_nonnull(strstr(lucy_window_get_warning_text(win), "built-in"));
  RunResult r;
  run_to_end(win, &r);
  g_free(r.message);
  g_test_message("after the run: %s", lucy_window_get_warning_text(win));
  g_assert_nonnull(strstr(lucy_window_get_warning_text(win), "built-in"));
  /* a PSF of one's own: no more note */
  const size_t pshape[3] = {5, 9, 9};
  LucyStack *own = gaussian_stack(pshape, 1.0, "own PSF");
  lucy_window_set_psf(win, own);
  g_object_unref(own);
  g_assert_null(strstr(lucy_window_get_warning_text(win), "built-in"));
  close_window(win);
}

/* PSF QA on a file without calibration: a ⚠ that the voxel size is unknown, so µm and the
 * NA/λ theory mean nothing yet; none for a PSF whose voxel size is known. */
static void test_psf_qa_uncalibrated(void) {
  const size_t shape[3] = {17, 33, 33};
  LucyWindow *win = NULL;
  LucyStack *psf = NULL;
  LucyPsfPanel *panel = NULL;
  GtkWindow *qa = open_psf_qa(shape, 1.5, &win, &psf, &panel);
  measure_wait(panel);
  g_assert_null(strstr(lucy_psf_panel_get_text(panel, "warning"), "Voxel size unknown"));
  char *bead = real_file("bead-psf.tif");
  if (bead) {
    GFile *f = g_file_new_for_path(bead);
    GError *error = NULL;
    g_assert_true(lucy_window_open_psf(win, f, &error));
    g_assert_no_error(error);
    measure_wait(panel);
    const char *w = lucy_psf_panel_get_text(panel, "warning");
    g_test_message("warning: %s", w);
    g_assert_nonnull(strstr(w, "⚠ Voxel size unknown"));
    g_assert_nonnull(strstr(w, "1 µm assumed"));
    g_object_unref(f);
    g_free(bead);
  }
  gtk_window_destroy(qa);
  g_object_unref(psf);
  close_window(win);
}

/* ---- hyperstacks and voxel sizes ----------------------------------------------------------- */

/* A file of tests/fixtures/tiff. The fixtures are part of the checkout, so a missing one is a
 * broken checkout or environment: a failure, not a skip. */
static char *fixture_file(const char *name) {
  char *path = data_path("LUCY_FIXTURES", "tests/fixtures", "tiff", name);
  if (!g_file_test(path, G_FILE_TEST_EXISTS))
    g_error("fixture %s not found (LUCY_FIXTURES should point at tests/fixtures)", path);
  return path;
}

/* The window's image is channel c, frame t of the file, voxel for voxel. */
static void assert_image_is(LucyWindow *win, const char *path, guint c, guint t) {
  LucyTiffReadOptions o;
  lucy_tiff_read_options_default(&o);
  o.channel = c;
  o.frame = t;
  LucyVolume *want = NULL;
  g_assert_cmpint(lucy_tiff_read(path, &o, &want, NULL), ==, LUCY_OK);
  const LucyVolume *got = lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_IMAGE));
  g_assert_cmpmem(got->shape, sizeof got->shape, want->shape, sizeof want->shape);
  g_assert_cmpmem(got->data, lucy_shape_count(got->shape) * sizeof(float), want->data,
                  lucy_shape_count(want->shape) * sizeof(float));
  lucy_volume_free(want);
}

static void wait_read(LucyWindow *win) {
  gint64 end = g_get_monotonic_time() + 30 * G_USEC_PER_SEC;
  while (lucy_window_is_reading(win) && g_get_monotonic_time() < end)
    g_main_context_iteration(NULL, FALSE), g_usleep(500);
  g_assert_false(lucy_window_is_reading(win));
  spin(20);
}

static void open_file(LucyWindow *win, const char *path, gboolean psf) {
  GFile *f = g_file_new_for_path(path);
  GError *error = NULL;
  g_assert_true(psf ? lucy_window_open_psf(win, f, &error)
                    : lucy_window_open_stack(win, f, &error));
  g_assert_no_error(error);
  g_object_unref(f);
}

/* accel is bound to action (e.g. "win.next-channel") */
static void assert_accel(const char *accel, const char *action) {
  char **actions = gtk_application_get_actions_for_accel(GTK_APPLICATION(app), accel);
  g_assert_true(g_strv_contains((const char *const *)actions, action));
  g_strfreev(actions);
}

/* Channel and frame change with the spin buttons and the accelerators' actions, are read in the
 * background (a superseded choice is dropped), keep the display settings and a voxel size the
 * user gave the file, and the bar and the status line say what was read. */
static void check_choosing(LucyWindow *win, const char *path) {
  LucyHyperstackBar *bar = lucy_window_get_hyperstack_bar(win);
  gtk_spin_button_set_value(lucy_hyperstack_bar_get_channel_control(bar), 1);
  g_assert_true(lucy_window_is_reading(win));
  g_test_message("while reading: %s", lucy_hyperstack_bar_get_text(bar));
  g_assert_nonnull(strstr(lucy_hyperstack_bar_get_text(bar), "reading channel 1, frame 0"));
  wait_read(win);
  assert_image_is(win, path, 1, 0);
  g_test_message("bar: %s; status: %s", lucy_hyperstack_bar_get_text(bar),
                 lucy_window_get_info_text(win));
  g_assert_nonnull(strstr(lucy_hyperstack_bar_get_text(bar), "read channel 1, frame 0"));
  g_assert_nonnull(strstr(lucy_window_get_info_text(win), "channel 1, frame 0"));
  g_assert_nonnull(strstr(lucy_window_get_info_text(win), "(set by you)"));
  LucyRenderOptions opts;
  lucy_display_panel_get_options(lucy_window_get_display_panel(win), &opts);
  g_assert_cmpint(opts.colormap, ==, LUCY_CMAP_VIRIDIS);
  assert_accel("<Primary>period", "win.next-frame");
  assert_accel("<Primary>comma", "win.previous-frame");
  assert_accel("<Primary>bracketright", "win.next-channel");
  assert_accel("<Primary>bracketleft", "win.previous-channel");
  g_action_group_activate_action(G_ACTION_GROUP(win), "next-frame", NULL);
  wait_read(win);
  assert_image_is(win, path, 1, 1);
  g_action_group_activate_action(G_ACTION_GROUP(win), "previous-channel", NULL);
  wait_read(win);
  assert_image_is(win, path, 0, 1);
  g_action_group_activate_action(G_ACTION_GROUP(win), "previous-channel", NULL);
  g_assert_false(lucy_window_is_reading(win)); /* no channel -1 */
  g_assert_false(lucy_window_read_hyperstack(win, 2, 0));
  g_assert_true(lucy_window_read_hyperstack(win, 1, 0));
  g_assert_true(lucy_window_read_hyperstack(win, 0, 0));
  wait_read(win);
  assert_image_is(win, path, 0, 0);
  guint c, t;
  lucy_hyperstack_bar_get_choice(bar, &c, &t);
  g_assert_cmpuint(c, ==, 0);
  g_assert_cmpuint(t, ==, 0);
  spin(200); /* the dropped read of channel 1 never shows */
  assert_image_is(win, path, 0, 0);
}

static void test_hyperstack_chooser(void) {
  char *path = fixture_file("tifffile-imagej-hyperstack.tif"); /* T 2, Z 3, C 2 */
  if (!path) return;
  LucyWindow *win = plain_window();
  open_file(win, path, FALSE);
  LucyHyperstackBar *bar = lucy_window_get_hyperstack_bar(win);
  g_test_message("bar: %s", lucy_hyperstack_bar_get_text(bar));
  g_assert_true(gtk_widget_get_visible(GTK_WIDGET(bar)));
  g_assert_nonnull(strstr(lucy_hyperstack_bar_get_text(bar), "2 channels and 2 frames"));
  g_assert_nonnull(strstr(lucy_hyperstack_bar_get_text(bar), "read channel 0, frame 0"));
  assert_image_is(win, path, 0, 0);
  const double voxel[3] = {0.75, 0.25, 0.125};
  g_assert_true(lucy_window_set_voxel_size(win, LUCY_VIEW_IMAGE, voxel, NULL));
  LucyRenderOptions opts;
  lucy_display_panel_get_options(lucy_window_get_display_panel(win), &opts);
  opts.colormap = LUCY_CMAP_VIRIDIS;
  lucy_display_panel_set_options(lucy_window_get_display_panel(win), &opts);
  g_signal_emit_by_name(lucy_window_get_display_panel(win), "changed");
  check_choosing(win, path);
  g_assert_cmpfloat(lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_IMAGE))->voxel_um[0],
                    ==, 0.75);
  if (g_getenv("LUCY_HYPERSTACK_SCREENSHOT"))
    lucy_widget_save_png(GTK_WIDGET(win), g_getenv("LUCY_HYPERSTACK_SCREENSHOT"), NULL);
  /* the same file as the PSF: channel 0, frame 0, and the window says so */
  open_file(win, path, TRUE);
  lucy_window_set_view(win, LUCY_VIEW_PSF);
  spin(20);
  g_test_message("PSF bar: %s", lucy_hyperstack_bar_get_text(bar));
  g_assert_true(gtk_widget_get_visible(GTK_WIDGET(bar)));
  g_assert_nonnull(
      strstr(lucy_hyperstack_bar_get_text(bar), "always read from channel 0, frame 0"));
  g_assert_false(gtk_widget_is_visible(GTK_WIDGET(lucy_hyperstack_bar_get_channel_control(bar))));
  const char *under_run = lucy_window_get_warning_text(win);
  g_test_message("warning: %s", under_run);
  g_assert_nonnull(strstr(under_run, "PSF: channel 0, frame 0 of 2 channels"));
  /* a stack that is not a hyperstack: no bar, nothing to step */
  char *plain = fixture_file("tifffile-tiled-bigtiff.tif");
  open_file(win, plain, FALSE);
  spin(20);
  g_assert_false(gtk_widget_get_visible(GTK_WIDGET(bar)));
  g_assert_false(g_action_group_get_action_enabled(G_ACTION_GROUP(win), "next-channel"));
  g_free(plain);
  g_free(path);
  close_window(win);
}

static void get_display(LucyWindow *win, LucyRenderOptions *opts) {
  lucy_display_panel_get_options(lucy_window_get_display_panel(win), opts);
}

static void set_display(LucyWindow *win, const LucyRenderOptions *opts) {
  lucy_display_panel_set_options(lucy_window_get_display_panel(win), opts);
  g_signal_emit_by_name(lucy_window_get_display_panel(win), "changed");
}

static void step(LucyWindow *win, const char *action, guint c, guint t, const char *path) {
  g_action_group_activate_action(G_ACTION_GROUP(win), action, NULL);
  wait_read(win);
  assert_image_is(win, path, c, t);
}

static void assert_range(LucyWindow *win, double vmin, double vmax) {
  LucyRenderOptions o;
  get_display(win, &o);
  g_test_message("range %g–%g, want %g–%g", o.vmin, o.vmax, vmin, vmax);
  g_assert_cmpfloat(o.vmin, ==, vmin);
  g_assert_cmpfloat(o.vmax, ==, vmax);
}

/* A time series keeps its display range (and gamma, colormap, log) from frame to frame, as in
 * Fiji and napari, so brightness compares over time; each channel keeps its own range for the
 * session, auto the first time; another file starts afresh. */
static void test_hyperstack_contrast(void) {
  char *path = fixture_file("tifffile-imagej-hyperstack.tif"); /* T 2, Z 3, C 2 */
  if (!path) return;
  LucyWindow *win = plain_window();
  open_file(win, path, FALSE);
  spin(20);
  LucyRenderOptions first;
  get_display(win, &first);
  g_assert_true(first.auto_contrast);
  first.gamma = 0.6;
  first.colormap = LUCY_CMAP_MAGMA;
  first.log = 1;
  set_display(win, &first);
  step(win, "next-frame", 0, 1, path);
  LucyRenderOptions o;
  get_display(win, &o);
  g_assert_cmpfloat(o.gamma, ==, 0.6);
  g_assert_cmpint(o.colormap, ==, LUCY_CMAP_MAGMA);
  g_assert_true(o.log);
  assert_range(win, first.vmin, first.vmax); /* auto would give frame 1's own */
  step(win, "next-channel", 1, 1, path);
  get_display(win, &o);
  g_assert_cmpfloat(o.vmin, !=, first.vmin); /* channel 1's own, auto */
  o.vmin = 1000;
  o.vmax = 30000;
  o.auto_contrast = 0;
  set_display(win, &o);
  step(win, "previous-channel", 0, 1, path);
  assert_range(win, first.vmin, first.vmax);
  step(win, "next-channel", 1, 1, path);
  assert_range(win, 1000, 30000);
  step(win, "previous-frame", 1, 0, path);
  assert_range(win, 1000, 30000);
  open_file(win, path, FALSE); /* the file again: as opened the first time */
  spin(20);
  get_display(win, &o);
  g_assert_true(o.auto_contrast);
  g_assert_cmpint(o.colormap, !=, LUCY_CMAP_MAGMA);
  step(win, "next-channel", 1, 0, path);
  get_display(win, &o);
  g_assert_cmpfloat(o.vmin, !=, 1000);
  close_window(win);
  g_free(path);
}

/* lucy --channel C --frame T STACK reads that channel and frame, as lucy-cli does; a channel
 * the file lacks fails with the reader's reason, and the options without a stack are usage
 * errors. */
static void test_hyperstack_command_line(void) {
  char *path = fixture_file("tifffile-imagej-hyperstack.tif");
  if (!path) return;
  char *dir = g_dir_make_tmp("lucy-hyper-XXXXXX", NULL);
  char *png = g_build_filename(dir, "hyper.png", NULL);
  const char *ok[] = {"--channel", "1", "--frame", "1", path, "--screenshot", png, NULL};
  run_lucy_expect(ok, 0, NULL);
  g_assert_true(g_file_test(png, G_FILE_TEST_EXISTS));
  const char *missing[] = {"--channel", "5", path, "--screenshot", png, NULL};
  run_lucy_expect(missing, 1, "channel 5 is out of range");
  const char *bad[] = {"--frame", "-1", path, "--screenshot", png, NULL};
  run_lucy_expect(bad, 2, "--frame");
  const char *no_file[] = {"--channel", "1", "--screenshot", png, NULL};
  run_lucy_expect(no_file, 2, "--channel chooses in the stack file");
  LucyWindow *win = plain_window();
  GFile *f = g_file_new_for_path(path);
  g_assert_true(lucy_window_open_stack_at(win, f, 1, 1, NULL));
  assert_image_is(win, path, 1, 1);
  g_assert_nonnull(strstr(lucy_hyperstack_bar_get_text(lucy_window_get_hyperstack_bar(win)),
                          "read channel 1, frame 1"));
  g_object_unref(f);
  close_window(win);
  g_unlink(png);
  g_rmdir(dir);
  g_free(png);
  g_free(dir);
  g_free(path);
}

/* lucy --voxel Z,Y,X and --psf-voxel read as lucy-cli reads them: three finite numbers > 0,
 * anything else a usage error. */
static void test_voxel_command_line(void) {
  char *path = fixture_file("tifffile-tiled-bigtiff.tif");
  if (!path) return;
  char *dir = g_dir_make_tmp("lucy-voxel-XXXXXX", NULL);
  char *png = g_build_filename(dir, "voxel.png", NULL);
  const char *ok[] = {"--voxel", "0.3,0.1,0.1", "--psf-voxel", "0.3,0.1,0.1", path,
                      "--screenshot", png, NULL};
  run_lucy_expect(ok, 0, NULL);
  g_assert_true(g_file_test(png, G_FILE_TEST_EXISTS));
  static const char *bad[] = {"0,0.1,0.1", "0.3,0.1", "0.3,0.1,0.1,1", "0.3,x,0.1", "inf,1,1",
                              "-1,1,1",
                              /* beyond the dialog's 0.1 nm to 1 cm, as lucy-cli refuses them */
                              "1e-9,0.1,0.1", "0.3,1e5,0.1"};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    const char *args[] = {"--voxel", bad[i], path, "--screenshot", png, NULL};
    run_lucy_expect(args, 2, "--voxel");
  }
  const char *bad_psf[] = {"--psf-voxel", "1,1", path, "--screenshot", png, NULL};
  run_lucy_expect(bad_psf, 2, "--psf-voxel");
  g_unlink(png);
  g_rmdir(dir);
  g_free(png);
  g_free(dir);
  g_free(path);
}

/* What is not a voxel size is refused with the field and the reason, and changes nothing. */
static void check_voxel_refused(LucyWindow *win, LucyVoxelDialog *dlg) {
  static const struct { const char *text, *why; } bad[] = {
      {"-0.5", "is not positive"}, {"0", "is not positive"}, {"abc", "is not a number"},
      {"", "is empty"}, {"inf", "not a finite"}, {"nan", "not a finite"},
      {"1e999", "not a finite"}, {"0.1 mm", "is not a number of µm"}, {"0.1.2", "not a number"},
      {"20000", "not a voxel size"}, {"0x10", "is not a number"},
      {"-0X1p-3", "is not a number"}};
  for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
    gtk_editable_set_text(lucy_voxel_dialog_get_entry(dlg, LUCY_VIEW_IMAGE, 1), bad[i].text);
    GError *error = NULL;
    g_assert_false(lucy_voxel_dialog_apply(dlg, &error));
    g_test_message("“%s”: %s", bad[i].text, error->message);
    g_assert_nonnull(strstr(error->message, "Image y"));
    g_assert_nonnull(strstr(error->message, bad[i].why));
    g_assert_cmpstr(lucy_voxel_dialog_get_message(dlg), ==, error->message);
    g_clear_error(&error);
  }
  LucyStack *image = lucy_window_get_stack(win, LUCY_VIEW_IMAGE);
  g_assert_false(lucy_stack_is_calibrated(image));
  g_assert_cmpfloat(lucy_stack_get_volume(image)->voxel_um[1], ==, 1.0);
  const double nan3[3] = {NAN, 1, 1};
  g_assert_false(lucy_window_set_voxel_size(win, LUCY_VIEW_IMAGE, nan3, NULL));
}

static void set_row(LucyVoxelDialog *dlg, LucyView which, const char *z, const char *y,
                    const char *x) {
  const char *text[3] = {z, y, x};
  for (int a = 0; a < 3; a++)
    gtk_editable_set_text(lucy_voxel_dialog_get_entry(dlg, which, a), text[a]);
}

/* The image's voxel size: the status line, the projections' aspect. */
static void check_image_voxel(LucyWindow *win, LucyVoxelDialog *dlg) {
  /* a comma is a decimal point; µm unless nm follows */
  set_row(dlg, LUCY_VIEW_IMAGE, "2", "0,5", "500 nm");
  GError *error = NULL;
  g_assert_true(lucy_voxel_dialog_apply(dlg, &error));
  g_assert_no_error(error);
  const LucyVolume *v = lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_IMAGE));
  g_assert_cmpfloat(v->voxel_um[0], ==, 2.0);
  g_assert_cmpfloat(v->voxel_um[1], ==, 0.5);
  g_assert_cmpfloat(v->voxel_um[2], ==, 0.5);
  lucy_window_set_view(win, LUCY_VIEW_IMAGE);
  spin(50);
  const char *info = lucy_window_get_info_text(win);
  g_test_message("status: %s", info);
  g_assert_nonnull(strstr(info, "2×0.5×0.5 µm (set by you)"));
  g_assert_null(strstr(info, "uncalibrated"));
  /* the PSF, still at its guess, is now sampled unlike the image: said above the gauge */
  const char *under_run = lucy_window_get_warning_text(win);
  g_test_message("warning: %s", under_run);
  g_assert_nonnull(strstr(under_run, "PSF voxels 0.2×0.08×0.08 µm, the image's 2×0.5×0.5"));
  /* ZY is 3 × 2 = 6 µm wide beside XY's 37 × 0.5 = 18.5 µm */
  LucyProjectionView *view = lucy_window_get_projection_view(win);
  graphene_rect_t rxy, rzy;
  g_assert_true(lucy_projection_view_get_panel_rect(view, LUCY_PROJ_XY, &rxy));
  g_assert_true(lucy_projection_view_get_panel_rect(view, LUCY_PROJ_ZY, &rzy));
  g_assert_cmpfloat_with_epsilon(rzy.size.width / rxy.size.width, 6.0 / 18.5, 1e-3);
}

/* The Voxel Size dialog over win other than but, or NULL. */
static LucyVoxelDialog *find_voxel_dialog(LucyWindow *win, LucyVoxelDialog *but) {
  GListModel *tops = gtk_window_get_toplevels();
  LucyVoxelDialog *found = NULL;
  for (guint i = 0; i < g_list_model_get_n_items(tops) && !found; i++) {
    GtkWindow *w = g_list_model_get_item(tops, i);
    if (LUCY_IS_VOXEL_DIALOG(w) && w != GTK_WINDOW(but) &&
        gtk_window_get_transient_for(w) == GTK_WINDOW(win))
      found = LUCY_VOXEL_DIALOG(w);
    g_object_unref(w);
  }
  return found;
}

/* The PSF's: PSF QA offers the dialog beside its warning, measures again in the new µm, and
 * the warning goes. */
static void check_psf_voxel(LucyWindow *win, LucyVoxelDialog *dlg) {
  LucyPsfPanel *panel = NULL;
  GtkWindow *qa = lucy_psf_panel_new_window(win, &panel);
  gtk_window_present(qa);
  measure_wait(panel);
  g_assert_nonnull(strstr(lucy_psf_panel_get_text(panel, "warning"), "Voxel size unknown"));
  GtkWidget *button = lucy_psf_panel_get_voxel_button(panel);
  g_assert_true(gtk_widget_get_visible(button));
  g_signal_emit_by_name(button, "clicked");
  spin(50);
  LucyVoxelDialog *opened = find_voxel_dialog(win, dlg);
  g_assert_nonnull(opened);
  gtk_window_destroy(GTK_WINDOW(opened));
  set_row(dlg, LUCY_VIEW_PSF, "0.2", "0.05", "0.05");
  g_assert_true(lucy_voxel_dialog_apply(dlg, NULL));
  measure_wait(panel);
  g_test_message("PSF QA: %s", lucy_psf_panel_get_text(panel, "shape"));
  g_assert_null(strstr(lucy_psf_panel_get_text(panel, "warning"), "Voxel size unknown"));
  g_assert_false(gtk_widget_get_visible(button));
  g_assert_nonnull(strstr(lucy_psf_panel_get_text(panel, "shape"), "(set by you)"));
  LucyPsfMeasure m;
  g_assert_true(lucy_psf_panel_get_measure(panel, &m));
  g_assert_cmpfloat_with_epsilon(m.fit[2].fwhm_um, m.fit[2].fwhm_px * 0.05, 1e-9);
  g_assert_cmpfloat_with_epsilon(m.fit[0].fwhm_um, m.fit[0].fwhm_px * 0.2, 1e-9);
  gtk_window_destroy(qa);
  lucy_window_set_view(win, LUCY_VIEW_PSF);
  spin(20);
  g_assert_nonnull(strstr(lucy_window_get_info_text(win), "0.2×0.05×0.05 µm (set by you)"));
}

/* A run uses them and refuses changes while under way; a saved result carries them, and the
 * result follows a later change of the image's (it lies on its grid). */
static void check_result_voxel(LucyWindow *win) {
  RunResult r;
  run_to_end(win, &r);
  g_free(r.message);
  const LucyVolume *res = lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_RESULT));
  g_assert_cmpfloat(res->voxel_um[0], ==, 2.0);
  g_assert_nonnull(strstr(lucy_window_get_info_text(win), "(set by you)"));
  char *dir = g_dir_make_tmp("lucy-voxel-XXXXXX", NULL);
  char *out = g_build_filename(dir, "result.tif", NULL);
  GFile *f = g_file_new_for_path(out);
  g_assert_true(lucy_window_save_result(win, f, FALSE, NULL));
  LucyVolume *saved = NULL;
  g_assert_cmpint(lucy_tiff_read(out, NULL, &saved, NULL), ==, LUCY_OK);
  g_assert_cmpfloat_with_epsilon(saved->voxel_um[0], 2.0, 1e-6);
  g_assert_cmpfloat_with_epsilon(saved->voxel_um[2], 0.5, 1e-6);
  lucy_volume_free(saved);
  const double later[3] = {1.5, 0.4, 0.4};
  g_assert_true(lucy_window_set_voxel_size(win, LUCY_VIEW_IMAGE, later, NULL));
  res = lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_RESULT));
  g_assert_cmpfloat(res->voxel_um[0], ==, 1.5);
  memset(&r, 0, sizeof r);
  gulong id = g_signal_connect(win, "run-finished", G_CALLBACK(run_finished_cb), &r);
  g_assert_true(lucy_window_run(win));
  GError *error = NULL;
  g_assert_false(lucy_window_set_voxel_size(win, LUCY_VIEW_IMAGE, later, &error));
  g_assert_nonnull(strstr(error->message, "run is under way"));
  g_assert_false(g_action_group_get_action_enabled(G_ACTION_GROUP(win), "voxel-size"));
  g_clear_error(&error);
  g_assert_true(wait_for_flag(&r.done, 120000));
  g_signal_handler_disconnect(win, id);
  g_free(r.message);
  g_unlink(out);
  g_rmdir(dir);
  g_object_unref(f);
  g_free(out);
  g_free(dir);
}

/* The action (Ctrl+Shift+P, as Fiji's Image ▸ Properties) opens the dialog over the window. */
static void check_voxel_action(LucyWindow *win) {
  assert_accel("<Primary><Shift>p", "win.voxel-size");
  g_action_group_activate_action(G_ACTION_GROUP(win), "voxel-size", NULL);
  spin(50);
  LucyVoxelDialog *found = find_voxel_dialog(win, NULL);
  g_assert_nonnull(found);
  const char *z = gtk_editable_get_text(lucy_voxel_dialog_get_entry(found, LUCY_VIEW_IMAGE, 0));
  g_assert_cmpstr(z, ==, "1.5");
  gtk_window_destroy(GTK_WINDOW(found));
}

/* The first widget under w with the CSS class, depth first. */
static GtkWidget *find_css_class(GtkWidget *w, const char *css_class) {
  if (gtk_widget_has_css_class(w, css_class)) return w;
  for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c)) {
    GtkWidget *found = find_css_class(c, css_class);
    if (found) return found;
  }
  return NULL;
}

/* The text of the visible labels under w that are shown whole (not ellipsized), in order. */
static void shown_labels(GtkWidget *w, GString *shown) {
  if (!gtk_widget_get_visible(w)) return;
  if (GTK_IS_LABEL(w)) {
    const gboolean cut = pango_layout_is_ellipsized(gtk_label_get_layout(GTK_LABEL(w)));
    g_test_message("status label%s: %s", cut ? " (shortened)" : "",
                   gtk_label_get_label(GTK_LABEL(w)));
    if (!cut) g_string_append(shown, gtk_label_get_label(GTK_LABEL(w)));
    return;
  }
  for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c))
    shown_labels(c, shown);
}

/* The status line at the tests' (and the screenshots') window size, with a long file name, a
 * hyperstack's channel and frame and a voxel size set by the user: the stack's shape and voxel
 * size are shown whole (the long name may be shortened; its tooltip has it all). */
static void test_status_line_keeps_shape(void) {
  char *path = fixture_file("tifffile-imagej-hyperstack.tif");
  if (!path) return;
  char *dir = g_dir_make_tmp("lucy-status-XXXXXX", NULL);
  char *copy = g_build_filename(dir, "2026-11-21_embryo-3_488nm_widefield_60x-oil_stack.tif",
                                NULL);
  gchar *bytes;
  gsize size;
  g_assert_true(g_file_get_contents(path, &bytes, &size, NULL));
  g_assert_true(g_file_set_contents(copy, bytes, (gssize)size, NULL));
  g_free(bytes);
  LucyWindow *win = plain_window();
  open_file(win, copy, FALSE);
  const double voxel[3] = {0.75, 0.25, 0.125};
  g_assert_true(lucy_window_set_voxel_size(win, LUCY_VIEW_IMAGE, voxel, NULL));
  spin(100);
  const LucyVolume *v = lucy_stack_get_volume(lucy_window_get_stack(win, LUCY_VIEW_IMAGE));
  char *shape = g_strdup_printf("%zu×%zu×%zu (z,y,x) · 0.75×0.25×0.125 µm (set by you)",
                                v->shape[0], v->shape[1], v->shape[2]);
  g_assert_nonnull(strstr(lucy_window_get_info_text(win), shape));
  GtkWidget *line = find_css_class(GTK_WIDGET(win), "status-line");
  g_assert_nonnull(line);
  GString *shown = g_string_new(NULL); /* what the labels show whole */
  shown_labels(line, shown);
  g_assert_nonnull(strstr(shown->str, shape));
  g_string_free(shown, TRUE);
  g_free(shape);
  close_window(win);
  g_unlink(copy);
  g_rmdir(dir);
  g_free(copy);
  g_free(dir);
  g_free(path);
}

static void test_voxel_size(void) {
  char *path = fixture_file("tifffile-tiled-bigtiff.tif"); /* no calibration: 1 µm assumed */
  if (!path) return;
  LucyWindow *win = plain_window();
  open_file(win, path, FALSE);
  const size_t pshape[3] = {9, 17, 17};
  LucyStack *psf = gaussian_stack(pshape, 1.5, "PSF without calibration");
  lucy_stack_set_calibrated(psf, FALSE);
  lucy_window_set_psf(win, psf);
  g_object_unref(psf);
  g_assert_nonnull(strstr(lucy_window_get_info_text(win), "(uncalibrated)"));
  LucyVoxelDialog *dlg = lucy_voxel_dialog_new(win);
  gtk_window_present(GTK_WINDOW(dlg));
  spin(50);
  g_assert_cmpstr(gtk_editable_get_text(lucy_voxel_dialog_get_entry(dlg, LUCY_VIEW_IMAGE, 0)), ==,
                  "1");
  check_voxel_refused(win, dlg);
  check_image_voxel(win, dlg);
  if (g_getenv("LUCY_VOXEL_SCREENSHOT")) {
    set_row(dlg, LUCY_VIEW_PSF, "0.2", "-0.05", "0.05");
    spin(100);
    lucy_widget_save_png(GTK_WIDGET(dlg), g_getenv("LUCY_VOXEL_SCREENSHOT"), NULL);
  }
  check_psf_voxel(win, dlg);
  lucy_voxel_dialog_same_as_image(dlg);
  g_assert_true(lucy_voxel_dialog_apply(dlg, NULL));
  g_assert_null(strstr(lucy_window_get_warning_text(win), "PSF voxels"));
  gtk_window_destroy(GTK_WINDOW(dlg));
  check_result_voxel(win);
  check_voxel_action(win);
  g_free(path);
  close_window(win);
}

/* The button labelled label under w, or NULL. */
static GtkWidget *find_button(GtkWidget *w, const char *label) {
  if (GTK_IS_BUTTON(w) && g_strcmp0(gtk_button_get_label(GTK_BUTTON(w)), label) == 0) return w;
  for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c)) {
    GtkWidget *found = find_button(c, label);
    if (found) return found;
  }
  return NULL;
}

static GtkWidget *apply_button(LucyVoxelDialog *dlg) {
  GtkWidget *b = find_button(gtk_window_get_titlebar(GTK_WINDOW(dlg)), "_Apply");
  g_assert_nonnull(b);
  return b;
}

/* Apply with the numbers shown confirms an uncalibrated file's 1 µm (then "set by you"); with
 * nothing to confirm or change, Apply is off until a number is edited. */
static void test_voxel_confirm(void) {
  char *path = fixture_file("tifffile-tiled-bigtiff.tif"); /* no calibration: 1 µm assumed */
  char *calibrated = fixture_file("tifffile-imagej-hyperstack.tif");
  if (!path || !calibrated) return;
  LucyWindow *win = plain_window();
  open_file(win, path, FALSE);
  LucyVoxelDialog *dlg = lucy_voxel_dialog_new(win);
  gtk_window_present(GTK_WINDOW(dlg));
  spin(50);
  g_assert_true(gtk_widget_get_sensitive(apply_button(dlg)));
  g_assert_true(lucy_voxel_dialog_apply(dlg, NULL));
  LucyStack *image = lucy_window_get_stack(win, LUCY_VIEW_IMAGE);
  g_assert_true(lucy_stack_is_voxel_size_set_by_user(image));
  g_assert_cmpfloat(lucy_stack_get_volume(image)->voxel_um[0], ==, 1.0);
  g_test_message("status: %s", lucy_window_get_info_text(win));
  g_assert_nonnull(strstr(lucy_window_get_info_text(win), "1×1×1 µm (set by you)"));
  g_assert_null(strstr(lucy_window_get_info_text(win), "uncalibrated"));
  g_assert_false(gtk_widget_get_sensitive(apply_button(dlg))); /* confirmed: nothing to do */
  gtk_window_destroy(GTK_WINDOW(dlg));
  /* an edit of the image alone leaves the PSF's guess as it was */
  const size_t pshape[3] = {9, 17, 17};
  LucyStack *psf = gaussian_stack(pshape, 1.5, "PSF without calibration");
  lucy_stack_set_calibrated(psf, FALSE);
  lucy_window_set_psf(win, psf);
  dlg = lucy_voxel_dialog_new(win);
  gtk_editable_set_text(lucy_voxel_dialog_get_entry(dlg, LUCY_VIEW_IMAGE, 0), "2");
  g_assert_true(lucy_voxel_dialog_apply(dlg, NULL));
  g_assert_false(lucy_stack_is_voxel_size_set_by_user(psf));
  g_assert_true(gtk_widget_get_sensitive(apply_button(dlg))); /* the PSF's is still to confirm */
  g_object_unref(psf);
  g_assert_true(lucy_voxel_dialog_apply(dlg, NULL));
  g_assert_true(lucy_stack_is_voxel_size_set_by_user(lucy_window_get_stack(win, LUCY_VIEW_PSF)));
  gtk_window_destroy(GTK_WINDOW(dlg));
  open_file(win, calibrated, FALSE);
  dlg = lucy_voxel_dialog_new(win);
  gtk_window_present(GTK_WINDOW(dlg));
  spin(50);
  g_assert_false(gtk_widget_get_sensitive(apply_button(dlg))); /* from the file */
  gtk_editable_set_text(lucy_voxel_dialog_get_entry(dlg, LUCY_VIEW_IMAGE, 0), "0.4");
  g_assert_true(gtk_widget_get_sensitive(apply_button(dlg)));
  gtk_editable_set_text(lucy_voxel_dialog_get_entry(dlg, LUCY_VIEW_IMAGE, 0), "0x1");
  g_assert_false(gtk_widget_get_sensitive(apply_button(dlg)));
  gtk_window_destroy(GTK_WINDOW(dlg));
  close_window(win);
  g_free(calibrated);
  g_free(path);
}

/* The visible label under w whose text is text, or NULL. */
static GtkWidget *find_label(GtkWidget *w, const char *text) {
  if (GTK_IS_LABEL(w) && gtk_widget_get_visible(w) &&
      g_strcmp0(gtk_label_get_label(GTK_LABEL(w)), text) == 0)
    return w;
  for (GtkWidget *c = gtk_widget_get_first_child(w); c; c = gtk_widget_get_next_sibling(c)) {
    GtkWidget *found = find_label(c, text);
    if (found) return found;
  }
  return NULL;
}

/* At 1280x820 the PSF's ⚠ lines (a hyperstack PSF, sampled unlike the image) are in view above
 * the memory gauge, in Max Projection and in Slice mode, for both operations; they were under
 * Run, where the controls above pushed them below the fold. */
static void test_run_warnings_in_view(void) {
  char *image = fixture_file("tifffile-tiled-bigtiff.tif");
  char *psf = fixture_file("tifffile-imagej-hyperstack.tif");
  if (!image || !psf) return;
  LucyWindow *win = plain_window();
  open_file(win, image, FALSE);
  open_file(win, psf, TRUE);
  lucy_window_set_view(win, LUCY_VIEW_IMAGE);
  static const LucyOperation pages[2] = {LUCY_OPERATION_DECONVOLVE, LUCY_OPERATION_CONVOLVE};
  for (int i = 0; i < 4; i++) {
    lucy_window_set_operation(win, pages[i / 2]);
    lucy_display_panel_set_slice(lucy_window_get_display_panel(win), i % 2, 1);
    spin(150);
    const char *text = lucy_window_get_warning_text(win);
    g_test_message("warning: %s", text);
    g_assert_nonnull(strstr(text, "⚠ PSF: channel 0"));
    g_assert_nonnull(strstr(text, "⚠ PSF voxels"));
    GtkWidget *label = find_label(GTK_WIDGET(win), text);
    g_assert_nonnull(label);
    assert_in_view(win, label);
    assert_in_view(win, GTK_WIDGET(lucy_window_get_memory_gauge(win))); /* not pushed out */
    const char *shot = g_getenv("LUCY_WARNINGS_SCREENSHOT");
    if (shot) {
      char *name = g_strdup_printf("%s-%d.png", shot, i);
      lucy_widget_save_png(GTK_WIDGET(win), name, NULL);
      g_free(name);
    }
  }
  lucy_display_panel_set_slice(lucy_window_get_display_panel(win), FALSE, 0);
  close_window(win);
  g_free(psf);
  g_free(image);
}

int main(int argc, char **argv) {
  if (!g_getenv("DISPLAY") && !g_getenv("WAYLAND_DISPLAY")) {
    g_printerr("no display: skipped (run under xvfb-run)\n");
    return 77;
  }
  g_setenv("GTK_A11Y", "none", FALSE); /* no accessibility bus under plain Xvfb */
  g_test_init(&argc, &argv, NULL);
  g_test_log_set_fatal_handler(log_fatal_cb, NULL);
  gtk_init();
  app = lucy_application_new();
  g_application_set_flags(G_APPLICATION(app),
                          G_APPLICATION_NON_UNIQUE | G_APPLICATION_HANDLES_COMMAND_LINE);
  GError *error = NULL;
  g_assert_true(g_application_register(G_APPLICATION(app), NULL, &error));
  g_assert_no_error(error);
  g_test_add_func("/gui/demo", test_demo);
  g_test_add_func("/gui/gamma", test_gamma);
  g_test_add_func("/gui/window-pixels", test_window_pixels);
  g_test_add_func("/gui/modes", test_modes);
  g_test_add_func("/gui/real-files", test_real_files);
  g_test_add_func("/gui/cancel", test_cancel);
  g_test_add_func("/gui/memory-gauge", test_memory_gauge);
  g_test_add_func("/gui/memory-gauge/in-view", test_memory_gauge_in_view);
  g_test_add_func("/gui/memory-gauge/held", test_memory_gauge_held);
  g_test_add_func("/gui/memory-what-if", test_memory_what_if);
  g_test_add_func("/gui/corrupt", test_corrupt);
  g_test_add_func("/gui/screenshot", test_screenshot);
  g_test_add_func("/gui/screenshot/windows", test_screenshot_windows);
  g_test_add_func("/gui/deconvolve/run", test_deconvolve_run);
  g_test_add_func("/gui/deconvolve/demo", test_demo_deconvolve);
  g_test_add_func("/gui/deconvolve/preview", test_deconvolve_preview);
  g_test_add_func("/gui/tiled-run", test_tiled_run);
  g_test_add_func("/gui/deconvolve/cancel", test_deconvolve_cancel);
  g_test_add_func("/gui/deconvolve/screenshot", test_deconvolve_screenshot);
  g_test_add_func("/gui/points", test_points);
  g_test_add_func("/gui/points/action", test_points_action);
  g_test_add_func("/gui/compare", test_compare);
  g_test_add_func("/gui/psf-qa", test_psf_qa);
  g_test_add_func("/gui/psf-qa/measure-thread", test_psf_measure_thread);
  g_test_add_func("/gui/psf-qa/closed-mid-fix", test_psf_closed_mid_fix);
  g_test_add_func("/gui/thorough-planning", test_thorough_planning);
  g_test_add_func("/gui/compare/headers", test_compare_headers);
  g_test_add_func("/gui/constant-stack", test_constant_stack);
  g_test_add_func("/gui/empty-views", test_empty_views);
  g_test_add_func("/gui/status/file", test_status_names_file);
  g_test_add_func("/gui/default-psf", test_default_psf_said);
  g_test_add_func("/gui/psf-qa/uncalibrated", test_psf_qa_uncalibrated);
  g_test_add_func("/gui/hyperstack/chooser", test_hyperstack_chooser);
  g_test_add_func("/gui/hyperstack/command-line", test_hyperstack_command_line);
  g_test_add_func("/gui/hyperstack/contrast", test_hyperstack_contrast);
  g_test_add_func("/gui/voxel-size", test_voxel_size);
  g_test_add_func("/gui/voxel-size/status-line", test_status_line_keeps_shape);
  g_test_add_func("/gui/voxel-size/command-line", test_voxel_command_line);
  g_test_add_func("/gui/voxel-size/confirm", test_voxel_confirm);
  g_test_add_func("/gui/run-warnings-in-view", test_run_warnings_in_view);
  int status = g_test_run();
  g_object_unref(app);
  return status;
}
