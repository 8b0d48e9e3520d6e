/* lucy-cli info: what a TIFF stack holds, as text or JSON. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *const info_cmd = "info";

static void info_help(void) {
  printf("Usage: lucy-cli info FILE [--json] [--channel C] [--frame T] [--voxel Z,Y,X]\n"
         "       lucy-cli info --devices [--json]\n"
         "\n"
         "Reads a TIFF stack as Lucy does (every sample type becomes float32, z-y-x) and prints\n"
         "its shape, stored sample type, voxel size in micrometres, calibration source, page\n"
         "count, compression and statistics over the finite voxels.\n"
         "\n"
         "Options:\n"
         "  -j, --json         print one JSON object instead of text; keys: file, shape [z,y,x],\n"
         "                     dtype, bits_per_sample, voxel_size_um [z,y,x], unit, calibration,\n"
         "                     voxel_source (file, --voxel, or assumed: 1 um, uncalibrated),\n"
         "                     pages, slices, channels, frames, channel, frame, bigtiff,\n"
         "                     big_endian, compression, min, max, mean, sum, count, nonfinite,\n"
         "                     note (statistics are null when no voxel is finite)\n"
         "  -c, --channel C    hyperstack channel to read, 0-based (default 0)\n"
         "  -t, --frame T      hyperstack time point to read, 0-based (default 0)\n"
         "      --voxel Z,Y,X  the voxel size in micrometres, in place of the file's (files\n"
         "                     without calibration read as 1 x 1 x 1): what the other\n"
         "                     commands' --voxel would make of the file\n"
         "  -d, --devices      list the compute devices (CPU; CUDA GPUs, or why there are none)\n"
         "                     with total and free memory; no FILE\n"
         "  -h, --help         show this help\n");
}

/* ---- JSON output ------------------------------------------------------------------------ */

/* Length of the valid UTF-8 sequence at s, or 0 when the bytes there are not one. */
static size_t utf8_sequence_length(const unsigned char *s) {
  unsigned c = s[0];
  size_t n;
  unsigned min;
  if (c < 0x80)
    return 1;
  if ((c & 0xE0) == 0xC0) {
    n = 2;
    min = 0x80;
    c &= 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3;
    min = 0x800;
    c &= 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4;
    min = 0x10000;
    c &= 0x07;
  } else {
    return 0;
  }
  for (size_t i = 1; i < n; i++) {
    if ((s[i] & 0xC0) != 0x80)
      return 0;
    c = (c << 6) | (s[i] & 0x3F);
  }
  if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
    return 0;
  return n;
}

/* A JSON string: quotes, backslashes and control characters escaped; bytes that are not
 * UTF-8 (file names may be anything) become U+FFFD so the output always parses. */
static void json_string(FILE *f, const char *str) {
  const unsigned char *s = (const unsigned char *)(str ? str : "");
  fputc('"', f);
  while (*s) {
    unsigned c = *s;
    if (c == '"' || c == '\\') {
      fputc('\\', f);
      fputc((int)c, f);
      s++;
    } else if (c == '\n') {
      fputs("\\n", f);
      s++;
    } else if (c == '\t') {
      fputs("\\t", f);
      s++;
    } else if (c == '\r') {
      fputs("\\r", f);
      s++;
    } else if (c < 0x20 || c == 0x7F) {
      fprintf(f, "\\u%04x", c);
      s++;
    } else {
      size_t n = utf8_sequence_length(s);
      if (n == 0) {
        fputs("\\ufffd", f);
        s++;
      } else {
        fwrite(s, 1, n, f);
        s += n;
      }
    }
  }
  fputc('"', f);
}

/* A JSON number, or null for NaN and infinities (JSON has neither). */
static void json_number(FILE *f, double v, int digits) {
  if (isfinite(v))
    fprintf(f, "%.*g", digits, v);
  else
    fputs("null", f);
}

/* Where the voxel size came from, so that scripts need not infer it from the calibration. */
static const char *voxel_source(const LucyTiffInfo *ti, int from_option) {
  if (from_option) return "--voxel";
  return strcmp(ti->calibration, "none") == 0 ? "assumed" : "file";
}

