// Minimal onnx.TensorProto protobuf reader/writer (no dependencies; runs in Node and browsers).
//
// decodeTensor(bytes) -> { name, dtype, dataType, dims, data }
//   dtype    : ABI dtype name ('float32', 'int64', 'bool', ...; also 'string', 'bfloat16',
//              'complex64', 'complex128')
//   dataType : the numeric onnx.TensorProto.DataType
//   dims     : array of Numbers
//   data     : TypedArray of the ABI kind (see TYPED_ARRAY), row-major; float16/bfloat16 are
//              Uint16Array of raw bits; complex64/complex128 are Float32Array/Float64Array of
//              interleaved (re, im); string tensors give an Array of strings.
// Reads dims packed or not, raw_data and every typed field (float_data, int32_data, int64_data,
// double_data, uint64_data, string_data) with ONNX's carrying rules: int32_data carries
// int32/int16/int8/uint16/uint8/bool/float16/bfloat16, uint64_data carries uint32/uint64,
// float_data carries complex64, double_data carries complex128. Unknown fields are skipped.
// External data (data_location = EXTERNAL) is rejected with an error.
//
// encodeTensor({ name, dtype, dims, data }) -> Uint8Array with dims (unpacked, as onnx's own
// serializer writes them), data_type, name, raw_data. String tensors are written as string_data.

export const DTYPE_BY_CODE = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64',
  8: 'string', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64',
  14: 'complex64', 15: 'complex128', 16: 'bfloat16',
};
export const CODE_BY_DTYPE = Object.fromEntries(
  Object.entries(DTYPE_BY_CODE).map(([k, v]) => [v, Number(k)]));
// Aliases accepted by encodeTensor (onnxruntime / numpy spellings).
const DTYPE_ALIASES = { float: 'float32', double: 'float64', float16: 'float16' };

export const TYPED_ARRAY = {
  float32: Float32Array, float64: Float64Array, float16: Uint16Array, bfloat16: Uint16Array,
  int8: Int8Array, uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array, uint64: BigUint64Array,
  bool: Uint8Array, complex64: Float32Array, complex128: Float64Array,
};
// Typed-array elements per tensor element (complex numbers take two).
const LANES = { complex64: 2, complex128: 2 };

const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function fail(msg) { throw new Error(`tensorproto: ${msg}`); }

