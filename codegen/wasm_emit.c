/* wasm_emit.c — Program -> .wasm: reads the embedded kernel module with binaryen, adds `run`
 * (a straight line of kernel calls on constant parameter blocks), the input/output address
 * globals, the signature section and the data segments, drops the kernel exports, optimizes
 * (unused kernels disappear, small ones inline) and writes the file atomically. */
#define _POSIX_C_SOURCE 200809L
#include "wasm_emit.h"
#include "wasm_relax.h"
#include "output.h"

#include <binaryen-c.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* the baseline kernel module, or the relaxed-SIMD one (its relaxed operations as placeholder imports) */
static BinaryenModuleRef read_kernels(bool relaxed) {
  const unsigned char *k = relaxed ? o2w_kernels_relaxed_wasm : o2w_kernels_wasm;
  unsigned long n = relaxed ? o2w_kernels_relaxed_wasm_len : o2w_kernels_wasm_len;
  char *copy = malloc(n);
  if (!copy) return NULL;
  memcpy(copy, k, n);
  BinaryenModuleRef m = BinaryenModuleRead(copy, n);
  free(copy);
  BinaryenModuleSetFeatures(m, BinaryenFeatureMVP() | BinaryenFeatureSIMD128() | BinaryenFeatureBulkMemory() |
                                   BinaryenFeatureSignExt() | BinaryenFeatureMutableGlobals() |
                                   BinaryenFeatureNontrappingFPToInt());
  return m;
}

static int heap_base(Graph *g, BinaryenModuleRef m, uint32_t *base) {
  BinaryenExportRef e = BinaryenGetExport(m, "__heap_base");
  if (!e) return ir_errorf(g, NULL, "internal: the kernel module does not export __heap_base");
  BinaryenGlobalRef gl = BinaryenGetGlobal(m, BinaryenExportGetValue(e));
  if (!gl) return ir_errorf(g, NULL, "internal: __heap_base is not a global");
  *base = (uint32_t)BinaryenConstGetValueI32(BinaryenGlobalGetInitExpr(gl));
  return 0;
}

int cg_wasm_base(Graph *g, uint32_t *base) {
  BinaryenModuleRef m = read_kernels(false);
  if (!m) return ir_errorf(g, NULL, "internal: cannot read the kernel module");
  int r = heap_base(g, m, base);
  BinaryenModuleDispose(m);
  return r;
}

/* Adds active data segments: binaryen 108 (Debian 12) BinaryenSetMemory appends to the module's
 * segments; a binaryen that replaces them instead is detected and reported, not silently wrong. */
static int add_segments(BinaryenModuleRef m, int n, char **data, const BinaryenIndex *size, const uint32_t *off,
                        uint32_t pages, const char *export_name) {
  uint32_t before = BinaryenGetNumMemorySegments(m);
  int total = (int)before + n;
  char **d = calloc((size_t)total + 1, sizeof *d);
  BinaryenIndex *sz = calloc((size_t)total + 1, sizeof *sz);
  BinaryenExpressionRef *offs = calloc((size_t)total + 1, sizeof *offs);
  bool *passive = calloc((size_t)total + 1, sizeof *passive);
  if (!d || !sz || !offs || !passive) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  for (int i = 0; i < n; i++) {
    d[i] = data[i]; sz[i] = size[i];
    offs[i] = BinaryenConst(m, BinaryenLiteralInt32((int32_t)off[i]));
  }
  BinaryenSetMemory(m, pages, 65536, export_name, (const char **)d, passive, offs, sz, (BinaryenIndex)n, false);
  int ok = BinaryenGetNumMemorySegments(m) == (uint32_t)total;
  free(d); free(sz); free(offs); free(passive);
  return ok ? 0 : -1;
}

static void remove_all_exports(BinaryenModuleRef m) {
  for (;;) {
    BinaryenIndex n = BinaryenGetNumExports(m);
    if (!n) return;
    char name[256];
    snprintf(name, sizeof name, "%s", BinaryenExportGetName(BinaryenGetExportByIndex(m, n - 1)));
    BinaryenRemoveExport(m, name);
  }
}


static BinaryenExpressionRef i32c(BinaryenModuleRef m, int64_t v) { return BinaryenConst(m, BinaryenLiteralInt32((int32_t)v)); }

