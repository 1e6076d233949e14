/* elementwise.c — binary (Add, Sub, Mul, Div, Pow, Max, Min, PRelu), Mod, comparisons, logic, Where and unary
 * activation ops: infer, eval, lower. */
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
  case OP_PRelu: return RT_BIN_PRELU;
  default: return RT_BIN_MIN;
  }
}

/* PRelu before opset 7 took a 1-D slope of C entries per channel (axis 1), not numpy-broadcast: the slope is then
 * viewed as [C, 1, ..., 1] (tmp, same storage); otherwise the input itself */
static Value *operand_b(const Node *n, Value *tmp) {
  Value *a = n->in[0], *b = n->in[1];
  if (n->op != OP_PRelu || n->opset >= 7 || b->rank != 1 || a->rank < 3 || oc_is1(b->dims[0]) || !ir_dim_eq(b->dims[0], a->dims[1]))
    return b;
  *tmp = *b;
  tmp->rank = a->rank - 1;
  for (int i = 1; i < tmp->rank; i++) tmp->dims[i] = ir_dimc(1);
  return tmp;
}

int op_binary_infer(Graph *g, Node *n) {
  Value tmp, *a = n->in[0], *b = operand_b(n, &tmp), *y = n->out[0];
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
  case RT_BIN_PRELU: return x < 0 ? x * y : x;
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
  case RT_BIN_PRELU: return x < 0 ? x * y : x;
  default: return x < y ? x : y;
  }
}

