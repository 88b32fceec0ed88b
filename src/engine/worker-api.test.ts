/**
 * The accuracy contract, on every module of every reference checkpoint: singular values within
 * 1e-5·σ_max of the reference's (torch.linalg.svdvals), every score and intermediate within
 * 1e-5 relative. Runs the worker's code in-process.
 */
import { join } from 'node:path';
import { readdirSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { NodeFileSource } from '../core/bytesource-node.js';
import { buildCatalogue, selectTypes } from '../core/catalogue.js';
import { type FloatDtype, decodeToFloat32 } from '../core/dtype.js';
import { loadModelFolder } from '../core/model.js';
import { expectClose } from '../testing/compare.js';
import { oracleRuns, sharedModelDirs } from '../testing/shared-models.js';
import { type MeasureCpu, createEngineWorker } from './worker-api.js';
import { matrixJob } from './scan.js';
import { isFailure } from './types.js';
import { writeSafetensors, encodeFloats, randomNormal } from '../testing/safetensors-writer.js';
import { type ByteSource, MemorySource } from '../core/bytesource.js';
import { type Linalg, createLinalg } from './kernels/linalg.js';
import { type GpuGram, GpuGramError, gramReference } from './webgpu/gram-gpu.js';
import type { GpuBandReduction } from './webgpu/band-gpu.js';

describe('engine against oracle_details.json', () => {
  for (const dir of sharedModelDirs()) {
    it(`${basename(dir)}: every module of --all-types`, async () => {
      const files = readdirSync(dir)
        .filter((n) => statSync(join(dir, n)).isFile())
        .map((n) => new NodeFileSource(join(dir, n), n, statSync(join(dir, n)).size));
      const folder = await loadModelFolder(files);
      const cat = buildCatalogue(folder);
      const run = oracleRuns(dir).find((r) => r.variant === 'oracle_out_all_types')!;
      const engine = createEngineWorker((ref) => Promise.resolve(folder.sources.get(ref.name) as NodeFileSource));
      // Small blocks so the row-block path is exercised on these small matrices too.
      await engine.init({ blockBytes: 4096 });
      let checked = 0;
      for (const m of selectTypes(cat, { allTypes: true }).types.flatMap((t) => t.modules)) {
        const r = await engine.compute(matrixJob(m, 0, { name: m.weight.file }));
        if (isFailure(r)) throw new Error(`${m.name}: ${r.error}`);
        const ref = run.details[m.name]!;
        expect(r.singularValues.length, m.name).toBe(ref.singular_values.length);
        const tol = 1e-5 * ref.s_max;
        let worst = 0;
        ref.singular_values.forEach((s, i) => (worst = Math.max(worst, Math.abs(r.singularValues[i]! - s))));
        expect(worst, `${m.name}: max |Δσ| ${worst} vs tolerance ${tol}`).toBeLessThanOrEqual(tol);
        const d = r.details;
        expectClose(d.score, ref.spectrum_snr, 1e-5, `${m.name} score`);
        expectClose(d.sMax, ref.s_max, 1e-5, `${m.name} s_max`);
        expectClose(d.q25, ref.q25, 1e-5, `${m.name} q25`);
        expectClose(d.q75, ref.q75, 1e-5, `${m.name} q75`);
        expectClose(d.threshold, ref.mp_threshold, 1e-5, `${m.name} threshold`);
        expect(d.nSignal, `${m.name} n_signal`).toBe(ref.n_signal);
        expectClose(d.signalSum, ref.signal_sum, 1e-5, `${m.name} signal_sum`);
        expectClose(d.noiseSum, ref.noise_sum, 1e-5, `${m.name} noise_sum`);
        checked++;
      }
      expect(checked).toBe(Object.keys(run.details).length);
      await Promise.all(files.map((f) => f.close()));
    });
  }
});

describe('engine on batched weights (more than two dimensions)', () => {
  // Each matrix of the batch must get the values a 2-D job of that matrix gets: the small
  // batch is read at once, the large one (over 16 MB decoded) one matrix at a time.
  for (const [count, rows, cols] of [
    [3, 40, 50],
    [3, 400, 4000],
  ] as const) {
    it(`[${count}, ${rows}, ${cols}]: every matrix's values in turn`, async () => {
      const size = rows * cols;
      const w = randomNormal(count * size, 7);
      const bytes = encodeFloats(w, 'F32');
      const engine = createEngineWorker(() => Promise.resolve(new MemorySource(bytes, 'w')));
      await engine.init({});
      const base = { id: 1, source: { name: 'w' }, tensor: 't', dtype: 'F32' as const, rows, cols };
      const r = await engine.compute({ ...base, offset: 0, byteLength: bytes.length, batchShape: [count] });
      if (isFailure(r)) throw new Error(r.error);
      const k = Math.min(rows, cols);
      expect(r.singularValues.length).toBe(count * k);
      for (let i = 0; i < count; i++) {
        const one = await engine.compute({ ...base, offset: i * size * 4, byteLength: size * 4 });
        if (isFailure(one)) throw new Error(one.error);
        expect(Array.from(r.singularValues.subarray(i * k, (i + 1) * k)), `matrix ${i}`).toEqual(Array.from(one.singularValues));
      }
      expect(r.details.score).toBeNaN(); // S[0] holds k > 1 values
      expect(r.bytesRead).toBe(bytes.length);
    });
  }
});

describe('engine on hostile matrices', () => {
  const engineFor = (bytes: Uint8Array) => {
    const src = new MemorySource(bytes, 'model.safetensors');
    return createEngineWorker(() => Promise.resolve(src));
  };
  const job = (offset: number, rows: number, cols: number, dtype: FloatDtype = 'F32') => ({
    id: 1,
    source: { name: 'model.safetensors' },
    tensor: 't',
    offset,
    byteLength: rows * cols * 4,
    dtype,
    rows,
    cols,
  });

  it('NaN weights fail that matrix with a reason', async () => {
    const w = new Float32Array(12).fill(1);
    w[5] = NaN;
    const file = writeSafetensors([{ name: 't', dtype: 'F32', shape: [3, 4], data: encodeFloats(w, 'F32') }]);
    const r = await engineFor(file).compute(job(file.length - 48, 3, 4));
    expect(isFailure(r) && r.error).toMatch(/NaN or Inf/);
  });

  it('an all-zero matrix scores Infinity, as the reference', async () => {
    const file = writeSafetensors([{ name: 't', dtype: 'F32', shape: [3, 4] }]);
    const r = await engineFor(file).compute(job(file.length - 48, 3, 4));
    if (isFailure(r)) throw new Error(r.error);
    expect(r.details.score).toBe(Infinity);
  });

  it('a 1-D weight scores exactly 1', async () => {
    const w = new Float32Array([3, -4, 0, 12]);
    const file = writeSafetensors([{ name: 't', dtype: 'F32', shape: [4], data: encodeFloats(w, 'F32') }]);
    const r = await engineFor(file).compute(job(file.length - 16, 1, 4));
    if (isFailure(r)) throw new Error(r.error);
    expect(r.singularValues[0]).toBeCloseTo(13, 12);
    expect(r.details.score).toBe(1);
  });
});

describe('wide matrices streamed in column slabs', () => {
  /** Counts what the engine reads, so a test can see it reads only its own tensor's bytes. */
  class CountingSource implements ByteSource {
    readonly reads: { offset: number; length: number }[] = [];
    constructor(private readonly inner: ByteSource) {}
    get name() {
      return this.inner.name;
    }
    get size() {
      return this.inner.size;
    }
    read(offset: number, length: number): Promise<Uint8Array> {
      this.reads.push({ offset, length });
      return this.inner.read(offset, length);
    }
  }

  const ROWS = 48;
  const COLS = 700;
  let linalg: Linalg;
  beforeAll(async () => {
    linalg = await createLinalg();
  });

  /** A file holding a small tensor first (so ours does not start at the data section) and then the rows×cols one. */
  function fileWith(values: Float32Array, dtype: 'F32' | 'BF16' | 'F16', rows: number, cols: number) {
    const data = encodeFloats(values, dtype);
    const file = writeSafetensors([
      { name: 'before', dtype: 'F32', shape: [3], data: encodeFloats(new Float32Array([1, 2, 3]), 'F32') },
      { name: 't', dtype, shape: [rows, cols], data },
    ]);
    const src = new CountingSource(new MemorySource(file, 'model.safetensors'));
    const job = { id: 1, source: { name: 'model.safetensors' }, tensor: 't', offset: file.length - data.length, byteLength: data.length, dtype, rows, cols };
    return { src, job, data };
  }

  /** σ of the decoded matrix held whole: the other code path (one Gram, no slabs, no strided reads). */
  function wholePath(dtype: FloatDtype, data: Uint8Array, rows: number, cols: number): Float64Array {
    return linalg.singularValues(decodeToFloat32(dtype, data), rows, cols);
  }

  function expectSameSpectrum(got: Float64Array, want: Float64Array) {
    expect(got.length).toBe(want.length);
    let worst = 0;
    want.forEach((s, i) => (worst = Math.max(worst, Math.abs(got[i]! - s) / s)));
    expect(worst).toBeLessThan(1e-12);
  }

  for (const dtype of ['F32', 'BF16', 'F16'] as const) {
    it(`${dtype} ${ROWS}×${COLS} in slabs of 160 columns (the last 60): the whole-matrix spectrum, reading each byte once`, async () => {
      const { src, job, data } = fileWith(randomNormal(ROWS * COLS, 11, 0.05), dtype, ROWS, COLS);
      const blockBytes = ROWS * 160 * 4; // 160 columns of float32
      const engine = createEngineWorker(() => Promise.resolve(src));
      await engine.init({ blockBytes });
      const r = await engine.compute(job);
      if (isFailure(r)) throw new Error(r.error);
      expectSameSpectrum(r.singularValues, wholePath(dtype, data, ROWS, COLS));
      expect(r.singularValues.length).toBe(ROWS);

      const bpe = data.length / (ROWS * COLS);
      const ours = src.reads;
      expect(ours.reduce((s, x) => s + x.length, 0)).toBe(job.byteLength);
      expect(r.bytesRead).toBe(job.byteLength);
      for (const x of ours) {
        expect(x.length).toBeLessThanOrEqual(160 * bpe); // one row's segment of one slab
        expect(x.offset).toBeGreaterThanOrEqual(job.offset);
        expect(x.offset + x.length).toBeLessThanOrEqual(job.offset + job.byteLength);
      }
      // Every byte of the tensor exactly once: 5 slabs × 48 row segments that tile it.
      expect(ours).toHaveLength(5 * ROWS);
      const covered = new Uint8Array(job.byteLength);
      for (const x of ours) for (let b = x.offset - job.offset; b < x.offset - job.offset + x.length; b++) covered[b]!++;
      expect(covered.every((c) => c === 1)).toBe(true);
    });
  }

  it('a slab nearly as wide as the matrix is read in one range per run of rows, not row by row', async () => {
    const cols = 560; // slabs of 512 columns (gaps of 48 ≤ 512/8), then 48
    const { src, job, data } = fileWith(randomNormal(ROWS * cols, 12, 0.05), 'BF16', ROWS, cols);
    const engine = createEngineWorker(() => Promise.resolve(src));
    await engine.init({ blockBytes: ROWS * 512 * 4 });
    const r = await engine.compute(job);
    if (isFailure(r)) throw new Error(r.error);
    expectSameSpectrum(r.singularValues, wholePath('BF16', data, ROWS, cols));
    const ours = src.reads;
    expect(ours).toHaveLength(1 + ROWS); // the first slab in one read, the ragged one row by row
    const total = ours.reduce((s, x) => s + x.length, 0);
    expect(total).toBe(((ROWS - 1) * cols + 512) * 2 + ROWS * 48 * 2);
    expect(total).toBeLessThanOrEqual(job.byteLength * (1 + 1 / 8));
    for (const x of ours) {
      expect(x.offset).toBeGreaterThanOrEqual(job.offset);
      expect(x.offset + x.length).toBeLessThanOrEqual(job.offset + job.byteLength);
    }
  });

  it('a streamed wide matrix with a NaN in a later slab fails with non-finite', async () => {
    const w = randomNormal(ROWS * COLS, 13, 0.05);
    w[30 * COLS + 650] = NaN; // row 30, in the last (ragged) slab
    const { src, job } = fileWith(w, 'F32', ROWS, COLS);
    const engine = createEngineWorker(() => Promise.resolve(src));
    await engine.init({ blockBytes: ROWS * 160 * 4 });
    const r = await engine.compute(job);
    expect(isFailure(r) && r.code).toBe('non-finite');
    expect(isFailure(r) && r.error).toMatch(/NaN or Inf/);
  });

  /**
   * A GPU whose accumulator sums S·Sᵀ of each column slab in float64 (the real one is tested in
   * Chromium, gram-gpu.test.ts); it records the slab widths and fails the `failAt`-th slab.
   */
  function slabGpu(failAt = Infinity) {
    const widths: number[] = [];
    const gpu = {
      info: 'fake',
      gramInto: () => Promise.reject(new Error('not used: the matrix is streamed')),
      accumulator: (k: number) => {
        const g = new Float64Array(k * k);
        return {
          addRows: () => Promise.reject(new Error('not used: the matrix is wide')),
          addColumns: async (slab: Float32Array, n: number) => {
            widths.push(n);
            if (widths.length >= failAt) throw new GpuGramError('out-of-memory', 'WebGPU out of memory during Gram accumulation');
            for (let i = 0; i < k; i++) for (let j = i; j < k; j++) for (let t = 0; t < n; t++) g[i * k + j]! += slab[i * n + t]! * slab[j * n + t]!;
          },
          finishInto: async (sink: (i: number, upper: Float64Array) => void) => {
            for (let i = 0; i < k; i++) sink(i, g.subarray(i * k + i, (i + 1) * k));
          },
          dispose: () => {},
        };
      },
      destroy: () => {},
    } as unknown as GpuGram;
    return { open: () => Promise.resolve(gpu), widths };
  }

  it('on a GPU, the column slabs go to its accumulator one after another: the whole-matrix spectrum', async () => {
    const { src, job, data } = fileWith(randomNormal(ROWS * COLS, 14, 0.05), 'BF16', ROWS, COLS);
    const gpu = slabGpu();
    const engine = createEngineWorker(() => Promise.resolve(src), gpu.open);
    await engine.init({ backend: 'webgpu', blockBytes: ROWS * 160 * 4 });
    const r = await engine.compute(job);
    if (isFailure(r)) throw new Error(r.error);
    expect(r.backend).toBe('webgpu');
    expect(gpu.widths).toEqual([160, 160, 160, 160, 60]);
    expect(r.bytesRead).toBe(job.byteLength);
    expectSameSpectrum(r.singularValues, wholePath('BF16', data, ROWS, COLS));
  });

  it('a GPU that fails on a later slab: the matrix is recomputed on WASM, same spectrum', async () => {
    const { src, job, data } = fileWith(randomNormal(ROWS * COLS, 15, 0.05), 'F32', ROWS, COLS);
    const gpu = slabGpu(3);
    const engine = createEngineWorker(() => Promise.resolve(src), gpu.open);
    await engine.init({ backend: 'webgpu', blockBytes: ROWS * 160 * 4 });
    const r = await engine.compute(job);
    if (isFailure(r)) throw new Error(r.error);
    expect(r.backend).toBe('wasm');
    expect(gpu.widths).toEqual([160, 160, 160]);
    expectSameSpectrum(r.singularValues, wholePath('F32', data, ROWS, COLS));
  });
});

describe("the GPU route in 'auto' mode (an injected GPU backend)", () => {
  const ORDER = 660; // 660³/2 multiply-adds: just above the smallest Gram 'auto' sends to a GPU
  const w = randomNormal(ORDER * ORDER, 21, 0.05);
  const file = writeSafetensors([{ name: 't', dtype: 'F32', shape: [ORDER, ORDER], data: encodeFloats(w, 'F32') }]);
  const src = new MemorySource(file, 'model.safetensors');
  const job = (id: number) => ({
    id,
    source: { name: 'model.safetensors' },
    tensor: 't',
    offset: file.length - ORDER * ORDER * 4,
    byteLength: ORDER * ORDER * 4,
    dtype: 'F32' as const,
    rows: ORDER,
    cols: ORDER,
  });
  const exact = gramReference(w, ORDER, ORDER);
  let want: Float64Array;
  beforeAll(async () => {
    want = (await createLinalg()).singularValues(w, ORDER, ORDER);
  });

  /** A GPU whose Gram is the exact float64 one, handed over row by row after `delayMs`; counts its calls. */
  function fakeGpu(delayMs: number) {
    const calls = { n: 0 };
    const gpu = {
      info: 'fake',
      gramInto: async (_w: Float32Array, _rows: number, _cols: number, sink: (i: number, upper: Float64Array) => void) => {
        calls.n++;
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        for (let i = 0; i < ORDER; i++) sink(i, exact.subarray(i * ORDER + i, (i + 1) * ORDER));
      },
      accumulator: () => {
        throw new Error('not used: the matrix is held whole');
      },
      destroy: () => {},
    } as unknown as GpuGram;
    return { open: () => Promise.resolve(gpu), calls };
  }

  /**
   * For the tests where the GPU's Gram must win: cores that take 1.4 s for this Gram (and 1.9 s
   * for its reduction). Against the cores' real speed (~10 ms here), the fake GPU's own time
   * (copying the Gram out in JS, a first call still interpreted, a pause while other test files
   * load the machine) could lose, and did on CI and here.
   */
  const slowCores = () => 1e8;

  async function runSix(delayMs: number, measureCpu?: MeasureCpu) {
    const gpu = fakeGpu(delayMs);
    const engine = createEngineWorker(() => Promise.resolve(src), gpu.open, undefined, measureCpu);
    expect(await engine.init({ backend: 'auto' })).toMatchObject({ backend: 'webgpu' });
    const backends: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await engine.compute(job(i));
      if (isFailure(r)) throw new Error(r.error);
      let worst = 0;
      want.forEach((s, j) => (worst = Math.max(worst, Math.abs(r.singularValues[j]! - s))));
      expect(worst).toBeLessThanOrEqual(1e-9 * want[0]!);
      backends.push(r.backend);
    }
    return { backends, gpuCalls: gpu.calls.n };
  }

  it('a GPU faster than the cores computes every Gram', async () => {
    const { backends, gpuCalls } = await runSix(0, slowCores);
    expect(backends).toEqual(Array(6).fill('webgpu'));
    expect(gpuCalls).toBe(6);
  });

  it('a GPU slower than the cores (here 3 s for what WASM does in well under 1 s) gets one Gram, then the next 8 stay on WASM', async () => {
    const { backends, gpuCalls } = await runSix(3000);
    expect(backends).toEqual(['webgpu', 'wasm', 'wasm', 'wasm', 'wasm', 'wasm']);
    expect(gpuCalls).toBe(1);
  }, 20_000);

  it('a GPU Gram that fails (out of GPU memory) is recomputed on WASM, and the next ones stay there', async () => {
    let calls = 0;
    const gpu = {
      info: 'fake',
      gramInto: () => {
        calls++;
        return Promise.reject(new GpuGramError('out-of-memory', 'WebGPU out of memory during Gram accumulation'));
      },
      destroy: () => {},
    } as unknown as GpuGram;
    const engine = createEngineWorker(
      () => Promise.resolve(src),
      () => Promise.resolve(gpu),
    );
    await engine.init({ backend: 'auto' });
    for (let i = 0; i < 3; i++) {
      const r = await engine.compute(job(i));
      if (isFailure(r)) throw new Error(r.error);
      expect(r.backend).toBe('wasm');
      expect(Math.abs(r.singularValues[0]! - want[0]!)).toBeLessThanOrEqual(1e-9 * want[0]!);
    }
    expect(calls).toBe(1);
  });

  it('forced WebGPU sends every Gram to the GPU however slow', async () => {
    const gpu = fakeGpu(300);
    const engine = createEngineWorker(() => Promise.resolve(src), gpu.open);
    await engine.init({ backend: 'webgpu' });
    for (let i = 0; i < 3; i++) expect(await engine.compute(job(i))).toMatchObject({ backend: 'webgpu' });
    expect(gpu.calls.n).toBe(3);
  });

  /** A GPU reduction (--gpu-eigen) that answers the float64 singular values after `delayMs`; counts its calls. */
  function fakeBand(delayMs: number) {
    const calls = { n: 0 };
    const band = {
      singularValues: async (g: Float64Array, k: number) => {
        calls.n++;
        expect(k).toBe(ORDER);
        expect(g[1]).toBe(exact[1]); // the dense Gram the GPU handed over
        if (delayMs > 0) await new Promise((r) => setTimeout(r, delayMs));
        return Float64Array.from(want);
      },
    } as unknown as GpuBandReduction;
    return { open: () => Promise.resolve(band), calls };
  }

  async function reductions(backend: 'auto' | 'webgpu', bandDelayMs: number, measureCpu?: MeasureCpu) {
    const band = fakeBand(bandDelayMs);
    const engine = createEngineWorker(() => Promise.resolve(src), fakeGpu(0).open, band.open, measureCpu);
    await engine.init({ backend, gpuEigen: true });
    const where: string[] = [];
    for (let i = 0; i < 4; i++) {
      const r = await engine.compute(job(i));
      if (isFailure(r)) throw new Error(r.error);
      expect(r.backend).toBe('webgpu');
      expect(Math.abs(r.singularValues[ORDER - 1]! - want[ORDER - 1]!)).toBeLessThanOrEqual(1e-9 * want[0]!);
      where.push(r.eigenOnGpu ? 'gpu' : 'wasm');
    }
    return { where, bandCalls: band.calls.n };
  }

  it('--gpu-eigen: a GPU reduction faster than the cores gets every reduction', async () => {
    expect(await reductions('auto', 0, slowCores)).toEqual({ where: ['gpu', 'gpu', 'gpu', 'gpu'], bandCalls: 4 });
  });

  it('--gpu-eigen: a GPU reduction slower than the cores (a GPU queued by many workers) gets one, then the cores take the next ones back; the Grams stay on the GPU', async () => {
    expect(await reductions('auto', 3000, slowCores)).toEqual({ where: ['gpu', 'wasm', 'wasm', 'wasm'], bandCalls: 1 });
  }, 20_000);

  it('--gpu-eigen with forced WebGPU: every reduction on the GPU however slow', async () => {
    expect(await reductions('webgpu', 300)).toEqual({ where: ['gpu', 'gpu', 'gpu', 'gpu'], bandCalls: 4 });
  });
});
