/* rt_abi.h — parameter blocks shared by the compiler (which fills them) and the kernels (which read them).
 *
 * Every kernel has the signature `void rt_<name>(const Rt<Name> *p)`. The compiler lays each
 * parameter block out as constant data in the output module and `run` calls the kernels in
 * order with the block's address. Blocks hold only 32-bit fields (int32_t, uint32_t, float),
 * so their layout is identical on the host (where the compiler fills them) and on wasm32.
 * Addresses are byte offsets into the module's linear memory (RtAddr); a kernel turns one into
 * a pointer with RT_PTR: the address itself on wasm32; on native targets an offset into the weights or
 * the caller's arena (see RT_PTR below).
 * An address of 0 means "absent" for optional operands (bias, residual, ...).
 *
 * Usage (kernel side):
 *   void rt_unary_f32(const RtUnary *p) { float *x = RT_PTR(float, p->x); ... }
 */
#ifndef RT_ABI_H
#define RT_ABI_H
#include <stdint.h>

typedef uint32_t RtAddr;                 /* byte offset in linear memory; 0 = absent */
#define RT_MAX_RANK 6                    /* rank limit of the generic strided kernels */

/* Activation applied in epilogues and by the unary kernel. Rows: name, value. */
typedef enum {
  RT_ACT_NONE = 0,   /* y = x */
  RT_ACT_RELU,       /* max(x, 0) */
  RT_ACT_CLIP,       /* min(max(x, a), b) */
  RT_ACT_SIGMOID,    /* 1 / (1 + exp(-x)) */
  RT_ACT_HARDSIGMOID,/* max(0, min(1, a*x + b)) */
  RT_ACT_HARDSWISH,  /* x * max(0, min(1, x/6 + 1/2)) */
  RT_ACT_LEAKYRELU,  /* x >= 0 ? x : a*x */
  RT_ACT_TANH,       /* tanh(x) */
  RT_ACT_SILU,       /* x * sigmoid(x) */
  RT_ACT_EXP,        /* exp(x) */
  RT_ACT_NEG,        /* -x */
  RT_ACT_ABS,        /* |x| */
  RT_ACT_SQRT,       /* sqrt(x) */
  RT_ACT_RECIPROCAL, /* 1/x */
  RT_ACT_LOG,        /* log(x) */
  RT_ACT_COS,        /* cos(x) */
  RT_ACT_SIN,        /* sin(x) */
  RT_ACT_TAN,        /* tan(x) */
  RT_ACT_ERF,        /* erf(x) */
  RT_ACT_ELU,        /* x > 0 ? x : a*(exp(x)-1) */
  RT_ACT_SELU,       /* b * (x > 0 ? x : a*(exp(x)-1))   (a = alpha, b = gamma) */
  RT_ACT_CELU,       /* max(0, x) + min(0, a*(exp(x/a)-1)) */
  RT_ACT_SOFTPLUS,   /* log(1 + exp(x)) */
  RT_ACT_SOFTSIGN,   /* x / (1 + |x|) */
  RT_ACT_FLOOR,      /* floor(x) */
  RT_ACT_CEIL,       /* ceil(x) */
  RT_ACT_ROUND,      /* round half to even */
  RT_ACT_SIGN,       /* -1, 0, 1 (NaN stays NaN) */
  RT_ACT_THRESHOLDEDRELU, /* x > a ? x : 0 */
  RT_ACT_GELU,       /* x/2 * (1 + erf(x/sqrt 2)) */
  RT_ACT_GELU_TANH,  /* x/2 * (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) */
  RT_ACT_MISH,       /* x * tanh(softplus(x)) */
  RT_ACT_ATAN,       /* atan(x) */
  RT_ACT_ASIN,       /* asin(x) */
  RT_ACT_ACOS,       /* acos(x) */
  RT_ACT_SINH,       /* sinh(x) */
  RT_ACT_COSH,       /* cosh(x) */
  RT_ACT_ASINH,      /* asinh(x) */
  RT_ACT_ACOSH,      /* acosh(x) */
  RT_ACT_ATANH,      /* atanh(x) */
  RT_ACT_HARDSWISH_AFFINE, /* hardswish(x) * a + b (PP-LCNet's learnable affine after HardSwish, fused) */
  RT_ACT_SHRINK,     /* x < -a ? x + b : x > a ? x - b : 0   (a = lambd, b = bias; NaN gives 0, as the ONNX reference) */
  RT_ACT_COUNT
} RtActKind;

typedef struct { int32_t kind; float a, b; } RtAct;   /* kind: RtActKind */

/* Elementwise binary ops (also the residual-add in epilogues). */
typedef enum { RT_BIN_ADD = 0, RT_BIN_SUB, RT_BIN_MUL, RT_BIN_DIV, RT_BIN_MAX, RT_BIN_MIN, RT_BIN_POW,
               RT_BIN_PRELU /* a < 0 ? a*b : a */, RT_BIN_COUNT } RtBinOp;

/* 2-D convolution, NCHW f32, weights in ONNX layout [K][C/group][KH][KW], or (wpacked = 1) in the
 * packed panel layout of runtime/pack.h.
 * y = act(conv(x, w) + bias[k] + res), res (same shape as y) optional.
 * pt/pl: top/left padding; the bottom/right padding is implied by oh/ow.
 * scratch: arena space the compiler reserved, scratch_bytes long (0 if none). The kernel no longer uses it
 * (0 bytes needed): the GEMM path computes im2col on the fly into a static 128 KiB buffer and packs
 * unpacked weights into a static 200 KiB buffer (kernels' static data), depthwise pads each input plane
 * into that same buffer (planes larger than 51200 floats fall back to a direct loop).
 * Kernel notes (runtime/kernels/conv2d.c):
 *  - sh, sw, dh, dw >= 1; c % group == 0 and k % group == 0.
 *  - wpacked = 1 is accepted for every shape (also depthwise, though rt_conv2d_wants_packing() says no).
 *  - y may be the same buffer as res (in-place residual add); otherwise y must not overlap inputs. */
typedef struct {
  RtAddr x, w, bias, res, y, scratch;
  int32_t n, c, h, w_, k, oh, ow;
  int32_t kh, kw, sh, sw, pt, pl, dh, dw, group;
  uint32_t scratch_bytes;
  RtAct act;
  int32_t wpacked;   /* 1: w is in the packed layout of runtime/pack.h (rt_pack_conv2d_weights), done at compile time */
  /* xscale (0: none): the conv reads x[ni][ci] * xscale[ni * xscale_ns + ci] (a squeeze-excite gate folded in
   * by passes/fold_channel_scale.c; the product is rounded as the Mul node it replaces rounded it). Fast for
   * pointwise group-1 convs, which are the only ones the compiler gives one; elsewhere the scalar path. */
  RtAddr xscale;
  int32_t xscale_ns;
} RtConv2d;

/* 3-D (volumetric) convolution, NCDHW f32, weights in ONNX layout [K][C/group][KD][KH][KW]; the scalar
 * direct loops (1-D and 2-D convs use rt_conv2d_f32). y = act(conv(x, w) + bias[k] + res), res (same shape
 * as y) optional. Spatial arrays are [depth, height, width]; pb: the leading padding (the trailing padding
 * is implied by out). */
typedef struct {
  RtAddr x, w, bias, res, y;
  int32_t n, c, k, group;
  int32_t in[3], out[3], ks[3], st[3], pb[3], dl[3];
  RtAct act;
} RtConv3d;

