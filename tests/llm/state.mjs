// state.mjs MODULE.wasm — the onnx2wasm engine's KV-state contract (tools/llm.mjs):
//  - a state stays valid while its cache rows are intact: stepping twice from it gives identical logits
//    (resident caches; with dense ones, --no-pass resident_kv, only the newest state is valid);
//  - a state whose rows a later call overwrote (a call from a shorter state) is refused;
//  - a snapshot owns its cache: it can be stepped from after anything, with the same logits;
//  - eng.kv(state) returns the cache at the state's length.
// With a resident cache (the compiler's default) these exercise the in-place append; the test also
// reports whether the module's cache is resident, and with --resident requires it.
import { openEngine } from '../../tools/llm.mjs';

const e = await openEngine('onnx2wasm', { wasm: process.argv[2] });
const same = (a, b) => a.logits.length > 0 && a.logits.length === b.logits.length && a.logits.every((v, i) => v === b.logits[i]);
const checks = [];
const check = (ok, what) => { checks.push(ok); console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}`); };

const r1 = await e.step([3, 4, 5], e.initialState());         // past 3
const r2 = await e.step([6], r1.state);                        // past 4: rows 0..2 untouched
const snap = e.snapshot(r2.state);
const kv = e.kv(r2.state);
check(kv.length === 2 * e.layers && kv.every((t) => t.length === e.kvHeads * 4 * e.headDim), 'kv(state) has the state\'s length');
const a = await e.step([7], r2.state);
if (e.resident) {
  const b = await e.step([7], r2.state);
  check(same(a, b), 'a state can be stepped from twice (its rows are intact) with identical logits');
} else {                                   // dense caches: a call overwrites the views of the previous one
  let again = false;
  try { await e.step([7], r2.state); } catch (x) { again = /stale KV state/.test(x.message); }
  check(again, 'dense caches: only the newest state can be stepped from');
}
await e.step([9, 9], e.initialState());                        // rewrites rows 0..1
let refused = false;
try { await e.step([7], r2.state); } catch (x) { refused = /stale KV state/.test(x.message); }
check(refused, 'stepping from a state whose rows were overwritten is refused');
const c = await e.step([7], snap), d = await e.step([7], snap);
check(same(a, c) && same(c, d), 'a snapshot can be stepped from after other calls, with the original logits');
const wantResident = process.argv.includes('--resident');
console.log(`${!wantResident || e.resident ? 'ok  ' : 'FAIL'} cache is ${e.resident ? '' : 'not '}resident in the module`);
process.exit(checks.every(Boolean) && (!wantResident || e.resident) ? 0 : 1);
