/* conv_transpose.c — ConvTranspose (RtConvTranspose in rt_abi.h).
 * scalar: scatter of every input value times every kernel tap, the definition read backwards.
 * simd128: y starts as the bias; then per group, block of up to 4 output channels, kernel tap (ky, kx)
 * and input row, the taps' contributions for 8 input columns at a time are summed over the group's
 * input channels in f32x4 registers (x rows contiguous, weights splat) and added to the output row at
 * stride sw. Input rows/columns whose outputs fall outside y are skipped up front, so the inner loops
 * need no bounds checks. */
#include "rt_internal.h"

static void convt_fill_bias(const RtConvTranspose *p, float *yb) {
  const float *bias = p->bias ? RT_PTR(const float, p->bias) : NULL;
  size_t plane = (size_t)p->oh * (size_t)p->ow;
  for (int32_t co = 0; co < p->k; co++) {
    float bv = bias ? bias[co] : 0.0f, *d = yb + co * plane;
    for (size_t i = 0; i < plane; i++) d[i] = bv;
  }
}

void rt_conv_transpose_f32__scalar(const RtConvTranspose *p) {
  const float *x = RT_PTR(const float, p->x), *w = RT_PTR(const float, p->w);
  float *y = RT_PTR(float, p->y);
  const int32_t cg = p->c / p->group, kg = p->k / p->group;
  const size_t xplane = (size_t)p->h * (size_t)p->w_, yplane = (size_t)p->oh * (size_t)p->ow;
  for (int32_t b = 0; b < p->n; b++) {
    const float *xb = x + (size_t)b * p->c * xplane;
    float *yb = y + (size_t)b * p->k * yplane;
    convt_fill_bias(p, yb);
    for (int32_t ci = 0; ci < p->c; ci++) {
      int32_t gi = ci / cg;
      for (int32_t iy = 0; iy < p->h; iy++)
        for (int32_t ix = 0; ix < p->w_; ix++) {
          float xv = xb[ci * xplane + (size_t)iy * p->w_ + ix];
          for (int32_t col = 0; col < kg; col++) {
            const float *wk = w + ((size_t)ci * kg + col) * p->kh * p->kw;
            float *yc = yb + (size_t)(gi * kg + col) * yplane;
            for (int32_t ky = 0; ky < p->kh; ky++) {
              int32_t oy = iy * p->sh - p->pt + ky * p->dh;
              if (oy < 0 || oy >= p->oh) continue;
              for (int32_t kx = 0; kx < p->kw; kx++) {
                int32_t ox = ix * p->sw - p->pl + kx * p->dw;
                if (ox < 0 || ox >= p->ow) continue;
                yc[(size_t)oy * p->ow + ox] += xv * wk[ky * p->kw + kx];
              }
            }
          }
        }
    }
    if (p->act.kind != RT_ACT_NONE)
      for (size_t i = 0; i < (size_t)p->k * yplane; i++) yb[i] = rt_act1(p->act.kind, p->act.a, p->act.b, yb[i]);
  }
}

#if RT_SIMD128

/* Adds CB output channels' contributions of input row xr (columns [ix0, ix1)) for one kernel tap into the
 * output rows yr[j] (already offset to the tap's output column of input column 0: column ix lands at
 * yr[j][ix * sw]). xr steps xstride floats per input channel, wp steps wstride per input channel. */
RT_AI void convt_row(const int CB, int32_t cg, const float *xr, size_t xstride, const float *wp, size_t wstride,
                     size_t wco, float *const *yr, int32_t sw, int32_t ix0, int32_t ix1) {
  int32_t ix = ix0;
  for (; ix + 8 <= ix1; ix += 8) {
    v128_t acc[4][2];
    for (int j = 0; j < CB; j++) acc[j][0] = acc[j][1] = wasm_f32x4_const_splat(0.0f);
    const float *xc = xr + ix, *wc = wp;
    for (int32_t ci = 0; ci < cg; ci++, xc += xstride, wc += wstride) {
      v128_t x0 = wasm_v128_load(xc), x1 = wasm_v128_load(xc + 4);
      for (int j = 0; j < CB; j++) {
        v128_t wv = wasm_v128_load32_splat(wc + j * wco);
        acc[j][0] = wasm_f32x4_add(acc[j][0], wasm_f32x4_mul(wv, x0));
        acc[j][1] = wasm_f32x4_add(acc[j][1], wasm_f32x4_mul(wv, x1));
      }
    }
    for (int j = 0; j < CB; j++) {
      float *d = yr[j] + (ptrdiff_t)ix * sw;
      if (sw == 1) {
        wasm_v128_store(d, wasm_f32x4_add(wasm_v128_load(d), acc[j][0]));
        wasm_v128_store(d + 4, wasm_f32x4_add(wasm_v128_load(d + 4), acc[j][1]));
      } else {
        d[0] += wasm_f32x4_extract_lane(acc[j][0], 0);
        d[sw] += wasm_f32x4_extract_lane(acc[j][0], 1);
        d[2 * sw] += wasm_f32x4_extract_lane(acc[j][0], 2);
        d[3 * sw] += wasm_f32x4_extract_lane(acc[j][0], 3);
        d[4 * sw] += wasm_f32x4_extract_lane(acc[j][1], 0);
        d[5 * sw] += wasm_f32x4_extract_lane(acc[j][1], 1);
        d[6 * sw] += wasm_f32x4_extract_lane(acc[j][1], 2);
        d[7 * sw] += wasm_f32x4_extract_lane(acc[j][1], 3);
      }
    }
  }
  for (; ix < ix1; ix++) {
    float acc[4] = {0, 0, 0, 0};
    const float *xc = xr + ix, *wc = wp;
    for (int32_t ci = 0; ci < cg; ci++, xc += xstride, wc += wstride)
      for (int j = 0; j < CB; j++) acc[j] += *xc * wc[j * wco];
    for (int j = 0; j < CB; j++) yr[j][(ptrdiff_t)ix * sw] += acc[j];
  }
}

