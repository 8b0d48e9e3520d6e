// The CUDA device's kernels: fused element-wise steps and reductions with the exact semantics
// of the CPU device (core/src/device-cpu.c, documented in core/src/device-impl.h). Reductions
// accumulate in double per thread, reduce per block in shared memory and leave one partial per
// block; the host adds the partials in a fixed order, so results are deterministic.
#include <cuda_runtime.h>
#include <math.h>
#include <stddef.h>

#include "cuda-kernels.h"

namespace {

constexpr int kThreads = 256;

inline unsigned grid_for(size_t n) {
  size_t b = (n + kThreads - 1) / kThreads;
  if (b > 65535u * 4u) b = 65535u * 4u;
  return b ? (unsigned)b : 1u;
}

inline cudaStream_t st(void *s) { return (cudaStream_t)s; }

__device__ inline size_t prow(size_t n2) { return 2 * (n2 / 2 + 1); }

__device__ inline size_t wrapi(ptrdiff_t v, size_t n) {
  ptrdiff_t m = v % (ptrdiff_t)n;
  return (size_t)(m < 0 ? m + (ptrdiff_t)n : m);
}

struct Shape {
  size_t n0, n1, n2;
};
inline Shape shape_of(const size_t s[3]) { return Shape{s[0], s[1], s[2]}; }

// Block reduction of K doubles (sum) into partial[k * gridDim.x + blockIdx.x].
template <int K>
__device__ void block_sum(double (&v)[K], double *partial) {
  __shared__ double sh[K][kThreads];
  for (int k = 0; k < K; k++) sh[k][threadIdx.x] = v[k];
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if ((int)threadIdx.x < s)
      for (int k = 0; k < K; k++) sh[k][threadIdx.x] += sh[k][threadIdx.x + s];
    __syncthreads();
  }
  if (threadIdx.x == 0)
    for (int k = 0; k < K; k++) partial[(size_t)k * gridDim.x + blockIdx.x] = sh[k][0];
}

__global__ void k_embed(float *dst, Shape L, const float *src, Shape M, ptrdiff_t s0,
                        ptrdiff_t s1, ptrdiff_t s2, size_t row0, size_t nrows) {
  const size_t n = nrows * M.n2, row = prow(L.n2);
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x) {
    const size_t r = row0 + i / M.n2, x = i % M.n2;
    const size_t z = r / M.n1, y = r % M.n1;
    const size_t dz = wrapi((ptrdiff_t)z + s0, L.n0), dy = wrapi((ptrdiff_t)y + s1, L.n1);
    const size_t dx = wrapi((ptrdiff_t)x + s2, L.n2);
    atomicAdd(dst + (dz * L.n1 + dy) * row + dx, src[i]);
  }
}

__global__ void k_extract(float *dst, Shape N, const float *src, Shape L, ptrdiff_t o0,
                          ptrdiff_t o1, ptrdiff_t o2, float scale, size_t row0, size_t nrows) {
  const size_t n = nrows * N.n2, row = prow(L.n2);
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x) {
    const size_t r = row0 + i / N.n2, x = i % N.n2;
    const size_t z = r / N.n1, y = r % N.n1;
    const size_t sz = wrapi((ptrdiff_t)z + o0, L.n0), sy = wrapi((ptrdiff_t)y + o1, L.n1);
    const size_t sx = wrapi((ptrdiff_t)x + o2, L.n2);
    const float v = src[(sz * L.n1 + sy) * row + sx];
    dst[i] = scale == 1.0f ? v : scale * v;
  }
}

__global__ void k_cmul(float2 *a, const float2 *b, size_t count, float sg, float scale) {
  for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < count;
       k += (size_t)gridDim.x * blockDim.x) {
    const float2 x = a[k], y = b[k];
    const float bi = sg * y.y;
    a[k] = make_float2(scale * (x.x * y.x - x.y * bi), scale * (x.x * bi + x.y * y.x));
  }
}

__global__ void k_scale(float *a, size_t n, float scale) {
  for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < n;
       k += (size_t)gridDim.x * blockDim.x)
    a[k] *= scale;
}

