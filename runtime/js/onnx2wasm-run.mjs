#!/usr/bin/env node
// onnx2wasm-run: runs an onnx2wasm module on test data, compares with reference outputs, benchmarks.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TYPED_ARRAYS } from './onnx2wasm.mjs';
import { loadFile } from './onnx2wasm-node.mjs';
import { isNativeLibrary, loadNative } from './onnx2wasm-native.mjs';
import { decodeTensor, encodeTensor, halfToFloat, floatToHalf } from './tensorproto.mjs';

export const HELP = `usage: onnx2wasm-run MODEL.wasm|MODEL.so [options]

Runs a module produced by onnx2wasm (docs/abi.md) under Node.js, or a native library
(MODEL.so, run by onnx2wasm-native-host; O2W_NATIVE_HOST may name another host, e.g. an
AArch64 build under qemu-user). Same options and output for both.

options:
  --data DIR     read inputs from DIR/input_K.pb (onnx.TensorProto, K = 0.. in graph-input
                 order). A DIR holding test_data_set_N/ folders instead (an ONNX model
                 folder) runs every set in turn; the exit status is the worst. If every file carries a name and those names are exactly the
                 module's input names, files are matched by name; otherwise they are matched
                 by position K, with a warning for each file whose name differs from graph
                 input K. A file's dtype and element count must match the input; differing
                 dims with the same element count only warn.
                 If DIR/output_K.pb exist, output K is compared with them (matched like the
                 inputs): shape and dtype must be equal, floats must satisfy
                 |got - exp| <= atol + rtol * |exp| (NaN equals NaN, +-Inf must be equal),
                 integers and bools must be exactly equal. Per output it prints the worst
                 absolute error and the worst element (largest error / tolerance, so not
                 necessarily the one with the largest absolute error), then a
                 PASS or FAIL line.
  --seed S       without --data: fill inputs with seeded pseudo-random values (mulberry32:
                 floats uniform in [0,1), integers in [0,10), bools 0/1) instead of zeros.
  --save DIR     write the outputs as DIR/output_K.pb (name and shape from the signature);
                 without --data, the generated inputs are written as DIR/input_K.pb too, so
                 DIR becomes a complete test-data set.
  --bench N      after one warm-up run, time N more runs (including copying inputs in and
                 outputs out) and print exactly one JSON line on stdout:
                 {"load_ms","first_ms","median_ms","min_ms","runs"}; load_ms = compile +
                 instantiate, first_ms = the warm-up run. All other output goes to stderr.
  --rtol R       relative tolerance (default 1e-3)
  --atol A       absolute tolerance (default 1e-5)
  --quiet        print only the PASS/FAIL line, warnings and errors
  -h, --help     show this help

Without --data (or with a DIR holding no output_K.pb) it prints each output's shape and
value range and, for a single float output with one non-unit dim of >= 5 (like [1,1000]),
the top-5 classes with their scores.

exit status: 0 ran (and matched), 1 output mismatch, 2 usage, I/O or invalid-file error
(including an invalid module or input data), 3 the module's run() failed (non-zero status
or trap).`;

export class CliError extends Error {
  constructor(msg, code = 2) { super(msg); this.code = code; }
}

/** Parses argv (without node and script). Throws CliError on usage errors. */
export function parseArgs(argv) {
  const o = { model: null, data: null, save: null, bench: 0, rtol: 1e-3, atol: 1e-5,
              quiet: false, seed: null, help: false };
  const num = (flag, v, { int = false, min = 0 } = {}) => {
    const x = Number(v);
    if (v === undefined || v === '' || !Number.isFinite(x) || (int && !Number.isInteger(x)) || x < min) {
      throw new CliError(`${flag} needs a${int ? 'n integer' : ' number'} >= ${min}, got ${v === undefined ? 'nothing' : `'${v}'`}`);
    }
    return x;
  };
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
      case '--quiet': case '-q': o.quiet = true; break;
      case '--data': o.data = val(); break;
      case '--save': o.save = val(); break;
      case '--bench': o.bench = num(a, val(), { int: true, min: 1 }); break;
      case '--rtol': o.rtol = num(a, val()); break;
      case '--atol': o.atol = num(a, val()); break;
      case '--seed': o.seed = num(a, val(), { int: true }); break;
      default:
        if (a.startsWith('-') && a !== '-') throw new CliError(`unknown option '${a}' (see --help)`);
        if (o.model) throw new CliError(`unexpected argument '${a}' (model already given: '${o.model}')`);
        o.model = a;
    }
  }
  if (!o.model && !o.help) throw new CliError('missing MODEL.wasm (see --help)');
  return o;
}

