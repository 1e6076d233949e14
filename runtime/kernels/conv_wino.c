/* conv_wino.c — Winograd convolution F(m x m, 3x3), m = 2 or 4 (3x3, stride 1, dilation 1, group 1).
 *
 * With alpha = m + 2 and the tile positions p = (r, c), r, c < alpha:
 *   V = B^T d B        per input channel and tile (d: the alpha x alpha input patch of the tile)
 *   M[p] = U[p] V[p]   per position, a [k x c] x [c x tiles] GEMM (U = G w G^T, packed at compile time)
 *   Y = A^T M A        per output channel and tile, + bias, + residual, activation
 * The matrices are Lavin & Gray's (interpolation points 0, 1, -1 for m = 2; 0, +-1, +-2 for m = 4).
 *
 * Scratch layout (floats, for a block of T = tile_rows * tx tiles, rows of L = T rounded up to 8 floats;
 * the last block may have fewer rows, then T and L are smaller and the same formulas hold):
 *   V  [alpha^2][c][L]   transformed input (B operand of the GEMM: k = channel, columns = tiles); the
 *                        columns past T are zeroed, so every GEMM strip is a full 8 columns
 *   M  [alpha^2][k][L]   GEMM products (+8 floats: the output transform reads up to 3 tiles past a row)
 * The alpha^2 matrices of V and of M are rt_conv_wino_slab() floats apart (an odd number of cache lines:
 * with a power-of-two stride the transforms' alpha^2 streams thrash one L1 set, ~8% slower overall).
 *   R  [alpha][WT]       one tile row of input, transformed along y (B^T d), zero-padded, WT = m*ceil4(tx)+4
 *   Z  [ceil4(w)]        a zero row (input rows outside the image)
 * The SIMD transforms work on 4 horizontally adjacent tiles at once: the x-direction gathers are shuffles
 * of contiguous loads from R, and outputs are shuffled back into contiguous rows of y. Partial groups at
 * the right edge compute on zero padding and store only the valid lanes. */
#include "rt_internal.h"
#include "../prepack.h"

/* ------------------------------------------------------------------ scalar reference */

static const float wino_bt2[4][4] = {{1, 0, -1, 0}, {0, 1, 1, 0}, {0, -1, 1, 0}, {0, 1, 0, -1}};
static const float wino_at2[2][4] = {{1, 1, 1, 0}, {0, 1, -1, -1}};
static const float wino_bt4[6][6] = {{4, 0, -5, 0, 1, 0},  {0, -4, -4, 1, 1, 0}, {0, 4, -4, -1, 1, 0},
                                     {0, -2, -1, 2, 1, 0}, {0, 2, -1, -2, 1, 0}, {0, 4, 0, -5, 0, 1}};
static const float wino_at4[4][6] = {{1, 1, 1, 1, 1, 0}, {0, 1, -1, 2, -2, 0}, {0, 1, 1, 4, 4, 0}, {0, 1, -1, 8, -8, 1}};

/* U[p] weight of (ko, ci) in the packed panel layout (pack.h, one matrix per position p) */
static float wino_u(const RtConvWino *p, const float *u, int32_t pos, int32_t ko, int32_t ci) {
  int32_t panels = (p->k + RT_CONV_PACK_MR - 1) / RT_CONV_PACK_MR;
  const float *up = u + (ptrdiff_t)pos * panels * RT_CONV_PACK_MR * p->c;
  return up[((ptrdiff_t)(ko / RT_CONV_PACK_MR) * p->c + ci) * RT_CONV_PACK_MR + ko % RT_CONV_PACK_MR];
}

