/* wasm_emit.h — serializes a Program into one self-contained .wasm through the binaryen C API.
 *
 * Usage:
 *   uint32_t base;  cg_wasm_base(g, &base);            // where the runtime module's data ends
 *   cg_lower(g, base, &prog);
 *   cg_wasm_emit(g, &prog, "model.wasm", &stats);       // writes atomically (temp file + rename)
 */
#ifndef WASM_EMIT_H
#define WASM_EMIT_H
#include "program.h"

typedef struct {
  size_t module_bytes, code_bytes;
  int kernels;
  bool write_failed;   /* the error is about writing the output file, not about the model */
} WasmStats;

int cg_wasm_base(Graph *g, uint32_t *base);
typedef struct {
  bool profile;   /* keep the kernels exported and list the calls in the section onnx2wasm.profile */
  bool relaxed;   /* the relaxed-SIMD module (f32x4.relaxed_madd in the kernels): needs an engine that has it */
} WasmOptions;
/* path "-" writes the module to stdout */
int cg_wasm_emit(Graph *g, const Program *p, const char *path, const WasmOptions *o, WasmStats *st);

/* the kernel module embedded at build time (runtime/kernels, compiled to wasm32) */
extern const unsigned char o2w_kernels_wasm[];
extern const unsigned long o2w_kernels_wasm_len;
/* the same kernels with relaxed-SIMD placeholders (runtime/build-kernels.sh --relaxed-imports) */
extern const unsigned char o2w_kernels_relaxed_wasm[];
extern const unsigned long o2w_kernels_relaxed_wasm_len;
#endif
