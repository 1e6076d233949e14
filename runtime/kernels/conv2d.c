/* conv2d.c — 2-D convolution (NCHW): scalar reference, and f32x4 paths (blocked GEMM over the input or its
 * implicit im2col, with pre-packed or ONNX-layout weights; depthwise). */
#include "rt_internal.h"
#include "../prepack.h"

/* One output pixel computed directly (reference loop; also the border path of depthwise). */
static float conv_pixel(const RtConv2d *p, const float *xg, const float *wk, ptrdiff_t ws, int32_t cpg,
                        int32_t oy, int32_t ox, const float *xs) {
  float acc = 0.0f;
  for (int32_t ci = 0; ci < cpg; ci++)
    for (int32_t ky = 0; ky < p->kh; ky++) {
      int32_t iy = oy * p->sh - p->pt + ky * p->dh;
      if (iy < 0 || iy >= p->h) continue;
      const float *xr = xg + ((ptrdiff_t)ci * p->h + iy) * p->w_;
      const float *wr = wk + ((ptrdiff_t)ci * p->kh + ky) * p->kw * ws;
      for (int32_t kx = 0; kx < p->kw; kx++) {
        int32_t ix = ox * p->sw - p->pl + kx * p->dw;
        if (ix < 0 || ix >= p->w_) continue;
        float xv = xr[ix];
        if (xs) xv *= xs[ci];        /* rounded like the separate Mul node it replaces */
        acc += xv * wr[kx * ws];
      }
    }
  return acc;
}

void rt_conv2d_f32__scalar(const RtConv2d *p) {
  const float *x = RT_PTR(const float, p->x), *w = RT_PTR(const float, p->w);
  const float *bias = p->bias ? RT_PTR(const float, p->bias) : 0;
  const float *res = p->res ? RT_PTR(const float, p->res) : 0;
  float *y = RT_PTR(float, p->y);
  int32_t cpg = p->c / p->group, kpg = p->k / p->group, crs = cpg * p->kh * p->kw;
  ptrdiff_t ohw = (ptrdiff_t)p->oh * p->ow, hw = (ptrdiff_t)p->h * p->w_;
  for (int32_t ni = 0; ni < p->n; ni++)
    for (int32_t ko = 0; ko < p->k; ko++) {
      int32_t g = ko / kpg;
      const float *xg = x + ((ptrdiff_t)ni * p->c + (ptrdiff_t)g * cpg) * hw;
      /* weight of (ko, q): ONNX w[ko*crs + q], or packed (pack.h) at a stride of MR floats */
      const float *wk = w + (ptrdiff_t)ko * crs;
      ptrdiff_t ws = 1;
      if (p->wpacked) {
        int32_t r = ko - g * kpg, panels = (kpg + RT_CONV_PACK_MR - 1) / RT_CONV_PACK_MR;
        wk = w + ((ptrdiff_t)g * panels + r / RT_CONV_PACK_MR) * RT_CONV_PACK_MR * crs + r % RT_CONV_PACK_MR;
        ws = RT_CONV_PACK_MR;
      }
      ptrdiff_t base = ((ptrdiff_t)ni * p->k + ko) * ohw;
      const float *xs = p->xscale ? RT_PTR(const float, p->xscale) + (ptrdiff_t)ni * p->xscale_ns + (ptrdiff_t)g * cpg : 0;
      for (int32_t oy = 0; oy < p->oh; oy++)
        for (int32_t ox = 0; ox < p->ow; ox++) {
          ptrdiff_t o = base + (ptrdiff_t)oy * p->ow + ox;
          float v = conv_pixel(p, xg, wk, ws, cpg, oy, ox, xs);
          if (bias) v += bias[ko];
          if (res) v += res[o];
          y[o] = rt_act1(p->act.kind, p->act.a, p->act.b, v);
        }
    }
}

#if RT_SIMD128

/* Implicit im2col: packs the B strip of the conv GEMM, B[q][j] = x[ci][iy][ix] for reduction index
 * q = (ci*kh + ky)*kw + kx and output pixel j (flattened oy*ow + ox), straight from the input (0 outside)
 * into dst[kc][8]. The 8 pixels are split into runs within one output row; a run whose taps are all
 * inside the row is copied with vector loads (stride 1 or 2), the rest element by element. */
typedef struct { const RtConv2d *p; const float *xg; } Im2colB;

static void packb_im2col(const void *ctx, int32_t k0, int32_t kc, int32_t j0, int32_t nv, float *dst) {
  const Im2colB *cx = ctx;
  const RtConv2d *p = cx->p;
  const int32_t h = p->h, w = p->w_, kh = p->kh, kw = p->kw, sw = p->sw, dh = p->dh, dw = p->dw, ow = p->ow;
  int32_t sl[8], sy[8], sx[8], sn[8], ns = 0;
  for (int32_t l = 0, oy = j0 / ow, ox = j0 - oy * ow; l < nv; oy++, ox = 0) {
    int32_t len = RT_MIN(nv - l, ow - ox);
    sl[ns] = l;
    sy[ns] = oy * p->sh - p->pt;
    sx[ns] = ox * sw - p->pl;
    sn[ns++] = len;
    l += len;
  }
  if (nv < 8) rt_memset(dst, 0, (size_t)kc * 8 * 4);
  int32_t kx = k0 % kw, t = k0 / kw, ky = t % kh, ci = t / kh;
  const v128_t z = wasm_f32x4_const_splat(0.0f);
  for (int32_t q = 0; q < kc; q++, dst += 8) {
    const float *xc = cx->xg + (ptrdiff_t)ci * h * w;
    for (int32_t s = 0; s < ns; s++) {
      int32_t iy = sy[s] + ky * dh, ix = sx[s] + kx * dw, len = sn[s];
      float *d = dst + sl[s];
      if ((uint32_t)iy >= (uint32_t)h) {
        if (len == 8) {
          wasm_v128_store(d, z);
          wasm_v128_store(d + 4, z);
        } else {
          for (int32_t l = 0; l < len; l++) d[l] = 0.0f;
        }
        continue;
      }
      const float *r = xc + (ptrdiff_t)iy * w;
      if (ix >= 0 && ix + (len - 1) * sw < w) {
        if (len == 8 && sw == 1) {
          wasm_v128_store(d, wasm_v128_load(r + ix));
          wasm_v128_store(d + 4, wasm_v128_load(r + ix + 4));
        } else if (len == 8 && sw == 2) {
          wasm_v128_store(d, rt_load_strided4(r + ix, 2));
          wasm_v128_store(d + 4, rt_load_strided4(r + ix + 8, 2));
        } else {
          for (int32_t l = 0; l < len; l++) d[l] = r[ix + l * sw];
        }
      } else {
        for (int32_t l = 0; l < len; l++) {
          int32_t xx = ix + l * sw;
          d[l] = (uint32_t)xx < (uint32_t)w ? r[xx] : 0.0f;
        }
      }
    }
    if (++kx == kw) {
      kx = 0;
      if (++ky == kh) {
        ky = 0;
        ci++;
      }
    }
  }
}

