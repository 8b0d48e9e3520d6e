/* TIFF reading and writing: round trips of every sample type and layout written with libtiff
 * directly, calibration, the shared data files against tifffile's values
 * (tests/fixtures/tiff/expected.txt), and bad input of every kind. */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <unistd.h>

#include "lucy/lucy.h"

/* ---- helpers ---- */

static char *tmp_dir(void) {
  GError *err = NULL;
  char *dir = g_dir_make_tmp("lucy-tiff-XXXXXX", &err);
  g_assert_no_error(err);
  return dir;
}

static void rm_rf(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  if (!d) return;
  const char *name;
  while ((name = g_dir_read_name(d))) {
    char *p = g_build_filename(dir, name, NULL);
    if (g_file_test(p, G_FILE_TEST_IS_DIR)) {
      g_chmod(p, 0755);
      rm_rf(p);
    } else {
      g_unlink(p);
    }
    g_free(p);
  }
  g_dir_close(d);
  g_rmdir(dir);
}

/* The folder's entries, sorted and joined with ',' (to see leftover temporaries). */
static char *listing(const char *dir) {
  GDir *d = g_dir_open(dir, 0, NULL);
  g_assert_nonnull(d);
  GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
  const char *name;
  while ((name = g_dir_read_name(d))) g_ptr_array_add(names, g_strdup(name));
  g_dir_close(d);
  g_ptr_array_sort(names, (GCompareFunc)g_strcmp0);
  g_ptr_array_add(names, NULL);
  char *joined = g_strjoinv(",", (char **)names->pdata);
  g_ptr_array_free(names, TRUE);
  return joined;
}

static void assert_msg(const char *needle) {
  const char *msg = lucy_error_message();
  if (!strstr(msg, needle)) g_error("message \"%s\" lacks \"%s\"", msg, needle);
}

#define assert_status(expr, status)                                                         \
  do {                                                                                        \
    LucyStatus st_ = (expr);                                                                  \
    if (st_ != (status))                                                                      \
      g_error("%s: got %s (%s), expected %s", #expr, lucy_status_name(st_),                  \
              lucy_error_message(), lucy_status_name(status));                               \
  } while (0)

/* ---- writing test files with libtiff directly ---- */

typedef struct {
  uint32_t w, h, pages;
  uint16_t bps, format, compression, predictor, fillorder, photometric, spp;
  uint32_t tile, rps; /* tile edge (0: strips), rows per strip (0: 3) */
  const char *mode;   /* "w" little-endian, "wb" big-endian, "w8" BigTIFF */
  const char *desc;
  double xres, yres;
  uint16_t resunit;
} Spec;

static Spec spec_default(uint32_t w, uint32_t h, uint32_t pages, uint16_t bps, uint16_t format) {
  Spec s = {w, h, pages, bps, format, COMPRESSION_NONE, 0, 0, PHOTOMETRIC_MINISBLACK, 1, 0, 3,
            "w", NULL, 0, 0, 0};
  return s;
}

static size_t row_bytes(const Spec *s, uint32_t w) { return ((size_t)w * s->bps * s->spp + 7) / 8; }

/* Value of sample i of a test pattern for the type, including both extremes. */
static double pattern(const Spec *s, size_t i) {
  if (s->format == SAMPLEFORMAT_IEEEFP) {
    double v = sin((double)i * 0.37) * 1000.0 + (double)(i % 7) * 1e-3;
    if (i == 1) v = s->bps == 32 ? 3.0e38 : 1e300;
    if (i == 2) v = -1e-30;
    return s->bps == 32 ? (double)(float)v : v;
  }
  double lo = s->format == SAMPLEFORMAT_INT ? -ldexp(1, s->bps - 1) : 0;
  double span = ldexp(1, s->bps);
  if (i == 0) return lo;
  if (i == 1) return lo + span - 1;
  return lo + fmod((double)i * 7919.0 + 13.0, span);
}

static void put_sample(const Spec *s, uint8_t *row, uint32_t x, double v) {
  if (s->bps < 8) {
    size_t bit = (size_t)x * s->bps;
    row[bit / 8] |= (uint8_t)((unsigned)v << (8 - s->bps - bit % 8));
    return;
  }
  uint8_t *p = row + (size_t)x * (s->bps / 8);
#define PUT(T) do { T t = (T)v; memcpy(p, &t, sizeof t); } while (0)
  if (s->format == SAMPLEFORMAT_IEEEFP) { /* 16-bit: half floats, refused; bits do not matter */
    if (s->bps == 16) PUT(uint16_t); else if (s->bps == 32) PUT(float); else PUT(double);
  } else if (s->format == SAMPLEFORMAT_INT) {
    if (s->bps == 8) PUT(int8_t); else if (s->bps == 16) PUT(int16_t); else PUT(int32_t);
  } else {
    if (s->bps == 8) PUT(uint8_t); else if (s->bps == 16) PUT(uint16_t); else PUT(uint32_t);
  }
#undef PUT
}

/* Raw rows of every page (rows padded to bytes) and the float values Lucy should produce. */
static uint8_t *make_raw(const Spec *s, float **values) {
  size_t rb = row_bytes(s, s->w), n = (size_t)s->w * s->h * s->pages;
  uint8_t *raw = g_malloc0(rb * s->h * s->pages);
  *values = g_malloc(n * sizeof(float));
  for (size_t r = 0; r < (size_t)s->h * s->pages; r++)
    for (uint32_t x = 0; x < s->w; x++) {
      size_t i = r * s->w + x;
      double v = pattern(s, i);
      put_sample(s, raw + r * rb, x, v);
      (*values)[i] = (float)v;
    }
  return raw;
}

static void write_tiles(TIFF *tif, const Spec *s, const uint8_t *page) {
  size_t trb = row_bytes(s, s->tile), rb = row_bytes(s, s->w);
  uint8_t *tile = g_malloc(trb * s->tile);
  g_assert(s->bps >= 8); /* tile columns start on byte boundaries */
  for (uint32_t y0 = 0; y0 < s->h; y0 += s->tile)
    for (uint32_t x0 = 0; x0 < s->w; x0 += s->tile) {
      memset(tile, 0, trb * s->tile);
      for (uint32_t y = 0; y < s->tile && y0 + y < s->h; y++) {
        uint32_t cols = MIN(s->tile, s->w - x0);
        memcpy(tile + y * trb, page + (y0 + y) * rb + x0 * s->bps / 8, cols * s->bps / 8);
      }
      g_assert_cmpint(TIFFWriteEncodedTile(tif, TIFFComputeTile(tif, x0, y0, 0, 0), tile,
                                           (tmsize_t)(trb * s->tile)), >=, 0);
    }
  g_free(tile);
}

static void write_page_tags(TIFF *tif, const Spec *s, uint32_t page) {
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, s->w);
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, s->h);
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, s->bps);
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, s->spp);
  TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, s->format);
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, s->photometric);
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
  TIFFSetField(tif, TIFFTAG_COMPRESSION, s->compression);
  if (s->predictor) TIFFSetField(tif, TIFFTAG_PREDICTOR, s->predictor);
  if (s->fillorder) TIFFSetField(tif, TIFFTAG_FILLORDER, s->fillorder);
  if (s->tile) {
    TIFFSetField(tif, TIFFTAG_TILEWIDTH, s->tile);
    TIFFSetField(tif, TIFFTAG_TILELENGTH, s->tile);
  } else {
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, s->rps ? s->rps : s->h);
  }
  if (s->photometric == PHOTOMETRIC_PALETTE) {
    uint16_t map[256] = {0};
    TIFFSetField(tif, TIFFTAG_COLORMAP, map, map, map);
  }
  if (page == 0 && s->desc) TIFFSetField(tif, TIFFTAG_IMAGEDESCRIPTION, s->desc);
  if (s->xres > 0) {
    TIFFSetField(tif, TIFFTAG_XRESOLUTION, s->xres);
    TIFFSetField(tif, TIFFTAG_YRESOLUTION, s->yres);
    TIFFSetField(tif, TIFFTAG_RESOLUTIONUNIT, s->resunit);
  }
}

