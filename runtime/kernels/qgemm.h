/* qgemm.h — the pieces the integer conv/GEMM kernels share (qgemm.c, qconv_wino.c): 8-bit loads and zero points,
 * the output side (int32, or requantized as onnxruntime does it), and in SIMD128 the int16 widening, the 8-column
 * panels of interleaved row pairs and the 4x8 i32x4.dot_i16x8_s tile. */
#ifndef RT_QGEMM_H
#define RT_QGEMM_H
#include "rt_internal.h"

RT_AI int32_t q_ld(const void *p, ptrdiff_t i, int s8) {
  return s8 ? (int32_t)((const int8_t *)p)[i] : (int32_t)((const uint8_t *)p)[i];
}
RT_AI int32_t q_zp(RtAddr a, ptrdiff_t i, int s8) { return a ? q_ld(RT_PTR(const void, a), i, s8) : 0; }
/* wrapping int32 multiply-add (onnxruntime's accumulators wrap; C's signed overflow is undefined) */
RT_AI int32_t q_mac(int32_t acc, int32_t a, int32_t b) { return (int32_t)((uint32_t)acc + (uint32_t)(a * b)); }

/* output side: int32, or requantized 8-bit */
typedef struct {
  void *y;
  int requant, s8, bs_vec;
  float as, ys;
  const float *bs;
  int32_t zp, lo, hi;
  const float *mul;   /* SIMD conv: per output channel, as * bs[c] / ys computed once per call (scratch) */
  int fout, ym_vec;   /* RT_Q_FLOAT_OUT: y = act(float(acc) * ym[c] + ya[c]) in float32 */
  const float *ym, *ya;
  RtAct act;
} QOut;

static inline QOut q_out(int32_t flags, RtAddr y, RtAddr a_scale, RtAddr b_scale, RtAddr y_scale, RtAddr y_zp) {
  QOut o = {RT_PTR(void, y), (flags & RT_Q_REQUANT) != 0, (flags & RT_Q_Y_S8) != 0, (flags & RT_Q_BSCALE_VEC) != 0,
            1.0f, 1.0f, 0, 0, 0, 0, 0, 0, 0, 0, 0, {0, 0, 0}};
  if (!o.requant) return o;
  o.as = *RT_PTR(const float, a_scale);
  o.ys = *RT_PTR(const float, y_scale);
  o.bs = RT_PTR(const float, b_scale);
  o.zp = q_zp(y_zp, 0, o.s8);
  o.lo = o.s8 ? -128 : 0;
  o.hi = o.s8 ? 127 : 255;
  return o;
}

/* the float rescale (RT_Q_FLOAT_OUT) of an integer MatMul or Conv */
static inline void q_out_float(QOut *o, int32_t flags, RtAddr y_mul, RtAddr y_add, RtAct act) {
  if (o->requant || !(flags & RT_Q_FLOAT_OUT)) return;
  o->fout = 1;
  o->ym = RT_PTR(const float, y_mul);
  o->ym_vec = (flags & RT_Q_YMUL_VEC) != 0;
  o->ya = y_add ? RT_PTR(const float, y_add) : 0;
  o->act = act;
}

static inline QOut q_out_mm(const RtMatMulI8 *p) {
  QOut o = q_out(p->flags, p->y, p->a_scale, p->b_scale, p->y_scale, p->y_zp);
  q_out_float(&o, p->flags, p->y_mul, p->y_add, p->act);
  return o;
}

static inline QOut q_out_conv(const RtConv2dI8 *p) {
  QOut o = q_out(p->flags, p->y, p->x_scale, p->w_scale, p->y_scale, p->y_zp);
  if (o.requant && (p->flags & RT_Q_CLAMP)) {
    o.lo = RT_MAX(o.lo, p->y_lo);
    o.hi = RT_MIN(o.hi, p->y_hi);
  }
  q_out_float(&o, p->flags, p->y_mul, p->y_add, p->act);
  return o;
}

/* y[idx] = acc, or saturate(round_half_even(float(acc) * m) + zp) with m = a_scale * b_scale[c] / y_scale in
 * float32 (onnxruntime: clamp to [lo - zp, hi - zp] in float, round, add zp; NaN -> lo - zp) */
