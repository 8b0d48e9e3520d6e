/* Benchmark (not a test): re-rendering the three projections after a gamma change, and
 * recomputing projections for a new result, on a 128×512×512 stack. Run under xvfb-run:
 *   xvfb-run -a build/tests/bench/bench-gui [nz ny nx] */
#include <gtk/gtk.h>
#include <stdlib.h>

#include "bench-util.h"
#include "lucy-display-panel.h"
#include "lucy-projection-view.h"
#include "lucy-snapshot.h"
#include "lucy-window.h"

int main(int argc, char **argv) {
  if (!g_getenv("DISPLAY") && !g_getenv("WAYLAND_DISPLAY")) {
    g_printerr("bench-gui needs a display (xvfb-run)\n");
    return 77;
  }
  g_setenv("GTK_A11Y", "none", FALSE);
  gtk_init();
  size_t shape[3] = {128, 512, 512};
  if (argc == 4)
    for (int a = 0; a < 3; a++) shape[a] = (size_t)g_ascii_strtoull(argv[a + 1], NULL, 10);
  LucyVolume *vol = NULL;
  if (lucy_volume_new(shape, &vol) != LUCY_OK ||
      lucy_phantom_random_spheres(vol, 200, 3, 12, 1.0, 1, NULL) != LUCY_OK) {
    g_printerr("%s\n", lucy_error_message());
    return 1;
  }
  for (int a = 0; a < 3; a++) vol->voxel_um[a] = a == 0 ? 0.3 : 0.1;
  enum { N = 31 };
  double t[N];

  /* projections of a new result */
  for (int i = 0; i < 7; i++) {
    LucyVolume *copy = NULL;
    lucy_volume_copy(vol, &copy);
    LucyStack *s = lucy_stack_new_take(copy, "bench");
    gint64 t0 = g_get_monotonic_time();
    lucy_stack_ensure_projections(s, NULL);
    t[i] = (g_get_monotonic_time() - t0) / 1e3;
    g_object_unref(s);
  }
  double proj_ms = bench_median(t, 7);

  LucyWindow *win = lucy_window_new(NULL);
  LucyStack *stack = lucy_stack_new_take(vol, "bench");
  lucy_window_set_image(win, stack);
  gtk_window_set_default_size(GTK_WINDOW(win), 1280, 820);
  gtk_window_present(GTK_WINDOW(win));
  gint64 until = g_get_monotonic_time() + 800 * 1000; /* mapped, laid out and drawn once */
  while (g_get_monotonic_time() < until) g_main_context_iteration(NULL, FALSE), g_usleep(1000);
  LucyDisplayPanel *panel = lucy_window_get_display_panel(win);
  LucyProjectionView *view = lucy_window_get_projection_view(win);

  /* a gamma change: the slider's signal through to new RGBA for the three panels */
  for (int i = 0; i < N; i++) {
    gint64 t0 = g_get_monotonic_time();
    lucy_display_panel_set_gamma(panel, 0.3 + 0.1 * (i % 20));
    t[i] = (g_get_monotonic_time() - t0) / 1e3;
  }
  double gamma_ms = bench_median(t, N);
  until = g_get_monotonic_time() + 300 * 1000;
  while (g_get_monotonic_time() < until) g_main_context_iteration(NULL, FALSE), g_usleep(1000);
  /* and drawing the view once (cairo, nearest-neighbour scaling) */
  for (int i = 0; i < 11; i++) {
    gint64 t0 = g_get_monotonic_time();
    GError *error = NULL;
    GdkTexture *tex = lucy_widget_render_texture(GTK_WIDGET(view), &error);
    t[i] = (g_get_monotonic_time() - t0) / 1e3;
    if (!tex) g_printerr("%s\n", error->message), exit(1);
    g_clear_object(&tex);
  }
  double draw_ms = bench_median(t, 11);
  g_print("stack %zux%zux%zu\n", shape[0], shape[1], shape[2]);
  g_print("projections (3 max projections of a new result): median %.2f ms\n", proj_ms);
  g_print("gamma change -> RGBA of 3 panels:                median %.2f ms\n", gamma_ms);
  g_print("drawing the view (%dx%d, cairo):                 median %.2f ms\n",
          gtk_widget_get_width(GTK_WIDGET(view)), gtk_widget_get_height(GTK_WIDGET(view)),
          draw_ms);
  g_object_unref(stack);
  gtk_window_destroy(GTK_WINDOW(win));
  return 0;
}
