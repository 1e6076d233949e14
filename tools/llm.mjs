// Decoder-LLM helpers shared by generate.mjs, llm-trace.mjs, tests/llm and bench/llm.mjs: model files, vocab.json, engines
// (ort-web, onnx2wasm); the browser-safe part (vocab, the onnx2wasm engine over a loaded model, sampling, the
// generation loop) is llm-core.mjs, re-exported here.
//
// An engine runs one forward call of a decoder exported by models/export_decoders.py
// (inputs input_ids, position_ids, past_key_K, past_value_K; outputs logits, present_key_K,
// present_value_K) and keeps the KV cache between calls:
//
//   const eng = await openEngine('ort-web', { onnx: 'models/gpt2_char/model.onnx' });
//   let st = eng.initialState();                       // past = 0
//   let r = await eng.step([5, 17, 3], st);            // prefill: r.logits is Float32Array(seq * vocab)
//   r = await eng.step([42], r.state);                 // decode: past = 3, seq = 1
//
// The onnx2wasm engine keeps the KV cache in the module's memory: with a resident cache (the
// default, docs/abi.md) the cache never leaves it and each call appends its rows in place. A state
// stays valid until a later call overwrites rows it needs (a call from a shorter state); stepping
// from it then throws instead of reading garbage. eng.snapshot(state) keeps a copy that can be
// stepped from any number of times; eng.kv(state) gives the cache as dense arrays.
//
// 'onnx2wasm' loads a module compiled by build/onnx2wasm through runtime/js/onnx2wasm.mjs and
// calls model.run(feeds, { dims: { seq, past } }) as docs/abi.md ("Run-time symbolic dims")
// specifies; it refuses, with a clear message, a module without the run-time symbols seq/past.
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(here, '..');

import { LlmError, decoderEngine, kvLayout, makeVocab } from './llm-core.mjs';
export { LlmError, argmax, sample, picker, generate, decoderEngine, checkRuntimeSymbols, makeVocab } from './llm-core.mjs';

// ------------------------------------------------------------------------------ model files

/**
 * Resolves MODEL, given as a name (gpt2_char -> models/gpt2_char), a directory, or a file
 * (.onnx / .wasm; vocab.json and config.json are looked up beside it, then in models/<stem>).
 */
export function modelFiles(arg) {
  if (!arg) throw new LlmError('missing MODEL');
  let dir, file = null;
  if (fs.existsSync(arg) && fs.statSync(arg).isFile()) { file = path.resolve(arg); dir = path.dirname(file); }
  else if (fs.existsSync(arg) && fs.statSync(arg).isDirectory()) dir = path.resolve(arg);
  else if (/^[\w.-]+$/.test(arg) && fs.existsSync(path.join(ROOT, 'models', arg))) dir = path.join(ROOT, 'models', arg);
  else throw new LlmError(`${arg}: no such model (a name under models/, a directory or a .onnx/.wasm file)`);
  const near = (name) => {
    const cands = [path.join(dir, name)];
    if (file) {
      const stem = path.basename(file).replace(/\.(onnx|wasm)$/, '');
      cands.push(path.join(ROOT, 'models', stem, name));
    }
    return cands.find((p) => fs.existsSync(p)) || null;
  };
  return {
    dir,
    onnx: file && file.endsWith('.onnx') ? file : (fs.existsSync(path.join(dir, 'model.onnx')) ? path.join(dir, 'model.onnx') : null),
    wasm: file && file.endsWith('.wasm') ? file : (fs.existsSync(path.join(dir, 'model.wasm')) ? path.join(dir, 'model.wasm') : null),
    vocab: near('vocab.json'),
    config: near('config.json'),
  };
}

export function readJson(p) {
  try { return JSON.parse(fs.readFileSync(p, 'utf8')); } catch (e) { throw new LlmError(`cannot read ${p}: ${e.message}`); }
}

/** Character vocabulary from vocab.json ({"chars": [...], "unknown": " "}). */
export function loadVocab(p) {
  if (!p) throw new LlmError('no vocab.json beside the model (models/export_decoders.py writes it)');
  return makeVocab(readJson(p), p);
}

// ------------------------------------------------------------------------------ engines

