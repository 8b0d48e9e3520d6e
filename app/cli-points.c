/* lucy-cli points convolve | fit | nufft: point clouds through non-uniform FFTs.
 * CSV in and out (a header line naming the columns, numbers separated by commas); every
 * algorithm is in liblucy (lucy/points.h, lucy/nufft.h). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define TWO_PI 6.283185307179586

/* ---- CSV ------------------------------------------------------------------------------------ */

typedef struct Csv {
  size_t ncols, nrows;
  char **names;  /* ncols column names */
  double *data;  /* nrows x ncols, row-major */
  char **lines;  /* the rows as read (without newline), for pass-through output */
  char *header;
} Csv;

static void csv_free(Csv *c) {
  for (size_t i = 0; i < c->ncols; i++) free(c->names[i]);
  for (size_t i = 0; i < c->nrows; i++) free(c->lines[i]);
  free(c->names);
  free(c->lines);
  free(c->data);
  free(c->header);
  memset(c, 0, sizeof *c);
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r')) s[--n] = '\0';
  return s;
}

/* Reads a CSV with a header; every value must be a finite number. Prints the error. */
static int csv_read(const char *path, Csv *c) {
  memset(c, 0, sizeof *c);
  FILE *f = fopen(path, "r");
  if (!f) return cli_fail_plain("cannot read '%s': %s", path, strerror(errno));
  char *line = NULL;
  size_t cap = 0, lineno = 0, rows_cap = 0;
  ssize_t len;
  int rc = CLI_EXIT_OK;
  while ((len = getline(&line, &cap, f)) >= 0) {
    lineno++;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
    char *t = trim(line);
    if (!*t || *t == '#') continue;
    if (!c->header) {
      c->header = strdup(t);
      for (char *tok = strtok(t, ","); tok; tok = strtok(NULL, ",")) {
        c->names = realloc(c->names, (c->ncols + 1) * sizeof *c->names);
        c->names[c->ncols++] = strdup(trim(tok));
      }
      continue;
    }
    if (c->nrows == rows_cap) {
      rows_cap = rows_cap ? 2 * rows_cap : 1024;
      c->data = realloc(c->data, rows_cap * c->ncols * sizeof *c->data);
      c->lines = realloc(c->lines, rows_cap * sizeof *c->lines);
      if (!c->data || !c->lines) {
        rc = cli_fail_plain("out of memory reading '%s'", path);
        break;
      }
    }
    c->lines[c->nrows] = strdup(t);
    size_t col = 0;
    char *p = t;
    for (;;) {
      char *comma = strchr(p, ',');
      if (comma) *comma = '\0';
      char *field = trim(p), *end = NULL;
      errno = 0;
      double v = strtod(field, &end);
      if (col >= c->ncols) {
        rc = cli_fail_plain("%s:%zu: more than the %zu columns of the header", path, lineno,
                            c->ncols);
        break;
      }
      if (!*field || *end || errno == ERANGE || !isfinite(v)) {
        rc = cli_fail_plain("%s:%zu: column '%s': '%s' is not a finite number", path, lineno,
                            c->names[col], field);
        break;
      }
      c->data[c->nrows * c->ncols + col++] = v;
      if (!comma) break;
      p = comma + 1;
    }
    if (rc) {
      c->nrows++;
      break;
    }
    c->nrows++;
    if (col != c->ncols) {
      rc = cli_fail_plain("%s:%zu: %zu columns, the header has %zu", path, lineno, col,
                          c->ncols);
      break;
    }
  }
  free(line);
  fclose(f);
  if (!rc && !c->header) rc = cli_fail_plain("'%s' is empty (expected a header line)", path);
  if (rc) csv_free(c);
  return rc;
}

static long csv_col(const Csv *c, const char *name) {
  for (size_t i = 0; i < c->ncols; i++)
    if (strcmp(c->names[i], name) == 0) return (long)i;
  return -1;
}

/* a newly allocated column */
static double *csv_column(const Csv *c, long col) {
  double *v = malloc((c->nrows ? c->nrows : 1) * sizeof *v);
  if (!v) return NULL;
  for (size_t i = 0; i < c->nrows; i++) v[i] = c->data[i * c->ncols + (size_t)col];
  return v;
}

/* Writes text through a temporary file in the same folder, renamed into place. */
typedef struct OutFile {
  FILE *f;
  char tmp[4200];
  const char *path;
} OutFile;

static int out_open(OutFile *o, const char *path) {
  o->path = path;
  snprintf(o->tmp, sizeof o->tmp, "%s.tmp-XXXXXX", path);
  int fd = mkstemp(o->tmp);
  if (fd < 0) return cli_fail_plain("cannot write '%s': %s", path, strerror(errno));
  o->f = fdopen(fd, "w");
  if (!o->f) {
    close(fd);
    unlink(o->tmp);
    return cli_fail_plain("cannot write '%s': %s", path, strerror(errno));
  }
  return CLI_EXIT_OK;
}

