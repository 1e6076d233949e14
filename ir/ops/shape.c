/* shape.c — data-movement and shape ops: views (Identity, Dropout, Reshape, Flatten, Squeeze,
 * Unsqueeze), Shape, Constant, ConstantOfShape, Concat, Transpose, Gather, GatherElements, Pad, Cast, Slice,
 * Range. */
#include "opcommon.h"

#include <stdlib.h>

/* reads an int64/int32 constant input as a list; returns its length or -1 */
static int const_ints(Graph *g, Node *n, int k, int64_t *out, int max) {
  if (oc_need_const(g, n, k)) return -1;
  Value *v = n->in[k];
  if (!ir_dtype_is_int(v->dt) || v->rank > 1) return ir_errorf(g, n, "input %d must be a 1-D integer tensor", k);
  int64_t cnt = ir_numel(v);
  if (cnt > max) return ir_errorf(g, n, "input %d has %lld entries, at most %d supported", k, (long long)cnt, max);
  for (int64_t i = 0; i < cnt; i++) out[i] = oc_geti(v, i);
  return (int)cnt;
}

/* axes from the attribute (older opsets) or input 1 (newer); count or -1; 0 entries when absent */
/* Squeeze's / Unsqueeze's axes read from a graph input at run time: the axes are those the declared output shape
 * implies (it must imply exactly one set), and the elements must be them in any order, each maybe as its negative
 * alias a - r: element symbols (bound r - 1, a - r mapped to a) with run-time checks that each is one of the axes,
 * prod (e - a) = 0, and (for 2 or 3 axes) that their sum and sum of squares are the axes' (then the elements
 * are the axes, by the Vandermonde determinant). Returns the count, -1 on error. */
static int rt_axes(Graph *g, Node *n, int64_t *axes) {
  Value *x = n->in[0];
  bool unsq = n->op == OP_Unsqueeze;
  int na = (int)ir_numel(n->in[1]);
  if (na < 1 || na > 3) return ir_errorf(g, n, "axes read at run time: 1 to 3 of them are supported, got %d", na);
  int r = unsq ? x->rank + na : x->rank;          /* the rank the axes index */
  if (r > IR_MAX_RANK) return ir_errorf(g, n, "result rank %d exceeds %d", r, IR_MAX_RANK);
  int64_t d[IR_MAX_RANK];
  if (ir_declared_shape(g, n->out[0]->name, d) != (unsq ? r : r - na))
    return ir_errorf(g, n, "input 1 '%s' is read at run time; the model must declare the output's shape", n->in[1]->name);
  int64_t big[IR_MAX_RANK], small[IR_MAX_RANK];  /* the shape with the axes, the shape without */
  for (int i = 0; i < r; i++) {
    if (unsq) big[i] = d[i];
    else big[i] = ir_dim_known(x->dims[i]) ? x->dims[i].c : -2;
  }
  for (int i = 0; i < r - na; i++) {
    if (unsq) small[i] = ir_dim_known(x->dims[i]) ? x->dims[i].c : -2;
    else small[i] = d[i];
  }
  int found = 0;
  for (unsigned mask = 0; mask < 1u << r; mask++) {   /* the sets of na axes that fit */
    if (__builtin_popcount(mask) != na) continue;
    bool fits = true;
    for (int i = 0, j = 0; i < r && fits; i++) {
      if (mask >> i & 1) fits = big[i] == 1;
      else fits = small[j] >= 0 && (big[i] == small[j] || (unsq && big[i] < 0)), j++;
    }
    if (!fits) continue;
    if (found++) return ir_errorf(g, n, "input 1 '%s' is read at run time, and the declared output shape allows more than one set of axes", n->in[1]->name);
    for (int i = 0, k = 0; i < r; i++) if (mask >> i & 1) axes[k++] = i;
  }
  if (!found) return ir_errorf(g, n, "the declared output shape does not fit %d axes %s the input's", na, unsq ? "inserted into" : "removed from");
  int64_t from[3];
  Dim to[3], s1 = ir_dimc(0), s2 = ir_dimc(0);
  int64_t t1 = 0, t2 = 0;
  for (int j = 0; j < na; j++) { from[j] = axes[j] - r; to[j] = ir_dimc(axes[j]); t1 += axes[j]; t2 += axes[j] * axes[j]; }
  for (int i = 0; i < na; i++) {
    Dim e = ir_dim_elem(g, n, n->in[1], i, na, from, to, r - 1), p = ir_dimc(1);
    for (int j = 0; j < na; j++) p = ir_dim_mul(g, p, ir_dim_sub(g, e, ir_dimc(axes[j])));
    if (ir_failed(g) || !ir_dim_assume_eq(g, p, ir_dimc(0))) return -1;
    s1 = ir_dim_add(g, s1, e);
    s2 = ir_dim_add(g, s2, ir_dim_mul(g, e, e));
  }
  if (na >= 2 && !ir_dim_assume_eq(g, s1, ir_dimc(t1))) return -1;
  if (na >= 3 && !ir_dim_assume_eq(g, s2, ir_dimc(t2))) return -1;
  return ir_failed(g) ? -1 : na;
}

static int axes_of(Graph *g, Node *n, int64_t *axes) {
  if (n->nin > 1 && oc_is_rt_input(n, 1)) return rt_axes(g, n, axes);
  if (n->nin > 1 && n->in[1]) return const_ints(g, n, 1, axes, IR_MAX_RANK);
  const int64_t *a;
  int cnt = ir_attr_ints(n, "axes", &a);
  if (cnt < 0) return 0;
  if (cnt > IR_MAX_RANK) return ir_errorf(g, n, "too many axes");
  memcpy(axes, a, (size_t)cnt * sizeof *a);
  return cnt;
}

/* ---- views: the output holds the input's bytes under another shape ---- */
int op_identity_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  oc_set_out(n->out[0], x->dt, x->rank, x->dims);
  if (n->op != OP_Dropout) return 0;
  Value *train = n->nin > 2 ? n->in[2] : NULL;
  if (ir_attr_int(n, "is_test", 1) == 0 && n->opset < 7) return ir_errorf(g, n, "training mode (is_test=0) is not supported");
  int64_t t = 0;
  if (train && oc_in_i(g, n, 2, 0, &t)) return -1;
  if (t != 0) return ir_errorf(g, n, "training_mode must be a constant false (inference only)");
  if (n->nout > 1 && n->out[1]) {            /* the mask is all true in inference: a constant */
    Value *m = n->out[1];
    oc_set_out(m, DT_BOOL, x->rank, x->dims);
    if (!ir_shape_known(m)) return oc_need_known(g, n, 0);
    memset(oc_make_const(g, m), 1, (size_t)ir_nbytes(m));
    m->producer = NULL;
    n->out[1] = NULL;
  }
  return 0;
}

/* a 1-D integer constant as dims; symbolic elements allowed (shape arithmetic on run-time dims) */
static int const_dims(Graph *g, Node *n, int k, Dim *out, int max) {
  if (oc_need_const_dims(g, n, k)) return -1;
  Value *v = n->in[k];
  if (!ir_dtype_is_int(v->dt) || v->rank > 1) return ir_errorf(g, n, "input %d must be a 1-D integer tensor", k);
  int64_t cnt = ir_numel(v);
  if (cnt < 0 || cnt > max) return ir_errorf(g, n, "input %d has %lld entries, at most %d supported", k, (long long)cnt, max);
  for (int64_t i = 0; i < cnt; i++) out[i] = oc_elem(v, i);
  return (int)cnt;
}

/* The dims of y that input k lists, read from a graph input at run time (ConstantOfShape's shape, Expand's
 * target, Tile's repeats): element i is an element symbol (oc_in_dim; value map[i] stands for the dim mapto[i]
 * when map[i] >= 0). decl[i] >= 0: the model declares that dim, and the element must be it; else its bound is
 * --max-dim or the default. Returns the count, -1 on error. */
static int rt_elems(Graph *g, Node *n, int k, const int64_t *decl, const int64_t *map, const Dim *mapto, Dim *out) {
  int64_t r = ir_numel(n->in[k]);
  if (r > IR_MAX_RANK) return ir_errorf(g, n, "input %d has %lld entries, at most %d supported", k, (long long)r, IR_MAX_RANK);
  for (int i = 0; i < r; i++) {
    bool m = map && map[i] >= 0;
    if (oc_in_dim(g, n, k, i, m, m ? &map[i] : NULL, m ? &mapto[i] : NULL, decl[i] >= 0 ? decl[i] : -1, &out[i])) return -1;
    if (decl[i] >= 0) {
      if (!ir_dim_assume_eq(g, out[i], ir_dimc(decl[i]))) return -1;
      out[i] = ir_dimc(decl[i]);
    }
  }
  return (int)r;
}

/* the declared shape of y if it has rank r, else -1 for every dim */
static void declared_or_none(Graph *g, const Value *y, int r, int64_t *decl) {
  if (ir_declared_shape(g, y->name, decl) != r) for (int i = 0; i < IR_MAX_RANK; i++) decl[i] = -1;
}

/* Reshape to a shape read from a graph input at run time: each entry is an element symbol (ir_dim_elem).
 * Where the model declares the output's shape, the output has it, and each entry must be that dim (or 0 for
 * an input dim of that size, or -1), checked when the run starts; else the dims are the entries, which must
 * keep the element count (a run-time check; their bound). */
static int reshape_rt(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  int64_t r = ir_numel(n->in[1]);
  if (r > IR_MAX_RANK) return ir_errorf(g, n, "input 1 has %lld entries, at most %d supported", (long long)r, IR_MAX_RANK);
  int allowzero = (int)ir_attr_int(n, "allowzero", 0);
  int64_t decl[IR_MAX_RANK];
  bool declared = ir_declared_shape(g, y->name, decl) == r;
  for (int i = 0; i < r && declared; i++) declared = decl[i] >= 0;
  Dim total = ir_dimc(1), known = ir_dimc(1);
  for (int i = 0; i < x->rank; i++) total = ir_dim_mul(g, total, x->dims[i]);
  int64_t max = ir_numel_max(g, x);
  y->dt = x->dt;
  y->rank = (int)r;
  for (int i = 0; i < r; i++) {
    Dim e, d = ir_dimc(declared ? decl[i] : 0), to[2];
    int64_t from[2];
    int nmap = 0;
    if (!allowzero && i < x->rank) { from[nmap] = 0; to[nmap++] = x->dims[i]; }
    if (declared) { from[nmap] = -1; to[nmap++] = d; }
    if (oc_in_dim(g, n, 1, i, nmap, from, to, declared ? decl[i] : max, &e)) return -1;
    if (declared && !ir_dim_assume_eq(g, e, d)) return -1;
    y->dims[i] = declared ? d : e;
    known = ir_dim_mul(g, known, y->dims[i]);
  }
  if (ir_failed(g)) return -1;
  if (!ir_dim_assume_eq(g, total, known)) {
    char a[128], b[128];
    ir_dim_str(g, total, a, sizeof a);
    ir_dim_str(g, known, b, sizeof b);
    return ir_errorf(g, n, "cannot reshape %s elements into %s", a, b);
  }
  return 0;
}

int op_reshape_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  if (oc_is_rt_input(n, 1)) return reshape_rt(g, n);
  Dim shd[IR_MAX_RANK];
  int r = const_dims(g, n, 1, shd, IR_MAX_RANK);
  if (r < 0) return -1;
  int allowzero = (int)ir_attr_int(n, "allowzero", 0), neg = -1;
  y->dt = x->dt;
  y->rank = r;
  Dim known = ir_dimc(1);
  for (int i = 0; i < r; i++) {
    if (!ir_dim_known(shd[i])) { y->dims[i] = shd[i]; known = ir_dim_mul(g, known, y->dims[i]); continue; }
    int64_t e = shd[i].c;
    if (e == 0 && !allowzero) {
      if (i >= x->rank) return ir_errorf(g, n, "shape entry %d is 0 but the input has rank %d", i, x->rank);
      y->dims[i] = x->dims[i];
    } else if (e == -1) {
      if (neg >= 0) return ir_errorf(g, n, "shape has more than one -1");
      neg = i;
      continue;
    } else if (e < 0) return ir_errorf(g, n, "shape entry %lld is invalid", (long long)e);
    else y->dims[i] = ir_dimc(e);
    known = ir_dim_mul(g, known, y->dims[i]);
  }
  Dim total = ir_dimc(1);
  for (int i = 0; i < x->rank; i++) total = ir_dim_mul(g, total, x->dims[i]);
  char a[128], b[128];
  if (neg >= 0) {
    if (!ir_dim_div(g, total, known, &y->dims[neg])) {
      ir_dim_str(g, total, a, sizeof a);
      ir_dim_str(g, known, b, sizeof b);
      return ir_errorf(g, n, "cannot reshape %s elements into a multiple of %s", a, b);
    }
  } else if (!ir_dim_eq(total, known)) {
    ir_dim_str(g, total, a, sizeof a);
    ir_dim_str(g, known, b, sizeof b);
    return ir_errorf(g, n, "cannot reshape %s elements into %s", a, b);
  }
  return 0;
}

int op_flatten_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  int64_t axis = ir_attr_int(n, "axis", 1);
  if (axis < -x->rank || axis > x->rank) return ir_errorf(g, n, "axis %lld is out of range for rank %d", (long long)axis, x->rank);
  if (axis < 0) axis += x->rank;
  Dim a = ir_dimc(1), b = ir_dimc(1);
  for (int i = 0; i < x->rank; i++) {
    if (i < axis) a = ir_dim_mul(g, a, x->dims[i]);
    else b = ir_dim_mul(g, b, x->dims[i]);
  }
  Dim d[2] = {a, b};
  oc_set_out(n->out[0], x->dt, 2, d);
  return 0;
}

int op_squeeze_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  int64_t axes[IR_MAX_RANK];
  int na = axes_of(g, n, axes);
  if (na < 0) return -1;
  bool drop[IR_MAX_RANK] = {0};
  for (int i = 0; i < na; i++) {
    int a;
    if (oc_axis(g, n, axes[i], x->rank, &a)) return -1;
    if (!ir_dim_known(x->dims[a]) || x->dims[a].c != 1) return ir_errorf(g, n, "axis %d has size other than 1", a);
    drop[a] = true;
  }
  y->dt = x->dt;
  y->rank = 0;
  for (int i = 0; i < x->rank; i++) {
    if (na == 0 && ir_dim_known(x->dims[i]) && x->dims[i].c == 1) continue;
    if (drop[i]) continue;
    y->dims[y->rank++] = x->dims[i];
  }
  return 0;
}