static void print_json(FILE *f, const char *path, const LucyVolume *vol, const LucyTiffInfo *ti,
                       const LucyStats *st, int voxel_option) {
  int have_stats = st->count > st->nonfinite;
  fputs("{\"file\": ", f);
  json_string(f, path);
  fprintf(f, ", \"shape\": [%zu, %zu, %zu]", vol->shape[0], vol->shape[1], vol->shape[2]);
  fputs(", \"dtype\": ", f);
  json_string(f, lucy_sample_type_name(ti->sample_type));
  fprintf(f, ", \"bits_per_sample\": %u", ti->bits_per_sample);
  fputs(", \"voxel_size_um\": [", f);
  for (int a = 0; a < 3; a++) {
    if (a)
      fputs(", ", f);
    json_number(f, vol->voxel_um[a], 15);
  }
  fputs("], \"unit\": ", f);
  json_string(f, ti->unit);
  fputs(", \"calibration\": ", f);
  json_string(f, ti->calibration);
  fputs(", \"voxel_source\": ", f);
  json_string(f, voxel_source(ti, voxel_option));
  fprintf(f, ", \"pages\": %zu, \"slices\": %zu, \"channels\": %zu, \"frames\": %zu", ti->pages,
          ti->slices, ti->channels, ti->frames);
  fprintf(f, ", \"channel\": %zu, \"frame\": %zu", ti->channel, ti->frame);
  fprintf(f, ", \"bigtiff\": %s, \"big_endian\": %s", ti->bigtiff ? "true" : "false",
          ti->big_endian ? "true" : "false");
  fputs(", \"compression\": ", f);
  json_string(f, ti->compression);
  /* min and max are float32 values: 9 digits give them back exactly. */
  fputs(", \"min\": ", f);
  json_number(f, have_stats ? st->min : NAN, 9);
  fputs(", \"max\": ", f);
  json_number(f, have_stats ? st->max : NAN, 9);
  fputs(", \"mean\": ", f);
  json_number(f, have_stats ? st->mean : NAN, 15);
  fputs(", \"sum\": ", f);
  json_number(f, have_stats ? st->sum : NAN, 15);
  fprintf(f, ", \"count\": %zu, \"nonfinite\": %zu", st->count, st->nonfinite);
  fputs(", \"note\": ", f);
  json_string(f, ti->note);
  fputs("}\n", f);
}

/* ---- text output ------------------------------------------------------------------------ */

static const char *plural(size_t n, const char *one, const char *many) {
  return n == 1 ? one : many;
}

/* The voxel size line; file_voxel: the file's when --voxel replaced it, else NULL. */
static void print_voxel(FILE *f, const LucyVolume *vol, const LucyTiffInfo *ti,
                        const double *file_voxel) {
  const char *cal = ti->calibration[0] ? ti->calibration : "none";
  fprintf(f, "voxel size:   %g x %g x %g um (z, y, x), ", vol->voxel_um[0], vol->voxel_um[1],
          vol->voxel_um[2]);
  if (file_voxel && strcmp(cal, "none") == 0)
    fprintf(f, "from --voxel (the file has no calibration)");
  else if (file_voxel)
    fprintf(f, "from --voxel (file: %g x %g x %g um, calibration: %s)", file_voxel[0],
            file_voxel[1], file_voxel[2], cal);
  else
    fprintf(f, "calibration: %s", cal);
  if (ti->unit[0])
    fprintf(f, ", unit in file: %s", ti->unit);
  fputc('\n', f);
}

static void print_text(FILE *f, const char *path, const LucyVolume *vol, const LucyTiffInfo *ti,
                       const LucyStats *st, const double *file_voxel) {
  char buf[64];
  fprintf(f, "file:         %s\n", path);
  fprintf(f, "shape:        %s (z, y, x), %zu voxels\n",
          cli_format_shape(vol->shape, buf, sizeof buf), st->count);
  fprintf(f, "dtype:        %s, %u %s per sample (read as float32)\n",
          lucy_sample_type_name(ti->sample_type), ti->bits_per_sample,
          plural(ti->bits_per_sample, "bit", "bits"));
  print_voxel(f, vol, ti, file_voxel);
  fprintf(f, "pages:        %zu", ti->pages);
  if (ti->channels > 1 || ti->frames > 1)
    fprintf(f, " (hyperstack: %zu %s, %zu %s, %zu %s; read channel %zu, frame %zu)",
            ti->slices, plural(ti->slices, "slice", "slices"), ti->channels,
            plural(ti->channels, "channel", "channels"), ti->frames,
            plural(ti->frames, "frame", "frames"), ti->channel, ti->frame);
  fputc('\n', f);
  const char *comp = ti->compression[0] ? ti->compression : "unknown";
  if (strcmp(comp, "none") == 0)
    fprintf(f, "storage:      uncompressed");
  else
    fprintf(f, "storage:      %s compression", comp);
  fprintf(f, ", %s-endian%s\n", ti->big_endian ? "big" : "little", ti->bigtiff ? ", BigTIFF" : "");
  if (st->count > st->nonfinite) {
    fprintf(f, "min / max:    %.9g / %.9g\n", st->min, st->max);
    fprintf(f, "mean / sum:   %.9g / %.9g\n", st->mean, st->sum);
  } else {
    fprintf(f, "min / max:    (no finite voxel)\n");
  }
  if (st->nonfinite)
    fprintf(f, "non-finite:   %zu %s (NaN or Inf, left out of the statistics)\n", st->nonfinite,
            plural(st->nonfinite, "voxel", "voxels"));
  char note[512];
  if (ti->note[0])
    fprintf(f, "note:         %s\n",
            cli_note_with_hint(ti, "choose with --channel, --frame", note, sizeof note));
}