static int out_commit(OutFile *o, int overwrite) {
  int bad = ferror(o->f);
  bad |= fclose(o->f) != 0;
  if (bad) {
    unlink(o->tmp);
    return cli_fail_plain("cannot write '%s': %s", o->path, strerror(errno));
  }
  if (!overwrite && access(o->path, F_OK) == 0) {
    unlink(o->tmp);
    return cli_fail_plain("cannot write '%s': the file exists (use --force to overwrite)",
                          o->path);
  }
  if (rename(o->tmp, o->path) != 0) {
    int e = errno;
    unlink(o->tmp);
    return cli_fail_plain("cannot write '%s': %s", o->path, strerror(e));
  }
  return CLI_EXIT_OK;
}

/* ---- shared options ------------------------------------------------------------------------- */

/* "NX", "NY,NX" or "NZ,NY,NX" -> shape z, y, x and the dimension */
static int parse_grid(const char *cmd, const char *arg, size_t shape[3], int *dim) {
  size_t n = 1;
  for (const char *p = arg; *p; p++) n += *p == ',';
  size_t v[3];
  const char *why = NULL;
  if (n > 3 || !cli_parse_size_list(arg, n, 1, 1u << 16, v, &why))
    return cli_usage_error(cmd, "--grid '%s': expected NX, NY,NX or NZ,NY,NX (%s)", arg,
                           why ? why : "1 to 3 sizes");
  shape[0] = shape[1] = 1;
  for (size_t i = 0; i < n; i++) shape[3 - n + i] = v[i];
  *dim = (int)n;
  if (*dim >= 2 && shape[3 - *dim] == 1 && *dim == 3)
    return cli_usage_error(cmd, "--grid '%s': a 3-D grid needs NZ > 1", arg);
  return CLI_EXIT_OK;
}

/* "L" or one value per grid axis (z, y, x order like --grid) */
static int parse_period(const char *cmd, const char *arg, int dim, double period[3]) {
  size_t n = 1;
  for (const char *p = arg; *p; p++) n += *p == ',';
  double v[3];
  const char *why = NULL;
  if ((n != 1 && n != (size_t)dim) || !cli_parse_double_list(arg, n, 0.0, 1e300, 1, v, &why))
    return cli_usage_error(cmd, "--period '%s': expected one box length > 0 or one per grid "
                                "axis (%s)", arg, why ? why : "wrong count");
  for (int a = 0; a < 3; a++) period[a] = TWO_PI;
  for (int a = 0; a < dim; a++) period[3 - dim + a] = n == 1 ? v[0] : v[a];
  return CLI_EXIT_OK;
}

/* x, y, z columns of the CSV for a dim-D grid; prints errors */
static int get_coords(const char *path, const Csv *c, int dim, double *xyz[3]) {
  static const char *names[3] = {"x", "y", "z"};
  for (int a = 0; a < 3; a++) xyz[a] = NULL;
  for (int a = 0; a < dim; a++) {
    long col = csv_col(c, names[a]);
    if (col < 0)
      return cli_fail_plain("'%s' has no '%s' column (a %d-D grid needs %s)", path, names[a],
                            dim, dim == 1 ? "x" : dim == 2 ? "x,y" : "x,y,z");
    xyz[a] = csv_column(c, col);
    if (!xyz[a]) return cli_fail_plain("out of memory");
  }
  return CLI_EXIT_OK;
}

/* ---- points convolve ------------------------------------------------------------------------ */

static void convolve_help(void) {
  printf(
      "Usage: lucy-cli points convolve PTS.csv -o OUT.tif --grid [NZ,]NY,NX --kernel K [options]\n"
      "\n"
      "Convolves weighted points on a periodic box with a kernel through non-uniform FFTs\n"
      "(type 1 onto the grid of modes, times the kernel's DFT, then an inverse FFT onto the\n"
      "grid and optionally a type-2 NUFFT back at the points). PTS.csv has a header naming\n"
      "its columns: x,y[,z][,w] (weight 1 when there is no w column; other columns are kept).\n"
      "Coordinates are in [0, L) on each axis, L = 2 pi unless --period says otherwise (values\n"
      "outside are folded). Grid voxel i sits at coordinate i * L / N.\n"
      "\n"
      "Kernels:\n"
      "  gaussian:S | gaussian:SY,SX | gaussian:SZ,SY,SX\n"
      "        exp(-|d|^2 / (2 sigma^2)) sampled on the grid, not normalised; sigma in the\n"
      "        units of the coordinates\n"
      "  file:KERNEL.tif\n"
      "        a kernel on the grid (e.g. from 'points fit', or a PSF), origin at voxel N//2,\n"
      "        used as it is (not normalised); at most the grid's size on every axis\n"
      "\n"
      "Options:\n"
      "  -o, --output OUT.tif    the convolution on the grid, float32 (required)\n"
      "      --grid [NZ,]NY,NX   grid size (required; NX alone for 1-D)\n"
      "      --kernel K          see above (required)\n"
      "      --at-points OUT.csv also the values at the points: the input columns plus 'value'\n"
      "      --period L[,..]     box length per axis (default 2 pi)\n"
      "      --eps E             NUFFT tolerance (default 1e-9)\n"
      "  -t, --threads T         CPU threads (default: all cores)\n"
      "  -f, --force             overwrite existing outputs\n"
      "  -h, --help              show this help\n");
}

