#!/bin/sh
# run.sh BUILD_DIR — quantized weights end to end (passes/quant_weights.c, runtime/kernels/matmul_q.c), against
# onnxruntime-web running the same quantized .onnx file.
#
# From the float32 decoders of models/export_decoders.py (exported if missing), models/quantize_models.py
# writes the two pre-quantized forms real exports use:
#   *_q4   com.microsoft MatMulNBits, 4 bits, block 32, zero points (onnxruntime-genai's int4 LLM export)
#   *_q8   MatMulNBits with 8 bits
#   *_qdq  DequantizeLinear(int8 per column) -> MatMul (quantize_static/quantize_dynamic's weight form)
# Each is compiled once (--max-dim seq=64 --max-dim past=CTX-1) and tests/llm/check.mjs compares its logits with
# onnxruntime-web's on the same file at every call of two sequences (rtol 1e-3, atol 1e-4), also as a native
# library (llama_char_q4). Then `--quantize int4` / `--quantize int8` on the float32 model must give the module
# of the q4 / qdq file (the compiler's quantizer and the script's round the same way), checked against
# onnxruntime-web on that file; and the modules must carry the small weights. Then two QDQ CNNs (integer convs,
# see the end). Registered in CTest as "quant".
set -u
[ $# -ge 1 ] || { echo "usage: $0 BUILD_DIR" >&2; exit 2; }
build=$(cd "$1" && pwd) || exit 2
root=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); printf "ok   %s\n" "$*"; }
bad() { fail=$((fail + 1)); printf "FAIL %s\n" "$*"; }

# check NAME DIR MODULE [RTOL ATOL]: check.mjs's verdict as ok/FAIL lines (default tolerance rtol 1e-3, atol 1e-4)
check() {
  name=$1; dir=$2; mod=$3
  if O2W_NATIVE_ADDON="$build/o2w_native.node" node "$root/tests/llm/check.mjs" "$dir" "$mod" --steps 60 --rtol "${4:-1e-3}" \
       --atol "${5:-1e-4}" > "$tmp/check.out" 2>&1; then
    ok "$name: logits match onnxruntime-web on the same file at every call ($(grep -o 'max abs err [0-9.e-]*' "$tmp/check.out" | head -1))"
  else bad "$name: $(grep -v '^ok' "$tmp/check.out" | tail -3)"; fi
}

