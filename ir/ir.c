/* ir.c — arena, dtype table, symbolic dims, graph construction, error reporting and IR printing. */
#define _DEFAULT_SOURCE   /* mmap, madvise(MADV_PAGEOUT) */
#include "ir.h"
#include "ops.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- arena ---- */
struct ArenaBlock { ArenaBlock *next; size_t used, cap; _Alignas(16) unsigned char mem[]; };

void *ir_alloc(Arena *a, size_t n) {
  n = (n + 15) & ~(size_t)15;
  if (!a->head || a->head->used + n > a->head->cap) {
    size_t cap = n > (1u << 20) ? n : (1u << 20);
    ArenaBlock *b = malloc(sizeof *b + cap);
    if (!b) { fprintf(stderr, "onnx2wasm: out of memory (%zu bytes)\n", n); exit(3); }
    b->next = a->head; b->used = 0; b->cap = cap;
    a->head = b;
  }
  void *p = a->head->mem + a->head->used;
  a->head->used += n;
  a->total += n;
  memset(p, 0, n);
  return p;
}

char *ir_strdup(Arena *a, const char *s) {
  size_t n = strlen(s) + 1;
  char *d = ir_alloc(a, n);
  memcpy(d, s, n);
  return d;
}

void ir_arena_free(Arena *a) {
  for (ArenaBlock *b = a->head, *nx; b; b = nx) { nx = b->next; free(b); }
  a->head = NULL; a->total = 0;
}

/* ---- dtypes ---- */
static const struct { const char *name; int size; } dtypes[DT_COUNT_] = {
  [DT_UNDEF] = {"undefined", 0}, [DT_FLOAT] = {"float32", 4}, [DT_UINT8] = {"uint8", 1},
  [DT_INT8] = {"int8", 1}, [DT_UINT16] = {"uint16", 2}, [DT_INT16] = {"int16", 2},
  [DT_INT32] = {"int32", 4}, [DT_INT64] = {"int64", 8}, [DT_STRING] = {"string", 0},
  [DT_BOOL] = {"bool", 1}, [DT_FLOAT16] = {"float16", 2}, [DT_DOUBLE] = {"float64", 8},
  [DT_UINT32] = {"uint32", 4}, [DT_UINT64] = {"uint64", 8}, [DT_BFLOAT16] = {"bfloat16", 2},
};

int ir_dtype_size(DType t) { return (unsigned)t < DT_COUNT_ ? dtypes[t].size : 0; }
const char *ir_dtype_name(DType t) { return (unsigned)t < DT_COUNT_ ? dtypes[t].name : "unknown"; }
bool ir_dtype_is_float(DType t) { return t == DT_FLOAT || t == DT_DOUBLE || t == DT_FLOAT16 || t == DT_BFLOAT16; }
bool ir_dtype_is_int(DType t) {
  return t == DT_UINT8 || t == DT_INT8 || t == DT_UINT16 || t == DT_INT16 || t == DT_INT32 ||
         t == DT_INT64 || t == DT_UINT32 || t == DT_UINT64;
}

/* ---- values ---- */
/* product of counts that are >= 0, saturating at INT64_MAX (a negative dim is ir_check_size's to report) */
static int64_t count_mul(int64_t a, int64_t b) {
  int64_t r;
  if (a < 0 || b < 0) return a < 0 ? a : b;
  return ir_mul_ok(a, b, &r) ? r : INT64_MAX;
}

int64_t ir_numel(const Value *v) {
  if (v->rank < 0) return -1;
  int64_t n = 1;
  for (int i = 0; i < v->rank; i++) {
    if (!ir_dim_known(v->dims[i])) return -1;
    if (v->dims[i].c < 0) return -1;             /* not a shape (refused by ir_check_size) */
    n = count_mul(n, v->dims[i].c);
  }
  return n;
}

int64_t ir_nbytes(const Value *v) {
  int64_t n = ir_numel(v);
  return n < 0 ? -1 : count_mul(n, ir_dtype_size(v->dt));
}

int64_t ir_numel_max(const Graph *g, const Value *v) {
  if (v->rank < 0) return -1;
  int64_t n = 1;
  for (int i = 0; i < v->rank; i++) {
    int64_t d = v->cap > 0 && i == v->cap_axis ? v->cap : ir_dim_max(g, v->dims[i]);
    if (d < 0) return -1;
    n = count_mul(n, d);
  }
  return n;
}

int64_t ir_nbytes_max(const Graph *g, const Value *v) {
  int64_t n = ir_numel_max(g, v);
  return n < 0 ? -1 : count_mul(n, ir_dtype_size(v->dt));
}

