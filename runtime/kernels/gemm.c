/* gemm.c — Gemm and batched MatMul kernels, plus the shared register-blocked f32x4 GEMM core (also used by conv2d). */
#include "rt_internal.h"

/* ------------------------------------------------------------------ scalar reference */

void rt_gemm_f32__scalar(const RtGemm *p) {
  const float *a = RT_PTR(const float, p->a), *b = RT_PTR(const float, p->b);
  const float *c = p->c ? RT_PTR(const float, p->c) : 0;
  float *y = RT_PTR(float, p->y);
  int32_t m = p->m, n = p->n, k = p->k;
  for (int32_t i = 0; i < m; i++)
    for (int32_t j = 0; j < n; j++) {
      float acc = 0.0f;
      for (int32_t q = 0; q < k; q++) {
        float av = p->trans_a ? a[(ptrdiff_t)q * m + i] : a[(ptrdiff_t)i * k + q];
        float bv = p->trans_b ? b[(ptrdiff_t)j * k + q] : b[(ptrdiff_t)q * n + j];
        acc += av * bv;
      }
      float v = p->alpha * acc;
      if (c) {
        switch (p->c_kind) {
        case 1: v += p->beta * c[0]; break;
        case 2: v += p->beta * c[j]; break;
        case 3: v += p->beta * c[i]; break;
        case 4: v += p->beta * c[(ptrdiff_t)i * n + j]; break;
        default: break;
        }
      }
      y[(ptrdiff_t)i * n + j] = rt_act1(p->act.kind, p->act.a, p->act.b, v);
    }
}

/* B element (q, j) of bfloat16 panels (runtime/pack.h): column 4h+r of a panel row is half h of lane r */
static float bf16_panel_at(const uint16_t *b, int32_t k, int32_t q, int32_t j) {
  int32_t c = j % 8;
  union { uint32_t u; float f; } v = {(uint32_t)b[((ptrdiff_t)(j / 8) * k + q) * 8 + 2 * (c % 4) + c / 4] << 16};
  return v.f;
}

void rt_matmul_f32__scalar(const RtMatMul *p) {
  const float *a = RT_PTR(const float, p->a), *b = RT_PTR(const float, p->b);
  const float *bias = p->bias ? RT_PTR(const float, p->bias) : 0, *res = p->res ? RT_PTR(const float, p->res) : 0;
  float *y = RT_PTR(float, p->y);
  int32_t m = p->m, n = p->n, k = p->k, nbat = RT_BATCHES(p);
  if (p->bw.fmt == RT_WF_Q8_PANELS || p->bw.fmt == RT_WF_Q4_PANELS) {   /* B has no batch dims */
    RtEpilogue ep = {1.0f, 0.0f, 0, 0.0f, bias, 1.0f, 0, 0, 0.0f, p->act.kind, p->act.a, p->act.b};
    for (int32_t bi = 0; bi < nbat; bi++) {
      ptrdiff_t ao, bo;
      RT_BATCH_OFFSETS(p, bi, &ao, &bo);
      if (res) { ep.full = res + (ptrdiff_t)bi * m * n; ep.ldf = n; ep.fulls = 1.0f; }
      rt_matmul_q__scalar(m, n, k, a + ao, k, &p->bw, b, RT_PTR(const void, p->bw.scale), RT_PTR(void, p->scratch),
                          y + (ptrdiff_t)bi * m * n, n, &ep);
    }
    return;
  }
  for (int32_t bi = 0; bi < nbat; bi++) {
    ptrdiff_t ao, bo;
    RT_BATCH_OFFSETS(p, bi, &ao, &bo);
    float *yb = y + (ptrdiff_t)bi * m * n;
    for (int32_t i = 0; i < m; i++)
      for (int32_t j = 0; j < n; j++) {
        float acc = 0.0f;
        for (int32_t q = 0; q < k; q++)
          acc += a[ao + (ptrdiff_t)i * k + q] *
                 (p->bw.fmt == RT_WF_BF16_PANELS ? bf16_panel_at((const uint16_t *)b, k, q, j)
                  : p->bw.fmt == RT_WF_F32_PANELS ? b[((ptrdiff_t)(j / 8) * k + q) * 8 + j % 8]
                  : p->trans_b ? b[bo + (ptrdiff_t)j * k + q] : b[bo + (ptrdiff_t)q * n + j]);
        if (bias) acc += bias[j];
        if (res) acc += res[(ptrdiff_t)bi * m * n + (ptrdiff_t)i * n + j];
        yb[(ptrdiff_t)i * n + j] = rt_act1(p->act.kind, p->act.a, p->act.b, acc);
      }
  }
}

/* ------------------------------------------------------------------ f32x4 GEMM core */
#if RT_SIMD128

/* Blocking (GotoBLAS style, sized for a 48 KiB L1 / 2 MiB L2):
 *   MR x NR register tile, MR = RT_CONV_PACK_MR (rt_abi.h): in wasm 5 x 8, 10 f32x4 accumulators + 2 B vectors
 *   + 1 broadcast + 1 product = 14 of V8's 15 usable xmm registers (6x8 would need 16 and spill); natively 6 x 8
 *   (12 + 2 + 1 with FMA or 16 with SSE's mul+add), and the wide tiles below 6 x 16 / 6 x 32.
 *   KC = 256 reduction indices per block; per KC block, up to NC columns of B are packed as 8-column
 *   strips (KC x NC floats = 128 KiB, in L2) and every MR-row panel of A (KC x MR = 5 KiB, in L1)
 *   runs over all those strips. A not pre-packed is packed MC rows at a time into rt_abuf. */
#define MR RT_CONV_PACK_MR
#define NR 8
#define KC 256
#define NC 128
#define MC (MR * 40)

RT_TLS float rt_abuf[MC * KC] __attribute__((aligned(16))); /* also the depthwise conv's padded planes */
_Static_assert(MC * KC == RT_ABUF_FLOATS, "RT_ABUF_FLOATS");
static RT_TLS float rt_bbuf[KC * NC] __attribute__((aligned(16)));

/* What the micro-kernel itself applies when writing a full tile (the common conv epilogue): C (or the
 * residual, on the first k block) added, then on the last block the row bias and relu/clip. Anything
 * else goes through tile_out. */
typedef struct {
  const float *rowv, *full; /* bias (scale 1) and residual (scale 1), optional */
  const float *colv;        /* bias along the columns (MatMul's over the last axis; scale 1), optional */
  int32_t ldf, act;         /* act: RT_ACT_NONE, RT_ACT_RELU or RT_ACT_CLIP */
  float lo, hi;             /* clip bounds */
} FastEpi;

/* Tile C[MR][8] (+)= A_panel (kc x MR, row q at a + q*MR) * B_strip (kc x 8, row q at b + q*8).
 * fe == NULL: the raw sums go to t[MR][8] (for tile_out). Otherwise they are written to c (rows ldc
 * apart) with: first ? + residual : + C; last ? + bias, act. Not inlined (by clang nor binaryen, see
 * rt_gemm_core) and not unrolled: V8 then allocates the 14 live vectors of this one small loop without
 * spills. */
