/* llvm_emit.c — Program -> native object or shared library through the LLVM C API.
 *
 * The same Program the wasm emitter serializes: the kernels and the C API come as bitcode built with
 * the compiler (runtime/build-kernels-native.sh, one module per architecture); this file adds the
 * model — the descriptor table (runtime/native/o2w_desc.h), the weights and the initial parameter
 * blocks as constant globals, and o2w__graph, the straight line of kernel calls — then renames the API
 * to the model's prefix, internalizes everything else, optimizes with O3 for the target CPU and emits
 * an object. A shared library is that object linked by ld.lld as a separate process (lld has no C API).
 *
 * The kernels' bitcode carries the target-cpu/target-features clang stamped on it; they are removed
 * so that the target machine's CPU (--cpu) decides the instructions. */
#define _POSIX_C_SOURCE 200809L
#include "llvm_emit.h"

#include <errno.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../runtime/native/o2w_desc.h"
#include "llvm_api.h"

extern char **environ;

/* ---------------------------------------------------------------- the descriptor */
typedef struct { int64_t *v; size_t n, cap; } I64s;
typedef struct { char *s; size_t n, cap; } Bytes;

static void *grow(void *p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return p;
  size_t c = *cap ? *cap : 256;
  while (c < need) c *= 2;
  p = realloc(p, c * elem);
  if (!p) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  *cap = c;
  return p;
}
static void put(I64s *t, int64_t v) { t->v = grow(t->v, &t->cap, t->n + 1, sizeof *t->v); t->v[t->n++] = v; }
static int64_t str_add(Bytes *b, const char *s) {
  size_t len = strlen(s) + 1, at = b->n;
  b->s = grow(b->s, &b->cap, b->n + len, 1);
  memcpy(b->s + at, s, len);
  b->n += len;
  return (int64_t)at;
}

/* appends dim d as a polynomial over dims-table slots to polys; returns its index */
static int64_t poly_add(I64s *polys, const Program *p, Dim d) {
  int64_t at = (int64_t)polys->n;
  if (ir_dim_known(d)) { put(polys, 1); put(polys, d.c); put(polys, 0); return at; }
  put(polys, d.e->n);
  for (int i = 0; i < d.e->n; i++) {
    const DimTerm *t = &d.e->t[i];
    int64_t coef = t->coef, deg = 0;
    for (int k = 0; k < t->deg; k++)       /* a symbol bound at compile time is a factor of the coefficient */
      if (p->rt_index[t->sym[k]] < 0) coef *= p->sym_value[t->sym[k]];
      else deg++;
    put(polys, coef);
    put(polys, deg);
    for (int k = 0; k < t->deg; k++)
      if (p->rt_index[t->sym[k]] >= 0) put(polys, p->rt_index[t->sym[k]]);
  }
  return at;
}

