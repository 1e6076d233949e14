/* fuse_qdyn.c — the float rescale after an integer conv or MatMul, as onnxruntime's quantize_dynamic writes it (the
 * real dynamically quantized models carry it: IS-Net on npm, transformers.js's q8 exports):
 *
 *   ConvInteger(xq, wq, xz, wz)   -> Cast(to float) -> Mul(·, s) -> [Add(·, b)] -> [Relu | Clip] -> y
 *   MatMulInteger(aq, bq, az, bz) -> (the same)
 *
 * becomes the internal ConvIntegerScaled / MatMulIntegerScaled(xq, wq, xz, wz, s, b) with the activation on the
 * node: the kernel writes act(float(acc) * s[c] + b[c]) straight from its int32 accumulators
 * (runtime/kernels/qgemm.h, RT_Q_FLOAT_OUT), one float32 step each, as the four nodes compute it, so the floats are
 * the unfused graph's; the int32 tensor and two float tensors of the product's size are never written. c is the
 * conv's output channel (axis 1 of NCHW) or the MatMul's column (the last axis); s: one value or one per c
 * (typically x_scale * w_scale, computed at run time), b: one per c; both broadcast along that axis only. Every
 * intermediate must be private to the chain; the fused node takes the place of the chain's last node. Runs at every
 * -O level, after fuse_qdq. */
#include "passes.h"
#include "../ir/ops.h"
#include "../ir/ops/opcommon.h"
#include "../runtime/rt_abi.h"

/* v broadcast against a rank-yr output with k entries along axis `axis` (1: NCHW channels; yr - 1: a MatMul's
 * columns): 0 if it is one value, 1 if one per entry along that axis only, -1 otherwise */
static int chan_of(const Value *v, int yr, int axis, int64_t k) {
  if (!v || v->dt != DT_FLOAT || !ir_shape_known(v)) return -1;
  if (ir_numel(v) == 1) return 0;
  if (v->rank > yr || v->rank < yr - axis) return -1;
  for (int j = 0; j < v->rank; j++) {
    int ax = yr - v->rank + j;
    if (v->dims[j].c != (ax == axis ? k : 1)) return -1;
  }
  return 1;
}

/* the next node of the chain: v's only reader, of type op, reading v privately; *other: its other input */
static Node *next_of(Graph *g, Value *v, int op, Value **other) {
  Node *c = pass_single_consumer(g, v);
  if (!c || c->op != op || !pass_private_to(g, v, c)) return NULL;
  if (other) {
    if (c->nin != 2) return NULL;
    *other = c->in[0] == v ? c->in[1] : c->in[0];
    if (*other == v) return NULL;
  }
  return c;
}

static int fuse(Graph *g, Node *n) {
  bool conv = n->op == OP_ConvInteger;
  if (n->act || n->wpack || n->nin < 2 || !n->out[0] || n->out[0]->rank < (conv ? 3 : 2) || !ir_shape_known(n->in[1])) return 0;
  Value *acc = n->out[0];
  int yr = acc->rank, axis = conv ? 1 : yr - 1;
  if (!conv && n->in[1]->rank != 2) return 0;   /* per-column vectors need a 2-D b (op_qmatmul_infer) */
  int64_t k = conv ? n->in[1]->dims[0].c : n->in[1]->dims[1].c;
  Node *cast = next_of(g, acc, OP_Cast, NULL);
  if (!cast || ir_attr_int(cast, "to", 0) != DT_FLOAT) return 0;
  Value *s = NULL, *b = NULL;
  Node *mul = next_of(g, cast->out[0], OP_Mul, &s);
  if (!mul || chan_of(s, yr, axis, k) < 0 || mul->out[0]->rank != yr) return 0;
  Node *last = mul, *add = next_of(g, mul->out[0], OP_Add, &b);
  if (add && chan_of(b, yr, axis, k) == 1 && add->out[0]->rank == yr) last = add;
  else add = NULL, b = NULL;
  Node *act = pass_single_consumer(g, last->out[0]);
  RtAct a = {RT_ACT_NONE, 0, 0};
  if (act && (act->op == OP_Relu || act->op == OP_Clip) && pass_private_to(g, last->out[0], act) && !op_unary_act(g, act, &a))
    last = act;
  else
    act = NULL;
  Value *in[6] = {n->in[0], n->in[1], n->nin > 2 ? n->in[2] : NULL, n->nin > 3 ? n->in[3] : NULL, s, b};
  n->in = ir_alloc(&g->arena, 6 * sizeof *n->in);
  for (int i = 0; i < 6; i++) n->in[i] = in[i];
  n->nin = b ? 6 : 5;
  n->op = conv ? OP_ConvIntegerScaled : OP_MatMulIntegerScaled;
  n->op_type = conv ? "ConvIntegerScaled" : "MatMulIntegerScaled";
  n->act = a.kind;
  n->act_a = a.a;
  n->act_b = a.b;
  n->out[0] = last->out[0];
  last->out[0]->producer = n;
  /* n takes last's place in the node order: s and b may be computed after the ConvInteger (x_scale * w_scale is) */
  int at = n->index;
  g->nodes[at] = last;
  g->nodes[last->index] = n;
  n->index = last->index;
  last->index = at;
  cast->dead = mul->dead = true;
  if (add) add->dead = true;
  if (act) act->dead = true;
  return 1;
}

int pass_fuse_qdyn(Graph *g) {
  int fused = 0;
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (!n->dead && (n->op == OP_ConvInteger || n->op == OP_MatMulInteger)) fused += fuse(g, n);
  }
  if (ir_failed(g)) return -1;
  if (!fused) return 0;
  ir_recount_uses(g);
  return pass_dce(g);
}
