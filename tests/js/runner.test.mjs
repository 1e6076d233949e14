// Tests runtime/js/onnx2wasm-run.mjs: compare logic, input matching, and the CLI's output and exit codes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compareTensor, parseArgs, topK, mulberry32, unravel } from '../../runtime/js/onnx2wasm-run.mjs';
import { encodeTensor, decodeTensor } from '../../runtime/js/tensorproto.mjs';
import { buildAdd1, add1Signature, buildMixed } from './fixtures.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const RUNNER = path.join(here, '../../runtime/js/onnx2wasm-run.mjs');

// ---------------------------------------------------------------- compareTensor

const f32 = (dims, a) => ({ dtype: 'float32', dims, data: new Float32Array(a) });

test('compare: floats within atol + rtol*|exp| pass, beyond fail, worst element reported', () => {
  const opts = { rtol: 1e-3, atol: 1e-5 };
  // Tolerance at exp=100 is 0.10001: 100.1 passes, 100.2 fails.
  let c = compareTensor(f32([2, 2], [0, 1, 100.1, 5]), f32([2, 2], [0, 1, 100, 5]), opts);
  assert.equal(c.ok, true);
  assert.equal(c.mismatches, 0);
  assert.deepEqual(c.worst.coord, [1, 0]);
  assert.ok(Math.abs(c.maxAbs - 0.1) < 1e-5);
  c = compareTensor(f32([2, 2], [0, 1, 100.2, 5.1]), f32([2, 2], [0, 1, 100, 5]), opts);
  assert.equal(c.ok, false);
  assert.equal(c.mismatches, 2);
  assert.deepEqual(c.worst.coord, [1, 1], 'worst = largest error/tolerance, not largest abs error');
  assert.ok(Math.abs(c.maxAbs - 0.2) < 1e-5, 'max abs error is still the largest abs error');
  // Pure atol near zero.
  assert.equal(compareTensor(f32([1], [1e-5]), f32([1], [0]), opts).ok, true);
  assert.equal(compareTensor(f32([1], [2e-5]), f32([1], [0]), opts).ok, false);
  // Zero tolerance means exact.
  assert.equal(compareTensor(f32([1], [1]), f32([1], [1]), { rtol: 0, atol: 0 }).ok, true);
  assert.equal(compareTensor(f32([1], [1.0000001]), f32([1], [1]), { rtol: 0, atol: 0 }).ok, false);
});

test('compare: NaN equals NaN, infinities must match exactly', () => {
  assert.equal(compareTensor(f32([2], [NaN, Infinity]), f32([2], [NaN, Infinity])).ok, true);
  let c = compareTensor(f32([2], [1, NaN]), f32([2], [1, 2]));
  assert.equal(c.ok, false);
  assert.deepEqual(c.worst.coord, [1]);
  assert.equal(compareTensor(f32([1], [0]), f32([1], [NaN])).ok, false);
  assert.equal(compareTensor(f32([1], [-Infinity]), f32([1], [Infinity])).ok, false);
  c = compareTensor(f32([1], [3e38]), f32([1], [Infinity]));
  assert.equal(c.ok, false);
  assert.equal(c.maxAbs, Infinity);
});

test('compare: integers and bools exact, shape and dtype checked', () => {
  const i64 = (a) => ({ dtype: 'int64', dims: [a.length], data: new BigInt64Array(a) });
  assert.equal(compareTensor(i64([1n, 2n ** 60n]), i64([1n, 2n ** 60n]), { rtol: 1, atol: 1 }).ok, true);
  const c = compareTensor(i64([1n, 2n ** 60n + 1n]), i64([1n, 2n ** 60n]), { rtol: 1, atol: 10 });
  assert.equal(c.ok, false, 'tolerances do not apply to integers');
  assert.equal(c.maxAbs, 1);
  const b = (a) => ({ dtype: 'bool', dims: [a.length], data: new Uint8Array(a) });
  assert.equal(compareTensor(b([1, 0]), b([1, 0])).ok, true);
  assert.equal(compareTensor(b([1, 1]), b([1, 0])).ok, false);
  assert.match(compareTensor(f32([1, 4], [0, 0, 0, 0]), f32([4], [0, 0, 0, 0])).reason, /shape mismatch: got \[1,4\], expected \[4\]/);
  assert.match(compareTensor(f32([1], [0]), { dtype: 'float64', dims: [1], data: new Float64Array(1) }).reason, /dtype mismatch/);
  // float16 compares as numbers: 0x3c00 = 1.0, 0x3c01 = 1.0009765625.
  const h = (a) => ({ dtype: 'float16', dims: [a.length], data: new Uint16Array(a) });
  assert.equal(compareTensor(h([0x3c01]), h([0x3c00]), { rtol: 1e-4, atol: 1e-5 }).ok, false);
  assert.equal(compareTensor(h([0x3c01]), h([0x3c00]), { rtol: 1e-3, atol: 1e-5 }).ok, true);
});

