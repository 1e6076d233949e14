/* reduce.c — reductions (sum, mean, max, min, sum of squares, product, L1, L2, log-sum, log-sum-exp) and
 * cumulative sums over the middle axis of an [outer][n][inner] tensor.
 *
 * Semantics (both variants):
 *  - n == 0: y is the op's value on the empty set: 0 for sum / sum of squares / L1 / L2, 1 for prod, -inf
 *    for max, +inf for min, -inf (log 0) for log-sum and log-sum-exp, and 0 for mean (the mean of no
 *    elements is defined as 0 here, not 0/0 = NaN; ONNX leaves it unspecified).
 *  - max/min propagate NaN (any NaN in a reduced slice gives NaN), like numpy.max/min; which NaN bit
 *    pattern comes out is unspecified. Among equal-comparing values (-0 and +0) either may be returned.
 *  - log-sum-exp is computed max-shifted, m + log(sum exp(x - m)) with m the slice's max, so it neither
 *    overflows for large x nor loses everything for very negative x; when m is not finite the result is m
 *    (+inf if any x is +inf, -inf if all are -inf, NaN if any is NaN). log-sum of a negative sum is NaN.
 *  - L2 is sqrt of the sum of squares (overflows to inf for |x| beyond ~1e19 in float32, as the naive
 *    formula ONNX's reference uses); prod over/underflows like a running product.
 *  - float32: accumulated in f32. The scalar reference goes in index order; the SIMD variant for
 *    inner == 1 keeps 16 partial results (4 x f32x4), so results differ by rounding only. For inner > 1 the
 *    SIMD variant goes in index order per column (bit-identical to the scalar reference, except exp/log,
 *    whose vector and scalar versions may differ by an ulp or so).
 *  - float64 (dtype 11): one scalar path shared by both variants, accumulated in f64, with rt_exp_f64 /
 *    rt_log_f64 (a few ulps).
 *  - cumsum: float32 (f32 accumulation), float64 (scalar only) and int64 (two's complement wrap-around); other dtypes leave y
 *    untouched. x == y allowed. The SIMD variant vectorizes across inner (bit-identical) and, for
 *    float32 with inner == 1, uses an in-register prefix scan over 4 lanes (differs by rounding only).
 */
#include "rt_internal.h"

/* ------------------------------------------------------------------ scalar reference */

RT_AI float red_identity(int32_t op) {
  return op == RT_RED_MAX ? -RT_INF : op == RT_RED_MIN ? RT_INF : op == RT_RED_PROD ? 1.0f : 0.0f;
}

/* One reduction step. max/min: a NaN v replaces the accumulator and a NaN accumulator stays
 * (acc < v and v < acc are false when acc is NaN). log-sum-exp is not a step (reduce_lse). */
RT_AI float red_step(int32_t op, float acc, float v) {
  switch (op) {
  case RT_RED_MAX: return (v != v || acc < v) ? v : acc;
  case RT_RED_MIN: return (v != v || v < acc) ? v : acc;
  case RT_RED_SUMSQ: case RT_RED_L2: return acc + v * v;
  case RT_RED_PROD: return acc * v;
  case RT_RED_L1: return acc + __builtin_fabsf(v);
  default: return acc + v; /* sum, mean, log-sum */
  }
}

RT_AI float red_finish(int32_t op, float acc, int32_t n) {
  switch (op) {
  case RT_RED_MEAN: return n > 0 ? acc / (float)n : 0.0f;
  case RT_RED_L2: return __builtin_sqrtf(acc);
  case RT_RED_LOGSUM: return rt_logf(acc);
  default: return acc;
  }
}

/* log-sum-exp of n floats `stride` apart, max-shifted */
static float lse_f32(const float *x, int32_t n, ptrdiff_t stride) {
  float m = -RT_INF, s = 0.0f;
  for (int32_t i = 0; i < n; i++) m = red_step(RT_RED_MAX, m, x[(ptrdiff_t)i * stride]);
  if (!(m - m == 0.0f)) return m; /* +-inf or NaN (n == 0 gives -inf) */
  for (int32_t i = 0; i < n; i++) s += rt_expf(x[(ptrdiff_t)i * stride] - m);
  return m + rt_logf(s);
}

