/* einsum.c — Einsum: infer, lower (kernel rt_einsum). The equation is parsed at compile time into numbered
 * indices (y's first, then the summed ones) with per-operand strides; numpy's rules: an implicit output is
 * the ellipsis dims, then the letters used once, in ASCII order; ellipsis dims broadcast (right-aligned,
 * size 1 stretches); a letter repeated within an operand takes its diagonal. */
#include "opcommon.h"

#include <ctype.h>

enum { EIN_ELL = 1000 };   /* label of ellipsis dim t: EIN_ELL + t (letters: their ASCII code) */

typedef struct {
  int nin, nl, nout;
  int label[RT_EINSUM_MAX_L];             /* index -> label */
  Dim size[RT_EINSUM_MAX_L];
  int rank[RT_EINSUM_MAX_IN];
  int axis[RT_EINSUM_MAX_IN][IR_MAX_RANK];   /* operand axis -> index */
} Ein;

/* parses one term into labels; *ell = position of "..." among them or -1; returns the count or -1 */
static int term(Graph *g, Node *n, const char *s, const char *e, int *lab, int *ell) {
  int k = 0;
  *ell = -1;
  for (const char *c = s; c < e;) {
    if (*c == ' ') { c++; continue; }
    if (e - c >= 3 && !strncmp(c, "...", 3)) {
      if (*ell >= 0) return ir_errorf(g, n, "equation has two ellipses in one term");
      *ell = k;
      c += 3;
      continue;
    }
    if (!isalpha((unsigned char)*c)) return ir_errorf(g, n, "equation has the character '%c' (letters, ',', '->' and '...' only)", *c);
    if (k >= IR_MAX_RANK) return ir_errorf(g, n, "equation has a term of more than %d letters", IR_MAX_RANK);
    lab[k++] = (unsigned char)*c++;
  }
  return k;
}

static int index_of(Ein *q, int label) {
  for (int i = 0; i < q->nl; i++)
    if (q->label[i] == label) return i;
  return -1;
}

static int add_index(Graph *g, Node *n, Ein *q, int label) {
  int i = index_of(q, label);
  if (i >= 0) return i;
  if (q->nl >= RT_EINSUM_MAX_L) return ir_errorf(g, n, "equation has more than %d indices", RT_EINSUM_MAX_L);
  q->label[q->nl] = label;
  q->size[q->nl] = ir_dimc(1);
  return q->nl++;
}