/* Interior columns [ox, ox1) of one depthwise output row, 8 then 4 at a time. xb points at input
 * column -pl of the first valid tap row, rstep = dh*w floats between tap rows, wr at that row's weights.
 * SW (stride) is a compile-time constant for 1 and 2, so the loads become plain or shuffled vector loads. */
RT_AI int32_t dw_interior(const int SW, int32_t ox, int32_t ox1, const float *xb, ptrdiff_t rstep,
                          int32_t nrows, const float *wr, int32_t kw, int32_t dw, float *yr,
                          const float *rr, v128_t vb, int32_t kind, float aa, float ab) {
  for (; ox + 8 <= ox1; ox += 8) {
    v128_t acc0 = vb, acc1 = vb;
    const float *xr = xb + ox * SW;
    const float *wk = wr;
    for (int32_t r = 0; r < nrows; r++, xr += rstep, wk += kw)
      for (int32_t kx = 0; kx < kw; kx++) {
        v128_t wv = wasm_v128_load32_splat(wk + kx);
        acc0 = wasm_f32x4_add(acc0, wasm_f32x4_mul(wv, rt_load_strided4(xr + kx * dw, SW)));
        acc1 = wasm_f32x4_add(acc1, wasm_f32x4_mul(wv, rt_load_strided4(xr + kx * dw + 4 * SW, SW)));
      }
    if (rr) {
      acc0 = wasm_f32x4_add(acc0, wasm_v128_load(rr + ox));
      acc1 = wasm_f32x4_add(acc1, wasm_v128_load(rr + ox + 4));
    }
    wasm_v128_store(yr + ox, rt_act_f32x4(kind, aa, ab, acc0));
    wasm_v128_store(yr + ox + 4, rt_act_f32x4(kind, aa, ab, acc1));
  }
  for (; ox + 4 <= ox1; ox += 4) {
    v128_t acc = vb;
    const float *xr = xb + ox * SW;
    const float *wk = wr;
    for (int32_t r = 0; r < nrows; r++, xr += rstep, wk += kw)
      for (int32_t kx = 0; kx < kw; kx++)
        acc = rt_madd_f32x4(wasm_v128_load32_splat(wk + kx), rt_load_strided4(xr + kx * dw, SW), acc);
    if (rr) acc = wasm_f32x4_add(acc, wasm_v128_load(rr + ox));
    wasm_v128_store(yr + ox, rt_act_f32x4(kind, aa, ab, acc));
  }
  return ox;
}

/* Depthwise through a zero-padded, column-phase-split copy of each input plane (in rt_abuf): phase f
 * (f < sw) holds padded row r, columns sw*i + f, so that every tap of 8 consecutive outputs is one run
 * of 8 contiguous floats, with no border cases: out[oy][ox] += w[ky][kx] * ph[t % sw][oy*sh + ky*dh][ox + t / sw],
 * t = kx*dw. L floats per phase row (the last 8-pixel group may read past ow, into zeros). A plane whose
 * padded copy does not fit goes in blocks of `rows` output rows (hp padded rows each, the tap rows they
 * share padded again per block). */
typedef struct { int32_t hp, L, ph, rows; } DwPlan;

static int dw_plan(const RtConv2d *p, DwPlan *pl) {
  int32_t ow8 = (p->ow + 7) & ~7, span = (p->kh - 1) * p->dh + 1;
  pl->L = ow8 + ((p->kw - 1) * p->dw) / p->sw + 1;
  pl->L = (pl->L + 3) & ~3;
  pl->ph = p->sw;
  if (p->sw > 4) return 0;
  int64_t fit = RT_ABUF_FLOATS / ((int64_t)pl->L * pl->ph);   /* padded rows that fit */
  if (fit < span) return 0;                                    /* one output row does not: the direct version */
  int64_t rows = (fit - span) / p->sh + 1;
  pl->rows = rows < p->oh ? (int32_t)rows : p->oh;
  pl->hp = (pl->rows - 1) * p->sh + span;
  return 1;
}

/* Builds the phase planes of padded rows [r0, r0 + nr) of input plane xp (h x w) into buf (phase stride
 * hp rows). */
