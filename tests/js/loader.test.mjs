// Tests runtime/js/onnx2wasm.mjs (the module loader) on hand-built ABI fixture modules.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { load, loadFromSource, readSignature, SIGNATURE_SECTION } from '../../runtime/js/onnx2wasm.mjs';
import { loadFile } from '../../runtime/js/onnx2wasm-node.mjs';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  buildAdd1, buildMixed, add1Signature, appendCustomSection, wat2wasm, ADD1_WAT, uleb128, buildBigData, BIG_SEGMENT,
} from './fixtures.mjs';

const add1 = buildAdd1();
const mixed = buildMixed();

test('fixture generator: LEB128 and custom-section framing', () => {
  assert.deepEqual([...uleb128(0)], [0]);
  assert.deepEqual([...uleb128(127)], [127]);
  assert.deepEqual([...uleb128(128)], [0x80, 1]);
  assert.deepEqual([...uleb128(624485)], [0xe5, 0x8e, 0x26]);
  const base = wat2wasm('(module)');
  const big = 'x'.repeat(300); // size needs a 2-byte LEB128
  const m = new WebAssembly.Module(appendCustomSection(base, 'a.b', big));
  const secs = WebAssembly.Module.customSections(m, 'a.b');
  assert.equal(secs.length, 1);
  assert.equal(new TextDecoder().decode(secs[0]), big);
  assert.deepEqual(WebAssembly.Module.imports(new WebAssembly.Module(add1)), []);
});

test('add1: y = x + 1, signature exposed, fresh output copies', async () => {
  const m = await load(add1);
  assert.deepEqual(m.inputs.map((t) => [t.name, t.dtype, [...t.dims], [...t.shape], t.offset, t.bytes]),
    [['x', 'float32', ['N', 4], [1, 4], 1024, 16]]);
  assert.deepEqual(m.outputs.map((t) => [t.name, t.dtype, [...t.shape], t.offset]), [['y', 'float32', [1, 4], 2048]]);
  assert.deepEqual({ ...m.symbols }, { N: 1 });
  assert.ok(m.memory instanceof WebAssembly.Memory);
  assert.equal(m.signature.producer, 'onnx2wasm test fixture');

  const r1 = m.run({ x: new Float32Array([1, 2, 3, -0.5]) });
  assert.deepEqual(Object.keys(r1), ['y']);
  assert.ok(r1.y instanceof Float32Array);
  assert.deepEqual([...r1.y], [2, 3, 4, 0.5]);
  assert.notEqual(r1.y.buffer, m.memory.buffer);
  const r2 = m.run({ x: new Float32Array([10, 20, 30, 40]) });
  assert.deepEqual([...r1.y], [2, 3, 4, 0.5], 'earlier result must not change');
  assert.deepEqual([...r2.y], [11, 21, 31, 41]);
});

test('accepts ArrayBuffer, Buffer, subarray feeds, WebAssembly.Module and cross-realm typed arrays', async () => {
  const ab = add1.buffer.slice(add1.byteOffset, add1.byteOffset + add1.byteLength);
  for (const src of [ab, Buffer.from(add1), new WebAssembly.Module(add1)]) {
    const m = await load(src);
    const big = new Float32Array([99, 1, 2, 3, 4, 99]);
    assert.deepEqual([...m.run({ x: big.subarray(1, 5) }).y], [2, 3, 4, 5]);
  }
  const m = await load(add1);
  const foreign = vm.runInNewContext('new Float32Array([0, 0, 0, 1])');
  assert.ok(!(foreign instanceof Float32Array));
  assert.deepEqual([...m.run({ x: foreign }).y], [1, 1, 1, 2]);
});

test('accepts a fetch Response; bytes never touch the global Response (Node loads fetch on first use)', async () => {
  const m = await load(new Response(add1));
  assert.deepEqual([...m.run({ x: new Float32Array([1, 2, 3, 4]) }).y], [2, 3, 4, 5]);
  await assert.rejects(load(new Response('gone', { status: 404 })), /fetching module failed: HTTP 404/);
  const desc = Object.getOwnPropertyDescriptor(globalThis, 'Response');
  let touched = 0;
  Object.defineProperty(globalThis, 'Response', {
    configurable: true, get() { touched++; return desc.get ? desc.get.call(globalThis) : desc.value; },
  });
  try {
    await load(add1);
    await load(buildBigData());
  } finally {
    Object.defineProperty(globalThis, 'Response', desc);
  }
  assert.equal(touched, 0);
});

