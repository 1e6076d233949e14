// Tests tools/ort-oracle.mjs on backend test data and end to end with the runner on a fixture module.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { decodeTensor } from '../../runtime/js/tensorproto.mjs';
import { compareTensor, makeInput, mulberry32 } from '../../runtime/js/onnx2wasm-run.mjs';
import { buildAdd1 } from './fixtures.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.join(here, '../..');
const ORACLE = path.join(ROOT, 'tools/ort-oracle.mjs');
const RUNNER = path.join(ROOT, 'runtime/js/onnx2wasm-run.mjs');
const DATA = '/usr/share/libonnx-testdata/data';
const hasOrt = fs.existsSync(path.join(ROOT, 'tools/node_modules/onnxruntime-web'));
const hasData = fs.existsSync(path.join(DATA, 'node'));
const hasPy = (() => {
  try { execFileSync('/usr/bin/python3', ['-c', 'import onnx'], { stdio: 'ignore' }); return true; } catch { return false; }
})();

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'o2w-oracle-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const run = (script, ...args) => {
  const r = spawnSync(process.execPath, [script, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const pb = (f) => decodeTensor(fs.readFileSync(f));

// Cases over several dtypes and op kinds; the expected outputs come with the test data.
const CASES = [
  'node/test_add', 'node/test_conv_with_strides_padding', 'node/test_argmax_default_axis_example',
  'node/test_and2d', 'node/test_cast_FLOAT_to_FLOAT16', 'node/test_gather_0', 'node/test_softmax_example',
  'pytorch-converted/test_Conv2d_depthwise_padded', 'node/test_maxpool_2d_pads',
];

test('oracle reproduces the backend test data outputs', { skip: !(hasOrt && hasData) && 'needs onnxruntime-web and test data' }, () => {
  for (const c of CASES) {
    const dir = path.join(DATA, c);
    const out = path.join(tmp, c.replace('/', '_'));
    const r = run(ORACLE, path.join(dir, 'model.onnx'), '--data', path.join(dir, 'test_data_set_0'), '--out', out, '--quiet');
    assert.equal(r.code, 0, `${c}: ${r.err}`);
    for (let k = 0; fs.existsSync(path.join(dir, 'test_data_set_0', `output_${k}.pb`)); k++) {
      const exp = pb(path.join(dir, 'test_data_set_0', `output_${k}.pb`));
      const got = pb(path.join(out, `output_${k}.pb`));
      const cmp = compareTensor(got, exp, { rtol: 1e-3, atol: 1e-5 });
      assert.ok(cmp.ok, `${c} output_${k}: ${cmp.reason}`);
    }
  }
});

test('oracle --gen: seeded inputs of the model shapes, --dim for symbolic dims, same values as onnx2wasm-run --seed', { skip: !(hasOrt && hasPy) && 'needs onnxruntime-web and python onnx' }, () => {
  const model = path.join(tmp, 'dyn.onnx');
  execFileSync('/usr/bin/python3', ['-c', `
import onnx
from onnx import helper, TensorProto as T
g = helper.make_graph(
    [helper.make_node('Relu', ['x'], ['y']), helper.make_node('Not', ['b'], ['nb']),
     helper.make_node('Identity', ['i'], ['io'])], 'g',
    [helper.make_tensor_value_info('x', T.FLOAT, ['N', 3]), helper.make_tensor_value_info('b', T.BOOL, [2]),
     helper.make_tensor_value_info('i', T.INT64, ['M'])],
    [helper.make_tensor_value_info('y', T.FLOAT, ['N', 3]), helper.make_tensor_value_info('nb', T.BOOL, [2]),
     helper.make_tensor_value_info('io', T.INT64, ['M'])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]); m.ir_version = 8
onnx.save(m, '${model}')`]);
  const d = path.join(tmp, 'gen');
  const r = run(ORACLE, model, '--data', d, '--gen', '--seed', '5', '--dim', 'N=2');
  assert.equal(r.code, 0, r.err);
  const [x, b, i] = [0, 1, 2].map((k) => pb(path.join(d, `input_${k}.pb`)));
  assert.deepEqual([x.name, x.dtype, x.dims], ['x', 'float32', [2, 3]]);
  assert.deepEqual([b.name, b.dtype, b.dims], ['b', 'bool', [2]]);
  assert.deepEqual([i.name, i.dtype, i.dims], ['i', 'int64', [1]], 'unbound symbolic dim defaults to 1');
  // Same generator and mapping as the runner: one stream over the inputs in order.
  const rand = mulberry32(5);
  assert.deepEqual([...x.data], [...makeInput({ dtype: 'float32', shape: [2, 3] }, rand)]);
  assert.deepEqual([...b.data], [...makeInput({ dtype: 'bool', shape: [2] }, rand)]);
  assert.deepEqual([...i.data], [...makeInput({ dtype: 'int64', shape: [1] }, rand)]);
  // Outputs written in graph order.
  const y = pb(path.join(d, 'output_0.pb'));
  assert.deepEqual([...y.data], [...x.data].map((v) => Math.max(v, 0)));
  assert.deepEqual([...pb(path.join(d, 'output_1.pb')).data], [...b.data].map((v) => 1 - v));
  // --range; --no-run writes only inputs.
  const d2 = path.join(tmp, 'gen2');
  assert.equal(run(ORACLE, model, '--data', d2, '--gen', '--range', '-3,-2', '--no-run', '-q').code, 0);
  assert.ok([...pb(path.join(d2, 'input_0.pb')).data].every((v) => v >= -3 && v < -2));
  assert.equal(fs.existsSync(path.join(d2, 'output_0.pb')), false);
  // Usage errors exit 2.
  assert.equal(run(ORACLE, model).code, 2);
  assert.equal(run(ORACLE, model, '--data', d, '--dim', 'N').code, 2);
  assert.equal(run(ORACLE, path.join(tmp, 'none.onnx'), '--data', d).code, 2);
  const notModel = path.join(tmp, 'bad.onnx');
  fs.writeFileSync(notModel, 'garbage');
  assert.equal(run(ORACLE, notModel, '--data', d).code, 1, 'ort load failure exits 1');
});

test('end to end: oracle data set for an ONNX Add model checks the equivalent wasm module', { skip: !(hasOrt && hasPy) && 'needs onnxruntime-web and python onnx' }, () => {
  const model = path.join(tmp, 'add1.onnx');
  execFileSync('/usr/bin/python3', ['-c', `
import onnx, numpy as np
from onnx import helper, TensorProto as T
g = helper.make_graph([helper.make_node('Add', ['x', 'one'], ['y'])], 'g',
    [helper.make_tensor_value_info('x', T.FLOAT, ['N', 4])], [helper.make_tensor_value_info('y', T.FLOAT, ['N', 4])],
    [helper.make_tensor('one', T.FLOAT, [], [1.0])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid('', 13)]); m.ir_version = 8
onnx.save(m, '${model}')`]);
  const wasm = path.join(tmp, 'add1.wasm');
  fs.writeFileSync(wasm, buildAdd1());
  const d = path.join(tmp, 'e2e');
  assert.equal(run(ORACLE, model, '--data', d, '--gen', '--seed', '9', '--range', '-100,100', '-q').code, 0);
  const r = run(RUNNER, wasm, '--data', d);
  assert.equal(r.code, 0, r.out + r.err);
  assert.match(r.out, /PASS/);
  // And a module that computes something else is caught.
  const wrong = path.join(tmp, 'add2.wasm');
  const bytes = Buffer.from(buildAdd1());                             // same module...
  const one = Buffer.from(new Float32Array([1]).buffer), two = Buffer.from(new Float32Array([2]).buffer);
  const at = bytes.indexOf(Buffer.concat([Buffer.from([0x43]), one])); // f32.const 1
  assert.ok(at > 0);
  two.copy(bytes, at + 1);                                            // ...patched to y = x + 2
  fs.writeFileSync(wrong, bytes);
  const bad = run(RUNNER, wrong, '--data', d);
  assert.equal(bad.code, 1, bad.out);
  assert.match(bad.out, /FAIL/);
});
