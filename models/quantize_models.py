#!/usr/bin/python3
"""quantize_models.py — pre-quantized variants of a float32 ONNX model, written here with numpy (no
onnxruntime quantization tools on this machine), in the two formats real exports use:

  --format nbits   every MatMul with a constant 2-D B becomes com.microsoft MatMulNBits (bits 4, block 32,
                   asymmetric: a uint8 zero point per block, packed two per byte, as onnxruntime's
                   MatMul4BitsQuantizer writes them); --bits 8 for 8-bit MatMulNBits
  --format qdq     every such B becomes DequantizeLinear(int8 [K][N], per-column float scale, axis 1) feeding the
                   MatMul (onnxruntime's quantize_static/quantize_dynamic weight form, symmetric)
  --format static  a CNN in onnxruntime quantize_static's QDQ form: every activation tensor entering or leaving a
                   Conv, Gemm, MatMul, Add, Concat or pool gets QuantizeLinear -> DequantizeLinear (uint8, per tensor,
                   asymmetric, its range calibrated with onnxruntime-web on --calib seeded random inputs in [0, 1),
                   tools/ort-ranges.mjs); conv/gemm weights int8 symmetric per output channel, biases int32 at scale
                   x_scale * w_scale. A Relu or Clip that is the only consumer of a tensor takes the QDQ pair after it
                   (onnxruntime folds it into the quantization range). Graph outputs stay float32.
  --format dynamic every Conv with a constant weight as onnxruntime's quantize_dynamic writes it: DynamicQuantizeLinear
                   on the input (uint8, its range computed at run time), ConvInteger with int8 weights (symmetric, per
                   tensor), Cast to float32, times x_scale * w_scale, plus the float32 bias; and every MatMul with a
                   constant 2-D float32 B the same way with MatMulInteger, B int8 symmetric per column (quantize_dynamic's
                   per_channel form: x_scale * b_scale is one scale per column)

usage: /usr/bin/python3 models/quantize_models.py IN.onnx OUT.onnx --format nbits|qdq|static|dynamic [--bits 4|8] [--block 32]
                                                   [--calib N]
External data is loaded and the output is written with its weights inline.
"""
import argparse
import json
import os
import subprocess
import tempfile
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


QOPS = {'Conv', 'Gemm', 'MatMul', 'Add', 'Concat', 'MaxPool', 'AveragePool', 'GlobalAveragePool'}
ACTS = {'Relu', 'Clip'}


def act_scale(lo, hi):
    """onnxruntime's uint8 asymmetric parameters for a range: (scale float32, zero point uint8)"""
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    s = np.float32((hi - lo) / 255.0)
    if s == 0:
        return np.float32(1.0), np.uint8(0)
    return s, np.uint8(np.clip(np.rint(-lo / s), 0, 255))


