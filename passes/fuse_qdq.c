/* fuse_qdq.c — the QDQ form of a statically quantized model (onnxruntime's quantize_static) becomes integer
 * kernels, as onnxruntime's own QDQ transformer does it:
 *
 *   DequantizeLinear(xq) --\
 *   DequantizeLinear(wq) ---> Conv -> [Relu | Clip] -> QuantizeLinear -> yq
 *   DequantizeLinear(bq) --/
 *
 * becomes QLinearConv(xq, xs, xz, wq, ws, wz, ys, yz, bq) -> yq: int32 accumulation of the integers, the bias
 * added in int32, requantized once (runtime/kernels/qgemm.c). A Relu or Clip between the Conv and the
 * QuantizeLinear is exact as a clamp of yq (quantization is monotonic, so q(max(v, 0)) = max(q(v), q(0))); it
 * stays on the node as its fused activation and the lowering turns it into the integer range.
 * Conditions: x per tensor, w constant int8/uint8 per tensor or per output channel (axis 0), the bias (when
 * there is one) a constant int32 DequantizeLinear with no zero point, y's QuantizeLinear per tensor, and the
 * Conv's (and activation's) output read by nothing else. The DequantizeLinear nodes stay when something else
 * reads them (DCE removes the rest). An Add of two dequantized tensors followed by a QuantizeLinear becomes
 * QLinearAdd (fuse_add); a MaxPool between a DequantizeLinear and a QuantizeLinear of one scale and zero point pools
 * the integers (fuse_maxpool); a Concat of dequantized tensors followed by a QuantizeLinear concatenates the
 * integers, requantizing the inputs of another scale (fuse_concat, the internal op Requantize). Runs at every -O level: without it, a QDQ model dequantizes its weights
 * at every run. */
#include "passes.h"
#include "../ir/ops.h"
#include "../ir/ops/opcommon.h"
#include "../runtime/rt_abi.h"

#include <string.h>

static Node *dq_of(const Value *v) {
  Node *p = v ? v->producer : NULL;
  return p && !p->dead && p->op == OP_DequantizeLinear ? p : NULL;
}
static bool cdata(const Value *v) { return v && v->kind == VK_CONST && v->data; }
static bool is8(DType t) { return t == DT_UINT8 || t == DT_INT8; }
static bool scalar(const Value *v) { return v && ir_numel(v) == 1 && v->rank <= 1; }
static Value *opt_in(const Node *n, int k) { return k < n->nin ? n->in[k] : NULL; }

/* a per-tensor (de)quantization: scale a float32 constant scalar, zero point absent or a constant scalar */
static bool per_tensor(const Node *q) {
  Value *s = opt_in(q, 1), *z = opt_in(q, 2);
  return cdata(s) && s->dt == DT_FLOAT && scalar(s) && (!z || (cdata(z) && scalar(z) && is8(z->dt)));
}

/* the weight's DequantizeLinear: constant 8-bit w, per tensor or per output channel (axis 0) */
static bool weight_ok(const Node *d, int64_t k) {
  Value *w = d->in[0], *s = opt_in(d, 1), *z = opt_in(d, 2);
  if (!cdata(w) || !is8(w->dt) || !cdata(s) || s->dt != DT_FLOAT) return false;
  if (scalar(s) && (!z || scalar(z))) return !z || (cdata(z) && z->dt == w->dt);
  int64_t axis = ir_attr_int(d, "axis", 1);
  if (axis < 0) axis += w->rank;
  if (axis != 0 || s->rank != 1 || ir_numel(s) != k) return false;
  return !z || (cdata(z) && z->dt == w->dt && z->rank == 1 && ir_numel(z) == k);
}

/* the bias's DequantizeLinear: constant int32 [k], no zero point (or all zeros) */
static bool bias_ok(const Node *d, int64_t k) {
  Value *b = d->in[0], *z = opt_in(d, 2);
  if (!cdata(b) || b->dt != DT_INT32 || b->rank != 1 || ir_numel(b) != k) return false;
  if (z) {
    if (!cdata(z) || z->dt != DT_INT32) return false;
    for (int64_t i = 0; i < ir_numel(z); i++) if (((const int32_t *)z->data)[i]) return false;
  }
  return true;
}

