/* prepack.h — the weight transforms that enlarge the weights (layouts in pack.h), written once for both places
 * they run: the compiler (runtime/pack.c: native libraries keep them precomputed) and the wasm start-up kernels
 * (rt_conv_pack_f32 in conv2d.c, rt_wino_pack_f32 in conv_wino.c), which a module runs on its first run so that
 * the download carries the weights as the ONNX file has them: the conv's panels of MR rows (zero rows up to a
 * multiple of MR) and Winograd's U = G w G^T ((m+2)^2 floats per channel pair for 9); for the integer convs, the
 * int8 weights widened to int16 minus their zero points (rt_q_conv_pack in quant.c), in rows or Winograd's U. Plain C, no SIMD; the
 * Winograd transform in double: the same IEEE operations in the same order give the same floats on the host
 * and in wasm. */
#ifndef PREPACK_H
#define PREPACK_H
#include <stddef.h>
#include "rt_abi.h"

static const double rt_wino_g2[4][3] = {{1, 0, 0}, {0.5, 0.5, 0.5}, {0.5, -0.5, 0.5}, {0, 0, 1}};
static const double rt_wino_g4[6][3] = {{1.0 / 4, 0, 0},
                                        {-1.0 / 6, -1.0 / 6, -1.0 / 6},
                                        {-1.0 / 6, 1.0 / 6, -1.0 / 6},
                                        {1.0 / 24, 1.0 / 12, 1.0 / 6},
                                        {1.0 / 24, -1.0 / 12, 1.0 / 6},
                                        {0, 0, 1}};

/* w: ONNX layout [k][crs] (crs = c/group*kh*kw); out: group * ceil(k/group/mr)*mr * crs floats (pack.h); mr:
 * rows per panel (RT_CONV_PACK_MR in the kernels, the Target's in the compiler) */
static inline void rt_conv_pack_weights(const float *w, float *out, int k, int crs, int group, int mr) {
  const size_t MR = (size_t)mr, kpg = (size_t)k / (size_t)group, panels = (kpg + MR - 1) / MR, n = (size_t)crs;
  for (size_t g = 0; g < (size_t)group; g++)
    for (size_t p = 0; p < panels; p++) {
      float *dst = out + (g * panels + p) * MR * n;
      for (size_t q = 0; q < n; q++)
        for (size_t r = 0; r < MR; r++) {
          size_t row = p * MR + r;
          dst[q * MR + r] = row < kpg ? w[(g * kpg + row) * n + q] : 0.0f;
        }
    }
}

/* w: ONNX layout [k][c][3][3]; out: (m+2)^2 * ceil(k/mr)*mr*c floats, every one written (padding rows 0) */
static inline void rt_wino_transform_weights(const float *w, float *out, int k, int c, int m, int mr) {
  const int a = m + 2, MR = mr;
  const double *gm = m == 2 ? &rt_wino_g2[0][0] : &rt_wino_g4[0][0];
  size_t per = (size_t)((k + MR - 1) / MR) * MR * (size_t)c;
  for (size_t i = 0; i < (size_t)a * a * per; i++) out[i] = 0.0f;
  for (int ko = 0; ko < k; ko++)
    for (int ci = 0; ci < c; ci++) {
      const float *g = w + ((size_t)ko * c + ci) * 9;
      double t[6][3], u[6][6];
      for (int r = 0; r < a; r++) /* t = G g */
        for (int j = 0; j < 3; j++) t[r][j] = gm[r * 3] * g[j] + gm[r * 3 + 1] * g[3 + j] + gm[r * 3 + 2] * g[6 + j];
      for (int r = 0; r < a; r++) /* u = t G^T */
        for (int s = 0; s < a; s++) u[r][s] = t[r][0] * gm[s * 3] + t[r][1] * gm[s * 3 + 1] + t[r][2] * gm[s * 3 + 2];
      for (int r = 0; r < a; r++)
        for (int s = 0; s < a; s++) {
          float *dst = out + (size_t)(r * a + s) * per;
          dst[((size_t)(ko / MR) * c + ci) * MR + ko % MR] = (float)u[r][s];
        }
    }
}

/* Quantized MatMul panels (RtMatMul.bw, RT_WF_Q8_PANELS / RT_WF_Q4_PANELS; bits 8 or 4), B [k][n] with kp = k rounded
 * up to the block: ceil(n/8) panels of kp*bits bytes, each kp/8 groups of 8 rows. A group holds, per half of the
 * panel (columns 0..3, then 4..7), one 16-byte vector of 4-bit values or two of 8-bit values (rows 0..3, 4..7),
 * seen as 8 16-bit words: word 2i+h serves column i. A 4-bit word holds rows h, 2+h, 4+h, 6+h in its nibbles
 * 0..3 (lowest first); an 8-bit word rows h (low byte) and 2+h (high byte) of its 4 rows. So a shift and a mask
 * per nibble (a shift pair per byte) turn the vector into int16 lanes = 4 columns x 2 consecutive rows, the
 * operand of i32x4.dot_i16x8_s against two activations, with no widening. Scales: per panel, per block, 8 floats
 * (one per column), then 8 int32 zero points. Padding rows and columns hold 0 (and scale 0).
 * rt_matmul_q_at: the byte holding t of row q, column j, and the shift of its value in that byte. */
