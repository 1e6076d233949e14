/* loss.c — NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (opset 12+): infer and lower to one
 * rt_loss_f32 call (runtime/kernels/loss.c). Inputs: x [N, C, d1..dk] (log-probabilities for NLL, scores
 * for SCE), target [N, d1..dk] int32/int64, optional weight [C]; attributes reduction (none/sum/mean,
 * default mean) and ignore_index. SCE's optional second output is log_softmax(x) over C. */
#include "opcommon.h"

static int reduction_of(Graph *g, Node *n, int *out) {
  const char *r = ir_attr_str(n, "reduction", "mean");
  if (!strcmp(r, "none")) *out = 0;
  else if (!strcmp(r, "sum")) *out = 1;
  else if (!strcmp(r, "mean")) *out = 2;
  else return ir_errorf(g, n, "reduction '%s' is not one of none, sum, mean", r);
  return 0;
}

int op_loss_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *t = n->in[1], *w = n->nin > 2 ? n->in[2] : NULL;
  int red;
  if (oc_need_float(g, n, 0) || reduction_of(g, n, &red)) return -1;
  if (x->rank < 2) return ir_errorf(g, n, "input 0 has rank %d, expected [N, C, ...]", x->rank);
  if (t->dt != DT_INT32 && t->dt != DT_INT64) return ir_errorf(g, n, "target has dtype %s, expected int32 or int64", ir_dtype_name(t->dt));
  if (t->rank != x->rank - 1) return ir_errorf(g, n, "target has rank %d, expected %d (input without its class axis)", t->rank, x->rank - 1);
  for (int i = 0; i < t->rank; i++) {
    Dim want = x->dims[i == 0 ? 0 : i + 1];
    if (!ir_dim_eq(t->dims[i], want)) return ir_errorf(g, n, "target dim %d does not match the input's", i);
  }
  if (w) {
    if (oc_need_float(g, n, 2)) return -1;
    if (w->rank != 1 || !ir_dim_eq(w->dims[0], x->dims[1])) return ir_errorf(g, n, "weight must be [C], one per class");
  }
  if (red == 0) oc_set_out(n->out[0], DT_FLOAT, t->rank, t->dims);
  else oc_set_out(n->out[0], DT_FLOAT, 0, NULL);
  if (n->nout > 1 && n->out[1]) {
    if (n->op != OP_SoftmaxCrossEntropyLoss) return ir_errorf(g, n, "only SoftmaxCrossEntropyLoss has a second output");
    oc_set_out(n->out[1], DT_FLOAT, x->rank, x->dims);
  }
  return 0;
}

int op_loss_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *t = n->in[1], *w = n->nin > 2 ? n->in[2] : NULL;
  int red;
  if (reduction_of(g, n, &red)) return -1;
  const Attr *ii = ir_attr(n, "ignore_index");
  int64_t ignore = ir_attr_int(n, "ignore_index", 0);
  if (ii && (ignore < INT32_MIN || ignore > INT32_MAX)) return ir_errorf(g, n, "ignore_index %lld is out of the int32 range", (long long)ignore);
  RtLoss p = {.x = cg_addr(cx, x), .t = cg_addr(cx, t), .w = cg_addr(cx, w), .y = cg_addr(cx, n->out[0]),
              .logp = n->nout > 1 ? cg_addr(cx, n->out[1]) : 0, .t64 = t->dt == DT_INT64,
              .softmax = n->op == OP_SoftmaxCrossEntropyLoss, .reduction = red, .has_ignore = ii != NULL,
              .ignore_index = (int32_t)ignore};
  CG_DIM(cx, p, n, x->dims[0]);
  CG_DIM(cx, p, c, x->dims[1]);
  CG_DIM(cx, p, d, oc_prod(g, x->dims, 2, x->rank));
  return cg_call(cx, K_loss_f32, &p, sizeof p, n);
}