let ortPromise = null;
/** onnxruntime-web from tools/node_modules, wasm backend, 1 thread. */
export async function ortWeb() {
  if (!ortPromise) {
    ortPromise = (async () => {
      const require = createRequire(path.join(ROOT, 'tools', 'package.json'));
      const ort = await import(require.resolve('onnxruntime-web'));
      ort.env.wasm.numThreads = 1;
      ort.env.logLevel = 'error';
      return ort;
    })();
  }
  return ortPromise;
}

const i64 = (xs) => BigInt64Array.from(xs, (x) => BigInt(x));

async function ortEngine(onnxPath, node = false) {
  const kind = node ? 'ort-node' : 'ort-web';
  if (!onnxPath || !fs.existsSync(onnxPath)) throw new LlmError(`no .onnx model for ${kind} (${onnxPath || 'none given'})`);
  const ort = node ? createRequire(path.join(ROOT, 'tools', 'package.json'))('onnxruntime-node') : await ortWeb();
  let session;
  try {
    session = await ort.InferenceSession.create(fs.readFileSync(onnxPath),
      node ? { intraOpNumThreads: 1, interOpNumThreads: 1 } : { executionProviders: ['wasm'] });
  } catch (e) { throw new LlmError(`${kind} cannot load ${onnxPath}: ${e.message}`); }
  const metas = session.inputNames.map((name, k) => ({ name, dims: session.inputMetadata?.[k]?.shape }));
  const lay = kvLayout(metas, onnxPath);
  const kvNames = [];
  for (let i = 0; i < lay.layers; i++) kvNames.push([`past_key_${i}`, `present_key_${i}`], [`past_value_${i}`, `present_value_${i}`]);
  return {
    kind, ...lay, file: onnxPath,
    initialState() {
      const empty = () => new ort.Tensor('float32', new Float32Array(0), [1, lay.kvHeads, 0, lay.headDim]);
      return { past: 0, kv: kvNames.map(empty) };
    },
    async step(ids, state) {
      const seq = ids.length, past = state.past;
      const feeds = {
        input_ids: new ort.Tensor('int64', i64(ids), [1, seq]),
        position_ids: new ort.Tensor('int64', i64(ids.map((_, j) => past + j)), [1, seq]),
      };
      kvNames.forEach(([pastName], k) => { feeds[pastName] = state.kv[k]; });
      const out = await session.run(feeds);
      const logits = out.logits.data;
      return { logits, vocab: logits.length / seq, state: { past: past + seq, kv: kvNames.map(([, pres]) => out[pres]) } };
    },
    snapshot(state) { return state; },       /* ort tensors are not reused by the session */
    kv(state) { return state.kv.map((t) => t.data); },
    async release() { await session.release?.(); },
  };
}

async function wasmEngine(wasmPath) {
  if (!wasmPath || !fs.existsSync(wasmPath)) {
    throw new LlmError(`no compiled module (${wasmPath || 'none given'}); compile with build/onnx2wasm MODEL.onnx -o MODEL.wasm`);
  }
  const { loadFile } = await import(path.join(ROOT, 'runtime/js/onnx2wasm-node.mjs'));
  const { isNativeLibrary, loadNative } = await import(path.join(ROOT, 'runtime/js/onnx2wasm-native.mjs'));
  // outputs as views into the module's memory: nothing is copied out per call but the logits.
  // A native library (.so, compiled with --no-pass resident_kv: dense caches) runs through the same calls.
  const model = isNativeLibrary(wasmPath) ? loadNative(wasmPath) : await loadFile(wasmPath, { copyOutputs: false });
  return decoderEngine(model, { file: wasmPath, kind: isNativeLibrary(wasmPath) ? 'native' : 'onnx2wasm' });
}

/** kind: 'ort-web' | 'onnx2wasm'; files: {onnx, wasm}. */
export async function openEngine(kind, files) {
  if (kind === 'ort-web') return ortEngine(files.onnx);
  if (kind === 'ort-node') return ortEngine(files.onnx, true);
  if (kind === 'onnx2wasm') return wasmEngine(files.wasm);
  throw new LlmError(`unknown engine '${kind}' (ort-web or onnx2wasm)`);
}

/** Context bound (max positions) of a model from its config.json, or Infinity. */
export function contextBound(configPath) {
  if (!configPath) return Infinity;
  const c = readJson(configPath);
  return Number.isInteger(c.ctx) ? c.ctx : Infinity;
}
