/* lucy-cli convolve: IMG (*) PSF in one of the four padding modes, written as a TIFF.
 *
 * Memory: the PSF volume is freed as soon as the plan holds its OTF, and the only host arrays
 * alive during the transform are the input and the output (plus the plan's buffers), so the
 * peak stays near input + output + the plan's 3 P (less with --strategy low-memory). When only
 * tiles fit the budget (or --strategy tiled), the one-shot lucy_convolve runs them: input, PSF
 * and output stay on the host beside one small plan, as cli_report_memory_plan says. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *const conv_cmd = "convolve";

static void convolve_help(void) {
  printf("Usage: lucy-cli convolve IMG PSF -o OUT [--mode MODE] [options]\n"
         "\n"
         "Convolves the stack IMG with the point spread function PSF by FFT and writes OUT\n"
         "(float32 TIFF with the image's voxel size). Reports the PSF sum, the normalisation,\n"
         "the output shape and the FFT shape on stderr; shows progress for work over a second;\n"
         "Ctrl-C cancels and leaves no output file.\n"
         "\n"
         "Options:\n"
         "  -o, --output OUT     output TIFF (required)\n"
         "  -m, --mode MODE      padding mode (default same):\n"
         "                         circular  no padding, periodic wrap-around; output N\n"
         "                         same      output N, the part of full at the PSF origin\n"
         "                         full      output N+M-1, every voxel the PSF touches\n"
         "                         valid     output N-M+1, only voxels that saw the whole PSF\n"
         "                                   (an error when the PSF is larger than the image)\n"
         "      --origin ORIGIN  PSF origin: center (voxel M//2 per axis, the default) or scipy\n"
         "                       ((M-1)//2, so that same equals\n"
         "                       scipy.signal.fftconvolve(img, psf, mode='same'))\n"
         "      --no-normalize   use the PSF as stored (default: divide it by its sum)\n"
         "  -j, --threads N      CPU threads for the FFTs (default: one per usable CPU)\n"
         "      --thorough       plan FFTs by measuring (slow once, remembered as FFTW wisdom)\n"
         "      --strategy S     memory strategy: auto (the default: in-memory if it fits the\n"
         "                       budget, else low-memory, else tiles), in-memory (OTF and work\n"
         "                       buffer, 2 P), low-memory (the OTF as the PSF's z-planes, M0/L0\n"
         "                       of P, its z-transform done in each multiply: slower), tiled\n"
         "                       (x/y tiles with halos, one small plan for all; equal to the\n"
         "                       untiled result to float precision; progress counts tiles) or\n"
         "                       cpu (the CPU device, where lucy-cli runs: in-memory);\n"
         "                       'lucy-cli memory' predicts each\n"
         "      --memory-limit B the budget in bytes the strategy must fit (default: the free\n"
         "                       memory of the device); a forced strategy that does not fit it\n"
         "                       fails\n"
         "      --tile Y,X       tile the output in tiles of Y x X (implies --strategy tiled;\n"
         "                       without it, tiles are the largest that fit the budget:\n"
         "                       --memory-limit, else the free memory)\n"
         "      --channel C, --frame T\n"
         "                       the image's hyperstack channel and time point, 0-based\n"
         "                       (default 0, 0)\n"
         "      --psf-channel C, --psf-frame T\n"
         "                       the PSF's hyperstack channel and time point, 0-based\n"
         "                       (default 0, 0; a PSF with the image's channels says\n"
         "                       when --channel asks for another)\n"
         "      --voxel Z,Y,X    the image's voxel size in micrometres, in place of the\n"
         "                       file's (files without calibration read as 1 x 1 x 1); OUT\n"
         "                       carries it\n"
         "      --psf-voxel Z,Y,X\n"
         "                       the PSF's voxel size in micrometres, in place of the file's\n"
         "      --uint16         write uint16 (min..max scaled to 0..65535; the scaling is\n"
         "                       stored in the file's ImageJ description) instead of float32\n"
         "  -f, --force          overwrite OUT if it exists\n"
         "  -h, --help           show this help\n");
}

/* What the two ways of running (one plan, or the one-shot lucy_convolve that tiles) share. */
typedef struct ConvRun {
  CliProgress progress;
  size_t tiles; /* tiled: the progress stage counts tiles */
  const char *img_path, *psf_path;
  const LucyVolume *img, *psf;
} ConvRun;

