/* resident_kv.c — a KV cache that stays in the module's memory between calls, appended in place.
 *
 * Pattern (a decoder's cache, as exported by PyTorch):
 *     past  (graph input,  [.., past, ..])  --Concat(axis a)-->  present (graph output, [.., past + seq, ..])
 *     new   ([.., seq, ..])                 --^
 * where `past` has a run-time dim on axis a and present is read only by MatMuls as their B operand.
 *
 * Rewrite: present's storage gets `cap` slots along axis a (cap = its size at the bounds, so the
 * buffer is no larger than before) and the input `past` lives in the first `past` slots of that
 * storage (Value.resident_in). The Concat then copies only `new`, at slot `past`; the MatMuls read
 * present through its strides; and a host that calls again with past' = past + seq need not feed
 * `past` at all: the previous call's present already is this call's past (docs/abi.md,
 * "Resident caches"). Nothing is copied per call but the new rows.
 *
 * Conditions that keep this exact: `past` has no other reader; every other dim is a constant (the
 * strides stay constant); present is not read by anything that expects dense storage (only MatMul
 * B operands with axis a outside the matrix's last dim, which take arbitrary batch strides, and
 * Slices, which copy through strides). */
#include "passes.h"
#include "../ir/ops.h"

#include <stdlib.h>

/* every reader of v reads it through its strides: a MatMul as B (its matrix part stays dense),
 * a FusedAttention as K or V (rows dense), or a Slice as its data */
static bool strided_readers_only(Graph *g, const Value *v, int axis) {
  if (axis > v->rank - 2) return false;
  int uses = 0;
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    Value *reads[IR_MAX_IO + 4];
    int nr = ir_node_reads(n, reads);
    for (int k = 0; k < nr; k++) {
      if (reads[k] != v) continue;
      bool mm = n->op == OP_MatMul && k == 1 && n->in[1] == v && n->in[0] != v;
      bool att = n->op == OP_FusedAttention && (k == 1 || k == 2) && n->in[k] == v && n->in[0] != v &&
                 (n->nin < 4 || n->in[3] != v);
      bool slice = n->op == OP_Slice && k == 0 && n->in[0] == v;
      for (int j = 1; j < n->nin && slice; j++) slice = n->in[j] != v;
      if (!mm && !att && !slice) return false;
      uses++;
    }
  }
  return uses == v->nuses;
}

int pass_resident_kv(Graph *g) {
  ir_recount_uses(g);
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead || n->op != OP_Concat || n->nin != 2 || !n->in[0] || !n->in[1]) continue;
    Value *past = n->in[0], *y = n->out[0];
    if (past->kind != VK_INPUT || past->nuses != 1 || past->resident_in || past->is_output) continue;
    if (!y->is_output || y->kind != VK_TEMP || y->cap > 0 || y->rank != past->rank || y->dt != past->dt) continue;
    bool twice = false;
    for (int k = 0; k < g->noutputs; k++) for (int j = 0; j < k; j++) twice |= g->outputs[k] == y && g->outputs[j] == y;
    if (twice) continue;
    int64_t ax = ir_attr_int(n, "axis", 0);
    if (ax < 0) ax += y->rank;
    if (ax < 0 || ax >= y->rank || ir_dim_known(past->dims[ax])) continue;
    bool other_known = true;
    for (int d = 0; d < y->rank; d++) if (d != ax) other_known &= ir_dim_known(y->dims[d]) && ir_dim_known(past->dims[d]);
    if (!other_known || !strided_readers_only(g, y, (int)ax)) continue;
    y->cap = ir_dim_max(g, y->dims[ax]);
    y->cap_axis = (int)ax;
    past->cap = y->cap;
    past->cap_axis = (int)ax;
    past->resident_in = y;
  }
  return 0;
}
