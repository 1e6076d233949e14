// main.mjs — the text-generation page: the decoder module in ./model/ (model.wasm compiled from
// models/gpt2_char with run-time seq/past, vocab.json, config.json) runs in a worker; the generation loop
// is tools/llm-core.mjs's, the one tools/generate.mjs runs in Node. Each character is appended to the page
// as it comes. window.demo exposes the last generation to tests/demo (prompt ids, tokens, each token's logits).
import { load } from '../../runtime/js/onnx2wasm.mjs';
import { decoderEngine, generate, makeVocab, picker } from '../../tools/llm-core.mjs';

const $ = (id) => document.getElementById(id);
const json = async (url) => {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return r.json();
};

window.demo = { last: null, error: null };
let engine, vocab, ctx;
try {
  const t0 = performance.now();
  const [model, v, config] = await Promise.all([load('./model/model.wasm', { worker: true }), json('./model/vocab.json'), json('./model/config.json')]);
  engine = decoderEngine(model, { file: 'model.wasm' });
  vocab = makeVocab(v);
  ctx = Number.isInteger(config.ctx) ? config.ctx : Infinity;
  window.demo.loadMs = performance.now() - t0;
  $('status').textContent = `model loaded in ${window.demo.loadMs.toFixed(0)} ms (${config.name}, ${config.trained ? 'trained' : 'random weights'})`;
  $('go').disabled = false;
} catch (e) {
  window.demo.error = String(e.message || e);
  $('status').textContent = window.demo.error;
  throw e;
}

async function run(promptText, tokens, topK) {
  $('go').disabled = true;
  const prompt = vocab.encode(promptText);
  const shown = document.createElement('b');
  shown.textContent = vocab.decode(prompt);
  const gen = document.createTextNode('');
  $('text').replaceChildren(shown, gen);
  const last = { prompt, tokens: [], logits: [], done: false };
  window.demo.last = last;
  const t0 = performance.now();
  let first = 0;
  try {
    for await (const t of generate(engine, prompt, { tokens, ctx, pick: picker({ topK, temperature: 0.8 }) })) {
      if (t.stopped) break;
      if (!first) first = performance.now() - t0;
      last.tokens.push(t.token);
      last.logits.push(Array.from(t.logits));
      gen.appendData(vocab.decode([t.token]));          // streamed: the page renders between tokens
      $('status').textContent = `${last.tokens.length} characters`;
    }
    const ms = performance.now() - t0, n = last.tokens.length;
    last.ms = ms;
    $('status').textContent = `${n} characters: first after ${first.toFixed(0)} ms, then ` +
      `${n > 1 ? ((n - 1) / ((ms - first) / 1000)).toFixed(0) : '-'} characters/s (in a worker)`;
  } catch (e) {
    window.demo.error = String(e.message || e);
    $('status').textContent = window.demo.error;
  } finally {
    last.done = true;
    $('go').disabled = false;
  }
}

$('form').addEventListener('submit', (e) => {
  e.preventDefault();
  run($('prompt').value, Number($('tokens').value), Number($('topk').value));
});
