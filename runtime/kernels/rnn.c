/* rnn.c — recurrent layers RNN / GRU / LSTM (RtRnn, rt_abi.h): the whole time loop in one call.
 * Each batch entry runs through its sequence on its own (entries never interact), so the state is one
 * hidden-size row and the gate pre-activations two rows of G*H floats in scratch. The products are plain
 * dot products: recurrent layers in ONNX models are small and the step-to-step dependency leaves little
 * to block for. */
#include "rt_internal.h"

RT_AI float rnn_dot(const float *a, const float *b, int32_t n) {
  float s = 0.0f;
  for (int32_t k = 0; k < n; k++) s += a[k] * b[k];
  return s;
}

void rt_rnn_f32__scalar(const RtRnn *p) {
  const float *x = RT_PTR(const float, p->x), *w0 = RT_PTR(const float, p->w), *r0 = RT_PTR(const float, p->r);
  const float *b0 = p->b ? RT_PTR(const float, p->b) : 0, *p0 = p->p ? RT_PTR(const float, p->p) : 0;
  const int32_t *lens = p->lens ? RT_PTR(const int32_t, p->lens) : 0;
  const float *h0 = p->h0 ? RT_PTR(const float, p->h0) : 0, *c0 = p->c0 ? RT_PTR(const float, p->c0) : 0;
  float *y = p->y ? RT_PTR(float, p->y) : 0, *yh = p->yh ? RT_PTR(float, p->yh) : 0;
  float *yc = p->yc ? RT_PTR(float, p->yc) : 0;
  float *scr = RT_PTR(float, p->scratch);
  const int32_t H = p->hidden, I = p->input, G = p->cell == 0 ? 1 : p->cell == 1 ? 3 : 4, GH = G * H;
  float *h = scr, *c = scr + H, *tmp = scr + 2 * H, *gx = scr + 3 * H, *gh = gx + GH;
  for (int32_t d = 0; d < p->ndir; d++) {
    const float *w = w0 + (size_t)d * GH * I, *r = r0 + (size_t)d * GH * H;
    const float *wb = b0 ? b0 + (size_t)d * 2 * GH : 0, *rb = wb ? wb + GH : 0;
    const float *pe = p0 ? p0 + (size_t)d * 3 * H : 0;
    int rev = (p->rev >> d) & 1;
    for (int32_t bi = 0; bi < p->batch; bi++) {
      /* state rows (h0, c0, yh, yc) and y rows of this direction and batch entry */
      size_t so = p->layout ? ((size_t)bi * p->ndir + d) * H : ((size_t)d * p->batch + bi) * H;
      for (int32_t j = 0; j < H; j++) {
        h[j] = h0 ? h0[so + j] : 0.0f;
        c[j] = c0 ? c0[so + j] : 0.0f;
      }
      int32_t len = lens ? (lens[bi] < 0 ? 0 : lens[bi] > p->seq ? p->seq : lens[bi]) : p->seq;
      for (int32_t s = 0; s < len; s++) {
        int32_t t = rev ? len - 1 - s : s;
        const float *xt = x + (p->layout ? (size_t)bi * p->seq + t : (size_t)t * p->batch + bi) * I;
        for (int32_t j = 0; j < GH; j++) {
          gx[j] = (wb ? wb[j] : 0.0f) + rnn_dot(w + (size_t)j * I, xt, I);
          gh[j] = (rb ? rb[j] : 0.0f) + rnn_dot(r + (size_t)j * H, h, H);
        }
        if (p->cell == 0) {                   /* Ht = tanh(x Wi + h Ri + Wbi + Rbi) */
          for (int32_t j = 0; j < H; j++) h[j] = rt_tanhf(gx[j] + gh[j]);
        } else if (p->cell == 1) {            /* GRU: z, r first (the r row feeds the h gate's product) */
          for (int32_t j = 0; j < 2 * H; j++) gx[j] = rt_sigmoidf(gx[j] + gh[j]);
          if (!p->lbr) {                      /* (r . h) Rh + Rbh: the product redone with the reset state */
            for (int32_t j = 0; j < H; j++) tmp[j] = gx[H + j] * h[j];
            for (int32_t j = 0; j < H; j++)
              gh[2 * H + j] = (rb ? rb[2 * H + j] : 0.0f) + rnn_dot(r + (size_t)(2 * H + j) * H, tmp, H);
          }
          for (int32_t j = 0; j < H; j++) {
            float z = gx[j], rr = gx[H + j];
            float hh = rt_tanhf(gx[2 * H + j] + (p->lbr ? rr * gh[2 * H + j] : gh[2 * H + j]));
            h[j] = (1.0f - z) * hh + z * h[j];
          }
        } else {                              /* LSTM, gates i o f c; peepholes i o f */
          for (int32_t j = 0; j < H; j++) {
            float ig = rt_sigmoidf(gx[j] + gh[j] + (pe ? pe[j] * c[j] : 0.0f));
            float fg = rt_sigmoidf(gx[2 * H + j] + gh[2 * H + j] + (pe ? pe[2 * H + j] * c[j] : 0.0f));
            float cg = rt_tanhf(gx[3 * H + j] + gh[3 * H + j]);
            c[j] = fg * c[j] + ig * cg;
            float og = rt_sigmoidf(gx[H + j] + gh[H + j] + (pe ? pe[H + j] * c[j] : 0.0f));
            h[j] = og * rt_tanhf(c[j]);
          }
        }
        if (y) rt_memcpy(y + (p->layout ? ((size_t)bi * p->seq + t) * p->ndir + d : ((size_t)t * p->ndir + d) * p->batch + bi) * H,
                         h, (size_t)H * sizeof(float));
      }
      if (y)                                  /* steps past the entry's length are zeros (ONNX) */
        for (int32_t t = len; t < p->seq; t++)
          rt_memset(y + (p->layout ? ((size_t)bi * p->seq + t) * p->ndir + d : ((size_t)t * p->ndir + d) * p->batch + bi) * H,
                    0, (size_t)H * sizeof(float));
      if (yh) rt_memcpy(yh + so, h, (size_t)H * sizeof(float));
      if (yc) rt_memcpy(yc + so, c, (size_t)H * sizeof(float));
    }
  }
}

/* Scalar only: the work is tiny dot products in a serial time loop (see the top). */
RT_EXPORT("rt_rnn_f32") void rt_rnn_f32(const RtRnn *p) { rt_rnn_f32__scalar(p); }
