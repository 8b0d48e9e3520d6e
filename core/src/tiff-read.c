/* Reading TIFF stacks into float32 volumes with libtiff.
 *
 * Supported: one sample per pixel, 1/2/4/8/16/32-bit unsigned, 8/16/32-bit signed, 32/64-bit
 * float; strips or tiles; any compression this libtiff decodes; classic or BigTIFF; either byte
 * order. Colour (RGB, YCbCr, palette, CMYK, several samples per pixel) is refused with
 * LUCY_ERR_UNSUPPORTED and a hint: silently mixing channels would change the data that a
 * deconvolution sees. MinIsWhite pages are read as stored (no inversion, like tifffile).
 *
 * Files are mapped and read through the same in-memory client as lucy_tiff_read_memory, so
 * the size of the file is always known: declared sizes are checked against it before any
 * large allocation. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "status-private.h"
#include "tiff-private.h"

/* A hostile header can claim a huge image in a tiny file. Uncompressed pages must fit in the
 * file; compressed ones may expand at most this much (deflate peaks near 1032:1, LZW near
 * 1365:1), with a floor so that small, highly compressible files still load. */
#define MAX_VOXELS_PER_FILE_BYTE 4096u
#define MIN_VOXEL_BUDGET ((uint64_t)16 << 20)

void lucy_tiff_read_options_default(LucyTiffReadOptions *opts) {
  memset(opts, 0, sizeof *opts);
}

/* ---- libtiff messages into the handle's context ---- */

/* libtiff passes printf formats through; the attribute lets -Wformat=2 check the calls. */
__attribute__((format(printf, 4, 0)))
static int on_error(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
  LucyTiffCtx *ctx = user;
  size_t len = strlen(ctx->error);
  if (len + 8 >= sizeof ctx->error) return 1;
  if (len) len += (size_t)snprintf(ctx->error + len, sizeof ctx->error - len, "; ");
  if (module && len < sizeof ctx->error)
    len += (size_t)snprintf(ctx->error + len, sizeof ctx->error - len, "%s: ", module);
  if (len < sizeof ctx->error) vsnprintf(ctx->error + len, sizeof ctx->error - len, fmt, ap);
  return 1; /* handled: libtiff must not print to stderr */
}

__attribute__((format(printf, 4, 0)))
static int on_warning(TIFF *tif, void *user, const char *module, const char *fmt, va_list ap) {
  LucyTiffCtx *ctx = user;
  if (!ctx->warning[0]) {
    int n = snprintf(ctx->warning, sizeof ctx->warning, "%s: ", module ? module : "libtiff");
    if (n > 0 && (size_t)n < sizeof ctx->warning)
      vsnprintf(ctx->warning + n, sizeof ctx->warning - (size_t)n, fmt, ap);
  }
  return 1;
}

TIFFOpenOptions *lucy__tiff_options_new(LucyTiffCtx *ctx) {
  TIFFOpenOptions *o = TIFFOpenOptionsAlloc();
  if (!o) return NULL;
  TIFFOpenOptionsSetErrorHandlerExtR(o, on_error, ctx);
  TIFFOpenOptionsSetWarningHandlerExtR(o, on_warning, ctx);
  return o;
}

void lucy__tiff_ctx_reset(LucyTiffCtx *ctx) { ctx->error[0] = ctx->warning[0] = '\0'; }

const char *lucy__tiff_ctx_message(const LucyTiffCtx *ctx) {
  return ctx->error[0] ? ctx->error : ctx->warning[0] ? ctx->warning : "no message from libtiff";
}

/* ---- an in-memory file for libtiff ---- */

typedef struct {
  const uint8_t *data;
  uint64_t size, pos;
} MemFile;

static tmsize_t mem_read(thandle_t h, void *buf, tmsize_t n) {
  MemFile *m = (MemFile *)h;
  if (n < 0) return -1;
  uint64_t left = m->pos < m->size ? m->size - m->pos : 0;
  uint64_t k = (uint64_t)n < left ? (uint64_t)n : left;
  if (k) memcpy(buf, m->data + m->pos, k);
  m->pos += k;
  return (tmsize_t)k;
}

static tmsize_t mem_write(thandle_t h, void *buf, tmsize_t n) { return -1; }

static toff_t mem_seek(thandle_t h, toff_t off, int whence) {
  MemFile *m = (MemFile *)h;
  uint64_t base = whence == SEEK_CUR ? m->pos : whence == SEEK_END ? m->size : 0;
  if (whence != SEEK_SET && whence != SEEK_CUR && whence != SEEK_END) return (toff_t)-1;
  if (off > UINT64_MAX / 2 - base) return (toff_t)-1; /* also rejects "negative" offsets */
  m->pos = base + off;
  return m->pos;
}

static int mem_close(thandle_t h) { return 0; }
static toff_t mem_size(thandle_t h) { return ((MemFile *)h)->size; }

static int mem_map(thandle_t h, void **base, toff_t *size) {
  MemFile *m = (MemFile *)h;
  *base = (void *)m->data; /* libtiff only reads a mapping opened with mode "r" */
  *size = m->size;
  return 1;
}

