#!/bin/sh
# run.sh BUILD_DIR — decoder LLMs with a KV cache end to end: compile each model of models/export_decoders.py once, check its logits against onnxruntime-web at every step of two sequences.
#
# For gpt2_char and llama_char: export the model if missing (models/export_decoders.py; gpt2_char
# uses models/gpt2_char/weights.pt when models/train_decoder.py has made it, else a seeded random
# init; with LLM_TRAIN=1 a missing weights.pt is trained first, ~7-10 min), compile it ONCE with
#   BUILD_DIR/onnx2wasm model.onnx -o M.wasm --max-dim seq=64 --max-dim past=CTX-1
# (CTX: the model's context bound from config.json; seq and past stay run-time symbols,
# docs/abi.md), then tests/llm/check.mjs runs, through that
# one module and one onnxruntime-web session (wasm, 1 thread), a 24-character prompt + 200
# greedy decode steps, and a 41-character prompt + a 7-token chunk at past 41 + 60 decode steps,
# comparing the logits of every call (rtol 1e-3, atol 1e-4) and the final KV caches.
# Then tests/llm/state.mjs checks the engine's KV-state contract with the cache resident (the
# default, docs/abi.md "Resident caches"), and both again, shorter, with --no-pass resident_kv
# (dense caches copied per call). Then the same models as bfloat16 checkpoints (models/to_bf16.py: the
# weight matrices rounded to bfloat16 and stored so, as LLM checkpoints ship), compiled and checked
# against onnxruntime-web on those files, as above; their modules must carry bfloat16 weight panels.
# The float32 models also as native libraries (-o M.so --cpu native, dense caches), same oracle.
# Registered in CTest as "llm".
set -u
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd) || exit 2
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); printf "ok   %s\n" "$*"; }
bad() { fail=$((fail + 1)); printf "FAIL %s\n" "$*"; }

