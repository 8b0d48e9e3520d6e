/* lucy-cli deconvolve: Richardson-Lucy (plain, TV-regularised, accelerated) or one-step
 * Wiener restoration of IMG with PSF, written as a TIFF.
 *
 * One line per iteration on stderr (iteration, I-divergence, relative change, elapsed time);
 * Ctrl-C is seen between iterations (the monitor) and inside them (the progress callback), and
 * leaves no output file. Memory: the PSF volume is freed as soon as the plan holds its OTF; the
 * host arrays alive while iterating are the image and the output, plus the plan's buffers.
 * When only tiles fit the budget (or --strategy tiled), the one-shot lucy_deconvolve restores
 * the tiles one by one and blends them: no iteration lines then, progress counts tiles. */
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *const decon_cmd = "deconvolve";

static void deconvolve_help(void) {
  printf("Usage: lucy-cli deconvolve IMG PSF -o OUT --iterations N [options]\n"
         "\n"
         "Restores the stack IMG blurred by the point spread function PSF and writes OUT\n"
         "(float32 TIFF with the image's voxel size, the image's shape). Reports the PSF sum,\n"
         "the normalisation, a PSF that is not centred on its origin, the FFT shape and the\n"
         "plan's memory on stderr, then one line per iteration:\n"
         "  deconvolve: iteration 12/50  I-div 1.234e+05  change 3.1e-03  0.84 s\n"
         "(the I-divergence of the model to the image, the relative L1 change of the estimate,\n"
         "seconds since iterating began). Ctrl-C cancels and leaves no output file.\n"
         "\n"
         "Options:\n"
         "  -o, --output OUT       output TIFF (required)\n"
         "  -n, --iterations N     iterations (required for rl and rltv; N >= 1)\n"
         "  -m, --method METHOD    rl      Richardson-Lucy (the default)\n"
         "                         rltv    Richardson-Lucy with total-variation\n"
         "                                 regularisation (Dey et al.), weight --tv\n"
         "                         wiener  one-step Wiener/Tikhonov, weight --wiener-k\n"
         "      --boundary EDGES   noncirculant  embed the image in a larger domain and\n"
         "                                       normalise by the observed region (the\n"
         "                                       default; no wrap-around at the edges)\n"
         "                         circular      periodic FFT of the image's size (fastest)\n"
         "      --tv LAMBDA        TV weight for --method rltv (default 0.002)\n"
         "      --accelerate       Biggs-Andrews vector extrapolation (fewer iterations)\n"
         "      --background B     constant background in the model y ~ Hx + B (default 0)\n"
         "      --start START      first estimate: flat (the image's mean, the default),\n"
         "                         image (the image itself) or value:V (the constant V > 0)\n"
         "      --stop-rel R       stop early once the relative change falls below R\n"
         "      --wiener-k K       Wiener/Tikhonov regularisation relative to max|H|^2\n"
         "                         (default 0.001)\n"
         "      --origin ORIGIN    PSF origin: center (voxel M//2 per axis, the default) or\n"
         "                         scipy ((M-1)//2)\n"
         "      --no-normalize     use the PSF as stored (default: divide it by its sum)\n"
         "  -j, --threads N        CPU threads for the FFTs (default: one per usable CPU)\n"
         "      --thorough         plan FFTs by measuring (slow once, remembered as wisdom)\n"
         "      --strategy S       memory strategy: auto (the default: in-memory if it fits\n"
         "                         the budget, else low-memory, else tiles), in-memory,\n"
         "                         low-memory (the OTF kept as the PSF's z-planes and, with\n"
         "                         noncirculant edges, no P-sized weights: 4 P -> 2.35 P for\n"
         "                         RL at 64x256x256 with a 31x63x63 PSF; slower), tiled (x/y\n"
         "                         tiles with halos of the PSF's size, each restored on its\n"
         "                         own and blended: an approximation; no per-iteration lines,\n"
         "                         progress counts tiles) or cpu (the CPU device, where\n"
         "                         lucy-cli runs: in-memory); 'lucy-cli memory' predicts each\n"
         "      --memory-limit B   the budget in bytes the strategy must fit (default: the\n"
         "                         free memory of the device); a forced strategy that does\n"
         "                         not fit it fails\n"
         "      --tile Y,X         restore in tiles of Y x X before halos (implies --strategy\n"
         "                         tiled; without it, tiles are the largest that fit\n"
         "                         --memory-limit, else the free memory)\n"
         "      --channel C, --frame T\n"
         "                         the image's hyperstack channel and time point, 0-based\n"
         "                         (default 0, 0)\n"
         "      --psf-channel C, --psf-frame T\n"
         "                         the PSF's hyperstack channel and time point, 0-based\n"
         "                         (default 0, 0; a PSF with the image's channels says\n"
         "                         when --channel asks for another)\n"
         "      --voxel Z,Y,X      the image's voxel size in micrometres, in place of the\n"
         "                         file's (files without calibration read as 1 x 1 x 1);\n"
         "                         OUT carries it\n"
         "      --psf-voxel Z,Y,X  the PSF's voxel size in micrometres, in place of the file's\n"
         "      --uint16           write uint16 (min..max scaled to 0..65535; the scaling is\n"
         "                         stored in the file's ImageJ description) instead of float32\n"
         "  -f, --force            overwrite OUT if it exists\n"
         "  -h, --help             show this help\n"
         "\n"
         "Example:\n"
         "  lucy-cli deconvolve img.tif psf.tif -o restored.tif --iterations 50 --accelerate\n");
}