static void mem_unmap(thandle_t h, void *base, toff_t size) {}

/* ---- one page's layout ---- */

typedef struct {
  uint32_t width, height;
  uint16_t bps, spp, format, photometric, compression;
  int has_photometric, tiled;
  uint32_t tile_w, tile_h, rows_per_strip;
  LucySampleType type;
} Page;

typedef struct {
  TIFF *tif;
  LucyTiffCtx ctx;
  const char *name;
  uint64_t file_size;
  size_t cur; /* current IFD */
  size_t pages;
} Reader;

static const char *compression_name(unsigned c) {
  switch (c) {
  case COMPRESSION_NONE: return "none";
  case COMPRESSION_CCITTRLE: return "ccitt-rle";
  case COMPRESSION_CCITTFAX3: return "ccitt-fax3";
  case COMPRESSION_CCITTFAX4: return "ccitt-fax4";
  case COMPRESSION_LZW: return "lzw";
  case COMPRESSION_OJPEG: return "old-jpeg";
  case COMPRESSION_JPEG: return "jpeg";
  case COMPRESSION_ADOBE_DEFLATE:
  case COMPRESSION_DEFLATE: return "deflate";
  case COMPRESSION_PACKBITS: return "packbits";
  case COMPRESSION_THUNDERSCAN: return "thunderscan";
  case COMPRESSION_JBIG: return "jbig";
  case COMPRESSION_LERC: return "lerc";
  case COMPRESSION_LZMA: return "lzma";
  case COMPRESSION_ZSTD: return "zstd";
  case COMPRESSION_WEBP: return "webp";
  case COMPRESSION_JXL: return "jpeg-xl";
  default: return "unknown";
  }
}

static const char *format_name(unsigned f) {
  switch (f) {
  case SAMPLEFORMAT_UINT: return "unsigned integer";
  case SAMPLEFORMAT_INT: return "signed integer";
  case SAMPLEFORMAT_IEEEFP: return "floating-point";
  case SAMPLEFORMAT_VOID: return "untyped";
  case SAMPLEFORMAT_COMPLEXINT: return "complex integer";
  case SAMPLEFORMAT_COMPLEXIEEEFP: return "complex floating-point";
  default: return "unknown-format";
  }
}

#define TO_ONE_CHANNEL "convert to one channel (e.g. Fiji: Image > Type > 32-bit)"

/* Why a page's colour model cannot be read as one channel; NULL when it can. */
static const char *colour_refusal(const Page *p, char *buf, size_t size) {
  if (p->has_photometric) {
    switch (p->photometric) {
    case PHOTOMETRIC_MINISBLACK:
    case PHOTOMETRIC_MINISWHITE: break;
    case PHOTOMETRIC_RGB: return "RGB images are not supported: " TO_ONE_CHANNEL;
    case PHOTOMETRIC_YCBCR: return "YCbCr (colour) images are not supported: " TO_ONE_CHANNEL;
    case PHOTOMETRIC_PALETTE:
      return "palette (indexed colour) images are not supported: " TO_ONE_CHANNEL;
    case PHOTOMETRIC_SEPARATED: return "CMYK images are not supported: " TO_ONE_CHANNEL;
    default:
      snprintf(buf, size, "photometric interpretation %u is not supported (only greyscale)",
               p->photometric);
      return buf;
    }
  }
  if (p->spp != 1) {
    snprintf(buf, size,
             "%u samples per pixel are not supported (one channel per page expected): "
             "split the channels first (e.g. Fiji: Image > Color > Split Channels)",
             p->spp);
    return buf;
  }
  return NULL;
}

static int sample_type(unsigned format, unsigned bps, LucySampleType *t) {
  if (format == SAMPLEFORMAT_UINT || format == SAMPLEFORMAT_VOID) {
    if (bps == 1 || bps == 2 || bps == 4 || bps == 8) return *t = LUCY_U8, 1;
    if (bps == 16) return *t = LUCY_U16, 1;
    if (bps == 32) return *t = LUCY_U32, 1;
  } else if (format == SAMPLEFORMAT_INT) {
    if (bps == 8) return *t = LUCY_I8, 1;
    if (bps == 16) return *t = LUCY_I16, 1;
    if (bps == 32) return *t = LUCY_I32, 1;
  } else if (format == SAMPLEFORMAT_IEEEFP) {
    if (bps == 32) return *t = LUCY_F32, 1;
    if (bps == 64) return *t = LUCY_F64, 1;
  }
  return 0;
}

static LucyStatus page_geometry(Reader *r, size_t ifd, Page *p) {
  TIFF *tif = r->tif;
  p->tiled = TIFFIsTiled(tif);
  if (p->tiled) {
    if (!TIFFGetField(tif, TIFFTAG_TILEWIDTH, &p->tile_w) ||
        !TIFFGetField(tif, TIFFTAG_TILELENGTH, &p->tile_h) || !p->tile_w || !p->tile_h)
      return lucy__fail(LUCY_ERR_FORMAT, "%s: page %zu is tiled but has no valid tile size",
                        r->name, ifd);
  } else {
    TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &p->rows_per_strip);
    if (p->rows_per_strip == 0 || p->rows_per_strip > p->height) p->rows_per_strip = p->height;
  }
  uint32_t depth = 1;
  if (TIFFGetField(tif, TIFFTAG_IMAGEDEPTH, &depth) && depth > 1)
    return lucy__fail(LUCY_ERR_UNSUPPORTED,
                      "%s: page %zu is an SGI volume (ImageDepth %u): store one plane per page",
                      r->name, ifd, depth);
  return LUCY_OK;
}

