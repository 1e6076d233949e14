/* cast.c — elementwise dtype conversion (ONNX Cast) between float32 (1), float64 (11), float16 (10),
 * bfloat16 (16), int32 (6), int64 (7), bool (9), uint8 (2) and int8 (3).
 *
 * Rules:
 *  - float -> integer: truncate toward zero, saturate at the target's range (so negative -> uint8 is 0,
 *    +-inf go to max/min), NaN -> 0. Written with explicit range checks: an out-of-range float -> int C cast
 *    is undefined (and wasm's non-saturating trunc traps).
 *  - integer -> narrower integer: two's complement wrap-around (keep the low bits), as numpy and
 *    onnxruntime do; only float sources saturate.
 *  - any -> bool: x != 0 (NaN -> 1); bool -> any: 0 or 1 (a bool byte other than 0 counts as 1).
 *  - float64 -> float32 rounds to nearest (values beyond the f32 range become +-inf); integer -> float
 *    rounds to nearest.
 *  - to float16 / bfloat16: round to nearest even from the source value (float16 from float64 directly,
 *    not through float32), overflow to +-inf, NaN stays NaN; float16 subnormals are kept. From them: exact.
 *  - from == to copies; unsupported codes leave y untouched.
 * Elements are converted in increasing index order; x == y is allowed only when from == to (or both
 * types have the same size).
 * Each (from, to) pair gets its own loop: cast_loop is always inlined with constant codes. No separate SIMD
 * variant: the loops are simple enough for the compiler's vectorizer and Cast is rarely hot.
 */
#include "rt_internal.h"

enum { T_F32 = 1, T_U8 = 2, T_I8 = 3, T_I32 = 6, T_I64 = 7, T_BOOL = 9, T_F16 = 10, T_F64 = 11, T_BF16 = 16 };

RT_AI int is_float(const int t) { return t == T_F32 || t == T_F64 || t == T_F16 || t == T_BF16; }
RT_AI int known(int32_t t) {
  return t == T_F32 || t == T_F64 || t == T_I32 || t == T_I64 || t == T_BOOL || t == T_U8 || t == T_I8 ||
         t == T_F16 || t == T_BF16;
}