enum { OPT_GRID = 300, OPT_KERNEL, OPT_AT_POINTS, OPT_PERIOD, OPT_EPS, OPT_BAND, OPT_TIKHONOV,
       OPT_ITERS, OPT_LOSS, OPT_TYPE, OPT_MODES, OPT_ISIGN, OPT_MODEORD, OPT_COEFFS };

static int points_convolve_main(int argc, char **argv) {
  static const char *const cmd = "points convolve";
  static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},   {"grid", required_argument, NULL, OPT_GRID},
    {"kernel", required_argument, NULL, OPT_KERNEL},
    {"at-points", required_argument, NULL, OPT_AT_POINTS},
    {"period", required_argument, NULL, OPT_PERIOD}, {"eps", required_argument, NULL, OPT_EPS},
    {"threads", required_argument, NULL, 't'},  {"force", no_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
  };
  const char *out_path = NULL, *grid_arg = NULL, *kernel_arg = NULL, *at_path = NULL,
             *period_arg = NULL;
  double eps = 1e-9;
  int threads = 0, force = 0, rc, c;
  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:t:fh", longopts, NULL)) != -1) {
    switch (c) {
    case 'o': out_path = optarg; break;
    case OPT_GRID: grid_arg = optarg; break;
    case OPT_KERNEL: kernel_arg = optarg; break;
    case OPT_AT_POINTS: at_path = optarg; break;
    case OPT_PERIOD: period_arg = optarg; break;
    case OPT_EPS:
      if ((rc = cli_opt_double(cmd, "--eps", optarg, 0.0, 0.1, 1, &eps))) return rc;
      break;
    case 't':
      if ((rc = cli_opt_int(cmd, "--threads", optarg, 1, 1024, &threads))) return rc;
      break;
    case 'f': force = 1; break;
    case 'h': convolve_help(); return CLI_EXIT_OK;
    default: return cli_getopt_error(cmd, c, argv);
    }
  }
  if (optind >= argc) return cli_usage_error(cmd, "missing PTS.csv");
  if (optind + 1 < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
  const char *in_path = argv[optind];
  if (!out_path) return cli_usage_error(cmd, "missing -o OUT.tif");
  if (!grid_arg) return cli_usage_error(cmd, "missing --grid [NZ,]NY,NX");
  if (!kernel_arg) return cli_usage_error(cmd, "missing --kernel (gaussian:SIGMA or file:K.tif)");
  size_t shape[3];
  int dim;
  double period[3];
  if ((rc = parse_grid(cmd, grid_arg, shape, &dim))) return rc;
  for (int a = 0; a < 3; a++) period[a] = TWO_PI;
  if (period_arg && (rc = parse_period(cmd, period_arg, dim, period))) return rc;
  LucyPointKernel kernel = {LUCY_POINT_KERNEL_GAUSSIAN, {1, 1, 1}, NULL};
  LucyVolume *kvol = NULL;
  if (strncmp(kernel_arg, "gaussian:", 9) == 0) {
    const char *s = kernel_arg + 9, *why = NULL;
    size_t n = 1;
    for (const char *p = s; *p; p++) n += *p == ',';
    double v[3];
    if ((n != 1 && n != (size_t)dim) || !cli_parse_double_list(s, n, 0.0, 1e300, 1, v, &why))
      return cli_usage_error(cmd, "--kernel '%s': expected gaussian:SIGMA or one sigma > 0 per "
                                  "grid axis (%s)", kernel_arg, why ? why : "wrong count");
    for (int a = 0; a < dim; a++) kernel.sigma[3 - dim + a] = n == 1 ? v[0] : v[a];
  } else if (strncmp(kernel_arg, "file:", 5) == 0) {
    kernel.kind = LUCY_POINT_KERNEL_GRID;
  } else {
    return cli_usage_error(cmd, "--kernel '%s': expected gaussian:SIGMA or file:KERNEL.tif",
                           kernel_arg);
  }
  const char *inputs[3] = {in_path, kernel.kind == LUCY_POINT_KERNEL_GRID ? kernel_arg + 5 : NULL,
                           NULL};
  if ((rc = cli_check_output(out_path, force, inputs))) return rc;
  if (at_path && (rc = cli_check_output(at_path, force, inputs))) return rc;
  cli_warn_threads(cmd, threads);
  if (kernel.kind == LUCY_POINT_KERNEL_GRID) {
    LucyStatus s = lucy_tiff_read(kernel_arg + 5, NULL, &kvol, NULL);
    if (s) return cli_fail(s, "cannot read the kernel '%s'", kernel_arg + 5);
    kernel.grid = kvol;
  }
  Csv csv;
  if ((rc = csv_read(in_path, &csv))) {
    lucy_volume_free(kvol);
    return rc;
  }
  double *xyz[3] = {NULL, NULL, NULL}, *w = NULL, *values = NULL;
  LucyVolume *img = NULL;
  LucyPointConvPlan *plan = NULL;
  if ((rc = get_coords(in_path, &csv, dim, xyz))) goto done;
  long wcol = csv_col(&csv, "w");
  if (wcol >= 0 && !(w = csv_column(&csv, wcol))) {
    rc = cli_fail_plain("out of memory");
    goto done;
  }
  LucyPointsOptions po;
  lucy_points_options_default(&po);
  memcpy(po.period, period, sizeof po.period);
  po.eps = eps;
  po.threads = threads;
  LucyStatus s = lucy_point_conv_plan_new(shape, &kernel, &po, &plan);
  if (s) {
    rc = cli_fail(s, "cannot plan the point convolution");
    goto done;
  }
  if ((s = lucy_volume_new(shape, &img))) {
    rc = cli_fail(s, "cannot allocate the output image");
    goto done;
  }
  for (int a = 0; a < 3; a++) img->voxel_um[a] = period[a] / (double)shape[a];
  if (at_path && !(values = malloc((csv.nrows ? csv.nrows : 1) * sizeof *values))) {
    rc = cli_fail_plain("out of memory");
    goto done;
  }
  LucyPointCloud pc = {csv.nrows, xyz[0], xyz[1], xyz[2], w};
  if ((s = lucy_point_conv_execute(plan, &pc, values, img->data))) {
    rc = cli_fail(s, "point convolution failed");
    goto done;
  }
  if ((rc = cli_check_cancelled(cmd))) goto done;
  LucyTiffWriteOptions wo;
  lucy_tiff_write_options_default(&wo);
  wo.overwrite = force;
  if ((s = cli_tiff_write("points", out_path, img, &wo))) {
    rc = cli_fail(s, "cannot write '%s'", out_path);
    goto done;
  }
  if (at_path) {
    OutFile of;
    if ((rc = out_open(&of, at_path))) goto done;
    fprintf(of.f, "%s,value\n", csv.header);
    for (size_t i = 0; i < csv.nrows; i++) fprintf(of.f, "%s,%.17g\n", csv.lines[i], values[i]);
    if ((rc = out_commit(&of, force))) goto done;
  }
  char buf[64];
  fprintf(stderr, "%s: %zu points -> %s grid, kernel %s; wrote %s%s%s\n", cmd, csv.nrows,
          cli_format_shape(shape, buf, sizeof buf), kernel_arg, out_path, at_path ? " and " : "",
          at_path ? at_path : "");
done:
  lucy_point_conv_plan_free(plan);
  lucy_volume_free(img);
  lucy_volume_free(kvol);
  for (int a = 0; a < 3; a++) free(xyz[a]);
  free(w);
  free(values);
  csv_free(&csv);
  return rc;
}

