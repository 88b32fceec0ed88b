/**
 * EXPERIMENTAL (run by gpu-bench and the CLI's opt-in --gpu-eigen only; never by the app or in
 * 'auto' mode): the dense → band stage of the Gram's eigenvalue reduction on the GPU, the CPU
 * doing the panels.
 *
 * Why: with the Gram on the GPU, a scan's remaining cost is the reduction, 4/3·k³ flops per
 * matrix (≈ 15 TFLOP for all of Llama-3-8B), which even 16 cores take over a minute for. It is
 * the same two-stage algorithm as the WASM kernel (LAPACK dsytrd_sy2sb, then bulge chasing):
 * for each panel of B = 32 columns,
 *   1. the GPU gathers the panel and its diagonal block; the host reads them (float64 from the
 *      (hi, lo) pairs) and factors the panel: Householder QR, V and T with Q = I − V T Vᵀ, the
 *      R factor and the diagonal block go into the band;
 *   2. the GPU computes Y = A22·V (in slices of the inner dimension, then summed), the host
 *      X = Y T, M = Tᵀ Vᵀ X, W = X − ½ V M (O(m·B²));
 *   3. the GPU applies A22 −= V Wᵀ + W Vᵀ.
 * Then the band goes to the WASM kernel's bulge chasing and QL (Linalg.bandSingularValues).
 * The GPU keeps the matrix in double-f32 (band-gpu.wgsl.ts), about 48 bits: eigenvalues to
 * ~1e-13 of the largest, where float32 would miss the contract by orders of magnitude.
 *
 * The host's share (Linalg.bandPanelWork, in the WASM kernels) is O(m·B²) per panel, ~20 Mflop
 * at m = 4096. Not yet timed on a real GPU (no machine in the sessions that wrote it):
 * `gpu-bench` reports its time, GPU wait and host time, and accuracy next to WASM.
 */
import type { Linalg } from '../kernels/linalg.js';
import { BAND_B as B, BAND_WGSL } from './band-gpu.wgsl.js';

const BufferUsage = { MAP_READ: 0x0001, COPY_SRC: 0x0004, COPY_DST: 0x0008, UNIFORM: 0x0040, STORAGE: 0x0080 } as const;
const MAP_MODE_READ = 0x0001;
/** Matrix entries converted to (hi, lo) pairs and written to the GPU at once (16 MB). */
const UPLOAD_PAIRS = 2 ** 21;

export interface GpuBandTimes {
  /** Seconds waiting for the GPU (dispatches and read-backs). */
  gpuSeconds: number;
  /** Seconds of host arithmetic (panel factorisations, X, M, W). */
  hostSeconds: number;
}

export interface GpuBandReduction {
  /** σ = sqrt(max(λ, 0)), descending, of the symmetric k×k matrix g (row-major, float64). */
  singularValues(g: Float64Array, k: number, linalg: Linalg, times?: GpuBandTimes): Promise<Float64Array>;
}

export interface GpuBandOptions {
  /** Matrix entries uploaded at once (default UPLOAD_PAIRS, rounded down to whole rows). Tests use it to force several chunks. */
  uploadPairs?: number;
  /** Keep symm's and syr2k's inner loops from being unrolled completely (ROLLED_INNER in
   *  band-gpu.wgsl.ts): the same sums, for gpu-bench to time against the default. */
  rolledInnerLoop?: boolean;
}

/** The reduction on `device`: a GpuGram's (one device per worker; the GpuGram chose the adapter
 *  and owns the device). */
export async function createGpuBandReduction(device: GPUDevice, options: GpuBandOptions = {}): Promise<GpuBandReduction> {
  const module = device.createShaderModule({ code: BAND_WGSL, label: 'band' });
  // ROLLED_INNER only where it is used (symm, syr2k), and only when asked: the default pipelines
  // get no constants at all, as before the option existed.
  const constants: Record<string, number> = options.rolledInnerLoop ? { ROLLED_INNER: 1 } : {};
  const pipeline = (entryPoint: string, withConstants = false) =>
    device.createComputePipelineAsync({ label: entryPoint, layout: 'auto', compute: { module, entryPoint, ...(withConstants ? { constants } : {}) } });
  const [gather, symm, ysum, syr2k] = await Promise.all([pipeline('gather'), pipeline('symm', true), pipeline('ysum'), pipeline('syr2k', true)]);
  const uploadPairs = options.uploadPairs ?? UPLOAD_PAIRS;
  return { singularValues: (g, k, linalg, times) => reduce(device, { gather, symm, ysum, syr2k }, g, k, linalg, uploadPairs, times) };
}

/** Tolerance of bandSelfTest: double-f32 gives ~1e-13 there, plain f32 ~1e-4. */
export const BAND_SELF_TEST_TOLERANCE = 1e-10;

