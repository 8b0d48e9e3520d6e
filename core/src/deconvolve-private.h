/* White-box access to a deconvolution plan's operators for tests (never exported). */
#ifndef LUCY_DECONVOLVE_PRIVATE_H
#define LUCY_DECONVOLVE_PRIVATE_H

#include "lucy/deconvolve.h"

#pragma GCC visibility push(hidden)

/* The plan's forward model on host arrays: y (image shape N) = the observed box of H x, with x
 * compact on the estimate's domain (lucy_decon_fft_shape, L). Uses the plan's work buffer. */
LucyStatus lucy__decon_forward(LucyDeconPlan *plan, const float *x, float *y);
/* Its exact adjoint: x (L) = H^T(mask * y) for y of the image shape (N). */
LucyStatus lucy__decon_adjoint(LucyDeconPlan *plan, const float *y, float *x);

#pragma GCC visibility pop

#endif