__attribute__((noinline)) static void ukr(int32_t kc, const float *a, const float *b, float *t, float *c,
                                          int32_t ldc, const FastEpi *fe, int32_t row, int32_t col, int first,
                                          int last) {
  v128_t c0[MR], c1[MR];
  for (int i = 0; i < MR; i++) c0[i] = c1[i] = wasm_f32x4_const_splat(0.0f);
#pragma clang loop unroll(disable)
  for (int32_t q = 0; q < kc; q++) {
    v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
    for (int i = 0; i < MR; i++) {
      v128_t va = wasm_v128_load32_splat(a + i);
#if RT_FMA /* the relaxed-SIMD module (f32x4.relaxed_madd), or native (FMA where the target has it); rt_vec.h */
      c0[i] = rt_madd_f32x4(va, b0, c0[i]);
      c1[i] = rt_madd_f32x4(va, b1, c1[i]);
#else
      c0[i] = wasm_f32x4_add(c0[i], wasm_f32x4_mul(va, b0));
      c1[i] = wasm_f32x4_add(c1[i], wasm_f32x4_mul(va, b1));
#endif
    }
    a += MR;
    b += NR;
  }
  if (!fe) {
    for (int i = 0; i < MR; i++) {
      wasm_v128_store(t + i * NR, c0[i]);
      wasm_v128_store(t + i * NR + 4, c1[i]);
    }
    return;
  }
  const float *src = first ? (fe->full ? fe->full + (ptrdiff_t)row * fe->ldf + col : 0) : c;
  ptrdiff_t lds = first ? fe->ldf : ldc;
  for (int i = 0; i < MR; i++) {
    v128_t v0 = c0[i], v1 = c1[i];
    if (src) {
      v0 = wasm_f32x4_add(v0, wasm_v128_load(src + i * lds));
      v1 = wasm_f32x4_add(v1, wasm_v128_load(src + i * lds + 4));
    }
    if (last) {
      if (fe->rowv) {
        v128_t r = wasm_v128_load32_splat(fe->rowv + row + i);
        v0 = wasm_f32x4_add(v0, r);
        v1 = wasm_f32x4_add(v1, r);
      }
      if (fe->colv) {
        v0 = wasm_f32x4_add(v0, wasm_v128_load(fe->colv + col));
        v1 = wasm_f32x4_add(v1, wasm_v128_load(fe->colv + col + 4));
      }
      if (fe->act == RT_ACT_RELU) {
        v0 = wasm_f32x4_pmax(v0, wasm_f32x4_const_splat(0.0f));
        v1 = wasm_f32x4_pmax(v1, wasm_f32x4_const_splat(0.0f));
      } else if (fe->act == RT_ACT_CLIP) {
        v0 = wasm_f32x4_pmin(wasm_f32x4_pmax(wasm_f32x4_splat(fe->lo), v0), wasm_f32x4_splat(fe->hi));
        v1 = wasm_f32x4_pmin(wasm_f32x4_pmax(wasm_f32x4_splat(fe->lo), v1), wasm_f32x4_splat(fe->hi));
      }
    }
    wasm_v128_store(c + i * ldc, v0);
    wasm_v128_store(c + i * ldc + 4, v1);
  }
}

#ifndef __wasm__
/* Native targets with 16+ vector registers of 8+ floats (AVX2, and NEON's 32 q registers):
 * an MR x 16 tile (6 x 16) over two adjacent 8-column strips of B, each row two 8-float vectors (12 accumulators,
 * 2 B vectors, 1 broadcast: 15 of AVX2's 16 ymm; 6 x 16 measured 3-12% faster than 5 x 16 on the bench CNNs). The emitter defines rt_gemm_wide for the target CPU (codegen/llvm_emit.c;
 * 0 for SSE-only x86, where 8-float vectors would spill), so the branch folds away. Same epilogue as
 * ukr; FMA where the target has it. rt_gemm_wide: 0 the MRx8 ukr only, 1 also ukr16, 2 also ukr32 (AVX-512). */
extern const int32_t rt_gemm_wide;
typedef float rt_f32x8 __attribute__((__vector_size__(32)));
typedef float rt_f32x8u __attribute__((__vector_size__(32), __aligned__(4)));
RT_AI rt_f32x8 ld8(const float *p) { return *(const rt_f32x8u *)p; }
RT_AI void st8(float *p, rt_f32x8 v) { *(rt_f32x8u *)p = v; }
RT_AI rt_f32x8 sp8(float x) { return (rt_f32x8){x, x, x, x, x, x, x, x}; }
typedef int32_t rt_i32x8 __attribute__((__vector_size__(32)));
/* lanes of b where a < b, else a: wasm's pmax(a, b) (a NaN in a stays); lt8(a, b) picks b where a < b */
RT_AI rt_f32x8 pick8(rt_i32x8 m, rt_f32x8 b, rt_f32x8 a) { return (rt_f32x8)(((rt_i32x8)b & m) | ((rt_i32x8)a & ~m)); }

/* The wide tiles: MR rows x 2 vectors of W floats (type V), B as two strips of W columns (rows W apart),
 * C (or the residual, first k block) added, then on the last block the row bias, the column bias and
 * relu/clip with wasm's pmax/pmin semantics (a NaN sum stays NaN), as ukr does. FMA where the target
 * has it. */
#define RT_WIDE_UKR(NAME, R, V, W, LD, ST, SP, PICK)                                                       \
  __attribute__((noinline)) static void NAME(int32_t kc, const float *a, const float *b0, const float *b1, float *c, \
                                             int32_t ldc, const FastEpi *fe, int32_t row, int32_t col, int first,   \
                                             int last) {                                                           \
    V c0[R], c1[R];                                                                                      \
    for (int i = 0; i < R; i++) c0[i] = c1[i] = SP(0.0f);                                                 \
    for (int32_t q = 0; q < kc; q++) {                                                                     \
      V v0 = LD(b0 + W * q), v1 = LD(b1 + W * q);                                                          \
      for (int i = 0; i < R; i++) {                                                                       \
        V va = SP(a[i]);                                                                                   \
        c0[i] = va * v0 + c0[i];                                                                           \
        c1[i] = va * v1 + c1[i];                                                                           \
      }                                                                                                    \
      a += MR;                                                                                             \
    }                                                                                                      \
    const float *src = first ? (fe->full ? fe->full + (ptrdiff_t)row * fe->ldf + col : 0) : c;             \
    ptrdiff_t lds = first ? fe->ldf : ldc;                                                                 \
    for (int i = 0; i < R; i++) {                                                                         \
      V v0 = c0[i], v1 = c1[i];                                                                            \
      if (src) { v0 += LD(src + i * lds); v1 += LD(src + i * lds + W); }                                   \
      if (last) {                                                                                          \
        if (fe->rowv) { V r = SP(fe->rowv[row + i]); v0 += r; v1 += r; }                                   \
        if (fe->colv) { v0 += LD(fe->colv + col); v1 += LD(fe->colv + col + W); }                          \
        if (fe->act == RT_ACT_RELU) {                                                                      \
          V z = SP(0.0f);                                                                                  \
          v0 = PICK(v0 < z, z, v0);                                                                        \
          v1 = PICK(v1 < z, z, v1);                                                                        \
        } else if (fe->act == RT_ACT_CLIP) {                                                               \
          V lo = SP(fe->lo), hi = SP(fe->hi);                                                              \
          v0 = PICK(lo < v0, v0, lo); v0 = PICK(hi < v0, hi, v0);   /* pmin(pmax(lo, v), hi) */            \
          v1 = PICK(lo < v1, v1, lo); v1 = PICK(hi < v1, hi, v1);                                          \
        }                                                                                                  \
      }                                                                                                    \
      ST(c + i * ldc, v0);                                                                                 \
      ST(c + i * ldc + W, v1);                                                                             \
    }                                                                                                      \
  }
