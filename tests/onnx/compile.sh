#!/bin/sh
# compile.sh BUILD_DIR — every ONNX backend test model through the compiler of BUILD_DIR (the sanitizer
# build in scripts/test.sh), without running the modules: each compile must end in a Program (exit 0) or
# a clean error (exit 1 with a message), never a sanitizer report or a signal; every case that
# expected.txt lists as passing must compile. Every case goes through the frontend, the passes, the plan
# and lowering (--print-program); every 16th (O2W_EMIT_EVERY) also through the wasm emitter to a file,
# which costs ~1 s a case under ASan (binaryen reads and prunes the kernel module).
BUILD=${1:?usage: compile.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
data=/usr/share/libonnx-testdata/data
export ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:abort_on_error=1}
work=$(mktemp -d "${TMPDIR:-/tmp}/o2w-compile.XXXXXX")
trap 'rm -rf "$work"' EXIT
ok=0 refused=0 bad=0 i=0
every=${O2W_EMIT_EVERY:-16}
for m in "$data"/*/*/model.onnx; do
  case=${m#"$data"/}
  case=${case%/model.onnx}
  i=$((i + 1))
  if [ $((i % every)) -eq 0 ]; then "$BUILD/onnx2wasm" "$m" -o "$work/m.wasm" > "$work/out" 2>&1
  else "$BUILD/onnx2wasm" "$m" --print-program > "$work/out" 2>&1
  fi
  rc=$?
  if [ "$rc" -eq 0 ]; then ok=$((ok + 1))
  elif [ "$rc" -eq 1 ] && grep -q "^onnx2wasm: " "$work/out" && ! grep -q "Sanitizer\|runtime error" "$work/out"; then
    refused=$((refused + 1))
    if grep -qx "$case" "$here/expected.txt"; then echo "FAIL $case: expected to compile: $(head -c 300 "$work/out")"; bad=$((bad + 1)); fi
  else
    echo "FAIL $case: exit $rc"; head -30 "$work/out"; bad=$((bad + 1))
  fi
done
echo "compiled $ok, refused cleanly $refused, failed $bad"
[ "$bad" -eq 0 ] && echo "PASS: onnx.compile" || { echo "FAIL: onnx.compile"; exit 1; }
