/* gemm.c — Gemm and MatMul (numpy broadcasting over batch dims), Det, DFT (opset 17, axis an attribute): infer,
 * lower. */
#include "opcommon.h"

#include <stdlib.h>

int op_gemm_infer(Graph *g, Node *n) {
  Value *a = n->in[0], *b = n->in[1], *c = n->nin > 2 ? n->in[2] : NULL, *y = n->out[0];
  if (oc_need_float(g, n, 0) || oc_need_float(g, n, 1) || oc_need_rank(g, n, 0, 2) || oc_need_rank(g, n, 1, 2)) return -1;
  int ta = (int)ir_attr_int(n, "transA", 0), tb = (int)ir_attr_int(n, "transB", 0);
  Dim m = a->dims[ta ? 1 : 0], ka = a->dims[ta ? 0 : 1], kb = b->dims[tb ? 1 : 0], nn = b->dims[tb ? 0 : 1];
  if (!oc_same_dim(g, ka, kb)) return ir_errorf(g, n, "inner dimensions of A and B differ");
  Dim d[2] = {m, nn};
  oc_set_out(y, DT_FLOAT, 2, d);
  if (c) {
    Value tmp = {.rank = 2};
    if (c->dt != DT_FLOAT) return ir_errorf(g, n, "C has dtype %s, expected float32", ir_dtype_name(c->dt));
    if (oc_broadcast(g, n, c, y, &tmp)) return -1;
    if (!ir_same_shape(&tmp, y)) return ir_errorf(g, n, "C does not broadcast to the output shape");
  }
  return 0;
}

int op_gemm_lower(LowerCtx *cx, Node *n) {
  Value *a = n->in[0], *c = n->nin > 2 ? n->in[2] : NULL, *y = n->out[0];
  int ta = (int)ir_attr_int(n, "transA", 0), tb = (int)ir_attr_int(n, "transB", 0);
  RtGemm p = {
    .a = cg_addr(cx, a), .b = cg_addr(cx, n->in[1]), .c = cg_addr(cx, c), .y = cg_addr(cx, y),
    .trans_a = ta, .trans_b = tb, .alpha = ir_attr_float(n, "alpha", 1.0f), .beta = ir_attr_float(n, "beta", 1.0f),
  };
  Dim m = y->dims[0], nn = y->dims[1];
  CG_DIM(cx, p, m, m);
  CG_DIM(cx, p, n, nn);
  CG_DIM(cx, p, k, a->dims[ta ? 0 : 1]);
  if (c) {                                   /* how C broadcasts over [M][N] */
    bool m1 = c->rank < 2 || oc_is1(c->dims[c->rank - 2]), n1 = c->rank < 1 || oc_is1(c->dims[c->rank - 1]);
    p.c_kind = m1 && n1 ? 1 : m1 ? 2 : n1 ? 3 : 4;
  }
  p.act = cg_node_act(n);
  return cg_call(cx, K_gemm_f32, &p, sizeof p, n);
}

int op_matmul_infer(Graph *g, Node *n) {
  Value *a = n->in[0], *b = n->in[1], *y = n->out[0];
  if (oc_need_float(g, n, 0) || oc_need_float(g, n, 1)) return -1;
  if (a->rank < 1 || b->rank < 1) return ir_errorf(g, n, "inputs must have rank >= 1");
  if (n->trans_b && b->rank < 2) return ir_errorf(g, n, "internal: transposed B of rank < 2");
  Dim ka = a->dims[a->rank - 1], kb = b->dims[n->trans_b ? b->rank - 1 : b->rank >= 2 ? b->rank - 2 : 0];
  if (!oc_same_dim(g, ka, kb)) return ir_errorf(g, n, "inner dimensions of A and B differ");
  /* batch dims broadcast */
  Value ba = {.rank = a->rank > 2 ? a->rank - 2 : 0}, bb = {.rank = b->rank > 2 ? b->rank - 2 : 0}, bo = {0};
  memcpy(ba.dims, a->dims, sizeof(Dim) * (size_t)ba.rank);
  memcpy(bb.dims, b->dims, sizeof(Dim) * (size_t)bb.rank);
  if (oc_broadcast(g, n, &ba, &bb, &bo)) return -1;
  y->dt = DT_FLOAT;
  y->rank = bo.rank;
  memcpy(y->dims, bo.dims, sizeof(Dim) * (size_t)bo.rank);
  if (a->rank >= 2) y->dims[y->rank++] = a->dims[a->rank - 2];
  if (b->rank >= 2) y->dims[y->rank++] = b->dims[n->trans_b ? b->rank - 2 : b->rank - 1];
  return 0;
}

/* com.microsoft MatMulNBits: Y = A dequant(B)^T (+ bias), A [..., K] float32, Y [..., N]; the weights are checked
 * and packed by passes/quant_weights.c, which turns the node into a MatMul */
