/* rt_internal.h — private helpers shared by the kernel sources: export macro, scalar and f32x4 math
 * approximations (exp, log, sigmoid, tanh, pow), activations, and the shared SIMD GEMM core.
 *
 * The kernel module is freestanding (no libc, no libm), so every transcendental here is our own:
 *   exp   Cody-Waite range reduction x = n*ln2 + r, |r| <= ln2/2, degree-6 Taylor polynomial,
 *         2^n applied as two exponent-bit factors 2^(n>>1) * 2^(n-(n>>1)) so that the whole f32
 *         range works (including denormal results). Max relative error ~3e-7 for normal results;
 *         exp(x) = +inf for x > 88.72283 (ln FLT_MAX), 0 for x < -103.972, NaN propagates.
 *   log   x = m*2^e, m in [sqrt(1/2), sqrt(2)), log m = 2 atanh(s), s = (m-1)/(m+1), odd series
 *         to s^9. Max relative error ~2e-7. log(0) = -inf, log(<0) = NaN, denormals treated as 0.
 *   sigmoid  e = exp(-|x|); x >= 0 ? 1/(1+e) : e/(1+e)  (no cancellation, no overflow).
 *   tanh  |x| < 0.5: odd Taylor series to x^13; else sign(x) * (1 - 2/(exp(2|x|)+1)).
 *   pow   exp(b*log|a|) with ONNX/C sign rules; exact for b in {0, 0.5, 1, 2}. Relative error grows
 *         like |b*log a| * 3e-7 (about 3e-5 when the result is near FLT_MAX).
 * The scalar and f32x4 versions use the same algorithm so they agree to a few ulp.
 */
#ifndef RT_INTERNAL_H
#define RT_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include "../rt_abi.h"

#ifdef __wasm__
#define RT_EXPORT(name) __attribute__((export_name(name)))
#else
#define RT_EXPORT(name)
#endif

#define RT_AI static inline __attribute__((always_inline))
#define RT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define RT_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Declarations of every kernel variant: rt_<id> (exported entry), rt_<id>__scalar (reference),
 * rt_<id>__simd128 (only when compiled with SIMD128). */
#define K(id, P) void rt_##id(const P *p); void rt_##id##__scalar(const P *p);
#include "../kernels.def"
#undef K
#ifdef __wasm_simd128__
#define K(id, P) void rt_##id##__simd128(const P *p);
#include "../kernels.def"
#undef K
#endif

/* ---------------------------------------------------------------- scalar math */

RT_AI uint32_t rt_f2u(float f) { union { float f; uint32_t u; } v; v.f = f; return v.u; }
RT_AI float rt_u2f(uint32_t u) { union { float f; uint32_t u; } v; v.u = u; return v.f; }

#define RT_EXP_HI 88.72283f          /* above: +inf (ln FLT_MAX = 88.7228391) */
#define RT_EXP_LO (-103.97208f)      /* below: 0 (ln of the smallest denormal is -103.279) */
#define RT_LOG2E 1.44269504088896341f
#define RT_LN2_HI 0.693145751953125f /* ln 2 split so that n*RT_LN2_HI is exact for |n| < 256 */
#define RT_LN2_LO 1.42860682030941723e-6f
#define RT_INF __builtin_inff()

/* exp(r) for |r| <= ln2/2: degree-6 Taylor (truncation error < 2.5e-7 relative). */
#define RT_EXP_C6 (1.0f / 720)
#define RT_EXP_C5 (1.0f / 120)
#define RT_EXP_C4 (1.0f / 24)
#define RT_EXP_C3 (1.0f / 6)

RT_AI float rt_expf(float x) {
  if (x > RT_EXP_HI) return RT_INF;
  if (x < RT_EXP_LO) return 0.0f;
  if (x != x) return x;
  float n = __builtin_rintf(x * RT_LOG2E);
  float r = x - n * RT_LN2_HI;
  r = r - n * RT_LN2_LO;
  float pr = 1.0f + r * (1.0f + r * (0.5f + r * (RT_EXP_C3 + r * (RT_EXP_C4 + r * (RT_EXP_C5 + r * RT_EXP_C6)))));
  int32_t n1 = (int32_t)n >> 1, n2 = (int32_t)n - n1;
  return pr * rt_u2f((uint32_t)(n1 + 127) << 23) * rt_u2f((uint32_t)(n2 + 127) << 23);
}

