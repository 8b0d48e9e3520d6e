/* lucy-cli: batch FFT convolution of 3-D stacks, projections and demo data from the shell.
 * Thin: argument parsing and messages here, every algorithm in liblucy. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

typedef struct Command {
  const char *name;
  int (*main)(int argc, char **argv);
  const char *summary;
} Command;

static const Command commands[] = {
  {"info", cli_info_main, "shape, voxel size, sample type and statistics of a TIFF stack"},
  {"convolve", cli_convolve_main, "FFT convolution of a stack with a PSF (4 padding modes)"},
  {"deconvolve", cli_deconvolve_main, "Richardson-Lucy (RL, RL-TV, accelerated) or Wiener restoration"},
  {"project", cli_project_main, "orthogonal max projections (XY | ZY over XZ) as a PNG figure"},
  {"phantom", cli_phantom_main, "a synthetic stack of random spheres (blur and noise optional)"},
  {"psf", cli_psf_main, "PSFs: gaussian, bornwolf, gibsonlanni; measure and fix"},
  {"compare", cli_compare_main, "the four padding modes side by side as a PNG (wrap-around)"},
  {"points", cli_points_main, "point clouds: NUFFT convolution, kernel fitting, nufft"},
  {"memory", cli_memory_main, "predicted peak memory and strategy of an operation (no GPU needed)"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void print_usage(FILE *f) {
  fprintf(f,
          "Usage: lucy-cli COMMAND [ARGS...]\n"
          "       lucy-cli COMMAND --help\n"
          "\n"
          "FFT convolution and deconvolution of 3-D microscopy stacks (float32, z-y-x).\n"
          "\n"
          "Commands:\n");
  for (size_t i = 0; i < N_COMMANDS; i++)
    fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(f,
          "\n"
          "Options:\n"
          "  -h, --help     show this help\n"
          "  -V, --version  show the version\n"
          "\n"
          "Exit status: 0 success, 1 failure (message on stderr), 2 usage error,\n"
          "130 cancelled with Ctrl-C. Inputs are never modified; outputs are written\n"
          "atomically and never replace an existing file without --force.\n"
          "\n"
          "Example (demo data):\n"
          "  lucy-cli phantom -o obj.tif --shape 32,128,128 --voxel 0.3,0.1,0.1\n"
          "  lucy-cli psf gaussian -o psf.tif --shape 15,15,15 --sigma 2,1,1\n"
          "  lucy-cli convolve obj.tif psf.tif -o img.tif --mode same\n"
          "  lucy-cli deconvolve img.tif psf.tif -o restored.tif --iterations 50\n"
          "  lucy-cli project img.tif -o img.png --colormap magma\n");
}

int main(int argc, char **argv) {
  if (argc < 2)
    return cli_usage_error(NULL, "missing COMMAND (info, convolve, deconvolve, project, phantom, psf, compare or points)");
  const char *cmd = argv[1];
  if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
    print_usage(stdout);
    return CLI_EXIT_OK;
  }
  if (strcmp(cmd, "-V") == 0 || strcmp(cmd, "--version") == 0) {
    printf("lucy-cli %s (liblucy %s)\n", LUCY_VERSION_STRING, lucy_version());
    return CLI_EXIT_OK;
  }
  if (strcmp(cmd, "help") == 0) {
    if (argc == 2) {
      print_usage(stdout);
      return CLI_EXIT_OK;
    }
    /* "lucy-cli help convolve" == "lucy-cli convolve --help" */
    for (size_t i = 0; i < N_COMMANDS; i++)
      if (strcmp(argv[2], commands[i].name) == 0) {
        char help[] = "--help";
        char *sub_argv[] = {argv[2], help, NULL};
        return commands[i].main(2, sub_argv);
      }
    return cli_usage_error(NULL, "unknown command '%s'", argv[2]);
  }
  for (size_t i = 0; i < N_COMMANDS; i++)
    if (strcmp(cmd, commands[i].name) == 0) {
      cli_signals_install();
      int rc = commands[i].main(argc - 1, argv + 1);
      if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s: writing to standard output failed\n", cli_program);
        return CLI_EXIT_FAILURE;
      }
      return rc;
    }
  if (cmd[0] == '-')
    return cli_usage_error(NULL, "unknown option '%s' (options go after the command)", cmd);
  return cli_usage_error(NULL, "unknown command '%s'", cmd);
}