def static_qdq(m, calib):
    """rewrites the float32 CNN m in place into the QDQ form (see --format static); returns the count of
    quantized weights"""
    g = m.graph
    # exporters share equal constants through Identity nodes (torch: a zero bias); give each its own copy
    inits = {t.name: t for t in g.initializer}
    keep = []
    for nd in g.node:
        if nd.op_type == 'Identity' and nd.input[0] in inits and nd.output[0] not in {o.name for o in g.output}:
            t = onnx.TensorProto()
            t.CopyFrom(inits[nd.input[0]])
            t.name = nd.output[0]
            g.initializer.extend([t])
            inits[t.name] = t
        else:
            keep.append(nd)
    del g.node[:]
    g.node.extend(keep)
    outputs = {o.name for o in g.output}
    users = {}
    for nd in g.node:
        for i in nd.input:
            users.setdefault(i, []).append(nd)
    def is_act(t):
        return t and t not in inits
    # the tensors to quantize: activations in or out of a quantized op; an output consumed only by a
    # Relu/Clip moves its pair past that activation
    S = []
    def add(t):
        if is_act(t) and t not in outputs and t not in S:
            S.append(t)
    for nd in g.node:
        if nd.op_type in QOPS:
            for i in (nd.input[:1] if nd.op_type in ('Conv', 'Gemm') else nd.input):   # weights, biases: below
                add(i)
            for o in nd.output:
                u = users.get(o, [])
                if len(u) == 1 and u[0].op_type in ACTS:
                    add(u[0].output[0])
                else:
                    add(o)
    # calibration: every tensor of S as a graph output, ranges from onnxruntime-web
    cm = onnx.ModelProto()
    cm.CopyFrom(m)
    del cm.graph.output[:]
    for t in S:
        cm.graph.output.extend([helper.make_tensor_value_info(t, TensorProto.FLOAT, None)])
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, 'calib.onnx')
        onnx.save(cm, path)
        tool = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'tools', 'ort-ranges.mjs')
        out = subprocess.run(['node', tool, path, '--runs', str(calib)], check=True, capture_output=True, text=True).stdout
    ranges = json.loads(out)
    qp = {t: act_scale(*ranges[t]) for t in S}
    nodes, count = [], 0
    for nd in g.node:
        # weights and biases of Conv / Gemm / MatMul whose activation input is quantized
        if nd.op_type in ('Conv', 'Gemm', 'MatMul') and len(nd.input) >= 2 and nd.input[0] in qp and nd.input[1] in inits:
            wt = inits[nd.input[1]]
            w = numpy_helper.to_array(wt).astype(np.float32)
            if nd.op_type == 'Conv' or (nd.op_type == 'Gemm' and any(a.name == 'transB' and a.i for a in nd.attribute)):
                axis = 0
            else:
                axis = 1
            red = tuple(i for i in range(w.ndim) if i != axis)
            mx = np.abs(w).max(axis=red)
            ws = np.where(mx > 0, mx / 127.0, 1.0).astype(np.float32)
            shp = [1] * w.ndim
            shp[axis] = -1
            q = np.clip(np.rint(w / ws.reshape(shp)), -127, 127).astype(np.int8)
            wn = nd.input[1]
            g.initializer.extend([numpy_helper.from_array(q, wn + '_q'), numpy_helper.from_array(ws, wn + '_scale'),
                                  numpy_helper.from_array(np.zeros(ws.shape, np.int8), wn + '_zp')])
            nodes.append(helper.make_node('DequantizeLinear', [wn + '_q', wn + '_scale', wn + '_zp'], [wn + '_dq'],
                                          name=wn + '_dequant', axis=axis))
            nd.input[1] = wn + '_dq'
            count += 1
            if len(nd.input) > 2 and nd.input[2] in inits and nd.op_type in ('Conv', 'Gemm'):
                bt = inits[nd.input[2]]
                b = numpy_helper.to_array(bt).astype(np.float32)
                if b.ndim == 1 and b.shape[0] == ws.shape[0]:
                    bs = (qp[nd.input[0]][0] * ws).astype(np.float32)
                    bq = np.rint(b / bs).astype(np.int32)
                    bn = nd.input[2]
                    g.initializer.extend([numpy_helper.from_array(bq, bn + '_q'), numpy_helper.from_array(bs, bn + '_scale'),
                                          numpy_helper.from_array(np.zeros(bs.shape, np.int32), bn + '_zp')])
                    nodes.append(helper.make_node('DequantizeLinear', [bn + '_q', bn + '_scale', bn + '_zp'], [bn + '_dq'],
                                                  name=bn + '_dequant', axis=0))
                    nd.input[2] = bn + '_dq'
        # consumers read the dequantized copy of each quantized tensor
        for k, i in enumerate(nd.input):
            if i in qp:
                nd.input[k] = i + '_dq'
        nodes.append(nd)
        for o in nd.output:
            if o in qp:
                s, z = qp[o]
                g.initializer.extend([numpy_helper.from_array(np.array(s, np.float32), o + '_scale'),
                                      numpy_helper.from_array(np.array(z, np.uint8), o + '_zp')])
                nodes.append(helper.make_node('QuantizeLinear', [o, o + '_scale', o + '_zp'], [o + '_q'], name=o + '_quant'))
                nodes.append(helper.make_node('DequantizeLinear', [o + '_q', o + '_scale', o + '_zp'], [o + '_dq'],
                                              name=o + '_dequant'))
    # graph inputs that are quantized: their pair goes first
    head = []
    for gi in g.input:
        if gi.name in qp:
            s, z = qp[gi.name]
            o = gi.name
            g.initializer.extend([numpy_helper.from_array(np.array(s, np.float32), o + '_scale'),
                                  numpy_helper.from_array(np.array(z, np.uint8), o + '_zp')])
            head += [helper.make_node('QuantizeLinear', [o, o + '_scale', o + '_zp'], [o + '_q'], name=o + '_quant'),
                     helper.make_node('DequantizeLinear', [o + '_q', o + '_scale', o + '_zp'], [o + '_dq'], name=o + '_dequant')]
    del g.node[:]
    g.node.extend(head + nodes)
    return count


