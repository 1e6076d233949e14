/* resize.c — Resize (opsets 10 to 19) and Upsample (7, 9): infer, lower, scratch; GridSample and RoiAlign
 * (at the end).
 *
 * All of the coordinate arithmetic happens here, at compile time, in double precision and in the
 * order of the ONNX reference implementation (linear mode under the common coordinate modes: in float32 as
 * onnxruntime computes it, see ort_linear): for every output index of an axis, the source
 * coordinate from coordinate_transformation_mode, the fractional ratio in (0, 1], the mode's
 * coefficients (nearest_mode, cubic_coeff_a, exclude_outside), and the taps — the input indices
 * nearest to the source coordinate in the edge-padded axis, which clamps them into the input.
 * The results are per-axis tap tables (index, weight) that travel in the kernel's parameter block
 * (RtResize in runtime/rt_abi.h); the kernel only does the weighted sums.
 *
 * The kernel resizes the last two axes; every other axis must keep its size and map each index to
 * itself (scale 1). antialias = 1 (opset 18) is not supported. */
#include "opcommon.h"

#include <stdlib.h>

enum { RZ_NEAREST, RZ_LINEAR, RZ_CUBIC };
enum { CT_HALF_PIXEL, CT_PYTORCH_HALF_PIXEL, CT_ALIGN_CORNERS, CT_ASYMMETRIC, CT_TF_HALF_PIXEL_FOR_NN,
       CT_TF_CROP_AND_RESIZE, CT_HALF_PIXEL_SYMMETRIC };
enum { NM_ROUND_PREFER_FLOOR, NM_ROUND_PREFER_CEIL, NM_FLOOR, NM_CEIL };

typedef struct {
  int mode, ctm, nearest, exclude, rank;
  double cubic_a;
  float extrap;
  double scale[IR_MAX_RANK];      /* per axis (1 for axes not resized) */
  double roi[2 * IR_MAX_RANK];    /* tf_crop_and_resize: starts then ends, per axis */
  Dim in[IR_MAX_RANK], out[IR_MAX_RANK];
} ResizeSpec;

static int pick(Graph *g, Node *n, const char *attr, const char *dflt, const char *const *names, int count) {
  const char *s = ir_attr_str(n, attr, dflt);
  for (int i = 0; i < count; i++)
    if (!strcmp(s, names[i])) return i;
  return ir_errorf(g, n, "%s '%s' is not supported", attr, s);
}

static bool present(const Node *n, int k) { return k < n->nin && n->in[k] && !(n->in[k]->kind == VK_CONST && ir_numel(n->in[k]) == 0); }

