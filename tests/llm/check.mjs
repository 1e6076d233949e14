#!/usr/bin/env node
// Checks an onnx2wasm-compiled decoder against onnxruntime-web call by call over a KV-cache decode (logits at every step).
//
// usage: node tests/llm/check.mjs MODEL_DIR MODULE.wasm [--steps N] [--rtol R] [--atol A] [--self-test]
//
// --self-test puts a second onnxruntime-web session in our module's place (MODULE.wasm is then
// ignored): checks this harness while the compiler cannot build the module yet.
//
// Both engines get exactly the same calls; the tokens are onnxruntime-web's greedy choices, so
// a near-tie flipping in our module cannot make the sequences diverge (agreement of the greedy
// choices is reported separately). One module instance and one ort-web session serve:
//   sequence 1: prefill of a prompt of L1 = 24 characters, then N (default 200) decode steps;
//   sequence 2: prefill of a prompt of L2 = 41 characters, a chunked prefill of 7 tokens with
//               past > 0 (seq > 1 on a non-empty cache), then 60 decode steps.
// Every call's logits [1, seq, vocab] are compared (|ours - ort| <= atol + rtol * |ort|,
// defaults rtol 1e-3, atol 1e-4), and the final present_* of each sequence too.
// Prints one ok/FAIL line per sequence and 'N passed, N failed'; exit 0 when all pass,
// 1 on a mismatch, 2 when the module cannot be used (e.g. no run-time symbols seq/past).
import { compareTensor } from '../../runtime/js/onnx2wasm-run.mjs';
import { LlmError, argmax, contextBound, loadVocab, modelFiles, openEngine } from '../../tools/llm.mjs';

const PROMPT1 = 'ZEUS, n.  The chief of G';                    // 24 characters
const PROMPT2 = 'LAWYER, n.  One skilled in circumvention ';      // 41 characters

function parse(argv) {
  const o = { dir: null, wasm: null, steps: 200, rtol: 1e-3, atol: 1e-4, selfTest: false };
  const pos = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i], val = () => Number(argv[++i]);
    if (a === '--steps') o.steps = val();
    else if (a === '--rtol') o.rtol = val();
    else if (a === '--atol') o.atol = val();
    else if (a === '--self-test') o.selfTest = true;
    else if (a.startsWith('-')) throw new LlmError(`unknown option '${a}'`);
    else pos.push(a);
  }
  if (pos.length !== 2) throw new LlmError('usage: check.mjs MODEL_DIR MODULE.wasm [--steps N] [--rtol R] [--atol A]');
  [o.dir, o.wasm] = pos;
  return o;
}