/* Tile by tile with the matrices written out; no scratch. */
void rt_conv_wino_f32__scalar(const RtConvWino *p) {
  const float *x = RT_PTR(const float, p->x), *u = RT_PTR(const float, p->u);
  const float *bias = p->bias ? RT_PTR(const float, p->bias) : 0;
  const float *res = p->res ? RT_PTR(const float, p->res) : 0;
  float *y = RT_PTR(float, p->y);
  const int32_t m = p->m, a = m + 2, np = a * a;
  const float *bt = m == 2 ? &wino_bt2[0][0] : &wino_bt4[0][0], *at = m == 2 ? &wino_at2[0][0] : &wino_at4[0][0];
  ptrdiff_t hw = (ptrdiff_t)p->h * p->w_, ohw = (ptrdiff_t)p->oh * p->ow;
  float d[36], t[36], v[36 * 1], acc[36];
  for (int32_t ni = 0; ni < p->n; ni++)
    for (int32_t oy0 = 0; oy0 < p->oh; oy0 += m)
      for (int32_t ox0 = 0; ox0 < p->ow; ox0 += m)
        for (int32_t ko = 0; ko < p->k; ko++) {
          for (int32_t q = 0; q < np; q++) acc[q] = 0.0f;
          for (int32_t ci = 0; ci < p->c; ci++) {
            const float *xc = x + ((ptrdiff_t)ni * p->c + ci) * hw;
            for (int32_t r = 0; r < a; r++)
              for (int32_t s = 0; s < a; s++) {
                int32_t iy = oy0 - p->pt + r, ix = ox0 - p->pl + s;
                d[r * a + s] = iy >= 0 && iy < p->h && ix >= 0 && ix < p->w_ ? xc[(ptrdiff_t)iy * p->w_ + ix] : 0.0f;
              }
            for (int32_t r = 0; r < a; r++) /* t = B^T d */
              for (int32_t s = 0; s < a; s++) {
                float z = 0.0f;
                for (int32_t q = 0; q < a; q++) z += bt[r * a + q] * d[q * a + s];
                t[r * a + s] = z;
              }
            for (int32_t r = 0; r < a; r++) /* v = t B */
              for (int32_t s = 0; s < a; s++) {
                float z = 0.0f;
                for (int32_t q = 0; q < a; q++) z += t[r * a + q] * bt[s * a + q];
                v[r * a + s] = z;
              }
            for (int32_t q = 0; q < np; q++) acc[q] += wino_u(p, u, q, ko, ci) * v[q];
          }
          for (int32_t i = 0; i < m; i++) /* t = A^T acc (m x a) */
            for (int32_t s = 0; s < a; s++) {
              float z = 0.0f;
              for (int32_t q = 0; q < a; q++) z += at[i * a + q] * acc[q * a + s];
              t[i * a + s] = z;
            }
          for (int32_t i = 0; i < m; i++)
            for (int32_t j = 0; j < m; j++) {
              int32_t oy = oy0 + i, ox = ox0 + j;
              if (oy >= p->oh || ox >= p->ow) continue;
              float z = 0.0f;
              for (int32_t q = 0; q < a; q++) z += t[i * a + q] * at[j * a + q];
              ptrdiff_t o = ((ptrdiff_t)ni * p->k + ko) * ohw + (ptrdiff_t)oy * p->ow + ox;
              if (bias) z += bias[ko];
              if (res) z += res[o];
              y[o] = rt_act1(p->act.kind, p->act.a, p->act.b, z);
            }
        }
}

#if RT_SIMD128

#define VADD wasm_f32x4_add
#define VSUB wasm_f32x4_sub
#define VMUL wasm_f32x4_mul
#define VS wasm_f32x4_splat