enum {
  OPT_BOUNDARY = 256,
  OPT_TV,
  OPT_ACCELERATE,
  OPT_BACKGROUND,
  OPT_START,
  OPT_STOP_REL,
  OPT_WIENER_K
};

/* What the monitor and the progress callback share, and the two ways of running (one plan, or
 * the one-shot lucy_deconvolve that tiles). */
typedef struct DeconRun {
  CliProgress progress;
  int iterations;  /* the maximum, for "12/50" */
  int executing;   /* 0 while planning (or tiling): progress as convolve shows it; 1 while
                      iterating */
  int last_iteration;
  double last_change;
  size_t tiles;    /* tiled: the progress stage counts tiles */
  const char *img_path, *psf_path;
  const LucyVolume *img, *psf;
} DeconRun;

/* The test hook of cli-progress.c (LUCY_CLI_TEST_SIGINT=1), for reports that print nothing. */
static int quiet_check(DeconRun *r) {
  if (r->progress.test_sigint == 1) {
    r->progress.test_sigint = 0;
    raise(SIGINT); /* through the real handler, as a key press would */
  }
  return cli_cancelled();
}

/* LucyProgressFn. While iterating, the iteration lines are the progress: only cancel here. */
static int decon_progress(void *user, double fraction, const char *stage) {
  DeconRun *r = user;
  char buf[48];
  if (!r->executing)
    return cli_progress_fn(&r->progress, fraction,
                           cli_tile_stage(stage, fraction, r->tiles, buf, sizeof buf));
  return quiet_check(r);
}

/* LucyDeconMonitorFn: one line per iteration, on the thread running execute. */
static int decon_monitor(void *user, const LucyDeconIteration *it) {
  DeconRun *r = user;
  cli_progress_finish(&r->progress);
  fprintf(stderr, "%s: iteration %d/%d  I-div %.4e  change %.2e  %.2f s\n", decon_cmd,
          it->iteration, r->iterations, it->idiv, it->rel_change, it->seconds);
  fflush(stderr);
  r->last_iteration = it->iteration;
  r->last_change = it->rel_change;
  return quiet_check(r);
}

static int parse_start(const char *arg, LucyDeconOptions *o) {
  if (strcmp(arg, "flat") == 0) {
    o->start = LUCY_START_FLAT;
    return CLI_EXIT_OK;
  }
  if (strcmp(arg, "image") == 0) {
    o->start = LUCY_START_IMAGE;
    return CLI_EXIT_OK;
  }
  if (strncmp(arg, "value:", 6) == 0) {
    const char *why = "";
    if (!cli_parse_double(arg + 6, 0.0, HUGE_VAL, 1, &o->start_value, &why))
      return cli_usage_error(decon_cmd, "--start: value: %s", why);
    o->start = LUCY_START_VALUE;
    return CLI_EXIT_OK;
  }
  return cli_usage_error(decon_cmd, "--start: '%s' is not one of flat, image, value:V", arg);
}