int op_matmulnbits_infer(Graph *g, Node *n) {
  Value *a = n->in[0], *y = n->out[0];
  int64_t k = ir_attr_int(n, "K", 0), nn = ir_attr_int(n, "N", 0), bits = ir_attr_int(n, "bits", 4), bs = ir_attr_int(n, "block_size", 0);
  if (!a) return ir_errorf(g, n, "input A is missing");
  if (oc_need_float(g, n, 0)) return -1;
  if (bits != 4 && bits != 8) return ir_errorf(g, n, "bits = %lld is not supported (4 or 8)", (long long)bits);
  if (k < 1 || nn < 1 || k > (1 << 24) || nn > (1 << 24)) return ir_errorf(g, n, "attributes K and N must be from 1 to 2^24 (K = %lld, N = %lld)", (long long)k, (long long)nn);
  if (bs < 16 || bs > 4096 || (bs & (bs - 1))) return ir_errorf(g, n, "block_size = %lld must be a power of 2 from 16 to 4096", (long long)bs);
  if (a->rank < 1 || !ir_dim_known(a->dims[a->rank - 1]) || a->dims[a->rank - 1].c != k)
    return ir_errorf(g, n, "A's last dimension must be K = %lld", (long long)k);
  y->dt = DT_FLOAT;
  y->rank = a->rank;
  memcpy(y->dims, a->dims, sizeof(Dim) * (size_t)a->rank);
  y->dims[a->rank - 1] = ir_dimc(nn);
  return 0;
}

/* the quantized kernel's rows of A in 16-bit fixed point (runtime/rt_abi.h) */
int64_t op_matmul_scratch(Graph *g, const Node *n) {
  (void)g;
  if (n->wfmt != RT_WF_Q8_PANELS && n->wfmt != RT_WF_Q4_PANELS) return 0;
  const Value *b = n->in[1];   /* the shape-only [K][N] of the packed B */
  return rt_matmul_q_scratch_bytes((int32_t)b->dims[0].c, n->wblock);
}

int op_matmul_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *a = n->in[0], *b = n->in[1], *y = n->out[0];
  Dim m = a->rank >= 2 ? a->dims[a->rank - 2] : ir_dimc(1), k = a->dims[a->rank - 1];
  Dim nn = b->rank >= 2 ? b->dims[n->trans_b ? b->rank - 2 : b->rank - 1] : ir_dimc(1);
  int nb = y->rank - (a->rank >= 2) - (b->rank >= 2);
  RtMatMul p = {.a = cg_addr(cx, a), .b = cg_addr(cx, n->wpack ? n->wpack : b), .bias = cg_addr(cx, n->bias), .y = cg_addr(cx, y),
                .trans_b = n->trans_b, .res = cg_addr(cx, n->res)};
  if (n->res && (n->res->cap > 0 || !ir_same_shape(n->res, y))) return ir_errorf(g, n, "internal: residual must be dense and of the output's shape");
  if (n->wpack) {   /* constant 2-D B in 8-column panels (passes/pack_weights.c, passes/quant_weights.c) */
    if (b->rank != 2 || n->trans_b || n->wfmt <= RT_WF_DENSE) return ir_errorf(g, n, "internal: packed B must be 2-D, not transposed, with a format");
    p.bw = (RtWeightDesc){.fmt = n->wfmt, .block = n->wblock, .zeros = n->wzeros, .scale = cg_addr(cx, n->wscale)};
    if (n->wfmt == RT_WF_Q8_PANELS || n->wfmt == RT_WF_Q4_PANELS) p.scratch = cg_scratch(cx, n);
  } else if (!b->data && b->kind == VK_CONST) return ir_errorf(g, n, "internal: B has no data and no packed form");
  CG_DIM(cx, p, m, m);
  CG_DIM(cx, p, n, nn);
  CG_DIM(cx, p, k, k);
  /* batch dims: storage strides (dense, but for a resident cache read as B, passes/resident_kv.c) */
  if (a->cap > 0) return ir_errorf(g, n, "internal: A is a resident cache");
  if (b->cap > 0 && b->cap_axis > b->rank - 2) return ir_errorf(g, n, "internal: B's rows are not dense");
  Dim bdim[IR_MAX_RANK], st[2][IR_MAX_RANK];
  int k2 = oc_batch_dims(g, y, nb, (const Value *[]){a, b}, 2, bdim, st);
  if (k2 > 4) return ir_errorf(g, n, "more than 4 broadcast batch dimensions");
  p.nb = k2;
  for (int i = 0; i < k2; i++) { CG_DIM(cx, p, bdim[i], bdim[i]); CG_DIM(cx, p, astride[i], st[0][i]); CG_DIM(cx, p, bstride[i], st[1][i]); }
  p.act = cg_node_act(n);
  return cg_call(cx, K_matmul_f32, &p, sizeof p, n);
}

