#!/bin/sh
# run.sh BUILD_DIR — If resolved at compile time, end to end: the models of make_models.py (conditions
# computed from static shapes, both outcomes, Ifs nested three deep, branches reading outer values and
# their own initializers, branch outputs that are outer values or initializers, branch-local names
# that clash with outer ones) compile with no If left after the fold pass, and their modules match
# onnxruntime-web on seeded random inputs (NAME.oracle.onnx, where present, is the twin onnxruntime
# accepts: it refuses names reused across scopes and branches returning an outer value directly).
set -eu
build="$(cd "$1" && pwd)"
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="$build/control-tests"
rm -rf "$work"
mkdir -p "$work"
cd "$work"
/usr/bin/python3 "$here/make_models.py" "$work"
c="$build/onnx2wasm"
n=0
for m in shape_if_then shape_if_else nested3 outer_and_init passthrough_then passthrough_else; do
  "$c" "$m.onnx" -o "$m.wasm" --verify --print-after fold 2> "$m.ir"
  if grep -q "= If(" "$m.ir"; then echo "FAIL $m: an If is left after fold"; cat "$m.ir"; exit 1; fi
  ref="$m.onnx"; [ -f "$m.oracle.onnx" ] && ref="$m.oracle.onnx"
  mkdir -p "$m"
  node "$root/tools/ort-oracle.mjs" "$ref" --data "$m" --gen --seed 7 --range -2,2 --quiet
  "$build/onnx2wasm-run" "$m.wasm" --data "$m" --quiet
  echo "PASS $m"
  n=$((n + 1))
done
# the branch taken follows the shape: the two shape_if models differ only in x's rows (3 and 1)
grep -q "# if_rows/mul" shape_if_then.ir
grep -q "# if_rows/add" shape_if_else.ir
# nested: every level inlined, names prefixed by the enclosing Ifs
grep -q "# if_l1/if_l2/if_l3/l3_mul" nested3.ir
# the native route takes the same graph
"$c" nested3.onnx -o nested3.so
"$build/onnx2wasm-run" nested3.so --data nested3 --quiet
echo "PASS nested3.so"
echo "$n models match onnxruntime-web"