int op_unsqueeze_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  int64_t axes[IR_MAX_RANK];
  int na = axes_of(g, n, axes);
  if (na < 0) return -1;
  if (na == 0) return ir_errorf(g, n, "axes are required");
  int r = x->rank + na;
  if (r > IR_MAX_RANK) return ir_errorf(g, n, "result rank %d exceeds %d", r, IR_MAX_RANK);
  bool ins[IR_MAX_RANK] = {0};
  for (int i = 0; i < na; i++) {
    int a;
    if (oc_axis(g, n, axes[i], r, &a)) return -1;
    if (ins[a]) return ir_errorf(g, n, "axis %d repeated", a);
    ins[a] = true;
  }
  y->dt = x->dt;
  y->rank = r;
  for (int i = 0, j = 0; i < r; i++) y->dims[i] = ins[i] ? ir_dimc(1) : x->dims[j++];
  return 0;
}

int op_view_eval(Graph *g, Node *n) {
  memcpy(oc_make_const(g, n->out[0]), n->in[0]->data, (size_t)ir_nbytes(n->out[0]));
  return 0;
}

int op_view_lower(LowerCtx *cx, Node *n) {
  Value *y = n->out[0];
  if (y->alias) return 0;                   /* the planner gave it the input's storage */
  RtCopy2d p = {.dst = cg_addr(cx, y), .src = cg_addr(cx, n->in[0]), .rows = 1};
  Graph *g = cg_graph(cx);
  CG_DIM(cx, p, row_bytes, ir_dim_mul(g, oc_prod(g, y->dims, 0, y->rank), ir_dimc(ir_dtype_size(y->dt))));
  return cg_call(cx, K_copy2d, &p, sizeof p, n);
}

/* ---- Shape, Constant, ConstantOfShape ---- */
static void shape_range(const Node *n, int rank, int *s, int *e) {
  int64_t a = ir_attr_int(n, "start", 0), b = ir_attr_int(n, "end", rank);
  if (a < 0) a += rank;
  if (b < 0) b += rank;
  *s = (int)(a < 0 ? 0 : a > rank ? rank : a);
  *e = (int)(b < 0 ? 0 : b > rank ? rank : b);
  if (*e < *s) *e = *s;
}

int op_shape_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  if (x->rank < 0) return ir_errorf(g, n, "the rank of '%s' is unknown", x->name);
  int s, e;
  shape_range(n, x->rank, &s, &e);
  int64_t d = e - s;
  ir_set_shape(n->out[0], 1, &d);
  n->out[0]->dt = DT_INT64;
  return 0;
}

int op_shape_eval(Graph *g, Node *n) {
  Value *x = n->in[0];
  int s, e;
  shape_range(n, x->rank, &s, &e);
  for (int i = s; i < e; i++)
    if (!ir_dim_known(x->dims[i])) return ir_errorf(g, n, "dim %d of '%s' is symbolic; Shape on symbolic dims is not supported yet", i, x->name);
  int64_t *d = oc_make_const(g, n->out[0]);
  for (int i = s; i < e; i++) d[i - s] = x->dims[i].c;
  return 0;
}

int op_constant_infer(Graph *g, Node *n) {
  if (n->nattr != 1) return ir_errorf(g, n, "expected exactly one value attribute");
  const Attr *a = &n->attrs[0];
  Value *y = n->out[0];
  if (!strcmp(a->name, "value") && a->type == AT_TENSOR) { oc_set_out(y, a->t->dt, a->t->rank, a->t->dims); return 0; }
  if (!strcmp(a->name, "value_float") && a->type == AT_FLOAT) { y->dt = DT_FLOAT; y->rank = 0; return 0; }
  if (!strcmp(a->name, "value_int") && a->type == AT_INT) { y->dt = DT_INT64; y->rank = 0; return 0; }
  if (!strcmp(a->name, "value_floats") && a->type == AT_FLOATS) { int64_t d = a->n; y->dt = DT_FLOAT; ir_set_shape(y, 1, &d); return 0; }
  if (!strcmp(a->name, "value_ints") && a->type == AT_INTS) { int64_t d = a->n; y->dt = DT_INT64; ir_set_shape(y, 1, &d); return 0; }
  return ir_errorf(g, n, "attribute '%s' is not supported", a->name);
}

int op_constant_eval(Graph *g, Node *n) {
  const Attr *a = &n->attrs[0];
  Value *y = n->out[0];
  void *d = oc_make_const(g, y);
  if (a->type == AT_TENSOR) memcpy(d, a->t->data, (size_t)ir_nbytes(y));
  else if (a->type == AT_FLOAT) *(float *)d = a->f;
  else if (a->type == AT_INT) *(int64_t *)d = a->i;
  else if (a->type == AT_FLOATS) memcpy(d, a->floats, (size_t)a->n * 4);
  else memcpy(d, a->ints, (size_t)a->n * 8);
  return 0;
}

int op_cos_infer(Graph *g, Node *n) {
  Dim sh[IR_MAX_RANK];
  int64_t decl[IR_MAX_RANK];
  if (oc_is_rt_input(n, 0)) declared_or_none(g, n->out[0], (int)ir_numel(n->in[0]), decl);
  int r = oc_is_rt_input(n, 0) ? rt_elems(g, n, 0, decl, NULL, NULL, sh) : const_dims(g, n, 0, sh, IR_MAX_RANK);
  if (r < 0) return -1;
  for (int i = 0; i < r; i++) if (ir_dim_known(sh[i]) && sh[i].c < 0) return ir_errorf(g, n, "negative dimension in shape");
  const Attr *v = ir_attr(n, "value");
  if (v && (v->type != AT_TENSOR || ir_numel(v->t) != 1)) return ir_errorf(g, n, "value must be a one-element tensor");
  oc_set_out(n->out[0], v ? v->t->dt : DT_FLOAT, r, sh);
  return 0;
}

int op_cos_eval(Graph *g, Node *n) {
  const Attr *v = ir_attr(n, "value");
  Value *y = n->out[0];
  uint8_t *d = oc_make_const(g, y);
  int es = ir_dtype_size(y->dt);
  int64_t total = ir_numel(y);
  for (int64_t i = 0; i < total; i++) {
    if (v) memcpy(d + i * es, v->t->data, (size_t)es);
    else memset(d + i * es, 0, (size_t)es);
  }
  return 0;
}

/* ---- EyeLike: a 2-D constant that depends only on the input's shape (passes/fold.c folds it without the input's
 * values): ones on the diagonal shifted by k (column = row + k), zeros elsewhere; dtype the attribute's or the input's ---- */
int op_eyelike_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  if (oc_need_known(g, n, 0)) return -1;
  if (x->rank != 2) return ir_errorf(g, n, "input '%s' has rank %d, expected 2", x->name, x->rank);
  DType dt = (DType)ir_attr_int(n, "dtype", x->dt);
  if (!ir_dtype_size(dt) || dt == DT_STRING) return ir_errorf(g, n, "dtype %s is not supported", ir_dtype_name(dt));
  oc_set_out(n->out[0], dt, 2, x->dims);
  return 0;
}

int op_eyelike_eval(Graph *g, Node *n) {
  Value *y = n->out[0];
  int64_t k = ir_attr_int(n, "k", 0), rows = y->dims[0].c, cols = y->dims[1].c;
  uint8_t *d = oc_make_const(g, y);
  memset(d, 0, (size_t)ir_nbytes(y));
  if (k >= cols || k <= -rows) return 0;   /* the shifted diagonal misses the matrix (and r + k cannot overflow below) */
  for (int64_t r = 0; r < rows; r++)
    if (r + k >= 0 && r + k < cols) oc_setf(y, r * cols + r + k, 1.0);
  return 0;
}

/* ---- Concat ---- */
int op_concat_infer(Graph *g, Node *n) {
  Value *x0 = n->in[0], *y = n->out[0];
  int axis;
  if (x0->rank < 0) return oc_need_known(g, n, 0);
  if (oc_axis(g, n, ir_attr_int(n, "axis", 0), x0->rank, &axis)) return -1;
  oc_set_out(y, x0->dt, x0->rank, x0->dims);
  for (int k = 1; k < n->nin; k++) {
    Value *x = n->in[k];
    if (x->dt != x0->dt) return ir_errorf(g, n, "input %d has dtype %s, expected %s", k, ir_dtype_name(x->dt), ir_dtype_name(x0->dt));
    if (x->rank != x0->rank) return ir_errorf(g, n, "input %d has rank %d, expected %d", k, x->rank, x0->rank);
    for (int i = 0; i < x->rank; i++)
      if (i != axis && !oc_same_dim(g, x->dims[i], x0->dims[i])) return ir_errorf(g, n, "input %d differs in dim %d", k, i);
    y->dims[axis] = ir_dim_add(g, y->dims[axis], x->dims[axis]);
  }
  return 0;
}

/* outer count and per-input row bytes for a concat along axis */
static int64_t concat_outer(const Value *y, int axis) {
  int64_t o = 1;
  for (int i = 0; i < axis; i++) o *= y->dims[i].c;
  return o;
}

int op_concat_eval(Graph *g, Node *n) {
  Value *y = n->out[0];
  int axis;
  oc_axis(g, n, ir_attr_int(n, "axis", 0), y->rank, &axis);
  uint8_t *d = oc_make_const(g, y);
  int64_t outer = concat_outer(y, axis), ybytes = ir_nbytes(y) / (outer ? outer : 1), off = 0;
  for (int k = 0; k < n->nin; k++) {
    int64_t rb = ir_nbytes(n->in[k]) / (outer ? outer : 1);
    for (int64_t o = 0; o < outer; o++) memcpy(d + o * ybytes + off, (uint8_t *)n->in[k]->data + o * rb, (size_t)rb);
    off += rb;
  }
  return 0;
}

int op_concat_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *y = n->out[0];
  int axis;
  if (oc_axis(g, n, ir_attr_int(n, "axis", 0), y->rank, &axis)) return -1;
  /* every input is `outer` rows of (its axis length x inner) elements, laid side by side in y;
   * a resident cache (passes/resident_kv.c) has rows of its capacity, and its past input is
   * already in place */
  Dim outer = oc_prod(g, y->dims, 0, axis), es = ir_dimc(ir_dtype_size(y->dt));
  Dim ybytes = ir_dim_mul(g, oc_prod(g, y->dims, axis, y->rank), es), off = ir_dimc(0);
  if (y->cap > 0) {
    if (y->cap_axis != axis) return ir_errorf(g, n, "internal: resident cache grows along axis %d, not %d", y->cap_axis, axis);
    Dim st[IR_MAX_RANK];
    ir_strides(g, y, st);
    ybytes = ir_dim_mul(g, axis > 0 ? st[axis - 1] : ir_dimc(ir_numel_max(g, y)), es);
  }
  for (int k = 0; k < n->nin; k++) {
    Dim rb = ir_dim_mul(g, oc_prod(g, n->in[k]->dims, axis, n->in[k]->rank), es);
    if (n->in[k]->resident_in == y) { off = ir_dim_add(g, off, rb); continue; }
    if (ir_dim_known(rb) && rb.c == 0) continue;
    RtCopy2d p = {.src = cg_addr(cx, n->in[k])};
    CG_DIM(cx, p, dst, ir_dim_add(g, ir_dimc(cg_addr(cx, y)), off));
    CG_DIM(cx, p, rows, outer);
    CG_DIM(cx, p, row_bytes, rb);
    CG_DIM(cx, p, dst_stride, ybytes);
    CG_DIM(cx, p, src_stride, rb);
    if (cg_call(cx, K_copy2d, &p, sizeof p, n)) return -1;
    off = ir_dim_add(g, off, rb);
  }
  return 0;
}

/* ---- Transpose ---- */
static int perm_of(Graph *g, Node *n, int rank, int *perm) {
  const int64_t *p;
  int cnt = ir_attr_ints(n, "perm", &p);
  if (cnt < 0) { for (int i = 0; i < rank; i++) perm[i] = rank - 1 - i; return 0; }
  if (cnt != rank) return ir_errorf(g, n, "perm has %d entries, expected %d", cnt, rank);
  bool seen[IR_MAX_RANK] = {0};
  for (int i = 0; i < rank; i++) {
    if (p[i] < 0 || p[i] >= rank || seen[p[i]]) return ir_errorf(g, n, "perm is not a permutation");
    seen[p[i]] = true;
    perm[i] = (int)p[i];
  }
  return 0;
}

int op_transpose_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  int perm[IR_MAX_RANK];
  if (x->rank < 0) return oc_need_known(g, n, 0);
  if (perm_of(g, n, x->rank, perm)) return -1;
  y->dt = x->dt;
  y->rank = x->rank;
  for (int i = 0; i < x->rank; i++) y->dims[i] = x->dims[perm[i]];
  return 0;
}

/* symbolic version for lowering */
static int transpose_plan_dim(Graph *g, const Value *x, const int *perm, Dim *dim, Dim *xs) {
  Dim st[IR_MAX_RANK], s = ir_dimc(1);
  for (int i = x->rank - 1; i >= 0; i--) { st[i] = s; s = ir_dim_mul(g, s, x->dims[i]); }
  int k = 0;
  for (int i = 0; i < x->rank; i++) {
    Dim d = x->dims[perm[i]], t = st[perm[i]];
    if (oc_is1(d)) continue;
    if (k > 0 && ir_dim_eq(xs[k - 1], ir_dim_mul(g, t, d))) { dim[k - 1] = ir_dim_mul(g, dim[k - 1], d); xs[k - 1] = t; continue; }
    dim[k] = d; xs[k] = t; k++;
  }
  return k;
}

