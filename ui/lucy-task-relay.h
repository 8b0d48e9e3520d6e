/* LucyTaskRelay: carries a worker thread's news to the main loop. The latest stage and
 * fraction (and, for iterative work, the latest iteration) reach the target at most ~10 times
 * a second, however often the worker reports; heavier payloads (previews) go one at a time.
 * The target is held weakly and nothing is delivered once the work is cancelled. Reference
 * counted: the worker, the main loop's pending idles and the task each hold one. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Called on the main thread. */
typedef void (*LucyTaskProgressFunc)(gpointer target, double fraction, const char *stage);
/* One iteration's report; total is the most iterations the work will run. */
typedef void (*LucyTaskIterationFunc)(gpointer target, int iteration, int total, double idiv,
                                      double rel_change, double seconds);
typedef void (*LucyTaskDeliverFunc)(GObject *target, gpointer data);

typedef struct _LucyTaskRelay LucyTaskRelay;

/* cancellable may be NULL (the relay makes one); progress and iteration may be NULL. */
LucyTaskRelay *lucy_task_relay_new(GCancellable *cancellable, GObject *target,
                                   LucyTaskProgressFunc progress,
                                   LucyTaskIterationFunc iteration);
LucyTaskRelay *lucy_task_relay_ref(LucyTaskRelay *relay);
void lucy_task_relay_unref(gpointer relay);

GCancellable *lucy_task_relay_get_cancellable(LucyTaskRelay *relay);
gboolean lucy_task_relay_is_cancelled(LucyTaskRelay *relay);

/* Any thread. force: deliver soon even if the last report was just now (stage changes). */
void lucy_task_relay_stage(LucyTaskRelay *relay, double fraction, const char *stage,
                           gboolean force);
/* Any thread: the latest iteration, with fraction iteration/total and stage "Iteration i/n". */
void lucy_task_relay_iteration(LucyTaskRelay *relay, int iteration, int total, double idiv,
                               double rel_change, double seconds);
/* A LucyProgressFn (user = the relay): reports the stage; 1 (stop) once cancelled. */
int lucy_task_relay_progress(void *user, double fraction, const char *stage);

/* Any thread: func(target, data) on the main loop, then destroy(data). Only one delivery is
 * in flight at a time: while the previous one has not run, this returns FALSE and leaves data
 * to the caller (a newer preview is better than a queue of old ones). */
gboolean lucy_task_relay_deliver(LucyTaskRelay *relay, LucyTaskDeliverFunc func, gpointer data,
                                 GDestroyNotify destroy);

G_END_DECLS
