/* infer.c — re-runs type and shape inference over every live node (checks that rewrites kept shapes). */
#include "passes.h"

int pass_infer(Graph *g) {
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    Value saved = *n->out[0];
    if (pass_infer_node(g, n)) return -1;
    if (saved.rank >= 0 && !ir_same_shape(&saved, n->out[0]))
      return ir_errorf(g, n, "internal: output shape changed after a rewrite");
  }
  return 0;
}