for m in gpt2_char llama_char gpt2_char_bf16 llama_char_bf16; do
  dir="$root/models/$m"
  base=${m%_bf16}
  if [ "$base" != "$m" ]; then     # the bfloat16 checkpoint of the model above (models/to_bf16.py)
    if [ ! -f "$dir/model.onnx" ] || [ "$root/models/$base/model.onnx" -nt "$dir/model.onnx" ]; then
      /usr/bin/python3 "$root/models/to_bf16.py" "$root/models/$base" "$dir" > "$tmp/export.log" 2>&1 ||
        { bad "$m: models/to_bf16.py failed: $(tail -3 "$tmp/export.log")"; continue; }
    fi
  fi
  if [ "${LLM_TRAIN:-0}" = 1 ] && [ "$m" = gpt2_char ] && [ ! -f "$dir/weights.pt" ]; then
    /usr/bin/python3 "$root/models/train_decoder.py" --model "$m" > "$tmp/train.log" 2>&1 ||
      { bad "$m: training failed: $(tail -3 "$tmp/train.log")"; continue; }
    rm -f "$dir/model.onnx"
  fi
  if [ ! -f "$dir/model.onnx" ] || [ ! -f "$dir/vocab.json" ] || [ ! -f "$dir/config.json" ] ||
     { [ -f "$dir/weights.pt" ] && [ "$dir/weights.pt" -nt "$dir/model.onnx" ]; }; then
    /usr/bin/python3 "$root/models/export_decoders.py" --only "$m" > "$tmp/export.log" 2>&1 ||
      { bad "$m: export failed: $(tail -3 "$tmp/export.log")"; continue; }
  fi
  ctx=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['ctx'])" "$dir/config.json") ||
    { bad "$m: no ctx in $dir/config.json"; continue; }
  if ! "$build/onnx2wasm" "$dir/model.onnx" -o "$tmp/$m.wasm" --max-dim seq=64 --max-dim past=$((ctx - 1)) \
       > "$tmp/compile.out" 2> "$tmp/compile.err"; then
    ops=$(/usr/bin/python3 -c "import json,sys; print(', '.join(json.load(open(sys.argv[1]))['ops']))" "$dir/config.json" 2>/dev/null)
    bad "$m: compile failed (expected until onnx2wasm supports run-time symbolic dims seq/past and the graph's ops: $ops): $(head -5 "$tmp/compile.err")"
    continue
  fi
  if node "$root/tests/llm/check.mjs" "$dir" "$tmp/$m.wasm" --steps 200 --rtol 1e-3 --atol 1e-4 > "$tmp/check.out" 2>&1; then
    while IFS= read -r line; do case "$line" in "ok   "*) ok "${line#ok   }";; esac; done < "$tmp/check.out"
  else
    n=0
    while IFS= read -r line; do
      case "$line" in
        "ok   "*) ok "${line#ok   }";;
        "FAIL "*) bad "${line#FAIL }"; n=$((n + 1));;
      esac
    done < "$tmp/check.out"
    [ "$n" -gt 0 ] || bad "$m: check.mjs failed: $(tail -5 "$tmp/check.out")"
  fi
  if [ "$base" != "$m" ]; then      # bfloat16 panels: the module carries about half the weight bytes
    b16=$(wc -c < "$tmp/$m.wasm"); b32=$(wc -c < "$tmp/$base.wasm" 2>/dev/null || echo 0)
    if [ "$b32" -gt 0 ] && [ $((b16 * 10)) -lt $((b32 * 6)) ]; then ok "$m: module $b16 bytes vs $b32 for float32 weights (bfloat16 panels)"
    else bad "$m: module $b16 bytes vs $b32 for float32 weights: bfloat16 panels not used"; fi
    continue                        # the state contract and dense caches do not depend on the weights' dtype
  fi
  if node "$root/tests/llm/state.mjs" "$tmp/$m.wasm" --resident > "$tmp/state.out" 2>&1; then ok "$m: KV state contract (resident cache; overwritten states refused, snapshots reusable)"
  else bad "$m: KV state contract: $(cat "$tmp/state.out" | tail -3)"; fi
  # the same model with dense caches (--no-pass resident_kv): fewer steps, same oracle
  if "$build/onnx2wasm" "$dir/model.onnx" -o "$tmp/$m.dense.wasm" --max-dim seq=64 --max-dim past=$((ctx - 1)) \
       --no-pass resident_kv > /dev/null 2> "$tmp/compile.err" &&
     node "$root/tests/llm/check.mjs" "$dir" "$tmp/$m.dense.wasm" --steps 30 --rtol 1e-3 --atol 1e-4 > "$tmp/dense.out" 2>&1 &&
     node "$root/tests/llm/state.mjs" "$tmp/$m.dense.wasm" >> "$tmp/dense.out" 2>&1; then
    ok "$m: dense caches (--no-pass resident_kv): logits match ort-web at every call, KV state contract"
  else bad "$m: dense caches (--no-pass resident_kv): $(cat "$tmp/compile.err" "$tmp/dense.out" | grep -v '^ok' | tail -3)"; fi
  # the native backend (a .so at this machine's CPU, dense caches; in-process through build/o2w_native.node)
  if "$build/onnx2wasm" "$dir/model.onnx" -o "$tmp/$m.so" --cpu native --max-dim seq=64 --max-dim past=$((ctx - 1)) \
       --no-pass resident_kv > /dev/null 2> "$tmp/compile.err" &&
     O2W_NATIVE_ADDON="$build/o2w_native.node" node "$root/tests/llm/check.mjs" "$dir" "$tmp/$m.so" --steps 60 \
       > "$tmp/native.out" 2>&1; then
    ok "$m: native library (--cpu native): logits match ort-web at every call"
  else bad "$m: native library: $(cat "$tmp/compile.err" "$tmp/native.out" | grep -v '^ok' | tail -3)"; fi
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
