/* Writing float32 or scaled uint16 stacks as ImageJ hyperstack TIFFs, atomically.
 *
 * The ImageJ description (ImageJ=, images=, slices=, unit=micron, spacing=) plus
 * XResolution/YResolution = 1/dx, 1/dy with ResolutionUnit none is what both Fiji and
 * tifffile use to recover the shape and voxel size. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic-file.h"
#include "lucy/lucy.h"
#include "status-private.h"
#include "tiff-private.h"

/* Classic TIFF offsets are 32-bit; leave room for IFDs and the description. */
#define CLASSIC_LIMIT ((uint64_t)UINT32_MAX - ((uint64_t)64 << 20))
#define STRIP_TARGET_BYTES (256u * 1024u)

void lucy_tiff_write_options_default(LucyTiffWriteOptions *opts) {
  memset(opts, 0, sizeof *opts);
  opts->format = LUCY_TIFF_FLOAT32;
  opts->bigtiff = -1;
}

typedef struct {
  const char *path;
  const LucyVolume *vol;
  LucyTiffWriteOptions opts;
  double scale, offset; /* uint16: stored = round((v - offset) * scale) */
  double min, max;      /* finite data range (stored units for uint16) */
  int have_range;
  int bigtiff;
  uint32_t rows_per_strip;
  char desc[512];
  TIFF *tif;
  LucyTiffCtx ctx;
  char reason[320]; /* write_reason()'s message */
} Writer;

static LucyStatus check_volume(const char *path, const LucyVolume *vol) {
  if (!path || !vol || !vol->data)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "lucy_tiff_write: NULL path or volume");
  if (!vol->shape[0] || !vol->shape[1] || !vol->shape[2] || vol->shape[1] > UINT32_MAX ||
      vol->shape[2] > UINT32_MAX)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "%s: cannot write a %zux%zux%zu (z,y,x) volume as TIFF", path,
                      vol->shape[0], vol->shape[1], vol->shape[2]);
  for (int a = 0; a < 3; a++)
    if (!isfinite(vol->voxel_um[a]) || vol->voxel_um[a] <= 0)
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                        "%s: voxel size %g x %g x %g um (z,y,x) must be positive", path,
                        vol->voxel_um[0], vol->voxel_um[1], vol->voxel_um[2]);
  return LUCY_OK;
}

/* Finite range of the data; for uint16 also refuses NaN/Inf, which have no integer value. */
static LucyStatus scan_values(Writer *w) {
  const LucyVolume *v = w->vol;
  size_t n = lucy_shape_count(v->shape), bad = 0, first_bad = 0;
  double lo = INFINITY, hi = -INFINITY;
  for (size_t i = 0; i < n; i++) {
    float x = v->data[i];
    if (!isfinite(x)) {
      if (!bad++) first_bad = i;
      continue;
    }
    if (x < lo) lo = x;
    if (x > hi) hi = x;
  }
  w->have_range = lo <= hi;
  w->min = lo;
  w->max = hi;
  if (bad && w->opts.format == LUCY_TIFF_UINT16) {
    size_t plane = v->shape[1] * v->shape[2];
    return lucy__fail(LUCY_ERR_NUMERIC,
                      "%s: cannot store NaN or Inf as uint16: %zu non-finite voxels, the first "
                      "at z=%zu y=%zu x=%zu",
                      w->path, bad, first_bad / plane, first_bad % plane / v->shape[2],
                      first_bad % v->shape[2]);
  }
  return LUCY_OK;
}

static LucyStatus choose_scaling(Writer *w) {
  if (w->opts.format != LUCY_TIFF_UINT16) return LUCY_OK;
  if (w->opts.scale > 0) {
    if (!isfinite(w->opts.scale) || !isfinite(w->opts.offset))
      return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "%s: uint16 scale %g and offset %g must be "
                        "finite", w->path, w->opts.scale, w->opts.offset);
    w->scale = w->opts.scale;
    w->offset = w->opts.offset;
  } else { /* fit min..max to 0..65535 */
    w->offset = w->min;
    w->scale = w->max > w->min ? 65535.0 / (w->max - w->min) : 1.0;
    if (!isfinite(w->scale)) w->scale = 1.0; /* a range too narrow for double */
  }
  return LUCY_OK;
}

static uint16_t to_u16(const Writer *w, float v) {
  double s = (v - w->offset) * w->scale;
  if (!(s > 0)) return 0;
  if (s >= 65535.0) return 65535;
  return (uint16_t)floor(s + 0.5);
}

