/* qlinear.c — integer MatMul and Conv over int8/uint8: MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv;
 * and com.microsoft QLinearAdd (at the end).
 * One kernel per family (runtime/kernels/qgemm.c: rt_matmul_i8, rt_conv2d_i8); the QLinear ops set the kernel's
 * requantize flag. Activations (A, X) and the outputs are per tensor; B's / W's zero point and scale may have
 * one entry per output column / channel. Zero points and scales may come at run time. */
#include "opcommon.h"

/* input slots of each op: [a, a_scale, a_zp, b, b_scale, b_zp, y_scale, y_zp, bias, y_mul, y_add]; -1 = the op has
 * none. ConvIntegerScaled and MatMulIntegerScaled (internal, passes/fuse_qdyn.c) are ConvInteger / MatMulInteger
 * with their float rescale fused: y float32 = act(float(acc) * y_mul + y_add), y_mul one entry or one per output
 * channel / column, y_add one per channel / column (optional). */
static const int *q_slots(const Node *n) {
  static const int mmi[11] = {0, -1, 2, 1, -1, 3, -1, -1, -1, -1, -1};
  static const int qlm[11] = {0, 1, 2, 3, 4, 5, 6, 7, -1, -1, -1};
  static const int qlc[11] = {0, 1, 2, 3, 4, 5, 6, 7, 8, -1, -1};
  static const int cis[11] = {0, -1, 2, 1, -1, 3, -1, -1, -1, 4, 5};
  return n->op == OP_QLinearMatMul ? qlm : n->op == OP_QLinearConv ? qlc
       : n->op == OP_ConvIntegerScaled || n->op == OP_MatMulIntegerScaled ? cis : mmi;
}
enum { QA, QAS, QAZ, QB, QBS, QBZ, QYS, QYZ, QBIAS, QYM, QYA };
static Value *q_in(const Node *n, int role) {
  int k = q_slots(n)[role];
  return k >= 0 && k < n->nin ? n->in[k] : NULL;
}
static bool q_is_conv(const Node *n) { return n->op == OP_ConvInteger || n->op == OP_QLinearConv || n->op == OP_ConvIntegerScaled; }
static bool q_requant(const Node *n) { return n->op == OP_QLinearMatMul || n->op == OP_QLinearConv; }
static bool q_8bit(DType t) { return t == DT_UINT8 || t == DT_INT8; }

/* a per-tensor operand: a scalar or one element (a rank-1 [1]); *vec: else one entry per `cnt` */
static int q_count(Graph *g, Node *n, const Value *v, const char *what, Dim cnt, bool allow_vec, bool *vec) {
  *vec = false;
  if (v->rank == 0 || (v->rank == 1 && oc_is1(v->dims[0]))) return 0;
  if (allow_vec && v->rank == 1 && ir_dim_eq(v->dims[0], cnt)) { *vec = true; return 0; }
  return ir_errorf(g, n, "%s '%s' must be a scalar%s", what, v->name,
                   allow_vec ? " or have one entry per output column/channel" : " (only per-tensor quantization of this operand)");
}

