/* lucy-cli psf KIND ...: synthetic point spread functions. One kind today (gaussian); each kind
 * is an entry in the table below with its own options and help. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct PsfKind {
  const char *name;
  int (*main)(int argc, char **argv);
  const char *summary;
} PsfKind;

static int psf_gaussian_main(int argc, char **argv);

static const PsfKind kinds[] = {
  {"gaussian", psf_gaussian_main, "Gaussian sampled at voxel centres, sigma per axis in voxels"},
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

static void psf_help(FILE *f) {
  fprintf(f, "Usage: lucy-cli psf KIND -o OUT [options]\n"
             "       lucy-cli psf KIND --help\n"
             "\n"
             "Writes a synthetic PSF as a float32 TIFF, peak at the origin voxel M//2 on each\n"
             "axis, normalised to sum 1.\n"
             "\n"
             "Kinds:\n");
  for (size_t i = 0; i < N_KINDS; i++)
    fprintf(f, "  %-10s %s\n", kinds[i].name, kinds[i].summary);
  fprintf(f, "\nOptions:\n  -h, --help   show this help\n");
}

int cli_psf_main(int argc, char **argv) {
  if (argc < 2)
    return cli_usage_error("psf", "missing KIND (one of: gaussian)");
  const char *kind = argv[1];
  if (strcmp(kind, "-h") == 0 || strcmp(kind, "--help") == 0) {
    psf_help(stdout);
    return CLI_EXIT_OK;
  }
  for (size_t i = 0; i < N_KINDS; i++)
    if (strcmp(kind, kinds[i].name) == 0)
      return kinds[i].main(argc - 1, argv + 1);
  if (kind[0] == '-')
    return cli_usage_error("psf", "options go after KIND: 'lucy-cli psf gaussian %s ...'", kind);
  return cli_usage_error("psf", "unknown PSF kind '%s' (known: gaussian)", kind);
}

/* ---- psf gaussian ----------------------------------------------------------------------- */

static const char *const gauss_cmd = "psf gaussian";

static void gaussian_help(void) {
  printf("Usage: lucy-cli psf gaussian -o OUT --shape Z,Y,X --sigma Z,Y,X [options]\n"
         "\n"
         "A Gaussian PSF sampled at voxel centres with its peak at voxel M//2 on each axis and\n"
         "sum 1. A sigma of 0 puts all weight in the centre plane of that axis.\n"
         "\n"
         "Options:\n"
         "  -o, --output OUT      output TIFF (required)\n"
         "  -s, --shape Z,Y,X     PSF size in voxels (required; odd sizes centre the peak)\n"
         "      --sigma Z,Y,X     standard deviation per axis in voxels, >= 0 (required)\n"
         "      --voxel Z,Y,X     voxel size in micrometres written to the file (default 1,1,1)\n"
         "  -f, --force           overwrite OUT if it exists\n"
         "  -h, --help            show this help\n");
}

enum { OPT_SIGMA = 256, OPT_VOXEL };

static int psf_gaussian_main(int argc, char **argv) {
  static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},
    {"shape", required_argument, NULL, 's'},
    {"sigma", required_argument, NULL, OPT_SIGMA},
    {"voxel", required_argument, NULL, OPT_VOXEL},
    {"force", no_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  const char *out_path = NULL;
  int force = 0, rc, have_shape = 0, have_sigma = 0;
  size_t shape[3];
  double sigma[3], voxel[3] = {1.0, 1.0, 1.0};

  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":o:s:fh", longopts, NULL)) != -1) {
    switch (c) {
    case 'o': out_path = optarg; break;
    case 's':
      if ((rc = cli_opt_shape(gauss_cmd, "--shape", optarg, shape)))
        return rc;
      have_shape = 1;
      break;
    case OPT_SIGMA:
      if ((rc = cli_opt_double3(gauss_cmd, "--sigma", optarg, 0.0, 1e6, 0, sigma)))
        return rc;
      have_sigma = 1;
      break;
    case OPT_VOXEL:
      if ((rc = cli_opt_double3(gauss_cmd, "--voxel", optarg, 0.0, 1e6, 1, voxel)))
        return rc;
      break;
    case 'f': force = 1; break;
    case 'h': gaussian_help(); return CLI_EXIT_OK;
    default: return cli_getopt_error(gauss_cmd, c, argv);
    }
  }
  if (optind < argc)
    return cli_usage_error(gauss_cmd, "unexpected argument '%s'", argv[optind]);
  if (!out_path)
    return cli_usage_error(gauss_cmd, "missing -o OUT");
  if (!have_shape)
    return cli_usage_error(gauss_cmd, "missing --shape Z,Y,X");
  if (!have_sigma)
    return cli_usage_error(gauss_cmd, "missing --sigma Z,Y,X");
  if ((rc = cli_check_output(out_path, force, NULL)))
    return rc;

  char buf[64];
  LucyVolume *psf = NULL;
  LucyStatus s = lucy_psf_gaussian(shape, sigma, &psf);
  if (s != LUCY_OK)
    return cli_fail(s, "cannot make a %s Gaussian PSF",
                    cli_format_shape(shape, buf, sizeof buf));
  memcpy(psf->voxel_um, voxel, sizeof psf->voxel_um);
  LucyTiffWriteOptions wopts;
  lucy_tiff_write_options_default(&wopts);
  wopts.overwrite = force;
  s = lucy_tiff_write(out_path, psf, &wopts);
  lucy_volume_free(psf);
  if (s != LUCY_OK)
    return cli_fail(s, "cannot write '%s'", out_path);
  fprintf(stderr, "%s: %s, sigma %g, %g, %g voxels; wrote %s\n", gauss_cmd,
          cli_format_shape(shape, buf, sizeof buf), sigma[0], sigma[1], sigma[2], out_path);
  return CLI_EXIT_OK;
}
