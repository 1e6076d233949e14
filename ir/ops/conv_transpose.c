/* conv_transpose.c — ConvTranspose (1-D and 2-D, groups, dilations, pads, output_padding, output_shape,
 * auto_pad): infer, lower. Output geometry follows the ONNX operator spec:
 *   out = stride*(in-1) + output_padding + (k-1)*dilation + 1 - pad_begin - pad_end
 * and, when output_shape is given (or auto_pad is SAME_*: out = in*stride), the pads come from
 *   total = stride*(in-1) + output_padding + (k-1)*dilation + 1 - out,
 *   SAME_UPPER: begin = floor(total/2), otherwise begin = total - floor(total/2). */
#include <stdint.h>
#include "opcommon.h"

typedef struct {
  int sp;
  int64_t in[2], k[2], s[2], d[2], pb[2], out[2];   /* in/out: at the bounds of run-time dims */
  Dim din[2], dout[2];
} TWindow;

static int64_t floor_half(int64_t t) { return t >= 0 ? t / 2 : -((-t + 1) / 2); }

static int convt_window(Graph *g, Node *n, TWindow *w) {
  const Value *x = n->in[0], *wt = n->in[1];
  memset(w, 0, sizeof *w);
  if (x->rank != 3 && x->rank != 4)
    return ir_errorf(g, n, "input '%s' has rank %d, expected 3 or 4 (1-D or 2-D spatial)", x->name, x->rank);
  if (wt->rank != x->rank) return ir_errorf(g, n, "weight '%s' has rank %d, expected %d", wt->name, wt->rank, x->rank);
  int sp = w->sp = x->rank - 2;
  const int64_t *ks = NULL, *st = NULL, *dl = NULL, *pd = NULL, *op = NULL, *os = NULL;
  int nks = ir_attr_ints(n, "kernel_shape", &ks), nst = ir_attr_ints(n, "strides", &st), ndl = ir_attr_ints(n, "dilations", &dl);
  int npd = ir_attr_ints(n, "pads", &pd), nop = ir_attr_ints(n, "output_padding", &op), nos = ir_attr_ints(n, "output_shape", &os);
  if ((nks >= 0 && nks != sp) || (nst >= 0 && nst != sp) || (ndl >= 0 && ndl != sp) || (npd >= 0 && npd != 2 * sp) ||
      (nop >= 0 && nop != sp) || (nos >= 0 && nos != sp && nos != sp + 2))
    return ir_errorf(g, n, "kernel_shape/strides/dilations/pads/output_padding/output_shape have the wrong number of entries for %d spatial dims", sp);
  const char *ap = ir_attr_str(n, "auto_pad", "NOTSET");
  bool same = !strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER"), upper = !strcmp(ap, "SAME_UPPER");
  if (!same && strcmp(ap, "NOTSET") && strcmp(ap, "VALID"))
    return ir_errorf(g, n, "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", ap);
  for (int i = 0; i < sp; i++) {
    if (!ir_dim_known(wt->dims[2 + i])) return oc_need_known(g, n, 1);
    w->din[i] = x->dims[2 + i];
    w->in[i] = ir_dim_max(g, x->dims[2 + i]);
    w->k[i] = wt->dims[2 + i].c;
    if (nks > 0 && ks[i] != w->k[i]) return ir_errorf(g, n, "kernel_shape does not match the weight's shape");
    w->s[i] = nst > 0 ? st[i] : 1;
    w->d[i] = ndl > 0 ? dl[i] : 1;
    int64_t opad = nop > 0 ? op[i] : 0, pe;
    w->pb[i] = npd > 0 ? pd[i] : 0;
    pe = npd > 0 ? pd[i + sp] : 0;
    if (w->k[i] < 1 || w->s[i] < 1 || w->d[i] < 1 || w->pb[i] < 0 || pe < 0 || opad < 0)
      return ir_errorf(g, n, "kernel_shape, strides and dilations must be positive, pads and output_padding non-negative");
    if (w->k[i] > INT32_MAX || w->s[i] > INT32_MAX || w->d[i] > INT32_MAX || w->pb[i] > INT32_MAX || pe > INT32_MAX || opad > INT32_MAX)
      return ir_errorf(g, n, "kernel_shape, strides, dilations, pads and output_padding must be below 2^31");
    int64_t tail = opad + (w->k[i] - 1) * w->d[i] + 1 - w->s[i];   /* full = s * in + tail */
    if (!ir_dim_known(w->din[i])) {   /* a run-time input size: the output size is linear in it */
      if (nos > 0) return ir_errorf(g, n, "output_shape over a run-time input size is not supported (bind the dims with --dim)");
      Dim sin = ir_dim_mul(g, w->din[i], ir_dimc(w->s[i]));
      if (same) {
        w->dout[i] = sin;
        w->pb[i] = upper ? floor_half(tail) : tail - floor_half(tail);
      } else {
        if (!strcmp(ap, "VALID")) w->pb[i] = pe = 0;
        w->dout[i] = ir_dim_floordiv(g, ir_dim_add(g, sin, ir_dimc(tail - w->pb[i] - pe)), 1);   /* checked >= 0 */
      }
      w->out[i] = ir_dim_max(g, w->dout[i]);
      if (w->out[i] < 1) return ir_errorf(g, n, "the output would have %lld elements along spatial axis %d", (long long)w->out[i], i);
      continue;
    }
    int64_t full, sin;
    if (!ir_mul_ok(w->s[i], w->in[i] - 1, &full) || !ir_add_ok(full, opad + (w->k[i] - 1) * w->d[i] + 1, &full) ||
        !ir_mul_ok(w->in[i], w->s[i], &sin))
      return ir_errorf(g, n, "the output size along spatial axis %d overflows (input %lld, stride %lld)", i, (long long)w->in[i], (long long)w->s[i]);
    if (nos > 0 || same) {
      w->out[i] = nos > 0 ? os[nos - sp + i] : sin;
      if (w->out[i] < 1 || w->out[i] > INT32_MAX) return ir_errorf(g, n, "output size %lld must be between 1 and 2^31 - 1", (long long)w->out[i]);
      int64_t total = full - w->out[i];
      w->pb[i] = upper ? floor_half(total) : total - floor_half(total);
    } else if (!strcmp(ap, "VALID")) {
      w->pb[i] = 0;
      w->out[i] = full;
    } else
      w->out[i] = full - w->pb[i] - pe;
    if (w->out[i] < 1) return ir_errorf(g, n, "the output would have %lld elements along spatial axis %d", (long long)w->out[i], i);
    w->dout[i] = ir_dimc(w->out[i]);
  }
  return 0;
}