/* One function per channel count (not inlined), called once per input row: V8 optimizes them on their
 * own, and a long first call switches to the optimized code as soon as it is ready. */
#define CONVT_ROW_FN(CB) \
  __attribute__((noinline)) static void convt_row##CB(int32_t cg, const float *xr, size_t xstride, const float *wp, \
                                                      size_t wstride, size_t wco, float *const *yr, int32_t sw, \
                                                      int32_t ix0, int32_t ix1) { \
    convt_row(CB, cg, xr, xstride, wp, wstride, wco, yr, sw, ix0, ix1); \
  }
CONVT_ROW_FN(1)
CONVT_ROW_FN(2)
CONVT_ROW_FN(3)
CONVT_ROW_FN(4)
#undef CONVT_ROW_FN

/* The activation over n outputs, called row by row: not inlined, so that the first call of a long output
 * moves to V8's optimized code once it is ready instead of running the whole pass unoptimized. */
__attribute__((noinline)) static void convt_act(const RtAct *act, float *y, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, rt_act_f32x4(act->kind, act->a, act->b, wasm_v128_load(y + i)));
  for (; i < n; i++) y[i] = rt_act1(act->kind, act->a, act->b, y[i]);
}

__attribute__((noinline)) static void convt_fill(float *y, size_t n, float v) {
  v128_t vv = wasm_f32x4_splat(v);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, vv);
  for (; i < n; i++) y[i] = v;
}

void rt_conv_transpose_f32__simd128(const RtConvTranspose *p) {
  const float *x = RT_PTR(const float, p->x), *w = RT_PTR(const float, p->w);
  float *y = RT_PTR(float, p->y);
  const int32_t cg = p->c / p->group, kg = p->k / p->group, kh = p->kh, kw = p->kw;
  const int32_t h = p->h, wi = p->w_, oh = p->oh, ow = p->ow, sh = p->sh, sw = p->sw;
  const size_t xplane = (size_t)h * (size_t)wi, yplane = (size_t)oh * (size_t)ow, ktaps = (size_t)kh * (size_t)kw;
  for (int32_t b = 0; b < p->n; b++) {
    const float *xb = x + (size_t)b * p->c * xplane;
    float *yb = y + (size_t)b * p->k * yplane;
    const float *bias = p->bias ? RT_PTR(const float, p->bias) : NULL;
    for (int32_t co = 0; co < p->k; co++)       /* the bias, in rows (see convt_act) */
      for (size_t i = 0; i < yplane; i += (size_t)ow) convt_fill(yb + co * yplane + i, RT_MIN((size_t)ow, yplane - i), bias ? bias[co] : 0.0f);
    for (int32_t gi = 0; gi < p->group; gi++) {
      const float *xg = xb + (size_t)gi * cg * xplane;
      const float *wg = w + (size_t)gi * cg * kg * ktaps;
      for (int32_t co0 = 0; co0 < kg; co0 += 4) {
        int32_t cb = RT_MIN(4, kg - co0);
        for (int32_t ky = 0; ky < kh; ky++) {
          int32_t offy = ky * p->dh - p->pt;           /* oy = iy*sh + offy */
          int32_t iy0 = RT_MAX(0, rt_ceil_div(-offy, sh)), iy1 = RT_MIN(h, rt_floor_div(oh - 1 - offy, sh) + 1);
          for (int32_t kx = 0; kx < kw; kx++) {
            int32_t offx = kx * p->dw - p->pl;         /* ox = ix*sw + offx */
            int32_t ix0 = RT_MAX(0, rt_ceil_div(-offx, sw)), ix1 = RT_MIN(wi, rt_floor_div(ow - 1 - offx, sw) + 1);
            if (ix0 >= ix1) continue;
            const float *wp = wg + (size_t)co0 * ktaps + (size_t)ky * kw + kx;
            for (int32_t iy = iy0; iy < iy1; iy++) {
              float *yr[4];
              for (int j = 0; j < cb; j++) yr[j] = yb + (size_t)(gi * kg + co0 + j) * yplane + (size_t)(iy * sh + offy) * ow + offx;
              const float *xr = xg + (size_t)iy * wi;
              switch (cb) {
              case 4: convt_row4(cg, xr, xplane, wp, (size_t)kg * ktaps, ktaps, yr, sw, ix0, ix1); break;
              case 3: convt_row3(cg, xr, xplane, wp, (size_t)kg * ktaps, ktaps, yr, sw, ix0, ix1); break;
              case 2: convt_row2(cg, xr, xplane, wp, (size_t)kg * ktaps, ktaps, yr, sw, ix0, ix1); break;
              default: convt_row1(cg, xr, xplane, wp, (size_t)kg * ktaps, ktaps, yr, sw, ix0, ix1); break;
              }
            }
          }
        }
      }
    }
    if (p->act.kind != RT_ACT_NONE)            /* in rows of the output (see convt_act) */
      for (size_t i = 0, nt = (size_t)p->k * yplane; i < nt; i += (size_t)ow) convt_act(&p->act, yb + i, RT_MIN((size_t)ow, nt - i));
  }
}

RT_EXPORT("rt_conv_transpose_f32") void rt_conv_transpose_f32(const RtConvTranspose *p) { rt_conv_transpose_f32__simd128(p); }
#else
RT_EXPORT("rt_conv_transpose_f32") void rt_conv_transpose_f32(const RtConvTranspose *p) { rt_conv_transpose_f32__scalar(p); }
#endif