/* The devices: the CPU always, then the CUDA device or the reason there is none. */
static int print_devices(int json) {
  LucyDevice *dev = NULL;
  LucyMemoryInfo mi;
  memset(&mi, 0, sizeof mi);
  LucyStatus s = lucy_device_new(NULL, &dev);
  if (s) return cli_fail(s, "cannot create the CPU device");
  (void)lucy_device_memory_info(dev, &mi);
  char name[64];
  snprintf(name, sizeof name, "%s", lucy_device_name(dev));
  lucy_device_unref(dev);
  const char *reason = NULL;
  const int cuda = lucy_cuda_available(&reason);
  LucyMemoryInfo gi;
  memset(&gi, 0, sizeof gi);
  char gname[64] = "";
  if (cuda) {
    LucyDeviceOptions o;
    lucy_device_options_default(&o);
    o.kind = LUCY_DEVICE_CUDA;
    if (lucy_device_new(&o, &dev) == LUCY_OK) {
      (void)lucy_device_memory_info(dev, &gi);
      snprintf(gname, sizeof gname, "%s", lucy_device_name(dev));
      lucy_device_unref(dev);
    }
  }
  if (json) {
    printf("{\"devices\": [{\"kind\": \"cpu\", \"name\": ");
    json_string(stdout, name);
    printf(", \"total_bytes\": %zu, \"free_bytes\": %zu}", mi.total_bytes, mi.free_bytes);
    if (cuda && gname[0]) {
      printf(", {\"kind\": \"cuda\", \"name\": ");
      json_string(stdout, gname);
      printf(", \"total_bytes\": %zu, \"free_bytes\": %zu}", gi.total_bytes, gi.free_bytes);
    }
    printf("], \"cuda\": %s, \"cuda_reason\": ", cuda ? "true" : "false");
    json_string(stdout, cuda ? "" : reason);
    printf("}\n");
    return CLI_EXIT_OK;
  }
  char b1[32], b2[32];
  printf("cpu   %s: %s total, %s free\n", name,
         cli_format_bytes((double)mi.total_bytes, b1, sizeof b1),
         cli_format_bytes((double)mi.free_bytes, b2, sizeof b2));
  if (cuda && gname[0])
    printf("cuda  %s: %s total, %s free\n", gname,
           cli_format_bytes((double)gi.total_bytes, b1, sizeof b1),
           cli_format_bytes((double)gi.free_bytes, b2, sizeof b2));
  else
    printf("cuda  none: %s\n", reason ? reason : "unavailable");
  return CLI_EXIT_OK;
}

int cli_info_main(int argc, char **argv) {
  static const struct option longopts[] = {
    {"json", no_argument, NULL, 'j'},
    {"channel", required_argument, NULL, 'c'},
    {"frame", required_argument, NULL, 't'},
    {"devices", no_argument, NULL, 'd'},
    {"voxel", required_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  int json = 0, devices = 0, rc;
  double voxel[3] = {0, 0, 0};
  LucyTiffReadOptions ropts;
  lucy_tiff_read_options_default(&ropts);

  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":jc:t:dh", longopts, NULL)) != -1) {
    switch (c) {
    case 'j': json = 1; break;
    case 'd': devices = 1; break;
    case 'c':
      if ((rc = cli_opt_size(info_cmd, "--channel", optarg, 0, (size_t)1 << 31, &ropts.channel)))
        return rc;
      break;
    case 't':
      if ((rc = cli_opt_size(info_cmd, "--frame", optarg, 0, (size_t)1 << 31, &ropts.frame)))
        return rc;
      break;
    case 'v':
      if ((rc = cli_opt_voxel(info_cmd, "--voxel", optarg, voxel)))
        return rc;
      break;
    case 'h': info_help(); return CLI_EXIT_OK;
    default: return cli_getopt_error(info_cmd, c, argv);
    }
  }
  if (devices) {
    if (optind < argc)
      return cli_usage_error(info_cmd, "--devices takes no FILE (unexpected '%s')", argv[optind]);
    return print_devices(json);
  }
  if (optind >= argc)
    return cli_usage_error(info_cmd, "missing FILE");
  if (argc - optind > 1)
    return cli_usage_error(info_cmd, "one FILE at a time (unexpected '%s')", argv[optind + 1]);
  const char *path = argv[optind];

  LucyVolume *vol = NULL;
  LucyTiffInfo ti;
  memset(&ti, 0, sizeof ti);
  /* hint NULL: the note is part of the output, not a line on stderr; the file's voxel size is
   * kept for the text before --voxel replaces it */
  CliInput in = {.path = path, .channel = ropts.channel, .frame = ropts.frame,
                 .voxel_opt = "--voxel"};
  LucyStatus s = cli_read_input(info_cmd, &in, &vol, &ti);
  if (s != LUCY_OK)
    return cli_fail(s, "cannot read '%s'", path);
  double file_voxel[3];
  memcpy(file_voxel, vol->voxel_um, sizeof file_voxel);
  in.voxel = voxel;
  cli_override_voxel(info_cmd, &in, &ti, vol);
  LucyStats st;
  lucy_volume_stats(vol, &st);
  if (json)
    print_json(stdout, path, vol, &ti, &st, voxel[0] > 0);
  else
    print_text(stdout, path, vol, &ti, &st, voxel[0] > 0 ? file_voxel : NULL);
  lucy_volume_free(vol);
  return CLI_EXIT_OK;
}