int ir_check_size(Graph *g, const Node *n, const Value *v) {
  if (!v || v->rank < 0) return 0;
  if (!n) n = g->cur;
  char s[256];
  for (int i = 0; i < v->rank; i++) {
    int64_t d = ir_dim_max(g, v->dims[i]);
    if (d < 0 || d >= IR_MAX_BYTES) {   /* also for an empty tensor: a dim next to a 0 cannot be 2^62 */
      ir_value_str(g, v, s, sizeof s);
      return ir_errorf(g, n, "'%s' has shape %s: dim %d is %s", v->name, s, i, d < 0 ? "negative" : "2^32 or more");
    }
  }
  int64_t nb = ir_nbytes_max(g, v);
  if (nb >= IR_MAX_BYTES) {
    ir_value_str(g, v, s, sizeof s);
    if (nb == INT64_MAX) return ir_errorf(g, n, "'%s' has shape %s: its size overflows 64 bits", v->name, s);
    return ir_errorf(g, n, "'%s' has shape %s (%lld bytes): a tensor must be smaller than the 4 GiB a wasm32 module addresses",
                     v->name, s, (long long)nb);
  }
  return 0;
}

void ir_set_shape(Value *v, int rank, const int64_t *dims) {
  assert(rank >= 0 && rank <= IR_MAX_RANK);
  v->rank = rank;
  for (int i = 0; i < rank; i++) v->dims[i] = ir_dimc(dims[i]);
}

bool ir_shape_known(const Value *v) { return ir_numel(v) >= 0; }

bool ir_same_shape(const Value *a, const Value *b) {
  if (a->rank != b->rank || a->rank < 0) return false;
  for (int i = 0; i < a->rank; i++)
    if (!ir_dim_eq(a->dims[i], b->dims[i])) return false;
  return true;
}

void ir_strides(Graph *g, const Value *v, Dim *strides) {
  Dim acc = ir_dimc(1);
  for (int d = v->rank - 1; d >= 0; d--) {
    strides[d] = acc;
    acc = ir_dim_mul(g, acc, v->cap > 0 && d == v->cap_axis ? ir_dimc(v->cap) : v->dims[d]);
  }
}

/* ---- graph ---- */
Graph *ir_graph_new(void) {
  Graph *g = calloc(1, sizeof *g);
  if (!g) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  g->opset = 13;
  g->default_max = 1024;
  return g;
}

typedef struct IrMapping { void *base; size_t len; char *path; } IrMapping;

void *ir_map_file(Graph *g, const char *path, size_t *len) {
  for (int i = 0; i < g->nmaps; i++)
    if (!strcmp(g->maps[i].path, path)) { *len = g->maps[i].len; return g->maps[i].base; }
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return NULL;
  struct stat st;
  if (fstat(fd, &st)) { int e = errno; close(fd); errno = e; return NULL; }
  if (st.st_size == 0) { close(fd); errno = EINVAL; return NULL; }
  void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
  int e = errno;
  close(fd);
  if (p == MAP_FAILED) { errno = e; return NULL; }
  IrMapping *m = realloc(g->maps, (size_t)(g->nmaps + 1) * sizeof *m);
  if (!m) { munmap(p, (size_t)st.st_size); errno = ENOMEM; return NULL; }
  g->maps = m;
  g->maps[g->nmaps++] = (IrMapping){p, (size_t)st.st_size, ir_strdup(&g->arena, path)};
  *len = (size_t)st.st_size;
  return p;
}

void ir_release(Graph *g, const void *p, size_t n) {
  uintptr_t a = (uintptr_t)p, pg = (uintptr_t)sysconf(_SC_PAGESIZE);
  for (int i = 0; i < g->nmaps; i++) {
    uintptr_t b = (uintptr_t)g->maps[i].base;
    if (a < b || a + n > b + g->maps[i].len) continue;
    uintptr_t lo = (a + pg - 1) & ~(pg - 1), hi = (a + n) & ~(pg - 1);   /* whole pages inside [p, p + n) */
#ifdef MADV_PAGEOUT
    if (hi > lo) madvise((void *)lo, hi - lo, MADV_PAGEOUT);              /* a hint: failure changes nothing */
#endif
    return;
  }
}

void ir_graph_free(Graph *g) {
  if (!g) return;
  for (int i = 0; i < g->nmaps; i++) munmap(g->maps[i].base, g->maps[i].len);
  free(g->maps);
  free(g->nodes); free(g->values); free(g->inputs); free(g->outputs); free(g->syms); free(g->sym_value); free(g->sym_max); free(g->sym_def); free(g->checks);
  ir_arena_free(&g->arena);
  free(g);
}