def dynamic_conv(m):
    """rewrites every Conv with a constant float32 weight of m into quantize_dynamic's ConvInteger chain, every MatMul
    with a constant 2-D float32 B into its MatMulInteger chain; returns the count"""
    g = m.graph
    inits = {t.name: t for t in g.initializer}
    nodes, count = [], 0
    for nd in g.node:
        t = inits.get(nd.input[1]) if nd.op_type == 'MatMul' and len(nd.input) == 2 else None
        if t is not None and len(t.dims) == 2 and t.data_type == TensorProto.FLOAT:
            b = numpy_helper.to_array(t).astype(np.float32)
            mx = np.abs(b).max(axis=0)
            bs = np.where(mx > 0, mx / 127.0, 1.0).astype(np.float32)
            q = np.clip(np.rint(b / bs), -127, 127).astype(np.int8)
            p = (nd.name or nd.output[0]).replace('/', '_')
            g.initializer.extend([numpy_helper.from_array(q, p + '_bq'), numpy_helper.from_array(bs, p + '_bs'),
                                  numpy_helper.from_array(np.zeros(b.shape[1], np.int8), p + '_bz')])
            nodes.append(helper.make_node('DynamicQuantizeLinear', [nd.input[0]], [p + '_aq', p + '_as', p + '_az'], name=p + '_dynq'))
            nodes.append(helper.make_node('MatMulInteger', [p + '_aq', p + '_bq', p + '_az', p + '_bz'], [p + '_acc'], name=p + '_mmint'))
            nodes.append(helper.make_node('Cast', [p + '_acc'], [p + '_accf'], name=p + '_cast', to=TensorProto.FLOAT))
            nodes.append(helper.make_node('Mul', [p + '_as', p + '_bs'], [p + '_s'], name=p + '_scale'))
            nodes.append(helper.make_node('Mul', [p + '_accf', p + '_s'], [nd.output[0]], name=p + '_rescale'))
            count += 1
            continue
        if nd.op_type != 'Conv' or nd.input[1] not in inits:
            nodes.append(nd)
            continue
        w = numpy_helper.to_array(inits[nd.input[1]]).astype(np.float32)
        mx = float(np.abs(w).max())
        ws = np.float32(mx / 127.0 if mx > 0 else 1.0)
        q = np.clip(np.rint(w / ws), -127, 127).astype(np.int8)
        p = (nd.name or nd.output[0]).replace('/', '_')
        g.initializer.extend([numpy_helper.from_array(q, p + '_wq'), numpy_helper.from_array(np.array(ws, np.float32), p + '_ws'),
                              numpy_helper.from_array(np.array(0, np.int8), p + '_wz')])
        x = nd.input[0]
        nodes.append(helper.make_node('DynamicQuantizeLinear', [x], [p + '_xq', p + '_xs', p + '_xz'], name=p + '_dynq'))
        attrs = {a.name: helper.get_attribute_value(a) for a in nd.attribute}
        nodes.append(helper.make_node('ConvInteger', [p + '_xq', p + '_wq', p + '_xz', p + '_wz'], [p + '_acc'], name=p + '_convint', **attrs))
        nodes.append(helper.make_node('Cast', [p + '_acc'], [p + '_accf'], name=p + '_cast', to=TensorProto.FLOAT))
        nodes.append(helper.make_node('Mul', [p + '_xs', p + '_ws'], [p + '_s'], name=p + '_scale'))
        out = nd.output[0]
        if len(nd.input) > 2 and nd.input[2]:
            nodes.append(helper.make_node('Mul', [p + '_accf', p + '_s'], [p + '_y'], name=p + '_rescale'))
            b = nd.input[2]
            bshape = p + '_bshape'
            g.initializer.extend([numpy_helper.from_array(np.array([1, -1, 1, 1], np.int64), bshape)])
            nodes.append(helper.make_node('Reshape', [b, bshape], [p + '_b4'], name=p + '_bias_shape'))
            nodes.append(helper.make_node('Add', [p + '_y', p + '_b4'], [out], name=p + '_bias'))
        else:
            nodes.append(helper.make_node('Mul', [p + '_accf', p + '_s'], [out], name=p + '_rescale'))
        count += 1
    del g.node[:]
    g.node.extend(nodes)
    for o in m.opset_import:
        if o.domain in ('', 'ai.onnx') and o.version < 11:
            o.version = 11
    return count


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('inp')
    ap.add_argument('out')
    ap.add_argument('--format', choices=['nbits', 'qdq', 'static', 'dynamic'], required=True)
    ap.add_argument('--bits', type=int, default=4, choices=[4, 8])
    ap.add_argument('--block', type=int, default=32)
    ap.add_argument('--calib', type=int, default=8, help='calibration runs for --format static')
    a = ap.parse_args()
    m = onnx.load(a.inp)
    g = m.graph
    if a.format in ('static', 'dynamic'):
        count = static_qdq(m, a.calib) if a.format == 'static' else dynamic_conv(m)
        used = {i for nd in g.node for i in nd.input}
        keep = [t for t in g.initializer if t.name in used]
        del g.initializer[:]
        g.initializer.extend(keep)
        onnx.save(m, a.out)
        print(f'{a.out}: ' + (f'static QDQ, {count} weights int8 per channel, activations uint8 per tensor' if a.format == 'static'
                               else f'{count} convs / MatMuls as DynamicQuantizeLinear + ConvInteger / MatMulInteger (int8 weights)'))
        return
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
