/* pack.h — compile-time weight packing shared by the compiler (host) and the kernels' tests (wasm).
 * Plain C, no SIMD: the compiler calls these once per constant weight; the kernels read the result.
 *
 * Packed layout (what rt_conv2d_f32 reads when RtConv2d.wpacked = 1), MR = the target's panel rows (mr: 5 for
 * wasm, 6 natively; RT_CONV_PACK_MR in rt_abi.h, Target.panel_rows in the compiler):
 *   for each group g (kpg = k/group output channels, crs = (c/group)*kh*kw):
 *     for each panel p of MR output channels (ceil(kpg/MR) panels, the last one zero-padded):
 *       crs rows of MR floats: out[((g*P + p)*crs + q)*MR + r] = w[g*kpg + p*MR + r][q]  (0 if p*MR+r >= kpg)
 *   with P = ceil(kpg/MR). So each panel is the A operand of the GEMM micro-kernel (MR x 8 tile) read
 *   sequentially: one MR-float row per reduction index q. Total: group * P * MR * crs floats.
 * Depthwise convs (group == c == k > 1) are not packed (their kernel reads the ONNX layout).
 *
 * Usage (compiler):
 *   size_t n = rt_conv2d_packed_floats(k, c_per_group * kh * kw, group, target->panel_rows);
 *   float *packed = malloc(n * sizeof(float));
 *   rt_pack_conv2d_weights(w, packed, k, c_per_group * kh * kw, group, target->panel_rows);   // then wpacked = 1
 */
/* MatMul B panels (what rt_matmul_f32 reads when RtMatMul.trans_b = RT_MATMUL_B_PANELS): a constant
 * B [k][n] as panels of 8 columns, each k rows of 8 floats, zero-padded to an even number of panels
 * (the decode kernel takes two at a time):
 *   out[(p*k + q)*8 + r] = b[q][p*8 + r]  (0 if p*8 + r >= n), p < 2*ceil(n/16)
 * Decode (M = 1..3) then streams B once, sequentially; larger M copies panels into the GEMM core.
 *
 *   float *panels = malloc(rt_matmul_panels_floats(k, n) * sizeof(float));
 *   rt_pack_matmul_panels(b, panels, k, n);
 *
 * The same panels in bfloat16 (RtMatMul.trans_b = RT_MATMUL_B_PANELS_BF16), used when every value of B
 * is exactly a bfloat16 (its low 16 bits are zero: no rounding, the product is unchanged): each k row
 * of a panel is 8 uint16 = 4 uint32 lanes, lane r holding column r in its low half and column 4+r in
 * its high half, so the kernel widens a row with one shift (columns 0..3) and one mask (4..7):
 *   out[(p*k + q)*8 + 2*r + h] = bf16(b[q][p*8 + 4*h + r])  (r < 4, h < 2; 0 past n)
 */
#ifndef RT_PACK_H
#define RT_PACK_H
#include <stddef.h>

/* true when the conv kernel wants packed weights for this shape (false e.g. for depthwise) */
int rt_conv2d_wants_packing(int k, int c, int group);
/* floats in the packed weights of a conv with k output channels, crs = (c/group)*kh*kw */
size_t rt_conv2d_packed_floats(int k, int crs, int group, int mr);
/* w: ONNX layout [k][crs] (crs = c/group*kh*kw); out: rt_conv2d_packed_floats() floats; mr rows per panel */
void rt_pack_conv2d_weights(const float *w, float *out, int k, int crs, int group, int mr);
size_t rt_matmul_panels_floats(int k, int n);
void rt_pack_matmul_panels(const float *b, float *out, int k, int n);
/* true when all count values are finite and exactly representable in bfloat16 */
int rt_is_bf16_exact(const float *b, size_t count);
/* out: rt_matmul_panels_floats(k, n) uint16 (half the bytes of the float32 panels) */
void rt_pack_matmul_panels_bf16(const float *b, unsigned short *out, int k, int n);

/* Quantized MatMul panels (RtMatMul.bw: RT_WF_Q8_PANELS, bits 8, t in -128..127; RT_WF_Q4_PANELS, bits 4, t in
 * 0..15), B[q][j] = scale[q/block][j] * (t[q][j] - zero[q/block][j]); layout in runtime/prepack.h. block: a multiple
 * of 8, and of 32 when above 32. t [k][n] row-major, scale and zero [ceil(k/block)][n] (zero NULL = all 0).
 *
 *   unsigned char *data = malloc(rt_matmul_q_bytes(k, n, bits, block));
 *   float *sz = malloc(rt_matmul_q_scale_words(k, n, block) * 4);
 *   rt_pack_matmul_q(k, n, bits, block, t, scale, zero, data, sz);
 */
int rt_matmul_q_block_ok(int block);
size_t rt_matmul_q_bytes(int k, int n, int bits, int block);
size_t rt_matmul_q_scale_words(int k, int n, int block);
void rt_pack_matmul_q(int k, int n, int bits, int block, const signed char *t, const float *scale, const int *zero,
                      unsigned char *data, void *scales);

/* Winograd F(m x m, 3x3), m = 2 or 4 (RtConvWino): for each of the (m+2)^2 tile positions p, the k x c
 * matrix U[p][ko][ci] = (G w[ko][ci] G^T)[p], computed in double, packed as above (group 1, crs = c):
 *   out[p * rt_conv2d_packed_floats(k, c, 1, mr) + ((ko/MR)*c + ci)*MR + ko%MR]   (MR = mr)
 * w: ONNX layout [k][c][3][3]. */
size_t rt_wino_packed_floats(int k, int c, int m, int mr);
void rt_pack_wino_weights(const float *w, float *out, int k, int c, int m, int mr);
/* tile rows per block of the Winograd kernel (RtConvWino.tile_rows): keeps a block's scratch cache-sized */
int rt_conv_wino_tile_rows(int c, int k, int oh, int ow, int m);
#endif