RT_AI void q_emit(const QOut *o, ptrdiff_t idx, int32_t acc, int32_t c) {
  if (o->fout) {   /* separate statements: never contracted into an FMA */
    float f = (float)acc * o->ym[o->ym_vec ? c : 0];
    if (o->ya) f = f + o->ya[c];
    ((float *)o->y)[idx] = rt_act1(o->act.kind, o->act.a, o->act.b, f);
    return;
  }
  if (!o->requant) { ((int32_t *)o->y)[idx] = acc; return; }
  float m = o->as * o->bs[o->bs_vec ? c : 0] / o->ys;
  float f = (float)acc * m, flo = (float)(o->lo - o->zp), fhi = (float)(o->hi - o->zp);
  if (!(f >= flo)) f = flo;
  if (f > fhi) f = fhi;
  int32_t v = (int32_t)__builtin_rintf(f) + o->zp;
  if (o->s8) ((int8_t *)o->y)[idx] = (int8_t)v; else ((uint8_t *)o->y)[idx] = (uint8_t)v;
}
#if RT_SIMD128
RT_AI v128_t q_widen8(const void *src, int s8) {   /* 8 bytes -> i16x8 */
  v128_t v = wasm_v128_load64_zero(src);
  return s8 ? wasm_i16x8_extend_low_i8x16(v) : wasm_u16x8_extend_low_u8x16(v);
}

/* rows [m][k] (row stride rs elements) of 8-bit src minus zp(row) into int16 rows of kp (zero padded) */
static inline void q_widen_rows(const void *src, ptrdiff_t rs, int32_t m, int32_t k, int s8, RtAddr zp, int zp_vec,
                         int16_t *dst, int32_t kp) {
  const int8_t *s = (const int8_t *)src;
  for (int32_t i = 0; i < m; i++) {
    int32_t z = q_zp(zp, zp_vec ? i : 0, s8), q = 0;
    const int8_t *row = s + (ptrdiff_t)i * rs;
    int16_t *d = dst + (ptrdiff_t)i * kp;
    v128_t vz = wasm_i16x8_splat((int16_t)z);
    for (; q + 8 <= k; q += 8) wasm_v128_store(d + q, wasm_i16x8_sub(q_widen8(row + q, s8), vz));
    for (; q < k; q++) d[q] = (int16_t)(q_ld(row, q, s8) - z);
    for (; q < kp; q++) d[q] = 0;
  }
}

/* the panel's rows r and r+1 (i16x8 each, 8 columns) interleaved into pair r/2 */
RT_AI void q_panel_pair(int16_t *panel, int32_t r, v128_t v0, v128_t v1) {
  wasm_v128_store(panel + (ptrdiff_t)r * 8, wasm_i16x8_shuffle(v0, v1, 0, 8, 1, 9, 2, 10, 3, 11));
  wasm_v128_store(panel + (ptrdiff_t)r * 8 + 8, wasm_i16x8_shuffle(v0, v1, 4, 12, 5, 13, 6, 14, 7, 15));
}

/* out[i][0..8) = sum over q < kp of a[i][q] * panel column, for nr <= 4 rows of a (stride kp) */
static inline void q_tile(const int16_t *a, int32_t kp, int32_t nr, const int16_t *panel, int32_t out[4][8]) {
  const int16_t *a0 = a, *a1 = a + (nr > 1 ? kp : 0), *a2 = a + (nr > 2 ? 2 * kp : 0), *a3 = a + (nr > 3 ? 3 * kp : 0);
  v128_t z = wasm_i32x4_splat(0), c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z;
  for (int32_t q = 0; q < kp; q += 2) {
    v128_t b0 = wasm_v128_load(panel + (ptrdiff_t)q * 8), b1 = wasm_v128_load(panel + (ptrdiff_t)q * 8 + 8);
    v128_t x0 = wasm_v128_load32_splat(a0 + q), x1 = wasm_v128_load32_splat(a1 + q);
    v128_t x2 = wasm_v128_load32_splat(a2 + q), x3 = wasm_v128_load32_splat(a3 + q);
    c00 = wasm_i32x4_add(c00, wasm_i32x4_dot_i16x8(x0, b0)); c01 = wasm_i32x4_add(c01, wasm_i32x4_dot_i16x8(x0, b1));
    c10 = wasm_i32x4_add(c10, wasm_i32x4_dot_i16x8(x1, b0)); c11 = wasm_i32x4_add(c11, wasm_i32x4_dot_i16x8(x1, b1));
    c20 = wasm_i32x4_add(c20, wasm_i32x4_dot_i16x8(x2, b0)); c21 = wasm_i32x4_add(c21, wasm_i32x4_dot_i16x8(x2, b1));
    c30 = wasm_i32x4_add(c30, wasm_i32x4_dot_i16x8(x3, b0)); c31 = wasm_i32x4_add(c31, wasm_i32x4_dot_i16x8(x3, b1));
  }
  wasm_v128_store(out[0], c00); wasm_v128_store(out[0] + 4, c01);
  wasm_v128_store(out[1], c10); wasm_v128_store(out[1] + 4, c11);
  wasm_v128_store(out[2], c20); wasm_v128_store(out[2] + 4, c21);
  wasm_v128_store(out[3], c30); wasm_v128_store(out[3] + 4, c31);
}

