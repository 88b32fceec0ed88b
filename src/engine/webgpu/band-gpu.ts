/**
 * EXPERIMENTAL (benchmarks only, not used by the app or the CLI): the dense → band stage of the
 * Gram's eigenvalue reduction on the GPU, the CPU doing the panels.
 *
 * Why: with the Gram on the GPU, a scan's remaining cost is the reduction, 4/3·k³ flops per
 * matrix (≈ 15 TFLOP for all of Llama-3-8B), which even 16 cores take over a minute for. It is
 * the same two-stage algorithm as the WASM kernel (LAPACK dsytrd_sy2sb, then bulge chasing):
 * for each panel of B = 32 columns,
 *   1. the GPU gathers the panel and its diagonal block; the host reads them (float64 from the
 *      (hi, lo) pairs) and factors the panel: Householder QR, V and T with Q = I − V T Vᵀ, the
 *      R factor and the diagonal block go into the band;
 *   2. the GPU computes Y = A22·V (in slices of the inner dimension, summed here), the host
 *      X = Y T, M = Tᵀ Vᵀ X, W = X − ½ V M (O(m·B²));
 *   3. the GPU applies A22 −= V Wᵀ + W Vᵀ.
 * Then the band goes to the WASM kernel's bulge chasing and QL (Linalg.bandSingularValues).
 * The GPU keeps the matrix in double-f32 (band-gpu.wgsl.ts), about 48 bits: eigenvalues to
 * ~1e-13 of the largest, where float32 would miss the contract by orders of magnitude.
 *
 * Not yet timed on a real GPU (no machine in the sessions that wrote it); the host side is plain
 * TypeScript, ~20 Mflop per panel. `gpu-bench` reports its time and accuracy next to WASM.
 */
import type { Linalg } from '../kernels/linalg.js';
import { BAND_B as B, BAND_WGSL } from './band-gpu.wgsl.js';

const BufferUsage = { MAP_READ: 0x0001, COPY_SRC: 0x0004, COPY_DST: 0x0008, UNIFORM: 0x0040, STORAGE: 0x0080 } as const;
const MAP_MODE_READ = 0x0001;

export interface GpuBandTimes {
  /** Seconds waiting for the GPU (dispatches and read-backs). */
  gpuSeconds: number;
  /** Seconds of host arithmetic (panel factorisations, X, M, W). */
  hostSeconds: number;
}

export interface GpuBandReduction {
  readonly info: string;
  /** σ = sqrt(max(λ, 0)), descending, of the symmetric k×k matrix g (row-major, float64). */
  singularValues(g: Float64Array, k: number, linalg: Linalg, times?: GpuBandTimes): Promise<Float64Array>;
  destroy(): void;
}

export async function createGpuBandReduction(options: { allowFallbackAdapter?: boolean } = {}): Promise<GpuBandReduction | null> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  const adapter = await gpu?.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return null;
  const ai = adapter.info as GPUAdapterInfo | undefined;
  if (ai?.isFallbackAdapter && !options.allowFallbackAdapter) return null;
  const device = await adapter.requestDevice({
    requiredLimits: { maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize, maxBufferSize: adapter.limits.maxBufferSize },
  });
  const module = device.createShaderModule({ code: BAND_WGSL, label: 'band' });
  const pipeline = (entryPoint: string) => device.createComputePipelineAsync({ label: entryPoint, layout: 'auto', compute: { module, entryPoint } });
  const [gather, symm, syr2k] = await Promise.all([pipeline('gather'), pipeline('symm'), pipeline('syr2k')]);
  const info = [ai?.vendor, ai?.architecture, ai?.description].filter(Boolean).join(' ') + (ai?.isFallbackAdapter ? ' (software)' : '');
  return {
    info,
    singularValues: (g, k, linalg, times) => reduce(device, { gather, symm, syr2k }, g, k, linalg, times),
    destroy: () => device.destroy(),
  };
}

interface Pipelines {
  gather: GPUComputePipeline;
  symm: GPUComputePipeline;
  syr2k: GPUComputePipeline;
}

/** x (float64) as (hi, lo) float32 pairs. */
function toPairs(x: ArrayLike<number>, n: number, scale = 1): Float32Array {
  const out = new Float32Array(2 * n);
  for (let i = 0; i < n; i++) {
    const v = x[i]! * scale;
    const hi = Math.fround(v);
    out[2 * i] = hi;
    out[2 * i + 1] = v - hi;
  }
  return out;
}

