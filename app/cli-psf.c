/* lucy-cli psf KIND ...: synthetic point spread functions (gaussian, bornwolf, gibsonlanni) and
 * the PSF workbench actions (measure, fix: cli-psf-qa.c); each is an entry in the table below
 * with its own options and help. */
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
static int psf_bornwolf_main(int argc, char **argv);
static int psf_gibsonlanni_main(int argc, char **argv);

static const PsfKind kinds[] = {
  {"gaussian", psf_gaussian_main, "Gaussian: sigma per axis in voxels, or from NA and wavelength"},
  {"bornwolf", psf_bornwolf_main, "Born & Wolf scalar widefield model (paraxial defocus)"},
  {"gibsonlanni", psf_gibsonlanni_main, "Gibson & Lanni: coverslip, sample index, source depth"},
  {"measure", cli_psf_measure_main, "QA of a PSF file: background, centre, FWHM, asymmetry"},
  {"fix", cli_psf_fix_main, "centre, subtract background, pad to odd size, normalise"},
};
#define N_KINDS (sizeof kinds / sizeof kinds[0])

static void psf_help(FILE *f) {
  fprintf(f, "Usage: lucy-cli psf KIND -o OUT [options]\n"
             "       lucy-cli psf KIND --help\n"
             "\n"
             "Writes a synthetic PSF as a float32 TIFF, peak at the origin voxel M//2 on each\n"
             "axis, normalised to sum 1, lengths in micrometres; or measures or fixes one.\n"
             "\n"
             "Kinds:\n");
  for (size_t i = 0; i < N_KINDS; i++)
    fprintf(f, "  %-10s %s\n", kinds[i].name, kinds[i].summary);
  fprintf(f, "\nOptions:\n  -h, --help   show this help\n");
}

int cli_psf_main(int argc, char **argv) {
  if (argc < 2)
    return cli_usage_error("psf", "missing KIND (one of: gaussian, bornwolf, gibsonlanni, measure, fix)");
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
  return cli_usage_error("psf", "unknown PSF kind '%s' (known: gaussian, bornwolf, "
                                "gibsonlanni, measure, fix)", kind);
}

/* ---- psf gaussian ----------------------------------------------------------------------- */

static const char *const gauss_cmd = "psf gaussian";

static void gaussian_help(void) {
  printf("Usage: lucy-cli psf gaussian -o OUT --shape Z,Y,X --sigma Z,Y,X [options]\n"
         "       lucy-cli psf gaussian -o OUT --shape Z,Y,X --na NA --wavelength UM --ni N\n"
         "                             --dxy UM --dz UM\n"
         "\n"
         "A Gaussian PSF sampled at voxel centres with its peak at voxel M//2 on each axis and\n"
         "sum 1. A sigma of 0 puts all weight in the centre plane of that axis. From NA and\n"
         "wavelength the FWHM matches the scalar widefield model: 0.5145 lambda/NA laterally,\n"
         "1.7718 n lambda/NA^2 axially.\n"
         "\n"
         "Options:\n"
         "  -o, --output OUT      output TIFF (required)\n"
         "  -s, --shape Z,Y,X     PSF size in voxels (required; odd sizes centre the peak)\n"
         "      --sigma Z,Y,X     standard deviation per axis in voxels, >= 0 (required)\n"
         "      --voxel Z,Y,X     voxel size in micrometres written to the file (default 1,1,1)\n"
         "      --na NA, --wavelength UM, --ni N, --dxy UM, --dz UM\n"
         "                        optics instead of --sigma (ni default 1.515)\n"
         "  -f, --force           overwrite OUT if it exists\n"
         "  -h, --help            show this help\n");
}

enum { OPT_SIGMA = 256, OPT_VOXEL, OPT_NA, OPT_WAVELENGTH, OPT_NI, OPT_DXY, OPT_DZ, OPT_OVERSAMPLE,
       OPT_QUAD, OPT_NI0, OPT_NS, OPT_NG, OPT_NG0, OPT_TG, OPT_TG0, OPT_TI0, OPT_DEPTH };

/* ---- options shared by the optical models ------------------------------------------------ */

