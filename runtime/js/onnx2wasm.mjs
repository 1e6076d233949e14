// Loader for onnx2wasm modules (docs/abi.md): compile, read the signature section, instantiate, run.
//
// Browser-safe: uses only WebAssembly, TextDecoder and typed arrays (no Node imports).
//
//   import { load } from './onnx2wasm.mjs';
//   const model = await load(bytes);                 // bytes: ArrayBuffer | TypedArray | Module | Response
//   const out = model.run({ input: new Float32Array(3 * 224 * 224) });
//   out.output                                       // Float32Array(1000), a fresh copy
//
// Modules with run-time dims (docs/abi.md): give the symbols' values, or feeds with dims:
//   model.run({ input_ids: { data: ids, dims: [1, 5] }, ... });       // seq = 5 read from the dims
//   model.run(feeds, { dims: { seq: 5, past: 12 } });
//   model.outputShape('logits')                      // [1, 5, 96] for the last run
//
// Resident caches (docs/abi.md): an input with `resident_in` lives in that output's storage. Feed
// RESIDENT instead of data to keep what the last run left there (its present is this run's past):
//   model.run({ input_ids, position_ids, past_key_0: RESIDENT, ... }, { dims: { seq: 1, past: 12 }, outputs: ['logits'] });

// A module of one function () -> v128 computing f32x4.relaxed_madd: valid exactly where the engine runs
// relaxed SIMD (Chromium, Firefox; Node 20 only with --experimental-wasm-relaxed-simd).
const RELAXED_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 19, 1, 17, 0,
  65, 0, 253, 17, 65, 0, 253, 17, 65, 0, 253, 17, 253, 133, 2, 11]);
/** true when this engine runs relaxed-SIMD modules (`onnx2wasm --simd relaxed`): pick m.relaxed.wasm then. */
export function relaxedSimdSupported() { return WebAssembly.validate(RELAXED_PROBE); }

export const SIGNATURE_SECTION = 'onnx2wasm.signature';

/** Feed for an input with `resident_in`: keep the data already in the module's memory. */
export const RESIDENT = Symbol.for('onnx2wasm.resident');

/** ABI dtype -> typed-array constructor that carries it. */
export const TYPED_ARRAYS = Object.freeze({
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, bfloat16: Uint16Array,
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array,
  bool: Uint8Array,
});

class Onnx2WasmError extends Error {
  constructor(msg, opts) { super(`onnx2wasm: ${msg}`, opts); this.name = 'Onnx2WasmError'; }
}
export { Onnx2WasmError };

function fail(msg, opts) { throw new Onnx2WasmError(msg, opts); }

function isLittleEndian() { return new Uint8Array(new Uint16Array([1]).buffer)[0] === 1; }

// Name of a typed array's class that also works across realms (iframes, vm contexts).
function typedArrayKind(x) {
  return ArrayBuffer.isView(x) && !(x instanceof DataView) ? x[Symbol.toStringTag] : null;
}

function describe(x) {
  if (x === null) return 'null';
  if (Array.isArray(x)) return `Array(${x.length})`;
  const kind = typedArrayKind(x);
  if (kind) return `${kind}(${x.length})`;
  if (typeof x === 'object') return x.constructor?.name || 'object';
  return typeof x;
}

// Large active data segments (a model's weights) are split off before compiling: the engine copies
// the bytes it compiles and keeps them with the module, so a weights segment would otherwise be
// copied twice before it reaches memory. The module that is compiled keeps each such segment as an
// empty one at the same offset (segment indices and the offset bounds check stay), and load() copies
// the bytes into memory right after instantiating, as instantiation would have. Modules whose data
// section this does not understand are compiled unchanged.
const SPLIT_MIN_BYTES = 65536;
const splitSegments = new WeakMap();       // compiled Module -> [{offset, bytes}] to copy after instantiation

function uleb(n) {
  const out = [];
  do { let b = n % 128; n = Math.floor(n / 128); if (n) b |= 0x80; out.push(b); } while (n);
  return out;
}

/**
 * Splits the large active data segments with constant offsets out of module bytes `u8`.
 * Returns {bytes, segments: [{offset, bytes, at, n}]} (bytes: the module with those segments emptied;
 * at: a segment's position in u8) or null when there is nothing to split or the layout is not the plain one.
 * `need(pos, len)`, when given, is called before the parser reads u8[pos, pos + len): loadFile passes
 * a u8 that holds only what was asked for, so the split-off payloads are never read from the file.
 */
