// page.mjs — the browser side of bench/browser.mjs, loaded by page.html from the bench's 127.0.0.1 server.
// window.o2wBench exposes the steps the driver calls through playwright: a cold start of one peer (fetch,
// compile, first run, timed in the page), then a warm loop in which the peers take turns run by run.
import { load } from '/repo/runtime/js/onnx2wasm.mjs';
import { decodeTensor } from '/repo/runtime/js/tensorproto.mjs';

const now = () => performance.now();
const peers = {};
let input = null;

async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

async function loadOrt() {
  if (!globalThis.__ort) {
    const ort = await import('/ort/ort.wasm.min.mjs');
    ort.env.wasm.wasmPaths = '/ort/';
    ort.env.wasm.numThreads = 1;
    ort.env.wasm.proxy = false;
    ort.env.logLevel = 'error';
    globalThis.__ort = ort;
  }
  return globalThis.__ort;
}

// Fetches the model input (a TensorProto) once per page.
async function setInput(inputUrl) {
  input = decodeTensor(await fetchBytes(inputUrl));
  return { dims: input.dims, n: input.data.length };
}

// One peer from nothing: fetch its model, compile/create, run once. Returns the times (ms) of the whole
// (load_first) and of the first run alone, and keeps the peer for warm().
async function start(peer, url) {
  const t0 = now();
  let run, first;
  if (peer.startsWith('onnx2wasm')) {
    // streaming compilation where the loader takes a Response; bytes otherwise
    const m = await load(await fetchBytes(url));
    const inName = m.inputs[0].name, outName = m.outputs[0].name;
    run = () => m.run({ [inName]: input.data })[outName];
  } else {
    const ort = await loadOrt();
    const s = await ort.InferenceSession.create(await fetchBytes(url), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
    const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', input.data, input.dims) };
    run = async () => (await s.run(feeds))[s.outputNames[0]].data;
  }
  const t1 = now();
  const out = await run();
  const t2 = now();
  peers[peer] = { run, out };
  return { load_first_ms: t2 - t0, first_ms: t2 - t1 };
}

// n interleaved runs of every started peer after w warm-up runs each; times per peer
async function warm(n, w) {
  const names = Object.keys(peers);
  for (let i = 0; i < w; i++) for (const p of names) await peers[p].run();
  const times = Object.fromEntries(names.map((p) => [p, []]));
  for (let i = 0; i < n; i++)
    for (const p of names) {
      const t = now();
      await peers[p].run();
      times[p].push(now() - t);
    }
  return times;
}

// a peer's first output as a plain array (checked against the reference by the driver)
function output(peer) { return Array.from(peers[peer].out); }

function features() {
  // the same probes a loader would use: relaxed SIMD (f32x4.relaxed_madd) and shared memory
  // (a function () -> v128 returning f32x4.relaxed_madd of three i32x4.splat(0))
  const relaxed = WebAssembly.validate(new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0,
    10, 19, 1, 17, 0, 65, 0, 253, 17, 65, 0, 253, 17, 65, 0, 253, 17, 253, 133, 2, 11]));
  return { userAgent: navigator.userAgent, crossOriginIsolated: globalThis.crossOriginIsolated === true, relaxedSimd: relaxed };
}

globalThis.o2wBench = { setInput, start, warm, output, features };
globalThis.o2wBenchReady = true;
