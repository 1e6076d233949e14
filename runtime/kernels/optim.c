/* optim.c — optimizer steps of ai.onnx.preview.training (RtOptim, runtime/rt_abi.h): scalar, elementwise,
 * in float32 with the step's learning-rate factor in double (as the reference's numpy scalars). Each
 * element's inputs are read before its outputs are written. */
#include "rt_internal.h"

static double powi(double b, int64_t e) {
  double r = 1.0;
  for (; e > 0; e >>= 1, b *= b)
    if (e & 1) r *= b;
  return r;
}

RT_EXPORT("rt_optim_f32") void rt_optim_f32(const RtOptim *p) {
  const float r = *RT_PTR(const float, p->r);
  const int64_t t = *RT_PTR(const int64_t, p->t);
  const float *x = RT_PTR(const float, p->x), *g = RT_PTR(const float, p->g), *s = RT_PTR(const float, p->s);
  const float *s2 = p->s2 ? RT_PTR(const float, p->s2) : 0;
  float *xo = RT_PTR(float, p->x_out), *so = p->s_out ? RT_PTR(float, p->s_out) : 0;
  float *s2o = p->s2_out ? RT_PTR(float, p->s2_out) : 0;
  float rate = r;
  if (p->kind == RT_OPT_ADAGRAD) rate = (float)((double)r / (1.0 + (double)t * (double)p->decay));
  if (p->kind == RT_OPT_ADAM && t > 0)
    rate = (float)((double)r * __builtin_sqrt(1.0 - powi((double)p->beta, t)) / (1.0 - powi((double)p->alpha, t)));
  const float beta_adj = t > 0 ? p->beta : 1.0f;
  for (int32_t i = 0; i < p->n; i++) {
    const float gr = p->norm * x[i] + g[i];
    float xn, sn, s2n = 0.0f;
    switch (p->kind) {
    case RT_OPT_ADAGRAD:
      sn = s[i] + gr * gr;
      xn = x[i] - rate * gr / (__builtin_sqrtf(sn) + p->epsilon);
      break;
    case RT_OPT_ADAM:
      sn = p->alpha * s[i] + (1.0f - p->alpha) * gr;
      s2n = p->beta * s2[i] + (1.0f - p->beta) * (gr * gr);
      xn = (1.0f - p->norm_post) * (x[i] - rate * (sn / (__builtin_sqrtf(s2n) + p->epsilon)));
      break;
    default:   /* momentum, nesterov */
      sn = p->alpha * s[i] + beta_adj * gr;
      xn = x[i] - r * (p->kind == RT_OPT_NESTEROV ? gr + p->alpha * sn : sn);
      break;
    }
    xo[i] = xn;
    if (so) so[i] = sn;
    if (s2o) s2o[i] = s2n;
  }
}