/* checks the zero points and scales; *flags gets the kernel's RT_Q_* bits. cnt: B's columns / W's channels */
static int q_check(Graph *g, Node *n, Dim cnt, int32_t *flags) {
  Value *a = q_in(n, QA), *b = q_in(n, QB);
  const char *an = q_is_conv(n) ? "x" : "a", *bn = q_is_conv(n) ? "w" : "b";
  if (!a || !b || (q_requant(n) && (!q_in(n, QAS) || !q_in(n, QBS) || !q_in(n, QYS))))
    return ir_errorf(g, n, "a required input is missing");
  if (!q_8bit(a->dt)) return ir_errorf(g, n, "input '%s' (%s) has dtype %s, expected uint8 or int8", a->name, an, ir_dtype_name(a->dt));
  if (!q_8bit(b->dt)) return ir_errorf(g, n, "input '%s' (%s) has dtype %s, expected uint8 or int8", b->name, bn, ir_dtype_name(b->dt));
  *flags = (a->dt == DT_INT8 ? RT_Q_A_S8 : 0) | (b->dt == DT_INT8 ? RT_Q_B_S8 : 0) | (q_requant(n) ? RT_Q_REQUANT : 0);
  Value *az = q_in(n, QAZ), *bz = q_in(n, QBZ), *yz = q_in(n, QYZ);
  bool vec;
  if (az) {
    if (az->dt != a->dt) return ir_errorf(g, n, "%s's zero point has dtype %s, %s has %s", an, ir_dtype_name(az->dt), an, ir_dtype_name(a->dt));
    if (q_count(g, n, az, "zero point", cnt, false, &vec)) return -1;
  }
  if (bz) {
    if (bz->dt != b->dt) return ir_errorf(g, n, "%s's zero point has dtype %s, %s has %s", bn, ir_dtype_name(bz->dt), bn, ir_dtype_name(b->dt));
    if (q_count(g, n, bz, "zero point", cnt, true, &vec)) return -1;
    if (vec) *flags |= RT_Q_BZP_VEC;
  }
  if (n->op == OP_ConvIntegerScaled || n->op == OP_MatMulIntegerScaled) {
    Value *ym = q_in(n, QYM), *ya = q_in(n, QYA);
    if (!ym || ym->dt != DT_FLOAT || (ya && ya->dt != DT_FLOAT)) return ir_errorf(g, n, "internal: the float rescale must be float32");
    if (!ir_shape_known(ym) || (ir_numel(ym) != 1 && !(ir_dim_known(cnt) && ir_numel(ym) == cnt.c)) ||
        (ya && (!ir_shape_known(ya) || !ir_dim_known(cnt) || ir_numel(ya) != cnt.c)))
      return ir_errorf(g, n, "internal: the float rescale needs one multiplier or one per channel, and one addend per channel");
    *flags |= RT_Q_FLOAT_OUT | (ir_numel(ym) > 1 ? RT_Q_YMUL_VEC : 0);
  }
  if (!q_requant(n)) return 0;
  const int roles[3] = {QAS, QBS, QYS};
  for (int i = 0; i < 3; i++) {
    Value *s = q_in(n, roles[i]);
    if (s->dt != DT_FLOAT) return ir_errorf(g, n, "scale '%s' has dtype %s, expected float32", s->name, ir_dtype_name(s->dt));
    if (q_count(g, n, s, "scale", cnt, roles[i] == QBS, &vec)) return -1;
    if (vec) *flags |= RT_Q_BSCALE_VEC;
  }
  if (yz) {
    if (!q_8bit(yz->dt)) return ir_errorf(g, n, "y's zero point has dtype %s, expected uint8 or int8", ir_dtype_name(yz->dt));
    if (q_count(g, n, yz, "zero point", cnt, false, &vec)) return -1;
    if (yz->dt == DT_INT8) *flags |= RT_Q_Y_S8;
  } else if (a->dt == DT_INT8) {
    *flags |= RT_Q_Y_S8;    /* no y_zero_point (an empty name): y has a's / x's type */
  }
  Value *bias = q_in(n, QBIAS);
  if (bias && (bias->dt != DT_INT32 || bias->rank != 1 || !ir_dim_eq(bias->dims[0], cnt)))
    return ir_errorf(g, n, "bias '%s' must be int32 with one entry per output channel", bias->name);
  return 0;
}

static DType q_ydt(int32_t flags) {
  if (flags & RT_Q_FLOAT_OUT) return DT_FLOAT;
  return !(flags & RT_Q_REQUANT) ? DT_INT32 : (flags & RT_Q_Y_S8) ? DT_INT8 : DT_UINT8;
}

/* ---- MatMulInteger, QLinearMatMul: numpy matmul shapes (as MatMul) ---- */
static Dim mm_cols(const Value *b) { return b->rank >= 2 ? b->dims[b->rank - 1] : ir_dimc(1); }

