// TypeScript declarations for onnx2wasm.mjs, the loader of onnx2wasm modules (docs/abi.md).

// The platform types named below, declared empty so that a project without the DOM lib (Node without
// @types/node) type-checks too; where the DOM lib or @types/node declares them, these merge into theirs.
declare global {
  namespace WebAssembly {
    interface Module {}
    interface Instance {}
    interface Memory { readonly buffer: ArrayBuffer; }
  }
  interface Response {}
  interface URL {}
}

/** Element types a module's inputs and outputs can have. */
export type DType =
  | 'float32' | 'float64' | 'float16'
  | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64'
  | 'bool';

/** Typed array that carries each dtype (float16 as raw IEEE half bits, bool as 0/1 bytes). */
export interface TypedArrayFor {
  float32: Float32Array; float64: Float64Array; float16: Uint16Array;
  int8: Int8Array; uint8: Uint8Array; int16: Int16Array; uint16: Uint16Array;
  int32: Int32Array; uint32: Uint32Array; int64: BigInt64Array; uint64: BigUint64Array;
  bool: Uint8Array;
}
export type TensorData = TypedArrayFor[DType];

/** One entry of the signature's "inputs"/"outputs" lists. */
export interface TensorInfo {
  readonly name: string;
  readonly dtype: DType;
  /** The model's own dims: a number, a dim_param symbol, or an expression over run-time dims ("past + seq"). */
  readonly dims: ReadonlyArray<number | string>;
  /** The concrete shape the module was compiled for (at the bounds of run-time dims). */
  readonly shape: ReadonlyArray<number>;
  /** Byte address in `memory`. */
  readonly offset: number;
  /** Bytes of storage reserved (at the bounds; a resident cache at its capacity). */
  readonly bytes: number;
  /** A resident cache's storage: `capacity` slots along `axis` (the shape's other dims dense). */
  readonly storage?: { readonly axis: number; readonly capacity: number };
  /** Inputs only: this input lives in the first rows of that output's storage (a resident cache). */
  readonly resident_in?: string;
}

/** The parsed "onnx2wasm.signature" custom section. */
export interface Signature {
  version: 1;
  producer?: string;
  opset?: number;
  inputs: TensorInfo[];
  outputs: TensorInfo[];
  symbols?: Record<string, number>;
  /** dims chosen per run, each valid up to max; their int32 values live at dims_addr + 4*index. */
  runtime_symbols?: RuntimeSymbol[];
  dims_addr?: number;
  memory?: {
    weights_offset: number; weights_bytes: number;
    arena_offset: number; arena_bytes: number; total_bytes: number;
  };
  [key: string]: unknown;
}

export interface RuntimeSymbol {
  readonly name: string; readonly index: number; readonly max: number;
  /** a dim the module computes, floor(num / den), from the dims before it (a Conv's output size) */
  readonly derived?: { readonly num: string | number; readonly den: number };
}

/** A feed with its shape, from which the run-time dims are read (a Tensor, ours or onnxruntime-web's, is one). */
export interface ShapedTensor { data: TensorData; dims: ReadonlyArray<number>; /** checked against the input's dtype */ type?: string; }

/** A tensor as onnxruntime-web has it; runAsync() returns the outputs as these. */
export class Tensor<T extends DType = DType> {
  /** `dims` default [data.length]; throws when `data` is not the typed array of `type` or dims do not fit it. */
  constructor(type: T, data: TypedArrayFor[T], dims?: ReadonlyArray<number>);
  readonly type: T;
  readonly data: TypedArrayFor[T];
  readonly dims: ReadonlyArray<number>;
  /** the element count */
  readonly size: number;
}

/** RGBA pixels: an ImageData, or any object with 4 bytes a pixel. */
export interface ImageDataLike { readonly data: ArrayLike<number>; readonly width: number; readonly height: number; }

export interface ImageToTensorOptions {
  /** per channel (or one number for all), subtracted after scaling; default 0 */
  mean?: number | ReadonlyArray<number>;
  /** per channel (or one number for all), divided by last; default 1 */
  std?: number | ReadonlyArray<number>;
  /** each byte is multiplied by this first; default 1/255 */
  scale?: number;
  /** 'NCHW' (default): [1, C, height, width]; 'NHWC': [1, height, width, C] */
  layout?: 'NCHW' | 'NHWC';
  /** 3 (RGB, default), 1 (the mean of R, G, B) or 4 (RGBA) */
  channels?: 1 | 3 | 4;
  /** channels in B, G, R order */
  bgr?: boolean;
  /** a Float32Array of C * width * height elements to fill instead of a new one */
  out?: Float32Array;
}

/**
 * An image's pixels as a normalized float32 tensor: (byte * scale - mean[c]) / std[c]. It does not resize: draw
 * the image at the model's input size first (canvas drawImage). The result is a feed as it is.
 */
export function imageToTensor(image: ImageDataLike, opts?: ImageToTensorOptions): Tensor<'float32'>;
/** torchvision's ImageNet mean and std (RGB, values in [0, 1]), for imageToTensor. */
export const IMAGENET_MEAN: ReadonlyArray<number>;
export const IMAGENET_STD: ReadonlyArray<number>;
/** The k (default 5) largest scores, largest first. */
export function topK(scores: ArrayLike<number | bigint>, k?: number): Array<{ index: number; value: number }>;
/** softmax of logits (max subtracted first). */
export function softmax(logits: ArrayLike<number>): Float32Array;

