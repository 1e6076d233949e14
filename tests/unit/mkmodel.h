/* mkmodel.h — builds small ONNX models in memory for tests (protobuf-c structs) and writes them to files.
 *
 * Usage:
 *   MkModel *m = mk_new(13);
 *   mk_input(m, "x", DT_FLOAT, 2, (const char *[]){"N", NULL}, (int64_t[]){0, 4});
 *   mk_init_f32(m, "w", 1, (int64_t[]){4}, (float[]){1, 2, 3, 4});
 *   MkNode *n = mk_node(m, "Add", "add0", 2, (const char *[]){"x", "w"}, 1, (const char *[]){"y"});
 *   mk_attr_int(n, "axis", 1);
 *   mk_output(m, "y", DT_FLOAT);
 *   mk_write(m, path);  mk_free(m);
 */
#ifndef MKMODEL_H
#define MKMODEL_H
#include <stdint.h>
#include "onnx.pb-c.h"

typedef struct MkModel MkModel;
typedef Onnx__NodeProto MkNode;

MkModel *mk_new(int opset);
void mk_input(MkModel *m, const char *name, int dtype, int rank, const char *const *dim_params, const int64_t *dims);
void mk_output(MkModel *m, const char *name, int dtype);
Onnx__TensorProto *mk_tensor(const char *name, int dtype, int rank, const int64_t *dims);  /* no data yet */
void mk_add_init(MkModel *m, Onnx__TensorProto *t);
void mk_init_f32(MkModel *m, const char *name, int rank, const int64_t *dims, const float *data); /* raw_data */
void mk_init_i64(MkModel *m, const char *name, int rank, const int64_t *dims, const int64_t *data); /* raw_data */
MkNode *mk_node(MkModel *m, const char *op, const char *name, int nin, const char *const *in, int nout, const char *const *out);
void mk_attr_int(MkNode *n, const char *name, int64_t v);
void mk_attr_float(MkNode *n, const char *name, float v);
void mk_attr_ints(MkNode *n, const char *name, int cnt, const int64_t *v);
void mk_attr_str(MkNode *n, const char *name, const char *s);
void mk_attr_tensor(MkNode *n, const char *name, Onnx__TensorProto *t);
/* a GRAPH attribute: sub's graph (built like a model: mk_init_*, mk_node, mk_output; its opset is ignored) */
void mk_attr_graph(MkNode *n, const char *name, MkModel *sub);
int mk_write(MkModel *m, const char *path);
void mk_free(MkModel *m);
#endif
