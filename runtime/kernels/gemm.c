/* gemm.c — Gemm and batched MatMul kernels, plus the shared register-blocked f32x4 GEMM core (also used by conv2d). */
#include "rt_internal.h"

/* ------------------------------------------------------------------ scalar reference */

void rt_gemm_f32__scalar(const RtGemm *p) {
  const float *a = RT_PTR(const float, p->a), *b = RT_PTR(const float, p->b);
  const float *c = p->c ? RT_PTR(const float, p->c) : 0;
  float *y = RT_PTR(float, p->y);
  int32_t m = p->m, n = p->n, k = p->k;
  for (int32_t i = 0; i < m; i++)
    for (int32_t j = 0; j < n; j++) {
      float acc = 0.0f;
      for (int32_t q = 0; q < k; q++) {
        float av = p->trans_a ? a[(ptrdiff_t)q * m + i] : a[(ptrdiff_t)i * k + q];
        float bv = p->trans_b ? b[(ptrdiff_t)j * k + q] : b[(ptrdiff_t)q * n + j];
        acc += av * bv;
      }
      float v = p->alpha * acc;
      if (c) {
        switch (p->c_kind) {
        case 1: v += p->beta * c[0]; break;
        case 2: v += p->beta * c[j]; break;
        case 3: v += p->beta * c[i]; break;
        case 4: v += p->beta * c[(ptrdiff_t)i * n + j]; break;
        default: break;
        }
      }
      y[(ptrdiff_t)i * n + j] = rt_act1(p->act.kind, p->act.a, p->act.b, v);
    }
}

/* Element offsets of batch number bi of a MatMul into A and B. */
static void matmul_batch_offsets(const RtMatMul *p, int32_t bi, ptrdiff_t *ao, ptrdiff_t *bo) {
  *ao = 0;
  *bo = 0;
  for (int32_t d = p->nb - 1; d >= 0; d--) {
    int32_t idx = bi % p->bdim[d];
    bi /= p->bdim[d];
    *ao += (ptrdiff_t)idx * p->astride[d];
    *bo += (ptrdiff_t)idx * p->bstride[d];
  }
}

static int32_t matmul_batches(const RtMatMul *p) {
  int32_t nbat = 1;
  for (int32_t d = 0; d < p->nb; d++) nbat *= p->bdim[d];
  return nbat;
}

void rt_matmul_f32__scalar(const RtMatMul *p) {
  const float *a = RT_PTR(const float, p->a), *b = RT_PTR(const float, p->b);
  const float *bias = p->bias ? RT_PTR(const float, p->bias) : 0;
  float *y = RT_PTR(float, p->y);
  int32_t m = p->m, n = p->n, k = p->k, nbat = matmul_batches(p);
  for (int32_t bi = 0; bi < nbat; bi++) {
    ptrdiff_t ao, bo;
    matmul_batch_offsets(p, bi, &ao, &bo);
    float *yb = y + (ptrdiff_t)bi * m * n;
    for (int32_t i = 0; i < m; i++)
      for (int32_t j = 0; j < n; j++) {
        float acc = 0.0f;
        for (int32_t q = 0; q < k; q++) acc += a[ao + (ptrdiff_t)i * k + q] * b[bo + (ptrdiff_t)q * n + j];
        if (bias) acc += bias[j];
        yb[(ptrdiff_t)i * n + j] = rt_act1(p->act.kind, p->act.a, p->act.b, acc);
      }
  }
}

/* ------------------------------------------------------------------ f32x4 GEMM core */
#ifdef __wasm_simd128__

/* Not inlined: called once per output vector of a tile, it would otherwise be copied into all
 * ten micro-kernel instances together with every activation. */
__attribute__((noinline)) static v128_t epi_f32x4(const RtEpilogue *ep, v128_t v, int32_t i, int32_t j, int nl) {
  if (ep->alpha != 1.0f) v = wasm_f32x4_mul(v, wasm_f32x4_splat(ep->alpha));
  if (ep->add != 0.0f) v = wasm_f32x4_add(v, wasm_f32x4_splat(ep->add));
  if (ep->rowv) v = wasm_f32x4_add(v, wasm_f32x4_splat(ep->rowv[i] * ep->rows));
  if (ep->colv)
    v = wasm_f32x4_add(v, wasm_f32x4_mul(rt_load_part(ep->colv + j, nl), wasm_f32x4_splat(ep->cols)));
  if (ep->full)
    v = wasm_f32x4_add(v, wasm_f32x4_mul(rt_load_part(ep->full + (ptrdiff_t)i * ep->ldf + j, nl),
                                         wasm_f32x4_splat(ep->fulls)));
  return rt_act_f32x4(ep->act, ep->act_a, ep->act_b, v);
}

