/* GError domain for core statuses. */
#include "lucy-error.h"

#include <gio/gio.h>

G_DEFINE_QUARK(lucy-error-quark, lucy_error)

void lucy_set_error_from_status(GError **error, LucyStatus status, const char *what) {
  if (status == LUCY_ERR_CANCELLED) {
    g_set_error_literal(error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Cancelled");
    return;
  }
  const char *msg = lucy_error_message();
  if (!msg || !*msg) msg = lucy_status_name(status);
  g_set_error(error, LUCY_ERROR, (int)status, "%s: %s", what, msg);
}
