/* dim.c — symbolic dims as canonical polynomials over dim_param symbols: build, compare, divide, print, evaluate. */
#include "ir.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

/* monomial order: by degree, then symbol list */
static int term_cmp(const DimTerm *a, const DimTerm *b) {
  if (a->deg != b->deg) return a->deg > b->deg ? -1 : 1;      /* higher degree first, constant last */
  for (int i = 0; i < a->deg; i++)
    if (a->sym[i] != b->sym[i]) return a->sym[i] < b->sym[i] ? -1 : 1;
  return 0;
}

typedef struct { int n; DimTerm t[IR_DIM_MAX_TERMS * IR_DIM_MAX_TERMS]; } Poly;   /* scratch, unbounded-ish */

static void poly_of(Dim d, Poly *p) {
  if (ir_dim_known(d)) {
    p->n = 0;
    if (d.c) { p->t[0] = (DimTerm){.coef = d.c, .deg = 0}; p->n = 1; }
  } else {
    p->n = d.e->n;
    memcpy(p->t, d.e->t, (size_t)d.e->n * sizeof(DimTerm));
  }
}

/* a dim that overflows int64 is bad input (a huge Tile repeat or Reshape entry): the error names the
 * node being inferred or lowered (Graph.cur) and the operands; the dim becomes 0 */
static Dim overflow(Graph *g, const char *op, int64_t a, int64_t b) {
  ir_errorf(g, NULL, "dimension arithmetic overflows: %lld %s %lld", (long long)a, op, (long long)b);
  return ir_dimc(0);
}

static bool poly_add_term(Graph *g, Poly *p, DimTerm t) {
  for (int i = 0; i < p->n; i++)
    if (!term_cmp(&p->t[i], &t)) {
      if (!ir_add_ok(p->t[i].coef, t.coef, &p->t[i].coef)) { overflow(g, "+", p->t[i].coef, t.coef); return false; }
      return true;
    }
  p->t[p->n++] = t;
  return true;
}

/* canonical Dim from a polynomial: drop zeros, sort; a constant when no symbol remains */
static Dim poly_dim(Graph *g, Poly *p) {
  int k = 0;
  for (int i = 0; i < p->n; i++) if (p->t[i].coef) p->t[k++] = p->t[i];
  p->n = k;
  for (int i = 1; i < p->n; i++)                              /* insertion sort: tiny */
    for (int j = i; j > 0 && term_cmp(&p->t[j - 1], &p->t[j]) > 0; j--) {
      DimTerm tmp = p->t[j]; p->t[j] = p->t[j - 1]; p->t[j - 1] = tmp;
    }
  if (p->n == 0) return ir_dimc(0);
  if (p->n == 1 && p->t[0].deg == 0) return ir_dimc(p->t[0].coef);
  if (p->n > IR_DIM_MAX_TERMS) {
    ir_errorf(g, NULL, "a symbolic dimension expression has more than %d terms", IR_DIM_MAX_TERMS);
    return ir_dimc(0);
  }
  DimExpr *e = ir_alloc(&g->arena, sizeof *e);
  e->n = p->n;
  memcpy(e->t, p->t, (size_t)p->n * sizeof(DimTerm));
  Dim d = {0, e};
  return d;
}

Dim ir_dim_sym(Graph *g, int sym) {
  Poly p = {1, {{.coef = 1, .deg = 1, .sym = {(uint8_t)sym}}}};
  return poly_dim(g, &p);
}

Dim ir_dim_add(Graph *g, Dim a, Dim b) {
  int64_t r;
  if (ir_dim_known(a) && ir_dim_known(b)) return ir_add_ok(a.c, b.c, &r) ? ir_dimc(r) : overflow(g, "+", a.c, b.c);
  Poly p, q;
  poly_of(a, &p);
  poly_of(b, &q);
  for (int i = 0; i < q.n; i++) if (!poly_add_term(g, &p, q.t[i])) return ir_dimc(0);
  return poly_dim(g, &p);
}

