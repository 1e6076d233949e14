/* quant.c — QuantizeLinear and DequantizeLinear (per-tensor or per-axis scale and zero point, uint8/int8), the
 * internal Requantize (their per-tensor composition), and DynamicQuantizeLinear (at the end). Per tensor (8-bit),
 * one pass each (runtime/kernels/quant.c: rt_quantize, rt_dequantize, the same float32 steps); per axis and int32 DequantizeLinear composed from the reduce, binary,
 * unary and cast kernels; scale and zero point may come at run time:
 *   Quantize:   s = round_half_even(x / scale)          (binary DIV with the ROUND act, into float scratch)
 *               s = clip(s + float(zp), lo, hi)         (binary ADD with the CLIP act; zp cast to float first)
 *               y = s as uint8/int8                     (cast: s is whole and in range, so exact)
 *   Dequantize: y = float(x); y = y - float(zp); y = y * scale   (x - zp is exact in float for 8-bit types)
 * The zero point as float lives in scratch after the float copy of x. */
#include "opcommon.h"

/* y's dims viewed as [outer, c, inner] with the scale/zero point along the middle one (c = 1 for a scalar) */
static int q_geom(Graph *g, Node *n, Dim *outer, Dim *c, Dim *inner) {
  Value *x = n->in[0], *s = n->in[1];
  if (s->rank == 0 || (s->rank == 1 && oc_is1(s->dims[0]))) {
    *outer = ir_dimc(1); *c = ir_dimc(1); *inner = oc_prod(g, x->dims, 0, x->rank);
    return 0;
  }
  if (s->rank != 1) return ir_errorf(g, n, "the scale has rank %d; only per-tensor and per-axis (1-D) scales are supported", s->rank);
  if (ir_attr(n, "block_size") && ir_attr_int(n, "block_size", 0)) return ir_errorf(g, n, "block_size is not supported");
  int axis;
  if (oc_axis(g, n, ir_attr_int(n, "axis", 1), x->rank, &axis)) return -1;
  if (!ir_dim_eq(s->dims[0], x->dims[axis])) return ir_errorf(g, n, "the scale does not have one entry per entry of axis %d", axis);
  *outer = oc_prod(g, x->dims, 0, axis); *c = x->dims[axis]; *inner = oc_prod(g, x->dims, axis + 1, x->rank);
  return 0;
}

int op_quant_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *s = n->in[1], *zp = n->nin > 2 ? n->in[2] : NULL;
  Dim outer, c, inner;
  if (s->dt != DT_FLOAT) return ir_errorf(g, n, "the scale has dtype %s, expected float32", ir_dtype_name(s->dt));
  if (zp && (zp->rank != s->rank || (s->rank == 1 && !ir_dim_eq(zp->dims[0], s->dims[0]))))
    return ir_errorf(g, n, "the zero point's shape differs from the scale's");
  if (q_geom(g, n, &outer, &c, &inner)) return -1;
  if (n->op == OP_QuantizeLinear) {
    if (x->dt != DT_FLOAT) return ir_errorf(g, n, "input '%s' has dtype %s, expected float32", x->name, ir_dtype_name(x->dt));
    if (ir_attr_int(n, "output_dtype", 0)) return ir_errorf(g, n, "output_dtype is not supported");
    DType t = zp ? zp->dt : DT_UINT8;
    if (t != DT_UINT8 && t != DT_INT8) return ir_errorf(g, n, "output dtype %s is not supported (uint8, int8)", ir_dtype_name(t));
    oc_set_out(n->out[0], t, x->rank, x->dims);
  } else {
    if (x->dt != DT_UINT8 && x->dt != DT_INT8 && x->dt != DT_INT32)
      return ir_errorf(g, n, "input '%s' has dtype %s, expected uint8, int8 or int32", x->name, ir_dtype_name(x->dt));
    if (zp && zp->dt != x->dt) return ir_errorf(g, n, "the zero point has dtype %s, the input %s", ir_dtype_name(zp->dt), ir_dtype_name(x->dt));
    oc_set_out(n->out[0], DT_FLOAT, x->rank, x->dims);
  }
  return 0;
}

