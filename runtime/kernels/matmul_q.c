/* matmul_q.c — MatMul with a quantized constant B (RtMatMul.bw: RT_WF_Q8_PANELS, RT_WF_Q4_PANELS; layout in
 * runtime/prepack.h), called by rt_matmul_f32 (gemm.c) for those formats.
 *
 * Rows of A are rounded to 16-bit fixed point, RT_MATMUL_Q_ROWS at a time, per chunk of ch = min(block, 32)
 * elements of K: scale sa = max|a| / 32767, aq = nearest(a * 32767 / max|a|), and the chunk's sum of aq
 * (quant_rows, shared by both variants). Then, per panel of 8 columns and row:
 *   y[i][j] = sum over chunks c of float(sum_q aq[q] t[q][j] - zero[j] * sum_q aq[q]) * (scale[j] * sa[c])
 * the integer sums exact in int32 (|aq| <= 32767, |t| <= 255, ch <= 32: below 2^28), the float sum in chunk
 * order, then the epilogue (bias, residual, activation). The SIMD variant computes the same integers with
 * i32x4.dot_i16x8_s over 4 columns x 2 rows and the same float operations in the same order. */
#include "rt_internal.h"
#include "../prepack.h"

static int32_t q_chunk(int32_t block) { return block < 32 ? block : 32; }

/* rows rows of A (a_rs apart, k valid columns) into aq [rows][kp] int16 (zero past k), sa/asum [rows][kp/ch] */
static void quant_rows(const float *a, int32_t a_rs, int32_t rows, int32_t k, int32_t kp, int32_t ch, int16_t *aq,
                       float *sa, int32_t *asum) {
  int32_t nc = kp / ch;
  for (int32_t i = 0; i < rows; i++) {
    const float *ai = a + (ptrdiff_t)i * a_rs;
    int16_t *qi = aq + (ptrdiff_t)i * kp;
    for (int32_t c = 0; c < nc; c++) {
      int32_t lo = c * ch, hi = RT_MIN(lo + ch, k);
      float mx = 0.0f;
      int bad = 0;
      for (int32_t q = lo; q < hi; q++) {
        float v = ai[q] < 0.0f ? -ai[q] : ai[q];
        if (!(v <= 3.4028234663852886e38f)) bad = 1;   /* NaN or infinity: the chunk's products are NaN */
        else if (v > mx) mx = v;
      }
      float inv = mx > 0.0f ? 32767.0f / mx : 0.0f;
      int32_t s = 0;
      for (int32_t q = lo; q < lo + ch; q++) {
        int32_t v = q < hi ? (int32_t)__builtin_rintf(ai[q] * inv) : 0;
        v = RT_MAX(-32767, RT_MIN(32767, v));
        qi[q] = (int16_t)v;
        s += v;
      }
      sa[(ptrdiff_t)i * nc + c] = bad ? __builtin_nanf("") : mx / 32767.0f;
      asum[(ptrdiff_t)i * nc + c] = s;
    }
  }
}

typedef struct {
  const unsigned char *b;
  const float *scale;   /* per panel, per block: 8 floats, 8 int32 */
  int32_t bits, block, zeros;
} QB;

/* the scratch: rows of aq, then sa, then asum */
typedef struct { int16_t *aq; float *sa; int32_t *asum; } QScratch;
static QScratch q_scratch(void *scratch, int32_t kp, int32_t ch) {
  QScratch s;
  s.aq = (int16_t *)(((uintptr_t)scratch + 15) & ~(uintptr_t)15);
  s.sa = (float *)(s.aq + (ptrdiff_t)RT_MATMUL_Q_ROWS * kp);
  s.asum = (int32_t *)(s.sa + (ptrdiff_t)RT_MATMUL_Q_ROWS * (kp / ch));
  return s;
}

