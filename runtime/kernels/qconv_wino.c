/* qconv_wino.c — Winograd F(2x2, 3x3) in integers for ConvInteger / QLinearConv (rt_q_conv_wino, rt_abi.h): 16
 * products per 2x2 outputs instead of 36, with the direct kernel's exact results.
 *
 * With G scaled by 2, G' = [2 0 0; 1 1 1; 1 -1 1; 0 0 2], every transform is integral:
 *   U = G' g G'^T           per (k, c), g = w - w_zp: |U| <= 9 * 255, int16   (prepacked, RT_WF_I16_WINO: once when
 *                           the module starts or at compile time; else at every call into scratch; prepack.h)
 *   V = B^T d B             per tile and channel, d = x - x_zp (0 outside): |V| <= 4 * 255, int16
 *   M[pos] = sum_c U[pos][k][c] V[pos][c][tile]   (the qgemm.h 4x8 tile: i32x4.dot_i16x8_s over channel pairs)
 *   Y = A^T M A = 4 * (the direct accumulator), exactly; >> 2, + bias, requantized as the direct kernel.
 * The sums are int32 and wrap; the true 4 * accumulator fits (c <= 512), so the wrapped result is the exact one.
 * Tiles go 8 at a time in row-major tile order (one i16x8 lane per tile, a block may wrap to the next tile row); a
 * block on one tile row whose 4x4 patches are all inside the input reads each patch row with two 16-byte loads, the
 * rest gathers element by element. The input of up to rt_q_conv_npanels() blocks is transformed first, then each
 * 4-channel slice of U is streamed over all of them (U is read once per group of blocks, from the L2 cache). */
#include "qgemm.h"
#include "../prepack.h"

#if RT_SIMD128

RT_AI v128_t q_widen_hi8(v128_t v, int s8) { return s8 ? wasm_i16x8_extend_high_i8x16(v) : wasm_u16x8_extend_high_u8x16(v); }
RT_AI v128_t q_widen_lo8(v128_t v, int s8) { return s8 ? wasm_i16x8_extend_low_i8x16(v) : wasm_u16x8_extend_low_u8x16(v); }

/* the 4x4 input patches of nt <= 8 tiles (t0.. in row-major tile order, txn tiles per row) of one channel plane,
 * minus the zero point (0 outside the input), as d[row][column] with one lane per tile; then V = B^T d B into v[16] */
static void wino_input(const RtConv2dI8 *p, const int8_t *xp, int s8, int32_t xz, int32_t t0, int32_t nt, int32_t txn,
                       v128_t v[16]) {
  int32_t ty = t0 / txn, tx0 = t0 % txn, iy0 = 2 * ty - p->pt, x0 = 2 * tx0 - p->pl;
  v128_t d[4][4];
  if (nt == 8 && tx0 + 8 <= txn && iy0 >= 0 && iy0 + 3 < p->h && x0 >= 0 && x0 + 17 < p->w_) {
    v128_t vz = wasm_i16x8_splat((int16_t)xz);
    for (int32_t r = 0; r < 4; r++) {
      const int8_t *row = xp + (ptrdiff_t)(iy0 + r) * p->w_ + x0;
      v128_t a = wasm_v128_load(row), b = wasm_v128_load(row + 2);
      v128_t al = wasm_i16x8_sub(q_widen_lo8(a, s8), vz), ah = wasm_i16x8_sub(q_widen_hi8(a, s8), vz);
      v128_t bl = wasm_i16x8_sub(q_widen_lo8(b, s8), vz), bh = wasm_i16x8_sub(q_widen_hi8(b, s8), vz);
      d[r][0] = wasm_i16x8_shuffle(al, ah, 0, 2, 4, 6, 8, 10, 12, 14);   /* column 2j of tile j */
      d[r][1] = wasm_i16x8_shuffle(al, ah, 1, 3, 5, 7, 9, 11, 13, 15);
      d[r][2] = wasm_i16x8_shuffle(bl, bh, 0, 2, 4, 6, 8, 10, 12, 14);
      d[r][3] = wasm_i16x8_shuffle(bl, bh, 1, 3, 5, 7, 9, 11, 13, 15);
    }
  } else {
    int16_t t[4][4][8];
    for (int32_t j = 0; j < 8; j++) {
      int32_t tj = t0 + j, jy = 2 * (tj / txn) - p->pt, jx = 2 * (tj % txn) - p->pl;
      for (int32_t r = 0; r < 4; r++)
        for (int32_t c = 0; c < 4; c++) {
          int32_t iy = jy + r, ix = jx + c;
          t[r][c][j] = (int16_t)(j < nt && iy >= 0 && iy < p->h && ix >= 0 && ix < p->w_
                                 ? q_ld(xp, (ptrdiff_t)iy * p->w_ + ix, s8) - xz : 0);
        }
    }
    for (int32_t r = 0; r < 4; r++)
      for (int32_t c = 0; c < 4; c++) d[r][c] = wasm_v128_load(t[r][c]);
  }
  v128_t e[4][4];
  for (int32_t c = 0; c < 4; c++) {   /* B^T d: the rows */
    e[0][c] = wasm_i16x8_sub(d[0][c], d[2][c]);
    e[1][c] = wasm_i16x8_add(d[1][c], d[2][c]);
    e[2][c] = wasm_i16x8_sub(d[2][c], d[1][c]);
    e[3][c] = wasm_i16x8_sub(d[1][c], d[3][c]);
  }
  for (int32_t r = 0; r < 4; r++) {   /* (B^T d) B: the columns */
    v[4 * r + 0] = wasm_i16x8_sub(e[r][0], e[r][2]);
    v[4 * r + 1] = wasm_i16x8_add(e[r][1], e[r][2]);
    v[4 * r + 2] = wasm_i16x8_sub(e[r][2], e[r][1]);
    v[4 * r + 3] = wasm_i16x8_sub(e[r][1], e[r][3]);
  }
}

