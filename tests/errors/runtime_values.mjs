// runtime_values.mjs BUILD_DIR MODELS_DIR — a dim read from an input's values at run time (a Reshape's shape
// given as a graph input) that is past its bound or disagrees with the model's declared shape is refused when
// the run starts, with an error naming the node: by the JS loader, by the module itself (run() returns 1 when
// the loader's checks are bypassed) and by a native library (O2W_ERR_BOUND); good values run.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { load } from '../../runtime/js/onnx2wasm.mjs';
import { loadNative } from '../../runtime/js/onnx2wasm-native.mjs';

const [build, models] = process.argv.slice(2);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'o2w-rtv-'));
let failed = 0;
const ok = (what, cond, detail = '') => { console.log(`${cond ? 'ok  ' : 'FAIL'} ${what}${cond ? '' : `: ${detail}`}`); if (!cond) failed++; };
const compile = (name, extra = []) => {
  const out = path.join(tmp, `${name}.${extra.includes('--target') ? 'so' : 'wasm'}`);
  const r = spawnSync(path.join(build, 'onnx2wasm'), [path.join(models, `${name}.onnx`), '-o', out, ...extra], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`compiling ${name}: ${r.stderr}`);
  return out;
};
const x = new Float32Array(12).map((_, i) => i - 5);
const relu = (a) => a.map((v) => Math.max(v, 0));
const throws = (fn) => { try { fn(); return null; } catch (e) { return e.message; } };
const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);

try {
  // declared output [2, 6]: [2, 6], [2, -1], [0, 6]? no: 0 copies x's dim 0 (3) -> refused; [3, 4] disagrees
  const m = await load(fs.readFileSync(compile('reshape_rt')));
  for (const sh of [[2, 6], [2, -1], [-1, 6]]) {
    const y = throws(() => m.run({ x, shape: BigInt64Array.from(sh.map(BigInt)) }));
    ok(`declared [2,6]: shape [${sh}] runs`, y === null && same(m.outputShape('y'), [2, 6]), y);
  }
  for (const [sh, want] of [[[3, 4], "node 'reshape_rt'"], [[0, 6], "node 'reshape_rt'"], [[2, 2 ** 40], "node 'reshape_rt'"], [[-2, 6], "node 'reshape_rt'"]]) {
    const e = throws(() => m.run({ x, shape: BigInt64Array.from(sh.map(BigInt)) }));
    ok(`declared [2,6]: shape [${sh}] is refused naming the node`, e && e.includes(want), e);
  }
  // the module's own checks: write a bad shape past the loader and call run() directly
  const sig = m.signature, ex = (await WebAssembly.instantiate(fs.readFileSync(compile('reshape_rt')))).instance.exports;
  const inp = (name) => sig.inputs.find((t) => t.name === name);
  const raw = (sh) => {
    new Float32Array(ex.memory.buffer, inp('x').offset, 12).set(x);
    new BigInt64Array(ex.memory.buffer, inp('shape').offset, 2).set(sh.map(BigInt));
    return ex.run();
  };
  ok('module: run() returns 0 for [2, 6]', raw([2, 6]) === 0);
  ok('module: run() returns 1 for [3, 4] (disagrees with the declared shape)', raw([3, 4]) === 1);
  ok('module: run() returns 1 for [2, 2^40] (past the bound)', raw([2, 2 ** 40]) === 1);
  ok('module: run() returns 1 for [-5, 6]', raw([-5, 6]) === 1);

  // no declared shape: the entries are the dims (bound 12, the element count), their product must be 12
  const f = await load(fs.readFileSync(compile('reshape_rt_free')));
  for (const sh of [[4, 3], [12, 1], [1, 12], [0, 4]]) {
    const e = throws(() => f.run({ x, shape: BigInt64Array.from(sh.map(BigInt)) }));
    const want = sh[0] === 0 ? [3, 4] : sh;
    ok(`undeclared: shape [${sh}] runs with shape [${want}]`, e === null && same(f.outputShape('y'), want), e);
  }
  {
    const y = f.run({ x, shape: BigInt64Array.from([6n, 2n]) }).y;
    ok('undeclared: the data is x reshaped', same(Array.from(y), Array.from(relu(x))));
  }
  for (const sh of [[5, 3], [13, 1], [24, 1], [-1, 3]]) {
    const e = throws(() => f.run({ x, shape: BigInt64Array.from(sh.map(BigInt)) }));
    ok(`undeclared: shape [${sh}] is refused naming the node`, e && e.includes("'reshape_free'"), e);
  }

  // Unsqueeze axes at run time: the set {1, 3} in any order, negative aliases allowed; anything else refused
  const u = await load(fs.readFileSync(compile('unsqueeze_rt')));
  for (const ax of [[1, 3], [3, 1], [-3, -1], [1, -1]]) {
    const e = throws(() => u.run({ x, axes: BigInt64Array.from(ax.map(BigInt)) }));
    ok(`unsqueeze: axes [${ax}] run`, e === null && same(u.outputShape('y'), [3, 1, 4, 1]), e);
  }
  for (const ax of [[1, 1], [3, 3], [0, 3], [1, 2], [1, 4], [-5, 3]]) {
    const e = throws(() => u.run({ x, axes: BigInt64Array.from(ax.map(BigInt)) }));
    ok(`unsqueeze: axes [${ax}] are refused naming the node`, e && e.includes("'unsq_rt'"), e);
  }

  // natively (in-process through the addon, when built)
  if (fs.existsSync(path.join(build, 'o2w_native.node')) && process.arch === 'x64') {
    process.env.O2W_NATIVE_HOST ||= path.join(build, 'onnx2wasm-native-host');
    process.env.O2W_NATIVE_ADDON ||= path.join(build, 'o2w_native.node');
    const n = loadNative(compile('reshape_rt', ['--target', 'x86_64-linux-gnu']));
    const y = throws(() => n.run({ x, shape: BigInt64Array.from([2n, -1n]) }));
    ok('native: shape [2, -1] runs', y === null);
    for (const sh of [[3, 4], [2, 2 ** 40], [0, 6]]) {
      const e = throws(() => n.run({ x, shape: BigInt64Array.from(sh.map(BigInt)) }));
      ok(`native: shape [${sh}] is refused naming the node`, e && e.includes("'reshape_rt'"), e);
    }
    const nu = loadNative(compile('unsqueeze_rt', ['--target', 'x86_64-linux-gnu']));
    ok('native unsqueeze: axes [3, -3] run', throws(() => nu.run({ x, axes: BigInt64Array.from([3n, -3n]) })) === null);
    for (const ax of [[1, 1], [0, 3]]) {
      const e = throws(() => nu.run({ x, axes: BigInt64Array.from(ax.map(BigInt)) }));
      ok(`native unsqueeze: axes [${ax}] are refused naming the node`, e && e.includes("'unsq_rt'"), e);
    }
    const nf = loadNative(compile('reshape_rt_free', ['--target', 'x86_64-linux-gnu']));
    const e = throws(() => nf.run({ x, shape: BigInt64Array.from([4n, 3n]) }));
    ok('native undeclared: shape [4, 3] runs with shape [4, 3]', e === null && same(Array.from(nf.outputShape ? nf.outputShape('y') : []), [4, 3]), e);
    const e2 = throws(() => nf.run({ x, shape: BigInt64Array.from([5n, 3n]) }));
    ok('native undeclared: shape [5, 3] is refused', e2 && e2.includes('refused'), e2);
  }
} catch (e) {
  ok('runtime_values', false, e.stack);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
console.log(`runtime_values: ${failed ? 'FAILED' : 'ok'}`);
process.exit(failed ? 1 : 0);