/* y dims and x strides permuted into y order, with size-1 dims dropped and runs merged */
static int transpose_plan(const Value *x, const int *perm, int64_t *dim, int64_t *xs) {
  int64_t st[IR_MAX_RANK], s = 1;
  for (int i = x->rank - 1; i >= 0; i--) { st[i] = s; s *= x->dims[i].c; }
  int k = 0;
  for (int i = 0; i < x->rank; i++) {
    int64_t d = x->dims[perm[i]].c, t = st[perm[i]];
    if (d == 1) continue;
    if (k > 0 && xs[k - 1] == t * d) { dim[k - 1] *= d; xs[k - 1] = t; continue; }
    dim[k] = d; xs[k] = t; k++;
  }
  return k;
}

int op_transpose_eval(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  int perm[IR_MAX_RANK];
  perm_of(g, n, x->rank, perm);
  int64_t dim[IR_MAX_RANK], xs[IR_MAX_RANK], idx[IR_MAX_RANK] = {0};
  int k = transpose_plan(x, perm, dim, xs), es = ir_dtype_size(x->dt);
  uint8_t *d = oc_make_const(g, y);
  int64_t total = ir_numel(y), xi = 0;
  for (int64_t i = 0; i < total; i++) {
    memcpy(d + i * es, (uint8_t *)x->data + xi * es, (size_t)es);
    for (int a = k - 1; a >= 0; a--) {
      xi += xs[a];
      if (++idx[a] < dim[a]) break;
      xi -= xs[a] * idx[a]; idx[a] = 0;
    }
  }
  return 0;
}

int op_transpose_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *y = n->out[0];
  int perm[IR_MAX_RANK];
  if (perm_of(g, n, x->rank, perm)) return -1;
  Dim dim[IR_MAX_RANK], xs[IR_MAX_RANK];
  int k = transpose_plan_dim(g, x, perm, dim, xs);
  if (k > RT_MAX_RANK) return ir_errorf(g, n, "transpose needs %d dims, the kernel supports %d", k, RT_MAX_RANK);
  if (k == 0) { dim[0] = ir_dimc(1); xs[0] = ir_dimc(1); k = 1; }
  RtTranspose p = {.x = cg_addr(cx, x), .y = cg_addr(cx, y), .esize = ir_dtype_size(x->dt), .rank = k};
  for (int i = 0; i < k; i++) { CG_DIM(cx, p, dim[i], dim[i]); CG_DIM(cx, p, xstride[i], xs[i]); }
  return cg_call(cx, K_transpose, &p, sizeof p, n);
}

/* ---- Gather ---- */
int op_gather_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *idx = n->in[1], *y = n->out[0];
  int axis;
  if (x->rank < 1) return ir_errorf(g, n, "data must have rank >= 1");
  if (idx->dt != DT_INT64 && idx->dt != DT_INT32) return ir_errorf(g, n, "indices have dtype %s, expected int64 or int32", ir_dtype_name(idx->dt));
  if (oc_axis(g, n, ir_attr_int(n, "axis", 0), x->rank, &axis)) return -1;
  int r = x->rank - 1 + idx->rank;
  if (r > IR_MAX_RANK) return ir_errorf(g, n, "result rank %d exceeds %d", r, IR_MAX_RANK);
  y->dt = x->dt;
  y->rank = 0;
  for (int i = 0; i < axis; i++) y->dims[y->rank++] = x->dims[i];
  for (int i = 0; i < idx->rank; i++) y->dims[y->rank++] = idx->dims[i];
  for (int i = axis + 1; i < x->rank; i++) y->dims[y->rank++] = x->dims[i];
  return 0;
}

int op_gather_eval(Graph *g, Node *n) {
  Value *x = n->in[0], *idx = n->in[1], *y = n->out[0];
  int axis;
  oc_axis(g, n, ir_attr_int(n, "axis", 0), x->rank, &axis);
  int64_t outer = 1, inner = 1, an = x->dims[axis].c, ni = ir_numel(idx);
  for (int i = 0; i < axis; i++) outer *= x->dims[i].c;
  for (int i = axis + 1; i < x->rank; i++) inner *= x->dims[i].c;
  int es = ir_dtype_size(x->dt);
  uint8_t *d = oc_make_const(g, y);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t i = 0; i < ni; i++) {
      int64_t j = oc_geti(idx, i);
      if (j < 0) j += an;
      if (j < 0 || j >= an) return ir_errorf(g, n, "index %lld is out of range [0, %lld)", (long long)oc_geti(idx, i), (long long)an);
      memcpy(d + ((o * ni + i) * inner) * es, (uint8_t *)x->data + ((o * an + j) * inner) * es, (size_t)(inner * es));
    }
  return 0;
}

int op_gather_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *idx = n->in[1];
  int axis;
  if (idx->dt != DT_INT64) return ir_errorf(g, n, "run-time int32 indices are not supported yet");
  if (oc_axis(g, n, ir_attr_int(n, "axis", 0), x->rank, &axis)) return -1;
  RtGather p = {.x = cg_addr(cx, x), .idx = cg_addr(cx, idx), .y = cg_addr(cx, n->out[0]), .esize = ir_dtype_size(x->dt)};
  CG_DIM(cx, p, outer, oc_prod(g, x->dims, 0, axis));
  CG_DIM(cx, p, axis_n, x->dims[axis]);
  CG_DIM(cx, p, inner, oc_prod(g, x->dims, axis + 1, x->rank));
  CG_DIM(cx, p, nidx, oc_prod(g, idx->dims, 0, idx->rank));
  return cg_call(cx, K_gather, &p, sizeof p, n);
}

/* ---- Compress: the slices along axis (or the elements of the flattened input, without axis) whose condition
 * entry is true. The condition must be a compile-time constant (it decides the output's shape); the kept positions
 * become an int64 index table stored with the parameter blocks, and the gather kernel does the rest. ---- */
static int compress_plan(Graph *g, Node *n, int *axis, Dim *outer, Dim *an, Dim *inner, int64_t *cnt) {
  Value *x = n->in[0], *c = n->in[1];
  if (oc_need_const(g, n, 1)) return -1;
  if (c->rank != 1 || !c->data || (c->dt != DT_BOOL && !ir_dtype_is_int(c->dt)))
    return ir_errorf(g, n, "condition must be a 1-D bool tensor");
  const Attr *a = ir_attr(n, "axis");
  if (a) {
    if (oc_axis(g, n, ir_attr_int(n, "axis", 0), x->rank, axis)) return -1;
    *outer = oc_prod(g, x->dims, 0, *axis); *an = x->dims[*axis]; *inner = oc_prod(g, x->dims, *axis + 1, x->rank);
  } else {
    *axis = -1;
    *outer = ir_dimc(1); *an = oc_prod(g, x->dims, 0, x->rank); *inner = ir_dimc(1);
  }
  if (!ir_dim_known(*an)) return ir_errorf(g, n, "the compressed axis must have a compile-time size");
  int64_t len = ir_numel(c);
  *cnt = 0;
  for (int64_t i = 0; i < len; i++) {
    if (!oc_geti(c, i)) continue;
    if (i >= an->c) return ir_errorf(g, n, "condition entry %lld is true but the axis has only %lld entries", (long long)i, (long long)an->c);
    ++*cnt;
  }
  return 0;
}

int op_compress_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  int axis;
  Dim outer, an, inner;
  int64_t cnt;
  if (compress_plan(g, n, &axis, &outer, &an, &inner, &cnt)) return -1;
  if (axis < 0) { Dim d = ir_dimc(cnt); oc_set_out(n->out[0], x->dt, 1, &d); return 0; }
  Dim d[IR_MAX_RANK];
  for (int i = 0; i < x->rank; i++) d[i] = i == axis ? ir_dimc(cnt) : x->dims[i];
  oc_set_out(n->out[0], x->dt, x->rank, d);
  return 0;
}

int op_compress_eval(Graph *g, Node *n) {
  Value *x = n->in[0], *c = n->in[1];
  int axis;
  Dim outer, an, inner;
  int64_t cnt;
  if (compress_plan(g, n, &axis, &outer, &an, &inner, &cnt)) return -1;
  int64_t es = ir_dtype_size(x->dt), blk = inner.c * es, len = ir_numel(c), k = 0;
  uint8_t *out = oc_make_const(g, n->out[0]);
  for (int64_t o = 0; o < outer.c; o++)
    for (int64_t i = 0; i < len; i++)
      if (oc_geti(c, i)) memcpy(out + (k++) * blk, (uint8_t *)x->data + (o * an.c + i) * blk, (size_t)blk);
  return 0;
}

int op_compress_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *c = n->in[1];
  int axis;
  Dim outer, an, inner;
  int64_t cnt;
  if (compress_plan(g, n, &axis, &outer, &an, &inner, &cnt)) return -1;
  if (cnt == 0) return 0;                              /* empty output */
  int64_t *tab = ir_alloc(&g->arena, (size_t)cnt * 8), len = ir_numel(c), k = 0;
  for (int64_t i = 0; i < len; i++) if (oc_geti(c, i)) tab[k++] = i;
  RtGather p = {.x = cg_addr(cx, x), .idx = cg_data(cx, tab, (size_t)cnt * 8), .y = cg_addr(cx, n->out[0]),
                .esize = ir_dtype_size(x->dt), .nidx = (int32_t)cnt};
  CG_DIM(cx, p, outer, outer);
  CG_DIM(cx, p, axis_n, an);
  CG_DIM(cx, p, inner, inner);
  return cg_call(cx, K_gather, &p, sizeof p, n);
}

/* ---- GatherElements ---- */
int op_gathel_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *idx = n->in[1];
  int axis;
  if (x->rank < 1) return ir_errorf(g, n, "data must have rank >= 1");
  if (idx->dt != DT_INT64 && idx->dt != DT_INT32) return ir_errorf(g, n, "indices have dtype %s, expected int64 or int32", ir_dtype_name(idx->dt));
  if (idx->rank != x->rank) return ir_errorf(g, n, "indices have rank %d, data rank %d (they must be equal)", idx->rank, x->rank);
  if (oc_axis(g, n, ir_attr_int(n, "axis", 0), x->rank, &axis)) return -1;
  for (int d = 0; d < x->rank; d++)
    if (d != axis && ir_dim_known(x->dims[d]) && ir_dim_known(idx->dims[d]) && idx->dims[d].c > x->dims[d].c)
      return ir_errorf(g, n, "indices dim %d is %lld, larger than data's %lld", d, (long long)idx->dims[d].c, (long long)x->dims[d].c);
  oc_set_out(n->out[0], x->dt, idx->rank, idx->dims);
  return 0;
}

int op_gathel_eval(Graph *g, Node *n) {
  Value *x = n->in[0], *idx = n->in[1], *y = n->out[0];
  int axis, r = x->rank;
  if (oc_axis(g, n, ir_attr_int(n, "axis", 0), r, &axis)) return -1;
  int64_t xs[IR_MAX_RANK], ctr[IR_MAX_RANK] = {0}, total = ir_numel(idx), an = x->dims[axis].c;
  for (int d = r - 1, s = 1; d >= 0; s *= (int)x->dims[d].c, d--) xs[d] = s;
  int es = ir_dtype_size(x->dt);
  uint8_t *out = oc_make_const(g, y);
  for (int64_t i = 0; i < total; i++) {
    int64_t j = oc_geti(idx, i), off = 0;
    if (j < 0) j += an;
    if (j < 0 || j >= an) return ir_errorf(g, n, "index %lld is out of range [-%lld, %lld)", (long long)oc_geti(idx, i), (long long)an, (long long)an);
    for (int d = 0; d < r; d++) off += (d == axis ? j : ctr[d]) * xs[d];
    memcpy(out + i * es, (uint8_t *)x->data + off * es, (size_t)es);
    for (int d = r - 1; d >= 0; d--) {
      if (++ctr[d] < idx->dims[d].c) break;
      ctr[d] = 0;
    }
  }
  return 0;
}

/* idx's dims with x's dense strides; size-1 dims other than the axis dropped, and neighbours (neither of them
 * the axis) merged where x is contiguous across them, so that rank-7/8 tensors fit the kernel. Returns the
 * rank, the axis's position in *kax. (GatherElements and ScatterElements.) */
static int elements_plan(LowerCtx *cx, Node *n, const Value *x, const Value *idx, int axis, Dim *dim, Dim *xs, int *kax) {
  Graph *g = cg_graph(cx);
  int r = x->rank, k = 0;
  *kax = -1;
  for (int d = 0; d < r; d++) {
    Dim st = oc_prod(g, x->dims, d + 1, r), nd = idx->dims[d];
    if (d != axis && oc_is1(nd)) continue;
    if (d != axis && k > 0 && k - 1 != *kax && ir_dim_eq(xs[k - 1], ir_dim_mul(g, st, nd))) {
      dim[k - 1] = ir_dim_mul(g, dim[k - 1], nd);
      xs[k - 1] = st;
      continue;
    }
    if (d == axis) *kax = k;
    dim[k] = nd;
    xs[k++] = st;
  }
  if (k > RT_MAX_RANK) return ir_errorf(g, n, "needs %d dims after merging, the kernel supports %d", k, RT_MAX_RANK);
  return k;
}

int op_gathel_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *idx = n->in[1];
  int axis, kax;
  if (oc_axis(g, n, ir_attr_int(n, "axis", 0), x->rank, &axis)) return -1;
  Dim dim[IR_MAX_RANK], xs[IR_MAX_RANK];
  int k = elements_plan(cx, n, x, idx, axis, dim, xs, &kax);
  if (k < 0) return -1;
  RtGatherElements p = {.x = cg_addr(cx, x), .idx = cg_addr(cx, idx), .y = cg_addr(cx, n->out[0]), .esize = ir_dtype_size(x->dt),
                        .idx64 = idx->dt == DT_INT64, .rank = k, .axis = kax};
  CG_DIM(cx, p, axis_n, x->dims[axis]);
  for (int i = 0; i < k; i++) { CG_DIM(cx, p, dim[i], dim[i]); CG_DIM(cx, p, xstride[i], xs[i]); }
  return cg_call(cx, K_gather_elements, &p, sizeof p, n);
}

/* ---- ScatterElements (opset 11+, reduction from 16) and the older Scatter (opset 9-10, no reduction) ----
 * y = data, then y[i with axis index idx[i]] (op)= updates[i] for every position i of indices, in order
 * (duplicate indices: the last write wins, or every update is folded in with the reduction). */
