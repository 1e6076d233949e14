/* mkmodel.c — in-memory ONNX model builder for tests (see mkmodel.h). Memory is leaked on purpose: tests are short. */
#define _POSIX_C_SOURCE 200809L
#include "mkmodel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct MkModel { Onnx__ModelProto model; Onnx__GraphProto graph; Onnx__OperatorSetIdProto opset; Onnx__OperatorSetIdProto *opsets[1]; };

#define GROW(arr, n) ((arr) = realloc((arr), ((n) + 1) * sizeof *(arr)))

MkModel *mk_new(int opset) {
  MkModel *m = calloc(1, sizeof *m);
  onnx__model_proto__init(&m->model);
  onnx__graph_proto__init(&m->graph);
  onnx__operator_set_id_proto__init(&m->opset);
  m->opset.domain = strdup("");
  m->opset.has_version = 1;
  m->opset.version = opset;
  m->opsets[0] = &m->opset;
  m->model.opset_import = m->opsets;
  m->model.n_opset_import = 1;
  m->model.has_ir_version = 1;
  m->model.ir_version = 8;
  m->model.graph = &m->graph;
  m->graph.name = strdup("test");
  return m;
}

static Onnx__ValueInfoProto *value_info(const char *name, int dtype, int rank, const char *const *dp, const int64_t *dims) {
  Onnx__ValueInfoProto *vi = calloc(1, sizeof *vi);
  onnx__value_info_proto__init(vi);
  vi->name = strdup(name);
  Onnx__TypeProto *tp = calloc(1, sizeof *tp);
  onnx__type_proto__init(tp);
  Onnx__TypeProto__Tensor *tt = calloc(1, sizeof *tt);
  onnx__type_proto__tensor__init(tt);
  tt->has_elem_type = 1;
  tt->elem_type = dtype;
  if (rank >= 0) {
    Onnx__TensorShapeProto *sh = calloc(1, sizeof *sh);
    onnx__tensor_shape_proto__init(sh);
    sh->n_dim = (size_t)rank;
    sh->dim = calloc((size_t)rank + 1, sizeof *sh->dim);
    for (int i = 0; i < rank; i++) {
      Onnx__TensorShapeProto__Dimension *d = calloc(1, sizeof *d);
      onnx__tensor_shape_proto__dimension__init(d);
      if (dp && dp[i]) { d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM; d->dim_param = strdup(dp[i]); }
      else { d->value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE; d->dim_value = dims[i]; }
      sh->dim[i] = d;
    }
    tt->shape = sh;
  }
  tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
  tp->tensor_type = tt;
  vi->type = tp;
  return vi;
}

void mk_input(MkModel *m, const char *name, int dtype, int rank, const char *const *dp, const int64_t *dims) {
  GROW(m->graph.input, m->graph.n_input);
  m->graph.input[m->graph.n_input++] = value_info(name, dtype, rank, dp, dims);
}

void mk_output(MkModel *m, const char *name, int dtype) {
  GROW(m->graph.output, m->graph.n_output);
  m->graph.output[m->graph.n_output++] = value_info(name, dtype, -1, NULL, NULL);
}

Onnx__TensorProto *mk_tensor(const char *name, int dtype, int rank, const int64_t *dims) {
  Onnx__TensorProto *t = calloc(1, sizeof *t);
  onnx__tensor_proto__init(t);
  t->name = strdup(name);
  t->has_data_type = 1;
  t->data_type = dtype;
  t->n_dims = (size_t)rank;
  t->dims = calloc((size_t)rank + 1, sizeof(int64_t));
  if (rank) memcpy(t->dims, dims, (size_t)rank * sizeof(int64_t));
  return t;
}

void mk_add_init(MkModel *m, Onnx__TensorProto *t) {
  GROW(m->graph.initializer, m->graph.n_initializer);
  m->graph.initializer[m->graph.n_initializer++] = t;
}

