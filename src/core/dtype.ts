/**
 * Safetensors dtypes: their sizes, which are float weights we can score, and decoders to
 * float32 (the reference loads every weight as float32 before its SVD, so do we).
 */
export const DTYPE_BITS = {
  BOOL: 8,
  U8: 8,
  I8: 8,
  F8_E5M2: 8,
  F8_E4M3: 8,
  F8_E8M0: 8,
  I16: 16,
  U16: 16,
  F16: 16,
  BF16: 16,
  I32: 32,
  U32: 32,
  F32: 32,
  F64: 64,
  I64: 64,
  U64: 64,
  C64: 64,
  F4: 4,
  F6_E2M3: 6,
  F6_E3M2: 6,
} as const;

export type Dtype = keyof typeof DTYPE_BITS;

export const FLOAT_DTYPES = ['F32', 'F16', 'BF16', 'F64', 'F8_E4M3', 'F8_E5M2'] as const;
export type FloatDtype = (typeof FLOAT_DTYPES)[number];

export function isKnownDtype(s: unknown): s is Dtype {
  return typeof s === 'string' && Object.prototype.hasOwnProperty.call(DTYPE_BITS, s);
}

export function isFloatDtype(d: Dtype): d is FloatDtype {
  return (FLOAT_DTYPES as readonly string[]).includes(d);
}

export function bytesPerElement(d: FloatDtype): number {
  return DTYPE_BITS[d] / 8;
}

/** Exact float value of an IEEE-style minifloat with the given exponent/mantissa widths. */
function minifloat(bits: number, expBits: number, manBits: number, bias: number, ieeeSpecials: boolean): number {
  const sign = (bits >> (expBits + manBits)) & 1 ? -1 : 1;
  const exp = (bits >> manBits) & ((1 << expBits) - 1);
  const man = bits & ((1 << manBits) - 1);
  const expMax = (1 << expBits) - 1;
  if (ieeeSpecials && exp === expMax) return man === 0 ? sign * Infinity : NaN;
  if (exp === 0) return sign * man * 2 ** (1 - bias - manBits);
  return sign * (1 + man / 2 ** manBits) * 2 ** (exp - bias);
}

function table(size: number, f: (bits: number) => number): Float32Array {
  const t = new Float32Array(size);
  for (let i = 0; i < size; i++) t[i] = f(i);
  return t;
}

let f16Table: Float32Array | null = null;
let e4m3Table: Float32Array | null = null;
let e5m2Table: Float32Array | null = null;

/** IEEE binary16. */
export function f16Value(bits: number): number {
  return minifloat(bits, 5, 10, 15, true);
}
/** OCP FP8 E4M3 ("fn": no infinities, S.1111.111 is NaN, max 448). */
export function f8e4m3Value(bits: number): number {
  if ((bits & 0x7f) === 0x7f) return NaN;
  return minifloat(bits, 4, 3, 7, false);
}
/** OCP FP8 E5M2 (IEEE-like, with infinities and NaNs). */
export function f8e5m2Value(bits: number): number {
  return minifloat(bits, 5, 2, 15, true);
}

/**
 * Decode little-endian tensor bytes to float32. `bytes` must start at a fresh buffer's offset 0
 * or any offset: we copy where alignment would otherwise bite.
 */
export function decodeToFloat32(dtype: FloatDtype, bytes: Uint8Array, out?: Float32Array): Float32Array {
  const n = bytes.byteLength / bytesPerElement(dtype);
  const dst = out ?? new Float32Array(n);
  if (dst.length < n) throw new RangeError('decode: output too small');
  switch (dtype) {
    case 'F32':
      dst.set(new Float32Array(aligned(bytes, 4).buffer, aligned(bytes, 4).byteOffset, n));
      break;
    case 'F64': {
      const b = aligned(bytes, 8);
      const src = new Float64Array(b.buffer, b.byteOffset, n);
      for (let i = 0; i < n; i++) dst[i] = src[i]!; // float32 rounding, as torch's .float()
      break;
    }
    case 'BF16': {
      const b = aligned(bytes, 2);
      const src = new Uint16Array(b.buffer, b.byteOffset, n);
      const u = new Uint32Array(dst.buffer, dst.byteOffset, n);
      for (let i = 0; i < n; i++) u[i] = src[i]! << 16;
      break;
    }
    case 'F16': {
      const t = (f16Table ??= table(65536, f16Value));
      const b = aligned(bytes, 2);
      const src = new Uint16Array(b.buffer, b.byteOffset, n);
      for (let i = 0; i < n; i++) dst[i] = t[src[i]!]!;
      break;
    }
    case 'F8_E4M3': {
      const t = (e4m3Table ??= table(256, f8e4m3Value));
      for (let i = 0; i < n; i++) dst[i] = t[bytes[i]!]!;
      break;
    }
    case 'F8_E5M2': {
      const t = (e5m2Table ??= table(256, f8e5m2Value));
      for (let i = 0; i < n; i++) dst[i] = t[bytes[i]!]!;
      break;
    }
  }
  return dst;
}

function aligned(bytes: Uint8Array, align: number): Uint8Array {
  return bytes.byteOffset % align === 0 ? bytes : bytes.slice();
}
