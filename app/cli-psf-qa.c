/* lucy-cli psf measure / psf fix: QA numbers of a PSF file (text or JSON) and the fixes a PSF
 * usually needs, each reported. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* A JSON number, or null for NaN and infinities (JSON has neither). */
static void json_num(FILE *f, double v) {
  if (isfinite(v))
    fprintf(f, "%.6g", v);
  else
    fputs("null", f);
}

/* {"x": .., "y": .., "z": ..} from a z,y,x array */
static void json_xyz(FILE *f, const double v[3]) {
  fputs("{\"x\": ", f);
  json_num(f, v[2]);
  fputs(", \"y\": ", f);
  json_num(f, v[1]);
  fputs(", \"z\": ", f);
  json_num(f, v[0]);
  fputc('}', f);
}

/* [z, y, x] */
static void json_zyx(FILE *f, const double v[3]) {
  fputc('[', f);
  for (int a = 0; a < 3; a++) {
    if (a) fputs(", ", f);
    json_num(f, v[a]);
  }
  fputc(']', f);
}

static void json_path(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    unsigned char ch = (unsigned char)*s;
    if (ch == '"' || ch == '\\')
      fprintf(f, "\\%c", ch);
    else if (ch < 0x20)
      fprintf(f, "\\u%04x", ch);
    else
      fputc(ch, f);
  }
  fputc('"', f);
}

static void print_measure_json(FILE *f, const char *path, const LucyPsfMeasure *m, int theory) {
  double fw_um[3], fw_px[3], r2[3], peak[3], centre[3];
  for (int a = 0; a < 3; a++) {
    fw_um[a] = m->fit[a].ok ? m->fit[a].fwhm_um : NAN;
    fw_px[a] = m->fit[a].ok ? m->fit[a].fwhm_px : NAN;
    r2[a] = m->fit[a].ok ? m->fit[a].r2 : NAN;
    peak[a] = (double)m->peak[a];
    centre[a] = m->fit_centre[a];
  }
  const double shape[3] = {(double)m->shape[0], (double)m->shape[1], (double)m->shape[2]};
  const double origin[3] = {(double)m->origin[0], (double)m->origin[1], (double)m->origin[2]};
  fputs("{\"file\": ", f);
  json_path(f, path);
  fputs(", \"shape\": ", f);
  json_zyx(f, shape);
  fputs(", \"voxel_um\": ", f);
  json_zyx(f, m->voxel_um);
  fputs(", \"background\": ", f);
  json_num(f, m->background);
  fputs(", \"noise\": ", f);
  json_num(f, m->noise);
  fputs(", \"peak_value\": ", f);
  json_num(f, m->peak_value);
  fputs(", \"sbr\": ", f);
  json_num(f, m->sbr);
  fputs(", \"snr\": ", f);
  json_num(f, m->snr);
  fputs(", \"sum\": ", f);
  json_num(f, m->sum);
  fputs(", \"peak\": ", f);
  json_zyx(f, peak);
  fputs(", \"centroid\": ", f);
  json_zyx(f, m->centroid);
  fputs(", \"fit_centre\": ", f);
  json_zyx(f, centre);
  fputs(", \"origin\": ", f);
  json_zyx(f, origin);
  fputs(", \"offset_px\": ", f);
  json_zyx(f, m->offset_px);
  fputs(", \"fwhm_px\": ", f);
  json_xyz(f, fw_px);
  fputs(", \"fwhm_um\": ", f);
  json_xyz(f, fw_um);
  fputs(", \"fit_r2\": ", f);
  json_xyz(f, r2);
  fputs(", \"lateral_ratio\": ", f);
  json_num(f, m->lateral_ok ? m->lateral_ratio : NAN);
  fputs(", \"lateral_angle_deg\": ", f);
  json_num(f, m->lateral_ok ? m->lateral_angle_deg : NAN);
  fputs(", \"axial_symmetry\": ", f);
  json_num(f, m->axial_symmetry);
  fprintf(f, ", \"saturated\": %s, \"saturated_count\": %zu, \"clipped\": %s, "
             "\"clipped_count\": %zu",
          m->saturated ? "true" : "false", m->saturated_count, m->clipped ? "true" : "false",
          m->clipped_count);
  if (theory) {
    fputs(", \"theory_fwhm_um\": ", f);
    json_xyz(f, m->theory_fwhm_um);
    fputs(", \"fwhm_ratio\": ", f);
    json_xyz(f, m->fwhm_ratio);
  }
  fputs("}\n", f);
}