/* ---- Det: [*, M, M] -> [*] */
int op_det_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  if (x->dt != DT_FLOAT && x->dt != DT_DOUBLE) return ir_errorf(g, n, "dtype %s is not supported (float32, float64)", ir_dtype_name(x->dt));
  if (x->rank < 2) return ir_errorf(g, n, "input '%s' has rank %d, expected at least 2", x->name, x->rank);
  if (!ir_dim_known(x->dims[x->rank - 1]) || !oc_same_dim(g, x->dims[x->rank - 2], x->dims[x->rank - 1]))
    return ir_errorf(g, n, "input '%s' must be square matrices of a compile-time size", x->name);
  oc_set_out(n->out[0], x->dt, x->rank - 2, x->dims);
  return 0;
}

int64_t op_det_scratch(Graph *g, const Node *n) {
  (void)g;
  int64_t m = n->in[0]->dims[n->in[0]->rank - 1].c;
  return m * m * 8;
}

int op_det_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0];
  RtDet p = {.x = cg_addr(cx, x), .y = cg_addr(cx, n->out[0]), .scratch = cg_scratch(cx, n),
             .m = (int32_t)x->dims[x->rank - 1].c, .dtype = x->dt};
  CG_DIM(cx, p, batch, oc_prod(g, x->dims, 0, x->rank - 2));
  return cg_call(cx, K_det, &p, sizeof p, n);
}

/* ---- DFT (opset 17: axis, inverse, onesided attributes; dft_length a constant) */
static int dft_spec(Graph *g, Node *n, int *axis, int64_t *len, int64_t *nout) {
  Value *x = n->in[0];
  if (oc_need_float(g, n, 0)) return -1;
  if (n->opset >= 20) return ir_errorf(g, n, "DFT from opset 20 on (axis as an input) is not supported");
  if (x->rank < 2 || !ir_dim_known(x->dims[x->rank - 1]) || (x->dims[x->rank - 1].c != 1 && x->dims[x->rank - 1].c != 2))
    return ir_errorf(g, n, "input '%s' must end in a dim of 1 (real) or 2 (complex)", x->name);
  if (oc_axis(g, n, ir_attr_int(n, "axis", 1), x->rank - 1, axis)) return -1;
  if (!ir_dim_known(x->dims[*axis])) return oc_need_known(g, n, 0);
  *len = x->dims[*axis].c;
  if (n->nin > 1 && n->in[1] && oc_in_i(g, n, 1, 0, len)) return -1;
  if (*len < 1 || *len > INT32_MAX) return ir_errorf(g, n, "dft_length %lld must be positive", (long long)*len);
  bool onesided = ir_attr_int(n, "onesided", 0) != 0;
  if (onesided && x->dims[x->rank - 1].c == 2) return ir_errorf(g, n, "onesided needs a real input");
  if (onesided && ir_attr_int(n, "inverse", 0)) return ir_errorf(g, n, "onesided with inverse is not supported");
  *nout = onesided ? *len / 2 + 1 : *len;
  return 0;
}

int op_dft_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  int axis;
  int64_t len, nout;
  if (dft_spec(g, n, &axis, &len, &nout)) return -1;
  Dim dims[IR_MAX_RANK];
  for (int i = 0; i < x->rank; i++) dims[i] = x->dims[i];
  dims[axis] = ir_dimc(nout);
  dims[x->rank - 1] = ir_dimc(2);
  oc_set_out(n->out[0], DT_FLOAT, x->rank, dims);
  return 0;
}

int op_dft_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0];
  int axis;
  int64_t len, nout;
  if (dft_spec(g, n, &axis, &len, &nout)) return -1;
  RtDft p = {.x = cg_addr(cx, x), .y = cg_addr(cx, n->out[0]), .n = (int32_t)x->dims[axis].c, .cin = (int32_t)x->dims[x->rank - 1].c,
             .len = (int32_t)len, .nout = (int32_t)nout, .inverse = ir_attr_int(n, "inverse", 0) != 0};
  CG_DIM(cx, p, outer, oc_prod(g, x->dims, 0, axis));
  CG_DIM(cx, p, inner, oc_prod(g, x->dims, axis + 1, x->rank - 1));
  size_t hdr = (sizeof p + 7) & ~(size_t)7, size = hdr + 16 * (size_t)len;
  unsigned char *blk = calloc(1, size);
  if (!blk) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  for (int64_t m = 0; m < len; m++) {
    double cs[2] = {cos(6.283185307179586476925286766559 * (double)m / (double)len), sin(6.283185307179586476925286766559 * (double)m / (double)len)};
    memcpy(blk + hdr + 16 * (size_t)m, cs, 16);
  }
  p.tab = (int32_t)hdr;
  memcpy(blk, &p, sizeof p);
  int rc = cg_call(cx, K_dft, blk, size, n);
  free(blk);
  return rc;
}
