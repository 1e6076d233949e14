/* qgemm.c — integer MatMul and 2-D Conv over int8/uint8 (MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv):
 * int32 accumulation of (a - a_zp) * (b - b_zp), then int32 out or requantization (rt_abi.h, RtMatMulI8).
 *
 * SIMD128: both operands are widened to int16 with their zero points subtracted (values in [-255, 255]),
 * the left one as rows (pairs of int16 read as one i32 lane, splat), the right one as 8-column panels of
 * interleaved row pairs; i32x4.dot_i16x8_s multiplies a pair of each and adds the two products
 * (|product| <= 65025, so no lane ever saturates or wraps before the int32 sum). A 4x8 tile of int32
 * accumulators per panel; integer results are bit-identical to the scalar reference. */
#include "qgemm.h"
#include "../prepack.h"

/* ------------------------------------------------------------------ scalar reference */

void rt_matmul_i8__scalar(const RtMatMulI8 *p) {
  const void *a = RT_PTR(const void, p->a), *b = RT_PTR(const void, p->b);
  int fl = p->flags, as8 = fl & RT_Q_A_S8, bs8 = fl & RT_Q_B_S8, bvec = (fl & RT_Q_BZP_VEC) != 0;
  QOut o = q_out_mm(p);
  int32_t m = p->m, n = p->n, k = p->k, nbat = RT_BATCHES(p), az = q_zp(p->a_zp, 0, as8);
  for (int32_t bi = 0; bi < nbat; bi++) {
    ptrdiff_t ao, bo, yo = (ptrdiff_t)bi * m * n;
    RT_BATCH_OFFSETS(p, bi, &ao, &bo);
    for (int32_t i = 0; i < m; i++)
      for (int32_t j = 0; j < n; j++) {
        int32_t acc = 0, bz = q_zp(p->b_zp, bvec ? j : 0, bs8);
        for (int32_t q = 0; q < k; q++)
          acc = q_mac(acc, q_ld(a, ao + (ptrdiff_t)i * k + q, as8) - az, q_ld(b, bo + (ptrdiff_t)q * n + j, bs8) - bz);
        q_emit(&o, yo + (ptrdiff_t)i * n + j, acc, j);
      }
  }
}

void rt_conv2d_i8__scalar(const RtConv2dI8 *p) {
  const void *x = RT_PTR(const void, p->x), *w = RT_PTR(const void, p->w);
  const int32_t *bias = p->bias ? RT_PTR(const int32_t, p->bias) : 0;
  int fl = p->flags, xs8 = fl & RT_Q_A_S8, ws8 = fl & RT_Q_B_S8, wvec = (fl & RT_Q_BZP_VEC) != 0;
  QOut o = q_out_conv(p);
  int32_t cg = p->c / p->group, kg = p->k / p->group, xz = q_zp(p->x_zp, 0, xs8);
  for (int32_t b = 0; b < p->n; b++)
    for (int32_t co = 0; co < p->k; co++) {
      int32_t g = co / kg, wz = q_zp(p->w_zp, wvec ? co : 0, ws8);
      for (int32_t oy = 0; oy < p->oh; oy++)
        for (int32_t ox = 0; ox < p->ow; ox++) {
          int32_t acc = bias ? bias[co] : 0;
          for (int32_t c = 0; c < cg; c++)
            for (int32_t ky = 0; ky < p->kh; ky++) {
              int32_t iy = oy * p->sh - p->pt + ky * p->dh;
              if (iy < 0 || iy >= p->h) continue;
              for (int32_t kx = 0; kx < p->kw; kx++) {
                int32_t ix = ox * p->sw - p->pl + kx * p->dw;
                if (ix < 0 || ix >= p->w_) continue;
                ptrdiff_t xi = (((ptrdiff_t)b * p->c + g * cg + c) * p->h + iy) * p->w_ + ix;
                ptrdiff_t wi = (((ptrdiff_t)co * cg + c) * p->kh + ky) * p->kw + kx;
                acc = q_mac(acc, q_ld(x, xi, xs8) - xz, q_ld(w, wi, ws8) - wz);
              }
            }
          q_emit(&o, (((ptrdiff_t)b * p->k + co) * p->oh + oy) * p->ow + ox, acc, co);
        }
    }
}

