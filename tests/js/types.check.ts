// Compile-only check of runtime/js/onnx2wasm.d.ts (run.sh runs tsc on it when TypeScript is installed).
import { load, readSignature, TYPED_ARRAYS, Onnx2WasmError, Tensor, imageToTensor, topK, softmax, IMAGENET_MEAN, IMAGENET_STD } from '../../runtime/js/onnx2wasm.mjs';
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

// load() sources, runAsync tensors, the image helpers
export async function fromUrl(): Promise<number> {
  const m = await load(fetch('model.wasm'), { worker: true, streaming: true });
  await load('model.wasm');
  await load(new URL('https://example.com/model.wasm'));
  const pixels = imageToTensor({ data: new Uint8ClampedArray(16), width: 2, height: 2 }, { mean: IMAGENET_MEAN, std: IMAGENET_STD });
  const out = await m.runAsync({ x: pixels });
  const t: Tensor = out.y;
  const dims: ReadonlyArray<number> = t.dims;
  m.dispose();
  const best = topK(softmax(t.data as Float32Array), 5)[0];
  return best.index + dims.length + new Tensor('int64', new BigInt64Array(1)).size;
}
// @ts-expect-error a float32 tensor holds a Float32Array
void new Tensor('float32', new Int32Array(1));
