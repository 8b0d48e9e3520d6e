/* lucy-cli phantom: demo data — random non-overlapping spheres, optionally blurred by a
 * Gaussian PSF (through the library's convolution) and with Poisson noise. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char *const phantom_cmd = "phantom";

static void phantom_help(void) {
  printf("Usage: lucy-cli phantom -o OUT --shape Z,Y,X [options]\n"
         "\n"
         "Writes a float32 stack of random non-overlapping solid spheres of value 1 (demo and\n"
         "test data). The same seed gives the same file on every machine.\n"
         "\n"
         "Options:\n"
         "  -o, --output OUT        output TIFF (required)\n"
         "  -s, --shape Z,Y,X       stack size in voxels (required)\n"
         "  -n, --spheres N         number of spheres (default 8)\n"
         "  -r, --radius RMIN,RMAX  sphere radii in voxels along x (scaled by the voxel size on\n"
         "                          the other axes); default 5%% and 12%% of the smaller lateral\n"
         "                          extent, at most 30%% of the depth in a stack 1/8 as deep\n"
         "                          as wide, the lateral radii alone under 1/20 (a 2-D image,\n"
         "                          a few planes), shrinking smoothly between. Spheres taller\n"
         "                          than the stack are centred on its middle plane and cut by\n"
         "                          its faces: discs in a one-plane stack\n"
         "      --voxel Z,Y,X       voxel size in micrometres (default 1,1,1)\n"
         "      --blur SZ,SY,SX     blur with a Gaussian PSF of these sigmas in voxels (same\n"
         "                          mode, no wrap-around; default: no blur)\n"
         "      --photons P         Poisson noise with P photons per unit intensity\n"
         "                          (default: no noise)\n"
         "      --seed S            random seed, 0..2^64-1 (default 1)\n"
         "  -f, --force             overwrite OUT if it exists\n"
         "  -h, --help              show this help\n");
}

enum { OPT_VOXEL = 256, OPT_BLUR, OPT_PHOTONS, OPT_SEED };

/* Blurs *vol in place of itself (the old volume is freed) with a Gaussian of sigma voxels. */
static int blur(LucyVolume **vol, const double sigma[3]) {
  size_t psf_shape[3];
  char buf[64];
  for (int a = 0; a < 3; a++) {
    /* +-4 sigma, and no larger than the stack needs (a PSF up to 2N-1 covers every shift). */
    double half = ceil(4.0 * sigma[a]);
    size_t cap = (*vol)->shape[a] - 1;
    size_t h = half > (double)cap ? cap : (size_t)half;
    psf_shape[a] = 2 * h + 1;
  }
  LucyVolume *psf = NULL, *out = NULL;
  LucyStatus s = lucy_psf_gaussian(psf_shape, sigma, &psf);
  if (s != LUCY_OK)
    return cli_fail(s, "cannot make the %s Gaussian blur PSF",
                    cli_format_shape(psf_shape, buf, sizeof buf));
  CliProgress progress;
  cli_progress_init(&progress, phantom_cmd);
  LucyConvOptions copts;
  lucy_conv_options_default(&copts);
  copts.mode = LUCY_PAD_SAME;
  copts.progress = cli_progress_fn;
  copts.progress_user = &progress;
  s = lucy_convolve(*vol, psf, &copts, &out);
  cli_progress_finish(&progress);
  lucy_volume_free(psf);
  if (s != LUCY_OK)
    return cli_fail(s, "cannot blur the phantom");
  lucy_volume_free(*vol);
  *vol = out;
  fprintf(stderr, "%s: blurred with a Gaussian of sigma %g, %g, %g voxels (PSF %s)\n",
          phantom_cmd, sigma[0], sigma[1], sigma[2], cli_format_shape(psf_shape, buf, sizeof buf));
  return CLI_EXIT_OK;
}

