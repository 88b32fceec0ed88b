/**
 * Browser-side test harness for the WebGPU Gram (bundled by gram-gpu.browser-test.mjs, run in
 * headless Chromium). Compares the GPU Gram — compensated and plain f32 — with a float64 Gram,
 * and the singular values derived from each (float64 Jacobi eigenvalues) with those of the
 * float64 Gram. Small matrices only: the software adapter runs at ~0.2 GFLOP/s.
 */
import { spectrumScore } from '../../core/spectrum.js';
import { type GpuGram, GpuGramError, createGpuGram, gramReference, maxRelativeError, probeMatrix, roundToBf16 } from './gram-gpu.js';
import './band-gpu.harness.js'; // window.runBandHarness, run by the same page

export interface CaseResult {
  name: string;
  rows: number;
  cols: number;
  /** max|ΔG| / max|G| against the exact Gram (rounded to float64). */
  gramErr: number;
  gramErrF32: number;
  /** Same for a naive float64 Gram (what the WASM kernel computes), for context. */
  gramErrF64: number;
  /**
   * max|Δσ| / σmax against the SVD of W (one-sided Jacobi in float64, accurate for small σ).
   * σ from each Gram by the same float64 eigensolver: GPU compensated, GPU f32, naive float64.
   */
  sigmaErr: number;
  sigmaErrF32: number;
  sigmaErrF64: number;
  /** |Δscore| / |score| of the Spectrum score, same three routes. */
  scoreErr: number;
  scoreErrF32: number;
  scoreErrF64: number;
  /**
   * Exactly or nearly rank-deficient: σ ≈ 0 come out of any Gram route as ~sqrt(ε)·σmax, and the
   * Spectrum score (a sum over those σ) is then off even for a float64 Gram. Score not asserted.
   */
  degenerate: boolean;
  /** Streaming accumulator (row blocks), tall cases only. */
  streamErr?: number;
}

export interface TimingResult {
  rows: number;
  cols: number;
  compensatedMs: number;
  f32Ms: number;
  /** Effective multiply-add rate of the compensated Gram (upper triangle, k(k+1)/2·n MACs), incl. upload and read-back. */
  compensatedGmacs: number;
}

export interface HarnessReport {
  adapter: string | null;
  skipped?: string;
  cases: CaseResult[];
  /** Chunked inputs, banded G and several passes forced by small limits. */
  chunked: CaseResult[];
  /** The self-test probe through the f32 pipeline: must exceed the self-test tolerance. */
  probeErrF32: number;
  probeErr: number;
  nonFiniteCode: string | null;
  deviceLostCode: string | null;
  softwareRefusedByDefault: boolean;
  /** The opt-in fma() TwoProduct: whether its self-test accepted this adapter, and its Gram errors on the main cases. */
  fma?: { accepted: boolean; cases: { name: string; gramErr: number }[] };
  /** The exact-product kernel (inputs with short significands, BF16/F16 weights). */
  exact?: ExactReport;
  /** rolledInnerLoop: true against the default, per case: max|ΔG|/max|G| (the same sums: 0) and exact-kernel chunks. */
  rolled?: { name: string; diff: number; exactChunks: number }[];
}

export interface ExactCase {
  name: string;
  /** Chunks uploaded; of them, those made of significands ≤ 12 bits (by construction); those that took the exact-product kernel. */
  chunks: number;
  shortChunks: number;
  exactChunks: number;
  /** max|ΔG|/max|G| against the exact Gram; and with exactProducts: false (every chunk on the general kernel). */
  gramErr: number;
  gramErrGeneral: number;
}

export interface ExactReport {
  /** The self-test's BF16 probe through the exact-product kernel. */
  probeErr: number;
  cases: ExactCase[];
  /** Chunks of the main f32 cases that took the exact-product kernel: must be 0. */
  exactChunksOnF32: number;
}

declare global {
  interface Window {
    runGramHarness: () => Promise<HarnessReport>;
    runGramTiming: (shapes: [number, number][]) => Promise<{ adapter: string; timings: TimingResult[] }>;
  }
}

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

function gaussian(rows: number, cols: number, seed: number): Float32Array {
  const r = rng(seed);
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < w.length; i++) w[i] = Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()) * 0.02;
  return w;
}

/** rows×cols of rank `rank` (product of two Gaussian factors, rounded to f32). */
function lowRank(rows: number, cols: number, rank: number, seed: number): Float32Array {
  const a = gaussian(rows, rank, seed);
  const b = gaussian(rank, cols, seed + 1);
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++)
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let t = 0; t < rank; t++) s += a[i * rank + t]! * b[t * cols + j]!;
      w[i * cols + j] = s * 50;
    }
  return w;
}