/* float64, both variants: the same steps in double. */
static double red_f64(int32_t op, const double *x, int32_t n, ptrdiff_t stride) {
  double acc = op == RT_RED_MAX ? -__builtin_inf() : op == RT_RED_MIN ? __builtin_inf() : op == RT_RED_PROD ? 1.0 : 0.0;
  if (op == RT_RED_LOGSUMEXP) {
    double m = -__builtin_inf();
    for (int32_t i = 0; i < n; i++) { double v = x[(ptrdiff_t)i * stride]; m = (v != v || m < v) ? v : m; }
    if (!(m - m == 0.0)) return m;
    for (int32_t i = 0; i < n; i++) acc += rt_exp_f64(x[(ptrdiff_t)i * stride] - m);
    return m + rt_log_f64(acc);
  }
  for (int32_t i = 0; i < n; i++) {
    double v = x[(ptrdiff_t)i * stride];
    switch (op) {
    case RT_RED_MAX: acc = (v != v || acc < v) ? v : acc; break;
    case RT_RED_MIN: acc = (v != v || v < acc) ? v : acc; break;
    case RT_RED_SUMSQ: case RT_RED_L2: acc += v * v; break;
    case RT_RED_PROD: acc *= v; break;
    case RT_RED_L1: acc += __builtin_fabs(v); break;
    default: acc += v; break;
    }
  }
  switch (op) {
  case RT_RED_MEAN: return n > 0 ? acc / (double)n : 0.0;
  case RT_RED_L2: return __builtin_sqrt(acc);
  case RT_RED_LOGSUM: return rt_log_f64(acc);
  default: return acc;
  }
}

static void reduce_f64(const RtReduce *p) {
  const double *x = RT_PTR(const double, p->x);
  double *y = RT_PTR(double, p->y);
  int32_t n = p->n, inner = p->inner;
  for (int32_t o = 0; o < p->outer; o++)
    for (int32_t j = 0; j < inner; j++)
      y[(ptrdiff_t)o * inner + j] = red_f64(p->op, x + (ptrdiff_t)o * n * inner + j, n, inner);
}

void rt_reduce_f32__scalar(const RtReduce *p) {
  if (p->op < 0 || p->op >= RT_RED_COUNT) return;
  if (p->dtype == 11) { reduce_f64(p); return; }
  const float *x = RT_PTR(const float, p->x);
  float *y = RT_PTR(float, p->y);
  int32_t n = p->n, inner = p->inner, op = p->op;
  for (int32_t o = 0; o < p->outer; o++)
    for (int32_t j = 0; j < inner; j++) {
      const float *xc = x + (ptrdiff_t)o * n * inner + j;
      if (op == RT_RED_LOGSUMEXP) {
        y[(ptrdiff_t)o * inner + j] = lse_f32(xc, n, inner);
        continue;
      }
      float acc = red_identity(op);
      for (int32_t i = 0; i < n; i++) acc = red_step(op, acc, xc[(ptrdiff_t)i * inner]);
      y[(ptrdiff_t)o * inner + j] = red_finish(op, acc, n);
    }
}

/* One column of the cumulative sum: n elements inner apart. */
static void cumsum_col_f32(const float *x, float *y, int32_t n, ptrdiff_t inner, int excl, int rev) {
  float acc = 0.0f;
  for (int32_t k = 0; k < n; k++) {
    ptrdiff_t q = (ptrdiff_t)(rev ? n - 1 - k : k) * inner;
    float v = x[q];
    if (excl) { y[q] = acc; acc += v; }
    else { acc += v; y[q] = acc; }
  }
}

