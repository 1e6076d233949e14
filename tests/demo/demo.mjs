// demo.mjs BUILD_DIR [--screenshot FILE] — the browser demos (examples/) in headless Chromium, served with the
// repository from 127.0.0.1; each page's model/ folder is mapped to a temp folder compiled here.
// classify: mobilenet_v2's package. The page classifies its bundled sample, then an image picked through its
// file input (a BMP written here, not square: the page crops it). For each, the RGBA pixels the page drew are
// normalized here (a few lines of their own, not the runtime's imageToTensor) and run by onnxruntime-web in
// Node, the oracle: the page's tensor must equal that input and its logits match (rtol 1e-3, atol 1e-4), its
// top-5 the oracle's. The page must stay responsive (the model runs in a worker). A screenshot is saved.
// generate: gpt2_char compiled with run-time seq/past. A greedy generation from a prompt typed into the page;
// onnxruntime-web steps through the same tokens (teacher forcing): every step's logits must match, and each
// token be the oracle's argmax (or within the tolerance of it); the characters must reach the page one by one.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const args = process.argv.slice(2);
const build = path.resolve(args[0] || path.join(root, 'build'));
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const shotPath = path.resolve(opt('--screenshot', path.join(build, 'demo.png')));
const chromiumPath = opt('--chromium', '/usr/bin/chromium');
const modelDir = path.join(root, 'models/mobilenet_v2');
const gptDir = path.join(root, 'models/gpt2_char');

let pass = 0, fail = 0;
const ok = (m) => { pass++; console.log(`ok   ${m}`); };
const bad = (m) => { fail++; console.log(`FAIL ${m}`); };
const done = () => { console.log(`${pass} passed, ${fail} failed`); process.exit(fail ? 1 : 0); };

const require = createRequire(path.join(root, 'tools', 'package.json'));
let chromium, ort;
try {
  ({ chromium } = require('playwright-core'));
  ort = await import(pathToFileURL(require.resolve('onnxruntime-web')).href);
} catch (e) {
  bad(`tools/node_modules lacks playwright-core or onnxruntime-web (scripts/install-deps.sh): ${e.message}`);
  done();
}
if (!fs.existsSync(chromiumPath)) { bad(`no Chromium at ${chromiumPath} (scripts/install-deps.sh installs Debian's chromium)`); done(); }

// the package of the model, served as /model/
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'o2w-demo-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const cc = spawnSync(path.join(build, 'onnx2wasm'), [path.join(modelDir, 'model.onnx'), '-o', path.join(tmp, 'model') + '/'], { encoding: 'utf8' });
if (cc.status !== 0) { bad(`compiling the package: ${cc.stderr}`); done(); }
ok(`package compiled: ${fs.readdirSync(path.join(tmp, 'model')).join(' ')}`);
fs.mkdirSync(path.join(tmp, 'gen'));
const gc = spawnSync(path.join(build, 'onnx2wasm'), [path.join(gptDir, 'model.onnx'), '-o', path.join(tmp, 'gen/model.wasm'),
  '--max-dim', 'seq=64', '--max-dim', 'past=255'], { encoding: 'utf8' });
if (gc.status !== 0) { bad(`compiling gpt2_char: ${gc.stderr}`); done(); }
for (const f of ['vocab.json', 'config.json']) fs.copyFileSync(path.join(gptDir, f), path.join(tmp, 'gen', f));

// an image for the file input: 300x200 24-bit BMP, a diagonal gradient with a dark disc off center
function bmp(w, h) {
  const row = Math.ceil((w * 3) / 4) * 4, size = 54 + row * h, b = Buffer.alloc(size);
  b.write('BM', 0); b.writeUInt32LE(size, 2); b.writeUInt32LE(54, 10); b.writeUInt32LE(40, 14);
  b.writeInt32LE(w, 18); b.writeInt32LE(h, 22); b.writeUInt16LE(1, 26); b.writeUInt16LE(24, 28); b.writeUInt32LE(row * h, 34);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = 54 + (h - 1 - y) * row + 3 * x, disc = (x - 180) ** 2 + (y - 90) ** 2 < 60 ** 2;
      b[o] = disc ? 30 : (255 * x) / w; b[o + 1] = disc ? 40 : (255 * y) / h; b[o + 2] = disc ? 60 : 255 - (255 * x) / w;  // B, G, R
    }
  return b;
}
fs.writeFileSync(path.join(tmp, 'picked.bmp'), bmp(300, 200));

// the server: the repository at /, each page's model/ from the temp folder
const TYPES = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm',
                '.json': 'application/json', '.png': 'image/png' };
