/* LucyApplication: the GtkApplication — command line (files, --window, --screenshot, --run,
 * --mode, --view, ...), app actions with accelerators, About. */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define LUCY_TYPE_APPLICATION (lucy_application_get_type())
G_DECLARE_FINAL_TYPE(LucyApplication, lucy_application, LUCY, APPLICATION, GtkApplication)

LucyApplication *lucy_application_new(void);
/* Exit status of work finished after the command line returned (--screenshot). */
int lucy_application_get_exit_status(LucyApplication *self);

G_END_DECLS
