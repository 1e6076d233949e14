// onnx2wasm-node.mjs — Node-only additions to the loader (onnx2wasm.mjs stays browser-safe).
//
//   import { loadFile } from './onnx2wasm-node.mjs';
//   const model = await loadFile('model.wasm');            // same Model as load(bytes)
import fs from 'node:fs';
import { loadFromSource, Onnx2WasmError } from './onnx2wasm.mjs';

const fail = (msg, opts) => { throw new Onnx2WasmError(msg, opts); };

/**
 * Compiles and instantiates the onnx2wasm module in file `path` (options as for load()). The weights
 * are read from the file straight into the instance's memory: one copy instead of three (file ->
 * buffer -> compiled bytes -> memory), and no page faults on a weights-sized JavaScript buffer.
 * A later load(model.module) reads them from the file again and fails if the file changed since.
 * @param {string} path
 * @param {{copyOutputs?: boolean}} [opts]
 */
export async function loadFile(path, opts = {}) {
  const open = () => {
    try { return fs.openSync(path, 'r'); } catch (e) { fail(`cannot open '${path}': ${e.message}`, { cause: e }); }
  };
  let fd = open();
  const st = fs.fstatSync(fd), stamp = `${st.size}:${st.mtimeMs}:${st.ino}`;
  const readAt = (f, dst, at) => {
    for (let done = 0; done < dst.length;) {
      const k = fs.readSync(f, dst, done, dst.length - done, at + done);
      if (k <= 0) fail(`'${path}': unexpected end of file at byte ${at + done}`);
      done += k;
    }
  };
  const read = (dst, at) => {
    if (fd !== null) return readAt(fd, dst, at);
    const f = open();                      // a later instantiation: the file must be the one compiled
    try {
      const s2 = fs.fstatSync(f);
      if (`${s2.size}:${s2.mtimeMs}:${s2.ino}` !== stamp) fail(`'${path}' changed since it was loaded: load it again`);
      readAt(f, dst, at);
    } finally {
      fs.closeSync(f);
    }
  };
  try {
    return await loadFromSource(st.size, read, opts);
  } finally {
    fs.closeSync(fd);
    fd = null;
  }
}