static int64_t numel(int rank, const int64_t *dims) { int64_t n = 1; for (int i = 0; i < rank; i++) n *= dims[i]; return n; }

void mk_init_f32(MkModel *m, const char *name, int rank, const int64_t *dims, const float *data) {
  Onnx__TensorProto *t = mk_tensor(name, 1, rank, dims);
  size_t nb = (size_t)numel(rank, dims) * 4;
  t->has_raw_data = 1;
  t->raw_data.len = nb;
  t->raw_data.data = malloc(nb + 1);
  memcpy(t->raw_data.data, data, nb);
  mk_add_init(m, t);
}

void mk_init_i64(MkModel *m, const char *name, int rank, const int64_t *dims, const int64_t *data) {
  Onnx__TensorProto *t = mk_tensor(name, 7, rank, dims);
  size_t nb = (size_t)numel(rank, dims) * 8;
  t->has_raw_data = 1;
  t->raw_data.len = nb;
  t->raw_data.data = malloc(nb + 1);
  memcpy(t->raw_data.data, data, nb);
  mk_add_init(m, t);
}

MkNode *mk_node(MkModel *m, const char *op, const char *name, int nin, const char *const *in, int nout, const char *const *out) {
  MkNode *n = calloc(1, sizeof *n);
  onnx__node_proto__init(n);
  n->op_type = strdup(op);
  n->name = strdup(name);
  n->n_input = (size_t)nin;
  n->input = calloc((size_t)nin + 1, sizeof(char *));
  for (int i = 0; i < nin; i++) n->input[i] = strdup(in[i]);
  n->n_output = (size_t)nout;
  n->output = calloc((size_t)nout + 1, sizeof(char *));
  for (int i = 0; i < nout; i++) n->output[i] = strdup(out[i]);
  GROW(m->graph.node, m->graph.n_node);
  m->graph.node[m->graph.n_node++] = n;
  return n;
}

static Onnx__AttributeProto *attr(MkNode *n, const char *name, Onnx__AttributeProto__AttributeType type) {
  Onnx__AttributeProto *a = calloc(1, sizeof *a);
  onnx__attribute_proto__init(a);
  a->name = strdup(name);
  a->has_type = 1;
  a->type = type;
  GROW(n->attribute, n->n_attribute);
  n->attribute[n->n_attribute++] = a;
  return a;
}

void mk_attr_int(MkNode *n, const char *name, int64_t v) { Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT); a->has_i = 1; a->i = v; }
void mk_attr_float(MkNode *n, const char *name, float v) { Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT); a->has_f = 1; a->f = v; }
void mk_attr_ints(MkNode *n, const char *name, int cnt, const int64_t *v) {
  Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS);
  a->n_ints = (size_t)cnt;
  a->ints = calloc((size_t)cnt + 1, sizeof(int64_t));
  memcpy(a->ints, v, (size_t)cnt * sizeof(int64_t));
}
void mk_attr_str(MkNode *n, const char *name, const char *s) {
  Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING);
  a->has_s = 1;
  a->s.len = strlen(s);
  a->s.data = (uint8_t *)strdup(s);
}
void mk_attr_tensor(MkNode *n, const char *name, Onnx__TensorProto *t) { Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR); a->t = t; }

void mk_attr_graph(MkNode *n, const char *name, MkModel *sub) { Onnx__AttributeProto *a = attr(n, name, ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH); a->g = &sub->graph; }

int mk_write(MkModel *m, const char *path) {
  size_t len = onnx__model_proto__get_packed_size(&m->model);
  uint8_t *buf = malloc(len + 1);
  onnx__model_proto__pack(&m->model, buf);
  FILE *f = fopen(path, "wb");
  if (!f) { free(buf); return -1; }
  size_t w = fwrite(buf, 1, len, f);
  fclose(f);
  free(buf);
  return w == len ? 0 : -1;
}

void mk_free(MkModel *m) { free(m); }
