/* host.c — onnx2wasm-native-host: runs a native model library for the runner (runtime/js/onnx2wasm-native.mjs).
 *
 *   onnx2wasm-native-host LIB.so --signature
 *       prints the model's signature JSON (the same as a .wasm's onnx2wasm.signature section)
 *   onnx2wasm-native-host LIB.so --run DIR [--dim NAME=V]... [--bench N]
 *       reads input K as raw little-endian bytes from DIR/in_K.bin (dense, its shape at the dims given),
 *       runs the model once (then N more times with --bench, each run copying the inputs in and the
 *       outputs out, as the wasm runner times it), writes DIR/out_K.bin and prints one JSON line:
 *       {"status": 0, "load_ms": .., "first_ms": .., "times_ms": [..], "shapes": [[..], ..]}
 * Plain C and libc, so it cross-builds for every target the compiler emits (the tests run the AArch64
 * build under qemu-user). Exit status: 0 ran, 2 usage or I/O error, 3 the model refused the run. */
#define _POSIX_C_SOURCE 200809L
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "o2w_desc.h"

static double now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int die(const char *what, const char *arg) {
  fprintf(stderr, "onnx2wasm-native-host: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
  return 2;
}

static void *read_all(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16, n = 0;
  char *buf = malloc(cap);
  for (size_t k; buf && (k = fread(buf + n, 1, cap - n, f)) > 0;) {
    n += k;
    if (n == cap) buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  *len = n;
  return buf;
}

int main(int argc, char **argv) {
  if (argc < 3) return die("usage: onnx2wasm-native-host LIB.so --signature | --run DIR [--dim NAME=V]... [--bench N]", NULL);
  double t0 = now_ms();
  void *lib = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
  if (!lib) return die("cannot load", dlerror());
  const O2wModelApi *(*get)(void) = (const O2wModelApi *(*)(void))dlsym(lib, "onnx2wasm_model_api");
  if (!get) return die("not an onnx2wasm model library (no onnx2wasm_model_api)", argv[1]);
  const O2wModelApi *m = get();
  if (m->version != 1) return die("unsupported model API version", argv[1]);
  if (!strcmp(argv[2], "--signature")) {
    fputs(m->signature_json(), stdout);
    return 0;
  }
  if (strcmp(argv[2], "--run") || argc < 4) return die("expected --signature or --run DIR", argv[2]);
  const char *dir = argv[3];
  size_t asize = (m->arena_bytes() + O2W_ARENA_ALIGN - 1) & ~(size_t)(O2W_ARENA_ALIGN - 1);
  void *arena = aligned_alloc(O2W_ARENA_ALIGN, asize ? asize : O2W_ARENA_ALIGN);
  if (!arena || m->init(arena)) return die("cannot allocate the arena", NULL);
  int bench = 0;
  for (int i = 4; i < argc; i++) {
    if (!strcmp(argv[i], "--bench") && i + 1 < argc) bench = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--dim") && i + 1 < argc) {
      char *eq = strchr(argv[++i], '=');
      if (!eq) return die("--dim expects NAME=VALUE", argv[i]);
      *eq = 0;
      int r = m->set_dim(arena, argv[i], strtoll(eq + 1, NULL, 10));
      if (r == O2W_ERR_NAME) return die("unknown dim", argv[i]);
      if (r) { fprintf(stderr, "onnx2wasm-native-host: dim '%s' = %s exceeds its bound\n", argv[i], eq + 1); return 3; }
    } else return die("unknown option", argv[i]);
  }
  int nin = m->num_inputs(), nout = m->num_outputs();
  void **in = calloc((size_t)nin + 1, sizeof *in);
  size_t *inlen = calloc((size_t)nin + 1, sizeof *inlen);
  char path[4096];
  for (int k = 0; k < nin; k++) {
    snprintf(path, sizeof path, "%s/in_%d.bin", dir, k);
    if (!(in[k] = read_all(path, &inlen[k]))) return die("cannot read", path);
    if (inlen[k] != m->input_bytes(arena, k)) {
      fprintf(stderr, "onnx2wasm-native-host: %s has %zu bytes, input '%s' takes %zu at these dims\n", path, inlen[k],
              m->input_name(k), m->input_bytes(arena, k));
      return 2;
    }
  }
  double load_ms = now_ms() - t0;
  void **out = calloc((size_t)nout + 1, sizeof *out);
  for (int k = 0; k < nout; k++) out[k] = malloc(m->output_bytes(arena, k) + 1);
  double *times = calloc((size_t)bench + 1, sizeof *times);
  for (int r = 0; r <= bench; r++) {
    double t = now_ms();
    for (int k = 0; k < nin; k++) memcpy(m->input(arena, k), in[k], inlen[k]);
    int st = m->run(arena);
    if (st) { fprintf(stderr, "onnx2wasm-native-host: run returned %d\n", st); return 3; }
    for (int k = 0; k < nout; k++) memcpy(out[k], m->output(arena, k), m->output_bytes(arena, k));
    times[r] = now_ms() - t;
  }
  for (int k = 0; k < nout; k++) {
    snprintf(path, sizeof path, "%s/out_%d.bin", dir, k);
    FILE *f = fopen(path, "wb");
    size_t n = m->output_bytes(arena, k);
    if (!f || fwrite(out[k], 1, n, f) != n || fclose(f)) return die("cannot write", path);
  }
  printf("{\"status\": 0, \"load_ms\": %.4f, \"first_ms\": %.4f, \"times_ms\": [", load_ms, times[0]);
  for (int r = 1; r <= bench; r++) printf("%s%.4f", r > 1 ? ", " : "", times[r]);
  printf("], \"shapes\": [");
  for (int k = 0; k < nout; k++) {
    int64_t dims[O2W_D_MAX_RANK];
    int rank = m->output_shape(arena, k, dims);
    printf("%s[", k ? ", " : "");
    for (int a = 0; a < rank; a++) printf("%s%lld", a ? ", " : "", (long long)dims[a]);
    printf("]");
  }
  printf("]}\n");
  return 0;
}
