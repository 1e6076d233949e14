/* reduce.c — ReduceMean/Sum/Max/Min/SumSquare/Prod/L1/L2/LogSum/LogSumExp, CumSum, ArgMax/ArgMin: infer,
 * eval, lower.
 * A reduction runs over a contiguous block of axes, seen as the middle axis of [outer][n][inner]; over
 * non-adjacent axes, x is first transposed into scratch with the reduced axes last. */
#include "opcommon.h"

#include <float.h>
#include <stdlib.h>

static int red_op(int op) {
  switch (op) {
  case OP_ReduceSum: return RT_RED_SUM;
  case OP_ReduceMean: return RT_RED_MEAN;
  case OP_ReduceMax: return RT_RED_MAX;
  case OP_ReduceMin: return RT_RED_MIN;
  case OP_ReduceProd: return RT_RED_PROD;
  case OP_ReduceL1: return RT_RED_L1;
  case OP_ReduceL2: return RT_RED_L2;
  case OP_ReduceLogSum: return RT_RED_LOGSUM;
  case OP_ReduceLogSumExp: return RT_RED_LOGSUMEXP;
  default: return RT_RED_SUMSQ;
  }
}

/* which axes are reduced (sorted flags); axes come from the attribute, or input 1 for
 * ReduceSum since opset 13 and every reduction since opset 18 */
static int red_axes(Graph *g, Node *n, bool *red) {
  Value *x = n->in[0];
  int64_t ax[IR_MAX_RANK];
  int na = -1;
  if (n->nin > 1 && n->in[1]) {
    Value *a = n->in[1];
    bool empty = ir_dtype_is_int(a->dt) && ir_shape_known(a) && ir_numel(a) == 0;   /* no values to know */
    if (!empty && (a->kind != VK_CONST || !a->data || !ir_dtype_is_int(a->dt)))
      return ir_errorf(g, n, "axes must be a constant integer tensor");
    na = empty ? 0 : (int)ir_numel(a);
    if (na > IR_MAX_RANK) return ir_errorf(g, n, "too many axes");
    for (int i = 0; i < na; i++) ax[i] = oc_geti(a, i);
  } else {
    const int64_t *a;
    na = ir_attr_ints(n, "axes", &a);
    if (na > IR_MAX_RANK) return ir_errorf(g, n, "too many axes");
    for (int i = 0; i < na; i++) ax[i] = a[i];
  }
  for (int i = 0; i < x->rank; i++) red[i] = false;
  if (na <= 0) {                             /* no axes: all, unless noop_with_empty_axes */
    bool noop = ir_attr_int(n, "noop_with_empty_axes", 0) != 0;
    for (int i = 0; i < x->rank; i++) red[i] = !noop;
    return 0;
  }
  for (int i = 0; i < na; i++) {
    int a;
    if (oc_axis(g, n, ax[i], x->rank, &a)) return -1;
    red[a] = true;
  }
  return 0;
}

int op_reduce_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  if (!ir_dtype_is_float(x->dt) && !ir_dtype_is_int(x->dt)) return ir_errorf(g, n, "dtype %s is not supported", ir_dtype_name(x->dt));
  bool red[IR_MAX_RANK];
  if (red_axes(g, n, red)) return -1;
  bool keep = ir_attr_int(n, "keepdims", 1) != 0;
  y->dt = x->dt;
  y->rank = 0;
  for (int i = 0; i < x->rank; i++) {
    if (!red[i]) y->dims[y->rank++] = x->dims[i];
    else if (keep) y->dims[y->rank++] = ir_dimc(1);
  }
  return 0;
}

/* outer/n/inner of the reduction: 0 when the reduced axes are one contiguous block; 1 when they are not:
 * then the reduction is over x transposed with the kept axes first (red_perm; outer = the kept elements,
 * len = the reduced ones, inner = 1) */
