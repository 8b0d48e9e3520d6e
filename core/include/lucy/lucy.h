/* Lucy: FFT convolution and deconvolution of 3-D microscopy stacks. Include this header. */
#ifndef LUCY_H
#define LUCY_H

#include "status.h"
#include "volume.h"
#include "tiff.h"
#include "device.h"
#include "convolve.h"
#include "deconvolve.h"
#include "memory.h"
#include "project.h"
#include "phantom.h"
#include "psf.h"
#include "compare.h"
#include "nufft.h"
#include "points.h"

#define LUCY_VERSION_STRING "0.1.0"
const char *lucy_version(void);

#endif