/* one output row of 2 * nt pixels from its two tile columns' values y0 (x even), y1 (x odd), 4 tiles per vector */
RT_AI void wino_row(const QOut *o, ptrdiff_t idx, v128_t y0l, v128_t y0h, v128_t y1l, v128_t y1h, int32_t co, int32_t ncol) {
  q_emit8(o, idx, wasm_i32x4_shuffle(y0l, y1l, 0, 4, 1, 5), wasm_i32x4_shuffle(y0l, y1l, 2, 6, 3, 7), co, RT_MIN(8, ncol));
  if (ncol > 8)
    q_emit8(o, idx + 8, wasm_i32x4_shuffle(y0h, y1h, 0, 4, 1, 5), wasm_i32x4_shuffle(y0h, y1h, 2, 6, 3, 7), co, ncol - 8);
}

/* the 4 outputs (rows 0-1 x columns 0-1: y[2 * row + column], 8 lanes as 2 halves) of nt tiles that do not lie on
 * one tile row: requantized as wino_row does it, then written tile by tile */
static void wino_scatter(const QOut *o, ptrdiff_t yb, const RtConv2dI8 *p, v128_t y[4][2], int32_t co, int32_t t0,
                         int32_t nt, int32_t txn) {
  int32_t tmp[4][8];
  QOut ot = *o;
  ot.y = tmp;
  for (int32_t q = 0; q < 4; q++) q_emit8(&ot, (ptrdiff_t)q * 8, y[q][0], y[q][1], co, 8);
  for (int32_t j = 0; j < nt; j++) {
    int32_t t = t0 + j, oy = 2 * (t / txn), ox = 2 * (t % txn);
    for (int32_t q = 0; q < 4; q++) {
      int32_t yy = oy + (q >> 1), xx = ox + (q & 1);
      if (yy >= p->oh || xx >= p->ow) continue;
      ptrdiff_t idx = yb + (ptrdiff_t)yy * p->ow + xx;
      if (!o->requant) ((int32_t *)o->y)[idx] = tmp[q][j];
      else ((int8_t *)o->y)[idx] = ((const int8_t *)tmp)[q * 8 + j];
    }
  }
}