/* the value of run-time symbol s: an i32 load from the dims table */
static BinaryenExpressionRef sym_load(BinaryenModuleRef m, const Program *p, int s) {
  return BinaryenLoad(m, 4, true, 0, 4, BinaryenTypeInt32(), i32c(m, p->params_addr + 4u * (uint32_t)p->rt_index[s]));
}

/* a dim polynomial as i32 arithmetic over the symbol loads (bounded symbols keep it in range) */
static BinaryenExpressionRef dim_expr(BinaryenModuleRef m, const Program *p, Dim d) {
  if (ir_dim_known(d)) return i32c(m, d.c);
  BinaryenExpressionRef sum = NULL;
  for (int i = 0; i < d.e->n; i++) {
    const DimTerm *t = &d.e->t[i];
    BinaryenExpressionRef term = t->deg && t->coef == 1 ? NULL : i32c(m, t->coef);
    for (int k = 0; k < t->deg; k++) {
      BinaryenExpressionRef s = sym_load(m, p, t->sym[k]);
      term = term ? BinaryenBinary(m, BinaryenMulInt32(), term, s) : s;
    }
    sum = sum ? BinaryenBinary(m, BinaryenAddInt32(), sum, term) : term;
  }
  return sum;
}

static BinaryenExpressionRef i64c(BinaryenModuleRef m, int64_t v) { return BinaryenConst(m, BinaryenLiteralInt64(v)); }

/* element symbol s (ir.h SymDef): its input's element as i64, a mapped value replaced by the dim it stands for */
static BinaryenExpressionRef elem_value(BinaryenModuleRef m, const Program *p, int s) {
  const SymDef *d = p->sym_def[s];
  const CgTensor *t = &p->inputs[d->input];
  DType dt = t->dt;
  uint32_t addr = t->addr + (uint32_t)d->elem * (uint32_t)ir_dtype_size(dt);
#define LOADV() (dt == DT_INT64 ? BinaryenLoad(m, 8, true, 0, 8, BinaryenTypeInt64(), i32c(m, addr)) \
    : dt == DT_DOUBLE ? BinaryenUnary(m, BinaryenTruncSatSFloat64ToInt64(), BinaryenLoad(m, 8, true, 0, 8, BinaryenTypeFloat64(), i32c(m, addr))) \
    : dt == DT_FLOAT ? BinaryenUnary(m, BinaryenTruncSatSFloat32ToInt64(), BinaryenLoad(m, 4, true, 0, 4, BinaryenTypeFloat32(), i32c(m, addr))) \
    : BinaryenUnary(m, BinaryenExtendSInt32(), BinaryenLoad(m, 4, true, 0, 4, BinaryenTypeInt32(), i32c(m, addr))))
  BinaryenExpressionRef v = LOADV();
  for (int k = d->nmap - 1; k >= 0; k--)
    v = BinaryenSelect(m, BinaryenBinary(m, BinaryenEqInt64(), LOADV(), i64c(m, d->map_from[k])),
                       BinaryenUnary(m, BinaryenExtendSInt32(), dim_expr(m, p, d->map_to[k])), v, BinaryenTypeInt64());
#undef LOADV
  return v;
}

/* ---- the weights segment, spliced into binaryen's output while writing ---- */
static size_t uleb(uint8_t *o, uint64_t v) {
  size_t n = 0;
  do { uint8_t b = v & 0x7f; v >>= 7; o[n++] = b | (v ? 0x80 : 0); } while (v);
  return n;
}
static size_t sleb(uint8_t *o, int64_t v) {
  size_t n = 0;
  for (;;) {
    uint8_t b = v & 0x7f;
    v >>= 7;
    bool done = (v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40));
    o[n++] = b | (done ? 0 : 0x80);
    if (done) return n;
  }
}
static bool read_uleb(const uint8_t *b, size_t n, size_t *pos, uint64_t *v) {
  *v = 0;
  for (int sh = 0; sh < 64 && *pos < n; sh += 7) {
    uint8_t c = b[(*pos)++];
    *v |= (uint64_t)(c & 0x7f) << sh;
    if (!(c & 0x80)) return true;
  }
  return false;
}

