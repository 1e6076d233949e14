#!/usr/bin/env node
// Reference oracle: runs an .onnx model with onnxruntime-web (wasm backend) and writes output_K.pb.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { decodeTensor, encodeTensor, floatToHalf, TYPED_ARRAY } from '../runtime/js/tensorproto.mjs';
import { mulberry32, readTensorDir } from '../runtime/js/onnx2wasm-run.mjs';

export const HELP = `usage: node tools/ort-oracle.mjs MODEL.onnx --data DIR [options]

Runs MODEL.onnx with onnxruntime-web (wasm backend, 1 thread, SIMD build, default graph
optimizations) and writes its outputs as DIR/output_K.pb (K in graph-output order), the
reference that onnx2wasm's compiled module is compared against (onnx2wasm-run --data DIR).

options:
  --data DIR       input dir: reads DIR/input_K.pb (K in graph-input order, initializers
                   excluded); files are matched by name if all are named with exactly the
                   model's input names, else by position (warning on name differences)
  --out DIR        write output_K.pb here instead of DIR
  --gen            generate seeded random inputs of the model's input shapes and write them as
                   DIR/input_K.pb (named after the inputs) before running
  --seed S         seed for --gen (default 0); mulberry32, the same generator and value mapping
                   as onnx2wasm-run --seed, so both get identical inputs for the same seed
  --range LO,HI    --gen value range: floats uniform in [LO,HI), integers floor of that
                   (default: floats [0,1), integers [0,10)); bools are always 0/1
  --dim NAME=V     value of a symbolic dim (dim_param) for --gen; repeatable. Symbolic or
                   unknown dims without a --dim default to 1
  --no-run         with --gen: only write the inputs
  --quiet          print nothing but errors
  -h, --help       show this help

exit status: 0 ok, 1 onnxruntime failed to load or run the model, 2 usage or I/O error.`;

class CliError extends Error { constructor(m, code = 2) { super(m); this.code = code; } }

export function parseArgs(argv) {
  const o = { model: null, data: null, out: null, gen: false, seed: 0, range: null, dims: {},
              run: true, quiet: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    let a = argv[i], v;
    const eq = a.startsWith('--') ? a.indexOf('=') : -1;
    if (eq > 0) { v = a.slice(eq + 1); a = a.slice(0, eq); }
    const val = () => {
      if (v !== undefined) return v;
      if (i + 1 >= argv.length) throw new CliError(`${a} needs a value`);
      return argv[++i];
    };
    switch (a) {
      case '-h': case '--help': o.help = true; break;
      case '--data': o.data = val(); break;
      case '--out': o.out = val(); break;
      case '--gen': o.gen = true; break;
      case '--no-run': o.run = false; break;
      case '--quiet': case '-q': o.quiet = true; break;
      case '--seed': {
        const s = val();
        o.seed = Number(s);
        if (!Number.isInteger(o.seed) || o.seed < 0) throw new CliError(`--seed needs an integer >= 0, got '${s}'`);
        break;
      }
      case '--range': {
        const s = val();
        const m = s.split(',').map(Number);
        if (m.length !== 2 || !m.every(Number.isFinite) || !(m[0] < m[1])) {
          throw new CliError(`--range needs LO,HI with LO < HI, got '${s}'`);
        }
        o.range = m;
        break;
      }
      case '--dim': {
        const s = val();
        const m = /^([^=]+)=(\d+)$/.exec(s);
        if (!m) throw new CliError(`--dim needs NAME=VALUE, got '${s}'`);
        o.dims[m[1]] = Number(m[2]);
        break;
      }
      default:
        if (a.startsWith('-')) throw new CliError(`unknown option '${a}' (see --help)`);
        if (o.model) throw new CliError(`unexpected argument '${a}'`);
        o.model = a;
    }
  }
  if (o.help) return o;
  if (!o.model) throw new CliError('missing MODEL.onnx (see --help)');
  if (!o.data) throw new CliError('missing --data DIR (see --help)');
  if (!o.run && !o.gen) throw new CliError('--no-run only makes sense with --gen');
  return o;
}

/** Creates an onnxruntime-web session: wasm backend, 1 thread. */
export async function createSession(modelBytes) {
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.simd = true;        // ort-web >= 1.19 ships only SIMD builds; harmless there
  ort.env.logLevel = 'error';
  return ort.InferenceSession.create(modelBytes, { executionProviders: ['wasm'] });
}

/** Concrete shape of an input: symbolic/unknown dims from `dims` or 1. */
export function concreteShape(meta, dims = {}) {
  if (!meta.isTensor) throw new CliError(`input '${meta.name}' is not a tensor`);
  return (meta.shape || []).map((d) => {
    if (typeof d === 'number' && d >= 0) return d;
    if (typeof d === 'string' && d in dims) return dims[d];
    return 1;
  });
}

