/* Tests of lucy-cli as a user runs it: spawn the built program (LUCY_CLI), check its exit
 * status, its stderr and the files it writes, and compare numbers with liblucy called here. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <glib.h>
#include <sched.h>
#include <glib/gstdio.h>

#include <lucy/lucy.h>

/* ---- running the CLI -------------------------------------------------------------------- */

typedef struct Run {
  int status; /* exit code; 128 + signal when killed */
  gchar *out, *err;
} Run;

static void run_clear(Run *r) {
  g_clear_pointer(&r->out, g_free);
  g_clear_pointer(&r->err, g_free);
}

static const char *cli_path(void) { return g_getenv("LUCY_CLI"); }

/* Runs lucy-cli with args (NULL-terminated) and extra environment "NAME=value" entries. */
static Run run_env(const char *const *env_extra, const char *const *args) {
  GPtrArray *argv = g_ptr_array_new();
  g_ptr_array_add(argv, (gpointer)cli_path());
  for (size_t i = 0; args[i]; i++)
    g_ptr_array_add(argv, (gpointer)args[i]);
  g_ptr_array_add(argv, NULL);
  gchar **envp = g_get_environ();
  for (size_t i = 0; env_extra && env_extra[i]; i++) {
    gchar **kv = g_strsplit(env_extra[i], "=", 2);
    envp = g_environ_setenv(envp, kv[0], kv[1], TRUE);
    g_strfreev(kv);
  }
  Run r = {0, NULL, NULL};
  int wait_status = 0;
  GError *error = NULL;
  gboolean ok = g_spawn_sync(NULL, (gchar **)argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL,
                             &r.out, &r.err, &wait_status, &error);
  g_assert_no_error(error);
  g_assert_true(ok);
  if (WIFEXITED(wait_status))
    r.status = WEXITSTATUS(wait_status);
  else if (WIFSIGNALED(wait_status))
    r.status = 128 + WTERMSIG(wait_status);
  else
    r.status = -1;
  g_ptr_array_free(argv, TRUE);
  g_strfreev(envp);
  return r;
}

static Run run_v(const char *const *args) { return run_env(NULL, args); }

#define RUN(...) run_v((const char *const[]){__VA_ARGS__, NULL})

/* Asserts the exit status, printing what the program said when it differs. */
#define ASSERT_STATUS(r, expected)                                                             \
  do {                                                                                         \
    if ((r).status != (expected))                                                              \
      g_printerr("exit %d (expected %d)\nstdout: %s\nstderr: %s\n", (r).status, (expected),    \
                 (r).out, (r).err);                                                            \
    g_assert_cmpint((r).status, ==, (expected));                                               \
  } while (0)

static size_t count_lines(const char *s) {
  size_t n = 0;
  for (; *s; s++)
    n += *s == '\n';
  return n;
}

/* A failure is reported in exactly one line "lucy-cli: ...". */
static void assert_one_error_line(const Run *r) {
  if (count_lines(r->err) != 1 || !g_str_has_prefix(r->err, "lucy-cli: "))
    g_printerr("stderr was: %s\n", r->err);
  g_assert_cmpuint(count_lines(r->err), ==, 1);
  g_assert_true(g_str_has_prefix(r->err, "lucy-cli: "));
}

static void assert_contains(const char *haystack, const char *needle) {
  if (!strstr(haystack, needle))
    g_printerr("'%s' not found in: %s\n", needle, haystack);
  g_assert_nonnull(strstr(haystack, needle));
}

/* ---- a scratch folder per test ---------------------------------------------------------- */

typedef struct Fixture {
  gchar *dir;
} Fixture;

static void fixture_setup(Fixture *f, gconstpointer data) {
  GError *error = NULL;
  f->dir = g_dir_make_tmp("lucy-cli-test-XXXXXX", &error);
  g_assert_no_error(error);
}

static void fixture_teardown(Fixture *f, gconstpointer data) {
  GDir *d = g_dir_open(f->dir, 0, NULL);
  if (d) {
    const char *name;
    while ((name = g_dir_read_name(d))) {
      gchar *p = g_build_filename(f->dir, name, NULL);
      if (g_remove(p) != 0)
        g_rmdir(p);
      g_free(p);
    }
    g_dir_close(d);
  }
  g_rmdir(f->dir);
  g_free(f->dir);
}

static gchar *path_in(const Fixture *f, const char *name) {
  return g_build_filename(f->dir, name, NULL);
}

static gint compare_names(gconstpointer a, gconstpointer b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names in the folder, sorted and joined with spaces: shows stray temporary files too. */
static gchar *dir_listing(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while ((name = g_dir_read_name(d)))
    g_ptr_array_add(names, g_strdup(name));
  g_dir_close(d);
  g_ptr_array_sort(names, compare_names);
  g_ptr_array_add(names, NULL);
  gchar *joined = g_strjoinv(" ", (gchar **)names->pdata);
  g_ptr_array_free(names, TRUE);
  return joined;
}

static gchar *read_all(const char *path, gsize *len) {
  gchar *bytes = NULL;
  GError *error = NULL;
  g_file_get_contents(path, &bytes, len, &error);
  g_assert_no_error(error);
  return bytes;
}

static gboolean files_equal(const char *a, const char *b) {
  gsize la, lb;
  gchar *ba = read_all(a, &la), *bb = read_all(b, &lb);
  gboolean eq = la == lb && memcmp(ba, bb, la) == 0;
  g_free(ba);
  g_free(bb);
  return eq;
}

static gchar *checksum_file(const char *path) {
  gsize len;
  gchar *bytes = read_all(path, &len);
  gchar *sum = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)bytes, len);
  g_free(bytes);
  return sum;
}

/* ---- a tiny JSON checker (json-glib is not a dependency) -------------------------------- */

typedef struct JsonCursor {
  const char *p;
  int depth;
} JsonCursor;

static gboolean json_value(JsonCursor *c);

static void json_ws(JsonCursor *c) {
  while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')
    c->p++;
}

static gboolean json_string_token(JsonCursor *c) {
  if (*c->p != '"')
    return FALSE;
  c->p++;
  while (*c->p && *c->p != '"') {
    unsigned char ch = (unsigned char)*c->p;
    if (ch < 0x20)
      return FALSE; /* raw control characters are not allowed in JSON strings */
    if (ch == '\\') {
      c->p++;
      if (*c->p == 'u') {
        for (int i = 1; i <= 4; i++)
          if (!g_ascii_isxdigit(c->p[i]))
            return FALSE;
        c->p += 5;
        continue;
      }
      if (!strchr("\"\\/bfnrt", *c->p) || !*c->p)
        return FALSE;
    }
    c->p++;
  }
  if (*c->p != '"')
    return FALSE;
  c->p++;
  return TRUE;
}

static gboolean json_number_token(JsonCursor *c) {
  const char *p = c->p;
  if (*p == '-')
    p++;
  if (*p == '0')
    p++;
  else if (*p >= '1' && *p <= '9')
    while (g_ascii_isdigit(*p))
      p++;
  else
    return FALSE;
  if (*p == '.') {
    p++;
    if (!g_ascii_isdigit(*p))
      return FALSE;
    while (g_ascii_isdigit(*p))
      p++;
  }
  if (*p == 'e' || *p == 'E') {
    p++;
    if (*p == '+' || *p == '-')
      p++;
    if (!g_ascii_isdigit(*p))
      return FALSE;
    while (g_ascii_isdigit(*p))
      p++;
  }
  c->p = p;
  return TRUE;
}

static gboolean json_value(JsonCursor *c) {
  if (++c->depth > 64)
    return FALSE;
  json_ws(c);
  gboolean ok;
  if (*c->p == '{' || *c->p == '[') {
    char close = *c->p == '{' ? '}' : ']';
    gboolean object = *c->p == '{';
    c->p++;
    json_ws(c);
    ok = TRUE;
    if (*c->p == close) {
      c->p++;
    } else {
      for (;;) {
        if (object) {
          json_ws(c);
          if (!json_string_token(c))
            return FALSE;
          json_ws(c);
          if (*c->p != ':')
            return FALSE;
          c->p++;
        }
        if (!json_value(c))
          return FALSE;
        json_ws(c);
        if (*c->p == ',') {
          c->p++;
          continue;
        }
        if (*c->p != close)
          return FALSE;
        c->p++;
        break;
      }
    }
  } else if (*c->p == '"') {
    ok = json_string_token(c);
  } else if (g_str_has_prefix(c->p, "true")) {
    c->p += 4, ok = TRUE;
  } else if (g_str_has_prefix(c->p, "false")) {
    c->p += 5, ok = TRUE;
  } else if (g_str_has_prefix(c->p, "null")) {
    c->p += 4, ok = TRUE;
  } else {
    ok = json_number_token(c);
  }
  c->depth--;
  return ok;
}

static gboolean json_is_valid(const char *text) {
  JsonCursor c = {text, 0};
  if (!json_value(&c))
    return FALSE;
  json_ws(&c);
  return *c.p == '\0';
}

/* The text right after "key": at any depth (our keys are unique), or NULL. */
static const char *json_find(const char *json, const char *key) {
  gchar *pattern = g_strdup_printf("\"%s\":", key);
  const char *p = strstr(json, pattern);
  if (p) {
    p += strlen(pattern);
    while (*p == ' ')
      p++;
  }
  g_free(pattern);
  return p;
}

/* A number; NaN for null. Fails the test when the key is missing or not a number/null. */
static double json_number(const char *json, const char *key) {
  const char *p = json_find(json, key);
  if (!p)
    g_printerr("key '%s' missing in %s\n", key, json);
  g_assert_nonnull(p);
  if (g_str_has_prefix(p, "null"))
    return NAN;
  char *end = NULL;
  double v = g_ascii_strtod(p, &end);
  g_assert_true(end != p);
  return v;
}

static void json_array(const char *json, const char *key, double *out, size_t n) {
  const char *p = json_find(json, key);
  g_assert_nonnull(p);
  g_assert_cmpint(*p, ==, '[');
  p++;
  for (size_t i = 0; i < n; i++) {
    char *end = NULL;
    while (*p == ' ')
      p++;
    out[i] = g_ascii_strtod(p, &end);
    g_assert_true(end != p);
    p = end;
    while (*p == ' ')
      p++;
    g_assert_cmpint(*p, ==, i + 1 < n ? ',' : ']');
    p++;
  }
}

/* A string value with \" \\ \n \uXXXX (BMP) decoded. */
static gchar *json_string_value(const char *json, const char *key) {
  const char *p = json_find(json, key);
  g_assert_nonnull(p);
  g_assert_cmpint(*p, ==, '"');
  GString *s = g_string_new(NULL);
  for (p++; *p && *p != '"'; p++) {
    if (*p != '\\') {
      g_string_append_c(s, *p);
      continue;
    }
    p++;
    switch (*p) {
    case 'n': g_string_append_c(s, '\n'); break;
    case 't': g_string_append_c(s, '\t'); break;
    case 'r': g_string_append_c(s, '\r'); break;
    case 'b': g_string_append_c(s, '\b'); break;
    case 'f': g_string_append_c(s, '\f'); break;
    case 'u': {
      gchar hex[5] = {p[1], p[2], p[3], p[4], 0};
      g_string_append_unichar(s, (gunichar)g_ascii_strtoull(hex, NULL, 16));
      p += 4;
      break;
    }
    default: g_string_append_c(s, *p);
    }
  }
  return g_string_free(s, FALSE);
}

/* info --json of a file: asserts success and valid JSON; returns the text. */
static gchar *info_json(const char *path) {
  Run r = RUN("info", path, "--json");
  ASSERT_STATUS(r, 0);
  if (!json_is_valid(r.out))
    g_printerr("invalid JSON: %s\n", r.out);
  g_assert_true(json_is_valid(r.out));
  g_free(r.err);
  return r.out;
}

static void assert_json_shape(const char *json, size_t z, size_t y, size_t x) {
  double s[3];
  json_array(json, "shape", s, 3);
  g_assert_cmpfloat(s[0], ==, (double)z);
  g_assert_cmpfloat(s[1], ==, (double)y);
  g_assert_cmpfloat(s[2], ==, (double)x);
}

/* ---- data made here through the library ------------------------------------------------- */

static LucyVolume *read_volume(const char *path) {
  LucyTiffReadOptions o;
  lucy_tiff_read_options_default(&o);
  LucyVolume *v = NULL;
  LucyStatus s = lucy_tiff_read(path, &o, &v, NULL);
  if (s != LUCY_OK)
    g_printerr("reading %s: %s\n", path, lucy_error_message());
  g_assert_cmpint(s, ==, LUCY_OK);
  return v;
}

static void write_volume(const char *path, const LucyVolume *v) {
  LucyTiffWriteOptions o;
  lucy_tiff_write_options_default(&o);
  o.overwrite = 1;
  LucyStatus s = lucy_tiff_write(path, v, &o);
  if (s != LUCY_OK)
    g_printerr("writing %s: %s\n", path, lucy_error_message());
  g_assert_cmpint(s, ==, LUCY_OK);
}

/* phantom of the given shape ("Z,Y,X") through the CLI. */
static gchar *make_phantom(const Fixture *f, const char *name, const char *shape,
                           const char *seed) {
  gchar *p = path_in(f, name);
  Run r = RUN("phantom", "-o", p, "--shape", shape, "--spheres", "3", "--radius", "2,3",
              "--voxel", "0.3,0.1,0.1", "--seed", seed);
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  return p;
}

static gchar *make_psf(const Fixture *f, const char *name, const char *shape, const char *sigma) {
  gchar *p = path_in(f, name);
  Run r = RUN("psf", "gaussian", "-o", p, "--shape", shape, "--sigma", sigma);
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  return p;
}

static double max_abs_diff(const float *a, const float *b, size_t n, double *max_ref) {
  double d = 0.0, m = 0.0;
  for (size_t i = 0; i < n; i++) {
    d = fmax(d, fabs((double)a[i] - (double)b[i]));
    m = fmax(m, fabs((double)b[i]));
  }
  if (max_ref)
    *max_ref = m;
  return d;
}

static gboolean have_cli(void) {
  if (cli_path() && g_file_test(cli_path(), G_FILE_TEST_IS_EXECUTABLE))
    return TRUE;
  g_test_skip("LUCY_CLI is not set to the built lucy-cli (run through meson test)");
  return FALSE;
}

/* ---- help and usage --------------------------------------------------------------------- */

static void test_help_top(void) {
  if (!have_cli())
    return;
  Run r = RUN("--help");
  ASSERT_STATUS(r, 0);
  for (const char *const *c = (const char *const[]){"info", "convolve", "deconvolve", "project",
                                                   "phantom", "psf", NULL};
       *c; c++)
    assert_contains(r.out, *c);
  g_assert_cmpstr(r.err, ==, "");
  run_clear(&r);

  r = RUN("--version");
  ASSERT_STATUS(r, 0);
  assert_contains(r.out, lucy_version());
  run_clear(&r);

  r = RUN("help", "convolve"); /* same as convolve --help */
  ASSERT_STATUS(r, 0);
  assert_contains(r.out, "--mode");
  run_clear(&r);

  r = run_v((const char *const[]){NULL}); /* no command: a usage error */
  ASSERT_STATUS(r, 2);
  assert_one_error_line(&r);
  assert_contains(r.err, "missing COMMAND");
  assert_contains(r.err, "--help'");
  run_clear(&r);
}

typedef struct HelpCase {
  const char *args[3];
  const char *mentions[12];
} HelpCase;

static void test_help_subcommands(void) {
  if (!have_cli())
    return;
  static const HelpCase cases[] = {
    {{"info", "--help"}, {"--json", "--channel", "--frame", "voxel_size_um", NULL}},
    {{"convolve", "--help"},
     {"--mode", "circular", "same", "full", "valid", "--origin", "scipy", "--no-normalize",
      "--threads", "--thorough", "--force", "--uint16"}},
    {{"deconvolve", "--help"},
     {"--iterations", "--method", "rltv", "wiener", "--boundary", "noncirculant", "--tv",
      "--accelerate", "--background", "--start", "--stop-rel", "--wiener-k"}},
    {{"project", "--help"},
     {"--gamma", "--vmin", "--vmax", "--pmin", "--pmax", "--colormap", "magma", "--log",
      "--sxy", "--sz", "--force", NULL}},
    {{"phantom", "--help"},
     {"--shape", "--spheres", "--radius", "--voxel", "--blur", "--photons", "--seed", "--force",
      NULL}},
    {{"psf", "--help"}, {"gaussian", "bornwolf", "gibsonlanni", "measure", "fix", NULL}},
    {{"psf", "bornwolf", "--help"}, {"--na", "--wavelength", "--ni", "--dxy", "--dz", NULL}},
    {{"psf", "gibsonlanni", "--help"}, {"--ns", "--ng", "--tg", "--depth", "--ti0", NULL}},
    {{"psf", "measure", "--help"}, {"--json", "--na", "--wavelength", NULL}},
    {{"psf", "fix", "--help"}, {"--centre", "--subtract-background", "--odd", "--normalize", NULL}},
    {{"compare", "--help"}, {"circular", "valid", "--scale", NULL}},
    {{"psf", "gaussian", "--help"}, {"--shape", "--sigma", "--voxel", "--force", NULL}},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    Run r = run_v(cases[i].args);
    ASSERT_STATUS(r, 0);
    assert_contains(r.out, "Usage: lucy-cli");
    for (size_t k = 0; k < G_N_ELEMENTS(cases[i].mentions) && cases[i].mentions[k]; k++)
      assert_contains(r.out, cases[i].mentions[k]);
    g_assert_cmpstr(r.err, ==, "");
    run_clear(&r);
  }
}

typedef struct UsageCase {
  const char *args[14];
  const char *says; /* a part of the one-line message */
} UsageCase;

#define OUT_PLACEHOLDER "@OUT@"