static inline size_t rt_matmul_q_at(int bits, size_t kp, int q, int j, int *shift) {
  int c = j % 8, r = q % 8, word, byte;
  size_t g = (size_t)(j / 8) * kp * (size_t)bits + (size_t)(q / 8) * (size_t)(8 * bits);
  if (bits == 4) {
    word = (c % 4) * 2 + r % 2;
    int nib = r / 2;                    /* nibble 0..3 of the word: bits 4*nib */
    byte = (c / 4) * 16 + word * 2 + nib / 2;
    *shift = (nib % 2) * 4;
  } else {
    int rr = r % 4;
    word = (c % 4) * 2 + rr % 2;
    byte = (c / 4) * 32 + (r / 4) * 16 + word * 2 + rr / 2;
    *shift = 0;
  }
  return g + (size_t)byte;
}
static inline int rt_matmul_q_get(const unsigned char *b, int bits, size_t kp, int q, int j) {
  int sh;
  unsigned v = b[rt_matmul_q_at(bits, kp, q, j, &sh)];
  return bits == 4 ? (int)((v >> sh) & 15u) : (int)(signed char)v;
}

/* An integer conv's weights minus their zero point in int16 (RtConv2dI8.wq; formats in rt_abi.h): w [k][cg][khkw]
 * int8 (RT_Q_B_S8) or uint8, zp NULL (0), one entry, or k (RT_Q_BZP_VEC). RT_WF_I16_ROWS: rows of kp = cg*khkw
 * rounded up to even, zero padded. RT_WF_I16_WINO (khkw = 9): U = G' g G'^T per (k, c) with G' = 2G =
 * [2 0 0; 1 1 1; 1 -1 1; 0 0 2], at U[pos][k][cp] (pos = 4 * row + column), channels past cg zero. Every int16 of
 * rt_q_conv_packed_bytes() is written. */
static inline int32_t rt_q8_get(const void *p, size_t i, int s8) {
  return s8 ? (int32_t)((const signed char *)p)[i] : (int32_t)((const unsigned char *)p)[i];
}
static inline void rt_q_conv_pack_i16(const void *w, const void *zp, int flags, int fmt, int k, int cg, int khkw, short *dst) {
  int s8 = (flags & RT_Q_B_S8) != 0, zvec = (flags & RT_Q_BZP_VEC) != 0;
  if (fmt == RT_WF_I16_ROWS) {
    size_t rn = (size_t)cg * (size_t)khkw, kp = (rn + 1) & ~(size_t)1;
    for (int co = 0; co < k; co++) {
      int32_t z = zp ? rt_q8_get(zp, zvec ? (size_t)co : 0, s8) : 0;
      short *d = dst + (size_t)co * kp;
      for (size_t q = 0; q < rn; q++) d[q] = (short)(rt_q8_get(w, (size_t)co * rn + q, s8) - z);
      for (size_t q = rn; q < kp; q++) d[q] = 0;
    }
    return;
  }
  size_t cp = ((size_t)cg + 1) & ~(size_t)1, ps = (size_t)k * cp;
  for (int co = 0; co < k; co++) {
    int32_t z = zp ? rt_q8_get(zp, zvec ? (size_t)co : 0, s8) : 0;
    for (size_t c = 0; c < cp; c++) {
      short *u = dst + (size_t)co * cp + c;
      if (c >= (size_t)cg) {
        for (int pos = 0; pos < 16; pos++) u[pos * ps] = 0;
        continue;
      }
      int32_t g[9], t[12];
      for (int i = 0; i < 9; i++) g[i] = rt_q8_get(w, ((size_t)co * (size_t)cg + c) * 9 + (size_t)i, s8) - z;
      for (int j = 0; j < 3; j++) {   /* t = G' g: the rows */
        t[j] = 2 * g[j];
        t[3 + j] = g[j] + g[3 + j] + g[6 + j];
        t[6 + j] = g[j] - g[3 + j] + g[6 + j];
        t[9 + j] = 2 * g[6 + j];
      }
      for (int r = 0; r < 4; r++) {   /* U = t G'^T: the columns */
        const int32_t *tr = t + 3 * r;
        u[(size_t)(4 * r + 0) * ps] = (short)(2 * tr[0]);
        u[(size_t)(4 * r + 1) * ps] = (short)(tr[0] + tr[1] + tr[2]);
        u[(size_t)(4 * r + 2) * ps] = (short)(tr[0] - tr[1] + tr[2]);
        u[(size_t)(4 * r + 3) * ps] = (short)(2 * tr[2]);
      }
    }
  }
}
#endif
