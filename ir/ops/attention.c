/* attention.c — FusedAttention, the internal op passes/fuse_attention.c makes of
 * MatMul(Q, Kᵀ) → scale → + mask → Softmax → MatMul(·, V): infer, lower, scratch.
 * Inputs: q [.., M, D], k [.., T, D] (keys as rows: the Kᵀ of the MatMul folded in), v [.., T, DV],
 * optional mask broadcastable to [.., M, T]; attribute scale. Output [.., M, DV]. */
#include "opcommon.h"

int op_attention_infer(Graph *g, Node *n) {
  Value *q = n->in[0], *k = n->in[1], *v = n->in[2], *mask = n->nin > 3 ? n->in[3] : NULL, *y = n->out[0];
  for (int i = 0; i < n->nin; i++) if (n->in[i] && oc_need_float(g, n, i)) return -1;
  if (q->rank < 2 || k->rank < 2 || v->rank < 2) return ir_errorf(g, n, "q, k and v must have rank >= 2");
  Dim m = q->dims[q->rank - 2], d = q->dims[q->rank - 1], t = k->dims[k->rank - 2];
  if (!ir_dim_eq(k->dims[k->rank - 1], d) || !ir_dim_eq(v->dims[v->rank - 2], t))
    return ir_errorf(g, n, "q, k and v do not agree on the head and key dims");
  Value bq = {.rank = q->rank - 2}, bk = {.rank = k->rank - 2}, bv = {.rank = v->rank - 2}, t1 = {0}, t2 = {0};
  memcpy(bq.dims, q->dims, sizeof(Dim) * (size_t)bq.rank);
  memcpy(bk.dims, k->dims, sizeof(Dim) * (size_t)bk.rank);
  memcpy(bv.dims, v->dims, sizeof(Dim) * (size_t)bv.rank);
  if (oc_broadcast(g, n, &bq, &bk, &t1) || oc_broadcast(g, n, &t1, &bv, &t2)) return -1;
  y->dt = DT_FLOAT;
  y->rank = t2.rank + 2;
  memcpy(y->dims, t2.dims, sizeof(Dim) * (size_t)t2.rank);
  y->dims[t2.rank] = m;
  y->dims[t2.rank + 1] = v->dims[v->rank - 1];
  if (mask) {                                 /* broadcast to the scores [.., M, T] */
    Value sc = {.rank = y->rank}, out = {0};
    memcpy(sc.dims, y->dims, sizeof(Dim) * (size_t)y->rank);
    sc.dims[y->rank - 1] = t;
    if (oc_broadcast(g, n, mask, &sc, &out)) return -1;
    if (!ir_same_shape(&out, &sc)) return ir_errorf(g, n, "the mask does not broadcast to the scores");
  }
  return 0;
}

int64_t op_attention_scratch(Graph *g, const Node *n) {
  const Value *k = n->in[1];
  return (ir_dim_max(g, k->dims[k->rank - 2]) + 4) * 4;
}

int op_attention_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *q = n->in[0], *k = n->in[1], *v = n->in[2], *mask = n->nin > 3 ? n->in[3] : NULL, *y = n->out[0];
  if (q->cap > 0 || (mask && mask->cap > 0)) return ir_errorf(g, n, "internal: q and mask must be dense");
  if ((k->cap > 0 && k->cap_axis > k->rank - 2) || (v->cap > 0 && v->cap_axis > v->rank - 2))
    return ir_errorf(g, n, "internal: k/v rows are not dense");
  RtAttention p = {.q = cg_addr(cx, q), .k = cg_addr(cx, k), .v = cg_addr(cx, v), .mask = cg_addr(cx, mask),
                   .y = cg_addr(cx, y), .scratch = cg_scratch(cx, n), .scale = ir_attr_float(n, "scale", 1.0f)};
  CG_DIM(cx, p, m, q->dims[q->rank - 2]);
  CG_DIM(cx, p, n, k->dims[k->rank - 2]);
  CG_DIM(cx, p, d, q->dims[q->rank - 1]);
  CG_DIM(cx, p, dv, v->dims[v->rank - 1]);
  if (mask) {
    /* the mask right-aligned against the scores [batch.., M, T]: its last axis must be T (dense
     * columns), its row axis M or 1 */
    Dim sm[IR_MAX_RANK];
    ir_strides(g, mask, sm);
    if (mask->rank < 1 || !ir_dim_eq(mask->dims[mask->rank - 1], k->dims[k->rank - 2]))
      return ir_errorf(g, n, "internal: the mask's last axis is not the key axis");
    CG_DIM(cx, p, mask_rs, mask->rank >= 2 && !oc_is1(mask->dims[mask->rank - 2]) ? sm[mask->rank - 2] : ir_dimc(0));
  }
  Dim bd[IR_MAX_RANK], st[4][IR_MAX_RANK];
  int k2 = oc_batch_dims(g, y, y->rank - 2, (const Value *[]){q, k, v, mask}, 4, bd, st);
  if (k2 > 4) return ir_errorf(g, n, "more than 4 batch dimensions");
  p.nb = k2;
  for (int i = 0; i < k2; i++) {
    CG_DIM(cx, p, bdim[i], bd[i]);
    CG_DIM(cx, p, qstride[i], st[0][i]);
    CG_DIM(cx, p, kstride[i], st[1][i]);
    CG_DIM(cx, p, vstride[i], st[2][i]);
    CG_DIM(cx, p, mstride[i], st[3][i]);
  }
  return cg_call(cx, K_attention_f32, &p, sizeof p, n);
}
