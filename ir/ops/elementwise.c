/* elementwise.c — binary (Add, Sub, Mul, Div, Pow, Max, Min) and unary activation ops: infer, eval, lower. */
#include "opcommon.h"

#include <float.h>

/* ---- binary ---- */
static int binop_of(int op) {
  switch (op) {
  case OP_Add: return RT_BIN_ADD;
  case OP_Sub: return RT_BIN_SUB;
  case OP_Mul: return RT_BIN_MUL;
  case OP_Div: return RT_BIN_DIV;
  case OP_Pow: return RT_BIN_POW;
  case OP_Max: return RT_BIN_MAX;
  default: return RT_BIN_MIN;
  }
}

int op_binary_infer(Graph *g, Node *n) {
  Value *a = n->in[0], *b = n->in[1], *y = n->out[0];
  if (a->dt != b->dt && n->op != OP_Pow)
    return ir_errorf(g, n, "inputs have different dtypes (%s and %s)", ir_dtype_name(a->dt), ir_dtype_name(b->dt));
  if (!ir_dtype_size(a->dt) || a->dt == DT_STRING) return ir_errorf(g, n, "dtype %s is not supported", ir_dtype_name(a->dt));
  y->dt = a->dt;
  return oc_broadcast(g, n, a, b, y);
}

static double bin_f(int op, double x, double y) {
  switch (op) {
  case RT_BIN_ADD: return x + y;
  case RT_BIN_SUB: return x - y;
  case RT_BIN_MUL: return x * y;
  case RT_BIN_DIV: return x / y;
  case RT_BIN_POW: return pow(x, y);
  case RT_BIN_MAX: return x > y ? x : y;
  default: return x < y ? x : y;
  }
}

static int64_t bin_i(int op, int64_t x, int64_t y) {
  switch (op) {
  case RT_BIN_ADD: return (int64_t)((uint64_t)x + (uint64_t)y);
  case RT_BIN_SUB: return (int64_t)((uint64_t)x - (uint64_t)y);
  case RT_BIN_MUL: return (int64_t)((uint64_t)x * (uint64_t)y);
  case RT_BIN_DIV: return y ? x / y : 0;
  case RT_BIN_POW: { int64_t r = 1; for (int64_t i = 0; i < y && i < 64; i++) r *= x; return r; }
  case RT_BIN_MAX: return x > y ? x : y;
  default: return x < y ? x : y;
  }
}

int op_binary_eval(Graph *g, Node *n) {
  Value *a = n->in[0], *b = n->in[1], *y = n->out[0];
  int r = y->rank, op = binop_of(n->op);
  int64_t sa[IR_MAX_RANK], sb[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
  oc_bcast_strides(a, r, y->dims, sa);
  oc_bcast_strides(b, r, y->dims, sb);
  oc_make_const(g, y);
  int64_t total = ir_numel(y), ia = 0, ib = 0;
  bool isint = ir_dtype_is_int(y->dt) || y->dt == DT_BOOL;
  for (int64_t i = 0; i < total; i++) {
    if (y->dt == DT_INT64 || y->dt == DT_UINT64) ((int64_t *)y->data)[i] = bin_i(op, oc_geti(a, ia), oc_geti(b, ib));
    else if (isint) oc_setf(y, i, (double)bin_i(op, oc_geti(a, ia), oc_geti(b, ib)));
    else oc_setf(y, i, bin_f(op, oc_getf(a, ia), oc_getf(b, ib)));
    for (int d = r - 1; d >= 0; d--) {       /* odometer over the output index */
      ia += sa[d]; ib += sb[d];
      if (++idx[d] < y->dims[d].c) break;
      ia -= sa[d] * idx[d]; ib -= sb[d] * idx[d]; idx[d] = 0;
    }
  }
  return 0;
}

int op_binary_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *a = n->in[0], *b = n->in[1], *y = n->out[0];
  if (a->dt != DT_FLOAT || b->dt != DT_FLOAT)
    return ir_errorf(g, n, "dtype %s is not supported at run time (float32 only)", ir_dtype_name(a->dt));
  int r = y->rank;
  Dim sa[IR_MAX_RANK], sb[IR_MAX_RANK], dim[IR_MAX_RANK];
  oc_bcast_strides_dim(g, a, r, sa);
  oc_bcast_strides_dim(g, b, r, sb);
  for (int i = 0; i < r; i++) dim[i] = y->dims[i];
  /* merge adjacent dims that both operands walk the same way (contiguous or broadcast) */
  int k = 0;
  for (int i = 0; i < r; i++) {
    if (oc_is1(dim[i])) continue;
    if (k > 0 && ir_dim_eq(sa[k - 1], ir_dim_mul(g, sa[i], dim[i])) && ir_dim_eq(sb[k - 1], ir_dim_mul(g, sb[i], dim[i]))) {
      dim[k - 1] = ir_dim_mul(g, dim[k - 1], dim[i]); sa[k - 1] = sa[i]; sb[k - 1] = sb[i];
      continue;
    }
    dim[k] = dim[i]; sa[k] = sa[i]; sb[k] = sb[i]; k++;
  }
  if (k == 0) { dim[0] = ir_dimc(1); sa[0] = sb[0] = ir_dimc(0); k = 1; }
  if (k > RT_MAX_RANK) return ir_errorf(g, n, "broadcast pattern needs %d dims, the kernel supports %d", k, RT_MAX_RANK);
  RtBinary p = {.a = cg_addr(cx, a), .b = cg_addr(cx, b), .y = cg_addr(cx, y), .op = binop_of(n->op), .rank = k};
  for (int i = 0; i < k; i++) { CG_DIM(cx, p, dim[i], dim[i]); CG_DIM(cx, p, astride[i], sa[i]); CG_DIM(cx, p, bstride[i], sb[i]); }
  p.act = cg_node_act(n);
  return cg_call(cx, K_binary_f32, &p, sizeof p, n);
}

