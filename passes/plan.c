/* plan.c — the static memory plan. Constants get offsets in the weights blob; inputs and outputs
 * get dedicated arena slots; intermediates and kernel scratch share the rest of the arena by
 * liveness (first fit, freed after their last reader). Outputs of view ops (Reshape, Flatten, ...)
 * on intermediates alias their input's storage, and a resident cache's input (passes/resident_kv.c)
 * the storage of its output. Results: Value.offset, Value.alias,
 * Node.scratch_off/scratch_bytes, Graph.weights_size, Graph.arena_size. */
#include "passes.h"
#include "../ir/ops.h"

#include <stdlib.h>
#include <string.h>

#define ALIGN 64
static int64_t align_up(int64_t x) { return (x + ALIGN - 1) & ~(int64_t)(ALIGN - 1); }

/* free list of arena blocks, sorted by offset */
typedef struct { int64_t off, size; } Block;
typedef struct { Block *b; int n, cap; int64_t top; } FreeList;

static int64_t fl_alloc(FreeList *fl, int64_t size) {
  size = align_up(size ? size : 1);
  for (int i = 0; i < fl->n; i++) {
    if (fl->b[i].size < size) continue;
    int64_t off = fl->b[i].off;
    fl->b[i].off += size; fl->b[i].size -= size;
    if (!fl->b[i].size) { memmove(&fl->b[i], &fl->b[i + 1], (size_t)(fl->n - i - 1) * sizeof(Block)); fl->n--; }
    return off;
  }
  if (fl->n && fl->b[fl->n - 1].off + fl->b[fl->n - 1].size == fl->top) {   /* grow the last free block */
    int64_t off = fl->b[--fl->n].off;
    fl->top = off + size;
    return off;
  }
  int64_t off = fl->top;
  fl->top += size;
  return off;
}

static void fl_free(FreeList *fl, int64_t off, int64_t size) {
  size = align_up(size ? size : 1);
  if (fl->n + 1 > fl->cap) {
    fl->cap = fl->cap ? fl->cap * 2 : 64;
    fl->b = realloc(fl->b, (size_t)fl->cap * sizeof(Block));
    if (!fl->b) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  }
  int i = 0;
  while (i < fl->n && fl->b[i].off < off) i++;
  memmove(&fl->b[i + 1], &fl->b[i], (size_t)(fl->n - i) * sizeof(Block));
  fl->b[i] = (Block){off, size};
  fl->n++;
  if (i + 1 < fl->n && fl->b[i].off + fl->b[i].size == fl->b[i + 1].off) {           /* merge right */
    fl->b[i].size += fl->b[i + 1].size;
    memmove(&fl->b[i + 1], &fl->b[i + 2], (size_t)(fl->n - i - 2) * sizeof(Block));
    fl->n--;
  }
  if (i > 0 && fl->b[i - 1].off + fl->b[i - 1].size == fl->b[i].off) {               /* merge left */
    fl->b[i - 1].size += fl->b[i].size;
    memmove(&fl->b[i], &fl->b[i + 1], (size_t)(fl->n - i - 1) * sizeof(Block));
    fl->n--;
  }
}

static Value *root(Value *v) { while (v->alias) v = v->alias; return v; }

int pass_plan(Graph *g) {
  ir_recount_uses(g);
  /* 1. views on intermediates share storage */
  for (int i = 0; i < g->nvalues; i++) { g->values[i]->alias = NULL; g->values[i]->offset = -1; g->values[i]->last_use = -1; }
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (!(ops_table[n->op].flags & OPF_VIEW)) continue;
    Value *x = n->in[0], *y = n->out[0];
    if (x->kind == VK_TEMP && !x->is_output && !y->is_output) y->alias = root(x);
  }
  for (int i = 0; i < g->ninputs; i++)             /* a resident cache's past lives in its present */
    if (g->inputs[i]->resident_in) g->inputs[i]->alias = g->inputs[i]->resident_in;
  /* 2. every buffer is sized for the bounds of the run-time dims (ir_nbytes_max) */
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    for (int k = 0; k < n->nout; k++)
      if (n->out[k] && ir_nbytes_max(g, n->out[k]) < 0) return ir_errorf(g, n, "the rank of output '%s' is unknown", n->out[k]->name);
  }
  for (int i = 0; i < g->nvalues; i++)
    if (g->values[i]->kind == VK_CONST && !g->values[i]->data && g->values[i]->nuses)
      return ir_errorf(g, g->values[i]->producer, "'%s' depends on run-time dims and is read by a kernel; not supported yet", g->values[i]->name);
  /* 3. weights: every constant a live node reads */
  int64_t woff = 0;
  Value *reads[IR_MAX_IO + 3];
  for (int i = 0; i < g->nnodes; i++) {
    int nr = ir_node_reads(g->nodes[i], reads);
    for (int k = 0; k < nr; k++) {
      Value *v = reads[k];
      if (v->kind == VK_CONST && v->offset < 0) { v->offset = woff; woff = align_up(woff + ir_nbytes_max(g, v)); }
    }
  }
  g->weights_size = woff;
  /* 4. liveness: last reader of each root */
  for (int i = 0; i < g->nnodes; i++) {
    int nr = ir_node_reads(g->nodes[i], reads);
    for (int k = 0; k < nr; k++) root(reads[k])->last_use = i;
  }
  /* 5. arena: inputs and outputs first (never reused), then intermediates by liveness */
  FreeList fl = {0};
  for (int i = 0; i < g->ninputs; i++)
    if (!g->inputs[i]->alias) g->inputs[i]->offset = fl_alloc(&fl, ir_nbytes_max(g, g->inputs[i]));
  for (int i = 0; i < g->noutputs; i++)
    if (g->outputs[i]->offset < 0) g->outputs[i]->offset = fl_alloc(&fl, ir_nbytes_max(g, g->outputs[i]));
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    for (int k = 0; k < n->nout; k++) {
      Value *v = n->out[k];
      if (!v || v->alias || v->offset >= 0) continue;
      v->offset = fl_alloc(&fl, ir_nbytes_max(g, v));
      if (v->last_use < 0) v->last_use = i;   /* never read: free right after */
    }
    n->scratch_bytes = ops_table[n->op].scratch ? ops_table[n->op].scratch(g, n) : 0;
    if (n->scratch_bytes) {
      n->scratch_off = fl_alloc(&fl, n->scratch_bytes);
      fl_free(&fl, n->scratch_off, n->scratch_bytes);
    }
    /* free roots whose last reader is this node (not inputs/outputs: they keep their slots) */
    int nr = ir_node_reads(n, reads);
    for (int k = 0; k < nr + n->nout; k++) {
      Value *v = k < nr ? reads[k] : n->out[k - nr];
      if (!v) continue;
      v = root(v);
      if (v->kind != VK_TEMP || v->is_output || v->last_use != i || v->offset < 0) continue;
      fl_free(&fl, v->offset, ir_nbytes_max(g, v));
      v->last_use = -2;                       /* freed */
    }
  }
  g->arena_size = fl.top;
  free(fl.b);
  /* aliases take their root's offset */
  for (int i = 0; i < g->nvalues; i++) if (g->values[i]->alias) g->values[i]->offset = root(g->values[i])->offset;
  return 0;
}
