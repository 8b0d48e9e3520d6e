#include "test-target.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lucy/status.h"

static LucyDevice *target;
static LucyDeviceKind target_kind = LUCY_DEVICE_CPU;

static void release_target(void) {
  lucy_device_unref(target);
  target = NULL;
}

void test_target_init(void) {
  const char *want = g_getenv("LUCY_TEST_DEVICE");
  if (!want || !*want) return;
  LucyDeviceOptions o;
  lucy_device_options_default(&o);
  o.threads = 2;
  o.use_wisdom = 0;
  if (strcmp(want, "cuda") == 0) {
    o.kind = LUCY_DEVICE_CUDA;
  } else if (strcmp(want, "cpu") != 0) {
    fprintf(stderr, "LUCY_TEST_DEVICE=%s: expected cpu or cuda\n", want);
    exit(1);
  }
  if (lucy_device_new(&o, &target) != LUCY_OK) {
    /* Only a missing CUDA device is a skip; a CPU device that cannot be made is a failure. */
    printf("skipped: no %s device to run on: %s\n", want, lucy_error_message());
    exit(o.kind == LUCY_DEVICE_CUDA ? 77 : 1);
  }
  target_kind = o.kind;
  atexit(release_target);
  g_test_message("plans run on an explicit %s device", want);
}

LucyDevice *test_target_device(void) { return target; }

LucyDeviceKind test_target_kind(void) { return target_kind; }
