/* rt_internal.h — private helpers shared by the kernel sources: export macro, scalar and f32x4 math
 * approximations (exp, log, sigmoid, tanh, pow), activations, and the shared SIMD GEMM core.
 *
 * The kernel module is freestanding (no libc, no libm), so every transcendental here is our own:
 *   exp   Cody-Waite range reduction x = n*ln2 + r, |r| <= ln2/2, degree-6 Taylor polynomial,
 *         2^n applied as two exponent-bit factors 2^(n>>1) * 2^(n-(n>>1)) so that the whole f32
 *         range works (including denormal results). Max relative error ~3e-7 for normal results;
 *         exp(x) = +inf for x > 88.72283 (ln FLT_MAX), 0 for x < -87 (no denormal results), NaN propagates.
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

/* RT_SIMD128: the kernels' 128-bit variants are built (rt_vec.h: wasm SIMD128, or the same operations
 * natively on x86-64 and AArch64). RT_TLS: storage of the kernels' work buffers, one per thread on native
 * targets so that several threads can run models at once (a wasm instance is single-threaded). */
#if defined(__wasm_simd128__) || (defined(__clang__) && (defined(__x86_64__) || defined(__aarch64__)))
#define RT_SIMD128 1
#else
#define RT_SIMD128 0
#endif
#ifdef __wasm__
#define RT_TLS
#else
#define RT_TLS _Thread_local
#endif

#define RT_AI static inline __attribute__((always_inline))
#define RT_MIN(a, b) ((a) < (b) ? (a) : (b))
#define RT_MAX(a, b) ((a) > (b) ? (a) : (b))

/* Declarations of every kernel variant: rt_<id> (exported entry), rt_<id>__scalar (reference),
 * rt_<id>__simd128 (only when RT_SIMD128). */
#define K(id, P) void rt_##id(const P *p); void rt_##id##__scalar(const P *p);
#include "../kernels.def"
#undef K
#if RT_SIMD128
#define K(id, P) void rt_##id##__simd128(const P *p);
#include "../kernels.def"
#undef K
#endif

/* Batched matmul blocks (RtMatMul, RtMatMulI8) share their broadcast description: nb batch dims of sizes
 * bdim[], with element strides astride[]/bstride[] into A and B. */
RT_AI int32_t rt_batches(int32_t nb, const int32_t *bdim) {
  int32_t nbat = 1;
  for (int32_t d = 0; d < nb; d++) nbat *= bdim[d];
  return nbat;
}
/* element offsets of batch number bi into A and B */
RT_AI void rt_batch_offsets(int32_t nb, const int32_t *bdim, const int32_t *astride, const int32_t *bstride, int32_t bi,
                            ptrdiff_t *ao, ptrdiff_t *bo) {
  *ao = 0;
  *bo = 0;
  for (int32_t d = nb - 1; d >= 0; d--) {
    int32_t idx = bi % bdim[d];
    bi /= bdim[d];
    *ao += (ptrdiff_t)idx * astride[d];
    *bo += (ptrdiff_t)idx * bstride[d];
  }
}
#define RT_BATCHES(p) rt_batches((p)->nb, (p)->bdim)
#define RT_BATCH_OFFSETS(p, bi, ao, bo) rt_batch_offsets((p)->nb, (p)->bdim, (p)->astride, (p)->bstride, (bi), (ao), (bo))

/* ---------------------------------------------------------------- scalar math */

RT_AI uint32_t rt_f2u(float f) { union { float f; uint32_t u; } v; v.f = f; return v.u; }
RT_AI float rt_u2f(uint32_t u) { union { float f; uint32_t u; } v; v.u = u; return v.f; }

#define RT_EXP_HI 88.72283f          /* above: +inf (ln FLT_MAX = 88.7228391) */
#define RT_EXP_LO (-87.0f)           /* below: 0. e^-87 = 1.65e-38 is still a normal float; results that would be
                                        denormal are flushed to 0 (abs err < 1.7e-38): denormal arithmetic is
                                        ~100x slower on x86 and wasm cannot switch it off (masked softmax) */
#define RT_LOG2E 1.44269504088896341f
#define RT_LN2_HI 0.693145751953125f /* ln 2 split so that n*RT_LN2_HI is exact for |n| < 256 */
#define RT_LN2_LO 1.42860682030941723e-6f
#define RT_INF __builtin_inff()

/* float16 <-> double (Cast, the any-dtype binary ops): exact widening; narrowing rounds to nearest even,
 * directly from the double */
RT_AI double half_to_double(uint16_t h) {
  int32_t e = (h >> 10) & 31, m = h & 1023;
  double v = e == 0 ? (double)m * (1.0 / 16777216.0)                        /* subnormal: m * 2^-24 */
           : e == 31 ? (m ? __builtin_nan("") : __builtin_inf())
           : (double)(1024 + m) * (double)(1u << e) * (1.0 / 33554432.0);   /* (1024+m) * 2^(e-25) */
  return h & 0x8000 ? -v : v;
}

/* double -> float16, round to nearest even, directly from the double */
RT_AI uint16_t double_to_half(double d) {
  union { double f; uint64_t u; } v = {d};
  uint16_t sign = (uint16_t)((v.u >> 48) & 0x8000);
  double a = __builtin_fabs(d);
  if (a != a) return (uint16_t)(sign | 0x7e00);
  if (a >= 65520.0) return (uint16_t)(sign | 0x7c00);          /* rounds to inf (65504 is the largest) */
  if (a < 6.103515625e-05) return (uint16_t)(sign | (uint16_t)__builtin_rint(a * 16777216.0));  /* 2^-14: subnormal */
  union { double f; uint64_t u; } w = {a};
  uint64_t mant = w.u & 0xfffffffffffffull, rem = mant & 0x3ffffffffffull, halfway = 0x20000000000ull;
  uint32_t h = (uint32_t)((((w.u >> 52) & 0x7ff) - 1023 + 15) << 10) | (uint32_t)(mant >> 42);
  h += rem > halfway || (rem == halfway && (h & 1));
  return (uint16_t)(sign | h);
}

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

/* float64 exp and log (ReduceLogSum / ReduceLogSumExp on float64; no libm in the kernels). Both reduce
 * to a series on a small interval whose truncation error is below half an ulp; the result is within a few
 * ulps of the correctly rounded value (tests/kernels checks 1e-14 relative against libm). */
RT_AI double rt_u2d(uint64_t u) { union { double d; uint64_t u; } v; v.u = u; return v.d; }
RT_AI uint64_t rt_d2u(double d) { union { double d; uint64_t u; } v; v.d = d; return v.u; }
#define RT_LN2_HI_D 6.93147180369123816490e-01  /* ln 2 with 21 trailing zero bits: n*hi exact for |n| < 2^21 */
#define RT_LN2_LO_D 1.90821492927058770002e-10