/* Micro-kernel: an MR x (4*NV) tile (MR in {1,4}, NV in {1,2}); the last vector has NL valid lanes.
 * B rows are read directly (ldb apart). accumulate: start from the values already in C.
 * row/col: tile position, for the epilogue's vectors. At most 8 accumulators + 2 B vectors + 1
 * splat are live, which fits V8's 16 xmm registers without spills. */
RT_AI void ukr(const int MR, const int NV, const int NL, int32_t kc, const float *a, int32_t a_rs,
               int32_t a_ks, const float *b, int32_t ldb, float *c, int32_t ldc,
               const RtEpilogue *ep, int32_t row, int32_t col, int accumulate) {
  const int nl0 = NV == 2 ? 4 : NL;
  v128_t acc0[4], acc1[4];
  const float *ap[4];
  for (int i = 0; i < MR; i++) {
    ap[i] = a + (ptrdiff_t)i * a_rs;
    if (accumulate) {
      acc0[i] = rt_load_part(c + (ptrdiff_t)i * ldc, nl0);
      acc1[i] = NV == 2 ? rt_load_part(c + (ptrdiff_t)i * ldc + 4, NL) : acc0[i];
    } else {
      acc0[i] = wasm_f32x4_const_splat(0.0f);
      acc1[i] = acc0[i];
    }
  }
  for (int32_t q = 0; q < kc; q++) {
    v128_t b0 = rt_load_part(b, nl0);
    v128_t b1 = NV == 2 ? rt_load_part(b + 4, NL) : b0;
    b += ldb;
    for (int i = 0; i < MR; i++) {
      v128_t va = wasm_v128_load32_splat(ap[i]);
      ap[i] += a_ks;
      acc0[i] = wasm_f32x4_add(acc0[i], wasm_f32x4_mul(va, b0));
      if (NV == 2) acc1[i] = wasm_f32x4_add(acc1[i], wasm_f32x4_mul(va, b1));
    }
  }
  for (int i = 0; i < MR; i++) {
    float *ci = c + (ptrdiff_t)i * ldc;
    v128_t v0 = acc0[i], v1 = acc1[i];
    if (ep) {
      v0 = epi_f32x4(ep, v0, row + i, col, nl0);
      if (NV == 2) v1 = epi_f32x4(ep, v1, row + i, col + 4, NL);
    }
    rt_store_part(ci, v0, nl0);
    if (NV == 2) rt_store_part(ci + 4, v1, NL);
  }
}

/* All rows of one column panel [j, j + 4*NV) (last vector NL lanes). */
#define PANEL(NV, NL)                                                                            \
  do {                                                                                           \
    int32_t i_ = 0;                                                                              \
    for (; i_ + 4 <= m; i_ += 4)                                                                 \
      ukr(4, NV, NL, k, a + (ptrdiff_t)i_ * a_rs, a_rs, a_ks, b + j, ldb,                        \
          c + (ptrdiff_t)i_ * ldc + j, ldc, ep, i_, j, accumulate);                              \
    for (; i_ < m; i_++)                                                                         \
      ukr(1, NV, NL, k, a + (ptrdiff_t)i_ * a_rs, a_rs, a_ks, b + j, ldb,                        \
          c + (ptrdiff_t)i_ * ldc + j, ldc, ep, i_, j, accumulate);                              \
  } while (0)

/* GEMM with B read in place (B[k][j] = b[k*ldb + j]). Column panels outermost so that the
 * k x 8 panel of B stays in L1 while every row block of A streams past it. */
static void core_direct(int32_t m, int32_t n, int32_t k, const float *a, int32_t a_rs, int32_t a_ks,
                        const float *b, int32_t ldb, float *c, int32_t ldc, const RtEpilogue *ep,
                        int accumulate) {
  int32_t j = 0;
  for (; j + 8 <= n; j += 8) PANEL(2, 4);
  if (n - j >= 4) {
    PANEL(1, 4);
    j += 4;
  }
  switch (n - j) {
  case 1: PANEL(1, 1); break;
  case 2: PANEL(1, 2); break;
  case 3: PANEL(1, 3); break;
  default: break;
  }
}