int op_qmatmul_infer(Graph *g, Node *n) {
  Value *a = q_in(n, QA), *b = q_in(n, QB), *y = n->out[0];
  if (!a || !b) return ir_errorf(g, n, "a required input is missing");
  if (a->rank < 1 || b->rank < 1) return ir_errorf(g, n, "inputs must have rank >= 1");
  int32_t flags;
  if (q_check(g, n, mm_cols(b), &flags)) return -1;
  if ((flags & RT_Q_BZP_VEC || flags & RT_Q_BSCALE_VEC) && b->rank != 2)
    return ir_errorf(g, n, "per-column zero points or scales need a 2-D b (b has rank %d)", b->rank);
  Dim ka = a->dims[a->rank - 1], kb = b->dims[b->rank >= 2 ? b->rank - 2 : 0];
  if (!ir_dim_eq(ka, kb)) return ir_errorf(g, n, "inner dimensions of A and B differ");
  Value ba = {.rank = a->rank > 2 ? a->rank - 2 : 0}, bb = {.rank = b->rank > 2 ? b->rank - 2 : 0}, bo = {0};
  memcpy(ba.dims, a->dims, sizeof(Dim) * (size_t)ba.rank);
  memcpy(bb.dims, b->dims, sizeof(Dim) * (size_t)bb.rank);
  if (oc_broadcast(g, n, &ba, &bb, &bo)) return -1;
  y->dt = q_ydt(flags);
  y->rank = bo.rank;
  memcpy(y->dims, bo.dims, sizeof(Dim) * (size_t)bo.rank);
  if (a->rank >= 2) y->dims[y->rank++] = a->dims[a->rank - 2];
  if (b->rank >= 2) y->dims[y->rank++] = b->dims[b->rank - 1];
  return 0;
}

int64_t op_qmatmul_scratch(Graph *g, const Node *n) {
  const Value *a = q_in(n, QA);
  int64_t m = a->rank >= 2 ? ir_dim_max(g, a->dims[a->rank - 2]) : 1, k = ir_dim_max(g, a->dims[a->rank - 1]);
  return rt_q_matmul_scratch((int32_t)m, (int32_t)k);
}

int op_qmatmul_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *a = q_in(n, QA), *b = q_in(n, QB), *y = n->out[0];
  int32_t flags;
  if (q_check(g, n, mm_cols(b), &flags)) return -1;
  if (a->cap > 0 || b->cap > 0) return ir_errorf(g, n, "internal: an operand is a resident cache");
  Dim m = a->rank >= 2 ? a->dims[a->rank - 2] : ir_dimc(1), k = a->dims[a->rank - 1];
  int nb = y->rank - (a->rank >= 2) - (b->rank >= 2);
  RtMatMulI8 p = {.a = cg_addr(cx, a), .b = cg_addr(cx, b), .y = cg_addr(cx, y), .a_zp = cg_addr(cx, q_in(n, QAZ)),
                  .b_zp = cg_addr(cx, q_in(n, QBZ)), .a_scale = cg_addr(cx, q_in(n, QAS)), .b_scale = cg_addr(cx, q_in(n, QBS)),
                  .y_scale = cg_addr(cx, q_in(n, QYS)), .y_zp = cg_addr(cx, q_in(n, QYZ)), .scratch = cg_scratch(cx, n),
                  .flags = flags, .y_mul = cg_addr(cx, q_in(n, QYM)), .y_add = cg_addr(cx, q_in(n, QYA)), .act = cg_node_act(n)};
  CG_DIM(cx, p, m, m);
  CG_DIM(cx, p, n, mm_cols(b));
  CG_DIM(cx, p, k, k);
  Dim bdim[IR_MAX_RANK], st[2][IR_MAX_RANK];
  int k2 = oc_batch_dims(g, y, nb, (const Value *[]){a, b}, 2, bdim, st);
  if (k2 > 4) return ir_errorf(g, n, "more than 4 broadcast batch dimensions");
  p.nb = k2;
  for (int i = 0; i < k2; i++) { CG_DIM(cx, p, bdim[i], bdim[i]); CG_DIM(cx, p, astride[i], st[0][i]); CG_DIM(cx, p, bstride[i], st[1][i]); }
  return cg_call(cx, K_matmul_i8, &p, sizeof p, n);
}

/* ---- ConvInteger, QLinearConv: 1-D or 2-D NCHW, geometry as Conv (group, pads, strides, dilations, auto_pad) ---- */
static int qconv_window(Graph *g, Node *n, Window *win) {
  Value *x = q_in(n, QA), *w = q_in(n, QB);
  if (!x || !w) return ir_errorf(g, n, "a required input is missing");
  if (w->rank != x->rank) return ir_errorf(g, n, "weight '%s' has rank %d, expected %d", w->name, w->rank, x->rank);
  if (x->rank != 3 && x->rank != 4) return ir_errorf(g, n, "input '%s' has rank %d, expected 3 or 4 (1-D or 2-D conv)", x->name, x->rank);
  int64_t ks[IR_MAX_RANK];   /* any rank: oc_window rejects more than 2 spatial dims */
  for (int i = 2; i < x->rank; i++)   /* the integer kernels take compile-time sizes */
    if (!ir_dim_known(x->dims[i])) return oc_need_known(g, n, q_slots(n)[QA]);
  for (int i = 0; i < w->rank - 2; i++) {
    if (!ir_dim_known(w->dims[2 + i])) return oc_need_known(g, n, q_slots(n)[QB]);
    ks[i] = w->dims[2 + i].c;
  }
  const int64_t *attr_ks;
  int nks = ir_attr_ints(n, "kernel_shape", &attr_ks);
  for (int i = 0; i < nks && i < w->rank - 2; i++)
    if (attr_ks[i] != ks[i]) return ir_errorf(g, n, "kernel_shape does not match the weight's shape");
  return oc_window(g, n, x, ks, 2, win);
}

