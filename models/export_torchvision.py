#!/usr/bin/python3
# Exports randomly initialised torchvision classifiers to models/<name>/model.onnx (opset 13) for onnx2wasm.
"""Export torchvision models for onnx2wasm's end-to-end tests and benchmarks.

Run with Debian's python (it has torch 1.13 / torchvision 0.14 / onnx):

    /usr/bin/python3 models/export_torchvision.py                 # all four models
    /usr/bin/python3 models/export_torchvision.py --only resnet18 --check

Each model is built with weights=None (no downloads are possible here) right after
torch.manual_seed(SEED), so the random initialisation -- and the exported file -- is
reproducible (byte-identical across runs; torch is pinned to 1 thread for that). The ONNX graph
has input "input" float32 [1,3,224,224] and output "output" float32 [1,1000]; with
--dynamic-batch the batch dim of both is the dim_param "N" instead of 1.

Calibration (default; --raw-init turns it off): torchvision's own init makes mobilenet_v2 and
efficientnet_b0 useless as test models -- kaiming_normal(mode="fan_out") on depthwise convs
shrinks activations by ~sqrt(C) per block, so their logits come out ~1e-10 and ~1e-14, below any
atol: a wrong compiler would still "match". So after init, each BatchNorm gets random affine
parameters (weight U(0.5,1.5), bias N(0,0.1)) and running statistics measured on seeded
uniform [0,1) inputs (the distribution tools/ort-oracle.mjs --gen uses), then the model goes to
eval mode. Activations then stay O(1) and the logits are O(0.1..1), and the Conv+BN folding the
exporter does produces non-trivial weights and biases.

Note on torch 1.13: do_constant_folding=True is passed explicitly, so the graph does not depend
on the exporter's default (it is True in 1.13). With 1.13 and these four models in eval mode
the graph is in fact the same either way (checked: the exporter fuses BatchNormalization into
Conv, Flatten stays a single node); keep it on if you add models with shape computations. The graphs of squeezenet1_1 and
efficientnet_b0 contain Identity nodes on initializers (the exporter deduplicates equal
initializers, e.g. zero-initialised biases); mobilenet_v2 has Constant nodes feeding Clip's
min/max.

--check runs each export through tools/ort-oracle.mjs (onnxruntime-web) on seeded random
inputs, writing models/<name>/data/{input_0,output_0}.pb -- a reference data set for
`onnx2wasm-run model.wasm --data models/<name>/data`.
"""
import argparse
import os
import subprocess
import sys

import torch
import torchvision

OPSET = 13
SEED = 0
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

MODELS = {
    'mobilenet_v2': torchvision.models.mobilenet_v2,
    'resnet18': torchvision.models.resnet18,
    'squeezenet1_1': torchvision.models.squeezenet1_1,
    'efficientnet_b0': torchvision.models.efficientnet_b0,
}


def calibrate(model, seed, batches=2, batch_size=4):
    """Randomises BatchNorm affine params and sets its running stats from seeded inputs."""
    gen = torch.Generator().manual_seed(seed + 1)
    bns = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    with torch.no_grad():
        for bn in bns:
            if bn.affine:
                bn.weight.copy_(torch.rand(bn.weight.shape, generator=gen) + 0.5)
                bn.bias.copy_(torch.randn(bn.bias.shape, generator=gen) * 0.1)
            bn.reset_running_stats()
            bn.momentum = None  # cumulative average over the calibration batches
        model.eval()
        for bn in bns:
            bn.train()      # only BN collects stats; dropout / stochastic depth stay off
        for _ in range(batches):
            model(torch.rand(batch_size, 3, 224, 224, generator=gen))
    model.eval()


def build(name, seed=SEED, raw_init=False):
    """The randomly initialised model `name` in eval mode (deterministic for a given seed)."""
    torch.set_num_threads(1)  # bit-reproducible calibration (and modest CPU use)
    torch.manual_seed(seed)
    model = MODELS[name](weights=None)
    if not raw_init:
        calibrate(model, seed)
    model.eval()
    return model


def export(name, path, dynamic_batch=False, seed=SEED, model=None, raw_init=False):
    """Exports model `name` (or the given built `model`) to `path`; returns the path."""
    model = model if model is not None else build(name, seed, raw_init)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    dummy = torch.zeros(1, 3, 224, 224)
    dynamic_axes = {'input': {0: 'N'}, 'output': {0: 'N'}} if dynamic_batch else None
    with torch.no_grad():
        torch.onnx.export(
            model, dummy, path,
            opset_version=OPSET,
            input_names=['input'], output_names=['output'],
            dynamic_axes=dynamic_axes,
            do_constant_folding=True,
            training=torch.onnx.TrainingMode.EVAL,
        )
    import onnx  # noqa: PLC0415 - only needed after export
    onnx.checker.check_model(path)
    return path


def check_with_ort(path, data_dir, seed=1):
    """Runs the export with onnxruntime-web via tools/ort-oracle.mjs; raises on failure."""
    cmd = ['node', os.path.join(ROOT, 'tools', 'ort-oracle.mjs'), path,
           '--data', data_dir, '--gen', '--seed', str(seed), '--dim', 'N=1']
    subprocess.run(cmd, check=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--only', action='append', choices=sorted(MODELS), metavar='NAME',
                    help=f'export only this model (repeatable): {", ".join(MODELS)}')
    ap.add_argument('--dynamic-batch', action='store_true',
                    help='make the batch dim of input and output the dim_param "N"')
    ap.add_argument('--out-dir', default=HERE, help='write OUT_DIR/<name>/model.onnx (default: models/)')
    ap.add_argument('--seed', type=int, default=SEED, help=f'torch.manual_seed before building (default {SEED})')
    ap.add_argument('--raw-init', action='store_true',
                    help="keep torchvision's init (no BatchNorm calibration; see above)")
    ap.add_argument('--check', action='store_true',
                    help='load and run each export with onnxruntime-web (tools/ort-oracle.mjs), '
                         'writing <name>/data/{input_0,output_0}.pb')
    args = ap.parse_args()

    failed = []
    for name in args.only or list(MODELS):
        path = os.path.join(args.out_dir, name, 'model.onnx')
        export(name, path, dynamic_batch=args.dynamic_batch, seed=args.seed, raw_init=args.raw_init)
        print(f'{name}: wrote {path} ({os.path.getsize(path) / 1e6:.1f} MB)', flush=True)
        if args.check:
            try:
                check_with_ort(path, os.path.join(args.out_dir, name, 'data'))
            except subprocess.CalledProcessError as e:
                print(f'{name}: onnxruntime-web check FAILED ({e})', file=sys.stderr)
                failed.append(name)
    if failed:
        sys.exit(f'onnxruntime-web could not run: {", ".join(failed)}')


if __name__ == '__main__':
    main()
