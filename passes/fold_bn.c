/* fold_bn.c — BatchNormalization (inference, constant statistics): folded into the preceding Conv's weights
 * and bias when the Conv's output feeds only the BN (at -O1 and above), otherwise rewritten as
 * x * s + t with per-channel constants s = scale / sqrt(var + eps), t = B - mean * s. The other forms
 * (run-time statistics, training_mode) keep their node and run rt_batchnorm_f32. */
#include "passes.h"
#include "../ir/ops.h"

#include <math.h>
#include <string.h>

extern int pass_opt_level;

static bool all_const(Node *n, int from, int to) {
  for (int k = from; k < to; k++) if (!n->in[k] || n->in[k]->kind != VK_CONST) return false;
  return true;
}

/* per-channel s and t in double precision */
static void bn_coeffs(Node *bn, int64_t c, double *s, double *t) {
  const float *scale = bn->in[1]->data, *bias = bn->in[2]->data, *mean = bn->in[3]->data, *var = bn->in[4]->data;
  double eps = ir_attr_float(bn, "epsilon", 1e-5f);
  for (int64_t i = 0; i < c; i++) {
    s[i] = scale[i] / sqrt((double)var[i] + eps);
    t[i] = bias[i] - mean[i] * s[i];
  }
}

static int fold_into_conv(Graph *g, Node *conv, Node *bn, int64_t c) {
  double s[c > 0 ? c : 1], t[c > 0 ? c : 1];
  bn_coeffs(bn, c, s, t);
  Value *w = conv->in[1], *b = conv->nin > 2 ? conv->in[2] : NULL;
  char name[256];
  snprintf(name, sizeof name, "%s.bnfolded", w->name);
  int64_t kdims[1] = {c};
  int64_t wdims[IR_MAX_RANK];
  for (int i = 0; i < w->rank; i++) wdims[i] = w->dims[i].c;
  Value *nw = ir_const(g, name, DT_FLOAT, w->rank, wdims, NULL);
  snprintf(name, sizeof name, "%s.bnbias", conv->name);
  Value *nb = ir_const(g, name, DT_FLOAT, 1, kdims, NULL);
  int64_t per = ir_numel(w) / c;
  const float *wd = w->data;
  float *nwd = nw->data, *nbd = nb->data;
  for (int64_t k = 0; k < c; k++) {
    for (int64_t j = 0; j < per; j++) nwd[k * per + j] = (float)(wd[k * per + j] * s[k]);
    nbd[k] = (float)((b ? ((const float *)b->data)[k] : 0.0) * s[k] + t[k]);
  }
  conv->in[1] = nw;
  if (conv->nin < 3) conv->nin = 3;
  conv->in[2] = nb;
  conv->out[0] = bn->out[0];
  bn->out[0]->producer = conv;
  bn->dead = true;
  return 0;
}

static int decompose(Graph *g, Node *bn, int64_t c) {
  Value *x = bn->in[0];
  double s[c > 0 ? c : 1], t[c > 0 ? c : 1];
  bn_coeffs(bn, c, s, t);
  int64_t dims[IR_MAX_RANK];
  dims[0] = c;
  for (int i = 1; i < x->rank - 1; i++) dims[i] = 1;
  char name[256];
  snprintf(name, sizeof name, "%s.scale", bn->name);
  Value *sv = ir_const(g, name, DT_FLOAT, x->rank - 1, dims, NULL);
  snprintf(name, sizeof name, "%s.shift", bn->name);
  Value *tv = ir_const(g, name, DT_FLOAT, x->rank - 1, dims, NULL);
  for (int64_t i = 0; i < c; i++) { ((float *)sv->data)[i] = (float)s[i]; ((float *)tv->data)[i] = (float)t[i]; }
  Value *y = bn->out[0];
  snprintf(name, sizeof name, "%s.scaled", bn->name);
  Value *mid = ir_value(g, name);
  /* the BN node becomes the Mul; an Add follows it */
  bn->op = OP_Mul; bn->op_type = "Mul"; bn->nattr = 0;
  bn->in[1] = sv; bn->nin = 2; bn->nout = 1; bn->out[0] = mid; mid->producer = bn;
  if (pass_infer_node(g, bn)) return -1;
  snprintf(name, sizeof name, "%s.shifted", bn->name);
  Node *add = ir_insert_after(g, bn, name, "Add");
  ir_add_input(g, add, mid);
  ir_add_input(g, add, tv);
  ir_add_output(g, add, y);
  return pass_infer_node(g, add);
}

int pass_fold_bn(Graph *g) {
  ir_recount_uses(g);
  for (int i = 0; i < g->nnodes; i++) {
    Node *bn = g->nodes[i];
    if (bn->dead || bn->op != OP_BatchNormalization) continue;
    /* training mode or run-time statistics: the node's own kernel (ir/ops/norm.c) */
    if (ir_attr_int(bn, "training_mode", 0) || !all_const(bn, 1, 5)) continue;
    Value *x = bn->in[0];
    int64_t c = x->dims[1].c;
    Node *p = x->producer;
    if (pass_opt_level >= 1 && p && p->op == OP_Conv && !p->dead && x->nuses == 1 && !x->is_output && !p->act && !p->res &&
        all_const(p, 1, p->nin > 2 && p->in[2] ? 3 : 2)) {
      if (fold_into_conv(g, p, bn, c)) return -1;
    } else if (decompose(g, bn, c)) return -1;
  }
  ir_compact(g);
  return 0;
}
