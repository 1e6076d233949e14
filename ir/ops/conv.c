/* conv.c — Conv (1-D, 2-D and 3-D, groups, dilations, padding): infer, lower, and the choice of the Winograd
 * kernel for 3x3 stride-1 convs (which needs scratch; the direct kernel needs none). 3-D convs run the
 * scalar rt_conv3d_f32 (no packed weights, no Winograd, no folded input scale). */
#include "opcommon.h"
#include "../../runtime/pack.h"

static int conv_window(Graph *g, Node *n, Window *w) {
  const Value *wt = n->in[1];
  int64_t ks[IR_MAX_RANK];   /* sized for any rank: oc_window rejects more than 3 spatial dims after this loop */
  if (wt->rank != n->in[0]->rank) return ir_errorf(g, n, "weight '%s' has rank %d, expected %d", wt->name, wt->rank, n->in[0]->rank);
  for (int i = 0; i < wt->rank - 2; i++) {
    if (!ir_dim_known(wt->dims[2 + i])) return oc_need_known(g, n, 1);
    ks[i] = wt->dims[2 + i].c;
  }
  const int64_t *attr_ks;
  int nks = ir_attr_ints(n, "kernel_shape", &attr_ks);
  for (int i = 0; i < nks && i < wt->rank - 2; i++)
    if (attr_ks[i] != ks[i]) return ir_errorf(g, n, "kernel_shape does not match the weight's shape");
  return oc_window(g, n, n->in[0], ks, 3, w);
}

int op_conv_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *w = n->in[1], *b = n->nin > 2 ? n->in[2] : NULL, *y = n->out[0];
  if (oc_need_float(g, n, 0) || oc_need_float(g, n, 1)) return -1;
  Window win;
  if (conv_window(g, n, &win)) return -1;
  int64_t group = ir_attr_int(n, "group", 1);
  if (!ir_dim_known(x->dims[1]) || !ir_dim_known(w->dims[0]) || !ir_dim_known(w->dims[1]))
    return ir_errorf(g, n, "channel counts must be concrete");
  int64_t c = x->dims[1].c, k = w->dims[0].c;
  if (group < 1 || c % group || k % group || w->dims[1].c * group != c)
    return ir_errorf(g, n, "input has %lld channels, weight expects %lld x group %lld", (long long)c, (long long)w->dims[1].c, (long long)group);
  if (b && (b->rank != 1 || !ir_dim_known(b->dims[0]) || b->dims[0].c != k))
    return ir_errorf(g, n, "bias '%s' must have shape [%lld]", b->name, (long long)k);
  y->dt = DT_FLOAT;
  y->rank = x->rank;
  y->dims[0] = x->dims[0];
  y->dims[1] = ir_dimc(k);
  for (int i = 0; i < win.sp; i++) y->dims[2 + i] = win.dout[i];
  return 0;
}

/* Winograd F(m x m, 3x3) for a 2-D Conv with constant 3x3 weights, stride 1, dilation 1, group 1.
 * Each transformed weight is used once per tile (the GEMMs' column count), and the transformed weights are
 * (m+2)^2/9 times the direct ones (x1.8 for F(2x2), x4 for F(4x4)), so the choice is about weight traffic
 * as much as arithmetic. Measured per conv on the reference machine (bench/profile.mjs on resnet18 and
 * squeezenet1_1; tests/kernels/run.sh BUILD --bench-wino), against the packed direct kernel:
 *   - 49+ tiles: F(4x4) 2.6-3x faster than direct (56x56, 28x28), F(2x2) 1.7-2x;
 *   - 16 tiles with 9.4-16.8 MB of transformed weights (resnet18 256ch at 14x14 with F(4x4), 512ch at 7x7
 *     with F(2x2)): no faster than direct (memory bound); with <= 2.4 MB (squeezenet 13x13, F(4x4)): 1.6-2x.
 * So a tile size qualifies with >= 32 tiles, or >= 16 tiles and <= 2.5 MiB of transformed weights;
 * F(4x4) is preferred. Below 8 channels the GEMMs (k = input channels) are too short to pay off. */
int op_conv_winograd(Graph *g, const Node *n) {
  if (g->no_winograd || n->op != OP_Conv || n->nin < 2) return 0;
  const Value *x = n->in[0], *w = n->in[1];
  if (x->rank != 4 || w->rank != 4 || !ir_dim_known(x->dims[1]) || !ir_shape_known(w)) return 0;
  if (w->kind != VK_CONST || w->dt != DT_FLOAT || !w->data || x->dt != DT_FLOAT) return 0;
  if (w->dims[2].c != 3 || w->dims[3].c != 3 || ir_attr_int(n, "group", 1) != 1) return 0;
  Window win;
  if (conv_window(g, (Node *)n, &win)) return 0;
  if (win.s[0] != 1 || win.s[1] != 1 || win.d[0] != 1 || win.d[1] != 1) return 0;
  int64_t c = x->dims[1].c, k = w->dims[0].c, oh = win.out[0], ow = win.out[1];
  if (c < 8 || k < 8 || c > 65536 || k > 65536) return 0;
  for (int m = 4; m >= 2; m -= 2) {
    int64_t tiles = ((oh + m - 1) / m) * ((ow + m - 1) / m), bytes = (int64_t)(m + 2) * (m + 2) * c * k * 4;
    if (tiles >= 32 || (tiles >= 16 && bytes <= (int64_t)5 << 19)) return m;
  }
  return 0;
}