static const char *start_text(const LucyDeconOptions *o, char *buf, size_t size) {
  switch (o->start) {
  case LUCY_START_FLAT: return "flat (the image's mean)";
  case LUCY_START_IMAGE: return "the image";
  case LUCY_START_VALUE: snprintf(buf, size, "the constant %g", o->start_value); return buf;
  }
  return "?";
}

static int fail_deconvolve(const DeconRun *r, LucyStatus s) {
  char b1[64], b2[64];
  return cli_fail(s, "cannot deconvolve '%s' (%s) with PSF '%s' (%s)", r->img_path,
                  cli_format_shape(r->img->shape, b1, sizeof b1), r->psf_path,
                  cli_format_shape(r->psf->shape, b2, sizeof b2));
}

/* The PSF's warning and sum, then the method line. */
static void report_setup(const LucyDeconOptions *o, int iterative, const char *warning,
                         double psf_sum) {
  char buf[64];
  /* A PSF whose peak or centroid is away from its origin shifts the result: say so. */
  if (warning && warning[0])
    fprintf(stderr, "%s: warning: %s\n", decon_cmd, warning);
  cli_report_psf_sum(decon_cmd, psf_sum, o->normalize);
  if (!iterative) {
    fprintf(stderr, "%s: method wiener (one step), boundary %s, k %g relative to max|H|^2\n",
            decon_cmd, lucy_boundary_name(o->boundary), o->wiener_k);
    return;
  }
  char extra[160] = "";
  size_t len = 0;
  if (o->method == LUCY_DECON_RLTV)
    len += (size_t)snprintf(extra + len, sizeof extra - len, ", TV lambda %g", o->tv_lambda);
  if (o->accelerate && len < sizeof extra)
    len += (size_t)snprintf(extra + len, sizeof extra - len, ", accelerated");
  if (o->background > 0.0 && len < sizeof extra)
    len += (size_t)snprintf(extra + len, sizeof extra - len, ", background %g", o->background);
  if (o->stop_rel > 0.0 && len < sizeof extra)
    snprintf(extra + len, sizeof extra - len, ", stop when change < %g", o->stop_rel);
  fprintf(stderr, "%s: method %s, boundary %s, %d iteration%s, start %s%s\n", decon_cmd,
          lucy_decon_method_name(o->method), lucy_boundary_name(o->boundary), o->iterations,
          o->iterations == 1 ? "" : "s", start_text(o, buf, sizeof buf), extra);
}

/* Runs the plan made by the caller and frees it; the PSF volume (*psf) is freed at once, as the
 * plan holds its OTF. Restores in place: *img becomes *out. */
static int deconvolve_planned(DeconRun *r, LucyDeconPlan *plan, LucyVolume **img,
                              LucyVolume **psf, const LucyDeconOptions *o, int iterative,
                              LucyVolume **out) {
  lucy_volume_free(*psf);
  *psf = NULL;
  r->psf = NULL;
  report_setup(o, iterative, lucy_decon_plan_warning(plan), lucy_decon_psf_sum(plan));
  char buf[64], buf2[64], buf3[32];
  size_t fft_shape[3];
  lucy_decon_fft_shape(plan, fft_shape);
  fprintf(stderr, "%s: image %s (z, y, x), FFT shape %s, origin %s, plan holds %s "
          "(strategy %s)\n", decon_cmd,
          cli_format_shape((*img)->shape, buf, sizeof buf),
          cli_format_shape(fft_shape, buf2, sizeof buf2),
          o->origin == LUCY_ORIGIN_SCIPY ? "scipy" : "center",
          cli_format_bytes((double)lucy_decon_plan_bytes(plan), buf3, sizeof buf3),
          lucy_strategy_name(lucy_decon_plan_strategy(plan)));

  /* Restore in place: the image's array becomes the result (the core allows out == image and
   * writes it only after the last iteration), so peak memory holds one image-sized array. */
  r->executing = 1;
  int done_iterations = 0;
  double t_exec = cli_now();
  LucyStatus s = lucy_decon_execute(plan, (*img)->data, (*img)->data, &done_iterations);
  cli_progress_finish(&r->progress);
  lucy_decon_plan_free(plan);
  if (s != LUCY_OK)
    return cli_fail(s, "deconvolving '%s' with '%s'", r->img_path, r->psf_path);
  *out = *img;
  *img = NULL;
  r->img = NULL;
  double t_iter = cli_now() - t_exec;
  if (iterative && !cli_cancelled()) {
    if (done_iterations < o->iterations)
      fprintf(stderr, "%s: stopped after %d of %d iterations: change %.2e < %g (--stop-rel)\n",
              decon_cmd, done_iterations, o->iterations, r->last_change, o->stop_rel);
    if (done_iterations > 0)
      fprintf(stderr, "%s: %d iteration%s in %.2f s (%.3f s each)\n", decon_cmd,
              done_iterations, done_iterations == 1 ? "" : "s", t_iter,
              t_iter / done_iterations);
  }
  return CLI_EXIT_OK;
}

