/* fold_channel_scale.c — y = x * g with g a per-channel gate [N or 1, C, 1, 1] (the output of a
 * squeeze-excite block), read only by a pointwise Conv (1x1, stride 1, no padding, group 1), becomes that
 * Conv's input scale (Node.xscale, RtConv2d.xscale): the conv multiplies each input channel by its gate
 * while it packs its B strips, a copy it makes anyway, so the scaled tensor y is never written and read
 * back (efficientnet_b0: 16 such Mul nodes, ~1 ms of ~33). The product is rounded to float before the
 * conv's multiply, as the Mul node rounded it: the results are bit-identical. */
#include "passes.h"
#include "../ir/ops.h"

#include <string.h>

static bool all_equal(const Node *n, const char *name, int64_t v) {
  const int64_t *a;
  int k = ir_attr_ints(n, name, &a);
  for (int i = 0; i < k; i++) if (a[i] != v) return false;
  return true;
}

/* a 2-D Conv that is a plain 1x1 GEMM over its input */
static bool pointwise(const Node *c) {
  if (c->op != OP_Conv || c->nin < 2 || c->wino || c->xscale) return false;
  const Value *x = c->in[0], *w = c->in[1];
  if (x->rank != 4 || w->rank != 4 || !ir_shape_known(x) || !ir_shape_known(w)) return false;
  if (w->dims[2].c != 1 || w->dims[3].c != 1 || ir_attr_int(c, "group", 1) != 1) return false;
  const char *ap = ir_attr_str(c, "auto_pad", "NOTSET");
  if (strcmp(ap, "NOTSET") && strcmp(ap, "VALID") && strcmp(ap, "SAME_UPPER") && strcmp(ap, "SAME_LOWER")) return false;
  return all_equal(c, "strides", 1) && all_equal(c, "pads", 0) && all_equal(c, "dilations", 1);
}

int pass_fold_channel_scale(Graph *g) {
  bool changed = false;
  for (int i = 0; i < g->nnodes; i++) {
    Node *m = g->nodes[i];
    if (m->dead || m->op != OP_Mul || m->nin != 2 || m->act || m->res || m->out[0]->dt != DT_FLOAT) continue;
    Value *y = m->out[0];
    Node *c = pass_single_consumer(g, y);       /* read once (so only as the conv's x), not a graph output */
    if (!c || !pass_private_to(g, y, c) || c->in[0] != y || !pointwise(c)) continue;
    for (int s = 0; s < 2; s++) {
      Value *x = m->in[s], *gate = m->in[1 - s];
      if (x->dt != DT_FLOAT || gate->dt != DT_FLOAT || !ir_shape_known(gate) || gate->rank != 4) continue;
      if (!ir_same_shape(x, y)) continue;                    /* the gate broadcasts into x, not the reverse */
      if (gate->dims[1].c != x->dims[1].c || gate->dims[2].c != 1 || gate->dims[3].c != 1) continue;
      if (gate->dims[0].c != 1 && gate->dims[0].c != x->dims[0].c) continue;
      c->in[0] = x;
      c->xscale = gate;
      m->dead = true;
      changed = true;
      break;
    }
  }
  if (changed) ir_compact(g);                  /* also recounts the uses */
  return 0;
}
