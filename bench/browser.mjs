// browser.mjs — onnx2wasm against onnxruntime-web (wasm, 1 thread) in headless Chromium, on the same models and
// inputs as bench/bench.mjs. Writes bench/results-browser.json and bench/results-browser.md.
//
// usage: node bench/browser.mjs [--build DIR] [--runs N] [--cold N] [--models a,b,c] [--out PREFIX]
//                               [--chromium PATH]
// A Node HTTP server on 127.0.0.1 serves this repository (/repo/...), onnxruntime-web's dist/ (/ort/...) and the
// compiled modules (/out/...), with COOP/COEP headers (a cross-origin isolated page, as a site that enables
// wasm threads has). Chromium (Debian's `chromium`, driven by playwright-core from tools/) opens
// bench/browser/page.html; page.mjs does the timing in the page with performance.now().
// Peers: onnx2wasm (the baseline SIMD128 module), onnx2wasm-relaxed (`--simd relaxed`, f32x4.relaxed_madd; the page
// reports whether the browser runs relaxed SIMD) and onnxruntime-web.
// Per model and peer: cold starts (--cold, default 3) in fresh browser contexts, taking turns between the peers:
// fetch + compile/create + first run; their median reported. Then, in one page with both peers loaded, the peers
// take turns run by run (interleaved, so machine noise hits both alike): median and min of N runs after warm-up.
// Code size = module bytes minus weight bytes (ours) / the .wasm the page fetched from /ort/ (ort-web). Outputs
// are checked against the model's reference output (rtol 1e-3, atol 1e-4) in Node.
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import http from 'node:http';
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
const outPrefix = opt('--out', path.join(here, 'results-browser'));
const chromiumPath = opt('--chromium', '/usr/bin/chromium');

const require = createRequire(path.join(root, 'tools', 'package.json'));
let chromium;
try { ({ chromium } = require('playwright-core')); } catch (e) {
  console.error(`playwright-core is missing (scripts/install-deps.sh installs it into tools/): ${e.message}`);
  process.exit(2);
}
if (!fs.existsSync(chromiumPath)) { console.error(`no Chromium at ${chromiumPath} (apt-get install chromium, or --chromium PATH)`); process.exit(2); }
const ortDist = path.dirname(require.resolve('onnxruntime-web'));
const ortVersion = JSON.parse(fs.readFileSync(path.join(ortDist, '..', 'package.json'), 'utf8')).version;
const { decodeTensor } = await import(path.join(root, 'runtime/js/tensorproto.mjs'));
const { compareTensor } = await import(path.join(root, 'runtime/js/onnx2wasm-run.mjs'));
const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'o2w-browser-bench-'));

// ---------------------------------------------------------------- the server
const TYPES = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm',
                '.json': 'application/json' };
