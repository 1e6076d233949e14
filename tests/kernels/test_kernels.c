/* test_kernels.c — checks every runtime kernel: scalar reference vs a naive double-precision formula, and the
 * SIMD128 variant vs both, over odd sizes, broadcasting, padding/stride/dilation/group variants and every
 * activation, plus reductions / cumsum (incl. NaN, inf, n == 0, in place) and every Cast dtype pair
 * (saturation, NaN, wrap-around, bool); also measures the exp/log/sigmoid/tanh/pow approximations against libm.
 * Built for wasm32-wasi together with the runtime/kernels sources and run under Node's WASI (see run.sh / run.mjs),
 * and natively for x86-64 (at several ISA levels) and AArch64 (under qemu-user) by tests/kernels/native.sh.
 * Output: one line per check, then "N passed, M failed"; exit status 1 on any failure. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#define _DEFAULT_SOURCE         /* mallopt (native builds) */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../runtime/kernels/rt_internal.h"
#include "../../runtime/pack.h"

static int g_pass, g_fail;

#ifndef __wasm__
/* Native kernels address memory by 32-bit offsets from a base (rt_abi.h, RT_PTR). The native test binary
 * is linked at a fixed low address (-no-pie), allocates only from the brk heap (M_MMAP_MAX = 0) and runs
 * the tests on a thread whose stack comes from that heap, so every buffer lies below 4 GiB: the base is 0
 * and an address is the pointer itself, as on wasm32. */
#include <malloc.h>
#include <pthread.h>
_Thread_local RtMem rt_mem;   /* defined by the model library in real use (runtime/native/o2w_api.c) */
/* the GEMM tile the emitter picks per CPU (gemm.c, ukr16); native.sh builds both */
#ifndef RT_TEST_GEMM_WIDE
#define RT_TEST_GEMM_WIDE 0
#endif
const int32_t rt_gemm_wide = RT_TEST_GEMM_WIDE;
#endif

/* ------------------------------------------------------------------ helpers */

static uint32_t g_rng = 0x2545F491u;
static uint32_t rnd_u32(void) {
  g_rng ^= g_rng << 13;
  g_rng ^= g_rng >> 17;
  g_rng ^= g_rng << 5;
  return g_rng;
}
static float rnd(float lo, float hi) { return lo + (hi - lo) * (float)(rnd_u32() >> 8) * (1.0f / 16777216.0f); }
static int rnd_int(int lo, int hi) { return lo + (int)(rnd_u32() % (uint32_t)(hi - lo + 1)); }

#define GUARD 16
#define GUARD_VAL 1234.5f

/* Float buffer with GUARD sentinel floats after the end (checked by guard_ok). */
static float *fbuf(size_t n) {
  float *p = malloc((n + GUARD) * sizeof(float));
  if (!p) { printf("out of memory\n"); exit(2); }
  for (size_t i = 0; i < n + GUARD; i++) p[i] = GUARD_VAL;
  return p;
}
static float *frand_buf(size_t n, float lo, float hi) {
  float *p = fbuf(n);
  for (size_t i = 0; i < n; i++) p[i] = rnd(lo, hi);
  return p;
}
static int guard_ok(const float *p, size_t n) {
  for (size_t i = n; i < n + GUARD; i++)
    if (p[i] != GUARD_VAL) return 0;
  return 1;
}
#ifdef __wasm__
static RtAddr A(const void *p) { return (RtAddr)(uintptr_t)p; }
#else
static RtAddr A(const void *p) {
  if ((uintptr_t)p >> 32) { printf("FAIL internal: a kernel operand above 4 GiB (%p)\n", p); exit(2); }
  return (RtAddr)(uintptr_t)p;
}
#endif

static void report(int ok, const char *name, const char *what, double worst) {
  if (ok) g_pass++; else g_fail++;
  printf("%s %s %s (max err/tol %.3g)\n", ok ? "PASS" : "FAIL", name, what, worst);
}

/* got vs ref elementwise: |got-ref| <= tol[i]*scale (equal values, incl. infinities, and NaN pairs pass);
 * also requires got's guard zone intact. */
static void check(const char *name, const char *what, const float *got, const float *ref, const float *tol,
                  float scale, size_t n) {
  double worst = 0;
  int ok = guard_ok(got, n);
  size_t bad = (size_t)-1;
  for (size_t i = 0; i < n; i++) {
    float g = got[i], r = ref[i];
    if (g == r || (isnan(g) && isnan(r))) continue;
    double d = fabs((double)g - (double)r), t = (double)tol[i] * scale;
    double q = t > 0 ? d / t : INFINITY;
    if (isnan(d)) q = INFINITY;
    if (q > worst) worst = q;
    if (q > 1.0 && bad == (size_t)-1) bad = i;
  }
  if (bad != (size_t)-1) {
    ok = 0;
    printf("  first bad index %zu: got %.9g want %.9g tol %.3g\n", bad, got[bad], ref[bad], tol[bad] * scale);
  }
  if (!guard_ok(got, n)) printf("  guard zone overwritten\n");
  report(ok, name, what, worst);
}

/* Exact byte comparison for data-movement kernels. */
static void check_bytes(const char *name, const char *what, const void *got, const void *ref, size_t n) {
  int ok = memcmp(got, ref, n) == 0;
  report(ok, name, what, ok ? 0.0 : 1e9);
}

/* Run scalar and simd outputs against naive ref/tol and against each other. */
static void check3(const char *name, const float *ys, const float *yv, const float *ref, const float *tol, size_t n) {
  check(name, "scalar~naive", ys, ref, tol, 1.0f, n);
  check(name, "simd~naive", yv, ref, tol, 1.0f, n);
  check(name, "simd~scalar", yv, ys, tol, 2.0f, n);
}

static const char *act_names[RT_ACT_COUNT] = {"none", "relu", "clip", "sigmoid", "hardsigmoid", "hardswish",
                                              "leakyrelu", "tanh", "silu", "exp", "neg", "abs", "sqrt",
                                              "reciprocal", "log", "cos", "sin", "tan", "erf", "elu", "selu",
                                              "celu", "softplus", "softsign", "floor", "ceil", "round", "sign",
                                              "thresholdedrelu", "gelu", "gelu_tanh", "mish", "atan", "asin", "acos",
                                              "sinh", "cosh", "asinh", "acosh", "atanh", "hardswish_affine", "shrink"};
static RtAct make_act(int kind) {
  RtAct a = {kind, 0.0f, 0.0f};
  if (kind == RT_ACT_CLIP) { a.a = -0.5f; a.b = 0.7f; }
  if (kind == RT_ACT_HARDSIGMOID) { a.a = 0.2f; a.b = 0.5f; }
  if (kind == RT_ACT_LEAKYRELU) a.a = 0.1f;
  if (kind == RT_ACT_ELU) a.a = 0.7f;
  if (kind == RT_ACT_SELU) { a.a = 1.67326319f; a.b = 1.05070102f; }
  if (kind == RT_ACT_CELU) a.a = 1.3f;
  if (kind == RT_ACT_THRESHOLDEDRELU) a.a = 0.4f;
  if (kind == RT_ACT_HARDSWISH_AFFINE) { a.a = 1.25f; a.b = -0.375f; }
  if (kind == RT_ACT_SHRINK) { a.a = 1.5f; a.b = 0.75f; }
  return a;
}

static double act_d(RtAct a, double v) {
  switch (a.kind) {
  case RT_ACT_RELU: return v < 0 ? 0 : v;
  case RT_ACT_CLIP: return fmin(fmax(v, a.a), a.b);
  case RT_ACT_SIGMOID: return 1.0 / (1.0 + exp(-v));
  case RT_ACT_HARDSIGMOID: return fmax(0.0, fmin(1.0, a.a * v + a.b));
  case RT_ACT_HARDSWISH: return v * fmax(0.0, fmin(1.0, v / 6.0 + 0.5));
  case RT_ACT_HARDSWISH_AFFINE: return v * fmax(0.0, fmin(1.0, v / 6.0 + 0.5)) * a.a + a.b;
  case RT_ACT_LEAKYRELU: return v >= 0 ? v : a.a * v;
  case RT_ACT_TANH: return tanh(v);
  case RT_ACT_SILU: return v / (1.0 + exp(-v));
  case RT_ACT_EXP: return exp(v);
  case RT_ACT_NEG: return -v;
  case RT_ACT_ABS: return fabs(v);
  case RT_ACT_SQRT: return sqrt(v);
  case RT_ACT_RECIPROCAL: return 1.0 / v;
  case RT_ACT_LOG: return log(v);
  case RT_ACT_COS: return cos(v);
  case RT_ACT_SIN: return sin(v);
  case RT_ACT_TAN: return tan(v);
  case RT_ACT_ERF: return erf(v);
  case RT_ACT_ELU: return v > 0 ? v : a.a * (exp(v) - 1);
  case RT_ACT_SELU: return a.b * (v > 0 ? v : a.a * (exp(v) - 1));
  case RT_ACT_CELU: return fmax(0.0, v) + fmin(0.0, a.a * (exp(v / a.a) - 1));
  case RT_ACT_SOFTPLUS: return log1p(exp(v));
  case RT_ACT_SOFTSIGN: return v / (1.0 + fabs(v));
  case RT_ACT_FLOOR: return floor(v);
  case RT_ACT_CEIL: return ceil(v);
  case RT_ACT_ROUND: return v - floor(v) == 0.5 ? 2.0 * round(v / 2.0) : round(v);  /* half to even */
  case RT_ACT_SIGN: return v > 0 ? 1.0 : v < 0 ? -1.0 : v;
  case RT_ACT_THRESHOLDEDRELU: return v > a.a ? v : 0.0;
  case RT_ACT_GELU: return 0.5 * v * erfc(-v / sqrt(2.0));   /* = x/2 (1 + erf(x/sqrt 2)), no cancellation */
  case RT_ACT_GELU_TANH: /* x/2 (1 + tanh t) written as x / (1 + exp(-2t)) to stay accurate for x << 0 */
    return v / (1.0 + exp(-2.0 * sqrt(2.0 / 3.14159265358979323846) * (v + 0.044715 * v * v * v)));
  case RT_ACT_MISH: return v * tanh(log1p(exp(v)));
  case RT_ACT_ATAN: return atan(v);
  case RT_ACT_ASIN: return asin(v);
  case RT_ACT_ACOS: return acos(v);
  case RT_ACT_SINH: return (exp(v) - exp(-v)) / 2;
  case RT_ACT_COSH: return (exp(v) + exp(-v)) / 2;
  case RT_ACT_ASINH: return log(v + sqrt(v * v + 1));
  case RT_ACT_ACOSH: return log(v + sqrt(v * v - 1));
  case RT_ACT_ATANH: return 0.5 * log((1 + v) / (1 - v));
  case RT_ACT_SHRINK: return v < -a.a ? v + a.b : v > a.a ? v - a.b : 0.0;   /* ONNX Shrink's definition */
  default: return v;
  }
}

/* Naive result for a pre-activation value v (double) known to +-e: ref = act(v), tol covers how far
 * act moves over [v-e, v+e] plus the approximation error of exp/tanh/... (4e-6 relative). */
static void finish(RtAct a, double v, double e, float *ref, float *tol) {
  double r = act_d(a, v), lo = act_d(a, v - e), hi = act_d(a, v + e);
  double t = fmax(fabs(lo - r), fabs(hi - r));
  if (isnan(t)) t = INFINITY; /* e.g. sqrt across 0: any value near is fine */
  *ref = (float)r;
  *tol = (float)(t + 4e-6 * fabs(r) + 1e-30);
}
#define ACC_RTOL 1e-5 /* error bound of an f32 dot product: 1e-5 * (|v| + sum |terms|) */

/* ------------------------------------------------------------------ approximations */

static void test_approx(void) {
  double e_exp = 0, e_exp4 = 0, e_log = 0, e_log4 = 0, e_sig = 0, e_sig4 = 0, e_tanh = 0, e_tanh4 = 0;
  double e_pow = 0, e_pow4 = 0;
  for (int i = 0; i <= 400000; i++) {
    float x = -87.0f + (88.72f + 87.0f) * (float)i / 400000.0f;
    double r = exp((double)x);
    double d = fabs(rt_expf(x) - r) / r;
    double d4 = fabs(wasm_f32x4_extract_lane(rt_exp_f32x4(wasm_f32x4_splat(x)), 0) - r) / r;
    e_exp = fmax(e_exp, d);
    e_exp4 = fmax(e_exp4, d4);
    float s = -86.0f + 116.0f * (float)i / 400000.0f;     /* sigmoid(-86) = 4.4e-38: still a normal float */
    r = 1.0 / (1.0 + exp(-(double)s));
    e_sig = fmax(e_sig, fabs(rt_sigmoidf(s) - r) / r);
    e_sig4 = fmax(e_sig4, fabs(wasm_f32x4_extract_lane(rt_sigmoid_f32x4(wasm_f32x4_splat(s)), 0) - r) / r);
    float t = -10.0f + 20.0f * (float)i / 400000.0f;
    if (t != 0.0f) {
      r = tanh((double)t);
      e_tanh = fmax(e_tanh, fabs(rt_tanhf(t) - r) / fabs(r));
      e_tanh4 = fmax(e_tanh4, fabs(wasm_f32x4_extract_lane(rt_tanh_f32x4(wasm_f32x4_splat(t)), 0) - r) / fabs(r));
    }
    float l = expf(rnd(-80.0f, 80.0f));
    r = log((double)l);
    if (fabs(r) > 1e-3) {
      e_log = fmax(e_log, fabs(rt_logf(l) - r) / fabs(r));
      e_log4 = fmax(e_log4, fabs(wasm_f32x4_extract_lane(rt_log_f32x4(wasm_f32x4_splat(l)), 0) - r) / fabs(r));
    }
    float pa = rnd(0.01f, 100.0f), pb = rnd(-4.0f, 4.0f);
    r = pow((double)pa, (double)pb);
    e_pow = fmax(e_pow, fabs(rt_powf(pa, pb) - r) / r);
    e_pow4 = fmax(e_pow4, fabs(wasm_f32x4_extract_lane(rt_pow_f32x4(wasm_f32x4_splat(pa), wasm_f32x4_splat(pb)), 0) - r) / r);
  }
  /* tiny tanh arguments (relative accuracy near 0) */
  for (int i = 1; i <= 20000; i++) {
    float t = 1e-6f * (float)i * (i % 2 ? 1.0f : -1.0f);
    double r = tanh((double)t);
    e_tanh = fmax(e_tanh, fabs(rt_tanhf(t) - r) / fabs(r));
    e_tanh4 = fmax(e_tanh4, fabs(wasm_f32x4_extract_lane(rt_tanh_f32x4(wasm_f32x4_splat(t)), 0) - r) / fabs(r));
  }
  struct { const char *name; double err, bound; } rows[] = {
      {"expf rel err on [-87, 88.72]", e_exp, 5e-7},           {"exp_f32x4 rel err on [-87, 88.72]", e_exp4, 5e-7},
      {"logf rel err on [e^-80, e^80]", e_log, 5e-7},         {"log_f32x4 rel err on [e^-80, e^80]", e_log4, 5e-7},
      {"sigmoidf rel err on [-86, 30]", e_sig, 6e-7},         {"sigmoid_f32x4 rel err on [-86, 30]", e_sig4, 6e-7},
      {"tanhf rel err on [-10, 10]", e_tanh, 6e-7},           {"tanh_f32x4 rel err on [-10, 10]", e_tanh4, 6e-7},
      {"powf rel err a in [0.01,100], b in [-4,4]", e_pow, 1e-5}, {"pow_f32x4 rel err a in [0.01,100], b in [-4,4]", e_pow4, 1e-5},
  };
  for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
    int ok = rows[i].err <= rows[i].bound;
    if (ok) g_pass++; else g_fail++;
    printf("%s approx %s = %.3g (bound %.1g)\n", ok ? "PASS" : "FAIL", rows[i].name, rows[i].err, rows[i].bound);
  }
  /* special values, scalar and f32x4 */
  struct { const char *name; float got, got4, want; } sp[] = {
      {"exp(-inf)", rt_expf(-INFINITY), wasm_f32x4_extract_lane(rt_exp_f32x4(wasm_f32x4_splat(-INFINITY)), 0), 0.0f},
      {"exp(-110)", rt_expf(-110.0f), wasm_f32x4_extract_lane(rt_exp_f32x4(wasm_f32x4_splat(-110.0f)), 0), 0.0f},
      /* results below e^-87 (denormals) are flushed to 0 by design: denormal arithmetic is ~100x slower */
      {"exp(-100) (flushed)", rt_expf(-100.0f), wasm_f32x4_extract_lane(rt_exp_f32x4(wasm_f32x4_splat(-100.0f)), 0), 0.0f},
      {"exp(-87.5) (flushed)", rt_expf(-87.5f), wasm_f32x4_extract_lane(rt_exp_f32x4(wasm_f32x4_splat(-87.5f)), 0), 0.0f},
      {"exp(88.72)", rt_expf(88.72f), wasm_f32x4_extract_lane(rt_exp_f32x4(wasm_f32x4_splat(88.72f)), 0), 3.39318060e38f},
      {"exp(100)", rt_expf(100.0f), wasm_f32x4_extract_lane(rt_exp_f32x4(wasm_f32x4_splat(100.0f)), 0), INFINITY},
      {"exp(0)", rt_expf(0.0f), wasm_f32x4_extract_lane(rt_exp_f32x4(wasm_f32x4_splat(0.0f)), 0), 1.0f},
      {"log(0)", rt_logf(0.0f), wasm_f32x4_extract_lane(rt_log_f32x4(wasm_f32x4_splat(0.0f)), 0), -INFINITY},
      {"log(1)", rt_logf(1.0f), wasm_f32x4_extract_lane(rt_log_f32x4(wasm_f32x4_splat(1.0f)), 0), 0.0f},
      {"log(inf)", rt_logf(INFINITY), wasm_f32x4_extract_lane(rt_log_f32x4(wasm_f32x4_splat(INFINITY)), 0), INFINITY},
      {"sigmoid(-200)", rt_sigmoidf(-200.0f), wasm_f32x4_extract_lane(rt_sigmoid_f32x4(wasm_f32x4_splat(-200.0f)), 0), 0.0f},
      {"sigmoid(-87.5) (flushed)", rt_sigmoidf(-87.5f), wasm_f32x4_extract_lane(rt_sigmoid_f32x4(wasm_f32x4_splat(-87.5f)), 0), 0.0f},
      {"sigmoid(87.5)", rt_sigmoidf(87.5f), wasm_f32x4_extract_lane(rt_sigmoid_f32x4(wasm_f32x4_splat(87.5f)), 0), 1.0f},
      {"sigmoid(200)", rt_sigmoidf(200.0f), wasm_f32x4_extract_lane(rt_sigmoid_f32x4(wasm_f32x4_splat(200.0f)), 0), 1.0f},
      {"tanh(-50)", rt_tanhf(-50.0f), wasm_f32x4_extract_lane(rt_tanh_f32x4(wasm_f32x4_splat(-50.0f)), 0), -1.0f},
      {"tanh(inf)", rt_tanhf(INFINITY), wasm_f32x4_extract_lane(rt_tanh_f32x4(wasm_f32x4_splat(INFINITY)), 0), 1.0f},
      {"pow(-2,3)", rt_powf(-2.0f, 3.0f), wasm_f32x4_extract_lane(rt_pow_f32x4(wasm_f32x4_splat(-2.0f), wasm_f32x4_splat(3.0f)), 0), -8.0f},
      {"pow(-2,-2)", rt_powf(-2.0f, -2.0f), wasm_f32x4_extract_lane(rt_pow_f32x4(wasm_f32x4_splat(-2.0f), wasm_f32x4_splat(-2.0f)), 0), 0.25f},
      {"pow(0,3)", rt_powf(0.0f, 3.0f), wasm_f32x4_extract_lane(rt_pow_f32x4(wasm_f32x4_splat(0.0f), wasm_f32x4_splat(3.0f)), 0), 0.0f},
      {"pow(0,-1)", rt_powf(0.0f, -1.0f), wasm_f32x4_extract_lane(rt_pow_f32x4(wasm_f32x4_splat(0.0f), wasm_f32x4_splat(-1.0f)), 0), INFINITY},
      {"pow(5,0)", rt_powf(5.0f, 0.0f), wasm_f32x4_extract_lane(rt_pow_f32x4(wasm_f32x4_splat(5.0f), wasm_f32x4_splat(0.0f)), 0), 1.0f},
      {"pow(3,0.5)", rt_powf(3.0f, 0.5f), wasm_f32x4_extract_lane(rt_pow_f32x4(wasm_f32x4_splat(3.0f), wasm_f32x4_splat(0.5f)), 0), sqrtf(3.0f)},
  };
  for (size_t i = 0; i < sizeof sp / sizeof sp[0]; i++) {
    float w = sp[i].want;
    int ok1 = sp[i].got == w || fabsf(sp[i].got - w) <= 1e-6f * fabsf(w) + 3e-45f;
    int ok4 = sp[i].got4 == w || fabsf(sp[i].got4 - w) <= 1e-6f * fabsf(w) + 3e-45f;
    int ok = ok1 && ok4;
    if (ok) g_pass++; else g_fail++;
    printf("%s special %s: scalar %g simd %g want %g\n", ok ? "PASS" : "FAIL", sp[i].name, sp[i].got, sp[i].got4, w);
  }
  float nan = NAN;
  int nok = isnan(rt_expf(nan)) && isnan(rt_logf(nan)) && isnan(rt_logf(-1.0f)) &&
            isnan(wasm_f32x4_extract_lane(rt_exp_f32x4(wasm_f32x4_splat(nan)), 0)) &&
            isnan(wasm_f32x4_extract_lane(rt_log_f32x4(wasm_f32x4_splat(nan)), 0)) &&
            isnan(wasm_f32x4_extract_lane(rt_log_f32x4(wasm_f32x4_splat(-1.0f)), 0)) &&
            isnan(rt_powf(-2.0f, 0.5f)) &&
            isnan(wasm_f32x4_extract_lane(rt_pow_f32x4(wasm_f32x4_splat(-2.0f), wasm_f32x4_splat(1.5f)), 0));
  if (nok) g_pass++; else g_fail++;
  printf("%s special NaN propagation (exp, log, log(-1), pow(-2,1.5))\n", nok ? "PASS" : "FAIL");
}

/* Dense sweeps of the new transcendentals against libm in double: max relative error (absolute where the
 * function crosses 0, as stated) per range, scalar and f32x4 (through the unary kernels' formulas). */
static void test_approx2(void) {
  struct { int kind; float lo, hi; double bound; int absolute; } rows[] = {
      {RT_ACT_SIN, -100.0f, 100.0f, 2e-7, 1},   {RT_ACT_COS, -100.0f, 100.0f, 2e-7, 1},
      {RT_ACT_TAN, -1.5f, 1.5f, 5e-7, 0},       {RT_ACT_ERF, -5.0f, 5.0f, 5e-7, 0},
      {RT_ACT_GELU, -12.0f, 12.0f, 2e-6, 0},    {RT_ACT_GELU_TANH, -12.0f, 12.0f, 3e-5, 0}, /* ill-conditioned tail: d ln y / d ln x ~ 0.2 x^3 (390 at -12) */
      {RT_ACT_ATAN, -100.0f, 100.0f, 5e-7, 0},  {RT_ACT_ASIN, -1.0f, 1.0f, 5e-7, 0},
      {RT_ACT_ACOS, -1.0f, 1.0f, 5e-7, 0},      {RT_ACT_SINH, -80.0f, 80.0f, 6e-7, 0},
      {RT_ACT_COSH, -80.0f, 80.0f, 6e-7, 0},    {RT_ACT_ASINH, -1e5f, 1e5f, 5e-7, 0},
      {RT_ACT_ACOSH, 1.0f, 1e5f, 5e-7, 0},      {RT_ACT_ATANH, -0.9999f, 0.9999f, 5e-7, 0},
      {RT_ACT_SOFTPLUS, -80.0f, 80.0f, 5e-7, 0}, {RT_ACT_MISH, -20.0f, 20.0f, 1e-6, 0},
      {RT_ACT_ELU, -20.0f, 20.0f, 5e-7, 0},     {RT_ACT_LOG, 1e-30f, 1e30f, 5e-7, 0},
  };
  for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
    RtAct act = make_act(rows[r].kind);
    double e1 = 0, e4 = 0;
    int logsweep = rows[r].kind == RT_ACT_LOG || rows[r].kind == RT_ACT_ASINH || rows[r].kind == RT_ACT_ACOSH;
    for (int i = 0; i <= 200000; i++) {
      double f = (double)i / 200000.0;
      float x;
      if (logsweep && rows[r].kind != RT_ACT_ASINH) x = (float)(rows[r].lo * pow((double)rows[r].hi / rows[r].lo, f));
      else if (rows[r].kind == RT_ACT_ASINH) x = (float)((i % 2 ? -1 : 1) * pow(1e5, 2 * f - 1));
      else x = (float)(rows[r].lo + (rows[r].hi - rows[r].lo) * f);
      double want = act_d(act, x);
      if (!isfinite(want)) continue;
      float g1 = rt_act1(act.kind, act.a, act.b, x);
      float g4 = wasm_f32x4_extract_lane(rt_act_f32x4(act.kind, act.a, act.b, wasm_f32x4_splat(x)), 0);
      double den = rows[r].absolute ? 1.0 : fabs(want) + 1e-30;   /* results below 1e-30 count absolutely */
      e1 = fmax(e1, fabs(g1 - want) / den);
      e4 = fmax(e4, fabs(g4 - want) / den);
    }
    for (int v = 0; v < 2; v++) {
      double e = v ? e4 : e1;
      int ok = e <= rows[r].bound;
      if (ok) g_pass++; else g_fail++;
      printf("%s approx %s %s %s err on [%g, %g] = %.3g (bound %.1g)\n", ok ? "PASS" : "FAIL", act_names[rows[r].kind],
             v ? "f32x4" : "scalar", rows[r].absolute ? "abs" : "rel", rows[r].lo, rows[r].hi, e, rows[r].bound);
    }
  }
}

/* ------------------------------------------------------------------ unary */

static void test_unary(void) {
  static const int sizes[] = {1, 3, 4, 5, 7, 8, 13, 17, 33, 100};
  char name[128];
  for (int kind = 0; kind < RT_ACT_COUNT; kind++)
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
      int n = sizes[si];
      RtAct act = make_act(kind);
      float lo = -6.0f, hi = 6.0f;
      if (kind == RT_ACT_EXP) { lo = -90.0f; hi = 90.0f; }
      float *x = frand_buf((size_t)n, lo, hi), *ys = fbuf((size_t)n), *yv = fbuf((size_t)n);
      float *ref = fbuf((size_t)n), *tol = fbuf((size_t)n);
      if (kind == RT_ACT_RECIPROCAL || kind == RT_ACT_SQRT)
        for (int i = 0; i < n; i++) x[i] = (i % 3 == 0 && kind == RT_ACT_SQRT) ? -x[i] * x[i] : 0.05f + fabsf(x[i]);
      for (int i = 0; i < n; i++) {                   /* the domains of the new kinds */
        if (kind == RT_ACT_LOG) x[i] = i % 5 == 4 ? (i % 2 ? 0.0f : -1.0f) : expf(x[i] * 3.0f);
        if (kind == RT_ACT_ASIN || kind == RT_ACT_ACOS || kind == RT_ACT_ATANH) x[i] = i % 7 == 6 ? (i % 2 ? 1.0f : -1.0f) : x[i] / 6.0f;
        if (kind == RT_ACT_ACOSH) x[i] = 1.0f + (i % 2 ? fabsf(x[i]) * 1e-3f : fabsf(x[i]) * 20.0f);
        if (kind == RT_ACT_ASINH || kind == RT_ACT_ATAN || kind == RT_ACT_SINH || kind == RT_ACT_COSH) x[i] *= (i % 2 ? 0.01f : 14.0f);
        if (kind == RT_ACT_SIN || kind == RT_ACT_COS || kind == RT_ACT_TAN) x[i] *= (i % 3 == 0 ? 1e-3f : i % 3 == 1 ? 1.0f : 50.0f);
        if ((kind == RT_ACT_ROUND || kind == RT_ACT_FLOOR || kind == RT_ACT_CEIL) && i % 3 == 0) x[i] = (float)rnd_int(-8, 8) * 0.5f;
        if ((kind == RT_ACT_ERF || kind == RT_ACT_GELU || kind == RT_ACT_ELU || kind == RT_ACT_SOFTPLUS) && i % 4 == 0) x[i] *= 1e-3f;
      }
      for (int i = 0; i < n; i++) finish(act, x[i], 0.0, &ref[i], &tol[i]);
      RtUnary ps = {A(x), A(ys), n, act}, pv = {A(x), A(yv), n, act};
      rt_unary_f32__scalar(&ps);
      rt_unary_f32__simd128(&pv);
      snprintf(name, sizeof name, "unary[%s n=%d]", act_names[kind], n);
      check3(name, ys, yv, ref, tol, (size_t)n);
      if (n == 33) { /* in place through the exported entry */
        rt_memcpy(yv, x, (size_t)n * 4);
        RtUnary pi = {A(yv), A(yv), n, act};
        rt_unary_f32(&pi);
        snprintf(name, sizeof name, "unary[%s n=%d in-place]", act_names[kind], n);
        check(name, "entry~scalar", yv, ys, tol, 2.0f, (size_t)n);
      }
      free(x); free(ys); free(yv); free(ref); free(tol);
    }
}

/* ------------------------------------------------------------------ binary */

static const char *bin_names[RT_BIN_COUNT] = {"add", "sub", "mul", "div", "max", "min", "pow", "prelu"};

static double bin_d(int op, double a, double b) {
  switch (op) {
  case RT_BIN_ADD: return a + b;
  case RT_BIN_SUB: return a - b;
  case RT_BIN_MUL: return a * b;
  case RT_BIN_DIV: return a / b;
  case RT_BIN_MAX: return a < b ? b : a;
  case RT_BIN_MIN: return b < a ? b : a;
  case RT_BIN_PRELU: return a < 0 ? a * b : a;
  default: return pow(a, b);
  }
}

