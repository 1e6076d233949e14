#!/usr/bin/env bash
# Installs every build and test dependency of onnx2wasm on a fresh Debian 12 machine (run as root).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

pkgs=(
  build-essential cmake pkg-config
  libprotobuf-c-dev protobuf-c-compiler libonnx-dev
  binaryen
  clang-19 lld-19 llvm-19-dev libclang-rt-19-dev-wasm32 libclang-rt-19-dev wasi-libc
  gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user   # native AArch64 builds, run under qemu-user
  wabt nodejs
  libonnx-testdata python3-onnx python3-numpy python3-torch python3-torchvision
  python3-pil   # models/fetch_npm_models.py draws the reference inputs of the npm models
  chromium      # tests/demo and bench/browser.mjs drive it headless (playwright-core from tools/)
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
# npm ships with nodejs (NodeSource) or comes as Debian's npm package.
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# The test oracle: onnxruntime-web (and onnxruntime-node, whose install script would download), and the test
# tools of tools/package.json (typescript, esbuild, playwright-core; deno and bun, whose binaries come as their
# packages' platform dependencies: bun's postinstall only links its binary, run here since scripts are off).
need=0
for d in onnxruntime-web onnxruntime-node typescript esbuild playwright-core deno bun; do
  [ -d "$here/tools/node_modules/$d" ] || need=1
done
if [ "$need" = 1 ]; then
  (cd "$here/tools" && npm install --no-audit --no-fund --ignore-scripts)
fi
if ! "$here/tools/node_modules/.bin/bun" --version >/dev/null 2>&1; then
  (cd "$here/tools/node_modules/bun" && node install.js)
fi
