// snippets.mjs BUILD_DIR [FILE.md ...] — runs the code blocks of README.md and docs/*.md that are marked to run.
//
// The convention: a fenced block whose info string is `sh run`, `js run` or `html run` runs as written (GitHub
// shows it as sh / js / html). Every js and html block must be marked `run` or `norun` (a fragment, or one that
// needs what the folder below does not have); sh blocks without `run` are repository workflows (setup, exports,
// benchmarks) and are listed, not run. The C example of abi.md is run by tests/native.
// The blocks of one file run in order in one fresh folder, so a later block sees what an earlier one made. It holds:
//   model.onnx, classifier.onnx  a small classifier exported here: float32 `input` [1, 3, 224, 224] -> `output` [1, 1000]
//   model.wasm                   model.onnx compiled
//   test_data/                   input_0.pb, and output_0.pb from onnxruntime-web (tools/ort-oracle.mjs)
//   image.png                    examples/classify/sample.png
//   runtime/, onnx2wasm.mjs, onnx2wasm-node.mjs, tensorproto.mjs   the repository's runtime (links)
// with onnx2wasm and onnx2wasm-run on PATH and npm offline. sh blocks run with `sh -e`, js blocks as .mjs files with
// node, html blocks as pages served from the folder on 127.0.0.1 in headless Chromium: one passes when no error is
// raised and the text of its <output> element changes.
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const args = process.argv.slice(2);
const build = path.resolve(args[0] || path.join(root, 'build'));
const files = args.length > 1 ? args.slice(1).map((f) => path.resolve(f))
  : [path.join(root, 'README.md'), ...fs.readdirSync(path.join(root, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => path.join(root, 'docs', f))];
const chromiumPath = '/usr/bin/chromium';

let pass = 0, fail = 0;
const ok = (m) => { pass++; console.log(`ok   ${m}`); };
const bad = (m) => { fail++; console.log(`FAIL ${m}`); };
const tail = (s, n = 8) => String(s || '').trim().split('\n').slice(-n).join('\n     ');

/** The fenced blocks of a markdown file: {line, lang, flags, body}. */
export function blocks(text) {
  const out = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = /^(`{3,})\s*([\w-]*)\s*(.*)$/.exec(lines[i]);
    if (!m) continue;
    const fence = m[1], start = i;
    const body = [];
    for (i++; i < lines.length && !lines[i].startsWith(fence); i++) body.push(lines[i]);
    out.push({ line: start + 1, lang: m[2], flags: m[3].split(/\s+/).filter(Boolean), body: body.join('\n') + '\n' });
  }
  return out;
}

// ---------------------------------------------------------------- the folder the blocks run in
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'o2w-docs-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
const base = path.join(tmp, 'base');
fs.mkdirSync(path.join(base, 'test_data'), { recursive: true });
const exportPy = `
import sys, torch, torch.nn as nn
torch.manual_seed(0)
m = nn.Sequential(nn.Conv2d(3, 8, 3, stride=4, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 1000)).eval()
torch.onnx.export(m, torch.randn(1, 3, 224, 224), sys.argv[1], input_names=['input'], output_names=['output'], opset_version=13)
`;
function sh(cmd, argv, opts = {}) {
  return spawnSync(cmd, argv, { encoding: 'utf8', timeout: 120000, ...opts });
}
let r = sh('/usr/bin/python3', ['-c', exportPy, path.join(base, 'model.onnx')]);
if (r.status !== 0) { bad(`exporting the snippets' model: ${tail(r.stderr)}`); process.exit(1); }
fs.copyFileSync(path.join(base, 'model.onnx'), path.join(base, 'classifier.onnx'));
r = sh('node', [path.join(root, 'tools/ort-oracle.mjs'), path.join(base, 'model.onnx'), '--data', path.join(base, 'test_data'), '--gen', '--quiet']);
if (r.status !== 0) { bad(`onnxruntime-web reference: ${tail(r.stderr)}`); process.exit(1); }
r = sh(path.join(build, 'onnx2wasm'), [path.join(base, 'model.onnx'), '-o', path.join(base, 'model.wasm')]);
if (r.status !== 0) { bad(`compiling the snippets' model: ${tail(r.stderr)}`); process.exit(1); }
fs.copyFileSync(path.join(root, 'examples/classify/sample.png'), path.join(base, 'image.png'));
const links = { runtime: 'runtime', 'onnx2wasm.mjs': 'runtime/js/onnx2wasm.mjs', 'onnx2wasm-node.mjs': 'runtime/js/onnx2wasm-node.mjs',
                'tensorproto.mjs': 'runtime/js/tensorproto.mjs' };
const env = { ...process.env, PATH: `${build}:${process.env.PATH}`, npm_config_offline: 'true', npm_config_audit: 'false',
              npm_config_fund: 'false', npm_config_update_notifier: 'false' };

function freshFolder(name) {
  const dir = path.join(tmp, name);
  fs.cpSync(base, dir, { recursive: true });
  for (const [k, v] of Object.entries(links)) fs.symlinkSync(path.join(root, v), path.join(dir, k));
  return dir;
}

// ---------------------------------------------------------------- pages
let browser = null, server = null, serverRoot = null, baseUrl = null;
async function startBrowser() {
  if (browser) return;
  const require = createRequire(path.join(root, 'tools', 'package.json'));
  const { chromium } = require('playwright-core');
  const TYPES = { '.html': 'text/html', '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.png': 'image/png' };
  server = http.createServer((req, res) => {
    const f = path.resolve(serverRoot, '.' + decodeURIComponent(new URL(req.url, 'http://x').pathname));
    if (!f.startsWith(serverRoot + path.sep) || !fs.existsSync(f) || !fs.statSync(f).isFile()) { res.writeHead(404); res.end(); return; }
    const body = fs.readFileSync(f);
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(f)] || 'application/octet-stream', 'Content-Length': body.length });
    res.end(body);
  });
  await new Promise((res) => server.listen(0, '127.0.0.1', res));
  baseUrl = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args: ['--no-sandbox'] });
}

