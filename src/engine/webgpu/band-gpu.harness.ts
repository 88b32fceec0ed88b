/**
 * Page-side checks of the experimental GPU dense → band reduction (band-gpu.ts), run in
 * headless Chromium by gram-gpu.browser-test.mjs next to the Gram harness. Each case: a Gram
 * G = WᵀW of a seeded matrix (so its spectrum spans several decades), its singular values
 * through the GPU band stage + the WASM bulge chasing and QL, against the WASM kernel's own
 * dense route on the same G (an independent reduction).
 */
import { createLinalg } from '../kernels/linalg.js';
import { type GpuBandTimes, bandSelfTest, createGpuBandReduction } from './band-gpu.js';
import { createGpuGram } from './gram-gpu.js';

export interface BandCase {
  name: string;
  k: number;
  /** max_i |σ_gpu − σ_wasm| / σmax */
  sigmaErr: number;
  gpuSeconds: number;
  hostSeconds: number;
}

export interface BandReport {
  skipped?: string;
  cases: BandCase[];
  /** bandSelfTest's error (known eigenvalues). */
  probeErr?: number;
  /** max|Δσ| between rolledInnerLoop: true and the default on one Gram (the same sums: 0). */
  rolledDiff?: number;
}

declare global {
  interface Window {
    runBandHarness: (orders?: number[]) => Promise<BandReport>;
  }
}

/** G = WᵀW, W rows × k with columns scaled over `decades` decades (row-major float64 k×k). */
function gram(rows: number, k: number, decades: number, seed: number): Float64Array {
  let s = seed >>> 0 || 1;
  const w = new Float64Array(rows * k);
  for (let i = 0; i < w.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    w[i] = (s / 2 ** 32 - 0.5) * 10 ** ((-decades * (i % k)) / k);
  }
  const g = new Float64Array(k * k);
  for (let r = 0; r < rows; r++)
    for (let a = 0; a < k; a++) {
      const x = w[r * k + a]!;
      for (let b = 0; b < k; b++) g[a * k + b]! += x * w[r * k + b]!;
    }
  return g;
}

window.runBandHarness = async (orders = [1, 20, 33, 64, 97, 150]) => {
  const gpu = await createGpuGram(undefined, { allowFallbackAdapter: true }); // its device
  if (!gpu?.device) return { skipped: 'no WebGPU adapter', cases: [] };
  const red = await createGpuBandReduction(gpu.device);
  const linalg = await createLinalg();
  const cases: BandCase[] = [];
  let probeErr: number | undefined;
  let rolledDiff: number | undefined;
  try {
    probeErr = await bandSelfTest(red, linalg);
    for (const k of orders) {
      const g = gram(k + 40, k, 3, k);
      const want = linalg.eigenvaluesOfGram(g, k);
      const times: GpuBandTimes = { gpuSeconds: 0, hostSeconds: 0 };
      const got = await red.singularValues(g, k, linalg, times);
      let err = 0;
      for (let i = 0; i < k; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!) / want[0]!);
      cases.push({ name: `Gram of order ${k}`, k, sigmaErr: err, ...times });
    }
    // The matrix uploaded in chunks of 10 rows (the last 7), as an order-4096 one is in 16 MB.
    {
      const k = 97;
      const g = gram(k + 40, k, 3, k);
      const want = linalg.eigenvaluesOfGram(g, k);
      const got = await (await createGpuBandReduction(gpu.device, { uploadPairs: 10 * k + 5 })).singularValues(g, k, linalg);
      let err = 0;
      for (let i = 0; i < k; i++) err = Math.max(err, Math.abs(got[i]! - want[i]!) / want[0]!);
      cases.push({ name: `Gram of order ${k}, uploaded 10 rows at a time`, k, sigmaErr: err, gpuSeconds: 0, hostSeconds: 0 });
    }
    // The inner loops kept rolled (gpu-bench's instruction-cache diagnosis): the very same σ.
    {
      const k = 97;
      const g = gram(k + 40, k, 3, k);
      const want = await red.singularValues(g, k, linalg);
      const got = await (await createGpuBandReduction(gpu.device, { rolledInnerLoop: true })).singularValues(g, k, linalg);
      let diff = 0;
      for (let i = 0; i < k; i++) diff = Math.max(diff, Math.abs(got[i]! - want[i]!));
      rolledDiff = diff;
    }
    // Already diagonal: every panel is zero, every reflector the identity (τ = 0).
    const k = 70;
    const g = new Float64Array(k * k);
    for (let i = 0; i < k; i++) g[i * k + i] = (i + 1) / k;
    const got = await red.singularValues(g, k, linalg);
    let err = 0;
    for (let i = 0; i < k; i++) err = Math.max(err, Math.abs(got[i]! - Math.sqrt((k - i) / k)));
    cases.push({ name: `diagonal of order ${k}`, k, sigmaErr: err, gpuSeconds: 0, hostSeconds: 0 });
  } finally {
    gpu.destroy();
    linalg.dispose();
  }
  return { cases, probeErr, rolledDiff };
};
