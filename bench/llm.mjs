// llm.mjs — decoder LLM speed: prefill of a 64-token prompt and KV-cache decode at past 128, onnxruntime-web (wasm, 1 thread) vs onnx2wasm, in one run.
//
// usage: node bench/llm.mjs [--build DIR] [--models gpt2_char,llama_char] [--runs N] [--warmup N] [--block N] [--json FILE] [--native CPU]
// --native CPU adds onnxruntime-node (1 thread) and our native library (-o m.so --cpu CPU, dense caches:
// --no-pass resident_kv; in-process through build/o2w_native.node) as engines.
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
// The engines take turns (prefill: call by call; decode: in blocks of --block calls, default 8, the
// first of each untimed, as a generation loop runs one engine back to back), so machine noise
// hits both alike. Decode of a model this
// small is bound by reading its weights once per token: "weights GB/s" = the weight bytes an engine
// streams per token (ours: the module's weights_bytes from its signature; onnxruntime-web: the
// .onnx initializers, config.json weight_bytes, or weight_bytes_float32 for a bfloat16 checkpoint,
// whose Casts it folds into float32 weights when the session is created) x tokens/s, set against
// the streaming-read ceiling of one core measured in the same run over a working set of as many
// bytes (bench/ceiling.mjs: a hand-assembled SIMD128 read loop; float32 weights of these models are
// larger than L2, so that is an L3 figure, ~30 GB/s on the reference machine).
// Models: gpt2_char and llama_char (models/export_decoders.py) and the same two as bfloat16
// checkpoints, *_bf16 (models/to_bf16.py: weight matrices rounded to and stored as bfloat16, as
// LLM checkpoints ship). onnx2wasm keeps such weights in bfloat16 (half the bytes to stream) and
// widens them in registers; the arithmetic is float32 in both engines.
// "x ort-web": our tokens/s (prefill: time) against onnxruntime-web's in the same run.
// A model our compiler cannot build yet is reported with the compiler's message.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { LlmError, loadVocab, modelFiles, openEngine, readJson } from '../tools/llm.mjs';
import { readCeiling } from './ceiling.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const build = path.resolve(opt('--build', path.join(root, 'build')));
const models = opt('--models', 'gpt2_char,llama_char,gpt2_char_bf16,llama_char_bf16').split(',');
const runs = Number(opt('--runs', '30'));
const warmup = Number(opt('--warmup', '100'));
const BLOCK = Number(opt('--block', '8'));
const jsonOut = opt('--json', null);
const nativeCpu = opt('--native', null);
if (nativeCpu) process.env.O2W_NATIVE_ADDON = process.env.O2W_NATIVE_ADDON || path.join(build, 'o2w_native.node');
const PREFILL = 64, PAST = 128;
const TEXT = 'ABSURDITY, n.  A statement or belief manifestly inconsistent with one\'s own opinion. ' +
  'ACADEME, n.  An ancient school where morality and philosophy were taught. ACADEMY, n.  ' +
  'A modern school where football is taught. ACCIDENT, n.  An inevitable occurrence.';

const now = () => Number(process.hrtime.bigint()) / 1e6;
const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