static void print_measure_text(FILE *f, const char *path, const LucyPsfMeasure *m, int theory) {
  char buf[64];
  fprintf(f, "%s: %s voxels of %g x %g x %g um (z, y, x)\n", path,
          cli_format_shape(m->shape, buf, sizeof buf), m->voxel_um[0], m->voxel_um[1],
          m->voxel_um[2]);
  fprintf(f, "background %.6g (border median), noise %.4g, peak %.6g, SBR %.4g, SNR %.4g, "
             "sum %.6g\n", m->background, m->noise, m->peak_value, m->sbr, m->snr, m->sum);
  fprintf(f, "peak at z=%zu y=%zu x=%zu; centroid (%.3f, %.3f, %.3f); origin M//2 (%zu, %zu, "
             "%zu); offset (%+.3f, %+.3f, %+.3f) voxels\n",
          m->peak[0], m->peak[1], m->peak[2], m->centroid[0], m->centroid[1], m->centroid[2],
          m->origin[0], m->origin[1], m->origin[2], m->offset_px[0], m->offset_px[1],
          m->offset_px[2]);
  for (int a = 0; a < 3; a++) {
    const LucyPsfFit1d *fit = &m->fit[a];
    if (!fit->ok) {
      fprintf(f, "FWHM %c: no fit (axis too short or the fit did not converge)\n", "zyx"[a]);
      continue;
    }
    fprintf(f, "FWHM %c: %.4f px = %.4f um (Gaussian fit, centre %.3f, R2 %.4f)", "zyx"[a],
            fit->fwhm_px, fit->fwhm_um, fit->centre, fit->r2);
    if (theory)
      fprintf(f, "; theory %.4f um, ratio %.3f", m->theory_fwhm_um[a], m->fwhm_ratio[a]);
    fputc('\n', f);
  }
  if (m->lateral_ok)
    fprintf(f, "lateral asymmetry: sigma %.3f / %.3f px, ratio %.4f, major axis at %.1f deg\n",
            m->lateral_sigma_major_px, m->lateral_sigma_minor_px, m->lateral_ratio,
            m->lateral_angle_deg);
  fprintf(f, "axial symmetry (mirror correlation about the focal plane): %.4f\n",
          m->axial_symmetry);
  if (m->saturated)
    fprintf(f, "warning: %zu voxels share the maximum %.6g: saturated?\n", m->saturated_count,
            m->peak_value);
  if (m->clipped)
    fprintf(f, "warning: %zu voxels are at the minimum: clipped (background subtracted and "
               "clamped?)\n", m->clipped_count);
  for (int a = 0; a < 3; a++)
    if (m->offset_px[a] > 0.75 || m->offset_px[a] < -0.75 || m->peak[a] != m->origin[a]) {
      fprintf(f, "warning: the PSF is off-centre: convolving with it shifts the result by the "
                 "offset (fix with 'lucy-cli psf fix --centre centroid')\n");
      break;
    }
}

static const char *const psf_hint = "a PSF is always read from channel 0, frame 0";

static void measure_help(void) {
  printf("Usage: lucy-cli psf measure PSF.tif [--json] [--na NA --wavelength UM [--ni N]]\n"
         "                                 [--voxel Z,Y,X]\n"
         "\n"
         "QA of a PSF: background (median of the border) and signal-to-background ratio, peak\n"
         "and centroid and their offset from the origin convolution uses (M//2), FWHM along x,\n"
         "y, z from Gaussian fits to the profiles through the peak (with R2), lateral asymmetry\n"
         "(rotated 2-D Gaussian in the focal plane), axial symmetry, saturation and clipping,\n"
         "and with --na/--wavelength the theoretical widefield FWHM beside the measured one.\n"
         "\n"
         "Options:\n"
         "  -j, --json          one JSON object: fwhm_um, fwhm_px {x,y,z}; peak, centroid,\n"
         "                      offset_px [z,y,x]; background, sbr, ... (null for infinite)\n"
         "      --na NA         numerical aperture for the theoretical FWHM\n"
         "      --wavelength UM emission wavelength in micrometres\n"
         "      --ni N          immersion index for the axial theory (default 1.515)\n"
         "      --voxel Z,Y,X   voxel size in micrometres, in place of the file's (files\n"
         "                      without calibration read as 1 x 1 x 1 and give widths in\n"
         "                      voxels)\n"
         "  -h, --help          show this help\n");
}