static void cumsum_col_f64(const double *x, double *y, int32_t n, ptrdiff_t inner, int excl, int rev) {
  double acc = 0.0;
  for (int32_t k = 0; k < n; k++) {
    ptrdiff_t q = (ptrdiff_t)(rev ? n - 1 - k : k) * inner;
    double v = x[q];
    if (excl) { y[q] = acc; acc += v; }
    else { acc += v; y[q] = acc; }
  }
}

static void cumsum_col_i64(const int64_t *x, int64_t *y, int32_t n, ptrdiff_t inner, int excl, int rev) {
  uint64_t acc = 0; /* unsigned: overflow wraps instead of being undefined */
  for (int32_t k = 0; k < n; k++) {
    ptrdiff_t q = (ptrdiff_t)(rev ? n - 1 - k : k) * inner;
    uint64_t v = (uint64_t)x[q];
    if (excl) { y[q] = (int64_t)acc; acc += v; }
    else { acc += v; y[q] = (int64_t)acc; }
  }
}

void rt_cumsum__scalar(const RtCumSum *p) {
  int32_t n = p->n, inner = p->inner;
  if (p->dtype != 1 && p->dtype != 7 && p->dtype != 11) return;
  for (int32_t o = 0; o < p->outer; o++)
    for (int32_t j = 0; j < inner; j++) {
      ptrdiff_t base = (ptrdiff_t)o * n * inner + j;
      if (p->dtype == 11)
        cumsum_col_f64(RT_PTR(const double, p->x) + base, RT_PTR(double, p->y) + base, n, inner, p->exclusive,
                       p->reverse);
      else if (p->dtype == 1)
        cumsum_col_f32(RT_PTR(const float, p->x) + base, RT_PTR(float, p->y) + base, n, inner, p->exclusive,
                       p->reverse);
      else
        cumsum_col_i64(RT_PTR(const int64_t, p->x) + base, RT_PTR(int64_t, p->y) + base, n, inner,
                       p->exclusive, p->reverse);
    }
}

#if RT_SIMD128

/* ------------------------------------------------------------------ SIMD reduce */

/* f32x4 step (OP is a compile-time constant at every call site). max/min: pmax/pmin (acc < v ? v : acc),
 * then lanes where v is NaN take v; a NaN accumulator lane stays NaN because pmax/pmin keep acc when the
 * comparison is false. red_vcomb combines two accumulators. */
