/* test_infer.c — type and shape inference per op family, with concrete and symbolic dims, and
 * the errors bad shapes and attributes get. Expected shapes follow the ONNX operator spec. */
#include "harness.h"
#include "ir/ir.h"
#include "ir/ops.h"
#include "passes/passes.h"

#include <string.h>

static Graph *g;

static Value *in(const char *name, DType dt, int rank, const int64_t *dims) {
  Value *v = ir_value(g, name);
  v->kind = VK_INPUT;
  v->dt = dt;
  ir_set_shape(v, rank, dims);
  return v;
}

static Value *ci64(const char *name, int n, const int64_t *vals) {
  int64_t d = n;
  return ir_const(g, name, DT_INT64, 1, &d, vals);
}

static Node *node(const char *op, int nin, Value **ins) {
  Node *n = ir_node(g, NULL, op, 13);
  for (int i = 0; i < nin; i++) ir_add_input(g, n, ins[i]);
  ir_add_output(g, n, ir_value(g, "out"));
  return n;
}

static void attr_ints(Node *n, const char *name, int cnt, const int64_t *v) {
  Attr *a = ir_alloc(&g->arena, (size_t)(n->nattr + 1) * sizeof *a);
  if (n->nattr) memcpy(a, n->attrs, (size_t)n->nattr * sizeof *a);
  a[n->nattr] = (Attr){.name = name, .type = AT_INTS, .n = cnt, .ints = (int64_t *)v};
  n->attrs = a;
  n->nattr++;
}

static void attr_int(Node *n, const char *name, int64_t v) {
  Attr *a = ir_alloc(&g->arena, (size_t)(n->nattr + 1) * sizeof *a);
  if (n->nattr) memcpy(a, n->attrs, (size_t)n->nattr * sizeof *a);
  a[n->nattr] = (Attr){.name = name, .type = AT_INT, .i = v};
  n->attrs = a;
  n->nattr++;
}

static void attr_str(Node *n, const char *name, const char *s) {
  Attr *a = ir_alloc(&g->arena, (size_t)(n->nattr + 1) * sizeof *a);
  if (n->nattr) memcpy(a, n->attrs, (size_t)n->nattr * sizeof *a);
  a[n->nattr] = (Attr){.name = name, .type = AT_STRING, .s = s};
  n->attrs = a;
  n->nattr++;
}

/* infers n and compares its output's shape with the string form, e.g. "float32[1,8,5,5]" */
static int shape_is(Node *n, const char *want) {
  if (pass_infer_node(g, n)) { fprintf(stderr, "  infer failed: %s\n", ir_error(g)); return 0; }
  char s[256];
  ir_value_str(g, n->out[0], s, sizeof s);
  if (strcmp(s, want)) { fprintf(stderr, "  got %s, want %s\n", s, want); return 0; }
  return 1;
}

static int fails_with(Node *n, const char *msg) {
  int r = pass_infer_node(g, n);
  bool ok = r != 0 && strstr(ir_error(g), msg);
  if (!ok) fprintf(stderr, "  expected error containing '%s', got '%s'\n", msg, r ? ir_error(g) : "(success)");
  g->failed = false;
  g->err[0] = 0;
  return ok;
}

TEST(conv_shapes) {
  g = ir_graph_new();
  Value *x = in("x", DT_FLOAT, 4, (int64_t[]){1, 3, 10, 10});
  Value *w = ir_const(g, "w", DT_FLOAT, 4, (int64_t[]){8, 3, 3, 3}, NULL);
  Node *n = node("Conv", 2, (Value *[]){x, w});
  CHECK(shape_is(n, "float32[1,8,8,8]"));
  attr_ints(n, "pads", 4, (int64_t[]){1, 1, 1, 1});
  attr_ints(n, "strides", 2, (int64_t[]){2, 2});
  CHECK(shape_is(n, "float32[1,8,5,5]"));            /* floor((10+2-3)/2)+1 = 5 */
  Node *d = node("Conv", 2, (Value *[]){x, w});
  attr_ints(d, "dilations", 2, (int64_t[]){2, 2});
  CHECK(shape_is(d, "float32[1,8,6,6]"));            /* extent 5 */
  Node *s = node("Conv", 2, (Value *[]){x, w});
  attr_str(s, "auto_pad", "SAME_UPPER");
  attr_ints(s, "strides", 2, (int64_t[]){3, 3});
  CHECK(shape_is(s, "float32[1,8,4,4]"));            /* ceil(10/3) */
  /* depthwise: group = channels */
  Value *dw = ir_const(g, "dw", DT_FLOAT, 4, (int64_t[]){3, 1, 3, 3}, NULL);
  Node *gn = node("Conv", 2, (Value *[]){x, dw});
  attr_int(gn, "group", 3);
  CHECK(shape_is(gn, "float32[1,3,8,8]"));
  /* errors */
  Node *bad = node("Conv", 2, (Value *[]){x, dw});
  CHECK(fails_with(bad, "input has 3 channels, weight expects 1 x group 1"));
  Value *x3 = in("x3", DT_FLOAT, 5, (int64_t[]){1, 3, 4, 4, 4});
  Node *b5 = node("Conv", 2, (Value *[]){x3, w});
  CHECK(fails_with(b5, "rank"));
  Value *xi = in("xi", DT_INT32, 4, (int64_t[]){1, 3, 10, 10});
  Node *bi = node("Conv", 2, (Value *[]){xi, w});
  CHECK(fails_with(bi, "has dtype int32, expected float32"));
  ir_graph_free(g);
}