/* Reads the attributes and the scales/sizes/roi inputs; sets the output dims. */
static int resize_spec(Graph *g, Node *n, ResizeSpec *s) {
  const Value *x = n->in[0];
  memset(s, 0, sizeof *s);
  if (x->rank < 1) return ir_errorf(g, n, "input '%s' must have rank >= 1", x->name);
  int r = s->rank = x->rank;
  static const char *const modes[] = {"nearest", "linear", "cubic"};
  static const char *const ctms[] = {"half_pixel", "pytorch_half_pixel", "align_corners", "asymmetric",
                                     "tf_half_pixel_for_nn", "tf_crop_and_resize", "half_pixel_symmetric"};
  static const char *const nms[] = {"round_prefer_floor", "round_prefer_ceil", "floor", "ceil"};
  bool legacy = n->op == OP_Upsample || n->opset < 11;   /* Upsample-7/9, Resize-10 */
  if ((s->mode = pick(g, n, "mode", "nearest", modes, legacy ? 2 : 3)) < 0) return -1;
  if (legacy) {   /* asymmetric; nearest rounds down when upsampling an axis, up when downsampling (coeffs_of) */
    s->ctm = CT_ASYMMETRIC;
    s->nearest = -1;
  } else {
    if ((s->ctm = pick(g, n, "coordinate_transformation_mode", "half_pixel", ctms, 7)) < 0) return -1;
    if ((s->nearest = pick(g, n, "nearest_mode", "round_prefer_floor", nms, 4)) < 0) return -1;
  }
  s->cubic_a = ir_attr_float(n, "cubic_coeff_a", -0.75f);
  s->exclude = (int)ir_attr_int(n, "exclude_outside", 0);
  s->extrap = ir_attr_float(n, "extrapolation_value", 0.0f);
  if (ir_attr_int(n, "antialias", 0)) return ir_errorf(g, n, "antialias=1 is not supported");

  /* axes (opset 18+): scales/sizes/roi list only these axes */
  int axes[IR_MAX_RANK], na = r;
  const int64_t *ax;
  int nax = ir_attr_ints(n, "axes", &ax);
  if (nax >= 0) {
    if (nax > r) return ir_errorf(g, n, "axes has %d entries for rank %d", nax, r);
    na = nax;
    for (int i = 0; i < na; i++) {
      if (oc_axis(g, n, ax[i], r, &axes[i])) return -1;
      for (int j = 0; j < i; j++)
        if (axes[j] == axes[i]) return ir_errorf(g, n, "axes has a repeated axis");
    }
  } else
    for (int i = 0; i < r; i++) axes[i] = i;

  for (int i = 0; i < r; i++) { s->in[i] = s->out[i] = x->dims[i]; s->scale[i] = 1.0; s->roi[i] = 0.0; s->roi[r + i] = 1.0; }

  int k_scales, k_sizes = -1;
  const Value *sc = NULL;
  if (n->op == OP_Upsample && n->opset < 9) {
    const Attr *a = ir_attr(n, "scales");
    if (!a || a->type != AT_FLOATS || a->n != r) return ir_errorf(g, n, "attribute scales must list %d floats", r);
    for (int i = 0; i < r; i++) s->scale[i] = a->floats[i];
    goto sized;
  }
  k_scales = legacy ? 1 : 2;
  if (!legacy) k_sizes = 3;
  if (!legacy && present(n, 1) && s->ctm == CT_TF_CROP_AND_RESIZE) {
    if (oc_need_const(g, n, 1)) return -1;
    const Value *roi = n->in[1];
    if (ir_numel(roi) != 2 * na) return ir_errorf(g, n, "roi has %lld entries, expected %d", (long long)ir_numel(roi), 2 * na);
    for (int i = 0; i < na; i++) { s->roi[axes[i]] = oc_getf(roi, i); s->roi[r + axes[i]] = oc_getf(roi, na + i); }
  }
  if (k_sizes >= 0 && present(n, k_sizes)) {
    if (present(n, k_scales)) return ir_errorf(g, n, "only one of scales and sizes may be given");
    const Value *sz = n->in[k_sizes];
    bool rt = sz->kind == VK_INPUT;   /* a graph input: each size must be the declared output's (checked at run time) */
    int64_t dd[IR_MAX_RANK];
    if (rt && ir_declared_shape(g, n->out[0]->name, dd) != r) for (int i = 0; i < IR_MAX_RANK; i++) dd[i] = -1;
    if (!rt && oc_need_const(g, n, k_sizes)) return -1;
    if (!ir_dtype_is_int(sz->dt) || ir_numel(sz) != na) return ir_errorf(g, n, "sizes must be %d integers", na);
    const char *pol = ir_attr_str(n, "keep_aspect_ratio_policy", "stretch");
    int policy = !strcmp(pol, "stretch") ? 0 : !strcmp(pol, "not_larger") ? 1 : !strcmp(pol, "not_smaller") ? 2 : -1;
    if (policy < 0) return ir_errorf(g, n, "keep_aspect_ratio_policy '%s' is not supported", pol);
    if (rt && policy) return ir_errorf(g, n, "sizes read at run time need keep_aspect_ratio_policy 'stretch'");
    double common = policy == 1 ? INFINITY : 0.0;
    for (int i = 0; i < na; i++) {
      int a = axes[i];
      int64_t want;
      if (rt ? oc_in_declared(g, n, k_sizes, i, dd[a], "its output dims", &want) : (want = oc_geti(sz, i), 0)) return -1;
      if (want < 0) return ir_errorf(g, n, "sizes has a negative entry");
      if (!ir_dim_known(x->dims[a])) return oc_need_known(g, n, 0);
      double q = x->dims[a].c ? (double)want / (double)x->dims[a].c : 1.0;
      s->scale[a] = q;
      s->out[a] = ir_dimc(want);
      if (policy == 1 && q < common) common = q;
      if (policy == 2 && q > common) common = q;
    }
    if (policy)
      for (int i = 0; i < na; i++) {
        int a = axes[i];
        s->scale[a] = common;
        s->out[a] = ir_dimc((int64_t)nearbyint(common * (double)x->dims[a].c));
      }
    return 0;
  }
  if (!present(n, k_scales)) return ir_errorf(g, n, "needs scales or sizes");
  if (oc_need_const(g, n, k_scales)) return -1;
  sc = n->in[k_scales];
  if (!ir_dtype_is_float(sc->dt) || ir_numel(sc) != na) return ir_errorf(g, n, "scales must be %d floats", na);
  for (int i = 0; i < na; i++) s->scale[axes[i]] = oc_getf(sc, i);
sized:
  for (int a = 0; a < r; a++) {
    double q = s->scale[a];
    if (!(q > 0.0) || !isfinite(q)) return ir_errorf(g, n, "scale %g of axis %d must be positive", q, a);
    if (q == 1.0) continue;
    if (!ir_dim_known(x->dims[a])) {   /* a run-time size: an integer scale keeps the output size a polynomial */
      if (q != floor(q) || q > 65536)
        return ir_errorf(g, n, "scale %g of axis %d over a run-time size: only integer scales are supported (bind the dims with --dim)", q, a);
      s->out[a] = ir_dim_mul(g, x->dims[a], ir_dimc((int64_t)q));
      continue;
    }
    s->out[a] = ir_dimc((int64_t)(q * (double)x->dims[a].c));   /* floor, as the reference */
  }
  return 0;
}