/* the first cnt (1..8) outputs of channel c at y[idx..idx+cnt): int32 a0 (pixels 0-3), a1 (4-7), stored as int32
 * or requantized exactly as q_emit does it (float product, clamp, round half even, + zero point) */
RT_AI void q_emit8(const QOut *o, ptrdiff_t idx, v128_t a0, v128_t a1, int32_t c, int32_t cnt) {
  if (o->fout) {   /* as q_emit, lane by lane */
    v128_t m = wasm_f32x4_splat(o->ym[o->ym_vec ? c : 0]);
    a0 = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(a0), m);
    a1 = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(a1), m);
    if (o->ya) {
      v128_t b = wasm_f32x4_splat(o->ya[c]);
      a0 = wasm_f32x4_add(a0, b);
      a1 = wasm_f32x4_add(a1, b);
    }
    a0 = rt_act_f32x4(o->act.kind, o->act.a, o->act.b, a0);
    a1 = rt_act_f32x4(o->act.kind, o->act.a, o->act.b, a1);
  }
  if (!o->requant) {   /* int32 or float32: 4-byte lanes */
    if (cnt == 8) {
      wasm_v128_store((int32_t *)o->y + idx, a0);
      wasm_v128_store((int32_t *)o->y + idx + 4, a1);
    } else {
      int32_t t[8];
      wasm_v128_store(t, a0);
      wasm_v128_store(t + 4, a1);
      for (int32_t j = 0; j < cnt; j++) ((int32_t *)o->y)[idx + j] = t[j];
    }
    return;
  }
  v128_t m = wasm_f32x4_splat(o->mul[c]);
  v128_t lo = wasm_f32x4_splat((float)(o->lo - o->zp)), hi = wasm_f32x4_splat((float)(o->hi - o->zp)), z = wasm_i32x4_splat(o->zp);
  v128_t f0 = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(a0), m), f1 = wasm_f32x4_mul(wasm_f32x4_convert_i32x4(a1), m);
  f0 = wasm_f32x4_pmin(hi, wasm_f32x4_pmax(lo, f0));
  f1 = wasm_f32x4_pmin(hi, wasm_f32x4_pmax(lo, f1));
  /* round half to even by the 1.5 * 2^23 trick: exact for the clamped range (|f| <= 255), and cheaper than
   * nearest + trunc_sat (a sequence of instructions on x86) */
  v128_t mag = wasm_f32x4_const_splat(12582912.0f), magz = wasm_i32x4_sub(wasm_i32x4_splat(0x4B400000), z);
  v128_t i0 = wasm_i32x4_sub(wasm_f32x4_add(f0, mag), magz);
  v128_t i1 = wasm_i32x4_sub(wasm_f32x4_add(f1, mag), magz);
  v128_t h = wasm_i16x8_narrow_i32x4(i0, i1);   /* in [lo, hi]: the low byte of each lane is the result */
  v128_t b = wasm_i8x16_shuffle(h, h, 0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);
  if (cnt == 8) {
    wasm_v128_store64_lane((int8_t *)o->y + idx, b, 0);
  } else {
    int8_t t[16];
    wasm_v128_store(t, b);
    for (int32_t j = 0; j < cnt; j++) ((int8_t *)o->y)[idx + j] = t[j];
  }
}

/* integer Winograd F(2x2, 3x3) (qconv_wino.c, rt_conv2d_i8_wino), for the convs rt_q_conv_wino() admits; scratch after the multipliers */
void rt_conv2d_i8_wino(const RtConv2dI8 *p, const QOut *o, RtAddr scratch);
#endif /* RT_SIMD128 */
#endif