static LucyStatus page_read_layout(Reader *r, size_t ifd, Page *p) {
  TIFF *tif = r->tif;
  memset(p, 0, sizeof *p);
  if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &p->width) ||
      !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &p->height))
    return lucy__fail(LUCY_ERR_FORMAT, "%s: page %zu has no image width or length tag", r->name,
                      ifd);
  if (p->width == 0 || p->height == 0)
    return lucy__fail(LUCY_ERR_FORMAT, "%s: page %zu is empty (%ux%u pixels)", r->name, ifd,
                      p->width, p->height);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &p->bps);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &p->spp);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &p->format);
  TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &p->compression);
  p->has_photometric = TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &p->photometric);
  char why[200];
  const char *refusal = colour_refusal(p, why, sizeof why);
  if (refusal) return lucy__fail(LUCY_ERR_UNSUPPORTED, "%s: page %zu: %s", r->name, ifd, refusal);
  if (!sample_type(p->format, p->bps, &p->type))
    return lucy__fail(LUCY_ERR_UNSUPPORTED, "%s: page %zu: %u-bit %s samples are not supported",
                      r->name, ifd, p->bps, format_name(p->format));
  if (!TIFFIsCODECConfigured(p->compression))
    return lucy__fail(LUCY_ERR_UNSUPPORTED,
                      "%s: page %zu: compression %s (%u) cannot be decoded by this libtiff build",
                      r->name, ifd, compression_name(p->compression), p->compression);
  return page_geometry(r, ifd, p);
}

/* Every page of the stack must match the first: a stack is one array. */
static LucyStatus page_compare(const Reader *r, size_t ifd, const Page *p, size_t ifd0,
                               const Page *p0) {
  if (p->width != p0->width || p->height != p0->height)
    return lucy__fail(LUCY_ERR_FORMAT, "%s: page %zu is %ux%u but page %zu is %ux%u", r->name,
                      ifd, p->width, p->height, ifd0, p0->width, p0->height);
  if (p->bps != p0->bps || p->type != p0->type)
    return lucy__fail(LUCY_ERR_FORMAT,
                      "%s: page %zu has %u-bit %s samples but page %zu has %u-bit %s samples",
                      r->name, ifd, p->bps, format_name(p->format), ifd0, p0->bps,
                      format_name(p0->format));
  return LUCY_OK;
}

static uint64_t row_bytes(uint32_t width, unsigned bps) { return ((uint64_t)width * bps + 7) / 8; }

/* Refuses declared sizes the file cannot hold, before anything large is allocated. */
static LucyStatus page_check_size(const Reader *r, size_t ifd, const Page *p) {
  uint64_t raw = (uint64_t)p->height * row_bytes(p->width, p->bps);
  if (p->compression == COMPRESSION_NONE && raw > r->file_size)
    return lucy__fail(LUCY_ERR_FORMAT,
                      "%s: page %zu declares %ux%u %u-bit samples (%llu bytes uncompressed) but "
                      "the file has only %llu bytes (truncated or corrupt)",
                      r->name, ifd, p->width, p->height, p->bps, (unsigned long long)raw,
                      (unsigned long long)r->file_size);
  if (p->tiled) {
    uint64_t tile = (uint64_t)p->tile_h * row_bytes(p->tile_w, p->bps);
    if (tile > 16 * raw + ((uint64_t)16 << 20))
      return lucy__fail(LUCY_ERR_FORMAT, "%s: page %zu has absurd %ux%u tiles for a %ux%u image",
                        r->name, ifd, p->tile_w, p->tile_h, p->width, p->height);
  }
  return LUCY_OK;
}

static LucyStatus go_to(Reader *r, size_t ifd) {
  if (ifd == r->cur) return LUCY_OK;
  lucy__tiff_ctx_reset(&r->ctx);
  /* Reading on sequentially avoids walking the IFD chain from the start for every page. */
  int ok = ifd == r->cur + 1 ? TIFFReadDirectory(r->tif) : TIFFSetDirectory(r->tif, (tdir_t)ifd);
  if (!ok) {
    r->cur = SIZE_MAX;
    return lucy__fail(LUCY_ERR_FORMAT, "%s: IFD (page) %zu cannot be read: %s", r->name, ifd,
                      lucy__tiff_ctx_message(&r->ctx));
  }
  r->cur = ifd;
  return LUCY_OK;
}

/* ---- sample conversion ---- */

