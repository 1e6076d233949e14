/* fuse.c — epilogue fusion: a residual Add into a Conv or MatMul (pass_fuse_residual), and an activation
 * into the op producing its input (pass_fuse_act). The kernels apply bias, then residual, then act. */
#include "passes.h"
#include "../ir/ops.h"
#include "../ir/ops/opcommon.h"

/* MatMul(A, B) + c with c a constant vector over the last axis: the kernel adds it (RtMatMul.bias). */
static bool fuse_matmul_bias(Graph *g, Node *add) {
  for (int side = 0; side < 2; side++) {
    Value *mv = add->in[side], *c = add->in[1 - side];
    Node *mm = mv->producer;
    if (!mm || mm->dead || mm->op != OP_MatMul || mm->bias || mm->act || !pass_private_to(g, mv, add)) continue;
    if (c->kind != VK_CONST || !c->data || c->dt != DT_FLOAT || mv->rank < 1 || !ir_same_shape(mv, add->out[0])) continue;
    Dim nlast = mv->dims[mv->rank - 1];
    bool vec = ir_dim_known(nlast) && ir_numel(c) == nlast.c;
    for (int k = 0; k + 1 < c->rank; k++) vec &= ir_dim_known(c->dims[k]) && c->dims[k].c == 1;
    if (!vec || c->rank < 1) continue;
    mm->bias = c;
    mm->out[0] = add->out[0];
    add->out[0]->producer = mm;
    add->dead = true;
    ir_recount_uses(g);
    return true;
  }
  return false;
}

int pass_fuse_residual(Graph *g) {
  ir_recount_uses(g);
  for (int i = 0; i < g->nnodes; i++) {
    Node *add = g->nodes[i];
    if (add->dead || add->op != OP_Add || add->act) continue;
    if (fuse_matmul_bias(g, add)) continue;
    for (int side = 0; side < 2; side++) {
      Value *cv = add->in[side], *other = add->in[1 - side];
      Node *conv = cv->producer;
      if (!conv || conv->dead || (conv->op != OP_Conv && conv->op != OP_MatMul) || conv->act || conv->res) continue;
      if (conv->op == OP_MatMul && cv->dt != DT_FLOAT) continue;
      if (!pass_private_to(g, cv, add) || !ir_same_shape(cv, add->out[0]) || !ir_same_shape(other, cv)) continue;
      if (other->dt != DT_FLOAT || (other->producer && other->producer->index > conv->index)) continue;
      if (other == cv) continue;
      conv->res = other;
      conv->out[0] = add->out[0];
      add->out[0]->producer = conv;
      add->dead = true;
      ir_recount_uses(g);
      break;
    }
  }
  ir_compact(g);
  return 0;
}

static bool takes_act(const Node *n) {
  return n->op == OP_Conv || n->op == OP_Gemm || n->op == OP_MatMul || n->op == OP_Add || n->op == OP_Sub ||
         n->op == OP_Mul || n->op == OP_Div || n->op == OP_ConvTranspose;
}

int pass_fuse_act(Graph *g) {
  ir_recount_uses(g);
  for (int i = 0; i < g->nnodes; i++) {
    Node *a = g->nodes[i];
    if (a->dead || !(ops_table[a->op].flags & OPF_UNARY_ACT) || a->in[0]->dt != DT_FLOAT) continue;
    Value *x = a->in[0];
    Node *p = x->producer;
    if (!p || p->dead || !takes_act(p) || p->act || p->out[0] != x || !pass_private_to(g, x, a)) continue;
    if ((p->op == OP_Add || p->op == OP_Sub || p->op == OP_Mul || p->op == OP_Div) && p->in[0]->dt != DT_FLOAT) continue;
    bool const_params = true;                  /* Clip's min/max must be known to fuse */
    for (int k = 1; k < a->nin; k++) if (a->in[k] && a->in[k]->kind != VK_CONST) const_params = false;
    if (!const_params) continue;
    RtAct act;
    if (op_unary_act(g, a, &act)) return -1;
    p->act = act.kind; p->act_a = act.a; p->act_b = act.b;
    p->out[0] = a->out[0];
    a->out[0]->producer = p;
    a->dead = true;
    ir_recount_uses(g);
  }
  ir_compact(g);
  return 0;
}

