/* llvm_api.c — opens libLLVM at run time (see llvm_api.h for why). */
#define _GNU_SOURCE
#include "llvm_api.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>

#ifndef O2W_LIBLLVM_PATH
#define O2W_LIBLLVM_PATH "libLLVM-19.so"
#endif

/* libLLVM must resolve its own symbols first (RTLD_DEEPBIND): binaryen carries parts of LLVM under the
 * same names. The sanitizer runtimes refuse RTLD_DEEPBIND, so a sanitizer build has no native output. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define O2W_NO_NATIVE 1
#endif
#endif

#define X(f) __typeof__(f) *cg_llvm_##f;
CG_LLVM_FUNCTIONS(X)
#undef X

int cg_llvm_load(char *err, size_t errsize) {
  static void *lib;
  if (lib) return 0;
  const char *path = getenv("O2W_LIBLLVM");
  if (!path || !*path) path = O2W_LIBLLVM_PATH;
#ifdef O2W_NO_NATIVE
  (void)path;
  snprintf(err, errsize, "native output is not available in a sanitizer build (libLLVM needs RTLD_DEEPBIND)");
  return -1;
#endif
  void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND);
  if (!h) {
    snprintf(err, errsize, "native output needs LLVM 19 (apt-get install llvm-19): %s", dlerror());
    return -1;
  }
#define X(f) \
  if (!(*(void **)&cg_llvm_##f = dlsym(h, #f))) { snprintf(err, errsize, "%s lacks %s", path, #f); dlclose(h); return -1; }
  CG_LLVM_FUNCTIONS(X)
#undef X
  lib = h;
  return 0;
}