__global__ void k_fill(float *a, size_t n, float v) {
  for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < n;
       k += (size_t)gridDim.x * blockDim.x)
    a[k] = v;
}

__global__ void k_wiener(float2 *a, const float2 *h, size_t count, float k_abs, float scale) {
  for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < count;
       k += (size_t)gridDim.x * blockDim.x) {
    const float2 x = a[k], y = h[k];
    const float f = scale / (y.x * y.x + y.y * y.y + k_abs);
    a[k] = make_float2(f * (y.x * x.x + y.y * x.y), f * (y.x * x.y - y.y * x.x));
  }
}

__global__ void k_reduce(const float *buf, size_t n, double *partial) {
  double v[3] = {0.0, INFINITY, -INFINITY};
  for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < n;
       k += (size_t)gridDim.x * blockDim.x) {
    const double x = buf[k];
    v[0] += x;
    v[1] = fmin(v[1], x);
    v[2] = fmax(v[2], x);
  }
  __shared__ double sh[3][kThreads];
  for (int k = 0; k < 3; k++) sh[k][threadIdx.x] = v[k];
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if ((int)threadIdx.x < s) {
      sh[0][threadIdx.x] += sh[0][threadIdx.x + s];
      sh[1][threadIdx.x] = fmin(sh[1][threadIdx.x], sh[1][threadIdx.x + s]);
      sh[2][threadIdx.x] = fmax(sh[2][threadIdx.x], sh[2][threadIdx.x + s]);
    }
    __syncthreads();
  }
  if (threadIdx.x == 0)
    for (int k = 0; k < 3; k++) partial[(size_t)k * gridDim.x + blockIdx.x] = sh[k][0];
}

// Block maximum of one float per thread into partial[blockIdx.x].
__device__ void block_max(float v, double *partial) {
  __shared__ float sh[kThreads];
  sh[threadIdx.x] = v;
  __syncthreads();
  for (int s = kThreads / 2; s > 0; s >>= 1) {
    if ((int)threadIdx.x < s) sh[threadIdx.x] = fmaxf(sh[threadIdx.x], sh[threadIdx.x + s]);
    __syncthreads();
  }
  if (threadIdx.x == 0) partial[blockIdx.x] = sh[0];
}

__global__ void k_cmax_abs2(const float2 *a, size_t count, double *partial) {
  float hi = 0.0f;
  for (size_t k = blockIdx.x * (size_t)blockDim.x + threadIdx.x; k < count;
       k += (size_t)gridDim.x * blockDim.x) {
    const float2 x = a[k];
    hi = fmaxf(hi, x.x * x.x + x.y * x.y);
  }
  block_max(hi, partial);
}

__device__ inline void smooth_index(size_t p, size_t n, size_t l, size_t *i0, size_t *i1,
                                    float *w) {
  if (p < n) {
    *i0 = *i1 = p;
    *w = 0.0f;
  } else {
    *i0 = n - 1;
    *i1 = 0;
    *w = (float)(p - n + 1) / (float)(l - n + 1);
  }
}

__global__ void k_embed_smooth(float *dst, Shape L, const float *src, Shape N, float lo) {
  const size_t n = L.n0 * L.n1 * L.n2, row = prow(L.n2);
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x) {
    const size_t r = i / L.n2, x = i % L.n2;
    size_t z0, z1, y0, y1, x0, x1;
    float wz, wy, wx;
    smooth_index(r / L.n1, N.n0, L.n0, &z0, &z1, &wz);
    smooth_index(r % L.n1, N.n1, L.n1, &y0, &y1, &wy);
    smooth_index(x, N.n2, L.n2, &x0, &x1, &wx);
    const float *s00 = src + (z0 * N.n1 + y0) * N.n2, *s01 = src + (z0 * N.n1 + y1) * N.n2;
    const float *s10 = src + (z1 * N.n1 + y0) * N.n2, *s11 = src + (z1 * N.n1 + y1) * N.n2;
    const float a = (1 - wx) * s00[x0] + wx * s00[x1], b = (1 - wx) * s01[x0] + wx * s01[x1];
    const float c = (1 - wx) * s10[x0] + wx * s10[x1], e = (1 - wx) * s11[x0] + wx * s11[x1];
    const float v = (1 - wz) * ((1 - wy) * a + wy * b) + wz * ((1 - wy) * c + wy * e);
    dst[r * row + x] = v > lo ? v : lo;
  }
}

