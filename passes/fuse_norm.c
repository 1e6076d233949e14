/* fuse_norm.c — the exporters' decomposed normalizations become one node each:
 *   LayerNorm: d = x - ReduceMean(x); y = d / Sqrt(ReduceMean(d^2) + eps) [* gamma] [+ beta]
 *   RMSNorm:   y = x / Sqrt(ReduceMean(x^2) + eps) [* w]   (also x * (1 / Sqrt(...)))
 * with the means over the last axis. The chains' intermediates must be read only inside the chain. */
#include "passes.h"
#include "../ir/ops.h"
#include "../ir/ops/opcommon.h"

#include <string.h>

/* the live nodes reading v (up to max); count */
static int readers(Graph *g, const Value *v, Node **out, int max) {
  int k = 0;
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->nin; j++)
      if (n->in[j] == v) { if (k < max) out[k] = n; k++; break; }
  }
  return k;
}

/* the only reader of v if it has op `op` and v is an intermediate */
static Node *only(Graph *g, const Value *v, int op) {
  Node *r[2];
  if (v->is_output || v->kind != VK_TEMP || readers(g, v, r, 2) != 1 || r[0]->op != op) return NULL;
  return r[0];
}

static bool const_scalar(const Value *v, double *x) {
  if (!v || v->kind != VK_CONST || !v->data || ir_numel(v) != 1 || !ir_dtype_is_float(v->dt)) return false;
  *x = oc_getf(v, 0);
  return true;
}

static bool last_axis_mean(const Node *n) {
  if (n->op != OP_ReduceMean || ir_attr_int(n, "keepdims", 1) != 1 || n->nin > 1) return false;
  const int64_t *ax;
  int na = ir_attr_ints(n, "axes", &ax);
  int r = n->in[0]->rank;
  return na == 1 && (ax[0] == -1 || ax[0] == r - 1);
}

/* the other operand of a binary node, given one */
static Value *other(const Node *n, const Value *v) { return n->in[0] == v ? n->in[1] : n->in[0]; }

/* x^2 as Pow(x, 2) or Mul(x, x) */
static bool is_square(const Node *n, const Value *x) {
  double e;
  if (n->op == OP_Mul) return n->in[0] == x && n->in[1] == x;
  return n->op == OP_Pow && n->in[0] == x && const_scalar(n->in[1], &e) && e == 2.0;
}

/* v -> Add(v, eps) -> Sqrt: returns the Sqrt node and eps */
static Node *eps_sqrt(Graph *g, Value *v, double *eps) {
  Node *add = only(g, v, OP_Add);
  if (!add || !const_scalar(other(add, v), eps)) return NULL;
  return only(g, add->out[0], OP_Sqrt);
}

/* optional affine tail: y [* gamma] [+ beta] with constant vectors of the row length */
static Value *affine_tail(Graph *g, Value *y, int64_t c, Value **gamma, Value **beta, Node **dead, int *nd) {
  Node *m = only(g, y, OP_Mul);
  Value *gv = m ? other(m, y) : NULL;
  *gamma = NULL;
  if (beta) *beta = NULL;
  if (!m || gv->kind != VK_CONST || ir_numel(gv) != c || gv->dt != DT_FLOAT) return y;
  *gamma = gv; dead[(*nd)++] = m; y = m->out[0];
  if (!beta) return y;
  Node *a = only(g, y, OP_Add);
  Value *bv = a ? other(a, y) : NULL;
  if (!a || bv->kind != VK_CONST || ir_numel(bv) != c || bv->dt != DT_FLOAT) return y;
  *beta = bv; dead[(*nd)++] = a;
  return a->out[0];
}

static void make_norm(Graph *g, Node *n, int op, Value *x, Value *gamma, Value *beta, double eps, Value *y) {
  n->op = op;
  n->op_type = op == OP_LayerNormalization ? "LayerNormalization" : "RMSNormalization";
  n->nin = 0;
  n->in[n->nin++] = x;
  if (gamma || beta) n->in[n->nin++] = gamma;
  if (beta) n->in[n->nin++] = beta;
  n->nout = 1;
  n->out[0] = y;
  y->producer = n;
  n->attrs = ir_alloc(&g->arena, 2 * sizeof(Attr));
  n->attrs[0] = (Attr){.name = "axis", .type = AT_INT, .i = -1};
  n->attrs[1] = (Attr){.name = "epsilon", .type = AT_FLOAT, .f = (float)eps};
  n->nattr = 2;
  n->act = 0;
}

