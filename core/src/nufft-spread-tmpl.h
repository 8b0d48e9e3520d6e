/* The NUFFT spreader written once for FLT = double and FLT = float (included by
 * nufft-spread.c with FLT and SFX defined; see there for the threading scheme). */
#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)
#define FN(name) CAT(name, SFX)

/* ---- binning ------------------------------------------------------------------------------ */

/* Grows the point arrays to hold M points (kept between setpts calls). */
static int FN(pts_reserve)(LucySpreadPts *pts, int dim, size_t M, size_t nb_slow) {
  if (pts->slow_cap < nb_slow + 1) {
    free(pts->slow_start);
    pts->slow_start = malloc((nb_slow + 1) * sizeof *pts->slow_start);
    pts->slow_cap = pts->slow_start ? nb_slow + 1 : 0;
    if (!pts->slow_start) return 0;
  }
  if (pts->cap >= M && pts->perm && (dim < 1 || pts->i0[dim - 1])) return 1;
  const size_t n = M ? M : 1;
  free(pts->perm);
  free(pts->work);
  free(pts->key);
  pts->perm = malloc(n * sizeof *pts->perm);
  pts->work = malloc(2 * n * sizeof(FLT));
  pts->key = malloc(n * sizeof *pts->key);
  int ok = pts->perm && pts->work && pts->key;
  for (int a = 0; a < 3; a++) {
    free(pts->i0[a]);
    free(pts->z[a]);
    pts->i0[a] = NULL;
    pts->z[a] = NULL;
    if (a < dim && ok) {
      pts->i0[a] = malloc(n * sizeof(int32_t));
      pts->z[a] = malloc(n * sizeof(FLT));
      ok = pts->i0[a] && pts->z[a];
    }
  }
  pts->cap = ok ? n : 0;
  return ok;
}

/* Bin keys of points [lo, hi) and their histogram; returns 0 when a coordinate is not finite. */
HOT_CLONES static int FN(bin_keys)(const LucySpreadGeom *g, const LucySpreadPts *pts,
                                   const FLT *const xyz[3], size_t lo, size_t hi,
                                   uint32_t *restrict key, uint32_t *restrict hist) {
  const int dim = g->dim;
  const double half = 0.5 * g->ns;
  int finite = 1;
  for (size_t j = lo; j < hi; j++) {
    uint32_t b = 0, mul = 1;
    for (int a = 0; a < dim; a++) {
      const double v = (double)xyz[a][j];
      finite &= isfinite(v) ? 1 : 0;
      const double nf = (double)g->nf[a];
      const double u = fold_scale(isfinite(v) ? v : 0.0, nf);
      int32_t i0 = (int32_t)ceil(u - half);
      if (i0 < 0) i0 += (int32_t)g->nf[a];
      uint32_t ba = (uint32_t)i0 >> pts->binshift[a];
      b += ba * mul;
      mul *= (uint32_t)pts->nbins[a];
    }
    key[j] = b;
    hist[b]++;
  }
  return finite;
}

/* Sorted-order arrays for sorted positions [lo, hi): the second fold, gathering the user's
 * coordinates through perm (reads that can all be in flight at once). */
HOT_CLONES static void FN(fill_sorted)(const LucySpreadGeom *g, LucySpreadPts *pts,
                                       const FLT *const xyz[3], size_t lo, size_t hi) {
  const int dim = g->dim;
  const double half = 0.5 * g->ns;
  const size_t *restrict perm = pts->perm;
  const size_t ahead = 24; /* prefetch distance (points) for the random reads */
  for (size_t pos = lo; pos < hi; pos++) {
    if (pos + ahead < hi)
      for (int a = 0; a < dim; a++) __builtin_prefetch(xyz[a] + perm[pos + ahead]);
    const size_t j = perm[pos];
    for (int a = 0; a < dim; a++) {
      const double u = fold_scale((double)xyz[a][j], (double)g->nf[a]);
      const double i0 = ceil(u - half);
      pts->i0[a][pos] = (int32_t)i0;
      ((FLT *)pts->z[a])[pos] = (FLT)(2.0 * (i0 - u + half) - 1.0);
    }
  }
}