/* ---- points fit ----------------------------------------------------------------------------- */

static void fit_help(void) {
  printf(
      "Usage: lucy-cli points fit DATA.csv -o KERNEL.tif --grid [NZ,]NY,NX [options]\n"
      "\n"
      "Estimates a convolution kernel from observed point data. DATA.csv has the columns\n"
      "set,x,y[,z][,w],value: the points of one set were convolved together, w is the input\n"
      "weight (1 when absent) and value the observed convolution at the point. The model is\n"
      "linear in the kernel's DFT, so this solves the least-squares problem by conjugate\n"
      "gradients on the normal equations (optionally with a Tikhonov penalty) and prints the\n"
      "loss (mean squared residual) per iteration. KERNEL.tif is the real-space kernel on\n"
      "the grid with its origin at voxel N//2, like a PSF: 'points convolve --kernel\n"
      "file:KERNEL.tif' uses it as it is.\n"
      "\n"
      "Options:\n"
      "  -o, --output KERNEL.tif  the fitted kernel, float32 (required)\n"
      "      --grid [NZ,]NY,NX    grid size (required)\n"
      "      --band K             fit only modes with |k| <= K per axis (default: all). Keep the\n"
      "                           fitted modes well below the number of observations\n"
      "      --tikhonov L         penalty L * ||Khat||^2 (default 0)\n"
      "      --iters N            conjugate-gradient iterations at most (default 200)\n"
      "      --loss LOSS.csv      write the loss per iteration\n"
      "      --period L[,..]      box length per axis (default 2 pi)\n"
      "      --eps E              NUFFT tolerance (default 1e-9)\n"
      "  -t, --threads T          CPU threads (default: all cores)\n"
      "  -f, --force              overwrite existing outputs\n"
      "  -h, --help               show this help\n");
}

