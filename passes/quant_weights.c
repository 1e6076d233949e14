/* quant_weights.c — MatMul weights that are (or become) integers, packed into the quantized panel formats the
 * kernel reads (RtWeightDesc: RT_WF_Q8_PANELS, RT_WF_Q4_PANELS; runtime/pack.h), once at compile time. Three
 * sources, one result (a MatMul whose wpack/wscale hold B and whose in[1] is a shape-only constant):
 *   - com.microsoft MatMulNBits (onnxruntime-genai's int4 LLM export; bits 4 or 8, any block size the kernel
 *     takes, optional zero points and bias): the node becomes a MatMul, its nibbles repacked as they are;
 *   - MatMul(A, DequantizeLinear(q, scale, zero)) with q a constant int8/uint8 [K][N], per tensor, per
 *     output column (axis 1) or in blocks along K (block_size, opset 21): the QDQ form of quantize_static and
 *     quantize_dynamic; the DequantizeLinear is left to DCE when nothing else reads it; likewise a Gemm's
 *     (transB: q [N][K] with its scale along axis 0), which becomes MatMul + bias;
 *   - with --quantize int8|int4 (Graph.quant), MatMul(A, B) with B a constant float32 [K][N]: int8 symmetric
 *     per output column, or int4 per block of Graph.quant.block rows along K with a zero point (min/max, as
 *     onnxruntime's 4-bit quantizer's asymmetric mode), except nodes named or typed in --quantize-skip.
 * Nothing is dequantized to float32: the bytes shipped are those of the integers (plus 64 bytes of scales and
 * zero points per 8 columns and block). Runs at every -O level (MatMulNBits has no other lowering). */
#include "passes.h"
#include "../ir/ops.h"
#include "../ir/ops/opcommon.h"
#include "../runtime/pack.h"
#include "../runtime/rt_abi.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The canonical form every source is brought to before packing: t[k][n], scale and zero per block x column */
typedef struct {
  int k, n, bits, block, nblk;
  signed char *t;
  float *scale;
  int *zero;
  bool zeros;
} QW;

static int qw_alloc(Graph *g, Node *n, QW *w, int k, int nn, int bits, int block) {
  if (!rt_matmul_q_block_ok(block)) return ir_errorf(g, n, "quantization block of %d rows is not supported (a multiple of 8 up to 32, or of 32)", block);
  w->k = k; w->n = nn; w->bits = bits; w->block = block; w->nblk = (k + block - 1) / block;
  w->t = calloc((size_t)k * (size_t)nn, 1);
  w->scale = calloc((size_t)w->nblk * (size_t)nn, sizeof(float));
  w->zero = calloc((size_t)w->nblk * (size_t)nn, sizeof(int));
  w->zeros = false;
  if (!w->t || !w->scale || !w->zero) return ir_errorf(g, n, "out of memory quantizing weights");
  return 0;
}

static void qw_free(QW *w) { free(w->t); free(w->scale); free(w->zero); }

/* packs w into mm's wpack/wscale; in[1] becomes a shape-only [K][N] constant named name */
static int qw_attach(Graph *g, Node *mm, QW *w, const char *name) {
  for (size_t i = 0; i < (size_t)w->nblk * (size_t)w->n; i++) if (w->zero[i]) w->zeros = true;
  int64_t nb = (int64_t)rt_matmul_q_bytes(w->k, w->n, w->bits, w->block);
  int64_t ns = (int64_t)rt_matmul_q_scale_words(w->k, w->n, w->block);
  char nm[256];
  snprintf(nm, sizeof nm, "%s.q%d", name, w->bits);
  Value *d = ir_const(g, nm, DT_UINT8, 1, &nb, NULL);
  snprintf(nm, sizeof nm, "%s.q%d.scales", name, w->bits);
  Value *s = ir_const(g, nm, DT_INT32, 1, &ns, NULL);   /* int32 words: floats and zero points (no float pass edits them) */
  rt_pack_matmul_q(w->k, w->n, w->bits, w->block, w->t, w->scale, w->zero, d->data, s->data);
  mm->wpack = d;
  mm->wscale = s;
  mm->wfmt = w->bits == 4 ? RT_WF_Q4_PANELS : RT_WF_Q8_PANELS;
  mm->wblock = w->block;
  mm->wzeros = w->zeros;
  mm->in[1] = ir_const_view(g, name, DT_FLOAT, 2, (int64_t[]){w->k, w->n}, NULL);
  return 0;
}

