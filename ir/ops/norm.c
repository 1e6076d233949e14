/* norm.c — BatchNormalization (inference form), Softmax, LogSoftmax, LayerNormalization, RMSNormalization,
 * InstanceNormalization: infer, lower.
 * BatchNormalization has no kernel of its own: passes/fold_bn.c folds it into the preceding
 * Conv or rewrites it into a per-channel Mul + Add before lowering. */
#include "opcommon.h"

int op_bn_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  if (oc_need_float(g, n, 0)) return -1;
  if (x->rank < 2) return ir_errorf(g, n, "input '%s' has rank %d, expected at least 2", x->name, x->rank);
  for (int k = 1; k < 5; k++) {
    Value *p = n->in[k];
    if (!p || p->dt != DT_FLOAT || p->rank != 1 || !ir_dim_eq(p->dims[0], x->dims[1]))
      return ir_errorf(g, n, "input %d must be a float32 vector of the channel count", k);
  }
  if (ir_attr_int(n, "training_mode", 0)) return ir_errorf(g, n, "training_mode=1 is not supported");
  oc_set_out(y, x->dt, x->rank, x->dims);
  return 0;
}

static int softmax_dims(Graph *g, Node *n, Dim *outer, Dim *len, Dim *inner) {
  Value *x = n->in[0];
  int axis;
  if (oc_axis(g, n, ir_attr_int(n, "axis", n->opset < 13 ? 1 : -1), x->rank, &axis)) return -1;
  *outer = oc_prod(g, x->dims, 0, axis);
  if (n->opset < 13) { *len = oc_prod(g, x->dims, axis, x->rank); *inner = ir_dimc(1); }  /* coerced to 2-D at axis */
  else { *len = x->dims[axis]; *inner = oc_prod(g, x->dims, axis + 1, x->rank); }
  return 0;
}

int op_softmax_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  if (oc_need_float(g, n, 0)) return -1;
  int axis;
  if (oc_axis(g, n, ir_attr_int(n, "axis", n->opset < 13 ? 1 : -1), x->rank, &axis)) return -1;
  oc_set_out(n->out[0], x->dt, x->rank, x->dims);
  return 0;
}

int op_softmax_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Dim outer, len, inner;
  if (softmax_dims(g, n, &outer, &len, &inner)) return -1;
  RtSoftmax p = {.x = cg_addr(cx, n->in[0]), .y = cg_addr(cx, n->out[0]),
                 .log = n->op == OP_LogSoftmax ? 1 : n->op == OP_Hardmax ? 2 : 0};
  CG_DIM(cx, p, outer, outer);
  CG_DIM(cx, p, n, len);
  CG_DIM(cx, p, inner, inner);
  return cg_call(cx, K_softmax_f32, &p, sizeof p, n);
}

/* ---- LayerNormalization (opset 17) and RMSNormalization (opset 23); also what passes/fuse_norm.c
 * turns the exporters' decomposed patterns into. Normalizes over the axes [axis, rank). ---- */
static int norm_axis(Graph *g, Node *n, int *axis) {
  return oc_axis(g, n, ir_attr_int(n, "axis", -1), n->in[0]->rank, axis);
}

int op_lnorm_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  int axis;
  if (oc_need_float(g, n, 0) || norm_axis(g, n, &axis)) return -1;
  for (int k = 1; k < n->nin; k++) {
    Value *p = n->in[k];
    if (!p) continue;
    if (p->dt != DT_FLOAT) return ir_errorf(g, n, "input %d must be float32", k);
    Dim want = oc_prod(g, x->dims, axis, x->rank), have = oc_prod(g, p->dims, 0, p->rank);
    if (!ir_dim_eq(want, have)) return ir_errorf(g, n, "input %d does not match the normalized shape", k);
  }
  oc_set_out(n->out[0], x->dt, x->rank, x->dims);
  for (int k = 1; k < n->nout; k++) {        /* Mean, InvStdDev: x's shape with the normalized axes set to 1 */
    Value *o = n->out[k];
    if (!o) continue;
    if (n->op == OP_RMSNormalization) return ir_errorf(g, n, "RMSNormalization has a single output");
    if (ir_attr_int(n, "stash_type", 1) != 1) return ir_errorf(g, n, "stash_type must be 1 (float32)");
    oc_set_out(o, DT_FLOAT, x->rank, x->dims);
    for (int i = axis; i < x->rank; i++) o->dims[i] = ir_dimc(1);
  }
  return 0;
}

int op_lnorm_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0];
  int axis;
  if (norm_axis(g, n, &axis)) return -1;
  RtNorm p = {.x = cg_addr(cx, x), .y = cg_addr(cx, n->out[0]), .scale = cg_addr(cx, n->nin > 1 ? n->in[1] : NULL),
              .bias = cg_addr(cx, n->nin > 2 ? n->in[2] : NULL), .rms = n->op == OP_RMSNormalization,
              .eps = ir_attr_float(n, "epsilon", 1e-5f), .mean = cg_addr(cx, n->nout > 1 ? n->out[1] : NULL),
              .inv_std = cg_addr(cx, n->nout > 2 ? n->out[2] : NULL)};
  CG_DIM(cx, p, rows, oc_prod(g, x->dims, 0, axis));
  CG_DIM(cx, p, n, oc_prod(g, x->dims, axis, x->rank));
  return cg_call(cx, K_norm_f32, &p, sizeof p, n);
}

/* ---- InstanceNormalization: y = scale[c] * (x - mean) / sqrt(var + epsilon) + B[c], statistics over the spatial
 * dims of each (n, c). The norm kernel normalizes the N*C rows of D1*...*Dk elements (no scale, no bias), then the
 * per-channel affine kernel applies scale and B in place. ---- */
int op_inorm_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  if (oc_need_float(g, n, 0)) return -1;
  if (x->rank < 3) return ir_errorf(g, n, "input '%s' has rank %d, expected at least 3 (N, C, D1, ...)", x->name, x->rank);
  for (int k = 1; k < 3; k++) {
    Value *p = n->in[k];
    if (!p || p->dt != DT_FLOAT || p->rank != 1 || !ir_dim_eq(p->dims[0], x->dims[1]))
      return ir_errorf(g, n, "input %d must be a float32 vector of the channel count", k);
  }
  oc_set_out(n->out[0], x->dt, x->rank, x->dims);
  return 0;
}

int op_inorm_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *y = n->out[0];
  Dim inner = oc_prod(g, x->dims, 2, x->rank);
  RtNorm p = {.x = cg_addr(cx, x), .y = cg_addr(cx, y), .eps = ir_attr_float(n, "epsilon", 1e-5f)};
  CG_DIM(cx, p, rows, oc_prod(g, x->dims, 0, 2));
  CG_DIM(cx, p, n, inner);
  if (cg_call(cx, K_norm_f32, &p, sizeof p, n)) return -1;
  RtChannelAffine a = {.x = cg_addr(cx, y), .y = cg_addr(cx, y), .scale = cg_addr(cx, n->in[1]), .shift = cg_addr(cx, n->in[2]),
                       .act = cg_node_act(n)};
  CG_DIM(cx, a, outer, x->dims[0]);
  CG_DIM(cx, a, c, x->dims[1]);
  CG_DIM(cx, a, inner, inner);
  return cg_call(cx, K_channel_affine_f32, &a, sizeof a, n);
}
