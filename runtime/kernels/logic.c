/* logic.c — any-dtype elementwise binary ops (integer arithmetic, Mod, comparisons, logic), Where, ArgMax/ArgMin,
 * Trilu and TopK. */
#include "rt_internal.h"

/* ------------------------------------------------------------------ element access by ONNX dtype */

enum { DK_FLOAT, DK_SIGNED, DK_UNSIGNED };
RT_AI int dt_kind(int32_t dt) {
  switch (dt) {
  case 1: case 10: case 11: return DK_FLOAT;
  case 3: case 5: case 6: case 7: return DK_SIGNED;
  default: return DK_UNSIGNED;   /* uint8/16/32/64, bool */
  }
}
RT_AI int32_t dt_bytes(int32_t dt) {
  switch (dt) {
  case 2: case 3: case 9: return 1;
  case 4: case 5: case 10: return 2;
  case 1: case 6: case 12: return 4;
  default: return 8;
  }
}
RT_AI double ld_f(const unsigned char *p, int32_t dt, ptrdiff_t i) {
  return dt == 1 ? (double)((const float *)p)[i] : dt == 10 ? half_to_double(((const uint16_t *)p)[i]) : ((const double *)p)[i];
}
/* integers (and bool) as int64: signed types sign-extended, unsigned zero-extended */
RT_AI int64_t ld_i(const unsigned char *p, int32_t dt, ptrdiff_t i) {
  switch (dt) {
  case 2: case 9: return ((const uint8_t *)p)[i];
  case 3: return ((const int8_t *)p)[i];
  case 4: return ((const uint16_t *)p)[i];
  case 5: return ((const int16_t *)p)[i];
  case 6: return ((const int32_t *)p)[i];
  case 12: return ((const uint32_t *)p)[i];
  default: return ((const int64_t *)p)[i];
  }
}
RT_AI void st_i(unsigned char *p, int32_t dt, ptrdiff_t i, int64_t v) {
  switch (dt_bytes(dt)) {
  case 1: ((uint8_t *)p)[i] = (uint8_t)v; break;
  case 2: ((uint16_t *)p)[i] = (uint16_t)v; break;
  case 4: ((uint32_t *)p)[i] = (uint32_t)v; break;
  default: ((int64_t *)p)[i] = v; break;
  }
}

RT_AI double fmod_d(double a, double b) {   /* truncated remainder; exact while |a/b| < 2^52 */
  double q = a / b;
  q = q < 0 ? __builtin_ceil(q) : __builtin_floor(q);
  double r = a - q * b;
  if (b != b || a != a || b == 0.0 || a - a != 0.0) return __builtin_nan("");
  if (b - b != 0.0) return a;                  /* finite a, infinite b */
  return r;
}

RT_AI double any_f(int32_t op, double a, double b) {
  switch (op) {
  case RT_ANY_ADD: return a + b;
  case RT_ANY_SUB: return a - b;
  case RT_ANY_MUL: return a * b;
  case RT_ANY_DIV: return a / b;
  case RT_ANY_MAX: return a != a || a > b ? a : b;
  case RT_ANY_MIN: return a != a || a < b ? a : b;
  case RT_ANY_POW: return (double)rt_powf((float)a, (float)b);
  case RT_ANY_FMOD: return fmod_d(a, b);
  case RT_ANY_MOD: {
    double r = fmod_d(a, b);
    return r != 0.0 && (r < 0.0) != (b < 0.0) ? r + b : r;
  }
  default: return 0.0;
  }
}

RT_AI int64_t ipow(int64_t a, int64_t b) {
  if (b < 0) return a == 1 ? 1 : a == -1 ? (b & 1 ? -1 : 1) : 0;
  uint64_t r = 1, x = (uint64_t)a;
  for (; b; b >>= 1, x *= x) if (b & 1) r *= x;
  return (int64_t)r;
}