/* where module b's sections lie: one walk serves the splice and the size statistics */
typedef struct {
  size_t code_end;              /* end of the code section */
  size_t data_at, data_end;     /* the data section (0, 0: none) and */
  size_t segs_at; uint64_t nseg; /* its segments after their count */
  size_t dc_at, dc_end;         /* the data count section (0, 0: none) */
  size_t custom;                /* bytes of custom sections (the signature, the profile) */
} Sections;

static bool scan_sections(const uint8_t *b, size_t n, Sections *s) {
  memset(s, 0, sizeof *s);
  size_t pos = 8;
  while (pos < n) {
    size_t at = pos++;
    uint64_t sz;
    if (!read_uleb(b, n, &pos, &sz) || sz > n - pos) return false;
    size_t end = pos + sz;
    if (b[at] == 0) s->custom += end - at;
    if (b[at] == 10) s->code_end = end;
    if (b[at] == 11) {
      s->data_at = at; s->data_end = end; s->segs_at = pos;
      if (!read_uleb(b, n, &s->segs_at, &s->nseg)) return false;
    }
    if (b[at] == 12) { s->dc_at = at; s->dc_end = end; }
    pos = end;
  }
  return s->code_end != 0;
}

/* writes module b (binaryen's, no weights; sections in sc) to path with one more active data segment: the
 * weights at p->weights_addr. The data section gains the segment (and the data count section, if any, one
 * more); a module without a data section gets one after its code. */
static int write_with_weights(Graph *g, const char *path, const uint8_t *b, size_t n, const Sections *sc, const Program *p,
                              size_t *total) {
  *total = n;
  if (!p->weights_size) return cg_write_atomic(g, path, b, n);
  uint8_t seg[32], hdr[16], cnt[16], dc[16];
  size_t ns = 0;
  seg[ns++] = 0x00;                         /* active, memory 0, offset expression */
  seg[ns++] = 0x41;                         /* i32.const weights_addr end */
  ns += sleb(seg + ns, (int32_t)p->weights_addr);
  seg[ns++] = 0x0b;
  ns += uleb(seg + ns, p->weights_size);
  const uint8_t *rest = sc->data_at ? b + sc->segs_at : NULL;   /* the existing segments */
  size_t nrest = sc->data_at ? sc->data_end - sc->segs_at : 0;
  size_t nc = uleb(cnt, sc->nseg + 1);
  size_t nh = 0;
  hdr[nh++] = 11;
  nh += uleb(hdr + nh, nc + nrest + ns + p->weights_size);
  /* everything before the data section (or up to the code section's end, where a new one goes); the data
   * count section, before the code, is rewritten */
  size_t head_end = sc->data_at ? sc->data_at : sc->code_end, tail_at = sc->data_at ? sc->data_end : sc->code_end;
  CgOut *out = cg_out_open(g, path);
  if (!out) return -1;
  if (sc->dc_at) {
    size_t nd = 0;
    dc[nd++] = 12;
    nd += uleb(dc + nd, nc);
    memcpy(dc + nd, cnt, nc);
    nd += nc;
    cg_out_write(out, b, sc->dc_at);
    cg_out_write(out, dc, nd);
    cg_out_write(out, b + sc->dc_end, head_end - sc->dc_end);
    *total = *total - (sc->dc_end - sc->dc_at) + nd;
  } else cg_out_write(out, b, head_end);
  cg_out_write(out, hdr, nh);
  cg_out_write(out, cnt, nc);
  cg_out_write(out, rest, nrest);
  cg_out_write(out, seg, ns);
  cg_out_weights(out, p);
  cg_out_write(out, b + tail_at, n - tail_at);
  *total = *total - (sc->data_end - sc->data_at) + nh + nc + nrest + ns + p->weights_size;
  return cg_out_commit(out);
}