/* Parses optarg for one of the optics options into o. */
static int model_option(const char *cmd, int c, LucyPsfOptics *o) {
  switch (c) {
  case OPT_NA: return cli_opt_double(cmd, "--na", optarg, 0.0, 2.0, 1, &o->na);
  case OPT_WAVELENGTH:
    return cli_opt_double(cmd, "--wavelength", optarg, 0.0, 100.0, 1, &o->wavelength_um);
  case OPT_NI: return cli_opt_double(cmd, "--ni", optarg, 1.0, 4.0, 0, &o->ni);
  case OPT_DXY: return cli_opt_double(cmd, "--dxy", optarg, 0.0, 1e4, 1, &o->dxy_um);
  case OPT_DZ: return cli_opt_double(cmd, "--dz", optarg, 0.0, 1e4, 1, &o->dz_um);
  case OPT_OVERSAMPLE: return cli_opt_int(cmd, "--oversample", optarg, 1, 15, &o->oversample);
  case OPT_QUAD: return cli_opt_int(cmd, "--quad-points", optarg, 0, 100000, &o->quad_points);
  case OPT_NI0: return cli_opt_double(cmd, "--ni0", optarg, 1.0, 4.0, 0, &o->ni0);
  case OPT_NS: return cli_opt_double(cmd, "--ns", optarg, 1.0, 4.0, 0, &o->ns);
  case OPT_NG: return cli_opt_double(cmd, "--ng", optarg, 1.0, 4.0, 0, &o->ng);
  case OPT_NG0: return cli_opt_double(cmd, "--ng0", optarg, 1.0, 4.0, 0, &o->ng0);
  case OPT_TG: return cli_opt_double(cmd, "--tg", optarg, 0.0, 1e4, 0, &o->tg_um);
  case OPT_TG0: return cli_opt_double(cmd, "--tg0", optarg, 0.0, 1e4, 0, &o->tg0_um);
  case OPT_TI0: return cli_opt_double(cmd, "--ti0", optarg, 0.0, 1e5, 0, &o->ti0_um);
  case OPT_DEPTH: return cli_opt_double(cmd, "--depth", optarg, 0.0, 1e5, 0, &o->depth_um);
  default: return CLI_EXIT_USAGE;
  }
}

static void model_help(LucyPsfModel model) {
  const int gl = model == LUCY_PSF_GIBSON_LANNI;
  printf("Usage: lucy-cli psf %s -o OUT --shape Z,Y,X --na NA --wavelength UM [options]\n"
         "\n", gl ? "gibsonlanni" : "bornwolf");
  if (gl)
    printf("Gibson & Lanni's scalar model: the exact optical path difference through the sample\n"
           "(index ns, source at --depth below the coverslip), the coverslip (ng, tg vs the\n"
           "design ng0, tg0) and the immersion (ni vs ni0, working distance ti0). z = 0 is the\n"
           "paraxial image of the source; spherical aberration moves the peak from there.\n");
  else
    printf("Born & Wolf's scalar widefield model: the Kirchhoff integral over the pupil with\n"
           "the paraxial defocus phase k NA^2 rho^2 z / (2 n). In focus it is the Airy pattern\n"
           "(first zero 0.61 lambda/NA, FWHM 0.51 lambda/NA); on axis sinc^2 (FWHM\n"
           "1.77 n lambda/NA^2).\n");
  printf("Computed by Gauss-Legendre quadrature over the pupil (error < 1e-6 of the peak),\n"
         "averaged over oversample^3 points per voxel; peak at voxel M//2, sum 1, voxel size\n"
         "written to the TIFF.\n"
         "\n"
         "Options:\n"
         "  -o, --output OUT      output TIFF (required)\n"
         "  -s, --shape Z,Y,X     PSF size in voxels (required; odd sizes centre the peak)\n"
         "      --na NA           numerical aperture (required), below the refractive indices\n"
         "      --wavelength UM   emission wavelength in micrometres (required)\n"
         "      --ni N            immersion refractive index (default 1.515)\n"
         "      --dxy UM          lateral voxel size (default 0.1)\n"
         "      --dz UM           axial voxel size (default 0.2)\n"
         "      --oversample K    sub-samples per voxel and axis (default 3)\n"
         "      --quad-points N   quadrature points (default 0: automatic)\n");
  if (gl)
    printf("      --ni0 N           design immersion index (default: ni)\n"
           "      --ns N            sample index (default 1.33)\n"
           "      --ng N, --ng0 N   coverslip index, actual and design (default 1.5255)\n"
           "      --tg UM, --tg0 UM coverslip thickness, actual and design (default 170)\n"
           "      --ti0 UM          working distance, design (default 150)\n"
           "      --depth UM        source depth below the coverslip (default 0)\n");
  printf("  -f, --force           overwrite OUT if it exists\n"
         "  -h, --help            show this help\n");
}

