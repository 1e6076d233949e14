/* test_passes.c — each pass on small graphs: folding of shape chains, dead-node removal,
 * BatchNormalization folding (checked numerically against a naive conv + BN), epilogue fusion,
 * output legalization, the memory plan (no two live buffers overlap), the resident KV cache. */
#include "harness.h"
#include "ir/ir.h"
#include "ir/ops.h"
#include "passes/passes.h"
#include "runtime/rt_abi.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static Graph *g;

static Value *input(const char *name, int rank, const int64_t *dims) {
  Value *v = ir_value(g, name);
  v->kind = VK_INPUT; v->dt = DT_FLOAT;
  ir_set_shape(v, rank, dims);
  g->inputs = realloc(g->inputs, (size_t)(g->ninputs + 1) * sizeof *g->inputs);
  g->inputs[g->ninputs++] = v;
  return v;
}

static void output(Value *v) {
  v->is_output = true;
  g->outputs = realloc(g->outputs, (size_t)(g->noutputs + 1) * sizeof *g->outputs);
  g->outputs[g->noutputs++] = v;
}

static Value *op(const char *type, int nin, Value **ins, const char *out) {
  Node *n = ir_node(g, out, type, 13);
  for (int i = 0; i < nin; i++) ir_add_input(g, n, ins[i]);
  Value *v = ir_value(g, out);
  ir_add_output(g, n, v);
  return v;
}

static void set_ints(Node *n, const char *name, int cnt, const int64_t *v) {
  n->attrs = ir_alloc(&g->arena, sizeof(Attr));
  n->attrs[0] = (Attr){.name = name, .type = AT_INTS, .n = cnt, .ints = (int64_t *)v};
  n->nattr = 1;
}

static int live_nodes(void) { int k = 0; for (int i = 0; i < g->nnodes; i++) k += !g->nodes[i]->dead; return k; }

static float frand(unsigned *s) { *s = *s * 1103515245u + 12345u; return (float)((*s >> 8) & 0xffff) / 32768.0f - 1.0f; }

TEST(fold_shape_chain) {
  /* y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])) : the shape chain folds away */
  g = ir_graph_new();
  Value *x = input("x", 4, (int64_t[]){2, 3, 4, 5});
  Value *s = op("Shape", 1, (Value *[]){x}, "s");
  Value *i0 = ir_const(g, "i0", DT_INT64, 0, NULL, (int64_t[]){0});
  Value *d0 = op("Gather", 2, (Value *[]){s, i0}, "d0");
  Value *ax = ir_const(g, "ax", DT_INT64, 1, (int64_t[]){1}, (int64_t[]){0});
  Value *u = op("Unsqueeze", 2, (Value *[]){d0, ax}, "u");
  Value *m1 = ir_const(g, "m1", DT_INT64, 1, (int64_t[]){1}, (int64_t[]){-1});
  Value *shape = op("Concat", 2, (Value *[]){u, m1}, "shape");
  set_ints(shape->producer, "axis", 0, NULL);
  shape->producer->attrs[0] = (Attr){.name = "axis", .type = AT_INT, .i = 0};
  Value *y = op("Reshape", 2, (Value *[]){x, shape}, "y");
  output(y);
  CHECK_MSG(pass_fold(g) == 0, "%s", ir_error(g));
  CHECK(live_nodes() == 1 && g->nodes[0]->op == OP_Reshape);
  CHECK(shape->kind == VK_CONST && ir_numel(shape) == 2);
  CHECK(((int64_t *)shape->data)[0] == 2 && ((int64_t *)shape->data)[1] == -1);
  CHECK(y->rank == 2 && y->dims[0].c == 2 && y->dims[1].c == 60);
  ir_graph_free(g);
}

TEST(fold_symbolic_shape_chain) {
  /* y = Reshape(x, Concat([1], Unsqueeze(Gather(Shape(x), 1)), [2, -1])) with x [1, seq, 8]:
   * the chain folds to a symbolic shape [1, seq, 2, -1] and y is [1, seq, 2, 4] */
  g = ir_graph_new();
  int seq = ir_sym(g, "seq");
  Value *x = input("x", 3, (int64_t[]){1, 1, 8});
  x->dims[1] = ir_dim_sym(g, seq);
  Value *s = op("Shape", 1, (Value *[]){x}, "s");
  Value *i1 = ir_const(g, "i1", DT_INT64, 0, NULL, (int64_t[]){1});
  Value *d1 = op("Gather", 2, (Value *[]){s, i1}, "d1");
  Value *ax = ir_const(g, "ax", DT_INT64, 1, (int64_t[]){1}, (int64_t[]){0});
  Value *u = op("Unsqueeze", 2, (Value *[]){d1, ax}, "u");
  Value *one = ir_const(g, "one", DT_INT64, 1, (int64_t[]){1}, (int64_t[]){1});
  Value *rest = ir_const(g, "rest", DT_INT64, 1, (int64_t[]){2}, (int64_t[]){2, -1});
  Value *shape = op("Concat", 3, (Value *[]){one, u, rest}, "shape");
  shape->producer->attrs = ir_alloc(&g->arena, sizeof(Attr));
  shape->producer->attrs[0] = (Attr){.name = "axis", .type = AT_INT, .i = 0};
  shape->producer->nattr = 1;
  Value *twice = op("Add", 2, (Value *[]){d1, d1}, "twice");           /* arithmetic on a symbolic scalar */
  Value *y = op("Reshape", 2, (Value *[]){x, shape}, "y");
  output(y);
  CHECK_MSG(pass_fold(g) == 0, "%s", ir_error(g));
  CHECK(live_nodes() == 1 && g->nodes[0]->op == OP_Reshape);
  CHECK(shape->kind == VK_CONST && shape->sym && !shape->data);
  char buf[128];
  ir_value_str(g, y, buf, sizeof buf);
  CHECK_MSG(!strcmp(buf, "float32[1,seq,2,4]"), "%s", buf);
  CHECK(twice->sym && ir_dim_eq(twice->sym[0], ir_dim_mul(g, ir_dimc(2), ir_dim_sym(g, seq))));
  ir_graph_free(g);
}

TEST(fold_arithmetic_constants) {
  g = ir_graph_new();
  Value *x = input("x", 1, (int64_t[]){3});
  Value *a = ir_const(g, "a", DT_FLOAT, 1, (int64_t[]){3}, (float[]){1, 2, 3});
  Value *b = ir_const(g, "b", DT_FLOAT, 0, NULL, (float[]){0.5f});
  Value *c = op("Mul", 2, (Value *[]){a, b}, "c");          /* constant: folded */
  Value *y = op("Add", 2, (Value *[]){x, c}, "y");          /* depends on x: stays */
  output(y);
  CHECK(pass_fold(g) == 0);
  CHECK(live_nodes() == 1 && c->kind == VK_CONST);
  CHECK(((float *)c->data)[0] == 0.5f && ((float *)c->data)[2] == 1.5f);
  ir_graph_free(g);
}

TEST(dce_removes_unused) {
  g = ir_graph_new();
  Value *x = input("x", 1, (int64_t[]){4});
  Value *r = op("Relu", 1, (Value *[]){x}, "r");
  op("Sigmoid", 1, (Value *[]){r}, "unused");               /* nobody reads it */
  Value *y = op("Neg", 1, (Value *[]){r}, "y");
  output(y);
  CHECK(pass_fold(g) == 0 && pass_dce(g) == 0);
  CHECK(live_nodes() == 2);
  for (int i = 0; i < g->nnodes; i++) CHECK(g->nodes[i]->op != OP_Sigmoid);
  ir_graph_free(g);
}

/* naive direct convolution at one output element (no padding, stride 1) */
static double conv_at(const float *x, const float *w, int c, int h, int wd, int kh, int kw, int k, int oy, int ox) {
  double acc = 0;
  for (int ci = 0; ci < c; ci++)
    for (int i = 0; i < kh; i++)
      for (int j = 0; j < kw; j++)
        acc += (double)x[(ci * h + oy + i) * wd + ox + j] * w[((k * c + ci) * kh + i) * kw + j];
  return acc;
}

