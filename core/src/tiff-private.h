/* Internals shared by the TIFF reader, writer and metadata parser. */
#ifndef LUCY_TIFF_PRIVATE_H
#define LUCY_TIFF_PRIVATE_H

#include <stddef.h>
#include <tiffio.h>

#include "lucy/tiff.h"

/* Internals shared across core files: never exported from liblucy. */
#pragma GCC visibility push(hidden)

/* Where libtiff's messages for one open file go, so that they end up in Lucy's error message
 * (per handle, hence per thread) instead of on stderr. */
typedef struct LucyTiffCtx {
  char error[512];   /* libtiff's errors since the last reset, joined with "; " */
  char warning[256]; /* the first warning since the last reset */
} LucyTiffCtx;

/* Open options that route errors and warnings of one handle into ctx. Free with
 * TIFFOpenOptionsFree. NULL when out of memory. */
TIFFOpenOptions *lucy__tiff_options_new(LucyTiffCtx *ctx);
void lucy__tiff_ctx_reset(LucyTiffCtx *ctx);
/* ctx->error, or the warning, or "no message from libtiff" — never empty. */
const char *lucy__tiff_ctx_message(const LucyTiffCtx *ctx);

/* One OME <TiffData>: PlaneCount planes, from plane index `first` (in DimensionOrder), stored
 * in consecutive IFDs from `ifd`. */
typedef struct LucyOmeTiffData {
  size_t ifd, first, count;
} LucyOmeTiffData;

typedef enum { LUCY_META_NONE, LUCY_META_IMAGEJ, LUCY_META_OME } LucyMetaKind;

/* What the first page's ImageDescription and resolution tags say about the stack. */
typedef struct LucyTiffMeta {
  LucyMetaKind kind;
  size_t images;                   /* planes in the hyperstack (0: not stated: all pages) */
  size_t slices, channels, frames; /* 1 when absent */
  char order[8];                   /* OME DimensionOrder, e.g. "XYZCT" */
  LucyOmeTiffData *tiffdata;       /* OME plane -> IFD map (NULL: planes in order from IFD 0) */
  size_t n_tiffdata;
  size_t ome_images;               /* <Image> elements in the OME-XML */
  double voxel_um[3];              /* z, y, x; 1.0 when unknown */
  int have_xy, have_z;             /* which voxel sizes the file stated */
  char unit[16];                   /* the unit as written */
  char calibration[16];            /* "imagej", "ome", "resolution" or "none" */
  int lucy_scaled;                 /* written by Lucy as uint16 with lucy_scale/lucy_offset */
  double lucy_scale, lucy_offset;
  char note[160];                  /* a remark for the user (unknown unit, ...) */
} LucyTiffMeta;

/* Parses ImageJ or OME-XML metadata from desc (may be NULL). Never fails on odd text: what
 * cannot be understood is ignored, except contradictions (LUCY_ERR_FORMAT, message without the
 * file name) and allocation failure. */
LucyStatus lucy__tiff_meta_parse(const char *desc, LucyTiffMeta *meta);
/* Applies XResolution/YResolution (pixels per unit) where the description gave no pixel size;
 * resunit is the TIFF ResolutionUnit (1 none, 2 inch, 3 cm). */
void lucy__tiff_meta_resolution(LucyTiffMeta *meta, double xres, double yres, int have_res,
                                unsigned resunit);
/* The IFD holding plane (z, c, t) of the hyperstack described by meta. */
LucyStatus lucy__tiff_meta_plane_ifd(const LucyTiffMeta *meta, size_t z, size_t c, size_t t,
                                     size_t *ifd);
void lucy__tiff_meta_free(LucyTiffMeta *meta);

/* Micrometres per unit for a length unit name ("micron", "µm", "nm", "inch", ...): 0 when
 * the unit is unknown. */
double lucy__unit_to_um(const char *unit);

/* Number formatting and parsing independent of the process locale (a GTK app may run with a
 * decimal comma). */
double lucy__strtod_c(const char *s, char **end);
int lucy__snprintf_c(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#pragma GCC visibility pop

#endif