int op_resize_infer(Graph *g, Node *n) {
  ResizeSpec s;
  if (oc_need_float(g, n, 0) || resize_spec(g, n, &s)) return -1;
  oc_set_out(n->out[0], DT_FLOAT, s.rank, s.out);
  return 0;
}

/* ---- per-axis tap tables (compile time) */

static void coeffs_of(const ResizeSpec *s, int axis, double ratio, double *c, int *nc) {
  switch (s->mode) {
  case RZ_NEAREST: {
    bool up;   /* the second of the two neighbours */
    int nm = s->nearest >= 0 ? s->nearest : s->scale[axis] < 1.0 ? NM_CEIL : NM_FLOOR;
    if (ratio == 1.0) up = true;
    else switch (nm) {
      case NM_ROUND_PREFER_FLOOR: up = ratio > 0.5; break;
      case NM_ROUND_PREFER_CEIL: up = ratio >= 0.5; break;
      case NM_FLOOR: up = false; break;
      default: up = true; break;
    }
    c[0] = up ? 0.0 : 1.0; c[1] = up ? 1.0 : 0.0; *nc = 2;
    break;
  }
  case RZ_LINEAR: c[0] = 1.0 - ratio; c[1] = ratio; *nc = 2; break;
  default: {
    double A = s->cubic_a, r1 = ratio + 1, q = 1 - ratio, q1 = q + 1;
    c[0] = ((A * r1 - 5 * A) * r1 + 8 * A) * r1 - 4 * A;
    c[1] = ((A + 2) * ratio - (A + 3)) * ratio * ratio + 1;
    c[2] = ((A + 2) * q - (A + 3)) * q * q + 1;
    c[3] = ((A * q1 - 5 * A) * q1 + 8 * A) * q1 - 4 * A;
    *nc = 4;
  }
  }
}