static Value *bn_after(Value *cv, int k, unsigned *seed, float **params) {
  Value *p[4];
  const char *names[] = {"scale", "bias", "mean", "var"};
  for (int i = 0; i < 4; i++) {
    float v[8];
    for (int j = 0; j < k; j++) v[j] = i == 3 ? 0.5f + fabsf(frand(seed)) : frand(seed);
    p[i] = ir_const(g, names[i], DT_FLOAT, 1, (int64_t[]){k}, v);
    params[i] = p[i]->data;
  }
  return op("BatchNormalization", 5, (Value *[]){cv, p[0], p[1], p[2], p[3]}, "bn");
}

TEST(fold_bn_into_conv_numerically) {
  g = ir_graph_new();
  unsigned seed = 7;
  enum { C = 2, H = 5, W = 5, K = 3, KH = 3 };
  float xd[C * H * W], wd[K * C * KH * KH], bd[K];
  for (int i = 0; i < C * H * W; i++) xd[i] = frand(&seed);
  for (int i = 0; i < K * C * KH * KH; i++) wd[i] = frand(&seed);
  for (int i = 0; i < K; i++) bd[i] = frand(&seed);
  Value *x = input("x", 4, (int64_t[]){1, C, H, W});
  Value *w = ir_const(g, "w", DT_FLOAT, 4, (int64_t[]){K, C, KH, KH}, wd);
  Value *b = ir_const(g, "b", DT_FLOAT, 1, (int64_t[]){K}, bd);
  Value *cv = op("Conv", 3, (Value *[]){x, w, b}, "conv");
  float *pr[4];
  Value *y = bn_after(cv, K, &seed, pr);
  output(y);
  CHECK(pass_fold(g) == 0 && pass_fold_bn(g) == 0);
  CHECK(live_nodes() == 1 && g->nodes[0]->op == OP_Conv && g->nodes[0]->out[0] == y);
  const float *nw = g->nodes[0]->in[1]->data, *nb = g->nodes[0]->in[2]->data;
  double worst = 0;
  for (int k = 0; k < K; k++)
    for (int oy = 0; oy < H - KH + 1; oy++)
      for (int ox = 0; ox < W - KH + 1; ox++) {
        double conv = conv_at(xd, wd, C, H, W, KH, KH, k, oy, ox) + bd[k];
        double ref = (conv - pr[2][k]) / sqrt((double)pr[3][k] + 1e-5) * pr[0][k] + pr[1][k];
        double got = conv_at(xd, nw, C, H, W, KH, KH, k, oy, ox) + nb[k];
        if (fabs(got - ref) > worst) worst = fabs(got - ref);
      }
  CHECK_MSG(worst < 1e-5, "max error %g", worst);
  ir_graph_free(g);
}

TEST(bn_without_conv_becomes_mul_add) {
  g = ir_graph_new();
  unsigned seed = 3;
  Value *x = input("x", 4, (int64_t[]){1, 2, 3, 3});
  Value *r = op("Relu", 1, (Value *[]){x}, "r");
  float *pr[4];
  Value *y = bn_after(r, 2, &seed, pr);
  output(y);
  CHECK(pass_fold(g) == 0 && pass_fold_bn(g) == 0);
  CHECK(live_nodes() == 3 && g->nodes[1]->op == OP_Mul && g->nodes[2]->op == OP_Add && g->nodes[2]->out[0] == y);
  const float *s = g->nodes[1]->in[1]->data, *t = g->nodes[2]->in[1]->data;
  CHECK(g->nodes[1]->in[1]->rank == 3);            /* [C,1,1] broadcasts over NCHW */
  double s0 = pr[0][0] / sqrt((double)pr[3][0] + 1e-5);
  CHECK(fabs(s[0] - s0) < 1e-6 && fabs(t[0] - (pr[1][0] - pr[2][0] * s0)) < 1e-6);
  ir_graph_free(g);
}

/* Conv -> HardSwish -> [Mul by scalar s] -> [Add scalar t] (PP-LCNet's learnable affine block). */
static Value *hs_affine_graph(bool mul, bool add, const int64_t *sdims, int srank, bool hs_is_output) {
  g = ir_graph_new();
  Value *x = input("x", 4, (int64_t[]){1, 2, 4, 4});
  Value *w = ir_const(g, "w", DT_FLOAT, 4, (int64_t[]){2, 2, 1, 1}, (float[]){1, 0, 0, 1});
  Value *v = op("HardSwish", 1, (Value *[]){op("Conv", 2, (Value *[]){x, w}, "conv")}, "hs");
  if (hs_is_output) output(v);
  if (mul) v = op("Mul", 2, (Value *[]){ir_const(g, "s", DT_FLOAT, srank, sdims, (float[]){0.5f, 2.0f}), v}, "m");
  if (add) v = op("Add", 2, (Value *[]){v, ir_const(g, "t", DT_FLOAT, 1, (int64_t[]){1}, (float[]){-0.25f})}, "a");
  output(v);
  CHECK(pass_fold(g) == 0 && pass_fuse_act(g) == 0 && pass_fuse_act_affine(g) == 0 && pass_infer(g) == 0);
  return v;
}

TEST(fuse_hardswish_affine) {
  const int64_t one[1] = {1}, perch[4] = {1, 2, 1, 1};
  Value *y = hs_affine_graph(true, true, one, 1, false);
  Node *n = g->nodes[0];
  CHECK(live_nodes() == 1 && n->op == OP_Conv && n->out[0] == y);
  CHECK(n->act == RT_ACT_HARDSWISH_AFFINE && n->act_a == 0.5f && n->act_b == -0.25f);
  ir_graph_free(g);
  /* Mul alone: + (-0), the exact identity */
  y = hs_affine_graph(true, false, one, 1, false);
  n = g->nodes[0];
  CHECK(live_nodes() == 1 && n->act == RT_ACT_HARDSWISH_AFFINE && n->act_a == 0.5f && n->act_b == 0.0f && signbit(n->act_b));
  ir_graph_free(g);
  /* Add alone: scale 1 */
  y = hs_affine_graph(false, true, one, 1, false);
  n = g->nodes[0];
  CHECK(live_nodes() == 1 && n->act == RT_ACT_HARDSWISH_AFFINE && n->act_a == 1.0f && n->act_b == -0.25f);
  ir_graph_free(g);
  /* per-channel scale: not a scalar, stays a Mul (the Add after it too) */
  hs_affine_graph(true, true, perch, 4, false);
  CHECK(live_nodes() == 3 && g->nodes[0]->act == RT_ACT_HARDSWISH);
  ir_graph_free(g);
  /* the HardSwish output is also a graph output: nothing after it fuses */
  hs_affine_graph(true, true, one, 1, true);
  CHECK(live_nodes() == 3 && g->nodes[0]->act == RT_ACT_HARDSWISH);
  ir_graph_free(g);
}

