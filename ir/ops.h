/* ops.h — the op registry: one row per ONNX op in ops.def, hooks kept side by side per op family in ir/ops/.
 *
 * Adding an op: add a row to ops.def naming its hooks, write the hooks in the family file
 * (ir/ops/<family>.c), and if it needs a new kernel, a row in runtime/kernels.def.
 *   infer : checks inputs and attributes, sets output dtypes and shapes (required)
 *   eval  : reference evaluation when every input is constant (constant folding, test oracle)
 *   lower : emits kernel calls (codegen/lower.h); NULL = not supported at run time
 *   scratch: bytes of temporary arena space the lowered kernel needs (NULL = none)
 */
#ifndef OPS_H
#define OPS_H
#include <stdint.h>

struct Graph;
struct Node;
struct LowerCtx;
struct Value;
typedef int (*OpInfer)(struct Graph *, struct Node *);
typedef int (*OpEval)(struct Graph *, struct Node *);
typedef int (*OpLower)(struct LowerCtx *, struct Node *);
typedef int64_t (*OpScratch)(struct Graph *, const struct Node *);

enum {
  OPF_VIEW = 1,          /* output 0 has input 0's bytes (Reshape, Flatten, Identity, ...) */
  OPF_UNARY_ACT = 2,     /* pure elementwise activation that can fuse into an epilogue */
  OPF_INTERNAL = 4,      /* made by passes only: a model's node of that name is an unknown op */
  OPF_MS = 8,            /* of the com.microsoft domain (onnxruntime's contrib ops), not the default one */
  OPF_TRAINING = 16,     /* of the ai.onnx.preview.training domain (optimizer steps), not the default one */
};

typedef struct {
  const char *name;      /* ONNX op_type (default domain) */
  int min_in, max_in;    /* input count bounds (optional inputs counted) */
  int min_out, max_out;
  OpInfer infer;
  OpEval eval;
  OpLower lower;
  OpScratch scratch;
  unsigned flags;
} OpInfo;

enum {
  OP_UNKNOWN = 0,
#define OP(id, nmin, nmax, omin, omax, infer, eval, lower, scratch, flags) OP_##id,
#include "ops.def"
#undef OP
  OP_COUNT
};

extern const OpInfo ops_table[OP_COUNT];
/* Conv n as Winograd F(m x m, 3x3): the tile size m (2 or 4) to use, 0 for the direct kernel (ir/ops/conv.c) */
int op_conv_winograd(struct Graph *g, const struct Node *n);
/* ConvInteger / QLinearConv n: the int16 format its constant weights are prepacked in (RtWFormat RT_WF_I16_ROWS or
 * RT_WF_I16_WINO, runtime/rt_abi.h; Node.wfmt), 0 to widen them at every call, -1 on error (ir/ops/qlinear.c); *w
 * and *w_zp: its weight and weight zero point inputs */
int op_qconv_prepack(struct Graph *g, const struct Node *n, struct Value **w, struct Value **w_zp);
/* the input slot whose value Node.wpack replaces at run time: the weights (QLinearConv's are its 4th input) */
int op_weight_slot(const struct Node *n);
int ops_lookup(const char *op_type, const char *domain);  /* OP_UNKNOWN if not registered (or internal) */

/* hook declarations, generated from the same rows (none_* are declared but never defined) */
#define OP(id, nmin, nmax, omin, omax, infer, eval, lower, scratch, flags) \
  int infer(struct Graph *, struct Node *); int eval(struct Graph *, struct Node *); \
  int lower(struct LowerCtx *, struct Node *); int64_t scratch(struct Graph *, const struct Node *);
#include "ops.def"
#undef OP
#endif