/* n samples of one row (rows start on a byte boundary) into floats. */
static void convert_row(const uint8_t *src, size_t n, const Page *p, float *dst) {
  if (p->bps < 8) { /* MSB-first: libtiff has already applied FillOrder */
    unsigned mask = (1u << p->bps) - 1;
    for (size_t i = 0; i < n; i++) {
      size_t bit = i * p->bps;
      dst[i] = (float)((src[bit >> 3] >> (8 - p->bps - (bit & 7))) & mask);
    }
    return;
  }
#define CONVERT(T)                                                                           \
  for (size_t i = 0; i < n; i++) {                                                           \
    T v;                                                                                     \
    memcpy(&v, src + i * sizeof v, sizeof v);                                                \
    dst[i] = (float)v;                                                                       \
  }                                                                                          \
  break
  switch (p->type) {
  case LUCY_U8: CONVERT(uint8_t);
  case LUCY_I8: CONVERT(int8_t);
  case LUCY_U16: CONVERT(uint16_t);
  case LUCY_I16: CONVERT(int16_t);
  case LUCY_U32: CONVERT(uint32_t);
  case LUCY_I32: CONVERT(int32_t);
  case LUCY_F32: CONVERT(float);
  case LUCY_F64: CONVERT(double);
  }
#undef CONVERT
}

/* ---- decoding one page ---- */

static LucyStatus decode_failed(Reader *r, const Page *p, size_t ifd, const char *what,
                                uint32_t index, tmsize_t got, tmsize_t want) {
  if (got < 0)
    return lucy__fail(LUCY_ERR_FORMAT, "%s: %s %u of page %zu could not be decoded (%s): %s",
                      r->name, what, index, ifd, compression_name(p->compression),
                      lucy__tiff_ctx_message(&r->ctx));
  return lucy__fail(LUCY_ERR_FORMAT,
                    "%s: %s %u of page %zu is short: %lld of %lld bytes decoded (%s)", r->name,
                    what, index, ifd, (long long)got, (long long)want,
                    lucy__tiff_ctx_message(&r->ctx));
}

/* Data past the end of a file whose directories are intact (a writer that puts every IFD
 * first, cut short) would be libtiff's "Read error ... got N bytes": call it truncated. */
static LucyStatus strile_past_end(const Reader *r, size_t ifd, const char *what, uint32_t index,
                                  uint64_t at, uint64_t bytes) {
  const unsigned long long size = r->file_size, start = at, end = at + bytes;
  if (at >= r->file_size)
    return lucy__fail(LUCY_ERR_FORMAT, "%s is truncated: its %llu bytes end before %s %u of "
                      "page %zu, which starts at byte %llu", r->name, size, what, index, ifd,
                      start);
  return lucy__fail(LUCY_ERR_FORMAT, "%s is truncated: its %llu bytes end inside %s %u of page "
                    "%zu, which starts at byte %llu and ends at byte %llu", r->name, size, what,
                    index, ifd, start, end);
}

/* A strip or tile with no bytes is "sparse" to libtiff, which would return zeros: for
 * measurement data that is missing data, not a black region. */
static LucyStatus check_strile(Reader *r, size_t ifd, const char *what, uint32_t index) {
  int err = 0;
  uint64_t bytes = TIFFGetStrileByteCountWithErr(r->tif, index, &err);
  if (err || bytes == 0)
    return lucy__fail(LUCY_ERR_FORMAT, "%s: %s %u of page %zu has no data (byte count 0)%s%s",
                      r->name, what, index, ifd, err ? ": " : "",
                      err ? lucy__tiff_ctx_message(&r->ctx) : "");
  uint64_t at = TIFFGetStrileOffsetWithErr(r->tif, index, &err);
  if (!err && (at > r->file_size || bytes > r->file_size - at))
    return strile_past_end(r, ifd, what, index, at, bytes);
  return LUCY_OK;
}

static LucyStatus read_strips(Reader *r, const Page *p, size_t ifd, float *dst) {
  uint64_t rb = row_bytes(p->width, p->bps);
  uint32_t rps = p->rows_per_strip;
  uint32_t need = (uint32_t)(((uint64_t)p->height + rps - 1) / rps);
  if (TIFFNumberOfStrips(r->tif) < need)
    return lucy__fail(LUCY_ERR_FORMAT, "%s: page %zu has %u strips but %u rows need %u",
                      r->name, ifd, TIFFNumberOfStrips(r->tif), p->height, need);
  uint8_t *buf = malloc((size_t)(rps * rb));
  if (!buf)
    return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "%s: no memory for a %llu-byte strip buffer",
                      r->name, (unsigned long long)(rps * rb));
  LucyStatus st = LUCY_OK;
  for (uint32_t s = 0; s < need && st == LUCY_OK; s++) {
    uint32_t y0 = s * rps, rows = p->height - y0 < rps ? p->height - y0 : rps;
    tmsize_t want = (tmsize_t)(rows * rb);
    if ((st = check_strile(r, ifd, "strip", s)) != LUCY_OK) break;
    lucy__tiff_ctx_reset(&r->ctx);
    tmsize_t got = TIFFReadEncodedStrip(r->tif, s, buf, want);
    if (got != want) {
      st = decode_failed(r, p, ifd, "strip", s, got, want);
      break;
    }
    for (uint32_t y = 0; y < rows; y++)
      convert_row(buf + y * rb, p->width, p, dst + (size_t)(y0 + y) * p->width);
  }
  free(buf);
  return st;
}