LucyStatus FN(lucy__spread_setpts)(const LucySpreadGeom *g, LucySpreadPts *pts, size_t M,
                                   const FLT *const xyz[3]) {
  const int dim = g->dim, nthreads = g->nthreads;
  pts->M = 0;
  size_t nbins_total = 1, stride_slow = 1;
  for (int a = 0; a < 3; a++) {
    pts->binsize[a] = a >= dim ? 1 : (a == dim - 1 ? lucy__spread_slow_binsize(dim) : (a == 0 ? 16 : 4));
    pts->binshift[a] = 0;
    while (((size_t)1 << pts->binshift[a]) < pts->binsize[a]) pts->binshift[a]++;
    pts->nbins[a] = (g->nf[a] + pts->binsize[a] - 1) / pts->binsize[a];
    nbins_total *= pts->nbins[a];
    if (a < dim - 1) stride_slow *= pts->nbins[a];
  }
  const size_t nb_slow = pts->nbins[dim - 1];
  int nt = nthreads;
  if ((size_t)nt > M / 4096 + 1) nt = (int)(M / 4096 + 1);
  uint32_t *cnt = NULL;
  int ok = nbins_total < UINT32_MAX && M < UINT32_MAX && FN(pts_reserve)(pts, dim, M, nb_slow);
  if (ok) ok = (cnt = calloc((size_t)nt * nbins_total, sizeof *cnt)) != NULL;
  if (!ok) {
    free(cnt);
    lucy__spread_pts_clear(pts);
    return lucy__fail(LUCY_ERR_OUT_OF_MEMORY, "out of memory sorting %zu NUFFT points", M);
  }
  uint32_t *key = pts->key;
  /* keys and per-thread histograms over static chunks (the first fold) */
  int finite = 1;
  LUCY_OMP(parallel num_threads(nt) reduction(& : finite))
  {
    const int t = thread_num();
    const size_t lo = M * (size_t)t / (size_t)nt, hi = M * (size_t)(t + 1) / (size_t)nt;
    finite = FN(bin_keys)(g, pts, xyz, lo, hi, key, cnt + (size_t)t * nbins_total);
  }
  if (!finite) {
    free(cnt);
    for (size_t j = 0; j < M; j++)
      for (int a = 0; a < dim; a++)
        if (!isfinite(xyz[a][j]))
          return lucy__fail(LUCY_ERR_NUMERIC,
                            "NUFFT point %zu has a non-finite %c coordinate (%g)", j, "xyz"[a],
                            (double)xyz[a][j]);
  }
  /* exclusive offsets: bin-major, thread-minor, so a bin's points keep their user order */
  size_t run = 0;
  for (size_t b = 0; b < nbins_total; b++) {
    if (b % stride_slow == 0) pts->slow_start[b / stride_slow] = run;
    for (int t = 0; t < nt; t++) {
      const uint32_t c = cnt[(size_t)t * nbins_total + b];
      cnt[(size_t)t * nbins_total + b] = (uint32_t)run;
      run += c;
    }
  }
  pts->slow_start[nb_slow] = run;
  LUCY_OMP(parallel num_threads(nt))
  {
    const int t = thread_num();
    const size_t lo = M * (size_t)t / (size_t)nt, hi = M * (size_t)(t + 1) / (size_t)nt;
    uint32_t *restrict my = cnt + (size_t)t * nbins_total;
    size_t *restrict perm = pts->perm;
    for (size_t j = lo; j < hi; j++) perm[my[key[j]]++] = j;
  }
  free(cnt);
  const long nchunks = (long)((M + 16383) / 16384);
  LUCY_OMP(parallel for num_threads(nt) schedule(static))
  for (long q = 0; q < nchunks; q++) {
    const size_t lo = (size_t)q * 16384, hi = lo + 16384 < M ? lo + 16384 : M;
    FN(fill_sorted)(g, pts, xyz, lo, hi);
  }
  pts->M = M;
  return LUCY_OK;
}

typedef FLT FN(vec) __attribute__((vector_size(32)));

/* ---- kernel values -------------------------------------------------------------------------- */

/* Kernel values padded to whole 32-byte vectors (the Horner coefficients past ns are zero, so the
 * padding values are exactly 0): whole vectors in the Horner loop and in the row updates. */
#define KPAD(ns) (sizeof(FLT) == sizeof(double) ? (((ns) + 3) & ~3) : (((ns) + 7) & ~7))

static ALWAYS_INLINE void FN(kernel_vals)(const LucyEsKernel *k, FLT z, FLT *restrict ker,
                                          const int ns) {
  const FLT(*coef)[LUCY_NUFFT_MAX_NS] = (const FLT(*)[LUCY_NUFFT_MAX_NS])(
      sizeof(FLT) == sizeof(double) ? (const void *)k->coef_d : (const void *)k->coef_f);
  const int P = k->degree, VL = (int)(32 / sizeof(FLT)), NV = KPAD(ns) / VL;
  FN(vec) acc[LUCY_NUFFT_MAX_NS * sizeof(FLT) / 32];
  for (int q = 0; q < NV; q++) __builtin_memcpy(&acc[q], &coef[P][q * VL], sizeof acc[q]);
  for (int d = P - 1; d >= 0; d--)
    for (int q = 0; q < NV; q++) {
      FN(vec) cd;
      __builtin_memcpy(&cd, &coef[d][q * VL], sizeof cd);
      acc[q] = acc[q] * z + cd;
    }
  for (int q = 0; q < NV; q++) __builtin_memcpy(ker + q * VL, &acc[q], sizeof acc[q]);
}