static void *grow(void *p, int *cap, int need, size_t elem) {
  if (need <= *cap) return p;
  int c = *cap ? *cap * 2 : 64;
  while (c < need) c *= 2;
  void *q = realloc(p, (size_t)c * elem);
  if (!q) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  *cap = c;
  return q;
}

Value *ir_value(Graph *g, const char *name) {
  Value *v = ir_alloc(&g->arena, sizeof *v);
  v->name = ir_strdup(&g->arena, name ? name : "");
  v->rank = -1;
  v->offset = -1;
  v->last_use = -1;
  g->values = grow(g->values, &g->capvalues, g->nvalues + 1, sizeof *g->values);
  v->id = g->nvalues;
  g->values[g->nvalues++] = v;
  return v;
}

Value *ir_const(Graph *g, const char *name, DType dt, int rank, const int64_t *dims, const void *data) {
  Value *v = ir_value(g, name);
  v->kind = VK_CONST;
  v->dt = dt;
  ir_set_shape(v, rank, dims);
  size_t nb = (size_t)ir_nbytes(v);
  v->data = ir_alloc(&g->arena, nb ? nb : 1);
  if (data && nb) memcpy(v->data, data, nb);
  return v;
}

Value *ir_const_view(Graph *g, const char *name, DType dt, int rank, const int64_t *dims, void *data) {
  Value *v = ir_value(g, name);
  v->kind = VK_CONST;
  v->dt = dt;
  ir_set_shape(v, rank, dims);
  v->data = data;
  return v;
}

Value *ir_init_const(Graph *g, const char *name, DType dt, int rank, const int64_t *dims, int kind, Value *src, int arg) {
  Value *v = ir_value(g, name);
  v->kind = VK_CONST;
  v->dt = dt;
  ir_set_shape(v, rank, dims);
  v->init_kind = kind;
  v->init_src = src;
  v->init_arg = arg;
  return v;
}

static Node *node_new(Graph *g, const char *op_type, int opset) {
  Node *n = ir_alloc(&g->arena, sizeof *n);
  n->op_type = ir_strdup(&g->arena, op_type);
  n->domain = "";
  n->op = ops_lookup(op_type, "");
  n->opset = opset;
  n->in = ir_alloc(&g->arena, IR_MAX_IO * sizeof *n->in);
  n->out = ir_alloc(&g->arena, IR_MAX_IO * sizeof *n->out);
  n->index = -1;
  return n;
}

Node *ir_node_detached(Graph *g, const char *name, const char *op_type, int opset) {
  Node *n = node_new(g, op_type, opset);
  n->name = ir_strdup(&g->arena, name);
  return n;
}

void ir_insert_nodes(Graph *g, int pos, Node *const *ns, int k) {
  assert(pos >= 0 && pos <= g->nnodes);
  g->nodes = grow(g->nodes, &g->capnodes, g->nnodes + k, sizeof *g->nodes);
  memmove(&g->nodes[pos + k], &g->nodes[pos], (size_t)(g->nnodes - pos) * sizeof *g->nodes);
  memcpy(&g->nodes[pos], ns, (size_t)k * sizeof *ns);
  g->nnodes += k;
  for (int i = pos; i < g->nnodes; i++) g->nodes[i]->index = i;
}

Node *ir_node(Graph *g, const char *name, const char *op_type, int opset) {
  Node *n = node_new(g, op_type, opset);
  g->nodes = grow(g->nodes, &g->capnodes, g->nnodes + 1, sizeof *g->nodes);
  n->index = g->nnodes;
  g->nodes[g->nnodes++] = n;
  if (name && *name) n->name = ir_strdup(&g->arena, name);
  else {
    char buf[96];
    snprintf(buf, sizeof buf, "%s_%d", op_type, n->index);
    n->name = ir_strdup(&g->arena, buf);
  }
  return n;
}

void ir_add_input(Graph *g, Node *n, Value *v) {
  if (n->nin >= IR_MAX_IO) { ir_errorf(g, n, "more than %d inputs", IR_MAX_IO); return; }
  n->in[n->nin++] = v;
  if (v) v->nuses++;
}

void ir_add_output(Graph *g, Node *n, Value *v) {
  if (n->nout >= IR_MAX_IO) { ir_errorf(g, n, "more than %d outputs", IR_MAX_IO); return; }
  n->out[n->nout++] = v;
  if (v) v->producer = n;
}