/** Seeded random tensor data (see --gen in HELP). */
export function randomData(dtype, n, rand, range) {
  const T = TYPED_ARRAY[dtype];
  if (!T || dtype === 'complex64' || dtype === 'complex128' || dtype === 'bfloat16') {
    throw new CliError(`cannot generate ${dtype} inputs`);
  }
  const isFloat = dtype === 'float32' || dtype === 'float64' || dtype === 'float16';
  const [lo, hi] = range || (isFloat ? [0, 1] : [0, 10]);
  const a = new T(n);
  for (let i = 0; i < n; i++) {
    const u = rand(), r = lo + (hi - lo) * u;  // one draw per element, as onnx2wasm-run does
    switch (dtype) {
      case 'float32': case 'float64': a[i] = r; break;
      case 'float16': a[i] = floatToHalf(r); break;
      case 'bool': a[i] = u < 0.5 ? 0 : 1; break;
      case 'int64': case 'uint64': a[i] = BigInt(Math.floor(r)); break;
      default: a[i] = Math.floor(r);
    }
  }
  return a;
}

async function runCli(o, log) {
  let bytes;
  try { bytes = fs.readFileSync(o.model); } catch (e) { throw new CliError(`cannot read ${o.model}: ${e.message}`); }
  let session;
  try { session = await createSession(bytes); } catch (e) { throw new CliError(`onnxruntime-web cannot load ${o.model}: ${e.message}`, 1); }
  const metas = session.inputMetadata;
  if (!metas || metas.length !== session.inputNames.length) {
    throw new CliError('this onnxruntime-web has no inputMetadata (need >= 1.21)', 1);
  }
  const entries = session.inputNames.map((name, k) => ({ name, meta: metas[k] }));

  const feeds = {};
  if (o.gen) {
    fs.mkdirSync(o.data, { recursive: true });
    const rand = mulberry32(o.seed);
    entries.forEach(({ name, meta }, k) => {
      const dims = concreteShape(meta, o.dims);
      const n = dims.reduce((a, b) => a * b, 1);
      const data = randomData(meta.type, n, rand, o.range);
      fs.writeFileSync(path.join(o.data, `input_${k}.pb`), encodeTensor({ name, dtype: meta.type, dims, data }));
      feeds[name] = new ort.Tensor(meta.type, data, dims);
      log(`input_${k} '${name}' ${meta.type}[${dims}] <- seeded random (seed ${o.seed})`);
    });
    if (!o.run) return 0;
  } else {
    if (!fs.existsSync(o.data) || !fs.statSync(o.data).isDirectory()) throw new CliError(`--data ${o.data}: no such directory`);
    let got;
    try { got = readTensorDir(o.data, 'input', entries); } catch (e) { throw new CliError(e.message); }
    got.warnings.forEach((w) => console.error(`warning: ${w}`));
    entries.forEach(({ name }, k) => {
      const t = got.tensors[k];
      if (!t) throw new CliError(`missing ${path.join(o.data, `input_${k}.pb`)} for input ${k} '${name}'`);
      feeds[name] = new ort.Tensor(t.dtype, t.data, t.dims);
    });
  }

  const t0 = performance.now();
  let results;
  try { results = await session.run(feeds); } catch (e) { throw new CliError(`onnxruntime-web run failed: ${e.message}`, 1); }
  const ms = performance.now() - t0;
  const outDir = o.out || o.data;
  fs.mkdirSync(outDir, { recursive: true });
  session.outputNames.forEach((name, k) => {
    const t = results[name];
    fs.writeFileSync(path.join(outDir, `output_${k}.pb`),
      encodeTensor({ name, dtype: t.type, dims: t.dims, data: t.data }));
    log(`output_${k} '${name}' ${t.type}[${t.dims}] -> ${path.join(outDir, `output_${k}.pb`)}`);
  });
  log(`onnxruntime-web ${ort.env.versions?.web || ''} run: ${ms.toFixed(1)} ms`);
  await session.release?.();
  return 0;
}

export async function main(argv) {
  try {
    const o = parseArgs(argv);
    if (o.help) { console.log(HELP); return 0; }
    return await runCli(o, o.quiet ? () => {} : (s) => console.log(s));
  } catch (e) {
    console.error(`ort-oracle: ${e.message}`);
    return e instanceof CliError ? e.code : 1;
  }
}

const isMain = (() => {
  try { return !!process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url); } catch { return false; }
})();
if (isMain) process.exitCode = await main(process.argv.slice(2));