/* Rows per panel of packed conv weights (runtime/pack.h) = rows of the GEMM micro-kernel's tile, per target:
 * 5 in wasm (a 5x8 tile of v128 is 14 of V8's 15 usable xmm registers), 6 natively (6x8 of v128 fits SSE's 16,
 * 6x16 of 8-float vectors AVX2's 16 ymm and NEON's 32 q, 6x32 AVX-512's 32 zmm). The kernels read the MR of the
 * build they are compiled for (RT_CONV_PACK_MR); the compiler, which packs for either, reads the Target's
 * (Target.panel_rows, codegen/target.h) and passes it to the packing functions (pack.h).
 * Here (not in pack.h) because the compiler's build rebuilds the kernels when rt_abi.h changes. */
#define RT_PANEL_ROWS_WASM 5
#define RT_PANEL_ROWS_NATIVE 6
#ifdef __wasm__
#define RT_CONV_PACK_MR RT_PANEL_ROWS_WASM
#else
#define RT_CONV_PACK_MR RT_PANEL_ROWS_NATIVE
#endif

/* Gemm: y[M][N] = act(alpha * op(A) op(B) + beta * C), op = transpose when trans_* != 0.
 * A is [M][K] ([K][M] if trans_a), B is [K][N] ([N][K] if trans_b).
 * c_kind: 0 none, 1 scalar, 2 row vector [N], 3 column vector [M], 4 full [M][N].
 * y must not overlap a or b; y may equal c (c_kind 4). */
typedef struct {
  RtAddr a, b, c, y;
  int32_t m, n, k, trans_a, trans_b, c_kind;
  float alpha, beta;
  RtAct act;
} RtGemm;

/* How a MatMul's B operand is stored: one description read by the packing code (runtime/pack.h), the
 * compiler (passes/pack_weights.c, passes/quant_weights.c) and the kernel (runtime/kernels/gemm.c,
 * matmul_q.c). Every format but DENSE is a constant 2-D B [K][N] without batch dims, in panels of 8 columns.
 *   RT_WF_DENSE        B as a tensor: [batch...][K][N], or [N][K] per batch with RtMatMul.trans_b
 *   RT_WF_F32_PANELS   float32 panels (pack.h rt_pack_matmul_panels)
 *   RT_WF_BF16_PANELS  the same panels in bfloat16, for a B whose values are all exactly bfloat16
 *   RT_WF_Q8_PANELS    int8: w[q][j] = scale[q/block][j] * (t[q][j] - zero[q/block][j]), t in -128..127
 *   RT_WF_Q4_PANELS    4-bit: the same with t in 0..15 (MatMulNBits' nibbles as stored)
 * For Q8/Q4, block is the number of K rows sharing a scale (a multiple of 8; K rounded up to it, per output
 * channel when block >= K), scale points at the per-panel, per-block scales and zero points (pack.h), and
 * zeros says whether any zero point is nonzero. The kernel rounds each row of A to 16-bit fixed point per
 * chunk of min(block, 32) elements of K (relative error 2^-16 of the chunk's largest magnitude) and sums
 * exactly in int32 within a chunk (i32x4.dot_i16x8_s), so the result is that of float32 arithmetic on the
 * dequantized weights to about 1e-5 relative. */
/* The integer conv's weights (RtConv2dI8.wq/wfmt) take two more formats, w - w_zp widened to int16 (values in
 * [-255, 255]; runtime/prepack.h rt_q_conv_pack_i16), read by the SIMD kernels instead of widening w at every call:
 *   RT_WF_I16_ROWS     [k][kp]: row co holds channel co's (c/group)*kh*kw weights, zero padded to kp (even)
 *   RT_WF_I16_WINO     U[16][k][cp], the integer Winograd transform (rt_q_conv_wino below), cp = c rounded up to even */
typedef enum { RT_WF_DENSE = 0, RT_WF_F32_PANELS, RT_WF_BF16_PANELS, RT_WF_Q8_PANELS, RT_WF_Q4_PANELS,
               RT_WF_I16_ROWS, RT_WF_I16_WINO } RtWFormat;
typedef struct {
  int32_t fmt;       /* RtWFormat */
  int32_t block;     /* Q8/Q4: K rows per scale */
  int32_t zeros;     /* Q8/Q4: 1 when some zero point is nonzero */
  RtAddr scale;      /* Q8/Q4: scales and zero points */
} RtWeightDesc;

/* Batched MatMul with numpy broadcasting: for each batch index (nb dims of size bdim[i]),
 * Y[b] = A[b] (M x K) * B[b] (K x N), A/B batch strides in elements (0 = broadcast),
 * Y contiguous [batch...][M][N]. bias [N] optional, then residual, then act. y must not overlap a or b.
 * scratch: Q8/Q4 weights only, rt_matmul_q_scratch_bytes(k, block) bytes (16-byte aligned). */
typedef struct {
  RtAddr a, b, bias, y;
  int32_t m, n, k, nb;
  int32_t bdim[4], astride[4], bstride[4];
  RtAct act;
  int32_t trans_b;   /* RT_WF_DENSE: 1 when each B[b] is stored transposed, N x K (a Transpose folded in) */
  RtAddr res;        /* optional residual, dense like Y, added after the bias and before act */
  RtWeightDesc bw;   /* how B is stored */
  RtAddr scratch;
} RtMatMul;

/* Rows of A the Q8/Q4 MatMul kernel quantizes at a time, and its scratch for them: per row, K rounded up to
 * the block as int16, and per chunk of min(block, 32) a float scale and an int32 sum. */
#define RT_MATMUL_Q_ROWS 8
static inline uint32_t rt_matmul_q_scratch_bytes(int32_t k, int32_t block) {
  uint32_t kp = (uint32_t)((k + block - 1) / block) * (uint32_t)block, ch = (uint32_t)(block < 32 ? block : 32);
  return RT_MATMUL_Q_ROWS * (kp * 2u + (kp / ch) * 8u) + 16u;
}

/* Elementwise binary with broadcasting over up to RT_MAX_RANK dims (dims of y, element
 * strides of a and b per dim, 0 = broadcast), then act. y may equal a or b when that operand is
 * not broadcast (it has y's shape and contiguous strides). */
typedef struct {
  RtAddr a, b, y;
  int32_t op, rank;
  int32_t dim[RT_MAX_RANK], astride[RT_MAX_RANK], bstride[RT_MAX_RANK];
  RtAct act;
} RtBinary;

/* y[i] = act(x[i]) for i < n (x == y allowed). */
typedef struct { RtAddr x, y; int32_t n; RtAct act; } RtUnary;

/* y[o][c][i] = act(x[o][c][i] * scale[c] + shift[c]) (BatchNormalization not folded into a conv).
 * x == y allowed. */
typedef struct { RtAddr x, y, scale, shift; int32_t outer, c, inner; RtAct act; } RtChannelAffine;

/* Max/average pooling over NCHW planes. kind 0 = max, 1 = average.
 * count_pad: average divides by the full window including padding (1) or valid cells only (0).
 * Kernel notes: count_pad = 1 divides by kh*kw for every window, which matches ONNX as long as no
 * window hangs past the explicit bottom/right padding (i.e. without a ceil_mode overhang); a window
 * with no cell inside the input yields 0. sh, sw, dh, dw >= 1. */
typedef struct {
  RtAddr x, y;
  int32_t planes, h, w, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, kind, count_pad;
  int32_t s8;   /* rt_maxpool_8 (MaxPool over uint8, or int8 when s8; kind 0): the same windows, in bytes */
} RtPool2d;

/* Max/average pooling over NCDHW volumes (3-D spatial; 1-D and 2-D use RtPool2d), fields as RtPool2d's
 * per spatial axis [depth, height, width]: count_pad = 1 divides by the window's size kd*kh*kw, 0 by the
 * cells inside the input (a window with none yields 0). idx (0: none; max only): MaxPool's Indices output,
 * int64, the flat index into x of each output's first maximum (row-major, or col_major: the spatial axes
 * reversed, storage_order = 1); also what the compiler uses for 1-D/2-D MaxPools with Indices (sizes 1). */