static void write_tiff(const char *path, const Spec *s, const uint8_t *raw) {
  TIFF *tif = TIFFOpen(path, s->mode);
  g_assert_nonnull(tif);
  size_t rb = row_bytes(s, s->w);
  for (uint32_t p = 0; p < s->pages; p++) {
    const uint8_t *page = raw + (size_t)p * s->h * rb;
    write_page_tags(tif, s, p);
    if (s->tile) {
      write_tiles(tif, s, page);
    } else {
      uint32_t rps = s->rps ? s->rps : s->h;
      for (uint32_t y = 0, k = 0; y < s->h; y += rps, k++) {
        uint32_t rows = MIN(rps, s->h - y);
        uint8_t *copy = g_memdup2(page + y * rb, rows * rb); /* libtiff may modify it */
        g_assert_cmpint(TIFFWriteEncodedStrip(tif, k, copy, (tmsize_t)(rows * rb)), >=, 0);
        g_free(copy);
      }
    }
    g_assert_true(TIFFWriteDirectory(tif));
  }
  TIFFClose(tif);
}

static void assert_values(const LucyVolume *v, const float *expect, size_t n) {
  g_assert_cmpuint(lucy_shape_count(v->shape), ==, n);
  for (size_t i = 0; i < n; i++)
    if (memcmp(&v->data[i], &expect[i], sizeof(float)) != 0)
      g_error("voxel %zu: read %.9g, expected %.9g", i, v->data[i], expect[i]);
}

/* Writes the spec with libtiff, reads it from the file and from memory, compares exactly. */
static void round_trip(const Spec *s, LucySampleType type) {
  char *dir = tmp_dir();
  char *path = g_build_filename(dir, "in.tif", NULL);
  float *values;
  uint8_t *raw = make_raw(s, &values);
  write_tiff(path, s, raw);
  LucyVolume *v = NULL;
  LucyTiffInfo info;
  assert_status(lucy_tiff_read(path, NULL, &v, &info), LUCY_OK);
  g_assert_cmpuint(v->shape[0], ==, s->pages);
  g_assert_cmpuint(v->shape[1], ==, s->h);
  g_assert_cmpuint(v->shape[2], ==, s->w);
  assert_values(v, values, (size_t)s->w * s->h * s->pages);
  g_assert_cmpint(info.sample_type, ==, type);
  g_assert_cmpuint(info.bits_per_sample, ==, s->bps);
  g_assert_cmpuint(info.pages, ==, s->pages);
  g_assert_cmpint(info.bigtiff, ==, strchr(s->mode, '8') != NULL);
  g_assert_cmpint(info.big_endian, ==, strchr(s->mode, 'b') != NULL);
  lucy_volume_free(v);

  gchar *bytes;
  gsize size;
  g_assert_true(g_file_get_contents(path, &bytes, &size, NULL));
  assert_status(lucy_tiff_read_memory(bytes, size, NULL, &v, NULL), LUCY_OK);
  assert_values(v, values, (size_t)s->w * s->h * s->pages);
  lucy_volume_free(v);
  g_free(bytes);
  g_free(raw);
  g_free(values);
  g_free(path);
  rm_rf(dir);
  g_free(dir);
}

/* ---- round trips ---- */

static void test_every_sample_type(void) {
  static const struct { uint16_t bps, format; LucySampleType type; } types[] = {
      {8, SAMPLEFORMAT_UINT, LUCY_U8},     {8, SAMPLEFORMAT_INT, LUCY_I8},
      {16, SAMPLEFORMAT_UINT, LUCY_U16},   {16, SAMPLEFORMAT_INT, LUCY_I16},
      {32, SAMPLEFORMAT_UINT, LUCY_U32},   {32, SAMPLEFORMAT_INT, LUCY_I32},
      {32, SAMPLEFORMAT_IEEEFP, LUCY_F32}, {64, SAMPLEFORMAT_IEEEFP, LUCY_F64},
  };
  for (size_t t = 0; t < G_N_ELEMENTS(types); t++) {
    Spec s = spec_default(13, 7, 3, types[t].bps, types[t].format);
    round_trip(&s, types[t].type);
  }
}

static void test_sub_byte(void) {
  for (uint16_t bps = 1; bps <= 4; bps *= 2) {
    Spec s = spec_default(13, 5, 2, bps, SAMPLEFORMAT_UINT); /* 13: rows end mid-byte */
    round_trip(&s, LUCY_U8);
    s.fillorder = FILLORDER_LSB2MSB; /* libtiff reverses the bits on write and read */
    round_trip(&s, LUCY_U8);
    s.compression = COMPRESSION_PACKBITS;
    round_trip(&s, LUCY_U8);
  }
}

static void test_layouts(void) {
  Spec s = spec_default(37, 21, 4, 16, SAMPLEFORMAT_UINT);
  s.tile = 16; /* edge tiles on both axes */
  round_trip(&s, LUCY_U16);
  s.mode = "wb";
  round_trip(&s, LUCY_U16);
  s.tile = 0;
  round_trip(&s, LUCY_U16);
  s.mode = "w8";
  round_trip(&s, LUCY_U16);
  s.mode = "w8b";
  s.tile = 16;
  s.format = SAMPLEFORMAT_IEEEFP;
  s.bps = 32;
  round_trip(&s, LUCY_F32);
  Spec one = spec_default(1, 1, 1, 8, SAMPLEFORMAT_UINT);
  round_trip(&one, LUCY_U8);
}

static void test_compressions(void) {
  static const uint16_t codecs[] = {COMPRESSION_LZW, COMPRESSION_ADOBE_DEFLATE,
                                    COMPRESSION_PACKBITS};
  for (size_t c = 0; c < G_N_ELEMENTS(codecs); c++) {
    Spec s = spec_default(29, 11, 3, 16, SAMPLEFORMAT_INT);
    s.compression = codecs[c];
    round_trip(&s, LUCY_I16);
    if (codecs[c] != COMPRESSION_PACKBITS) s.predictor = PREDICTOR_HORIZONTAL;
    s.mode = "wb";
    round_trip(&s, LUCY_I16);
    Spec f = spec_default(29, 11, 2, 32, SAMPLEFORMAT_IEEEFP);
    f.compression = codecs[c];
    f.tile = 16;
    if (codecs[c] != COMPRESSION_PACKBITS) f.predictor = PREDICTOR_FLOATINGPOINT;
    round_trip(&f, LUCY_F32);
  }
}

/* ---- metadata ---- */

static LucyStatus read_spec(const Spec *s, const LucyTiffReadOptions *o, LucyVolume **v,
                            LucyTiffInfo *info, float **values) {
  char *dir = tmp_dir();
  char *path = g_build_filename(dir, "meta.tif", NULL);
  uint8_t *raw = make_raw(s, values);
  write_tiff(path, s, raw);
  LucyStatus st = lucy_tiff_read(path, o, v, info);
  g_free(raw);
  g_free(path);
  rm_rf(dir);
  g_free(dir);
  return st;
}