// ---------------------------------------------------------------- comparison

const FLOATS = new Set(['float32', 'float64', 'float16', 'bfloat16']);
const bf16View = new Float32Array(1), bf16Bits = new Uint32Array(bf16View.buffer);

function toNumberAt(dtype, data, i) {
  if (dtype === 'bfloat16') { bf16Bits[0] = data[i] << 16; return bf16View[0]; }
  return dtype === 'float16' ? halfToFloat(data[i]) : data[i];
}

/** Row-major index -> coordinates. */
export function unravel(index, shape) {
  const c = new Array(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) { c[d] = index % shape[d]; index = Math.floor(index / shape[d]); }
  return c;
}

function sameShape(a, b) { return a.length === b.length && a.every((d, i) => d === b[i]); }

/**
 * Compares a result with a reference.
 * got/exp: {dtype, dims, data}. Returns {ok, reason?, count, mismatches, maxAbs, worst}
 * where worst = {index, coord, got, exp, absErr, ratio} is the element with the largest
 * error/tolerance ratio (null for empty tensors or when shapes/dtypes differ).
 */
export function compareTensor(got, exp, { rtol = 1e-3, atol = 1e-5 } = {}) {
  const res = { ok: true, reason: null, count: 0, mismatches: 0, maxAbs: 0, worst: null };
  if (got.dtype !== exp.dtype) {
    return { ...res, ok: false, reason: `dtype mismatch: got ${got.dtype}, expected ${exp.dtype}` };
  }
  if (!sameShape(got.dims, exp.dims)) {
    return { ...res, ok: false, reason: `shape mismatch: got [${got.dims}], expected [${exp.dims}]` };
  }
  const n = exp.data.length, dtype = exp.dtype, isFloat = FLOATS.has(dtype);
  res.count = n;
  let worstRatio = -1;
  for (let i = 0; i < n; i++) {
    const g = toNumberAt(dtype, got.data, i), e = toNumberAt(dtype, exp.data, i);
    let absErr, ratio, bad;
    if (!isFloat) {
      absErr = typeof g === 'bigint' ? Number(g > e ? g - e : e - g) : Math.abs(g - e);
      bad = g !== e;
      ratio = bad ? Infinity : 0;
    } else if (Number.isNaN(e) || Number.isNaN(g)) {
      bad = !(Number.isNaN(e) && Number.isNaN(g));
      absErr = bad ? NaN : 0;
      ratio = bad ? Infinity : 0;
    } else if (g === e) {
      absErr = 0; ratio = 0; bad = false;                 // includes equal infinities
    } else if (!Number.isFinite(e) || !Number.isFinite(g)) {
      absErr = Infinity; ratio = Infinity; bad = true;    // an infinity must match exactly
    } else {
      absErr = Math.abs(g - e);
      const tol = atol + rtol * Math.abs(e);
      bad = !(absErr <= tol);
      ratio = tol > 0 ? absErr / tol : (absErr > 0 ? Infinity : 0);
    }
    if (bad) res.mismatches++;
    if (absErr > res.maxAbs) res.maxAbs = absErr;       // NaN-vs-number errors show in `worst`
    // Mismatches have ratio > 1 (Infinity for NaN/integer mismatches), matches <= 1.
    if (ratio > worstRatio) {
      worstRatio = ratio;
      res.worst = { index: i, got: g, exp: e, absErr, ratio, bad };
    }
  }
  if (res.worst) res.worst.coord = unravel(res.worst.index, exp.dims);
  res.ok = res.mismatches === 0;
  if (!res.ok) res.reason = `${res.mismatches} of ${n} elements differ`;
  return res;
}

