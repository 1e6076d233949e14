#!/usr/bin/python3
"""make_models.py OUT_DIR — models whose If nodes the compiler resolves at compile time (tests/control/run.sh).
NAME.oracle.onnx, where present, is NAME.onnx in a form onnxruntime accepts (the oracle runs it).

Every condition is computed from static shapes (Shape -> Gather -> Greater/Equal/Less), so the
fold pass picks the branch and inlines it; onnxruntime-web runs the same models as the oracle.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F = TensorProto.FLOAT


def init(name, arr):
    return numpy_helper.from_array(np.asarray(arr, dtype=np.float32), name)


def shape_cond(x, op, k, out, pre):
    """nodes computing out = (Shape(x)[0] <op> k) as a bool scalar"""
    return [
        helper.make_node("Shape", [x], [pre + "_shape"], name=pre + "_shape"),
        helper.make_node("Constant", [], [pre + "_zero"], name=pre + "_zero",
                         value=numpy_helper.from_array(np.array(0, dtype=np.int64))),
        helper.make_node("Gather", [pre + "_shape", pre + "_zero"], [pre + "_d0"], name=pre + "_gather", axis=0),
        helper.make_node("Constant", [], [pre + "_k"], name=pre + "_k",
                         value=numpy_helper.from_array(np.array(k, dtype=np.int64))),
        helper.make_node(op, [pre + "_d0", pre + "_k"], [out], name=pre + "_cmp"),
    ]


def branch(name, nodes, outputs, inits=()):
    return helper.make_graph(nodes, name, [], [helper.make_tensor_value_info(o, F, None) for o in outputs],
                             initializer=list(inits))


def save(path, graph, opset=13, check=True):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)], producer_name="onnx2wasm-tests")
    m.ir_version = 8
    if check:  # the checker wants names unique across scopes (SSA); onnxruntime accepts shadowing
        onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)


def shape_if(path, rows, opset):
    """y = If(Shape(x)[0] > 1): then Relu(x) * 2, else Neg(x) + 1"""
    x = helper.make_tensor_value_info("x", F, [rows, 4])
    then_g = branch("then", [helper.make_node("Relu", ["x"], ["r"], name="relu"),
                             helper.make_node("Mul", ["r", "two"], ["t_out"], name="mul")],
                    ["t_out"], [init("two", 2.0)])
    else_g = branch("else", [helper.make_node("Neg", ["x"], ["n"], name="neg"),
                             helper.make_node("Add", ["n", "one"], ["e_out"], name="add")],
                    ["e_out"], [init("one", 1.0)])
    nodes = shape_cond("x", "Greater", 1, "cond", "c") + [
        helper.make_node("If", ["cond"], ["y"], name="if_rows", then_branch=then_g, else_branch=else_g)]
    save(path, helper.make_graph(nodes, "shape_if", [x], [helper.make_tensor_value_info("y", F, [rows, 4])]), opset)


def nested(path):
    """three Ifs deep, each level's condition from a shape; the innermost branch reads values of all
    three enclosing scopes (x from the model, a from level 1, b from level 2)"""
    x = helper.make_tensor_value_info("x", F, [2, 3, 5])
    # level 3 (innermost), condition: x's rank-0 dim == 2 (true)
    l3_then = branch("l3_then", [helper.make_node("Add", ["a", "b"], ["ab"], name="l3_add"),
                                 helper.make_node("Mul", ["ab", "x"], ["l3_out"], name="l3_mul")], ["l3_out"])
    l3_else = branch("l3_else", [helper.make_node("Sub", ["a", "b"], ["l3_e"], name="l3_sub")], ["l3_e"])
    # level 2: defines b, then the level-3 If on Shape(b)[0] == 2
    l2_then = branch("l2_then", [helper.make_node("Sigmoid", ["a"], ["b"], name="l2_sig")]
                     + shape_cond("b", "Equal", 2, "c3", "l3c")
                     + [helper.make_node("If", ["c3"], ["l2_out"], name="if_l3", then_branch=l3_then, else_branch=l3_else)],
                     ["l2_out"])
    l2_else = branch("l2_else", [helper.make_node("Tanh", ["a"], ["l2_e"], name="l2_tanh")], ["l2_e"])
    # level 1: defines a, then the level-2 If on Shape(a)[0] < 5
    l1_then = branch("l1_then", [helper.make_node("Mul", ["x", "half"], ["a"], name="l1_mul")]
                     + shape_cond("a", "Less", 5, "c2", "l2c")
                     + [helper.make_node("If", ["c2"], ["l1_out"], name="if_l2", then_branch=l2_then, else_branch=l2_else)],
                     ["l1_out"], [init("half", 0.5)])
    l1_else = branch("l1_else", [helper.make_node("Identity", ["x"], ["l1_e"], name="l1_id")], ["l1_e"])
    nodes = shape_cond("x", "Greater", 1, "c1", "l1c") + [
        helper.make_node("If", ["c1"], ["y0"], name="if_l1", then_branch=l1_then, else_branch=l1_else),
        helper.make_node("Relu", ["y0"], ["y"], name="relu_after")]
    save(path, helper.make_graph(nodes, "nested", [x], [helper.make_tensor_value_info("y", F, [2, 3, 5])]))


def outer_and_init(path, oracle=False):
    """the branch reads an outer node's output and its own initializer; its local names clash with
    outer ones (u, w), which stay distinct. onnxruntime refuses names reused across scopes, so its
    twin (oracle=True) spells the branch's names differently"""
    x = helper.make_tensor_value_info("x", F, [3, 4])
    u, w = ("bu", "bw") if oracle else ("u", "w")
    then_g = branch("then", [helper.make_node("Mul", ["t", w], [u], name="u"),
                             helper.make_node("Add", [u, "x"], ["t_out"], name="t_add")],
                    ["t_out"], [init(w, np.arange(4) * 0.25 - 0.5)])
    else_g = branch("else", [helper.make_node("Identity", ["t"], ["e_out"], name="e_id")], ["e_out"])
    nodes = [helper.make_node("Add", ["x", "w"], ["t"], name="add_w"),
             helper.make_node("Sigmoid", ["x"], ["u"], name="u")] \
        + shape_cond("x", "Equal", 3, "cond", "c") + [
        helper.make_node("If", ["cond"], ["y0"], name="if_outer", then_branch=then_g, else_branch=else_g),
        helper.make_node("Add", ["y0", "u"], ["y"], name="add_u")]
    save(path, helper.make_graph(nodes, "outer_and_init", [x], [helper.make_tensor_value_info("y", F, [3, 4])],
                                 initializer=[init("w", [1.0, -1.0, 2.0, 0.5])]), opset=16, check=oracle)


