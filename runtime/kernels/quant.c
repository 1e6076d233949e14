/* quant.c — per-tensor QuantizeLinear and DequantizeLinear (RtQuant), their composition (RtRequant, at the end),
 * DynamicQuantizeLinear (RtDynQuant, at the end), and the quantized elementwise Add (RtQAdd):
 * the float32 steps of the ONNX definitions in one pass over the bytes, 8 elements per step in SIMD128 (the same
 * operations lane by lane, so both variants give the same bytes). */
#include "rt_internal.h"

typedef struct { float sa, sb, sy, za, zb, zy, lo, hi; } QAddK;

static QAddK qadd_k(const RtQAdd *p) {
  int fl = p->flags;
  QAddK k;
  k.sa = *RT_PTR(const float, p->a_scale);
  k.sb = *RT_PTR(const float, p->b_scale);
  k.sy = *RT_PTR(const float, p->y_scale);
  k.za = !p->a_zp ? 0.0f : (fl & RT_Q_A_S8) ? (float)*RT_PTR(const int8_t, p->a_zp) : (float)*RT_PTR(const uint8_t, p->a_zp);
  k.zb = !p->b_zp ? 0.0f : (fl & RT_Q_B_S8) ? (float)*RT_PTR(const int8_t, p->b_zp) : (float)*RT_PTR(const uint8_t, p->b_zp);
  k.zy = !p->y_zp ? 0.0f : (fl & RT_Q_Y_S8) ? (float)*RT_PTR(const int8_t, p->y_zp) : (float)*RT_PTR(const uint8_t, p->y_zp);
  k.lo = (fl & RT_Q_Y_S8) ? -128.0f : 0.0f;
  k.hi = (fl & RT_Q_Y_S8) ? 127.0f : 255.0f;
  return k;
}

RT_AI float qadd_ld(const void *p, int32_t i, int s8) {
  return s8 ? (float)((const int8_t *)p)[i] : (float)((const uint8_t *)p)[i];
}

/* (float(x) - float(zp)) * scale is exact in the subtraction, as DequantizeLinear's kernels compute it */
static void qadd_tail(const RtQAdd *p, const QAddK *k, int32_t i) {
  const void *a = RT_PTR(const void, p->a), *b = RT_PTR(const void, p->b);
  int fl = p->flags, as8 = fl & RT_Q_A_S8, bs8 = fl & RT_Q_B_S8, ys8 = fl & RT_Q_Y_S8;
  for (; i < p->n; i++) {
    float fa = (qadd_ld(a, i, as8) - k->za) * k->sa;   /* separate statements: never contracted into an FMA */
    float fb = (qadd_ld(b, i, bs8) - k->zb) * k->sb;
    float v = fa + fb;
    float s = __builtin_rintf(v / k->sy) + k->zy;
    if (!(s >= k->lo)) s = k->lo;
    if (s > k->hi) s = k->hi;
    if (ys8) RT_PTR(int8_t, p->y)[i] = (int8_t)(int32_t)s;
    else RT_PTR(uint8_t, p->y)[i] = (uint8_t)(int32_t)s;
  }
}

void rt_qadd__scalar(const RtQAdd *p) {
  QAddK k = qadd_k(p);
  qadd_tail(p, &k, 0);
}

/* ---- QuantizeLinear / DequantizeLinear, per tensor: y = clip(round_half_even(x / s) + zp, lo, hi);
 * y = (float(x) - float(zp)) * s */
typedef struct { float s, z, lo, hi; } QScal;

static QScal quant_k(const RtQuant *p) {
  int s8 = (p->flags & (RT_Q_Y_S8 | RT_Q_A_S8)) != 0;
  QScal k = {*RT_PTR(const float, p->scale), 0.0f, s8 ? -128.0f : 0.0f, s8 ? 127.0f : 255.0f};
  if (p->zp) k.z = s8 ? (float)*RT_PTR(const int8_t, p->zp) : (float)*RT_PTR(const uint8_t, p->zp);
  return k;
}