/* B^T applied to alpha vectors (one transform per lane) */
RT_AI void bt2(const v128_t *d, v128_t *t) {
  t[0] = VSUB(d[0], d[2]);
  t[1] = VADD(d[1], d[2]);
  t[2] = VSUB(d[2], d[1]);
  t[3] = VSUB(d[1], d[3]);
}
RT_AI void bt4(const v128_t *d, v128_t *t) {
  v128_t four = VS(4.0f), five = VS(5.0f);
  v128_t p = VSUB(d[4], VMUL(four, d[2])), q = VSUB(d[3], VMUL(four, d[1]));
  v128_t r = VSUB(d[4], d[2]), s = VMUL(VS(2.0f), VSUB(d[3], d[1]));
  t[0] = VADD(VSUB(VMUL(four, d[0]), VMUL(five, d[2])), d[4]);
  t[1] = VADD(p, q);
  t[2] = VSUB(p, q);
  t[3] = VADD(r, s);
  t[4] = VSUB(r, s);
  t[5] = VADD(VSUB(VMUL(four, d[1]), VMUL(five, d[3])), d[5]);
}
/* A^T applied to alpha vectors */
RT_AI void at2(const v128_t *s, v128_t *o) {
  o[0] = VADD(VADD(s[0], s[1]), s[2]);
  o[1] = VSUB(VSUB(s[1], s[2]), s[3]);
}
RT_AI void at4(const v128_t *s, v128_t *o) {
  v128_t a = VADD(s[1], s[2]), b = VSUB(s[1], s[2]), c = VADD(s[3], s[4]), d = VSUB(s[3], s[4]);
  o[0] = VADD(VADD(s[0], a), c);
  o[1] = VADD(b, VMUL(VS(2.0f), d));
  o[2] = VADD(a, VMUL(VS(4.0f), c));
  o[3] = VADD(VADD(b, VMUL(VS(8.0f), d)), s[5]);
}

/* The alpha x-offsets of 4 adjacent tiles: e[j] = (row[x0 + j], row[x0 + m + j], row[x0 + 2m + j], ...). */
RT_AI void gather(const int M, const float *row, v128_t *e) {
  v128_t l0 = wasm_v128_load(row), l1 = wasm_v128_load(row + 4), l2 = wasm_v128_load(row + 8);
  if (M == 2) {
    e[0] = wasm_i32x4_shuffle(l0, l1, 0, 2, 4, 6);
    e[1] = wasm_i32x4_shuffle(l0, l1, 1, 3, 5, 7);
    e[2] = wasm_i32x4_shuffle(e[0], l2, 1, 2, 3, 4);
    e[3] = wasm_i32x4_shuffle(e[1], l2, 1, 2, 3, 5);
  } else {
    v128_t l3 = wasm_v128_load(row + 12), l4 = wasm_v128_load(row + 16);
    v128_t a0 = wasm_i32x4_shuffle(l0, l1, 0, 4, 1, 5), a1 = wasm_i32x4_shuffle(l0, l1, 2, 6, 3, 7);
    v128_t b0 = wasm_i32x4_shuffle(l2, l3, 0, 4, 1, 5), b1 = wasm_i32x4_shuffle(l2, l3, 2, 6, 3, 7);
    e[0] = wasm_i64x2_shuffle(a0, b0, 0, 2);
    e[1] = wasm_i64x2_shuffle(a0, b0, 1, 3);
    e[2] = wasm_i64x2_shuffle(a1, b1, 0, 2);
    e[3] = wasm_i64x2_shuffle(a1, b1, 1, 3);
    e[4] = wasm_i32x4_shuffle(e[0], l4, 1, 2, 3, 4);
    e[5] = wasm_i32x4_shuffle(e[1], l4, 1, 2, 3, 5);
  }
}

/* Input transform of one tile row of one channel: rows[r] (r < alpha) are the input rows (or the zero row),
 * R the alpha padded rows of width wt, v the channel's slice of V (position stride ps floats),
 * tiles [0, tx) written at v[tile]. */