static int scatter_red(Graph *g, Node *n, int *red) {
  const char *s = n->op == OP_Scatter ? "none" : ir_attr_str(n, "reduction", "none");
  static const char *names[] = {"none", "add", "mul", "max", "min"};
  for (int i = 0; i < 5; i++)
    if (!strcmp(s, names[i])) { *red = i; return 0; }
  return ir_errorf(g, n, "reduction '%s' is not one of none, add, mul, max, min", s);
}

int op_scatel_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *idx = n->in[1], *u = n->in[2];
  int axis, red = 0;
  if (x->rank < 1) return ir_errorf(g, n, "data must have rank >= 1");
  if (idx->dt != DT_INT64 && idx->dt != DT_INT32) return ir_errorf(g, n, "indices have dtype %s, expected int64 or int32", ir_dtype_name(idx->dt));
  if (idx->rank != x->rank) return ir_errorf(g, n, "indices have rank %d, data rank %d (they must be equal)", idx->rank, x->rank);
  if (u->dt != x->dt) return ir_errorf(g, n, "updates have dtype %s, data %s", ir_dtype_name(u->dt), ir_dtype_name(x->dt));
  if (!ir_dtype_size(x->dt) || x->dt == DT_STRING) return ir_errorf(g, n, "dtype %s is not supported", ir_dtype_name(x->dt));
  if (u->rank != idx->rank) return ir_errorf(g, n, "updates and indices have different shapes");
  for (int d = 0; d < idx->rank; d++)
    if (!ir_dim_eq(u->dims[d], idx->dims[d])) return ir_errorf(g, n, "updates and indices have different shapes");
  if (oc_axis(g, n, ir_attr_int(n, "axis", 0), x->rank, &axis) || scatter_red(g, n, &red)) return -1;
  if (red && x->dt != DT_FLOAT && x->dt != DT_DOUBLE && x->dt != DT_INT32 && x->dt != DT_INT64)
    return ir_errorf(g, n, "reduction on dtype %s is not supported (float32, float64, int32, int64)", ir_dtype_name(x->dt));
  for (int d = 0; d < x->rank; d++)
    if (d != axis && ir_dim_known(x->dims[d]) && ir_dim_known(idx->dims[d]) && idx->dims[d].c > x->dims[d].c)
      return ir_errorf(g, n, "indices dim %d is %lld, larger than data's %lld", d, (long long)idx->dims[d].c, (long long)x->dims[d].c);
  oc_set_out(n->out[0], x->dt, x->rank, x->dims);
  return 0;
}

int op_scatel_eval(Graph *g, Node *n) {
  Value *x = n->in[0], *idx = n->in[1], *u = n->in[2], *y = n->out[0];
  int axis, red = 0, r = x->rank;
  if (oc_axis(g, n, ir_attr_int(n, "axis", 0), r, &axis) || scatter_red(g, n, &red)) return -1;
  int64_t xs[IR_MAX_RANK], ctr[IR_MAX_RANK] = {0}, total = ir_numel(idx), an = x->dims[axis].c;
  for (int d = r - 1, s = 1; d >= 0; s *= (int)x->dims[d].c, d--) xs[d] = s;
  int es = ir_dtype_size(x->dt);
  uint8_t *out = oc_make_const(g, y);
  memcpy(out, x->data, (size_t)ir_nbytes(x));
  bool isint = ir_dtype_is_int(x->dt);
  for (int64_t i = 0; i < total; i++) {
    int64_t j = oc_geti(idx, i), off = 0;
    if (j < 0) j += an;
    if (j < 0 || j >= an) return ir_errorf(g, n, "index %lld is out of range [-%lld, %lld)", (long long)oc_geti(idx, i), (long long)an, (long long)an);
    for (int d = 0; d < r; d++) off += (d == axis ? j : ctr[d]) * xs[d];
    if (red == RT_SCATTER_NONE) memcpy(out + off * es, (uint8_t *)u->data + i * es, (size_t)es);
    else if (isint && x->dt == DT_INT64) {
      int64_t a = ((int64_t *)y->data)[off], b = oc_geti(u, i);
      ((int64_t *)y->data)[off] = red == RT_SCATTER_ADD ? (int64_t)((uint64_t)a + (uint64_t)b) : red == RT_SCATTER_MUL ? (int64_t)((uint64_t)a * (uint64_t)b)
                                  : red == RT_SCATTER_MAX ? (a > b ? a : b) : (a < b ? a : b);
    } else {
      double a = oc_getf(y, off), b = oc_getf(u, i);
      oc_setf(y, off, red == RT_SCATTER_ADD ? a + b : red == RT_SCATTER_MUL ? a * b
                      : red == RT_SCATTER_MAX ? (a != a || a > b ? a : b) : (a != a || a < b ? a : b));
    }
    for (int d = r - 1; d >= 0; d--) {
      if (++ctr[d] < idx->dims[d].c) break;
      ctr[d] = 0;
    }
  }
  return 0;
}

int op_scatel_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *idx = n->in[1], *y = n->out[0];
  int axis, red = 0, kax;
  if (oc_axis(g, n, ir_attr_int(n, "axis", 0), x->rank, &axis) || scatter_red(g, n, &red)) return -1;
  Dim dim[IR_MAX_RANK], ys[IR_MAX_RANK];
  int k = elements_plan(cx, n, x, idx, axis, dim, ys, &kax);
  if (k < 0) return -1;
  RtScatterElements p = {.x = cg_addr(cx, x), .idx = cg_addr(cx, idx), .u = cg_addr(cx, n->in[2]), .y = cg_addr(cx, y),
                         .esize = ir_dtype_size(x->dt), .idx64 = idx->dt == DT_INT64, .rank = k, .axis = kax,
                         .reduction = red, .dtype = x->dt};
  CG_DIM(cx, p, axis_n, x->dims[axis]);
  CG_DIM(cx, p, ytotal, oc_prod(g, x->dims, 0, x->rank));
  for (int i = 0; i < k; i++) { CG_DIM(cx, p, dim[i], dim[i]); CG_DIM(cx, p, ystride[i], ys[i]); }
  return cg_call(cx, K_scatter_elements, &p, sizeof p, n);
}

/* ---- GatherND (batch_dims) and ScatterND (reduction from opset 16): the last indices dim holds tuples of k
 * indices into data's dims [b, b+k) (b = batch_dims, 0 for ScatterND), each naming a slice of data's trailing
 * dims [b+k, r). One rt_gather_nd / rt_scatter_nd call. ---- */
typedef struct { int64_t b, k, nbatch, nidx, inner, xbatch; int64_t dim[RT_ND_MAX], stride[RT_ND_MAX]; } NdPlan;

static int nd_plan(Graph *g, Node *n, NdPlan *pl) {
  Value *x = n->in[0], *idx = n->in[1];
  if (oc_need_known(g, n, 0) || oc_need_known(g, n, 1)) return -1;
  if (idx->dt != DT_INT64) return ir_errorf(g, n, "indices have dtype %s, expected int64", ir_dtype_name(idx->dt));
  int r = x->rank, q = idx->rank;
  int64_t b = n->op == OP_GatherND ? ir_attr_int(n, "batch_dims", 0) : 0;
  if (r < 1 || q < 1) return ir_errorf(g, n, "data and indices must have rank >= 1");
  if (b < 0 || b >= q || b >= r) return ir_errorf(g, n, "batch_dims %lld must be in [0, min(rank(data), rank(indices)))", (long long)b);
  int64_t k = idx->dims[q - 1].c;
  if (k < 1 || k > r - b) return ir_errorf(g, n, "the last indices dim is %lld, expected 1..%lld", (long long)k, (long long)(r - b));
  if (k > RT_ND_MAX) return ir_errorf(g, n, "index tuples of %lld entries, at most %d supported", (long long)k, RT_ND_MAX);
  for (int d = 0; d < b; d++)
    if (x->dims[d].c != idx->dims[d].c) return ir_errorf(g, n, "batch dim %d differs between data and indices", d);
  pl->b = b; pl->k = k;
  pl->nbatch = 1; for (int d = 0; d < b; d++) pl->nbatch *= x->dims[d].c;
  pl->nidx = 1; for (int d = (int)b; d < q - 1; d++) pl->nidx *= idx->dims[d].c;
  pl->inner = 1; for (int d = (int)(b + k); d < r; d++) pl->inner *= x->dims[d].c;
  pl->xbatch = 1; for (int d = (int)b; d < r; d++) pl->xbatch *= x->dims[d].c;
  for (int j = (int)k - 1; j >= 0; j--) {
    pl->dim[j] = x->dims[b + j].c;
    pl->stride[j] = j == k - 1 ? pl->inner : pl->stride[j + 1] * pl->dim[j + 1];
  }
  if (pl->nbatch * pl->xbatch > INT32_MAX || pl->nbatch * pl->nidx * pl->inner > INT32_MAX) return ir_errorf(g, n, "tensor too large");
  return 0;
}

int op_nd_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *idx = n->in[1];
  NdPlan pl;
  if (!ir_dtype_size(x->dt) || x->dt == DT_STRING) return ir_errorf(g, n, "dtype %s is not supported", ir_dtype_name(x->dt));
  if (nd_plan(g, n, &pl)) return -1;
  if (n->op == OP_GatherND) {
    Dim d[IR_MAX_RANK];
    int r = 0;
    for (int i = 0; i < idx->rank - 1; i++) d[r++] = idx->dims[i];
    for (int i = (int)(pl.b + pl.k); i < x->rank; i++) d[r++] = x->dims[i];
    if (r > IR_MAX_RANK) return ir_errorf(g, n, "the output would have rank %d, at most %d supported", r, IR_MAX_RANK);
    oc_set_out(n->out[0], x->dt, r, d);
    return 0;
  }
  Value *u = n->in[2];
  int red = 0;
  if (scatter_red(g, n, &red)) return -1;
  if (u->dt != x->dt) return ir_errorf(g, n, "updates have dtype %s, data %s", ir_dtype_name(u->dt), ir_dtype_name(x->dt));
  if (red && x->dt != DT_FLOAT && x->dt != DT_DOUBLE && x->dt != DT_INT32 && x->dt != DT_INT64)
    return ir_errorf(g, n, "reduction on dtype %s is not supported (float32, float64, int32, int64)", ir_dtype_name(x->dt));
  bool ok = u->rank == idx->rank - 1 + x->rank - (int)pl.k;      /* updates: indices.shape[:-1] + data.shape[k:] */
  for (int i = 0; ok && i < u->rank; i++) {
    Dim want = i < idx->rank - 1 ? idx->dims[i] : x->dims[pl.k + i - (idx->rank - 1)];
    ok = ir_dim_eq(u->dims[i], want);
  }
  if (!ok) return ir_errorf(g, n, "updates must have shape indices.shape[:-1] + data.shape[%lld:]", (long long)pl.k);
  oc_set_out(n->out[0], x->dt, x->rank, x->dims);
  return 0;
}

int op_nd_eval(Graph *g, Node *n) {
  Value *x = n->in[0], *idx = n->in[1], *y = n->out[0];
  NdPlan pl;
  int red = 0;
  if (nd_plan(g, n, &pl) || (n->op == OP_ScatterND && scatter_red(g, n, &red))) return -1;
  int es = ir_dtype_size(x->dt);
  uint8_t *out = oc_make_const(g, y);
  if (n->op == OP_ScatterND) memcpy(out, x->data, (size_t)ir_nbytes(x));
  for (int64_t bi = 0; bi < pl.nbatch; bi++)
    for (int64_t i = 0; i < pl.nidx; i++) {
      int64_t t = bi * pl.nidx + i, off = 0;
      for (int j = 0; j < pl.k; j++) {
        int64_t v = oc_geti(idx, t * pl.k + j);
        if (v < 0) v += pl.dim[j];
        if (v < 0 || v >= pl.dim[j]) return ir_errorf(g, n, "index %lld is out of range for a dim of %lld", (long long)oc_geti(idx, t * pl.k + j), (long long)pl.dim[j]);
        off += v * pl.stride[j];
      }
      if (n->op == OP_GatherND) {
        memcpy(out + t * pl.inner * es, (uint8_t *)x->data + (bi * pl.xbatch + off) * es, (size_t)(pl.inner * es));
        continue;
      }
      Value *u = n->in[2];
      for (int64_t e = 0; e < pl.inner; e++) {
        int64_t o = off + e, s = t * pl.inner + e;
        if (red == RT_SCATTER_NONE) memcpy(out + o * es, (uint8_t *)u->data + s * es, (size_t)es);
        else if (x->dt == DT_INT64) {
          int64_t a = ((int64_t *)y->data)[o], c = oc_geti(u, s);
          ((int64_t *)y->data)[o] = red == RT_SCATTER_ADD ? (int64_t)((uint64_t)a + (uint64_t)c) : red == RT_SCATTER_MUL ? (int64_t)((uint64_t)a * (uint64_t)c)
                                    : red == RT_SCATTER_MAX ? (a > c ? a : c) : (a < c ? a : c);
        } else {
          double a = oc_getf(y, o), c = oc_getf(u, s);
          oc_setf(y, o, red == RT_SCATTER_ADD ? a + c : red == RT_SCATTER_MUL ? a * c
                        : red == RT_SCATTER_MAX ? (a != a || a > c ? a : c) : (a != a || a < c ? a : c));
        }
      }
    }
  return 0;
}

int op_nd_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0];
  NdPlan pl;
  int red = 0;
  if (nd_plan(g, n, &pl) || (n->op == OP_ScatterND && scatter_red(g, n, &red))) return -1;
  RtIndexND p = {.x = cg_addr(cx, x), .idx = cg_addr(cx, n->in[1]), .u = n->op == OP_ScatterND ? cg_addr(cx, n->in[2]) : 0,
                 .y = cg_addr(cx, n->out[0]), .esize = ir_dtype_size(x->dt), .k = (int32_t)pl.k, .nbatch = (int32_t)pl.nbatch,
                 .nidx = (int32_t)pl.nidx, .inner = (int32_t)pl.inner, .xbatch = (int32_t)pl.xbatch,
                 .ytotal = (int32_t)(pl.nbatch * pl.xbatch), .reduction = red, .dtype = x->dt};
  for (int j = 0; j < pl.k; j++) { p.dim[j] = (int32_t)pl.dim[j]; p.stride[j] = (int32_t)pl.stride[j]; }
  return cg_call(cx, n->op == OP_GatherND ? K_gather_nd : K_scatter_nd, &p, sizeof p, n);
}

