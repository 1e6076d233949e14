/* rt_vec.h — the 128-bit vector vocabulary of the kernels, for every ISA they are built for.
 *
 * The kernels are written once against the WebAssembly SIMD128 operation set (its names and its
 * semantics: pmin/pmax, saturating truncation, round-half-even, bitselect). On wasm32 this header is
 * clang's <wasm_simd128.h>; on x86-64 and AArch64 it defines the same operations over clang vector
 * extensions and elementwise builtins, which LLVM lowers to SSE/AVX or NEON instructions one to one
 * (no scalar emulation: every operation used here has a direct native form). Only the operations the
 * kernels use are defined; a kernel that needs another one adds it here, with wasm's semantics.
 *
 * Native builds keep wasm's results except for rounding where FMA contraction applies (a*b+c may be
 * fused when the target has FMA, as relaxed_madd allows).
 *
 * Wider registers (AVX2's 8 lanes, AVX-512's 16) are a different kernel, not a different spelling of
 * this one: the hot micro-kernels have native-width variants of their own (see gemm.c). */
#ifndef RT_VEC_H
#define RT_VEC_H

#if defined(__wasm_simd128__)
#include <wasm_simd128.h>

/* The relaxed-SIMD build of the compiler's kernel module (runtime/build-kernels.sh --relaxed-imports):
 * binaryen 108 cannot read relaxed-SIMD opcodes, so each relaxed operation is a call to a function imported
 * from "o2w_relaxed", which codegen/wasm_relax.c turns into the instruction once binaryen has optimized the
 * module. const: a pure function to the optimizer (it is an instruction). */
#if defined(RT_RELAXED_IMPORTS)
#define RT_RELAXED_IMPORT(name) __attribute__((import_module("o2w_relaxed"), import_name(name), const))
RT_RELAXED_IMPORT("f32x4_madd") v128_t rt_relaxed_f32x4_madd(v128_t a, v128_t b, v128_t c);
#define RT_FMA 1
#define rt_madd_f32x4(a, b, c) rt_relaxed_f32x4_madd(a, b, c)
#elif defined(__wasm_relaxed_simd__)   /* build-kernels.sh --relaxed: the instructions themselves (bench/gemm) */
#define RT_FMA 1
#define rt_madd_f32x4(a, b, c) wasm_f32x4_relaxed_madd(a, b, c)
#else                                  /* the baseline module: SIMD128 only */
#define RT_FMA 0
#define rt_madd_f32x4(a, b, c) wasm_f32x4_add(c, wasm_f32x4_mul(a, b))   /* the order the kernels always had */
#endif

#elif defined(__clang__) && (defined(__x86_64__) || defined(__aarch64__))
#include <stdint.h>
#if defined(__aarch64__)
#include <arm_neon.h>   /* the few operations the generic vector code would not lower to one instruction */
#endif

typedef int32_t v128_t __attribute__((__vector_size__(16), __aligned__(16)));
typedef float rt_f32x4 __attribute__((__vector_size__(16), __aligned__(16)));
typedef int32_t rt_i32x4 __attribute__((__vector_size__(16), __aligned__(16)));
typedef uint32_t rt_u32x4 __attribute__((__vector_size__(16), __aligned__(16)));
typedef int64_t rt_i64x2 __attribute__((__vector_size__(16), __aligned__(16)));
typedef int16_t rt_i16x8 __attribute__((__vector_size__(16), __aligned__(16)));
typedef uint16_t rt_u16x8 __attribute__((__vector_size__(16), __aligned__(16)));
typedef uint8_t rt_u8x16 __attribute__((__vector_size__(16), __aligned__(16)));
typedef int8_t rt_i8x16 __attribute__((__vector_size__(16), __aligned__(16)));
typedef int32_t rt_i32x2 __attribute__((__vector_size__(8)));
/* unaligned, type-punning views for loads and stores */
typedef int32_t rt_v128u __attribute__((__vector_size__(16), __aligned__(1), __may_alias__));
typedef int32_t rt_i32u __attribute__((__aligned__(1), __may_alias__));
typedef int64_t rt_i64u __attribute__((__aligned__(1), __may_alias__));

#define RT_VF static inline __attribute__((always_inline, nodebug))

