import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeToFloat32, type FloatDtype } from './dtype.js';

// Tables computed independently (numpy / exact rationals) by scripts/fixtures/dtype_tables.py.
const tables = JSON.parse(readFileSync(new URL('./fixtures/dtype-tables.json', import.meta.url), 'utf8'), (_k, v: unknown) =>
  v === 'NaN' ? NaN : v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v,
) as Record<string, unknown>;

function allPatterns(bits: 8 | 16): Uint8Array {
  const n = 2 ** bits;
  if (bits === 8) return Uint8Array.from({ length: n }, (_, i) => i);
  return new Uint8Array(Uint16Array.from({ length: n }, (_, i) => i).buffer);
}

function canonicalSha(values: Float32Array): string {
  const u = new Uint32Array(values.slice().buffer);
  for (let i = 0; i < values.length; i++) if (Number.isNaN(values[i])) u[i] = 0x7fc00000;
  return createHash('sha256').update(new Uint8Array(u.buffer)).digest('hex');
}

describe('dtype decoders over every bit pattern', () => {
  for (const dtype of ['F16', 'BF16'] as const) {
    it(`${dtype}: all 65536 patterns equal the independent table`, () => {
      const out = decodeToFloat32(dtype, allPatterns(16));
      expect(out.length).toBe(65536);
      for (const [bits, v] of Object.entries(tables[`${dtype}_samples`] as Record<string, number>)) {
        expect(out[Number(bits)], `${dtype} 0x${Number(bits).toString(16)}`).toBe(v);
      }
      expect(canonicalSha(out)).toBe(tables[`${dtype}_sha256`]);
    });
  }
  for (const dtype of ['F8_E4M3', 'F8_E5M2'] as const) {
    it(`${dtype}: all 256 patterns equal the independent table`, () => {
      const out = decodeToFloat32(dtype, allPatterns(8));
      const want = tables[dtype] as number[];
      for (let i = 0; i < 256; i++) expect(out[i], `${dtype} 0x${i.toString(16)}`).toBe(Math.fround(want[i]!));
    });
  }
  it('F8_E4M3 has no infinities and tops out at 448', () => {
    const out = decodeToFloat32('F8_E4M3', allPatterns(8));
    expect(out.some((v) => !Number.isFinite(v) && !Number.isNaN(v))).toBe(false);
    expect(Math.max(...out.filter((v) => !Number.isNaN(v)))).toBe(448);
  });
});

describe('wide dtypes', () => {
  it('F32 round-trips bits, from an unaligned view too', () => {
    const src = new Float32Array([1.5, -0, 3.4e38, 1e-45, NaN]);
    const padded = new Uint8Array(21);
    padded.set(new Uint8Array(src.buffer), 1);
    const out = decodeToFloat32('F32', padded.subarray(1));
    expect(Array.from(out.slice(0, 4))).toEqual([1.5, -0, Math.fround(3.4e38), Math.fround(1e-45)]);
    expect(out[4]).toBeNaN();
  });
  it('F64 rounds to float32 as torch .float() does', () => {
    const out = decodeToFloat32('F64', new Uint8Array(new Float64Array([0.1, 1e300, -2.5]).buffer));
    expect(Array.from(out)).toEqual([Math.fround(0.1), Infinity, -2.5]);
  });
  it.each(['F16', 'BF16', 'F32', 'F64'] as FloatDtype[])('%s: empty input gives an empty array', (d) => {
    expect(decodeToFloat32(d, new Uint8Array(0)).length).toBe(0);
  });
});