static void quantize_tail(const RtQuant *p, const QScal *k, int32_t i) {
  const float *x = RT_PTR(const float, p->x);
  int s8 = p->flags & RT_Q_Y_S8;
  for (; i < p->n; i++) {
    float v = __builtin_rintf(x[i] / k->s) + k->z;
    if (!(v >= k->lo)) v = k->lo;   /* NaN too, as the clip of the composed kernels */
    if (v > k->hi) v = k->hi;
    if (s8) RT_PTR(int8_t, p->y)[i] = (int8_t)(int32_t)v;
    else RT_PTR(uint8_t, p->y)[i] = (uint8_t)(int32_t)v;
  }
}

static void dequantize_tail(const RtQuant *p, const QScal *k, int32_t i) {
  const void *x = RT_PTR(const void, p->x);
  float *y = RT_PTR(float, p->y);
  int s8 = p->flags & RT_Q_A_S8;
  for (; i < p->n; i++) y[i] = (qadd_ld(x, i, s8) - k->z) * k->s;
}

void rt_quantize__scalar(const RtQuant *p) {
  QScal k = quant_k(p);
  quantize_tail(p, &k, 0);
}

void rt_dequantize__scalar(const RtQuant *p) {
  QScal k = quant_k(p);
  dequantize_tail(p, &k, 0);
}

#if RT_SIMD128
/* 8 bytes -> two f32x4 of float(x) - zp */
RT_AI void qadd_widen(const void *src, int s8, v128_t z, v128_t *lo, v128_t *hi) {
  v128_t v = wasm_v128_load64_zero(src);
  v128_t h = s8 ? wasm_i16x8_extend_low_i8x16(v) : wasm_u16x8_extend_low_u8x16(v);
  *lo = wasm_f32x4_sub(wasm_f32x4_convert_i32x4(wasm_i32x4_extend_low_i16x8(h)), z);
  *hi = wasm_f32x4_sub(wasm_f32x4_convert_i32x4(wasm_i32x4_extend_high_i16x8(h)), z);
}

/* 8 bytes y = clip(round_half_even(q) + z, lo, hi) from the quotients q0 (lanes 0-3), q1 (4-7): the QuantizeLinear
 * step shared by quantize and qadd. The clamped values are whole numbers in [-128, 255], which the 1.5 * 2^23
 * trick converts to integers exactly. */
RT_AI void quant_store8(int8_t *y, v128_t q0, v128_t q1, v128_t z, v128_t lo, v128_t hi) {
  v128_t mag = wasm_f32x4_const_splat(12582912.0f), magi = wasm_i32x4_splat(0x4B400000);
  v128_t v0 = wasm_f32x4_pmin(hi, wasm_f32x4_pmax(lo, wasm_f32x4_add(wasm_f32x4_nearest(q0), z)));
  v128_t v1 = wasm_f32x4_pmin(hi, wasm_f32x4_pmax(lo, wasm_f32x4_add(wasm_f32x4_nearest(q1), z)));
  v128_t h = wasm_i16x8_narrow_i32x4(wasm_i32x4_sub(wasm_f32x4_add(v0, mag), magi), wasm_i32x4_sub(wasm_f32x4_add(v1, mag), magi));
  wasm_v128_store64_lane(y, wasm_i8x16_shuffle(h, h, 0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14), 0);
}

void rt_qadd__simd128(const RtQAdd *p) {
  QAddK k = qadd_k(p);
  const int8_t *a = RT_PTR(const int8_t, p->a), *b = RT_PTR(const int8_t, p->b);
  int8_t *y = RT_PTR(int8_t, p->y);
  int fl = p->flags, as8 = fl & RT_Q_A_S8, bs8 = fl & RT_Q_B_S8;
  v128_t sa = wasm_f32x4_splat(k.sa), sb = wasm_f32x4_splat(k.sb), sy = wasm_f32x4_splat(k.sy);
  v128_t za = wasm_f32x4_splat(k.za), zb = wasm_f32x4_splat(k.zb), zy = wasm_f32x4_splat(k.zy);
  v128_t lo = wasm_f32x4_splat(k.lo), hi = wasm_f32x4_splat(k.hi);
  int32_t i = 0;
  for (; i + 8 <= p->n; i += 8) {
    v128_t a0, a1, b0, b1;
    qadd_widen(a + i, as8, za, &a0, &a1);
    qadd_widen(b + i, bs8, zb, &b0, &b1);
    v128_t v0 = wasm_f32x4_add(wasm_f32x4_mul(a0, sa), wasm_f32x4_mul(b0, sb));
    v128_t v1 = wasm_f32x4_add(wasm_f32x4_mul(a1, sa), wasm_f32x4_mul(b1, sb));
    quant_store8(y + i, wasm_f32x4_div(v0, sy), wasm_f32x4_div(v1, sy), zy, lo, hi);
  }
  qadd_tail(p, &k, i);
}

