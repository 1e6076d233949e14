#!/bin/sh
# build-kernels.sh — compile runtime/kernels/*.c into one freestanding wasm32 SIMD128 module.
# Usage: runtime/build-kernels.sh [--relaxed] OUT.wasm     (prints nothing on success)
#   --relaxed: also -mrelaxed-simd (the GEMM micro-kernel then uses f32x4.relaxed_madd). Experimental, not
#   used by the compiler; needs node --experimental-wasm-relaxed-simd (bench/gemm/run.mjs --relaxed).
# The compiler's CMake mirrors these commands; keep the flag variables below in sync with it.
set -eu

CC="${CC:-clang-19}"
WASM_LD="${WASM_LD:-wasm-ld-19}"
KERNEL_CFLAGS="--target=wasm32 -msimd128 -mbulk-memory -O3 -nostdlib -ffreestanding -std=c11 -Wall -Wextra -Wshadow"
KERNEL_LDFLAGS="--no-entry --stack-first -z stack-size=65536 --export=__heap_base"

if [ "${1:-}" = "--relaxed" ]; then
  KERNEL_CFLAGS="$KERNEL_CFLAGS -mrelaxed-simd"
  shift
fi
if [ $# -ne 1 ]; then
  echo "usage: $0 [--relaxed] OUT.wasm" >&2
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