void rt_matmul_q__scalar(int32_t m, int32_t n, int32_t k, const float *a, int32_t a_rs, const RtWeightDesc *bw,
                         const void *bdata, const void *scale, void *scratch, float *y, int32_t ldc, const RtEpilogue *ep) {
  int32_t block = bw->block, bits = bw->fmt == RT_WF_Q4_PANELS ? 4 : 8, ch = q_chunk(block);
  int32_t nblk = (k + block - 1) / block, kp = nblk * block, nc = kp / ch;
  const float *sf = scale;
  const int32_t *sz = scale;
  QScratch s = q_scratch(scratch, kp, ch);
  for (int32_t r0 = 0; r0 < m; r0 += RT_MATMUL_Q_ROWS) {
    int32_t rows = RT_MIN(RT_MATMUL_Q_ROWS, m - r0);
    quant_rows(a + (ptrdiff_t)r0 * a_rs, a_rs, rows, k, kp, ch, s.aq, s.sa, s.asum);
    for (int32_t i = 0; i < rows; i++)
      for (int32_t j = 0; j < n; j++) {
        float acc = 0.0f;
        for (int32_t c = 0; c < nc; c++) {
          int32_t acci = 0, b = c * ch / block;
          for (int32_t q = c * ch; q < (c + 1) * ch; q++)
            acci += (int32_t)s.aq[(ptrdiff_t)i * kp + q] * rt_matmul_q_get(bdata, bits, (size_t)kp, q, j);
          size_t o = ((size_t)(j / 8) * (size_t)nblk + (size_t)b) * 16 + (size_t)(j % 8);
          if (bw->zeros) acci -= sz[o + 8] * s.asum[(ptrdiff_t)i * nc + c];
          acc += (float)acci * (sf[o] * s.sa[(ptrdiff_t)i * nc + c]);
        }
        y[(ptrdiff_t)(r0 + i) * ldc + j] = rt_epi1(ep, acc, r0 + i, j);
      }
  }
}

#if RT_SIMD128
/* quant_rows with each full chunk in vectors (the same values: exact max, one rounding of a * inv, nearest even);
 * a chunk holding a NaN or an infinity, and the partial last chunk, take the scalar path */
static void quant_rows_simd(const float *a, int32_t a_rs, int32_t rows, int32_t k, int32_t kp, int32_t ch, int16_t *aq,
                            float *sa, int32_t *asum) {
  int32_t nc = kp / ch;
  for (int32_t i = 0; i < rows; i++) {
    const float *ai = a + (ptrdiff_t)i * a_rs;
    int16_t *qi = aq + (ptrdiff_t)i * kp;
    for (int32_t c = 0; c < nc; c++) {
      int32_t lo = c * ch;
      v128_t mx = wasm_f32x4_const_splat(0.0f), fin = wasm_i32x4_const_splat(-1);
      if (lo + ch <= k) {
        for (int32_t q = lo; q < lo + ch; q += 4) {
          v128_t v = wasm_f32x4_abs(wasm_v128_load(ai + q));
          fin = wasm_v128_and(fin, wasm_f32x4_le(v, wasm_f32x4_const_splat(3.4028234663852886e38f)));
          mx = wasm_f32x4_pmax(mx, v);
        }
      }
      if (lo + ch > k || !(wasm_i32x4_extract_lane(fin, 0) & wasm_i32x4_extract_lane(fin, 1) &
                           wasm_i32x4_extract_lane(fin, 2) & wasm_i32x4_extract_lane(fin, 3))) {
        quant_rows(ai + lo, a_rs, 1, k - lo, ch, ch, qi + lo, sa + (ptrdiff_t)i * nc + c, asum + (ptrdiff_t)i * nc + c);
        continue;
      }
      float m = wasm_f32x4_extract_lane(mx, 0);
      for (int u = 1; u < 4; u++) {
        float v = u == 1 ? wasm_f32x4_extract_lane(mx, 1) : u == 2 ? wasm_f32x4_extract_lane(mx, 2) : wasm_f32x4_extract_lane(mx, 3);
        if (v > m) m = v;
      }
      v128_t inv = wasm_f32x4_splat(m > 0.0f ? 32767.0f / m : 0.0f), sum = wasm_i32x4_const_splat(0);
      for (int32_t q = lo; q < lo + ch; q += 8) {
        v128_t x0 = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(ai + q), inv)));
        v128_t x1 = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(wasm_v128_load(ai + q + 4), inv)));
        wasm_v128_store(qi + q, wasm_i16x8_narrow_i32x4(x0, x1));
        sum = wasm_i32x4_add(sum, wasm_i32x4_add(x0, x1));
      }
      sa[(ptrdiff_t)i * nc + c] = m / 32767.0f;
      asum[(ptrdiff_t)i * nc + c] = wasm_i32x4_extract_lane(sum, 0) + wasm_i32x4_extract_lane(sum, 1) +
                                    wasm_i32x4_extract_lane(sum, 2) + wasm_i32x4_extract_lane(sum, 3);
    }
  }
}

