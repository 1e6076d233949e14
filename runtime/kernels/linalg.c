/* linalg.c — Det (RtDet, runtime/rt_abi.h): LU decomposition with partial pivoting in double, per matrix. */
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
