/* resize.c — Resize of the last two axes with compiler-made tap tables (RtResize in rt_abi.h), and GridSample
 * (RtGridSample; scalar: the sampling points are data, one at a time) and RoiAlign (RtRoiAlign, scalar).
 * scalar: the 2-D weighted sum of the definition, output by output.
 * simd128: separable — per output row the vertical taps are combined over the whole input row into
 * scratch (f32x4), then the horizontal taps read that row; nearest rows repeated from the previous output
 * row are copied, integer nearest upsampling along the row is done with shuffles / splats. */
#include "rt_internal.h"

typedef struct { const int32_t *hidx, *widx; const float *hwt, *wwt; } Tabs;

RT_AI Tabs resize_tabs(const RtResize *p) {
  Tabs t;
  t.hidx = (const int32_t *)(const void *)((const char *)p + p->tab);
  t.hwt = (const float *)(const void *)(t.hidx + (ptrdiff_t)p->tab_oh * p->th);
  t.widx = (const int32_t *)(const void *)(t.hwt + (ptrdiff_t)p->tab_oh * p->th);
  t.wwt = (const float *)(const void *)(t.widx + (ptrdiff_t)p->tab_ow * p->tw);
  return t;
}

void rt_resize_f32__scalar(const RtResize *p) {
  const float *x = RT_PTR(const float, p->x);
  float *y = RT_PTR(float, p->y);
  Tabs t = resize_tabs(p);
  for (int32_t pl = 0; pl < p->planes; pl++) {
    const float *xp = x + (ptrdiff_t)pl * p->h * p->w;
    float *yp = y + (ptrdiff_t)pl * p->oh * p->ow;
    for (int32_t oy = 0; oy < p->oh; oy++) {
      const int32_t *hi = t.hidx + (ptrdiff_t)oy * p->th;
      const float *hw = t.hwt + (ptrdiff_t)oy * p->th;
      for (int32_t ox = 0; ox < p->ow; ox++) {
        const int32_t *wi = t.widx + (ptrdiff_t)ox * p->tw;
        const float *ww = t.wwt + (ptrdiff_t)ox * p->tw;
        float s = 0.0f;
        if (hi[0] < 0 || wi[0] < 0) s = p->extrap;
        else
          for (int32_t a = 0; a < p->th; a++)
            for (int32_t b = 0; b < p->tw; b++) s += hw[a] * ww[b] * xp[(ptrdiff_t)hi[a] * p->w + wi[b]];
        yp[(ptrdiff_t)oy * p->ow + ox] = s;
      }
    }
  }
}

#if RT_SIMD128

/* One output row from the source row r (input row or vertically combined row). */
static void resize_row(const RtResize *p, const Tabs *t, const float *r, float *yr) {
  const int32_t ow = p->ow, tw = p->tw, f = p->wrep;
  int32_t ox = 0;
  if (f == 2) {
    int32_t n4 = p->w / 4;
    for (int32_t i = 0; i < n4; i++) {
      v128_t v = wasm_v128_load(r + 4 * i);
      wasm_v128_store(yr + 8 * i, wasm_i32x4_shuffle(v, v, 0, 0, 1, 1));
      wasm_v128_store(yr + 8 * i + 4, wasm_i32x4_shuffle(v, v, 2, 2, 3, 3));
    }
    ox = 8 * n4;
  } else if (f >= 4 && f % 4 == 0) {
    for (int32_t i = 0; i < p->w; i++) {
      v128_t v = wasm_v128_load32_splat(r + i);
      float *d = yr + (ptrdiff_t)i * f;
      for (int32_t j = 0; j < f; j += 4) wasm_v128_store(d + j, v);
    }
    return;
  }
  if (tw == 1) {
    for (; ox < ow; ox++) {
      int32_t i = t->widx[ox];
      yr[ox] = i < 0 ? p->extrap : r[i];
    }
    return;
  }
  for (; ox < ow; ox++) {
    const int32_t *wi = t->widx + (ptrdiff_t)ox * tw;
    const float *ww = t->wwt + (ptrdiff_t)ox * tw;
    if (wi[0] < 0) { yr[ox] = p->extrap; continue; }
    float s = 0.0f;
    for (int32_t b = 0; b < tw; b++) s += ww[b] * r[wi[b]];
    yr[ox] = s;
  }
}

