/* lucy-cli: strict argument parsing and the one-line error reports shared by the subcommands.
 *
 * Exit codes: 0 success, 1 a failure while working (file, numbers, memory), 2 a usage error
 * (unknown option, missing or malformed argument), 130 cancelled by Ctrl-C. */
#ifndef LUCY_CLI_ARGS_H
#define LUCY_CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include <lucy/lucy.h>

enum {
  CLI_EXIT_OK = 0,
  CLI_EXIT_FAILURE = 1,
  CLI_EXIT_USAGE = 2,
  CLI_EXIT_CANCELLED = 130
};

/* The program name used in messages ("lucy-cli"). */
extern const char *const cli_program;

/* "lucy-cli: <command>: <message>; see 'lucy-cli <command> --help'" on stderr; returns
 * CLI_EXIT_USAGE. command may be NULL for top-level errors. */
int cli_usage_error(const char *command, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "lucy-cli: <what>: <lucy_error_message()>" on stderr (just "<what>" when the library left no
 * message); returns CLI_EXIT_FAILURE, or CLI_EXIT_CANCELLED for LUCY_ERR_CANCELLED. */
int cli_fail(LucyStatus status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "lucy-cli: <message>" on stderr; returns CLI_EXIT_FAILURE. For failures the CLI detects
 * itself (no library status). */
int cli_fail_plain(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Strict number parsing: the whole string must be the number (no spaces, no trailing text),
 * within [min, max]; on failure *why says what was wrong ("not a number", "out of range 1..64")
 * in a static buffer, and 0 is returned. */
int cli_parse_size(const char *s, size_t min, size_t max, size_t *out, const char **why);
int cli_parse_u64(const char *s, uint64_t *out, const char **why);
int cli_parse_int(const char *s, int min, int max, int *out, const char **why);
/* Finite doubles in [min, max]; min_exclusive makes the lower bound strict (e.g. "> 0"). */
int cli_parse_double(const char *s, double min, double max, int min_exclusive, double *out,
                     const char **why);

/* Comma-separated lists of exactly n numbers, e.g. "32,64,64". */
int cli_parse_size_list(const char *s, size_t n, size_t min, size_t max, size_t *out,
                        const char **why);
int cli_parse_double_list(const char *s, size_t n, double min, double max, int min_exclusive,
                          double *out, const char **why);

/* Option parsing helpers: each returns CLI_EXIT_OK or prints the usage error for option
 * `opt` of `command` and returns CLI_EXIT_USAGE. */
int cli_opt_size(const char *command, const char *opt, const char *arg, size_t min, size_t max,
                 size_t *out);
int cli_opt_int(const char *command, const char *opt, const char *arg, int min, int max,
                int *out);
int cli_opt_u64(const char *command, const char *opt, const char *arg, uint64_t *out);
/* --origin center|centre|scipy. */
int cli_opt_origin(const char *command, const char *arg, LucyOrigin *out);
/* The operands of `command IMG PSF -o OUT` after getopt: exactly two paths and an output. */
int cli_img_psf_operands(const char *command, int argc, char **argv, int optind_now,
                         const char *out_path, const char **img_path, const char **psf_path);
int cli_opt_double(const char *command, const char *opt, const char *arg, double min,
                   double max, int min_exclusive, double *out);
int cli_opt_shape(const char *command, const char *opt, const char *arg, size_t shape[3]);
int cli_opt_double3(const char *command, const char *opt, const char *arg, double min,
                    double max, int min_exclusive, double out[3]);
/* --voxel / --psf-voxel Z,Y,X: three voxel sizes in micrometres, each from 0.1 nm to 1 cm
 * (as the app's Voxel Size dialog; what an output's TIFF tags keep). */
#define CLI_VOXEL_MIN_UM 1e-4
#define CLI_VOXEL_MAX_UM 1e4
int cli_opt_voxel(const char *command, const char *opt, const char *arg, double out[3]);
/* --tile with --strategy: tiles need tiled or auto, and under auto a tile size asks for tiles
 * (as the planner's refusals say); a usage error otherwise. */
int cli_tile_strategy(const char *command, int have_tile, LucyStrategy *strategy);
/* Outputs that are PNG figures (project, compare): a name not ending in .png is a usage error,
 * so that PNG bytes never land in a .tif. */
int cli_png_output_name(const char *command, const char *path);
/* One warning line when threads (given, > 0) exceeds the online cores: oversubscribed FFT
 * threads run many times slower. Call once, after the checks that can fail. */
void cli_warn_threads(const char *command, int threads);

/* Reports getopt_long's '?' / ':' result for the subcommand as a usage error. Call with the
 * value getopt_long returned, argv and the optstring's short options. */
int cli_getopt_error(const char *command, int c, char *const argv[]);

/* "32 x 64 x 64" into buf. */
const char *cli_format_shape(const size_t shape[3], char *buf, size_t size);
/* Human byte count, "4.0 MiB". */
const char *cli_format_bytes(double bytes, char *buf, size_t size);

/* ---- memory strategies of convolve and deconvolve ---------------------------------------- */

/* --strategy auto|in-memory|low-memory|tiled|cpu. */
int cli_opt_strategy(const char *command, const char *arg, LucyStrategy *out);
/* --tile Y,X: the tiled strategy's tile size, two integers >= 1. */
int cli_opt_tile(const char *command, const char *arg, size_t tile[2]);

/* The options convolve and deconvolve share (--origin, --no-normalize, -j, --thorough,
 * --uint16, --strategy, --tile, --memory-limit, --channel, --frame, --psf-channel,
 * --psf-frame, --voxel, --psf-voxel, -f), parsed into the
 * matching fields of either command's options; their getopt codes are the CLI_OPT_* below and
 * 'j', 'f'. */
enum {
  CLI_OPT_ORIGIN = 200, /* below the commands' own codes, which start at 256 */
  CLI_OPT_NO_NORMALIZE,
  CLI_OPT_THOROUGH,
  CLI_OPT_UINT16,
  CLI_OPT_STRATEGY,
  CLI_OPT_LIMIT,
  CLI_OPT_TILE,
  CLI_OPT_CHANNEL,
  CLI_OPT_FRAME,
  CLI_OPT_VOXEL,
  CLI_OPT_PSF_VOXEL,
  CLI_OPT_PSF_CHANNEL,
  CLI_OPT_PSF_FRAME,
};
typedef struct CliShared {
  LucyOrigin *origin;
  int *normalize;
  int *threads;
  LucyPlanning *planning;
  LucyStrategy *strategy;
  size_t *tile;          /* [2] */
  size_t *memory_limit;
  size_t channel, frame; /* the image's hyperstack channel and time point */
  size_t psf_channel, psf_frame; /* the PSF's */
  int have_psf_channel;
  size_t image_channels; /* the image's channel count, once read (for the PSF's hint) */
  double voxel[3], psf_voxel[3]; /* --voxel, --psf-voxel (um); 0, 0, 0: the files' */
  int uint16, force, have_tile;
} CliShared;
#define CLI_NOT_SHARED (-1)
/* Handles getopt's c when it is a shared option: CLI_EXIT_OK, a usage error's exit status,
 * or CLI_NOT_SHARED for the caller to handle. */
int cli_shared_option(const char *command, int c, const char *arg, CliShared *shared);
/* After parsing: --tile only with --strategy tiled or auto (a usage error otherwise), and a
 * tile size alone asks for tiles, as the planner's refusals say. */
int cli_shared_finish(const char *command, CliShared *shared);

/* One input stack of a command. */
typedef struct CliInput {
  const char *role;      /* "image", "PSF", or NULL for a command's only input */
  const char *path;
  size_t channel, frame; /* from a hyperstack */
  const double *voxel;   /* replaces the file's voxel size unless NULL or 0, 0, 0 */
  const char *voxel_opt; /* the option that gave it: "--voxel" or "--psf-voxel" */
  const char *hint;      /* added to a hyperstack's note, e.g. "choose with --channel,
                            --frame"; NULL: the caller shows the note itself */
  const char *match_hint; /* in hint's place when the file has match_channels channels */
  size_t match_channels;
} CliInput;
/* Reads in->path and says on stderr (one line each) what the reader chose (its note, with
 * in->hint after a hyperstack's channel and frame) and when in->voxel replaces a calibrated
 * file's different voxel size (both sizes). info may be NULL. */
LucyStatus cli_read_input(const char *command, const CliInput *in, LucyVolume **out,
                          LucyTiffInfo *info);
/* in->voxel in place of vol's (read with info), and one line when it replaces a calibrated
 * file's different size (an uncalibrated file's 1 x 1 x 1 um says nothing: replacing it is
 * what the option is for). Nothing without in->voxel. */
void cli_override_voxel(const char *command, const CliInput *in, const LucyTiffInfo *info,
                        LucyVolume *vol);
/* The reader's note with hint (in parentheses) after a hyperstack's "read channel C, frame T",
 * into buf; the note as it is for other files. */
const char *cli_note_with_hint(const LucyTiffInfo *info, const char *hint, char *buf,
                               size_t size);
/* Reads an input stack of convolve or deconvolve (role "image": shared's channel, frame and
 * --voxel, and records its channel count in shared; "PSF": --psf-channel, --psf-frame and
 * --psf-voxel) with cli_read_input's lines, and says when voxels are negative: in a PSF always
 * (it would subtract light), in an image when warn_negative_image (Richardson-Lucy models
 * counts >= 0). The image is read first. */
LucyStatus cli_read_stack(const char *command, const char *role, const char *path,
                          CliShared *shared, int warn_negative_image, LucyVolume **out);
/* The warnings about how image and PSF fit together, into buf ("" when none), made when both
 * are read and printed after the run (so that errors stay one line): voxel sizes that differ
 * by more than 1 % on an axis (convolution works voxel by voxel, so the PSF acts at the wrong
 * scale), and a 2-D image (1 plane) with a 3-D PSF. mode: convolve's padding mode, or one of
 * the CLI_GEOM_* below for deconvolve; origin: the PSF origin. */
enum {
  CLI_GEOM_RL = -1,       /* RL or RLTV with noncirculant edges */
  CLI_GEOM_CIRCULAR = -2, /* circular edges */
  CLI_GEOM_WIENER = -3,   /* Wiener with noncirculant edges */
};
void cli_geometry_warnings(const char *command, const LucyVolume *img, const LucyVolume *psf,
                           int mode, LucyOrigin origin, char *buf, size_t size);
/* lucy_tiff_write with a progress line ("LABEL: writing 40%") and Ctrl-C: a cancelled write
 * returns LUCY_ERR_CANCELLED and leaves nothing. */
LucyStatus cli_tiff_write(const char *label, const char *path, const LucyVolume *vol,
                          LucyTiffWriteOptions *opts);
/* Writes a result stack (float32, or uint16 scaled min..max with the scaling in the ImageJ
 * description), atomically, overwriting only when asked, and says so with the time since t0;
 * CLI_EXIT_OK or the failure's exit status. */
int cli_write_result(const char *command, const char *path, const LucyVolume *out, int force,
                     int uint16, double t0);
/* The memory strategy around one plan, for convolve and deconvolve. A plan honours in-memory
 * and low-memory; for tiles lucy-cli runs the one-shot lucy_convolve / lucy_deconvolve, which
 * follow the planner (lucy_memory_plan) on the CPU device lucy-cli runs on. */
typedef struct CliStrategy {
  LucyMemoryRequest req; /* the operation (cli_strategy_init; the caller adds the mode, or the
                            method, boundary and acceleration) */
  LucyMemoryPlan plan;   /* when one_shot: the plan the one-shot function will follow */
  int one_shot;          /* 1: run the one-shot function instead of one plan */
} CliStrategy;

void cli_strategy_init(CliStrategy *cs, LucyMemoryOp op, const size_t image_shape[3],
                       const size_t psf_shape[3], LucyStrategy strategy, const size_t tile[2]);
/* Before planning: tiled goes to the one-shot function; a forced in-memory, low-memory or cpu
 * is held to the budget `limit` when one is given (a plan made with one does not look at it):
 * LUCY_ERR_DEVICE_MEMORY with the planner's message (bytes needed and free); cpu becomes
 * in-memory (*strategy), with a line saying so. */
LucyStatus cli_strategy_prepare(const char *command, CliStrategy *cs, LucyStrategy *strategy,
                                size_t limit);
/* After planning (plan_status: what the plan returned, LUCY_OK when one_shot was set before):
 * under auto, a plan refused for memory (LUCY_ERR_DEVICE_MEMORY) switches to the one-shot
 * function with a line saying so; other failures are returned as they are. For the one-shot
 * function cs->plan gets the planner's choice against *limit (0: the free memory) and *limit
 * the budget used, so that the function chooses the same; LUCY_ERR_DEVICE_MEMORY (needed and
 * free bytes) when nothing fits. */
LucyStatus cli_strategy_choose(const char *command, CliStrategy *cs, LucyStrategy strategy,
                               LucyStatus plan_status, size_t *limit);
/* "<command>: strategy tiled: 12 tiles (3 x 4) of 7 x 7 (y, x), ..." on stderr: the plan the
 * one-shot function will follow, with its predicted peak. */
void cli_report_memory_plan(const char *command, const LucyMemoryPlan *mp);
/* "tile 3/12" for the progress of a tiled run (the one-shot functions report stage "tile" at
 * fraction k/ntiles before tile k+1); any other stage, or tiles == 0, is returned as is. */
const char *cli_tile_stage(const char *stage, double fraction, size_t tiles, char *buf,
                           size_t size);

/* "<command>: PSF sum S; normalised to sum 1 (divided by S)" (or "not normalised"). */
void cli_report_psf_sum(const char *command, double sum, int normalize);

/* Pre-flight checks for an output path, so long work does not end in an error the user could
 * have been told about at once: the folder exists, the file does not exist unless overwrite,
 * and the output is not one of the inputs (inputs are never modified, even with --force).
 * Prints the error and returns CLI_EXIT_FAILURE, or returns CLI_EXIT_OK. inputs is a
 * NULL-terminated list (may be NULL). The library still enforces all of it atomically. */
int cli_check_output(const char *path, int overwrite, const char *const *inputs);

#endif