/** Entries with magnitudes spread log-uniformly over 1e-3 … 1e3, random signs; columns scaled too. */
function wideRange(rows: number, cols: number, seed: number): Float32Array {
  const r = rng(seed);
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) w[i * cols + j] = (r() < 0.5 ? -1 : 1) * 10 ** (-3 + 6 * r()) * 10 ** (-1 + (2 * j) / cols);
  return w;
}

/** Eigenvalues of a symmetric k×k matrix (cyclic Jacobi, float64), as σ = sqrt(max(λ, 0)) descending. */
function sigmasFromGram(g: Float64Array, k: number): Float64Array {
  const a = Float64Array.from(g);
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < k; p++) for (let q = p + 1; q < k; q++) off += a[p * k + q]! ** 2;
    if (off === 0 || !(off > 1e-300)) break;
    for (let p = 0; p < k; p++)
      for (let q = p + 1; q < k; q++) {
        const apq = a[p * k + q]!;
        if (apq === 0) continue;
        const theta = (a[q * k + q]! - a[p * k + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let r = 0; r < k; r++) {
          const arp = a[r * k + p]!;
          const arq = a[r * k + q]!;
          a[r * k + p] = c * arp - s * arq;
          a[r * k + q] = s * arp + c * arq;
        }
        for (let r = 0; r < k; r++) {
          const apr = a[p * k + r]!;
          const aqr = a[q * k + r]!;
          a[p * k + r] = c * apr - s * aqr;
          a[q * k + r] = s * apr + c * aqr;
        }
      }
  }
  const out = new Float64Array(k);
  for (let i = 0; i < k; i++) out[i] = Math.sqrt(Math.max(a[i * k + i]!, 0));
  return out.sort().reverse();
}

/** Singular values of W (one-sided Jacobi / Hestenes on the n×k form, float64), descending. */
function svdSigmas(w: Float32Array, rows: number, cols: number): Float64Array {
  const tall = rows >= cols;
  const k = tall ? cols : rows;
  const n = tall ? rows : cols;
  const x = new Float64Array(k * n); // column i of the n×k form, contiguous
  for (let t = 0; t < n; t++) for (let i = 0; i < k; i++) x[i * n + t] = tall ? w[t * cols + i]! : w[i * cols + t]!;
  for (let sweep = 0; sweep < 60; sweep++) {
    let rotated = false;
    for (let p = 0; p < k; p++)
      for (let q = p + 1; q < k; q++) {
        let a = 0;
        let b = 0;
        let c = 0;
        for (let t = 0; t < n; t++) {
          const u = x[p * n + t]!;
          const v = x[q * n + t]!;
          a += u * u;
          b += v * v;
          c += u * v;
        }
        if (Math.abs(c) <= 1e-15 * Math.sqrt(a * b) || c === 0) continue;
        rotated = true;
        const zeta = (b - a) / (2 * c);
        const tn = Math.sign(zeta || 1) / (Math.abs(zeta) + Math.sqrt(1 + zeta * zeta));
        const cs = 1 / Math.sqrt(1 + tn * tn);
        const sn = cs * tn;
        for (let t = 0; t < n; t++) {
          const u = x[p * n + t]!;
          const v = x[q * n + t]!;
          x[p * n + t] = cs * u - sn * v;
          x[q * n + t] = sn * u + cs * v;
        }
      }
    if (!rotated) break;
  }
  const out = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = 0;
    for (let t = 0; t < n; t++) s += x[i * n + t]! ** 2;
    out[i] = Math.sqrt(s);
  }
  return out.sort().reverse();
}

/** Plain float64 Gram (naive sums): what the WASM kernel computes. */
function gramF64(w: Float32Array, rows: number, cols: number): Float64Array {
  const tall = rows >= cols;
  const k = tall ? cols : rows;
  const n = tall ? rows : cols;
  const g = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = i; j < k; j++) {
      let sum = 0;
      for (let t = 0; t < n; t++) sum += tall ? w[t * cols + i]! * w[t * cols + j]! : w[i * cols + t]! * w[j * cols + t]!;
      g[i * k + j] = g[j * k + i] = sum;
    }
  return g;
}

function sigmaError(s: Float64Array, truth: Float64Array): number {
  let err = 0;
  for (let i = 0; i < truth.length; i++) err = Math.max(err, Math.abs(s[i]! - truth[i]!));
  return truth[0]! > 0 ? err / truth[0]! : err;
}