function splitLargeSegments(u8, need = () => {}) {
  if (u8.length < SPLIT_MIN_BYTES + 8) return null;
  need(0, 8);
  if (u8[0] !== 0 || u8[1] !== 0x61 || u8[2] !== 0x73 || u8[3] !== 0x6d ||
      u8[4] !== 1 || u8[5] !== 0 || u8[6] !== 0 || u8[7] !== 0) return null;
  let pos = 8, end = u8.length;
  const leb = () => {                      // unsigned LEB128 (u32)
    let r = 0, mul = 1, b;
    do {
      if (pos >= end || mul > 2 ** 28) throw new RangeError('bad LEB128');
      b = u8[pos++]; r += (b & 0x7f) * mul; mul *= 128;
    } while (b & 0x80);
    return r;
  };
  const sleb32 = () => {                   // signed LEB128 (i32), returned as the unsigned address
    let r = 0, shift = 0, b;
    do {
      if (pos >= end || shift > 28) throw new RangeError('bad LEB128');
      b = u8[pos++]; r |= (b & 0x7f) << shift; shift += 7;
    } while (b & 0x80);
    if (shift < 32 && (b & 0x40)) r |= -1 << shift;
    return r >>> 0;
  };
  try {
    const HEAD = 24;                       // enough bytes for any section or segment header we parse
    while (pos < u8.length) {
      end = u8.length;
      need(pos, HEAD);
      const secStart = pos, id = u8[pos++], size = leb(), body = pos;
      if (body + size > u8.length) return null;
      if (id !== 11) { need(body, size); pos = body + size; continue; }
      end = body + size;
      const count = leb(), countEnd = pos, segs = [];
      for (let i = 0; i < count; i++) {
        need(pos, HEAD);
        const flags = leb();
        if (flags === 1) { const n = leb(); need(pos, n); pos += n; segs.push({ active: false }); continue; }   // passive
        if (flags === 2 && leb() !== 0) return null;          // another memory
        if (flags !== 0 && flags !== 2) return null;
        if (u8[pos++] !== 0x41) return null;                  // only `i32.const N end` offsets
        const offset = sleb32();
        if (u8[pos++] !== 0x0b) return null;
        const headEnd = pos, n = leb(), data = pos;
        pos += n;
        if (pos > end) return null;
        segs.push({ active: true, headEnd, data, n, offset });
      }
      if (pos !== end) return null;
      // a large segment is split off unless a later non-empty active segment overlaps it (order matters)
      const big = segs.map((s, i) => s.active && s.n >= SPLIT_MIN_BYTES &&
        !segs.some((t, j) => j > i && t.active && t.n > 0 && t.offset < s.offset + s.n && s.offset < t.offset + t.n));
      segs.forEach((s, i) => { if (s.active && !big[i]) need(s.data, s.n); });
      need(end, u8.length - end);
      if (!big.some(Boolean)) return null;
      // the section again: the count, then every segment as it was but the large ones without bytes
      const pieces = [], segments = [];
      let len = 0, p = countEnd;
      const add = (x) => { pieces.push(x); len += x.length; };
      add(u8.subarray(body, countEnd));
      segs.forEach((s, i) => {
        if (!big[i]) return;
        add(u8.subarray(p, s.headEnd));                        // up to this segment's size field
        add(Uint8Array.of(0));                                 // size 0
        segments.push({ offset: s.offset, bytes: u8.subarray(s.data, s.data + s.n), at: s.data, n: s.n });
        p = s.data + s.n;
      });
      add(u8.subarray(p, end));
      const sizeBytes = Uint8Array.from(uleb(len));
      const out = new Uint8Array(secStart + 1 + sizeBytes.length + len + (u8.length - end));
      let o = 0;
      const put = (x) => { out.set(x, o); o += x.length; };
      put(u8.subarray(0, secStart + 1));
      put(sizeBytes);
      for (const x of pieces) put(x);
      put(u8.subarray(end));
      return { bytes: out, segments };
    }
  } catch (e) {
    if (e instanceof RangeError) return null;
    throw e;
  }
  return null;
}

const isBytes = (x) => x instanceof ArrayBuffer || ArrayBuffer.isView(x) ||
  (typeof SharedArrayBuffer !== 'undefined' && x instanceof SharedArrayBuffer);
// Response only when it is not bytes: in Node the first touch of the global Response loads the whole
// fetch implementation (~10-15 ms of a cold start)
const isResponse = (x) => !isBytes(x) && typeof Response !== 'undefined' && x instanceof Response;

// A string or URL: fetched, or read as a file where there is no page (Node, Deno, Bun: a path or a file: URL).
async function fromLocation(src) {
  let page;                                                          // the page's URL (Deno's location getter may throw)
  try { page = typeof location !== 'undefined' && typeof location?.href === 'string' ? location.href : undefined; } catch { page = undefined; }
  let url = null;
  try { url = new URL(src, page); } catch { url = null; }
  if (url && /^[a-z]:$/i.test(url.protocol)) url = null;             // a Windows drive letter, not a scheme
  if ((!url || url.protocol === 'file:') && page === undefined) {
    const fsName = 'node:fs/promises';                                // (Node only) not a literal: bundlers leave it alone
    const { readFile } = await import(/* @vite-ignore */ fsName);
    try {
      return await readFile(url || String(src));
    } catch (e) {
      fail(`cannot read '${url ? url.href : src}': ${e.message}`, { cause: e });
    }
  }
  try {
    return await fetch(url || String(src));
  } catch (e) {
    fail(`cannot fetch '${url ? url.href : src}': ${e.message}`, { cause: e });
  }
}

/** The source load() takes, as a compiled module: a Response with Content-Type application/wasm compiles streaming. */
async function toModule(src, opts = {}) {
  if (src && typeof src.then === 'function') src = await src;            // Promise<Response> (fetch(url)), Promise<bytes>
  if (src instanceof WebAssembly.Module) return src;
  if (typeof src === 'string' || (typeof URL !== 'undefined' && src instanceof URL)) src = await fromLocation(src);
  if (isResponse(src)) {
    if (!src.ok) fail(`fetching module failed: HTTP ${src.status}${src.url ? ` (${src.url})` : ''}`);
    const type = src.headers.get('content-type') || '';
    if (opts.streaming !== false && typeof WebAssembly.compileStreaming === 'function' && /^application\/wasm\b/i.test(type)) {
      try {
        return await WebAssembly.compileStreaming(src);
      } catch (e) {
        fail(`not a valid WebAssembly module: ${e.message}`, { cause: e });
      }
    }
    src = await src.arrayBuffer();
  }
  if (isBytes(src)) {
    const u8 = ArrayBuffer.isView(src) ? new Uint8Array(src.buffer, src.byteOffset, src.byteLength) : new Uint8Array(src);
    const split = splitLargeSegments(u8);
    try {
      const module = await WebAssembly.compile(split ? split.bytes : src);
      if (split) splitSegments.set(module, split.segments);
      return module;
    } catch (e) {
      fail(`not a valid WebAssembly module: ${e.message}`, { cause: e });
    }
  }
  fail(`load() expects a URL, a path, a Response (or a promise of one), wasm bytes (ArrayBuffer/TypedArray) ` +
       `or a WebAssembly.Module, got ${describe(src)}`);
}

/**
 * Compiles and instantiates an onnx2wasm module from a random-access source of `size` bytes:
 * `read(dst, at)` fills the Uint8Array dst with the bytes [at, at + dst.length), synchronously. The
 * large data segments (the weights) are read by `read` straight into the instance's memory and never
 * held in a JavaScript buffer; everything else is read once into a buffer that is compiled. A later
 * load(model.module) calls `read` again for the segments. Node's loadFile (onnx2wasm-node.mjs) is this
 * over a file. Options as for load().
 * @param {number} size
 * @param {(dst: Uint8Array, at: number) => void} read
 * @param {{copyOutputs?: boolean}} [opts]
 */
