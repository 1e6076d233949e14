/* plan.c — the static memory plan. Constants get offsets in the weights blob; inputs and outputs
 * get dedicated arena slots; intermediates and kernel scratch share the rest of the arena by
 * liveness (largest first, each at the lowest offset clear of the buffers live at the same time).
 * Outputs of view ops (Reshape, Flatten, ...) on intermediates alias their input's storage, and a
 * resident cache's input (passes/resident_kv.c) the storage of its output. Results: Value.offset, Value.alias,
 * Node.scratch_off/scratch_bytes, Graph.weights_size, Graph.arena_size. */
#include "passes.h"
#include "../ir/ops.h"

#include <stdlib.h>
#include <string.h>

#define ALIGN 64
static int64_t align_up(int64_t x) { return (x + ALIGN - 1) & ~(int64_t)(ALIGN - 1); }

static Value *root(Value *v) { while (v->alias) v = v->alias; return v; }

/* an arena buffer: value v (its root) or node n's scratch, live from node `first` to node `last` */
typedef struct { Value *v; Node *n; int64_t size; int first, last, seq; int64_t off; } Buf;

static int buf_by_size(const void *a, const void *b) {      /* largest first, then by node order */
  const Buf *x = a, *y = b;
  if (x->size != y->size) return x->size > y->size ? -1 : 1;
  return x->seq - y->seq;
}

/* placed buffers (indices into the size-sorted list) whose lifetime touches a range of node indices */
#define TIME_BUCKET 64
#define RT_MIN_INT(a, b) ((a) < (b) ? (a) : (b))
typedef struct { int *idx; int n, cap; } Bucket;
static void bucket_add(Bucket *b, int k) {
  if (b->n == b->cap) {
    b->cap = b->cap ? 2 * b->cap : 8;
    b->idx = realloc(b->idx, (size_t)b->cap * sizeof *b->idx);
    if (!b->idx) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  }
  b->idx[b->n++] = k;
}