RT_WIDE_UKR(ukr16, MR, rt_f32x8, 8, ld8, st8, sp8, pick8)
RT_WIDE_UKR(ukr16_r5, 5, rt_f32x8, 8, ld8, st8, sp8, pick8)
RT_WIDE_UKR(ukr16_r4, 4, rt_f32x8, 8, ld8, st8, sp8, pick8)
RT_WIDE_UKR(ukr16_r3, 3, rt_f32x8, 8, ld8, st8, sp8, pick8)

/* AVX-512 (rt_gemm_wide == 2): an MR x 32 tile, each row two 16-float vectors (12 of the 32 zmm
 * accumulating). Its B operand is two 16-column strips, made from the 8-column strips packb wrote by
 * interleaving pairs row by row (widen_strips, once per B block, amortized over every A panel). */
typedef float rt_f32x16 __attribute__((__vector_size__(64)));
typedef float rt_f32x16u __attribute__((__vector_size__(64), __aligned__(4)));
typedef int32_t rt_i32x16 __attribute__((__vector_size__(64)));
RT_AI rt_f32x16 ld16(const float *p) { return *(const rt_f32x16u *)p; }
RT_AI void st16(float *p, rt_f32x16 v) { *(rt_f32x16u *)p = v; }
RT_AI rt_f32x16 sp16(float x) { return (rt_f32x16){x, x, x, x, x, x, x, x, x, x, x, x, x, x, x, x}; }
RT_AI rt_f32x16 pick16(rt_i32x16 m, rt_f32x16 b, rt_f32x16 a) { return (rt_f32x16)(((rt_i32x16)b & m) | ((rt_i32x16)a & ~m)); }

static RT_TLS float rt_bbuf16[KC * NC] __attribute__((aligned(64)));

/* 16-column strip t of the block (columns 16t..16t+15) from 8-column strips 2t and 2t+1 */
static void widen_strips(const float *b8, float *b16, int32_t kc, int32_t nstrips16) {
  for (int32_t t = 0; t < nstrips16; t++) {
    const float *lo = b8 + (ptrdiff_t)(2 * t) * 8 * kc, *hi = lo + (ptrdiff_t)8 * kc;
    float *d = b16 + (ptrdiff_t)t * 16 * kc;
    for (int32_t q = 0; q < kc; q++) {
      st8(d + 16 * q, ld8(lo + 8 * q));
      st8(d + 16 * q + 8, ld8(hi + 8 * q));
    }
  }
}

RT_WIDE_UKR(ukr32, MR, rt_f32x16, 16, ld16, st16, sp16, pick16)
RT_WIDE_UKR(ukr32_r5, 5, rt_f32x16, 16, ld16, st16, sp16, pick16)
RT_WIDE_UKR(ukr32_r4, 4, rt_f32x16, 16, ld16, st16, sp16, pick16)
RT_WIDE_UKR(ukr32_r3, 3, rt_f32x16, 16, ld16, st16, sp16, pick16)
RT_WIDE_UKR(ukr32_r2, 2, rt_f32x16, 16, ld16, st16, sp16, pick16)

/* the wide tiles by the rows of the panel that are valid (the last panel of an M that is not a multiple of
 * MR); NULL where the 8-column ukr_rows is the better choice (one or two rows: the wide tile's broadcasts
 * and loads would be spread over too few FMAs) */
typedef void (*RtWideUkr)(int32_t, const float *, const float *, const float *, float *, int32_t, const FastEpi *,
                          int32_t, int32_t, int, int);
static const RtWideUkr ukr32_rows[MR + 1] = {0, 0, ukr32_r2, ukr32_r3, ukr32_r4, ukr32_r5, ukr32};
static const RtWideUkr ukr16_rows[MR + 1] = {0, 0, 0, ukr16_r3, ukr16_r4, ukr16_r5, ukr16};
#endif

/* ukr for a strip of at most 4 valid columns (the right edge of C, e.g. 49 = 6*8 + 1 pixels of a 7x7
 * conv output): the left half of the tile only, half the work. Raw sums to t (columns 0..3). */
__attribute__((noinline)) static void ukr4(int32_t kc, const float *a, const float *b, float *t) {
  v128_t c0[MR];
  for (int i = 0; i < MR; i++) c0[i] = wasm_f32x4_const_splat(0.0f);
#pragma clang loop unroll(disable)
  for (int32_t q = 0; q < kc; q++) {
    v128_t b0 = wasm_v128_load(b);
    for (int i = 0; i < MR; i++) c0[i] = rt_madd_f32x4(wasm_v128_load32_splat(a + i), b0, c0[i]);
    a += MR;
    b += NR;
  }
  for (int i = 0; i < MR; i++) wasm_v128_store(t + i * NR, c0[i]);
}

/* ukr for a strip of one or two valid columns (the right edge of C when the pixels are 8s + 1 or 2: 7x7 = 49,
 * 13x13 = 169): each column's MR sums in two vectors along the panel's rows (rows 0-3, then rows 4..MR-1 in
 * the low lanes), one broadcast of B per column, so 2 multiply-adds per column and k instead of ukr4's MR over
 * four mostly empty lanes. The k steps alternate over 4 / NV sets of sums (added at the end), so that 8
 * vectors accumulate at once instead of 2 or 4 chains waiting on the add latency. Raw sums to t (columns 0..nv-1). */
RT_AI v128_t panel_hi(const float *a) {   /* rows 4..MR-1 of a panel row */
#if RT_CONV_PACK_MR == 5
  return wasm_v128_load32_zero(a + 4);
#else
  _Static_assert(RT_CONV_PACK_MR == 6, "panel_hi: 5 or 6 rows");
  return wasm_v128_load64_zero(a + 4);
#endif
}
RT_AI void ukr_cols_n(const int NV, int32_t kc, const float *a, const float *b, float *t) {
  const int S = 4 / NV;   /* sets of sums */
  v128_t lo[4][2], hi[4][2];
  for (int s = 0; s < S; s++)
    for (int j = 0; j < NV; j++) lo[s][j] = hi[s][j] = wasm_f32x4_const_splat(0.0f);
  int32_t q = 0;
#pragma clang loop unroll(disable)
  for (; q + S <= kc; q += S)
    for (int s = 0; s < S; s++, a += MR, b += NR) {
      v128_t a0 = wasm_v128_load(a), a1 = panel_hi(a);
      for (int j = 0; j < NV; j++) {
        v128_t vb = wasm_v128_load32_splat(b + j);
        lo[s][j] = rt_madd_f32x4(a0, vb, lo[s][j]);
        hi[s][j] = rt_madd_f32x4(a1, vb, hi[s][j]);
      }
    }
  for (; q < kc; q++, a += MR, b += NR) {
    v128_t a0 = wasm_v128_load(a), a1 = panel_hi(a);
    for (int j = 0; j < NV; j++) {
      v128_t vb = wasm_v128_load32_splat(b + j);
      lo[0][j] = rt_madd_f32x4(a0, vb, lo[0][j]);
      hi[0][j] = rt_madd_f32x4(a1, vb, hi[0][j]);
    }
  }
  for (int s = 1; s < S; s++)
    for (int j = 0; j < NV; j++) {
      lo[0][j] = wasm_f32x4_add(lo[0][j], lo[s][j]);
      hi[0][j] = wasm_f32x4_add(hi[0][j], hi[s][j]);
    }
  for (int j = 0; j < NV; j++) {
    float l[4], h[4];
    wasm_v128_store(l, lo[0][j]);
    wasm_v128_store(h, hi[0][j]);
    for (int i = 0; i < 4; i++) t[i * NR + j] = l[i];
    for (int i = 4; i < MR; i++) t[i * NR + j] = h[i - 4];
  }
}
__attribute__((noinline)) static void ukr_cols(int32_t kc, const float *a, const float *b, float *t, int32_t nv) {
  if (nv == 1) ukr_cols_n(1, kc, a, b, t);
  else ukr_cols_n(2, kc, a, b, t);
}

