/* liblucy's side of the CUDA module (core/src/cuda/cuda-module.h): opened once, on the first
 * question about CUDA, and never closed (devices keep pointers into it). Where it is looked for,
 * in order: $LUCY_CUDA_MODULE, the installed path, the build tree's path (so tests and
 * uninstalled binaries find it); in a build with no CUDA device of its own but the tests' CUDA
 * emulator, $LUCY_CUDA_MODULE alone. When none opens, there is no CUDA device, and the reason
 * (dlerror's text) is what lucy_cuda_available and lucy-cli info --devices say. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/cuda-module.h"
#include "cuda/device-cuda.h"
#include "memory-private.h"
#include "status-private.h"

static LucyCudaModule module;
static int module_ok;
static char module_why[512];
static pthread_once_t module_once = PTHREAD_ONCE_INIT;

static LucyStatus host_fail(LucyStatus status, const char *message) {
  return lucy__fail(status, "%s", message);
}

static LucyStatus host_fail_context(LucyStatus status, const char *prefix) {
  return lucy__fail_context(status, "%s", prefix);
}

static void fail_load(const char *detail) {
  snprintf(module_why, sizeof module_why, "the CUDA module could not be opened (%s)", detail);
}

static char module_path[256]; /* the module that opened, for the messages below */

static void *open_module(void) {
  const char *env = getenv("LUCY_CUDA_MODULE");
#ifdef LUCY_CUDA_MODULE_PATH
  const char *paths[] = {env && env[0] ? env : NULL, LUCY_CUDA_MODULE_PATH,
                         LUCY_CUDA_MODULE_BUILD_PATH};
#else
  /* Built without the CUDA device but with the tests' CUDA emulator (tests/gpu/emu): only a
   * module named explicitly is opened, and without one this build says what it is. */
  if (!env || !env[0]) {
    snprintf(module_why, sizeof module_why,
             "built without CUDA: this build has no CUDA device (configure with -Dcuda=enabled "
             "where nvcc and cuFFT are installed)");
    return NULL;
  }
  const char *paths[] = {env};
#endif
  char errors[400] = "";
  size_t used = 0;
  for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
    if (!paths[i]) continue;
    void *handle = dlopen(paths[i], RTLD_NOW | RTLD_LOCAL);
    if (handle) {
      snprintf(module_path, sizeof module_path, "%s", paths[i]);
      return handle;
    }
    const char *e = dlerror();
    snprintf(errors + used, sizeof errors - used, "%s%s", used ? "; " : "", e ? e : paths[i]);
    used = strnlen(errors, sizeof errors);
    if (env && env[0]) break; /* an explicit module is the only one tried */
  }
  fail_load(errors);
  return NULL;
}

static void load(void) {
  void *handle = open_module();
  if (!handle) return;
  LucyCudaModuleEntry entry = (LucyCudaModuleEntry)dlsym(handle, LUCY_CUDA_MODULE_ENTRY);
  if (!entry) {
    char detail[400];
    snprintf(detail, sizeof detail, "%s has no " LUCY_CUDA_MODULE_ENTRY, module_path);
    fail_load(detail);
    return;
  }
  const LucyCudaHost host = {
      .abi = LUCY_CUDA_MODULE_ABI,
      .device_size = sizeof(LucyDevice),
      .ops_size = sizeof(LucyDeviceOps),
      .fail = host_fail,
      .fail_context = host_fail_context,
      .account = lucy__device_account,
      .unaccount = lucy__device_unaccount,
      .count_fft = lucy__device_count_fft,
  };
  const char *why = NULL;
  if (entry(&host, &module, &why) != 0) {
    char detail[400];
    snprintf(detail, sizeof detail, "%s: %s", module_path, why ? why : "it refused to load");
    fail_load(detail);
    return;
  }
  module_ok = 1;
}

static int loaded(void) {
  pthread_once(&module_once, load);
  return module_ok;
}

int lucy__cuda_device_count(const char **reason) {
  if (!loaded()) {
    if (reason) *reason = module_why;
    return 0;
  }
  return module.device_count(reason);
}

LucyStatus lucy__device_cuda_init(LucyDevice *dev) {
  if (!loaded())
    return lucy__fail(LUCY_ERR_UNSUPPORTED, "cannot use the CUDA device: %s", module_why);
  return module.device_init(dev);
}

int lucy__cuda_fft_estimate(const size_t shape[3], size_t *bytes) {
  return loaded() && module.fft_estimate(shape, bytes);
}
