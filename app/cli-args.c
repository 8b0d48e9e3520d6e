/* lucy-cli: strict number parsing, usage errors and one-line failure reports. */
#include "cli-args.h"
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const cli_program = "lucy-cli";

static char why_buf[128];

static int set_why(const char **why, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int set_why(const char **why, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why_buf, sizeof why_buf, fmt, ap);
  va_end(ap);
  if (why)
    *why = why_buf;
  return 0;
}

int cli_usage_error(const char *command, const char *fmt, ...) {
  char msg[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (command)
    fprintf(stderr, "%s: %s: %s; see '%s %s --help'\n", cli_program, command, msg, cli_program,
            command);
  else
    fprintf(stderr, "%s: %s; see '%s --help'\n", cli_program, msg, cli_program);
  return CLI_EXIT_USAGE;
}

/* Library messages are one line; keep ours one line even if one ever is not. */
static void print_one_line(const char *s) {
  for (; *s; s++)
    fputc(*s == '\n' || *s == '\r' ? ' ' : *s, stderr);
}

int cli_fail(LucyStatus status, const char *fmt, ...) {
  char what[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(what, sizeof what, fmt, ap);
  va_end(ap);
  const char *detail = lucy_error_message();
  fprintf(stderr, "%s: ", cli_program);
  print_one_line(what);
  if (status == LUCY_ERR_CANCELLED) {
    fputs(": cancelled\n", stderr);
    return cli_cancel_status();
  }
  if (detail && detail[0]) {
    fputs(": ", stderr);
    print_one_line(detail);
  } else {
    fprintf(stderr, ": %s", lucy_status_name(status));
  }
  fputc('\n', stderr);
  return CLI_EXIT_FAILURE;
}

int cli_fail_plain(const char *fmt, ...) {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  fprintf(stderr, "%s: ", cli_program);
  print_one_line(msg);
  fputc('\n', stderr);
  return CLI_EXIT_FAILURE;
}

/* ---- numbers ---------------------------------------------------------------------------- */

/* 0x10 or 0x1p-3: C literals, not numbers a user means (strtod takes the second). */
static int is_hex(const char *s) {
  const char *digits = s + (*s == '-' || *s == '+');
  return digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X');
}

static int parse_ull(const char *s, unsigned long long *out, const char **why) {
  /* strtoull accepts leading spaces, '+' and '-' (wrapping negatives): accept digits only. */
  if (!s || !*s)
    return set_why(why, "empty value");
  if (*s == '-')
    return set_why(why, "'%s' is negative", s);
  if (is_hex(s))
    return set_why(why, "'%s' is hexadecimal: give the number in decimal", s);
  for (const char *p = s; *p; p++)
    if (*p < '0' || *p > '9')
      return set_why(why, "'%s' is not a non-negative integer", s);
  errno = 0;
  char *end = NULL;
  unsigned long long v = strtoull(s, &end, 10);
  if (errno == ERANGE)
    return set_why(why, "'%s' is too large", s);
  if (end == s || *end)
    return set_why(why, "'%s' is not a non-negative integer", s);
  *out = v;
  return 1;
}

int cli_parse_size(const char *s, size_t min, size_t max, size_t *out, const char **why) {
  unsigned long long v;
  if (!parse_ull(s, &v, why))
    return 0;
  if (v < min || v > max)
    return set_why(why, "'%s' is out of range %zu..%zu", s, min, max);
  *out = (size_t)v;
  return 1;
}

int cli_parse_u64(const char *s, uint64_t *out, const char **why) {
  unsigned long long v;
  if (!parse_ull(s, &v, why))
    return 0;
  if (v > UINT64_MAX)
    return set_why(why, "'%s' is too large", s);
  *out = (uint64_t)v;
  return 1;
}

int cli_parse_int(const char *s, int min, int max, int *out, const char **why) {
  if (!s || !*s)
    return set_why(why, "empty value");
  const char *p = s;
  if (*p == '-' || *p == '+')
    p++;
  if (!*p)
    return set_why(why, "'%s' is not an integer", s);
  if (is_hex(s))
    return set_why(why, "'%s' is hexadecimal: give the number in decimal", s);
  for (; *p; p++)
    if (*p < '0' || *p > '9')
      return set_why(why, "'%s' is not an integer", s);
  errno = 0;
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (errno == ERANGE || v < INT_MIN || v > INT_MAX)
    return set_why(why, "'%s' is out of range %d..%d", s, min, max);
  if (end == s || *end)
    return set_why(why, "'%s' is not an integer", s);
  if (v < min || v > max)
    return set_why(why, "'%s' is out of range %d..%d", s, min, max);
  *out = (int)v;
  return 1;
}

int cli_parse_double(const char *s, double min, double max, int min_exclusive, double *out,
                     const char **why) {
  if (!s || !*s)
    return set_why(why, "empty value");
  /* strtod skips leading white space and accepts "nan", "inf" and hex floats: refuse the
   * first two (checked below) and white space here. */
  if (*s == ' ' || *s == '\t' || *s == '\n')
    return set_why(why, "'%s' is not a number", s);
  errno = 0;
  char *end = NULL;
  double v = strtod(s, &end);
  if (end == s || *end)
    return set_why(why, "'%s' is not a number", s);
  /* 0x1p-3 is a C literal, not a number a user means: no other option or file name takes it */
  if (is_hex(s))
    return set_why(why, "'%s' is hexadecimal: give the number in decimal (%.17g)", s, v);
  if (!isfinite(v) || (errno == ERANGE && fabs(v) > 1.0))
    return set_why(why, "'%s' is not a finite number", s);
  /* ERANGE with a tiny result is underflow: keep strtod's denormal or zero. */
  if (v > max || (min_exclusive ? !(v > min) : v < min)) {
    if (max >= HUGE_VAL || max >= 1e300)
      return set_why(why, "'%s' must be %s %g", s, min_exclusive ? ">" : ">=", min);
    return set_why(why, "'%s' is out of range %s%g..%g%s", s, min_exclusive ? "(" : "[", min,
                   max, "]");
  }
  *out = v;
  return 1;
}

/* Splits s at commas into exactly n fields (no empty fields) and hands each to parse. */
typedef int (*FieldFn)(const char *field, size_t index, void *ctx, const char **why);

static int split_fields(const char *s, size_t n, FieldFn fn, void *ctx, const char **why) {
  if (!s || !*s)
    return set_why(why, "empty value");
  size_t count = 1;
  for (const char *p = s; *p; p++)
    count += *p == ',';
  if (count != n)
    return set_why(why, "'%s' has %zu value%s, expected %zu separated by commas", s, count,
                   count == 1 ? "" : "s", n);
  const char *p = s;
  for (size_t i = 0; i < n; i++) {
    const char *comma = strchr(p, ',');
    size_t len = comma ? (size_t)(comma - p) : strlen(p);
    char field[64];
    if (len == 0)
      return set_why(why, "'%s' has an empty value", s);
    if (len >= sizeof field)
      return set_why(why, "'%.40s...' has a value that is too long", s);
    memcpy(field, p, len);
    field[len] = '\0';
    if (!fn(field, i, ctx, why))
      return 0;
    p = comma ? comma + 1 : p + len;
  }
  return 1;
}

typedef struct {
  size_t min, max;
  size_t *out;
} SizeCtx;

static int size_field(const char *field, size_t i, void *vctx, const char **why) {
  SizeCtx *c = vctx;
  return cli_parse_size(field, c->min, c->max, &c->out[i], why);
}

int cli_parse_size_list(const char *s, size_t n, size_t min, size_t max, size_t *out,
                        const char **why) {
  SizeCtx c = {min, max, out};
  return split_fields(s, n, size_field, &c, why);
}

typedef struct {
  double min, max;
  int min_exclusive;
  double *out;
} DoubleCtx;

static int double_field(const char *field, size_t i, void *vctx, const char **why) {
  DoubleCtx *c = vctx;
  return cli_parse_double(field, c->min, c->max, c->min_exclusive, &c->out[i], why);
}

int cli_parse_double_list(const char *s, size_t n, double min, double max, int min_exclusive,
                          double *out, const char **why) {
  DoubleCtx c = {min, max, min_exclusive, out};
  return split_fields(s, n, double_field, &c, why);
}

/* ---- option helpers ------------------------------------------------------------------- */

int cli_opt_size(const char *command, const char *opt, const char *arg, size_t min, size_t max,
                 size_t *out) {
  const char *why = "";
  if (!cli_parse_size(arg, min, max, out, &why))
    return cli_usage_error(command, "%s: %s", opt, why);
  return CLI_EXIT_OK;
}

int cli_opt_int(const char *command, const char *opt, const char *arg, int min, int max,
                int *out) {
  const char *why = "";
  if (!cli_parse_int(arg, min, max, out, &why))
    return cli_usage_error(command, "%s: %s", opt, why);
  return CLI_EXIT_OK;
}

int cli_opt_u64(const char *command, const char *opt, const char *arg, uint64_t *out) {
  const char *why = "";
  if (!cli_parse_u64(arg, out, &why))
    return cli_usage_error(command, "%s: %s", opt, why);
  return CLI_EXIT_OK;
}

int cli_opt_double(const char *command, const char *opt, const char *arg, double min,
                   double max, int min_exclusive, double *out) {
  const char *why = "";
  if (!cli_parse_double(arg, min, max, min_exclusive, out, &why))
    return cli_usage_error(command, "%s: %s", opt, why);
  return CLI_EXIT_OK;
}

/* One axis may hold at most 2^31 voxels and a volume at most 2^40 (4 TiB of float32): far
 * beyond any machine this runs on, but it keeps every product below overflow. */
#define CLI_MAX_EXTENT ((size_t)1 << 31)
#define CLI_MAX_VOXELS ((double)((uint64_t)1 << 40))

int cli_opt_shape(const char *command, const char *opt, const char *arg, size_t shape[3]) {
  const char *why = "";
  if (!cli_parse_size_list(arg, 3, 1, CLI_MAX_EXTENT, shape, &why))
    return cli_usage_error(command, "%s: %s (format: Z,Y,X, positive integers)", opt, why);
  if ((double)shape[0] * (double)shape[1] * (double)shape[2] > CLI_MAX_VOXELS)
    return cli_usage_error(command, "%s: '%s' is more than 2^40 voxels", opt, arg);
  return CLI_EXIT_OK;
}

int cli_opt_double3(const char *command, const char *opt, const char *arg, double min,
                    double max, int min_exclusive, double out[3]) {
  const char *why = "";
  if (!cli_parse_double_list(arg, 3, min, max, min_exclusive, out, &why))
    return cli_usage_error(command, "%s: %s (format: Z,Y,X)", opt, why);
  return CLI_EXIT_OK;
}

int cli_opt_voxel(const char *command, const char *opt, const char *arg, double out[3]) {
  const char *why = "";
  if (!cli_parse_double_list(arg, 3, 0.0, HUGE_VAL, 1, out, &why))
    return cli_usage_error(command, "%s: %s (format: Z,Y,X, three voxel sizes in micrometres, "
                           "each > 0)", opt, why);
  /* As the app's Voxel Size dialog: beyond these a TIFF's resolution tags (a rational 1/size)
   * would not keep the size, and an output would silently carry another. */
  for (int a = 0; a < 3; a++)
    if (out[a] < CLI_VOXEL_MIN_UM || out[a] > CLI_VOXEL_MAX_UM)
      return cli_usage_error(command, "%s: %g um (%c) is not a voxel size (0.1 nm to 1 cm: %g to "
                             "%g um)", opt, out[a], "zyx"[a], CLI_VOXEL_MIN_UM, CLI_VOXEL_MAX_UM);
  return CLI_EXIT_OK;
}

int cli_png_output_name(const char *command, const char *path) {
  const size_t n = strlen(path);
  if (n >= 4 && strcasecmp(path + n - 4, ".png") == 0)
    return CLI_EXIT_OK;
  const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
  const char *dot = strrchr(base, '.');
  const char *ext = dot && dot > base ? dot : NULL; /* ".name" is a hidden file, not a type */
  if (ext)
    return cli_usage_error(command, "-o '%s': %s writes a PNG figure (rendered colours, not the "
                           "stack's values), not %s; name the output .png", path, command, ext);
  return cli_usage_error(command, "-o '%s': %s writes a PNG figure; name the output .png", path,
                         command);
}

/* The CPUs this process may run on: taskset and container cpusets leave fewer than the
 * online cores, and FFT threads beyond them only wait. The core's default counts the same. */
static long usable_cpus(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
    return CPU_COUNT(&set);
  return sysconf(_SC_NPROCESSORS_ONLN);
}

void cli_warn_threads(const char *command, int threads) {
  const long cpus = usable_cpus();
  if (threads <= 0 || cpus <= 0 || threads <= cpus)
    return;
  fprintf(stderr, "%s: warning: --threads %d exceeds the %ld CPU%s this process may run on, and "
          "FFT threads that wait for a CPU can run many times slower; use --threads %ld or "
          "fewer (the default is one per CPU)\n", command, threads, cpus, cpus == 1 ? "" : "s",
          cpus);
}

int cli_getopt_error(const char *command, int c, char *const argv[]) {
  /* getopt_long (with opterr = 0 and an optstring starting with ':') returns ':' for a
   * missing argument and '?' for an unknown option. For a long option argv[optind - 1] is the
   * offending word (optopt is 0 or the option's value); for a short one optopt is the letter. */
  const char *word = optind > 0 && argv[optind - 1] ? argv[optind - 1] : "";
  char name[128];
  if (strncmp(word, "--", 2) == 0) {
    const char *eq = strchr(word, '=');
    size_t len = eq ? (size_t)(eq - word) : strlen(word);
    if (len >= sizeof name)
      len = sizeof name - 1;
    memcpy(name, word, len);
    name[len] = '\0';
  } else if (optopt > ' ' && optopt < 127) {
    snprintf(name, sizeof name, "-%c", optopt);
  } else {
    snprintf(name, sizeof name, "%s", word);
  }
  if (c == ':')
    return cli_usage_error(command, "option '%s' needs a value", name);
  return cli_usage_error(command, "unknown option '%s'", name);
}

const char *cli_format_shape(const size_t shape[3], char *buf, size_t size) {
  snprintf(buf, size, "%zu x %zu x %zu", shape[0], shape[1], shape[2]);
  return buf;
}

const char *cli_format_bytes(double bytes, char *buf, size_t size) {
  static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  size_t u = 0;
  while (bytes >= 1024.0 && u + 1 < sizeof units / sizeof units[0]) {
    bytes /= 1024.0;
    u++;
  }
  if (u == 0)
    snprintf(buf, size, "%.0f B", bytes);
  else
    snprintf(buf, size, "%.1f %s", bytes, units[u]);
  return buf;
}

/* ---- output pre-flight ---------------------------------------------------------------- */

int cli_check_output(const char *path, int overwrite, const char *const *inputs) {
  struct stat st;
  if (!path || !*path)
    return cli_fail_plain("empty output path");
  if (strcmp(path, "-") == 0) /* by Unix habit a user means standard output, not a file "-" */
    return cli_fail_plain("cannot write '-': outputs go to files, not to standard output; give "
                          "a file name (./- if you mean a file called '-')");
  /* The folder: everything up to the last '/', or "." */
  const char *slash = strrchr(path, '/');
  char dir[4096];
  if (!slash) {
    snprintf(dir, sizeof dir, ".");
  } else if (slash == path) {
    snprintf(dir, sizeof dir, "/");
  } else {
    size_t len = (size_t)(slash - path);
    if (len >= sizeof dir)
      return cli_fail_plain("cannot write '%s': path too long", path);
    memcpy(dir, path, len);
    dir[len] = '\0';
  }
  if (slash && slash[1] == '\0')
    return cli_fail_plain("cannot write '%s': the output names a folder, not a file", path);
  if (stat(dir, &st) != 0)
    return cli_fail_plain("cannot write '%s': folder '%s' does not exist (%s)", path, dir,
                          strerror(errno));
  if (!S_ISDIR(st.st_mode))
    return cli_fail_plain("cannot write '%s': '%s' is not a folder", path, dir);
  if (access(dir, W_OK | X_OK) != 0)
    return cli_fail_plain("cannot write '%s': folder '%s' is not writable (%s)", path, dir,
                          strerror(errno));

  struct stat out_st;
  if (lstat(path, &out_st) == 0 && !S_ISREG(out_st.st_mode) && !S_ISLNK(out_st.st_mode) &&
      !S_ISDIR(out_st.st_mode))
    return cli_fail_plain("cannot write '%s': it is not a regular file (a device, FIFO or "
                          "socket); outputs replace the file named, so give a file path",
                          path);
  if (stat(path, &out_st) == 0) {
    if (S_ISDIR(out_st.st_mode))
      return cli_fail_plain("cannot write '%s': it is a folder", path);
    for (size_t i = 0; inputs && inputs[i]; i++) {
      struct stat in_st;
      if (stat(inputs[i], &in_st) == 0 && in_st.st_dev == out_st.st_dev &&
          in_st.st_ino == out_st.st_ino)
        return cli_fail_plain("refusing to write '%s': it is the input file '%s' (inputs are "
                              "never modified; choose another output)", path, inputs[i]);
    }
    if (!overwrite)
      return cli_fail_plain("cannot write '%s': the file exists (use --force to overwrite)",
                            path);
  }
  return CLI_EXIT_OK;
}

int cli_opt_origin(const char *command, const char *arg, LucyOrigin *out) {
  if (strcmp(arg, "center") == 0 || strcmp(arg, "centre") == 0)
    *out = LUCY_ORIGIN_CENTER;
  else if (strcmp(arg, "scipy") == 0)
    *out = LUCY_ORIGIN_SCIPY;
  else
    return cli_usage_error(command, "--origin: '%s' is not one of center, scipy", arg);
  return CLI_EXIT_OK;
}

/* ---- memory strategies ------------------------------------------------------------------ */

int cli_opt_strategy(const char *command, const char *arg, LucyStrategy *out) {
  if (lucy_strategy_parse(arg, out) != LUCY_OK)
    return cli_usage_error(command, "--strategy: '%s' is not one of auto, in-memory, low-memory, "
                           "tiled, cpu", arg);
  return CLI_EXIT_OK;
}

int cli_opt_tile(const char *command, const char *arg, size_t tile[2]) {
  const char *why = "";
  if (!cli_parse_size_list(arg, 2, 1, CLI_MAX_EXTENT, tile, &why))
    return cli_usage_error(command, "--tile: %s (format: Y,X, positive integers)", why);
  return CLI_EXIT_OK;
}

/* The planner's choice for req against `limit` bytes, or when limit is 0 the CPU device's free
 * memory (what lucy_convolve / lucy_deconvolve would read); req->free_bytes gets the budget. */
static LucyStatus memory_plan(LucyMemoryRequest *req, size_t limit, LucyMemoryPlan *mp) {
  req->device = LUCY_DEVICE_CPU;
  req->free_bytes = limit;
  if (!limit) {
    LucyDeviceOptions dopts;
    lucy_device_options_default(&dopts);
    dopts.threads = 1;
    dopts.use_wisdom = 0;
    LucyDevice *dev = NULL;
    LucyMemoryInfo info;
    LucyStatus s = lucy_device_new(&dopts, &dev);
    if (!s)
      s = lucy_device_memory_info(dev, &info);
    lucy_device_unref(dev);
    if (s)
      return s;
    req->free_bytes = info.free_bytes;
  }
  return lucy_memory_plan(req, mp);
}

void cli_strategy_init(CliStrategy *cs, LucyMemoryOp op, const size_t image_shape[3],
                       const size_t psf_shape[3], LucyStrategy strategy, const size_t tile[2]) {
  memset(cs, 0, sizeof *cs);
  lucy_memory_request_default(&cs->req);
  cs->req.op = op;
  memcpy(cs->req.image_shape, image_shape, sizeof cs->req.image_shape);
  memcpy(cs->req.psf_shape, psf_shape, sizeof cs->req.psf_shape);
  cs->req.strategy = strategy;
  memcpy(cs->req.tile, tile, sizeof cs->req.tile);
}

LucyStatus cli_strategy_prepare(const char *command, CliStrategy *cs, LucyStrategy *strategy,
                                size_t limit) {
  cs->one_shot = *strategy == LUCY_STRATEGY_TILED;
  if (!cs->one_shot && *strategy != LUCY_STRATEGY_AUTO && limit) {
    LucyStatus s = memory_plan(&cs->req, limit, &cs->plan);
    if (s)
      return s;
  }
  if (*strategy == LUCY_STRATEGY_CPU) {
    fprintf(stderr, "%s: strategy cpu: lucy-cli runs on the CPU device already (in memory)\n",
            command);
    *strategy = LUCY_STRATEGY_IN_MEMORY;
  }
  return LUCY_OK;
}

LucyStatus cli_strategy_choose(const char *command, CliStrategy *cs, LucyStrategy strategy,
                               LucyStatus plan_status, size_t *limit) {
  if (plan_status == LUCY_ERR_DEVICE_MEMORY && strategy == LUCY_STRATEGY_AUTO)
    cs->one_shot = 1; /* one plan does not fit: the one-shot function tiles */
  else if (plan_status != LUCY_OK)
    return plan_status;
  if (!cs->one_shot)
    return LUCY_OK;
  LucyStatus s = memory_plan(&cs->req, *limit, &cs->plan);
  if (s)
    return s;
  *limit = cs->req.free_bytes;
  if (strategy == LUCY_STRATEGY_AUTO) {
    char b1[32], b2[32], b3[32];
    fprintf(stderr, "%s: one plan does not fit the budget of %s (in-memory needs %s, "
            "low-memory %s): switching to the %s strategy\n", command,
            cli_format_bytes((double)cs->plan.free_bytes, b1, sizeof b1),
            cli_format_bytes((double)cs->plan.in_memory_device_bytes, b2, sizeof b2),
            cli_format_bytes((double)cs->plan.low_memory_device_bytes, b3, sizeof b3),
            lucy_strategy_name(cs->plan.strategy));
  }
  return LUCY_OK;
}

void cli_report_memory_plan(const char *command, const LucyMemoryPlan *mp) {
  char b1[32], b2[32], s1[64], s2[64];
  const char *name = lucy_strategy_name(mp->strategy);
  if (mp->strategy == LUCY_STRATEGY_TILED) {
    const size_t n = mp->tiles[0] * mp->tiles[1] * mp->tiles[2];
    fprintf(stderr, "%s: strategy tiled: %zu tile%s (%zu x %zu) of %zu x %zu (y, x), input "
            "blocks %s, FFT shape %s (%.4gx the untiled FFT work); predicted peak %s (plan) + "
            "%s (host)\n", command, n, n == 1 ? "" : "s", mp->tiles[1], mp->tiles[2],
            mp->tile_shape[1], mp->tile_shape[2],
            cli_format_shape(mp->tile_input_shape, s1, sizeof s1),
            cli_format_shape(mp->padded_shape, s2, sizeof s2), mp->tiled_work_ratio,
            cli_format_bytes((double)mp->peak_device_bytes, b1, sizeof b1),
            cli_format_bytes((double)mp->peak_host_bytes, b2, sizeof b2));
  } else {
    fprintf(stderr, "%s: strategy %s: FFT shape %s; predicted peak %s (device) + %s (host)\n",
            command, name, cli_format_shape(mp->padded_shape, s1, sizeof s1),
            cli_format_bytes((double)mp->peak_device_bytes, b1, sizeof b1),
            cli_format_bytes((double)mp->peak_host_bytes, b2, sizeof b2));
  }
}

const char *cli_tile_stage(const char *stage, double fraction, size_t tiles, char *buf,
                           size_t size) {
  if (!tiles || !stage || strcmp(stage, "tile") != 0 || !(fraction >= 0.0))
    return stage;
  size_t k = (size_t)(fraction * (double)tiles + 0.5) + 1; /* fraction is k / tiles */
  snprintf(buf, size, "tile %zu/%zu", k < tiles ? k : tiles, tiles);
  return buf;
}

void cli_report_psf_sum(const char *command, double sum, int normalize) {
  if (normalize)
    fprintf(stderr, "%s: PSF sum %.7g; normalised to sum 1 (divided by %.7g)\n", command, sum,
            sum);
  else
    fprintf(stderr, "%s: PSF sum %.7g; not normalised (--no-normalize)\n", command, sum);
}

int cli_img_psf_operands(const char *command, int argc, char **argv, int optind_now,
                         const char *out_path, const char **img_path, const char **psf_path) {
  if (argc - optind_now < 2)
    return cli_usage_error(command, "%s",
                           argc - optind_now == 0 ? "missing IMG and PSF" : "missing PSF");
  if (argc - optind_now > 2)
    return cli_usage_error(command, "unexpected argument '%s'", argv[optind_now + 2]);
  if (!out_path)
    return cli_usage_error(command, "missing -o OUT");
  *img_path = argv[optind_now];
  *psf_path = argv[optind_now + 1];
  return CLI_EXIT_OK;
}

int cli_shared_option(const char *command, int c, const char *arg, CliShared *s) {
  switch (c) {
  case CLI_OPT_ORIGIN: return cli_opt_origin(command, arg, s->origin);
  case CLI_OPT_NO_NORMALIZE: *s->normalize = 0; return CLI_EXIT_OK;
  case 'j': return cli_opt_int(command, "--threads", arg, 1, 4096, s->threads);
  case CLI_OPT_THOROUGH: *s->planning = LUCY_PLAN_THOROUGH; return CLI_EXIT_OK;
  case CLI_OPT_UINT16: s->uint16 = 1; return CLI_EXIT_OK;
  case CLI_OPT_STRATEGY: return cli_opt_strategy(command, arg, s->strategy);
  case CLI_OPT_TILE:
    s->have_tile = 1;
    return cli_opt_tile(command, arg, s->tile);
  case CLI_OPT_LIMIT:
    return cli_opt_size(command, "--memory-limit", arg, 1, SIZE_MAX, s->memory_limit);
  case CLI_OPT_CHANNEL: return cli_opt_size(command, "--channel", arg, 0, 1u << 20, &s->channel);
  case CLI_OPT_FRAME: return cli_opt_size(command, "--frame", arg, 0, 1u << 30, &s->frame);
  case CLI_OPT_PSF_CHANNEL:
    s->have_psf_channel = 1;
    return cli_opt_size(command, "--psf-channel", arg, 0, 1u << 20, &s->psf_channel);
  case CLI_OPT_PSF_FRAME:
    return cli_opt_size(command, "--psf-frame", arg, 0, 1u << 30, &s->psf_frame);
  case CLI_OPT_VOXEL: return cli_opt_voxel(command, "--voxel", arg, s->voxel);
  case CLI_OPT_PSF_VOXEL: return cli_opt_voxel(command, "--psf-voxel", arg, s->psf_voxel);
  case 'f': s->force = 1; return CLI_EXIT_OK;
  default: return CLI_NOT_SHARED;
  }
}

/* Negative voxels: how many and the lowest, as a warning line; not for the float round-off an
 * FFT convolution leaves around zero (about 1e-7 of the maximum). */
static void warn_negative(const char *command, const char *role, const char *path,
                          const LucyVolume *v, const char *why) {
  const size_t n = lucy_shape_count(v->shape);
  size_t count = 0;
  float lo = 0.0f, hi = 0.0f;
  for (size_t i = 0; i < n; i++) {
    const float x = v->data[i];
    count += x < 0.0f;
    lo = x < lo ? x : lo;
    hi = x > hi ? x : hi;
  }
  if (!count || (hi > 0.0f && lo > -1e-4f * hi)) return;
  fprintf(stderr, "%s: warning: %s '%s' has %zu negative voxel%s (lowest %g, %.2g%% of its "
          "maximum %g); %s\n", command, role, path, count, count == 1 ? "" : "s", (double)lo,
          hi > 0 ? -100.0 * lo / hi : 0.0, (double)hi, why);
}

void cli_override_voxel(const char *command, const CliInput *in, const LucyTiffInfo *info,
                        LucyVolume *vol) {
  if (!in->voxel || !(in->voxel[0] > 0))
    return;
  int differ = 0;
  for (int a = 0; a < 3; a++)
    differ |= fabs(in->voxel[a] - vol->voxel_um[a]) > 1e-4 * in->voxel[a];
  if (differ && strcmp(info->calibration, "none") != 0)
    fprintf(stderr, "%s: %s%s'%s': %s %g x %g x %g um (z, y, x) replaces the file's %g x %g x %g "
            "um (%s calibration)\n", command, in->role ? in->role : "", in->role ? " " : "",
            in->path, in->voxel_opt, in->voxel[0], in->voxel[1], in->voxel[2], vol->voxel_um[0],
            vol->voxel_um[1], vol->voxel_um[2], info->calibration);
  memcpy(vol->voxel_um, in->voxel, sizeof vol->voxel_um);
}

const char *cli_note_with_hint(const LucyTiffInfo *info, const char *hint, char *buf,
                               size_t size) {
  char read[96];
  snprintf(read, sizeof read, "read channel %zu, frame %zu", info->channel, info->frame);
  const char *at = info->channels > 1 || info->frames > 1 ? strstr(info->note, read) : NULL;
  if (!at || !hint || !hint[0]) {
    snprintf(buf, size, "%s", info->note);
    return buf;
  }
  const int len = (int)(at - info->note + strlen(read));
  snprintf(buf, size, "%.*s (%s)%s", len, info->note, hint, info->note + len);
  return buf;
}

LucyStatus cli_read_input(const char *command, const CliInput *in, LucyVolume **out,
                          LucyTiffInfo *info) {
  LucyTiffReadOptions ro;
  lucy_tiff_read_options_default(&ro);
  ro.channel = in->channel;
  ro.frame = in->frame;
  LucyTiffInfo local;
  if (!info)
    info = &local;
  LucyStatus s = lucy_tiff_read(in->path, &ro, out, info);
  if (s != LUCY_OK) return s;
  char note[512];
  const char *hint = in->match_hint && info->channels == in->match_channels ? in->match_hint
                                                                            : in->hint;
  if (hint && info->note[0])
    fprintf(stderr, "%s: %s%s'%s': %s\n", command, in->role ? in->role : "",
            in->role ? " " : "", in->path, cli_note_with_hint(info, hint, note, sizeof note));
  cli_override_voxel(command, in, info, *out);
  return LUCY_OK;
}

LucyStatus cli_read_stack(const char *command, const char *role, const char *path,
                          CliShared *shared, int warn_negative_image, LucyVolume **out) {
  const int is_psf = strcmp(role, "PSF") == 0;
  /* A PSF per channel is common (one per emission wavelength); the same index is only a
   * guess, so it is suggested rather than taken. */
  char match[160] = "";
  if (is_psf && !shared->have_psf_channel && shared->channel != 0)
    snprintf(match, sizeof match, "the PSF has as many channels as the image: for the image's "
             "channel %zu give --psf-channel %zu", shared->channel, shared->channel);
  const CliInput in = {
    .role = role, .path = path,
    .channel = is_psf ? shared->psf_channel : shared->channel,
    .frame = is_psf ? shared->psf_frame : shared->frame,
    .voxel = is_psf ? shared->psf_voxel : shared->voxel,
    .voxel_opt = is_psf ? "--psf-voxel" : "--voxel",
    .hint = is_psf ? "choose with --psf-channel, --psf-frame" : "choose with --channel, --frame",
    .match_hint = match[0] ? match : NULL, .match_channels = shared->image_channels,
  };
  LucyTiffInfo info;
  LucyStatus s = cli_read_input(command, &in, out, &info);
  if (s != LUCY_OK) return s;
  if (!is_psf) shared->image_channels = info.channels;
  if (is_psf)
    warn_negative(command, role, path, *out,
                  "they subtract light wherever the PSF is applied; clip them at 0 (lucy-cli "
                  "psf fix --subtract-background)");
  else if (warn_negative_image)
    warn_negative(command, role, path, *out,
                  "Richardson-Lucy models counts >= 0 and pulls the estimate to 0 around them; "
                  "subtract less background, or give the offset as --background");
  return LUCY_OK;
}

static void voxel_mismatch(const char *command, const LucyVolume *img, const LucyVolume *psf,
                           char *buf, size_t size) {
  int differ = 0;
  for (int a = 0; a < 3; a++) {
    const double i = img->voxel_um[a], p = psf->voxel_um[a];
    differ |= img->shape[a] > 1 && psf->shape[a] > 1 && fabs(i - p) > 0.01 * fmax(i, p);
  }
  if (differ)
    snprintf(buf, size, "%s: warning: the image's voxels are %g x %g x %g um and the PSF's %g x %g "
            "x %g um (z, y, x); convolution works voxel by voxel, so the PSF acts at the wrong "
            "scale: resample it to the image's voxel size, or where a file's size is wrong give "
            "the right one with --voxel or --psf-voxel\n", command, img->voxel_um[0],
            img->voxel_um[1], img->voxel_um[2], psf->voxel_um[0], psf->voxel_um[1],
            psf->voxel_um[2]);
}

/* The share of the PSF's sum in its plane z (0 when the sum is not positive). */
static double plane_share(const LucyVolume *psf, size_t z) {
  const size_t plane = psf->shape[1] * psf->shape[2];
  double in_plane = 0.0, total = 0.0;
  for (size_t i = 0; i < lucy_shape_count(psf->shape); i++) {
    total += psf->data[i];
    in_plane += i / plane == z ? psf->data[i] : 0.0;
  }
  return total > 0.0 ? in_plane / total : 0.0;
}

/* What a 3-D PSF does to a 1-plane image, which each mode treats as one plane of a 3-D stack. */
static void planes_mismatch(const char *command, const LucyVolume *img, const LucyVolume *psf,
                            int mode, LucyOrigin origin, char *buf, size_t size) {
  const size_t m = psf->shape[0];
  if (img->shape[0] != 1 || m < 2 || mode == LUCY_PAD_VALID)
    return; /* valid mode refuses a PSF deeper than the image */
  const size_t z = origin == LUCY_ORIGIN_SCIPY ? (m - 1) / 2 : m / 2;
  char what[256];
  if (mode == LUCY_PAD_SAME)
    snprintf(what, sizeof what, "in same mode only the PSF's plane z = %zu (%.3g%% of its sum) "
             "reaches the image, which comes out that much darker and without the PSF's "
             "out-of-focus light", z, 100.0 * plane_share(psf, z));
  else if (mode == LUCY_PAD_CIRCULAR)
    snprintf(what, sizeof what, "in circular mode the PSF's %zu planes wrap onto the image's "
             "one: it is blurred by their sum, the PSF's whole z-profile", m);
  else if (mode == LUCY_PAD_FULL)
    snprintf(what, sizeof what, "in full mode the result has %zu planes: the image spread "
             "through the PSF's depth", m);
  else if (mode == CLI_GEOM_CIRCULAR)
    snprintf(what, sizeof what, "with circular edges the PSF's %zu planes wrap onto the "
             "image's one: it is restored with their sum, the PSF's whole z-profile", m);
  else if (mode == CLI_GEOM_WIENER) /* the smooth embedding makes the one plane a z-constant */
    snprintf(what, sizeof what, "Wiener restores it as uniform in z, so the PSF acts as the sum "
             "of its %zu planes, its whole z-profile, as if they wrapped onto the image's one", m);
  else
    snprintf(what, sizeof what, "the restoration explains the image's plane by an object "
             "through all %zu of the PSF's planes and keeps only the image's, so its brightness "
             "and sharpness follow the PSF's whole z-profile", m);
  const size_t len = strlen(buf);
  snprintf(buf + len, size - len, "%s: warning: the image has 1 plane and the PSF %zu: %s; for "
           "a 2-D image use a 2-D PSF (1 plane), e.g. the PSF's in-focus plane\n", command, m,
           what);
}

void cli_geometry_warnings(const char *command, const LucyVolume *img, const LucyVolume *psf,
                           int mode, LucyOrigin origin, char *buf, size_t size) {
  buf[0] = '\0';
  voxel_mismatch(command, img, psf, buf, size);
  planes_mismatch(command, img, psf, mode, origin, buf, size);
}

int cli_tile_strategy(const char *command, int have_tile, LucyStrategy *strategy) {
  if (!have_tile) return CLI_EXIT_OK;
  if (*strategy != LUCY_STRATEGY_AUTO && *strategy != LUCY_STRATEGY_TILED)
    return cli_usage_error(command, "--tile applies only to --strategy tiled or auto");
  *strategy = LUCY_STRATEGY_TILED;
  return CLI_EXIT_OK;
}

int cli_shared_finish(const char *command, CliShared *s) {
  return cli_tile_strategy(command, s->have_tile, s->strategy);
}

LucyStatus cli_tiff_write(const char *label, const char *path, const LucyVolume *vol,
                          LucyTiffWriteOptions *opts) {
  CliProgress progress;
  cli_progress_init(&progress, label);
  opts->progress = cli_progress_fn;
  opts->progress_user = &progress;
  LucyStatus s = lucy_tiff_write(path, vol, opts);
  cli_progress_finish(&progress);
  return s;
}

int cli_write_result(const char *command, const char *path, const LucyVolume *out, int force,
                     int uint16, double t0) {
  LucyTiffWriteOptions wopts;
  lucy_tiff_write_options_default(&wopts);
  wopts.overwrite = force;
  if (uint16) {
    wopts.format = LUCY_TIFF_UINT16;
    wopts.scale = 0.0; /* fit min..max to 0..65535 */
  }
  LucyStatus s = cli_tiff_write(command, path, out, &wopts);
  if (s != LUCY_OK) return cli_fail(s, "cannot write '%s'", path);
  char buf[64];
  fprintf(stderr, "%s: wrote %s (%s, %s) in %.2f s\n", command, path,
          uint16 ? "uint16" : "float32", cli_format_shape(out->shape, buf, sizeof buf),
          cli_now() - t0);
  return CLI_EXIT_OK;
}
