/* lucy-cli memory: the planner's prediction for an operation (memory.h), as text or JSON. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char *const memory_cmd = "memory";

static void memory_help(void) {
  printf("Usage: lucy-cli memory --op convolve|deconvolve --shape Z,Y,X --psf-shape Z,Y,X\n"
         "                       [--mode MODE] [--method M] [--boundary B] [--accelerate]\n"
         "                       [--device cpu|cuda] [--strategy S] [--free-bytes B]\n"
         "                       [--tile Y,X] [--json]\n"
         "\n"
         "Predicts the peak memory of a convolution or deconvolution before it runs: device\n"
         "bytes (buffers, OTF, FFT work area, staging), host bytes Lucy allocates, the padded FFT\n"
         "shape, and the strategy that fits. P below is one float32 array at the padded size.\n"
         "Nothing is allocated and no GPU is needed: ask for a problem larger than your GPU and\n"
         "see the plan switch to low-memory, then to tiles. Without a GPU the cuFFT work area\n"
         "is a bound (one complex array at the padded size), as cuFFT needs a driver to estimate.\n"
         "\n"
         "Strategies: in-memory (every buffer resident); low-memory (the OTF kept as the PSF's\n"
         "z-planes, its z-transform done in each multiply, and RL's noncirculant weights summed\n"
         "from the PSF's prefix sums instead of a P-sized array: the same results to float\n"
         "precision, slower); tiled (x/y tiles with halos, each an in-memory plan); cpu (host\n"
         "memory). auto takes the first that fits --free-bytes in that order, but not tiles\n"
         "whose FFT work (every tile transforms its block with its halos) exceeds %.0fx the\n"
         "untiled plan's on the CPU (then it fails, naming the budget that would do) or %.0fx\n"
         "on CUDA (then the cpu strategy); --strategy tiled or --tile has no such limit.\n"
         "\n"
         "Options:\n"
         "  --op OP           convolve (default) or deconvolve\n"
         "  --shape Z,Y,X     image shape (required)\n"
         "  --psf-shape Z,Y,X PSF shape (required)\n"
         "  --mode MODE       convolution padding: circular, same (default), full, valid\n"
         "                    (--op convolve only)\n"
         "  --method M        deconvolution: rl (default), rltv, wiener\n"
         "  --boundary B      deconvolution edges: noncirculant (default), circular\n"
         "  --accelerate      deconvolution with Biggs-Andrews acceleration (not wiener)\n"
         "                    (--method, --boundary, --accelerate: --op deconvolve only)\n"
         "  --device D        cpu (default) or cuda\n"
         "  --strategy S      auto (default), in-memory, low-memory, tiled, cpu\n"
         "  --free-bytes B    the device memory budget (default: none, i.e. in-memory)\n"
         "  --tile Y,X        tiled: the tile size (default: the largest that fits); with\n"
         "                    auto it asks for tiles, as in convolve and deconvolve\n"
         "  -j, --json        one JSON object: op, device, strategy, fits, peak_device_bytes,\n"
         "                    peak_host_bytes, padded_shape, padded_bytes, peak_device_P,\n"
         "                    out_shape, tile_shape, tile_input_shape, tiles,\n"
         "                    tiled_work_ratio, free_bytes,\n"
         "                    in_memory_device_bytes, low_memory_device_bytes, note,\n"
         "                    items [{name, bytes, where, transient}]\n"
         "  -h, --help        show this help\n"
         "\n"
         "Exit status 1 (with the plan still printed) when nothing fits --free-bytes.\n",
         LUCY_TILED_WORK_LIMIT_CPU, LUCY_TILED_WORK_LIMIT_CUDA);
}

static void json_shape(FILE *f, const char *key, const size_t s[3]) {
  fprintf(f, "\"%s\": [%zu, %zu, %zu]", key, s[0], s[1], s[2]);
}

static void json_text(FILE *f, const char *s) {
  fputc('"', f);
  for (; *s; s++) {
    if (*s == '"' || *s == '\\')
      fprintf(f, "\\%c", *s);
    else if ((unsigned char)*s < 0x20)
      fprintf(f, "\\u%04x", (unsigned)(unsigned char)*s);
    else
      fputc(*s, f);
  }
  fputc('"', f);
}

static void print_json(FILE *f, const LucyMemoryRequest *r, const LucyMemoryPlan *p) {
  fprintf(f, "{\"op\": \"%s\", \"device\": \"%s\", \"strategy\": \"%s\", \"fits\": %s,\n",
          r->op == LUCY_MEMORY_CONVOLVE ? "convolve" : "deconvolve",
          p->device == LUCY_DEVICE_CUDA ? "cuda" : "cpu", lucy_strategy_name(p->strategy),
          p->fits ? "true" : "false");
  fprintf(f, " \"peak_device_bytes\": %zu, \"peak_host_bytes\": %zu, \"padded_bytes\": %zu,\n",
          p->peak_device_bytes, p->peak_host_bytes, p->padded_bytes);
  fprintf(f, " \"peak_device_P\": %.4f, ",
          p->padded_bytes ? (double)p->peak_device_bytes / (double)p->padded_bytes : 0.0);
  json_shape(f, "padded_shape", p->padded_shape);
  fputs(", ", f);
  json_shape(f, "out_shape", p->out_shape);
  fputs(",\n ", f);
  json_shape(f, "tile_shape", p->tile_shape);
  fputs(", ", f);
  json_shape(f, "tile_input_shape", p->tile_input_shape);
  fputs(", ", f);
  json_shape(f, "tiles", p->tiles);
  fprintf(f, ", \"tiled_work_ratio\": %.6g", p->tiled_work_ratio);
  fprintf(f, ",\n \"free_bytes\": %zu, \"in_memory_device_bytes\": %zu, "
          "\"low_memory_device_bytes\": %zu, \"note\": ", p->free_bytes,
          p->in_memory_device_bytes, p->low_memory_device_bytes);
  json_text(f, p->note);
  fputs(",\n \"items\": [", f);
  for (size_t i = 0; i < p->n_items; i++) {
    const LucyMemoryItem *it = &p->items[i];
    fprintf(f, "%s\n  {\"name\": ", i ? "," : "");
    json_text(f, it->name);
    fprintf(f, ", \"bytes\": %zu, \"where\": \"%s\", \"transient\": %s}", it->bytes,
            it->on_device ? "device" : "host", it->transient ? "true" : "false");
  }
  fputs("]}\n", f);
}

static void print_text(FILE *f, const LucyMemoryRequest *r, const LucyMemoryPlan *p) {
  char b1[64], b2[64], s1[64];
  fprintf(f, "%s on %s: strategy %s%s\n", r->op == LUCY_MEMORY_CONVOLVE ? "convolve" : "deconvolve",
          p->device == LUCY_DEVICE_CUDA ? "cuda" : "cpu", lucy_strategy_name(p->strategy),
          p->fits ? ""
          : p->free_bytes && p->peak_device_bytes <= p->free_bytes ? " (refused: see below)"
                                                                   : " (does NOT fit)");
  fprintf(f, "padded shape %s, P = %s\n", cli_format_shape(p->padded_shape, s1, sizeof s1),
          cli_format_bytes((double)p->padded_bytes, b1, sizeof b1));
  fprintf(f, "peak device %s (%zu bytes, %.2f P), host %s (%zu bytes)\n",
          cli_format_bytes((double)p->peak_device_bytes, b1, sizeof b1), p->peak_device_bytes,
          p->padded_bytes ? (double)p->peak_device_bytes / (double)p->padded_bytes : 0.0,
          cli_format_bytes((double)p->peak_host_bytes, b2, sizeof b2), p->peak_host_bytes);
  /* The two untiled plans, for comparison (in P of the whole problem, unless tiled). */
  if (p->strategy == LUCY_STRATEGY_TILED)
    fprintf(f, "untiled: in-memory %s, low-memory %s\n",
            cli_format_bytes((double)p->in_memory_device_bytes, b1, sizeof b1),
            cli_format_bytes((double)p->low_memory_device_bytes, b2, sizeof b2));
  else if (p->padded_bytes)
    fprintf(f, "untiled: in-memory %.2f P, low-memory %.2f P\n",
            (double)p->in_memory_device_bytes / (double)p->padded_bytes,
            (double)p->low_memory_device_bytes / (double)p->padded_bytes);
  if (p->strategy == LUCY_STRATEGY_TILED)
    fprintf(f, "tiles %zu x %zu of %zu x %zu (input block %s), FFT work %.4g x untiled\n",
            p->tiles[1], p->tiles[2], p->tile_shape[1], p->tile_shape[2],
            cli_format_shape(p->tile_input_shape, s1, sizeof s1), p->tiled_work_ratio);
  for (size_t i = 0; i < p->n_items; i++) {
    const LucyMemoryItem *it = &p->items[i];
    fprintf(f, "  %-30s %12zu bytes  %s%s\n", it->name, it->bytes,
            it->on_device ? "device" : "host", it->transient ? " (transient)" : "");
  }
  fprintf(f, "%s\n", p->note);
}

