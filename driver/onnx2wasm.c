/* onnx2wasm.c — the compiler's command line: load, run the pass pipeline, lower, emit. */
#define _POSIX_C_SOURCE 200809L
#include "../codegen/llvm_emit.h"
#include "../codegen/lower.h"
#include "../codegen/package.h"
#include "../codegen/wasm_emit.h"
#include "../frontend/frontend.h"
#include "../ir/ops.h"
#include "../passes/passes.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char usage[] =
  "usage: onnx2wasm MODEL.onnx -o OUT.wasm [options]\n"
  "\n"
  "Compiles an ONNX model ahead of time into one self-contained WebAssembly module\n"
  "(no imports; exports memory, run, input_K/output_K addresses; signature in the\n"
  "custom section onnx2wasm.signature; see docs/abi.md).\n"
  "\n"
  "options:\n"
  "  -o, --output FILE      output (required unless only printing); its extension picks the\n"
  "                         kind: .wasm a WebAssembly module (default), .so a native shared\n"
  "                         library, .o a native relocatable object; native outputs get a C\n"
  "                         header beside them (FILE with .h; docs/abi.md). DIR/ (or an existing\n"
  "                         directory) an npm package: model.wasm, model.relaxed.wasm, index.mjs,\n"
  "                         index.d.ts, package.json (docs/js-tools.md). - writes a .wasm\n"
  "                         to stdout. Every option taking a value also takes it as\n"
  "                         --OPTION=VALUE (and -oFILE)\n"
  "  --target TRIPLE        wasm32 (default for .wasm), x86_64-linux-gnu (default for .so/.o)\n"
  "                         or aarch64-linux-gnu\n"
  "  --cpu CPU              native ISA level: x86-64-v2 (default), x86-64-v3 (AVX2+FMA),\n"
  "                         x86-64-v4 (AVX-512), native (this machine), an LLVM CPU name;\n"
  "                         AArch64: generic (default, NEON), neoverse-n1, apple-m1, ...\n"
  "  --name ID              prefix of the C API's functions (default: the output's file name)\n"
  "  -O0 | -O1 | -O2 | -O3  optimization level (default -O2): -O0 runs only the passes\n"
  "                         needed for correctness; -O1+ folds BatchNormalization into Conv\n"
  "                         and fuses residual adds and activations into epilogues\n"
  "  --dim NAME=VALUE       bind the dim_param symbol NAME (e.g. a dynamic batch) to VALUE\n"
  "                         at compile time; repeatable\n"
  "  --max-dim NAME=BOUND   keep NAME a run-time dim, valid from 0 to BOUND (the memory plan\n"
  "                         reserves buffers for the bound); repeatable. Symbols that are\n"
  "                         neither bound nor given a bound get --max-dim-default\n"
  "  --max-dim-default N    bound of run-time dims without --max-dim (default 1024)\n"
  "  --no-pass PASS         skip the optimization pass PASS (one from --list-passes with level\n"
  "                         -O1 or more; e.g. --no-pass resident_kv keeps KV caches dense);\n"
  "                         repeatable\n"
  "  --no-winograd          keep 3x3 stride-1 convs on the direct GEMM kernel (by default the\n"
  "                         larger ones use Winograd F(4x4,3x3) or F(2x2,3x3), see docs/performance.md)\n"
  "  --no-bf16-weights      keep MatMul weight panels in float32 (by default a constant B whose\n"
  "                         values are all exact bfloat16 is stored as bfloat16: half the bytes)\n"
  "  --quantize int8|int4   store float32 MatMul weights as integers: int8 symmetric per output\n"
  "                         column, or int4 per block of K rows with a zero point (weight-only:\n"
  "                         activations stay float32 to 16-bit precision; docs/quantization.md)\n"
  "  --quantize-block N     int4: K rows per scale (default 32; 8, 16, 32 or a multiple of 32)\n"
  "  --quantize-skip NAME   leave the MatMul node NAME (or every node of op type NAME) in float32;\n"
  "                         repeatable\n"
  "  --quantize-report      print each quantized MatMul's relative RMS weight error to stderr\n"
  "  --print-after PASS     print the IR after PASS (a name from --list-passes, or 'all') to stderr\n"
  "  --print-program        print the lowered kernel-call list to stderr\n"
  "  --verify               check the IR's structure after every pass\n"
  "  --stats                print one JSON line to stdout: module_bytes, code_bytes, weights_bytes,\n"
  "                         arena_bytes, unplanned_bytes, kernels, calls (docs/cli.md)\n"
  "  --simd baseline|relaxed  the .wasm's vector instructions: SIMD128 (default, runs everywhere), or\n"
  "                         also relaxed SIMD (f32x4.relaxed_madd in the GEMM and conv kernels: Chromium,\n"
  "                         Firefox; Node 20 only with --experimental-wasm-relaxed-simd). Results may\n"
  "                         differ from the baseline's by FMA rounding\n"
  "  --profile              keep the kernels exported and list every call in the custom\n"
  "                         section onnx2wasm.profile (for bench/profile.mjs; larger module)\n"
  "  --list-passes          list the passes in pipeline order and exit\n"
  "  --list-ops             list the supported ONNX ops and exit\n"
  "  -q, --quiet            no progress line (shown on a terminal when a compile takes over 2 s)\n"
  "  -h, --help             this text\n"
  "  --version              print the version\n"
  "\n"
  "exit status: 0 success; 1 the model could not be compiled (the message names the node,\n"
  "its op type and opset); 2 bad command line. On failure no output file is left behind.\n";

