/* opcommon.c — helpers shared by the op family files. */
#include <stdint.h>
#include "opcommon.h"

#include <assert.h>

#include <stdlib.h>

static float half_to_float(uint16_t h) {
  uint32_t s = (uint32_t)(h >> 15) << 31, e = (h >> 10) & 31, m = h & 1023, bits;
  if (e == 0) {
    if (!m) bits = s;
    else { float f = ldexpf((float)m, -24); return s ? -f : f; }
  } else if (e == 31) bits = s | 0x7f800000u | (m << 13);
  else bits = s | ((e + 112) << 23) | (m << 13);
  float f; memcpy(&f, &bits, 4); return f;
}

/* float -> IEEE half, round to nearest even (overflow to inf, NaN kept quiet) */
static uint16_t float_to_half(float f) {
  uint32_t x; memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u, e = (x >> 23) & 0xffu, m = x & 0x7fffffu;
  if (e == 255) return (uint16_t)(sign | 0x7c00u | (m ? 0x200u | (m >> 13) : 0));
  int E = (int)e - 112;
  if (E >= 31) return (uint16_t)(sign | 0x7c00u);
  if (E <= 0) {                                     /* half subnormal (or zero) */
    if (E < -10) return (uint16_t)sign;
    uint32_t mant = m | 0x800000u, shift = 126 - e, k = mant >> shift, rem = mant & ((1u << shift) - 1), half = 1u << (shift - 1);
    k += rem > half || (rem == half && (k & 1));
    return (uint16_t)(sign | k);
  }
  uint32_t h = sign | ((uint32_t)E << 10) | (m >> 13), rem = m & 0x1fffu;
  h += rem > 0x1000u || (rem == 0x1000u && (h & 1));  /* a carry rounds up into the exponent (to inf) */
  return (uint16_t)h;
}

static float bf16_to_float(uint16_t h) {
  uint32_t bits = (uint32_t)h << 16;
  float f; memcpy(&f, &bits, 4); return f;
}