/* LucyProgressFn: the planner's stages, or "tile 3/12". */
static int conv_progress(void *user, double fraction, const char *stage) {
  ConvRun *r = user;
  char buf[48];
  return cli_progress_fn(&r->progress, fraction,
                         cli_tile_stage(stage, fraction, r->tiles, buf, sizeof buf));
}

static int fail_convolve(const ConvRun *r, LucyStatus s, LucyPadMode mode) {
  char b1[64], b2[64];
  return cli_fail(s, "cannot convolve '%s' (%s) with PSF '%s' (%s) in %s mode", r->img_path,
                  cli_format_shape(r->img->shape, b1, sizeof b1), r->psf_path,
                  cli_format_shape(r->psf->shape, b2, sizeof b2), lucy_pad_mode_name(mode));
}

static void report_output(const size_t out_shape[3], const LucyConvOptions *o) {
  char buf[64];
  fprintf(stderr, "%s: output shape %s (z, y, x), mode %s, origin %s\n", conv_cmd,
          cli_format_shape(out_shape, buf, sizeof buf), lucy_pad_mode_name(o->mode),
          o->origin == LUCY_ORIGIN_SCIPY ? "scipy" : "center");
}

/* Runs the plan made by the caller and frees it; the PSF volume (*psf) is freed at once, as the
 * plan holds its OTF. */
static int convolve_planned(ConvRun *r, LucyConvPlan *plan, LucyVolume **psf,
                            const LucyConvOptions *o, LucyVolume **out) {
  lucy_volume_free(*psf);
  *psf = NULL;
  r->psf = NULL;
  char buf[64], buf2[64];
  cli_report_psf_sum(conv_cmd, lucy_conv_psf_sum(plan), o->normalize);
  size_t out_shape[3], fft_shape[3];
  lucy_conv_output_shape(plan, out_shape);
  lucy_conv_fft_shape(plan, fft_shape);
  report_output(out_shape, o);
  fprintf(stderr, "%s: FFT shape %s (z, y, x), plan holds %s (strategy %s)\n", conv_cmd,
          cli_format_shape(fft_shape, buf, sizeof buf),
          cli_format_bytes((double)lucy_conv_plan_bytes(plan), buf2, sizeof buf2),
          lucy_strategy_name(lucy_conv_plan_strategy(plan)));
  LucyStatus s = lucy_volume_new(out_shape, out);
  if (s != LUCY_OK) {
    lucy_conv_plan_free(plan);
    return cli_fail(s, "cannot allocate the %s output",
                    cli_format_shape(out_shape, buf, sizeof buf));
  }
  memcpy((*out)->voxel_um, r->img->voxel_um, sizeof (*out)->voxel_um);
  s = lucy_conv_execute(plan, r->img->data, (*out)->data);
  cli_progress_finish(&r->progress);
  lucy_conv_plan_free(plan);
  if (s != LUCY_OK)
    return cli_fail(s, "convolving '%s' with '%s'", r->img_path, r->psf_path);
  return CLI_EXIT_OK;
}

/* The one-shot lucy_convolve, for what one plan cannot do (tiles): it follows mp, the plan
 * cli_strategy_choose chose for o (whose memory_limit_bytes is that plan's budget). */
static int convolve_one_shot(ConvRun *r, const LucyConvOptions *o, const LucyMemoryPlan *mp,
                             LucyVolume **out) {
  LucyPsfCheck check;
  if (lucy_psf_check(r->psf, o->origin, &check) == LUCY_OK)
    cli_report_psf_sum(conv_cmd, check.sum, o->normalize);
  report_output(mp->out_shape, o);
  cli_report_memory_plan(conv_cmd, mp);
  r->tiles = mp->strategy == LUCY_STRATEGY_TILED ? mp->tiles[0] * mp->tiles[1] * mp->tiles[2] : 0;
  LucyStatus s = lucy_convolve(r->img, r->psf, o, out);
  cli_progress_finish(&r->progress);
  if (s != LUCY_OK)
    return cli_fail(s, "convolving '%s' with '%s'", r->img_path, r->psf_path);
  return CLI_EXIT_OK;
}

