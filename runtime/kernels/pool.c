/* pool.c — max/average 2-D pooling over NCHW planes and global average pooling; MaxPool over 8-bit integers. */
#include "rt_internal.h"

/* One output of pool2d computed directly: window cells outside the input are skipped;
 * average divides by kh*kw (count_pad) or by the number of cells inside (empty window -> 0). */
static float pool_pixel(const RtPool2d *p, const float *xp, int32_t oy, int32_t ox) {
  float m = -RT_INF, s = 0.0f;
  int32_t cnt = 0;
  for (int32_t ky = 0; ky < p->kh; ky++) {
    int32_t iy = oy * p->sh - p->pt + ky * p->dh;
    if (iy < 0 || iy >= p->h) continue;
    for (int32_t kx = 0; kx < p->kw; kx++) {
      int32_t ix = ox * p->sw - p->pl + kx * p->dw;
      if (ix < 0 || ix >= p->w) continue;
      float v = xp[(ptrdiff_t)iy * p->w + ix];
      m = m < v ? v : m;
      s += v;
      cnt++;
    }
  }
  if (p->kind == 0) return cnt ? m : 0.0f;
  if (!cnt) return 0.0f;
  return s / (float)(p->count_pad ? p->kh * p->kw : cnt);
}

void rt_pool2d_f32__scalar(const RtPool2d *p) {
  const float *x = RT_PTR(const float, p->x);
  float *y = RT_PTR(float, p->y);
  for (int32_t pl = 0; pl < p->planes; pl++) {
    const float *xp = x + (ptrdiff_t)pl * p->h * p->w;
    float *yp = y + (ptrdiff_t)pl * p->oh * p->ow;
    for (int32_t oy = 0; oy < p->oh; oy++)
      for (int32_t ox = 0; ox < p->ow; ox++) yp[(ptrdiff_t)oy * p->ow + ox] = pool_pixel(p, xp, oy, ox);
  }
}

void rt_global_pool_f32__scalar(const RtGlobalPool *p) {
  const float *x = RT_PTR(const float, p->x);
  float *y = RT_PTR(float, p->y);
  for (int32_t pl = 0; pl < p->planes; pl++) {
    const float *xp = x + (ptrdiff_t)pl * p->hw;
    float s = 0.0f;
    for (int32_t i = 0; i < p->hw; i++) s += xp[i];
    y[pl] = p->hw ? s / (float)p->hw : 0.0f;
  }
}

#if RT_SIMD128

/* Interior columns [ox, ox1) of one output row, 4 at a time: xb points at input column -pl of the
 * first valid window row, rstep floats between window rows. SW and MAX are compile-time constants. */
RT_AI int32_t pool_interior(const int SW, const int MAX, int32_t ox, int32_t ox1, const float *xb,
                            ptrdiff_t rstep, int32_t nrows, int32_t kw, int32_t dw, v128_t inv, float *yr) {
  if (SW == 2 && kw == 3 && dw == 1) {
    /* 3-wide windows at stride 2 (ResNet's and SqueezeNet's max pools): the window rows are reduced
     * first, column-wise over x[8*j .. 8*j+8], then the three taps come from two shuffles of the result:
     * 3 loads and 2 ops per row instead of 9 strided loads. Reads stop at x[8*j + 8], the last tap. */
    for (; ox + 4 <= ox1; ox += 4) {
      const float *xr = xb + ox * 2;
      v128_t a = wasm_v128_load(xr), b = wasm_v128_load(xr + 4), c = wasm_v128_load(xr + 5);
      for (int32_t r = 1; r < nrows; r++) {
        xr += rstep;
        v128_t a1 = wasm_v128_load(xr), b1 = wasm_v128_load(xr + 4), c1 = wasm_v128_load(xr + 5);
        a = MAX ? wasm_f32x4_pmax(a, a1) : wasm_f32x4_add(a, a1);
        b = MAX ? wasm_f32x4_pmax(b, b1) : wasm_f32x4_add(b, b1);
        c = MAX ? wasm_f32x4_pmax(c, c1) : wasm_f32x4_add(c, c1);
      }
      v128_t e0 = wasm_i32x4_shuffle(a, b, 0, 2, 4, 6), o = wasm_i32x4_shuffle(a, b, 1, 3, 5, 7);
      v128_t e1 = wasm_i32x4_shuffle(e0, c, 1, 2, 3, 7);     /* x[2j + 2]: c = x[5..8] */
      v128_t acc = MAX ? wasm_f32x4_pmax(wasm_f32x4_pmax(e0, o), e1) : wasm_f32x4_add(wasm_f32x4_add(e0, o), e1);
      wasm_v128_store(yr + ox, MAX ? acc : wasm_f32x4_mul(acc, inv));
    }
    return ox;
  }
  for (; ox + 4 <= ox1; ox += 4) {
    v128_t acc = MAX ? wasm_f32x4_splat(-RT_INF) : wasm_f32x4_const_splat(0.0f);
    const float *xr = xb + ox * SW;
    for (int32_t r = 0; r < nrows; r++, xr += rstep)
      for (int32_t kx = 0; kx < kw; kx++) {
        v128_t v = rt_load_strided4(xr + kx * dw, SW);
        acc = MAX ? wasm_f32x4_pmax(acc, v) : wasm_f32x4_add(acc, v);
      }
    wasm_v128_store(yr + ox, MAX ? acc : wasm_f32x4_mul(acc, inv));
  }
  return ox;
}

