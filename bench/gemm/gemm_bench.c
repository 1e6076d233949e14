/* gemm_bench.c — GFLOP/s of rt_gemm_f32 (square sizes) and of rt_conv2d_f32 on ResNet-like 3x3 shapes.
 * Built for wasm32-wasi together with runtime/kernels/ sources and runtime/pack.c by bench/gemm/run.mjs, which
 * also measures the machine's SIMD128 peak and prints the ratio. Output: one JSON object per line. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../runtime/kernels/rt_internal.h"
#include "../../runtime/pack.h"

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}
static float *rnd_buf(size_t n) {
  float *p = malloc(n * sizeof(float));
  uint32_t s = 0x12345678u + (uint32_t)n;
  for (size_t i = 0; i < n; i++) {
    s ^= s << 13; s ^= s >> 17; s ^= s << 5;
    p[i] = (float)(s >> 8) * (1.0f / 8388608.0f) - 1.0f;
  }
  return p;
}
static RtAddr A(const void *p) { return (RtAddr)(uintptr_t)p; }

/* Best-of time (ms) of fn(arg): repeats until ~min_ms total (at least 3 runs) after one warm-up. */
static double best_ms(void (*fn)(const void *), const void *arg, double min_ms) {
  fn(arg);
  double best = 1e30, t_all = now_ms();
  for (int r = 0; r < 3 || now_ms() - t_all < min_ms; r++) {
    double t0 = now_ms();
    fn(arg);
    double t = now_ms() - t0;
    if (t < best) best = t;
    if (r > 1000) break;
  }
  return best;
}
static void run_gemm(const void *p) { rt_gemm_f32((const RtGemm *)p); }
static void run_conv(const void *p) { rt_conv2d_f32((const RtConv2d *)p); }

static void bench_gemm(int n, int tb, double min_ms) {
  float *a = rnd_buf((size_t)n * n), *b = rnd_buf((size_t)n * n), *c = malloc((size_t)n * n * 4);
  RtGemm p = {A(a), A(b), 0, A(c), n, n, n, 0, tb, 0, 1.0f, 0.0f, {RT_ACT_NONE, 0, 0}};
  double ms = best_ms(run_gemm, &p, min_ms);
  printf("{\"name\":\"gemm %d^3%s\",\"ms\":%.4f,\"gflops\":%.3f}\n", n, tb ? " B^T" : "", ms, 2.0 * n * n * n / ms * 1e-6);
  free(a); free(b); free(c);
}

/* conv c->k, hxw input, kxk kernel, stride s, pad k/2, bias + relu; packed (compile-time) weights or not. */
static int g_conv_act = RT_ACT_RELU;   /* the epilogue's activation (bench_conv) */

static void bench_conv(int c, int k, int h, int kk, int s, int packed, double min_ms) {
  int pad = kk / 2, oh = (h + 2 * pad - kk) / s + 1, crs = c * kk * kk;
  float *x = rnd_buf((size_t)c * h * h), *w = rnd_buf((size_t)k * crs), *bias = rnd_buf((size_t)k);
  float *y = malloc((size_t)k * oh * oh * 4);
  uint32_t sb = (uint32_t)crs * oh * oh * 4; /* what the compiler reserves (unused by the kernel now) */
  float *scr = kk == 1 && s == 1 ? 0 : malloc(sb);
  float *wp = w;
  if (packed) {
    wp = malloc(rt_conv2d_packed_floats(k, crs, 1, RT_CONV_PACK_MR) * 4);
    rt_pack_conv2d_weights(w, wp, k, crs, 1, RT_CONV_PACK_MR);
  }
  RtConv2d p = {A(x), A(wp), A(bias), 0, A(y), scr ? A(scr) : 0, 1, c, h, h, k, oh, oh, kk, kk, s, s, pad, pad,
                1, 1, 1, scr ? sb : 0, {g_conv_act, 0, 0}, packed};
  double ms = best_ms(run_conv, &p, min_ms);
  double fl = 2.0 * k * crs * oh * oh;
  printf("{\"name\":\"conv %dx%d %d->%d @%dx%d s%d%s%s\",\"ms\":%.4f,\"gflops\":%.3f}\n", kk, kk, c, k, h, h, s,
         packed ? " packed" : "", g_conv_act == RT_ACT_SILU ? " silu" : "", ms, fl / ms * 1e-6);
  free(x); free(w); free(bias); free(y); free(scr);
  if (packed) free(wp);
}

