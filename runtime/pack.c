/* pack.c — compile-time packing of conv weights into MR-row panels and of MatMul B operands into
 * 8-column panels (layouts in pack.h). */
#include "pack.h"
#include "rt_abi.h"

#define MR RT_CONV_PACK_MR

int rt_conv2d_wants_packing(int k, int c, int group) {
  if (k <= 0 || c <= 0 || group <= 0) return 0;
  return !(group > 1 && group == c && group == k); /* depthwise reads the ONNX layout */
}

size_t rt_conv2d_packed_floats(int k, int crs, int group) {
  size_t kpg = (size_t)k / (size_t)group, panels = (kpg + MR - 1) / MR;
  return (size_t)group * panels * MR * (size_t)crs;
}

void rt_pack_conv2d_weights(const float *w, float *out, int k, int crs, int group) {
  size_t kpg = (size_t)k / (size_t)group, panels = (kpg + MR - 1) / MR, n = (size_t)crs;
  for (size_t g = 0; g < (size_t)group; g++)
    for (size_t p = 0; p < panels; p++) {
      float *dst = out + (g * panels + p) * MR * n;
      for (size_t q = 0; q < n; q++)
        for (size_t r = 0; r < MR; r++) {
          size_t row = p * MR + r;
          dst[q * MR + r] = row < kpg ? w[(g * kpg + row) * n + q] : 0.0f;
        }
    }
}

size_t rt_matmul_panels_floats(int k, int n) {
  if (k <= 0 || n <= 0) return 0;
  return (size_t)(n + 7) / 8 * 8 * (size_t)k;
}

void rt_pack_matmul_panels(const float *b, float *out, int k, int n) {
  size_t panels = (size_t)(n + 7) / 8;
  for (size_t p = 0; p < panels; p++)
    for (size_t q = 0; q < (size_t)k; q++)
      for (size_t r = 0; r < 8; r++) {
        size_t col = p * 8 + r;
        out[(p * (size_t)k + q) * 8 + r] = col < (size_t)n ? b[q * (size_t)n + col] : 0.0f;
      }
}