static void test_usage_errors(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  static const UsageCase cases[] = {
    {{"frobnicate"}, "unknown command 'frobnicate'"},
    {{"--frobnicate"}, "unknown option"},
    {{"info"}, "missing FILE"},
    {{"info", "a.tif", "b.tif"}, "one FILE"},
    {{"info", "--bogus", "a.tif"}, "unknown option '--bogus'"},
    {{"info", "a.tif", "--channel", "-1"}, "negative"},
    {{"info", "a.tif", "--frame"}, "needs a value"},
    {{"phantom", "-o", OUT_PLACEHOLDER, "--shape", "4,x,3"}, "--shape"},
    {{"phantom", "-o", OUT_PLACEHOLDER, "--shape", "-4,4,4"}, "negative"},
    {{"phantom", "-o", OUT_PLACEHOLDER, "--shape", "0,4,4"}, "out of range"},
    {{"phantom", "-o", OUT_PLACEHOLDER, "--shape", "4,4"}, "expected 3"},
    {{"phantom", "-o", OUT_PLACEHOLDER, "--shape", "4,4,4,"}, "--shape"},
    {{"phantom", "-o", OUT_PLACEHOLDER, "--shape", "4,4, 4"}, "--shape"},
    {{"phantom", "-o", OUT_PLACEHOLDER, "--shape", "99999999999999999999999,4,4"}, "too large"},
    {{"phantom", "-o", OUT_PLACEHOLDER, "--shape", "2000000,2000000,2000000"}, "2^40"},
    {{"phantom", "-o", OUT_PLACEHOLDER, "--shape", "8,8,8", "--spheres", "-1"}, "negative"},
    {{"phantom", "-o", OUT_PLACEHOLDER, "--shape", "8,8,8", "--radius", "3,1"}, "RMIN"},
    {{"phantom", "-o", OUT_PLACEHOLDER, "--shape", "8,8,8", "--voxel", "0.1,0,0.1"}, "--voxel"},
    {{"phantom", "-o", OUT_PLACEHOLDER, "--shape", "8,8,8", "--photons", "nan"}, "--photons"},
    {{"phantom", "-o", OUT_PLACEHOLDER, "--shape", "8,8,8", "--seed", "1.5"}, "--seed"},
    {{"phantom", "-o", OUT_PLACEHOLDER, "--shape", "8,8,8", "--blur", "1e999,1,1"}, "finite"},
    {{"phantom", "-o", OUT_PLACEHOLDER, "--shape", "8,8,8", "--voxel", "0x1p-3,0.1,0.1"},
     "--voxel: '0x1p-3' is hexadecimal: give the number in decimal (0.125)"},
    {{"phantom", "-o", OUT_PLACEHOLDER, "--shape", "8,8,8", "--photons", "0X10"},
     "'0X10' is hexadecimal: give the number in decimal (16)"},
    {{"phantom", "-o", OUT_PLACEHOLDER, "--shape", "8,0x8,8"}, "'0x8' is hexadecimal"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "--iterations", "0x3"},
     "--iterations: '0x3' is hexadecimal"},
    {{"phantom", "--shape", "8,8,8"}, "missing -o"},
    {{"phantom", "-o", OUT_PLACEHOLDER}, "missing --shape"},
    {{"phantom", "-o", OUT_PLACEHOLDER, "--shape"}, "needs a value"},
    {{"psf"}, "missing KIND"},
    {{"psf", "airy", "-o", OUT_PLACEHOLDER}, "unknown PSF kind 'airy'"},
    {{"psf", "bornwolf", "-o", OUT_PLACEHOLDER}, "missing --shape"},
    {{"psf", "gaussian", "-o", OUT_PLACEHOLDER, "--shape", "5,5,5"}, "missing --sigma"},
    {{"psf", "gaussian", "-o", OUT_PLACEHOLDER, "--shape", "5,5,5", "--sigma", "1,-1,1"},
     "--sigma"},
    {{"convolve", "a.tif"}, "missing PSF"},
    {{"convolve", "a.tif", "b.tif"}, "missing -o"},
    {{"convolve", "a.tif", "b.tif", "c.tif", "-o", OUT_PLACEHOLDER}, "unexpected argument"},
    {{"convolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "--mode", "wrap"}, "--mode"},
    {{"convolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "--origin", "corner"}, "--origin"},
    {{"convolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "--threads", "0"}, "--threads"},
    {{"convolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "--threads", "2x"}, "--threads"},
    {{"deconvolve", "a.tif"}, "missing PSF"},
    {{"deconvolve", "a.tif", "b.tif", "--iterations", "3"}, "missing -o"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER}, "missing --iterations"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "--iterations", "0"}, "--iterations"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "--iterations", "-1"},
     "--iterations"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "--iterations", "abc"},
     "not an integer"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "--iterations", "5x"},
     "--iterations"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "--iterations"}, "needs a value"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "-n", "3", "--method", "lucy"},
     "--method: 'lucy'"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "-n", "3", "--boundary", "zero"},
     "--boundary"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "-n", "3", "--start", "mean"},
     "--start: 'mean'"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "-n", "3", "--start", "value:"},
     "--start"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "-n", "3", "--start", "value:-1"},
     "--start"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "-n", "3", "--start", "value:nan"},
     "--start"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "-n", "3", "--tv", "0.01"},
     "--method rltv"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "-n", "3", "--method", "rltv",
      "--tv", "-0.1"},
     "--tv"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "-n", "3", "--background", "-1"},
     "--background"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "-n", "3", "--stop-rel", "x"},
     "--stop-rel"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "--method", "wiener", "--wiener-k",
      "0"},
     "--wiener-k"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "--method", "wiener", "-n", "3"},
     "one step"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "--method", "wiener",
      "--background", "0.1"},
     "--background and --start do not apply"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "--method", "wiener", "--start",
      "value:3"},
     "--background and --start do not apply"},
    {{"deconvolve", "a.tif", "b.tif", "-o", OUT_PLACEHOLDER, "-n", "3", "--frobnicate"},
     "unknown option '--frobnicate'"},
    {{"project", "a.tif", "-o", OUT_PLACEHOLDER, "--vmin", "1"}, "go together"},
    {{"project", "a.tif", "-o", OUT_PLACEHOLDER, "--vmin", "2", "--vmax", "1"}, "greater"},
    {{"project", "a.tif", "-o", OUT_PLACEHOLDER, "--gamma", "0"}, "--gamma"},
    {{"project", "a.tif", "-o", OUT_PLACEHOLDER, "--pmax", "101"}, "--pmax"},
    {{"project", "a.tif", "-o", OUT_PLACEHOLDER, "--colormap", "jet"}, "--colormap"},
  };
  gchar *out = path_in(f, "out.tif");
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    const char *args[G_N_ELEMENTS(cases[i].args) + 1];
    size_t n = 0;
    for (; n < G_N_ELEMENTS(cases[i].args) && cases[i].args[n]; n++)
      args[n] = strcmp(cases[i].args[n], OUT_PLACEHOLDER) == 0 ? out : cases[i].args[n];
    args[n] = NULL;
    Run r = run_v(args);
    gchar *cmdline = g_strjoinv(" ", (gchar **)args);
    if (r.status != 2 || !strstr(r.err, cases[i].says) || !strstr(r.err, "--help'"))
      g_printerr("case %zu: lucy-cli %s\n", i, cmdline);
    ASSERT_STATUS(r, 2);
    assert_one_error_line(&r);
    assert_contains(r.err, cases[i].says);
    assert_contains(r.err, "--help'");
    g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
    g_free(cmdline);
    run_clear(&r);
  }
  g_free(out);
}

/* ---- phantom, psf, info ----------------------------------------------------------------- */

static void test_phantom_info_json(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *p = make_phantom(f, "phantom.tif", "12,20,24", "7");
  gchar *json = info_json(p);
  assert_json_shape(json, 12, 20, 24);
  gchar *dtype = json_string_value(json, "dtype");
  g_assert_cmpstr(dtype, ==, "float32");
  double vox[3];
  json_array(json, "voxel_size_um", vox, 3);
  g_assert_cmpfloat_with_epsilon(vox[0], 0.3, 1e-6);
  g_assert_cmpfloat_with_epsilon(vox[1], 0.1, 1e-6);
  g_assert_cmpfloat_with_epsilon(vox[2], 0.1, 1e-6);
  g_assert_cmpfloat(json_number(json, "pages"), ==, 12.0);

  /* The statistics are those of the file as the library reads it. */
  LucyVolume *v = read_volume(p);
  LucyStats st;
  lucy_volume_stats(v, &st);
  g_assert_cmpfloat(st.max, ==, 1.0); /* solid spheres of value 1 */
  g_assert_cmpfloat(st.min, ==, 0.0);
  g_assert_cmpfloat(json_number(json, "min"), ==, st.min);
  g_assert_cmpfloat(json_number(json, "max"), ==, st.max);
  g_assert_cmpfloat_with_epsilon(json_number(json, "mean"), st.mean, 1e-12);
  g_assert_cmpfloat_with_epsilon(json_number(json, "sum"), st.sum, 1e-9 * st.sum);
  g_assert_cmpfloat(json_number(json, "count"), ==, 12.0 * 20 * 24);
  g_assert_cmpfloat(json_number(json, "nonfinite"), ==, 0.0);
  /* Three spheres of radius >= 2 voxels along x (z radius scaled by 0.1/0.3): clearly > 0. */
  g_assert_cmpfloat(st.sum, >, 3 * (4.0 / 3.0) * G_PI * 2 * 2 * (2 / 3.0) * 0.5);
  lucy_volume_free(v);

  /* The text form says the same things. */
  Run r = RUN("info", p);
  ASSERT_STATUS(r, 0);
  assert_contains(r.out, "12 x 20 x 24");
  assert_contains(r.out, "float32");
  assert_contains(r.out, "0.3 x 0.1 x 0.1");
  run_clear(&r);

  g_free(dtype);
  g_free(json);
  g_free(p);
}

static void test_phantom_deterministic(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *a = make_phantom(f, "a.tif", "10,24,24", "42");
  gchar *b = make_phantom(f, "b.tif", "10,24,24", "42");
  gchar *c = make_phantom(f, "c.tif", "10,24,24", "43");
  g_assert_true(files_equal(a, b));
  LucyVolume *va = read_volume(a), *vc = read_volume(c);
  g_assert_cmpfloat(max_abs_diff(va->data, vc->data, lucy_shape_count(va->shape), NULL), >, 0.5);
  lucy_volume_free(va);
  lucy_volume_free(vc);

  /* Blur and noise: still deterministic, blurred values spread below 1, noise makes
   * multiples of 1/photons. */
  gchar *n1 = path_in(f, "n1.tif"), *n2 = path_in(f, "n2.tif");
  for (int i = 0; i < 2; i++) {
    Run r = RUN("phantom", "-o", i ? n2 : n1, "--shape", "10,24,24", "--spheres", "2",
                "--radius", "3,4", "--blur", "1,1.5,1.5", "--photons", "50", "--seed", "5");
    ASSERT_STATUS(r, 0);
    assert_contains(r.err, "blurred");
    assert_contains(r.err, "Poisson");
    run_clear(&r);
  }
  g_assert_true(files_equal(n1, n2));

  /* The default radii fit a thin stack (they were 6.4..15.4 voxels in 16 planes: no sphere
   * fitted, exit 1). */
  gchar *thin = path_in(f, "thin.tif");
  Run rt = RUN("phantom", "-o", thin, "--shape", "16,128,128");
  ASSERT_STATUS(rt, 0);
  run_clear(&rt);
  g_free(thin);

  /* Spheres that cannot all fit: an error that says so, and no file. */
  gchar *crowded = path_in(f, "crowded.tif");
  Run rc = RUN("phantom", "-o", crowded, "--shape", "4,8,8", "--spheres", "50", "--radius",
               "3,3");
  ASSERT_STATUS(rc, 1);
  assert_one_error_line(&rc);
  assert_contains(rc.err, "50 spheres");
  run_clear(&rc);
  g_assert_false(g_file_test(crowded, G_FILE_TEST_EXISTS));
  g_free(crowded);

  LucyVolume *vn = read_volume(n1);
  size_t n = lucy_shape_count(vn->shape), off_grid = 0, nonzero = 0;
  for (size_t i = 0; i < n; i++) {
    double k = vn->data[i] * 50.0;
    off_grid += fabs(k - round(k)) > 1e-3;
    nonzero += vn->data[i] != 0.0f;
  }
  g_assert_cmpuint(off_grid, ==, 0);
  g_assert_cmpuint(nonzero, >, 0);
  lucy_volume_free(vn);
  g_free(n1);
  g_free(n2);
  g_free(a);
  g_free(b);
  g_free(c);
}

static void test_psf_gaussian(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *p = path_in(f, "psf.tif");
  Run r = RUN("psf", "gaussian", "-o", p, "--shape", "9,11,13", "--sigma", "1,1.5,2", "--voxel",
              "0.25,0.1,0.1");
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  gchar *json = info_json(p);
  assert_json_shape(json, 9, 11, 13);
  g_assert_cmpfloat_with_epsilon(json_number(json, "sum"), 1.0, 1e-5);
  double vox[3];
  json_array(json, "voxel_size_um", vox, 3);
  g_assert_cmpfloat_with_epsilon(vox[0], 0.25, 1e-6);

  /* Identical to the library's PSF. */
  LucyVolume *file = read_volume(p), *ref = NULL;
  const size_t shape[3] = {9, 11, 13};
  const double sigma[3] = {1, 1.5, 2};
  g_assert_cmpint(lucy_psf_gaussian(shape, sigma, &ref), ==, LUCY_OK);
  g_assert_cmpfloat(max_abs_diff(file->data, ref->data, lucy_shape_count(shape), NULL), <=,
                    1e-7);
  /* Peak at the origin voxel M//2. */
  size_t argmax = 0;
  for (size_t i = 1; i < lucy_shape_count(shape); i++)
    if (file->data[i] > file->data[argmax])
      argmax = i;
  g_assert_cmpuint(argmax, ==, (4 * 11 + 5) * 13 + 6);
  lucy_volume_free(file);
  lucy_volume_free(ref);
  g_free(json);
  g_free(p);
}

/* psf bornwolf / gibsonlanni: the library's model with the calibration in the file; NA >= n
 * is one clear error line. */
static void test_psf_models(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  for (int gl = 0; gl < 2; gl++) {
    gchar *p = path_in(f, gl ? "gl.tif" : "bw.tif");
    Run r = gl ? RUN("psf", "gibsonlanni", "-o", p, "--shape", "9,17,17", "--na", "1.2",
                     "--wavelength", "0.5", "--ni", "1.515", "--dxy", "0.08", "--dz", "0.2",
                     "--ns", "1.4", "--depth", "3")
               : RUN("psf", "bornwolf", "-o", p, "--shape", "9,17,17", "--na", "1.2",
                     "--wavelength", "0.5", "--ni", "1.515", "--dxy", "0.08", "--dz", "0.2");
    ASSERT_STATUS(r, 0);
    assert_contains(r.err, "paraxial FWHM");
    run_clear(&r);
    gchar *json = info_json(p);
    double vox[3];
    json_array(json, "voxel_size_um", vox, 3);
    g_assert_cmpfloat_with_epsilon(vox[0], 0.2, 1e-6);
    g_assert_cmpfloat_with_epsilon(vox[2], 0.08, 1e-6);
    LucyVolume *file = read_volume(p), *ref = NULL;
    LucyPsfOptics o;
    lucy_psf_optics_default(&o);
    o.na = 1.2;
    o.wavelength_um = 0.5;
    o.ni = 1.515;
    o.dxy_um = 0.08;
    o.dz_um = 0.2;
    if (gl) {
      o.ns = 1.4;
      o.depth_um = 3;
    }
    const size_t shape[3] = {9, 17, 17};
    g_assert_cmpint(lucy_psf_model(gl ? LUCY_PSF_GIBSON_LANNI : LUCY_PSF_BORN_WOLF, shape, &o,
                                   &ref), ==, LUCY_OK);
    g_assert_cmpfloat(max_abs_diff(file->data, ref->data, lucy_shape_count(shape), NULL), <=, 0);
    lucy_volume_free(file);
    lucy_volume_free(ref);
    g_free(json);
    g_free(p);
  }
  /* Ctrl-C stops a model between planes: exit 130, no file (the model takes seconds at
   * realistic sizes; it ran to the end before). */
  gchar *cut = path_in(f, "cut.tif");
  Run rc = run_env((const char *const[]){"LUCY_CLI_TEST_SIGINT=1", NULL},
                   (const char *const[]){"psf", "bornwolf", "-o", cut, "--shape", "9,17,17",
                                         "--na", "1.2", "--wavelength", "0.5", NULL});
  ASSERT_STATUS(rc, 130);
  assert_contains(rc.err, "cancelled");
  run_clear(&rc);
  g_assert_false(g_file_test(cut, G_FILE_TEST_EXISTS));
  g_free(cut);

  gchar *p = path_in(f, "bad.tif");
  Run r = RUN("psf", "bornwolf", "-o", p, "--shape", "5,5,5", "--na", "1.6", "--wavelength",
              "0.5");
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "NA 1.6 must be smaller than the immersion index ni 1.515");
  g_assert_false(g_file_test(p, G_FILE_TEST_EXISTS));
  run_clear(&r);
  r = RUN("psf", "bornwolf", "-o", p, "--shape", "5,5,5", "--na", "1.2", "--wavelength", "0.5",
          "--depth", "3");
  ASSERT_STATUS(r, 2);
  assert_contains(r.err, "Gibson & Lanni option");
  run_clear(&r);
  g_free(p);
}

/* A Gaussian with known sigma and offset: psf measure --json finds them. */
static void test_psf_measure(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  const size_t shape[3] = {21, 31, 31};
  const double c[3] = {10.3, 15.2, 14.6}, s[3] = {2.5, 1.4, 1.7};
  LucyVolume *v = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &v), ==, LUCY_OK);
  v->voxel_um[0] = 0.3;
  v->voxel_um[1] = v->voxel_um[2] = 0.1;
  for (size_t z = 0; z < 21; z++)
    for (size_t y = 0; y < 31; y++)
      for (size_t x = 0; x < 31; x++) {
        const double dz = (z - c[0]) / s[0], dy = (y - c[1]) / s[1], dx = (x - c[2]) / s[2];
        v->data[(z * 31 + y) * 31 + x] =
            (float)(50 + 1000 * exp(-0.5 * (dz * dz + dy * dy + dx * dx)));
      }
  gchar *p = path_in(f, "g.tif");
  write_volume(p, v);
  lucy_volume_free(v);
  Run r = RUN("psf", "measure", p, "--json", "--na", "1.4", "--wavelength", "0.52");
  ASSERT_STATUS(r, 0);
  g_assert_true(json_is_valid(r.out));
  g_assert_null(strstr(r.err, "no voxel size")); /* written with its calibration */
  const char *fpx = json_find(r.out, "fwhm_px"), *fum = json_find(r.out, "fwhm_um");
  g_assert_nonnull(fpx);
  g_assert_nonnull(fum);
  const char *axes[3] = {"z", "y", "x"};
  double peak[3], centroid[3], offset[3];
  json_array(r.out, "peak", peak, 3);
  json_array(r.out, "centroid", centroid, 3);
  json_array(r.out, "offset_px", offset, 3);
  for (int a = 0; a < 3; a++) {
    const double want = 2.3548200450309493 * s[a];
    g_assert_cmpfloat(fabs(json_number(fpx, axes[a]) / want - 1), <, 0.02);
    g_assert_cmpfloat(fabs(json_number(fum, axes[a]) / (want * (a ? 0.1 : 0.3)) - 1), <, 0.02);
    g_assert_cmpfloat(fabs(centroid[a] - c[a]), <, 0.05);
    g_assert_cmpfloat(fabs(offset[a] - (c[a] - (double)(shape[a] / 2))), <, 0.05);
    g_assert_cmpfloat(peak[a], ==, round(c[a]));
  }
  g_assert_cmpfloat_with_epsilon(json_number(r.out, "background"), 50, 1e-3);
  const double pv = json_number(r.out, "peak_value");
  g_assert_cmpfloat(pv, >, 950); /* voxel centres miss the true peak 1050 by < 0.4 voxel */
  g_assert_cmpfloat(fabs(json_number(r.out, "sbr") - (pv - 50) / 50), <, 1e-3);
  g_assert_nonnull(json_find(r.out, "theory_fwhm_um"));
  run_clear(&r);
  r = RUN("psf", "measure", p);
  ASSERT_STATUS(r, 0);
  assert_contains(r.out, "FWHM x:");
  assert_contains(r.out, "lateral asymmetry");
  run_clear(&r);

  /* the shared bead PSF against the scipy fixture */
  const char *shared = g_getenv("LUCY_SHARED_DATA"), *fixtures = g_getenv("LUCY_FIXTURES");
  gchar *bead = g_strdup_printf("%s/real/bead-psf.tif", shared ? shared : ".");
  gchar *fix = g_strdup_printf("%s/psf/bead-psf.txt", fixtures ? fixtures : ".");
  if (g_file_test(bead, G_FILE_TEST_EXISTS) && g_file_test(fix, G_FILE_TEST_EXISTS)) {
    r = RUN("psf", "measure", bead, "--json", "--na", "1.4", "--wavelength", "0.52");
    ASSERT_STATUS(r, 0);
    /* the file has no calibration: 1 um voxels, said on stderr, JSON untouched */
    assert_contains(r.err, "carries no voxel size");
    assert_contains(r.err, "ratios to the theory (in um) mean nothing");
    g_assert_true(json_is_valid(r.out));
    gchar *text = read_all(fix, NULL);
    const char *k = strstr(text, "fwhm_px_x ");
    g_assert_nonnull(k);
    const double want = g_ascii_strtod(k + strlen("fwhm_px_x "), NULL);
    g_assert_cmpfloat(fabs(json_number(json_find(r.out, "fwhm_px"), "x") / want - 1), <, 1e-3);
    g_free(text);
    run_clear(&r);
  }
  g_free(bead);
  g_free(fix);

  /* bad input: all zero, peak on the border */
  LucyVolume *z = NULL;
  const size_t zs[3] = {7, 7, 7};
  g_assert_cmpint(lucy_volume_new(zs, &z), ==, LUCY_OK);
  gchar *zp = path_in(f, "zero.tif");
  write_volume(zp, z);
  r = RUN("psf", "measure", zp);
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "constant");
  run_clear(&r);
  z->data[3 * 49 + 3 * 7 + 6] = 1;
  write_volume(zp, z);
  r = RUN("psf", "measure", zp, "--json");
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "on the border");
  g_assert_cmpstr(r.out, ==, "");
  run_clear(&r);
  lucy_volume_free(z);
  g_free(zp);
  g_free(p);
}

