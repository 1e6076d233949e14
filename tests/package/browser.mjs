// browser.mjs DIR DATA_DIR — the package's esbuild bundle in headless Chromium (Debian's chromium, playwright-core):
// DIR holds the page's files (index.html loading web.js, the bundle, and the model files it fetches beside
// itself); DIR is served from 127.0.0.1, the page runs the model on DATA_DIR/input_0.pb (served as input.bin, raw
// floats) and its output must match DATA_DIR/output_0.pb, onnxruntime-web's (rtol 1e-3, atol 1e-4). Prints one line;
// exit status 0 when it matches.
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { decodeTensor } from '../../runtime/js/tensorproto.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const [dir, data] = process.argv.slice(2).map((p) => path.resolve(p));
const require = createRequire(path.join(root, 'tools', 'package.json'));
const { chromium } = require('playwright-core');

const x = decodeTensor(fs.readFileSync(path.join(data, 'input_0.pb')));
const want = decodeTensor(fs.readFileSync(path.join(data, 'output_0.pb')));
fs.writeFileSync(path.join(dir, 'input.bin'), Buffer.from(x.data.buffer, x.data.byteOffset, x.data.byteLength));

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.mjs': 'text/javascript', '.wasm': 'application/wasm' };
const server = http.createServer((req, res) => {
  const f = path.resolve(dir, decodeURIComponent(new URL(req.url, 'http://x').pathname).slice(1) || 'index.html');
  if (!f.startsWith(dir + path.sep) || !fs.existsSync(f) || !fs.statSync(f).isFile()) { res.writeHead(404); res.end(); return; }
  const body = fs.readFileSync(f);
  res.writeHead(200, { 'Content-Type': TYPES[path.extname(f)] || 'application/octet-stream', 'Content-Length': body.length });
  res.end(body);
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
let status = 1;
try {
  const page = await browser.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`http://127.0.0.1:${server.address().port}/`);
  await page.waitForFunction(() => globalThis.result || globalThis.failure, null, { timeout: 60000 });
  const got = await page.evaluate(() => (globalThis.result ? { data: Array.from(globalThis.result), wasm: globalThis.wasmFile } : { error: String(globalThis.failure) }));
  if (got.error || errors.length) {
    console.log(`the page failed: ${got.error || errors.join('; ')}`);
  } else {
    let worst = -Infinity;
    for (let i = 0; i < want.data.length; i++) worst = Math.max(worst, Math.abs(got.data[i] - want.data[i]) - 1e-3 * Math.abs(want.data[i]));
    if (got.data.length === want.data.length && worst <= 1e-4) {
      status = 0;
      console.log(`max excess error ${worst.toExponential(2)} over ${want.data.length} outputs, ${await browser.version()}`);
    } else {
      console.log(`mismatch: ${got.data.length} outputs for ${want.data.length}, worst excess error ${worst}`);
    }
  }
} finally {
  await browser.close();
  server.close();
}
process.exit(status);
