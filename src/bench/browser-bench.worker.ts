/**
 * `npm run bench` in headless Chromium: this dedicated worker (cross-origin isolated, so the
 * kernels can start their shared-memory helper threads) times the whole singular-value
 * computation of one shape per request on the page's backends. Driven by browser-bench.ts.
 */
import { spectrumScore } from '../core/spectrum.js';
import { createLinalg, type Linalg, measureKernelPeak } from '../engine/kernels/linalg.js';
import { createGpuGram, type GpuGram } from '../engine/webgpu/gram-gpu.js';
import { benchMatrix, benchSeed, gpuSingularValues, median } from './bench-matrix.js';

export type BrowserBackend = 'chromium-wasm-1' | 'chromium-wasm-threads' | 'chromium-webgpu';

export interface BrowserBenchRequest {
  rows: number;
  cols: number;
  repeats: number;
  backends: BrowserBackend[];
}

/** For the WASM backends: threads, the threads the matrix ran on; peakGflops, this engine's WASM
 *  arithmetic peak on one core (measureKernelPeak). */
export type BrowserBenchResult =
  | { backend: BrowserBackend; seconds: number; score: number; note?: string; threads?: number; peakGflops?: number }
  | { backend: BrowserBackend; skipped: string };

let single: Linalg | null = null;
let threaded: Linalg | null = null;
let gpu: { gram: GpuGram | null; why: string } | null = null;
let peakGflops: number | null = null;

/** The WebGPU Gram, or why there is none. A software adapter (SwiftShader in headless
 *  Chromium) computes right answers at ~0.2 GFLOP/s: it is never timed. */
async function webgpu(): Promise<{ gram: GpuGram | null; why: string }> {
  const g = (navigator as Navigator & { gpu?: GPU }).gpu;
  if (!g) return { gram: null, why: 'this browser has no navigator.gpu' };
  const adapter = await g.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return { gram: null, why: 'no WebGPU adapter' };
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const name = [info.vendor, info.architecture, info.description].filter(Boolean).join(' ') || 'unnamed adapter';
  if (info.isFallbackAdapter) return { gram: null, why: `only a software adapter (${name}): right answers at ~0.2 GFLOP/s, not timed` };
  const gram = await createGpuGram();
  return gram ? { gram, why: '' } : { gram: null, why: `${name}: the compensated-arithmetic self-test failed, the backend stays off` };
}

async function run(req: BrowserBenchRequest): Promise<BrowserBenchResult[]> {
  const { rows, cols, repeats } = req;
  const w = benchMatrix(rows, cols, benchSeed(rows, cols));
  const out: BrowserBenchResult[] = [];
  for (const backend of req.backends) {
    if (backend === 'chromium-webgpu') {
      gpu ??= await webgpu();
      if (!gpu.gram) {
        out.push({ backend, skipped: gpu.why });
        continue;
      }
    }
    const threads = backend === 'chromium-wasm-1' ? 1 : navigator.hardwareConcurrency;
    const la = threads === 1 ? (single ??= await createLinalg()) : (threaded ??= await createLinalg({ threads }));
    const ts: number[] = [];
    let sv: ArrayLike<number> = new Float64Array(0);
    for (let i = 0; i < repeats; i++) {
      const t0 = performance.now();
      if (backend === 'chromium-webgpu') sv = await gpuSingularValues(gpu!.gram!, la, w, rows, cols);
      else sv = la.singularValues(w, rows, cols);
      ts.push((performance.now() - t0) / 1000);
    }
    const note =
      backend === 'chromium-wasm-1'
        ? undefined
        : backend === 'chromium-webgpu'
          ? `Gram on ${gpu!.gram!.info}, eigenvalues on ${la.threads} WASM threads`
          : `${la.threads} threads inside the matrix`;
    // Chromium's V8 is not Node's: its own peak, measured once, after the first timing.
    if (backend !== 'chromium-webgpu') peakGflops ??= (await measureKernelPeak()).gflops;
    const peak = backend === 'chromium-webgpu' ? {} : { threads: la.threads, peakGflops: peakGflops! };
    out.push({ backend, seconds: median(ts), score: spectrumScore(sv, rows, cols).score, ...(note ? { note } : {}), ...peak });
  }
  return out;
}

self.onmessage = (e: MessageEvent<BrowserBenchRequest>) => {
  run(e.data).then(
    (results) => self.postMessage({ results }),
    (err: unknown) => self.postMessage({ error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) }),
  );
};
