/* lower.c — planned Graph -> Program: addresses, parameter blocks, kernel calls, signature. */
#include "lower.h"
#include "../ir/ops.h"

#include <stdlib.h>
#include <string.h>

const char *const cg_kernel_names[K_COUNT] = {
#define K(id, params) "rt_" #id,
#include "../runtime/kernels.def"
#undef K
};

typedef struct { size_t field_off; Dim value; } Pending;
struct LowerCtx { Graph *g; Program *p; Pending pend[64]; int npend; };

static uint32_t align64(uint64_t x) { return (uint32_t)((x + 63) & ~(uint64_t)63); }

Graph *cg_graph(LowerCtx *cx) { return cx->g; }

uint32_t cg_addr(LowerCtx *cx, const Value *v) {
  if (!v) return 0;
  while (v->alias) v = v->alias;
  if (v->offset < 0 && v->kind == VK_CONST && !v->data && !v->init_kind)
    return ir_errorf(cx->g, NULL, "'%s' depends on run-time dims and is read by a kernel; not supported yet", v->name), 0;
  if (v->offset < 0) { ir_errorf(cx->g, v->producer, "internal: value '%s' has no storage", v->name); return 0; }
  return (uint32_t)v->offset + (v->kind == VK_CONST ? cx->p->weights_addr : cx->p->arena_addr);
}

uint32_t cg_scratch(LowerCtx *cx, const Node *n) { return cx->p->arena_addr + (uint32_t)n->scratch_off; }

RtAct cg_node_act(const Node *n) { RtAct a = {n->act, n->act_a, n->act_b}; return a; }

void cg_set(LowerCtx *cx, const void *block, int32_t *field, Dim d) {
  if (ir_dim_known(d)) {
    /* a 32-bit field: element counts, strides and byte offsets (unsigned addresses up to 4 GiB) */
    if (d.c < INT32_MIN || d.c > (int64_t)UINT32_MAX)
      ir_errorf(cx->g, NULL, "a kernel parameter of value %lld does not fit 32 bits", (long long)d.c);
    *field = (int32_t)(uint32_t)d.c;
    return;
  }
  *field = 0;
  if (cx->npend == 64) { ir_errorf(cx->g, NULL, "internal: too many symbolic fields in one parameter block"); return; }
  cx->pend[cx->npend++] = (Pending){(size_t)((const char *)field - (const char *)block), d};
}

/* size bytes in the parameter region, 16-byte aligned; returns the block's offset in Program.params */
static size_t params_append(LowerCtx *cx, const void *bytes, size_t size) {
  Program *p = cx->p;
  size_t off = (p->params_size + 15) & ~(size_t)15;
  if (off + size > p->params_cap) {
    p->params_cap = (off + size) * 2 + 1024;
    p->params = realloc(p->params, p->params_cap);
  }
  if (!p->params) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  memset(p->params + p->params_size, 0, off - p->params_size);
  memcpy(p->params + off, bytes, size);
  p->params_size = off + size;
  return off;
}

uint32_t cg_data(LowerCtx *cx, const void *bytes, size_t size) {
  if (ir_failed(cx->g)) return 0;
  return cx->p->params_addr + (uint32_t)params_append(cx, bytes, size);
}

int cg_call(LowerCtx *cx, int kernel, const void *params, size_t size, const Node *n) {
  Program *p = cx->p;
  int npend = cx->npend;
  cx->npend = 0;
  if (ir_failed(cx->g)) return -1;
  if (p->ncalls == p->capcalls) {
    p->capcalls = p->capcalls ? p->capcalls * 2 : 64;
    p->calls = realloc(p->calls, (size_t)p->capcalls * sizeof *p->calls);
  }
  if (!p->calls) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  size_t off = params_append(cx, params, size);
  for (int i = 0; i < npend; i++) {
    if (p->npatches == p->cappatches) {
      p->cappatches = p->cappatches ? p->cappatches * 2 : 64;
      p->patches = realloc(p->patches, (size_t)p->cappatches * sizeof *p->patches);
      if (!p->patches) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
    }
    p->patches[p->npatches++] = (CgPatch){(uint32_t)(off + cx->pend[i].field_off), cx->pend[i].value};
  }
  p->calls[p->ncalls++] = (CgCall){kernel, (uint32_t)off, (uint32_t)size, n ? n->name : "", false};
  p->used[kernel] = true;
  return 0;
}