static void test_imagej_hyperstack(void) {
  Spec s = spec_default(4, 3, 2 * 3 * 2, 16, SAMPLEFORMAT_UINT);
  s.desc = "ImageJ=1.53t\nimages=12\nchannels=2\nslices=3\nframes=2\nhyperstack=true\n"
           "unit=nm\nspacing=300\n";
  s.xres = 1 / 65.0, s.yres = 1 / 130.0, s.resunit = RESUNIT_NONE;
  LucyTiffReadOptions o;
  lucy_tiff_read_options_default(&o);
  o.channel = 1;
  o.frame = 1;
  LucyVolume *v = NULL;
  LucyTiffInfo info;
  float *values;
  assert_status(read_spec(&s, &o, &v, &info, &values), LUCY_OK);
  g_assert_cmpuint(v->shape[0], ==, 3);
  size_t plane = 12;
  for (size_t z = 0; z < 3; z++) /* ImageJ order: c fastest, then z, then t */
    for (size_t i = 0; i < plane; i++)
      g_assert_cmpfloat(v->data[z * plane + i], ==, values[(1 + 2 * (z + 3 * 1)) * plane + i]);
  g_assert_cmpfloat_with_epsilon(v->voxel_um[0], 0.3, 1e-9);
  g_assert_cmpfloat_with_epsilon(v->voxel_um[1], 0.130, 1e-6);
  g_assert_cmpfloat_with_epsilon(v->voxel_um[2], 0.065, 1e-6);
  g_assert_cmpstr(info.calibration, ==, "imagej");
  g_assert_cmpstr(info.unit, ==, "nm");
  g_assert_cmpuint(info.channels, ==, 2);
  g_assert_cmpuint(info.frames, ==, 2);
  g_assert_cmpuint(info.slices, ==, 3);
  g_assert_cmpuint(info.channel, ==, 1);
  g_assert_nonnull(strstr(info.note, "2 channels"));
  lucy_volume_free(v);
  g_free(values);

  o.channel = 2;
  assert_status(read_spec(&s, &o, &v, NULL, &values), LUCY_ERR_INVALID_ARGUMENT);
  assert_msg("channel 2 is out of range: the file has 2 channels");
  g_assert_null(v);
  g_free(values);
  o.channel = 0;
  o.frame = 5;
  assert_status(read_spec(&s, &o, &v, NULL, &values), LUCY_ERR_INVALID_ARGUMENT);
  assert_msg("frame 5 is out of range: the file has 2 frames");
  g_free(values);

  /* A minimal ImageJ description without images=: every page is a z slice. */
  s.desc = "ImageJ=1.53t\nunit=micron\nspacing=2\n";
  assert_status(read_spec(&s, NULL, &v, &info, &values), LUCY_OK);
  g_assert_cmpuint(v->shape[0], ==, 12);
  g_assert_cmpfloat(v->voxel_um[0], ==, 2.0);
  g_assert_cmpuint(info.channels, ==, 1);
  assert_values(v, values, 12 * plane);
  lucy_volume_free(v);
  g_free(values);

  s.desc = "ImageJ=1.53t\nimages=12\nchannels=5\nslices=3\n";
  assert_status(read_spec(&s, NULL, &v, NULL, &values), LUCY_ERR_FORMAT);
  assert_msg("images=12 but channels x slices x frames = 5 x 3 x 1 = 15");
  g_free(values);
}

static void test_ome_order_and_units(void) {
  /* Planes stored C fastest (XYCZT), IFDs listed explicitly, sizes in nm and mm. */
  Spec s = spec_default(3, 2, 6, 8, SAMPLEFORMAT_UINT);
  s.desc = "<?xml version=\"1.0\"?><OME xmlns=\"http://www.openmicroscopy.org/Schemas/OME/2016-06\">"
           "<Image ID=\"Image:0\"><Pixels DimensionOrder=\"XYCZT\" SizeX=\"3\" SizeY=\"2\" "
           "SizeZ=\"3\" SizeC=\"2\" SizeT=\"1\" Type=\"uint8\" PhysicalSizeX=\"100\" "
           "PhysicalSizeXUnit=\"nm\" PhysicalSizeY=\"0.2\" PhysicalSizeZ=\"0.001\" "
           "PhysicalSizeZUnit=\"mm\"><TiffData IFD=\"0\" PlaneCount=\"6\"/></Pixels></Image>"
           "<Image ID=\"Image:1\"><Pixels SizeX=\"1\" SizeY=\"1\"/></Image></OME>";
  LucyTiffReadOptions o = {.channel = 1};
  LucyVolume *v = NULL;
  LucyTiffInfo info;
  float *values;
  assert_status(read_spec(&s, &o, &v, &info, &values), LUCY_OK);
  g_assert_cmpuint(v->shape[0], ==, 3);
  for (size_t z = 0; z < 3; z++)
    for (size_t i = 0; i < 6; i++) g_assert_cmpfloat(v->data[z * 6 + i], ==, values[(2 * z + 1) * 6 + i]);
  g_assert_cmpfloat_with_epsilon(v->voxel_um[0], 1.0, 1e-9);
  g_assert_cmpfloat_with_epsilon(v->voxel_um[1], 0.2, 1e-9);
  g_assert_cmpfloat_with_epsilon(v->voxel_um[2], 0.1, 1e-9);
  g_assert_cmpstr(info.calibration, ==, "ome");
  g_assert_nonnull(strstr(info.note, "2 images"));
  lucy_volume_free(v);
  g_free(values);
}

static void test_resolution_units(void) {
  Spec s = spec_default(4, 4, 1, 8, SAMPLEFORMAT_UINT);
  s.xres = 10000.0, s.yres = 5000.0, s.resunit = RESUNIT_CENTIMETER; /* 1 um, 2 um */
  LucyVolume *v = NULL;
  LucyTiffInfo info;
  float *values;
  assert_status(read_spec(&s, NULL, &v, &info, &values), LUCY_OK);
  g_assert_cmpfloat_with_epsilon(v->voxel_um[2], 1.0, 1e-9);
  g_assert_cmpfloat_with_epsilon(v->voxel_um[1], 2.0, 1e-9);
  g_assert_cmpfloat(v->voxel_um[0], ==, 1.0);
  g_assert_cmpstr(info.calibration, ==, "resolution");
  lucy_volume_free(v);
  g_free(values);
  s.resunit = RESUNIT_NONE; /* pixels per nothing: not a calibration */
  assert_status(read_spec(&s, NULL, &v, &info, &values), LUCY_OK);
  g_assert_cmpfloat(v->voxel_um[2], ==, 1.0);
  g_assert_cmpstr(info.calibration, ==, "none");
  lucy_volume_free(v);
  g_free(values);
}

/* Fiji's "uncalibrated": an ImageJ description without a length unit (tifffile writes none
 * unless asked) or with unit=pixel; OME without PhysicalSize. Each reads as 1 um voxels with
 * calibration "none", so callers say the size was assumed. */
static void test_uncalibrated_metadata(void) {
  static const char *const descs[] = {
      "ImageJ=1.11a\nimages=3\nslices=3\n",
      "ImageJ=1.11a\nimages=3\nslices=3\nunit=pixel\nspacing=1\n",
      "ImageJ=1.11a\nimages=3\nslices=3\nunit=pixels\n",
      "<OME><Image ID=\"Image:0\"><Pixels DimensionOrder=\"XYZCT\" SizeX=\"4\" SizeY=\"4\" "
      "SizeZ=\"3\" SizeC=\"1\" SizeT=\"1\"/></Image></OME>",
  };
  for (size_t i = 0; i < G_N_ELEMENTS(descs); i++) {
    Spec s = spec_default(4, 4, 3, 8, SAMPLEFORMAT_UINT);
    s.desc = descs[i];
    s.xres = 1, s.yres = 1, s.resunit = RESUNIT_NONE; /* what tifffile writes */
    LucyVolume *v = NULL;
    LucyTiffInfo info;
    float *values;
    assert_status(read_spec(&s, NULL, &v, &info, &values), LUCY_OK);
    g_assert_cmpstr(info.calibration, ==, "none");
    g_assert_cmpstr(info.note, ==, "");
    g_assert_cmpfloat(v->voxel_um[2], ==, 1.0);
    lucy_volume_free(v);
    g_free(values);
    /* a unit in the resolution tags is a physical length after all */
    s.xres = 10000.0, s.yres = 10000.0, s.resunit = RESUNIT_CENTIMETER;
    assert_status(read_spec(&s, NULL, &v, &info, &values), LUCY_OK);
    g_assert_cmpstr(info.calibration, ==, i == 1 || i == 2 ? "none" : "resolution");
    lucy_volume_free(v);
    g_free(values);
  }
}

