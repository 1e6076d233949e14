/* linalg.c — Det (RtDet, runtime/rt_abi.h): LU decomposition with partial pivoting in double, per matrix;
 * DFT (RtDft): direct sums in double over the compiler's twiddle table (index jk mod len). */
#include "rt_internal.h"

RT_EXPORT("rt_det") void rt_det(const RtDet *p) {
  const int32_t m = p->m;
  double *a = RT_PTR(double, p->scratch);
  for (int32_t b = 0; b < p->batch; b++) {
    const ptrdiff_t base = (ptrdiff_t)b * m * m;
    for (ptrdiff_t i = 0; i < (ptrdiff_t)m * m; i++)
      a[i] = p->dtype == 11 ? RT_PTR(const double, p->x)[base + i] : (double)RT_PTR(const float, p->x)[base + i];
    double det = 1.0;
    for (int32_t k = 0; k < m && det != 0.0; k++) {
      int32_t piv = k;
      for (int32_t r = k + 1; r < m; r++)
        if (__builtin_fabs(a[(ptrdiff_t)r * m + k]) > __builtin_fabs(a[(ptrdiff_t)piv * m + k])) piv = r;
      if (a[(ptrdiff_t)piv * m + k] == 0.0) { det = 0.0; break; }
      if (piv != k) {
        for (int32_t j = 0; j < m; j++) {
          double t = a[(ptrdiff_t)k * m + j];
          a[(ptrdiff_t)k * m + j] = a[(ptrdiff_t)piv * m + j];
          a[(ptrdiff_t)piv * m + j] = t;
        }
        det = -det;
      }
      const double d = a[(ptrdiff_t)k * m + k];
      det *= d;
      for (int32_t r = k + 1; r < m; r++) {
        const double f = a[(ptrdiff_t)r * m + k] / d;
        for (int32_t j = k + 1; j < m; j++) a[(ptrdiff_t)r * m + j] -= f * a[(ptrdiff_t)k * m + j];
      }
    }
    if (p->dtype == 11) RT_PTR(double, p->y)[b] = det;
    else RT_PTR(float, p->y)[b] = (float)det;
  }
}

RT_EXPORT("rt_dft") void rt_dft(const RtDft *p) {
  const float *x = RT_PTR(const float, p->x);
  float *y = RT_PTR(float, p->y);
  const int32_t len = p->len, n = RT_MIN(p->n, p->len), cin = p->cin;
  const double sgn = p->inverse ? 1.0 : -1.0;
  const unsigned char *tw = (const unsigned char *)p + p->tab;
  for (int32_t o = 0; o < p->outer; o++)
    for (int32_t i = 0; i < p->inner; i++)
      for (int32_t k = 0; k < p->nout; k++) {
        double re = 0.0, im = 0.0;
        for (int32_t j = 0; j < n; j++) {
          const float *xj = x + (((ptrdiff_t)o * p->n + j) * p->inner + i) * cin;
          double cs[2];
          __builtin_memcpy(cs, tw + 16 * (((int64_t)j * k) % len), 16);
          const double c = cs[0], s = sgn * cs[1], xr = xj[0], xi = cin == 2 ? xj[1] : 0.0;
          re += xr * c - xi * s;
          im += xr * s + xi * c;
        }
        if (p->inverse && len) { re /= len; im /= len; }
        float *yk = y + (((ptrdiff_t)o * p->nout + k) * p->inner + i) * 2;
        yk[0] = (float)re;
        yk[1] = (float)im;
      }
}
