/* elementwise.c — broadcasting binary ops, unary activations and per-channel affine (scale/shift). */
#include "rt_internal.h"

/* Out-of-line activations (the kinds after RT_ACT_RECIPROCAL), shared by every epilogue. */
__attribute__((noinline)) float rt_act1_ext_call(int32_t kind, float a, float b, float v) { return rt_act1_ext(kind, a, b, v); }
#if RT_SIMD128
__attribute__((noinline)) v128_t rt_act_ext_f32x4_call(int32_t kind, float a, float b, v128_t v) {
  return rt_act_ext_f32x4(kind, a, b, v);
}
#endif

/* ------------------------------------------------------------------ scalar reference */

void rt_binary_f32__scalar(const RtBinary *p) {
  const float *a = RT_PTR(const float, p->a), *b = RT_PTR(const float, p->b);
  float *y = RT_PTR(float, p->y);
  int32_t idx[RT_MAX_RANK] = {0};
  ptrdiff_t total = 1;
  for (int32_t d = 0; d < p->rank; d++) total *= p->dim[d];
  for (ptrdiff_t i = 0; i < total; i++) {
    ptrdiff_t ao = 0, bo = 0;
    for (int32_t d = 0; d < p->rank; d++) {
      ao += (ptrdiff_t)idx[d] * p->astride[d];
      bo += (ptrdiff_t)idx[d] * p->bstride[d];
    }
    y[i] = rt_act1(p->act.kind, p->act.a, p->act.b, rt_bin1(p->op, a[ao], b[bo]));
    for (int32_t d = p->rank - 1; d >= 0; d--) { /* odometer, last dim fastest */
      if (++idx[d] < p->dim[d]) break;
      idx[d] = 0;
    }
  }
}

void rt_unary_f32__scalar(const RtUnary *p) {
  const float *x = RT_PTR(const float, p->x);
  float *y = RT_PTR(float, p->y);
  for (int32_t i = 0; i < p->n; i++) y[i] = rt_act1(p->act.kind, p->act.a, p->act.b, x[i]);
}

void rt_channel_affine_f32__scalar(const RtChannelAffine *p) {
  const float *x = RT_PTR(const float, p->x), *sc = RT_PTR(const float, p->scale);
  const float *sh = RT_PTR(const float, p->shift);
  float *y = RT_PTR(float, p->y);
  ptrdiff_t i = 0;
  for (int32_t o = 0; o < p->outer; o++)
    for (int32_t c = 0; c < p->c; c++)
      for (int32_t j = 0; j < p->inner; j++, i++)
        y[i] = rt_act1(p->act.kind, p->act.a, p->act.b, x[i] * sc[c] + sh[c]);
}

#if RT_SIMD128

/* Broadcast shape after dropping size-1 dims and merging dims that are contiguous for y, a and b.
 * Index 0 is the innermost dim. */
typedef struct { int32_t rank, dim[RT_MAX_RANK], as[RT_MAX_RANK], bs[RT_MAX_RANK]; } Bcast;

static void coalesce(const RtBinary *p, Bcast *s) {
  int32_t r = 0;
  for (int32_t d = p->rank - 1; d >= 0; d--) {
    int32_t n = p->dim[d], as = p->astride[d], bs = p->bstride[d];
    if (n == 1) continue;
    if (r > 0 && as == s->as[r - 1] * s->dim[r - 1] && bs == s->bs[r - 1] * s->dim[r - 1]) {
      s->dim[r - 1] *= n;
      continue;
    }
    s->dim[r] = n;
    s->as[r] = as;
    s->bs[r] = bs;
    r++;
  }
  if (r == 0) {
    s->dim[0] = 1;
    s->as[0] = s->bs[0] = 0;
    r = 1;
  }
  s->rank = r;
}

/* One innermost row of n outputs; op is a compile-time constant after inlining. */
RT_AI void bin_row(const int op, const float *a, int32_t as, const float *b, int32_t bs, float *y,
                   int32_t n, const RtAct *act) {
  int32_t i = 0, kind = act->kind;
  float aa = act->a, ab = act->b;
  if ((as == 1 || as == 0) && (bs == 1 || bs == 0)) {
    v128_t va = wasm_v128_load32_splat(a), vb = wasm_v128_load32_splat(b);
    for (; i + 4 <= n; i += 4) {
      if (as) va = wasm_v128_load(a + i);
      if (bs) vb = wasm_v128_load(b + i);
      wasm_v128_store(y + i, rt_act_f32x4(kind, aa, ab, rt_bin_f32x4(op, va, vb)));
    }
  }
  for (; i < n; i++)
    y[i] = rt_act1(kind, aa, ab, rt_bin1(op, a[(ptrdiff_t)i * as], b[(ptrdiff_t)i * bs]));
}

