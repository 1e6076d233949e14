// check_example.mjs MODEL.onnx OUT.txt... — the abi.md example's printed output against onnxruntime-web
// on the same input (x[i] = (i % 7) / 7), within 1e-5 absolute (probabilities).
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
const require = createRequire(path.join(path.dirname(fileURLToPath(import.meta.url)), '../../tools/package.json'));
const ort = require('onnxruntime-web');
const [model, ...outs] = process.argv.slice(2);
ort.env.wasm.numThreads = 1;
const s = await ort.InferenceSession.create(fs.readFileSync(model));
const x = new Float32Array(3 * 16 * 16).map((_, i) => (i % 7) / 7);
const y = (await s.run({ x: new ort.Tensor('float32', x, [1, 3, 16, 16]) })).y.data;
for (const f of outs) {
  const line = fs.readFileSync(f, 'utf8').trim();
  const m = /^y rank 2 \[1, 10\]:((?: -?[0-9.]+){10})$/.exec(line);
  if (!m) { console.error(`${f}: unexpected output '${line}'`); process.exit(1); }
  const got = m[1].trim().split(/\s+/).map(Number);
  const worst = Math.max(...got.map((v, i) => Math.abs(v - y[i])));
  if (!(worst <= 1e-5)) { console.error(`${f}: max abs error ${worst} against onnxruntime-web`); process.exit(1); }
  console.log(`${f}: matches onnxruntime-web (max abs error ${worst.toExponential(2)})`);
}
