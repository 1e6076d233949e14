/* control.c — control flow: If, whose branch is chosen at compile time. The fold pass inlines the
 * chosen branch once the condition is a constant (passes/inline_branch.c); Loop and Scan have no row. */
#include "opcommon.h"

/* checks the branches against the node; the condition must be a known scalar */
int op_if_infer(Graph *g, Node *n) {
  static const char *const branch[2] = {"then_branch", "else_branch"};
  for (int b = 0; b < 2; b++) {
    const Attr *a = ir_attr(n, branch[b]);
    if (!a || a->type != AT_GRAPH || !a->sub) return ir_errorf(g, n, "attribute '%s' (a graph) is missing", branch[b]);
    if (a->sub->noutputs != n->nout)
      return ir_errorf(g, n, "%s has %d outputs, the node %d", branch[b], a->sub->noutputs, n->nout);
  }
  const Value *c = n->in[0];
  if (c->kind != VK_CONST || !c->data)
    return ir_errorf(g, n, "the condition must be known at compile time (computed from shapes or constants); "
                           "run-time branching is not supported yet");
  if (ir_numel(c) != 1) return ir_errorf(g, n, "the condition '%s' has %lld elements, expected 1", c->name, (long long)ir_numel(c));
  return 0;
}
