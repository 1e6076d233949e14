#!/usr/bin/python3
# Reference side of the tensorproto tests: decodes/creates onnx.TensorProto files with the onnx package.
#
# Run with /usr/bin/python3 (needs onnx + numpy). Subcommands:
#   list ROOT...          JSON list of test_data_set .pb files whose graph value is a tensor
#                         (skips sequence/optional/map values, which are not TensorProtos)
#   dump FILE...          one JSON line per file: {file, data_type, dims, name, b64} where b64 is
#                         base64 of numpy_helper.to_array(t) as little-endian bytes ({file, error}
#                         when it cannot be converted, {file, skip} for strings)
#   make-typed OUTDIR     writes tensors stored in the typed fields (float_data, int32_data, ...,
#                         not raw_data) for every dtype, and OUTDIR/manifest.json of what was written
import base64
import glob
import json
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def list_files(roots):
    out = []
    for root in roots:
        for case in sorted(glob.glob(os.path.join(root, '*'))):
            model_path = os.path.join(case, 'model.onnx')
            if not os.path.exists(model_path):
                continue
            graph = onnx.load(model_path, load_external_data=False).graph
            inits = {i.name for i in graph.initializer}
            ins = [v for v in graph.input if v.name not in inits]
            for ds in sorted(glob.glob(os.path.join(case, 'test_data_set_*'))):
                for prefix, values in (('input', ins), ('output', graph.output)):
                    for k, v in enumerate(values):
                        f = os.path.join(ds, f'{prefix}_{k}.pb')
                        if os.path.exists(f) and v.type.WhichOneof('value') == 'tensor_type':
                            out.append(f)
    print(json.dumps(out))


def dump(files):
    for f in files:
        t = TensorProto()
        with open(f, 'rb') as fh:
            t.ParseFromString(fh.read())
        rec = {'file': f, 'data_type': t.data_type, 'dims': list(t.dims), 'name': t.name}
        if t.data_type == TensorProto.STRING:
            rec['skip'] = 'string'
        else:
            try:
                a = numpy_helper.to_array(t)
                if t.data_type in (TensorProto.FLOAT16, TensorProto.BFLOAT16):
                    a = a.view(np.uint16) if a.dtype.itemsize == 2 else a
                rec['b64'] = base64.b64encode(np.ascontiguousarray(a).astype(a.dtype.newbyteorder('<')).tobytes()).decode()
            except Exception as e:  # noqa: BLE001 - report any conversion failure
                rec['error'] = f'{type(e).__name__}: {e}'
        print(json.dumps(rec))


def make_typed(outdir):
    os.makedirs(outdir, exist_ok=True)
    cases = [
        ('f32', TensorProto.FLOAT, [2, 3], np.array([[1.5, -2, 3e-8], [np.inf, -np.inf, 7]], np.float32)),
        ('f64', TensorProto.DOUBLE, [3], np.array([1e300, -0.1, np.pi], np.float64)),
        ('i8', TensorProto.INT8, [4], np.array([-128, -1, 0, 127], np.int8)),
        ('u8', TensorProto.UINT8, [4], np.array([0, 1, 200, 255], np.uint8)),
        ('i16', TensorProto.INT16, [3], np.array([-32768, 5, 32767], np.int16)),
        ('u16', TensorProto.UINT16, [3], np.array([0, 40000, 65535], np.uint16)),
        ('i32', TensorProto.INT32, [2, 2], np.array([[-2**31, -7], [0, 2**31 - 1]], np.int32)),
        ('u32', TensorProto.UINT32, [3], np.array([0, 3000000000, 2**32 - 1], np.uint32)),
        ('i64', TensorProto.INT64, [4], np.array([-2**63, -1, 2**53 + 1, 2**63 - 1], np.int64)),
        ('u64', TensorProto.UINT64, [3], np.array([0, 2**63 + 5, 2**64 - 1], np.uint64)),
        ('bool', TensorProto.BOOL, [2, 2], np.array([[True, False], [False, True]])),
        ('f16', TensorProto.FLOAT16, [4], np.array([1.0, -2.5, 65504, 6e-8], np.float16)),
        ('scalar', TensorProto.FLOAT, [], np.array(42.0, np.float32)),
        ('empty', TensorProto.INT64, [0, 3], np.zeros((0, 3), np.int64)),
    ]
    manifest = []
    for tag, code, dims, a in cases:
        # make_tensor (onnx 1.12) converts float16 values to bit patterns itself
        vals = a.flatten().tolist()
        t = helper.make_tensor(f'name_{tag}', code, dims, vals, raw=False)
        assert not t.raw_data
        path = os.path.join(outdir, f'{tag}.pb')
        with open(path, 'wb') as fh:
            fh.write(t.SerializeToString())
        raw = a.view(np.uint16) if code == TensorProto.FLOAT16 else a
        manifest.append({'file': path, 'name': t.name, 'data_type': code, 'dims': dims,
                         'b64': base64.b64encode(np.ascontiguousarray(raw).tobytes()).decode()})
    with open(os.path.join(outdir, 'manifest.json'), 'w') as fh:
        json.dump(manifest, fh)


if __name__ == '__main__':
    cmd, args = sys.argv[1], sys.argv[2:]
    {'list': list_files, 'dump': dump, 'make-typed': lambda a: make_typed(a[0])}[cmd](args)
