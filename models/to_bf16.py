#!/usr/bin/python3
"""Stores a model's float32 weight matrices as bfloat16, the way LLM checkpoints ship.

    /usr/bin/python3 models/to_bf16.py models/llama_char models/llama_char_bf16

Every float32 initializer of rank >= 2 (the matrices: projections, MLP, embeddings, LM head) is
rounded to bfloat16 (round to nearest even) and stored as a BFLOAT16 initializer, followed by a
Cast to float32 under the original name; the graph computes in float32 as before. Vectors (norm
gains, biases) and scalars stay float32. The result is a different model from the source (its
weights are rounded), so every check runs it against onnxruntime-web on the same file.

Copies vocab.json and config.json from SRC (config: name, weights="bfloat16", weight_bytes as stored
and weight_bytes_float32, the size once widened, which onnxruntime-web streams: it folds the Casts).
"""
import json
import os
import shutil
import sys

import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


def to_bf16_bits(a):
    """float32 array -> uint16 bfloat16 bits, round to nearest even (finite inputs)."""
    u = np.ascontiguousarray(a, dtype=np.float32).view(np.uint32).astype(np.uint64)
    r = (u + 0x7FFF + ((u >> 16) & 1)) >> 16
    return r.astype(np.uint16)


def convert(m):
    g = m.graph
    keep, casts, nconv = [], [], 0
    for t in g.initializer:
        a = numpy_helper.to_array(t)
        if t.data_type != TensorProto.FLOAT or a.ndim < 2 or not np.all(np.isfinite(a)):
            keep.append(t)
            continue
        bits = to_bf16_bits(a)
        bt = TensorProto()
        bt.name = t.name + '.bf16'
        bt.data_type = TensorProto.BFLOAT16
        bt.dims.extend(a.shape)
        bt.raw_data = bits.tobytes()
        keep.append(bt)
        casts.append(helper.make_node('Cast', [bt.name], [t.name], name=t.name + '.cast', to=TensorProto.FLOAT))
        nconv += 1
    del g.initializer[:]
    g.initializer.extend(keep)
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    return nconv


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    src, dst = sys.argv[1], sys.argv[2]
    m = onnx.load(os.path.join(src, 'model.onnx'))
    n = convert(m)
    onnx.checker.check_model(m)
    os.makedirs(dst, exist_ok=True)
    onnx.save(m, os.path.join(dst, 'model.onnx'))
    shutil.copyfile(os.path.join(src, 'vocab.json'), os.path.join(dst, 'vocab.json'))
    with open(os.path.join(src, 'config.json')) as f:
        cfg = json.load(f)
    cfg['name'] = os.path.basename(os.path.normpath(dst))
    cfg['weights'] = 'bfloat16'
    cfg['weight_bytes_float32'] = int(sum(numpy_helper.to_array(t).nbytes if t.data_type != TensorProto.BFLOAT16
                                          else 2 * len(t.raw_data) for t in m.graph.initializer))
    cfg['weight_bytes'] = int(sum(numpy_helper.to_array(t).nbytes if t.data_type != TensorProto.BFLOAT16
                                  else len(t.raw_data) for t in m.graph.initializer))
    with open(os.path.join(dst, 'config.json'), 'w') as f:
        json.dump(cfg, f, indent=1)
        f.write('\n')
    print(f'{dst}: {n} matrices stored as bfloat16, {cfg["weight_bytes"] / 1e6:.2f} MB of weights')


if __name__ == '__main__':
    main()