static void dw_pad(const RtConv2d *p, const DwPlan *pl, const float *xp, float *buf, int32_t r0, int32_t nr) {
  const int32_t h = p->h, w = p->w_, sw = p->sw, L = pl->L, pt = p->pt, plft = p->pl;
  for (int32_t r = 0; r < nr; r++) {
    int32_t iy = r0 + r - pt;
    const float *src = xp + (ptrdiff_t)iy * w;
    int inside = iy >= 0 && iy < h;
    for (int32_t f = 0; f < sw; f++) {
      float *d = buf + ((ptrdiff_t)f * pl->hp + r) * L;
      if (!inside) {
        rt_memset(d, 0, (size_t)L * 4);
        continue;
      }
      /* column sw*i + f - pl of the input: valid for i in [i0, i1) */
      int32_t i0 = RT_MAX(0, rt_ceil_div(plft - f, sw)), i1 = RT_MIN(L, rt_floor_div(w - 1 + plft - f, sw) + 1);
      if (i1 < i0) i1 = i0;
      if (i0 > 0) rt_memset(d, 0, (size_t)i0 * 4);
      const float *s0 = src + (sw * i0 + f - plft);
      int32_t i = i0;
      if (sw == 1) {
        rt_memcpy(d + i0, s0, (size_t)(i1 - i0) * 4);
        i = i1;
      } else if (sw == 2) {
        for (; i + 4 <= i1 - 1; i += 4, s0 += 8) { /* reads s0[0..8), all inside the row */
          v128_t a = wasm_v128_load(s0), b = wasm_v128_load(s0 + 4);
          wasm_v128_store(d + i, wasm_i32x4_shuffle(a, b, 0, 2, 4, 6));
        }
      }
      for (; i < i1; i++, s0 += sw) d[i] = *s0;
      if (i1 < L) rt_memset(d + i1, 0, (size_t)(L - i1) * 4);
    }
  }
}

/* One output row, 8 pixels at a time: tap (ky, kx) reads row[ky] + off[kx] + ox. Per tap row (a loop
 * clang must not unroll: unrolled, it hoists all the group's input loads ahead of the arithmetic and V8
 * then spills them to the stack, 2x slower), KW weight splats and 2*KW loads; KW is a compile-time
 * constant for the common shapes. */
RT_AI void dw_row(const int KH, const int KW, const float *const *row, const int32_t *off, const float *wp,
                  int32_t ow, float *yr, const float *rr, v128_t vb, int32_t kind, float aa, float ab) {
  int32_t ox = 0;
#ifndef __wasm__
  /* native: 16 full outputs at a time (their taps lie inside the padded row, as for the 8-wide loop) */
  const rt_v16 bias = rt_splat16(wasm_f32x4_extract_lane(vb, 0));
  for (; ox + 16 <= ow; ox += 16) {
    rt_v16 acc = bias;
    const float *w = wp;
    for (int ky = 0; ky < KH; ky++, w += KW) {
      const float *src = row[ky] + ox;
      for (int kx = 0; kx < KW; kx++) acc += w[kx] * *(const rt_v16u *)(src + off[kx]);
    }
    if (rr) acc += *(const rt_v16u *)(rr + ox);
    *(rt_v16u *)(yr + ox) = rt_relu_clip16(acc, kind, aa, ab);
  }
  if (ox && rt_act_after16(kind)) rt_act_rows(yr, 0, 1, ox, kind, aa, ab);
#endif
  for (; ox < ow; ox += 8) {
    v128_t acc0 = vb, acc1 = vb;
    const float *w = wp;
#pragma clang loop unroll(disable)
    for (int ky = 0; ky < KH; ky++, w += KW) {
      const float *src = row[ky] + ox;
      for (int kx = 0; kx < KW; kx++) {
        v128_t wv = wasm_v128_load32_splat(w + kx);
        acc0 = rt_madd_f32x4(wv, wasm_v128_load(src + off[kx]), acc0);
        acc1 = rt_madd_f32x4(wv, wasm_v128_load(src + off[kx] + 4), acc1);
      }
    }
    int32_t n = ow - ox;
    if (n >= 8) {
      if (rr) {
        acc0 = wasm_f32x4_add(acc0, wasm_v128_load(rr + ox));
        acc1 = wasm_f32x4_add(acc1, wasm_v128_load(rr + ox + 4));
      }
      wasm_v128_store(yr + ox, rt_act_f32x4(kind, aa, ab, acc0));
      wasm_v128_store(yr + ox + 4, rt_act_f32x4(kind, aa, ab, acc1));
    } else {
      int32_t n0 = RT_MIN(n, 4), n1 = n - 4;
      if (rr) acc0 = wasm_f32x4_add(acc0, rt_load_part(rr + ox, n0));
      rt_store_part(yr + ox, rt_act_f32x4(kind, aa, ab, acc0), n0);
      if (n1 > 0) {
        if (rr) acc1 = wasm_f32x4_add(acc1, rt_load_part(rr + ox + 4, n1));
        rt_store_part(yr + ox + 4, rt_act_f32x4(kind, aa, ab, acc1), n1);
      }
    }
  }
}

/* The 3x3 row with constant taps. Inlined into depthwise_padded (it is called once per output row: a call
 * costs ~15% on 7x7 and 14x14 planes). */
RT_AI void dw_row33(const float *const *row, const int32_t *off, const float *wp, int32_t ow, float *yr,
                   const float *rr, v128_t vb, int32_t kind, float aa, float ab) {
  dw_row(3, 3, row, off, wp, ow, yr, rr, vb, kind, aa, ab);
}
__attribute__((noinline)) static void dw_row55(const float *const *row, const int32_t *off, const float *wp,
                                               int32_t ow, float *yr, const float *rr, v128_t vb, int32_t kind,
                                               float aa, float ab) {
  dw_row(5, 5, row, off, wp, ow, yr, rr, vb, kind, aa, ab);
}

#define DW_MAX_TAPS 64

/* A depthwise path's work on one (image, channel) plane: input plane xp, its kh*kw weights wp, output plane yp,
 * residual plane rp (or 0), bias bv; plan: what the path computed once per call. */
