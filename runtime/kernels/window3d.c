/* window3d.c — Conv and MaxPool/AveragePool over 3-D spatial volumes, NCDHW float32 (RtConv3d, RtPool3d,
 * runtime/rt_abi.h). Scalar direct loops: volumetric ops are rare in the models this compiler targets, so
 * they get a plain reference implementation (the window's in-range span per axis is computed once per
 * output row, so padding costs no branch in the inner loop). Also MaxUnpool's scatter (rt_unpool). */
#include "rt_internal.h"

/* taps k of one axis with 0 <= o*st - pb + k*dl < in: [*k0, *k1) */
static void taps(int32_t o, int32_t in, int32_t ks, int32_t st, int32_t pb, int32_t dl, int32_t *k0, int32_t *k1) {
  int32_t i0 = o * st - pb;
  *k0 = i0 >= 0 ? 0 : (-i0 + dl - 1) / dl;
  int32_t last = in - 1 - i0;   /* k*dl <= last */
  *k1 = last < 0 ? 0 : RT_MIN(ks, last / dl + 1);
  if (*k1 < *k0) *k1 = *k0;
}

void rt_conv3d_f32__scalar(const RtConv3d *p) {
  const float *x = RT_PTR(const float, p->x), *w = RT_PTR(const float, p->w);
  const float *bias = p->bias ? RT_PTR(const float, p->bias) : 0;
  const float *res = p->res ? RT_PTR(const float, p->res) : 0;
  float *y = RT_PTR(float, p->y);
  const int32_t cpg = p->c / p->group, kpg = p->k / p->group;
  const ptrdiff_t vin = (ptrdiff_t)p->in[0] * p->in[1] * p->in[2], vout = (ptrdiff_t)p->out[0] * p->out[1] * p->out[2];
  const ptrdiff_t kvol = (ptrdiff_t)p->ks[0] * p->ks[1] * p->ks[2];
  for (int32_t ni = 0; ni < p->n; ni++)
    for (int32_t ko = 0; ko < p->k; ko++) {
      const int32_t g = ko / kpg;
      const float *xg = x + ((ptrdiff_t)ni * p->c + (ptrdiff_t)g * cpg) * vin;
      const float *wk = w + (ptrdiff_t)ko * cpg * kvol;
      float *yk = y + ((ptrdiff_t)ni * p->k + ko) * vout;
      const float *rk = res ? res + ((ptrdiff_t)ni * p->k + ko) * vout : 0;
      for (int32_t od = 0; od < p->out[0]; od++) {
        int32_t d0, d1;
        taps(od, p->in[0], p->ks[0], p->st[0], p->pb[0], p->dl[0], &d0, &d1);
        for (int32_t oh = 0; oh < p->out[1]; oh++) {
          int32_t h0, h1;
          taps(oh, p->in[1], p->ks[1], p->st[1], p->pb[1], p->dl[1], &h0, &h1);
          for (int32_t ow = 0; ow < p->out[2]; ow++) {
            int32_t w0, w1;
            taps(ow, p->in[2], p->ks[2], p->st[2], p->pb[2], p->dl[2], &w0, &w1);
            float acc = 0.0f;
            for (int32_t ci = 0; ci < cpg; ci++) {
              const float *xc = xg + (ptrdiff_t)ci * vin, *wc = wk + (ptrdiff_t)ci * kvol;
              for (int32_t kd = d0; kd < d1; kd++) {
                const int32_t id = od * p->st[0] - p->pb[0] + kd * p->dl[0];
                for (int32_t kh = h0; kh < h1; kh++) {
                  const int32_t ih = oh * p->st[1] - p->pb[1] + kh * p->dl[1];
                  const float *xr = xc + ((ptrdiff_t)id * p->in[1] + ih) * p->in[2];
                  const float *wr = wc + ((ptrdiff_t)kd * p->ks[1] + kh) * p->ks[2];
                  for (int32_t kw = w0; kw < w1; kw++) acc += xr[ow * p->st[2] - p->pb[2] + kw * p->dl[2]] * wr[kw];
                }
              }
            }
            const ptrdiff_t o = ((ptrdiff_t)od * p->out[1] + oh) * p->out[2] + ow;
            if (bias) acc += bias[ko];
            if (rk) acc += rk[o];
            yk[o] = rt_act1(p->act.kind, p->act.a, p->act.b, acc);
          }
        }
      }
    }
}