/* ---- writing ---- */

static LucyVolume *ramp(size_t nz, size_t ny, size_t nx) {
  size_t shape[3] = {nz, ny, nx};
  LucyVolume *v = NULL;
  g_assert_cmpint(lucy_volume_new(shape, &v), ==, LUCY_OK);
  for (size_t i = 0; i < nz * ny * nx; i++) v->data[i] = (float)(sin((double)i) * 10.0 + 3.0);
  v->voxel_um[0] = 0.3, v->voxel_um[1] = 0.104, v->voxel_um[2] = 0.0645;
  return v;
}

static char *description_of(const char *path) {
  TIFF *tif = TIFFOpen(path, "r");
  g_assert_nonnull(tif);
  const char *d = NULL;
  g_assert_true(TIFFGetField(tif, TIFFTAG_IMAGEDESCRIPTION, &d));
  char *copy = g_strdup(d);
  TIFFClose(tif);
  return copy;
}

static void test_write_float_calibration(void) {
  char *dir = tmp_dir();
  char *path = g_build_filename(dir, "out.tif", NULL);
  LucyVolume *v = ramp(5, 6, 7), *back = NULL;
  LucyTiffWriteOptions o;
  lucy_tiff_write_options_default(&o);
  for (int compress = 0; compress <= 1; compress++) {
    o.compress = compress;
    o.overwrite = compress;
    assert_status(lucy_tiff_write(path, v, &o), LUCY_OK);
    LucyTiffInfo info;
    assert_status(lucy_tiff_read(path, NULL, &back, &info), LUCY_OK);
    assert_values(back, v->data, 5 * 6 * 7);
    for (int a = 0; a < 3; a++)
      g_assert_cmpfloat_with_epsilon(back->voxel_um[a], v->voxel_um[a], v->voxel_um[a] * 1e-6);
    g_assert_cmpstr(info.calibration, ==, "imagej");
    g_assert_cmpstr(info.unit, ==, "micron");
    g_assert_cmpstr(info.compression, ==, compress ? "deflate" : "none");
    g_assert_cmpint(info.bigtiff, ==, 0);
    lucy_volume_free(back);
  }
  char *desc = description_of(path);
  g_assert_nonnull(strstr(desc, "ImageJ=1.11a\nimages=5\nslices=5\nunit=micron\nspacing=0.3\n"));
  g_assert_nonnull(strstr(desc, "min="));
  g_free(desc);
  char *files = listing(dir);
  g_assert_cmpstr(files, ==, "out.tif");
  g_free(files);

  o.bigtiff = 1;
  o.overwrite = 1;
  assert_status(lucy_tiff_write(path, v, &o), LUCY_OK);
  LucyTiffInfo info;
  assert_status(lucy_tiff_read(path, NULL, &back, &info), LUCY_OK);
  g_assert_cmpint(info.bigtiff, ==, 1);
  assert_values(back, v->data, 5 * 6 * 7);
  lucy_volume_free(back);
  lucy_volume_free(v);
  g_free(path);
  rm_rf(dir);
  g_free(dir);
}

static void test_write_uint16(void) {
  char *dir = tmp_dir();
  char *path = g_build_filename(dir, "u16.tif", NULL);
  LucyVolume *v = ramp(2, 3, 4), *back = NULL;
  LucyTiffWriteOptions o;
  lucy_tiff_write_options_default(&o);
  o.format = LUCY_TIFF_UINT16; /* auto: min -> 0, max -> 65535 */
  assert_status(lucy_tiff_write(path, v, &o), LUCY_OK);
  LucyTiffInfo info;
  assert_status(lucy_tiff_read(path, NULL, &back, &info), LUCY_OK);
  g_assert_cmpint(info.sample_type, ==, LUCY_U16);
  LucyStats a, b;
  lucy_volume_stats(v, &a);
  lucy_volume_stats(back, &b);
  g_assert_cmpfloat(b.min, ==, 0);
  g_assert_cmpfloat(b.max, ==, 65535);
  double scale = 65535.0 / (a.max - a.min);
  for (size_t i = 0; i < 24; i++)
    g_assert_cmpfloat(back->data[i], ==, floor((v->data[i] - a.min) * scale + 0.5));
  g_assert_nonnull(strstr(info.note, "lucy_scale="));
  char *desc = description_of(path);
  g_assert_nonnull(strstr(desc, "lucy_scale="));
  g_assert_nonnull(strstr(desc, "lucy_offset="));
  g_free(desc);
  lucy_volume_free(back);

  o.overwrite = 1, o.scale = 100.0, o.offset = 5.0; /* explicit, with clamping */
  assert_status(lucy_tiff_write(path, v, &o), LUCY_OK);
  assert_status(lucy_tiff_read(path, NULL, &back, NULL), LUCY_OK);
  for (size_t i = 0; i < 24; i++) {
    double e = floor((v->data[i] - 5.0) * 100.0 + 0.5);
    g_assert_cmpfloat(back->data[i], ==, e < 0 ? 0 : e > 65535 ? 65535 : e);
  }
  lucy_volume_free(back);

  v->data[7] = NAN; /* 0,1,3 */
  char *before = listing(dir);
  assert_status(lucy_tiff_write(path, v, &o), LUCY_ERR_NUMERIC);
  assert_msg("1 non-finite voxels, the first at z=0 y=1 x=3");
  char *after = listing(dir);
  g_assert_cmpstr(before, ==, after);
  g_free(before);
  g_free(after);
  lucy_volume_free(v);
  g_free(path);
  rm_rf(dir);
  g_free(dir);
}

static int stop_at_page(void *user, double fraction, const char *stage) {
  g_assert_cmpstr(stage, ==, "writing");
  return fraction >= *(double *)user;
}

/* A write cancelled by its progress function, between pages or just before the file would
 * appear, returns LUCY_ERR_CANCELLED and leaves the folder as it was. */
static void test_write_cancelled(void) {
  char *dir = tmp_dir();
  char *path = g_build_filename(dir, "out.tif", NULL);
  LucyVolume *v = ramp(4, 3, 5);
  LucyTiffWriteOptions wo;
  lucy_tiff_write_options_default(&wo);
  const double at[] = {0.0, 0.5, 1.0};
  for (int i = 0; i < 3; i++) {
    double stop = at[i];
    wo.progress = stop_at_page;
    wo.progress_user = &stop;
    assert_status(lucy_tiff_write(path, v, &wo), LUCY_ERR_CANCELLED);
    assert_msg("nothing was written");
    char *files = listing(dir);
    g_assert_cmpstr(files, ==, "");
    g_free(files);
  }
  double never = 2.0;
  wo.progress_user = &never;
  assert_status(lucy_tiff_write(path, v, &wo), LUCY_OK);
  g_assert_true(g_file_test(path, G_FILE_TEST_IS_REGULAR));
  lucy_volume_free(v);
  g_free(path);
  rm_rf(dir);
  g_free(dir);
}

/* A write the system refuses part-way (here a file size limit, as a full disk would) names
 * the system's reason, not only libtiff's "Write error", and leaves no file. */