typedef void (*DwPlaneFn)(const RtConv2d *p, const void *plan, const float *xp, const float *wp, float *yp,
                          const float *rp, float bv);

/* fn over every plane of the conv (the per-call setup done, the per-channel work a call each) */
static void dw_each_plane(const RtConv2d *p, DwPlaneFn fn, const void *plan) {
  const float *x = RT_PTR(const float, p->x), *w = RT_PTR(const float, p->w);
  const float *bias = p->bias ? RT_PTR(const float, p->bias) : 0;
  const float *res = p->res ? RT_PTR(const float, p->res) : 0;
  float *y = RT_PTR(float, p->y);
  const int32_t nc = p->c;
  ptrdiff_t hw = (ptrdiff_t)p->h * p->w_, ohw = (ptrdiff_t)p->oh * p->ow;
  for (int32_t ni = 0; ni < p->n; ni++)
    for (int32_t ch = 0; ch < nc; ch++) {
      ptrdiff_t xo = ((ptrdiff_t)ni * nc + ch) * hw, yo = ((ptrdiff_t)ni * nc + ch) * ohw;
      fn(p, plan, x + xo, w + (ptrdiff_t)ch * p->kh * p->kw, y + yo, res ? res + yo : 0, bias ? bias[ch] : 0.0f);
    }
}

/* One channel of depthwise_padded: pad the plane, then the output rows. Not inlined, like dw_direct_plane:
 * called once per channel, so a long first call (V8's baseline code) moves to the optimized code as soon as
 * it is ready instead of running the whole conv unoptimized. */
typedef struct { DwPlan pl; int32_t off[DW_MAX_TAPS]; } DwPadded;

__attribute__((noinline)) static void dw_padded_plane(const RtConv2d *p, const void *plan, const float *xp,
                                                      const float *wp, float *yp, const float *rp, float bv) {
  const DwPlan *pl = &((const DwPadded *)plan)->pl;
  const int32_t *off = ((const DwPadded *)plan)->off;
  const int32_t oh = p->oh, ow = p->ow, kh = p->kh, kw = p->kw, kind = p->act.kind;
  const float aa = p->act.a, ab = p->act.b;
  float *buf = rt_abuf;
  const float *row[DW_MAX_TAPS];
  v128_t vb = wasm_f32x4_splat(bv);
  for (int32_t oy = 0, oy0 = 0; oy < oh; oy++) {
    if (oy == oy0 + pl->rows || oy == 0) {        /* the next block of output rows: pad its input rows */
      oy0 = oy;
      int32_t nb = RT_MIN(pl->rows, oh - oy0);
      dw_pad(p, pl, xp, buf, oy0 * p->sh, (nb - 1) * p->sh + (kh - 1) * p->dh + 1);
    }
    for (int32_t ky = 0; ky < kh; ky++) row[ky] = buf + (ptrdiff_t)((oy - oy0) * p->sh + ky * p->dh) * pl->L;
    float *yr = yp + (ptrdiff_t)oy * ow;
    const float *rr = rp ? rp + (ptrdiff_t)oy * ow : 0;
    if (kh == 3 && kw == 3) {
      dw_row33(row, off, wp, ow, yr, rr, vb, kind, aa, ab);
    } else if (kh == 5 && kw == 5) {
      dw_row55(row, off, wp, ow, yr, rr, vb, kind, aa, ab);
    } else {
      dw_row(kh, kw, row, off, wp, ow, yr, rr, vb, kind, aa, ab);
    }
  }
}

static int depthwise_padded(const RtConv2d *p) {
  DwPadded d;
  if (p->kh > DW_MAX_TAPS || p->kw > DW_MAX_TAPS || !dw_plan(p, &d.pl)) return 0;
  for (int32_t kx = 0; kx < p->kw; kx++) {
    int32_t t = kx * p->dw;
    d.off[kx] = (t % p->sw) * d.pl.hp * d.pl.L + t / p->sw;
  }
  dw_each_plane(p, dw_padded_plane, &d);
  return 1;
}

/* Depthwise over flat planes (3x3 or 5x5, dilation 1). Output o = oy*ow + ox is computed 4 at a time, each
 * tap one contiguous load: tap (ky, kx) of all outputs is one flat run starting at tap[ky*kw + kx], and the
 * lanes whose input column falls outside the plane are masked per kernel column (mask[kx][o / 4]; a column
 * that never leaves the plane has none). The taps of one kernel column are summed apart and masked as one.
 *  - stride 1 with "same" padding (oh = h, ow = w): the plane itself, copied between zero rows in rt_abuf;
 *    tap (ky, kx) is x + (ky - pt) w + (kx - pl). Every vector holds 4 useful outputs: no 8-pixel groups
 *    straddling the end of 7-, 14- or 28-wide rows and no per-row work.
 *  - stride 2: the plane is split once into its four row/column parity planes P[pr][pc][r][c] =
 *    x[2r + pr][2c + pc], each with the output's row pitch ow between zero rows; tap (ky, kx) of output
 *    (oy, ox) is x[2oy + a][2ox + b] (a = ky - pt, b = kx - pl) = P[a & 1][b & 1][oy + (a >> 1)][ox + (b >> 1)],
 *    again a flat run from P[a & 1][b & 1] + (a >> 1) ow + (b >> 1).
 * Masks are computed once per call, the planes' zero rows are zeroed once per call, and each channel
 * rewrites only the plane's own positions. */
#define DW_FLAT_TAPS 25
typedef struct {
  int32_t nvec, s2;                   /* vectors of 4 outputs per plane; stride 2 (parity planes) */
  float *copy;                        /* stride 1: where the plane's first float goes */
  float *plane[2][2];                 /* stride 2: the parity planes' first floats */
  const float *tap[DW_FLAT_TAPS];     /* [ky * kw + kx] */
  const v128_t *mask[5];              /* [kx]: nvec lane masks, or NULL (column always inside) */
} DwFlat;