/* ---- ReverseSequence: the batch and time axes are 0 and 1 (either way round), the rest rides along as blocks;
 * one rt_reverse_seq call. ---- */
static int revseq_axes(Graph *g, Node *n, int *bax, int *tax) {
  Value *x = n->in[0], *l = n->in[1];
  int64_t b = ir_attr_int(n, "batch_axis", 1), t = ir_attr_int(n, "time_axis", 0);
  if (x->rank < 2) return ir_errorf(g, n, "input '%s' has rank %d, expected at least 2", x->name, x->rank);
  if (!((b == 0 && t == 1) || (b == 1 && t == 0))) return ir_errorf(g, n, "batch_axis %lld and time_axis %lld must be 0 and 1", (long long)b, (long long)t);
  if (l->dt != DT_INT64 || l->rank != 1 || !ir_dim_eq(l->dims[0], x->dims[b])) return ir_errorf(g, n, "sequence_lens must be an int64 vector of the batch size");
  *bax = (int)b; *tax = (int)t;
  return 0;
}

int op_revseq_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  int b, t;
  if (!ir_dtype_size(x->dt) || x->dt == DT_STRING) return ir_errorf(g, n, "dtype %s is not supported", ir_dtype_name(x->dt));
  if (revseq_axes(g, n, &b, &t)) return -1;
  oc_set_out(n->out[0], x->dt, x->rank, x->dims);
  return 0;
}

int op_revseq_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0];
  int b, t;
  if (revseq_axes(g, n, &b, &t)) return -1;
  Dim inner = oc_prod(g, x->dims, 2, x->rank);
  RtReverseSeq p = {.x = cg_addr(cx, x), .lens = cg_addr(cx, n->in[1]), .y = cg_addr(cx, n->out[0]), .esize = ir_dtype_size(x->dt)};
  CG_DIM(cx, p, batch, x->dims[b]);
  CG_DIM(cx, p, time, x->dims[t]);
  CG_DIM(cx, p, inner, inner);
  CG_DIM(cx, p, bstride, b == 0 ? ir_dim_mul(g, x->dims[1], inner) : inner);
  CG_DIM(cx, p, tstride, t == 0 ? ir_dim_mul(g, x->dims[1], inner) : inner);
  return cg_call(cx, K_reverse_seq, &p, sizeof p, n);
}

/* ---- Pad ---- */
/* Pads per axis (negative = crop), the mode and the constant as one element of x's dtype. Opset 2-10: the
 * attributes pads and value; opset 11+: inputs pads (int64 [2 * axes]), constant_value (scalar, optional) and,
 * from opset 18, axes (optional). All must be constants. */
typedef struct {
  int64_t b[IR_MAX_RANK], e[IR_MAX_RANK];
  int mode;
  uint8_t value[8];
} PadPlan;

static int pad_plan(Graph *g, Node *n, PadPlan *pp) {
  Value *x = n->in[0];
  int r = x->rank;
  const char *mode = ir_attr_str(n, "mode", "constant");
  if (!strcmp(mode, "constant")) pp->mode = RT_PAD_CONSTANT;
  else if (!strcmp(mode, "edge")) pp->mode = RT_PAD_EDGE;
  else if (!strcmp(mode, "reflect")) pp->mode = RT_PAD_REFLECT;
  else if (!strcmp(mode, "wrap") && n->opset >= 19) pp->mode = RT_PAD_WRAP;
  else return ir_errorf(g, n, "mode '%s' is not supported (constant, edge, reflect%s)", mode, n->opset >= 19 ? ", wrap" : "");
  if (ir_dtype_size(x->dt) > 8 || ir_dtype_size(x->dt) < 1) return ir_errorf(g, n, "dtype %s is not supported", ir_dtype_name(x->dt));
  for (int d = 0; d < r; d++) pp->b[d] = pp->e[d] = 0;
  memset(pp->value, 0, sizeof pp->value);
  if (n->opset < 11) {
    const int64_t *pads;
    int np = ir_attr_ints(n, "pads", &pads);
    if (np != 2 * r) return ir_errorf(g, n, "attribute pads has %d values, expected %d (2 x rank)", np < 0 ? 0 : np, 2 * r);
    for (int d = 0; d < r; d++) { pp->b[d] = pads[d]; pp->e[d] = pads[r + d]; }
    Value v = {.dt = x->dt, .data = pp->value};
    oc_setf(&v, 0, ir_attr_float(n, "value", 0.0f));
    return 0;
  }
  if (n->nin < 2 || !n->in[1]) return ir_errorf(g, n, "input pads is missing");
  if (oc_need_const(g, n, 1)) return -1;
  Value *pads = n->in[1];
  if (!ir_dtype_is_int(pads->dt)) return ir_errorf(g, n, "pads must be an integer tensor");
  int ax[IR_MAX_RANK], na = r;
  for (int d = 0; d < r; d++) ax[d] = d;
  if (n->nin > 3 && n->in[3]) {
    if (oc_need_const(g, n, 3)) return -1;
    Value *a = n->in[3];
    na = (int)ir_numel(a);
    if (!ir_dtype_is_int(a->dt) || na > r) return ir_errorf(g, n, "axes must be at most %d integers", r);
    for (int i = 0; i < na; i++) {
      if (oc_axis(g, n, oc_geti(a, i), r, &ax[i])) return -1;
      for (int j = 0; j < i; j++)
        if (ax[j] == ax[i]) return ir_errorf(g, n, "axis %d is listed twice", ax[i]);
    }
  }
  if (ir_numel(pads) != 2 * na) return ir_errorf(g, n, "pads has %lld values, expected %d", (long long)ir_numel(pads), 2 * na);
  for (int i = 0; i < na; i++) {
    pp->b[ax[i]] = oc_geti(pads, i); pp->e[ax[i]] = oc_geti(pads, na + i);
    if (pp->b[ax[i]] <= -IR_MAX_BYTES || pp->b[ax[i]] >= IR_MAX_BYTES || pp->e[ax[i]] <= -IR_MAX_BYTES || pp->e[ax[i]] >= IR_MAX_BYTES)
      return ir_errorf(g, n, "pads on axis %d (%lld, %lld) must be within (-2^32, 2^32)", ax[i], (long long)pp->b[ax[i]], (long long)pp->e[ax[i]]);
  }
  if (n->nin > 2 && n->in[2]) {
    if (oc_need_const(g, n, 2)) return -1;
    Value *c = n->in[2];
    if (c->dt != x->dt || ir_numel(c) != 1) return ir_errorf(g, n, "constant_value must be one %s", ir_dtype_name(x->dt));
    memcpy(pp->value, c->data, (size_t)ir_dtype_size(x->dt));
  }
  return 0;
}

/* x's dim d after the crops of negative pads, -1 when that is negative (known dims only) */
static int64_t pad_kept(const Value *x, const PadPlan *pp, int d) {
  return x->dims[d].c + (pp->b[d] < 0 ? pp->b[d] : 0) + (pp->e[d] < 0 ? pp->e[d] : 0);
}

int op_pad_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  PadPlan pp;
  if (pad_plan(g, n, &pp)) return -1;
  Dim dims[IR_MAX_RANK];
  for (int d = 0; d < x->rank; d++) {
    bool crop = pp.b[d] < 0 || pp.e[d] < 0, grow = pp.b[d] > 0 || pp.e[d] > 0;
    if (!ir_dim_known(x->dims[d])) {
      if (crop) return ir_errorf(g, n, "negative pads on run-time dim %d are not supported", d);
      dims[d] = ir_dim_add(g, x->dims[d], ir_dimc(pp.b[d] + pp.e[d]));
      continue;
    }
    int64_t kept = pad_kept(x, &pp, d), out = x->dims[d].c + pp.b[d] + pp.e[d];
    if (kept < 0 || out < 0) return ir_errorf(g, n, "pads %lld, %lld on dim %d of %lld leave a negative size", (long long)pp.b[d], (long long)pp.e[d], d, (long long)x->dims[d].c);
    if (grow && kept == 0 && pp.mode != RT_PAD_CONSTANT) return ir_errorf(g, n, "mode '%s' cannot pad dim %d: it is empty", ir_attr_str(n, "mode", ""), d);
    dims[d] = ir_dimc(out);
  }
  oc_set_out(n->out[0], x->dt, x->rank, dims);
  return 0;
}

/* numpy's index map of a padded cell (the kernel's pad_map, runtime/kernels/layout.c) */
static int64_t pad_src(int64_t i, int64_t len, int mode) {
  if (i >= 0 && i < len) return i;
  if (len <= 0 || mode == RT_PAD_CONSTANT) return -1;
  if (mode == RT_PAD_EDGE || (mode == RT_PAD_REFLECT && len == 1)) return i < 0 ? 0 : len - 1;
  if (mode == RT_PAD_WRAP) return ((i % len) + len) % len;
  int64_t per = 2 * (len - 1);
  i = ((i % per) + per) % per;
  return i < len ? i : per - i;
}

int op_pad_eval(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  PadPlan pp;
  if (pad_plan(g, n, &pp)) return -1;
  int r = x->rank, es = ir_dtype_size(x->dt);
  int64_t xs[IR_MAX_RANK], ctr[IR_MAX_RANK] = {0}, total = ir_numel(y);
  for (int d = r - 1, s = 1; d >= 0; s *= (int)x->dims[d].c, d--) xs[d] = s;
  uint8_t *out = oc_make_const(g, y);
  for (int64_t i = 0; i < total; i++) {
    int64_t off = 0;
    bool fill = false;
    for (int d = 0; d < r && !fill; d++) {
      int64_t cb = pp.b[d] < 0 ? -pp.b[d] : 0, pb = pp.b[d] > 0 ? pp.b[d] : 0;
      int64_t s = pad_src(ctr[d] - pb, pad_kept(x, &pp, d), pp.mode);
      if (s < 0) fill = true;
      else off += (s + cb) * xs[d];
    }
    memcpy(out + i * es, fill ? pp.value : (uint8_t *)x->data + off * es, (size_t)es);
    for (int d = r - 1; d >= 0; d--) {
      if (++ctr[d] < y->dims[d].c) break;
      ctr[d] = 0;
    }
  }
  return 0;
}

/* Crops fold into x's address (known strides only), then neighbouring dims without pads are merged (and
 * unpadded size-1 dims dropped) so that rank-7/8 tensors fit the kernel. */
int op_pad_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *y = n->out[0];
  PadPlan pp;
  if (pad_plan(g, n, &pp)) return -1;
  int r = x->rank, es = ir_dtype_size(x->dt), k = 0;
  Dim yd[IR_MAX_RANK], xd[IR_MAX_RANK], xs[IR_MAX_RANK];
  int64_t pb[IR_MAX_RANK], start = 0;
  bool padded[IR_MAX_RANK];
  for (int d = 0; d < r; d++) {
    Dim st = oc_prod(g, x->dims, d + 1, r), kept = x->dims[d];
    bool crop = pp.b[d] < 0 || pp.e[d] < 0;
    if (crop) {
      if (!ir_dim_known(st)) return ir_errorf(g, n, "negative pads in front of run-time dims are not supported");
      start += (pp.b[d] < 0 ? -pp.b[d] : 0) * st.c;
      kept = ir_dimc(pad_kept(x, &pp, d));
    }
    int64_t b = pp.b[d] > 0 ? pp.b[d] : 0;
    bool pad = b > 0 || pp.e[d] > 0;
    if (!pad && oc_is1(kept)) continue;
    if (!pad && !crop && k > 0 && !padded[k - 1] && ir_dim_eq(xs[k - 1], ir_dim_mul(g, st, kept))) {
      xd[k - 1] = ir_dim_mul(g, xd[k - 1], kept);
      yd[k - 1] = xd[k - 1];
      xs[k - 1] = st;
      continue;
    }
    yd[k] = y->dims[d];
    xd[k] = kept;
    xs[k] = st;
    pb[k] = b;
    padded[k++] = pad;
  }
  if (k == 0) { yd[0] = xd[0] = xs[0] = ir_dimc(1); pb[0] = 0; k = 1; }
  if (k > RT_MAX_RANK) return ir_errorf(g, n, "needs %d dims after merging, the kernel supports %d", k, RT_MAX_RANK);
  for (int i = 0; i < k; i++)
    if (pb[i] > INT32_MAX) return ir_errorf(g, n, "pad %lld is too large", (long long)pb[i]);
  RtPad p = {.x = cg_addr(cx, x) + (RtAddr)(start * es), .y = cg_addr(cx, y), .esize = es, .rank = k, .mode = pp.mode};
  memcpy(p.value, pp.value, sizeof p.value);
  for (int i = 0; i < k; i++) {
    CG_DIM(cx, p, dim[i], yd[i]);
    CG_DIM(cx, p, xdim[i], xd[i]);
    CG_DIM(cx, p, xstride[i], xs[i]);
    p.pb[i] = (int32_t)pb[i];
  }
  return cg_call(cx, K_pad, &p, sizeof p, n);
}

/* ---- Cast ---- */
int op_cast_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *y = n->out[0];
  static const bool ok[DT_COUNT_] = {[DT_FLOAT] = 1, [DT_DOUBLE] = 1, [DT_INT32] = 1, [DT_INT64] = 1, [DT_BOOL] = 1, [DT_UINT8] = 1, [DT_INT8] = 1,
                                     [DT_FLOAT16] = 1, [DT_BFLOAT16] = 1};
  if (!ok[x->dt] || !ok[y->dt]) return ir_errorf(g, n, "run-time cast from %s to %s is not supported", ir_dtype_name(x->dt), ir_dtype_name(y->dt));
  RtCast p = {.x = cg_addr(cx, x), .y = cg_addr(cx, y), .from = x->dt, .to = y->dt};
  CG_DIM(cx, p, n, oc_prod(g, x->dims, 0, x->rank));
  return cg_call(cx, K_cast, &p, sizeof p, n);
}

int op_cast_infer(Graph *g, Node *n) {
  int64_t to = ir_attr_int(n, "to", 0);
  if (to <= 0 || to >= DT_COUNT_ || to == DT_STRING || !ir_dtype_size((DType)to)) return ir_errorf(g, n, "cast to dtype %lld is not supported", (long long)to);
  oc_set_out(n->out[0], (DType)to, n->in[0]->rank, n->in[0]->dims);
  return 0;
}