enum { OPT_NA = 256, OPT_WAVELENGTH, OPT_NI, OPT_CENTRE, OPT_SUBTRACT, OPT_ODD, OPT_NORMALIZE,
       OPT_VOXEL };

int cli_psf_measure_main(int argc, char **argv) {
  static const char *const cmd = "psf measure";
  static const struct option longopts[] = {
    {"json", no_argument, NULL, 'j'},
    {"na", required_argument, NULL, OPT_NA},
    {"wavelength", required_argument, NULL, OPT_WAVELENGTH},
    {"ni", required_argument, NULL, OPT_NI},
    {"voxel", required_argument, NULL, OPT_VOXEL},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  int json = 0, rc, c;
  double voxel[3] = {0, 0, 0};
  LucyPsfMeasureOptions mo;
  lucy_psf_measure_options_default(&mo);
  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":jh", longopts, NULL)) != -1) {
    switch (c) {
    case 'j': json = 1; break;
    case OPT_NA:
      if ((rc = cli_opt_double(cmd, "--na", optarg, 0.0, 2.0, 1, &mo.na))) return rc;
      break;
    case OPT_WAVELENGTH:
      if ((rc = cli_opt_double(cmd, "--wavelength", optarg, 0.0, 100.0, 1, &mo.wavelength_um)))
        return rc;
      break;
    case OPT_NI:
      if ((rc = cli_opt_double(cmd, "--ni", optarg, 1.0, 4.0, 0, &mo.ni))) return rc;
      break;
    case OPT_VOXEL:
      if ((rc = cli_opt_voxel(cmd, "--voxel", optarg, voxel))) return rc;
      break;
    case 'h': measure_help(); return CLI_EXIT_OK;
    default: return cli_getopt_error(cmd, c, argv);
    }
  }
  if (optind >= argc) return cli_usage_error(cmd, "missing PSF.tif");
  if (optind + 1 < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
  if ((mo.na > 0) != (mo.wavelength_um > 0))
    return cli_usage_error(cmd, "the theoretical FWHM needs both --na and --wavelength");
  if (mo.na > 0 && !(mo.na < mo.ni))
    return cli_usage_error(cmd, "--na %g must be smaller than the immersion index --ni %g", mo.na,
                           mo.ni);
  const char *path = argv[optind];
  LucyVolume *psf = NULL;
  LucyTiffInfo info;
  const CliInput in = {.path = path, .voxel = voxel, .voxel_opt = "--voxel", .hint = psf_hint};
  LucyStatus s = cli_read_input(cmd, &in, &psf, &info);
  if (s) return cli_fail(s, "cannot read '%s'", path);
  if (strcmp(info.calibration, "none") == 0 && !(voxel[0] > 0))
    fprintf(stderr, "%s: warning: '%s' carries no voxel size; it is read as 1 x 1 x 1 um, so "
            "the widths below are in voxels%s; give the size with --voxel Z,Y,X (um)\n", cmd,
            path, mo.na > 0 ? " and the ratios to the theory (in um) mean nothing" : "");
  LucyPsfMeasure m;
  s = lucy_psf_measure(psf, &mo, &m);
  lucy_volume_free(psf);
  if (s) return cli_fail(s, "cannot measure '%s'", path);
  if (json)
    print_measure_json(stdout, path, &m, mo.na > 0);
  else
    print_measure_text(stdout, path, &m, mo.na > 0);
  return CLI_EXIT_OK;
}