void rt_quantize__simd128(const RtQuant *p) {
  QScal k = quant_k(p);
  const float *x = RT_PTR(const float, p->x);
  int8_t *y = RT_PTR(int8_t, p->y);
  v128_t s = wasm_f32x4_splat(k.s), z = wasm_f32x4_splat(k.z), lo = wasm_f32x4_splat(k.lo), hi = wasm_f32x4_splat(k.hi);
  int32_t i = 0;
  for (; i + 8 <= p->n; i += 8) {
    quant_store8(y + i, wasm_f32x4_div(wasm_v128_load(x + i), s), wasm_f32x4_div(wasm_v128_load(x + i + 4), s), z, lo, hi);
  }
  quantize_tail(p, &k, i);
}

void rt_dequantize__simd128(const RtQuant *p) {
  QScal k = quant_k(p);
  const int8_t *x = RT_PTR(const int8_t, p->x);
  float *y = RT_PTR(float, p->y);
  v128_t s = wasm_f32x4_splat(k.s), z = wasm_f32x4_splat(k.z);
  int s8 = p->flags & RT_Q_A_S8;
  int32_t i = 0;
  for (; i + 8 <= p->n; i += 8) {
    v128_t lo, hi;
    qadd_widen(x + i, s8, z, &lo, &hi);
    wasm_v128_store(y + i, wasm_f32x4_mul(lo, s));
    wasm_v128_store(y + i + 4, wasm_f32x4_mul(hi, s));
  }
  dequantize_tail(p, &k, i);
}

RT_EXPORT("rt_qadd") void rt_qadd(const RtQAdd *p) { rt_qadd__simd128(p); }
RT_EXPORT("rt_quantize") void rt_quantize(const RtQuant *p) { rt_quantize__simd128(p); }
RT_EXPORT("rt_dequantize") void rt_dequantize(const RtQuant *p) { rt_dequantize__simd128(p); }
#else
RT_EXPORT("rt_qadd") void rt_qadd(const RtQAdd *p) { rt_qadd__scalar(p); }
RT_EXPORT("rt_quantize") void rt_quantize(const RtQuant *p) { rt_quantize__scalar(p); }
RT_EXPORT("rt_dequantize") void rt_dequantize(const RtQuant *p) { rt_dequantize__scalar(p); }
#endif

/* ---- Requantize: the table of q(dq(v)) for the 256 values v, with dequantize_tail's and quantize_tail's float32
 * steps (one statement each), then a lookup per byte; one variant serves both builds */
RT_EXPORT("rt_requantize") void rt_requantize(const RtRequant *p) {
  int xs8 = p->flags & RT_Q_A_S8, ys8 = p->flags & RT_Q_Y_S8;
  float xs = *RT_PTR(const float, p->x_scale), ys = *RT_PTR(const float, p->y_scale);
  float xz = !p->x_zp ? 0.0f : xs8 ? (float)*RT_PTR(const int8_t, p->x_zp) : (float)*RT_PTR(const uint8_t, p->x_zp);
  float yz = !p->y_zp ? 0.0f : ys8 ? (float)*RT_PTR(const int8_t, p->y_zp) : (float)*RT_PTR(const uint8_t, p->y_zp);
  float lo = ys8 ? -128.0f : 0.0f, hi = ys8 ? 127.0f : 255.0f;
  uint8_t lut[256];
  for (int32_t b = 0; b < 256; b++) {
    float xv = xs8 ? (float)(int8_t)(uint8_t)b : (float)b;
    float f = (xv - xz) * xs;
    float v = __builtin_rintf(f / ys) + yz;
    if (!(v >= lo)) v = lo;
    if (v > hi) v = hi;
    lut[b] = ys8 ? (uint8_t)(int8_t)(int32_t)v : (uint8_t)(int32_t)v;
  }
  const uint8_t *x = RT_PTR(const uint8_t, p->x);
  uint8_t *y = RT_PTR(uint8_t, p->y);
  for (int32_t i = 0; i < p->n; i++) y[i] = lut[x[i]];
}

