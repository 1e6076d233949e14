// ceiling.mjs — the streaming-read ceiling of one core from wasm: how fast a SIMD128 loop can read
// memory that is not in its L1/L2, the limit a bandwidth-bound decode step can approach.
//
//   import { readCeiling } from './ceiling.mjs';
//   readCeiling(5e6)    // { gbs, bytes } — GB/s reading a 5 MB working set over and over
//   node bench/ceiling.mjs [MB ...]                            // prints the ceiling at each size
//
// The loop is hand-assembled (no compiler in the way): 8 v128.load + f32x4.add per 128 bytes into
// 8 independent accumulators, so it is bound by the memory system, not by the FP units. The buffer
// is written first (untouched wasm pages all map to one zero page and would read from L1), then read
// in full repeatedly; the best of several passes is reported. A working set smaller than L2 measures
// L2, so callers pass at least the bytes their decode step streams.
const uleb = (n) => { const o = []; do { let b = n & 0x7f; n >>>= 7; if (n) b |= 0x80; o.push(b); } while (n); return o; };
const vec = (items) => [...uleb(items.length), ...items.flat()];
const section = (id, body) => [id, ...uleb(body.length), ...body];
const str = (s) => vec([...Buffer.from(s)]);
const simd = (op) => [0xfd, ...uleb(op)];
const V128_LOAD = 0x00, F32X4_ADD = 0xe4, F32X4_EXTRACT = 0x1f, F32X4_SPLAT = 0x13;

function moduleBytes() {
  // func sum(p: i32, n: i32) -> f32; n bytes from p, n a positive multiple of 128
  const ACC = 2, b = [];
  for (let j = 0; j < 8; j++) b.push(0x43, 0, 0, 0, 0, ...simd(F32X4_SPLAT), 0x21, ACC + j);
  b.push(0x03, 0x40);                                        // loop
  for (let j = 0; j < 8; j++) b.push(0x20, ACC + j, 0x20, 0, ...simd(V128_LOAD), 4, ...uleb(16 * j), ...simd(F32X4_ADD), 0x21, ACC + j);
  b.push(0x20, 0, 0x41, ...uleb(128), 0x6a, 0x21, 0);        // p += 128
  b.push(0x20, 1, 0x41, ...uleb(128), 0x6b, 0x22, 1, 0x0d, 0, 0x0b);   // n -= 128; br_if n; end
  b.push(0x20, ACC);
  for (let j = 1; j < 8; j++) b.push(0x20, ACC + j, ...simd(F32X4_ADD));
  b.push(...simd(F32X4_EXTRACT), 0, 0x0b);
  const body = [...vec([[8, 0x7b]]), ...b];
  return new Uint8Array([0x00, 0x61, 0x73, 0x6d, 1, 0, 0, 0,
    ...section(1, vec([[0x60, 2, 0x7f, 0x7f, 1, 0x7d]])),
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, 0]])),
    ...section(3, vec([[0]])),
    ...section(7, vec([[...str('sum'), 0x00, 0]])),
    ...section(10, vec([[...uleb(body.length), ...body]]))]);
}

/** Best GB/s of reading a `bytes`-sized buffer from start to end, over `passes` passes. */
export function readCeiling(bytes, passes = 30) {
  const n = Math.max(128, Math.ceil(bytes / 128) * 128);
  const memory = new WebAssembly.Memory({ initial: Math.ceil((n + 65536) / 65536) });
  new Uint8Array(memory.buffer).fill(1);                    // touch every page
  const { sum } = new WebAssembly.Instance(new WebAssembly.Module(moduleBytes()), { env: { memory } }).exports;
  const reps = Math.max(1, Math.round(4e6 / n));           // each timed sample reads >= ~4 MB
  for (let i = 0; i < 3; i++) sum(0, n);
  let best = Infinity;
  for (let r = 0; r < passes; r++) {
    const t = performance.now();
    for (let i = 0; i < reps; i++) sum(0, n);
    best = Math.min(best, (performance.now() - t) / reps);
  }
  return { gbs: n / best / 1e6, bytes: n };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const sizes = process.argv.slice(2).map(Number);
  for (const mb of sizes.length ? sizes : [0.25, 1, 4, 16, 64]) {
    const r = readCeiling(mb * 1e6);
    console.log(`${mb} MB working set: ${r.gbs.toFixed(1)} GB/s`);
  }
}
