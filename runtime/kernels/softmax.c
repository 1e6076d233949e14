/* softmax.c — Softmax / LogSoftmax over the middle axis of an [outer][n][inner] tensor. */
#include "rt_internal.h"

/* Hardmax: 1 at the first index of the maximum along n, 0 elsewhere (NaN is never the maximum) */
static void hardmax(const RtSoftmax *p) {
  const float *x = RT_PTR(const float, p->x);
  float *y = RT_PTR(float, p->y);
  int32_t n = p->n, inner = p->inner;
  for (int32_t o = 0; o < p->outer; o++)
    for (int32_t j = 0; j < inner; j++) {
      const float *xc = x + (ptrdiff_t)o * n * inner + j;
      float *yc = y + (ptrdiff_t)o * n * inner + j;
      int32_t best = 0;
      for (int32_t i = 1; i < n; i++) if (xc[(ptrdiff_t)i * inner] > xc[(ptrdiff_t)best * inner]) best = i;
      for (int32_t i = 0; i < n; i++) yc[(ptrdiff_t)i * inner] = i == best ? 1.0f : 0.0f;
    }
}

void rt_softmax_f32__scalar(const RtSoftmax *p) {
  const float *x = RT_PTR(const float, p->x);
  float *y = RT_PTR(float, p->y);
  int32_t n = p->n, inner = p->inner;
  if (p->log == 2) { hardmax(p); return; }
  for (int32_t o = 0; o < p->outer; o++)
    for (int32_t j = 0; j < inner; j++) {
      const float *xc = x + (ptrdiff_t)o * n * inner + j;
      float *yc = y + (ptrdiff_t)o * n * inner + j;
      float m = -RT_INF, s = 0.0f;
      for (int32_t i = 0; i < n; i++) m = m < xc[(ptrdiff_t)i * inner] ? xc[(ptrdiff_t)i * inner] : m;
      for (int32_t i = 0; i < n; i++) s += rt_expf(xc[(ptrdiff_t)i * inner] - m);
      if (p->log) {
        float ls = m + rt_logf(s);
        for (int32_t i = 0; i < n; i++) yc[(ptrdiff_t)i * inner] = xc[(ptrdiff_t)i * inner] - ls;
      } else {
        float r = 1.0f / s;
        for (int32_t i = 0; i < n; i++) yc[(ptrdiff_t)i * inner] = rt_expf(xc[(ptrdiff_t)i * inner] - m) * r;
      }
    }
}

#if RT_SIMD128

/* inner == 1: one contiguous row of n; the tail uses partial loads (padding lanes are -inf). */
static void softmax_row(const float *x, float *y, int32_t n, int lg) {
  int32_t i = 0, t = n & 3, nv = n - t;
  v128_t ninf = wasm_f32x4_splat(-RT_INF);
  v128_t tailmask = wasm_i32x4_gt(wasm_i32x4_splat(t), wasm_i32x4_make(0, 1, 2, 3));
  v128_t vm = ninf;
  for (i = 0; i < nv; i += 4) vm = wasm_f32x4_pmax(vm, wasm_v128_load(x + i));
  if (t) vm = wasm_f32x4_pmax(vm, wasm_v128_bitselect(rt_load_part(x + nv, t), ninf, tailmask));
  float m = rt_hmax_f32x4(vm);
  v128_t mv = wasm_f32x4_splat(m), vs = wasm_f32x4_const_splat(0.0f);
  for (i = 0; i < nv; i += 4) {
    v128_t e = rt_exp_f32x4(wasm_f32x4_sub(wasm_v128_load(x + i), mv));
    if (!lg) wasm_v128_store(y + i, e);
    vs = wasm_f32x4_add(vs, e);
  }
  if (t) {
    v128_t e = rt_exp_f32x4(wasm_f32x4_sub(wasm_v128_bitselect(rt_load_part(x + nv, t), ninf, tailmask), mv));
    if (!lg) rt_store_part(y + nv, e, t);
    vs = wasm_f32x4_add(vs, e);
  }
  float s = rt_hsum_f32x4(vs);
  if (lg) {
    v128_t ls = wasm_f32x4_splat(m + rt_logf(s));
    for (i = 0; i < nv; i += 4) wasm_v128_store(y + i, wasm_f32x4_sub(wasm_v128_load(x + i), ls));
    if (t) rt_store_part(y + nv, wasm_f32x4_sub(rt_load_part(x + nv, t), ls), t);
  } else {
    v128_t r = wasm_f32x4_splat(1.0f / s);
    for (i = 0; i < nv; i += 4) wasm_v128_store(y + i, wasm_f32x4_mul(wasm_v128_load(y + i), r));
    if (t) rt_store_part(y + nv, wasm_f32x4_mul(rt_load_part(y + nv, t), r), t);
  }
}

