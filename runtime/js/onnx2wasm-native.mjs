// onnx2wasm-native.mjs — a native model library (.so) behind the interface of the wasm loader's model
// object, for the runner and the tests: inputs, outputs, run(feeds, { dims }), outputShape(name), plus
// bench(feeds, n, { dims }) with the timings taken natively.
//
// Node cannot load a shared library itself, so each call runs runtime/native/host.c (the
// onnx2wasm-native-host program) on files in a temporary directory. O2W_NATIVE_HOST names that program,
// optionally with a prefix (e.g. "qemu-aarch64 -L /usr/aarch64-linux-gnu build/native-host-aarch64" runs
// an AArch64 library under qemu-user).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
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

export function loadNative(file) {
  const lib = path.resolve(file);   // dlopen searches the library path for a name without a slash
  const signature = JSON.parse(host(lib, ['--signature']));
  const rtSyms = signature.runtime_symbols || [];
  const info = (t) => Object.freeze({
    name: t.name, dtype: t.dtype, dims: Object.freeze([...(t.dims || t.shape)]), shape: Object.freeze([...t.shape]),
    offset: t.offset, bytes: t.bytes, T: TYPED_ARRAYS[t.dtype],
  });
  const inputs = Object.freeze(signature.inputs.map(info));
  const outputs = Object.freeze(signature.outputs.map(info));
  let lastShapes = outputs.map((o) => [...o.shape]);

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
    run(feeds, opts = {}) { return call(feeds, opts, 0).result; },
    /** n timed runs after one warm-up, inside the host process: {load_ms, first_ms, times_ms, result} */
    bench(feeds, n, opts = {}) { const { result, timing } = call(feeds, opts, n); return { ...timing, result }; },
    outputShape(name) {
      const k = outputs.findIndex((o) => o.name === name);
      if (k < 0) throw new Error(`unknown output '${name}'`);
      return lastShapes[k];
    },
    evalDim,
  };
}