int op_qconv_infer(Graph *g, Node *n) {
  Window win;
  if (qconv_window(g, n, &win)) return -1;
  Value *x = q_in(n, QA), *w = q_in(n, QB), *y = n->out[0];
  if (!ir_dim_known(x->dims[1]) || !ir_dim_known(w->dims[0]) || !ir_dim_known(w->dims[1]))
    return ir_errorf(g, n, "channel counts must be concrete");
  int64_t group = ir_attr_int(n, "group", 1), c = x->dims[1].c, k = w->dims[0].c;
  if (group < 1 || c % group || k % group || w->dims[1].c * group != c)
    return ir_errorf(g, n, "input has %lld channels, weight expects %lld x group %lld", (long long)c, (long long)w->dims[1].c, (long long)group);
  int32_t flags;
  if (q_check(g, n, ir_dimc(k), &flags)) return -1;
  y->dt = q_ydt(flags);
  y->rank = x->rank;
  y->dims[0] = x->dims[0];
  y->dims[1] = ir_dimc(k);
  for (int i = 0; i < win.sp; i++) y->dims[2 + i] = ir_dimc(win.out[i]);
  return 0;
}

int op_weight_slot(const Node *n) {
  return n->op == OP_QLinearConv || n->op == OP_QLinearMatMul ? q_slots(n)[QB] : 1;
}

int64_t op_qconv_scratch(Graph *g, const Node *n) {
  const Value *w = q_in(n, QB);
  int32_t kh = w->rank == 4 ? (int32_t)w->dims[2].c : 1, kw = (int32_t)w->dims[w->rank - 1].c;
  int32_t group = (int32_t)ir_attr_int(n, "group", 1), c = (int32_t)w->dims[1].c * group, k = (int32_t)w->dims[0].c;
  Window win;
  if (qconv_window(g, (Node *)n, &win)) return -1;
  if (w->rank != 4) return rt_q_conv_scratch(c, k, kh, kw, group, (int32_t)win.out[0], n->wfmt);
  return rt_q_conv2d_scratch(c, k, (int32_t)win.in[0], kh, kw, (int32_t)win.s[0], (int32_t)win.s[1], (int32_t)win.d[0],
                             (int32_t)win.d[1], group, (int32_t)win.out[0], (int32_t)win.out[1], n->wfmt);
}

/* Prepacked weights pay for themselves whenever w is constant: the widening (and Winograd's transform) leaves the
 * call. Depthwise convs keep w (their kernel widens one input plane, not the weights). Winograd is taken where the
 * kernel would take it without prepacking, and with the transform gone also down to 16 tiles. */
int op_qconv_prepack(Graph *g, const Node *n, Value **wp, Value **wzp) {
  if (!q_is_conv(n)) return 0;
  Value *w = *wp = q_in(n, QB), *wz = *wzp = q_in(n, QBZ);
  if (!w || w->kind != VK_CONST || !w->data || !q_8bit(w->dt) || !ir_shape_known(w) || (wz && (wz->kind != VK_CONST || !wz->data)))
    return 0;
  Window win;
  if (qconv_window(g, (Node *)n, &win)) return -1;
  int32_t group = (int32_t)ir_attr_int(n, "group", 1), k = (int32_t)w->dims[0].c, c = (int32_t)w->dims[1].c * group;
  bool two = win.sp == 2;
  int32_t h = two ? (int32_t)win.in[0] : 1, oh = two ? (int32_t)win.out[0] : 1, ow = (int32_t)win.out[two ? 1 : 0];
  int32_t kh = two ? (int32_t)win.k[0] : 1, kw = (int32_t)win.k[two ? 1 : 0], sh = two ? (int32_t)win.s[0] : 1;
  int32_t sw = (int32_t)win.s[two ? 1 : 0], dh = two ? (int32_t)win.d[0] : 1, dw = (int32_t)win.d[two ? 1 : 0];
  if (rt_q_conv_dw(c, k, group, h, sw)) return 0;
  if (!g->no_winograd && rt_q_conv_wino_shape(c, k, h, kh, kw, sh, sw, dh, dw, group) &&
      ((oh + 1) / 2) * ((ow + 1) / 2) >= RT_Q_WINO_PREPACKED_TILES)
    return RT_WF_I16_WINO;
  return RT_WF_I16_ROWS;
}

