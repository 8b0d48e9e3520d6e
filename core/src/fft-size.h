/* Padded FFT domains beyond the one-axis good size (lucy_fft_good_size in lucy/convolve.h). */
#pragma once

#include <stddef.h>

/* The smallest even 7-smooth size >= n (0 when none fits in size_t). */
size_t lucy__fft_good_size_even(size_t n);

/* cuFFT's 64-bit planner (cufftMakePlanMany64) takes real transforms of more than 2^32
 * elements only with an even x. A padded domain that large with an odd x gets the next even
 * 7-smooth x instead, on every device, so that the memory planner, the CPU plan and the GPU
 * plan agree; any other L is left as it is. Only for padded domains: a circular one must
 * stay the image's shape. */
void lucy__fft_domain_even_x(size_t L[3]);