Dim ir_dim_sub(Graph *g, Dim a, Dim b) {
  int64_t r;
  if (ir_dim_known(a) && ir_dim_known(b)) return !__builtin_sub_overflow(a.c, b.c, &r) ? ir_dimc(r) : overflow(g, "-", a.c, b.c);
  if (ir_dim_known(b)) return b.c == INT64_MIN ? overflow(g, "-", 0, b.c) : ir_dim_add(g, a, ir_dimc(-b.c));
  Poly q;
  poly_of(b, &q);
  for (int i = 0; i < q.n; i++) {
    if (q.t[i].coef == INT64_MIN) return overflow(g, "-", 0, q.t[i].coef);
    q.t[i].coef = -q.t[i].coef;
  }
  return ir_dim_add(g, a, poly_dim(g, &q));
}

Dim ir_dim_mul(Graph *g, Dim a, Dim b) {
  int64_t c;
  if (ir_dim_known(a) && ir_dim_known(b)) return ir_mul_ok(a.c, b.c, &c) ? ir_dimc(c) : overflow(g, "*", a.c, b.c);
  Poly p, q, r = {0};
  poly_of(a, &p);
  poly_of(b, &q);
  for (int i = 0; i < p.n; i++)
    for (int j = 0; j < q.n; j++) {
      if (p.t[i].deg + q.t[j].deg > IR_DIM_MAX_DEG) {
        ir_errorf(g, NULL, "a symbolic dimension has degree above %d", IR_DIM_MAX_DEG);
        return ir_dimc(0);
      }
      DimTerm t = {.deg = (uint8_t)(p.t[i].deg + q.t[j].deg)};
      if (!ir_mul_ok(p.t[i].coef, q.t[j].coef, &t.coef)) return overflow(g, "*", p.t[i].coef, q.t[j].coef);
      int k = 0, x = 0, y = 0;                                 /* merge the sorted symbol lists */
      while (x < p.t[i].deg || y < q.t[j].deg)
        t.sym[k++] = (y >= q.t[j].deg || (x < p.t[i].deg && p.t[i].sym[x] <= q.t[j].sym[y])) ? p.t[i].sym[x++] : q.t[j].sym[y++];
      if (!poly_add_term(g, &r, t)) return ir_dimc(0);
    }
  return poly_dim(g, &r);
}

/* removes the symbols of `d` (a sub-multiset) from t; false if t doesn't contain them */
static bool term_divide(DimTerm *t, const DimTerm *d) {
  if (d->coef == 0 || t->coef % d->coef) return false;
  DimTerm r = {.coef = t->coef / d->coef};
  int j = 0;
  for (int i = 0; i < t->deg; i++) {
    if (j < d->deg && t->sym[i] == d->sym[j]) { j++; continue; }
    r.sym[r.deg++] = t->sym[i];
  }
  if (j != d->deg) return false;
  *t = r;
  return true;
}

bool ir_dim_div(Graph *g, Dim a, Dim b, Dim *q) {
  if (ir_dim_known(a) && ir_dim_known(b)) {
    if (b.c == 0 || a.c % b.c) return false;
    *q = ir_dimc(a.c / b.c);
    return true;
  }
  Poly p, d;
  poly_of(a, &p);
  poly_of(b, &d);
  if (d.n != 1) {                                             /* only x / x for a polynomial divisor */
    if (ir_dim_eq(a, b)) { *q = ir_dimc(1); return true; }
    return false;
  }
  for (int i = 0; i < p.n; i++)
    if (!term_divide(&p.t[i], &d.t[0])) return false;
  *q = poly_dim(g, &p);
  return true;
}

bool ir_dim_eq(Dim a, Dim b) {
  if (ir_dim_known(a) != ir_dim_known(b)) return false;
  if (ir_dim_known(a)) return a.c == b.c;
  if (a.e == b.e) return true;
  if (a.e->n != b.e->n) return false;
  for (int i = 0; i < a.e->n; i++)
    if (a.e->t[i].coef != b.e->t[i].coef || term_cmp(&a.e->t[i], &b.e->t[i])) return false;
  return true;
}