static void build_desc(const Program *p, I64s *d, Bytes *strs) {
  I64s polys = {0};
  put(&polys, 0);                           /* index 0 unused: keeps every real poly index non-zero */
  for (int i = 0; i < O2W_D_HEADER; i++) put(d, 0);
  int nsyms = 0;
  d->v[O2W_D_SYMS] = (int64_t)d->n;
  for (int s = 0; s < p->nsyms; s++) {
    if (p->rt_index[s] < 0) continue;
    put(d, str_add(strs, p->syms[s])); put(d, p->sym_max[s]); put(d, p->rt_index[s]);
    const SymDef *sd = p->sym_def[s];
    bool el = sd && sd->src;
    put(d, sd && !el ? poly_add(&polys, p, sd->num) : 0); put(d, sd && !el ? sd->den : 1);
    put(d, el ? sd->input + 1 : 0); put(d, el ? sd->elem : 0);
    put(d, el ? sd->nmap : 0);
    for (int k = 0; k < IR_ELEM_MAP; k++) {
      put(d, el && k < sd->nmap ? sd->map_from[k] : 0);
      put(d, el && k < sd->nmap ? poly_add(&polys, p, sd->map_to[k]) : 0);
    }
    nsyms++;
  }
  d->v[O2W_D_TENSORS] = (int64_t)d->n;
  for (int i = 0; i < p->ninputs + p->noutputs; i++) {
    const CgTensor *t = i < p->ninputs ? &p->inputs[i] : &p->outputs[i - p->ninputs];
    put(d, str_add(strs, t->name)); put(d, t->dt); put(d, t->rank); put(d, t->addr); put(d, t->bytes);
    put(d, t->cap); put(d, t->cap_axis);
    for (int a = 0; a < O2W_D_MAX_RANK; a++) put(d, a < t->rank ? poly_add(&polys, p, t->dims[a]) : 0);
  }
  d->v[O2W_D_PATCHES] = (int64_t)d->n;
  for (int i = 0; i < p->npatches; i++) { put(d, p->patches[i].param_off); put(d, poly_add(&polys, p, p->patches[i].value)); }
  d->v[O2W_D_CHECKS] = (int64_t)d->n;
  for (int i = 0; i < p->nchecks; i++) { put(d, poly_add(&polys, p, p->checks[i].a)); put(d, poly_add(&polys, p, p->checks[i].b)); }
  d->v[O2W_D_POLYS] = (int64_t)d->n;
  for (size_t i = 0; i < polys.n; i++) put(d, polys.v[i]);
  free(polys.v);
  int64_t *h = d->v;
  h[O2W_D_VERSION] = O2W_DESC_VERSION;
  h[O2W_D_NINPUTS] = p->ninputs;
  h[O2W_D_NOUTPUTS] = p->noutputs;
  h[O2W_D_NSYMS] = nsyms;
  h[O2W_D_NPATCHES] = p->npatches;
  h[O2W_D_NCHECKS] = p->nchecks;
  h[O2W_D_SPLIT] = h[O2W_D_ARENA_ADDR] = p->arena_addr;
  h[O2W_D_ARENA_BYTES] = (int64_t)p->total - p->arena_addr;
  h[O2W_D_PARAMS_ADDR] = p->params_addr;
  h[O2W_D_PARAMS_BYTES] = (int64_t)p->params_size;
  h[O2W_D_WEIGHTS_ADDR] = p->weights_addr;
}

/* ---------------------------------------------------------------- the module */
static const unsigned char *kernels_bc(TargetArch a, size_t *len) {
  if (a == TARGET_AARCH64) { *len = o2w_kernels_bc_aarch64_len; return o2w_kernels_bc_aarch64; }
  *len = o2w_kernels_bc_x86_64_len;
  return o2w_kernels_bc_x86_64;
}

/* gives the external declaration `name` of the runtime a constant definition (internal linkage) */
static void define_const(LLVMModuleRef m, const char *name, LLVMValueRef init, unsigned align) {
  LLVMValueRef old = L(LLVMGetNamedGlobal)(m, name);
  LLVMValueRef g = L(LLVMAddGlobal)(m, L(LLVMTypeOf)(init), "");
  L(LLVMSetInitializer)(g, init);
  L(LLVMSetGlobalConstant)(g, 1);
  L(LLVMSetAlignment)(g, align);
  L(LLVMSetLinkage)(g, LLVMInternalLinkage);
  if (old) { L(LLVMReplaceAllUsesWith)(old, g); L(LLVMDeleteGlobal)(old); }
  L(LLVMSetValueName2)(g, name, strlen(name));
}

static LLVMValueRef bytes_const(LLVMContextRef cx, const void *data, size_t n) {
  static const char zero[1] = {0};
  return L(LLVMConstStringInContext2)(cx, n ? data : zero, n ? n : 1, 1);
}

static void strip_target_attrs(LLVMModuleRef m) {
  static const char *const attrs[] = {"target-cpu", "target-features", "tune-cpu"};
  for (LLVMValueRef f = L(LLVMGetFirstFunction)(m); f; f = L(LLVMGetNextFunction)(f))
    for (size_t i = 0; i < sizeof attrs / sizeof *attrs; i++)
      L(LLVMRemoveStringAttributeAtIndex)(f, LLVMAttributeFunctionIndex, attrs[i], (unsigned)strlen(attrs[i]));
}