static bool try_layernorm(Graph *g, Node *r1) {
  Value *x = r1->in[0];
  if (x->dt != DT_FLOAT || x->rank < 1 || !ir_dim_known(x->dims[x->rank - 1]) || !last_axis_mean(r1)) return false;
  int64_t c = x->dims[x->rank - 1].c;
  Node *sub = only(g, r1->out[0], OP_Sub);
  if (!sub || sub->in[0] != x || sub->in[1] != r1->out[0]) return false;
  Value *d = sub->out[0];
  Node *rd[3];
  if (d->is_output || readers(g, d, rd, 3) != 2) return false;
  Node *sq = is_square(rd[0], d) ? rd[0] : is_square(rd[1], d) ? rd[1] : NULL;
  Node *div = sq == rd[0] ? rd[1] : rd[0];
  if (!sq || div->op != OP_Div || div->in[0] != d) return false;
  Node *r2 = only(g, sq->out[0], OP_ReduceMean);
  double eps;
  Node *sqrt_n = r2 && last_axis_mean(r2) ? eps_sqrt(g, r2->out[0], &eps) : NULL;
  if (!sqrt_n || only(g, sqrt_n->out[0], OP_Div) != div || div->in[1] != sqrt_n->out[0]) return false;
  Node *dead[8] = {sub, sq, r2, r2 ? only(g, r2->out[0], OP_Add) : NULL, sqrt_n, div};
  int nd = 6;
  Value *gamma, *beta;
  Value *y = affine_tail(g, div->out[0], c, &gamma, &beta, dead, &nd);
  make_norm(g, r1, OP_LayerNormalization, x, gamma, beta, eps, y);
  for (int i = 0; i < nd; i++) dead[i]->dead = true;
  return true;
}

static bool try_rmsnorm(Graph *g, Node *sq) {
  Value *x = sq->in[0];
  if (x->dt != DT_FLOAT || x->rank < 1 || !ir_dim_known(x->dims[x->rank - 1]) || !is_square(sq, x)) return false;
  int64_t c = x->dims[x->rank - 1].c;
  Node *r = only(g, sq->out[0], OP_ReduceMean);
  double eps, one;
  Node *sqrt_n = r && last_axis_mean(r) ? eps_sqrt(g, r->out[0], &eps) : NULL;
  if (!sqrt_n) return false;
  Node *dead[8] = {r, only(g, r->out[0], OP_Add), sqrt_n};
  int nd = 3;
  Value *s = sqrt_n->out[0], *z;
  Node *div = only(g, s, OP_Div);
  if (!div || div->in[1] != s) return false;
  dead[nd++] = div;
  if (div->in[0] == x) z = div->out[0];                               /* x / s */
  else if (const_scalar(div->in[0], &one) && one == 1.0) {            /* x * (1 / s) */
    Node *mul = only(g, div->out[0], OP_Mul);
    if (!mul || other(mul, div->out[0]) != x) return false;
    dead[nd++] = mul;
    z = mul->out[0];
  } else return false;
  Value *gamma;
  Value *y = affine_tail(g, z, c, &gamma, NULL, dead, &nd);
  make_norm(g, sq, OP_RMSNormalization, x, gamma, NULL, eps, y);
  for (int i = 0; i < nd; i++) dead[i]->dead = true;
  return true;
}

int pass_fuse_norm(Graph *g) {
  ir_recount_uses(g);
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    bool done = (n->op == OP_ReduceMean && try_layernorm(g, n)) || ((n->op == OP_Mul || n->op == OP_Pow) && try_rmsnorm(g, n));
    if (done && (pass_infer_node(g, n) || ir_failed(g))) return -1;
    if (done) ir_recount_uses(g);
  }
  ir_compact(g);
  return 0;
}
