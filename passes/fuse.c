/* fuse.c — epilogue fusion: a residual Add into a Conv or MatMul (pass_fuse_residual), and an activation
 * into the op producing its input (pass_fuse_act). The kernels apply bias, then residual, then act. */
#include <math.h>

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

/* c when it is a float constant with one element (a scalar that broadcasts to anything). */
static bool const_scalar(const Value *c, float *v) {
  if (c->kind != VK_CONST || !c->data || c->dt != DT_FLOAT || ir_numel(c) != 1) return false;
  *v = oc_getf(c, 0);
  return true;
}

/* HardSwish followed by a Mul and then an Add by scalar constants (PP-LCNet's learnable affine block, after
 * almost every conv of the PaddleOCR models): one activation hardswish(x) * a + b in the producer's epilogue.
 * Each op rounds as before (the product, then the sum), so the result is the same to the bit. */
static void fuse_hardswish_affine(Graph *g) {
  for (int pass = 0; pass < 2; pass++) {        /* 0: the Mul (b = 0), 1: an Add after it (or right after the HardSwish, a = 1) */
    for (int i = 0; i < g->nnodes; i++) {
      Node *n = g->nodes[i];
      if (n->dead || n->act || n->nin != 2 || n->op != (pass ? OP_Add : OP_Mul)) continue;
      for (int side = 0; side < 2; side++) {
        Value *x = n->in[side];
        Node *p = x->producer;
        float c;
        if (!const_scalar(n->in[1 - side], &c) || !p || p->dead || p->out[0] != x || x->dt != DT_FLOAT) continue;
        /* b = -0 until an Add is absorbed: x + (-0) is x for every x, -0 included */
        bool fresh = p->act == RT_ACT_HARDSWISH,
             scaled = p->act == RT_ACT_HARDSWISH_AFFINE && p->act_b == 0.0f && signbit(p->act_b);
        if (!(fresh || (pass && scaled)) || !pass_private_to(g, x, n) || !ir_same_shape(x, n->out[0])) continue;
        if (fresh) { p->act_a = 1.0f; p->act_b = -0.0f; }
        p->act = RT_ACT_HARDSWISH_AFFINE;
        if (pass) p->act_b = c; else p->act_a = c;
        p->out[0] = n->out[0];
        n->out[0]->producer = p;
        n->dead = true;
        ir_recount_uses(g);
        break;
      }
    }
  }
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
  fuse_hardswish_affine(g);
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