/* One broadcast case: y dims ydim[rank]; a/b have dim ydim or 1 per axis (amask/bmask bit d = full). */
static void binary_case(int op, RtAct act, int rank, const int *ydim, unsigned amask, unsigned bmask, int inplace) {
  int32_t as[RT_MAX_RANK], bs[RT_MAX_RANK];
  size_t na = 1, nb = 1, ny = 1;
  for (int d = rank - 1; d >= 0; d--) {
    int fa = (amask >> d) & 1, fb = (bmask >> d) & 1;
    as[d] = fa && ydim[d] > 1 ? (int32_t)na : 0;
    bs[d] = fb && ydim[d] > 1 ? (int32_t)nb : 0;
    if (fa) na *= (size_t)ydim[d];
    if (fb) nb *= (size_t)ydim[d];
    ny *= (size_t)ydim[d];
  }
  float alo = -3.0f, ahi = 3.0f, blo = -3.0f, bhi = 3.0f;
  if (op == RT_BIN_POW) { alo = 0.05f; ahi = 3.0f; blo = -3.0f; bhi = 3.0f; }
  if (op == RT_BIN_DIV) { blo = 0.2f; bhi = 3.0f; }
  float *a = frand_buf(na, alo, ahi), *b = frand_buf(nb, blo, bhi);
  if (op == RT_BIN_POW) /* some negative bases with integer exponents, and exact special exponents */
    for (size_t i = 0; i < nb; i++) {
      if (i % 4 == 1) b[i] = (float)rnd_int(-3, 3);
      if (i % 7 == 2) b[i] = (i % 2) ? 2.0f : 0.5f;
    }
  if (op == RT_BIN_POW && nb == na)
    for (size_t i = 0; i < na; i++)
      if (i % 4 == 1) a[i] = -a[i];
  float *ys = fbuf(ny), *yv = fbuf(ny), *ref = fbuf(ny), *tol = fbuf(ny);
  int32_t idx[RT_MAX_RANK] = {0};
  for (size_t i = 0; i < ny; i++) {
    size_t ao = 0, bo = 0;
    for (int d = 0; d < rank; d++) { ao += (size_t)idx[d] * (size_t)as[d]; bo += (size_t)idx[d] * (size_t)bs[d]; }
    double v = bin_d(op, a[ao], b[bo]);
    double e = 1e-7 * fabs(v);
    if (op == RT_BIN_POW) e = fabs(v) * 1e-6 * (1.0 + fabs(b[bo] * log(fabs(a[ao]))));
    finish(act, v, e, &ref[i], &tol[i]);
    for (int d = rank - 1; d >= 0; d--) { if (++idx[d] < ydim[d]) break; idx[d] = 0; }
  }
  RtBinary p;
  memset(&p, 0, sizeof p);
  p.a = A(a); p.b = A(b); p.op = op; p.rank = rank; p.act = act;
  for (int d = 0; d < rank; d++) { p.dim[d] = ydim[d]; p.astride[d] = as[d]; p.bstride[d] = bs[d]; }
  p.y = A(ys);
  rt_binary_f32__scalar(&p);
  p.y = A(yv);
  if (inplace && na == ny) { rt_memcpy(yv, a, ny * 4); p.a = A(yv); }
  rt_binary_f32__simd128(&p);
  char name[160], dims[64] = "", *q = dims;
  for (int d = 0; d < rank; d++) q += snprintf(q, 8, "%s%d", d ? "x" : "", ydim[d]);
  snprintf(name, sizeof name, "binary[%s %s a%x b%x %s%s]", bin_names[op], dims, amask, bmask, act_names[act.kind],
           inplace && na == ny ? " in-place" : "");
  check3(name, ys, yv, ref, tol, ny);
  free(a); free(b); free(ys); free(yv); free(ref); free(tol);
}

static void test_binary(void) {
  static const int sizes[] = {1, 3, 4, 5, 7, 8, 13, 17, 33};
  RtAct none = make_act(RT_ACT_NONE);
  for (int op = 0; op < RT_BIN_COUNT; op++) {
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
      int d1[1] = {sizes[si]};
      binary_case(op, none, 1, d1, 1, 1, 0);          /* same shape */
      binary_case(op, none, 1, d1, 1, 0, 0);          /* b scalar */
      binary_case(op, none, 1, d1, 0, 1, 0);          /* a scalar */
    }
    binary_case(op, none, 0, sizes, 0, 0, 0);        /* rank 0 (scalars) */
    int d3[3] = {3, 5, 7};
    binary_case(op, none, 3, d3, 7, 1, 0);            /* b along last axis only ([7]) */
    binary_case(op, none, 3, d3, 7, 4, 0);            /* b along first axis ([3,1,1]) */
    binary_case(op, none, 3, d3, 5, 2, 0);            /* [3,1,7] op [1,5,1] */
    binary_case(op, none, 3, d3, 7, 7, 1);            /* same shape, in place */
    for (int r = 0; r < 6; r++) {                      /* random ranks and broadcasts */
      int rank = rnd_int(1, RT_MAX_RANK), dims[RT_MAX_RANK];
      for (int d = 0; d < rank; d++) dims[d] = rnd_int(1, rank > 4 ? 3 : 6);
      binary_case(op, none, rank, dims, rnd_u32() & 63, rnd_u32() & 63, 0);
    }
  }
  for (int kind = 1; kind < RT_ACT_COUNT; kind++) {
    int d2[2] = {5, 13};
    binary_case(RT_BIN_ADD, make_act(kind), 2, d2, 3, 2, 0);
    binary_case(RT_BIN_MUL, make_act(kind), 2, d2, 3, 3, 0);
  }
}

/* ------------------------------------------------------------------ channel affine */

static void test_channel_affine(void) {
  static const int cs[] = {1, 3, 5, 8}, inners[] = {1, 2, 3, 4, 7, 17};
  char name[128];
  for (int kind = 0; kind < RT_ACT_COUNT; kind++)
    for (size_t ci = 0; ci < 4; ci++)
      for (size_t ii = 0; ii < 6; ii++) {
        if (kind > 1 && (ci + ii) % 3) continue; /* every act, but not every shape for every act */
        int outer = 2, c = cs[ci], inner = inners[ii];
        size_t n = (size_t)outer * c * inner;
        RtAct act = make_act(kind);
        float *x = frand_buf(n, -3, 3), *sc = frand_buf((size_t)c, -2, 2), *sh = frand_buf((size_t)c, -1, 1);
        if (kind == RT_ACT_SQRT || kind == RT_ACT_RECIPROCAL)
          for (int i = 0; i < c; i++) { sc[i] = fabsf(sc[i]) * 0.1f; sh[i] = 0.5f + fabsf(sh[i]); }
        float *ys = fbuf(n), *yv = fbuf(n), *ref = fbuf(n), *tol = fbuf(n);
        for (size_t i = 0; i < n; i++) {
          int ch = (int)((i / (size_t)inner) % (size_t)c);
          double v = (double)x[i] * sc[ch] + sh[ch];
          finish(act, v, 1e-7 * (fabs(v) + fabs((double)x[i] * sc[ch])), &ref[i], &tol[i]);
        }
        RtChannelAffine p = {A(x), A(ys), A(sc), A(sh), outer, c, inner, act};
        rt_channel_affine_f32__scalar(&p);
        p.y = A(yv);
        rt_channel_affine_f32__simd128(&p);
        snprintf(name, sizeof name, "channel_affine[2x%dx%d %s]", c, inner, act_names[kind]);
        check3(name, ys, yv, ref, tol, n);
        free(x); free(sc); free(sh); free(ys); free(yv); free(ref); free(tol);
      }
}

/* ------------------------------------------------------------------ gemm */

static void gemm_case(int m, int n, int k, int ta, int tb, int ck, float alpha, float beta, RtAct act) {
  float *a = frand_buf((size_t)m * k, -1, 1), *b = frand_buf((size_t)k * n, -1, 1);
  size_t nc = ck == 1 ? 1 : ck == 2 ? (size_t)n : ck == 3 ? (size_t)m : (size_t)m * n;
  float *c = ck ? frand_buf(nc, -1, 1) : 0;
  size_t ny = (size_t)m * n;
  float *ys = fbuf(ny), *yv = fbuf(ny), *ref = fbuf(ny), *tol = fbuf(ny);
  for (int i = 0; i < m; i++)
    for (int j = 0; j < n; j++) {
      double s = 0, mag = 0;
      for (int q = 0; q < k; q++) {
        double t = (double)(ta ? a[q * m + i] : a[i * k + q]) * (tb ? b[j * k + q] : b[q * n + j]);
        s += t;
        mag += fabs(t);
      }
      double v = alpha * s, cv = 0;
      if (ck == 1) cv = c[0];
      if (ck == 2) cv = c[j];
      if (ck == 3) cv = c[i];
      if (ck == 4) cv = c[i * n + j];
      v += beta * cv;
      finish(act, v, ACC_RTOL * (fabs(v) + fabs(alpha) * mag + fabs(beta * cv)), &ref[i * n + j], &tol[i * n + j]);
    }
  RtGemm p = {A(a), A(b), c ? A(c) : 0, A(ys), m, n, k, ta, tb, ck, alpha, beta, act};
  rt_gemm_f32__scalar(&p);
  p.y = A(yv);
  rt_gemm_f32__simd128(&p);
  char name[160];
  snprintf(name, sizeof name, "gemm[m=%d n=%d k=%d ta=%d tb=%d c=%d alpha=%g beta=%g %s]", m, n, k, ta, tb, ck,
           alpha, beta, act_names[act.kind]);
  check3(name, ys, yv, ref, tol, ny);
  free(a); free(b); free(c); free(ys); free(yv); free(ref); free(tol);
}

static void test_gemm(void) {
  static const int sz[] = {1, 3, 4, 5, 7, 8, 13, 17, 33};
  RtAct none = make_act(RT_ACT_NONE);
  for (int t = 0; t < 4; t++)
    for (size_t i = 0; i < 9; i++)
      for (size_t j = 0; j < 9; j++) {
        if ((i + j + (size_t)t) % 3) continue;
        gemm_case(sz[i], sz[j], sz[(i * 5 + j * 3 + (size_t)t) % 9], t & 1, t >> 1, (int)((i + j) % 5), 1.0f, 1.0f, none);
      }
  for (int t = 0; t < 4; t++) {
    gemm_case(9, 21, 19, t & 1, t >> 1, 4, 0.5f, -1.5f, none);
    gemm_case(2, 37, 23, t & 1, t >> 1, 2, 1.0f, 1.0f, none); /* m < 4: dot path when tb */
    gemm_case(6, 70, 1100, t & 1, t >> 1, 3, 1.0f, 0.5f, none); /* column blocks with tb */
    gemm_case(5, 19, 2100, t & 1, t >> 1, 4, 1.0f, 0.5f, none); /* k blocks (accumulate in y) with tb */
    gemm_case(1, 1, 1, t & 1, t >> 1, 0, 2.0f, 1.0f, none);
    gemm_case(5, 9, 0, t & 1, t >> 1, 2, 1.0f, 1.0f, none);    /* k = 0 */
  }
  for (int kind = 1; kind < RT_ACT_COUNT; kind++) gemm_case(7, 19, 11, kind & 1, (kind >> 1) & 1, 2, 1.0f, 1.0f, make_act(kind));
  /* a bias along the columns with full 5x8 tiles: the micro-kernel's own epilogue adds it */
  for (int t = 0; t < 4; t++) {
    gemm_case(10, 24, 17, t & 1, t >> 1, 2, 1.0f, 1.0f, none);
    gemm_case(15, 136, 300, t & 1, t >> 1, 2, 1.0f, 1.0f, make_act(RT_ACT_RELU));
  }
}

/* ------------------------------------------------------------------ matmul */

static int g_matmul_tb; /* matmul_case: 1 B stored transposed (N x K per batch, RtMatMul.trans_b), TB_* packed */
enum { TB_PANELS = 2, TB_BF16 = 3 };   /* B in float32 / bfloat16 panels (RtMatMul.bw.fmt) */
static int g_matmul_res; /* matmul_case: a residual input (RtMatMul.res) */

static void matmul_case(int m, int n, int k, int nb, const int *bdim, const int *afull, const int *bfull, int bias,
                        RtAct act) {
  RtMatMul p;
  memset(&p, 0, sizeof p);
  p.m = m; p.n = n; p.k = k; p.nb = nb; p.act = act; p.trans_b = g_matmul_tb == 1;
  p.bw.fmt = g_matmul_tb == TB_PANELS ? RT_WF_F32_PANELS : g_matmul_tb == TB_BF16 ? RT_WF_BF16_PANELS : RT_WF_DENSE;
  size_t na = (size_t)m * k, nbb = (size_t)k * n, nbat = 1;
  for (int d = nb - 1; d >= 0; d--) {
    p.bdim[d] = bdim[d];
    p.astride[d] = afull[d] ? (int32_t)na : 0;
    p.bstride[d] = bfull[d] ? (int32_t)nbb : 0;
    if (afull[d]) na *= (size_t)bdim[d];
    if (bfull[d]) nbb *= (size_t)bdim[d];
    nbat *= (size_t)bdim[d];
  }
  float *a = frand_buf(na, -1, 1), *b = frand_buf(nbb, -1, 1), *bi = bias ? frand_buf((size_t)n, -1, 1) : 0;
  if (g_matmul_tb == TB_BF16)  /* a bfloat16 checkpoint: B's values are exact bfloat16 */
    for (size_t i = 0; i < nbb; i++) {
      union { float f; uint32_t u; } v = {b[i]};
      v.u &= 0xffff0000u;
      b[i] = v.f;
    }
  size_t ny = nbat * m * n;
  float *res = g_matmul_res ? frand_buf(ny, -1, 1) : 0;
  float *ys = fbuf(ny), *yv = fbuf(ny), *ref = fbuf(ny), *tol = fbuf(ny);
  for (size_t t = 0; t < nbat; t++) {
    size_t ao = 0, bo = 0, r = t;
    for (int d = nb - 1; d >= 0; d--) {
      size_t ix = r % (size_t)bdim[d];
      r /= (size_t)bdim[d];
      ao += ix * (size_t)p.astride[d];
      bo += ix * (size_t)p.bstride[d];
    }
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) {
        double s = 0, mag = 0;
        for (int q = 0; q < k; q++) {
          double tt = (double)a[ao + (size_t)i * k + q] * (g_matmul_tb == 1 ? b[bo + (size_t)j * k + q] : b[bo + (size_t)q * n + j]);
          s += tt;
          mag += fabs(tt);
        }
        if (bi) s += bi[j];
        size_t o = t * m * n + (size_t)i * n + j;
        if (res) s += res[o];
        finish(act, s, ACC_RTOL * (fabs(s) + mag + (bi ? fabs(bi[j]) : 0) + (res ? fabs(res[o]) : 0)), &ref[o], &tol[o]);
      }
  }
  float *panels = 0;
  if (g_matmul_tb == TB_PANELS) {     /* the compiler's packing (runtime/pack.c) of a shared 2-D B */
    panels = fbuf(rt_matmul_panels_floats(k, n) + 1);
    rt_pack_matmul_panels(b, panels, k, n);
  } else if (g_matmul_tb == TB_BF16) {
    if (rt_is_bf16_exact(b, nbb)) g_pass++;
    else g_fail++, printf("FAIL rt_is_bf16_exact: false on exact bfloat16 values\n");
    panels = fbuf(rt_matmul_panels_floats(k, n) / 2 + 4);
    rt_pack_matmul_panels_bf16(b, (unsigned short *)panels, k, n);
  }
  p.a = A(a); p.b = A(panels ? panels : b); p.bias = bi ? A(bi) : 0; p.y = A(ys); p.res = res ? A(res) : 0;
  rt_matmul_f32__scalar(&p);
  p.y = A(yv);
  rt_matmul_f32__simd128(&p);
  free(panels); free(res);
  char name[160], bd[64] = "", *q = bd;
  for (int d = 0; d < nb; d++) q += snprintf(q, 16, "%d%s%s,", bdim[d], afull[d] ? "a" : "", bfull[d] ? "b" : "");
  snprintf(name, sizeof name, "matmul[m=%d n=%d k=%d batch=(%s) bias=%d tb=%d res=%d %s]", m, n, k, bd, bias, g_matmul_tb,
           g_matmul_res, act_names[act.kind]);
  check3(name, ys, yv, ref, tol, ny);
  free(a); free(b); free(bi); free(ys); free(yv); free(ref); free(tol);
}

static void test_matmul(void) {
  RtAct none = make_act(RT_ACT_NONE);
  static const int sz[] = {1, 3, 5, 7, 8, 13, 17, 33};
  int one[1] = {1}, three[1] = {3}, d2[2] = {2, 3}, f10[2] = {1, 0}, f01[2] = {0, 1}, f11[2] = {1, 1};
  for (size_t i = 0; i < 8; i++) {
    matmul_case(sz[i], sz[(i + 3) % 8], sz[(i + 5) % 8], 0, 0, 0, 0, (int)(i & 1), none);
    matmul_case(sz[i], sz[(i + 2) % 8], sz[(i + 1) % 8], 1, three, one, one, (int)(i & 1), none);
    matmul_case(sz[(i + 4) % 8], sz[i], sz[(i + 6) % 8], 1, three, one, (int[]){0}, 1, none); /* B broadcast: folded */
    matmul_case(sz[(i + 1) % 8], sz[(i + 7) % 8], sz[i], 1, three, (int[]){0}, one, 0, none); /* A broadcast */
  }
  matmul_case(5, 9, 7, 2, d2, f11, f10, 1, none);
  matmul_case(5, 9, 7, 2, d2, f10, f01, 0, none);
  matmul_case(4, 8, 16, 2, d2, f11, (int[]){0, 0}, 1, none);
  for (int kind = 1; kind < RT_ACT_COUNT; kind++) matmul_case(6, 11, 9, 1, (int[]){2}, one, one, 1, make_act(kind));
  /* B transposed (a Transpose folded into the MatMul), including the m < 4 decode paths */
  g_matmul_tb = 1;
  for (size_t i = 0; i < 8; i++) {
    matmul_case(sz[i], sz[(i + 3) % 8], sz[(i + 5) % 8], 0, 0, 0, 0, (int)(i & 1), none);
    matmul_case(sz[i % 3 + 0], sz[(i + 2) % 8] * 3, sz[(i + 1) % 8] * 2, 1, three, one, one, 0, none);
  }
  matmul_case(3, 129, 32, 2, (int[]){1, 4}, f11, f11, 0, none);       /* attention scores at decode */
  matmul_case(1, 40, 300, 1, three, one, one, 1, make_act(RT_ACT_RELU));
  g_matmul_tb = 0;
  /* small m with row-major B: the decode path (B streamed 4 rows at a time: k tails of 1-3 rows,
   * 8- and 4-column steps, scalar column tails; the epilogue in a second vector pass) */
  matmul_case(1, 512, 192, 0, 0, 0, 0, 1, none);
  matmul_case(3, 75, 33, 1, (int[]){2}, one, one, 0, make_act(RT_ACT_RELU));
  for (int m = 1; m <= 3; m++)
    for (int k = 1; k <= 9; k++) {
      matmul_case(m, 4 * k + m + 8, k, 0, 0, 0, 0, k & 1, none);
      matmul_case(m, k + 2, k, 1, (int[]){2}, one, one, (k + m) & 1, make_act(1 + (k + m) % (RT_ACT_COUNT - 1)));
    }
  /* constant B packed in 8-column panels: decode (m < 4, k tails of 1-3, partial last panel), the
   * GEMM core copying panels (m >= 4, k blocks past KC), batches of A over one shared B */
  g_matmul_tb = TB_PANELS;
  for (int m = 1; m <= 6; m++)
    for (int k = 1; k <= 9; k += 2) {
      matmul_case(m, 8 * k + m, 4 * k + m - 1, 0, 0, 0, 0, k & 1, make_act((k + m) % RT_ACT_COUNT));
      matmul_case(m, k + 3, k, 1, three, one, (int[]){0}, (k + m) & 1, none);
    }
  matmul_case(1, 512, 192, 0, 0, 0, 0, 1, make_act(RT_ACT_GELU_TANH));
  matmul_case(3, 83, 128, 0, 0, 0, 0, 0, none);
  matmul_case(64, 130, 300, 0, 0, 0, 0, 1, none);
  matmul_case(2, 33, 7, 2, d2, (int[]){1, 0}, (int[]){0, 0}, 1, none);   /* A broadcast over a batch dim */
  /* the same panels in bfloat16 (values exact in bfloat16): decode widening, GEMM core copies */
  {
    float v[3] = {1.5f, -0.0f, 1.0f + 1.0f / 256};                    /* exact, exact, 8 mantissa bits: not */
    float inf = 1e38f * 1e38f;
    int ok = rt_is_bf16_exact(v, 2) && !rt_is_bf16_exact(v, 3) && !rt_is_bf16_exact(&inf, 1);
    if (ok) g_pass++;
    else g_fail++, printf("FAIL rt_is_bf16_exact\n");
  }
  g_matmul_tb = TB_BF16;
  for (int m = 1; m <= 6; m++)
    for (int k = 1; k <= 9; k += 2) {
      matmul_case(m, 8 * k + m, 4 * k + m - 1, 0, 0, 0, 0, k & 1, make_act((k + m) % RT_ACT_COUNT));
      matmul_case(m, k + 3, k, 1, three, one, (int[]){0}, (k + m) & 1, none);
    }
  matmul_case(1, 512, 192, 0, 0, 0, 0, 1, make_act(RT_ACT_SILU));
  matmul_case(3, 83, 128, 0, 0, 0, 0, 0, none);
  matmul_case(64, 130, 300, 0, 0, 0, 0, 1, none);
  matmul_case(2, 33, 7, 2, d2, (int[]){1, 0}, (int[]){0, 0}, 1, none);
  /* a residual input (fused Add): every path (panels at m < 4 and m >= 4, row-major, B^T, batches) */
  g_matmul_res = 1;
  for (int t = 0; t < 4; t++) {
    g_matmul_tb = t == 0 ? TB_PANELS : t == 1 ? 0 : t == 2 ? 1 : TB_BF16;
    matmul_case(1, 37, 19, 0, 0, 0, 0, 1, make_act(RT_ACT_RELU));
    matmul_case(3, 16, 8, 0, 0, 0, 0, 0, none);
    matmul_case(9, 21, 33, 0, 0, 0, 0, 1, make_act(RT_ACT_SILU));
    matmul_case(2, 13, 5, 1, three, one, t == 0 || t == 3 ? (int[]){0} : one, 1, none);
    matmul_case(2, 9, 7, 2, d2, (int[]){1, 0}, t == 0 || t == 3 ? (int[]){0, 0} : f11, 0, none);
  }
  g_matmul_res = 0;
  g_matmul_tb = 0;
}

#include "test_matmul_q.c"

/* ------------------------------------------------------------------ conv2d */

typedef struct { int n, c, h, w, k, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, group; } ConvCfg;

/* scratch_mode: 0 exact scratch, 1 no scratch (scalar fallback), 2 exact scratch and y == res (in place). */
/* conv_case with an input channel scale (RtConv2d.xscale): 0 none, 1 one per image (xscale_ns = c),
 * 2 one for all images (xscale_ns = 0) */
static int g_conv_xscale;

static void conv_case(const ConvCfg *g, int bias, int res, RtAct act, int scratch_mode) {
  int oh = (g->h + g->pt + g->pb - ((g->kh - 1) * g->dh + 1)) / g->sh + 1;
  int ow = (g->w + g->pl + g->pr - ((g->kw - 1) * g->dw + 1)) / g->sw + 1;
  int cpg = g->c / g->group, kpg = g->k / g->group;
  size_t nx = (size_t)g->n * g->c * g->h * g->w, nw = (size_t)g->k * cpg * g->kh * g->kw;
  size_t ny = (size_t)g->n * g->k * oh * ow;
  float *x = frand_buf(nx, -1, 1), *w = frand_buf(nw, -1, 1);
  float *bi = bias ? frand_buf((size_t)g->k, -1, 1) : 0, *rs = res ? frand_buf(ny, -1, 1) : 0;
  float *ys = fbuf(ny), *yv = fbuf(ny), *ref = fbuf(ny), *tol = fbuf(ny);
  int xs_ns = g_conv_xscale == 1 ? g->c : 0;
  float *xs = g_conv_xscale ? frand_buf((size_t)(g_conv_xscale == 1 ? g->n : 1) * g->c, -2, 2) : 0;
  int pointwise = g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 &&
                  g->pb == 0 && g->pr == 0;
  uint32_t sb = pointwise || scratch_mode == 1 ? 0 : (uint32_t)(cpg * g->kh * g->kw * oh * ow * 4);
  float *scratch = sb ? fbuf(sb / 4) : 0;
  /* textbook 7-loop convolution in double */
  for (int ni = 0; ni < g->n; ni++)
    for (int ko = 0; ko < g->k; ko++)
      for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
          int gi = ko / kpg;
          double s = 0, mag = 0;
          for (int ci = 0; ci < cpg; ci++)
            for (int ky = 0; ky < g->kh; ky++)
              for (int kx = 0; kx < g->kw; kx++) {
                int iy = oy * g->sh - g->pt + ky * g->dh, ix = ox * g->sw - g->pl + kx * g->dw;
                if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
                float xv = x[(((size_t)ni * g->c + (size_t)gi * cpg + ci) * g->h + iy) * g->w + ix];
                if (xs) xv = xv * xs[(size_t)ni * xs_ns + (size_t)gi * cpg + ci];   /* rounded, as the Mul node */
                double t = (double)xv * w[(((size_t)ko * cpg + ci) * g->kh + ky) * g->kw + kx];
                s += t;
                mag += fabs(t);
              }
          size_t o = (((size_t)ni * g->k + ko) * oh + oy) * ow + ox;
          if (bi) { s += bi[ko]; mag += fabs(bi[ko]); }
          if (rs) { s += rs[o]; mag += fabs(rs[o]); }
          finish(act, s, ACC_RTOL * (fabs(s) + mag), &ref[o], &tol[o]);
        }
  RtConv2d p = {A(x), A(w), bi ? A(bi) : 0, rs ? A(rs) : 0, A(ys), scratch ? A(scratch) : 0,
                g->n, g->c, g->h, g->w, g->k, oh, ow, g->kh, g->kw, g->sh, g->sw, g->pt, g->pl, g->dh, g->dw,
                g->group, sb, act, 0, 0, 0};
  if (xs) { p.xscale = A(xs); p.xscale_ns = xs_ns; }
  if (scratch_mode == 2) { /* in place: y is the residual buffer */
    rt_memcpy(ys, rs, ny * 4);
    rt_memcpy(yv, rs, ny * 4);
    p.res = A(ys);
  }
  rt_conv2d_f32__scalar(&p);
  p.y = A(yv);
  if (scratch_mode == 2) p.res = A(yv);
  rt_conv2d_f32__simd128(&p);
  char name[200];
  snprintf(name, sizeof name,
           "conv2d[n%d c%d %dx%d k%d %dx%d s%d,%d p%d,%d,%d,%d d%d,%d g%d bias=%d res=%d %s%s%s]", g->n, g->c, g->h,
           g->w, g->k, g->kh, g->kw, g->sh, g->sw, g->pt, g->pl, g->pb, g->pr, g->dh, g->dw, g->group, bias, res,
           act_names[act.kind], scratch_mode == 1 ? " no-scratch" : scratch_mode == 2 ? " in-place" : "",
           g_conv_xscale == 1 ? " xscale/image" : g_conv_xscale == 2 ? " xscale" : "");
  check3(name, ys, yv, ref, tol, ny);
  if (rt_conv2d_wants_packing(g->k, g->c, g->group)) { /* again with compile-time packed weights */
    int crs = cpg * g->kh * g->kw;
    size_t npk = rt_conv2d_packed_floats(g->k, crs, g->group, RT_CONV_PACK_MR);
    float *wp = fbuf(npk), *ysp = fbuf(ny), *yvp = fbuf(ny);
    rt_pack_conv2d_weights(w, wp, g->k, crs, g->group, RT_CONV_PACK_MR);
    { /* the kernel a module runs when it starts (rt_conv_pack_f32) writes every float, the same as the compiler's */
      float *wp2 = frand_buf(npk, -9, 9);
      RtConvPack cp = {A(w), A(wp2), g->k, crs, g->group};
      rt_conv_pack_f32(&cp);
      if (memcmp(wp, wp2, npk * 4)) { printf("FAIL conv_pack[k%d crs%d g%d] != rt_pack_conv2d_weights\n", g->k, crs, g->group); g_fail++; }
      else g_pass++;
      free(wp2);
    }
    p.w = A(wp);
    p.wpacked = 1;
    if (scratch_mode == 2) { rt_memcpy(ysp, rs, ny * 4); rt_memcpy(yvp, rs, ny * 4); }
    p.y = A(ysp);
    if (scratch_mode == 2) p.res = A(ysp);
    rt_conv2d_f32__scalar(&p);
    p.y = A(yvp);
    if (scratch_mode == 2) p.res = A(yvp);
    rt_conv2d_f32__simd128(&p);
    char pname[220];
    snprintf(pname, sizeof pname, "%s packed", name);
    check3(pname, ysp, yvp, ref, tol, ny);
    if (!guard_ok(wp, npk)) { g_fail++; printf("FAIL %s packed weights overrun\n", name); }
    free(wp); free(ysp); free(yvp);
  }
  if (scratch && !guard_ok(scratch, sb / 4)) {
    g_fail++;
    printf("FAIL %s scratch overrun\n", name);
  }
  free(x); free(w); free(bi); free(rs); free(ys); free(yv); free(ref); free(tol); free(scratch); free(xs);
}