RT_AI v128_t red_vstep(const int OP, v128_t acc, v128_t v) {
  switch (OP) {
  case RT_RED_MAX: return wasm_v128_bitselect(v, wasm_f32x4_pmax(acc, v), wasm_f32x4_ne(v, v));
  case RT_RED_MIN: return wasm_v128_bitselect(v, wasm_f32x4_pmin(acc, v), wasm_f32x4_ne(v, v));
  case RT_RED_SUMSQ: case RT_RED_L2: return wasm_f32x4_add(acc, wasm_f32x4_mul(v, v));
  case RT_RED_PROD: return wasm_f32x4_mul(acc, v);
  case RT_RED_L1: return wasm_f32x4_add(acc, wasm_f32x4_abs(v));
  default: return wasm_f32x4_add(acc, v);
  }
}
RT_AI v128_t red_vcomb(const int OP, v128_t a, v128_t b) {
  return (OP == RT_RED_MAX || OP == RT_RED_MIN) ? red_vstep(OP, a, b)
         : OP == RT_RED_PROD                    ? wasm_f32x4_mul(a, b)
                                                : wasm_f32x4_add(a, b);
}
RT_AI float red_hcomb(const int OP, v128_t v) {
  v = red_vcomb(OP, v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  v = red_vcomb(OP, v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(v, 0);
}
RT_AI v128_t red_vfinish(const int OP, v128_t acc, int32_t n) {
  switch (OP) {
  case RT_RED_MEAN: return wasm_f32x4_div(acc, wasm_f32x4_splat(n > 0 ? (float)n : 1.0f)); /* n == 0: 0 / 1 */
  case RT_RED_L2: return wasm_f32x4_sqrt(acc);
  case RT_RED_LOGSUM: return rt_log_f32x4(acc);
  default: return acc;
  }
}

/* inner == 1: one contiguous row of n, 4 independent f32x4 accumulators; the tail is a partial load
 * whose missing lanes are set to the identity. */
RT_AI float red_row(const int OP, const float *x, int32_t n) {
  v128_t id = wasm_f32x4_splat(red_identity(OP));
  v128_t a0 = id, a1 = id, a2 = id, a3 = id;
  int32_t i = 0;
  for (; i + 16 <= n; i += 16) {
    a0 = red_vstep(OP, a0, wasm_v128_load(x + i));
    a1 = red_vstep(OP, a1, wasm_v128_load(x + i + 4));
    a2 = red_vstep(OP, a2, wasm_v128_load(x + i + 8));
    a3 = red_vstep(OP, a3, wasm_v128_load(x + i + 12));
  }
  for (; i + 4 <= n; i += 4) a0 = red_vstep(OP, a0, wasm_v128_load(x + i));
  if (i < n) {
    int32_t t = n - i;
    v128_t live = wasm_i32x4_gt(wasm_i32x4_splat(t), wasm_i32x4_make(0, 1, 2, 3));
    a1 = red_vstep(OP, a1, wasm_v128_bitselect(rt_load_part(x + i, t), id, live));
  }
  return red_hcomb(OP, red_vcomb(OP, red_vcomb(OP, a0, a1), red_vcomb(OP, a2, a3)));
}

/* inner > 1: NV (1..4) f32x4 vectors of adjacent columns, the last one with NL (1..4) valid lanes, walking
 * down the n axis; y gets NV*4 - (4 - NL) results. */
RT_AI void red_cols(const int OP, const int NV, const int NL, const float *x, float *y, int32_t n,
                    ptrdiff_t inner) {
  v128_t id = wasm_f32x4_splat(red_identity(OP));
  v128_t a0 = id, a1 = id, a2 = id, a3 = id;
  for (int32_t i = 0; i < n; i++, x += inner) {
    a0 = red_vstep(OP, a0, NV == 1 ? rt_load_part(x, NL) : wasm_v128_load(x));
    if (NV > 1) a1 = red_vstep(OP, a1, NV == 2 ? rt_load_part(x + 4, NL) : wasm_v128_load(x + 4));
    if (NV > 2) a2 = red_vstep(OP, a2, NV == 3 ? rt_load_part(x + 8, NL) : wasm_v128_load(x + 8));
    if (NV > 3) a3 = red_vstep(OP, a3, rt_load_part(x + 12, NL));
  }
  rt_store_part(y, red_vfinish(OP, a0, n), NV == 1 ? NL : 4);
  if (NV > 1) rt_store_part(y + 4, red_vfinish(OP, a1, n), NV == 2 ? NL : 4);
  if (NV > 2) rt_store_part(y + 8, red_vfinish(OP, a2, n), NV == 3 ? NL : 4);
  if (NV > 3) rt_store_part(y + 12, red_vfinish(OP, a3, n), NL);
}

/* log-sum-exp, inner == 1: the max over the row, then exp(x - m) summed in 4 lanes (tail lanes -inf). */
static float lse_row(const float *x, int32_t n) {
  float m = red_row(RT_RED_MAX, x, n);
  if (!(m - m == 0.0f)) return m;
  v128_t mv = wasm_f32x4_splat(m), s = wasm_f32x4_const_splat(0.0f);
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) s = wasm_f32x4_add(s, rt_exp_f32x4(wasm_f32x4_sub(wasm_v128_load(x + i), mv)));
  if (i < n) {
    int32_t t = n - i;
    v128_t live = wasm_i32x4_gt(wasm_i32x4_splat(t), wasm_i32x4_make(0, 1, 2, 3));
    v128_t v = wasm_v128_bitselect(rt_load_part(x + i, t), wasm_f32x4_splat(-RT_INF), live);
    s = wasm_f32x4_add(s, rt_exp_f32x4(wasm_f32x4_sub(v, mv)));
  }
  return m + rt_logf(rt_hsum_f32x4(s));
}

/* log-sum-exp, inner > 1: NL (1..4) adjacent columns; lanes whose max is not finite give the max. */
RT_AI void lse_cols(const int NL, const float *x, float *y, int32_t n, ptrdiff_t inner) {
  v128_t m = wasm_f32x4_splat(-RT_INF), s = wasm_f32x4_const_splat(0.0f);
  for (int32_t i = 0; i < n; i++) m = red_vstep(RT_RED_MAX, m, rt_load_part(x + (ptrdiff_t)i * inner, NL));
  v128_t fin = wasm_f32x4_eq(wasm_f32x4_sub(m, m), wasm_f32x4_const_splat(0.0f));
  v128_t ms = wasm_v128_and(m, fin); /* non-finite lanes shift by 0: their sum is discarded */
  for (int32_t i = 0; i < n; i++)
    s = wasm_f32x4_add(s, rt_exp_f32x4(wasm_f32x4_sub(rt_load_part(x + (ptrdiff_t)i * inner, NL), ms)));
  rt_store_part(y, wasm_v128_bitselect(wasm_f32x4_add(m, rt_log_f32x4(s)), m, fin), NL);
}

static void reduce_lse(const float *x, float *y, int32_t outer, int32_t n, int32_t inner) {
  for (int32_t o = 0; o < outer; o++) {
    const float *xo = x + (ptrdiff_t)o * n * inner;
    float *yo = y + (ptrdiff_t)o * inner;
    if (inner == 1) {
      yo[0] = lse_row(xo, n);
      continue;
    }
    int32_t j = 0;
    for (; j + 4 <= inner; j += 4) lse_cols(4, xo + j, yo + j, n, inner);
    switch (inner - j) {
    case 1: lse_cols(1, xo + j, yo + j, n, inner); break;
    case 2: lse_cols(2, xo + j, yo + j, n, inner); break;
    case 3: lse_cols(3, xo + j, yo + j, n, inner); break;
    default: break;
    }
  }
}

RT_AI void reduce_op(const int OP, const float *x, float *y, int32_t outer, int32_t n, int32_t inner) {
  for (int32_t o = 0; o < outer; o++) {
    const float *xo = x + (ptrdiff_t)o * n * inner;
    float *yo = y + (ptrdiff_t)o * inner;
    if (inner == 1) {
      yo[0] = red_finish(OP, red_row(OP, xo, n), n);
      continue;
    }
    int32_t j = 0;
    for (; j + 16 <= inner; j += 16) red_cols(OP, 4, 4, xo + j, yo + j, n, inner);
    for (; j + 4 <= inner; j += 4) red_cols(OP, 1, 4, xo + j, yo + j, n, inner);
    switch (inner - j) {
    case 1: red_cols(OP, 1, 1, xo + j, yo + j, n, inner); break;
    case 2: red_cols(OP, 1, 2, xo + j, yo + j, n, inner); break;
    case 3: red_cols(OP, 1, 3, xo + j, yo + j, n, inner); break;
    default: break;
    }
  }
}

void rt_reduce_f32__simd128(const RtReduce *p) {
  if (p->dtype == 11) {
    if (p->op >= 0 && p->op < RT_RED_COUNT) reduce_f64(p);
    return;
  }
  const float *x = RT_PTR(const float, p->x);
  float *y = RT_PTR(float, p->y);
  switch (p->op) {
  case RT_RED_SUM: reduce_op(RT_RED_SUM, x, y, p->outer, p->n, p->inner); break;
  case RT_RED_MEAN: reduce_op(RT_RED_MEAN, x, y, p->outer, p->n, p->inner); break;
  case RT_RED_MAX: reduce_op(RT_RED_MAX, x, y, p->outer, p->n, p->inner); break;
  case RT_RED_MIN: reduce_op(RT_RED_MIN, x, y, p->outer, p->n, p->inner); break;
  case RT_RED_SUMSQ: reduce_op(RT_RED_SUMSQ, x, y, p->outer, p->n, p->inner); break;
  case RT_RED_PROD: reduce_op(RT_RED_PROD, x, y, p->outer, p->n, p->inner); break;
  case RT_RED_L1: reduce_op(RT_RED_L1, x, y, p->outer, p->n, p->inner); break;
  case RT_RED_L2: reduce_op(RT_RED_L2, x, y, p->outer, p->n, p->inner); break;
  case RT_RED_LOGSUM: reduce_op(RT_RED_LOGSUM, x, y, p->outer, p->n, p->inner); break;
  case RT_RED_LOGSUMEXP: reduce_lse(x, y, p->outer, p->n, p->inner); break;
  default: break;
  }
}

/* ------------------------------------------------------------------ SIMD cumsum */

/* float32, inner == 1: 4-lane prefix scans (two shifted adds) plus the running total broadcast in carry. */
static void cumsum_row_f32(const float *x, float *y, int32_t n, int excl, int rev) {
  v128_t z = wasm_f32x4_const_splat(0.0f), carry = z;
  if (!rev) {
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
      v128_t v = wasm_v128_load(x + i);
      v = wasm_f32x4_add(v, wasm_i32x4_shuffle(z, v, 0, 4, 5, 6));
      v = wasm_f32x4_add(v, wasm_i32x4_shuffle(z, v, 0, 1, 4, 5));
      v = wasm_f32x4_add(v, carry);                      /* inclusive sums */
      wasm_v128_store(y + i, excl ? wasm_i32x4_shuffle(carry, v, 0, 4, 5, 6) : v);
      carry = wasm_i32x4_shuffle(v, v, 3, 3, 3, 3);
    }
    float acc = wasm_f32x4_extract_lane(carry, 0);
    for (; i < n; i++) {
      float v = x[i];
      if (excl) { y[i] = acc; acc += v; }
      else { acc += v; y[i] = acc; }
    }
  } else {
    int32_t i = n - 4;
    for (; i >= 0; i -= 4) {
      v128_t v = wasm_v128_load(x + i);
      v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, z, 1, 2, 3, 4));
      v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, z, 2, 3, 4, 5));
      v = wasm_f32x4_add(v, carry);                      /* inclusive suffix sums */
      wasm_v128_store(y + i, excl ? wasm_i32x4_shuffle(v, carry, 1, 2, 3, 4) : v);
      carry = wasm_i32x4_shuffle(v, v, 0, 0, 0, 0);
    }
    float acc = wasm_f32x4_extract_lane(carry, 0);
    for (i += 3; i >= 0; i--) { /* the first n % 4 elements, from the end */
      float v = x[i];
      if (excl) { y[i] = acc; acc += v; }
      else { acc += v; y[i] = acc; }
    }
  }
}