export async function loadFromSource(size, read, opts = {}) {
  if (!Number.isSafeInteger(size) || size < 0) fail(`loadFromSource: bad size ${size}`);
  const u8 = new Uint8Array(size);         // zero-filled; its pages are touched only where bytes are read
  const PAGE = 4096, loaded = new Uint8Array(Math.ceil(size / PAGE) + 1);
  const need = (pos, len) => {             // reads the not-yet-read pages of [pos, pos + len)
    const a = Math.max(0, Math.floor(pos / PAGE));
    const b = Math.min(loaded.length - 1, Math.ceil(Math.min(size, pos + len) / PAGE));
    for (let p = a; p < b;) {
      if (loaded[p]) { p++; continue; }
      let q = p;
      while (q < b && !loaded[q]) loaded[q++] = 1;
      read(u8.subarray(p * PAGE, Math.min(size, q * PAGE)), p * PAGE);
      p = q;
    }
  };
  const split = splitLargeSegments(u8, need);
  if (!split) {
    need(0, size);
    return load(u8, opts);
  }
  let module;
  try {
    module = await WebAssembly.compile(split.bytes);
  } catch (e) {
    fail(`not a valid WebAssembly module: ${e.message}`, { cause: e });
  }
  splitSegments.set(module, split.segments.map(({ offset, at, n }) => ({ offset, n, read: (dst) => read(dst, at) })));
  return load(module, opts);
}

/**
 * Evaluates a signature dim: a number, or an expression printed by the compiler over symbol names
 * ("past + seq", "768*seq", "2*a*b - 1"). Returns undefined when a symbol has no value.
 */
export function evalDim(d, values) {
  return compileDim(d)(values);
}

/** A signature dim parsed once into a function of the symbol values (run() evaluates shapes every call). */
function compileDim(d) {
  if (typeof d === 'number') return () => d;
  const terms = [];
  for (const raw of String(d).replace(/ - /g, ' + -').split(' + ')) {
    let term = raw.trim(), coef = 1;
    if (term.startsWith('-')) { coef = -1; term = term.slice(1); }
    const syms = [];
    for (const f of term.split('*')) { if (/^\d+$/.test(f)) coef *= Number(f); else syms.push(f); }
    terms.push({ coef, syms });
  }
  return (values) => {
    let sum = 0;
    for (const { coef, syms } of terms) {
      let prod = coef;
      for (const f of syms) {
        if (!Object.prototype.hasOwnProperty.call(values, f)) return undefined;
        prod *= values[f];
      }
      sum += prod;
    }
    return sum;
  };
}

/** Reads and parses the "onnx2wasm.signature" custom section of a compiled module. */
export function readSignature(module) {
  const sections = WebAssembly.Module.customSections(module, SIGNATURE_SECTION);
  if (sections.length === 0) {
    fail(`module has no '${SIGNATURE_SECTION}' custom section (not produced by onnx2wasm?)`);
  }
  if (sections.length > 1) fail(`module has ${sections.length} '${SIGNATURE_SECTION}' sections`);
  let sig;
  try {
    sig = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(sections[0]));
  } catch (e) {
    fail(`'${SIGNATURE_SECTION}' section is not valid UTF-8 JSON: ${e.message}`, { cause: e });
  }
  validateSignature(sig);
  return sig;
}

function validateSignature(sig) {
  if (!sig || typeof sig !== 'object') fail('signature is not a JSON object');
  if (sig.version !== 1) fail(`unsupported signature version ${JSON.stringify(sig.version)} (expected 1)`);
  for (const kind of ['inputs', 'outputs']) {
    if (!Array.isArray(sig[kind])) fail(`signature.${kind} is not an array`);
    const seen = new Set();
    sig[kind].forEach((t, k) => {
      const where = `signature.${kind}[${k}]`;
      if (!t || typeof t.name !== 'string') fail(`${where}: missing name`);
      if (seen.has(t.name)) fail(`${where}: duplicate name '${t.name}'`);
      seen.add(t.name);
      if (!TYPED_ARRAYS[t.dtype]) fail(`${where} '${t.name}': unsupported dtype '${t.dtype}'`);
      if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
        fail(`${where} '${t.name}': shape must be an array of non-negative integers`);
      }
      if (t.storage !== undefined) {
        const st = t.storage;
        if (!st || !Number.isSafeInteger(st.axis) || st.axis < 0 || st.axis >= t.shape.length ||
            !Number.isSafeInteger(st.capacity) || st.capacity < t.shape[st.axis]) {
          fail(`${where} '${t.name}': bad storage ${JSON.stringify(st)}`);
        }
      }
      const want = storageShape(t).reduce((a, b) => a * b, 1) * TYPED_ARRAYS[t.dtype].BYTES_PER_ELEMENT;
      if (t.bytes !== undefined && t.bytes !== want) {
        fail(`${where} '${t.name}': bytes ${t.bytes} != ${want} for ${t.dtype}[${t.shape}]`);
      }
    });
  }
}

/** Shape of a tensor's storage: its shape at the bounds, with a resident cache's capacity. */
function storageShape(t) {
  return t.storage ? t.shape.map((d, i) => (i === t.storage.axis ? t.storage.capacity : d)) : t.shape;
}

/**
 * Copies between a dense tensor of shape `shape` and strided storage with `cap` slots on `axis`
 * (toStorage: dense -> storage). Both are byte views.
 */
function copyStrided(storage, dense, shape, axis, cap, esize, toStorage) {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1) * esize;
  const rowBytes = shape[axis] * inner, pitch = cap * inner;
  for (let o = 0; o < outer; o++) {
    const s = storage.subarray(o * pitch, o * pitch + rowBytes), d = dense.subarray(o * rowBytes, (o + 1) * rowBytes);
    if (toStorage) s.set(d); else d.set(s);
  }
}