typedef struct {
  RtAddr x, y;
  int32_t planes, in[3], out[3], ks[3], st[3], pb[3], dl[3], kind, count_pad;
  RtAddr idx;
  int32_t col_major;
} RtPool3d;

/* MaxUnpool: y (ny elements of esize bytes) = zeros, then y[idx[j]] = x[j] for the nx elements of x (idx int64,
 * flat indices into y as MaxPool's Indices are); an index outside [0, ny) is skipped (never written out of
 * bounds; ONNX calls it an error). */
typedef struct { RtAddr x, idx, y; int32_t nx, ny, esize; } RtUnpool;

/* Global average pooling: y[p] = mean(x[p][0..hw)). */
typedef struct { RtAddr x, y; int32_t planes, hw; } RtGlobalPool;

/* Softmax (log = 0), LogSoftmax (log = 1) or Hardmax (log = 2: 1 at the first maximum, 0 elsewhere) over the
 * middle axis of [outer][n][inner]. x == y allowed. */
typedef struct { RtAddr x, y; int32_t outer, n, inner, log; } RtSoftmax;

/* Transpose of an esize-byte element tensor: y is contiguous with dims dim[],
 * x is read with element strides xstride[] (x's strides permuted into y's order). */
typedef struct {
  RtAddr x, y;
  int32_t esize, rank;
  int32_t dim[RT_MAX_RANK], xstride[RT_MAX_RANK];
} RtTranspose;

/* rows copies of row_bytes bytes: dst + r*dst_stride <- src + r*src_stride (Concat, copies). */
typedef struct { RtAddr dst, src; int32_t rows, row_bytes, dst_stride, src_stride; } RtCopy2d;

/* Gather along an axis: y[o][i][in] = x[o][idx[i]][in], x is [outer][axis_n][inner] of esize-byte
 * elements, idx holds nidx int64 indices (negative counts from the end; out of range -> 0 fill). */
typedef struct { RtAddr x, idx, y; int32_t esize, outer, axis_n, inner, nidx; } RtGather;

/* GatherElements: y (dense, dims dim[]) = x at y's own index with the index along `axis` replaced by idx's
 * element: y[i] = x[i_0..i_{axis-1}, idx[i], i_{axis+1}..], with x read through element strides xstride[]
 * (the compiler merges dims and drops size-1 ones, so rank <= RT_MAX_RANK even for rank-8 tensors).
 * idx is dense with y's dims, int64 (idx64 = 1) or int32. Elements are esize bytes.
 * Indices: negative counts from the end (j + axis_n); still out of [0, axis_n) -> the element is 0 (never
 * read out of bounds; ONNX calls such indices an error). y must not overlap x or idx. */
typedef struct {
  RtAddr x, idx, y;
  int32_t esize, idx64, rank, axis, axis_n;
  int32_t dim[RT_MAX_RANK], xstride[RT_MAX_RANK];
} RtGatherElements;

/* ScatterElements (and the older Scatter): y (dense, data's shape, ytotal elements) = x, then for each position i
 * of idx and u (both dense with dims dim[]) in order, the y element at i with the index along `axis` replaced by
 * idx[i] (int64 when idx64, else int32; negative counts from the end) gets u[i] (reduction NONE), or
 * y op u[i] for ADD, MUL, MAX, MIN (dtype: ONNX code, float32 (1), float64 (11), int32 (6) or int64 (7)).
 * ystride: y's element strides per dim (the compiler merges dims as for GatherElements). An index still outside
 * [0, axis_n) is skipped (never written out of bounds; ONNX calls it an error). x == y allowed (no copy then);
 * y must not overlap idx or u otherwise. Elements are esize bytes. */
typedef enum { RT_SCATTER_NONE = 0, RT_SCATTER_ADD, RT_SCATTER_MUL, RT_SCATTER_MAX, RT_SCATTER_MIN } RtScatterRed;
typedef struct {
  RtAddr x, idx, u, y;
  int32_t esize, idx64, rank, axis, axis_n, ytotal, reduction, dtype;
  int32_t dim[RT_MAX_RANK], ystride[RT_MAX_RANK];
} RtScatterElements;

/* GatherND and ScatterND: idx holds nbatch * nidx tuples of k int64 indices (negative counts from the end), tuple i
 * of batch b naming the slice of inner contiguous elements at b*xbatch + sum_j idx_j * stride[j] (dims dim[j]).
 *   gather_nd:  y[(b*nidx + i)*inner + e] = x[slice + e]; a tuple with an index still outside [0, dim[j]) gives
 *               zeros (never read out of bounds; ONNX calls it an error).
 *   scatter_nd: y = x (ytotal elements; x == y allowed, no copy then), then, tuple by tuple in order,
 *               y[slice + e] = u[i*inner + e] (reduction NONE) or y op u for the RtScatterRed reductions (dtype as
 *               RtScatterElements); a tuple out of range is skipped. nbatch = 1, xbatch unused.
 * Elements are esize bytes; y must not overlap idx or u (or x, for gather_nd). */
#define RT_ND_MAX 8
typedef struct {
  RtAddr x, idx, u, y;
  int32_t esize, k, nbatch, nidx, inner, xbatch, ytotal, reduction, dtype;
  int32_t dim[RT_ND_MAX], stride[RT_ND_MAX];
} RtIndexND;

/* ReverseSequence: x and y dense, with a batch axis and a time axis (element strides bstride, tstride) and blocks
 * of inner contiguous elements; for batch b the first lens[b] (int64) time steps are reversed, the rest copied:
 *   y[b][t] = x[b][lens[b] - 1 - t] for t < lens[b], x[b][t] otherwise.
 * lens[b] is clamped to [0, time] (never read out of bounds; ONNX calls such lengths an error). y must not
 * overlap x. Elements are esize bytes. */
typedef struct { RtAddr x, lens, y; int32_t esize, batch, time, inner, bstride, tstride; } RtReverseSeq;

/* Recurrent layers RNN / GRU / LSTM with ONNX's default activations, the whole sequence in one call.
 * cell 0 = RNN (G = 1 gate), 1 = GRU (G = 3: z r h), 2 = LSTM (G = 4: i o f c); H = hidden, I = input.
 *   x   layout 0 [seq][batch][I], layout 1 [batch][seq][I]
 *   w   [ndir][G*H][I], r [ndir][G*H][H], b [ndir][2*G*H] (the W biases, then the R biases; 0 = zeros)
 *   p   [ndir][3*H] LSTM peepholes i o f (0 = zeros); lens int32 [batch] (0 = seq for all; clamped to [0, seq])
 *   h0, c0, yh, yc  layout 0 [ndir][batch][H], layout 1 [batch][ndir][H] (inputs 0 = zeros, outputs 0 = unused)
 *   y   layout 0 [seq][ndir][batch][H], layout 1 [batch][seq][ndir][H] (0 = unused); steps >= lens[b] are zeros
 * Bit d of rev set: direction d runs from step lens[b]-1 back to 0. lbr: GRU linear_before_reset.
 * yh / yc take the state after a batch entry's last step (the initial state when its length is 0).
 * scratch: (3 + 2*G) * H floats. */
typedef struct {
  RtAddr x, w, r, b, p, lens, h0, c0, y, yh, yc, scratch;
  int32_t cell, seq, batch, input, hidden, ndir, layout, rev, lbr;
} RtRnn;