/* o2w__graph(params): rt_<kernel>(params + off) for every call, in order */
static int define_graph(Graph *g, LLVMContextRef cx, LLVMModuleRef m, const Program *p) {
  LLVMValueRef fn = L(LLVMGetNamedFunction)(m, "o2w__graph");
  if (!fn) return ir_errorf(g, NULL, "internal: the native runtime does not declare o2w__graph");
  LLVMTypeRef ptr = L(LLVMPointerTypeInContext)(cx, 0), i8 = L(LLVMInt8TypeInContext)(cx), i64 = L(LLVMInt64TypeInContext)(cx);
  LLVMTypeRef kty = L(LLVMFunctionType)(L(LLVMVoidTypeInContext)(cx), &ptr, 1, 0);
  LLVMBuilderRef b = L(LLVMCreateBuilderInContext)(cx);
  L(LLVMPositionBuilderAtEnd)(b, L(LLVMAppendBasicBlockInContext)(cx, fn, "entry"));
  LLVMValueRef params = L(LLVMGetParam)(fn, 0);
  for (int i = 0; i < p->ncalls; i++) {
    const char *kname = cg_kernel_names[p->calls[i].kernel];
    /* native targets keep transformed weights precomputed (Target.init_transforms is false for them) */
    if (p->calls[i].once) { L(LLVMDisposeBuilder)(b); return ir_errorf(g, NULL, "internal: a start-up call (%s) in a native library", kname); }
    LLVMValueRef k = L(LLVMGetNamedFunction)(m, kname);
    if (!k || L(LLVMIsDeclaration)(k)) { L(LLVMDisposeBuilder)(b); return ir_errorf(g, NULL, "internal: kernel %s is missing from the native runtime", kname); }
    LLVMValueRef off = L(LLVMConstInt)(i64, p->calls[i].param_off, 0);
    LLVMValueRef arg = L(LLVMBuildInBoundsGEP2)(b, i8, params, &off, 1, "");
    L(LLVMBuildCall2)(b, kty, k, &arg, 1, "");
  }
  L(LLVMBuildRetVoid)(b);
  L(LLVMDisposeBuilder)(b);
  L(LLVMSetLinkage)(fn, LLVMInternalLinkage);
  return 0;
}

/* API functions o2w__NAME become PREFIX_NAME (external, default visibility); every other definition
 * becomes internal so O3 may inline it, drop it when unused, and so two models never clash */
static void export_api(LLVMModuleRef m, const char *prefix) {
  for (LLVMValueRef f = L(LLVMGetFirstFunction)(m); f; f = L(LLVMGetNextFunction)(f)) {
    if (L(LLVMIsDeclaration)(f)) continue;
    size_t len;
    const char *name = L(LLVMGetValueName2)(f, &len);
    if (!strncmp(name, "o2w__", 5) && strcmp(name, "o2w__graph") && L(LLVMGetVisibility)(f) == LLVMDefaultVisibility &&
        L(LLVMGetLinkage)(f) == LLVMExternalLinkage) {
      char buf[300];
      snprintf(buf, sizeof buf, "%s_%s", prefix, name + 5);
      L(LLVMSetValueName2)(f, buf, strlen(buf));
    } else {
      L(LLVMSetLinkage)(f, LLVMInternalLinkage);
    }
  }
  for (LLVMValueRef v = L(LLVMGetFirstGlobal)(m); v; v = L(LLVMGetNextGlobal)(v))
    if (!L(LLVMIsDeclaration)(v)) L(LLVMSetLinkage)(v, LLVMInternalLinkage);
}

static int init_llvm(Graph *g) {
  static int done;
  char err[512];
  if (done) return 0;
  if (cg_llvm_load(err, sizeof err)) return ir_errorf(g, NULL, "%s", err);
  done = 1;
  L(LLVMInitializeX86TargetInfo)(); L(LLVMInitializeX86Target)(); L(LLVMInitializeX86TargetMC)(); L(LLVMInitializeX86AsmPrinter)();
  L(LLVMInitializeAArch64TargetInfo)(); L(LLVMInitializeAArch64Target)(); L(LLVMInitializeAArch64TargetMC)();
  L(LLVMInitializeAArch64AsmPrinter)();
  return 0;
}