function fmt(x) {
  if (typeof x === 'bigint') return x.toString();
  if (typeof x !== 'number') return String(x);
  if (!Number.isFinite(x) || Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? x.toExponential(3) : String(Number(x.toPrecision(7)));
}

/** Top-k (index, score) of a float vector, highest first. */
export function topK(values, k = 5) {
  const idx = Array.from({ length: values.length }, (_, i) => i);
  idx.sort((a, b) => (values[b] - values[a]) || (a - b));
  return idx.slice(0, k).map((i) => ({ index: i, score: values[i] }));
}

// ---------------------------------------------------------------- data

/** Deterministic PRNG (mulberry32) returning floats in [0, 1). */
export function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Zero or seeded-random data for a signature entry. */
export function makeInput(info, rand) {
  const T = TYPED_ARRAYS[info.dtype];
  const n = info.shape.reduce((a, b) => a * b, 1);
  const a = new T(n);
  if (!rand) return a;
  for (let i = 0; i < n; i++) {
    const r = rand();
    switch (info.dtype) {
      case 'float32': case 'float64': a[i] = r; break;
      case 'float16': a[i] = floatToHalf(r); break;
      case 'bool': a[i] = r < 0.5 ? 0 : 1; break;
      case 'int64': case 'uint64': a[i] = BigInt(Math.floor(r * 10)); break;
      default: a[i] = Math.floor(r * 10);
    }
  }
  return a;
}

function readPb(file) {
  let bytes;
  try { bytes = fs.readFileSync(file); } catch (e) { throw new CliError(`cannot read ${file}: ${e.message}`); }
  try { return decodeTensor(bytes); } catch (e) { throw new CliError(`${file}: ${e.message}`); }
}

/**
 * Reads DIR/<prefix>_K.pb for the given signature entries and assigns each to an entry:
 * by name if all files are named and the names are exactly the entries' names, else by order.
 * Returns {tensors: Array(entries.length) of decoded|undefined, warnings, byName}.
 * Missing files are undefined (callers decide whether that is an error).
 */
export function readTensorDir(dir, prefix, entries) {
  const files = entries.map((_, k) => path.join(dir, `${prefix}_${k}.pb`));
  const decoded = files.map((f) => (fs.existsSync(f) ? readPb(f) : undefined));
  const warnings = [];
  const extra = path.join(dir, `${prefix}_${entries.length}.pb`);
  if (fs.existsSync(extra)) {
    warnings.push(`${extra} ignored: the module has only ${entries.length} ${prefix}s`);
  }
  const present = decoded.filter(Boolean);
  const names = new Set(entries.map((e) => e.name));
  const byName = present.length === entries.length && present.length > 0 &&
    present.every((t) => t.name && names.has(t.name)) &&
    new Set(present.map((t) => t.name)).size === present.length;
  let tensors = decoded;
  if (byName) {
    const m = new Map(present.map((t) => [t.name, t]));
    tensors = entries.map((e) => m.get(e.name));
  } else {
    decoded.forEach((t, k) => {
      if (t && t.name && t.name !== entries[k].name) {
        warnings.push(`${files[k]} is named '${t.name}' but ${prefix} ${k} is '${entries[k].name}'; ` +
                      'matching by position');
      }
    });
  }
  return { tensors, warnings, byName };
}

/** Checks a decoded input against its signature entry; returns its data or throws CliError. */
/** True when an input has run-time dims: a symbol (or expression) in its dims that the module did not
 * bind at compile time, in a module with run-time symbols. */
export function hasRuntimeDims(info, model) {
  if (!model || !(model.runtimeSymbols || []).length) return false;
  return (info.dims || []).some((d) => typeof d === 'string' && !(d in (model.symbols || {})));
}

export function checkInput(t, info, k, dir, model) {
  const where = `${path.join(dir, `input_${k}.pb`)} (input '${info.name}')`;
  if (t.dtype !== info.dtype) throw new CliError(`${where}: dtype ${t.dtype}, the module expects ${info.dtype}`);
  if (hasRuntimeDims(info, model)) {
    // run-time dims: any value up to the bound (the module checks its own bounds too); fixed dims must match
    const fits = t.dims.length === info.dims.length && info.dims.every((d, i) =>
      (typeof d === 'string' ? t.dims[i] >= 0 && t.dims[i] <= info.shape[i] : t.dims[i] === d));
    if (!fits) throw new CliError(`${where}: dims [${t.dims}] do not fit the module's [${info.dims}] (at most [${info.shape}])`);
    return null;
  }
  const n = info.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n) {
    throw new CliError(`${where}: ${t.data.length} elements [${t.dims}], the module expects ` +
                       `${n} [${info.shape}]`);
  }
  return sameShape(t.dims, info.shape) ? null
    : `${where}: dims [${t.dims}] differ from the module's [${info.shape}] (same element count; used as is)`;
}

// ---------------------------------------------------------------- main

/**
 * Runs the CLI. io = {stdout(line), stderr(line)}. Returns the exit status.
 */
