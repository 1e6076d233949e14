#!/usr/bin/env python3
"""make_models.py OUT_DIR — the models of the native-backend tests (tests/native/run.sh), seeded:
  small_cnn.onnx  x[1,3,16,16] -> Conv 3x3 (8) + Relu -> depthwise Conv 3x3 s2 + Clip -> GlobalAveragePool
                  -> Flatten -> Gemm (10) -> Softmax          (packed, depthwise, pooled, GEMM epilogues)
  dyn_mlp.onnx    x[seq,16] -> MatMul 16x32 + Add + Relu -> MatMul 32x8 -> y[seq,8]   (a run-time dim)"""
import sys
import numpy as np
import onnx
from onnx import helper, numpy_helper, TensorProto

out = sys.argv[1]
rng = np.random.default_rng(7)


def init(name, shape, scale=0.5):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def save(graph, path):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)], producer_name="onnx2wasm-tests")
    onnx.checker.check_model(m)
    onnx.save(m, path)


cnn = helper.make_graph(
    [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], strides=[2, 2], group=8),
        helper.make_node("Clip", ["c2", "lo", "hi"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["g"], transB=1),
        helper.make_node("Softmax", ["g"], ["y"], axis=1),
    ],
    "small_cnn",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 16, 16])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10])],
    [init("w1", [8, 3, 3, 3]), init("b1", [8]), init("w2", [8, 1, 3, 3]), init("b2", [8]),
     numpy_helper.from_array(np.array(0, np.float32), "lo"), numpy_helper.from_array(np.array(6, np.float32), "hi"),
     init("w3", [10, 8]), init("b3", [10])],
)
save(cnn, f"{out}/small_cnn.onnx")

mlp = helper.make_graph(
    [
        helper.make_node("MatMul", ["x", "w1"], ["h"]),
        helper.make_node("Add", ["h", "b1"], ["hb"]),
        helper.make_node("Relu", ["hb"], ["r"]),
        helper.make_node("MatMul", ["r", "w2"], ["y"]),
    ],
    "dyn_mlp",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["seq", 16])],
    [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["seq", 8])],
    [init("w1", [16, 32]), init("b1", [32]), init("w2", [32, 8])],
)
save(mlp, f"{out}/dyn_mlp.onnx")