RT_AI int64_t any_i(int32_t op, int64_t a, int64_t b, int uns) {
  uint64_t ua = (uint64_t)a, ub = (uint64_t)b;
  switch (op) {
  case RT_ANY_ADD: return (int64_t)(ua + ub);
  case RT_ANY_SUB: return (int64_t)(ua - ub);
  case RT_ANY_MUL: return (int64_t)(ua * ub);
  case RT_ANY_DIV:
    if (!b) return 0;
    if (uns) return (int64_t)(ua / ub);
    return b == -1 ? (int64_t)(0 - ua) : a / b;
  case RT_ANY_MAX: return uns ? (ua > ub ? a : b) : (a > b ? a : b);
  case RT_ANY_MIN: return uns ? (ua < ub ? a : b) : (a < b ? a : b);
  case RT_ANY_POW: return ipow(a, b);
  case RT_ANY_FMOD: case RT_ANY_MOD: {
    if (!b) return 0;
    if (uns) return (int64_t)(ua % ub);
    if (b == -1) return 0;
    int64_t r = a % b;
    if (op == RT_ANY_MOD && r != 0 && (r < 0) != (b < 0)) r += b;
    return r;
  }
  /* unsigned only (the compiler checks): a is zero-extended, so SHR brings in zeros; SHL's bits past the type's
   * width are dropped by the store, which also makes any b >= width give 0 */
  case RT_ANY_SHL: return ub >= 64 ? 0 : (int64_t)(ua << ub);
  case RT_ANY_SHR: return ub >= 64 ? 0 : (int64_t)(ua >> ub);
  default: return 0;
  }
}

/* comparison/logic result (0/1) */
RT_AI int any_cmp(int32_t op, const unsigned char *a, const unsigned char *b, int32_t dt, ptrdiff_t ia, ptrdiff_t ib) {
  int k = dt_kind(dt);
  if (op >= RT_ANY_AND) {
    int x = ld_i(a, dt, ia) != 0, y = ld_i(b, dt, ib) != 0;
    if (k == DK_FLOAT) { x = ld_f(a, dt, ia) != 0.0; y = ld_f(b, dt, ib) != 0.0; }
    switch (op) {
    case RT_ANY_AND: return x & y;
    case RT_ANY_OR: return x | y;
    case RT_ANY_XOR: return x ^ y;
    default: return !x;
    }
  }
  int lt, eq;
  if (k == DK_FLOAT) {
    double x = ld_f(a, dt, ia), y = ld_f(b, dt, ib);
    if (x != x || y != y) return 0;
    lt = x < y; eq = x == y;
  } else if (k == DK_SIGNED) {
    int64_t x = ld_i(a, dt, ia), y = ld_i(b, dt, ib);
    lt = x < y; eq = x == y;
  } else {
    uint64_t x = (uint64_t)ld_i(a, dt, ia), y = (uint64_t)ld_i(b, dt, ib);
    lt = x < y; eq = x == y;
  }
  switch (op) {
  case RT_ANY_EQ: return eq;
  case RT_ANY_LT: return lt;
  case RT_ANY_GT: return !lt && !eq;
  case RT_ANY_LE: return lt || eq;
  default: return !lt;   /* GE */
  }
}

/* one element: y[iy] = op(a[ia], b[ib]) */
RT_AI void any_elem(const RtBinaryAny *p, const unsigned char *a, const unsigned char *b, unsigned char *y, ptrdiff_t ia,
                    ptrdiff_t ib, ptrdiff_t iy) {
  int32_t dt = p->dtype, op = p->op;
  if (op >= RT_ANY_EQ) { y[iy] = (unsigned char)any_cmp(op, a, b, dt, ia, ib); return; }
  int k = dt_kind(dt);
  if (k == DK_FLOAT) {
    double r = any_f(op, ld_f(a, dt, ia), ld_f(b, dt, ib));
    if (dt == 1) ((float *)y)[iy] = (float)r;
    else if (dt == 10) ((uint16_t *)y)[iy] = double_to_half(r);   /* + - * / of halves: exact in double, one rounding */
    else ((double *)y)[iy] = r;
  } else {
    st_i(y, dt, iy, any_i(op, ld_i(a, dt, ia), ld_i(b, dt, ib), k == DK_UNSIGNED));
  }
}

void rt_binary_any__scalar(const RtBinaryAny *p) {
  const unsigned char *a = RT_PTR(const unsigned char, p->a), *b = RT_PTR(const unsigned char, p->b);
  unsigned char *y = RT_PTR(unsigned char, p->y);
  int32_t idx[RT_MAX_RANK] = {0};
  ptrdiff_t total = 1;
  for (int32_t d = 0; d < p->rank; d++) total *= p->dim[d];
  for (ptrdiff_t i = 0; i < total; i++) {
    ptrdiff_t ao = 0, bo = 0;
    for (int32_t d = 0; d < p->rank; d++) {
      ao += (ptrdiff_t)idx[d] * p->astride[d];
      bo += (ptrdiff_t)idx[d] * p->bstride[d];
    }
    any_elem(p, a, b, y, ao, bo, i);
    for (int32_t d = p->rank - 1; d >= 0; d--) {
      if (++idx[d] < p->dim[d]) break;
      idx[d] = 0;
    }
  }
}

