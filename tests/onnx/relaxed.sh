#!/bin/sh
# relaxed.sh BUILD_DIR — the ONNX backend cases of the kernels that use relaxed SIMD (conv, GEMM, MatMul and
# what lowers onto them) compiled with --simd relaxed and run in Node with relaxed SIMD enabled: the cases of
# expected.txt must pass with FMA rounding too (conformance.mjs --simd relaxed).
set -eu
here="$(cd "$(dirname "$0")" && pwd)"
node --experimental-wasm-relaxed-simd "$here/conformance.mjs" "$1" --simd relaxed \
  --filter node/test_conv,node/test_gemm,node/test_matmul,node/test_convtranspose,node/test_lstm,node/test_gru,node/test_rnn,node/test_einsum,node/test_attention,pytorch-converted/test_Conv,pytorch-converted/test_Linear,pytorch-operator,simple