RT_AI void in_row(const int M, const float *const *rows, int32_t w, int32_t pl, float *R, int32_t wt, int32_t tx,
                  float *v, ptrdiff_t ps) {
  const int A = M + 2;
  /* along y: R[r] = sum_q B^T[r][q] rows[q], at padded column pl + ix */
  pl = RT_MIN(pl, wt);
  int32_t n = RT_MAX(0, RT_MIN(w, wt - pl));
  for (int r = 0; r < A; r++) {
    if (pl > 0) rt_memset(R + r * wt, 0, (size_t)pl * 4);
    if (pl + n < wt) rt_memset(R + r * wt + pl + n, 0, (size_t)(wt - pl - n) * 4);
  }
  int32_t ix = 0;
  v128_t d[6], t[6];
  for (; ix + 4 <= n; ix += 4) {
    for (int q = 0; q < A; q++) d[q] = wasm_v128_load(rows[q] + ix);
    if (M == 2) bt2(d, t); else bt4(d, t);
    for (int r = 0; r < A; r++) wasm_v128_store(R + r * wt + pl + ix, t[r]);
  }
  if (ix < n) {
    int32_t nl = n - ix;
    for (int q = 0; q < A; q++) d[q] = rt_load_part(rows[q] + ix, nl);
    if (M == 2) bt2(d, t); else bt4(d, t);
    for (int r = 0; r < A; r++) rt_store_part(R + r * wt + pl + ix, t[r], nl);
  }
  /* along x, 4 tiles at a time */
  for (int32_t t0 = 0; t0 < tx; t0 += 4) {
    int32_t nt = RT_MIN(4, tx - t0);
    for (int r = 0; r < A; r++) {
      v128_t e[6], o[6];
      gather(M, R + r * wt + t0 * M, e);
      if (M == 2) bt2(e, o); else bt4(e, o);
      float *vr = v + (ptrdiff_t)(r * A) * ps + t0;
      if (nt == 4) {
        for (int c = 0; c < A; c++) wasm_v128_store(vr + c * ps, o[c]);
      } else {
        for (int c = 0; c < A; c++) rt_store_part(vr + c * ps, o[c], nt);
      }
    }
  }
}

/* Output transform of one tile row of one output channel: mk = M + ko*T + first tile of the row (position
 * stride ps floats), output rows y0.. (at most m of them, nrows valid), each ow wide. */
RT_AI void out_row(const int M, const float *mk, ptrdiff_t ps, int32_t tx, float *yr, const float *rr, int32_t ow,
                   int32_t nrows, v128_t vb, int32_t kind, float aa, float ab) {
  const int A = M + 2;
  for (int32_t t0 = 0; t0 < tx; t0 += 4) {
    v128_t s[6][4]; /* s[r][j]: row r of A^T-along-x, output column j */
    for (int r = 0; r < A; r++) {
      v128_t mv[6];
      for (int c = 0; c < A; c++) mv[c] = wasm_v128_load(mk + (ptrdiff_t)(r * A + c) * ps + t0);
      if (M == 2) at2(mv, s[r]); else at4(mv, s[r]);
    }
    int32_t x0 = t0 * M, nx = RT_MIN(4 * M, ow - x0);
    v128_t o[4][4]; /* o[i][j]: output (i, j) of the 4 tiles */
    for (int j = 0; j < M; j++) {
      v128_t col[6], oo[4];
      for (int r = 0; r < A; r++) col[r] = s[r][j];
      if (M == 2) at2(col, oo); else at4(col, oo);
      for (int i = 0; i < M; i++) o[i][j] = oo[i];
    }
    for (int i = 0; i < M && i < nrows; i++) {
      v128_t out[4]; /* contiguous: tile-major, 4*M floats */
      if (M == 2) {
        out[0] = wasm_i32x4_shuffle(o[i][0], o[i][1], 0, 4, 1, 5);
        out[1] = wasm_i32x4_shuffle(o[i][0], o[i][1], 2, 6, 3, 7);
      } else {
        v128_t a0 = wasm_i32x4_shuffle(o[i][0], o[i][1], 0, 4, 1, 5), a1 = wasm_i32x4_shuffle(o[i][0], o[i][1], 2, 6, 3, 7);
        v128_t b0 = wasm_i32x4_shuffle(o[i][2], o[i][3], 0, 4, 1, 5), b1 = wasm_i32x4_shuffle(o[i][2], o[i][3], 2, 6, 3, 7);
        out[0] = wasm_i64x2_shuffle(a0, b0, 0, 2);
        out[1] = wasm_i64x2_shuffle(a0, b0, 1, 3);
        out[2] = wasm_i64x2_shuffle(a1, b1, 0, 2);
        out[3] = wasm_i64x2_shuffle(a1, b1, 1, 3);
      }
      float *yo = yr + (ptrdiff_t)i * ow + x0;
      const float *ro = rr ? rr + (ptrdiff_t)i * ow + x0 : 0;
      for (int g = 0; g < M; g++) {
        int32_t nl = nx - 4 * g;
        if (nl <= 0) break;
        v128_t z = VADD(out[g], vb);
        if (nl >= 4) {
          if (ro) z = VADD(z, wasm_v128_load(ro + 4 * g));
          wasm_v128_store(yo + 4 * g, rt_act_f32x4(kind, aa, ab, z));
        } else {
          if (ro) z = VADD(z, rt_load_part(ro + 4 * g, nl));
          rt_store_part(yo + 4 * g, rt_act_f32x4(kind, aa, ab, z), nl);
        }
      }
    }
  }
}

