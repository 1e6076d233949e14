// Decoder-LLM helpers shared by generate.mjs, llm-trace.mjs, tests/llm and bench/llm.mjs: vocab, engines (ort-web, onnx2wasm), sampling.
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

export class LlmError extends Error {}

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
  const v = readJson(p);
  if (!Array.isArray(v.chars) || v.chars.length === 0) throw new LlmError(`${p}: no "chars" list`);
  const index = new Map(v.chars.map((c, i) => [c, i]));
  const unk = index.has(v.unknown) ? index.get(v.unknown) : 0;
  return {
    chars: v.chars,
    size: v.chars.length,
    /** Token ids of a string; characters outside the vocabulary map to the "unknown" char. */
    encode: (s) => Array.from(s, (c) => (index.has(c) ? index.get(c) : unk)),
    decode: (ids) => ids.map((i) => v.chars[i] ?? '?').join(''),
    unknownIn: (s) => [...new Set(Array.from(s).filter((c) => !index.has(c)))],
  };
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

/** Layout of the KV tensors from a list of {name, dims} inputs. */
function kvLayout(inputs, where) {
  const names = inputs.map((t) => t.name);
  for (const n of ['input_ids', 'position_ids', 'past_key_0', 'past_value_0']) {
    if (!names.includes(n)) throw new LlmError(`${where}: no input '${n}' (not a decoder from models/export_decoders.py?)`);
  }
  let layers = 0;
  while (names.includes(`past_key_${layers}`)) layers++;
  const dims = inputs.find((t) => t.name === 'past_key_0').dims;
  if (!dims || dims.length !== 4 || typeof dims[1] !== 'number' || typeof dims[3] !== 'number') {
    throw new LlmError(`${where}: past_key_0 has dims ${JSON.stringify(dims)}, expected [1, kv_heads, "past", head_dim]`);
  }
  return { layers, kvHeads: dims[1], headDim: dims[3] };
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

/** A clear error if a loaded onnx2wasm module cannot bind seq/past at run time. */
export function checkRuntimeSymbols(model, file) {
  const rs = model.signature?.runtime_symbols;
  const have = Array.isArray(rs) ? rs.map((s) => s.name) : [];
  const missing = ['seq', 'past'].filter((n) => !have.includes(n));
  if (missing.length) {
    const bound = model.signature?.symbols ? ` (compile-time bindings: ${JSON.stringify(model.signature.symbols)})` : '';
    throw new LlmError(
      `${file}: the module has no run-time symbol${missing.length > 1 ? 's' : ''} ${missing.map((n) => `'${n}'`).join(' and ')}` +
      `${bound}. KV-cache decoding needs seq and past to change from call to call: compile the .onnx ` +
      `without --dim for them, with an onnx2wasm that supports run-time symbolic dims ` +
      `(docs/abi.md, "Run-time symbolic dims": signature.runtime_symbols, dims_addr).`);
  }
  return Object.fromEntries(rs.map((s) => [s.name, s.max]));
}

async function wasmEngine(wasmPath) {
  if (!wasmPath || !fs.existsSync(wasmPath)) {
    throw new LlmError(`no compiled module (${wasmPath || 'none given'}); compile with build/onnx2wasm MODEL.onnx -o MODEL.wasm`);
  }
  const { RESIDENT } = await import(path.join(ROOT, 'runtime/js/onnx2wasm.mjs'));
  const { loadFile } = await import(path.join(ROOT, 'runtime/js/onnx2wasm-node.mjs'));
  const { isNativeLibrary, loadNative } = await import(path.join(ROOT, 'runtime/js/onnx2wasm-native.mjs'));
  // outputs as views into the module's memory: nothing is copied out per call but the logits.
  // A native library (.so, compiled with --no-pass resident_kv: dense caches) runs through the same calls.
  const model = isNativeLibrary(wasmPath) ? loadNative(wasmPath) : await loadFile(wasmPath, { copyOutputs: false });
  const bounds = checkRuntimeSymbols(model, wasmPath);
  const lay = kvLayout(model.inputs, wasmPath);
  const kvNames = [];
  for (let i = 0; i < lay.layers; i++) kvNames.push([`past_key_${i}`, `present_key_${i}`], [`past_value_${i}`, `present_value_${i}`]);
  // A module whose caches are resident (docs/abi.md): past_K lives in present_K's storage, so a
  // call feeds RESIDENT and the cache never crosses the JS boundary. Else each call feeds the
  // previous call's present views.
  const resident = kvNames.every(([pastName, pres]) => model.inputs.find((t) => t.name === pastName)?.resident_in === pres);
  const vocabDim = model.outputs.find((t) => t.name === 'logits')?.dims?.[2];
  const kvShape = (past) => [1, lay.kvHeads, past, lay.headDim];
  // An output's data: the loader returns it at its actual shape; take the leading n elements
  // so a bound-sized buffer would do too, and check the shape when the loader reports it.
  const take = (out, name, n, shape) => {
    const x = out[name];
    if (!x) throw new LlmError(`${wasmPath}: run() returned no output '${name}'`);
    if (x.length < n) throw new LlmError(`${wasmPath}: output '${name}' has ${x.length} elements, expected ${n} ([${shape}])`);
    if (typeof model.outputShape === 'function') {
      const s = model.outputShape(name);
      if (s && (s.length !== shape.length || s.some((d, i) => d !== shape[i]))) {
        throw new LlmError(`${wasmPath}: output '${name}' has shape [${s}], expected [${shape}]`);
      }
    }
    return x.length === n ? x : x.subarray(0, n);
  };
  // Which states are still valid. Resident: a state at `past` needs cache rows [0, past) as they
  // were when it was made; call j rewrote rows from lowest[j] on, so the state made before call j0
  // is valid iff lowest[j] >= past for every j >= j0. Dense caches: only the newest state is valid.
  // `mins` keeps the suffix minima of lowest[] as a stack of [call, row] with rows increasing, so
  // min(lowest[g..]) is the row of the first entry with call >= g (a binary search).
  let calls = 0;
  const mins = [];
  const wrote = (row) => {
    while (mins.length && mins[mins.length - 1][1] >= row) mins.pop();
    mins.push([calls++, row]);
  };
  const lowestSince = (g) => {
    let lo = 0, hi = mins.length;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (mins[mid][0] >= g) hi = mid; else lo = mid + 1; }
    return lo < mins.length ? mins[lo][1] : Infinity;
  };
  const logitsOnly = ['logits'];
  const stale = () => new LlmError('stale KV state: a later call overwrote the cache rows this state needs; ' +
                                   'keep a copy with engine.snapshot(state) to step from it again');
  const check = (state) => {
    if (state.gen === undefined) return;                    // initial state or a snapshot (own copies)
    if (resident ? lowestSince(state.gen) < state.past : state.gen !== calls) throw stale();
  };
  const readKv = (state) => {
    check(state);
    if (state.kv) return state.kv;
    return kvNames.map(([, pres]) => model.readOutput(pres, kvShape(state.past)));
  };
  return {
    kind: isNativeLibrary(wasmPath) ? 'native' : 'onnx2wasm', ...lay, file: wasmPath, bounds, model, resident,
    initialState() { return { past: 0, kv: kvNames.map(() => new Float32Array(0)) }; },
    /** A state that owns copies of its cache: it can be stepped from any number of times. */
    snapshot(state) { return { past: state.past, kv: readKv(state).map((a) => a.slice()) }; },
    /** The KV cache of a state as dense [1, kv_heads, past, head_dim] arrays (k0, v0, k1, ...). */
    kv(state) { return readKv(state); },
    async step(ids, state) {
      check(state);
      const seq = ids.length, past = state.past, total = past + seq;
      const idsArr = new BigInt64Array(seq), posArr = new BigInt64Array(seq);
      for (let j = 0; j < seq; j++) { idsArr[j] = BigInt(ids[j]); posArr[j] = BigInt(past + j); }
      const fromMemory = resident && !state.kv;
      const feeds = { input_ids: idsArr, position_ids: posArr };
      for (let k = 0; k < kvNames.length; k++) feeds[kvNames[k][0]] = fromMemory ? RESIDENT : state.kv[k];
      const out = model.run(feeds, { dims: { seq, past }, outputs: resident ? logitsOnly : undefined });
      wrote(fromMemory ? past : 0);
      const V = typeof vocabDim === 'number' ? vocabDim : out.logits.length / seq;
      const logits = take(out, 'logits', seq * V, [1, seq, V]).slice();   // the caller keeps logits: a copy
      const kvN = lay.kvHeads * total * lay.headDim;
      const kv = resident ? undefined : kvNames.map(([, pres]) => take(out, pres, kvN, kvShape(total)));
      return { logits, vocab: V, state: { past: total, kv, gen: calls } };
    },
    async release() {},
  };
}