function scoreError(s: Float64Array, truth: Float64Array, rows: number, cols: number): number {
  const a = spectrumScore(s, rows, cols).score;
  const b = spectrumScore(truth, rows, cols).score;
  if (a === b) return 0;
  return Math.abs(a - b) / Math.abs(b);
}

async function runCase(
  gpu: GpuGram,
  gpuF32: GpuGram,
  name: string,
  rows: number,
  cols: number,
  w: Float32Array,
  stream: boolean,
  degenerate = false,
): Promise<CaseResult> {
  const k = Math.min(rows, cols);
  const ref = gramReference(w, rows, cols);
  const g = await gpu.gram(w, rows, cols);
  const g32 = await gpuF32.gram(w, rows, cols);
  const g64 = gramF64(w, rows, cols);
  const truth = svdSigmas(w, rows, cols);
  const [s, s32, s64] = [sigmasFromGram(g, k), sigmasFromGram(g32, k), sigmasFromGram(g64, k)];
  const res: CaseResult = {
    name,
    rows,
    cols,
    degenerate,
    gramErr: maxRelativeError(g, ref),
    gramErrF32: maxRelativeError(g32, ref),
    gramErrF64: maxRelativeError(g64, ref),
    sigmaErr: sigmaError(s, truth),
    sigmaErrF32: sigmaError(s32, truth),
    sigmaErrF64: sigmaError(s64, truth),
    scoreErr: scoreError(s, truth, rows, cols),
    scoreErrF32: scoreError(s32, truth, rows, cols),
    scoreErrF64: scoreError(s64, truth, rows, cols),
  };
  if (stream && rows >= cols) {
    // Uneven row blocks through the streaming accumulator, as the worker feeds a big embedding.
    const acc = gpu.accumulator(cols);
    const step = Math.max(1, Math.floor(rows / 3) + 1);
    for (let r = 0; r < rows; r += step) {
      const n = Math.min(step, rows - r);
      await acc.addRows(w.subarray(r * cols, (r + n) * cols), n);
    }
    res.streamErr = maxRelativeError(await acc.finish(), ref);
  }
  if (stream && rows < cols) {
    // Uneven column slabs through the same accumulator, as the worker feeds a big down_proj.
    const acc = gpu.accumulator(rows);
    const step = Math.max(1, Math.floor(cols / 3) + 1);
    for (let c = 0; c < cols; c += step) {
      const n = Math.min(step, cols - c);
      const slab = new Float32Array(rows * n);
      for (let i = 0; i < rows; i++) slab.set(w.subarray(i * cols + c, i * cols + c + n), i * n);
      await acc.addColumns(slab, n);
    }
    res.streamErr = maxRelativeError(await acc.finish(), ref);
  }
  return res;
}

async function codeOf(p: Promise<unknown>): Promise<string | null> {
  try {
    await p;
    return null;
  } catch (e) {
    return e instanceof GpuGramError ? e.code : `unexpected: ${(e as Error).message}`;
  }
}

