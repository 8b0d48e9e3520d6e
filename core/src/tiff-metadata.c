/* Calibration and stack layout from TIFF metadata: ImageJ descriptions, OME-XML and the
 * resolution tags. A small hand-written scanner instead of an XML library: only a handful of
 * attributes of <Pixels> and <TiffData> matter, and odd text is ignored rather than fatal. */
#include <ctype.h>
#include <locale.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "status-private.h"
#include "tiff-private.h"

/* ---- locale-independent numbers ---- */

static locale_t c_locale;
static pthread_once_t c_locale_once = PTHREAD_ONCE_INIT;

static void c_locale_init(void) { c_locale = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0); }

/* uselocale() is per thread, so switching around one call is safe in a threaded app. */
double lucy__strtod_c(const char *s, char **end) {
  pthread_once(&c_locale_once, c_locale_init);
  if (!c_locale) return strtod(s, end);
  locale_t old = uselocale(c_locale);
  double v = strtod(s, end);
  uselocale(old);
  return v;
}

int lucy__snprintf_c(char *buf, size_t size, const char *fmt, ...) {
  pthread_once(&c_locale_once, c_locale_init);
  locale_t old = c_locale ? uselocale(c_locale) : (locale_t)0;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  if (c_locale) uselocale(old);
  return n;
}

/* ---- units ---- */

double lucy__unit_to_um(const char *unit) {
  static const struct { const char *name; double um; } units[] = {
      {"micron", 1.0}, {"microns", 1.0}, {"um", 1.0}, {"\xc2\xb5m", 1.0} /* UTF-8 µm */,
      {"\xce\xbcm", 1.0} /* Greek mu */, {"\xb5m", 1.0} /* Latin-1 µm */,
      {"\\u00B5m", 1.0} /* ImageJ/tifffile escape */, {"\\u00b5m", 1.0}, {"&#181;m", 1.0},
      {"&#xB5;m", 1.0}, {"micrometer", 1.0}, {"micrometre", 1.0}, {"nm", 1e-3},
      {"nanometer", 1e-3}, {"nanometre", 1e-3}, {"pm", 1e-6}, {"\xc3\x85", 1e-4} /* Å */,
      {"\xe2\x84\xab", 1e-4}, {"angstrom", 1e-4}, {"mm", 1e3}, {"millimeter", 1e3},
      {"cm", 1e4}, {"centimeter", 1e4}, {"m", 1e6}, {"meter", 1e6}, {"inch", 25400.0},
      {"in", 25400.0}, {"inches", 25400.0},
  };
  if (!unit) return 0.0;
  for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
    if (strcmp(unit, units[i].name) == 0) return units[i].um;
  return 0.0;
}

/* ---- small parsing helpers ---- */

/* A non-negative decimal integer, optionally surrounded by blanks; 0 on junk or overflow. */
static int parse_size(const char *s, size_t *out) {
  while (*s == ' ' || *s == '\t') s++;
  if (!isdigit((unsigned char)*s)) return 0;
  size_t v = 0;
  for (; isdigit((unsigned char)*s); s++) {
    size_t d = (size_t)(*s - '0');
    if (v > (SIZE_MAX - d) / 10) return 0;
    v = v * 10 + d;
  }
  while (*s == ' ' || *s == '\t' || *s == '\r') s++;
  if (*s) return 0;
  *out = v;
  return 1;
}

static int parse_positive(const char *s, double *out) {
  char *end;
  double v = lucy__strtod_c(s, &end);
  if (end == s || !isfinite(v) || v <= 0) return 0;
  *out = v;
  return 1;
}

static int mul3(size_t a, size_t b, size_t c, size_t *out) {
  size_t ab;
  if (__builtin_mul_overflow(a, b, &ab) || __builtin_mul_overflow(ab, c, out)) return 0;
  return 1;
}

static void copy_str(char *dst, size_t size, const char *src, size_t n) {
  if (n >= size) n = size - 1;
  memcpy(dst, src, n);
  dst[n] = '\0';
}

/* ---- ImageJ ---- */

typedef struct {
  int has_images, has_slices, has_spacing;
  double spacing;
} ImageJSeen;