test('helpers: unravel, topK, mulberry32, parseArgs', () => {
  assert.deepEqual(unravel(5, [2, 3]), [1, 2]);
  assert.deepEqual(unravel(0, []), []);
  assert.deepEqual(topK([0.1, 5, 3, 5, -1], 3), [{ index: 1, score: 5 }, { index: 3, score: 5 }, { index: 2, score: 3 }]);
  const r1 = mulberry32(7), r2 = mulberry32(7);
  const a = [r1(), r1(), r1()];
  assert.deepEqual(a, [r2(), r2(), r2()]);
  assert.ok(a.every((x) => x >= 0 && x < 1));
  assert.deepEqual(parseArgs(['m.wasm', '--data', 'd', '--rtol=0.1', '--atol', '0', '--bench', '3', '-q']),
    { model: 'm.wasm', data: 'd', save: null, bench: 3, rtol: 0.1, atol: 0, quiet: true, seed: null, help: false });
  assert.throws(() => parseArgs(['m.wasm', '--bench', '0']), /--bench needs an integer >= 1/);
  assert.throws(() => parseArgs(['m.wasm', '--rtol', 'abc']), /--rtol needs a number/);
  assert.throws(() => parseArgs(['m.wasm', '--data']), /--data needs a value/);
  assert.throws(() => parseArgs([]), /missing MODEL.wasm/);
  assert.throws(() => parseArgs(['a.wasm', 'b.wasm']), /unexpected argument 'b.wasm'/);
});

// ---------------------------------------------------------------- CLI (spawned: real exit codes)

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'o2w-run-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const ADD1 = path.join(tmp, 'add1.wasm');
const ADD10 = path.join(tmp, 'add10.wasm');
const MIXED = path.join(tmp, 'mixed.wasm');
fs.writeFileSync(ADD1, buildAdd1());
fs.writeFileSync(ADD10, buildAdd1(add1Signature(10), 10));
fs.writeFileSync(MIXED, buildMixed());