/* sums of one chunk (ng groups of 8 rows) for columns 0..3 (*s0) and 4..7 (*s1) of a panel, its groups at g
 * (layout: runtime/prepack.h): a 4-bit vector is 4 planes of int16 lanes by shift and mask, an 8-bit vector 2
 * planes by sign-extending shifts; each plane is 4 columns x 2 rows against a pair of activations */
RT_AI void dot_chunk(const int BITS, const unsigned char *g, const int16_t *aq, int32_t ng, v128_t *s0, v128_t *s1) {
  v128_t i0 = wasm_i32x4_const_splat(0), i1 = i0, m = wasm_i16x8_splat(15);
  for (int32_t t = 0; t < ng; t++, g += 8 * BITS, aq += 8) {
    v128_t a01 = wasm_v128_load32_splat(aq), a23 = wasm_v128_load32_splat(aq + 2);
    v128_t a45 = wasm_v128_load32_splat(aq + 4), a67 = wasm_v128_load32_splat(aq + 6);
    if (BITS == 4) {
      v128_t v0 = wasm_v128_load(g), v1 = wasm_v128_load(g + 16);
      i0 = wasm_i32x4_add(i0, wasm_i32x4_add(
               wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_v128_and(v0, m), a01),
                              wasm_i32x4_dot_i16x8(wasm_v128_and(wasm_u16x8_shr(v0, 4), m), a23)),
               wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_v128_and(wasm_u16x8_shr(v0, 8), m), a45),
                              wasm_i32x4_dot_i16x8(wasm_u16x8_shr(v0, 12), a67))));
      i1 = wasm_i32x4_add(i1, wasm_i32x4_add(
               wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_v128_and(v1, m), a01),
                              wasm_i32x4_dot_i16x8(wasm_v128_and(wasm_u16x8_shr(v1, 4), m), a23)),
               wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_v128_and(wasm_u16x8_shr(v1, 8), m), a45),
                              wasm_i32x4_dot_i16x8(wasm_u16x8_shr(v1, 12), a67))));
    } else {
      v128_t v00 = wasm_v128_load(g), v01 = wasm_v128_load(g + 16), v10 = wasm_v128_load(g + 32), v11 = wasm_v128_load(g + 48);
      i0 = wasm_i32x4_add(i0, wasm_i32x4_add(
               wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_i16x8_shr(wasm_i16x8_shl(v00, 8), 8), a01),
                              wasm_i32x4_dot_i16x8(wasm_i16x8_shr(v00, 8), a23)),
               wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_i16x8_shr(wasm_i16x8_shl(v01, 8), 8), a45),
                              wasm_i32x4_dot_i16x8(wasm_i16x8_shr(v01, 8), a67))));
      i1 = wasm_i32x4_add(i1, wasm_i32x4_add(
               wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_i16x8_shr(wasm_i16x8_shl(v10, 8), 8), a01),
                              wasm_i32x4_dot_i16x8(wasm_i16x8_shr(v10, 8), a23)),
               wasm_i32x4_add(wasm_i32x4_dot_i16x8(wasm_i16x8_shr(wasm_i16x8_shl(v11, 8), 8), a45),
                              wasm_i32x4_dot_i16x8(wasm_i16x8_shr(v11, 8), a67))));
    }
  }
  *s0 = i0;
  *s1 = i1;
}

