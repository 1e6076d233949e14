/* fold.c — type/shape inference and constant folding in one sweep over the (topologically
 * ordered) nodes: shapes of later nodes depend on folded constants (Shape -> Gather -> Reshape). */
#include "passes.h"
#include "../ir/ops.h"
#include "../ir/ops/opcommon.h"

#define FOLD_MAX_BYTES ((int64_t)256 << 20)  /* don't materialize constants larger than this */

int pass_fold(Graph *g) {
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    if (pass_infer_node(g, n)) return -1;
    if (n->op == OP_If) {                     /* its condition is a constant (else infer failed) */
      if (pass_inline_branch(g, n)) return -1;
      continue;                               /* the next node is the branch's first */
    }
    const OpInfo *op = &ops_table[n->op];
    if (!op->eval) continue;
    bool all_const = true;
    for (int k = 0; k < n->nin; k++) if (n->in[k] && n->in[k]->kind != VK_CONST) all_const = false;
    if (n->op == OP_Shape || n->op == OP_EyeLike) all_const = true;  /* need only the input's shape (checked below) */
    /* a ConstantOfShape whose shape, read from a graph input, is declared: only the run-time checks read the input */
    if (n->op == OP_ConstantOfShape && ir_shape_known(n->out[0])) all_const = true;
    if (!all_const) continue;
    bool small = true;
    for (int k = 0; k < n->nout; k++)
      if (n->out[k] && (ir_nbytes(n->out[k]) < 0 || ir_nbytes(n->out[k]) > FOLD_MAX_BYTES)) small = false;
    if (!small && !(n->op == OP_Shape && n->in[0]->rank >= 0)) continue;
    int sym = op_sym_eval(g, n);              /* shape arithmetic over run-time dims */
    if (sym < 0) return -1;
    if (sym == 0) {
      bool symbolic_in = (n->op == OP_Shape || n->op == OP_EyeLike) && !ir_shape_known(n->in[0]);
      for (int k = 0; k < n->nin; k++) symbolic_in |= n->in[k] && n->in[k]->sym;
      if (symbolic_in) continue;              /* not evaluable at compile time: stays a node */
      if (op->eval(g, n)) return -1;
    }
    for (int k = 0; k < n->nout; k++) if (n->out[k]) n->out[k]->kind = VK_CONST;
    n->dead = true;
  }
  ir_compact(g);
  return 0;
}