static void fix_help(void) {
  printf("Usage: lucy-cli psf fix IN.tif -o OUT.tif [--centre centroid|peak]\n"
         "                            [--subtract-background] [--odd] [--normalize]\n"
         "                            [--voxel Z,Y,X]\n"
         "\n"
         "Fixes a PSF, in the order background, centre, odd size, normalise, and says what each\n"
         "step changed. An even-sized or off-centre PSF shifts the result of convolution and\n"
         "deconvolution by its offset from the origin M//2.\n"
         "\n"
         "Options:\n"
         "  -o, --output OUT        output TIFF (required)\n"
         "      --centre MODE       move the centroid or the fitted peak to M//2 by a sub-voxel\n"
         "                          FFT phase-ramp shift (periodic)\n"
         "      --subtract-background  subtract the border median, clamp at 0\n"
         "      --odd               pad to odd sizes with the peak at the centre\n"
         "      --normalize         divide by the sum\n"
         "      --voxel Z,Y,X       voxel size in micrometres written to OUT, in place of\n"
         "                          the file's (files without calibration read as 1 x 1 x 1)\n"
         "  -f, --force             overwrite OUT if it exists\n"
         "  -h, --help              show this help\n");
}

int cli_psf_fix_main(int argc, char **argv) {
  static const char *const cmd = "psf fix";
  static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},
    {"centre", required_argument, NULL, OPT_CENTRE},
    {"center", required_argument, NULL, OPT_CENTRE},
    {"subtract-background", no_argument, NULL, OPT_SUBTRACT},
    {"odd", no_argument, NULL, OPT_ODD},
    {"normalize", no_argument, NULL, OPT_NORMALIZE},
    {"normalise", no_argument, NULL, OPT_NORMALIZE},
    {"voxel", required_argument, NULL, OPT_VOXEL},
    {"force", no_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  const char *out_path = NULL;
  int force = 0, c, rc;
  double voxel[3] = {0, 0, 0};
  LucyPsfFixOptions fo;
  lucy_psf_fix_options_default(&fo);
  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:fh", longopts, NULL)) != -1) {
    switch (c) {
    case 'o': out_path = optarg; break;
    case OPT_CENTRE:
      if (strcmp(optarg, "centroid") == 0)
        fo.centre = LUCY_PSF_CENTRE_CENTROID;
      else if (strcmp(optarg, "peak") == 0)
        fo.centre = LUCY_PSF_CENTRE_PEAK;
      else
        return cli_usage_error(cmd, "--centre must be 'centroid' or 'peak', not '%s'", optarg);
      break;
    case OPT_SUBTRACT: fo.subtract_background = 1; break;
    case OPT_ODD: fo.odd = 1; break;
    case OPT_NORMALIZE: fo.normalize = 1; break;
    case OPT_VOXEL:
      if ((rc = cli_opt_voxel(cmd, "--voxel", optarg, voxel))) return rc;
      break;
    case 'f': force = 1; break;
    case 'h': fix_help(); return CLI_EXIT_OK;
    default: return cli_getopt_error(cmd, c, argv);
    }
  }
  if (optind >= argc) return cli_usage_error(cmd, "missing IN.tif");
  if (optind + 1 < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
  if (!out_path) return cli_usage_error(cmd, "missing -o OUT");
  const char *in_path = argv[optind];
  const char *inputs[] = {in_path, NULL};
  if ((rc = cli_check_output(out_path, force, inputs))) return rc;
  LucyVolume *psf = NULL, *out = NULL;
  const CliInput in = {.path = in_path, .voxel = voxel, .voxel_opt = "--voxel",
                       .hint = psf_hint};
  LucyStatus s = cli_read_input(cmd, &in, &psf, NULL);
  if (s) return cli_fail(s, "cannot read '%s'", in_path);
  LucyPsfFixReport rep;
  s = lucy_psf_fix(psf, &fo, &out, &rep);
  lucy_volume_free(psf);
  if (s) return cli_fail(s, "cannot fix '%s'", in_path);
  LucyTiffWriteOptions wopts;
  lucy_tiff_write_options_default(&wopts);
  wopts.overwrite = force;
  s = cli_tiff_write(cmd, out_path, out, &wopts);
  lucy_volume_free(out);
  if (s) return cli_fail(s, "cannot write '%s'", out_path);
  fprintf(stderr, "%s: %swrote %s\n", cmd, rep.message, out_path);
  return CLI_EXIT_OK;
}