static int red_split(Graph *g, Node *n, Dim *outer, Dim *len, Dim *inner) {
  Value *x = n->in[0];
  bool red[IR_MAX_RANK];
  if (red_axes(g, n, red)) return -1;
  int first = -1, last = -1;
  for (int i = 0; i < x->rank; i++) {
    if (!red[i] || oc_is1(x->dims[i])) continue;   /* reducing a size-1 axis is a no-op */
    if (first < 0) first = i;
    last = i;
  }
  if (first < 0) { *outer = oc_prod(g, x->dims, 0, x->rank); *len = ir_dimc(1); *inner = ir_dimc(1); return 0; }
  for (int i = first; i <= last; i++)
    if (!red[i] && !oc_is1(x->dims[i])) {
      *outer = *len = ir_dimc(1);
      for (int a = 0; a < x->rank; a++) {
        if (red[a]) *len = ir_dim_mul(g, *len, x->dims[a]);
        else *outer = ir_dim_mul(g, *outer, x->dims[a]);
      }
      *inner = ir_dimc(1);
      return 1;
    }
  *outer = oc_prod(g, x->dims, 0, first);
  *len = oc_prod(g, x->dims, first, last + 1);
  *inner = oc_prod(g, x->dims, last + 1, x->rank);
  return 0;
}

/* the reduction of one slice in double precision (eval, and the reference the kernel tests mirror):
 * empty-set values as the kernel (runtime/rt_abi.h), log-sum-exp max-shifted */
static double red_slice(int op, const Value *x, int64_t base, int64_t len, int64_t stride) {
  double acc = op == RT_RED_MAX ? -INFINITY : op == RT_RED_MIN ? INFINITY : op == RT_RED_PROD ? 1 : 0;
  if (op == RT_RED_LOGSUMEXP) {
    double m = -INFINITY;
    for (int64_t j = 0; j < len; j++) { double v = oc_getf(x, base + j * stride); m = v > m || isnan(v) ? v : m; }
    if (!isfinite(m)) return m;
    for (int64_t j = 0; j < len; j++) acc += exp(oc_getf(x, base + j * stride) - m);
    return m + log(acc);
  }
  for (int64_t j = 0; j < len; j++) {
    double v = oc_getf(x, base + j * stride);
    switch (op) {
    case RT_RED_MAX: acc = v > acc || isnan(v) ? v : acc; break;
    case RT_RED_MIN: acc = v < acc || isnan(v) ? v : acc; break;
    case RT_RED_SUMSQ: case RT_RED_L2: acc += v * v; break;
    case RT_RED_PROD: acc *= v; break;
    case RT_RED_L1: acc += fabs(v); break;
    default: acc += v; break;
    }
  }
  switch (op) {
  case RT_RED_MEAN: return len ? acc / (double)len : 0;
  case RT_RED_L2: return sqrt(acc);
  case RT_RED_LOGSUM: return log(acc);
  default: return acc;
  }
}

/* the axes of x kept, then the reduced ones, size-1 axes dropped: *k dims with x's storage strides */
static int red_perm(Graph *g, Node *n, Dim *dim, Dim *stride, int *k) {
  Value *x = n->in[0];
  bool red[IR_MAX_RANK];
  Dim st[IR_MAX_RANK];
  if (red_axes(g, n, red)) return -1;
  ir_strides(g, x, st);
  *k = 0;
  for (int pass = 0; pass < 2; pass++)
    for (int a = 0; a < x->rank; a++)
      if (red[a] == (pass == 1) && !oc_is1(x->dims[a])) { dim[*k] = x->dims[a]; stride[*k] = st[a]; ++*k; }
  return 0;
}

int op_reduce_eval(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  Dim od, nd, id;
  int rc = red_split(g, n, &od, &nd, &id);
  if (rc < 0) return -1;
  int64_t outer = od.c, len = nd.c, inner = id.c;
  Value t = {.dt = DT_DOUBLE, .rank = 1};   /* non-adjacent axes: x's values in red_perm's order */
  if (rc == 1) {
    Dim dim[IR_MAX_RANK], st[IR_MAX_RANK];
    int k, idx[IR_MAX_RANK] = {0};
    if (red_perm(g, n, dim, st, &k)) return -1;
    double *d = malloc((size_t)(outer * len + 1) * sizeof *d);
    if (!d) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
    for (int64_t i = 0, xi = 0; i < outer * len; i++) {
      d[i] = oc_getf(x, xi);
      for (int a = k - 1; a >= 0; a--) {
        xi += st[a].c;
        if (++idx[a] < dim[a].c) break;
        xi -= st[a].c * idx[a]; idx[a] = 0;
      }
    }
    t.data = d;
    t.dims[0] = ir_dimc(outer * len);
  }
  const Value *src = rc == 1 ? &t : x;
  int op = red_op(n->op);
  oc_make_const(g, y);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) oc_setf(y, o * inner + i, red_slice(op, src, o * len * inner + i, len, inner));
  free(t.data);
  return 0;
}