static LucyStatus choose_layout(Writer *w) {
  const LucyVolume *v = w->vol;
  size_t bytes_per = w->opts.format == LUCY_TIFF_UINT16 ? 2 : 4;
  uint64_t row = (uint64_t)v->shape[2] * bytes_per;
  uint64_t data = row * v->shape[1] * v->shape[0];
  int needs_big = data > CLASSIC_LIMIT;
  if (w->opts.bigtiff == 0 && needs_big)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT,
                      "%s: %llu bytes of samples do not fit in a classic TIFF (4 GiB): allow "
                      "BigTIFF", w->path, (unsigned long long)data);
  w->bigtiff = w->opts.bigtiff > 0 || (w->opts.bigtiff < 0 && needs_big);
  uint64_t rps = STRIP_TARGET_BYTES / row;
  if (rps < 1) rps = 1;
  if (rps > v->shape[1]) rps = v->shape[1];
  w->rows_per_strip = (uint32_t)rps;
  return LUCY_OK;
}

static void make_description(Writer *w) {
  const LucyVolume *v = w->vol;
  size_t n = 0, size = sizeof w->desc;
  n += (size_t)lucy__snprintf_c(w->desc + n, size - n, "ImageJ=1.11a\n");
  if (v->shape[0] > 1)
    n += (size_t)lucy__snprintf_c(w->desc + n, size - n, "images=%zu\nslices=%zu\n",
                                  v->shape[0], v->shape[0]);
  n += (size_t)lucy__snprintf_c(w->desc + n, size - n, "unit=micron\n");
  if (v->shape[0] > 1)
    n += (size_t)lucy__snprintf_c(w->desc + n, size - n, "spacing=%.9g\nloop=false\n",
                                  v->voxel_um[LUCY_Z]);
  if (w->have_range) {
    double lo = w->min, hi = w->max;
    if (w->opts.format == LUCY_TIFF_UINT16) lo = to_u16(w, (float)lo), hi = to_u16(w, (float)hi);
    n += (size_t)lucy__snprintf_c(w->desc + n, size - n, "min=%.9g\nmax=%.9g\n", lo, hi);
  }
  if (w->opts.format == LUCY_TIFF_UINT16)
    lucy__snprintf_c(w->desc + n, size - n, "lucy_scale=%.17g\nlucy_offset=%.17g\n", w->scale,
                     w->offset);
}

#define SET(tag, ...)                                                                        \
  if (!TIFFSetField(w->tif, tag, __VA_ARGS__))                                               \
    return lucy__fail(LUCY_ERR_IO, "%s: cannot set TIFF tag %s: %s", w->path, #tag,           \
                      lucy__tiff_ctx_message(&w->ctx));