/* float -> bfloat16, round to nearest even (NaN kept, quiet) */
RT_AI uint16_t float_to_bf16(float f) {
  union { float f; uint32_t u; } v = {f};
  if ((v.u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((v.u >> 16) | 0x40u);
  return (uint16_t)((v.u + 0x7fffu + ((v.u >> 16) & 1u)) >> 16);
}

RT_AI double load_f(const int T, const void *x, ptrdiff_t i) {
  if (T == T_F16) return half_to_double(((const uint16_t *)x)[i]);
  if (T == T_BF16) {
    union { uint32_t u; float f; } v = {(uint32_t)((const uint16_t *)x)[i] << 16};
    return v.f;
  }
  return T == T_F32 ? (double)((const float *)x)[i] : ((const double *)x)[i];
}

RT_AI int64_t load_i(const int T, const void *x, ptrdiff_t i) {
  switch (T) {
  case T_U8: return ((const uint8_t *)x)[i];
  case T_I8: return ((const int8_t *)x)[i];
  case T_I32: return ((const int32_t *)x)[i];
  case T_BOOL: return ((const uint8_t *)x)[i] != 0;
  default: return ((const int64_t *)x)[i];
  }
}

/* d (any double, incl. NaN / inf) -> integer of range [lo, hi]: NaN -> 0, truncation toward zero, saturation.
 * lo and hi are exactly representable doubles for every target except int64's hi (2^63 - 1), hence the
 * comparisons against hi + 1 = 2^63 and lo - 1 (or lo itself when lo - 1 is not representable). */
RT_AI int64_t sat_i(double d, const int T) {
  if (d != d) return 0;
  switch (T) {
  case T_U8:
    if (d <= -1.0) return 0;
    if (d >= 256.0) return 255;
    return (int64_t)d;
  case T_I8:
    if (d <= -129.0) return -128;
    if (d >= 128.0) return 127;
    return (int64_t)d;
  case T_I32:
    if (d <= -2147483649.0) return INT32_MIN;
    if (d >= 2147483648.0) return INT32_MAX;
    return (int64_t)d;
  default: /* int64 */
    if (d < -9223372036854775808.0) return INT64_MIN;
    if (d >= 9223372036854775808.0) return INT64_MAX;
    return (int64_t)d;
  }
}

/* Store an integer value v (already in range for float sources; wrapped for integer sources). */
RT_AI void store_i(const int T, void *y, ptrdiff_t i, int64_t v) {
  switch (T) {
  case T_U8: ((uint8_t *)y)[i] = (uint8_t)(uint64_t)v; break;
  case T_I8: ((int8_t *)y)[i] = (int8_t)(uint8_t)(uint64_t)v; break; /* clang: modulo, like wasm */
  case T_I32: ((int32_t *)y)[i] = (int32_t)(uint32_t)(uint64_t)v; break;
  case T_BOOL: ((uint8_t *)y)[i] = v != 0; break;
  default: ((int64_t *)y)[i] = v; break;
  }
}

RT_AI void cast_one(const int F, const int T, const void *x, void *y, ptrdiff_t i) {
  if (is_float(F)) {
    double d = load_f(F, x, i);
    if (T == T_F32) ((float *)y)[i] = (float)d; /* f64 -> f32: f32.demote_f64, overflow -> inf */
    else if (T == T_F64) ((double *)y)[i] = d;
    else if (T == T_F16) ((uint16_t *)y)[i] = double_to_half(d);
    else if (T == T_BF16) ((uint16_t *)y)[i] = float_to_bf16((float)d);   /* exact for f32/f16 sources */
    else if (T == T_BOOL) ((uint8_t *)y)[i] = d != 0.0;
    else store_i(T, y, i, sat_i(d, T));
  } else {
    int64_t v = load_i(F, x, i);
    if (T == T_F32) ((float *)y)[i] = (float)v;
    else if (T == T_F64) ((double *)y)[i] = (double)v;
    else if (T == T_F16) ((uint16_t *)y)[i] = double_to_half((double)v);
    else if (T == T_BF16) ((uint16_t *)y)[i] = float_to_bf16((float)v);
    else store_i(T, y, i, v);
  }
}

RT_AI void cast_loop(const int F, const int T, const void *x, void *y, int32_t n) {
  for (int32_t i = 0; i < n; i++) cast_one(F, T, x, y, i);
}

#define CAST_TO(F)                                                  \
  switch (p->to) {                                                  \
  case T_F32: cast_loop(F, T_F32, x, y, p->n); break;               \
  case T_F64: cast_loop(F, T_F64, x, y, p->n); break;               \
  case T_I32: cast_loop(F, T_I32, x, y, p->n); break;               \
  case T_I64: cast_loop(F, T_I64, x, y, p->n); break;               \
  case T_BOOL: cast_loop(F, T_BOOL, x, y, p->n); break;             \
  case T_U8: cast_loop(F, T_U8, x, y, p->n); break;                 \
  case T_I8: cast_loop(F, T_I8, x, y, p->n); break;                 \
  case T_F16: cast_loop(F, T_F16, x, y, p->n); break;               \
  case T_BF16: cast_loop(F, T_BF16, x, y, p->n); break;             \
  default: break;                                                   \
  }

RT_AI size_t esize(int32_t t) {
  return t == T_F64 || t == T_I64 ? 8 : t == T_F32 || t == T_I32 ? 4 : t == T_F16 || t == T_BF16 ? 2 : 1;
}

void rt_cast__scalar(const RtCast *p) {
  const void *x = RT_PTR(const void, p->x);
  void *y = RT_PTR(void, p->y);
  if (!known(p->from) || !known(p->to) || p->n <= 0) return;
  if (p->from == p->to && p->from != T_BOOL) { /* bool -> bool still normalizes to 0/1 */
    if (x != y) __builtin_memmove(y, x, (size_t)p->n * esize(p->from));
    return;
  }
  switch (p->from) {
  case T_F32: CAST_TO(T_F32) break;
  case T_F64: CAST_TO(T_F64) break;
  case T_I32: CAST_TO(T_I32) break;
  case T_I64: CAST_TO(T_I64) break;
  case T_BOOL: CAST_TO(T_BOOL) break;
  case T_U8: CAST_TO(T_U8) break;
  case T_I8: CAST_TO(T_I8) break;
  case T_F16: CAST_TO(T_F16) break;
  case T_BF16: CAST_TO(T_BF16) break;
  default: break;
  }
}

RT_EXPORT("rt_cast") void rt_cast(const RtCast *p) { rt_cast__scalar(p); }