/* One interior output (the whole window inside horizontally, its nrows valid rows from xr on, rstep
 * floats apart): the columns a 4-wide step of pool_interior did not cover. Same order and scaling as
 * pool_interior's lanes. */
RT_AI float pool_inner1(const float *xr, ptrdiff_t rstep, int32_t nrows, int32_t kw, int32_t dw, int mx, float inv) {
  float m = -RT_INF, s = 0.0f;
  for (int32_t r = 0; r < nrows; r++, xr += rstep)
    for (int32_t kx = 0; kx < kw; kx++) {
      float v = xr[kx * dw];
      m = m < v ? v : m;
      s += v;
    }
  return mx ? m : s * inv;
}

/* Per output row: window rows outside the input are skipped, interior columns (whole window
 * inside horizontally) go through pool_interior 4 at a time and pool_inner1 for the rest, only the
 * border columns through pool_pixel. The valid window rows need no division at dilation 1. */
void rt_pool2d_f32__simd128(const RtPool2d *p) {
  const float *x = RT_PTR(const float, p->x);
  float *y = RT_PTR(float, p->y);
  const int32_t h = p->h, w = p->w, oh = p->oh, ow = p->ow, kh = p->kh, kw = p->kw, sw = p->sw;
  const int32_t sh = p->sh, pt = p->pt, pl = p->pl, dh = p->dh, dw = p->dw, mx = p->kind == 0;
  int32_t lo, hi;
  rt_valid_range(ow, w, sw, pl, 0, (kw - 1) * dw, &lo, &hi);
  for (int32_t plane = 0; plane < p->planes; plane++) {
    const float *xp = x + (ptrdiff_t)plane * h * w;
    float *yp = y + (ptrdiff_t)plane * oh * ow;
    for (int32_t oy = 0; oy < oh; oy++) {
      float *yr = yp + (ptrdiff_t)oy * ow;
      int32_t iy0 = oy * sh - pt, ky0, ky1;
      if (dh == 1) {
        ky0 = RT_MAX(0, -iy0);
        ky1 = RT_MIN(kh, h - iy0);
      } else {
        ky0 = RT_MAX(0, rt_ceil_div(-iy0, dh));
        ky1 = RT_MIN(kh, rt_floor_div(h - 1 - iy0, dh) + 1);
      }
      int32_t nrows = RT_MAX(ky1 - ky0, 0), cnt = nrows * kw;
      int32_t ox = 0;
      if (cnt) {
        float div = (float)(p->count_pad ? kh * kw : cnt), invs = 1.0f / div;
        v128_t inv = wasm_f32x4_splat(invs);
        const float *xb = xp + (ptrdiff_t)(iy0 + ky0 * dh) * w - pl;
        ptrdiff_t rstep = (ptrdiff_t)dh * w;
        for (; ox < lo; ox++) yr[ox] = pool_pixel(p, xp, oy, ox);
        if (sw == 1)
          ox = mx ? pool_interior(1, 1, ox, hi, xb, rstep, nrows, kw, dw, inv, yr)
                  : pool_interior(1, 0, ox, hi, xb, rstep, nrows, kw, dw, inv, yr);
        else if (sw == 2)
          ox = mx ? pool_interior(2, 1, ox, hi, xb, rstep, nrows, kw, dw, inv, yr)
                  : pool_interior(2, 0, ox, hi, xb, rstep, nrows, kw, dw, inv, yr);
        else
          ox = mx ? pool_interior(sw, 1, ox, hi, xb, rstep, nrows, kw, dw, inv, yr)
                  : pool_interior(sw, 0, ox, hi, xb, rstep, nrows, kw, dw, inv, yr);
        for (; ox < hi; ox++) yr[ox] = pool_inner1(xb + (ptrdiff_t)ox * sw, rstep, nrows, kw, dw, mx, invs);
      }
      for (; ox < ow; ox++) yr[ox] = pool_pixel(p, xp, oy, ox);
    }
  }
}