/* ---- DynamicQuantizeLinear: the range, then the parameters (once, scalar), then y, one statement per float32 step */
static void dynq_params(const RtDynQuant *p, float lo, float hi, float *sc, float *zf) {
  lo = lo > 0.0f ? 0.0f : lo;
  hi = hi < 0.0f ? 0.0f : hi;
  float s = (hi - lo) / 255.0f;
  if (hi == lo) s = 1.0f;
  float z = __builtin_rintf(0.0f - lo / s);
  if (!(z >= 0.0f)) z = 0.0f;
  if (z > 255.0f) z = 255.0f;
  *RT_PTR(float, p->scale) = s;
  *RT_PTR(uint8_t, p->zp) = (uint8_t)(int32_t)z;
  *sc = s;
  *zf = z;
}
static void dynq_tail(const RtDynQuant *p, float s, float z, int32_t i) {
  const float *x = RT_PTR(const float, p->x);
  uint8_t *y = RT_PTR(uint8_t, p->y);
  for (; i < p->n; i++) {
    float v = __builtin_rintf(x[i] / s) + z;
    if (!(v >= 0.0f)) v = 0.0f;
    if (v > 255.0f) v = 255.0f;
    y[i] = (uint8_t)(int32_t)v;
  }
}
void rt_dynquant__scalar(const RtDynQuant *p) {
  const float *x = RT_PTR(const float, p->x);
  float lo = RT_INF, hi = -RT_INF, s, z;
  for (int32_t i = 0; i < p->n; i++) {
    lo = x[i] < lo ? x[i] : lo;
    hi = hi < x[i] ? x[i] : hi;
  }
  dynq_params(p, lo, hi, &s, &z);
  dynq_tail(p, s, z, 0);
}
#if RT_SIMD128
void rt_dynquant__simd128(const RtDynQuant *p) {
  const float *x = RT_PTR(const float, p->x);
  uint8_t *y = RT_PTR(uint8_t, p->y);
  v128_t l4 = wasm_f32x4_splat(RT_INF), h4 = wasm_f32x4_splat(-RT_INF);
  int32_t i = 0;
  for (; i + 4 <= p->n; i += 4) {   /* pmin / pmax: the scalar loop's comparisons, lane by lane */
    v128_t v = wasm_v128_load(x + i);
    l4 = wasm_f32x4_pmin(l4, v);
    h4 = wasm_f32x4_pmax(h4, v);
  }
  float lo = RT_INF, hi = -RT_INF, s, z;
  for (int32_t j = 0; j < 4; j++) {
    float a = wasm_f32x4_extract_lane(l4, 0), b = wasm_f32x4_extract_lane(h4, 0);
    l4 = wasm_i32x4_shuffle(l4, l4, 1, 2, 3, 0);
    h4 = wasm_i32x4_shuffle(h4, h4, 1, 2, 3, 0);
    lo = a < lo ? a : lo;
    hi = hi < b ? b : hi;
  }
  for (; i < p->n; i++) {
    lo = x[i] < lo ? x[i] : lo;
    hi = hi < x[i] ? x[i] : hi;
  }
  dynq_params(p, lo, hi, &s, &z);
  v128_t vs = wasm_f32x4_splat(s), vz = wasm_f32x4_splat(z), v0 = wasm_f32x4_splat(0.0f), v255 = wasm_f32x4_splat(255.0f);
  for (i = 0; i + 16 <= p->n; i += 16) {
    v128_t q[4];
    for (int32_t j = 0; j < 4; j++) {
      v128_t v = wasm_f32x4_add(wasm_f32x4_nearest(wasm_f32x4_div(wasm_v128_load(x + i + 4 * j), vs)), vz);
      q[j] = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_pmin(wasm_f32x4_pmax(v0, v), v255));   /* NaN -> 0 */
    }
    wasm_v128_store(y + i, wasm_u8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(q[0], q[1]), wasm_i16x8_narrow_i32x4(q[2], q[3])));
  }
  dynq_tail(p, s, z, i);
}
RT_EXPORT("rt_dynquant") void rt_dynquant(const RtDynQuant *p) { rt_dynquant__simd128(p); }
#else
RT_EXPORT("rt_dynquant") void rt_dynquant(const RtDynQuant *p) { rt_dynquant__scalar(p); }
#endif