/* e^x: x = n ln2 + r, |r| <= ln2/2, Taylor to r^13 (truncation < 5e-18), times 2^n in two steps (denormal
 * results are rounded once more). Over 709.78: +inf; under -745.2: 0. */
RT_AI double rt_exp_f64(double x) {
  if (x != x) return x;
  if (x > 709.782712893383973) return __builtin_inf();
  if (x < -745.2) return 0.0;
  double n = __builtin_rint(x * 1.44269504088896338700);
  double r = (x - n * RT_LN2_HI_D) - n * RT_LN2_LO_D;
  double p = 1.0 / 6227020800.0;                      /* 1/13! */
  static const double inv_fact[13] = {1.0 / 479001600.0, 1.0 / 39916800.0, 1.0 / 3628800.0, 1.0 / 362880.0,
                                      1.0 / 40320.0, 1.0 / 5040.0, 1.0 / 720.0, 1.0 / 120.0, 1.0 / 24.0,
                                      1.0 / 6.0, 0.5, 1.0, 1.0};   /* 1/12! .. 1/0! */
  for (int k = 0; k < 13; k++) p = p * r + inv_fact[k];
  int32_t ni = (int32_t)n, n1 = ni / 2, n2 = ni - n1;   /* each in [-538, 513] */
  return p * rt_u2d((uint64_t)(n1 + 1023) << 52) * rt_u2d((uint64_t)(n2 + 1023) << 52);
}

/* ln x: x = 2^e m, m in [sqrt(1/2), sqrt 2), ln m = 2 atanh(s), s = (m-1)/(m+1), |s| <= 0.1716, odd series
 * to s^21 (truncation < 1e-18). x < 0 or NaN: NaN; 0: -inf; +inf: +inf. Denormals are scaled first. */