int op_cast_eval(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  oc_make_const(g, y);
  int64_t total = ir_numel(y);
  for (int64_t i = 0; i < total; i++) {
    if (ir_dtype_is_float(x->dt) || !(y->dt == DT_INT64 || y->dt == DT_UINT64)) oc_setf(y, i, oc_getf(x, i));
    else ((int64_t *)y->data)[i] = oc_geti(x, i);
  }
  return 0;
}

/* ---- Slice ---- */
typedef struct { Dim start[IR_MAX_RANK], len[IR_MAX_RANK]; int64_t step[IR_MAX_RANK]; } SliceSpec;

static int slice_spec(Graph *g, Node *n, SliceSpec *sp) {
  Value *x = n->in[0];
  int64_t st[IR_MAX_RANK], en[IR_MAX_RANK], ax[IR_MAX_RANK], stp[IR_MAX_RANK];
  int ns, ne, na = -1, nst = -1;
  if (n->opset < 10) {
    const int64_t *a;
    if ((ns = ir_attr_ints(n, "starts", &a)) < 0 || ns > IR_MAX_RANK) return ir_errorf(g, n, "starts attribute missing");
    memcpy(st, a, (size_t)ns * 8);
    if ((ne = ir_attr_ints(n, "ends", &a)) != ns) return ir_errorf(g, n, "ends must match starts");
    memcpy(en, a, (size_t)ne * 8);
    if ((na = ir_attr_ints(n, "axes", &a)) > 0) memcpy(ax, a, (size_t)na * 8);
  } else {
    if (n->nin < 3) return ir_errorf(g, n, "starts and ends inputs are required");
    if ((ns = const_ints(g, n, 1, st, IR_MAX_RANK)) < 0 || (ne = const_ints(g, n, 2, en, IR_MAX_RANK)) < 0) return -1;
    if (n->nin > 3 && n->in[3] && (na = const_ints(g, n, 3, ax, IR_MAX_RANK)) < 0) return -1;
    if (n->nin > 4 && n->in[4] && (nst = const_ints(g, n, 4, stp, IR_MAX_RANK)) < 0) return -1;
  }
  if (ne != ns || (na >= 0 && na != ns) || (nst >= 0 && nst != ns)) return ir_errorf(g, n, "starts, ends, axes and steps differ in length");
  for (int i = 0; i < x->rank; i++) { sp->start[i] = ir_dimc(0); sp->step[i] = 1; sp->len[i] = x->dims[i]; }
  for (int i = 0; i < ns; i++) {
    int a;
    if (oc_axis(g, n, na >= 0 ? ax[i] : i, x->rank, &a)) return -1;
    int64_t s = st[i], e = en[i], k = nst >= 0 ? stp[i] : 1;
    if (k == 0) return ir_errorf(g, n, "step must not be 0");
    if (!ir_dim_known(x->dims[a])) {          /* a run-time dim: step 1, bounds relative to 0 or the end */
      Dim d = x->dims[a];
      if (k != 1) return ir_errorf(g, n, "a step other than 1 on run-time dim %d is not supported", a);
      Dim sd = s < 0 ? ir_dim_add(g, d, ir_dimc(s)) : ir_dimc(s);
      Dim ed = e >= INT32_MAX ? d : e < 0 ? ir_dim_add(g, d, ir_dimc(e)) : ir_dimc(e);
      sp->start[a] = sd; sp->len[a] = ir_dim_sub(g, ed, sd);   /* assumes the bounds lie inside the dim */
      continue;
    }
    int64_t d = x->dims[a].c;                 /* s, e and k are any int64 (INT64_MIN too): no negation, no wrap */
    if (s < 0) s += d;
    if (e < 0) e += d;
    if (k > 0) { s = s < 0 ? 0 : s > d ? d : s; e = e < 0 ? 0 : e > d ? d : e; }
    else { s = s < 0 ? -1 : s > d - 1 ? d - 1 : s; e = e < -1 ? -1 : e > d - 1 ? d - 1 : e; }
    uint64_t span = k > 0 ? (e > s ? (uint64_t)(e - s) : 0) : (s > e ? (uint64_t)(s - e) : 0);
    uint64_t mag = k > 0 ? (uint64_t)k : (uint64_t)0 - (uint64_t)k;
    int64_t len = span ? (int64_t)((span - 1) / mag + 1) : 0;
    /* one element or none: the step is never applied, and a huge one would overflow step * stride */
    sp->start[a] = ir_dimc(s); sp->step[a] = len > 1 ? k : 1; sp->len[a] = ir_dimc(len);
  }
  return 0;
}

int op_slice_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  SliceSpec sp;
  if (x->rank < 0) return oc_need_known(g, n, 0);
  if (slice_spec(g, n, &sp)) return -1;
  oc_set_out(y, x->dt, x->rank, sp.len);
  return 0;
}

int op_slice_eval(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  SliceSpec sp;
  if (slice_spec(g, n, &sp)) return -1;
  int r = x->rank, es = ir_dtype_size(x->dt);
  int64_t xs[IR_MAX_RANK], s = 1, idx[IR_MAX_RANK] = {0};
  for (int i = r - 1; i >= 0; i--) { xs[i] = s; s *= x->dims[i].c; }
  uint8_t *d = oc_make_const(g, y);
  int64_t total = ir_numel(y);
  for (int64_t i = 0; i < total; i++) {
    int64_t xi = 0;
    for (int a = 0; a < r; a++) xi += (sp.start[a].c + idx[a] * sp.step[a]) * xs[a];
    memcpy(d + i * es, (uint8_t *)x->data + xi * es, (size_t)es);
    for (int a = r - 1; a >= 0; a--) { if (++idx[a] < sp.len[a].c) break; idx[a] = 0; }
  }
  return 0;
}

/* a strided read: y (contiguous, the slice's shape) from x at start offsets with step strides */
int op_slice_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *y = n->out[0];
  SliceSpec sp;
  if (slice_spec(g, n, &sp)) return -1;
  Dim xs[IR_MAX_RANK], base = ir_dimc(0), dim[IR_MAX_RANK], str[IR_MAX_RANK];
  ir_strides(g, x, xs);                 /* storage strides: a resident cache is read in place */
  int k = 0;
  for (int i = 0; i < x->rank; i++) {
    base = ir_dim_add(g, base, ir_dim_mul(g, sp.start[i], xs[i]));
    if (oc_is1(sp.len[i])) continue;
    Dim st = ir_dim_mul(g, xs[i], ir_dimc(sp.step[i]));
    if (k > 0 && ir_dim_eq(str[k - 1], ir_dim_mul(g, st, sp.len[i]))) { dim[k - 1] = ir_dim_mul(g, dim[k - 1], sp.len[i]); str[k - 1] = st; continue; }
    dim[k] = sp.len[i]; str[k] = st; k++;
  }
  if (k == 0) { dim[0] = ir_dimc(1); str[0] = ir_dimc(1); k = 1; }
  if (k > RT_MAX_RANK) return ir_errorf(g, n, "slice needs %d dims, the kernel supports %d", k, RT_MAX_RANK);
  int es = ir_dtype_size(x->dt);
  RtTranspose p = {.y = cg_addr(cx, y), .esize = es, .rank = k};
  CG_DIM(cx, p, x, ir_dim_add(g, ir_dimc(cg_addr(cx, x)), ir_dim_mul(g, base, ir_dimc(es))));
  for (int i = 0; i < k; i++) { CG_DIM(cx, p, dim[i], dim[i]); CG_DIM(cx, p, xstride[i], str[i]); }
  return cg_call(cx, K_transpose, &p, sizeof p, n);
}

/* ---- Range (compile time only) ---- */
int op_range_infer(Graph *g, Node *n) {
  double s, l, d;
  if (oc_in_f(g, n, 0, 0, &s) || oc_in_f(g, n, 1, 0, &l) || oc_in_f(g, n, 2, 0, &d)) return -1;
  if (d == 0) return ir_errorf(g, n, "delta must not be 0");
  double c = ceil((l - s) / d);
  if (!(c < (double)(IR_MAX_BYTES / 8)) && !(c <= 0))  /* also NaN: converting it to int64 is undefined */
    return ir_errorf(g, n, "Range(%g, %g, %g) would have %g elements", s, l, d, c);
  int64_t cnt = c > 0 ? (int64_t)c : 0;
  n->out[0]->dt = n->in[0]->dt;
  ir_set_shape(n->out[0], 1, &cnt);
  return 0;
}

int op_range_eval(Graph *g, Node *n) {
  Value *y = n->out[0];
  oc_make_const(g, y);
  int64_t cnt = ir_numel(y);
  bool isint = ir_dtype_is_int(y->dt);
  for (int64_t i = 0; i < cnt; i++) {
    if (isint) oc_setf(y, i, (double)(oc_geti(n->in[0], 0) + i * oc_geti(n->in[2], 0)));
    else oc_setf(y, i, oc_getf(n->in[0], 0) + (double)i * oc_getf(n->in[2], 0));
  }
  return 0;
}

/* ---- symbolic evaluation of shape arithmetic ----
 * Small integer tensors whose elements are symbolic dims (Value.sym): the Shape of a tensor with
 * run-time dims and what the exporters compute from it (Gather, Unsqueeze, Concat, Slice, Cast,
 * Add/Sub/Mul/Div, views). Keeps Reshape targets and similar shape inputs known at compile time. */
static bool has_sym(const Node *n) {
  for (int k = 0; k < n->nin; k++) if (n->in[k] && n->in[k]->sym) return true;
  return false;
}

/* stores the result: data when every element is known, else the symbolic elements */
static int sym_store(Graph *g, Value *y, Dim *e, int64_t cnt) {
  bool known = true;
  for (int64_t i = 0; i < cnt; i++) known &= ir_dim_known(e[i]);
  if (known) {
    oc_make_const(g, y);
    for (int64_t i = 0; i < cnt; i++) oc_setf(y, i, (double)e[i].c);
    if (y->dt == DT_INT64) for (int64_t i = 0; i < cnt; i++) ((int64_t *)y->data)[i] = e[i].c;
  } else {
    y->sym = ir_alloc(&g->arena, (size_t)(cnt ? cnt : 1) * sizeof(Dim));
    memcpy(y->sym, e, (size_t)cnt * sizeof(Dim));
    y->kind = VK_CONST;
    y->data = NULL;
  }
  return 1;
}

int op_sym_eval(Graph *g, Node *n) {
  Value *y = n->out[0];
  bool shape_sym = n->op == OP_Shape && !ir_shape_known(n->in[0]);
  if (!has_sym(n) && !shape_sym) return 0;
  int64_t cnt = ir_numel(y);
  if (cnt < 0 || cnt > 64 || !ir_dtype_is_int(y->dt)) return 0;
  Dim e[64];
  switch (n->op) {
  case OP_Shape: {
    int s, en;
    shape_range(n, n->in[0]->rank, &s, &en);
    for (int i = s; i < en; i++) e[i - s] = n->in[0]->dims[i];
    break;
  }
  case OP_Identity: case OP_Dropout: case OP_Reshape: case OP_Flatten: case OP_Squeeze: case OP_Unsqueeze: case OP_Cast:
    if (n->in[0]->sym == NULL && !n->in[0]->data) return 0;
    for (int64_t i = 0; i < cnt; i++) e[i] = oc_elem(n->in[0], i);
    break;
  case OP_Concat: {
    int64_t k2 = 0;
    if (y->rank != 1) return 0;
    for (int k = 0; k < n->nin; k++)
      for (int64_t i = 0; i < ir_numel(n->in[k]); i++) e[k2++] = oc_elem(n->in[k], i);
    break;
  }
  case OP_Gather: {
    Value *x = n->in[0], *idx = n->in[1];
    if (x->rank != 1 || idx->sym || !idx->data) return 0;
    int64_t len = x->dims[0].c;
    for (int64_t i = 0; i < cnt; i++) {
      int64_t j = oc_geti(idx, i);
      if (j < 0) j += len;
      if (j < 0 || j >= len) return ir_errorf(g, n, "index %lld is out of range", (long long)oc_geti(idx, i));
      e[i] = oc_elem(x, j);
    }
    break;
  }
  case OP_Slice: {
    SliceSpec sp;
    if (n->in[0]->rank != 1 || slice_spec(g, n, &sp)) return n->in[0]->rank != 1 ? 0 : -1;
    for (int64_t i = 0; i < cnt; i++) e[i] = oc_elem(n->in[0], sp.start[0].c + i * sp.step[0]);
    break;
  }
  case OP_Add: case OP_Sub: case OP_Mul: case OP_Div: {
    Value *a = n->in[0], *b = n->in[1];
    int64_t na = ir_numel(a), nb = ir_numel(b);
    if (y->rank > 1) return 0;
    for (int64_t i = 0; i < cnt; i++) {
      Dim x = oc_elem(a, na == 1 ? 0 : i), z = oc_elem(b, nb == 1 ? 0 : i);
      if (n->op == OP_Add) e[i] = ir_dim_add(g, x, z);
      else if (n->op == OP_Sub) e[i] = ir_dim_sub(g, x, z);
      else if (n->op == OP_Mul) e[i] = ir_dim_mul(g, x, z);
      else if (!ir_dim_div(g, x, z, &e[i])) return 0;   /* inexact: left to run time */
    }
    break;
  }
  default:
    return 0;
  }
  return sym_store(g, y, e, cnt);
}

/* ---- Size: the element count, a compile-time constant ---- */
int op_size_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  y->dt = DT_INT64;
  y->rank = 0;
  if (x->rank < 0) return ir_errorf(g, n, "the rank of '%s' is unknown", x->name);
  if (!ir_shape_known(x)) return ir_errorf(g, n, "Size of '%s' with run-time dims is not supported yet", x->name);
  if (x->kind == VK_CONST) return 0;         /* folded by eval */
  /* the value needs only x's shape: readers get a constant and the node dies (dce) */
  ir_recount_uses(g);
  if (y->nuses == 0 && !y->is_output) return 0;
  int64_t cnt = ir_numel(x);
  Value *c = ir_const(g, y->name, DT_INT64, 0, NULL, &cnt);
  c->is_output = y->is_output;
  y->is_output = false;
  ir_replace_uses(g, y, c);
  return 0;
}

