#!/usr/bin/env node
// Records the logits of every call of a KV-cache decode (prefill, greedy steps, a chunked prefill) for checking against a full recompute.
import fs from 'node:fs';
import { LlmError, argmax, loadVocab, modelFiles, openEngine } from './llm.mjs';

const HELP = `usage: node tools/llm-trace.mjs MODEL --out PREFIX [options]

Runs a decoder from models/export_decoders.py with a KV cache: a prefill of the prompt
(past = 0), --steps greedy decode steps (seq = 1), then, with --chunk C, one more call that
feeds the next C characters of the prompt (repeated as needed) at once with past > 0.
Writes PREFIX.json ({engine, vocab, tokens, calls: [{past, seq}]}: tokens = every token fed,
in order) and PREFIX.f32 (float32 logits, one row of vocab per fed token, in the same order),
so row i holds the prediction after tokens[0..i], as a full recompute of tokens would.

options:
  --engine E     ort-web (default) or onnx2wasm (MODEL then names the .wasm or its dir)
  --prompt TEXT  default 'The '
  --steps N      greedy decode steps after the prefill (default 40)
  --chunk C      then one chunked prefill of C tokens with past > 0 (default 0: none)`;

async function main(argv) {
  const o = { model: null, out: null, engine: 'ort-web', prompt: 'The ', steps: 40, chunk: 0 };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], val = () => { if (i + 1 >= argv.length) throw new LlmError(`${a} needs a value`); return argv[++i]; };
    switch (a) {
      case '-h': case '--help': console.log(HELP); return 0;
      case '--out': o.out = val(); break;
      case '--engine': o.engine = val(); break;
      case '--prompt': o.prompt = val(); break;
      case '--steps': o.steps = Number(val()); break;
      case '--chunk': o.chunk = Number(val()); break;
      default:
        if (a.startsWith('-') || o.model) throw new LlmError(`unexpected argument '${a}' (see --help)`);
        o.model = a;
    }
  }
  if (!o.model || !o.out) throw new LlmError('need MODEL and --out PREFIX (see --help)');
  if (!(Number.isInteger(o.steps) && o.steps >= 0) || !(Number.isInteger(o.chunk) && o.chunk >= 0)) throw new LlmError('--steps/--chunk need integers >= 0');
  const files = modelFiles(o.model);
  const vocab = loadVocab(files.vocab);
  const eng = await openEngine(o.engine, files);
  const prompt = vocab.encode(o.prompt);
  if (prompt.length === 0) throw new LlmError('empty prompt');
  const calls = [], tokens = [], rows = [];
  let st = eng.initialState();
  const call = async (ids) => {
    calls.push({ past: st.past, seq: ids.length });
    tokens.push(...ids);
    const r = await eng.step(ids, st);
    if (r.vocab !== vocab.size) throw new LlmError(`model vocab ${r.vocab} != vocab.json ${vocab.size}`);
    rows.push(Float32Array.from(r.logits));
    st = r.state;
    return r;
  };
  let r = await call(prompt);
  for (let s = 0; s < o.steps; s++) {
    const last = r.logits.length / r.vocab - 1;
    r = await call([argmax(r.logits, last * r.vocab, r.vocab)]);
  }
  if (o.chunk > 0) await call(Array.from({ length: o.chunk }, (_, j) => prompt[j % prompt.length]));
  const all = new Float32Array(rows.reduce((a, x) => a + x.length, 0));
  let off = 0;
  for (const x of rows) { all.set(x, off); off += x.length; }
  fs.writeFileSync(`${o.out}.f32`, Buffer.from(all.buffer));
  fs.writeFileSync(`${o.out}.json`, JSON.stringify({ engine: eng.kind, model: eng.file, vocab: vocab.size, tokens, calls }));
  console.error(`llm-trace: ${eng.kind} ${calls.length} calls, ${tokens.length} tokens: ${JSON.stringify(vocab.decode(tokens))}`);
  await eng.release();
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  console.error(`llm-trace: ${e instanceof LlmError ? e.message : e.stack}`);
  process.exitCode = e instanceof LlmError ? 2 : 1;
}