static void test_conv2d(void) {
  static const ConvCfg cfgs[] = {
      /* n  c  h   w   k  kh kw sh sw pt pl pb pr dh dw g */
      {1, 5, 7, 9, 13, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},     /* pointwise GEMM */
      {2, 3, 1, 1, 17, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},     /* 1x1 spatial */
      {1, 8, 13, 13, 33, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
      {1, 6, 9, 11, 7, 1, 1, 2, 2, 0, 0, 0, 0, 1, 1, 1},     /* 1x1 stride 2 */
      {1, 3, 13, 13, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* 3x3 same */
      {1, 4, 17, 15, 8, 3, 3, 2, 2, 1, 1, 0, 1, 1, 1, 1},    /* 3x3 s2 asymmetric pad */
      {2, 5, 12, 10, 9, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1},    /* valid */
      {1, 3, 14, 16, 5, 5, 5, 1, 1, 4, 4, 4, 4, 2, 2, 1},    /* dilation 2 */
      {1, 2, 11, 20, 3, 1, 7, 1, 1, 0, 3, 0, 3, 1, 1, 1},    /* 1x7 */
      {1, 2, 20, 11, 3, 7, 1, 1, 1, 3, 0, 3, 0, 1, 1, 1},    /* 7x1 */
      {1, 8, 9, 9, 12, 3, 3, 1, 2, 1, 0, 1, 2, 1, 1, 4},     /* grouped */
      {1, 4, 7, 7, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4},      /* depthwise with multiplier 2 */
      {1, 7, 13, 13, 7, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 7},    /* depthwise 3x3 */
      {2, 5, 17, 33, 5, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 5},    /* depthwise s2 */
      {1, 3, 17, 19, 3, 5, 5, 1, 1, 4, 4, 4, 4, 2, 2, 3},    /* depthwise dilated */
      {1, 3, 20, 23, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 3},    /* depthwise s3 */
      {1, 4, 5, 3, 4, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 4},      /* depthwise tiny */
      {1, 6, 12, 21, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 6},    /* depthwise 3x3, rows in pairs, 5-wide tail */
      {1, 3, 15, 18, 3, 3, 3, 2, 2, 2, 2, 2, 2, 2, 2, 3},    /* depthwise 3x3 s2 d2: row pairs with sh == dh */
      {1, 3, 9, 12, 3, 3, 5, 2, 1, 0, 2, 2, 1, 1, 1, 3},     /* depthwise asymmetric */
      {1, 2, 300, 250, 2, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2}, /* depthwise plane larger than rt_abuf: row blocks */
      {2, 6, 14, 14, 6, 5, 5, 1, 1, 2, 2, 2, 2, 1, 1, 6},    /* depthwise 5x5 same, flat plane, batch 2 */
      {1, 5, 7, 7, 5, 3, 3, 1, 1, 0, 2, 2, 0, 1, 1, 5},      /* flat plane, same padding split unevenly */
      {1, 3, 1, 17, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 3},     /* flat plane of one row */
      {1, 4, 9, 7, 4, 5, 5, 1, 1, 4, 0, 0, 4, 1, 1, 4},      /* flat 5x5, all padding on one side */
      {1, 6, 14, 14, 6, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 6},    /* depthwise 5x5 s2: parity planes */
      {1, 4, 15, 13, 4, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 4},    /* parity planes of odd sizes */
      {2, 3, 9, 10, 3, 5, 5, 2, 2, 1, 2, 2, 1, 1, 1, 3},     /* parity planes, uneven padding, batch 2 */
      {1, 2, 301, 251, 2, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 2}, /* the same, stride 2 */
      {1, 1, 400, 200, 1, 5, 5, 1, 1, 4, 4, 4, 4, 2, 2, 1}, /* row blocks, dilated 5x5 */
      {1, 1, 3, 20000, 1, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1}, /* a row too wide for rt_abuf: the direct version */
      {1, 16, 8, 8, 20, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* K = 144 */
      {1, 32, 10, 12, 11, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},  /* crs 288: two k blocks */
      {1, 64, 6, 7, 10, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* crs 576: three k blocks, 7-wide rows */
      {1, 6, 19, 23, 12, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* 437 pixels: several 128-column blocks */
      {1, 64, 9, 9, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2},    /* grouped pointwise */
      {1, 12, 30, 30, 10, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},  /* stride 2, full 8-pixel runs */
      {1, 5, 9, 40, 10, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 1},    /* 2x2 valid, no padding */
  };
  size_t nc = sizeof cfgs / sizeof cfgs[0];
  RtAct none = make_act(RT_ACT_NONE);
  for (size_t i = 0; i < nc; i++) {
    conv_case(&cfgs[i], 0, 0, none, 0);
    conv_case(&cfgs[i], 1, 1, make_act(RT_ACT_RELU), 0);
    conv_case(&cfgs[i], 1, 0, make_act((int)(i % (RT_ACT_COUNT - 1)) + 1), 0);
  }
  for (int kind = 2; kind < RT_ACT_COUNT; kind++) {
    conv_case(&cfgs[4], 1, 1, make_act(kind), 0);
    conv_case(&cfgs[12], 1, 1, make_act(kind), 0);
  }
  conv_case(&cfgs[4], 1, 1, none, 1); /* no scratch -> scalar fallback */
  for (size_t i = 0; i < nc; i += 3) conv_case(&cfgs[i], 1, 1, make_act(RT_ACT_SILU), 2); /* y == res */
  for (size_t i = nc - 6; i < nc; i++) { /* y == res across k blocks, with the micro-kernel's own epilogue */
    conv_case(&cfgs[i], 1, 1, make_act(RT_ACT_RELU), 2);
    conv_case(&cfgs[i], 0, 1, make_act(RT_ACT_CLIP), 2);
  }
  /* an input channel scale (a folded squeeze-excite gate): pointwise convs take the fast path (batch 2 with
   * a gate per image or one shared, K over two k blocks, a right-edge strip); others the scalar one */
  static const ConvCfg xcfgs[] = {
      {1, 5, 7, 9, 13, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
      {2, 3, 1, 1, 17, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
      {2, 300, 5, 7, 12, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},
      {2, 300, 1, 1, 48, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},   /* 1x1 image: the matrix-vector path */
      {1, 37, 1, 1, 11, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},    /* the same, C not a multiple of 4 */
      {1, 64, 9, 9, 16, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 2},     /* grouped: scalar */
      {1, 3, 13, 13, 17, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},   /* 3x3: scalar */
  };
  for (int mode = 1; mode <= 2; mode++) {
    g_conv_xscale = mode;
    for (size_t i = 0; i < sizeof xcfgs / sizeof xcfgs[0]; i++) {
      conv_case(&xcfgs[i], 1, 0, make_act(RT_ACT_SILU), 0);
      conv_case(&xcfgs[i], 1, 1, none, 2);
    }
  }
  g_conv_xscale = 0;
}

/* ------------------------------------------------------------------ Winograd conv */

/* Winograd F(m x m, 3x3) (weights transformed by rt_pack_wino_weights) against the textbook convolution in
 * double. Tolerance: the direct conv's bound (ACC_RTOL * (|v| + sum |terms|)) times WINO_TOL[m]: the
 * transforms add and scale partial sums (B^T, A^T entries up to 5 and 8 for m = 4), so their rounding error
 * grows with the magnitudes inside the tile, not with the final value. mode: 0 exact scratch, 1 none
 * (scalar fallback), 2 y == res. */
static double g_wino_worst[5];
static void wino_case(int n, int c, int h, int w, int k, int pt, int pl, int pb, int pr, int m, int bias, int res,
                      RtAct act, int mode, int tile_rows) {
  static const double WINO_TOL[5] = {0, 0, 1, 0, 2};
  int oh = h + pt + pb - 2, ow = w + pl + pr - 2;
  size_t nx = (size_t)n * c * h * w, nw = (size_t)k * c * 9, ny = (size_t)n * k * oh * ow;
  float *x = frand_buf(nx, -1, 1), *wt = frand_buf(nw, -1, 1);
  float *bi = bias ? frand_buf((size_t)k, -1, 1) : 0, *rs = res ? frand_buf(ny, -1, 1) : 0;
  float *ys = fbuf(ny), *yv = fbuf(ny), *ref = fbuf(ny), *tol = fbuf(ny);
  size_t nu = rt_wino_packed_floats(k, c, m, RT_CONV_PACK_MR);
  float *u = fbuf(nu);
  rt_pack_wino_weights(wt, u, k, c, m, RT_CONV_PACK_MR);
  { /* the kernel a module runs when it starts (rt_wino_pack_f32) writes every float, the same as the compiler's */
    float *u2 = frand_buf(nu, -9, 9);
    RtWinoPack wp = {A(wt), A(u2), k, c, m};
    rt_wino_pack_f32(&wp);
    size_t bad = 0;
    for (size_t i = 0; i < nu; i++) bad += memcmp(&u[i], &u2[i], 4) != 0;
    char nm[96];
    snprintf(nm, sizeof nm, "wino_pack[k%d c%d m%d] == rt_pack_wino_weights", k, c, m);
    if (bad) { printf("FAIL %s: %zu of %zu floats differ\n", nm, bad, nu); g_fail++; } else g_pass++;
    free(u2);
  }
  if (tile_rows <= 0) tile_rows = rt_conv_wino_tile_rows(c, k, oh, ow, m);
  uint32_t sf = mode == 1 ? 0 : rt_conv_wino_scratch_floats(c, k, w, ow, m, tile_rows);
  float *scr = sf ? fbuf(sf) : 0;
  for (int ni = 0; ni < n; ni++)
    for (int ko = 0; ko < k; ko++)
      for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
          double s = 0, mag = 0;
          for (int ci = 0; ci < c; ci++)
            for (int ky = 0; ky < 3; ky++)
              for (int kx = 0; kx < 3; kx++) {
                int iy = oy - pt + ky, ix = ox - pl + kx;
                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                double t = (double)x[(((size_t)ni * c + ci) * h + iy) * w + ix] * wt[(((size_t)ko * c + ci) * 3 + ky) * 3 + kx];
                s += t;
                mag += fabs(t);
              }
          size_t o = (((size_t)ni * k + ko) * oh + oy) * ow + ox;
          if (bi) { s += bi[ko]; mag += fabs(bi[ko]); }
          if (rs) { s += rs[o]; mag += fabs(rs[o]); }
          finish(act, s, WINO_TOL[m] * ACC_RTOL * (fabs(s) + mag), &ref[o], &tol[o]);
        }
  RtConvWino p = {A(x), A(u), bi ? A(bi) : 0, rs ? A(rs) : 0, A(ys), scr ? A(scr) : 0, n, c, h, w, k, oh, ow, pt, pl,
                  m, tile_rows, sf * 4, act};
  if (mode == 2) { rt_memcpy(ys, rs, ny * 4); rt_memcpy(yv, rs, ny * 4); p.res = A(ys); }
  rt_conv_wino_f32__scalar(&p);
  p.y = A(yv);
  if (mode == 2) p.res = A(yv);
  rt_conv_wino_f32__simd128(&p);
  char name[200];
  snprintf(name, sizeof name, "conv_wino[F(%dx%d,3x3) n%d c%d %dx%d k%d p%d,%d,%d,%d rows%d bias=%d res=%d %s%s]", m, m,
           n, c, h, w, k, pt, pl, pb, pr, tile_rows, bias, res, act_names[act.kind],
           mode == 1 ? " no-scratch" : mode == 2 ? " in-place" : "");
  check3(name, ys, yv, ref, tol, ny);
  for (size_t i = 0; i < ny; i++) { /* error in units of the direct conv's bound, for the summary line */
    double t = tol[i] / WINO_TOL[m], e = fabs((double)yv[i] - ref[i]);
    if (act.kind == RT_ACT_NONE && t > 0 && e / t > g_wino_worst[m]) g_wino_worst[m] = e / t;
  }
  if (scr && !guard_ok(scr, sf)) { g_fail++; printf("FAIL %s scratch overrun\n", name); }
  free(x); free(wt); free(bi); free(rs); free(ys); free(yv); free(ref); free(tol); free(u); free(scr);
}

static void test_conv_wino(void) {
  static const int shapes[][9] = {
      /* n  c   h   w   k  pt pl pb pr */
      {1, 1, 3, 3, 1, 0, 0, 0, 0},     /* one output */
      {1, 3, 5, 7, 2, 1, 1, 1, 1},     /* odd H/W, Cin/Cout < 4 */
      {1, 5, 9, 11, 7, 1, 1, 1, 1},    /* not multiples of 4/8 */
      {2, 4, 8, 8, 6, 1, 1, 1, 1},     /* batch 2 */
      {1, 6, 10, 13, 9, 0, 0, 0, 0},   /* valid */
      {1, 7, 12, 9, 13, 1, 0, 0, 1},   /* asymmetric padding */
      {1, 9, 17, 19, 11, 2, 2, 2, 2},  /* padding 2 */
      {1, 16, 14, 14, 24, 1, 1, 1, 1}, /* 14x14: partial tile groups */
      {1, 33, 7, 7, 21, 1, 1, 1, 1},   /* 7x7 */
      {1, 300, 6, 6, 12, 1, 1, 1, 1},  /* c > 256: two k blocks of the GEMM */
      {1, 8, 29, 37, 8, 1, 1, 1, 1},   /* several tile groups per row and blocks */
      {1, 2, 4, 40, 3, 1, 1, 1, 1},    /* wide */
  };
  RtAct none = make_act(RT_ACT_NONE), relu = make_act(RT_ACT_RELU);
  for (int m = 2; m <= 4; m += 2)
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
      const int *s = shapes[i];
      wino_case(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], m, 0, 0, none, 0, 0);
      wino_case(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], m, 1, 1, relu, 0, 1);
      wino_case(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], m, 1, 0, make_act((int)(i % (RT_ACT_COUNT - 1)) + 1), 0, 2);
      if (i % 3 == 0) wino_case(s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], s[8], m, 1, 1, relu, 2, 0);
    }
  wino_case(1, 5, 9, 11, 7, 1, 1, 1, 1, 2, 1, 1, relu, 1, 0); /* no scratch: scalar path */
  wino_case(1, 5, 9, 11, 7, 1, 1, 1, 1, 4, 1, 1, make_act(RT_ACT_CLIP), 1, 0);
  for (int m = 2; m <= 4; m += 2) /* resnet-like sizes */
    wino_case(1, 64, 28, 28, 64, 1, 1, 1, 1, m, 1, 1, relu, 0, 0);
  printf("INFO conv_wino worst error / direct-conv bound (no activation): F(2x2,3x3) %.3g, F(4x4,3x3) %.3g\n",
         g_wino_worst[2], g_wino_worst[4]);
}

/* ------------------------------------------------------------------ pool */

typedef struct { int planes, h, w, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw; } PoolCfg;
static void q_check(const char *name, const char *what, const void *got, const void *ref, size_t n);
static void *q_buf(size_t bytes);

static void pool_case(const PoolCfg *g, int kind, int count_pad) {
  int oh = (g->h + g->pt + g->pb - ((g->kh - 1) * g->dh + 1)) / g->sh + 1;
  int ow = (g->w + g->pl + g->pr - ((g->kw - 1) * g->dw + 1)) / g->sw + 1;
  size_t nx = (size_t)g->planes * g->h * g->w, ny = (size_t)g->planes * oh * ow;
  float *x = frand_buf(nx, -2, 2), *ys = fbuf(ny), *yv = fbuf(ny), *ref = fbuf(ny), *tol = fbuf(ny);
  for (int pl = 0; pl < g->planes; pl++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++) {
        double m = -INFINITY, s = 0, mag = 0;
        int cnt = 0;
        for (int ky = 0; ky < g->kh; ky++)
          for (int kx = 0; kx < g->kw; kx++) {
            int iy = oy * g->sh - g->pt + ky * g->dh, ix = ox * g->sw - g->pl + kx * g->dw;
            if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
            double v = x[((size_t)pl * g->h + iy) * g->w + ix];
            m = fmax(m, v);
            s += v;
            mag += fabs(v);
            cnt++;
          }
        size_t o = ((size_t)pl * oh + oy) * ow + ox;
        double r = kind == 0 ? (cnt ? m : 0) : (cnt ? s / (count_pad ? g->kh * g->kw : cnt) : 0);
        ref[o] = (float)r;
        tol[o] = (float)(kind == 0 ? 1e-30 : 2e-6 * (fabs(r) + mag / (cnt ? cnt : 1)) + 1e-30);
      }
  RtPool2d p = {A(x), A(ys), g->planes, g->h, g->w, oh, ow, g->kh, g->kw, g->sh, g->sw, g->pt, g->pl, g->dh, g->dw,
                kind, count_pad, 0};
  rt_pool2d_f32__scalar(&p);
  p.y = A(yv);
  rt_pool2d_f32__simd128(&p);
  char name[200];
  snprintf(name, sizeof name, "pool2d[%s%s planes%d %dx%d k%dx%d s%d,%d p%d,%d,%d,%d d%d,%d]",
           kind ? "avg" : "max", kind ? (count_pad ? " count_pad" : " no_pad") : "", g->planes, g->h, g->w, g->kh,
           g->kw, g->sh, g->sw, g->pt, g->pl, g->pb, g->pr, g->dh, g->dw);
  check3(name, ys, yv, ref, tol, ny);
  if (kind == 0)   /* MaxPool over uint8 and int8 (rt_maxpool_8): the float reference of the same integers */
    for (int s8 = 0; s8 < 2; s8++) {
      uint8_t *xq = q_buf(nx), *y8s = q_buf(ny), *y8v = q_buf(ny), *r8 = q_buf(ny);
      for (size_t i = 0; i < nx; i++) xq[i] = (uint8_t)rnd_int(0, 255);
      float *xf = fbuf(nx), *rf = fbuf(ny);
      for (size_t i = 0; i < nx; i++) xf[i] = s8 ? (float)(int8_t)xq[i] : (float)xq[i];
      RtPool2d pf = p;
      pf.x = A(xf);
      pf.y = A(rf);
      rt_pool2d_f32__scalar(&pf);
      for (size_t i = 0; i < ny; i++) r8[i] = (uint8_t)(int)rf[i];
      RtPool2d p8 = p;
      p8.x = A(xq);
      p8.y = A(y8s);
      p8.s8 = s8;
      rt_maxpool_8__scalar(&p8);
      p8.y = A(y8v);
      rt_maxpool_8__simd128(&p8);
      char n8[240];
      snprintf(n8, sizeof n8, "%s %s", name, s8 ? "int8" : "uint8");
      q_check(n8, "scalar==float reference", y8s, r8, ny);
      q_check(n8, "simd==scalar", y8v, y8s, ny);
      free(xq); free(y8s); free(y8v); free(r8); free(xf); free(rf);
    }
  free(x); free(ys); free(yv); free(ref); free(tol);
}

static void test_pool(void) {
  static const PoolCfg cfgs[] = {
      /* planes h  w  kh kw sh sw pt pl pb pr dh dw */
      {3, 8, 8, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1},
      {2, 13, 17, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},
      {2, 33, 33, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1},
      {1, 7, 5, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1},
      {2, 17, 19, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2},   /* dilation */
      {1, 9, 21, 1, 5, 1, 3, 0, 2, 0, 2, 1, 1},    /* 1x5 stride 3 */
      {2, 14, 14, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1},   /* extra bottom/right (ceil_mode-like) */
      {2, 9, 70, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1},    /* wide rows at stride 2: 16-output blocks (8-bit max) */
      {1, 5, 50, 2, 3, 1, 1, 1, 1, 0, 0, 1, 2},    /* dilated columns, stride 1 blocks */
      {1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1},
      {1, 5, 7, 5, 7, 1, 1, 0, 0, 0, 0, 1, 1},     /* window = whole input */
      {2, 12, 30, 2, 3, 2, 1, 1, 0, 0, 1, 1, 1},
      {2, 23, 41, 3, 3, 2, 2, 0, 0, 1, 1, 1, 1},   /* 3x3 s2 (the row-reduced path), ceil_mode-like */
      {1, 30, 57, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1},   /* 3x3 s2 padded */
      {2, 6, 11, 3, 3, 1, 1, 2, 2, 2, 2, 1, 1},    /* padding 2: border rows with one valid window row */
      {3, 27, 27, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1},   /* SqueezeNet's last max pool: 13 columns, 4-wide steps + 1 */
  };
  for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
    pool_case(&cfgs[i], 0, 0);
    pool_case(&cfgs[i], 1, 0);
    pool_case(&cfgs[i], 1, 1);
  }
}

static void test_global_pool(void) {
  static const int hws[] = {1, 3, 4, 5, 7, 8, 13, 17, 33, 49, 100};
  for (size_t i = 0; i < sizeof hws / sizeof hws[0]; i++) {
    int planes = 3, hw = hws[i];
    size_t nx = (size_t)planes * hw;
    float *x = frand_buf(nx, -2, 2), *ys = fbuf((size_t)planes), *yv = fbuf((size_t)planes);
    float *ref = fbuf((size_t)planes), *tol = fbuf((size_t)planes);
    for (int p = 0; p < planes; p++) {
      double s = 0, mag = 0;
      for (int j = 0; j < hw; j++) { s += x[p * hw + j]; mag += fabs(x[p * hw + j]); }
      ref[p] = (float)(s / hw);
      tol[p] = (float)(ACC_RTOL * (fabs(s) + mag) / hw + 1e-30);
    }
    RtGlobalPool p = {A(x), A(ys), planes, hw};
    rt_global_pool_f32__scalar(&p);
    p.y = A(yv);
    rt_global_pool_f32__simd128(&p);
    char name[64];
    snprintf(name, sizeof name, "global_pool[planes=3 hw=%d]", hw);
    check3(name, ys, yv, ref, tol, (size_t)planes);
    free(x); free(ys); free(yv); free(ref); free(tol);
  }
}

/* ------------------------------------------------------------------ softmax */

static void softmax_case(int outer, int n, int inner, int lg, float range) {
  size_t nt = (size_t)outer * n * inner;
  float *x = frand_buf(nt, -range, range), *ys = fbuf(nt), *yv = fbuf(nt), *ref = fbuf(nt), *tol = fbuf(nt);
  for (int o = 0; o < outer; o++)
    for (int j = 0; j < inner; j++) {
      double m = -INFINITY, s = 0;
      for (int i = 0; i < n; i++) m = fmax(m, x[((size_t)o * n + i) * inner + j]);
      for (int i = 0; i < n; i++) s += exp(x[((size_t)o * n + i) * inner + j] - m);
      int first = -1;                                  /* hardmax: the first index holding the maximum */
      for (int i = 0; i < n && first < 0; i++) if (x[((size_t)o * n + i) * inner + j] == m) first = i;
      for (int i = 0; i < n; i++) {
        size_t q = ((size_t)o * n + i) * inner + j;
        double r = lg == 2 ? (i == first) : lg ? x[q] - m - log(s) : exp(x[q] - m) / s;
        ref[q] = (float)r;
        tol[q] = (float)(lg == 2 ? 0.0 : lg ? 2e-6 * (fabs(r) + fabs(m) + 1.0) : 2e-6 * r + 1e-30);
      }
    }
  RtSoftmax p = {A(x), A(ys), outer, n, inner, lg};
  rt_softmax_f32__scalar(&p);
  p.y = A(yv);
  rt_softmax_f32__simd128(&p);
  char name[96];
  snprintf(name, sizeof name, "softmax[%d x %d x %d %s range=%g]", outer, n, inner, lg == 2 ? "hardmax" : lg ? "log" : "plain", range);
  check3(name, ys, yv, ref, tol, nt);
  free(x); free(ys); free(yv); free(ref); free(tol);
}

static void test_softmax(void) {
  static const int ns[] = {1, 3, 4, 5, 7, 8, 13, 17, 33, 100}, inners[] = {1, 2, 3, 4, 5, 7};
  for (int lg = 0; lg < 2; lg++)
    for (size_t i = 0; i < 10; i++)
      for (size_t j = 0; j < 6; j++) {
        if (j > 1 && (i + j) % 2) continue;
        softmax_case(i % 3 + 1, ns[i], inners[j], lg, 4.0f);
      }
  softmax_case(3, 17, 1, 2, 4.0f);  /* hardmax */
  softmax_case(2, 5, 7, 2, 4.0f);
  softmax_case(2, 33, 1, 0, 60.0f); /* large logits: stability */
  softmax_case(2, 33, 5, 1, 60.0f);
  /* in place through the entry point */
  float *x = frand_buf(40, -3, 3), *y = fbuf(40), *tol = fbuf(40);
  for (int i = 0; i < 40; i++) tol[i] = 2e-6f;
  RtSoftmax ps = {A(x), A(y), 2, 20, 1, 0}, pi = {A(x), A(x), 2, 20, 1, 0};
  rt_softmax_f32__scalar(&ps);
  rt_softmax_f32(&pi);
  check("softmax[2 x 20 x 1 in-place]", "entry~scalar", x, y, tol, 1.0f, 40);
  free(x); free(y); free(tol);
}

/* ------------------------------------------------------------------ layout */

static void transpose_case(int rank, const int *shape, const int *perm, int esize) {
  size_t total = 1, xs[RT_MAX_RANK];
  for (int d = rank - 1; d >= 0; d--) { xs[d] = total; total *= (size_t)shape[d]; }
  size_t bytes = total * (size_t)esize;
  unsigned char *x = malloc(bytes + 1), *ys = malloc(bytes + 1), *yv = malloc(bytes + 1), *ref = malloc(bytes + 1);
  for (size_t i = 0; i < bytes; i++) x[i] = (unsigned char)rnd_u32();
  RtTranspose p;
  memset(&p, 0, sizeof p);
  p.esize = esize;
  p.rank = rank;
  for (int d = 0; d < rank; d++) { p.dim[d] = shape[perm[d]]; p.xstride[d] = (int32_t)xs[perm[d]]; }
  /* naive: y index -> x index through the permutation */
  for (size_t i = 0; i < total; i++) {
    size_t r = i, xo = 0;
    for (int d = rank - 1; d >= 0; d--) {
      size_t ix = r % (size_t)p.dim[d];
      r /= (size_t)p.dim[d];
      xo += ix * xs[perm[d]];
    }
    memcpy(ref + i * esize, x + xo * esize, (size_t)esize);
  }
  ys[bytes] = yv[bytes] = 0x5a;
  p.x = A(x);
  p.y = A(ys);
  rt_transpose__scalar(&p);
  p.y = A(yv);
  rt_transpose__simd128(&p);
  char name[128], s[64] = "", *q = s;
  for (int d = 0; d < rank; d++) q += snprintf(q, 16, "%d%s", shape[d], d + 1 < rank ? "x" : "");
  q += snprintf(q, 8, " perm");
  for (int d = 0; d < rank; d++) q += snprintf(q, 8, "%d", perm[d]);
  snprintf(name, sizeof name, "transpose[%s esize=%d]", s, esize);
  check_bytes(name, "scalar~naive", ys, ref, bytes);
  check_bytes(name, "simd~naive", yv, ref, bytes);
  int gok = ys[bytes] == 0x5a && yv[bytes] == 0x5a;
  report(gok, name, "guard", 0);
  free(x); free(ys); free(yv); free(ref);
}

