/* layout.c — data movement kernels: strided transpose, 2-D block copy, gather along an axis, GatherElements,
 * ScatterElements, GatherND, ScatterND, ReverseSequence, Pad. */
#include "rt_internal.h"

/* Copy one element of esize bytes. */
RT_AI void copy_elem(unsigned char *d, const unsigned char *s, int32_t esize) {
  switch (esize) {
  case 1: *d = *s; break;
  case 2: *(uint16_t *)d = *(const uint16_t *)s; break;
  case 4: *(uint32_t *)d = *(const uint32_t *)s; break;
  case 8: *(uint64_t *)d = *(const uint64_t *)s; break;
  default: rt_memcpy(d, s, (size_t)esize); break;
  }
}

void rt_transpose__scalar(const RtTranspose *p) {
  const unsigned char *x = RT_PTR(const unsigned char, p->x);
  unsigned char *y = RT_PTR(unsigned char, p->y);
  int32_t idx[RT_MAX_RANK] = {0}, es = p->esize;
  ptrdiff_t total = 1;
  for (int32_t d = 0; d < p->rank; d++) total *= p->dim[d];
  for (ptrdiff_t i = 0; i < total; i++) {
    ptrdiff_t xo = 0;
    for (int32_t d = 0; d < p->rank; d++) xo += (ptrdiff_t)idx[d] * p->xstride[d];
    copy_elem(y + i * es, x + xo * es, es);
    for (int32_t d = p->rank - 1; d >= 0; d--) {
      if (++idx[d] < p->dim[d]) break;
      idx[d] = 0;
    }
  }
}

void rt_copy2d__scalar(const RtCopy2d *p) {
  unsigned char *d = RT_PTR(unsigned char, p->dst);
  const unsigned char *s = RT_PTR(const unsigned char, p->src);
  if (p->row_bytes == p->dst_stride && p->row_bytes == p->src_stride) {
    rt_memcpy(d, s, (size_t)p->rows * (size_t)p->row_bytes);
    return;
  }
  for (int32_t r = 0; r < p->rows; r++)
    rt_memcpy(d + (ptrdiff_t)r * p->dst_stride, s + (ptrdiff_t)r * p->src_stride, (size_t)p->row_bytes);
}

void rt_gather__scalar(const RtGather *p) {
  const unsigned char *x = RT_PTR(const unsigned char, p->x);
  const int64_t *idx = RT_PTR(const int64_t, p->idx);
  unsigned char *y = RT_PTR(unsigned char, p->y);
  size_t blk = (size_t)p->inner * (size_t)p->esize;
  for (int32_t o = 0; o < p->outer; o++)
    for (int32_t i = 0; i < p->nidx; i++) {
      int64_t j = idx[i];
      if (j < 0) j += p->axis_n;
      unsigned char *dst = y + ((size_t)o * (size_t)p->nidx + (size_t)i) * blk;
      if (j < 0 || j >= p->axis_n) rt_memset(dst, 0, blk);
      else rt_memcpy(dst, x + ((size_t)o * (size_t)p->axis_n + (size_t)j) * blk, blk);
    }
}

/* The walk GatherElements and ScatterElements share: over the index tensor (shape dim[r]) in order, the
 * innermost dim in a loop, the outer ones with the counter ctr[r - 1]. */

/* offset (elements) of the data row the counter addresses: every dim but the innermost and the axis */
RT_AI ptrdiff_t elem_row_base(const int32_t *ctr, const int32_t *stride, int32_t r, int32_t ax) {
  ptrdiff_t base = 0;
  for (int32_t d = 0; d < r - 1; d++)
    if (d != ax) base += (ptrdiff_t)ctr[d] * stride[d];
  return base;
}

RT_AI void elem_next_row(int32_t *ctr, const int32_t *dim, int32_t r) {
  for (int32_t d = r - 2; d >= 0; d--) {
    if (++ctr[d] < dim[d]) break;
    ctr[d] = 0;
  }
}

/* index element i (int64 or int32), negative ones counted from an; -1 when outside [0, an) */
RT_AI int64_t elem_index(const unsigned char *ib, int32_t idx64, ptrdiff_t i, int32_t an) {
  int64_t j = idx64 ? ((const int64_t *)ib)[i] : (int64_t)((const int32_t *)ib)[i];
  if (j < 0) j += an;
  return j < 0 || j >= an ? -1 : j;
}