#if RT_SIMD128
/* ------------------------------------------------------------------ SIMD128 */

/* panel of B columns j0..j0+nc (nc <= 8, zero beyond) for all kp rows, zero points subtracted */
static void q_pack_b(const void *b, int32_t n, int32_t k, int32_t kp, int32_t j0, int32_t nc, int s8,
                     const int16_t zp[8], int16_t *panel) {
  const int8_t *bb = (const int8_t *)b + j0;
  if (nc == 8) {
    v128_t vz = wasm_v128_load(zp);
    for (int32_t r = 0; r < kp; r += 2) {
      v128_t v0 = wasm_i16x8_sub(q_widen8(bb + (ptrdiff_t)r * n, s8), vz);
      v128_t v1 = r + 1 < k ? wasm_i16x8_sub(q_widen8(bb + (ptrdiff_t)(r + 1) * n, s8), vz) : wasm_i32x4_splat(0);
      q_panel_pair(panel, r, v0, v1);
    }
    return;
  }
  for (int32_t r = 0; r < kp; r += 2)
    for (int32_t j = 0; j < 8; j++) {
      panel[(ptrdiff_t)r * 8 + 2 * j] = (int16_t)(j < nc && r < k ? q_ld(bb, (ptrdiff_t)r * n + j, s8) - zp[j] : 0);
      panel[(ptrdiff_t)r * 8 + 2 * j + 1] = (int16_t)(j < nc && r + 1 < k ? q_ld(bb, (ptrdiff_t)(r + 1) * n + j, s8) - zp[j] : 0);
    }
}

void rt_matmul_i8__simd128(const RtMatMulI8 *p) {
  const int8_t *a = RT_PTR(const int8_t, p->a), *b = RT_PTR(const int8_t, p->b);
  int fl = p->flags, as8 = fl & RT_Q_A_S8, bs8 = fl & RT_Q_B_S8, bvec = (fl & RT_Q_BZP_VEC) != 0;
  QOut o = q_out_mm(p);
  int32_t m = p->m, n = p->n, k = p->k, kp = (k + 1) & ~1, nbat = RT_BATCHES(p);
  int16_t *aw = RT_PTR(int16_t, p->scratch);
  int16_t *panel = aw + ((((ptrdiff_t)m * kp * 2 + 15) & ~(ptrdiff_t)15) >> 1);
  int32_t out[4][8];
  int16_t zp[8];
  for (int32_t bi = 0; bi < nbat; bi++) {
    ptrdiff_t ao, bo, yo = (ptrdiff_t)bi * m * n;
    RT_BATCH_OFFSETS(p, bi, &ao, &bo);
    q_widen_rows(a + ao, k, m, k, as8, p->a_zp, 0, aw, kp);
    for (int32_t j0 = 0; j0 < n; j0 += 8) {
      int32_t nc = RT_MIN(8, n - j0);
      for (int32_t j = 0; j < 8; j++) zp[j] = (int16_t)q_zp(p->b_zp, bvec ? RT_MIN(j0 + j, n - 1) : 0, bs8);
      q_pack_b(b + bo, n, k, kp, j0, nc, bs8, zp, panel);
      for (int32_t i0 = 0; i0 < m; i0 += 4) {
        int32_t nr = RT_MIN(4, m - i0);
        q_tile(aw + (ptrdiff_t)i0 * kp, kp, nr, panel, out);
        for (int32_t i = 0; i < nr; i++)
          for (int32_t j = 0; j < nc; j++) q_emit(&o, yo + (ptrdiff_t)(i0 + i) * n + j0 + j, out[i][j], j0 + j);
      }
    }
  }
}

