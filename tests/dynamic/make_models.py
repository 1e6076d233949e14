# make_models.py OUTDIR — small models with run-time dims (dim_params "seq" and "past") for tests/dynamic.
# Run with Debian's python (/usr/bin/python3): it has onnx and numpy.
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
rng = np.random.default_rng(7)


def init(name, shape):
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32) * 0.5, name)


# attention-shaped: new K/V rows appended to a cache, scores over past+seq, softmax, weighted sum
H, D, E = 2, 4, 8
x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "seq", E])
pk = helper.make_tensor_value_info("past_key", TensorProto.FLOAT, [1, H, "past", D])
pv = helper.make_tensor_value_info("past_value", TensorProto.FLOAT, [1, H, "past", D])
outs = [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, "seq", E])] + [
    helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, H, "total", D]) for n in ("present_key", "present_value")]
shape = numpy_helper.from_array(np.array([1, -1, H, D], np.int64), "heads_shape")
back = numpy_helper.from_array(np.array([1, -1, H * D], np.int64), "merge_shape")
scale = numpy_helper.from_array(np.array(1 / np.sqrt(D), np.float32), "scale")
nodes = []
for t in ("q", "k", "v"):
    nodes += [
        helper.make_node("MatMul", ["x", f"w{t}"], [f"{t}0"], name=f"proj_{t}"),
        helper.make_node("Add", [f"{t}0", f"b{t}"], [f"{t}1"], name=f"bias_{t}"),
        helper.make_node("Reshape", [f"{t}1", "heads_shape"], [f"{t}2"], name=f"split_{t}"),
        helper.make_node("Transpose", [f"{t}2"], [f"{t}3"], perm=[0, 2, 1, 3], name=f"heads_{t}"),
    ]
nodes += [
    helper.make_node("Concat", ["past_key", "k3"], ["present_key"], axis=2, name="cache_k"),
    helper.make_node("Concat", ["past_value", "v3"], ["present_value"], axis=2, name="cache_v"),
    helper.make_node("Transpose", ["present_key"], ["kt"], perm=[0, 1, 3, 2], name="kt"),
    helper.make_node("MatMul", ["q3", "kt"], ["s0"], name="scores"),
    helper.make_node("Mul", ["s0", "scale"], ["s1"], name="scaled"),
    helper.make_node("Softmax", ["s1"], ["p"], axis=-1, name="softmax"),
    helper.make_node("MatMul", ["p", "present_value"], ["o0"], name="mix"),
    helper.make_node("Transpose", ["o0"], ["o1"], perm=[0, 2, 1, 3], name="merge"),
    helper.make_node("Reshape", ["o1", "merge_shape"], ["o2"], name="merge_heads"),
    helper.make_node("MatMul", ["o2", "wo"], ["o3"], name="proj_o"),
    helper.make_node("Relu", ["o3"], ["y"], name="act"),
]
inits = [shape, back, scale, init("wo", (H * D, E))]
for t in ("q", "k", "v"):
    inits += [init(f"w{t}", (E, H * D)), init(f"b{t}", (H * D,))]
g = helper.make_graph(nodes, "attention", [x, pk, pv], outs, inits)
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
m.ir_version = 8
onnx.checker.check_model(m)
onnx.save(m, os.path.join(out, "attention.onnx"))