int op_binary_eval(Graph *g, Node *n) {
  Value tmp, *a = n->in[0], *b = operand_b(n, &tmp), *y = n->out[0];
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

/* broadcast plan for lowering: y's dims with size-1 dims dropped and adjacent dims merged when every operand
 * walks them the same way (contiguous or broadcast); st[k][i] = element stride of operand k. Returns the rank. */
static int bcast_plan(Graph *g, Node *n, const Value *y, const Value *const *ops, int nops, Dim *dim, Dim st[][IR_MAX_RANK]) {
  int r = y->rank;
  for (int o = 0; o < nops; o++) oc_bcast_strides_dim(g, ops[o], r, st[o]);
  for (int i = 0; i < r; i++) dim[i] = y->dims[i];
  int k = 0;
  for (int i = 0; i < r; i++) {
    if (oc_is1(dim[i])) continue;
    bool merge = k > 0;
    for (int o = 0; o < nops && merge; o++) merge = ir_dim_eq(st[o][k - 1], ir_dim_mul(g, st[o][i], dim[i]));
    if (merge) {
      dim[k - 1] = ir_dim_mul(g, dim[k - 1], dim[i]);
      for (int o = 0; o < nops; o++) st[o][k - 1] = st[o][i];
      continue;
    }
    dim[k] = dim[i];
    for (int o = 0; o < nops; o++) st[o][k] = st[o][i];
    k++;
  }
  if (k == 0) { dim[0] = ir_dimc(1); for (int o = 0; o < nops; o++) st[o][0] = ir_dimc(0); k = 1; }
  if (k > RT_MAX_RANK) return ir_errorf(g, n, "broadcast pattern needs %d dims, the kernels support %d", k, RT_MAX_RANK);
  return k;
}

/* dtypes the any-dtype kernel (rt_binary_any) reads */
static bool any_dtype_ok(DType t) {
  switch (t) {
  case DT_FLOAT: case DT_DOUBLE: case DT_UINT8: case DT_INT8: case DT_UINT16: case DT_INT16: case DT_INT32:
  case DT_INT64: case DT_BOOL: case DT_UINT32: case DT_UINT64: case DT_FLOAT16: return true;
  default: return false;
  }
}

/* a binary_any call: y = op(a, b) (b may be a again for NOT); b read from baddr when nonzero (a converted copy) */
static int lower_any_at(LowerCtx *cx, Node *n, int op, const Value *a, const Value *b, uint32_t baddr) {
  Graph *g = cg_graph(cx);
  if (!any_dtype_ok(a->dt))
    return ir_errorf(g, n, "dtype %s is not supported at run time", ir_dtype_name(a->dt));
  const Value *ops[2] = {a, b};
  Dim dim[IR_MAX_RANK], st[2][IR_MAX_RANK];
  int k = bcast_plan(g, n, n->out[0], ops, 2, dim, st);
  if (k < 0) return -1;
  RtBinaryAny p = {.a = cg_addr(cx, a), .b = baddr ? baddr : cg_addr(cx, b), .y = cg_addr(cx, n->out[0]), .op = op, .rank = k,
                   .dtype = a->dt};
  for (int i = 0; i < k; i++) { CG_DIM(cx, p, dim[i], dim[i]); CG_DIM(cx, p, astride[i], st[0][i]); CG_DIM(cx, p, bstride[i], st[1][i]); }
  return cg_call(cx, K_binary_any, &p, sizeof p, n);
}

static int lower_any(LowerCtx *cx, Node *n, int op, const Value *a, const Value *b) { return lower_any_at(cx, n, op, a, b, 0); }

static int any_of_binop(int op) {
  switch (op) {
  case OP_Add: return RT_ANY_ADD;
  case OP_Sub: return RT_ANY_SUB;
  case OP_Mul: return RT_ANY_MUL;
  case OP_Div: return RT_ANY_DIV;
  case OP_Pow: return RT_ANY_POW;
  case OP_Max: return RT_ANY_MAX;
  default: return RT_ANY_MIN;
  }
}

/* a binary_f32 call: y = act(op(a, b)), y = n->out[0] (a may be y itself: it has y's shape); b read from baddr
 * when nonzero */
static int lower_f32_at(LowerCtx *cx, Node *n, int op, const Value *a, const Value *b, uint32_t baddr, RtAct act) {
  Graph *g = cg_graph(cx);
  Value *y = n->out[0];
  const Value *ops[2] = {a, b};
  Dim dim[IR_MAX_RANK], st[2][IR_MAX_RANK];
  int k = bcast_plan(g, n, y, ops, 2, dim, st);
  if (k < 0) return -1;
  RtBinary p = {.a = cg_addr(cx, a), .b = baddr ? baddr : cg_addr(cx, b), .y = cg_addr(cx, y), .op = op, .rank = k};
  for (int i = 0; i < k; i++) { CG_DIM(cx, p, dim[i], dim[i]); CG_DIM(cx, p, astride[i], st[0][i]); CG_DIM(cx, p, bstride[i], st[1][i]); }
  p.act = act;
  return cg_call(cx, K_binary_f32, &p, sizeof p, n);
}

static int lower_f32(LowerCtx *cx, Node *n, int op, const Value *a, const Value *b, RtAct act) {
  return lower_f32_at(cx, n, op, a, b, 0, act);
}

/* dtypes the cast kernel converts between */
static bool cast_dtype_ok(DType t) {
  switch (t) {
  case DT_FLOAT: case DT_INT32: case DT_INT64: case DT_UINT8: case DT_INT8: case DT_DOUBLE: return true;
  default: return false;
  }
}

/* Pow with an exponent of another dtype (ONNX allows it; y has the base's dtype): the exponent is first converted
 * to the base's dtype in scratch. An integer base takes the exponent truncated, exact for whole exponents (the
 * reference's float power of an integer base is then a whole number too). */
int64_t op_pow_scratch(Graph *g, const Node *n) {
  const Value *a = n->in[0], *b = n->in[1];
  if (a->dt == b->dt) return 0;
  int64_t cnt = 1;
  for (int i = 0; i < b->rank; i++) cnt *= ir_dim_max(g, b->dims[i]);
  return cnt * ir_dtype_size(a->dt);
}

static int pow_mixed_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *a = n->in[0], *b = n->in[1];
  if (!cast_dtype_ok(a->dt) || !cast_dtype_ok(b->dt))
    return ir_errorf(g, n, "mixed dtypes %s and %s are not supported at run time", ir_dtype_name(a->dt), ir_dtype_name(b->dt));
  if (n->act != RT_ACT_NONE || n->res) return ir_errorf(g, n, "internal: fused epilogue on a mixed-dtype Pow");
  uint32_t s = cg_scratch(cx, n);
  RtCast c = {.x = cg_addr(cx, b), .y = s, .from = b->dt, .to = a->dt};
  CG_DIM(cx, c, n, oc_prod(g, b->dims, 0, b->rank));
  if (cg_call(cx, K_cast, &c, sizeof c, n)) return -1;
  RtAct none = {RT_ACT_NONE, 0, 0};
  return a->dt == DT_FLOAT ? lower_f32_at(cx, n, RT_BIN_POW, a, b, s, none) : lower_any_at(cx, n, RT_ANY_POW, a, b, s);
}

int op_binary_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value tmp, *a = n->in[0], *b = operand_b(n, &tmp);
  if (a->dt != DT_FLOAT || b->dt != DT_FLOAT) {
    if (a->dt != b->dt && n->op == OP_Pow) return pow_mixed_lower(cx, n);
    if (a->dt != b->dt) return ir_errorf(g, n, "mixed dtypes %s and %s are not supported at run time", ir_dtype_name(a->dt), ir_dtype_name(b->dt));
    if (n->act != RT_ACT_NONE || n->res) return ir_errorf(g, n, "internal: fused epilogue on a %s op", ir_dtype_name(a->dt));
    if (n->op == OP_PRelu) return ir_errorf(g, n, "dtype %s is not supported at run time (float32 only)", ir_dtype_name(a->dt));
    return lower_any(cx, n, any_of_binop(n->op), a, b);
  }
  return lower_f32(cx, n, binop_of(n->op), a, b, cg_node_act(n));
}

/* ---- variadic Sum, Mean, Max, Min (numpy broadcasting over every input) ----
 * Two-input Max/Min are the binary op (same hooks). Otherwise the lowering is a chain of binary kernel calls
 * accumulating into y in input order, as the ONNX reference folds them: y = in0 op in1, then y = y op in_k;
 * Mean then divides y by the input count (a scalar stored with the parameter blocks). */