/* Source coordinate of output index x on an axis; false when it falls outside the crop (extrapolate). */
static bool source_coord(const ResizeSpec *s, int axis, double x, int64_t in, int64_t out_int, double *xo) {
  double scale = s->scale[axis], out = scale * (double)in;
  switch (s->ctm) {
  case CT_ALIGN_CORNERS: *xo = out == 1.0 ? 0.0 : x * (double)(in - 1) / (out - 1.0); break;
  case CT_ASYMMETRIC: *xo = x / scale; break;
  case CT_TF_HALF_PIXEL_FOR_NN: *xo = (x + 0.5) / scale; break;
  case CT_PYTORCH_HALF_PIXEL: *xo = out == 1.0 ? -0.5 : (x + 0.5) / scale - 0.5; break;
  case CT_HALF_PIXEL_SYMMETRIC: {
    double adj = (double)out_int / out, center = (double)in / 2.0;
    *xo = center * (1.0 - adj) + (x + 0.5) / scale - 0.5;
    break;
  }
  case CT_TF_CROP_AND_RESIZE: {
    double r0 = s->roi[axis], r1 = s->roi[s->rank + axis];
    *xo = out == 1.0 ? (r1 - r0) * (double)(in - 1) / 2.0 : x * (r1 - r0) * (double)(in - 1) / (out - 1.0);
    *xo += r0 * (double)(in - 1);
    return !(*xo < 0.0 || *xo > (double)(in - 1));
  }
  default: *xo = (x + 0.5) / scale - 0.5; break;
  }
  return true;
}

/* Linear mode, 2 taps, half_pixel or asymmetric coordinates, which onnxruntime computes in float32: its coefficients exactly as it
 * computes them (the CPU kernel that onnxruntime-web runs too), so the outputs are its floats to the last bit. The
 * source coordinate in float32, clamped into [0, in - 1]; taps x1 = floor, x2 = x1 + 1 (clamped); weights
 * |x - x2| on x1 and |x - x1| on x2, 0.5 and 0.5 when both are the last pixel. The reference's double-precision
 * coefficients differ from these in the last bit, and a DynamicQuantizeLinear after the Resize (IS-Net) turns
 * such differences into flipped integers that grow through a decoder. */
static bool ort_linear(const ResizeSpec *s, int axis, int64_t in, int64_t out, int32_t *idx, float *wt) {
  /* half_pixel and asymmetric only: align_corners and pytorch_half_pixel depend on the output length, which the
   * reference takes as in * scale and onnxruntime as the integer size (they differ when downsampling by a scale
   * that does not divide: the backend case resize_downsample_scales_linear_align_corners) */
  if (s->mode != RZ_LINEAR || (s->ctm != CT_HALF_PIXEL && s->ctm != CT_ASYMMETRIC)) return false;
  float sc = (float)s->scale[axis], last = (float)(in - 1);
  for (int64_t o = 0; o < out; o++) {
    float x = (float)o, xo;
    if (sc == 1.0f) xo = x;
    else if (s->ctm == CT_ASYMMETRIC) xo = x / sc;
    else xo = (x + 0.5f) / sc - 0.5f;
    xo = xo < 0.0f ? 0.0f : xo > last ? last : xo;
    int64_t x1 = (int64_t)xo < in - 1 ? (int64_t)xo : in - 1, x2 = x1 + 1 < in - 1 ? x1 + 1 : in - 1;
    float d1 = fabsf(xo - (float)x1), d2 = fabsf(xo - (float)x2);
    if (x1 == x2) d1 = d2 = 0.5f;
    idx[2 * o] = (int32_t)x1;
    idx[2 * o + 1] = (int32_t)x2;
    wt[2 * o] = d2;
    wt[2 * o + 1] = d1;
  }
  return true;
}

/* Tables of one axis: taps per output index (1 for nearest), idx clamped into [0, in), idx[o*taps] = -1
 * when output o is outside the crop. */