/* ---- unary activations ---- */
static float const_scalar(const Value *v, float dflt) {
  return v && v->kind == VK_CONST && ir_numel(v) == 1 ? (float)oc_getf(v, 0) : dflt;
}

int op_unary_act(Graph *g, Node *n, RtAct *act) {
  RtAct a = {RT_ACT_NONE, 0, 0};
  switch (n->op) {
  case OP_Relu: a.kind = RT_ACT_RELU; break;
  case OP_Clip:
    a.kind = RT_ACT_CLIP;
    if (n->opset < 11) {
      a.a = ir_attr_float(n, "min", -FLT_MAX);
      a.b = ir_attr_float(n, "max", FLT_MAX);
    } else {
      for (int k = 1; k < n->nin; k++)
        if (n->in[k] && (n->in[k]->kind != VK_CONST || ir_numel(n->in[k]) != 1))
          return ir_errorf(g, n, "min/max must be constant scalars");
      a.a = const_scalar(n->nin > 1 ? n->in[1] : NULL, -FLT_MAX);
      a.b = const_scalar(n->nin > 2 ? n->in[2] : NULL, FLT_MAX);
    }
    break;
  case OP_Sigmoid: a.kind = RT_ACT_SIGMOID; break;
  case OP_HardSigmoid:
    a.kind = RT_ACT_HARDSIGMOID; a.a = ir_attr_float(n, "alpha", 0.2f); a.b = ir_attr_float(n, "beta", 0.5f); break;
  case OP_HardSwish: a.kind = RT_ACT_HARDSWISH; break;
  case OP_LeakyRelu: a.kind = RT_ACT_LEAKYRELU; a.a = ir_attr_float(n, "alpha", 0.01f); break;
  case OP_Tanh: a.kind = RT_ACT_TANH; break;
  case OP_Exp: a.kind = RT_ACT_EXP; break;
  case OP_Neg: a.kind = RT_ACT_NEG; break;
  case OP_Abs: a.kind = RT_ACT_ABS; break;
  case OP_Sqrt: a.kind = RT_ACT_SQRT; break;
  case OP_Reciprocal: a.kind = RT_ACT_RECIPROCAL; break;
  default: return ir_errorf(g, n, "internal: not a unary activation");
  }
  *act = a;
  return 0;
}

double op_act_ref(RtAct act, double x) {
  switch (act.kind) {
  case RT_ACT_RELU: return x > 0 ? x : 0;
  case RT_ACT_CLIP: return x < act.a ? act.a : x > act.b ? act.b : x;
  case RT_ACT_SIGMOID: return 1 / (1 + exp(-x));
  case RT_ACT_HARDSIGMOID: { double t = act.a * x + act.b; return t < 0 ? 0 : t > 1 ? 1 : t; }
  case RT_ACT_HARDSWISH: { double t = x / 6 + 0.5; return x * (t < 0 ? 0 : t > 1 ? 1 : t); }
  case RT_ACT_LEAKYRELU: return x >= 0 ? x : act.a * x;
  case RT_ACT_TANH: return tanh(x);
  case RT_ACT_SILU: return x / (1 + exp(-x));
  case RT_ACT_EXP: return exp(x);
  case RT_ACT_NEG: return -x;
  case RT_ACT_ABS: return fabs(x);
  case RT_ACT_SQRT: return sqrt(x);
  case RT_ACT_RECIPROCAL: return 1 / x;
  default: return x;
  }
}

int op_unary_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  bool int_ok = n->op == OP_Neg || n->op == OP_Abs || n->op == OP_Relu || n->op == OP_Clip;
  if (!ir_dtype_is_float(x->dt) && !(int_ok && ir_dtype_is_int(x->dt)))
    return ir_errorf(g, n, "input '%s' has dtype %s, expected a float type", x->name, ir_dtype_name(x->dt));
  oc_set_out(y, x->dt, x->rank, x->dims);
  return 0;
}

int op_unary_eval(Graph *g, Node *n) {
  RtAct act;
  if (op_unary_act(g, n, &act)) return -1;
  Value *x = n->in[0], *y = n->out[0];
  oc_make_const(g, y);
  int64_t total = ir_numel(y);
  for (int64_t i = 0; i < total; i++) oc_setf(y, i, op_act_ref(act, oc_getf(x, i)));
  return 0;
}

int op_unary_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  if (oc_need_float(g, n, 0)) return -1;
  RtUnary p = {.x = cg_addr(cx, n->in[0]), .y = cg_addr(cx, n->out[0])};
  CG_DIM(cx, p, n, oc_prod(g, n->out[0]->dims, 0, n->out[0]->rank));
  if (op_unary_act(g, n, &p.act)) return -1;
  return cg_call(cx, K_unary_f32, &p, sizeof p, n);
}