static LucyStatus read_one_tile(Reader *r, const Page *p, size_t ifd, uint32_t x0, uint32_t y0,
                                uint8_t *buf, float *row_tmp, float *dst) {
  uint64_t rb = row_bytes(p->tile_w, p->bps);
  tmsize_t want = (tmsize_t)(p->tile_h * rb);
  uint32_t t = TIFFComputeTile(r->tif, x0, y0, 0, 0);
  LucyStatus st = check_strile(r, ifd, "tile", t);
  if (st != LUCY_OK) return st;
  lucy__tiff_ctx_reset(&r->ctx);
  tmsize_t got = TIFFReadEncodedTile(r->tif, t, buf, want);
  if (got != want) return decode_failed(r, p, ifd, "tile", t, got, want);
  uint32_t rows = p->height - y0 < p->tile_h ? p->height - y0 : p->tile_h;
  uint32_t cols = p->width - x0 < p->tile_w ? p->width - x0 : p->tile_w;
  for (uint32_t y = 0; y < rows; y++) {
    convert_row(buf + y * rb, p->tile_w, p, row_tmp);
    memcpy(dst + (size_t)(y0 + y) * p->width + x0, row_tmp, cols * sizeof(float));
  }
  return LUCY_OK;
}

static LucyStatus read_tiles(Reader *r, const Page *p, size_t ifd, float *dst) {
  uint64_t across = ((uint64_t)p->width + p->tile_w - 1) / p->tile_w;
  uint64_t down = ((uint64_t)p->height + p->tile_h - 1) / p->tile_h;
  if (TIFFNumberOfTiles(r->tif) < across * down)
    return lucy__fail(LUCY_ERR_FORMAT, "%s: page %zu has %u tiles but needs %llu", r->name, ifd,
                      TIFFNumberOfTiles(r->tif), (unsigned long long)(across * down));
  size_t bytes = (size_t)(p->tile_h * row_bytes(p->tile_w, p->bps));
  uint8_t *buf = malloc(bytes);
  float *row_tmp = malloc(p->tile_w * sizeof(float));
  LucyStatus st = LUCY_OK;
  if (!buf || !row_tmp)
    st = lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "%s: no memory for a %zu-byte tile buffer", r->name,
                    bytes);
  for (uint64_t ty = 0; ty < down && st == LUCY_OK; ty++)
    for (uint64_t tx = 0; tx < across && st == LUCY_OK; tx++)
      st = read_one_tile(r, p, ifd, (uint32_t)(tx * p->tile_w), (uint32_t)(ty * p->tile_h), buf,
                         row_tmp, dst);
  free(buf);
  free(row_tmp);
  return st;
}

/* ---- the stack ---- */

typedef struct {
  LucyTiffMeta meta;
  size_t channel, frame;
  size_t *ifds; /* IFD of each z plane */
  Page first;
  char note[256];
} Plan;

static void note_add(char *note, size_t size, const char *text) {
  if (!text[0]) return;
  size_t len = strlen(note);
  snprintf(note + len, size - len, "%s%s", len ? "; " : "", text);
}

static LucyStatus plan_choose(Reader *r, const LucyTiffReadOptions *opts, Plan *pl) {
  const LucyTiffMeta *m = &pl->meta;
  pl->channel = opts ? opts->channel : 0;
  pl->frame = opts ? opts->frame : 0;
  if (pl->channel >= m->channels)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "%s: channel %zu is out of range: the file has %zu channel%s (0..%zu)",
                      r->name, pl->channel, m->channels, m->channels == 1 ? "" : "s",
                      m->channels - 1);
  if (pl->frame >= m->frames)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "%s: frame %zu is out of range: the file has %zu frame%s (0..%zu)", r->name,
                      pl->frame, m->frames, m->frames == 1 ? "" : "s", m->frames - 1);
  char text[200];
  if (m->channels > 1 || m->frames > 1) {
    /* What was read, not how to choose: that depends on the caller (CLI options, a GUI). */
    snprintf(text, sizeof text, "file has %zu channel%s and %zu frame%s; read channel %zu, "
             "frame %zu", m->channels,
             m->channels == 1 ? "" : "s", m->frames, m->frames == 1 ? "" : "s", pl->channel,
             pl->frame);
    note_add(pl->note, sizeof pl->note, text);
  }
  if (m->ome_images > 1) {
    snprintf(text, sizeof text, "OME-XML describes %zu images; read the first", m->ome_images);
    note_add(pl->note, sizeof pl->note, text);
  }
  note_add(pl->note, sizeof pl->note, m->note);
  return LUCY_OK;
}

