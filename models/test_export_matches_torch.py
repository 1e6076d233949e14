#!/usr/bin/python3
# Checks that export_torchvision.py's mobilenet_v2 run in onnxruntime-web (tools/ort-oracle.mjs) matches torch.
"""Exports mobilenet_v2 into a temp dir (no committed .onnx needed), runs torch and
onnxruntime-web on the same seeded input and requires max |ort - torch| <= 1e-4.
Also checks that the export is reproducible (two exports are byte-identical) and that the
logits are not degenerate (a wrong model must not pass by tolerance alone).

    /usr/bin/python3 models/test_export_matches_torch.py [--model NAME]   (exit 0 = pass)
"""
import argparse
import hashlib
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx
import torch
from onnx import numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import export_torchvision as ex  # noqa: E402

TOL = 1e-4


def read_pb(path):
    t = onnx.TensorProto()
    with open(path, 'rb') as f:
        t.ParseFromString(f.read())
    return numpy_helper.to_array(t)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--model', default='mobilenet_v2', choices=sorted(ex.MODELS))
    args = ap.parse_args()
    name = args.model
    with tempfile.TemporaryDirectory(prefix='o2w-export-') as tmp:
        model = ex.build(name)
        path = ex.export(name, os.path.join(tmp, 'model.onnx'), model=model)
        path2 = ex.export(name, os.path.join(tmp, 'again.onnx'))
        digest = lambda p: hashlib.sha256(open(p, 'rb').read()).hexdigest()  # noqa: E731
        assert digest(path) == digest(path2), 'two exports with the same seed differ'

        gen = torch.Generator().manual_seed(123)
        x = torch.rand(1, 3, 224, 224, generator=gen)
        with torch.no_grad():
            want = model(x).numpy()
        data = os.path.join(tmp, 'data')
        os.makedirs(data)
        with open(os.path.join(data, 'input_0.pb'), 'wb') as f:
            f.write(numpy_helper.from_array(x.numpy(), 'input').SerializeToString())
        subprocess.run(['node', os.path.join(ex.ROOT, 'tools', 'ort-oracle.mjs'), path,
                        '--data', data, '--quiet'], check=True)
        got = read_pb(os.path.join(data, 'output_0.pb'))

    assert got.shape == want.shape == (1, 1000), (got.shape, want.shape)
    err = float(np.abs(got - want).max())
    spread = float(want.std())
    print(f'{name}: max |ort-web - torch| = {err:.3g} (tol {TOL}), logits std {spread:.3g}, '
          f'argmax torch {want.argmax()} ort {got.argmax()}')
    assert spread > 100 * TOL, f'logits std {spread} is too small for a meaningful comparison'
    assert err <= TOL, f'ort-web and torch differ by {err}'
    assert want.argmax() == got.argmax()
    print('PASS')


if __name__ == '__main__':
    main()
