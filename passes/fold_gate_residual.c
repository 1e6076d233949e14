/* fold_gate_residual.c — y + y * g, with g a gate that broadcasts over y (the squeeze-excite blocks of
 * PP-LCNet / PP-HGNet add the gated tensor back to itself), becomes y * (1 + g): the small Add moves
 * onto the gate, and the big tensor is read once instead of twice. Rounding differs from the two-node
 * form by one float rounding of the product. */
#include "passes.h"
#include "../ir/ops.h"

#include <stdio.h>

/* add = Add(y, m) or Add(m, y) with m = Mul(y, gate) or Mul(gate, y) private to add */
static bool try_fold(Graph *g, Node *add) {
  if (add->act || add->res || add->nin != 2 || add->out[0]->dt != DT_FLOAT) return false;
  for (int s = 0; s < 2; s++) {
    Value *y = add->in[s], *mv = add->in[1 - s];
    Node *m = mv->producer;
    if (!m || m->dead || m->op != OP_Mul || m->act || m->res || m->nin != 2 || !pass_private_to(g, mv, add)) continue;
    int yi = m->in[0] == y ? 0 : m->in[1] == y ? 1 : -1;
    if (yi < 0) continue;
    Value *gate = m->in[1 - yi];
    if (gate == y || gate->dt != DT_FLOAT || !gate->producer || gate->producer->dead) continue;
    if (!ir_shape_known(y) || !ir_shape_known(gate) || ir_numel(gate) >= ir_numel(y)) continue;
    if (!ir_same_shape(mv, y) || !ir_same_shape(add->out[0], y)) continue;
    char name[256];
    snprintf(name, sizeof name, "%s.one", m->name);
    float one = 1.0f;
    Value *c1 = ir_const(g, name, DT_FLOAT, 0, NULL, &one);
    snprintf(name, sizeof name, "%s.plus1", m->name);
    Node *inc = ir_insert_after(g, gate->producer, name, "Add");
    Value *g1 = ir_value(g, name);
    ir_add_input(g, inc, gate);
    ir_add_input(g, inc, c1);
    ir_add_output(g, inc, g1);
    if (pass_infer_node(g, inc)) return false;
    m->in[1 - yi] = g1;
    m->out[0] = add->out[0];
    add->out[0]->producer = m;
    add->dead = true;
    ir_recount_uses(g);
    return true;
  }
  return false;
}

int pass_fold_gate_residual(Graph *g) {
  ir_recount_uses(g);
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (!n->dead && n->op == OP_Add) try_fold(g, n);
    if (g->failed) return -1;
  }
  ir_compact(g);
  return 0;
}