static bool const_data(const Value *v) { return v && v->kind == VK_CONST && v->data && ir_shape_known(v); }

/* ---- com.microsoft MatMulNBits: B [N][blocks][block*bits/8] uint8, scales [N*blocks], zero points [N][ceil(blocks*bits/8)] */
static int from_nbits(Graph *g, Node *n) {
  Value *b = n->in[1], *sc = n->in[2], *zp = n->nin > 3 ? n->in[3] : NULL, *gidx = n->nin > 4 ? n->in[4] : NULL;
  Value *bias = n->nin > 5 ? n->in[5] : NULL;
  int k = (int)ir_attr_int(n, "K", 0), nn = (int)ir_attr_int(n, "N", 0), bits = (int)ir_attr_int(n, "bits", 4);
  int bs = (int)ir_attr_int(n, "block_size", 0);
  if (gidx) return ir_errorf(g, n, "MatMulNBits with g_idx (act-order) is not supported");
  if (!const_data(b) || !const_data(sc) || (zp && !const_data(zp)))
    return ir_errorf(g, n, "MatMulNBits needs constant B, scales and zero_points");
  if (b->dt != DT_UINT8) return ir_errorf(g, n, "B has dtype %s, expected uint8", ir_dtype_name(b->dt));
  if (sc->dt != DT_FLOAT && sc->dt != DT_FLOAT16) return ir_errorf(g, n, "scales have dtype %s, expected float32 or float16", ir_dtype_name(sc->dt));
  if (zp && zp->dt != DT_UINT8) return ir_errorf(g, n, "zero_points of dtype %s are not supported (uint8 only)", ir_dtype_name(zp->dt));
  int nblk = (k + bs - 1) / bs, blob = bs * bits / 8, zrow = (nblk * bits + 7) / 8;
  if (ir_numel(b) != (int64_t)nn * nblk * blob) return ir_errorf(g, n, "B has %lld bytes, expected N*ceil(K/block_size)*block_size*bits/8 = %lld", (long long)ir_numel(b), (long long)nn * nblk * blob);
  if (ir_numel(sc) != (int64_t)nn * nblk) return ir_errorf(g, n, "scales have %lld elements, expected N*ceil(K/block_size) = %lld", (long long)ir_numel(sc), (long long)nn * nblk);
  if (zp && ir_numel(zp) != (int64_t)nn * zrow) return ir_errorf(g, n, "zero_points have %lld bytes, expected %lld", (long long)ir_numel(zp), (long long)nn * zrow);
  if (bias && (bias->dt != DT_FLOAT || ir_numel(bias) != nn || !ir_shape_known(bias))) return ir_errorf(g, n, "bias must be float32 [N]");
  QW w;
  if (qw_alloc(g, n, &w, k, nn, bits, bs)) { qw_free(&w); return -1; }
  const uint8_t *bd = b->data, *zd = zp ? zp->data : NULL;
  int center = bits == 8 ? 128 : 0;   /* t for 8 bits is signed: q - 128; 4-bit nibbles stay as stored */
  for (int j = 0; j < nn; j++)
    for (int blk = 0; blk < nblk; blk++) {
      const uint8_t *src = bd + ((size_t)j * nblk + (size_t)blk) * (size_t)blob;
      for (int r = 0; r < bs && blk * bs + r < k; r++) {
        int q = bits == 8 ? src[r] : (r & 1) ? src[r / 2] >> 4 : src[r / 2] & 15;
        w.t[(size_t)(blk * bs + r) * (size_t)nn + (size_t)j] = (signed char)(q - center);
      }
      int z = 1 << (bits - 1);                  /* the default zero point: 8 (4 bits), 128 (8 bits) */
      if (zd) {
        size_t zi = (size_t)j * (size_t)zrow;
        z = bits == 8 ? zd[zi + (size_t)blk] : (blk & 1) ? zd[zi + (size_t)blk / 2] >> 4 : zd[zi + (size_t)blk / 2] & 15;
      }
      w.scale[(size_t)blk * nn + (size_t)j] = (float)oc_getf(sc, (int64_t)j * nblk + blk);
      w.zero[(size_t)blk * nn + (size_t)j] = z - center;
    }
  /* the node becomes MatMul(A, B) + bias */
  n->op = OP_MatMul;
  n->op_type = "MatMul";
  n->domain = "";
  n->nin = 2;
  n->bias = bias;
  n->nattr = 0;
  int rc = qw_attach(g, n, &w, b->name);
  qw_free(&w);
  return rc;
}