/* ------------------------------------------------------------------ Where */

void rt_where__scalar(const RtWhere *p) {
  const unsigned char *c = RT_PTR(const unsigned char, p->c), *x = RT_PTR(const unsigned char, p->x);
  const unsigned char *yv = RT_PTR(const unsigned char, p->y);
  unsigned char *out = RT_PTR(unsigned char, p->out);
  int32_t idx[RT_MAX_RANK] = {0}, es = p->esize;
  ptrdiff_t total = 1;
  for (int32_t d = 0; d < p->rank; d++) total *= p->dim[d];
  for (ptrdiff_t i = 0; i < total; i++) {
    ptrdiff_t co = 0, xo = 0, yo = 0;
    for (int32_t d = 0; d < p->rank; d++) {
      co += (ptrdiff_t)idx[d] * p->cstride[d];
      xo += (ptrdiff_t)idx[d] * p->xstride[d];
      yo += (ptrdiff_t)idx[d] * p->ystride[d];
    }
    const unsigned char *src = c[co] ? x + xo * es : yv + yo * es;
    for (int32_t k = 0; k < es; k++) out[i * es + k] = src[k];
    for (int32_t d = p->rank - 1; d >= 0; d--) {
      if (++idx[d] < p->dim[d]) break;
      idx[d] = 0;
    }
  }
}

/* ------------------------------------------------------------------ ArgMax / ArgMin */

/* does v replace the current best? (NaN is the extreme; the first NaN wins) */
RT_AI int arg_better(int32_t op, int32_t last, float v, float best) {
  if (best != best) return 0;
  if (v != v) return 1;
  if (op == 0) return last ? v >= best : v > best;
  return last ? v <= best : v < best;
}

void rt_argreduce_f32__scalar(const RtArgReduce *p) {
  const float *x = RT_PTR(const float, p->x);
  int64_t *y = RT_PTR(int64_t, p->y);
  int32_t n = p->n, inner = p->inner;
  for (int32_t o = 0; o < p->outer; o++)
    for (int32_t i = 0; i < inner; i++) {
      const float *xr = x + (ptrdiff_t)o * n * inner + i;
      float best = xr[0];
      int32_t bi = 0;
      for (int32_t j = 1; j < n; j++) {
        float v = xr[(ptrdiff_t)j * inner];
        if (arg_better(p->op, p->select_last, v, best)) { best = v; bi = j; }
      }
      y[(ptrdiff_t)o * inner + i] = bi;
    }
}

/* ------------------------------------------------------------------ Trilu */

void rt_trilu__scalar(const RtTrilu *p) {
  const unsigned char *x = RT_PTR(const unsigned char, p->x);
  unsigned char *y = RT_PTR(unsigned char, p->y);
  int32_t rows = p->rows, cols = p->cols, es = p->esize;
  size_t rb = (size_t)cols * (size_t)es;
  int64_t k = p->k;
  if (p->k_addr) {
    k = *RT_PTR(const int64_t, p->k_addr);
    k = k > (int64_t)1 << 31 ? (int64_t)1 << 31 : k < -((int64_t)1 << 31) ? -((int64_t)1 << 31) : k;
  }
  for (int32_t m = 0; m < p->batch; m++)
    for (int32_t r = 0; r < rows; r++) {
      size_t off = ((size_t)m * (size_t)rows + (size_t)r) * rb;
      /* kept columns: [max(0, r+k), cols) for upper, [0, min(cols, r+k+1)) for lower */
      int64_t lo = p->upper ? (int64_t)r + k : 0, hi = p->upper ? cols : (int64_t)r + k + 1;
      lo = lo < 0 ? 0 : lo > cols ? cols : lo;
      hi = hi < lo ? lo : hi > cols ? cols : hi;
      if (x != y) rt_memcpy(y + off + (size_t)lo * es, x + off + (size_t)lo * es, (size_t)(hi - lo) * (size_t)es);
      rt_memset(y + off, 0, (size_t)lo * (size_t)es);
      rt_memset(y + off + (size_t)hi * es, 0, (size_t)(cols - hi) * (size_t)es);
    }
}

