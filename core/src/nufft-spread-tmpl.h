/* The NUFFT spreader written once for FLT = double and FLT = float (included by
 * nufft-spread.c with FLT and SFX defined; see there for the threading scheme). */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SFX)

/* ---- binning ------------------------------------------------------------------------------ */

LucyStatus FN(lucy__spread_setpts)(const LucySpreadGeom *g, LucySpreadPts *pts, size_t M,
                                   const FLT *const xyz[3]) {
  const int dim = g->dim, ns = g->ns, nthreads = g->nthreads;
  lucy__spread_pts_clear(pts);
  /* NaN/Inf: the first bad point, found in parallel. */
  size_t bad = (size_t)-1;
  LUCY_OMP(parallel for num_threads(nthreads) reduction(min : bad) schedule(static))
  for (size_t j = 0; j < M; j++)
    for (int a = 0; a < dim; a++)
      if (!isfinite(xyz[a][j]) && j < bad) bad = j;
  if (bad != (size_t)-1) {
    int a = 0;
    while (a < dim && isfinite(xyz[a][bad])) a++;
    return lucy__fail(LUCY_ERR_NUMERIC, "NUFFT point %zu has a non-finite %c coordinate (%g)",
                      bad, "xyz"[a], (double)xyz[a][bad]);
  }
  size_t nbins_total = 1, stride_slow = 1;
  for (int a = 0; a < 3; a++) {
    pts->binsize[a] = a >= dim ? 1 : (a == 0 ? 16 : 4);
    if (dim == 1) pts->binsize[0] = 16;
    pts->nbins[a] = (g->nf[a] + pts->binsize[a] - 1) / pts->binsize[a];
    nbins_total *= pts->nbins[a];
    if (a < dim - 1) stride_slow *= pts->nbins[a];
  }
  const size_t nb_slow = pts->nbins[dim - 1];
  int nt = nthreads;
  if ((size_t)nt > M) nt = M > 0 ? (int)M : 1;
  pts->M = M;
  pts->perm = malloc((M ? M : 1) * sizeof *pts->perm);
  pts->slow_start = malloc((nb_slow + 1) * sizeof *pts->slow_start);
  pts->work = malloc(2 * (M ? M : 1) * sizeof(FLT));
  uint32_t *key = malloc((M ? M : 1) * sizeof *key);
  size_t *cnt = calloc((size_t)nt * nbins_total, sizeof *cnt);
  int ok = pts->perm && pts->slow_start && pts->work && key && cnt;
  for (int a = 0; a < dim && ok; a++) {
    pts->i0[a] = malloc((M ? M : 1) * sizeof(int32_t));
    pts->z[a] = malloc((M ? M : 1) * sizeof(FLT));
    ok = pts->i0[a] && pts->z[a];
  }
  if (!ok || nbins_total > UINT32_MAX) {
    free(key);
    free(cnt);
    lucy__spread_pts_clear(pts);
    return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory sorting %zu NUFFT points", M);
  }
  /* keys and per-thread histograms over static chunks */
  LUCY_OMP(parallel num_threads(nt))
  {
    const int t = thread_num();
    const size_t lo = M * (size_t)t / (size_t)nt, hi = M * (size_t)(t + 1) / (size_t)nt;
    size_t *my = cnt + (size_t)t * nbins_total;
    for (size_t j = lo; j < hi; j++) {
      size_t b = 0, mul = 1;
      for (int a = 0; a < dim; a++) {
        const double u = fold_scale((double)xyz[a][j], (double)g->nf[a]);
        size_t ba = (size_t)(u / (double)pts->binsize[a]);
        if (ba >= pts->nbins[a]) ba = pts->nbins[a] - 1;
        b += ba * mul;
        mul *= pts->nbins[a];
      }
      key[j] = (uint32_t)b;
      my[b]++;
    }
  }
  /* exclusive offsets: bin-major, thread-minor */
  size_t run = 0;
  for (size_t b = 0; b < nbins_total; b++) {
    if (b % stride_slow == 0) pts->slow_start[b / stride_slow] = run;
    for (int t = 0; t < nt; t++) {
      const size_t c = cnt[(size_t)t * nbins_total + b];
      cnt[(size_t)t * nbins_total + b] = run;
      run += c;
    }
  }
  pts->slow_start[nb_slow] = run;
  /* scatter: sorted position, first grid index and Horner variable per axis */
  LUCY_OMP(parallel num_threads(nt))
  {
    const int t = thread_num();
    const size_t lo = M * (size_t)t / (size_t)nt, hi = M * (size_t)(t + 1) / (size_t)nt;
    size_t *my = cnt + (size_t)t * nbins_total;
    for (size_t j = lo; j < hi; j++) {
      const size_t pos = my[key[j]]++;
      pts->perm[pos] = j;
      for (int a = 0; a < dim; a++) {
        const double u = fold_scale((double)xyz[a][j], (double)g->nf[a]);
        const double i0 = ceil(u - 0.5 * ns);
        pts->i0[a][pos] = (int32_t)i0;
        ((FLT *)pts->z[a])[pos] = (FLT)(2.0 * (i0 - u + 0.5 * ns) - 1.0);
      }
    }
  }
  free(key);
  free(cnt);
  return LUCY_OK;
}

