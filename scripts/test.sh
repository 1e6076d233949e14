#!/usr/bin/env bash
# test.sh — builds (if needed) and runs every test suite through CTest: unit tests of the frontend,
# shape inference and passes; kernels against their scalar references; the JS loader/runner;
# bad-input handling; the ONNX backend conformance suite; real models against onnxruntime-web; then the
# same compiler under ASan+UBSan with fuzzing (see below).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure "$@"

# The sanitizer pass: the compiler built by clang-19 with ASan+UBSan (stopping at the first report) runs
# the unit, bad-input and conformance-compile tests and a bounded fuzzing run (tests/fuzz/README.md).
# Skipped when ctest options are given, or with O2W_NO_SANITIZE=1.
if [ $# -eq 0 ] && [ -z "${O2W_NO_SANITIZE:-}" ]; then
  CC=clang-19 cmake -S . -B build-asan -DO2W_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
  cmake --build build-asan -j"$(nproc)" --target onnx2wasm test_frontend test_infer test_passes test_codegen fuzz_compile
  ctest --test-dir build-asan --output-on-failure -R '^(unit\.|errors$|onnx\.compile$|fuzz$)'
fi
