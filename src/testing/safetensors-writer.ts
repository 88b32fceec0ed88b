/**
 * Writes safetensors files for tests and generated fixtures, laid out as the reference library
 * lays them out (8-byte length, JSON header padded with spaces to 8 bytes, contiguous data).
 */
import { DTYPE_BITS, type Dtype } from '../core/dtype.js';

export interface TensorSpec {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Raw little-endian bytes; zeros when omitted. */
  data?: Uint8Array;
}

export function tensorBytes(t: Pick<TensorSpec, 'dtype' | 'shape'>): number {
  return (t.shape.reduce((a, b) => a * b, 1) * DTYPE_BITS[t.dtype]) / 8;
}

/** The header object (without the length prefix). */
export function headerObject(tensors: TensorSpec[], metadata?: Record<string, string>): Record<string, unknown> {
  const h: Record<string, unknown> = {};
  if (metadata) h.__metadata__ = metadata;
  let off = 0;
  for (const t of tensors) {
    const n = tensorBytes(t);
    h[t.name] = { dtype: t.dtype, shape: t.shape, data_offsets: [off, off + n] };
    off += n;
  }
  return h;
}

/** Assemble a file from a header (any JSON text or object) and a data section. */
export function assemble(header: string | Record<string, unknown>, data: Uint8Array): Uint8Array {
  let text = typeof header === 'string' ? header : JSON.stringify(header);
  const enc = new TextEncoder();
  while (enc.encode(text).length % 8 !== 0) text += ' ';
  const hb = enc.encode(text);
  const out = new Uint8Array(8 + hb.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(data, 8 + hb.length);
  return out;
}

export function writeSafetensors(tensors: TensorSpec[], metadata: Record<string, string> | undefined = { format: 'pt' }): Uint8Array {
  const total = tensors.reduce((s, t) => s + tensorBytes(t), 0);
  const data = new Uint8Array(total);
  let off = 0;
  for (const t of tensors) {
    const n = tensorBytes(t);
    if (t.data) {
      if (t.data.length !== n) throw new Error(`${t.name}: ${t.data.length} bytes given, ${n} needed`);
      data.set(t.data, off);
    }
    off += n;
  }
  return assemble(headerObject(tensors, metadata), data);
}

/** float32 values → bytes of the given float dtype (round to nearest even for BF16/F16). */
export function encodeFloats(values: Float32Array, dtype: 'F32' | 'BF16' | 'F16' | 'F64'): Uint8Array {
  if (dtype === 'F32') return new Uint8Array(values.slice().buffer);
  if (dtype === 'F64') return new Uint8Array(Float64Array.from(values).buffer);
  const out = new Uint16Array(values.length);
  const u = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    if (dtype === 'BF16') {
      const x = u[i]!;
      out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
    } else out[i] = f32ToF16(values[i]!);
  }
  return new Uint8Array(out.buffer);
}

function f32ToF16(v: number): number {
  const f = new Float32Array([v]);
  const x = new Uint32Array(f.buffer)[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exp = ((x >>> 23) & 0xff) - 127 + 15;
  const man = x & 0x7fffff;
  if (exp >= 31) return sign | 0x7c00;
  if (exp <= 0) return sign | (exp < -10 ? 0 : Math.round((man | 0x800000) / 2 ** (14 - exp)));
  return sign | (exp << 10) | Math.round(man / 8192);
}

/** Deterministic Gaussian-ish values (xorshift + Box–Muller) for generated weights. */
export function randomNormal(n: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const next = () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return (s + 0.5) / 4294967296;
  };
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(next()));
    const t = 2 * Math.PI * next();
    out[i] = r * Math.cos(t) * scale;
    if (i + 1 < n) out[i + 1] = r * Math.sin(t) * scale;
  }
  return out;
}