// y log(y/d) - y + d = y (u - log1p u), u = (d - y)/y, in double: float log1pf would lose up
// to ~1e-5 of a term near |u| = 0.05 to cancellation, and the accelerated RL compares
// successive divergences. The series (|u| < 0.05, truncation < 4e-9 relative) avoids the
// cancellation where d is close to y.
__device__ inline double idiv_term(float y, float d) {
  if (y <= 0.0f) return d;
  const double yd = y, u = ((double)d - yd) / yd;
  if (fabs(u) < 0.05)
    return yd * u * u *
           (0.5 - u * (1.0 / 3 - u * (0.25 - u * (0.2 - u * (1.0 / 6 - u * (1.0 / 7))))));
  return yd * (u - log1p(u));
}

__global__ void k_rl_ratio(float *hx, Shape L, const float *obs, Shape N, float b, float eps,
                           int want, double *partial) {
  const size_t n = L.n0 * L.n1 * L.n2, row = prow(L.n2);
  double acc[1] = {0.0};
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x) {
    const size_t r = i / L.n2, x = i % L.n2, z = r / L.n1, y = r % L.n1;
    float *h = hx + r * row + x;
    if (z < N.n0 && y < N.n1 && x < N.n2) {
      const float o = obs[(z * N.n1 + y) * N.n2 + x];
      const float yv = o > 0.0f ? o : 0.0f, d = *h + b;
      *h = d > eps ? yv / d : 0.0f;
      if (want) acc[0] += idiv_term(yv, d > eps ? d : eps);
    } else {
      *h = 0.0f;
    }
  }
  if (want) block_sum<1>(acc, partial);
}

// lucy__box_range of core/src/device-impl.h (C, not includable here): the PSF indices [lo, hi)
// whose light reaches [0, n) from voxel i of the periodic axis l >= n + m - 1.
__device__ inline void box_range(size_t i, size_t n, size_t m, size_t o, size_t l, size_t *lo,
                                 size_t *hi) {
  const long long ii = (long long)i, on = (long long)o, nn = (long long)n, mm = (long long)m;
  for (int wrap = 0; wrap < 2; wrap++) {
    const long long base = wrap ? (long long)l : 0;
    long long a = on + base - ii, b = on + base + nn - ii;
    a = a < 0 ? 0 : a;
    b = b > mm ? mm : b;
    if (a < b) {
      *lo = (size_t)a;
      *hi = (size_t)b;
      return;
    }
  }
  *lo = *hi = 0;
}

// W at voxel (z, y, x) from the prefix sums, with the CPU device's order of operations.
__device__ inline float box_weight(const LucyCukBox &b, size_t z, size_t y, size_t x) {
  size_t zl, zh, yl, yh, xl, xh;
  box_range(z, b.N[0], b.M[0], b.origin[0], b.L[0], &zl, &zh);
  box_range(y, b.N[1], b.M[1], b.origin[1], b.L[1], &yl, &yh);
  box_range(x, b.N[2], b.M[2], b.origin[2], b.L[2], &xl, &xh);
  const size_t s2 = b.M[2] + 1, s1 = (b.M[1] + 1) * s2;
  const double *a11 = b.sat + zh * s1 + yh * s2, *a01 = b.sat + zl * s1 + yh * s2;
  const double *a10 = b.sat + zh * s1 + yl * s2, *a00 = b.sat + zl * s1 + yl * s2;
  const double t_hi = (a11[xh] - a01[xh]) - (a10[xh] - a00[xh]);
  const double t_lo = (a11[xl] - a01[xl]) - (a10[xl] - a00[xl]);
  return (float)(t_hi - t_lo);
}