int op_size_eval(Graph *g, Node *n) {
  *(int64_t *)oc_make_const(g, n->out[0]) = ir_numel(n->in[0]);
  return 0;
}

int op_size_lower(LowerCtx *cx, Node *n) {
  (void)cx; (void)n;                         /* nothing at run time: readers were given a constant */
  return 0;
}

/* ---- CastLike: Cast to the dtype of input 1 ---- */
int op_castlike_infer(Graph *g, Node *n) {
  DType to = n->in[1]->dt;
  if (!ir_dtype_size(to) || to == DT_STRING) return ir_errorf(g, n, "cast to dtype %s is not supported", ir_dtype_name(to));
  oc_set_out(n->out[0], to, n->in[0]->rank, n->in[0]->dims);
  return 0;
}

/* ---- Expand: numpy broadcast of x to a constant shape; a strided copy with stride 0 on broadcast dims ---- */
int op_expand_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  Value sh = {0};
  int r;
  if (oc_is_rt_input(n, 1)) {   /* an entry 1 against a dim d of x other than 1 stands for d (and must be d) */
    r = (int)ir_numel(n->in[1]);
    if (r > IR_MAX_RANK) return ir_errorf(g, n, "input 1 has %d entries, at most %d supported", r, IR_MAX_RANK);
    int R = r > x->rank ? r : x->rank;
    int64_t decl[IR_MAX_RANK], yd[IR_MAX_RANK], map[IR_MAX_RANK];
    Dim to[IR_MAX_RANK];
    declared_or_none(g, n->out[0], R, yd);
    for (int i = 0; i < IR_MAX_RANK; i++) decl[i] = map[i] = -1;
    for (int i = 0; i < r; i++) {
      int xa = i + R - r - (R - x->rank);
      bool keep = xa >= 0 && !oc_is1(x->dims[xa]);
      map[i] = keep ? 1 : -1;
      if (keep) to[i] = x->dims[xa];
      decl[i] = keep ? -1 : yd[i + R - r];
    }
    if (rt_elems(g, n, 1, decl, map, to, sh.dims) < 0) return -1;
    for (int i = 0; i < r; i++)
      if (map[i] == 1 && !ir_dim_assume_eq(g, sh.dims[i], to[i])) return -1;
  } else r = const_dims(g, n, 1, sh.dims, IR_MAX_RANK);
  if (r < 0) return -1;
  sh.rank = r;
  sh.name = "shape";
  for (int i = 0; i < r; i++) if (ir_dim_known(sh.dims[i]) && sh.dims[i].c < 0) return ir_errorf(g, n, "shape has a negative entry");
  if (oc_broadcast(g, n, x, &sh, n->out[0])) return -1;
  n->out[0]->dt = x->dt;
  return 0;
}

int op_expand_eval(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  int r = y->rank, es = ir_dtype_size(y->dt);
  int64_t sx[IR_MAX_RANK], idx[IR_MAX_RANK] = {0}, total = ir_numel(y), ix = 0;
  oc_bcast_strides(x, r, y->dims, sx);
  uint8_t *d = oc_make_const(g, y);
  for (int64_t i = 0; i < total; i++) {
    memcpy(d + i * es, (uint8_t *)x->data + ix * es, (size_t)es);
    for (int k = r - 1; k >= 0; k--) {
      ix += sx[k];
      if (++idx[k] < y->dims[k].c) break;
      ix -= sx[k] * idx[k]; idx[k] = 0;
    }
  }
  return 0;
}

int op_expand_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *y = n->out[0];
  Dim st[IR_MAX_RANK], dim[IR_MAX_RANK], xs[IR_MAX_RANK];
  oc_bcast_strides_dim(g, x, y->rank, st);
  int k = 0;
  for (int i = 0; i < y->rank; i++) {
    Dim d = y->dims[i];
    if (oc_is1(d)) continue;
    if (k > 0 && ir_dim_eq(xs[k - 1], ir_dim_mul(g, st[i], d))) { dim[k - 1] = ir_dim_mul(g, dim[k - 1], d); xs[k - 1] = st[i]; continue; }
    dim[k] = d; xs[k] = st[i]; k++;
  }
  if (k == 0) { dim[0] = ir_dimc(1); xs[0] = ir_dimc(1); k = 1; }
  if (k > RT_MAX_RANK) return ir_errorf(g, n, "expand needs %d dims, the kernel supports %d", k, RT_MAX_RANK);
  RtTranspose p = {.x = cg_addr(cx, x), .y = cg_addr(cx, y), .esize = ir_dtype_size(x->dt), .rank = k};
  for (int i = 0; i < k; i++) { CG_DIM(cx, p, dim[i], dim[i]); CG_DIM(cx, p, xstride[i], xs[i]); }
  return cg_call(cx, K_transpose, &p, sizeof p, n);
}

/* ---- Tile: y[i] = x[i mod dims(x)], repeats a compile-time constant ----
 * y is viewed as [r0, d0, r1, d1, ...] (r = repeats, d = x's dims) and read from x with stride 0 on each r and
 * x's stride on each d: one strided copy (rt_transpose). Size-1 dims are dropped and runs merged; what is still
 * above the kernel's rank is unrolled into several calls over the leading dims. */
static int tile_repeats(Graph *g, Node *n, Dim *rep) {
  Value *x = n->in[0];
  if (oc_is_rt_input(n, 1)) {   /* repeats at run time: where y's dim is declared, x's dim known, the repeat is fixed */
    if (ir_numel(n->in[1]) != x->rank)
      return ir_errorf(g, n, "repeats has %lld entries, expected one per input dim (%d)", (long long)ir_numel(n->in[1]), x->rank);
    int64_t yd[IR_MAX_RANK], decl[IR_MAX_RANK];
    declared_or_none(g, n->out[0], x->rank, yd);
    for (int i = 0; i < x->rank; i++) {
      bool fixed = yd[i] >= 0 && ir_dim_known(x->dims[i]) && x->dims[i].c > 0;
      if (fixed && yd[i] % x->dims[i].c)
        return ir_errorf(g, n, "the declared output dim %d (%lld) is not a multiple of the input's (%lld)", i, (long long)yd[i], (long long)x->dims[i].c);
      decl[i] = fixed ? yd[i] / x->dims[i].c : -1;
    }
    return rt_elems(g, n, 1, decl, NULL, NULL, rep) < 0 ? -1 : 0;
  }
  int64_t r64[IR_MAX_RANK];
  int cnt = const_ints(g, n, 1, r64, IR_MAX_RANK);
  if (cnt < 0) return -1;
  if (cnt != x->rank) return ir_errorf(g, n, "repeats has %d entries, expected one per input dim (%d)", cnt, x->rank);
  for (int i = 0; i < cnt; i++) {
    if (r64[i] < 0) return ir_errorf(g, n, "repeats entry %d is negative (%lld)", i, (long long)r64[i]);
    rep[i] = ir_dimc(r64[i]);
  }
  return 0;
}

int op_tile_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  Dim rep[IR_MAX_RANK];
  if (tile_repeats(g, n, rep)) return -1;
  Dim d[IR_MAX_RANK];
  for (int i = 0; i < x->rank; i++) d[i] = ir_dim_mul(g, x->dims[i], rep[i]);
  oc_set_out(n->out[0], x->dt, x->rank, d);
  return 0;
}

int op_tile_eval(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  int r = y->rank, es = ir_dtype_size(y->dt);
  int64_t idx[IR_MAX_RANK] = {0}, total = ir_numel(y);
  uint8_t *d = oc_make_const(g, y);
  for (int64_t i = 0; i < total; i++) {
    int64_t ix = 0;
    for (int k = 0; k < r; k++) ix = ix * x->dims[k].c + idx[k] % x->dims[k].c;
    memcpy(d + i * es, (uint8_t *)x->data + ix * es, (size_t)es);
    for (int k = r - 1; k >= 0; k--) {
      if (++idx[k] < y->dims[k].c) break;
      idx[k] = 0;
    }
  }
  return 0;
}

int op_tile_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *y = n->out[0];
  Dim rep[IR_MAX_RANK];
  if (tile_repeats(g, n, rep)) return -1;
  int es = ir_dtype_size(x->dt);
  if (!es || x->dt == DT_STRING) return ir_errorf(g, n, "dtype %s is not supported at run time", ir_dtype_name(x->dt));
  for (int i = 0; i < y->rank; i++)
    if (ir_dim_known(y->dims[i]) && y->dims[i].c == 0) return 0;   /* empty output: nothing to write */
  /* the 2r-dim view, then size-1 dims dropped and runs merged (as Expand) */
  Dim dim[2 * IR_MAX_RANK], xs[2 * IR_MAX_RANK], s = ir_dimc(1), xst[IR_MAX_RANK];
  for (int i = x->rank - 1; i >= 0; i--) { xst[i] = s; s = ir_dim_mul(g, s, x->dims[i]); }
  int k = 0;
  for (int i = 0; i < 2 * x->rank; i++) {
    Dim d = i & 1 ? x->dims[i / 2] : rep[i / 2], st = i & 1 ? xst[i / 2] : ir_dimc(0);
    if (oc_is1(d)) continue;
    if (k > 0 && ir_dim_eq(xs[k - 1], ir_dim_mul(g, st, d))) { dim[k - 1] = ir_dim_mul(g, dim[k - 1], d); xs[k - 1] = st; continue; }
    dim[k] = d; xs[k] = st; k++;
  }
  if (k == 0) { dim[0] = ir_dimc(1); xs[0] = ir_dimc(1); k = 1; }
  /* dims beyond the kernel's rank: one call per index of the leading k - RT_MAX_RANK dims */
  int lead = k > RT_MAX_RANK ? k - RT_MAX_RANK : 0;
  int64_t calls = 1, ystr[2 * IR_MAX_RANK];
  for (int i = 0; i < lead; i++) {
    if (!ir_dim_known(dim[i]) || !ir_dim_known(xs[i])) return ir_errorf(g, n, "tile pattern needs %d dims with run-time sizes among the leading ones; the kernel supports %d", k, RT_MAX_RANK);
    calls *= dim[i].c;
  }
  if (calls > 4096) return ir_errorf(g, n, "tile pattern needs %d dims; unrolling the leading ones would take %lld kernel calls", k, (long long)calls);
  int64_t inner = 1;                        /* y elements per index of the last leading dim (all known then) */
  for (int i = lead; i < k; i++) {
    if (lead && !ir_dim_known(dim[i])) return ir_errorf(g, n, "tile pattern needs %d dims with run-time sizes; the kernel supports %d", k, RT_MAX_RANK);
    if (lead) inner *= dim[i].c;
  }
  for (int i = lead - 1; i >= 0; i--) { ystr[i] = inner; inner *= dim[i].c; }
  int64_t idx[2 * IR_MAX_RANK] = {0};
  for (int64_t c = 0; c < calls; c++) {
    int64_t xo = 0, yo = 0;
    for (int i = 0; i < lead; i++) { xo += idx[i] * xs[i].c; yo += idx[i] * ystr[i]; }
    RtTranspose p = {.x = cg_addr(cx, x) + (uint32_t)(xo * es), .y = cg_addr(cx, y) + (uint32_t)(yo * es), .esize = es, .rank = k - lead};
    for (int i = lead; i < k; i++) { CG_DIM(cx, p, dim[i - lead], dim[i]); CG_DIM(cx, p, xstride[i - lead], xs[i]); }
    if (cg_call(cx, K_transpose, &p, sizeof p, n)) return -1;
    for (int i = lead - 1; i >= 0; i--) {
      if (++idx[i] < dim[i].c) break;
      idx[i] = 0;
    }
  }
  return 0;
}

/* ---- OneHot: y = values[1] where the index equals the position along axis, values[0] elsewhere ----
 * depth is a compile-time constant. y is viewed as [outer, depth, inner] (outer/inner: the index dims before/after
 * axis). Lowering: a bool scratch c = (indices[o][i] == j) by the any-dtype kernel against the table 0..depth-1
 * (stored with the parameter blocks in the indices' dtype), for signed and float indices OR'ed with a second
 * comparison against j - depth (negative indices count from the end); then y = Where(c, values[1], values[0]).
 * Indices outside [-depth, depth) give a row of values[0] (the spec's rule), and so do float indices that are not
 * whole numbers (no entry equals them). */
static int onehot_geom(Graph *g, Node *n, int64_t *depth, int *axis) {
  Value *ind = n->in[0], *dv = n->in[1], *vals = n->in[2];
  double d;
  if (dv->kind == VK_INPUT) {   /* a graph input: must be the declared output's size along the axis (checked at run time) */
    if (ind->rank + 1 > IR_MAX_RANK) return ir_errorf(g, n, "indices have rank %d, at most %d supported", ind->rank, IR_MAX_RANK - 1);
    if (ir_numel(dv) != 1) return ir_errorf(g, n, "depth must be a one-element tensor");
    if (oc_axis(g, n, ir_attr_int(n, "axis", -1), ind->rank + 1, axis)) return -1;
    int64_t dd[IR_MAX_RANK], di;
    int64_t want = ir_declared_shape(g, n->out[0]->name, dd) == ind->rank + 1 ? dd[*axis] : -1;
    if (oc_in_declared(g, n, 1, 0, want, "its size along the axis", &di)) return -1;
    d = (double)di;
  } else {
    if (oc_need_const(g, n, 1)) return -1;
    if (ir_numel(dv) != 1 || !dv->data) return ir_errorf(g, n, "depth must be a one-element tensor");
    d = oc_getf(dv, 0);
  }
  if (!(d >= 1) || d > INT32_MAX) return ir_errorf(g, n, "depth %g must be a positive integer", d);
  *depth = (int64_t)d;
  if (!ir_shape_known(vals) || ir_numel(vals) != 2) return ir_errorf(g, n, "values must be a two-element tensor [off, on]");
  if (ind->dt == DT_BOOL || ind->dt == DT_STRING || !ir_dtype_size(ind->dt))
    return ir_errorf(g, n, "indices have dtype %s, expected a numeric type", ir_dtype_name(ind->dt));
  if (ind->rank + 1 > IR_MAX_RANK) return ir_errorf(g, n, "indices have rank %d, at most %d supported", ind->rank, IR_MAX_RANK - 1);
  return oc_axis(g, n, ir_attr_int(n, "axis", -1), ind->rank + 1, axis);
}