/* ukr for the last panel of a matrix whose row count is not a multiple of MR: only its mv < MR valid rows
 * (of the zero-padded panel) are computed, raw sums to t. M = 21 costs 4.2 panels instead of 5, M = 32 (a
 * stem conv's output channels) 6.4 instead of 7. */
RT_AI void ukr_rows_n(const int R, int32_t kc, const float *a, const float *b, float *t) {
  v128_t c0[MR - 1], c1[MR - 1];
  for (int i = 0; i < R; i++) c0[i] = c1[i] = wasm_f32x4_const_splat(0.0f);
#pragma clang loop unroll(disable)
  for (int32_t q = 0; q < kc; q++) {
    v128_t b0 = wasm_v128_load(b), b1 = wasm_v128_load(b + 4);
    for (int i = 0; i < R; i++) {
      v128_t va = wasm_v128_load32_splat(a + i);
      c0[i] = rt_madd_f32x4(va, b0, c0[i]);
      c1[i] = rt_madd_f32x4(va, b1, c1[i]);
    }
    a += MR;
    b += NR;
  }
  for (int i = 0; i < R; i++) {
    wasm_v128_store(t + i * NR, c0[i]);
    wasm_v128_store(t + i * NR + 4, c1[i]);
  }
}
__attribute__((noinline)) static void ukr_rows(int32_t kc, const float *a, const float *b, float *t, int32_t mv) {
  switch (mv) {
  case 1: ukr_rows_n(1, kc, a, b, t); break;
  case 2: ukr_rows_n(2, kc, a, b, t); break;
  case 3: ukr_rows_n(3, kc, a, b, t); break;
  case 4: ukr_rows_n(4, kc, a, b, t); break;
  default: ukr_rows_n(5, kc, a, b, t); break;
  }
}

/* act on a full MR x NR tile of C in place */
__attribute__((noinline)) static void act_tile(float *c, int32_t ldc, int32_t kind, float aa, float ab) {
  for (int i = 0; i < MR; i++, c += ldc) {
    wasm_v128_store(c, rt_act_f32x4(kind, aa, ab, wasm_v128_load(c)));
    wasm_v128_store(c + 4, rt_act_f32x4(kind, aa, ab, wasm_v128_load(c + 4)));
  }
}

/* Writes the mv x nv valid part of tile t (partial sums of one k block) to C at (row, col).
 * first: C holds nothing yet (the residual ep->full is added here, before C is written, so C may be
 * the same memory as full); otherwise the previous partial sum is read back from C.
 * last: the rest of the epilogue (add, row/col vectors, activation). alpha scales each block's sum. */
__attribute__((noinline)) static void tile_out(const RtEpilogue *ep, const float *t, float *c, int32_t ldc,
                                               int32_t row, int32_t col, int32_t mv, int32_t nv, int first,
                                               int last) {
  for (int32_t i = 0; i < mv; i++) {
    float *ci = c + (ptrdiff_t)i * ldc;
    for (int32_t hv = 0; hv < 2; hv++) {
      int32_t nl = RT_MIN(nv - 4 * hv, 4);
      if (nl <= 0) break;
      int32_t j = col + 4 * hv;
      v128_t v = wasm_v128_load(t + i * NR + 4 * hv);
      if (ep->alpha != 1.0f) v = wasm_f32x4_mul(v, wasm_f32x4_splat(ep->alpha));
      if (!first)
        v = wasm_f32x4_add(v, rt_load_part(ci + 4 * hv, nl));
      else if (ep->full)
        v = wasm_f32x4_add(v, wasm_f32x4_mul(rt_load_part(ep->full + (ptrdiff_t)(row + i) * ep->ldf + j, nl),
                                             wasm_f32x4_splat(ep->fulls)));
      if (last) {
        if (ep->add != 0.0f) v = wasm_f32x4_add(v, wasm_f32x4_splat(ep->add));
        if (ep->rowv) v = wasm_f32x4_add(v, wasm_f32x4_splat(ep->rowv[row + i] * ep->rows));
        if (ep->colv)
          v = wasm_f32x4_add(v, wasm_f32x4_mul(rt_load_part(ep->colv + j, nl), wasm_f32x4_splat(ep->cols)));
        v = rt_act_f32x4(ep->act, ep->act_a, ep->act_b, v);
      }
      rt_store_part(ci + 4 * hv, v, nl);
    }
  }
}

/* A rows [0, mc) x k [0, kc) (A[i][q] = a[i*a_rs + q*a_ks]) into MR-row panels [kc][MR], zero-padded. Not
 * inlined: convs pass pre-packed A, and V8 then optimizes rt_gemm_core without this code. */
__attribute__((noinline)) static void pack_a(const float *a, int32_t a_rs, int32_t a_ks, int32_t mc, int32_t kc, float *dst) {
  for (int32_t p = 0; p < mc; p += MR, dst += (ptrdiff_t)kc * MR) {
    int32_t mv = RT_MIN(MR, mc - p);
    for (int32_t i = 0; i < MR; i++) {
      const float *ai = a + (ptrdiff_t)(p + i) * a_rs;
      float *d = dst + i;
      if (i >= mv) {
        for (int32_t q = 0; q < kc; q++) d[(ptrdiff_t)q * MR] = 0.0f;
      } else if (a_ks == 1) {
        for (int32_t q = 0; q < kc; q++) d[(ptrdiff_t)q * MR] = ai[q];
      } else {
        for (int32_t q = 0; q < kc; q++) d[(ptrdiff_t)q * MR] = ai[(ptrdiff_t)q * a_ks];
      }
    }
  }
}