/* float32, NL (1..4) adjacent columns walked down the n axis. */
RT_AI void cumsum_cols_f32(const float *x, float *y, int32_t n, ptrdiff_t inner, int excl, int rev, const int NL) {
  v128_t acc = wasm_f32x4_const_splat(0.0f);
  ptrdiff_t step = rev ? -inner : inner, q = rev ? (ptrdiff_t)(n - 1) * inner : 0;
  for (int32_t k = 0; k < n; k++, q += step) {
    v128_t v = rt_load_part(x + q, NL);
    if (excl) { rt_store_part(y + q, acc, NL); acc = wasm_f32x4_add(acc, v); }
    else { acc = wasm_f32x4_add(acc, v); rt_store_part(y + q, acc, NL); }
  }
}

/* int64, 2 adjacent columns. */
static void cumsum_cols_i64(const int64_t *x, int64_t *y, int32_t n, ptrdiff_t inner, int excl, int rev) {
  v128_t acc = wasm_i64x2_const_splat(0);
  ptrdiff_t step = rev ? -inner : inner, q = rev ? (ptrdiff_t)(n - 1) * inner : 0;
  for (int32_t k = 0; k < n; k++, q += step) {
    v128_t v = wasm_v128_load(x + q);
    if (excl) { wasm_v128_store(y + q, acc); acc = wasm_i64x2_add(acc, v); }
    else { acc = wasm_i64x2_add(acc, v); wasm_v128_store(y + q, acc); }
  }
}

