#!/bin/sh
# build-kernels.sh — compile runtime/kernels/*.c into one freestanding wasm32 SIMD128 module.
# Usage: runtime/build-kernels.sh [--relaxed | --relaxed-imports] OUT.wasm     (prints nothing on success)
#   --relaxed: also -mrelaxed-simd (the kernels then use f32x4.relaxed_madd, rt_madd_f32x4 in rt_vec.h); a
#   module to load directly, with node --experimental-wasm-relaxed-simd (bench/gemm/run.mjs --relaxed).
#   --relaxed-imports: the same operations as calls to functions imported from "o2w_relaxed", the form the
#   compiler embeds for `onnx2wasm --simd relaxed` (binaryen 108 cannot read the relaxed opcodes;
#   codegen/wasm_relax.c puts the instructions in after it).
# The compiler's CMake mirrors these commands; keep the flag variables below in sync with it.
set -eu

CC="${CC:-clang-19}"
WASM_LD="${WASM_LD:-wasm-ld-19}"
KERNEL_CFLAGS="--target=wasm32 -msimd128 -mbulk-memory -O3 -nostdlib -ffreestanding -std=c11 -Wall -Wextra -Wshadow"
KERNEL_LDFLAGS="--no-entry --stack-first -z stack-size=65536 --export=__heap_base"

if [ "${1:-}" = "--relaxed" ]; then
  KERNEL_CFLAGS="$KERNEL_CFLAGS -mrelaxed-simd"
  shift
elif [ "${1:-}" = "--relaxed-imports" ]; then
  KERNEL_CFLAGS="$KERNEL_CFLAGS -DRT_RELAXED_IMPORTS"
  shift
fi
if [ $# -ne 1 ]; then
  echo "usage: $0 [--relaxed | --relaxed-imports] OUT.wasm" >&2
  exit 2
fi
out="$1"
here="$(cd "$(dirname "$0")" && pwd)"
objdir="$(mktemp -d "${TMPDIR:-/tmp}/rtk.XXXXXX")"
trap 'rm -rf "$objdir"' EXIT INT TERM

objs=""
for src in "$here"/kernels/*.c; do
  obj="$objdir/$(basename "$src" .c).o"
  # shellcheck disable=SC2086
  $CC $KERNEL_CFLAGS -c "$src" -o "$obj"
  objs="$objs $obj"
done
# shellcheck disable=SC2086
$WASM_LD $KERNEL_LDFLAGS $objs -o "$out"
