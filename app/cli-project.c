/* lucy-cli project: the XY | ZY over XZ max-projection figure of a stack as a PNG. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *const proj_cmd = "project";

static void project_help(void) {
  printf("Usage: lucy-cli project IMG -o OUT.png [options]\n"
         "\n"
         "Writes the orthogonal maximum projections of IMG as one PNG: XY, with ZY to its right\n"
         "and XZ below, scaled to the physical voxel size. One contrast range for all panels.\n"
         "The figure is rendered colour, not data: OUT must end in .png.\n"
         "\n"
         "Options:\n"
         "  -o, --output OUT.png   output PNG (required)\n"
         "      --voxel Z,Y,X      voxel size in micrometres for the aspect ratio, in place of\n"
         "                         the file's (files without calibration read as 1 x 1 x 1)\n"
         "      --channel C, --frame T\n"
         "                         the hyperstack channel and time point to show, 0-based\n"
         "                         (default 0, 0)\n"
         "  -g, --gamma G          display gamma, > 0 (default 1)\n"
         "      --vmin V --vmax V  fixed display range (give both; default: automatic)\n"
         "      --pmin P --pmax P  percentiles of the automatic range, 0..100\n"
         "                         (default 0.1 and 99.9)\n"
         "  -c, --colormap NAME    gray, magma, viridis or coolwarm (default gray)\n"
         "      --log              logarithmic display (for PSFs), 4 decades below the maximum\n"
         "      --sxy F            screen pixels per lateral voxel (default: fit to ~768 px)\n"
         "      --sz F             screen pixels per axial voxel (default: sxy * voxel z / x)\n"
         "  -f, --force            overwrite OUT.png if it exists\n"
         "  -h, --help             show this help\n");
}

enum { OPT_VMIN = 256, OPT_VMAX, OPT_PMIN, OPT_PMAX, OPT_LOG, OPT_SXY, OPT_SZ };

/* Width and height from the PNG's IHDR chunk; 0 when the file is not a PNG. */
static int png_size(const char *path, unsigned *width, unsigned *height) {
  static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  unsigned char h[24];
  FILE *f = fopen(path, "rb");
  if (!f)
    return 0;
  size_t n = fread(h, 1, sizeof h, f);
  fclose(f);
  if (n != sizeof h || memcmp(h, sig, 8) != 0 || memcmp(h + 12, "IHDR", 4) != 0)
    return 0;
  *width = (unsigned)h[16] << 24 | (unsigned)h[17] << 16 | (unsigned)h[18] << 8 | h[19];
  *height = (unsigned)h[20] << 24 | (unsigned)h[21] << 16 | (unsigned)h[22] << 8 | h[23];
  return 1;
}

