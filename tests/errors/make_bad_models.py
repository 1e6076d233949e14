# make_bad_models.py OUTDIR — writes malformed or unsupported ONNX models for tests/errors/run.sh.
# Run with Debian's python (/usr/bin/python3), which has the onnx package.
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

out = sys.argv[1]
os.makedirs(out, exist_ok=True)


def save(name, graph, opset=13):
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.save(m, os.path.join(out, name))


X = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 8, 8])
Y = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
W = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")

# a good conv model (also the source of the truncated copy)
save("good.onnx", helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], name="conv_1")], "g", [X], [Y], [W]))

# unsupported op
save("unsupported.onnx", helper.make_graph([helper.make_node("Unique", ["x"], ["y"], name="uq_7")], "g", [X], [Y]))
# a default-domain op in a model that imports only another domain (an optimizer step's)
m = helper.make_model(helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu_nodom")], "g", [X], [Y]),
                      opset_imports=[helper.make_opsetid("ai.onnx.preview.training", 1)])
m.ir_version = 8
onnx.save(m, os.path.join(out, "no_default_domain.onnx"))
# the name of an op only the compiler's passes make (FusedAttention) is not an ONNX op
save("internal_op.onnx", helper.make_graph([helper.make_node("FusedAttention", ["x", "x", "x"], ["y"], name="fa_1")], "g", [X], [Y]))

# a dtype the run-time kernels don't take
XU = helper.make_tensor_value_info("x", TensorProto.BFLOAT16, [4])
YU = helper.make_tensor_value_info("y", TensorProto.BFLOAT16, [4])
save("wrong_dtype.onnx", helper.make_graph([helper.make_node("Add", ["x", "x"], ["y"], name="add_bf16")], "g", [XU], [YU]))

# bad attributes: strides with the wrong number of entries, zero stride
save("bad_attr.onnx", helper.make_graph(
    [helper.make_node("Conv", ["x", "w"], ["y"], name="conv_bad", strides=[1, 1, 1])], "g", [X], [Y], [W]))
save("zero_stride.onnx", helper.make_graph(
    [helper.make_node("MaxPool", ["x"], ["y"], name="pool_0", kernel_shape=[2, 2], strides=[0, 1])], "g", [X], [Y]))

# weights whose shape disagrees with the input
W2 = numpy_helper.from_array(np.ones((4, 5, 3, 3), np.float32), "w")
save("bad_shape.onnx", helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], name="conv_2")], "g", [X], [Y], [W2]))

# external data that escapes the model folder
def external(name, location):
    t = numpy_helper.from_array(np.ones((4, 3, 3, 3), np.float32), "w")
    t.ClearField("raw_data")
    t.data_location = TensorProto.EXTERNAL
    e = t.external_data.add()
    e.key, e.value = "location", location
    save(name, helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], name="conv_3")], "g", [X], [Y], [t]))

external("escape_dotdot.onnx", "../outside.bin")
external("escape_abs.onnx", "/etc/passwd")

# a run-time dim N (compiles with a bound, --max-dim)
XN = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])
save("runtime_dim.onnx", helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu_n")], "g", [XN], [Y]))

# a symbolic dim nobody binds reaching a kernel that needs compile-time sizes (LRN); a Conv takes it at run time
XS = helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 3, 8, 8])
save("unbound_dim.onnx", helper.make_graph([helper.make_node("LRN", ["x"], ["y"], name="lrn_4", size=3)], "g", [XS], [Y]))
save("runtime_conv.onnx", helper.make_graph([helper.make_node("Conv", ["x", "w"], ["y"], name="conv_4")], "g", [XS], [Y], [W]))

# Tile whose repeats come at run time; Sum of an integer type (float types only)
R = helper.make_tensor_value_info("r", TensorProto.INT64, [4])
save("tile_runtime.onnx", helper.make_graph([helper.make_node("Tile", ["x", "r"], ["y"], name="tile_3")], "g", [X, R], [Y]))
XI = helper.make_tensor_value_info("x", TensorProto.INT32, [4])
YI = helper.make_tensor_value_info("y", TensorProto.INT32, [4])
save("sum_int.onnx", helper.make_graph([helper.make_node("Sum", ["x", "x", "x"], ["y"], name="sum_5")], "g", [XI], [YI]))