/* non-adjacent axes: scratch for x transposed (red_perm) */
int64_t op_reduce_scratch(Graph *g, const Node *n) {
  Dim outer, len, inner;
  if (red_split(g, (Node *)n, &outer, &len, &inner) != 1) return 0;
  return ir_dim_max(g, outer) * ir_dim_max(g, len) * ir_dtype_size(n->in[0]->dt);
}

int op_reduce_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0];
  if (x->dt != DT_FLOAT && x->dt != DT_DOUBLE)
    return ir_errorf(g, n, "run-time reduction of dtype %s is not supported (float32, float64)", ir_dtype_name(x->dt));
  Dim outer, len, inner;
  int rc = red_split(g, n, &outer, &len, &inner);
  if (rc < 0) return -1;
  RtReduce p = {.x = cg_addr(cx, x), .y = cg_addr(cx, n->out[0]), .op = red_op(n->op), .dtype = x->dt};
  if (rc == 1) {   /* transpose into scratch, the reduced axes last, then reduce its rows */
    Dim dim[IR_MAX_RANK], st[IR_MAX_RANK];
    int k;
    if (red_perm(g, n, dim, st, &k)) return -1;
    if (k > RT_MAX_RANK) return ir_errorf(g, n, "reducing non-adjacent axes of %d non-trivial dims (the kernels take %d)", k, RT_MAX_RANK);
    RtTranspose t = {.x = cg_addr(cx, x), .y = cg_scratch(cx, n), .esize = ir_dtype_size(x->dt), .rank = k};
    for (int i = 0; i < k; i++) { CG_DIM(cx, t, dim[i], dim[i]); CG_DIM(cx, t, xstride[i], st[i]); }
    if (cg_call(cx, K_transpose, &t, sizeof t, n)) return -1;
    p.x = cg_scratch(cx, n);
  }
  CG_DIM(cx, p, outer, outer);
  CG_DIM(cx, p, n, len);
  CG_DIM(cx, p, inner, inner);
  return cg_call(cx, K_reduce_f32, &p, sizeof p, n);
}

/* ---- CumSum ---- */
/* the constant axis, or *axis = -1 for a run-time one (an int32/int64 scalar the kernel reads, RtCumSum.axis) */
static int cumsum_axis(Graph *g, Node *n, int *axis) {
  Value *a = n->in[1];
  if (a->kind == VK_CONST && a->data && ir_numel(a) == 1) return oc_axis(g, n, oc_geti(a, 0), n->in[0]->rank, axis);
  if ((a->dt != DT_INT32 && a->dt != DT_INT64) || !ir_shape_known(a) || ir_numel(a) != 1)
    return ir_errorf(g, n, "axis '%s' must be an int32 or int64 scalar", a->name);
  if (n->in[0]->rank > RT_MAX_RANK)
    return ir_errorf(g, n, "a run-time axis needs rank <= %d (input has rank %d)", RT_MAX_RANK, n->in[0]->rank);
  *axis = -1;
  return 0;
}

int op_cumsum_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  int axis;
  if (x->dt != DT_FLOAT && x->dt != DT_DOUBLE && x->dt != DT_INT64)
    return ir_errorf(g, n, "dtype %s is not supported (float32, float64, int64)", ir_dtype_name(x->dt));
  if (cumsum_axis(g, n, &axis)) return -1;
  oc_set_out(n->out[0], x->dt, x->rank, x->dims);
  return 0;
}