Node *ir_insert_after(Graph *g, Node *after, const char *name, const char *op_type) {
  Node *n = ir_node(g, name, op_type, after->opset);   /* appended at the end ... */
  int pos = after->index + 1;                          /* ... then moved into place */
  memmove(&g->nodes[pos + 1], &g->nodes[pos], (size_t)(g->nnodes - 1 - pos) * sizeof *g->nodes);
  g->nodes[pos] = n;
  for (int i = pos; i < g->nnodes; i++) g->nodes[i]->index = i;
  return n;
}

int ir_node_reads(const Node *n, Value **out) {
  int k = 0;
  for (int j = 0; j < n->nin; j++) {
    Value *v = n->wpack && j == op_weight_slot(n) ? n->wpack : n->in[j];
    if (v) out[k++] = v;
  }
  if (n->res) out[k++] = n->res;
  if (n->bias) out[k++] = n->bias;
  if (n->xscale) out[k++] = n->xscale;
  if (n->wscale) out[k++] = n->wscale;
  return k;
}

void ir_recount_uses(Graph *g) {
  for (int i = 0; i < g->nvalues; i++) {
    g->values[i]->nuses = 0;
    if (g->values[i]->kind != VK_CONST) g->values[i]->producer = NULL;
  }
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->nin; j++) if (n->in[j]) n->in[j]->nuses++;
    if (n->res) n->res->nuses++;
    if (n->xscale) n->xscale->nuses++;
    if (n->wpack) n->wpack->nuses++;
    if (n->wscale) n->wscale->nuses++;
    if (n->bias) n->bias->nuses++;
    for (int j = 0; j < n->nout; j++) if (n->out[j]) n->out[j]->producer = n;
  }
}

void ir_replace_uses(Graph *g, Value *from, Value *to) {
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->nin; j++) if (n->in[j] == from) n->in[j] = to;
    if (n->res == from) n->res = to;
    if (n->xscale == from) n->xscale = to;
  }
  for (int i = 0; i < g->noutputs; i++) if (g->outputs[i] == from) g->outputs[i] = to;
  ir_recount_uses(g);
}

void ir_compact(Graph *g) {
  int k = 0;
  for (int i = 0; i < g->nnodes; i++)
    if (!g->nodes[i]->dead) { g->nodes[k] = g->nodes[i]; g->nodes[k]->index = k; k++; }
  g->nnodes = k;
  ir_recount_uses(g);
}

/* ---- symbolic dims ---- */
int ir_sym(Graph *g, const char *name) {
  for (int i = 0; i < g->nsyms; i++) if (!strcmp(g->syms[i], name)) return i;
  g->syms = realloc(g->syms, (size_t)(g->nsyms + 1) * sizeof *g->syms);
  g->sym_value = realloc(g->sym_value, (size_t)(g->nsyms + 1) * sizeof *g->sym_value);
  if (!g->syms || !g->sym_value) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  g->sym_max = realloc(g->sym_max, (size_t)(g->nsyms + 1) * sizeof *g->sym_max);
  g->sym_def = realloc(g->sym_def, (size_t)(g->nsyms + 1) * sizeof *g->sym_def);
  if (!g->sym_max || !g->sym_def) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  g->sym_def[g->nsyms] = NULL;
  g->syms[g->nsyms] = ir_strdup(&g->arena, name);
  g->sym_value[g->nsyms] = -1;
  g->sym_max[g->nsyms] = g->default_max;
  return g->nsyms++;
}

/* ---- attributes ---- */
const Attr *ir_attr(const Node *n, const char *name) {
  for (int i = 0; i < n->nattr; i++) if (!strcmp(n->attrs[i].name, name)) return &n->attrs[i];
  return NULL;
}

int64_t ir_attr_int(const Node *n, const char *name, int64_t dflt) {
  const Attr *a = ir_attr(n, name);
  return a && a->type == AT_INT ? a->i : dflt;
}

float ir_attr_float(const Node *n, const char *name, float dflt) {
  const Attr *a = ir_attr(n, name);
  return a && a->type == AT_FLOAT ? a->f : dflt;
}

const char *ir_attr_str(const Node *n, const char *name, const char *dflt) {
  const Attr *a = ir_attr(n, name);
  return a && a->type == AT_STRING ? a->s : dflt;
}

int ir_attr_ints(const Node *n, const char *name, const int64_t **out) {
  const Attr *a = ir_attr(n, name);
  if (!a || a->type != AT_INTS) return -1;
  *out = a->ints;
  return a->n;
}

