// run.mjs BUILD_DIR — run-time dims end to end: one compiled module, many (seq, past) values, every
// output compared with onnxruntime-web on the same inputs; a dim past its bound is refused.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { load, evalDim, RESIDENT } from '../../runtime/js/onnx2wasm.mjs';
import { compareTensor, mulberry32 } from '../../runtime/js/onnx2wasm-run.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const build = path.resolve(process.argv[2] || path.join(root, 'build'));
const require = createRequire(path.join(root, 'tools', 'package.json'));
const ort = await import(require.resolve('onnxruntime-web'));
ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'o2w-dyn-'));
let passed = 0, failed = 0;
const check = (ok, msg) => { if (ok) passed++; else failed++; console.log(`${ok ? 'ok  ' : 'FAIL'} ${msg}`); };

const py = spawnSync('/usr/bin/python3', [path.join(here, 'make_models.py'), tmp], { encoding: 'utf8' });
if (py.status !== 0) { console.log(py.stderr); process.exit(1); }
const onnxPath = path.join(tmp, 'attention.onnx'), wasmPath = path.join(tmp, 'attention.wasm');
const cc = spawnSync(path.join(build, 'onnx2wasm'), [onnxPath, '-o', wasmPath, '--max-dim', 'seq=16', '--max-dim', 'past=40'], { encoding: 'utf8' });
check(cc.status === 0, `compiles once with run-time dims seq<=16, past<=40 ${cc.stderr.trim()}`);
if (cc.status !== 0) process.exit(1);
const model = await load(fs.readFileSync(wasmPath));
check(model.runtimeSymbols.map((s) => `${s.name}<=${s.max}`).join(',') === 'seq<=16,past<=40', `signature lists the run-time dims: ${JSON.stringify(model.runtimeSymbols)}`);
const pkDims = model.outputs[1].dims;
check(pkDims.length === 4 && evalDim(pkDims[2], { seq: 3, past: 5 }) === 8 && evalDim(pkDims[2], { seq: 1, past: 0 }) === 1,
      `present_key dims are [1,2,past+seq,4]: ${JSON.stringify(pkDims)}`);
const session = await ort.InferenceSession.create(fs.readFileSync(onnxPath), { executionProviders: ['wasm'] });

const rand = mulberry32(3);
const tensor = (n) => Float32Array.from({ length: n }, () => rand() * 2 - 1);
for (const [seq, past] of [[1, 0], [5, 0], [1, 1], [1, 7], [3, 12], [16, 0], [16, 24], [1, 40], [2, 33]]) {
  const x = tensor(seq * 8), pk = tensor(2 * past * 4), pv = tensor(2 * past * 4);
  const ours = model.run({ x: { data: x, dims: [1, seq, 8] }, past_key: { data: pk, dims: [1, 2, past, 4] }, past_value: { data: pv, dims: [1, 2, past, 4] } });
  const ref = await session.run({ x: new ort.Tensor('float32', x, [1, seq, 8]), past_key: new ort.Tensor('float32', pk, [1, 2, past, 4]),
                                  past_value: new ort.Tensor('float32', pv, [1, 2, past, 4]) });
  for (const name of ['y', 'present_key', 'present_value']) {
    const shape = model.outputShape(name);
    const c = compareTensor({ dtype: 'float32', dims: shape, data: ours[name] }, { dtype: 'float32', dims: ref[name].dims, data: ref[name].data }, { rtol: 1e-3, atol: 1e-5 });
    check(c.ok, `seq=${seq} past=${past} ${name} [${shape}] matches onnxruntime-web${c.ok ? '' : ': ' + c.reason}`);
  }
}
// The caches are resident (passes/resident_kv.c): past_* lives in present_*'s storage, so feeding
// RESIDENT continues from what the last call left there, appended in place. A chain of calls of
// different lengths against onnxruntime-web fed the previous present tensors.
const resident = model.inputs.filter((t) => t.resident_in).map((t) => `${t.name}->${t.resident_in}`).join(',');
check(resident === 'past_key->present_key,past_value->present_value', `the caches are resident: ${resident || 'none'}`);
let past = 0, rk = new Float32Array(0), rv = new Float32Array(0), chainOk = true, lastKey = null;
for (const seq of [4, 1, 1, 3, 1, 16, 1]) {
  const x = tensor(seq * 8);
  const feeds = { x: { data: x, dims: [1, seq, 8] }, past_key: past ? RESIDENT : new Float32Array(0), past_value: past ? RESIDENT : new Float32Array(0) };
  const ours = model.run(feeds, { dims: { seq, past } });
  const ref = await session.run({ x: new ort.Tensor('float32', x, [1, seq, 8]), past_key: new ort.Tensor('float32', rk, [1, 2, past, 4]),
                                  past_value: new ort.Tensor('float32', rv, [1, 2, past, 4]) });
  for (const name of ['y', 'present_key', 'present_value']) {
    const c = compareTensor({ dtype: 'float32', dims: model.outputShape(name), data: ours[name] }, { dtype: 'float32', dims: ref[name].dims, data: ref[name].data }, { rtol: 1e-3, atol: 1e-5 });
    if (!c.ok) { chainOk = false; check(false, `resident chain: seq=${seq} past=${past} ${name}: ${c.reason}`); }
  }
  rk = ref.present_key.data; rv = ref.present_value.data; past += seq; lastKey = ours.present_key;
}
check(chainOk && past === 27, `resident chain of 7 calls (seq 4,1,1,3,1,16,1; past 0..26) matches onnxruntime-web at every call`);
const prefix = model.readOutput('present_key', [1, 2, 5, 4]);
const want = Float32Array.from({ length: 40 }, (_, i) => lastKey[Math.floor(i / 20) * 27 * 4 + (i % 20)]);
check(prefix.every((v, i) => v === want[i]), 'readOutput reads the first 5 rows of the resident present_key per head (vs the last run\'s output)');
let misuse = '';
try { model.run({ x: tensor(8), past_key: tensor(0), past_value: RESIDENT, y: tensor(1) }, { dims: { seq: 1, past: 0 } }); } catch (e) { misuse = e.message; }
check(/unknown input 'y'/.test(misuse), `an unknown feed is refused: ${misuse}`);
let msg = '';
try { model.run({ x: tensor(17 * 8), past_key: tensor(0), past_value: tensor(0) }, { dims: { seq: 17, past: 0 } }); } catch (e) { msg = e.message; }
check(/exceeds the bound 16/.test(msg), `seq=17 is refused: ${msg}`);
// the module itself refuses too, even if a host skips the loader's check
const ex = model.instance.exports, table = new Int32Array(model.memory.buffer, model.signature.dims_addr, 2);
table[0] = 17; table[1] = 0;
check(ex.run() === 1, 'run() returns 1 for a dim past its bound');
fs.rmSync(tmp, { recursive: true, force: true });
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