static LucyStatus set_page_tags(Writer *w, size_t z) {
  const LucyVolume *v = w->vol;
  int u16 = w->opts.format == LUCY_TIFF_UINT16;
  SET(TIFFTAG_IMAGEWIDTH, (uint32_t)v->shape[2]);
  SET(TIFFTAG_IMAGELENGTH, (uint32_t)v->shape[1]);
  SET(TIFFTAG_BITSPERSAMPLE, u16 ? 16 : 32);
  SET(TIFFTAG_SAMPLESPERPIXEL, 1);
  SET(TIFFTAG_SAMPLEFORMAT, u16 ? SAMPLEFORMAT_UINT : SAMPLEFORMAT_IEEEFP);
  SET(TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
  SET(TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  SET(TIFFTAG_ROWSPERSTRIP, w->rows_per_strip);
  SET(TIFFTAG_COMPRESSION, w->opts.compress ? COMPRESSION_ADOBE_DEFLATE : COMPRESSION_NONE);
  SET(TIFFTAG_XRESOLUTION, 1.0 / v->voxel_um[LUCY_X]);
  SET(TIFFTAG_YRESOLUTION, 1.0 / v->voxel_um[LUCY_Y]);
  SET(TIFFTAG_RESOLUTIONUNIT, RESUNIT_NONE);
  if (z == 0) { /* ImageJ reads the description of the first page only */
    SET(TIFFTAG_IMAGEDESCRIPTION, w->desc);
    SET(TIFFTAG_SOFTWARE, "Lucy " LUCY_VERSION_STRING);
  }
  return LUCY_OK;
}

/* Why a libtiff write failed. libtiff only says "Write error"; the system's reason (a full
 * disk, a quota, an I/O error) is in errno, which the caller cleared before the call. */
static const char *write_reason(Writer *w, int err) {
  if (!err) return lucy__tiff_ctx_message(&w->ctx);
  snprintf(w->reason, sizeof w->reason, "%s (%s)", strerror(err),
           lucy__tiff_ctx_message(&w->ctx));
  return w->reason;
}

static LucyStatus write_page(Writer *w, size_t z, void *buf) {
  const LucyVolume *v = w->vol;
  size_t width = v->shape[2], height = v->shape[1];
  LucyStatus st = set_page_tags(w, z);
  if (st != LUCY_OK) return st;
  const float *plane = v->data + z * width * height;
  for (size_t y0 = 0, s = 0; y0 < height; y0 += w->rows_per_strip, s++) {
    size_t rows = height - y0 < w->rows_per_strip ? height - y0 : w->rows_per_strip;
    size_t n = rows * width;
    /* A copy, because libtiff may modify the buffer it encodes (byte swapping, predictors). */
    if (w->opts.format == LUCY_TIFF_UINT16)
      for (size_t i = 0; i < n; i++) ((uint16_t *)buf)[i] = to_u16(w, plane[y0 * width + i]);
    else
      memcpy(buf, plane + y0 * width, n * sizeof(float));
    tmsize_t bytes = (tmsize_t)(n * (w->opts.format == LUCY_TIFF_UINT16 ? 2 : 4));
    lucy__tiff_ctx_reset(&w->ctx);
    errno = 0;
    if (TIFFWriteEncodedStrip(w->tif, (uint32_t)s, buf, bytes) != bytes)
      return lucy__fail(LUCY_ERR_IO, "%s: writing strip %zu of page %zu failed: %s", w->path, s,
                        z, write_reason(w, errno));
  }
  lucy__tiff_ctx_reset(&w->ctx);
  errno = 0;
  if (!TIFFWriteDirectory(w->tif))
    return lucy__fail(LUCY_ERR_IO, "%s: writing the IFD of page %zu failed: %s", w->path, z,
                      write_reason(w, errno));
  return LUCY_OK;
}

/* LUCY_ERR_CANCELLED when the caller's progress function asks to stop. */
static LucyStatus cancelled(const Writer *w, double fraction) {
  if (w->opts.progress && w->opts.progress(w->opts.progress_user, fraction, "writing"))
    return lucy__fail(LUCY_ERR_CANCELLED, "%s: writing cancelled; nothing was written",
                      w->path);
  return LUCY_OK;
}

static LucyStatus write_pages(Writer *w, LucyAtomicFile *af) {
  /* libtiff closes the descriptor it is given; commit still needs af->fd to fsync. */
  int fd = dup(af->fd);
  if (fd < 0) return lucy__fail(LUCY_ERR_IO, "%s: dup failed", w->path);
  TIFFOpenOptions *o = lucy__tiff_options_new(&w->ctx);
  if (!o) {
    close(fd);
    return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "%s: out of memory", w->path);
  }
  w->tif = TIFFFdOpenExt(fd, af->tmp_path, w->bigtiff ? "w8" : "w", o);
  TIFFOpenOptionsFree(o);
  if (!w->tif) {
    close(fd);
    return lucy__fail(LUCY_ERR_IO, "%s: libtiff cannot write %s: %s", w->path, af->tmp_path,
                      lucy__tiff_ctx_message(&w->ctx));
  }
  size_t strip = (size_t)w->rows_per_strip * w->vol->shape[2] * sizeof(float);
  void *buf = malloc(strip);
  LucyStatus st = buf ? LUCY_OK
                      : lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "%s: no memory for a %zu-byte strip",
                                   w->path, strip);
  const size_t pages = w->vol->shape[0];
  for (size_t z = 0; z < pages && st == LUCY_OK; z++) {
    st = cancelled(w, (double)z / (double)pages);
    if (st == LUCY_OK) st = write_page(w, z, buf);
  }
  free(buf);
  lucy__tiff_ctx_reset(&w->ctx);
  errno = 0;
  /* TIFFClose cannot report a failed final write; TIFFFlush can. */
  if (st == LUCY_OK && !TIFFFlush(w->tif))
    st = lucy__fail(LUCY_ERR_IO, "%s: writing the last page failed: %s", w->path,
                    write_reason(w, errno));
  TIFFClose(w->tif);
  w->tif = NULL;
  return st;
}

LucyStatus lucy_tiff_write(const char *path, const LucyVolume *vol,
                           const LucyTiffWriteOptions *opts) {
  LucyStatus st = check_volume(path, vol);
  if (st != LUCY_OK) return st;
  Writer w;
  memset(&w, 0, sizeof w);
  w.path = path;
  w.vol = vol;
  if (opts) w.opts = *opts;
  else lucy_tiff_write_options_default(&w.opts);
  if (w.opts.format != LUCY_TIFF_FLOAT32 && w.opts.format != LUCY_TIFF_UINT16)
    return lucy__fail(LUCY_ERR_INVALID_ARGUMENT, "%s: unknown TIFF format %d", path,
                      (int)w.opts.format);
  if (w.opts.compress && !TIFFIsCODECConfigured(COMPRESSION_ADOBE_DEFLATE))
    return lucy__fail(LUCY_ERR_UNSUPPORTED, "%s: this libtiff cannot write deflate", path);
  if ((st = scan_values(&w)) != LUCY_OK || (st = choose_scaling(&w)) != LUCY_OK ||
      (st = choose_layout(&w)) != LUCY_OK)
    return st;
  make_description(&w);
  LucyAtomicFile af;
  if ((st = lucy__atomic_begin(&af, path, w.opts.overwrite)) != LUCY_OK) return st;
  st = write_pages(&w, &af);
  if (st == LUCY_OK) st = cancelled(&w, 1.0); /* the last chance before the file appears */
  if (st != LUCY_OK) {
    lucy__atomic_abort(&af);
    return st;
  }
  return lucy__atomic_commit(&af);
}
