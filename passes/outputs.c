/* outputs.c — every graph output gets a buffer of its own: an output that is a constant, a graph
 * input, or listed twice is copied by an Identity node into a fresh value. */
#include "passes.h"
#include "../ir/ops.h"

int pass_outputs(Graph *g) {
  for (int i = 0; i < g->noutputs; i++) {
    Value *v = g->outputs[i];
    bool repeated = false;
    for (int j = 0; j < i; j++) if (g->outputs[j] == v) repeated = true;
    if (v->kind == VK_TEMP && !repeated) continue;
    Node *n = ir_node(g, NULL, "Identity", g->opset);
    Value *copy = ir_value(g, v->name);
    ir_add_input(g, n, v);
    ir_add_output(g, n, copy);
    for (int d = 0; d < IR_MAX_RANK; d++) copy->dim_names[d] = v->dim_names[d];
    if (!repeated) v->is_output = false;
    copy->is_output = true;
    g->outputs[i] = copy;
    if (pass_infer_node(g, n)) return -1;
  }
  ir_recount_uses(g);
  return 0;
}