static LucyStatus plan_ifds(Reader *r, Plan *pl) {
  const LucyTiffMeta *m = &pl->meta;
  if (m->kind == LUCY_META_IMAGEJ && m->images > 1 && r->pages == 1)
    return lucy__fail(LUCY_ERR_UNSUPPORTED,
                      "%s: ImageJ description says images=%zu but the file has one IFD: ImageJ's "
                      "raw layout for stacks over 4 GiB is not supported (save as BigTIFF or "
                      "OME-TIFF)", r->name, m->images);
  int all_pages = m->kind == LUCY_META_NONE || (m->kind == LUCY_META_IMAGEJ && m->images == 0);
  size_t nz = all_pages ? r->pages : m->slices;
  if (nz > r->pages)
    return lucy__fail(LUCY_ERR_FORMAT, "%s: metadata describes %zu z slices but the file has "
                      "only %zu IFDs", r->name, nz, r->pages);
  pl->ifds = malloc(nz * sizeof *pl->ifds);
  if (!pl->ifds) return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "%s: out of memory", r->name);
  for (size_t z = 0; z < nz; z++) {
    LucyStatus st = lucy__tiff_meta_plane_ifd(m, z, pl->channel, pl->frame, &pl->ifds[z]);
    if (st != LUCY_OK) return lucy__fail_context(st, "%s: ", r->name);
    if (pl->ifds[z] >= r->pages)
      return lucy__fail(LUCY_ERR_FORMAT,
                        "%s: plane z=%zu c=%zu t=%zu is in IFD %zu but the file has only %zu "
                        "IFDs (multi-file datasets are not supported)",
                        r->name, z, pl->channel, pl->frame, pl->ifds[z], r->pages);
  }
  pl->meta.slices = nz;
  return LUCY_OK;
}

static LucyStatus plan_metadata(Reader *r, Plan *pl) {
  const char *desc = NULL;
  if (!TIFFGetField(r->tif, TIFFTAG_IMAGEDESCRIPTION, &desc)) desc = NULL;
  LucyStatus st = lucy__tiff_meta_parse(desc, &pl->meta);
  if (st != LUCY_OK) return lucy__fail_context(st, "%s: ", r->name);
  float xres = 0, yres = 0;
  uint16_t unit = RESUNIT_NONE;
  int have = TIFFGetField(r->tif, TIFFTAG_XRESOLUTION, &xres) &&
             TIFFGetField(r->tif, TIFFTAG_YRESOLUTION, &yres);
  TIFFGetFieldDefaulted(r->tif, TIFFTAG_RESOLUTIONUNIT, &unit);
  lucy__tiff_meta_resolution(&pl->meta, xres, yres, have, unit);
  return LUCY_OK;
}

/* Checks every page of the stack before allocating the volume. */
static LucyStatus plan_pages(Reader *r, Plan *pl) {
  uint64_t voxels = 0, raw = 0;
  int compressed = 0;
  for (size_t z = 0; z < pl->meta.slices; z++) {
    Page p;
    LucyStatus st = go_to(r, pl->ifds[z]);
    if (st == LUCY_OK) st = page_read_layout(r, pl->ifds[z], &p);
    if (st == LUCY_OK && z > 0) st = page_compare(r, pl->ifds[z], &p, pl->ifds[0], &pl->first);
    if (st == LUCY_OK) st = page_check_size(r, pl->ifds[z], &p);
    if (st != LUCY_OK) return st;
    if (z == 0) pl->first = p;
    compressed |= p.compression != COMPRESSION_NONE;
    voxels += (uint64_t)p.width * p.height;
    if (p.compression == COMPRESSION_NONE) raw += p.height * row_bytes(p.width, p.bps);
  }
  /* Each page alone fits in the file; together they must too (pages of a stack do not share
   * their data). */
  if (raw > r->file_size)
    return lucy__fail(LUCY_ERR_FORMAT,
                      "%s: %zu uncompressed pages of %ux%u %u-bit samples need %llu bytes but the "
                      "file has only %llu bytes (truncated or corrupt)",
                      r->name, pl->meta.slices, pl->first.width, pl->first.height, pl->first.bps,
                      (unsigned long long)raw, (unsigned long long)r->file_size);
  uint64_t budget = r->file_size * MAX_VOXELS_PER_FILE_BYTE;
  if (budget < MIN_VOXEL_BUDGET || r->file_size > UINT64_MAX / MAX_VOXELS_PER_FILE_BYTE)
    budget = r->file_size > UINT64_MAX / MAX_VOXELS_PER_FILE_BYTE ? UINT64_MAX : MIN_VOXEL_BUDGET;
  if (compressed && voxels > budget)
    return lucy__fail(LUCY_ERR_FORMAT,
                      "%s: %zu pages of %ux%u pixels (%llu voxels) cannot come from a %llu-byte "
                      "file: more than %u voxels per byte (corrupt header?)",
                      r->name, pl->meta.slices, pl->first.width, pl->first.height,
                      (unsigned long long)voxels, (unsigned long long)r->file_size,
                      MAX_VOXELS_PER_FILE_BYTE);
  return LUCY_OK;
}

static LucyStatus read_planes(Reader *r, Plan *pl, LucyVolume *vol) {
  size_t plane = (size_t)pl->first.width * pl->first.height;
  for (size_t z = 0; z < pl->meta.slices; z++) {
    Page p;
    LucyStatus st = go_to(r, pl->ifds[z]);
    if (st == LUCY_OK) st = page_read_layout(r, pl->ifds[z], &p);
    if (st != LUCY_OK) return st;
    float *dst = vol->data + z * plane;
    st = p.tiled ? read_tiles(r, &p, pl->ifds[z], dst) : read_strips(r, &p, pl->ifds[z], dst);
    if (st != LUCY_OK) return st;
  }
  return LUCY_OK;
}