/* The one-shot lucy_deconvolve, for what one plan cannot do (tiles): it follows mp, the plan
 * cli_strategy_choose chose for o (whose memory_limit_bytes is that plan's budget). */
static int deconvolve_one_shot(DeconRun *r, const LucyDeconOptions *o, int iterative,
                               const LucyMemoryPlan *mp, LucyVolume **out) {
  LucyPsfCheck check;
  if (lucy_psf_check(r->psf, o->origin, &check) == LUCY_OK)
    report_setup(o, iterative, check.off_centre ? check.message : NULL, check.sum);
  cli_report_memory_plan(decon_cmd, mp);
  const int tiled = mp->strategy == LUCY_STRATEGY_TILED;
  r->tiles = tiled ? mp->tiles[0] * mp->tiles[1] * mp->tiles[2] : 0;
  if (tiled && iterative)
    fprintf(stderr, "%s: no per-iteration lines when tiled (each tile iterates on its own); "
            "progress counts tiles\n", decon_cmd);
  r->executing = !tiled; /* from a GPU to the CPU: one whole run, with its iteration lines */
  int done_iterations = 0;
  double t_exec = cli_now();
  LucyStatus s = lucy_deconvolve(r->img, r->psf, o, out, &done_iterations);
  cli_progress_finish(&r->progress);
  if (s != LUCY_OK)
    return cli_fail(s, "deconvolving '%s' with '%s'", r->img_path, r->psf_path);
  if (iterative && tiled && !cli_cancelled()) {
    if (done_iterations < o->iterations)
      fprintf(stderr, "%s: %zu tiles in %.2f s (the last stopped after %d of %d iterations: "
              "--stop-rel)\n", decon_cmd, r->tiles, cli_now() - t_exec, done_iterations,
              o->iterations);
    else
      fprintf(stderr, "%s: %zu tile%s of %d iteration%s in %.2f s\n", decon_cmd, r->tiles,
              r->tiles == 1 ? "" : "s", done_iterations, done_iterations == 1 ? "" : "s",
              cli_now() - t_exec);
  }
  return CLI_EXIT_OK;
}