static int die_usage(const char *msg, const char *arg) {
  fprintf(stderr, "onnx2wasm: %s%s%s\n(see onnx2wasm --help)\n", msg, arg ? ": " : "", arg ? arg : "");
  return 2;
}

/* argv[*i] is option `name` taking a value: "NAME VALUE", "NAME=VALUE" (a long name) or "-oVALUE" (a
 * short one). Returns 1 then, with *val the value (NULL when missing), else 0. */
static int opt_value(int argc, char **argv, int *i, const char *name, const char **val) {
  const char *a = argv[*i];
  size_t n = strlen(name);
  if (strncmp(a, name, n)) return 0;
  if (!a[n]) { *val = *i + 1 < argc ? argv[++*i] : NULL; return 1; }
  if (name[1] != '-') { *val = a + n; return 1; }
  if (a[n] == '=') { *val = a + n + 1; return 1; }
  return 0;                                    /* a longer option with this prefix (--max-dim-default) */
}

/* A one-line progress indicator on stderr when it is a terminal: once the compile has taken PROGRESS_AFTER
 * seconds (O2W_PROGRESS_MS overrides, for the tests), a thread rewrites "onnx2wasm: MODEL: PHASE (N s)" every
 * half second; the line is erased when the compile ends, before any message. */
#define PROGRESS_AFTER 2.0
static struct {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t wake;
  bool on, stop, shown;
  double t0, after;
  const char *model, *phase;
} progress = {.lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER};

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void progress_show(void) {             /* with the lock held */
  fprintf(stderr, "\r\033[Konnx2wasm: %s: %s (%.0f s)", progress.model, progress.phase, now_s() - progress.t0);
  fflush(stderr);
  progress.shown = true;
}

static void *progress_main(void *arg) {
  (void)arg;
  pthread_mutex_lock(&progress.lock);
  double next = progress.t0 + progress.after;
  while (!progress.stop) {
    double t = now_s();
    if (t >= next) { progress_show(); next = t + 0.5; continue; }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    double wait = next - t;
    until.tv_sec += (time_t)wait;
    until.tv_nsec += (long)((wait - (double)(time_t)wait) * 1e9);
    if (until.tv_nsec >= 1000000000L) { until.tv_sec++; until.tv_nsec -= 1000000000L; }
    pthread_cond_timedwait(&progress.wake, &progress.lock, &until);
  }
  pthread_mutex_unlock(&progress.lock);
  return NULL;
}