static void test_layout(void) {
  static const int es[] = {1, 2, 4, 8};
  int nchw[4] = {2, 5, 7, 9}, p0231[4] = {0, 2, 3, 1}, p0312[4] = {0, 3, 1, 2};
  int sq[2] = {12, 8}, p10[2] = {1, 0}, odd[2] = {13, 17}, m4[3] = {3, 16, 12}, p021[3] = {0, 2, 1};
  for (int e = 0; e < 4; e++) {
    transpose_case(4, nchw, p0231, es[e]);
    transpose_case(4, nchw, p0312, es[e]);
    transpose_case(2, sq, p10, es[e]);
    transpose_case(2, odd, p10, es[e]);
    transpose_case(3, m4, p021, es[e]);
  }
  for (int r = 0; r < 12; r++) { /* random permutations, ranks 1..6 */
    int rank = 1 + r % RT_MAX_RANK, shape[RT_MAX_RANK], perm[RT_MAX_RANK];
    for (int d = 0; d < rank; d++) { shape[d] = rnd_int(1, rank > 3 ? 4 : 9); perm[d] = d; }
    for (int d = rank - 1; d > 0; d--) { int j = rnd_int(0, d), t = perm[d]; perm[d] = perm[j]; perm[j] = t; }
    transpose_case(rank, shape, perm, es[r % 4]);
  }
  /* copy2d: rows into a wider destination (Concat) and the contiguous fast path */
  static const int cfg[][4] = {{5, 12, 20, 16}, {3, 7, 9, 7}, {4, 16, 16, 16}, {1, 3, 3, 3}, {6, 0, 8, 8}};
  for (size_t i = 0; i < sizeof cfg / sizeof cfg[0]; i++) {
    int rows = cfg[i][0], rb = cfg[i][1], ds = cfg[i][2], ss = cfg[i][3];
    size_t dn = (size_t)rows * ds + 8, sn = (size_t)rows * ss;
    unsigned char *d = malloc(dn), *ref = malloc(dn), *s = malloc(sn + 1);
    for (size_t j = 0; j < dn; j++) d[j] = ref[j] = (unsigned char)rnd_u32();
    for (size_t j = 0; j < sn; j++) s[j] = (unsigned char)rnd_u32();
    for (int r = 0; r < rows; r++) memcpy(ref + (size_t)r * ds, s + (size_t)r * ss, (size_t)rb);
    RtCopy2d p = {A(d), A(s), rows, rb, ds, ss};
    rt_copy2d(&p);
    char name[96];
    snprintf(name, sizeof name, "copy2d[rows=%d bytes=%d dst_stride=%d src_stride=%d]", rows, rb, ds, ss);
    check_bytes(name, "entry~naive", d, ref, dn);
    free(d); free(ref); free(s);
  }
  /* gather: negative and out-of-range indices */
  static const int gc[][4] = {{1, 7, 5, 4}, {3, 5, 1, 4}, {2, 6, 3, 8}, {2, 4, 7, 1}, {1, 10, 1, 2}};
  for (size_t i = 0; i < sizeof gc / sizeof gc[0]; i++) {
    int outer = gc[i][0], axis = gc[i][1], inner = gc[i][2], es1 = gc[i][3], nidx = 6;
    size_t blk = (size_t)inner * es1, xb = (size_t)outer * axis * blk, yb = (size_t)outer * nidx * blk;
    unsigned char *x = malloc(xb), *y = malloc(yb + 4), *ref = malloc(yb + 4);
    int64_t idx[6] = {0, (int64_t)axis - 1, -1, -(int64_t)axis, (int64_t)axis, 2 % axis};
    for (size_t j = 0; j < xb; j++) x[j] = (unsigned char)rnd_u32();
    memset(y, 0x77, yb + 4);
    memset(ref, 0x77, yb + 4);
    for (int o = 0; o < outer; o++)
      for (int j = 0; j < nidx; j++) {
        int64_t t = idx[j] < 0 ? idx[j] + axis : idx[j];
        unsigned char *dst = ref + ((size_t)o * nidx + j) * blk;
        if (t < 0 || t >= axis) memset(dst, 0, blk);
        else memcpy(dst, x + ((size_t)o * axis + (size_t)t) * blk, blk);
      }
    RtGather p = {A(x), A(idx), A(y), es1, outer, axis, inner, nidx};
    rt_gather(&p);
    char name[96];
    snprintf(name, sizeof name, "gather[outer=%d axis=%d inner=%d esize=%d]", outer, axis, inner, es1);
    check_bytes(name, "entry~naive", y, ref, yb + 4);
    free(x); free(y); free(ref);
  }
  /* gather_elements: ranks 1..6, every axis, indices dims at most data's (some smaller), int64 and int32
   * indices with negative and out-of-range values (-> 0), element sizes 1..8 */
  for (int c = 0; c < 48; c++) {
    int rank = 1 + c % RT_MAX_RANK, axis = rnd_int(0, rank - 1), es1 = es[c % 4], i64 = (c / 4) % 2;
    int xd[RT_MAX_RANK], yd[RT_MAX_RANK], xs[RT_MAX_RANK];
    size_t xn = 1, yn = 1;
    for (int d = rank - 1; d >= 0; d--) {
      xd[d] = rnd_int(1, rank > 4 ? 3 : 6);
      yd[d] = d == axis ? rnd_int(1, 7) : rnd_int(1, xd[d]);   /* along the axis any length */
      if (c % 5 == 0) yd[d] = d == axis ? yd[d] : xd[d];
      xs[d] = (int)xn;
      xn *= (size_t)xd[d];
      yn *= (size_t)yd[d];
    }
    unsigned char *x = malloc(xn * es1), *y = malloc(yn * es1 + 8), *ref = malloc(yn * es1 + 8);
    int64_t *idx = malloc(yn * 8);
    for (size_t j = 0; j < xn * es1; j++) x[j] = (unsigned char)rnd_u32();
    for (size_t j = 0; j < yn; j++) {
      int v = rnd_int(-xd[axis] - 1, xd[axis]);  /* -axis_n-1 and axis_n are out of range */
      if (i64) idx[j] = v;
      else ((int32_t *)idx)[j] = v;
    }
    memset(y, 0x77, yn * es1 + 8);
    memset(ref, 0x77, yn * es1 + 8);
    for (size_t j = 0; j < yn; j++) {
      size_t rem = j, off = 0;
      int64_t t = i64 ? idx[j] : ((int32_t *)idx)[j];
      if (t < 0) t += xd[axis];
      for (int d = rank - 1; d >= 0; d--) {
        size_t id = rem % (size_t)yd[d];
        rem /= (size_t)yd[d];
        off += (d == axis ? (size_t)t : id) * (size_t)xs[d];
      }
      if (t < 0 || t >= xd[axis]) memset(ref + j * es1, 0, (size_t)es1);
      else memcpy(ref + j * es1, x + off * es1, (size_t)es1);
    }
    RtGatherElements p = {A(x), A(idx), A(y), es1, i64, rank, axis, xd[axis], {0}, {0}};
    for (int d = 0; d < rank; d++) { p.dim[d] = yd[d]; p.xstride[d] = xs[d]; }
    rt_gather_elements(&p);
    char name[96];
    snprintf(name, sizeof name, "gather_elements[rank=%d axis=%d esize=%d %s]", rank, axis, es1, i64 ? "int64" : "int32");
    check_bytes(name, "entry~naive", y, ref, yn * es1 + 8);
    free(x); free(y); free(ref); free(idx);
  }
  /* scatter_elements: ranks 1..6, every axis, indices dims at most data's, int64/int32 indices with negative,
   * duplicate and out-of-range (skipped) values; reduction none on element sizes 1..8 (random bytes), the
   * reductions on float32/float64 (small integers, so sums and products are exact in any order) and int32/int64;
   * in place (x == y) every third case. Reference: the definition, one update at a time in index order. */
  for (int c = 0; c < 60; c++) {
    int rank = 1 + c % RT_MAX_RANK, axis = rnd_int(0, rank - 1), red = c % 5, i64 = (c / 5) % 2, inplace = c % 3 == 0;
    static const int rdt[4] = {1, 11, 6, 7};
    int dt = red ? rdt[(c / 10) % 4] : 0, es1 = red ? (dt == 1 || dt == 6 ? 4 : 8) : es[c % 4];
    int xd[RT_MAX_RANK], yd[RT_MAX_RANK], xs[RT_MAX_RANK];
    size_t xn = 1, yn = 1;
    for (int d = rank - 1; d >= 0; d--) {
      xd[d] = rnd_int(1, rank > 4 ? 3 : 5);
      yd[d] = d == axis ? rnd_int(1, 7) : rnd_int(1, xd[d]);
      xs[d] = (int)xn;
      xn *= (size_t)xd[d];
      yn *= (size_t)yd[d];
    }
    unsigned char *x = malloc(xn * es1 + 8), *u = malloc(yn * es1), *y = malloc(xn * es1 + 8), *ref = malloc(xn * es1 + 8);
    int64_t *idx = malloc(yn * 8);
    for (size_t j = 0; j < xn; j++) {
      if (dt == 1) ((float *)x)[j] = (float)rnd_int(-3, 3);
      else if (dt == 11) ((double *)x)[j] = rnd_int(-3, 3);
      else if (dt == 6) ((int32_t *)x)[j] = rnd_int(-3, 3);
      else if (dt == 7) ((int64_t *)x)[j] = rnd_int(-3, 3);
      else for (int b = 0; b < es1; b++) x[j * es1 + b] = (unsigned char)rnd_u32();
    }
    for (size_t j = 0; j < yn; j++) {
      if (dt == 1) ((float *)u)[j] = (float)rnd_int(-3, 3);
      else if (dt == 11) ((double *)u)[j] = rnd_int(-3, 3);
      else if (dt == 6) ((int32_t *)u)[j] = rnd_int(-3, 3);
      else if (dt == 7) ((int64_t *)u)[j] = rnd_int(-3, 3);
      else for (int b = 0; b < es1; b++) u[j * es1 + b] = (unsigned char)rnd_u32();
      int v = rnd_int(-xd[axis] - 1, xd[axis]);
      if (i64) idx[j] = v;
      else ((int32_t *)idx)[j] = v;
    }
    memset(x + xn * es1, 0x55, 8);
    memcpy(ref, x, xn * es1 + 8);
    memset(y, 0x55, xn * es1 + 8);
    for (size_t j = 0; j < yn; j++) {
      size_t rem = j, off = 0;
      int64_t t = i64 ? idx[j] : ((int32_t *)idx)[j];
      if (t < 0) t += xd[axis];
      if (t < 0 || t >= xd[axis]) continue;
      for (int d = rank - 1; d >= 0; d--) {
        size_t id = rem % (size_t)yd[d];
        rem /= (size_t)yd[d];
        off += (d == axis ? (size_t)t : id) * (size_t)xs[d];
      }
      if (!red) { memcpy(ref + off * es1, u + j * es1, (size_t)es1); continue; }
      double a, b;
      if (dt == 1) { a = ((float *)ref)[off]; b = ((float *)u)[j]; }
      else if (dt == 11) { a = ((double *)ref)[off]; b = ((double *)u)[j]; }
      else if (dt == 6) { a = ((int32_t *)ref)[off]; b = ((int32_t *)u)[j]; }
      else { a = (double)((int64_t *)ref)[off]; b = (double)((int64_t *)u)[j]; }
      double v = red == RT_SCATTER_ADD ? a + b : red == RT_SCATTER_MUL ? a * b : red == RT_SCATTER_MAX ? fmax(a, b) : fmin(a, b);
      if (dt == 1) ((float *)ref)[off] = (float)v;
      else if (dt == 11) ((double *)ref)[off] = v;
      else if (dt == 6) ((int32_t *)ref)[off] = (int32_t)v;
      else ((int64_t *)ref)[off] = (int64_t)v;
    }
    unsigned char *out = inplace ? x : y;
    RtScatterElements p = {A(x), A(idx), A(u), A(out), es1, i64, rank, axis, xd[axis], (int32_t)xn, red, dt, {0}, {0}};
    for (int d = 0; d < rank; d++) { p.dim[d] = yd[d]; p.ystride[d] = xs[d]; }
    rt_scatter_elements(&p);
    char name[112];
    snprintf(name, sizeof name, "scatter_elements[rank=%d axis=%d esize=%d %s red=%d dt=%d%s]", rank, axis, es1,
             i64 ? "int64" : "int32", red, dt, inplace ? " in-place" : "");
    check_bytes(name, "entry~naive", out, ref, xn * es1 + 8);
    free(x); free(u); free(y); free(ref); free(idx);
  }
  /* gather_nd / scatter_nd: data of rank 1..5, indices of rank 1..3 whose last dim k picks data dims [b, b+k),
   * batch_dims b (gather only), negative and out-of-range entries (gather -> zeros, scatter -> skipped), repeated
   * tuples (scatter: applied in order). Reference: every output / update element mapped to its data coordinates
   * one at a time. */
  for (int c = 0; c < 80; c++) {
    int scatter = c % 2, r = 1 + c % 5, q = 1 + (c / 5) % 3;
    int b = scatter ? 0 : rnd_int(0, (q < r ? q : r) - 1);
    int k = rnd_int(1, r - b), red = scatter ? (c / 2) % 5 : 0, dt = red ? 1 : 0, es1 = red ? 4 : es[(c / 3) % 4];
    int xd[8], id[4], inner = 1, nb = 1, nidx = 1;
    size_t xn = 1;
    for (int d = 0; d < r; d++) { xd[d] = rnd_int(1, 4); xn *= (size_t)xd[d]; }
    for (int d = 0; d < q - 1; d++) id[d] = d < b ? xd[d] : rnd_int(1, 4);
    id[q - 1] = k;
    for (int d = 0; d < b; d++) nb *= xd[d];
    for (int d = b; d < q - 1; d++) nidx *= id[d];
    for (int d = b + k; d < r; d++) inner *= xd[d];
    size_t ntup = (size_t)nb * (size_t)nidx, un = ntup * (size_t)inner;   /* output / updates elements */
    int64_t *idx = malloc(ntup * (size_t)k * 8 + 8);
    for (size_t t = 0; t < ntup; t++)
      for (int j = 0; j < k; j++) idx[t * k + j] = rnd_int(-xd[b + j], xd[b + j] - 1) + (rnd_int(0, 19) == 0 ? xd[b + j] : 0);
    if (scatter && ntup > 1) for (int j = 0; j < k; j++) idx[k + j] = idx[j];   /* a repeated tuple */
    unsigned char *x = malloc(xn * es1 + 8), *u = malloc(un * es1 + 8);
    size_t yn = scatter ? xn : un;
    unsigned char *y = malloc(yn * es1 + 8), *ref = malloc(yn * es1 + 8);
    for (size_t j = 0; j < xn; j++) {
      if (dt) ((float *)x)[j] = (float)rnd_int(-3, 3);
      else for (int e = 0; e < es1; e++) x[j * es1 + e] = (unsigned char)rnd_u32();
    }
    for (size_t j = 0; j < un; j++) {
      if (dt) ((float *)u)[j] = (float)rnd_int(-3, 3);
      else for (int e = 0; e < es1; e++) u[j * es1 + e] = (unsigned char)rnd_u32();
    }
    memset(y, 0x66, yn * es1 + 8);
    memset(ref, 0x66, yn * es1 + 8);
    if (scatter) memcpy(ref, x, xn * es1);
    for (size_t o = 0; o < un; o++) {       /* element o of the output (gather) / updates (scatter) */
      size_t t = o / (size_t)inner, e = o % (size_t)inner, bi = t / (size_t)nidx;
      long coord[8];
      size_t rem = bi;
      for (int d = b - 1; d >= 0; d--) { coord[d] = (long)(rem % (size_t)xd[d]); rem /= (size_t)xd[d]; }
      int valid = 1;
      for (int j = 0; j < k; j++) {
        long v = (long)idx[t * k + j];
        if (v < 0) v += xd[b + j];
        if (v < 0 || v >= xd[b + j]) valid = 0;
        coord[b + j] = v;
      }
      rem = e;
      for (int d = r - 1; d >= b + k; d--) { coord[d] = (long)(rem % (size_t)xd[d]); rem /= (size_t)xd[d]; }
      size_t off = 0;
      for (int d = 0; d < r; d++) off = off * (size_t)xd[d] + (size_t)coord[d];
      if (!scatter) {
        if (valid) memcpy(ref + o * es1, x + off * es1, (size_t)es1);
        else memset(ref + o * es1, 0, (size_t)es1);
      } else if (valid) {
        if (!red) { memcpy(ref + off * es1, u + o * es1, (size_t)es1); continue; }
        double a = ((float *)ref)[off], v = ((float *)u)[o];
        ((float *)ref)[off] = (float)(red == RT_SCATTER_ADD ? a + v : red == RT_SCATTER_MUL ? a * v : red == RT_SCATTER_MAX ? fmax(a, v) : fmin(a, v));
      }
    }
    RtIndexND p = {A(x), A(idx), A(u), A(y), es1, k, nb, nidx, inner, (int32_t)(xn / (size_t)nb), (int32_t)xn, red, dt ? 1 : 0, {0}, {0}};
    for (int j = k - 1, s = inner; j >= 0; s *= xd[b + j], j--) { p.dim[j] = xd[b + j]; p.stride[j] = s; }
    if (scatter) rt_scatter_nd(&p);
    else rt_gather_nd(&p);
    char name[112];
    snprintf(name, sizeof name, "%s[r=%d q=%d b=%d k=%d esize=%d red=%d]", scatter ? "scatter_nd" : "gather_nd", r, q, b, k, es1, red);
    check_bytes(name, "entry~naive", y, ref, yn * es1 + 8);
    free(x); free(u); free(y); free(ref); free(idx);
  }
}

/* ------------------------------------------------------------------ pad */

/* naive source index of a padded cell: reflect/wrap stepped one bounce / period at a time */
static long pad_naive_src(long i, long n, int mode) {
  if (i >= 0 && i < n) return i;
  if (n == 0 || mode == RT_PAD_CONSTANT) return -1;
  if (mode == RT_PAD_EDGE) return i < 0 ? 0 : n - 1;
  if (mode == RT_PAD_WRAP) {
    while (i < 0) i += n;
    while (i >= n) i -= n;
    return i;
  }
  if (n == 1) return 0;
  while (i < 0 || i >= n) {
    if (i < 0) i = -i;
    if (i >= n) i = 2 * (n - 1) - i;
  }
  return i;
}

static const char *pad_modes[4] = {"constant", "edge", "reflect", "wrap"};

/* x is a crop of a larger dense tensor (its strides are the full tensor's) unless dense; pads up to 5 (past
 * the dim for reflect/wrap) */
static void pad_case(int rank, int mode, int es1, int dense, int empty) {
  int fx[RT_MAX_RANK], xd[RT_MAX_RANK], c0[RT_MAX_RANK], pb[RT_MAX_RANK], yd[RT_MAX_RANK], xs[RT_MAX_RANK];
  size_t fn = 1, yn = 1, start = 0;
  for (int d = rank - 1; d >= 0; d--) {
    fx[d] = rnd_int(1, rank > 4 ? 4 : 7);
    c0[d] = dense ? 0 : rnd_int(0, fx[d] - 1);
    xd[d] = dense ? fx[d] : rnd_int(1, fx[d] - c0[d]);
    if (empty && d == rank - 1 && mode == RT_PAD_CONSTANT) xd[d] = 0;
    pb[d] = rnd_int(0, 5);
    yd[d] = pb[d] + xd[d] + rnd_int(0, 5);
    xs[d] = (int)fn;
    start += (size_t)c0[d] * fn;
    fn *= (size_t)fx[d];
    yn *= (size_t)yd[d];
  }
  unsigned char *x = malloc(fn * es1 + 1), *y = malloc(yn * es1 + 8), *ref = malloc(yn * es1 + 8), val[8];
  for (size_t j = 0; j < fn * es1; j++) x[j] = (unsigned char)rnd_u32();
  for (int b = 0; b < 8; b++) val[b] = b < es1 && !(rank % 2 && mode == RT_PAD_CONSTANT) ? (unsigned char)rnd_u32() : 0;
  memset(y, 0x77, yn * es1 + 8);
  memset(ref, 0x77, yn * es1 + 8);
  for (size_t j = 0; j < yn; j++) {
    size_t rem = j, off = start;
    int fill = 0;
    for (int d = rank - 1; d >= 0; d--) {
      long i = (long)(rem % (size_t)yd[d]) - pb[d], s = pad_naive_src(i, xd[d], mode);
      rem /= (size_t)yd[d];
      if (s < 0) fill = 1;
      else off += (size_t)s * (size_t)xs[d];
    }
    memcpy(ref + j * es1, fill ? val : x + off * es1, (size_t)es1);
  }
  RtPad p = {A(x + start * es1), A(y), es1, rank, mode, {0, 0}, {0}, {0}, {0}, {0}};
  memcpy(p.value, val, 8);
  for (int d = 0; d < rank; d++) { p.dim[d] = yd[d]; p.xdim[d] = xd[d]; p.xstride[d] = xs[d]; p.pb[d] = pb[d]; }
  rt_pad(&p);
  char name[112];
  snprintf(name, sizeof name, "pad[%s rank=%d esize=%d%s%s]", pad_modes[mode], rank, es1, dense ? "" : " cropped",
           empty ? " empty last dim" : "");
  check_bytes(name, "entry~naive", y, ref, yn * es1 + 8);
  free(x); free(y); free(ref);
}

static void test_pad(void) {
  static const int es[] = {1, 2, 4, 8};
  for (int mode = 0; mode < 4; mode++)
    for (int c = 0; c < 24; c++) pad_case(1 + c % RT_MAX_RANK, mode, es[(c / 3) % 4], c % 2, 0);
  pad_case(3, RT_PAD_CONSTANT, 4, 1, 1);
  pad_case(2, RT_PAD_CONSTANT, 8, 0, 1);
  /* reflect and wrap of a 1-element dim, pads far past it */
  int x[1] = {42}, y[9];
  for (int mode = RT_PAD_EDGE; mode <= RT_PAD_WRAP; mode++) {
    RtPad p = {A(x), A(y), 4, 1, mode, {0, 0}, {9}, {1}, {1}, {4}};
    rt_pad(&p);
    int ok = 1;
    for (int i = 0; i < 9; i++) ok &= y[i] == 42;
    char name[64];
    snprintf(name, sizeof name, "pad[%s of a 1-element dim]", pad_modes[mode]);
    report(ok, name, "exact", ok ? 0.0 : 1e9);
  }
}

/* ------------------------------------------------------------------ reduce */

static const char *red_names[RT_RED_COUNT] = {"sum", "mean", "max", "min", "sumsq",
                                              "prod", "l1", "l2", "logsum", "logsumexp"};

/* Naive reduction of n doubles `stride` apart (log-sum-exp max-shifted, in long double); *mag gets a scale for
 * the error bound: the sum of |terms| of the accumulation (sums), or |result| (the rest). */
static double red_naive(int op, const double *x, int n, int stride, double *mag) {
  long double acc = op == RT_RED_MAX ? -INFINITY : op == RT_RED_MIN ? INFINITY : op == RT_RED_PROD ? 1 : 0, m = 0;
  double a = 0;
  int nan = 0;
  for (int i = 0; i < n; i++) {
    double v = x[(size_t)i * stride];
    if (isnan(v)) nan = 1;
    switch (op) {
    case RT_RED_MAX: if (v > acc) acc = v; break;
    case RT_RED_MIN: if (v < acc) acc = v; break;
    case RT_RED_SUMSQ: case RT_RED_L2: acc += (long double)v * v; a += v * v; break;
    case RT_RED_PROD: acc *= v; break;
    case RT_RED_L1: acc += fabs(v); a += fabs(v); break;
    case RT_RED_LOGSUMEXP: if (i == 0 || v > m) m = v; break;
    default: acc += v; a += fabs(v); break;
    }
  }
  double r;
  switch (op) {
  case RT_RED_MAX: case RT_RED_MIN: r = nan ? NAN : (double)acc; break;
  case RT_RED_MEAN: r = n ? (double)(acc / n) : 0; a = n ? a / n : 0; break;
  case RT_RED_L2: r = sqrt((double)acc); a = r; break;
  case RT_RED_LOGSUM: r = log((double)acc); a = acc > 0 ? a / (double)acc : 0; break; /* d log s = ds / s */
  case RT_RED_LOGSUMEXP:
    if (n == 0) m = -INFINITY;
    if (nan) { r = NAN; break; }
    if (!isfinite((double)m)) { r = (double)m; break; }
    for (int i = 0; i < n; i++) acc += expl((long double)x[(size_t)i * stride] - m);
    r = (double)(m + logl(acc));
    a = 1 + fabs(r);
    break;
  default: r = (double)acc; a = op == RT_RED_PROD ? fabs(r) * (n + 1) : a; break;
  }
  *mag = a;
  return r;
}

/* float32 error bound of the kernel for a naive result r with scale mag (red_naive) */
static double red_tol(int op, double r, double mag) {
  switch (op) {
  case RT_RED_MAX: case RT_RED_MIN: return 0;
  case RT_RED_PROD: return 1.2e-7 * mag;                        /* (n+1) roundings of 2^-24 */
  case RT_RED_L2: case RT_RED_SUMSQ: return ACC_RTOL * 2 * (op == RT_RED_L2 ? mag : fabs(r));
  case RT_RED_LOGSUM: return ACC_RTOL * (1 + mag) + 3e-7 * fabs(r);
  case RT_RED_LOGSUMEXP: return ACC_RTOL * mag;                 /* exp rel error + sum rounding, then |m| ulps */
  default: return ACC_RTOL * (fabs(r) + mag);
  }
}

/* input range per op: products near 1 in magnitude (no overflow at n = 1000), log-sum of a positive sum;
 * shift moves log-sum-exp inputs far from 0 (e^100 overflows float32: the max shift must handle it) */
static float red_input(int op, float shift) {
  if (op == RT_RED_PROD) return (rnd_u32() & 1 ? 1 : -1) * rnd(0.8f, 1.25f);
  if (op == RT_RED_LOGSUM) return rnd(0, 2);
  return rnd(-2, 2) + shift;
}

/* special: some slices get a NaN, some a +-inf (max/min must propagate NaN, sums follow IEEE). */
static void reduce_case_s(int op, int outer, int n, int inner, int special, float shift) {
  size_t nt = (size_t)outer * n * inner, ny = (size_t)outer * inner;
  float *x = fbuf(nt), *ys = fbuf(ny), *yv = fbuf(ny), *ye = fbuf(ny), *ref = fbuf(ny), *tol = fbuf(ny);
  double *xd = malloc((nt + 1) * sizeof(double));
  for (size_t i = 0; i < nt; i++) x[i] = red_input(op, shift);
  if (special && n > 0)
    for (int o = 0; o < outer; o++)
      for (int j = 0; j < inner; j++) {
        size_t q = ((size_t)o * n + (size_t)((o * 7 + j * 3) % n)) * inner + j;
        int k = (o + j) % 4;
        if (k == 0) x[q] = NAN;
        else if (k == 1) x[q] = INFINITY;
        else if (k == 2) x[q] = -INFINITY;
      }
  for (size_t i = 0; i < nt; i++) xd[i] = x[i];
  for (int o = 0; o < outer; o++)
    for (int j = 0; j < inner; j++) {
      double mag, r = red_naive(op, xd + (size_t)o * n * inner + j, n, inner, &mag);
      ref[(size_t)o * inner + j] = (float)r;
      tol[(size_t)o * inner + j] = (float)(red_tol(op, r, mag) + 1e-30);
    }
  RtReduce p = {A(x), A(ys), outer, n, inner, op, 1};
  rt_reduce_f32__scalar(&p);
  p.y = A(yv);
  rt_reduce_f32__simd128(&p);
  char name[112];
  snprintf(name, sizeof name, "reduce[%s %d x %d x %d%s%s]", red_names[op], outer, n, inner, special ? " nan/inf" : "",
           shift > 0 ? " shifted +100" : shift < 0 ? " shifted -100" : "");
  check3(name, ys, yv, ref, tol, ny);
  if (special || n == 33) { /* the exported entry */
    p.y = A(ye);
    rt_reduce_f32(&p);
    check(name, "entry~simd", ye, yv, tol, 0.0f, ny);
  }
  free(x); free(xd); free(ys); free(yv); free(ye); free(ref); free(tol);
}
static void reduce_case(int op, int outer, int n, int inner, int special) { reduce_case_s(op, outer, n, inner, special, 0); }

/* float64 (dtype 11): the shared double path, against the long double reference within 1e-13 relative
 * (exp/log are rt_exp_f64 / rt_log_f64) */
static void reduce_case_f64(int op, int outer, int n, int inner, double shift) {
  size_t nt = (size_t)outer * n * inner, ny = (size_t)outer * inner;
  double *x = malloc((nt + 1) * sizeof(double)), *ys = malloc((ny + 1) * sizeof(double)), *yv = malloc((ny + 1) * sizeof(double));
  for (size_t i = 0; i < nt; i++) x[i] = (double)red_input(op, 0) + shift + rnd(-1, 1) * 1e-6;
  ys[ny] = yv[ny] = 1234.5;
  RtReduce p = {A(x), A(ys), outer, n, inner, op, 11};
  rt_reduce_f32__scalar(&p);
  p.y = A(yv);
  rt_reduce_f32__simd128(&p);
  double worst = 0;
  int ok = ys[ny] == 1234.5 && yv[ny] == 1234.5;
  for (int o = 0; o < outer; o++)
    for (int j = 0; j < inner; j++) {
      double mag, r = red_naive(op, x + (size_t)o * n * inner + j, n, inner, &mag);
      double t = 1e-13 * (fabs(r) + mag) + 1e-300, g1 = ys[(size_t)o * inner + j], g2 = yv[(size_t)o * inner + j];
      for (int v = 0; v < 2; v++) {
        double g = v ? g2 : g1, q = g == r ? 0 : fabs(g - r) / t;
        if (!(q <= 1.0)) ok = 0;
        if (q > worst || isnan(q)) worst = isnan(q) ? INFINITY : q;
      }
      if (memcmp(&g1, &g2, sizeof g1)) ok = 0;
    }
  char name[112];
  snprintf(name, sizeof name, "reduce[%s f64 %d x %d x %d shift %g]", red_names[op], outer, n, inner, shift);
  report(ok, name, "scalar,simd~naive, simd==scalar", worst);
  free(x); free(ys); free(yv);
}

static void test_reduce(void) {
  static const int sizes[] = {0, 1, 3, 4, 5, 8, 17, 33};
  for (int op = 0; op < RT_RED_COUNT; op++) {
    for (size_t a = 0; a < sizeof sizes / sizeof sizes[0]; a++)
      for (size_t b = 0; b < sizeof sizes / sizeof sizes[0]; b++)
        reduce_case(op, 2, sizes[a], sizes[b], 0);
    for (size_t a = 1; a < sizeof sizes / sizeof sizes[0]; a++) {
      reduce_case(op, 3, sizes[a], 1, 1);
      reduce_case(op, 3, sizes[a], 5, 1);
      reduce_case(op, 2, sizes[a], 17, 1);
    }
    reduce_case(op, 4, 768, 1, 0); /* LayerNorm / RMSNorm row */
    reduce_case(op, 1, 1000, 1, 1);
    reduce_case(op, 3, 49, 37, 0);
    reduce_case(op, 1, 5, 3, 0);
    for (int k = 0; k < 3; k++) {
      static const int sh[3][3] = {{2, 7, 1}, {3, 5, 6}, {1, 1000, 1}};
      reduce_case_f64(op, sh[k][0], sh[k][1], sh[k][2], 0);
    }
    reduce_case_f64(op, 2, 0, 3, 0);
  }
  for (int s = -1; s <= 1; s += 2) { /* log-sum-exp far from 0: exp(x) alone would overflow / underflow */
    reduce_case_s(RT_RED_LOGSUMEXP, 2, 33, 1, 0, 100.0f * s);
    reduce_case_s(RT_RED_LOGSUMEXP, 2, 17, 7, 0, 100.0f * s);
    reduce_case_f64(RT_RED_LOGSUMEXP, 2, 9, 5, 1000.0 * s);
  }
  /* empty-set values and NaN placement, exact */
  float x[8] = {1, NAN, 3, -4, 5, 6, 7, 8}, y[4] = {9, 9, 9, 9};
  int ok = 1;
  for (int op = 0; op < RT_RED_COUNT; op++) {
    RtReduce p = {A(x), A(y), 1, 0, 4, op, 1}; /* n == 0 */
    rt_reduce_f32(&p);
    float want = op == RT_RED_MAX || op == RT_RED_LOGSUM || op == RT_RED_LOGSUMEXP ? -INFINITY
                 : op == RT_RED_MIN ? INFINITY : op == RT_RED_PROD ? 1.0f : 0.0f;
    for (int i = 0; i < 4; i++) ok &= y[i] == want;
    RtReduce q = {A(x), A(y), 1, 0, 1, op, 1};
    y[0] = 9;
    rt_reduce_f32__scalar(&q);
    ok &= y[0] == want;
    q.dtype = 11;
    double yd = 9;
    q.y = A(&yd);
    rt_reduce_f32__simd128(&q);
    ok &= yd == (double)want;
  }
  for (int v = 0; v < 2; v++) /* NaN in the first lane of a row of 8: max, min and log-sum-exp are NaN */
    for (int op = RT_RED_MAX; op <= RT_RED_LOGSUMEXP; op++) {
      if (op != RT_RED_MAX && op != RT_RED_MIN && op != RT_RED_LOGSUMEXP) continue;
      RtReduce p = {A(x), A(y), 1, 8, 1, op, 1};
      if (v) rt_reduce_f32__simd128(&p); else rt_reduce_f32__scalar(&p);
      ok &= isnan(y[0]);
    }
  report(ok, "reduce[empty-set values n=0, NaN in row]", "exact", ok ? 0.0 : 1e9);
  /* rt_exp_f64 / rt_log_f64 against libm: relative error within 4 ulps (2^-50) over their whole range */
  double e_exp = 0, e_log = 0;
  for (int i = 0; i <= 200000; i++) {
    double t = -745.0 + (709.7 + 745.0) * i / 200000.0, r = exp(t);
    if (r >= 2.2250738585072014e-308) e_exp = fmax(e_exp, fabs(rt_exp_f64(t) - r) / r);
    double l = exp(rnd(-700, 700)) * (1 + rnd(0, 1) * 1e-3), lr = log(l);
    if (fabs(lr) > 1e-3) e_log = fmax(e_log, fabs(rt_log_f64(l) - lr) / fabs(lr));
  }
  ok = e_exp < 8.9e-16 && e_log < 8.9e-16 && rt_log_f64(0) == -INFINITY && isnan(rt_log_f64(-1)) &&
       rt_exp_f64(800) == INFINITY && rt_exp_f64(-800) == 0 && rt_log_f64(4.9406564584124654e-324) < -744.4 &&
       fabs(rt_log_f64(4.9406564584124654e-324) - log(4.9406564584124654e-324)) < 1e-12;
  printf("  rt_exp_f64 max rel err %.3g, rt_log_f64 %.3g\n", e_exp, e_log);
  report(ok, "exp/log f64", "rel err < 4 ulps", fmax(e_exp, e_log) / 8.9e-16);
}

