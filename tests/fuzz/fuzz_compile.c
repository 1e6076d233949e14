/* fuzz_compile.c — libFuzzer target over the whole compile pipeline, from the bytes of a model file:
 * frontend, verifier, passes, memory plan, lowering, the signature and (O2W_FUZZ_EMIT=1) the wasm
 * emitter. Any input must end in a clean error or a Program, never a crash, a sanitizer report, a hang or
 * an allocation past libFuzzer's -rss_limit_mb.
 *
 * External data resolves in a folder made at start-up holding `w.bin` (256 bytes) and `dir/`, so
 * mutated external-data entries meet a real file, a directory and missing paths.
 *
 * Built by CMake with clang and -fsanitize=fuzzer,address,undefined (O2W_SANITIZE=ON); run by
 * tests/fuzz/run.sh (see docs/testing.md). Structure-aware mutations: mutator.c. */
#define _POSIX_C_SOURCE 200809L
#include "frontend/frontend.h"
#include "ir/ir.h"
#include "passes/passes.h"
#include "codegen/lower.h"
#include "codegen/target.h"
#include "codegen/wasm_emit.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[256];
static uint32_t base;
static bool emit;
static Target target;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
  (void)argc; (void)argv;
  snprintf(dir, sizeof dir, "%s/o2w-fuzz-%d", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (int)getpid());
  mkdir(dir, 0700);
  char p[300];
  snprintf(p, sizeof p, "%s/dir", dir);
  mkdir(p, 0700);
  snprintf(p, sizeof p, "%s/w.bin", dir);
  FILE *f = fopen(p, "wb");
  if (f) {
    for (int i = 0; i < 256; i++) fputc(i, f);
    fclose(f);
  }
  char err[256];
  if (cg_target_init(&target, NULL, NULL, err, sizeof err)) { fprintf(stderr, "fuzz: %s\n", err); exit(1); }
  Graph *g = ir_graph_new();
  if (cg_wasm_base(g, &base)) { fprintf(stderr, "fuzz: %s\n", ir_error(g)); exit(1); }
  ir_graph_free(g);
  emit = getenv("O2W_FUZZ_EMIT") && !strcmp(getenv("O2W_FUZZ_EMIT"), "1");
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  FeOptions fe = {0};
  Graph *g = fe_load_bytes(data, size, dir, "fuzz.onnx", &fe);
  g->target = &target;
  PassOptions po = {.opt_level = 2};
  Program p = {0};
  if (!ir_failed(g) && !ir_verify(g) && !pass_run_pipeline(g, &po) && !cg_lower(g, base, &p)) {
    free(cg_signature_json(&p));
    if (emit) {
      char out[300];
      snprintf(out, sizeof out, "%s/out.wasm", dir);
      cg_wasm_emit(g, &p, out, NULL, NULL);
    }
  }
  if (ir_failed(g) && !ir_error(g)[0]) { fprintf(stderr, "fuzz: a failure without a message\n"); abort(); }
  cg_program_free(&p);
  ir_graph_free(g);
  return 0;
}
