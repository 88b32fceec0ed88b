// Helpers shared by ort-bench.ts (Node) and ort-browser.ts (Chromium): the weight-like test
// matrix, the Gram operand, our kernel through its raw exports, and the spectrum comparison.
import { spectrumScore } from '../../core/spectrum.js';
import { LINALG_WASM_BASE64 } from '../../engine/kernels/build/linalg-wasm.js';
import { median } from '../bench-matrix.js';

export { median };

// ---------------------------------------------------------------------------------------
// Matrices
// ---------------------------------------------------------------------------------------

export type Shape = [rows: number, cols: number];

export const nominalFlops = (rows: number, cols: number): number => {
  const k = Math.min(rows, cols);
  return 2 * k * k * Math.max(rows, cols);
};

/** Deterministic N(0,1) stream (mulberry32 + Box–Muller). */
function gaussian(seed: number): () => number {
  let s = seed >>> 0;
  let spare: number | null = null;
  const u = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return () => {
    if (spare !== null) {
      const v = spare;
      spare = null;
      return v;
    }
    const r = Math.sqrt(-2 * Math.log(u()));
    const a = 2 * Math.PI * u();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
}

/** Weight-like W: N(0, 0.02²) noise plus a planted rank-8 signal Σ sᵢ uᵢ vᵢᵀ (unit uᵢ, vᵢ)
 *  with sᵢ from 1.5× to 5× the noise spectrum's edge 0.02(√rows + √cols). Deterministic. */
export function weightLike(rows: number, cols: number): Float32Array {
  const g = gaussian(rows * 7919 + cols);
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < w.length; i++) w[i] = 0.02 * g();
  const edge = 0.02 * (Math.sqrt(rows) + Math.sqrt(cols));
  const unit = (len: number): Float64Array => {
    const v = Float64Array.from({ length: len }, g);
    let s2 = 0;
    for (const x of v) s2 += x * x;
    const inv = 1 / Math.sqrt(s2);
    for (let i = 0; i < len; i++) v[i]! *= inv;
    return v;
  };
  for (let r = 0; r < 8; r++) {
    const s = edge * (1.5 + 0.5 * r);
    const u = unit(rows);
    const v = unit(cols);
    for (let i = 0; i < rows; i++) {
      const su = s * u[i]!;
      const off = i * cols;
      for (let j = 0; j < cols; j++) w[off + j]! += su * v[j]!;
    }
  }
  return w;
}

export function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(w.length);
  const B = 64;
  for (let i0 = 0; i0 < rows; i0 += B)
    for (let j0 = 0; j0 < cols; j0 += B)
      for (let i = i0; i < Math.min(i0 + B, rows); i++) for (let j = j0; j < Math.min(j0 + B, cols); j++) t[j * rows + i] = w[i * cols + j]!;
  return t;
}

/** X = the k×n orientation of W (k = min side), row-major. */
export function gramOperand(w: Float32Array, rows: number, cols: number): Float32Array {
  return rows <= cols ? w : transpose(w, rows, cols);
}

// ---------------------------------------------------------------------------------------
// Our kernel, through its raw exports (as bench-kernel.mjs)
// ---------------------------------------------------------------------------------------

export interface KernelExports {
  memory: WebAssembly.Memory;
  alloc(bytes: number): number;
  free(ptr: number): void;
  packBytes(k: number): number;
  gramRows(b: number, r: number, k: number, g: number, ld: number, pk: number): void;
  gramCols(x: number, k: number, n: number, s: number, g: number, ld: number, pk: number): void;
  zeroF64(p: number, n: number): void;
  eigWorkBytes(n: number): number;
  gramSingularValues(g: number, n: number, ld: number, work: number, out: number): number;
}

let kernelModule: WebAssembly.Module | undefined;
export async function rawKernel(): Promise<KernelExports> {
  kernelModule ??= await WebAssembly.compile(Buffer.from(LINALG_WASM_BASE64, 'base64'));
  const inst = await WebAssembly.instantiate(kernelModule, {});
  return inst.exports as unknown as KernelExports;
}