__global__ void k_rl_update(float *xb, const float *corr, Shape L, const float *weight,
                            LucyCukBox box, float weight_value, float weight_min,
                            const float *tv, float *copy, float *step, double *partial) {
  const size_t n = L.n0 * L.n1 * L.n2, row = prow(L.n2);
  double s[4] = {0.0, 0.0, 0.0, 0.0};
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x) {
    const size_t r = i / L.n2, j = r * row + i % L.n2;
    const float wv = weight ? weight[j]
                     : box.sat ? box_weight(box, r / L.n1, r % L.n1, i % L.n2)
                               : weight_value;
    const float xo = xb[j];
    float xn = 0.0f;
    if (wv > weight_min) {
      float den = wv;
      if (tv) {
        const float f = 1.0f - tv[j];
        den = wv * (f < 0.25f ? 0.25f : f);
      }
      xn = xo * corr[j] / den;
      if (!(xn > 0.0f)) xn = 0.0f;
    }
    xb[j] = xn;
    if (copy) copy[j] = xn;
    const float dx = xn - xo;
    s[0] += fabsf(dx);
    s[1] += fabsf(xo);
    if (step) {
      s[2] += (double)dx * step[j];
      s[3] += (double)dx * dx;
      step[j] = dx;
    }
  }
  if (partial) block_sum<4>(s, partial);
}

__global__ void k_rl_extrapolate(float *xb, float *prev, float *copy, Shape L, float alpha,
                                 double *partial) {
  const size_t n = L.n0 * L.n1 * L.n2, row = prow(L.n2);
  double s[2] = {0.0, 0.0};
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x) {
    const size_t j = (i / L.n2) * row + i % L.n2;
    const float v = xb[j], pv = prev[j];
    float e = alpha != 0.0f ? v + alpha * (v - pv) : v;
    e = e > 0.0f ? e : 0.0f;
    xb[j] = e;
    prev[j] = v;
    if (copy) copy[j] = e;
    s[0] += fabsf(v - pv);
    s[1] += fabsf(pv);
  }
  if (partial) block_sum<2>(s, partial);
}

__device__ inline float tv_unit(float gz, float gy, float gx, float e2, int along) {
  const float g = along == 0 ? gz : along == 1 ? gy : gx;
  return g / sqrtf(gz * gz + gy * gy + gx * gx + e2);
}

// The low-memory OTF: work item w = g * nq + q computes H[kz, q] for the kZ frequencies
// kz = g * kZ + k at once (the plane values loaded once for all of them; consecutive threads
// read consecutive q), then applies op to a. op 3 leaves each block's max |H|^2 in partial.
constexpr int kZ = 8;
__global__ void k_zotf(int op, float2 *a, size_t L0, size_t nq, const float2 *planes, size_t mz,
                       size_t plane_c, size_t z0, const float2 *tw, float k_abs, float scale,
                       double *partial) {
  const size_t groups = (L0 + kZ - 1) / kZ, n = groups * nq;
  float best = 0.0f;
  for (size_t w = blockIdx.x * (size_t)blockDim.x + threadIdx.x; w < n;
       w += (size_t)gridDim.x * blockDim.x) {
    const size_t g = w / nq, q = w % nq, kz0 = g * kZ;
    const int kb = L0 - kz0 < (size_t)kZ ? (int)(L0 - kz0) : kZ;
    float hr[kZ], hi[kZ];
    for (int k = 0; k < kZ; k++) hr[k] = hi[k] = 0.0f;
    for (size_t p = 0; p < mz; p++) {
      const float2 v = planes[p * plane_c + q];
      const size_t d = (p + L0 - z0) % L0; // plane p sits at z = d
      size_t m = (kz0 * d) % L0;
      for (int k = 0; k < kZ; k++) {
        if (k < kb) {
          const float2 t = tw[m];
          hr[k] += t.x * v.x - t.y * v.y;
          hi[k] += t.x * v.y + t.y * v.x;
        }
        m += d;
        if (m >= L0) m -= L0;
      }
    }
    for (int k = 0; k < kb; k++) {
      const float br = hr[k], bi = hi[k];
      if (op == 3) {
        best = fmaxf(best, br * br + bi * bi);
        continue;
      }
      float2 *x = a + (kz0 + k) * nq + q;
      const float2 v = *x;
      if (op == 2) { // as k_wiener
        const float f = scale / (br * br + bi * bi + k_abs);
        *x = make_float2(f * (br * v.x + bi * v.y), f * (br * v.y - bi * v.x));
      } else { // as k_cmul with scale 1
        const float sb = op == 1 ? -bi : bi;
        *x = make_float2(v.x * br - v.y * sb, v.x * sb + v.y * br);
      }
    }
  }
  if (op == 3) block_max(best, partial); // op is the same for the whole grid
}