/* 2 atanh(s) for |s| <= 0.1716 (odd series to s^9, truncation < 3e-9 relative). */
RT_AI float rt_logf(float x) {
  if (!(x > 0.0f)) return x == 0.0f ? -RT_INF : (x != x ? x : __builtin_nanf(""));
  if (x == RT_INF) return x;
  uint32_t u = rt_f2u(x);
  int32_t e = (int32_t)(u >> 23) - 127;
  if (e == -127) return -RT_INF;                      /* denormal: treated as 0 */
  float m = rt_u2f((u & 0x007fffffu) | 0x3f800000u); /* [1, 2) */
  if (m > 1.41421356f) { m *= 0.5f; e += 1; }
  float f = m - 1.0f, s = f / (2.0f + f), z = s * s;
  float rr = z * (2.0f / 3 + z * (2.0f / 5 + z * (2.0f / 7 + z * (2.0f / 9))));
  float lm = 2.0f * s + s * rr;
  return (float)e * RT_LN2_HI + (lm + (float)e * RT_LN2_LO);
}

RT_AI float rt_sigmoidf(float x) {
  float e = rt_expf(-__builtin_fabsf(x));
  float r = 1.0f / (1.0f + e);
  return x >= 0.0f ? r : e * r;
}

RT_AI float rt_tanh_smallf(float x) { /* |x| < 0.5 */
  float z = x * x;
  float q = -1.0f / 3 + z * (2.0f / 15 + z * (-17.0f / 315 + z * (62.0f / 2835 +
            z * (-1382.0f / 155925 + z * (21844.0f / 6081075)))));
  return x + x * z * q;
}

RT_AI float rt_tanhf(float x) {
  float ax = __builtin_fabsf(x);
  if (ax < 0.5f) return rt_tanh_smallf(x);
  float t = 1.0f - 2.0f / (rt_expf(2.0f * ax) + 1.0f);
  return __builtin_copysignf(t, x);
}

/* pow with C/ONNX rules for the cases that matter: b == 0 -> 1, a == 0, a < 0 with integer b. */
RT_AI float rt_powf(float a, float b) {
  if (b == 2.0f) return a * a;
  if (b == 1.0f) return a;
  if (b == 0.0f) return 1.0f;
  if (b == 0.5f && a >= 0.0f) return __builtin_sqrtf(a);
  if (a == 0.0f) return b > 0.0f ? 0.0f : RT_INF;
  float r = rt_expf(b * rt_logf(__builtin_fabsf(a)));
  if (a < 0.0f) {
    float bi = __builtin_truncf(b);
    if (bi != b) return __builtin_nanf("");
    float half = bi * 0.5f;
    if (__builtin_truncf(half) != half) r = -r; /* odd integer exponent */
  }
  return r;
}

/* Scalar activation (RtActKind). */
RT_AI float rt_act1(int32_t kind, float a, float b, float v) {
  switch (kind) {
  case RT_ACT_RELU: return v < 0.0f ? 0.0f : v;
  case RT_ACT_CLIP: v = v < a ? a : v; return v > b ? b : v;
  case RT_ACT_SIGMOID: return rt_sigmoidf(v);
  case RT_ACT_HARDSIGMOID: v = a * v + b; v = v < 0.0f ? 0.0f : v; return v > 1.0f ? 1.0f : v;
  case RT_ACT_HARDSWISH: {
    float t = v * (1.0f / 6) + 0.5f;
    t = t < 0.0f ? 0.0f : t;
    t = t > 1.0f ? 1.0f : t;
    return v * t;
  }
  case RT_ACT_LEAKYRELU: return v >= 0.0f ? v : a * v;
  case RT_ACT_TANH: return rt_tanhf(v);
  case RT_ACT_SILU: return v * rt_sigmoidf(v);
  case RT_ACT_EXP: return rt_expf(v);
  case RT_ACT_NEG: return -v;
  case RT_ACT_ABS: return __builtin_fabsf(v);
  case RT_ACT_SQRT: return __builtin_sqrtf(v);
  case RT_ACT_RECIPROCAL: return 1.0f / v;
  default: return v;
  }
}

/* Binary operator (RtBinOp). max/min use the f32x4.pmax/pmin rule (b if a < b, else a). */
RT_AI float rt_bin1(int32_t op, float a, float b) {
  switch (op) {
  case RT_BIN_ADD: return a + b;
  case RT_BIN_SUB: return a - b;
  case RT_BIN_MUL: return a * b;
  case RT_BIN_DIV: return a / b;
  case RT_BIN_MAX: return a < b ? b : a;
  case RT_BIN_MIN: return b < a ? b : a;
  case RT_BIN_POW: return rt_powf(a, b);
  default: return 0.0f;
  }
}