/* 2x2 taps (bilinear): each output as the scalar reference sums it, ((w00 x00 + w01 x01) + w10 x10) + w11 x11 with
 * w_ab = hw[a] * ww[b] -- onnxruntime's order too. A separable sum (rows first) rounds differently, and in a
 * dynamically quantized model the following DynamicQuantizeLinear turns such last-bit differences into flipped
 * integers. The taps are gathered, the arithmetic is 4 outputs wide. */
static void bilinear_row(const RtResize *p, const Tabs *t, const float *r0, const float *r1, const float *hw, float *yr) {
  const int32_t ow = p->ow;
  v128_t h0 = wasm_f32x4_splat(hw[0]), h1 = wasm_f32x4_splat(hw[1]);
  int32_t ox = 0;
  for (; ox + 4 <= ow; ox += 4) {
    const int32_t *wi = t->widx + (ptrdiff_t)ox * 2;
    const float *ww = t->wwt + (ptrdiff_t)ox * 2;
    if (wi[0] < 0 || wi[2] < 0 || wi[4] < 0 || wi[6] < 0) break;   /* extrapolated columns: the scalar loop */
    float g[4][4];
    for (int32_t j = 0; j < 4; j++) {
      g[0][j] = r0[wi[2 * j]];
      g[1][j] = r0[wi[2 * j + 1]];
      g[2][j] = r1[wi[2 * j]];
      g[3][j] = r1[wi[2 * j + 1]];
    }
    v128_t wa = wasm_v128_load(ww), wb = wasm_v128_load(ww + 4);
    v128_t w0 = wasm_i32x4_shuffle(wa, wb, 0, 2, 4, 6), w1 = wasm_i32x4_shuffle(wa, wb, 1, 3, 5, 7);
    v128_t s = wasm_f32x4_mul(wasm_f32x4_mul(h0, w0), wasm_v128_load(g[0]));
    s = wasm_f32x4_add(s, wasm_f32x4_mul(wasm_f32x4_mul(h0, w1), wasm_v128_load(g[1])));
    s = wasm_f32x4_add(s, wasm_f32x4_mul(wasm_f32x4_mul(h1, w0), wasm_v128_load(g[2])));
    s = wasm_f32x4_add(s, wasm_f32x4_mul(wasm_f32x4_mul(h1, w1), wasm_v128_load(g[3])));
    wasm_v128_store(yr + ox, s);
  }
  for (; ox < ow; ox++) {
    const int32_t *wi = t->widx + (ptrdiff_t)ox * 2;
    const float *ww = t->wwt + (ptrdiff_t)ox * 2;
    if (wi[0] < 0) { yr[ox] = p->extrap; continue; }
    float s = 0.0f;
    s += hw[0] * ww[0] * r0[wi[0]];
    s += hw[0] * ww[1] * r0[wi[1]];
    s += hw[1] * ww[0] * r1[wi[0]];
    s += hw[1] * ww[1] * r1[wi[1]];
    yr[ox] = s;
  }
}

