// run.mjs — GEMM/conv microbenchmark of the runtime kernels next to the machine's measured SIMD128 peak.
// Usage: node bench/gemm/run.mjs [--relaxed] [--ms N] [--kernel-cflags "..."]
//   builds bench/gemm/gemm_bench.c + runtime/kernels/*.c + runtime/pack.c for wasm32-wasi (clang-19, the
//   kernels' -O3 flags from runtime/build-kernels.sh; linked with wasm-ld-19 directly, no wasm-opt), runs it
//   under Node's WASI and prints GFLOP/s and the ratio to the mul+add peak (and to the FMA peak).
//   --only dw runs only the depthwise cases; --only act three convs with a SiLU epilogue.
//   --wasm-opt runs binaryen's wasm-opt -O3 on it first (as the compiler does on every model; SIMD128 only).
//   --relaxed also builds the relaxed-SIMD variant (-mrelaxed-simd: the micro-kernel uses
//   f32x4.relaxed_madd) and runs it. The script re-executes itself with --experimental-wasm-relaxed-simd.
//
// How the peak is derived: a hand-assembled wasm function runs 12 independent dependency chains
// acc_j = f32x4.add(f32x4.mul(acc_j, 0.5), 1.0) (resp. acc_j = f32x4.relaxed_madd(acc_j, 0.5, 1.0)) for
// N iterations; 12 chains x 4 lanes x 2 flops per iteration. 12 chains hide the mul+add (FMA) latency, so
// the loop is bound by the FP ports' throughput: the highest rate a mul+add (FMA) kernel can reach here.
// 12 accumulators + 2 constants fit V8's xmm registers; V8 neither hoists nor fuses these ops. Best of 5 runs, measured
// before and after the kernels.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WASI } from 'node:wasi';

const FLAG = '--experimental-wasm-relaxed-simd';
if (!process.execArgv.includes(FLAG)) {
  const r = spawnSync(process.execPath, [FLAG, '--no-warnings', ...process.execArgv, fileURLToPath(import.meta.url),
    ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '../..');
const args = process.argv.slice(2);
const opt = (k, d) => (args.includes(k) ? args[args.indexOf(k) + 1] : d);
const relaxed = args.includes('--relaxed');
const minMs = Number(opt('--ms', '200'));
const CC = process.env.CC || 'clang-19', LD = process.env.WASM_LD || 'wasm-ld-19';

// ---------------------------------------------------------------- peak (hand-assembled wasm)
const uleb = (n) => { const o = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; o.push(b); } while (n); return o; };
const vec = (items) => [...uleb(items.length), ...items.flat()];
const section = (id, body) => [id, ...uleb(body.length), ...body];
const f32c = (v) => [0x43, ...new Uint8Array(new Float32Array([v]).buffer)];
const simd = (op) => [0xfd, ...uleb(op)];
const F32X4_SPLAT = 0x13, F32X4_EXTRACT = 0x1f, F32X4_ADD = 0xe4, F32X4_MUL = 0xe6, RELAXED_MADD = 0x105;
function peakModule(fma) {
  const CH = 12, M = 1 + CH, C = 2 + CH; // locals: 0 = n (param), 1..12 acc, 13 m, 14 c
  const b = [];
  b.push(...f32c(0.5), ...simd(F32X4_SPLAT), 0x21, M, ...f32c(1.0), ...simd(F32X4_SPLAT), 0x21, C);
  for (let j = 0; j < CH; j++) b.push(...f32c(j), ...simd(F32X4_SPLAT), 0x21, 1 + j);
  b.push(0x03, 0x40); // loop
  for (let j = 0; j < CH; j++) {
    if (fma) b.push(0x20, 1 + j, 0x20, M, 0x20, C, ...simd(RELAXED_MADD), 0x21, 1 + j);
    else b.push(0x20, 1 + j, 0x20, M, ...simd(F32X4_MUL), 0x20, C, ...simd(F32X4_ADD), 0x21, 1 + j);
  }
  b.push(0x20, 0, 0x41, 1, 0x6b, 0x22, 0, 0x0d, 0, 0x0b); // n = n - 1; br_if n; end
  b.push(0x20, 1);
  for (let j = 1; j < CH; j++) b.push(0x20, 1 + j, ...simd(F32X4_ADD));
  b.push(...simd(F32X4_EXTRACT), 0, 0x0b);
  const body = [...vec([[CH + 2, 0x7b]]), ...b];
  const bytes = [0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec([[0x60, 1, 0x7f, 1, 0x7d]])), ...section(3, vec([[0]])),
    ...section(7, vec([[...vec([...Buffer.from('peak')]), 0x00, 0]])),
    ...section(10, vec([[...uleb(body.length), ...body]]))];
  return new Uint8Array(bytes);
}
function measurePeak(fma) {
  const bytes = peakModule(fma);
  if (!WebAssembly.validate(bytes)) return null;
  const { peak } = new WebAssembly.Instance(new WebAssembly.Module(bytes)).exports;
  const iters = 2e7, flops = iters * 12 * 4 * 2;
  peak(1e5);
  let best = Infinity;
  for (let r = 0; r < 5; r++) { const t = performance.now(); peak(iters); best = Math.min(best, performance.now() - t); }
  return flops / best * 1e-6;
}