/** Number of elements of a shape (1 for a scalar). */
export function numElements(dims) {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

// ---------------------------------------------------------------- reader

class Reader {
  constructor(bytes) { this.b = bytes; this.p = 0; }
  eof() { return this.p >= this.b.length; }
  // Reads a varint as two 32-bit halves; returns lo (signed int32 view), sets this.hi.
  varint() {
    const b = this.b;
    let lo = 0, hi = 0, i = 0, byte;
    for (; i < 4; i++) {               // bits 0..27
      if (this.p >= b.length) fail('truncated varint');
      byte = b[this.p++];
      lo |= (byte & 0x7f) << (7 * i);
      if (byte < 0x80) { this.hi = 0; return lo; }
    }
    if (this.p >= b.length) fail('truncated varint');
    byte = b[this.p++];                // bits 28..34
    lo |= (byte & 0x7f) << 28;
    hi = (byte & 0x7f) >> 4;
    if (byte < 0x80) { this.hi = hi; return lo; }
    for (i = 0; i < 5; i++) {          // bits 35..63
      if (this.p >= b.length) fail('truncated varint');
      byte = b[this.p++];
      hi |= (byte & 0x7f) << (7 * i + 3);
      if (byte < 0x80) { this.hi = hi; return lo; }
    }
    fail('varint longer than 10 bytes');
  }
  int64Big() { const lo = this.varint(); return (BigInt(this.hi | 0) << 32n) | BigInt(lo >>> 0); }
  uint64Big() { const lo = this.varint(); return (BigInt(this.hi >>> 0) << 32n) | BigInt(lo >>> 0); }
  int64Num() {
    const lo = this.varint(), hi = this.hi | 0;
    const v = hi * 4294967296 + (lo >>> 0);
    if (!Number.isSafeInteger(v)) fail(`int64 value out of Number range`);
    return v;
  }
  bytes() {
    const n = this.int64Num();
    if (n < 0 || this.p + n > this.b.length) fail('truncated length-delimited field');
    const s = this.b.subarray(this.p, this.p + n);
    this.p += n;
    return s;
  }
  skip(wire) {
    switch (wire) {
      case 0: this.varint(); break;
      case 1: this.p += 8; break;
      case 2: this.bytes(); break;
      case 5: this.p += 4; break;
      default: fail(`unsupported wire type ${wire}`);
    }
    if (this.p > this.b.length) fail('truncated field');
  }
}

const utf8dec = new TextDecoder('utf-8');
const utf8enc = new TextEncoder();

// Collects a repeated scalar field given either packed (wire 2) or unpacked encoding.
// `readOne(r)` reads one element; `fixed` is the element size for fixed-width wire types.
function readRepeated(r, wire, elemWire, readOne, out) {
  if (wire === 2) {
    const sub = new Reader(r.bytes());
    while (!sub.eof()) out.push(readOne(sub));
  } else if (wire === elemWire) {
    out.push(readOne(r));
  } else {
    fail(`unexpected wire type ${wire}`);
  }
}

function readFloat32(r) {
  if (r.p + 4 > r.b.length) fail('truncated float');
  const v = new DataView(r.b.buffer, r.b.byteOffset + r.p, 4).getFloat32(0, true);
  r.p += 4;
  return v;
}
function readFloat64(r) {
  if (r.p + 8 > r.b.length) fail('truncated double');
  const v = new DataView(r.b.buffer, r.b.byteOffset + r.p, 8).getFloat64(0, true);
  r.p += 8;
  return v;
}

/**
 * Decodes a serialized onnx.TensorProto.
 * @param {Uint8Array|ArrayBuffer} input
 */
export function decodeTensor(input) {
  // Plain Uint8Array view (a Node Buffer's slice() would not copy).
  const bytes = ArrayBuffer.isView(input)
    ? new Uint8Array(input.buffer, input.byteOffset, input.byteLength)
    : new Uint8Array(input);
  const r = new Reader(bytes);
  const dims = [];
  let dataType = 0, name = '', raw = null, external = false;
  const floats = [], int32s = [], int64s = [], doubles = [], uint64s = [], strings = [];
  while (!r.eof()) {
    const key = r.int64Num();
    const field = Math.floor(key / 8), wire = key & 7;
    switch (field) {
      case 1: readRepeated(r, wire, 0, (x) => x.int64Num(), dims); break;
      case 2: if (wire !== 0) fail('bad data_type'); dataType = r.varint(); break;
      case 4: readRepeated(r, wire, 5, readFloat32, floats); break;
      case 5: readRepeated(r, wire, 0, (x) => x.varint(), int32s); break; // lo = low 32 bits
      case 6: if (wire !== 2) fail('bad string_data'); strings.push(r.bytes()); break;
      case 7: readRepeated(r, wire, 0, (x) => x.int64Big(), int64s); break;
      case 8: if (wire !== 2) fail('bad name'); name = utf8dec.decode(r.bytes()); break;
      case 9: if (wire !== 2) fail('bad raw_data'); raw = r.bytes(); break;
      case 10: readRepeated(r, wire, 1, readFloat64, doubles); break;
      case 11: readRepeated(r, wire, 0, (x) => x.uint64Big(), uint64s); break;
      case 14: if (wire === 0) { external = r.varint() === 1; } else r.skip(wire); break;
      default: r.skip(wire);
    }
  }
  if (external) fail(`tensor '${name}' uses external data, which is not supported`);
  const dtype = DTYPE_BY_CODE[dataType];
  if (!dtype) fail(`unsupported data_type ${dataType} (tensor '${name}')`);
  const count = numElements(dims);

  if (dtype === 'string') {
    if (raw) fail('string tensor with raw_data');
    const data = strings.map((s) => utf8dec.decode(s));
    if (data.length !== count) fail(`'${name}': ${data.length} strings for dims [${dims}]`);
    return { name, dtype, dataType, dims, data };
  }

  const T = TYPED_ARRAY[dtype];
  const len = count * (LANES[dtype] || 1);
  let data;
  if (raw) {
    if (!LITTLE_ENDIAN) fail('big-endian hosts are not supported');
    if (raw.length !== len * T.BYTES_PER_ELEMENT) {
      fail(`'${name}': raw_data has ${raw.length} bytes, dims [${dims}] of ${dtype} need ` +
           `${len * T.BYTES_PER_ELEMENT}`);
    }
    data = new T(Uint8Array.prototype.slice.call(raw).buffer); // copy: aligned, independent of the input buffer
  } else {
    let src;
    switch (dtype) {
      case 'float32': case 'complex64': src = floats; break;
      case 'float64': case 'complex128': src = doubles; break;
      case 'int64': src = int64s; break;
      case 'uint32': src = uint64s.map((v) => Number(BigInt.asUintN(32, v))); break;
      case 'uint64': src = uint64s; break;
      case 'bool': src = int32s.map((v) => (v !== 0 ? 1 : 0)); break;
      case 'float16': case 'bfloat16': case 'uint16': src = int32s.map((v) => v & 0xffff); break;
      default: src = int32s; // int32/int16/int8/uint8: the typed array wraps to its width
    }
    if (src.length !== len) {
      fail(`'${name}': ${src.length} values in the typed field for dims [${dims}] of ${dtype}`);
    }
    data = T.from(src);
  }
  return { name, dtype, dataType, dims, data };
}

// ---------------------------------------------------------------- writer

class Writer {
  constructor() { this.chunks = []; this.len = 0; }
  push(u8) { this.chunks.push(u8); this.len += u8.length; }
  varint(v) { // v: Number >= 0 (safe integer) or BigInt (written as 64-bit two's complement)
    let x = BigInt.asUintN(64, BigInt(v));
    const out = [];
    while (x >= 0x80n) { out.push(Number(x & 0x7fn) | 0x80); x >>= 7n; }
    out.push(Number(x));
    this.push(Uint8Array.from(out));
  }
  key(field, wire) { this.varint(field * 8 + wire); }
  lenDelimited(field, u8) { this.key(field, 2); this.varint(u8.length); this.push(u8); }
  finish() {
    const out = new Uint8Array(this.len);
    let o = 0;
    for (const c of this.chunks) { out.set(c, o); o += c.length; }
    return out;
  }
}

/**
 * Serializes a tensor as onnx.TensorProto (dims, data_type, name, raw_data).
 * @param {{name?: string, dtype: string, dims: number[], data: ArrayBufferView|string[]}} t
 */
export function encodeTensor(t) {
  const dtype = DTYPE_ALIASES[t.dtype] || t.dtype;
  const code = CODE_BY_DTYPE[dtype];
  if (!code) fail(`unknown dtype '${t.dtype}'`);
  const dims = Array.from(t.dims || [], Number);
  const count = numElements(dims);
  const w = new Writer();
  for (const d of dims) {
    if (!Number.isSafeInteger(d) || d < 0) fail(`bad dim ${d}`);
    w.key(1, 0); w.varint(d);
  }
  w.key(2, 0); w.varint(code);
  if (t.name) w.lenDelimited(8, utf8enc.encode(t.name));
  if (dtype === 'string') {
    if (t.data.length !== count) fail(`${t.data.length} strings for dims [${dims}]`);
    for (const s of t.data) w.lenDelimited(6, typeof s === 'string' ? utf8enc.encode(s) : s);
    return w.finish();
  }
  if (!LITTLE_ENDIAN) fail('big-endian hosts are not supported');
  const T = TYPED_ARRAY[dtype];
  const data = t.data;
  if (!ArrayBuffer.isView(data)) fail(`data of '${t.name || ''}' must be a typed array`);
  const len = count * (LANES[dtype] || 1);
  if (data.byteLength !== len * T.BYTES_PER_ELEMENT) {
    fail(`data of '${t.name || ''}' has ${data.byteLength} bytes, dims [${dims}] of ${dtype} ` +
         `need ${len * T.BYTES_PER_ELEMENT}`);
  }
  w.lenDelimited(9, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
  return w.finish();
}

// ---------------------------------------------------------------- helpers

/** IEEE 754 half (raw 16-bit pattern) -> Number. */
export function halfToFloat(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Number -> IEEE 754 half bit pattern (round to nearest even). */
export function floatToHalf(x) {
  const f32 = new Float32Array([x]);
  const u = new Uint32Array(f32.buffer)[0];
  const sign = (u >>> 16) & 0x8000, exp = (u >>> 23) & 0xff, mant = u & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  let e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    const m = mant | 0x800000, shift = 14 - e;
    let h = m >>> shift;
    const rem = m & ((1 << shift) - 1), half = 1 << (shift - 1);
    if (rem > half || (rem === half && (h & 1))) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem === 0x1000 && (h & 1))) h++;
  return sign | h;
}