export interface RunOptions {
  /** values of the run-time dims (may also come from ShapedTensor feeds). */
  dims?: Record<string, number>;
  /** outputs to return (default: all); the others stay in memory (see readOutput). */
  outputs?: ReadonlyArray<string>;
}

/** Feed for an input with `resident_in`: keep what the module's memory holds (the last run's present). */
export const RESIDENT: unique symbol;

export interface LoadOptions {
  /**
   * true (default): run() returns fresh copies of the outputs.
   * false: aligned outputs are views into the module's memory, valid until the next run().
   */
  copyOutputs?: boolean;
  /**
   * true (default): a Response (or URL) served as application/wasm is compiled while it downloads
   * (WebAssembly.compileStreaming); false compiles it from its bytes, which keeps the weights out of the
   * compiled module.
   */
  streaming?: boolean;
  /**
   * true: the model runs in a Web Worker (browsers, Deno) or a worker thread (Node); only runAsync() then.
   * A string or URL names the loader module the worker imports (default: the loader's own URL; give it when
   * the loader is bundled into another file).
   */
  worker?: boolean | string | URL;
}

/** What load() takes: a URL or path, a Response or the promise fetch() returns, the bytes, or a compiled module. */
export type ModelSource =
  | string | URL | Response | PromiseLike<Response>
  | ArrayBuffer | ArrayBufferView | WebAssembly.Module | PromiseLike<ArrayBuffer | ArrayBufferView>;

export type Feeds = Record<string, TensorData | ShapedTensor | typeof RESIDENT>;

export interface Model {
  readonly inputs: ReadonlyArray<TensorInfo>;
  readonly outputs: ReadonlyArray<TensorInfo>;
  /** dim_param bindings the module was compiled with. */
  readonly symbols: Readonly<Record<string, number>>;
  /** dims given at each run (empty for fully static modules). */
  readonly runtimeSymbols: ReadonlyArray<RuntimeSymbol>;
  readonly signature: Signature;
  /** The module's memory (undefined when the model runs in a worker). */
  readonly memory: WebAssembly.Memory;
  /**
   * The compiled module. When load() was given bytes, its large data segments (the weights) are empty in
   * it and were copied into memory by load(): instantiate it again with load(model.module), which copies
   * them again from the bytes first given.
   */
  readonly module: WebAssembly.Module;
  readonly instance: WebAssembly.Instance;
  /** true when loaded with { worker: true }: run(), readOutput(), memory and instance are not in this thread. */
  readonly worker: boolean;
  /**
   * Runs the model once. Every input must be given, with the typed-array kind of its dtype and
   * exactly the element count of its shape. Throws Onnx2WasmError on a bad feed, a trap, or a
   * non-zero status from the module's run(). Not re-entrant.
   */
  run(feeds: Feeds, opts?: RunOptions): Record<string, TensorData>;
  /**
   * Runs the model once and resolves with the outputs as Tensors (type, data, dims). In a worker model the run
   * happens in the worker (the feeds are copied there, the outputs transferred back); runs are answered in order.
   */
  runAsync(feeds: Feeds, opts?: RunOptions): Promise<Record<string, Tensor>>;
  /** Ends a worker model's worker (pending runs are rejected); nothing for a model in this thread. */
  dispose(): void;
  /** The shape of an output in the last run. */
  outputShape(name: string): number[];
  /**
   * An output as the module's memory holds it, as a dense copy (or a view when copyOutputs is
   * false and the storage is dense): by default at the last run's shape; a resident cache at any
   * length along its storage axis up to the capacity.
   */
  readOutput(name: string, shape?: ReadonlyArray<number>): TensorData;
}

/** Evaluates a signature dim (number or expression) with the given symbol values. */
export function evalDim(d: number | string, values: Record<string, number>): number | undefined;

export class Onnx2WasmError extends Error {}

export const SIGNATURE_SECTION: 'onnx2wasm.signature';
export const TYPED_ARRAYS: Readonly<{ [K in DType]: { new (n: number): TypedArrayFor[K]; BYTES_PER_ELEMENT: number } }>;

/** Reads and validates the signature section of a compiled module. */
export function readSignature(module: WebAssembly.Module): Signature;

/**
 * Compiles and instantiates a module from a random-access source of `size` bytes: `read(dst, at)` fills
 * dst with the bytes at [at, at + dst.length). The large data segments (the weights) are read straight
 * into the instance's memory. Node's loadFile (onnx2wasm-node.mjs) is this over a file.
 */
export function loadFromSource(
  size: number,
  read: (dst: Uint8Array, at: number) => void,
  opts?: LoadOptions,
): Promise<Model>;

/**
 * Compiles (if needed) and instantiates an onnx2wasm module with no imports: from a URL or path (fetched in a
 * page; read as a file in Node, Deno and Bun), a Response or a promise of one, bytes, or a WebAssembly.Module.
 */
export function load(source: ModelSource, opts?: LoadOptions): Promise<Model>;

/** true when this engine runs relaxed-SIMD modules (`onnx2wasm --simd relaxed`): load m.relaxed.wasm then. */
export function relaxedSimdSupported(): boolean;
