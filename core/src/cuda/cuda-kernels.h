/* The CUDA device's kernels (cuda-kernels.cu) behind a plain C interface, so that the device
 * table (device-cuda.c) is C and only the kernels go through nvcc. Every launcher returns the
 * cudaError_t of the launch (0 = cudaSuccess) and runs on `stream` (a cudaStream_t).
 * Shapes are logical real shapes; padded-layout buffers have rows of 2*(n2/2+1) floats.
 * Reductions write `blocks` partial results per sum (double) into `partial`, laid out
 * partial[s * blocks + b]; the host adds them up (deterministically). */
#ifndef LUCY_CUDA_KERNELS_H
#define LUCY_CUDA_KERNELS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LUCY_CUK_BLOCKS 512 /* reduction grid: partial sums per reduction */

/* dst[(z+s0) mod L0, (y+s1) mod L1, (x+s2) mod L2] += src rows [row0, row0 + nrows) of a
 * compact (M0, M1, M2) array; src points at row row0's first value. dst is not zeroed. */
int lucy_cuk_embed(float *dst, const size_t L[3], const float *src, const size_t M[3],
                   const ptrdiff_t shift[3], size_t row0, size_t nrows, void *stream);
/* dst rows [row0, row0 + nrows) of the compact N array = scale * src[(j + off) mod L]; dst
 * points at row row0's first value. */
int lucy_cuk_extract(float *dst, const size_t N[3], const float *src, const size_t L[3],
                     const ptrdiff_t off[3], float scale, size_t row0, size_t nrows,
                     void *stream);
int lucy_cuk_cmul(float *a, const float *b, size_t count, int conjugate, float scale,
                  void *stream);
int lucy_cuk_scale(float *a, size_t nfloats, float scale, void *stream);
int lucy_cuk_fill(float *a, size_t count, float value, void *stream);
int lucy_cuk_wiener(float *a, const float *h, size_t count, float k_abs, float scale,
                    void *stream);
/* partial: 3 sums (sum, min, max). */
int lucy_cuk_reduce(const float *buf, size_t count, double *partial, void *stream);
/* partial: 1 (max |a|^2). */
int lucy_cuk_cmax_abs2(const float *a, size_t count, double *partial, void *stream);
int lucy_cuk_embed_smooth(float *dst, const size_t L[3], const float *src, const size_t N[3],
                          float lo, void *stream);
/* partial: 1 (I-divergence) when want_idiv. */
int lucy_cuk_rl_ratio(float *hx, const size_t L[3], const float *obs, const size_t N[3],
                      float background, float eps, int want_idiv, double *partial,
                      void *stream);
/* The low-memory strategy's weights (LucyBoxWeights in device-impl.h): sat NULL for none. */
typedef struct LucyCukBox {
  const double *sat;
  size_t N[3], M[3], L[3], origin[3];
} LucyCukBox;

/* partial: 4 sums. box->sat NULL: weight array or weight_value. */
int lucy_cuk_rl_update(float *x, const float *corr, const size_t L[3], const float *weight,
                       const LucyCukBox *box, float weight_value, float weight_min,
                       const float *tv, float *copy, float *step, double *partial,
                       void *stream);
/* The low-memory OTF (LucyZOtf in device-impl.h) applied to the spectrum a of real shape L:
 * op 0 a *= H, 1 a *= conj(H), 2 Wiener as lucy_cuk_wiener, 3 partial[b] = max |H|^2 per block
 * (LUCY_CUK_BLOCKS of them). planes: mz planes of L1 (L2/2+1) complex values, plane_floats
 * apart; twiddle: L0 complex values e^{-2 pi i m / L0}. */
int lucy_cuk_zotf(int op, float *a, const size_t L[3], const float *planes, size_t mz,
                  size_t plane_floats, size_t z0, const float *twiddle, float k_abs, float scale,
                  double *partial, void *stream);
/* partial: 2 sums. */
int lucy_cuk_rl_extrapolate(float *x, float *prev, float *copy, const size_t L[3], float alpha,
                            double *partial, void *stream);
int lucy_cuk_tv_term(float *tv, const float *x, const size_t L[3], const float spacing[3],
                     float lambda, float eps, void *stream);

#ifdef __cplusplus
}
#endif
#endif