RT_AI double rt_log_f64(double x) {
  if (!(x > 0.0)) return x == 0.0 ? -__builtin_inf() : __builtin_nan("");
  if (x == __builtin_inf()) return x;
  int32_t e = 0;
  if (x < 2.2250738585072014e-308) { x *= 18014398509481984.0; e = -54; }   /* 2^54 */
  uint64_t u = rt_d2u(x);
  e += (int32_t)(u >> 52) - 1023;
  double m = rt_u2d((u & 0x000fffffffffffffull) | 0x3ff0000000000000ull);
  if (m > 1.41421356237309505) { m *= 0.5; e += 1; }
  double f = m - 1.0, s = f / (2.0 + f), z = s * s, q = 0.0;
  for (int k = 21; k >= 3; k -= 2) q = (q + 1.0 / k) * z;   /* z/3 + z^2/5 + ... + z^10/21 */
  return (double)e * RT_LN2_HI_D + ((2.0 * s + 2.0 * s * q) + (double)e * RT_LN2_LO_D);
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

/* ---- more transcendentals (unary ops). Methods:
 *   expm1  |x| < 0.5: Taylor to x^8 (relative truncation < 1e-8); else exp(x) - 1.
 *   log1p  u = 1 + y; log(u) * y / (u - 1) (Goldberg's correction of the rounding of 1 + y).
 *   sin/cos  n = rint(x * 2/pi), r = x - n*pi/2 with pi/2 split in three parts (exact products for
 *         |n| < 2^16, i.e. |x| < ~1e5), Taylor polynomials on |r| <= pi/4 (sin to r^11, cos to r^10,
 *         truncation < 2e-9), quadrant from n mod 4. tan = sin/cos of the same reduction.
 *   atan  |x| > 1: pi/2 - atan(1/x); t > tan(pi/8): pi/4 + atan((t-1)/(t+1)); odd Taylor series to u^17
 *         on |u| <= 0.4143 (truncation < 5e-8 relative). asin(x) = atan(x / sqrt((1-x)(1+x))),
 *         acos(x) = 2 atan(sqrt((1-x)/(1+x))).
 *   erf   |x| < 1: Taylor series to x^23 (< 2e-9); else 1 - erfc(|x|) with erfc from the Chebyshev-fitted
 *         formula of Numerical Recipes (erfcc, fractional error < 1.2e-7 for every x >= 0), its exp(-x^2 + p)
 *         taken as two exps so that x^2 is not rounded. Gelu uses erfc for x < 0 (relative error ~1e-6).
 *   sinh/cosh  |x| < 1: Taylor (sinh); else (e -+ 1/e)/2 with e = exp(|x|) (exp(|x| - ln2) past 88).
 *   asinh/acosh/atanh  through log1p: asinh a = log1p(a + a^2/(1 + sqrt(1 + a^2))),
 *         acosh x = log1p(t + sqrt(2t + t^2)), t = x - 1, atanh a = log1p(2a/(1 - a))/2; log(2a) past 1e4. */
#define RT_PI_F 3.14159265358979f
#define RT_PIO2_1 1.5703125f
#define RT_PIO2_2 4.837512969970703125e-4f
#define RT_PIO2_3 7.54978995489188216e-8f
#define RT_2OPI 0.636619772367581f
#define RT_LN2_F 0.693147180559945f

RT_AI float rt_expm1f(float x) {
  if (__builtin_fabsf(x) < 0.5f)
    return x + x * x * (0.5f + x * (1.0f / 6 + x * (1.0f / 24 + x * (1.0f / 120 + x * (1.0f / 720 + x * (1.0f / 5040 + x * (1.0f / 40320)))))));
  return rt_expf(x) - 1.0f;
}

RT_AI float rt_log1pf(float y) {
  float u = 1.0f + y;
  if (u == 1.0f || u == RT_INF) return u == 1.0f ? y : u;
  return rt_logf(u) * (y / (u - 1.0f));
}

/* sin and cos of the reduced argument r (|r| <= pi/4) */
RT_AI float rt_sin_poly(float r) {
  float z = r * r;
  return r + r * z * (-1.0f / 6 + z * (1.0f / 120 + z * (-1.0f / 5040 + z * (1.0f / 362880 + z * (-1.0f / 39916800)))));
}
RT_AI float rt_cos_poly(float r) {
  float z = r * r;
  return 1.0f + z * (-0.5f + z * (1.0f / 24 + z * (-1.0f / 720 + z * (1.0f / 40320 + z * (-1.0f / 3628800)))));
}
/* x = n*pi/2 + r; returns r, *q = n mod 4 */
RT_AI float rt_reduce_pio2(float x, int32_t *q) {
  float n = __builtin_rintf(x * RT_2OPI);
  float r = ((x - n * RT_PIO2_1) - n * RT_PIO2_2) - n * RT_PIO2_3;
  float m = n - 4.0f * __builtin_floorf(n * 0.25f);
  *q = (int32_t)m & 3;
  return r;
}
RT_AI float rt_sinf(float x) {
  if (x - x != 0.0f) return __builtin_nanf("");
  int32_t q; float r = rt_reduce_pio2(x, &q);
  float v = (q & 1) ? rt_cos_poly(r) : rt_sin_poly(r);
  return (q & 2) ? -v : v;
}
RT_AI float rt_cosf(float x) {
  if (x - x != 0.0f) return __builtin_nanf("");
  int32_t q; float r = rt_reduce_pio2(x, &q);
  float v = (q & 1) ? rt_sin_poly(r) : rt_cos_poly(r);
  return ((q + 1) & 2) ? -v : v;
}
RT_AI float rt_tanf(float x) {
  if (x - x != 0.0f) return __builtin_nanf("");
  int32_t q; float r = rt_reduce_pio2(x, &q);
  float s = rt_sin_poly(r), c = rt_cos_poly(r);
  return (q & 1) ? -c / s : s / c;
}

RT_AI float rt_atanf(float x) {
  if (x != x) return x;
  float a = __builtin_fabsf(x), base = 0.0f, sgn = 1.0f;
  if (a > 1.0f) { a = 1.0f / a; base = RT_PI_F / 2; sgn = -1.0f; }   /* atan(a) = pi/2 - atan(1/a) */
  float off = 0.0f;
  if (a > 0.41421356f) { a = (a - 1.0f) / (a + 1.0f); off = RT_PI_F / 4; }
  float z = a * a;
  float p = a + a * z * (-1.0f / 3 + z * (1.0f / 5 + z * (-1.0f / 7 + z * (1.0f / 9 + z * (-1.0f / 11 + z * (1.0f / 13 +
            z * (-1.0f / 15 + z * (1.0f / 17))))))));
  float r = base + sgn * (off + p);
  return __builtin_copysignf(r, x);
}
RT_AI float rt_asinf(float x) { return rt_atanf(x / __builtin_sqrtf((1.0f - x) * (1.0f + x))); }
RT_AI float rt_acosf(float x) { return 2.0f * rt_atanf(__builtin_sqrtf((1.0f - x) / (1.0f + x))); }

/* exp(-x^2 * h) (h = 1 or 1/2) without rounding x^2: x = xh + xl with xh holding 12 significant bits, so
 * xh^2 is exact and only the small part (xh - x)(xh + x) is rounded (one exp of -x*x would lose ~ulp(x^2),
 * 4e-6 relative at x = 6) */
RT_AI float rt_exp_negsq(float x, float h) {
  float a = __builtin_fabsf(x), ah = rt_u2f(rt_f2u(a) & 0xfffff000u);
  return rt_expf(-(ah * ah) * h) * rt_expf((ah - a) * (ah + a) * h);
}
/* erfc(a) for a >= 1 (Numerical Recipes erfcc) given ea = exp(-a^2) */
RT_AI float rt_erfc_core(float a, float ea) {
  float t = 1.0f / (1.0f + 0.5f * a);
  float p = -1.26551223f + t * (1.00002368f + t * (0.37409196f + t * (0.09678418f + t * (-0.18628806f + t * (0.27886807f +
            t * (-1.13520398f + t * (1.48851587f + t * (-0.82215223f + t * 0.17087277f))))))));
  return t * ea * rt_expf(p);
}
RT_AI float rt_erfc_big(float a) { return rt_erfc_core(a, rt_exp_negsq(a, 1.0f)); }
/* erf(a) for |a| < 1 by Taylor */
RT_AI float rt_erf_small(float x) {
  float z = x * x;
  float p = 1.0f + z * (-1.0f / 3 + z * (1.0f / 10 + z * (-1.0f / 42 + z * (1.0f / 216 + z * (-1.0f / 1320 + z * (1.0f / 9360 +
            z * (-1.0f / 75600 + z * (1.0f / 685440 + z * (-1.0f / 6894720 + z * (1.0f / 76204800 + z * (-1.0f / 918086400)))))))))));
  return 1.12837916709551f * x * p;
}
RT_AI float rt_erff(float x) {
  float a = __builtin_fabsf(x);
  if (a < 1.0f) return rt_erf_small(x);
  if (x != x) return x;
  return __builtin_copysignf(1.0f - rt_erfc_big(a), x);
}
/* x/2 (1 + erf(x/sqrt2)), through erfc for x < 0 (no cancellation) */
RT_AI float rt_geluf(float x) {
  float u = x * 0.707106781186548f, a = __builtin_fabsf(u);
  if (x >= 0.0f) return 0.5f * x * (1.0f + rt_erff(u));
  float c = a < 1.0f ? 1.0f - rt_erf_small(a) : rt_erfc_core(a, rt_exp_negsq(x, 0.5f));   /* erfc(-u) = 1 + erf(u), u^2 = x^2/2 */
  return 0.5f * x * c;
}

RT_AI float rt_sinhf(float x) {
  float a = __builtin_fabsf(x);
  if (a < 1.0f) {
    float z = x * x;
    return x + x * z * (1.0f / 6 + z * (1.0f / 120 + z * (1.0f / 5040 + z * (1.0f / 362880 + z * (1.0f / 39916800)))));
  }
  float e = a < 88.0f ? 0.5f * rt_expf(a) : rt_expf(a - RT_LN2_F);
  return __builtin_copysignf(e - 0.25f / e, x);
}
RT_AI float rt_coshf(float x) {
  float a = __builtin_fabsf(x);
  float e = a < 88.0f ? 0.5f * rt_expf(a) : rt_expf(a - RT_LN2_F);
  return e + 0.25f / e;
}
RT_AI float rt_asinhf(float x) {
  float a = __builtin_fabsf(x), r;
  if (a > 1e4f) r = rt_logf(a) + RT_LN2_F;
  else r = rt_log1pf(a + a * a / (1.0f + __builtin_sqrtf(1.0f + a * a)));
  return __builtin_copysignf(r, x);
}
RT_AI float rt_acoshf(float x) {
  if (!(x >= 1.0f)) return __builtin_nanf("");
  if (x > 1e4f) return rt_logf(x) + RT_LN2_F;
  float t = x - 1.0f;
  return rt_log1pf(t + __builtin_sqrtf(2.0f * t + t * t));
}
RT_AI float rt_atanhf(float x) {
  float a = __builtin_fabsf(x);
  return __builtin_copysignf(0.5f * rt_log1pf(2.0f * a / (1.0f - a)), x);
}
RT_AI float rt_softplusf(float x) { return (x > 0.0f ? x : 0.0f) + rt_log1pf(rt_expf(-__builtin_fabsf(x))); }

RT_AI float rt_hardswishf(float v) {
  float t = v * (1.0f / 6) + 0.5f;
  t = t < 0.0f ? 0.0f : t;
  t = t > 1.0f ? 1.0f : t;
  return v * t;
}

/* The kinds added after RT_ACT_RECIPROCAL (heavier code): inlined where the kind is a constant (the unary
 * kernel), called out of line from rt_act1 / rt_act_f32x4 so that every epilogue does not carry them all. */
RT_AI float rt_act1_ext(int32_t kind, float a, float b, float v) {
  switch (kind) {
  case RT_ACT_LOG: return rt_logf(v);
  case RT_ACT_COS: return rt_cosf(v);
  case RT_ACT_SIN: return rt_sinf(v);
  case RT_ACT_TAN: return rt_tanf(v);
  case RT_ACT_ERF: return rt_erff(v);
  case RT_ACT_ELU: return v > 0.0f ? v : a * rt_expm1f(v);
  case RT_ACT_SELU: return v > 0.0f ? b * v : b * (a * rt_expm1f(v));
  case RT_ACT_CELU: return v > 0.0f ? v : a * rt_expm1f(v / a);
  case RT_ACT_SOFTPLUS: return rt_softplusf(v);
  case RT_ACT_SOFTSIGN: return v / (1.0f + __builtin_fabsf(v));
  case RT_ACT_FLOOR: return __builtin_floorf(v);
  case RT_ACT_CEIL: return __builtin_ceilf(v);
  case RT_ACT_ROUND: return __builtin_rintf(v);
  case RT_ACT_SIGN: return v > 0.0f ? 1.0f : v < 0.0f ? -1.0f : v == 0.0f ? 0.0f : v;
  case RT_ACT_THRESHOLDEDRELU: return v > a ? v : 0.0f;
  case RT_ACT_GELU: return rt_geluf(v);
  case RT_ACT_GELU_TANH: /* x/2 (1 + tanh t) = x sigmoid(2t): no cancellation for x << 0 */
    return v * rt_sigmoidf(1.59576912160573f * (v + 0.044715f * v * v * v));
  case RT_ACT_MISH: return v * rt_tanhf(rt_softplusf(v));
  case RT_ACT_ATAN: return rt_atanf(v);
  case RT_ACT_ASIN: return rt_asinf(v);
  case RT_ACT_ACOS: return rt_acosf(v);
  case RT_ACT_SINH: return rt_sinhf(v);
  case RT_ACT_COSH: return rt_coshf(v);
  case RT_ACT_ASINH: return rt_asinhf(v);
  case RT_ACT_ACOSH: return rt_acoshf(v);
  case RT_ACT_ATANH: return rt_atanhf(v);
  case RT_ACT_HARDSWISH_AFFINE: return rt_hardswishf(v) * a + b;
  case RT_ACT_SHRINK: return v < -a ? v + b : v > a ? v - b : 0.0f;
  default: return v;
  }
}
float rt_act1_ext_call(int32_t kind, float a, float b, float v);   /* out of line (elementwise.c) */

/* Scalar activation (RtActKind). */
RT_AI float rt_act1(int32_t kind, float a, float b, float v) {
  switch (kind) {
  case RT_ACT_RELU: return v < 0.0f ? 0.0f : v;
  case RT_ACT_CLIP: v = v < a ? a : v; return v > b ? b : v;
  case RT_ACT_SIGMOID: return rt_sigmoidf(v);
  case RT_ACT_HARDSIGMOID: v = a * v + b; v = v < 0.0f ? 0.0f : v; return v > 1.0f ? 1.0f : v;
  case RT_ACT_HARDSWISH: return rt_hardswishf(v);
  case RT_ACT_HARDSWISH_AFFINE: return rt_hardswishf(v) * a + b;
  case RT_ACT_LEAKYRELU: return v >= 0.0f ? v : a * v;
  case RT_ACT_TANH: return rt_tanhf(v);
  case RT_ACT_SILU: return v * rt_sigmoidf(v);
  case RT_ACT_EXP: return rt_expf(v);
  case RT_ACT_NEG: return -v;
  case RT_ACT_ABS: return __builtin_fabsf(v);
  case RT_ACT_SQRT: return __builtin_sqrtf(v);
  case RT_ACT_RECIPROCAL: return 1.0f / v;
  default: return rt_act1_ext_call(kind, a, b, v);
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
  case RT_BIN_PRELU: return a < 0.0f ? a * b : a;
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

#ifndef __wasm__
/* 16 floats for the native-width loops of the depthwise kernels; rt_relu_clip16 applies relu or clip in
 * registers (as the scalar reference: a NaN stays NaN), any other kind is left to rt_act_rows */
typedef float rt_v16 __attribute__((__vector_size__(64)));
typedef float rt_v16u __attribute__((__vector_size__(64), __aligned__(4)));
typedef int32_t rt_m16 __attribute__((__vector_size__(64)));
typedef int32_t rt_m16u __attribute__((__vector_size__(64), __aligned__(4)));
RT_AI rt_v16 rt_splat16(float x) { return (rt_v16){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}; }   /* not {0} + x: -0.0 would become +0.0 */
RT_AI rt_v16 rt_relu_clip16(rt_v16 v, int32_t kind, float a, float b) {
  if (kind != RT_ACT_RELU && kind != RT_ACT_CLIP) return v;
  rt_v16 lo = rt_splat16(kind == RT_ACT_RELU ? 0.0f : a), hi = rt_splat16(b);
  rt_m16 m = v < lo;
  v = (rt_v16)((m & (rt_m16)lo) | (~m & (rt_m16)v));
  if (kind == RT_ACT_CLIP) { m = hi < v; v = (rt_v16)((m & (rt_m16)hi) | (~m & (rt_m16)v)); }
  return v;
}
/* the kinds rt_relu_clip16 does not apply */
RT_AI int rt_act_after16(int32_t kind) { return kind != RT_ACT_NONE && kind != RT_ACT_RELU && kind != RT_ACT_CLIP; }

/* sigmoid over 16 lanes, rt_sigmoid_f32x4's algorithm (e = e^-|x| with the exponent from the float's bits,
 * f = e / (1 + e), 1 - f for x >= 0) at the native width */
RT_AI rt_v16 rt_sigmoid16(rt_v16 x) {
  const rt_v16 magic = rt_splat16(12583039.0f);              /* 1.5 * 2^23 + 127 */
  rt_m16 xi = (rt_m16)x;
  rt_v16 z = (rt_v16)(xi | (rt_m16)rt_splat16(-0.0f));       /* -|x| */
  rt_v16 n = z * RT_LOG2E + magic;
  rt_v16 sc = (rt_v16)((rt_m16)n << 23);                      /* 2^round(z log2 e) */
  n = n - magic;
  rt_v16 t = z - n * RT_LN2_HI;
  t = t - n * RT_LN2_LO;
  rt_v16 p = 0.041890114545822144f + t * 0.008312525227665901f;
  p = 0.16667114198207855f + t * p;
  p = 0.499992311000824f + t * p;
  p = 1.0f + t * p;
  rt_v16 e = sc + (t * sc) * p;
  rt_v16 f = e / (e + 1.0f);
  f = (rt_v16)((rt_m16)f & ~(z < -87.33654f));
  rt_m16 neg = xi >> 31;                                      /* all ones where x < 0 (sign bit) */
  return (rt_v16)(((rt_m16)f & neg) | ((rt_m16)(1.0f - f) & ~neg));
}

/* Native targets: an activation over rows of contiguous floats with the kind switch outside the loops,
 * so that the emitter's O3 vectorizes the scalar formulas at the CPU's width (16 lanes with AVX-512,
 * where the 4-lane rt_act_f32x4 would use a quarter of each register). Results are rt_act1's, the
 * scalar reference. */
#define RT_ROWS_(expr)                                                                  \
  for (int32_t i_ = 0; i_ < rows; i_++) {                                               \
    float *r_ = c + (ptrdiff_t)i_ * ldc;                                                \
    for (int32_t j_ = 0; j_ < cols; j_++) { float v = r_[j_]; r_[j_] = (expr); }        \
  }                                                                                     \
  break
/* the exp-based kinds 16 lanes at a time explicitly (what the vectorizer makes of rt_expf's range checks is
 * slower), the tail by the scalar formula */
#define RT_ROWS16_(vexpr, sexpr)                                                                \
  for (int32_t i_ = 0; i_ < rows; i_++) {                                                       \
    float *r_ = c + (ptrdiff_t)i_ * ldc;                                                        \
    int32_t j_ = 0;                                                                             \
    for (; j_ + 16 <= cols; j_ += 16) { rt_v16 v = *(rt_v16u *)(r_ + j_); *(rt_v16u *)(r_ + j_) = (vexpr); } \
    for (; j_ < cols; j_++) { float v = r_[j_]; r_[j_] = (sexpr); }                             \
  }                                                                                             \
  break
RT_AI void rt_act_rows(float *c, int32_t ldc, int32_t rows, int32_t cols, int32_t kind, float a, float b) {
  switch (kind) {
  case RT_ACT_NONE: break;
  case RT_ACT_SILU: RT_ROWS16_(v * rt_sigmoid16(v), v * rt_sigmoidf(v));
  case RT_ACT_SIGMOID: RT_ROWS16_(rt_sigmoid16(v), rt_sigmoidf(v));
  case RT_ACT_HARDSWISH: RT_ROWS_(rt_hardswishf(v));
  case RT_ACT_HARDSWISH_AFFINE: RT_ROWS_(rt_hardswishf(v) * a + b);
  case RT_ACT_TANH: RT_ROWS_(rt_tanhf(v));
  case RT_ACT_LEAKYRELU: RT_ROWS_(v >= 0.0f ? v : a * v);
  default: RT_ROWS_(rt_act1(kind, a, b, v));
  }
}
#undef RT_ROWS_
#undef RT_ROWS16_

#endif

/* ---------------------------------------------------------------- f32x4 math */
/* the scalar reference of the quantized MatMul (matmul_q.c), the oracle of rt_matmul_q__simd128 */
void rt_matmul_q__scalar(int32_t m, int32_t n, int32_t k, const float *a, int32_t a_rs, const RtWeightDesc *bw,
                         const void *bdata, const void *scale, void *scratch, float *y, int32_t ldc, const RtEpilogue *ep);

#if RT_SIMD128
#include "rt_vec.h"

#define RT_VS(c) wasm_f32x4_splat(c)
#define RT_VMUL(a, b) wasm_f32x4_mul(a, b)
#define RT_VADD(a, b) wasm_f32x4_add(a, b)

/* e^xc = 2^n * poly(r) for a clamped xc: returns poly(r) (in [0.7, 1.42]) and sets n = round(xc / ln 2) */
RT_AI v128_t rt_exp_poly_f32x4(v128_t xc, v128_t *n_out) {
  v128_t n = wasm_f32x4_nearest(wasm_f32x4_mul(xc, RT_VS(RT_LOG2E)));
  v128_t r = wasm_f32x4_sub(xc, wasm_f32x4_mul(n, RT_VS(RT_LN2_HI)));
  r = wasm_f32x4_sub(r, wasm_f32x4_mul(n, RT_VS(RT_LN2_LO)));
  v128_t pr = RT_VADD(RT_VS(RT_EXP_C5), RT_VMUL(r, RT_VS(RT_EXP_C6)));
  pr = RT_VADD(RT_VS(RT_EXP_C4), RT_VMUL(r, pr));
  pr = RT_VADD(RT_VS(RT_EXP_C3), RT_VMUL(r, pr));
  pr = RT_VADD(RT_VS(0.5f), RT_VMUL(r, pr));
  pr = RT_VADD(RT_VS(1.0f), RT_VMUL(r, pr));
  *n_out = n;
  return RT_VADD(RT_VS(1.0f), RT_VMUL(r, pr));
}

RT_AI v128_t rt_exp_f32x4(v128_t x) {
  v128_t hi = RT_VS(RT_EXP_HI), lo = RT_VS(RT_EXP_LO);
  v128_t over = wasm_f32x4_gt(x, hi), under = wasm_f32x4_lt(x, lo);
  v128_t xc = wasm_f32x4_pmin(wasm_f32x4_pmax(x, lo), hi); /* NaN passes through */
  v128_t n, pr = rt_exp_poly_f32x4(xc, &n);
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

/* sigmoid(x) from e = e^z, z = -|x| <= 0: f = e / (1 + e) is sigmoid(-|x|), and sigmoid(x) = 1 - f for
 * x >= 0. e = 2^n * e^t with n = round(z / ln 2) taken from the low bits of z * log2(e) + 1.5 * 2^23
 * (the bias 127 folded into that constant, so the exponent scale 2^n is those bits shifted left by 23:
 * no float->int conversion, which V8 expands to ~7 instructions on x64), t = z - n ln 2 in two parts, e^t
 * by a degree-5 polynomial fitted here for relative error on [-ln2/2, ln2/2] (1.1e-7; coefficients from
 * an iteratively reweighted least-squares fit, see docs/performance.md). z < -87.33 (e below the
 * smallest normal float) gives f = 0, like rt_exp_f32x4's flush of subnormal results. NaN passes through
 * (every lane op propagates it); x = +-inf gives 1 / 0. ~26 vector ops, against ~34 for the version with
 * a clamp, round and float->int conversion. */
RT_AI v128_t rt_sigmoid_f32x4(v128_t x) {
  const v128_t magic = RT_VS(12583039.0f);                 /* 1.5 * 2^23 + 127 */
  v128_t z = wasm_v128_or(x, wasm_i32x4_splat((int32_t)0x80000000u));   /* -|x| */
  v128_t n = wasm_f32x4_add(wasm_f32x4_mul(z, RT_VS(RT_LOG2E)), magic);
  v128_t s = wasm_i32x4_shl(n, 23);                        /* 2^round(z log2 e) */
  n = wasm_f32x4_sub(n, magic);
  v128_t t = wasm_f32x4_sub(z, wasm_f32x4_mul(n, RT_VS(RT_LN2_HI)));
  t = wasm_f32x4_sub(t, wasm_f32x4_mul(n, RT_VS(RT_LN2_LO)));
  v128_t p = RT_VADD(RT_VS(0.041890114545822144f), RT_VMUL(t, RT_VS(0.008312525227665901f)));
  p = RT_VADD(RT_VS(0.16667114198207855f), RT_VMUL(t, p));
  p = RT_VADD(RT_VS(0.499992311000824f), RT_VMUL(t, p));
  p = RT_VADD(RT_VS(1.0f), RT_VMUL(t, p));
  v128_t e = RT_VADD(s, RT_VMUL(wasm_f32x4_mul(t, s), p));  /* s (1 + t p) */
  v128_t f = wasm_f32x4_div(e, wasm_f32x4_add(e, RT_VS(1.0f)));
  f = wasm_v128_andnot(f, wasm_f32x4_lt(z, RT_VS(-87.33654f)));
  return wasm_v128_bitselect(f, wasm_f32x4_sub(RT_VS(1.0f), f), wasm_i32x4_shr(x, 31));
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

/* expm1: Taylor branch for |x| < 0.5, exp(x) - 1 otherwise (as rt_expm1f) */
RT_AI v128_t rt_expm1_f32x4(v128_t x) {
  v128_t p = RT_VADD(RT_VS(1.0f / 5040), RT_VMUL(x, RT_VS(1.0f / 40320)));
  p = RT_VADD(RT_VS(1.0f / 720), RT_VMUL(x, p));
  p = RT_VADD(RT_VS(1.0f / 120), RT_VMUL(x, p));
  p = RT_VADD(RT_VS(1.0f / 24), RT_VMUL(x, p));
  p = RT_VADD(RT_VS(1.0f / 6), RT_VMUL(x, p));
  p = RT_VADD(RT_VS(0.5f), RT_VMUL(x, p));
  v128_t small = RT_VADD(x, RT_VMUL(RT_VMUL(x, x), p));
  v128_t big = wasm_f32x4_sub(rt_exp_f32x4(x), RT_VS(1.0f));
  return wasm_v128_bitselect(small, big, wasm_f32x4_lt(wasm_f32x4_abs(x), RT_VS(0.5f)));
}

/* sin (cos when cosine != 0) with the reduction and polynomials of rt_sinf / rt_cosf */
RT_AI v128_t rt_sincos_f32x4(v128_t x, int cosine) {
  v128_t n = wasm_f32x4_nearest(RT_VMUL(x, RT_VS(RT_2OPI)));
  v128_t r = wasm_f32x4_sub(x, RT_VMUL(n, RT_VS(RT_PIO2_1)));
  r = wasm_f32x4_sub(r, RT_VMUL(n, RT_VS(RT_PIO2_2)));
  r = wasm_f32x4_sub(r, RT_VMUL(n, RT_VS(RT_PIO2_3)));
  v128_t m = wasm_f32x4_sub(n, RT_VMUL(RT_VS(4.0f), wasm_f32x4_floor(RT_VMUL(n, RT_VS(0.25f)))));
  v128_t q = wasm_i32x4_trunc_sat_f32x4(m);
  if (cosine) q = wasm_i32x4_add(q, wasm_i32x4_splat(1));
  v128_t z = RT_VMUL(r, r);
  v128_t ps = RT_VADD(RT_VS(1.0f / 362880), RT_VMUL(z, RT_VS(-1.0f / 39916800)));
  ps = RT_VADD(RT_VS(-1.0f / 5040), RT_VMUL(z, ps));
  ps = RT_VADD(RT_VS(1.0f / 120), RT_VMUL(z, ps));
  ps = RT_VADD(RT_VS(-1.0f / 6), RT_VMUL(z, ps));
  v128_t sv = RT_VADD(r, RT_VMUL(RT_VMUL(r, z), ps));
  v128_t pc = RT_VADD(RT_VS(1.0f / 40320), RT_VMUL(z, RT_VS(-1.0f / 3628800)));
  pc = RT_VADD(RT_VS(-1.0f / 720), RT_VMUL(z, pc));
  pc = RT_VADD(RT_VS(1.0f / 24), RT_VMUL(z, pc));
  pc = RT_VADD(RT_VS(-0.5f), RT_VMUL(z, pc));
  v128_t cv = RT_VADD(RT_VS(1.0f), RT_VMUL(z, pc));
  v128_t odd = wasm_i32x4_eq(wasm_v128_and(q, wasm_i32x4_splat(1)), wasm_i32x4_splat(1));
  v128_t v = wasm_v128_bitselect(cv, sv, odd);
  v128_t neg = wasm_i32x4_shl(wasm_v128_and(q, wasm_i32x4_splat(2)), 30);   /* bit 1 of q -> sign bit */
  v = wasm_v128_xor(v, neg);
  v128_t bad = wasm_f32x4_ne(wasm_f32x4_sub(x, x), RT_VS(0.0f));            /* inf, NaN */
  return wasm_v128_bitselect(RT_VS(__builtin_nanf("")), v, bad);
}

/* erf with the branches of rt_erff */
RT_AI v128_t rt_exp_negsq_f32x4(v128_t x, float h) {
  v128_t a = wasm_f32x4_abs(x), ah = wasm_v128_and(a, wasm_i32x4_splat((int32_t)0xfffff000u));
  v128_t e1 = rt_exp_f32x4(wasm_f32x4_neg(RT_VMUL(RT_VMUL(ah, ah), RT_VS(h))));
  return RT_VMUL(e1, rt_exp_f32x4(RT_VMUL(RT_VMUL(wasm_f32x4_sub(ah, a), RT_VADD(ah, a)), RT_VS(h))));
}
RT_AI v128_t rt_erfc_core_f32x4(v128_t a, v128_t ea) {
  v128_t t = wasm_f32x4_div(RT_VS(1.0f), RT_VADD(RT_VS(1.0f), RT_VMUL(RT_VS(0.5f), a)));
  v128_t p = RT_VADD(RT_VS(-0.82215223f), RT_VMUL(t, RT_VS(0.17087277f)));
  p = RT_VADD(RT_VS(1.48851587f), RT_VMUL(t, p));
  p = RT_VADD(RT_VS(-1.13520398f), RT_VMUL(t, p));
  p = RT_VADD(RT_VS(0.27886807f), RT_VMUL(t, p));
  p = RT_VADD(RT_VS(-0.18628806f), RT_VMUL(t, p));
  p = RT_VADD(RT_VS(0.09678418f), RT_VMUL(t, p));
  p = RT_VADD(RT_VS(0.37409196f), RT_VMUL(t, p));
  p = RT_VADD(RT_VS(1.00002368f), RT_VMUL(t, p));
  p = RT_VADD(RT_VS(-1.26551223f), RT_VMUL(t, p));
  return RT_VMUL(RT_VMUL(t, ea), rt_exp_f32x4(p));
}
RT_AI v128_t rt_erfc_big_f32x4(v128_t a) { return rt_erfc_core_f32x4(a, rt_exp_negsq_f32x4(a, 1.0f)); }
RT_AI v128_t rt_erf_small_f32x4(v128_t x) {
  v128_t z = RT_VMUL(x, x);
  static const float c[] = {-1.0f / 918086400, 1.0f / 76204800, -1.0f / 6894720, 1.0f / 685440, -1.0f / 75600, 1.0f / 9360,
                            -1.0f / 1320, 1.0f / 216, -1.0f / 42, 1.0f / 10, -1.0f / 3, 1.0f};
  v128_t p = RT_VS(c[0]);
  for (int i = 1; i < 12; i++) p = RT_VADD(RT_VS(c[i]), RT_VMUL(z, p));
  return RT_VMUL(RT_VMUL(RT_VS(1.12837916709551f), x), p);
}
RT_AI v128_t rt_erf_f32x4(v128_t x) {
  v128_t a = wasm_f32x4_abs(x);
  v128_t big = wasm_f32x4_sub(RT_VS(1.0f), rt_erfc_big_f32x4(wasm_f32x4_pmax(a, RT_VS(1.0f))));
  big = wasm_v128_or(big, wasm_v128_and(x, wasm_i32x4_splat((int32_t)0x80000000u)));
  v128_t r = wasm_v128_bitselect(rt_erf_small_f32x4(x), big, wasm_f32x4_lt(a, RT_VS(1.0f)));
  return wasm_v128_bitselect(x, r, wasm_f32x4_ne(x, x));
}
RT_AI v128_t rt_gelu_f32x4(v128_t x) {
  v128_t u = RT_VMUL(x, RT_VS(0.707106781186548f)), a = wasm_f32x4_abs(u);
  v128_t small = rt_erf_small_f32x4(a);
  v128_t big = rt_erfc_core_f32x4(wasm_f32x4_pmax(a, RT_VS(1.0f)), rt_exp_negsq_f32x4(x, 0.5f));
  v128_t ec = wasm_v128_bitselect(wasm_f32x4_sub(RT_VS(1.0f), small), big,
                                  wasm_f32x4_lt(a, RT_VS(1.0f)));                /* erfc(|u|) */
  v128_t ep = wasm_f32x4_sub(RT_VS(2.0f), ec);                                     /* 1 + erf(|u|) */
  v128_t f = wasm_v128_bitselect(ep, ec, wasm_f32x4_ge(x, RT_VS(0.0f)));
  return RT_VMUL(RT_VMUL(RT_VS(0.5f), x), f);
}

/* Lane-by-lane fallback through the scalar activation (kinds without an f32x4 formula). */
RT_AI v128_t rt_act_lanes(int32_t kind, float a, float b, v128_t v) {
  return wasm_f32x4_make(rt_act1_ext_call(kind, a, b, wasm_f32x4_extract_lane(v, 0)), rt_act1_ext_call(kind, a, b, wasm_f32x4_extract_lane(v, 1)),
                         rt_act1_ext_call(kind, a, b, wasm_f32x4_extract_lane(v, 2)), rt_act1_ext_call(kind, a, b, wasm_f32x4_extract_lane(v, 3)));
}

RT_AI v128_t rt_hardswish_f32x4(v128_t v) {
  v128_t t = wasm_f32x4_add(wasm_f32x4_mul(v, RT_VS(1.0f / 6)), RT_VS(0.5f));
  t = wasm_f32x4_pmin(wasm_f32x4_pmax(RT_VS(0.0f), t), RT_VS(1.0f));
  return wasm_f32x4_mul(v, t);
}

/* f32x4 versions of the kinds after RT_ACT_RECIPROCAL (see rt_act1_ext); the rest go lane by lane. */
RT_AI v128_t rt_act_ext_f32x4(int32_t kind, float a, float b, v128_t v) {
  switch (kind) {
  case RT_ACT_LOG: return rt_log_f32x4(v);
  case RT_ACT_COS: return rt_sincos_f32x4(v, 1);
  case RT_ACT_SIN: return rt_sincos_f32x4(v, 0);
  case RT_ACT_ERF: return rt_erf_f32x4(v);
  case RT_ACT_ELU:
    return wasm_v128_bitselect(v, RT_VMUL(RT_VS(a), rt_expm1_f32x4(v)), wasm_f32x4_gt(v, RT_VS(0.0f)));
  case RT_ACT_SELU:
    return RT_VMUL(RT_VS(b), wasm_v128_bitselect(v, RT_VMUL(RT_VS(a), rt_expm1_f32x4(v)), wasm_f32x4_gt(v, RT_VS(0.0f))));
  case RT_ACT_CELU:
    return wasm_v128_bitselect(v, RT_VMUL(RT_VS(a), rt_expm1_f32x4(wasm_f32x4_div(v, RT_VS(a)))), wasm_f32x4_gt(v, RT_VS(0.0f)));
  case RT_ACT_SOFTSIGN: return wasm_f32x4_div(v, RT_VADD(RT_VS(1.0f), wasm_f32x4_abs(v)));
  case RT_ACT_FLOOR: return wasm_f32x4_floor(v);
  case RT_ACT_CEIL: return wasm_f32x4_ceil(v);
  case RT_ACT_ROUND: return wasm_f32x4_nearest(v);
  case RT_ACT_SIGN: {
    v128_t one = wasm_v128_and(RT_VS(1.0f), wasm_f32x4_gt(v, RT_VS(0.0f)));
    v128_t m1 = wasm_v128_and(RT_VS(-1.0f), wasm_f32x4_lt(v, RT_VS(0.0f)));
    return wasm_v128_bitselect(v, wasm_v128_or(one, m1), wasm_f32x4_ne(v, v));   /* NaN stays */
  }
  case RT_ACT_THRESHOLDEDRELU: return wasm_v128_and(v, wasm_f32x4_gt(v, RT_VS(a)));
  case RT_ACT_GELU: return rt_gelu_f32x4(v);
  case RT_ACT_GELU_TANH: {
    v128_t t = RT_VMUL(RT_VS(1.59576912160573f), RT_VADD(v, RT_VMUL(RT_VS(0.044715f), RT_VMUL(v, RT_VMUL(v, v)))));
    return RT_VMUL(v, rt_sigmoid_f32x4(t));
  }
  case RT_ACT_HARDSWISH_AFFINE: return wasm_f32x4_add(wasm_f32x4_mul(rt_hardswish_f32x4(v), RT_VS(a)), RT_VS(b));
  case RT_ACT_SHRINK:   /* the two masks are disjoint (lambd >= 0 checked by the compiler) and both false for NaN */
    return wasm_v128_or(wasm_v128_and(wasm_f32x4_add(v, RT_VS(b)), wasm_f32x4_lt(v, RT_VS(-a))),
                        wasm_v128_and(wasm_f32x4_sub(v, RT_VS(b)), wasm_f32x4_gt(v, RT_VS(a))));
  default: return rt_act_lanes(kind, a, b, v);
  }
}
v128_t rt_act_ext_f32x4_call(int32_t kind, float a, float b, v128_t v);   /* out of line (elementwise.c) */

/* f32x4 activation; kind is loop-invariant at every call site so the switch is cheap. */
RT_AI v128_t rt_act_f32x4(int32_t kind, float a, float b, v128_t v) {
  switch (kind) {
  case RT_ACT_RELU: return wasm_f32x4_pmax(v, RT_VS(0.0f)); /* v < 0 ? 0 : v, as the scalar */
  case RT_ACT_CLIP: return wasm_f32x4_pmin(wasm_f32x4_pmax(RT_VS(a), v), RT_VS(b));
  case RT_ACT_SIGMOID: return rt_sigmoid_f32x4(v);
  case RT_ACT_HARDSIGMOID:
    v = wasm_f32x4_add(wasm_f32x4_mul(v, RT_VS(a)), RT_VS(b));
    return wasm_f32x4_pmin(wasm_f32x4_pmax(RT_VS(0.0f), v), RT_VS(1.0f));
  case RT_ACT_HARDSWISH: return rt_hardswish_f32x4(v);
  case RT_ACT_HARDSWISH_AFFINE: return wasm_f32x4_add(wasm_f32x4_mul(rt_hardswish_f32x4(v), RT_VS(a)), RT_VS(b));
  case RT_ACT_LEAKYRELU:
    return wasm_v128_bitselect(v, wasm_f32x4_mul(v, RT_VS(a)), wasm_f32x4_ge(v, RT_VS(0.0f)));
  case RT_ACT_TANH: return rt_tanh_f32x4(v);
  case RT_ACT_SILU: return wasm_f32x4_mul(v, rt_sigmoid_f32x4(v));
  case RT_ACT_EXP: return rt_exp_f32x4(v);
  case RT_ACT_NEG: return wasm_f32x4_neg(v);
  case RT_ACT_ABS: return wasm_f32x4_abs(v);
  case RT_ACT_SQRT: return wasm_f32x4_sqrt(v);
  case RT_ACT_RECIPROCAL: return wasm_f32x4_div(RT_VS(1.0f), v);
  case RT_ACT_NONE: return v;
  default: return rt_act_ext_f32x4_call(kind, a, b, v);
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
  case RT_BIN_PRELU: return wasm_v128_bitselect(wasm_f32x4_mul(a, b), a, wasm_f32x4_lt(a, wasm_f32x4_splat(0.0f)));
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
extern RT_TLS float rt_abuf[RT_ABUF_FLOATS];
/* packb for an explicit B[k][j] = b[k*ks + j*ns] (ctx: RtStridedB). */
typedef struct { const float *b; int32_t ks, ns; } RtStridedB;
void rt_packb_strided(const void *ctx, int32_t k0, int32_t kc, int32_t j0, int32_t nv, float *dst);

/* The whole epilogue on 4 columns (nl valid) of row i, in rt_epi1's order of operations. */
RT_AI v128_t rt_epi_f32x4(const RtEpilogue *ep, v128_t v, int32_t i, int32_t j, int32_t nl) {
  if (ep->alpha != 1.0f) v = wasm_f32x4_mul(v, wasm_f32x4_splat(ep->alpha));
  if (ep->add != 0.0f) v = wasm_f32x4_add(v, wasm_f32x4_splat(ep->add));
  if (ep->rowv) v = wasm_f32x4_add(v, wasm_f32x4_splat(ep->rowv[i] * ep->rows));
  if (ep->colv) v = wasm_f32x4_add(v, wasm_f32x4_mul(rt_load_part(ep->colv + j, nl), wasm_f32x4_splat(ep->cols)));
  if (ep->full)
    v = wasm_f32x4_add(v, wasm_f32x4_mul(rt_load_part(ep->full + (ptrdiff_t)i * ep->ldf + j, nl), wasm_f32x4_splat(ep->fulls)));
  return rt_act_f32x4(ep->act, ep->act_a, ep->act_b, v);
}

/* MatMul with a quantized constant B (matmul_q.c): C = epilogue(A B), A rows a_rs apart, bw RT_WF_Q8/Q4_PANELS,
 * scratch rt_matmul_q_scratch_bytes(k, bw->block) bytes. */
void rt_matmul_q__simd128(int32_t m, int32_t n, int32_t k, const float *a, int32_t a_rs, const RtWeightDesc *bw,
                          const void *bdata, const void *scale, void *scratch, float *y, int32_t ldc, const RtEpilogue *ep);
/* C[M][N] = epilogue(A * B) with A[i][k] = a[i*a_rs + k*a_ks], B[k][j] = b[k*b_ks + j*b_ns]:
 * rt_gemm_core with a strided B (dot products for M < 4 with B^T). C may equal ep->full. */
void rt_sgemm_f32x4(int32_t m, int32_t n, int32_t k, const float *a, int32_t a_rs, int32_t a_ks,
                    const float *b, int32_t b_ks, int32_t b_ns, float *c, int32_t ldc,
                    const RtEpilogue *ep);
#endif /* RT_SIMD128 */

#endif
