#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lucy/volume.h"

/* Quickselect (Hoare partition with median-of-three): the k-th smallest of a[0..n). */
static float select_kth(float *a, size_t n, size_t k) {
  size_t lo = 0, hi = n - 1;
  while (lo < hi) {
    size_t mid = lo + (hi - lo) / 2;
    float x = a[lo], y = a[mid], z = a[hi];
    float pivot = x < y ? (y < z ? y : (x < z ? z : x)) : (x < z ? x : (y < z ? z : y));
    size_t i = lo, j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        float t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        if (j == 0) break;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

static float min_of(const float *a, size_t n) {
  float m = a[0];
  for (size_t i = 1; i < n; i++)
    if (a[i] < m) m = a[i];
  return m;
}

double lucy_percentile(const float *values, size_t count, double p) {
  float *a = malloc((count ? count : 1) * sizeof(float));
  if (!a) return NAN;
  size_t n = 0;
  for (size_t i = 0; i < count; i++)
    if (isfinite(values[i])) a[n++] = values[i];
  if (n == 0) {
    free(a);
    return NAN;
  }
  p = p < 0 ? 0 : (p > 100 ? 100 : p);
  /* numpy's "linear" method: position p/100 * (n-1) between order statistics. */
  double pos = p / 100.0 * (double)(n - 1);
  size_t k = (size_t)floor(pos);
  double frac = pos - (double)k;
  double lo = select_kth(a, n, k);
  double hi = lo;
  /* After selection every element past k is >= a[k]: the next order statistic is their min. */
  if (frac > 0 && k + 1 < n) hi = min_of(a + k + 1, n - k - 1);
  free(a);
  return lo + frac * (hi - lo);
}
