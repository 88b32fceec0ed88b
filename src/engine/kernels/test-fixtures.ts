// The kernel tests' LAPACK fixtures: scripts/kernel-fixtures.py (numpy/scipy, run by hand) →
// reference singular values from LAPACK dgesdd in float64 on the float32 data. Python is not
// needed at test time. Shared by linalg.test.ts and threads.test.ts.
import { readFileSync } from 'node:fs';

export interface FixtureCase {
  name: string;
  rows: number;
  cols: number;
  offset?: number;
  lcgSeed?: number;
  /** Column j of the LCG matrix divided by 2^floor(lcgGrade·j/cols) (exact in float32). */
  lcgGrade?: number;
  sv: number[];
}

export const manifest = JSON.parse(readFileSync(new URL('./fixtures/manifest.json', import.meta.url), 'utf8')) as {
  cases: FixtureCase[];
};
const blob = readFileSync(new URL('./fixtures/matrices.f32', import.meta.url));
const floats = new Float32Array(blob.buffer.slice(blob.byteOffset, blob.byteOffset + blob.byteLength));

/** Uniform [-1, 1) values exactly representable in float32; same LCG as the Python script. */
export function lcgMatrix(rows: number, cols: number, seed: number): Float32Array {
  const out = new Float32Array(rows * cols);
  let s = seed >>> 0;
  for (let i = 0; i < out.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = ((s >>> 8) - 8388608) / 8388608;
  }
  return out;
}

export function matrixOf(c: FixtureCase): Float32Array {
  if (c.lcgSeed !== undefined) {
    const w = lcgMatrix(c.rows, c.cols, c.lcgSeed);
    const g = c.lcgGrade ?? 0;
    if (g > 0) for (let i = 0; i < w.length; i++) w[i]! *= 2 ** -Math.floor((g * (i % c.cols)) / c.cols);
    return w;
  }
  return floats.subarray(c.offset!, c.offset! + c.rows * c.cols);
}