/* Epilogue of the GEMM core, applied to every output element c[i][j] of the M x N result:
 *   v = alpha*acc + add + rows*rowv[i] + cols*colv[j] + fulls*full[i*ldf + j];  c = act(v)
 * Absent terms have NULL pointers. Conv uses rowv = bias, full = residual. */
typedef struct {
  float alpha, add;
  const float *rowv; float rows;
  const float *colv; float cols;
  const float *full; int32_t ldf; float fulls;
  int32_t act; float act_a, act_b;
} RtEpilogue;

/* Scalar epilogue of one element (same order of operations as the f32x4 one). */
RT_AI float rt_epi1(const RtEpilogue *ep, float v, int32_t i, int32_t j) {
  if (ep->alpha != 1.0f) v *= ep->alpha;
  if (ep->add != 0.0f) v += ep->add;
  if (ep->rowv) v += ep->rowv[i] * ep->rows;
  if (ep->colv) v += ep->colv[j] * ep->cols;
  if (ep->full) v += ep->full[(ptrdiff_t)i * ep->ldf + j] * ep->fulls;
  return rt_act1(ep->act, ep->act_a, ep->act_b, v);
}

/* Floor/ceil division for b > 0 and any sign of a. */
RT_AI int32_t rt_floor_div(int32_t a, int32_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }
RT_AI int32_t rt_ceil_div(int32_t a, int32_t b) { return a >= 0 ? (a + b - 1) / b : -((-a) / b); }

/* Output columns [*lo, *hi) whose input columns ox*s - pad + off .. + span are all inside [0, w). */
RT_AI void rt_valid_range(int32_t ow, int32_t w, int32_t s, int32_t pad, int32_t off, int32_t span,
                        int32_t *lo, int32_t *hi) {
  int32_t l = rt_ceil_div(pad - off, s), h = rt_floor_div(w - 1 + pad - off - span, s) + 1;
  l = RT_MAX(l, 0);
  h = RT_MIN(h, ow);
  *lo = RT_MIN(l, ow);
  *hi = RT_MAX(h, *lo);
}

RT_AI void rt_memcpy(void *dst, const void *src, size_t n) { __builtin_memcpy(dst, src, n); }
RT_AI void rt_memset(void *dst, int c, size_t n) { __builtin_memset(dst, c, n); }

/* ---------------------------------------------------------------- f32x4 math */
#ifdef __wasm_simd128__
#include <wasm_simd128.h>

#define RT_VS(c) wasm_f32x4_splat(c)
#define RT_VMUL(a, b) wasm_f32x4_mul(a, b)
#define RT_VADD(a, b) wasm_f32x4_add(a, b)

RT_AI v128_t rt_exp_f32x4(v128_t x) {
  v128_t hi = RT_VS(RT_EXP_HI), lo = RT_VS(RT_EXP_LO);
  v128_t over = wasm_f32x4_gt(x, hi), under = wasm_f32x4_lt(x, lo);
  v128_t xc = wasm_f32x4_pmin(wasm_f32x4_pmax(x, lo), hi); /* NaN passes through */
  v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(xc, RT_VS(RT_LOG2E)));
  v128_t r = wasm_f32x4_sub(xc, wasm_f32x4_mul(n, RT_VS(RT_LN2_HI)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, RT_VS(RT_LN2_LO)));
  v128_t pr = RT_VADD(RT_VS(RT_EXP_C5), RT_VMUL(r, RT_VS(RT_EXP_C6)));
  pr = RT_VADD(RT_VS(RT_EXP_C4), RT_VMUL(r, pr));
  pr = RT_VADD(RT_VS(RT_EXP_C3), RT_VMUL(r, pr));
  pr = RT_VADD(RT_VS(0.5f), RT_VMUL(r, pr));
  pr = RT_VADD(RT_VS(1.0f), RT_VMUL(r, pr));
  pr = RT_VADD(RT_VS(1.0f), RT_VMUL(r, pr));
  v128_t ni = wasm_i32x4_trunc_sat_f32x4(n), n1 = wasm_i32x4_shr(ni, 1), n2 = wasm_i32x4_sub(ni, n1);
  v128_t s1 = wasm_i32x4_shl(wasm_i32x4_add(n1, wasm_i32x4_splat(127)), 23);
  v128_t s2 = wasm_i32x4_shl(wasm_i32x4_add(n2, wasm_i32x4_splat(127)), 23);
  v128_t y = wasm_f32x4_mul(wasm_f32x4_mul(pr, s1), s2);
  y = wasm_v128_andnot(y, under);
  return wasm_v128_bitselect(RT_VS(RT_INF), y, over);
}