/* the activation between the Conv and the QuantizeLinear: Relu, or Clip with constant bounds */
static bool act_of(const Node *a, int *kind, float *lo, float *hi) {
  if (a->op == OP_Relu) { *kind = RT_ACT_RELU; *lo = 0.0f; *hi = 0.0f; return true; }
  if (a->op != OP_Clip) return false;
  *kind = RT_ACT_CLIP;
  *lo = -__builtin_inff();
  *hi = __builtin_inff();
  if (a->opset < 11) {
    *lo = ir_attr_float(a, "min", *lo);
    *hi = ir_attr_float(a, "max", *hi);
    return true;
  }
  Value *mn = opt_in(a, 1), *mx = opt_in(a, 2);
  if ((mn && (!cdata(mn) || mn->dt != DT_FLOAT || !scalar(mn))) || (mx && (!cdata(mx) || mx->dt != DT_FLOAT || !scalar(mx))))
    return false;
  if (mn) *lo = *(const float *)mn->data;
  if (mx) *hi = *(const float *)mx->data;
  return true;
}

/* n becomes op over the nin inputs in */
static void reop(Graph *g, Node *n, int op, const char *type, const char *domain, Value *const *in, int nin) {
  n->in = ir_alloc(&g->arena, (size_t)nin * sizeof *n->in);
  memcpy(n->in, in, (size_t)nin * sizeof *n->in);
  n->nin = nin;
  n->op = op;
  n->op_type = type;
  if (domain) n->domain = domain;
}
/* ... writing q's output in its place (q dies) */
static void become(Graph *g, Node *n, int op, const char *type, const char *domain, Node *q, Value *const *in, int nin) {
  reop(g, n, op, type, domain, in, nin);
  n->out[0] = q->out[0];
  q->out[0]->producer = n;
  q->dead = true;
}

static int fuse_conv(Graph *g, Node *n) {
  if (n->nin < 2 || n->act || n->res || n->wpack) return 0;
  Node *dx = dq_of(n->in[0]), *dw = dq_of(n->in[1]), *db = n->nin > 2 && n->in[2] ? dq_of(n->in[2]) : NULL;
  if (!dx || !dw || (n->nin > 2 && n->in[2] && !db)) return 0;
  if (!is8(dx->in[0]->dt) || !per_tensor(dx)) return 0;
  if (!ir_shape_known(n->in[1])) return 0;
  int64_t k = n->in[1]->dims[0].c;
  if (!weight_ok(dw, k) || (db && !bias_ok(db, k))) return 0;
  /* the output side: [Relu | Clip] -> QuantizeLinear, each read only by the next */
  Value *y = n->out[0];
  Node *c1 = pass_single_consumer(g, y), *act = NULL, *q;
  if (!c1 || !pass_private_to(g, y, c1)) return 0;
  int kind = 0;
  float lo = 0, hi = 0;
  if (c1->op == OP_Relu || c1->op == OP_Clip) {
    if (c1->in[0] != y || !act_of(c1, &kind, &lo, &hi)) return 0;
    act = c1;
    Value *y2 = act->out[0];
    q = pass_single_consumer(g, y2);
    if (!q || !pass_private_to(g, y2, q)) return 0;
  } else {
    q = c1;
  }
  if (q->op != OP_QuantizeLinear || !per_tensor(q) || !is8(q->out[0]->dt)) return 0;
  if (opt_in(q, 2) == NULL && q->out[0]->dt != DT_UINT8) return 0;
  /* the node becomes QLinearConv, reading the integers */
  become(g, n, OP_QLinearConv, "QLinearConv", NULL, q, (Value *[]){dx->in[0], dx->in[1], opt_in(dx, 2), dw->in[0], dw->in[1],
         opt_in(dw, 2), q->in[1], opt_in(q, 2), db ? db->in[0] : NULL}, db ? 9 : 8);
  n->act = kind;
  n->act_a = lo;
  n->act_b = hi;
  if (act) act->dead = true;
  return 1;
}

/* DequantizeLinear(a) + DequantizeLinear(b) -> QuantizeLinear, a and b of one shape: QLinearAdd, the same float32
 * steps in one kernel (runtime/kernels/qadd.c), so the bytes are the unfused graph's */
static int fuse_add(Graph *g, Node *n) {
  if (n->nin != 2 || n->act || n->res) return 0;
  Node *da = dq_of(n->in[0]), *db = dq_of(n->in[1]);
  if (!da || !db || !per_tensor(da) || !per_tensor(db) || !is8(da->in[0]->dt) || !is8(db->in[0]->dt)) return 0;
  Value *a = da->in[0], *b = db->in[0];
  if (a->rank != b->rank) return 0;
  for (int i = 0; i < a->rank; i++) if (!ir_dim_eq(a->dims[i], b->dims[i])) return 0;
  Node *q = pass_single_consumer(g, n->out[0]);
  if (!q || !pass_private_to(g, n->out[0], q) || q->op != OP_QuantizeLinear || !per_tensor(q) || !is8(q->out[0]->dt)) return 0;
  if (!opt_in(q, 2) && q->out[0]->dt != DT_UINT8) return 0;
  become(g, n, OP_QLinearAdd, "QLinearAdd", "com.microsoft", q,
         (Value *[]){a, da->in[1], opt_in(da, 2), b, db->in[1], opt_in(db, 2), q->in[1], opt_in(q, 2)}, 8);
  return 1;
}