void rt_packb_strided(const void *ctx, int32_t k0, int32_t kc, int32_t j0, int32_t nv, float *dst) {
  const RtStridedB *sb = ctx;
  const float *b = sb->b + (ptrdiff_t)k0 * sb->ks + (ptrdiff_t)j0 * sb->ns;
  ptrdiff_t ks = sb->ks, ns = sb->ns;
  if (ns == 1 && nv == NR) {
    for (int32_t q = 0; q < kc; q++, b += ks, dst += NR) {
      wasm_v128_store(dst, wasm_v128_load(b));
      wasm_v128_store(dst + 4, wasm_v128_load(b + 4));
    }
  } else if (ks == 1 && nv == NR) { /* B^T: 8 columns contiguous along k, transposed 4x4 at a time */
    int32_t q = 0;
    for (; q + 4 <= kc; q += 4, dst += 4 * NR)
      for (int32_t h = 0; h < 2; h++) {
        const float *bc = b + q + (ptrdiff_t)(4 * h) * ns;
        v128_t r0 = wasm_v128_load(bc), r1 = wasm_v128_load(bc + ns), r2 = wasm_v128_load(bc + 2 * ns),
               r3 = wasm_v128_load(bc + 3 * ns);
        v128_t t0 = wasm_i32x4_shuffle(r0, r1, 0, 4, 1, 5), t1 = wasm_i32x4_shuffle(r2, r3, 0, 4, 1, 5);
        v128_t t2 = wasm_i32x4_shuffle(r0, r1, 2, 6, 3, 7), t3 = wasm_i32x4_shuffle(r2, r3, 2, 6, 3, 7);
        wasm_v128_store(dst + 4 * h, wasm_i64x2_shuffle(t0, t1, 0, 2));
        wasm_v128_store(dst + NR + 4 * h, wasm_i64x2_shuffle(t0, t1, 1, 3));
        wasm_v128_store(dst + 2 * NR + 4 * h, wasm_i64x2_shuffle(t2, t3, 0, 2));
        wasm_v128_store(dst + 3 * NR + 4 * h, wasm_i64x2_shuffle(t2, t3, 1, 3));
      }
    for (; q < kc; q++, dst += NR)
      for (int32_t jj = 0; jj < NR; jj++) dst[jj] = b[q + (ptrdiff_t)jj * ns];
  } else {
    for (int32_t q = 0; q < kc; q++, dst += NR)
      for (int32_t jj = 0; jj < NR; jj++) dst[jj] = jj < nv ? b[(ptrdiff_t)q * ks + (ptrdiff_t)jj * ns] : 0.0f;
  }
}

/* the epilogue of a plain product: C = A B */
static const RtEpilogue plain = {1.0f, 0.0f, 0, 0.0f, 0, 0.0f, 0, 0, 0.0f, RT_ACT_NONE, 0.0f, 0.0f};

void rt_gemm_core(int32_t m, int32_t n, int32_t k, const float *ap, const float *a, int32_t a_rs,
                  int32_t a_ks, RtPackB packb, const void *bctx, float *c, int32_t ldc,
                  const RtEpilogue *ep) {
  float tile[MR * NR] __attribute__((aligned(16)));
  if (!ep) ep = &plain;
  if (m <= 0 || n <= 0) return;
  if (k <= 0) {
    /* Also keeps ukr a function with two call sites: binaryen -O3 (run by the compiler on every model)
     * inlines functions with a single caller, and ukr inlined there runs ~15% slower under V8. */
    ukr(0, rt_abuf, rt_bbuf, tile, 0, 0, 0, 0, 0, 1, 1);
    for (int32_t j0 = 0; j0 < n; j0 += NR)
      for (int32_t i0 = 0; i0 < m; i0 += MR)
        tile_out(ep, tile, c + (ptrdiff_t)i0 * ldc + j0, ldc, i0, j0, RT_MIN(MR, m - i0), RT_MIN(NR, n - j0), 1, 1);
    return;
  }
  /* the micro-kernel's own epilogue covers alpha 1, no add/colv, residual scale 1, none/relu/clip */
  /* Other activations (SiLU, sigmoid, HardSwish, ...): the micro-kernel writes the tile without one,
   * then act_tile applies it while the tile is in L1 (tile_out's general path costs more than a
   * short-k GEMM itself). */
  int act_in_ukr = ep->act == RT_ACT_NONE || ep->act == RT_ACT_RELU || ep->act == RT_ACT_CLIP;
  FastEpi fe = {ep->rowv, ep->full, ep->colv, ep->ldf, act_in_ukr ? ep->act : RT_ACT_NONE, ep->act_a, ep->act_b};
  int fast = ep->alpha == 1.0f && ep->add == 0.0f && (!ep->colv || ep->cols == 1.0f) && (!ep->rowv || ep->rows == 1.0f) &&
             (!ep->full || ep->fulls == 1.0f);
  int32_t mcb = ap ? m : MC;
  for (int32_t k0 = 0; k0 < k; k0 += KC) {
    int32_t kc = RT_MIN(KC, k - k0);
    int first = k0 == 0, last = k0 + kc >= k;
    /* A in one row block (m <= MC): packed once per k block, not once per column block (ppocr_rec's
     * 40 x 120 x 6625 classifier has 52 column blocks) */
    int a_once = !ap && m <= mcb;
    if (a_once) pack_a(a + (ptrdiff_t)k0 * a_ks, a_rs, a_ks, m, kc, rt_abuf);
    for (int32_t j0 = 0; j0 < n; j0 += NC) {
      int32_t nc = RT_MIN(NC, n - j0);
      for (int32_t s = 0; s < nc; s += NR)
        packb(bctx, k0, kc, j0 + s, RT_MIN(NR, nc - s), rt_bbuf + (ptrdiff_t)s * kc);
#ifndef __wasm__
      if (rt_gemm_wide == 2 && fast) widen_strips(rt_bbuf, rt_bbuf16, kc, nc / 16);
#endif
      for (int32_t i0 = 0; i0 < m; i0 += mcb) {
        int32_t mc = RT_MIN(mcb, m - i0);
        const float *apn;
        ptrdiff_t ps;
        if (ap) {
          apn = ap + (ptrdiff_t)k0 * MR;
          ps = (ptrdiff_t)k * MR;
        } else {
          if (!a_once) pack_a(a + (ptrdiff_t)i0 * a_rs + (ptrdiff_t)k0 * a_ks, a_rs, a_ks, mc, kc, rt_abuf);
          apn = rt_abuf;
          ps = (ptrdiff_t)kc * MR;
        }
        for (int32_t p = 0; p < mc; p += MR, apn += ps) {
          int32_t row = i0 + p, mv = RT_MIN(MR, mc - p);
          for (int32_t s = 0; s < nc; s += NR) {
            int32_t col = j0 + s, nv = RT_MIN(NR, nc - s);
            float *ct = c + (ptrdiff_t)row * ldc + col;
#ifndef __wasm__
            if (rt_gemm_wide == 2 && fast && ukr32_rows[mv] && nc - s >= 4 * NR) {   /* four strips at once */
              ukr32_rows[mv](kc, apn, rt_bbuf16 + (ptrdiff_t)s * kc, rt_bbuf16 + (ptrdiff_t)(s + 2 * NR) * kc, ct, ldc, &fe,
                             row, col, first, last);
              if (last && !act_in_ukr) rt_act_rows(ct, ldc, mv, 4 * NR, ep->act, ep->act_a, ep->act_b);
              s += 3 * NR;
              continue;
            }
            if (rt_gemm_wide && fast && ukr16_rows[mv] && nc - s >= 2 * NR) {   /* two strips at once */
              ukr16_rows[mv](kc, apn, rt_bbuf + (ptrdiff_t)s * kc, rt_bbuf + (ptrdiff_t)(s + NR) * kc, ct, ldc, &fe, row, col,
                             first, last);
              if (last && !act_in_ukr) rt_act_rows(ct, ldc, mv, 2 * NR, ep->act, ep->act_a, ep->act_b);
              s += NR;
              continue;
            }
#endif
            if (fast && mv == MR && nv == NR) {
              ukr(kc, apn, rt_bbuf + (ptrdiff_t)s * kc, 0, ct, ldc, &fe, row, col, first, last);
              if (last && !act_in_ukr) act_tile(ct, ldc, ep->act, ep->act_a, ep->act_b);
            } else {
              if (nv <= 2) ukr_cols(kc, apn, rt_bbuf + (ptrdiff_t)s * kc, tile, nv);
              else if (nv <= 4) ukr4(kc, apn, rt_bbuf + (ptrdiff_t)s * kc, tile);
              else if (mv < MR) ukr_rows(kc, apn, rt_bbuf + (ptrdiff_t)s * kc, tile, mv);
              else ukr(kc, apn, rt_bbuf + (ptrdiff_t)s * kc, tile, 0, 0, 0, 0, 0, 0, 0);
              tile_out(ep, tile, ct, ldc, row, col, mv, nv, first, last);
            }
          }
        }
      }
    }
  }
}