/* ---- errors ---- */
int ir_errorf(Graph *g, const Node *n, const char *fmt, ...) {
  if (g->failed) return -1;
  g->failed = true;
  int k = 0;
  if (!n) n = g->cur;
  if (n) k = snprintf(g->err, sizeof g->err, "node '%s' (%s, opset %d): ", n->name, n->op_type, n->opset);
  if (k < 0 || (size_t)k >= sizeof g->err) k = 0;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g->err + k, sizeof g->err - (size_t)k, fmt, ap);
  va_end(ap);
  return -1;
}

/* ---- printing ---- */
void ir_value_str(const Graph *g, const Value *v, char *buf, size_t n) {
  size_t k = (size_t)snprintf(buf, n, "%s", ir_dtype_name(v->dt));
  if (v->rank < 0) { if (k < n) snprintf(buf + k, n - k, "[?]"); return; }
  if (k < n) k += (size_t)snprintf(buf + k, n - k, "[");
  for (int i = 0; i < v->rank && k < n; i++) {
    char d[160];
    ir_dim_str(g, v->dims[i], d, sizeof d);
    k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? "," : "", d);
  }
  if (k < n) snprintf(buf + k, n - k, "]");
}

static void dump_value(const Graph *g, const Value *v, FILE *f) {
  char s[512];
  if (!v) { fputs("_", f); return; }
  ir_value_str(g, v, s, sizeof s);
  fprintf(f, "%%%s:%s%s", v->name, s, v->kind == VK_CONST ? "=const" : "");
}

void ir_dump(const Graph *g, FILE *f) {
  fprintf(f, "graph %s (opset %d)\n", g->name ? g->name : "", g->opset);
  for (int i = 0; i < g->ninputs; i++) { fputs("  input ", f); dump_value(g, g->inputs[i], f); fputc('\n', f); }
  for (int i = 0; i < g->nnodes; i++) {
    const Node *n = g->nodes[i];
    if (n->dead) continue;
    fputs("  ", f);
    for (int j = 0; j < n->nout; j++) { if (j) fputs(", ", f); dump_value(g, n->out[j], f); }
    fprintf(f, " = %s", n->op_type);
    if (n->act) fprintf(f, "+act%d(%g,%g)", n->act, n->act_a, n->act_b);
    fputc('(', f);
    for (int j = 0; j < n->nin; j++) { if (j) fputs(", ", f); fprintf(f, "%%%s", n->in[j] ? n->in[j]->name : "_"); }
    if (n->res) fprintf(f, ", res=%%%s", n->res->name);
    if (n->xscale) fprintf(f, ", xscale=%%%s", n->xscale->name);
    if (n->wpack) fprintf(f, ", wpack=%%%s", n->wpack->name);
    if (n->wscale) fprintf(f, ", wscale=%%%s (block %d%s)", n->wscale->name, n->wblock, n->wzeros ? ", zero points" : "");
    if (n->wino) fprintf(f, ", winograd=F(%dx%d,3x3)", n->wino, n->wino);
    if (n->bias) fprintf(f, ", bias=%%%s", n->bias->name);
    fprintf(f, ")  # %s\n", n->name);
  }
  for (int i = 0; i < g->noutputs; i++) { fputs("  output ", f); dump_value(g, g->outputs[i], f); fputc('\n', f); }
}

int ir_verify(Graph *g) {
  /* every live node's inputs are defined before it: inputs, constants or earlier outputs */
  char *seen = calloc((size_t)g->nvalues, 1);
  if (!seen) return -1;
  for (int i = 0; i < g->ninputs; i++) seen[g->inputs[i]->id] = 1;
  for (int i = 0; i < g->nvalues; i++) if (g->values[i]->kind == VK_CONST) seen[i] = 1;
  int bad = 0;
  for (int i = 0; i < g->nnodes && !bad; i++) {
    Node *n = g->nodes[i];
    if (n->dead) continue;
    for (int j = 0; j < n->nin; j++)
      if (n->in[j] && !seen[n->in[j]->id]) {
        bad = ir_errorf(g, n, "internal: input '%s' used before it is defined", n->in[j]->name);
        break;
      }
    if (n->res && !seen[n->res->id]) bad = ir_errorf(g, n, "internal: residual used before defined");
    if (n->xscale && !seen[n->xscale->id]) bad = ir_errorf(g, n, "internal: channel scale used before defined");
    for (int j = 0; j < n->nout; j++) if (n->out[j]) seen[n->out[j]->id] = 1;
  }
  for (int i = 0; i < g->noutputs && !bad; i++)
    if (!seen[g->outputs[i]->id]) bad = ir_errorf(g, NULL, "graph output '%s' is never computed", g->outputs[i]->name);
  free(seen);
  return bad ? -1 : 0;
}
