// main.mjs — the demo page: an image (the bundled sample, or one dropped or picked) is drawn at 224x224,
// normalized to NCHW with imageToTensor and classified by the model package in ./model/ (made by
// `onnx2wasm model.onnx -o model/`), which runs in a worker so the page stays responsive.
// window.demo exposes the last result to tests/demo (the RGBA pixels, the tensor fed, the logits).
import { load, imageToTensor, softmax, topK, IMAGENET_MEAN, IMAGENET_STD } from './model/index.mjs';

const SIZE = 224;
const $ = (id) => document.getElementById(id);
const view = $('view'), ctx = view.getContext('2d', { willReadFrequently: true });
let labels = null;
let runs = 0;

// the center square of the image, scaled to SIZE x SIZE
function draw(img) {
  const w = img.naturalWidth || img.width, h = img.naturalHeight || img.height, side = Math.min(w, h);
  ctx.imageSmoothingQuality = 'high';
  ctx.clearRect(0, 0, SIZE, SIZE);
  ctx.drawImage(img, (w - side) / 2, (h - side) / 2, side, side, 0, 0, SIZE, SIZE);
  return ctx.getImageData(0, 0, SIZE, SIZE);
}

// the five best: name, a bar relative to the best, probability and logit
function show(top, logits, ms) {
  $('top5').replaceChildren(...top.map(({ index, value }) => {
    const li = document.createElement('li');
    const name = document.createElement('span');
    name.textContent = labels?.[index] ?? `class ${index}`;
    const bar = document.createElement('div');
    bar.className = 'bar';
    const fill = document.createElement('span');
    fill.style.width = `${(100 * value / top[0].value).toFixed(1)}%`;
    bar.append(fill);
    const num = document.createElement('span');
    num.className = 'num';
    num.textContent = `${(100 * value).toFixed(2)}%`;
    num.title = `logit ${logits[index].toFixed(4)}`;
    li.append(name, bar, num);
    return li;
  }));
  $('status').textContent = `classified in ${ms.toFixed(1)} ms (${model.worker ? 'in a worker' : 'on the main thread'})`;
}

async function classify(img, source) {
  const pixels = draw(img);
  const input = imageToTensor(pixels, { mean: IMAGENET_MEAN, std: IMAGENET_STD });
  // count main-thread ticks while the model runs: with the worker the page keeps running
  let ticks = 0, settled = false;
  const timer = setInterval(() => { ticks++; }, 0);
  const t0 = performance.now();
  const pending = model.runAsync({ [model.inputs[0].name]: input });
  pending.then(() => { settled = true; }, () => { settled = true; });
  await new Promise((r) => setTimeout(r, 0));
  const yielded = !settled;                     // the page got control back before the result came
  const out = await pending;
  const ms = performance.now() - t0;
  clearInterval(timer);
  $('ticks').textContent = String(ticks);
  const logits = out[model.outputs[0].name].data;
  const top = topK(softmax(logits), 5);
  show(top, logits, ms);
  runs++;
  window.demo.last = { source, width: pixels.width, height: pixels.height, rgba: pixels.data, input: input.data,
                       dims: [...input.dims], logits, top5: top, ms, ticks, yielded, runs };
  return window.demo.last;
}

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = () => reject(new Error(`cannot decode the image ${typeof src === 'string' ? src : ''}`));
    img.src = src;
  });
}

async function classifyFile(file) {
  const url = URL.createObjectURL(file);
  try {
    return await classify(await loadImage(url), file.name);
  } catch (e) {
    $('status').textContent = String(e.message || e);
    throw e;
  } finally {
    URL.revokeObjectURL(url);
  }
}

window.demo = { last: null, error: null };
let model;
try {
  const t0 = performance.now();
  model = await load({ worker: true });
  window.demo.loadMs = performance.now() - t0;
} catch (e) {
  window.demo.error = String(e.message || e);
  $('status').textContent = window.demo.error;
  throw e;
}
labels = await fetch('./labels.json').then((r) => (r.ok ? r.json() : null)).catch(() => null);

$('file').addEventListener('change', (e) => { if (e.target.files[0]) classifyFile(e.target.files[0]); });
const drop = $('drop');
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over'); });
drop.addEventListener('dragleave', () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  drop.classList.remove('over');
  const f = [...e.dataTransfer.files].find((x) => x.type.startsWith('image/'));
  if (f) classifyFile(f);
});

try {
  await classify(await loadImage('./sample.png'), 'sample.png');
} catch (e) {
  window.demo.error = String(e.message || e);
  $('status').textContent = window.demo.error;
}