test('copyOutputs: false returns views into memory', async () => {
  const m = await load(add1, { copyOutputs: false });
  const r = m.run({ x: new Float32Array(4) });
  assert.equal(r.y.buffer, m.memory.buffer);
  m.run({ x: new Float32Array([1, 1, 1, 1]) });
  assert.deepEqual([...r.y], [2, 2, 2, 2]);
});

test('int64 and bool tensors use BigInt64Array and Uint8Array', async () => {
  const m = await load(mixed);
  const r = m.run({ a: new BigInt64Array([1n, -(2n ** 40n), 2n ** 61n]), b: new Uint8Array([1, 0, 1]) });
  assert.ok(r.c instanceof BigInt64Array);
  assert.deepEqual([...r.c], [2n, -(2n ** 41n), 2n ** 62n]);
  assert.ok(r.d instanceof Uint8Array);
  assert.deepEqual([...r.d], [0, 1, 0]);
  assert.throws(() => m.run({ a: new Float64Array(3), b: new Uint8Array(3) }),
    /input 'a' is int64: expected BigInt64Array, got Float64Array\(3\)/);
  assert.throws(() => m.run({ a: new BigInt64Array(3), b: [true, false, true] }),
    /input 'b' is bool: expected Uint8Array, got Array\(3\)/);
});

