// onnx2wasm-native.mjs — a native model library (.so) behind the interface of the wasm loader's model
// object, for the runner and the tests: inputs, outputs, run(feeds, { dims }), outputShape(name), plus
// bench(feeds, n, { dims }) with the timings taken natively.
//
// A library built for this process's architecture is loaded in-process by the Node-API addon
// o2w_native.node (runtime/native/node_addon.c; O2W_NATIVE_ADDON gives its path), so it runs beside
// onnxruntime-node in one process. Any other (an AArch64 library on x86-64) runs in a host process,
// runtime/native/host.c (onnx2wasm-native-host), on files in a temporary directory: O2W_NATIVE_HOST names
// that program, optionally with a prefix ("qemu-aarch64 -L /usr/aarch64-linux-gnu build/a64/host").
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { TYPED_ARRAYS, evalDim } from './onnx2wasm.mjs';

export function isNativeLibrary(file) { return /\.so$/.test(file); }

function hostCommand() {
  const cmd = (process.env.O2W_NATIVE_HOST || 'onnx2wasm-native-host').trim().split(/\s+/);
  return { exe: cmd[0], pre: cmd.slice(1) };
}

function host(lib, args) {
  const { exe, pre } = hostCommand();
  const r = spawnSync(exe, [...pre, lib, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.error) throw new Error(`cannot run ${exe}: ${r.error.message} (set O2W_NATIVE_HOST)`);
  if (r.status !== 0) {
    const e = new Error((r.stderr || '').trim() || `${exe} exited with status ${r.status}`);
    e.status = r.status;
    throw e;
  }
  return r.stdout;
}

const ELF_MACHINE = { x64: 62, arm64: 183 };
function sameArch(lib) {
  const b = Buffer.alloc(20);
  const fd = fs.openSync(lib, 'r');
  try { fs.readSync(fd, b, 0, 20, 0); } finally { fs.closeSync(fd); }
  return b.readUInt32BE(0) === 0x7f454c46 && b.readUInt16LE(18) === ELF_MACHINE[process.arch];
}
let addon;
function loadAddon() {
  if (addon === undefined) {
    const f = process.env.O2W_NATIVE_ADDON;
    addon = f && fs.existsSync(f) ? createRequire(import.meta.url)(path.resolve(f)) : null;
  }
  return addon;
}

// dlopen returns the library already loaded under a path, even when the file has been replaced since:
// a path seen before with another identity is loaded through a fresh copy
const loaded = new Map();
let copies = 0;
function openFresh(ad, lib) {
  const st = fs.statSync(lib), id = `${st.ino}:${st.size}:${st.mtimeMs}`;
  const seen = loaded.get(lib);
  if (seen === undefined || seen === id) { loaded.set(lib, id); return ad.open(lib); }
  const copy = path.join(os.tmpdir(), `o2w-native-${process.pid}-${copies++}.so`);
  fs.copyFileSync(lib, copy);
  try { return ad.open(copy); } finally { fs.rmSync(copy, { force: true }); }
}

/** In-process (the addon) when the library is for this machine, else through the host program. */
export function loadNative(file, { inProcess = true } = {}) {
  const lib = path.resolve(file);   // dlopen searches the library path for a name without a slash
  const ad = inProcess && sameArch(lib) ? loadAddon() : null;
  const h = ad ? openFresh(ad, lib) : null;
  const signature = JSON.parse(ad ? ad.signature(h) : host(lib, ['--signature']));
  const rtSyms = (signature.runtime_symbols || []).filter((s) => !s.derived && !s.element);   // derived and element dims: run computes them
  const elemSyms = (signature.runtime_symbols || []).filter((s) => s.element);
  const info = (t) => Object.freeze({
    name: t.name, dtype: t.dtype, dims: Object.freeze([...(t.dims || t.shape)]), shape: Object.freeze([...t.shape]),
    offset: t.offset, bytes: t.bytes, T: TYPED_ARRAYS[t.dtype],
  });
  const inputs = Object.freeze(signature.inputs.map(info));
  const outputs = Object.freeze(signature.outputs.map(info));
  let lastShapes = outputs.map((o) => [...o.shape]), lastResult = {};

  // run-time dims: given, or read from feeds passed as {data, dims}, or solved from the element count of
  // an input with exactly one run-time dim
  function resolveDims(feeds, given = {}) {
    const vals = { ...given };
    for (const t of inputs) {
      const f = feeds[t.name];
      t.dims.forEach((d, i) => {
        if (typeof d !== 'string' || !rtSyms.some((s) => s.name === d) || d in vals) return;
        if (f && Array.isArray(f.dims)) { vals[d] = f.dims[i]; return; }
        const data = f && f.data !== undefined ? f.data : f;
        const syms = t.dims.filter((x) => typeof x === 'string');
        if (ArrayBuffer.isView(data) && syms.length === 1) {
          const rest = t.dims.reduce((a, x) => (typeof x === 'string' ? a : a * x), 1);
          if (rest > 0 && data.length % rest === 0) vals[d] = data.length / rest;
        }
      });
    }
    for (const s of rtSyms) if (!(s.name in vals)) vals[s.name] = s.max;
    return vals;
  }

  const bytesOf = (t, f) => {
    const data = f && f.data !== undefined ? f.data : f;
    if (!ArrayBuffer.isView(data)) throw new Error(`missing input '${t.name}'`);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  };
  // in-process: one run, inputs copied in and outputs out (what the wasm loader's run does)
  function runHere(feeds, opts) {
    const vals = rtSyms.length ? resolveDims(feeds, opts.dims) : {};
    for (const [k, v] of Object.entries(vals)) {
      const r = ad.setDim(h, k, v);
      if (r) throw Object.assign(new Error(r === 1 ? `dim '${k}' = ${v} exceeds its bound` : `unknown dim '${k}'`), { status: 3 });
    }
    const st = ad.run(h, inputs.map((t) => bytesOf(t, feeds[t.name])));
    if (st === 1) {
      const checks = (signature.dim_checks || []).map((c) => `${c.a} == ${c.b} (node '${c.node}')`).join('; ');
      const elems = elemSyms.map((s) => `${s.name} in [0, ${s.max}] (node '${s.element.node}')`).join('; ');
      throw Object.assign(new Error(`run() refused the dims: a dim exceeds its bound or the input sizes do not fit the model${checks ? `; it needs ${checks}` : ''}${elems ? `; it reads ${elems}` : ''}`), { status: 3 });
    }
    if (st) throw Object.assign(new Error(`run() returned status ${st}`), { status: 3 });
    const result = {};
    outputs.forEach((t, k) => { result[t.name] = new t.T(ad.output(h, k)); });
    lastShapes = outputs.map((t, k) => ad.outputShape(h, k));
    lastResult = result;
    return result;
  }
  function benchHere(feeds, n, opts) {
    const now = () => performance.now();
    let t = now();
    const result = runHere(feeds, opts);
    const first = now() - t, times = [];
    for (let i = 0; i < n; i++) { t = now(); runHere(feeds, opts); times.push(now() - t); }
    return { status: 0, load_ms: 0, first_ms: first, times_ms: times, result };
  }

  function call(feeds, opts, bench) {
    const vals = rtSyms.length ? resolveDims(feeds, opts.dims) : {};
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2w-native-'));
    try {
      inputs.forEach((t, k) => {
        const f = feeds[t.name];
        const data = f && f.data !== undefined ? f.data : f;
        if (!ArrayBuffer.isView(data)) throw new Error(`missing input '${t.name}'`);
        fs.writeFileSync(path.join(dir, `in_${k}.bin`), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      });
      const args = ['--run', dir, ...Object.entries(vals).flatMap(([k, v]) => ['--dim', `${k}=${v}`])];
      if (bench) args.push('--bench', String(bench));
      const r = JSON.parse(host(lib, args));
      lastShapes = r.shapes;
      const result = {};
      lastResult = result;
      outputs.forEach((t, k) => {
        const b = fs.readFileSync(path.join(dir, `out_${k}.bin`));
        const copy = new Uint8Array(b.byteLength);
        copy.set(b);
        result[t.name] = new t.T(copy.buffer, 0, copy.byteLength / t.T.BYTES_PER_ELEMENT);
      });
      return { result, timing: r };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  return {
    native: true,
    signature, inputs, outputs,
    symbols: Object.freeze({ ...(signature.symbols || {}) }),
    runtimeSymbols: Object.freeze(rtSyms.map((s) => Object.freeze({ ...s }))),
    inProcess: !!ad,
    run(feeds, opts = {}) { return ad ? runHere(feeds, opts) : call(feeds, opts, 0).result; },
    /** n timed runs after one warm-up (in the host process when not in-process): {load_ms, first_ms, times_ms, result} */
    bench(feeds, n, opts = {}) {
      if (ad) return benchHere(feeds, n, opts);
      const { result, timing } = call(feeds, opts, n);
      return { ...timing, result };
    },
    /** Output `name` of the last run at its shape then (a native library has no resident caches). */
    readOutput(name, shape) {
      const k = outputs.findIndex((o) => o.name === name);
      if (k < 0) throw new Error(`unknown output '${name}'`);
      if (shape && (shape.length !== lastShapes[k].length || shape.some((d, i) => d !== lastShapes[k][i]))) {
        throw new Error(`readOutput('${name}'): shape [${shape}] is not the last run's [${lastShapes[k]}]`);
      }
      return lastResult[name];
    },
    outputShape(name) {
      const k = outputs.findIndex((o) => o.name === name);
      if (k < 0) throw new Error(`unknown output '${name}'`);
      return lastShapes[k];
    },
    evalDim,
  };
}