/* ------------------------------------------------------------------ cumsum */

static void cumsum_case(int dtype, int outer, int n, int inner, int excl, int rev) {
  size_t nt = (size_t)outer * n * inner;
  char name[112];
  snprintf(name, sizeof name, "cumsum[%s %d x %d x %d%s%s]", dtype == 1 ? "f32" : "i64", outer, n, inner,
           excl ? " exclusive" : "", rev ? " reverse" : "");
  RtCumSum p = {0, 0, outer, n, inner, dtype, excl, rev};
  if (dtype == 1) {
    float *x = frand_buf(nt, -2, 2), *ys = fbuf(nt), *yv = fbuf(nt), *yi = fbuf(nt), *yj = fbuf(nt);
    float *ref = fbuf(nt), *tol = fbuf(nt);
    for (int o = 0; o < outer; o++)
      for (int j = 0; j < inner; j++) {
        double s = 0, mag = 0;
        for (int k = 0; k < n; k++) {
          int i = rev ? n - 1 - k : k;
          size_t q = ((size_t)o * n + i) * inner + j;
          double v = x[q];
          if (!excl) { s += v; mag += fabs(v); }
          ref[q] = (float)s;
          tol[q] = (float)(ACC_RTOL * (fabs(s) + mag) + 1e-30);
          if (excl) { s += v; mag += fabs(v); }
        }
      }
    p.x = A(x); p.y = A(ys);
    rt_cumsum__scalar(&p);
    p.y = A(yv);
    rt_cumsum__simd128(&p);
    check3(name, ys, yv, ref, tol, nt);
    memcpy(yi, x, nt * sizeof(float)); /* in place */
    memcpy(yj, x, nt * sizeof(float));
    p.x = p.y = A(yi);
    rt_cumsum__scalar(&p);
    p.x = p.y = A(yj);
    rt_cumsum(&p);
    check(name, "in-place scalar~naive", yi, ref, tol, 1.0f, nt);
    check(name, "in-place entry~naive", yj, ref, tol, 1.0f, nt);
    free(x); free(ys); free(yv); free(yi); free(yj); free(ref); free(tol);
  } else {
    int64_t *x = malloc((nt + 2) * 8), *ys = malloc((nt + 2) * 8), *yv = malloc((nt + 2) * 8);
    int64_t *yi = malloc((nt + 2) * 8), *ref = malloc((nt + 2) * 8);
    for (size_t i = 0; i < nt; i++) /* mostly small, some huge (wrap-around) */
      x[i] = i % 7 == 3 ? (int64_t)(((uint64_t)rnd_u32() << 32 | rnd_u32()) | 0x4000000000000000ull)
                        : (int64_t)rnd_int(-1000, 1000);
    for (size_t i = nt; i < nt + 2; i++) ys[i] = yv[i] = yi[i] = ref[i] = 0x5a5a5a5a5a5a5a5all;
    for (int o = 0; o < outer; o++)
      for (int j = 0; j < inner; j++) {
        uint64_t s = 0;
        for (int k = 0; k < n; k++) {
          int i = rev ? n - 1 - k : k;
          size_t q = ((size_t)o * n + i) * inner + j;
          if (!excl) s += (uint64_t)x[q];
          ref[q] = (int64_t)s;
          if (excl) s += (uint64_t)x[q];
        }
      }
    p.x = A(x); p.y = A(ys);
    rt_cumsum__scalar(&p);
    p.y = A(yv);
    rt_cumsum__simd128(&p);
    memcpy(yi, x, nt * 8);
    p.x = p.y = A(yi);
    rt_cumsum(&p);
    check_bytes(name, "scalar~naive", ys, ref, (nt + 2) * 8);
    check_bytes(name, "simd~naive", yv, ref, (nt + 2) * 8);
    check_bytes(name, "in-place entry~naive", yi, ref, (nt + 2) * 8);
    free(x); free(ys); free(yv); free(yi); free(ref);
  }
}

/* float64: the same additions in the same order as the reference, so the results are exact */
static void cumsum_case_f64(int outer, int n, int inner, int excl, int rev) {
  size_t nt = (size_t)outer * n * inner;
  double *x = malloc((nt + 1) * 8), *y = malloc((nt + 1) * 8), *ref = malloc((nt + 1) * 8);
  for (size_t i = 0; i < nt; i++) x[i] = (double)rnd_int(-1000, 1000) / 7.0;
  for (int o = 0; o < outer; o++)
    for (int j = 0; j < inner; j++) {
      double s = 0;
      for (int k = 0; k < n; k++) {
        size_t q = ((size_t)o * n + (rev ? n - 1 - k : k)) * inner + j;
        if (!excl) s += x[q];
        ref[q] = s;
        if (excl) s += x[q];
      }
    }
  RtCumSum p = {A(x), A(y), outer, n, inner, 11, excl, rev};
  rt_cumsum(&p);
  char name[112];
  snprintf(name, sizeof name, "cumsum[f64 %d x %d x %d%s%s]", outer, n, inner, excl ? " exclusive" : "", rev ? " reverse" : "");
  check_bytes(name, "entry~naive", y, ref, nt * 8);
  free(x); free(y); free(ref);
}

/* the run-time axis form (RtCumSum.axis): the same bytes as the constant-axis call, zeros for a bad axis */
static void cumsum_axis_case(void) {
  enum { NT = 2 * 3 * 5 };
  int64_t x[NT], ref[NT], y[NT], zero[NT] = {0};
  for (int i = 0; i < NT; i++) x[i] = rnd_int(-1000, 1000);
  static const int32_t dims[3] = {2, 3, 5};
  for (int axis = -3; axis < 3; axis++) {
    int a = axis < 0 ? axis + 3 : axis;
    int outer = 1, inner = 1;
    for (int i = 0; i < a; i++) outer *= dims[i];
    for (int i = a + 1; i < 3; i++) inner *= dims[i];
    RtCumSum p = {A(x), A(ref), outer, dims[a], inner, 7, axis & 1, 0};
    rt_cumsum(&p);
    int64_t a64 = axis;
    int32_t a32 = axis;
    for (int w = 0; w < 2; w++) {
      RtCumSum q = {A(x), A(y), 0, 0, 0, 7, axis & 1, 0, w ? A(&a64) : A(&a32), w, 3, {2, 3, 5}};
      memset(y, 0x5a, sizeof y);
      rt_cumsum(&q);
      check_bytes("cumsum[run-time axis]", w ? "int64 axis~constant axis" : "int32 axis~constant axis", y, ref, sizeof y);
    }
  }
  int64_t bad = 3;
  RtCumSum q = {A(x), A(y), 0, 0, 0, 7, 0, 0, A(&bad), 1, 3, {2, 3, 5}};
  rt_cumsum(&q);
  check_bytes("cumsum[run-time axis 3 of rank 3]", "zeros", y, zero, sizeof y);
}

static void test_cumsum(void) {
  cumsum_axis_case();
  for (int fl = 0; fl < 4; fl++) {
    cumsum_case_f64(2, 5, 3, fl & 1, fl >> 1);
    cumsum_case_f64(1, 17, 1, fl & 1, fl >> 1);
  }
  static const int ns[] = {0, 1, 3, 4, 5, 8, 17, 33}, inners[] = {1, 2, 3, 4, 5, 8, 17, 33};
  for (int dtype = 1; dtype <= 7; dtype += 6)
    for (int fl = 0; fl < 4; fl++) {
      for (size_t a = 0; a < sizeof ns / sizeof ns[0]; a++)
        for (size_t b = 0; b < 5; b++) cumsum_case(dtype, 2, ns[a], inners[b], fl & 1, fl >> 1);
      for (size_t b = 5; b < sizeof inners / sizeof inners[0]; b++) {
        cumsum_case(dtype, 2, 5, inners[b], fl & 1, fl >> 1);
        cumsum_case(dtype, 3, 33, inners[b], fl & 1, fl >> 1);
      }
      cumsum_case(dtype, 2, 1000, 1, fl & 1, fl >> 1);
    }
}

/* ------------------------------------------------------------------ cast */

enum { DT_F32 = 1, DT_U8 = 2, DT_I8 = 3, DT_I32 = 6, DT_I64 = 7, DT_BOOL = 9, DT_F64 = 11 };
static const int cast_types[] = {DT_F32, DT_F64, DT_I32, DT_I64, DT_BOOL, DT_U8, DT_I8};
static const char *dt_name(int t) {
  switch (t) {
  case DT_F32: return "f32"; case DT_F64: return "f64"; case DT_I32: return "i32"; case DT_I64: return "i64";
  case DT_BOOL: return "bool"; case DT_U8: return "u8"; default: return "i8";
  }
}
static size_t dt_size(int t) { return t == DT_F64 || t == DT_I64 ? 8 : t == DT_F32 || t == DT_I32 ? 4 : 1; }

#define CAST_NV 48
static const double cast_fvals[] = {0.0, -0.0, 0.5, -0.5, 1.0, -1.0, 1.9999, -1.9999, 2.5, -2.5, 100.7, -100.7,
                                    127.0, 127.9, 128.0, -128.0, -128.9, -129.0, 255.0, 255.9, 256.0, 300.5,
                                    -300.5, 65535.0, 2147483647.0, 2147483647.5, 2147483648.0, -2147483648.0,
                                    -2147483648.9, -2147483649.0, 3e9, -3e9, 9.2e18, 9223372036854775807.0,
                                    9.3e18, -9223372036854775808.0, -9.3e18, 1e30, -1e30, 1e300, -1e300,
                                    INFINITY, -INFINITY, NAN, 1e-40, 16777217.0, 3.4e38, -0.999};
static const int64_t cast_ivals[] = {0, 1, -1, 2, 127, 128, -128, -129, 255, 256, 300, -300, 65535, 65536,
                                     2147483647, 2147483648ll, -2147483647 - 1, -2147483649ll, 4294967295ll,
                                     4294967296ll, 9007199254740993ll, INT64_MAX, INT64_MIN, 16777217, -16777217,
                                     0x0123456789abcdefll, -0x0123456789abcdefll, 1000000007, 42, -42, 7, -7,
                                     0x80, 0xff, 0x100, 0x7fffffff, 0x80000001ll, -0x80000001ll, 5, 6, 9, 10, 11,
                                     12, 13, 14, 15, 16};

_Static_assert(sizeof cast_fvals / sizeof cast_fvals[0] == CAST_NV, "cast_fvals");
_Static_assert(sizeof cast_ivals / sizeof cast_ivals[0] == CAST_NV, "cast_ivals");

/* Source value i of type t, written into buf[i]; also returned as a double (floats) or int64. */
static void cast_src(int t, void *buf, int i, double *fd, int64_t *iv) {
  double d = cast_fvals[i];
  int64_t v = cast_ivals[i];
  switch (t) {
  case DT_F32: ((float *)buf)[i] = (float)d; *fd = ((float *)buf)[i]; break;
  case DT_F64: ((double *)buf)[i] = d; *fd = d; break;
  case DT_I32: ((int32_t *)buf)[i] = (int32_t)(v & 0xffffffffll); *iv = ((int32_t *)buf)[i]; break;
  case DT_I64: ((int64_t *)buf)[i] = v; *iv = v; break;
  case DT_U8: ((uint8_t *)buf)[i] = (uint8_t)(v & 0xff); *iv = ((uint8_t *)buf)[i]; break;
  case DT_I8: ((int8_t *)buf)[i] = (int8_t)(((v & 0xff) ^ 0x80) - 0x80); *iv = ((int8_t *)buf)[i]; break;
  default: ((uint8_t *)buf)[i] = (uint8_t)(i % 3 == 2 ? 2 : i % 2); *iv = ((uint8_t *)buf)[i] != 0; break;
  }
}

/* Naive target value of integer type t: float sources truncate (trunc) and saturate, integer sources wrap. */
static int64_t naive_int(int t, int from_float, double d, int64_t v) {
  if (from_float) {
    if (isnan(d)) return 0;
    double tr = trunc(d);
    double lo = t == DT_U8 ? 0 : t == DT_I8 ? -128 : t == DT_I32 ? -2147483648.0 : -9223372036854775808.0;
    double hi = t == DT_U8 ? 255 : t == DT_I8 ? 127 : t == DT_I32 ? 2147483647.0 : 9223372036854775808.0;
    if (tr < lo) return t == DT_U8 ? 0 : t == DT_I8 ? -128 : t == DT_I32 ? INT32_MIN : INT64_MIN;
    if (t == DT_I64 ? tr >= hi : tr > hi) return t == DT_U8 ? 255 : t == DT_I8 ? 127 : t == DT_I32 ? INT32_MAX : INT64_MAX;
    return (int64_t)tr;
  }
  switch (t) {
  case DT_U8: return v & 0xff;
  case DT_I8: return ((v & 0xff) ^ 0x80) - 0x80;
  case DT_I32: return ((v & 0xffffffffll) ^ 0x80000000ll) - 0x80000000ll;
  default: return v;
  }
}

/* Write the naive converted value into ref[i]. */
static void cast_ref(int from, int to, void *ref, int i, double d, int64_t v) {
  int ff = from == DT_F32 || from == DT_F64;
  switch (to) {
  case DT_F32: ((float *)ref)[i] = ff ? (float)d : (float)v; break;
  case DT_F64: ((double *)ref)[i] = ff ? d : (double)v; break;
  case DT_BOOL: ((uint8_t *)ref)[i] = ff ? d != 0 : v != 0; break;
  case DT_U8: ((uint8_t *)ref)[i] = (uint8_t)naive_int(to, ff, d, v); break;
  case DT_I8: ((int8_t *)ref)[i] = (int8_t)naive_int(to, ff, d, v); break;
  case DT_I32: ((int32_t *)ref)[i] = (int32_t)naive_int(to, ff, d, v); break;
  default: ((int64_t *)ref)[i] = naive_int(to, ff, d, v); break;
  }
}

/* Element i of got and ref equal (floats: same value or both NaN). */
static int cast_eq(int t, const void *got, const void *ref, int i) {
  if (t == DT_F32) { float g = ((const float *)got)[i], r = ((const float *)ref)[i]; return g == r || (isnan(g) && isnan(r)); }
  if (t == DT_F64) { double g = ((const double *)got)[i], r = ((const double *)ref)[i]; return g == r || (isnan(g) && isnan(r)); }
  size_t s = dt_size(t);
  return memcmp((const char *)got + i * s, (const char *)ref + i * s, s) == 0;
}

static void cast_case(int from, int to, int n, int inplace) {
  unsigned char x[CAST_NV * 8 + 16], y[CAST_NV * 8 + 16], ref[CAST_NV * 8 + 16];
  memset(y, 0xa5, sizeof y);
  memset(ref, 0xa5, sizeof ref);
  int bad = -1;
  for (int i = 0; i < n; i++) {
    double d = 0;
    int64_t v = 0;
    cast_src(from, x, i, &d, &v);
    cast_ref(from, to, ref, i, d, v);
  }
  RtCast p = {A(x), A(y), n, from, to};
  if (inplace) { memcpy(y, x, (size_t)n * dt_size(from)); p.x = A(y); }
  rt_cast(&p);
  for (int i = 0; i < n && bad < 0; i++)
    if (!cast_eq(to, y, ref, i)) bad = i;
  int guard = memcmp(y + (size_t)n * dt_size(to), ref + (size_t)n * dt_size(to), 16) == 0;
  char name[96];
  snprintf(name, sizeof name, "cast[%s -> %s n=%d%s]", dt_name(from), dt_name(to), n, inplace ? " in-place" : "");
  if (bad >= 0) {
    size_t s = dt_size(to);
    uint64_t g = 0, r = 0;
    memcpy(&g, y + bad * s, s);
    memcpy(&r, ref + bad * s, s);
    printf("  first bad index %d (source %g / %lld): got bits 0x%llx want 0x%llx\n", bad, cast_fvals[bad],
           (long long)cast_ivals[bad], (unsigned long long)g, (unsigned long long)r);
  }
  if (!guard) printf("  guard zone overwritten\n");
  report(bad < 0 && guard, name, "entry~naive", bad < 0 && guard ? 0.0 : 1e9);
}

/* float16 / bfloat16 casts: expected bits from numpy's float16 and torch's bfloat16 conversions (round to
 * nearest even, overflow to inf, subnormals kept); every non-NaN float16 survives f16 -> f32/f64 -> f16 */
static void test_cast_half(void) {
  static const float f32[20] = {0.0f, -0.0f, 1.0f, -2.5f, 1.0009765625f, 1.00048828125f, 1.0014648f, 65504.0f, 65519.0f,
                                65520.0f, 1e5f, 5.96e-8f, 2.98e-8f, 3e-8f, 1e-6f, -6.1e-5f, INFINITY, -INFINITY, 3.14159265f, 1e-40f};
  static const uint16_t want_h[20] = {0x0000, 0x8000, 0x3c00, 0xc100, 0x3c01, 0x3c00, 0x3c02, 0x7bff, 0x7bff, 0x7c00,
                                      0x7c00, 0x0001, 0x0000, 0x0001, 0x0011, 0x83ff, 0x7c00, 0xfc00, 0x4248, 0x0000};
  static const uint16_t want_b[20] = {0x0000, 0x8000, 0x3f80, 0xc020, 0x3f80, 0x3f80, 0x3f80, 0x4780, 0x4780, 0x4780,
                                      0x47c3, 0x3380, 0x3300, 0x3301, 0x3586, 0xb880, 0x7f80, 0xff80, 0x4049, 0x0001};
  static const double f64[4] = {1.0 + 0x1p-11 + 0x1p-40, 1.0 + 0x1p-11, 65519.99, -0.1};
  static const uint16_t want_h64[4] = {0x3c01, 0x3c00, 0x7bff, 0xae66};   /* the first: no double rounding via f32 */
  uint16_t h[20], b[20], h64[4];
  RtCast p = {A(f32), A(h), 20, DT_F32, 10};
  rt_cast__scalar(&p);
  p.y = A(b); p.to = 16;
  rt_cast__scalar(&p);
  RtCast q = {A(f64), A(h64), 4, DT_F64, 10};
  rt_cast__scalar(&q);
  int bad = 0;
  for (int i = 0; i < 20; i++) {
    if (h[i] != want_h[i]) { bad++; printf("  f16(%g) = 0x%04x, want 0x%04x\n", (double)f32[i], h[i], want_h[i]); }
    if (b[i] != want_b[i]) { bad++; printf("  bf16(%g) = 0x%04x, want 0x%04x\n", (double)f32[i], b[i], want_b[i]); }
  }
  for (int i = 0; i < 4; i++)
    if (h64[i] != want_h64[i]) { bad++; printf("  f16(double %.17g) = 0x%04x, want 0x%04x\n", f64[i], h64[i], want_h64[i]); }
  uint16_t *all = malloc(65536 * 2), *back = malloc(65536 * 2);
  float *wide = fbuf(65536);
  double *wide64 = malloc(65536 * 8);
  for (int i = 0; i < 65536; i++) all[i] = (uint16_t)i;
  RtCast r1 = {A(all), A(wide), 65536, 10, DT_F32}, r2 = {A(wide), A(back), 65536, DT_F32, 10};
  RtCast r3 = {A(all), A(wide64), 65536, 10, DT_F64}, r4 = {A(wide64), A(back), 65536, DT_F64, 10};
  for (int t = 0; t < 2; t++) {
    rt_cast__scalar(t ? &r3 : &r1);
    rt_cast__scalar(t ? &r4 : &r2);
    for (int i = 0; i < 65536; i++) {
      int nan = (i & 0x7c00) == 0x7c00 && (i & 0x3ff);
      if (nan ? (back[i] & 0x7c00) != 0x7c00 || !(back[i] & 0x3ff) : back[i] != i) { bad++; if (bad < 8) printf("  f16 0x%04x -> f%d -> 0x%04x\n", i, t ? 64 : 32, back[i]); }
    }
  }
  free(all); free(back); free(wide); free(wide64);
  if (!bad) g_pass++; else g_fail++;
  printf("%s cast float16/bfloat16 (rounding, overflow, subnormals; all float16 round trips)\n", bad ? "FAIL" : "PASS");
}

/* ------------------------------------------------------------------ losses */

/* NLL / softmax cross-entropy against a double-precision formula: int32 and int64 targets, weights,
 * ignore_index, each reduction; a target out of range gives NaN */
static void loss_case(int softmax, int reduction, int weighted, int t64, int ignore) {
  enum { N = 3, C = 5, D = 4 };
  float *x = frand_buf(N * C * D, -3, 3), *w = frand_buf(C, 0.2f, 2), logp[N * C * D], y[N * D];
  int64_t t64v[N * D];
  int32_t t32v[N * D];
  for (int i = 0; i < N * D; i++) { t64v[i] = (i * 7 + 3) % C; if (ignore && i % 5 == 1) t64v[i] = -2; t32v[i] = (int32_t)t64v[i]; }
  RtLoss p = {A(x), t64 ? A(t64v) : A(t32v), weighted ? A(w) : 0, A(y), softmax ? A(logp) : 0, N, C, D, t64, softmax, reduction, ignore, -2};
  rt_loss_f32(&p);
  double lp[N * C * D], l[N * D], sum = 0, wsum = 0;
  for (int i = 0; i < N; i++)
    for (int j = 0; j < D; j++) {
      double m = -INFINITY, s = 0;
      for (int k = 0; k < C; k++) m = fmax(m, x[(i * C + k) * D + j]);
      for (int k = 0; k < C; k++) s += exp(x[(i * C + k) * D + j] - m);
      for (int k = 0; k < C; k++) lp[(i * C + k) * D + j] = softmax ? x[(i * C + k) * D + j] - m - log(s) : x[(i * C + k) * D + j];
      int64_t tk = t64v[i * D + j];
      if (ignore && tk == -2) { l[i * D + j] = 0; continue; }
      double wk = weighted ? w[tk] : 1.0;
      l[i * D + j] = -wk * lp[(i * C + tk) * D + j];
      sum += l[i * D + j];
      wsum += wk;
    }
  int bad = 0;
  if (reduction == 0) { for (int i = 0; i < N * D; i++) bad += fabs(y[i] - l[i]) > 1e-5 * (1 + fabs(l[i])); }
  else bad += fabs(y[0] - (reduction == 1 ? sum : sum / wsum)) > 1e-5 * (1 + fabs(sum));
  if (softmax) for (int i = 0; i < N * C * D; i++) bad += fabs(logp[i] - lp[i]) > 1e-5 * (1 + fabs(lp[i]));
  if (!bad) g_pass++; else g_fail++;
  printf("%s loss[%s reduction=%d weight=%d t%d ignore=%d] vs double formula\n", bad ? "FAIL" : "PASS",
         softmax ? "sce" : "nll", reduction, weighted, t64 ? 64 : 32, ignore);
  free(x); free(w);
}

static void test_loss(void) {
  for (int r = 0; r < 3; r++)
    for (int v = 0; v < 8; v++) loss_case(v & 1, r, (v >> 1) & 1, (v >> 2) & 1, (v + r) & 1);
  float x[2 * 3] = {-1, -2, -3, -0.5f, -1.5f, -2.5f}, y[2];
  int64_t t[2] = {1, 3};                               /* 3 is out of [0, 3) */
  RtLoss p = {A(x), A(t), 0, A(y), 0, 2, 3, 1, 1, 0, 0, 0, 0};
  rt_loss_f32(&p);
  int ok = y[0] == 2.0f && y[1] != y[1];
  if (ok) g_pass++; else g_fail++;
  printf("%s loss: an out-of-range target gives NaN, the others their loss\n", ok ? "PASS" : "FAIL");
}

static void test_cast(void) {
  test_cast_half();
  for (size_t a = 0; a < 7; a++)
    for (size_t b = 0; b < 7; b++) {
      cast_case(cast_types[a], cast_types[b], CAST_NV, 0);
      if (dt_size(cast_types[a]) == dt_size(cast_types[b])) cast_case(cast_types[a], cast_types[b], CAST_NV, 1);
    }
  cast_case(DT_F32, DT_I32, 0, 0);
  cast_case(DT_I64, DT_F32, 5, 0);
  cast_case(DT_F64, DT_U8, 17, 0);
}

/* ------------------------------------------------------------------ timing (informational) */

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec * 1e3 + t.tv_nsec * 1e-6;
}

static void bench(void) {
  ConvCfg g = {1, 64, 56, 56, 64, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1};
  int oh = 56, ow = 56;
  float *x = frand_buf(64 * 56 * 56, -1, 1), *w = frand_buf(64 * 64 * 9, -1, 1), *y = fbuf(64 * 56 * 56);
  float *bi = frand_buf(64, -1, 1), *scr = fbuf(64 * 9 * 56 * 56);
  RtConv2d p = {A(x), A(w), A(bi), 0, A(y), A(scr), 1, 64, 56, 56, 64, oh, ow, 3, 3, 1, 1, 1, 1, 1, 1, 1,
                64u * 9 * 56 * 56 * 4, make_act(RT_ACT_RELU), 0, 0, 0};
  double flops = 2.0 * 64 * 64 * 9 * 56 * 56;
  for (int v = 0; v < 2; v++) {
    int reps = v ? 10 : 2;
    double t0 = now_ms();
    for (int r = 0; r < reps; r++) {
      if (v) rt_conv2d_f32__simd128(&p); else rt_conv2d_f32__scalar(&p);
    }
    double ms = (now_ms() - t0) / reps;
    printf("INFO bench conv3x3 64->64 56x56 %s: %.2f ms (%.2f GFLOP/s)\n", v ? "simd" : "scalar", ms, flops / ms * 1e-6);
  }
  (void)g;
  int n = 256;
  float *a = frand_buf((size_t)n * n, -1, 1), *b = frand_buf((size_t)n * n, -1, 1), *c = fbuf((size_t)n * n);
  for (int tb = 0; tb < 2; tb++) {
    RtGemm q = {A(a), A(b), 0, A(c), n, n, n, 0, tb, 0, 1.0f, 0.0f, make_act(RT_ACT_NONE)};
    double t0 = now_ms();
    for (int r = 0; r < 10; r++) rt_gemm_f32__simd128(&q);
    double ms = (now_ms() - t0) / 10;
    printf("INFO bench gemm 256^3 trans_b=%d simd: %.2f ms (%.2f GFLOP/s)\n", tb, ms, 2.0 * n * n * n / ms * 1e-6);
  }
  ConvCfg d = {1, 96, 112, 112, 96, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 96};
  float *dx = frand_buf(96 * 112 * 112, -1, 1), *dwt = frand_buf(96 * 9, -1, 1), *dy = fbuf(96 * 112 * 112);
  float *dbi = frand_buf(96, -1, 1);
  RtConv2d pd = {A(dx), A(dwt), A(dbi), 0, A(dy), 0, 1, 96, 112, 112, 96, 112, 112, 3, 3, 1, 1, 1, 1, 1, 1, 96,
                 0, make_act(RT_ACT_RELU), 0, 0, 0};
  double t0 = now_ms();
  for (int r = 0; r < 10; r++) rt_conv2d_f32__simd128(&pd);
  printf("INFO bench depthwise3x3 96ch 112x112 simd: %.2f ms\n", (now_ms() - t0) / 10);
  (void)d;
  { /* integer depthwise at mobilenet_v2's late shape, against f32 on the same shape */
    int ch = 576, hw = 14;
    uint8_t *qx = calloc((size_t)ch * hw * hw, 1), *qy = calloc((size_t)ch * hw * hw, 1);
    int8_t *qw = calloc((size_t)ch * 9, 1);
    float xs = 0.02f, ys = 0.05f, *wsc = calloc((size_t)ch, 4);
    for (int i = 0; i < ch; i++) wsc[i] = 0.01f;
    uint8_t zx = 3, zy = 5;
    void *qs = calloc(rt_q_conv_mul_bytes(ch) + rt_q_conv_dw_plane(hw, hw, 3, 3, 1, 1, 1, 1) * 2 + 16 + rt_q_conv_scratch(ch, ch, 3, 3, ch, hw * hw, 0), 1);
    RtConv2dI8 qp = {.x = A(qx), .w = A(qw), .y = A(qy), .x_zp = A(&zx), .x_scale = A(&xs), .w_scale = A(wsc), .y_scale = A(&ys),
                     .y_zp = A(&zy), .scratch = A(qs), .n = 1, .c = ch, .h = hw, .w_ = hw, .k = ch, .oh = hw, .ow = hw, .kh = 3, .kw = 3,
                     .sh = 1, .sw = 1, .pt = 1, .pl = 1, .dh = 1, .dw = 1, .group = ch,
                     .flags = RT_Q_REQUANT | RT_Q_B_S8 | RT_Q_BSCALE_VEC};
    t0 = now_ms();
    for (int r = 0; r < 20; r++) rt_conv2d_i8__simd128(&qp);
    double qms = (now_ms() - t0) / 20;
    float *fx = frand_buf((size_t)ch * hw * hw, -1, 1), *fw = frand_buf((size_t)ch * 9, -1, 1), *fy = fbuf((size_t)ch * hw * hw);
    RtConv2d fp = {A(fx), A(fw), 0, 0, A(fy), 0, 1, ch, hw, hw, ch, hw, hw, 3, 3, 1, 1, 1, 1, 1, 1, ch, 0, make_act(RT_ACT_RELU), 0, 0, 0};
    t0 = now_ms();
    for (int r = 0; r < 20; r++) rt_conv2d_f32__simd128(&fp);
    printf("INFO bench depthwise3x3 %dch %dx%d: int8 %.3f ms, f32 %.3f ms\n", ch, hw, hw, qms, (now_ms() - t0) / 20);
    free(qx); free(qy); free(qw); free(wsc); free(qs); free(fx); free(fw); free(fy);
  }
  free(x); free(w); free(y); free(bi); free(scr); free(a); free(b); free(c); free(dx); free(dwt); free(dy); free(dbi);
}