export async function main(argv, io = { stdout: (s) => console.log(s), stderr: (s) => console.error(s) }) {
  let opts;
  try {
    opts = parseArgs(argv);
  } catch (e) {
    io.stderr(`onnx2wasm-run: ${e.message}`);
    return 2;
  }
  if (opts.help) { io.stdout(HELP); return 0; }
  // In bench mode stdout carries only the JSON line.
  const out = opts.bench ? io.stderr : io.stdout;
  const info = (s) => { if (!opts.quiet) out(s); };
  const warn = (s) => io.stderr(`warning: ${s}`);
  // an ONNX model folder (test_data_set_N/ inside, no input_K.pb of its own): every set in turn
  const sets = opts.data ? dataSets(opts.data) : [];
  if (sets.length && opts.bench) {
    io.stderr(`onnx2wasm-run: --bench times one data set: pass --data ${path.join(opts.data, path.basename(sets[0]))}`);
    return 2;
  }
  let worst = 0;
  for (const dir of sets.length ? sets : [opts.data]) {
    if (sets.length) info(`${path.basename(dir)}:`);
    try {
      worst = Math.max(worst, await runCli({ ...opts, data: dir }, io, out, info, warn));
    } catch (e) {
      io.stderr(`onnx2wasm-run: ${e.message}`);
      return e instanceof CliError ? e.code : 2;
    }
  }
  return worst;
}

/** DIR's test_data_set_N subfolders (in N order) when DIR holds no input_K.pb itself, else []. */
export function dataSets(dir) {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory() || fs.existsSync(path.join(dir, 'input_0.pb'))) return [];
  return fs.readdirSync(dir).filter((d) => /^test_data_set_\d+$/.test(d) && fs.statSync(path.join(dir, d)).isDirectory())
    .sort((a, b) => Number(a.slice(14)) - Number(b.slice(14))).map((d) => path.join(dir, d));
}