void rt_cumsum__simd128(const RtCumSum *p) {
  int32_t n = p->n, inner = p->inner, excl = p->exclusive, rev = p->reverse;
  if (p->dtype == 11) { rt_cumsum__scalar(p); return; }   /* float64: the scalar loop */
  if (p->dtype != 1 && p->dtype != 7) return;
  for (int32_t o = 0; o < p->outer; o++) {
    ptrdiff_t base = (ptrdiff_t)o * n * inner;
    if (p->dtype == 1) {
      const float *x = RT_PTR(const float, p->x) + base;
      float *y = RT_PTR(float, p->y) + base;
      if (inner == 1) {
        cumsum_row_f32(x, y, n, excl, rev);
        continue;
      }
      int32_t j = 0;
      for (; j + 4 <= inner; j += 4) cumsum_cols_f32(x + j, y + j, n, inner, excl, rev, 4);
      switch (inner - j) {
      case 1: cumsum_cols_f32(x + j, y + j, n, inner, excl, rev, 1); break;
      case 2: cumsum_cols_f32(x + j, y + j, n, inner, excl, rev, 2); break;
      case 3: cumsum_cols_f32(x + j, y + j, n, inner, excl, rev, 3); break;
      default: break;
      }
    } else {
      const int64_t *x = RT_PTR(const int64_t, p->x) + base;
      int64_t *y = RT_PTR(int64_t, p->y) + base;
      int32_t j = 0;
      for (; j + 2 <= inner; j += 2) cumsum_cols_i64(x + j, y + j, n, inner, excl, rev);
      if (j < inner) cumsum_col_i64(x + j, y + j, n, inner, excl, rev);
    }
  }
}