static void fill_info(Reader *r, Plan *pl, LucyTiffInfo *info) {
  const LucyTiffMeta *m = &pl->meta;
  memset(info, 0, sizeof *info);
  info->sample_type = pl->first.type;
  info->bits_per_sample = pl->first.bps;
  info->pages = r->pages;
  info->slices = m->slices;
  info->channels = m->channels;
  info->frames = m->frames;
  info->channel = pl->channel;
  info->frame = pl->frame;
  info->bigtiff = TIFFIsBigTIFF(r->tif) ? 1 : 0;
  info->big_endian = TIFFIsBigEndian(r->tif) ? 1 : 0;
  snprintf(info->compression, sizeof info->compression, "%s",
           compression_name(pl->first.compression));
  snprintf(info->calibration, sizeof info->calibration, "%s", m->calibration);
  snprintf(info->unit, sizeof info->unit, "%s", m->unit);
  if (pl->first.photometric == PHOTOMETRIC_MINISWHITE && pl->first.has_photometric)
    note_add(pl->note, sizeof pl->note, "photometric MinIsWhite: values read as stored");
  if (m->lucy_scaled) {
    char text[120];
    lucy__snprintf_c(text, sizeof text,
                     "stored as uint16 by Lucy (lucy_scale=%.9g, lucy_offset=%.9g); values read "
                     "as stored", m->lucy_scale, m->lucy_offset);
    note_add(pl->note, sizeof pl->note, text);
  }
  snprintf(info->note, sizeof info->note, "%s", pl->note);
}

static LucyStatus read_stack(Reader *r, const LucyTiffReadOptions *opts, LucyVolume **out,
                             LucyTiffInfo *info) {
  Plan pl;
  memset(&pl, 0, sizeof pl);
  LucyVolume *vol = NULL;
  LucyStatus st = plan_metadata(r, &pl);
  if (st == LUCY_OK) st = plan_choose(r, opts, &pl);
  if (st == LUCY_OK) st = plan_ifds(r, &pl);
  if (st == LUCY_OK) st = plan_pages(r, &pl);
  if (st == LUCY_OK) {
    size_t shape[3] = {pl.meta.slices, pl.first.height, pl.first.width};
    st = lucy_volume_new(shape, &vol);
    if (st != LUCY_OK) lucy__fail_context(st, "%s: ", r->name);
  }
  if (st == LUCY_OK) st = read_planes(r, &pl, vol);
  if (st == LUCY_OK) {
    memcpy(vol->voxel_um, pl.meta.voxel_um, sizeof vol->voxel_um);
    if (info) fill_info(r, &pl, info);
    *out = vol;
  } else {
    lucy_volume_free(vol);
  }
  free(pl.ifds);
  lucy__tiff_meta_free(&pl.meta);
  return st;
}

/* ---- entry points ---- */

static LucyStatus check_magic(const uint8_t *b, size_t size, const char *name) {
  if (size < 8)
    return lucy__fail(LUCY_ERR_FORMAT, "%s: %zu bytes is too short to be a TIFF file", name,
                      size);
  int classic = (b[0] == 'I' && b[1] == 'I' && b[2] == 42 && b[3] == 0) ||
                (b[0] == 'M' && b[1] == 'M' && b[2] == 0 && b[3] == 42);
  int big = (b[0] == 'I' && b[1] == 'I' && b[2] == 43 && b[3] == 0) ||
            (b[0] == 'M' && b[1] == 'M' && b[2] == 0 && b[3] == 43);
  if (!classic && !big)
    return lucy__fail(LUCY_ERR_FORMAT,
                      "%s: not a TIFF file (starts with bytes %02x %02x %02x %02x, not II*. or "
                      "MM.*)", name, b[0], b[1], b[2], b[3]);
  return LUCY_OK;
}

static uint64_t load_uint(const uint8_t *b, int little, int width) {
  uint64_t v = 0;
  for (int i = 0; i < width; i++) v |= (uint64_t)b[little ? i : width - 1 - i] << (8 * i);
  return v;
}

/* Where libtiff's "error fetching directory" happened: walks the IFD chain itself (pages + 1
 * directories at most) to find the first directory that does not lie inside the file, so that
 * a truncated file is called truncated (with the numbers) rather than reported as libtiff's
 * internal complaint. LUCY_OK when the directories walked all lie inside. */