/**
 * Compiles and instantiates an onnx2wasm module.
 * @param {string|URL|Response|Promise<Response>|ArrayBuffer|ArrayBufferView|WebAssembly.Module} source
 *   a URL or path (fetched in a page; read as a file in Node, Deno and Bun), a Response or the promise
 *   fetch() returns (compiled while it downloads when its Content-Type is application/wasm), the module's
 *   bytes, or a compiled WebAssembly.Module.
 * @param {{copyOutputs?: boolean, streaming?: boolean, worker?: boolean | string | URL}} [opts]
 *   copyOutputs (default true): run() returns fresh copies; false returns views into the
 *   module's memory, valid only until the next run().
 *   streaming (default true): false compiles a Response from its bytes (the weights then stay out of the
 *   compiled module, see "Large data segments" in docs/abi.md).
 *   worker: true runs the model in a Web Worker (browsers, Deno) or a worker thread (Node): only
 *   runAsync() then, and the page stays responsive while it runs. A string or URL names the loader module
 *   the worker imports (default: this file; give it when the loader is bundled).
 */
export async function load(source, opts = {}) {
  if (!isLittleEndian()) fail('big-endian hosts are not supported');
  const module = await toModule(source, opts);
  if (opts.worker) return loadInWorker(module, opts);
  return instantiate(module, opts, opts[SEGMENTS] || splitSegments.get(module) || []);
}