static int buf_by_off(const void *a, const void *b) {
  const Buf *x = *(Buf *const *)a, *y = *(Buf *const *)b;
  return x->off < y->off ? -1 : x->off > y->off;
}

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
  /* 3. weights: every constant a live node reads (for one the module computes when it starts, its source),
   *    then after them the constants computed at the start: shipped bytes first, the rest only reserved */
  int64_t woff = 0;
  Value *reads[IR_MAX_IO + 4];
  for (int pass = 0; pass < 2; pass++) {
    for (int i = 0; i < g->nnodes; i++) {
      int nr = ir_node_reads(g->nodes[i], reads);
      for (int k = 0; k < nr; k++) {
        Value *v = reads[k];
        if (v->kind != VK_CONST) continue;
        if (!v->data && !v->init_kind) continue;   /* shape arithmetic over run-time dims (Value.sym): read at
                                                      compile time only (a Reshape's shape); no storage */
        if (pass == 0 && v->init_kind) {   /* its sources ship */
          Value *aux = v->init_aux;
          if (aux && aux->offset < 0) { aux->offset = woff; woff = align_up(woff + ir_nbytes_max(g, aux)); }
          v = v->init_src;
        } else if (pass == 1 && !v->init_kind) continue;
        if (v->offset < 0) { v->offset = woff; woff = align_up(woff + ir_nbytes_max(g, v)); }
      }
    }
    if (pass == 0) g->shipped_size = woff;
  }
  g->weights_size = woff;
  /* 4. liveness: last reader of each root */
  for (int i = 0; i < g->nnodes; i++) {
    int nr = ir_node_reads(g->nodes[i], reads);
    for (int k = 0; k < nr; k++) root(reads[k])->last_use = i;
  }
  /* 5. arena: inputs and outputs first (dedicated slots, never reused), then intermediates and kernel
   *    scratch. Every buffer's live range [first node, last node] is known up front, so they are placed
   *    largest first, each at the lowest offset clear of the buffers already placed whose ranges meet its
   *    own (greedy by size): closer to the most bytes ever live at once than allocating in node order with
   *    first fit, which leaves holes the big buffers of later layers do not fit in. A smaller arena is
   *    fewer fresh pages for the first run to fault in. */
  int64_t base = 0;
  for (int i = 0; i < g->ninputs; i++)
    if (!g->inputs[i]->alias) { g->inputs[i]->offset = base; base += align_up(ir_nbytes_max(g, g->inputs[i]) ? ir_nbytes_max(g, g->inputs[i]) : 1); }
  for (int i = 0; i < g->noutputs; i++)
    if (g->outputs[i]->offset < 0) { g->outputs[i]->offset = base; base += align_up(ir_nbytes_max(g, g->outputs[i]) ? ir_nbytes_max(g, g->outputs[i]) : 1); }
  int nb = 0, cap = 64;
  Buf *bufs = malloc((size_t)cap * sizeof *bufs);
  for (int i = 0; i < g->nnodes && bufs; i++) {
    Node *n = g->nodes[i];
    for (int k = 0; k <= n->nout; k++) {
      Value *v = k < n->nout ? n->out[k] : NULL;
      int64_t size;
      if (k < n->nout) {
        if (!v || v->alias || v->offset >= 0) continue;
        size = ir_nbytes_max(g, v);
      } else {
        n->scratch_bytes = ops_table[n->op].scratch ? ops_table[n->op].scratch(g, n) : 0;
        if (!n->scratch_bytes) continue;
        if (n->scratch_bytes < 0 || n->scratch_bytes >= IR_MAX_BYTES) {
          ir_errorf(g, n, "the kernel needs %lld bytes of scratch space, more than the 4 GiB a wasm32 module addresses", (long long)n->scratch_bytes);
          break;
        }
        size = n->scratch_bytes;
      }
      if (nb == cap) { cap *= 2; Buf *nbufs = realloc(bufs, (size_t)cap * sizeof *bufs); if (!nbufs) { free(bufs); bufs = NULL; break; } bufs = nbufs; }
      int last = v ? v->last_use : i;
      if (last < i) last = i;                                     /* never read: free right after */
      if (v && (v->kind != VK_TEMP || v->is_output)) last = g->nnodes;   /* never freed */
      bufs[nb] = (Buf){v, v ? NULL : n, align_up(size ? size : 1), i, last, nb, -1};
      nb++;
    }
  }
  if (!bufs) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  qsort(bufs, (size_t)nb, sizeof *bufs, buf_by_size);
  int64_t top = base;
  /* The buffers placed so far that are live at the same time as b: found through an index of the
   * placed buffers by node ranges of TIME_BUCKET nodes (each buffer listed in every range its lifetime
   * touches), so a long graph is planned in linear time rather than comparing every pair. */
  int nbk = g->nnodes / TIME_BUCKET + 1;
  Bucket *bk = calloc((size_t)nbk, sizeof *bk);
  int *seen = calloc((size_t)nb + 1, sizeof *seen);
  Buf **meet = malloc(((size_t)nb + 1) * sizeof *meet);
  if (!meet || !bk || !seen) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  for (int k = 0; k < nb; k++) {
    Buf *b = &bufs[k];
    int nm = 0;
    int lo = b->first / TIME_BUCKET, hi = RT_MIN_INT(b->last / TIME_BUCKET, nbk - 1);
    for (int t = lo; t <= hi; t++)
      for (int e = 0; e < bk[t].n; e++) {
        int j = bk[t].idx[e];
        if (seen[j] == k + 1) continue;
        seen[j] = k + 1;
        if (bufs[j].first <= b->last && b->first <= bufs[j].last) meet[nm++] = &bufs[j];
      }
    qsort(meet, (size_t)nm, sizeof *meet, buf_by_off);
    int64_t off = base;
    for (int j = 0; j < nm && meet[j]->off < off + b->size; j++)
      if (meet[j]->off + meet[j]->size > off) off = meet[j]->off + meet[j]->size;
    b->off = off;
    for (int t = lo; t <= hi; t++) bucket_add(&bk[t], k);
    if (off + b->size > top) top = off + b->size;
    if (b->v) b->v->offset = off;
    else b->n->scratch_off = off;
  }
  for (int t = 0; t < nbk; t++) free(bk[t].idx);
  free(bk); free(seen); free(meet);
  free(bufs);
  for (int i = 0; i < g->nnodes; i++) if (!g->nodes[i]->scratch_bytes) g->nodes[i]->scratch_off = 0;
  g->arena_size = top;
  /* aliases take their root's offset */
  for (int i = 0; i < g->nvalues; i++) if (g->values[i]->alias) g->values[i]->offset = root(g->values[i])->offset;
  return 0;
}
