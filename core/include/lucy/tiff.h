/* TIFF stacks: reading (libtiff, every sample type and compression it decodes) and writing
 * float32 / uint16 stacks with ImageJ hyperstack metadata. */
#ifndef LUCY_TIFF_H
#define LUCY_TIFF_H

#include "volume.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct LucyTiffReadOptions {
  size_t channel; /* hyperstack channel to read, 0-based (default 0) */
  size_t frame;   /* hyperstack time point to read, 0-based (default 0) */
} LucyTiffReadOptions;

void lucy_tiff_read_options_default(LucyTiffReadOptions *opts);

/* What the file held, beyond the volume. */
typedef struct LucyTiffInfo {
  LucySampleType sample_type; /* stored sample type (sub-byte samples report LUCY_U8) */
  unsigned bits_per_sample;   /* 1, 2, 4, 8, 16, 32 or 64 */
  size_t pages;               /* IFDs in the file */
  size_t slices, channels, frames; /* hyperstack dimensions (1 when absent) */
  size_t channel, frame;      /* which channel/time point was read */
  int bigtiff;                /* 1 for BigTIFF */
  int big_endian;             /* 1 when the file is big-endian */
  char compression[32];       /* e.g. "none", "lzw", "deflate", "jpeg" */
  char calibration[16];       /* "imagej", "ome", "resolution" or "none" */
  char unit[16];              /* the file's length unit as written, e.g. "micron" */
  char note[256];             /* what the reader chose, stated without advice (callers add
                                 their own way to choose), e.g. "file has 3 channels and 1
                                 frame; read channel 0, frame 0"; parts joined by "; ";
                                 may be empty */
} LucyTiffInfo;

/* Reads a stack into a new float32 volume with voxel size in µm. info may be NULL. */
LucyStatus lucy_tiff_read(const char *path, const LucyTiffReadOptions *opts,
                          LucyVolume **out, LucyTiffInfo *info);

/* The same from a file image in memory (used by the fuzz target and by tests). */
LucyStatus lucy_tiff_read_memory(const void *bytes, size_t size, const LucyTiffReadOptions *opts,
                                 LucyVolume **out, LucyTiffInfo *info);

typedef enum LucyTiffFormat {
  LUCY_TIFF_FLOAT32 = 0,
  LUCY_TIFF_UINT16  /* value = round((v - offset) * scale), clamped to [0, 65535] */
} LucyTiffFormat;

typedef struct LucyTiffWriteOptions {
  LucyTiffFormat format; /* default LUCY_TIFF_FLOAT32 */
  double scale, offset;  /* for LUCY_TIFF_UINT16; scale <= 0 means "fit min..max to 0..65535";
                            the scaling used is recorded in the ImageJ Info property */
  int overwrite;         /* replace an existing file (default 0: LUCY_ERR_EXISTS) */
  int bigtiff;           /* -1 automatic (BigTIFF above 4 GiB, the default), 0 never, 1 always */
  int compress;          /* 1: deflate (default 0: uncompressed, what every reader handles) */
  LucyProgressFn progress; /* optional: the fraction written, once per page and before the
                              file is put in place; non-zero cancels (LUCY_ERR_CANCELLED,
                              nothing written) */
  void *progress_user;
} LucyTiffWriteOptions;

void lucy_tiff_write_options_default(LucyTiffWriteOptions *opts);

/* Writes atomically: a temporary file in the same folder, unnamed where the file system
 * allows (O_TMPFILE: nothing is left behind even if the process is killed), put in place only
 * when complete, so a failure never leaves a partial file and never harms an existing one.
 * Device nodes, FIFOs and sockets are never replaced. */
LucyStatus lucy_tiff_write(const char *path, const LucyVolume *vol,
                           const LucyTiffWriteOptions *opts);

#ifdef __cplusplus
}
#endif
#endif