async function instantiate(module, opts, segments) {
  const copyOutputs = opts.copyOutputs !== false;
  const signature = readSignature(module);

  let instance;
  try {
    instance = await WebAssembly.instantiate(module, {});
  } catch (e) {
    const imports = WebAssembly.Module.imports(module).map((i) => `${i.module}.${i.name}`);
    fail(`instantiation failed${imports.length ? ` (module has imports: ${imports.join(', ')})` : ''}: ` +
         `${e.message}`, { cause: e });
  }
  const ex = instance.exports;
  if (!(ex.memory instanceof WebAssembly.Memory)) fail("module does not export 'memory'");
  if (typeof ex.run !== 'function') fail("module does not export function 'run'");
  for (const seg of segments) {                            // the segments toModule / loadFile split off
    const buf = ex.memory.buffer, { offset, n } = seg;
    if (offset + n > buf.byteLength) {
      fail(`instantiation failed: data segment [${offset}, ${offset + n}) is out of bounds of memory (${buf.byteLength} bytes)`);
    }
    if (seg.read) seg.read(new Uint8Array(buf, offset, n));
    else new Uint8Array(buf, offset, n).set(seg.bytes);
  }

  // Bind every tensor to its address: the exported global is authoritative, the signature's
  // offset (when present) must agree with it.
  const bind = (list, prefix) => list.map((t, k) => {
    const g = ex[`${prefix}_${k}`];
    if (!(g instanceof WebAssembly.Global)) fail(`module does not export global '${prefix}_${k}' ('${t.name}')`);
    const offset = g.value;
    if (t.offset !== undefined && t.offset !== offset) {
      fail(`${prefix}_${k} ('${t.name}') is at ${offset} but the signature says ${t.offset}`);
    }
    const T = TYPED_ARRAYS[t.dtype];
    const length = t.shape.reduce((a, b) => a * b, 1);
    const bytes = storageShape(t).reduce((a, b) => a * b, 1) * T.BYTES_PER_ELEMENT;
    if (offset < 0 || offset + bytes > ex.memory.buffer.byteLength) {
      fail(`${prefix}_${k} ('${t.name}') [${offset}, ${offset + bytes}) lies outside memory ` +
           `(${ex.memory.buffer.byteLength} bytes)`);
    }
    return { ...t, offset, bytes, length, T, dimFns: (t.dims || t.shape).map(compileDim) };
  });
  const ins = bind(signature.inputs, 'input');
  const outs = bind(signature.outputs, 'output');
  const inByName = new Map(ins.map((t) => [t.name, t]));
  const outByName = new Map(outs.map((t) => [t.name, t]));
  for (const t of ins) {
    if (t.resident_in === undefined) continue;
    const o = outByName.get(t.resident_in);
    if (!o || o.offset !== t.offset || !t.storage || !o.storage || o.storage.axis !== t.storage.axis ||
        o.storage.capacity !== t.storage.capacity || o.dtype !== t.dtype) {
      fail(`input '${t.name}': resident_in '${t.resident_in}' does not name an output with the same storage`);
    }
  }
  const rtSyms = signature.runtime_symbols || [];
  const rtByName = new Map(rtSyms.map((s) => [s.name, s]));
  const dimChecks = (signature.dim_checks || []).map((c) => ({ ...c, aFn: compileDim(c.a), bFn: compileDim(c.b) }));
  for (const s of rtSyms) {
    if (s.element !== undefined) {           // read from an input's element when the run starts
      const e = s.element;
      if (!ins.some((t) => t.name === e.input && ['int64', 'int32', 'float32', 'float64'].includes(t.dtype)) || !Number.isSafeInteger(e.index) || e.index < 0) {
        fail(`signature: dim '${s.name}' reads an element of '${e.input}', which is not an int64/int32/float32/float64 input`);
      }
      s.mapFns = (e.map || []).map((k) => ({ from: k.from, to: compileDim(k.to) }));
      continue;
    }
    if (s.derived === undefined) continue;
    if (typeof s.derived.num !== 'string' && typeof s.derived.num !== 'number') fail(`signature: derived dim '${s.name}' has no num`);
    if (!Number.isSafeInteger(s.derived.den) || s.derived.den < 1) fail(`signature: derived dim '${s.name}' has a bad den`);
    s.numFn = compileDim(s.derived.num);
  }
  const fixedSyms = { ...(signature.symbols || {}) };
  if (rtSyms.length && !Number.isSafeInteger(signature.dims_addr)) fail('signature has runtime_symbols but no dims_addr');
  let lastVals = null;                     // symbol values of the last run (null: none yet)

  // symbol values for this run: from opts.dims and from feeds given as {data, dims}
  function resolveDims(feeds, given) {
    const vals = { ...fixedSyms };
    const set = (name, v, where) => {
      if (!Number.isSafeInteger(v) || v < 0) fail(`${where}: dim '${name}' must be a non-negative integer, got ${v}`);
      if (vals[name] !== undefined && vals[name] !== v) fail(`${where}: dim '${name}' is ${v} here but ${vals[name]} elsewhere`);
      vals[name] = v;
    };
    for (const [k, v] of Object.entries(given || {})) {
      if (rtByName.get(k)?.derived) fail(`dim '${k}' is computed by the module from the other dims; it cannot be given`);
      if (rtByName.get(k)?.element) fail(`dim '${k}' is read by the module from the input '${rtByName.get(k).element.input}'; it cannot be given`);
      if (!rtByName.has(k) && fixedSyms[k] === undefined) {
        fail(`unknown dim '${k}'; the run-time dims are ${rtSyms.map((s) => `'${s.name}'`).join(', ') || '(none)'}`);
      }
      set(k, v, 'run options');
    }
    for (const t of ins) {
      const f = feeds[t.name];
      if (!f || f === RESIDENT || ArrayBuffer.isView(f) || !Array.isArray(f.dims)) continue;
      const dims = t.dims || t.shape;
      if (f.dims.length !== dims.length) fail(`input '${t.name}' has rank ${dims.length}, got dims [${f.dims}]`);
      dims.forEach((d, i) => { if (typeof d === 'string' && rtByName.has(d)) set(d, f.dims[i], `input '${t.name}'`); });
    }
    for (const s of rtSyms) {
      if (s.element) {                       // element e.index of input e.input (a value in e.map stands for a dim)
        const e = s.element, f = feeds[e.input];
        const data = f && !ArrayBuffer.isView(f) && f.data !== undefined ? f.data : f;
        if (!ArrayBuffer.isView(data) || data.length <= e.index) fail(`input '${e.input}' needs at least ${e.index + 1} elements (node '${e.node}' reads element ${e.index})`);
        const raw = Math.trunc(Number(data[e.index]));   // a float truncated toward zero (NaN: refused below)
        const k = s.mapFns.find((q) => q.from === raw);
        const v = k ? k.to(vals) : raw;
        if (!Number.isSafeInteger(v) || v < 0 || v > s.max) {
          fail(`node '${e.node}': element ${e.index} of input '${e.input}' is ${raw}${v !== raw ? ` (= ${v})` : ''}, outside [0, ${s.max}] (${s.max} is the model's declared dim or the bound this module was compiled for, --max-dim '${s.name}=...')`);
        }
        vals[s.name] = v;
        continue;
      }
      if (s.derived) {                       // computed from the dims before it: floor(num / den)
        const num = s.numFn(vals);
        if (num === undefined) fail(`signature: derived dim '${s.name}' reads a dim that has no value`);
        if (num < 0) fail(`the inputs are too small for the model: its dim '${s.name}' = floor((${s.derived.num}) / ${s.derived.den}) would be negative (${num} / ${s.derived.den})`);
        vals[s.name] = Math.floor(num / s.derived.den);
        continue;
      }
      if (vals[s.name] === undefined) {
        fail(`run-time dim '${s.name}' has no value: pass run(feeds, { dims: { ${s.name}: N } }) or feeds as { data, dims }`);
      }
      if (vals[s.name] > s.max) fail(`dim '${s.name}' = ${vals[s.name]} exceeds the bound ${s.max} this module was compiled for (--max-dim ${s.name}=...)`);
    }
    for (const c of dimChecks) {
      const a = c.aFn(vals), b = c.bFn(vals);
      if (a !== b) fail(`the input sizes${c.a.includes('[') || c.b.includes('[') ? ' or values' : ''} do not fit the model: node '${c.node}' needs ${c.a} (= ${a}) to equal ${c.b} (= ${b})`);
    }
    return vals;
  }
  const shapeOf = (t, vals) => t.dimFns.map((f) => f(vals));
  const lastShape = (t) => (lastVals && rtSyms.length ? shapeOf(t, lastVals) : [...t.shape]);
  const freeze = (t) => Object.freeze({
    name: t.name, dtype: t.dtype, dims: Object.freeze([...(t.dims || t.shape)]),
    shape: Object.freeze([...t.shape]), offset: t.offset, bytes: t.bytes,
    ...(t.storage ? { storage: Object.freeze({ ...t.storage }) } : {}),
    ...(t.resident_in !== undefined ? { resident_in: t.resident_in } : {}),
  });

  // Typed views of memory, made once per buffer (a grown memory detaches the old buffer).
  let viewBuf = null, dimsView = null;
  const inViews = new Array(ins.length);
  const views = () => {
    const buf = ex.memory.buffer;
    if (buf !== viewBuf) {
      viewBuf = buf;
      dimsView = rtSyms.length ? new Int32Array(buf, signature.dims_addr, rtSyms.length) : null;
      ins.forEach((t, i) => { inViews[i] = t.offset % t.T.BYTES_PER_ELEMENT === 0 && !t.storage ? new t.T(buf, t.offset, t.length) : null; });
    }
    return buf;
  };

  function run(feeds, runOpts = {}) {
    if (!feeds || typeof feeds !== 'object' || Array.isArray(feeds) || ArrayBuffer.isView(feeds)) {
      fail(`run() expects an object {inputName: TypedArray}, got ${describe(feeds)}`);
    }
    const vals = rtSyms.length ? resolveDims(feeds, runOpts.dims) : fixedSyms;
    const expected = () => ins.map((t) => `'${t.name}'`).join(', ') || '(none)';
    for (const name in feeds) {
      if (!inByName.has(name)) fail(`unknown input '${name}'; the model's inputs are ${expected()}`);
    }
    if (runOpts.outputs !== undefined) {
      for (const name of runOpts.outputs) if (!outByName.has(name)) fail(`unknown output '${name}' in run options`);
    }
    // Validate everything before touching memory.
    const xs = new Array(ins.length), shapes = new Array(ins.length);
    for (let i = 0; i < ins.length; i++) {
      const t = ins[i], f = feeds[t.name];
      if (f === undefined && !Object.prototype.hasOwnProperty.call(feeds, t.name)) {
        fail(`missing input '${t.name}' (${t.dtype}[${t.shape}]); the model's inputs are ${expected()}`);
      }
      const x = f && f !== RESIDENT && !ArrayBuffer.isView(f) && f.data !== undefined ? f.data : f;
      xs[i] = x;
      if (x === RESIDENT) {
        if (t.resident_in === undefined) fail(`input '${t.name}' is not resident: RESIDENT can only be fed to inputs with resident_in`);
        continue;
      }
      if (f !== x && typeof f.type === 'string' && f.type !== t.dtype) {      // a Tensor (ours or onnxruntime's)
        fail(`input '${t.name}' is ${t.dtype}, got a tensor of type '${f.type}'`);
      }
      if (!(x instanceof t.T) && typedArrayKind(x) !== t.T.name) {
        fail(`input '${t.name}' is ${t.dtype}: expected ${t.T.name}, got ${describe(x)}`);
      }
      const shape = rtSyms.length ? shapeOf(t, vals) : t.shape;
      let n = 1;
      for (const d of shape) n *= d;
      shapes[i] = shape;
      if (f !== x && Array.isArray(f.dims) && (f.dims.length !== shape.length || f.dims.some((d, k) => d !== shape[k]))) {
        fail(`input '${t.name}' has shape [${shape}] (${t.dtype}), got dims [${f.dims}]`);
      }
      if (x.length !== n) fail(`input '${t.name}' needs ${n} elements (${t.dtype}[${shape}]), got ${x.length}`);
    }
    const buf = views();
    if (dimsView) for (const s of rtSyms) dimsView[s.index] = vals[s.name];
    for (let i = 0; i < ins.length; i++) {
      const t = ins[i], x = xs[i];
      if (x === RESIDENT) continue;
      if (inViews[i] && x instanceof t.T) { inViews[i].set(x); continue; }
      const nb = x.length * t.T.BYTES_PER_ELEMENT, src = new Uint8Array(x.buffer, x.byteOffset, nb);
      if (t.storage) {
        copyStrided(new Uint8Array(buf, t.offset, t.bytes), src, shapes[i], t.storage.axis, t.storage.capacity, t.T.BYTES_PER_ELEMENT, true);
      } else {
        new Uint8Array(buf, t.offset, nb).set(src);
      }
    }
    let status;
    try {
      status = ex.run();
    } catch (e) {
      fail(`run() trapped: ${e.message}`, { cause: e });
    }
    if (status === 1 && rtSyms.length) fail('run() refused the dims: a run-time dim exceeds its bound or the inputs are too small');
    if (status !== 0) fail(`run() returned status ${status}`);
    const result = {};
    lastVals = vals;
    if (runOpts.outputs === undefined) {
      for (const t of outs) result[t.name] = readOutput(t.name, undefined, copyOutputs);
    } else {
      for (const name of runOpts.outputs) result[name] = readOutput(name, undefined, copyOutputs);
    }
    return result;
  }

  /**
   * Output `name` as left in memory (by the last run, or by feeds of its resident input), at
   * `shape`: by default the last run's shape. A resident cache (with `storage`) can be read at any
   * length along its storage axis up to the capacity, e.g. the first `past` rows.
   */
  function readOutput(name, shape, copy = true) {
    const t = outByName.get(name);
    if (!t) fail(`unknown output '${name}'`);
    const last = lastShape(t);
    shape = shape ? [...shape] : last;
    const fits = shape.length === last.length && shape.every((d, i) => (t.storage && i === t.storage.axis
      ? Number.isSafeInteger(d) && d >= 0 && d <= t.storage.capacity : d === last[i]));
    if (!fits) fail(`readOutput('${name}'): shape [${shape}] does not fit its storage (last run: [${last}])`);
    const buf = ex.memory.buffer, n = shape.reduce((a, b) => a * b, 1), nb = n * t.T.BYTES_PER_ELEMENT;
    if (t.storage) {
      const out = new t.T(n);
      copyStrided(new Uint8Array(buf, t.offset, t.bytes), new Uint8Array(out.buffer), shape, t.storage.axis,
                  t.storage.capacity, t.T.BYTES_PER_ELEMENT, false);
      return out;
    }
    // A view needs an aligned offset; misaligned outputs are always copied.
    return copy || t.offset % t.T.BYTES_PER_ELEMENT !== 0 ? new t.T(buf.slice(t.offset, t.offset + nb)) : new t.T(buf, t.offset, n);
  }

  /** The shape of output `name` in the last run (the compiled shape before any run). */
  function outputShape(name) {
    const t = outByName.get(name);
    if (!t) fail(`unknown output '${name}'`);
    return lastShape(t);
  }

  /** run() with the outputs as Tensors ({type, data, dims}), as a promise (this thread: run() itself). */
  async function runAsync(feeds, runOpts = {}) {
    const out = run(feeds, runOpts);
    const result = {};
    for (const name of Object.keys(out)) result[name] = new Tensor(outByName.get(name).dtype, out[name], outputShape(name));
    return result;
  }

  return {
    inputs: Object.freeze(ins.map(freeze)),
    outputs: Object.freeze(outs.map(freeze)),
    symbols: Object.freeze({ ...(signature.symbols || {}) }),
    runtimeSymbols: Object.freeze(rtSyms.map((s) => Object.freeze({ ...s }))),
    outputShape,
    readOutput,
    signature,
    memory: ex.memory,
    module,
    instance,
    run,
    runAsync,
    worker: false,
    dispose() {},
  };
}