static void test_write_system_error(void) {
  char *dir = tmp_dir();
  char *path = g_build_filename(dir, "big.tif", NULL);
  LucyVolume *v = ramp(8, 64, 64);
  struct rlimit old;
  g_assert_cmpint(getrlimit(RLIMIT_FSIZE, &old), ==, 0);
  struct rlimit low = {20000, old.rlim_max};
  void (*handler)(int) = signal(SIGXFSZ, SIG_IGN); /* the write fails with EFBIG instead */
  g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &low), ==, 0);
  LucyStatus st = lucy_tiff_write(path, v, NULL);
  g_assert_cmpint(setrlimit(RLIMIT_FSIZE, &old), ==, 0);
  signal(SIGXFSZ, handler);
  assert_status(st, LUCY_ERR_IO);
  assert_msg(strerror(EFBIG));
  assert_msg("big.tif: writing ");
  char *left = listing(dir);
  g_assert_cmpstr(left, ==, "");
  g_free(left);
  lucy_volume_free(v);
  g_free(path);
  rm_rf(dir);
  g_free(dir);
}

static void test_write_refusals(void) {
  char *dir = tmp_dir();
  char *path = g_build_filename(dir, "exists.tif", NULL);
  g_assert_true(g_file_set_contents(path, "keep", 4, NULL));
  LucyVolume *v = ramp(1, 2, 2);
  assert_status(lucy_tiff_write(path, v, NULL), LUCY_ERR_EXISTS);
  assert_msg("--force");
  gchar *kept;
  g_assert_true(g_file_get_contents(path, &kept, NULL, NULL));
  g_assert_cmpstr(kept, ==, "keep");
  g_free(kept);

  /* A FIFO (like a device node) is never replaced, even with overwrite. */
  char *fifo = g_build_filename(dir, "pipe", NULL);
  g_assert_cmpint(mkfifo(fifo, 0600), ==, 0);
  LucyTiffWriteOptions wo;
  lucy_tiff_write_options_default(&wo);
  wo.overwrite = 1;
  assert_status(lucy_tiff_write(fifo, v, &wo), LUCY_ERR_IO);
  assert_msg("not a regular file");
  struct stat fst;
  g_assert_cmpint(lstat(fifo, &fst), ==, 0);
  g_assert_true(S_ISFIFO(fst.st_mode));
  g_assert_cmpint(unlink(fifo), ==, 0);
  g_free(fifo);

  char *missing = g_build_filename(dir, "no-such-folder", "out.tif", NULL);
  assert_status(lucy_tiff_write(missing, v, NULL), LUCY_ERR_IO);
  assert_msg("no-such-folder");
  char *under_file = g_build_filename(path, "out.tif", NULL); /* a file used as a folder */
  assert_status(lucy_tiff_write(under_file, v, NULL), LUCY_ERR_IO);
  assert_msg("exists.tif");
  assert_status(lucy_tiff_write("/proc/lucy-test-out.tif", v, NULL), LUCY_ERR_IO);
  assert_msg("/proc");
  if (geteuid() != 0) { /* root ignores permission bits */
    char *ro = g_build_filename(dir, "ro", NULL);
    g_mkdir(ro, 0555);
    char *out = g_build_filename(ro, "out.tif", NULL);
    assert_status(lucy_tiff_write(out, v, NULL), LUCY_ERR_IO);
    assert_msg("ro");
    char *files = listing(ro);
    g_assert_cmpstr(files, ==, "");
    g_free(files);
    g_free(out);
    g_free(ro);
  }
  v->voxel_um[1] = 0;
  assert_status(lucy_tiff_write(path, v, NULL), LUCY_ERR_INVALID_ARGUMENT);
  assert_msg("voxel size");
  char *files = listing(dir);
  g_assert_cmpstr(files, ==, geteuid() != 0 ? "exists.tif,ro" : "exists.tif");
  g_free(files);
  lucy_volume_free(v);
  g_free(under_file);
  g_free(missing);
  g_free(path);
  rm_rf(dir);
  g_free(dir);
}

/* ---- bad input ---- */

static GByteArray *file_bytes(const Spec *s) {
  char *dir = tmp_dir();
  char *path = g_build_filename(dir, "x.tif", NULL);
  float *values;
  uint8_t *raw = make_raw(s, &values);
  write_tiff(path, s, raw);
  gchar *bytes;
  gsize size;
  g_assert_true(g_file_get_contents(path, &bytes, &size, NULL));
  GByteArray *a = g_byte_array_new_take((guint8 *)bytes, size);
  g_free(raw);
  g_free(values);
  g_free(path);
  rm_rf(dir);
  g_free(dir);
  return a;
}

/* A read that fails must fail with a message naming the input; one that succeeds (a cut
 * that removed only unused tag bytes) must give the right values. */
static int read_or_fail(const guint8 *bytes, size_t size, const LucyVolume *good) {
  LucyVolume *v = NULL;
  LucyStatus st = lucy_tiff_read_memory(bytes, size, NULL, &v, NULL);
  if (st == LUCY_OK) {
    g_assert_cmpuint(lucy_shape_count(v->shape), ==, lucy_shape_count(good->shape));
    assert_values(v, good->data, lucy_shape_count(good->shape));
    lucy_volume_free(v);
    return 0;
  }
  g_assert_null(v);
  g_assert_cmpint(st, ==, LUCY_ERR_FORMAT);
  assert_msg("<memory>");
  return 1;
}

static void test_truncated(void) {
  static const uint16_t codecs[] = {COMPRESSION_NONE, COMPRESSION_LZW, COMPRESSION_ADOBE_DEFLATE};
  for (size_t c = 0; c < G_N_ELEMENTS(codecs); c++) {
    Spec s = spec_default(40, 30, 3, 16, SAMPLEFORMAT_UINT);
    s.compression = codecs[c];
    GByteArray *a = file_bytes(&s);
    LucyVolume *good = NULL;
    assert_status(lucy_tiff_read_memory(a->data, a->len, NULL, &good, NULL), LUCY_OK);
    int failed = 0, cuts = 0;
    for (size_t len = 0; len < a->len; len += 1 + len / 7, cuts++)
      failed += read_or_fail(a->data, len, good);
    g_assert_cmpint(failed, >=, cuts - 2);
    lucy_volume_free(good);
    g_byte_array_unref(a);
  }
}

/* A stack cut short, as by a copy that stopped: the message says "truncated" and where, not
 * libtiff's "error fetching directory count". */
static void test_truncated_stack_message(void) {
  char *dir = tmp_dir();
  char *path = g_build_filename(dir, "stack.tif", NULL);
  LucyVolume *v = ramp(8, 32, 32);
  LucyTiffWriteOptions o;
  lucy_tiff_write_options_default(&o);
  for (int big = 0; big <= 1; big++) {
    o.bigtiff = big;
    o.overwrite = 1;
    assert_status(lucy_tiff_write(path, v, &o), LUCY_OK);
    gchar *bytes;
    gsize size;
    g_assert_true(g_file_get_contents(path, &bytes, &size, NULL));
    LucyVolume *back = NULL;
    assert_status(lucy_tiff_read_memory(bytes, size * 6 / 10, NULL, &back, NULL),
                  LUCY_ERR_FORMAT);
    g_assert_null(back);
    assert_msg("<memory> is truncated: its ");
    assert_msg("bytes end before the directory (IFD) of page ");
    /* cut inside the first page: libtiff cannot even open it, and it is still truncated */
    assert_status(lucy_tiff_read_memory(bytes, size / 20, NULL, &back, NULL), LUCY_ERR_FORMAT);
    assert_msg("<memory> is truncated: its ");
    assert_msg("bytes end before the directory (IFD) of page 0, ");
    /* the header alone, as a writer that died leaves it: no page at all, not "no message" */
    const gsize header = big ? 16 : 8;
    memset(bytes + header - (big ? 8 : 4), 0, big ? 8 : 4);
    assert_status(lucy_tiff_read_memory(bytes, header, NULL, &back, NULL), LUCY_ERR_FORMAT);
    assert_msg("<memory>: the file has no IFD (page)");
    if (big) { /* a BigTIFF header cut short */
      assert_status(lucy_tiff_read_memory(bytes, 12, NULL, &back, NULL), LUCY_ERR_FORMAT);
      assert_msg("<memory> is truncated: its 12 bytes end inside the 16-byte BigTIFF header");
    }
    g_free(bytes);
  }
  lucy_volume_free(v);
  g_unlink(path);
  g_free(path);
  rm_rf(dir);
  g_free(dir);
}

