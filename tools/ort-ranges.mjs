#!/usr/bin/env node
// Calibration for static quantization: runs MODEL.onnx with onnxruntime-web on N seeded random inputs
// and prints, as one JSON object, the [min, max] of every graph output over all runs. The caller
// (models/quantize_models.py --format static) adds the tensors it wants measured as graph outputs.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { createSession, concreteShape, randomData } from './ort-oracle.mjs';
import { mulberry32 } from '../runtime/js/onnx2wasm-run.mjs';

const HELP = `usage: node tools/ort-ranges.mjs MODEL.onnx [--runs N] [--seed S] [--range LO,HI] [--dim NAME=V]...

Prints {"output name": [min, max], ...} over N runs (default 8) on seeded random inputs drawn as
tools/ort-oracle.mjs --gen draws them (run i uses seed S+i; default S = 1000, so the calibration
inputs are not the test inputs of seed 0). Exit status 0 ok, 1 onnxruntime failed, 2 usage.`;

function parse(argv) {
  const o = { model: null, runs: 8, seed: 1000, range: null, dims: {} };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], val = () => {
      if (i + 1 >= argv.length) throw new Error(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '-h' || a === '--help') { o.help = true; continue; }
    if (a === '--runs') o.runs = Number(val());
    else if (a === '--seed') o.seed = Number(val());
    else if (a === '--range') o.range = val().split(',').map(Number);
    else if (a === '--dim') {
      const m = /^([^=]+)=(\d+)$/.exec(val());
      if (!m) throw new Error('--dim needs NAME=VALUE');
      o.dims[m[1]] = Number(m[2]);
    } else if (a.startsWith('-')) throw new Error(`unknown option '${a}'`);
    else o.model = a;
  }
  if (o.help) return o;
  if (!o.model) throw new Error('missing MODEL.onnx');
  if (!(Number.isInteger(o.runs) && o.runs >= 1)) throw new Error('--runs needs an integer >= 1');
  if (!(Number.isInteger(o.seed) && o.seed >= 0)) throw new Error('--seed needs an integer >= 0');
  if (o.range && !(o.range.length === 2 && o.range.every(Number.isFinite) && o.range[0] < o.range[1]))
    throw new Error('--range needs LO,HI with LO < HI');
  return o;
}

async function main(argv) {
  let o;
  try { o = parse(argv); } catch (e) { console.error(`ort-ranges: ${e.message}`); return 2; }
  if (o.help) { console.log(HELP); return 0; }
  const session = await createSession(fs.readFileSync(o.model));
  const metas = session.inputMetadata;
  const ranges = {};
  for (let r = 0; r < o.runs; r++) {
    const rand = mulberry32(o.seed + r), feeds = {};
    session.inputNames.forEach((name, k) => {
      const dims = concreteShape(metas[k], o.dims), n = dims.reduce((a, b) => a * b, 1);
      feeds[name] = new ort.Tensor(metas[k].type, randomData(metas[k].type, n, rand, o.range), dims);
    });
    const res = await session.run(feeds);
    for (const name of session.outputNames) {
      const d = res[name].data;
      let lo = Infinity, hi = -Infinity;
      for (let i = 0; i < d.length; i++) { const v = Number(d[i]); if (v < lo) lo = v; if (v > hi) hi = v; }
      const p = ranges[name];
      ranges[name] = p ? [Math.min(p[0], lo), Math.max(p[1], hi)] : [lo, hi];
    }
  }
  console.log(JSON.stringify(ranges));
  return 0;
}

const isMain = (() => {
  try { return !!process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url); } catch { return false; }
})();
if (isMain) {
  try { process.exitCode = await main(process.argv.slice(2)); } catch (e) { console.error(`ort-ranges: ${e.message}`); process.exitCode = 1; }
}