TEST(fuse_residual_and_activation) {
  g = ir_graph_new();
  Value *x = input("x", 4, (int64_t[]){1, 2, 4, 4});
  Value *w = ir_const(g, "w", DT_FLOAT, 4, (int64_t[]){2, 2, 1, 1}, NULL);
  Value *cv = op("Conv", 2, (Value *[]){x, w}, "conv");
  Value *sum = op("Add", 2, (Value *[]){cv, x}, "sum");
  Value *y = op("Relu", 1, (Value *[]){sum}, "y");
  output(y);
  CHECK(pass_fold(g) == 0 && pass_fuse_residual(g) == 0 && pass_fuse_act(g) == 0 && pass_infer(g) == 0);
  CHECK(live_nodes() == 1);
  Node *n = g->nodes[0];
  CHECK(n->op == OP_Conv && n->res == x && n->act == RT_ACT_RELU && n->out[0] == y);
  ir_graph_free(g);

  /* not fused when the intermediate is also a graph output */
  g = ir_graph_new();
  x = input("x", 4, (int64_t[]){1, 2, 4, 4});
  w = ir_const(g, "w", DT_FLOAT, 4, (int64_t[]){2, 2, 1, 1}, NULL);
  cv = op("Conv", 2, (Value *[]){x, w}, "conv");
  y = op("Clip", 1, (Value *[]){cv}, "y");
  output(cv);
  output(y);
  CHECK(pass_fold(g) == 0 && pass_fuse_act(g) == 0);
  CHECK(live_nodes() == 2);
  ir_graph_free(g);

  /* transformer residual: x + MatMul(x, w) + bias -> one MatMul with bias and residual */
  g = ir_graph_new();
  x = input("x", 3, (int64_t[]){1, 3, 4});
  w = ir_const(g, "w", DT_FLOAT, 2, (int64_t[]){4, 4}, NULL);
  Value *bias = ir_const(g, "bias", DT_FLOAT, 1, (int64_t[]){4}, NULL);
  Value *mm = op("MatMul", 2, (Value *[]){x, w}, "mm");
  Value *mb = op("Add", 2, (Value *[]){mm, bias}, "mb");
  y = op("Add", 2, (Value *[]){x, mb}, "y");
  output(y);
  CHECK(pass_fold(g) == 0 && pass_fuse_residual(g) == 0 && pass_infer(g) == 0);
  CHECK_MSG(live_nodes() == 1, "%d live nodes", live_nodes());
  n = g->nodes[0];
  CHECK(n->op == OP_MatMul && n->bias == bias && n->res == x && n->out[0] == y);
  ir_graph_free(g);
}

/* pack_weights: which 3x3 convs get Winograd weights (op_conv_winograd), and their scratch */
static int wino_choice(int c, int hw, int k, int pad, int stride, bool off) {
  g = ir_graph_new();
  g->no_winograd = off;
  Value *x = input("x", 4, (int64_t[]){1, c, hw, hw});
  Value *w = ir_const(g, "w", DT_FLOAT, 4, (int64_t[]){k, c, 3, 3}, NULL);
  Value *y = op("Conv", 2, (Value *[]){x, w}, "y");
  Node *n = y->producer;
  n->attrs = ir_alloc(&g->arena, 2 * sizeof(Attr));
  int64_t *pads = ir_alloc(&g->arena, 4 * sizeof(int64_t)), *st = ir_alloc(&g->arena, 2 * sizeof(int64_t));
  for (int i = 0; i < 4; i++) pads[i] = pad;
  st[0] = st[1] = stride;
  n->attrs[0] = (Attr){.name = "pads", .type = AT_INTS, .n = 4, .ints = pads};
  n->attrs[1] = (Attr){.name = "strides", .type = AT_INTS, .n = 2, .ints = st};
  n->nattr = 2;
  output(y);
  CHECK(pass_fold(g) == 0 && pass_pack_weights(g) == 0 && pass_infer(g) == 0);
  int m = n->wino;
  CHECK(n->wpack != NULL);
  if (m) {
    size_t a = (size_t)m + 2, per = (size_t)(k + 4) / 5 * 5 * (size_t)c;
    CHECK(ir_numel(n->wpack) == (int64_t)(a * a * per));
    CHECK(ops_table[OP_Conv].scratch(g, n) > 0);
  } else {
    CHECK(ops_table[OP_Conv].scratch(g, n) == 0);
  }
  ir_graph_free(g);
  return m;
}

TEST(pack_weights_winograd_choice) {
  CHECK(wino_choice(16, 20, 16, 1, 1, false) == 4);   /* 25 F(4x4) tiles, small weights */
  CHECK(wino_choice(16, 8, 24, 1, 1, false) == 2);    /* 4 F(4x4) tiles, 16 F(2x2) tiles */
  CHECK(wino_choice(16, 6, 16, 1, 1, false) == 0);    /* 9 F(2x2) tiles: direct */
  CHECK(wino_choice(4, 32, 16, 1, 1, false) == 0);    /* 4 input channels */
  CHECK(wino_choice(16, 41, 16, 1, 2, false) == 0);   /* stride 2 */
  CHECK(wino_choice(16, 20, 16, 1, 1, true) == 0);    /* --no-winograd */
  CHECK(wino_choice(256, 14, 256, 1, 1, false) == 2); /* resnet18 layer3: 9.4 MB of F(4x4) weights for 16 tiles */
  CHECK(wino_choice(512, 7, 512, 1, 1, false) == 0);  /* resnet18 layer4: 16.8 MB of F(2x2) weights for 16 tiles */
}

static void set_axes_last(Node *n) {
  n->attrs = ir_alloc(&g->arena, sizeof(Attr));
  n->attrs[0] = (Attr){.name = "axes", .type = AT_INTS, .n = 1, .ints = ir_alloc(&g->arena, 8)};
  n->attrs[0].ints[0] = -1;
  n->nattr = 1;
}

TEST(fuse_layernorm_and_rmsnorm) {
  /* the decomposed chains as torch 1.13 exports them */
  g = ir_graph_new();
  Value *x = input("x", 3, (int64_t[]){1, 5, 8});
  Value *two = ir_const(g, "two", DT_FLOAT, 0, NULL, (float[]){2});
  Value *eps = ir_const(g, "eps", DT_FLOAT, 0, NULL, (float[]){1e-5f});
  Value *gam = ir_const(g, "gamma", DT_FLOAT, 1, (int64_t[]){8}, NULL), *bet = ir_const(g, "beta", DT_FLOAT, 1, (int64_t[]){8}, NULL);
  Value *m = op("ReduceMean", 1, (Value *[]){x}, "m");
  set_axes_last(m->producer);
  Value *d = op("Sub", 2, (Value *[]){x, m}, "d");
  Value *p2 = op("Pow", 2, (Value *[]){d, two}, "p2");
  Value *v = op("ReduceMean", 1, (Value *[]){p2}, "v");
  set_axes_last(v->producer);
  Value *ve = op("Add", 2, (Value *[]){v, eps}, "ve");
  Value *s = op("Sqrt", 1, (Value *[]){ve}, "s");
  Value *q = op("Div", 2, (Value *[]){d, s}, "q");
  Value *w = op("Mul", 2, (Value *[]){q, gam}, "w");
  Value *ln = op("Add", 2, (Value *[]){w, bet}, "ln");
  /* RMSNorm on the LayerNorm's output: x * (1 / sqrt(mean(x*x) + eps)) * gamma */
  Value *one = ir_const(g, "one", DT_FLOAT, 0, NULL, (float[]){1});
  Value *sq = op("Mul", 2, (Value *[]){ln, ln}, "sq");
  Value *r = op("ReduceMean", 1, (Value *[]){sq}, "r");
  set_axes_last(r->producer);
  Value *re = op("Add", 2, (Value *[]){r, eps}, "re");
  Value *rs = op("Sqrt", 1, (Value *[]){re}, "rs");
  Value *inv = op("Div", 2, (Value *[]){one, rs}, "inv");
  Value *z = op("Mul", 2, (Value *[]){ln, inv}, "z");
  Value *y = op("Mul", 2, (Value *[]){z, gam}, "y");
  output(y);
  CHECK(pass_fold(g) == 0 && pass_fuse_norm(g) == 0);
  CHECK_MSG(live_nodes() == 2, "%d live nodes", live_nodes());
  Node *a = g->nodes[0], *b = g->nodes[1];
  CHECK(a->op == OP_LayerNormalization && a->in[0] == x && a->in[1] == gam && a->in[2] == bet && a->out[0] == ln);
  CHECK(b->op == OP_RMSNormalization && b->in[0] == ln && b->in[1] == gam && b->out[0] == y);
  CHECK(fabsf(ir_attr_float(a, "epsilon", 0) - 1e-5f) < 1e-12f);
  ir_graph_free(g);

  /* not fused when an intermediate is read outside the chain */
  g = ir_graph_new();
  x = input("x", 2, (int64_t[]){3, 4});
  two = ir_const(g, "two", DT_FLOAT, 0, NULL, (float[]){2});
  eps = ir_const(g, "eps", DT_FLOAT, 0, NULL, (float[]){1e-5f});
  m = op("ReduceMean", 1, (Value *[]){x}, "m");
  set_axes_last(m->producer);
  d = op("Sub", 2, (Value *[]){x, m}, "d");
  p2 = op("Pow", 2, (Value *[]){d, two}, "p2");
  v = op("ReduceMean", 1, (Value *[]){p2}, "v");
  set_axes_last(v->producer);
  s = op("Sqrt", 1, (Value *[]){op("Add", 2, (Value *[]){v, eps}, "ve")}, "s");
  q = op("Div", 2, (Value *[]){d, s}, "q");
  output(q);
  output(v);                                          /* the variance is also a graph output */
  CHECK(pass_fold(g) == 0 && pass_fuse_norm(g) == 0);
  CHECK(live_nodes() == 7);
  ir_graph_free(g);
}