/* ---- MatMul(A, DequantizeLinear(q, scale, zero)) with constant int8/uint8 q [K][N]; trans: q is [N][K] (a Gemm's
 * transB), its scale per row of q (axis 0) being per output column */
static int from_dq(Graph *g, Node *mm, Node *dq, bool trans) {
  Value *q = dq->in[0], *sc = dq->in[1], *zp = dq->nin > 2 ? dq->in[2] : NULL;
  if (!const_data(q) || !const_data(sc) || (zp && !const_data(zp)) || q->rank != 2) return 0;
  if (q->dt != DT_INT8 && q->dt != DT_UINT8) return 0;   /* int32 (biases) and wider: left to DequantizeLinear */
  if (sc->dt != DT_FLOAT && sc->dt != DT_FLOAT16) return 0;
  int k = (int)q->dims[trans].c, nn = (int)q->dims[!trans].c, axis = (int)ir_attr_int(dq, "axis", 1);
  int bsz = (int)ir_attr_int(dq, "block_size", 0);
  if (axis < 0) axis += 2;
  int64_t ns = ir_numel(sc);
  int block, kind;   /* kind 0: per tensor, 1: per column, 2: blocks along K */
  if (ns == 1 && sc->rank <= 1) { kind = 0; block = (k + 31) / 32 * 32; }
  else if (bsz == 0 && axis == (trans ? 0 : 1) && ns == nn) { kind = 1; block = (k + 31) / 32 * 32; }
  else if (!trans && bsz > 0 && axis == 0 && sc->rank == 2 && sc->dims[0].c == (k + bsz - 1) / bsz && sc->dims[1].c == nn) {
    kind = 2; block = bsz;
    if (!rt_matmul_q_block_ok(block)) return 0;
  } else return 0;   /* per row of K: not a format the kernel reads; DequantizeLinear runs as it is */
  QW w;
  if (qw_alloc(g, mm, &w, k, nn, 8, block)) { qw_free(&w); return -1; }
  int center = q->dt == DT_UINT8 ? 128 : 0;
  for (int64_t i = 0; i < k; i++)
    for (int64_t j = 0; j < nn; j++)
      w.t[i * nn + j] = (signed char)(oc_geti(q, trans ? j * k + i : i * nn + j) - center);
  for (int blk = 0; blk < w.nblk; blk++)
    for (int j = 0; j < nn; j++) {
      int64_t si = kind == 0 ? 0 : kind == 1 ? j : (int64_t)blk * nn + j;
      w.scale[(size_t)blk * nn + (size_t)j] = (float)oc_getf(sc, si);
      w.zero[(size_t)blk * nn + (size_t)j] = (int)((zp ? oc_geti(zp, si) : 0) - center);
    }
  int rc = qw_attach(g, mm, &w, q->name);
  qw_free(&w);
  return rc ? -1 : 1;
}

/* ---- --quantize: a float32 B [K][N] */
static bool skipped(const Graph *g, const Node *n) {
  for (int i = 0; i < g->quant.nskip; i++)
    if ((n->name && !strcmp(g->quant.skip[i], n->name)) || !strcmp(g->quant.skip[i], n->op_type)) return true;
  return false;
}