function cli(...args) {
  const r = spawnSync(process.execPath, [RUNNER, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
let dirN = 0;
/** Writes a data dir: {input_0: {name, dtype, dims, data}, output_0: ...}. */
function dataDir(files) {
  const d = path.join(tmp, `data${dirN++}`);
  fs.mkdirSync(d);
  for (const [base, t] of Object.entries(files)) fs.writeFileSync(path.join(d, `${base}.pb`), encodeTensor(t));
  return d;
}
const X = { name: 'x', dtype: 'float32', dims: [1, 4], data: new Float32Array([1, 2, 3, 4]) };
const Y = (a, name = 'y') => ({ name, dtype: 'float32', dims: [1, 4], data: new Float32Array(a) });

test('cli: matching outputs -> PASS, exit 0', () => {
  const r = cli(ADD1, '--data', dataDir({ input_0: X, output_0: Y([2, 3, 4, 5]) }));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /output_0 'y' float32\[1,4\]: ok max_abs_err 0; worst element \(error\/tolerance\) \[0,0\]: /);
  assert.match(r.out, /^PASS: 1 output match \(rtol=0.001 atol=0.00001\)$/m);
  assert.equal(r.err, '');
  // Within tolerance (rtol 1e-3 of 5 = 5e-3).
  const near = cli(ADD1, '--data', dataDir({ input_0: X, output_0: Y([2, 3, 4, 5.004]) }));
  assert.equal(near.code, 0, near.out);
});

test('cli: mismatching outputs -> FAIL with the worst element, exit 1', () => {
  const d = dataDir({ input_0: X, output_0: Y([2, 3.5, 4, 5.01]) });
  const r = cli(ADD1, '--data', d);
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out, /output_0 'y' float32\[1,4\]: MISMATCH max_abs_err 0.5; worst element \(error\/tolerance\) \[0,1\]: got 3 expected 3.5 \(abs err 0.5\); 2\/4 outside tolerance/);
  assert.match(r.out, /^FAIL: 1 of 1 compared outputs mismatch/m);
  // Looser tolerances make it pass; --quiet prints only the verdict.
  const loose = cli(ADD1, '--data', d, '--atol', '0.6', '--quiet');
  assert.equal(loose.code, 0);
  assert.equal(loose.out.trim(), 'PASS: 1 output match (rtol=0.001 atol=0.6)');
  // Wrong reference shape is a mismatch too.
  const shape = cli(ADD1, '--data', dataDir({ input_0: X, output_0: { ...Y([2, 3, 4, 5]), dims: [4] } }));
  assert.equal(shape.code, 1);
  assert.match(shape.out, /shape mismatch: got \[1,4\], expected \[4\]/);
});

test('cli: int64/bool outputs compare exactly; inputs matched by name when all files are named', () => {
  const a = { name: 'a', dtype: 'int64', dims: [3], data: new BigInt64Array([1n, 2n, 3n]) };
  const b = { name: 'b', dtype: 'bool', dims: [3], data: new Uint8Array([0, 1, 0]) };
  const c = { name: 'c', dtype: 'int64', dims: [3], data: new BigInt64Array([2n, 4n, 6n]) };
  const dd = { name: 'd', dtype: 'bool', dims: [3], data: new Uint8Array([1, 0, 1]) };
  assert.equal(cli(MIXED, '--data', dataDir({ input_0: a, input_1: b, output_0: c, output_1: dd })).code, 0);
  // Files in swapped order but named: matched by name, no warning.
  const swapped = cli(MIXED, '--data', dataDir({ input_0: b, input_1: a, output_0: dd, output_1: c }));
  assert.equal(swapped.code, 0, swapped.out + swapped.err);
  assert.equal(swapped.err, '');
  const off = cli(MIXED, '--data', dataDir({ input_0: a, input_1: b, output_0: { ...c, data: new BigInt64Array([2n, 4n, 7n]) }, output_1: dd }));
  assert.equal(off.code, 1);
  assert.match(off.out, /output_0 'c' int64\[3\]: MISMATCH max_abs_err 1; worst element \(error\/tolerance\) \[2\]: got 6 expected 7/);
  assert.match(off.out, /output_1 'd' bool\[3\]: ok/);
});

test('cli: unmatched names fall back to file order with a warning', () => {
  const r = cli(ADD1, '--data', dataDir({ input_0: { ...X, name: 'input' }, output_0: Y([2, 3, 4, 5], 'output') }));
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /input_0\.pb is named 'input' but input 0 is 'x'; matching by position/);
  assert.match(r.err, /output_0\.pb is named 'output' but output 0 is 'y'; matching by position/);
  // Unnamed files are matched by order silently.
  const unnamed = cli(ADD1, '--data', dataDir({ input_0: { ...X, name: '' }, output_0: Y([2, 3, 4, 5], '') }));
  assert.equal(unnamed.code, 0);
  assert.equal(unnamed.err, '');
});

test('cli: an ONNX model folder runs every test_data_set_N; the worst result is the exit status', () => {
  const folder = path.join(tmp, `model${dirN++}`);
  fs.mkdirSync(folder);
  const good = dataDir({ input_0: X, output_0: Y([2, 3, 4, 5]) }), bad = dataDir({ input_0: X, output_0: Y([2, 3, 4, 6]) });
  fs.renameSync(good, path.join(folder, 'test_data_set_0'));
  fs.renameSync(bad, path.join(folder, 'test_data_set_1'));
  const r = cli(ADD1, '--data', folder);
  assert.equal(r.code, 1, r.err);
  assert.match(r.out, /test_data_set_0:\n[^]*PASS[^]*test_data_set_1:\n[^]*FAIL/);
  fs.rmSync(path.join(folder, 'test_data_set_1'), { recursive: true });
  assert.equal(cli(ADD1, '--data', folder).code, 0);
  const b = cli(ADD1, '--data', folder, '--bench', '2');
  assert.equal(b.code, 2);
  assert.match(b.err, /--bench times one data set/);
});

