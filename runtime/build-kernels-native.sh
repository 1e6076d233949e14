#!/bin/sh
# build-kernels-native.sh — compile runtime/kernels/*.c and the native C API (runtime/native/o2w_api.c)
# into one LLVM bitcode module for a native target; the compiler embeds it and links it into every
# native model (codegen/llvm_emit.c).
# Usage: runtime/build-kernels-native.sh TRIPLE OUT.bc      (TRIPLE: x86_64-linux-gnu, aarch64-linux-gnu)
# -fno-vectorize -fno-slp-vectorize: loops stay scalar in the bitcode so that the emitter's O3 vectorizes
# them for the CPU the model is compiled for (vectorized here they would keep SSE width). The emitter
# also drops the target-cpu/target-features attributes clang stamps on every function.
set -eu

CC="${CC:-clang-19}"
LLVM_LINK="${LLVM_LINK:-llvm-link-19}"
if [ $# -ne 2 ]; then
  echo "usage: $0 TRIPLE OUT.bc" >&2
  exit 2
fi
triple="$1"
out="$2"
# -Wno-psabi: 8-float vectors pass between always-inline helpers only (gemm.c), never across an ABI boundary
NATIVE_CFLAGS="--target=$triple -O3 -fno-vectorize -fno-slp-vectorize -ffreestanding -fno-math-errno -fPIC -std=c11 -Wall -Wextra -Wshadow -Wno-psabi"
here="$(cd "$(dirname "$0")" && pwd)"
objdir="$(mktemp -d "${TMPDIR:-/tmp}/rtn.XXXXXX")"
trap 'rm -rf "$objdir"' EXIT INT TERM

bcs=""
for src in "$here"/kernels/*.c "$here"/native/o2w_api.c; do
  bc="$objdir/$(basename "$src" .c).bc"
  # shellcheck disable=SC2086
  $CC $NATIVE_CFLAGS -emit-llvm -c "$src" -o "$bc"
  bcs="$bcs $bc"
done
# shellcheck disable=SC2086
$LLVM_LINK $bcs -o "$out"
