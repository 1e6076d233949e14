/* wasm_relax.h — the relaxed-SIMD module from one whose relaxed instructions are placeholder imports.
 *
 * Binaryen 108 (Debian 12) cannot read or write the relaxed-SIMD opcodes, so the relaxed kernel build
 * (runtime/build-kernels.sh --relaxed-imports) calls, in place of each relaxed instruction, a function imported
 * from module "o2w_relaxed" (f32x4_madd, ...). The emitter builds and optimizes the module with binaryen as
 * usual; this pass then rewrites the finished binary: every call of a placeholder becomes the instruction
 * (0xFD + its opcode), the placeholder imports are dropped, and the function indices after them are
 * renumbered in calls, ref.func, exports, the start function and element segments (the "name" section, which
 * would name the old indices, is dropped). Everything else is copied byte for byte.
 *
 * Usage:
 *   uint8_t *out; size_t n; char err[200];
 *   if (cg_wasm_relax(bin, len, &out, &n, err, sizeof err)) -> error (err says what)
 *   ... free(out);
 */
#ifndef WASM_RELAX_H
#define WASM_RELAX_H
#include <stddef.h>
#include <stdint.h>

#define CG_RELAXED_IMPORT_MODULE "o2w_relaxed"

/* Returns 0 and a malloc'ed module in *out, or -1 with a message in err. A module without placeholders is
 * returned unchanged (a copy). */
int cg_wasm_relax(const uint8_t *in, size_t n, uint8_t **out, size_t *outn, char *err, size_t errsize);
#endif
