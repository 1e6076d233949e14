/* ops.c — the op table, built from ops.def, and lookup by op_type. */
#include "ops.h"

#include <string.h>

#define none_eval NULL
#define none_lower NULL
#define none_scratch NULL
const OpInfo ops_table[OP_COUNT] = {
  [OP_UNKNOWN] = {"<unknown>", 0, 0, 0, 0, NULL, NULL, NULL, NULL, 0},
#define OP(id, nmin, nmax, omin, omax, infer, eval, lower, scratch, flags) \
  [OP_##id] = {#id, nmin, nmax, omin, omax, infer, eval, lower, scratch, flags},
#include "ops.def"
#undef OP
};

int ops_lookup(const char *op_type, const char *domain) {
  unsigned dom;   /* the domain's flag; 0: the default domain */
  if (!domain || !*domain || !strcmp(domain, "ai.onnx")) dom = 0;
  else if (!strcmp(domain, "com.microsoft")) dom = OPF_MS;
  else if (!strcmp(domain, "ai.onnx.preview.training")) dom = OPF_TRAINING;
  else return OP_UNKNOWN;
  for (int i = 1; i < OP_COUNT; i++)
    if (!strcmp(ops_table[i].name, op_type) && !(ops_table[i].flags & OPF_INTERNAL) && (ops_table[i].flags & (OPF_MS | OPF_TRAINING)) == dom)
      return i;
  return OP_UNKNOWN;
}