TEST(pool_shapes) {
  g = ir_graph_new();
  Value *x = in("x", DT_FLOAT, 4, (int64_t[]){1, 2, 7, 7});
  Node *n = node("MaxPool", 1, (Value *[]){x});
  attr_ints(n, "kernel_shape", 2, (int64_t[]){3, 3});
  attr_ints(n, "strides", 2, (int64_t[]){2, 2});
  CHECK(shape_is(n, "float32[1,2,3,3]"));
  Node *c = node("MaxPool", 1, (Value *[]){x});
  attr_ints(c, "kernel_shape", 2, (int64_t[]){2, 2});
  attr_ints(c, "strides", 2, (int64_t[]){2, 2});
  attr_int(c, "ceil_mode", 1);
  CHECK(shape_is(c, "float32[1,2,4,4]"));            /* ceil((7-2)/2)+1 = 4 */
  Node *gp = node("GlobalAveragePool", 1, (Value *[]){x});
  CHECK(shape_is(gp, "float32[1,2,1,1]"));
  Node *big = node("AveragePool", 1, (Value *[]){x});
  attr_ints(big, "kernel_shape", 2, (int64_t[]){9, 9});
  CHECK(fails_with(big, "does not fit"));
  ir_graph_free(g);
}

TEST(gemm_matmul_shapes) {
  g = ir_graph_new();
  Value *a = in("a", DT_FLOAT, 2, (int64_t[]){4, 6}), *b = ir_const(g, "b", DT_FLOAT, 2, (int64_t[]){10, 6}, NULL);
  Value *c = ir_const(g, "c", DT_FLOAT, 1, (int64_t[]){10}, NULL);
  Node *n = node("Gemm", 3, (Value *[]){a, b, c});
  attr_int(n, "transB", 1);
  CHECK(shape_is(n, "float32[4,10]"));
  Node *bad = node("Gemm", 2, (Value *[]){a, b});
  CHECK(fails_with(bad, "inner dimensions"));
  Value *x = in("x", DT_FLOAT, 4, (int64_t[]){2, 1, 5, 6}), *y = in("y", DT_FLOAT, 3, (int64_t[]){3, 6, 7});
  Node *m = node("MatMul", 2, (Value *[]){x, y});
  CHECK(shape_is(m, "float32[2,3,5,7]"));
  Value *v = in("v", DT_FLOAT, 1, (int64_t[]){6});
  Node *mv = node("MatMul", 2, (Value *[]){x, v});
  CHECK(shape_is(mv, "float32[2,1,5]"));
  ir_graph_free(g);
}

TEST(broadcast_and_symbolic) {
  g = ir_graph_new();
  int n_sym = ir_sym(g, "N");
  Value *x = ir_value(g, "x");
  x->kind = VK_INPUT; x->dt = DT_FLOAT; x->rank = 3;
  x->dims[0] = ir_dim_sym(g, n_sym); x->dims[1] = ir_dimc(4); x->dims[2] = ir_dimc(1);
  Value *b = in("b", DT_FLOAT, 2, (int64_t[]){1, 5});
  Node *n = node("Add", 2, (Value *[]){x, b});
  CHECK(shape_is(n, "float32[N,4,5]"));
  Value *c = in("c", DT_FLOAT, 3, (int64_t[]){2, 4, 5});
  Node *cat = node("Concat", 2, (Value *[]){n->out[0], c});
  attr_int(cat, "axis", 0);
  CHECK(shape_is(cat, "float32[N + 2,4,5]"));
  Node *fl = node("Flatten", 1, (Value *[]){x});
  CHECK(shape_is(fl, "float32[N,4]"));
  Value *bad = in("bad", DT_FLOAT, 2, (int64_t[]){3, 5});
  Node *nb = node("Mul", 2, (Value *[]){c, bad});
  CHECK(fails_with(nb, "do not broadcast"));
  Value *xi = in("xi", DT_INT64, 1, (int64_t[]){5});
  Node *mixed = node("Sub", 2, (Value *[]){b, xi});
  CHECK(fails_with(mixed, "different dtypes"));
  ir_graph_free(g);
}