int op_variadic_infer(Graph *g, Node *n) {
  if (n->nin == 2 && (n->op == OP_Max || n->op == OP_Min)) return op_binary_infer(g, n);
  Value *y = n->out[0];
  DType dt = n->in[0]->dt;
  for (int k = 0; k < n->nin; k++) {
    if (!n->in[k]) return ir_errorf(g, n, "input %d is missing", k);
    if (n->in[k]->dt != dt)
      return ir_errorf(g, n, "inputs have different dtypes (%s and %s)", ir_dtype_name(dt), ir_dtype_name(n->in[k]->dt));
  }
  if ((n->op == OP_Sum || n->op == OP_Mean) ? !ir_dtype_is_float(dt) : !any_dtype_ok(dt) || dt == DT_BOOL)
    return ir_errorf(g, n, "dtype %s is not supported", ir_dtype_name(dt));
  Value acc = *n->in[0];
  for (int k = 1; k < n->nin; k++) {
    if (oc_broadcast(g, n, &acc, n->in[k], y)) return -1;
    acc = *y;
  }
  oc_set_out(y, dt, acc.rank, acc.dims);
  return 0;
}

int op_variadic_eval(Graph *g, Node *n) {
  if (n->nin == 2 && (n->op == OP_Max || n->op == OP_Min)) return op_binary_eval(g, n);
  Value *y = n->out[0];
  int r = y->rank, nin = n->nin;
  int64_t st[64][IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
  for (int k = 0; k < nin; k++) oc_bcast_strides(n->in[k], r, y->dims, st[k]);
  oc_make_const(g, y);
  int64_t total = ir_numel(y);
  bool isint = ir_dtype_is_int(y->dt);
  int op = n->op == OP_Max ? RT_BIN_MAX : n->op == OP_Min ? RT_BIN_MIN : RT_BIN_ADD;
  for (int64_t i = 0; i < total; i++) {
    int64_t off[64] = {0};
    for (int k = 0; k < nin; k++)
      for (int d = 0; d < r; d++) off[k] += idx[d] * st[k][d];
    if (isint) {
      int64_t acc = oc_geti(n->in[0], off[0]);
      for (int k = 1; k < nin; k++) acc = bin_i(op, acc, oc_geti(n->in[k], off[k]));
      if (y->dt == DT_INT64 || y->dt == DT_UINT64) ((int64_t *)y->data)[i] = acc;
      else oc_setf(y, i, (double)acc);
    } else {
      double acc = oc_getf(n->in[0], off[0]);
      for (int k = 1; k < nin; k++) acc = bin_f(op, acc, oc_getf(n->in[k], off[k]));
      if (n->op == OP_Mean) acc /= nin;
      oc_setf(y, i, acc);
    }
    for (int d = r - 1; d >= 0; d--) {
      if (++idx[d] < y->dims[d].c) break;
      idx[d] = 0;
    }
  }
  return 0;
}

int op_variadic_lower(LowerCtx *cx, Node *n) {
  if (n->nin == 2 && (n->op == OP_Max || n->op == OP_Min)) return op_binary_lower(cx, n);
  Graph *g = cg_graph(cx);
  Value *y = n->out[0];
  DType dt = y->dt;
  if (dt != DT_FLOAT && (!any_dtype_ok(dt) || dt == DT_BOOL))
    return ir_errorf(g, n, "dtype %s is not supported at run time", ir_dtype_name(dt));
  if (n->act != RT_ACT_NONE || n->res) return ir_errorf(g, n, "internal: fused epilogue on a variadic op");
  Dim total = oc_prod(g, y->dims, 0, y->rank);
  if (n->nin == 1) {                                   /* a copy */
    RtCopy2d p = {.dst = cg_addr(cx, y), .src = cg_addr(cx, n->in[0]), .rows = 1};
    CG_DIM(cx, p, row_bytes, ir_dim_mul(g, total, ir_dimc(ir_dtype_size(dt))));
    return p.dst == p.src ? 0 : cg_call(cx, K_copy2d, &p, sizeof p, n);
  }
  int op = n->op == OP_Max ? RT_BIN_MAX : n->op == OP_Min ? RT_BIN_MIN : RT_BIN_ADD;
  int aop = n->op == OP_Max ? RT_ANY_MAX : n->op == OP_Min ? RT_ANY_MIN : RT_ANY_ADD;
  RtAct none = {RT_ACT_NONE, 0, 0};
  for (int k = 1; k < n->nin; k++) {
    const Value *a = k == 1 ? n->in[0] : y;
    if (dt == DT_FLOAT ? lower_f32(cx, n, op, a, n->in[k], none) : lower_any(cx, n, aop, a, n->in[k])) return -1;
  }
  if (n->op != OP_Mean) return 0;
  /* y /= count, the count a scalar of y's dtype in the parameter region (Mean is float-only) */
  if (dt == DT_FLOAT) {
    float c = (float)n->nin;
    RtBinary p = {.a = cg_addr(cx, y), .b = cg_data(cx, &c, sizeof c), .y = cg_addr(cx, y), .op = RT_BIN_DIV, .rank = 1,
                  .astride = {1}, .bstride = {0}, .act = none};
    CG_DIM(cx, p, dim[0], total);
    return cg_call(cx, K_binary_f32, &p, sizeof p, n);
  }
  if (dt != DT_DOUBLE) return ir_errorf(g, n, "dtype %s is not supported at run time", ir_dtype_name(dt));
  double c = (double)n->nin;
  RtBinaryAny p = {.a = cg_addr(cx, y), .b = cg_data(cx, &c, sizeof c), .y = cg_addr(cx, y), .op = RT_ANY_DIV, .rank = 1,
                   .dtype = DT_DOUBLE, .astride = {1}, .bstride = {0}};
  CG_DIM(cx, p, dim[0], total);
  return cg_call(cx, K_binary_any, &p, sizeof p, n);
}

/* ---- Mod, comparisons (Equal, Less, Greater, LessOrEqual, GreaterOrEqual), logic (And, Or, Xor, Not), Where ---- */
static int cmp_op(const Node *n) {
  switch (n->op) {
  case OP_Mod: return ir_attr_int(n, "fmod", 0) ? RT_ANY_FMOD : RT_ANY_MOD;
  case OP_Equal: return RT_ANY_EQ;
  case OP_Less: return RT_ANY_LT;
  case OP_Greater: return RT_ANY_GT;
  case OP_LessOrEqual: return RT_ANY_LE;
  case OP_GreaterOrEqual: return RT_ANY_GE;
  case OP_And: return RT_ANY_AND;
  case OP_Or: return RT_ANY_OR;
  case OP_Xor: return RT_ANY_XOR;
  case OP_BitShift: return strcmp(ir_attr_str(n, "direction", ""), "LEFT") ? RT_ANY_SHR : RT_ANY_SHL;
  default: return RT_ANY_NOT;
  }
}

int op_cmp_infer(Graph *g, Node *n) {
  Value *a = n->in[0], *b = n->nin > 1 ? n->in[1] : n->in[0], *y = n->out[0];
  int op = cmp_op(n);
  if (a->dt != b->dt)
    return ir_errorf(g, n, "inputs have different dtypes (%s and %s)", ir_dtype_name(a->dt), ir_dtype_name(b->dt));
  if (op >= RT_ANY_AND && a->dt != DT_BOOL)
    return ir_errorf(g, n, "input '%s' has dtype %s, expected bool", a->name, ir_dtype_name(a->dt));
  if (!any_dtype_ok(a->dt) && a->dt != DT_FLOAT16) return ir_errorf(g, n, "dtype %s is not supported", ir_dtype_name(a->dt));
  if ((op == RT_ANY_MOD) && ir_dtype_is_float(a->dt))
    return ir_errorf(g, n, "fmod must be 1 for floating-point inputs (dtype %s)", ir_dtype_name(a->dt));
  if (n->op == OP_BitShift) {
    const char *dir = ir_attr_str(n, "direction", "");
    if (strcmp(dir, "LEFT") && strcmp(dir, "RIGHT")) return ir_errorf(g, n, "direction '%s' is not LEFT or RIGHT", dir);
    if (a->dt != DT_UINT8 && a->dt != DT_UINT16 && a->dt != DT_UINT32 && a->dt != DT_UINT64)
      return ir_errorf(g, n, "dtype %s is not supported (unsigned integers only)", ir_dtype_name(a->dt));
  }
  y->dt = op < RT_ANY_EQ ? a->dt : DT_BOOL;
  return oc_broadcast(g, n, a, b, y);
}

static double fmod_ref(double a, double b, int floored) {
  double r = fmod(a, b);
  return floored && r != 0 && (r < 0) != (b < 0) ? r + b : r;
}

static int64_t imod_ref(int64_t a, int64_t b, int floored) {
  if (!b || b == -1) return 0;
  int64_t r = a % b;
  return floored && r != 0 && (r < 0) != (b < 0) ? r + b : r;
}

static int cmp_ref(int op, double x, double z) {   /* IEEE comparisons: NaN compares false */
  switch (op) {
  case RT_ANY_EQ: return x == z;
  case RT_ANY_LT: return x < z;
  case RT_ANY_GT: return x > z;
  case RT_ANY_LE: return x <= z;
  default: return x >= z;
  }
}

int op_cmp_eval(Graph *g, Node *n) {
  Value *a = n->in[0], *b = n->nin > 1 ? n->in[1] : n->in[0], *y = n->out[0];
  int r = y->rank, op = cmp_op(n);
  int64_t sa[IR_MAX_RANK], sb[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
  oc_bcast_strides(a, r, y->dims, sa);
  oc_bcast_strides(b, r, y->dims, sb);
  oc_make_const(g, y);
  int64_t total = ir_numel(y), ia = 0, ib = 0;
  bool fl = ir_dtype_is_float(a->dt), uns = a->dt == DT_UINT64;
  for (int64_t i = 0; i < total; i++) {
    if (op == RT_ANY_SHL || op == RT_ANY_SHR) {
      uint64_t x = (uint64_t)oc_geti(a, ia), z = (uint64_t)oc_geti(b, ib), w = (uint64_t)ir_dtype_size(a->dt) * 8;
      uint64_t v = z >= w ? 0 : op == RT_ANY_SHL ? x << z : x >> z;
      if (w < 64) v &= ((uint64_t)1 << w) - 1;
      if (y->dt == DT_UINT64) ((uint64_t *)y->data)[i] = v;
      else oc_setf(y, i, (double)v);
    } else if (op == RT_ANY_MOD || op == RT_ANY_FMOD) {
      if (fl) oc_setf(y, i, fmod_ref(oc_getf(a, ia), oc_getf(b, ib), op == RT_ANY_MOD));
      else if (uns) { uint64_t x = (uint64_t)oc_geti(a, ia), z = (uint64_t)oc_geti(b, ib); ((uint64_t *)y->data)[i] = z ? x % z : 0; }
      else if (y->dt == DT_INT64) ((int64_t *)y->data)[i] = imod_ref(oc_geti(a, ia), oc_geti(b, ib), op == RT_ANY_MOD);
      else oc_setf(y, i, (double)imod_ref(oc_geti(a, ia), oc_geti(b, ib), op == RT_ANY_MOD));
    } else {
      int v;
      if (op >= RT_ANY_AND) {
        int x = oc_geti(a, ia) != 0, z = oc_geti(b, ib) != 0;
        v = op == RT_ANY_AND ? x & z : op == RT_ANY_OR ? x | z : op == RT_ANY_XOR ? x ^ z : !x;
      } else if (fl) {
        v = cmp_ref(op, oc_getf(a, ia), oc_getf(b, ib));
      } else if (uns) {
        uint64_t x = (uint64_t)oc_geti(a, ia), z = (uint64_t)oc_geti(b, ib);
        v = x == z ? cmp_ref(op, 0, 0) : cmp_ref(op, x < z ? 0 : 1, x < z ? 1 : 0);
      } else {
        int64_t x = oc_geti(a, ia), z = oc_geti(b, ib);
        v = x == z ? cmp_ref(op, 0, 0) : cmp_ref(op, x < z ? 0 : 1, x < z ? 1 : 0);
      }
      ((uint8_t *)y->data)[i] = (uint8_t)v;
    }
    for (int d = r - 1; d >= 0; d--) {
      ia += sa[d]; ib += sb[d];
      if (++idx[d] < y->dims[d].c) break;
      ia -= sa[d] * idx[d]; ib -= sb[d] * idx[d]; idx[d] = 0;
    }
  }
  return 0;
}

int op_cmp_lower(LowerCtx *cx, Node *n) {
  return lower_any(cx, n, cmp_op(n), n->in[0], n->nin > 1 ? n->in[1] : n->in[0]);
}

int op_where_infer(Graph *g, Node *n) {
  Value *c = n->in[0], *x = n->in[1], *yv = n->in[2], *out = n->out[0];
  if (c->dt != DT_BOOL) return ir_errorf(g, n, "condition '%s' has dtype %s, expected bool", c->name, ir_dtype_name(c->dt));
  if (x->dt != yv->dt) return ir_errorf(g, n, "X and Y have different dtypes (%s and %s)", ir_dtype_name(x->dt), ir_dtype_name(yv->dt));
  if (!ir_dtype_size(x->dt) || x->dt == DT_STRING) return ir_errorf(g, n, "dtype %s is not supported", ir_dtype_name(x->dt));
  Value tmp = {0};
  if (oc_broadcast(g, n, x, yv, &tmp) || oc_broadcast(g, n, c, &tmp, out)) return -1;
  out->dt = x->dt;
  return 0;
}

int op_where_eval(Graph *g, Node *n) {
  Value *c = n->in[0], *x = n->in[1], *yv = n->in[2], *out = n->out[0];
  int r = out->rank, es = ir_dtype_size(out->dt);
  int64_t sc[IR_MAX_RANK], sx[IR_MAX_RANK], sy[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
  oc_bcast_strides(c, r, out->dims, sc);
  oc_bcast_strides(x, r, out->dims, sx);
  oc_bcast_strides(yv, r, out->dims, sy);
  uint8_t *d = oc_make_const(g, out);
  int64_t total = ir_numel(out), ic = 0, ix = 0, iy = 0;
  for (int64_t i = 0; i < total; i++) {
    bool t = ((const uint8_t *)c->data)[ic] != 0;
    memcpy(d + i * es, t ? (uint8_t *)x->data + ix * es : (uint8_t *)yv->data + iy * es, (size_t)es);
    for (int k = r - 1; k >= 0; k--) {
      ic += sc[k]; ix += sx[k]; iy += sy[k];
      if (++idx[k] < out->dims[k].c) break;
      ic -= sc[k] * idx[k]; ix -= sx[k] * idx[k]; iy -= sy[k] * idx[k]; idx[k] = 0;
    }
  }
  return 0;
}

int op_where_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *out = n->out[0];
  const Value *ops[3] = {n->in[0], n->in[1], n->in[2]};
  Dim dim[IR_MAX_RANK], st[3][IR_MAX_RANK];
  int k = bcast_plan(g, n, out, ops, 3, dim, st);
  if (k < 0) return -1;
  RtWhere p = {.c = cg_addr(cx, ops[0]), .x = cg_addr(cx, ops[1]), .y = cg_addr(cx, ops[2]), .out = cg_addr(cx, out),
               .esize = ir_dtype_size(out->dt), .rank = k};
  for (int i = 0; i < k; i++) {
    CG_DIM(cx, p, dim[i], dim[i]);
    CG_DIM(cx, p, cstride[i], st[0][i]); CG_DIM(cx, p, xstride[i], st[1][i]); CG_DIM(cx, p, ystride[i], st[2][i]);
  }
  return cg_call(cx, K_where, &p, sizeof p, n);
}

/* ---- IsInf, IsNaN: float -> bool, as flat comparisons on the any-dtype kernel ----
 * IsNaN:  y = (x == x), then y = !y.
 * IsInf:  y = (x == +inf) and/or (x == -inf) (the infinity a scalar stored with the parameter blocks); with both
 *         signs the second comparison goes to scratch (one byte per element) and y = y | scratch. With neither,
 *         y = (x < -inf), false everywhere (NaN included). */
static void isinf_flags(const Node *n, int *pos, int *neg) {
  *pos = ir_attr_int(n, "detect_positive", 1) != 0;
  *neg = ir_attr_int(n, "detect_negative", 1) != 0;
}

int op_isclass_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  if (!ir_dtype_is_float(x->dt))
    return ir_errorf(g, n, "input '%s' has dtype %s, expected a float type", x->name, ir_dtype_name(x->dt));
  oc_set_out(n->out[0], DT_BOOL, x->rank, x->dims);
  return 0;
}

int op_isclass_eval(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  int pos, neg;
  isinf_flags(n, &pos, &neg);
  uint8_t *d = oc_make_const(g, y);
  int64_t total = ir_numel(y);
  for (int64_t i = 0; i < total; i++) {
    double v = oc_getf(x, i);
    d[i] = (uint8_t)(n->op == OP_IsNaN ? isnan(v) : (pos && v == INFINITY) || (neg && v == -INFINITY));
  }
  return 0;
}

int64_t op_isclass_scratch(Graph *g, const Node *n) {
  int pos, neg;
  isinf_flags(n, &pos, &neg);
  if (n->op != OP_IsInf || !pos || !neg) return 0;
  int64_t bytes = 1;
  for (int i = 0; i < n->out[0]->rank; i++) bytes *= ir_dim_max(g, n->out[0]->dims[i]);
  return bytes;
}

/* one flat any-dtype call: y = op(a, b) over total elements, b a scalar when bscalar */
static int flat_any(LowerCtx *cx, Node *n, int op, DType dt, uint32_t a, uint32_t b, uint32_t y, int bscalar, Dim total) {
  RtBinaryAny p = {.a = a, .b = b, .y = y, .op = op, .rank = 1, .dtype = dt, .astride = {1}, .bstride = {bscalar ? 0 : 1}};
  CG_DIM(cx, p, dim[0], total);
  return cg_call(cx, K_binary_any, &p, sizeof p, n);
}

int op_isclass_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *y = n->out[0];
  if (x->dt != DT_FLOAT && x->dt != DT_DOUBLE) return ir_errorf(g, n, "dtype %s is not supported at run time", ir_dtype_name(x->dt));
  Dim total = oc_prod(g, y->dims, 0, y->rank);
  uint32_t xa = cg_addr(cx, x), ya = cg_addr(cx, y);
  if (n->op == OP_IsNaN)
    return flat_any(cx, n, RT_ANY_EQ, x->dt, xa, xa, ya, 0, total) || flat_any(cx, n, RT_ANY_NOT, DT_BOOL, ya, ya, ya, 0, total);
  int pos, neg;
  isinf_flags(n, &pos, &neg);
  uint32_t inf[2];                                       /* +inf, -inf of x's dtype */
  if (x->dt == DT_FLOAT) {
    float f[2] = {INFINITY, -INFINITY};
    inf[0] = cg_data(cx, &f[0], sizeof f[0]); inf[1] = cg_data(cx, &f[1], sizeof f[1]);
  } else {
    double f[2] = {INFINITY, -INFINITY};
    inf[0] = cg_data(cx, &f[0], sizeof f[0]); inf[1] = cg_data(cx, &f[1], sizeof f[1]);
  }
  if (!pos && !neg) return flat_any(cx, n, RT_ANY_LT, x->dt, xa, inf[1], ya, 1, total);
  if (!neg) return flat_any(cx, n, RT_ANY_EQ, x->dt, xa, inf[0], ya, 1, total);
  if (!pos) return flat_any(cx, n, RT_ANY_EQ, x->dt, xa, inf[1], ya, 1, total);
  uint32_t s = cg_scratch(cx, n);
  return flat_any(cx, n, RT_ANY_EQ, x->dt, xa, inf[0], ya, 1, total) || flat_any(cx, n, RT_ANY_EQ, x->dt, xa, inf[1], s, 1, total) ||
         flat_any(cx, n, RT_ANY_OR, DT_BOOL, ya, s, ya, 0, total);
}

