#!/bin/sh
# run.sh — build the kernel module and the kernel test binary (wasm32-wasi), then run the tests under Node.
# Usage: tests/kernels/run.sh BUILD_DIR [--bench | --bench-wino]     exit status 0 iff every check passed.
# --bench adds informational timings (INFO lines) of conv/gemm/depthwise, scalar vs SIMD;
# --bench-wino times the Winograd conv (F(2x2), F(4x4)) against the packed direct conv at CNN shapes.
# Environment: CC (clang-19), WASI_SYSROOT (optional; clang's default wasm32-wasi sysroot otherwise),
#              NODE (node).
set -eu

if [ $# -lt 1 ]; then
  echo "usage: $0 BUILD_DIR [--bench]" >&2
  exit 2
fi
build="$1"
shift
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
CC="${CC:-clang-19}"
NODE="${NODE:-node}"
mkdir -p "$build"

# 1. The kernel module exactly as shipped (also proves it links freestanding with no imports).
sh "$root/runtime/build-kernels.sh" "$build/kernels.wasm"

# 2. The test binary: kernels + tests, wasm32-wasi with SIMD128, linked against wasi-libc/libm.
#    Debian's clang-19 finds /usr/include/wasm32-wasi and /usr/lib/wasm32-wasi by itself; elsewhere set
#    WASI_SYSROOT to a directory holding include/wasm32-wasi and lib/wasm32-wasi.
sysroot=""
if [ -n "${WASI_SYSROOT:-}" ]; then
  sysroot="--sysroot=$WASI_SYSROOT"
fi
TEST_CFLAGS="--target=wasm32-wasi -msimd128 -mbulk-memory -O2 -std=c11 -Wall -Wextra -Wshadow"
# shellcheck disable=SC2086
$CC $TEST_CFLAGS $sysroot -Wl,-z,stack-size=1048576 \
  "$here/test_kernels.c" "$root"/runtime/kernels/*.c "$root/runtime/pack.c" -lm -o "$build/test_kernels.wasm"

# 3. The shipped module driven from plain JS (exports, parameter-block layout), then the C tests
#    (--no-warnings: node flags WASI as experimental on stderr). The last line is the C tests' summary.
"$NODE" "$here/smoke.mjs" "$build/kernels.wasm" "$root/runtime/kernels.def"
"$NODE" --no-warnings "$here/run.mjs" "$build/test_kernels.wasm" "$@"