/* im2col panel of 8 output pixels p0..p0+np of one group's input planes xg (cg planes), zero points
 * subtracted (padding and pixels past np give 0): row r = (c, ky, kx) of the reduction, kp rows */
static void q_pack_conv(const RtConv2dI8 *p, const int8_t *xg, int s8, int32_t xz, int32_t p0, int32_t np,
                        int32_t cg, int32_t kp, int16_t *panel) {
  int32_t by[8], bx[8], r = 0, c = 0, ky = 0, kx = 0, rn = cg * p->kh * p->kw;
  for (int32_t j = 0; j < 8; j++) {
    int32_t pj = p0 + RT_MIN(j, np - 1);
    by[j] = (pj / p->ow) * p->sh - p->pt;
    bx[j] = (pj % p->ow) * p->sw - p->pl;
  }
  /* the 8 pixels on one output row, stride 1: each reduction row is 8 consecutive input bytes when inside */
  v128_t vz = wasm_i16x8_splat((int16_t)xz), v[2];
  int row8 = np == 8 && p->sw == 1 && by[0] == by[7];
  int row8s2 = np == 8 && p->sw == 2 && by[0] == by[7];
  if (np == 8 && p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && p->pt == 0 && p->pl == 0 && p->oh == p->h && p->ow == p->w_) {
    for (; r < kp; r++) {   /* pointwise: reduction row r is 8 consecutive bytes of plane r */
      v[r & 1] = r < rn ? wasm_i16x8_sub(q_widen8(xg + (ptrdiff_t)r * p->h * p->w_ + p0, s8), vz) : wasm_i32x4_splat(0);
      if (r & 1) q_panel_pair(panel, r - 1, v[0], v[1]);
    }
    return;
  }
  int16_t tmp[8];
  for (; r < kp; r++) {
    if (r >= rn) {
      v[r & 1] = wasm_i32x4_splat(0);
    } else {
      int32_t iy0 = by[0] + ky * p->dh, ix0 = bx[0] + kx * p->dw;
      const int8_t *plane = xg + (ptrdiff_t)c * p->h * p->w_;
      if (row8 && iy0 >= 0 && iy0 < p->h && ix0 >= 0 && ix0 + 7 < p->w_) {
        v[r & 1] = wasm_i16x8_sub(q_widen8(plane + (ptrdiff_t)iy0 * p->w_ + ix0, s8), vz);
      } else if (row8s2 && iy0 >= 0 && iy0 < p->h && ix0 >= 0 && ix0 + 15 < p->w_) {   /* stride 2: the even bytes */
        v128_t t = wasm_v128_load(plane + (ptrdiff_t)iy0 * p->w_ + ix0);
        t = wasm_i8x16_shuffle(t, t, 0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);
        v[r & 1] = wasm_i16x8_sub(s8 ? wasm_i16x8_extend_low_i8x16(t) : wasm_u16x8_extend_low_u8x16(t), vz);
      } else {
        for (int32_t j = 0; j < 8; j++) {
          int32_t iy = by[j] + ky * p->dh, ix = bx[j] + kx * p->dw;
          tmp[j] = (int16_t)(j < np && iy >= 0 && iy < p->h && ix >= 0 && ix < p->w_
                             ? q_ld(plane, (ptrdiff_t)iy * p->w_ + ix, s8) - xz : 0);
        }
        v[r & 1] = wasm_v128_load(tmp);
      }
      if (++kx == p->kw) { kx = 0; if (++ky == p->kh) { ky = 0; c++; } }
    }
    if (r & 1) q_panel_pair(panel, r - 1, v[0], v[1]);
  }
}

/* 8 outputs of a depthwise row: the tap pairs (offsets off[2t], off[2t+1] from base, weights wp[t]) summed into
 * a0 (pixels 0-3), a1 (4-7); sw the stride along w, a constant after inlining */