async function runCli(opts, io, out, info, warn) {
  try { fs.accessSync(opts.model, fs.constants.R_OK); } catch (e) { throw new CliError(`cannot read ${opts.model}: ${e.message}`); }
  const now = () => performance.now();
  let t0 = now(), model;
  // the weights go from the file straight into the module's memory (load time includes reading the file)
  try {
    model = isNativeLibrary(opts.model) ? loadNative(opts.model) : await loadFile(opts.model);
  } catch (e) { throw new CliError(`${opts.model}: ${e.message}`); }
  const loadMs = now() - t0;

  // Inputs.
  const feeds = {};
  let refs = [];
  if (opts.data) {
    if (!fs.existsSync(opts.data) || !fs.statSync(opts.data).isDirectory()) {
      throw new CliError(`--data ${opts.data}: no such directory`);
    }
    const ins = readTensorDir(opts.data, 'input', model.inputs);
    ins.warnings.forEach(warn);
    model.inputs.forEach((inf, k) => {
      const t = ins.tensors[k];
      if (!t) {
        throw new CliError(`missing ${path.join(opts.data, `input_${k}.pb`)} for input ${k} '${inf.name}' ` +
                           `(the module has ${model.inputs.length} inputs: ${model.inputs.map((i) => i.name).join(', ')})`);
      }
      const w = checkInput(t, inf, k, opts.data, model);
      if (w) warn(w);
      feeds[inf.name] = hasRuntimeDims(inf, model) ? { data: t.data, dims: t.dims } : t.data;
    });
    const outsRef = readTensorDir(opts.data, 'output', model.outputs);
    if (outsRef.tensors.some(Boolean)) outsRef.warnings.forEach(warn);
    refs = outsRef.tensors;
  } else {
    const rand = opts.seed === null ? null : mulberry32(opts.seed);
    for (const inf of model.inputs) feeds[inf.name] = makeInput(inf, rand);
    info(`inputs: ${opts.seed === null ? 'zeros' : `seeded random (seed ${opts.seed})`}`);
  }

  // Run (first run = warm-up for --bench).
  const runOnce = () => {
    try { return model.run(feeds); } catch (e) { throw new CliError(e.message, 3); }
  };
  let result, firstMs, times = [], loadTotal = loadMs;
  if (model.native) {
    // timed inside the host process (load = dlopen + arena + reading the inputs), copies in and out included
    let r;
    try { r = model.bench(feeds, opts.bench); } catch (e) { throw new CliError(e.message, e.status === 3 ? 3 : 2); }
    ({ result } = r);
    firstMs = r.first_ms;
    times = r.times_ms;
    loadTotal = model.inProcess ? loadMs : r.load_ms;
  } else {
    t0 = now();
    result = runOnce();
    firstMs = now() - t0;
    for (let i = 0; i < opts.bench; i++) { t0 = now(); runOnce(); times.push(now() - t0); }
  }
  let bench = null;
  if (opts.bench) {
    times.sort((a, b) => a - b);
    const mid = times.length >> 1;
    const median = times.length % 2 ? times[mid] : (times[mid - 1] + times[mid]) / 2;
    const r3 = (x) => Math.round(x * 1000) / 1000;
    bench = { load_ms: r3(loadTotal), first_ms: r3(firstMs), median_ms: r3(median), min_ms: r3(times[0]), runs: opts.bench };
  }

  // Compare or describe.
  let status = 0;
  const compared = refs.some(Boolean);
  if (compared) {
    let failed = 0, n = 0;
    model.outputs.forEach((o, k) => {
      const exp = refs[k];
      const head = `output_${k} '${o.name}' ${o.dtype}[${model.outputShape(o.name)}]`;
      if (!exp) { info(`${head}: no reference output_${k}.pb, not compared`); return; }
      n++;
      const c = compareTensor({ dtype: o.dtype, dims: [...model.outputShape(o.name)], data: result[o.name] }, exp, opts);
      if (!c.ok) failed++;
      let line = `${head}: ${c.ok ? 'ok' : 'MISMATCH'}`;
      if (c.reason && !c.worst) line += ` - ${c.reason}`;
      else if (c.worst) {
        const w = c.worst;
        line += ` max_abs_err ${fmt(c.maxAbs)}; worst element (error/tolerance) [${w.coord}]: got ${fmt(w.got)}` +
                ` expected ${fmt(w.exp)} (abs err ${fmt(w.absErr)}); ${c.mismatches}/${c.count} outside tolerance`;
      } else line += ' (empty)';
      if (!c.ok || !opts.quiet) out(line);
    });
    status = failed ? 1 : 0;
    out(failed
      ? `FAIL: ${failed} of ${n} compared outputs mismatch (rtol=${opts.rtol} atol=${opts.atol})`
      : `PASS: ${n} output${n === 1 ? '' : 's'} match (rtol=${opts.rtol} atol=${opts.atol})`);
  } else {
    model.outputs.forEach((o) => info(describeOutput(o, result[o.name])));
  }
  // a single classifier-like output: its top-5 (and whether the reference's top-5 is the same)
  const single = model.outputs.length === 1 ? model.outputs[0] : null;
  if (single && FLOATS.has(single.dtype) && single.shape.filter((d) => d !== 1).length === 1 &&
      single.shape.find((d) => d !== 1) >= 5) {
    const asNum = (data) => (single.dtype === 'float16' ? Array.from(data, halfToFloat) : data);
    const top = topK(asNum(result[single.name]), 5);
    info('top-5:');
    for (const { index, score } of top) info(`  class ${String(index).padStart(5)}  score ${fmt(score)}`);
    if (refs[0]) {
      const same = topK(asNum(refs[0].data), 5).every((t, i) => t.index === top[i].index);
      info(`top-5 ${same ? 'identical to' : 'DIFFERS from'} the reference output's`);
    }
  }

  if (opts.save) {
    try {
      fs.mkdirSync(opts.save, { recursive: true });
      model.outputs.forEach((o, k) => fs.writeFileSync(path.join(opts.save, `output_${k}.pb`),
        encodeTensor({ name: o.name, dtype: o.dtype, dims: model.outputShape(o.name), data: result[o.name] })));
      if (!opts.data) {
        model.inputs.forEach((inf, k) => fs.writeFileSync(path.join(opts.save, `input_${k}.pb`),
          encodeTensor({ name: inf.name, dtype: inf.dtype, dims: inf.shape, data: feeds[inf.name] })));
      }
    } catch (e) {
      throw new CliError(`--save ${opts.save}: ${e.message}`);
    }
    info(`saved outputs to ${opts.save}`);
  }
  if (bench) io.stdout(JSON.stringify(bench));
  return status;
}

function describeOutput(o, data) {
  let line = `output '${o.name}' ${o.dtype}[${o.shape}]`;
  if (data.length === 0) return `${line} (empty)`;
  let vals = data;
  if (o.dtype === 'float16') vals = Array.from(data, halfToFloat);
  let min = vals[0], max = vals[0];
  for (const v of vals) { if (v < min) min = v; if (v > max) max = v; }
  return `${line} min ${fmt(min)} max ${fmt(max)}`;
}

const isMain = (() => {
  try { return !!process.argv[1] && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url); } catch { return false; }
})();
if (isMain) {
  process.exitCode = await main(process.argv.slice(2));
}
