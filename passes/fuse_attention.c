/* fuse_attention.c — the attention block into one FusedAttention node (ir/ops/attention.c):
 *
 *     s  = MatMul(q, Kᵀ)            (K read in place: the Transpose already folded, trans_b)
 *     s  = Mul(s, c) | Div(s, c)    (optional; c a constant scalar)
 *     s  = Add(s, mask)             (optional; mask's last axis is the key axis)
 *     p  = Softmax(s)               (over the last axis)
 *     y  = MatMul(p, V)
 *  →  y  = FusedAttention(q, K, V, mask; scale)
 *
 * The kernel computes scores, softmax and the weighted sum of V row by row without writing the
 * scores out. Every intermediate must be private to the chain (read once, not a graph output). */
#include "passes.h"
#include "../ir/ops.h"
#include "../ir/ops/opcommon.h"

static bool scalar_const(const Value *c, double *out) {
  if (!c || c->kind != VK_CONST || !c->data || c->dt != DT_FLOAT || ir_numel(c) != 1) return false;
  *out = oc_getf(c, 0);
  return true;
}

static bool is_qk(const Node *n) { return n && !n->dead && n->op == OP_MatMul && n->trans_b; }

/* v is the scores, or the scores times / divided by a constant scalar */
static bool leads_to_scores(const Value *v) {
  const Node *n = v->producer;
  double c;
  if (is_qk(n)) return true;
  if (!n || n->dead || (n->op != OP_Mul && n->op != OP_Div)) return false;
  if (scalar_const(n->in[1], &c)) return is_qk(n->in[0]->producer);
  return n->op == OP_Mul && scalar_const(n->in[0], &c) && is_qk(n->in[1]->producer);
}

static bool try_fuse(Graph *g, Node *sm) {
  int axis;
  Value *x = sm->in[0];
  if (x->dt != DT_FLOAT || x->rank < 2) return false;
  if (oc_axis(g, sm, ir_attr_int(sm, "axis", sm->opset < 13 ? 1 : -1), x->rank, &axis) || axis != x->rank - 1) return false;
  if (sm->act) return false;
  /* y = MatMul(p, V) */
  Value *p = sm->out[0];
  Node *pv = pass_single_consumer(g, p);
  if (!pv || pv->op != OP_MatMul || pv->in[0] != p || pv->in[1] == p || !pass_private_to(g, p, pv)) return false;
  if (pv->trans_b || pv->wpack || pv->bias || pv->act || pv->res) return false;
  /* walk back from the softmax input: Add(mask)?, Mul/Div(scale)?, MatMul(q, Kᵀ) */
  Node *dead[3];
  int nd = 0;
  Value *s = x, *mask = NULL;
  double scale = 1.0;
  Node *n = s->producer;
  if (n && !n->dead && n->op == OP_Add && !n->act && pass_private_to(g, s, sm)) {
    for (int side = 0; side < 2 && !mask; side++)
      if (n->in[side]->nuses == 1 && leads_to_scores(n->in[side])) { mask = n->in[1 - side]; s = n->in[side]; }
    if (!mask) return false;
    dead[nd++] = n;
    n = s->producer;
  }
  if (n && !n->dead && (n->op == OP_Mul || n->op == OP_Div) && !n->act && pass_private_to(g, s, nd ? dead[nd - 1] : sm)) {
    double c;
    int side = scalar_const(n->in[1], &c) ? 0 : n->op == OP_Mul && scalar_const(n->in[0], &c) ? 1 : -1;
    if (side < 0 || (n->op == OP_Div && c == 0.0)) return false;
    scale = n->op == OP_Div ? 1.0 / c : c;
    dead[nd++] = n;
    s = n->in[side];
    n = s->producer;
  }
  Node *qk = n;
  if (!qk || qk->dead || qk->op != OP_MatMul || !qk->trans_b || qk->wpack || qk->bias || qk->act || qk->res) return false;
  if (!pass_private_to(g, s, nd ? dead[nd - 1] : sm)) return false;
  Value *q = qk->in[0], *k = qk->in[1], *v = pv->in[1];
  if (q->rank < 2 || k->rank < 2 || v->rank < 2 || q->dt != DT_FLOAT || k->dt != DT_FLOAT || v->dt != DT_FLOAT) return false;
  /* the key axis of the scores is K's rows and V's rows; the mask's last axis must be it too */
  Dim t = k->dims[k->rank - 2];
  if (!ir_dim_eq(v->dims[v->rank - 2], t) || !ir_dim_eq(s->dims[s->rank - 1], t)) return false;
  if (mask && (mask->dt != DT_FLOAT || mask->rank < 1 || mask->rank > s->rank || !ir_dim_eq(mask->dims[mask->rank - 1], t)))
    return false;
  /* rewrite: the PV MatMul node becomes FusedAttention(q, K, V[, mask]) */
  Value **in = ir_alloc(&g->arena, 4 * sizeof *in);
  in[0] = q; in[1] = k; in[2] = v; in[3] = mask;
  pv->in = in;
  pv->nin = mask ? 4 : 3;
  pv->op = OP_FusedAttention;
  pv->op_type = "FusedAttention";
  pv->attrs = ir_alloc(&g->arena, sizeof(Attr));
  pv->attrs[0] = (Attr){.name = "scale", .type = AT_FLOAT, .f = (float)scale};
  pv->nattr = 1;
  pv->trans_b = false;
  qk->dead = sm->dead = true;
  for (int i = 0; i < nd; i++) dead[i]->dead = true;
  if (pass_infer_node(g, pv)) return false;
  ir_recount_uses(g);
  return true;
}

int pass_fuse_attention(Graph *g) {
  ir_recount_uses(g);
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (!n->dead && n->op == OP_Softmax) try_fuse(g, n);
    if (ir_failed(g)) return -1;
  }
  return 0;
}
