#!/bin/sh
# native.sh — the kernel tests (test_kernels.c: every SIMD variant against its scalar reference and the
# scalar one against textbook formulas) built natively from the same kernel sources: x86-64 at the ISA
# levels the compiler's --cpu offers (v4 only where this CPU has AVX-512), and AArch64 (NEON) run under
# qemu-user. The same sources as the wasm32 build: runtime/kernels/rt_vec.h maps the vector vocabulary.
# Usage: tests/kernels/native.sh BUILD_DIR       exit status 0 iff every build passed every check.
set -eu
build="$1"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
CC="${CC:-clang-19}"
mkdir -p "$build/native-kernels"
srcs="$here/test_kernels.c $(ls "$root"/runtime/kernels/*.c) $root/runtime/pack.c"
# -no-pie: the tests' buffers must lie below 4 GiB (see test_kernels.c)
flags="-O2 -std=c11 -fno-math-errno -no-pie -fno-pie -Wall -Wextra -Wshadow -Wno-psabi"
fail=0
run() {   # NAME CMD...: runs one build, prints its summary line
  name="$1"; shift
  if "$@" > "$build/native-kernels/$name.txt" 2>&1; then
    echo "native kernels $name: $(tail -1 "$build/native-kernels/$name.txt")"
  else
    echo "native kernels $name: FAILED"; grep -v '^PASS\|^INFO' "$build/native-kernels/$name.txt" | head -20; fail=1
  fi
}
levels="x86-64-v2 x86-64-v3"
grep -q ' avx512f' /proc/cpuinfo && levels="$levels x86-64-v4" || echo "native kernels x86-64-v4: skipped (no AVX-512 on this CPU)"
# the GEMM tile as the emitter picks it: 5x8 on SSE-only x86-64-v2, 5x16 (ukr16) with AVX2 and NEON,
# 5x32 (ukr32) with AVX-512
for lvl in $levels; do
  wide=1; [ "$lvl" = x86-64-v2 ] && wide=0; [ "$lvl" = x86-64-v4 ] && wide=2
  # shellcheck disable=SC2086
  $CC --target=x86_64-linux-gnu -march=$lvl -DRT_TEST_GEMM_WIDE=$wide $flags $srcs -lm -lpthread -o "$build/native-kernels/test_$lvl"
  run "$lvl" "$build/native-kernels/test_$lvl"
done
# shellcheck disable=SC2086
$CC --target=aarch64-linux-gnu -DRT_TEST_GEMM_WIDE=1 $flags $srcs -lm -lpthread -o "$build/native-kernels/test_aarch64"
run aarch64 qemu-aarch64 -L /usr/aarch64-linux-gnu "$build/native-kernels/test_aarch64"
exit $fail