RT_AI void bin_all(const int op, const Bcast *s, const float *a, const float *b, float *y,
                   const RtAct *act) {
  int32_t idx[RT_MAX_RANK] = {0};
  ptrdiff_t rows = 1;
  for (int32_t d = 1; d < s->rank; d++) rows *= s->dim[d];
  int32_t n = s->dim[0];
  for (ptrdiff_t r = 0; r < rows; r++) {
    ptrdiff_t ao = 0, bo = 0;
    for (int32_t d = 1; d < s->rank; d++) {
      ao += (ptrdiff_t)idx[d] * s->as[d];
      bo += (ptrdiff_t)idx[d] * s->bs[d];
    }
    bin_row(op, a + ao, s->as[0], b + bo, s->bs[0], y + r * n, n, act);
    for (int32_t d = 1; d < s->rank; d++) {
      if (++idx[d] < s->dim[d]) break;
      idx[d] = 0;
    }
  }
}

/* One function per op (not inlined): V8 optimizes only the ops a model runs, each on its own. */
#define BIN_OP_FN(OP, NAME) \
  __attribute__((noinline)) static void NAME(const Bcast *s, const float *a, const float *b, float *y, const RtAct *act) { \
    bin_all(OP, s, a, b, y, act); \
  }
BIN_OP_FN(RT_BIN_ADD, bin_add)
BIN_OP_FN(RT_BIN_SUB, bin_sub)
BIN_OP_FN(RT_BIN_MUL, bin_mul)
BIN_OP_FN(RT_BIN_DIV, bin_div)
BIN_OP_FN(RT_BIN_MAX, bin_max)
BIN_OP_FN(RT_BIN_MIN, bin_min)
BIN_OP_FN(RT_BIN_POW, bin_pow)
BIN_OP_FN(RT_BIN_PRELU, bin_prelu)
#undef BIN_OP_FN

void rt_binary_f32__simd128(const RtBinary *p) {
  const float *a = RT_PTR(const float, p->a), *b = RT_PTR(const float, p->b);
  float *y = RT_PTR(float, p->y);
  Bcast s;
  coalesce(p, &s);
  switch (p->op) {
  case RT_BIN_ADD: bin_add(&s, a, b, y, &p->act); break;
  case RT_BIN_SUB: bin_sub(&s, a, b, y, &p->act); break;
  case RT_BIN_MUL: bin_mul(&s, a, b, y, &p->act); break;
  case RT_BIN_DIV: bin_div(&s, a, b, y, &p->act); break;
  case RT_BIN_MAX: bin_max(&s, a, b, y, &p->act); break;
  case RT_BIN_MIN: bin_min(&s, a, b, y, &p->act); break;
  case RT_BIN_POW: bin_pow(&s, a, b, y, &p->act); break;
  case RT_BIN_PRELU: bin_prelu(&s, a, b, y, &p->act); break;
  default: rt_binary_f32__scalar(p); break;
  }
}

/* y[i] = act(x[i]); the tail goes through the same f32x4 code with partial loads/stores. The kind is a
 * constant after inlining, so the newer (out-of-line elsewhere) kinds are inlined here too. */
RT_AI v128_t unary_act(const int kind, float aa, float ab, v128_t v) {
  return kind > RT_ACT_RECIPROCAL && kind != RT_ACT_HARDSWISH_AFFINE ? rt_act_ext_f32x4(kind, aa, ab, v)
                                                                       : rt_act_f32x4(kind, aa, ab, v);
}
RT_AI void unary_run(const int kind, const float *x, float *y, int32_t n, float aa, float ab) {
  int32_t i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, unary_act(kind, aa, ab, wasm_v128_load(x + i)));
  int32_t t = n - i;
  if (t > 0) rt_store_part(y + i, unary_act(kind, aa, ab, rt_load_part(x + i, t)), t);
}