int op_onehot_infer(Graph *g, Node *n) {
  Value *ind = n->in[0];
  int64_t depth;
  int axis;
  if (onehot_geom(g, n, &depth, &axis)) return -1;
  Dim d[IR_MAX_RANK];
  for (int i = 0, k = 0; i <= ind->rank; i++) d[i] = i == axis ? ir_dimc(depth) : ind->dims[k++];
  oc_set_out(n->out[0], n->in[2]->dt, ind->rank + 1, d);
  return 0;
}

int op_onehot_eval(Graph *g, Node *n) {
  Value *ind = n->in[0], *vals = n->in[2], *y = n->out[0];
  int64_t depth;
  int axis;
  if (onehot_geom(g, n, &depth, &axis)) return -1;
  int64_t outer = 1, inner = 1;
  for (int i = 0; i < ind->rank; i++) { if (i < axis) outer *= ind->dims[i].c; else inner *= ind->dims[i].c; }
  int es = ir_dtype_size(y->dt);
  uint8_t *d = oc_make_const(g, y);
  for (int64_t o = 0; o < outer; o++)
    for (int64_t j = 0; j < depth; j++)
      for (int64_t i = 0; i < inner; i++) {
        double v = oc_getf(ind, o * inner + i);      /* exact equality, as the run-time comparisons */
        bool on = v == (double)j || v == (double)(j - depth);
        memcpy(d + ((o * depth + j) * inner + i) * es, (uint8_t *)vals->data + (on ? es : 0), (size_t)es);
      }
  return 0;
}

int64_t op_onehot_scratch(Graph *g, const Node *n) {
  int64_t bytes = 1;
  for (int i = 0; i < n->out[0]->rank; i++) bytes *= ir_dim_max(g, n->out[0]->dims[i]);
  return 2 * bytes;                                  /* the two comparisons */
}

/* one any-dtype call over [outer, depth, inner]: y = op(a, b) with the given strides */
static int onehot_any(LowerCtx *cx, Node *n, int op, DType dt, uint32_t a, const Dim *as, uint32_t b, const Dim *bs,
                      uint32_t y, const Dim *dim) {
  RtBinaryAny p = {.a = a, .b = b, .y = y, .op = op, .rank = 3, .dtype = dt};
  for (int i = 0; i < 3; i++) { CG_DIM(cx, p, dim[i], dim[i]); CG_DIM(cx, p, astride[i], as[i]); CG_DIM(cx, p, bstride[i], bs[i]); }
  return cg_call(cx, K_binary_any, &p, sizeof p, n);
}

int op_onehot_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *ind = n->in[0], *vals = n->in[2], *y = n->out[0];
  int64_t depth;
  int axis;
  if (onehot_geom(g, n, &depth, &axis)) return -1;
  switch (ind->dt) {
  case DT_FLOAT: case DT_DOUBLE: case DT_UINT8: case DT_INT8: case DT_UINT16: case DT_INT16: case DT_INT32:
  case DT_INT64: case DT_UINT32: case DT_UINT64: break;
  default: return ir_errorf(g, n, "indices of dtype %s are not supported at run time", ir_dtype_name(ind->dt));
  }
  bool is_signed = ind->dt != DT_UINT8 && ind->dt != DT_UINT16 && ind->dt != DT_UINT32 && ind->dt != DT_UINT64;
  Dim dim[3] = {oc_prod(g, ind->dims, 0, axis), ir_dimc(depth), oc_prod(g, ind->dims, axis, ind->rank)};
  Dim is[3] = {dim[2], ir_dimc(0), ir_dimc(1)}, ts[3] = {ir_dimc(0), ir_dimc(1), ir_dimc(0)}, ys[3] = {ir_dim_mul(g, dim[1], dim[2]), dim[2], ir_dimc(1)};
  Dim total = ir_dim_mul(g, dim[0], ys[0]);
  /* the tables 0..depth-1 and -depth..-1 in the indices' dtype */
  Value tab = {.dt = ind->dt, .rank = 1};
  tab.dims[0] = ir_dimc(2 * depth);
  tab.data = ir_alloc(&g->arena, (size_t)(2 * depth * ir_dtype_size(ind->dt)));
  for (int64_t j = 0; j < depth; j++) { oc_setf(&tab, j, (double)j); oc_setf(&tab, depth + j, (double)(j - depth)); }
  uint32_t t = cg_data(cx, tab.data, (size_t)(2 * depth * ir_dtype_size(ind->dt))), c = cg_scratch(cx, n);
  uint32_t c2 = c + (uint32_t)(op_onehot_scratch(g, n) / 2);
  if (onehot_any(cx, n, RT_ANY_EQ, ind->dt, cg_addr(cx, ind), is, t, ts, c, dim)) return -1;
  if (is_signed) {
    uint32_t tn = t + (uint32_t)(depth * ir_dtype_size(ind->dt));
    if (onehot_any(cx, n, RT_ANY_EQ, ind->dt, cg_addr(cx, ind), is, tn, ts, c2, dim) ||
        onehot_any(cx, n, RT_ANY_OR, DT_BOOL, c, ys, c2, ys, c, dim)) return -1;
  }
  int es = ir_dtype_size(vals->dt);
  RtWhere p = {.c = c, .x = cg_addr(cx, vals) + (uint32_t)es, .y = cg_addr(cx, vals), .out = cg_addr(cx, y), .esize = es, .rank = 1,
               .cstride = {1}, .xstride = {0}, .ystride = {0}};
  CG_DIM(cx, p, dim[0], total);
  return cg_call(cx, K_where, &p, sizeof p, n);
}

/* ---- Split: each output is a block copy of outer rows ---- */
static int split_sizes(Graph *g, Node *n, int *axis, Dim *len) {
  Value *x = n->in[0];
  if (x->rank < 1) return ir_errorf(g, n, "input must have rank >= 1");
  if (oc_axis(g, n, ir_attr_int(n, "axis", 0), x->rank, axis)) return -1;
  Dim d = x->dims[*axis];
  int64_t sp[IR_MAX_IO];
  int ns = -1;
  if (n->nin > 1 && n->in[1] && n->in[1]->kind == VK_INPUT) {   /* sizes at run time: the declared outputs' */
    ns = ir_numel(n->in[1]) > IR_MAX_IO ? IR_MAX_IO + 1 : (int)ir_numel(n->in[1]);
    if (ns != n->nout) return ir_errorf(g, n, "split has %d entries, expected one per output (%d)", ns, n->nout);
    for (int i = 0; i < ns; i++) {
      int64_t dd[IR_MAX_RANK];
      int64_t want = n->out[i] && ir_declared_shape(g, n->out[i]->name, dd) == x->rank ? dd[*axis] : -1;
      if (oc_in_declared(g, n, 1, i, want, "each output's size along the axis", &sp[i])) return -1;
    }
  } else if (n->nin > 1 && n->in[1]) {
    if ((ns = const_ints(g, n, 1, sp, IR_MAX_IO)) < 0) return -1;
  } else {
    const int64_t *a;
    ns = ir_attr_ints(n, "split", &a);
    if (ns > IR_MAX_IO) return ir_errorf(g, n, "too many split entries");
    if (ns > 0) memcpy(sp, a, (size_t)ns * 8);
  }
  if (ns >= 0) {
    if (ns != n->nout) return ir_errorf(g, n, "split has %d entries, expected one per output (%d)", ns, n->nout);
    int64_t sum = 0;
    for (int i = 0; i < ns; i++) {
      if (sp[i] < 0) return ir_errorf(g, n, "split entry %lld is negative", (long long)sp[i]);
      if (!ir_add_ok(sum, sp[i], &sum)) return ir_errorf(g, n, "split sizes overflow");
      len[i] = ir_dimc(sp[i]);
    }
    if (!ir_dim_known(d) || d.c != sum) return ir_errorf(g, n, "split sizes add up to %lld, not the size of axis %d", (long long)sum, *axis);
    return 0;
  }
  int64_t no = ir_attr_int(n, "num_outputs", n->nout);
  if (no != n->nout) return ir_errorf(g, n, "num_outputs is %lld but the node has %d outputs", (long long)no, n->nout);
  if (!ir_dim_known(d)) {
    Dim q;
    if (!ir_dim_div(g, d, ir_dimc(no), &q)) return ir_errorf(g, n, "axis %d has a run-time size that does not split evenly", *axis);
    for (int i = 0; i < no; i++) len[i] = q;
    return 0;
  }
  int64_t chunk = (d.c + no - 1) / no;       /* opset 18: the last chunk may be smaller */
  if (n->opset < 18 && d.c % no) return ir_errorf(g, n, "axis %d of size %lld does not split evenly into %lld", *axis, (long long)d.c, (long long)no);
  for (int i = 0; i < no; i++) {
    int64_t l = d.c - i * chunk;
    len[i] = ir_dimc(l < 0 ? 0 : l > chunk ? chunk : l);
  }
  return 0;
}

int op_split_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  Dim len[IR_MAX_IO];
  int axis;
  if (split_sizes(g, n, &axis, len)) return -1;
  for (int k = 0; k < n->nout; k++) {
    if (!n->out[k]) continue;
    oc_set_out(n->out[k], x->dt, x->rank, x->dims);
    n->out[k]->dims[axis] = len[k];
  }
  return 0;
}

int op_split_eval(Graph *g, Node *n) {
  Value *x = n->in[0];
  Dim len[IR_MAX_IO];
  int axis;
  if (split_sizes(g, n, &axis, len)) return -1;
  int64_t es = ir_dtype_size(x->dt), outer = oc_prod(g, x->dims, 0, axis).c, inner = oc_prod(g, x->dims, axis + 1, x->rank).c;
  int64_t xrow = x->dims[axis].c * inner * es, off = 0;
  for (int k = 0; k < n->nout; k++) {
    int64_t rb = len[k].c * inner * es;
    if (n->out[k]) {
      uint8_t *d = oc_make_const(g, n->out[k]);
      for (int64_t o = 0; o < outer; o++) memcpy(d + o * rb, (uint8_t *)x->data + o * xrow + off, (size_t)rb);
    }
    off += rb;
  }
  return 0;
}

int op_split_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0];
  Dim len[IR_MAX_IO];
  int axis;
  if (split_sizes(g, n, &axis, len)) return -1;
  Dim es = ir_dimc(ir_dtype_size(x->dt)), outer = oc_prod(g, x->dims, 0, axis);
  Dim inner_b = ir_dim_mul(g, oc_prod(g, x->dims, axis + 1, x->rank), es);
  Dim xrow = ir_dim_mul(g, x->dims[axis], inner_b), off = ir_dimc(0);
  for (int k = 0; k < n->nout; k++) {
    Dim rb = ir_dim_mul(g, len[k], inner_b);
    if (n->out[k] && !(ir_dim_known(rb) && rb.c == 0)) {
      RtCopy2d p = {.dst = cg_addr(cx, n->out[k])};
      CG_DIM(cx, p, src, ir_dim_add(g, ir_dimc(cg_addr(cx, x)), off));
      CG_DIM(cx, p, rows, outer);
      CG_DIM(cx, p, row_bytes, rb);
      CG_DIM(cx, p, dst_stride, rb);
      CG_DIM(cx, p, src_stride, xrow);
      if (cg_call(cx, K_copy2d, &p, sizeof p, n)) return -1;
    }
    off = ir_dim_add(g, off, rb);
  }
  return 0;
}

/* ---- Trilu: keep the upper (or lower) triangle of the last two dims, from diagonal k ---- */
static int trilu_k(Graph *g, Node *n, int64_t *k) {
  *k = 0;
  if (n->nin < 2 || !n->in[1]) return 0;
  Value *v = n->in[1];
  if (v->dt != DT_INT64 || (v->rank >= 0 && ir_numel(v) != 1)) return ir_errorf(g, n, "k must be an int64 scalar");
  if (v->kind == VK_CONST && v->data) *k = oc_geti(v, 0);
  return 0;
}

int op_trilu_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  int64_t k;
  if (x->rank < 2) return ir_errorf(g, n, "input '%s' has rank %d, expected at least 2", x->name, x->rank);
  if (trilu_k(g, n, &k)) return -1;
  oc_set_out(n->out[0], x->dt, x->rank, x->dims);
  return 0;
}

int op_trilu_eval(Graph *g, Node *n) {
  Value *x = n->in[0], *y = n->out[0];
  int64_t k;
  if (trilu_k(g, n, &k)) return -1;
  bool upper = ir_attr_int(n, "upper", 1) != 0;
  int64_t rows = x->dims[x->rank - 2].c, cols = x->dims[x->rank - 1].c, es = ir_dtype_size(x->dt), total = ir_numel(x);
  uint8_t *d = oc_make_const(g, y);
  for (int64_t i = 0; i < total; i++) {
    int64_t c = i % cols, r = (i / cols) % rows;
    bool keep = upper ? c - r >= k : c - r <= k;
    if (keep) memcpy(d + i * es, (uint8_t *)x->data + i * es, (size_t)es);
    else memset(d + i * es, 0, (size_t)es);
  }
  return 0;
}

int op_trilu_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0];
  int64_t k;
  if (trilu_k(g, n, &k)) return -1;
  if (k > INT32_MAX || k < INT32_MIN) k = k > 0 ? INT32_MAX : INT32_MIN;
  Value *kv = n->nin > 1 ? n->in[1] : NULL;
  RtTrilu p = {.x = cg_addr(cx, x), .y = cg_addr(cx, n->out[0]), .k = (int32_t)k,
               .k_addr = kv && !(kv->kind == VK_CONST && kv->data) ? cg_addr(cx, kv) : 0,
               .upper = ir_attr_int(n, "upper", 1) != 0, .esize = ir_dtype_size(x->dt)};
  CG_DIM(cx, p, batch, oc_prod(g, x->dims, 0, x->rank - 2));
  CG_DIM(cx, p, rows, x->dims[x->rank - 2]);
  CG_DIM(cx, p, cols, x->dims[x->rank - 1]);
  return cg_call(cx, K_trilu, &p, sizeof p, n);
}