RT_AI void q_dw_taps(const int16_t *base, const int32_t *off, const int32_t *wp, int32_t npair, int32_t sw,
                     v128_t *a0, v128_t *a1) {
  v128_t c0 = *a0, c1 = *a1;
  for (int32_t t = 0; t < npair; t++) {
    const int16_t *s0 = base + off[2 * t], *s1 = base + off[2 * t + 1];
    v128_t u, v;
    if (sw == 1) {
      u = wasm_v128_load(s0);
      v = wasm_v128_load(s1);
    } else {
      u = wasm_i16x8_shuffle(wasm_v128_load(s0), wasm_v128_load(s0 + 8), 0, 2, 4, 6, 8, 10, 12, 14);
      v = wasm_i16x8_shuffle(wasm_v128_load(s1), wasm_v128_load(s1 + 8), 0, 2, 4, 6, 8, 10, 12, 14);
    }
    v128_t wv = wasm_i32x4_splat(wp[t]);
    c0 = wasm_i32x4_add(c0, wasm_i32x4_dot_i16x8(wasm_i16x8_shuffle(u, v, 0, 8, 1, 9, 2, 10, 3, 11), wv));
    c1 = wasm_i32x4_add(c1, wasm_i32x4_dot_i16x8(wasm_i16x8_shuffle(u, v, 4, 12, 5, 13, 6, 14, 7, 15), wv));
  }
  *a0 = c0;
  *a1 = c1;
}

/* depthwise (rt_q_conv_dw): per channel, the input plane minus its zero point, zero padded, in int16; then 8
 * outputs of a row at a time, taps in pairs interleaved into i32x4.dot_i16x8_s with the pair of weights */