/* GatherElements: y in order; an index out of range gives zeros. */
void rt_gather_elements__scalar(const RtGatherElements *p) {
  const unsigned char *x = RT_PTR(const unsigned char, p->x);
  const unsigned char *ib = RT_PTR(const unsigned char, p->idx);
  unsigned char *y = RT_PTR(unsigned char, p->y);
  int32_t r = p->rank, ax = p->axis, es = p->esize, an = p->axis_n;
  if (r < 1 || r > RT_MAX_RANK || ax < 0 || ax >= r) return;
  ptrdiff_t total = 1;
  for (int32_t d = 0; d < r; d++) total *= p->dim[d];
  if (total == 0) return;
  int32_t ctr[RT_MAX_RANK] = {0}, nl = p->dim[r - 1];
  ptrdiff_t sl = ax == r - 1 ? 0 : p->xstride[r - 1], sa = p->xstride[ax];
  for (ptrdiff_t i = 0; i < total; i += nl) {
    ptrdiff_t base = elem_row_base(ctr, p->xstride, r, ax);
    for (int32_t k = 0; k < nl; k++) {
      int64_t j = elem_index(ib, p->idx64, i + k, an);
      unsigned char *dst = y + (i + k) * es;
      if (j < 0) rt_memset(dst, 0, (size_t)es);
      else copy_elem(dst, x + (base + (ptrdiff_t)k * sl + (ptrdiff_t)j * sa) * es, es);
    }
    elem_next_row(ctr, p->dim, r);
  }
}

/* *d = *d op *s for a ScatterElements reduction on one element of ONNX dtype dt (float MAX/MIN: a NaN operand
 * wins, as numpy's maximum/minimum) */
RT_AI void scatter_red(unsigned char *d, const unsigned char *s, int32_t dt, int32_t red) {
#define RED(T)                                                                  \
  {                                                                             \
    T a = *(T *)d, b = *(const T *)s;                                           \
    *(T *)d = red == RT_SCATTER_ADD ? (T)(a + b) : red == RT_SCATTER_MUL ? (T)(a * b) \
            : red == RT_SCATTER_MAX ? (a != a || a > b ? a : b) : (a != a || a < b ? a : b); \
    return;                                                                     \
  }
  switch (dt) {
  case 1: RED(float)
  case 11: RED(double)
  case 6: RED(int32_t)
  case 7: RED(int64_t)
  default: return;
  }
#undef RED
}

void rt_scatter_elements__scalar(const RtScatterElements *p) {
  const unsigned char *x = RT_PTR(const unsigned char, p->x), *u = RT_PTR(const unsigned char, p->u);
  const unsigned char *ib = RT_PTR(const unsigned char, p->idx);
  unsigned char *y = RT_PTR(unsigned char, p->y);
  int32_t r = p->rank, ax = p->axis, es = p->esize, an = p->axis_n;
  if (y != x) rt_memcpy(y, x, (size_t)p->ytotal * (size_t)es);
  if (r < 1 || r > RT_MAX_RANK || ax < 0 || ax >= r) return;
  ptrdiff_t total = 1;
  for (int32_t d = 0; d < r; d++) total *= p->dim[d];
  if (total == 0) return;
  int32_t ctr[RT_MAX_RANK] = {0}, nl = p->dim[r - 1];
  ptrdiff_t sl = ax == r - 1 ? 0 : p->ystride[r - 1], sa = p->ystride[ax];
  for (ptrdiff_t i = 0; i < total; i += nl) {
    ptrdiff_t base = elem_row_base(ctr, p->ystride, r, ax);
    for (int32_t k = 0; k < nl; k++) {
      int64_t j = elem_index(ib, p->idx64, i + k, an);
      if (j < 0) continue;                  /* out of range: skipped, never written out of bounds */
      unsigned char *dst = y + (base + (ptrdiff_t)k * sl + (ptrdiff_t)j * sa) * es;
      if (p->reduction == RT_SCATTER_NONE) copy_elem(dst, u + (i + k) * es, es);
      else scatter_red(dst, u + (i + k) * es, p->dtype, p->reduction);
    }
    elem_next_row(ctr, p->dim, r);
  }
}