void rt_global_pool_f32__simd128(const RtGlobalPool *p) {
  const float *x = RT_PTR(const float, p->x);
  float *y = RT_PTR(float, p->y);
  int32_t hw = p->hw;
  float inv = hw ? 1.0f / (float)hw : 0.0f;
  for (int32_t pl = 0; pl < p->planes; pl++) {
    const float *xp = x + (ptrdiff_t)pl * hw;
    v128_t s0 = wasm_f32x4_const_splat(0.0f), s1 = s0;
    int32_t i = 0;
    for (; i + 8 <= hw; i += 8) {
      s0 = wasm_f32x4_add(s0, wasm_v128_load(xp + i));
      s1 = wasm_f32x4_add(s1, wasm_v128_load(xp + i + 4));
    }
    if (i + 4 <= hw) {
      s0 = wasm_f32x4_add(s0, wasm_v128_load(xp + i));
      i += 4;
    }
    if (i < hw) s1 = wasm_f32x4_add(s1, rt_load_part(xp + i, hw - i));
    y[pl] = rt_hsum_f32x4(wasm_f32x4_add(s0, s1)) * inv;
  }
}

RT_EXPORT("rt_pool2d_f32") void rt_pool2d_f32(const RtPool2d *p) { rt_pool2d_f32__simd128(p); }
RT_EXPORT("rt_global_pool_f32") void rt_global_pool_f32(const RtGlobalPool *p) { rt_global_pool_f32__simd128(p); }
#else
RT_EXPORT("rt_pool2d_f32") void rt_pool2d_f32(const RtPool2d *p) { rt_pool2d_f32__scalar(p); }
RT_EXPORT("rt_global_pool_f32") void rt_global_pool_f32(const RtGlobalPool *p) { rt_global_pool_f32__scalar(p); }
#endif

/* ---- MaxPool over uint8 / int8 (p->s8): windows as rt_pool2d_f32's, cells outside skipped, an empty window 0.
 * int8 is compared as uint8 with the sign bit flipped (x ^ 0x80 keeps the order), so one unsigned max serves both. */
static uint8_t mp8_pixel(const RtPool2d *p, const uint8_t *xp, int32_t oy, int32_t ox, uint8_t flip) {
  int32_t m = -1;
  for (int32_t ky = 0; ky < p->kh; ky++) {
    int32_t iy = oy * p->sh - p->pt + ky * p->dh;
    if (iy < 0 || iy >= p->h) continue;
    for (int32_t kx = 0; kx < p->kw; kx++) {
      int32_t ix = ox * p->sw - p->pl + kx * p->dw;
      if (ix < 0 || ix >= p->w) continue;
      int32_t v = xp[(ptrdiff_t)iy * p->w + ix] ^ flip;
      m = v > m ? v : m;
    }
  }
  return m < 0 ? 0 : (uint8_t)(m ^ flip);
}

void rt_maxpool_8__scalar(const RtPool2d *p) {
  const uint8_t *x = RT_PTR(const uint8_t, p->x);
  uint8_t *y = RT_PTR(uint8_t, p->y), flip = p->s8 ? 0x80 : 0;
  for (int32_t pl = 0; pl < p->planes; pl++) {
    const uint8_t *xp = x + (ptrdiff_t)pl * p->h * p->w;
    uint8_t *yp = y + (ptrdiff_t)pl * p->oh * p->ow;
    for (int32_t oy = 0; oy < p->oh; oy++)
      for (int32_t ox = 0; ox < p->ow; ox++) yp[(ptrdiff_t)oy * p->ow + ox] = mp8_pixel(p, xp, oy, ox, flip);
  }
}

#if RT_SIMD128
/* per output row as rt_pool2d_f32__simd128: interior columns 16 at a time at strides 1 and 2 (the even bytes of
 * 32 loaded: a block is taken only while all 32 lie inside the input row), the rest pixel by pixel */
