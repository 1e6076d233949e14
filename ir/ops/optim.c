/* optim.c — the optimizer steps of the ai.onnx.preview.training domain (Adagrad, Momentum, Adam): infer,
 * lower. Inputs R (float32 scalar), T (int64 scalar), then k tensors of each group (X..., G..., then V... and/or
 * H...); outputs X_new..., then the new states group by group. One rt_optim_f32 call per tensor. */
#include "opcommon.h"

/* state groups after X and G: Adagrad H; Momentum V; Adam V, H */
static int groups(const Node *n) { return n->op == OP_Adam ? 4 : 3; }

static int optim_count(Graph *g, Node *n, int *k) {
  int gr = groups(n);
  if ((n->nin - 2) % gr || n->nin - 2 < gr) return ir_errorf(g, n, "expects R, T and %d groups of equally many tensors (got %d inputs)", gr, n->nin);
  *k = (n->nin - 2) / gr;
  if (n->nout > (gr - 1) * *k) return ir_errorf(g, n, "has %d outputs, at most %d", n->nout, (gr - 1) * *k);
  return 0;
}

int op_optim_infer(Graph *g, Node *n) {
  int k;
  if (optim_count(g, n, &k)) return -1;
  for (int i = 0; i < n->nin; i++)
    if (!n->in[i]) return ir_errorf(g, n, "input %d is missing (an empty name)", i);
  const Value *r = n->in[0], *t = n->in[1];
  if (r->dt != DT_FLOAT || !ir_shape_known(r) || ir_numel(r) != 1) return ir_errorf(g, n, "R '%s' must be a float32 scalar", r->name);
  if (t->dt != DT_INT64 || !ir_shape_known(t) || ir_numel(t) != 1) return ir_errorf(g, n, "T '%s' must be an int64 scalar", t->name);
  if (n->op == OP_Momentum) {
    const char *m = ir_attr_str(n, "mode", "standard");
    if (strcmp(m, "standard") && strcmp(m, "nesterov")) return ir_errorf(g, n, "mode '%s' is not one of standard, nesterov", m);
  }
  for (int i = 2; i < n->nin; i++) {
    const Value *v = n->in[i], *x = n->in[2 + (i - 2) % k];
    if (oc_need_float(g, n, i)) return -1;
    if (v->rank != x->rank) return ir_errorf(g, n, "'%s' and '%s' have different shapes", v->name, x->name);
    for (int d = 0; d < v->rank; d++)
      if (!oc_same_dim(g, v->dims[d], x->dims[d])) return ir_errorf(g, n, "'%s' and '%s' have different shapes", v->name, x->name);
  }
  for (int o = 0; o < n->nout; o++)
    if (n->out[o]) oc_set_out(n->out[o], DT_FLOAT, n->in[2 + o % k]->rank, n->in[2 + o % k]->dims);
  return 0;
}

int op_optim_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  int k;
  if (optim_count(g, n, &k)) return -1;
  int kind = n->op == OP_Adagrad ? RT_OPT_ADAGRAD : n->op == OP_Adam ? RT_OPT_ADAM
           : !strcmp(ir_attr_str(n, "mode", "standard"), "nesterov") ? RT_OPT_NESTEROV : RT_OPT_MOMENTUM;
  bool adam = kind == RT_OPT_ADAM;
  for (int i = 0; i < k; i++) {
    Value *xo = i < n->nout ? n->out[i] : NULL, *so = k + i < n->nout ? n->out[k + i] : NULL;
    Value *s2o = adam && 2 * k + i < n->nout ? n->out[2 * k + i] : NULL;
    if (!xo) continue;   /* X_new absent: nothing this tensor's outputs need (the states follow from it) */
    RtOptim p = {
      .r = cg_addr(cx, n->in[0]), .t = cg_addr(cx, n->in[1]), .x = cg_addr(cx, n->in[2 + i]), .g = cg_addr(cx, n->in[2 + k + i]),
      .s = cg_addr(cx, n->in[2 + 2 * k + i]), .s2 = adam ? cg_addr(cx, n->in[2 + 3 * k + i]) : 0,
      .x_out = cg_addr(cx, xo), .s_out = cg_addr(cx, so), .s2_out = cg_addr(cx, s2o), .kind = kind,
      .norm = ir_attr_float(n, "norm_coefficient", 0.0f), .alpha = ir_attr_float(n, "alpha", adam ? 0.9f : 0.0f),
      .beta = ir_attr_float(n, "beta", adam ? 0.999f : 0.0f), .epsilon = ir_attr_float(n, "epsilon", 1e-6f),
      .decay = ir_attr_float(n, "decay_factor", 0.0f), .norm_post = ir_attr_float(n, "norm_coefficient_post", 0.0f),
    };
    CG_DIM(cx, p, n, oc_prod(g, n->in[2 + i]->dims, 0, n->in[2 + i]->rank));
    if (cg_call(cx, K_optim_f32, &p, sizeof p, n)) return -1;
  }
  return 0;
}