/* run-time H/W: a strided conv's output size becomes a derived dim (floor division the module computes),
 * nested divisions compose, an unprovable equality becomes a run-time check; the values are ONNX's formula */
TEST(runtime_spatial_dims) {
  g = ir_graph_new();
  g->default_max = 100;
  int h = ir_sym(g, "h");
  Value *x = ir_value(g, "x");
  x->kind = VK_INPUT; x->dt = DT_FLOAT; x->rank = 4;
  x->dims[0] = ir_dimc(1); x->dims[1] = ir_dimc(3); x->dims[2] = ir_dim_sym(g, h); x->dims[3] = ir_dimc(8);
  Value *w = ir_const(g, "w", DT_FLOAT, 4, (int64_t[]){4, 3, 3, 3}, NULL);
  Node *c = node("Conv", 2, (Value *[]){x, w});
  attr_ints(c, "strides", 2, (int64_t[]){2, 2});
  attr_ints(c, "pads", 4, (int64_t[]){1, 1, 1, 1});
  CHECK(shape_is(c, "float32[1,4,(h-1)/2 + 1,4]"));   /* floor((h + 2 - 3) / 2) + 1 */
  Node *c2 = node("Conv", 2, (Value *[]){c->out[0], ir_const(g, "w2", DT_FLOAT, 4, (int64_t[]){4, 4, 3, 3}, NULL)});
  attr_ints(c2, "strides", 2, (int64_t[]){2, 2});
  attr_ints(c2, "pads", 4, (int64_t[]){1, 1, 1, 1});
  CHECK(shape_is(c2, "float32[1,4,(h-1)/4 + 1,2]"));   /* floor(floor((h-1)/2) / 2) = floor((h-1)/4) */
  int64_t vals[8] = {0};
  for (int64_t hv = 1; hv <= 40; hv++) {   /* the derived values against the formula applied twice */
    vals[h] = hv;
    CHECK(ir_syms_derive(g, vals));
    int64_t o1 = (hv + 2 - 3) / 2 + 1, o2 = (o1 + 2 - 3) / 2 + 1;
    CHECK_MSG(ir_dim_eval(g, c2->out[0]->dims[2], vals) == o2, "h=%lld", (long long)hv);
  }
  vals[h] = 0;
  CHECK(!ir_syms_derive(g, vals));                   /* h = 0: the window does not fit, a run-time error */
  CHECK(ir_dim_max(g, c->out[0]->dims[2]) == 50);    /* at the bound 100: floor(99 / 2) + 1 */
  Node *u = node("Add", 2, (Value *[]){c->out[0], x});   /* (h-1)/2 + 1 vs h on axis 2, 4 vs 8 on axis 3 */
  CHECK(fails_with(u, "do not broadcast"));
  Value *y = ir_value(g, "y");
  y->kind = VK_INPUT; y->dt = DT_FLOAT; y->rank = 4;
  y->dims[0] = ir_dimc(1); y->dims[1] = ir_dimc(4); y->dims[2] = ir_dim_sym(g, h); y->dims[3] = ir_dimc(4);
  int before = g->nchecks;
  Node *a = node("Add", 2, (Value *[]){c->out[0], y});
  CHECK(shape_is(a, "float32[1,4,h,4]"));              /* checked equal when the module runs */
  CHECK(g->nchecks == before + 1);
  Node *cat = node("Concat", 2, (Value *[]){c->out[0], y});   /* the same pair along axis 2: one check */
  attr_int(cat, "axis", 1);
  CHECK(shape_is(cat, "float32[1,8,(h-1)/2 + 1,4]"));
  CHECK(g->nchecks == before + 1);
  ir_graph_free(g);
}

