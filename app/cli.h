/* lucy-cli: the subcommands and the progress/cancel reporter they share. */
#ifndef LUCY_CLI_H
#define LUCY_CLI_H

#include <stdio.h>

#include "cli-args.h"

/* Each subcommand takes argv starting at its own name (argv[0] == "convolve") and returns the
 * process exit code. */
int cli_info_main(int argc, char **argv);
int cli_convolve_main(int argc, char **argv);
int cli_deconvolve_main(int argc, char **argv);
int cli_project_main(int argc, char **argv);
int cli_phantom_main(int argc, char **argv);
int cli_psf_main(int argc, char **argv);
/* psf measure / psf fix (cli-psf-qa.c); argv starts at "measure" / "fix". */
int cli_psf_measure_main(int argc, char **argv);
int cli_psf_fix_main(int argc, char **argv);
int cli_compare_main(int argc, char **argv);
int cli_points_main(int argc, char **argv);
int cli_memory_main(int argc, char **argv);

/* ---- progress and Ctrl-C (cli-progress.c) ---------------------------------------------- */

/* Installs a SIGINT, SIGTERM and SIGHUP handler that only sets a flag (a second signal kills
 * at once). Long work sees the flag through cli_progress_fn's return value and stops with
 * LUCY_ERR_CANCELLED. */
void cli_signals_install(void);
/* 1 once Ctrl-C was pressed (or SIGTERM, SIGHUP arrived). */
int cli_cancelled(void);
/* The exit status of a cancelled run: 130 for Ctrl-C, 128 + the signal for the others. */
int cli_cancel_status(void);

/* Progress on stderr for work that runs longer than a delay (1 s; LUCY_CLI_PROGRESS_DELAY
 * overrides it, in seconds). On a terminal a single updating line "\rconvolve: forward FFT 40%"
 * at most 10 times a second; otherwise plain lines at most once a second. */
typedef struct CliProgress {
  const char *label;
  double start, last_print, delay;
  int tty;
  int shown;        /* something was printed; a terminal line needs clearing */
  int test_sigint;  /* test hook: LUCY_CLI_TEST_SIGINT=1 (1) raises SIGINT on the first
                       report, =term-writing (2) SIGTERM on the first report of a write */
} CliProgress;

void cli_progress_init(CliProgress *p, const char *label);
/* A LucyProgressFn: user is a CliProgress. Returns non-zero once Ctrl-C was pressed. */
int cli_progress_fn(void *user, double fraction, const char *stage);
/* Clears the terminal line (if one was shown) so the next message starts clean. */
void cli_progress_finish(CliProgress *p);

/* Seconds on a monotonic clock. */
double cli_now(void);

/* Returns CLI_EXIT_CANCELLED (and says so) when Ctrl-C was pressed, else CLI_EXIT_OK: for the
 * points between library calls that take no progress callback. */
int cli_check_cancelled(const char *command);

#endif