static int points_fit_main(int argc, char **argv) {
  static const char *const cmd = "points fit";
  static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},  {"grid", required_argument, NULL, OPT_GRID},
    {"band", required_argument, NULL, OPT_BAND}, {"tikhonov", required_argument, NULL, OPT_TIKHONOV},
    {"iters", required_argument, NULL, OPT_ITERS}, {"loss", required_argument, NULL, OPT_LOSS},
    {"period", required_argument, NULL, OPT_PERIOD}, {"eps", required_argument, NULL, OPT_EPS},
    {"threads", required_argument, NULL, 't'}, {"force", no_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
  };
  const char *out_path = NULL, *grid_arg = NULL, *period_arg = NULL, *loss_path = NULL;
  LucyPointFitOptions fo;
  lucy_point_fit_options_default(&fo);
  size_t band = 0;
  int force = 0, rc, c;
  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:t:fh", longopts, NULL)) != -1) {
    switch (c) {
    case 'o': out_path = optarg; break;
    case OPT_GRID: grid_arg = optarg; break;
    case OPT_PERIOD: period_arg = optarg; break;
    case OPT_LOSS: loss_path = optarg; break;
    case OPT_BAND:
      if ((rc = cli_opt_size(cmd, "--band", optarg, 1, 1u << 15, &band))) return rc;
      break;
    case OPT_TIKHONOV:
      if ((rc = cli_opt_double(cmd, "--tikhonov", optarg, 0.0, 1e300, 0, &fo.tikhonov))) return rc;
      break;
    case OPT_ITERS:
      if ((rc = cli_opt_int(cmd, "--iters", optarg, 1, 100000, &fo.max_iter))) return rc;
      break;
    case OPT_EPS:
      if ((rc = cli_opt_double(cmd, "--eps", optarg, 0.0, 0.1, 1, &fo.eps))) return rc;
      break;
    case 't':
      if ((rc = cli_opt_int(cmd, "--threads", optarg, 1, 1024, &fo.threads))) return rc;
      break;
    case 'f': force = 1; break;
    case 'h': fit_help(); return CLI_EXIT_OK;
    default: return cli_getopt_error(cmd, c, argv);
    }
  }
  if (optind >= argc) return cli_usage_error(cmd, "missing DATA.csv");
  if (optind + 1 < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
  const char *in_path = argv[optind];
  if (!out_path) return cli_usage_error(cmd, "missing -o KERNEL.tif");
  if (!grid_arg) return cli_usage_error(cmd, "missing --grid [NZ,]NY,NX");
  size_t shape[3];
  int dim;
  if ((rc = parse_grid(cmd, grid_arg, shape, &dim))) return rc;
  if (period_arg && (rc = parse_period(cmd, period_arg, dim, fo.period))) return rc;
  for (int a = 0; a < 3; a++) fo.band[a] = band;
  const char *inputs[2] = {in_path, NULL};
  if ((rc = cli_check_output(out_path, force, inputs))) return rc;
  if (loss_path && (rc = cli_check_output(loss_path, force, inputs))) return rc;
  cli_warn_threads(cmd, fo.threads);
  Csv csv;
  if ((rc = csv_read(in_path, &csv))) return rc;
  double *xyz[3] = {NULL, NULL, NULL}, *w = NULL, *val = NULL, *setd = NULL;
  size_t *set = NULL;
  LucyPointFitResult res = {0};
  if ((rc = get_coords(in_path, &csv, dim, xyz))) goto done;
  long scol = csv_col(&csv, "set"), vcol = csv_col(&csv, "value"), wcol = csv_col(&csv, "w");
  if (scol < 0 || vcol < 0) {
    rc = cli_fail_plain("'%s' needs the columns set and value (set,x,y[,z][,w],value)", in_path);
    goto done;
  }
  if (csv.nrows == 0) {
    rc = cli_fail_plain("'%s' has no data rows", in_path);
    goto done;
  }
  setd = csv_column(&csv, scol);
  val = csv_column(&csv, vcol);
  set = malloc(csv.nrows * sizeof *set);
  if (wcol >= 0) w = csv_column(&csv, wcol);
  if (!setd || !val || !set || (wcol >= 0 && !w)) {
    rc = cli_fail_plain("out of memory");
    goto done;
  }
  for (size_t i = 0; i < csv.nrows; i++) {
    if (setd[i] < 0 || setd[i] != floor(setd[i]) || setd[i] > 1e15) {
      rc = cli_fail_plain("'%s' row %zu: set %g is not a non-negative integer", in_path, i + 1,
                          setd[i]);
      goto done;
    }
    set[i] = (size_t)setd[i];
  }
  CliProgress prog;
  cli_progress_init(&prog, cmd);
  fo.progress = cli_progress_fn;
  fo.progress_user = &prog;
  LucyStatus s = lucy_points_fit_kernel(shape, csv.nrows, set, xyz[0], xyz[1], xyz[2], w, val,
                                        &fo, &res);
  cli_progress_finish(&prog);
  if (s) {
    rc = cli_fail(s, "kernel fit failed");
    goto done;
  }
  LucyTiffWriteOptions wo;
  lucy_tiff_write_options_default(&wo);
  wo.overwrite = force;
  for (int a = 0; a < 3; a++) res.kernel->voxel_um[a] = fo.period[a] / (double)shape[a];
  if ((s = cli_tiff_write("points", out_path, res.kernel, &wo))) {
    rc = cli_fail(s, "cannot write '%s'", out_path);
    goto done;
  }
  if (loss_path) {
    OutFile of;
    if ((rc = out_open(&of, loss_path))) goto done;
    fprintf(of.f, "iteration,loss\n");
    for (size_t i = 0; i <= res.iterations; i++) fprintf(of.f, "%zu,%.17g\n", i, res.loss[i]);
    if ((rc = out_commit(&of, force))) goto done;
  }
  char buf[64];
  fprintf(stderr, "%s: %zu observations, %s grid%s; %zu iterations, loss %.3g -> %.3g; wrote %s\n",
          cmd, csv.nrows, cli_format_shape(shape, buf, sizeof buf), band ? " (band)" : "",
          res.iterations, res.loss[0], res.loss[res.iterations], out_path);
done:
  lucy_point_fit_result_clear(&res);
  for (int a = 0; a < 3; a++) free(xyz[a]);
  free(w);
  free(val);
  free(setd);
  free(set);
  csv_free(&csv);
  return rc;
}