RT_VF v128_t wasm_v128_load(const void *p) { return (v128_t)*(const rt_v128u *)p; }
RT_VF void wasm_v128_store(void *p, v128_t v) { *(rt_v128u *)p = v; }
RT_VF v128_t wasm_v128_load32_splat(const void *p) { int32_t x = *(const rt_i32u *)p; return (v128_t){x, x, x, x}; }
RT_VF v128_t wasm_v128_load32_zero(const void *p) { return (v128_t){*(const rt_i32u *)p, 0, 0, 0}; }
RT_VF v128_t wasm_v128_load64_zero(const void *p) { return (v128_t)(rt_i64x2){*(const rt_i64u *)p, 0}; }
#define wasm_v128_load32_lane(p, v, i) __extension__({ v128_t _v = (v); _v[i] = *(const rt_i32u *)(p); _v; })
#define wasm_v128_store32_lane(p, v, i) ((void)(*(rt_i32u *)(p) = ((v128_t)(v))[i]))
#define wasm_v128_store64_lane(p, v, i) ((void)(*(rt_i64u *)(p) = ((rt_i64x2)(v))[i]))

RT_VF v128_t wasm_f32x4_splat(float x) { return (v128_t)(rt_f32x4){x, x, x, x}; }
RT_VF v128_t wasm_i32x4_splat(int32_t x) { return (v128_t){x, x, x, x}; }
#define wasm_f32x4_const_splat(x) ((v128_t)(rt_f32x4){(x), (x), (x), (x)})
#define wasm_i32x4_const_splat(x) ((v128_t){(x), (x), (x), (x)})
#define wasm_i64x2_const_splat(x) ((v128_t)(rt_i64x2){(x), (x)})
RT_VF v128_t wasm_f32x4_make(float a, float b, float c, float d) { return (v128_t)(rt_f32x4){a, b, c, d}; }
RT_VF v128_t wasm_i32x4_make(int32_t a, int32_t b, int32_t c, int32_t d) { return (v128_t){a, b, c, d}; }
#define wasm_f32x4_extract_lane(v, i) (((rt_f32x4)(v))[i])

#define wasm_i32x4_shuffle(a, b, c0, c1, c2, c3) \
  ((v128_t)__builtin_shufflevector((rt_i32x4)(a), (rt_i32x4)(b), c0, c1, c2, c3))
#define wasm_i64x2_shuffle(a, b, c0, c1) ((v128_t)__builtin_shufflevector((rt_i64x2)(a), (rt_i64x2)(b), c0, c1))
#define wasm_i8x16_shuffle(a, b, c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15) \
  ((v128_t)__builtin_shufflevector((rt_i8x16)(a), (rt_i8x16)(b), c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10, c11, c12, c13, c14, c15))

#define RT_F(v) ((rt_f32x4)(v))
/* lanes of a where m is all ones, of b where it is zero (C has no vector ?:) */
RT_VF v128_t rt_sel(v128_t m, v128_t a, v128_t b) { return (a & m) | (b & ~m); }
RT_VF v128_t wasm_f32x4_add(v128_t a, v128_t b) { return (v128_t)(RT_F(a) + RT_F(b)); }
RT_VF v128_t wasm_f32x4_sub(v128_t a, v128_t b) { return (v128_t)(RT_F(a) - RT_F(b)); }
RT_VF v128_t wasm_f32x4_mul(v128_t a, v128_t b) { return (v128_t)(RT_F(a) * RT_F(b)); }
RT_VF v128_t wasm_f32x4_div(v128_t a, v128_t b) { return (v128_t)(RT_F(a) / RT_F(b)); }
RT_VF v128_t wasm_f32x4_neg(v128_t a) { return (v128_t)(-RT_F(a)); }
RT_VF v128_t wasm_f32x4_abs(v128_t a) { return (v128_t)__builtin_elementwise_abs(RT_F(a)); }
RT_VF v128_t wasm_f32x4_sqrt(v128_t a) { return (v128_t)__builtin_elementwise_sqrt(RT_F(a)); }
RT_VF v128_t wasm_f32x4_floor(v128_t a) { return (v128_t)__builtin_elementwise_floor(RT_F(a)); }
RT_VF v128_t wasm_f32x4_ceil(v128_t a) { return (v128_t)__builtin_elementwise_ceil(RT_F(a)); }
RT_VF v128_t wasm_f32x4_trunc(v128_t a) { return (v128_t)__builtin_elementwise_trunc(RT_F(a)); }
RT_VF v128_t wasm_f32x4_nearest(v128_t a) { return (v128_t)__builtin_elementwise_roundeven(RT_F(a)); }
/* pmin/pmax: wasm's pseudo-min/max, b < a ? b : a and a < b ? b : a (minps/maxps on x86, one compare
 * and a select on NEON) */