/* ---- kernel values -------------------------------------------------------------------------- */

static ALWAYS_INLINE void FN(kernel_vals)(const LucyEsKernel *k, FLT z, FLT *restrict ker,
                                          const int ns) {
  const FLT(*coef)[LUCY_NUFFT_MAX_NS] = (const FLT(*)[LUCY_NUFFT_MAX_NS])(
      sizeof(FLT) == sizeof(double) ? (const void *)k->coef_d : (const void *)k->coef_f);
  const int P = k->degree;
  for (int i = 0; i < ns; i++) ker[i] = coef[P][i];
  for (int d = P - 1; d >= 0; d--)
    for (int i = 0; i < ns; i++) ker[i] = ker[i] * z + coef[d][i];
}

/* ---- spreading ------------------------------------------------------------------------------ */

/* Bins of the slowest axis whose points can touch rows [r0, r1): up to three ranges. */
static int FN(slab_bin_ranges)(const LucySpreadGeom *g, const LucySpreadPts *pts, size_t r0,
                               size_t r1, size_t ranges[3][2]) {
  const int dim = g->dim;
  const size_t nf = g->nf[dim - 1], B = pts->binsize[dim - 1], nb = pts->nbins[dim - 1];
  const double half = 0.5 * g->ns;
  if ((double)(r1 - r0) + g->ns + 2.0 * (double)B + 2.0 >= (double)nf) {
    ranges[0][0] = 0;
    ranges[0][1] = nb - 1;
    return 1;
  }
  /* a point touches the slab when u is in (r0 - w/2, r1 - 1 + w/2] (mod nf) */
  const double lo = (double)r0 - half, hi = (double)r1 - 1.0 + half;
  int n = 0;
  for (int s = -1; s <= 1; s++) {
    double a = lo + s * (double)nf, b = hi + s * (double)nf;
    if (b < 0.0 || a >= (double)nf) continue;
    if (a < 0.0) a = 0.0;
    if (b >= (double)nf) b = (double)nf - 0.5;
    size_t ba = (size_t)(a / (double)B), bb = (size_t)(b / (double)B);
    if (bb >= nb) bb = nb - 1;
    ranges[n][0] = ba;
    ranges[n][1] = bb;
    n++;
  }
  return n;
}

/* The x kernel with every value twice (re, im lanes), so row updates are plain vector FMAs. */
static ALWAYS_INLINE void FN(interleave)(const FLT *restrict ker, FLT *restrict k2,
                                         const int ns) {
  for (int i = 0; i < ns; i++) k2[2 * i] = k2[2 * i + 1] = ker[i];
}

/* Adds v * ker[0..ns) to the complex row segment starting at fine index i0 (wrapping); k2 is
 * ker interleaved. */