/* Not inlined, one per tile size: V8 then allocates the transforms' vectors locally. */
__attribute__((noinline)) static void in_row2(const float *const *rows, int32_t w, int32_t pl, float *R, int32_t wt,
                                              int32_t tx, float *v, ptrdiff_t ps) {
  in_row(2, rows, w, pl, R, wt, tx, v, ps);
}
__attribute__((noinline)) static void in_row4(const float *const *rows, int32_t w, int32_t pl, float *R, int32_t wt,
                                              int32_t tx, float *v, ptrdiff_t ps) {
  in_row(4, rows, w, pl, R, wt, tx, v, ps);
}
__attribute__((noinline)) static void out_row2(const float *mk, ptrdiff_t ps, int32_t tx, float *yr, const float *rr,
                                               int32_t ow, int32_t nrows, v128_t vb, int32_t kind, float aa, float ab) {
  out_row(2, mk, ps, tx, yr, rr, ow, nrows, vb, kind, aa, ab);
}
__attribute__((noinline)) static void out_row4(const float *mk, ptrdiff_t ps, int32_t tx, float *yr, const float *rr,
                                               int32_t ow, int32_t nrows, v128_t vb, int32_t kind, float aa, float ab) {
  out_row(4, mk, ps, tx, yr, rr, ow, nrows, vb, kind, aa, ab);
}