/* depthwise kxk (pad k/2), c channels, h x w input, stride s, bias + relu */
static void bench_dw(int c, int h, int w, int kk, int s, double min_ms) {
  int pad = kk / 2, oh = (h + 2 * pad - kk) / s + 1, ow = (w + 2 * pad - kk) / s + 1;
  float *x = rnd_buf((size_t)c * h * w), *wt = rnd_buf((size_t)c * kk * kk), *bias = rnd_buf((size_t)c);
  float *y = malloc((size_t)c * oh * ow * 4);
  RtConv2d p = {A(x), A(wt), A(bias), 0, A(y), 0, 1, c, h, w, c, oh, ow, kk, kk, s, s, pad, pad,
                1, 1, c, 0, {RT_ACT_RELU, 0, 0}, 0};
  double ms = best_ms(run_conv, &p, min_ms);
  char hw[32];
  if (h == w) snprintf(hw, sizeof hw, "%dx%d", h, w); else snprintf(hw, sizeof hw, "%dx%d", h, w);
  printf("{\"name\":\"depthwise %dx%d %dch @%s s%d\",\"ms\":%.4f,\"gflops\":%.3f}\n", kk, kk, c, hw, s, ms,
         2.0 * c * kk * kk * oh * ow / ms * 1e-6);
  free(x); free(wt); free(bias); free(y);
}

int main(int argc, char **argv) {
  double min_ms = argc > 1 ? atof(argv[1]) : 200.0;
  int dw_only = argc > 2 && !strcmp(argv[2], "dw");   /* run.mjs --only dw */
  if (argc > 2 && !strcmp(argv[2], "act")) {          /* run.mjs --only act: convs with a SiLU epilogue */
    g_conv_act = RT_ACT_SILU;
    bench_conv(16, 96, 112, 1, 1, 1, min_ms);
    bench_conv(3, 32, 224, 3, 2, 1, min_ms);
    bench_conv(256, 512, 14, 1, 1, 1, min_ms);
    return 0;
  }
  static const int sizes[] = {128, 256, 512, 1024};
  if (!dw_only) {
  for (int i = 0; i < 4; i++) bench_gemm(sizes[i], 0, min_ms);
  bench_gemm(512, 1, min_ms);
  bench_conv(64, 64, 56, 3, 1, 1, min_ms);
  bench_conv(64, 64, 56, 3, 1, 0, min_ms);
  bench_conv(128, 128, 28, 3, 1, 1, min_ms);
  bench_conv(256, 256, 14, 3, 1, 1, min_ms);
  bench_conv(512, 512, 7, 3, 1, 1, min_ms);
  bench_conv(64, 128, 56, 3, 2, 1, min_ms);
  bench_conv(256, 512, 14, 1, 1, 1, min_ms);
  bench_conv(16, 96, 112, 1, 1, 1, min_ms);
  bench_conv(3, 32, 224, 3, 2, 1, min_ms);
  bench_conv(96, 24, 56, 1, 1, 1, min_ms);
  bench_conv(96, 25, 56, 1, 1, 1, min_ms);
  bench_conv(96, 21, 56, 1, 1, 1, min_ms);
  }
  bench_dw(96, 112, 112, 3, 2, min_ms);
  bench_dw(144, 56, 56, 3, 1, min_ms);
  bench_dw(192, 28, 28, 3, 1, min_ms);
  bench_dw(576, 14, 14, 3, 1, min_ms);
  bench_dw(960, 7, 7, 3, 1, min_ms);
  bench_dw(576, 14, 14, 3, 2, min_ms);
  bench_dw(240, 12, 80, 5, 1, min_ms);
  bench_dw(200, 2, 96, 5, 1, min_ms);
  bench_dw(672, 14, 14, 5, 1, min_ms);
  bench_dw(1152, 7, 7, 5, 1, min_ms);
  bench_dw(240, 28, 28, 5, 1, min_ms);
  bench_dw(144, 56, 56, 3, 2, min_ms);
  bench_dw(144, 56, 56, 5, 2, min_ms);
  bench_dw(672, 14, 14, 5, 2, min_ms);
  return 0;
}