const results = [];
for (const name of models) {
  const dir = path.join(root, 'models', name);
  const base = name.replace(/_(bf16|q4|q8|qdq)$/, ''), baseDir = path.join(root, 'models', base), variant = name.slice(base.length + 1);
  const missing = (d) => !fs.existsSync(path.join(d, 'model.onnx')) || !fs.existsSync(path.join(d, 'config.json'));
  if (missing(baseDir)) {
    const r = spawnSync('/usr/bin/python3', [path.join(root, 'models/export_decoders.py'), '--only', base], { stdio: 'inherit' });
    if (r.status !== 0) { console.error(`skip ${name}: export failed`); continue; }
  }
  if (base !== name && (missing(dir) || fs.statSync(path.join(baseDir, 'model.onnx')).mtimeMs > fs.statSync(path.join(dir, 'model.onnx')).mtimeMs)) {
    // bf16: models/to_bf16.py; q4/q8 (MatMulNBits 4/8 bits, block 32) and qdq (int8 DequantizeLinear): models/quantize_models.py
    const q = { q4: ['--format', 'nbits', '--bits', '4'], q8: ['--format', 'nbits', '--bits', '8'], qdq: ['--format', 'qdq'] }[variant];
    fs.mkdirSync(dir, { recursive: true });
    if (q) for (const f of ['config.json', 'vocab.json']) fs.copyFileSync(path.join(baseDir, f), path.join(dir, f));
    const r = q ? spawnSync('/usr/bin/python3', [path.join(root, 'models/quantize_models.py'), path.join(baseDir, 'model.onnx'), path.join(dir, 'model.onnx'), ...q], { stdio: 'inherit' })
                : spawnSync('/usr/bin/python3', [path.join(root, 'models/to_bf16.py'), baseDir, dir], { stdio: 'inherit' });
    if (r.status !== 0) { console.error(`skip ${name}: making the ${variant} variant failed`); continue; }
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
  if (nativeCpu) {
    engines.push(await openEngine('ort-node', files));
    const so = path.join(os.tmpdir(), `bench-llm-${name}.so`);
    const nc = spawnSync(path.join(build, 'onnx2wasm'), [files.onnx, '-o', so, '--cpu', nativeCpu, '--no-pass', 'resident_kv',
                                                       '--max-dim', 'seq=64', '--max-dim', `past=${cfg.ctx - 1}`], { encoding: 'utf8' });
    if (nc.status === 0) engines.push(await openEngine('onnx2wasm', { ...files, wasm: so }));
    else notes.native = `compile failed: ${(nc.stderr || '').trim().split('\n')[0]}`;
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
    return e.resident === false ? e.snapshot(st) : st;   // dense caches (the native library): step from a copy
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
  // Engines take turns in blocks of BLOCK calls (a generation loop calls one engine back to back,
  // with its own data in cache); the first call of each block is not timed.
  for (let i = 0; i < runs; i += BLOCK) {
    for (let k = 0; k < engines.length; k++) {
      for (let j = -1; j < BLOCK && i + Math.max(j, 0) < runs; j++) {
        const t = now();
        await engines[k].step([ids[PAST]], cached[k]);
        if (j >= 0) decode[k].push(now() - t);
      }
    }
  }
  const row = { model: name, params: null, weight_bytes: cfg.weight_bytes, weights: cfg.weights || 'float32',
                compile_ms: cc.status === 0 ? compileMs : null, engines: {} };
  engines.forEach((e, k) => {
    // Bytes each engine streams per token: ours, the module's weights (its signature); onnxruntime-web
    // folds a Cast of a bfloat16 initializer into a float32 initializer when the session is created, so
    // for a bfloat16 checkpoint it streams the float32 size (config.json weight_bytes_float32).
    const wb = (e.kind === 'onnx2wasm' || e.kind === 'native') && e.model?.signature?.memory?.weights_bytes ? e.model.signature.memory.weights_bytes
      : cfg.weight_bytes_float32 || cfg.weight_bytes;
    const ceiling = readCeiling(wb).gbs * 1e9;          // bytes/s over a working set of as many bytes
    const tps = 1000 / median(decode[k]);
    row.engines[e.kind] = {
      prefill64_ms: median(prefill[k]), prefill64_min_ms: Math.min(...prefill[k]),
      decode_ms: median(decode[k]), decode_tokens_per_s: tps,
      weight_bytes: wb, weights_gb_per_s: (wb * tps) / 1e9, ceiling_gb_per_s: ceiling / 1e9, of_ceiling: (wb * tps) / ceiling,
    };
  });
  const ours = row.engines.onnx2wasm, ref = row.engines['ort-web'];
  if (ours && ref) { ours.decode_x = ours.decode_tokens_per_s / ref.decode_tokens_per_s; ours.prefill_x = ref.prefill64_ms / ours.prefill64_ms; }
  const nat = row.engines.native, nref = row.engines['ort-node'];   // the native library against onnxruntime-node
  if (nat && nref) { nat.decode_x = nat.decode_tokens_per_s / nref.decode_tokens_per_s; nat.prefill_x = nref.prefill64_ms / nat.prefill64_ms; }
  for (const [k, v] of Object.entries(notes)) row.engines[k] = { error: v };
  results.push(row);
  for (const e of engines) await e.release();
}

const f = (x, d = 1) => (x === undefined || x === null ? '-' : x.toFixed(d));
console.log(`decode at past ${PAST}, prefill of ${PREFILL} tokens; median of ${runs} calls; 1 thread; ` +
            `weights GB/s = weight bytes streamed per token x tokens/s vs the streaming-read ceiling measured over as many bytes; ` +
            `*_bf16: the same model as a bfloat16 checkpoint (models/to_bf16.py; onnxruntime-web widens it to float32 at session creation)\n`);
console.log('| model | engine | prefill 64 ms | decode ms/token | tokens/s | x ort-web (native: x ort-node) (decode / prefill) | weights MB | weights GB/s | ceiling GB/s | of ceiling |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
for (const r of results) {
  for (const [kind, e] of Object.entries(r.engines)) {
    if (e.error) { console.log(`| ${r.model} | ${kind} | ${e.error} |||||||| `); continue; }
    const x = e.decode_x ? `**${f(e.decode_x, 2)}** / ${f(e.prefill_x, 2)}` : '1';
    console.log(`| ${r.model} | ${kind} | ${f(e.prefill64_ms)} | ${f(e.decode_ms, 3)} | ${f(e.decode_tokens_per_s, 0)} | ${x} | ` +
                `${f(e.weight_bytes / 1e6, 2)} | ${f(e.weights_gb_per_s, 2)} | ${f(e.ceiling_gb_per_s, 1)} | ${f(100 * e.of_ceiling, 1)}% |`);
  }
}
if (jsonOut) fs.writeFileSync(jsonOut, JSON.stringify({ date: new Date().toISOString(), host: os.cpus()[0]?.model, runs, results }, null, 1) + '\n');