static ALWAYS_INLINE void FN(add_row)(FLT *restrict row, size_t nf, int32_t i0, FLT vr, FLT vi,
                                      const FLT *restrict ker, const FLT *restrict k2,
                                      const int ns) {
  if (i0 >= 0 && (size_t)i0 + (size_t)ns <= nf) {
    FLT *restrict p = row + 2 * (size_t)i0;
    for (int m = 0; m < 2 * ns; m += 2) {
      p[m] += vr * k2[m];
      p[m + 1] += vi * k2[m + 1];
    }
  } else {
    size_t x = i0 < 0 ? (size_t)(i0 + (int32_t)nf) : (size_t)i0;
    for (int i = 0; i < ns; i++) {
      if (x >= nf) x -= nf;
      row[2 * x] += vr * ker[i];
      row[2 * x + 1] += vi * ker[i];
      x++;
    }
  }
}

static ALWAYS_INLINE void FN(spread_slab)(const LucySpreadGeom *g, const LucySpreadPts *pts,
                                          const FLT *restrict c, FLT *restrict grid, size_t r0,
                                          size_t r1, const int ns) {
  const int dim = g->dim;
  const size_t nfs = g->nf[dim - 1];
  const size_t n1 = g->nf[0], n2 = g->nf[1];
  const LucyEsKernel *k = g->kernel;
  size_t ranges[3][2];
  const int nr = FN(slab_bin_ranges)(g, pts, r0, r1, ranges);
  FLT kx[LUCY_NUFFT_MAX_NS], ky[LUCY_NUFFT_MAX_NS], kz[LUCY_NUFFT_MAX_NS];
  FLT k2[2 * LUCY_NUFFT_MAX_NS];
  const int32_t *i0s = pts->i0[dim - 1];
  for (int r = 0; r < nr; r++) {
    const size_t jb = pts->slow_start[ranges[r][0]], je = pts->slow_start[ranges[r][1] + 1];
    for (size_t j = jb; j < je; j++) {
      /* rows of this point inside the slab */
      const int32_t is = i0s[j];
      size_t row0 = is < 0 ? (size_t)(is + (int32_t)nfs) : (size_t)is;
      int dlo = -1, dhi = -1;
      {
        size_t row = row0;
        for (int d = 0; d < ns; d++) {
          if (row >= nfs) row -= nfs;
          if (row >= r0 && row < r1) {
            if (dlo < 0) dlo = d;
            dhi = d;
          }
          row++;
        }
      }
      if (dlo < 0) continue;
      const FLT cr = c[2 * j], ci = c[2 * j + 1]; /* already in sorted order */
      if (dim == 1) {
        FN(kernel_vals)(k, ((const FLT *)pts->z[0])[j], kx, ns);
        /* only the slab's part of the row */
        size_t x = row0;
        for (int d = 0; d < ns; d++, x++) {
          if (x >= nfs) x -= nfs;
          if (x < r0 || x >= r1) continue;
          grid[2 * x] += cr * kx[d];
          grid[2 * x + 1] += ci * kx[d];
        }
      } else if (dim == 2) {
        FN(kernel_vals)(k, ((const FLT *)pts->z[0])[j], kx, ns);
        FN(kernel_vals)(k, ((const FLT *)pts->z[1])[j], ky, ns);
        FN(interleave)(kx, k2, ns);
        const int32_t ix = pts->i0[0][j];
        size_t y = row0 + (size_t)dlo;
        for (int d = dlo; d <= dhi; d++, y++) {
          if (y >= nfs) y -= nfs;
          if (y < r0 || y >= r1) continue;
          FN(add_row)(grid + 2 * y * n1, n1, ix, cr * ky[d], ci * ky[d], kx, k2, ns);
        }
      } else {
        FN(kernel_vals)(k, ((const FLT *)pts->z[0])[j], kx, ns);
        FN(kernel_vals)(k, ((const FLT *)pts->z[1])[j], ky, ns);
        FN(kernel_vals)(k, ((const FLT *)pts->z[2])[j], kz, ns);
        FN(interleave)(kx, k2, ns);
        const int32_t ix = pts->i0[0][j], iy = pts->i0[1][j];
        const size_t y0 = iy < 0 ? (size_t)(iy + (int32_t)n2) : (size_t)iy;
        size_t zz = row0 + (size_t)dlo;
        for (int d = dlo; d <= dhi; d++, zz++) {
          if (zz >= nfs) zz -= nfs;
          if (zz < r0 || zz >= r1) continue;
          const FLT wr = cr * kz[d], wi = ci * kz[d];
          FLT *plane = grid + 2 * zz * n1 * n2;
          size_t y = y0;
          for (int e = 0; e < ns; e++, y++) {
            if (y >= n2) y -= n2;
            FN(add_row)(plane + 2 * y * n1, n1, ix, wr * ky[e], wi * ky[e], kx, k2, ns);
          }
        }
      }
    }
  }
}

