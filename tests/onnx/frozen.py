#!/usr/bin/python3
"""frozen.py BUILD_DIR — ONNX backend cases whose shape-like inputs are graph inputs.

onnx2wasm needs Resize's roi/scales/sizes, Upsample's scales, Pad's pads/constant_value/axes and
CumSum's axis, Tile's repeats, OneHot's depth, Compress's condition, TopK's K and If's condition at compile time, but the backend cases feed them as run-time inputs, so conformance.mjs can only report
them as COMPILE failures.
Here every case of the listed ops gets those inputs frozen: each one becomes an initializer holding
the value of its test_data_set_*/input_K.pb, the data input stays an input. The copy is compiled and
run on each data set and compared with the case's own expected output (rtol 1e-3, atol 1e-5, as
conformance.mjs). Cases listed in EXPECTED_FAIL must fail (with the message given); anything else
must pass.

Then the legacy forms the backend data lacks (Upsample-9, Resize-10: no coordinate_transformation_mode,
nearest rounds down when upsampling and up when downsampling): small models built here, checked
against onnxruntime-web on seeded inputs (tools/ort-oracle.mjs).

Needs Debian's python3-onnx (/usr/bin/python3), libonnx-testdata, and onnxruntime-web in tools/.
"""
import glob
import os
import subprocess
import sys
import tempfile

import onnx
from onnx import numpy_helper

DATA = os.environ.get('ONNX_TESTDATA', '/usr/share/libonnx-testdata/data')
# op type -> indices of the inputs to freeze
FREEZE = {'Resize': (1, 2, 3), 'Upsample': (1,), 'Pad': (1, 2, 3), 'CumSum': (1,), 'Tile': (1,), 'OneHot': (1,), 'Compress': (1,), 'TopK': (1,),
          'If': (0,)}
# cases that are expected not to compile, with a fragment of the message
EXPECTED_FAIL = {
    # their outputs are a sequence and an optional sequence: only tensors are supported
    'test_if_seq': 'is not a tensor (sequences, maps and optionals are not supported)',
    'test_if_opt': 'is not a tensor (sequences, maps and optionals are not supported)',
}


def cases():
    for path in sorted(glob.glob(os.path.join(DATA, 'node', '*', 'model.onnx'))):
        m = onnx.load(path)
        if frozen_inputs(m):
            yield os.path.dirname(path), m


def frozen_inputs(model):
    """Graph inputs read by a frozen slot of a Resize / Upsample / Pad / CumSum / Tile / OneHot / Compress / TopK / If node."""
    graph_inputs = {i.name for i in model.graph.input}
    return {n.input[k] for n in model.graph.node if n.op_type in FREEZE
            for k in FREEZE[n.op_type] if k < len(n.input) and n.input[k] in graph_inputs}


def freeze(case_dir, model, data_set, out_dir):
    """Writes out_dir/model.onnx and out_dir/data/{input_0,output_*}.pb."""
    frozen = frozen_inputs(model)
    inputs = [i.name for i in model.graph.input]
    keep = []
    os.makedirs(os.path.join(out_dir, 'data'), exist_ok=True)
    for k, name in enumerate(inputs):
        t = onnx.TensorProto()
        with open(os.path.join(data_set, f'input_{k}.pb'), 'rb') as f:
            t.ParseFromString(f.read())
        if name in frozen:
            init = numpy_helper.from_array(numpy_helper.to_array(t), name)
            model.graph.initializer.append(init)
        else:
            keep.append(name)
            with open(os.path.join(out_dir, 'data', f'input_{len(keep) - 1}.pb'), 'wb') as f:
                f.write(t.SerializeToString())
    for i in [i for i in model.graph.input if i.name not in keep]:
        model.graph.input.remove(i)
    for out in glob.glob(os.path.join(data_set, 'output_*.pb')):
        with open(out, 'rb') as f, open(os.path.join(out_dir, 'data', os.path.basename(out)), 'wb') as g:
            g.write(f.read())
    onnx.save(model, os.path.join(out_dir, 'model.onnx'))


# (op, opset, mode, input shape, scales)
LEGACY = [
    ('Resize', 10, 'nearest', [1, 2, 4, 5], [1, 1, 0.6, 0.5]),
    ('Resize', 10, 'nearest', [1, 2, 3, 4], [1, 1, 2.5, 3]),
    ('Resize', 10, 'linear', [1, 2, 4, 5], [1, 1, 1.5, 0.8]),
    ('Upsample', 9, 'nearest', [2, 3, 3], [1, 3, 2]),
    ('Upsample', 9, 'linear', [1, 1, 3, 4], [1, 1, 2, 2]),
]


