// conformance.mjs — runs the ONNX backend test cases (Debian's libonnx-testdata) through the compiler
// and the loader, compares with the cases' own expected outputs, and checks the result against
// tests/onnx/expected.txt (the cases known to pass: a case listed there that fails is a regression).
//
// usage: node conformance.mjs BUILD_DIR [--update] [--filter SUBSTR[,SUBSTR...]] [--report FILE] [--native TRIPLE]
//                             [--simd relaxed]
//   --update   rewrite expected.txt from this run (only cases that pass are listed)
//   --native T compile each case to a native library for target T (x86_64-linux-gnu, aarch64-linux-gnu) and
//              run it through onnx2wasm-native-host (O2W_NATIVE_HOST: e.g. an AArch64 host under qemu-user);
//              the cases of expected.txt must pass natively too
//   --simd relaxed  compile each case with --simd relaxed (run node with --experimental-wasm-relaxed-simd);
//              the cases of expected.txt must pass with relaxed FMA rounding too
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { load } from '../../runtime/js/onnx2wasm.mjs';
import { decodeTensor } from '../../runtime/js/tensorproto.mjs';
import { compareTensor } from '../../runtime/js/onnx2wasm-run.mjs';
import { loadNative } from '../../runtime/js/onnx2wasm-native.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const DATA = process.env.ONNX_TESTDATA || '/usr/share/libonnx-testdata/data';
const SUITES = ['node', 'simple', 'pytorch-converted', 'pytorch-operator'];
const args = process.argv.slice(2);
const build = args[0];
if (!build) { console.error('usage: node conformance.mjs BUILD_DIR [--update] [--filter S] [--report FILE]'); process.exit(2); }
const update = args.includes('--update');
const filter = args.includes('--filter') ? args[args.indexOf('--filter') + 1].split(',') : null;   // substrings, any
const native = args.includes('--native') ? args[args.indexOf('--native') + 1] : null;
const simd = args.includes('--simd') ? args[args.indexOf('--simd') + 1] : null;
const reportFile = args.includes('--report') ? args[args.indexOf('--report') + 1]
  : path.join(build, native ? `onnx-conformance-${native}.txt` : simd ? `onnx-conformance-${simd}.txt` : 'onnx-conformance.txt');
if ((native || simd) && update) { console.error('--update applies to the baseline wasm run only'); process.exit(2); }
if (native && !process.env.O2W_NATIVE_HOST) process.env.O2W_NATIVE_HOST = path.join(build, 'onnx2wasm-native-host');
if (native && !process.env.O2W_NATIVE_ADDON) process.env.O2W_NATIVE_ADDON = path.join(build, 'o2w_native.node');
const compiler = path.join(build, 'onnx2wasm');
const expectedFile = path.join(here, 'expected.txt');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'o2w-onnx-'));