/* a fused Relu/Clip (passes/fuse_qdq.c) as the range of y's integers: q(clip(v, a, b)) = clamp(q(v), q(a), q(b)) */
static int32_t q_of(float v, float s, int32_t z, int32_t lo, int32_t hi) {
  float f = v / s;
  if (!(f >= (float)(lo - z))) return lo;   /* also -inf */
  if (f > (float)(hi - z)) return hi;
  return (int32_t)__builtin_rintf(f) + z;
}
static int qconv_clamp(Graph *g, Node *n, RtConv2dI8 *p) {
  Value *ys = q_in(n, QYS), *yz = q_in(n, QYZ);
  if (!ys || !ys->data || (yz && !yz->data) || (n->act != RT_ACT_RELU && n->act != RT_ACT_CLIP))
    return ir_errorf(g, n, "internal: a fused activation on an integer conv needs constant y scale and zero point");
  bool s8 = p->flags & RT_Q_Y_S8;
  int32_t lo = s8 ? -128 : 0, hi = s8 ? 127 : 255, z = yz ? (int32_t)oc_geti(yz, 0) : 0;
  float s = (float)oc_getf(ys, 0);
  p->y_lo = q_of(n->act == RT_ACT_RELU ? 0.0f : n->act_a, s, z, lo, hi);
  p->y_hi = n->act == RT_ACT_RELU ? hi : q_of(n->act_b, s, z, lo, hi);
  p->flags |= RT_Q_CLAMP;
  return 0;
}

int op_qconv_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Window win;
  if (qconv_window(g, n, &win)) return -1;
  Value *x = q_in(n, QA), *w = q_in(n, QB), *y = n->out[0];
  if (oc_need_known(g, n, 0)) return -1;
  int32_t flags;
  if (q_check(g, n, w->dims[0], &flags)) return -1;
  bool two = win.sp == 2;
  if (n->wpack && (n->wfmt != RT_WF_I16_ROWS && n->wfmt != RT_WF_I16_WINO))
    return ir_errorf(g, n, "internal: prepacked integer conv weights without their format");
  RtConv2dI8 p = {
    .x = cg_addr(cx, x), .w = n->wpack && w->offset < 0 ? 0 : cg_addr(cx, w), .bias = cg_addr(cx, q_in(n, QBIAS)), .y = cg_addr(cx, y),
    .x_zp = cg_addr(cx, q_in(n, QAZ)), .w_zp = cg_addr(cx, q_in(n, QBZ)), .x_scale = cg_addr(cx, q_in(n, QAS)),
    .w_scale = cg_addr(cx, q_in(n, QBS)), .y_scale = cg_addr(cx, q_in(n, QYS)), .y_zp = cg_addr(cx, q_in(n, QYZ)),
    .scratch = cg_scratch(cx, n),
    .n = (int32_t)x->dims[0].c, .c = (int32_t)x->dims[1].c, .h = two ? (int32_t)win.in[0] : 1,
    .w_ = (int32_t)win.in[two ? 1 : 0], .k = (int32_t)w->dims[0].c,
    .oh = two ? (int32_t)win.out[0] : 1, .ow = (int32_t)win.out[two ? 1 : 0],
    .kh = two ? (int32_t)win.k[0] : 1, .kw = (int32_t)win.k[two ? 1 : 0],
    .sh = two ? (int32_t)win.s[0] : 1, .sw = (int32_t)win.s[two ? 1 : 0],
    .pt = two ? (int32_t)win.pb[0] : 0, .pl = (int32_t)win.pb[two ? 1 : 0],
    .dh = two ? (int32_t)win.d[0] : 1, .dw = (int32_t)win.d[two ? 1 : 0],
    .group = (int32_t)ir_attr_int(n, "group", 1), .flags = flags,
    .wq = cg_addr(cx, n->wpack), .wfmt = n->wpack ? n->wfmt : 0,
    .y_mul = cg_addr(cx, q_in(n, QYM)), .y_add = cg_addr(cx, q_in(n, QYA)), .act = cg_node_act(n),
  };
  if (n->act && n->op != OP_ConvIntegerScaled && qconv_clamp(g, n, &p)) return -1;
  return cg_call(cx, K_conv2d_i8, &p, sizeof p, n);
}