static void test_corrupt_bytes(void) {
  Spec s = spec_default(33, 17, 2, 8, SAMPLEFORMAT_UINT);
  s.compression = COMPRESSION_LZW;
  GByteArray *a = file_bytes(&s);
  GRand *rng = g_rand_new_with_seed(42);
  for (int trial = 0; trial < 400; trial++) {
    GByteArray *b = g_byte_array_sized_new(a->len);
    g_byte_array_append(b, a->data, a->len);
    for (int k = 0; k < 1 + trial % 5; k++)
      b->data[g_rand_int_range(rng, 0, (gint32)b->len)] = (guint8)g_rand_int(rng);
    LucyVolume *v = NULL;
    LucyStatus st = lucy_tiff_read_memory(b->data, b->len, NULL, &v, NULL);
    if (st == LUCY_OK) lucy_volume_free(v);
    else g_assert_cmpuint(strlen(lucy_error_message()), >, 10);
    g_byte_array_unref(b);
  }
  g_rand_free(rng);
  g_byte_array_unref(a);

  /* Corrupt LZW data in the strip: a decoding error naming strip, page and codec. */
  Spec z = spec_default(64, 64, 1, 8, SAMPLEFORMAT_UINT);
  z.compression = COMPRESSION_LZW;
  a = file_bytes(&z);
  for (size_t i = 8; i < 200; i++) a->data[i] = 0xff;
  LucyVolume *v = NULL;
  assert_status(lucy_tiff_read_memory(a->data, a->len, NULL, &v, NULL), LUCY_ERR_FORMAT);
  assert_msg("strip 0 of page 0 could not be decoded (lzw)");
  g_byte_array_unref(a);
}

/* A minimal little-endian classic TIFF with one strip, built by hand for hostile headers. */
static GByteArray *craft(uint32_t w, uint32_t h, uint16_t compression, uint32_t offset,
                         uint32_t count, size_t data_len) {
  GByteArray *a = g_byte_array_new();
  const guint8 head[8] = {'I', 'I', 42, 0, 8, 0, 0, 0};
  g_byte_array_append(a, head, 8);
  struct { uint16_t tag, type; uint32_t n, v; } e[] = {
      {256, 4, 1, w}, {257, 4, 1, h}, {258, 3, 1, 8}, {259, 3, 1, compression}, {262, 3, 1, 1},
      {273, 4, 1, offset}, {278, 4, 1, h}, {279, 4, 1, count}};
  uint16_t n = G_N_ELEMENTS(e);
  g_byte_array_append(a, (guint8 *)&n, 2);
  for (size_t i = 0; i < n; i++) {
    g_byte_array_append(a, (guint8 *)&e[i].tag, 2);
    g_byte_array_append(a, (guint8 *)&e[i].type, 2);
    g_byte_array_append(a, (guint8 *)&e[i].n, 4);
    uint32_t v = e[i].type == 3 ? (e[i].v & 0xffff) : e[i].v;
    g_byte_array_append(a, (guint8 *)&v, 4);
  }
  uint32_t next = 0;
  g_byte_array_append(a, (guint8 *)&next, 4);
  for (size_t i = 0; i < data_len; i++) {
    guint8 b = (guint8)(i * 31);
    g_byte_array_append(a, &b, 1);
  }
  return a;
}

/* A classic little-endian 8-bit stack with all IFDs first and the pixel data after them, as
 * tifffile writes contiguous data: one strip (or one 16x16 tile) of 16x16 per page. */
static GByteArray *ifds_first(uint32_t pages, int tiled) {
  const uint32_t side = 16, plane = side * side, ifd = 2 + 9 * 12 + 4;
  const uint32_t data0 = 8 + pages * ifd;
  GByteArray *a = g_byte_array_new();
  const guint8 head[8] = {'I', 'I', 42, 0, 8, 0, 0, 0};
  g_byte_array_append(a, head, 8);
  for (uint32_t p = 0; p < pages; p++) {
    struct { uint16_t tag, type; uint32_t n, v; } e[] = {
        {256, 4, 1, side}, {257, 4, 1, side}, {258, 3, 1, 8}, {259, 3, 1, 1}, {262, 3, 1, 1},
        {tiled ? 322 : 273, 4, 1, tiled ? side : data0 + p * plane},
        {tiled ? 323 : 278, 4, 1, side},
        {tiled ? 324 : 279, 4, 1, tiled ? data0 + p * plane : plane},
        {tiled ? 325 : 277, tiled ? 4 : 3, 1, tiled ? plane : 1}};
    uint16_t n = G_N_ELEMENTS(e);
    g_byte_array_append(a, (guint8 *)&n, 2);
    for (size_t i = 0; i < n; i++) {
      g_byte_array_append(a, (guint8 *)&e[i].tag, 2);
      g_byte_array_append(a, (guint8 *)&e[i].type, 2);
      g_byte_array_append(a, (guint8 *)&e[i].n, 4);
      g_byte_array_append(a, (guint8 *)&e[i].v, 4);
    }
    uint32_t next = p + 1 < pages ? 8 + (p + 1) * ifd : 0;
    g_byte_array_append(a, (guint8 *)&next, 4);
  }
  for (uint32_t i = 0; i < pages * plane; i++) {
    guint8 b = (guint8)(i * 7);
    g_byte_array_append(a, &b, 1);
  }
  return a;
}

/* Directories intact, pixel data cut: "truncated" with the page, the strip or tile and the
 * numbers, not libtiff's "Read error ... got N bytes". */
static void test_truncated_pixel_data(void) {
  for (int tiled = 0; tiled <= 1; tiled++) {
    GByteArray *a = ifds_first(8, tiled);
    LucyVolume *v = NULL;
    assert_status(lucy_tiff_read_memory(a->data, a->len, NULL, &v, NULL), LUCY_OK);
    lucy_volume_free(v);
    v = NULL;
    const gsize cut = a->len * 8 / 10; /* 2374 of 2968 bytes: inside page 5's data */
    assert_status(lucy_tiff_read_memory(a->data, cut, NULL, &v, NULL), LUCY_ERR_FORMAT);
    g_assert_null(v);
    gchar *want = g_strdup_printf("<memory> is truncated: its %zu bytes end inside %s 0 of page "
                                  "5, which starts at byte 2200 and ends at byte 2456",
                                  (size_t)cut, tiled ? "tile" : "strip");
    assert_msg(want);
    g_free(want);
    assert_status(lucy_tiff_read_memory(a->data, 2456, NULL, &v, NULL), LUCY_ERR_FORMAT);
    assert_msg("its 2456 bytes end before");
    assert_msg("0 of page 6, which starts at byte 2456");
    g_byte_array_unref(a);
  }
}

