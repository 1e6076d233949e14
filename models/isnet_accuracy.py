#!/usr/bin/python3
"""What quantization costs a real model: IS-Net quint8 (models/fetch_isnet_quint8.py, run by onnx2wasm) against the
same network with float16 weights and float32 activations (the package's "/models/medium", run by onnxruntime-web:
onnx2wasm does not compile float16 graphs yet), on a few fixed synthetic scenes.

    /usr/bin/python3 models/isnet_accuracy.py [--build build]

Per scene: the max and mean absolute difference of the mask (output 0, in [0, 1]), and the agreement of the two
masks thresholded at 0.5 (the share of pixels on the same side, and the IoU of the foregrounds). Needs the cached
npm tarball that fetch_isnet_quint8.py keeps in models/.cache (it fetches it if absent). Nothing is written to the
repository; the float16 model and the data go to a temporary directory.
"""
import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile

import numpy as np
from onnx import numpy_helper, TensorProto

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import fetch_isnet_quint8 as fetch  # noqa: E402


def scene(k, n=1024):
    """k: 0 a disk on a vertical gradient, 1 two overlapping rectangles on noise, 2 a ring and a bar on a flat
    background; RGB in [0, 1], then normalized as @imgly/background-removal does it ((v - 0.5) / 1)"""
    y, x = np.mgrid[0:n, 0:n].astype(np.float32) / n
    rng = np.random.default_rng(k)
    img = np.zeros((3, n, n), np.float32)
    if k == 0:
        bg = np.stack([0.2 + 0.6 * y, 0.5 + 0 * y, 0.8 - 0.5 * y])
        fg = ((x - 0.5) ** 2 + (y - 0.55) ** 2) < 0.3 ** 2
        img = np.where(fg, np.array([0.9, 0.3, 0.2], np.float32)[:, None, None], bg)
    elif k == 1:
        img = 0.5 + 0.15 * rng.standard_normal((3, n, n)).astype(np.float32)
        r1 = (x > 0.2) & (x < 0.6) & (y > 0.25) & (y < 0.85)
        r2 = (x > 0.45) & (x < 0.8) & (y > 0.1) & (y < 0.5)
        img = np.where(r1, np.array([0.1, 0.6, 0.2], np.float32)[:, None, None], img)
        img = np.where(r2, np.array([0.95, 0.9, 0.1], np.float32)[:, None, None], img)
    else:
        img[:] = 0.85
        d = np.sqrt((x - 0.4) ** 2 + (y - 0.5) ** 2)
        ring = (d > 0.18) & (d < 0.28)
        bar = (x > 0.7) & (x < 0.78) & (y > 0.15) & (y < 0.9)
        img = np.where(ring | bar, np.array([0.15, 0.15, 0.4], np.float32)[:, None, None], img)
    img = np.clip(img, 0, 1)
    return ((img - 0.5) / 1.0)[None].astype(np.float32)


def save(arr, path, name='input'):
    t = numpy_helper.from_array(arr, name)
    open(path, 'wb').write(t.SerializeToString())


def load(path):
    t = TensorProto()
    t.ParseFromString(open(path, 'rb').read())
    return numpy_helper.to_array(t)


def run(cmd):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f'isnet_accuracy: {" ".join(cmd[:3])} ...: {(r.stderr or r.stdout).strip()[-400:]}')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--build', default=os.path.join(ROOT, 'build'))
    a = ap.parse_args()
    q8 = os.path.join(HERE, 'isnet_quint8', 'model.onnx')
    if not os.path.exists(q8):
        run([sys.executable, os.path.join(HERE, 'fetch_isnet_quint8.py')])
    tmp = tempfile.mkdtemp(prefix='isnet_acc_')
    f16 = os.path.join(tmp, 'isnet_fp16.onnx')
    with tarfile.open(fetch.tarball()) as tf:
        res = json.load(tf.extractfile('package/dist/resources.json'))
        open(f16, 'wb').write(b''.join(tf.extractfile('package/dist/' + c['hash']).read() for c in res['/models/medium']['chunks']))
    wasm = os.path.join(tmp, 'isnet_quint8.wasm')
    run([os.path.join(a.build, 'onnx2wasm'), q8, '-o', wasm])
    rows = []
    for k in range(3):
        d = os.path.join(tmp, f'scene{k}')
        os.makedirs(d)
        save(scene(k), os.path.join(d, 'input_0.pb'))
        run(['node', os.path.join(ROOT, 'tools', 'ort-oracle.mjs'), f16, '--data', d, '--quiet'])
        run([os.path.join(a.build, 'onnx2wasm-run'), wasm, '--data', d, '--save', os.path.join(d, 'ours'), '--rtol', '1e9', '--atol', '1e9'])
        ref, got = load(os.path.join(d, 'output_0.pb')).astype(np.float64), load(os.path.join(d, 'ours', 'output_0.pb')).astype(np.float64)
        e = np.abs(ref - got)
        mr, mg = ref > 0.5, got > 0.5
        iou = (mr & mg).sum() / max(1, (mr | mg).sum())
        rows.append((k, e.max(), e.mean(), (mr == mg).mean(), iou, mr.mean()))
    print('| scene | max abs err | mean abs err | pixels on the same side of 0.5 | IoU of the masks > 0.5 | foreground share (float16) |')
    print('|---|---:|---:|---:|---:|---:|')
    for k, mx, mn, agree, iou, fg in rows:
        print(f'| {k} | {mx:.3g} | {mn:.3g} | {100 * agree:.2f}% | {iou:.4f} | {100 * fg:.1f}% |')


if __name__ == '__main__':
    main()