RT_AI v128_t rt_log_f32x4(v128_t x) {
  v128_t e = wasm_i32x4_sub(wasm_u32x4_shr(x, 23), wasm_i32x4_splat(127));
  v128_t m = wasm_v128_or(wasm_v128_and(x, wasm_i32x4_splat(0x007fffff)), wasm_i32x4_splat(0x3f800000));
  v128_t big = wasm_f32x4_gt(m, RT_VS(1.41421356f));
  m = wasm_v128_bitselect(wasm_f32x4_mul(m, RT_VS(0.5f)), m, big);
  e = wasm_i32x4_sub(e, big); /* big lanes are -1 */
  v128_t ef = wasm_f32x4_convert_i32x4(e);
  v128_t f = wasm_f32x4_sub(m, RT_VS(1.0f));
  v128_t s = wasm_f32x4_div(f, wasm_f32x4_add(f, RT_VS(2.0f)));
  v128_t z = wasm_f32x4_mul(s, s);
  v128_t rr = RT_VMUL(z, RT_VADD(RT_VS(2.0f / 3), RT_VMUL(z, RT_VADD(RT_VS(2.0f / 5),
              RT_VMUL(z, RT_VADD(RT_VS(2.0f / 7), RT_VMUL(z, RT_VS(2.0f / 9))))))));
  v128_t lm = wasm_f32x4_add(wasm_f32x4_add(s, s), wasm_f32x4_mul(s, rr));
  v128_t y = wasm_f32x4_add(wasm_f32x4_mul(ef, RT_VS(RT_LN2_HI)),
                            wasm_f32x4_add(lm, wasm_f32x4_mul(ef, RT_VS(RT_LN2_LO))));
  /* specials: x <= 0 or denormal -> -inf (x == +-0/denormal) or NaN (x < 0); +inf, NaN -> x */
  v128_t tiny = wasm_f32x4_lt(x, RT_VS(1.17549435e-38f));
  v128_t neg = wasm_f32x4_lt(x, RT_VS(0.0f));
  y = wasm_v128_bitselect(RT_VS(-RT_INF), y, tiny);
  y = wasm_v128_bitselect(RT_VS(__builtin_nanf("")), y, neg);
  v128_t pass = wasm_v128_or(wasm_f32x4_eq(x, RT_VS(RT_INF)), wasm_f32x4_ne(x, x));
  return wasm_v128_bitselect(x, y, pass);
}

RT_AI v128_t rt_sigmoid_f32x4(v128_t x) {
  v128_t e = rt_exp_f32x4(wasm_f32x4_neg(wasm_f32x4_abs(x)));
  v128_t r = wasm_f32x4_div(RT_VS(1.0f), wasm_f32x4_add(RT_VS(1.0f), e));
  return wasm_v128_bitselect(r, wasm_f32x4_mul(e, r), wasm_f32x4_ge(x, RT_VS(0.0f)));
}

RT_AI v128_t rt_tanh_f32x4(v128_t x) {
  v128_t ax = wasm_f32x4_abs(x);
  v128_t z = wasm_f32x4_mul(x, x);
  v128_t q = RT_VADD(RT_VS(-1.0f / 3), RT_VMUL(z, RT_VADD(RT_VS(2.0f / 15), RT_VMUL(z,
             RT_VADD(RT_VS(-17.0f / 315), RT_VMUL(z, RT_VADD(RT_VS(62.0f / 2835), RT_VMUL(z,
             RT_VADD(RT_VS(-1382.0f / 155925), RT_VMUL(z, RT_VS(21844.0f / 6081075)))))))))));
  v128_t small = wasm_f32x4_add(x, wasm_f32x4_mul(wasm_f32x4_mul(x, z), q));
  v128_t e = rt_exp_f32x4(wasm_f32x4_add(ax, ax));
  v128_t t = wasm_f32x4_sub(RT_VS(1.0f), wasm_f32x4_div(RT_VS(2.0f), wasm_f32x4_add(e, RT_VS(1.0f))));
  t = wasm_v128_or(t, wasm_v128_and(x, wasm_i32x4_splat((int32_t)0x80000000u))); /* sign of x */
  return wasm_v128_bitselect(small, t, wasm_f32x4_lt(ax, RT_VS(0.5f)));
}