window.runGramHarness = async (): Promise<HarnessReport> => {
  const empty = { cases: [], chunked: [], probeErr: NaN, probeErrF32: NaN, nonFiniteCode: null, deviceLostCode: null, softwareRefusedByDefault: false };
  if (!navigator.gpu) return { adapter: null, skipped: 'navigator.gpu is absent', ...empty };
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { adapter: null, skipped: 'no WebGPU adapter offered', ...empty };
  const softwareRefusedByDefault = adapter.info.isFallbackAdapter ? (await createGpuGram()) === null : true;

  const gpu = await createGpuGram(undefined, { allowFallbackAdapter: true });
  if (!gpu) throw new Error('createGpuGram returned null: the self-test rejected this adapter');
  const gpuF32 = (await createGpuGram(undefined, { allowFallbackAdapter: true, precision: 'f32' }))!;

  // The fma() TwoProduct on the same inputs, where its self-test accepts it (fma fused: see gram-gpu.wgsl.ts).
  const gpuFma = await createGpuGram(undefined, { allowFallbackAdapter: true, precision: 'compensated-fma' });
  const fma = { accepted: gpuFma !== null, cases: [] as { name: string; gramErr: number }[] };
  const cases: CaseResult[] = [];
  const exactChunksBefore = gpu.stats.exactChunks; // the self-test's BF16 probe
  for (const [name, rows, cols, w, stream, degenerate] of [
    ['tall gaussian', 256, 96, gaussian(256, 96, 1), true, false],
    ['wide gaussian', 72, 256, gaussian(72, 256, 2), true, false],
    ['square 130 (3 tiles, padding)', 130, 130, gaussian(130, 130, 3), true, false],
    ['1×n', 1, 256, gaussian(1, 256, 4), false, false],
    ['n×1', 256, 1, gaussian(256, 1, 5), true, false],
    ['rank 12 of 96', 200, 96, lowRank(200, 96, 12, 6), true, true],
    ['values 1e-3..1e3', 256, 80, wideRange(256, 80, 7), true, false],
    ['probe (near-dependent columns)', 256, 64, probeMatrix(256, 64, 8), false, true],
  ] as const) {
    cases.push(await runCase(gpu, gpuF32, name, rows, cols, w, stream, degenerate));
    if (gpuFma) fma.cases.push({ name, gramErr: maxRelativeError(await gpuFma.gram(w, rows, cols), gramReference(w, rows, cols)) });
  }
  gpuFma?.destroy();
  const exactChunksOnF32 = gpu.stats.exactChunks - exactChunksBefore;

  // The inner loop kept rolled (gpu-bench's instruction-cache diagnosis): the very same sums, on
  // both kernels (f32 inputs: the general one; BF16: the exact-product one).
  const gpuRolled = await createGpuGram(undefined, { allowFallbackAdapter: true, rolledInnerLoop: true });
  if (!gpuRolled) throw new Error('createGpuGram({ rolledInnerLoop: true }) returned null: its self-test rejected the rolled kernels');
  const rolled: { name: string; diff: number; exactChunks: number }[] = [];
  for (const [name, rows, cols, w] of [
    ['tall gaussian', 256, 96, gaussian(256, 96, 1)],
    ['wide gaussian', 72, 256, gaussian(72, 256, 2)],
    ['square 130 (3 tiles, padding)', 130, 130, gaussian(130, 130, 3)],
    ['BF16 gaussian', 256, 96, roundToBf16(gaussian(256, 96, 21))],
  ] as const) {
    const before = gpuRolled.stats.exactChunks;
    const g = await gpuRolled.gram(w, rows, cols);
    rolled.push({ name, diff: maxRelativeError(g, await gpu.gram(w, rows, cols)), exactChunks: gpuRolled.stats.exactChunks - before });
  }
  gpuRolled.destroy();

  // Short significands: exact products, so the cheaper kernel; 13 bits is one too many.
  const general = (await createGpuGram(undefined, { allowFallbackAdapter: true, exactProducts: false }))!;
  const exactCases: ExactCase[] = [];
  const measureExact = async (name: string, rows: number, cols: number, w: Float32Array, blocks: Float32Array[], shortChunks: number) => {
    const before = { ...gpu.stats };
    let g: Float64Array;
    if (rows >= cols) {
      const acc = gpu.accumulator(cols);
      for (const b of blocks) await acc.addRows(b, b.length / cols);
      g = await acc.finish();
    } else g = await gpu.gram(w, rows, cols); // the wide layout: X read transposed

    const ref = gramReference(w, rows, cols);
    exactCases.push({
      name,
      shortChunks,
      chunks: gpu.stats.chunks - before.chunks,
      exactChunks: gpu.stats.exactChunks - before.exactChunks,
      gramErr: maxRelativeError(g, ref),
      gramErrGeneral: maxRelativeError(await general.gram(w, rows, cols), ref),
    });
  };
  for (const [name, w, short] of [
    ['BF16 gaussian', roundToBf16(gaussian(256, 96, 21)), 1],
    ['BF16 values 1e-3..1e3', roundToBf16(wideRange(256, 96, 22)), 1],
    ['12-bit significands (the limit)', keepBits(wideRange(256, 96, 23), 12), 1],
    ['13-bit significands (general kernel)', keepBits(wideRange(256, 96, 24), 13), 0],
  ] as const)
    await measureExact(name, 256, 96, w, [w], short);
  await measureExact('BF16 wide (read transposed)', 72, 256, roundToBf16(gaussian(72, 256, 26)), [], 1);
  // One Gram from BF16, f32 and BF16 row blocks: the kernel is chosen per chunk.
  const mixed = gaussian(300, 96, 25);
  roundToBf16(mixed.subarray(0, 100 * 96));
  roundToBf16(mixed.subarray(200 * 96));
  await measureExact(
    'row blocks BF16, f32, BF16',
    300,
    96,
    mixed,
    [0, 100, 200].map((r) => mixed.subarray(r * 96, (r + 100) * 96)),
    2,
  );
  general.destroy();
  const bf16Probe = roundToBf16(probeMatrix(512, 72, 2));
  const exact: ExactReport = {
    probeErr: maxRelativeError(await gpu.gram(bf16Probe, 512, 72), gramReference(bf16Probe, 512, 72)),
    cases: exactCases,
    exactChunksOnF32,
  };

  // Force input chunking (tall row chunks, wide packed column chunks), a banded G and several
  // passes per chunk with tiny limits.
  const opts = { allowFallbackAdapter: true, maxBindingBytes: 128 * 1024, maxMacsPerDispatch: 64 * 64 * 64 * 3 };
  const small = (await createGpuGram(undefined, opts))!;
  const smallF32 = (await createGpuGram(undefined, { ...opts, precision: 'f32' }))!;
  const chunked: CaseResult[] = [];
  chunked.push(await runCase(small, smallF32, 'tall 700×130, chunked + 3 bands', 700, 130, gaussian(700, 130, 9), true));
  chunked.push(await runCase(small, smallF32, 'wide 40×1000, packed column chunks', 40, 1000, wideRange(40, 1000, 10), false));
  small.destroy();
  smallF32.destroy();
  // Order 200 (4 tile rows of 131 KB) in bands of 2 tile rows, read back one tile row at a time.
  const readback = { allowFallbackAdapter: true, maxBindingBytes: 300 * 1024, readbackBytes: 1 };
  const banded = (await createGpuGram(undefined, readback))!;
  const bandedF32 = (await createGpuGram(undefined, { ...readback, precision: 'f32' }))!;
  chunked.push(await runCase(banded, bandedF32, 'tall 300×200, 2 bands read back in 4 chunks', 300, 200, gaussian(300, 200, 11), true));
  banded.destroy();
  bandedF32.destroy();

  const probe = probeMatrix(512, 72, 1);
  const probeRef = gramReference(probe, 512, 72);
  const probeErr = maxRelativeError(await gpu.gram(probe, 512, 72), probeRef);
  const probeErrF32 = maxRelativeError(await gpuF32.gram(probe, 512, 72), probeRef);

  const bad = gaussian(64, 32, 11);
  bad[100] = NaN;
  const nonFiniteCode = await codeOf(gpu.gram(bad, 64, 32));

  // Device loss on a caller-provided device: the next call must throw a clear GpuGramError.
  const device = await adapter.requestDevice();
  const own = (await createGpuGram(device))!;
  device.destroy();
  await device.lost;
  const deviceLostCode = await codeOf(own.gram(gaussian(64, 32, 12), 64, 32));

  gpu.destroy();
  gpuF32.destroy();
  const ai = adapter.info;
  return {
    adapter: `${ai.vendor} ${ai.architecture}${ai.isFallbackAdapter ? ' (fallback)' : ''}`,
    cases,
    chunked,
    probeErr,
    probeErrF32,
    nonFiniteCode,
    deviceLostCode,
    softwareRefusedByDefault,
    fma,
    exact,
    rolled,
  };
};