async function reduce(device: GPUDevice, pipes: Pipelines, g: Float64Array, k: number, linalg: Linalg, times?: GpuBandTimes): Promise<Float64Array> {
  if (g.length !== k * k) throw new Error(`a ${k}×${k} matrix needs ${k * k} values, got ${g.length}`);
  if (k === 0) return new Float64Array(0);
  // Scaled so that max|diag| = 1: every value then sits far inside f32's exponent range.
  let s = 0;
  for (let i = 0; i < k; i++) s = Math.max(s, Math.abs(g[i * k + i]!));
  if (s === 0 || !Number.isFinite(s)) return s === 0 ? new Float64Array(k) : Promise.reject(new Error('non-finite matrix'));
  const t = times ?? { gpuSeconds: 0, hostSeconds: 0 };
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
  const readBuf = device.createBuffer({ size: Math.max(k * B * 8, slicesMax * mMax * B * 8), usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST });
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
  const syr2kGroup = group(pipes.syr2k, [
    [0, aBuf],
    [2, vBuf],
    [4, wBuf],
    [5, uBuf],
  ]);
  const params = (j: number, off: number, m: number, rows: number, slice: number) =>
    device.queue.writeBuffer(uBuf, 0, new Uint32Array([k, j, off, m, rows, slice, 0, 0]));
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

  try {
    device.queue.writeBuffer(aBuf, 0, toPairs(g, k * k, 1 / s));
    const ab = new Float64Array(k * (B + 1));
    for (let j = 0; j < k; j += B) {
      const nb = Math.min(B, k - j);
      const rows = k - j;
      const m = rows - nb;
      params(j, j + nb, m, rows, 0);
      run(pipes.gather, gatherGroup, Math.ceil((rows * B) / 64), 1, pBuf, rows * B * 8);
      const panel = await readBack(rows * B * 8);
      const h0 = performance.now();
      for (let r = 0; r < nb; r++) for (let c = 0; c <= r; c++) ab[(j + r) * (B + 1) + c - r + B] = panel[r * B + c]!;
      if (m === 0) break;
      const f = factorPanel(panel, m);
      for (let r = 0; r < Math.min(m, B); r++) for (let c = r; c < B; c++) ab[(j + B + r) * (B + 1) + c - r] = f.r[r * B + c]!;
      device.queue.writeBuffer(vBuf, 0, toPairs(f.v, m * B));
      t.hostSeconds += (performance.now() - h0) / 1000;
      // Y = A22 V in slices of the inner dimension: enough workgroups to fill a large GPU.
      const tiles = Math.ceil(m / 32);
      const slices = Math.min(slicesMax, Math.max(1, Math.ceil(1024 / tiles)), Math.ceil(m / 16));
      const slice = Math.ceil(m / slices / 16) * 16;
      const used = Math.ceil(m / slice);
      params(j, j + B, m, rows, slice);
      run(pipes.symm, symmGroup, tiles, used, yBuf, used * m * B * 8);
      const parts = await readBack(used * m * B * 8);
      const h1 = performance.now();
      const y = parts.subarray(0, m * B);
      for (let p = 1; p < used; p++) {
        const q = parts.subarray(p * m * B, (p + 1) * m * B);
        for (let i = 0; i < y.length; i++) y[i]! += q[i]!;
      }
      device.queue.writeBuffer(wBuf, 0, toPairs(updateOperand(y, f.v, f.t, m), m * B));
      t.hostSeconds += (performance.now() - h1) / 1000;
      run(pipes.syr2k, syr2kGroup, tiles, tiles);
    }
    const sigma = linalg.bandSingularValues(ab, k, B);
    const r = Math.sqrt(s);
    for (let i = 0; i < sigma.length; i++) sigma[i]! *= r;
    return sigma;
  } finally {
    for (const b of [aBuf, pBuf, vBuf, wBuf, yBuf, uBuf, readBuf]) b.destroy();
  }
}

/** The panel's factorisation: Householder QR of rows B.. of `panel` (m × B below the diagonal
 *  block; row stride B) → V (m × B, unit lower trapezoidal, row-major), T (B × B, upper, with
 *  Q = H₀…H_{B−1} = I − V T Vᵀ: LAPACK dlarft, forward, columnwise) and R (B × B, upper). */