async function main() {
  const o = parse(process.argv.slice(2));
  const files = { ...modelFiles(o.dir), wasm: o.wasm };
  const name = files.dir.split('/').pop();
  const vocab = loadVocab(files.vocab);
  const ctx = contextBound(files.config);
  const ref = await openEngine('ort-web', files);
  let ours;
  try {
    ours = await openEngine(o.selfTest ? 'ort-web' : 'onnx2wasm', files);
    if (o.selfTest) ours.bounds = { seq: Infinity, past: Infinity };
  } catch (e) {
    console.log(`FAIL ${name}: ${e.message}`);
    return 2;
  }
  const need = { past: Math.max(PROMPT1.length + o.steps, PROMPT2.length + 7 + 60), seq: Math.max(PROMPT1.length, PROMPT2.length) };
  for (const s of ['seq', 'past']) {
    if (ours.bounds[s] < need[s]) { console.log(`FAIL ${name}: run-time symbol ${s} is bounded by ${ours.bounds[s]}, the test needs ${need[s]}`); return 2; }
  }
  if (need.past + 1 > ctx) throw new LlmError(`the test needs ${need.past + 1} positions, the model has ${ctx}`);
  const tol = { rtol: o.rtol, atol: o.atol };
  let pass = 0, fail = 0;

  // Runs one sequence of calls on both engines; `plan` yields the token ids of each call.
  async function sequence(label, prompt, chunk, steps) {
    let sr = ref.initialState(), so = ours.initialState();
    let worst = { ratio: 0 }, maxAbs = 0, calls = 0, agree = 0, decided = 0, bad = null;
    const shapes = new Set();
    const one = async (ids) => {
      const past = sr.past;
      const r = await ref.step(ids, sr);
      let q;
      try { q = await ours.step(ids, so); } catch (e) { bad = `call ${calls} (past ${past}, seq ${ids.length}): ${e.message}`; return null; }
      const dims = [1, ids.length, r.vocab];
      const c = compareTensor({ dtype: 'float32', dims, data: q.logits }, { dtype: 'float32', dims, data: r.logits }, tol);
      shapes.add(`${ids.length}`);
      if (c.maxAbs > maxAbs) maxAbs = c.maxAbs;
      if (c.worst && (worst.call === undefined || c.worst.ratio > worst.ratio)) worst = { ...c.worst, call: calls, past, seq: ids.length };
      if (!c.ok && !bad) {
        bad = `call ${calls} (past ${past}, seq ${ids.length}): ${c.reason || `${c.mismatches}/${c.count} logits off, worst at [${c.worst.coord}] ours ${c.worst.got} vs ort ${c.worst.exp}`}`;
      }
      const last = (ids.length - 1) * r.vocab;
      const tok = argmax(r.logits, last, r.vocab);
      decided++;
      if (argmax(q.logits, last, q.vocab) === tok) agree++;
      calls++;
      sr = r.state; so = q.state;
      return tok;
    };
    const ids = vocab.encode(prompt);
    let tok = await one(ids);
    if (chunk && tok !== null) tok = await one(ids.slice(0, chunk));
    const generated = [];
    for (let s = 0; s < steps && tok !== null && !bad; s++) { generated.push(tok); tok = await one([tok]); }
    if (!bad) {
      // the caches themselves, after the last call
      const kr = ref.kv(sr), ko = ours.kv(so);                 // dense [1, kv_heads, past, head_dim] each
      for (let k = 0; k < kr.length && !bad; k++) {
        const n = ref.kvHeads * sr.past * ref.headDim, dims = [1, ref.kvHeads, sr.past, ref.headDim];
        const c = compareTensor({ dtype: 'float32', dims, data: ko[k].subarray(0, n) }, { dtype: 'float32', dims, data: kr[k].subarray(0, n) }, tol);
        if (!c.ok) bad = `final present tensor ${k} (past ${sr.past}): ${c.reason || `${c.mismatches}/${c.count} off`}`;
      }
    }
    const what = `${name} ${label}: prefill ${ids.length}${chunk ? ` + chunk ${chunk} at past ${ids.length}` : ''} + ${steps} decode steps ` +
                 `(${calls} calls, final past ${sr.past})`;
    if (bad) {
      fail++;
      console.log(`FAIL ${what}: ${bad}`);
    } else {
      pass++;
      console.log(`ok   ${what}: logits match ort-web at every call, max abs err ${maxAbs.toExponential(2)}, ` +
                  `worst err/tol ${worst.ratio.toFixed(3)} (call ${worst.call}, past ${worst.past}, seq ${worst.seq}); ` +
                  `greedy choice agrees ${agree}/${decided}; text ${JSON.stringify(vocab.decode(generated).slice(0, 60))}`);
    }
  }

  await sequence('sequence 1', PROMPT1, 0, o.steps);
  await sequence('sequence 2 (same module)', PROMPT2, 7, 60);
  console.log(`${pass} passed, ${fail} failed`);
  await ref.release();
  return fail ? 1 : 0;
}

try {
  process.exitCode = await main();
} catch (e) {
  console.log(`FAIL ${e instanceof LlmError ? e.message : e.stack}`);
  process.exitCode = 2;
}