static void imagej_pair(LucyTiffMeta *m, ImageJSeen *seen, const char *key, const char *val) {
  size_t n;
  if (strcmp(key, "images") == 0 && parse_size(val, &n)) m->images = n, seen->has_images = 1;
  else if (strcmp(key, "channels") == 0 && parse_size(val, &n) && n > 0) m->channels = n;
  else if (strcmp(key, "slices") == 0 && parse_size(val, &n) && n > 0)
    m->slices = n, seen->has_slices = 1;
  else if (strcmp(key, "frames") == 0 && parse_size(val, &n) && n > 0) m->frames = n;
  else if (strcmp(key, "spacing") == 0 && parse_positive(val, &seen->spacing))
    seen->has_spacing = 1;
  else if (strcmp(key, "unit") == 0) copy_str(m->unit, sizeof m->unit, val, strlen(val));
  else if (strcmp(key, "lucy_scale") == 0 && parse_positive(val, &m->lucy_scale))
    m->lucy_scaled = 1;
  else if (strcmp(key, "lucy_offset") == 0) m->lucy_offset = lucy__strtod_c(val, NULL);
}

/* images = channels x slices x frames; a stack without "slices" (images=8 alone) is z. */
static LucyStatus imagej_layout(LucyTiffMeta *m, const ImageJSeen *seen) {
  size_t ct, czt;
  if (!mul3(m->channels, m->frames, 1, &ct) || !mul3(ct, m->slices, 1, &czt))
    return lucy__fail(LUCY_ERR_FORMAT, "ImageJ description: channels x slices x frames overflows");
  if (!seen->has_images) { /* 0: "not stated"; a plain multi-page file is then a z stack */
    m->images = czt > 1 ? czt : 0;
    return LUCY_OK;
  }
  if (!seen->has_slices && m->images % ct == 0 && m->images / ct > 0) m->slices = m->images / ct;
  else if (czt != m->images)
    return lucy__fail(LUCY_ERR_FORMAT,
                      "ImageJ description says images=%zu but channels x slices x frames = "
                      "%zu x %zu x %zu = %zu",
                      m->images, m->channels, m->slices, m->frames, czt);
  return LUCY_OK;
}

static int imagej_pixel_unit(const char *unit) {
  return strcmp(unit, "pixel") == 0 || strcmp(unit, "pixels") == 0;
}

static LucyStatus parse_imagej(const char *desc, LucyTiffMeta *m) {
  ImageJSeen seen = {0};
  m->kind = LUCY_META_IMAGEJ;
  for (const char *line = desc; *line;) {
    const char *nl = strchr(line, '\n');
    size_t len = nl ? (size_t)(nl - line) : strlen(line);
    const char *eq = memchr(line, '=', len);
    if (eq && eq > line && (size_t)(eq - line) < 32 && len - (size_t)(eq - line) < 128) {
      char key[32], val[128];
      copy_str(key, sizeof key, line, (size_t)(eq - line));
      copy_str(val, sizeof val, eq + 1, len - (size_t)(eq - line) - 1);
      imagej_pair(m, &seen, key, val);
    }
    line += len + (nl ? 1 : 0);
  }
  LucyStatus st = imagej_layout(m, &seen);
  if (st != LUCY_OK) return st;
  double um = lucy__unit_to_um(m->unit);
  /* ImageJ's own word for "uncalibrated": no unit, or pixel(s), as Fiji's Calibration has it */
  if (m->unit[0] && um == 0.0 && !imagej_pixel_unit(m->unit))
    snprintf(m->note, sizeof m->note, "unknown length unit '%s': voxel size left at 1 um",
             m->unit);
  if (um > 0) strcpy(m->calibration, "imagej");
  if (seen.has_spacing && um > 0) {
    m->voxel_um[LUCY_Z] = seen.spacing * um;
    m->have_z = 1;
  }
  return LUCY_OK;
}

/* ---- OME-XML ---- */

/* The next element `name` (any namespace prefix; "/name" for a closing tag) at or after s and
 * before limit (NULL: end of text); *tag_end is its closing '>'. */
static const char *find_element(const char *s, const char *limit, const char *name,
                                const char **tag_end) {
  int closing = name[0] == '/';
  if (closing) name++;
  size_t n = strlen(name);
  for (const char *p = strchr(s, '<'); p && (!limit || p < limit); p = strchr(p + 1, '<')) {
    const char *q = p + 1;
    if (closing != (*q == '/')) continue;
    q += closing;
    const char *tok = q;
    while (isalnum((unsigned char)*q) || *q == '_' || *q == '-' || *q == '.' || *q == ':') q++;
    const char *local = tok;
    for (const char *c = tok; c < q; c++)
      if (*c == ':') local = c + 1;
    if ((size_t)(q - local) != n || strncmp(local, name, n) != 0) continue;
    if (*q && !isspace((unsigned char)*q) && *q != '/' && *q != '>') continue;
    *tag_end = strchr(q, '>');
    return *tag_end ? p : NULL;
  }
  return NULL;
}