function classify(msg) {
  const m = /unsupported op '([^']+)'|op '([^']+)' of domain/.exec(msg);
  if (m) return `unsupported op ${m[1] || m[2]}`;
  return msg.replace(/^onnx2wasm: [^:]+: /, '').split('\n')[0].slice(0, 160);
}

let caseNo = 0;
async function runCase(dir) {
  // a native library gets a new name per case: dlopen returns the library already loaded under a path (the
  // addon's previous handle, closed only when garbage-collected) instead of reading the new file
  if (native && caseNo) for (const e of ['so', 'h']) fs.rmSync(path.join(tmp, `m${caseNo}.${e}`), { force: true });
  const out = path.join(tmp, native ? `m${++caseNo}.so` : 'm.wasm');
  const r = spawnSync(compiler, [path.join(dir, 'model.onnx'), '-o', out, ...(native ? ['--target', native] : []), ...(simd ? ['--simd', simd] : [])], { encoding: 'utf8' });
  if (r.status !== 0) {
    if (r.status === null || r.status > 2) return { status: 'CRASH', why: `compiler exit ${r.status} ${r.signal || ''} ${r.stderr}` };
    return { status: 'COMPILE', why: classify(r.stderr) };
  }
  let model;
  try { model = native ? loadNative(out) : await load(fs.readFileSync(out)); } catch (e) { return { status: 'LOAD', why: e.message }; }
  if (native && model.inProcess) fs.rmSync(out, { force: true });   // loaded into this process: not needed on disk
  const sets = fs.readdirSync(dir).filter((d) => d.startsWith('test_data_set')).sort();
  if (!sets.length) return { status: 'NODATA', why: 'no test data sets' };
  for (const s of sets) {
    const sd = path.join(dir, s);
    const feeds = {};
    for (let k = 0; k < model.inputs.length; k++) {
      const f = path.join(sd, `input_${k}.pb`);
      if (!fs.existsSync(f)) return { status: 'MISMATCH', why: `${s}: missing ${path.basename(f)}` };
      feeds[model.inputs[k].name] = decodeTensor(fs.readFileSync(f)).data;
    }
    let outs;
    try { outs = model.run(feeds); } catch (e) { return { status: 'RUN', why: `${s}: ${e.message}` }; }
    for (let k = 0; k < model.outputs.length; k++) {
      const f = path.join(sd, `output_${k}.pb`);
      if (!fs.existsSync(f)) continue;
      const exp = decodeTensor(fs.readFileSync(f));
      const info = model.outputs[k];
      // Older backend cases store a bfloat16 output's expected bit patterns as a uint16 tensor.
      if (info.dtype === 'bfloat16' && exp.dtype === 'uint16') exp.dtype = 'bfloat16';
      const got = { dtype: info.dtype, dims: model.outputShape ? model.outputShape(info.name) : info.shape, data: outs[info.name] };
      const c = compareTensor(got, exp, { rtol: 1e-3, atol: 1e-5 });
      if (!c.ok) return { status: 'MISMATCH', why: `${s} output ${k}: ${c.reason}; max abs err ${c.maxAbs}` };
    }
  }
  return { status: 'PASS' };
}

const expected = new Set(fs.existsSync(expectedFile)
  ? fs.readFileSync(expectedFile, 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')) : []);
const results = [];
for (const suite of SUITES) {
  const sdir = path.join(DATA, suite);
  if (!fs.existsSync(sdir)) continue;
  for (const c of fs.readdirSync(sdir).sort()) {
    const id = `${suite}/${c}`;
    if (filter && !filter.some((f) => id.includes(f))) continue;
    const dir = path.join(sdir, c);
    if (!fs.existsSync(path.join(dir, 'model.onnx'))) continue;
    let r;
    try { r = await runCase(dir); } catch (e) { r = { status: 'RUN', why: e.message }; }
    results.push({ id, ...r });
  }
}
fs.rmSync(tmp, { recursive: true, force: true });

const pass = results.filter((r) => r.status === 'PASS');
const regressions = results.filter((r) => r.status !== 'PASS' && expected.has(r.id));
const crashes = results.filter((r) => r.status === 'CRASH');
const newly = pass.filter((r) => !expected.has(r.id));
const byStatus = {};
for (const r of results) byStatus[r.status] = (byStatus[r.status] || 0) + 1;
const reasons = {};
for (const r of results) if (r.status !== 'PASS') reasons[`${r.status}: ${r.why}`.slice(0, 120)] = (reasons[`${r.status}: ${r.why}`.slice(0, 120)] || 0) + 1;
const report = [
  `# ONNX backend conformance: ${pass.length} of ${results.length} cases pass`,
  `# by status: ${JSON.stringify(byStatus)}`,
  ...Object.entries(reasons).sort((a, b) => b[1] - a[1]).map(([k, v]) => `# ${String(v).padStart(4)}  ${k}`),
  ...results.map((r) => `${r.status.padEnd(8)} ${r.id}${r.why ? '  ' + r.why : ''}`),
].join('\n') + '\n';
fs.writeFileSync(reportFile, report);
if (update && !filter) {
  fs.writeFileSync(expectedFile, '# ONNX backend cases that pass (regenerate: node tests/onnx/conformance.mjs build --update)\n' +
    pass.map((r) => r.id).join('\n') + '\n');
}
for (const r of regressions) console.log(`REGRESSION ${r.id}: ${r.status} ${r.why}`);
for (const r of crashes) console.log(`CRASH ${r.id}: ${r.why}`);
if (newly.length && !update) console.log(`${newly.length} cases pass that expected.txt does not list (run with --update)`);
console.log(`conformance${native ? ` (${native})` : simd ? ` (--simd ${simd})` : ''}: ${pass.length} of ${results.length} ONNX backend cases pass (report: ${reportFile})`);
const failed = regressions.length + crashes.length;
console.log(`${pass.length} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