/* JSON list of the calls for profiling tools: [{"kernel", "params", "node"}, ...] */
static char *profile_json(const Program *p) {
  size_t cap = 64 + (size_t)p->ncalls * 128, n = 0;
  for (int i = 0; i < p->ncalls; i++) cap += strlen(p->calls[i].node) * 6;
  char *s = malloc(cap);
  if (!s) return NULL;
  n += (size_t)snprintf(s + n, cap - n, "[");
  for (int i = 0; i < p->ncalls; i++) {
    n += (size_t)snprintf(s + n, cap - n, "%s{\"kernel\": \"%s\", \"params\": %u, \"node\": \"", i ? ",\n" : "",
                          cg_kernel_names[p->calls[i].kernel], p->params_addr + p->calls[i].param_off);
    for (const char *c = p->calls[i].node; *c; c++) {
      if (*c == '"' || *c == '\\') n += (size_t)snprintf(s + n, cap - n, "\\%c", *c);
      else if ((unsigned char)*c < 0x20) n += (size_t)snprintf(s + n, cap - n, "\\u%04x", *c);
      else s[n++] = *c;
    }
    n += (size_t)snprintf(s + n, cap - n, "\"}");
  }
  snprintf(s + n, cap - n, "]");
  return s;
}

int cg_wasm_emit(Graph *g, const Program *p, const char *path, const WasmOptions *o, WasmStats *st) {
  BinaryenModuleRef m = read_kernels(o && o->relaxed);
  if (!m) return ir_errorf(g, NULL, "internal: cannot read the kernel module");
  uint32_t base;
  if (heap_base(g, m, &base)) { BinaryenModuleDispose(m); return -1; }
  if (base != p->base) { BinaryenModuleDispose(m); return ir_errorf(g, NULL, "internal: program lowered for base %u, kernels end at %u", p->base, base); }

  /* 1. keep only the kernels this model calls (exported under their names), optimize: the rest
   *    disappears and inlining happens inside kernels only. `run` is added afterwards on purpose:
   *    kernels inlined into the long straight-line run ran in V8's baseline tier, several times slower. */
  for (int k = 0; k < K_COUNT; k++)
    if (p->used[k] && !BinaryenGetExport(m, cg_kernel_names[k])) {
      BinaryenModuleDispose(m);
      return ir_errorf(g, NULL, "internal: kernel %s is missing from the runtime", cg_kernel_names[k]);
    }
  const char *fname[K_COUNT] = {0};
  char *kept[K_COUNT] = {0};
  for (int k = 0; k < K_COUNT; k++)        /* internal names, found through the exports (no name section) */
    if (p->used[k]) kept[k] = strdup(BinaryenExportGetValue(BinaryenGetExport(m, cg_kernel_names[k])));
  remove_all_exports(m);
  for (int k = 0; k < K_COUNT; k++)
    if (kept[k]) BinaryenAddFunctionExport(m, kept[k], cg_kernel_names[k]);
  int ret = 0;
  if (!BinaryenModuleValidate(m)) { ret = ir_errorf(g, NULL, "internal: the kernel module does not validate"); goto out; }
  BinaryenSetOptimizeLevel(3);
  BinaryenSetShrinkLevel(0);
  /* Large functions with one caller stay functions (binaryen's default inlines them at any size): V8 compiles
   * a module lazily, each function on its first call with its baseline compiler, and optimizes a function in
   * the background once it is hot. The kernels keep their variants (per op, per path) in separate functions
   * so that a model's first run has only the code it runs to optimize, and a long call switches to the
   * optimized code of the functions it calls as soon as that is ready. */
  BinaryenSetOneCallerInlineMaxSize(300);
  /* the kernels this model does not call go first: optimizing all of them took ~1 s of every compile */
  const char *prune[] = {"remove-unused-module-elements"};
  BinaryenModuleRunPasses(m, prune, 1);
  BinaryenModuleOptimize(m);
  int nused = 0;
  for (int k = 0; k < K_COUNT; k++) {
    if (!p->used[k]) continue;
    fname[k] = BinaryenExportGetValue(BinaryenGetExport(m, cg_kernel_names[k]));
    nused++;
  }

  /* 2. run: check the run-time dims against their bounds (return 1 if one is out of range), patch
   *    the parameter fields that depend on them, call each kernel with its block, return 0 */
  size_t nbody = 2 * (size_t)p->nrt + (size_t)p->nchecks + (size_t)p->npatches + (size_t)p->ncalls + 1, nb = 0;
  BinaryenExpressionRef *body = malloc(nbody * sizeof *body);
  for (int s = 0; s < p->nsyms; s++) {
    if (p->rt_index[s] < 0 || p->sym_def[s]) continue;
    BinaryenExpressionRef bad = BinaryenBinary(m, BinaryenGtUInt32(), sym_load(m, p, s), i32c(m, p->sym_max[s]));
    body[nb++] = BinaryenIf(m, bad, BinaryenReturn(m, i32c(m, 1)), NULL);
  }
  /* derived symbols, in order (each reads only the symbols before it): floor(num / den), num >= 0 */
  for (int s = 0; s < p->nsyms; s++) {
    if (p->rt_index[s] < 0 || !p->sym_def[s]) continue;
    if (p->sym_def[s]->src) {   /* an element symbol: read from its input, mapped, checked against its bound */
      body[nb++] = BinaryenIf(m, BinaryenBinary(m, BinaryenGtUInt64(), elem_value(m, p, s), i64c(m, p->sym_max[s])),
                              BinaryenReturn(m, i32c(m, 1)), NULL);
      body[nb++] = BinaryenStore(m, 4, 0, 4, i32c(m, p->params_addr + 4u * (uint32_t)p->rt_index[s]),
                                 BinaryenUnary(m, BinaryenWrapInt64(), elem_value(m, p, s)), BinaryenTypeInt32());
      continue;
    }
    BinaryenExpressionRef neg = BinaryenBinary(m, BinaryenLtSInt32(), dim_expr(m, p, p->sym_def[s]->num), i32c(m, 0));
    body[nb++] = BinaryenIf(m, neg, BinaryenReturn(m, i32c(m, 1)), NULL);
    BinaryenExpressionRef q = BinaryenBinary(m, BinaryenDivUInt32(), dim_expr(m, p, p->sym_def[s]->num), i32c(m, p->sym_def[s]->den));
    body[nb++] = BinaryenStore(m, 4, 0, 4, i32c(m, p->params_addr + 4u * (uint32_t)p->rt_index[s]), q, BinaryenTypeInt32());
  }
  for (int i = 0; i < p->nchecks; i++) {   /* dims the graph needs equal (ir_dim_assume_eq) */
    BinaryenExpressionRef ne = BinaryenBinary(m, BinaryenNeInt32(), dim_expr(m, p, p->checks[i].a), dim_expr(m, p, p->checks[i].b));
    body[nb++] = BinaryenIf(m, ne, BinaryenReturn(m, i32c(m, 1)), NULL);
  }
  for (int i = 0; i < p->npatches; i++)
    body[nb++] = BinaryenStore(m, 4, 0, 4, i32c(m, p->params_addr + p->patches[i].param_off),
                              dim_expr(m, p, p->patches[i].value), BinaryenTypeInt32());
  /* the `once` calls (constants the module computes when it starts; a prefix of the calls) run on the first
   * run only, guarded by a global: by then every loader has put the shipped weights in memory */
  int nonce = 0;
  while (nonce < p->ncalls && p->calls[nonce].once) nonce++;
  for (int i = nonce; i < p->ncalls; i++)
    if (p->calls[i].once) { free(body); ret = ir_errorf(g, NULL, "internal: a start-up call after the first kernel call"); goto out; }
  if (nonce) {
    BinaryenExpressionRef *first = malloc(((size_t)nonce + 1) * sizeof *first);
    for (int i = 0; i < nonce; i++) {
      BinaryenExpressionRef arg = i32c(m, p->params_addr + p->calls[i].param_off);
      first[i] = BinaryenCall(m, fname[p->calls[i].kernel], &arg, 1, BinaryenTypeNone());
    }
    first[nonce] = BinaryenGlobalSet(m, "o2w_started", i32c(m, 1));
    BinaryenAddGlobal(m, "o2w_started", BinaryenTypeInt32(), true, i32c(m, 0));
    body[nb++] = BinaryenIf(m, BinaryenUnary(m, BinaryenEqZInt32(), BinaryenGlobalGet(m, "o2w_started", BinaryenTypeInt32())),
                            BinaryenBlock(m, NULL, first, (BinaryenIndex)nonce + 1, BinaryenTypeNone()), NULL);
    free(first);
  }
  for (int i = nonce; i < p->ncalls; i++) {
    BinaryenExpressionRef arg = i32c(m, p->params_addr + p->calls[i].param_off);
    body[nb++] = BinaryenCall(m, fname[p->calls[i].kernel], &arg, 1, BinaryenTypeNone());
  }
  body[nb++] = BinaryenReturn(m, i32c(m, 0));
  BinaryenExpressionRef block = BinaryenBlock(m, NULL, body, (BinaryenIndex)nb, BinaryenTypeNone());
  free(body);
  if (!(o && o->profile))                     /* the profiler calls kernels one by one */
    for (int k = 0; k < K_COUNT; k++)
      if (p->used[k]) BinaryenRemoveExport(m, cg_kernel_names[k]);
  BinaryenAddFunction(m, "o2w_run", BinaryenTypeNone(), BinaryenTypeInt32(), NULL, 0, block);
  BinaryenAddFunctionExport(m, "o2w_run", "run");
  char name[32];
  for (int i = 0; i < p->ninputs + p->noutputs; i++) {
    bool in = i < p->ninputs;
    const CgTensor *t = in ? &p->inputs[i] : &p->outputs[i - p->ninputs];
    snprintf(name, sizeof name, "%s_%d", in ? "input" : "output", in ? i : i - p->ninputs);
    BinaryenAddGlobal(m, name, BinaryenTypeInt32(), false, BinaryenConst(m, BinaryenLiteralInt32((int32_t)t->addr)));
    BinaryenAddGlobalExport(m, name, name);
  }

  /* 3. memory: the kernels' own segments stay; add the parameter blocks (the weights come in step 4) */
  uint32_t pages = (p->total + 65535) / 65536;
  if (pages < 1) pages = 1;
  char *pdata = (char *)p->params;
  BinaryenIndex psize = (BinaryenIndex)p->params_size;
  if (add_segments(m, 1, &pdata, &psize, &p->params_addr, pages, "memory")) {
    ret = ir_errorf(g, NULL, "internal: unexpected data segment behaviour of binaryen");
    goto out;
  }

  char *sig = cg_signature_json(p);
  BinaryenAddCustomSection(m, "onnx2wasm.signature", sig, (BinaryenIndex)strlen(sig));
  free(sig);
  if (o && o->profile) {
    char *prof = profile_json(p);
    if (prof) BinaryenAddCustomSection(m, "onnx2wasm.profile", prof, (BinaryenIndex)strlen(prof));
    free(prof);
  }
  if (!BinaryenModuleValidate(m)) { ret = ir_errorf(g, NULL, "internal: the generated module does not validate"); goto out; }
  /* 4. the module without its weights from binaryen; the weights segment is spliced in as the file is
   *    written, streamed from the constants (binaryen would hold two more copies of them) */
  BinaryenModuleAllocateAndWriteResult r = BinaryenModuleAllocateAndWrite(m, NULL);
  if (o && o->relaxed) {                      /* the placeholders become relaxed-SIMD instructions */
    uint8_t *rb;
    size_t rn;
    char err[200];
    if (cg_wasm_relax(r.binary, r.binaryBytes, &rb, &rn, err, sizeof err)) {
      free(r.binary); free(r.sourceMap);
      ret = ir_errorf(g, NULL, "internal: relaxed-SIMD rewrite: %s", err);
      goto out;
    }
    free(r.binary);
    r.binary = rb;
    r.binaryBytes = rn;
  }
  size_t module_bytes = 0;
  Sections sc;
  if (!scan_sections(r.binary, r.binaryBytes, &sc)) {
    free(r.binary); free(r.sourceMap);
    ret = ir_errorf(g, NULL, "internal: cannot parse binaryen's module");
    goto out;
  }
  ret = write_with_weights(g, path, r.binary, r.binaryBytes, &sc, p, &module_bytes);
  if (ret && st) st->write_failed = true;
  if (st) { st->module_bytes = module_bytes; st->code_bytes = r.binaryBytes - sc.custom; st->kernels = nused; }
  free(r.binary); free(r.sourceMap);
out:
  for (int k = 0; k < K_COUNT; k++) free(kept[k]);
  BinaryenModuleDispose(m);
  return ret;
}