static void axis_table(const ResizeSpec *s, int axis, int64_t in, int64_t out, int taps, int32_t *idx, float *wt) {
  if (taps == 2 && ort_linear(s, axis, in, out, idx, wt)) return;
  for (int64_t o = 0; o < out; o++) {
    int32_t *ti = idx + o * taps;
    float *tw = wt + o * taps;
    double xo;
    if (!source_coord(s, axis, (double)o, in, out, &xo)) {
      for (int t = 0; t < taps; t++) { ti[t] = -1; tw[t] = 0.0f; }
      continue;
    }
    double fl = floor(xo), ratio = xo == fl ? 1.0 : xo - fl, c[4];
    int nc;
    coeffs_of(s, axis, ratio, c, &nc);
    /* the nc indices nearest to xo in the edge-padded axis (ties: the smaller), ascending */
    int64_t pad = (nc + 1) / 2, len = in + 2 * pad, sel[4];
    double xp = xo + (double)pad;
    int64_t cen = (int64_t)floor(xp);
    if (cen < 0) cen = 0;
    if (cen > len - 1) cen = len - 1;
    int64_t lo = cen - nc - 1 < 0 ? 0 : cen - nc - 1, hi = cen + nc + 1 > len - 1 ? len - 1 : cen + nc + 1;
    int got = 0;
    while (got < nc) {
      int64_t best = -1;
      for (int64_t i = lo; i <= hi; i++) {
        bool taken = false;
        for (int j = 0; j < got; j++) taken |= sel[j] == i;
        if (taken) continue;
        if (best < 0 || fabs(xp - (double)i) < fabs(xp - (double)best)) best = i;   /* ties keep the smaller */
      }
      sel[got++] = best;
    }
    for (int a = 0; a < nc; a++)   /* ascending */
      for (int b = a + 1; b < nc; b++)
        if (sel[b] < sel[a]) { int64_t t = sel[a]; sel[a] = sel[b]; sel[b] = t; }
    if (s->exclude) {
      double sum = 0;
      for (int t = 0; t < nc; t++) {
        int64_t i = sel[t] - pad;
        if (i < 0 || i >= in) c[t] = 0.0;
        sum += c[t];
      }
      for (int t = 0; t < nc; t++) c[t] = sum != 0.0 ? c[t] / sum : 0.0;
    }
    if (s->mode == RZ_NEAREST) {
      int t = c[0] != 0.0 ? 0 : 1;
      int64_t i = sel[t] - pad;
      ti[0] = (int32_t)(i < 0 ? 0 : i >= in ? in - 1 : i);
      tw[0] = 1.0f;
      continue;
    }
    for (int t = 0; t < nc; t++) {
      int64_t i = sel[t] - pad;
      ti[t] = (int32_t)(i < 0 ? 0 : i >= in ? in - 1 : i);
      tw[t] = (float)c[t];
    }
  }
}

static int taps_of(const ResizeSpec *s) { return s->mode == RZ_NEAREST ? 1 : s->mode == RZ_LINEAR ? 2 : 4; }

/* The output index o reads exactly input index o with weight 1 (an axis the kernel leaves alone). */
static bool axis_identity(const ResizeSpec *s, int axis, int64_t in, int64_t out) {
  if (in != out) return false;
  if (in == 1) {   /* every tap is clamped to 0; only a crop can differ */
    double xo;
    return source_coord(s, axis, 0.0, in, out, &xo);
  }
  int taps = taps_of(s);
  int32_t *idx = malloc((size_t)(out * taps) * sizeof *idx);
  float *wt = malloc((size_t)(out * taps) * sizeof *wt);
  if (!idx || !wt) { free(idx); free(wt); return false; }
  axis_table(s, axis, in, out, taps, idx, wt);
  bool ok = true;
  for (int64_t o = 0; o < out && ok; o++) {
    double w = 0;
    for (int t = 0; t < taps; t++) {
      if (idx[o * taps + t] < 0) ok = false;
      else if (idx[o * taps + t] == o) w += wt[o * taps + t];
      else if (wt[o * taps + t] != 0.0f) ok = false;
    }
    if (fabs(w - 1.0) > 1e-6) ok = false;
  }
  free(idx); free(wt);
  return ok;
}

