/* einsum.c — Einsum (RtEinsum, runtime/rt_abi.h): scalar. Per output element, an odometer over the summed
 * indices walks every operand by its strides and adds the products (in double, or int64 for the integer
 * dtypes: as numpy's reference, up to the rounding of the sum). */
#include "rt_internal.h"

static double ld_f(const void *base, int32_t dt, ptrdiff_t i) {
  return dt == 1 ? (double)((const float *)base)[i] : ((const double *)base)[i];
}
static int64_t ld_i(const void *base, int32_t dt, ptrdiff_t i) {
  return dt == 6 ? (int64_t)((const int32_t *)base)[i] : ((const int64_t *)base)[i];
}

RT_EXPORT("rt_einsum") void rt_einsum(const RtEinsum *p) {
  const void *in[RT_EINSUM_MAX_IN];
  for (int32_t j = 0; j < p->nin; j++) in[j] = RT_PTR(const void, p->in[j]);
  const int32_t dt = p->dtype, fl = dt == 1 || dt == 11;
  ptrdiff_t nout = 1, nsum = 1;
  for (int32_t l = 0; l < p->nout; l++) nout *= p->size[l];
  for (int32_t l = p->nout; l < p->nl; l++) nsum *= p->size[l];
  int32_t idx[RT_EINSUM_MAX_L] = {0};
  ptrdiff_t base[RT_EINSUM_MAX_IN] = {0}, off[RT_EINSUM_MAX_IN];
  for (ptrdiff_t o = 0; o < nout; o++) {
    double sf = 0.0;
    int64_t si = 0;
    for (int32_t j = 0; j < p->nin; j++) off[j] = base[j];
    for (int32_t l = p->nout; l < p->nl; l++) idx[l] = 0;
    for (ptrdiff_t s = 0; s < nsum; s++) {
      if (fl) {
        double v = 1.0;
        for (int32_t j = 0; j < p->nin; j++) v *= ld_f(in[j], dt, off[j]);
        sf += v;
      } else {
        uint64_t v = 1;   /* wraps as int64 arithmetic does in two's complement */
        for (int32_t j = 0; j < p->nin; j++) v *= (uint64_t)ld_i(in[j], dt, off[j]);
        si = (int64_t)((uint64_t)si + v);
      }
      for (int32_t l = p->nl - 1; l >= p->nout; l--) {   /* next summed index */
        for (int32_t j = 0; j < p->nin; j++) off[j] += p->stride[j][l];
        if (++idx[l] < p->size[l]) break;
        for (int32_t j = 0; j < p->nin; j++) off[j] -= (ptrdiff_t)p->stride[j][l] * p->size[l];
        idx[l] = 0;
      }
    }
    if (dt == 1) RT_PTR(float, p->y)[o] = (float)sf;
    else if (dt == 11) RT_PTR(double, p->y)[o] = sf;
    else if (dt == 6) RT_PTR(int32_t, p->y)[o] = (int32_t)si;
    else RT_PTR(int64_t, p->y)[o] = si;
    for (int32_t l = p->nout - 1; l >= 0; l--) {   /* next output index */
      for (int32_t j = 0; j < p->nin; j++) base[j] += p->stride[j][l];
      if (++idx[l] < p->size[l]) break;
      for (int32_t j = 0; j < p->nin; j++) base[j] -= (ptrdiff_t)p->stride[j][l] * p->size[l];
      idx[l] = 0;
    }
  }
}