/* Small M with B^T and A rows contiguous along k: dot products, 4 columns at a time. */
static void core_dot(int32_t m, int32_t n, int32_t k, const float *a, int32_t a_rs,
                     const float *b, int32_t b_ns, float *c, int32_t ldc, const RtEpilogue *ep) {
  if (!ep) ep = &plain;
  for (int32_t i = 0; i < m; i++) {
    const float *ai = a + (ptrdiff_t)i * a_rs;
    int32_t j = 0;
    for (; j + 4 <= n; j += 4) {
      const float *b0 = b + (ptrdiff_t)j * b_ns, *b1 = b0 + b_ns, *b2 = b1 + b_ns, *b3 = b2 + b_ns;
      v128_t s0 = wasm_f32x4_const_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
      int32_t q = 0;
      for (; q + 4 <= k; q += 4) {
        v128_t va = wasm_v128_load(ai + q);
        s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(va, wasm_v128_load(b0 + q)));
        s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(va, wasm_v128_load(b1 + q)));
        s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(va, wasm_v128_load(b2 + q)));
        s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(va, wasm_v128_load(b3 + q)));
      }
      float t0 = rt_hsum_f32x4(s0), t1 = rt_hsum_f32x4(s1), t2 = rt_hsum_f32x4(s2), t3 = rt_hsum_f32x4(s3);
      for (; q < k; q++) {
        t0 += ai[q] * b0[q];
        t1 += ai[q] * b1[q];
        t2 += ai[q] * b2[q];
        t3 += ai[q] * b3[q];
      }
      float *ci = c + (ptrdiff_t)i * ldc + j;
      ci[0] = rt_epi1(ep, t0, i, j);
      ci[1] = rt_epi1(ep, t1, i, j + 1);
      ci[2] = rt_epi1(ep, t2, i, j + 2);
      ci[3] = rt_epi1(ep, t3, i, j + 3);
    }
    for (; j < n; j++) {
      const float *bj = b + (ptrdiff_t)j * b_ns;
      v128_t s = wasm_f32x4_const_splat(0.0f);
      int32_t q = 0;
      for (; q + 4 <= k; q += 4) s = wasm_f32x4_add(s, wasm_f32x4_mul(wasm_v128_load(ai + q), wasm_v128_load(bj + q)));
      float t = rt_hsum_f32x4(s);
      for (; q < k; q++) t += ai[q] * bj[q];
      c[(ptrdiff_t)i * ldc + j] = rt_epi1(ep, t, i, j);
    }
  }
}

/* The epilogue over an m x n block of C holding plain sums, in one vector pass: kept out of line so
 * the streaming loops that precede it stay small (V8 allocates registers per function). */
__attribute__((noinline)) static void epi_rows(int32_t m, int32_t n, float *c, int32_t ldc, const RtEpilogue *ep) {
  if (!ep || (ep->alpha == 1.0f && ep->add == 0.0f && !ep->rowv && !ep->colv && !ep->full && ep->act == RT_ACT_NONE)) return;
  for (int32_t i = 0; i < m; i++) {
    float *ci = c + (ptrdiff_t)i * ldc;
    for (int32_t j = 0; j < n; j += 4) {
      int32_t nl = RT_MIN(4, n - j);
      rt_store_part(ci + j, rt_epi_f32x4(ep, rt_load_part(ci + j, nl), i, j, nl), nl);
    }
  }
}

/* C[i][j..j+3] (+)= sum over the kq (1..4) rows of B at bq of a_q * B[q][j..j+3]. */
#define ROWS_ACC(kq, first, j)                                                                         \
  do {                                                                                               \
    v128_t s_ = wasm_f32x4_mul(x0, wasm_v128_load(b0 + (j)));                                        \
    if ((kq) > 1) s_ = wasm_f32x4_add(s_, wasm_f32x4_mul(x1, wasm_v128_load(b1 + (j))));             \
    if ((kq) > 2) s_ = wasm_f32x4_add(s_, wasm_f32x4_mul(x2, wasm_v128_load(b2 + (j))));             \
    if ((kq) > 3) s_ = wasm_f32x4_add(s_, wasm_f32x4_mul(x3, wasm_v128_load(b3 + (j))));             \
    wasm_v128_store(ci + (j), (first) ? s_ : wasm_f32x4_add(wasm_v128_load(ci + (j)), s_));          \
  } while (0)

/* Small M with B row-major (columns contiguous), the LLM decode case (M = 1..3): C = A B streams B
 * once, eight rows at a time — eight sequential streams the prefetchers follow, where walking
 * column strips down B would jump a whole row per step — accumulating in C (L1-resident: one row
 * of C per row of A, read and written once per eight rows of B), then applies the epilogue in one
 * vector pass. */
static void core_rows(int32_t m, int32_t n, int32_t k, const float *a, int32_t a_rs,
                      const float *b, int32_t b_ks, float *c, int32_t ldc, const RtEpilogue *ep) {
  int32_t n4 = n & ~3;
  for (int32_t q = 0; q < k;) {
    int32_t kq = k - q >= 8 ? 8 : RT_MIN(4, k - q);
    const float *b0 = b + (ptrdiff_t)q * b_ks, *b1 = b0 + b_ks, *b2 = b1 + b_ks, *b3 = b2 + b_ks;
    const float *b4 = b3 + b_ks, *b5 = b4 + b_ks, *b6 = b5 + b_ks, *b7 = b6 + b_ks;
    for (int32_t i = 0; i < m; i++) {
      const float *ai = a + (ptrdiff_t)i * a_rs + q;
      float *ci = c + (ptrdiff_t)i * ldc;
      v128_t x0 = wasm_f32x4_splat(ai[0]);
      v128_t x1 = wasm_f32x4_splat(kq > 1 ? ai[1] : 0.0f), x2 = wasm_f32x4_splat(kq > 2 ? ai[2] : 0.0f);
      v128_t x3 = wasm_f32x4_splat(kq > 3 ? ai[3] : 0.0f);
      int32_t j = 0;
      if (kq == 8) {
        v128_t x4 = wasm_f32x4_splat(ai[4]), x5 = wasm_f32x4_splat(ai[5]), x6 = wasm_f32x4_splat(ai[6]);
        v128_t x7 = wasm_f32x4_splat(ai[7]);
        for (; j < n4; j += 4) {
          v128_t s0 = wasm_f32x4_add(wasm_f32x4_mul(x0, wasm_v128_load(b0 + j)), wasm_f32x4_mul(x1, wasm_v128_load(b1 + j)));
          v128_t s1 = wasm_f32x4_add(wasm_f32x4_mul(x2, wasm_v128_load(b2 + j)), wasm_f32x4_mul(x3, wasm_v128_load(b3 + j)));
          v128_t s2 = wasm_f32x4_add(wasm_f32x4_mul(x4, wasm_v128_load(b4 + j)), wasm_f32x4_mul(x5, wasm_v128_load(b5 + j)));
          v128_t s3 = wasm_f32x4_add(wasm_f32x4_mul(x6, wasm_v128_load(b6 + j)), wasm_f32x4_mul(x7, wasm_v128_load(b7 + j)));
          v128_t sum = wasm_f32x4_add(wasm_f32x4_add(s0, s1), wasm_f32x4_add(s2, s3));
          wasm_v128_store(ci + j, q == 0 ? sum : wasm_f32x4_add(wasm_v128_load(ci + j), sum));
        }
      } else if (kq == 4) {
        for (; j < n4; j += 4) ROWS_ACC(4, q == 0, j);
      } else {
        for (; j < n4; j += 4) {
          if (kq == 1) ROWS_ACC(1, q == 0, j);
          else if (kq == 2) ROWS_ACC(2, q == 0, j);
          else ROWS_ACC(3, q == 0, j);
        }
      }
      for (; j < n; j++) {
        float t = q == 0 ? 0.0f : ci[j];
        for (int32_t u = 0; u < kq; u++) t += ai[u] * b[(ptrdiff_t)(q + u) * b_ks + j];
        ci[j] = t;
      }
    }
    q += kq;
  }
  epi_rows(m, n, c, ldc, ep);
}
#undef ROWS_ACC