/* psf fix --centre centroid moves a shifted PSF back to M//2 within 0.05 voxel. */
static void test_psf_fix(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  const size_t shape[3] = {17, 25, 24};
  const double c[3] = {8.4, 11.65, 12.3}, s[3] = {2, 1.5, 1.5};
  LucyVolume *v = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &v), ==, LUCY_OK);
  for (size_t z = 0; z < 17; z++)
    for (size_t y = 0; y < 25; y++)
      for (size_t x = 0; x < 24; x++) {
        const double dz = (z - c[0]) / s[0], dy = (y - c[1]) / s[1], dx = (x - c[2]) / s[2];
        v->data[(z * 25 + y) * 24 + x] = (float)(5 + 100 * exp(-0.5 * (dz * dz + dy * dy + dx * dx)));
      }
  gchar *in = path_in(f, "shifted.tif"), *out = path_in(f, "fixed.tif");
  write_volume(in, v);
  lucy_volume_free(v);
  Run r = RUN("psf", "fix", in, "-o", out, "--centre", "centroid", "--subtract-background",
              "--odd", "--normalize");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "subtracted the border background 5");
  assert_contains(r.err, "centred the centroid");
  assert_contains(r.err, "padded to 17 x 25 x 25");
  assert_contains(r.err, "normalised");
  run_clear(&r);
  r = RUN("psf", "measure", out, "--json");
  ASSERT_STATUS(r, 0);
  double off[3], shp[3];
  json_array(r.out, "offset_px", off, 3);
  json_array(r.out, "shape", shp, 3);
  for (int a = 0; a < 3; a++) g_assert_cmpfloat(fabs(off[a]), <, 0.05);
  g_assert_cmpfloat(shp[2], ==, 25);
  g_assert_cmpfloat_with_epsilon(json_number(r.out, "sum"), 1.0, 1e-5);
  run_clear(&r);
  r = RUN("psf", "fix", in, "-o", out, "--centre", "middle");
  ASSERT_STATUS(r, 2);
  run_clear(&r);
  g_free(in);
  g_free(out);
}

static void test_info_json_escaping(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  /* A file name JSON must escape, and voxels JSON cannot hold (NaN, Inf). */
  gchar *weird = path_in(f, "we\"ird\\name\t.tif");
  const size_t shape[3] = {2, 3, 4};
  LucyVolume *v = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &v), ==, LUCY_OK);
  for (size_t i = 0; i < 24; i++)
    v->data[i] = (float)i;
  v->data[5] = NAN;
  v->data[6] = INFINITY;
  write_volume(weird, v);
  gchar *json = info_json(weird);
  gchar *file = json_string_value(json, "file");
  g_assert_cmpstr(file, ==, weird);
  g_assert_cmpfloat(json_number(json, "nonfinite"), ==, 2.0);
  g_assert_cmpfloat(json_number(json, "min"), ==, 0.0);
  g_assert_cmpfloat(json_number(json, "max"), ==, 23.0);
  /* sum of 0..23 without 5 and 6 */
  g_assert_cmpfloat_with_epsilon(json_number(json, "sum"), 276.0 - 11.0, 1e-9);
  g_free(file);
  g_free(json);

  /* No finite voxel at all: the statistics are null, and the JSON still parses. */
  for (size_t i = 0; i < 24; i++)
    v->data[i] = NAN;
  gchar *nan_path = path_in(f, "nan.tif");
  write_volume(nan_path, v);
  json = info_json(nan_path);
  g_assert_true(isnan(json_number(json, "min")));
  g_assert_true(isnan(json_number(json, "max")));
  g_assert_true(isnan(json_number(json, "mean")));
  g_assert_cmpfloat(json_number(json, "nonfinite"), ==, 24.0);
  g_free(json);
  lucy_volume_free(v);
  g_free(nan_path);
  g_free(weird);
}

static void test_info_shared_bars(void) {
  if (!have_cli())
    return;
  const char *root = g_getenv("LUCY_SHARED_DATA");
  gchar *p = g_build_filename(root ? root : "../shared/data", "real", "bars-psf.tif", NULL);
  if (!g_file_test(p, G_FILE_TEST_EXISTS)) {
    gchar *msg = g_strdup_printf("shared data missing: %s", p);
    g_test_skip(msg);
    g_free(msg);
    g_free(p);
    return;
  }
  gchar *json = info_json(p);
  assert_json_shape(json, 32, 64, 64);
  gchar *dtype = json_string_value(json, "dtype");
  g_assert_cmpstr(dtype, ==, "float32");
  double sum = json_number(json, "sum");
  g_assert_cmpfloat(sum, >, 4.0e5); /* the data README: sum about 5.0e5, not normalised */
  g_assert_cmpfloat(sum, <, 6.0e5);
  Run r = RUN("info", p);
  ASSERT_STATUS(r, 0);
  assert_contains(r.out, "32 x 64 x 64");
  run_clear(&r);
  g_free(dtype);
  g_free(json);
  g_free(p);
}

/* --channel and --frame pick a plane set of a hyperstack (OME-TIFF, 3 channels of 5 slices). */
static void test_info_shared_channels(void) {
  if (!have_cli())
    return;
  const char *root = g_getenv("LUCY_SHARED_DATA");
  gchar *p = g_build_filename(root ? root : "../shared/data", "formats",
                              "multi-channel-z-series.ome.tif", NULL);
  if (!g_file_test(p, G_FILE_TEST_EXISTS)) {
    gchar *msg = g_strdup_printf("shared data missing: %s", p);
    g_test_skip(msg);
    g_free(msg);
    g_free(p);
    return;
  }
  gchar *json0 = info_json(p);
  g_assert_cmpfloat(json_number(json0, "channels"), ==, 3.0);
  g_assert_cmpfloat(json_number(json0, "channel"), ==, 0.0);
  /* the reader's note says what it read; the hint to choose is info's, in its text */
  gchar *note = json_string_value(json0, "note");
  g_assert_cmpstr(note, ==, "file has 3 channels and 1 frame; read channel 0, frame 0");
  g_free(note);
  Run rt = RUN("info", p);
  ASSERT_STATUS(rt, 0);
  assert_contains(rt.out, "read channel 0, frame 0 (choose with --channel, --frame)\n");
  run_clear(&rt);

  Run r = RUN("info", p, "--json", "--channel", "2");
  ASSERT_STATUS(r, 0);
  g_assert_true(json_is_valid(r.out));
  g_assert_cmpfloat(json_number(r.out, "channel"), ==, 2.0);
  double s0[3], s2[3];
  json_array(json0, "shape", s0, 3);
  json_array(r.out, "shape", s2, 3);
  g_assert_cmpmem(s0, sizeof s0, s2, sizeof s2);
  /* A different channel holds different data. */
  g_assert_cmpfloat(json_number(r.out, "sum"), !=, json_number(json0, "sum"));
  run_clear(&r);

  r = RUN("info", p, "--channel", "3");
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "channel 3");
  run_clear(&r);
  r = RUN("info", p, "--frame", "1");
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "frame 1");
  run_clear(&r);
  g_free(json0);
  g_free(p);
}

/* ---- convolve --------------------------------------------------------------------------- */

typedef struct ModeCase {
  const char *mode;
  LucyPadMode pad;
  size_t shape[3]; /* expected output for image 16,20,24 and PSF 5,7,9 */
} ModeCase;

static const ModeCase mode_cases[] = {
  {"circular", LUCY_PAD_CIRCULAR, {16, 20, 24}},
  {"same", LUCY_PAD_SAME, {16, 20, 24}},
  {"full", LUCY_PAD_FULL, {20, 26, 32}},
  {"valid", LUCY_PAD_VALID, {12, 14, 16}},
};

/* Convolves with the CLI and with lucy_convolve here; the results agree within 1e-6. */
static void check_against_library(const char *img_path, const char *psf_path,
                                  const char *out_path, LucyPadMode mode, LucyOrigin origin,
                                  int normalize) {
  LucyVolume *img = read_volume(img_path), *psf = read_volume(psf_path);
  LucyVolume *got = read_volume(out_path), *ref = NULL;
  LucyConvOptions o;
  lucy_conv_options_default(&o);
  o.mode = mode;
  o.origin = origin;
  o.normalize = normalize;
  LucyStatus s = lucy_convolve(img, psf, &o, &ref);
  if (s != LUCY_OK)
    g_printerr("lucy_convolve: %s\n", lucy_error_message());
  g_assert_cmpint(s, ==, LUCY_OK);
  for (int a = 0; a < 3; a++) {
    g_assert_cmpuint(got->shape[a], ==, ref->shape[a]);
    g_assert_cmpfloat(got->voxel_um[a], ==, img->voxel_um[a]);
  }
  double max_ref;
  double d = max_abs_diff(got->data, ref->data, lucy_shape_count(ref->shape), &max_ref);
  g_assert_cmpfloat(max_ref, >, 0.0);
  g_assert_cmpfloat(d, <=, 1e-6 * fmax(1.0, max_ref));
  lucy_volume_free(img);
  lucy_volume_free(psf);
  lucy_volume_free(got);
  lucy_volume_free(ref);
}

static void test_convolve_modes(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *img = make_phantom(f, "img.tif", "16,20,24", "3");
  gchar *psf = make_psf(f, "psf.tif", "5,7,9", "1,1.5,2");
  gchar *img_sum = checksum_file(img), *psf_sum = checksum_file(psf);
  const size_t img_shape[3] = {16, 20, 24}, psf_shape[3] = {5, 7, 9};
  for (size_t i = 0; i < G_N_ELEMENTS(mode_cases); i++) {
    const ModeCase *m = &mode_cases[i];
    gchar *name = g_strdup_printf("out-%s.tif", m->mode);
    gchar *out = path_in(f, name);
    Run r = RUN("convolve", img, psf, "-o", out, "--mode", m->mode, "--threads", "2");
    ASSERT_STATUS(r, 0);
    /* One line each: PSF sum and normalisation, output shape, FFT shape. */
    assert_contains(r.err, "PSF sum");
    assert_contains(r.err, "normalised to sum 1");
    gchar *expect = g_strdup_printf("output shape %zu x %zu x %zu", m->shape[0], m->shape[1],
                                    m->shape[2]);
    assert_contains(r.err, expect);
    g_free(expect);
    size_t out_shape[3], fft_shape[3];
    g_assert_cmpint(lucy_conv_shapes(img_shape, psf_shape, m->pad, out_shape, fft_shape), ==,
                    LUCY_OK);
    expect = g_strdup_printf("FFT shape %zu x %zu x %zu", fft_shape[0], fft_shape[1],
                             fft_shape[2]);
    assert_contains(r.err, expect);
    g_free(expect);
    run_clear(&r);

    gchar *json = info_json(out);
    assert_json_shape(json, m->shape[0], m->shape[1], m->shape[2]);
    g_free(json);
    check_against_library(img, psf, out, m->pad, LUCY_ORIGIN_CENTER, 1);
    g_free(out);
    g_free(name);
  }
  /* Inputs are never modified. */
  gchar *img_sum2 = checksum_file(img), *psf_sum2 = checksum_file(psf);
  g_assert_cmpstr(img_sum, ==, img_sum2);
  g_assert_cmpstr(psf_sum, ==, psf_sum2);
  g_free(img_sum);
  g_free(psf_sum);
  g_free(img_sum2);
  g_free(psf_sum2);
  g_free(img);
  g_free(psf);
}

/* An even-sized PSF that does not sum to 1: normalisation, --no-normalize, --origin scipy. */
static void test_convolve_options(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *img = make_phantom(f, "img.tif", "12,16,20", "11");
  gchar *psf_path = path_in(f, "psf3.tif");
  const size_t psf_shape[3] = {4, 6, 6};
  const double sigma[3] = {1, 1, 1.5};
  LucyVolume *psf = NULL;
  g_assert_cmpint(lucy_psf_gaussian(psf_shape, sigma, &psf), ==, LUCY_OK);
  for (size_t i = 0; i < lucy_shape_count(psf_shape); i++)
    psf->data[i] *= 3.0f;
  write_volume(psf_path, psf);
  lucy_volume_free(psf);

  gchar *a = path_in(f, "a.tif"), *b = path_in(f, "b.tif"), *c = path_in(f, "c.tif");
  Run r = RUN("convolve", img, psf_path, "-o", a, "--mode", "same");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "PSF sum 3");
  assert_contains(r.err, "divided by 3");
  run_clear(&r);
  check_against_library(img, psf_path, a, LUCY_PAD_SAME, LUCY_ORIGIN_CENTER, 1);

  r = RUN("convolve", img, psf_path, "-o", b, "--mode", "same", "--no-normalize");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "not normalised");
  run_clear(&r);
  check_against_library(img, psf_path, b, LUCY_PAD_SAME, LUCY_ORIGIN_CENTER, 0);
  /* Without normalisation the result is 3 times larger. */
  LucyVolume *va = read_volume(a), *vb = read_volume(b);
  size_t n = lucy_shape_count(va->shape);
  double worst = 0.0;
  for (size_t i = 0; i < n; i++)
    worst = fmax(worst, fabs(vb->data[i] - 3.0 * va->data[i]));
  g_assert_cmpfloat(worst, <, 1e-5);
  lucy_volume_free(vb);

  r = RUN("convolve", img, psf_path, "-o", c, "--mode", "same", "--origin", "scipy", "--thorough",
          "--threads", "1");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "origin scipy");
  run_clear(&r);
  check_against_library(img, psf_path, c, LUCY_PAD_SAME, LUCY_ORIGIN_SCIPY, 1);
  /* For an even PSF the scipy origin is one voxel before the centre one: a shifted result. */
  LucyVolume *vc = read_volume(c);
  g_assert_cmpfloat(max_abs_diff(va->data, vc->data, n, NULL), >, 1e-3);
  lucy_volume_free(va);
  lucy_volume_free(vc);

  /* --uint16 writes 16-bit samples. */
  gchar *u = path_in(f, "u16.tif");
  r = RUN("convolve", img, psf_path, "-o", u, "--uint16");
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  gchar *json = info_json(u);
  gchar *dtype = json_string_value(json, "dtype");
  g_assert_cmpstr(dtype, ==, "uint16");
  assert_json_shape(json, 12, 16, 20);
  g_assert_cmpfloat(json_number(json, "max"), >, 60000.0); /* min..max fitted to 0..65535 */
  g_free(dtype);
  g_free(json);
  g_free(u);
  g_free(a);
  g_free(b);
  g_free(c);
  g_free(psf_path);
  g_free(img);
}

static void test_convolve_overwrite(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *img = make_phantom(f, "img.tif", "8,12,12", "1");
  gchar *psf = make_psf(f, "psf.tif", "3,3,3", "1,1,1");
  gchar *out = path_in(f, "out.tif");
  const char *precious = "not a TIFF, but somebody's file\n";
  g_assert_true(g_file_set_contents(out, precious, -1, NULL));

  Run r = RUN("convolve", img, psf, "-o", out);
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "exists");
  assert_contains(r.err, "--force");
  run_clear(&r);
  gsize len;
  gchar *now = read_all(out, &len);
  g_assert_cmpstr(now, ==, precious);
  g_free(now);

  r = RUN("convolve", img, psf, "-o", out, "--force");
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  gchar *json = info_json(out);
  assert_json_shape(json, 8, 12, 12);
  g_free(json);

  /* --force never makes an input the output. */
  gchar *before = checksum_file(img);
  r = RUN("convolve", img, psf, "-o", img, "--force");
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "input");
  run_clear(&r);
  gchar *after = checksum_file(img);
  g_assert_cmpstr(before, ==, after);

  /* The same refusal for the other writers (project writes PNG: a .png name). */
  gchar *png = path_in(f, "out.png");
  g_assert_true(g_file_set_contents(png, precious, -1, NULL));
  r = RUN("project", img, "-o", png);
  ASSERT_STATUS(r, 1);
  assert_contains(r.err, "--force");
  run_clear(&r);
  g_assert_cmpint(g_remove(png), ==, 0);
  g_free(png);
  r = RUN("phantom", "-o", out, "--shape", "4,8,8");
  ASSERT_STATUS(r, 1);
  assert_contains(r.err, "--force");
  run_clear(&r);
  r = RUN("psf", "gaussian", "-o", out, "--shape", "3,3,3", "--sigma", "1,1,1");
  ASSERT_STATUS(r, 1);
  assert_contains(r.err, "--force");
  run_clear(&r);

  /* "-" is not taken for a file name */
  r = RUN("convolve", img, psf, "-o", "-");
  ASSERT_STATUS(r, 1);
  assert_contains(r.err, "not to standard output");
  run_clear(&r);

  /* --force does not put a regular file in place of a FIFO (or a device node: as root,
   * -o /dev/null --force would have replaced /dev/null). */
  gchar *fifo = path_in(f, "pipe");
  g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
  r = RUN("convolve", img, psf, "-o", fifo, "--force");
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "not a regular file");
  run_clear(&r);
  struct stat fst;
  g_assert_cmpint(lstat(fifo, &fst), ==, 0);
  g_assert_true(S_ISFIFO(fst.st_mode));
  g_assert_cmpint(unlink(fifo), ==, 0);
  g_free(fifo);

  gchar *listing = dir_listing(f->dir);
  g_assert_cmpstr(listing, ==, "img.tif out.tif psf.tif"); /* no temporary files left */
  g_free(listing);
  g_free(before);
  g_free(after);
  g_free(img);
  g_free(psf);
  g_free(out);
}

