/* fuse_activations.c — activations the exporters spell as several elementwise nodes become one:
 *   GELU (tanh): 0.5 * x * (1 + tanh(sqrt(2/pi) * (x + 0.044715 * x^3)))  ->  Gelu(approximate="tanh")
 *   SiLU:        x * Sigmoid(x)                                           ->  one node with act SiLU
 *   HardSwish:   x * Clip(x + 3, 0, 6) / 6 (or * 1/6; the division on either side of the product)
 *                                                                         ->  HardSwish(x)  (paddle2onnx)
 * fuse_act then folds them into the producing MatMul's epilogue. Intermediates must stay inside. */
#include "passes.h"
#include "../ir/ops.h"
#include "../ir/ops/opcommon.h"

#include <math.h>
#include <string.h>

static bool near(double a, double b) { return fabs(a - b) <= 1e-4 * fabs(b); }

static bool scalar(const Value *v, double *x) {
  if (!v || v->kind != VK_CONST || !v->data || ir_numel(v) != 1 || !ir_dtype_is_float(v->dt)) return false;
  *x = oc_getf(v, 0);
  return true;
}

/* the single live reader of an intermediate value */
static Node *reader(Graph *g, const Value *v) {
  if (v->is_output || v->kind != VK_TEMP || v->nuses != 1) return NULL;
  return pass_single_consumer(g, v);
}

/* n = op(c, v) or op(v, c) with c a constant scalar close to want; returns v */
static Value *with_const(const Node *n, int op, double want) {
  double c;
  if (!n || n->dead || n->op != op || n->nin != 2) return NULL;
  if (scalar(n->in[0], &c) && near(c, want)) return n->in[1];
  if (scalar(n->in[1], &c) && near(c, want)) return n->in[0];
  return NULL;
}

/* is v = x^3 (Pow(x, 3), or Mul(x, Mul(x, x)) in either order)? sets *x and the nodes to drop */
static bool is_cube(const Value *v, Value **x, Node **dead, int *nd) {
  Node *p = v->producer;
  double e;
  if (!p || p->dead) return false;
  if (p->op == OP_Pow && scalar(p->in[1], &e) && e == 3.0) { *x = p->in[0]; dead[(*nd)++] = p; return true; }
  if (p->op != OP_Mul) return false;
  for (int s = 0; s < 2; s++) {
    Value *a = p->in[s], *sq = p->in[1 - s];
    Node *q = sq->producer;
    if (q && !q->dead && q->op == OP_Mul && q->in[0] == a && q->in[1] == a && sq->nuses == 1) {
      *x = a; dead[(*nd)++] = p; dead[(*nd)++] = q;
      return true;
    }
  }
  return false;
}

static bool try_gelu(Graph *g, Node *th) {
  Node *dead[12];
  int nd = 0;
  Value *x = NULL;
  /* inner: tanh(k * (x + c * x^3)) */
  Node *mk = th->in[0]->producer;
  Value *inner = with_const(mk, OP_Mul, 0.7978845608);
  Node *add = inner ? inner->producer : NULL;
  if (!inner || !add || add->dead || add->op != OP_Add || th->in[0]->nuses != 1 || inner->nuses != 1) return false;
  dead[nd++] = mk; dead[nd++] = add;
  for (int s = 0; s < 2 && !x; s++) {
    Node *mc = add->in[1 - s]->producer;
    Value *cube = with_const(mc, OP_Mul, 0.044715);
    Value *cx = NULL;
    int keep = nd;
    if (cube && add->in[1 - s]->nuses == 1 && cube->nuses == 1 && (dead[nd++] = mc, is_cube(cube, &cx, dead, &nd)) && cx == add->in[s])
      x = cx;
    else nd = keep;
  }
  if (!x || x->dt != DT_FLOAT) return false;
  /* outer: 0.5 * x * (1 + t), as Mul(0.5, Mul(x, 1 + t)) or Mul(Mul(0.5, x), 1 + t) */
  Node *a1 = reader(g, th->out[0]);
  Value *t = with_const(a1, OP_Add, 1.0);
  if (t != th->out[0]) return false;
  dead[nd++] = th; dead[nd++] = a1;
  Node *m1 = reader(g, a1->out[0]), *last;
  if (!m1 || m1->op != OP_Mul) return false;
  Value *o = m1->in[0] == a1->out[0] ? m1->in[1] : m1->in[0];
  if (o == x) {                                             /* x * (1 + t), then * 0.5 */
    Node *m2 = reader(g, m1->out[0]);
    if (with_const(m2, OP_Mul, 0.5) != m1->out[0]) return false;
    dead[nd++] = m1;
    last = m2;
  } else {                                                  /* (0.5 * x) * (1 + t) */
    Node *h = o->producer;
    if (with_const(h, OP_Mul, 0.5) != x || o->nuses != 1) return false;
    dead[nd++] = h;
    last = m1;
  }
  /* the last node becomes Gelu(x, approximate = "tanh") */
  last->op = OP_Gelu;
  last->op_type = "Gelu";
  last->nin = 1;
  last->in[0] = x;
  last->attrs = ir_alloc(&g->arena, sizeof(Attr));
  last->attrs[0] = (Attr){.name = "approximate", .type = AT_STRING, .s = "tanh"};
  last->nattr = 1;
  last->act = 0;
  for (int i = 0; i < nd; i++) if (dead[i] != last) dead[i]->dead = true;
  return true;
}