HOT_CLONES static void FN(spread_slab_any)(const LucySpreadGeom *g, const LucySpreadPts *pts,
                                const FLT *c, FLT *grid, size_t r0, size_t r1) {
#define CALL(N) FN(spread_slab)(g, pts, c, grid, r0, r1, N)
  NS_SWITCH(g->ns, CALL)
#undef CALL
}

void FN(lucy__spread)(const LucySpreadGeom *g, const LucySpreadPts *pts, const FLT *c,
                      FLT *grid) {
  const int dim = g->dim;
  const size_t nfs = g->nf[dim - 1];
  const size_t plane = g->nf[0] * (dim >= 2 ? g->nf[1] : 1) * (dim == 3 ? 1 : 1);
  const size_t row_elems = dim == 1 ? 1 : (dim == 2 ? g->nf[0] : g->nf[0] * g->nf[1]);
  (void)plane;
  const size_t h = g->slab_rows;
  const long nslabs = (long)((nfs + h - 1) / h);
  /* gather the strengths into sorted order first: one streaming pass with many independent
     cache misses in flight, instead of a miss per point inside the spreading loop */
  FLT *cs = pts->work;
  const long M = (long)pts->M;
  LUCY_OMP(parallel for num_threads(g->nthreads) schedule(static))
  for (long j = 0; j < M; j++) {
    const size_t pj = pts->perm[j];
    cs[2 * j] = c[2 * pj];
    cs[2 * j + 1] = c[2 * pj + 1];
  }
  c = cs;
  LUCY_OMP(parallel for num_threads(g->nthreads) schedule(dynamic, 1))
  for (long s = 0; s < nslabs; s++) {
    const size_t r0 = (size_t)s * h, r1 = r0 + h < nfs ? r0 + h : nfs;
    memset(grid + 2 * r0 * row_elems, 0, 2 * (r1 - r0) * row_elems * sizeof(FLT));
    if (pts->M) FN(spread_slab_any)(g, pts, c, grid, r0, r1);
  }
}

/* ---- interpolation -------------------------------------------------------------------------- */

static ALWAYS_INLINE void FN(row_dot)(const FLT *restrict row, size_t nf, int32_t i0,
                                      const FLT *restrict ker, const FLT *restrict k2, FLT *sr,
                                      FLT *si, const int ns) {
  FLT ar = 0, ai = 0;
  if (i0 >= 0 && (size_t)i0 + (size_t)ns <= nf) {
    const FLT *restrict p = row + 2 * (size_t)i0;
    for (int m = 0; m < 2 * ns; m += 2) {
      ar += p[m] * k2[m];
      ai += p[m + 1] * k2[m + 1];
    }
  } else {
    size_t x = i0 < 0 ? (size_t)(i0 + (int32_t)nf) : (size_t)i0;
    for (int i = 0; i < ns; i++) {
      if (x >= nf) x -= nf;
      ar += row[2 * x] * ker[i];
      ai += row[2 * x + 1] * ker[i];
      x++;
    }
  }
  *sr = ar;
  *si = ai;
}

