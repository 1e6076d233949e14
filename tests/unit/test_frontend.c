/* test_frontend.c — ModelProto -> Graph: every initializer storage form, external data and its
 * path checks, Constant nodes, opset imports, dim_param symbols, If branches, and malformed files. */
#define _POSIX_C_SOURCE 200809L
#include "harness.h"
#include "mkmodel.h"
#include "frontend/frontend.h"
#include "ir/ops.h"
#include "passes/passes.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static Value *find(Graph *g, const char *name) {
  for (int i = 0; i < g->nvalues; i++) if (!strcmp(g->values[i]->name, name)) return g->values[i];
  return NULL;
}

/* a model whose graph reads each initializer through an Identity so all of them are used */
static MkModel *model_with(int ninit) {
  MkModel *m = mk_new(13);
  for (int i = 0; i < ninit; i++) {
    char in[16], out[16];
    snprintf(in, sizeof in, "t%d", i);
    snprintf(out, sizeof out, "y%d", i);
    mk_node(m, "Identity", out, 1, (const char *[]){in}, 1, (const char *[]){out});
    mk_output(m, out, 1);
  }
  return m;
}

static Graph *load_model(MkModel *m, const char *file) {
  const char *p = harness_tmp(file);
  CHECK(mk_write(m, p) == 0);
  return fe_load(p, NULL);
}

TEST(initializer_forms) {
  MkModel *m = model_with(0);
  const int64_t d3[] = {3}, d22[] = {2, 2};
  /* float raw_data */
  mk_init_f32(m, "f_raw", 1, d3, (const float[]){1.5f, -2, 3});
  /* float_data */
  Onnx__TensorProto *t = mk_tensor("f_typed", 1, 2, d22);
  float fv[] = {1, 2, 3, 4};
  t->n_float_data = 4; t->float_data = fv;
  mk_add_init(m, t);
  /* int64_data */
  t = mk_tensor("i64_typed", 7, 1, d3);
  int64_t iv[] = {-1, 0, 1LL << 40};
  t->n_int64_data = 3; t->int64_data = iv;
  mk_add_init(m, t);
  /* int32_data carrying int8, uint8, bool, float16, int32 */
  int32_t i8[] = {-128, 5, 127}, u8[] = {0, 200, 255}, bl[] = {1, 0, 1}, f16[] = {0x3c00, 0xc000, 0x3800}, i32[] = {-7, 8, 9};
  struct { const char *n; int dt; int32_t *v; } forms[] = {{"i8", 3, i8}, {"u8", 2, u8}, {"b", 9, bl}, {"h", 10, f16}, {"i32", 6, i32}};
  for (int k = 0; k < 5; k++) {
    t = mk_tensor(forms[k].n, forms[k].dt, 1, d3);
    t->n_int32_data = 3; t->int32_data = forms[k].v;
    mk_add_init(m, t);
  }
  /* double_data, uint64_data (uint32 and uint64) */
  t = mk_tensor("f64", 11, 1, d3);
  double dv[] = {0.25, -1e300, 3};
  t->n_double_data = 3; t->double_data = dv;
  mk_add_init(m, t);
  uint64_t uv[] = {1, 4000000000u, 7};
  t = mk_tensor("u32", 12, 1, d3);
  t->n_uint64_data = 3; t->uint64_data = uv;
  mk_add_init(m, t);
  t = mk_tensor("u64", 13, 1, d3);
  t->n_uint64_data = 3; t->uint64_data = uv;
  mk_add_init(m, t);
  /* a scalar (rank 0) */
  mk_init_f32(m, "scalar", 0, NULL, (const float[]){42});
  mk_node(m, "Identity", "id", 1, (const char *[]){"f_raw"}, 1, (const char *[]){"y"});
  mk_output(m, "y", 1);

  Graph *g = load_model(m, "forms.onnx");
  CHECK_MSG(!ir_failed(g), "%s", ir_error(g));
  Value *v;
  CHECK((v = find(g, "f_raw")) && v->kind == VK_CONST && v->dt == DT_FLOAT && ((float *)v->data)[0] == 1.5f && ((float *)v->data)[1] == -2);
  CHECK((v = find(g, "f_typed")) && v->rank == 2 && v->dims[1].c == 2 && ((float *)v->data)[3] == 4);
  CHECK((v = find(g, "i64_typed")) && ((int64_t *)v->data)[2] == (1LL << 40) && ((int64_t *)v->data)[0] == -1);
  CHECK((v = find(g, "i8")) && ((int8_t *)v->data)[0] == -128 && ((int8_t *)v->data)[2] == 127);
  CHECK((v = find(g, "u8")) && ((uint8_t *)v->data)[1] == 200);
  CHECK((v = find(g, "b")) && v->dt == DT_BOOL && ((uint8_t *)v->data)[0] == 1 && ((uint8_t *)v->data)[1] == 0);
  CHECK((v = find(g, "h")) && v->dt == DT_FLOAT16 && ((uint16_t *)v->data)[1] == 0xc000);
  CHECK((v = find(g, "i32")) && ((int32_t *)v->data)[0] == -7);
  CHECK((v = find(g, "f64")) && ((double *)v->data)[1] == -1e300);
  CHECK((v = find(g, "u32")) && v->dt == DT_UINT32 && ((uint32_t *)v->data)[1] == 4000000000u);
  CHECK((v = find(g, "u64")) && ((uint64_t *)v->data)[1] == 4000000000u);
  CHECK((v = find(g, "scalar")) && v->rank == 0 && ir_numel(v) == 1 && ((float *)v->data)[0] == 42);
  ir_graph_free(g);
}

