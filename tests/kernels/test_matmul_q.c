/* test_matmul_q.c — the quantized MatMul (RtMatMul.bw RT_WF_Q8_PANELS / RT_WF_Q4_PANELS, runtime/kernels/matmul_q.c)
 * against a double-precision product with the dequantized weights, for the scalar reference and the SIMD
 * variant, and SIMD against scalar. Included by test_kernels.c (its helpers). The weights are random integers
 * with random per-block scales and zero points, packed by the compiler's own packer (runtime/pack.c); the
 * reference never reads the packed form. Tolerance: the float32 bound plus the rounding of A to 16 bits per
 * chunk of min(block, 32) (half a step of max|a| / 32767 per element, doubled). */

static void matmul_q_case(int bits, int block, int zeros, int m, int n, int k, int nbat, int afold, int bias, int resid, RtAct act) {
  int nblk = (k + block - 1) / block, ch = block < 32 ? block : 32;
  signed char *t = malloc((size_t)k * n);
  float *sc = malloc(sizeof(float) * (size_t)nblk * n), *b = malloc(sizeof(float) * (size_t)k * n);
  int *zp = calloc((size_t)nblk * n, sizeof(int));
  for (int q = 0; q < k; q++)
    for (int j = 0; j < n; j++) t[(size_t)q * n + j] = (signed char)(bits == 4 ? rnd_int(0, 15) : rnd_int(-128, 127));
  for (int i = 0; i < nblk * n; i++) {
    sc[i] = rnd(0.001f, 0.05f);
    if (zeros) zp[i] = bits == 4 ? rnd_int(0, 15) : rnd_int(-20, 20);
  }
  for (int q = 0; q < k; q++)
    for (int j = 0; j < n; j++) {
      size_t bi = (size_t)(q / block) * n + j;
      b[(size_t)q * n + j] = sc[bi] * (float)(t[(size_t)q * n + j] - zp[bi]);
    }
  unsigned char *data = malloc(rt_matmul_q_bytes(k, n, bits, block) + 16);
  float *sz = malloc(rt_matmul_q_scale_words(k, n, block) * 4 + 16);
  rt_pack_matmul_q(k, n, bits, block, t, sc, zp, data, sz);
  RtMatMul p;
  memset(&p, 0, sizeof p);
  p.m = m; p.n = n; p.k = k; p.act = act;
  if (nbat > 1) { p.nb = 1; p.bdim[0] = nbat; p.astride[0] = afold ? m * k : 0; }
  size_t na = (size_t)(afold ? nbat : 1) * m * k, ny = (size_t)nbat * m * n;
  float *a = frand_buf(na, -1, 1), *bv = bias ? frand_buf((size_t)n, -1, 1) : 0, *res = resid ? frand_buf(ny, -1, 1) : 0;
  for (size_t i = 0; i < na; i += 7) a[i] *= 0.01f;   /* small and large values in one chunk */
  float *ys = fbuf(ny), *yv = fbuf(ny), *ref = fbuf(ny), *tol = fbuf(ny);
  for (int bt = 0; bt < nbat; bt++)
    for (int i = 0; i < m; i++) {
      const float *ai = a + (size_t)(afold ? bt : 0) * m * k + (size_t)i * k;
      for (int j = 0; j < n; j++) {
        double s = 0, mag = 0, qerr = 0;
        for (int q = 0; q < k; q++) {
          double tt = (double)ai[q] * b[(size_t)q * n + j];
          s += tt;
          mag += fabs(tt);
          float mx = 0;
          for (int u = q / ch * ch; u < q / ch * ch + ch && u < k; u++) mx = fmaxf(mx, fabsf(ai[u]));
          qerr += (double)mx / 32767.0 * fabs(b[(size_t)q * n + j]);
        }
        if (bv) s += bv[j];
        size_t o = (size_t)bt * m * n + (size_t)i * n + j;
        if (res) s += res[o];
        finish(act, s, ACC_RTOL * (fabs(s) + mag + (bv ? fabs(bv[j]) : 0) + (res ? fabs(res[o]) : 0)) + qerr, &ref[o], &tol[o]);
      }
    }
  void *scratch = malloc(rt_matmul_q_scratch_bytes(k, block));
  p.a = A(a); p.b = A(data); p.bias = bv ? A(bv) : 0; p.res = res ? A(res) : 0; p.scratch = A(scratch);
  p.bw = (RtWeightDesc){.fmt = bits == 4 ? RT_WF_Q4_PANELS : RT_WF_Q8_PANELS, .block = block, .zeros = zeros, .scale = A(sz)};
  p.y = A(ys);
  rt_matmul_f32__scalar(&p);
  p.y = A(yv);
  rt_matmul_f32__simd128(&p);
  char name[160];
  snprintf(name, sizeof name, "matmul_q[int%d block=%d zeros=%d m=%d n=%d k=%d batch=%d%s bias=%d res=%d %s]", bits, block,
           zeros, m, n, k, nbat, afold ? "a" : "", bias, resid, act_names[act.kind]);
  check3(name, ys, yv, ref, tol, ny);
  free(t); free(sc); free(b); free(zp); free(data); free(sz); free(a); free(bv); free(res); free(ys); free(yv);
  free(ref); free(tol); free(scratch);
}

static void test_matmul_q(void) {
  RtAct none = make_act(RT_ACT_NONE);
  static const int blocks4[] = {16, 32, 64, 128}, ms[] = {1, 2, 3, 8, 9, 17}, ns[] = {1, 5, 8, 13, 37}, ks[] = {7, 32, 33, 100, 256};
  for (int bits = 4; bits <= 8; bits += 4)
    for (int z = 0; z < 2; z++)
      for (int i = 0; i < 6; i++) {
        int block = bits == 4 ? blocks4[i % 4] : (ks[i % 5] + 31) / 32 * 32;   /* int8: one block per column */
        matmul_q_case(bits, block, z, ms[i], ns[i % 5], ks[i % 5], 1, 0, i & 1, 0, none);
        matmul_q_case(bits, block, z, ms[(i + 2) % 6], ns[(i + 3) % 5], ks[(i + 1) % 5], 1, 0, 0, 1, make_act(1 + i % (RT_ACT_COUNT - 1)));
      }
  matmul_q_case(4, 32, 1, 2, 24, 64, 3, 1, 1, 1, make_act(RT_ACT_SILU));   /* batches of A folded into rows */
  matmul_q_case(8, 64, 1, 3, 11, 40, 2, 0, 1, 1, none);                    /* A broadcast over the batch */
  matmul_q_case(4, 8, 0, 4, 9, 20, 1, 0, 0, 0, none);                      /* the smallest blocks */
  matmul_q_case(4, 24, 1, 1, 16, 50, 1, 0, 1, 0, none);
  matmul_q_case(4, 32, 1, 1, 384, 128, 1, 0, 1, 0, make_act(RT_ACT_GELU_TANH));   /* decoder shapes */
  matmul_q_case(8, 256, 0, 64, 130, 256, 1, 0, 1, 0, none);
}
