/* rnn.c — RNN, GRU, LSTM: infer, lower, scratch. One rt_rnn_f32 call runs the whole sequence (all directions,
 * all batch entries). Inputs X, W, R, B, sequence_lens, initial_h (, initial_c, P for LSTM); outputs Y, Y_h
 * (, Y_c), each optional. Only ONNX's default activations are supported (they are what exporters emit);
 * clip, input_forget and other activations are rejected with an error rather than computed wrongly. */
#include "opcommon.h"

/* The checked shape of a recurrent node: gates per cell, directions, hidden size, layout. */
typedef struct { int cell, gates, ndir, layout, rev; int64_t hidden; Dim seq, batch, input; } RnnShape;

static int rnn_shape(Graph *g, Node *n, RnnShape *s) {
  static const char *const acts[3][3] = {{"Tanh"}, {"Sigmoid", "Tanh"}, {"Sigmoid", "Tanh", "Tanh"}};
  Value *x = n->in[0], *w = n->in[1], *r = n->in[2];
  s->cell = n->op == OP_RNN ? 0 : n->op == OP_GRU ? 1 : 2;
  s->gates = s->cell == 0 ? 1 : s->cell == 1 ? 3 : 4;
  const char *dir = ir_attr_str(n, "direction", "forward");
  if (!strcmp(dir, "forward")) { s->ndir = 1; s->rev = 0; }
  else if (!strcmp(dir, "reverse")) { s->ndir = 1; s->rev = 1; }
  else if (!strcmp(dir, "bidirectional")) { s->ndir = 2; s->rev = 2; }
  else return ir_errorf(g, n, "direction '%s' is not forward, reverse or bidirectional", dir);
  int64_t layout = ir_attr_int(n, "layout", 0);
  if (layout != 0 && layout != 1) return ir_errorf(g, n, "layout %lld must be 0 or 1", (long long)layout);
  s->layout = (int)layout;
  if (ir_attr(n, "clip")) return ir_errorf(g, n, "the clip attribute is not supported");
  if (ir_attr_int(n, "input_forget", 0) != 0) return ir_errorf(g, n, "input_forget is not supported");
  int64_t lbr = ir_attr_int(n, "linear_before_reset", 0);
  if (lbr != 0 && lbr != 1) return ir_errorf(g, n, "linear_before_reset %lld must be 0 or 1", (long long)lbr);
  const Attr *a = ir_attr(n, "activations");
  if (a) {                                    /* accepted only when it names the defaults, per direction */
    int na = s->gates == 1 ? 1 : s->gates == 3 ? 2 : 3;
    if (a->type != AT_STRINGS || a->n != na * s->ndir) return ir_errorf(g, n, "activations must list %d names", na * s->ndir);
    for (int i = 0; i < a->n; i++)
      if (strcmp(a->strings[i], acts[s->cell][i % na]))
        return ir_errorf(g, n, "activation '%s' is not supported (only the defaults)", a->strings[i]);
  }
  for (int k = 0; k < 3; k++) if (oc_need_float(g, n, k) || oc_need_rank(g, n, k, 3)) return -1;
  s->seq = x->dims[layout ? 1 : 0];
  s->batch = x->dims[layout ? 0 : 1];
  s->input = x->dims[2];
  s->hidden = ir_attr_int(n, "hidden_size", ir_dim_known(r->dims[2]) ? r->dims[2].c : -1);
  if (s->hidden < 1 || s->hidden > (1 << 20)) return ir_errorf(g, n, "hidden_size must be a known positive size");
  Dim nd = ir_dimc(s->ndir), gh = ir_dimc(s->gates * s->hidden), h = ir_dimc(s->hidden);
  if (!ir_dim_eq(w->dims[0], nd) || !ir_dim_eq(w->dims[1], gh) || !ir_dim_eq(w->dims[2], s->input))
    return ir_errorf(g, n, "W must be [%d, %lld, input size]", s->ndir, (long long)(s->gates * s->hidden));
  if (!ir_dim_eq(r->dims[0], nd) || !ir_dim_eq(r->dims[1], gh) || !ir_dim_eq(r->dims[2], h))
    return ir_errorf(g, n, "R must be [%d, %lld, %lld]", s->ndir, (long long)(s->gates * s->hidden), (long long)s->hidden);
  /* optional inputs: B [ndir, 2*G*H], sequence_lens int32 [batch], initial_h/c [ndir, batch, H] (layout 1:
   * [batch, ndir, H]), P [ndir, 3*H] */
  for (int k = 3; k < n->nin; k++) {
    Value *v = n->in[k];
    if (!v) continue;
    if (k == 4) {
      if (v->dt != DT_INT32 || v->rank != 1 || !ir_dim_eq(v->dims[0], s->batch))
        return ir_errorf(g, n, "sequence_lens must be an int32 vector of the batch size");
      continue;
    }
    if (oc_need_float(g, n, k)) return -1;
    bool ok;
    if (k == 3) ok = v->rank == 2 && ir_dim_eq(v->dims[0], nd) && ir_dim_eq(v->dims[1], ir_dimc(2 * s->gates * s->hidden));
    else if (k == 7) ok = v->rank == 2 && ir_dim_eq(v->dims[0], nd) && ir_dim_eq(v->dims[1], ir_dimc(3 * s->hidden));
    else ok = v->rank == 3 && ir_dim_eq(v->dims[layout ? 1 : 0], nd) && ir_dim_eq(v->dims[layout ? 0 : 1], s->batch) &&
              ir_dim_eq(v->dims[2], h);
    if (!ok) return ir_errorf(g, n, "input %d ('%s') has the wrong shape", k, v->name);
  }
  return 0;
}

