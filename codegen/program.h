/* program.h — the target-neutral Program: a flat list of kernel calls over one memory layout.
 *
 * Lowering (codegen/lower.c) fills a Program from a planned Graph; emitters (codegen/wasm_emit.c,
 * later an LLVM one) only serialize it. Layout of linear memory, all addresses absolute:
 *   [0, base)                      what the runtime module itself uses (stack, static data)
 *   [weights_addr, +weights_size)  constant tensors shipped in the output
 *   [.., arena_addr)               constants the module computes when it starts (`once` calls)
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
  bool once;                /* run once, before the first run's other calls (constants computed when the
                               module starts: ir_init_const); these come first in Program.calls */
} CgCall;

typedef struct {
  const char *name;
  DType dt;
  int rank;
  int64_t shape[IR_MAX_RANK];          /* at the bounds of run-time symbols */
  const char *dim_names[IR_MAX_RANK];  /* dim_param symbol bound at compile time, or NULL */
  const char *dim_expr[IR_MAX_RANK];   /* run-time dim as an expression ("past + seq"), or NULL */
  Dim dims[IR_MAX_RANK];               /* the same dims as polynomials over symbols (native descriptor) */
  uint32_t addr, bytes;                /* bytes reserved (at the bounds) */
  int64_t cap; int cap_axis;           /* cap > 0: storage has cap slots along cap_axis (a resident cache) */
  const char *resident_in;             /* input stored in this output's storage (docs/abi.md), or NULL */
} CgTensor;

/* shipped constant bytes at an offset in the weights region */
typedef struct { size_t off, n; const uint8_t *src; } CgPiece;

/* a parameter-block field computed at the start of run from the run-time symbols */
typedef struct {
  uint32_t param_off;       /* byte offset of the int32 field within Program.params */
  Dim value;                /* polynomial over symbols (Graph.syms indices) */
} CgPatch;

typedef struct {
  CgCall *calls; int ncalls, capcalls;
  uint8_t *params; size_t params_size, params_cap;
  uint32_t base, weights_addr, arena_addr, params_addr, total;
  /* the shipped weights, [weights_addr, +weights_size): these pieces, sorted by offset, zeros between
   * them. A piece points at its constant's bytes in the Graph (the arena, or a file mapping), so the
   * Graph must outlive the Program; emitters stream them (cg_out_weights) rather than copy them. */
  CgPiece *pieces; int npieces;
  size_t weights_size;
  size_t arena_size;
  CgTensor *inputs; int ninputs;
  CgTensor *outputs; int noutputs;
  CgPatch *patches; int npatches, cappatches;
  bool used[K_COUNT];
  int opset;
  const char **syms; int64_t *sym_value; int64_t *sym_max; int nsyms;
  SymDef *const *sym_def;   /* per symbol: NULL, or a derived symbol the module computes (ir.h SymDef) */
  const DimCheck *checks; int nchecks;   /* dims that must be equal at run time (ir.h DimCheck) */
  int rt_index[256];        /* symbol -> slot in the dims table, -1 if bound at compile time */
  int nrt;                  /* run-time symbols; their int32 values live at params_addr (the dims table) */
} Program;

void cg_program_free(Program *p);
uint8_t *cg_weights_blob(const Program *p);    /* the weights region as one malloc'ed buffer (NULL: out of memory) */
char *cg_signature_json(const Program *p);     /* the onnx2wasm.signature payload (malloc'ed) */
void cg_program_dump(const Program *p, FILE *f);
#endif