# Reshape whose shape comes at run time (element symbols): the output's declared shape [2, 6] is checked, and
# without one the entries must keep the 12 elements (tests/errors/runtime_values.mjs runs them)
X34 = helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])
SH = helper.make_tensor_value_info("shape", TensorProto.INT64, [2])
save("reshape_rt.onnx", helper.make_graph([helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape_rt")], "g", [X34, SH],
                                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 6])]))
save("reshape_rt_free.onnx", helper.make_graph([helper.make_node("Reshape", ["x", "shape"], ["t"], name="reshape_free"),
                                                helper.make_node("Relu", ["t"], ["y"], name="relu_free")], "g", [X34, SH],
                                               [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)]))

# Unsqueeze whose axes come at run time: the declared [3, 1, 4, 1] implies axes {1, 3}, in any order or as -3 / -1
AX = helper.make_tensor_value_info("axes", TensorProto.INT64, [2])
save("unsqueeze_rt.onnx", helper.make_graph([helper.make_node("Unsqueeze", ["x", "axes"], ["y"], name="unsq_rt")], "g", [X34, AX],
                                            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 1, 4, 1])]))

# TopK whose K comes at run time
K = helper.make_tensor_value_info("k", TensorProto.INT64, [1])
YK = helper.make_tensor_value_info("yi", TensorProto.INT64, None)
save("topk_runtime.onnx", helper.make_graph([helper.make_node("TopK", ["x", "k"], ["y", "yi"], name="topk_2")], "g", [X, K], [Y, YK]))

# recurrent ops: LSTM with clip (not supported); GRU whose W does not have 3 * hidden_size rows
XR = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 1, 3])
YR = helper.make_tensor_value_info("yh", TensorProto.FLOAT, None)
WL = helper.make_tensor_value_info("w", TensorProto.FLOAT, [1, 8, 3])
RL = helper.make_tensor_value_info("r", TensorProto.FLOAT, [1, 8, 2])
save("lstm_clip.onnx", helper.make_graph([helper.make_node("LSTM", ["x", "w", "r"], ["", "yh"], name="lstm_1", hidden_size=2, clip=1.0)],
                                         "g", [XR, WL, RL], [YR]), opset=14)
WG = helper.make_tensor_value_info("w", TensorProto.FLOAT, [1, 5, 3])
RG = helper.make_tensor_value_info("r", TensorProto.FLOAT, [1, 6, 2])
save("gru_bad_w.onnx", helper.make_graph([helper.make_node("GRU", ["x", "w", "r"], ["", "yh"], name="gru_1", hidden_size=2)],
                                         "g", [XR, WG, RG], [YR]), opset=14)

# truncated and garbage files
data = open(os.path.join(out, "good.onnx"), "rb").read()
open(os.path.join(out, "truncated.onnx"), "wb").write(data[: len(data) // 2])
open(os.path.join(out, "garbage.onnx"), "wb").write(bytes((i * 7919 + 13) & 0xFF for i in range(4096)))
open(os.path.join(out, "empty.onnx"), "wb").close()

# Range(past, past + seq, 1) over run-time dims (position ids of a decoder): start and limit are only
# known symbolically, so the count is not known at compile time
XP = helper.make_tensor_value_info("past_k", TensorProto.FLOAT, [1, "past", 4])
XQ = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, "seq", 4])
YP = helper.make_tensor_value_info("pos", TensorProto.INT64, None)
one = numpy_helper.from_array(np.array(1, np.int64), "one")
save("range_runtime.onnx", helper.make_graph([
    helper.make_node("Shape", ["past_k"], ["sp"], name="shape_p"),
    helper.make_node("Gather", ["sp", "one"], ["p"], name="gather_p", axis=0),
    helper.make_node("Shape", ["x"], ["sx"], name="shape_x"),
    helper.make_node("Gather", ["sx", "one"], ["s"], name="gather_s", axis=0),
    helper.make_node("Add", ["p", "s"], ["l"], name="add_l"),
    helper.make_node("Range", ["p", "l", "one"], ["pos"], name="range_pos"),
], "g", [XP, XQ], [YP], [one]))