/* Which options were given, to refuse those that do not apply to the operation. */
typedef struct MemoryGiven {
  int mode, method, boundary, accelerate, tile;
} MemoryGiven;

static int check_applies(const LucyMemoryRequest *req, const MemoryGiven *g) {
  const int conv = req->op == LUCY_MEMORY_CONVOLVE;
  const char *decon_only = g->method ? "--method" : g->boundary ? "--boundary"
                           : g->accelerate ? "--accelerate" : NULL;
  if (conv && decon_only)
    return cli_usage_error(memory_cmd, "%s applies only to --op deconvolve (convolution has "
                           "--mode)", decon_only);
  if (!conv && g->mode)
    return cli_usage_error(memory_cmd, "--mode applies only to --op convolve (deconvolution's "
                           "edges are --boundary)");
  if (req->accelerate && req->method == LUCY_DECON_WIENER)
    return cli_usage_error(memory_cmd, "--accelerate does not apply to --method wiener (one "
                           "step, no iterations)");
  return CLI_EXIT_OK;
}

int cli_memory_main(int argc, char **argv) {
  enum { O_OP = 256, O_SHAPE, O_PSF, O_MODE, O_METHOD, O_BOUNDARY, O_ACCEL, O_DEVICE, O_STRATEGY,
         O_FREE, O_TILE };
  static const struct option longopts[] = {
    {"op", required_argument, NULL, O_OP},
    {"shape", required_argument, NULL, O_SHAPE},
    {"psf-shape", required_argument, NULL, O_PSF},
    {"mode", required_argument, NULL, O_MODE},
    {"method", required_argument, NULL, O_METHOD},
    {"boundary", required_argument, NULL, O_BOUNDARY},
    {"accelerate", no_argument, NULL, O_ACCEL},
    {"device", required_argument, NULL, O_DEVICE},
    {"strategy", required_argument, NULL, O_STRATEGY},
    {"free-bytes", required_argument, NULL, O_FREE},
    {"tile", required_argument, NULL, O_TILE},
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
  };
  LucyMemoryRequest req;
  lucy_memory_request_default(&req);
  int json = 0, rc, have_shape = 0, have_psf = 0;
  MemoryGiven given = {0, 0, 0, 0, 0};
  uint64_t free_bytes = 0;
  size_t tile[2] = {0, 0};
  opterr = 0;
  optind = 1;
  int c;
  while ((c = getopt_long(argc, argv, ":jh", longopts, NULL)) != -1) {
    switch (c) {
    case O_OP:
      if (strcmp(optarg, "convolve") == 0)
        req.op = LUCY_MEMORY_CONVOLVE;
      else if (strcmp(optarg, "deconvolve") == 0)
        req.op = LUCY_MEMORY_DECONVOLVE;
      else
        return cli_usage_error(memory_cmd, "--op: '%s' is not convolve or deconvolve", optarg);
      break;
    case O_SHAPE:
      if ((rc = cli_opt_shape(memory_cmd, "--shape", optarg, req.image_shape))) return rc;
      have_shape = 1;
      break;
    case O_PSF:
      if ((rc = cli_opt_shape(memory_cmd, "--psf-shape", optarg, req.psf_shape))) return rc;
      have_psf = 1;
      break;
    case O_MODE:
      if (lucy_pad_mode_parse(optarg, &req.mode))
        return cli_usage_error(memory_cmd, "--mode: %s", lucy_error_message());
      given.mode = 1;
      break;
    case O_METHOD:
      if (lucy_decon_method_parse(optarg, &req.method))
        return cli_usage_error(memory_cmd, "--method: %s", lucy_error_message());
      given.method = 1;
      break;
    case O_BOUNDARY:
      if (lucy_boundary_parse(optarg, &req.boundary))
        return cli_usage_error(memory_cmd, "--boundary: %s", lucy_error_message());
      given.boundary = 1;
      break;
    case O_ACCEL: req.accelerate = given.accelerate = 1; break;
    case O_DEVICE:
      if (strcmp(optarg, "cpu") == 0)
        req.device = LUCY_DEVICE_CPU;
      else if (strcmp(optarg, "cuda") == 0)
        req.device = LUCY_DEVICE_CUDA;
      else
        return cli_usage_error(memory_cmd, "--device: '%s' is not cpu or cuda", optarg);
      break;
    case O_STRATEGY:
      if (lucy_strategy_parse(optarg, &req.strategy))
        return cli_usage_error(memory_cmd, "--strategy: %s", lucy_error_message());
      break;
    case O_FREE:
      if ((rc = cli_opt_u64(memory_cmd, "--free-bytes", optarg, &free_bytes))) return rc;
      break;
    case O_TILE:
      if ((rc = cli_opt_tile(memory_cmd, optarg, tile)))
        return rc;
      given.tile = 1;
      break;
    case 'j': json = 1; break;
    case 'h': memory_help(); return CLI_EXIT_OK;
    default: return cli_getopt_error(memory_cmd, c, argv);
    }
  }
  if (optind < argc) return cli_usage_error(memory_cmd, "unexpected argument '%s'", argv[optind]);
  if (!have_shape) return cli_usage_error(memory_cmd, "missing --shape Z,Y,X");
  if (!have_psf) return cli_usage_error(memory_cmd, "missing --psf-shape Z,Y,X");
  if ((rc = check_applies(&req, &given))) return rc;
  /* as in convolve and deconvolve, a tile size asks for tiles */
  if ((rc = cli_tile_strategy(memory_cmd, given.tile, &req.strategy))) return rc;
  req.free_bytes = (size_t)free_bytes;
  req.tile[0] = tile[0];
  req.tile[1] = tile[1];
  LucyMemoryPlan plan;
  LucyStatus s = lucy_memory_plan(&req, &plan);
  if (s && s != LUCY_ERR_DEVICE_MEMORY) return cli_fail(s, "memory plan");
  if (json)
    print_json(stdout, &req, &plan);
  else
    print_text(stdout, &req, &plan);
  if (s) return cli_fail(s, "memory plan");
  return CLI_EXIT_OK;
}
