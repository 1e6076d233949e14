/* mutator.c — the structure-aware half of the fuzzer: a model is unpacked with protobuf-c, one field
 * that the compiler's arithmetic and checks depend on is changed, and it is packed again. What changes:
 * a tensor's or a graph input's dims (0, -1, 2^31, 2^62, INT64_MAX, INT64_MIN, small numbers), dtypes, an
 * attribute's int/ints/float, a node's op type or one of its input names (rewiring the graph, making
 * cycles and dangling references), the order of the nodes, and external-data entries (location, offset,
 * length, a tensor switched to external data). One time in four, or when the input does not unpack, the
 * bytes are mutated as libFuzzer does (flips, truncation, insertion). Memory: protobuf-c's default
 * allocator is malloc/free, so replaced strings and arrays are malloc'ed here and freed with the message. */
#include "onnx.pb-c.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static uint64_t rng;
static uint64_t next(void) { rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17; return rng; }
static size_t pick(size_t n) { return n ? (size_t)(next() % n) : 0; }

static int64_t interesting(void) {
  static const int64_t v[] = {0, 1, 2, 3, -1, -2, 7, 64, 4096, 65535, 1ll << 31, (1ll << 31) - 1, 1ll << 32,
                              1ll << 62, INT64_MAX, INT64_MIN, INT32_MIN, 1ll << 29};
  return next() % 3 ? v[pick(sizeof v / sizeof *v)] : (int64_t)pick(17) - 4;
}

static char *dup(const char *s) {
  size_t n = strlen(s) + 1;
  char *d = malloc(n);
  if (d) memcpy(d, s, n);
  return d;
}

static void set_string(char **slot, const char *s) {
  char *d = dup(s);
  if (!d) return;
  free(*slot);
  *slot = d;
}

static Onnx__StringStringEntryProto *entry(const char *k, const char *v) {
  Onnx__StringStringEntryProto *e = malloc(sizeof *e);
  if (!e) return NULL;
  onnx__string_string_entry_proto__init(e);
  e->key = dup(k);
  e->value = dup(v);
  return e;
}

static void mutate_tensor(Onnx__TensorProto *t) {
  switch (pick(5)) {
  case 0:
    if (t->n_dims) t->dims[pick(t->n_dims)] = interesting();
    break;
  case 1:
    t->has_data_type = 1;
    t->data_type = (int32_t)pick(18);
    break;
  case 2: {   /* external data: a new or changed entry */
    static const char *const locs[] = {"w.bin", "dir", "missing.bin", "../w.bin", "/etc/passwd", "", "w.bin\n"};
    char num[32];
    Onnx__StringStringEntryProto **x = realloc(t->external_data, (t->n_external_data + 1) * sizeof *x);
    if (!x) return;
    t->external_data = x;
    int which = (int)pick(3);
    if (which == 0) x[t->n_external_data] = entry("location", locs[pick(sizeof locs / sizeof *locs)]);
    else {
      snprintf(num, sizeof num, "%lld", (long long)(next() % 2 ? (int64_t)pick(300) : interesting()));
      x[t->n_external_data] = entry(which == 1 ? "offset" : "length", num);
    }
    if (x[t->n_external_data]) t->n_external_data++;
    t->has_data_location = 1;
    t->data_location = ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    break;
  }
  case 3:
    t->has_data_location = 1;
    t->data_location = t->data_location ? ONNX__TENSOR_PROTO__DATA_LOCATION__DEFAULT : ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
    break;
  default:
    if (t->has_raw_data && t->raw_data.len) t->raw_data.len = pick(t->raw_data.len);   /* fewer bytes than claimed */
    break;
  }
}