int op_rnn_infer(Graph *g, Node *n) {
  RnnShape s;
  if (rnn_shape(g, n, &s)) return -1;
  Dim h = ir_dimc(s.hidden), nd = ir_dimc(s.ndir);
  if (n->out[0]) {                            /* Y: [seq, ndir, batch, H] or [batch, seq, ndir, H] */
    Dim d0[4] = {s.seq, nd, s.batch, h}, d1[4] = {s.batch, s.seq, nd, h};
    oc_set_out(n->out[0], DT_FLOAT, 4, s.layout ? d1 : d0);
  }
  for (int k = 1; k < n->nout; k++) {         /* Y_h, Y_c: [ndir, batch, H] or [batch, ndir, H] */
    if (!n->out[k]) continue;
    Dim d0[3] = {nd, s.batch, h}, d1[3] = {s.batch, nd, h};
    oc_set_out(n->out[k], DT_FLOAT, 3, s.layout ? d1 : d0);
  }
  return 0;
}

int64_t op_rnn_scratch(Graph *g, const Node *n) {
  (void)g;
  int gates = n->op == OP_RNN ? 1 : n->op == OP_GRU ? 3 : 4;
  const Value *r = n->in[2];
  int64_t h = ir_attr_int(n, "hidden_size", r->rank == 3 && ir_dim_known(r->dims[2]) ? r->dims[2].c : 1);
  return (3 + 2 * gates) * h * 4;
}

int op_rnn_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  RnnShape s;
  if (rnn_shape(g, n, &s)) return -1;
#define IN(k) (n->nin > (k) ? n->in[k] : NULL)
#define OUT(k) (n->nout > (k) && n->out[k] && (n->out[k]->nuses > 0 || n->out[k]->is_output) ? n->out[k] : NULL)
  RtRnn p = {.x = cg_addr(cx, n->in[0]), .w = cg_addr(cx, n->in[1]), .r = cg_addr(cx, n->in[2]), .b = cg_addr(cx, IN(3)),
             .lens = cg_addr(cx, IN(4)), .h0 = cg_addr(cx, IN(5)), .c0 = cg_addr(cx, s.cell == 2 ? IN(6) : NULL),
             .p = cg_addr(cx, s.cell == 2 ? IN(7) : NULL), .y = cg_addr(cx, OUT(0)), .yh = cg_addr(cx, OUT(1)),
             .yc = cg_addr(cx, s.cell == 2 ? OUT(2) : NULL), .scratch = cg_scratch(cx, n), .cell = s.cell,
             .hidden = (int32_t)s.hidden, .ndir = s.ndir, .layout = s.layout, .rev = s.rev,
             .lbr = (int32_t)ir_attr_int(n, "linear_before_reset", 0)};
#undef IN
#undef OUT
  CG_DIM(cx, p, seq, s.seq);
  CG_DIM(cx, p, batch, s.batch);
  CG_DIM(cx, p, input, s.input);
  return cg_call(cx, K_rnn_f32, &p, sizeof p, n);
}