/* ---- spreading ------------------------------------------------------------------------------ */

/* The x kernel with every value twice (re, im lanes), so row updates are plain vector FMAs. */
static ALWAYS_INLINE void FN(interleave)(const FLT *restrict ker, FLT *restrict k2,
                                         const int ns) {
  for (int i = 0; i < KPAD(ns); i++) k2[2 * i] = k2[2 * i + 1] = ker[i];
}

/* Adds v * ker[0..ns) to the complex row segment starting at fine index i0 (wrapping); k2 is
 * ker interleaved and padded (the padding adds exact zeros to values of the same row). */
static ALWAYS_INLINE void FN(add_row)(FLT *restrict row, size_t nf, int32_t i0, FLT vr, FLT vi,
                                      const FLT *restrict ker, const FLT *restrict k2,
                                      const int ns) {
  if (i0 >= 0 && (size_t)i0 + (size_t)KPAD(ns) <= nf) {
    /* explicit 32-byte vectors (two SSE halves in the portable clone): the compiler does not
       vectorise the interleaved re/im update by itself */
    const int VL = (int)(32 / sizeof(FLT)), NV = 2 * KPAD(ns) / VL;
    FN(vec) v;
    for (int l = 0; l < VL; l += 2) {
      v[l] = vr;
      v[l + 1] = vi;
    }
    FLT *restrict p = row + 2 * (size_t)i0;
    for (int q = 0; q < NV; q++) {
      FN(vec) a, kk;
      __builtin_memcpy(&a, p + q * VL, sizeof a);
      __builtin_memcpy(&kk, k2 + q * VL, sizeof kk);
      a += v * kk;
      __builtin_memcpy(p + q * VL, &a, sizeof a);
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

/* Spreads the points of sorted positions [jb, je) (all with their first slow row in one slab). */
static ALWAYS_INLINE void FN(spread_pts)(const LucySpreadGeom *g, const LucySpreadPts *pts,
                                         const FLT *restrict c, FLT *restrict grid, size_t jb,
                                         size_t je, const int ns) {
  const int dim = g->dim;
  const size_t n1 = g->nf[0], n2 = g->nf[1], n3 = g->nf[2];
  const LucyEsKernel *k = g->kernel;
  FLT kx[LUCY_NUFFT_MAX_NS], ky[LUCY_NUFFT_MAX_NS], kz[LUCY_NUFFT_MAX_NS];
  FLT k2[2 * LUCY_NUFFT_MAX_NS];
  for (size_t j = jb; j < je; j++) {
    const FLT cr = c[2 * j], ci = c[2 * j + 1]; /* already in sorted order */
    FN(kernel_vals)(k, ((const FLT *)pts->z[0])[j], kx, ns);
    const int32_t ix = pts->i0[0][j];
    if (dim == 1) {
      size_t x = ix < 0 ? (size_t)(ix + (int32_t)n1) : (size_t)ix;
      for (int d = 0; d < ns; d++, x++) {
        if (x >= n1) x -= n1;
        grid[2 * x] += cr * kx[d];
        grid[2 * x + 1] += ci * kx[d];
      }
      continue;
    }
    FN(kernel_vals)(k, ((const FLT *)pts->z[1])[j], ky, ns);
    FN(interleave)(kx, k2, ns);
    const int32_t iy = pts->i0[1][j];
    const size_t y0 = iy < 0 ? (size_t)(iy + (int32_t)n2) : (size_t)iy;
    if (dim == 2) {
      size_t y = y0;
      for (int e = 0; e < ns; e++, y++) {
        if (y >= n2) y -= n2;
        FN(add_row)(grid + 2 * y * n1, n1, ix, cr * ky[e], ci * ky[e], kx, k2, ns);
      }
    } else {
      FN(kernel_vals)(k, ((const FLT *)pts->z[2])[j], kz, ns);
      const int32_t iz = pts->i0[2][j];
      size_t zz = iz < 0 ? (size_t)(iz + (int32_t)n3) : (size_t)iz;
      for (int d = 0; d < ns; d++, zz++) {
        if (zz >= n3) zz -= n3;
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

HOT_CLONES static void FN(spread_pts_any)(const LucySpreadGeom *g, const LucySpreadPts *pts,
                                          const FLT *c, FLT *grid, size_t jb, size_t je) {
#define CALL(N) FN(spread_pts)(g, pts, c, grid, jb, je, N)
  NS_SWITCH(g->ns, CALL)
#undef CALL
}

void FN(lucy__spread)(const LucySpreadGeom *g, const LucySpreadPts *pts, const FLT *c,
                      FLT *grid) {
  const int dim = g->dim;
  const size_t nfs = g->nf[dim - 1];
  const size_t row_elems = dim == 1 ? 1 : (dim == 2 ? g->nf[0] : g->nf[0] * g->nf[1]);
  const size_t h = g->slab_rows, B = pts->binsize[dim - 1], nb = pts->nbins[dim - 1];
  /* slabs of h rows (the last one takes the remainder, so every slab has at least ns - 1) */
  const long nslabs = (long)(nfs / h > 0 ? nfs / h : 1);
  /* gather the strengths into sorted order first: one streaming pass with many independent
     cache misses in flight, instead of a miss per point inside the spreading loop */
  FLT *cs = pts->work;
  const long M = (long)pts->M;
  const long nplanes = (long)nfs;
  LUCY_OMP(parallel num_threads(g->nthreads))
  {
    LUCY_OMP(for schedule(static) nowait)
    for (long j = 0; j < M; j++) {
      const size_t pj = pts->perm[j];
      cs[2 * j] = c[2 * pj];
      cs[2 * j + 1] = c[2 * pj + 1];
    }
    LUCY_OMP(for schedule(static))
    for (long r = 0; r < nplanes; r++)
      memset(grid + 2 * (size_t)r * row_elems, 0, 2 * row_elems * sizeof(FLT));
    /* colours: even slabs, odd slabs, and an odd last slab on its own (it wraps onto slab 0).
       A slab writes its rows and the ns - 1 after them, which lie in the next slab only. */
    for (int colour = 0; colour < 3; colour++) {
      LUCY_OMP(for schedule(dynamic, 1))
      for (long s = 0; s < nslabs; s++) {
        const int cs_ = (nslabs > 1 && (nslabs & 1) && s == nslabs - 1) ? 2 : (int)(s & 1);
        if (cs_ != colour) continue;
        const size_t b0 = (size_t)s * h / B;
        const size_t b1 = s == nslabs - 1 ? nb : (size_t)(s + 1) * h / B;
        const size_t jb = pts->slow_start[b0], je = pts->slow_start[b1];
        if (je > jb) FN(spread_pts_any)(g, pts, cs, grid, jb, je);
      }
    }
  }
}

/* ---- interpolation -------------------------------------------------------------------------- */

static ALWAYS_INLINE void FN(row_dot)(const FLT *restrict row, size_t nf, int32_t i0,
                                      const FLT *restrict ker, const FLT *restrict k2, FLT *sr,
                                      FLT *si, const int ns) {
  FLT ar = 0, ai = 0;
  if (i0 >= 0 && (size_t)i0 + (size_t)KPAD(ns) <= nf) {
    const FLT *restrict p = row + 2 * (size_t)i0;
    for (int m = 0; m < 2 * KPAD(ns); m += 2) {
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

/* ---- buffered column FFTs ------------------------------------------------------------------ */

void FN(lucy__column_fft)(const LucyColStage *s, int nthreads, FLT *fine, void *const *scratch,
                          LucyStatus *status) {
  const long items = (long)(s->npanels * s->nchunks);
  const size_t n = s->n, st = s->stride;
  LucyStatus err = LUCY_OK;
  LUCY_OMP(parallel num_threads(nthreads))
  {
    FLT *restrict buf = scratch[thread_num()];
    LUCY_OMP(for schedule(dynamic, 4))
    for (long it = 0; it < items; it++) {
      const size_t pn = (size_t)it / s->nchunks, ch = (size_t)it % s->nchunks;
      const size_t x0 = s->chunk[ch][0], w = s->chunk[ch][1];
      FLT *restrict base = fine + 2 * (s->panel_off[pn] + x0);
      for (size_t r = 0; r < n; r++) {
        const FLT *restrict src = base + 2 * r * st;
        for (size_t c = 0; c < w; c++) {
          buf[2 * (c * n + r)] = src[2 * c];
          buf[2 * (c * n + r) + 1] = src[2 * c + 1];
        }
      }
      LucyStatus e = s->dev->ops->cfft_execute(s->dev, s->plan, buf);
      if (e) {
        LUCY_OMP(critical(lucy_nufft_colfft))
        err = e;
      }
      for (size_t r = 0; r < n; r++) {
        FLT *restrict dst = base + 2 * r * st;
        for (size_t c = 0; c < w; c++) {
          dst[2 * c] = buf[2 * (c * n + r)];
          dst[2 * c + 1] = buf[2 * (c * n + r) + 1];
        }
      }
    }
  }
  *status = err;
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
#undef KPAD