/**
 * The reduction's error on a probe with known eigenvalues, max|Δσ|/σmax: G = H diag(λ) H with
 * H = I − 2uuᵀ/uᵀu (orthogonal) and λ over six decades, order 80 (three panels, so both update
 * kernels run). A shader compiler that reassociates the double-f32 arithmetic away (see
 * gram-gpu.wgsl.ts) shows here as ~1e-4 instead of ~1e-13: callers refuse the GPU reduction then.
 */
export async function bandSelfTest(red: GpuBandReduction, linalg: Linalg): Promise<number> {
  const k = 80;
  const lambda = Array.from({ length: k }, (_, i) => 10 ** ((-6 * i) / (k - 1)));
  const u = Array.from({ length: k }, (_, i) => Math.cos(0.7 * i + 0.3) + 0.05 * i);
  const uu = u.reduce((s, x) => s + x * x, 0);
  const h = (i: number, j: number) => (i === j ? 1 : 0) - (2 * u[i]! * u[j]!) / uu;
  const g = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      let acc = 0;
      for (let p = 0; p < k; p++) acc += h(i, p) * lambda[p]! * h(p, j);
      g[i * k + j] = acc;
    }
  const sigma = await red.singularValues(g, k, linalg);
  let err = 0;
  for (let i = 0; i < k; i++) err = Math.max(err, Math.abs(sigma[i]! - Math.sqrt(lambda[i]!)));
  return err;
}

interface Pipelines {
  gather: GPUComputePipeline;
  symm: GPUComputePipeline;
  ysum: GPUComputePipeline;
  syr2k: GPUComputePipeline;
}

/** x (float64) as (hi, lo) float32 pairs. */
function toPairs(x: ArrayLike<number>, n: number, scale = 1, from = 0): Float32Array {
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const v = x[from + i]! * scale;
    const hi = Math.fround(v);
    out[2 * i] = hi;
    out[2 * i + 1] = v - hi;
  }
  return out;
}