/* Radii in x voxels, 5..12 % of the smaller lateral extent, scaled down by how thin the stack
 * is (q: 30 % of the depth, in x voxels, over that 12 %). A stack at least 1/8 as deep as wide
 * (q >= Q_FIT) caps them at 30 % of its depth, so that 32 x 256 x 256 asks for no spheres
 * taller than the stack; a thin one (q <= Q_FLAT: a 2-D image, a few planes) takes the lateral
 * radii alone, its spheres cut into discs and slabs. Between, a power law joins the two, so
 * that one more plane never turns discs into dots. */
#define Q_FLAT 0.125
#define Q_FIT 0.3125
static void default_radii(const size_t shape[3], const double voxel[3], double radius[2]) {
  const double lateral = (double)(shape[1] < shape[2] ? shape[1] : shape[2]);
  const double depth_cap = 0.3 * (double)shape[0] * voxel[0] / voxel[2];
  const double q = depth_cap / (0.12 * lateral);
  double rmax = fmin(0.12 * lateral, depth_cap);
  if (q < Q_FIT) /* q = Q_FIT gives Q_FIT x 12 %, the capped radius, exactly */
    rmax = 0.12 * lateral * pow(fmax(1.0, q / Q_FLAT), log(Q_FIT) / log(Q_FIT / Q_FLAT));
  radius[1] = fmax(1.0, rmax);
  radius[0] = fmax(0.5, fmin(0.05 * lateral, 0.42 * radius[1]));
  if (radius[0] > radius[1])
    radius[0] = radius[1];
}

/* How many of the spheres are taller than the stack (centred on its middle plane and cut). */
static size_t count_cut(const LucyVolume *vol, const LucySphere *spheres, size_t n) {
  size_t cut = 0;
  for (size_t i = 0; i < n; i++)
    cut += 2.0 * spheres[i].radius * vol->voxel_um[2] / vol->voxel_um[0] >
           (double)vol->shape[0] + 1e-12;
  return cut;
}

/* Places the spheres and says so, with the ones the stack's faces cut. */
static int place_spheres(LucyVolume *vol, size_t count, const double radius[2], uint64_t seed) {
  char buf[64], cut_text[160] = "";
  LucySphere *placed = count ? malloc(count * sizeof *placed) : NULL;
  if (count && !placed)
    return cli_fail_plain("out of memory for %zu spheres", count);
  LucyStatus s = count ? lucy_phantom_random_spheres(vol, count, radius[0], radius[1], 1.0, seed,
                                                     placed)
                       : LUCY_OK;
  if (s != LUCY_OK) {
    free(placed);
    return cli_fail(s, "cannot place %zu spheres of radius %g..%g in %s", count, radius[0],
                    radius[1], cli_format_shape(vol->shape, buf, sizeof buf));
  }
  const size_t cut = count_cut(vol, placed, count);
  free(placed);
  if (cut)
    snprintf(cut_text, sizeof cut_text, "; %zu taller than the stack, centred on its middle "
             "plane and cut by the stack's faces%s", cut,
             vol->shape[0] == 1 ? " (discs)" : "");
  fprintf(stderr, "%s: %zu spheres of radius %g..%g voxels in %s (z, y, x), seed %llu%s\n",
          phantom_cmd, count, radius[0], radius[1],
          cli_format_shape(vol->shape, buf, sizeof buf), (unsigned long long)seed, cut_text);
  return CLI_EXIT_OK;
}