/* Pad of an esize-byte element tensor: y (dense, dims dim[]) takes x (dims xdim[], element strides xstride[];
 * negative ONNX pads are crops the compiler has already applied to x's address and xdim) with pb[d] leading
 * and dim[d] - xdim[d] - pb[d] >= 0 trailing cells per dim. A y cell at i - pb[d] outside [0, xdim[d]) gets,
 * per mode: CONSTANT the element in value (esize little-endian bytes); EDGE the nearest border cell;
 * REFLECT the mirror image without repeating the border (numpy 'reflect', repeated for pads beyond the
 * dim; a dim of 1 acts as EDGE); WRAP the cell i mod xdim (numpy 'wrap'). An empty x dim gives the constant
 * for every mode (the compiler refuses edge/reflect/wrap there). y must not overlap x. */
typedef enum { RT_PAD_CONSTANT = 0, RT_PAD_EDGE, RT_PAD_REFLECT, RT_PAD_WRAP } RtPadMode;
typedef struct {
  RtAddr x, y;
  int32_t esize, rank, mode;
  uint32_t value[2];
  int32_t dim[RT_MAX_RANK], xdim[RT_MAX_RANK], xstride[RT_MAX_RANK], pb[RT_MAX_RANK];
} RtPad;

/* Reduction over the middle axis of [outer][n][inner]: y[o][i] = reduce_j x[o][j][i].
 * op: RtReduceOp. n == 0 gives the op's value on the empty set: 0 for sums, mean, L1, L2; 1 for prod;
 * -inf/+inf for max/min; log(0) = -inf for log-sum and log-sum-exp.
 * LOGSUMEXP is max-shifted: m + log(sum exp(x - m)), m the slice's max (m itself when not finite).
 * max/min propagate NaN (runtime/kernels/reduce.c).
 * dtype: ONNX code of x and y, 1 float32 (0 reads as float32) or 11 float64. */
typedef enum { RT_RED_SUM = 0, RT_RED_MEAN, RT_RED_MAX, RT_RED_MIN, RT_RED_SUMSQ,
               RT_RED_PROD, RT_RED_L1 /* sum |x| */, RT_RED_L2 /* sqrt(sum x^2) */, RT_RED_LOGSUM /* log(sum x) */,
               RT_RED_LOGSUMEXP, RT_RED_COUNT } RtReduceOp;
typedef struct { RtAddr x, y; int32_t outer, n, inner, op, dtype; } RtReduce;

/* Cumulative sum along the middle axis of [outer][n][inner]; dtype: 1 float32, 11 float64, 7 int64 (ONNX codes).
 * exclusive: y[j] sums x[0..j-1]; reverse: sums run from the end. x == y allowed.
 * axis (0: none): the axis is a run-time scalar read there (axis_i64: int64, else int32), counted from the end
 * when negative; the kernel then takes outer/n/inner from x's dims[rank] around it. An axis outside
 * [-rank, rank) gives zeros (never read out of bounds; ONNX calls it an error). */
typedef struct {
  RtAddr x, y; int32_t outer, n, inner, dtype, exclusive, reverse;
  RtAddr axis; int32_t axis_i64, rank, dims[RT_MAX_RANK];
} RtCumSum;

/* Elementwise conversion of n elements between ONNX dtypes (from/to are TensorProto codes):
 * float32 (1), int32 (6), int64 (7), bool (9), uint8 (2), int8 (3), float64 (11), float16 (10), bfloat16 (16)
 * (to the 16-bit floats: round to nearest even, overflow to inf).
 * Float -> int truncates toward zero (saturating at the type's range); any -> bool is x != 0.
 * Kernel notes (runtime/kernels/cast.c): float NaN -> int gives 0; int -> narrower int wraps (two's
 * complement, as numpy/onnxruntime); bool -> numeric gives 0/1; x == y allowed when both types have the
 * same size. */
typedef struct { RtAddr x, y; int32_t n, from, to; } RtCast;

/* Row normalization (f32), rows of n contiguous elements:
 *   LayerNorm (rms == 0): y = (x - mean) / sqrt(var + eps) * scale + bias
 *   RMSNorm   (rms == 1): y = x / sqrt(mean(x^2) + eps) * scale
 * scale and bias are [n] (0 = absent: 1 and 0). Statistics in f32 with several partial sums. */
/* BatchNormalization at run time over x [n][c][hw] (the statistics are run-time tensors, or training_mode):
 * y = scale * (x - m) / sqrt(v + eps) + bias per channel, with m, v = mean, var; or (training) the batch's
 * mean and population variance over n and hw (in double), and then rmean/rvar (optional) =
 * mean/var * momentum + the batch's * (1 - momentum). (With constant statistics the compiler folds the
 * normalization into a Conv or a channel affine instead.) */
typedef struct {
  RtAddr x, scale, bias, mean, var, y, rmean, rvar;
  int32_t n, c, hw, training;
  float eps, momentum;
} RtBatchNorm;

typedef struct {
  RtAddr x, y, scale, bias; int32_t rows, n, rms; float eps;
  RtAddr mean, inv_std;   /* optional [rows] outputs: the row's mean (0 for RMS) and 1/sqrt(var + eps) */
} RtNorm;

/* Elementwise binary op on any numeric dtype, broadcasting like RtBinary (dims of y, element strides of
 * a and b, 0 = broadcast). dtype: ONNX code of a and b: float32 (1), uint8 (2), int8 (3), uint16 (4),
 * int16 (5), int32 (6), int64 (7), bool (9), float64 (11), uint32 (12), uint64 (13).
 * Arithmetic ops give y of dtype; comparisons and logic give bool (1 byte, 0/1); NOT reads only a.
 * Integer arithmetic wraps (two's complement); integer DIV truncates and x/0 gives 0; MOD is the
 * floored remainder (sign of b, numpy/ONNX fmod=0), FMOD the truncated one (sign of a, C fmod); both give
 * 0 for a zero integer divisor. SHL/SHR (BitShift, unsigned types): a shifted by b bits, 0 once b reaches the
 * type's width. Float MIN/MAX propagate NaN. y may equal a or b when that operand has y's shape and dtype size.
 * The ops before RT_ANY_EQ give y of dtype, the rest bool. */
typedef enum {
  RT_ANY_ADD = 0, RT_ANY_SUB, RT_ANY_MUL, RT_ANY_DIV, RT_ANY_MAX, RT_ANY_MIN, RT_ANY_POW, RT_ANY_MOD, RT_ANY_FMOD,
  RT_ANY_SHL, RT_ANY_SHR,
  RT_ANY_EQ, RT_ANY_LT, RT_ANY_GT, RT_ANY_LE, RT_ANY_GE, RT_ANY_AND, RT_ANY_OR, RT_ANY_XOR, RT_ANY_NOT,
  RT_ANY_COUNT
} RtAnyOp;
typedef struct {
  RtAddr a, b, y;
  int32_t op, rank, dtype;
  int32_t dim[RT_MAX_RANK], astride[RT_MAX_RANK], bstride[RT_MAX_RANK];
} RtBinaryAny;

/* Where: out[i] = c[i] ? x[i] : y[i] with broadcasting (dims of out, element strides of c, x, y; 0 =
 * broadcast). c is bool (1 byte), x/y/out esize-byte elements. out must not overlap a broadcast input. */
typedef struct {
  RtAddr c, x, y, out;
  int32_t esize, rank;
  int32_t dim[RT_MAX_RANK], cstride[RT_MAX_RANK], xstride[RT_MAX_RANK], ystride[RT_MAX_RANK];
} RtWhere;

/* ArgMax (op 0) / ArgMin (op 1) over the middle axis of [outer][n][inner] f32: y[o][i] (int64) = index of
 * the first (last when select_last) extreme value; NaN counts as the extreme (first NaN wins), n >= 1. */