/* Winograd vs the packed direct conv at resnet18's 3x3 shapes (informational). */
static void bench_wino(void) {
  static const int sh[][3] = {{64, 56, 64}, {128, 28, 128}, {256, 14, 256}, {512, 7, 512}, {16, 55, 64}, {32, 27, 128}, {48, 13, 192}, {64, 13, 256}};
  for (size_t i = 0; i < sizeof sh / sizeof sh[0]; i++) {
    int c = sh[i][0], hw = sh[i][1], k = sh[i][2];
    float *x = frand_buf((size_t)c * hw * hw, -1, 1), *w = frand_buf((size_t)k * c * 9, -1, 1), *y = fbuf((size_t)k * hw * hw);
    float *bi = frand_buf((size_t)k, -1, 1);
    float *wp = fbuf(rt_conv2d_packed_floats(k, c * 9, 1, RT_CONV_PACK_MR));
    rt_pack_conv2d_weights(w, wp, k, c * 9, 1, RT_CONV_PACK_MR);
    RtConv2d p = {A(x), A(wp), A(bi), 0, A(y), 0, 1, c, hw, hw, k, hw, hw, 3, 3, 1, 1, 1, 1, 1, 1, 1, 0, make_act(RT_ACT_RELU), 1, 0, 0};
    double flops = 2.0 * c * k * 9 * hw * hw, t0, ms[3];
    int reps = (int)(4e8 / flops) + 2;
    rt_conv2d_f32__simd128(&p);
    t0 = now_ms();
    for (int r = 0; r < reps; r++) rt_conv2d_f32__simd128(&p);
    ms[0] = (now_ms() - t0) / reps;
    for (int m = 2; m <= 4; m += 2) {
      float *u = fbuf(rt_wino_packed_floats(k, c, m, RT_CONV_PACK_MR));
      rt_pack_wino_weights(w, u, k, c, m, RT_CONV_PACK_MR);
      int tr = rt_conv_wino_tile_rows(c, k, hw, hw, m);
      uint32_t sf = rt_conv_wino_scratch_floats(c, k, hw, hw, m, tr);
      float *scr = fbuf(sf);
      RtConvWino q = {A(x), A(u), A(bi), 0, A(y), A(scr), 1, c, hw, hw, k, hw, hw, 1, 1, m, tr, sf * 4, make_act(RT_ACT_RELU)};
      rt_conv_wino_f32__simd128(&q);
      t0 = now_ms();
      for (int r = 0; r < reps; r++) rt_conv_wino_f32__simd128(&q);
      ms[m / 2] = (now_ms() - t0) / reps;
      free(u); free(scr);
    }
    printf("INFO bench conv3x3 %d->%d %dx%d: direct %.3f ms, F(2x2) %.3f ms (x%.2f), F(4x4) %.3f ms (x%.2f)\n", c, k, hw, hw,
           ms[0], ms[1], ms[0] / ms[1], ms[2], ms[0] / ms[2]);
    free(x); free(w); free(y); free(bi); free(wp);
  }
}

/* ------------------------------------------------------------------ norm */

static void norm_case(int rows, int n, int rms, int with_scale, int with_bias, float spread) {
  size_t tot = (size_t)rows * (size_t)n;
  float *x = frand_buf(tot ? tot : 1, -spread, spread), *sc = frand_buf((size_t)n + 1, 0.5f, 1.5f), *bi = frand_buf((size_t)n + 1, -1, 1);
  float *ys = fbuf(tot + 1), *yv = fbuf(tot + 1), *ref = fbuf(tot + 1), *tol = fbuf(tot + 1);
  for (size_t i = 0; i < tot; i++) x[i] += 3.0f;              /* an offset: LayerNorm must remove it */
  const float eps = 1e-5f;
  for (int r = 0; r < rows; r++) {                              /* textbook formula in double */
    const float *xr = x + (size_t)r * n;
    double mean = 0, var = 0;
    if (!rms) { for (int i = 0; i < n; i++) mean += xr[i]; mean = n ? mean / n : 0; }
    for (int i = 0; i < n; i++) var += (xr[i] - mean) * (xr[i] - mean);
    var = n ? var / n : 0;
    double inv = 1.0 / sqrt(var + eps);
    for (int i = 0; i < n; i++) {
      double v = (xr[i] - mean) * inv * (with_scale ? sc[i] : 1.0) + (with_bias ? bi[i] : 0.0);
      ref[(size_t)r * n + i] = (float)v;
      /* f32 rounding of the row's mean and of x itself, amplified by 1/std: the conditioning of LayerNorm */
      double cond = 8 * 1.2e-7 * (fabs(mean) + fabs(xr[i])) * inv * (with_scale ? sc[i] : 1.0);
      tol[(size_t)r * n + i] = (float)(2e-5 * (fabs(v) + 1.0) + cond);
    }
  }
  float *ms = fbuf((size_t)rows + 1), *is = fbuf((size_t)rows + 1), *mv = fbuf((size_t)rows + 1), *iv = fbuf((size_t)rows + 1);
  float *mref = fbuf((size_t)rows + 1), *iref = fbuf((size_t)rows + 1), *mtol = fbuf((size_t)rows + 1), *itol = fbuf((size_t)rows + 1);
  for (int r = 0; r < rows; r++) {                              /* the optional statistics outputs */
    const float *xr = x + (size_t)r * n;
    double mean = 0, var = 0;
    if (!rms) { for (int i = 0; i < n; i++) mean += xr[i]; mean = n ? mean / n : 0; }
    for (int i = 0; i < n; i++) var += (xr[i] - mean) * (xr[i] - mean);
    var = n ? var / n : 0;
    mref[r] = (float)mean; mtol[r] = (float)(2e-6 * (fabs(mean) + spread) + 1e-30);
    iref[r] = (float)(1.0 / sqrt(var + eps));
    itol[r] = (float)(2e-5 * iref[r] + 8 * 1.2e-7 * (fabs(mean) + spread + 3) * spread * iref[r] * iref[r] * iref[r]);
  }
  RtNorm p = {A(x), A(ys), with_scale ? A(sc) : 0, with_bias ? A(bi) : 0, rows, n, rms, eps, A(ms), A(is)};
  rt_norm_f32__scalar(&p);
  p.y = A(yv); p.mean = A(mv); p.inv_std = A(iv);
  rt_norm_f32__simd128(&p);
  char name[96];
  snprintf(name, sizeof name, "norm[%s %dx%d scale=%d bias=%d]", rms ? "rms" : "layer", rows, n, with_scale, with_bias);
  check3(name, ys, yv, ref, tol, tot);
  if (rows) {
    char nm[128];
    snprintf(nm, sizeof nm, "%s mean", name);
    check3(nm, ms, mv, mref, mtol, (size_t)rows);
    snprintf(nm, sizeof nm, "%s inv_std", name);
    check3(nm, is, iv, iref, itol, (size_t)rows);
  }
  free(x); free(sc); free(bi); free(ys); free(yv); free(ref); free(tol);
  free(ms); free(is); free(mv); free(iv); free(mref); free(iref); free(mtol); free(itol);
}

static void test_norm(void) {
  static const int ns[] = {1, 3, 4, 5, 8, 15, 16, 17, 33, 128, 192, 768};
  for (int rms = 0; rms < 2; rms++)
    for (size_t i = 0; i < 12; i++)
      norm_case((int)(i % 3) + 1, ns[i], rms, (int)(i % 2 == 0), !rms && (i % 3 != 1), 2.0f);
  norm_case(4, 64, 0, 1, 1, 1e-3f);                               /* nearly constant rows */
  norm_case(2, 0, 1, 1, 0, 1.0f);                                 /* empty rows */
}

/* ------------------------------------------------------------------ binary_any, where, argreduce, trilu */

static const char *any_names[RT_ANY_COUNT] = {"add", "sub", "mul", "div", "max", "min", "pow", "mod", "fmod",
                                              "shl", "shr", "eq", "lt", "gt", "le", "ge", "and", "or", "xor", "not"};
#define T_F32 1
#define T_U8 2
#define T_I8 3
#define T_I32 6
#define T_I64 7
#define T_BOOL 9
#define T_F64 11
#define T_U32 12
static size_t t_size(int t) { return t == T_F64 || t == T_I64 ? 8 : t == T_F32 || t == T_I32 || t == T_U32 ? 4 : 1; }

/* element i of a buffer as double (floats) or int64 (ints, sign- or zero-extended) */
static double t_getf(int t, const void *p, size_t i) { return t == T_F32 ? ((const float *)p)[i] : ((const double *)p)[i]; }
static int64_t t_geti(int t, const void *p, size_t i) {
  switch (t) {
  case T_U8: case T_BOOL: return ((const uint8_t *)p)[i];
  case T_I8: return ((const int8_t *)p)[i];
  case T_I32: return ((const int32_t *)p)[i];
  case T_U32: return ((const uint32_t *)p)[i];
  default: return ((const int64_t *)p)[i];
  }
}
static void t_seti(int t, void *p, size_t i, int64_t v) {
  switch (t_size(t)) {
  case 1: ((uint8_t *)p)[i] = (uint8_t)v; break;
  case 4: ((uint32_t *)p)[i] = (uint32_t)v; break;
  default: ((int64_t *)p)[i] = v; break;
  }
}

/* the naive result of one element, written into y (dtype yt) */
static void any_naive(int op, int t, const void *a, size_t ia, const void *b, size_t ib, void *y, size_t iy) {
  int fl = t == T_F32 || t == T_F64, uns = t == T_U8 || t == T_U32 || t == T_BOOL;
  if (op >= RT_ANY_EQ) {
    int v;
    if (op >= RT_ANY_AND) {
      int x = t_geti(t, a, ia) != 0, z = t_geti(t, b, ib) != 0;
      v = op == RT_ANY_AND ? (x && z) : op == RT_ANY_OR ? (x || z) : op == RT_ANY_XOR ? (x != z) : !x;
    } else {
      double x = fl ? t_getf(t, a, ia) : (double)t_geti(t, a, ia), z = fl ? t_getf(t, b, ib) : (double)t_geti(t, b, ib);
      v = op == RT_ANY_EQ ? x == z : op == RT_ANY_LT ? x < z : op == RT_ANY_GT ? x > z : op == RT_ANY_LE ? x <= z : x >= z;
    }
    ((uint8_t *)y)[iy] = (uint8_t)v;
    return;
  }
  if (fl) {
    double x = t_getf(t, a, ia), z = t_getf(t, b, ib), r;
    switch (op) {
    case RT_ANY_ADD: r = x + z; break;
    case RT_ANY_SUB: r = x - z; break;
    case RT_ANY_MUL: r = x * z; break;
    case RT_ANY_DIV: r = x / z; break;
    case RT_ANY_MAX: r = fmax(x, z); break;
    case RT_ANY_MIN: r = fmin(x, z); break;
    case RT_ANY_POW: r = pow(x, z); break;
    case RT_ANY_FMOD: r = fmod(x, z); break;
    default: r = x - floor(x / z) * z; break;   /* floored remainder */
    }
    if (t == T_F32) ((float *)y)[iy] = (float)r; else ((double *)y)[iy] = r;
    return;
  }
  int64_t x = t_geti(t, a, ia), z = t_geti(t, b, ib), r;
  switch (op) {
  case RT_ANY_ADD: r = x + z; break;
  case RT_ANY_SUB: r = x - z; break;
  case RT_ANY_MUL: r = x * z; break;
  case RT_ANY_DIV: r = z ? x / z : 0; break;
  case RT_ANY_MAX: r = x > z ? x : z; break;
  case RT_ANY_MIN: r = x < z ? x : z; break;
  case RT_ANY_POW: { r = 1; for (int64_t k = 0; k < z; k++) r *= x; if (z < 0) r = x == 1 ? 1 : 0; break; }
  case RT_ANY_FMOD: r = z ? x % z : 0; break;
  case RT_ANY_SHL: r = (int64_t)((uint64_t)x << z); break;   /* z < 64 here; the store keeps the type's low bits */
  case RT_ANY_SHR: r = (int64_t)((uint64_t)x >> z); break;
  default: r = z ? ((x % z) + z) % z : 0; break;
  }
  (void)uns;
  t_seti(t, y, iy, r);
}

static void fill_any(int t, int op, void *p, size_t n, int divisor) {
  for (size_t i = 0; i < n; i++) {
    if (t == T_F32 || t == T_F64) {
      double v = rnd(-5.0f, 5.0f);
      if (i % 5 == 0) v = (double)rnd_int(-3, 3);         /* exact ties for the comparisons */
      if (divisor && fabs(v) < 0.25) v = 1.5;
      if (op == RT_ANY_POW) v = divisor ? (double)rnd_int(-2, 3) : rnd(0.1f, 3.0f);
      if (t == T_F32) ((float *)p)[i] = (float)v; else ((double *)p)[i] = v;
    } else if (t == T_BOOL) {
      ((uint8_t *)p)[i] = (uint8_t)(rnd_u32() & 1);
    } else {
      int64_t v = rnd_int(t == T_U8 || t == T_U32 ? 0 : -40, 40);
      if (op == RT_ANY_SHL || op == RT_ANY_SHR) {      /* b: shift counts up to past the width (-> 0) */
        if (divisor) { t_seti(t, p, i, rnd_int(0, (int)t_size(t) * 8 + 1)); continue; }
        v = (int64_t)(rnd_u32() & (t == T_U8 ? 0xFF : 0xFFFFFFFFu));
      }
      if (op == RT_ANY_POW) v = divisor ? rnd_int(0, 3) : rnd_int(-3, 3);
      else if (divisor && v == 0) v = 3;
      if (i % 6 == 0 && op != RT_ANY_POW) v = divisor ? v : (t == T_U8 ? 250 : t == T_I8 ? -128 : 2000000000);  /* wrap-around */
      t_seti(t, p, i, v);
    }
  }
}

static void binary_any_case(int op, int t, int rank, const int *ydim, unsigned amask, unsigned bmask) {
  int32_t as[RT_MAX_RANK], bs[RT_MAX_RANK];
  size_t na = 1, nb = 1, ny = 1;
  for (int d = rank - 1; d >= 0; d--) {
    int fa = (amask >> d) & 1, fb = (bmask >> d) & 1;
    as[d] = fa && ydim[d] > 1 ? (int32_t)na : 0;
    bs[d] = fb && ydim[d] > 1 ? (int32_t)nb : 0;
    if (fa) na *= (size_t)ydim[d];
    if (fb) nb *= (size_t)ydim[d];
    ny *= (size_t)ydim[d];
  }
  size_t es = t_size(t), ys = op >= RT_ANY_EQ ? 1 : es;
  unsigned char *a = calloc(na + 1, es), *b = calloc(nb + 1, es);
  unsigned char *y1 = calloc(ny + 1, ys), *y2 = calloc(ny + 1, ys), *ref = calloc(ny + 1, ys);
  int div = op == RT_ANY_DIV || op == RT_ANY_MOD || op == RT_ANY_FMOD || op == RT_ANY_POW || op == RT_ANY_SHL || op == RT_ANY_SHR;
  fill_any(t, op, a, na, 0);
  fill_any(t, op, b, nb, div);
  int32_t idx[RT_MAX_RANK] = {0};
  for (size_t i = 0; i < ny; i++) {
    size_t ao = 0, bo = 0;
    for (int d = 0; d < rank; d++) { ao += (size_t)idx[d] * (size_t)as[d]; bo += (size_t)idx[d] * (size_t)bs[d]; }
    any_naive(op, t, a, ao, op == RT_ANY_NOT ? a : b, op == RT_ANY_NOT ? ao : bo, ref, i);
    for (int d = rank - 1; d >= 0; d--) { if (++idx[d] < ydim[d]) break; idx[d] = 0; }
  }
  RtBinaryAny p;
  memset(&p, 0, sizeof p);
  p.a = A(a); p.b = op == RT_ANY_NOT ? A(a) : A(b); p.op = op; p.rank = rank; p.dtype = t;
  for (int d = 0; d < rank; d++) { p.dim[d] = ydim[d]; p.astride[d] = as[d]; p.bstride[d] = op == RT_ANY_NOT ? as[d] : bs[d]; }
  p.y = A(y1);
  rt_binary_any__scalar(&p);
  p.y = A(y2);
  rt_binary_any__simd128(&p);
  char name[160], dims[64] = "", *q = dims;
  for (int d = 0; d < rank; d++) q += snprintf(q, 8, "%s%d", d ? "x" : "", ydim[d]);
  snprintf(name, sizeof name, "binary_any[%s dtype=%d %s a%x b%x]", any_names[op], t, dims, amask, bmask);
  if ((t == T_F32 || t == T_F64) && op < RT_ANY_EQ) {       /* float arithmetic: compare as floats with tolerance */
    float *fr = fbuf(ny), *f1 = fbuf(ny), *f2 = fbuf(ny), *tl = fbuf(ny);
    for (size_t i = 0; i < ny; i++) {
      fr[i] = (float)t_getf(t, ref, i); f1[i] = (float)t_getf(t, y1, i); f2[i] = (float)t_getf(t, y2, i);
      tl[i] = (float)((op == RT_ANY_POW ? 2e-6 : t == T_F64 ? 1e-15 : 1e-7) * fabs(fr[i]) + 1e-30);
      if ((op == RT_ANY_MOD || op == RT_ANY_FMOD)) tl[i] = (float)(1e-6 * 5);   /* remainder of values |x| <= 5 */
    }
    check3(name, f1, f2, fr, tl, ny);
    free(fr); free(f1); free(f2); free(tl);
  } else {
    check_bytes(name, "scalar~naive", y1, ref, ny * ys);
    check_bytes(name, "simd~naive", y2, ref, ny * ys);
  }
  free(a); free(b); free(y1); free(y2); free(ref);
}

static void test_binary_any(void) {
  static const int types[] = {T_F32, T_F64, T_I32, T_I64, T_U8, T_I8, T_U32, T_BOOL};
  static const int sizes[] = {1, 3, 4, 5, 8, 17};
  for (int op = 0; op < RT_ANY_COUNT; op++)
    for (size_t ti = 0; ti < sizeof types / sizeof types[0]; ti++) {
      int t = types[ti];
      if ((op >= RT_ANY_AND) != (t == T_BOOL)) continue;      /* logic ops on bool only, the rest on numbers */
      if ((op == RT_ANY_SHL || op == RT_ANY_SHR) && t != T_U8 && t != T_U32) continue;   /* shifts: unsigned only */
      for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        int d1[1] = {sizes[si]};
        binary_any_case(op, t, 1, d1, 1, 1);
        binary_any_case(op, t, 1, d1, 1, 0);
        binary_any_case(op, t, 1, d1, 0, 1);
      }
      int d3[3] = {3, 5, 7};
      binary_any_case(op, t, 3, d3, 7, 1);
      binary_any_case(op, t, 3, d3, 5, 2);
      binary_any_case(op, t, 3, d3, 4, 7);
    }
}

static void where_case(int esize, int rank, const int *ydim, unsigned cmask, unsigned xmask, unsigned ymask) {
  int32_t cs[RT_MAX_RANK], xs[RT_MAX_RANK], ys[RT_MAX_RANK];
  size_t nc = 1, nx = 1, ny = 1, no = 1;
  for (int d = rank - 1; d >= 0; d--) {
    int fc = (cmask >> d) & 1, fx = (xmask >> d) & 1, fy = (ymask >> d) & 1;
    cs[d] = fc && ydim[d] > 1 ? (int32_t)nc : 0;
    xs[d] = fx && ydim[d] > 1 ? (int32_t)nx : 0;
    ys[d] = fy && ydim[d] > 1 ? (int32_t)ny : 0;
    if (fc) nc *= (size_t)ydim[d];
    if (fx) nx *= (size_t)ydim[d];
    if (fy) ny *= (size_t)ydim[d];
    no *= (size_t)ydim[d];
  }
  unsigned char *c = malloc(nc), *x = malloc(nx * esize), *y = malloc(ny * esize), *o = malloc(no * esize + 1), *ref = malloc(no * esize + 1);
  for (size_t i = 0; i < nc; i++) c[i] = (uint8_t)(rnd_u32() % 3 == 0 ? 0 : rnd_int(1, 5));   /* any nonzero is true */
  for (size_t i = 0; i < nx * esize; i++) x[i] = (uint8_t)rnd_u32();
  for (size_t i = 0; i < ny * esize; i++) y[i] = (uint8_t)rnd_u32();
  int32_t idx[RT_MAX_RANK] = {0};
  for (size_t i = 0; i < no; i++) {
    size_t co = 0, xo = 0, yo = 0;
    for (int d = 0; d < rank; d++) { co += (size_t)idx[d] * cs[d]; xo += (size_t)idx[d] * xs[d]; yo += (size_t)idx[d] * ys[d]; }
    memcpy(ref + i * esize, c[co] ? x + xo * esize : y + yo * esize, (size_t)esize);
    for (int d = rank - 1; d >= 0; d--) { if (++idx[d] < ydim[d]) break; idx[d] = 0; }
  }
  o[no * esize] = ref[no * esize] = 0x5a;                       /* guard byte */
  RtWhere p;
  memset(&p, 0, sizeof p);
  p.c = A(c); p.x = A(x); p.y = A(y); p.out = A(o); p.esize = esize; p.rank = rank;
  for (int d = 0; d < rank; d++) { p.dim[d] = ydim[d]; p.cstride[d] = cs[d]; p.xstride[d] = xs[d]; p.ystride[d] = ys[d]; }
  rt_where(&p);
  char name[128];
  snprintf(name, sizeof name, "where[esize=%d rank=%d c%x x%x y%x]", esize, rank, cmask, xmask, ymask);
  check_bytes(name, "entry~naive", o, ref, no * esize + 1);
  free(c); free(x); free(y); free(o); free(ref);
}

static void test_where(void) {
  static const int es[] = {1, 4, 8};
  for (int e = 0; e < 3; e++) {
    int d1[1] = {17}, d3[3] = {3, 4, 5};
    where_case(es[e], 1, d1, 1, 1, 1);
    where_case(es[e], 1, d1, 1, 0, 1);
    where_case(es[e], 1, d1, 0, 1, 0);
    where_case(es[e], 3, d3, 7, 1, 6);
    where_case(es[e], 3, d3, 5, 7, 2);
    for (int r = 0; r < 4; r++) {
      int rank = rnd_int(1, RT_MAX_RANK), dims[RT_MAX_RANK];
      for (int d = 0; d < rank; d++) dims[d] = rnd_int(1, 4);
      where_case(es[e], rank, dims, rnd_u32() & 63, rnd_u32() & 63, rnd_u32() & 63);
    }
  }
}

static void argreduce_case(int outer, int n, int inner, int op, int last, int special) {
  size_t tot = (size_t)outer * n * inner, no = (size_t)outer * inner;
  float *x = frand_buf(tot, -4, 4);
  if (special == 1) for (size_t i = 0; i < tot; i++) x[i] = (float)rnd_int(-2, 2);   /* many ties */
  if (special == 2) for (size_t i = 0; i < tot; i += 7) x[i] = NAN;                 /* NaNs */
  int64_t *ys = calloc(no + 1, 8), *yv = calloc(no + 1, 8), *ref = calloc(no + 1, 8);
  for (int o = 0; o < outer; o++)
    for (int i = 0; i < inner; i++) {                          /* naive: first/last index of the extreme value */
      float best = 0; int64_t bi = -1;
      for (int j = 0; j < n && bi < 0; j++)                    /* a NaN is the answer when there is one */
        if (isnan(x[((size_t)o * n + j) * inner + i])) bi = j;
      if (bi < 0) {
        best = x[(size_t)o * n * inner + i];
        for (int j = 0; j < n; j++) {
          float v = x[((size_t)o * n + j) * inner + i];
          if (op == 0 ? v > best : v < best) best = v;
        }
        for (int j = 0; j < n; j++)
          if (x[((size_t)o * n + j) * inner + i] == best && (bi < 0 || last)) bi = j;
      }
      ref[(size_t)o * inner + i] = bi;
    }
  RtArgReduce p = {A(x), A(ys), outer, n, inner, op, last};
  rt_argreduce_f32__scalar(&p);
  p.y = A(yv);
  rt_argreduce_f32__simd128(&p);
  char name[128];
  snprintf(name, sizeof name, "argreduce[%s %dx%dx%d last=%d special=%d]", op ? "min" : "max", outer, n, inner, last, special);
  check_bytes(name, "scalar~naive", ys, ref, no * 8);
  check_bytes(name, "simd~naive", yv, ref, no * 8);
  free(x); free(ys); free(yv); free(ref);
}

/* ------------------------------------------------------------------ reverse_seq */

/* reverse_seq: both axis orders, element sizes 1..8, lengths 0..time plus out-of-range ones (clamped);
 * reference: y[b][t] = x[b][len-1-t] for t < len, else x[b][t], element by element */
static void test_reverse_seq(void) {
  static const int es[] = {1, 2, 4, 8};
  for (int c = 0; c < 32; c++) {
    int batch = rnd_int(1, 4), time = rnd_int(1, 6), inner = rnd_int(1, 5), es1 = es[c % 4], bfirst = (c / 4) % 2;
    size_t n = (size_t)batch * time * inner;
    unsigned char *x = malloc(n * es1), *y = malloc(n * es1 + 8), *ref = malloc(n * es1 + 8);
    int64_t *lens = malloc((size_t)batch * 8);
    for (size_t j = 0; j < n * es1; j++) x[j] = (unsigned char)rnd_u32();
    for (int b = 0; b < batch; b++) lens[b] = c % 7 == 6 && b == 0 ? (c % 2 ? -1 : time + 2) : rnd_int(0, time);
    int bs = bfirst ? time * inner : inner, ts = bfirst ? inner : batch * inner;
    memset(y, 0x33, n * es1 + 8);
    memset(ref, 0x33, n * es1 + 8);
    for (int b = 0; b < batch; b++)
      for (int t = 0; t < time; t++)
        for (int e = 0; e < inner; e++) {
          long len = lens[b] < 0 ? 0 : lens[b] > time ? time : (long)lens[b];
          long src = t < len ? len - 1 - t : t;
          memcpy(ref + ((size_t)b * bs + (size_t)t * ts + e) * es1, x + ((size_t)b * bs + (size_t)src * ts + e) * es1, (size_t)es1);
        }
    RtReverseSeq p = {A(x), A(lens), A(y), es1, batch, time, inner, bs, ts};
    rt_reverse_seq(&p);
    char name[96];
    snprintf(name, sizeof name, "reverse_seq[batch=%d time=%d inner=%d esize=%d %s]", batch, time, inner, es1, bfirst ? "batch-first" : "time-first");
    check_bytes(name, "entry~naive", y, ref, n * es1 + 8);
    free(x); free(y); free(ref); free(lens);
  }
}

/* ------------------------------------------------------------------ rnn */

static double sigm(double v) { return 1.0 / (1.0 + exp(-v)); }

/* rnn_f32: RNN, GRU (linear_before_reset 0 and 1) and LSTM (with and without peepholes), both layouts, forward,
 * reverse and bidirectional, with sequence lengths (0 and short ones among them) and initial states.
 * Reference: the ONNX equations in double, written per gate:
 *   RNN  h = tanh(Wx + Rh + Wb + Rb)
 *   GRU  z = s(Wz x + Rz h + b), r = s(Wr x + Rr h + b), n = tanh(Wh x + Rh (r*h) + Rbh + Wbh)  (lbr 0)
 *        or n = tanh(Wh x + r*(Rh h + Rbh) + Wbh) (lbr 1); h = (1-z) n + z h
 *   LSTM i = s(.. + Pi c), f = s(.. + Pf c), g = tanh(..), c = f c + i g, o = s(.. + Po c), h = o tanh(c)
 * Y rows past a sequence's length are zero; Y_h / Y_c hold the state after its last step. */
