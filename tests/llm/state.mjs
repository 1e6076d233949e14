// state.mjs MODULE.wasm — the onnx2wasm engine's KV-state contract (tools/llm.mjs): a state is consumed
// by step(); stepping from a stale one throws; a snapshot can be stepped from repeatedly with equal results.
import { openEngine } from '../../tools/llm.mjs';

const e = await openEngine('onnx2wasm', { wasm: process.argv[2] });
const r1 = await e.step([3, 4, 5], e.initialState());
const r2 = await e.step([6], r1.state);
let refused = false;
try { await e.step([7], r1.state); } catch (x) { refused = /stale KV state/.test(x.message); }
const snap = e.snapshot(r2.state);
const a = await e.step([7], snap), b = await e.step([7], snap);
const same = a.logits.length > 0 && a.logits.every((v, i) => v === b.logits[i]);
console.log(`${refused ? 'ok  ' : 'FAIL'} stepping from a stale state is refused`);
console.log(`${same ? 'ok  ' : 'FAIL'} a snapshot can be stepped from twice with identical logits`);
process.exit(refused && same ? 0 : 1);