typedef struct { RtAddr x, y; int32_t outer, n, inner, op, select_last; } RtArgReduce;

/* TopK over the middle axis of [outer][n][inner] f32: y [outer][k][inner] the k largest (largest = 1) or smallest
 * values of each slice in order (best first), yi (int64, same layout) their indices along the axis. Equal values
 * keep their order along the axis (the lower index first). NaN counts as larger than every number (first with
 * largest, last with smallest). 0 <= k <= n. y/yi must not overlap x. Selection by insertion into the k kept
 * entries: O(n*k) per slice (runtime/kernels/logic.c). */
typedef struct { RtAddr x, y, yi; int32_t outer, n, inner, k, largest; } RtTopK;

/* Trilu: batch matrices of rows x cols esize-byte elements; keeps y[r][c] = x[r][c] where c - r >= k
 * (upper) or c - r <= k (lower), zero elsewhere. x == y allowed. k_addr (0 = absent): k is read at run time
 * from this int64 scalar instead. */
typedef struct { RtAddr x, y; int32_t batch, rows, cols, k, upper, esize; RtAddr k_addr; } RtTrilu;

/* Fused attention (passes/fuse_attention.c): for each batch b and query row i < m,
 *   s[t] = scale * dot(q[b][i][:d], k[b][t][:d]) + mask[b][i][t]        (t < n; mask optional)
 *   y[b][i][:dv] = sum_t softmax(s)[t] * v[b][t][:dv]
 * q/k/v rows are dense (d, d, dv floats); batch strides in elements per merged batch dim, as
 * RtMatMul (0 = broadcast; k and v may be resident caches with a larger stride). The mask's
 * columns are contiguous, mask_rs apart per row (0 = one row for all). y is dense
 * [batch][m][dv]. scratch: n floats (rounded up to 4). */
typedef struct {
  RtAddr q, k, v, mask, y, scratch;
  int32_t m, n, d, dv, nb;
  int32_t bdim[4], qstride[4], kstride[4], vstride[4], mstride[4];
  int32_t mask_rs;
  float scale;
} RtAttention;

/* Winograd convolution F(m x m, 3x3) (m = 2 or 4) of a 3x3, stride 1, dilation 1, group 1 Conv, NCHW f32:
 * y = act(conv(x, w) + bias[k] + res), as RtConv2d (pt/pl: top/left padding, the rest implied by oh/ow;
 * y may be the same buffer as res). u holds the transformed weights G w G^T (computed at compile time,
 * runtime/pack.h rt_pack_wino_weights, or by rt_wino_pack_f32 when the module starts): for each of the (m+2)^2 tile positions, k x c in the packed panel
 * layout of RtConv2d.wpacked.
 * Tiles of m x m outputs are processed tile_rows tile rows at a time (a block of tile_rows * ceil(ow/m)
 * tiles); scratch holds, per block, the transformed input V[pos][c][tiles], the GEMM products
 * M[pos][k][tiles], a few padded rows: rt_conv_wino_scratch_floats() floats (16-byte aligned).
 * Kernel: runtime/kernels/conv_wino.c. */
typedef struct {
  RtAddr x, u, bias, res, y, scratch;
  int32_t n, c, h, w_, k, oh, ow, pt, pl;
  int32_t m;           /* output tile size: 2 or 4 */
  int32_t tile_rows;   /* tile rows per block, >= 1 */
  uint32_t scratch_bytes;
  RtAct act;
} RtConvWino;

/* The packed weights of one conv (runtime/prepack.h, the layout RtConv2d.wpacked reads), computed by a wasm module
 * on its first run for the convs whose packed weights it does not ship (see RtWinoPack). */
typedef struct { RtAddr w, u; int32_t k, crs, group; } RtConvPack;

/* The Winograd weight transform of one conv, u = G w G^T (runtime/prepack.h; w: ONNX layout [k][c][3][3], u:
 * the layout RtConvWino.u reads). A wasm module runs it once, at its first run, for the convs whose
 * transformed weights it does not ship (Program calls marked `once`): the download keeps w's 9 floats per
 * channel pair instead of (m+2)^2. */
typedef struct { RtAddr w, u; int32_t k, c, m; } RtWinoPack;

/* Floats between the per-position matrices of the Winograd kernel's scratch holding n floats each: an odd
 * number of 64-byte lines, so that the (m+2)^2 values of one tile (one per matrix) fall in different cache
 * sets (a multiple of 4 KiB would put them all in one set of the L1). */
static inline uint32_t rt_conv_wino_slab(uint32_t n) { return (((n + 15) >> 4) | 1) << 4; }
/* Scratch floats the Winograd kernel needs for one block (layout in conv_wino.c). */
static inline uint32_t rt_conv_wino_scratch_floats(int32_t c, int32_t k, int32_t w, int32_t ow, int32_t m,
                                                    int32_t tile_rows) {
  uint32_t a = (uint32_t)m + 2, tx = ((uint32_t)ow + (uint32_t)m - 1) / (uint32_t)m;
  uint32_t t = ((uint32_t)tile_rows * tx + 7) & ~7u;    /* tiles per block, rounded up to the GEMM's 8 columns */
  uint32_t wt = (uint32_t)m * ((tx + 3) & ~3u) + 4;      /* padded row width */
  return a * a * (rt_conv_wino_slab((uint32_t)c * t) + rt_conv_wino_slab((uint32_t)k * t)) + 8 /* V, M, slack */
         + a * wt + (((uint32_t)w + 3) & ~3u) + 8;        /* column-transformed rows, a zero row */
}

/* Resize (ONNX Resize / Upsample) of the last two axes: x [planes][h][w] f32 -> y [planes][oh][ow].
 * The compiler resolves the coordinate mapping (mode, coordinate_transformation_mode, nearest_mode,
 * cubic_coeff_a, exclude_outside, edge clamping) into per-axis tap tables that follow this header in the
 * same parameter block, starting tab bytes after the block's start:
 *   int32 hidx[tab_oh*th], float hwt[tab_oh*th], int32 widx[tab_ow*tw], float wwt[tab_ow*tw]
 *   y[p][oy][ox] = sum_a sum_b hwt[oy*th+a] * wwt[ox*tw+b] * x[p][hidx[oy*th+a]][widx[ox*tw+b]]
 * with every index already inside the input. hidx[oy*th] < 0 (widx[ox*tw] < 0) marks an output row
 * (column) outside the crop region (tf_crop_and_resize): it gets extrap. th = tw = 1 for nearest (weight 1).
 * wrep: 0, or f >= 2 when tw == 1 and widx[ox] == ox / f for every ox (integer nearest upsampling).
 * scratch: w floats of arena when th > 1 (one vertically interpolated row), else 0. y must not overlap x. */
typedef struct {
  RtAddr x, y, scratch;
  int32_t planes, h, w, oh, ow, th, tw, tab, wrep;
  int32_t tab_oh, tab_ow;   /* the tables' output rows and columns (the bound's, >= oh, ow: a run-time size reads
                               a prefix of each) */
  float extrap;
} RtResize;

/* GridSample (opset 16; 20's linear/cubic names), NCHW f32: y[n][c][oy][ox] samples x[n][c] at the point
 * grid[n][oy][ox] = (gx, gy) in [-1, 1] (float32), denormalized by align_corners; mode 0 nearest (round half
 * to even), 1 bilinear, 2 bicubic (A = -0.75); padding 0 zeros, 1 border, 2 reflection, as onnxruntime:
 * an out-of-range point is first clamped (border) or reflected (reflection), then every tap outside the
 * input reads 0 (zeros) or its clamped or reflected neighbour. */
