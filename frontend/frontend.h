/* frontend.h — reading an ONNX ModelProto into the IR.
 *
 * Usage:
 *   FeOptions o = {0};
 *   Graph *g = fe_load("model.onnx", &o);     // never NULL
 *   if (ir_failed(g)) { fprintf(stderr, "%s\n", ir_error(g)); }
 *
 * Handles initializers in every storage form (raw_data, typed repeated fields, external data
 * files relative to the model's folder; absolute paths and paths leaving the folder are
 * refused), Constant nodes (as nodes, folded later), opset imports, dim_param symbols, and If's
 * branches as detached subgraphs (subgraph.c).
 */
#ifndef FRONTEND_H
#define FRONTEND_H
#include <stdint.h>
#include "../ir/ir.h"

typedef struct {
  int ndims;                     /* --dim NAME=VALUE bindings of dim_param symbols */
  const char *dim_name[32];
  int64_t dim_value[32];
  int nmax;                      /* --max-dim NAME=BOUND: bounds of run-time symbols */
  const char *max_name[32];
  int64_t max_value[32];
  int64_t default_max;           /* bound of run-time symbols without --max-dim (0: 1024) */
} FeOptions;

Graph *fe_load(const char *path, const FeOptions *opt);
/* the same from a serialized ModelProto in memory; external data resolves in model_dir; errors call the
 * model `what` */
Graph *fe_load_bytes(const uint8_t *buf, size_t len, const char *model_dir, const char *what, const FeOptions *opt);
/* decodes a serialized TensorProto (e.g. an ONNX test-data input_0.pb) into a constant value of g */
Value *fe_load_tensor_file(Graph *g, const char *path);
#endif