/* lane masks of kernel column kx: output column ox reads plane column ox + d, valid in [0, ncols) */
static const v128_t *dw_flat_masks(const RtConv2d *p, int32_t nvec, int32_t d, int32_t ncols, v128_t *mask) {
  if (d >= 0 && p->ow - 1 + d < ncols) return 0;
  for (int32_t i = 0; i < nvec; i++) {
    int32_t lanes[4];
    for (int l = 0; l < 4; l++) {
      int32_t col = (int32_t)((4 * (int64_t)i + l) % p->ow) + d;
      lanes[l] = col >= 0 && col < ncols ? -1 : 0;
    }
    mask[i] = wasm_i32x4_make(lanes[0], lanes[1], lanes[2], lanes[3]);
  }
  return mask;
}

static int dw_flat_plan(const RtConv2d *p, DwFlat *f) {
  const int32_t h = p->h, w = p->w_, kh = p->kh, kw = p->kw, oh = p->oh, ow = p->ow, pt = p->pt, pl = p->pl;
  if (p->dh != 1 || p->dw != 1 || !((kh == 3 && kw == 3) || (kh == 5 && kw == 5)) || pt < 0 || pl < 0 ||
      pt >= kh || pl >= kw || (int64_t)oh * ow < 16)
    return 0;
  int64_t nvec = ((int64_t)oh * ow + 3) / 4;
  f->nvec = (int32_t)nvec;
  if (p->sh == 1 && p->sw == 1) {
    if (oh != h || ow != w) return 0;
    /* rows a multiple of 8 wide go as fast through the padded rows (dw_row; 56x56 3x3: 0.51 ms against
     * 0.53 for 144 channels, 12x80 5x5: 0.56 against 0.66); the rest gain: 14x14 3x3 0.27 -> 0.13 ms for
     * 576 channels, 7x7 5x5 0.34 -> 0.18 for 1152 (bench/gemm/run.mjs --only dw) */
    if (w % 8 == 0) return 0;
    int64_t lead = (int64_t)pt * w + pl, hw = (int64_t)h * w;
    int64_t tail = (int64_t)(kh - 1 - pt) * w + (kw - 1 - pl) + 4 * nvec - hw + 4;
    int64_t plane = (lead + hw + tail + 3) & ~(int64_t)3;
    if (plane + nvec * kw * 4 > RT_ABUF_FLOATS) return 0;
    rt_memset(rt_abuf, 0, (size_t)plane * 4);
    f->s2 = 0;
    f->copy = rt_abuf + lead;
    v128_t *mask = (v128_t *)(rt_abuf + plane);
    for (int32_t kx = 0; kx < kw; kx++) {
      f->mask[kx] = dw_flat_masks(p, f->nvec, kx - pl, w, mask);
      if (f->mask[kx]) mask += nvec;
      for (int32_t ky = 0; ky < kh; ky++) f->tap[ky * kw + kx] = f->copy + (ptrdiff_t)(ky - pt) * w + (kx - pl);
    }
    return 1;
  }
  if (p->sh != 2 || p->sw != 2) return 0;
  int32_t nrows[2], ncols[2];
  for (int par = 0; par < 2; par++) {
    nrows[par] = (h - par + 1) / 2;
    ncols[par] = (w - par + 1) / 2;
    if (ncols[par] > ow) return 0;                         /* a parity row must fit the pitch */
  }
  /* rows of a parity plane read: oy + (a >> 1) for a in [-pt, kh - 1 - pt] */
  int32_t rlo = rt_floor_div(-pt, 2), rhi = oh - 1 + rt_floor_div(kh - 1 - pt, 2);
  int32_t clo = rt_floor_div(-pl, 2), chi = rt_floor_div(kw - 1 - pl, 2);
  int32_t lead_rows = RT_MAX(0, -rlo), rows = RT_MAX(rhi + 1, RT_MAX(nrows[0], nrows[1])) + lead_rows + 1;
  int64_t lead = (int64_t)lead_rows * ow + RT_MAX(0, -clo) + 4;
  int64_t psize = ((lead + (int64_t)rows * ow + RT_MAX(0, chi) + 8) + 3) & ~(int64_t)3;
  if (4 * psize + nvec * kw * 4 > RT_ABUF_FLOATS) return 0;
  rt_memset(rt_abuf, 0, (size_t)(4 * psize) * 4);
  f->s2 = 1;
  for (int pr = 0; pr < 2; pr++)
    for (int pc = 0; pc < 2; pc++) f->plane[pr][pc] = rt_abuf + (2 * pr + pc) * psize + lead;
  v128_t *mask = (v128_t *)(rt_abuf + 4 * psize);
  for (int32_t kx = 0; kx < kw; kx++) {
    int32_t b = kx - pl;
    f->mask[kx] = dw_flat_masks(p, f->nvec, rt_floor_div(b, 2), ncols[b & 1], mask);
    if (f->mask[kx]) mask += nvec;
    for (int32_t ky = 0; ky < kh; ky++) {
      int32_t a = ky - pt;
      f->tap[ky * kw + kx] = f->plane[a & 1][b & 1] + (ptrdiff_t)rt_floor_div(a, 2) * ow + rt_floor_div(b, 2);
    }
  }
  return 1;
}

