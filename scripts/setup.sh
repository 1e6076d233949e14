#!/usr/bin/env bash
# setup.sh — one command from a fresh Debian 12 machine (as root) to a compiled, running model:
# installs dependencies, builds the compiler, exports the default model (torchvision
# mobilenet_v2, seeded weights), compiles it to build/mobilenet_v2.wasm and runs it, checking the
# result against onnxruntime-web on the same input. Usage: scripts/setup.sh [MODEL_NAME]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
model=${1:-mobilenet_v2}
cd "$root"

bash scripts/install-deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo > /dev/null
cmake --build build -j"$(nproc)"

if [ ! -f "models/$model/model.onnx" ] || [ ! -f "models/$model/data/output_0.pb" ]; then
  echo "== exporting $model (torchvision, seeded weights) and computing onnxruntime-web's reference output"
  /usr/bin/python3 models/export_torchvision.py --only "$model" --check
fi
echo "== onnx2wasm models/$model/model.onnx -o build/$model.wasm"
build/onnx2wasm "models/$model/model.onnx" -o "build/$model.wasm" --stats
echo "== onnx2wasm-run build/$model.wasm --data models/$model/data"
build/onnx2wasm-run "build/$model.wasm" --data "models/$model/data" --atol 1e-4