void rt_maxpool_8__simd128(const RtPool2d *p) {
  const uint8_t *x = RT_PTR(const uint8_t, p->x);
  uint8_t *y = RT_PTR(uint8_t, p->y), flip = p->s8 ? 0x80 : 0;
  const int32_t h = p->h, w = p->w, oh = p->oh, ow = p->ow, kh = p->kh, kw = p->kw, sw = p->sw, dw = p->dw;
  const int32_t sh = p->sh, pt = p->pt, pl = p->pl, dh = p->dh;
  v128_t vf = wasm_i8x16_splat((int8_t)flip);
  int32_t lo, hi;
  rt_valid_range(ow, w, sw, pl, 0, (kw - 1) * dw, &lo, &hi);
  for (int32_t plane = 0; plane < p->planes; plane++) {
    const uint8_t *xp = x + (ptrdiff_t)plane * h * w;
    uint8_t *yp = y + (ptrdiff_t)plane * oh * ow;
    for (int32_t oy = 0; oy < oh; oy++) {
      uint8_t *yr = yp + (ptrdiff_t)oy * ow;
      int32_t iy0 = oy * sh - pt, ky0, ky1;
      if (dh == 1) {
        ky0 = RT_MAX(0, -iy0);
        ky1 = RT_MIN(kh, h - iy0);
      } else {
        ky0 = RT_MAX(0, rt_ceil_div(-iy0, dh));
        ky1 = RT_MIN(kh, rt_floor_div(h - 1 - iy0, dh) + 1);
      }
      int32_t nrows = RT_MAX(ky1 - ky0, 0), ox = 0;
      if (nrows && (sw == 1 || sw == 2)) {
        const uint8_t *xb = xp + (ptrdiff_t)(iy0 + ky0 * dh) * w - pl;
        ptrdiff_t rstep = (ptrdiff_t)dh * w;
        for (; ox < lo; ox++) yr[ox] = mp8_pixel(p, xp, oy, ox, flip);
        /* the block's last byte read: sw * ox - pl + (kw - 1) * dw + 16 * sw - 1 */
        for (; ox + 16 <= hi && sw * ox - pl + (kw - 1) * dw + 16 * sw - 1 < w; ox += 16) {
          v128_t acc = wasm_i32x4_splat(0);
          const uint8_t *xr = xb + (ptrdiff_t)ox * sw;
          for (int32_t r = 0; r < nrows; r++, xr += rstep)
            for (int32_t kx = 0; kx < kw; kx++) {
              const uint8_t *c = xr + kx * dw;
              v128_t v = wasm_v128_load(c);
              if (sw == 2) v = wasm_i8x16_shuffle(v, wasm_v128_load(c + 16), 0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
              acc = wasm_u8x16_max(acc, wasm_v128_xor(v, vf));
            }
          wasm_v128_store(yr + ox, wasm_v128_xor(acc, vf));
        }
        /* then 8 at a time (16 bytes read at stride 2, 8 at stride 1) */
        for (; ox + 8 <= hi && sw * ox - pl + (kw - 1) * dw + 8 * sw - 1 < w; ox += 8) {
          v128_t acc = wasm_i32x4_splat(0);
          const uint8_t *xr = xb + (ptrdiff_t)ox * sw;
          for (int32_t r = 0; r < nrows; r++, xr += rstep)
            for (int32_t kx = 0; kx < kw; kx++) {
              const uint8_t *c = xr + kx * dw;
              v128_t v = sw == 2 ? wasm_v128_load(c) : wasm_v128_load64_zero(c);
              if (sw == 2) v = wasm_i8x16_shuffle(v, v, 0, 2, 4, 6, 8, 10, 12, 14, 0, 2, 4, 6, 8, 10, 12, 14);
              acc = wasm_u8x16_max(acc, wasm_v128_xor(v, vf));
            }
          wasm_v128_store64_lane(yr + ox, wasm_v128_xor(acc, vf), 0);
        }
        for (; ox < hi; ox++) {   /* the rest of the interior: every column inside */
          const uint8_t *xr = xb + (ptrdiff_t)ox * sw;
          uint32_t m = 0;
          for (int32_t r = 0; r < nrows; r++, xr += rstep)
            for (int32_t kx = 0; kx < kw; kx++) {
              uint32_t v = (uint32_t)(xr[kx * dw] ^ flip);
              m = v > m ? v : m;
            }
          yr[ox] = (uint8_t)(m ^ flip);
        }
      }
      for (; ox < ow; ox++) yr[ox] = mp8_pixel(p, xp, oy, ox, flip);
    }
  }
}
RT_EXPORT("rt_maxpool_8") void rt_maxpool_8(const RtPool2d *p) { rt_maxpool_8__simd128(p); }
#else
RT_EXPORT("rt_maxpool_8") void rt_maxpool_8(const RtPool2d *p) { rt_maxpool_8__scalar(p); }
#endif