const server = http.createServer((req, res) => {
  const p = decodeURIComponent(new URL(req.url, 'http://x').pathname);
  const mapped = [['/examples/classify/model/', path.join(tmp, 'model')], ['/examples/generate/model/', path.join(tmp, 'gen')]]
    .find(([pre]) => p.startsWith(pre));
  const [base, rel] = mapped ? [mapped[1], p.slice(mapped[0].length)] : [root, p.slice(1) + (p.endsWith('/') ? 'index.html' : '')];
  const f = path.resolve(base, rel);
  if (!f.startsWith(base + path.sep) || !fs.existsSync(f) || !fs.statSync(f).isFile()) { res.writeHead(404); res.end(); return; }
  const body = fs.readFileSync(f);
  res.writeHead(200, { 'Content-Type': TYPES[path.extname(f)] || 'application/octet-stream', 'Content-Length': body.length, 'Cache-Control': 'no-store' });
  res.end(body);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const url = `http://127.0.0.1:${server.address().port}/examples/classify/`;
const genUrl = `http://127.0.0.1:${server.address().port}/examples/generate/`;

// the oracle: onnxruntime-web (wasm, 1 thread) in Node on the RGBA pixels normalized here
ort.env.wasm.numThreads = 1;
ort.env.logLevel = 'error';
const session = await ort.InferenceSession.create(fs.readFileSync(path.join(modelDir, 'model.onnx')), { executionProviders: ['wasm'] });
const MEAN = [0.485, 0.456, 0.406], STD = [0.229, 0.224, 0.225];
function normalize(rgba, w, h) {
  const x = new Float32Array(3 * w * h);
  for (let c = 0; c < 3; c++) for (let i = 0; i < w * h; i++) x[c * w * h + i] = (rgba[4 * i + c] / 255 - MEAN[c]) / STD[c];
  return x;
}
const top5 = (a) => [...a].map((v, i) => [v, i]).sort((p, q) => q[0] - p[0]).slice(0, 5).map((p) => p[1]);

async function check(r, what) {
  const rgba = Uint8Array.from(Object.values(r.rgba));
  const want = normalize(rgba, r.width, r.height);
  const input = Float32Array.from(Object.values(r.input));
  let inErr = input.length === want.length ? 0 : Infinity;
  for (let i = 0; i < want.length && inErr < Infinity; i++) inErr = Math.max(inErr, Math.abs(input[i] - want[i]));
  if (r.width === 224 && r.height === 224 && r.dims.join() === '1,3,224,224' && inErr <= 1e-5) ok(`${what}: the page's tensor is its pixels normalized (max diff ${inErr.toExponential(1)})`);
  else bad(`${what}: the page fed ${r.dims} differing from its normalized pixels by ${inErr}`);
  const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', want, [1, 3, 224, 224]) };
  const ref = (await session.run(feeds))[session.outputNames[0]].data;
  const got = Float32Array.from(Object.values(r.logits));
  let worst = 0, maxAbs = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(got[i] - ref[i]);
    maxAbs = Math.max(maxAbs, d);
    worst = Math.max(worst, d - (1e-4 + 1e-3 * Math.abs(ref[i])));
  }
  if (got.length === ref.length && worst <= 0) ok(`${what}: logits match onnxruntime-web (max abs err ${maxAbs.toExponential(2)})`);
  else bad(`${what}: logits differ from onnxruntime-web by up to ${maxAbs} (${got.length} of ${ref.length})`);
  const page = r.top5.map((e) => e.index), oracle = top5(ref);
  if (page.join() === oracle.join()) ok(`${what}: top-5 ${page.join(', ')} as onnxruntime-web's`);
  else bad(`${what}: top-5 ${page.join(', ')}, onnxruntime-web's ${oracle.join(', ')}`);
  if (r.yielded) ok(`${what}: the page kept running during the run (${r.ms.toFixed(1)} ms, ${r.ticks} main-thread ticks)`);
  else bad(`${what}: runAsync settled before the page got a tick: not off the main thread`);
}

// ---------------------------------------------------------------- generate
const { openEngine, argmax } = await import(path.join(root, 'tools/llm.mjs'));
async function checkGenerate() {
  const page = await browser.newPage({ viewport: { width: 800, height: 440 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('response', (r) => { if (r.status() >= 400 && !/\/favicon\.ico$/.test(r.url())) errors.push(`${r.status()} ${r.url()}`); });
  await page.goto(genUrl);
  await page.waitForFunction(() => window.demo && (window.demo.loadMs !== undefined || window.demo.error), null, { timeout: 30000 });
  const err = await page.evaluate(() => window.demo.error);
  if (err) { bad(`generate page: ${err}`); return; }
  const promptText = 'LOVE, n. ', N = 40;
  await page.fill('#prompt', promptText);
  await page.fill('#tokens', String(N));
  await page.fill('#topk', '0');
  // count the separate updates of the text: streamed, each character is its own
  await page.evaluate(() => {
    window.__updates = 0;
    new MutationObserver(() => { window.__updates++; }).observe(document.getElementById('text'), { characterData: true, childList: true, subtree: true });
  });
  await page.click('#go');
  await page.waitForFunction(() => window.demo.last && window.demo.last.done, null, { timeout: 60000 });
  const r = await page.evaluate(() => ({ ...window.demo.last, error: window.demo.error, text: document.getElementById('text').textContent, updates: window.__updates }));
  if (r.error) { bad(`generate page: ${r.error}`); return; }
  const vocab = JSON.parse(fs.readFileSync(path.join(gptDir, 'vocab.json'), 'utf8')).chars;
  const decoded = [...r.prompt, ...r.tokens].map((i) => vocab[i]).join('');
  if (r.tokens.length === N && r.text === decoded) ok(`generate: ${N} characters shown after the prompt: ${JSON.stringify(r.text.slice(0, 40))}…`);
  else bad(`generate: ${r.tokens.length} tokens, page text ${JSON.stringify(r.text)} vs ${JSON.stringify(decoded)}`);
  if (r.updates >= N / 2) ok(`generate: streamed (${r.updates} separate updates of the text for ${N} characters)`);
  else bad(`generate: the text changed ${r.updates} times for ${N} characters: not streamed`);
  // the oracle steps through the page's tokens
  const ortEng = await openEngine('ort-web', { onnx: path.join(gptDir, 'model.onnx') });
  let st = await ortEng.step(r.prompt, ortEng.initialState());
  let worst = 0, maxAbs = 0, greedyOk = true;
  for (let i = 0; i < r.tokens.length; i++) {
    const V = st.vocab, ref = st.logits.subarray(st.logits.length - V), got = r.logits[i];
    for (let k = 0; k < V; k++) {
      const d = Math.abs(got[k] - ref[k]);
      maxAbs = Math.max(maxAbs, d);
      worst = Math.max(worst, d - (1e-4 + 1e-3 * Math.abs(ref[k])));
    }
    const best = argmax(ref);
    if (r.tokens[i] !== best && ref[r.tokens[i]] < ref[best] - (1e-4 + 1e-3 * Math.abs(ref[best]))) greedyOk = false;
    if (i + 1 < r.tokens.length) st = await ortEng.step([r.tokens[i]], st.state);
  }
  await ortEng.release();
  if (worst <= 0) ok(`generate: the logits of all ${N} steps match onnxruntime-web's (max abs err ${maxAbs.toExponential(2)})`);
  else bad(`generate: logits differ from onnxruntime-web's by up to ${maxAbs}`);
  if (greedyOk) ok('generate: every character is onnxruntime-web\'s greedy choice');
  else bad('generate: a character is not the greedy choice of onnxruntime-web\'s logits');
  await page.screenshot({ path: shotPath.replace(/\.png$/, '-generate.png') });
  if (errors.length) bad(`generate page errors: ${errors.join('; ')}`); else ok(`no page errors (screenshot ${shotPath.replace(/\.png$/, '-generate.png')})`);
  await page.close();
}

const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 800, height: 440 } });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push(m.text()); });
  // the page asks for an optional labels.json (absent here) and the browser for a favicon: other 404s are errors
  page.on('response', (r) => { if (r.status() >= 400 && !/\/(labels\.json|favicon\.ico)$/.test(r.url())) errors.push(`${r.status()} ${r.url()}`); });
  await page.goto(url);
  await page.waitForFunction(() => window.demo && (window.demo.last || window.demo.error), null, { timeout: 60000 });
  const first = await page.evaluate(() => window.demo.error || window.demo.last);
  if (typeof first === 'string') throw new Error(`the page failed: ${first}`);
  const loadMs = await page.evaluate(() => window.demo.loadMs);
  ok(`the page loaded the model in ${loadMs.toFixed(0)} ms and classified sample.png in ${first.ms.toFixed(1)} ms`);
  await check(first, 'sample.png');
  await page.screenshot({ path: shotPath });
  ok(`screenshot: ${shotPath}`);

  // an image the user picks
  await page.setInputFiles('#file', path.join(tmp, 'picked.bmp'));
  await page.waitForFunction(() => window.demo.last && window.demo.last.runs === 2, null, { timeout: 30000 });
  const picked = await page.evaluate(() => window.demo.last);
  if (picked.source === 'picked.bmp') ok('a picked file is classified'); else bad(`picked file: source ${picked.source}`);
  await check(picked, 'picked.bmp (300x200, cropped)');
  const shown = await page.$$eval('#top5 li', (lis) => lis.map((li) => [...li.children].map((c) => c.textContent).join(' ')));
  if (shown.length === 5 && shown[0].startsWith(`class ${picked.top5[0].index}`)) ok(`the page lists the top 5: ${shown[0]} ...`);
  else bad(`the page shows ${JSON.stringify(shown)}`);
  if (errors.length) bad(`page errors: ${errors.join('; ')}`); else ok('no page errors');
  await page.close();
  await checkGenerate();
} catch (e) {
  bad(e.message);
} finally {
  await browser.close();
  server.close();
}
done();