/* ---- points nufft --------------------------------------------------------------------------- */

static void nufft_help(void) {
  printf(
      "Usage: lucy-cli points nufft --type 1 PTS.csv -o MODES.csv --modes N1[,N2[,N3]] [options]\n"
      "       lucy-cli points nufft --type 2 PTS.csv --coeffs MODES.csv -o OUT.csv --modes ...\n"
      "\n"
      "Non-uniform FFTs with FINUFFT's definitions, for scripting. Coordinates x[,y[,z]] are in\n"
      "radians (folded periodically); N1 is the x axis.\n"
      "  type 1: f[k] = sum_j c_j exp(isign i k.x_j); PTS.csv has x[,y[,z]] and the strengths\n"
      "          as re[,im] or w (real). MODES.csv gets k1[,k2[,k3]],re,im, k1 fastest.\n"
      "  type 2: c_j = sum_k f[k] exp(isign i k.x_j); MODES.csv as above (any row order, missing\n"
      "          modes are 0); OUT.csv gets the input columns plus re,im.\n"
      "\n"
      "Options:\n"
      "      --type 1|2         transform type (required)\n"
      "      --modes N1[,N2[,N3]] modes per axis, x first (required; sets the dimension)\n"
      "      --coeffs MODES.csv type 2: the Fourier coefficients\n"
      "  -o, --output OUT.csv   output (required)\n"
      "      --isign +1|-1      exponent sign (default +1 for type 1, -1 for type 2)\n"
      "      --modeord 0|1      order of the output modes (0: -N/2..N/2-1, 1: FFT order)\n"
      "      --eps E            tolerance (default 1e-9)\n"
      "  -t, --threads T        CPU threads (default: all cores)\n"
      "  -f, --force            overwrite an existing output\n"
      "  -h, --help             show this help\n");
}