/* B packed in 8-column panels (runtime/pack.h): the GEMM core copies a panel's k block as is. */
typedef struct { const float *bp; int32_t k; } PanelsB;
static void packb_panels(const void *ctx, int32_t k0, int32_t kc, int32_t j0, int32_t nv, float *dst) {
  const PanelsB *pb = ctx;
  (void)nv;
  rt_memcpy(dst, pb->bp + ((ptrdiff_t)(j0 / NR) * pb->k + k0) * NR, (size_t)kc * NR * sizeof(float));
}

/* bfloat16 panels (runtime/pack.h): a panel row is 8 uint16 = 4 lanes, column r in the low half of lane r
 * and column 4+r in its high half, so one shift gives columns 0..3 and one mask columns 4..7 as f32x4. */
#define BF16_LO(v) wasm_i32x4_shl((v), 16)
#define BF16_HI(v) wasm_v128_and((v), wasm_i32x4_const_splat((int32_t)0xffff0000u))

typedef struct { const uint16_t *bp; int32_t k; } PanelsBf16;
static void packb_panels_bf16(const void *ctx, int32_t k0, int32_t kc, int32_t j0, int32_t nv, float *dst) {
  const PanelsBf16 *pb = ctx;
  (void)nv;
  const uint16_t *src = pb->bp + ((ptrdiff_t)(j0 / NR) * pb->k + k0) * NR;
  for (int32_t q = 0; q < kc; q++, src += NR, dst += NR) {
    v128_t v = wasm_v128_load(src);
    wasm_v128_store(dst, BF16_LO(v));
    wasm_v128_store(dst + 4, BF16_HI(v));
  }
}

/* Row q of an 8-column panel as two f32x4 (columns 0..3, 4..7): float32 panels hold 8 floats per row,
 * bfloat16 panels 8 uint16 widened in registers (half the bytes to stream). */
RT_AI void panel_row(const int BF16, const void *p, ptrdiff_t q, v128_t *lo, v128_t *hi) {
  if (BF16) {
    v128_t v = wasm_v128_load((const uint16_t *)p + q * NR);
    *lo = BF16_LO(v);
    *hi = BF16_HI(v);
  } else {
    *lo = wasm_v128_load((const float *)p + q * NR);
    *hi = wasm_v128_load((const float *)p + q * NR + 4);
  }
}

/* Small M (decode) with B in 8-column panels: B is one sequential stream, read once (rows 2..m of A
 * re-read the panels from L1). Two panels (16 columns) at a time — the packing pads to an even
 * count — with k unrolled by 2: 8 accumulators, each A element splatted once for both panels.
 * Plain sums; the epilogue follows in one pass. BF16: the panels are bfloat16 (same sums, same order). */
RT_AI void core_panels_t(const int BF16, int32_t m, int32_t n, int32_t k, const float *a, int32_t a_rs,
                         const void *bp, float *c, int32_t ldc, const RtEpilogue *ep) {
  const size_t es = BF16 ? 2 : 4;
  for (int32_t s = 0; s < n; s += 2 * NR) {
    const char *p0 = (const char *)bp + (size_t)(s / NR) * (size_t)k * NR * es, *p1 = p0 + (size_t)k * NR * es;
    int32_t nv = RT_MIN(2 * NR, n - s);
    for (int32_t i = 0; i < m; i++) {
      const float *ai = a + (ptrdiff_t)i * a_rs;
      v128_t acc[4], a0 = wasm_f32x4_const_splat(0.0f), a1 = a0, a2 = a0, a3 = a0, b0 = a0, b1 = a0, b2 = a0, b3 = a0;
      v128_t u0, u1, u2, u3, w0, w1, w2, w3;
      int32_t q = 0;
      for (; q + 2 <= k; q += 2) {
        v128_t x0 = wasm_v128_load32_splat(ai + q), x1 = wasm_v128_load32_splat(ai + q + 1);
        panel_row(BF16, p0, q, &u0, &u1);
        panel_row(BF16, p1, q, &u2, &u3);
        panel_row(BF16, p0, q + 1, &w0, &w1);
        panel_row(BF16, p1, q + 1, &w2, &w3);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(x0, u0));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(x0, u1));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(x0, u2));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(x0, u3));
        b0 = wasm_f32x4_add(b0, wasm_f32x4_mul(x1, w0));
        b1 = wasm_f32x4_add(b1, wasm_f32x4_mul(x1, w1));
        b2 = wasm_f32x4_add(b2, wasm_f32x4_mul(x1, w2));
        b3 = wasm_f32x4_add(b3, wasm_f32x4_mul(x1, w3));
      }
      if (q < k) {
        v128_t x0 = wasm_v128_load32_splat(ai + q);
        panel_row(BF16, p0, q, &u0, &u1);
        panel_row(BF16, p1, q, &u2, &u3);
        a0 = wasm_f32x4_add(a0, wasm_f32x4_mul(x0, u0));
        a1 = wasm_f32x4_add(a1, wasm_f32x4_mul(x0, u1));
        a2 = wasm_f32x4_add(a2, wasm_f32x4_mul(x0, u2));
        a3 = wasm_f32x4_add(a3, wasm_f32x4_mul(x0, u3));
      }
      acc[0] = wasm_f32x4_add(a0, b0); acc[1] = wasm_f32x4_add(a1, b1);
      acc[2] = wasm_f32x4_add(a2, b2); acc[3] = wasm_f32x4_add(a3, b3);
      float *ci = c + (ptrdiff_t)i * ldc + s;
      for (int32_t h = 0; h < 4 && 4 * h < nv; h++) {
        if (nv - 4 * h >= 4) wasm_v128_store(ci + 4 * h, acc[h]);
        else rt_store_part(ci + 4 * h, acc[h], nv - 4 * h);
      }
    }
  }
  epi_rows(m, n, c, ldc, ep);
}

static void core_panels(int32_t m, int32_t n, int32_t k, const float *a, int32_t a_rs, const float *bp,
                        float *c, int32_t ldc, const RtEpilogue *ep) {
  core_panels_t(0, m, n, k, a, a_rs, bp, c, ldc, ep);
}
static void core_panels_bf16(int32_t m, int32_t n, int32_t k, const float *a, int32_t a_rs, const uint16_t *bp,
                             float *c, int32_t ldc, const RtEpilogue *ep) {
  core_panels_t(1, m, n, k, a, a_rs, bp, c, ldc, ep);
}