TEST(shape_ops) {
  g = ir_graph_new();
  Value *x = in("x", DT_FLOAT, 4, (int64_t[]){2, 3, 4, 5});
  CHECK(shape_is(node("Reshape", 2, (Value *[]){x, ci64("s1", 3, (int64_t[]){0, -1, 5})}), "float32[2,12,5]"));
  CHECK(fails_with(node("Reshape", 2, (Value *[]){x, ci64("s2", 2, (int64_t[]){7, -1})}), "cannot reshape"));
  CHECK(fails_with(node("Reshape", 2, (Value *[]){x, x}), "must be a constant"));
  Node *t = node("Transpose", 1, (Value *[]){x});
  attr_ints(t, "perm", 4, (int64_t[]){0, 2, 3, 1});
  CHECK(shape_is(t, "float32[2,4,5,3]"));
  CHECK(shape_is(node("Transpose", 1, (Value *[]){x}), "float32[5,4,3,2]"));
  Value *one = in("one", DT_FLOAT, 4, (int64_t[]){2, 1, 4, 1});
  CHECK(shape_is(node("Squeeze", 1, (Value *[]){one}), "float32[2,4]"));
  CHECK(shape_is(node("Squeeze", 2, (Value *[]){one, ci64("ax", 1, (int64_t[]){-1})}), "float32[2,1,4]"));
  CHECK(shape_is(node("Unsqueeze", 2, (Value *[]){x, ci64("ax2", 2, (int64_t[]){0, -1})}), "float32[1,2,3,4,5,1]"));
  Value *idx = ci64("idx", 2, (int64_t[]){0, 2});
  Node *ga = node("Gather", 2, (Value *[]){x, idx});
  attr_int(ga, "axis", 1);
  CHECK(shape_is(ga, "float32[2,2,4,5]"));
  Node *sh = node("Shape", 1, (Value *[]){x});
  CHECK(shape_is(sh, "int64[4]"));
  Node *sm = node("Softmax", 1, (Value *[]){x});
  CHECK(shape_is(sm, "float32[2,3,4,5]"));
  Node *sl = node("Slice", 3, (Value *[]){x, ci64("st", 1, (int64_t[]){1}), ci64("en", 1, (int64_t[]){-1})});
  CHECK(shape_is(sl, "float32[0,3,4,5]"));            /* [1, 2-1) is empty */
  Node *sl2 = node("Slice", 5, (Value *[]){x, ci64("st2", 1, (int64_t[]){-1}), ci64("en2", 1, (int64_t[]){-100}),
                                             ci64("ax3", 1, (int64_t[]){3}), ci64("sp", 1, (int64_t[]){-2})});
  CHECK(shape_is(sl2, "float32[2,3,4,3]"));           /* indices 4, 2, 0 */
  ir_graph_free(g);
}

/* a Reshape whose shape is a graph input: element symbols named after the elements, bounded by the element
 * count, one per element (a second Reshape reuses them), the product checked at run time; a declared output
 * shape fixes the dims and checks the elements against them */
TEST(element_dims) {
  g = ir_graph_new();
  g->default_max = 1000;
  Value *x = in("x", DT_FLOAT, 2, (int64_t[]){3, 4}), *sh = in("sh", DT_INT64, 1, (int64_t[]){2});
  Value *inputs[] = {x, sh};
  g->inputs = inputs;
  g->ninputs = 2;
  Node *r = node("Reshape", 2, (Value *[]){x, sh});
  CHECK(shape_is(r, "float32[sh[0],sh[1]]"));
  CHECK(g->nsyms == 2 && g->sym_max[0] == 12 && g->sym_max[1] == 12);
  CHECK(g->sym_def[0] && g->sym_def[0]->src == sh && g->sym_def[1]->elem == 1);
  CHECK(g->sym_def[0]->nmap == 1 && g->sym_def[0]->map_from[0] == 0);   /* 0 copies x's dim 0 */
  CHECK(g->nchecks == 1);                                                /* sh[0]*sh[1] == 12 */
  CHECK(shape_is(node("Reshape", 2, (Value *[]){x, sh}), "float32[sh[0],sh[1]]") && g->nsyms == 2 && g->nchecks == 1);
  struct IrDeclared d = {.name = "y", .rank = 2, .dims = {2, 6}};
  g->decl = &d;
  g->ndecl = 1;
  Node *ry = ir_node(g, NULL, "Reshape", 13);
  ir_add_input(g, ry, x);
  ir_add_input(g, ry, sh);
  ir_add_output(g, ry, ir_value(g, "y"));
  CHECK(shape_is(ry, "float32[2,6]"));
  CHECK_MSG(g->nsyms == 4 && g->sym_max[2] == 2 && g->sym_max[3] == 6, "%d syms, bounds %lld %lld", g->nsyms,
            (long long)g->sym_max[2], (long long)g->sym_max[3]);   /* mapped differently (-1): new symbols */
  CHECK(g->nchecks == 3);                                              /* sh[0] == 2, sh[1] == 6 */
  g->inputs = NULL;
  g->decl = NULL;
  ir_graph_free(g);
}

int main(void) {
  RUN(conv_shapes);
  RUN(pool_shapes);
  RUN(gemm_matmul_shapes);
  RUN(broadcast_and_symbolic);
  RUN(runtime_spatial_dims);
  RUN(shape_ops);
  RUN(element_dims);
  return harness_done();
}