for base in gpt2_char llama_char; do
  src="$root/models/$base"
  if [ ! -f "$src/model.onnx" ] || [ ! -f "$src/config.json" ]; then
    /usr/bin/python3 "$root/models/export_decoders.py" --only "$base" > "$tmp/export.log" 2>&1 ||
      { bad "$base: export failed: $(tail -3 "$tmp/export.log")"; continue; }
  fi
  ctx=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['ctx'])" "$src/config.json")
  dims="--max-dim seq=64 --max-dim past=$((ctx - 1))"
  # shellcheck disable=SC2086
  "$build/onnx2wasm" "$src/model.onnx" -o "$tmp/$base.wasm" $dims 2> "$tmp/err" || { bad "$base: float32 compile: $(cat "$tmp/err")"; continue; }
  f32=$(wc -c < "$tmp/$base.wasm")
  for v in q4 q8 qdq; do
    m=${base}_$v
    dir="$tmp/$m"
    mkdir -p "$dir"
    cp "$src/vocab.json" "$src/config.json" "$dir/"
    case $v in
      q4) args="--format nbits --bits 4";;
      q8) args="--format nbits --bits 8";;
      qdq) args="--format qdq";;
    esac
    # shellcheck disable=SC2086
    /usr/bin/python3 "$root/models/quantize_models.py" "$src/model.onnx" "$dir/model.onnx" $args > /dev/null 2> "$tmp/err" ||
      { bad "$m: quantize_models.py: $(tail -3 "$tmp/err")"; continue; }
    # shellcheck disable=SC2086
    if ! "$build/onnx2wasm" "$dir/model.onnx" -o "$tmp/$m.wasm" $dims 2> "$tmp/err"; then bad "$m: compile: $(cat "$tmp/err")"; continue; fi
    check "$m" "$dir" "$tmp/$m.wasm"
    sz=$(wc -c < "$tmp/$m.wasm")
    lim=$([ $v = q4 ] && echo 45 || echo 65)    # percent of the float32 module
    if [ $((sz * 100)) -le $((f32 * lim)) ]; then ok "$m: module $sz bytes, float32 $f32 (at most ${lim}%)"
    else bad "$m: module $sz bytes vs float32 $f32: more than ${lim}% (weights not kept quantized?)"; fi
  done
  # quantize_dynamic's form (DynamicQuantizeLinear + MatMulInteger + Cast + Mul per MatMul, int8 per column): fuse_qdyn
  # makes each chain one MatMulIntegerScaled call (the floats are the unfused chain's: the kernel rounds each step
  # as the nodes do), so the module has at most 3 calls per MatMul more than the float32 one (the quantization, the
  # x_scale * b_scale product, and fusions the float32 graph has and this one cannot), where the unfused chains
  # take 5 (gpt2_char: 125 calls fused, 171 unfused, 79 float32). Against onnxruntime-web: the activations are quantized at run time, so a
  # float32 difference of an ulp before a DynamicQuantizeLinear (a LayerNorm's) can move one activation across a
  # rounding boundary, one quantization step, ~1e-2 on these logits (DynamicQuantizeLinear itself matches
  # onnxruntime's bit for bit); held to 2e-2 and the greedy choice at every call.
  m=${base}_dyn; dir="$tmp/$m"
  mkdir -p "$dir"
  cp "$src/vocab.json" "$src/config.json" "$dir/"
  if /usr/bin/python3 "$root/models/quantize_models.py" "$src/model.onnx" "$dir/model.onnx" --format dynamic > /dev/null 2> "$tmp/err"; then
    nmm=$(/usr/bin/python3 -c "import onnx,sys; print(sum(n.op_type == 'MatMulInteger' for n in onnx.load(sys.argv[1]).graph.node))" "$dir/model.onnx")
    # shellcheck disable=SC2086
    if "$build/onnx2wasm" "$dir/model.onnx" -o "$tmp/$m.wasm" $dims --stats > "$tmp/stats" 2>&1 &&
       "$build/onnx2wasm" "$src/model.onnx" -o "$tmp/$base.f.wasm" $dims --stats > "$tmp/fstats" 2>&1; then
      cd_=$(grep -o '"calls": [0-9]*' "$tmp/stats" | grep -o '[0-9]*$'); cf=$(grep -o '"calls": [0-9]*' "$tmp/fstats" | grep -o '[0-9]*$')
      if [ -n "$cd_" ] && [ -n "$cf" ] && [ "$nmm" -gt 0 ] && [ $((cd_ - cf)) -le $((3 * nmm)) ]; then ok "$m: $nmm MatMulInteger chains fused ($cd_ calls, float32 $cf)"
      else bad "$m: $nmm MatMulInteger chains, $cd_ calls against float32's $cf: not fused"; fi
      if O2W_NATIVE_ADDON="$build/o2w_native.node" node "$root/tests/llm/check.mjs" "$dir" "$tmp/$m.wasm" --steps 60 --rtol 2e-2 \
           --atol 2e-2 > "$tmp/check.out" 2>&1 &&
         grep "greedy choice agrees" "$tmp/check.out" | sed 's/.*greedy choice agrees \([0-9]*\)\/\([0-9]*\).*/\1 \2/' | awk '$1 != $2 {exit 1}'; then
        ok "$m: logits within 2e-2 of onnxruntime-web's and the same greedy choice at every call ($(grep -o 'max abs err [0-9.e-]*' "$tmp/check.out" | head -1))"
      else bad "$m: $(grep -v '^ok' "$tmp/check.out" | tail -3)"; fi
    else bad "$m: compile: $(cat "$tmp/stats")"; fi
  else bad "$m: quantize_models.py: $(tail -3 "$tmp/err")"; fi
  # the compiler's own quantizer: the same integers as the script's, so the same oracle holds
  for mode in int4:q4 int8:qdq; do
    q=${mode%%:*}; v=${mode#*:}
    # shellcheck disable=SC2086
    if "$build/onnx2wasm" "$src/model.onnx" -o "$tmp/${base}_$q.wasm" $dims --quantize "$q" 2> "$tmp/err"; then
      check "$base --quantize $q (oracle: ${base}_$v)" "$tmp/${base}_$v" "$tmp/${base}_$q.wasm"
    else bad "$base --quantize $q: $(cat "$tmp/err")"; fi
  done
done
# the native backend reads the same Program: one quantized decoder as a library (dense caches)
if [ -f "$build/o2w_native.node" ] && [ -d "$tmp/llama_char_q4" ]; then
  if "$build/onnx2wasm" "$tmp/llama_char_q4/model.onnx" -o "$tmp/llama_char_q4.so" --cpu native --max-dim seq=64 \
       --max-dim past=255 --no-pass resident_kv 2> "$tmp/err"; then check "llama_char_q4 (native .so)" "$tmp/llama_char_q4" "$tmp/llama_char_q4.so"
  else bad "llama_char_q4 native: $(cat "$tmp/err")"; fi
fi
# QDQ CNNs (quantize_static's form, models/quantize_models.py --format static): fuse_qdq must turn every Conv into
# an integer conv (no float conv left in the program), and the output must match onnxruntime-web on the same file
# within one quantization step of the last quantized tensor (the fused kernels round as onnxruntime's do, so most
# elements agree exactly); mobilenet_v2 (depthwise, Clip, residual Add) also as a native library
for base in mobilenet_v2 squeezenet1_1; do
  src="$root/models/$base"
  if [ ! -f "$src/model.onnx" ] || [ ! -f "$src/data/input_0.pb" ]; then
    /usr/bin/python3 "$root/models/export_torchvision.py" --only "$base" --check > "$tmp/export.log" 2>&1 ||
      { bad "$base: export failed: $(tail -3 "$tmp/export.log")"; continue; }
  fi
  m=${base}_qdq; dir="$tmp/$m"
  mkdir -p "$dir/data"
  /usr/bin/python3 "$root/models/quantize_models.py" "$src/model.onnx" "$dir/model.onnx" --format static > /dev/null 2> "$tmp/err" ||
    { bad "$m: quantize_models.py: $(tail -3 "$tmp/err")"; continue; }
  cp "$src/data/input_0.pb" "$dir/data/"
  node "$root/tools/ort-oracle.mjs" "$dir/model.onnx" --data "$dir/data" --quiet 2> "$tmp/err" || { bad "$m: onnxruntime-web: $(cat "$tmp/err")"; continue; }
  step=$(/usr/bin/python3 -c "
import onnx, sys
from onnx import numpy_helper
m = onnx.load(sys.argv[1]); init = {t.name: t for t in m.graph.initializer}
print([float(numpy_helper.to_array(init[n.input[1]])) for n in m.graph.node if n.op_type == 'DequantizeLinear' and n.input[1] in init and not init[n.input[1]].dims][-1])" "$dir/model.onnx")
  if ! "$build/onnx2wasm" "$dir/model.onnx" -o "$tmp/$m.wasm" --print-program 2> "$tmp/prog"; then bad "$m: compile: $(tail -3 "$tmp/prog")"; continue; fi
  nf=$(grep -c 'call rt_conv2d_f32' "$tmp/prog"); ni=$(grep -c 'call rt_conv2d_i8' "$tmp/prog")
  if [ "$nf" -eq 0 ] && [ "$ni" -gt 0 ]; then ok "$m: all $ni convs integer (fuse_qdq)"; else bad "$m: $nf float convs left, $ni integer"; fi
  if [ "$base" = squeezenet1_1 ]; then   # its max pools and concats between QDQ pairs run on the integers too
    np=$(grep -c 'call rt_pool2d_f32' "$tmp/prog"); n8=$(grep -c 'call rt_maxpool_8' "$tmp/prog"); nd=$(grep -c 'call rt_dequantize' "$tmp/prog")
    if [ "$np" -eq 0 ] && [ "$n8" -eq 3 ] && [ "$nd" -le 2 ]; then ok "$m: 3 integer max pools, concats of integers ($nd dequantizations left)"
    else bad "$m: $np float pools, $n8 integer, $nd dequantizations"; fi
  fi
  arts="$tmp/$m.wasm"
  [ "$base" = mobilenet_v2 ] && arts="$arts $tmp/$m.so"
  for art in $arts; do
    case $art in *.so) "$build/onnx2wasm" "$dir/model.onnx" -o "$art" --cpu native 2> "$tmp/err" || { bad "$m native: $(cat "$tmp/err")"; continue; };; esac
    if "$build/onnx2wasm-run" "$art" --data "$dir/data" --rtol 0 --atol "$step" > "$tmp/run.out" 2>&1; then
      ok "$m (${art##*.}): matches onnxruntime-web within one step ($step): $(grep -o 'max_abs_err [0-9.e-]*' "$tmp/run.out" | head -1)"
    else bad "$m (${art##*.}): $(grep -E 'MISMATCH|FAIL|rror' "$tmp/run.out" | head -3)"; fi
  done
done
# a dynamically quantized CNN (quantize_dynamic's form: DynamicQuantizeLinear + ConvInteger + float rescale): the
# integer convs are exact, so onnxruntime-web's float outputs hold to rtol 1e-3 / atol 1e-4
m=mobilenet_v2_dyn; dir="$tmp/$m"
mkdir -p "$dir/data"
if /usr/bin/python3 "$root/models/quantize_models.py" "$root/models/mobilenet_v2/model.onnx" "$dir/model.onnx" --format dynamic > /dev/null 2> "$tmp/err" &&
   cp "$root/models/mobilenet_v2/data/input_0.pb" "$dir/data/" &&
   node "$root/tools/ort-oracle.mjs" "$dir/model.onnx" --data "$dir/data" --quiet 2>> "$tmp/err"; then
  if "$build/onnx2wasm" "$dir/model.onnx" -o "$tmp/$m.wasm" 2> "$tmp/err" &&
     "$build/onnx2wasm-run" "$tmp/$m.wasm" --data "$dir/data" --rtol 1e-3 --atol 1e-4 > "$tmp/run.out" 2>&1; then
    ok "$m: DynamicQuantizeLinear + ConvInteger matches onnxruntime-web: $(grep -o 'max_abs_err [0-9.e-]*' "$tmp/run.out" | head -1)"
  else bad "$m: $(cat "$tmp/err") $(grep -E 'MISMATCH|FAIL|rror' "$tmp/run.out" | head -3)"; fi
else bad "$m: making the model: $(tail -3 "$tmp/err")"; fi
# a real pretrained dynamically quantized model from npm (models/fetch_isnet_quint8.py: IS-Net from
# @imgly/background-removal-data, 119 DynamicQuantizeLinear + ConvInteger, bilinear Resize, 1024x1024): the mask
# against onnxruntime-web's on the same file
isn="$root/models/isnet_quint8"
if [ ! -f "$isn/model.onnx" ] || [ ! -f "$isn/data/output_0.pb" ]; then
  /usr/bin/python3 "$root/models/fetch_isnet_quint8.py" --check > "$tmp/fetch.log" 2>&1 || bad "isnet_quint8: fetch: $(tail -3 "$tmp/fetch.log")"
fi
if [ -f "$isn/data/output_0.pb" ]; then
  if "$build/onnx2wasm" "$isn/model.onnx" -o "$tmp/isnet.wasm" 2> "$tmp/err" &&
     "$build/onnx2wasm-run" "$tmp/isnet.wasm" --data "$isn/data" --rtol 1e-3 --atol 1e-4 > "$tmp/run.out" 2>&1; then
    ok "isnet_quint8 (real, npm): mask matches onnxruntime-web: $(grep -o 'max_abs_err [0-9.e-]*' "$tmp/run.out" | head -1)"
  else bad "isnet_quint8: $(cat "$tmp/err") $(grep -E 'MISMATCH|FAIL|rror' "$tmp/run.out" | head -3)"; fi
  # a flat synthetic scene (models/isnet_accuracy.py scene 0): large regions of one value put the Resize ->
  # DynamicQuantizeLinear pairs at rounding edges, so a last-bit difference in a Resize coefficient flipped whole
  # regions of the mask (max error 0.999 before Resize computed its linear coefficients as onnxruntime does)
  mkdir -p "$tmp/isnet_scene0"
  if /usr/bin/python3 -c "import sys; sys.path.insert(0, sys.argv[1]); import isnet_accuracy as a; a.save(a.scene(0), sys.argv[2])" \
       "$root/models" "$tmp/isnet_scene0/input_0.pb" 2> "$tmp/err" &&
     node "$root/tools/ort-oracle.mjs" "$isn/model.onnx" --data "$tmp/isnet_scene0" --quiet 2>> "$tmp/err" &&
     "$build/onnx2wasm-run" "$tmp/isnet.wasm" --data "$tmp/isnet_scene0" --rtol 1e-3 --atol 1e-4 > "$tmp/run.out" 2>&1; then
    ok "isnet_quint8 on a flat scene: mask matches onnxruntime-web: $(grep -o 'max_abs_err [0-9.e-]*' "$tmp/run.out" | head -1)"
  else bad "isnet_quint8 flat scene: $(tail -2 "$tmp/err") $(grep -E 'MISMATCH|FAIL|rror' "$tmp/run.out" | head -3)"; fi
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
