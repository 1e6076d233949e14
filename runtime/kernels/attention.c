/* attention.c — fused attention (RtAttention, rt_abi.h): scores, scale, mask, softmax and the
 * weighted sum of V in one pass per query row, with the scores in an n-float scratch row. */
#include "rt_internal.h"

static void attn_batch_offsets(const RtAttention *p, int32_t bi, ptrdiff_t off[4]) {
  off[0] = off[1] = off[2] = off[3] = 0;
  for (int32_t d = p->nb - 1; d >= 0; d--) {
    int32_t idx = bi % p->bdim[d];
    bi /= p->bdim[d];
    off[0] += (ptrdiff_t)idx * p->qstride[d];
    off[1] += (ptrdiff_t)idx * p->kstride[d];
    off[2] += (ptrdiff_t)idx * p->vstride[d];
    off[3] += (ptrdiff_t)idx * p->mstride[d];
  }
}

static int32_t attn_batches(const RtAttention *p) {
  int32_t nb = 1;
  for (int32_t d = 0; d < p->nb; d++) nb *= p->bdim[d];
  return nb;
}

void rt_attention_f32__scalar(const RtAttention *p) {
  const float *q = RT_PTR(const float, p->q), *k = RT_PTR(const float, p->k), *v = RT_PTR(const float, p->v);
  const float *mask = p->mask ? RT_PTR(const float, p->mask) : 0;
  float *y = RT_PTR(float, p->y), *s = RT_PTR(float, p->scratch);
  int32_t nbat = attn_batches(p), n = p->n, d = p->d, dv = p->dv;
  if (n <= 0) {                              /* no keys: an empty weighted sum, as the unfused MatMul */
    for (ptrdiff_t j = 0; j < (ptrdiff_t)nbat * p->m * dv; j++) y[j] = 0.0f;
    return;
  }
  for (int32_t b = 0; b < nbat; b++) {
    ptrdiff_t off[4];
    attn_batch_offsets(p, b, off);
    for (int32_t i = 0; i < p->m; i++) {
      const float *qi = q + off[0] + (ptrdiff_t)i * d;
      float *yi = y + ((ptrdiff_t)b * p->m + i) * dv;
      float mx = -RT_INF, sum = 0.0f;
      for (int32_t t = 0; t < n; t++) {
        float acc = 0.0f;
        for (int32_t e = 0; e < d; e++) acc += qi[e] * k[off[1] + (ptrdiff_t)t * d + e];
        acc *= p->scale;
        if (mask) acc += mask[off[3] + (ptrdiff_t)i * p->mask_rs + t];
        s[t] = acc;
        mx = mx < acc ? acc : mx;
      }
      for (int32_t t = 0; t < n; t++) { s[t] = rt_expf(s[t] - mx); sum += s[t]; }
      float r = 1.0f / sum;
      for (int32_t e = 0; e < dv; e++) {
        float acc = 0.0f;
        for (int32_t t = 0; t < n; t++) acc += s[t] * v[off[2] + (ptrdiff_t)t * dv + e];
        yi[e] = acc * r;
      }
    }
  }
}

#if RT_SIMD128

/* dot(q, k) over d floats, 4-wide with a scalar tail; the partial sums stay in one vector */
RT_AI v128_t dot_part(const float *q, const float *k, int32_t d) {
  v128_t acc = wasm_f32x4_const_splat(0.0f);
  int32_t e = 0;
  for (; e + 4 <= d; e += 4) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load(q + e), wasm_v128_load(k + e)));
  if (e < d) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(rt_load_part(q + e, d - e), rt_load_part(k + e, d - e)));
  return acc;
}

/* lane j of the result = the sum of the lanes of aj */
RT_AI v128_t hsum4(v128_t a0, v128_t a1, v128_t a2, v128_t a3) {
  v128_t lo01 = wasm_i32x4_shuffle(a0, a1, 0, 4, 1, 5), hi01 = wasm_i32x4_shuffle(a0, a1, 2, 6, 3, 7);
  v128_t lo23 = wasm_i32x4_shuffle(a2, a3, 0, 4, 1, 5), hi23 = wasm_i32x4_shuffle(a2, a3, 2, 6, 3, 7);
  v128_t s01 = wasm_f32x4_add(lo01, hi01), s23 = wasm_f32x4_add(lo23, hi23);   /* a0 a1 a0 a1 | a2 a3 a2 a3 */
  return wasm_f32x4_add(wasm_i64x2_shuffle(s01, s23, 0, 2), wasm_i64x2_shuffle(s01, s23, 1, 3));
}