void rt_resize_f32__simd128(const RtResize *p) {
  const float *x = RT_PTR(const float, p->x);
  float *y = RT_PTR(float, p->y);
  float *tmp = p->scratch ? RT_PTR(float, p->scratch) : NULL;
  Tabs t = resize_tabs(p);
  const int32_t h = p->h, w = p->w, oh = p->oh, ow = p->ow, th = p->th;
  for (int32_t pl = 0; pl < p->planes; pl++) {
    const float *xp = x + (ptrdiff_t)pl * h * w;
    float *yp = y + (ptrdiff_t)pl * oh * ow;
    for (int32_t oy = 0; oy < oh; oy++) {
      const int32_t *hi = t.hidx + (ptrdiff_t)oy * th;
      const float *hw = t.hwt + (ptrdiff_t)oy * th;
      float *yr = yp + (ptrdiff_t)oy * ow;
      if (hi[0] < 0) {
        v128_t e = wasm_f32x4_splat(p->extrap);
        int32_t i = 0;
        for (; i + 4 <= ow; i += 4) wasm_v128_store(yr + i, e);
        for (; i < ow; i++) yr[i] = p->extrap;
        continue;
      }
      if (th == 1) {
        if (oy > 0 && t.hidx[oy - 1] == hi[0]) rt_memcpy(yr, yr - ow, (size_t)ow * sizeof(float));
        else resize_row(p, &t, xp + (ptrdiff_t)hi[0] * w, yr);
        continue;
      }
      if (th == 2 && p->tw == 2) { bilinear_row(p, &t, xp + (ptrdiff_t)hi[0] * w, xp + (ptrdiff_t)hi[1] * w, hw, yr); continue; }
      /* vertical taps over the whole input row */
      int32_t ix = 0;
      for (; ix + 4 <= w; ix += 4) {
        v128_t s = wasm_f32x4_const_splat(0.0f);
        for (int32_t a = 0; a < th; a++)
          s = wasm_f32x4_add(s, wasm_f32x4_mul(wasm_f32x4_splat(hw[a]), wasm_v128_load(xp + (ptrdiff_t)hi[a] * w + ix)));
        wasm_v128_store(tmp + ix, s);
      }
      for (; ix < w; ix++) {
        float s = 0.0f;
        for (int32_t a = 0; a < th; a++) s += hw[a] * xp[(ptrdiff_t)hi[a] * w + ix];
        tmp[ix] = s;
      }
      resize_row(p, &t, tmp, yr);
    }
  }
}

RT_EXPORT("rt_resize_f32") void rt_resize_f32(const RtResize *p) { rt_resize_f32__simd128(p); }
#else
RT_EXPORT("rt_resize_f32") void rt_resize_f32(const RtResize *p) { rt_resize_f32__scalar(p); }
#endif

/* ------------------------------------------------------------------ GridSample (onnxruntime's arithmetic) */

static float gs_reflect(float x, float lo, float hi) {
  float range = hi - lo;
  if (!(range > 0)) return lo;   /* a 1-wide axis with align_corners: one point to reflect onto */
  if (x < lo) {
    float dx = lo - x;
    int32_t k = (int32_t)(dx / range);
    float r = dx - (float)k * range;
    return k % 2 == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    float dx = x - hi;
    int32_t k = (int32_t)(dx / range);
    float r = dx - (float)k * range;
    return k % 2 == 0 ? hi - r : lo + r;
  }
  return x;
}

typedef struct { const float *img; int32_t h, w, padding; float lo[2], hi[2]; } GsPlane;   /* [0]: x, [1]: y */

static float gs_pixel(const GsPlane *q, int32_t yy, int32_t xx) {
  if (q->padding == 0) return xx >= 0 && xx < q->w && yy >= 0 && yy < q->h ? q->img[(ptrdiff_t)yy * q->w + xx] : 0.0f;
  if (q->padding == 2) {
    xx = (int32_t)gs_reflect((float)xx, q->lo[0], q->hi[0]);
    yy = (int32_t)gs_reflect((float)yy, q->lo[1], q->hi[1]);
  }
  xx = RT_MAX(0, RT_MIN(q->w - 1, xx));   /* border; after a reflection, only keeps reads in bounds */
  yy = RT_MAX(0, RT_MIN(q->h - 1, yy));
  return q->img[(ptrdiff_t)yy * q->w + xx];
}

static void gs_cubic_coeffs(float t, float c[4]) {
  const float a = -0.75f;
  t = __builtin_fabsf(t);
  c[0] = ((a * (t + 1) - 5 * a) * (t + 1) + 8 * a) * (t + 1) - 4 * a;
  c[1] = ((a + 2) * t - (a + 3)) * t * t + 1;
  c[2] = ((a + 2) * (1 - t) - (a + 3)) * (1 - t) * (1 - t) + 1;
  c[3] = ((a * (2 - t) - 5 * a) * (2 - t) + 8 * a) * (2 - t) - 4 * a;
}

static int64_t gs_floor(float v) { int64_t i = (int64_t)v; return (float)i > v ? i - 1 : i; }