RT_VF v128_t wasm_f32x4_pmin(v128_t a, v128_t b) { return rt_sel((v128_t)(RT_F(b) < RT_F(a)), b, a); }
RT_VF v128_t wasm_f32x4_pmax(v128_t a, v128_t b) { return rt_sel((v128_t)(RT_F(a) < RT_F(b)), b, a); }
/* relaxed_madd may round once or twice; the native builds leave the choice to FP contraction */
RT_VF v128_t wasm_f32x4_relaxed_madd(v128_t a, v128_t b, v128_t c) { return (v128_t)(RT_F(a) * RT_F(b) + RT_F(c)); }
/* a*b + c, fused where the target has FMA (rt_madd_f32x4: the same in every build where RT_FMA is 1) */
#define RT_FMA 1
#define rt_madd_f32x4(a, b, c) wasm_f32x4_relaxed_madd(a, b, c)

RT_VF v128_t wasm_f32x4_eq(v128_t a, v128_t b) { return (v128_t)(RT_F(a) == RT_F(b)); }
RT_VF v128_t wasm_f32x4_ne(v128_t a, v128_t b) { return (v128_t)(RT_F(a) != RT_F(b)); }
RT_VF v128_t wasm_f32x4_lt(v128_t a, v128_t b) { return (v128_t)(RT_F(a) < RT_F(b)); }
RT_VF v128_t wasm_f32x4_le(v128_t a, v128_t b) { return (v128_t)(RT_F(a) <= RT_F(b)); }
RT_VF v128_t wasm_f32x4_gt(v128_t a, v128_t b) { return (v128_t)(RT_F(a) > RT_F(b)); }
RT_VF v128_t wasm_f32x4_ge(v128_t a, v128_t b) { return (v128_t)(RT_F(a) >= RT_F(b)); }

RT_VF v128_t wasm_i32x4_add(v128_t a, v128_t b) { return (v128_t)((rt_u32x4)a + (rt_u32x4)b); }
RT_VF v128_t wasm_i32x4_sub(v128_t a, v128_t b) { return (v128_t)((rt_u32x4)a - (rt_u32x4)b); }
RT_VF v128_t wasm_i64x2_add(v128_t a, v128_t b) { return (v128_t)((rt_i64x2)a + (rt_i64x2)b); }
RT_VF v128_t wasm_i32x4_eq(v128_t a, v128_t b) { return (v128_t)(a == b); }
RT_VF v128_t wasm_i32x4_gt(v128_t a, v128_t b) { return (v128_t)(a > b); }
/* shifts take the count modulo the lane width, as wasm does */
RT_VF v128_t wasm_i32x4_shl(v128_t a, uint32_t n) { return (v128_t)((rt_u32x4)a << (int32_t)(n & 31)); }
RT_VF v128_t wasm_i32x4_shr(v128_t a, uint32_t n) { return a >> (int32_t)(n & 31); }
RT_VF v128_t wasm_u32x4_shr(v128_t a, uint32_t n) { return (v128_t)((rt_u32x4)a >> (uint32_t)(n & 31)); }

RT_VF v128_t wasm_v128_and(v128_t a, v128_t b) { return a & b; }
RT_VF v128_t wasm_v128_or(v128_t a, v128_t b) { return a | b; }
RT_VF v128_t wasm_v128_xor(v128_t a, v128_t b) { return a ^ b; }
RT_VF v128_t wasm_v128_andnot(v128_t a, v128_t b) { return a & ~b; }
RT_VF v128_t wasm_v128_bitselect(v128_t a, v128_t b, v128_t m) { return rt_sel(m, a, b); }