TEST(initializer_size_mismatch) {
  MkModel *m = model_with(1);
  Onnx__TensorProto *t = mk_tensor("t0", 1, 1, (const int64_t[]){4});
  float fv[] = {1, 2, 3};
  t->n_float_data = 3; t->float_data = fv;
  mk_add_init(m, t);
  Graph *g = load_model(m, "short.onnx");
  CHECK(ir_failed(g));
  CHECK_MSG(strstr(ir_error(g), "'t0'") && strstr(ir_error(g), "float_data holds 3 values, expected 4"), "%s", ir_error(g));
  ir_graph_free(g);

  m = model_with(1);
  t = mk_tensor("t0", 1, 1, (const int64_t[]){4});
  t->has_raw_data = 1; t->raw_data.len = 5; t->raw_data.data = (uint8_t *)"abcde";
  mk_add_init(m, t);
  g = load_model(m, "shortraw.onnx");
  CHECK_MSG(ir_failed(g) && strstr(ir_error(g), "raw_data has 5 bytes, expected 16"), "%s", ir_error(g));
  ir_graph_free(g);
}

static Onnx__TensorProto *external(const char *name, const char *loc, const char *offset, const char *length) {
  Onnx__TensorProto *t = mk_tensor(name, 1, 1, (const int64_t[]){2});
  t->has_data_location = 1;
  t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  int n = 1 + (offset != NULL) + (length != NULL);
  t->external_data = calloc((size_t)n, sizeof *t->external_data);
  const char *keys[] = {"location", "offset", "length"}, *vals[] = {loc, offset, length};
  for (int i = 0, k = 0; i < 3; i++) {
    if (!vals[i]) continue;
    Onnx__StringStringEntryProto *e = calloc(1, sizeof *e);
    onnx__string_string_entry_proto__init(e);
    e->key = strdup(keys[i]);
    e->value = strdup(vals[i]);
    t->external_data[k++] = e;
  }
  t->n_external_data = (size_t)n;
  return t;
}

static Graph *load_external(const char *loc, const char *offset, const char *length, const char *file) {
  MkModel *m = model_with(1);
  mk_add_init(m, external("t0", loc, offset, length));
  return load_model(m, file);
}

TEST(external_data) {
  /* weights.bin holds 4 junk bytes, then the two floats */
  FILE *f = fopen(harness_tmp("weights.bin"), "wb");
  float w[2] = {3.25f, -8};
  fwrite("junk", 1, 4, f);
  fwrite(w, sizeof w, 1, f);
  fclose(f);
  mkdir(harness_tmp("sub"), 0755);
  f = fopen(harness_tmp("sub/w2.bin"), "wb");
  fwrite(w, sizeof w, 1, f);
  fclose(f);

  Graph *g = load_external("weights.bin", "4", "8", "ext.onnx");
  CHECK_MSG(!ir_failed(g), "%s", ir_error(g));
  Value *v = find(g, "t0");
  CHECK(v && ((float *)v->data)[0] == 3.25f && ((float *)v->data)[1] == -8);
  ir_graph_free(g);

  g = load_external("sub/w2.bin", NULL, NULL, "ext2.onnx");            /* a subfolder is fine */
  CHECK_MSG(!ir_failed(g), "%s", ir_error(g));
  ir_graph_free(g);

  g = load_external("weights.bin", "8", NULL, "ext3.onnx");             /* file too short at that offset */
  CHECK_MSG(ir_failed(g) && strstr(ir_error(g), "shorter"), "%s", ir_error(g));
  ir_graph_free(g);

  g = load_external("weights.bin", "0", "12", "ext4.onnx");             /* length disagrees with dims */
  CHECK_MSG(ir_failed(g) && strstr(ir_error(g), "length 12"), "%s", ir_error(g));
  ir_graph_free(g);

  g = load_external("missing.bin", NULL, NULL, "ext5.onnx");
  CHECK_MSG(ir_failed(g) && strstr(ir_error(g), "not found"), "%s", ir_error(g));
  ir_graph_free(g);
}

