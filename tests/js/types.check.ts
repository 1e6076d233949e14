// Compile-only check of runtime/js/onnx2wasm.d.ts (run.sh runs tsc on it when TypeScript is installed).
import { load, readSignature, TYPED_ARRAYS, Onnx2WasmError } from '../../runtime/js/onnx2wasm.mjs';
import type { Model, TensorInfo, DType } from '../../runtime/js/onnx2wasm.mjs';

export async function example(bytes: Uint8Array): Promise<Float32Array> {
  const m: Model = await load(bytes, { copyOutputs: false });
  const info: TensorInfo = m.inputs[0];
  const dtype: DType = info.dtype;
  const n: number = info.shape.reduce((a, b) => a * b, 1);
  const out = m.run({ [info.name]: new Float32Array(n) });
  const sig = readSignature(m.module);
  const ids: bigint = new TYPED_ARRAYS.int64(1)[0];
  console.log(dtype, sig.symbols?.N, ids, Onnx2WasmError, m.memory.buffer.byteLength);
  return out.y as Float32Array;
}

// @ts-expect-error copyOutputs is a boolean
void load(new Uint8Array(0), { copyOutputs: 1 });
// @ts-expect-error feeds must be typed arrays, not plain arrays
(null as unknown as Model).run({ x: [1, 2] });