/* ---- com.microsoft QLinearAdd(A, A_scale, A_zp, B, B_scale, B_zp, C_scale, C_zp?): same-shape A and B, per-tensor
 * scales and zero points (runtime/kernels/qadd.c) ---- */
static int qadd_check(Graph *g, Node *n, int32_t *flags) {
  Value *a = n->in[0], *b = n->in[3], *yz = n->nin > 7 ? n->in[7] : NULL;
  if (!a || !b || !n->in[1] || !n->in[4] || !n->in[6]) return ir_errorf(g, n, "a required input is missing");
  if (!q_8bit(a->dt) || !q_8bit(b->dt))
    return ir_errorf(g, n, "A and B must be uint8 or int8 (have %s and %s)", ir_dtype_name(a->dt), ir_dtype_name(b->dt));
  if (a->rank != b->rank) return ir_errorf(g, n, "A and B must have the same shape (broadcasting is not supported)");
  for (int i = 0; i < a->rank; i++)
    if (!ir_dim_eq(a->dims[i], b->dims[i])) return ir_errorf(g, n, "A and B must have the same shape (broadcasting is not supported)");
  const int sc[3] = {1, 4, 6}, zp[3] = {2, 5, 7};
  const Value *of[3] = {a, b, NULL};
  bool vec;
  for (int i = 0; i < 3; i++) {
    Value *s = n->in[sc[i]], *z = zp[i] < n->nin ? n->in[zp[i]] : NULL;
    if (s->dt != DT_FLOAT) return ir_errorf(g, n, "scale '%s' has dtype %s, expected float32", s->name, ir_dtype_name(s->dt));
    if (q_count(g, n, s, "scale", ir_dimc(1), false, &vec)) return -1;
    if (z && q_count(g, n, z, "zero point", ir_dimc(1), false, &vec)) return -1;
    if (z && of[i] && z->dt != of[i]->dt)
      return ir_errorf(g, n, "zero point '%s' has dtype %s, its tensor %s", z->name, ir_dtype_name(z->dt), ir_dtype_name(of[i]->dt));
  }
  DType yt = yz ? yz->dt : a->dt;
  if (!q_8bit(yt)) return ir_errorf(g, n, "C's zero point has dtype %s, expected uint8 or int8", ir_dtype_name(yt));
  *flags = (a->dt == DT_INT8 ? RT_Q_A_S8 : 0) | (b->dt == DT_INT8 ? RT_Q_B_S8 : 0) | (yt == DT_INT8 ? RT_Q_Y_S8 : 0);
  return 0;
}

int op_qadd_infer(Graph *g, Node *n) {
  int32_t flags;
  if (qadd_check(g, n, &flags)) return -1;
  oc_set_out(n->out[0], flags & RT_Q_Y_S8 ? DT_INT8 : DT_UINT8, n->in[0]->rank, n->in[0]->dims);
  return 0;
}

int op_qadd_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  int32_t flags;
  if (qadd_check(g, n, &flags)) return -1;
  Value *a = n->in[0];
  RtQAdd p = {.a = cg_addr(cx, a), .b = cg_addr(cx, n->in[3]), .y = cg_addr(cx, n->out[0]),
              .a_scale = cg_addr(cx, n->in[1]), .a_zp = cg_addr(cx, n->in[2]), .b_scale = cg_addr(cx, n->in[4]),
              .b_zp = cg_addr(cx, n->in[5]), .y_scale = cg_addr(cx, n->in[6]), .y_zp = cg_addr(cx, n->nin > 7 ? n->in[7] : NULL),
              .flags = flags};
  CG_DIM(cx, p, n, oc_prod(g, a->dims, 0, a->rank));
  return cg_call(cx, K_qadd, &p, sizeof p, n);
}
