/* conv2d.c — 2-D convolution (NCHW): scalar reference, and f32x4 paths (1x1 GEMM, im2col + GEMM, depthwise). */
#include "rt_internal.h"

/* One output pixel computed directly (reference loop; also the border path of depthwise). */
static float conv_pixel(const RtConv2d *p, const float *xg, const float *wk, int32_t cpg, int32_t oy,
                        int32_t ox) {
  float acc = 0.0f;
  for (int32_t ci = 0; ci < cpg; ci++)
    for (int32_t ky = 0; ky < p->kh; ky++) {
      int32_t iy = oy * p->sh - p->pt + ky * p->dh;
      if (iy < 0 || iy >= p->h) continue;
      const float *xr = xg + ((ptrdiff_t)ci * p->h + iy) * p->w_;
      const float *wr = wk + ((ptrdiff_t)ci * p->kh + ky) * p->kw;
      for (int32_t kx = 0; kx < p->kw; kx++) {
        int32_t ix = ox * p->sw - p->pl + kx * p->dw;
        if (ix < 0 || ix >= p->w_) continue;
        acc += xr[ix] * wr[kx];
      }
    }
  return acc;
}

void rt_conv2d_f32__scalar(const RtConv2d *p) {
  const float *x = RT_PTR(const float, p->x), *w = RT_PTR(const float, p->w);
  const float *bias = p->bias ? RT_PTR(const float, p->bias) : 0;
  const float *res = p->res ? RT_PTR(const float, p->res) : 0;
  float *y = RT_PTR(float, p->y);
  int32_t cpg = p->c / p->group, kpg = p->k / p->group;
  ptrdiff_t ohw = (ptrdiff_t)p->oh * p->ow, hw = (ptrdiff_t)p->h * p->w_;
  for (int32_t ni = 0; ni < p->n; ni++)
    for (int32_t ko = 0; ko < p->k; ko++) {
      int32_t g = ko / kpg;
      const float *xg = x + ((ptrdiff_t)ni * p->c + (ptrdiff_t)g * cpg) * hw;
      const float *wk = w + (ptrdiff_t)ko * cpg * p->kh * p->kw;
      ptrdiff_t base = ((ptrdiff_t)ni * p->k + ko) * ohw;
      for (int32_t oy = 0; oy < p->oh; oy++)
        for (int32_t ox = 0; ox < p->ow; ox++) {
          ptrdiff_t o = base + (ptrdiff_t)oy * p->ow + ox;
          float v = conv_pixel(p, xg, wk, cpg, oy, ox);
          if (bias) v += bias[ko];
          if (res) v += res[o];
          y[o] = rt_act1(p->act.kind, p->act.a, p->act.b, v);
        }
    }
}

#ifdef __wasm_simd128__

/* im2col of one group: col[(ci*kh + ky)*kw + kx][oy*ow + ox] = x[ci][iy][ix] (0 outside). */
static void im2col(const RtConv2d *p, const float *xg, int32_t cpg, float *col) {
  int32_t oh = p->oh, ow = p->ow, h = p->h, w = p->w_;
  ptrdiff_t ohw = (ptrdiff_t)oh * ow;
  for (int32_t ci = 0; ci < cpg; ci++)
    for (int32_t ky = 0; ky < p->kh; ky++)
      for (int32_t kx = 0; kx < p->kw; kx++) {
        float *row = col + (((ptrdiff_t)ci * p->kh + ky) * p->kw + kx) * ohw;
        int32_t lo, hi;
        rt_valid_range(ow, w, p->sw, p->pl, kx * p->dw, 0, &lo, &hi);
        int32_t off = kx * p->dw - p->pl;
        for (int32_t oy = 0; oy < oh; oy++) {
          float *dst = row + (ptrdiff_t)oy * ow;
          int32_t iy = oy * p->sh - p->pt + ky * p->dh;
          if (iy < 0 || iy >= h) {
            rt_memset(dst, 0, (size_t)ow * 4);
            continue;
          }
          const float *src = xg + ((ptrdiff_t)ci * h + iy) * w;
          if (lo > 0) rt_memset(dst, 0, (size_t)lo * 4);
          if (p->sw == 1) {
            if (hi > lo) rt_memcpy(dst + lo, src + lo + off, (size_t)(hi - lo) * 4);
          } else {
            for (int32_t ox = lo; ox < hi; ox++) dst[ox] = src[ox * p->sw + off];
          }
          if (hi < ow) rt_memset(dst + hi, 0, (size_t)(ow - hi) * 4);
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
        acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_v128_load32_splat(wk + kx), rt_load_strided4(xr + kx * dw, SW)));
    if (rr) acc = wasm_f32x4_add(acc, wasm_v128_load(rr + ox));
    wasm_v128_store(yr + ox, rt_act_f32x4(kind, aa, ab, acc));
  }
  return ox;
}