/* a channel's input plane into the flat buffers */
static void dw_flat_fill(const RtConv2d *p, const DwFlat *f, const float *xp) {
  const int32_t h = p->h, w = p->w_, ow = p->ow;
  if (!f->s2) {
    rt_memcpy(f->copy, xp, (size_t)h * w * 4);
    return;
  }
  for (int32_t r = 0; r < h; r++) {
    const float *src = xp + (ptrdiff_t)r * w;
    float *d0 = f->plane[r & 1][0] + (ptrdiff_t)(r >> 1) * ow, *d1 = f->plane[r & 1][1] + (ptrdiff_t)(r >> 1) * ow;
    int32_t j = 0;
    for (; j + 8 <= w; j += 8) {
      v128_t u = wasm_v128_load(src + j), v = wasm_v128_load(src + j + 4);
      wasm_v128_store(d0 + j / 2, wasm_i32x4_shuffle(u, v, 0, 2, 4, 6));
      wasm_v128_store(d1 + j / 2, wasm_i32x4_shuffle(u, v, 1, 3, 5, 7));
    }
    for (; j < w; j++) (j & 1 ? d1 : d0)[j >> 1] = src[j];
  }
}

RT_AI void dw_flat_run(const int KH, const int KW, const RtConv2d *p, const DwFlat *f, const float *wp, float *y,
                       const float *rr, v128_t vb) {
  const int32_t nvec = f->nvec, kind = p->act.kind, n = p->oh * p->ow;
  const float aa = p->act.a, ab = p->act.b;
  int32_t i = 0;
#ifndef __wasm__
  /* native: 16 outputs at a time (four of the 4-lane vectors: their taps and masks are contiguous);
   * activations other than relu/clip over them afterwards in one vectorized pass (rt_act_rows) */
  const rt_v16 bias = rt_splat16(wasm_f32x4_extract_lane(vb, 0));
  for (; i + 4 <= nvec && n - 4 * i >= 16; i += 4) {
    rt_v16 acc = bias;
    for (int kx = 0; kx < KW; kx++) {
      rt_v16 a = (rt_v16){0};
      for (int ky = 0; ky < KH; ky++) a += wp[ky * KW + kx] * *(const rt_v16u *)(f->tap[ky * KW + kx] + 4 * i);
      acc += f->mask[kx] ? (rt_v16)((rt_m16)a & *(const rt_m16u *)(f->mask[kx] + i)) : a;
    }
    if (rr) acc += *(const rt_v16u *)(rr + 4 * i);
    *(rt_v16u *)(y + 4 * i) = rt_relu_clip16(acc, kind, aa, ab);
  }
  if (i && rt_act_after16(kind)) rt_act_rows(y, 0, 1, 4 * i, kind, aa, ab);
#endif
  for (; i < nvec; i++) {
    v128_t acc = vb;
    for (int kx = 0; kx < KW; kx++) {
      v128_t a = wasm_f32x4_const_splat(0.0f);
      for (int ky = 0; ky < KH; ky++)
        a = rt_madd_f32x4(wasm_v128_load32_splat(wp + ky * KW + kx), wasm_v128_load(f->tap[ky * KW + kx] + 4 * i), a);
      acc = wasm_f32x4_add(acc, f->mask[kx] ? wasm_v128_and(a, f->mask[kx][i]) : a);
    }
    int32_t left = n - 4 * i;
    if (left >= 4) {
      if (rr) acc = wasm_f32x4_add(acc, wasm_v128_load(rr + 4 * i));
      wasm_v128_store(y + 4 * i, rt_act_f32x4(kind, aa, ab, acc));
    } else {
      if (rr) acc = wasm_f32x4_add(acc, rt_load_part(rr + 4 * i, left));
      rt_store_part(y + 4 * i, rt_act_f32x4(kind, aa, ab, acc), left);
    }
  }
}

__attribute__((noinline)) static void dw_flat_plane(const RtConv2d *p, const void *plan, const float *xp,
                                                    const float *wp, float *yp, const float *rp, float bv) {
  const DwFlat *f = plan;
  dw_flat_fill(p, f, xp);
  v128_t vb = wasm_f32x4_splat(bv);
  if (p->kh == 3) dw_flat_run(3, 3, p, f, wp, yp, rp, vb);
  else dw_flat_run(5, 5, p, f, wp, yp, rp, vb);
}

static int depthwise_flat(const RtConv2d *p) {
  DwFlat f;
  if (!dw_flat_plan(p, &f)) return 0;
  dw_each_plane(p, dw_flat_plane, &f);
  return 1;
}

/* One channel of depthwise (not inlined, see dw_padded_plane): per output row, tap rows outside the input
 * are skipped, interior columns [lo, hi) (whole window inside) go through dw_interior, border columns one by
 * one. The accumulators start at the bias, then the taps, then the residual are added. */
typedef struct { int32_t lo, hi; } DwDirect;   /* interior output columns [lo, hi) */