RT_EXPORT("rt_reduce_f32") void rt_reduce_f32(const RtReduce *p) { rt_reduce_f32__simd128(p); }
#endif

/* the run-time axis form (RtCumSum.axis): outer/n/inner around the axis read now, or zeros for a bad axis */
static int cumsum_resolve(const RtCumSum *p, RtCumSum *q) {
  *q = *p;
  if (!p->axis) return 1;
  int64_t a = p->axis_i64 ? *RT_PTR(const int64_t, p->axis) : (int64_t)*RT_PTR(const int32_t, p->axis);
  if (a < 0) a += p->rank;
  ptrdiff_t total = 1;
  for (int32_t i = 0; i < p->rank; i++) total *= p->dims[i];
  if (a < 0 || a >= p->rank) {
    int32_t es = p->dtype == 1 ? 4 : 8;
    unsigned char *y = RT_PTR(unsigned char, p->y);
    for (ptrdiff_t i = 0; i < total * es; i++) y[i] = 0;
    return 0;
  }
  q->outer = q->inner = 1;
  for (int32_t i = 0; i < a; i++) q->outer *= p->dims[i];
  for (int32_t i = (int32_t)a + 1; i < p->rank; i++) q->inner *= p->dims[i];
  q->n = p->dims[a];
  return 1;
}

#if RT_SIMD128
RT_EXPORT("rt_cumsum") void rt_cumsum(const RtCumSum *p) {
  RtCumSum q;
  if (cumsum_resolve(p, &q)) rt_cumsum__simd128(&q);
}
#else
RT_EXPORT("rt_reduce_f32") void rt_reduce_f32(const RtReduce *p) { rt_reduce_f32__scalar(p); }
RT_EXPORT("rt_cumsum") void rt_cumsum(const RtCumSum *p) {
  RtCumSum q;
  if (cumsum_resolve(p, &q)) rt_cumsum__scalar(&q);
}
#endif