static float gs_sample(const GsPlane *q, int32_t mode, float x, float y) {
  if (x != x || y != y) return 0.0f;   /* a NaN point: no tap (onnxruntime's casts are undefined there) */
  if (x < -1e8f) x = -1e8f; else if (x > 1e8f) x = 1e8f;   /* keeps the integer taps representable */
  if (y < -1e8f) y = -1e8f; else if (y > 1e8f) y = 1e8f;
  if (mode == 0) { x = __builtin_rintf(x); y = __builtin_rintf(y); }
  if (x < q->lo[0] || x > q->hi[0] || y < q->lo[1] || y > q->hi[1]) {
    if (q->padding == 1) {
      x = x < 0 ? 0 : x > (float)(q->w - 1) ? (float)(q->w - 1) : x;
      y = y < 0 ? 0 : y > (float)(q->h - 1) ? (float)(q->h - 1) : y;
    } else if (q->padding == 2) {
      x = gs_reflect(x, q->lo[0], q->hi[0]);
      y = gs_reflect(y, q->lo[1], q->hi[1]);
    }
  }
  if (mode == 0) return gs_pixel(q, (int32_t)y, (int32_t)x);
  int32_t x1 = (int32_t)gs_floor(x), y1 = (int32_t)gs_floor(y);
  if (mode == 1) {
    float p11 = gs_pixel(q, y1, x1), p12 = gs_pixel(q, y1, x1 + 1), p21 = gs_pixel(q, y1 + 1, x1), p22 = gs_pixel(q, y1 + 1, x1 + 1);
    float dx2 = (float)(x1 + 1) - x, dx1 = x - (float)x1, dy2 = (float)(y1 + 1) - y, dy1 = y - (float)y1;
    return dy2 * (dx2 * p11 + dx1 * p12) + dy1 * (dx2 * p21 + dx1 * p22);
  }
  int32_t x0 = x1 - 1, y0 = y1 - 1;
  float cx[4], cy[4], v[4];
  gs_cubic_coeffs(x - (float)x0 - 1, cx);
  gs_cubic_coeffs(y - (float)y0 - 1, cy);
  for (int32_t i = 0; i < 4; i++)
    v[i] = cx[0] * gs_pixel(q, y0 + i, x0) + cx[1] * gs_pixel(q, y0 + i, x0 + 1) + cx[2] * gs_pixel(q, y0 + i, x0 + 2) +
           cx[3] * gs_pixel(q, y0 + i, x0 + 3);
  return cy[0] * v[0] + cy[1] * v[1] + cy[2] * v[2] + cy[3] * v[3];
}

static float gs_denorm(float v, int32_t len, int32_t align) {
  return align ? (v + 1) / 2 * (float)(len - 1) : ((v + 1) * (float)len - 1) / 2;
}

RT_EXPORT("rt_grid_sample_f32") void rt_grid_sample_f32(const RtGridSample *p) {
  const float *x = RT_PTR(const float, p->x), *grid = RT_PTR(const float, p->grid);
  float *y = RT_PTR(float, p->y);
  const ptrdiff_t hw = (ptrdiff_t)p->h * p->w_, ohw = (ptrdiff_t)p->oh * p->ow;
  GsPlane q = {0, p->h, p->w_, p->padding,
               {p->align_corners ? 0.0f : -0.5f, p->align_corners ? 0.0f : -0.5f},
               {p->align_corners ? (float)(p->w_ - 1) : (float)p->w_ - 0.5f, p->align_corners ? (float)(p->h - 1) : (float)p->h - 0.5f}};
  if (hw == 0) {   /* an empty input: every sample is padding (border/reflection of nothing: 0 too) */
    for (ptrdiff_t i = 0; i < (ptrdiff_t)p->n * p->c * ohw; i++) y[i] = 0.0f;
    return;
  }
  for (int32_t ni = 0; ni < p->n; ni++)
    for (int32_t ci = 0; ci < p->c; ci++) {
      q.img = x + ((ptrdiff_t)ni * p->c + ci) * hw;
      const float *gr = grid + (ptrdiff_t)ni * ohw * 2;
      float *yp = y + ((ptrdiff_t)ni * p->c + ci) * ohw;
      for (ptrdiff_t i = 0; i < ohw; i++)
        yp[i] = gs_sample(&q, p->mode, gs_denorm(gr[2 * i], p->w_, p->align_corners), gs_denorm(gr[2 * i + 1], p->h, p->align_corners));
    }
}