int cli_phantom_main(int argc, char **argv) {
  static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},
    {"shape", required_argument, NULL, 's'},
    {"spheres", required_argument, NULL, 'n'},
    {"radius", required_argument, NULL, 'r'},
    {"voxel", required_argument, NULL, OPT_VOXEL},
    {"blur", required_argument, NULL, OPT_BLUR},
    {"photons", required_argument, NULL, OPT_PHOTONS},
    {"seed", required_argument, NULL, OPT_SEED},
    {"force", no_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  const char *out_path = NULL;
  int force = 0, rc;
  int have_shape = 0, have_radius = 0, have_blur = 0;
  size_t shape[3] = {0, 0, 0}, spheres = 8;
  double radius[2] = {0, 0}, voxel[3] = {1.0, 1.0, 1.0}, sigma[3] = {0, 0, 0}, photons = 0.0;
  uint64_t seed = 1;

  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":o:s:n:r:fh", longopts, NULL)) != -1) {
    switch (c) {
    case 'o': out_path = optarg; break;
    case 's':
      if ((rc = cli_opt_shape(phantom_cmd, "--shape", optarg, shape)))
        return rc;
      have_shape = 1;
      break;
    case 'n':
      if ((rc = cli_opt_size(phantom_cmd, "--spheres", optarg, 0, 1000000, &spheres)))
        return rc;
      break;
    case 'r': {
      const char *why = "";
      if (!cli_parse_double_list(optarg, 2, 0.0, 1e6, 1, radius, &why))
        return cli_usage_error(phantom_cmd, "--radius: %s (expected RMIN,RMAX > 0)", why);
      if (radius[0] > radius[1])
        return cli_usage_error(phantom_cmd, "--radius: RMIN %g is larger than RMAX %g",
                               radius[0], radius[1]);
      have_radius = 1;
      break;
    }
    case OPT_VOXEL:
      if ((rc = cli_opt_voxel(phantom_cmd, "--voxel", optarg, voxel)))
        return rc;
      break;
    case OPT_BLUR:
      if ((rc = cli_opt_double3(phantom_cmd, "--blur", optarg, 0.0, 1e4, 0, sigma)))
        return rc;
      have_blur = sigma[0] > 0 || sigma[1] > 0 || sigma[2] > 0;
      break;
    case OPT_PHOTONS:
      if ((rc = cli_opt_double(phantom_cmd, "--photons", optarg, 0.0, 1e15, 1, &photons)))
        return rc;
      break;
    case OPT_SEED:
      if ((rc = cli_opt_u64(phantom_cmd, "--seed", optarg, &seed)))
        return rc;
      break;
    case 'f': force = 1; break;
    case 'h': phantom_help(); return CLI_EXIT_OK;
    default: return cli_getopt_error(phantom_cmd, c, argv);
    }
  }
  if (optind < argc)
    return cli_usage_error(phantom_cmd, "unexpected argument '%s'", argv[optind]);
  if (!out_path)
    return cli_usage_error(phantom_cmd, "missing -o OUT");
  if (!have_shape)
    return cli_usage_error(phantom_cmd, "missing --shape Z,Y,X");
  if (!have_radius)
    default_radii(shape, voxel, radius);
  if ((rc = cli_check_output(out_path, force, NULL)))
    return rc;

  char buf[64];
  LucyVolume *vol = NULL;
  LucyStatus s = lucy_volume_new(shape, &vol);
  if (s != LUCY_OK)
    return cli_fail(s, "cannot allocate a %s stack", cli_format_shape(shape, buf, sizeof buf));
  memcpy(vol->voxel_um, voxel, sizeof vol->voxel_um);
  if ((rc = place_spheres(vol, spheres, radius, seed)))
    goto done;
  if (have_blur && (rc = blur(&vol, sigma)))
    goto done;
  if ((rc = cli_check_cancelled(phantom_cmd)))
    goto done;
  if (photons > 0.0) {
    /* A stream apart from the placement's, still fixed by the seed. */
    uint64_t noise_seed = seed ^ UINT64_C(0x9E3779B97F4A7C15);
    if ((s = lucy_noise_poisson(vol, photons, noise_seed)) != LUCY_OK) {
      rc = cli_fail(s, "cannot add Poisson noise");
      goto done;
    }
    fprintf(stderr, "%s: Poisson noise at %g photons per unit intensity\n", phantom_cmd,
            photons);
  }
  LucyTiffWriteOptions wopts;
  lucy_tiff_write_options_default(&wopts);
  wopts.overwrite = force;
  if ((s = cli_tiff_write("phantom", out_path, vol, &wopts)) != LUCY_OK) {
    rc = cli_fail(s, "cannot write '%s'", out_path);
    goto done;
  }
  fprintf(stderr, "%s: wrote %s\n", phantom_cmd, out_path);
  rc = CLI_EXIT_OK;
done:
  lucy_volume_free(vol);
  return rc;
}