typedef struct {
  RtAddr x, grid, y;
  int32_t n, c, h, w_, oh, ow, mode, padding, align_corners;
} RtGridSample;

/* RoiAlign (opset 10/16), NCHW f32: y[r][c] is the oh x ow pooling of x[batch[r]][c] over roi r = (x1, y1, x2, y2)
 * (float32) * spatial_scale, with half_pixel's -0.5 offset (else rois at least 1 wide), grid_h x grid_w
 * bilinear samples per bin (sampling_ratio, or ceil(roi size / bins) when 0), averaged (mode 0) or the max
 * of the weighted taps (mode 1), as onnxruntime. batch: int64 (b64) or int32; out-of-range gives zeros. */
typedef struct {
  RtAddr x, rois, batch, y;
  int32_t n, c, h, w_, nroi, oh, ow, sampling, mode, half_pixel, b64;
  float scale;
} RtRoiAlign;

/* Einsum over up to RT_EINSUM_MAX_IN operands of one dtype (1 float32, 11 float64, 6 int32, 7 int64; sums in
 * double or int64): the compiler numbers the equation's indices, y's first (nout of them, row-major over
 * size[0..nout)), then the summed ones; stride[j][l] is operand j's element stride along index l (0 where
 * the operand lacks it or broadcasts, the sum of the strides where a letter repeats: a diagonal). */
#define RT_EINSUM_MAX_IN 4
#define RT_EINSUM_MAX_L 16
typedef struct {
  RtAddr in[RT_EINSUM_MAX_IN], y;
  int32_t nin, dtype, nl, nout;
  int32_t size[RT_EINSUM_MAX_L];
  int32_t stride[RT_EINSUM_MAX_IN][RT_EINSUM_MAX_L];
} RtEinsum;

/* TfIdfVectorizer over int32/int64 rows x [n][c] (x64: int64): y [n][nout] float32. The compiler's n-gram
 * table follows the block at byte offset tab: per pool n-gram (ngrams of them) four int32 words {length,
 * output index, weight (float32 bits), first value's index}, then the values as int64 (little-endian word
 * pairs). An n-gram of length L at skip s is x[i], x[i + s + 1], ..., x[i + (L-1)(s+1)] within one row,
 * s in [0, max_skip] (unigrams once, at s = 0). Per pool n-gram, y[its output index] gets (mode 0 TF) its
 * count, (1 IDF) its weight if the count is > 0, (2 TFIDF) count * weight. */
typedef struct {
  RtAddr x, y;
  int32_t n, c, x64, nout, mode, max_skip, ngrams, tab;
} RtTfIdf;

/* One optimizer step (ai.onnx.preview.training Adagrad, Momentum, Adam) over one tensor of n float32
 * elements, as the ONNX reference: r (float32 scalar) and t (int64 scalar) are read at run time; g' =
 * norm_coefficient * x + g;
 *   ADAGRAD:  h' = h + g'^2, x' = x - r / (1 + t * decay) * g' / (sqrt(h') + epsilon)        (s = h)
 *   MOMENTUM: v' = alpha * v + (t > 0 ? beta : 1) * g', x' = x - r * v'  (NESTEROV: r * (g' + alpha * v'))  (s = v)
 *   ADAM:     v' = alpha * v + (1 - alpha) * g', h' = beta * h + (1 - beta) * g'^2, r' = t > 0 ?
 *             r * sqrt(1 - beta^t) / (1 - alpha^t) : r, x' = (1 - norm_coefficient_post) * (x - r' * v' / (sqrt(h') + epsilon))
 *             (s = v, s2 = h) */
typedef enum { RT_OPT_ADAGRAD = 0, RT_OPT_MOMENTUM, RT_OPT_NESTEROV, RT_OPT_ADAM } RtOptKind;
typedef struct {
  RtAddr r, t, x, g, s, s2, x_out, s_out, s2_out;
  int32_t n, kind;
  float norm, alpha, beta, epsilon, decay, norm_post;
} RtOptim;

/* DFT along the middle axis of x [outer][n][inner][cin] (cin 1: real, 2: complex; float32) into y
 * [outer][nout][inner][2]: the dft_length-point transform (x zero-padded or truncated to len), y[k] =
 * sum_j x[j] e^(-+2 pi i jk / len) (inverse: +, divided by len), k < nout (onesided: len/2 + 1). Direct
 * O(len * nout) sums in double; the compiler's twiddles cos, sin(2 pi m / len), m < len, follow the block
 * at byte offset tab (len pairs of doubles). */
typedef struct { RtAddr x, y; int32_t outer, n, inner, cin, len, nout, inverse, tab; } RtDft;

/* Det: y[b] = the determinant of the m x m matrix x[b] (float32 or, dtype 11, float64), by LU decomposition
 * with partial pivoting in double; scratch holds m*m doubles. */
typedef struct { RtAddr x, y, scratch; int32_t batch, m, dtype; } RtDet;

/* ConvTranspose, NCHW f32 (1-D as h = 1): x [n][c][h][w_], w in ONNX layout [c][k/group][kh][kw], bias [k]
 * optional, y [n][k][oh][ow]:
 *   y[co][oy][ox] = bias[co] + sum x[ci][iy][ix] * w[ci][co mod k/group][ky][kx]
 * over ci in co's group and every (iy, ix, ky, kx) with iy*sh - pt + ky*dh == oy, ix*sw - pl + kx*dw == ox;
 * contributions that land outside [0,oh) x [0,ow) are dropped (pads, output_padding and output_shape only
 * change pt, pl, oh, ow). Then act. y must not overlap x or w. */
typedef struct {
  RtAddr x, w, bias, y;
  int32_t n, c, h, w_, k, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, group;
  RtAct act;
} RtConvTranspose;

/* Integer MatMul / Conv (ONNX MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv): int8/uint8 operands,
 * int32 accumulation of (a - a_zp) * (b - b_zp). flags (RT_Q_*): signedness of each 8-bit operand, whether
 * the second operand's zero point / scale has one entry per output column (MatMul) or channel (Conv), and
 * whether the result is requantized:
 *   RT_Q_REQUANT 0: y = acc (int32)
 *   RT_Q_REQUANT 1: y = saturate(round_half_even(float(acc) * m) + y_zp) in int8/uint8 (RT_Q_Y_S8), where
 *                   m = a_scale * b_scale[j] / y_scale in float32, that order (as onnxruntime computes it)
 * Zero points and scales are read from memory (they may be computed at run time); an absent zero point
 * (address 0) is 0. scratch: rt_q_matmul_scratch / rt_q_conv_scratch bytes (16-byte aligned) for the SIMD
 * variants (widened operands), unused by the scalar reference. Kernels: runtime/kernels/qgemm.c. */