RT_AI v128_t rt_pow_f32x4(v128_t a, v128_t b) {
  v128_t aa = wasm_f32x4_abs(a);
  v128_t r = rt_exp_f32x4(wasm_f32x4_mul(b, rt_log_f32x4(aa)));
  /* a < 0: integer b -> sign by parity, else NaN */
  v128_t bi = wasm_f32x4_trunc(b);
  v128_t half = wasm_f32x4_mul(bi, RT_VS(0.5f));
  v128_t odd = wasm_f32x4_ne(wasm_f32x4_trunc(half), half);
  v128_t neg = wasm_f32x4_lt(a, RT_VS(0.0f));
  r = wasm_v128_xor(r, wasm_v128_and(wasm_v128_and(neg, odd), wasm_i32x4_splat((int32_t)0x80000000u)));
  r = wasm_v128_bitselect(RT_VS(__builtin_nanf("")), r, wasm_v128_and(neg, wasm_f32x4_ne(bi, b)));
  /* a == 0 */
  v128_t zr = wasm_v128_bitselect(RT_VS(0.0f), RT_VS(RT_INF), wasm_f32x4_gt(b, RT_VS(0.0f)));
  r = wasm_v128_bitselect(zr, r, wasm_f32x4_eq(a, RT_VS(0.0f)));
  /* exact special exponents (same order as rt_powf) */
  r = wasm_v128_bitselect(wasm_f32x4_sqrt(a), r,
                          wasm_v128_and(wasm_f32x4_eq(b, RT_VS(0.5f)), wasm_f32x4_ge(a, RT_VS(0.0f))));
  r = wasm_v128_bitselect(RT_VS(1.0f), r, wasm_f32x4_eq(b, RT_VS(0.0f)));
  r = wasm_v128_bitselect(a, r, wasm_f32x4_eq(b, RT_VS(1.0f)));
  return wasm_v128_bitselect(wasm_f32x4_mul(a, a), r, wasm_f32x4_eq(b, RT_VS(2.0f)));
}

/* f32x4 activation; kind is loop-invariant at every call site so the switch is cheap. */
RT_AI v128_t rt_act_f32x4(int32_t kind, float a, float b, v128_t v) {
  switch (kind) {
  case RT_ACT_RELU: return wasm_f32x4_pmax(v, RT_VS(0.0f)); /* v < 0 ? 0 : v, as the scalar */
  case RT_ACT_CLIP: return wasm_f32x4_pmin(wasm_f32x4_pmax(RT_VS(a), v), RT_VS(b));
  case RT_ACT_SIGMOID: return rt_sigmoid_f32x4(v);
  case RT_ACT_HARDSIGMOID:
    v = wasm_f32x4_add(wasm_f32x4_mul(v, RT_VS(a)), RT_VS(b));
    return wasm_f32x4_pmin(wasm_f32x4_pmax(RT_VS(0.0f), v), RT_VS(1.0f));
  case RT_ACT_HARDSWISH: {
    v128_t t = wasm_f32x4_add(wasm_f32x4_mul(v, RT_VS(1.0f / 6)), RT_VS(0.5f));
    t = wasm_f32x4_pmin(wasm_f32x4_pmax(RT_VS(0.0f), t), RT_VS(1.0f));
    return wasm_f32x4_mul(v, t);
  }
  case RT_ACT_LEAKYRELU:
    return wasm_v128_bitselect(v, wasm_f32x4_mul(v, RT_VS(a)), wasm_f32x4_ge(v, RT_VS(0.0f)));
  case RT_ACT_TANH: return rt_tanh_f32x4(v);
  case RT_ACT_SILU: return wasm_f32x4_mul(v, rt_sigmoid_f32x4(v));
  case RT_ACT_EXP: return rt_exp_f32x4(v);
  case RT_ACT_NEG: return wasm_f32x4_neg(v);
  case RT_ACT_ABS: return wasm_f32x4_abs(v);
  case RT_ACT_SQRT: return wasm_f32x4_sqrt(v);
  case RT_ACT_RECIPROCAL: return wasm_f32x4_div(RT_VS(1.0f), v);
  default: return v;
  }
}