static void progress_start(const char *model, bool wanted) {
  if (!wanted || !isatty(STDERR_FILENO)) return;
  const char *ms = getenv("O2W_PROGRESS_MS");
  progress.after = ms && *ms ? atof(ms) / 1000 : PROGRESS_AFTER;
  progress.t0 = now_s();
  progress.model = model;
  progress.phase = "reading";
  progress.on = !pthread_create(&progress.thread, NULL, progress_main, NULL);
}

static void progress_phase(const char *phase) {
  if (!progress.on) return;
  pthread_mutex_lock(&progress.lock);
  progress.phase = phase;
  pthread_mutex_unlock(&progress.lock);
}

static void progress_end(void) {
  if (!progress.on) return;
  pthread_mutex_lock(&progress.lock);
  progress.stop = true;
  /* a compile that ended between two updates past the delay still shows its line once */
  if (!progress.shown && now_s() - progress.t0 >= progress.after) progress_show();
  pthread_cond_signal(&progress.wake);
  pthread_mutex_unlock(&progress.lock);
  pthread_join(progress.thread, NULL);
  if (progress.shown) { fputs("\r\033[K", stderr); fflush(stderr); }
  progress.on = false;
}

/* the npm package of a model (codegen/package.h): both modules, then the files around them; on failure none of
 * the package's files is left behind */
static const char *const package_files[] = {"model.wasm", "model.relaxed.wasm", "onnx2wasm.mjs", "index.mjs",
                                            "index.d.ts", "package.json", "README.md"};
static int emit_package(Graph *g, const Program *prog, const char *dir, const char *model, const WasmOptions *wo, WasmStats *ws) {
  char path[4096];
  WasmOptions relaxed = *wo;
  relaxed.relaxed = true;
  WasmStats rs = {0};
  int rc = cg_package_dir(g, dir);
  if (!rc && snprintf(path, sizeof path, "%s/model.wasm", dir) >= (int)sizeof path) rc = ir_errorf(g, NULL, "output path too long");
  progress_phase("writing model.wasm");
  if (!rc) rc = cg_wasm_emit(g, prog, path, wo, ws);
  progress_phase("writing model.relaxed.wasm");
  if (!rc) snprintf(path, sizeof path, "%s/model.relaxed.wasm", dir);
  if (!rc) rc = cg_wasm_emit(g, prog, path, &relaxed, &rs);
  if (!rc) rc = cg_package_files(g, prog, dir, model);
  if (rc) {
    ws->write_failed = true;
    for (size_t i = 0; i < sizeof package_files / sizeof *package_files; i++) {
      snprintf(path, sizeof path, "%s/%s", dir, package_files[i]);
      unlink(path);
    }
  }
  return rc ? 1 : 0;
}