async function reduce(
  device: GPUDevice,
  pipes: Pipelines,
  g: Float64Array,
  k: number,
  linalg: Linalg,
  uploadPairs: number,
  times?: GpuBandTimes,
): Promise<Float64Array> {
  if (g.length !== k * k) throw new Error(`a ${k}×${k} matrix needs ${k * k} values, got ${g.length}`);
  if (k === 0) return new Float64Array(0);
  // Scaled so that max|diag| = 1: every value then sits far inside f32's exponent range.
  let s = 0;
  for (let i = 0; i < k; i++) s = Math.max(s, Math.abs(g[i * k + i]!));
  if (!Number.isFinite(s)) throw new Error('non-finite matrix');
  if (s === 0) return new Float64Array(k);
  const t = times ?? { gpuSeconds: 0, hostSeconds: 0 };
  const limit = Math.min(device.limits.maxBufferSize, device.limits.maxStorageBufferBindingSize);
  if (k * k * 8 > limit) throw new Error(`a ${k}×${k} matrix needs ${k * k * 8} bytes on the GPU; this device binds at most ${limit}`);
  // An invalid buffer or dispatch would not throw, only leave wrong numbers: any validation or
  // out-of-memory error in this reduction makes it throw at the end instead (callers fall back).
  device.pushErrorScope('validation');
  device.pushErrorScope('out-of-memory');
  const mMax = Math.max(k - B, 1);
  const slicesMax = 32;
  const storage = (bytes: number, extra = 0) =>
    device.createBuffer({ size: Math.max(16, bytes), usage: BufferUsage.STORAGE | BufferUsage.COPY_DST | BufferUsage.COPY_SRC | extra });
  const aBuf = storage(k * k * 8);
  const pBuf = storage(k * B * 8);
  const vBuf = storage(mMax * B * 8);
  const wBuf = storage(mMax * B * 8);
  const yBuf = storage(slicesMax * mMax * B * 8);
  const uBuf = device.createBuffer({ size: 32, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST });
  const readBuf = device.createBuffer({ size: k * B * 8, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
  const group = (pipe: GPUComputePipeline, bindings: [number, GPUBuffer][]) =>
    device.createBindGroup({ layout: pipe.getBindGroupLayout(0), entries: bindings.map(([binding, buffer]) => ({ binding, resource: { buffer } })) });
  const gatherGroup = group(pipes.gather, [
    [0, aBuf],
    [1, pBuf],
    [5, uBuf],
  ]);
  const symmGroup = group(pipes.symm, [
    [0, aBuf],
    [2, vBuf],
    [3, yBuf],
    [5, uBuf],
  ]);
  const ysumGroup = group(pipes.ysum, [
    [3, yBuf],
    [5, uBuf],
  ]);
  const syr2kGroup = group(pipes.syr2k, [
    [0, aBuf],
    [2, vBuf],
    [4, wBuf],
    [5, uBuf],
  ]);
  const params = (j: number, off: number, m: number, rows: number, slice: number, col0 = 0) =>
    device.queue.writeBuffer(uBuf, 0, new Uint32Array([k, j, off, m, rows, slice, 0, col0]));
  const gatherPanel = (j: number) => {
    const rows = k - j;
    params(j, j + Math.min(B, rows), rows - Math.min(B, rows), rows, 0);
    run(pipes.gather, gatherGroup, Math.ceil((rows * B) / 64), 1, pBuf, rows * B * 8);
  };
  const run = (pipe: GPUComputePipeline, bg: GPUBindGroup, x: number, y: number, readFrom?: GPUBuffer, readBytes = 0) => {
    const enc = device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(pipe);
    pass.setBindGroup(0, bg);
    pass.dispatchWorkgroups(x, y);
    pass.end();
    if (readFrom) enc.copyBufferToBuffer(readFrom, 0, readBuf, 0, readBytes);
    device.queue.submit([enc.finish()]);
  };
  const readBack = async (bytes: number): Promise<Float64Array> => {
    const t0 = performance.now();
    await readBuf.mapAsync(MAP_MODE_READ, 0, bytes);
    const pairs = new Float32Array(readBuf.getMappedRange(0, bytes));
    const out = new Float64Array(pairs.length / 2);
    for (let i = 0; i < out.length; i++) out[i] = pairs[2 * i]! + pairs[2 * i + 1]!;
    readBuf.unmap();
    t.gpuSeconds += (performance.now() - t0) / 1000;
    return out;
  };

  const work = linalg.bandPanelWork(mMax, B);
  let scoped = true;
  try {
    // In chunks of ~16 MB of pairs: a k² copy (and Dawn's staging copy of it) per worker would
    // double what a worker holds at k = 4096 (134 MB each).
    const chunk = Math.max(1, Math.floor(uploadPairs / k)) * k;
    for (let e = 0; e < k * k; e += chunk) {
      const n = Math.min(chunk, k * k - e);
      device.queue.writeBuffer(aBuf, e * 8, toPairs(g, n, 1 / s, e));
    }
    const ab = new Float64Array(k * (B + 1));
    for (let j = 0; j < k; j += B) {
      const nb = Math.min(B, k - j);
      const rows = k - j;
      const m = rows - nb;
      if (j === 0) gatherPanel(0); // later panels were gathered during the previous update
      const panel = await readBack(rows * B * 8);
      const h0 = performance.now();
      for (let r = 0; r < nb; r++) for (let c = 0; c <= r; c++) ab[(j + r) * (B + 1) + c - r + B] = panel[r * B + c]!;
      if (m === 0) break;
      const f = work.factor(panel, m);
      for (let r = 0; r < Math.min(m, B); r++) for (let c = r; c < B; c++) ab[(j + B + r) * (B + 1) + c - r] = f.r[r * B + c]!;
      device.queue.writeBuffer(vBuf, 0, toPairs(f.v, m * B));
      t.hostSeconds += (performance.now() - h0) / 1000;
      // Y = A22 V in slices of the inner dimension: enough workgroups to fill a large GPU.
      const tiles = Math.ceil(m / 32);
      const slices = Math.min(slicesMax, Math.max(1, Math.ceil(1024 / tiles)), Math.ceil(m / 16));
      const slice = Math.ceil(m / slices / 16) * 16;
      const used = Math.ceil(m / slice);
      params(j, j + B, m, rows, slice);
      run(pipes.symm, symmGroup, tiles, used);
      params(j, j + B, m, used, slice); // ysum: `rows` is the slice count
      run(pipes.ysum, ysumGroup, Math.ceil((m * B) / 64), 1, yBuf, m * B * 8);
      const y = await readBack(m * B * 8);
      const h1 = performance.now();
      device.queue.writeBuffer(wBuf, 0, toPairs(work.update(y, m), m * B));
      t.hostSeconds += (performance.now() - h1) / 1000;
      // Look-ahead: the next panel's columns (tile column 0 of A22) first, then its gather, then
      // the rest of the update, so the host factors the next panel while the GPU finishes this one.
      params(j, j + B, m, rows, 0, 0);
      run(pipes.syr2k, syr2kGroup, 1, tiles);
      gatherPanel(j + B);
      if (tiles > 1) {
        params(j, j + B, m, rows, 0, 1);
        run(pipes.syr2k, syr2kGroup, tiles - 1, tiles);
      }
    }
    const errors = [await device.popErrorScope(), await device.popErrorScope()].filter((e) => e !== null);
    scoped = false;
    if (errors.length) throw new Error(`WebGPU error in the band reduction: ${errors[0]!.message}`);
    const sigma = linalg.bandSingularValues(ab, k, B);
    const r = Math.sqrt(s);
    for (let i = 0; i < sigma.length; i++) sigma[i]! *= r;
    return sigma;
  } finally {
    if (scoped) void Promise.all([device.popErrorScope(), device.popErrorScope()]).catch(() => {});
    work.dispose();
    for (const b of [aBuf, pBuf, vBuf, wBuf, yBuf, uBuf, readBuf]) b.destroy();
  }
}