int64_t op_conv_scratch(Graph *g, const Node *n) {
  if (!n->wino) return 0;
  Window win;
  if (conv_window(g, (Node *)n, &win)) return 0;
  int c = (int)n->in[0]->dims[1].c, k = (int)n->in[1]->dims[0].c, oh = (int)win.out[0], ow = (int)win.out[1];
  int rows = rt_conv_wino_tile_rows(c, k, oh, ow, n->wino);
  return (int64_t)rt_conv_wino_scratch_floats(c, k, (int32_t)win.in[1], ow, n->wino, rows) * 4;
}

static int conv_wino_lower(LowerCtx *cx, Node *n, const Window *win) {
  Value *x = n->in[0], *w = n->in[1], *b = n->nin > 2 ? n->in[2] : NULL, *y = n->out[0];
  RtConvWino p = {
    .x = cg_addr(cx, x), .u = cg_addr(cx, n->wpack), .bias = cg_addr(cx, b), .res = cg_addr(cx, n->res), .y = cg_addr(cx, y),
    .c = (int32_t)x->dims[1].c, .k = (int32_t)w->dims[0].c, .pt = (int32_t)win->pb[0], .pl = (int32_t)win->pb[1], .m = n->wino,
  };
  CG_DIM(cx, p, n, x->dims[0]);
  CG_DIM(cx, p, h, win->din[0]);
  CG_DIM(cx, p, w_, win->din[1]);
  CG_DIM(cx, p, oh, win->dout[0]);
  CG_DIM(cx, p, ow, win->dout[1]);
  /* tiling and scratch for the sizes at the bounds: a smaller run uses fewer blocks of the same size */
  p.tile_rows = rt_conv_wino_tile_rows(p.c, p.k, (int32_t)win->out[0], (int32_t)win->out[1], p.m);
  p.scratch = cg_scratch(cx, n);
  p.scratch_bytes = (uint32_t)n->scratch_bytes;
  p.act = cg_node_act(n);
  return cg_call(cx, K_conv_wino_f32, &p, sizeof p, n);
}

static int conv3d_lower(LowerCtx *cx, Node *n, const Window *win) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *w = n->in[1], *b = n->nin > 2 ? n->in[2] : NULL, *y = n->out[0];
  if (n->wpack || n->xscale) return ir_errorf(g, n, "internal: a 3-D conv with packed weights or an input scale");
  RtConv3d p = {
    .x = cg_addr(cx, x), .w = cg_addr(cx, w), .bias = cg_addr(cx, b), .res = cg_addr(cx, n->res), .y = cg_addr(cx, y),
    .c = (int32_t)x->dims[1].c, .k = (int32_t)w->dims[0].c, .group = (int32_t)ir_attr_int(n, "group", 1),
  };
  CG_DIM(cx, p, n, x->dims[0]);
  for (int i = 0; i < 3; i++) {
    CG_DIM(cx, p, in[i], win->din[i]);
    CG_DIM(cx, p, out[i], win->dout[i]);
    p.ks[i] = (int32_t)win->k[i]; p.st[i] = (int32_t)win->s[i]; p.pb[i] = (int32_t)win->pb[i]; p.dl[i] = (int32_t)win->d[i];
  }
  p.act = cg_node_act(n);
  return cg_call(cx, K_conv3d_f32, &p, sizeof p, n);
}

int op_conv_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *w = n->in[1], *b = n->nin > 2 ? n->in[2] : NULL, *y = n->out[0];
  Window win;
  if (conv_window(g, n, &win)) return -1;
  if (win.sp == 3) return conv3d_lower(cx, n, &win);
  bool two = win.sp == 2;
  if (n->wino && n->wpack && two) return conv_wino_lower(cx, n, &win);
  RtConv2d p = {
    .x = cg_addr(cx, x), .w = cg_addr(cx, n->wpack ? n->wpack : w), .wpacked = n->wpack != NULL, .bias = cg_addr(cx, b), .res = cg_addr(cx, n->res), .y = cg_addr(cx, y),
    .c = (int32_t)x->dims[1].c, .k = (int32_t)w->dims[0].c, .h = 1, .oh = 1,
    .kh = two ? (int32_t)win.k[0] : 1, .kw = (int32_t)win.k[two ? 1 : 0],
    .sh = two ? (int32_t)win.s[0] : 1, .sw = (int32_t)win.s[two ? 1 : 0],
    .pt = two ? (int32_t)win.pb[0] : 0, .pl = (int32_t)win.pb[two ? 1 : 0],
    .dh = two ? (int32_t)win.d[0] : 1, .dw = (int32_t)win.d[two ? 1 : 0],
    .group = (int32_t)ir_attr_int(n, "group", 1),
  };
  CG_DIM(cx, p, n, x->dims[0]);
  if (two) { CG_DIM(cx, p, h, win.din[0]); CG_DIM(cx, p, oh, win.dout[0]); }
  CG_DIM(cx, p, w_, win.din[two ? 1 : 0]);
  CG_DIM(cx, p, ow, win.dout[two ? 1 : 0]);
  if (n->scratch_bytes) { p.scratch = cg_scratch(cx, n); p.scratch_bytes = (uint32_t)n->scratch_bytes; }
  if (n->xscale) {
    p.xscale = cg_addr(cx, n->xscale);
    p.xscale_ns = n->xscale->dims[0].c == 1 ? 0 : p.c;
  }
  p.act = cg_node_act(n);
  return cg_call(cx, K_conv2d_f32, &p, sizeof p, n);
}
