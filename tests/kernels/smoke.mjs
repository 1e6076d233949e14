// smoke.mjs — loads the shipped kernel module (built by runtime/build-kernels.sh) in plain JS: checks that it has
// no imports, exports memory, __heap_base and every rt_<id> of runtime/kernels.def, and runs gemm, unary and
// softmax through parameter blocks laid out by hand as in runtime/rt_abi.h.
// Usage: node smoke.mjs kernels.wasm path/to/runtime/kernels.def
import { readFile } from 'node:fs/promises';
import process from 'node:process';

const [wasmPath, defPath] = process.argv.slice(2);
let passed = 0, failed = 0;
const check = (ok, what) => { ok ? passed++ : failed++; console.log(`${ok ? 'PASS' : 'FAIL'} smoke ${what}`); };

const module = await WebAssembly.compile(await readFile(wasmPath));
check(WebAssembly.Module.imports(module).length === 0, 'module has no imports');
const { exports } = await WebAssembly.instantiate(module, {});
const ids = [...(await readFile(defPath, 'utf8')).matchAll(/^K\((\w+),/gm)].map((m) => m[1]);
for (const id of ids) check(typeof exports[`rt_${id}`] === 'function', `export rt_${id}`);
check(exports.memory instanceof WebAssembly.Memory, 'export memory');
check(exports.__heap_base instanceof WebAssembly.Global, 'export __heap_base');

// bump allocator above __heap_base
let top = (exports.__heap_base.value + 15) & ~15;
const alloc = (bytes) => {
  const at = top;
  top = (top + bytes + 15) & ~15;
  const need = top - exports.memory.buffer.byteLength;
  if (need > 0) exports.memory.grow(Math.ceil(need / 65536));
  return at;
};
const f32 = (addr, n) => new Float32Array(exports.memory.buffer, addr, n);
const block = (words) => { // words: [value, 'i'|'f']
  const at = alloc(words.length * 4), dv = new DataView(exports.memory.buffer);
  words.forEach(([v, t], i) => (t === 'f' ? dv.setFloat32(at + 4 * i, v, true) : dv.setInt32(at + 4 * i, v, true)));
  return at;
};
let seed = 7;
const rnd = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1;
const close = (a, b, tol) => a.every((v, i) => Math.abs(v - b[i]) <= tol * (1 + Math.abs(b[i])));

{ // gemm: y = relu(A B^T + c_row), M=5 N=9 K=13
  const M = 5, N = 9, K = 13;
  const a = alloc(M * K * 4), b = alloc(N * K * 4), c = alloc(N * 4), y = alloc(M * N * 4);
  f32(a, M * K).forEach((_, i, t) => (t[i] = rnd()));
  f32(b, N * K).forEach((_, i, t) => (t[i] = rnd()));
  f32(c, N).forEach((_, i, t) => (t[i] = rnd()));
  const p = block([[a, 'i'], [b, 'i'], [c, 'i'], [y, 'i'], [M, 'i'], [N, 'i'], [K, 'i'], [0, 'i'], [1, 'i'], [2, 'i'],
    [1, 'f'], [1, 'f'], [1, 'i'], [0, 'f'], [0, 'f']]);
  exports.rt_gemm_f32(p);
  const A = f32(a, M * K), B = f32(b, N * K), C = f32(c, N), want = [];
  for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
    let s = C[j];
    for (let q = 0; q < K; q++) s += A[i * K + q] * B[j * K + q];
    want.push(Math.max(s, 0));
  }
  check(close([...f32(y, M * N)], want, 1e-5), 'rt_gemm_f32 (trans_b, row bias, relu)');
}
{ // unary sigmoid in place, n = 11
  const n = 11, x = alloc(n * 4), xs = [];
  f32(x, n).forEach((_, i, t) => { t[i] = rnd() * 8; xs.push(t[i]); });
  exports.rt_unary_f32(block([[x, 'i'], [x, 'i'], [n, 'i'], [3, 'i'], [0, 'f'], [0, 'f']]));
  check(close([...f32(x, n)], xs.map((v) => 1 / (1 + Math.exp(-v))), 1e-6), 'rt_unary_f32 (sigmoid, in place)');
}
{ // softmax over n = 6 with inner = 3
  const outer = 2, n = 6, inner = 3, tot = outer * n * inner, x = alloc(tot * 4), y = alloc(tot * 4);
  f32(x, tot).forEach((_, i, t) => (t[i] = rnd() * 5));
  exports.rt_softmax_f32(block([[x, 'i'], [y, 'i'], [outer, 'i'], [n, 'i'], [inner, 'i'], [0, 'i']]));
  const X = f32(x, tot), want = new Array(tot);
  for (let o = 0; o < outer; o++) for (let j = 0; j < inner; j++) {
    const at = (i) => (o * n + i) * inner + j;
    let m = -Infinity, s = 0;
    for (let i = 0; i < n; i++) m = Math.max(m, X[at(i)]);
    for (let i = 0; i < n; i++) s += Math.exp(X[at(i)] - m);
    for (let i = 0; i < n; i++) want[at(i)] = Math.exp(X[at(i)] - m) / s;
  }
  check(close([...f32(y, tot)], want, 1e-6), 'rt_softmax_f32 (inner = 3)');
}
console.log(`${passed} passed, ${failed} failed`);
process.exitCode = failed ? 1 : 0;