/* the single value of a float scalar constant (any rank, one element) */
static bool scalar_const(const Value *c, float *out) {
  if (!c || c->kind != VK_CONST || !c->data || c->dt != DT_FLOAT || c->rank < 0 || ir_numel(c) != 1) return false;
  *out = ((const float *)c->data)[0];
  return true;
}

/* Node m = Mul/Add/Sub(y, scalar) or (scalar, y) with y's shape, no epilogue of its own: y*s, y+s, y-s,
 * s-y as y*mul + add. */
static bool scalar_affine(Graph *g, const Value *y, Node *m, float *mul, float *add) {
  if (!m || m->dead || m->act || m->res || m->nin != 2 || !ir_same_shape(m->out[0], y) || m->out[0]->dt != DT_FLOAT) return false;
  if (!pass_private_to(g, y, m)) return false;
  int yi = m->in[0] == y ? 0 : 1;
  if (m->in[yi] != y || m->in[1 - yi] == y) return false;
  float s;
  if (!scalar_const(m->in[1 - yi], &s)) return false;
  switch (m->op) {
  case OP_Mul: *mul = s; *add = 0.0f; return true;
  case OP_Add: *mul = 1.0f; *add = s; return true;
  case OP_Sub: *mul = yi == 0 ? 1.0f : -1.0f; *add = yi == 0 ? -s : s; return true;
  default: return false;
  }
}

/* A HardSwish epilogue followed by a Mul and/or Add (or Sub) by scalar constants (PP-LCNet's learnable
 * affine block after each HardSwish) becomes the HardSwish-affine activation hardswish(x) * a + b: two
 * passes over the activation fewer. The kernels compute the product, then the sum, rounding each as the
 * separate nodes did. */
int pass_fuse_act_affine(Graph *g) {
  ir_recount_uses(g);
  for (int i = 0; i < g->nnodes; i++) {
    Node *p = g->nodes[i];
    if (p->dead || p->act != RT_ACT_HARDSWISH || p->out[0]->dt != DT_FLOAT) continue;
    float a = 1.0f, b = 0.0f;
    bool fused = false;
    /* at most a Mul, then at most an Add/Sub: exactly the roundings of the nodes it replaces */
    for (int step = 0; step < 2; step++) {
      Node *m = pass_single_consumer(g, p->out[0]);
      float mul, add;
      if (!scalar_affine(g, p->out[0], m, &mul, &add) || (step == 1 && m->op == OP_Mul)) break;
      if (m->op == OP_Mul) {                     /* + (-0): the exact identity, -0 included */
        a = mul;
        b = -0.0f;
      } else {                                   /* an Add/Sub: a = +-a, b = +-b + t */
        a *= mul;
        b = b * mul + add;
      }
      p->out[0] = m->out[0];
      m->out[0]->producer = p;
      m->dead = true;
      ir_recount_uses(g);
      fused = true;
      if (m->op != OP_Mul) break;
    }
    if (fused) { p->act = RT_ACT_HARDSWISH_AFFINE; p->act_a = a; p->act_b = b; }
  }
  ir_compact(g);
  return 0;
}

/* MatMul(A, Transpose(B, perm swapping the last two axes)): the MatMul reads B transposed. Saves a
 * copy of B per call: in attention that is the whole K cache, every decode step. */
int pass_fuse_transpose(Graph *g) {
  ir_recount_uses(g);
  for (int i = 0; i < g->nnodes; i++) {
    Node *mm = g->nodes[i];
    if (mm->dead || mm->op != OP_MatMul || mm->trans_b || mm->act) continue;
    Value *bt = mm->in[1];
    Node *t = bt->producer;
    if (!t || t->dead || t->op != OP_Transpose || !pass_private_to(g, bt, mm) || bt->rank < 2 || bt->dt != DT_FLOAT) continue;
    const int64_t *perm;
    int np = ir_attr_ints(t, "perm", &perm), r = bt->rank;
    bool swap = np == r;
    for (int k = 0; k < r - 2 && swap; k++) swap = perm[k] == k;
    if (!swap || perm[r - 2] != r - 1 || perm[r - 1] != r - 2) continue;
    mm->in[1] = t->in[0];
    mm->trans_b = true;
    t->dead = true;
    ir_recount_uses(g);
  }
  ir_compact(g);
  return 0;
}
