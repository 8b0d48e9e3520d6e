/* PSF helpers shared by psf-check.c, psf-measure.c and psf-fix.c. */
#ifndef LUCY_PSF_PRIVATE_H
#define LUCY_PSF_PRIVATE_H

#include "lucy/volume.h"

/* Internals shared across core files: never exported from liblucy. */
#pragma GCC visibility push(hidden)

/* Median of the border voxels (faces of the box along axes longer than 2; 0 when none), and
 * in *mad (may be NULL) their median absolute deviation from it. */
double lucy__psf_border_median(const LucyVolume *psf, double *mad);

#pragma GCC visibility pop

#endif
