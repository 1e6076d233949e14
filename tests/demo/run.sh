#!/bin/sh
# run.sh BUILD_DIR — the browser demo (examples/classify) in headless Chromium against onnxruntime-web
# (demo.mjs). Exports models/mobilenet_v2 first when it is missing (models/export_torchvision.py, seeded).
# The screenshot goes to BUILD_DIR/demo.png (docs/demo.png is a copy of one: `node tests/demo/demo.mjs build
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
exec node "$root/tests/demo/demo.mjs" "$build" --screenshot "$build/demo.png"