static void test_hostile_headers(void) {
  LucyVolume *v = NULL;
  const uint32_t data = 8 + 2 + 8 * 12 + 4;
  GByteArray *a = craft(4, 4, 1, data, 16, 16);
  assert_status(lucy_tiff_read_memory(a->data, a->len, NULL, &v, NULL), LUCY_OK);
  g_assert_cmpfloat(v->data[1], ==, 31);
  lucy_volume_free(v);
  g_byte_array_unref(a);

  a = craft(100000, 100000, 1, data, 16, 16); /* 10 GB claimed by a 130-byte file */
  assert_status(lucy_tiff_read_memory(a->data, a->len, NULL, &v, NULL), LUCY_ERR_FORMAT);
  assert_msg("page 0 declares 100000x100000 8-bit samples");
  g_byte_array_unref(a);
  a = craft(100000, 100000, COMPRESSION_LZW, data, 16, 16);
  assert_status(lucy_tiff_read_memory(a->data, a->len, NULL, &v, NULL), LUCY_ERR_FORMAT);
  assert_msg("voxels per byte");
  g_byte_array_unref(a);
  /* StripByteCounts 0: libtiff recomputes it from the image size (with a warning); what must
   * never happen is a page of silent zeros. */
  a = craft(4, 4, 1, data, 0, 16);
  LucyStatus st = lucy_tiff_read_memory(a->data, a->len, NULL, &v, NULL);
  if (st == LUCY_OK) g_assert_cmpfloat(v->data[15], ==, (guint8)(15 * 31));
  else g_assert_cmpint(st, ==, LUCY_ERR_FORMAT);
  lucy_volume_free(v);
  v = NULL;
  g_byte_array_unref(a);
  a = craft(4, 4, 1, 5000, 16, 16); /* data beyond the end */
  assert_status(lucy_tiff_read_memory(a->data, a->len, NULL, &v, NULL), LUCY_ERR_FORMAT);
  assert_msg("strip 0 of page 0");
  g_byte_array_unref(a);
  a = craft(0, 4, 1, data, 16, 16);
  assert_status(lucy_tiff_read_memory(a->data, a->len, NULL, &v, NULL), LUCY_ERR_FORMAT);
  g_byte_array_unref(a);
  g_assert_null(v);
}

static void test_not_tiff(void) {
  LucyVolume *v = NULL;
  assert_status(lucy_tiff_read_memory("", 0, NULL, &v, NULL), LUCY_ERR_FORMAT);
  assert_msg("0 bytes is too short");
  assert_status(lucy_tiff_read_memory("\x89PNG\r\n\x1a\n....", 12, NULL, &v, NULL),
                LUCY_ERR_FORMAT);
  assert_msg("not a TIFF file (starts with bytes 89 50 4e 47");
  char *dir = tmp_dir();
  char *path = g_build_filename(dir, "nope.tif", NULL);
  assert_status(lucy_tiff_read(path, NULL, &v, NULL), LUCY_ERR_IO);
  assert_msg("nope.tif");
  assert_status(lucy_tiff_read(dir, NULL, &v, NULL), LUCY_ERR_IO);
  assert_msg("is a folder");
  g_assert_true(g_file_set_contents(path, "", 0, NULL));
  assert_status(lucy_tiff_read(path, NULL, &v, NULL), LUCY_ERR_FORMAT);
  assert_msg("nope.tif: 0 bytes is too short");
  g_free(path);
  rm_rf(dir);
  g_free(dir);
}

static void test_inconsistent_pages(void) {
  char *dir = tmp_dir();
  char *path = g_build_filename(dir, "bars.tif", NULL);
  Spec big = spec_default(8, 8, 1, 8, SAMPLEFORMAT_UINT), small = big;
  small.h = 4;
  float *v1, *v2;
  uint8_t *r1 = make_raw(&big, &v1), *r2 = make_raw(&small, &v2);
  TIFF *tif = TIFFOpen(path, "w");
  const Spec *specs[] = {&big, &big, &small};
  const uint8_t *raws[] = {r1, r1, r2};
  for (int p = 0; p < 3; p++) {
    write_page_tags(tif, specs[p], (uint32_t)p);
    g_assert_cmpint(TIFFWriteEncodedStrip(tif, 0, (void *)raws[p], specs[p]->w * specs[p]->h),
                    >=, 0);
    TIFFWriteDirectory(tif);
  }
  TIFFClose(tif);
  LucyVolume *v = NULL;
  assert_status(lucy_tiff_read(path, NULL, &v, NULL), LUCY_ERR_FORMAT);
  assert_msg("bars.tif: page 2 is 8x4 but page 0 is 8x8");
  g_assert_null(v);

  Spec s16 = spec_default(8, 8, 1, 16, SAMPLEFORMAT_UINT);
  float *v3;
  uint8_t *r3 = make_raw(&s16, &v3);
  tif = TIFFOpen(path, "w");
  write_page_tags(tif, &big, 0);
  TIFFWriteEncodedStrip(tif, 0, r1, 64);
  TIFFWriteDirectory(tif);
  write_page_tags(tif, &s16, 1);
  TIFFWriteEncodedStrip(tif, 0, r3, 128);
  TIFFWriteDirectory(tif);
  TIFFClose(tif);
  assert_status(lucy_tiff_read(path, NULL, &v, NULL), LUCY_ERR_FORMAT);
  assert_msg("page 1 has 16-bit unsigned integer samples but page 0 has 8-bit");
  g_free(r1), g_free(r2), g_free(r3), g_free(v1), g_free(v2), g_free(v3);
  g_free(path);
  rm_rf(dir);
  g_free(dir);
}

static void test_colour_refused(void) {
  Spec rgb = spec_default(4, 4, 1, 8, SAMPLEFORMAT_UINT);
  rgb.spp = 3;
  rgb.photometric = PHOTOMETRIC_RGB;
  LucyVolume *v = NULL;
  float *values;
  assert_status(read_spec(&rgb, NULL, &v, NULL, &values), LUCY_ERR_UNSUPPORTED);
  assert_msg("page 0: RGB images are not supported: convert to one channel (e.g. Fiji: Image > "
             "Type > 32-bit)");
  g_free(values);
  Spec pal = spec_default(4, 4, 1, 8, SAMPLEFORMAT_UINT);
  pal.photometric = PHOTOMETRIC_PALETTE;
  assert_status(read_spec(&pal, NULL, &v, NULL, &values), LUCY_ERR_UNSUPPORTED);
  assert_msg("palette (indexed colour) images are not supported");
  g_free(values);
  Spec two = spec_default(4, 4, 1, 16, SAMPLEFORMAT_UINT);
  two.spp = 2;
  assert_status(read_spec(&two, NULL, &v, NULL, &values), LUCY_ERR_UNSUPPORTED);
  assert_msg("2 samples per pixel are not supported");
  g_free(values);
  Spec i64 = spec_default(4, 4, 1, 16, SAMPLEFORMAT_IEEEFP); /* half floats */
  assert_status(read_spec(&i64, NULL, &v, NULL, &values), LUCY_ERR_UNSUPPORTED);
  assert_msg("16-bit floating-point samples are not supported");
  g_free(values);
}

/* ---- the shared data files against tifffile (expected.txt) ---- */

static const char *shared_dir(void) {
  const char *d = g_getenv("LUCY_SHARED_DATA");
  return d && g_file_test(d, G_FILE_TEST_IS_DIR) ? d : NULL;
}

static char *resolve(const char *rel) {
  if (g_str_has_prefix(rel, "fixture:"))
    return g_build_filename(g_getenv("LUCY_FIXTURES"), "tiff", rel + 8, NULL);
  return shared_dir() ? g_build_filename(shared_dir(), rel, NULL) : NULL;
}

static int close_rel(double a, double b, double rel) {
  return fabs(a - b) <= rel * fmax(fabs(a), fabs(b)) + 1e-30;
}