void rt_pool3d_f32__scalar(const RtPool3d *p) {
  const float *x = RT_PTR(const float, p->x);
  float *y = RT_PTR(float, p->y);
  const ptrdiff_t vin = (ptrdiff_t)p->in[0] * p->in[1] * p->in[2], vout = (ptrdiff_t)p->out[0] * p->out[1] * p->out[2];
  const float full = (float)p->ks[0] * (float)p->ks[1] * (float)p->ks[2];
  for (int32_t pl = 0; pl < p->planes; pl++) {
    const float *xp = x + (ptrdiff_t)pl * vin;
    float *yp = y + (ptrdiff_t)pl * vout;
    for (int32_t od = 0; od < p->out[0]; od++) {
      int32_t d0, d1;
      taps(od, p->in[0], p->ks[0], p->st[0], p->pb[0], p->dl[0], &d0, &d1);
      for (int32_t oh = 0; oh < p->out[1]; oh++) {
        int32_t h0, h1;
        taps(oh, p->in[1], p->ks[1], p->st[1], p->pb[1], p->dl[1], &h0, &h1);
        for (int32_t ow = 0; ow < p->out[2]; ow++) {
          int32_t w0, w1;
          taps(ow, p->in[2], p->ks[2], p->st[2], p->pb[2], p->dl[2], &w0, &w1);
          float m = -RT_INF, s = 0.0f;
          int64_t best = -1;
          for (int32_t kd = d0; kd < d1; kd++) {
            const int32_t id = od * p->st[0] - p->pb[0] + kd * p->dl[0];
            for (int32_t kh = h0; kh < h1; kh++) {
              const int32_t ih = oh * p->st[1] - p->pb[1] + kh * p->dl[1];
              const float *xr = xp + ((ptrdiff_t)id * p->in[1] + ih) * p->in[2];
              for (int32_t kw = w0; kw < w1; kw++) {
                const int32_t iw = ow * p->st[2] - p->pb[2] + kw * p->dl[2];
                const float v = xr[iw];
                if (p->idx && (best < 0 || m < v)) {
                  const int64_t at = p->col_major ? ((int64_t)iw * p->in[1] + ih) * p->in[0] + id : ((int64_t)id * p->in[1] + ih) * p->in[2] + iw;
                  if (best < 0 || m < v) best = at;
                }
                m = m < v ? v : m;   /* as rt_pool2d_f32 */
                s += v;
              }
            }
          }
          const int32_t cnt = (d1 - d0) * (h1 - h0) * (w1 - w0);
          const ptrdiff_t o = ((ptrdiff_t)od * p->out[1] + oh) * p->out[2] + ow;
          if (p->idx) RT_PTR(int64_t, p->idx)[(ptrdiff_t)pl * vout + o] = best < 0 ? 0 : (int64_t)pl * vin + best;
          if (p->kind == 0) yp[o] = cnt ? m : 0.0f;
          else yp[o] = cnt ? s / (p->count_pad ? full : (float)cnt) : 0.0f;
        }
      }
    }
  }
}

RT_EXPORT("rt_conv3d_f32") void rt_conv3d_f32(const RtConv3d *p) { rt_conv3d_f32__scalar(p); }
RT_EXPORT("rt_pool3d_f32") void rt_pool3d_f32(const RtPool3d *p) { rt_pool3d_f32__scalar(p); }

RT_EXPORT("rt_unpool") void rt_unpool(const RtUnpool *p) {
  const unsigned char *x = RT_PTR(const unsigned char, p->x);
  const int64_t *idx = RT_PTR(const int64_t, p->idx);
  unsigned char *y = RT_PTR(unsigned char, p->y);
  const int32_t es = p->esize;
  for (ptrdiff_t i = 0; i < (ptrdiff_t)p->ny * es; i++) y[i] = 0;
  for (ptrdiff_t j = 0; j < p->nx; j++)
    if (idx[j] >= 0 && idx[j] < p->ny)
      for (int32_t b = 0; b < es; b++) y[idx[j] * es + b] = x[j * es + b];
}