TEST(fuse_gelu_and_silu) {
  /* y = 0.5 * x * (1 + tanh(0.7978845608 * (x + 0.044715 * x*x*x))) and z = y * sigmoid(y) */
  g = ir_graph_new();
  Value *x = input("x", 2, (int64_t[]){3, 8});
  Value *k = ir_const(g, "k", DT_FLOAT, 0, NULL, (float[]){0.7978845608f}), *c = ir_const(g, "c", DT_FLOAT, 0, NULL, (float[]){0.044715f});
  Value *one = ir_const(g, "one", DT_FLOAT, 0, NULL, (float[]){1}), *half = ir_const(g, "half", DT_FLOAT, 0, NULL, (float[]){0.5f});
  Value *sq = op("Mul", 2, (Value *[]){x, x}, "sq");
  Value *cube = op("Mul", 2, (Value *[]){x, sq}, "cube");
  Value *cc = op("Mul", 2, (Value *[]){c, cube}, "cc");
  Value *in = op("Add", 2, (Value *[]){x, cc}, "in");
  Value *kin = op("Mul", 2, (Value *[]){k, in}, "kin");
  Value *t = op("Tanh", 1, (Value *[]){kin}, "t");
  Value *t1 = op("Add", 2, (Value *[]){one, t}, "t1");
  Value *xt = op("Mul", 2, (Value *[]){x, t1}, "xt");
  Value *y = op("Mul", 2, (Value *[]){half, xt}, "y");
  Value *s = op("Sigmoid", 1, (Value *[]){y}, "s");
  Value *z = op("Mul", 2, (Value *[]){y, s}, "z");
  output(z);
  CHECK(pass_fold(g) == 0 && pass_fuse_activations(g) == 0 && pass_infer(g) == 0);
  CHECK_MSG(live_nodes() == 2, "%d live nodes", live_nodes());
  CHECK(g->nodes[0]->op == OP_Gelu && g->nodes[0]->in[0] == x && g->nodes[0]->out[0] == y &&
        !strcmp(ir_attr_str(g->nodes[0], "approximate", ""), "tanh"));
  CHECK(g->nodes[1]->op == OP_Silu && g->nodes[1]->in[0] == y && g->nodes[1]->out[0] == z);
  ir_graph_free(g);

  /* a different constant is not GELU */
  g = ir_graph_new();
  x = input("x", 1, (int64_t[]){4});
  k = ir_const(g, "k", DT_FLOAT, 0, NULL, (float[]){0.9f});
  c = ir_const(g, "c", DT_FLOAT, 0, NULL, (float[]){0.044715f});
  one = ir_const(g, "one", DT_FLOAT, 0, NULL, (float[]){1});
  half = ir_const(g, "half", DT_FLOAT, 0, NULL, (float[]){0.5f});
  Value *three = ir_const(g, "three", DT_FLOAT, 0, NULL, (float[]){3});
  cube = op("Pow", 2, (Value *[]){x, three}, "cube");
  in = op("Add", 2, (Value *[]){x, op("Mul", 2, (Value *[]){c, cube}, "cc")}, "in");
  t = op("Tanh", 1, (Value *[]){op("Mul", 2, (Value *[]){k, in}, "kin")}, "t");
  y = op("Mul", 2, (Value *[]){half, op("Mul", 2, (Value *[]){x, op("Add", 2, (Value *[]){one, t}, "t1")}, "xt")}, "y");
  output(y);
  CHECK(pass_fold(g) == 0 && pass_fuse_activations(g) == 0);
  CHECK(live_nodes() == 8);
  ir_graph_free(g);
}

TEST(outputs_get_own_buffers) {
  g = ir_graph_new();
  Value *x = input("x", 1, (int64_t[]){4});
  Value *k = ir_const(g, "k", DT_FLOAT, 1, (int64_t[]){4}, (float[]){1, 2, 3, 4});
  output(x);
  output(k);
  CHECK(pass_fold(g) == 0 && pass_outputs(g) == 0);
  CHECK(g->outputs[0] != x && g->outputs[1] != k);
  CHECK(g->outputs[0]->producer && g->outputs[0]->producer->op == OP_Identity && g->outputs[0]->kind == VK_TEMP);
  CHECK(!strcmp(g->outputs[1]->name, "k"));
  ir_graph_free(g);
}

/* The plan after pass_run_pipeline: no two buffers live at the same time overlap, and no node's scratch
 * overlaps a buffer live at that node. Live range of a buffer root: [def, last use] in node order. */
static void check_plan(void) {
  int n = g->nnodes;
  int *def = malloc((size_t)g->nvalues * sizeof *def), *last = malloc((size_t)g->nvalues * sizeof *last);
  for (int i = 0; i < g->nvalues; i++) {
    Value *p = g->values[i];
    def[i] = p->producer ? p->producer->index : -1;
    last[i] = -1;
    for (int k = 0; k < n; k++)
      for (int s = 0; s < g->nodes[k]->nin; s++) {
        Value *r = g->nodes[k]->in[s];
        while (r && r->alias) r = r->alias;
        if (r == p) last[i] = k;
      }
    if (p->kind == VK_INPUT || p->is_output) last[i] = n;
    if (last[i] < def[i]) last[i] = def[i];
  }
  for (int i = 0; i < g->nvalues; i++) {
    Value *p = g->values[i];
    if (p->kind == VK_CONST || p->alias || p->offset < 0) continue;
    for (int j = i + 1; j < g->nvalues; j++) {
      Value *q = g->values[j];
      if (q->kind == VK_CONST || q->alias || q->offset < 0) continue;
      bool live_together = def[i] <= last[j] && def[j] <= last[i];
      bool overlap = p->offset < q->offset + ir_nbytes(q) && q->offset < p->offset + ir_nbytes(p);
      CHECK_MSG(!(live_together && overlap), "'%s' and '%s' overlap while both live", p->name, q->name);
    }
    for (int k = 0; k < n; k++) {
      Node *nd = g->nodes[k];
      if (!nd->scratch_bytes || def[i] > k || last[i] < k) continue;
      bool overlap = p->offset < nd->scratch_off + nd->scratch_bytes && nd->scratch_off < p->offset + ir_nbytes(p);
      CHECK_MSG(!overlap, "scratch of '%s' overlaps '%s'", nd->name, p->name);
    }
  }
  for (int k = 0; k < n; k++)
    if (g->nodes[k]->scratch_bytes) CHECK(g->nodes[k]->scratch_off + g->nodes[k]->scratch_bytes <= g->arena_size);
  free(def);
  free(last);
}

