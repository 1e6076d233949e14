/* text.c — TfIdfVectorizer over integer tokens (pool_int64s; string pools are not supported): infer, lower.
 * The pool is flattened at compile time into a table of n-grams (length, output index, weight, values) that
 * travels after the kernel's parameter block (rt_tfidf). */
#include "opcommon.h"

#include <stdlib.h>

typedef struct {
  const int64_t *pool, *counts, *idx;
  int npool, ncounts, nidx, mode, min_n, max_n, max_skip;
  int64_t nout;
  const Attr *weights;
} TfIdf;

static int tfidf_spec(Graph *g, Node *n, TfIdf *t) {
  memset(t, 0, sizeof *t);
  if (ir_attr(n, "pool_strings")) return ir_errorf(g, n, "pool_strings is not supported (string tensors); pool_int64s is");
  t->npool = ir_attr_ints(n, "pool_int64s", &t->pool);
  t->ncounts = ir_attr_ints(n, "ngram_counts", &t->counts);
  t->nidx = ir_attr_ints(n, "ngram_indexes", &t->idx);
  if (t->npool < 0 || t->ncounts < 0 || t->nidx < 0) return ir_errorf(g, n, "needs pool_int64s, ngram_counts and ngram_indexes");
  static const char *const modes[] = {"TF", "IDF", "TFIDF"};
  const char *m = ir_attr_str(n, "mode", "");
  t->mode = -1;
  for (int i = 0; i < 3; i++)
    if (!strcmp(m, modes[i])) t->mode = i;
  if (t->mode < 0) return ir_errorf(g, n, "mode '%s' is not one of TF, IDF, TFIDF", m);
  t->min_n = (int)ir_attr_int(n, "min_gram_length", 0);
  t->max_n = (int)ir_attr_int(n, "max_gram_length", 0);
  int64_t skip = ir_attr_int(n, "max_skip_count", 0);
  if (t->min_n < 1 || t->max_n < t->min_n || t->max_n > t->ncounts || skip < 0 || skip > INT32_MAX)
    return ir_errorf(g, n, "min_gram_length/max_gram_length/max_skip_count must satisfy 1 <= min <= max <= %d entries of ngram_counts, skip >= 0",
                     t->ncounts);
  t->max_skip = (int)skip;
  for (int k = 0; k < t->ncounts; k++)
    if (t->counts[k] < 0 || t->counts[k] > t->npool || (k && t->counts[k] < t->counts[k - 1]))
      return ir_errorf(g, n, "ngram_counts must be non-decreasing offsets into pool_int64s");
  t->nout = 0;
  for (int i = 0; i < t->nidx; i++) {
    if (t->idx[i] < 0 || t->idx[i] >= INT32_MAX) return ir_errorf(g, n, "ngram_indexes[%d] = %lld is out of range", i, (long long)t->idx[i]);
    if (t->idx[i] + 1 > t->nout) t->nout = t->idx[i] + 1;
  }
  t->weights = ir_attr(n, "weights");
  if (t->weights && (t->weights->type != AT_FLOATS || t->weights->n != t->nidx))
    return ir_errorf(g, n, "weights must be %d floats, one per pool n-gram (as ngram_indexes)", t->nidx);
  return 0;
}

int op_tfidf_infer(Graph *g, Node *n) {
  Value *x = n->in[0];
  TfIdf t;
  if (tfidf_spec(g, n, &t)) return -1;
  if (x->dt != DT_INT32 && x->dt != DT_INT64) return ir_errorf(g, n, "input '%s' has dtype %s, expected int32 or int64", x->name, ir_dtype_name(x->dt));
  if (x->rank != 1 && x->rank != 2) return ir_errorf(g, n, "input '%s' has rank %d, expected 1 or 2", x->name, x->rank);
  Dim dims[2] = {x->dims[0], ir_dimc(t.nout)};
  if (x->rank == 1) oc_set_out(n->out[0], DT_FLOAT, 1, &dims[1]);
  else oc_set_out(n->out[0], DT_FLOAT, 2, dims);
  return 0;
}

int op_tfidf_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0];
  TfIdf t;
  if (tfidf_spec(g, n, &t)) return -1;
  /* the pool's n-grams of the counted lengths: group k (length k+1) is pool[counts[k] .. counts[k+1]) */
  int ngrams = 0, j = 0, nvals = 0;
  int32_t (*ent)[4] = calloc((size_t)t.npool + 1, sizeof *ent);
  if (!ent) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  for (int k = 0; k < t.ncounts; k++) {
    int len = k + 1;
    int64_t end = k + 1 < t.ncounts ? t.counts[k + 1] : t.npool;
    for (int64_t at = t.counts[k]; at + len <= end; at += len, j++) {
      if (j >= t.nidx) { free(ent); return ir_errorf(g, n, "ngram_indexes has fewer entries than the pool has n-grams"); }
      if (len < t.min_n || len > t.max_n) continue;
      float w = t.weights ? t.weights->floats[j] : 1.0f;   /* per pool n-gram, as onnxruntime */
      ent[ngrams][0] = len;
      ent[ngrams][1] = (int32_t)t.idx[j];
      memcpy(&ent[ngrams][2], &w, 4);
      ent[ngrams][3] = (int32_t)at;
      ngrams++;
    }
  }
  nvals = t.npool;
  size_t hdr = (sizeof(RtTfIdf) + 7) & ~(size_t)7, size = hdr + 16 * (size_t)ngrams + 8 * (size_t)nvals;
  unsigned char *blk = calloc(1, size);
  if (!blk) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  memcpy(blk + hdr, ent, 16 * (size_t)ngrams);
  memcpy(blk + hdr + 16 * (size_t)ngrams, t.pool, 8 * (size_t)nvals);   /* little-endian hosts and targets */
  free(ent);
  RtTfIdf p = {.x = cg_addr(cx, x), .y = cg_addr(cx, n->out[0]), .x64 = x->dt == DT_INT64, .nout = (int32_t)t.nout,
               .mode = t.mode, .max_skip = t.max_skip, .ngrams = ngrams, .tab = (int32_t)hdr};
  CG_DIM(cx, p, n, x->rank == 2 ? x->dims[0] : ir_dimc(1));
  CG_DIM(cx, p, c, x->dims[x->rank - 1]);
  memcpy(blk, &p, sizeof p);
  int rc = cg_call(cx, K_tfidf, blk, size, n);
  free(blk);
  return rc;
}