/* two per-tensor (de)quantizations with the same scale and zero point (values, and the zero point's type) */
static bool same_q(const Node *a, const Node *b) {
  Value *za = opt_in(a, 2), *zb = opt_in(b, 2);
  if (*(const float *)a->in[1]->data != *(const float *)b->in[1]->data) return false;
  DType ta = za ? za->dt : DT_UINT8, tb = zb ? zb->dt : DT_UINT8;
  int va = za ? (ta == DT_INT8 ? *(const int8_t *)za->data : *(const uint8_t *)za->data) : 0;
  int vb = zb ? (tb == DT_INT8 ? *(const int8_t *)zb->data : *(const uint8_t *)zb->data) : 0;
  return ta == tb && va == vb;
}

/* DequantizeLinear -> MaxPool -> QuantizeLinear with one scale (> 0) and zero point: the MaxPool of the integers.
 * Dequantization is increasing, so the max commutes with it, and q(dq(v)) = v for every 8-bit v (|v - zp| <= 255:
 * the float32 product and quotient stay within half a unit of v - zp), so the bytes are the unfused graph's. */
static int fuse_maxpool(Graph *g, Node *n) {
  Node *d = dq_of(n->in[0]);
  if (!d || !per_tensor(d) || !is8(d->in[0]->dt) || !(*(const float *)d->in[1]->data > 0)) return 0;
  if (n->nout > 1 && n->out[1] && (n->out[1]->nuses || n->out[1]->is_output)) return 0;   /* Indices */
  Node *q = pass_single_consumer(g, n->out[0]);
  if (!q || !pass_private_to(g, n->out[0], q) || q->op != OP_QuantizeLinear || !per_tensor(q) || !same_q(d, q)) return 0;
  if (q->out[0]->dt != d->in[0]->dt) return 0;
  n->in[0] = d->in[0];
  n->out[0] = q->out[0];
  q->out[0]->producer = n;
  q->dead = true;
  return 1;
}

/* Concat of dequantized tensors -> QuantizeLinear: a Concat of the 8-bit tensors, each input taken as it is when it
 * has the output's scale and zero point, else requantized into them (its DequantizeLinear, read only by the
 * Concat, becomes a Requantize); the bytes are the unfused graph's (q(dq(v)) = v for the first kind) */
static int fuse_concat(Graph *g, Node *n) {
  Node *q = pass_single_consumer(g, n->out[0]);
  if (!q || !pass_private_to(g, n->out[0], q) || q->op != OP_QuantizeLinear || !per_tensor(q) || !is8(q->out[0]->dt)) return 0;
  if (!opt_in(q, 2) && q->out[0]->dt != DT_UINT8) return 0;
  DType t = q->out[0]->dt;
  for (int i = 0; i < n->nin; i++) {
    Node *d = dq_of(n->in[i]);
    if (!d || !per_tensor(d) || !is8(d->in[0]->dt)) return 0;
    bool same = same_q(d, q) && d->in[0]->dt == t && *(const float *)d->in[1]->data > 0;
    if (!same && !pass_private_to(g, d->out[0], n)) return 0;
    for (int j = 0; j < i; j++) if (n->in[j] == n->in[i]) return 0;   /* one value twice: keep it simple */
  }
  for (int i = 0; i < n->nin; i++) {
    Node *d = dq_of(n->in[i]);
    if (same_q(d, q) && d->in[0]->dt == t && *(const float *)d->in[1]->data > 0) { n->in[i] = d->in[0]; continue; }
    reop(g, d, OP_Requantize, "Requantize", NULL, (Value *[]){d->in[0], d->in[1], opt_in(d, 2), q->in[1], opt_in(q, 2)}, 5);
    d->out[0]->dt = t;   /* read only by the Concat: now the requantized bytes */
  }
  n->out[0] = q->out[0];
  q->out[0]->producer = n;
  q->dead = true;
  return 1;
}

int pass_fuse_qdq(Graph *g) {
  int fused = 0;
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    int r = n->op == OP_Conv ? fuse_conv(g, n) : n->op == OP_Add ? fuse_add(g, n) : n->op == OP_MaxPool ? fuse_maxpool(g, n)
            : n->op == OP_Concat ? fuse_concat(g, n) : 0;
    if (r < 0) return -1;
    fused += r;
  }
  if (!fused) return 0;
  ir_recount_uses(g);
  return pass_dce(g);
}
