/* llvm_emit.h — serializes a Program into native code (a relocatable object or a shared library)
 * through the LLVM C API; codegen/c_header.c writes the matching C header.
 *
 * Usage:
 *   Target t;  cg_target_init(&t, "x86_64-linux-gnu", "x86-64-v3", err, sizeof err);
 *   cg_lower(g, CG_NATIVE_BASE, &prog);
 *   NativeOptions o = {.target = &t, .prefix = "model", .shared = true};
 *   cg_native_emit(g, &prog, "model.so", &o, &stats);     // no partial output on failure
 *   cg_c_header(g, &prog, "model.h", "model");
 */
#ifndef LLVM_EMIT_H
#define LLVM_EMIT_H
#include "program.h"
#include "target.h"

/* first address of a native Program: weights start here (0 stays "absent" in parameter blocks) */
#define CG_NATIVE_BASE 64u

typedef struct {
  const Target *target;
  const char *prefix;   /* C identifier the API's names start with */
  bool shared;          /* a shared library (linked by ld.lld, O2W_LD overrides) instead of an object */
} NativeOptions;
typedef struct { size_t object_bytes, file_bytes; int kernels; bool write_failed; /* the error is about the output */ } NativeStats;

int cg_native_emit(Graph *g, const Program *p, const char *path, const NativeOptions *o, NativeStats *st);
/* the C header of a native model (prefix as in NativeOptions) */
int cg_c_header(Graph *g, const Program *p, const char *path, const char *prefix);

/* the API prefix from --name (must be a C identifier) or from the output path (its file name without the
 * extension, other characters as '_'); -1 if none can be made */
int cg_c_prefix(const char *s, char *out, size_t n, bool from_path);

/* the kernels and C API as LLVM bitcode, embedded at build time (runtime/build-kernels-native.sh) */
extern const unsigned char o2w_kernels_bc_x86_64[], o2w_kernels_bc_aarch64[];
extern const unsigned long o2w_kernels_bc_x86_64_len, o2w_kernels_bc_aarch64_len;
#endif
