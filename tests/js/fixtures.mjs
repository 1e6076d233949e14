// Hand-built ABI fixture modules (wat2wasm + appended "onnx2wasm.signature" section) for the JS tests.
//
// As a script: `node tests/js/fixtures.mjs OUTDIR` writes add1.wasm and mixed.wasm to OUTDIR.
//
// add1.wasm  : input_0 "x" float32 [1,4] (dims ["N",4]) -> output_0 "y" = x + 1 (any n: buildAdd1(add1Signature(n), n)).
//              Test hooks: run() returns status 5 if x[0] == -1, traps (unreachable) if x[0] == -2.
// mixed.wasm : input_0 "a" int64 [3], input_1 "b" bool [3]
//              -> output_0 "c" int64 = a * 2, output_1 "d" bool = !b.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Unsigned LEB128. */
export function uleb128(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return Uint8Array.from(out);
}

/** Returns wasm bytes with a custom section (id 0) appended: id, size, name length, name, payload. */
export function appendCustomSection(wasm, name, payload) {
  const nameBytes = new TextEncoder().encode(name);
  const data = typeof payload === 'string' ? new TextEncoder().encode(payload) : payload;
  const nameLen = uleb128(nameBytes.length);
  const body = nameLen.length + nameBytes.length + data.length;
  const size = uleb128(body);
  const out = new Uint8Array(wasm.length + 1 + size.length + body);
  let o = 0;
  const put = (b) => { out.set(b, o); o += b.length; };
  put(wasm); put([0]); put(size); put(nameLen); put(nameBytes); put(data);
  return out;
}