/* element offset of index tuple t (k entries) of an RtIndexND, or -1 when an index is out of range */
RT_AI ptrdiff_t nd_offset(const RtIndexND *p, const int64_t *t) {
  ptrdiff_t off = 0;
  for (int32_t j = 0; j < p->k; j++) {
    int64_t v = t[j];
    if (v < 0) v += p->dim[j];
    if (v < 0 || v >= p->dim[j]) return -1;
    off += (ptrdiff_t)v * p->stride[j];
  }
  return off;
}

void rt_gather_nd__scalar(const RtIndexND *p) {
  const unsigned char *x = RT_PTR(const unsigned char, p->x);
  const int64_t *idx = RT_PTR(const int64_t, p->idx);
  unsigned char *y = RT_PTR(unsigned char, p->y);
  if (p->k < 0 || p->k > RT_ND_MAX) return;
  size_t es = (size_t)p->esize, blk = (size_t)p->inner * es;
  for (int32_t b = 0; b < p->nbatch; b++)
    for (int32_t i = 0; i < p->nidx; i++) {
      size_t n = (size_t)b * (size_t)p->nidx + (size_t)i;
      ptrdiff_t off = nd_offset(p, idx + n * (size_t)p->k);
      if (off < 0) rt_memset(y + n * blk, 0, blk);
      else rt_memcpy(y + n * blk, x + ((size_t)b * (size_t)p->xbatch + (size_t)off) * es, blk);
    }
}

void rt_scatter_nd__scalar(const RtIndexND *p) {
  const unsigned char *x = RT_PTR(const unsigned char, p->x), *u = RT_PTR(const unsigned char, p->u);
  const int64_t *idx = RT_PTR(const int64_t, p->idx);
  unsigned char *y = RT_PTR(unsigned char, p->y);
  size_t es = (size_t)p->esize, blk = (size_t)p->inner * es;
  if (y != x) rt_memcpy(y, x, (size_t)p->ytotal * es);
  if (p->k < 0 || p->k > RT_ND_MAX) return;
  for (int32_t i = 0; i < p->nidx; i++) {
    ptrdiff_t off = nd_offset(p, idx + (size_t)i * (size_t)p->k);
    if (off < 0) continue;
    unsigned char *dst = y + (size_t)off * es;
    const unsigned char *src = u + (size_t)i * blk;
    if (p->reduction == RT_SCATTER_NONE) rt_memcpy(dst, src, blk);
    else
      for (int32_t e = 0; e < p->inner; e++) scatter_red(dst + (size_t)e * es, src + (size_t)e * es, p->dtype, p->reduction);
  }
}

void rt_reverse_seq__scalar(const RtReverseSeq *p) {
  const unsigned char *x = RT_PTR(const unsigned char, p->x);
  const int64_t *lens = RT_PTR(const int64_t, p->lens);
  unsigned char *y = RT_PTR(unsigned char, p->y);
  size_t es = (size_t)p->esize, blk = (size_t)p->inner * es;
  for (int32_t b = 0; b < p->batch; b++) {
    int64_t len = lens[b] < 0 ? 0 : lens[b] > p->time ? p->time : lens[b];
    for (int32_t t = 0; t < p->time; t++) {
      int64_t src = t < len ? len - 1 - t : t;
      rt_memcpy(y + ((size_t)b * (size_t)p->bstride + (size_t)t * (size_t)p->tstride) * es,
                x + ((size_t)b * (size_t)p->bstride + (size_t)src * (size_t)p->tstride) * es, blk);
    }
  }
}

/* The x index a padded cell at i (relative to x's start) reads along a dim of n, or -1 for the constant. */
RT_AI ptrdiff_t pad_map(ptrdiff_t i, ptrdiff_t n, int32_t mode) {
  if (i >= 0 && i < n) return i;
  if (n <= 0 || mode == RT_PAD_CONSTANT) return -1;
  if (mode == RT_PAD_EDGE || (mode == RT_PAD_REFLECT && n == 1)) return i < 0 ? 0 : n - 1;
  if (mode == RT_PAD_WRAP) { i %= n; return i < 0 ? i + n : i; }
  ptrdiff_t per = 2 * (n - 1); /* reflect: period 2(n-1), the second half mirrored */
  i %= per;
  if (i < 0) i += per;
  return i < n ? i : per - i;
}

