/* fold_affine.c — a Mul, Div, Add or Sub by a per-channel (or scalar) constant right after a Conv or
 * ConvTranspose is folded into the conv's weights and bias:
 *   conv(x, w, b) * s  ->  conv(x, w*s, b*s)        conv(x, w, b) / s  ->  conv(x, w/s, b/s)
 *   conv(x, w, b) + t  ->  conv(x, w, b+t)          conv(x, w, b) - t  ->  conv(x, w, b-t)
 * (s, t: one value, or one per output channel, e.g. [1,K,1,1]). Paddle exports spell their learnable
 * affine blocks (PP-LCNetV3) and some BatchNorms this way; each fold removes one pass over the
 * activation. Repeats while a conv's single reader qualifies. The conv must not have an epilogue yet
 * (this runs before fuse_act) and its weights and bias must be constants. New constants are made;
 * the old ones are left to whoever else reads them. */
#include "passes.h"
#include "../ir/ops.h"
#include "../ir/ops/opcommon.h"

#include <stdlib.h>
#include <string.h>

/* per-channel values of constant v broadcast against y = [N, K, ...]: out[k] for k < K; false if v
 * varies along any other axis of y or would broadcast y to a larger shape */
static bool channel_vector(const Value *v, const Value *y, double *out, int64_t kc) {
  if (!v || v->kind != VK_CONST || !v->data || !ir_dtype_is_float(v->dt) || v->rank > y->rank) return false;
  int caxis = 1 - (y->rank - v->rank);   /* v's axis aligned with y's channel axis (may be out of range) */
  for (int i = 0; i < v->rank; i++) {
    if (!ir_dim_known(v->dims[i])) return false;
    int64_t d = v->dims[i].c;
    if (i == caxis ? (d != 1 && d != kc) : d != 1) return false;
  }
  int64_t n = ir_numel(v);
  for (int64_t k = 0; k < kc; k++) out[k] = oc_getf(v, n == 1 ? 0 : k);
  return true;
}

static bool is_conv(const Node *n) { return n->op == OP_Conv || n->op == OP_ConvTranspose; }

static bool try_fold(Graph *g, Node *conv) {
  Value *y = conv->out[0], *w = conv->in[1], *b = conv->nin > 2 ? conv->in[2] : NULL;
  if (conv->act || conv->res || conv->wpack || y->is_output || y->nuses != 1 || y->rank < 2 || !ir_dim_known(y->dims[1])) return false;
  if (w->kind != VK_CONST || !w->data || w->dt != DT_FLOAT || (b && (b->kind != VK_CONST || !b->data || b->dt != DT_FLOAT))) return false;
  Node *m = pass_single_consumer(g, y);
  if (!m || m->dead || m->nin != 2 || m->act || m->res) return false;
  int op = m->op;
  if (op != OP_Mul && op != OP_Add && op != OP_Div && op != OP_Sub) return false;
  int ci = m->in[0] == y ? 1 : 0;
  if (m->in[1 - ci] != y || ((op == OP_Div || op == OP_Sub) && ci != 1)) return false;   /* y / c, y - c only */
  if (!ir_same_shape(m->out[0], y)) return false;
  int64_t kc = y->dims[1].c;
  double *c = malloc((size_t)kc * sizeof *c);
  if (!c) return false;
  if (!channel_vector(m->in[ci], y, c, kc)) { free(c); return false; }
  bool scale = op == OP_Mul || op == OP_Div;
  for (int64_t k = 0; k < kc; k++) {
    if (op == OP_Div) c[k] = 1.0 / c[k];
    if (op == OP_Sub) c[k] = -c[k];
    if (!isfinite(c[k])) { free(c); return false; }
  }
  char name[256];
  int64_t kdims[1] = {kc};
  if (scale) {
    /* weights: Conv [K][C/g][kh][kw] scales along axis 0; ConvTranspose [C][K/g][kh][kw] along axis 1 */
    int64_t wdims[IR_MAX_RANK];
    for (int i = 0; i < w->rank; i++) wdims[i] = w->dims[i].c;
    snprintf(name, sizeof name, "%s.scaled", w->name);
    Value *nw = ir_const(g, name, DT_FLOAT, w->rank, wdims, NULL);
    const float *wd = w->data;
    float *nwd = nw->data;
    int64_t per = 1;
    for (int i = 2; i < w->rank; i++) per *= wdims[i];
    if (conv->op == OP_Conv) {
      per *= wdims[1];
      for (int64_t k = 0; k < kc; k++)
        for (int64_t j = 0; j < per; j++) nwd[k * per + j] = (float)(wd[k * per + j] * c[k]);
    } else {
      int64_t kg = wdims[1], groups = kc / kg;
      for (int64_t ci2 = 0; ci2 < wdims[0]; ci2++)
        for (int64_t col = 0; col < kg; col++) {
          int64_t k = (ci2 / (wdims[0] / groups)) * kg + col;
          for (int64_t j = 0; j < per; j++) nwd[(ci2 * kg + col) * per + j] = (float)(wd[(ci2 * kg + col) * per + j] * c[k]);
        }
    }
    conv->in[1] = nw;
  }
  snprintf(name, sizeof name, "%s.affbias", conv->name);
  Value *nb = ir_const(g, name, DT_FLOAT, 1, kdims, NULL);
  float *nbd = nb->data;
  for (int64_t k = 0; k < kc; k++) {
    double bv = b ? ((const float *)b->data)[k] : 0.0;
    nbd[k] = (float)(scale ? bv * c[k] : bv + c[k]);
  }
  free(c);
  if (conv->nin < 3) conv->nin = 3;
  conv->in[2] = nb;
  conv->out[0] = m->out[0];
  m->out[0]->producer = conv;
  m->dead = true;
  return true;
}

int pass_fold_affine(Graph *g) {
  ir_recount_uses(g);
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead || !is_conv(n)) continue;
    while (try_fold(g, n)) ir_recount_uses(g);
  }
  ir_compact(g);
  return 0;
}
