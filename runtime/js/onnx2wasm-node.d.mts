// TypeScript declarations for onnx2wasm-node.mjs (Node-only loader additions, docs/abi.md).
import type { LoadOptions, Model } from './onnx2wasm.js';

/**
 * Compiles and instantiates the onnx2wasm module in file `path`; the weights are read from the file
 * straight into the instance's memory.
 */
export function loadFile(path: string, opts?: LoadOptions): Promise<Model>;
