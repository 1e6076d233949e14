// TypeScript declarations for tensorproto.mjs: onnx.TensorProto reader and writer (no DOM or Node types).

/** The ABI dtype names, plus the ones only test data carries. */
export type TensorProtoDType =
  | 'float32' | 'float64' | 'float16' | 'bfloat16'
  | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'
  | 'bool' | 'string' | 'complex64' | 'complex128';

export type TensorProtoData =
  | Float32Array | Float64Array | Int8Array | Uint8Array | Int16Array | Uint16Array
  | Int32Array | Uint32Array | BigInt64Array | BigUint64Array | string[];

export interface DecodedTensor {
  name: string;
  dtype: TensorProtoDType;
  /** the numeric onnx.TensorProto.DataType */
  dataType: number;
  dims: number[];
  /** row-major; float16/bfloat16 as raw Uint16Array bits, complex as interleaved (re, im), strings as an array */
  data: TensorProtoData;
}

/** Decodes a serialized onnx.TensorProto (raw_data or any typed field; external data is refused). */
export function decodeTensor(input: Uint8Array | ArrayBuffer): DecodedTensor;
/** Serializes a tensor as onnx.TensorProto (dims, data_type, name, raw_data; string_data for strings). */
export function encodeTensor(t: { name?: string; dtype: string; dims: ReadonlyArray<number>; data: ArrayBufferView | ReadonlyArray<string> }): Uint8Array;
/** The element count of a shape (1 for a scalar). */
export function numElements(dims: ReadonlyArray<number>): number;
/** IEEE 754 half bits to a number, and a number to half bits (round to nearest even). */
export function halfToFloat(h: number): number;
export function floatToHalf(x: number): number;
export const DTYPE_BY_CODE: Readonly<Record<number, TensorProtoDType>>;
export const CODE_BY_DTYPE: Readonly<Record<TensorProtoDType, number>>;
export const TYPED_ARRAY: Readonly<Record<Exclude<TensorProtoDType, 'string'>, { new (n: number): ArrayBufferView; BYTES_PER_ELEMENT: number }>>;
