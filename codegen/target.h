/* target.h — what the compiler is building for: the wasm32 module, or native code for an
 * architecture and CPU level. The Program is target-neutral in form; the Target decides where its
 * address space starts (lower), which kernel build is linked and how the output is written.
 *
 * Usage:
 *   Target t;
 *   if (cg_target_init(&t, "aarch64-linux-gnu", NULL, errbuf, sizeof errbuf)) ... errbuf says why
 */
#ifndef TARGET_H
#define TARGET_H
#include <stdbool.h>
#include <stddef.h>

typedef enum { TARGET_WASM32, TARGET_X86_64, TARGET_AARCH64 } TargetArch;

typedef struct Target {
  TargetArch arch;
  const char *triple;     /* LLVM triple of native targets ("x86_64-unknown-linux-gnu"), NULL for wasm32 */
  const char *cpu;        /* LLVM CPU name: "x86-64-v2" (default), "x86-64-v3", "x86-64-v4", a host's; "generic" on AArch64 */
  const char *features;   /* extra LLVM features ("" unless --cpu native) */
  int panel_rows;         /* rows per panel of packed conv weights = the GEMM tile's rows (RT_PANEL_ROWS_WASM 5,
                             RT_PANEL_ROWS_NATIVE 6; runtime/rt_abi.h): what the packing functions take */
  int gemm_wide;          /* the GEMM core's widest tile: 0 MRx8 of v128, 1 MRx16 of 8-float vectors (AVX2, NEON),
                             2 MRx32 of 16-float vectors (AVX-512) */
  bool init_transforms;   /* weight transforms that enlarge the weights (Winograd's G w G^T, 4x) run when the
                             module starts, from the shipped ONNX weights, instead of at compile time: what a
                             page downloads stays the model's size (wasm32); a native library maps its
                             weights from the file and keeps them precomputed */
} Target;

/* triple: NULL or "wasm32" for wasm; "x86_64-linux-gnu" / "aarch64-linux-gnu" (also with "-unknown-").
 * cpu: NULL for the portable default, "native" (host CPU; only when the arch is the host's), or a level
 * ("x86-64-v2|v3|v4", AArch64: "generic", "neoverse-n1", "apple-m1", ... any LLVM CPU name of that arch).
 * Returns 0, or -1 with a message in err. */
int cg_target_init(Target *t, const char *triple, const char *cpu, char *err, size_t errsize);
static inline bool cg_target_native(const Target *t) { return t->arch != TARGET_WASM32; }
#endif