/* evaluation at given symbol values saturates (a result that large fails ir_check_size) */
static int64_t sat_mul(int64_t a, int64_t b) {
  int64_t r;
  return ir_mul_ok(a, b, &r) ? r : (a < 0) != (b < 0) ? INT64_MIN : INT64_MAX;
}
static int64_t sat_add(int64_t a, int64_t b) {
  int64_t r;
  return ir_add_ok(a, b, &r) ? r : a < 0 ? INT64_MIN : INT64_MAX;
}

int64_t ir_dim_eval(const Graph *g, Dim d, const int64_t *vals) {
  (void)g;
  if (ir_dim_known(d)) return d.c;
  int64_t s = 0;
  for (int i = 0; i < d.e->n; i++) {
    int64_t t = d.e->t[i].coef;
    for (int k = 0; k < d.e->t[i].deg; k++) t = sat_mul(t, vals[d.e->t[i].sym[k]]);
    s = sat_add(s, t);
  }
  return s;
}

int64_t ir_dim_max(const Graph *g, Dim d) {
  if (ir_dim_known(d)) return d.c;
  int64_t vals[256];
  for (int i = 0; i < g->nsyms && i < 256; i++) vals[i] = g->sym_value[i] >= 0 ? g->sym_value[i] : g->sym_max[i];
  /* with negative coefficients the bound is not the maximum: take each term at 0 or at its bound */
  int64_t s = 0;
  for (int i = 0; i < d.e->n; i++) {
    int64_t t = d.e->t[i].coef;
    for (int k = 0; k < d.e->t[i].deg; k++) t = sat_mul(t, vals[d.e->t[i].sym[k]]);
    if (t > 0 || d.e->t[i].deg == 0) s = sat_add(s, t);
  }
  return s;
}

int ir_dim_str(const Graph *g, Dim d, char *buf, size_t n) { return ir_dim_str_syms(g->syms, d, buf, n); }

/* appends to buf[0..n) at *k, truncating (buf stays NUL-terminated) */
static void put_str(char *buf, size_t n, size_t *k, const char *s) {
  while (*s && *k + 1 < n) buf[(*k)++] = *s++;
  buf[*k] = 0;
}

int ir_dim_str_syms(const char *const *syms, Dim d, char *buf, size_t n) {
  if (!n) return 0;
  if (ir_dim_known(d)) return snprintf(buf, n, "%" PRId64, d.c);
  size_t k = 0;
  buf[0] = 0;
  for (int i = 0; i < d.e->n; i++) {
    const DimTerm *t = &d.e->t[i];
    int64_t c = t->coef;
    if (i) put_str(buf, n, &k, c < 0 ? " - " : " + ");
    else if (c < 0) put_str(buf, n, &k, "-");
    uint64_t mag = c < 0 ? (uint64_t)0 - (uint64_t)c : (uint64_t)c;
    bool star = false;
    if (mag != 1 || t->deg == 0) {
      char num[24];
      snprintf(num, sizeof num, "%" PRIu64, mag);
      put_str(buf, n, &k, num);
      star = true;
    }
    for (int s = 0; s < t->deg; s++) {
      if (star) put_str(buf, n, &k, "*");
      put_str(buf, n, &k, syms[t->sym[s]]);
      star = true;
    }
  }
  return (int)k;
}