#if RT_SIMD128

/* binary_any: float32 comparisons whose innermost dim is contiguous or broadcast in both operands run 4 lanes
 * at a time (masks narrowed to bytes); everything else goes through the scalar loop row by row. */
void rt_binary_any__simd128(const RtBinaryAny *p) {
  int32_t r = p->rank;
  int32_t n = r ? p->dim[r - 1] : 1, as = r ? p->astride[r - 1] : 0, bs = r ? p->bstride[r - 1] : 0;
  if (p->dtype != 1 || p->op < RT_ANY_EQ || p->op > RT_ANY_GE || as > 1 || bs > 1 || as < 0 || bs < 0 || n < 4) {
    rt_binary_any__scalar(p);
    return;
  }
  const float *a = RT_PTR(const float, p->a), *b = RT_PTR(const float, p->b);
  unsigned char *y = RT_PTR(unsigned char, p->y);
  int32_t idx[RT_MAX_RANK] = {0};
  ptrdiff_t rows = 1;
  for (int32_t d = 0; d < r - 1; d++) rows *= p->dim[d];
  for (ptrdiff_t row = 0; row < rows; row++) {
    ptrdiff_t ao = 0, bo = 0;
    for (int32_t d = 0; d < r - 1; d++) {
      ao += (ptrdiff_t)idx[d] * p->astride[d];
      bo += (ptrdiff_t)idx[d] * p->bstride[d];
    }
    const float *ar = a + ao, *br = b + bo;
    unsigned char *yr = y + row * n;
    v128_t va = wasm_v128_load32_splat(ar), vb = wasm_v128_load32_splat(br), one = wasm_i32x4_splat(1);
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
      if (as) va = wasm_v128_load(ar + i);
      if (bs) vb = wasm_v128_load(br + i);
      v128_t m;
      switch (p->op) {
      case RT_ANY_EQ: m = wasm_f32x4_eq(va, vb); break;
      case RT_ANY_LT: m = wasm_f32x4_lt(va, vb); break;
      case RT_ANY_GT: m = wasm_f32x4_gt(va, vb); break;
      case RT_ANY_LE: m = wasm_f32x4_le(va, vb); break;
      default: m = wasm_f32x4_ge(va, vb); break;
      }
      m = wasm_v128_and(m, one);
      v128_t h = wasm_u16x8_narrow_i32x4(m, m);
      wasm_v128_store32_lane(yr + i, wasm_u8x16_narrow_i16x8(h, h), 0);
    }
    for (; i < n; i++) {
      float x = ar[(ptrdiff_t)i * as], z = br[(ptrdiff_t)i * bs];
      int v;
      switch (p->op) {
      case RT_ANY_EQ: v = x == z; break;
      case RT_ANY_LT: v = x < z; break;
      case RT_ANY_GT: v = x > z; break;
      case RT_ANY_LE: v = x <= z; break;
      default: v = x >= z; break;
      }
      yr[i] = (unsigned char)v;
    }
    for (int32_t d = r - 2; d >= 0; d--) {
      if (++idx[d] < p->dim[d]) break;
      idx[d] = 0;
    }
  }
}