static int64_t al16(int64_t b) { return (b + 15) & ~(int64_t)15; }

int64_t op_quant_scratch(Graph *g, const Node *n) {
  const Value *x = n->in[0], *s = n->in[1];
  bool per_tensor = s->rank == 0 || (s->rank == 1 && oc_is1(s->dims[0]));
  if (per_tensor && (n->op == OP_QuantizeLinear || x->dt != DT_INT32)) return 0;   /* rt_quantize / rt_dequantize */
  int64_t total = 1, c = s->rank == 1 ? ir_dim_max(g, s->dims[0]) : 1;
  for (int i = 0; i < x->rank; i++) total *= ir_dim_max(g, x->dims[i]);
  return (n->op == OP_QuantizeLinear ? al16(total * 4) : 0) + al16(c * 4);
}

static int q_cast(LowerCtx *cx, Node *n, uint32_t x, uint32_t y, Dim cnt, DType from, DType to) {
  RtCast p = {.x = x, .y = y, .from = from, .to = to};
  CG_DIM(cx, p, n, cnt);
  return cg_call(cx, K_cast, &p, sizeof p, n);
}

/* y = act(a op b) over [outer, c, inner], a and y dense, b along the middle dim */
static int q_bin(LowerCtx *cx, Node *n, int op, uint32_t a, uint32_t b, uint32_t y, const Dim *d, RtAct act) {
  Graph *g = cg_graph(cx);
  RtBinary p = {.a = a, .b = b, .y = y, .op = op, .rank = 3, .act = act, .bstride = {0, 1, 0}};
  for (int i = 0; i < 3; i++) CG_DIM(cx, p, dim[i], d[i]);
  CG_DIM(cx, p, astride[0], ir_dim_mul(g, d[1], d[2]));
  CG_DIM(cx, p, astride[1], d[2]);
  p.astride[2] = 1;
  if (oc_is1(d[1])) p.bstride[1] = 0;
  return cg_call(cx, K_binary_f32, &p, sizeof p, n);
}

int op_quant_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *s = n->in[1], *zp = n->nin > 2 ? n->in[2] : NULL, *y = n->out[0];
  Dim d[3];
  if (q_geom(g, n, &d[0], &d[1], &d[2])) return -1;
  Dim total = ir_dim_mul(g, ir_dim_mul(g, d[0], d[1]), d[2]);
  bool q = n->op == OP_QuantizeLinear;
  if (oc_is1(d[1]) && (q || x->dt != DT_INT32)) {   /* per tensor, 8-bit: one pass (runtime/kernels/quant.c) */
    RtQuant p = {.x = cg_addr(cx, x), .y = cg_addr(cx, y), .scale = cg_addr(cx, s), .zp = cg_addr(cx, zp),
                 .flags = q ? (y->dt == DT_INT8 ? RT_Q_Y_S8 : 0) : (x->dt == DT_INT8 ? RT_Q_A_S8 : 0)};
    CG_DIM(cx, p, n, total);
    return cg_call(cx, q ? K_quantize : K_dequantize, &p, sizeof p, n);
  }
  int64_t tot_max = 1;
  for (int i = 0; i < x->rank; i++) tot_max *= ir_dim_max(g, x->dims[i]);
  uint32_t sf = cg_scratch(cx, n), zf = sf + (uint32_t)(q ? al16(tot_max * 4) : 0);
  RtAct none = {RT_ACT_NONE, 0, 0};
  if (zp && q_cast(cx, n, cg_addr(cx, zp), zf, d[1], zp->dt, DT_FLOAT)) return -1;
  if (!q) {
    uint32_t ya = cg_addr(cx, y);
    if (q_cast(cx, n, cg_addr(cx, x), ya, total, x->dt, DT_FLOAT)) return -1;
    if (zp && q_bin(cx, n, RT_BIN_SUB, ya, zf, ya, d, none)) return -1;
    return q_bin(cx, n, RT_BIN_MUL, ya, cg_addr(cx, s), ya, d, none);
  }
  bool u8 = y->dt == DT_UINT8;
  RtAct rnd = {RT_ACT_ROUND, 0, 0}, clip = {RT_ACT_CLIP, u8 ? 0.0f : -128.0f, u8 ? 255.0f : 127.0f};
  if (q_bin(cx, n, RT_BIN_DIV, cg_addr(cx, x), cg_addr(cx, s), sf, d, rnd)) return -1;
  if (zp) {
    if (q_bin(cx, n, RT_BIN_ADD, sf, zf, sf, d, clip)) return -1;
  } else {
    RtUnary p = {.x = sf, .y = sf, .act = clip};
    CG_DIM(cx, p, n, total);
    if (cg_call(cx, K_unary_f32, &p, sizeof p, n)) return -1;
  }
  return q_cast(cx, n, sf, cg_addr(cx, y), total, DT_FLOAT, y->dt);
}

