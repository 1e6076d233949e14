// llm.mjs — decoder LLM speed: prefill of a 64-token prompt and KV-cache decode at past 128, onnxruntime-web (wasm, 1 thread) vs onnx2wasm, in one run.
//
// usage: node bench/llm.mjs [--build DIR] [--models gpt2_char,llama_char] [--runs N] [--warmup N] [--json FILE]
//
// Per model (models/export_decoders.py; exported first if missing) the module is compiled once
// with BUILD/onnx2wasm --max-dim seq=64 --max-dim past=CTX-1 (run-time seq/past, docs/abi.md;
// CTX = the model's context bound, config.json).
// Then, per engine, after WARMUP (--warmup, default 100) untimed decode calls and 3 more untimed
// calls of each kind (V8 tiers wasm up by use: the first ~100 calls run partly in baseline code):
//   prefill  one call with the 64-character prompt (past 0): median and min of N calls
//   decode   one call with 1 token on a 128-token cache (past 128, always the same cache, so
//            every timed call reads exactly 128 cached positions and appends row 128; our
//            module keeps the cache resident, docs/llm.md): median of N calls -> tokens/s
// The engines take turns call by call, so machine noise hits both alike. Decode of a model this
// small is bound by reading its weights once per token: "weights GB/s" = weight bytes (the
// .onnx initializers, config.json weight_bytes; our module's own weights_bytes when its
// signature reports them) x tokens/s, set against a ~33-37 GB/s streaming-read ceiling of one
// core (the % uses 35). These models' weights (3.4-5 MB) fit in L2/L3, so the figure can pass
// DRAM speed; it says how far decode is from a bandwidth-bound kernel, not a DRAM measurement.
// A model our compiler cannot build yet is reported with the compiler's message.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LlmError, loadVocab, modelFiles, openEngine, readJson } from '../tools/llm.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const build = path.resolve(opt('--build', path.join(root, 'build')));
const models = opt('--models', 'gpt2_char,llama_char').split(',');
const runs = Number(opt('--runs', '30'));
const warmup = Number(opt('--warmup', '100'));
const jsonOut = opt('--json', null);
const CEILING = 35e9;          // bytes/s, middle of the ~33-37 GB/s single-core streaming-read range
const PREFILL = 64, PAST = 128;
const TEXT = 'ABSURDITY, n.  A statement or belief manifestly inconsistent with one\'s own opinion. ' +
  'ACADEME, n.  An ancient school where morality and philosophy were taught. ACADEMY, n.  ' +
  'A modern school where football is taught. ACCIDENT, n.  An inevitable occurrence.';

const now = () => Number(process.hrtime.bigint()) / 1e6;
const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