/* argreduce: with inner >= 4, four columns at a time (best value and index per lane). */
void rt_argreduce_f32__simd128(const RtArgReduce *p) {
  int32_t n = p->n, inner = p->inner, op = p->op, last = p->select_last;
  if (inner < 4) { rt_argreduce_f32__scalar(p); return; }
  const float *x = RT_PTR(const float, p->x);
  int64_t *y = RT_PTR(int64_t, p->y);
  for (int32_t o = 0; o < p->outer; o++) {
    const float *xo = x + (ptrdiff_t)o * n * inner;
    int64_t *yo = y + (ptrdiff_t)o * inner;
    int32_t i = 0;
    for (; i + 4 <= inner; i += 4) {
      v128_t best = wasm_v128_load(xo + i), bi = wasm_i32x4_splat(0);
      for (int32_t j = 1; j < n; j++) {
        v128_t v = wasm_v128_load(xo + (ptrdiff_t)j * inner + i), c;
        if (op == 0) c = last ? wasm_f32x4_ge(v, best) : wasm_f32x4_gt(v, best);
        else c = last ? wasm_f32x4_le(v, best) : wasm_f32x4_lt(v, best);
        c = wasm_v128_andnot(wasm_v128_or(c, wasm_f32x4_ne(v, v)), wasm_f32x4_ne(best, best));
        best = wasm_v128_bitselect(v, best, c);
        bi = wasm_v128_bitselect(wasm_i32x4_splat(j), bi, c);
      }
      wasm_v128_store(yo + i, wasm_i64x2_extend_low_i32x4(bi));
      wasm_v128_store(yo + i + 2, wasm_i64x2_extend_high_i32x4(bi));
    }
    for (; i < inner; i++) {
      float best = xo[i];
      int32_t bi = 0;
      for (int32_t j = 1; j < n; j++) {
        float v = xo[(ptrdiff_t)j * inner + i];
        if (arg_better(op, last, v, best)) { best = v; bi = j; }
      }
      yo[i] = bi;
    }
  }
}

RT_EXPORT("rt_binary_any") void rt_binary_any(const RtBinaryAny *p) { rt_binary_any__simd128(p); }
RT_EXPORT("rt_argreduce_f32") void rt_argreduce_f32(const RtArgReduce *p) { rt_argreduce_f32__simd128(p); }
#else
RT_EXPORT("rt_binary_any") void rt_binary_any(const RtBinaryAny *p) { rt_binary_any__scalar(p); }
RT_EXPORT("rt_argreduce_f32") void rt_argreduce_f32(const RtArgReduce *p) { rt_argreduce_f32__scalar(p); }
#endif

/* where and trilu are data movement (byte copies and memset/memcpy per row): no separate SIMD variant. */
RT_EXPORT("rt_where") void rt_where(const RtWhere *p) { rt_where__scalar(p); }
RT_EXPORT("rt_trilu") void rt_trilu(const RtTrilu *p) { rt_trilu__scalar(p); }

/* a strictly before b in TopK's order: the larger (largest) or smaller value first, NaN above every number
 * (two NaNs are equal: the earlier one stays first) */
RT_AI int topk_before(float a, float b, int32_t largest) {
  if (a != a && b != b) return 0;
  if (a != a || b != b) return (a != a) == (largest != 0);   /* one NaN: a first iff a is the NaN and largest,
                                                                 or b is the NaN and smallest */
  return largest ? a > b : a < b;
}

/* Selection, not a SIMD-shaped problem: the kept entries live in y/yi (column i of each slice, stride inner);
 * each new element is inserted behind those it does not beat, so ties keep the lower index first. */
void rt_topk_f32__scalar(const RtTopK *p) {
  const float *x = RT_PTR(const float, p->x);
  float *y = RT_PTR(float, p->y);
  int64_t *yi = RT_PTR(int64_t, p->yi);
  ptrdiff_t inner = p->inner;
  if (p->k <= 0) return;
  for (int32_t o = 0; o < p->outer; o++)
    for (ptrdiff_t i = 0; i < inner; i++) {
      const float *xs = x + (ptrdiff_t)o * p->n * inner + i;
      float *ys = y + (ptrdiff_t)o * p->k * inner + i;
      int64_t *is = yi + (ptrdiff_t)o * p->k * inner + i;
      int32_t cnt = 0;
      for (int32_t j = 0; j < p->n; j++) {
        float v = xs[(ptrdiff_t)j * inner];
        if (cnt == p->k && !topk_before(v, ys[(ptrdiff_t)(cnt - 1) * inner], p->largest)) continue;
        int32_t pos = cnt < p->k ? cnt++ : cnt - 1;
        for (; pos > 0 && topk_before(v, ys[(ptrdiff_t)(pos - 1) * inner], p->largest); pos--) {
          ys[(ptrdiff_t)pos * inner] = ys[(ptrdiff_t)(pos - 1) * inner];
          is[(ptrdiff_t)pos * inner] = is[(ptrdiff_t)(pos - 1) * inner];
        }
        ys[(ptrdiff_t)pos * inner] = v;
        is[(ptrdiff_t)pos * inner] = j;
      }
    }
}
RT_EXPORT("rt_topk_f32") void rt_topk_f32(const RtTopK *p) { rt_topk_f32__scalar(p); }