static void test_convolve_errors(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *img = make_phantom(f, "img.tif", "8,12,12", "1");
  gchar *psf = make_psf(f, "psf.tif", "3,5,5", "1,1,1");
  gchar *out = path_in(f, "out.tif");
  gchar *missing = path_in(f, "no-such-file.tif");

  /* A missing input. */
  Run r = RUN("convolve", missing, psf, "-o", out);
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "cannot read image");
  assert_contains(r.err, "no-such-file.tif");
  assert_contains(r.err, g_strerror(ENOENT));
  run_clear(&r);
  r = RUN("info", missing);
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "no-such-file.tif");
  run_clear(&r);

  /* Corrupt TIFFs: garbage, and a TIFF header followed by garbage. */
  gchar *garbage = path_in(f, "garbage.tif"), *bad_header = path_in(f, "bad-header.tif");
  guint8 bytes[4096];
  GRand *rng = g_rand_new_with_seed(1234);
  for (size_t i = 0; i < sizeof bytes; i++)
    bytes[i] = (guint8)g_rand_int_range(rng, 0, 256);
  g_rand_free(rng);
  g_assert_true(g_file_set_contents(garbage, (const gchar *)bytes, sizeof bytes, NULL));
  memcpy(bytes, "II*\0", 4); /* little-endian TIFF, first IFD offset from garbage */
  bytes[4] = 0x10, bytes[5] = 0x00, bytes[6] = 0x00, bytes[7] = 0x00;
  g_assert_true(g_file_set_contents(bad_header, (const gchar *)bytes, sizeof bytes, NULL));
  const char *corrupt[] = {garbage, bad_header};
  for (size_t i = 0; i < 2; i++) {
    r = RUN("convolve", img, corrupt[i], "-o", out);
    ASSERT_STATUS(r, 1); /* not a crash (128 + signal), not success */
    assert_one_error_line(&r);
    assert_contains(r.err, "cannot read PSF");
    assert_contains(r.err, corrupt[i]);
    run_clear(&r);
    r = RUN("info", corrupt[i], "--json");
    ASSERT_STATUS(r, 1);
    assert_one_error_line(&r);
    g_assert_cmpstr(r.out, ==, "");
    run_clear(&r);
  }
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));

  /* The output's folder does not exist: nothing is created anywhere. */
  gchar *nowhere = path_in(f, "missing-folder/out.tif");
  gchar *before = dir_listing(f->dir);
  r = RUN("convolve", img, psf, "-o", nowhere);
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "missing-folder");
  assert_contains(r.err, "does not exist");
  run_clear(&r);
  gchar *after = dir_listing(f->dir);
  g_assert_cmpstr(before, ==, after);
  g_free(after);

  /* valid with a PSF larger than the image on one axis. */
  gchar *big = make_psf(f, "big.tif", "9,5,5", "1,1,1");
  g_free(before);
  before = dir_listing(f->dir);
  r = RUN("convolve", img, big, "-o", out, "--mode", "valid");
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "valid");
  assert_contains(r.err, "9 x 5 x 5");
  run_clear(&r);
  /* ... which the other modes accept */
  r = RUN("convolve", img, big, "-o", out, "--mode", "full");
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  g_assert_cmpint(g_remove(out), ==, 0);

  /* A PSF of zeros cannot be normalised. */
  gchar *zeros = path_in(f, "zeros.tif");
  const size_t zshape[3] = {3, 3, 3};
  LucyVolume *z = NULL;
  g_assert_cmpint(lucy_volume_new(zshape, &z), ==, LUCY_OK);
  write_volume(zeros, z);
  lucy_volume_free(z);
  g_free(before);
  before = dir_listing(f->dir);
  r = RUN("convolve", img, zeros, "-o", out);
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "zero");
  run_clear(&r);
  after = dir_listing(f->dir);
  g_assert_cmpstr(before, ==, after);

  /* A PSF with a NaN is refused, not smeared over the output. */
  gchar *nan_psf = path_in(f, "nan-psf.tif");
  g_assert_cmpint(lucy_volume_new(zshape, &z), ==, LUCY_OK);
  z->data[13] = 1.0f;
  z->data[0] = NAN;
  write_volume(nan_psf, z);
  lucy_volume_free(z);
  g_free(before);
  before = dir_listing(f->dir);
  r = RUN("convolve", img, nan_psf, "-o", out, "--no-normalize");
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  run_clear(&r);
  g_free(after);
  after = dir_listing(f->dir);
  g_assert_cmpstr(before, ==, after);
  g_free(nan_psf);

  g_free(after);
  g_free(before);
  g_free(zeros);
  g_free(big);
  g_free(nowhere);
  g_free(garbage);
  g_free(bad_header);
  g_free(missing);
  g_free(out);
  g_free(img);
  g_free(psf);
}

/* Inputs are read with the reader's note (a hyperstack's channel and frame; --channel and
 * --frame pick the image's) and a warning for negative voxels: in a PSF always, in an image
 * for deconvolution only (convolution is linear: negatives are data like any other). */
static void test_input_warnings(Fixture *f, gconstpointer data) {
  (void)data;
  if (!have_cli())
    return;
  gchar *img = make_phantom(f, "img.tif", "8,16,16", "5");
  gchar *psf = make_psf(f, "psf.tif", "5,5,5", "1,1,1");
  gchar *out = path_in(f, "out.tif");
  LucyVolume *v = read_volume(psf);
  v->data[0] = -0.05f * v->data[62]; /* 5% of the centre (z=2, y=2, x=2) */
  gchar *psf_neg = path_in(f, "psf-neg.tif");
  write_volume(psf_neg, v);
  lucy_volume_free(v);
  Run r = RUN("convolve", img, psf_neg, "-o", out);
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "warning: PSF '");
  assert_contains(r.err, "has 1 negative voxel (lowest ");
  assert_contains(r.err, "5% of its maximum");
  run_clear(&r);

  v = read_volume(img);
  for (size_t i = 0; i < 10; i++) v->data[i] = -0.1f;
  gchar *img_neg = path_in(f, "img-neg.tif");
  write_volume(img_neg, v);
  lucy_volume_free(v);
  r = RUN("convolve", img_neg, psf, "-o", out, "--force");
  ASSERT_STATUS(r, 0);
  g_assert_null(strstr(r.err, "negative"));
  /* the phantom's voxels are 0.3 x 0.1 x 0.1 um, the Gaussian PSF's 1 x 1 x 1 um */
  assert_contains(r.err, "warning: the image's voxels are 0.3 x 0.1 x 0.1 um and the PSF's 1 x 1");
  run_clear(&r);
  r = RUN("deconvolve", img_neg, psf, "-o", out, "--force", "-n", "2");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "warning: image '");
  assert_contains(r.err, "has 10 negative voxels (lowest -0.1");
  assert_contains(r.err, "Richardson-Lucy models counts >= 0");
  run_clear(&r);
  /* --channel beyond a plain stack's single channel is the reader's clear error */
  r = RUN("convolve", img, psf, "-o", out, "--force", "--channel", "1");
  ASSERT_STATUS(r, 1);
  assert_contains(r.err, "channel 1 is out of range");
  run_clear(&r);
  g_free(img);
  g_free(psf);
  g_free(out);
  g_free(psf_neg);
  g_free(img_neg);
}

/* Progress lines for work over the delay (set to 0 here), and Ctrl-C through the real SIGINT
 * handler (the test hook raises SIGINT at the first progress report): exit 130, no output. */
static void test_convolve_progress_cancel(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *img = make_phantom(f, "img.tif", "16,32,32", "2");
  gchar *psf = make_psf(f, "psf.tif", "5,5,5", "1,1,1");
  gchar *out = path_in(f, "out.tif");

  Run r = run_env((const char *const[]){"LUCY_CLI_PROGRESS_DELAY=0", NULL},
                  (const char *const[]){"convolve", img, psf, "-o", out, NULL});
  ASSERT_STATUS(r, 0);
  /* stderr is a pipe: plain lines "convolve: <stage> <n>%", no carriage returns */
  g_assert_null(strchr(r.err, '\r'));
  GRegex *re = g_regex_new("^convolve: [a-zA-Z][a-zA-Z -]* [0-9]{1,3}%$", G_REGEX_MULTILINE, 0,
                           NULL);
  if (!g_regex_match(re, r.err, 0, NULL))
    g_printerr("no progress line in: %s\n", r.err);
  g_assert_true(g_regex_match(re, r.err, 0, NULL));
  g_regex_unref(re);
  run_clear(&r);
  g_assert_cmpint(g_remove(out), ==, 0);

  /* Without the delay override, a small job shows no progress at all. */
  r = RUN("convolve", img, psf, "-o", out);
  ASSERT_STATUS(r, 0);
  g_assert_null(strstr(r.err, "%"));
  run_clear(&r);
  g_assert_cmpint(g_remove(out), ==, 0);

  gchar *before = dir_listing(f->dir);
  r = run_env((const char *const[]){"LUCY_CLI_TEST_SIGINT=1", NULL},
              (const char *const[]){"convolve", img, psf, "-o", out, NULL});
  ASSERT_STATUS(r, 130);
  assert_contains(r.err, "cancelled");
  run_clear(&r);
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  gchar *after = dir_listing(f->dir);
  g_assert_cmpstr(before, ==, after);
  g_free(after);
  /* SIGTERM (what timeout(1) and batch schedulers send) while the result is being written:
   * the write stops, nothing is left (not even a temporary file), exit 128 + 15. */
  r = run_env((const char *const[]){"LUCY_CLI_TEST_SIGINT=term-writing", NULL},
              (const char *const[]){"convolve", img, psf, "-o", out, NULL});
  ASSERT_STATUS(r, 143);
  assert_contains(r.err, "cancelled");
  run_clear(&r);
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  after = dir_listing(f->dir);
  g_assert_cmpstr(before, ==, after);
  g_free(before);
  g_free(after);
  g_free(out);
  g_free(img);
  g_free(psf);
}

/* ---- deconvolve ------------------------------------------------------------------------- */

/* A truth of solid spheres, a Gaussian PSF, and the image: the truth blurred here by the library
 * (same mode, the model of the non-circulant boundary: the image is the observed window). */
typedef struct DeconData {
  gchar *truth, *psf, *img;
} DeconData;

static void decon_data(const Fixture *f, DeconData *d) {
  d->truth = path_in(f, "truth.tif");
  Run r = RUN("phantom", "-o", d->truth, "--shape", "16,40,40", "--spheres", "6", "--radius",
              "2,4", "--voxel", "0.3,0.1,0.1", "--seed", "21");
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  d->psf = make_psf(f, "psf.tif", "7,9,9", "1,1.5,1.5");
  LucyVolume *truth = read_volume(d->truth), *psf = read_volume(d->psf), *img = NULL;
  LucyConvOptions o;
  lucy_conv_options_default(&o);
  o.mode = LUCY_PAD_SAME;
  g_assert_cmpint(lucy_convolve(truth, psf, &o, &img), ==, LUCY_OK);
  memcpy(img->voxel_um, truth->voxel_um, sizeof img->voxel_um);
  d->img = path_in(f, "img.tif");
  write_volume(d->img, img);
  lucy_volume_free(truth);
  lucy_volume_free(psf);
  lucy_volume_free(img);
}

static void decon_data_clear(DeconData *d) {
  g_free(d->truth);
  g_free(d->psf);
  g_free(d->img);
}

/* ||s a - t|| / ||t|| with the least-squares scale s (the truth may be on another scale). */
static double scaled_error(const float *a, const float *t, size_t n) {
  double at = 0, aa = 0, tt = 0;
  for (size_t i = 0; i < n; i++) {
    at += (double)a[i] * t[i];
    aa += (double)a[i] * a[i];
    tt += (double)t[i] * t[i];
  }
  double s = aa > 0 ? at / aa : 0, e = 0;
  for (size_t i = 0; i < n; i++) {
    double d = s * a[i] - t[i];
    e += d * d;
  }
  return sqrt(e / tt);
}

/* Deconvolves with lucy_deconvolve here; the CLI's output agrees within 1e-5 of the largest
 * value. Returns the in-process result. */
static LucyVolume *check_decon_against_library(const char *img_path, const char *psf_path,
                                               const char *out_path,
                                               const LucyDeconOptions *opts) {
  LucyVolume *img = read_volume(img_path), *psf = read_volume(psf_path);
  LucyVolume *got = read_volume(out_path), *ref = NULL;
  int done = 0;
  LucyStatus s = lucy_deconvolve(img, psf, opts, &ref, &done);
  if (s != LUCY_OK)
    g_printerr("lucy_deconvolve: %s\n", lucy_error_message());
  g_assert_cmpint(s, ==, LUCY_OK);
  for (int a = 0; a < 3; a++) {
    g_assert_cmpuint(got->shape[a], ==, img->shape[a]);
    g_assert_cmpuint(ref->shape[a], ==, img->shape[a]);
    g_assert_cmpfloat(got->voxel_um[a], ==, img->voxel_um[a]);
  }
  double max_ref;
  double d = max_abs_diff(got->data, ref->data, lucy_shape_count(ref->shape), &max_ref);
  g_test_message("CLI vs lucy_deconvolve: max |diff| %.3g of max %.3g", d, max_ref);
  g_assert_cmpfloat(max_ref, >, 0.0);
  g_assert_cmpfloat(d, <=, 1e-5 * fmax(1.0, max_ref));
  lucy_volume_free(img);
  lucy_volume_free(psf);
  lucy_volume_free(got);
  return ref;
}

/* The iteration lines: exactly `expected` of them, numbered 1.. in order, each
 * "deconvolve: iteration k/N  I-div X  change Y  T s". */
static void assert_iteration_lines(const char *err, int expected, int n_max) {
  gchar *pattern = g_strdup_printf("^deconvolve: iteration ([0-9]+)/%d  I-div -?[0-9.]+e[-+][0-9]+"
                                   "  change [0-9.]+e[-+][0-9]+  [0-9]+\\.[0-9]{2} s$",
                                   n_max);
  GRegex *re = g_regex_new(pattern, G_REGEX_MULTILINE, 0, NULL);
  g_assert_nonnull(re);
  GMatchInfo *mi = NULL;
  int count = 0;
  g_regex_match(re, err, 0, &mi);
  while (g_match_info_matches(mi)) {
    gchar *k = g_match_info_fetch(mi, 1);
    count++;
    g_assert_cmpint(atoi(k), ==, count);
    g_free(k);
    g_match_info_next(mi, NULL);
  }
  g_match_info_free(mi);
  g_regex_unref(re);
  if (count != expected)
    g_printerr("expected %d iteration lines in: %s\n", expected, err);
  g_assert_cmpint(count, ==, expected);
  g_free(pattern);
}

/* RL on a blurred phantom: the plan lines, one line per iteration, a result closer to the
 * truth than the image, equal to lucy_deconvolve in-process, and the inputs untouched. */
static void test_deconvolve_restores(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  DeconData d;
  decon_data(f, &d);
  gchar *img_sum = checksum_file(d.img), *psf_sum = checksum_file(d.psf);
  gchar *out = path_in(f, "out.tif");
  Run r = RUN("deconvolve", d.img, d.psf, "-o", out, "--iterations", "30");
  ASSERT_STATUS(r, 0);
  g_test_message("%s", r.err);
  g_assert_cmpstr(r.out, ==, "");
  assert_contains(r.err, "PSF sum 1");
  assert_contains(r.err, "normalised to sum 1");
  assert_contains(r.err, "method rl, boundary noncirculant, 30 iterations");
  assert_contains(r.err, "image 16 x 40 x 40");
  assert_contains(r.err, "FFT shape ");
  assert_contains(r.err, "plan holds ");
  assert_contains(r.err, "wrote ");
  g_assert_null(strstr(r.err, "off-centre")); /* a centred Gaussian */
  assert_iteration_lines(r.err, 30, 30);
  run_clear(&r);

  LucyDeconOptions o;
  lucy_decon_options_default(&o);
  o.iterations = 30;
  LucyVolume *ref = check_decon_against_library(d.img, d.psf, out, &o);
  lucy_volume_free(ref);

  LucyVolume *truth = read_volume(d.truth), *img = read_volume(d.img), *res = read_volume(out);
  size_t n = lucy_shape_count(truth->shape);
  double e_img = scaled_error(img->data, truth->data, n);
  double e_res = scaled_error(res->data, truth->data, n);
  g_test_message("relative error to the truth: image %.4f, after 30 RL iterations %.4f", e_img,
                 e_res);
  g_assert_cmpfloat(e_res, <, 0.9 * e_img);
  lucy_volume_free(truth);
  lucy_volume_free(img);
  lucy_volume_free(res);

  gchar *img_sum2 = checksum_file(d.img), *psf_sum2 = checksum_file(d.psf);
  g_assert_cmpstr(img_sum, ==, img_sum2);
  g_assert_cmpstr(psf_sum, ==, psf_sum2);
  g_free(img_sum);
  g_free(psf_sum);
  g_free(img_sum2);
  g_free(psf_sum2);
  g_free(out);
  decon_data_clear(&d);
}

/* Every option reaches the library: RL-TV with circular edges, acceleration, a background, the
 * image as start, one thread; --stop-rel stops early; --uint16; an off-centre PSF warns. */
static void test_deconvolve_options(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  DeconData d;
  decon_data(f, &d);
  gchar *a = path_in(f, "a.tif");
  Run r = RUN("deconvolve", d.img, d.psf, "-o", a, "-n", "8", "--method", "rltv", "--tv", "0.01",
              "--boundary", "circular", "--accelerate", "--background", "0.01", "--start",
              "image", "--threads", "1");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "method rltv, boundary circular, 8 iterations, start the image");
  assert_contains(r.err, "TV lambda 0.01");
  assert_contains(r.err, "accelerated");
  assert_contains(r.err, "background 0.01");
  assert_contains(r.err, "FFT shape 16 x 40 x 40"); /* circular: no padding */
  assert_iteration_lines(r.err, 8, 8);
  run_clear(&r);
  LucyDeconOptions o;
  lucy_decon_options_default(&o);
  o.iterations = 8;
  o.method = LUCY_DECON_RLTV;
  o.tv_lambda = 0.01;
  o.boundary = LUCY_BOUNDARY_CIRCULAR;
  o.accelerate = 1;
  o.background = 0.01;
  o.start = LUCY_START_IMAGE;
  o.threads = 1;
  lucy_volume_free(check_decon_against_library(d.img, d.psf, a, &o));

  /* A constant start and the scipy origin. */
  gchar *b = path_in(f, "b.tif");
  r = RUN("deconvolve", d.img, d.psf, "-o", b, "-n", "4", "--start", "value:0.5", "--origin",
          "scipy", "--no-normalize");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "start the constant 0.5");
  assert_contains(r.err, "origin scipy");
  assert_contains(r.err, "not normalised");
  run_clear(&r);
  lucy_decon_options_default(&o);
  o.iterations = 4;
  o.start = LUCY_START_VALUE;
  o.start_value = 0.5;
  o.origin = LUCY_ORIGIN_SCIPY;
  o.normalize = 0;
  lucy_volume_free(check_decon_against_library(d.img, d.psf, b, &o));

  /* Any change is below 1e6: stops after the first iteration and says so. */
  gchar *c = path_in(f, "c.tif");
  r = RUN("deconvolve", d.img, d.psf, "-o", c, "-n", "20", "--stop-rel", "1e6", "--uint16");
  ASSERT_STATUS(r, 0);
  assert_iteration_lines(r.err, 1, 20);
  assert_contains(r.err, "stopped after 1 of 20 iterations");
  assert_contains(r.err, "uint16");
  run_clear(&r);
  gchar *json = info_json(c);
  gchar *dtype = json_string_value(json, "dtype");
  g_assert_cmpstr(dtype, ==, "uint16");
  assert_json_shape(json, 16, 40, 40);
  g_free(dtype);
  g_free(json);

  /* A PSF whose peak is 2 voxels off its origin along x: a warning line, and it still runs. */
  gchar *shifted = path_in(f, "shifted.tif");
  LucyVolume *psf = read_volume(d.psf), *sh = NULL;
  const ptrdiff_t origin[3] = {0, 0, -2};
  g_assert_cmpint(lucy_volume_crop_pad(psf, origin, psf->shape, 0.0f, &sh), ==, LUCY_OK);
  write_volume(shifted, sh);
  lucy_volume_free(psf);
  lucy_volume_free(sh);
  gchar *e = path_in(f, "e.tif");
  r = RUN("deconvolve", d.img, shifted, "-o", e, "-n", "2");
  ASSERT_STATUS(r, 0);
  g_test_message("%s", r.err);
  GRegex *warn = g_regex_new("^deconvolve: warning: .+$", G_REGEX_MULTILINE, 0, NULL);
  g_assert_true(g_regex_match(warn, r.err, 0, NULL));
  g_regex_unref(warn);
  run_clear(&r);

  g_free(e);
  g_free(shifted);
  g_free(a);
  g_free(b);
  g_free(c);
  decon_data_clear(&d);
}

/* One-step Wiener: the same as the library, the image's shape, and not the image. */
static void test_deconvolve_wiener(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  DeconData d;
  decon_data(f, &d);
  gchar *out = path_in(f, "w.tif");
  Run r = RUN("deconvolve", d.img, d.psf, "-o", out, "--method", "wiener", "--wiener-k", "0.01");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "method wiener");
  assert_contains(r.err, "k 0.01");
  g_assert_null(strstr(r.err, "iteration "));
  run_clear(&r);
  LucyDeconOptions o;
  lucy_decon_options_default(&o);
  o.method = LUCY_DECON_WIENER;
  o.wiener_k = 0.01;
  LucyVolume *ref = check_decon_against_library(d.img, d.psf, out, &o);
  LucyVolume *img = read_volume(d.img), *truth = read_volume(d.truth);
  size_t n = lucy_shape_count(img->shape);
  double max_ref;
  g_assert_cmpfloat(max_abs_diff(ref->data, img->data, n, &max_ref), >, 1e-3 * max_ref);
  for (size_t i = 0; i < n; i++)
    g_assert_true(isfinite(ref->data[i]));
  g_test_message("relative error to the truth: image %.4f, Wiener (k 0.01) %.4f",
                 scaled_error(img->data, truth->data, n), scaled_error(ref->data, truth->data, n));
  lucy_volume_free(ref);
  lucy_volume_free(img);
  lucy_volume_free(truth);
  g_free(out);
  decon_data_clear(&d);
}