static ALWAYS_INLINE void FN(interp_range)(const LucySpreadGeom *g, const LucySpreadPts *pts,
                                           const FLT *restrict grid, FLT *restrict c, size_t jb,
                                           size_t je, const int ns) {
  const int dim = g->dim;
  const size_t n1 = g->nf[0], n2 = g->nf[1], n3 = g->nf[2];
  const LucyEsKernel *k = g->kernel;
  FLT kx[LUCY_NUFFT_MAX_NS], ky[LUCY_NUFFT_MAX_NS], kz[LUCY_NUFFT_MAX_NS];
  FLT k2[2 * LUCY_NUFFT_MAX_NS];
  for (size_t j = jb; j < je; j++) {
    FLT sr = 0, si = 0;
    FN(kernel_vals)(k, ((const FLT *)pts->z[0])[j], kx, ns);
    FN(interleave)(kx, k2, ns);
    const int32_t ix = pts->i0[0][j];
    if (dim == 1) {
      FN(row_dot)(grid, n1, ix, kx, k2, &sr, &si, ns);
    } else {
      FN(kernel_vals)(k, ((const FLT *)pts->z[1])[j], ky, ns);
      const int32_t iy = pts->i0[1][j];
      const size_t y0 = iy < 0 ? (size_t)(iy + (int32_t)n2) : (size_t)iy;
      if (dim == 2) {
        size_t y = y0;
        for (int e = 0; e < ns; e++, y++) {
          if (y >= n2) y -= n2;
          FLT rr, ri;
          FN(row_dot)(grid + 2 * y * n1, n1, ix, kx, k2, &rr, &ri, ns);
          sr += ky[e] * rr;
          si += ky[e] * ri;
        }
      } else {
        FN(kernel_vals)(k, ((const FLT *)pts->z[2])[j], kz, ns);
        const int32_t iz = pts->i0[2][j];
        size_t zz = iz < 0 ? (size_t)(iz + (int32_t)n3) : (size_t)iz;
        for (int d = 0; d < ns; d++, zz++) {
          if (zz >= n3) zz -= n3;
          const FLT *plane = grid + 2 * zz * n1 * n2;
          FLT pr = 0, pi = 0;
          size_t y = y0;
          for (int e = 0; e < ns; e++, y++) {
            if (y >= n2) y -= n2;
            FLT rr, ri;
            FN(row_dot)(plane + 2 * y * n1, n1, ix, kx, k2, &rr, &ri, ns);
            pr += ky[e] * rr;
            pi += ky[e] * ri;
          }
          sr += kz[d] * pr;
          si += kz[d] * pi;
        }
      }
    }
    c[2 * j] = sr; /* sorted order; lucy__interp scatters */
    c[2 * j + 1] = si;
  }
}

HOT_CLONES static void FN(interp_any)(const LucySpreadGeom *g, const LucySpreadPts *pts, const FLT *grid,
                           FLT *c, size_t jb, size_t je) {
#define CALL(N) FN(interp_range)(g, pts, grid, c, jb, je, N)
  NS_SWITCH(g->ns, CALL)
#undef CALL
}

void FN(lucy__interp)(const LucySpreadGeom *g, const LucySpreadPts *pts, const FLT *grid,
                      FLT *c) {
  const size_t M = pts->M, chunk = 4096;
  FLT *cs = pts->work;
  const long nchunks = (long)((M + chunk - 1) / chunk);
  LUCY_OMP(parallel for num_threads(g->nthreads) schedule(dynamic, 1))
  for (long q = 0; q < nchunks; q++) {
    const size_t jb = (size_t)q * chunk, je = jb + chunk < M ? jb + chunk : M;
    FN(interp_any)(g, pts, grid, cs, jb, je);
  }
  LUCY_OMP(parallel for num_threads(g->nthreads) schedule(static))
  for (long j = 0; j < (long)M; j++) {
    const size_t pj = pts->perm[j];
    c[2 * pj] = cs[2 * j];
    c[2 * pj + 1] = cs[2 * j + 1];
  }
}

/* ---- deconvolution -------------------------------------------------------------------------- */

static inline long FN(signed_mode)(size_t i, size_t N, int modeord) {
  if (modeord == 0) return (long)i - (long)(N / 2);
  return i < N - N / 2 ? (long)i : (long)i - (long)N;
}