static LucyStatus chain_problem(const uint8_t *b, size_t size, const char *name, size_t pages) {
  const int little = b[0] == 'I', big = b[2] == 43 || b[3] == 43;
  const int off = big ? 8 : 4, cnt = big ? 8 : 2, entry = big ? 20 : 12;
  if (big && size < 16) /* check_magic saw 8 bytes, all a classic header has */
    return lucy__fail(LUCY_ERR_FORMAT, "%s is truncated: its %zu bytes end inside the 16-byte "
                      "BigTIFF header", name, size);
  uint64_t at = load_uint(b + (big ? 8 : 4), little, off);
  if (at == 0)
    return lucy__fail(LUCY_ERR_FORMAT, "%s: the file has no IFD (page): its header points to "
                      "none (a file whose writer stopped before its first page)", name);
  for (size_t page = 0; page <= pages && at != 0; page++) {
    if (at > size || size - at < (uint64_t)cnt)
      return lucy__fail(LUCY_ERR_FORMAT,
                        "%s is truncated: its %zu bytes end before the directory (IFD) of page "
                        "%zu, which starts at byte %llu",
                        name, size, page, (unsigned long long)at);
    const uint64_t n = load_uint(b + at, little, cnt);
    const uint64_t end = at + (uint64_t)cnt + n * (uint64_t)entry + (uint64_t)off;
    if (n > size || end > size)
      return lucy__fail(LUCY_ERR_FORMAT,
                        "%s is truncated or corrupt: it has %zu bytes, but the directory (IFD) "
                        "of page %zu at byte %llu lists %llu entries and would end at byte %llu",
                        name, size, page, (unsigned long long)at, (unsigned long long)n,
                        (unsigned long long)end);
    at = load_uint(b + end - off, little, off);
  }
  return LUCY_OK;
}

static LucyStatus broken_chain(const uint8_t *b, size_t size, const char *name, size_t pages,
                               const char *libtiff) {
  LucyStatus st = chain_problem(b, size, name, pages);
  if (st != LUCY_OK) return st;
  return lucy__fail(LUCY_ERR_FORMAT, "%s: the chain of IFDs (pages) is broken after page %zu: %s",
                    name, pages ? pages - 1 : 0, libtiff);
}

static LucyStatus read_named(const void *bytes, size_t size, const char *name,
                             const LucyTiffReadOptions *opts, LucyVolume **out,
                             LucyTiffInfo *info) {
  if (!out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_tiff_read: out is NULL");
  *out = NULL;
  if (!bytes && size) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "%s: bytes is NULL", name);
  LucyStatus st = check_magic(bytes, size, name);
  if (st != LUCY_OK) return st;
  Reader r = {.name = name, .file_size = size};
  MemFile mf = {bytes, size, 0};
  TIFFOpenOptions *o = lucy__tiff_options_new(&r.ctx);
  if (!o) return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "%s: out of memory opening", name);
  r.tif = TIFFClientOpenExt(name, "r", (thandle_t)&mf, mem_read, mem_write, mem_seek, mem_close,
                            mem_size, mem_map, mem_unmap, o);
  TIFFOpenOptionsFree(o);
  if (!r.tif) {
    /* libtiff opens by reading the first directory: one cut off or missing says so */
    st = chain_problem(bytes, size, name, 0);
    if (st != LUCY_OK) return st;
    return lucy__fail(LUCY_ERR_FORMAT, "%s: not a readable TIFF file: %s", name,
                      lucy__tiff_ctx_message(&r.ctx));
  }
  lucy__tiff_ctx_reset(&r.ctx);
  r.pages = TIFFNumberOfDirectories(r.tif);
  /* A chain of IFDs that points past the end (a truncated file) must not read as fewer pages. */
  if (r.ctx.error[0])
    st = broken_chain(bytes, size, name, r.pages, r.ctx.error);
  else if (r.pages == 0)
    st = lucy__fail(LUCY_ERR_FORMAT, "%s: the file has no IFD (page)", name);
  if (st == LUCY_OK) st = read_stack(&r, opts, out, info);
  TIFFClose(r.tif);
  return st;
}

LucyStatus lucy_tiff_read_memory(const void *bytes, size_t size, const LucyTiffReadOptions *opts,
                                 LucyVolume **out, LucyTiffInfo *info) {
  return read_named(bytes, size, "<memory>", opts, out, info);
}

LucyStatus lucy_tiff_read(const char *path, const LucyTiffReadOptions *opts, LucyVolume **out,
                          LucyTiffInfo *info) {
  if (out) *out = NULL;
  if (!path || !out) return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_tiff_read: NULL argument");
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO must not block */
  if (fd < 0) return lucy__fail(LUCY_ERR_IO, "cannot open %s: %s", path, strerror(errno));
  struct stat sb;
  memset(&sb, 0, sizeof sb);
  if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
    int e = errno;
    close(fd);
    return S_ISDIR(sb.st_mode) ? lucy__fail(LUCY_ERR_IO, "%s is a folder, not a TIFF file", path)
                               : lucy__fail(LUCY_ERR_IO, "%s is not a regular file%s%s", path,
                                            e ? ": " : "", e ? strerror(e) : "");
  }
  if (sb.st_size < 8) {
    close(fd);
    return lucy__fail(LUCY_ERR_FORMAT, "%s: %lld bytes is too short to be a TIFF file", path,
                      (long long)sb.st_size);
  }
  /* Mapping gives the reader the file size and avoids a copy; the pages stay on disk. */
  void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  int e = errno;
  close(fd);
  if (map == MAP_FAILED)
    return lucy__fail(LUCY_ERR_IO, "cannot map %s (%lld bytes): %s", path,
                      (long long)sb.st_size, strerror(e));
  LucyStatus st = read_named(map, (size_t)sb.st_size, path, opts, out, info);
  munmap(map, (size_t)sb.st_size);
  return st;
}
