/* Turning a core LucyStatus (and the thread's lucy_error_message()) into a GError. */
#pragma once

#include <glib.h>
#include <lucy/lucy.h>

G_BEGIN_DECLS

#define LUCY_ERROR (lucy_error_quark())
GQuark lucy_error_quark(void);

/* Sets error to "<what>: <core message>" with code = status; a cancelled status becomes
 * G_IO_ERROR_CANCELLED. Call on the thread that made the failing core call. */
void lucy_set_error_from_status(GError **error, LucyStatus status, const char *what);

G_END_DECLS