// ---------------------------------------------------------------- tensors

/** A tensor as onnxruntime-web has it: `type` (an ABI dtype), `data` (its typed array), `dims`. A feed may be one. */
export class Tensor {
  /**
   * @param {string} type a dtype: 'float32', 'int64', 'bool', ... (TYPED_ARRAYS)
   * @param {ArrayBufferView} data the typed array of that dtype (not copied)
   * @param {ReadonlyArray<number>} [dims] default [data.length]
   */
  constructor(type, data, dims) {
    const T = TYPED_ARRAYS[type];
    if (!T) fail(`unknown tensor type '${type}'; the types are ${Object.keys(TYPED_ARRAYS).join(', ')}`);
    if (!(data instanceof T) && typedArrayKind(data) !== T.name) fail(`a ${type} tensor holds a ${T.name}, got ${describe(data)}`);
    dims = dims === undefined ? [data.length] : [...dims];
    if (!dims.every((d) => Number.isSafeInteger(d) && d >= 0)) fail(`tensor dims must be non-negative integers, got [${dims}]`);
    const n = dims.reduce((a, b) => a * b, 1);
    if (n !== data.length) fail(`tensor dims [${dims}] need ${n} elements, got ${data.length}`);
    this.type = type;
    this.data = data;
    this.dims = Object.freeze(dims);
  }
  /** the element count */
  get size() { return this.data.length; }
}