/** Assembles WAT text with wabt's wat2wasm (must be on PATH). */
export function wat2wasm(wat) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2w-wat-'));
  try {
    fs.writeFileSync(path.join(dir, 'm.wat'), wat);
    execFileSync('wat2wasm', ['m.wat', '-o', 'm.wasm'], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    return new Uint8Array(fs.readFileSync(path.join(dir, 'm.wasm')));
  } catch (e) {
    if (e.code === 'ENOENT') throw new Error('wat2wasm not found: install wabt (apt-get install wabt)');
    throw new Error(`wat2wasm failed: ${e.stderr || e.message}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** WAT of y = x + 1 on n float32s (x at 1024, y at 2048; n <= 256). */
export function addWat(n) {
  return `
(module
  (memory (export "memory") 1)
  (global (export "input_0") i32 (i32.const 1024))
  (global (export "output_0") i32 (i32.const 2048))
  (func (export "run") (result i32)
    (local $i i32)
    (if (f32.eq (f32.load (i32.const 1024)) (f32.const -1)) (then (return (i32.const 5))))
    (if (f32.eq (f32.load (i32.const 1024)) (f32.const -2)) (then (unreachable)))
    (loop $l
      (f32.store offset=2048 (local.get $i)
        (f32.add (f32.load offset=1024 (local.get $i)) (f32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 4)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const ${4 * n}))))
    (i32.const 0)))
`;
}
export const ADD1_WAT = addWat(4);

export function add1Signature(n = 4) {
  return {
    version: 1, producer: 'onnx2wasm test fixture', opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', dims: ['N', n], shape: [1, n], offset: 1024, bytes: 4 * n }],
    outputs: [{ name: 'y', dtype: 'float32', dims: ['N', n], shape: [1, n], offset: 2048, bytes: 4 * n }],
    symbols: { N: 1 },
    memory: { weights_offset: 1024, weights_bytes: 0, arena_offset: 1024, arena_bytes: 1024 + 4 * n, total_bytes: 65536 },
  };
}

export const MIXED_WAT = `
(module
  (memory (export "memory") 1)
  (global (export "input_0") i32 (i32.const 1024))
  (global (export "input_1") i32 (i32.const 1056))
  (global (export "output_0") i32 (i32.const 2048))
  (global (export "output_1") i32 (i32.const 2080))
  (func (export "run") (result i32)
    (local $i i32)
    (loop $l
      (i64.store offset=2048 (i32.shl (local.get $i) (i32.const 3))
        (i64.mul (i64.load offset=1024 (i32.shl (local.get $i) (i32.const 3))) (i64.const 2)))
      (i32.store8 offset=2080 (local.get $i)
        (i32.eqz (i32.load8_u offset=1056 (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 3))))
    (i32.const 0)))
`;

export function mixedSignature() {
  return {
    version: 1, producer: 'onnx2wasm test fixture', opset: 13,
    inputs: [
      { name: 'a', dtype: 'int64', dims: [3], shape: [3], offset: 1024, bytes: 24 },
      { name: 'b', dtype: 'bool', dims: [3], shape: [3], offset: 1056, bytes: 3 },
    ],
    outputs: [
      { name: 'c', dtype: 'int64', dims: [3], shape: [3], offset: 2048, bytes: 24 },
      { name: 'd', dtype: 'bool', dims: [3], shape: [3], offset: 2080, bytes: 3 },
    ],
    symbols: {},
  };
}

/** add1 module (n floats, default 4); `signature` may be an object, a raw string (e.g. broken JSON) or null (no section). */
export function buildAdd1(signature = add1Signature(), n = 4) {
  const wasm = wat2wasm(addWat(n));
  if (signature === null) return wasm;
  const text = typeof signature === 'string' ? signature : JSON.stringify(signature);
  return appendCustomSection(wasm, 'onnx2wasm.signature', text);
}

export function buildMixed(signature = mixedSignature()) {
  return appendCustomSection(wat2wasm(MIXED_WAT), 'onnx2wasm.signature', JSON.stringify(signature));
}

/**
 * A module with a large active data segment (BIG_SEGMENT.bytes at BIG_SEGMENT.offset, byte i = (7 * i) & 255),
 * which the loader copies into memory itself (docs/abi.md), next to a small active one ("\01\02" at 512), a
 * passive one ("hello", copied to 3000 by run()) and, with `overlap`, a later small active one that
 * overwrites two bytes of the big one ("XY" at BIG_SEGMENT.offset + 100). `pages`: memory size (2 = 128 KiB).
 * run(): y = x + byte[BIG_SEGMENT.offset + 1] (= x + 7), x float32 [1] at 1024, y at 2048.
 */
export const BIG_SEGMENT = { offset: 40000, bytes: 70000 };
export function buildBigData({ overlap = false, pages = 2 } = {}) {
  let hex = '';
  for (let i = 0; i < BIG_SEGMENT.bytes; i++) hex += '\\' + ((7 * i) & 255).toString(16).padStart(2, '0');
  const wat = `
(module
  (memory (export "memory") ${pages})
  (global (export "input_0") i32 (i32.const 1024))
  (global (export "output_0") i32 (i32.const 2048))
  (data (i32.const 512) "\\01\\02")
  (data (i32.const ${BIG_SEGMENT.offset}) "${hex}")
  (data $p "hello")
  ${overlap ? `(data (i32.const ${BIG_SEGMENT.offset + 100}) "XY")` : ''}
  (func (export "run") (result i32)
    (f32.store (i32.const 2048)
      (f32.add (f32.load (i32.const 1024)) (f32.convert_i32_u (i32.load8_u (i32.const ${BIG_SEGMENT.offset + 1})))))
    (memory.init $p (i32.const 3000) (i32.const 0) (i32.const 5))
    (i32.const 0)))
`;
  const sig = {
    version: 1, producer: 'onnx2wasm test fixture', opset: 13,
    inputs: [{ name: 'x', dtype: 'float32', dims: [1], shape: [1], offset: 1024, bytes: 4 }],
    outputs: [{ name: 'y', dtype: 'float32', dims: [1], shape: [1], offset: 2048, bytes: 4 }],
    symbols: {},
  };
  return appendCustomSection(wat2wasm(wat), 'onnx2wasm.signature', JSON.stringify(sig));
}

if (process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const out = process.argv[2];
  if (!out) { console.error('usage: node tests/js/fixtures.mjs OUTDIR'); process.exit(2); }
  fs.mkdirSync(out, { recursive: true });
  fs.writeFileSync(path.join(out, 'add1.wasm'), buildAdd1());
  fs.writeFileSync(path.join(out, 'mixed.wasm'), buildMixed());
  console.log(`wrote ${path.join(out, 'add1.wasm')} and ${path.join(out, 'mixed.wasm')}`);
}
