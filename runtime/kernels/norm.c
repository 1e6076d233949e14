/* norm.c — row normalization: LayerNorm and RMSNorm over rows of n contiguous floats (fused by the compiler),
 * optionally storing each row's mean and inverse standard deviation (LayerNormalization's extra outputs);
 * BatchNormalization with run-time statistics or in training mode (rt_batchnorm_f32, scalar). */
#include "rt_internal.h"

void rt_norm_f32__scalar(const RtNorm *p) {
  const float *x = RT_PTR(const float, p->x);
  const float *scale = p->scale ? RT_PTR(const float, p->scale) : 0, *bias = p->bias ? RT_PTR(const float, p->bias) : 0;
  float *y = RT_PTR(float, p->y);
  int32_t n = p->n;
  for (int32_t r = 0; r < p->rows; r++, x += n, y += n) {
    float mean = 0.0f, var = 0.0f;
    if (!p->rms) {
      for (int32_t i = 0; i < n; i++) mean += x[i];
      mean = n ? mean / (float)n : 0.0f;
    }
    for (int32_t i = 0; i < n; i++) var += (x[i] - mean) * (x[i] - mean);
    var = n ? var / (float)n : 0.0f;
    float inv = 1.0f / __builtin_sqrtf(var + p->eps);
    if (p->mean) RT_PTR(float, p->mean)[r] = mean;
    if (p->inv_std) RT_PTR(float, p->inv_std)[r] = inv;
    for (int32_t i = 0; i < n; i++) {
      float v = (x[i] - mean) * inv;
      if (scale) v *= scale[i];
      if (bias) v += bias[i];
      y[i] = v;
    }
  }
}

#if RT_SIMD128
/* sum of x[0..n) (minus c, squared when sq) in four f32x4 partial sums */
RT_AI float row_sum(const float *x, int32_t n, float c, int sq) {
  v128_t vc = wasm_f32x4_splat(c), s0 = wasm_f32x4_const_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
  int32_t i = 0;
#define TERM(off) (sq ? wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + i + (off)), vc), wasm_f32x4_sub(wasm_v128_load(x + i + (off)), vc)) \
                      : wasm_v128_load(x + i + (off)))
  for (; i + 16 <= n; i += 16) {
    s0 = wasm_f32x4_add(s0, TERM(0));
    s1 = wasm_f32x4_add(s1, TERM(4));
    s2 = wasm_f32x4_add(s2, TERM(8));
    s3 = wasm_f32x4_add(s3, TERM(12));
  }
  for (; i + 4 <= n; i += 4) s0 = wasm_f32x4_add(s0, TERM(0));
#undef TERM
  float t = rt_hsum_f32x4(wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3)));
  for (; i < n; i++) t += sq ? (x[i] - c) * (x[i] - c) : x[i];
  return t;
}

void rt_norm_f32__simd128(const RtNorm *p) {
  const float *x = RT_PTR(const float, p->x);
  const float *scale = p->scale ? RT_PTR(const float, p->scale) : 0, *bias = p->bias ? RT_PTR(const float, p->bias) : 0;
  float *y = RT_PTR(float, p->y);
  int32_t n = p->n;
  for (int32_t r = 0; r < p->rows; r++, x += n, y += n) {
    float mean = p->rms || !n ? 0.0f : row_sum(x, n, 0.0f, 0) / (float)n;
    float var = n ? row_sum(x, n, mean, 1) / (float)n : 0.0f;
    float inv = 1.0f / __builtin_sqrtf(var + p->eps);
    if (p->mean) RT_PTR(float, p->mean)[r] = mean;
    if (p->inv_std) RT_PTR(float, p->inv_std)[r] = inv;
    v128_t vm = wasm_f32x4_splat(mean), vi = wasm_f32x4_splat(inv);
    int32_t i = 0;
    for (; i + 4 <= n; i += 4) {
      v128_t v = wasm_f32x4_mul(wasm_f32x4_sub(wasm_v128_load(x + i), vm), vi);
      if (scale) v = wasm_f32x4_mul(v, wasm_v128_load(scale + i));
      if (bias) v = wasm_f32x4_add(v, wasm_v128_load(bias + i));
      wasm_v128_store(y + i, v);
    }
    for (; i < n; i++) {
      float v = (x[i] - mean) * inv;
      if (scale) v *= scale[i];
      if (bias) v += bias[i];
      y[i] = v;
    }
  }
}

RT_EXPORT("rt_norm_f32") void rt_norm_f32(const RtNorm *p) { rt_norm_f32__simd128(p); }
#else
RT_EXPORT("rt_norm_f32") void rt_norm_f32(const RtNorm *p) { rt_norm_f32__scalar(p); }
#endif

RT_EXPORT("rt_batchnorm_f32") void rt_batchnorm_f32(const RtBatchNorm *p) {
  const float *x = RT_PTR(const float, p->x), *scale = RT_PTR(const float, p->scale), *bias = RT_PTR(const float, p->bias);
  const float *mean = RT_PTR(const float, p->mean), *var = RT_PTR(const float, p->var);
  float *y = RT_PTR(float, p->y);
  const ptrdiff_t hw = p->hw, chw = (ptrdiff_t)p->c * hw;
  for (int32_t ch = 0; ch < p->c; ch++) {
    float m = mean[ch], v = var[ch];
    if (p->training) {   /* the batch's statistics, two passes in double */
      double s = 0.0, q = 0.0, cnt = (double)p->n * (double)hw;
      for (int32_t b = 0; b < p->n; b++)
        for (ptrdiff_t i = 0; i < hw; i++) s += x[b * chw + ch * hw + i];
      double bm = cnt > 0 ? s / cnt : 0.0;
      for (int32_t b = 0; b < p->n; b++)
        for (ptrdiff_t i = 0; i < hw; i++) { double d = x[b * chw + ch * hw + i] - bm; q += d * d; }
      double bv = cnt > 0 ? q / cnt : 0.0;
      if (p->rmean) RT_PTR(float, p->rmean)[ch] = (float)((double)m * p->momentum + bm * (1.0 - (double)p->momentum));
      if (p->rvar) RT_PTR(float, p->rvar)[ch] = (float)((double)v * p->momentum + bv * (1.0 - (double)p->momentum));
      m = (float)bm;
      v = (float)bv;
    }
    const float sd = __builtin_sqrtf(v + p->eps), sc = scale[ch], bi = bias[ch];
    for (int32_t b = 0; b < p->n; b++) {
      const float *xr = x + b * chw + ch * hw;
      float *yr = y + b * chw + ch * hw;
      for (ptrdiff_t i = 0; i < hw; i++) yr[i] = sc * (xr[i] - m) / sd + bi;
    }
  }
}