static int einsum_parse(Graph *g, Node *n, Ein *q) {
  const char *eq = ir_attr_str(n, "equation", NULL);
  if (!eq) return ir_errorf(g, n, "missing attribute 'equation'");
  memset(q, 0, sizeof *q);
  q->nin = n->nin;
  if (q->nin > RT_EINSUM_MAX_IN) return ir_errorf(g, n, "more than %d operands", RT_EINSUM_MAX_IN);
  const char *arrow = strstr(eq, "->"), *lhs_end = arrow ? arrow : eq + strlen(eq);
  int labs[RT_EINSUM_MAX_IN][IR_MAX_RANK], cnt[RT_EINSUM_MAX_IN], ell[RT_EINSUM_MAX_IN], nell = 0;
  const char *s = eq;
  for (int j = 0; j < q->nin; j++) {
    const char *e = memchr(s, ',', (size_t)(lhs_end - s));
    if (!e) e = lhs_end;
    if (j == q->nin - 1 && e != lhs_end) return ir_errorf(g, n, "equation has more terms than the %d inputs", q->nin);
    if (j < q->nin - 1 && e == lhs_end) return ir_errorf(g, n, "equation has fewer terms than the %d inputs", q->nin);
    if ((cnt[j] = term(g, n, s, e, labs[j], &ell[j])) < 0) return -1;
    const Value *v = n->in[j];
    int ne = v->rank - cnt[j];
    if (ne < 0 || (ne > 0 && ell[j] < 0))
      return ir_errorf(g, n, "input '%s' has rank %d; term %d of the equation has %d letters", v->name, v->rank, j, cnt[j]);
    if (ne > nell) nell = ne;
    s = e + 1;
  }
  /* output indices first */
  int out[IR_MAX_RANK + RT_EINSUM_MAX_L], nout = 0;
  if (arrow) {
    int ol[IR_MAX_RANK], oell, k = term(g, n, arrow + 2, arrow + strlen(arrow), ol, &oell);
    if (k < 0) return -1;
    for (int i = 0; i <= k; i++) {
      if (i == oell)
        for (int t = 0; t < nell; t++) out[nout++] = EIN_ELL + t;
      if (i < k) out[nout++] = ol[i];
    }
  } else {
    for (int t = 0; t < nell; t++) out[nout++] = EIN_ELL + t;
    for (int c = 0; c < 256; c++) {   /* letters used exactly once, in ASCII order */
      int uses = 0;
      for (int j = 0; j < q->nin; j++)
        for (int i = 0; i < cnt[j]; i++) uses += labs[j][i] == c;
      if (uses == 1) out[nout++] = c;
    }
  }
  if (nout > IR_MAX_RANK) return ir_errorf(g, n, "the output has more than %d dims", IR_MAX_RANK);
  for (int i = 0; i < nout; i++) {
    if (index_of(q, out[i]) >= 0) return ir_errorf(g, n, "the output repeats an index");
    if (add_index(g, n, q, out[i]) < 0) return -1;
  }
  q->nout = nout;
  /* operand axes, their sizes (an ellipsis dim of size 1 broadcasts) */
  for (int j = 0; j < q->nin; j++) {
    const Value *v = n->in[j];
    int ne = v->rank - cnt[j], a = 0;
    q->rank[j] = v->rank;
    for (int i = 0; i <= cnt[j]; i++) {
      if (i == ell[j])
        for (int t = 0; t < ne; t++, a++) {
          int x = add_index(g, n, q, EIN_ELL + nell - ne + t);
          if (x < 0) return -1;
          q->axis[j][a] = x;
          Dim d = v->dims[a];
          if (oc_is1(q->size[x])) q->size[x] = d;
          else if (!oc_is1(d) && !oc_same_dim(g, q->size[x], d))
            return ir_errorf(g, n, "the ellipsis dims of the inputs do not broadcast");
        }
      if (i == cnt[j]) break;
      int x = add_index(g, n, q, labs[j][i]), first = 1;
      if (x < 0) return -1;
      for (int b = 0; b < q->nin; b++)
        for (int r = 0; r < (b < j ? q->rank[b] : b == j ? a : 0); r++) first &= q->axis[b][r] != x;
      q->axis[j][a] = x;
      if (first) q->size[x] = v->dims[a];
      else if (!oc_same_dim(g, q->size[x], v->dims[a]))
        return ir_errorf(g, n, "index '%c' has different sizes in the inputs", labs[j][i]);
      a++;
    }
  }
  for (int i = 0; i < nout; i++)
    if (out[i] < EIN_ELL) {
      int used = 0;
      for (int j = 0; j < q->nin; j++)
        for (int r = 0; r < q->rank[j]; r++) used |= q->axis[j][r] == i;
      if (!used) return ir_errorf(g, n, "the output index '%c' is in no input", out[i]);
    }
  return 0;
}

int op_einsum_infer(Graph *g, Node *n) {
  for (int j = 0; j < n->nin; j++)
    if (!n->in[j]) return ir_errorf(g, n, "input %d is missing (an empty name)", j);
  DType dt = n->in[0]->dt;
  if (dt != DT_FLOAT && dt != DT_DOUBLE && dt != DT_INT32 && dt != DT_INT64)
    return ir_errorf(g, n, "dtype %s is not supported (float32, float64, int32, int64)", ir_dtype_name(dt));
  for (int j = 1; j < n->nin; j++)
    if (n->in[j]->dt != dt) return ir_errorf(g, n, "inputs of different dtypes (%s, %s)", ir_dtype_name(dt), ir_dtype_name(n->in[j]->dt));
  Ein q;
  if (einsum_parse(g, n, &q)) return -1;
  oc_set_out(n->out[0], dt, q.nout, q.size);
  return 0;
}

int op_einsum_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Ein q;
  if (einsum_parse(g, n, &q)) return -1;
  RtEinsum p = {.y = cg_addr(cx, n->out[0]), .nin = q.nin, .dtype = n->in[0]->dt, .nl = q.nl, .nout = q.nout};
  for (int l = 0; l < q.nl; l++) CG_DIM(cx, p, size[l], q.size[l]);
  for (int j = 0; j < q.nin; j++) {
    const Value *v = n->in[j];
    Dim st[IR_MAX_RANK], sum[RT_EINSUM_MAX_L];
    ir_strides(g, v, st);
    for (int l = 0; l < q.nl; l++) sum[l] = ir_dimc(0);
    for (int r = 0; r < v->rank; r++)
      if (!oc_is1(v->dims[r])) sum[q.axis[j][r]] = ir_dim_add(g, sum[q.axis[j][r]], st[r]);   /* size 1: broadcasts */
    p.in[j] = cg_addr(cx, v);
    for (int l = 0; l < q.nl; l++) CG_DIM(cx, p, stride[j][l], sum[l]);
  }
  return cg_call(cx, K_einsum, &p, sizeof p, n);
}
