#!/usr/bin/env bash
# test.sh — builds (if needed) and runs every test suite through CTest: unit tests of the frontend,
# shape inference and passes; kernels against their scalar references; the JS loader/runner;
# bad-input handling; the ONNX backend conformance suite; real models against onnxruntime-web.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure "$@"