TEST(external_path_escape_refused) {
  Graph *g = load_external("../weights.bin", NULL, NULL, "esc1.onnx");
  CHECK_MSG(ir_failed(g) && strstr(ir_error(g), "leaves the model's folder"), "%s", ir_error(g));
  ir_graph_free(g);

  g = load_external("sub/../../etc/passwd", NULL, NULL, "esc2.onnx");
  CHECK_MSG(ir_failed(g) && strstr(ir_error(g), "leaves the model's folder"), "%s", ir_error(g));
  ir_graph_free(g);

  g = load_external("/etc/passwd", NULL, NULL, "esc3.onnx");
  CHECK_MSG(ir_failed(g) && strstr(ir_error(g), "absolute"), "%s", ir_error(g));
  ir_graph_free(g);

  /* a symlink inside the folder that points outside it */
  unlink(harness_tmp("link.bin"));
  CHECK(symlink("/etc/hostname", harness_tmp("link.bin")) == 0);
  g = load_external("link.bin", NULL, NULL, "esc4.onnx");
  CHECK_MSG(ir_failed(g) && strstr(ir_error(g), "outside the model's folder"), "%s", ir_error(g));
  ir_graph_free(g);
}

TEST(symbolic_dims_and_binding) {
  MkModel *m = mk_new(13);
  mk_input(m, "x", 1, 3, (const char *[]){"batch", NULL, "seq"}, (const int64_t[]){0, 4, 0});
  mk_node(m, "Relu", "r", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
  mk_output(m, "y", 1);
  const char *p = harness_tmp("sym.onnx");
  CHECK(mk_write(m, p) == 0);
  Graph *g = fe_load(p, NULL);
  CHECK_MSG(!ir_failed(g), "%s", ir_error(g));
  CHECK(g->ninputs == 1 && g->nsyms == 2);
  Value *x = g->inputs[0];
  CHECK(x->rank == 3 && !ir_dim_known(x->dims[0]) && x->dims[1].c == 4 && !ir_dim_known(x->dims[2]));
  CHECK(x->dim_names[0] && !strcmp(x->dim_names[0], "batch") && !strcmp(x->dim_names[2], "seq"));
  char buf[64];
  ir_dim_str(g, x->dims[2], buf, sizeof buf);
  CHECK(!strcmp(buf, "seq"));
  ir_graph_free(g);

  FeOptions o = {.ndims = 1, .dim_name = {"batch"}, .dim_value = {2}};
  g = fe_load(p, &o);
  x = g->inputs[0];
  CHECK(ir_dim_known(x->dims[0]) && x->dims[0].c == 2 && !ir_dim_known(x->dims[2]));
  CHECK(!strcmp(x->dim_names[0], "batch"));    /* the name stays for the signature */
  ir_graph_free(g);
}

TEST(constant_nodes_and_opset) {
  MkModel *m = mk_new(11);
  Onnx__TensorProto *t = mk_tensor("", 1, 1, (const int64_t[]){2});
  float fv[] = {7, 8};
  t->n_float_data = 2; t->float_data = fv;
  MkNode *c = mk_node(m, "Constant", "c", 0, NULL, 1, (const char *[]){"k"});
  mk_attr_tensor(c, "value", t);
  mk_node(m, "Identity", "id", 1, (const char *[]){"k"}, 1, (const char *[]){"y"});
  mk_output(m, "y", 1);
  Graph *g = load_model(m, "const.onnx");
  CHECK_MSG(!ir_failed(g), "%s", ir_error(g));
  CHECK(g->opset == 11);
  CHECK(g->nnodes == 2 && g->nodes[0]->op == OP_Constant && g->nodes[0]->attrs[0].type == AT_TENSOR);
  CHECK(((float *)g->nodes[0]->attrs[0].t->data)[1] == 8);
  ir_graph_free(g);
}

/* If's branches: detached subgraphs whose names resolve innermost scope first (a branch initializer
 * shadows the model's of the same name, outer values are the outer Values themselves), nested two
 * deep; the fold pass then inlines the chosen branches in place, local names prefixed */
TEST(if_branches_and_scopes) {
  MkModel *m = mk_new(13);
  mk_input(m, "x", 1, 2, NULL, (int64_t[]){2, 3});
  mk_init_f32(m, "w", 1, (int64_t[]){3}, (float[]){1, 2, 3});
  Onnx__TensorProto *ct = mk_tensor("", 9, 0, NULL);
  ct->has_raw_data = 1; ct->raw_data.len = 1; ct->raw_data.data = (uint8_t *)"\1";
  mk_attr_tensor(mk_node(m, "Constant", "c", 0, NULL, 1, (const char *[]){"c"}), "value", ct);
  MkModel *inner_then = mk_new(13), *inner_else = mk_new(13), *outer_then = mk_new(13), *outer_else = mk_new(13);
  mk_node(inner_then, "Add", "add_in", 2, (const char *[]){"u", "x"}, 1, (const char *[]){"v"});
  mk_output(inner_then, "v", 1);
  mk_output(inner_else, "x", 1);                        /* an outer value returned directly */
  mk_init_f32(outer_then, "w", 1, (int64_t[]){3}, (float[]){4, 5, 6});
  mk_node(outer_then, "Mul", "mul_b", 2, (const char *[]){"t", "w"}, 1, (const char *[]){"u"});
  MkNode *if1 = mk_node(outer_then, "If", "if1", 1, (const char *[]){"c"}, 1, (const char *[]){"r"});
  mk_attr_graph(if1, "then_branch", inner_then);
  mk_attr_graph(if1, "else_branch", inner_else);
  mk_output(outer_then, "r", 1);
  mk_node(outer_else, "Neg", "neg_e", 1, (const char *[]){"t"}, 1, (const char *[]){"ne"});
  mk_output(outer_else, "ne", 1);
  MkNode *if0 = mk_node(m, "If", "if0", 1, (const char *[]){"c"}, 1, (const char *[]){"y"});
  mk_attr_graph(if0, "then_branch", outer_then);
  mk_attr_graph(if0, "else_branch", outer_else);
  mk_node(m, "Add", "add_t", 2, (const char *[]){"x", "w"}, 1, (const char *[]){"t"});  /* listed after the If reading it */
  mk_output(m, "y", 1);
  Graph *g = load_model(m, "if.onnx");
  CHECK_MSG(!ir_failed(g), "%s", ir_error(g));
  if (ir_failed(g) || g->nnodes != 3) { CHECK(g->nnodes == 3); ir_graph_free(g); return; }
  Node *add_t = g->nodes[1], *n0 = g->nodes[2];
  CHECK(!strcmp(add_t->name, "add_t") && n0->op == OP_If);   /* the If after the producer of t */
  const Subgraph *th = ir_attr(n0, "then_branch")->sub, *el = ir_attr(n0, "else_branch")->sub;
  CHECK(th && el && th->nnodes == 2 && th->ninits == 1 && el->nnodes == 1);
  Node *mul = th->nodes[0], *n1 = th->nodes[1];
  CHECK(mul->index == -1 && mul->in[0] == add_t->out[0]);    /* outer t */
  CHECK(mul->in[1] == th->inits[0] && mul->in[1] != add_t->in[1]); /* the branch's own w */
  const Subgraph *ith = ir_attr(n1, "then_branch")->sub, *iel = ir_attr(n1, "else_branch")->sub;
  CHECK(ith->nodes[0]->in[0] == mul->out[0] && ith->nodes[0]->in[1] == g->inputs[0]);
  CHECK(iel->nnodes == 0 && iel->outputs[0] == g->inputs[0]);
  CHECK(pass_fold(g) == 0);
  CHECK_MSG(!ir_failed(g), "%s", ir_error(g));
  CHECK(g->nnodes == 3);
  if (g->nnodes == 3) {
    CHECK(!strcmp(g->nodes[0]->name, "add_t") && !strcmp(g->nodes[1]->name, "if0/mul_b") && !strcmp(g->nodes[2]->name, "if0/if1/add_in"));
    CHECK(!strcmp(g->nodes[1]->out[0]->name, "if0/u") && !strcmp(g->nodes[1]->in[1]->name, "if0/w"));
    CHECK(g->nodes[2]->out[0] == g->outputs[0] && !strcmp(g->outputs[0]->name, "y"));
    CHECK(g->outputs[0]->rank == 2);
  }
  ir_graph_free(g);
}

TEST(unknown_op_and_bad_references) {
  MkModel *m = mk_new(13);
  mk_input(m, "x", 1, 1, NULL, (const int64_t[]){4});
  mk_node(m, "FancyOp", "fancy_1", 1, (const char *[]){"x"}, 1, (const char *[]){"y"});
  mk_output(m, "y", 1);
  Graph *g = load_model(m, "unknown.onnx");
  CHECK_MSG(ir_failed(g) && strstr(ir_error(g), "node 'fancy_1' (FancyOp, opset 13): unsupported op"), "%s", ir_error(g));
  ir_graph_free(g);

  m = mk_new(13);
  mk_input(m, "x", 1, 1, NULL, (const int64_t[]){4});
  mk_node(m, "Relu", "r", 1, (const char *[]){"nope"}, 1, (const char *[]){"y"});
  mk_output(m, "y", 1);
  g = load_model(m, "dangling.onnx");
  CHECK_MSG(ir_failed(g) && strstr(ir_error(g), "'nope' is not produced"), "%s", ir_error(g));
  ir_graph_free(g);
}

/* names of g's nodes in order, joined by spaces */
static const char *node_names(Graph *g, char *buf, size_t n) {
  size_t k = 0;
  buf[0] = 0;
  for (int i = 0; i < g->nnodes && k < n; i++) k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? " " : "", g->nodes[i]->name);
  return buf;
}