# node lists out of topological order (tests/errors/run.sh compares each with its ordered twin): a chain
# listed backwards, and float16 weights whose Casts a float16 converter appended at the end
XC = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])
YC = helper.make_tensor_value_info("y", TensorProto.FLOAT, None)
WC = numpy_helper.from_array(np.arange(16, dtype=np.float32).reshape(4, 4) / 8, "wc")
chain = [helper.make_node("MatMul", ["x", "wc"], ["a"], name="mm_1"),
         helper.make_node("Relu", ["a"], ["b"], name="relu_2"),
         helper.make_node("Sigmoid", ["b"], ["c"], name="sig_3"),
         helper.make_node("Add", ["c", "x"], ["y"], name="add_4")]
save("chain.onnx", helper.make_graph(chain, "g", [XC], [YC], [WC]))
save("chain_reversed.onnx", helper.make_graph(chain[::-1], "g", [XC], [YC], [WC]))
W16 = numpy_helper.from_array((np.arange(16, dtype=np.float32).reshape(4, 4) / 8).astype(np.float16), "w16")
B16 = numpy_helper.from_array(np.array([0.5, -1, 2, 0.25], np.float16), "b16")
casts = [helper.make_node("Cast", ["w16"], ["wc"], name="cast_w", to=TensorProto.FLOAT),
         helper.make_node("Cast", ["b16"], ["bc"], name="cast_b", to=TensorProto.FLOAT)]
body = [helper.make_node("MatMul", ["x", "wc"], ["a"], name="mm_1"),
        helper.make_node("Add", ["a", "bc"], ["y"], name="add_2")]
save("f16_casts_first.onnx", helper.make_graph(casts + body, "g", [XC], [YC], [W16, B16]))
save("f16_casts_last.onnx", helper.make_graph(body + casts, "g", [XC], [YC], [W16, B16]))
# a cycle: add_c reads sig_c's output, which reads add_c's
save("cycle.onnx", helper.make_graph([helper.make_node("Add", ["x", "s"], ["r"], name="add_c"),
                                      helper.make_node("Sigmoid", ["r"], ["s"], name="sig_c"),
                                      helper.make_node("Relu", ["r"], ["y"], name="relu_c")], "g", [XC], [YC]))

# shape arithmetic that overflows int64: a dim of 2^62 (numel wraps), Tile repeats of INT64_MAX,
# a Reshape target [2^31, INT64_MAX]; and a Slice step of INT64_MIN (legal: it takes one element)
I64MAX = 2**63 - 1
XH = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2**62, 4])
save("huge_input.onnx", helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu_h")], "g", [XH], [Y]))
SH = numpy_helper.from_array(np.array([2**62, 4], np.int64), "shape")
save("huge_dim.onnx", helper.make_graph([helper.make_node("ConstantOfShape", ["shape"], ["c"], name="cos_big"),
                                         helper.make_node("Add", ["c", "c"], ["y"], name="add_big")], "g", [], [Y], [SH]))
S4 = numpy_helper.from_array(np.array([2**20, 1024], np.int64), "shape")   # exactly 4 GiB of float32: one byte too many
save("tensor_4gib.onnx", helper.make_graph([helper.make_node("ConstantOfShape", ["shape"], ["c"], name="cos_4g"),
                                            helper.make_node("Add", ["c", "c"], ["y"], name="add_4g")], "g", [], [Y], [S4]))
XT = helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 4, 5])
RT = numpy_helper.from_array(np.array([I64MAX, 7, 1, 1], np.int64), "reps")
save("tile_overflow.onnx", helper.make_graph([helper.make_node("Tile", ["x", "reps"], ["y"], name="tile_big")], "g", [XT], [Y], [RT]))
ST = numpy_helper.from_array(np.array([2**31, I64MAX], np.int64), "shape")
save("reshape_overflow.onnx", helper.make_graph([helper.make_node("Reshape", ["x", "shape"], ["y"], name="reshape_big")], "g", [XT], [Y], [ST]))
sl = [numpy_helper.from_array(np.array([v], np.int64), nm) for nm, v in
      (("starts", 7), ("ends", -2**63), ("axes", 3), ("steps", -2**63))]