static void test_deconvolve_overwrite(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *img = make_phantom(f, "img.tif", "8,12,12", "1");
  gchar *psf = make_psf(f, "psf.tif", "3,3,3", "1,1,1");
  gchar *out = path_in(f, "out.tif");
  const char *precious = "not a TIFF, but somebody's file\n";
  g_assert_true(g_file_set_contents(out, precious, -1, NULL));

  Run r = RUN("deconvolve", img, psf, "-o", out, "-n", "2");
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "exists");
  assert_contains(r.err, "--force");
  run_clear(&r);
  gsize len;
  gchar *now = read_all(out, &len);
  g_assert_cmpstr(now, ==, precious);
  g_free(now);

  r = RUN("deconvolve", img, psf, "-o", out, "-n", "2", "--force");
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  gchar *json = info_json(out);
  assert_json_shape(json, 8, 12, 12);
  g_free(json);

  /* --force never makes an input the output. */
  const char *victims[] = {img, psf};
  for (size_t i = 0; i < 2; i++) {
    gchar *before = checksum_file(victims[i]);
    r = RUN("deconvolve", img, psf, "-o", victims[i], "-n", "2", "--force");
    ASSERT_STATUS(r, 1);
    assert_one_error_line(&r);
    assert_contains(r.err, "input");
    run_clear(&r);
    gchar *after = checksum_file(victims[i]);
    g_assert_cmpstr(before, ==, after);
    g_free(before);
    g_free(after);
  }
  gchar *listing = dir_listing(f->dir);
  g_assert_cmpstr(listing, ==, "img.tif out.tif psf.tif"); /* no temporary files left */
  g_free(listing);
  g_free(img);
  g_free(psf);
  g_free(out);
}

/* Ctrl-C through the real SIGINT handler (the test hook raises it at the first report): exit
 * 130, "cancelled", no output and no temporary file. */
static void test_deconvolve_cancel(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *img = make_phantom(f, "img.tif", "16,32,32", "2");
  gchar *psf = make_psf(f, "psf.tif", "5,5,5", "1,1,1");
  gchar *out = path_in(f, "out.tif");
  gchar *before = dir_listing(f->dir);
  Run r = run_env((const char *const[]){"LUCY_CLI_TEST_SIGINT=1", NULL},
                  (const char *const[]){"deconvolve", img, psf, "-o", out, "--iterations",
                                        "100000", NULL});
  ASSERT_STATUS(r, 130);
  assert_contains(r.err, "cancelled");
  /* stopped at once, not after 100000 iterations */
  g_assert_null(strstr(r.err, "iteration 3/"));
  run_clear(&r);
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
  gchar *after = dir_listing(f->dir);
  g_assert_cmpstr(before, ==, after);
  g_free(before);
  g_free(after);
  g_free(out);
  g_free(img);
  g_free(psf);
}

/* The report lines (PSF sum, shapes) may come first when the library refuses the image's
 * values only once it sees them: the failure is the last line, and the only "lucy-cli:" one. */
static void assert_last_line_error(const Run *r) {
  const char *last = r->err, *p = r->err;
  size_t len = strlen(r->err);
  g_assert_cmpuint(len, >, 0);
  g_assert_cmpint(r->err[len - 1], ==, '\n');
  for (; p < r->err + len - 1; p++)
    if (*p == '\n')
      last = p + 1;
  if (!g_str_has_prefix(last, "lucy-cli: ") || strstr(r->err, "lucy-cli: ") != last)
    g_printerr("stderr was: %s\n", r->err);
  g_assert_true(g_str_has_prefix(last, "lucy-cli: "));
  g_assert_true(strstr(r->err, "lucy-cli: ") == last);
}

/* Inputs the library refuses: one error line, exit 1, no file. */
static void test_deconvolve_errors(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *img = make_phantom(f, "img.tif", "8,12,12", "1");
  gchar *psf = make_psf(f, "psf.tif", "3,5,5", "1,1,1");
  gchar *out = path_in(f, "out.tif");
  gchar *missing = path_in(f, "no-such-file.tif");
  gchar *before = dir_listing(f->dir);

  Run r = RUN("deconvolve", missing, psf, "-o", out, "-n", "2");
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "cannot read image");
  run_clear(&r);
  r = RUN("deconvolve", img, missing, "-o", out, "-n", "2");
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "cannot read PSF");
  run_clear(&r);

  /* An image of zeros cannot be deconvolved. */
  gchar *zeros = path_in(f, "zeros.tif");
  const size_t zshape[3] = {8, 12, 12};
  LucyVolume *z = NULL;
  g_assert_cmpint(lucy_volume_new(zshape, &z), ==, LUCY_OK);
  write_volume(zeros, z);
  lucy_volume_free(z);
  g_free(before);
  before = dir_listing(f->dir);
  r = RUN("deconvolve", zeros, psf, "-o", out, "-n", "2");
  ASSERT_STATUS(r, 1);
  g_test_message("zero image: %s", r.err);
  assert_last_line_error(&r);
  run_clear(&r);

  /* A PSF with a NaN. */
  gchar *nan_psf = path_in(f, "nan-psf.tif");
  const size_t pshape[3] = {3, 3, 3};
  g_assert_cmpint(lucy_volume_new(pshape, &z), ==, LUCY_OK);
  z->data[13] = 1.0f;
  z->data[0] = NAN;
  write_volume(nan_psf, z);
  lucy_volume_free(z);
  g_free(before);
  before = dir_listing(f->dir);
  r = RUN("deconvolve", img, nan_psf, "-o", out, "-n", "2");
  ASSERT_STATUS(r, 1);
  assert_last_line_error(&r);
  run_clear(&r);

  /* A PSF larger than the image with circular edges. */
  gchar *big = make_psf(f, "big.tif", "9,5,5", "1,1,1");
  g_free(before);
  before = dir_listing(f->dir);
  r = RUN("deconvolve", img, big, "-o", out, "-n", "2", "--boundary", "circular");
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "9 x 5 x 5");
  run_clear(&r);
  gchar *after = dir_listing(f->dir);
  g_assert_cmpstr(before, ==, after);
  g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));

  g_free(after);
  g_free(before);
  g_free(big);
  g_free(nan_psf);
  g_free(zeros);
  g_free(missing);
  g_free(out);
  g_free(img);
  g_free(psf);
}

/* ---- project ---------------------------------------------------------------------------- */

static void png_size(const char *path, guint32 *w, guint32 *h) {
  static const guint8 sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  gsize len;
  guint8 *b = (guint8 *)read_all(path, &len);
  g_assert_cmpuint(len, >, 33);
  g_assert_cmpmem(b, 8, sig, 8);
  g_assert_cmpmem(b + 12, 4, "IHDR", 4);
  *w = (guint32)b[16] << 24 | (guint32)b[17] << 16 | (guint32)b[18] << 8 | b[19];
  *h = (guint32)b[20] << 24 | (guint32)b[21] << 16 | (guint32)b[22] << 8 | b[23];
  g_free(b);
}

static void test_project_png(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *img = make_phantom(f, "img.tif", "10,20,30", "9");
  gchar *png = path_in(f, "fig.png");
  /* XY (30 x 20 voxels at 2 px) with ZY (10 voxels at 3 px) to its right and XZ below,
   * 4 px apart: 60 + 4 + 30 wide, 40 + 4 + 30 high. */
  Run r = RUN("project", img, "-o", png, "--sxy", "2", "--sz", "3");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "94 x 74 px");
  run_clear(&r);
  guint32 w, h;
  png_size(png, &w, &h);
  g_assert_cmpuint(w, ==, 60 + 4 + 30);
  g_assert_cmpuint(h, ==, 40 + 4 + 30);

  /* Refuses to overwrite; --force with every display option works. */
  gchar *before = checksum_file(png);
  r = RUN("project", img, "-o", png, "--sxy", "1", "--sz", "1");
  ASSERT_STATUS(r, 1);
  assert_contains(r.err, "--force");
  run_clear(&r);
  gchar *after = checksum_file(png);
  g_assert_cmpstr(before, ==, after);
  r = RUN("project", img, "-o", png, "--force", "--sxy", "1", "--sz", "1", "--gamma", "0.5",
          "--colormap", "magma", "--log", "--vmin", "0", "--vmax", "1");
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  png_size(png, &w, &h);
  g_assert_cmpuint(w, ==, 30 + 4 + 10);
  g_assert_cmpuint(h, ==, 20 + 4 + 10);
  r = RUN("project", img, "-o", png, "--force", "--pmin", "1", "--pmax", "99", "--colormap",
          "viridis");
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  png_size(png, &w, &h);
  g_assert_cmpuint(w, >, 0);

  g_free(before);
  g_free(after);
  g_free(png);
  g_free(img);
}

/* ---- points (NUFFT point clouds) ------------------------------------------------------------ */

/* A CSV of n random points in [0, L)^2 (columns x,y,w) and the arrays. */
static gchar *points_csv(const Fixture *f, const char *name, GRand *rng, size_t n, double *x,
                         double *y, double *w) {
  GString *s = g_string_new("x,y,w\n");
  for (size_t j = 0; j < n; j++) {
    x[j] = g_rand_double_range(rng, 0, 2 * G_PI);
    y[j] = g_rand_double_range(rng, 0, 2 * G_PI);
    w[j] = g_rand_double_range(rng, 0.5, 1.5);
    g_string_append_printf(s, "%.17g,%.17g,%.17g\n", x[j], y[j], w[j]);
  }
  gchar *p = path_in(f, name);
  g_assert_true(g_file_set_contents(p, s->str, -1, NULL));
  g_string_free(s, TRUE);
  return p;
}

/* the 'value' column (last) of an --at-points CSV */
static void read_values(const char *path, double *v, size_t n) {
  gchar *text = NULL;
  g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
  gchar **lines = g_strsplit(text, "\n", -1);
  g_assert_true(g_str_has_suffix(lines[0], ",value"));
  for (size_t i = 0; i < n; i++) {
    const char *comma = strrchr(lines[i + 1], ',');
    g_assert_nonnull(comma);
    v[i] = g_ascii_strtod(comma + 1, NULL);
  }
  g_strfreev(lines);
  g_free(text);
}

static double rel_l2_d(const double *a, const double *b, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; i++) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return sqrt(num / den);
}

static void test_points_convolve(Fixture *f, gconstpointer data) {
  GRand *rng = g_rand_new_with_seed(61);
  double x[20], y[20], w[20], v[20], ref[20];
  gchar *pts = points_csv(f, "pts.csv", rng, 20, x, y, w);
  gchar *img = path_in(f, "conv.tif"), *vals = path_in(f, "vals.csv");
  Run r = RUN("points", "convolve", pts, "-o", img, "--grid", "128,128", "--kernel",
              "gaussian:0.5", "--at-points", vals, "--eps", "1e-12");
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  read_values(vals, v, 20);
  const size_t shape[3] = {1, 128, 128};
  const double sigma[3] = {0.5, 0.5, 0.5}, period[3] = {2 * G_PI, 2 * G_PI, 2 * G_PI};
  LucyPointCloud pc = {20, x, y, NULL, w};
  g_assert_cmpint(lucy_points_direct_gaussian(shape, &pc, &pc, sigma, period, 1, ref), ==,
                  LUCY_OK);
  g_assert_cmpfloat(rel_l2_d(v, ref, 20), <, 1e-8);
  /* the image at voxel (iy, ix) is the sum at (ix, iy) * 2 pi / 128 */
  LucyVolume *vol = read_volume(img);
  g_assert_cmpuint(vol->shape[0], ==, 1);
  g_assert_cmpuint(vol->shape[1], ==, 128);
  g_assert_cmpuint(vol->shape[2], ==, 128);
  double gx[3] = {0, 2 * G_PI * 37 / 128, 2 * G_PI * 100 / 128};
  double gy[3] = {0, 2 * G_PI * 64 / 128, 2 * G_PI * 5 / 128}, gref[3];
  LucyPointCloud tg = {3, gx, gy, NULL, NULL};
  g_assert_cmpint(lucy_points_direct_gaussian(shape, &pc, &tg, sigma, period, 1, gref), ==,
                  LUCY_OK);
  g_assert_cmpfloat(fabs(vol->data[0] - gref[0]), <, 1e-5);
  g_assert_cmpfloat(fabs(vol->data[64 * 128 + 37] - gref[1]), <, 1e-5);
  g_assert_cmpfloat(fabs(vol->data[5 * 128 + 100] - gref[2]), <, 1e-5);
  lucy_volume_free(vol);
  /* no overwrite without --force; with it, fine */
  r = RUN("points", "convolve", pts, "-o", img, "--grid", "128,128", "--kernel", "gaussian:0.5");
  ASSERT_STATUS(r, 1);
  assert_contains(r.err, "--force");
  run_clear(&r);
  r = RUN("points", "convolve", pts, "-o", img, "--grid", "64,64", "--kernel", "gaussian:0.5",
          "--force", "--period", "6.283185307179586");
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  g_free(pts);
  g_free(img);
  g_free(vals);
  g_rand_free(rng);
}

/* fit a kernel from sets convolved with the periodised Gaussian, then convolve fresh points
 * with the fitted kernel file */
static void test_points_fit(Fixture *f, gconstpointer data) {
  GRand *rng = g_rand_new_with_seed(62);
  const size_t S = 100, n = 20;
  const size_t shape[3] = {1, 64, 64};
  const double sigma[3] = {0.5, 0.5, 0.5}, period[3] = {2 * G_PI, 2 * G_PI, 2 * G_PI};
  GString *s = g_string_new("set,x,y,value\n");
  for (size_t k = 0; k < S; k++) {
    double x[20], y[20], v[20];
    for (size_t j = 0; j < n; j++) {
      x[j] = g_rand_double_range(rng, 0, 2 * G_PI);
      y[j] = g_rand_double_range(rng, 0, 2 * G_PI);
    }
    LucyPointCloud pc = {n, x, y, NULL, NULL};
    g_assert_cmpint(lucy_points_direct_gaussian(shape, &pc, &pc, sigma, period, 1, v), ==,
                    LUCY_OK);
    for (size_t j = 0; j < n; j++)
      g_string_append_printf(s, "%zu,%.17g,%.17g,%.17g\n", k, x[j], y[j], v[j]);
  }
  gchar *data_csv = path_in(f, "data.csv"), *kern = path_in(f, "kernel.tif"),
        *loss = path_in(f, "loss.csv");
  g_assert_true(g_file_set_contents(data_csv, s->str, -1, NULL));
  g_string_free(s, TRUE);
  Run r = RUN("points", "fit", data_csv, "-o", kern, "--grid", "64,64", "--band", "12", "--loss",
              loss, "--iters", "80");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "loss");
  run_clear(&r);
  gchar *text = NULL;
  g_assert_true(g_file_get_contents(loss, &text, NULL, NULL));
  g_assert_true(g_str_has_prefix(text, "iteration,loss\n0,"));
  const char *last = strrchr(g_strchomp(text), '\n');
  const double final = g_ascii_strtod(strchr(last, ',') + 1, NULL);
  g_assert_cmpfloat(final, <, 1e-8);
  g_free(text);
  /* the fitted kernel peaks at the origin N//2 with value ~1 (exp(0)) */
  LucyVolume *kv = read_volume(kern);
  g_assert_cmpfloat(fabs(kv->data[32 * 64 + 32] - 1.0), <, 1e-4);
  lucy_volume_free(kv);
  double x[20], y[20], w[20], v[20], ref[20];
  gchar *pts = points_csv(f, "fresh.csv", rng, 20, x, y, w);
  gchar *img = path_in(f, "conv.tif"), *vals = path_in(f, "vals.csv");
  gchar *karg = g_strconcat("file:", kern, NULL);
  r = RUN("points", "convolve", pts, "-o", img, "--grid", "64,64", "--kernel", karg,
          "--at-points", vals);
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  read_values(vals, v, 20);
  LucyPointCloud pc = {20, x, y, NULL, w};
  g_assert_cmpint(lucy_points_direct_gaussian(shape, &pc, &pc, sigma, period, 1, ref), ==,
                  LUCY_OK);
  g_test_message("fitted kernel on fresh points: rel l2 %.3g", rel_l2_d(v, ref, 20));
  g_assert_cmpfloat(rel_l2_d(v, ref, 20), <, 1e-5);
  g_free(karg);
  g_free(pts);
  g_free(img);
  g_free(vals);
  g_free(data_csv);
  g_free(kern);
  g_free(loss);
  g_rand_free(rng);
}

static void test_points_nufft(Fixture *f, gconstpointer data) {
  /* 1-D type 1 on 3 points, 4 modes: f[k] = sum_j c_j e^{i k x_j} */
  gchar *pts = path_in(f, "p.csv"), *modes = path_in(f, "m.csv"), *out = path_in(f, "o.csv");
  g_assert_true(g_file_set_contents(pts, "x,re,im\n0.5,1,0\n-2,0.5,0.25\n7,2,-1\n", -1, NULL));
  Run r = RUN("points", "nufft", "--type", "1", pts, "-o", modes, "--modes", "4", "--eps", "1e-12");
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  gchar *text = NULL;
  g_assert_true(g_file_get_contents(modes, &text, NULL, NULL));
  gchar **lines = g_strsplit(text, "\n", -1);
  g_assert_cmpstr(lines[0], ==, "k1,re,im");
  const double xs[3] = {0.5, -2, 7}, cr[3] = {1, 0.5, 2}, ci[3] = {0, 0.25, -1};
  for (int row = 0; row < 4; row++) {
    double k, re, im;
    g_assert_cmpint(sscanf(lines[row + 1], "%lf,%lf,%lf", &k, &re, &im), ==, 3);
    g_assert_cmpfloat(k, ==, row - 2);
    double er = 0, ei = 0;
    for (int j = 0; j < 3; j++) {
      er += cr[j] * cos(k * xs[j]) - ci[j] * sin(k * xs[j]);
      ei += cr[j] * sin(k * xs[j]) + ci[j] * cos(k * xs[j]);
    }
    g_assert_cmpfloat(fabs(re - er) + fabs(im - ei), <, 1e-9);
  }
  g_strfreev(lines);
  g_free(text);
  /* type 2 from those coefficients with isign -1 at the same points */
  r = RUN("points", "nufft", "--type", "2", pts, "--coeffs", modes, "-o", out, "--modes", "4",
          "--eps", "1e-12");
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  g_assert_true(g_file_get_contents(out, &text, NULL, NULL));
  g_assert_true(g_str_has_prefix(text, "x,re,im,re,im\n0.5,1,0,"));
  g_free(text);
  /* errors */
  r = RUN("points", "nufft", pts, "-o", out, "--modes", "4");
  ASSERT_STATUS(r, 2);
  assert_one_error_line(&r);
  run_clear(&r);
  r = RUN("points", "nufft", "--type", "2", pts, "-o", out, "--modes", "4", "--force");
  ASSERT_STATUS(r, 2);
  assert_contains(r.err, "--coeffs");
  run_clear(&r);
  g_free(pts);
  g_free(modes);
  g_free(out);
}