static void q_conv_dw(const RtConv2dI8 *p, const QOut *o, RtAddr scratch) {
  const int8_t *x = RT_PTR(const int8_t, p->x), *w = RT_PTR(const int8_t, p->w);
  const int32_t *bias = p->bias ? RT_PTR(const int32_t, p->bias) : 0;
  int fl = p->flags, xs8 = fl & RT_Q_A_S8, ws8 = fl & RT_Q_B_S8, wvec = (fl & RT_Q_BZP_VEC) != 0;
  int32_t xz = q_zp(p->x_zp, 0, xs8), taps = p->kh * p->kw, sw = p->sw;
  int32_t pw = (int32_t)rt_q_conv_dw_pw(p->ow, p->kw, sw, p->dw);
  int32_t ph = (p->oh - 1) * p->sh + (p->kh - 1) * p->dh + 1;
  int16_t *pl = RT_PTR(int16_t, scratch);
  int32_t wp[32], off[64];   /* pairs of weights as i32 (low half the even tap), taps' offsets in the plane */
  int32_t npair = (taps + 1) / 2;
  for (int32_t t = 0; t < taps; t++) off[t] = (t / p->kw) * p->dh * pw + (t % p->kw) * p->dw;
  off[taps] = off[taps - 1];
  int32_t end = RT_MIN(pw, p->pl + p->w_);   /* columns [pl, end) of a plane row hold an input row */
  const int8_t *xend = x + (ptrdiff_t)p->n * p->c * p->h * p->w_;
  rt_memset(pl, 0, (size_t)ph * (size_t)pw * 2);
  for (int32_t b = 0; b < p->n; b++)
    for (int32_t ch = 0; ch < p->c; ch++) {
      const int8_t *xp = x + ((ptrdiff_t)b * p->c + ch) * p->h * p->w_;
      /* the input rows into [pl, end) of their plane rows; the zeros around them, written once, stay */
      for (int32_t r = RT_MAX(p->pt, 0); r < ph && r - p->pt < p->h; r++) {
        int16_t *d = pl + (ptrdiff_t)r * pw;
        const int8_t *src = xp + (ptrdiff_t)(r - p->pt) * p->w_;
        int32_t c0 = p->pl;
        v128_t vz = wasm_i16x8_splat((int16_t)xz);
        for (; c0 + 8 <= end; c0 += 8) wasm_v128_store(d + c0, wasm_i16x8_sub(q_widen8(src + c0 - p->pl, xs8), vz));
        if (c0 < end && src + c0 - p->pl + 8 <= xend) {
          /* the row's tail as one vector store, the lanes past it zero (a few scalar stores read back by
           * vector loads right after would stall store forwarding) */
          v128_t keep = wasm_i16x8_gt(wasm_i16x8_splat((int16_t)(end - c0)), wasm_i16x8_make(0, 1, 2, 3, 4, 5, 6, 7));
          wasm_v128_store(d + c0, wasm_v128_and(keep, wasm_i16x8_sub(q_widen8(src + c0 - p->pl, xs8), vz)));
          c0 = end;
        }
        for (; c0 < end; c0++) d[c0] = (int16_t)(q_ld(src, c0 - p->pl, xs8) - xz);
      }
      int32_t wz = q_zp(p->w_zp, wvec ? ch : 0, ws8), bv = bias ? bias[ch] : 0;
      for (int32_t t = 0; t < npair; t++) {
        int32_t w0 = q_ld(w, (ptrdiff_t)ch * taps + 2 * t, ws8) - wz;
        int32_t w1 = 2 * t + 1 < taps ? q_ld(w, (ptrdiff_t)ch * taps + 2 * t + 1, ws8) - wz : 0;
        wp[t] = (int32_t)(((uint32_t)w0 & 0xffffu) | ((uint32_t)w1 << 16));
      }
      ptrdiff_t yo = ((ptrdiff_t)b * p->c + ch) * p->oh * p->ow;
      for (int32_t oy = 0; oy < p->oh; oy++) {
        const int16_t *prow = pl + (ptrdiff_t)oy * p->sh * pw;
        for (int32_t ox = 0; ox < p->ow; ox += 8) {
          const int16_t *base = prow + ox * sw;
          v128_t a0 = wasm_i32x4_splat(bv), a1 = a0;
          if (sw == 1) q_dw_taps(base, off, wp, npair, 1, &a0, &a1);
          else q_dw_taps(base, off, wp, npair, 2, &a0, &a1);
          ptrdiff_t idx = yo + (ptrdiff_t)oy * p->ow + ox;
          q_emit8(o, idx, a0, a1, ch, RT_MIN(8, p->ow - ox));
        }
      }
    }
}

