/* target.c — parsing --target / --cpu into a Target (codegen/target.h). */
#include "target.h"

#include "llvm_api.h"
#include "../runtime/rt_abi.h"
#include <stdio.h>
#include <string.h>

/* CPU names accepted besides "native": the portable levels and common server/desktop/phone cores
 * (LLVM accepts any name with a warning and then ignores it; a typo must be an error here) */
static const char *const x86_cpus[] = {"x86-64", "x86-64-v2", "x86-64-v3", "x86-64-v4", "haswell", "broadwell",
                                       "skylake", "skylake-avx512", "cascadelake", "icelake-server", "sapphirerapids",
                                       "znver2", "znver3", "znver4", NULL};
static const char *const arm_cpus[] = {"generic", "cortex-a53", "cortex-a55", "cortex-a72", "cortex-a76", "cortex-x1",
                                       "neoverse-n1", "neoverse-n2", "neoverse-v1", "neoverse-v2", "apple-m1",
                                       "apple-m2", NULL};

static bool in_list(const char *const *l, const char *s) {
  for (; *l; l++)
    if (!strcmp(*l, s)) return true;
  return false;
}

static void list(char *err, size_t n, const char *const *l) {
  size_t k = strlen(err);
  for (; *l && k + 2 < n; l++) k += (size_t)snprintf(err + k, n - k, "%s%s", *l, l[1] ? ", " : "");
}

int cg_target_init(Target *t, const char *triple, const char *cpu, char *err, size_t errsize) {
  memset(t, 0, sizeof *t);
  t->features = "";
  if (!triple || !strcmp(triple, "wasm32") || !strcmp(triple, "wasm32-unknown-unknown")) {
    t->arch = TARGET_WASM32;
    t->panel_rows = RT_PANEL_ROWS_WASM;
    t->init_transforms = true;
    if (cpu) { snprintf(err, errsize, "--cpu applies to native targets (--target x86_64-linux-gnu or aarch64-linux-gnu)"); return -1; }
    return 0;
  }
  if (!strcmp(triple, "x86_64-linux-gnu") || !strcmp(triple, "x86_64-unknown-linux-gnu") || !strcmp(triple, "x86_64-pc-linux-gnu")) {
    t->arch = TARGET_X86_64;
    t->triple = "x86_64-unknown-linux-gnu";
  } else if (!strcmp(triple, "aarch64-linux-gnu") || !strcmp(triple, "aarch64-unknown-linux-gnu")) {
    t->arch = TARGET_AARCH64;
    t->triple = "aarch64-unknown-linux-gnu";
  } else {
    snprintf(err, errsize, "unknown target '%s' (known: wasm32, x86_64-linux-gnu, aarch64-linux-gnu)", triple);
    return -1;
  }
  const char *const *known = t->arch == TARGET_X86_64 ? x86_cpus : arm_cpus;
  if (!cpu) {
    /* portable defaults: x86-64-v2 (SSE4.2, every x86-64 CPU since 2009), Armv8-A with NEON */
    t->cpu = t->arch == TARGET_X86_64 ? "x86-64-v2" : "generic";
  } else if (!strcmp(cpu, "native")) {
#if defined(__x86_64__)
    bool host = t->arch == TARGET_X86_64;
#elif defined(__aarch64__)
    bool host = t->arch == TARGET_AARCH64;
#else
    bool host = false;
#endif
    if (!host) { snprintf(err, errsize, "--cpu native needs the target to be this machine's architecture"); return -1; }
    if (cg_llvm_load(err, errsize)) return -1;
    t->cpu = L(LLVMGetHostCPUName)();          /* kept for the compiler's lifetime */
    t->features = L(LLVMGetHostCPUFeatures)();
  } else if (in_list(known, cpu)) {
    t->cpu = cpu;
  } else {
    snprintf(err, errsize, "unknown --cpu '%s' for %s (known: native, ", cpu, triple);
    list(err, errsize, known);
    size_t k = strlen(err);
    if (k + 2 < errsize) snprintf(err + k, errsize - k, ")");
    return -1;
  }
  /* 8-float vectors stay in registers with AVX2 (16 ymm) and NEON (32 q registers as pairs), 16-float ones
   * with AVX-512 (32 zmm) */
  static const char *const avx512_cpus[] = {"x86-64-v4", "skylake-avx512", "cascadelake", "icelake-server",
                                            "sapphirerapids", "znver4", NULL};
  bool native = cpu && !strcmp(cpu, "native");
  t->panel_rows = RT_PANEL_ROWS_NATIVE;
  if (t->arch == TARGET_AARCH64) t->gemm_wide = 1;
  else if (native) t->gemm_wide = strstr(t->features, "+avx512f") ? 2 : strstr(t->features, "+avx2") ? 1 : 0;
  else t->gemm_wide = in_list(avx512_cpus, t->cpu) ? 2 : strcmp(t->cpu, "x86-64") && strcmp(t->cpu, "x86-64-v2") ? 1 : 0;
  return 0;
}
