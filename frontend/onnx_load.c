/* onnx_load.c — ModelProto (protobuf-c, generated from the system onnx.proto) to Graph. */
#define _XOPEN_SOURCE 700
#include "fe_internal.h"
#include "../ir/ops.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- files ---- */
static uint8_t *read_file(Graph *g, const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) { ir_errorf(g, NULL, "cannot open '%s': %s", path, strerror(errno)); return NULL; }
  struct stat st;
  if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) { fclose(f); ir_errorf(g, NULL, "'%s' is not a regular file", path); return NULL; }
  uint8_t *buf = malloc((size_t)st.st_size + 1);
  if (!buf) { fclose(f); ir_errorf(g, NULL, "'%s' is too large to read", path); return NULL; }
  size_t n = fread(buf, 1, (size_t)st.st_size, f);
  fclose(f);
  if (n != (size_t)st.st_size) { free(buf); ir_errorf(g, NULL, "cannot read '%s'", path); return NULL; }
  *len = n;
  return buf;
}

/* ---- name -> value (or node index) table (open addressing) ---- */
static size_t hash_str(const char *s) {
  size_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

void *fe_names_get(const Names *t, const char *k) {
  if (!t->cap) return NULL;
  for (size_t i = hash_str(k) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
    if (!t->s[i].key) return NULL;
    if (!strcmp(t->s[i].key, k)) return t->s[i].v;
  }
}

void fe_names_put(Names *t, const char *k, void *v) {
  if ((t->n + 1) * 2 > t->cap) {
    Names nt = {calloc(t->cap ? t->cap * 2 : 256, sizeof(Slot)), t->cap ? t->cap * 2 : 256, 0};
    if (!nt.s) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
    for (size_t i = 0; i < t->cap; i++) if (t->s[i].key) fe_names_put(&nt, t->s[i].key, t->s[i].v);
    free(t->s);
    *t = nt;
  }
  size_t i = hash_str(k) & (t->cap - 1);
  while (t->s[i].key && strcmp(t->s[i].key, k)) i = (i + 1) & (t->cap - 1);
  if (!t->s[i].key) t->n++;
  t->s[i].key = k;
  t->s[i].v = v;
}

Value *fe_lookup(const FeScope *sc, const char *name) {
  for (; sc; sc = sc->up) {
    Value *v = fe_names_get(&sc->names, name);
    if (v) return v;
  }
  return NULL;
}

/* ---- tensors ---- */
static bool supported_dtype(int dt) { return dt > 0 && dt < DT_COUNT_ && dt != DT_STRING && ir_dtype_size((DType)dt) > 0; }

/* resolves an external-data location inside dir; refuses absolute paths and escapes */
static int external_path(Graph *g, const char *tname, const char *dir, const char *loc, char *out, size_t n) {
  if (!loc || !*loc) return ir_errorf(g, NULL, "initializer '%s': external data has no location", tname);
  if (loc[0] == '/' || loc[0] == '\\')
    return ir_errorf(g, NULL, "initializer '%s': external data path '%s' is absolute; it must be relative to the model's folder", tname, loc);
  for (const char *p = loc; *p;) {                /* reject any ".." component */
    const char *e = p + strcspn(p, "/\\");
    if (e - p == 2 && p[0] == '.' && p[1] == '.')
      return ir_errorf(g, NULL, "initializer '%s': external data path '%s' leaves the model's folder", tname, loc);
    p = *e ? e + 1 : e;
  }
  char joined[PATH_MAX], rdir[PATH_MAX], rfile[PATH_MAX];
  snprintf(joined, sizeof joined, "%s/%s", dir, loc);
  if (!realpath(dir, rdir)) return ir_errorf(g, NULL, "cannot resolve the model's folder '%s'", dir);
  if (!realpath(joined, rfile)) return ir_errorf(g, NULL, "initializer '%s': external data file '%s' not found", tname, loc);
  size_t dl = strlen(rdir);
  if (strncmp(rfile, rdir, dl) || (rfile[dl] != '/' && strcmp(rdir, "/")))  /* a symlink pointing outside */
    return ir_errorf(g, NULL, "initializer '%s': external data path '%s' resolves outside the model's folder", tname, loc);
  snprintf(out, n, "%s", rfile);
  return 0;
}

/* where a tensor's external data lives, checked against the file before anything is allocated */
typedef struct { char path[PATH_MAX]; const char *loc; int64_t off; } ExtData;

static int external_check(Graph *g, const Onnx__TensorProto *t, const char *what, const char *name, int64_t nbytes, ExtData *x) {
  int64_t len = -1, end_off;
  x->loc = NULL;
  x->off = 0;
  for (size_t i = 0; i < t->n_external_data; i++) {
    const char *k = t->external_data[i]->key, *val = t->external_data[i]->value;
    if (!k || !val) continue;
    char *end;
    errno = 0;
    if (!strcmp(k, "location")) x->loc = val;
    else if (!strcmp(k, "offset")) { x->off = strtoll(val, &end, 10); if (*end || errno || x->off < 0) return ir_errorf(g, NULL, "%s '%s': bad external data offset '%s'", what, name, val); }
    else if (!strcmp(k, "length")) { len = strtoll(val, &end, 10); if (*end || errno || len < 0) return ir_errorf(g, NULL, "%s '%s': bad external data length '%s'", what, name, val); }
  }
  if (external_path(g, name, g->model_dir, x->loc, x->path, sizeof x->path)) return -1;
  if (len >= 0 && len != nbytes)
    return ir_errorf(g, NULL, "%s '%s': external data length %lld, expected %lld bytes", what, name, (long long)len, (long long)nbytes);
  struct stat st;
  if (stat(x->path, &st)) return ir_errorf(g, NULL, "%s '%s': cannot open external data '%s': %s", what, name, x->loc, strerror(errno));
  if (S_ISDIR(st.st_mode)) return ir_errorf(g, NULL, "%s '%s': external data '%s' is a directory, not a file", what, name, x->loc);
  if (!S_ISREG(st.st_mode)) return ir_errorf(g, NULL, "%s '%s': external data '%s' is not a regular file", what, name, x->loc);
  if (!ir_add_ok(x->off, nbytes, &end_off) || end_off > (int64_t)st.st_size)
    return ir_errorf(g, NULL, "%s '%s': external data '%s' has %lld bytes, shorter than offset %lld + %lld bytes",
                     what, name, x->loc, (long long)st.st_size, (long long)x->off, (long long)nbytes);
  return 0;
}

static int external_read(Graph *g, const ExtData *x, const char *what, Value *v, int64_t nbytes) {
  FILE *f = fopen(x->path, "rb");
  if (!f) return ir_errorf(g, NULL, "%s '%s': cannot open external data '%s': %s", what, v->name, x->loc, strerror(errno));
  int bad = fseeko(f, x->off, SEEK_SET) || fread(v->data, 1, (size_t)nbytes, f) != (size_t)nbytes;
  fclose(f);
  if (bad) return ir_errorf(g, NULL, "%s '%s': cannot read external data '%s' (changed while reading?)", what, v->name, x->loc);
  return 0;
}

/* how many values the typed field for dt holds, and its name */
static size_t typed_count(const Onnx__TensorProto *t, DType dt, const char **field) {
  switch (dt) {
  case DT_FLOAT: *field = "float_data"; return t->n_float_data;
  case DT_DOUBLE: *field = "double_data"; return t->n_double_data;
  case DT_INT64: *field = "int64_data"; return t->n_int64_data;
  case DT_UINT32: case DT_UINT64: *field = "uint64_data"; return t->n_uint64_data;
  default: *field = "int32_data"; return t->n_int32_data;   /* int32, int16, int8, uint16, uint8, bool, float16, bfloat16 */
  }
}

/* TensorProto -> constant Value (not registered under a name) */
Value *fe_tensor_value(Graph *g, const Onnx__TensorProto *t, const char *what) {
  const char *name = t->name ? t->name : "";
  if (!t->has_data_type || !supported_dtype(t->data_type)) {
    ir_errorf(g, NULL, "%s '%s': dtype %d is not supported", what, name, t->has_data_type ? t->data_type : 0);
    return NULL;
  }
  if (t->n_dims > IR_MAX_RANK) { ir_errorf(g, NULL, "%s '%s': rank %zu exceeds %d", what, name, t->n_dims, IR_MAX_RANK); return NULL; }
  int64_t numel = 1;
  for (size_t i = 0; i < t->n_dims; i++) {
    if (t->dims[i] < 0 || t->dims[i] >= IR_MAX_BYTES) {
      ir_errorf(g, NULL, "%s '%s': dim %zu is %lld, outside [0, 2^32)", what, name, i, (long long)t->dims[i]);
      return NULL;
    }
    if (t->dims[i] && numel > INT64_MAX / 16 / t->dims[i]) { ir_errorf(g, NULL, "%s '%s': the element count overflows", what, name); return NULL; }
    numel *= t->dims[i];
  }
  DType dt = (DType)t->data_type;
  int es = ir_dtype_size(dt);
  int64_t nbytes = numel * es;
  if (nbytes >= IR_MAX_BYTES) { ir_errorf(g, NULL, "%s '%s': %lld bytes is too large", what, name, (long long)nbytes); return NULL; }
  /* the claimed size against the bytes actually present, before the buffer is allocated: a 76-byte
   * file may claim gigabytes */
  bool external = t->has_data_location && t->data_location == ONNX__TENSOR_PROTO__DATA_LOCATION__EXTERNAL;
  ExtData ext;
  if (external) {
    if (external_check(g, t, what, name, nbytes, &ext)) return NULL;
  } else if (t->has_raw_data) {
    if ((int64_t)t->raw_data.len != nbytes) {
      ir_errorf(g, NULL, "%s '%s': raw_data has %zu bytes, expected %lld", what, name, t->raw_data.len, (long long)nbytes);
      return NULL;
    }
  } else {
    const char *field;
    size_t cnt = typed_count(t, dt, &field);
    if ((int64_t)cnt != numel) {
      ir_errorf(g, NULL, "%s '%s': %s holds %zu values, expected %lld", what, name, field, cnt, (long long)numel);
      return NULL;
    }
  }
  if (external && nbytes) {   /* read in place from the mapped file when aligned: weights are not copied */
    size_t flen = 0;
    uint8_t *base = ir_map_file(g, ext.path, &flen);
    if (base && (uint64_t)ext.off + (uint64_t)nbytes <= flen && (uintptr_t)(base + ext.off) % 16 == 0)
      return ir_const_view(g, name, dt, (int)t->n_dims, t->dims, base + ext.off);
  }
  Value *v = ir_const(g, name, dt, (int)t->n_dims, t->dims, NULL);
  uint8_t *d = v->data;
  if (!nbytes) return v;
  if (external) return external_read(g, &ext, what, v, nbytes) ? NULL : v;
  if (t->has_raw_data) {
    memcpy(d, t->raw_data.data, (size_t)nbytes);
  } else if (dt == DT_FLOAT) {
    memcpy(d, t->float_data, (size_t)nbytes);
  } else if (dt == DT_DOUBLE) {
    memcpy(d, t->double_data, (size_t)nbytes);
  } else if (dt == DT_INT64) {
    memcpy(d, t->int64_data, (size_t)nbytes);
  } else if (dt == DT_UINT32 || dt == DT_UINT64) {
    for (int64_t i = 0; i < numel; i++) {
      if (dt == DT_UINT32) ((uint32_t *)d)[i] = (uint32_t)t->uint64_data[i];
      else ((uint64_t *)d)[i] = t->uint64_data[i];
    }
  } else {                                   /* int32, int16, int8, uint16, uint8, bool, float16 */
    for (int64_t i = 0; i < numel; i++) {
      int32_t x = t->int32_data[i];
      switch (es) {
      case 1: d[i] = (uint8_t)x; break;
      case 2: ((uint16_t *)d)[i] = (uint16_t)x; break;
      default: ((int32_t *)d)[i] = x; break;
      }
    }
  }
  return v;
}

/* ---- attributes ---- */
static int convert_attr(Graph *g, Node *n, const Onnx__AttributeProto *a, FeScope *sc, Attr *out) {
  out->name = ir_strdup(&g->arena, a->name ? a->name : "");
  int type = a->has_type ? (int)a->type : 0;
  if (!type) {                                /* very old models leave the type out */
    if (a->has_f) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT;
    else if (a->has_i) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
    else if (a->has_s) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING;
    else if (a->t) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR;
    else if (a->n_floats) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS;
    else if (a->n_ints) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS;
    else if (a->n_strings) type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS;
  }
  switch (type) {
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOAT: out->type = AT_FLOAT; out->f = a->f; break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT: out->type = AT_INT; out->i = a->i; break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRING: {
    out->type = AT_STRING;
    char *s = ir_alloc(&g->arena, a->s.len + 1);
    if (a->s.len) memcpy(s, a->s.data, a->s.len);
    out->s = s;
    break;
  }
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__TENSOR:
    if (!a->t) return ir_errorf(g, n, "attribute '%s' has no tensor", out->name);
    out->type = AT_TENSOR;
    if (!(out->t = fe_tensor_value(g, a->t, "attribute tensor"))) return -1;
    break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__FLOATS:
    out->type = AT_FLOATS; out->n = (int)a->n_floats;
    out->floats = ir_alloc(&g->arena, a->n_floats * sizeof(float) + 1);
    if (a->n_floats) memcpy(out->floats, a->floats, a->n_floats * sizeof(float));
    break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INTS:
    out->type = AT_INTS; out->n = (int)a->n_ints;
    out->ints = ir_alloc(&g->arena, a->n_ints * sizeof(int64_t) + 1);
    if (a->n_ints) memcpy(out->ints, a->ints, a->n_ints * sizeof(int64_t));
    break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__STRINGS:
    out->type = AT_STRINGS; out->n = (int)a->n_strings;
    out->strings = ir_alloc(&g->arena, a->n_strings * sizeof(char *) + 1);
    for (size_t i = 0; i < a->n_strings; i++) {
      char *s = ir_alloc(&g->arena, a->strings[i].len + 1);
      if (a->strings[i].len) memcpy(s, a->strings[i].data, a->strings[i].len);
      out->strings[i] = s;
    }
    break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPH:
    if (!a->g) return ir_errorf(g, n, "attribute '%s' has no graph", out->name);
    out->type = AT_GRAPH;
    if (!(out->sub = fe_subgraph(g, a->g, sc, n, out->name))) return -1;
    break;
  case ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__GRAPHS:
    return ir_errorf(g, n, "attribute '%s' holds a subgraph; control flow is not supported", out->name);
  default:
    return ir_errorf(g, n, "attribute '%s' has unsupported type %d", out->name, type);
  }
  return 0;
}

/* ---- value infos ---- */
/* intern: dim_params become symbols of the graph (graph inputs); otherwise only their names are kept */
static int set_type(Graph *g, Value *v, const Onnx__ValueInfoProto *vi, const char *what, bool intern) {
  const Onnx__TypeProto *tp = vi->type;
  if (!tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type)
    return ir_errorf(g, NULL, "%s '%s' is not a tensor (sequences, maps and optionals are not supported)", what, v->name);
  const Onnx__TypeProto__Tensor *tt = tp->tensor_type;
  if (!tt->has_elem_type || !supported_dtype(tt->elem_type))
    return ir_errorf(g, NULL, "%s '%s' has unsupported dtype %d", what, v->name, tt->has_elem_type ? tt->elem_type : 0);
  v->dt = (DType)tt->elem_type;
  if (!tt->shape) return 0;                   /* rank unknown */
  if (tt->shape->n_dim > IR_MAX_RANK) return ir_errorf(g, NULL, "%s '%s' has rank %zu, more than %d", what, v->name, tt->shape->n_dim, IR_MAX_RANK);
  v->rank = (int)tt->shape->n_dim;
  for (int i = 0; i < v->rank; i++) {
    const Onnx__TensorShapeProto__Dimension *d = tt->shape->dim[i];
    if (d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE) {
      if (d->dim_value < 0) return ir_errorf(g, NULL, "%s '%s' has a negative dimension", what, v->name);
      v->dims[i] = ir_dimc(d->dim_value);
    } else {
      char anon[64];
      const char *sym = d->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM && d->dim_param && *d->dim_param
                            ? d->dim_param : (snprintf(anon, sizeof anon, "%s_dim%d", v->name, i), anon);
      if (!intern) { v->dim_names[i] = ir_strdup(&g->arena, sym); continue; }
      int s = ir_sym(g, sym);
      v->dim_names[i] = g->syms[s];
      v->dims[i] = g->sym_value[s] >= 0 ? ir_dimc(g->sym_value[s]) : ir_dim_sym(g, s);
    }
  }
  return 0;
}

/* ---- node order ----
 * The passes walk nodes in order, so each node must come after the producers of its inputs. Not
 * every exporter lists them so (float16 converters append their Casts at the end). A depth-first
 * walk in file order that places a node's unplaced producers before it keeps the file order
 * wherever it is already valid, and visits each input edge once. */
typedef struct { size_t node, next_in; } TopoFrame;

static const char *node_label(const Onnx__NodeProto *np, size_t i, char *buf, size_t n) {
  if (np->name && *np->name) return np->name;
  snprintf(buf, n, "%s_%zu", np->op_type ? np->op_type : "", i);
  return buf;
}

/* a node's edges: its inputs, then (If) the names its subgraphs read from enclosing scopes */
static size_t node_ndeps(const Onnx__NodeProto *np, const NameList *cap) { return np->n_input + cap->n; }
static const char *node_dep(const Onnx__NodeProto *np, const NameList *cap, size_t k) {
  return k < np->n_input ? np->input[k] : cap->s[k - np->n_input];
}

int fe_topo_order(Graph *g, const Onnx__GraphProto *gp, size_t *order) {
  size_t nn = gp->n_node, placed = 0;
  Names producer = {0};                         /* output name -> node index + 1 */
  for (size_t i = 0; i < nn; i++)
    for (size_t k = 0; k < gp->node[i]->n_output; k++)
      if (gp->node[i]->output[k] && *gp->node[i]->output[k]) fe_names_put(&producer, gp->node[i]->output[k], (void *)(uintptr_t)(i + 1));
  uint8_t *state = calloc(nn + 1, 1);           /* 0 unvisited, 1 on the walk's stack, 2 placed */
  TopoFrame *st = calloc(nn + 1, sizeof *st);
  NameList *caps = calloc(nn + 1, sizeof *caps);
  if (!state || !st || !caps) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  for (size_t i = 0; i < nn; i++) fe_node_captures(gp->node[i], &caps[i]);
  int rc = 0;
  for (size_t root = 0; root < nn && !rc; root++) {
    if (state[root]) continue;
    size_t sp = 0;
    st[sp++] = (TopoFrame){root, 0};
    state[root] = 1;
    while (sp && !rc) {
      TopoFrame *f = &st[sp - 1];
      const Onnx__NodeProto *np = gp->node[f->node];
      if (f->next_in == node_ndeps(np, &caps[f->node])) { state[f->node] = 2; order[placed++] = f->node; sp--; continue; }
      const char *in = node_dep(np, &caps[f->node], f->next_in++);
      size_t p = in && *in ? (size_t)(uintptr_t)fe_names_get(&producer, in) : 0;
      if (!p || state[p - 1] == 2) continue;
      if (state[p - 1] == 1) {                  /* p - 1 is on the stack: a cycle through it */
        char buf[64];
        const Onnx__NodeProto *cp = gp->node[p - 1];
        rc = ir_errorf(g, NULL, "node '%s' (%s) is on a cycle: its output '%s' feeds back into its own inputs",
                       node_label(cp, p - 1, buf, sizeof buf), cp->op_type ? cp->op_type : "", in);
        break;
      }
      state[p - 1] = 1;
      st[sp++] = (TopoFrame){p - 1, 0};
    }
  }
  for (size_t i = 0; i < nn; i++) free(caps[i].s);
  free(caps); free(state); free(st); free(producer.s);
  return rc;
}

/* ---- nodes ----
 * builds the node np with its inputs resolved in sc (innermost scope first) and its outputs named in
 * sc; into g->nodes, or detached under `name` when name is given (a subgraph's node) */
Node *fe_node(Graph *g, const Onnx__NodeProto *np, FeScope *sc, const char *name) {
  const char *dom = np->domain ? np->domain : "";
  const char *op_type = np->op_type ? np->op_type : "";
  Node *n = name ? ir_node_detached(g, name, op_type, g->opset) : ir_node(g, np->name, op_type, g->opset);
  n->domain = ir_strdup(&g->arena, dom);
  n->op = ops_lookup(n->op_type, dom);
  if (n->op != OP_UNKNOWN && !(ops_table[n->op].flags & (OPF_MS | OPF_TRAINING)) && g->opset <= 0) {
    ir_errorf(g, n, "the model imports no default-domain opset");
    return NULL;
  }
  if (n->op == OP_UNKNOWN && !name) {
    if (*dom && strcmp(dom, "ai.onnx")) ir_errorf(g, n, "op '%s' of domain '%s' is not supported", n->op_type, dom);
    else ir_errorf(g, n, "unsupported op '%s'", n->op_type);
    return NULL;
  }
  if (np->n_input > IR_MAX_IO || np->n_output > IR_MAX_IO) { ir_errorf(g, n, "too many inputs or outputs"); return NULL; }
  n->attrs = ir_alloc(&g->arena, (np->n_attribute + 1) * sizeof(Attr));
  const Node *saved = g->cur;
  g->cur = n;                                  /* errors in attribute tensors name the node */
  /* an unknown op in a branch is an error only if the branch is chosen (the fold pass names it then);
   * its attributes are never read */
  for (size_t k = 0; k < np->n_attribute && !g->failed && n->op != OP_UNKNOWN; k++)
    convert_attr(g, n, np->attribute[k], sc, &n->attrs[n->nattr++]);
  g->cur = saved;
  for (size_t k = 0; k < np->n_input && !g->failed; k++) {
    const char *in = np->input[k];
    if (!in || !*in) { ir_add_input(g, n, NULL); continue; }
    Value *v = fe_lookup(sc, in);
    if (!v) { ir_errorf(g, n, "input '%s' is not produced by any earlier node, initializer or graph input", in); break; }
    ir_add_input(g, n, v);
  }
  for (size_t k = 0; k < np->n_output && !g->failed; k++) {
    const char *on = np->output[k] ? np->output[k] : "";
    if (!*on && k == 0 && (n->op == OP_RNN || n->op == OP_GRU || n->op == OP_LSTM)) {
      /* the recurrent ops' Y is optional, but the passes expect a node's first output: an unnamed,
       * unread value stands in (the lowering sees it unread and has the kernel skip it) */
      ir_add_output(g, n, ir_value(g, ""));
      continue;
    }
    if (!*on) { ir_add_output(g, n, NULL); continue; }
    Value *v = ir_value(g, on);
    ir_add_output(g, n, v);
    fe_names_put(&sc->names, v->name, v);
  }
  return g->failed ? NULL : n;
}

static int opset_of(const Onnx__ModelProto *m) {
  for (size_t i = 0; i < m->n_opset_import; i++) {
    const char *d = m->opset_import[i]->domain;
    if (!d || !*d || !strcmp(d, "ai.onnx")) return m->opset_import[i]->has_version ? (int)m->opset_import[i]->version : 1;
  }
  return m->n_opset_import ? 0 : 1;   /* 0: only other domains (a default-domain node is then an error) */
}

static void build(Graph *g, const Onnx__ModelProto *m, const FeOptions *opt) {
  const Onnx__GraphProto *gp = m->graph;
  if (!gp) { ir_errorf(g, NULL, "the model has no graph (is this an ONNX model?)"); return; }
  g->opset = opset_of(m);
  if (g->opset > 21) fprintf(stderr, "onnx2wasm: warning: opset %d is newer than the newest tested (21)\n", g->opset);
  g->name = ir_strdup(&g->arena, gp->name ? gp->name : "");
  if (opt->default_max > 0) g->default_max = opt->default_max;
  for (int i = 0; i < opt->ndims; i++) {
    int s = ir_sym(g, opt->dim_name[i]);       /* may move sym_value */
    g->sym_value[s] = opt->dim_value[i];
  }
  for (int i = 0; i < opt->nmax; i++) {
    int s = ir_sym(g, opt->max_name[i]);
    g->sym_max[s] = opt->max_value[i];
  }
  int nopt = g->nsyms;                          /* symbols named on the command line */

  FeScope top = {0};
  Names *names = &top.names;
  for (size_t i = 0; i < gp->n_initializer && !g->failed; i++) {
    Value *v = fe_tensor_value(g, gp->initializer[i], "initializer");
    if (v) fe_names_put(names, v->name, v);
  }
  if (gp->n_sparse_initializer && !g->failed) ir_errorf(g, NULL, "sparse initializers are not supported");
  g->inputs = calloc(gp->n_input + 1, sizeof *g->inputs);
  for (size_t i = 0; i < gp->n_input && !g->failed; i++) {
    const char *nm = gp->input[i]->name ? gp->input[i]->name : "";
    if (fe_names_get(names, nm)) continue;      /* an initializer with a default: a constant */
    Value *v = ir_value(g, nm);
    v->kind = VK_INPUT;
    if (set_type(g, v, gp->input[i], "graph input", true)) break;
    if (v->rank < 0) { ir_errorf(g, NULL, "graph input '%s' has no shape", nm); break; }
    if (ir_check_size(g, NULL, v)) break;
    g->inputs[g->ninputs++] = v;
    fe_names_put(names, v->name, v);
  }
  /* the shapes the model declares for graph outputs and intermediates: an op whose output shape is read from
   * an input at run time (ir_dim_elem) checks the values against them */
  g->decl = ir_alloc(&g->arena, (gp->n_output + gp->n_value_info + 1) * sizeof *g->decl);
  for (size_t i = 0; i < gp->n_output + gp->n_value_info && !g->failed; i++) {
    const Onnx__ValueInfoProto *vi = i < gp->n_output ? gp->output[i] : gp->value_info[i - gp->n_output];
    const Onnx__TypeProto *tp = vi->type;
    if (!vi->name || !tp || tp->value_case != ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE || !tp->tensor_type ||
        !tp->tensor_type->shape || tp->tensor_type->shape->n_dim > IR_MAX_RANK) continue;
    struct IrDeclared *d = &g->decl[g->ndecl++];
    d->name = ir_strdup(&g->arena, vi->name);
    d->rank = (int)tp->tensor_type->shape->n_dim;
    for (int k = 0; k < d->rank; k++) {
      const Onnx__TensorShapeProto__Dimension *dm = tp->tensor_type->shape->dim[k];
      d->dims[k] = dm->value_case == ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE && dm->dim_value >= 0 ? dm->dim_value : -1;
    }
  }
  size_t *order = calloc(gp->n_node + 1, sizeof *order);
  if (!order) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  if (!g->failed) fe_topo_order(g, gp, order);
  for (size_t i = 0; i < gp->n_node && !g->failed; i++)
    if (!fe_node(g, gp->node[order[i]], &top, NULL)) break;
  g->outputs = calloc(gp->n_output + 1, sizeof *g->outputs);
  for (size_t i = 0; i < gp->n_output && !g->failed; i++) {
    const char *nm = gp->output[i]->name ? gp->output[i]->name : "";
    Value *v = fe_names_get(names, nm);
    if (!v) { ir_errorf(g, NULL, "graph output '%s' is not produced by the graph", nm); break; }
    Value tmp = {.name = v->name, .rank = -1};
    if (gp->output[i]->type && !set_type(g, &tmp, gp->output[i], "graph output", false))
      for (int k = 0; k < tmp.rank; k++) v->dim_names[k] = tmp.dim_names[k];
    if (g->failed) break;
    v->is_output = true;
    g->outputs[g->noutputs++] = v;
  }
  if (!g->failed && g->noutputs == 0) ir_errorf(g, NULL, "the graph has no outputs");
  for (int s = 0; s < nopt && !g->failed; s++) {   /* a --dim/--max-dim for a symbol no input has: a typo */
    bool used = false;
    for (int i = 0; i < g->ninputs && !used; i++) {   /* an element of an input an op may read at run time: "shape[0]" (ir_dim_elem) */
      const Value *v = g->inputs[i];
      size_t k = strlen(v->name);
      char *end;
      if ((v->dt != DT_INT64 && v->dt != DT_INT32) || !ir_shape_known(v) || strncmp(g->syms[s], v->name, k) || g->syms[s][k] != '[') continue;
      long long e = strtoll(g->syms[s] + k + 1, &end, 10);
      used = end != g->syms[s] + k + 1 && !strcmp(end, "]") && e >= 0 && e < ir_numel(v);
    }
    for (int i = 0; i < g->ninputs; i++)
      for (int d = 0; d < g->inputs[i]->rank; d++) used |= g->inputs[i]->dim_names[d] && !strcmp(g->inputs[i]->dim_names[d], g->syms[s]);
    if (!used) ir_errorf(g, NULL, "--dim/--max-dim names '%s', but no graph input has a dim_param of that name (nor is it an element of an input read at run time, \"INPUT[i]\")", g->syms[s]);
  }
  free(names->s);
  free(order);
}

Graph *fe_load_bytes(const uint8_t *buf, size_t len, const char *model_dir, const char *what, const FeOptions *opt) {
  static const FeOptions none;
  Graph *g = ir_graph_new();
  g->model_dir = ir_strdup(&g->arena, model_dir ? model_dir : ".");
  if (len == 0) { ir_errorf(g, NULL, "'%s' is empty", what); return g; }
  Onnx__ModelProto *m = onnx__model_proto__unpack(NULL, len, buf);
  if (!m) ir_errorf(g, NULL, "'%s' is not a valid ONNX model (protobuf decoding failed: truncated or corrupt file)", what);
  else {
    build(g, m, opt ? opt : &none);
    onnx__model_proto__free_unpacked(m, NULL);
  }
  return g;
}

Graph *fe_load(const char *path, const FeOptions *opt) {
  char dir[PATH_MAX];
  const char *slash = strrchr(path, '/');
  if (!slash) snprintf(dir, sizeof dir, ".");
  else if (slash == path) snprintf(dir, sizeof dir, "/");
  else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path < PATH_MAX - 1 ? slash - path : PATH_MAX - 1), path);
  size_t len = 0;
  Graph *tmp = ir_graph_new();   /* read_file reports into a graph */
  uint8_t *buf = read_file(tmp, path, &len);
  if (!buf) return tmp;
  ir_graph_free(tmp);
  Graph *g = fe_load_bytes(buf, len, dir, path, opt);
  free(buf);
  return g;
}

Value *fe_load_tensor_file(Graph *g, const char *path) {
  size_t len = 0;
  uint8_t *buf = read_file(g, path, &len);
  if (!buf) return NULL;
  Onnx__TensorProto *t = onnx__tensor_proto__unpack(NULL, len, buf);
  Value *v = NULL;
  if (!t) ir_errorf(g, NULL, "'%s' is not a valid TensorProto", path);
  else { v = fe_tensor_value(g, t, "tensor"); onnx__tensor_proto__free_unpacked(t, NULL); }
  free(buf);
  return v;
}