/* Depthwise (group == c == k): per plane and output row, tap rows outside the input are skipped,
 * interior columns (whole window inside) go through dw_interior, border columns one by one.
 * The accumulators start at the bias, then the taps, then the residual are added. */
static void depthwise(const RtConv2d *p) {
  const float *x = RT_PTR(const float, p->x), *w = RT_PTR(const float, p->w);
  const float *bias = p->bias ? RT_PTR(const float, p->bias) : 0;
  const float *res = p->res ? RT_PTR(const float, p->res) : 0;
  float *y = RT_PTR(float, p->y);
  const int32_t h = p->h, wd = p->w_, oh = p->oh, ow = p->ow, kh = p->kh, kw = p->kw, sw = p->sw;
  const int32_t sh = p->sh, pt = p->pt, pl = p->pl, dh = p->dh, dw = p->dw, nc = p->c, nn = p->n;
  const int32_t kind = p->act.kind;
  const float aa = p->act.a, ab = p->act.b;
  ptrdiff_t hw = (ptrdiff_t)h * wd, ohw = (ptrdiff_t)oh * ow;
  int32_t lo, hi;
  rt_valid_range(ow, wd, sw, pl, 0, (kw - 1) * dw, &lo, &hi);
  for (int32_t ni = 0; ni < nn; ni++)
    for (int32_t ch = 0; ch < nc; ch++) {
      const float *xp = x + ((ptrdiff_t)ni * nc + ch) * hw;
      const float *wp = w + (ptrdiff_t)ch * kh * kw;
      ptrdiff_t yo = ((ptrdiff_t)ni * nc + ch) * ohw;
      float *yp = y + yo;
      const float *rp = res ? res + yo : 0;
      float bv = bias ? bias[ch] : 0.0f;
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
          float v = conv_pixel(p, xp, wp, 1, oy, ox) + bv;
          if (rr) v += rr[ox];
          yr[ox] = rt_act1(kind, aa, ab, v);
        }
      }
    }
}

void rt_conv2d_f32__simd128(const RtConv2d *p) {
  if (p->group == p->c && p->group == p->k && p->group > 1) {
    depthwise(p);
    return;
  }
  const float *x = RT_PTR(const float, p->x), *w = RT_PTR(const float, p->w);
  const float *bias = p->bias ? RT_PTR(const float, p->bias) : 0;
  const float *res = p->res ? RT_PTR(const float, p->res) : 0;
  float *y = RT_PTR(float, p->y);
  int32_t cpg = p->c / p->group, kpg = p->k / p->group;
  int32_t kdim = cpg * p->kh * p->kw, ohw = p->oh * p->ow;
  ptrdiff_t hw = (ptrdiff_t)p->h * p->w_;
  int pointwise = p->kh == 1 && p->kw == 1 && p->sh == 1 && p->sw == 1 && p->pt == 0 && p->pl == 0 &&
                  p->oh == p->h && p->ow == p->w_;
  float *col = p->scratch ? RT_PTR(float, p->scratch) : 0;
  if (!pointwise && (!col || p->scratch_bytes < (uint32_t)kdim * (uint32_t)ohw * 4u)) {
    rt_conv2d_f32__scalar(p); /* no room for im2col (should not happen with the compiler's formula) */
    return;
  }
  for (int32_t ni = 0; ni < p->n; ni++)
    for (int32_t g = 0; g < p->group; g++) {
      const float *xg = x + ((ptrdiff_t)ni * p->c + (ptrdiff_t)g * cpg) * hw;
      ptrdiff_t yo = ((ptrdiff_t)ni * p->k + (ptrdiff_t)g * kpg) * ohw;
      const float *bm = xg;
      if (!pointwise) {
        im2col(p, xg, cpg, col);
        bm = col;
      }
      RtEpilogue ep = {1.0f, 0.0f, bias ? bias + (ptrdiff_t)g * kpg : 0, 1.0f, 0, 0.0f,
                       res ? res + yo : 0, ohw, 1.0f, p->act.kind, p->act.a, p->act.b};
      rt_sgemm_f32x4(kpg, ohw, kdim, w + (ptrdiff_t)g * kpg * kdim, kdim, 1, bm, ohw, 1, y + yo, ohw, &ep);
    }
}

RT_EXPORT("rt_conv2d_f32") void rt_conv2d_f32(const RtConv2d *p) { rt_conv2d_f32__simd128(p); }
#else
RT_EXPORT("rt_conv2d_f32") void rt_conv2d_f32(const RtConv2d *p) { rt_conv2d_f32__scalar(p); }
#endif
