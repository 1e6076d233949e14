/* program.h — the target-neutral Program: a flat list of kernel calls over one memory layout.
 *
 * Lowering (codegen/lower.c) fills a Program from a planned Graph; emitters (codegen/wasm_emit.c,
 * later an LLVM one) only serialize it. Layout of linear memory, all addresses absolute:
 *   [0, base)                      what the runtime module itself uses (stack, static data)
 *   [weights_addr, +weights_size)  constant tensors
 *   [arena_addr, +arena_size)      inputs, outputs, intermediates, scratch (static plan)
 *   [params_addr, +params_size)    the kernels' parameter blocks (runtime/rt_abi.h)
 */
#ifndef PROGRAM_H
#define PROGRAM_H
#include <stddef.h>
#include <stdint.h>
#include "../ir/ir.h"

enum {
#define K(id, params) K_##id,
#include "../runtime/kernels.def"
#undef K
  K_COUNT
};
extern const char *const cg_kernel_names[K_COUNT];   /* export names, "rt_<id>" */

typedef struct {
  int kernel;               /* K_* */
  uint32_t param_off;       /* offset of the block within Program.params */
  uint32_t param_size;
  const char *node;         /* node it came from (for listings and errors) */
} CgCall;

typedef struct {
  const char *name;
  DType dt;
  int rank;
  int64_t shape[IR_MAX_RANK];
  const char *dim_names[IR_MAX_RANK];  /* dim_param symbol or NULL */
  uint32_t addr, bytes;
} CgTensor;

typedef struct {
  CgCall *calls; int ncalls, capcalls;
  uint8_t *params; size_t params_size, params_cap;
  uint32_t base, weights_addr, arena_addr, params_addr, total;
  uint8_t *weights; size_t weights_size;    /* weights blob (malloc'ed) */
  size_t arena_size;
  CgTensor *inputs; int ninputs;
  CgTensor *outputs; int noutputs;
  bool used[K_COUNT];
  int opset;
  const char **syms; int64_t *sym_value; int nsyms;
} Program;

void cg_program_free(Program *p);
char *cg_signature_json(const Program *p);     /* the onnx2wasm.signature payload (malloc'ed) */
void cg_program_dump(const Program *p, FILE *f);
#endif