int op_cumsum_eval(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  int axis;
  if (cumsum_axis(g, n, &axis)) return -1;
  if (axis < 0) return ir_errorf(g, n, "internal: CumSum evaluated with a run-time axis");
  int64_t outer = oc_prod(g, x->dims, 0, axis).c, len = x->dims[axis].c, inner = oc_prod(g, x->dims, axis + 1, x->rank).c;
  bool excl = ir_attr_int(n, "exclusive", 0), rev = ir_attr_int(n, "reverse", 0);
  oc_make_const(g, y);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      double acc = 0;
      for (int64_t t = 0; t < len; t++) {
        int64_t j = rev ? len - 1 - t : t, at = (o * len + j) * inner + i;
        double v = oc_getf(x, at);
        if (!excl) acc += v;
        oc_setf(y, at, acc);
        if (excl) acc += v;
      }
    }
  return 0;
}

int op_cumsum_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0];
  int axis;
  if (cumsum_axis(g, n, &axis)) return -1;
  RtCumSum p = {.x = cg_addr(cx, x), .y = cg_addr(cx, n->out[0]), .dtype = x->dt,
                .exclusive = (int32_t)ir_attr_int(n, "exclusive", 0), .reverse = (int32_t)ir_attr_int(n, "reverse", 0)};
  if (axis < 0) {   /* the kernel finds outer/n/inner around the axis it reads */
    p.axis = cg_addr(cx, n->in[1]);
    p.axis_i64 = n->in[1]->dt == DT_INT64;
    p.rank = x->rank;
    for (int i = 0; i < x->rank; i++) CG_DIM(cx, p, dims[i], x->dims[i]);
    return cg_call(cx, K_cumsum, &p, sizeof p, n);
  }
  CG_DIM(cx, p, outer, oc_prod(g, x->dims, 0, axis));
  CG_DIM(cx, p, n, x->dims[axis]);
  CG_DIM(cx, p, inner, oc_prod(g, x->dims, axis + 1, x->rank));
  return cg_call(cx, K_cumsum, &p, sizeof p, n);
}

/* ---- ArgMax / ArgMin (int64 indices along one axis) ---- */
static int arg_axis(Graph *g, Node *n, int *axis) {
  return oc_axis(g, n, ir_attr_int(n, "axis", 0), n->in[0]->rank, axis);
}

int op_argreduce_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  int axis;
  if (!ir_dtype_is_float(x->dt) && !ir_dtype_is_int(x->dt)) return ir_errorf(g, n, "dtype %s is not supported", ir_dtype_name(x->dt));
  if (x->rank < 1) return ir_errorf(g, n, "input '%s' must have rank >= 1", x->name);
  if (arg_axis(g, n, &axis)) return -1;
  if (ir_dim_known(x->dims[axis]) && x->dims[axis].c == 0) return ir_errorf(g, n, "axis %d is empty", axis);
  bool keep = ir_attr_int(n, "keepdims", 1) != 0;
  y->dt = DT_INT64;
  y->rank = 0;
  for (int i = 0; i < x->rank; i++) {
    if (i != axis) y->dims[y->rank++] = x->dims[i];
    else if (keep) y->dims[y->rank++] = ir_dimc(1);
  }
  return 0;
}

int op_argreduce_eval(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  int axis;
  if (arg_axis(g, n, &axis)) return -1;
  int64_t outer = oc_prod(g, x->dims, 0, axis).c, len = x->dims[axis].c, inner = oc_prod(g, x->dims, axis + 1, x->rank).c;
  bool mx = n->op == OP_ArgMax, last = ir_attr_int(n, "select_last_index", 0) != 0;
  int64_t *d = oc_make_const(g, y);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < inner; i++) {
      double best = oc_getf(x, o * len * inner + i);
      int64_t bi = 0;
      for (int64_t j = 1; j < len; j++) {
        double v = oc_getf(x, (o * len + j) * inner + i);
        bool better = isnan(best) ? false : isnan(v) ? true : mx ? (last ? v >= best : v > best) : (last ? v <= best : v < best);
        if (better) { best = v; bi = j; }
      }
      d[o * inner + i] = bi;
    }
  return 0;
}