/* d and a read x, b reads a, c reads b and d; listed as `list` (a permutation of "dabc") */
static Graph *branches(const char *list, const char *file) {
  MkModel *m = mk_new(13);
  mk_input(m, "x", 1, 1, NULL, (const int64_t[]){4});
  for (const char *p = list; *p; p++) {
    if (*p == 'a') mk_node(m, "Relu", "a", 1, (const char *[]){"x"}, 1, (const char *[]){"va"});
    if (*p == 'b') mk_node(m, "Sigmoid", "b", 1, (const char *[]){"va"}, 1, (const char *[]){"vb"});
    if (*p == 'c') mk_node(m, "Add", "c", 2, (const char *[]){"vb", "vd"}, 1, (const char *[]){"y"});
    if (*p == 'd') mk_node(m, "Neg", "d", 1, (const char *[]){"x"}, 1, (const char *[]){"vd"});
  }
  mk_output(m, "y", 1);
  Graph *g = load_model(m, file);
  mk_free(m);
  return g;
}

TEST(node_order) {
  char buf[256];
  /* a valid order is kept as written, even where another would do */
  Graph *g = branches("dabc", "order_valid.onnx");
  CHECK_MSG(!ir_failed(g) && !strcmp(node_names(g, buf, sizeof buf), "d a b c"), "%s / %s", ir_error(g), buf);
  ir_graph_free(g);
  /* listed backwards: each node's producers move before it, in the order it reads them */
  g = branches("cbad", "order_backwards.onnx");
  CHECK_MSG(!ir_failed(g) && !strcmp(node_names(g, buf, sizeof buf), "a b d c"), "%s / %s", ir_error(g), buf);
  ir_graph_free(g);
  /* only the late producer moves: the reader of its output stays where it was relative to the rest */
  g = branches("abcd", "order_late.onnx");
  CHECK_MSG(!ir_failed(g) && !strcmp(node_names(g, buf, sizeof buf), "a b d c"), "%s / %s", ir_error(g), buf);
  ir_graph_free(g);

  /* a long chain listed backwards: no recursion to overflow, each node once */
  enum { N = 50000 };
  MkModel *m = mk_new(13);
  mk_input(m, "x", 1, 1, NULL, (const int64_t[]){4});
  static char names[N + 1][3][16];
  for (int i = N - 1; i >= 0; i--) {
    snprintf(names[i][0], 16, "n%d", i);
    snprintf(names[i][1], 16, i ? "v%d" : "x", i - 1);
    snprintf(names[i][2], 16, "v%d", i);
    mk_node(m, "Relu", names[i][0], 1, (const char *[]){names[i][1]}, 1, (const char *[]){names[i][2]});
  }
  mk_output(m, names[N - 1][2], 1);
  g = load_model(m, "order_chain.onnx");
  mk_free(m);
  bool ordered = !ir_failed(g) && g->nnodes == N;
  for (int i = 0; ordered && i < N; i++) ordered = !strcmp(g->nodes[i]->name, names[i][0]);
  CHECK_MSG(ordered, "%s", ir_error(g));
  ir_graph_free(g);

  /* a cycle is refused naming a node on it */
  m = mk_new(13);
  mk_input(m, "x", 1, 1, NULL, (const int64_t[]){4});
  mk_node(m, "Add", "p", 2, (const char *[]){"x", "vq"}, 1, (const char *[]){"vp"});
  mk_node(m, "Relu", "q", 1, (const char *[]){"vp"}, 1, (const char *[]){"vq"});
  mk_output(m, "vq", 1);
  g = load_model(m, "order_cycle.onnx");
  mk_free(m);
  CHECK_MSG(ir_failed(g) && strstr(ir_error(g), "node 'p' (Add) is on a cycle: its output 'vp' feeds back into its own inputs"), "%s", ir_error(g));
  ir_graph_free(g);
}