/* For an axis whose size is a run-time dim, the kernel gets the tap table made for the bound: right only if
 * for every input size up to it, the table of that size is the bound's table cut to the output size (true
 * for integer-scale nearest; not where taps clamp at the far edge, as linear half_pixel does). Checked here,
 * size by size. */
static bool axis_table_prefix(const ResizeSpec *s, int axis, int64_t in_max, int64_t out_max, int taps,
                              const int32_t *idx, const float *wt) {
  int32_t *i2 = malloc((size_t)(out_max * taps) * sizeof *i2);
  float *w2 = malloc((size_t)(out_max * taps) * sizeof *w2);
  bool ok = i2 && w2;
  for (int64_t in = 1; in < in_max && ok; in++) {
    int64_t out = (int64_t)(s->scale[axis] * (double)in);
    if (out > out_max) { ok = false; break; }
    axis_table(s, axis, in, out, taps, i2, w2);
    ok = !memcmp(i2, idx, (size_t)(out * taps) * sizeof *i2) && !memcmp(w2, wt, (size_t)(out * taps) * sizeof *w2);
  }
  free(i2); free(w2);
  return ok;
}

int64_t op_resize_scratch(Graph *g, const Node *n) {
  ResizeSpec s;
  const Value *x = n->in[0];
  if (resize_spec(g, (Node *)n, &s) || s.mode == RZ_NEAREST || x->rank < 2) return 0;
  return ir_dim_max(g, x->dims[x->rank - 1]) * 4;
}

int op_resize_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *y = n->out[0];
  ResizeSpec s;
  if (resize_spec(g, n, &s)) return -1;
  int r = s.rank, ah = r - 2, aw = r - 1;
  Dim planes = ir_dimc(1);
  for (int a = 0; a < r - 2; a++) {
    bool same = ir_dim_known(s.in[a]) ? axis_identity(&s, a, s.in[a].c, s.out[a].c) : s.scale[a] == 1.0 && ir_dim_eq(s.in[a], s.out[a]);
    if (!same) return ir_errorf(g, n, "resizing axis %d is not supported (only the last two axes may change)", a);
    planes = ir_dim_mul(g, planes, s.in[a]);
  }
  /* tables for the sizes at the bounds (a run-time size reads a prefix of them: axis_table_prefix) */
  int64_t h = r >= 2 ? ir_dim_max(g, s.in[ah]) : 1, w = ir_dim_max(g, s.in[aw]);
  int64_t oh = r >= 2 ? ir_dim_max(g, s.out[ah]) : 1, ow = ir_dim_max(g, s.out[aw]);
  int taps = taps_of(&s), th = r >= 2 ? taps : 1, tw = taps;
  if (ir_nbytes_max(g, y) == 0) return 0;
  if (h * w == 0) return ir_errorf(g, n, "cannot resize an empty input to a non-empty output");
  size_t hdr = (sizeof(RtResize) + 15) & ~(size_t)15, nh = (size_t)(oh * th), nw = (size_t)(ow * tw);
  size_t size = hdr + 8 * (nh + nw);
  if (size > ((size_t)1 << 28)) return ir_errorf(g, n, "the output is too large");
  char *blk = calloc(1, size);
  if (!blk) return ir_errorf(g, n, "out of memory");
  int32_t *hidx = (int32_t *)(blk + hdr), *widx = hidx + 2 * nh;
  float *hwt = (float *)(hidx + nh), *wwt = (float *)(widx + nw);
  if (r >= 2) axis_table(&s, ah, h, oh, th, hidx, hwt);
  else { hidx[0] = 0; hwt[0] = 1.0f; }
  axis_table(&s, aw, w, ow, tw, widx, wwt);
  for (int a = r >= 2 ? ah : aw; a <= aw; a++) {
    if (ir_dim_known(s.in[a])) continue;
    bool ok = a == aw ? axis_table_prefix(&s, a, w, ow, tw, widx, wwt) : axis_table_prefix(&s, a, h, oh, th, hidx, hwt);
    if (!ok) {
      free(blk);
      return ir_errorf(g, n, "this mode and coordinate_transformation_mode over a run-time size of axis %d are not supported yet "
                       "(integer-scale nearest is); bind the dims with --dim", a);
    }
  }
  RtResize p = {.x = cg_addr(cx, x), .y = cg_addr(cx, y), .th = th, .tw = tw, .tab = (int32_t)hdr, .extrap = s.extrap,
                .tab_oh = (int32_t)oh, .tab_ow = (int32_t)ow};
  CG_DIM(cx, p, planes, planes);
  CG_DIM(cx, p, h, r >= 2 ? s.in[ah] : ir_dimc(1));
  CG_DIM(cx, p, w, s.in[aw]);
  CG_DIM(cx, p, oh, r >= 2 ? s.out[ah] : ir_dimc(1));
  CG_DIM(cx, p, ow, s.out[aw]);
  if (th > 1) p.scratch = cg_scratch(cx, n);
  /* integer nearest upsampling along the row: widx[ox] == ox / f */
  if (tw == 1 && ow % w == 0 && ow / w >= 2) {
    int64_t f = ow / w;
    bool rep = true;
    for (int64_t o = 0; o < ow && rep; o++) rep = widx[o] == o / f;
    if (rep && (ir_dim_known(s.in[aw]) || s.scale[aw] == (double)f)) p.wrep = (int32_t)f;
  }
  memcpy(blk, &p, sizeof p);
  int rc = cg_call(cx, K_resize_f32, blk, size, n);
  free(blk);
  return rc;
}