void FN(lucy__deconv_to_modes)(const LucySpreadGeom *g, const size_t modes[3], int modeord,
                               const double *const fac[3], const FLT *fine, FLT *f) {
  const size_t N1 = modes[0], N2 = modes[1], N3 = modes[2];
  const size_t n1 = g->nf[0], n2 = g->nf[1], n3 = g->nf[2];
  const long rows = (long)(N2 * N3);
  LUCY_OMP(parallel for num_threads(g->nthreads) schedule(static) if (N1 * N2 * N3 > 4096))
  for (long r = 0; r < rows; r++) {
    const size_t i2 = (size_t)r % N2, i3 = (size_t)r / N2;
    const long k2 = FN(signed_mode)(i2, N2, modeord), k3 = FN(signed_mode)(i3, N3, modeord);
    const size_t f2 = k2 >= 0 ? (size_t)k2 : (size_t)(k2 + (long)n2);
    const size_t f3 = k3 >= 0 ? (size_t)k3 : (size_t)(k3 + (long)n3);
    const double w23 = fac[1][k2 + (long)(N2 / 2)] * fac[2][k3 + (long)(N3 / 2)];
    const FLT *src = fine + 2 * (f3 * n2 + f2) * n1;
    FLT *dst = f + 2 * (size_t)r * N1;
    for (size_t i1 = 0; i1 < N1; i1++) {
      const long k1 = FN(signed_mode)(i1, N1, modeord);
      const size_t f1 = k1 >= 0 ? (size_t)k1 : (size_t)(k1 + (long)n1);
      const double w = w23 * fac[0][k1 + (long)(N1 / 2)];
      dst[2 * i1] = (FLT)(w * src[2 * f1]);
      dst[2 * i1 + 1] = (FLT)(w * src[2 * f1 + 1]);
    }
  }
}

void FN(lucy__deconv_to_fine)(const LucySpreadGeom *g, const size_t modes[3], int modeord,
                              const double *const fac[3], const FLT *f, FLT *fine) {
  const size_t N1 = modes[0], N2 = modes[1], N3 = modes[2];
  const size_t n1 = g->nf[0], n2 = g->nf[1], n3 = g->nf[2];
  const long planes = (long)n3;
  LUCY_OMP(parallel for num_threads(g->nthreads) schedule(static) if (n1 * n2 * n3 > 16384))
  for (long p = 0; p < planes; p++)
    memset(fine + 2 * (size_t)p * n1 * n2, 0, 2 * n1 * n2 * sizeof(FLT));
  const long rows = (long)(N2 * N3);
  LUCY_OMP(parallel for num_threads(g->nthreads) schedule(static) if (N1 * N2 * N3 > 4096))
  for (long r = 0; r < rows; r++) {
    const size_t i2 = (size_t)r % N2, i3 = (size_t)r / N2;
    const long k2 = FN(signed_mode)(i2, N2, modeord), k3 = FN(signed_mode)(i3, N3, modeord);
    const size_t f2 = k2 >= 0 ? (size_t)k2 : (size_t)(k2 + (long)n2);
    const size_t f3 = k3 >= 0 ? (size_t)k3 : (size_t)(k3 + (long)n3);
    const double w23 = fac[1][k2 + (long)(N2 / 2)] * fac[2][k3 + (long)(N3 / 2)];
    FLT *dst = fine + 2 * (f3 * n2 + f2) * n1;
    const FLT *src = f + 2 * (size_t)r * N1;
    for (size_t i1 = 0; i1 < N1; i1++) {
      const long k1 = FN(signed_mode)(i1, N1, modeord);
      const size_t f1 = k1 >= 0 ? (size_t)k1 : (size_t)(k1 + (long)n1);
      const double w = w23 * fac[0][k1 + (long)(N1 / 2)];
      dst[2 * f1] = (FLT)(w * src[2 * i1]);
      dst[2 * f1 + 1] = (FLT)(w * src[2 * i1 + 1]);
    }
  }
}

#undef FN
#undef CAT
#undef CAT_