#define RT_Q_A_S8 1          /* a (x) is int8, else uint8 */
#define RT_Q_B_S8 2          /* b (w) is int8, else uint8 */
#define RT_Q_Y_S8 4          /* requantized y is int8, else uint8 */
#define RT_Q_BZP_VEC 8       /* b_zp has n (MatMul) / k (Conv) entries, else 1 */
#define RT_Q_BSCALE_VEC 16   /* b_scale has n / k entries, else 1 */
#define RT_Q_REQUANT 32
#define RT_Q_CLAMP 64         /* Conv, requantized: y clamped to [y_lo, y_hi] (a fused Relu/Clip, in y's integers) */
#define RT_Q_FLOAT_OUT 128    /* not requantized: y float32 = act(float(acc) * y_mul[c] + y_add[c]) (c: the output channel
                                 of a Conv, the column of a MatMul), each step in float32 (the Cast -> Mul -> Add ->
                                 Relu/Clip after quantize_dynamic's ConvInteger / MatMulInteger) */
#define RT_Q_YMUL_VEC 256     /* RT_Q_FLOAT_OUT: y_mul has k (Conv) / n (MatMul) entries, else 1 */

/* Batched integer MatMul: for each batch index (as RtMatMul: nb dims, element strides, 0 = broadcast),
 * Y[b] (M x N, dense) from A[b] (M x K) and B[b] (K x N), both dense rows. a_zp, a_scale, y_scale, y_zp
 * are per tensor (one element). y must not overlap a or b. */
typedef struct {
  RtAddr a, b, y, a_zp, b_zp, a_scale, b_scale, y_scale, y_zp, scratch;
  int32_t m, n, k, nb;
  int32_t bdim[4], astride[4], bstride[4];
  int32_t flags;
  RtAddr y_mul, y_add;  /* RT_Q_FLOAT_OUT: float32 multiplier (1 or n entries), addend (n entries, or 0 = none) */
  RtAct act;            /* RT_Q_FLOAT_OUT: applied last */
} RtMatMulI8;
/* scratch bytes: A widened to int16 rows of k rounded up to even, then one 8-column panel of B */
static inline uint32_t rt_q_matmul_scratch(int32_t m, int32_t k) {
  uint32_t kp = ((uint32_t)k + 1) & ~1u;
  return ((((uint32_t)m * kp * 2) + 15) & ~15u) + kp * 16 + 16;
}

/* Integer 2-D convolution, NCHW (1-D as h = 1): x [n][c][h][w_], w [k][c/group][kh][kw], y [n][k][oh][ow]
 * (int32, or 8-bit when RT_Q_REQUANT), geometry as RtConv2d; padding contributes 0 (x = x_zp).
 * bias (optional, int32 [k]) is added to the accumulator before requantization. a_* above means x_*,
 * b_* means w_*. y must not overlap x or w. */
typedef struct {
  RtAddr x, w, bias, y, x_zp, w_zp, x_scale, w_scale, y_scale, y_zp, scratch;
  int32_t n, c, h, w_, k, oh, ow, kh, kw, sh, sw, pt, pl, dh, dw, group;
  int32_t flags;
  int32_t y_lo, y_hi;  /* RT_Q_CLAMP: the requantized y's range, within its type's */
  RtAddr wq;           /* 0, or w - w_zp prepacked (wfmt RT_WF_I16_ROWS: the direct path; RT_WF_I16_WINO: Winograd) */
  int32_t wfmt;        /* the SIMD kernels then read wq only (w may be 0); the scalar reference always reads w */
  RtAddr y_mul, y_add; /* RT_Q_FLOAT_OUT: float32 multiplier (1 or k entries), addend (k entries, or 0 = none) */
  RtAct act;           /* RT_Q_FLOAT_OUT: applied last */
} RtConv2dI8;
/* The prepacked int16 weights of one integer conv (RtConv2dI8.wq; runtime/prepack.h rt_q_conv_pack_i16), computed
 * by a wasm module on its first run (a `once` call), at compile time for a native library: w [k][c/group][kh][kw],
 * w_zp (0, one entry, or k with RT_Q_BZP_VEC), flags RT_Q_B_S8 / RT_Q_BZP_VEC, fmt RT_WF_I16_ROWS or _WINO. */
typedef struct { RtAddr w, w_zp, wq; int32_t k, cg, khkw, fmt, flags; } RtQConvPack;
static inline uint32_t rt_q_conv_packed_bytes(int32_t fmt, int32_t k, int32_t cg, int32_t khkw) {
  uint32_t r = fmt == RT_WF_I16_WINO ? (uint32_t)cg : (uint32_t)cg * (uint32_t)khkw, rp = (r + 1) & ~1u;
  return (fmt == RT_WF_I16_WINO ? 16u : 1u) * (uint32_t)k * rp * 2;
}
/* The general SIMD path packs the im2col panels of up to rt_q_conv_npanels() blocks of 8 output pixels at a time
 * (as many as fit RT_Q_PANEL_BYTES, so they stay in the L2 cache), then streams each 4-channel slice of the
 * weights over all of them: the weights are read once per block of panels, not once per panel. */
#define RT_Q_PANEL_BYTES (256u << 10)
static inline uint32_t rt_q_conv_npanels(uint32_t panel_bytes, uint32_t nblocks) {
  uint32_t fit = RT_Q_PANEL_BYTES / panel_bytes;
  fit = fit ? fit : 1;
  return nblocks < fit ? nblocks : fit;
}
/* scratch bytes of the general path (np = oh * ow output pixels; wfmt: RtConv2dI8.wfmt): the requantization
 * multipliers (k floats), w widened to int16 rows of (c/group)*kh*kw rounded up to even (not with prepacked
 * RT_WF_I16_ROWS weights), then the 8-pixel panels */
static inline uint32_t rt_q_conv_mul_bytes(int32_t k) { return ((uint32_t)k * 4 + 15) & ~15u; }
static inline uint32_t rt_q_conv_scratch(int32_t c, int32_t k, int32_t kh, int32_t kw, int32_t group, int32_t np, int32_t wfmt) {
  uint32_t r = (uint32_t)(c / group) * (uint32_t)kh * (uint32_t)kw, rp = (r + 1) & ~1u;
  uint32_t w = wfmt == RT_WF_I16_ROWS ? 0 : (((uint32_t)k * rp * 2) + 15) & ~15u;
  return rt_q_conv_mul_bytes(k) + w + rt_q_conv_npanels(rp * 16, ((uint32_t)np + 7) / 8) * rp * 16 + 16;
}
/* Quantized elementwise Add of two same-shape 8-bit tensors (com.microsoft QLinearAdd; the QDQ Add that
 * passes/fuse_qdq.c fuses): y = saturate(round_half_even((float(a - a_zp) * a_scale + float(b - b_zp) * b_scale)
 * / y_scale) + y_zp), each step in float32 exactly as DequantizeLinear -> Add -> QuantizeLinear computes it, so
 * the fused node gives the unfused graph's bytes. Scales are float32 scalars, zero points scalars (0 = absent).
 * flags: RT_Q_A_S8, RT_Q_B_S8 (b int8), RT_Q_Y_S8. Kernel: runtime/kernels/quant.c. */
typedef struct { RtAddr a, b, y, a_scale, a_zp, b_scale, b_zp, y_scale, y_zp; int32_t n, flags; } RtQAdd;
/* Per-tensor QuantizeLinear (float32 x -> 8-bit y; RT_Q_Y_S8: int8) and DequantizeLinear (8-bit x -> float32 y;
 * RT_Q_A_S8: x int8), scale a float32 scalar, zp a scalar of the 8-bit type or 0 (absent): the ONNX float32 steps,
 * y = clip(round_half_even(x / scale) + zp) and y = (float(x) - float(zp)) * scale. Kernels: runtime/kernels/quant.c
 * (rt_quantize, rt_dequantize). */
typedef struct { RtAddr x, y, scale, zp; int32_t n, flags; } RtQuant;
/* QuantizeLinear(DequantizeLinear(x, x_scale, x_zp), y_scale, y_zp), per tensor, 8-bit to 8-bit (the internal op
 * Requantize that passes/fuse_qdq.c makes): the two definitions' float32 steps for each of the 256 values of x into
 * a table, then one lookup per byte. flags: RT_Q_A_S8 (x int8), RT_Q_Y_S8. Kernel: runtime/kernels/quant.c. */
typedef struct { RtAddr x, y, x_scale, x_zp, y_scale, y_zp; int32_t n, flags; } RtRequant;
/* DynamicQuantizeLinear (uint8) in two passes over x: lo = min(0, min x), hi = max(0, max x) (NaN elements are left
 * out of the range and quantize to 0); scale = (hi - lo) / 255, or 1 when hi == lo (x all zero), as onnxruntime;
 * zp = clip(round_half_even(0 - lo / scale), 0, 255); y = clip(round_half_even(x / scale) + zp, 0, 255): the ONNX
 * function body's float32 steps. scale and zp are one-element outputs. Kernel: runtime/kernels/quant.c. */
typedef struct { RtAddr x, y, scale, zp; int32_t n; } RtDynQuant;

/* Winograd F(2x2, 3x3) in integers (3x3, stride 1, dilation 1, group 1, 2-D): with G scaled by 2 every transform
 * is integral, U = (2G) (w - w_zp) (2G)^T and V = B^T (x - x_zp) B fit int16 and A^T (U . V) A is exactly 4 times the
 * direct accumulator, so the results are the direct kernel's bit for bit. c <= 512 bounds the int32 sums of the
 * transformed products (|U| <= 2295, |V| <= 1020); 32 tiles or more pay for the transforms when U is computed at
 * every call (into scratch: 16 x k x c rounded up to even, int16); a prepacked U (RT_WF_I16_WINO) is taken at any
 * size the compiler chooses it for (runtime/kernels/qconv_wino.c). */
static inline int rt_q_conv_wino_shape(int32_t c, int32_t k, int32_t h, int32_t kh, int32_t kw, int32_t sh, int32_t sw,
                                       int32_t dh, int32_t dw, int32_t group) {
  return h > 1 && kh == 3 && kw == 3 && sh == 1 && sw == 1 && dh == 1 && dw == 1 && group == 1 && c >= 8 && c <= 512 && k >= 8;
}
#define RT_Q_WINO_PREPACKED_TILES 16   /* the fewest tiles the compiler chooses Winograd for with U prepacked */
static inline int rt_q_conv_wino(int32_t c, int32_t k, int32_t h, int32_t kh, int32_t kw, int32_t sh, int32_t sw,
                                 int32_t dh, int32_t dw, int32_t group, int32_t oh, int32_t ow) {
  return rt_q_conv_wino_shape(c, k, h, kh, kw, sh, sw, dh, dw, group) && ((oh + 1) / 2) * ((ow + 1) / 2) >= 32;
}
/* The Winograd path transforms the input of up to rt_q_conv_npanels() blocks of 8 tiles at a time (16 int16
 * panels of cp rows each per block), then streams the weights U over them; scratch: the multipliers, U (unless
 * prepacked, RT_WF_I16_WINO), the transformed input. */
static inline uint32_t rt_q_conv_wino_scratch(int32_t c, int32_t k, int32_t oh, int32_t ow, int32_t wfmt) {
  uint32_t cp = ((uint32_t)c + 1) & ~1u, tiles = (uint32_t)((oh + 1) / 2) * (uint32_t)((ow + 1) / 2);
  uint32_t u = wfmt == RT_WF_I16_WINO ? 0 : 16u * (uint32_t)k * cp * 2;
  return rt_q_conv_mul_bytes(k) + u + rt_q_conv_npanels(16u * cp * 16, (tiles + 7) / 8) * 16u * cp * 16 + 64;
}

/* Depthwise (group = c = k, 2-D, stride 1 or 2 along w): the SIMD kernel widens one input plane at a time into a
 * zero-padded int16 plane of rt_q_conv_dw_plane() elements instead, after the multipliers (runtime/kernels/qgemm.c). */
static inline int rt_q_conv_dw(int32_t c, int32_t k, int32_t group, int32_t h, int32_t sw) {
  return group > 1 && group == c && group == k && h > 1 && (sw == 1 || sw == 2);
}
static inline uint32_t rt_q_conv_dw_pw(int32_t ow, int32_t kw, int32_t sw, int32_t dw) {
  return (((uint32_t)ow + 7) & ~7u) * (uint32_t)sw + (uint32_t)(kw - 1) * (uint32_t)dw + 16;
}
static inline uint32_t rt_q_conv_dw_plane(int32_t oh, int32_t ow, int32_t kh, int32_t kw, int32_t sh, int32_t sw, int32_t dh, int32_t dw) {
  return ((uint32_t)(oh - 1) * (uint32_t)sh + (uint32_t)(kh - 1) * (uint32_t)dh + 1) * rt_q_conv_dw_pw(ow, kw, sw, dw);
}
/* The scratch bytes a conv of this geometry needs, whichever of the kernel's paths (general, depthwise, Winograd)
 * runtime/kernels/qgemm.c takes for it: the compiler plans this much, the kernel tests allocate it. */
static inline uint32_t rt_q_conv2d_scratch(int32_t c, int32_t k, int32_t h, int32_t kh, int32_t kw, int32_t sh, int32_t sw,
                                           int32_t dh, int32_t dw, int32_t group, int32_t oh, int32_t ow, int32_t wfmt) {
  if (wfmt == RT_WF_I16_WINO || (!wfmt && rt_q_conv_wino(c, k, h, kh, kw, sh, sw, dh, dw, group, oh, ow)))
    return rt_q_conv_wino_scratch(c, k, oh, ow, wfmt);
  uint32_t b = rt_q_conv_scratch(c, k, kh, kw, group, oh * ow, wfmt), d;
  if (!wfmt && rt_q_conv_dw(c, k, group, h, sw)) {
    d = rt_q_conv_dw_plane(oh, ow, kh, kw, sh, sw, dh, dw) * 2 + 16 + rt_q_conv_mul_bytes(k);
    b = d > b ? d : b;
  }
  return b;
}

#ifdef __wasm__
#define RT_PTR(T, addr) ((T *)(uintptr_t)(addr))
#else
/* Native code: an address below `split` is an offset into the model's constant weights (shared by every
 * instance), any other into the caller's arena (inputs, outputs, intermediates, parameter blocks). The
 * generated run sets both bases for the calling thread (runtime/native/o2w_api.c), so several threads can
 * run one model on separate arenas. */
/* The bases are integers: base + address is computed in uintptr_t, since as pointer arithmetic it would step
 * outside an object (the weights base lies before the weights) and the optimizer may exploit that. */
typedef struct { uintptr_t wbase, ibase; uint32_t split; } RtMem;
extern _Thread_local RtMem rt_mem;
static inline void *rt_ptr(RtAddr a) { return (void *)((a < rt_mem.split ? rt_mem.wbase : rt_mem.ibase) + a); }
#define RT_PTR(T, addr) ((T *)rt_ptr(addr))
#endif

/* NegativeLogLikelihoodLoss (softmax = 0: x holds log-probabilities) and SoftmaxCrossEntropyLoss
 * (softmax = 1: x holds scores; logp = log_softmax over the class axis, written to logp when given).
 * x is [n][c][d] f32 (d: the product of the trailing dims, 1 if none), t is [n][d] int32 (t64 = 0) or
 * int64 (t64 = 1), w [c] f32 optional (0 = all 1).
 *   l[i][j] = -w[t] * logp[i][t][j], and 0 where t == ignore_index (has_ignore)
 *   reduction 0 (none): y[i][j] = l[i][j]; 1 (sum): y[0] = sum l; 2 (mean): y[0] = sum l / sum w[t] over
 *   the elements not ignored (0/0 = NaN when every element is ignored, as the ONNX reference).
 * A target outside [0, c) that is not ignored gives a NaN loss (the input is invalid). Kernel:
 * runtime/kernels/loss.c (scalar; sums in double). */
typedef struct {
  RtAddr x, t, w, y, logp;
  int32_t n, c, d, t64, softmax, reduction, has_ignore, ignore_index;
} RtLoss;

#endif