/* ------------------------------------------------------------------ RoiAlign (onnxruntime's arithmetic) */

RT_EXPORT("rt_roi_align_f32") void rt_roi_align_f32(const RtRoiAlign *p) {
  const float *x = RT_PTR(const float, p->x), *rois = RT_PTR(const float, p->rois);
  float *y = RT_PTR(float, p->y);
  const int32_t h = p->h, w = p->w_, oh = p->oh, ow = p->ow;
  const ptrdiff_t hw = (ptrdiff_t)h * w, ohw = (ptrdiff_t)oh * ow;
  const float off = p->half_pixel ? 0.5f : 0.0f;
  for (int32_t r = 0; r < p->nroi; r++) {
    int64_t b = p->b64 ? RT_PTR(const int64_t, p->batch)[r] : RT_PTR(const int32_t, p->batch)[r];
    float *yr = y + (ptrdiff_t)r * p->c * ohw;
    if (b < 0 || b >= p->n) {
      for (ptrdiff_t i = 0; i < (ptrdiff_t)p->c * ohw; i++) yr[i] = 0.0f;
      continue;
    }
    const float *roi = rois + 4 * (ptrdiff_t)r;
    const float sw = roi[0] * p->scale - off, sh = roi[1] * p->scale - off;
    float rw = roi[2] * p->scale - off - sw, rh = roi[3] * p->scale - off - sh;
    if (!p->half_pixel) { rw = rw > 1.0f ? rw : 1.0f; rh = rh > 1.0f ? rh : 1.0f; }
    const float bh = rh / (float)oh, bw = rw / (float)ow;
    const int32_t gh = p->sampling > 0 ? p->sampling : (int32_t)__builtin_ceilf(rh / (float)oh);
    const int32_t gw = p->sampling > 0 ? p->sampling : (int32_t)__builtin_ceilf(rw / (float)ow);
    const float count = (float)RT_MAX(gh * gw, 1);
    for (int32_t ch = 0; ch < p->c; ch++) {
      const float *xp = x + ((ptrdiff_t)b * p->c + ch) * hw;
      for (int32_t py = 0; py < oh; py++)
        for (int32_t px = 0; px < ow; px++) {
          float acc = 0.0f;
          int first = 1;
          for (int32_t iy = 0; iy < gh; iy++) {
            float yy = sh + (float)py * bh + ((float)iy + 0.5f) * bh / (float)gh;
            for (int32_t ix = 0; ix < gw; ix++) {
              float xx = sw + (float)px * bw + ((float)ix + 0.5f) * bw / (float)gw;
              float v = 0.0f, vm = 0.0f;
              if (!(yy < -1.0f || yy > (float)h || xx < -1.0f || xx > (float)w)) {
                float yv = yy <= 0 ? 0 : yy, xv = xx <= 0 ? 0 : xx;
                int32_t yl = (int32_t)yv, xl = (int32_t)xv, yh, xh;
                if (yl >= h - 1) { yh = yl = h - 1; yv = (float)yl; } else yh = yl + 1;
                if (xl >= w - 1) { xh = xl = w - 1; xv = (float)xl; } else xh = xl + 1;
                float ly = yv - (float)yl, lx = xv - (float)xl, hy = 1.0f - ly, hx = 1.0f - lx;
                float t1 = hy * hx * xp[(ptrdiff_t)yl * w + xl], t2 = hy * lx * xp[(ptrdiff_t)yl * w + xh];
                float t3 = ly * hx * xp[(ptrdiff_t)yh * w + xl], t4 = ly * lx * xp[(ptrdiff_t)yh * w + xh];
                v = t1 + t2 + t3 + t4;
                vm = RT_MAX(RT_MAX(t1, t2), RT_MAX(t3, t4));
              }
              if (p->mode == 0) acc += v;
              else { acc = first || vm > acc ? vm : acc; first = 0; }
            }
          }
          yr[(ptrdiff_t)ch * ohw + (ptrdiff_t)py * ow + px] = p->mode == 0 ? acc / count : acc;
        }
    }
  }
}
