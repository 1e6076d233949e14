/* norm.c — BatchNormalization (inference form), Softmax, LogSoftmax, LayerNormalization, RMSNormalization,
 * InstanceNormalization, LRN: infer, lower.
 * BatchNormalization with constant statistics has no kernel of its own: passes/fold_bn.c folds it into the
 * preceding Conv or rewrites it into a per-channel Mul + Add before lowering; with run-time statistics, or
 * training_mode = 1 (the batch's statistics, and the running mean/var outputs), it runs rt_batchnorm_f32. */
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
  bool training = ir_attr_int(n, "training_mode", 0) != 0;
  if (!training)
    for (int k = 1; k < n->nout; k++)
      if (n->out[k] && (n->out[k]->nuses || n->out[k]->is_output))
        return ir_errorf(g, n, "output %d (running mean/var) is only defined with training_mode=1", k);
  if (training && n->opset < 14) return ir_errorf(g, n, "training_mode is an attribute from opset 14 on");
  if (training && n->nout > 3 && ((n->out[3] && (n->out[3]->nuses || n->out[3]->is_output)) || (n->nout > 4 && n->out[4] && (n->out[4]->nuses || n->out[4]->is_output))))
    return ir_errorf(g, n, "the saved mean/var outputs (opset 9-13 training) are not supported");
  oc_set_out(y, x->dt, x->rank, x->dims);
  for (int k = 1; k < n->nout && k < 3; k++)
    if (n->out[k]) oc_set_out(n->out[k], DT_FLOAT, 1, &x->dims[1]);
  return 0;
}

int op_bn_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0];
  bool training = ir_attr_int(n, "training_mode", 0) != 0;
  RtBatchNorm p = {.x = cg_addr(cx, x), .scale = cg_addr(cx, n->in[1]), .bias = cg_addr(cx, n->in[2]), .mean = cg_addr(cx, n->in[3]),
                   .var = cg_addr(cx, n->in[4]), .y = cg_addr(cx, n->out[0]), .training = training,
                   .rmean = training && n->nout > 1 ? cg_addr(cx, n->out[1]) : 0, .rvar = training && n->nout > 2 ? cg_addr(cx, n->out[2]) : 0,
                   .eps = ir_attr_float(n, "epsilon", 1e-5f), .momentum = ir_attr_float(n, "momentum", 0.9f)};
  CG_DIM(cx, p, n, x->dims[0]);
  CG_DIM(cx, p, c, x->dims[1]);
  CG_DIM(cx, p, hw, oc_prod(g, x->dims, 2, x->rank));
  return cg_call(cx, K_batchnorm_f32, &p, sizeof p, n);
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

/* ---- LRN: y = x / (bias + alpha/size * sum of x^2 over the channels [c - floor((size-1)/2), c + ceil((size-1)/2)])^beta.
 * The channel window sum is an average pool over each [C][H*W] plane with a size x 1 window (count_pad: the
 * missing channels count as zeros, the divisor stays size), so alpha/size * sum = alpha * that average:
 *   s = x * x (scratch); y = avgpool(s); y = y * alpha; y = y + bias; y = y ^ beta; y = x / y ---- */
static int lrn_size(Graph *g, Node *n, int64_t *size) {
  *size = ir_attr_int(n, "size", 0);
  if (*size < 1) return ir_errorf(g, n, "size must be a positive integer");
  return 0;
}

int op_lrn_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  int64_t size;
  if (oc_need_float(g, n, 0) || lrn_size(g, n, &size)) return -1;
  if (x->rank < 3) return ir_errorf(g, n, "input '%s' has rank %d, expected at least 3 (N, C, D1, ...)", x->name, x->rank);
  oc_set_out(n->out[0], x->dt, x->rank, x->dims);
  return 0;
}

int64_t op_lrn_scratch(Graph *g, const Node *n) {
  int64_t total = 4;
  for (int i = 0; i < n->in[0]->rank; i++) total *= ir_dim_max(g, n->in[0]->dims[i]);
  return total;
}

/* flat y = a op b over cnt elements; b a scalar when bscalar */
static int lrn_bin(LowerCtx *cx, Node *n, int op, uint32_t a, uint32_t b, int bscalar, uint32_t y, Dim cnt) {
  RtBinary p = {.a = a, .b = b, .y = y, .op = op, .rank = 1, .astride = {1}, .bstride = {bscalar ? 0 : 1}};
  CG_DIM(cx, p, dim[0], cnt);
  return cg_call(cx, K_binary_f32, &p, sizeof p, n);
}

int op_lrn_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0];
  int64_t size;
  if (lrn_size(g, n, &size) || oc_need_known(g, n, 0)) return -1;
  int64_t c = x->dims[1].c, hw = 1;
  for (int i = 2; i < x->rank; i++) hw *= x->dims[i].c;
  if (x->dims[0].c * c * hw > INT32_MAX) return ir_errorf(g, n, "tensor too large");
  Dim total = ir_dimc(x->dims[0].c * c * hw);
  float k[3] = {ir_attr_float(n, "alpha", 1e-4f), ir_attr_float(n, "bias", 1.0f), ir_attr_float(n, "beta", 0.75f)};
  uint32_t s = cg_scratch(cx, n), xa = cg_addr(cx, x), ya = cg_addr(cx, n->out[0]), ka = cg_data(cx, k, sizeof k);
  if (lrn_bin(cx, n, RT_BIN_MUL, xa, xa, 0, s, total)) return -1;
  RtPool2d p = {.x = s, .y = ya, .planes = (int32_t)x->dims[0].c, .h = (int32_t)c, .w = (int32_t)hw, .oh = (int32_t)c,
                .ow = (int32_t)hw, .kh = (int32_t)size, .kw = 1, .sh = 1, .sw = 1, .pt = (int32_t)((size - 1) / 2), .pl = 0,
                .dh = 1, .dw = 1, .kind = 1, .count_pad = 1};
  return cg_call(cx, K_pool2d_f32, &p, sizeof p, n) || lrn_bin(cx, n, RT_BIN_MUL, ya, ka, 1, ya, total) ||
         lrn_bin(cx, n, RT_BIN_ADD, ya, ka + 4, 1, ya, total) || lrn_bin(cx, n, RT_BIN_POW, ya, ka + 8, 1, ya, total) ||
         lrn_bin(cx, n, RT_BIN_DIV, xa, ya, 0, ya, total) ? -1 : 0;
}