/* ---- GridSample (opsets 16 and 20, 2-D spatial): the sampling points are run-time data, so the kernel does
 * all the coordinate arithmetic (rt_grid_sample_f32) */
static int grid_spec(Graph *g, Node *n, RtGridSample *p) {
  static const char *const modes16[] = {"nearest", "bilinear", "bicubic"}, *const modes20[] = {"nearest", "linear", "cubic"};
  static const char *const pads[] = {"zeros", "border", "reflection"};
  const char *m = ir_attr_str(n, "mode", n->opset >= 20 ? "linear" : "bilinear");
  p->mode = -1;
  for (int i = 0; i < 3; i++)
    if (!strcmp(m, n->opset >= 20 ? modes20[i] : modes16[i])) p->mode = i;
  if (p->mode < 0)
    return ir_errorf(g, n, "mode '%s' is not one of %s", m, n->opset >= 20 ? "nearest, linear, cubic" : "nearest, bilinear, bicubic");
  p->padding = pick(g, n, "padding_mode", "zeros", pads, 3);
  if (p->padding < 0) return -1;
  p->align_corners = ir_attr_int(n, "align_corners", 0) != 0;
  return 0;
}

int op_grid_sample_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *gr = n->in[1];
  RtGridSample p;
  if (oc_need_float(g, n, 0) || grid_spec(g, n, &p)) return -1;
  if (x->rank != 4) return ir_errorf(g, n, "input '%s' has rank %d, expected 4 (2-D spatial)", x->name, x->rank);
  if (gr->dt != DT_FLOAT) return ir_errorf(g, n, "grid '%s' has dtype %s, expected float32", gr->name, ir_dtype_name(gr->dt));
  if (gr->rank != 4 || !ir_dim_known(gr->dims[3]) || gr->dims[3].c != 2)
    return ir_errorf(g, n, "grid '%s' must have shape [N, H_out, W_out, 2]", gr->name);
  if (!ir_dim_assume_eq(g, x->dims[0], gr->dims[0])) return ir_errorf(g, n, "input and grid have different batch sizes");
  Dim dims[4] = {x->dims[0], x->dims[1], gr->dims[1], gr->dims[2]};
  oc_set_out(n->out[0], DT_FLOAT, 4, dims);
  return 0;
}

