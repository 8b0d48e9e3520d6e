/* The device the core convolution and deconvolution tests run their plans on.
 *
 * LUCY_TEST_DEVICE unset or empty: none (NULL in the options: each plan makes its own CPU
 * device). "cpu": one explicit CPU device with 2 threads, shared by every plan. "cuda": one
 * CUDA device shared by every plan; without one the program says why and exits 77, which meson
 * reports as skipped. The gpu suite runs test-convolve and test-deconvolve again with "cuda",
 * so every CPU check of the two operations is repeated on the GPU (the few tests that make
 * their own CPU device to count its bytes and FFTs keep doing so). */
#pragma once

#include <glib.h>

#include "lucy/device.h"

void test_target_init(void);
LucyDevice *test_target_device(void);   /* NULL: the plans' own CPU device */
LucyDeviceKind test_target_kind(void);
