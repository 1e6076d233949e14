#!/usr/bin/python3
"""quantize_models.py — pre-quantized variants of a float32 ONNX model, written here with numpy (no
onnxruntime quantization tools on this machine), in the two formats real exports use:

  --format nbits   every MatMul with a constant 2-D B becomes com.microsoft MatMulNBits (bits 4, block 32,
                   asymmetric: a uint8 zero point per block, packed two per byte, as onnxruntime's
                   MatMul4BitsQuantizer writes them); --bits 8 for 8-bit MatMulNBits
  --format qdq     every such B becomes DequantizeLinear(int8 [K][N], per-column float scale, axis 1) feeding the
                   MatMul (onnxruntime's quantize_static/quantize_dynamic weight form, symmetric)

usage: /usr/bin/python3 models/quantize_models.py IN.onnx OUT.onnx --format nbits|qdq [--bits 4|8] [--block 32]
External data is loaded and the output is written with its weights inline.
"""
import argparse
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto


def nbits(b, bits, block):
    """b [K][N] float32 -> (B uint8 [N][nblk][block*bits/8], scales [N*nblk] float32, zp uint8 packed)"""
    k, n = b.shape
    nblk = (k + block - 1) // block
    pad = np.zeros((nblk * block, n), np.float32)
    pad[:k] = b
    w = pad.T.reshape(n, nblk, block)                        # [N][blk][r]
    lo = np.minimum(w.min(axis=2), 0.0)
    hi = np.maximum(w.max(axis=2), 0.0)
    qmax = (1 << bits) - 1
    s = ((hi - lo) / qmax).astype(np.float32)
    safe = np.where(s > 0, s, 1.0).astype(np.float32)
    z = np.clip(np.rint(-lo / safe), 0, qmax).astype(np.int32)
    q = np.clip(np.rint(w / safe[:, :, None]) + z[:, :, None], 0, qmax).astype(np.uint8)
    q = np.where(s[:, :, None] > 0, q, z[:, :, None]).astype(np.uint8)
    if bits == 4:
        packed = (q[:, :, 0::2] | (q[:, :, 1::2] << 4)).astype(np.uint8)
        zrow = (nblk + 1) // 2
        zz = np.zeros((n, zrow * 2), np.uint8)
        zz[:, :nblk] = z
        zp = (zz[:, 0::2] | (zz[:, 1::2] << 4)).astype(np.uint8)
    else:
        packed, zp = q, z.astype(np.uint8)
    return packed, s.reshape(-1), zp.reshape(-1)


def qdq(b):
    m = np.abs(b).max(axis=0)
    s = np.where(m > 0, m / 127.0, 1.0).astype(np.float32)
    q = np.clip(np.rint(b / s), -127, 127).astype(np.int8)
    return q, s


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('inp')
    ap.add_argument('out')
    ap.add_argument('--format', choices=['nbits', 'qdq'], required=True)
    ap.add_argument('--bits', type=int, default=4, choices=[4, 8])
    ap.add_argument('--block', type=int, default=32)
    a = ap.parse_args()
    m = onnx.load(a.inp)
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    nodes, count = [], 0
    for nd in g.node:
        bname = nd.input[1] if nd.op_type == 'MatMul' and len(nd.input) == 2 else None
        t = inits.get(bname)
        if t is None or len(t.dims) != 2 or t.data_type != TensorProto.FLOAT:
            nodes.append(nd)
            continue
        b = numpy_helper.to_array(t).astype(np.float32)
        k, n = b.shape
        count += 1
        if a.format == 'nbits':
            packed, s, zp = nbits(b, a.bits, a.block)
            nblk = (k + a.block - 1) // a.block
            g.initializer.extend([numpy_helper.from_array(packed.reshape(n, nblk, -1), bname + '_Q'),
                                  numpy_helper.from_array(s, bname + '_scales'),
                                  numpy_helper.from_array(zp, bname + '_zp')])
            nodes.append(helper.make_node('MatMulNBits', [nd.input[0], bname + '_Q', bname + '_scales', bname + '_zp'],
                                          list(nd.output), name=(nd.name or bname) + '_nbits', domain='com.microsoft',
                                          K=k, N=n, bits=a.bits, block_size=a.block))
        else:
            q, s = qdq(b)
            g.initializer.extend([numpy_helper.from_array(q, bname + '_q'), numpy_helper.from_array(s, bname + '_scale')])
            nodes.append(helper.make_node('DequantizeLinear', [bname + '_q', bname + '_scale'], [bname + '_dq'],
                                          name=bname + '_dequant', axis=1))
            nodes.append(helper.make_node('MatMul', [nd.input[0], bname + '_dq'], list(nd.output), name=nd.name))
    used = {i for nd in nodes for i in nd.input}
    keep = [t for t in g.initializer if t.name in used]
    del g.initializer[:]
    g.initializer.extend(keep)
    del g.node[:]
    g.node.extend(nodes)
    if a.format == 'nbits' and not any(o.domain == 'com.microsoft' for o in m.opset_import):
        m.opset_import.extend([helper.make_opsetid('com.microsoft', 1)])
    if a.format == 'qdq':
        for o in m.opset_import:
            if o.domain in ('', 'ai.onnx') and o.version < 13:
                o.version = 13
    onnx.save(m, a.out)
    print(f'{a.out}: {count} MatMul weights as {a.format}' + (f' int{a.bits} block {a.block}' if a.format == 'nbits' else ' int8 per column'))


if __name__ == '__main__':
    main()