save("slice_min_step.onnx", helper.make_graph([helper.make_node("Slice", ["x", "starts", "ends", "axes", "steps"], ["y"], name="slice_m")],
                                              "g", [X], [Y], sl))

# tensors claiming far more bytes than the file holds (run.sh runs these under a 1 GiB address-space
# limit: the compiler must refuse them before allocating): [2^29] float32 = 2 GiB with 4 bytes of
# raw_data, the same in external data of 64 bytes and as a Constant's attribute; external data
# whose location is a directory
def claim(name, nelem):
    t = TensorProto()
    t.name, t.data_type = name, TensorProto.FLOAT
    t.dims.append(nelem)
    return t

XB = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])
t = claim("w", 2**29)
t.raw_data = b"\0" * 4
save("claim_raw.onnx", helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"], name="add_w")], "g", [XB], [Y], [t]))
open(os.path.join(out, "w.bin"), "wb").write(b"\0" * 64)
os.makedirs(os.path.join(out, "wdir"), exist_ok=True)
for fname, loc in (("claim_external.onnx", "w.bin"), ("external_dir.onnx", "wdir")):
    t = claim("w", 2**29 if loc == "w.bin" else 16)
    t.data_location = TensorProto.EXTERNAL
    e = t.external_data.add()
    e.key, e.value = "location", loc
    save(fname, helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"], name="add_w")], "g", [XB], [Y], [t]))
t = claim("big", 2**29)
t.raw_data = b"\0" * 4
save("claim_attr.onnx", helper.make_graph([helper.make_node("Constant", [], ["c"], name="const_big", value=t),
                                           helper.make_node("Add", ["x", "c"], ["y"], name="add_c")], "g", [XB], [Y]))

# If (ir/ops/control.c): the branch is chosen at compile time, so the condition must fold
FX = TensorProto.FLOAT
def if_branches(then_out="yt", else_out="ye"):
    then_g = helper.make_graph([helper.make_node("Relu", ["x"], [then_out], name="relu_t")], "then", [],
                               [helper.make_tensor_value_info(then_out, FX, None)])
    else_g = helper.make_graph([helper.make_node("Neg", ["x"], [else_out], name="neg_e")], "else", [],
                               [helper.make_tensor_value_info(else_out, FX, None)])
    return then_g, else_g
def shape_gt1(x):
    return [helper.make_node("Shape", [x], ["shp"], name="shape_c"),
            helper.make_node("Gather", ["shp", "zero"], ["d0"], name="gather_c", axis=0),
            helper.make_node("Greater", ["d0", "one"], ["cond"], name="gt_c")]
ZO = [numpy_helper.from_array(np.array(0, np.int64), "zero"), numpy_helper.from_array(np.array(1, np.int64), "one")]
XF = helper.make_tensor_value_info("x", FX, [2, 4])
CB = helper.make_tensor_value_info("c", TensorProto.BOOL, [])
t, e = if_branches()
save("if_runtime.onnx", helper.make_graph([helper.make_node("If", ["c"], ["y"], name="if_rt", then_branch=t, else_branch=e)],
                                          "g", [XF, CB], [Y]))
# the condition depends on a run-time dim: known once --dim binds it
save("if_runtime_dim.onnx", helper.make_graph(shape_gt1("x") + [
    helper.make_node("If", ["cond"], ["y"], name="if_len", then_branch=t, else_branch=e)], "g", [XN], [Y], ZO))
# branches that disagree with the node, a branch reading a name no scope has
t2 = helper.make_graph([helper.make_node("Relu", ["x"], ["a"], name="relu_a"), helper.make_node("Neg", ["x"], ["b"], name="neg_b")],
                       "then", [], [helper.make_tensor_value_info("a", FX, None), helper.make_tensor_value_info("b", FX, None)])
save("if_bad_outputs.onnx", helper.make_graph(shape_gt1("x") + [
    helper.make_node("If", ["cond"], ["y"], name="if_bad", then_branch=t2, else_branch=e)], "g", [XF], [Y], ZO))
t3 = helper.make_graph([helper.make_node("Add", ["x", "nope"], ["yt"], name="add_nope")], "then", [],
                       [helper.make_tensor_value_info("yt", FX, None)])
save("if_unknown_name.onnx", helper.make_graph(shape_gt1("x") + [
    helper.make_node("If", ["cond"], ["y"], name="if_nn", then_branch=t3, else_branch=e)], "g", [XF], [Y], ZO))
# the If listed before the node producing the outer value its branch reads: ordered like its twin
t4 = helper.make_graph([helper.make_node("Mul", ["sq", "x"], ["yt"], name="mul_sq")], "then", [],
                       [helper.make_tensor_value_info("yt", FX, None)])
if_nodes = shape_gt1("x") + [helper.make_node("Mul", ["x", "x"], ["sq"], name="square"),
                             helper.make_node("If", ["cond"], ["y"], name="if_sq", then_branch=t4, else_branch=e)]
save("if_ordered.onnx", helper.make_graph(if_nodes, "g", [XF], [Y], ZO))
save("if_reversed.onnx", helper.make_graph(if_nodes[::-1], "g", [XF], [Y], ZO))
# an op the compiler lacks (a Loop with its body, Unique) in a branch: an error only when that branch is chosen
loop_b = helper.make_graph([helper.make_node("Identity", ["cin"], ["cout"], name="id_b")], "body",
                           [helper.make_tensor_value_info("i", TensorProto.INT64, []), helper.make_tensor_value_info("cin", TensorProto.BOOL, [])],
                           [helper.make_tensor_value_info("cout", TensorProto.BOOL, [])])
t5 = helper.make_graph([helper.make_node("Relu", ["x"], ["yt"], name="relu_t")], "then", [], [helper.make_tensor_value_info("yt", FX, None)])
e5 = helper.make_graph([helper.make_node("Loop", ["", "cond"], [], name="loop_e", body=loop_b),
                        helper.make_node("Unique", ["x"], ["ye"], name="uq_e")], "else", [], [helper.make_tensor_value_info("ye", FX, None)])
save("if_unsupported_in_branch.onnx", helper.make_graph(shape_gt1("x") + [
    helper.make_node("If", ["cond"], ["y"], name="if_u", then_branch=t5, else_branch=e5)], "g", [XN], [Y], ZO))
# Loop and Scan stay unsupported
body = helper.make_graph([helper.make_node("Identity", ["cin"], ["cout"], name="id_b")], "body",
                         [helper.make_tensor_value_info("i", TensorProto.INT64, []), helper.make_tensor_value_info("cin", TensorProto.BOOL, [])],
                         [helper.make_tensor_value_info("cout", TensorProto.BOOL, [])])
save("loop.onnx", helper.make_graph([helper.make_node("Loop", ["", "c"], [], name="loop_1", body=body)], "g", [XF, CB],
                                    [helper.make_tensor_value_info("x", FX, [2, 4])]))
# integer ops: a float input of QLinearMatMul; a per-channel weight zero point with the wrong length
QA = helper.make_tensor_value_info("a", TensorProto.FLOAT, [2, 4])
QY = helper.make_tensor_value_info("y", TensorProto.UINT8, None)
qinits = [numpy_helper.from_array(np.array(v, dt), nm) for nm, v, dt in
          (("sa", 0.1, np.float32), ("za", 0, np.uint8), ("b", np.ones((4, 3)), np.uint8), ("sb", 0.1, np.float32),
           ("zb", 0, np.uint8), ("sy", 0.2, np.float32), ("zy", 0, np.uint8))]
save("qlinear_float.onnx", helper.make_graph([helper.make_node(
    "QLinearMatMul", ["a", "sa", "za", "b", "sb", "zb", "sy", "zy"], ["y"], name="qmm_bad")], "g", [QA], [QY], qinits))
QX = helper.make_tensor_value_info("x", TensorProto.UINT8, [1, 3, 8, 8])
QI = helper.make_tensor_value_info("y", TensorProto.INT32, None)
save("convinteger_zp.onnx", helper.make_graph([helper.make_node("ConvInteger", ["x", "w", "", "wz"], ["y"], name="convi_bad")],
     "g", [QX], [QI], [numpy_helper.from_array(np.ones((4, 3, 3, 3), np.uint8), "w"),
                       numpy_helper.from_array(np.zeros(3, np.uint8), "wz")]))
