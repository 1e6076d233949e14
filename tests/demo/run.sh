#!/bin/sh
# run.sh BUILD_DIR — the browser demos (examples/classify, examples/generate) in headless Chromium against
# onnxruntime-web (demo.mjs). Exports models/mobilenet_v2 (models/export_torchvision.py, seeded) and
# models/gpt2_char (models/export_decoders.py) first when they are missing.
# The screenshots go to BUILD_DIR/demo.png and demo-generate.png (docs/demo.png is a copy of one: `node tests/demo/demo.mjs build
# --screenshot docs/demo.png`).
set -u
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
if [ ! -f "$root/models/mobilenet_v2/model.onnx" ]; then
  log=$(mktemp)
  if ! /usr/bin/python3 "$root/models/export_torchvision.py" --only mobilenet_v2 --check > "$log" 2>&1; then
    echo "FAIL mobilenet_v2 export: $(tail -3 "$log")"; rm -f "$log"; exit 1
  fi
  rm -f "$log"
fi
if [ ! -f "$root/models/gpt2_char/model.onnx" ] || [ ! -f "$root/models/gpt2_char/vocab.json" ]; then
  log=$(mktemp)
  if ! /usr/bin/python3 "$root/models/export_decoders.py" --only gpt2_char > "$log" 2>&1; then
    echo "FAIL gpt2_char export: $(tail -3 "$log")"; rm -f "$log"; exit 1
  fi
  rm -f "$log"
fi
exec node "$root/tests/demo/demo.mjs" "$build" --screenshot "$build/demo.png"