/** kind: 'ort-web' | 'onnx2wasm'; files: {onnx, wasm}. */
export async function openEngine(kind, files) {
  if (kind === 'ort-web') return ortEngine(files.onnx);
  if (kind === 'ort-node') return ortEngine(files.onnx, true);
  if (kind === 'onnx2wasm') return wasmEngine(files.wasm);
  throw new LlmError(`unknown engine '${kind}' (ort-web or onnx2wasm)`);
}

// ------------------------------------------------------------------------------ sampling

/** Index of the largest value (the first one on ties). */
export function argmax(x, off = 0, n = x.length - off) {
  let best = off;
  for (let i = off + 1; i < off + n; i++) if (x[i] > x[best]) best = i;
  return best - off;
}

/**
 * Next token from a row of logits: greedy (topK <= 0 or temperature 0) or top-k sampling with
 * temperature, drawing from `rand` (a seeded mulberry32).
 */
export function sample(x, off, n, { topK = 0, temperature = 1, rand } = {}) {
  if (!(topK > 0) || temperature === 0) return argmax(x, off, n);
  const idx = Array.from({ length: n }, (_, i) => i).sort((a, b) => x[off + b] - x[off + a] || a - b).slice(0, topK);
  const m = x[off + idx[0]];
  const w = idx.map((i) => Math.exp((x[off + i] - m) / temperature));
  const sum = w.reduce((a, b) => a + b, 0);
  let u = rand() * sum;
  for (let k = 0; k < idx.length; k++) { u -= w[k]; if (u < 0) return idx[k]; }
  return idx[idx.length - 1];
}

/** Context bound (max positions) of a model from its config.json, or Infinity. */
export function contextBound(configPath) {
  if (!configPath) return Infinity;
  const c = readJson(configPath);
  return Number.isInteger(c.ctx) ? c.ctx : Infinity;
}