static void test_points_errors(Fixture *f, gconstpointer data) {
  gchar *pts = path_in(f, "p.csv"), *img = path_in(f, "o.tif");
  Run r = RUN("points");
  ASSERT_STATUS(r, 2);
  run_clear(&r);
  r = RUN("points", "--help");
  ASSERT_STATUS(r, 0);
  assert_contains(r.out, "convolve");
  run_clear(&r);
  r = RUN("points", "convolve", "--help");
  ASSERT_STATUS(r, 0);
  assert_contains(r.out, "gaussian:");
  run_clear(&r);
  r = RUN("points", "frobnicate");
  ASSERT_STATUS(r, 2);
  assert_one_error_line(&r);
  run_clear(&r);
  g_assert_true(g_file_set_contents(pts, "x,y\n1,2\n3,oops\n", -1, NULL));
  r = RUN("points", "convolve", pts, "-o", img, "--grid", "16,16", "--kernel", "gaussian:0.5");
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, ":3:");
  assert_contains(r.err, "oops");
  run_clear(&r);
  g_assert_true(g_file_set_contents(pts, "x,w\n1,2\n", -1, NULL));
  r = RUN("points", "convolve", pts, "-o", img, "--grid", "16,16", "--kernel", "gaussian:0.5");
  ASSERT_STATUS(r, 1);
  assert_contains(r.err, "'y'");
  run_clear(&r);
  g_assert_true(g_file_set_contents(pts, "x,y\n1,2\n", -1, NULL));
  r = RUN("points", "convolve", pts, "-o", img, "--grid", "16,16", "--kernel", "cauchy:1");
  ASSERT_STATUS(r, 2);
  assert_one_error_line(&r);
  run_clear(&r);
  r = RUN("points", "convolve", pts, "-o", img, "--grid", "16,0", "--kernel", "gaussian:1");
  ASSERT_STATUS(r, 2);
  run_clear(&r);
  r = RUN("points", "convolve", pts, "-o", img, "--grid", "16,16", "--kernel", "gaussian:-1");
  ASSERT_STATUS(r, 2);
  run_clear(&r);
  r = RUN("points", "fit", pts, "-o", img, "--grid", "16,16");
  ASSERT_STATUS(r, 1);
  assert_contains(r.err, "set");
  run_clear(&r);
  g_assert_false(g_file_test(img, G_FILE_TEST_EXISTS));
  g_free(pts);
  g_free(img);
}

/* compare: the PNG has the layout's size; the four modes and FFT sizes are reported. */
static void test_compare_png(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *img = make_phantom(f, "obj.tif", "8,40,36", "5");
  gchar *psf = make_psf(f, "psf.tif", "7,5,5", "3,1,1");
  gchar *png = path_in(f, "cmp.png");
  Run r = RUN("compare", img, psf, "-o", png, "--scale", "2");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "circular output 8 x 40 x 36, FFT 8 x 40 x 36");
  assert_contains(r.err, "full     output 14 x 44 x 40");
  assert_contains(r.err, "valid    output 2 x 36 x 32");
  run_clear(&r);
  guint32 w, h;
  png_size(png, &w, &h);
  /* margins 8, gaps 8, label band 36: panels 36, 36, 40, 32, 36 voxels wide, 44 high, x2 */
  g_assert_cmpuint(w, ==, 8 + 2 * (36 + 36 + 40 + 32 + 36) + 4 * 8 + 8);
  g_assert_cmpuint(h, ==, 36 + 2 * 44 + 8);
  r = RUN("compare", img, psf, "-o", png);
  ASSERT_STATUS(r, 1); /* exists without --force */
  run_clear(&r);
  g_free(img);
  g_free(psf);
  g_free(png);
}

/* Whether lucy-cli sees a CUDA GPU: the planner's CUDA figures then use cuFFT's own work
 * areas, not the documented bound it uses without one. */
static gboolean have_cuda_gpu(void) {
  Run r = RUN("info", "--devices", "--json");
  ASSERT_STATUS(r, 0);
  const gboolean gpu = strstr(r.out, "\"cuda\": true") != NULL;
  run_clear(&r);
  return gpu;
}

/* lucy-cli memory: the planner's JSON (keys, exact CPU figures), tiles under a budget and their
 * work ratio, auto's refusal of tiles over the CPU work limit, the exit status when nothing
 * fits; info --devices lists the CPU and says why there is no GPU. */
static void test_memory_and_devices(void) {
  if (!have_cli())
    return;
  Run r = RUN("memory", "--op", "convolve", "--shape", "6,21,26", "--psf-shape", "3,5,4",
              "--mode", "same", "--json");
  ASSERT_STATUS(r, 0);
  for (const char *const *k = (const char *const[]){"\"peak_device_bytes\": 40320",
                                                   "\"peak_host_bytes\"", "\"padded_shape\": [7, 24, 28]",
                                                   "\"strategy\": \"in-memory\"", "\"items\"", NULL};
       *k; k++)
    assert_contains(r.out, *k);
  g_assert_cmpfloat(json_number(r.out, "tiled_work_ratio"), ==, 1.0); /* untiled */
  run_clear(&r);

  /* Tiles' FFT work over the untiled plan's: auto refuses 1600 tiles of 1x1 (24x27x27 each
   * against 24x48x48: 506.25x) and names the least budget; --strategy tiled plans them. */
  r = RUN("memory", "--op", "deconvolve", "--shape", "16,40,40", "--psf-shape", "9,9,9",
          "--free-bytes", "300000", "--json");
  ASSERT_STATUS(r, 1);
  g_assert_true(json_is_valid(r.out));
  g_assert_cmpfloat(json_number(r.out, "tiled_work_ratio"), ==, 506.25);
  assert_contains(r.out, "\"fits\": false");
  assert_contains(r.err, "over auto's CPU limit of 16x; tiles within it fit from 483840 bytes");
  run_clear(&r);
  r = RUN("memory", "--op", "deconvolve", "--shape", "16,40,40", "--psf-shape", "9,9,9",
          "--free-bytes", "300000");
  ASSERT_STATUS(r, 1);
  assert_contains(r.out, "strategy tiled (refused: see below)"); /* its peak is under the budget */
  run_clear(&r);
  r = RUN("memory", "--op", "deconvolve", "--shape", "16,40,40", "--psf-shape", "9,9,9",
          "--free-bytes", "483840");
  ASSERT_STATUS(r, 0);
  assert_contains(r.out, "tiles 5 x 5 of 9 x 9 (input block 16 x 27 x 27), FFT work 13.29 x untiled");
  run_clear(&r);
  r = RUN("memory", "--op", "deconvolve", "--shape", "16,40,40", "--psf-shape", "9,9,9",
          "--free-bytes", "300000", "--strategy", "tiled", "--json");
  ASSERT_STATUS(r, 0);
  g_assert_cmpfloat(json_number(r.out, "tiled_work_ratio"), ==, 506.25);
  assert_contains(r.out, "\"tiles\": [1, 40, 40]");
  assert_contains(r.out, "506.2x the untiled FFT work");
  run_clear(&r);

  r = RUN("memory", "--op", "deconvolve", "--shape", "128,512,512", "--psf-shape", "64,128,128",
          "--device", "cuda", "--free-bytes", "1000000000");
  ASSERT_STATUS(r, 0);
  assert_contains(r.out, "strategy tiled");
  assert_contains(r.out, "FFT work area");
  assert_contains(r.out, "untiled: in-memory ");
  run_clear(&r);
  /* The RL peaks in P: 4.45 P of buffers and staging plus the cuFFT work area, which without
   * a GPU is the documented bound of one P and with one is cuFFT's own figure, at most that. */
  r = RUN("memory", "--op", "deconvolve", "--shape", "128,512,512", "--psf-shape", "64,128,128",
          "--device", "cuda", "--free-bytes", "1000000000000");
  ASSERT_STATUS(r, 0);
  double in_p = 0, low_p = 0;
  const char *line = strstr(r.out, "untiled: in-memory ");
  g_assert_nonnull(line);
  g_assert_cmpint(sscanf(line, "untiled: in-memory %lf P, low-memory %lf P", &in_p, &low_p), ==, 2);
  if (have_cuda_gpu()) {
    g_assert_cmpfloat(in_p, >=, 4.45);
    g_assert_cmpfloat(in_p, <=, 5.45);
    g_assert_cmpfloat(low_p, <, in_p);
    g_assert_cmpfloat(low_p, <=, 5.0);
  } else {
    g_assert_cmpfloat(in_p, ==, 5.45);
    g_assert_cmpfloat(low_p, ==, 3.82);
  }
  run_clear(&r);

  /* Low-memory: the OTF as 31 of 96 planes and the weights as prefix sums, in the JSON. */
  r = RUN("memory", "--op", "deconvolve", "--shape", "64,256,256", "--psf-shape", "31,63,63",
          "--device", "cuda", "--strategy", "low-memory", "--json");
  ASSERT_STATUS(r, 0);
  g_assert_true(json_is_valid(r.out));
  for (const char *const *k = (const char *const[]){"\"strategy\": \"low-memory\"",
                                                   "\"OTF (31 of 96 z-planes)\"",
                                                   "\"weights: PSF prefix sums\"",
                                                   "\"low_memory_device_bytes\": ", NULL};
       *k; k++)
    assert_contains(r.out, *k);
  g_assert_null(strstr(r.out, "weights H^T(mask)"));
  g_assert_cmpfloat(json_number(r.out, "peak_device_bytes"), ==,
                    json_number(r.out, "low_memory_device_bytes"));
  g_assert_cmpfloat(json_number(r.out, "peak_device_P"), <=, 5.0);
  run_clear(&r);

  r = RUN("memory", "--shape", "64,512,512", "--psf-shape", "9,9,9", "--strategy", "in-memory",
          "--free-bytes", "1000000");
  ASSERT_STATUS(r, 1);
  assert_contains(r.out, "does NOT fit");
  assert_contains(r.err, "1000000 free");
  run_clear(&r);

  r = RUN("memory", "--shape", "64,512,512");
  ASSERT_STATUS(r, 2);
  assert_contains(r.err, "--psf-shape");
  run_clear(&r);

  r = RUN("info", "--devices");
  ASSERT_STATUS(r, 0);
  assert_contains(r.out, "cpu");
  assert_contains(r.out, "cuda");
  /* A CUDA build opens its device module (lucy-cuda.so, from the build tree here) on this
   * question: whatever it says about GPUs, it is not that the module is missing. */
  const gboolean cuda_built = strstr(r.out, "built without CUDA") == NULL;
  if (cuda_built) g_assert_null(strstr(r.out, "could not be opened"));
  run_clear(&r);
  /* ... and a module that is not there is a reason, not a crash; CPU work goes on without it */
  const char *const missing[] = {"LUCY_CUDA_MODULE=/nonexistent/lucy-cuda.so", NULL};
  r = run_env(missing, (const char *const[]){"info", "--devices", NULL});
  ASSERT_STATUS(r, 0);
  assert_contains(r.out, "cpu");
  if (cuda_built) assert_contains(r.out, "the CUDA module could not be opened (/nonexistent/");
  run_clear(&r);
  r = run_env(missing, (const char *const[]){"memory", "--shape", "8,16,16", "--psf-shape",
                                             "3,3,3", "--device", "cuda", NULL});
  ASSERT_STATUS(r, 0);
  run_clear(&r);
}

/* The CPU device's predicted whole-plan peaks (in-memory, low-memory) from lucy-cli memory. */
static void memory_peaks(const char *op, const char *shape, const char *psf_shape, double *in,
                         double *low) {
  Run r = RUN("memory", "--op", op, "--shape", shape, "--psf-shape", psf_shape, "--json");
  ASSERT_STATUS(r, 0);
  g_assert_true(json_is_valid(r.out));
  *in = json_number(r.out, "in_memory_device_bytes");
  *low = json_number(r.out, "low_memory_device_bytes");
  g_assert_cmpfloat(*low, >, 0.0);
  g_assert_cmpfloat(*low, <, *in);
  run_clear(&r);
}

/* Relative max difference of two TIFFs of one shape. */
static double files_rel_diff(const char *a, const char *b) {
  LucyVolume *va = read_volume(a), *vb = read_volume(b);
  for (int i = 0; i < 3; i++) g_assert_cmpuint(va->shape[i], ==, vb->shape[i]);
  double max_ref = 0.0;
  const double d = max_abs_diff(va->data, vb->data, lucy_shape_count(va->shape), &max_ref);
  g_assert_cmpfloat(max_ref, >, 0.0);
  lucy_volume_free(va);
  lucy_volume_free(vb);
  return d / max_ref;
}

/* The convolution both strategy tests use: an image and a PSF, the in-memory result, and the
 * planner's whole-plan peaks for them. */
typedef struct ConvData {
  gchar *img, *psf, *in;
  double in_bytes, low_bytes;
} ConvData;

static void conv_data(const Fixture *f, ConvData *c) {
  c->img = make_phantom(f, "cimg.tif", "16,20,24", "3"); /* decon_data has img, psf */
  c->psf = make_psf(f, "cpsf.tif", "5,7,9", "1,1.5,2");
  c->in = path_in(f, "in.tif");
  memory_peaks("convolve", "16,20,24", "5,7,9", &c->in_bytes, &c->low_bytes);
  Run r = RUN("convolve", c->img, c->psf, "-o", c->in, "--strategy", "in-memory");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "(strategy in-memory)");
  run_clear(&r);
}

static void conv_data_clear(ConvData *c) {
  g_free(c->img);
  g_free(c->psf);
  g_free(c->in);
}

/* --strategy and --memory-limit of convolve and deconvolve: low-memory gives in-memory's result
 * to float precision and auto switches to it exactly at the budget lucy-cli memory predicts. */
static void test_plan_strategies(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  ConvData c;
  conv_data(f, &c);
  const char *img = c.img, *psf = c.psf, *in = c.in;
  double in_bytes = c.in_bytes, low_bytes = c.low_bytes;
  gchar *low = path_in(f, "low.tif"), *lim = path_in(f, "lim.tif");
  char limit[32];

  Run r = RUN("convolve", img, psf, "-o", low, "--strategy", "low-memory");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "(strategy low-memory)");
  run_clear(&r);
  g_assert_cmpfloat(files_rel_diff(low, in), <=, 1e-5);
  snprintf(limit, sizeof limit, "%.0f", in_bytes - 1); /* in-memory misses by one byte */
  r = RUN("convolve", img, psf, "-o", lim, "--memory-limit", limit);
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "(strategy low-memory)");
  run_clear(&r);
  g_assert_cmpfloat(files_rel_diff(lim, in), <=, 1e-5);
  snprintf(limit, sizeof limit, "%.0f", in_bytes);
  r = RUN("convolve", img, psf, "-o", lim, "--memory-limit", limit, "--force");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "(strategy in-memory)");
  run_clear(&r);

  /* lucy-cli memory agrees: that budget plans low-memory. */
  snprintf(limit, sizeof limit, "%.0f", low_bytes);
  r = RUN("memory", "--shape", "16,20,24", "--psf-shape", "5,7,9", "--free-bytes", limit,
          "--json");
  ASSERT_STATUS(r, 0);
  assert_contains(r.out, "\"strategy\": \"low-memory\"");
  run_clear(&r);

  DeconData d;
  decon_data(f, &d);
  memory_peaks("deconvolve", "16,40,40", "7,9,9", &in_bytes, &low_bytes);
  gchar *din = path_in(f, "din.tif"), *dlow = path_in(f, "dlow.tif"), *dlim = path_in(f, "dlim.tif");
  r = RUN("deconvolve", d.img, d.psf, "-o", din, "--iterations", "20", "--strategy", "in-memory");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "(strategy in-memory)");
  run_clear(&r);
  r = RUN("deconvolve", d.img, d.psf, "-o", dlow, "--iterations", "20", "--strategy",
          "low-memory");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "(strategy low-memory)");
  run_clear(&r);
  const double dd = files_rel_diff(dlow, din);
  g_test_message("deconvolve low-memory vs in-memory, 20 iterations: %.3g", dd);
  g_assert_cmpfloat(dd, <=, 1e-4);
  snprintf(limit, sizeof limit, "%.0f", low_bytes);
  r = RUN("deconvolve", d.img, d.psf, "-o", dlim, "--iterations", "20", "--memory-limit", limit);
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "(strategy low-memory)");
  run_clear(&r);
  g_assert_cmpfloat(files_rel_diff(dlim, dlow), ==, 0.0); /* the same plan, the same numbers */

  r = RUN("convolve", img, psf, "-o", lim, "--force", "--strategy", "huge");
  ASSERT_STATUS(r, 2);
  assert_one_error_line(&r);
  assert_contains(r.err, "'huge' is not one of auto, in-memory, low-memory, tiled, cpu");
  run_clear(&r);
  r = RUN("deconvolve", d.img, d.psf, "-o", dlim, "--iterations", "2", "--memory-limit", "lots");
  ASSERT_STATUS(r, 2);
  assert_contains(r.err, "--memory-limit");
  run_clear(&r);
  decon_data_clear(&d);
  g_free(din);
  g_free(dlow);
  g_free(dlim);
  g_free(low);
  g_free(lim);
  conv_data_clear(&c);
}

/* Reads two TIFFs of one shape; returns ||s a - b|| / ||b|| with the least-squares scale s. */
static double files_scaled_error(const char *a, const char *b) {
  LucyVolume *va = read_volume(a), *vb = read_volume(b);
  for (int i = 0; i < 3; i++) g_assert_cmpuint(va->shape[i], ==, vb->shape[i]);
  const double e = scaled_error(va->data, vb->data, lucy_shape_count(va->shape));
  lucy_volume_free(va);
  lucy_volume_free(vb);
  return e;
}

/* Tiles and the CPU: auto under a budget only tiles meet switches to them (convolution equal to
 * the untiled result to float precision, deconvolution within a few percent), --strategy tiled
 * and --tile force them, cpu is in-memory on the CPU device, a forced strategy is held to the
 * budget, a budget nothing fits fails with the numbers and leaves no file, and Ctrl-C during
 * the tiles leaves no file either. */