int cli_deconvolve_main(int argc, char **argv) {
  static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},
    {"iterations", required_argument, NULL, 'n'},
    {"method", required_argument, NULL, 'm'},
    {"boundary", required_argument, NULL, OPT_BOUNDARY},
    {"tv", required_argument, NULL, OPT_TV},
    {"accelerate", no_argument, NULL, OPT_ACCELERATE},
    {"background", required_argument, NULL, OPT_BACKGROUND},
    {"start", required_argument, NULL, OPT_START},
    {"stop-rel", required_argument, NULL, OPT_STOP_REL},
    {"wiener-k", required_argument, NULL, OPT_WIENER_K},
    {"origin", required_argument, NULL, CLI_OPT_ORIGIN},
    {"no-normalize", no_argument, NULL, CLI_OPT_NO_NORMALIZE},
    {"threads", required_argument, NULL, 'j'},
    {"thorough", no_argument, NULL, CLI_OPT_THOROUGH},
    {"uint16", no_argument, NULL, CLI_OPT_UINT16},
    {"strategy", required_argument, NULL, CLI_OPT_STRATEGY},
    {"memory-limit", required_argument, NULL, CLI_OPT_LIMIT},
    {"tile", required_argument, NULL, CLI_OPT_TILE},
    {"channel", required_argument, NULL, CLI_OPT_CHANNEL},
    {"frame", required_argument, NULL, CLI_OPT_FRAME},
    {"psf-channel", required_argument, NULL, CLI_OPT_PSF_CHANNEL},
    {"psf-frame", required_argument, NULL, CLI_OPT_PSF_FRAME},
    {"voxel", required_argument, NULL, CLI_OPT_VOXEL},
    {"psf-voxel", required_argument, NULL, CLI_OPT_PSF_VOXEL},
    {"force", no_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  const char *out_path = NULL;
  int force = 0, uint16 = 0, rc;
  int have_iterations = 0, have_tv = 0, have_wiener_k = 0, have_model = 0;
  LucyDeconOptions dopts;
  lucy_decon_options_default(&dopts);
  CliShared shared = {.origin = &dopts.origin, .normalize = &dopts.normalize, .threads = &dopts.threads,
                      .planning = &dopts.planning, .strategy = &dopts.strategy, .tile = dopts.tile,
                      .memory_limit = &dopts.memory_limit_bytes};

  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":o:n:m:j:fh", longopts, NULL)) != -1) {
    switch (c) {
    case 'o': out_path = optarg; break;
    case 'n':
      if ((rc = cli_opt_int(decon_cmd, "--iterations", optarg, 1, 1000000, &dopts.iterations)))
        return rc;
      have_iterations = 1;
      break;
    case 'm':
      if (lucy_decon_method_parse(optarg, &dopts.method) != LUCY_OK)
        return cli_usage_error(decon_cmd, "--method: '%s' is not one of rl, rltv, wiener",
                               optarg);
      break;
    case OPT_BOUNDARY:
      if (lucy_boundary_parse(optarg, &dopts.boundary) != LUCY_OK)
        return cli_usage_error(decon_cmd,
                               "--boundary: '%s' is not one of noncirculant, circular", optarg);
      break;
    case OPT_TV:
      if ((rc = cli_opt_double(decon_cmd, "--tv", optarg, 0.0, 1.0, 0, &dopts.tv_lambda)))
        return rc;
      have_tv = 1;
      break;
    case OPT_ACCELERATE: dopts.accelerate = 1; break;
    case OPT_BACKGROUND:
      if ((rc = cli_opt_double(decon_cmd, "--background", optarg, 0.0, HUGE_VAL, 0,
                               &dopts.background)))
        return rc;
      have_model = 1;
      break;
    case OPT_START:
      if ((rc = parse_start(optarg, &dopts)))
        return rc;
      have_model = 1;
      break;
    case OPT_STOP_REL:
      if ((rc = cli_opt_double(decon_cmd, "--stop-rel", optarg, 0.0, HUGE_VAL, 0,
                               &dopts.stop_rel)))
        return rc;
      break;
    case OPT_WIENER_K:
      if ((rc = cli_opt_double(decon_cmd, "--wiener-k", optarg, 0.0, HUGE_VAL, 1,
                               &dopts.wiener_k)))
        return rc;
      have_wiener_k = 1;
      break;
    case 'h': deconvolve_help(); return CLI_EXIT_OK;
    default:
      if ((rc = cli_shared_option(decon_cmd, c, optarg, &shared)) == CLI_NOT_SHARED)
        return cli_getopt_error(decon_cmd, c, argv);
      if (rc) return rc;
    }
  }
  force = shared.force;
  uint16 = shared.uint16;
  const char *img_path = NULL, *psf_path = NULL;
  if ((rc = cli_img_psf_operands(decon_cmd, argc, argv, optind, out_path, &img_path, &psf_path)))
    return rc;
  int iterative = dopts.method != LUCY_DECON_WIENER;
  if (iterative && !have_iterations)
    return cli_usage_error(decon_cmd, "missing --iterations N (N >= 1)");
  if (have_tv && dopts.method != LUCY_DECON_RLTV)
    return cli_usage_error(decon_cmd, "--tv applies only to --method rltv");
  if (have_wiener_k && dopts.method != LUCY_DECON_WIENER)
    return cli_usage_error(decon_cmd, "--wiener-k applies only to --method wiener");
  if (!iterative && (have_iterations || dopts.accelerate || dopts.stop_rel > 0.0 || have_model))
    return cli_usage_error(decon_cmd, "--method wiener is one step: --iterations, --accelerate, "
                                      "--stop-rel, --background and --start do not apply");
  if ((rc = cli_shared_finish(decon_cmd, &shared)))
    return rc;
  const char *inputs[] = {img_path, psf_path, NULL};
  if ((rc = cli_check_output(out_path, force, inputs)))
    return rc;
  cli_warn_threads(decon_cmd, *shared.threads);

  double t0 = cli_now();
  DeconRun run;
  memset(&run, 0, sizeof run);
  cli_progress_init(&run.progress, decon_cmd);
  run.iterations = iterative ? dopts.iterations : 1;
  run.img_path = img_path;
  run.psf_path = psf_path;
  dopts.progress = decon_progress;
  dopts.progress_user = &run;
  dopts.monitor = iterative ? decon_monitor : NULL;
  dopts.monitor_user = &run;

  LucyVolume *img = NULL, *psf = NULL, *out = NULL;
  LucyDeconPlan *plan = NULL;
  LucyStatus s;

  if ((s = cli_read_stack(decon_cmd, "image", img_path, &shared, 1, &img)) !=
      LUCY_OK) {
    rc = cli_fail(s, "cannot read image '%s'", img_path);
    goto done;
  }
  if ((s = cli_read_stack(decon_cmd, "PSF", psf_path, &shared, 0, &psf)) != LUCY_OK) {
    rc = cli_fail(s, "cannot read PSF '%s'", psf_path);
    goto done;
  }
  run.img = img;
  run.psf = psf;
  char geometry_warning[1024];
  const int geom = dopts.boundary == LUCY_BOUNDARY_CIRCULAR ? CLI_GEOM_CIRCULAR
                   : dopts.method == LUCY_DECON_WIENER      ? CLI_GEOM_WIENER
                                                            : CLI_GEOM_RL;
  cli_geometry_warnings(decon_cmd, img, psf, geom, dopts.origin, geometry_warning,
                        sizeof geometry_warning);
  if ((rc = cli_check_cancelled(decon_cmd)))
    goto done;

  /* One plan when it fits; the one-shot function for tiles. */
  CliStrategy cs;
  cli_strategy_init(&cs, LUCY_MEMORY_DECONVOLVE, img->shape, psf->shape, dopts.strategy,
                    dopts.tile);
  cs.req.method = dopts.method;
  cs.req.boundary = dopts.boundary;
  cs.req.accelerate = dopts.accelerate;
  if ((s = cli_strategy_prepare(decon_cmd, &cs, &dopts.strategy, dopts.memory_limit_bytes)) ==
      LUCY_OK) {
    if (!cs.one_shot) {
      s = lucy_decon_plan_new(img->shape, img->voxel_um, psf, &dopts, &plan);
      cli_progress_finish(&run.progress);
    }
    s = cli_strategy_choose(decon_cmd, &cs, dopts.strategy, s, &dopts.memory_limit_bytes);
  }
  if (s != LUCY_OK) {
    rc = fail_deconvolve(&run, s);
    goto done;
  }
  if ((rc = cli_check_cancelled(decon_cmd)))
    goto done;
  if (cs.one_shot) {
    rc = deconvolve_one_shot(&run, &dopts, iterative, &cs.plan, &out);
  } else {
    rc = deconvolve_planned(&run, plan, &img, &psf, &dopts, iterative, &out);
    plan = NULL;
  }
  if (rc != CLI_EXIT_OK)
    goto done;
  lucy_volume_free(img);
  img = NULL;
  if ((rc = cli_check_cancelled(decon_cmd)))
    goto done;

  fputs(geometry_warning, stderr);
  rc = cli_write_result(decon_cmd, out_path, out, force, uint16, t0);

done:
  cli_progress_finish(&run.progress);
  if (plan)
    lucy_decon_plan_free(plan);
  lucy_volume_free(out);
  lucy_volume_free(psf);
  lucy_volume_free(img);
  return rc;
}
