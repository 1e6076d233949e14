/* loss.c — NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (RtLoss, runtime/rt_abi.h). Scalar only:
 * a loss runs once per call over small tensors. Sums in double, log-softmax max-shifted. */
#include "rt_internal.h"

static int64_t target_at(const RtLoss *p, const void *t, ptrdiff_t i) {
  return p->t64 ? ((const int64_t *)t)[i] : ((const int32_t *)t)[i];
}

void rt_loss_f32__scalar(const RtLoss *p) {
  const float *x = RT_PTR(const float, p->x), *w = p->w ? RT_PTR(const float, p->w) : 0;
  const void *t = RT_PTR(const void, p->t);
  float *y = RT_PTR(float, p->y), *logp = p->logp ? RT_PTR(float, p->logp) : 0;
  const int32_t n = p->n, c = p->c, d = p->d;
  double sum = 0.0, wsum = 0.0;
  for (int32_t i = 0; i < n; i++)
    for (int32_t j = 0; j < d; j++) {
      const float *xc = x + (ptrdiff_t)i * c * d + j;   /* class k at xc[k * d] */
      double lse = 0.0;                                 /* log sum exp over the classes (softmax) */
      if (p->softmax) {
        float m = -RT_INF;
        for (int32_t k = 0; k < c; k++) m = xc[(ptrdiff_t)k * d] > m ? xc[(ptrdiff_t)k * d] : m;
        double s = 0.0;
        for (int32_t k = 0; k < c; k++) s += (double)rt_expf(xc[(ptrdiff_t)k * d] - m);
        lse = (double)m + (double)rt_logf((float)s);
        if (logp)
          for (int32_t k = 0; k < c; k++) logp[(ptrdiff_t)i * c * d + (ptrdiff_t)k * d + j] = (float)((double)xc[(ptrdiff_t)k * d] - lse);
      }
      int64_t tk = target_at(p, t, (ptrdiff_t)i * d + j);
      double l;
      if (p->has_ignore && tk == p->ignore_index) {
        l = 0.0;
      } else if (tk < 0 || tk >= c) {
        l = (double)__builtin_nanf("");
      } else {
        double wk = w ? (double)w[tk] : 1.0;
        l = -wk * ((double)xc[(ptrdiff_t)tk * d] - lse);
        wsum += wk;
      }
      if (p->reduction == 0) y[(ptrdiff_t)i * d + j] = (float)l;
      else sum += l;
    }
  if (p->reduction == 1) y[0] = (float)sum;
  else if (p->reduction == 2) y[0] = (float)(sum / wsum);
}

RT_EXPORT("rt_loss_f32") void rt_loss_f32(const RtLoss *p) { rt_loss_f32__scalar(p); }