/* inner > 1: 4 adjacent columns at a time (nl valid lanes), walking down the n axis. */
RT_AI void softmax_cols(const float *x, float *y, int32_t n, int32_t inner, int lg, const int nl) {
  v128_t vm = wasm_f32x4_splat(-RT_INF), vs = wasm_f32x4_const_splat(0.0f);
  for (int32_t i = 0; i < n; i++) vm = wasm_f32x4_pmax(vm, rt_load_part(x + (ptrdiff_t)i * inner, nl));
  for (int32_t i = 0; i < n; i++) {
    v128_t e = rt_exp_f32x4(wasm_f32x4_sub(rt_load_part(x + (ptrdiff_t)i * inner, nl), vm));
    if (!lg) rt_store_part(y + (ptrdiff_t)i * inner, e, nl);
    vs = wasm_f32x4_add(vs, e);
  }
  if (lg) {
    v128_t ls = wasm_f32x4_add(vm, rt_log_f32x4(vs));
    for (int32_t i = 0; i < n; i++)
      rt_store_part(y + (ptrdiff_t)i * inner, wasm_f32x4_sub(rt_load_part(x + (ptrdiff_t)i * inner, nl), ls), nl);
  } else {
    v128_t r = wasm_f32x4_div(wasm_f32x4_splat(1.0f), vs);
    for (int32_t i = 0; i < n; i++)
      rt_store_part(y + (ptrdiff_t)i * inner, wasm_f32x4_mul(rt_load_part(y + (ptrdiff_t)i * inner, nl), r), nl);
  }
}

void rt_softmax_f32__simd128(const RtSoftmax *p) {
  const float *x = RT_PTR(const float, p->x);
  float *y = RT_PTR(float, p->y);
  int32_t n = p->n, inner = p->inner;
  if (n <= 0) return;
  if (p->log == 2) { hardmax(p); return; }
  for (int32_t o = 0; o < p->outer; o++) {
    const float *xo = x + (ptrdiff_t)o * n * inner;
    float *yo = y + (ptrdiff_t)o * n * inner;
    if (inner == 1) {
      softmax_row(xo, yo, n, p->log);
      continue;
    }
    int32_t j = 0;
    for (; j + 4 <= inner; j += 4) softmax_cols(xo + j, yo + j, n, inner, p->log, 4);
    switch (inner - j) {
    case 1: softmax_cols(xo + j, yo + j, n, inner, p->log, 1); break;
    case 2: softmax_cols(xo + j, yo + j, n, inner, p->log, 2); break;
    case 3: softmax_cols(xo + j, yo + j, n, inner, p->log, 3); break;
    default: break;
    }
  }
}

RT_EXPORT("rt_softmax_f32") void rt_softmax_f32(const RtSoftmax *p) { rt_softmax_f32__simd128(p); }
#else
RT_EXPORT("rt_softmax_f32") void rt_softmax_f32(const RtSoftmax *p) { rt_softmax_f32__scalar(p); }
#endif