export function factorPanel(panel: Float64Array, m: number): { v: Float64Array; t: Float64Array; r: Float64Array } {
  const q = new Float64Array(m * B); // column-major m × B copy: columns are contiguous
  for (let r = 0; r < m; r++) for (let c = 0; c < B; c++) q[c * m + r] = panel[(B + r) * B + c]!;
  const tau = new Float64Array(B);
  const rr = new Float64Array(B * B);
  const nref = Math.min(m, B);
  for (let c = 0; c < nref; c++) {
    const col = c * m;
    const alpha = q[col + c]!;
    let xnorm2 = 0;
    for (let r = c + 1; r < m; r++) xnorm2 += q[col + r]! ** 2;
    if (xnorm2 === 0) {
      tau[c] = 0;
      rr[c * B + c] = alpha;
      continue; // H = I; the column's v below the diagonal is already 0
    }
    const beta = -Math.sign(alpha || 1) * Math.sqrt(alpha * alpha + xnorm2);
    tau[c] = (beta - alpha) / beta;
    const inv = 1 / (alpha - beta);
    for (let r = c + 1; r < m; r++) q[col + r]! *= inv;
    q[col + c] = 1;
    rr[c * B + c] = beta;
    for (let d = c + 1; d < B; d++) {
      const cd = d * m;
      let w = 0;
      for (let r = c; r < m; r++) w += q[col + r]! * q[cd + r]!;
      w *= tau[c]!;
      for (let r = c; r < m; r++) q[cd + r]! -= w * q[col + r]!;
    }
  }
  for (let c = 0; c < B; c++) for (let r = 0; r < Math.min(c, nref); r++) rr[r * B + c] = q[c * m + r]!;
  // q's columns become V's (unit diagonal, zeros above; a column whose τ is 0 is all zero).
  for (let c = 0; c < B; c++) {
    const col = c * m;
    const keep = c < nref && tau[c] !== 0;
    for (let r = 0; r < Math.min(c, m); r++) q[col + r] = 0;
    if (!keep) q.fill(0, col + Math.min(c, m), col + m);
    else q[col + c] = 1;
  }
  const v = new Float64Array(m * B);
  for (let c = 0; c < B; c++) for (let r = c; r < m; r++) v[r * B + c] = q[c * m + r]!;
  // T (dlarft): T[i][i] = τ_i, T[0:i, i] = −τ_i T[0:i, 0:i] Vᵀ[0:i, :] v_i (columns of q: contiguous).
  const t = new Float64Array(B * B);
  const z = new Float64Array(B);
  for (let i = 0; i < nref; i++) {
    const ti = tau[i]!;
    t[i * B + i] = ti;
    if (ti === 0) continue;
    const ci = i * m;
    for (let l = 0; l < i; l++) {
      const cl = l * m;
      let d = 0;
      for (let r = i; r < m; r++) d += q[cl + r]! * q[ci + r]!;
      z[l] = -ti * d;
    }
    for (let l = 0; l < i; l++) {
      let acc = 0;
      for (let p = l; p < i; p++) acc += t[l * B + p]! * z[p]!;
      t[l * B + i] = acc;
    }
  }
  return { v, t, r: rr };
}

/** W = X − ½ V M with X = Y T and M = Tᵀ Vᵀ X (all m × B row-major but T, M: B × B), so that
 *  Qᵀ A22 Q = A22 − V Wᵀ − W Vᵀ. */
export function updateOperand(y: Float64Array, v: Float64Array, t: Float64Array, m: number): Float64Array {
  const x = new Float64Array(m * B);
  for (let r = 0; r < m; r++) {
    const o = r * B;
    for (let p = 0; p < B; p++) {
      const yp = y[o + p]!;
      for (let c = p; c < B; c++) x[o + c]! += yp * t[p * B + c]!; // T is upper triangular
    }
  }
  const vx = new Float64Array(B * B);
  for (let r = 0; r < m; r++)
    for (let a = 0; a < B; a++) {
      const va = v[r * B + a]!;
      if (va === 0) continue;
      for (let c = 0; c < B; c++) vx[a * B + c]! += va * x[r * B + c]!;
    }
  const mm = new Float64Array(B * B);
  for (let a = 0; a < B; a++)
    for (let c = 0; c < B; c++) {
      let acc = 0;
      for (let p = 0; p <= a; p++) acc += t[p * B + a]! * vx[p * B + c]!;
      mm[a * B + c] = acc;
    }
  const w = x;
  for (let r = 0; r < m; r++) {
    const o = r * B;
    for (let p = 0; p < B; p++) {
      const vp = 0.5 * v[o + p]!;
      if (vp === 0) continue;
      for (let c = 0; c < B; c++) w[o + c]! -= vp * mm[p * B + c]!;
    }
  }
  return w;
}