/* The value of attribute `name` inside [tag, tag_end); 0 when absent. */
static int attr(const char *tag, const char *tag_end, const char *name, char *val, size_t size) {
  size_t n = strlen(name);
  for (const char *p = tag; p + n + 2 < tag_end; p++) {
    if (!isspace((unsigned char)p[0]) || strncmp(p + 1, name, n) != 0) continue;
    const char *q = p + 1 + n;
    while (q < tag_end && isspace((unsigned char)*q)) q++;
    if (q >= tag_end || *q != '=') continue;
    for (q++; q < tag_end && isspace((unsigned char)*q); q++) {}
    if (q >= tag_end || (*q != '"' && *q != '\'')) continue;
    char quote = *q++;
    const char *v = q;
    while (q < tag_end && *q != quote) q++;
    if (q >= tag_end) return 0;
    copy_str(val, size, v, (size_t)(q - v));
    return 1;
  }
  return 0;
}

static int attr_size(const char *tag, const char *end, const char *name, size_t *out) {
  char v[32];
  return attr(tag, end, name, v, sizeof v) && parse_size(v, out);
}

/* Physical size of one axis: value in PhysicalSize<A>, unit in PhysicalSize<A>Unit (µm). */
static void ome_physical(LucyTiffMeta *m, const char *tag, const char *end, char axis, int index) {
  char name[32], val[64], unit[16] = "\xc2\xb5m";
  double v;
  snprintf(name, sizeof name, "PhysicalSize%c", axis);
  if (!attr(tag, end, name, val, sizeof val) || !parse_positive(val, &v)) return;
  snprintf(name, sizeof name, "PhysicalSize%cUnit", axis);
  attr(tag, end, name, unit, sizeof unit);
  double um = lucy__unit_to_um(unit);
  if (um == 0.0) {
    snprintf(m->note, sizeof m->note, "unknown OME unit '%s' for %c: voxel size left at 1 um",
             unit, axis);
    return;
  }
  m->voxel_um[index] = v * um;
  strcpy(m->calibration, "ome");
  if (index == LUCY_Z) m->have_z = 1;
  else m->have_xy = 1;
  if (!m->unit[0] || index == LUCY_X) copy_str(m->unit, sizeof m->unit, unit, strlen(unit));
}

static int valid_order(const char *o) {
  return strlen(o) == 5 && o[0] == 'X' && o[1] == 'Y' && strchr(o + 2, 'Z') &&
         strchr(o + 2, 'C') && strchr(o + 2, 'T');
}

/* Plane index of (z, c, t) in DimensionOrder: order[2] varies fastest. */
static size_t ome_index(const LucyTiffMeta *m, size_t z, size_t c, size_t t) {
  size_t idx = 0;
  for (int i = 4; i >= 2; i--) {
    char d = m->order[i];
    size_t n = d == 'Z' ? m->slices : d == 'C' ? m->channels : m->frames;
    size_t v = d == 'Z' ? z : d == 'C' ? c : t;
    idx = idx * n + v;
  }
  return idx;
}

static LucyStatus ome_tiffdata(LucyTiffMeta *m, const char *from, const char *limit) {
  const char *end;
  size_t cap = 0;
  for (const char *p = find_element(from, limit, "TiffData", &end); p;
       p = find_element(end, limit, "TiffData", &end)) {
    size_t ifd = 0, count = 0, fz = 0, fc = 0, ft = 0;
    int has_ifd = attr_size(p, end, "IFD", &ifd);
    if (!attr_size(p, end, "PlaneCount", &count)) count = has_ifd ? 1 : m->images;
    attr_size(p, end, "FirstZ", &fz);
    attr_size(p, end, "FirstC", &fc);
    attr_size(p, end, "FirstT", &ft);
    if (fz >= m->slices || fc >= m->channels || ft >= m->frames) continue;
    if (m->n_tiffdata == cap) {
      cap = cap ? 2 * cap : 16;
      LucyOmeTiffData *grown = realloc(m->tiffdata, cap * sizeof *grown);
      if (!grown) return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory parsing OME-XML");
      m->tiffdata = grown;
    }
    m->tiffdata[m->n_tiffdata++] = (LucyOmeTiffData){ifd, ome_index(m, fz, fc, ft), count};
  }
  return LUCY_OK;
}