test('feed errors: wrong name, missing input, wrong length, wrong type', async () => {
  const m = await load(add1);
  assert.throws(() => m.run({ x: new Float32Array(4), z: new Float32Array(4) }),
    /unknown input 'z'; the model's inputs are 'x'/);
  assert.throws(() => m.run({ input: new Float32Array(4) }), /unknown input 'input'/);
  assert.throws(() => m.run({}), /missing input 'x' \(float32\[1,4\]\)/);
  assert.throws(() => m.run({ x: new Float32Array(5) }), /input 'x' needs 4 elements \(float32\[1,4\]\), got 5/);
  assert.throws(() => m.run({ x: new Float32Array(3) }), /needs 4 elements/);
  assert.throws(() => m.run({ x: new Float64Array(4) }), /input 'x' is float32: expected Float32Array, got Float64Array\(4\)/);
  assert.throws(() => m.run({ x: [1, 2, 3, 4] }), /expected Float32Array, got Array\(4\)/);
  assert.throws(() => m.run({ x: new DataView(new ArrayBuffer(16)) }), /expected Float32Array, got DataView/);
  assert.throws(() => m.run(new Float32Array(4)), /run\(\) expects an object/);
  assert.throws(() => m.run(), /run\(\) expects an object/);
  // A rejected feed must not have been written: the module still computes from the last good input.
  assert.deepEqual([...m.run({ x: new Float32Array([1, 2, 3, 4]) }).y], [2, 3, 4, 5]);
});

test('non-zero status and traps from run() throw', async () => {
  const m = await load(add1);
  assert.throws(() => m.run({ x: new Float32Array([-1, 0, 0, 0]) }), /run\(\) returned status 5/);
  assert.throws(() => m.run({ x: new Float32Array([-2, 0, 0, 0]) }),
    (e) => /run\(\) trapped: unreachable/.test(e.message) && e.cause instanceof WebAssembly.RuntimeError);
  assert.deepEqual([...m.run({ x: new Float32Array(4) }).y], [1, 1, 1, 1], 'usable after a failure');
});

test('bad modules and signatures are rejected with clear errors', async () => {
  await assert.rejects(load(new Uint8Array([1, 2, 3])), /not a valid WebAssembly module/);
  const junk = new Uint8Array(70000).fill(0xff);                // a header, then a data section that does not parse
  junk.set([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0, 11, 0x80, 0x80, 0x04]);
  await assert.rejects(load(junk), /not a valid WebAssembly module/);
  await assert.rejects(load('no-such-dir/model.wasm'), /cannot read 'no-such-dir\/model.wasm': ENOENT/);
  await assert.rejects(load(42), /load\(\) expects a URL, a path, a Response .* got number/);
  await assert.rejects(load({ data: add1 }), /got Object/);
  await assert.rejects(load(buildAdd1(null)), new RegExp(`no '${SIGNATURE_SECTION}' custom section`));
  await assert.rejects(load(buildAdd1('{"version": 1,')), /not valid UTF-8 JSON/);
  const sig = (f) => { const s = add1Signature(); f(s); return buildAdd1(s); };
  await assert.rejects(load(sig((s) => { s.version = 2; })), /unsupported signature version 2/);
  await assert.rejects(load(sig((s) => { s.inputs[0].offset = 1028; })),
    /input_0 \('x'\) is at 1024 but the signature says 1028/);
  await assert.rejects(load(sig((s) => { s.inputs[0].dtype = 'complex64'; })), /unsupported dtype 'complex64'/);
  await assert.rejects(load(sig((s) => { s.outputs[0].bytes = 20; })), /bytes 20 != 16/);
  await assert.rejects(load(sig((s) => { s.inputs.push({ ...s.inputs[0], name: 'x2' }); })),
    /does not export global 'input_1' \('x2'\)/);
  await assert.rejects(load(sig((s) => { s.outputs[0].shape = [1, 20000]; delete s.outputs[0].bytes; })),
    /output_0 \('y'\) \[2048, 82048\) lies outside memory \(65536 bytes\)/);
  await assert.rejects(load(sig((s) => { s.inputs.push({ ...s.inputs[0] }); })), /duplicate name 'x'/);
  // A module with an import cannot be instantiated without imports.
  const withImport = appendCustomSection(
    wat2wasm(ADD1_WAT.replace('(module', '(module (import "env" "f" (func)) ')),
    SIGNATURE_SECTION, JSON.stringify(add1Signature()));
  await assert.rejects(load(withImport), /module has imports: env\.f/);
  // readSignature works on a compiled module on its own.
  assert.equal(readSignature(new WebAssembly.Module(add1)).inputs[0].name, 'x');
});

test('large data segments: copied into memory by load(), same memory as instantiating the bytes', async () => {
  const same = (a, b, what) => assert.ok(Buffer.from(a).equals(Buffer.from(b)), `memories differ: ${what}`);
  for (const overlap of [false, true]) {
    const bytes = buildBigData({ overlap });
    const ref = (await WebAssembly.instantiate(bytes, {})).instance.exports;
    new Float32Array(ref.memory.buffer, 1024, 1)[0] = 1;
    ref.run();
    for (const src of [bytes, bytes.buffer, Buffer.from(bytes), new Uint8Array([9, ...bytes]).subarray(1)]) {
      const m = await load(src);
      assert.deepEqual([...m.run({ x: new Float32Array([1]) }).y], [8]);
      same(m.memory.buffer, ref.memory.buffer, `overlap ${overlap}`);
      // load() of the compiled module it returns copies the segments again
      const again = await load(m.module);
      again.run({ x: new Float32Array([1]) });
      same(again.memory.buffer, ref.memory.buffer, `load(m.module), overlap ${overlap}`);
    }
    const big = new Uint8Array(ref.memory.buffer, BIG_SEGMENT.offset, BIG_SEGMENT.bytes);
    assert.equal(big[3], 21);
    assert.equal(String.fromCharCode(big[100], big[101]), overlap ? 'XY' : String.fromCharCode(700 & 255, 707 & 255));
  }
  // Without overlap the module load() compiled carries the big segment empty: instantiated on its own, it
  // has zeros there (the loader did the copy); the small segments are still in it.
  const m = await load(buildBigData());
  const bare = (await WebAssembly.instantiate(m.module, {})).exports;
  const mem = new Uint8Array(bare.memory.buffer);
  assert.equal(mem[BIG_SEGMENT.offset + 1], 0);
  assert.deepEqual([mem[512], mem[513]], [1, 2]);
  // with overlap the big segment stays in the module (the later segment must land on top of it)
  const mo = await load(buildBigData({ overlap: true }));
  assert.equal(new Uint8Array((await WebAssembly.instantiate(mo.module, {})).exports.memory.buffer)[BIG_SEGMENT.offset + 1], 7);
});

test('large data segments: out of bounds is an instantiation error, as without the split', async () => {
  const bytes = buildBigData({ pages: 1 });                  // 64 KiB: the segment [40000, 110000) does not fit
  await assert.rejects(WebAssembly.instantiate(bytes, {}), /out of bounds/);
  await assert.rejects(load(bytes), /instantiation failed: data segment \[40000, 110000\) is out of bounds/);
});

test('loadFromSource: the big segment is read once, into memory; the same memory as instantiating the bytes', async () => {
  const same = (a, b, what) => assert.ok(Buffer.from(a).equals(Buffer.from(b)), `memories differ: ${what}`);
  for (const overlap of [false, true]) {
    const bytes = buildBigData({ overlap });
    const ref = (await WebAssembly.instantiate(bytes, {})).instance.exports;
    ref.run();
    const reads = [];
    const read = (dst, at) => { reads.push([at, at + dst.length, dst.buffer]); dst.set(bytes.subarray(at, at + dst.length)); };
    const m = await loadFromSource(bytes.length, read);
    m.run({ x: new Float32Array([0]) });
    same(m.memory.buffer, ref.memory.buffer, `loadFromSource, overlap ${overlap}`);
    // where the payload of the big segment sits in the file: find its first bytes (7*i & 255 from i = 0)
    const at = Buffer.from(bytes).indexOf(Buffer.from(Array.from({ length: 64 }, (_, i) => (7 * i) & 255)));
    const intoMemory = reads.filter((r) => r[2] === m.memory.buffer);
    const overPayload = reads.filter((r) => r[0] < at + BIG_SEGMENT.bytes - 4096 && r[1] > at + 4096);
    if (!overlap) {
      assert.equal(intoMemory.length, 1);                  // straight into the instance's memory
      assert.deepEqual(overPayload.map((r) => r[2] === m.memory.buffer), [true]);   // and nowhere else
      const again = await load(m.module);                  // a second instance reads it again
      again.run({ x: new Float32Array([0]) });
      same(again.memory.buffer, ref.memory.buffer, 'load(m.module) after loadFromSource');
    } else {
      assert.equal(intoMemory.length, 0);                  // overlapped: stays in the compiled module
    }
  }
  // a module with no big segment: read whole, loaded as bytes
  const small = await loadFromSource(add1.length, (dst, at) => dst.set(add1.subarray(at, at + dst.length)));
  assert.deepEqual([...small.run({ x: new Float32Array([1, 2, 3, 4]) }).y], [2, 3, 4, 5]);
});

test('loadFile: same results as load(bytes); missing, truncated and changed files are clear errors', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2w-loadfile-'));
  try {
    const bytes = buildBigData(), file = path.join(dir, 'm.wasm');
    fs.writeFileSync(file, bytes);
    const ref = await load(bytes), m = await loadFile(file);
    assert.deepEqual([...m.run({ x: new Float32Array([1]) }).y], [...ref.run({ x: new Float32Array([1]) }).y]);
    assert.ok(Buffer.from(m.memory.buffer).equals(Buffer.from(ref.memory.buffer)));
    await assert.rejects(loadFile(path.join(dir, 'none.wasm')), /cannot open '.*none\.wasm'/);
    fs.writeFileSync(path.join(dir, 't.wasm'), bytes.subarray(0, bytes.length - 1000));
    await assert.rejects(loadFile(path.join(dir, 't.wasm')), /not a valid WebAssembly module|unexpected end of file/);
    const again = await load(m.module);                    // reads the weights from the file again
    assert.deepEqual([...again.run({ x: new Float32Array([1]) }).y], [...ref.run({ x: new Float32Array([1]) }).y]);
    fs.writeFileSync(file, Buffer.concat([Buffer.from(bytes), Buffer.from([0])]));
    await assert.rejects(load(m.module), /changed since it was loaded/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('the loader imports nothing from Node (browser-safe)', async () => {
  const fs = await import('node:fs');
  const src = fs.readFileSync(new URL('../../runtime/js/onnx2wasm.mjs', import.meta.url), 'utf8');
  assert.deepEqual(src.match(/^\s*import\s.*$/gm) || [], [], 'no static imports');
  assert.doesNotMatch(src, /\brequire\(|\bprocess\.|\bBuffer\b/);
  // Node's modules only by dynamic import, only where there is no page (a path or file: URL, the Node worker)
  for (const line of src.split('\n').filter((l) => /node:/.test(l))) assert.match(line, /\(Node only\)/, line);
});