static int psf_model_main(int argc, char **argv, LucyPsfModel model) {
  const int gl = model == LUCY_PSF_GIBSON_LANNI;
  const char *cmd = gl ? "psf gibsonlanni" : "psf bornwolf";
  static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},
    {"shape", required_argument, NULL, 's'},
    {"na", required_argument, NULL, OPT_NA},
    {"wavelength", required_argument, NULL, OPT_WAVELENGTH},
    {"ni", required_argument, NULL, OPT_NI},
    {"dxy", required_argument, NULL, OPT_DXY},
    {"dz", required_argument, NULL, OPT_DZ},
    {"oversample", required_argument, NULL, OPT_OVERSAMPLE},
    {"quad-points", required_argument, NULL, OPT_QUAD},
    {"ni0", required_argument, NULL, OPT_NI0},
    {"ns", required_argument, NULL, OPT_NS},
    {"ng", required_argument, NULL, OPT_NG},
    {"ng0", required_argument, NULL, OPT_NG0},
    {"tg", required_argument, NULL, OPT_TG},
    {"tg0", required_argument, NULL, OPT_TG0},
    {"ti0", required_argument, NULL, OPT_TI0},
    {"depth", required_argument, NULL, OPT_DEPTH},
    {"force", no_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  const char *out_path = NULL;
  int force = 0, rc, have_shape = 0;
  size_t shape[3];
  LucyPsfOptics o;
  lucy_psf_optics_default(&o);
  o.na = 0;
  o.wavelength_um = 0;
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":o:s:fh", longopts, NULL)) != -1) {
    switch (c) {
    case 'o': out_path = optarg; break;
    case 's':
      if ((rc = cli_opt_shape(cmd, "--shape", optarg, shape)))
        return rc;
      have_shape = 1;
      break;
    case 'f': force = 1; break;
    case 'h': model_help(model); return CLI_EXIT_OK;
    case OPT_NI0: case OPT_NS: case OPT_NG: case OPT_NG0: case OPT_TG: case OPT_TG0:
    case OPT_TI0: case OPT_DEPTH:
      if (!gl)
        return cli_usage_error(cmd, "%s is a Gibson & Lanni option (psf gibsonlanni)",
                               argv[optind - 1]);
      /* fall through */
    case OPT_NA: case OPT_WAVELENGTH: case OPT_NI: case OPT_DXY: case OPT_DZ:
    case OPT_OVERSAMPLE: case OPT_QUAD:
      if ((rc = model_option(cmd, c, &o)))
        return rc;
      break;
    default: return cli_getopt_error(cmd, c, argv);
    }
  }
  if (optind < argc)
    return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
  if (!out_path)
    return cli_usage_error(cmd, "missing -o OUT");
  if (!have_shape)
    return cli_usage_error(cmd, "missing --shape Z,Y,X");
  if (o.na <= 0)
    return cli_usage_error(cmd, "missing --na NA");
  if (o.wavelength_um <= 0)
    return cli_usage_error(cmd, "missing --wavelength UM");
  if ((rc = cli_check_output(out_path, force, NULL)))
    return rc;
  char buf[64];
  LucyVolume *psf = NULL;
  const double t0 = cli_now();
  CliProgress progress;
  cli_progress_init(&progress, "psf");
  o.progress = cli_progress_fn;
  o.progress_user = &progress;
  LucyStatus s = lucy_psf_model(model, shape, &o, &psf);
  cli_progress_finish(&progress);
  if (s != LUCY_OK)
    return cli_fail(s, "cannot make a %s %s PSF", cli_format_shape(shape, buf, sizeof buf),
                    gl ? "Gibson & Lanni" : "Born & Wolf");
  LucyTiffWriteOptions wopts;
  lucy_tiff_write_options_default(&wopts);
  wopts.overwrite = force;
  s = cli_tiff_write("psf", out_path, psf, &wopts);
  lucy_volume_free(psf);
  if (s != LUCY_OK)
    return cli_fail(s, "cannot write '%s'", out_path);
  double lat, ax;
  lucy_psf_theoretical_fwhm(o.na, o.wavelength_um, o.ni, &lat, &ax);
  fprintf(stderr,
          "%s: %s, NA %g, lambda %g um, ni %g, voxel %g x %g x %g um, oversample %d; "
          "paraxial FWHM %.3f um lateral, %.3f um axial; %.2f s; wrote %s\n",
          cmd, cli_format_shape(shape, buf, sizeof buf), o.na, o.wavelength_um, o.ni, o.dz_um,
          o.dxy_um, o.dxy_um, o.oversample, lat, ax, cli_now() - t0, out_path);
  return CLI_EXIT_OK;
}