static void test_tiled_strategies(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  ConvData c;
  conv_data(f, &c);
  const char *img = c.img, *psf = c.psf, *in = c.in;
  double in_bytes = c.in_bytes, low_bytes = c.low_bytes;
  gchar *tiled = path_in(f, "tiled.tif"), *out = path_in(f, "o.tif");
  char limit[32];

  /* Tiled runs use one thread (-j 1): many small FFTs on threads that spin-wait for each other
   * (the CPU device's OpenMP) ran up to 1000 times slower on this shared 2-core machine under
   * load (25 RL tiles: 392 s on 2 threads, 0.43 s on one). */
  /* One byte below low-memory's peak: 2 x 2 tiles, with progress per tile. */
  snprintf(limit, sizeof limit, "%.0f", low_bytes - 1);
  Run r = run_env((const char *const[]){"LUCY_CLI_PROGRESS_DELAY=0", NULL},
              (const char *const[]){"convolve", img, psf, "-o", tiled, "--memory-limit", limit,
                                    "-j", "1", NULL});
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "one plan does not fit the budget");
  assert_contains(r.err, "switching to the tiled strategy");
  assert_contains(r.err, "strategy tiled: 4 tiles (2 x 2) of 12 x 12 (y, x)");
  assert_contains(r.err, "predicted peak");
  assert_contains(r.err, "output shape 16 x 20 x 24");
  GRegex *re = g_regex_new("^convolve: tile [1-4]/4 [0-9]{1,3}%$", G_REGEX_MULTILINE, 0, NULL);
  if (!g_regex_match(re, r.err, 0, NULL))
    g_printerr("no tile progress line in: %s\\n", r.err);
  g_assert_true(g_regex_match(re, r.err, 0, NULL));
  g_regex_unref(re);
  run_clear(&r);
  double e = files_rel_diff(tiled, in);
  g_test_message("convolve auto-tiled (2 x 2) vs untiled: %.3g of the maximum", e);
  g_assert_cmpfloat(e, <=, 1e-5);

  r = RUN("convolve", img, psf, "-o", tiled, "--force", "--strategy", "tiled", "--tile", "5,6",
          "-j", "1");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "strategy tiled: 16 tiles (4 x 4) of 5 x 6 (y, x)");
  g_assert_null(strstr(r.err, "switching"));
  run_clear(&r);
  e = files_rel_diff(tiled, in);
  g_test_message("convolve --strategy tiled --tile 5,6 vs untiled: %.3g of the maximum", e);
  g_assert_cmpfloat(e, <=, 1e-5);
  /* --tile alone asks for those tiles (auto ran in memory and ignored it) */
  r = RUN("convolve", img, psf, "-o", tiled, "--force", "--tile", "5,6", "-j", "1");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "strategy tiled: 16 tiles (4 x 4) of 5 x 6 (y, x)");
  run_clear(&r);

  /* cpu: lucy-cli is on the CPU device already, so it is the in-memory plan. */
  r = RUN("convolve", img, psf, "-o", out, "--strategy", "cpu");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "strategy cpu");
  assert_contains(r.err, "(strategy in-memory)");
  run_clear(&r);
  g_assert_cmpfloat(files_rel_diff(out, in), ==, 0.0);
  g_assert_cmpint(g_remove(out), ==, 0);

  /* Held to the budget: a forced strategy that misses it, and a budget nothing fits. */
  gchar *before = dir_listing(f->dir);
  snprintf(limit, sizeof limit, "%.0f", in_bytes - 1);
  r = RUN("convolve", img, psf, "-o", out, "--strategy", "in-memory", "--memory-limit", limit);
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "in-memory needs");
  assert_contains(r.err, "free");
  assert_contains(r.err, "the low-memory strategy would fit");
  run_clear(&r);
  r = RUN("convolve", img, psf, "-o", out, "--memory-limit", "1000");
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "1000 free");
  assert_contains(r.err, "no strategy fits");
  run_clear(&r);
  /* Ctrl-C between tiles. */
  r = run_env((const char *const[]){"LUCY_CLI_TEST_SIGINT=1", NULL},
              (const char *const[]){"convolve", img, psf, "-o", out, "--strategy", "tiled",
                                    "--tile", "5,6", NULL});
  ASSERT_STATUS(r, 130);
  assert_contains(r.err, "cancelled");
  run_clear(&r);
  gchar *after = dir_listing(f->dir);
  g_assert_cmpstr(before, ==, after);
  g_free(after);

  const char *const bad_tiles[][2] = {{"0,5", "'0' is out of range"},
                                      {"5", "expected 2"},
                                      {"5,x", "not a non-negative integer"},
                                      {"5,-2", "negative"}};
  for (size_t i = 0; i < G_N_ELEMENTS(bad_tiles); i++) {
    r = RUN("convolve", img, psf, "-o", out, "--strategy", "tiled", "--tile", bad_tiles[i][0]);
    ASSERT_STATUS(r, 2);
    assert_one_error_line(&r);
    assert_contains(r.err, "--tile");
    assert_contains(r.err, bad_tiles[i][1]);
    run_clear(&r);
  }
  r = RUN("convolve", img, psf, "-o", out, "--strategy", "low-memory", "--tile", "8,8");
  ASSERT_STATUS(r, 2);
  assert_contains(r.err, "--tile applies only to --strategy tiled or auto");
  run_clear(&r);

  /* Deconvolution: tiles restored on their own and blended. */
  DeconData d;
  decon_data(f, &d);
  memory_peaks("deconvolve", "16,40,40", "7,9,9", &in_bytes, &low_bytes);
  gchar *din = path_in(f, "din.tif"), *dtiled = path_in(f, "dtiled.tif");
  r = RUN("deconvolve", d.img, d.psf, "-o", din, "--iterations", "20");
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  snprintf(limit, sizeof limit, "%.0f", low_bytes - 1);
  r = RUN("deconvolve", d.img, d.psf, "-o", dtiled, "--iterations", "20", "--memory-limit",
          limit, "-j", "1");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "switching to the tiled strategy");
  assert_contains(r.err, "strategy tiled: 25 tiles (5 x 5) of 9 x 9 (y, x)");
  assert_contains(r.err, "(13.29x the untiled FFT work)");
  assert_contains(r.err, "no per-iteration lines when tiled");
  assert_contains(r.err, "25 tiles of 20 iterations");
  g_assert_null(strstr(r.err, "iteration 1/20"));
  run_clear(&r);
  e = files_scaled_error(dtiled, din);
  double m = files_rel_diff(dtiled, din);
  g_test_message("deconvolve auto-tiled (5 x 5 tiles of 9 x 9), 20 RL iterations vs untiled: "
                 "%.3g relative L2 after scaling, %.3g of the maximum", e, m);
  g_assert_cmpfloat(e, <, 0.05);
  r = RUN("deconvolve", d.img, d.psf, "-o", dtiled, "--iterations", "20", "--force",
          "--strategy", "tiled", "--tile", "20,20", "-j", "1");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "strategy tiled: 4 tiles (2 x 2) of 20 x 20 (y, x)");
  run_clear(&r);
  e = files_scaled_error(dtiled, din);
  m = files_rel_diff(dtiled, din);
  g_test_message("deconvolve --strategy tiled --tile 20,20, 20 RL iterations vs untiled: "
                 "%.3g relative L2 after scaling, %.3g of the maximum", e, m);
  g_assert_cmpfloat(e, <, 0.05);
  r = RUN("deconvolve", d.img, d.psf, "-o", out, "--iterations", "20", "--strategy", "cpu");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "(strategy in-memory)");
  run_clear(&r);
  g_assert_cmpfloat(files_rel_diff(out, din), ==, 0.0);
  g_assert_cmpint(g_remove(out), ==, 0);
  g_free(before);
  before = dir_listing(f->dir);
  r = RUN("deconvolve", d.img, d.psf, "-o", out, "--iterations", "20", "--memory-limit", "1000");
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "1000 free");
  run_clear(&r);
  /* Tiles that fit only far over the CPU work limit: refused, with the budget that would do. */
  r = RUN("deconvolve", d.img, d.psf, "-o", out, "--iterations", "20", "--memory-limit",
          "300000");
  ASSERT_STATUS(r, 1);
  assert_one_error_line(&r);
  assert_contains(r.err, "300000 bytes allow only 40x40 tiles of 1x1");
  assert_contains(r.err, "tiles within it fit from");
  assert_contains(r.err, "--strategy tiled or --tile Y,X forces tiles");
  run_clear(&r);
  r = run_env((const char *const[]){"LUCY_CLI_TEST_SIGINT=1", NULL},
              (const char *const[]){"deconvolve", d.img, d.psf, "-o", out, "--iterations", "20",
                                    "--strategy", "tiled", "--tile", "20,20", NULL});
  ASSERT_STATUS(r, 130);
  assert_contains(r.err, "cancelled");
  run_clear(&r);
  r = RUN("deconvolve", d.img, d.psf, "-o", out, "--iterations", "2", "--tile", "0,5");
  ASSERT_STATUS(r, 2);
  assert_contains(r.err, "--tile");
  run_clear(&r);
  after = dir_listing(f->dir);
  g_assert_cmpstr(before, ==, after);
  g_free(after);
  g_free(before);
  decon_data_clear(&d);
  g_free(din);
  g_free(dtiled);
  g_free(tiled);
  g_free(out);
  conv_data_clear(&c);
}

/* ---- voxel sizes, hyperstack notes, option checks ---------------------------------------- */

static void put16(GByteArray *b, guint16 v) { g_byte_array_append(b, (const guint8 *)&v, 2); }
static void put32(GByteArray *b, guint32 v) { g_byte_array_append(b, (const guint8 *)&v, 4); }

static void ifd_entry(GByteArray *b, guint16 tag, guint16 type, guint32 count, guint32 value) {
  put16(b, tag);
  put16(b, type);
  put32(b, count);
  put32(b, value);
}

/* A plain little-endian float32 TIFF of `pages` pages of ny x nx with no resolution tags: what
 * a camera or a script writes without calibration. data: the voxels, or NULL for page p
 * holding the value p + 1 at its centre and 0.5 elsewhere. desc, when given, is the
 * ImageDescription (an ImageJ hyperstack). */
static void write_raw_tiff(const char *path, guint32 pages, guint32 ny, guint32 nx,
                           const float *data, const char *desc) {
  g_assert_cmpuint(G_BYTE_ORDER, ==, G_LITTLE_ENDIAN);
  GByteArray *b = g_byte_array_new();
  const guint32 page_bytes = ny * nx * 4, desc_len = desc ? (guint32)strlen(desc) + 1 : 0;
  g_byte_array_append(b, (const guint8 *)"II", 2);
  put16(b, 42);
  put32(b, 8 + pages * page_bytes + desc_len); /* the first IFD, after data and description */
  for (guint32 p = 0; p < pages; p++)
    for (guint32 i = 0; i < ny * nx; i++) {
      float v = data ? data[(gsize)p * ny * nx + i]
                     : i == (ny / 2) * nx + nx / 2 ? (float)(p + 1) : 0.5f;
      g_byte_array_append(b, (const guint8 *)&v, 4);
    }
  if (desc)
    g_byte_array_append(b, (const guint8 *)desc, desc_len);
  const guint16 n_entries = desc ? 11 : 10;
  for (guint32 p = 0; p < pages; p++) {
    const guint32 next = p + 1 < pages ? (guint32)b->len + 2 + 12u * n_entries + 4 : 0;
    put16(b, n_entries);
    ifd_entry(b, 256, 4, 1, nx);
    ifd_entry(b, 257, 4, 1, ny);
    ifd_entry(b, 258, 3, 1, 32);
    ifd_entry(b, 259, 3, 1, 1);
    ifd_entry(b, 262, 3, 1, 1);
    if (desc)
      ifd_entry(b, 270, 2, desc_len, 8 + pages * page_bytes);
    ifd_entry(b, 273, 4, 1, 8 + p * page_bytes);
    ifd_entry(b, 277, 3, 1, 1);
    ifd_entry(b, 278, 4, 1, ny);
    ifd_entry(b, 279, 4, 1, page_bytes);
    ifd_entry(b, 339, 3, 1, 3);
    put32(b, next);
  }
  g_assert_true(g_file_set_contents(path, (const gchar *)b->data, b->len, NULL));
  g_byte_array_free(b, TRUE);
}

static void assert_voxel(const char *path, double z, double y, double x) {
  gchar *json = info_json(path);
  double v[3];
  json_array(json, "voxel_size_um", v, 3);
  g_assert_cmpfloat_with_epsilon(v[0], z, 1e-6);
  g_assert_cmpfloat_with_epsilon(v[1], y, 1e-6);
  g_assert_cmpfloat_with_epsilon(v[2], x, 1e-6);
  g_free(json);
}

/* info --json's voxel_source for path (with --voxel v unless NULL) is want. */
static void assert_voxel_source(const char *path, const char *v, const char *want) {
  Run r = v ? RUN("info", path, "--json", "--voxel", v) : RUN("info", path, "--json");
  ASSERT_STATUS(r, 0);
  gchar *source = json_string_value(r.out, "voxel_source");
  g_assert_cmpstr(source, ==, want);
  g_free(source);
  run_clear(&r);
}

/* --voxel (and --psf-voxel) replace a file's voxel size: silently for an uncalibrated file,
 * with one line saying both for a calibrated one; outputs carry it; the warnings about
 * missing or different voxel sizes name the options. */
static void test_voxel_override(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *raw = path_in(f, "raw.tif"), *out = path_in(f, "out.tif");
  write_raw_tiff(raw, 6, 16, 20, NULL, NULL);
  gchar *json = info_json(raw);
  gchar *cal = json_string_value(json, "calibration");
  g_assert_cmpstr(cal, ==, "none");
  g_free(cal);
  g_free(json);

  Run r = RUN("info", raw, "--voxel", "0.2,0.05,0.05", "--json");
  ASSERT_STATUS(r, 0);
  g_assert_true(json_is_valid(r.out));
  double v[3];
  json_array(r.out, "voxel_size_um", v, 3);
  g_assert_cmpfloat_with_epsilon(v[0], 0.2, 1e-12);
  g_assert_cmpfloat_with_epsilon(v[2], 0.05, 1e-12);
  g_assert_cmpstr(r.err, ==, ""); /* the file had none: nothing to say */
  run_clear(&r);
  r = RUN("info", raw, "--voxel", "0.2,0.05,0.05");
  ASSERT_STATUS(r, 0);
  assert_contains(r.out, "0.2 x 0.05 x 0.05 um");
  assert_contains(r.out, "--voxel");
  run_clear(&r);

  /* ImageJ without a length unit (tifffile's default) or with unit=pixel: uncalibrated too */
  static const char *const ij[] = {"ImageJ=1.11a\nimages=6\nslices=6\n",
                                   "ImageJ=1.11a\nimages=6\nslices=6\nunit=pixel\n"};
  for (gsize i = 0; i < G_N_ELEMENTS(ij); i++) {
    write_raw_tiff(raw, 6, 16, 20, NULL, ij[i]);
    r = RUN("info", raw, "--voxel", "0.2,0.05,0.05");
    ASSERT_STATUS(r, 0);
    assert_contains(r.out, "from --voxel (the file has no calibration)");
    g_assert_cmpstr(r.err, ==, "");
    run_clear(&r);
  }
  assert_voxel_source(raw, NULL, "assumed");
  assert_voxel_source(raw, "1,2,2", "--voxel");

  /* A calibrated file: the override wins, and one line says both. */
  gchar *img = make_phantom(f, "img.tif", "8,16,16", "5"); /* 0.3 x 0.1 x 0.1 um */
  assert_voxel_source(img, NULL, "file");
  r = RUN("info", img, "--voxel", "0.25,0.1,0.1", "--json");
  ASSERT_STATUS(r, 0);
  json_array(r.out, "voxel_size_um", v, 3);
  g_assert_cmpfloat_with_epsilon(v[0], 0.25, 1e-12);
  g_assert_cmpuint(count_lines(r.err), ==, 1);
  assert_contains(r.err, "--voxel 0.25 x 0.1 x 0.1 um");
  assert_contains(r.err, "0.3 x 0.1 x 0.1 um");
  run_clear(&r);
  r = RUN("info", img, "--voxel", "0.3,0.1,0.1"); /* the same: nothing to say */
  ASSERT_STATUS(r, 0);
  g_assert_cmpstr(r.err, ==, "");
  run_clear(&r);

  /* convolve and deconvolve: the image's override travels to the output; the PSF's own. */
  gchar *psf = path_in(f, "psf.tif");
  write_raw_tiff(psf, 3, 5, 5, NULL, NULL);
  r = RUN("convolve", raw, psf, "-o", out, "--voxel", "0.2,0.05,0.05", "--psf-voxel",
          "0.2,0.05,0.05");
  ASSERT_STATUS(r, 0);
  g_assert_null(strstr(r.err, "voxels are")); /* sizes agree */
  run_clear(&r);
  assert_voxel(out, 0.2, 0.05, 0.05);
  r = RUN("convolve", raw, psf, "-o", out, "--force", "--voxel", "0.2,0.05,0.05");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "warning: the image's voxels are 0.2 x 0.05 x 0.05 um and the PSF's 1 x 1 x 1");
  assert_contains(r.err, "--psf-voxel");
  run_clear(&r);
  r = RUN("deconvolve", raw, psf, "-o", out, "--force", "-n", "2", "--voxel", "0.4,0.1,0.1",
          "--psf-voxel", "0.4,0.1,0.1");
  ASSERT_STATUS(r, 0);
  g_assert_null(strstr(r.err, "voxels are")); /* sizes agree */
  run_clear(&r);
  assert_voxel(out, 0.4, 0.1, 0.1);
  r = RUN("deconvolve", img, psf, "-o", out, "--force", "-n", "1", "--psf-voxel",
          "0.3,0.1,0.1", "--voxel", "0.3,0.2,0.2");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "deconvolve: image '");
  assert_contains(r.err, "--voxel 0.3 x 0.2 x 0.2 um");
  assert_contains(r.err, "warning: the image's voxels are 0.3 x 0.2 x 0.2 um and the PSF's 0.3 x 0.1");
  run_clear(&r);

  /* project: the figure's ZY panel is as wide as the override's depth (6 planes x 2 / 0.5). */
  gchar *png = path_in(f, "fig.png");
  r = RUN("project", raw, "-o", png, "--sxy", "1", "--voxel", "2,0.5,0.5");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "(48 x 44 px)"); /* 20 + 4 + 6 * 4 wide, 16 + 4 + 24 high */
  run_clear(&r);

  /* psf measure: without a voxel size, the warning points at --voxel; with it, widths in um. */
  float gauss[9 * 15 * 15];
  for (int z = 0; z < 9; z++)
    for (int y = 0; y < 15; y++)
      for (int x = 0; x < 15; x++)
        gauss[(z * 15 + y) * 15 + x] =
            (float)exp(-0.5 * ((z - 4) * (z - 4) / 4.0 + ((y - 7) * (y - 7) + (x - 7) * (x - 7)) / 2.25));
  gchar *rawpsf = path_in(f, "rawpsf.tif");
  write_raw_tiff(rawpsf, 9, 15, 15, gauss, NULL);
  r = RUN("psf", "measure", rawpsf, "--json");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "carries no voxel size");
  assert_contains(r.err, "--voxel Z,Y,X");
  const double fwhm_px = json_number(json_find(r.out, "fwhm_um"), "x"); /* 1 um voxels */
  run_clear(&r);
  r = RUN("psf", "measure", rawpsf, "--json", "--voxel", "0.5,0.25,0.25");
  ASSERT_STATUS(r, 0);
  g_assert_null(strstr(r.err, "no voxel size"));
  json_array(r.out, "voxel_um", v, 3);
  g_assert_cmpfloat_with_epsilon(v[1], 0.25, 1e-12);
  g_assert_cmpfloat_with_epsilon(json_number(json_find(r.out, "fwhm_um"), "x"), 0.25 * fwhm_px,
                                 1e-6);
  run_clear(&r);
  r = RUN("psf", "fix", rawpsf, "-o", out, "--force", "--normalize", "--voxel", "0.5,0.25,0.25");
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  assert_voxel(out, 0.5, 0.25, 0.25);

  /* Malformed sizes are usage errors that name the option. */
  static const char *const bad[] = {"0,1,1", "1,1", "nan,1,1", "-1,1,1", "1,x,1", "1,1,inf",
                                    /* outside what the app accepts (0.1 nm to 1 cm) and what a
                                     * TIFF's resolution tags keep: written, y and x came back 1 */
                                    "1e-9,1,1", "1,1e308,1e308", "1,1e-320,1e-320"};
  for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
    r = RUN("convolve", raw, psf, "-o", out, "--force", "--psf-voxel", bad[i]);
    ASSERT_STATUS(r, 2);
    assert_one_error_line(&r);
    assert_contains(r.err, "--psf-voxel");
    run_clear(&r);
    r = RUN("info", raw, "--voxel", bad[i]);
    ASSERT_STATUS(r, 2);
    assert_one_error_line(&r);
    assert_contains(r.err, "--voxel: ");
    if (strchr(bad[i], 'e') && !strstr(bad[i], "inf"))
      assert_contains(r.err, "0.1 nm to 1 cm");
    run_clear(&r);
    r = RUN("phantom", "-o", out, "--force", "--shape", "2,8,8", "--spheres", "1", "--voxel",
            bad[i]);
    ASSERT_STATUS(r, 2);
    assert_one_error_line(&r);
    assert_contains(r.err, "--voxel: ");
    run_clear(&r);
  }
  /* the limits themselves are voxel sizes, and outputs keep them */
  r = RUN("convolve", raw, psf, "-o", out, "--force", "--voxel", "1e-4,1e4,1e-4", "--psf-voxel",
          "1e-4,1e4,1e-4");
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  gchar *limits = info_json(out);
  double lim[3];
  json_array(limits, "voxel_size_um", lim, 3);
  g_assert_cmpfloat_with_epsilon(lim[0] / 1e-4, 1, 1e-6);
  g_assert_cmpfloat_with_epsilon(lim[1] / 1e4, 1, 1e-6);
  g_assert_cmpfloat_with_epsilon(lim[2] / 1e-4, 1, 1e-6);
  g_free(limits);
  for (const char *const *c = (const char *const[]){"info", "convolve", "deconvolve", "project",
                                                   NULL}; *c; c++) {
    r = RUN(*c, "--help");
    assert_contains(r.out, "--voxel Z,Y,X");
    if (g_str_has_suffix(*c, "volve"))
      assert_contains(r.out, "--psf-voxel Z,Y,X");
    run_clear(&r);
  }
  r = RUN("psf", "measure", "--help");
  assert_contains(r.out, "--voxel Z,Y,X");
  run_clear(&r);
  g_free(rawpsf);
  g_free(png);
  g_free(psf);
  g_free(img);
  g_free(raw);
  g_free(out);
}

/* The reader says what it read from a hyperstack; each command adds its own hint: info and
 * an image name --channel and --frame, a PSF --psf-channel and --psf-frame. */