test('cli: usage, I/O and data errors exit 2 with a clear message', () => {
  const cases = [
    [[], /missing MODEL.wasm/],
    [[ADD1, '--frobnicate'], /unknown option '--frobnicate'/],
    [[path.join(tmp, 'nope.wasm')], /cannot read .*nope\.wasm/],
    [[ADD1, '--data', path.join(tmp, 'nodir')], /--data .*nodir: no such directory/],
    [[ADD1, '--data', dataDir({ output_0: Y([2, 3, 4, 5]) })], /missing .*input_0\.pb for input 0 'x' \(the module has 1 inputs: x\)/],
    [[ADD1, '--data', dataDir({ input_0: { ...X, dims: [1, 3], data: new Float32Array(3) } })],
      /input_0\.pb \(input 'x'\): 3 elements \[1,3\], the module expects 4 \[1,4\]/],
    [[ADD1, '--data', dataDir({ input_0: { ...X, dtype: 'float64', data: new Float64Array(4) } })],
      /input_0\.pb \(input 'x'\): dtype float64, the module expects float32/],
  ];
  const bad = path.join(tmp, 'bad.wasm');
  fs.writeFileSync(bad, 'not wasm');
  cases.push([[bad], /bad\.wasm: onnx2wasm: not a valid WebAssembly module/]);
  const garbage = dataDir({});
  fs.writeFileSync(path.join(garbage, 'input_0.pb'), Buffer.from([0x08]));
  cases.push([[ADD1, '--data', garbage], /input_0\.pb: tensorproto: truncated varint/]);
  for (const [args, re] of cases) {
    const r = cli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.out}${r.err}`);
    assert.match(r.err, re, args.join(' '));
  }
  // Same element count but other dims: a warning, not an error.
  const flat = cli(ADD1, '--data', dataDir({ input_0: { ...X, dims: [4] } }));
  assert.equal(flat.code, 0);
  assert.match(flat.err, /dims \[4\] differ from the module's \[1,4\]/);
});

test('cli: a failing run() exits 3', () => {
  const st = cli(ADD1, '--data', dataDir({ input_0: { ...X, data: new Float32Array([-1, 0, 0, 0]) } }));
  assert.equal(st.code, 3);
  assert.match(st.err, /run\(\) returned status 5/);
  const trap = cli(ADD1, '--data', dataDir({ input_0: { ...X, data: new Float32Array([-2, 0, 0, 0]) } }));
  assert.equal(trap.code, 3);
  assert.match(trap.err, /run\(\) trapped/);
});

test('cli: --help documents every option', () => {
  const r = cli('--help');
  assert.equal(r.code, 0);
  for (const opt of ['--data', '--save', '--bench', '--rtol', '--atol', '--quiet', '--seed', 'exit status']) {
    assert.ok(r.out.includes(opt), opt);
  }
});

test('cli: --bench prints exactly one JSON line on stdout', () => {
  const r = cli(ADD1, '--data', dataDir({ input_0: X, output_0: Y([2, 3, 4, 5]) }), '--bench', '7');
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, r.out);
  const j = JSON.parse(lines[0]);
  assert.deepEqual(Object.keys(j), ['load_ms', 'first_ms', 'median_ms', 'min_ms', 'runs']);
  assert.equal(j.runs, 7);
  assert.ok(j.min_ms <= j.median_ms && j.load_ms > 0);
  assert.match(r.err, /PASS/, 'the report goes to stderr in bench mode');
  const bad = cli(ADD1, '--data', dataDir({ input_0: X, output_0: Y([0, 0, 0, 0]) }), '--bench', '2', '-q');
  assert.equal(bad.code, 1, 'bench still compares');
  assert.equal(bad.out.split('\n').filter(Boolean).length, 1);
});

test('cli: no --data runs on zeros or seeded random, prints shapes and top-5; --save writes a data set', () => {
  const z = cli(ADD1);
  assert.equal(z.code, 0);
  assert.match(z.out, /inputs: zeros/);
  assert.match(z.out, /output 'y' float32\[1,4\] min 1 max 1/);
  assert.doesNotMatch(z.out, /top-5/, 'only for outputs with >= 5 classes');

  const save = path.join(tmp, 'saved');
  const r = cli(ADD10, '--seed', '42', '--save', save);
  assert.equal(r.code, 0, r.err);
  const rand = mulberry32(42);
  const x = Float32Array.from({ length: 10 }, rand);
  const y = x.map((v) => v + 1);
  const expTop = topK(y, 5).map((t) => t.index);
  const gotTop = [...r.out.matchAll(/class\s+(\d+)\s+score/g)].map((m) => Number(m[1]));
  assert.deepEqual(gotTop, expTop);
  // The saved dir is a complete test-data set: the inputs used and the outputs.
  const yIn = decodeTensor(fs.readFileSync(path.join(save, 'input_0.pb')));
  assert.deepEqual([yIn.name, yIn.dtype, yIn.dims, [...yIn.data]], ['x', 'float32', [1, 10], [...x]]);
  const yOut = decodeTensor(fs.readFileSync(path.join(save, 'output_0.pb')));
  assert.deepEqual([yOut.name, yOut.dims, [...yOut.data]], ['y', [1, 10], [...y]]);
  const again = cli(ADD10, '--data', save, '--rtol', '0', '--atol', '0');
  assert.equal(again.code, 0, again.out);
  // Same seed, same inputs (reproducible).
  assert.deepEqual(cli(ADD10, '--seed', '42').out, r.out.replace(/saved outputs to .*\n/, ''));
});