/* One query row: scores into s (n floats), softmax in place, y = s . V / sum. */
static void attn_row(const float *qi, const float *k, const float *v, const float *mrow, float *s, float *yi,
                     int32_t n, int32_t d, int32_t dv, float scale) {
  v128_t vscale = wasm_f32x4_splat(scale), vmax = wasm_f32x4_splat(-RT_INF);
  int32_t t = 0;
  for (; t + 4 <= n; t += 4) {
    const float *kt = k + (ptrdiff_t)t * d;
    v128_t sc = wasm_f32x4_mul(hsum4(dot_part(qi, kt, d), dot_part(qi, kt + d, d), dot_part(qi, kt + 2 * d, d),
                                     dot_part(qi, kt + 3 * d, d)), vscale);
    if (mrow) sc = wasm_f32x4_add(sc, wasm_v128_load(mrow + t));
    wasm_v128_store(s + t, sc);
    vmax = wasm_f32x4_pmax(vmax, sc);
  }
  float mx = rt_hmax_f32x4(vmax);
  for (; t < n; t++) {
    float x = rt_hsum_f32x4(dot_part(qi, k + (ptrdiff_t)t * d, d)) * scale;
    if (mrow) x += mrow[t];
    s[t] = x;
    mx = mx < x ? x : mx;
  }
  v128_t vm = wasm_f32x4_splat(mx), vsum = wasm_f32x4_const_splat(0.0f);
  for (t = 0; t + 4 <= n; t += 4) {
    v128_t e = rt_exp_f32x4(wasm_f32x4_sub(wasm_v128_load(s + t), vm));
    wasm_v128_store(s + t, e);
    vsum = wasm_f32x4_add(vsum, e);
  }
  float sum = rt_hsum_f32x4(vsum);
  for (; t < n; t++) { s[t] = rt_expf(s[t] - mx); sum += s[t]; }
  v128_t r = wasm_f32x4_splat(1.0f / sum);
  /* y = sum_t s[t] v[t]: 8 columns at a time (two accumulators per column group, t unrolled by 2) */
  int32_t e = 0;
  for (; e + 8 <= dv; e += 8) {
    v128_t a0 = wasm_f32x4_const_splat(0.0f), a1 = a0, b0 = a0, b1 = a0;
    const float *vt = v + e;
    for (t = 0; t + 2 <= n; t += 2, vt += 2 * (ptrdiff_t)dv) {
      v128_t p0 = wasm_v128_load32_splat(s + t), p1 = wasm_v128_load32_splat(s + t + 1);
      a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(p0, wasm_v128_load(vt)));
      a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(p0, wasm_v128_load(vt + 4)));
      b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(p1, wasm_v128_load(vt + dv)));
      b1 = wasm_f32x4_add(b1, wasm_f32x4_mul(p1, wasm_v128_load(vt + dv + 4)));
    }
    if (t < n) {
      v128_t p0 = wasm_v128_load32_splat(s + t);
      a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(p0, wasm_v128_load(vt)));
      a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(p0, wasm_v128_load(vt + 4)));
    }
    wasm_v128_store(yi + e, wasm_f32x4_mul(wasm_f32x4_add(a0, b0), r));
    wasm_v128_store(yi + e + 4, wasm_f32x4_mul(wasm_f32x4_add(a1, b1), r));
  }
  for (; e < dv; e += 4) {
    int32_t nl = RT_MIN(4, dv - e);
    v128_t a0 = wasm_f32x4_const_splat(0.0f);
    for (t = 0; t < n; t++) a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(wasm_v128_load32_splat(s + t), rt_load_part(v + (ptrdiff_t)t * dv + e, nl)));
    rt_store_part(yi + e, wasm_f32x4_mul(a0, r), nl);
  }
}

void rt_attention_f32__simd128(const RtAttention *p) {
  const float *q = RT_PTR(const float, p->q), *k = RT_PTR(const float, p->k), *v = RT_PTR(const float, p->v);
  const float *mask = p->mask ? RT_PTR(const float, p->mask) : 0;
  float *y = RT_PTR(float, p->y), *s = RT_PTR(float, p->scratch);
  int32_t nbat = attn_batches(p);
  if (p->n <= 0) {                           /* no keys: an empty weighted sum, as the unfused MatMul */
    rt_memset(y, 0, (size_t)nbat * (size_t)p->m * (size_t)p->dv * sizeof(float));
    return;
  }
  for (int32_t b = 0; b < nbat; b++) {
    ptrdiff_t off[4];
    attn_batch_offsets(p, b, off);
    for (int32_t i = 0; i < p->m; i++)
      attn_row(q + off[0] + (ptrdiff_t)i * p->d, k + off[1], v + off[2],
               mask ? mask + off[3] + (ptrdiff_t)i * p->mask_rs : 0, s,
               y + ((ptrdiff_t)b * p->m + i) * p->dv, p->n, p->d, p->dv, p->scale);
  }
}

RT_EXPORT("rt_attention_f32") void rt_attention_f32(const RtAttention *p) { rt_attention_f32__simd128(p); }
#else
RT_EXPORT("rt_attention_f32") void rt_attention_f32(const RtAttention *p) { rt_attention_f32__scalar(p); }
#endif