static void tensor_of(Graph *g, LowerCtx *cx, const Value *v, CgTensor *t) {
  t->name = v->name;
  t->dt = v->dt;
  t->rank = v->rank;
  for (int i = 0; i < v->rank; i++) {
    t->shape[i] = ir_dim_max(g, v->dims[i]);
    t->dims[i] = v->dims[i];
    /* a name only when it is a symbol of the graph (an output's own dim_param names mean nothing to a host) */
    for (int s = 0; s < g->nsyms && v->dim_names[i]; s++)
      if (!strcmp(g->syms[s], v->dim_names[i])) t->dim_names[i] = g->syms[s];
    if (!ir_dim_known(v->dims[i])) {
      char buf[256];
      ir_dim_str(g, v->dims[i], buf, sizeof buf);
      t->dim_expr[i] = ir_strdup(&g->arena, buf);
    }
  }
  t->addr = cg_addr(cx, v);
  t->bytes = (uint32_t)ir_nbytes_max(g, v);
  t->cap = v->cap;
  t->cap_axis = v->cap_axis;
  t->resident_in = v->resident_in ? v->resident_in->name : NULL;
}

static int piece_cmp(const void *a, const void *b) {
  size_t x = ((const CgPiece *)a)->off, y = ((const CgPiece *)b)->off;
  return x < y ? -1 : x > y;
}

uint8_t *cg_weights_blob(const Program *p) {
  uint8_t *w = calloc(p->weights_size ? p->weights_size : 1, 1);
  if (w)
    for (int i = 0; i < p->npieces; i++) memcpy(w + p->pieces[i].off, p->pieces[i].src, p->pieces[i].n);
  return w;
}

int cg_lower(Graph *g, uint32_t base, Program *p) {
  memset(p, 0, sizeof *p);
  LowerCtx cx = {.g = g, .p = p};
  uint64_t total = (uint64_t)align64(base) + (uint64_t)g->weights_size + (uint64_t)g->arena_size;
  if (total > 0xF0000000ull)
    return ir_errorf(g, NULL, "the model needs %llu bytes of memory (run-time dims at their bounds), more than wasm32 allows; "
                     "lower the bounds with --max-dim NAME=BOUND or bind dims with --dim NAME=VALUE", (unsigned long long)total);
  p->base = base;
  p->weights_addr = align64(base);
  p->arena_addr = align64((uint64_t)p->weights_addr + (uint64_t)g->weights_size);
  p->arena_size = (size_t)g->arena_size;
  p->params_addr = align64((uint64_t)p->arena_addr + p->arena_size);   /* known up front: cg_data returns addresses */
  p->opset = g->opset;
  /* run-time symbols: a dims table at the start of the parameter region */
  if (g->nsyms > 256) return ir_errorf(g, NULL, "more than 256 dim_param symbols");
  for (int i = 0; i < g->nsyms; i++) p->rt_index[i] = g->sym_value[i] >= 0 ? -1 : p->nrt++;
  if (p->nrt) {
    p->params_cap = 1024;
    p->params = calloc(1, p->params_cap);
    if (!p->params) return ir_errorf(g, NULL, "out of memory");
    p->params_size = (size_t)p->nrt * 4;
  }
  /* weights blob: the shipped constants; the ones computed when the module starts lie after it, in memory
   * reserved up to arena_addr, each written by a `once` call (the first calls of the Program) */
  p->weights_size = (size_t)g->shipped_size;
  for (int i = 0; i < g->nvalues; i++) {
    Value *v = g->values[i];
    if (v->kind == VK_CONST && v->offset >= 0 && !v->alias && !v->init_kind) {
      if (!v->data || v->offset + ir_nbytes(v) > g->shipped_size) return ir_errorf(g, NULL, "internal: constant '%s' has no place among the shipped weights", v->name);
      if (!ir_nbytes(v)) continue;
      if (!(p->npieces & (p->npieces - 1))) {
        CgPiece *q = realloc(p->pieces, (size_t)(p->npieces ? 2 * p->npieces : 1) * sizeof *q);
        if (!q) return ir_errorf(g, NULL, "out of memory");
        p->pieces = q;
      }
      p->pieces[p->npieces++] = (CgPiece){(size_t)v->offset, (size_t)ir_nbytes(v), v->data};
    }
  }
  if (p->npieces > 1) qsort(p->pieces, (size_t)p->npieces, sizeof *p->pieces, piece_cmp);
  for (int i = 1; i < p->npieces; i++)
    if (p->pieces[i].off < p->pieces[i - 1].off + p->pieces[i - 1].n) return ir_errorf(g, NULL, "internal: shipped constants overlap");
  for (int i = 0; i < g->nvalues; i++) {
    Value *v = g->values[i];
    if (v->kind != VK_CONST || v->offset < 0 || !v->init_kind) continue;
    const Value *w = v->init_src;
    if (!w || w->offset < 0 || !ir_shape_known(w) || w->rank < 3 || (v->init_kind == IR_INIT_WINO && w->rank != 4) ||
        (v->init_kind != IR_INIT_WINO && v->init_kind != IR_INIT_CONVPACK && v->init_kind != IR_INIT_QCONV))
      return ir_errorf(g, NULL, "internal: start-up constant '%s' has no known transform", v->name);
    int32_t k = (int32_t)w->dims[0].c;
    int rc;
    if (v->init_kind == IR_INIT_WINO) {
      RtWinoPack wp = {cg_addr(&cx, w), cg_addr(&cx, v), k, (int32_t)w->dims[1].c, v->init_arg};
      rc = cg_call(&cx, K_wino_pack_f32, &wp, sizeof wp, NULL);
    } else if (v->init_kind == IR_INIT_QCONV) {   /* w - w_zp in int16 (RtQConvPack) */
      const Value *z = v->init_aux;
      int32_t cg = (int32_t)w->dims[1].c, fl = (w->dt == DT_INT8 ? RT_Q_B_S8 : 0) | (z && ir_numel(z) > 1 ? RT_Q_BZP_VEC : 0);
      RtQConvPack qp = {cg_addr(&cx, w), cg_addr(&cx, z), cg_addr(&cx, v), k, cg, (int32_t)(ir_numel(w) / k / cg), v->init_arg, fl};
      rc = cg_call(&cx, K_q_conv_pack, &qp, sizeof qp, NULL);
    } else {
      RtConvPack cp = {cg_addr(&cx, w), cg_addr(&cx, v), k, (int32_t)(ir_numel(w) / k), v->init_arg};
      rc = cg_call(&cx, K_conv_pack_f32, &cp, sizeof cp, NULL);
    }
    if (rc) return -1;
    p->calls[p->ncalls - 1].once = true;
  }
  /* kernel calls */
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    const OpInfo *op = &ops_table[n->op];
    if (!op->lower) return ir_errorf(g, n, "is only supported when its inputs are constant (no run-time kernel yet)");
    g->cur = n;
    int rc = op->lower(&cx, n) || ir_failed(g) ? -1 : 0;
    g->cur = NULL;
    if (rc) return -1;
  }
  p->total = align64((uint64_t)p->params_addr + p->params_size);
  /* signature */
  p->inputs = calloc((size_t)g->ninputs + 1, sizeof *p->inputs);
  p->outputs = calloc((size_t)g->noutputs + 1, sizeof *p->outputs);
  for (int i = 0; i < g->ninputs; i++) tensor_of(g, &cx, g->inputs[i], &p->inputs[i]);
  for (int i = 0; i < g->noutputs; i++) tensor_of(g, &cx, g->outputs[i], &p->outputs[i]);
  p->ninputs = g->ninputs;
  p->noutputs = g->noutputs;
  p->syms = g->syms; p->sym_value = g->sym_value; p->sym_max = g->sym_max; p->nsyms = g->nsyms; p->sym_def = g->sym_def;
  p->checks = g->checks; p->nchecks = g->nchecks;
  return ir_failed(g) ? -1 : 0;
}