int op_grid_sample_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *gr = n->in[1], *y = n->out[0];
  RtGridSample p = {.x = cg_addr(cx, x), .grid = cg_addr(cx, gr), .y = cg_addr(cx, y)};
  if (grid_spec(g, n, &p)) return -1;
  CG_DIM(cx, p, n, x->dims[0]);
  CG_DIM(cx, p, c, x->dims[1]);
  CG_DIM(cx, p, h, x->dims[2]);
  CG_DIM(cx, p, w_, x->dims[3]);
  CG_DIM(cx, p, oh, gr->dims[1]);
  CG_DIM(cx, p, ow, gr->dims[2]);
  return cg_call(cx, K_grid_sample_f32, &p, sizeof p, n);
}

/* ---- RoiAlign (opsets 10 and 16) */
/* the mode (0 avg, 1 max) and whether coordinates are half-pixel (opset 16's default), or -1 after an error */
static int roi_mode(Graph *g, Node *n) {
  static const char *const modes[] = {"avg", "max"};
  return pick(g, n, "mode", "avg", modes, 2);
}
static int roi_half_pixel(Graph *g, Node *n) {
  static const char *const ctms[] = {"output_half_pixel", "half_pixel"};
  return pick(g, n, "coordinate_transformation_mode", n->opset >= 16 ? "half_pixel" : "output_half_pixel", ctms, 2);
}
int op_roi_align_infer(Graph *g, Node *n) {
  Value *x = n->in[0], *rois = n->in[1], *bi = n->in[2];
  if (oc_need_float(g, n, 0) || oc_need_float(g, n, 1)) return -1;
  if (x->rank != 4) return ir_errorf(g, n, "input '%s' has rank %d, expected 4", x->name, x->rank);
  if (rois->rank != 2 || !ir_dim_known(rois->dims[1]) || rois->dims[1].c != 4) return ir_errorf(g, n, "rois '%s' must have shape [num_rois, 4]", rois->name);
  if ((bi->dt != DT_INT64 && bi->dt != DT_INT32) || bi->rank != 1 || !oc_same_dim(g, bi->dims[0], rois->dims[0]))
    return ir_errorf(g, n, "batch_indices '%s' must be an int64 vector of num_rois entries", bi->name);
  if (roi_mode(g, n) < 0 || roi_half_pixel(g, n) < 0) return -1;
  int64_t oh = ir_attr_int(n, "output_height", 1), ow = ir_attr_int(n, "output_width", 1), sr = ir_attr_int(n, "sampling_ratio", 0);
  if (oh < 1 || ow < 1 || oh > INT32_MAX || ow > INT32_MAX || sr < 0 || sr > INT32_MAX)
    return ir_errorf(g, n, "output_height/output_width must be positive and sampling_ratio non-negative");
  Dim dims[4] = {rois->dims[0], x->dims[1], ir_dimc(oh), ir_dimc(ow)};
  oc_set_out(n->out[0], DT_FLOAT, 4, dims);
  return 0;
}

int op_roi_align_lower(LowerCtx *cx, Node *n) {
  Graph *g = cg_graph(cx);
  Value *x = n->in[0], *rois = n->in[1], *bi = n->in[2];
  RtRoiAlign p = {.x = cg_addr(cx, x), .rois = cg_addr(cx, rois), .batch = cg_addr(cx, bi), .y = cg_addr(cx, n->out[0]),
                  .oh = (int32_t)ir_attr_int(n, "output_height", 1), .ow = (int32_t)ir_attr_int(n, "output_width", 1),
                  .sampling = (int32_t)ir_attr_int(n, "sampling_ratio", 0), .mode = roi_mode(g, n), .half_pixel = roi_half_pixel(g, n),
                  .b64 = bi->dt == DT_INT64, .scale = ir_attr_float(n, "spatial_scale", 1.0f)};
  CG_DIM(cx, p, n, x->dims[0]);
  CG_DIM(cx, p, c, x->dims[1]);
  CG_DIM(cx, p, h, x->dims[2]);
  CG_DIM(cx, p, w_, x->dims[3]);
  CG_DIM(cx, p, nroi, rois->dims[0]);
  return cg_call(cx, K_roi_align_f32, &p, sizeof p, n);
}