/** W resident in a fresh kernel instance, plus a float64 Gram buffer. */
export class OurGram {
  readonly k: number;
  readonly kp: number;
  private wp: number;
  readonly g: number;
  private pk: number;
  constructor(
    readonly ex: KernelExports,
    readonly w: Float32Array,
    readonly rows: number,
    readonly cols: number,
  ) {
    const must = (p: number): number => {
      if (p === 0) throw new Error('kernel out of memory');
      return p >>> 0;
    };
    this.k = Math.min(rows, cols);
    this.kp = (this.k + 3) & ~3;
    this.wp = must(ex.alloc(rows * cols * 4));
    this.g = must(ex.alloc(this.kp * this.kp * 8));
    this.pk = must(ex.alloc(ex.packBytes(this.k)));
    new Float32Array(ex.memory.buffer, this.wp, rows * cols).set(w);
  }
  /** One Gram (lower triangle, float64) of W; returns seconds. */
  run(): number {
    const { ex, rows, cols, kp } = this;
    ex.zeroF64(this.g, kp * kp);
    const t0 = performance.now();
    if (rows >= cols) ex.gramRows(this.wp, rows, cols, this.g, kp, this.pk);
    else ex.gramCols(this.wp, rows, cols, cols, this.g, kp, this.pk);
    return (performance.now() - t0) / 1000;
  }
  /** Replaces G by a float32 Gram from elsewhere (row-major k×k; lower triangle used). */
  load(z: Float32Array): void {
    const { k, kp } = this;
    const g = new Float64Array(this.ex.memory.buffer, this.g, kp * kp);
    g.fill(0);
    for (let i = 0; i < k; i++) for (let j = 0; j <= i; j++) g[i * kp + j] = z[i * k + j]!;
  }
  /** Our eigen step on the current G (destroys it): σ descending and seconds. */
  eigen(): { sv: Float64Array; seconds: number } {
    const { ex, k, kp } = this;
    const work = ex.alloc(ex.eigWorkBytes(k)) >>> 0;
    const out = ex.alloc(k * 8) >>> 0;
    if (!work || !out) throw new Error('kernel out of memory');
    const t0 = performance.now();
    const info = ex.gramSingularValues(this.g, k, kp, work, out);
    const seconds = (performance.now() - t0) / 1000;
    if (info !== 0) throw new Error(`tqlrat did not converge (${info})`);
    const sv = new Float64Array(ex.memory.buffer, out, k).slice();
    ex.free(out);
    ex.free(work);
    return { sv, seconds };
  }
}

// ---------------------------------------------------------------------------------------
// Accuracy of a float32 Gram's spectrum against ours
// ---------------------------------------------------------------------------------------

export interface SpectrumDiff {
  maxAbsDeltaSigmaOverSigmaMax: number;
  maxRelDeltaSigmaTop8: number;
  medianRelDeltaSigma: number;
  sigmaMinOurs: number;
  sigmaMinOther: number;
  zeroClampedOther: number;
  scoreOurs: number;
  scoreOther: number;
  relScoreError: number;
  nSignalOurs: number;
  nSignalOther: number;
}

/** `ours`, `other`: σ descending of the same rows×cols matrix. */
export function compareSpectra(ours: Float64Array, other: Float64Array, rows: number, cols: number): SpectrumDiff {
  const k = ours.length;
  let maxAbs = 0;
  let top = 0;
  let clamped = 0;
  const rel: number[] = [];
  for (let i = 0; i < k; i++) {
    const d = Math.abs(ours[i]! - other[i]!);
    maxAbs = Math.max(maxAbs, d);
    if (i < 8) top = Math.max(top, d / ours[i]!);
    rel.push(d / ours[i]!);
    if (other[i] === 0) clamped++;
  }
  const so = spectrumScore(ours, rows, cols);
  const st = spectrumScore(other, rows, cols);
  return {
    maxAbsDeltaSigmaOverSigmaMax: maxAbs / ours[0]!,
    maxRelDeltaSigmaTop8: top,
    medianRelDeltaSigma: median(rel),
    sigmaMinOurs: ours[k - 1]!,
    sigmaMinOther: other[k - 1]!,
    zeroClampedOther: clamped,
    scoreOurs: so.score,
    scoreOther: st.score,
    relScoreError: Math.abs(st.score - so.score) / Math.abs(so.score),
    nSignalOurs: so.nSignal,
    nSignalOther: st.nSignal,
  };
}

export function describeDiff(d: SpectrumDiff): string {
  return (
    `max|Δσ|/σmax ${d.maxAbsDeltaSigmaOverSigmaMax.toExponential(2)}, top-8 σ rel ${d.maxRelDeltaSigmaTop8.toExponential(2)}, ` +
    `median rel Δσ ${d.medianRelDeltaSigma.toExponential(2)}, σmin ${d.sigmaMinOurs.toExponential(3)} vs ${d.sigmaMinOther.toExponential(3)} ` +
    `(${d.zeroClampedOther} clamped to 0), score ${d.scoreOurs.toPrecision(7)} vs ${d.scoreOther.toPrecision(7)} ` +
    `(rel err ${d.relScoreError.toExponential(2)}), nSignal ${d.nSignalOurs}/${d.nSignalOther}`
  );
}