/* one row of one panel: the 8 sums */
RT_AI void q_row_panel(const int BITS, const unsigned char *bp, const float *sp, const int16_t *aq, const float *sa,
                       const int32_t *asum, int32_t nblk, int32_t block, int32_t ch, int zeros, v128_t *acc0, v128_t *acc1) {
  v128_t f0 = wasm_f32x4_const_splat(0.0f), f1 = f0;
  int32_t cpb = block / ch, c = 0;
  for (int32_t b = 0; b < nblk; b++, sp += 16) {
    v128_t s0 = wasm_v128_load(sp), s1 = wasm_v128_load(sp + 4), z0 = wasm_v128_load(sp + 8), z1 = wasm_v128_load(sp + 12);
    for (int32_t u = 0; u < cpb; u++, c++) {
      v128_t i0, i1;
      dot_chunk(BITS, bp, aq, ch / 8, &i0, &i1);
      bp += ch * BITS;
      aq += ch;
      if (zeros) {
        v128_t zs = wasm_i32x4_splat(asum[c]);
        i0 = wasm_i32x4_sub(i0, wasm_i32x4_mul(z0, zs));
        i1 = wasm_i32x4_sub(i1, wasm_i32x4_mul(z1, zs));
      }
      v128_t sc = wasm_f32x4_splat(sa[c]);
      f0 = wasm_f32x4_add(f0, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(i0), wasm_f32x4_mul(s0, sc)));
      f1 = wasm_f32x4_add(f1, wasm_f32x4_mul(wasm_f32x4_convert_i32x4(i1), wasm_f32x4_mul(s1, sc)));
    }
  }
  *acc0 = f0;
  *acc1 = f1;
}

RT_AI void matmul_q_t(const int BITS, int32_t m, int32_t n, int32_t k, const float *a, int32_t a_rs,
                      const RtWeightDesc *bw, const unsigned char *bdata, const float *scale, void *scratch, float *y,
                      int32_t ldc, const RtEpilogue *ep) {
  int32_t block = bw->block, ch = q_chunk(block), nblk = (k + block - 1) / block, kp = nblk * block, nc = kp / ch;
  int32_t np = (n + 7) / 8;
  QScratch s = q_scratch(scratch, kp, ch);
  for (int32_t r0 = 0; r0 < m; r0 += RT_MATMUL_Q_ROWS) {
    int32_t rows = RT_MIN(RT_MATMUL_Q_ROWS, m - r0);
    quant_rows_simd(a + (ptrdiff_t)r0 * a_rs, a_rs, rows, k, kp, ch, s.aq, s.sa, s.asum);
    for (int32_t p = 0; p < np; p++) {
      const unsigned char *bp = bdata + (size_t)p * (size_t)kp * BITS;
      const float *sp = scale + (size_t)p * (size_t)nblk * 16;
      int32_t j = p * 8, nv = RT_MIN(8, n - j);
      for (int32_t i = 0; i < rows; i++) {
        v128_t v0, v1;
        q_row_panel(BITS, bp, sp, s.aq + (ptrdiff_t)i * kp, s.sa + (ptrdiff_t)i * nc, s.asum + (ptrdiff_t)i * nc,
                    nblk, block, ch, bw->zeros, &v0, &v1);
        float *yi = y + (ptrdiff_t)(r0 + i) * ldc + j;
        int32_t n0 = RT_MIN(4, nv);
        v0 = rt_epi_f32x4(ep, v0, r0 + i, j, n0);
        if (n0 == 4) wasm_v128_store(yi, v0); else rt_store_part(yi, v0, n0);
        if (nv > 4) {
          v1 = rt_epi_f32x4(ep, v1, r0 + i, j + 4, nv - 4);
          if (nv == 8) wasm_v128_store(yi + 4, v1); else rt_store_part(yi + 4, v1, nv - 4);
        }
      }
    }
  }
}

void rt_matmul_q__simd128(int32_t m, int32_t n, int32_t k, const float *a, int32_t a_rs, const RtWeightDesc *bw,
                          const void *bdata, const void *scale, void *scratch, float *y, int32_t ldc, const RtEpilogue *ep) {
  if (bw->fmt == RT_WF_Q4_PANELS) matmul_q_t(4, m, n, k, a, a_rs, bw, bdata, scale, scratch, y, ldc, ep);
  else matmul_q_t(8, m, n, k, a, a_rs, bw, bdata, scale, scratch, y, ldc, ep);
}
#endif