/* Mul(x, Sigmoid(x)) -> Silu(x): the Mul node becomes the Silu node, the Sigmoid dies */
static bool try_silu(Graph *g, Node *sg) {
  Value *x = sg->in[0], *s = sg->out[0];
  Node *m = reader(g, s);
  if (!m || m->op != OP_Mul || m->act || x->dt != DT_FLOAT) return false;
  if (!((m->in[0] == x && m->in[1] == s) || (m->in[1] == x && m->in[0] == s))) return false;
  m->op = OP_Silu;
  m->op_type = "Silu";
  m->nin = 1;
  m->in[0] = x;
  m->nattr = 0;
  sg->dead = true;
  return true;
}

/* c = Clip(x + 3, 0, 6) (the Clip node given), then x * c / 6 in either order -> HardSwish(x) */
static bool try_hardswish(Graph *g, Node *clip) {
  RtAct a;
  Node *add = clip->in[0]->producer;
  Value *x = with_const(add, OP_Add, 3.0);
  for (int k = 1; k < clip->nin; k++)                 /* min/max computed at run time: not this pattern */
    if (clip->in[k] && clip->in[k]->kind != VK_CONST) return false;
  if (!x || x->dt != DT_FLOAT || clip->in[0]->nuses != 1 || op_unary_act(g, clip, &a) || a.kind != RT_ACT_CLIP ||
      a.a != 0.0f || a.b != 6.0f)
    return false;
  Value *c = clip->out[0];
  Node *n1 = reader(g, c), *last;
  if (!n1) return false;
  Value *div6 = with_const(n1, OP_Div, 6.0), *mul6 = with_const(n1, OP_Mul, 1.0 / 6.0);
  if ((div6 == c && n1->in[0] == c) || mul6 == c) {            /* (c / 6) * x */
    last = reader(g, n1->out[0]);
    if (!last || last->op != OP_Mul || last->act || last->nin != 2 ||
        !((last->in[0] == x && last->in[1] == n1->out[0]) || (last->in[1] == x && last->in[0] == n1->out[0])))
      return false;
  } else if (n1->op == OP_Mul && !n1->act && ((n1->in[0] == x && n1->in[1] == c) || (n1->in[1] == x && n1->in[0] == c))) {
    last = reader(g, n1->out[0]);                              /* (x * c) / 6 */
    Value *m = n1->out[0];
    if (!last || last->act || !((with_const(last, OP_Div, 6.0) == m && last->in[0] == m) || with_const(last, OP_Mul, 1.0 / 6.0) == m))
      return false;
  } else
    return false;
  if (!ir_same_shape(last->out[0], x)) return false;
  last->op = OP_HardSwish;
  last->op_type = "HardSwish";
  last->nin = 1;
  last->in[0] = x;
  last->nattr = 0;
  add->dead = clip->dead = n1->dead = true;
  return true;
}

int pass_fuse_activations(Graph *g) {
  ir_recount_uses(g);
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead || n->act) continue;
    if ((n->op == OP_Tanh && try_gelu(g, n)) || (n->op == OP_Sigmoid && try_silu(g, n)) || (n->op == OP_Clip && try_hardswish(g, n)))
      ir_recount_uses(g);
  }
  ir_compact(g);
  return 0;
}