static void rnn_case(int cell, int layout, int dirmode, int lbr, int peep) {
  int G = cell == 0 ? 1 : cell == 1 ? 3 : 4, H = rnd_int(1, 4), I = rnd_int(1, 5), S = rnd_int(1, 4), B = rnd_int(1, 3);
  int ND = dirmode == 2 ? 2 : 1;
  float *x = frand_buf((size_t)S * B * I, -1.5f, 1.5f), *w = frand_buf((size_t)ND * G * H * I, -0.8f, 0.8f);
  float *r = frand_buf((size_t)ND * G * H * H, -0.8f, 0.8f), *bias = frand_buf((size_t)ND * 2 * G * H, -0.5f, 0.5f);
  float *pp = frand_buf((size_t)ND * 3 * H, -0.7f, 0.7f), *h0 = frand_buf((size_t)ND * B * H, -1, 1);
  float *c0 = frand_buf((size_t)ND * B * H, -1, 1);
  int32_t lens[3];
  for (int b = 0; b < B; b++) lens[b] = b == 0 ? S : rnd_int(0, S);
  size_t ny = (size_t)S * ND * B * H, ns = (size_t)ND * B * H;
  float *y = fbuf(ny), *yh = fbuf(ns), *yc = fbuf(ns), *scr = fbuf((size_t)(3 + 2 * G) * H);
  float *ry = fbuf(ny), *ryh = fbuf(ns), *ryc = fbuf(ns), *tol = fbuf(ny > ns ? ny : ns);
  for (size_t i = 0; i < ny; i++) { ry[i] = 0; y[i] = 777.0f; }
  for (int d = 0; d < ND; d++)
    for (int b = 0; b < B; b++) {
      size_t so = layout ? ((size_t)b * ND + d) * H : ((size_t)d * B + b) * H;
      double h[4], c[4], nh[4], nc[4], a[4][4];   /* a[gate][j]: W x + W bias, plus R h + R bias where it applies */
      for (int j = 0; j < H; j++) { h[j] = h0[so + j]; c[j] = c0[so + j]; }
      int rev = dirmode == 1 || (dirmode == 2 && d == 1);
      for (int s = 0; s < lens[b]; s++) {
        int t = rev ? lens[b] - 1 - s : s;
        const float *xt = x + (layout ? (size_t)b * S + t : (size_t)t * B + b) * I;
        double rh[4][4];
        for (int q = 0; q < G; q++)
          for (int j = 0; j < H; j++) {
            int row = q * H + j;
            double sx = bias[(size_t)d * 2 * G * H + row], sh = bias[(size_t)d * 2 * G * H + G * H + row];
            for (int k = 0; k < I; k++) sx += (double)w[((size_t)d * G * H + row) * I + k] * xt[k];
            for (int k = 0; k < H; k++) sh += (double)r[((size_t)d * G * H + row) * H + k] * h[k];
            a[q][j] = sx;
            rh[q][j] = sh;
          }
        const float *P = pp + (size_t)d * 3 * H;
        for (int j = 0; j < H; j++) {
          if (cell == 0) nh[j] = tanh(a[0][j] + rh[0][j]);
          else if (cell == 1) {
            double z = sigm(a[0][j] + rh[0][j]), n;
            if (lbr) n = tanh(a[2][j] + sigm(a[1][j] + rh[1][j]) * rh[2][j]);
            else {
              double sum = bias[(size_t)d * 2 * G * H + G * H + 2 * H + j];
              for (int k = 0; k < H; k++)
                sum += (double)r[((size_t)d * G * H + 2 * H + j) * H + k] * sigm(a[1][k] + rh[1][k]) * h[k];
              n = tanh(a[2][j] + sum);
            }
            nh[j] = (1 - z) * n + z * h[j];
          } else {
            double ig = sigm(a[0][j] + rh[0][j] + (peep ? P[j] * c[j] : 0));
            double fg = sigm(a[2][j] + rh[2][j] + (peep ? P[2 * H + j] * c[j] : 0));
            nc[j] = fg * c[j] + ig * tanh(a[3][j] + rh[3][j]);
            double og = sigm(a[1][j] + rh[1][j] + (peep ? P[H + j] * nc[j] : 0));
            nh[j] = og * tanh(nc[j]);
          }
        }
        for (int j = 0; j < H; j++) {
          h[j] = nh[j];
          if (cell == 2) c[j] = nc[j];
          ry[(layout ? ((size_t)b * S + t) * ND + d : ((size_t)t * ND + d) * B + b) * H + j] = (float)h[j];
        }
      }
      for (int j = 0; j < H; j++) { ryh[so + j] = (float)h[j]; ryc[so + j] = (float)c[j]; }
    }
  for (size_t i = 0; i < (ny > ns ? ny : ns); i++) tol[i] = 2e-5f;
  RtRnn p = {.x = A(x), .w = A(w), .r = A(r), .b = A(bias), .p = cell == 2 && peep ? A(pp) : 0, .lens = A(lens),
             .h0 = A(h0), .c0 = cell == 2 ? A(c0) : 0, .y = A(y), .yh = A(yh), .yc = cell == 2 ? A(yc) : 0,
             .scratch = A(scr), .cell = cell, .seq = S, .batch = B, .input = I, .hidden = H, .ndir = ND,
             .layout = layout, .rev = dirmode == 1 ? 1 : dirmode == 2 ? 2 : 0, .lbr = lbr};
  rt_rnn_f32(&p);
  static const char *cells[] = {"rnn", "gru", "lstm"}, *dirs[] = {"forward", "reverse", "bidirectional"};
  char name[128];
  snprintf(name, sizeof name, "rnn_f32[%s S=%d B=%d I=%d H=%d layout=%d %s lbr=%d peep=%d]", cells[cell], S, B, I, H,
           layout, dirs[dirmode], lbr, peep);
  check(name, "Y~naive", y, ry, tol, 1.0f, ny);
  check(name, "Y_h~naive", yh, ryh, tol, 1.0f, ns);
  if (cell == 2) check(name, "Y_c~naive", yc, ryc, tol, 1.0f, ns);
  free(x); free(w); free(r); free(bias); free(pp); free(h0); free(c0);
  free(y); free(yh); free(yc); free(scr); free(ry); free(ryh); free(ryc); free(tol);
}

static void test_rnn(void) {
  for (int layout = 0; layout < 2; layout++)
    for (int dm = 0; dm < 3; dm++) {
      rnn_case(0, layout, dm, 0, 0);
      rnn_case(1, layout, dm, 0, 0);
      rnn_case(1, layout, dm, 1, 0);
      rnn_case(2, layout, dm, 0, 0);
      rnn_case(2, layout, dm, 0, 1);
    }
}

/* ------------------------------------------------------------------ topk */

/* TopK's order as ONNX states it: larger (largest) / smaller value first, equal values by lower index, NaN above
 * every number */
static int topk_naive_before(float a, int ia, float b, int ib, int largest) {
  int na = isnan(a), nb = isnan(b);
  if (na || nb) {
    if (na && nb) return ia < ib;
    return na == (largest != 0);
  }
  if (a != b) return largest ? a > b : a < b;
  return ia < ib;
}

/* topk_f32: every (outer, n, inner, k) shape below, both directions, values drawn from a few integers (many ties)
 * with some NaN; reference: a full sort of each slice (insertion sort by the order above), first k kept. */
static void test_topk(void) {
  for (int c = 0; c < 48; c++) {
    int outer = rnd_int(1, 3), n = rnd_int(1, 12), inner = rnd_int(1, 4), k = rnd_int(0, n), largest = c % 2;
    size_t xn = (size_t)outer * n * inner, yn = (size_t)outer * k * inner;
    float *x = fbuf(xn), *y = fbuf(yn + 1), *ref = fbuf(yn + 1);
    int64_t *yi = malloc((yn + 1) * 8), *refi = malloc((yn + 1) * 8);
    for (size_t j = 0; j < xn; j++) x[j] = c % 3 == 0 && rnd_int(0, 9) == 0 ? NAN : (float)rnd_int(-4, 4);
    for (int o = 0; o < outer; o++)
      for (int i = 0; i < inner; i++) {
        float v[12];
        int id[12];
        for (int j = 0; j < n; j++) {
          float t = x[((size_t)o * n + j) * inner + i];
          int tj = j, p = j;
          for (; p > 0 && topk_naive_before(t, tj, v[p - 1], id[p - 1], largest); p--) { v[p] = v[p - 1]; id[p] = id[p - 1]; }
          v[p] = t; id[p] = tj;
        }
        for (int j = 0; j < k; j++) { ref[((size_t)o * k + j) * inner + i] = v[j]; refi[((size_t)o * k + j) * inner + i] = id[j]; }
      }
    y[yn] = ref[yn] = 7.0f;            /* a guard past the end */
    yi[yn] = refi[yn] = 77;
    RtTopK p = {A(x), A(y), A(yi), outer, n, inner, k, largest};
    rt_topk_f32(&p);
    char name[96];
    snprintf(name, sizeof name, "topk[outer=%d n=%d inner=%d k=%d %s]", outer, n, inner, k, largest ? "largest" : "smallest");
    check_bytes(name, "values~naive", (unsigned char *)y, (unsigned char *)ref, (yn + 1) * 4);
    check_bytes(name, "indices~naive", (unsigned char *)yi, (unsigned char *)refi, (yn + 1) * 8);
    free(x); free(y); free(ref); free(yi); free(refi);
  }
}

static void test_argreduce(void) {
  static const int inners[] = {1, 3, 4, 5, 8, 13};
  for (int op = 0; op < 2; op++)
    for (int last = 0; last < 2; last++)
      for (int sp = 0; sp < 3; sp++)
        for (size_t i = 0; i < sizeof inners / sizeof inners[0]; i++) {
          argreduce_case(2, 7, inners[i], op, last, sp);
          argreduce_case(1, 1, inners[i], op, last, sp);
          argreduce_case(3, 33, inners[i], op, last, sp);
        }
}

static void trilu_case(int batch, int rows, int cols, int k, int upper, int esize, int inplace) {
  size_t tot = (size_t)batch * rows * cols * esize;
  unsigned char *x = malloc(tot + 1), *y = malloc(tot + 1), *ref = malloc(tot + 1);
  for (size_t i = 0; i < tot; i++) x[i] = (uint8_t)(rnd_u32() | 1);
  for (int m = 0; m < batch; m++)
    for (int r = 0; r < rows; r++)
      for (int c = 0; c < cols; c++) {
        size_t at = (((size_t)m * rows + r) * cols + c) * esize;
        int keep = upper ? c - r >= k : c - r <= k;
        for (int b = 0; b < esize; b++) ref[at + b] = keep ? x[at + b] : 0;
      }
  y[tot] = ref[tot] = 0x5a;
  if (inplace) memcpy(y, x, tot);
  int64_t k64 = k;
  RtTrilu p = {A(x), A(y), batch, rows, cols, inplace ? 12345 : k, upper, esize, inplace ? A(&k64) : 0};  /* run-time k */
  if (inplace) p.x = A(y);
  rt_trilu(&p);
  char name[128];
  snprintf(name, sizeof name, "trilu[%dx%dx%d k=%d %s esize=%d%s]", batch, rows, cols, k, upper ? "upper" : "lower", esize,
           inplace ? " in-place" : "");
  check_bytes(name, "entry~naive", y, ref, tot + 1);
  free(x); free(y); free(ref);
}

static void test_trilu(void) {
  static const int ks[] = {-7, -2, -1, 0, 1, 3, 9};
  for (int u = 0; u < 2; u++)
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
      trilu_case(2, 4, 5, ks[i], u, 4, 0);
      trilu_case(1, 5, 3, ks[i], u, 8, (int)(i & 1));
      trilu_case(3, 1, 6, ks[i], u, 1, 0);
      trilu_case(1, 0, 4, ks[i], u, 4, 0);
    }
}

/* ------------------------------------------------------------------ fused attention */

/* heads batches of m query rows; k/v rows stored with capacity cap >= n per head (a resident
 * cache); mask: 0 none, 1 [heads][m][n], 2 one [m][n] for all heads, 3 one row for all rows;
 * holes: every 5th mask entry -inf (no row entirely); qb: q broadcast over heads */
static void attention_case(int heads, int m, int n, int d, int dv, int cap, int maskk, int holes, int qb, float scale) {
  RtAttention p;
  memset(&p, 0, sizeof p);
  p.m = m; p.n = n; p.d = d; p.dv = dv; p.nb = 1; p.bdim[0] = heads; p.scale = scale;
  p.qstride[0] = qb ? 0 : m * d; p.kstride[0] = cap * d; p.vstride[0] = cap * dv;
  size_t nq = (size_t)(qb ? 1 : heads) * m * d, nk = (size_t)heads * cap * d, nv = (size_t)heads * cap * dv;
  size_t mrows = maskk == 1 ? (size_t)heads * m : maskk == 2 ? (size_t)m : 1;
  float *q = frand_buf(nq + 1, -1, 1), *k = frand_buf(nk + 1, -1, 1), *v = frand_buf(nv + 1, -1, 1);
  float *mk = maskk ? frand_buf(mrows * (size_t)n + 1, -3, 1) : 0;
  if (mk && holes)
    for (size_t r = 0; r < mrows; r++)
      for (int t = 1; t < n; t += 5) mk[r * (size_t)n + t] = -INFINITY;
  p.mask_rs = maskk == 3 ? 0 : n;
  p.mstride[0] = maskk == 1 ? m * n : 0;
  size_t ny = (size_t)heads * m * dv;
  float *ys = fbuf(ny + 1), *yv = fbuf(ny + 1), *ref = fbuf(ny + 1), *tol = fbuf(ny + 1), *scr = fbuf((size_t)n + 8);
  double *sc = malloc(sizeof(double) * (size_t)(n + 1));
  for (int h = 0; h < heads; h++)
    for (int i = 0; i < m; i++) {
      const float *qi = q + (size_t)(qb ? 0 : h) * m * d + (size_t)i * d;
      const float *mrow = mk ? mk + (maskk == 1 ? ((size_t)h * m + i) * n : maskk == 2 ? (size_t)i * n : 0) : 0;
      double mx = -INFINITY, sum = 0, serr = 0;
      for (int t = 0; t < n; t++) {
        double acc = 0, mag = 0;
        for (int e = 0; e < d; e++) {
          double tt = (double)qi[e] * k[((size_t)h * cap + t) * d + e];
          acc += tt; mag += fabs(tt);
        }
        sc[t] = acc * scale + (mrow ? mrow[t] : 0.0);
        serr = fmax(serr, 1e-5 * (mag * fabs(scale) + fabs(sc[t])));
        mx = fmax(mx, sc[t]);
      }
      for (int t = 0; t < n; t++) { sc[t] = exp(sc[t] - mx); sum += sc[t]; }
      for (int e = 0; e < dv; e++) {
        double acc = 0, mag = 0;
        for (int t = 0; t < n; t++) {
          double tt = sc[t] / sum * v[((size_t)h * cap + t) * dv + e];
          acc += tt; mag += fabs(tt);
        }
        size_t o = ((size_t)h * m + i) * dv + e;
        ref[o] = (float)acc;
        tol[o] = (float)((2e-5 + 4 * serr) * mag + 1e-6 * fabs(acc) + 1e-30);
      }
    }
  p.q = A(q); p.k = A(k); p.v = A(v); p.mask = mk ? A(mk) : 0; p.scratch = A(scr);
  p.y = A(ys);
  rt_attention_f32__scalar(&p);
  p.y = A(yv);
  rt_attention_f32__simd128(&p);
  char name[160];
  snprintf(name, sizeof name, "attention[heads=%d m=%d n=%d d=%d dv=%d cap=%d mask=%d holes=%d qb=%d scale=%g]",
           heads, m, n, d, dv, cap, maskk, holes, qb, scale);
  check3(name, ys, yv, ref, tol, ny);
  free(q); free(k); free(v); free(mk); free(ys); free(yv); free(ref); free(tol); free(scr); free(sc);
}

static void test_attention(void) {
  static const int ns[] = {1, 2, 3, 4, 5, 8, 13, 33, 129}, ds[] = {1, 3, 4, 8, 32}, dvs[] = {1, 3, 8, 12, 32, 40};
  for (size_t i = 0; i < 9; i++)
    for (size_t j = 0; j < 5; j++) {
      int n = ns[i], d = ds[j], dv = dvs[(i + j) % 6];
      attention_case(1 + (int)(i % 3), 1 + (int)((i + j) % 4), n, d, dv, n + (int)(j % 3) * 7, (int)((i + 2 * j) % 4),
                     n > 2 && (i + j) % 2, (int)(j == 2), j % 2 ? 0.17677669f : 1.0f);
    }
  attention_case(2, 3, 129, 32, 32, 319, 2, 1, 0, 0.17677669f);   /* llama_char decode: GQA rows, resident cache */
  attention_case(4, 64, 64, 32, 32, 255, 2, 1, 0, 0.17677669f);   /* prefill of 64 tokens */
  attention_case(2, 5, 0, 8, 8, 4, 0, 0, 0, 1.0f);                 /* no keys: zeros */
}

/* ------------------------------------------------------------------ resize */

/* Random tap tables (indices inside the input, weights in [-0.5, 1.5), some rows / columns marked as
 * extrapolated) or, with rep, integer nearest upsampling by rep along the row; naive reference: the
 * double-precision 2-D weighted sum of the RtResize contract. */
static void resize_case(int planes, int h, int w, int oh, int ow, int th, int tw, int rep, int extrap) {
  size_t hdr = (sizeof(RtResize) + 15) & ~(size_t)15, nh = (size_t)oh * th, nw = (size_t)ow * tw;
  char *blk = calloc(1, hdr + 8 * (nh + nw));
  int32_t *hidx = (int32_t *)(blk + hdr), *widx = hidx + 2 * nh;
  float *hwt = (float *)(hidx + nh), *wwt = (float *)(widx + nw);
  for (size_t i = 0; i < nh; i++) { hidx[i] = rnd_int(0, h - 1); hwt[i] = th == 1 ? 1.0f : rnd(-0.5f, 1.5f); }
  for (size_t i = 0; i < nw; i++) { widx[i] = rnd_int(0, w - 1); wwt[i] = tw == 1 ? 1.0f : rnd(-0.5f, 1.5f); }
  if (th == 1)   /* repeated source rows, as nearest upsampling makes them */
    for (int oy = 1; oy < oh; oy += 2) hidx[oy] = hidx[oy - 1];
  if (rep)
    for (int ox = 0; ox < ow; ox++) widx[ox] = ox / rep;
  if (extrap) {
    hidx[(size_t)(oh - 1) * th] = -1;
    if (!rep) widx[0] = -1;
  }
  size_t nx = (size_t)planes * h * w, ny = (size_t)planes * oh * ow;
  float *x = frand_buf(nx, -2, 2), *ys = fbuf(ny), *yv = fbuf(ny), *ref = fbuf(ny), *tol = fbuf(ny), *tmp = fbuf((size_t)w);
  for (int pl = 0; pl < planes; pl++)
    for (int oy = 0; oy < oh; oy++)
      for (int ox = 0; ox < ow; ox++) {
        size_t o = ((size_t)pl * oh + oy) * ow + ox;
        double s = 0, mag = 0;
        if (hidx[(size_t)oy * th] < 0 || widx[(size_t)ox * tw] < 0) s = 0.25;
        else
          for (int a = 0; a < th; a++)
            for (int b = 0; b < tw; b++) {
              double t = (double)hwt[oy * th + a] * wwt[ox * tw + b] * x[((size_t)pl * h + hidx[oy * th + a]) * w + widx[ox * tw + b]];
              s += t;
              mag += fabs(t);
            }
        ref[o] = (float)s;
        tol[o] = (float)(ACC_RTOL * (fabs(s) + mag) + 1e-30);
      }
  RtResize p = {A(x), A(ys), th > 1 ? A(tmp) : 0, planes, h, w, oh, ow, th, tw, (int32_t)hdr, rep, oh, ow, 0.25f};
  memcpy(blk, &p, sizeof p);
  rt_resize_f32__scalar((const RtResize *)blk);
  ((RtResize *)blk)->y = A(yv);
  rt_resize_f32__simd128((const RtResize *)blk);
  char name[160];
  snprintf(name, sizeof name, "resize[planes%d %dx%d -> %dx%d taps %dx%d%s%s]", planes, h, w, oh, ow, th, tw,
           rep ? " rep" : "", extrap ? " extrap" : "");
  check3(name, ys, yv, ref, tol, ny);
  if (th > 1 && !guard_ok(tmp, (size_t)w)) report(0, name, "scratch overrun", 1e9);
  free(blk); free(x); free(ys); free(yv); free(ref); free(tol); free(tmp);
}

static void test_resize(void) {
  static const int taps[][2] = {{1, 1}, {2, 2}, {4, 4}, {2, 1}, {1, 4}};
  static const int sz[][4] = {{4, 4, 8, 8}, {5, 7, 3, 2}, {1, 1, 3, 5}, {9, 13, 9, 13}, {6, 17, 11, 23}};
  for (size_t t = 0; t < sizeof taps / sizeof taps[0]; t++)
    for (size_t i = 0; i < sizeof sz / sizeof sz[0]; i++) {
      resize_case(3, sz[i][0], sz[i][1], sz[i][2], sz[i][3], taps[t][0], taps[t][1], 0, 0);
      resize_case(2, sz[i][0], sz[i][1], sz[i][2], sz[i][3], taps[t][0], taps[t][1], 0, 1);
    }
  static const int reps[] = {2, 3, 4, 8};
  static const int ws[] = {1, 3, 4, 9, 16};
  for (size_t r = 0; r < sizeof reps / sizeof reps[0]; r++)
    for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++) {
      resize_case(2, 5, ws[i], 5 * reps[r], ws[i] * reps[r], 1, 1, reps[r], 0);
      resize_case(2, 5, ws[i], 7, ws[i] * reps[r], 2, 1, reps[r], 1);
    }
}

/* ------------------------------------------------------------------ conv transpose */

typedef struct { int n, c, h, w, k, kh, kw, sh, sw, pt, pl, oh_extra, ow_extra, pb, pr, dh, dw, group; } ConvTCfg;

/* Naive reference in gather form: output (oy, ox) sums the taps whose input position is an integer
 * inside x: iy = (oy + pt - ky*dh) / sh when divisible. oh = sh*(h-1) + (kh-1)*dh + 1 - pt - pb + oh_extra. */
static void convt_case(const ConvTCfg *g, int bias, RtAct act) {
  int oh = g->sh * (g->h - 1) + (g->kh - 1) * g->dh + 1 - g->pt - g->pb + g->oh_extra;
  int ow = g->sw * (g->w - 1) + (g->kw - 1) * g->dw + 1 - g->pl - g->pr + g->ow_extra;
  int cg = g->c / g->group, kg = g->k / g->group;
  size_t nx = (size_t)g->n * g->c * g->h * g->w, nw = (size_t)g->c * kg * g->kh * g->kw, ny = (size_t)g->n * g->k * oh * ow;
  float *x = frand_buf(nx, -1, 1), *w = frand_buf(nw, -1, 1), *bv = frand_buf((size_t)g->k, -1, 1);
  float *ys = fbuf(ny), *yv = fbuf(ny), *ref = fbuf(ny), *tol = fbuf(ny);
  for (int b = 0; b < g->n; b++)
    for (int co = 0; co < g->k; co++)
      for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
          int gi = co / kg, col = co % kg;
          double s = bias ? bv[co] : 0, mag = fabs(s);
          for (int cl = 0; cl < cg; cl++)
            for (int ky = 0; ky < g->kh; ky++)
              for (int kx = 0; kx < g->kw; kx++) {
                int ny_ = oy + g->pt - ky * g->dh, nx_ = ox + g->pl - kx * g->dw;
                if (ny_ < 0 || nx_ < 0 || ny_ % g->sh || nx_ % g->sw) continue;
                int iy = ny_ / g->sh, ix = nx_ / g->sw, ci = gi * cg + cl;
                if (iy >= g->h || ix >= g->w) continue;
                double t = (double)x[(((size_t)b * g->c + ci) * g->h + iy) * g->w + ix] *
                           w[(((size_t)ci * kg + col) * g->kh + ky) * g->kw + kx];
                s += t;
                mag += fabs(t);
              }
          size_t o = (((size_t)b * g->k + co) * oh + oy) * ow + ox;
          finish(act, s, ACC_RTOL * (fabs(s) + mag), &ref[o], &tol[o]);
        }
  RtConvTranspose p = {A(x), A(w), bias ? A(bv) : 0, A(ys), g->n, g->c, g->h, g->w, g->k, oh, ow, g->kh, g->kw,
                       g->sh, g->sw, g->pt, g->pl, g->dh, g->dw, g->group, act};
  rt_conv_transpose_f32__scalar(&p);
  p.y = A(yv);
  rt_conv_transpose_f32__simd128(&p);
  char name[200];
  snprintf(name, sizeof name, "conv_transpose[n%d c%d %dx%d k%d %dx%d s%d,%d p%d,%d,%d,%d +%d,%d d%d,%d g%d%s %s]", g->n,
           g->c, g->h, g->w, g->k, g->kh, g->kw, g->sh, g->sw, g->pt, g->pl, g->pb, g->pr, g->oh_extra, g->ow_extra,
           g->dh, g->dw, g->group, bias ? " bias" : "", act_names[act.kind]);
  check3(name, ys, yv, ref, tol, ny);
  free(x); free(w); free(bv); free(ys); free(yv); free(ref); free(tol);
}

static void test_conv_transpose(void) {
  static const ConvTCfg cfgs[] = {
      /* n c  h   w  k  kh kw sh sw pt pl +h +w pb pr dh dw g */
      {1, 24, 10, 12, 24, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 1, 1, 1},   /* the upsampling head of DB text detectors */
      {1, 24, 9, 19, 1, 2, 2, 2, 2, 0, 0, 0, 0, 0, 0, 1, 1, 1},
      {2, 3, 5, 7, 5, 3, 3, 1, 1, 0, 0, 0, 0, 0, 0, 1, 1, 1},
      {1, 4, 6, 6, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1},       /* pads + output_padding */
      {1, 6, 5, 9, 4, 3, 2, 3, 2, 0, 1, 1, 0, 2, 0, 2, 1, 2},       /* groups, dilation, uneven */
      {1, 8, 1, 17, 8, 1, 4, 1, 4, 0, 0, 0, 0, 0, 0, 1, 1, 8},      /* 1-D, depthwise */
      {1, 5, 4, 4, 7, 4, 4, 1, 1, 2, 2, 0, 0, 2, 2, 1, 1, 1},
      {1, 2, 3, 3, 3, 3, 3, 3, 2, 0, 0, 1, 1, 0, 0, 1, 1, 1},       /* stride > kernel: gaps */
  };
  for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
    convt_case(&cfgs[i], 1, make_act(RT_ACT_NONE));
    convt_case(&cfgs[i], 0, make_act(i % 2 ? RT_ACT_RELU : RT_ACT_SIGMOID));
  }
}

/* ------------------------------------------------------------------ integer MatMul / Conv (qgemm.c) */

/* 8-bit operand values and zero points: random, or at the type's extremes (zp_mode 1: low, 2: high) */
static int q_rand8(int s8) { return s8 ? rnd_int(-128, 127) : rnd_int(0, 255); }
static int q_zp_pick(int s8, int mode) { return mode == 1 ? (s8 ? -128 : 0) : mode == 2 ? (s8 ? 127 : 255) : q_rand8(s8); }
static void *q_buf(size_t bytes) {   /* 16-aligned, GUARD bytes of 0xA5 after the end */
  uint8_t *p = aligned_alloc(16, (bytes + GUARD + 15) & ~(size_t)15);
  memset(p, 0xA5, bytes + GUARD);
  return p;
}
static void q_fill(void *p, size_t n, int s8) {
  for (size_t i = 0; i < n; i++) ((uint8_t *)p)[i] = (uint8_t)q_rand8(s8);
}
static int q_get(const void *p, size_t i, int s8) { return s8 ? ((const int8_t *)p)[i] : ((const uint8_t *)p)[i]; }
/* exact comparison of n bytes plus the guard after them */
static void q_check(const char *name, const char *what, const void *got, const void *ref, size_t n) {
  int ok = memcmp(got, ref, n) == 0;
  for (size_t i = n; i < n + GUARD; i++) ok &= ((const uint8_t *)got)[i] == 0xA5;
  if (!ok) {
    size_t i = 0;
    while (i < n && ((const uint8_t *)got)[i] == ((const uint8_t *)ref)[i]) i++;
    printf("  first differing byte %zu of %zu\n", i, n);
  }
  report(ok, name, what, ok ? 0.0 : 1e9);
}
/* the textbook output: acc as int32, or requantized: the multiplier in float32 a_scale * b_scale / y_scale,
 * round half to even (rintf in the default rounding mode), add the zero point, saturate */
static void q_naive_out(void *y, size_t idx, int64_t acc, int requant, int ys8, float as, float bs, float ysc, int yzp) {
  if (!requant) { ((int32_t *)y)[idx] = (int32_t)acc; return; }
  float mult = as * bs / ysc;
  long v = lrintf((float)(int32_t)acc * mult) + yzp, lo = ys8 ? -128 : 0, hi = ys8 ? 127 : 255;
  v = v < lo ? lo : v > hi ? hi : v;
  if (ys8) ((int8_t *)y)[idx] = (int8_t)v; else ((uint8_t *)y)[idx] = (uint8_t)v;
}

/* flags: RT_Q_* ; zpm: zero point mode (0 random, 1 low extreme, 2 high extreme); nb2: two batches of A
 * over one B (bstride 0) */