def passthrough(path, rows, oracle=False):
    """branch outputs that are directly an outer value (an input and a node output) and a branch
    initializer; the If's outputs are graph outputs. onnxruntime refuses a branch returning an outer
    value, so its twin (oracle=True) copies them with Identity nodes"""
    x = helper.make_tensor_value_info("x", F, [rows, 4])

    def ret(name):  # the branch's output name for value `name` (and the Identity making it, in the twin)
        return (name + "_copy", [helper.make_node("Identity", [name], [name + "_copy"], name="copy_" + name)]) if oracle \
            else (name, [])
    (tx, cx), (tsq, csq) = ret("x"), ret("sq")
    then_g = branch("then", cx + csq, [tx, tsq, "k_then"], [init("k_then", [[1.0, 2.0, 3.0, 4.0]])])
    else_g = branch("else", [helper.make_node("Neg", ["sq"], ["neg"], name="neg")] + cx, ["neg", tx, "k_else"],
                    [init("k_else", [[-1.0, -2.0, -3.0, -4.0]])])
    nodes = [helper.make_node("Mul", ["x", "x"], ["sq"], name="square")] + shape_cond("x", "Greater", 1, "cond", "c") + [
        helper.make_node("If", ["cond"], ["y0", "y1", "k"], name="if_pass", then_branch=then_g, else_branch=else_g)]
    outs = [helper.make_tensor_value_info("y0", F, [rows, 4]), helper.make_tensor_value_info("y1", F, [rows, 4]),
            helper.make_tensor_value_info("k", F, [1, 4])]
    save(path, helper.make_graph(nodes, "passthrough", [x], outs), opset=21)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    shape_if(os.path.join(out, "shape_if_then.onnx"), 3, 13)
    shape_if(os.path.join(out, "shape_if_else.onnx"), 1, 11)
    nested(os.path.join(out, "nested3.onnx"))
    outer_and_init(os.path.join(out, "outer_and_init.onnx"))
    passthrough(os.path.join(out, "passthrough_then.onnx"), 2)
    passthrough(os.path.join(out, "passthrough_else.onnx"), 1)
    # the twins onnxruntime accepts, same inputs and outputs: run.sh runs the oracle on NAME.oracle.onnx
    outer_and_init(os.path.join(out, "outer_and_init.oracle.onnx"), oracle=True)
    passthrough(os.path.join(out, "passthrough_then.oracle.onnx"), 2, oracle=True)
    passthrough(os.path.join(out, "passthrough_else.oracle.onnx"), 1, oracle=True)


if __name__ == "__main__":
    main()
