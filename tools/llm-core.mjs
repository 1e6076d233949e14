// llm-core.mjs — the browser-safe part of the decoder tools (tools/llm.mjs adds files, onnxruntime and the CLI's
// needs): a character vocabulary, the onnx2wasm engine over a loaded model, sampling, and the generation loop.
// No imports: a page loads it as it is (examples/generate), Node through tools/llm.mjs.
//
//   const model = await load('gpt2.wasm', { copyOutputs: false });        // runtime/js/onnx2wasm.mjs
//   const engine = decoderEngine(model);
//   for await (const t of generate(engine, vocab.encode('The '), { tokens: 50 })) out += vocab.decode([t.token]);
//
// A model loaded with { worker: true } runs in its worker (runAsync); its engine steps but has no kv()/snapshot().

export class LlmError extends Error {}

const RESIDENT = Symbol.for('onnx2wasm.resident');      // the loader's RESIDENT (a registered symbol)
const dataOf = (tensors) => Object.fromEntries(Object.entries(tensors).map(([k, t]) => [k, t.data]));

/** Character vocabulary from the contents of a vocab.json ({"chars": [...], "unknown": " "}). */
export function makeVocab(v, where = 'vocab.json') {
  if (!v || !Array.isArray(v.chars) || v.chars.length === 0) throw new LlmError(`${where}: no "chars" list`);
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

/** Layout of the KV tensors from a list of {name, dims} inputs. */
export function kvLayout(inputs, where) {
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

/**
 * The onnx2wasm engine over a loaded decoder module (runtime/js/onnx2wasm.mjs load(), best with
 * { copyOutputs: false }; or a native library's model): one forward call per step, the KV cache kept in the
 * module. `file` names it in messages, `kind` is reported as engine.kind.
 */
export function decoderEngine(model, { file = 'the module', kind = 'onnx2wasm' } = {}) {
  const bounds = checkRuntimeSymbols(model, file);
  const lay = kvLayout(model.inputs, file);
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
    if (!x) throw new LlmError(`${file}: run() returned no output '${name}'`);
    if (x.length < n) throw new LlmError(`${file}: output '${name}' has ${x.length} elements, expected ${n} ([${shape}])`);
    if (typeof model.outputShape === 'function') {
      const s = model.outputShape(name);
      if (s && (s.length !== shape.length || s.some((d, i) => d !== shape[i]))) {
        throw new LlmError(`${file}: output '${name}' has shape [${s}], expected [${shape}]`);
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
    kind, ...lay, file, bounds, model, resident,
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
      const runOpts = { dims: { seq, past }, outputs: resident ? logitsOnly : undefined };
      const out = model.worker ? dataOf(await model.runAsync(feeds, runOpts)) : model.run(feeds, runOpts);
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

/** pick(r): the next token from the last row of a step's logits, greedy or top-k sampled (see sample). */
export function picker({ topK = 0, temperature = 1, rand = Math.random } = {}) {
  return (r) => {
    const last = r.logits.length / r.vocab - 1;
    return topK > 0 ? sample(r.logits, last * r.vocab, r.vocab, { topK, temperature, rand }) : argmax(r.logits, last * r.vocab, r.vocab);
  };
}

/**
 * Generates from the token ids `prompt`: prefills it (in chunks of the module's seq bound), then one token a
 * call, each fed back. Yields {token, logits} per token (logits: that token's row, a copy), then {stopped} if
 * the context bound (`ctx`, and the module's bound on past) ends it before `tokens`.
 */
export async function* generate(engine, prompt, { tokens = 200, pick = picker(), ctx = Infinity } = {}) {
  if (!prompt.length) throw new LlmError('the prompt is empty');
  const bound = Math.min(ctx, engine.bounds ? (engine.bounds.past ?? Infinity) + 1 : Infinity);
  if (prompt.length >= bound) throw new LlmError(`a prompt of ${prompt.length} tokens reaches the context bound ${bound}`);
  const chunk = engine.bounds?.seq ?? Infinity;
  const row = (r) => r.logits.slice(r.logits.length - r.vocab);
  let r = { state: engine.initialState() };
  for (let p = 0; p < prompt.length; p += chunk) r = await engine.step(prompt.slice(p, p + chunk), r.state);
  let token = pick(r);
  yield { token, logits: row(r), vocab: r.vocab };
  for (let n = 1; n < tokens; n++) {
    if (r.state.past + 1 > bound) { yield { stopped: bound }; return; }
    r = await engine.step([token], r.state);
    token = pick(r);
    yield { token, logits: row(r), vocab: r.vocab };
  }
}