const served = {};   // url -> bytes sent (the code size of ort-web is the .wasm it fetched)
function resolveUrl(u) {
  const p = decodeURIComponent(new URL(u, 'http://x').pathname);
  const map = [['/repo/', root], ['/ort/', ortDist], ['/out/', outDir]];
  for (const [pre, dir] of map)
    if (p.startsWith(pre)) {
      const f = path.resolve(dir, '.' + p.slice(pre.length - 1));
      return f.startsWith(dir + path.sep) ? f : null;
    }
  return null;
}
const server = http.createServer((req, res) => {
  const f = resolveUrl(req.url);
  if (!f || !fs.existsSync(f) || !fs.statSync(f).isFile()) { res.writeHead(404); res.end(); return; }
  const body = fs.readFileSync(f);
  served[new URL(req.url, 'http://x').pathname] = body.length;
  res.writeHead(200, { 'Content-Type': TYPES[path.extname(f)] || 'application/octet-stream', 'Content-Length': body.length,
                       'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp',
                       'Cache-Control': 'no-store' });
  res.end(body);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
async function newPage() {
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
  await page.goto(`${base}/repo/bench/browser/page.html`);
  await page.waitForFunction(() => globalThis.o2wBenchReady === true);
  return { ctx, page };
}


let features = null;
const results = [];
for (const name of models) {
  const prep = prepareModel(root, name);
  if (!prep) continue;
  const { dir, onnxPath, dimArgs } = prep;
  const cc = spawnSync(path.join(build, 'onnx2wasm'), [onnxPath, '-o', path.join(outDir, `${name}.wasm`), '--stats', ...dimArgs], { encoding: 'utf8' });
  if (cc.status !== 0) { console.error(`skip ${name}: ${cc.stderr}`); continue; }
  const stats = JSON.parse(cc.stdout.trim().split('\n').pop());
  // the relaxed-SIMD build of the same model (--simd relaxed), a peer of its own where Chromium runs it
  const rc = spawnSync(path.join(build, 'onnx2wasm'), [onnxPath, '-o', path.join(outDir, `${name}.relaxed.wasm`), '--simd', 'relaxed', '--stats', ...dimArgs], { encoding: 'utf8' });
  if (rc.status !== 0) { console.error(`${name} --simd relaxed: ${rc.stderr}`); process.exit(1); }
  const rstats = JSON.parse(rc.stdout.trim().split('\n').pop());
  const expected = decodeTensor(fs.readFileSync(path.join(dir, 'data', 'input_0.pb').replace('input_0', 'output_0')));
  const urls = { onnx2wasm: `/out/${name}.wasm`, 'onnx2wasm-relaxed': `/out/${name}.relaxed.wasm`, 'ort-web': `/repo/models/${name}/model.onnx` };
  const inputUrl = `/repo/models/${name}/data/input_0.pb`;
  const peerNames = Object.keys(urls);
  const colds = Object.fromEntries(peerNames.map((p) => [p, []]));
  for (let i = 0; i < coldRuns; i++)
    for (const p of peerNames) {
      const { ctx, page } = await newPage();
      await page.evaluate((u) => globalThis.o2wBench.setInput(u), inputUrl);
      const r = await page.evaluate(([peer, u]) => globalThis.o2wBench.start(peer, u), [p, urls[p]]);
      colds[p].push(r.load_first_ms);
      await ctx.close();
    }
  const { ctx, page } = await newPage();
  if (!features) features = await page.evaluate(() => globalThis.o2wBench.features());
  await page.evaluate((u) => globalThis.o2wBench.setInput(u), inputUrl);
  for (const p of peerNames) await page.evaluate(([peer, u]) => globalThis.o2wBench.start(peer, u), [p, urls[p]]);
  const times = await page.evaluate(([n, w]) => globalThis.o2wBench.warm(n, w), [runs, 3]);
  const row = { model: name, weights_bytes: stats.weights_bytes, peers: {} };
  const ortWasm = Object.entries(served).filter(([u]) => u.startsWith('/ort/') && u.endsWith('.wasm')).map(([, n]) => n);
  for (const p of peerNames) {
    const out = await page.evaluate((peer) => globalThis.o2wBench.output(peer), p);
    const cmp = compareTensor({ dtype: 'float32', dims: expected.dims, data: Float32Array.from(out) }, expected, { rtol: 1e-3, atol: 1e-4 });
    row.peers[p] = { median_ms: median(times[p]), min_ms: Math.min(...times[p]), cold_load_first_ms: median(colds[p]), cold_samples_ms: colds[p],
                     code_bytes: p === 'onnx2wasm' ? stats.code_bytes : p === 'onnx2wasm-relaxed' ? rstats.code_bytes : (ortWasm.length ? Math.max(...ortWasm) : NaN),
                     matches_reference: cmp.ok, max_abs_err: cmp.maxAbs };
  }
  await ctx.close();
  results.push(row);
  const o = row.peers.onnx2wasm, x = row.peers['onnx2wasm-relaxed'], w = row.peers['ort-web'];
  console.error(`${name}: onnx2wasm ${o.median_ms.toFixed(2)} ms (relaxed ${x.median_ms.toFixed(2)}), ort-web ${w.median_ms.toFixed(2)} ms (x${(w.median_ms / o.median_ms).toFixed(2)}, relaxed x${(w.median_ms / x.median_ms).toFixed(2)})`);
}
await browser.close();
server.close();
fs.rmSync(outDir, { recursive: true, force: true });

const env = { date: new Date().toISOString(), browser: features?.userAgent, cpu: os.cpus()[0]?.model, cores: os.cpus().length,
              cross_origin_isolated: features?.crossOriginIsolated, relaxed_simd: features?.relaxedSimd, ort_web: ortVersion, runs,
              cold_runs: coldRuns, command: `node bench/browser.mjs ${args.join(' ')}`.trim() };
fs.writeFileSync(`${outPrefix}.json`, JSON.stringify({ env, results }, null, 1) + '\n');
const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
const kb = (x) => (Number.isFinite(x) ? (x / 1024).toFixed(0) + ' KB' : 'n/a');
const ua = /(HeadlessChrome|Chrome)\/[\d.]+/.exec(env.browser || '')?.[0] || env.browser;
let md = `Measured ${env.date.slice(0, 10)} on ${env.cpu} (${env.cores} cores), ${ua} headless (relaxed SIMD ${env.relaxed_simd ? 'available' : 'unavailable'}, ` +
  `cross-origin isolated: ${env.cross_origin_isolated ? 'yes' : 'no'}), onnxruntime-web ${env.ort_web} (wasm, 1 thread), ${runs} interleaved runs after warm-up; ` +
  `cold fetch+compile+first: median of ${coldRuns} fresh browser contexts per peer.\nCommand: \`${env.command}\`\n\n` +
  '| model | peer | median ms | min ms | cold load+first ms | code size | matches ref | speed-up vs ort-web | load+first vs ort-web |\n' +
  '|---|---|---:|---:|---:|---:|:---:|---:|---:|\n';
for (const r of results) {
  const w = r.peers['ort-web'];
  for (const [peer, p] of Object.entries(r.peers))
    md += `| ${r.model} | ${peer} | ${f(p.median_ms, 2)} | ${f(p.min_ms, 2)} | ${f(p.cold_load_first_ms)} | ${kb(p.code_bytes)} | ${p.matches_reference ? 'yes' : 'NO'} | ` +
      `${peer === 'ort-web' ? '1.00' : f(w.median_ms / p.median_ms, 2)} | ${peer === 'ort-web' ? '1.00' : f(p.cold_load_first_ms / w.cold_load_first_ms, 2)} |\n`;
}
fs.writeFileSync(`${outPrefix}.md`, md);
process.stdout.write(md);