/* Pad: one y row (the last dim) at a time; a row whose outer index maps to the constant is filled, else the
 * middle part is one copy (x rows are contiguous when xstride[last] == 1) and the borders are mapped. */
void rt_pad__scalar(const RtPad *p) {
  const unsigned char *x = RT_PTR(const unsigned char, p->x), *val = (const unsigned char *)p->value;
  unsigned char *y = RT_PTR(unsigned char, p->y);
  int32_t r = p->rank, es = p->esize, mode = p->mode;
  if (r < 1 || r > RT_MAX_RANK) return;
  ptrdiff_t rows = 1;
  for (int32_t d = 0; d < r - 1; d++) rows *= p->dim[d];
  int32_t nl = p->dim[r - 1], xn = p->xdim[r - 1], pl = p->pb[r - 1], ctr[RT_MAX_RANK] = {0};
  ptrdiff_t sl = p->xstride[r - 1];
  int zero = 1;
  for (int32_t b = 0; b < es; b++) zero &= val[b] == 0;
  if (nl == 0) return;
  for (ptrdiff_t row = 0; row < rows; row++) {
    unsigned char *yr = y + row * nl * es;
    ptrdiff_t off = 0;
    int fill = 0;
    for (int32_t d = 0; d < r - 1; d++) {
      ptrdiff_t s = pad_map((ptrdiff_t)ctr[d] - p->pb[d], p->xdim[d], mode);
      if (s < 0) { fill = 1; break; }
      off += s * p->xstride[d];
    }
    if (fill) {
      if (zero) rt_memset(yr, 0, (size_t)nl * (size_t)es);
      else for (int32_t k = 0; k < nl; k++) copy_elem(yr + k * es, val, es);
    } else {
      const unsigned char *xr = x + off * es;
      int32_t m0 = RT_MAX(0, RT_MIN(pl, nl)), m1 = RT_MAX(m0, RT_MIN(pl + xn, nl)); /* middle: [m0, m1) */
      if (sl == 1) rt_memcpy(yr + m0 * es, xr + (ptrdiff_t)(m0 - pl) * es, (size_t)(m1 - m0) * (size_t)es);
      else for (int32_t k = m0; k < m1; k++) copy_elem(yr + k * es, xr + (ptrdiff_t)(k - pl) * sl * es, es);
      for (int32_t k = 0; k < nl; k++) {
        if (k == m0) k = m1;
        if (k >= nl) break;
        ptrdiff_t s = pad_map((ptrdiff_t)k - pl, xn, mode);
        copy_elem(yr + k * es, s < 0 ? val : xr + s * sl * es, es);
      }
    }
    for (int32_t d = r - 2; d >= 0; d--) {
      if (++ctr[d] < p->dim[d]) break;
      ctr[d] = 0;
    }
  }
}

#if RT_SIMD128

/* Transpose: dims are coalesced first; rows whose x stride is 1 become memcpy; a 4-byte
 * transpose whose second-innermost dim is x-contiguous goes through 4x4 register transposes. */
