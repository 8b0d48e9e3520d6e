/* Setting the thread's error message from inside the core. */
#ifndef LUCY_STATUS_PRIVATE_H
#define LUCY_STATUS_PRIVATE_H

#include "lucy/status.h"

/* Internals shared across core files: never exported from liblucy. */
#pragma GCC visibility push(hidden)

/* Records a formatted message for lucy_error_message() and returns status, so a failure is
 * one line: `return lucy__fail(LUCY_ERR_IO, "cannot open %s: %s", path, strerror(errno));` */
LucyStatus lucy__fail(LucyStatus status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Prefixes the current message with context ("reading PSF: ") and returns status. */
LucyStatus lucy__fail_context(LucyStatus status, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

void lucy__clear_error(void);

#pragma GCC visibility pop

#endif