// ---------------------------------------------------------------- images

/** torchvision's ImageNet normalization (RGB, of values in [0, 1]). */
export const IMAGENET_MEAN = Object.freeze([0.485, 0.456, 0.406]);
export const IMAGENET_STD = Object.freeze([0.229, 0.224, 0.225]);

/**
 * RGBA pixels (an ImageData, or any {data, width, height} with 4 bytes a pixel) to a float32 Tensor
 * [1, C, height, width] (NCHW; `layout: 'NHWC'` gives [1, height, width, C]): value = (byte * scale - mean[c]) / std[c].
 * Options: mean, std (one per channel; default 0 and 1), scale (default 1/255), channels 3 (RGB, default),
 * 1 (the mean of R, G, B) or 4 (RGBA), bgr (channels in B, G, R order), out (a Float32Array to fill).
 * It does not resize: draw the image at the model's size first (canvas drawImage).
 */
export function imageToTensor(image, opts = {}) {
  const { width, height, data } = image || {};
  if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width < 1 || height < 1 || !data ||
      data.length !== width * height * 4) {
    fail(`imageToTensor() expects RGBA pixels {data, width, height} (an ImageData), got ${describe(image)}` +
         (data && Number.isSafeInteger(width) && Number.isSafeInteger(height) ? ` with ${data.length} bytes for ${width}x${height}` : ''));
  }
  const C = opts.channels ?? 3;
  if (C !== 1 && C !== 3 && C !== 4) fail(`imageToTensor(): channels must be 1, 3 or 4, got ${C}`);
  const layout = opts.layout ?? 'NCHW';
  if (layout !== 'NCHW' && layout !== 'NHWC') fail(`imageToTensor(): layout must be 'NCHW' or 'NHWC', got '${layout}'`);
  const perChannel = (v, name, dflt) => {
    if (v === undefined) return new Array(C).fill(dflt);
    if (typeof v === 'number') return new Array(C).fill(v);
    if (v.length !== C || ![...v].every(Number.isFinite)) fail(`imageToTensor(): ${name} needs ${C} numbers, got [${v}]`);
    return [...v];
  };
  const mean = perChannel(opts.mean, 'mean', 0), std = perChannel(opts.std, 'std', 1);
  if (std.some((x) => x === 0)) fail('imageToTensor(): std has a 0');
  const scale = opts.scale ?? 1 / 255, hw = width * height, n = hw * C;
  const out = opts.out ?? new Float32Array(n);
  if (!(out instanceof Float32Array) || out.length !== n) fail(`imageToTensor(): out must be a Float32Array(${n}), got ${describe(out)}`);
  const order = C === 1 ? [-1] : opts.bgr ? [2, 1, 0, 3].slice(0, C) : [0, 1, 2, 3].slice(0, C);
  for (let c = 0; c < C; c++) {
    const src = order[c], m = mean[c], sd = std[c];
    const base = layout === 'NCHW' ? c * hw : c, step = layout === 'NCHW' ? 1 : C;
    for (let p = 0, o = base; p < hw; p++, o += step) {
      const v = src < 0 ? (data[4 * p] + data[4 * p + 1] + data[4 * p + 2]) / 3 : data[4 * p + src];
      out[o] = (v * scale - m) / sd;
    }
  }
  return new Tensor('float32', out, layout === 'NCHW' ? [1, C, height, width] : [1, height, width, C]);
}

/** The k largest values of scores (a typed array or array), as [{index, value}], largest first. */
export function topK(scores, k = 5) {
  const best = [];
  for (let i = 0; i < scores.length; i++) {
    const v = Number(scores[i]);
    if (best.length === k && !(v > best[k - 1].value)) continue;
    let j = Math.min(best.length, k - 1);
    while (j > 0 && best[j - 1].value < v) j--;
    best.splice(j, 0, { index: i, value: v });
    if (best.length > k) best.pop();
  }
  return best;
}

/** softmax of logits, as a Float32Array (max subtracted first). */
export function softmax(logits) {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, Number(v));
  const out = new Float32Array(logits.length);
  let sum = 0;
  for (let i = 0; i < out.length; i++) sum += (out[i] = Math.exp(Number(logits[i]) - max));
  for (let i = 0; i < out.length; i++) out[i] /= sum;
  return out;
}

// ---------------------------------------------------------------- worker

// load(src, { worker: true }): the module is compiled here (its signature read here too), then instantiated and
// run in a worker; runAsync posts the feeds and resolves with the outputs, transferred back. The worker is this
// file: a module Web Worker named WORKER_NAME serves itself (below), a Node worker thread imports it and calls
// serveNodeWorker. Runs are answered in order; errors come back with their message.
const WORKER_NAME = 'onnx2wasm-worker';
const RESIDENT_MARK = '\u0000onnx2wasm.resident';

