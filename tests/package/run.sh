#!/bin/sh
# run.sh BUILD_DIR — the npm package of a compiled model (onnx2wasm m.onnx -o DIR/), used as a web developer
# would: `npm pack`, installed from the tarball into a fresh project, imported by name in plain Node and
# compared with onnxruntime-web's outputs (tools/ort-oracle.mjs, the oracle), type-checked with tsc --strict
# with and without the DOM lib, and bundled for the browser with esbuild and run in headless Chromium. A seeded
# small CNN exported here.
set -u
build=$(cd "$1" && pwd)
root=$(cd "$(dirname "$0")/../.." && pwd)
tools="$root/tools/node_modules/.bin"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass=0; fail=0
ok() { pass=$((pass + 1)); echo "ok   $*"; }
bad() { fail=$((fail + 1)); echo "FAIL $*"; }

cat > "$tmp/export.py" <<'PY'
import sys
import torch
import torch.nn as nn
torch.manual_seed(0)
m = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(8 * 8 * 8, 5)).eval()
torch.onnx.export(m, torch.randn(1, 3, 8, 8), sys.argv[1], input_names=["image"], output_names=["logits"], opset_version=13)
PY
mkdir -p "$tmp/data"
if ! /usr/bin/python3 "$tmp/export.py" "$tmp/Tiny_Net.onnx" > "$tmp/log" 2>&1 ||
   ! node "$root/tools/ort-oracle.mjs" "$tmp/Tiny_Net.onnx" --data "$tmp/data" --gen --quiet > "$tmp/log" 2>&1; then
  bad "export or oracle failed: $(tail -3 "$tmp/log")"; echo "$pass passed, $fail failed"; exit 1
fi

# the package
if "$build/onnx2wasm" "$tmp/Tiny_Net.onnx" -o "$tmp/pkg/" 2> "$tmp/err"; then
  for f in model.wasm model.relaxed.wasm onnx2wasm.mjs index.mjs index.d.ts package.json README.md; do
    [ -f "$tmp/pkg/$f" ] || bad "package lacks $f"
  done
  ok "package written: $(ls "$tmp/pkg" | tr '\n' ' ')"
else
  bad "compile to a package failed: $(cat "$tmp/err")"; echo "$pass passed, $fail failed"; exit 1
fi
name=$(node -e "console.log(JSON.parse(require('fs').readFileSync('$tmp/pkg/package.json','utf8')).name)")
[ "$name" = tiny_net ] && ok "package name '$name' (from Tiny_Net.onnx)" || bad "package name '$name', expected tiny_net"

# npm pack, then a fresh project installs the tarball (offline: it has no dependencies)
if (cd "$tmp/pkg" && npm pack --silent > "$tmp/packname" 2> "$tmp/err"); then
  tgz="$tmp/pkg/$(tail -1 "$tmp/packname")"
  mkdir -p "$tmp/app"
  if (cd "$tmp/app" && npm init -y > /dev/null && npm install --offline --no-audit --no-fund "$tgz" > "$tmp/log" 2>&1); then
    ok "npm pack + npm install of the tarball"
  else
    bad "npm install of the tarball: $(tail -3 "$tmp/log")"
  fi
else
  bad "npm pack: $(cat "$tmp/err")"
fi

# plain Node ESM: import by name, run, compare with onnxruntime-web
cat > "$tmp/app/main.mjs" <<JS
import fs from 'node:fs';
import { load } from 'tiny_net';
import { decodeTensor } from '$root/runtime/js/tensorproto.mjs';
const x = decodeTensor(fs.readFileSync('$tmp/data/input_0.pb'));
const want = decodeTensor(fs.readFileSync('$tmp/data/output_0.pb'));
const model = await load();
const { logits } = model.run({ image: x.data });
let worst = 0;
for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(logits[i] - want.data[i]) - 1e-3 * Math.abs(want.data[i]));
if (!(logits instanceof Float32Array) || logits.length !== want.data.length || !(worst <= 1e-4)) {
  console.error('mismatch', worst, logits);
  process.exit(1);
}
// the same in a worker thread, the outputs as tensors
const inWorker = await load({ worker: true });
const t = await inWorker.runAsync({ image: x.data });
inWorker.dispose();
if (t.logits.type !== 'float32' || t.logits.dims.join() !== '1,5' || t.logits.data.some((v, i) => v !== logits[i])) {
  console.error('worker run differs', t.logits);
  process.exit(1);
}
console.log('max excess error', worst.toExponential(2), 'shape', model.outputShape('logits').join('x'), '(worker: the same)');
JS
if (cd "$tmp/app" && node main.mjs > "$tmp/run" 2>&1); then ok "installed package in Node matches onnxruntime-web: $(cat "$tmp/run")"
else bad "installed package in Node: $(tail -3 "$tmp/run")"; fi

