/* The module's side of cuda-module.h: the entry point, and the few liblucy internals the CUDA
 * device calls, forwarded to the library that opened the module (its error message is the
 * one lucy_error_message() returns). */
#include <stdarg.h>
#include <stdio.h>

#include "cuda-module.h"
#include "device-cuda.h"
#include "memory-private.h"
#include "status-private.h"

static LucyCudaHost host;

LucyStatus lucy__fail(LucyStatus status, const char *fmt, ...) {
  char message[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(message, sizeof message, fmt, ap);
  va_end(ap);
  return host.fail(status, message);
}

LucyStatus lucy__fail_context(LucyStatus status, const char *fmt, ...) {
  char prefix[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(prefix, sizeof prefix, fmt, ap);
  va_end(ap);
  return host.fail_context(status, prefix);
}

void lucy__device_account(LucyDevice *dev, size_t bytes) { host.account(dev, bytes); }
void lucy__device_unaccount(LucyDevice *dev, size_t bytes) { host.unaccount(dev, bytes); }
void lucy__device_count_fft(void) { host.count_fft(); }

int lucy_cuda_module_entry(const LucyCudaHost *h, LucyCudaModule *out, const char **why) {
  if (h->abi != LUCY_CUDA_MODULE_ABI || h->device_size != sizeof(LucyDevice) ||
      h->ops_size != sizeof(LucyDeviceOps)) {
    *why = "the CUDA module was built from another version of Lucy (ABI, LucyDevice or "
           "LucyDeviceOps layout differs): rebuild it with the library";
    return -1;
  }
  host = *h;
  out->device_count = lucy__cuda_device_count;
  out->device_init = lucy__device_cuda_init;
  out->fft_estimate = lucy__cuda_fft_estimate;
  return 0;
}
