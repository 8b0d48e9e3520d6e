/* Plan, else tile: the frame the convolution and deconvolution workers share. They first try
 * one plan kept on the device (the usual case: in-memory or low-memory as the budget allows,
 * with per-step reports and, for deconvolution, previews); when no single plan fits the device
 * budget (LUCY_ERR_DEVICE_MEMORY) they fall back to the core's one-shot call, which cuts the
 * work into tiles with halos (equal to the untiled result to float precision). Then the
 * result's projections are computed, still off the main thread. Each task names its two calls
 * and its title; this runs them in that order. */
#pragma once

#include <gio/gio.h>
#include "lucy-stack.h"
#include "lucy-task-relay.h"

G_BEGIN_DECLS

typedef struct {
  /* Plans, allocates *out (image voxel size) and executes; *what names the step that failed. */
  LucyStatus (*planned)(gpointer op, const LucyVolume *img, const LucyVolume *psf,
                        LucyVolume **out, const char **what);
  /* The core's one-shot call, which tiles (lucy_convolve, lucy_deconvolve). */
  LucyStatus (*tiled)(gpointer op, const LucyVolume *img, const LucyVolume *psf,
                      LucyVolume **out);
  const char *tiled_failed; /* what the error says failed when the tiled call fails */
  /* The result's title, newly allocated; tiled: the fallback ran. */
  char *(*title)(gpointer op, gboolean tiled, double seconds);
} LucyPlanOrTile;

/* The stage shown while a thorough plan measures its FFTs (no fraction: FFTW says nothing of
 * how far it got). */
#define LUCY_PLAN_OR_TILE_MEASURING "Planning FFTs (measuring, slow once per size)…"

/* TRUE when a plan on device (NULL: a CPU device made for it) with planning measures its FFTs:
 * thorough planning on the CPU (FFTW_MEASURE; cuFFT has no such mode). */
gboolean lucy_plan_or_tile_measures(LucyDevice *device, LucyPlanning planning);

/* On the worker thread: runs steps on image and psf (op is passed to each step) and returns
 * through task the result stack with its projections computed, or an error:
 * G_IO_ERROR_CANCELLED once the relay is cancelled, LUCY_ERROR with the core's message
 * otherwise. Stages "Planning" (LUCY_PLAN_OR_TILE_MEASURING when measuring, see
 * lucy_plan_or_tile_measures), "tiles" (fallback only) and "Projecting" go to the relay. */
void lucy_plan_or_tile_run(GTask *task, const LucyPlanOrTile *steps, gpointer op,
                           LucyTaskRelay *relay, LucyStack *image, LucyStack *psf,
                           gboolean measuring);

G_END_DECLS