static void check_ok_record(char **f, LucyVolume **cache, char **cache_key) {
  /* ok PATH CHANNEL NZ NY NX DTYPE SUM MIN MAX VZ VY VX */
  char *path = resolve(f[1]);
  LucyTiffReadOptions o = {.channel = strtoul(f[2], NULL, 10)};
  LucyVolume *v = NULL;
  LucyTiffInfo info;
  if (lucy_tiff_read(path, &o, &v, &info) != LUCY_OK)
    g_error("%s channel %s: %s", f[1], f[2], lucy_error_message());
  for (int a = 0; a < 3; a++) g_assert_cmpuint(v->shape[a], ==, strtoul(f[3 + a], NULL, 10));
  LucyStats s;
  lucy_volume_stats(v, &s);
  if (!close_rel(s.sum, g_ascii_strtod(f[7], NULL), 1e-9) ||
      s.min != g_ascii_strtod(f[8], NULL) || s.max != g_ascii_strtod(f[9], NULL))
    g_error("%s: sum/min/max %.17g %.9g %.9g, tifffile %s %s %s", f[1], s.sum, s.min, s.max, f[7],
            f[8], f[9]);
  for (int a = 0; a < 3; a++)
    if (!close_rel(v->voxel_um[a], g_ascii_strtod(f[10 + a], NULL), 1e-6))
      g_error("%s: voxel[%d] %.9g um, tifffile %s", f[1], a, v->voxel_um[a], f[10 + a]);
  static const char *dtypes[] = {"uint8", "int8", "uint16", "int16",
                                 "uint32", "int32", "float32", "float64"};
  unsigned bits = 0;
  if (sscanf(f[6], "uint%u", &bits) == 1 && bits < 8) g_assert_cmpuint(info.bits_per_sample, ==, bits);
  else if (strcmp(f[6], "bool1") == 0) g_assert_cmpuint(info.bits_per_sample, ==, 1);
  else g_assert_cmpstr(dtypes[info.sample_type], ==, f[6]);
  lucy_volume_free(*cache);
  g_free(*cache_key);
  *cache = v;
  *cache_key = g_strdup_printf("%s %s", f[1], f[2]);
  g_free(path);
}

static void check_at_record(char **f, const LucyVolume *v, const char *key) {
  /* at PATH CHANNEL Z Y X VALUE */
  char *want = g_strdup_printf("%s %s", f[1], f[2]);
  g_assert_cmpstr(want, ==, key);
  size_t z = strtoul(f[3], NULL, 10), y = strtoul(f[4], NULL, 10), x = strtoul(f[5], NULL, 10);
  float got = v->data[(z * v->shape[1] + y) * v->shape[2] + x];
  if (got != (float)g_ascii_strtod(f[6], NULL))
    g_error("%s (%zu,%zu,%zu): %.9g, tifffile %s", f[1], z, y, x, got, f[6]);
  g_free(want);
}

static void check_err_record(char **f) {
  /* err PATH STATUS TEXT... */
  char *path = resolve(f[1]);
  LucyVolume *v = NULL;
  LucyStatus st = lucy_tiff_read(path, NULL, &v, NULL);
  g_assert_null(v);
  g_assert_cmpstr(lucy_status_name(st), ==, f[2]);
  char *text = g_strjoinv(" ", f + 3);
  assert_msg(text);
  assert_msg(f[1]);
  g_free(text);
  g_free(path);
}

static void test_expected_files(void) {
  if (!shared_dir()) {
    g_test_skip("shared data not found (set LUCY_SHARED_DATA to ../shared/data)");
    return;
  }
  char *fixture = g_build_filename(g_getenv("LUCY_FIXTURES"), "tiff", "expected.txt", NULL);
  gchar *text;
  if (!g_file_get_contents(fixture, &text, NULL, NULL)) {
    g_test_skip("tests/fixtures/tiff/expected.txt not found (set LUCY_FIXTURES)");
    g_free(fixture);
    return;
  }
  char **lines = g_strsplit(text, "\n", -1);
  LucyVolume *cache = NULL;
  char *key = NULL;
  int ok = 0, at = 0, err = 0;
  for (char **l = lines; *l; l++) {
    if (!**l || **l == '#') continue;
    char **f = g_strsplit(*l, " ", -1);
    if (strcmp(f[0], "ok") == 0) check_ok_record(f, &cache, &key), ok++;
    else if (strcmp(f[0], "at") == 0) check_at_record(f, cache, key), at++;
    else if (strcmp(f[0], "err") == 0) check_err_record(f), err++;
    else g_error("expected.txt: unknown record %s", f[0]);
    g_strfreev(f);
  }
  g_test_message("expected.txt: %d files loaded, %d voxels checked, %d refusals", ok, at, err);
  g_assert_cmpint(ok, >=, 10);
  g_assert_cmpint(err, >=, 4);
  lucy_volume_free(cache);
  g_free(key);
  g_strfreev(lines);
  g_free(text);
  g_free(fixture);
}

static void test_ome_out_of_range_channel(void) {
  if (!shared_dir()) {
    g_test_skip("shared data not found (set LUCY_SHARED_DATA to ../shared/data)");
    return;
  }
  char *path = resolve("formats/multi-channel-z-series.ome.tif");
  LucyTiffReadOptions o = {.channel = 3};
  LucyVolume *v = NULL;
  assert_status(lucy_tiff_read(path, &o, &v, NULL), LUCY_ERR_INVALID_ARGUMENT);
  assert_msg("channel 3 is out of range: the file has 3 channels (0..2)");
  LucyTiffInfo info;
  assert_status(lucy_tiff_read(path, NULL, &v, &info), LUCY_OK);
  /* what was read, in the library's words: the hint to choose is the caller's */
  g_assert_cmpstr(info.note, ==, "file has 3 channels and 1 frame; read channel 0, frame 0");
  g_assert_cmpint(info.big_endian, ==, 1);
  /* no PhysicalSize and resolution 0/1000 cm: nothing says how large a voxel is */
  g_assert_cmpstr(info.calibration, ==, "none");
  g_assert_cmpstr(info.unit, ==, "");
  g_assert_cmpuint(info.pages, ==, 15);
  lucy_volume_free(v);
  g_free(path);
}

int main(int argc, char **argv) {
  g_test_init(&argc, &argv, NULL);
  g_test_add_func("/tiff/read/every-sample-type", test_every_sample_type);
  g_test_add_func("/tiff/read/sub-byte", test_sub_byte);
  g_test_add_func("/tiff/read/layouts", test_layouts);
  g_test_add_func("/tiff/read/compressions", test_compressions);
  g_test_add_func("/tiff/read/imagej-hyperstack", test_imagej_hyperstack);
  g_test_add_func("/tiff/read/ome-order-units", test_ome_order_and_units);
  g_test_add_func("/tiff/read/resolution-units", test_resolution_units);
  g_test_add_func("/tiff/read/expected-files", test_expected_files);
  g_test_add_func("/tiff/read/ome-channel-range", test_ome_out_of_range_channel);
  g_test_add_func("/tiff/read/uncalibrated-metadata", test_uncalibrated_metadata);
  g_test_add_func("/tiff/write/float-calibration", test_write_float_calibration);
  g_test_add_func("/tiff/write/uint16", test_write_uint16);
  g_test_add_func("/tiff/write/refusals", test_write_refusals);
  g_test_add_func("/tiff/write/system-error", test_write_system_error);
  g_test_add_func("/tiff/write/cancelled", test_write_cancelled);
  g_test_add_func("/tiff/bad/truncated", test_truncated);
  g_test_add_func("/tiff/bad/truncated-stack-message", test_truncated_stack_message);
  g_test_add_func("/tiff/bad/truncated-pixel-data", test_truncated_pixel_data);
  g_test_add_func("/tiff/bad/corrupt", test_corrupt_bytes);
  g_test_add_func("/tiff/bad/hostile-headers", test_hostile_headers);
  g_test_add_func("/tiff/bad/not-tiff", test_not_tiff);
  g_test_add_func("/tiff/bad/inconsistent-pages", test_inconsistent_pages);
  g_test_add_func("/tiff/bad/colour", test_colour_refused);
  return g_test_run();
}
