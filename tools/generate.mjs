#!/usr/bin/env node
// Generates text with a decoder from models/export_decoders.py: prefill, then KV-cache decoding, streamed to stdout.
import path from 'node:path';
import { mulberry32 } from '../runtime/js/onnx2wasm-run.mjs';
import { LlmError, contextBound, generate, loadVocab, modelFiles, openEngine, picker } from './llm.mjs';

const HELP = `usage: node tools/generate.mjs MODEL [options]

MODEL: a name under models/ (gpt2_char, llama_char), a model directory, or a .onnx/.wasm
file (vocab.json and config.json are taken from beside it, or from models/<file stem>/).

Feeds the prompt in one call (prefill, past = 0), then one token per call, feeding the
present_* outputs back as past_* (KV cache). The prompt and the generated characters are
streamed to stdout as they come; prefill time (after one untimed 1-token warm-up call) and
decode speed go to stderr. A prompt longer than the module's seq bound is prefilled in chunks.

options:
  --prompt TEXT        default 'The '
  --tokens N           characters to generate (default 200; stops at the model's context bound)
  --greedy             always take the most likely character (the default without --top-k)
  --top-k K            sample among the K most likely characters ...
  --temperature T      ... from softmax(logits / T) (default 0.8; 0 means greedy)
  --seed S             seed of the sampler (mulberry32, default 0): same seed, same text
  --engine E           onnx2wasm (default) or ort-web (onnxruntime-web, wasm, 1 thread, on the .onnx)
  --wasm FILE          the compiled module for --engine onnx2wasm (default: MODEL if it is a
                       .wasm, else MODEL_DIR/model.wasm; compile with
                       build/onnx2wasm models/NAME/model.onnx -o models/NAME/model.wasm)
  --no-echo            do not print the prompt
  -h, --help

exit status: 0 ok, 1 the engine failed, 2 usage error or missing files.`;

function parseArgs(argv) {
  const o = { model: null, prompt: 'The ', tokens: 200, greedy: false, topK: 0, temperature: 0.8, seed: 0,
              engine: 'onnx2wasm', wasm: null, echo: true, help: false };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i], v;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    if (eq > 0) { v = a.slice(eq + 1); a = a.slice(0, eq); }
    const val = () => { if (v !== undefined) return v; if (i + 1 >= argv.length) throw new LlmError(`${a} needs a value`); return argv[++i]; };
    const int = (min) => { const s = val(), x = Number(s); if (!Number.isInteger(x) || x < min) throw new LlmError(`${a} needs an integer >= ${min}, got '${s}'`); return x; };
    switch (a) {
      case '-h': case '--help': o.help = true; break;
      case '--prompt': o.prompt = val(); break;
      case '--tokens': o.tokens = int(1); break;
      case '--greedy': o.greedy = true; break;
      case '--top-k': o.topK = int(1); break;
      case '--temperature': { const s = val(); o.temperature = Number(s); if (!(o.temperature >= 0)) throw new LlmError(`--temperature needs a number >= 0, got '${s}'`); break; }
      case '--seed': o.seed = int(0); break;
      case '--engine': o.engine = val(); if (!['onnx2wasm', 'ort-web'].includes(o.engine)) throw new LlmError(`--engine is onnx2wasm or ort-web, got '${o.engine}'`); break;
      case '--wasm': o.wasm = val(); break;
      case '--no-echo': o.echo = false; break;
      default:
        if (a.startsWith('-')) throw new LlmError(`unknown option '${a}' (see --help)`);
        if (o.model) throw new LlmError(`unexpected argument '${a}'`);
        o.model = a;
    }
  }
  if (!o.help && !o.model) throw new LlmError('missing MODEL (see --help)');
  if (o.greedy && o.topK) throw new LlmError('--greedy and --top-k exclude each other');
  return o;
}

async function main(argv) {
  const o = parseArgs(argv);
  if (o.help) { console.log(HELP); return 0; }
  const files = modelFiles(o.model);
  if (o.wasm) files.wasm = path.resolve(o.wasm);
  const vocab = loadVocab(files.vocab);
  const ctx = contextBound(files.config);
  const unknown = vocab.unknownIn(o.prompt);
  if (unknown.length) console.error(`warning: characters not in the vocabulary, replaced: ${JSON.stringify(unknown.join(''))}`);
  const prompt = vocab.encode(o.prompt);
  if (prompt.length === 0) throw new LlmError('--prompt is empty');
  if (prompt.length >= ctx) throw new LlmError(`prompt of ${prompt.length} characters reaches the context bound ${ctx}`);

  const engine = await openEngine(o.engine, files);
  const chunk = engine.bounds?.seq ?? Infinity;    // a longer prompt is prefilled in chunks of this size
  const pick = picker(o.topK ? { topK: o.topK, temperature: o.temperature, rand: mulberry32(o.seed) } : {});
  const out = process.stdout;
  if (o.echo) out.write(vocab.decode(prompt));

  await engine.step([prompt[0]], engine.initialState());   // warm-up (ort-web initializes lazily), not timed
  // the loop of llm-core.mjs (the browser demo runs the same): prefill, then one token a call
  let t0 = performance.now(), prefillMs = 0, generated = 0, stopped = '';
  for await (const t of generate(engine, prompt, { tokens: o.tokens, pick, ctx })) {
    if (t.stopped) { stopped = ` (stopped at the context bound ${t.stopped})`; break; }
    if (!generated) {
      prefillMs = performance.now() - t0;
      if (t.vocab !== vocab.size) throw new LlmError(`the model has ${t.vocab} logits, vocab.json ${vocab.size} characters`);
      t0 = performance.now();
    }
    out.write(vocab.decode([t.token]));
    generated++;
  }
  const decodeMs = performance.now() - t0;
  out.write('\n');
  const steps = generated - 1;
  const chunks = Math.ceil(prompt.length / chunk);
  console.error(`[${engine.kind}] prompt ${prompt.length} tokens, prefill ${prefillMs.toFixed(1)} ms` +
                `${chunks > 1 ? ` (${chunks} chunks of <= ${chunk})` : ''}; ` +
                `${generated} tokens generated${stopped}; decode ${steps} steps in ${decodeMs.toFixed(1)} ms = ` +
                `${steps ? (steps / (decodeMs / 1000)).toFixed(1) : '-'} tokens/s; ` +
                `${o.topK ? `top-k ${o.topK}, temperature ${o.temperature}, seed ${o.seed}` : 'greedy'}`);
  await engine.release();
  return 0;
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (e) {
  console.error(`generate: ${e instanceof LlmError ? e.message : e.stack || e}`);
  process.exitCode = e instanceof LlmError ? 2 : 1;
}