void rt_conv2d_i8__simd128(const RtConv2dI8 *p) {
  const int8_t *x = RT_PTR(const int8_t, p->x);
  const int32_t *bias = p->bias ? RT_PTR(const int32_t, p->bias) : 0;
  int fl = p->flags, xs8 = fl & RT_Q_A_S8, ws8 = fl & RT_Q_B_S8;
  QOut o = q_out_conv(p);
  float *mul = RT_PTR(float, p->scratch);   /* the multipliers, in q_emit's float32 order */
  if (o.requant)
    for (int32_t c = 0; c < p->k; c++) mul[c] = o.as * o.bs[o.bs_vec ? c : 0] / o.ys;
  o.mul = mul;
  RtAddr scr = p->scratch + rt_q_conv_mul_bytes(p->k);
  if (p->wfmt == RT_WF_I16_WINO ||
      (!p->wfmt && rt_q_conv_wino(p->c, p->k, p->h, p->kh, p->kw, p->sh, p->sw, p->dh, p->dw, p->group, p->oh, p->ow))) {
    rt_conv2d_i8_wino(p, &o, scr);
    return;
  }
  if (!p->wfmt && rt_q_conv_dw(p->c, p->k, p->group, p->h, p->sw) && p->kh * p->kw <= 63) { q_conv_dw(p, &o, scr); return; }
  int32_t cg = p->c / p->group, kg = p->k / p->group, rn = cg * p->kh * p->kw, kp = (rn + 1) & ~1;
  int32_t xz = q_zp(p->x_zp, 0, xs8), np_all = p->oh * p->ow, npan = (np_all + 7) / 8;
  int32_t nbp = (int32_t)rt_q_conv_npanels((uint32_t)kp * 16, (uint32_t)npan);
  const int16_t *wq;
  int16_t *panels;
  if (p->wfmt == RT_WF_I16_ROWS) {   /* prepacked when the module started (or at compile time) */
    wq = RT_PTR(const int16_t, p->wq);
    panels = RT_PTR(int16_t, scr);
  } else {
    int16_t *ww = RT_PTR(int16_t, scr);
    q_widen_rows(RT_PTR(const int8_t, p->w), rn, p->k, rn, ws8, p->w_zp, (fl & RT_Q_BZP_VEC) != 0, ww, kp);
    wq = ww;
    panels = ww + ((((ptrdiff_t)p->k * kp * 2 + 15) & ~(ptrdiff_t)15) >> 1);
  }
  int32_t out[4][8];
  for (int32_t b = 0; b < p->n; b++)
    for (int32_t g = 0; g < p->group; g++) {
      const int8_t *xg = x + ((ptrdiff_t)b * p->c + (ptrdiff_t)g * cg) * p->h * p->w_;
      for (int32_t pb0 = 0; pb0 < npan; pb0 += nbp) {   /* a group of panels, then each weight slice over all of them */
        int32_t nbk = RT_MIN(nbp, npan - pb0);
        for (int32_t j = 0; j < nbk; j++) {
          int32_t p0 = (pb0 + j) * 8;
          q_pack_conv(p, xg, xs8, xz, p0, RT_MIN(8, np_all - p0), cg, kp, panels + (ptrdiff_t)j * kp * 8);
        }
        for (int32_t i0 = 0; i0 < kg; i0 += 4) {
          int32_t nr = RT_MIN(4, kg - i0), co0 = g * kg + i0;
          for (int32_t j = 0; j < nbk; j++) {
            int32_t p0 = (pb0 + j) * 8, np = RT_MIN(8, np_all - p0);
            q_tile(wq + (ptrdiff_t)co0 * kp, kp, nr, panels + (ptrdiff_t)j * kp * 8, out);
            for (int32_t i = 0; i < nr; i++) {
              int32_t co = co0 + i, bv = bias ? bias[co] : 0;
              ptrdiff_t yo = ((ptrdiff_t)b * p->k + co) * np_all + p0;
              v128_t vb = wasm_i32x4_splat(bv);
              q_emit8(&o, yo, wasm_i32x4_add(wasm_v128_load(out[i]), vb), wasm_i32x4_add(wasm_v128_load(out[i] + 4), vb), co, np);
            }
          }
        }
      }
    }
}

RT_EXPORT("rt_matmul_i8") void rt_matmul_i8(const RtMatMulI8 *p) { rt_matmul_i8__simd128(p); }
RT_EXPORT("rt_conv2d_i8") void rt_conv2d_i8(const RtConv2dI8 *p) { rt_conv2d_i8__simd128(p); }
#else
RT_EXPORT("rt_matmul_i8") void rt_matmul_i8(const RtMatMulI8 *p) { rt_matmul_i8__scalar(p); }
RT_EXPORT("rt_conv2d_i8") void rt_conv2d_i8(const RtConv2dI8 *p) { rt_conv2d_i8__scalar(p); }
#endif

/* an integer conv's int16 weights (RtConv2dI8.wq), once, when a module computes them instead of shipping them */
RT_EXPORT("rt_q_conv_pack") void rt_q_conv_pack(const RtQConvPack *p) {
  rt_q_conv_pack_i16(RT_PTR(const void, p->w), p->w_zp ? RT_PTR(const void, p->w_zp) : 0, p->flags, p->fmt, p->k, p->cg,
                     p->khkw, RT_PTR(short, p->wq));
}