TEST(memory_plan_no_overlap) {
  /* a chain with branches and views: check that no two buffers live at the same time overlap */
  g = ir_graph_new();
  Value *x = input("x", 2, (int64_t[]){8, 16});
  Value *a = op("Relu", 1, (Value *[]){x}, "a");
  Value *b = op("Sigmoid", 1, (Value *[]){a}, "b");
  Value *c = op("Add", 2, (Value *[]){a, b}, "c");
  Value *sh = ir_const(g, "sh", DT_INT64, 1, (int64_t[]){1}, (int64_t[]){128});
  Value *v = op("Reshape", 2, (Value *[]){c, sh}, "v");
  Value *d = op("Neg", 1, (Value *[]){v}, "d");
  Value *e = op("Tanh", 1, (Value *[]){d}, "e");
  Value *f = op("Mul", 2, (Value *[]){e, v}, "f");
  output(f);
  PassOptions po = {.opt_level = 2};
  CHECK_MSG(pass_run_pipeline(g, &po) == 0, "%s", ir_error(g));
  CHECK(v->alias == c && v->offset == c->offset);           /* the Reshape is a view */
  check_plan();
  CHECK(g->arena_size < 7 * 512);                           /* some buffers were reused */
  ir_graph_free(g);

  /* Winograd convs (arena scratch) of different sizes, a branch kept alive across them */
  g = ir_graph_new();
  x = input("x", 4, (int64_t[]){1, 16, 12, 12});
  float *wd = calloc(32 * 16 * 9, sizeof *wd);
  Value *w1 = ir_const(g, "w1", DT_FLOAT, 4, (int64_t[]){32, 16, 3, 3}, wd);
  Value *w2 = ir_const(g, "w2", DT_FLOAT, 4, (int64_t[]){16, 32, 3, 3}, wd);
  Value *c1 = op("Conv", 2, (Value *[]){x, w1}, "c1");
  Value *r1 = op("Relu", 1, (Value *[]){c1}, "r1");
  Value *c2 = op("Conv", 2, (Value *[]){r1, w2}, "c2");
  Value *s1 = op("Sigmoid", 1, (Value *[]){c2}, "s1");
  Value *c3 = op("Conv", 2, (Value *[]){s1, w1}, "c3");
  Value *m = op("Mul", 2, (Value *[]){c3, c1}, "m");       /* c1 lives across c2 and c3 */
  output(m);
  static const int64_t pads[4] = {1, 1, 1, 1};
  for (int i = 0; i < 3; i++) set_ints(g->nodes[i * 2], "pads", 4, pads);   /* the convs keep 12x12 */
  CHECK_MSG(pass_run_pipeline(g, &po) == 0, "%s", ir_error(g));
  int with_scratch = 0;
  for (int i = 0; i < g->nnodes; i++) with_scratch += g->nodes[i]->scratch_bytes > 0;
  CHECK_MSG(with_scratch >= 2, "%d nodes with scratch", with_scratch);
  check_plan();
  free(wd);
  ir_graph_free(g);
}

/* past [1,2,past,4] -> Concat(axis 2) -> present (output), read by MatMul(q, present^T) and
 * MatMul(p, present); `extra` adds a Relu reader that needs dense storage. */
static Value *kv_graph(bool extra, Value **past_out) {
  g = ir_graph_new();
  int past = ir_sym(g, "past"), seq = ir_sym(g, "seq");
  g->sym_value[past] = g->sym_value[seq] = -1;
  g->sym_max[past] = 30; g->sym_max[seq] = 8;
  Value *pk = input("past_key", 4, (int64_t[]){1, 2, 1, 4});
  pk->dims[2] = ir_dim_sym(g, past);
  Value *nk = input("new_key", 4, (int64_t[]){1, 2, 1, 4});
  nk->dims[2] = ir_dim_sym(g, seq);
  Value *q = input("q", 4, (int64_t[]){1, 2, 1, 4});
  q->dims[2] = ir_dim_sym(g, seq);
  Value *present = op("Concat", 2, (Value *[]){pk, nk}, "present_key");
  present->producer->attrs = ir_alloc(&g->arena, sizeof(Attr));
  present->producer->attrs[0] = (Attr){.name = "axis", .type = AT_INT, .i = 2};
  present->producer->nattr = 1;
  output(present);
  Value *kt = op("Transpose", 1, (Value *[]){present}, "kt");
  static const int64_t perm[4] = {0, 1, 3, 2};
  set_ints(kt->producer, "perm", 4, perm);
  Value *sc = op("MatMul", 2, (Value *[]){q, kt}, "scores");
  Value *y = op("MatMul", 2, (Value *[]){sc, present}, "y");
  output(y);
  if (extra) output(op("Relu", 1, (Value *[]){present}, "r"));
  *past_out = pk;
  return present;
}

TEST(resident_kv_cache) {
  Value *pk, *present = kv_graph(false, &pk);
  PassOptions po = {.opt_level = 2};
  CHECK_MSG(pass_run_pipeline(g, &po) == 0, "%s", ir_error(g));
  CHECK_MSG(present->cap == 38 && present->cap_axis == 2, "cap %lld axis %d", (long long)present->cap, present->cap_axis);
  CHECK(pk->resident_in == present && pk->cap == 38 && pk->offset == present->offset);
  Dim st[4];
  ir_strides(g, present, st);
  CHECK(ir_dim_known(st[1]) && st[1].c == 38 * 4 && st[0].c == 2 * 38 * 4 && st[2].c == 4);
  CHECK(ir_nbytes_max(g, present) == 2 * 38 * 4 * 4);
  ir_graph_free(g);
  /* a reader that needs dense storage keeps the cache dense */
  present = kv_graph(true, &pk);
  CHECK_MSG(pass_run_pipeline(g, &po) == 0, "%s", ir_error(g));
  CHECK(present->cap == 0 && !pk->resident_in && pk->offset != present->offset);
  ir_graph_free(g);
}

/* scores = MatMul(q, Transpose(k)) * c + mask -> Softmax -> MatMul(., v); `leak` also outputs the
 * probabilities, which must then stay unfused */
static Node *attention_graph(bool leak, bool div) {
  g = ir_graph_new();
  Value *q = input("q", 4, (int64_t[]){1, 2, 3, 8});
  Value *k = input("k", 4, (int64_t[]){1, 2, 5, 8});
  Value *v = input("v", 4, (int64_t[]){1, 2, 5, 4});
  Value *mask = input("mask", 4, (int64_t[]){1, 1, 3, 5});
  Value *kt = op("Transpose", 1, (Value *[]){k}, "kt");
  static const int64_t perm[4] = {0, 1, 3, 2};
  set_ints(kt->producer, "perm", 4, perm);
  Value *sc = op("MatMul", 2, (Value *[]){q, kt}, "scores");
  Value *c = ir_const(g, "c", DT_FLOAT, 0, NULL, (float[]){div ? 2.0f : 0.5f});
  Value *ss = op(div ? "Div" : "Mul", 2, (Value *[]){sc, c}, "scaled");
  Value *sm = op("Add", 2, (Value *[]){mask, ss}, "masked");
  Value *pr = op("Softmax", 1, (Value *[]){sm}, "probs");
  Value *y = op("MatMul", 2, (Value *[]){pr, v}, "y");
  output(y);
  if (leak) output(pr);
  return y->producer;
}