# Deno and Bun (tools/node_modules: their npm packages carry the binaries): the installed package imported by name
# runs and matches as in Node (the same main.mjs), and Deno type-checks a consumer against the package's index.d.ts
# (found through the // @ts-self-types line of index.mjs), refusing an Int32Array for the float32 input
for rt in deno bun; do
  bin="$tools/$rt"
  [ -x "$bin" ] || { bad "$rt: not installed (scripts/install-deps.sh)"; continue; }
  if [ $rt = deno ]; then set -- run --allow-read --allow-env main.mjs; else set -- main.mjs; fi
  if (cd "$tmp/app" && "$bin" "$@" > "$tmp/run.$rt" 2>&1); then ok "installed package in $rt $("$bin" --version | head -1 | cut -d' ' -f1-2): $(tail -1 "$tmp/run.$rt")"
  else bad "installed package in $rt: $(tail -3 "$tmp/run.$rt")"; fi
done
if [ -x "$tools/deno" ]; then
  cat > "$tmp/app/deno_use.ts" <<'TS'
import { load } from 'tiny_net';
const model = await load();
const logits: Float32Array = model.run({ image: new Float32Array(192) }).logits;
console.log(logits.length);
TS
  sed 's/new Float32Array(192)/new Int32Array(192)/' "$tmp/app/deno_use.ts" > "$tmp/app/deno_bad.ts"
  if (cd "$tmp/app" && NO_COLOR=1 "$tools/deno" check deno_use.ts > "$tmp/deno.check" 2>&1); then ok "deno check accepts a consumer typed by the package"
  else bad "deno check: $(head -5 "$tmp/deno.check")"; fi
  if (cd "$tmp/app" && NO_COLOR=1 "$tools/deno" check deno_bad.ts > "$tmp/deno.check" 2>&1); then bad "deno check accepted an Int32Array for a float32 input (types not found?)"
  else ok "deno check rejects an Int32Array for the float32 input: $(grep -o 'TS[0-9]*' "$tmp/deno.check" | head -1)"; fi
fi

# TypeScript, strict, with and without the DOM lib (and no @types/node)
cat > "$tmp/app/use.ts" <<'TS'
import { load, imageToTensor, topK, IMAGENET_MEAN, IMAGENET_STD, type Outputs } from 'tiny_net';
export async function top1(pixels: Float32Array): Promise<number> {
  const model = await load();
  const out: Outputs = model.run({ image: pixels });
  const logits: Float32Array = out.logits;
  return logits.indexOf(Math.max(...logits));
}
export async function classify(rgba: { data: Uint8ClampedArray; width: number; height: number }): Promise<number> {
  const model = await load({ worker: true });
  const { logits } = await model.runAsync({ image: imageToTensor(rgba, { mean: IMAGENET_MEAN, std: IMAGENET_STD }) });
  const data: Float32Array = logits.data;
  model.dispose();
  return topK(data, 1)[0].index + logits.dims.length;
}
TS
cat > "$tmp/app/bad.ts" <<'TS'
import { load } from 'tiny_net';
export async function wrong(): Promise<void> {
  const model = await load();
  model.run({ image: new Int32Array(192) });
}
TS
for lib in es2022 es2022,dom; do
  libs=$(echo "$lib" | sed 's/\([a-z0-9]*\)/"\1"/g')
  printf '{"compilerOptions": {"strict": true, "noEmit": true, "module": "es2022", "moduleResolution": "bundler", "target": "es2022", "lib": [%s], "types": []}, "files": ["use.ts"]}\n' "$libs" > "$tmp/app/tsconfig.json"
  if (cd "$tmp/app" && "$tools/tsc" -p tsconfig.json > "$tmp/tsc" 2>&1); then ok "tsc --strict accepts a consumer (lib $lib)"
  else bad "tsc --strict (lib $lib): $(head -5 "$tmp/tsc")"; fi
done
sed -i 's/"use.ts"/"bad.ts"/' "$tmp/app/tsconfig.json"
if (cd "$tmp/app" && "$tools/tsc" -p tsconfig.json > "$tmp/tsc" 2>&1); then bad "tsc accepted an Int32Array for a float32 input"
else ok "tsc rejects an Int32Array for the float32 input: $(grep -o 'TS[0-9]*' "$tmp/tsc" | head -1)"; fi