/* ---- unary activations ---- */
static float const_scalar(const Value *v, float dflt) {
  return v && v->kind == VK_CONST && v->data && ir_numel(v) == 1 ? (float)oc_getf(v, 0) : dflt;
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
        if (n->in[k] && (oc_need_const(g, n, k) || ir_numel(n->in[k]) != 1))
          return ir_errorf(g, n, "min/max must be constant scalars");
      a.a = const_scalar(n->nin > 1 ? n->in[1] : NULL, -FLT_MAX);
      a.b = const_scalar(n->nin > 2 ? n->in[2] : NULL, FLT_MAX);
    }
    break;
  case OP_Sigmoid: a.kind = RT_ACT_SIGMOID; break;
  case OP_Silu: a.kind = RT_ACT_SILU; break;
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
  case OP_Log: a.kind = RT_ACT_LOG; break;
  case OP_Cos: a.kind = RT_ACT_COS; break;
  case OP_Sin: a.kind = RT_ACT_SIN; break;
  case OP_Tan: a.kind = RT_ACT_TAN; break;
  case OP_Erf: a.kind = RT_ACT_ERF; break;
  case OP_Elu: a.kind = RT_ACT_ELU; a.a = ir_attr_float(n, "alpha", 1.0f); break;
  case OP_Selu:
    a.kind = RT_ACT_SELU; a.a = ir_attr_float(n, "alpha", 1.67326319217681884765625f);
    a.b = ir_attr_float(n, "gamma", 1.05070102214813232421875f); break;
  case OP_Celu:
    a.kind = RT_ACT_CELU; a.a = ir_attr_float(n, "alpha", 1.0f);
    if (a.a == 0) return ir_errorf(g, n, "alpha must not be 0");
    break;
  case OP_Softplus: a.kind = RT_ACT_SOFTPLUS; break;
  case OP_Softsign: a.kind = RT_ACT_SOFTSIGN; break;
  case OP_Floor: a.kind = RT_ACT_FLOOR; break;
  case OP_Ceil: a.kind = RT_ACT_CEIL; break;
  case OP_Round: a.kind = RT_ACT_ROUND; break;
  case OP_Sign: a.kind = RT_ACT_SIGN; break;
  case OP_ThresholdedRelu: a.kind = RT_ACT_THRESHOLDEDRELU; a.a = ir_attr_float(n, "alpha", 1.0f); break;
  case OP_Gelu: {
    const char *ap = ir_attr_str(n, "approximate", "none");
    if (!strcmp(ap, "none")) a.kind = RT_ACT_GELU;
    else if (!strcmp(ap, "tanh")) a.kind = RT_ACT_GELU_TANH;
    else return ir_errorf(g, n, "approximate '%s' is not one of none, tanh", ap);
    break;
  }
  case OP_Mish: a.kind = RT_ACT_MISH; break;
  case OP_Atan: a.kind = RT_ACT_ATAN; break;
  case OP_Asin: a.kind = RT_ACT_ASIN; break;
  case OP_Acos: a.kind = RT_ACT_ACOS; break;
  case OP_Sinh: a.kind = RT_ACT_SINH; break;
  case OP_Cosh: a.kind = RT_ACT_COSH; break;
  case OP_Asinh: a.kind = RT_ACT_ASINH; break;
  case OP_Acosh: a.kind = RT_ACT_ACOSH; break;
  case OP_Atanh: a.kind = RT_ACT_ATANH; break;
  case OP_Shrink:
    a.kind = RT_ACT_SHRINK; a.a = ir_attr_float(n, "lambd", 0.5f); a.b = ir_attr_float(n, "bias", 0.0f);
    if (!(a.a >= 0)) return ir_errorf(g, n, "lambd must be >= 0 (got %g)", (double)a.a);
    break;
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
  case RT_ACT_HARDSWISH_AFFINE: { double t = x / 6 + 0.5; return x * (t < 0 ? 0 : t > 1 ? 1 : t) * act.a + act.b; }
  case RT_ACT_SHRINK: return x < -act.a ? x + act.b : x > act.a ? x - act.b : 0;
  case RT_ACT_LEAKYRELU: return x >= 0 ? x : act.a * x;
  case RT_ACT_TANH: return tanh(x);
  case RT_ACT_SILU: return x / (1 + exp(-x));
  case RT_ACT_EXP: return exp(x);
  case RT_ACT_NEG: return -x;
  case RT_ACT_ABS: return fabs(x);
  case RT_ACT_SQRT: return sqrt(x);
  case RT_ACT_RECIPROCAL: return 1 / x;
  case RT_ACT_LOG: return log(x);
  case RT_ACT_COS: return cos(x);
  case RT_ACT_SIN: return sin(x);
  case RT_ACT_TAN: return tan(x);
  case RT_ACT_ERF: return erf(x);
  case RT_ACT_ELU: return x > 0 ? x : act.a * expm1(x);
  case RT_ACT_SELU: return act.b * (x > 0 ? x : act.a * expm1(x));
  case RT_ACT_CELU: return x > 0 ? x : act.a * expm1(x / act.a);
  case RT_ACT_SOFTPLUS: return (x > 0 ? x : 0) + log1p(exp(-fabs(x)));
  case RT_ACT_SOFTSIGN: return x / (1 + fabs(x));
  case RT_ACT_FLOOR: return floor(x);
  case RT_ACT_CEIL: return ceil(x);
  case RT_ACT_ROUND: return nearbyint(x);
  case RT_ACT_SIGN: return x > 0 ? 1 : x < 0 ? -1 : x == 0 ? 0 : x;
  case RT_ACT_THRESHOLDEDRELU: return x > act.a ? x : 0;
  case RT_ACT_GELU: return 0.5 * x * erfc(-x / sqrt(2.0));
  case RT_ACT_GELU_TANH: return 0.5 * x * (1 + tanh(sqrt(2 / 3.14159265358979323846) * (x + 0.044715 * x * x * x)));
  case RT_ACT_MISH: return x * tanh((x > 0 ? x : 0) + log1p(exp(-fabs(x))));
  case RT_ACT_ATAN: return atan(x);
  case RT_ACT_ASIN: return asin(x);
  case RT_ACT_ACOS: return acos(x);
  case RT_ACT_SINH: return sinh(x);
  case RT_ACT_COSH: return cosh(x);
  case RT_ACT_ASINH: return asinh(x);
  case RT_ACT_ACOSH: return acosh(x);
  case RT_ACT_ATANH: return atanh(x);
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