TEST(fuse_attention_block) {
  PassOptions po = {.opt_level = 2};
  for (int div = 0; div < 2; div++) {
    Node *n = attention_graph(false, div);
    CHECK_MSG(pass_run_pipeline(g, &po) == 0, "%s", ir_error(g));
    CHECK_MSG(n->op == OP_FusedAttention && n->nin == 4, "op %s nin %d", n->op_type, n->nin);
    CHECK(!strcmp(n->in[0]->name, "q") && !strcmp(n->in[1]->name, "k") && !strcmp(n->in[2]->name, "v") && !strcmp(n->in[3]->name, "mask"));
    CHECK(fabsf(ir_attr_float(n, "scale", 0) - 0.5f) < 1e-7f);
    CHECK(n->out[0]->rank == 4 && n->out[0]->dims[2].c == 3 && n->out[0]->dims[3].c == 4);
    CHECK_MSG(live_nodes() == 1, "%d live nodes", live_nodes());
    ir_graph_free(g);
  }
  Node *n = attention_graph(true, false);
  CHECK_MSG(pass_run_pipeline(g, &po) == 0, "%s", ir_error(g));
  CHECK(n->op == OP_MatMul);
  ir_graph_free(g);
}

TEST(fold_affine_into_conv_numerically) {
  /* ((conv(x) * s[k]) + t) / d - u[k]  ->  one Conv with new weights and bias */
  g = ir_graph_new();
  unsigned seed = 11;
  enum { C = 2, H = 5, W = 6, K = 3, KH = 3 };
  float xd[C * H * W], wd[K * C * KH * KH], bd[K], sd[K], ud[K];
  for (int i = 0; i < C * H * W; i++) xd[i] = frand(&seed);
  for (int i = 0; i < K * C * KH * KH; i++) wd[i] = frand(&seed);
  for (int i = 0; i < K; i++) { bd[i] = frand(&seed); sd[i] = frand(&seed); ud[i] = frand(&seed); }
  Value *x = input("x", 4, (int64_t[]){1, C, H, W});
  Value *w = ir_const(g, "w", DT_FLOAT, 4, (int64_t[]){K, C, KH, KH}, wd);
  Value *b = ir_const(g, "b", DT_FLOAT, 1, (int64_t[]){K}, bd);
  Value *sv = ir_const(g, "s", DT_FLOAT, 4, (int64_t[]){1, K, 1, 1}, sd);
  Value *tv = ir_const(g, "t", DT_FLOAT, 1, (int64_t[]){1}, (float[]){0.25f});
  Value *dv = ir_const(g, "d", DT_FLOAT, 0, NULL, (float[]){1.5f});
  Value *uv = ir_const(g, "u", DT_FLOAT, 3, (int64_t[]){K, 1, 1}, ud);
  Value *cv = op("Conv", 3, (Value *[]){x, w, b}, "conv");
  Value *m = op("Mul", 2, (Value *[]){sv, cv}, "m");
  Value *a = op("Add", 2, (Value *[]){m, tv}, "a");
  Value *dd = op("Div", 2, (Value *[]){a, dv}, "dd");
  Value *y = op("Sub", 2, (Value *[]){dd, uv}, "y");
  output(y);
  CHECK(pass_fold(g) == 0 && pass_fold_affine(g) == 0 && pass_infer(g) == 0);
  CHECK_MSG(live_nodes() == 1, "%d live nodes", live_nodes());
  CHECK(g->nodes[0]->op == OP_Conv && g->nodes[0]->out[0] == y);
  const float *nw = g->nodes[0]->in[1]->data, *nb = g->nodes[0]->in[2]->data;
  double worst = 0;
  for (int k = 0; k < K; k++)
    for (int oy = 0; oy < H - KH + 1; oy++)
      for (int ox = 0; ox < W - KH + 1; ox++) {
        double conv = conv_at(xd, wd, C, H, W, KH, KH, k, oy, ox) + bd[k];
        double ref = (conv * sd[k] + 0.25) / 1.5 - ud[k];
        double got = conv_at(xd, nw, C, H, W, KH, KH, k, oy, ox) + nb[k];
        if (fabs(got - ref) > worst) worst = fabs(got - ref);
      }
  CHECK_MSG(worst < 1e-5, "max error %g", worst);
  CHECK(((const float *)w->data)[0] == wd[0]);            /* the original weights are untouched */
  ir_graph_free(g);

  /* ConvTranspose: weights [C][K/group][kh][kw] scale along axis 1 (per output channel), also with groups */
  g = ir_graph_new();
  float twd[4 * 2 * 2 * 2], tsd[4] = {2, 3, 5, 7};
  for (int i = 0; i < 4 * 2 * 4; i++) twd[i] = frand(&seed);
  x = input("x", 4, (int64_t[]){1, 4, 3, 3});
  w = ir_const(g, "w", DT_FLOAT, 4, (int64_t[]){4, 2, 2, 2}, twd);
  cv = op("ConvTranspose", 2, (Value *[]){x, w}, "convt");
  Node *ct = cv->producer;
  ct->attrs = ir_alloc(&g->arena, 2 * sizeof(Attr));
  ct->attrs[0] = (Attr){.name = "group", .type = AT_INT, .i = 2};
  ct->attrs[1] = (Attr){.name = "strides", .type = AT_INTS, .n = 2, .ints = (int64_t[]){2, 2}};
  ct->nattr = 2;
  y = op("Mul", 2, (Value *[]){cv, ir_const(g, "s", DT_FLOAT, 3, (int64_t[]){4, 1, 1}, tsd)}, "y");
  output(y);
  CHECK(pass_fold(g) == 0 && pass_fold_affine(g) == 0 && pass_infer(g) == 0);
  CHECK(live_nodes() == 1 && g->nodes[0]->op == OP_ConvTranspose && g->nodes[0]->out[0] == y);
  nw = g->nodes[0]->in[1]->data;
  int bad = 0;
  for (int ci = 0; ci < 4; ci++)            /* group = ci / 2; output channel = group * 2 + col */
    for (int col = 0; col < 2; col++)
      for (int j = 0; j < 4; j++) {
        int i = (ci * 2 + col) * 4 + j;
        bad += nw[i] != (float)(twd[i] * (double)tsd[(ci / 2) * 2 + col]);
      }
  CHECK_MSG(bad == 0, "%d weights scaled wrong", bad);
  ir_graph_free(g);

  /* not folded: a spatially varying multiplier, c - conv, a conv output that is also a graph output */
  g = ir_graph_new();
  x = input("x", 4, (int64_t[]){1, 2, 4, 4});
  w = ir_const(g, "w", DT_FLOAT, 4, (int64_t[]){2, 2, 1, 1}, NULL);
  cv = op("Conv", 2, (Value *[]){x, w}, "conv");
  m = op("Mul", 2, (Value *[]){cv, ir_const(g, "sp", DT_FLOAT, 2, (int64_t[]){4, 4}, NULL)}, "m");
  output(m);
  Value *cv2 = op("Conv", 2, (Value *[]){x, w}, "conv2");
  output(op("Sub", 2, (Value *[]){ir_const(g, "one", DT_FLOAT, 0, NULL, (float[]){1}), cv2}, "r"));
  Value *cv3 = op("Conv", 2, (Value *[]){x, w}, "conv3");
  output(cv3);
  output(op("Mul", 2, (Value *[]){cv3, ir_const(g, "two", DT_FLOAT, 0, NULL, (float[]){2})}, "r3"));
  CHECK(pass_fold(g) == 0 && pass_fold_affine(g) == 0);
  CHECK_MSG(live_nodes() == 6, "%d live nodes", live_nodes());
  ir_graph_free(g);
}

