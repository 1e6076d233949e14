/* pool.c — MaxPool (float32, uint8, int8), AveragePool, GlobalAveragePool, GlobalMaxPool: infer, lower.
 * Float pools take 1 to 3 spatial dims (3-D: rt_pool3d_f32), the 8-bit MaxPool 1 or 2. MaxUnpool (at the end). */
#include "opcommon.h"

int op_pool_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  if (!(n->op == OP_MaxPool && (x->dt == DT_UINT8 || x->dt == DT_INT8)) && oc_need_float(g, n, 0)) return -1;
  Window w;
  if (oc_window(g, n, x, NULL, x->dt == DT_FLOAT ? 3 : 2, &w)) return -1;
  int64_t so = ir_attr_int(n, "storage_order", 0);   /* the Indices' order only */
  if (n->op == OP_MaxPool && so != 0 && so != 1) return ir_errorf(g, n, "storage_order %lld is not 0 or 1", (long long)so);
  y->dt = x->dt;
  y->rank = x->rank;
  y->dims[0] = x->dims[0];
  y->dims[1] = x->dims[1];
  for (int i = 0; i < w.sp; i++) y->dims[2 + i] = w.dout[i];
  if (n->nout > 1 && n->out[1]) { n->out[1]->dt = DT_INT64; n->out[1]->rank = y->rank; memcpy(n->out[1]->dims, y->dims, sizeof y->dims); }
  return 0;
}

/* the volumetric kernel: 3-D pools, and 1-D/2-D MaxPools with Indices (their spatial axes last, sizes 1 before) */
static int pool3d_lower(LowerCtx *cx, Node *n, const Window *w, Value *idx) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *y = n->out[0];
  RtPool3d p = {.x = cg_addr(cx, x), .y = cg_addr(cx, y), .kind = n->op == OP_AveragePool,
                .count_pad = (int32_t)ir_attr_int(n, "count_include_pad", 0), .idx = cg_addr(cx, idx),
                .col_major = ir_attr_int(n, "storage_order", 0) == 1};
  CG_DIM(cx, p, planes, ir_dim_mul(g, x->dims[0], x->dims[1]));
  for (int i = 0; i < 3; i++) {
    int a = i - (3 - w->sp);   /* the window's axis, < 0 for the leading size-1 axes */
    if (a < 0) { p.in[i] = p.out[i] = p.ks[i] = p.st[i] = p.dl[i] = 1; continue; }
    CG_DIM(cx, p, in[i], w->din[a]);
    CG_DIM(cx, p, out[i], w->dout[a]);
    p.ks[i] = (int32_t)w->k[a]; p.st[i] = (int32_t)w->s[a]; p.pb[i] = (int32_t)w->pb[a]; p.dl[i] = (int32_t)w->d[a];
  }
  return cg_call(cx, K_pool3d_f32, &p, sizeof p, n);
}

int op_pool_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *y = n->out[0];
  Value *idx = n->nout > 1 && n->out[1] && n->out[1]->nuses + n->out[1]->is_output > 0 ? n->out[1] : NULL;
  if (idx && x->dt != DT_FLOAT) return ir_errorf(g, n, "the Indices output of an 8-bit MaxPool is not supported");
  Window w;
  if (oc_window(g, n, x, NULL, x->dt == DT_FLOAT ? 3 : 2, &w)) return -1;
  if (w.sp == 3 || idx) return pool3d_lower(cx, n, &w, idx);
  bool two = w.sp == 2;
  RtPool2d p = {
    .x = cg_addr(cx, x), .y = cg_addr(cx, y), .h = 1, .oh = 1,
    .kh = two ? (int32_t)w.k[0] : 1, .kw = (int32_t)w.k[two], .sh = two ? (int32_t)w.s[0] : 1, .sw = (int32_t)w.s[two],
    .pt = two ? (int32_t)w.pb[0] : 0, .pl = (int32_t)w.pb[two], .dh = two ? (int32_t)w.d[0] : 1, .dw = (int32_t)w.d[two],
    .kind = n->op == OP_AveragePool, .count_pad = (int32_t)ir_attr_int(n, "count_include_pad", 0),
    .s8 = x->dt == DT_INT8,
  };
  CG_DIM(cx, p, planes, ir_dim_mul(g, x->dims[0], x->dims[1]));
  if (two) { CG_DIM(cx, p, h, w.din[0]); CG_DIM(cx, p, oh, w.dout[0]); }
  CG_DIM(cx, p, w, w.din[two]);
  CG_DIM(cx, p, ow, w.dout[two]);
  return cg_call(cx, x->dt == DT_FLOAT ? K_pool2d_f32 : K_maxpool_8, &p, sizeof p, n);
}

