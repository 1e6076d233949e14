/* pack.c — compile-time packing of conv weights into MR-row panels and of MatMul B operands into
 * 8-column panels (layouts in pack.h). */
#include <string.h>
#include "pack.h"
#include "rt_abi.h"
#include "prepack.h"

int rt_conv2d_wants_packing(int k, int c, int group) {
  if (k <= 0 || c <= 0 || group <= 0) return 0;
  return !(group > 1 && group == c && group == k); /* depthwise reads the ONNX layout */
}

size_t rt_conv2d_packed_floats(int k, int crs, int group, int mr) {
  size_t kpg = (size_t)k / (size_t)group, panels = (kpg + (size_t)mr - 1) / (size_t)mr;
  return (size_t)group * panels * (size_t)mr * (size_t)crs;
}

void rt_pack_conv2d_weights(const float *w, float *out, int k, int crs, int group, int mr) {
  rt_conv_pack_weights(w, out, k, crs, group, mr);
}

size_t rt_matmul_panels_floats(int k, int n) {
  if (k <= 0 || n <= 0) return 0;
  return (size_t)(n + 15) / 16 * 16 * (size_t)k;
}

void rt_pack_matmul_panels(const float *b, float *out, int k, int n) {
  size_t panels = (size_t)(n + 15) / 16 * 2;
  for (size_t p = 0; p < panels; p++)
    for (size_t q = 0; q < (size_t)k; q++)
      for (size_t r = 0; r < 8; r++) {
        size_t col = p * 8 + r;
        out[(p * (size_t)k + q) * 8 + r] = col < (size_t)n ? b[q * (size_t)n + col] : 0.0f;
      }
}

int rt_is_bf16_exact(const float *b, size_t count) {
  for (size_t i = 0; i < count; i++) {
    union { float f; uint32_t u; } v = {b[i]};
    uint32_t x = v.u;
    if ((x & 0xffffu) || (x & 0x7f800000u) == 0x7f800000u) return 0;
  }
  return 1;
}

void rt_pack_matmul_panels_bf16(const float *b, unsigned short *out, int k, int n) {
  size_t panels = (size_t)(n + 15) / 16 * 2;
  for (size_t p = 0; p < panels; p++)
    for (size_t q = 0; q < (size_t)k; q++)
      for (size_t r = 0; r < 4; r++)
        for (size_t h = 0; h < 2; h++) {
          size_t col = p * 8 + 4 * h + r;
          union { float f; uint32_t u; } v = {col < (size_t)n ? b[q * (size_t)n + col] : 0.0f};
          uint32_t x = v.u;
          out[(p * (size_t)k + q) * 8 + 2 * r + h] = (unsigned short)(x >> 16);
        }
}

/* ---- Winograd F(m x m, 3x3) weights: U = G g G^T per (output, input) channel pair (prepack.h) ---- */

size_t rt_wino_packed_floats(int k, int c, int m, int mr) {
  size_t a = (size_t)m + 2;
  return a * a * rt_conv2d_packed_floats(k, c, 1, mr);
}

void rt_pack_wino_weights(const float *w, float *out, int k, int c, int m, int mr) {
  rt_wino_transform_weights(w, out, k, c, m, mr);
}

int rt_conv_wino_tile_rows(int c, int k, int oh, int ow, int m) {
  /* V and M of one block within ~2 MiB (the L2 of the reference machine; measured: 1 MiB streams the weights more often, 4 MiB is no faster) */
  long a = m + 2, tx = (ow + m - 1) / m, ty = (oh + m - 1) / m, per_tile = a * a * ((long)c + k) * 4;
  long tiles = (1L << 21) / per_tile, rows = tiles / tx;
  if (rows < 1) rows = 1;
  if (rows > ty) rows = ty;
  long blocks = (ty + rows - 1) / rows;
  return (int)((ty + blocks - 1) / blocks); /* balanced: no short last block (its GEMMs would be narrow) */
}

int rt_matmul_q_block_ok(int block) { return block >= 8 && block % 8 == 0 && (block <= 32 || block % 32 == 0); }

size_t rt_matmul_q_bytes(int k, int n, int bits, int block) {
  size_t kp = (size_t)((k + block - 1) / block) * (size_t)block;
  return (size_t)((n + 7) / 8) * kp * (size_t)bits;
}

size_t rt_matmul_q_scale_words(int k, int n, int block) {
  return (size_t)((n + 7) / 8) * (size_t)((k + block - 1) / block) * 16;
}

void rt_pack_matmul_q(int k, int n, int bits, int block, const signed char *t, const float *scale, const int *zero,
                      unsigned char *data, void *scales) {
  size_t nblk = (size_t)((k + block - 1) / block), kp = nblk * (size_t)block, np = (size_t)((n + 7) / 8);
  memset(data, 0, rt_matmul_q_bytes(k, n, bits, block));
  for (int q = 0; q < k; q++)
    for (int j = 0; j < n; j++) {   /* the inverse of rt_matmul_q_get (prepack.h) */
      int sh;
      size_t at = rt_matmul_q_at(bits, kp, q, j, &sh);
      unsigned v = (unsigned)(unsigned char)t[(size_t)q * (size_t)n + (size_t)j];
      if (bits == 4) data[at] |= (unsigned char)((v & 15u) << sh);
      else data[at] = (unsigned char)v;
    }
  float *sf = scales;
  int *sz = scales;
  for (size_t p = 0; p < np; p++)
    for (size_t b = 0; b < nblk; b++) {
      size_t o = (p * nblk + b) * 16;
      for (int c = 0; c < 8; c++) {
        size_t j = p * 8 + (size_t)c;
        sf[o + (size_t)c] = j < (size_t)n ? scale[b * (size_t)n + j] : 0.0f;
        sz[o + 8 + (size_t)c] = j < (size_t)n && zero ? zero[b * (size_t)n + j] : 0;
      }
    }
}