__global__ void k_tv_term(float *tv, const float *xb, Shape L, float iz, float iy, float ix,
                          float lambda, float e2) {
  const size_t n = L.n0 * L.n1 * L.n2, row = prow(L.n2), nx = L.n2;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n;
       i += (size_t)gridDim.x * blockDim.x) {
    const size_t r = i / nx, x = i % nx, z = r / L.n1, y = r % L.n1;
    const size_t zp = (z + 1) % L.n0, zm = (z + L.n0 - 1) % L.n0;
    const size_t yp = (y + 1) % L.n1, ym = (y + L.n1 - 1) % L.n1;
    const size_t xp = x + 1 < nx ? x + 1 : 0, xm = x > 0 ? x - 1 : nx - 1;
#define ROW(zz, yy) (xb + ((zz) * L.n1 + (yy)) * row)
    const float *c = ROW(z, y), *czp = ROW(zp, y), *cyp = ROW(z, yp);
    const float *czm = ROW(zm, y), *czm_yp = ROW(zm, yp);
    const float *cym = ROW(z, ym), *czp_ym = ROW(zp, ym);
#undef ROW
    const float v = c[x];
    const float gz = (czp[x] - v) * iz, gy = (cyp[x] - v) * iy, gx = (c[xp] - v) * ix;
    const float s = 1.0f / sqrtf(gz * gz + gy * gy + gx * gx + e2);
    const float bz = tv_unit((v - czm[x]) * iz, (czm_yp[x] - czm[x]) * iy,
                             (czm[xp] - czm[x]) * ix, e2, 0);
    const float by = tv_unit((czp_ym[x] - cym[x]) * iz, (v - cym[x]) * iy,
                             (cym[xp] - cym[x]) * ix, e2, 1);
    const float bx = tv_unit((czp[xm] - c[xm]) * iz, (cyp[xm] - c[xm]) * iy, (v - c[xm]) * ix,
                             e2, 2);
    tv[r * row + x] = lambda * ((gz * s - bz) * iz + (gy * s - by) * iy + (gx * s - bx) * ix);
  }
}

inline int launched() { return (int)cudaGetLastError(); }

}  // namespace