TEST(fuse_hardswish) {
  /* x * Clip(x + 3, 0, 6) / 6 (paddle2onnx), and Clip(x + 3, 0, 6) / 6 * x */
  for (int order = 0; order < 2; order++) {
    g = ir_graph_new();
    Value *x = input("x", 2, (int64_t[]){2, 5});
    Value *three = ir_const(g, "three", DT_FLOAT, 0, NULL, (float[]){3});
    Value *zero = ir_const(g, "zero", DT_FLOAT, 0, NULL, (float[]){0}), *six = ir_const(g, "six", DT_FLOAT, 0, NULL, (float[]){6});
    Value *a = op("Add", 2, (Value *[]){x, three}, "a");
    Value *c = op("Clip", 3, (Value *[]){a, zero, six}, "c");
    Value *y;
    if (order == 0) y = op("Div", 2, (Value *[]){op("Mul", 2, (Value *[]){x, c}, "m"), six}, "y");
    else y = op("Mul", 2, (Value *[]){op("Div", 2, (Value *[]){c, six}, "d"), x}, "y");
    output(y);
    CHECK(pass_fold(g) == 0 && pass_fuse_activations(g) == 0 && pass_infer(g) == 0);
    CHECK_MSG(live_nodes() == 1, "order %d: %d live nodes", order, live_nodes());
    CHECK(g->nodes[0]->op == OP_HardSwish && g->nodes[0]->in[0] == x && g->nodes[0]->out[0] == y);
    ir_graph_free(g);
  }
  /* Clip(x + 3, 0, 5) is something else */
  g = ir_graph_new();
  Value *x = input("x", 1, (int64_t[]){4});
  Value *a = op("Add", 2, (Value *[]){x, ir_const(g, "three", DT_FLOAT, 0, NULL, (float[]){3})}, "a");
  Value *c = op("Clip", 3, (Value *[]){a, ir_const(g, "zero", DT_FLOAT, 0, NULL, (float[]){0}), ir_const(g, "five", DT_FLOAT, 0, NULL, (float[]){5})}, "c");
  Value *six = ir_const(g, "six", DT_FLOAT, 0, NULL, (float[]){6});
  output(op("Div", 2, (Value *[]){op("Mul", 2, (Value *[]){x, c}, "m"), six}, "y"));
  CHECK(pass_fold(g) == 0 && pass_fuse_activations(g) == 0);
  CHECK(live_nodes() == 4);
  ir_graph_free(g);
}

/* pack_weights: a MatMul weight shipped as bfloat16 (Cast of a BFLOAT16 initializer, folded) gets
 * bfloat16 panels; a float32 weight that is not exact in bfloat16, or --no-bf16-weights, keeps float32 */
static Node *bf16_matmul(const float *vals, bool via_cast, bool off) {
  g = ir_graph_new();
  g->no_bf16_weights = off;
  Value *x = input("x", 2, (int64_t[]){1, 3});
  Value *w;
  if (via_cast) {
    uint16_t bits[6];
    for (int i = 0; i < 6; i++) { union { float f; uint32_t u; } v = {vals[i]}; bits[i] = (uint16_t)(v.u >> 16); }
    Value *wb = ir_const(g, "w.bf16", DT_BFLOAT16, 2, (int64_t[]){3, 2}, bits);
    w = op("Cast", 1, (Value *[]){wb}, "w");
    w->producer->attrs = ir_alloc(&g->arena, sizeof(Attr));
    w->producer->attrs[0] = (Attr){.name = "to", .type = AT_INT, .i = DT_FLOAT};
    w->producer->nattr = 1;
  } else {
    w = ir_const(g, "w", DT_FLOAT, 2, (int64_t[]){3, 2}, vals);
  }
  Value *y = op("MatMul", 2, (Value *[]){x, w}, "y");
  output(y);
  CHECK(pass_fold(g) == 0 && pass_pack_weights(g) == 0 && pass_infer(g) == 0);
  return y->producer;
}

TEST(pack_weights_bf16_panels) {
  const float exact[6] = {1.5f, -2.0f, 0.25f, 3.0f, -0.0f, 1.0f / 128};
  Node *n = bf16_matmul(exact, true, false);
  CHECK(n->wpack && n->wpack->dt == DT_BFLOAT16 && ir_numel(n->wpack) == 16 * 3);
  if (n->wpack && n->wpack->dt == DT_BFLOAT16) {
    const uint16_t *pk = n->wpack->data;   /* panel 0, row q: lane r = column r (low), column 4+r (high) */
    CHECK(pk[0] == 0x3fc0 && pk[2] == 0xc000 && pk[8] == 0x3e80 && pk[10] == 0x4040 && pk[16] == 0x8000 && pk[1] == 0);
  }
  ir_graph_free(g);
  n = bf16_matmul(exact, false, true);       /* --no-bf16-weights */
  CHECK(n->wpack && n->wpack->dt == DT_FLOAT);
  ir_graph_free(g);
  const float inexact[6] = {1.5f, -2.0f, 0.25f, 3.0f, 0.1f, 1.0f};
  n = bf16_matmul(inexact, false, false);
  CHECK(n->wpack && n->wpack->dt == DT_FLOAT);
  ir_graph_free(g);
}

/* Cast folding to and from the 16-bit floats rounds to nearest even */
TEST(fold_cast_half_and_bfloat16) {
  static const float src[6] = {1.0f + 1.0f / 256, 1.0f + 3.0f / 256, 65520.0f, 1e-8f, 5.9604645e-8f, -1.0f / 3};
  static const uint16_t want_bf[6] = {0x3f80, 0x3f82, 0x4780, 0x322c, 0x3380, 0xbeab};
  static const uint16_t want_h[6] = {0x3c04, 0x3c0c, 0x7c00, 0x0000, 0x0001, 0xb555};  /* numpy float16 and torch.bfloat16 casts */
  for (int t = 0; t < 2; t++) {
    g = ir_graph_new();
    Value *c = ir_const(g, "c", DT_FLOAT, 1, (int64_t[]){6}, src);
    Value *y = op("Cast", 1, (Value *[]){c}, "y");
    y->producer->attrs = ir_alloc(&g->arena, sizeof(Attr));
    y->producer->attrs[0] = (Attr){.name = "to", .type = AT_INT, .i = t ? DT_FLOAT16 : DT_BFLOAT16};
    y->producer->nattr = 1;
    output(y);
    CHECK(pass_fold(g) == 0 && y->kind == VK_CONST && y->data);
    if (y->data)
      for (int i = 0; i < 6; i++)
        CHECK_MSG(((uint16_t *)y->data)[i] == (t ? want_h : want_bf)[i], "%s[%d] = 0x%04x", t ? "half" : "bf16", i, ((uint16_t *)y->data)[i]);
    ir_graph_free(g);
  }
}

/* fuse_act_affine: Conv + HardSwish, then Mul(s, .) and Add(., t) by scalars -> one Conv whose activation
 * is hardswish(x)*s + t; Sub(t, .) flips the sign; a per-channel Mul is left alone */
static Node *hswish_chain(const char *op1, bool const_first1, const char *op2, int64_t n1) {
  g = ir_graph_new();
  Value *x = input("x", 4, (int64_t[]){1, 2, 4, 4});
  Value *w = ir_const(g, "w", DT_FLOAT, 4, (int64_t[]){2, 2, 1, 1}, (float[]){1, 0, 0, 1});
  Value *c = op("Conv", 2, (Value *[]){x, w}, "c");
  Value *h = op("HardSwish", 1, (Value *[]){c}, "h");
  float sv[2] = {1.5f, 1.5f};
  Value *s = ir_const(g, "s", DT_FLOAT, n1 == 1 ? 1 : 4, n1 == 1 ? (int64_t[]){1} : (int64_t[]){1, 2, 1, 1}, sv);
  Value *m = op(op1, 2, const_first1 ? (Value *[]){s, h} : (Value *[]){h, s}, "m");
  Value *y = m;
  if (op2) {
    Value *t = ir_const(g, "t", DT_FLOAT, 0, NULL, (float[]){-0.25f});
    y = op(op2, 2, (Value *[]){t, m}, "y");
  }
  output(y);
  CHECK(pass_fold(g) == 0 && pass_fuse_act(g) == 0 && pass_fuse_act_affine(g) == 0 && pass_infer(g) == 0);
  (void)c;
  for (int i = 0; i < g->nnodes; i++)
    if (!g->nodes[i]->dead && g->nodes[i]->op == OP_Conv) return g->nodes[i];
  static Node none;
  CHECK(!"no Conv left");
  return &none;
}