int cli_project_main(int argc, char **argv) {
  static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},
    {"gamma", required_argument, NULL, 'g'},
    {"vmin", required_argument, NULL, OPT_VMIN},
    {"vmax", required_argument, NULL, OPT_VMAX},
    {"pmin", required_argument, NULL, OPT_PMIN},
    {"pmax", required_argument, NULL, OPT_PMAX},
    {"colormap", required_argument, NULL, 'c'},
    {"log", no_argument, NULL, OPT_LOG},
    {"sxy", required_argument, NULL, OPT_SXY},
    {"sz", required_argument, NULL, OPT_SZ},
    {"voxel", required_argument, NULL, CLI_OPT_VOXEL},
    {"channel", required_argument, NULL, CLI_OPT_CHANNEL},
    {"frame", required_argument, NULL, CLI_OPT_FRAME},
    {"force", no_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  const char *out_path = NULL;
  int force = 0, rc;
  int have_vmin = 0, have_vmax = 0, have_pmin = 0, have_pmax = 0;
  CliShared shared = {0}; /* --voxel, --channel, --frame */
  LucyFigureOptions fopts;
  lucy_figure_options_default(&fopts);
  LucyRenderOptions *r = &fopts.render;

  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":o:g:c:fh", longopts, NULL)) != -1) {
    switch (c) {
    case 'o': out_path = optarg; break;
    case 'g':
      if ((rc = cli_opt_double(proj_cmd, "--gamma", optarg, 0.0, 100.0, 1, &r->gamma)))
        return rc;
      break;
    case OPT_VMIN:
      if ((rc = cli_opt_double(proj_cmd, "--vmin", optarg, -HUGE_VAL, HUGE_VAL, 0, &r->vmin)))
        return rc;
      have_vmin = 1;
      break;
    case OPT_VMAX:
      if ((rc = cli_opt_double(proj_cmd, "--vmax", optarg, -HUGE_VAL, HUGE_VAL, 0, &r->vmax)))
        return rc;
      have_vmax = 1;
      break;
    case OPT_PMIN:
      if ((rc = cli_opt_double(proj_cmd, "--pmin", optarg, 0.0, 100.0, 0, &r->pmin)))
        return rc;
      have_pmin = 1;
      break;
    case OPT_PMAX:
      if ((rc = cli_opt_double(proj_cmd, "--pmax", optarg, 0.0, 100.0, 0, &r->pmax)))
        return rc;
      have_pmax = 1;
      break;
    case 'c':
      if (lucy_colormap_parse(optarg, &r->colormap) != LUCY_OK)
        return cli_usage_error(proj_cmd,
                               "--colormap: '%s' is not one of gray, magma, viridis, coolwarm",
                               optarg);
      break;
    case OPT_LOG: r->log = 1; break;
    case OPT_SXY:
      if ((rc = cli_opt_double(proj_cmd, "--sxy", optarg, 0.0, 64.0, 1, &fopts.sxy)))
        return rc;
      break;
    case OPT_SZ:
      if ((rc = cli_opt_double(proj_cmd, "--sz", optarg, 0.0, 64.0, 1, &fopts.sz)))
        return rc;
      break;
    case 'f': force = 1; break;
    case 'h': project_help(); return CLI_EXIT_OK;
    default:
      if ((rc = cli_shared_option(proj_cmd, c, optarg, &shared)) == CLI_NOT_SHARED)
        return cli_getopt_error(proj_cmd, c, argv);
      if (rc)
        return rc;
    }
  }
  if (optind >= argc)
    return cli_usage_error(proj_cmd, "missing IMG");
  if (argc - optind > 1)
    return cli_usage_error(proj_cmd, "unexpected argument '%s'", argv[optind + 1]);
  if (!out_path)
    return cli_usage_error(proj_cmd, "missing -o OUT.png");
  if (have_vmin != have_vmax)
    return cli_usage_error(proj_cmd, "--vmin and --vmax go together");
  if (have_vmin && (have_pmin || have_pmax))
    return cli_usage_error(proj_cmd, "--vmin/--vmax and --pmin/--pmax exclude each other");
  if (have_vmin) {
    if (!(r->vmax > r->vmin))
      return cli_usage_error(proj_cmd, "--vmax (%g) must be greater than --vmin (%g)", r->vmax,
                             r->vmin);
    if (r->log && !(r->vmax > 0.0))
      return cli_usage_error(proj_cmd, "--log needs --vmax > 0");
    r->auto_contrast = 0;
  }
  if (!(r->pmax > r->pmin))
    return cli_usage_error(proj_cmd, "--pmax (%g) must be greater than --pmin (%g)", r->pmax,
                           r->pmin);
  if ((rc = cli_png_output_name(proj_cmd, out_path)))
    return rc;
  const char *img_path = argv[optind];
  const char *inputs[] = {img_path, NULL};
  if ((rc = cli_check_output(out_path, force, inputs)))
    return rc;

  /* a hyperstack's note says which channel and frame the figure shows */
  const CliInput in = {.path = img_path, .channel = shared.channel, .frame = shared.frame,
                       .voxel = shared.voxel, .voxel_opt = "--voxel",
                       .hint = "choose with --channel, --frame"};
  LucyVolume *vol = NULL;
  LucyStatus s = cli_read_input(proj_cmd, &in, &vol, NULL);
  if (s != LUCY_OK)
    return cli_fail(s, "cannot read '%s'", img_path);
  if ((rc = cli_check_cancelled(proj_cmd))) {
    lucy_volume_free(vol);
    return rc;
  }
  s = lucy_figure_write_png(vol, &fopts, out_path, force);
  lucy_volume_free(vol);
  if (s != LUCY_OK)
    return cli_fail(s, "cannot write '%s'", out_path);
  unsigned w, h;
  if (png_size(out_path, &w, &h))
    fprintf(stderr, "%s: wrote %s (%u x %u px)\n", proj_cmd, out_path, w, h);
  else
    fprintf(stderr, "%s: wrote %s\n", proj_cmd, out_path);
  return CLI_EXIT_OK;
}