static int from_float(Graph *g, Node *mm) {
  Value *b = mm->in[1];
  int k = (int)b->dims[0].c, nn = (int)b->dims[1].c, bits = g->quant.bits;
  int block = bits == 8 ? (k + 31) / 32 * 32 : g->quant.block;
  QW w;
  if (qw_alloc(g, mm, &w, k, nn, bits, block)) { qw_free(&w); return -1; }
  const float *bd = b->data;
  double err2 = 0, sum2 = 0;
  for (int j = 0; j < nn; j++)
    for (int blk = 0; blk < w.nblk; blk++) {
      int q0 = blk * block, q1 = q0 + block < k ? q0 + block : k;
      float lo = 0.0f, hi = 0.0f;   /* the range always holds 0, so that 0 is exact */
      for (int q = q0; q < q1; q++) {
        float v = bd[(size_t)q * nn + (size_t)j];
        if (!isfinite(v)) { qw_free(&w); return ir_errorf(g, mm, "cannot quantize weight '%s': it holds %g", b->name, v); }
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
      }
      float s;
      int z;
      if (bits == 8) { float m = fmaxf(-lo, hi); s = m / 127.0f; z = 0; }
      else { s = (hi - lo) / 15.0f; z = s > 0.0f ? (int)lrintf(-lo / s) : 0; z = z < 0 ? 0 : z > 15 ? 15 : z; }
      int tmin = bits == 8 ? -127 : 0, tmax = bits == 8 ? 127 : 15;
      for (int q = q0; q < q1; q++) {
        float v = bd[(size_t)q * nn + (size_t)j];
        int t = s > 0.0f ? (int)lrintf(v / s) + z : z;
        t = t < tmin ? tmin : t > tmax ? tmax : t;
        w.t[(size_t)q * nn + (size_t)j] = (signed char)t;
        double e = (double)s * (t - z) - v;
        err2 += e * e;
        sum2 += (double)v * v;
      }
      w.scale[(size_t)blk * nn + (size_t)j] = s;
      w.zero[(size_t)blk * nn + (size_t)j] = z;
    }
  double rel = sum2 > 0 ? sqrt(err2 / sum2) : 0.0;
  if (g->quant.report)
    fprintf(g->quant.report, "quantize: %s (%s, B '%s' %dx%d): int%d%s, relative RMS weight error %.4f\n",
            mm->name ? mm->name : "?", mm->op_type, b->name, k, nn, bits, bits == 4 ? " blocks" : " per column", rel);
  ir_release(g, b->data, (size_t)ir_nbytes(b));
  int rc = qw_attach(g, mm, &w, b->name);
  qw_free(&w);
  return rc;
}

/* ---- Gemm(A, DequantizeLinear(q), C) (a classifier of quantize_static's QDQ form): transA 0, alpha 1, beta 1,
 * A 2-D, C absent or [N]; it becomes MatMul(A, B) + C on int8 panels */
static int from_gemm(Graph *g, Node *n) {
  Value *a = n->in[0], *b = n->in[1], *c = n->nin > 2 ? n->in[2] : NULL;
  Node *dq = b->kind != VK_CONST ? b->producer : NULL;
  if (!dq || dq->dead || dq->op != OP_DequantizeLinear || a->rank != 2 || b->rank != 2 || !ir_shape_known(b)) return 0;
  if (ir_attr_int(n, "transA", 0) || ir_attr_float(n, "alpha", 1.0f) != 1.0f || (c && ir_attr_float(n, "beta", 1.0f) != 1.0f)) return 0;
  bool trans = ir_attr_int(n, "transB", 0) != 0;
  int64_t nn = b->dims[!trans].c;
  if (c && (c->dt != DT_FLOAT || c->rank != 1 || !ir_dim_known(c->dims[0]) || c->dims[0].c != nn)) return 0;
  int r = from_dq(g, n, dq, trans);
  if (r <= 0) return r;
  n->op = OP_MatMul;
  n->op_type = "MatMul";
  n->nin = 2;
  n->nattr = 0;
  n->bias = c;
  return 1;
}

int pass_quant_weights(Graph *g) {
  for (int i = 0; i < g->nnodes; i++) {
    Node *n = g->nodes[i];
    if (n->dead || n->wpack) continue;
    if (n->op == OP_MatMulNBits) {
      if (from_nbits(g, n)) return -1;
      continue;
    }
    if (n->op == OP_Gemm) {
      if (from_gemm(g, n) < 0) return -1;
      continue;
    }
    if (n->op != OP_MatMul || n->trans_b || !n->in[1] || n->in[1]->rank != 2 || !ir_shape_known(n->in[1])) continue;
    Value *b = n->in[1];
    if (b->kind != VK_CONST && b->producer && b->producer->op == OP_DequantizeLinear && !b->producer->dead) {
      if (from_dq(g, n, b->producer, false) < 0) return -1;
      continue;
    }
    if (g->quant.bits && b->kind == VK_CONST && b->data && b->dt == DT_FLOAT && !skipped(g, n))
      if (from_float(g, n)) return -1;
  }
  return pass_dce(g);   /* a DequantizeLinear nothing reads any more */
}