void rt_conv2d_i8_wino(const RtConv2dI8 *p, const QOut *o, RtAddr scratch) {
  const int8_t *x = RT_PTR(const int8_t, p->x);
  const int32_t *bias = p->bias ? RT_PTR(const int32_t, p->bias) : 0;
  int xs8 = p->flags & RT_Q_A_S8;
  int32_t cp = (p->c + 1) & ~1, xz = q_zp(p->x_zp, 0, xs8), tyn = (p->oh + 1) / 2, txn = (p->ow + 1) / 2;
  int32_t ntile = tyn * txn, nblk = (ntile + 7) / 8;
  ptrdiff_t ps = (ptrdiff_t)p->k * cp, vs = (ptrdiff_t)cp * 8, bs = 16 * vs;
  const int16_t *u;
  int16_t *vp;
  if (p->wfmt == RT_WF_I16_WINO) {
    u = RT_PTR(const int16_t, p->wq);
    vp = RT_PTR(int16_t, scratch);
  } else {
    int16_t *uw = RT_PTR(int16_t, scratch);
    rt_q_conv_pack_i16(RT_PTR(const void, p->w), p->w_zp ? RT_PTR(const void, p->w_zp) : 0, p->flags, RT_WF_I16_WINO,
                       p->k, p->c, 9, uw);
    u = uw;
    vp = uw + 16 * ps;
  }
  int32_t nb = (int32_t)rt_q_conv_npanels((uint32_t)bs * 2, (uint32_t)nblk);
  int32_t out[16][4][8];
  for (int32_t b = 0; b < p->n; b++) {
    const int8_t *xb = x + (ptrdiff_t)b * p->c * p->h * p->w_;
    ptrdiff_t yb = (ptrdiff_t)b * p->k * p->oh * p->ow;
    for (int32_t blk0 = 0; blk0 < nblk; blk0 += nb) {
      int32_t nbk = RT_MIN(nb, nblk - blk0);
      for (int32_t j = 0; j < nbk; j++) {   /* the 16 transformed input panels of each block, channel pairs interleaved */
        int32_t t0 = (blk0 + j) * 8, nt = RT_MIN(8, ntile - t0);
        int16_t *vj = vp + j * bs;
        for (int32_t c = 0; c < cp; c += 2) {
          v128_t v0[16], v1[16];
          wino_input(p, xb + (ptrdiff_t)c * p->h * p->w_, xs8, xz, t0, nt, txn, v0);
          if (c + 1 < p->c) wino_input(p, xb + (ptrdiff_t)(c + 1) * p->h * p->w_, xs8, xz, t0, nt, txn, v1);
          else for (int32_t i = 0; i < 16; i++) v1[i] = wasm_i32x4_splat(0);
          for (int32_t pos = 0; pos < 16; pos++) q_panel_pair(vj + pos * vs, c, v0[pos], v1[pos]);
        }
      }
      for (int32_t co0 = 0; co0 < p->k; co0 += 4) {
        int32_t nr = RT_MIN(4, p->k - co0);
        for (int32_t j = 0; j < nbk; j++) {
          int32_t t0 = (blk0 + j) * 8, nt = RT_MIN(8, ntile - t0), ty = t0 / txn, tx0 = t0 % txn;
          for (int32_t pos = 0; pos < 16; pos++)
            q_tile(u + pos * ps + (ptrdiff_t)co0 * cp, cp, nr, vp + j * bs + pos * vs, out[pos]);
          for (int32_t i = 0; i < nr; i++) {
            int32_t co = co0 + i;
            v128_t m[16][2], s0[4][2], s1[4][2], y[4][2];
            for (int32_t pos = 0; pos < 16; pos++) {
              m[pos][0] = wasm_v128_load(out[pos][i]);
              m[pos][1] = wasm_v128_load(out[pos][i] + 4);
            }
            for (int32_t h = 0; h < 2; h++) {
              for (int32_t c = 0; c < 4; c++) {   /* A^T M: the rows */
                s0[c][h] = wasm_i32x4_add(wasm_i32x4_add(m[c][h], m[4 + c][h]), m[8 + c][h]);
                s1[c][h] = wasm_i32x4_sub(wasm_i32x4_sub(m[4 + c][h], m[8 + c][h]), m[12 + c][h]);
              }
              v128_t bv = wasm_i32x4_splat(bias ? bias[co] : 0);
              /* (A^T M) A, divided by the 4 of G' (exact), + bias */
              y[0][h] = wasm_i32x4_add(wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_add(s0[0][h], s0[1][h]), s0[2][h]), 2), bv);
              y[1][h] = wasm_i32x4_add(wasm_i32x4_shr(wasm_i32x4_sub(wasm_i32x4_sub(s0[1][h], s0[2][h]), s0[3][h]), 2), bv);
              y[2][h] = wasm_i32x4_add(wasm_i32x4_shr(wasm_i32x4_add(wasm_i32x4_add(s1[0][h], s1[1][h]), s1[2][h]), 2), bv);
              y[3][h] = wasm_i32x4_add(wasm_i32x4_shr(wasm_i32x4_sub(wasm_i32x4_sub(s1[1][h], s1[2][h]), s1[3][h]), 2), bv);
            }
            ptrdiff_t yc = yb + (ptrdiff_t)co * p->oh * p->ow;
            if (tx0 + nt > txn) { wino_scatter(o, yc, p, y, co, t0, nt, txn); continue; }
            int32_t oy = 2 * ty, ncol = RT_MIN(2 * nt, p->ow - 2 * tx0);
            ptrdiff_t yo = yc + (ptrdiff_t)oy * p->ow + 2 * tx0;
            wino_row(o, yo, y[0][0], y[0][1], y[1][0], y[1][1], co, ncol);
            if (oy + 1 < p->oh) wino_row(o, yo + p->ow, y[2][0], y[2][1], y[3][0], y[3][1], co, ncol);
          }
        }
      }
    }
  }
}
#endif
