// TypeScript declarations for onnx2wasm.mjs when imported by relative path (re-exports onnx2wasm.d.ts).
export * from './onnx2wasm.js';