__attribute__((noinline)) static void dw_direct_plane(const RtConv2d *p, const void *plan, const float *xp,
                                                      const float *wp, float *yp, const float *rp, float bv) {
  const int32_t lo = ((const DwDirect *)plan)->lo, hi = ((const DwDirect *)plan)->hi;
  const int32_t h = p->h, wd = p->w_, oh = p->oh, ow = p->ow, kh = p->kh, kw = p->kw, sw = p->sw;
  const int32_t sh = p->sh, pt = p->pt, pl = p->pl, dh = p->dh, dw = p->dw;
  const int32_t kind = p->act.kind;
  const float aa = p->act.a, ab = p->act.b;
  v128_t vb = wasm_f32x4_splat(bv);
  for (int32_t oy = 0; oy < oh; oy++) {
    float *yr = yp + (ptrdiff_t)oy * ow;
    const float *rr = rp ? rp + (ptrdiff_t)oy * ow : 0;
    int32_t iy0 = oy * sh - pt;
    int32_t ky0 = RT_MAX(0, rt_ceil_div(-iy0, dh)), ky1 = RT_MIN(kh, rt_floor_div(h - 1 - iy0, dh) + 1);
    int32_t nrows = RT_MAX(ky1 - ky0, 0);
    const float *xb = xp + (ptrdiff_t)(iy0 + ky0 * dh) * wd - pl;
    const float *wr = wp + ky0 * kw;
    ptrdiff_t rstep = (ptrdiff_t)dh * wd;
    for (int32_t ox = 0; ox < ow; ox++) {
      if (ox == lo) {
        if (sw == 1)
          ox = dw_interior(1, ox, hi, xb, rstep, nrows, wr, kw, dw, yr, rr, vb, kind, aa, ab);
        else if (sw == 2)
          ox = dw_interior(2, ox, hi, xb, rstep, nrows, wr, kw, dw, yr, rr, vb, kind, aa, ab);
        else
          ox = dw_interior(sw, ox, hi, xb, rstep, nrows, wr, kw, dw, yr, rr, vb, kind, aa, ab);
        if (ox >= ow) break;
      }
      float v = conv_pixel(p, xp, wp, 1, 1, oy, ox, 0) + bv;
      if (rr) v += rr[ox];
      yr[ox] = rt_act1(kind, aa, ab, v);
    }
  }
}

/* Depthwise (group == c == k) straight from the input, plane by plane. */
static void depthwise(const RtConv2d *p) {
  DwDirect d;
  rt_valid_range(p->ow, p->w_, p->sw, p->pl, 0, (p->kw - 1) * p->dw, &d.lo, &d.hi);
  dw_each_plane(p, dw_direct_plane, &d);
}

/* packb of a pointwise conv whose input channels are scaled (RtConv2d.xscale): B[q][j] = x[q][j] * s[q],
 * the product rounded to float as the Mul it replaces, in the strip copy that packing does anyway. */
typedef struct { const float *x; int32_t hw; const float *s; } ScaledB;

static void packb_scaled(const void *ctx, int32_t k0, int32_t kc, int32_t j0, int32_t nv, float *dst) {
  const ScaledB *sb = ctx;
  const float *b = sb->x + (ptrdiff_t)k0 * sb->hw + j0, *s = sb->s + k0;
  for (int32_t q = 0; q < kc; q++, b += sb->hw, dst += 8) {
    v128_t sv = wasm_v128_load32_splat(s + q);
    if (nv == 8) {
      wasm_v128_store(dst, wasm_f32x4_mul(wasm_v128_load(b), sv));
      wasm_v128_store(dst + 4, wasm_f32x4_mul(wasm_v128_load(b + 4), sv));
    } else {
      for (int32_t jj = 0; jj < 8; jj++) dst[jj] = jj < nv ? b[jj] * s[q] : 0.0f;
    }
  }
}

/* A pointwise conv on a 1x1 image (the squeeze-excite FCs): a matrix-vector product over the packed
 * weights' MR-row panels, rows 0-3 in a vector and the rows past them (one or two) in scalars. The GEMM
 * core would pad the single column to an 8-wide strip element by element and compute 8 columns for 1. */
#define GEMV_XR (RT_CONV_PACK_MR - 4)   /* the panel's rows past the first 4 */
_Static_assert(GEMV_XR >= 1 && GEMV_XR <= 4, "conv_gemv: 5 to 8 rows per panel");
__attribute__((noinline)) static void conv_gemv(const RtConv2d *p, const float *xv, const float *xs, const float *ap,
                                               const float *bias, const float *res, float *y) {
  const int32_t k = p->k, c = p->c, MR = RT_CONV_PACK_MR;
  const int32_t kind = p->act.kind;
  for (int32_t r0 = 0; r0 < k; r0 += MR, ap += (ptrdiff_t)MR * c) {
    /* 4 independent sums (q mod 4): one chain of f32x4 adds would wait on the add latency every step */
    v128_t acc[4], ax[GEMV_XR];
    for (int j = 0; j < 4; j++) acc[j] = wasm_f32x4_const_splat(0.0f);
    for (int j = 0; j < GEMV_XR; j++) ax[j] = wasm_f32x4_const_splat(0.0f);
    int32_t q = 0;
    for (; q + 4 <= c; q += 4) {
      v128_t xq = wasm_v128_load(xv + q);
      if (xs) xq = wasm_f32x4_mul(xq, wasm_v128_load(xs + q));
      const float *aq = ap + (ptrdiff_t)q * MR;
      acc[0] = wasm_f32x4_add(acc[0], wasm_f32x4_mul(wasm_v128_load(aq), wasm_i32x4_shuffle(xq, xq, 0, 0, 0, 0)));
      acc[1] = wasm_f32x4_add(acc[1], wasm_f32x4_mul(wasm_v128_load(aq + MR), wasm_i32x4_shuffle(xq, xq, 1, 1, 1, 1)));
      acc[2] = wasm_f32x4_add(acc[2], wasm_f32x4_mul(wasm_v128_load(aq + 2 * MR), wasm_i32x4_shuffle(xq, xq, 2, 2, 2, 2)));
      acc[3] = wasm_f32x4_add(acc[3], wasm_f32x4_mul(wasm_v128_load(aq + 3 * MR), wasm_i32x4_shuffle(xq, xq, 3, 3, 3, 3)));
      /* row 4 + j of the 4 steps: lanes of one vector */
      for (int j = 0; j < GEMV_XR; j++) {
        v128_t rj = wasm_f32x4_make(aq[4 + j], aq[MR + 4 + j], aq[2 * MR + 4 + j], aq[3 * MR + 4 + j]);
        ax[j] = wasm_f32x4_add(ax[j], wasm_f32x4_mul(rj, xq));
      }
    }
    v128_t sum = wasm_f32x4_add(wasm_f32x4_add(acc[0], acc[1]), wasm_f32x4_add(acc[2], acc[3]));
    float v[8], lx[4];
    wasm_v128_store(v, sum);
    for (int j = 0; j < GEMV_XR; j++) {
      wasm_v128_store(lx, ax[j]);
      v[4 + j] = (lx[0] + lx[1]) + (lx[2] + lx[3]);
    }
    for (; q < c; q++) {
      float xq = xs ? xv[q] * xs[q] : xv[q];
      for (int i = 0; i < MR; i++) v[i] += ap[(ptrdiff_t)q * MR + i] * xq;
    }
    for (int32_t i = 0; i < MR && r0 + i < k; i++) {
      float t = v[i];
      if (bias) t += bias[r0 + i];
      if (res) t += res[r0 + i];
      y[r0 + i] = rt_act1(kind, p->act.a, p->act.b, t);
    }
  }
}

