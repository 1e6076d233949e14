// Loader for onnx2wasm modules (docs/abi.md): compile, read the signature section, instantiate, run.
//
// Browser-safe: uses only WebAssembly, TextDecoder and typed arrays (no Node imports).
//
//   import { load } from './onnx2wasm.mjs';
//   const model = await load(bytes);                 // bytes: ArrayBuffer | TypedArray | Module | Response
//   const out = model.run({ input: new Float32Array(3 * 224 * 224) });
//   out.output                                       // Float32Array(1000), a fresh copy

export const SIGNATURE_SECTION = 'onnx2wasm.signature';

/** ABI dtype -> typed-array constructor that carries it. */
export const TYPED_ARRAYS = Object.freeze({
  float32: Float32Array, float64: Float64Array, float16: Uint16Array,
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

async function toModule(src) {
  if (src instanceof WebAssembly.Module) return src;
  if (typeof Response !== 'undefined' && src instanceof Response) {
    if (!src.ok) fail(`fetching module failed: HTTP ${src.status}`);
    src = await src.arrayBuffer();
  }
  if (src instanceof ArrayBuffer || ArrayBuffer.isView(src) ||
      (typeof SharedArrayBuffer !== 'undefined' && src instanceof SharedArrayBuffer)) {
    try {
      return await WebAssembly.compile(src);
    } catch (e) {
      fail(`not a valid WebAssembly module: ${e.message}`, { cause: e });
    }
  }
  fail(`load() expects wasm bytes (ArrayBuffer/TypedArray), a WebAssembly.Module or a Response, ` +
       `got ${describe(src)}`);
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
      const want = t.shape.reduce((a, b) => a * b, 1) * TYPED_ARRAYS[t.dtype].BYTES_PER_ELEMENT;
      if (t.bytes !== undefined && t.bytes !== want) {
        fail(`${where} '${t.name}': bytes ${t.bytes} != ${want} for ${t.dtype}[${t.shape}]`);
      }
    });
  }
}

/**
 * Compiles and instantiates an onnx2wasm module.
 * @param {ArrayBuffer|ArrayBufferView|WebAssembly.Module|Response} bytesOrModule
 * @param {{copyOutputs?: boolean}} [opts]
 *   copyOutputs (default true): run() returns fresh copies; false returns views into the
 *   module's memory, valid only until the next run().
 */
export async function load(bytesOrModule, opts = {}) {
  if (!isLittleEndian()) fail('big-endian hosts are not supported');
  const copyOutputs = opts.copyOutputs !== false;
  const module = await toModule(bytesOrModule);
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
    const bytes = length * T.BYTES_PER_ELEMENT;
    if (offset < 0 || offset + bytes > ex.memory.buffer.byteLength) {
      fail(`${prefix}_${k} ('${t.name}') [${offset}, ${offset + bytes}) lies outside memory ` +
           `(${ex.memory.buffer.byteLength} bytes)`);
    }
    return { ...t, offset, bytes, length, T };
  });
  const ins = bind(signature.inputs, 'input');
  const outs = bind(signature.outputs, 'output');
  const inByName = new Map(ins.map((t) => [t.name, t]));
  const freeze = (t) => Object.freeze({
    name: t.name, dtype: t.dtype, dims: Object.freeze([...(t.dims || t.shape)]),
    shape: Object.freeze([...t.shape]), offset: t.offset, bytes: t.bytes,
  });

  function run(feeds) {
    if (!feeds || typeof feeds !== 'object' || Array.isArray(feeds) || ArrayBuffer.isView(feeds)) {
      fail(`run() expects an object {inputName: TypedArray}, got ${describe(feeds)}`);
    }
    const expected = ins.map((t) => `'${t.name}'`).join(', ') || '(none)';
    for (const name of Object.keys(feeds)) {
      if (!inByName.has(name)) fail(`unknown input '${name}'; the model's inputs are ${expected}`);
    }
    // Validate everything before touching memory.
    for (const t of ins) {
      if (!Object.prototype.hasOwnProperty.call(feeds, t.name)) {
        fail(`missing input '${t.name}' (${t.dtype}[${t.shape}]); the model's inputs are ${expected}`);
      }
      const x = feeds[t.name];
      const kind = typedArrayKind(x);
      if (kind !== t.T.name) {
        fail(`input '${t.name}' is ${t.dtype}: expected ${t.T.name}, got ${describe(x)}`);
      }
      if (x.length !== t.length) {
        fail(`input '${t.name}' needs ${t.length} elements (${t.dtype}[${t.shape}]), got ${x.length}`);
      }
    }
    let buf = ex.memory.buffer; // re-read each run: a grown memory detaches the old buffer
    for (const t of ins) {
      const x = feeds[t.name];
      new Uint8Array(buf, t.offset, t.bytes).set(new Uint8Array(x.buffer, x.byteOffset, t.bytes));
    }
    let status;
    try {
      status = ex.run();
    } catch (e) {
      fail(`run() trapped: ${e.message}`, { cause: e });
    }
    if (status !== 0) fail(`run() returned status ${status}`);
    buf = ex.memory.buffer;
    const result = {};
    for (const t of outs) {
      // A view needs an aligned offset; misaligned outputs are always copied.
      result[t.name] = copyOutputs || t.offset % t.T.BYTES_PER_ELEMENT !== 0
        ? new t.T(buf.slice(t.offset, t.offset + t.bytes))
        : new t.T(buf, t.offset, t.length);
    }
    return result;
  }

  return {
    inputs: Object.freeze(ins.map(freeze)),
    outputs: Object.freeze(outs.map(freeze)),
    symbols: Object.freeze({ ...(signature.symbols || {}) }),
    signature,
    memory: ex.memory,
    module,
    instance,
    run,
  };
}