async function runPage(dir, file) {
  await startBrowser();
  serverRoot = fs.realpathSync(dir);
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  // a failed request shows as a console error without its URL: the response handler reports those (favicon aside)
  page.on('console', (m) => { if (m.type() === 'error' && !/^Failed to load resource/.test(m.text())) errors.push(m.text()); });
  page.on('response', (x) => { if (x.status() >= 400 && !x.url().endsWith('/favicon.ico')) errors.push(`${x.status()} ${x.url()}`); });
  await page.addInitScript(() => {
    document.addEventListener('DOMContentLoaded', () => { window.__initialOutput = document.querySelector('output')?.textContent ?? null; });
  });
  try {
    await page.goto(`${baseUrl}/${file}`);
    const hasOutput = await page.evaluate(() => document.querySelector('output') !== null);
    if (!hasOutput) return { ok: false, why: 'the page has no <output> element' };
    await page.waitForFunction(() => {
      const t = document.querySelector('output').textContent;
      return t.trim() !== '' && t !== window.__initialOutput;
    }, null, { timeout: 30000 }).catch(() => {});
    const text = await page.evaluate(() => document.querySelector('output').textContent);
    const initial = await page.evaluate(() => window.__initialOutput);
    if (errors.length) return { ok: false, why: errors.join('; ') };
    if (text.trim() === '' || text === initial) return { ok: false, why: `its <output> stayed '${text}'` };
    return { ok: true, text };
  } finally {
    await page.close();
  }
}

// ---------------------------------------------------------------- run
for (const file of files) {
  const rel = path.relative(root, file);
  const list = blocks(fs.readFileSync(file, 'utf8'));
  const marked = list.filter((b) => b.flags.includes('run'));
  for (const b of list) {
    if ((b.lang === 'js' || b.lang === 'html') && !b.flags.includes('run') && !b.flags.includes('norun')) {
      bad(`${rel}:${b.line}: a ${b.lang} block is neither \`${b.lang} run\` nor \`${b.lang} norun\``);
    }
  }
  const notRun = list.filter((b) => b.lang === 'sh' && !b.flags.includes('run')).map((b) => b.line);
  if (notRun.length) console.log(`#    ${rel}: sh blocks at lines ${notRun.join(', ')} not marked run (repository workflows, servers)`);
  if (!marked.length) continue;
  const dir = freshFolder(rel.replace(/[^\w.-]/g, '_'));
  for (const b of marked) {
    const where = `${rel}:${b.line} (${b.lang})`;
    const t0 = Date.now();
    if (b.lang === 'sh') {
      const x = sh('sh', ['-e', '-c', b.body], { cwd: dir, env });
      if (x.status === 0) ok(`${where} ${((Date.now() - t0) / 1000).toFixed(1)} s${x.stdout.trim() ? `: ${tail(x.stdout, 1)}` : ''}`);
      else bad(`${where}: exit ${x.status ?? x.signal}\n     ${tail(x.stderr || x.stdout)}`);
    } else if (b.lang === 'js') {
      const f = path.join(dir, `snippet-${b.line}.mjs`);
      fs.writeFileSync(f, b.body);
      const x = sh('node', [f], { cwd: dir, env });
      if (x.status === 0) ok(`${where} ${((Date.now() - t0) / 1000).toFixed(1)} s: ${tail(x.stdout, 1)}`);
      else bad(`${where}: exit ${x.status ?? x.signal}\n     ${tail(x.stderr || x.stdout)}`);
    } else if (b.lang === 'html') {
      const f = `snippet-${b.line}.html`;
      fs.writeFileSync(path.join(dir, f), b.body);
      try {
        const p = await runPage(dir, f);
        if (p.ok) ok(`${where} in Chromium ${((Date.now() - t0) / 1000).toFixed(1)} s: ${p.text.split('\n')[0]}`);
        else bad(`${where} in Chromium: ${p.why}`);
      } catch (e) {
        bad(`${where} in Chromium: ${e.message}`);
      }
    } else {
      bad(`${where}: only sh, js and html blocks can run`);
    }
  }
}
if (browser) await browser.close();
if (server) server.close();
console.log(`${pass} passed, ${fail} failed`);
process.exit(fail ? 1 : 0);