static LucyStatus parse_ome(const char *desc, LucyTiffMeta *m) {
  const char *end, *img_end;
  const char *img = find_element(desc, NULL, "Image", &img_end);
  const char *pix = img ? find_element(img_end, NULL, "Pixels", &end) : NULL;
  if (!pix) return LUCY_OK; /* OME text without pixels: treat as plain pages */
  m->kind = LUCY_META_OME;
  for (const char *p = img; p; p = find_element(img_end, NULL, "Image", &img_end)) m->ome_images++;
  char order[16] = "XYZCT";
  attr(pix, end, "DimensionOrder", order, sizeof order);
  if (!valid_order(order))
    return lucy__fail(LUCY_ERR_FORMAT, "OME-XML DimensionOrder '%s' is not a valid order", order);
  strcpy(m->order, order);
  attr_size(pix, end, "SizeZ", &m->slices);
  attr_size(pix, end, "SizeC", &m->channels);
  attr_size(pix, end, "SizeT", &m->frames);
  if (!m->slices || !m->channels || !m->frames ||
      !mul3(m->slices, m->channels, m->frames, &m->images))
    return lucy__fail(LUCY_ERR_FORMAT, "OME-XML sizes SizeZ=%zu SizeC=%zu SizeT=%zu are invalid",
                      m->slices, m->channels, m->frames);
  ome_physical(m, pix, end, 'X', LUCY_X);
  ome_physical(m, pix, end, 'Y', LUCY_Y);
  ome_physical(m, pix, end, 'Z', LUCY_Z);
  /* TiffData of the first image only: stop at the next <Image>. */
  const char *next_end;
  const char *next = find_element(end, NULL, "Image", &next_end);
  return ome_tiffdata(m, end, next);
}

/* ---- public to the TIFF files ---- */

LucyStatus lucy__tiff_meta_parse(const char *desc, LucyTiffMeta *m) {
  memset(m, 0, sizeof *m);
  m->slices = m->channels = m->frames = 1;
  m->voxel_um[0] = m->voxel_um[1] = m->voxel_um[2] = 1.0;
  strcpy(m->calibration, "none");
  if (!desc) return LUCY_OK;
  if (strncmp(desc, "ImageJ=", 7) == 0) return parse_imagej(desc, m);
  const char *end;
  if (find_element(desc, NULL, "OME", &end)) {
    LucyStatus st = parse_ome(desc, m);
    if (st != LUCY_OK) lucy__tiff_meta_free(m);
    return st;
  }
  return LUCY_OK;
}

void lucy__tiff_meta_resolution(LucyTiffMeta *m, double xres, double yres, int have_res,
                                unsigned resunit) {
  if (m->have_xy || !have_res) return;
  double um = 0.0;
  const char *res_unit = NULL;
  /* ImageJ's unit, pixel included, overrides ResolutionUnit, as in Fiji */
  if (m->kind == LUCY_META_IMAGEJ && m->unit[0]) {
    um = lucy__unit_to_um(m->unit);
  } else if (resunit == RESUNIT_INCH || resunit == RESUNIT_CENTIMETER) {
    um = resunit == RESUNIT_INCH ? 25400.0 : 1e4;
    res_unit = resunit == RESUNIT_INCH ? "inch" : "cm";
  }
  /* Zero, negative or absurd resolutions (0/1000 occurs in the wild) mean "not calibrated". */
  if (um <= 0 || !(xres > 0) || !(yres > 0) || !isfinite(xres) || !isfinite(yres)) return;
  double vx = um / xres, vy = um / yres;
  if (!isfinite(vx) || !isfinite(vy) || vx <= 0 || vy <= 0) return;
  m->voxel_um[LUCY_X] = vx;
  m->voxel_um[LUCY_Y] = vy;
  m->have_xy = 1;
  if (res_unit) strcpy(m->unit, res_unit);
  /* the description named no length: the tags alone calibrate */
  if (strcmp(m->calibration, "none") == 0) strcpy(m->calibration, "resolution");
}

LucyStatus lucy__tiff_meta_plane_ifd(const LucyTiffMeta *m, size_t z, size_t c, size_t t,
                                     size_t *ifd) {
  switch (m->kind) {
  case LUCY_META_IMAGEJ: /* ImageJ stores hyperstacks channel fastest, then z, then time */
    *ifd = c + m->channels * (z + m->slices * t);
    return LUCY_OK;
  case LUCY_META_OME: {
    size_t p = ome_index(m, z, c, t);
    if (!m->tiffdata) {
      *ifd = p;
      return LUCY_OK;
    }
    for (size_t i = 0; i < m->n_tiffdata; i++) {
      const LucyOmeTiffData *d = &m->tiffdata[i];
      if (p >= d->first && p - d->first < d->count && d->ifd <= SIZE_MAX - (p - d->first)) {
        *ifd = d->ifd + (p - d->first);
        return LUCY_OK;
      }
    }
    return lucy__fail(LUCY_ERR_FORMAT, "OME-XML maps no IFD to plane z=%zu c=%zu t=%zu", z, c,
                      t);
  }
  case LUCY_META_NONE:
    break;
  }
  *ifd = z;
  return LUCY_OK;
}

void lucy__tiff_meta_free(LucyTiffMeta *m) {
  free(m->tiffdata);
  m->tiffdata = NULL;
  m->n_tiffdata = 0;
}
