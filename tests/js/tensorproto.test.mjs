// Tests runtime/js/tensorproto.mjs against the onnx Python package on the ONNX backend test data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  decodeTensor, encodeTensor, DTYPE_BY_CODE, halfToFloat, floatToHalf,
} from '../../runtime/js/tensorproto.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const PY = '/usr/bin/python3';
const PYREF = path.join(here, 'pyref.py');
const DATA = '/usr/share/libonnx-testdata/data';
const ROOTS = ['node', 'simple', 'pytorch-converted', 'pytorch-operator'].map((d) => path.join(DATA, d));

const hasPy = (() => {
  try { execFileSync(PY, ['-c', 'import onnx, numpy'], { stdio: 'ignore' }); return true; } catch { return false; }
})();
const hasData = fs.existsSync(path.join(DATA, 'node'));
const py = (args) => execFileSync(PY, [PYREF, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
const dumpLines = (files) => {
  const out = [];
  for (let i = 0; i < files.length; i += 500) {             // keep argv short
    out.push(...py(['dump', ...files.slice(i, i + 500)]).trim().split('\n').map((l) => JSON.parse(l)));
  }
  return out;
};
const bytesOf = (a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'o2w-tp-'));

let backendFiles = null;
function listBackendFiles() {
  backendFiles ??= JSON.parse(py(['list', ...ROOTS]));
  return backendFiles;
}

test('decodes every tensor .pb of the backend test data like onnx.numpy_helper', { skip: !(hasPy && hasData) && 'needs /usr/bin/python3 with onnx and libonnx-testdata' }, () => {
  const files = listBackendFiles();
  assert.ok(files.length > 1000, `only ${files.length} files found`);
  const seen = new Map();
  for (const ref of dumpLines(files)) {
    if (ref.skip) continue;
    assert.equal(ref.error, undefined, `python could not convert ${ref.file}`);
    const t = decodeTensor(fs.readFileSync(ref.file));
    assert.equal(t.dataType, ref.data_type, ref.file);
    assert.equal(t.dtype, DTYPE_BY_CODE[ref.data_type], ref.file);
    assert.deepEqual(t.dims, ref.dims, ref.file);
    assert.equal(t.name, ref.name, ref.file);
    assert.ok(bytesOf(t.data).equals(Buffer.from(ref.b64, 'base64')), `data differs: ${ref.file}`);
    seen.set(t.dtype, (seen.get(t.dtype) || 0) + 1);
  }
  // The data set covers these dtypes (all stored as raw_data).
  for (const d of ['float32', 'float64', 'float16', 'int8', 'uint8', 'int16', 'uint16', 'int32',
    'uint32', 'int64', 'uint64', 'bool']) {
    assert.ok(seen.get(d) > 0, `no ${d} file decoded`);
  }
});

test('decodes the typed fields (float_data, int32_data, int64_data, double_data, uint64_data)', { skip: !hasPy && 'needs /usr/bin/python3 with onnx' }, () => {
  const dir = tmp();
  try {
    py(['make-typed', dir]);
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.length, 14);
    for (const m of manifest) {
      const t = decodeTensor(fs.readFileSync(m.file));
      assert.equal(t.name, m.name);
      assert.equal(t.dataType, m.data_type);
      assert.deepEqual(t.dims, m.dims);
      assert.ok(bytesOf(t.data).equals(Buffer.from(m.b64, 'base64')), `data differs: ${m.file}`);
    }
    // Spot-check values and typed-array kinds.
    const get = (tag) => decodeTensor(fs.readFileSync(path.join(dir, `${tag}.pb`)));
    assert.deepEqual([...get('i64').data], [-(2n ** 63n), -1n, 2n ** 53n + 1n, 2n ** 63n - 1n]);
    assert.ok(get('i64').data instanceof BigInt64Array);
    assert.deepEqual([...get('u64').data], [0n, 2n ** 63n + 5n, 2n ** 64n - 1n]);
    assert.deepEqual([...get('i8').data], [-128, -1, 0, 127]);
    assert.deepEqual([...get('u32').data], [0, 3000000000, 2 ** 32 - 1]);
    assert.deepEqual([...get('bool').data], [1, 0, 0, 1]);
    assert.ok(get('bool').data instanceof Uint8Array);
    assert.deepEqual(Array.from(get('f16').data, halfToFloat), [1, -2.5, 65504, 5.960464477539063e-8]);
    assert.deepEqual(get('scalar').dims, []);
    assert.equal(get('scalar').data[0], 42);
    assert.deepEqual(get('empty').dims, [0, 3]);
    assert.equal(get('empty').data.length, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('round trip: decode -> encode -> decode is identity, and onnx reads what we write', { skip: !(hasPy && hasData) && 'needs python onnx and test data' }, () => {
  const files = listBackendFiles().filter((_, i) => i % 7 === 0); // a spread of dtypes/shapes
  const dir = tmp();
  try {
    const written = [];
    files.forEach((f, i) => {
      const a = decodeTensor(fs.readFileSync(f));
      if (a.dtype === 'string') return; // covered by the encodeTensor test
      const enc = encodeTensor(a);
      const b = decodeTensor(enc);
      assert.deepEqual({ ...b, data: null }, { ...a, data: null }, f);
      assert.ok(bytesOf(b.data).equals(bytesOf(a.data)), f);
      const out = path.join(dir, `${i}.pb`);
      fs.writeFileSync(out, enc);
      written.push([f, out]);
    });
    const refs = new Map(dumpLines(files).map((r) => [r.file, r]));
    const mine = new Map(dumpLines(written.map(([, o]) => o)).map((r) => [r.file, r]));
    for (const [f, o] of written) {
      const r = refs.get(f), m = mine.get(o);
      assert.deepEqual([m.data_type, m.dims, m.name, m.b64], [r.data_type, r.dims, r.name, r.b64], `${f} -> ${o}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

// Hand-encoded protobuf helpers for wire-format edge cases.
const varint = (n) => { const o = []; let x = BigInt.asUintN(64, BigInt(n)); do { let b = Number(x & 0x7fn); x >>= 7n; if (x) b |= 0x80; o.push(b); } while (x); return o; };
const key = (f, w) => varint(f * 8 + w);
const ld = (f, bytes) => [...key(f, 2), ...varint(bytes.length), ...bytes];

test('reads packed and unpacked dims, unpacked typed fields, and skips unknown fields', () => {
  const floats = new Uint8Array(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
  const packedDims = [...ld(1, [...varint(2), ...varint(3)])];
  const pb = Uint8Array.from([
    ...ld(12, [...new TextEncoder().encode('a doc string')]), // doc_string: skipped
    ...packedDims,
    ...key(2, 0), ...varint(1),
    ...ld(8, [...new TextEncoder().encode('t')]),
    ...key(99, 5), 1, 2, 3, 4,                               // unknown fixed32: skipped
    ...key(4, 5), ...floats.subarray(0, 4),                  // one unpacked float
    ...ld(4, [...floats.subarray(4)]),                      // the rest packed
  ]);
  const t = decodeTensor(pb);
  assert.deepEqual(t, { name: 't', dtype: 'float32', dataType: 1, dims: [2, 3], data: new Float32Array([1, 2, 3, 4, 5, 6]) });

  // Unpacked int64_data with negative values (10-byte varints) and unpacked dims.
  const pb2 = Uint8Array.from([...key(1, 0), ...varint(2), ...key(2, 0), ...varint(7),
    ...key(7, 0), ...varint(-5), ...key(7, 0), ...varint(2n ** 40n)]);
  assert.deepEqual([...decodeTensor(pb2).data], [-5n, 2n ** 40n]);

  // int32_data carrying negative int16 (sign-extended 10-byte varint).
  const pb3 = Uint8Array.from([...key(1, 0), ...varint(1), ...key(2, 0), ...varint(5), ...ld(5, varint(-300))]);
  assert.deepEqual([...decodeTensor(pb3).data], [-300]);
  assert.ok(decodeTensor(pb3).data instanceof Int16Array);
});

test('encodeTensor writes dims unpacked, data_type, name, raw_data in that order', () => {
  const enc = encodeTensor({ name: 'x', dtype: 'int32', dims: [2], data: new Int32Array([1, -1]) });
  assert.deepEqual([...enc], [
    0x08, 2,              // dims: field 1 varint
    0x10, 6,              // data_type INT32
    0x42, 1, 0x78,        // name "x"
    0x4a, 8, 1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, // raw_data
  ]);
  // Subarray views are written from their own bytes, not the whole buffer.
  const big = new Float32Array([9, 1, 2, 9]);
  const t = decodeTensor(encodeTensor({ dtype: 'float32', dims: [2], data: big.subarray(1, 3) }));
  assert.deepEqual([...t.data], [1, 2]);
  // String tensors go to string_data.
  const s = decodeTensor(encodeTensor({ name: 's', dtype: 'string', dims: [2], data: ['ab', 'ü'] }));
  assert.deepEqual(s.data, ['ab', 'ü']);
});

test('rejects malformed input with clear errors', () => {
  assert.throws(() => decodeTensor(Uint8Array.from([0x08])), /truncated varint/);
  assert.throws(() => decodeTensor(Uint8Array.from([...key(2, 0), 99])), /unsupported data_type 99/);
  assert.throws(() => decodeTensor(Uint8Array.from([...key(1, 0), 3, ...key(2, 0), 1, ...ld(9, [0, 0, 0, 0])])),
    /raw_data has 4 bytes, dims \[3\] of float32 need 12/);
  assert.throws(() => decodeTensor(Uint8Array.from([...key(2, 0), 1, ...key(14, 0), 1])), /external data/);
  assert.throws(() => decodeTensor(Uint8Array.from([...key(1, 0), 2, ...key(2, 0), 1, ...ld(4, [0, 0, 128, 63])])),
    /1 values in the typed field for dims \[2\]/);
  assert.throws(() => encodeTensor({ dtype: 'float32', dims: [3], data: new Float32Array(2) }), /need 12/);
  assert.throws(() => encodeTensor({ dtype: 'float99', dims: [], data: new Float32Array(1) }), /unknown dtype/);
});

test('float16 helpers round-trip every finite half', () => {
  for (let h = 0; h < 0x10000; h++) {
    const x = halfToFloat(h);
    if (Number.isNaN(x)) { assert.ok((h & 0x7c00) === 0x7c00 && (h & 0x3ff)); continue; }
    assert.equal(floatToHalf(x), h, `half 0x${h.toString(16)}`);
  }
  assert.equal(floatToHalf(1 + 2 ** -11), 0x3c00);   // tie -> even
  assert.equal(floatToHalf(1 + 3 * 2 ** -11), 0x3c02); // tie -> even (up)
});
