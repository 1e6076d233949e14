// Tests the loader's API toward onnxruntime-web's (runtime/js/onnx2wasm.mjs): load() from a path, URL, Response
// or promise of one (streaming compilation), Tensor outputs from runAsync, a worker thread ({ worker: true }),
// the errors for wrong names, types and sizes, and the image and score helpers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import {
  load, Tensor, imageToTensor, topK, softmax, IMAGENET_MEAN, IMAGENET_STD, Onnx2WasmError,
} from '../../runtime/js/onnx2wasm.mjs';
import { loadFile } from '../../runtime/js/onnx2wasm-node.mjs';
import { buildAdd1, buildMixed, buildBigData } from './fixtures.mjs';

const add1 = buildAdd1();
const x4 = () => new Float32Array([1, 2, 3, 4]);

// a 127.0.0.1 server of `files` (path -> [bytes, content type]) for the duration of fn(base)
async function serving(files, fn) {
  const server = http.createServer((req, res) => {
    const f = files[req.url];
    if (!f) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': f[1], 'Content-Length': f[0].length });
    res.end(Buffer.from(f[0]));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  try {
    return await fn(`http://127.0.0.1:${server.address().port}`);
  } finally {
    server.close();
  }
}

// counts the calls of WebAssembly.compileStreaming during fn()
async function countStreaming(fn) {
  const real = WebAssembly.compileStreaming;
  let calls = 0;
  WebAssembly.compileStreaming = (...a) => { calls++; return real.apply(WebAssembly, a); };
  try { await fn(); } finally { WebAssembly.compileStreaming = real; }
  return calls;
}

test('load() takes a path, a file: URL string and a URL object', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2w-api-'));
  try {
    const file = path.join(dir, 'add1.wasm');
    fs.writeFileSync(file, add1);
    const rel = path.relative(process.cwd(), file);
    for (const src of [file, rel, pathToFileURL(file).href, pathToFileURL(file)]) {
      const m = await load(src);
      assert.deepEqual([...m.run({ x: x4() }).y], [2, 3, 4, 5], String(src));
    }
    await assert.rejects(load(path.join(dir, 'missing.wasm')), /cannot read '.*missing\.wasm': ENOENT/);
    await assert.rejects(load(pathToFileURL(path.join(dir, 'missing.wasm'))), /cannot read 'file:\/\/.*missing\.wasm'/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('load() fetches an http URL; a Response or a promise of one compiles streaming when it is application/wasm', async () => {
  const big = buildBigData();
  const files = { '/a.wasm': [add1, 'application/wasm'], '/b.wasm': [add1, 'application/octet-stream'],
                  '/big.wasm': [big, 'application/wasm'] };
  await serving(files, async (base) => {
    let n = await countStreaming(async () => {
      for (const src of [`${base}/a.wasm`, new URL('/a.wasm', base), fetch(`${base}/a.wasm`), await fetch(`${base}/a.wasm`)]) {
        const m = await load(src);
        assert.deepEqual([...m.run({ x: x4() }).y], [2, 3, 4, 5]);
      }
    });
    assert.equal(n, 4, 'every application/wasm source compiled streaming');
    n = await countStreaming(async () => {
      const m = await load(fetch(`${base}/b.wasm`));                    // no wasm content type: from the bytes
      assert.deepEqual([...m.run({ x: x4() }).y], [2, 3, 4, 5]);
      await load(fetch(`${base}/a.wasm`), { streaming: false });
    });
    assert.equal(n, 0, 'octet-stream and streaming: false compile from the bytes');
    // streaming keeps the weights in the module; the memory is the same as from the bytes
    const s = await load(fetch(`${base}/big.wasm`)), b = await load(big);
    assert.deepEqual([...s.run({ x: new Float32Array([1]) }).y], [8]);
    b.run({ x: new Float32Array([1]) });
    assert.ok(Buffer.from(s.memory.buffer).equals(Buffer.from(b.memory.buffer)));
    // in a page (a global location) a relative string is a URL against it, not a file
    globalThis.location = { href: `${base}/sub/page.html` };
    try {
      files['/sub/a.wasm'] = [add1, 'application/wasm'];
      assert.deepEqual([...(await load('a.wasm')).run({ x: x4() }).y], [2, 3, 4, 5]);
      await assert.rejects(load('b.wasm'), /HTTP 404 \(http:\/\/127\.0\.0\.1:\d+\/sub\/b\.wasm\)/);
    } finally {
      delete globalThis.location;
    }
    await assert.rejects(load(`${base}/missing.wasm`), /fetching module failed: HTTP 404 \(http:\/\/127\.0\.0\.1:\d+\/missing\.wasm\)/);
    await assert.rejects(load('http://127.0.0.1:1/x.wasm'), /cannot fetch 'http:\/\/127\.0\.0\.1:1\/x\.wasm'/);
  });
  const junk = new Response(new Uint8Array([0, 97, 115, 109, 9]), { headers: { 'Content-Type': 'application/wasm' } });
  await assert.rejects(load(junk), /not a valid WebAssembly module/);
});

test('runAsync: outputs as Tensors with type, data and dims; feeds may be Tensors', async () => {
  const m = await load(add1);
  const out = await m.runAsync({ x: new Tensor('float32', x4(), [1, 4]) });
  assert.ok(out.y instanceof Tensor);
  assert.equal(out.y.type, 'float32');
  assert.deepEqual([...out.y.dims], [1, 4]);
  assert.ok(out.y.data instanceof Float32Array);
  assert.deepEqual([...out.y.data], [2, 3, 4, 5]);
  assert.equal(out.y.size, 4);
  const mixed = await load(buildMixed());
  const r = await mixed.runAsync({ a: new BigInt64Array([1n, 2n, 3n]), b: new Tensor('bool', new Uint8Array([1, 0, 1])) });
  assert.deepEqual([r.c.type, [...r.c.data], r.d.type, [...r.d.data]], ['int64', [2n, 4n, 6n], 'bool', [0, 1, 0]]);
  // an onnxruntime-web Tensor is a feed too (it has type, data and dims)
  const ortPath = createRequire(new URL('../../tools/package.json', import.meta.url)).resolve('onnxruntime-web');
  const { Tensor: OrtTensor } = await import(pathToFileURL(ortPath).href);
  assert.deepEqual([...m.run({ x: new OrtTensor('float32', x4(), [1, 4]) }).y], [2, 3, 4, 5]);
  assert.throws(() => m.run({ x: new OrtTensor('int32', new Int32Array(4), [1, 4]) }), /input 'x' is float32, got a tensor of type 'int32'/);
});

test('clear errors for wrong names, tensor types, dims and sizes', async () => {
  const m = await load(add1);
  await assert.rejects(m.runAsync({ X: x4() }), /unknown input 'X'; the model's inputs are 'x'/);
  assert.throws(() => m.run({ x: new Tensor('int32', new Int32Array(4), [1, 4]) }), /input 'x' is float32, got a tensor of type 'int32'/);
  assert.throws(() => m.run({ x: { data: x4(), dims: [2, 2] } }), /input 'x' has shape \[1,4\] \(float32\), got dims \[2,2\]/);
  assert.throws(() => m.run({ x: { data: x4(), dims: [4] } }), /has shape \[1,4\].*got dims \[4\]/);
  assert.throws(() => m.run({ x: new Float32Array(8) }), /input 'x' needs 4 elements \(float32\[1,4\]\), got 8/);
  assert.throws(() => m.run({ x: x4() }, { outputs: ['z'] }), /unknown output 'z'/);
  assert.throws(() => new Tensor('float32', new Int32Array(4)), /a float32 tensor holds a Float32Array, got Int32Array\(4\)/);
  assert.throws(() => new Tensor('float32', x4(), [3]), /tensor dims \[3\] need 3 elements, got 4/);
  assert.throws(() => new Tensor('complex64', x4()), /unknown tensor type 'complex64'/);
  assert.throws(() => m.outputShape('z'), Onnx2WasmError);
});

test('worker: true runs the model in a worker thread; runAsync resolves in order; errors come back', async () => {
  const m = await load(add1, { worker: true });
  try {
    assert.equal(m.worker, true);
    assert.deepEqual(m.inputs.map((t) => [t.name, t.dtype, [...t.shape]]), [['x', 'float32', [1, 4]]]);
    assert.throws(() => m.run({ x: x4() }), /run\(\): this model runs in a worker .*use await model\.runAsync/);
    const feeds = Array.from({ length: 8 }, (_, i) => new Float32Array([i, i, i, i]));
    const outs = await Promise.all(feeds.map((x) => m.runAsync({ x })));
    outs.forEach((o, i) => assert.deepEqual([o.y.type, [...o.y.dims], [...o.y.data]], ['float32', [1, 4], [i + 1, i + 1, i + 1, i + 1]]));
    assert.deepEqual([...feeds[3]], [3, 3, 3, 3], 'the caller keeps its feeds');
    await assert.rejects(m.runAsync({ z: x4() }), (e) => e instanceof Onnx2WasmError && /^onnx2wasm: unknown input 'z'/.test(e.message));
    await assert.rejects(m.runAsync({ x: new Float64Array(4) }), /input 'x' is float32: expected Float32Array, got Float64Array\(4\)/);
    await assert.rejects(m.runAsync({ x: new Float32Array([-1, 0, 0, 0]) }), /run\(\) returned status 5/);
    await assert.rejects(m.runAsync({ x: new Float32Array([-2, 0, 0, 0]) }), /run\(\) trapped/);
    assert.deepEqual([...(await m.runAsync({ x: x4() })).y.data], [2, 3, 4, 5], 'usable after a failure');
  } finally {
    m.dispose();
  }
  await assert.rejects(m.runAsync({ x: x4() }), /worker has stopped: disposed/);
});

test('worker: the split-off weights reach the worker (bytes, loadFile); a bad module fails load()', async () => {
  const big = buildBigData();
  const ref = await load(big);
  const want = [...ref.run({ x: new Float32Array([1]) }).y];
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2w-api-'));
  try {
    fs.writeFileSync(path.join(dir, 'big.wasm'), big);
    for (const m of [await load(big, { worker: true }), await loadFile(path.join(dir, 'big.wasm'), { worker: true }),
                     await load(ref.module, { worker: true })]) {
      assert.deepEqual([...(await m.runAsync({ x: new Float32Array([1]) })).y.data], want);
      m.dispose();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  await assert.rejects(load(buildBigData({ pages: 1 }), { worker: true }), /instantiation failed: data segment \[40000, 110000\)/);
});

test('imageToTensor: RGBA to normalized NCHW (and NHWC, gray, BGR); clear errors', () => {
  // 2x1 image: pixel 0 = (255, 0, 51, 255), pixel 1 = (0, 102, 255, 7)
  const img = { width: 2, height: 1, data: new Uint8ClampedArray([255, 0, 51, 255, 0, 102, 255, 7]) };
  const t = imageToTensor(img);
  assert.deepEqual([t.type, [...t.dims]], ['float32', [1, 3, 1, 2]]);
  const close = (a, b) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]) < 1e-6);
  assert.ok(close([...t.data], [1, 0, 0, 0.4, 0.2, 1]), [...t.data].join());
  const n = imageToTensor(img, { mean: IMAGENET_MEAN, std: IMAGENET_STD });
  const want = [(1 - 0.485) / 0.229, (0 - 0.485) / 0.229, (0 - 0.456) / 0.224, (0.4 - 0.456) / 0.224, (0.2 - 0.406) / 0.225, (1 - 0.406) / 0.225];
  assert.ok(close([...n.data], want), [...n.data].join());
  assert.ok(close([...imageToTensor(img, { layout: 'NHWC' }).data], [1, 0, 0.2, 0, 0.4, 1]));
  assert.deepEqual([...imageToTensor(img, { layout: 'NHWC' }).dims], [1, 1, 2, 3]);
  assert.ok(close([...imageToTensor(img, { bgr: true }).data], [0.2, 1, 0, 0.4, 1, 0]));
  assert.ok(close([...imageToTensor(img, { channels: 1, scale: 1 }).data], [102, 119]));
  assert.ok(close([...imageToTensor(img, { channels: 4, scale: 1, mean: 1, std: 2 }).data], [127, -0.5, -0.5, 50.5, 25, 127, 127, 3]));
  const out = new Float32Array(6);
  assert.equal(imageToTensor(img, { out }).data, out);
  assert.throws(() => imageToTensor({ width: 2, height: 2, data: new Uint8Array(8) }), /expects RGBA pixels .* with 8 bytes for 2x2/);
  assert.throws(() => imageToTensor(img, { mean: [0, 0] }), /mean needs 3 numbers, got \[0,0\]/);
  assert.throws(() => imageToTensor(img, { channels: 2 }), /channels must be 1, 3 or 4/);
  assert.throws(() => imageToTensor(img, { out: new Float32Array(5) }), /out must be a Float32Array\(6\)/);
});

test('an image tensor of the wrong size is refused by run() with the shape it needs', async () => {
  const m = await load(add1);                              // x: float32 [1, 4]
  const img = { width: 2, height: 2, data: new Uint8Array(16) };
  assert.throws(() => m.run({ x: imageToTensor(img, { channels: 1 }) }), /input 'x' has shape \[1,4\] \(float32\), got dims \[1,1,2,2\]/);
});

test('topK and softmax', () => {
  assert.deepEqual(topK(new Float32Array([0.5, 3, -1, 3.5, 2, 0]), 3), [{ index: 3, value: 3.5 }, { index: 1, value: 3 }, { index: 4, value: 2 }]);
  assert.deepEqual(topK([1, 2], 5).map((e) => e.index), [1, 0]);
  const p = softmax(new Float32Array([1, 2, 3]));
  const e = [1, 2, 3].map((v) => Math.exp(v - 3)), s = e.reduce((a, b) => a + b);
  assert.ok(p.every((v, i) => Math.abs(v - e[i] / s) < 1e-7));
  assert.ok(Math.abs(softmax([1000, 1000])[0] - 0.5) < 1e-7, 'no overflow');
});