// ---------------------------------------------------------------- build + run the C benchmark
function build(variant) {
  const out = path.join(os.tmpdir(), `o2w-gemm-bench-${process.pid}-${variant}`);
  fs.mkdirSync(out, { recursive: true });
  const sh = fs.readFileSync(path.join(root, 'runtime/build-kernels.sh'), 'utf8');
  const kflags = sh.match(/^KERNEL_CFLAGS="([^"]*)"/m)[1].split(/\s+/)
    .filter((f) => !['--target=wasm32', '-nostdlib', '-ffreestanding'].includes(f));
  const extra = (opt('--kernel-cflags', '') || '').split(/\s+/).filter(Boolean);
  const base = ['--target=wasm32-wasi', ...kflags, ...extra, ...(variant === 'relaxed' ? ['-mrelaxed-simd'] : [])];
  const srcs = [path.join(here, 'gemm_bench.c'), path.join(root, 'runtime/pack.c'),
    ...fs.readdirSync(path.join(root, 'runtime/kernels')).filter((f) => f.endsWith('.c')).map((f) => path.join(root, 'runtime/kernels', f))];
  const objs = srcs.map((s, i) => {
    const o = path.join(out, `${i}-${path.basename(s, '.c')}.o`);
    execFileSync(CC, [...base, '-c', s, '-o', o], { stdio: 'inherit' });
    return o;
  });
  const wasm = path.join(out, 'bench.wasm');
  execFileSync(LD, ['-m', 'wasm32', '-L/usr/lib/wasm32-wasi', '/usr/lib/wasm32-wasi/crt1-command.o', ...objs, '-lc',
    '/usr/lib/llvm-19/lib/clang/19/lib/wasi/libclang_rt.builtins-wasm32.a', '-z', 'stack-size=1048576', '-o', wasm], { stdio: 'inherit' });
  // (Debian's binaryen 108 cannot parse relaxed SIMD: the relaxed variant is never run through it)
  if (args.includes('--wasm-opt') && variant !== 'relaxed')
    execFileSync('wasm-opt', ['-O3', '--enable-simd', '--enable-bulk-memory', '--enable-sign-ext', '--enable-nontrapping-float-to-int',
      '--enable-mutable-globals', wasm, '-o', wasm], { stdio: 'inherit' });
  return wasm;
}
async function runBench(wasm) {
  let text = '';
  const fd = fs.openSync(path.join(path.dirname(wasm), 'out.jsonl'), 'w+');
  const wasi = new WASI({ version: 'preview1', args: ['bench', String(minMs), ...(opt('--only', '') ? [opt('--only', '')] : [])], env: {}, stdout: fd, returnOnExit: true });
  const inst = await WebAssembly.instantiate(await WebAssembly.compile(fs.readFileSync(wasm)), wasi.getImportObject());
  wasi.start(inst);
  fs.closeSync(fd);
  text = fs.readFileSync(path.join(path.dirname(wasm), 'out.jsonl'), 'utf8');
  fs.rmSync(path.dirname(wasm), { recursive: true, force: true });
  return text.trim().split('\n').map((l) => JSON.parse(l));
}

// measured before and after the kernels (best of both), so that a burst of load from other processes
// during one of them does not lower the reference
let peakMA = measurePeak(false), peakFMA = measurePeak(true);
const variants = relaxed ? ['simd128', 'relaxed'] : ['simd128'];
const results = {};
for (const v of variants) results[v] = await runBench(build(v));
peakMA = Math.max(peakMA, measurePeak(false));
if (peakFMA) peakFMA = Math.max(peakFMA, measurePeak(true));
console.log(`SIMD128 peak (12 independent chains): mul+add ${peakMA.toFixed(1)} GFLOP/s` +
  (peakFMA ? `, relaxed FMA ${peakFMA.toFixed(1)} GFLOP/s` : ', relaxed FMA unavailable'));
const head = ['kernel'.padEnd(32), ...variants.flatMap((v) => [`${v} ms`.padStart(12), `GFLOP/s`.padStart(8), '%mul+add'.padStart(9)]),
  ...(relaxed && peakFMA ? ['%FMA(rel)'.padStart(10)] : [])];
console.log(head.join(' '));
for (let i = 0; i < results.simd128.length; i++) {
  const row = [results.simd128[i].name.padEnd(32)];
  for (const v of variants) {
    const r = results[v][i];
    row.push(r.ms.toFixed(3).padStart(12), r.gflops.toFixed(1).padStart(8), (100 * r.gflops / peakMA).toFixed(1).padStart(8) + '%');
  }
  if (relaxed && peakFMA) row.push((100 * results.relaxed[i].gflops / peakFMA).toFixed(1).padStart(9) + '%');
  console.log(row.join(' '));
}