static int64_t floordiv64(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* the derived symbol's name: its definition without spaces or '*' ("(h-1)/2", "(2h+1)/2"), so that it reads
 * as one factor in the dims printed by ir_dim_str (signature, errors); made unique with "#k" if need be */
static const char *derived_name(Graph *g, Dim a, int64_t den) {
  char e[200], name[240];
  ir_dim_str(g, a, e, sizeof e);
  size_t k = 0;
  name[k++] = '(';
  for (const char *c = e; *c && k < sizeof e; c++)
    if (*c != ' ' && *c != '*') name[k++] = *c;
  snprintf(name + k, sizeof name - k, ")/%" PRId64, den);
  char uniq[260];
  snprintf(uniq, sizeof uniq, "%s", name);
  for (int n = 2;; n++) {
    bool taken = false;
    for (int s = 0; s < g->nsyms && !taken; s++) taken = !strcmp(g->syms[s], uniq);
    if (!taken) break;
    snprintf(uniq, sizeof uniq, "%s#%d", name, n);
  }
  return ir_strdup(&g->arena, uniq);
}

Dim ir_dim_floordiv(Graph *g, Dim a, int64_t den) {
  if (den < 1) { ir_errorf(g, NULL, "internal: floor division of a dim by %" PRId64, den); return ir_dimc(0); }
  if (ir_dim_known(a)) return ir_dimc(floordiv64(a.c, den));
  bool nonneg = true;                 /* then a >= 0 for any symbol values: no run-time check needed */
  for (int i = 0; i < a.e->n; i++) nonneg &= a.e->t[i].coef >= 0;
  /* floor(floor(x / d) / den) = floor(x / (d * den)) for x >= 0: one derived symbol, not a chain */
  if (a.e->n == 1 && a.e->t[0].deg == 1 && a.e->t[0].coef == 1 && g->sym_def[a.e->t[0].sym[0]] && !g->sym_def[a.e->t[0].sym[0]]->src) {
    const SymDef *in = g->sym_def[a.e->t[0].sym[0]];
    int64_t d2;
    if (ir_mul_ok(in->den, den, &d2) && d2 <= INT32_MAX) return ir_dim_floordiv(g, in->num, d2);
  }
  Dim q;
  if (nonneg && (den == 1 || ir_dim_div(g, a, ir_dimc(den), &q))) return den == 1 ? a : q;
  for (int s = 0; s < g->nsyms; s++)
    if (g->sym_def[s] && !g->sym_def[s]->src && g->sym_def[s]->den == den && ir_dim_eq(g->sym_def[s]->num, a)) return ir_dim_sym(g, s);
  if (g->nsyms >= 255) { ir_errorf(g, NULL, "more than 255 run-time dims (dim_param symbols and derived dims)"); return ir_dimc(0); }
  int64_t max = ir_dim_max(g, a);
  const char *name = derived_name(g, a, den);
  int s = ir_sym(g, name);
  SymDef *d = ir_alloc(&g->arena, sizeof *d);
  d->num = a;
  d->den = den;
  g->sym_def[s] = d;
  g->sym_max[s] = max < 0 ? 0 : max / den;
  return ir_dim_sym(g, s);
}

bool ir_syms_derive(const Graph *g, int64_t *vals) {
  for (int s = 0; s < g->nsyms; s++) {
    if (!g->sym_def[s] || g->sym_def[s]->src) continue;   /* element symbols: read from the inputs by the module */
    int64_t num = ir_dim_eval(g, g->sym_def[s]->num, vals);
    if (num < 0) return false;
    vals[s] = num / g->sym_def[s]->den;
  }
  return true;
}

bool ir_dim_assume_eq(Graph *g, Dim a, Dim b) {
  if (ir_dim_eq(a, b)) return true;
  if (ir_dim_known(a) && ir_dim_known(b)) return false;
  for (int i = 0; i < g->nchecks; i++)
    if ((ir_dim_eq(g->checks[i].a, a) && ir_dim_eq(g->checks[i].b, b)) || (ir_dim_eq(g->checks[i].a, b) && ir_dim_eq(g->checks[i].b, a)))
      return true;
  DimCheck *c = realloc(g->checks, (size_t)(g->nchecks + 1) * sizeof *c);
  if (!c) { fprintf(stderr, "onnx2wasm: out of memory\n"); exit(3); }
  g->checks = c;
  g->checks[g->nchecks++] = (DimCheck){a, b, g->cur ? g->cur->name : ""};
  return true;
}

static bool same_map(const SymDef *d, int nmap, const int64_t *from, const Dim *to) {
  if (d->nmap != nmap) return false;
  for (int k = 0; k < nmap; k++) if (d->map_from[k] != from[k] || !ir_dim_eq(d->map_to[k], to[k])) return false;
  return true;
}

Dim ir_dim_elem(Graph *g, const Node *n, const Value *src, int64_t elem, int nmap, const int64_t *from, const Dim *to, int64_t max) {
  if (nmap < 0 || nmap > IR_ELEM_MAP) { ir_errorf(g, n, "internal: an element symbol maps %d values", nmap); return ir_dimc(0); }
  int input = -1;
  for (int i = 0; i < g->ninputs; i++) if (g->inputs[i] == src) input = i;
  if (input < 0 || (src->dt != DT_INT64 && src->dt != DT_INT32 && src->dt != DT_FLOAT && src->dt != DT_DOUBLE) || !ir_shape_known(src)) {
    ir_errorf(g, n, "internal: '%s' is not an int64/int32/float32/float64 graph input of a known shape", src->name);
    return ir_dimc(0);
  }
  if (elem < 0 || elem >= ir_numel(src)) {
    ir_errorf(g, n, "input '%s' has %lld elements; element %lld is needed", src->name, (long long)ir_numel(src), (long long)elem);
    return ir_dimc(0);
  }
  for (int s = 0; s < g->nsyms; s++) {
    const SymDef *d = g->sym_def[s];
    if (d && d->src == src && d->elem == elem && same_map(d, nmap, from, to)) {
      if (max >= 0 && max < g->sym_max[s]) g->sym_max[s] = max;
      return ir_dim_sym(g, s);
    }
  }
  if (g->nsyms >= 255) { ir_errorf(g, n, "more than 255 run-time dims (dim_param symbols and derived dims)"); return ir_dimc(0); }
  char name[300];
  snprintf(name, sizeof name, "%s[%lld]", src->name, (long long)elem);
  for (char *c = name; *c; c++) if (*c == ' ' || *c == '*') *c = '_';   /* reads as one factor in printed dims */
  int s = -1;
  for (int k = 0; k < g->nsyms; k++)   /* named by --max-dim (no definition yet): that bound, else a new symbol */
    if (!strcmp(g->syms[k], name)) s = k;
  if (s >= 0 && g->sym_def[s]) {
    for (int k = 2;; k++) {
      char u[320];
      snprintf(u, sizeof u, "%s#%d", name, k);
      bool taken = false;
      for (int j = 0; j < g->nsyms && !taken; j++) taken = !strcmp(g->syms[j], u);
      if (!taken) { s = ir_sym(g, u); break; }
    }
    if (max >= 0) g->sym_max[s] = max;
  } else if (s >= 0) {
    if (g->sym_value[s] >= 0) {
      ir_errorf(g, n, "'%s' is read from the input '%s' at run time; it cannot be bound with --dim", name, src->name);
      return ir_dimc(0);
    }
    if (max >= 0 && max < g->sym_max[s]) g->sym_max[s] = max;
  } else {
    s = ir_sym(g, name);
    if (max >= 0) g->sym_max[s] = max;
  }
  if (g->sym_max[s] > INT32_MAX) g->sym_max[s] = INT32_MAX;
  SymDef *d = ir_alloc(&g->arena, sizeof *d);
  d->src = src;
  d->input = input;
  d->elem = elem;
  d->nmap = nmap;
  for (int k = 0; k < nmap; k++) { d->map_from[k] = from[k]; d->map_to[k] = to[k]; }
  d->node = n ? n->name : "";
  g->sym_def[s] = d;
  return ir_dim_sym(g, s);
}

int ir_declared_shape(const Graph *g, const char *name, int64_t *dims) {
  for (int i = 0; i < g->ndecl; i++)
    if (!strcmp(g->decl[i].name, name)) {
      memcpy(dims, g->decl[i].dims, sizeof g->decl[i].dims);
      return g->decl[i].rank;
    }
  return -1;
}
