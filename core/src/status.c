#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "status-private.h"

#define LUCY_ERROR_MAX 1024

static _Thread_local char error_message[LUCY_ERROR_MAX];

const char *lucy_status_name(LucyStatus status) {
  switch (status) {
  case LUCY_OK: return "LUCY_OK";
  case LUCY_ERR_INVALID_ARGUMENT: return "LUCY_ERR_INVALID_ARGUMENT";
  case LUCY_ERR_OUT_OF_MEMORY: return "LUCY_ERR_OUT_OF_MEMORY";
  case LUCY_ERR_DEVICE_MEMORY: return "LUCY_ERR_DEVICE_MEMORY";
  case LUCY_ERR_IO: return "LUCY_ERR_IO";
  case LUCY_ERR_FORMAT: return "LUCY_ERR_FORMAT";
  case LUCY_ERR_UNSUPPORTED: return "LUCY_ERR_UNSUPPORTED";
  case LUCY_ERR_EXISTS: return "LUCY_ERR_EXISTS";
  case LUCY_ERR_NUMERIC: return "LUCY_ERR_NUMERIC";
  case LUCY_ERR_FFT: return "LUCY_ERR_FFT";
  case LUCY_ERR_DEVICE: return "LUCY_ERR_DEVICE";
  case LUCY_ERR_CANCELLED: return "LUCY_ERR_CANCELLED";
  }
  return "LUCY_ERR_UNKNOWN";
}

const char *lucy_error_message(void) { return error_message; }

void lucy__clear_error(void) { error_message[0] = '\0'; }

LucyStatus lucy__fail(LucyStatus status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(error_message, sizeof error_message, fmt, ap);
  va_end(ap);
  return status;
}

LucyStatus lucy__fail_context(LucyStatus status, const char *fmt, ...) {
  char old[LUCY_ERROR_MAX];
  memcpy(old, error_message, sizeof old);
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(error_message, sizeof error_message, fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  size_t used = (size_t)n < sizeof error_message ? (size_t)n : sizeof error_message - 1;
  size_t room = sizeof error_message - 1 - used;
  size_t len = strnlen(old, sizeof old - 1);
  if (len > room) len = room; /* the newest context wins; the tail of the old text is cut */
  memcpy(error_message + used, old, len);
  error_message[used + len] = '\0';
  return status;
}
