/**
 * The benchmark's test matrices, shared by `npm run bench` in Node and its headless-Chromium
 * worker (browser-bench.worker.ts), so that both time the very same numbers; and the GPU route
 * both of them time.
 */
import type { Linalg } from '../engine/kernels/linalg.js';
import type { GpuGram } from '../engine/webgpu/gram-gpu.js';

/** σ of W as the engine computes it on a GPU: the Gram there, read back into the kernel's packed
 *  triangle, the eigenvalues in WASM (`linalg`'s threads). */
export async function gpuSingularValues(gpu: GpuGram, linalg: Linalg, w: Float32Array, rows: number, cols: number): Promise<Float64Array> {
  const sink = linalg.gramSink(Math.min(rows, cols));
  try {
    await gpu.gramInto(w, rows, cols, (i, upper) => sink.setUpperRow(i, upper));
    return sink.singularValues();
  } finally {
    sink.dispose();
  }
}

/** A weight-like matrix: N(0, 0.02²) noise plus a planted rank-8 signal, deterministic. */
export function benchMatrix(rows: number, cols: number, seed: number): Float32Array {
  const w = new Float32Array(rows * cols);
  let s = seed >>> 0 || 1;
  const u = () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) + 0.5) / 4294967296;
  for (let i = 0; i < w.length; i += 2) {
    const r = Math.sqrt(-2 * Math.log(u())) * 0.02;
    const t = 2 * Math.PI * u();
    w[i] = r * Math.cos(t);
    if (i + 1 < w.length) w[i + 1] = r * Math.sin(t);
  }
  for (let k = 0; k < 8; k++) {
    const a = Float32Array.from({ length: rows }, () => u() - 0.5);
    const b = Float32Array.from({ length: cols }, () => u() - 0.5);
    const g = 0.5 / (k + 1);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) w[i * cols + j]! += g * a[i]! * b[j]!;
  }
  return w;
}

/** The seed each shape uses. */
export function benchSeed(rows: number, cols: number): number {
  return rows * 31 + cols;
}

/** Our algorithm's flops: the Gram of the smaller side plus the tridiagonal reduction. */
export function benchFlops(rows: number, cols: number): number {
  const k = Math.min(rows, cols);
  const n = Math.max(rows, cols);
  return n * k * k + (4 / 3) * k ** 3;
}

/** The median of xs. */
export function median(xs: number[]): number {
  return xs.slice().sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}