static void mutate_value_info(Onnx__ValueInfoProto *vi) {
  if (!vi->type || vi->type->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !vi->type->tensor_type) return;
  Onnx__TypeProto__Tensor *tt = vi->type->tensor_type;
  if (next() % 4 == 0) { tt->has_elem_type = 1; tt->elem_type = (int32_t)pick(18); return; }
  if (!tt->shape || !tt->shape->n_dim) return;
  Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[pick(tt->shape->n_dim)];
  if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM) free(d->dim_param);
  if (next() % 4 == 0) {
    d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    d->dim_param = dup(next() % 2 ? "n" : "seq");
    if (!d->dim_param) d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE__NOT_SET;
  } else {
    d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    d->dim_value = interesting();
  }
}

static void mutate_attribute(Onnx__AttributeProto *a) {
  if (a->t && next() % 2) { mutate_tensor(a->t); return; }
  if (a->n_ints) a->ints[pick(a->n_ints)] = interesting();
  else if (a->has_i) a->i = interesting();
  else if (a->has_f) { static const float f[] = {0.0f, -1.0f, 1e30f, -1e-30f, 1.0f / 0.0f, 0.0f / 0.0f}; a->f = f[pick(6)]; }
}

static void mutate_graph(Onnx__GraphProto *g) {
  switch (pick(7)) {
  case 0: if (g->n_initializer) mutate_tensor(g->initializer[pick(g->n_initializer)]); break;
  case 1: if (g->n_input) mutate_value_info(g->input[pick(g->n_input)]); break;
  case 2: if (g->n_output) mutate_value_info(g->output[pick(g->n_output)]); break;
  case 3: {   /* an attribute */
    if (!g->n_node) break;
    Onnx__NodeProto *n = g->node[pick(g->n_node)];
    if (n->n_attribute) mutate_attribute(n->attribute[pick(n->n_attribute)]);
    break;
  }
  case 4: {   /* rewire: one input takes the name of another value (an output, an initializer, "") */
    if (!g->n_node) break;
    Onnx__NodeProto *n = g->node[pick(g->n_node)];
    if (!n->n_input) break;
    Onnx__NodeProto *m = g->node[pick(g->n_node)];
    const char *name = m->n_output ? m->output[pick(m->n_output)] : "";
    if (next() % 3 == 0 && g->n_initializer) name = g->initializer[pick(g->n_initializer)]->name;
    if (next() % 8 == 0) name = "";
    if (name) set_string(&n->input[pick(n->n_input)], name);
    break;
  }
  case 5: {   /* another op type for a node */
    static const char *const ops[] = {"Add", "MatMul", "Conv", "Reshape", "Slice", "Tile", "Range", "Gather", "Concat",
                                      "Resize", "MaxPool", "Expand", "ConstantOfShape", "Transpose", "Softmax", "If",
                                      "Loop", "Split", "Pad", "TopK", "Cast", "QLinearConv", "LSTM", "Einsum"};
    if (g->n_node) set_string(&g->node[pick(g->n_node)]->op_type, ops[pick(sizeof ops / sizeof *ops)]);
    break;
  }
  default:    /* swap two nodes: the graph's listed order changes */
    if (g->n_node > 1) {
      size_t i = pick(g->n_node), j = pick(g->n_node);
      Onnx__NodeProto *t = g->node[i]; g->node[i] = g->node[j]; g->node[j] = t;
    }
  }
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed) {
  rng = (uint64_t)seed * 0x9E3779B97F4A7C15ull + 1;
  if (next() % 4 == 0) return LLVMFuzzerMutate(data, size, max_size);
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, size, data);
  if (!m || !m->graph) {
    if (m) onnx__model_proto__free_unpacked(m, NULL);
    return LLVMFuzzerMutate(data, size, max_size);
  }
  int rounds = 1 + (int)pick(3);
  for (int r = 0; r < rounds; r++) mutate_graph(m->graph);
  size_t n = onnx__model_proto__get_packed_size(m);
  if (n <= max_size) onnx__model_proto__pack(m, data);
  else n = LLVMFuzzerMutate(data, size, max_size);
  onnx__model_proto__free_unpacked(m, NULL);
  return n;
}