TEST(fuse_act_affine_sub_and_order) {
  Node *n = hswish_chain("Mul", true, "Add", 1);
  CHECK(live_nodes() == 1 && n->act == RT_ACT_HARDSWISH_AFFINE && n->act_a == 1.5f && n->act_b == -0.25f);
  ir_graph_free(g);
  n = hswish_chain("Mul", false, "Sub", 1);                /* -0.25 - 1.5*h */
  CHECK(live_nodes() == 1 && n->act == RT_ACT_HARDSWISH_AFFINE && n->act_a == -1.5f && n->act_b == -0.25f);
  ir_graph_free(g);
  n = hswish_chain("Add", false, "Mul", 1);                /* (h + 1.5) * -0.25: only the Add */
  CHECK(live_nodes() == 2 && n->act == RT_ACT_HARDSWISH_AFFINE && n->act_a == 1.0f && n->act_b == 1.5f);
  ir_graph_free(g);
  n = hswish_chain("Mul", true, NULL, 2);                  /* per-channel: not a scalar */
  CHECK(live_nodes() == 2 && n->act == RT_ACT_HARDSWISH);
  ir_graph_free(g);
}

/* fold_gate_residual: y + y * sigmoid(c) with c [1,C,1,1] -> y * (sigmoid(c) + 1) */
TEST(fold_gate_residual) {
  g = ir_graph_new();
  Value *y = input("y", 4, (int64_t[]){1, 2, 3, 3}), *c = input("c", 4, (int64_t[]){1, 2, 1, 1});
  Value *gt = op("Sigmoid", 1, (Value *[]){c}, "gate");
  Value *m = op("Mul", 2, (Value *[]){gt, y}, "m");
  Value *out = op("Add", 2, (Value *[]){y, m}, "out");
  output(out);
  CHECK(pass_fold(g) == 0 && pass_fold_gate_residual(g) == 0 && pass_infer(g) == 0);
  CHECK_MSG(live_nodes() == 3, "%d live nodes", live_nodes());
  Node *mul = out->producer, *inc = mul ? mul->in[0]->producer : NULL;  /* Mul(gate + 1, y) */
  CHECK(mul && mul->op == OP_Mul && mul->in[1] == y && inc && inc->op == OP_Add && inc->in[0] == gt && inc->index < mul->index);
  if (inc && inc->in[1]->kind == VK_CONST) CHECK(((float *)inc->in[1]->data)[0] == 1.0f);
  ir_graph_free(g);
  /* the gate as large as y (not a broadcast gate) and a Mul read elsewhere: left alone */
  g = ir_graph_new();
  y = input("y", 2, (int64_t[]){2, 3});
  Value *z = input("z", 2, (int64_t[]){2, 3});
  m = op("Mul", 2, (Value *[]){y, z}, "m");
  out = op("Add", 2, (Value *[]){y, m}, "out");
  output(out);
  CHECK(pass_fold(g) == 0 && pass_fold_gate_residual(g) == 0 && live_nodes() == 2 && out->producer->op == OP_Add);
  ir_graph_free(g);
}

/* flush_denormals: a conv weight's subnormals become signed zeros; a constant also read by an Equal keeps them */
TEST(flush_denormals) {
  g = ir_graph_new();
  Value *x = input("x", 4, (int64_t[]){1, 2, 1, 1});
  float wv[4] = {1e-40f, -1e-40f, 0.5f, 1.17549435e-38f}, cv[2] = {1e-40f, 1.0f};
  Value *w = ir_const(g, "w", DT_FLOAT, 4, (int64_t[]){2, 2, 1, 1}, wv);
  Value *c = ir_const(g, "c", DT_FLOAT, 4, (int64_t[]){1, 2, 1, 1}, cv);
  Value *cw = ir_const(g, "cw", DT_FLOAT, 4, (int64_t[]){2, 2, 1, 1}, wv);
  Value *y = op("Conv", 2, (Value *[]){x, w}, "y");
  Value *z = op("Conv", 2, (Value *[]){y, cw}, "z");
  Value *e = op("Equal", 2, (Value *[]){x, c}, "e");
  Value *m = op("MatMul", 2, (Value *[]){z, c}, "m");
  output(e);
  output(m);
  CHECK(pass_fold(g) == 0 && pass_flush_denormals(g) == 0);
  const float *d = w->data, *dc = c->data;
  CHECK(d[0] == 0.0f && !signbit(d[0]) && d[1] == 0.0f && signbit(d[1]) && d[2] == 0.5f && d[3] == 1.17549435e-38f);
  CHECK(dc[0] == 1e-40f);                                  /* read by Equal too: exact */
  CHECK(((const float *)cw->data)[0] == 0.0f);
  ir_graph_free(g);
}

/* fold_channel_scale: Conv1x1(x * gate) -> Conv1x1(x, xscale = gate); not when the product is read elsewhere,
 * the conv is 3x3, or the "gate" is as large as x */
static Value *se_graph(int64_t kh, bool extra_reader, bool full_gate) {
  g = ir_graph_new();
  Value *x = input("x", 4, (int64_t[]){1, 4, 5, 5});
  Value *gt = input("gate", 4, full_gate ? (int64_t[]){1, 4, 5, 5} : (int64_t[]){1, 4, 1, 1});
  static float wv[2 * 4 * 9];
  Value *w = ir_const(g, "w", DT_FLOAT, 4, (int64_t[]){2, 4, kh, kh}, wv);
  Value *m = op("Mul", 2, (Value *[]){x, gt}, "m");
  Value *y = op("Conv", 2, (Value *[]){m, w}, "y");
  static const int64_t pads[4] = {1, 1, 1, 1};   /* set_ints keeps the pointer */
  if (kh == 3) set_ints(y->producer, "pads", 4, pads);
  output(y);
  if (extra_reader) output(op("Relu", 1, (Value *[]){m}, "r"));
  return y;
}

TEST(fold_channel_scale) {
  Value *y = se_graph(1, false, false);
  CHECK(pass_fold(g) == 0 && pass_fold_channel_scale(g) == 0 && pass_infer(g) == 0);
  Node *c = y->producer;
  CHECK(live_nodes() == 1 && c->op == OP_Conv && c->in[0] == g->inputs[0] && c->xscale == g->inputs[1]);
  CHECK(g->inputs[1]->nuses == 1);
  ir_graph_free(g);
  for (int k = 0; k < 3; k++) {
    y = k == 0 ? se_graph(3, false, false) : k == 1 ? se_graph(1, true, false) : se_graph(1, false, true);
    CHECK_MSG(pass_fold(g) == 0 && pass_fold_channel_scale(g) == 0, "case %d: %s", k, ir_error(g));
    CHECK_MSG(y->producer->xscale == NULL && y->producer->in[0]->producer && y->producer->in[0]->producer->op == OP_Mul, "case %d", k);
    ir_graph_free(g);
  }
}

int main(void) {
  RUN(fold_shape_chain);
  RUN(fuse_hardswish_affine);
  RUN(fold_symbolic_shape_chain);
  RUN(fold_arithmetic_constants);
  RUN(dce_removes_unused);
  RUN(fold_bn_into_conv_numerically);
  RUN(bn_without_conv_becomes_mul_add);
  RUN(fuse_residual_and_activation);
  RUN(fuse_layernorm_and_rmsnorm);
  RUN(fuse_gelu_and_silu);
  RUN(fold_affine_into_conv_numerically);
  RUN(fuse_hardswish);
  RUN(outputs_get_own_buffers);
  RUN(memory_plan_no_overlap);
  RUN(resident_kv_cache);
  RUN(fuse_attention_block);
  RUN(pack_weights_winograd_choice);
  RUN(pack_weights_bf16_panels);
  RUN(fold_cast_half_and_bfloat16);
  RUN(fuse_act_affine_sub_and_order);
  RUN(fold_gate_residual);
  RUN(flush_denormals);
  RUN(fold_channel_scale);
  return harness_done();
}