void rt_unary_f32__simd128(const RtUnary *p) {
  const float *x = RT_PTR(const float, p->x);
  float *y = RT_PTR(float, p->y);
  float aa = p->act.a, ab = p->act.b;
  switch (p->act.kind) {
#define CASE(K) case K: unary_run(K, x, y, p->n, aa, ab); break;
  CASE(RT_ACT_NONE) CASE(RT_ACT_RELU) CASE(RT_ACT_CLIP) CASE(RT_ACT_SIGMOID) CASE(RT_ACT_HARDSIGMOID)
  CASE(RT_ACT_HARDSWISH) CASE(RT_ACT_LEAKYRELU) CASE(RT_ACT_TANH) CASE(RT_ACT_SILU) CASE(RT_ACT_EXP)
  CASE(RT_ACT_NEG) CASE(RT_ACT_ABS) CASE(RT_ACT_SQRT) CASE(RT_ACT_RECIPROCAL) CASE(RT_ACT_LOG) CASE(RT_ACT_COS)
  CASE(RT_ACT_SIN) CASE(RT_ACT_ERF) CASE(RT_ACT_ELU) CASE(RT_ACT_SELU) CASE(RT_ACT_CELU) CASE(RT_ACT_SOFTSIGN)
  CASE(RT_ACT_FLOOR) CASE(RT_ACT_CEIL) CASE(RT_ACT_ROUND) CASE(RT_ACT_SIGN) CASE(RT_ACT_THRESHOLDEDRELU)
  CASE(RT_ACT_GELU) CASE(RT_ACT_GELU_TANH) CASE(RT_ACT_HARDSWISH_AFFINE) CASE(RT_ACT_SHRINK)
#undef CASE
  default: rt_unary_f32__scalar(p); break;
  }
}

void rt_channel_affine_f32__simd128(const RtChannelAffine *p) {
  const float *x = RT_PTR(const float, p->x), *sc = RT_PTR(const float, p->scale);
  const float *sh = RT_PTR(const float, p->shift);
  float *y = RT_PTR(float, p->y);
  int32_t kind = p->act.kind, inner = p->inner, nc = p->c;
  float aa = p->act.a, ab = p->act.b;
  if (inner == 1) { /* [outer][c]: vectorize over channels */
    for (int32_t o = 0; o < p->outer; o++) {
      const float *xo = x + (ptrdiff_t)o * nc;
      float *yo = y + (ptrdiff_t)o * nc;
      int32_t c = 0;
      for (; c + 4 <= nc; c += 4) {
        v128_t v = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(xo + c), wasm_v128_load(sc + c)),
                                  wasm_v128_load(sh + c));
        wasm_v128_store(yo + c, rt_act_f32x4(kind, aa, ab, v));
      }
      for (; c < nc; c++) yo[c] = rt_act1(kind, aa, ab, xo[c] * sc[c] + sh[c]);
    }
    return;
  }
  ptrdiff_t off = 0;
  for (int32_t o = 0; o < p->outer; o++)
    for (int32_t c = 0; c < nc; c++, off += inner) {
      const float *xr = x + off;
      float *yr = y + off;
      v128_t vs = wasm_f32x4_splat(sc[c]), vt = wasm_f32x4_splat(sh[c]);
      int32_t j = 0;
      for (; j + 4 <= inner; j += 4)
        wasm_v128_store(yr + j, rt_act_f32x4(kind, aa, ab,
                                             wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(xr + j), vs), vt)));
      for (; j < inner; j++) yr[j] = rt_act1(kind, aa, ab, xr[j] * sc[c] + sh[c]);
    }
}

RT_EXPORT("rt_binary_f32") void rt_binary_f32(const RtBinary *p) { rt_binary_f32__simd128(p); }
RT_EXPORT("rt_unary_f32") void rt_unary_f32(const RtUnary *p) { rt_unary_f32__simd128(p); }
RT_EXPORT("rt_channel_affine_f32") void rt_channel_affine_f32(const RtChannelAffine *p) {
  rt_channel_affine_f32__simd128(p);
}
#else
RT_EXPORT("rt_binary_f32") void rt_binary_f32(const RtBinary *p) { rt_binary_f32__scalar(p); }
RT_EXPORT("rt_unary_f32") void rt_unary_f32(const RtUnary *p) { rt_unary_f32__scalar(p); }
RT_EXPORT("rt_channel_affine_f32") void rt_channel_affine_f32(const RtChannelAffine *p) {
  rt_channel_affine_f32__scalar(p);
}
#endif
