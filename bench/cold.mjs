// cold.mjs PEER MODEL.onnx MODEL.wasm INPUT.pb [--bytes] — one cold start in a fresh process: import the runtime,
// create the session / compile the module, run once. Prints {"load_first_ms", "peak_rss_bytes"} (the
// process's peak resident set, VmHWM, after the first run). Used by bench.mjs.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
const t0 = performance.now();
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const [peer, onnxPath, wasmPath, inputPath] = process.argv.slice(2);
const { decodeTensor } = await import(path.join(root, 'runtime/js/tensorproto.mjs'));
const input = decodeTensor(fs.readFileSync(inputPath));
const require = createRequire(path.join(root, 'tools', 'package.json'));
const tStart = performance.now();
if (peer === 'native') {
  // a native library (MODEL.so in place of MODEL.wasm), dlopen'ed by the addon (O2W_NATIVE_ADDON)
  const m = (await import(path.join(root, 'runtime/js/onnx2wasm-native.mjs'))).loadNative(wasmPath);
  m.run({ [m.inputs[0].name]: input.data });
} else if (peer === 'onnx2wasm') {
  // loadFile: the weights go from the file straight into the module's memory (the time includes reading
  // the file, as ort-web's includes readFileSync of the .onnx); --bytes measures load(readFileSync(...))
  const m = process.argv.includes('--bytes')
    ? await (await import(path.join(root, 'runtime/js/onnx2wasm.mjs'))).load(fs.readFileSync(wasmPath))
    : await (await import(path.join(root, 'runtime/js/onnx2wasm-node.mjs'))).loadFile(wasmPath);
  m.run({ [m.inputs[0].name]: input.data });
} else {
  const ort = peer === 'ort-web' ? await import(require.resolve('onnxruntime-web')) : require('onnxruntime-node');
  const o = peer === 'ort-web' ? { executionProviders: ['wasm'] } : { intraOpNumThreads: 1, interOpNumThreads: 1 };
  if (peer === 'ort-web') ort.env.wasm.numThreads = 1;
  const s = await ort.InferenceSession.create(fs.readFileSync(onnxPath), o);
  await s.run({ [s.inputNames[0]]: new ort.Tensor('float32', input.data, input.dims) });
}
const ms = performance.now() - tStart;
const hwm = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
console.log(JSON.stringify({ load_first_ms: ms, peak_rss_bytes: hwm ? Number(hwm[1]) * 1024 : null, setup_ms: tStart - t0 }));
process.exit(0);