static void test_hyperstack_notes(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *hyper = path_in(f, "hyper.tif"), *psf = path_in(f, "psf.tif"),
        *out = path_in(f, "out.tif");
  write_raw_tiff(hyper, 6, 12, 12, NULL,
                 "ImageJ=1.53t\nimages=6\nchannels=2\nslices=3\nhyperstack=true\n");
  write_raw_tiff(psf, 1, 3, 3, NULL, NULL);
  const char *note = "file has 2 channels and 1 frame; read channel 0, frame 0";
  gchar *json = info_json(hyper);
  gchar *jnote = json_string_value(json, "note");
  g_assert_cmpstr(jnote, ==, note);
  g_free(jnote);
  g_free(json);
  Run r = RUN("info", hyper);
  ASSERT_STATUS(r, 0);
  assert_contains(r.out, note);
  assert_contains(r.out, "choose with --channel, --frame");
  run_clear(&r);

  r = RUN("convolve", hyper, psf, "-o", out);
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "convolve: image '");
  assert_contains(r.err, "read channel 0, frame 0 (choose with --channel, --frame)\n");
  run_clear(&r);
  r = RUN("deconvolve", psf, hyper, "-o", out, "--force", "-n", "1", "--boundary",
          "noncirculant");
  assert_contains(r.err, "deconvolve: PSF '");
  assert_contains(r.err, "read channel 0, frame 0 (choose with --psf-channel, --psf-frame)\n");
  g_assert_null(strstr(r.err, "--channel"));
  run_clear(&r);
  g_free(hyper);
  g_free(psf);
  g_free(out);
}

/* A PSF per channel: --psf-channel and --psf-frame pick the PSF's plane set, and a PSF with as
 * many channels as the image, read at channel 0 for another image channel, says which to give. */
static void test_psf_channel(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *hyper = path_in(f, "hyper.tif"), *psf = path_in(f, "psf.tif"),
        *out = path_in(f, "out.tif");
  write_raw_tiff(hyper, 6, 12, 12, NULL,
                 "ImageJ=1.53t\nimages=6\nchannels=2\nslices=3\nhyperstack=true\n");
  /* channel 0: sum 8 x 0.5 + 1 = 5; channel 1: 8 x 0.5 + 2 = 6 */
  write_raw_tiff(psf, 2, 3, 3, NULL, "ImageJ=1.53t\nimages=2\nchannels=2\nhyperstack=true\n");
  Run r = RUN("convolve", hyper, psf, "-o", out, "--channel", "1");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "convolve: PSF sum 5;");
  assert_contains(r.err, "read channel 0, frame 0 (the PSF has as many channels as the image: "
                         "for the image's channel 1 give --psf-channel 1)\n");
  run_clear(&r);
  r = RUN("convolve", hyper, psf, "-o", out, "--force", "--channel", "1", "--psf-channel", "1");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "convolve: PSF sum 6;");
  assert_contains(r.err, "read channel 1, frame 0 (choose with --psf-channel, --psf-frame)\n");
  run_clear(&r);
  r = RUN("deconvolve", hyper, psf, "-o", out, "--force", "-n", "1", "--psf-channel", "1",
          "--psf-frame", "0");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "deconvolve: PSF sum 6;");
  run_clear(&r);
  r = RUN("deconvolve", hyper, psf, "-o", out, "--force", "-n", "1", "--psf-channel", "2");
  ASSERT_STATUS(r, 1);
  assert_contains(r.err, "channel 2 is out of range: the file has 2 channels");
  run_clear(&r);
  g_free(hyper);
  g_free(psf);
  g_free(out);
}

/* project shows any channel and frame of a hyperstack, chosen as in the other commands. */
static void test_project_channel(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *hyper = path_in(f, "hyper.tif"), *png = path_in(f, "hyper.png");
  write_raw_tiff(hyper, 12, 12, 12, NULL, "ImageJ=1.53t\nimages=12\nchannels=2\nslices=3\n"
                 "frames=2\nhyperstack=true\n");
  Run r = RUN("project", hyper, "-o", png, "--channel", "1", "--frame", "1");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "file has 2 channels and 2 frames; read channel 1, frame 1 (choose with "
                         "--channel, --frame)\n");
  run_clear(&r);
  r = RUN("project", hyper, "-o", png, "--force", "--frame", "2");
  ASSERT_STATUS(r, 1);
  assert_contains(r.err, "frame 2 is out of range: the file has 2 frames");
  run_clear(&r);
  r = RUN("project", hyper, "-o", png, "--force", "--channel", "x");
  ASSERT_STATUS(r, 2);
  run_clear(&r);
  g_free(hyper);
  g_free(png);
}

/* lucy-cli memory refuses options that do not apply to the operation it plans. */
static void test_memory_refusals(void) {
  if (!have_cli())
    return;
  static const UsageCase cases[] = {
    {{"memory", "--shape", "8,8,8", "--psf-shape", "3,3,3", "--method", "rltv"},
     "--method applies only to --op deconvolve"},
    {{"memory", "--shape", "8,8,8", "--psf-shape", "3,3,3", "--op", "convolve", "--boundary",
      "circular"},
     "--boundary applies only to --op deconvolve"},
    {{"memory", "--shape", "8,8,8", "--psf-shape", "3,3,3", "--accelerate"},
     "--accelerate applies only to --op deconvolve"},
    {{"memory", "--mode", "full", "--op", "deconvolve", "--shape", "8,8,8", "--psf-shape",
      "3,3,3"},
     "--mode applies only to --op convolve"},
    {{"memory", "--op", "deconvolve", "--shape", "8,8,8", "--psf-shape", "3,3,3", "--method",
      "wiener", "--accelerate"},
     "--accelerate does not apply to --method wiener"},
    {{"memory", "--shape", "8,8,8", "--psf-shape", "3,3,3", "--tile", "4,4", "--strategy",
      "in-memory"},
     "--tile applies only to --strategy tiled or auto"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    Run r = run_v(cases[i].args);
    ASSERT_STATUS(r, 2);
    assert_one_error_line(&r);
    assert_contains(r.err, cases[i].says);
    g_assert_cmpstr(r.out, ==, "");
    run_clear(&r);
  }
  /* --tile asks for tiles, as it does in convolve and deconvolve */
  Run r = RUN("memory", "--shape", "8,16,16", "--psf-shape", "3,3,3", "--tile", "8,8");
  ASSERT_STATUS(r, 0);
  assert_contains(r.out, "strategy tiled");
  assert_contains(r.out, "tiles 2 x 2 of 8 x 8");
  run_clear(&r);
}

/* --threads far above the online cores is a warning (once, one line), not an error. */
/* The CPUs this process may run on (its affinity, as taskset or a container's cpuset set it),
 * which need not be all the online cores. */
static long usable_cpus(void) {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) != 0)
    return sysconf(_SC_NPROCESSORS_ONLN);
  return CPU_COUNT(&set);
}

static void assert_threads_warning(const char *img, const char *psf, const char *out,
                                   const char *threads) {
  const long cpus = usable_cpus();
  gchar *want = g_strdup_printf("warning: --threads %s exceeds the %ld CPU%s this process may "
                                "run on", threads, cpus, cpus == 1 ? "" : "s");
  gchar *suggest = g_strdup_printf("--threads %ld or fewer", cpus);
  Run r = RUN("convolve", img, psf, "-o", out, "--force", "--threads", threads);
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, want);
  assert_contains(r.err, suggest);
  g_assert_null(strstr(strstr(r.err, want) + strlen(want), "may run on")); /* once */
  run_clear(&r);
  r = RUN("deconvolve", img, psf, "-o", out, "--force", "-n", "1", "-j", threads);
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, want);
  run_clear(&r);
  g_free(want);
  g_free(suggest);
}

static void test_threads_warning(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *img = make_phantom(f, "img.tif", "4,12,12", "1");
  gchar *psf = make_psf(f, "psf.tif", "3,3,3", "1,1,1");
  gchar *out = path_in(f, "out.tif");
  assert_threads_warning(img, psf, out, "4096");
  Run r = RUN("convolve", img, psf, "-o", out, "--force", "--threads", "1");
  ASSERT_STATUS(r, 0);
  g_assert_null(strstr(r.err, "may run on"));
  run_clear(&r);
  /* pinned to one CPU (children inherit the affinity): 2 threads are too many, however many
   * cores are online */
  cpu_set_t saved, one;
  g_assert_cmpint(sched_getaffinity(0, sizeof saved, &saved), ==, 0);
  CPU_ZERO(&one);
  for (int c = 0; c < CPU_SETSIZE; c++)
    if (CPU_ISSET(c, &saved)) {
      CPU_SET(c, &one);
      break;
    }
  g_assert_cmpint(sched_setaffinity(0, sizeof one, &one), ==, 0);
  assert_threads_warning(img, psf, out, "2");
  r = RUN("info", "--devices"); /* the default counts the same CPUs */
  ASSERT_STATUS(r, 0);
  assert_contains(r.out, "cpu (1 thread)");
  run_clear(&r);
  g_assert_cmpint(sched_setaffinity(0, sizeof saved, &saved), ==, 0);
  g_free(img);
  g_free(psf);
  g_free(out);
}

/* project and compare write PNG figures: a .tif (or any other) name is refused before any
 * work, and nothing is written. */
static void test_png_outputs(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *img = make_phantom(f, "img.tif", "6,12,12", "1");
  gchar *psf = make_psf(f, "psf.tif", "3,3,3", "1,1,1");
  for (const char *const *name = (const char *const[]){"fig.tif", "fig.tiff", "fig", "fig.jpg",
                                                       NULL}; *name; name++) {
    gchar *out = path_in(f, *name);
    Run r = RUN("project", img, "-o", out);
    ASSERT_STATUS(r, 2);
    assert_one_error_line(&r);
    assert_contains(r.err, "writes a PNG figure");
    assert_contains(r.err, ".png");
    run_clear(&r);
    r = RUN("compare", img, psf, "-o", out);
    ASSERT_STATUS(r, 2);
    assert_one_error_line(&r);
    assert_contains(r.err, "writes a PNG figure");
    run_clear(&r);
    g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
    g_free(out);
  }
  /* a name that only starts with a dot has no extension to blame; ".png" alone ends in .png */
  for (const char *const *name = (const char *const[]){".tif", ".hidden", NULL}; *name; name++) {
    gchar *out = path_in(f, *name);
    Run r = RUN("project", img, "-o", out);
    ASSERT_STATUS(r, 2);
    assert_one_error_line(&r);
    assert_contains(r.err, "writes a PNG figure; name the output .png");
    run_clear(&r);
    g_free(out);
  }
  gchar *dot_png = path_in(f, ".png");
  Run dr = RUN("project", img, "-o", dot_png);
  ASSERT_STATUS(dr, 0);
  run_clear(&dr);
  g_assert_true(g_file_test(dot_png, G_FILE_TEST_EXISTS));
  g_free(dot_png);
  gchar *upper = path_in(f, "FIG.PNG");
  Run r = RUN("project", img, "-o", upper);
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  guint32 w = 0, h = 0;
  png_size(upper, &w, &h);
  g_assert_cmpuint(w, >, 0);
  g_free(upper);
  g_free(img);
  g_free(psf);
}

/* A 2-D image (1 plane) with a 3-D PSF: a one-line warning that says what happens in the
 * mode used and suggests a 2-D PSF; none for a 2-D PSF. */
static void test_planes_warning(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *img = path_in(f, "img.tif"), *out = path_in(f, "out.tif");
  write_raw_tiff(img, 1, 24, 24, NULL, NULL);
  gchar *psf = make_psf(f, "psf.tif", "9,5,5", "2,1,1");
  gchar *psf2 = make_psf(f, "psf2.tif", "1,5,5", "0,1,1");
  static const struct {
    const char *mode, *says;
  } cases[] = {
    {"same", "in same mode only the PSF's plane z = 4 (20.4% of its sum) reaches the image"},
    {"circular", "in circular mode the PSF's 9 planes wrap onto the image's one"},
    {"full", "in full mode the result has 9 planes"},
  };
  for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
    Run r = RUN("convolve", img, psf, "-o", out, "--force", "--mode", cases[i].mode);
    ASSERT_STATUS(r, 0);
    assert_contains(r.err, "convolve: warning: the image has 1 plane and the PSF 9");
    assert_contains(r.err, cases[i].says);
    assert_contains(r.err, "use a 2-D PSF (1 plane), e.g. the PSF's in-focus plane");
    run_clear(&r);
  }
  Run r = RUN("deconvolve", img, psf, "-o", out, "--force", "-n", "2");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "deconvolve: warning: the image has 1 plane and the PSF 9");
  assert_contains(r.err, "through all 9 of the PSF's planes");
  assert_contains(r.err, "use a 2-D PSF (1 plane)");
  run_clear(&r);
  /* Wiener sees a 1-plane image as uniform in z: the PSF's planes act as their sum */
  r = RUN("deconvolve", img, psf, "-o", out, "--force", "--method", "wiener");
  ASSERT_STATUS(r, 0);
  assert_contains(r.err, "deconvolve: warning: the image has 1 plane and the PSF 9: Wiener "
                         "restores it as uniform in z, so the PSF acts as the sum of its 9 "
                         "planes");
  g_assert_null(strstr(r.err, "through all"));
  run_clear(&r);
  r = RUN("convolve", img, psf2, "-o", out, "--force");
  ASSERT_STATUS(r, 0);
  g_assert_null(strstr(r.err, "warning"));
  run_clear(&r);
  g_free(img);
  g_free(out);
  g_free(psf);
  g_free(psf2);
}

static double file_sum(const char *path, size_t *nonzero) {
  LucyVolume *v = read_volume(path);
  double sum = 0;
  *nonzero = 0;
  for (size_t i = 0; i < lucy_shape_count(v->shape); i++) {
    sum += v->data[i];
    *nonzero += v->data[i] != 0.0f;
  }
  lucy_volume_free(v);
  return sum;
}

/* Thin stacks take the default radii from their lateral size: discs in one plane, the spheres'
 * middle slabs in a few; the stacks that worked before keep their exact content. */
static void test_phantom_thin(Fixture *f, gconstpointer data) {
  if (!have_cli())
    return;
  gchar *p = path_in(f, "p.tif");
  static const struct {
    const char *shape, *radii;
  } thin[] = {{"1,48,48", "2.4..5.76"}, {"2,48,48", "2.4..5.76"}, {"1,8,64", "0.5..1"}};
  for (size_t i = 0; i < G_N_ELEMENTS(thin); i++) {
    Run r = RUN("phantom", "-o", p, "--force", "--shape", thin[i].shape);
    ASSERT_STATUS(r, 0);
    gchar *want = g_strdup_printf("radius %s voxels", thin[i].radii);
    assert_contains(r.err, want);
    assert_contains(r.err, "cut by the stack's faces");
    g_free(want);
    run_clear(&r);
    size_t nonzero = 0;
    g_assert_cmpfloat(file_sum(p, &nonzero), >, 0.0);
  }
  /* 8 discs of radius >= 2.4 in one plane: at least 8 pi 2.4^2 of area, all of value <= 1 */
  Run r = RUN("phantom", "-o", p, "--force", "--shape", "1,48,48", "--voxel", "0.3,0.1,0.1");
  ASSERT_STATUS(r, 0);
  run_clear(&r);
  size_t nonzero = 0;
  g_assert_cmpfloat(file_sum(p, &nonzero), >, 8 * G_PI * 2.4 * 2.4 * 0.9);
  /* No cliff: from a disc in one plane to spheres that fit a deep stack, the default radii
   * change by at most 1.5x per added plane (3 x 48 x 48 gave 2.4..5.76, 4 x 48 x 48 0.5..1.2) */
  for (int lateral = 48; lateral <= 64; lateral += 16) {
    double last[2] = {0, 0};
    for (int depth = 1; depth <= 20; depth++) {
      gchar *shape = g_strdup_printf("%d,%d,%d", depth, lateral, lateral);
      r = RUN("phantom", "-o", p, "--force", "--shape", shape, "--spheres", "1");
      ASSERT_STATUS(r, 0);
      const char *at = strstr(r.err, "radius ");
      g_assert_nonnull(at);
      double rad[2];
      g_assert_cmpint(sscanf(at, "radius %lf..%lf", &rad[0], &rad[1]), ==, 2);
      for (int k = 0; k < 2 && depth > 1; k++) {
        if (fmax(rad[k], last[k]) > 1.5 * fmin(rad[k], last[k]))
          g_error("%s: radius %g after %g at one plane less", shape, rad[k], last[k]);
      }
      last[0] = rad[0], last[1] = rad[1];
      run_clear(&r);
      g_free(shape);
    }
  }
  /* Pinned: the default phantoms of stacks at least 1/8 as deep as wide are unchanged.
   * (4 x 64 x 64 was pinned at radii 0.504..1.2, the dots this rule replaces: now 2.43..5.79.) */
  static const struct {
    const char *shape;
    double sum;
    size_t nonzero;
  } pinned[] = {{"16,128,128", 1352.765625, 2063}, {"8,64,64", 169.375, 369},
                {"4,8,8", 13.890625, 67}};
  for (size_t i = 0; i < G_N_ELEMENTS(pinned); i++) {
    r = RUN("phantom", "-o", p, "--force", "--shape", pinned[i].shape);
    ASSERT_STATUS(r, 0);
    g_assert_null(strstr(r.err, "cut by"));
    run_clear(&r);
    g_assert_cmpfloat(file_sum(p, &nonzero), ==, pinned[i].sum);
    g_assert_cmpuint(nonzero, ==, pinned[i].nonzero);
  }
  g_free(p);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
#define ADD(name, fn) g_test_add("/cli/" name, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  g_test_add_func("/cli/help/top", test_help_top);
  g_test_add_func("/cli/help/subcommands", test_help_subcommands);
  g_test_add_func("/cli/memory/plan-and-devices", test_memory_and_devices);
  ADD("usage/errors", test_usage_errors);
  ADD("phantom/info-json", test_phantom_info_json);
  ADD("phantom/deterministic", test_phantom_deterministic);
  ADD("psf/gaussian", test_psf_gaussian);
  ADD("psf/models", test_psf_models);
  ADD("psf/measure", test_psf_measure);
  ADD("psf/fix", test_psf_fix);
  ADD("compare/png", test_compare_png);
  ADD("info/json-escaping", test_info_json_escaping);
  g_test_add_func("/cli/info/shared-bars-psf", test_info_shared_bars);
  g_test_add_func("/cli/info/shared-channels", test_info_shared_channels);
  ADD("convolve/modes", test_convolve_modes);
  ADD("convolve/options", test_convolve_options);
  ADD("convolve/overwrite", test_convolve_overwrite);
  ADD("convolve/errors", test_convolve_errors);
  ADD("convolve/progress-cancel", test_convolve_progress_cancel);
  ADD("inputs/warnings", test_input_warnings);
  ADD("deconvolve/restores", test_deconvolve_restores);
  ADD("deconvolve/options", test_deconvolve_options);
  ADD("deconvolve/wiener", test_deconvolve_wiener);
  ADD("deconvolve/overwrite", test_deconvolve_overwrite);
  ADD("deconvolve/cancel", test_deconvolve_cancel);
  ADD("deconvolve/errors", test_deconvolve_errors);
  ADD("strategies", test_plan_strategies);
  ADD("strategies/tiled", test_tiled_strategies);
  ADD("project/png", test_project_png);
  ADD("points/convolve", test_points_convolve);
  ADD("points/fit", test_points_fit);
  ADD("points/nufft", test_points_nufft);
  ADD("points/errors", test_points_errors);
  ADD("voxel/override", test_voxel_override);
  ADD("inputs/hyperstack-notes", test_hyperstack_notes);
  ADD("inputs/psf-channel", test_psf_channel);
  ADD("project/channel", test_project_channel);
  g_test_add_func("/cli/memory/refusals", test_memory_refusals);
  ADD("threads/warning", test_threads_warning);
  ADD("png/outputs", test_png_outputs);
  ADD("inputs/planes-warning", test_planes_warning);
  ADD("phantom/thin", test_phantom_thin);
  return g_test_run();
}
