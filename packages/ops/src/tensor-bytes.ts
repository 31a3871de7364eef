/**
 * Raw little-endian tensor data <-> typed arrays, by safetensors dtype name (F32, F16, BF16, F64,
 * I32, I64). Floats decode to float32 and integers to int32, the two dtypes rnnkit computes in.
 */

/** Bytes per element of each dtype. */
export const DTYPE_BYTES = { F32: 4, F16: 2, BF16: 2, F64: 8, I32: 4, I64: 8 } as const;
export type Dtype = keyof typeof DTYPE_BYTES;

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

const bf16Bits = new Uint32Array(1);
const bf16Value = new Float32Array(bf16Bits.buffer);

/**
 * The `byteLength / DTYPE_BYTES[dtype]` values of `view`: Int32Array for I32/I64, Float32Array for
 * the float dtypes. An I64 value outside int32 calls `fail` with a message naming its flat index.
 */
export function decodeValues(
  view: DataView,
  dtype: Dtype,
  byteLength: number,
  fail: (msg: string) => never,
): Float32Array | Int32Array {
  const numel = byteLength / DTYPE_BYTES[dtype];
  if (dtype === 'I32' || dtype === 'I64') {
    const out = new Int32Array(numel);
    for (let i = 0; i < numel; i++) {
      if (dtype === 'I32') {
        out[i] = view.getInt32(i * 4, true);
      } else {
        const v = view.getBigInt64(i * 8, true);
        if (v > 2147483647n || v < -2147483648n)
          fail(`I64 value ${v} at flat index ${i} does not fit in int32`);
        out[i] = Number(v);
      }
    }
    return out;
  }
  const out = new Float32Array(numel);
  for (let i = 0; i < numel; i++) {
    switch (dtype) {
      case 'F32':
        out[i] = view.getFloat32(i * 4, true);
        break;
      case 'F64':
        out[i] = view.getFloat64(i * 8, true);
        break;
      case 'F16':
        out[i] = halfToFloat(view.getUint16(i * 2, true));
        break;
      case 'BF16':
        bf16Bits[0] = view.getUint16(i * 2, true) << 16;
        out[i] = bf16Value[0];
        break;
    }
  }
  return out;
}

/** float32 values -> F32 bytes, int32 values -> I32 bytes (little-endian). */
export function encodeValues(data: Float32Array | Int32Array): Uint8Array {
  const raw = new Uint8Array(data.length * 4);
  const view = new DataView(raw.buffer);
  for (let i = 0; i < data.length; i++) {
    if (data instanceof Float32Array) view.setFloat32(i * 4, data[i], true);
    else view.setInt32(i * 4, data[i], true);
  }
  return raw;
}