void rt_conv_wino_f32__simd128(const RtConvWino *p) {
  const int32_t m = p->m, a = m + 2, np = a * a, c = p->c, k = p->k, h = p->h, w = p->w_, oh = p->oh, ow = p->ow;
  const int32_t tx = (ow + m - 1) / m, ty = (oh + m - 1) / m, tr = p->tile_rows > 0 ? p->tile_rows : 1;
  if (m != 2 && m != 4) return;
  if (!p->scratch || p->scratch_bytes / 4 < rt_conv_wino_scratch_floats(c, k, w, ow, m, tr)) {
    rt_conv_wino_f32__scalar(p);
    return;
  }
  const float *x = RT_PTR(const float, p->x), *u = RT_PTR(const float, p->u);
  const float *bias = p->bias ? RT_PTR(const float, p->bias) : 0;
  const float *res = p->res ? RT_PTR(const float, p->res) : 0;
  float *y = RT_PTR(float, p->y);
  const int32_t wt = m * ((tx + 3) & ~3) + 4, tmax = (tr * tx + 7) & ~7, panels = (k + RT_CONV_PACK_MR - 1) / RT_CONV_PACK_MR;
  float *V = RT_PTR(float, p->scratch);
  float *Mb = V + (ptrdiff_t)np * rt_conv_wino_slab((uint32_t)c * tmax);
  float *R = Mb + (ptrdiff_t)np * rt_conv_wino_slab((uint32_t)k * tmax) + 8;
  float *Z = R + (ptrdiff_t)a * wt;
  rt_memset(Z, 0, (size_t)((w + 3) & ~3) * 4);
  ptrdiff_t hw = (ptrdiff_t)h * w, ohw = (ptrdiff_t)oh * ow;
  const int32_t kind = p->act.kind;
  const float aa = p->act.a, ab = p->act.b;
  const float *rows[6];
  for (int32_t ni = 0; ni < p->n; ni++)
    for (int32_t ty0 = 0; ty0 < ty; ty0 += tr) {
      int32_t nr = RT_MIN(tr, ty - ty0), T = nr * tx, L = (T + 7) & ~7;
      ptrdiff_t vs = rt_conv_wino_slab((uint32_t)c * L), ms = rt_conv_wino_slab((uint32_t)k * L);
      /* input transform: V[pos][ci][tile] */
      for (int32_t ci = 0; ci < c; ci++) {
        const float *xc = x + ((ptrdiff_t)ni * c + ci) * hw;
        for (int32_t lr = 0; lr < nr; lr++) {
          int32_t iy0 = (ty0 + lr) * m - p->pt;
          for (int r = 0; r < a; r++) {
            int32_t iy = iy0 + r;
            rows[r] = iy >= 0 && iy < h ? xc + (ptrdiff_t)iy * w : Z;
          }
          float *v = V + (ptrdiff_t)ci * L + (ptrdiff_t)lr * tx;
          if (m == 2) in_row2(rows, w, p->pl, R, wt, tx, v, vs);
          else in_row4(rows, w, p->pl, R, wt, tx, v, vs);
        }
        if (L > T)
          for (int32_t q = 0; q < np; q++) rt_memset(V + q * vs + (ptrdiff_t)ci * L + T, 0, (size_t)(L - T) * 4);
      }
      /* one GEMM per position: M[pos] (k x T) = U[pos] (k x c, packed) * V[pos] (c x T) */
      for (int32_t q = 0; q < np; q++) {
        RtStridedB sb = {V + q * vs, L, 1};
        rt_gemm_core(k, L, c, u + (ptrdiff_t)q * panels * RT_CONV_PACK_MR * c, 0, 0, 0, rt_packb_strided, &sb,
                     Mb + q * ms, L, 0);
      }
      /* output transform, + bias, + residual, activation */
      for (int32_t ko = 0; ko < k; ko++) {
        ptrdiff_t yo = ((ptrdiff_t)ni * k + ko) * ohw;
        v128_t vb = VS(bias ? bias[ko] : 0.0f);
        for (int32_t lr = 0; lr < nr; lr++) {
          int32_t oy = (ty0 + lr) * m;
          float *yr = y + yo + (ptrdiff_t)oy * ow;
          const float *rr = res ? res + yo + (ptrdiff_t)oy * ow : 0;
          const float *mk = Mb + (ptrdiff_t)ko * L + (ptrdiff_t)lr * tx;
          if (m == 2) out_row2(mk, ms, tx, yr, rr, ow, oh - oy, vb, kind, aa, ab);
          else out_row4(mk, ms, tx, yr, rr, ow, oh - oy, vb, kind, aa, ab);
        }
      }
    }
}

RT_EXPORT("rt_conv_wino_f32") void rt_conv_wino_f32(const RtConvWino *p) { rt_conv_wino_f32__simd128(p); }
#else
RT_EXPORT("rt_conv_wino_f32") void rt_conv_wino_f32(const RtConvWino *p) { rt_conv_wino_f32__scalar(p); }
#endif

/* the transformed weights of one conv, once, when a module computes them instead of shipping them */
RT_EXPORT("rt_wino_pack_f32") void rt_wino_pack_f32(const RtWinoPack *p) {
  rt_wino_transform_weights(RT_PTR(const float, p->w), RT_PTR(float, p->u), p->k, p->c, p->m, RT_CONV_PACK_MR);
}