/* Everything but depthwise: per image and group, the GEMM Y[kpg][oh*ow] = W[kpg][crs] * B[crs][oh*ow]
 * with B the input itself (1x1, stride 1, no padding) or its implicit im2col; W pre-packed (wpacked)
 * or packed on the fly. Needs no scratch. */
__attribute__((noinline)) static void conv_gemm(const RtConv2d *p) {
  const float *x = RT_PTR(const float, p->x), *w = RT_PTR(const float, p->w);
  const float *bias = p->bias ? RT_PTR(const float, p->bias) : 0;
  const float *res = p->res ? RT_PTR(const float, p->res) : 0;
  float *y = RT_PTR(float, p->y);
  int32_t cpg = p->c / p->group, kpg = p->k / p->group;
  int32_t crs = cpg * p->kh * p->kw, ohw = p->oh * p->ow;
  int32_t panels = (kpg + RT_CONV_PACK_MR - 1) / RT_CONV_PACK_MR;
  ptrdiff_t hw = (ptrdiff_t)p->h * p->w_;
  int pointwise = p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && p->pt == 0 && p->pl == 0 &&
                  p->oh == p->h && p->ow == p->w_;
  if (pointwise && ohw == 1 && p->group == 1 && p->wpacked) {
    for (int32_t ni = 0; ni < p->n; ni++)
      conv_gemv(p, x + (ptrdiff_t)ni * p->c, p->xscale ? RT_PTR(const float, p->xscale) + (ptrdiff_t)ni * p->xscale_ns : 0,
                w, bias, res ? res + (ptrdiff_t)ni * p->k : 0, y + (ptrdiff_t)ni * p->k);
    return;
  }
  for (int32_t ni = 0; ni < p->n; ni++)
    for (int32_t g = 0; g < p->group; g++) {
      const float *xg = x + ((ptrdiff_t)ni * p->c + (ptrdiff_t)g * cpg) * hw;
      ptrdiff_t yo = ((ptrdiff_t)ni * p->k + (ptrdiff_t)g * kpg) * ohw;
      RtEpilogue ep = {1.0f, 0.0f, bias ? bias + (ptrdiff_t)g * kpg : 0, 1.0f, 0, 0.0f,
                       res ? res + yo : 0, ohw, 1.0f, p->act.kind, p->act.a, p->act.b};
      const float *ap = p->wpacked ? w + (ptrdiff_t)g * panels * RT_CONV_PACK_MR * crs : 0;
      const float *a = w + (ptrdiff_t)g * kpg * crs;
      if (pointwise && p->xscale) {
        ScaledB sb = {xg, (int32_t)hw, RT_PTR(const float, p->xscale) + (ptrdiff_t)ni * p->xscale_ns};
        rt_gemm_core(kpg, ohw, crs, ap, a, crs, 1, packb_scaled, &sb, y + yo, ohw, &ep);
      } else if (pointwise) {
        RtStridedB sb = {xg, (int32_t)hw, 1};
        rt_gemm_core(kpg, ohw, crs, ap, a, crs, 1, rt_packb_strided, &sb, y + yo, ohw, &ep);
      } else {
        Im2colB ib = {p, xg};
        rt_gemm_core(kpg, ohw, crs, ap, a, crs, 1, packb_im2col, &ib, y + yo, ohw, &ep);
      }
    }
}

/* The depthwise and GEMM paths stay separate functions (noinline here, and the compiler keeps binaryen from
 * inlining large single-caller functions): V8 compiles each function on its first call with its baseline
 * compiler and then optimizes the hot ones in the background, so a model's first run waits for less. */
void rt_conv2d_f32__simd128(const RtConv2d *p) {
  if (p->xscale && !(p->group == 1 && p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && p->pt == 0 &&
                     p->pl == 0 && p->oh == p->h && p->ow == p->w_)) {
    rt_conv2d_f32__scalar(p);     /* the compiler folds a channel scale only into pointwise convs */
    return;
  }
  if (p->group == p->c && p->group == p->k && p->group > 1 && !p->wpacked) {
    if (!depthwise_flat(p) && !depthwise_padded(p)) depthwise(p); /* plane too large for rt_abuf: the direct version */
    return;
  }
  conv_gemm(p);
}

RT_EXPORT("rt_conv2d_f32") void rt_conv2d_f32(const RtConv2d *p) { rt_conv2d_f32__simd128(p); }
#else
RT_EXPORT("rt_conv2d_f32") void rt_conv2d_f32(const RtConv2d *p) { rt_conv2d_f32__scalar(p); }
#endif

/* the packed weights of one conv, once, when a module computes them instead of shipping them */
RT_EXPORT("rt_conv_pack_f32") void rt_conv_pack_f32(const RtConvPack *p) {
  rt_conv_pack_weights(RT_PTR(const float, p->w), RT_PTR(float, p->u), p->k, p->crs, p->group, RT_CONV_PACK_MR);
}