/* Clip whose min and/or max come at run time (one-element tensors), or of an integer type: y = max(x, min),
 * then min(y, max), binary kernel calls with the bound broadcast (float: rt_binary_f32, else rt_binary_any). */
static int clip_lower_binary(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *y = n->out[0];
  Dim total = oc_prod(g, y->dims, 0, y->rank);
  Value *src = x;
  for (int k = 1; k <= 2; k++) {
    Value *b = k < n->nin ? n->in[k] : NULL;
    if (!b) continue;
    if (b->dt != x->dt || !ir_shape_known(b) || ir_numel(b) != 1)
      return ir_errorf(g, n, "input %d must be a one-element %s tensor", k, ir_dtype_name(x->dt));
    if (x->dt == DT_FLOAT) {
      RtBinary p = {.a = cg_addr(cx, src), .b = cg_addr(cx, b), .y = cg_addr(cx, y), .op = k == 1 ? RT_BIN_MAX : RT_BIN_MIN,
                    .rank = 1, .astride = {1}, .bstride = {0}};
      CG_DIM(cx, p, dim[0], total);
      if (cg_call(cx, K_binary_f32, &p, sizeof p, n)) return -1;
    } else {
      RtBinaryAny p = {.a = cg_addr(cx, src), .b = cg_addr(cx, b), .y = cg_addr(cx, y), .op = k == 1 ? RT_ANY_MAX : RT_ANY_MIN,
                       .rank = 1, .dtype = x->dt, .astride = {1}, .bstride = {0}};
      CG_DIM(cx, p, dim[0], total);
      if (cg_call(cx, K_binary_any, &p, sizeof p, n)) return -1;
    }
    src = y;
  }
  if (src == x) {                                      /* no bounds: a copy */
    RtCopy2d p = {.dst = cg_addr(cx, y), .src = cg_addr(cx, x), .rows = 1};
    CG_DIM(cx, p, row_bytes, ir_dim_mul(g, total, ir_dimc(ir_dtype_size(x->dt))));
    return x == y ? 0 : cg_call(cx, K_copy2d, &p, sizeof p, n);
  }
  return 0;
}

int op_unary_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  if (n->op == OP_Clip && n->opset >= 11) {
    if (ir_dtype_is_int(n->in[0]->dt)) return clip_lower_binary(cx, n);
    for (int k = 1; k < n->nin; k++)
      if (n->in[k] && n->in[k]->kind != VK_CONST) return clip_lower_binary(cx, n);
  }
  if (oc_need_float(g, n, 0)) return -1;
  RtUnary p = {.x = cg_addr(cx, n->in[0]), .y = cg_addr(cx, n->out[0])};
  CG_DIM(cx, p, n, oc_prod(g, n->out[0]->dims, 0, n->out[0]->rank));
  if (op_unary_act(g, n, &p.act)) return -1;
  return cg_call(cx, K_unary_f32, &p, sizeof p, n);
}