def legacy_cases(build, tmp):
    from onnx import helper, TensorProto  # noqa: PLC0415
    import numpy as np  # noqa: PLC0415
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    passed = failed = 0
    for i, (op, opset, mode, shape, scales) in enumerate(LEGACY):
        name = f'{op}-{opset} {mode} {shape} x {scales}'
        work = os.path.join(tmp, f'legacy{i}')
        os.makedirs(work, exist_ok=True)
        out_shape = [int(d * s) for d, s in zip(shape, scales)]
        node = helper.make_node(op, ['x', 'scales'], ['y'], mode=mode)
        graph = helper.make_graph(
            [node], 'legacy', [helper.make_tensor_value_info('x', TensorProto.FLOAT, shape)],
            [helper.make_tensor_value_info('y', TensorProto.FLOAT, out_shape)],
            [numpy_helper.from_array(np.array(scales, np.float32), 'scales')])
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', opset)])
        model.ir_version = 7
        path = os.path.join(work, 'model.onnx')
        onnx.save(model, path)
        ref = subprocess.run(['node', os.path.join(root, 'tools', 'ort-oracle.mjs'), path, '--data', os.path.join(work, 'data'),
                              '--gen', '--seed', str(i + 1), '--quiet'], capture_output=True, text=True)
        if ref.returncode != 0:
            failed += 1
            print(f'FAIL {name}: onnxruntime-web: {(ref.stdout + ref.stderr).strip()[-300:]}')
            continue
        wasm = os.path.join(work, 'model.wasm')
        cc = subprocess.run([os.path.join(build, 'onnx2wasm'), path, '-o', wasm], capture_output=True, text=True)
        run = cc.returncode == 0 and subprocess.run(
            [os.path.join(build, 'onnx2wasm-run'), wasm, '--data', os.path.join(work, 'data'), '--rtol', '1e-3', '--atol', '1e-5'],
            capture_output=True, text=True)
        if run and run.returncode == 0:
            passed += 1
            print(f'ok   {name} matches onnxruntime-web')
        else:
            failed += 1
            why = cc.stderr if cc.returncode else run.stdout + run.stderr
            print(f'FAIL {name}: {why.strip()[-300:]}')
    return passed, failed


def main():
    build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else 'build')
    passed = failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case_dir, model in cases():
            name = os.path.basename(case_dir)
            for ds in sorted(glob.glob(os.path.join(case_dir, 'test_data_set_*'))):
                work = os.path.join(tmp, name, os.path.basename(ds))
                m = onnx.ModelProto()
                m.CopyFrom(model)
                freeze(case_dir, m, ds, work)
                wasm = os.path.join(work, 'model.wasm')
                cc = subprocess.run([os.path.join(build, 'onnx2wasm'), os.path.join(work, 'model.onnx'), '-o', wasm],
                                    capture_output=True, text=True)
                want_fail = EXPECTED_FAIL.get(name)
                if cc.returncode != 0:
                    msg = cc.stderr.strip().splitlines()[-1] if cc.stderr.strip() else f'exit {cc.returncode}'
                    if want_fail and want_fail in msg and cc.returncode == 1:
                        passed += 1
                        print(f'ok   {name}: refused as expected: {msg[:140]}')
                    else:
                        failed += 1
                        print(f'FAIL {name}: compile: {msg[:200]}')
                    continue
                if want_fail:
                    failed += 1
                    print(f'FAIL {name}: compiled, but it was expected to be refused ({want_fail})')
                    continue
                run = subprocess.run([os.path.join(build, 'onnx2wasm-run'), wasm, '--data', os.path.join(work, 'data'),
                                      '--rtol', '1e-3', '--atol', '1e-5'], capture_output=True, text=True)
                if run.returncode == 0:
                    passed += 1
                    print(f'ok   {name}/{os.path.basename(ds)}')
                else:
                    failed += 1
                    print(f'FAIL {name}/{os.path.basename(ds)}: {(run.stdout + run.stderr).strip()[-300:]}')
        p, f = legacy_cases(build, tmp)
        passed += p
        failed += f
    print(f'frozen: {passed} passed, {failed} failed')
    print(f'{passed} passed, {failed} failed')
    return 1 if failed or not passed else 0


if __name__ == '__main__':
    sys.exit(main())