/* float -> bfloat16, round to nearest even (NaN kept quiet) */
static uint16_t float_to_bf16(float f) {
  uint32_t x; memcpy(&x, &f, 4);
  if ((x & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((x >> 16) | 0x40u);
  return (uint16_t)((x + 0x7fffu + ((x >> 16) & 1u)) >> 16);
}

double oc_getf(const Value *v, int64_t i) {
  switch (v->dt) {
  case DT_FLOAT: return ((const float *)v->data)[i];
  case DT_DOUBLE: return ((const double *)v->data)[i];
  case DT_FLOAT16: return half_to_float(((const uint16_t *)v->data)[i]);
  case DT_BFLOAT16: return bf16_to_float(((const uint16_t *)v->data)[i]);
  default: return (double)oc_geti(v, i);
  }
}

int64_t oc_geti(const Value *v, int64_t i) {
  switch (v->dt) {
  case DT_UINT8: case DT_BOOL: return ((const uint8_t *)v->data)[i];
  case DT_INT8: return ((const int8_t *)v->data)[i];
  case DT_UINT16: return ((const uint16_t *)v->data)[i];
  case DT_INT16: return ((const int16_t *)v->data)[i];
  case DT_INT32: return ((const int32_t *)v->data)[i];
  case DT_UINT32: return ((const uint32_t *)v->data)[i];
  case DT_INT64: return ((const int64_t *)v->data)[i];
  case DT_UINT64: return (int64_t)((const uint64_t *)v->data)[i];
  case DT_FLOAT: case DT_DOUBLE: case DT_FLOAT16: case DT_BFLOAT16: {
    double d = oc_getf(v, i);
    return isfinite(d) ? (int64_t)d : 0;
  }
  default: return 0;
  }
}

/* double -> int64 without undefined behaviour: NaN and out-of-range values give INT64_MIN, what x86's
 * conversion gives them (and so numpy and onnxruntime on x86, the oracles) */
static int64_t f2i(double x) {
  if (!(x > -9223372036854775808.0 && x < 9223372036854775808.0)) return INT64_MIN;
  return (int64_t)x;
}

void oc_setf(Value *v, int64_t i, double x) {
  switch (v->dt) {
  case DT_FLOAT: ((float *)v->data)[i] = (float)x; break;
  case DT_DOUBLE: ((double *)v->data)[i] = x; break;
  case DT_FLOAT16: ((uint16_t *)v->data)[i] = float_to_half((float)x); break;
  case DT_BFLOAT16: ((uint16_t *)v->data)[i] = float_to_bf16((float)x); break;
  case DT_BOOL: ((uint8_t *)v->data)[i] = x != 0; break;
  case DT_UINT8: ((uint8_t *)v->data)[i] = (uint8_t)f2i(x); break;
  case DT_INT8: ((int8_t *)v->data)[i] = (int8_t)f2i(x); break;
  case DT_UINT16: ((uint16_t *)v->data)[i] = (uint16_t)f2i(x); break;
  case DT_INT16: ((int16_t *)v->data)[i] = (int16_t)f2i(x); break;
  case DT_INT32: ((int32_t *)v->data)[i] = (int32_t)f2i(x); break;
  case DT_UINT32: ((uint32_t *)v->data)[i] = (uint32_t)f2i(x); break;
  case DT_INT64: ((int64_t *)v->data)[i] = f2i(x); break;
  case DT_UINT64: ((uint64_t *)v->data)[i] = x >= 18446744073709551615.0 ? UINT64_MAX : x >= 0 ? (uint64_t)x : (uint64_t)f2i(x); break;
  default: break;
  }
}

Dim oc_elem(const Value *v, int64_t i) { return v->sym ? v->sym[i] : ir_dimc(oc_geti(v, i)); }

void *oc_make_const(Graph *g, Value *v) {
  int64_t nb = ir_nbytes(v);
  v->data = ir_alloc(&g->arena, nb > 0 ? (size_t)nb : 1);
  v->kind = VK_CONST;
  return v->data;
}

int oc_need_float(Graph *g, Node *n, int k) {
  const Value *v = n->in[k];
  if (v->dt != DT_FLOAT)
    return ir_errorf(g, n, "input %d '%s' has dtype %s, expected float32", k, v->name, ir_dtype_name(v->dt));
  return 0;
}

int oc_need_rank(Graph *g, Node *n, int k, int rank) {
  const Value *v = n->in[k];
  if (v->rank != rank) return ir_errorf(g, n, "input %d '%s' has rank %d, expected %d", k, v->name, v->rank, rank);
  return 0;
}

int oc_need_known(Graph *g, Node *n, int k) {
  const Value *v = n->in[k];
  if (!ir_shape_known(v)) {
    char s[256];
    ir_value_str(g, v, s, sizeof s);
    return ir_errorf(g, n, "input %d '%s' has shape %s; a concrete shape is needed (bind symbols with --dim NAME=VALUE)", k, v->name, s);
  }
  return 0;
}

int oc_need_const_dims(Graph *g, Node *n, int k) {
  const Value *v = k < n->nin ? n->in[k] : NULL;
  if (!v) return ir_errorf(g, n, "input %d must be a constant (computed at compile time); it is missing", k);
  if (v->kind != VK_CONST)
    return ir_errorf(g, n, "input %d must be a constant (computed at compile time): '%s' is computed at run time", k, v->name);
  return 0;
}

/* A constant of shape arithmetic over run-time dims (Value.sym) is VK_CONST without data: a hook
 * that reads data must come through here, so it is refused with the run-time dim it depends on. */
int oc_need_const(Graph *g, Node *n, int k) {
  if (oc_need_const_dims(g, n, k)) return -1;
  const Value *v = n->in[k];
  if (v->data) return 0;
  char s[128] = "?";
  for (int64_t i = 0; v->sym && i < ir_numel(v); i++)
    if (!ir_dim_known(v->sym[i])) { ir_dim_str(g, v->sym[i], s, sizeof s); break; }
  return ir_errorf(g, n, "input %d must be a constant (computed at compile time): '%s' depends on the run-time dim %s", k, v->name, s);
}

/* element i of input k, which must be a constant holding at least i + 1 elements */
static int in_elem(Graph *g, Node *n, int k, int64_t i) {
  if (oc_need_const(g, n, k)) return -1;
  int64_t cnt = ir_numel(n->in[k]);
  if (i < 0 || i >= cnt)
    return ir_errorf(g, n, "input %d '%s' has %lld elements; element %lld is needed", k, n->in[k]->name, (long long)cnt, (long long)i);
  return 0;
}

int oc_in_i(Graph *g, Node *n, int k, int64_t i, int64_t *out) {
  if (in_elem(g, n, k, i)) return -1;
  *out = oc_geti(n->in[k], i);
  return 0;
}

int oc_in_f(Graph *g, Node *n, int k, int64_t i, double *out) {
  if (in_elem(g, n, k, i)) return -1;
  *out = oc_getf(n->in[k], i);
  return 0;
}

bool oc_is_rt_input(const Node *n, int k) {
  const Value *v = k < n->nin ? n->in[k] : NULL;
  return v && v->kind == VK_INPUT && (v->dt == DT_INT64 || v->dt == DT_INT32) && v->rank == 1 && ir_shape_known(v);
}

int oc_in_dim(Graph *g, Node *n, int k, int64_t i, int nmap, const int64_t *from, const Dim *to, int64_t max, Dim *out) {
  if (!oc_is_rt_input(n, k)) {
    if (oc_need_const_dims(g, n, k)) return -1;
    int64_t cnt = ir_numel(n->in[k]);
    if (i < 0 || i >= cnt)
      return ir_errorf(g, n, "input %d '%s' has %lld elements; element %lld is needed", k, n->in[k]->name, (long long)cnt, (long long)i);
    *out = oc_elem(n->in[k], i);
    return 0;
  }
  *out = ir_dim_elem(g, n, n->in[k], i, nmap, from, to, max);
  return ir_failed(g) ? -1 : 0;
}

int oc_in_declared(Graph *g, Node *n, int k, int64_t i, int64_t want, const char *what, int64_t *out) {
  const Value *v = k < n->nin ? n->in[k] : NULL;
  bool rt = v && v->kind == VK_INPUT && v->rank <= 1 && ir_shape_known(v) &&
            (v->dt == DT_INT64 || v->dt == DT_INT32 || v->dt == DT_FLOAT || v->dt == DT_DOUBLE);
  if (!rt) {
    if (in_elem(g, n, k, i)) return -1;
    *out = ir_dtype_is_float(v->dt) ? (int64_t)oc_getf(v, i) : oc_geti(v, i);
    return 0;
  }
  if (want < 0)
    return ir_errorf(g, n, "input %d '%s' is read at run time; the model must declare %s (the output's shape)", k, v->name, what);
  Dim e = ir_dim_elem(g, n, v, i, 0, NULL, NULL, want);
  if (ir_failed(g) || !ir_dim_assume_eq(g, e, ir_dimc(want))) return -1;
  *out = want;
  return 0;
}

int oc_axis(Graph *g, Node *n, int64_t axis, int rank, int *out) {
  if (axis < -rank || axis >= rank)
    return ir_errorf(g, n, "axis %lld is out of range for rank %d", (long long)axis, rank);
  *out = (int)(axis < 0 ? axis + rank : axis);
  return 0;
}

void oc_set_out(Value *out, DType dt, int rank, const Dim *dims) {
  out->dt = dt;
  out->rank = rank;
  for (int i = 0; i < rank; i++) out->dims[i] = dims[i];
}

int oc_broadcast(Graph *g, Node *n, const Value *a, const Value *b, Value *out) {
  int r = a->rank > b->rank ? a->rank : b->rank;
  Dim d[IR_MAX_RANK];
  for (int i = 0; i < r; i++) {
    int ia = i - (r - a->rank), ib = i - (r - b->rank);
    Dim da = ia >= 0 ? a->dims[ia] : ir_dimc(1), db = ib >= 0 ? b->dims[ib] : ir_dimc(1);
    if (ir_dim_known(da) && da.c == 1) d[i] = db;
    else if (ir_dim_known(db) && db.c == 1) d[i] = da;
    else if (ir_dim_eq(da, db)) d[i] = da;
    else if (oc_same_dim(g, da, db)) d[i] = ir_dim_known(da) ? da : db;
    else {
      char sa[256], sb[256];
      ir_value_str(g, a, sa, sizeof sa);
      ir_value_str(g, b, sb, sizeof sb);
      return ir_errorf(g, n, "shapes %s and %s do not broadcast", sa, sb);
    }
  }
  out->rank = r;
  for (int i = 0; i < r; i++) out->dims[i] = d[i];
  return 0;
}

void oc_bcast_strides(const Value *v, int r, const Dim *dims, int64_t *strides) {
  int64_t s = 1;
  for (int i = r - 1; i >= 0; i--) {
    int iv = i - (r - v->rank);
    int64_t dv = iv >= 0 ? v->dims[iv].c : 1;
    (void)dims;
    strides[i] = dv == 1 ? 0 : s;
    s *= dv;
  }
}

/* the output size of one window axis over a run-time input size: floor(span / s) + 1 (ceil_mode: the last
 * window may start past the end when it still starts inside the input + left padding) */
static int window_dim_sym(Graph *g, Node *n, Window *w, int i, const char *ap, int ceil_mode, int64_t ext) {
  Dim in = w->din[i];
  if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
    if (w->s[i] != 1) return ir_errorf(g, n, "auto_pad %s with stride %lld needs a concrete input size (the pads depend on it); bind its dims with --dim", ap, (long long)w->s[i]);
    int64_t total = ext - 1;
    w->pb[i] = !strcmp(ap, "SAME_UPPER") ? total / 2 : total - total / 2;
    w->pe[i] = total - w->pb[i];
    w->dout[i] = in;
    return 0;
  }
  if (!strcmp(ap, "VALID")) w->pb[i] = w->pe[i] = 0;
  else if (strcmp(ap, "NOTSET")) return ir_errorf(g, n, "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", ap);
  Dim span = ir_dim_add(g, in, ir_dimc(w->pb[i] + w->pe[i] - ext));
  if (ceil_mode) {
    /* ceil(span / s) * s <= span + s - 1 starts inside the input + left padding when pe < ext - s + 1 */
    if (w->pe[i] >= ext - w->s[i] + 1)
      return ir_errorf(g, n, "ceil_mode with this padding needs a concrete input size; bind its dims with --dim");
    span = ir_dim_add(g, span, ir_dimc(w->s[i] - 1));
  }
  w->dout[i] = ir_dim_add(g, ir_dim_floordiv(g, span, w->s[i]), ir_dimc(1));
  return 0;
}

int oc_window(Graph *g, Node *n, const Value *x, const int64_t *kshape, int max_sp, Window *w) {
  memset(w, 0, sizeof *w);
  if (x->rank < 3 || x->rank > 2 + max_sp) {
    if (max_sp == 2) return ir_errorf(g, n, "input '%s' has rank %d, expected 3 or 4 (1-D or 2-D spatial)", x->name, x->rank);
    return ir_errorf(g, n, "input '%s' has rank %d, expected 3 to %d (1-D to %d-D spatial)", x->name, x->rank, 2 + max_sp, max_sp);
  }
  w->sp = x->rank - 2;
  for (int i = 0; i < w->sp; i++) {
    w->din[i] = x->dims[2 + i];
    w->in[i] = ir_dim_max(g, x->dims[2 + i]);
  }
  const int64_t *ks = NULL, *st = NULL, *dl = NULL, *pd = NULL;
  int nks = ir_attr_ints(n, "kernel_shape", &ks);
  if (kshape) { ks = kshape; nks = w->sp; }
  if (nks != w->sp) return ir_errorf(g, n, "kernel_shape has %d entries, expected %d", nks, w->sp);
  int nst = ir_attr_ints(n, "strides", &st), ndl = ir_attr_ints(n, "dilations", &dl), npd = ir_attr_ints(n, "pads", &pd);
  if ((nst >= 0 && nst != w->sp) || (ndl >= 0 && ndl != w->sp) || (npd >= 0 && npd != 2 * w->sp))
    return ir_errorf(g, n, "strides/dilations/pads have the wrong number of entries for %d spatial dims", w->sp);
  const char *ap = ir_attr_str(n, "auto_pad", "NOTSET");
  int ceil_mode = (int)ir_attr_int(n, "ceil_mode", 0);
  for (int i = 0; i < w->sp; i++) {
    w->k[i] = ks[i];
    w->s[i] = nst > 0 ? st[i] : 1;
    w->d[i] = ndl > 0 ? dl[i] : 1;
    w->pb[i] = npd > 0 ? pd[i] : 0;
    w->pe[i] = npd > 0 ? pd[i + w->sp] : 0;
    if (w->k[i] < 1 || w->s[i] < 1 || w->d[i] < 1 || w->pb[i] < 0 || w->pe[i] < 0)
      return ir_errorf(g, n, "kernel_shape, strides and dilations must be positive and pads non-negative");
    if (w->k[i] > INT32_MAX || w->s[i] > INT32_MAX || w->d[i] > INT32_MAX || w->pb[i] > INT32_MAX || w->pe[i] > INT32_MAX)
      return ir_errorf(g, n, "kernel_shape, strides, dilations and pads must be below 2^31");
    int64_t ext = w->d[i] * (w->k[i] - 1) + 1;   /* < 2^62: no overflow */
    if (ext > INT32_MAX) return ir_errorf(g, n, "the window's extent (dilation x (kernel - 1) + 1 = %lld) must be below 2^31", (long long)ext);
    if (!ir_dim_known(w->din[i])) {
      if (window_dim_sym(g, n, w, i, ap, ceil_mode, ext)) return -1;
      w->out[i] = ir_dim_max(g, w->dout[i]);
      if (w->out[i] < 1) return ir_errorf(g, n, "the window (extent %lld) does not fit the input even at its bound (size %lld)", (long long)ext, (long long)w->in[i]);
      continue;
    }
    if (!strcmp(ap, "SAME_UPPER") || !strcmp(ap, "SAME_LOWER")) {
      w->out[i] = (w->in[i] + w->s[i] - 1) / w->s[i];
      int64_t total = (w->out[i] - 1) * w->s[i] + ext - w->in[i];
      if (total < 0) total = 0;
      w->pb[i] = !strcmp(ap, "SAME_UPPER") ? total / 2 : total - total / 2;
      w->pe[i] = total - w->pb[i];
    } else if (!strcmp(ap, "VALID")) {
      w->pb[i] = w->pe[i] = 0;
      w->out[i] = (w->in[i] - ext) / w->s[i] + 1;
    } else if (!strcmp(ap, "NOTSET")) {
      int64_t span = w->in[i] + w->pb[i] + w->pe[i] - ext;
      if (span < 0) w->out[i] = 0;
      else if (ceil_mode) {
        w->out[i] = (span + w->s[i] - 1) / w->s[i] + 1;
        if ((w->out[i] - 1) * w->s[i] >= w->in[i] + w->pb[i]) w->out[i]--;  /* last window must start inside */
      } else w->out[i] = span / w->s[i] + 1;
    } else return ir_errorf(g, n, "auto_pad '%s' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID", ap);
    if (w->out[i] < 1) return ir_errorf(g, n, "the window (extent %lld) does not fit the input (size %lld)", (long long)ext, (long long)w->in[i]);
    w->dout[i] = ir_dimc(w->out[i]);
  }
  return 0;
}

void oc_bcast_strides_dim(Graph *g, const Value *v, int r, Dim *strides) {
  Dim s = ir_dimc(1);
  for (int i = r - 1; i >= 0; i--) {
    int iv = i - (r - v->rank);
    Dim dv = iv >= 0 ? v->dims[iv] : ir_dimc(1);
    strides[i] = oc_is1(dv) ? ir_dimc(0) : s;
    s = ir_dim_mul(g, s, dv);
  }
}

Dim oc_prod(Graph *g, const Dim *dims, int from, int to) {
  Dim p = ir_dimc(1);
  for (int i = from; i < to; i++) p = ir_dim_mul(g, p, dims[i]);
  return p;
}

int oc_batch_dims(Graph *g, const Value *y, int nb, const Value *const *ops, int nops, Dim *dims, Dim st[][IR_MAX_RANK]) {
  Dim full[4][IR_MAX_RANK];
  assert(nops <= 4);
  for (int j = 0; j < nops; j++) {
    const Value *v = ops[j];
    Dim vs[IR_MAX_RANK];
    if (v) ir_strides(g, v, vs);
    for (int i = 0; i < nb; i++) {
      int iv = v ? i - (nb - (v->rank - 2)) : -1;
      full[j][i] = iv < 0 || oc_is1(v->dims[iv]) ? ir_dimc(0) : vs[iv];
    }
  }
  int k = 0;
  for (int i = 0; i < nb; i++) {
    if (oc_is1(y->dims[i])) continue;
    bool merge = k > 0;
    for (int j = 0; j < nops && merge; j++) merge = ir_dim_eq(st[j][k - 1], ir_dim_mul(g, full[j][i], y->dims[i]));
    if (merge) dims[k - 1] = ir_dim_mul(g, dims[k - 1], y->dims[i]);
    else dims[k++] = y->dims[i];
    for (int j = 0; j < nops; j++) st[j][k - 1] = full[j][i];
  }
  return k;
}