void cg_program_free(Program *p) {
  free(p->calls); free(p->params); free(p->pieces); free(p->inputs); free(p->outputs); free(p->patches);
  memset(p, 0, sizeof *p);
}

/* ---- signature JSON ---- */
typedef struct { char *s; size_t n, cap; } Buf;
static void bput(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void bput(Buf *b, const char *fmt, ...) {
  va_list ap;
  for (;;) {
    va_start(ap, fmt);
    int k = vsnprintf(b->s ? b->s + b->n : NULL, b->s ? b->cap - b->n : 0, fmt, ap);
    va_end(ap);
    if (k >= 0 && b->s && b->n + (size_t)k < b->cap) { b->n += (size_t)k; return; }
    b->cap = (b->cap + (size_t)(k > 0 ? k : 0)) * 2 + 256;
    b->s = realloc(b->s, b->cap);
    if (!b->s) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  }
}

static void bstr(Buf *b, const char *s) {
  bput(b, "\"");
  for (; *s; s++) {
    unsigned char c = (unsigned char)*s;
    if (c == '"' || c == '\\') bput(b, "\\%c", c);
    else if (c < 0x20) bput(b, "\\u%04x", c);
    else bput(b, "%c", c);
  }
  bput(b, "\"");
}

static void btensors(Buf *b, const CgTensor *t, int n) {
  bput(b, "[");
  for (int i = 0; i < n; i++) {
    bput(b, "%s{\"name\": ", i ? ", " : "");
    bstr(b, t[i].name);
    bput(b, ", \"dtype\": \"%s\", \"dims\": [", ir_dtype_name(t[i].dt));
    for (int d = 0; d < t[i].rank; d++) {
      if (d) bput(b, ", ");
      if (t[i].dim_expr[d]) bstr(b, t[i].dim_expr[d]);
      else if (t[i].dim_names[d]) bstr(b, t[i].dim_names[d]);
      else bput(b, "%lld", (long long)t[i].shape[d]);
    }
    bput(b, "], \"shape\": [");
    for (int d = 0; d < t[i].rank; d++) bput(b, "%s%lld", d ? ", " : "", (long long)t[i].shape[d]);
    bput(b, "], \"offset\": %u, \"bytes\": %u", t[i].addr, t[i].bytes);
    if (t[i].cap > 0) bput(b, ", \"storage\": {\"axis\": %d, \"capacity\": %lld}", t[i].cap_axis, (long long)t[i].cap);
    if (t[i].resident_in) { bput(b, ", \"resident_in\": "); bstr(b, t[i].resident_in); }
    bput(b, "}");
  }
  bput(b, "]");
}

char *cg_signature_json(const Program *p) {
  Buf b = {0};
  bput(&b, "{\"version\": 1, \"producer\": \"onnx2wasm " O2W_VERSION "\", \"opset\": %d,\n \"inputs\": ", p->opset);
  btensors(&b, p->inputs, p->ninputs);
  bput(&b, ",\n \"outputs\": ");
  btensors(&b, p->outputs, p->noutputs);
  bput(&b, ",\n \"symbols\": {");
  for (int i = 0, k = 0; i < p->nsyms; i++) {
    if (p->sym_value[i] < 0) continue;
    bput(&b, "%s", k++ ? ", " : "");
    bstr(&b, p->syms[i]);
    bput(&b, ": %lld", (long long)p->sym_value[i]);
  }
  bput(&b, "},\n \"runtime_symbols\": [");
  for (int i = 0, k = 0; i < p->nsyms; i++) {
    if (p->rt_index[i] < 0) continue;
    bput(&b, "%s{\"name\": ", k++ ? ", " : "");
    bstr(&b, p->syms[i]);
    bput(&b, ", \"index\": %d, \"max\": %lld", p->rt_index[i], (long long)p->sym_max[i]);
    if (p->sym_def[i] && p->sym_def[i]->src) {   /* read by the module from an input's element */
      const SymDef *d = p->sym_def[i];
      char e[512];
      bput(&b, ", \"element\": {\"input\": ");
      bstr(&b, p->inputs[d->input].name);
      bput(&b, ", \"index\": %lld", (long long)d->elem);
      if (d->nmap) bput(&b, ", \"map\": [");
      for (int j = 0; j < d->nmap; j++) {
        ir_dim_str_syms(p->syms, d->map_to[j], e, sizeof e);
        bput(&b, "%s{\"from\": %lld, \"to\": ", j ? ", " : "", (long long)d->map_from[j]);
        bstr(&b, e);
        bput(&b, "}");
      }
      if (d->nmap) bput(&b, "]");
      bput(&b, ", \"node\": ");
      bstr(&b, d->node);
      bput(&b, "}");
    } else if (p->sym_def[i]) {   /* computed by the module: floor(num / den) */
      char e[512];
      ir_dim_str_syms(p->syms, p->sym_def[i]->num, e, sizeof e);
      bput(&b, ", \"derived\": {\"num\": ");
      bstr(&b, e);
      bput(&b, ", \"den\": %lld}", (long long)p->sym_def[i]->den);
    }
    bput(&b, "}");
  }
  bput(&b, "],\n \"dim_checks\": [");
  for (int i = 0; i < p->nchecks; i++) {   /* equal at run time, else run() refuses (status 1) */
    char e[512];
    bput(&b, "%s{\"a\": ", i ? ", " : "");
    ir_dim_str_syms(p->syms, p->checks[i].a, e, sizeof e);
    bstr(&b, e);
    bput(&b, ", \"b\": ");
    ir_dim_str_syms(p->syms, p->checks[i].b, e, sizeof e);
    bstr(&b, e);
    bput(&b, ", \"node\": ");
    bstr(&b, p->checks[i].node);
    bput(&b, "}");
  }
  bput(&b, "],\n \"dims_addr\": %u,\n \"memory\": {", p->params_addr);
  bput(&b, "\"weights_offset\": %u, \"weights_bytes\": %zu, \"arena_offset\": %u, \"arena_bytes\": %zu, \"total_bytes\": %u}}\n",
       p->weights_addr, p->weights_size, p->arena_addr, p->arena_size, p->total);
  return b.s;
}

void cg_program_dump(const Program *p, FILE *f) {
  fprintf(f, "# program: %d calls, weights %zu B at %u, arena %zu B at %u, params %zu B at %u\n", p->ncalls, p->weights_size,
          p->weights_addr, p->arena_size, p->arena_addr, p->params_size, p->params_addr);
  for (int i = 0; i < p->ncalls; i++) {
    const CgCall *c = &p->calls[i];
    fprintf(f, "  call %-22s params@%-8u # %s\n", cg_kernel_names[c->kernel], p->params_addr + c->param_off, c->node);
  }
}