int op_convt_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *w = n->in[1], *b = n->nin > 2 ? n->in[2] : NULL, *y = n->out[0];
  if (oc_need_float(g, n, 0) || oc_need_float(g, n, 1)) return -1;
  TWindow win;
  if (convt_window(g, n, &win)) return -1;
  int64_t group = ir_attr_int(n, "group", 1);
  if (!ir_dim_known(x->dims[1]) || !ir_dim_known(w->dims[0]) || !ir_dim_known(w->dims[1]))
    return ir_errorf(g, n, "channel counts must be concrete");
  int64_t c = x->dims[1].c, k = w->dims[1].c * group;
  if (group < 1 || c % group || w->dims[0].c != c)
    return ir_errorf(g, n, "input has %lld channels, weight [%lld, %lld, ...] with group %lld expects %lld", (long long)c,
                     (long long)w->dims[0].c, (long long)w->dims[1].c, (long long)group, (long long)w->dims[0].c);
  if (b && (b->rank != 1 || !ir_dim_known(b->dims[0]) || b->dims[0].c != k))
    return ir_errorf(g, n, "bias '%s' must have shape [%lld]", b->name, (long long)k);
  y->dt = DT_FLOAT;
  y->rank = x->rank;
  y->dims[0] = x->dims[0];
  y->dims[1] = ir_dimc(k);
  for (int i = 0; i < win.sp; i++) y->dims[2 + i] = win.dout[i];
  return 0;
}

int op_convt_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *w = n->in[1], *b = n->nin > 2 ? n->in[2] : NULL, *y = n->out[0];
  TWindow win;
  if (convt_window(g, n, &win)) return -1;
  bool two = win.sp == 2;
  int64_t group = ir_attr_int(n, "group", 1);
  RtConvTranspose p = {
    .x = cg_addr(cx, x), .w = cg_addr(cx, w), .bias = cg_addr(cx, b), .y = cg_addr(cx, y),
    .c = (int32_t)x->dims[1].c, .h = 1, .k = (int32_t)(w->dims[1].c * group), .oh = 1,
    .kh = two ? (int32_t)win.k[0] : 1, .kw = (int32_t)win.k[two], .sh = two ? (int32_t)win.s[0] : 1, .sw = (int32_t)win.s[two],
    .pt = two ? (int32_t)win.pb[0] : 0, .pl = (int32_t)win.pb[two], .dh = two ? (int32_t)win.d[0] : 1, .dw = (int32_t)win.d[two],
    .group = (int32_t)group,
  };
  CG_DIM(cx, p, n, x->dims[0]);
  if (two) { CG_DIM(cx, p, h, win.din[0]); CG_DIM(cx, p, oh, win.dout[0]); }
  CG_DIM(cx, p, w_, win.din[two]);
  CG_DIM(cx, p, ow, win.dout[two]);
  p.act = cg_node_act(n);
  return cg_call(cx, K_conv_transpose_f32, &p, sizeof p, n);
}