extern "C" {

int lucy_cuk_embed(float *dst, const size_t L[3], const float *src, const size_t M[3],
                   const ptrdiff_t s[3], size_t row0, size_t nrows, void *stream) {
  const size_t n = nrows * M[2];
  if (!n) return 0;
  k_embed<<<grid_for(n), kThreads, 0, st(stream)>>>(dst, shape_of(L), src, shape_of(M), s[0],
                                                    s[1], s[2], row0, nrows);
  return launched();
}

int lucy_cuk_extract(float *dst, const size_t N[3], const float *src, const size_t L[3],
                     const ptrdiff_t o[3], float scale, size_t row0, size_t nrows,
                     void *stream) {
  const size_t n = nrows * N[2];
  if (!n) return 0;
  k_extract<<<grid_for(n), kThreads, 0, st(stream)>>>(dst, shape_of(N), src, shape_of(L), o[0],
                                                      o[1], o[2], scale, row0, nrows);
  return launched();
}

int lucy_cuk_cmul(float *a, const float *b, size_t count, int conjugate, float scale,
                  void *stream) {
  if (!count) return 0;
  k_cmul<<<grid_for(count), kThreads, 0, st(stream)>>>((float2 *)a, (const float2 *)b, count,
                                                        conjugate ? -1.0f : 1.0f, scale);
  return launched();
}

int lucy_cuk_scale(float *a, size_t n, float scale, void *stream) {
  if (!n) return 0;
  k_scale<<<grid_for(n), kThreads, 0, st(stream)>>>(a, n, scale);
  return launched();
}

int lucy_cuk_fill(float *a, size_t n, float v, void *stream) {
  if (!n) return 0;
  k_fill<<<grid_for(n), kThreads, 0, st(stream)>>>(a, n, v);
  return launched();
}

int lucy_cuk_wiener(float *a, const float *h, size_t count, float k_abs, float scale,
                    void *stream) {
  if (!count) return 0;
  k_wiener<<<grid_for(count), kThreads, 0, st(stream)>>>((float2 *)a, (const float2 *)h, count,
                                                          k_abs, scale);
  return launched();
}

int lucy_cuk_reduce(const float *buf, size_t count, double *partial, void *stream) {
  k_reduce<<<LUCY_CUK_BLOCKS, kThreads, 0, st(stream)>>>(buf, count, partial);
  return launched();
}

int lucy_cuk_cmax_abs2(const float *a, size_t count, double *partial, void *stream) {
  k_cmax_abs2<<<LUCY_CUK_BLOCKS, kThreads, 0, st(stream)>>>((const float2 *)a, count, partial);
  return launched();
}

int lucy_cuk_embed_smooth(float *dst, const size_t L[3], const float *src, const size_t N[3],
                          float lo, void *stream) {
  k_embed_smooth<<<grid_for(L[0] * L[1] * L[2]), kThreads, 0, st(stream)>>>(
      dst, shape_of(L), src, shape_of(N), lo);
  return launched();
}

int lucy_cuk_rl_ratio(float *hx, const size_t L[3], const float *obs, const size_t N[3],
                      float background, float eps, int want_idiv, double *partial,
                      void *stream) {
  k_rl_ratio<<<LUCY_CUK_BLOCKS, kThreads, 0, st(stream)>>>(hx, shape_of(L), obs, shape_of(N),
                                                          background, eps, want_idiv, partial);
  return launched();
}

int lucy_cuk_rl_update(float *x, const float *corr, const size_t L[3], const float *weight,
                       const LucyCukBox *box, float weight_value, float weight_min,
                       const float *tv, float *copy, float *step, double *partial,
                       void *stream) {
  LucyCukBox b = {};
  if (box) b = *box;
  k_rl_update<<<LUCY_CUK_BLOCKS, kThreads, 0, st(stream)>>>(x, corr, shape_of(L), weight, b,
                                                           weight_value, weight_min, tv, copy,
                                                           step, partial);
  return launched();
}

int lucy_cuk_zotf(int op, float *a, const size_t L[3], const float *planes, size_t mz,
                  size_t plane_floats, size_t z0, const float *twiddle, float k_abs, float scale,
                  double *partial, void *stream) {
  const size_t nq = L[1] * (L[2] / 2 + 1), n = (L[0] + kZ - 1) / kZ * nq;
  if (!n || !mz) return 0;
  // The max reduction leaves one partial per block: a fixed grid, as the other reductions.
  const unsigned grid = op == 3 ? LUCY_CUK_BLOCKS : grid_for(n);
  k_zotf<<<grid, kThreads, 0, st(stream)>>>(op, (float2 *)a, L[0], nq, (const float2 *)planes,
                                            mz, plane_floats / 2, z0, (const float2 *)twiddle,
                                            k_abs, scale, partial);
  return launched();
}

int lucy_cuk_rl_extrapolate(float *x, float *prev, float *copy, const size_t L[3], float alpha,
                            double *partial, void *stream) {
  k_rl_extrapolate<<<LUCY_CUK_BLOCKS, kThreads, 0, st(stream)>>>(x, prev, copy, shape_of(L),
                                                                alpha, partial);
  return launched();
}

int lucy_cuk_tv_term(float *tv, const float *x, const size_t L[3], const float spacing[3],
                     float lambda, float eps, void *stream) {
  k_tv_term<<<grid_for(L[0] * L[1] * L[2]), kThreads, 0, st(stream)>>>(
      tv, x, shape_of(L), 1.0f / spacing[0], 1.0f / spacing[1], 1.0f / spacing[2], lambda,
      eps * eps);
  return launched();
}

}  // extern "C"