RT_VF v128_t wasm_f32x4_convert_i32x4(v128_t a) { return (v128_t)__builtin_convertvector(a, rt_f32x4); }
/* saturating: NaN -> 0, out of range -> INT32_MIN / INT32_MAX (a plain conversion is undefined there) */
RT_VF v128_t wasm_i32x4_trunc_sat_f32x4(v128_t a) {
  rt_f32x4 f = RT_F(a);
  v128_t c = rt_sel((v128_t)(f == f), a, (v128_t){0, 0, 0, 0});
  c = rt_sel((v128_t)(RT_F(c) < -2147483648.0f), wasm_f32x4_const_splat(-2147483648.0f), c);
  c = rt_sel((v128_t)(RT_F(c) > 2147483520.0f), wasm_f32x4_const_splat(2147483520.0f), c); /* largest float < 2^31 */
  v128_t r = (v128_t)__builtin_convertvector(RT_F(c), rt_i32x4);
  return rt_sel((v128_t)(f >= 2147483648.0f), wasm_i32x4_const_splat(INT32_MAX), r);
}
RT_VF v128_t wasm_i64x2_extend_low_i32x4(v128_t a) {
  return (v128_t)__builtin_convertvector(__builtin_shufflevector(a, a, 0, 1), rt_i64x2);
}
RT_VF v128_t wasm_i64x2_extend_high_i32x4(v128_t a) {
  return (v128_t)__builtin_convertvector(__builtin_shufflevector(a, a, 2, 3), rt_i64x2);
}
/* saturating narrows of signed lanes to unsigned: lanes of a then of b */
RT_VF v128_t wasm_u16x8_narrow_i32x4(v128_t a, v128_t b) {
  v128_t z = {0, 0, 0, 0}, m = {65535, 65535, 65535, 65535};
  v128_t ca = rt_sel(a < z, z, rt_sel(a > m, m, a)), cb = rt_sel(b < z, z, rt_sel(b > m, m, b));
  typedef int32_t i32x8 __attribute__((__vector_size__(32)));
  i32x8 all = __builtin_shufflevector(ca, cb, 0, 1, 2, 3, 4, 5, 6, 7);
  return (v128_t)__builtin_convertvector(all, rt_u16x8);
}
RT_VF v128_t wasm_u8x16_narrow_i16x8(v128_t a, v128_t b) {
  rt_i16x8 z = {0}, m = z + 255, x = (rt_i16x8)a, y = (rt_i16x8)b;
  x = (rt_i16x8)rt_sel((v128_t)(x < z), (v128_t)z, rt_sel((v128_t)(x > m), (v128_t)m, (v128_t)x));
  y = (rt_i16x8)rt_sel((v128_t)(y < z), (v128_t)z, rt_sel((v128_t)(y > m), (v128_t)m, (v128_t)y));
  typedef int16_t i16x16 __attribute__((__vector_size__(32)));
  i16x16 all = __builtin_shufflevector(x, y, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  return (v128_t)__builtin_convertvector(all, rt_u8x16);
}

/* 16-bit lanes (the integer GEMM, qgemm.c): wrapping add/sub/mul, widening of the low 8 bytes */
RT_VF v128_t wasm_i16x8_splat(int16_t x) { return (v128_t)(rt_i16x8){x, x, x, x, x, x, x, x}; }
RT_VF v128_t wasm_i8x16_splat(int8_t x) { return (v128_t)(rt_i8x16){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}; }
RT_VF v128_t wasm_u8x16_max(v128_t a, v128_t b) { return (v128_t)__builtin_elementwise_max((rt_u8x16)a, (rt_u8x16)b); }
RT_VF v128_t wasm_i16x8_make(int16_t a, int16_t b, int16_t c, int16_t d, int16_t e, int16_t f, int16_t g, int16_t h) {
  return (v128_t)(rt_i16x8){a, b, c, d, e, f, g, h};
}
RT_VF v128_t wasm_i16x8_gt(v128_t a, v128_t b) { return (v128_t)((rt_i16x8)a > (rt_i16x8)b); }
RT_VF v128_t wasm_i16x8_add(v128_t a, v128_t b) { return (v128_t)((rt_u16x8)a + (rt_u16x8)b); }
RT_VF v128_t wasm_i16x8_sub(v128_t a, v128_t b) { return (v128_t)((rt_u16x8)a - (rt_u16x8)b); }
RT_VF v128_t wasm_i16x8_mul(v128_t a, v128_t b) { return (v128_t)((rt_u16x8)a * (rt_u16x8)b); }
#define wasm_i16x8_shuffle(a, b, c0, c1, c2, c3, c4, c5, c6, c7) \
  ((v128_t)__builtin_shufflevector((rt_i16x8)(a), (rt_i16x8)(b), c0, c1, c2, c3, c4, c5, c6, c7))
RT_VF v128_t wasm_i16x8_extend_low_i8x16(v128_t a) {
  rt_i8x16 x = (rt_i8x16)a;
  return (v128_t)__builtin_convertvector(__builtin_shufflevector(x, x, 0, 1, 2, 3, 4, 5, 6, 7), rt_i16x8);
}
RT_VF v128_t wasm_u16x8_extend_low_u8x16(v128_t a) {
  rt_u8x16 x = (rt_u8x16)a;
  return (v128_t)__builtin_convertvector(__builtin_shufflevector(x, x, 0, 1, 2, 3, 4, 5, 6, 7), rt_u16x8);
}
RT_VF v128_t wasm_i16x8_extend_high_i8x16(v128_t a) {
  rt_i8x16 x = (rt_i8x16)a;
  return (v128_t)__builtin_convertvector(__builtin_shufflevector(x, x, 8, 9, 10, 11, 12, 13, 14, 15), rt_i16x8);
}
RT_VF v128_t wasm_u16x8_extend_high_u8x16(v128_t a) {
  rt_u8x16 x = (rt_u8x16)a;
  return (v128_t)__builtin_convertvector(__builtin_shufflevector(x, x, 8, 9, 10, 11, 12, 13, 14, 15), rt_u16x8);
}
/* the quantized MatMul (matmul_q.c): 16-bit shifts, a signed saturating narrow, lane extraction, 8-bit lanes */
RT_VF v128_t wasm_i16x8_shl(v128_t a, uint32_t n) { return (v128_t)((rt_u16x8)a << (uint16_t)(n & 15)); }
RT_VF v128_t wasm_i16x8_shr(v128_t a, uint32_t n) { return (v128_t)((rt_i16x8)a >> (int16_t)(n & 15)); }
RT_VF v128_t wasm_u16x8_shr(v128_t a, uint32_t n) { return (v128_t)((rt_u16x8)a >> (uint16_t)(n & 15)); }
RT_VF v128_t wasm_i16x8_narrow_i32x4(v128_t a, v128_t b) {
  v128_t lo = {-32768, -32768, -32768, -32768}, hi = {32767, 32767, 32767, 32767};
  v128_t ca = rt_sel(a < lo, lo, rt_sel(a > hi, hi, a)), cb = rt_sel(b < lo, lo, rt_sel(b > hi, hi, b));
  typedef int32_t i32x8 __attribute__((__vector_size__(32)));
  i32x8 all = __builtin_shufflevector(ca, cb, 0, 1, 2, 3, 4, 5, 6, 7);
  return (v128_t)__builtin_convertvector(all, rt_i16x8);
}
#define wasm_i32x4_extract_lane(v, i) (((v128_t)(v))[i])
#define wasm_i8x16_const_splat(x) ((v128_t)(rt_i8x16){(x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x), (x)})
RT_VF v128_t wasm_u8x16_shr(v128_t a, uint32_t n) { return (v128_t)((rt_u8x16)a >> (uint8_t)(n & 7)); }
RT_VF v128_t wasm_i32x4_mul(v128_t a, v128_t b) { return (v128_t)((rt_u32x4)a * (rt_u32x4)b); }
RT_VF v128_t wasm_i32x4_extend_low_i16x8(v128_t a) {
  rt_i16x8 x = (rt_i16x8)a;
  return (v128_t)__builtin_convertvector(__builtin_shufflevector(x, x, 0, 1, 2, 3), rt_i32x4);
}
RT_VF v128_t wasm_i32x4_extend_high_i16x8(v128_t a) {
  rt_i16x8 x = (rt_i16x8)a;
  return (v128_t)__builtin_convertvector(__builtin_shufflevector(x, x, 4, 5, 6, 7), rt_i32x4);
}
/* i32x4.dot_i16x8_s: lane i = a[2i]*b[2i] + a[2i+1]*b[2i+1], products exact in 32 bits, the sum wrapping
 * (pmaddwd on x86; smull/smull2 + addp on NEON) */
RT_VF v128_t wasm_i32x4_dot_i16x8(v128_t a, v128_t b) {
#if defined(__SSE2__)
  return (v128_t)__builtin_ia32_pmaddwd128((rt_i16x8)a, (rt_i16x8)b);   /* LLVM does not form it from the generic code */
#elif defined(__aarch64__)
  int16x8_t x = (int16x8_t)a, y = (int16x8_t)b;
  return (v128_t)vpaddq_s32(vmull_s16(vget_low_s16(x), vget_low_s16(y)), vmull_high_s16(x, y));
#else
  typedef int32_t i32x8 __attribute__((__vector_size__(32)));
  i32x8 p = __builtin_convertvector((rt_i16x8)a, i32x8) * __builtin_convertvector((rt_i16x8)b, i32x8);
  rt_u32x4 ev = (rt_u32x4)__builtin_shufflevector(p, p, 0, 2, 4, 6), od = (rt_u32x4)__builtin_shufflevector(p, p, 1, 3, 5, 7);
  return (v128_t)(ev + od);
#endif
}
#undef RT_F
#undef RT_VF

#else
#error "rt_vec.h: no vector vocabulary for this target (wasm32 with -msimd128, or x86-64/AArch64 with clang)"
#endif
#endif