/* C = A B with B in 8-column panels (float32, or bfloat16 when bf16), A rows a_rs apart. */
static void sgemm_panels(int32_t m, int32_t n, int32_t k, const float *a, int32_t a_rs, const void *bp, int bf16,
                         float *c, int32_t ldc, const RtEpilogue *ep) {
  if (m <= 0 || n <= 0) return;
  if (m < 4 && k > 0 && !(ep && ep->full == c)) {   /* core_panels writes C before reading full */
    if (bf16) core_panels_bf16(m, n, k, a, a_rs, bp, c, ldc, ep);
    else core_panels(m, n, k, a, a_rs, bp, c, ldc, ep);
    return;
  }
  if (bf16) {
    PanelsBf16 pb = {bp, k};
    rt_gemm_core(m, n, k, 0, a, a_rs, 1, packb_panels_bf16, &pb, c, ldc, ep);
  } else {
    PanelsB pb = {bp, k};
    rt_gemm_core(m, n, k, 0, a, a_rs, 1, packb_panels, &pb, c, ldc, ep);
  }
}

void rt_sgemm_f32x4(int32_t m, int32_t n, int32_t k, const float *a, int32_t a_rs, int32_t a_ks,
                    const float *b, int32_t b_ks, int32_t b_ns, float *c, int32_t ldc,
                    const RtEpilogue *ep) {
  if (m <= 0 || n <= 0) return;
  if (m < 4 && k > 0 && b_ks == 1 && a_ks == 1) {
    core_dot(m, n, k, a, a_rs, b, b_ns, c, ldc, ep);
    return;
  }
  if (m < 4 && k > 0 && b_ns == 1 && a_ks == 1 && !(ep && ep->full && ep->full == c)) {
    core_rows(m, n, k, a, a_rs, b, b_ks, c, ldc, ep);
    return;
  }
  RtStridedB sb = {b, b_ks, b_ns};
  rt_gemm_core(m, n, k, 0, a, a_rs, a_ks, rt_packb_strided, &sb, c, ldc, ep);
}

/* ------------------------------------------------------------------ f32x4 kernels */

void rt_gemm_f32__simd128(const RtGemm *p) {
  const float *a = RT_PTR(const float, p->a), *b = RT_PTR(const float, p->b);
  const float *c = p->c ? RT_PTR(const float, p->c) : 0;
  float *y = RT_PTR(float, p->y);
  int32_t m = p->m, n = p->n, k = p->k;
  RtEpilogue ep = {p->alpha, 0.0f, 0, 0.0f, 0, 0.0f, 0, 0, 0.0f, p->act.kind, p->act.a, p->act.b};
  if (c) {
    switch (p->c_kind) {
    case 1: ep.add = p->beta * c[0]; break;
    case 2: ep.colv = c; ep.cols = p->beta; break;
    case 3: ep.rowv = c; ep.rows = p->beta; break;
    case 4: ep.full = c; ep.ldf = n; ep.fulls = p->beta; break;
    default: break;
    }
  }
  rt_sgemm_f32x4(m, n, k, a, p->trans_a ? 1 : k, p->trans_a ? m : 1, b, p->trans_b ? 1 : n,
                 p->trans_b ? k : 1, y, n, &ep);
}

void rt_matmul_f32__simd128(const RtMatMul *p) {
  const float *a = RT_PTR(const float, p->a), *b = RT_PTR(const float, p->b);
  float *y = RT_PTR(float, p->y);
  int32_t m = p->m, n = p->n, k = p->k, nbat = RT_BATCHES(p);
  RtEpilogue ep = {1.0f, 0.0f, 0, 0.0f, 0, 1.0f, 0, 0, 0.0f, p->act.kind, p->act.a, p->act.b};
  if (p->bias) ep.colv = RT_PTR(const float, p->bias);
  const float *res = p->res ? RT_PTR(const float, p->res) : 0;
  if (res) { ep.full = res; ep.ldf = n; ep.fulls = 1.0f; }
  /* B shared by all batches and A batches laid out back to back: one GEMM with M = batches*m. */
  int fold = 1;
  ptrdiff_t expect = (ptrdiff_t)m * k;
  for (int32_t d = p->nb - 1; d >= 0 && fold; d--) {
    if (p->bdim[d] == 1) continue;
    if (p->bstride[d] != 0 || p->astride[d] != expect) fold = 0;
    expect *= p->bdim[d];
  }
  if (p->bw.fmt == RT_WF_Q8_PANELS || p->bw.fmt == RT_WF_Q4_PANELS) {   /* B has no batch dims (matmul_q.c) */
    const void *sc = RT_PTR(const void, p->bw.scale);
    void *scr = RT_PTR(void, p->scratch);
    if (fold) { rt_matmul_q__simd128(nbat * m, n, k, a, k, &p->bw, b, sc, scr, y, n, &ep); return; }
    for (int32_t bi = 0; bi < nbat; bi++) {
      ptrdiff_t ao, bo;
      RT_BATCH_OFFSETS(p, bi, &ao, &bo);
      if (res) ep.full = res + (ptrdiff_t)bi * m * n;
      rt_matmul_q__simd128(m, n, k, a + ao, k, &p->bw, b, sc, scr, y + (ptrdiff_t)bi * m * n, n, &ep);
    }
    return;
  }
  if (p->bw.fmt == RT_WF_F32_PANELS || p->bw.fmt == RT_WF_BF16_PANELS) {  /* B has no batch dims */
    int bf16 = p->bw.fmt == RT_WF_BF16_PANELS;
    if (fold) { sgemm_panels(nbat * m, n, k, a, k, b, bf16, y, n, &ep); return; }
    for (int32_t bi = 0; bi < nbat; bi++) {
      ptrdiff_t ao, bo;
      RT_BATCH_OFFSETS(p, bi, &ao, &bo);
      if (res) ep.full = res + (ptrdiff_t)bi * m * n;
      sgemm_panels(m, n, k, a + ao, k, b, bf16, y + (ptrdiff_t)bi * m * n, n, &ep);
    }
    return;
  }
  int32_t b_ks = p->trans_b ? 1 : n, b_ns = p->trans_b ? k : 1;   /* B element (q, j) at q*b_ks + j*b_ns */
  if (fold) {
    rt_sgemm_f32x4(nbat * m, n, k, a, k, 1, b, b_ks, b_ns, y, n, &ep);
    return;
  }
  for (int32_t bi = 0; bi < nbat; bi++) {
    ptrdiff_t ao, bo;
    RT_BATCH_OFFSETS(p, bi, &ao, &bo);
    if (res) ep.full = res + (ptrdiff_t)bi * m * n;
    rt_sgemm_f32x4(m, n, k, a + ao, k, 1, b + bo, b_ks, b_ns, y + (ptrdiff_t)bi * m * n, n, &ep);
  }
}

RT_EXPORT("rt_gemm_f32") void rt_gemm_f32(const RtGemm *p) { rt_gemm_f32__simd128(p); }
RT_EXPORT("rt_matmul_f32") void rt_matmul_f32(const RtMatMul *p) { rt_matmul_f32__simd128(p); }
#else
RT_EXPORT("rt_gemm_f32") void rt_gemm_f32(const RtGemm *p) { rt_gemm_f32__scalar(p); }
RT_EXPORT("rt_matmul_f32") void rt_matmul_f32(const RtMatMul *p) { rt_matmul_f32__scalar(p); }
#endif
