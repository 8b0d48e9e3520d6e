/* lucy-cli: progress on stderr and Ctrl-C as cancellation. */
#include "cli.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

static void on_signal(int sig) {
  interrupted = sig; /* SA_RESETHAND: the next one takes the default action */
}

/* Ctrl-C, and the polite stops of schedulers, timeout(1) and closed terminals, all cancel the
 * same way: the work stops at its next check and nothing is written. Outputs are unnamed
 * until complete (lucy_tiff_write), so a second signal that kills at once leaves nothing
 * either. */
void cli_signals_install(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESETHAND | SA_RESTART;
  const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
  for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) sigaction(sigs[i], &sa, NULL);
}

int cli_cancelled(void) { return interrupted != 0; }

int cli_cancel_status(void) {
  return interrupted && interrupted != SIGINT ? 128 + interrupted : CLI_EXIT_CANCELLED;
}

int cli_check_cancelled(const char *command) {
  if (!interrupted)
    return CLI_EXIT_OK;
  fprintf(stderr, "%s: %s: cancelled\n", cli_program, command);
  return cli_cancel_status();
}

double cli_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress_init(CliProgress *p, const char *label) {
  memset(p, 0, sizeof *p);
  p->label = label;
  p->start = cli_now();
  p->last_print = -INFINITY;
  p->delay = 1.0;
  const char *env = getenv("LUCY_CLI_PROGRESS_DELAY");
  double d;
  if (env && cli_parse_double(env, 0.0, 1e6, 0, &d, NULL))
    p->delay = d;
  p->tty = isatty(STDERR_FILENO);
  env = getenv("LUCY_CLI_TEST_SIGINT");
  p->test_sigint = !env ? 0 : strcmp(env, "1") == 0 ? 1 : strcmp(env, "term-writing") == 0 ? 2 : 0;
}

int cli_progress_fn(void *user, double fraction, const char *stage) {
  CliProgress *p = user;
  if (p->test_sigint == 1 || (p->test_sigint == 2 && stage && strcmp(stage, "writing") == 0)) {
    const int sig = p->test_sigint == 1 ? SIGINT : SIGTERM;
    p->test_sigint = 0;
    raise(sig); /* goes through the real handler, as a key press or kill(1) would */
  }
  if (interrupted)
    return 1;
  double now = cli_now();
  if (now - p->start < p->delay)
    return 0;
  double interval = p->tty ? 0.1 : 1.0;
  if (now - p->last_print < interval)
    return 0;
  /* May be called from a worker thread: never block it on printing. */
  if (pthread_mutex_trylock(&print_lock) != 0)
    return interrupted != 0;
  if (!(fraction >= 0.0))
    fraction = 0.0;
  if (fraction > 1.0)
    fraction = 1.0;
  int percent = (int)floor(fraction * 100.0 + 1e-9);
  const char *s = stage && stage[0] ? stage : "working";
  if (p->tty)
    fprintf(stderr, "\r\033[K%s: %s %d%%", p->label, s, percent);
  else
    fprintf(stderr, "%s: %s %d%%\n", p->label, s, percent);
  fflush(stderr);
  p->last_print = now;
  p->shown = 1;
  pthread_mutex_unlock(&print_lock);
  return interrupted != 0;
}

void cli_progress_finish(CliProgress *p) {
  if (p->tty && p->shown) {
    fputs("\r\033[K", stderr);
    fflush(stderr);
  }
  p->shown = 0;
}
