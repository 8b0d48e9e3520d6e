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
  char prefix[LUCY_ERROR_MAX], old[LUCY_ERROR_MAX];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  memcpy(old, error_message, sizeof old);
  snprintf(error_message, sizeof error_message, "%s%s", prefix, old);
  return status;
}
