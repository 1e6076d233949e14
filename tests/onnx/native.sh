#!/bin/sh
# native.sh BUILD_DIR — the ONNX backend conformance cases through the native backend (conformance.mjs
# --native): every case on x86-64 (in-process), and the conv/GEMM/pool/norm/softmax/elementwise families on
# AArch64 under qemu-user (a cross-built onnx2wasm-native-host). The cases of expected.txt must pass on both.
set -eu
build="$(cd "$1" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
node "$here/conformance.mjs" "$build" --native x86_64-linux-gnu
mkdir -p "$build/a64"
aarch64-linux-gnu-gcc -std=c11 -O2 -I"$root/runtime/native" "$root/runtime/native/host.c" -ldl -o "$build/a64/host"
O2W_NATIVE_HOST="qemu-aarch64 -L /usr/aarch64-linux-gnu $build/a64/host" node "$here/conformance.mjs" "$build" \
  --native aarch64-linux-gnu \
  --filter node/test_conv,node/test_gemm,node/test_matmul,pool,node/test_softmax,node/test_layer_norm,node/test_batchnorm,node/test_relu,node/test_add,node/test_mul,node/test_sigmoid,node/test_tanh,node/test_resize,node/test_lstm,node/test_gru,pytorch-converted/test_Conv