/* Small M with B^T and A rows contiguous along k: dot products, 4 columns at a time. */
static void core_dot(int32_t m, int32_t n, int32_t k, const float *a, int32_t a_rs,
                     const float *b, int32_t b_ns, float *c, int32_t ldc, const RtEpilogue *ep) {
  static const RtEpilogue plain = {1.0f, 0.0f, 0, 0.0f, 0, 0.0f, 0, 0, 0.0f, RT_ACT_NONE, 0.0f, 0.0f};
  if (!ep) ep = &plain;
  for (int32_t i = 0; i < m; i++) {
    const float *ai = a + (ptrdiff_t)i * a_rs;
    int32_t j = 0;
    for (; j + 4 <= n; j += 4) {
      const float *b0 = b + (ptrdiff_t)j * b_ns, *b1 = b0 + b_ns, *b2 = b1 + b_ns, *b3 = b2 + b_ns;
      v128_t s0 = wasm_f32x4_const_splat(0.0f), s1 = s0, s2 = s0, s3 = s0;
      int32_t q = 0;
      for (; q + 4 <= k; q += 4) {
        v128_t va = wasm_v128_load(ai + q);
        s0 = wasm_f32x4_add(s0, wasm_f32x4_mul(va, wasm_v128_load(b0 + q)));
        s1 = wasm_f32x4_add(s1, wasm_f32x4_mul(va, wasm_v128_load(b1 + q)));
        s2 = wasm_f32x4_add(s2, wasm_f32x4_mul(va, wasm_v128_load(b2 + q)));
        s3 = wasm_f32x4_add(s3, wasm_f32x4_mul(va, wasm_v128_load(b3 + q)));
      }
      float t0 = rt_hsum_f32x4(s0), t1 = rt_hsum_f32x4(s1), t2 = rt_hsum_f32x4(s2), t3 = rt_hsum_f32x4(s3);
      for (; q < k; q++) {
        t0 += ai[q] * b0[q];
        t1 += ai[q] * b1[q];
        t2 += ai[q] * b2[q];
        t3 += ai[q] * b3[q];
      }
      float *ci = c + (ptrdiff_t)i * ldc + j;
      ci[0] = rt_epi1(ep, t0, i, j);
      ci[1] = rt_epi1(ep, t1, i, j + 1);
      ci[2] = rt_epi1(ep, t2, i, j + 2);
      ci[3] = rt_epi1(ep, t3, i, j + 3);
    }
    for (; j < n; j++) {
      const float *bj = b + (ptrdiff_t)j * b_ns;
      v128_t s = wasm_f32x4_const_splat(0.0f);
      int32_t q = 0;
      for (; q + 4 <= k; q += 4) s = wasm_f32x4_add(s, wasm_f32x4_mul(wasm_v128_load(ai + q), wasm_v128_load(bj + q)));
      float t = rt_hsum_f32x4(s);
      for (; q < k; q++) t += ai[q] * bj[q];
      c[(ptrdiff_t)i * ldc + j] = rt_epi1(ep, t, i, j);
    }
  }
}

#define RT_PACK_FLOATS 16384 /* 64 KiB static packing buffer (kernels' static data) */
static float rt_pack_buf[RT_PACK_FLOATS];

void rt_sgemm_f32x4(int32_t m, int32_t n, int32_t k, const float *a, int32_t a_rs, int32_t a_ks,
                    const float *b, int32_t b_ks, int32_t b_ns, float *c, int32_t ldc,
                    const RtEpilogue *ep) {
  if (m <= 0 || n <= 0) return;
  if (b_ns == 1 || k == 0) {
    core_direct(m, n, k, a, a_rs, a_ks, b, b_ks, c, ldc, ep, 0);
    return;
  }
  if (m < 4 && b_ks == 1 && a_ks == 1) {
    core_dot(m, n, k, a, a_rs, b, b_ns, c, ldc, ep);
    return;
  }
  /* Strided B (e.g. B^T): pack [kc][nb] blocks into rt_pack_buf and run the direct core on them.
   * k <= 2048: one k block (kc = k), so C is written once, with the epilogue. Larger k: blocks of
   * 512, accumulating in C, the epilogue runs with the last block (C must then not alias ep->full). */
  int32_t kc = k * 8 <= RT_PACK_FLOATS ? k : 512;
  int32_t nb = (RT_PACK_FLOATS / kc) & ~7;
  for (int32_t j0 = 0; j0 < n; j0 += nb) {
    int32_t nbj = RT_MIN(nb, n - j0);
    RtEpilogue e2;
    if (ep) {
      e2 = *ep;
      if (e2.colv) e2.colv += j0;
      if (e2.full) e2.full += j0;
    }
    for (int32_t k0 = 0; k0 < k; k0 += kc) {
      int32_t kcj = RT_MIN(kc, k - k0);
      for (int32_t jj = 0; jj < nbj; jj++) {
        const float *src = b + (ptrdiff_t)(j0 + jj) * b_ns + (ptrdiff_t)k0 * b_ks;
        float *dst = rt_pack_buf + jj;
        for (int32_t q = 0; q < kcj; q++) dst[(ptrdiff_t)q * nbj] = src[(ptrdiff_t)q * b_ks];
      }
      int last = k0 + kcj >= k;
      core_direct(m, nbj, kcj, a + (ptrdiff_t)k0 * a_ks, a_rs, a_ks, rt_pack_buf, nbj, c + j0, ldc,
                  last && ep ? &e2 : 0, k0 > 0);
    }
  }
}