RT_AI v128_t rt_bin_f32x4(int32_t op, v128_t a, v128_t b) {
  switch (op) {
  case RT_BIN_ADD: return wasm_f32x4_add(a, b);
  case RT_BIN_SUB: return wasm_f32x4_sub(a, b);
  case RT_BIN_MUL: return wasm_f32x4_mul(a, b);
  case RT_BIN_DIV: return wasm_f32x4_div(a, b);
  case RT_BIN_MAX: return wasm_f32x4_pmax(a, b);
  case RT_BIN_MIN: return wasm_f32x4_pmin(a, b);
  case RT_BIN_POW: return rt_pow_f32x4(a, b);
  default: return wasm_f32x4_splat(0.0f);
  }
}

/* Load/store the first n (1..4, usually a compile-time constant) lanes; other lanes read as 0. */
RT_AI v128_t rt_load_part(const float *p, int n) {
  switch (n) {
  case 1: return wasm_v128_load32_zero(p);
  case 2: return wasm_v128_load64_zero(p);
  case 3: return wasm_v128_load32_lane(p + 2, wasm_v128_load64_zero(p), 2);
  default: return wasm_v128_load(p);
  }
}
RT_AI void rt_store_part(float *p, v128_t v, int n) {
  switch (n) {
  case 1: wasm_v128_store32_lane(p, v, 0); break;
  case 2: wasm_v128_store64_lane(p, v, 0); break;
  case 3: wasm_v128_store64_lane(p, v, 0); wasm_v128_store32_lane(p + 2, v, 2); break;
  default: wasm_v128_store(p, v); break;
  }
}

/* Four input values x[base], x[base+s], x[base+2s], x[base+3s], reading nothing past x[base+3s]. */
RT_AI v128_t rt_load_strided4(const float *x, int32_t s) {
  if (s == 1) return wasm_v128_load(x);
  if (s == 2) {
    v128_t a = wasm_v128_load(x), b = wasm_v128_load(x + 3);
    return wasm_i32x4_shuffle(a, b, 0, 2, 5, 7);
  }
  return wasm_f32x4_make(x[0], x[s], x[2 * s], x[3 * s]);
}

RT_AI float rt_hsum_f32x4(v128_t v) {
  v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  v = wasm_f32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(v, 0);
}
RT_AI float rt_hmax_f32x4(v128_t v) {
  v = wasm_f32x4_pmax(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
  v = wasm_f32x4_pmax(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
  return wasm_f32x4_extract_lane(v, 0);
}

/* The blocked GEMM core (gemm.c): C[M][N] = epilogue(A * B), C[i][j] = c[i*ldc + j].
 * A: pre-packed MR-row panels ap (layout of runtime/pack.h for one group: ceil(m/MR) panels of [k][MR]),
 * or, when ap is NULL, A[i][q] = a[i*a_rs + q*a_ks] (packed on the fly into a static buffer).
 * B: supplied per (k block, 8-column strip) by packb, which writes dst[q][0..8) = B[k0+q][j0..j0+8)
 * for q < kc with lanes >= nv set to 0 (so B may be implicit, e.g. im2col computed on the fly).
 * ep == NULL: plain product. C must not overlap A or B; C may be ep->full with the same ldc (the
 * residual is read before C is first written). */
typedef void (*RtPackB)(const void *ctx, int32_t k0, int32_t kc, int32_t j0, int32_t nv, float *dst);
void rt_gemm_core(int32_t m, int32_t n, int32_t k, const float *ap, const float *a, int32_t a_rs,
                  int32_t a_ks, RtPackB packb, const void *bctx, float *c, int32_t ldc,
                  const RtEpilogue *ep);
/* Static work buffer of the GEMM core (packed A), also used by the depthwise conv when no GEMM runs. */
#define RT_ABUF_FLOATS (RT_CONV_PACK_MR * 40 * 256)
extern float rt_abuf[RT_ABUF_FLOATS];
/* packb for an explicit B[k][j] = b[k*ks + j*ns] (ctx: RtStridedB). */
typedef struct { const float *b; int32_t ks, ns; } RtStridedB;
void rt_packb_strided(const void *ctx, int32_t k0, int32_t kc, int32_t j0, int32_t nv, float *dst);

/* C[M][N] = epilogue(A * B) with A[i][k] = a[i*a_rs + k*a_ks], B[k][j] = b[k*b_ks + j*b_ns]:
 * rt_gemm_core with a strided B (dot products for M < 4 with B^T). C may equal ep->full. */
void rt_sgemm_f32x4(int32_t m, int32_t n, int32_t k, const float *a, int32_t a_rs, int32_t a_ks,
                    const float *b, int32_t b_ks, int32_t b_ns, float *c, int32_t ldc,
                    const RtEpilogue *ep);
#endif /* __wasm_simd128__ */

#endif