/** x with its significands rounded (to nearest) to `bits` bits, in place. */
function keepBits(x: Float32Array, bits: number): Float32Array {
  const drop = 24 - bits;
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  for (let i = 0; i < u.length; i++) u[i] = ((u[i]! + (1 << (drop - 1))) & ~((1 << drop) - 1)) >>> 0;
  return x;
}

/** Wall time of gram() on a real GPU (never meaningful on the software adapter). */
window.runGramTiming = async (shapes) => {
  const gpu = await createGpuGram();
  const gpuF32 = await createGpuGram(undefined, { precision: 'f32' });
  if (!gpu || !gpuF32) throw new Error('no hardware WebGPU adapter (or the self-test rejected it)');
  const timings: TimingResult[] = [];
  for (const [rows, cols] of shapes) {
    const w = gaussian(rows, cols, rows + cols);
    await gpu.gram(w, rows, cols); // warm-up (pipeline, allocations)
    await gpuF32.gram(w, rows, cols);
    const time = async (g: GpuGram) => {
      const t0 = performance.now();
      await g.gram(w, rows, cols);
      return performance.now() - t0;
    };
    const compensatedMs = Math.min(await time(gpu), await time(gpu));
    const f32Ms = Math.min(await time(gpuF32), await time(gpuF32));
    const k = Math.min(rows, cols);
    const n = Math.max(rows, cols);
    timings.push({ rows, cols, compensatedMs, f32Ms, compensatedGmacs: (((k * (k + 1)) / 2) * n) / compensatedMs / 1e6 });
  }
  const info = gpu.info;
  gpu.destroy();
  gpuF32.destroy();
  return { adapter: info, timings };
};