int cli_convolve_main(int argc, char **argv) {
  static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},
    {"mode", required_argument, NULL, 'm'},
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
  LucyConvOptions copts;
  lucy_conv_options_default(&copts);
  CliShared shared = {.origin = &copts.origin, .normalize = &copts.normalize, .threads = &copts.threads,
                      .planning = &copts.planning, .strategy = &copts.strategy, .tile = copts.tile,
                      .memory_limit = &copts.memory_limit_bytes};

  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":o:m:j:fh", longopts, NULL)) != -1) {
    switch (c) {
    case 'o': out_path = optarg; break;
    case 'm':
      if (lucy_pad_mode_parse(optarg, &copts.mode) != LUCY_OK)
        return cli_usage_error(conv_cmd, "--mode: '%s' is not one of circular, same, full, valid",
                               optarg);
      break;
    case 'h': convolve_help(); return CLI_EXIT_OK;
    default:
      if ((rc = cli_shared_option(conv_cmd, c, optarg, &shared)) == CLI_NOT_SHARED)
        return cli_getopt_error(conv_cmd, c, argv);
      if (rc) return rc;
    }
  }
  force = shared.force;
  uint16 = shared.uint16;
  const char *img_path = NULL, *psf_path = NULL;
  if ((rc = cli_img_psf_operands(conv_cmd, argc, argv, optind, out_path, &img_path, &psf_path)))
    return rc;
  if ((rc = cli_shared_finish(conv_cmd, &shared)))
    return rc;
  const char *inputs[] = {img_path, psf_path, NULL};
  if ((rc = cli_check_output(out_path, force, inputs)))
    return rc;
  cli_warn_threads(conv_cmd, *shared.threads);

  double t0 = cli_now();
  ConvRun run;
  memset(&run, 0, sizeof run);
  run.img_path = img_path;
  run.psf_path = psf_path;
  cli_progress_init(&run.progress, conv_cmd);
  copts.progress = conv_progress;
  copts.progress_user = &run;

  LucyVolume *img = NULL, *psf = NULL, *out = NULL;
  LucyConvPlan *plan = NULL;
  LucyStatus s;

  if ((s = cli_read_stack(conv_cmd, "image", img_path, &shared, 0, &img)) !=
      LUCY_OK) {
    rc = cli_fail(s, "cannot read image '%s'", img_path);
    goto done;
  }
  if ((s = cli_read_stack(conv_cmd, "PSF", psf_path, &shared, 0, &psf)) != LUCY_OK) {
    rc = cli_fail(s, "cannot read PSF '%s'", psf_path);
    goto done;
  }
  run.img = img;
  run.psf = psf;
  char geometry_warning[1024];
  cli_geometry_warnings(conv_cmd, img, psf, (int)copts.mode, copts.origin, geometry_warning,
                        sizeof geometry_warning);
  if ((rc = cli_check_cancelled(conv_cmd)))
    goto done;

  /* One plan when it fits; the one-shot function for tiles. */
  CliStrategy cs;
  cli_strategy_init(&cs, LUCY_MEMORY_CONVOLVE, img->shape, psf->shape, copts.strategy, copts.tile);
  cs.req.mode = copts.mode;
  if ((s = cli_strategy_prepare(conv_cmd, &cs, &copts.strategy, copts.memory_limit_bytes)) ==
      LUCY_OK) {
    if (!cs.one_shot) {
      s = lucy_conv_plan_new(img->shape, psf, &copts, &plan);
      cli_progress_finish(&run.progress);
    }
    s = cli_strategy_choose(conv_cmd, &cs, copts.strategy, s, &copts.memory_limit_bytes);
  }
  if (s != LUCY_OK) {
    rc = fail_convolve(&run, s, copts.mode);
    goto done;
  }
  if ((rc = cli_check_cancelled(conv_cmd)))
    goto done;
  if (cs.one_shot) {
    rc = convolve_one_shot(&run, &copts, &cs.plan, &out);
  } else {
    rc = convolve_planned(&run, plan, &psf, &copts, &out);
    plan = NULL;
  }
  if (rc != CLI_EXIT_OK)
    goto done;
  lucy_volume_free(img);
  img = NULL;
  if ((rc = cli_check_cancelled(conv_cmd)))
    goto done;

  fputs(geometry_warning, stderr);
  rc = cli_write_result(conv_cmd, out_path, out, force, uint16, t0);

done:
  cli_progress_finish(&run.progress);
  lucy_conv_plan_free(plan);
  lucy_volume_free(out);
  lucy_volume_free(psf);
  lucy_volume_free(img);
  return rc;
}
