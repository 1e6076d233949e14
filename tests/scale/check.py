#!/usr/bin/env python3
"""tests/scale — the compiler's time and memory at scale (issue 15).

1. Memory: a generated model of ~1 GB of float32 weights (16 MatMuls of 4096x4096, external data) compiles
   at a peak RSS of at most 1.5x its weight bytes, and the module's output matches numpy on one input.
2. Time: a chain of 100k Relu nodes compiles in at most 2.3x the time of a 50k chain (best of 3 each:
   a ratio on one machine in one run, not an absolute time).

usage: check.py BUILD_DIR WORK_DIR
"""
import os, resource, subprocess, sys, time
import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

build, work = sys.argv[1], sys.argv[2]
os.makedirs(work, exist_ok=True)
compiler = os.path.join(build, "onnx2wasm")
failed = []


def check(ok, msg):
    print(("ok   " if ok else "FAIL ") + msg, flush=True)
    if not ok:
        failed.append(msg)


def compile_model(model, out):
    """(seconds, peak RSS in bytes) of one compile in a fresh child"""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    r = subprocess.run([compiler, model, "-o", out], capture_output=True, text=True)
    dt = time.perf_counter() - t
    if r.returncode:
        sys.exit(f"FAIL compiling {model}: {r.stderr.strip()}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    # ru_maxrss of RUSAGE_CHILDREN is the largest child so far: only meaningful when it grew
    return dt, peak * 1024 if peak > before else None


# ---- 1. ~1 GB of weights: peak compile memory
D, L = 4096, 16
model = os.path.join(work, "big.onnx")
data = os.path.join(work, "big.onnx.data")
rng = np.random.default_rng(15)
x = rng.standard_normal((1, D), dtype=np.float32)
y = x.copy()
inits, nodes = [], []
with open(data, "wb") as f:
    for i in range(L):
        w = rng.standard_normal((D, D), dtype=np.float32) * np.float32(1 / 64)   # keeps |y| near 1 layer by layer
        y = (y.astype(np.float64) @ w.astype(np.float64)).astype(np.float32)
        t = TensorProto(name=f"w{i}", data_type=TensorProto.FLOAT, dims=[D, D])
        t.data_location = TensorProto.EXTERNAL
        for k, v in (("location", "big.onnx.data"), ("offset", str(f.tell())), ("length", str(w.nbytes))):
            e = t.external_data.add(); e.key = k; e.value = v
        f.write(w.tobytes())
        inits.append(t)
        nodes.append(helper.make_node("MatMul", [f"v{i}", f"w{i}"], [f"v{i + 1}"], name=f"mm{i}"))
        del w
g = helper.make_graph(nodes, "big", [helper.make_tensor_value_info("v0", TensorProto.FLOAT, [1, D])],
                      [helper.make_tensor_value_info(f"v{L}", TensorProto.FLOAT, [1, D])], inits)
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), model)
weight_bytes = os.path.getsize(data)
wasm = os.path.join(work, "big.wasm")
dt, peak = compile_model(model, wasm)
check(peak is not None and peak <= 1.5 * weight_bytes,
      f"peak RSS compiling {weight_bytes / 2**20:.0f} MiB of weights: {peak / 2**20 if peak else 0:.0f} MiB "
      f"({peak / weight_bytes if peak else 0:.2f}x, limit 1.5x; {dt:.1f} s)")
os.remove(data)   # the module carries its own copy; free the disk before running it
tdir = os.path.join(work, "big_data")
os.makedirs(tdir, exist_ok=True)
open(os.path.join(tdir, "input_0.pb"), "wb").write(numpy_helper.from_array(x, "v0").SerializeToString())
open(os.path.join(tdir, "output_0.pb"), "wb").write(numpy_helper.from_array(y, f"v{L}").SerializeToString())
r = subprocess.run([os.path.join(build, "onnx2wasm-run"), wasm, "--data", tdir, "--rtol", "1e-3", "--atol", "1e-3"],
                   capture_output=True, text=True)
check(r.returncode == 0, "the 1 GB module matches numpy (float64 reference) on one input"
      + ("" if r.returncode == 0 else ": " + (r.stdout + r.stderr).strip()[-400:]))
os.remove(wasm)


# ---- 2. compile time linear in graph length
def chain(n):
    path = os.path.join(work, f"chain{n}.onnx")
    ns = [helper.make_node("Relu", [f"v{i}"], [f"v{i + 1}"], name=f"relu{i}") for i in range(n)]
    g = helper.make_graph(ns, "chain", [helper.make_tensor_value_info("v0", TensorProto.FLOAT, [1, 16])],
                          [helper.make_tensor_value_info(f"v{n}", TensorProto.FLOAT, [1, 16])])
    onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), path)
    return path


times = {}
for n in (50000, 100000):
    m = chain(n)
    times[n] = min(compile_model(m, os.path.join(work, f"chain{n}.wasm"))[0] for _ in range(3))
ratio = times[100000] / times[50000]
check(ratio <= 2.3, f"a 100k-node chain compiles in {times[100000]:.2f} s, {ratio:.2f}x the 50k chain's {times[50000]:.2f} s (limit 2.3x)")

print(f"{'FAIL' if failed else 'PASS'}: scale ({len(failed)} failed)")
sys.exit(1 if failed else 0)
