/* pack.h — compile-time weight packing shared by the compiler (host) and the kernels' tests (wasm).
 * Plain C, no SIMD: the compiler calls these once per constant weight; the kernels read the result.
 *
 * Usage (compiler):
 *   size_t n = rt_conv2d_packed_floats(k, c_per_group * kh * kw, group);
 *   float *packed = malloc(n * sizeof(float));
 *   rt_pack_conv2d_weights(w, packed, k, c_per_group * kh * kw, group);   // then set RtConv2d.wpacked = 1
 */
#ifndef RT_PACK_H
#define RT_PACK_H
#include <stddef.h>

/* true when the conv kernel wants packed weights for this shape (false e.g. for depthwise) */
int rt_conv2d_wants_packing(int k, int c, int group);
/* floats in the packed weights of a conv with k output channels, crs = (c/group)*kh*kw */
size_t rt_conv2d_packed_floats(int k, int crs, int group);
/* w: ONNX layout [k][crs] (crs = c/group*kh*kw); out: rt_conv2d_packed_floats() floats */
void rt_pack_conv2d_weights(const float *w, float *out, int k, int crs, int group);
#endif