/* ---- Requantize(x, x_scale, x_zp?, y_scale, y_zp?) (internal; passes/fuse_qdq.c): QuantizeLinear(DequantizeLinear(x))
 * per tensor, 8-bit to 8-bit, in one table lookup per byte (runtime/kernels/quant.c rt_requantize) ---- */
int op_requant_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *xz = n->in[2], *yz = n->nin > 4 ? n->in[4] : NULL;
  if (x->dt != DT_UINT8 && x->dt != DT_INT8) return ir_errorf(g, n, "input '%s' has dtype %s, expected uint8 or int8", x->name, ir_dtype_name(x->dt));
  if ((xz && xz->dt != x->dt) || (yz && yz->dt != DT_UINT8 && yz->dt != DT_INT8))
    return ir_errorf(g, n, "internal: zero points of the wrong dtype");
  oc_set_out(n->out[0], yz ? yz->dt : DT_UINT8, x->rank, x->dims);
  return 0;
}

int op_requant_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *y = n->out[0];
  RtRequant p = {.x = cg_addr(cx, x), .y = cg_addr(cx, y), .x_scale = cg_addr(cx, n->in[1]), .x_zp = cg_addr(cx, n->in[2]),
                 .y_scale = cg_addr(cx, n->in[3]), .y_zp = cg_addr(cx, n->nin > 4 ? n->in[4] : NULL),
                 .flags = (x->dt == DT_INT8 ? RT_Q_A_S8 : 0) | (y->dt == DT_INT8 ? RT_Q_Y_S8 : 0)};
  CG_DIM(cx, p, n, oc_prod(g, x->dims, 0, x->rank));
  return cg_call(cx, K_requantize, &p, sizeof p, n);
}

/* ---- DynamicQuantizeLinear (uint8): x_min = min(0, min x), x_max = max(0, max x), scale = (x_max - x_min) / 255,
 * zp = clip(round(0 - x_min / scale), 0, 255), y = clip(round(x / scale) + zp, 0, 255), all in float32 as the ONNX
 * function body; scale 1 (onnxruntime's choice) when x is all zero. One kernel, two passes over x
 * (runtime/kernels/quant.c rt_dynquant). ---- */
int op_dynq_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  if (x->dt != DT_FLOAT) return ir_errorf(g, n, "input '%s' has dtype %s, expected float32", x->name, ir_dtype_name(x->dt));
  oc_set_out(n->out[0], DT_UINT8, x->rank, x->dims);
  oc_set_out(n->out[1], DT_FLOAT, 0, NULL);
  oc_set_out(n->out[2], DT_UINT8, 0, NULL);
  return 0;
}

int op_dynq_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0];
  RtDynQuant p = {.x = cg_addr(cx, x), .y = cg_addr(cx, n->out[0]), .scale = cg_addr(cx, n->out[1]), .zp = cg_addr(cx, n->out[2])};
  CG_DIM(cx, p, n, oc_prod(g, x->dims, 0, x->rank));
  return cg_call(cx, K_dynquant, &p, sizeof p, n);
}
