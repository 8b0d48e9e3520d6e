/* lucy-cli compare IMG PSF -o OUT.png: the wrap-around lesson as a figure for slides. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *const cmd = "compare";

static void compare_help(void) {
  printf("Usage: lucy-cli compare IMG.tif PSF.tif -o OUT.png [options]\n"
         "\n"
         "Convolves IMG with PSF in the four padding modes and draws their XY max projections\n"
         "side by side at the same scale and contrast, each labelled with its output size and\n"
         "padded FFT size, the valid region outlined, and the circular - same difference: the\n"
         "ghosts that wrapped across the edges. The PSF origin is M//2 and it is normalised.\n"
         "\n"
         "Options:\n"
         "  -o, --output OUT.png  output PNG (required)\n"
         "      --scale S         screen pixels per voxel (default: fit ~1600 px wide)\n"
         "      --gamma G         display gamma (default 1)\n"
         "  -f, --force           overwrite OUT if it exists\n"
         "  -h, --help            show this help\n");
}

enum { OPT_SCALE = 256, OPT_GAMMA };

int cli_compare_main(int argc, char **argv) {
  static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},
    {"scale", required_argument, NULL, OPT_SCALE},
    {"gamma", required_argument, NULL, OPT_GAMMA},
    {"force", no_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  const char *out_path = NULL;
  int force = 0, rc, c;
  LucyCompareFigureOptions fo;
  lucy_compare_figure_options_default(&fo);
  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:fh", longopts, NULL)) != -1) {
    switch (c) {
    case 'o': out_path = optarg; break;
    case OPT_SCALE:
      if ((rc = cli_opt_double(cmd, "--scale", optarg, 0.0, 1000.0, 1, &fo.scale))) return rc;
      break;
    case OPT_GAMMA:
      if ((rc = cli_opt_double(cmd, "--gamma", optarg, 0.0, 100.0, 1, &fo.render.gamma)))
        return rc;
      break;
    case 'f': force = 1; break;
    case 'h': compare_help(); return CLI_EXIT_OK;
    default: return cli_getopt_error(cmd, c, argv);
    }
  }
  if (argc - optind < 2) return cli_usage_error(cmd, "need IMG.tif and PSF.tif");
  if (argc - optind > 2) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 2]);
  if (!out_path) return cli_usage_error(cmd, "missing -o OUT.png");
  if ((rc = cli_png_output_name(cmd, out_path))) return rc;
  const char *img_path = argv[optind], *psf_path = argv[optind + 1];
  const char *inputs[] = {img_path, psf_path, NULL};
  if ((rc = cli_check_output(out_path, force, inputs))) return rc;
  LucyVolume *img = NULL, *psf = NULL;
  LucyStatus s = lucy_tiff_read(img_path, NULL, &img, NULL);
  if (s) return cli_fail(s, "cannot read '%s'", img_path);
  s = lucy_tiff_read(psf_path, NULL, &psf, NULL);
  if (s) {
    lucy_volume_free(img);
    return cli_fail(s, "cannot read '%s'", psf_path);
  }
  LucyCompare cmp;
  s = lucy_compare_compute(img, psf, NULL, &cmp);
  lucy_volume_free(img);
  lucy_volume_free(psf);
  if (s) return cli_fail(s, "cannot convolve '%s' with '%s'", img_path, psf_path);
  int w = 0, h = 0;
  s = lucy_compare_figure_size(&cmp, &fo, &w, &h);
  if (!s) s = lucy_compare_write_png(&cmp, &fo, out_path, force);
  if (s) {
    lucy_compare_clear(&cmp);
    return cli_fail(s, "cannot write '%s'", out_path);
  }
  char buf[64];
  for (int k = 0; k < 4; k++) {
    if (!cmp.out[k]) {
      fprintf(stderr, "%s: %-8s n/a (the PSF is larger than the image)\n", cmd,
              lucy_pad_mode_name((LucyPadMode)k));
      continue;
    }
    char fbuf[64];
    fprintf(stderr, "%s: %-8s output %s, FFT %s\n", cmd, lucy_pad_mode_name((LucyPadMode)k),
            cli_format_shape(cmp.out_shape[k], buf, sizeof buf),
            cli_format_shape(cmp.fft_shape[k], fbuf, sizeof fbuf));
  }
  double dmax = 0;
  for (size_t i = 0; i < lucy_shape_count(cmp.diff->shape); i++) {
    const double d = cmp.diff->data[i] < 0 ? -cmp.diff->data[i] : cmp.diff->data[i];
    if (d > dmax) dmax = d;
  }
  fprintf(stderr, "%s: max |circular - same| = %.6g; wrote %s (%d x %d pixels)\n", cmd, dmax,
          out_path, w, h);
  lucy_compare_clear(&cmp);
  return CLI_EXIT_OK;
}
