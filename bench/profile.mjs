// profile.mjs — time every kernel call of a module compiled with `onnx2wasm --profile`.
// usage: node bench/profile.mjs MODEL.wasm [--runs N] [--top K] [--dims seq=1,past=128] [--input IN.pb]
//   --dims sets the run-time dims (docs/abi.md) before profiling; inputs are zeros, or the first
//   input is the TensorProto IN.pb (e.g. models/NAME/data/input_0.pb: timings can depend on values).
// Prints per-call median time (ms), share of the total, and a per-kernel summary.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { load } = await import(path.join(root, 'runtime/js/onnx2wasm.mjs'));

const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const runs = Number(opt('--runs', '10')), top = Number(opt('--top', '25'));
const bytes = fs.readFileSync(args[0]);
const mod = await WebAssembly.compile(bytes);
const sec = WebAssembly.Module.customSections(mod, 'onnx2wasm.profile');
if (!sec.length) { console.error('no onnx2wasm.profile section: compile with --profile'); process.exit(2); }
const calls = JSON.parse(new TextDecoder().decode(sec[0]));
const inst = await WebAssembly.instantiate(mod, {});
const m = await load(mod);              // a second instance for the signature; we drive `inst` directly
void m;
const ex = inst.exports;
const sig = JSON.parse(new TextDecoder().decode(WebAssembly.Module.customSections(mod, 'onnx2wasm.signature')[0]));
if (opt('--dims', '')) {
  const table = new Int32Array(ex.memory.buffer, sig.dims_addr, (sig.runtime_symbols || []).length);
  for (const kv of opt('--dims', '').split(',')) {
    const [k, v] = kv.split('=');
    const s = (sig.runtime_symbols || []).find((r) => r.name === k);
    if (!s) { console.error(`no run-time dim '${k}'`); process.exit(2); }
    table[s.index] = Number(v);
  }
}
if (opt('--input', '')) {
  const { decodeTensor } = await import(path.join(root, 'runtime/js/tensorproto.mjs'));
  const t = decodeTensor(fs.readFileSync(opt('--input', '')));
  const i0 = sig.inputs[0];
  if (t.data.byteLength !== i0.bytes) { console.error(`--input: ${t.data.byteLength} bytes, '${i0.name}' takes ${i0.bytes}`); process.exit(2); }
  new Uint8Array(ex.memory.buffer, i0.offset, i0.bytes).set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
}
for (let i = 0; i < 2; i++) if (ex.run() !== 0) { console.error('run() failed (dims out of bounds?)'); process.exit(2); }
const times = calls.map(() => []);
for (let r = 0; r < runs; r++)
  calls.forEach((c, i) => { const t = performance.now(); ex[c.kernel](c.params); times[i].push(performance.now() - t); });
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
const rows = calls.map((c, i) => ({ ...c, ms: med(times[i]) }));
const total = rows.reduce((a, r) => a + r.ms, 0);
const t0 = performance.now(); for (let r = 0; r < runs; r++) ex.run(); const whole = (performance.now() - t0) / runs;
console.log(`${calls.length} calls, sum of medians ${total.toFixed(2)} ms, whole run ${whole.toFixed(2)} ms`);
const byKernel = {};
for (const r of rows) byKernel[r.kernel] = (byKernel[r.kernel] || 0) + r.ms;
for (const [k, v] of Object.entries(byKernel).sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(24)} ${v.toFixed(2).padStart(8)} ms  ${(100 * v / total).toFixed(1)}%`);
console.log(`top ${top} calls:`);
for (const r of [...rows].sort((a, b) => b.ms - a.ms).slice(0, top))
  console.log(`  ${r.ms.toFixed(3).padStart(8)} ms ${(100 * r.ms / total).toFixed(1).padStart(5)}%  ${r.kernel.padEnd(20)} ${r.node}`);