const results = [];
for (const name of models) {
  const dir = path.join(root, 'models', name);
  if (!fs.existsSync(path.join(dir, 'model.onnx')) || !fs.existsSync(path.join(dir, 'config.json'))) {
    const r = spawnSync('/usr/bin/python3', [path.join(root, 'models/export_decoders.py'), '--only', name], { stdio: 'inherit' });
    if (r.status !== 0) { console.error(`skip ${name}: export failed`); continue; }
  }
  const files = modelFiles(dir);
  const cfg = readJson(files.config);
  const vocab = loadVocab(files.vocab);
  const ids = vocab.encode(TEXT);
  if (ids.length < PAST) throw new LlmError('bench text too short');

  const wasm = path.join(os.tmpdir(), `bench-llm-${name}.wasm`);
  const t0 = now();
  const cc = spawnSync(path.join(build, 'onnx2wasm'), [files.onnx, '-o', wasm, '--max-dim', 'seq=64', '--max-dim', `past=${cfg.ctx - 1}`], { encoding: 'utf8' });
  const compileMs = now() - t0;
  const engines = [await openEngine('ort-web', files)];
  const notes = {};
  if (cc.status === 0) {
    try { engines.push(await openEngine('onnx2wasm', { ...files, wasm })); } catch (e) { notes.onnx2wasm = e.message; }
  } else {
    notes.onnx2wasm = `compile failed: ${(cc.stderr || cc.error?.message || '').trim().split('\n')[0]}`;
  }

  // Caches at past 128, prefilled in chunks of 64 to stay within our seq bound. Decode calls
  // step one token from it: each appends row 128 only, so the state stays valid and every call
  // does the same work (onnx2wasm: the cache stays resident in the module; ort-web: the same past
  // tensors are fed again).
  const prompt = ids.slice(0, PREFILL);
  const prefill = engines.map(() => []), decode = engines.map(() => []);
  const cacheAt128 = async (e) => {
    let st = e.initialState();
    for (let p = 0; p < PAST; p += PREFILL) st = (await e.step(ids.slice(p, p + PREFILL), st)).state;
    return st;
  };
  let cached = [];
  for (const e of engines) cached.push(await cacheAt128(e));
  for (let w = 0; w < warmup; w++)                  // warm-up, untimed, both engines alike
    for (let k = 0; k < engines.length; k++) await engines[k].step([ids[PAST]], cached[k]);
  // Prefill: one 64-token call from an empty cache, engines alternating call by call.
  for (let i = -3; i < runs; i++) {                 // 3 more warm-up calls
    for (let k = 0; k < engines.length; k++) {
      const t = now();
      await engines[k].step(prompt, engines[k].initialState());
      if (i >= 0) prefill[k].push(now() - t);
    }
  }
  // Decode at past 128 (the prefills above overwrote the cache: build it again).
  cached = [];
  for (const e of engines) cached.push(await cacheAt128(e));
  for (let i = -3; i < runs; i++) {
    for (let k = 0; k < engines.length; k++) {
      const t = now();
      await engines[k].step([ids[PAST]], cached[k]);
      if (i >= 0) decode[k].push(now() - t);
    }
  }
  const row = { model: name, params: null, weight_bytes: cfg.weight_bytes, compile_ms: cc.status === 0 ? compileMs : null, engines: {} };
  engines.forEach((e, k) => {
    const wb = e.kind === 'onnx2wasm' && e.model?.signature?.memory?.weights_bytes ? e.model.signature.memory.weights_bytes : cfg.weight_bytes;
    const tps = 1000 / median(decode[k]);
    row.engines[e.kind] = {
      prefill64_ms: median(prefill[k]), prefill64_min_ms: Math.min(...prefill[k]),
      decode_ms: median(decode[k]), decode_tokens_per_s: tps,
      weight_bytes: wb, weights_gb_per_s: (wb * tps) / 1e9, of_ceiling: (wb * tps) / CEILING,
    };
  });
  for (const [k, v] of Object.entries(notes)) row.engines[k] = { error: v };
  results.push(row);
  for (const e of engines) await e.release();
}

const f = (x, d = 1) => (x === undefined || x === null ? '-' : x.toFixed(d));
console.log(`decode at past ${PAST}, prefill of ${PREFILL} tokens; median of ${runs} calls; 1 thread; ` +
            `weights GB/s = weight bytes x tokens/s vs a ${CEILING / 1e9} GB/s streaming-read ceiling\n`);
console.log('| model | engine | prefill 64 ms | decode ms/token | tokens/s | weights MB | weights GB/s | of ceiling |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  for (const [kind, e] of Object.entries(r.engines)) {
    if (e.error) { console.log(`| ${r.model} | ${kind} | ${e.error} |||||| `); continue; }
    console.log(`| ${r.model} | ${kind} | ${f(e.prefill64_ms)} | ${f(e.decode_ms, 2)} | ${f(e.decode_tokens_per_s, 0)} | ` +
                `${f(e.weight_bytes / 1e6, 2)} | ${f(e.weights_gb_per_s, 2)} | ${f(100 * e.of_ceiling, 1)}% |`);
  }
}
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify({ date: new Date().toISOString(), host: os.cpus()[0]?.model, runs, results }, null, 1) + '\n');