# bundled for the browser (the loader fetches model.wasm or model.relaxed.wasm next to the bundle), then run in
# headless Chromium on the oracle's input (tests/package/browser.mjs)
cat > "$tmp/app/web.mjs" <<'JS'
import { load } from 'tiny_net';
try {
  const x = new Float32Array(await (await fetch('input.bin')).arrayBuffer());
  const model = await load();
  globalThis.result = model.run({ image: x }).logits;
} catch (e) {
  globalThis.failure = e;
}
JS
if (cd "$tmp/app" && "$tools/esbuild" web.mjs --bundle --format=esm --platform=browser --outfile=out/web.js > "$tmp/log" 2>&1); then
  ok "esbuild bundles it for the browser"
  cp "$tmp/app/node_modules/tiny_net/"*.wasm "$tmp/app/out/"
  printf '<!doctype html><script type="module" src="web.js"></script>\n' > "$tmp/app/out/index.html"
  if node "$root/tests/package/browser.mjs" "$tmp/app/out" "$tmp/data" > "$tmp/log" 2>&1; then
    ok "the bundle in headless Chromium matches onnxruntime-web: $(tail -1 "$tmp/log")"
  else
    bad "the bundle in headless Chromium: $(tail -3 "$tmp/log")"
  fi
else
  bad "esbuild: $(tail -3 "$tmp/log")"
fi

# the runtime package (runtime/js): publishable, its version the compiler's; installed from its tarball, it loads
# the model by path and its onnx2wasm-run checks the outputs against onnxruntime-web's
want=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
rtver=$(node -e "const p=JSON.parse(require('fs').readFileSync('$root/runtime/js/package.json','utf8'));console.log(p.private?'private':p.version)")
[ "$rtver" = "$want" ] && ok "runtime package version $rtver is the compiler's" || bad "runtime package version '$rtver', the compiler is $want"
mkdir -p "$tmp/rt" "$tmp/rtapp"
if (cd "$root/runtime/js" && npm pack --silent --pack-destination "$tmp/rt" > "$tmp/packname" 2> "$tmp/err") &&
   (cd "$tmp/rtapp" && npm init -y > /dev/null && npm install --offline --no-audit --no-fund "$tmp/rt/$(tail -1 "$tmp/packname")" > "$tmp/log" 2>&1); then
  cp "$tmp/pkg/model.wasm" "$tmp/rtapp/model.wasm"
  cat > "$tmp/rtapp/main.mjs" <<'JS'
import { load, Tensor } from 'onnx2wasm-runtime';
const model = await load('model.wasm');
const { logits } = await model.runAsync({ image: new Tensor('float32', new Float32Array(192), [1, 3, 8, 8]) });
console.log(logits.type, logits.dims.join('x'));
JS
  if (cd "$tmp/rtapp" && node main.mjs > "$tmp/run" 2>&1 && grep -q 'float32 1x5' "$tmp/run" &&
      npx --offline onnx2wasm-run model.wasm --data "$tmp/data" > "$tmp/run2" 2>&1); then
    ok "the runtime package installs from its tarball; load(path) + runAsync, and its onnx2wasm-run matches onnxruntime-web"
  else
    bad "runtime package: $(tail -3 "$tmp/run") $(tail -3 "$tmp/run2" 2>/dev/null)"
  fi
  cat > "$tmp/rtapp/use.ts" <<'TS'
import { load, Tensor, imageToTensor, type Model } from 'onnx2wasm-runtime';
import { decodeTensor, encodeTensor } from 'onnx2wasm-runtime/tensorproto';
export function roundTrip(x: Float32Array): number[] {
  return decodeTensor(encodeTensor({ dtype: 'float32', dims: [x.length], data: x })).dims;
}
export async function run(bytes: Uint8Array): Promise<number> {
  const model: Model = await load(bytes, { worker: true });
  const out = await model.runAsync({ image: imageToTensor({ data: new Uint8Array(256), width: 8, height: 8 }) });
  const t: Tensor = out.logits;
  return t.dims.length + model.memory.buffer.byteLength;
}
TS
  for lib in es2022 es2022,dom; do
    libs=$(echo "$lib" | sed 's/\([a-z0-9]*\)/"\1"/g')
    printf '{"compilerOptions": {"strict": true, "noEmit": true, "module": "es2022", "moduleResolution": "bundler", "target": "es2022", "lib": [%s], "types": []}, "files": ["use.ts"]}\n' "$libs" > "$tmp/rtapp/tsconfig.json"
    if (cd "$tmp/rtapp" && "$tools/tsc" -p tsconfig.json > "$tmp/tsc" 2>&1); then ok "tsc --strict accepts a consumer of the runtime package (lib $lib)"
    else bad "tsc --strict on the runtime package (lib $lib): $(head -5 "$tmp/tsc")"; fi
  done
else
  bad "runtime package pack/install: $(tail -3 "$tmp/err") $(tail -3 "$tmp/log" 2>/dev/null)"
fi

# a package path that cannot be created: a clear error, exit 1
touch "$tmp/file"
if "$build/onnx2wasm" "$tmp/Tiny_Net.onnx" -o "$tmp/file/sub/" 2> "$tmp/err"; then bad "package under a regular file was written"
elif grep -q "cannot create the directory" "$tmp/err"; then ok "unwritable package folder: $(cat "$tmp/err")"
else bad "unwritable package folder: unexpected message $(cat "$tmp/err")"; fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