int op_argreduce_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0];
  int axis;
  if (oc_need_float(g, n, 0) || arg_axis(g, n, &axis)) return -1;
  RtArgReduce p = {.x = cg_addr(cx, x), .y = cg_addr(cx, n->out[0]), .op = n->op == OP_ArgMin,
                   .select_last = ir_attr_int(n, "select_last_index", 0) != 0};
  CG_DIM(cx, p, outer, oc_prod(g, x->dims, 0, axis));
  CG_DIM(cx, p, n, x->dims[axis]);
  CG_DIM(cx, p, inner, oc_prod(g, x->dims, axis + 1, x->rank));
  return cg_call(cx, K_argreduce_f32, &p, sizeof p, n);
}

/* ---- TopK (float32): k from the attribute (opset 1) or an input (opset 10+): a constant, or a graph input whose
 * value must be the declared output's size along the axis (checked when the run starts); values and
 * int64 indices, best first (sorted = 0 allows any order, so sorted output is always correct). ---- */
static int topk_geom(Graph *g, Node *n, int *axis, int64_t *k) {
  Value *x = n->in[0];
  if (x->rank < 1) return ir_errorf(g, n, "input '%s' must have rank >= 1", x->name);
  if (oc_axis(g, n, ir_attr_int(n, "axis", -1), x->rank, axis)) return -1;
  if (n->opset < 10) *k = ir_attr_int(n, "k", -1);
  else {
    if (n->nin < 2 || !n->in[1]) return ir_errorf(g, n, "input K is missing");
    if (n->in[1]->kind == VK_INPUT) {
      int64_t dd[IR_MAX_RANK];
      if (ir_numel(n->in[1]) != 1 || !ir_dtype_is_int(n->in[1]->dt)) return ir_errorf(g, n, "K must be a one-element integer tensor");
      int64_t want = ir_declared_shape(g, n->out[0]->name, dd) == x->rank ? dd[*axis] : -1;
      if (oc_in_declared(g, n, 1, 0, want, "its size along the axis", k)) return -1;
    } else {
    if (oc_need_const(g, n, 1)) return -1;
    if (ir_numel(n->in[1]) != 1 || !n->in[1]->data || !ir_dtype_is_int(n->in[1]->dt)) return ir_errorf(g, n, "K must be a one-element integer tensor");
    *k = oc_geti(n->in[1], 0);
    }
  }
  if (!ir_dim_known(x->dims[*axis])) return ir_errorf(g, n, "the axis must have a compile-time size");
  if (*k < 0 || *k > x->dims[*axis].c)
    return ir_errorf(g, n, "K = %lld is outside [0, %lld] (the axis size)", (long long)*k, (long long)x->dims[*axis].c);
  return 0;
}

int op_topk_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  int axis;
  int64_t k;
  if (x->dt != DT_FLOAT) return ir_errorf(g, n, "input '%s' has dtype %s, only float32 is supported", x->name, ir_dtype_name(x->dt));
  if (topk_geom(g, n, &axis, &k)) return -1;
  Dim d[IR_MAX_RANK];
  for (int i = 0; i < x->rank; i++) d[i] = i == axis ? ir_dimc(k) : x->dims[i];
  oc_set_out(n->out[0], x->dt, x->rank, d);
  if (n->nout > 1 && n->out[1]) oc_set_out(n->out[1], DT_INT64, x->rank, d);
  return 0;
}

int op_topk_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0];
  int axis;
  int64_t k;
  if (topk_geom(g, n, &axis, &k)) return -1;
  if (n->nout < 2 || !n->out[1]) return ir_errorf(g, n, "the Indices output is missing");
  RtTopK p = {.x = cg_addr(cx, x), .y = cg_addr(cx, n->out[0]), .yi = cg_addr(cx, n->out[1]), .k = (int32_t)k,
              .largest = ir_attr_int(n, "largest", 1) != 0};
  CG_DIM(cx, p, outer, oc_prod(g, x->dims, 0, axis));
  CG_DIM(cx, p, n, x->dims[axis]);
  CG_DIM(cx, p, inner, oc_prod(g, x->dims, axis + 1, x->rank));
  return cg_call(cx, K_topk_f32, &p, sizeof p, n);
}