static int psf_bornwolf_main(int argc, char **argv) {
  return psf_model_main(argc, argv, LUCY_PSF_BORN_WOLF);
}

static int psf_gibsonlanni_main(int argc, char **argv) {
  return psf_model_main(argc, argv, LUCY_PSF_GIBSON_LANNI);
}

static int psf_gaussian_main(int argc, char **argv) {
  static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},
    {"shape", required_argument, NULL, 's'},
    {"sigma", required_argument, NULL, OPT_SIGMA},
    {"voxel", required_argument, NULL, OPT_VOXEL},
    {"na", required_argument, NULL, OPT_NA},
    {"wavelength", required_argument, NULL, OPT_WAVELENGTH},
    {"ni", required_argument, NULL, OPT_NI},
    {"dxy", required_argument, NULL, OPT_DXY},
    {"dz", required_argument, NULL, OPT_DZ},
    {"force", no_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  const char *out_path = NULL;
  int force = 0, rc, have_shape = 0, have_sigma = 0, have_optics = 0;
  size_t shape[3];
  double sigma[3], voxel[3] = {1.0, 1.0, 1.0};
  LucyPsfOptics optics;
  lucy_psf_optics_default(&optics);
  optics.na = 0;
  optics.wavelength_um = 0;

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
    case OPT_NA: case OPT_WAVELENGTH: case OPT_NI: case OPT_DXY: case OPT_DZ:
      if ((rc = model_option(gauss_cmd, c, &optics)))
        return rc;
      have_optics = 1;
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
  if (have_sigma && have_optics)
    return cli_usage_error(gauss_cmd, "give either --sigma or the optics (--na ...), not both");
  if (!have_sigma && !have_optics)
    return cli_usage_error(gauss_cmd, "missing --sigma Z,Y,X (or --na and --wavelength)");
  if (have_optics && (optics.na <= 0 || optics.wavelength_um <= 0))
    return cli_usage_error(gauss_cmd, "the optics need both --na and --wavelength");
  if ((rc = cli_check_output(out_path, force, NULL)))
    return rc;

  char buf[64];
  LucyVolume *psf = NULL;
  LucyStatus s = have_optics ? lucy_psf_gaussian_optics(shape, &optics, &psf)
                             : lucy_psf_gaussian(shape, sigma, &psf);
  if (s != LUCY_OK)
    return cli_fail(s, "cannot make a %s Gaussian PSF",
                    cli_format_shape(shape, buf, sizeof buf));
  if (have_optics) {
    double lat, ax;
    lucy_psf_theoretical_fwhm(optics.na, optics.wavelength_um, optics.ni, &lat, &ax);
    sigma[0] = ax / 2.3548200450309493 / optics.dz_um;
    sigma[1] = sigma[2] = lat / 2.3548200450309493 / optics.dxy_um;
  } else {
    memcpy(psf->voxel_um, voxel, sizeof psf->voxel_um);
  }
  LucyTiffWriteOptions wopts;
  lucy_tiff_write_options_default(&wopts);
  wopts.overwrite = force;
  s = cli_tiff_write("psf", out_path, psf, &wopts);
  lucy_volume_free(psf);
  if (s != LUCY_OK)
    return cli_fail(s, "cannot write '%s'", out_path);
  fprintf(stderr, "%s: %s, sigma %g, %g, %g voxels; wrote %s\n", gauss_cmd,
          cli_format_shape(shape, buf, sizeof buf), sigma[0], sigma[1], sigma[2], out_path);
  return CLI_EXIT_OK;
}