async function loadInWorker(module, opts) {
  const signature = readSignature(module);
  const loaderUrl = String(opts.worker === true ? import.meta.url : opts.worker);
  // the split-off weights travel with the module (a module compiled from bytes has them empty)
  const segments = (opts[SEGMENTS] || splitSegments.get(module) || []).map((s) => {
    let bytes = s.bytes;
    if (!bytes) { bytes = new Uint8Array(s.n); s.read(bytes); }
    return { offset: s.offset, n: s.n, bytes };
  });
  let post, onMessage, terminate, ref = () => {}, unref = () => {};
  // Bun has Web Workers but gives them no name (nor WorkerGlobalScope) to recognize the loader's own by: it takes
  // the worker-thread path, which it implements as Node does
  if (typeof Worker === 'function' && typeof Bun === 'undefined') {     // browsers, Deno
    const w = new Worker(loaderUrl, { type: 'module', name: WORKER_NAME });
    post = (m, transfer) => w.postMessage(m, transfer);
    onMessage = (fn) => {
      w.onmessage = (e) => fn(e.data);
      w.onerror = (e) => { e.preventDefault?.(); fn({ op: 'died', message: e.message || 'the worker failed to start' }); };
    };
    terminate = () => w.terminate();
  } else {                                                              // Node, Bun: a worker thread
    const wtName = 'node:worker_threads';                               // (Node only)
    const { Worker: NodeWorker } = await import(/* @vite-ignore */ wtName);
    const w = new NodeWorker(`import(${JSON.stringify(loaderUrl)}).then((m) => m.serveNodeWorker())`, { eval: true });
    post = (m, transfer) => w.postMessage(m, transfer);
    onMessage = (fn) => {
      w.on('message', fn);
      w.on('error', (e) => fn({ op: 'died', message: e.message }));
    };
    terminate = () => w.terminate();
    ref = () => w.ref();
    unref = () => w.unref();
  }
  const pending = new Map();
  let nextId = 0, dead = null, lastDims = null;
  let ready;
  const loaded = new Promise((resolve, reject) => { ready = { resolve, reject }; });
  onMessage((m) => {
    if (m.op === 'loaded') { ready.resolve(m); return; }
    if (m.op === 'died' || (m.op === 'error' && m.id === undefined)) {
      dead = m.message.replace(/^onnx2wasm: /, '');
      ready.reject(new Onnx2WasmError(dead));
      for (const p of pending.values()) p.reject(new Onnx2WasmError(dead));
      pending.clear();
      return;
    }
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (!pending.size) unref();
    if (m.op === 'error') p.reject(new Onnx2WasmError(m.message.replace(/^onnx2wasm: /, '')));
    else p.resolve(m);
  });
  ref();
  post({ op: 'load', module, segments, copyOutputs: true });
  let info;
  try {
    info = await loaded;
  } catch (e) {
    terminate();
    throw e;
  }
  unref();
  const outByName = new Map(info.outputs.map((t) => [t.name, t]));

  async function runAsync(feeds, runOpts = {}) {
    if (dead) fail(`the model's worker has stopped: ${dead}`);
    if (!feeds || typeof feeds !== 'object' || Array.isArray(feeds) || ArrayBuffer.isView(feeds)) {
      fail(`run() expects an object {inputName: TypedArray}, got ${describe(feeds)}`);
    }
    const sent = {};
    for (const [name, f] of Object.entries(feeds)) {
      if (f === RESIDENT) sent[name] = RESIDENT_MARK;
      else if (f && !ArrayBuffer.isView(f) && typeof f === 'object') {
        sent[name] = { data: f.data, ...(f.dims !== undefined ? { dims: [...f.dims] } : {}), ...(typeof f.type === 'string' ? { type: f.type } : {}) };
      } else sent[name] = f;
    }
    const id = nextId++;
    const answer = new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    if (pending.size === 1) ref();
    try {
      post({ op: 'run', id, feeds: sent, opts: { ...(runOpts.dims ? { dims: { ...runOpts.dims } } : {}), ...(runOpts.outputs ? { outputs: [...runOpts.outputs] } : {}) } });
    } catch (e) {
      pending.delete(id);
      if (!pending.size) unref();
      fail(`cannot send the feeds to the worker: ${e.message}`, { cause: e });
    }
    const m = await answer;
    lastDims = m.dims;
    const result = {};
    for (const name of Object.keys(m.outputs)) result[name] = new Tensor(outByName.get(name).dtype, m.outputs[name], m.dims[name]);
    return result;
  }
  const notHere = (what) => () => fail(`${what}: this model runs in a worker (load(..., { worker: true })); use await model.runAsync(feeds)`);
  return {
    inputs: Object.freeze(info.inputs.map((t) => Object.freeze(t))),
    outputs: Object.freeze(info.outputs.map((t) => Object.freeze(t))),
    symbols: Object.freeze(info.symbols),
    runtimeSymbols: Object.freeze(info.runtimeSymbols.map((s) => Object.freeze(s))),
    outputShape(name) {
      const t = outByName.get(name);
      if (!t) fail(`unknown output '${name}'`);
      return lastDims && lastDims[name] ? [...lastDims[name]] : [...t.shape];
    },
    readOutput: notHere('readOutput()'),
    signature,
    memory: undefined,
    module,
    instance: undefined,
    run: notHere('run()'),
    runAsync,
    worker: true,
    /** ends the worker; pending runs are rejected */
    dispose() {
      dead = 'disposed';
      for (const p of pending.values()) p.reject(new Onnx2WasmError('the model was disposed'));
      pending.clear();
      terminate();
    },
  };
}

const SEGMENTS = Symbol('onnx2wasm.segments');

// The worker's side: answers 'load' once, then 'run' messages in order.
function serve(post, listen) {
  let model = null;
  listen(async (m) => {
    if (m.op === 'load') {
      try {
        model = await load(m.module, { copyOutputs: true, [SEGMENTS]: m.segments });
        const plain = (t) => JSON.parse(JSON.stringify(t));
        post({ op: 'loaded', inputs: model.inputs.map(plain), outputs: model.outputs.map(plain),
               symbols: { ...model.symbols }, runtimeSymbols: model.runtimeSymbols.map(plain) });
      } catch (e) {
        post({ op: 'error', message: e.message });
      }
      return;
    }
    if (m.op !== 'run') return;
    try {
      const feeds = {};
      for (const [name, f] of Object.entries(m.feeds)) feeds[name] = f === RESIDENT_MARK ? RESIDENT : f;
      const out = model.run(feeds, m.opts);
      const dims = {};
      for (const name of Object.keys(out)) dims[name] = model.outputShape(name);
      post({ op: 'result', id: m.id, outputs: out, dims }, Object.values(out).map((a) => a.buffer));
    } catch (e) {
      post({ op: 'error', id: m.id, message: e.message });
    }
  });
}

/** The entry of a Node worker thread made by load(..., { worker: true }); not for other use. */
export async function serveNodeWorker() {
  const wtName = 'node:worker_threads';                                 // (Node only)
  const { parentPort } = await import(/* @vite-ignore */ wtName);
  serve((m, transfer) => parentPort.postMessage(m, transfer), (fn) => parentPort.on('message', fn));
}

if (typeof WorkerGlobalScope !== 'undefined' && globalThis instanceof WorkerGlobalScope && globalThis.name === WORKER_NAME) {
  serve((m, transfer) => globalThis.postMessage(m, transfer), (fn) => { globalThis.onmessage = (e) => fn(e.data); });
}