static int points_nufft_main(int argc, char **argv) {
  static const char *const cmd = "points nufft";
  static const struct option longopts[] = {
    {"output", required_argument, NULL, 'o'},   {"type", required_argument, NULL, OPT_TYPE},
    {"modes", required_argument, NULL, OPT_MODES}, {"isign", required_argument, NULL, OPT_ISIGN},
    {"modeord", required_argument, NULL, OPT_MODEORD},
    {"coeffs", required_argument, NULL, OPT_COEFFS}, {"eps", required_argument, NULL, OPT_EPS},
    {"threads", required_argument, NULL, 't'},  {"force", no_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
  };
  const char *out_path = NULL, *modes_arg = NULL, *coeffs_path = NULL;
  int type = 0, isign = 0, modeord = 0, threads = 0, force = 0, rc, c;
  double eps = 1e-9;
  opterr = 0;
  optind = 1;
  while ((c = getopt_long(argc, argv, ":o:t:fh", longopts, NULL)) != -1) {
    switch (c) {
    case 'o': out_path = optarg; break;
    case OPT_TYPE:
      if ((rc = cli_opt_int(cmd, "--type", optarg, 1, 2, &type))) return rc;
      break;
    case OPT_MODES: modes_arg = optarg; break;
    case OPT_COEFFS: coeffs_path = optarg; break;
    case OPT_ISIGN:
      if ((rc = cli_opt_int(cmd, "--isign", optarg, -1, 1, &isign))) return rc;
      if (isign == 0) return cli_usage_error(cmd, "--isign must be +1 or -1");
      break;
    case OPT_MODEORD:
      if ((rc = cli_opt_int(cmd, "--modeord", optarg, 0, 1, &modeord))) return rc;
      break;
    case OPT_EPS:
      if ((rc = cli_opt_double(cmd, "--eps", optarg, 0.0, 0.1, 1, &eps))) return rc;
      break;
    case 't':
      if ((rc = cli_opt_int(cmd, "--threads", optarg, 1, 1024, &threads))) return rc;
      break;
    case 'f': force = 1; break;
    case 'h': nufft_help(); return CLI_EXIT_OK;
    default: return cli_getopt_error(cmd, c, argv);
    }
  }
  if (!type) return cli_usage_error(cmd, "missing --type 1|2");
  if (optind >= argc) return cli_usage_error(cmd, "missing PTS.csv");
  if (optind + 1 < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
  const char *in_path = argv[optind];
  if (!out_path) return cli_usage_error(cmd, "missing -o OUT.csv");
  if (!modes_arg) return cli_usage_error(cmd, "missing --modes N1[,N2[,N3]]");
  if (type == 2 && !coeffs_path) return cli_usage_error(cmd, "type 2 needs --coeffs MODES.csv");
  if (type == 1 && coeffs_path) return cli_usage_error(cmd, "--coeffs is for type 2 only");
  if (!isign) isign = type == 1 ? 1 : -1;
  size_t nm = 1, mv[3];
  for (const char *p = modes_arg; *p; p++) nm += *p == ',';
  const char *why = NULL;
  if (nm > 3 || !cli_parse_size_list(modes_arg, nm, 1, 1u << 24, mv, &why))
    return cli_usage_error(cmd, "--modes '%s': expected 1 to 3 sizes >= 1 (%s)", modes_arg,
                           why ? why : "too many");
  const int dim = (int)nm;
  int64_t modes[3] = {1, 1, 1};
  size_t ntot = 1;
  for (int a = 0; a < dim; a++) {
    modes[a] = (int64_t)mv[a];
    ntot *= mv[a];
  }
  const char *inputs[3] = {in_path, coeffs_path, NULL};
  if ((rc = cli_check_output(out_path, force, inputs))) return rc;
  cli_warn_threads(cmd, threads);
  Csv csv, cf;
  memset(&cf, 0, sizeof cf);
  if ((rc = csv_read(in_path, &csv))) return rc;
  double *xyz[3] = {NULL, NULL, NULL}, *in = NULL, *out = NULL;
  LucyNufftPlan *plan = NULL;
  if ((rc = get_coords(in_path, &csv, dim, xyz))) goto done;
  const size_t M = csv.nrows;
  static const char *kn[3] = {"k1", "k2", "k3"};
  if (type == 1) {
    long re = csv_col(&csv, "re"), im = csv_col(&csv, "im"), wc = csv_col(&csv, "w");
    if (re < 0 && wc < 0) {
      rc = cli_fail_plain("'%s' needs strengths: columns re[,im] or w", in_path);
      goto done;
    }
    in = calloc(2 * (M ? M : 1), sizeof *in);
    out = malloc(2 * ntot * sizeof *out);
    if (!in || !out) {
      rc = cli_fail_plain("out of memory");
      goto done;
    }
    for (size_t j = 0; j < M; j++) {
      in[2 * j] = csv.data[j * csv.ncols + (size_t)(re >= 0 ? re : wc)];
      if (re >= 0 && im >= 0) in[2 * j + 1] = csv.data[j * csv.ncols + (size_t)im];
    }
  } else {
    if ((rc = csv_read(coeffs_path, &cf))) goto done;
    long kc[3], re = csv_col(&cf, "re"), im = csv_col(&cf, "im");
    for (int a = 0; a < dim; a++) kc[a] = csv_col(&cf, kn[a]);
    for (int a = 0; a < dim; a++)
      if (kc[a] < 0 || re < 0) {
        rc = cli_fail_plain("'%s' needs the columns k1%s%s,re[,im]", coeffs_path,
                            dim > 1 ? ",k2" : "", dim > 2 ? ",k3" : "");
        goto done;
      }
    in = calloc(2 * ntot, sizeof *in);
    out = malloc(2 * (M ? M : 1) * sizeof *out);
    if (!in || !out) {
      rc = cli_fail_plain("out of memory");
      goto done;
    }
    for (size_t r = 0; r < cf.nrows; r++) {
      size_t pos = 0, mul = 1;
      for (int a = 0; a < dim; a++) {
        const double k = cf.data[r * cf.ncols + (size_t)kc[a]];
        const double lo = -(double)(mv[a] / 2), hi = (double)((mv[a] - 1) / 2);
        if (k != floor(k) || k < lo || k > hi) {
          rc = cli_fail_plain("'%s' row %zu: %s = %g is not a mode in [%g, %g]", coeffs_path,
                              r + 1, kn[a], k, lo, hi);
          goto done;
        }
        pos += (size_t)(k - lo) * mul;
        mul *= mv[a];
      }
      in[2 * pos] = cf.data[r * cf.ncols + (size_t)re];
      if (im >= 0) in[2 * pos + 1] = cf.data[r * cf.ncols + (size_t)im];
    }
  }
  LucyNufftOptions no;
  lucy_nufft_options_default(&no);
  no.threads = threads;
  no.modeord = type == 1 ? modeord : 0;
  LucyStatus s = lucy_nufft_plan_new(type, dim, modes, isign, eps, &no, &plan);
  if (s) {
    rc = cli_fail(s, "cannot plan the NUFFT");
    goto done;
  }
  if (lucy_nufft_plan_warnings(plan))
    fprintf(stderr, "%s: warning: %s\n", cmd, lucy_nufft_plan_warning_text(plan));
  if ((s = lucy_nufft_setpts(plan, M, xyz[0], xyz[1], xyz[2])) ||
      (s = lucy_nufft_execute(plan, 1, in, out))) {
    rc = cli_fail(s, "NUFFT failed");
    goto done;
  }
  OutFile of;
  if ((rc = out_open(&of, out_path))) goto done;
  if (type == 1) {
    fprintf(of.f, "k1%s%s,re,im\n", dim > 1 ? ",k2" : "", dim > 2 ? ",k3" : "");
    for (size_t i = 0; i < ntot; i++) {
      size_t rem = i;
      for (int a = 0; a < dim; a++) {
        const size_t ia = rem % mv[a];
        rem /= mv[a];
        long k = modeord == 0 ? (long)ia - (long)(mv[a] / 2)
                              : (ia < mv[a] - mv[a] / 2 ? (long)ia : (long)ia - (long)mv[a]);
        fprintf(of.f, "%ld,", k);
      }
      fprintf(of.f, "%.17g,%.17g\n", out[2 * i], out[2 * i + 1]);
    }
  } else {
    fprintf(of.f, "%s,re,im\n", csv.header);
    for (size_t j = 0; j < M; j++)
      fprintf(of.f, "%s,%.17g,%.17g\n", csv.lines[j], out[2 * j], out[2 * j + 1]);
  }
  if ((rc = out_commit(&of, force))) goto done;
  fprintf(stderr, "%s: type %d, %zu points, %zu modes, isign %+d, eps %g (w=%d); wrote %s\n", cmd,
          type, M, ntot, isign, lucy_nufft_plan_eps(plan), lucy_nufft_plan_kernel_width(plan),
          out_path);
done:
  lucy_nufft_plan_free(plan);
  for (int a = 0; a < 3; a++) free(xyz[a]);
  free(in);
  free(out);
  csv_free(&csv);
  csv_free(&cf);
  return rc;
}

/* ---- dispatch ------------------------------------------------------------------------------- */

typedef struct PointsCmd {
  const char *name;
  int (*main)(int argc, char **argv);
  const char *summary;
} PointsCmd;

static const PointsCmd subcommands[] = {
  {"convolve", points_convolve_main, "convolve points with a kernel onto a grid (and at the points)"},
  {"fit", points_fit_main, "fit a convolution kernel from observed point data (least squares)"},
  {"nufft", points_nufft_main, "type 1 or 2 non-uniform FFT of a CSV (FINUFFT's definitions)"},
};
#define N_SUB (sizeof subcommands / sizeof subcommands[0])

static void points_help(FILE *f) {
  fprintf(f, "Usage: lucy-cli points SUBCOMMAND ...\n"
             "       lucy-cli points SUBCOMMAND --help\n"
             "\n"
             "Point clouds (e.g. single-molecule localisations) on a periodic box through\n"
             "non-uniform FFTs. Subcommands:\n");
  for (size_t i = 0; i < N_SUB; i++)
    fprintf(f, "  %-10s %s\n", subcommands[i].name, subcommands[i].summary);
  fprintf(f, "\nExample:\n"
             "  lucy-cli points convolve pts.csv -o conv.tif --grid 128,128 --kernel gaussian:0.5 \\\n"
             "      --at-points values.csv\n");
}

int cli_points_main(int argc, char **argv) {
  if (argc < 2) return cli_usage_error("points", "missing SUBCOMMAND (convolve, fit or nufft)");
  const char *sub = argv[1];
  if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0) {
    points_help(stdout);
    return CLI_EXIT_OK;
  }
  for (size_t i = 0; i < N_SUB; i++)
    if (strcmp(sub, subcommands[i].name) == 0) return subcommands[i].main(argc - 1, argv + 1);
  if (sub[0] == '-')
    return cli_usage_error("points", "options go after the subcommand: 'lucy-cli points convolve "
                                     "%s ...'", sub);
  return cli_usage_error("points", "unknown subcommand '%s' (known: convolve, fit, nufft)", sub);
}