int op_gpool_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  if (oc_need_float(g, n, 0)) return -1;
  if (x->rank < 3) return ir_errorf(g, n, "input '%s' has rank %d, expected at least 3", x->name, x->rank);
  oc_set_out(y, x->dt, x->rank, x->dims);
  for (int i = 2; i < x->rank; i++) y->dims[i] = ir_dimc(1);
  return 0;
}

int op_gpool_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0];
  Dim planes = ir_dim_mul(g, x->dims[0], x->dims[1]), hw = oc_prod(g, x->dims, 2, x->rank);
  if (n->op == OP_GlobalMaxPool) {   /* the reduce kernel's max over each plane (NaN propagates) */
    RtReduce r = {.x = cg_addr(cx, x), .y = cg_addr(cx, n->out[0]), .inner = 1, .op = RT_RED_MAX, .dtype = DT_FLOAT};
    CG_DIM(cx, r, outer, planes);
    CG_DIM(cx, r, n, hw);
    return cg_call(cx, K_reduce_f32, &r, sizeof r, n);
  }
  RtGlobalPool p = {.x = cg_addr(cx, x), .y = cg_addr(cx, n->out[0])};
  CG_DIM(cx, p, planes, planes);
  CG_DIM(cx, p, hw, hw);
  return cg_call(cx, K_global_pool_f32, &p, sizeof p, n);
}

/* ---- MaxUnpool (opsets 9 and 11): the output's spatial size (in - 1) * stride + kernel - pads, or the constant
 * output_shape; the values scattered to their indices (rt_unpool) */
int op_unpool_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *ix = n->in[1];
  if (ix->dt != DT_INT64 || ix->rank != x->rank) return ir_errorf(g, n, "indices '%s' must be int64 of the input's shape", ix->name);
  for (int d = 0; d < x->rank; d++)
    if (!oc_same_dim(g, x->dims[d], ix->dims[d])) return ir_errorf(g, n, "indices '%s' must be int64 of the input's shape", ix->name);
  if (x->rank < 3) return ir_errorf(g, n, "input '%s' has rank %d, expected at least 3", x->name, x->rank);
  int sp = x->rank - 2;
  const int64_t *ks = NULL, *st = NULL, *pd = NULL;
  int nks = ir_attr_ints(n, "kernel_shape", &ks), nst = ir_attr_ints(n, "strides", &st), npd = ir_attr_ints(n, "pads", &pd);
  if (nks != sp || (nst >= 0 && nst != sp) || (npd >= 0 && npd != 2 * sp))
    return ir_errorf(g, n, "kernel_shape/strides/pads have the wrong number of entries for %d spatial dims", sp);
  Dim dims[IR_MAX_RANK];
  dims[0] = x->dims[0];
  dims[1] = x->dims[1];
  bool given = n->nin > 2 && n->in[2];
  for (int i = 0; i < sp; i++) {
    int64_t v;
    if (given) {
      if (oc_in_i(g, n, 2, 2 + i, &v)) return -1;
    } else {
      if (!ir_dim_known(x->dims[2 + i])) return oc_need_known(g, n, 0);
      int64_t pads = 0;
      if (__builtin_mul_overflow(x->dims[2 + i].c - 1, nst > 0 ? st[i] : 1, &v) || __builtin_add_overflow(v, ks[i], &v) ||
          (npd > 0 && (__builtin_add_overflow(pd[i], pd[i + sp], &pads) || __builtin_sub_overflow(v, pads, &v))))
        return ir_errorf(g, n, "output size of spatial axis %d overflows", i);
    }
    if (v < 0 || v > INT32_MAX) return ir_errorf(g, n, "output size %lld of spatial axis %d is out of range", (long long)v, i);
    dims[2 + i] = ir_dimc(v);
  }
  oc_set_out(n->out[0], x->dt, x->rank, dims);
  return 0;
}

int op_unpool_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *y = n->out[0];
  RtUnpool p = {.x = cg_addr(cx, x), .idx = cg_addr(cx, n->in[1]), .y = cg_addr(cx, y), .esize = ir_dtype_size(x->dt)};
  CG_DIM(cx, p, nx, oc_prod(g, x->dims, 0, x->rank));
  CG_DIM(cx, p, ny, oc_prod(g, y->dims, 0, y->rank));
  return cg_call(cx, K_unpool, &p, sizeof p, n);
}