int main(int argc, char **argv) {
  const char *in = NULL, *out = NULL, *print_after = NULL, *triple = NULL, *cpu = NULL, *name = NULL;
  bool print_program = false, stats = false, verify = false, no_winograd = false, no_bf16 = false, quiet = false;
  WasmOptions wo = {0};
  int level = 2;
  FeOptions fe = {0};
  int qbits = 0, qblock = 32, nqskip = 0;
  bool qreport = false;
  const char *qskip[16];
  const char *po_disabled[16];
  int po_disabled_n = 0;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v;
    if (!strcmp(a, "-h") || !strcmp(a, "--help")) { fputs(usage, stdout); return 0; }
    else if (!strcmp(a, "--version")) { puts("onnx2wasm " O2W_VERSION); return 0; }
    else if (opt_value(argc, argv, &i, "-o", &v) || opt_value(argc, argv, &i, "--output", &v)) {
      if (!v) return die_usage("missing value for", a);
      out = v;
    }
    else if (!strncmp(a, "-O", 2) && strlen(a) == 3 && a[2] >= '0' && a[2] <= '3') level = a[2] - '0';
    else if (opt_value(argc, argv, &i, "--target", &v)) { if (!v) return die_usage("missing value for", a); triple = v; }
    else if (opt_value(argc, argv, &i, "--cpu", &v)) { if (!v) return die_usage("missing value for", a); cpu = v; }
    else if (opt_value(argc, argv, &i, "--name", &v)) { if (!v) return die_usage("missing value for", a); name = v; }
    else if (opt_value(argc, argv, &i, "--dim", &v)) {
      if (!v) return die_usage("missing value for", a);
      const char *eq = strchr(v, '=');
      char *end;
      if (!eq || eq == v) return die_usage("--dim expects NAME=VALUE", v);
      long long x = strtoll(eq + 1, &end, 10);
      if (*end || end == eq + 1 || x < 0) return die_usage("--dim value must be a non-negative integer", v);
      if (fe.ndims >= 32) return die_usage("too many --dim options", NULL);
      fe.dim_name[fe.ndims] = strndup(v, (size_t)(eq - v));
      fe.dim_value[fe.ndims++] = x;
    }
    else if (opt_value(argc, argv, &i, "--max-dim", &v)) {
      if (!v) return die_usage("missing value for", a);
      const char *eq = strchr(v, '=');
      char *end;
      if (!eq || eq == v) return die_usage("--max-dim expects NAME=BOUND", v);
      long long x = strtoll(eq + 1, &end, 10);
      if (*end || end == eq + 1 || x < 1 || x > (1LL << 30)) return die_usage("--max-dim bound must be an integer from 1 to 2^30", v);
      if (fe.nmax >= 32) return die_usage("too many --max-dim options", NULL);
      fe.max_name[fe.nmax] = strndup(v, (size_t)(eq - v));
      fe.max_value[fe.nmax++] = x;
    }
    else if (opt_value(argc, argv, &i, "--max-dim-default", &v)) {
      char *end;
      if (!v) return die_usage("missing value for", a);
      long long x = strtoll(v, &end, 10);
      if (*end || end == v || x < 1 || x > (1LL << 30)) return die_usage("--max-dim-default must be an integer from 1 to 2^30", v);
      fe.default_max = x;
    }
    else if (opt_value(argc, argv, &i, "--print-after", &v)) {
      if (!v) return die_usage("missing value for", a);
      print_after = v;
      if (strcmp(print_after, "all") && !pass_find(print_after)) return die_usage("unknown pass (see --list-passes)", print_after);
    }
    else if (opt_value(argc, argv, &i, "--no-pass", &v)) {
      if (!v) return die_usage("missing value for", a);
      const PassInfo *pi = pass_find(v);
      if (!pi) return die_usage("unknown pass (see --list-passes)", v);
      if (pi->min_level == 0) return die_usage("pass is needed for correctness and cannot be skipped", v);
      if (po_disabled_n >= 16) return die_usage("too many --no-pass options", NULL);
      po_disabled[po_disabled_n++] = v;
    }
    else if (opt_value(argc, argv, &i, "--quantize", &v)) {
      if (!v) return die_usage("missing value for", a);
      if (!strcmp(v, "int8")) qbits = 8;
      else if (!strcmp(v, "int4")) qbits = 4;
      else return die_usage("--quantize expects int8 or int4", v);
    }
    else if (opt_value(argc, argv, &i, "--quantize-block", &v)) {
      char *end;
      if (!v) return die_usage("missing value for", a);
      long x = strtol(v, &end, 10);
      if (*end || end == v || x < 8 || x > 4096 || x % 8 || (x > 32 && x % 32)) return die_usage("--quantize-block must be 8, 16, 24, 32 or a multiple of 32 up to 4096", v);
      qblock = (int)x;
    }
    else if (opt_value(argc, argv, &i, "--quantize-skip", &v)) {
      if (!v) return die_usage("missing value for", a);
      if (nqskip >= 16) return die_usage("too many --quantize-skip options", NULL);
      qskip[nqskip++] = v;
    }
    else if (!strcmp(a, "--quantize-report")) qreport = true;
    else if (!strcmp(a, "--print-program")) print_program = true;
    else if (!strcmp(a, "--verify")) verify = true;
    else if (!strcmp(a, "--no-winograd")) no_winograd = true;
    else if (!strcmp(a, "--no-bf16-weights")) no_bf16 = true;
    else if (!strcmp(a, "--stats")) stats = true;
    else if (!strcmp(a, "--profile")) wo.profile = true;
    else if (opt_value(argc, argv, &i, "--simd", &v)) {
      if (!v) return die_usage("missing value for", a);
      if (!strcmp(v, "relaxed")) wo.relaxed = true;
      else if (!strcmp(v, "baseline")) wo.relaxed = false;
      else return die_usage("--simd expects baseline or relaxed", v);
    }
    else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) quiet = true;
    else if (!strcmp(a, "--list-passes")) {
      for (int k = 0; k < pass_count; k++) printf("%-14s -O%d  %s\n", pass_table[k].name, pass_table[k].min_level, pass_table[k].desc);
      return 0;
    }
    else if (!strcmp(a, "--list-ops")) {
      for (int k = 1; k < OP_COUNT; k++)
        if (!(ops_table[k].flags & OPF_INTERNAL)) printf("%-20s %s\n", ops_table[k].name, ops_table[k].lower ? "run time" : ops_table[k].eval ? "compile time only (constant inputs)" : "rewritten by a pass");
      return 0;
    }
    else if (a[0] == '-' && a[1]) return die_usage("unknown option", a);
    else if (in) return die_usage("more than one model given", a);
    else in = a;
  }
  if (!in) return die_usage("no model given", NULL);
  if (!out && !print_after && !print_program) return die_usage("no output given (-o OUT.wasm)", NULL);
  bool to_stdout = out && !strcmp(out, "-");
  if (to_stdout && stats) return die_usage("--stats prints to stdout; it cannot be combined with -o -", NULL);

  /* the output kind and the target: a folder (a path ending in '/' or an existing directory) gets an npm package */
  struct stat ost;
  char *pkg = NULL;
  if (out && !to_stdout && ((strlen(out) && out[strlen(out) - 1] == '/') || (stat(out, &ost) == 0 && S_ISDIR(ost.st_mode)))) {
    pkg = strdup(out);
    if (!pkg) return 3;
    for (size_t l = strlen(pkg); l > 1 && pkg[l - 1] == '/'; l--) pkg[l - 1] = 0;
    if (wo.relaxed) return die_usage("a package holds both modules (baseline and relaxed SIMD); --simd does not apply", NULL);
  }
  const char *ext = out && !pkg ? strrchr(out, '.') : NULL;
  bool native_out = ext && (!strcmp(ext, ".so") || !strcmp(ext, ".o"));
  if (native_out && !triple) triple = "x86_64-linux-gnu";
  Target target;
  char terr[512];
  if (cg_target_init(&target, triple, cpu, terr, sizeof terr)) return die_usage(terr, NULL);
  if (out && native_out != cg_target_native(&target))
    return die_usage(native_out ? "a .so/.o output needs a native --target" : "a native --target writes a .so or .o output", out);
  if (native_out && wo.relaxed) return die_usage("--simd relaxed is for .wasm output (native code uses the target's FMA)", NULL);
  char prefix[128], *header = NULL;
  if (native_out) {
    if (cg_c_prefix(name ? name : out, prefix, sizeof prefix, !name)) return die_usage("--name must be a C identifier", name);
    size_t hl = (size_t)(ext - out);
    header = malloc(hl + 3);
    if (!header) return 3;
    memcpy(header, out, hl);
    memcpy(header + hl, ".h", 3);
  }

  /* not when other output goes to stderr while compiling (the progress line would cut into it) */
  progress_start(in, !quiet && !print_after && !print_program && !qreport);
  Graph *g = fe_load(in, &fe);
  g->target = &target;
  g->no_winograd = no_winograd;
  g->no_bf16_weights = no_bf16;
  g->quant.bits = qbits;
  g->quant.block = qblock;
  g->quant.nskip = nqskip;
  for (int k = 0; k < nqskip; k++) g->quant.skip[k] = qskip[k];
  g->quant.report = qreport ? stderr : NULL;
  PassOptions po = {.opt_level = level, .print_after = print_after, .dump = stderr, .verify = verify, .ndisabled = po_disabled_n};
  for (int d = 0; d < po_disabled_n; d++) po.disabled[d] = po_disabled[d];
  Program prog = {0};
  uint32_t base = 0;
  WasmStats ws = {0};
  int rc = 0;
  NativeStats ns = {0};
  progress_phase("optimizing");
  if (ir_failed(g) || ir_verify(g) || pass_run_pipeline(g, &po)) rc = 1;
  progress_phase("lowering");
  if (!rc && native_out) base = CG_NATIVE_BASE;
  else if (!rc && cg_wasm_base(g, &base)) rc = 1;
  if (!rc && cg_lower(g, base, &prog)) rc = 1;
  if (!rc && print_program) cg_program_dump(&prog, stderr);
  progress_phase(native_out ? "generating native code" : "writing the module");
  if (!rc && out && native_out) {
    NativeOptions no = {.target = &target, .prefix = prefix, .shared = !strcmp(ext, ".so")};
    if (cg_native_emit(g, &prog, out, &no, &ns) || cg_c_header(g, &prog, header, prefix)) rc = 1;
    ws.module_bytes = ns.file_bytes;
    ws.code_bytes = ns.object_bytes > prog.weights_size ? ns.object_bytes - prog.weights_size : 0;
    ws.kernels = ns.kernels;
  } else if (!rc && pkg) {
    rc = emit_package(g, &prog, pkg, in, &wo, &ws);
  } else if (!rc && out && cg_wasm_emit(g, &prog, out, &wo, &ws)) rc = 1;
  progress_end();
  if (rc) {
    if (ws.write_failed || ns.write_failed) fprintf(stderr, "onnx2wasm: %s\n", ir_error(g));   /* about the output, not the model */
    else fprintf(stderr, "onnx2wasm: %s: %s\n", in, ir_error(g));
    if (out && !to_stdout && !pkg && unlink(out) && errno != ENOENT) fprintf(stderr, "onnx2wasm: warning: could not remove stale '%s'\n", out);
    if (header && unlink(header) && errno != ENOENT) fprintf(stderr, "onnx2wasm: warning: could not remove stale '%s'\n", header);
  } else if (stats && out) {
    int64_t tensors = 0;                       /* what the arena would be without reuse */
    for (int i = 0; i < g->nvalues; i++) {
      const Value *v = g->values[i];
      if (v->kind != VK_CONST && !v->alias && v->offset >= 0) tensors += ir_nbytes(v);
    }
    for (int i = 0; i < g->nnodes; i++) tensors += g->nodes[i]->scratch_bytes;
    printf("{\"module_bytes\": %zu, \"code_bytes\": %zu, \"weights_bytes\": %zu, \"arena_bytes\": %zu, "
           "\"unplanned_bytes\": %lld, \"kernels\": %d, \"calls\": %d}\n",
           ws.module_bytes, ws.code_bytes, prog.weights_size, prog.arena_size, (long long)tensors, ws.kernels, prog.ncalls);
  }
  cg_program_free(&prog);
  ir_graph_free(g);
  free(header);
  free(pkg);
  for (int i = 0; i < fe.ndims; i++) free((void *)fe.dim_name[i]);
  for (int i = 0; i < fe.nmax; i++) free((void *)fe.max_name[i]);
  return rc;
}