void rt_transpose__simd128(const RtTranspose *p) {
  int32_t dim[RT_MAX_RANK], xs[RT_MAX_RANK], r = 0, es = p->esize;
  for (int32_t d = 0; d < p->rank; d++) { /* drop size-1 dims, merge mergeable neighbours */
    if (p->dim[d] == 1) continue;
    if (r > 0 && xs[r - 1] == p->xstride[d] * p->dim[d]) {
      dim[r - 1] *= p->dim[d];
      xs[r - 1] = p->xstride[d];
      continue;
    }
    dim[r] = p->dim[d];
    xs[r] = p->xstride[d];
    r++;
  }
  if (r == 0) {
    dim[0] = 1;
    xs[0] = 1;
    r = 1;
  }
  const unsigned char *x = RT_PTR(const unsigned char, p->x);
  unsigned char *y = RT_PTR(unsigned char, p->y);
  int32_t n = dim[r - 1], sx = xs[r - 1];
  int tile = es == 4 && r >= 2 && xs[r - 2] == 1 && sx != 1;
  int32_t outer_r = tile ? r - 2 : r - 1; /* dims walked by the odometer */
  ptrdiff_t outer = 1;
  for (int32_t d = 0; d < outer_r; d++) outer *= dim[d];
  ptrdiff_t blk = tile ? (ptrdiff_t)dim[r - 2] * n : n; /* y elements per odometer step */
  int32_t idx[RT_MAX_RANK] = {0};
  for (ptrdiff_t o = 0; o < outer; o++) {
    ptrdiff_t xo = 0;
    for (int32_t d = 0; d < outer_r; d++) xo += (ptrdiff_t)idx[d] * xs[d];
    unsigned char *yb = y + o * blk * es;
    const unsigned char *xb = x + xo * es;
    if (tile) {
      const float *xf = (const float *)xb;
      float *yf = (float *)yb;
      int32_t m = dim[r - 2]; /* y[i][j] = x[i + j*sx], i < m, j < n */
      int32_t i = 0;
      for (; i + 4 <= m; i += 4) {
        int32_t j = 0;
        for (; j + 4 <= n; j += 4) {
          const float *s = xf + (ptrdiff_t)j * sx + i;
          v128_t r0 = wasm_v128_load(s), r1 = wasm_v128_load(s + sx);
          v128_t r2 = wasm_v128_load(s + 2 * (ptrdiff_t)sx), r3 = wasm_v128_load(s + 3 * (ptrdiff_t)sx);
          v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
          v128_t t2 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
          float *d = yf + (ptrdiff_t)i * n + j;
          wasm_v128_store(d, wasm_i32x4_shuffle(t0, t1, 0, 1, 4, 5));
          wasm_v128_store(d + n, wasm_i32x4_shuffle(t0, t1, 2, 3, 6, 7));
          wasm_v128_store(d + 2 * (ptrdiff_t)n, wasm_i32x4_shuffle(t2, t3, 0, 1, 4, 5));
          wasm_v128_store(d + 3 * (ptrdiff_t)n, wasm_i32x4_shuffle(t2, t3, 2, 3, 6, 7));
        }
        for (; j < n; j++)
          for (int32_t ii = i; ii < i + 4; ii++) yf[(ptrdiff_t)ii * n + j] = xf[(ptrdiff_t)j * sx + ii];
      }
      for (; i < m; i++)
        for (int32_t j = 0; j < n; j++) yf[(ptrdiff_t)i * n + j] = xf[(ptrdiff_t)j * sx + i];
    } else if (sx == 1) {
      rt_memcpy(yb, xb, (size_t)n * (size_t)es);
    } else {
      for (int32_t j = 0; j < n; j++) copy_elem(yb + (ptrdiff_t)j * es, xb + (ptrdiff_t)j * sx * es, es);
    }
    for (int32_t d = outer_r - 1; d >= 0; d--) {
      if (++idx[d] < dim[d]) break;
      idx[d] = 0;
    }
  }
}

RT_EXPORT("rt_transpose") void rt_transpose(const RtTranspose *p) { rt_transpose__simd128(p); }
#else
RT_EXPORT("rt_transpose") void rt_transpose(const RtTranspose *p) { rt_transpose__scalar(p); }
#endif

/* copy2d, gather, gather_elements, scatter_elements, gather_nd, scatter_nd, reverse_seq and pad are memory.copy / element-copy work: no separate SIMD variant. */
RT_EXPORT("rt_copy2d") void rt_copy2d(const RtCopy2d *p) { rt_copy2d__scalar(p); }
RT_EXPORT("rt_gather") void rt_gather(const RtGather *p) { rt_gather__scalar(p); }
RT_EXPORT("rt_gather_elements") void rt_gather_elements(const RtGatherElements *p) { rt_gather_elements__scalar(p); }
RT_EXPORT("rt_scatter_elements") void rt_scatter_elements(const RtScatterElements *p) { rt_scatter_elements__scalar(p); }
RT_EXPORT("rt_gather_nd") void rt_gather_nd(const RtIndexND *p) { rt_gather_nd__scalar(p); }
RT_EXPORT("rt_scatter_nd") void rt_scatter_nd(const RtIndexND *p) { rt_scatter_nd__scalar(p); }
RT_EXPORT("rt_reverse_seq") void rt_reverse_seq(const RtReverseSeq *p) { rt_reverse_seq__scalar(p); }
RT_EXPORT("rt_pad") void rt_pad(const RtPad *p) { rt_pad__scalar(p); }