/* ---------------------------------------------------------------- files */
/* writes path (a temporary name); errors name the output the user asked for */
static int write_file(Graph *g, const char *path, const char *output, const void *data, size_t len, mode_t mode) {
  FILE *f = fopen(path, "wb");
  if (!f) return ir_errorf(g, NULL, "cannot create '%s': %s", output, strerror(errno));
  bool ok = fwrite(data, 1, len, f) == len;
  ok = (fclose(f) == 0) && ok;
  if (!ok) { unlink(path); return ir_errorf(g, NULL, "cannot write '%s': %s", output, strerror(errno)); }
  chmod(path, mode);
  return 0;
}

/* a fresh name beside path (same directory, so rename is atomic) */
static char *temp_beside(const char *path, const char *tag) {
  size_t n = strlen(path) + 48;
  char *s = malloc(n);
  if (s) snprintf(s, n, "%s.%s.%ld.tmp", path, tag, (long)getpid());
  return s;
}

static int run_linker(Graph *g, const char *obj, const char *out) {
  const char *ld = getenv("O2W_LD");
  if (!ld || !*ld) ld = "ld.lld-19";
  char *argv[] = {(char *)ld, "-shared", "--build-id", "-z", "noexecstack", "-z", "relro", "-z", "now",
                  "-o", (char *)out, (char *)obj, NULL};
  pid_t pid;
  int rc = posix_spawnp(&pid, ld, NULL, NULL, argv, environ);
  if (rc) return ir_errorf(g, NULL, "cannot run the linker '%s': %s (set O2W_LD to ld.lld)", ld, strerror(rc));
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return ir_errorf(g, NULL, "waiting for the linker: %s", strerror(errno));
  if (!WIFEXITED(st) || WEXITSTATUS(st)) return ir_errorf(g, NULL, "the linker '%s' failed linking '%s'", ld, out);
  return 0;
}

/* what open(2) would give a new file: the umask applied (0644 for an object, 0755 for a library) */
static mode_t output_mode(mode_t mode) {
  mode_t um = umask(0);
  umask(um);
  return mode & ~um;
}