/* ------------------------------------------------------------------ f32x4 kernels */

void rt_gemm_f32__simd128(const RtGemm *p) {
  const float *a = RT_PTR(const float, p->a), *b = RT_PTR(const float, p->b);
  const float *c = p->c ? RT_PTR(const float, p->c) : 0;
  float *y = RT_PTR(float, p->y);
  int32_t m = p->m, n = p->n, k = p->k;
  RtEpilogue ep = {p->alpha, 0.0f, 0, 0.0f, 0, 0.0f, 0, 0, 0.0f, p->act.kind, p->act.a, p->act.b};
  if (c) {
    switch (p->c_kind) {
    case 1: ep.add = p->beta * c[0]; break;
    case 2: ep.colv = c; ep.cols = p->beta; break;
    case 3: ep.rowv = c; ep.rows = p->beta; break;
    case 4: ep.full = c; ep.ldf = n; ep.fulls = p->beta; break;
    default: break;
    }
  }
  rt_sgemm_f32x4(m, n, k, a, p->trans_a ? 1 : k, p->trans_a ? m : 1, b, p->trans_b ? 1 : n,
                 p->trans_b ? k : 1, y, n, &ep);
}

void rt_matmul_f32__simd128(const RtMatMul *p) {
  const float *a = RT_PTR(const float, p->a), *b = RT_PTR(const float, p->b);
  float *y = RT_PTR(float, p->y);
  int32_t m = p->m, n = p->n, k = p->k, nbat = matmul_batches(p);
  RtEpilogue ep = {1.0f, 0.0f, 0, 0.0f, 0, 1.0f, 0, 0, 0.0f, p->act.kind, p->act.a, p->act.b};
  if (p->bias) ep.colv = RT_PTR(const float, p->bias);
  /* B shared by all batches and A batches laid out back to back: one GEMM with M = batches*m. */
  int fold = 1;
  ptrdiff_t expect = (ptrdiff_t)m * k;
  for (int32_t d = p->nb - 1; d >= 0 && fold; d--) {
    if (p->bdim[d] == 1) continue;
    if (p->bstride[d] != 0 || p->astride[d] != expect) fold = 0;
    expect *= p->bdim[d];
  }
  if (fold) {
    rt_sgemm_f32x4(nbat * m, n, k, a, k, 1, b, n, 1, y, n, &ep);
    return;
  }
  for (int32_t bi = 0; bi < nbat; bi++) {
    ptrdiff_t ao, bo;
    matmul_batch_offsets(p, bi, &ao, &bo);
    rt_sgemm_f32x4(m, n, k, a + ao, k, 1, b + bo, n, 1, y + (ptrdiff_t)bi * m * n, n, &ep);
  }
}

RT_EXPORT("rt_gemm_f32") void rt_gemm_f32(const RtGemm *p) { rt_gemm_f32__simd128(p); }
RT_EXPORT("rt_matmul_f32") void rt_matmul_f32(const RtMatMul *p) { rt_matmul_f32__simd128(p); }
#else
RT_EXPORT("rt_gemm_f32") void rt_gemm_f32(const RtGemm *p) { rt_gemm_f32__scalar(p); }
RT_EXPORT("rt_matmul_f32") void rt_matmul_f32(const RtMatMul *p) { rt_matmul_f32__scalar(p); }
#endif