TEST(malformed_files) {
  /* a valid model, then truncated copies of it, garbage, and an empty file */
  MkModel *m = model_with(1);
  mk_init_f32(m, "t0", 1, (const int64_t[]){64}, (const float[64]){0});
  const char *p = harness_tmp("good.onnx");
  CHECK(mk_write(m, p) == 0);
  FILE *f = fopen(p, "rb");
  unsigned char buf[4096];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  int rejected = 0, cuts = 0;
  for (size_t cut = 1; cut < n; cut += 7) {
    f = fopen(harness_tmp("cut.onnx"), "wb");
    fwrite(buf, 1, cut, f);
    fclose(f);
    Graph *g = fe_load(harness_tmp("cut.onnx"), NULL);   /* must never crash */
    rejected += ir_failed(g);
    cuts++;
    ir_graph_free(g);
  }
  CHECK_MSG(rejected == cuts, "%d of %d truncations rejected", rejected, cuts);

  f = fopen(harness_tmp("garbage.onnx"), "wb");
  for (int i = 0; i < 1000; i++) fputc((i * 7919) & 0xff, f);
  fclose(f);
  Graph *g = fe_load(harness_tmp("garbage.onnx"), NULL);
  CHECK_MSG(ir_failed(g) && (strstr(ir_error(g), "not a valid ONNX model") || strstr(ir_error(g), "no graph")), "%s", ir_error(g));
  ir_graph_free(g);

  f = fopen(harness_tmp("empty.onnx"), "wb");
  fclose(f);
  g = fe_load(harness_tmp("empty.onnx"), NULL);
  CHECK_MSG(ir_failed(g) && strstr(ir_error(g), "is empty"), "%s", ir_error(g));
  ir_graph_free(g);

  g = fe_load(harness_tmp("does-not-exist.onnx"), NULL);
  CHECK_MSG(ir_failed(g) && strstr(ir_error(g), "cannot open"), "%s", ir_error(g));
  ir_graph_free(g);
}

TEST(tensor_file) {
  /* ONNX test-data layout: a bare TensorProto */
  Graph *g = ir_graph_new();
  Value *v = fe_load_tensor_file(g, "/usr/share/libonnx-testdata/data/node/test_relu/test_data_set_0/input_0.pb");
  CHECK_MSG(v && v->dt == DT_FLOAT && v->rank == 3 && ir_numel(v) == 60, "%s", ir_error(g));
  ir_graph_free(g);
}

int main(void) {
  RUN(initializer_forms);
  RUN(initializer_size_mismatch);
  RUN(external_data);
  RUN(external_path_escape_refused);
  RUN(symbolic_dims_and_binding);
  RUN(constant_nodes_and_opset);
  RUN(if_branches_and_scopes);
  RUN(unknown_op_and_bad_references);
  RUN(node_order);
  RUN(malformed_files);
  RUN(tensor_file);
  return harness_done();
}