static void qmm_case(int m, int n, int k, int flags, int zpm, int nb2) {
  int as8 = !!(flags & RT_Q_A_S8), bs8 = !!(flags & RT_Q_B_S8), ys8 = !!(flags & RT_Q_Y_S8);
  int rq = !!(flags & RT_Q_REQUANT), bvec = !!(flags & RT_Q_BZP_VEC), svec = !!(flags & RT_Q_BSCALE_VEC);
  int nbat = nb2 ? 2 : 1, esz = rq ? 1 : 4;
  size_t ny = (size_t)nbat * m * n;
  uint8_t *a = q_buf((size_t)nbat * m * k + 1), *b = q_buf((size_t)k * n + 1), *azp = q_buf(1), *bzp = q_buf((size_t)n), *yzp = q_buf(1);
  float as = rnd(0.001f, 0.05f), ysc = rnd(0.05f, 0.5f), *bs = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
  q_fill(a, (size_t)nbat * m * k, as8);
  q_fill(b, (size_t)k * n, bs8);
  azp[0] = (uint8_t)q_zp_pick(as8, zpm);
  for (int j = 0; j < n; j++) bzp[j] = (uint8_t)q_zp_pick(bs8, zpm == 0 ? 0 : (zpm + j) % 3);
  yzp[0] = (uint8_t)q_zp_pick(ys8, zpm);
  for (int j = 0; j < (n > 0 ? n : 1); j++) bs[j] = rnd(0.001f, 0.05f);
  void *ys = q_buf(ny * esz), *yv = q_buf(ny * esz), *ref = q_buf(ny * esz);
  uint32_t sbytes = rt_q_matmul_scratch(m, k);
  void *scr = q_buf(sbytes);
  for (int bi = 0; bi < nbat; bi++)
    for (int i = 0; i < m; i++)
      for (int j = 0; j < n; j++) {
        int64_t acc = 0;
        int bz = q_get(bzp, bvec ? (size_t)j : 0, bs8);
        for (int q = 0; q < k; q++)
          acc += (int64_t)(q_get(a, ((size_t)bi * m + i) * k + q, as8) - q_get(azp, 0, as8)) * (q_get(b, (size_t)q * n + j, bs8) - bz);
        q_naive_out(ref, ((size_t)bi * m + i) * n + j, acc, rq, ys8, as, bs[svec ? j : 0], ysc, q_get(yzp, 0, ys8));
      }
  RtMatMulI8 p = {.a = A(a), .b = A(b), .y = A(ys), .a_zp = A(azp), .b_zp = A(bzp), .a_scale = A(&as), .b_scale = A(bs),
                  .y_scale = A(&ysc), .y_zp = A(yzp), .scratch = A(scr), .m = m, .n = n, .k = k, .flags = flags};
  if (nb2) { p.nb = 1; p.bdim[0] = 2; p.astride[0] = m * k; p.bstride[0] = 0; }
  rt_matmul_i8__scalar(&p);
  p.y = A(yv);
  rt_matmul_i8__simd128(&p);
  char name[96];
  snprintf(name, sizeof name, "matmul_i8 %dx%dx%d %c%c%s%s zp%d%s", m, n, k, as8 ? 's' : 'u', bs8 ? 's' : 'u',
           rq ? (ys8 ? " ->s8" : " ->u8") : "", bvec || svec ? " per-col" : "", zpm, nb2 ? " batch2" : "");
  q_check(name, "scalar==naive", ys, ref, ny * esz);
  q_check(name, "simd==scalar", yv, ys, ny * esz);
  free(a); free(b); free(azp); free(bzp); free(yzp); free(bs); free(ys); free(yv); free(ref); free(scr);
}

typedef struct { int n, c, h, w, k, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, group; } QConvCfg;

static void qconv_case(const QConvCfg *g, int flags, int zpm, int bias) {
  int xs8 = !!(flags & RT_Q_A_S8), ws8 = !!(flags & RT_Q_B_S8), ys8 = !!(flags & RT_Q_Y_S8);
  int rq = !!(flags & RT_Q_REQUANT), wvec = !!(flags & RT_Q_BZP_VEC), svec = !!(flags & RT_Q_BSCALE_VEC), esz = rq ? 1 : 4;
  int fo = !!(flags & RT_Q_FLOAT_OUT), mvec = !!(flags & RT_Q_YMUL_VEC);
  int oh = (g->h + g->pt + g->pb - ((g->kh - 1) * g->dh + 1)) / g->sh + 1;
  int ow = (g->w + g->pl + g->pr - ((g->kw - 1) * g->dw + 1)) / g->sw + 1;
  int cg = g->c / g->group, kg = g->k / g->group;
  size_t nx = (size_t)g->n * g->c * g->h * g->w, nw = (size_t)g->k * cg * g->kh * g->kw, ny = (size_t)g->n * g->k * oh * ow;
  uint8_t *x = q_buf(nx), *w = q_buf(nw), *xzp = q_buf(1), *wzp = q_buf((size_t)g->k), *yzp = q_buf(1);
  int32_t *bv = malloc(sizeof(int32_t) * (size_t)g->k);
  float xsc = rnd(0.001f, 0.05f), ysc = rnd(0.05f, 0.5f), *wsc = malloc(sizeof(float) * (size_t)g->k);
  /* RT_Q_FLOAT_OUT: a multiplier (one, or per channel), an addend per channel for zpm > 0, an activation by zpm */
  float *ymul = malloc(sizeof(float) * (size_t)g->k), *yadd = malloc(sizeof(float) * (size_t)g->k);
  RtAct fact = {zpm == 1 ? RT_ACT_RELU : zpm == 2 ? RT_ACT_CLIP : RT_ACT_NONE, -0.5f, 3.0f};
  for (int co = 0; co < g->k; co++) { ymul[co] = rnd(1e-5f, 1e-3f); yadd[co] = rnd(-1.0f, 1.0f); }
  q_fill(x, nx, xs8);
  q_fill(w, nw, ws8);
  xzp[0] = (uint8_t)q_zp_pick(xs8, zpm);
  yzp[0] = (uint8_t)q_zp_pick(ys8, zpm);
  for (int co = 0; co < g->k; co++) {
    wzp[co] = (uint8_t)q_zp_pick(ws8, zpm == 0 ? 0 : (zpm + co) % 3);
    wsc[co] = rnd(0.001f, 0.05f);
    bv[co] = rnd_int(-20000, 20000);
  }
  void *ys = q_buf(ny * esz), *yv = q_buf(ny * esz), *ref = q_buf(ny * esz);
  size_t scb = rt_q_conv2d_scratch(g->c, g->k, g->h, g->kh, g->kw, g->sh, g->sw, g->dh, g->dw, g->group, oh, ow, 0);
  void *scr = q_buf(scb);
  for (int b = 0; b < g->n; b++)
    for (int co = 0; co < g->k; co++)
      for (int oy = 0; oy < oh; oy++)
        for (int ox = 0; ox < ow; ox++) {
          int64_t acc = bias ? bv[co] : 0;
          int grp = co / kg, wz = q_get(wzp, wvec ? (size_t)co : 0, ws8), xz = q_get(xzp, 0, xs8);
          for (int c = 0; c < cg; c++)
            for (int ky = 0; ky < g->kh; ky++)
              for (int kx = 0; kx < g->kw; kx++) {
                int iy = oy * g->sh - g->pt + ky * g->dh, ix = ox * g->sw - g->pl + kx * g->dw;
                int xv = iy >= 0 && iy < g->h && ix >= 0 && ix < g->w
                         ? q_get(x, (((size_t)b * g->c + grp * cg + c) * g->h + iy) * g->w + ix, xs8) : xz;  /* padding = x_zp */
                acc += (int64_t)(xv - xz) * (q_get(w, (((size_t)co * cg + c) * g->kh + ky) * g->kw + kx, ws8) - wz);
              }
          size_t yi = (((size_t)b * g->k + co) * oh + oy) * ow + ox;
          if (fo) {   /* Cast, Mul, Add, activation: one float32 step each */
            float f = (float)(int32_t)acc * ymul[mvec ? co : 0];
            if (zpm) f = f + yadd[co];
            if (fact.kind == RT_ACT_RELU) f = f < 0.0f ? 0.0f : f;
            if (fact.kind == RT_ACT_CLIP) f = f < fact.a ? fact.a : f > fact.b ? fact.b : f;
            ((float *)ref)[yi] = f;
          } else {
            q_naive_out(ref, yi, acc, rq, ys8, xsc, wsc[svec ? co : 0], ysc, q_get(yzp, 0, ys8));
          }
        }
  /* RT_Q_CLAMP (a fused Relu/Clip): the range [y_zp + 3, type max - 5] of y's integers */
  int32_t ylo = q_get(yzp, 0, ys8) + 3, yhi = (ys8 ? 127 : 255) - 5;
  if (ylo > yhi) ylo = yhi;
  if (rq && (flags & RT_Q_CLAMP))
    for (size_t i = 0; i < ny; i++) {
      int32_t v = q_get(ref, i, ys8);
      v = v < ylo ? ylo : v > yhi ? yhi : v;
      ((uint8_t *)ref)[i] = (uint8_t)v;
    }
  RtConv2dI8 p = {.y_lo = ylo, .y_hi = yhi, .x = A(x), .w = A(w), .bias = bias ? A(bv) : 0, .y = A(ys), .x_zp = A(xzp), .w_zp = A(wzp),
                  .x_scale = A(&xsc), .w_scale = A(wsc), .y_scale = A(&ysc), .y_zp = A(yzp), .scratch = A(scr),
                  .n = g->n, .c = g->c, .h = g->h, .w_ = g->w, .k = g->k, .oh = oh, .ow = ow, .kh = g->kh, .kw = g->kw,
                  .sh = g->sh, .sw = g->sw, .pt = g->pt, .pl = g->pl, .dh = g->dh, .dw = g->dw, .group = g->group, .flags = flags,
                  .y_mul = A(ymul), .y_add = zpm ? A(yadd) : 0, .act = fact};
  rt_conv2d_i8__scalar(&p);
  p.y = A(yv);
  rt_conv2d_i8__simd128(&p);
  char name[128];
  snprintf(name, sizeof name, "conv2d_i8 n%d c%d %dx%d k%d %dx%d s%d,%d p%d,%d,%d,%d d%d,%d g%d %c%c%s%s zp%d%s", g->n, g->c,
           g->h, g->w, g->k, g->kh, g->kw, g->sh, g->sw, g->pt, g->pl, g->pb, g->pr, g->dh, g->dw, g->group, xs8 ? 's' : 'u',
           ws8 ? 's' : 'u', rq ? (ys8 ? " ->s8" : " ->u8") : fo ? (mvec ? " ->f32 mul per-ch" : " ->f32") : "", wvec || svec ? " per-ch" : "", zpm,
           bias ? (flags & RT_Q_CLAMP ? " bias clamp" : " bias") : "");
  q_check(name, "scalar==naive", ys, ref, ny * esz);
  q_check(name, "simd==scalar", yv, ys, ny * esz);
  /* the weights prepacked by the start-up kernel (rt_q_conv_pack, as a module runs it; the compiler's pack for a
   * native library is the same prepack.h function): rows for every non-depthwise conv, Winograd's U for every 3x3
   * stride-1 one, at any size (the compiler may choose it below rt_q_conv_wino's threshold); the SIMD kernel then
   * must not read w */
  for (int fmt = RT_WF_I16_ROWS; fmt <= RT_WF_I16_WINO; fmt++) {
    int dwise = g->group > 1 && g->group == g->c && g->group == g->k;
    int wino_ok = g->h > 1 && g->kh == 3 && g->kw == 3 && g->sh == 1 && g->sw == 1 && g->dh == 1 && g->dw == 1 &&
                  g->group == 1 && g->c <= 512;
    if (dwise || (fmt == RT_WF_I16_WINO && !wino_ok)) continue;
    void *wq = q_buf(rt_q_conv_packed_bytes(fmt, g->k, cg, g->kh * g->kw));
    void *scr2 = q_buf(rt_q_conv2d_scratch(g->c, g->k, g->h, g->kh, g->kw, g->sh, g->sw, g->dh, g->dw, g->group, oh, ow, fmt));
    RtQConvPack qp = {.w = A(w), .w_zp = A(wzp), .wq = A(wq), .k = g->k, .cg = cg, .khkw = g->kh * g->kw, .fmt = fmt,
                      .flags = flags & (RT_Q_B_S8 | RT_Q_BZP_VEC)};
    rt_q_conv_pack(&qp);
    RtConv2dI8 pq = p;
    pq.w = 0;
    pq.wq = A(wq);
    pq.wfmt = fmt;
    pq.scratch = A(scr2);
    memset(yv, 0x5a, ny * esz);
    rt_conv2d_i8__simd128(&pq);
    q_check(name, fmt == RT_WF_I16_ROWS ? "simd(prepacked rows)==scalar" : "simd(prepacked winograd)==scalar", yv, ys, ny * esz);
    free(wq); free(scr2);
  }
  free(x); free(w); free(xzp); free(wzp); free(yzp); free(bv); free(wsc); free(ys); free(yv); free(ref); free(scr);
  free(ymul); free(yadd);
}

static void test_qgemm(void) {
  static const int mnk[][3] = {{1, 1, 1}, {1, 7, 3}, {3, 8, 8}, {4, 8, 16}, {5, 9, 17}, {8, 16, 15}, {13, 23, 40}, {4, 3, 0}, {2, 33, 129}};
  const int nf = 6;
  static const int fl[6] = {0, RT_Q_A_S8 | RT_Q_B_S8, RT_Q_B_S8, RT_Q_A_S8 | RT_Q_BZP_VEC,
                            RT_Q_REQUANT | RT_Q_BZP_VEC | RT_Q_BSCALE_VEC, RT_Q_REQUANT | RT_Q_A_S8 | RT_Q_B_S8 | RT_Q_Y_S8};
  for (size_t i = 0; i < sizeof mnk / sizeof mnk[0]; i++)
    for (int f = 0; f < nf; f++) qmm_case(mnk[i][0], mnk[i][1], mnk[i][2], fl[f], (int)(i + (size_t)f) % 3, 0);
  for (int zpm = 0; zpm < 3; zpm++) {                /* extreme zero points on both types, requantized both ways */
    qmm_case(6, 12, 20, RT_Q_REQUANT, zpm, 0);
    qmm_case(6, 12, 20, RT_Q_REQUANT | RT_Q_A_S8 | RT_Q_B_S8 | RT_Q_Y_S8 | RT_Q_BZP_VEC, zpm, 0);
    qmm_case(3, 10, 9, RT_Q_A_S8 | RT_Q_BZP_VEC, zpm, 1);
  }
  static const QConvCfg cfgs[] = {
      /* n c  h   w  k  kh kw sh sw pt pl pb pr dh dw g */
      {1, 1, 3, 3, 1, 2, 2, 1, 1, 0, 0, 0, 0, 1, 1, 1},       /* the backend cases' shape */
      {1, 1, 3, 3, 1, 2, 2, 1, 1, 1, 1, 1, 1, 1, 1, 1},
      {1, 3, 8, 8, 5, 1, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1},       /* pointwise */
      {2, 4, 9, 11, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},      /* 3x3 pad 1: 8-pixel rows inside and at the edges */
      {1, 5, 12, 13, 7, 3, 5, 2, 2, 2, 1, 0, 2, 2, 1, 1},     /* strides, dilation, uneven pads */
      {1, 4, 7, 7, 6, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 2},       /* groups */
      {1, 6, 10, 10, 6, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 6},     /* depthwise */
      {2, 5, 13, 21, 5, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 5},     /* depthwise stride 1, rows of 21 (8-pixel tails) */
      {1, 4, 17, 19, 4, 5, 5, 2, 2, 2, 2, 2, 2, 1, 1, 4},     /* depthwise 5x5 stride 2 */
      {1, 3, 12, 30, 3, 3, 3, 1, 1, 2, 2, 2, 2, 2, 2, 3},     /* depthwise dilated */
      {1, 3, 9, 16, 3, 3, 2, 2, 1, 0, 1, 1, 0, 1, 1, 3},      /* depthwise, stride 2 along h only, uneven pads */
      {1, 3, 1, 20, 4, 1, 5, 1, 1, 0, 2, 0, 2, 1, 1, 1},      /* 1-D */
      {1, 9, 6, 6, 17, 2, 2, 1, 1, 0, 0, 1, 1, 1, 1, 1},      /* odd reduction, k above the 4-row tile */
      {1, 8, 16, 16, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},     /* integer Winograd: 64 tiles, padding 1 */
      {2, 9, 13, 23, 10, 3, 3, 1, 1, 1, 0, 2, 1, 1, 1, 1},    /* Winograd: odd sizes, odd c and k, uneven pads */
      {1, 16, 40, 40, 12, 3, 3, 1, 1, 0, 0, 0, 0, 1, 1, 1},   /* Winograd: no padding, interior fast blocks */
      {1, 8, 7, 7, 9, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},       /* 16 tiles: blocks of 8 wrap to the next tile row */
      {1, 512, 8, 24, 8, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1},    /* c 512: groups of transformed blocks (L2 budget) */
      {1, 512, 16, 16, 8, 3, 3, 2, 2, 1, 1, 1, 1, 1, 1, 1},   /* reduction 4608: groups of panels (L2 budget) */
  };
  for (size_t i = 0; i < sizeof cfgs / sizeof cfgs[0]; i++) {
    qconv_case(&cfgs[i], (int)i % 2 ? RT_Q_A_S8 | RT_Q_B_S8 : 0, (int)i % 3, 0);
    qconv_case(&cfgs[i], RT_Q_B_S8 | RT_Q_BZP_VEC, (int)(i + 1) % 3, 0);
    qconv_case(&cfgs[i], RT_Q_REQUANT | RT_Q_BZP_VEC | RT_Q_BSCALE_VEC, (int)(i + 2) % 3, 1);
    qconv_case(&cfgs[i], RT_Q_REQUANT | RT_Q_A_S8 | RT_Q_B_S8 | RT_Q_Y_S8 | RT_Q_BSCALE_VEC, (int)i % 3, (int)i % 2);
    qconv_case(&cfgs[i], RT_Q_REQUANT | RT_Q_B_S8 | RT_Q_BSCALE_VEC | RT_Q_CLAMP, (int)(i + 1) % 3, 1);
    qconv_case(&cfgs[i], RT_Q_FLOAT_OUT | (i % 2 ? RT_Q_YMUL_VEC : 0), (int)i % 3, 0);   /* ConvInteger's float rescale */
    qconv_case(&cfgs[i], RT_Q_FLOAT_OUT | RT_Q_B_S8 | RT_Q_BZP_VEC | (i % 2 ? 0 : RT_Q_YMUL_VEC), (int)(i + 1) % 3, 0);
  }
}

/* QLinearAdd (qadd.c): the definition's float32 steps, one statement each (never an FMA) */
static void qadd_case(int n, int flags, int zpm, int with_zp) {
  int as8 = !!(flags & RT_Q_A_S8), bs8 = !!(flags & RT_Q_B_S8), ys8 = !!(flags & RT_Q_Y_S8);
  uint8_t *a = q_buf((size_t)n), *b = q_buf((size_t)n), *zs = q_buf(3);
  void *ys = q_buf((size_t)n), *yv = q_buf((size_t)n), *ref = q_buf((size_t)n);
  float sa = rnd(0.002f, 0.05f), sb = rnd(0.002f, 0.05f), sy = rnd(0.004f, 0.08f);
  q_fill(a, (size_t)n, as8);
  q_fill(b, (size_t)n, bs8);
  zs[0] = (uint8_t)q_zp_pick(as8, zpm);
  zs[1] = (uint8_t)q_zp_pick(bs8, (zpm + 1) % 3);
  zs[2] = (uint8_t)q_zp_pick(ys8, (zpm + 2) % 3);
  int za = with_zp ? q_get(zs, 0, as8) : 0, zb = with_zp ? q_get(zs + 1, 0, bs8) : 0, zy = with_zp ? q_get(zs + 2, 0, ys8) : 0;
  for (int i = 0; i < n; i++) {
    float fa = (float)(q_get(a, (size_t)i, as8) - za) * sa;
    float fb = (float)(q_get(b, (size_t)i, bs8) - zb) * sb;
    float v = fa + fb;
    long q = lrintf(v / sy) + zy, lo = ys8 ? -128 : 0, hi = ys8 ? 127 : 255;
    ((uint8_t *)ref)[i] = (uint8_t)(q < lo ? lo : q > hi ? hi : q);
  }
  RtQAdd p = {.a = A(a), .b = A(b), .y = A(ys), .a_scale = A(&sa), .b_scale = A(&sb), .y_scale = A(&sy),
              .a_zp = with_zp ? A(zs) : 0, .b_zp = with_zp ? A(zs + 1) : 0, .y_zp = with_zp ? A(zs + 2) : 0, .n = n, .flags = flags};
  rt_qadd__scalar(&p);
  p.y = A(yv);
  rt_qadd__simd128(&p);
  char name[64];
  snprintf(name, sizeof name, "qadd n%d %c%c->%c zp%d%s", n, as8 ? 's' : 'u', bs8 ? 's' : 'u', ys8 ? 's' : 'u', zpm, with_zp ? "" : " no-zp");
  q_check(name, "scalar==naive", ys, ref, (size_t)n);
  q_check(name, "simd==scalar", yv, ys, (size_t)n);
  free(a); free(b); free(zs); free(ys); free(yv); free(ref);
}

/* QuantizeLinear / DequantizeLinear per tensor (quant.c): the ONNX float32 steps, written out here */
static void quant_case(int n, int s8, int with_zp, int zpm) {
  float *x = frand_buf((size_t)n, -6.0f, 6.0f), *dy = q_buf((size_t)n * 4), *dv = q_buf((size_t)n * 4), *dref = q_buf((size_t)n * 4);
  uint8_t *z = q_buf(1), *q = q_buf((size_t)n), *qs = q_buf((size_t)n), *qv = q_buf((size_t)n), *qref = q_buf((size_t)n);
  float sc = rnd(0.01f, 0.05f), lo = s8 ? -128.0f : 0.0f, hi = s8 ? 127.0f : 255.0f;
  if (n > 2) { x[0] = 1e30f; x[1] = -1e30f; x[2] = 0.5f * sc; }   /* saturation both ways, a tie (rounds to even) */
  z[0] = (uint8_t)q_zp_pick(s8, zpm);
  float zf = with_zp ? (float)q_get(z, 0, s8) : 0.0f;
  q_fill(q, (size_t)n, s8);
  for (int i = 0; i < n; i++) {
    float v = rintf(x[i] / sc) + zf;
    v = v < lo ? lo : v > hi ? hi : v;
    qref[i] = (uint8_t)(int)v;
    dref[i] = ((float)q_get(q, (size_t)i, s8) - zf) * sc;
  }
  RtQuant p = {.x = A(x), .y = A(qs), .scale = A(&sc), .zp = with_zp ? A(z) : 0, .n = n, .flags = s8 ? RT_Q_Y_S8 : 0};
  rt_quantize__scalar(&p);
  p.y = A(qv);
  rt_quantize__simd128(&p);
  char name[64];
  snprintf(name, sizeof name, "quantize n%d %s zp%d%s", n, s8 ? "s8" : "u8", zpm, with_zp ? "" : " no-zp");
  q_check(name, "scalar==naive", qs, qref, (size_t)n);
  q_check(name, "simd==scalar", qv, qs, (size_t)n);
  RtQuant d = {.x = A(q), .y = A(dy), .scale = A(&sc), .zp = with_zp ? A(z) : 0, .n = n, .flags = s8 ? RT_Q_A_S8 : 0};
  rt_dequantize__scalar(&d);
  d.y = A(dv);
  rt_dequantize__simd128(&d);
  snprintf(name, sizeof name, "dequantize n%d %s zp%d%s", n, s8 ? "s8" : "u8", zpm, with_zp ? "" : " no-zp");
  q_check(name, "scalar==naive", dy, dref, (size_t)n * 4);
  q_check(name, "simd==scalar", dv, dy, (size_t)n * 4);
  /* Requantize (rt_requantize, a table of the 256 values): the dequantized floats just checked, quantized again with
   * another scale and zero point of either type, as the naive two steps */
  for (int ys8 = 0; ys8 < 2; ys8++) {
    uint8_t *yz = q_buf(1), *rq = q_buf((size_t)n), *rref = q_buf((size_t)n);
    float ysc = sc * rnd(0.5f, 3.0f), ylo = ys8 ? -128.0f : 0.0f, yhi = ys8 ? 127.0f : 255.0f;
    yz[0] = (uint8_t)q_zp_pick(ys8, (zpm + 1) % 3);
    for (int i = 0; i < n; i++) {
      float v = rintf(dref[i] / ysc) + (float)q_get(yz, 0, ys8);
      v = v < ylo ? ylo : v > yhi ? yhi : v;
      rref[i] = (uint8_t)(int)v;
    }
    RtRequant r = {.x = A(q), .y = A(rq), .x_scale = A(&sc), .x_zp = with_zp ? A(z) : 0, .y_scale = A(&ysc), .y_zp = A(yz),
                   .n = n, .flags = (s8 ? RT_Q_A_S8 : 0) | (ys8 ? RT_Q_Y_S8 : 0)};
    rt_requantize(&r);
    snprintf(name, sizeof name, "requantize n%d %s->%s zp%d%s", n, s8 ? "s8" : "u8", ys8 ? "s8" : "u8", zpm, with_zp ? "" : " no-zp");
    q_check(name, "==naive dequantize, quantize", rq, rref, (size_t)n);
    free(yz); free(rq); free(rref);
  }
  free(x); free(dy); free(dv); free(dref); free(z); free(q); free(qs); free(qv); free(qref);
}

/* DynamicQuantizeLinear (rt_dynquant): the ONNX function body's float32 steps, written out here; mode 0 mixed
 * signs, 1 all positive, 2 all negative, 3 all zero (scale 1, onnxruntime's choice) */
static void dynq_case(int n, int mode) {
  float *x = frand_buf((size_t)n, mode == 2 ? -6.0f : mode == 1 ? 0.01f : -3.0f, mode == 2 ? -0.01f : 6.0f);
  if (mode == 3) for (int i = 0; i < n; i++) x[i] = 0.0f;
  uint8_t *ys = q_buf((size_t)n), *yv = q_buf((size_t)n), *yref = q_buf((size_t)n), *zs = q_buf(1), *zv = q_buf(1);
  float *ss = fbuf(1), *sv = fbuf(1);
  float lo, hi, sc = 1.0f, zf = 0.0f;
  for (int pass = 0; pass < 2; pass++) {   /* the second after planting a tie (x / scale = 2.5: rounds to 2) */
    if (pass == 1 && mode == 0 && n > 2) x[n / 2] = sc * 2.5f;
    lo = 0.0f; hi = 0.0f;
    for (int i = 0; i < n; i++) { lo = fminf(lo, x[i]); hi = fmaxf(hi, x[i]); }
    sc = hi == lo ? 1.0f : (hi - lo) / 255.0f;
    zf = rintf(0.0f - lo / sc);
    zf = zf < 0 ? 0 : zf > 255 ? 255 : zf;
  }
  for (int i = 0; i < n; i++) {
    float v = rintf(x[i] / sc) + zf;
    v = v < 0 ? 0 : v > 255 ? 255 : v;
    yref[i] = (uint8_t)(int)v;
  }
  RtDynQuant p = {.x = A(x), .y = A(ys), .scale = A(ss), .zp = A(zs), .n = n};
  rt_dynquant__scalar(&p);
  RtDynQuant pv = {.x = A(x), .y = A(yv), .scale = A(sv), .zp = A(zv), .n = n};
  rt_dynquant__simd128(&pv);
  char name[64];
  snprintf(name, sizeof name, "dynquant n%d mode%d", n, mode);
  q_check(name, "scalar==naive", ys, yref, (size_t)n);
  q_check(name, "simd==scalar", yv, ys, (size_t)n);
  report(ss[0] == sc && zs[0] == (uint8_t)(int)zf && sv[0] == sc && zv[0] == zs[0], name, "scale and zero point", 0.0);
  free(x); free(ys); free(yv); free(yref); free(zs); free(zv); free(ss); free(sv);
}

static void test_qadd(void) {
  static const int dn[] = {1, 5, 16, 37, 1000};
  for (size_t i = 0; i < sizeof dn / sizeof dn[0]; i++)
    for (int mode = 0; mode < 4; mode++) dynq_case(dn[i], mode);
  static const int ns[] = {1, 7, 8, 9, 31, 200};
  static const int fl[] = {0, RT_Q_A_S8 | RT_Q_B_S8 | RT_Q_Y_S8, RT_Q_B_S8, RT_Q_A_S8 | RT_Q_Y_S8};
  for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
    for (size_t f = 0; f < sizeof fl / sizeof fl[0]; f++)
      for (int zpm = 0; zpm < 3; zpm++) qadd_case(ns[i], fl[f], zpm, (int)(i + f) % 4 != 3);
  for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
    for (int s8 = 0; s8 < 2; s8++) quant_case(ns[i], s8, (int)i % 3 != 2, (int)(i + (size_t)s8) % 3);
}

static int run_tests(int argc, char **argv) {
  test_approx();
  test_approx2();
  test_unary();
  test_binary();
  test_channel_affine();
  test_gemm();
  test_matmul();
  test_matmul_q();
  test_conv2d();
  test_conv_wino();
  test_pool();
  test_global_pool();
  test_softmax();
  test_layout();
  test_topk();
  test_rnn();
  test_reverse_seq();
  test_pad();
  test_reduce();
  test_cumsum();
  test_cast();
  test_loss();
  test_norm();
  test_binary_any();
  test_where();
  test_argreduce();
  test_trilu();
  test_attention();
  test_resize();
  test_conv_transpose();
  test_qgemm();
  test_qadd();
  if (argc > 1 && strcmp(argv[1], "--bench") == 0) bench();
  if (argc > 1 && strcmp(argv[1], "--bench-wino") == 0) bench_wino();
  printf("%d passed, %d failed\n", g_pass, g_fail);
  return g_fail ? 1 : 0;
}

#ifdef __wasm__
int main(int argc, char **argv) { return run_tests(argc, argv); }
#else
static int g_argc, g_rc;
static char **g_argv;
static void *tests_thread(void *arg) { (void)arg; g_rc = run_tests(g_argc, g_argv); return NULL; }
int main(int argc, char **argv) {
  mallopt(M_MMAP_MAX, 0);                  /* every allocation from brk, below 4 GiB, */
  mallopt(M_ARENA_MAX, 1);                 /* also on the test thread (no per-thread mmap arenas) */
  size_t stack = (size_t)64 << 20;
  void *st = malloc(stack);
  pthread_attr_t at;
  pthread_t th;
  g_argc = argc; g_argv = argv;
  if (!st || pthread_attr_init(&at) || pthread_attr_setstack(&at, st, stack) || pthread_create(&th, &at, tests_thread, NULL) ||
      pthread_join(th, NULL)) { printf("cannot start the test thread\n"); return 2; }
  return g_rc;
}
#endif