int cg_native_emit(Graph *g, const Program *p, const char *path, const NativeOptions *o, NativeStats *st) {
  if (init_llvm(g)) return -1;
  const Target *t = o->target;
  LLVMContextRef cx = L(LLVMContextCreate)();
  size_t bclen;
  const unsigned char *bc = kernels_bc(t->arch, &bclen);
  LLVMMemoryBufferRef mb = L(LLVMCreateMemoryBufferWithMemoryRange)((const char *)bc, bclen, "o2w_kernels", 0);
  LLVMModuleRef m = NULL;
  int ret = 0;
  char *err = NULL;
  LLVMTargetMachineRef tm = NULL;
  LLVMMemoryBufferRef obj = NULL;
  int bad = L(LLVMParseBitcodeInContext2)(cx, mb, &m);   /* parses eagerly: the buffer is not kept */
  L(LLVMDisposeMemoryBuffer)(mb);
  if (bad) { m = NULL; ret = ir_errorf(g, NULL, "internal: cannot read the native kernel bitcode"); goto out; }
  strip_target_attrs(m);

  I64s desc = {0};
  Bytes strs = {0};
  build_desc(p, &desc, &strs);
  LLVMTypeRef i64 = L(LLVMInt64TypeInContext)(cx);
  LLVMValueRef *dv = malloc(desc.n * sizeof *dv);
  if (!dv) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  for (size_t i = 0; i < desc.n; i++) dv[i] = L(LLVMConstInt)(i64, (unsigned long long)desc.v[i], 1);
  define_const(m, "o2w__desc", L(LLVMConstArray2)(i64, dv, desc.n), 8);
  free(dv); free(desc.v);
  define_const(m, "o2w__strings", bytes_const(cx, strs.s, strs.n), 1);
  free(strs.s);
  uint8_t *weights = cg_weights_blob(p);
  if (!weights) { ret = ir_errorf(g, NULL, "out of memory for %zu bytes of weights", p->weights_size); goto out; }
  define_const(m, "o2w__weights", bytes_const(cx, weights, p->weights_size), 64);
  free(weights);
  define_const(m, "o2w__params", bytes_const(cx, p->params, p->params_size), 16);
  define_const(m, "rt_gemm_wide", L(LLVMConstInt)(L(LLVMInt32TypeInContext)(cx), t->gemm_wide, 0), 4);
  char *sig = cg_signature_json(p);
  define_const(m, "o2w__signature", bytes_const(cx, sig, strlen(sig) + 1), 1);
  free(sig);
  if (define_graph(g, cx, m, p)) { ret = -1; goto out; }
  LLVMValueRef api = L(LLVMGetNamedFunction)(m, "o2w__model_api");
  export_api(m, o->prefix);
  if (o->shared && api) L(LLVMAddAlias2)(m, L(LLVMGlobalGetValueType)(api), 0, api, "onnx2wasm_model_api");

  LLVMTargetRef target;
  if (L(LLVMGetTargetFromTriple)(t->triple, &target, &err)) { ret = ir_errorf(g, NULL, "target '%s': %s", t->triple, err); goto out; }
  tm = L(LLVMCreateTargetMachine)(target, t->triple, t->cpu, t->features, LLVMCodeGenLevelAggressive, LLVMRelocPIC,
                               LLVMCodeModelDefault);
  if (!tm) { ret = ir_errorf(g, NULL, "cannot create a target machine for %s (cpu %s)", t->triple, t->cpu); goto out; }
  L(LLVMSetTarget)(m, t->triple);
  LLVMTargetDataRef td = L(LLVMCreateTargetDataLayout)(tm);
  L(LLVMSetModuleDataLayout)(m, td);
  L(LLVMDisposeTargetData)(td);
  if (L(LLVMVerifyModule)(m, LLVMReturnStatusAction, &err)) { ret = ir_errorf(g, NULL, "internal: the native module does not verify: %s", err); goto out; }
  L(LLVMDisposeMessage)(err);
  err = NULL;
  LLVMPassBuilderOptionsRef po = L(LLVMCreatePassBuilderOptions)();
  LLVMErrorRef e = L(LLVMRunPasses)(m, "globaldce,default<O3>", tm, po)   /* unused kernels go before O3 works on them */;
  L(LLVMDisposePassBuilderOptions)(po);
  if (e) {
    char *msg = L(LLVMGetErrorMessage)(e);
    ret = ir_errorf(g, NULL, "internal: LLVM optimization failed: %s", msg);
    L(LLVMDisposeErrorMessage)(msg);
    goto out;
  }
  if (L(LLVMTargetMachineEmitToMemoryBuffer)(tm, m, LLVMObjectFile, &err, &obj)) {
    ret = ir_errorf(g, NULL, "internal: LLVM code generation failed: %s", err);
    goto out;
  }
  const char *data = L(LLVMGetBufferStart)(obj);
  size_t len = L(LLVMGetBufferSize)(obj);
  if (st) { st->object_bytes = len; st->kernels = 0; for (int k = 0; k < K_COUNT; k++) st->kernels += p->used[k]; }
  /* written under a temporary name and renamed: no partial output */
  char *tmp_o = temp_beside(path, "o"), *tmp_out = o->shared ? temp_beside(path, "so") : NULL;
  if (!tmp_o || (o->shared && !tmp_out)) { ret = ir_errorf(g, NULL, "out of memory"); goto out; }
  ret = write_file(g, tmp_o, path, data, len, output_mode(0666));
  if (ret && st) st->write_failed = true;
  if (!ret && o->shared) {
    ret = run_linker(g, tmp_o, tmp_out);
    unlink(tmp_o);
    if (!ret) chmod(tmp_out, output_mode(0777));
  }
  const char *done = o->shared ? tmp_out : tmp_o;
  if (!ret && rename(done, path)) {
    ret = ir_errorf(g, NULL, "cannot create '%s': %s", path, strerror(errno));
    if (st) st->write_failed = true;
  }
  if (ret) { unlink(tmp_o); if (tmp_out) unlink(tmp_out); }
  if (!ret && st) {
    struct stat sb;
    if (!stat(path, &sb)) st->file_bytes = (size_t)sb.st_size;
  }
  free(tmp_o); free(tmp_out);
out:
  if (err) L(LLVMDisposeMessage)(err);
  if (obj) L(LLVMDisposeMemoryBuffer)(obj);
  if (tm) L(LLVMDisposeTargetMachine)(tm);
  if (m) L(LLVMDisposeModule)(m);
  L(LLVMContextDispose)(cx);
  return ret;
}
