/**
 * What runs inside each engine worker: read one tensor by byte range, decode it to float32,
 * compute all its singular values, score it. Reading and decoding happen here, not in the page
 * or CLI thread, so the main thread never touches tensor bytes.
 */
import type { ByteSource } from '../core/bytesource.js';
import { bytesPerElement, decodeToFloat32 } from '../core/dtype.js';
import { spectrumScore, spectrumScoreBatched } from '../core/spectrum.js';
import { type Linalg, KernelError, createLinalg } from './kernels/linalg.js';
import { DEFAULT_BLOCK_BYTES, GPU_MIN_MACS, READ_CHUNK_BYTES, columnSlabWidth, gpuGramEligible, streamsInColumnSlabs, streamsInRowBlocks } from './memory.js';
import { GpuRouters } from './gpu-router.js';
import { BAND_SELF_TEST_TOLERANCE, type GpuBandReduction, bandSelfTest, createGpuBandReduction } from './webgpu/band-gpu.js';
import { type GpuGram, GpuGramError, createGpuGram } from './webgpu/gram-gpu.js';
import type { BackendName, EngineWorkerApi, MatrixFailure, MatrixJob, MatrixResult, SourceRef } from './types.js';

/** Row segments of a column slab read at once (each a separate read: a Promise in flight). */
const MAX_ROWS_IN_FLIGHT = 256;

/** Opens the GPU backend (tests pass their own); null where there is none or it fails its self-test. */
export type OpenGpu = (allowFallbackAdapter: boolean) => Promise<GpuGram | null>;

function openWebGpu(allowFallbackAdapter: boolean): Promise<GpuGram | null> {
  if (typeof navigator === 'undefined' || !('gpu' in navigator)) return Promise.resolve(null);
  // createGpuGram also returns null when the shader compiler breaks the compensated arithmetic
  // (see gram-gpu.wgsl.ts).
  return createGpuGram(undefined, { allowFallbackAdapter }).catch(() => null);
}

/** Opens the experimental GPU band reduction on a GPU backend's device (tests pass their own); null where it cannot. */
export type OpenBand = (gpu: GpuGram, linalg: Linalg) => Promise<GpuBandReduction | null>;

/** This worker's WASM Gram speed in multiply-adds per second, which 'auto' mode weighs GPU times against (tests pass their own). */
export type MeasureCpu = (linalg: Linalg) => number;

export function createEngineWorker(
  openSource: (ref: SourceRef) => Promise<ByteSource>,
  openGpu: OpenGpu = openWebGpu,
  openBandReduction: OpenBand = openBand,
  measureCpu: MeasureCpu = wasmGramMacsPerSecond,
): EngineWorkerApi {
  let linalg: Linalg | null = null;
  let blockBytes = DEFAULT_BLOCK_BYTES;
  let gpu: GpuGram | null = null;
  /** Experimental: the reduction's dense → band stage on the GPU too (init's gpuEigen). */
  let band: GpuBandReduction | null = null;
  let gpuMinMacs = GPU_MIN_MACS;
  /** 'auto' mode: which Grams go to the GPU, by shape (see gpu-router.ts); null when WebGPU is forced. */
  let router: GpuRouters | null = null;
  /** 'auto' mode with `band`: which reductions go to the GPU, by shape. */
  let bandRouter: GpuRouters | null = null;

  return {
    async init(options) {
      blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
      linalg ??= await createLinalg({ threads: options.threads ?? 1 });
      const want = options.backend ?? 'auto';
      if (want !== 'wasm' && !gpu) {
        // Forced WebGPU accepts a software adapter (headless CI); 'auto' only a real GPU, since
        // a software adapter is slower than WASM.
        gpu = await openGpu(want === 'webgpu');
        gpuMinMacs = want === 'webgpu' ? 0 : GPU_MIN_MACS;
        router = gpu && want === 'auto' ? new GpuRouters(measureCpu(linalg)) : null;
      }
      if (gpu && options.gpuEigen && !band) {
        band = await openBandReduction(gpu, linalg);
        // The reduction runs at about the Gram kernel's rate on WASM (both are its 4×4 block).
        bandRouter = band && router ? new GpuRouters(router.cpuMacsPerSecond) : null;
      }
      return { backend: gpu ? 'webgpu' : 'wasm', threads: linalg.threads };
    },

    async compute(job: MatrixJob): Promise<MatrixResult | MatrixFailure> {
      const t0 = performance.now();
      try {
        linalg ??= await createLinalg();
        const src = await openSource(job.source);
        const k = Math.min(job.rows, job.cols);
        const n = Math.max(job.rows, job.cols);
        let out: { singularValues: Float64Array; bytesRead: number; eigenOnGpu?: boolean } | null = null;
        let backend: BackendName = 'wasm';
        if (job.batchShape) return { ...(await batchedSingularValues(linalg, src, job, blockBytes)), seconds: (performance.now() - t0) / 1000, backend };
        const gramRouter = router?.for(job.rows, job.cols);
        if (gpu && gpuGramEligible(job.rows, job.cols, gpuMinMacs) && (gramRouter?.useGpu() ?? true)) {
          try {
            const reductionRouter = bandRouter?.for(job.rows, job.cols);
            out = await singularValuesGpu(gpu, linalg, src, job, blockBytes, {
              gramTook: (seconds) => gramRouter?.gpuTook((k * k * n) / 2, seconds),
              band: band && (reductionRouter?.useGpu() ?? true) ? band : null,
              // A WASM reduction: (2/3)k³ multiply-adds (dense → band) and a little more.
              bandTook: (seconds) => reductionRouter?.gpuTook((2 * k ** 3) / 3, seconds),
            });
            backend = 'webgpu';
          } catch (e) {
            if (!(e instanceof GpuGramError)) throw e;
            if (e.code === 'non-finite') throw new KernelError('non-finite', e.message);
            if (e.code === 'device-lost' || e.code === 'destroyed') {
              gpu.destroy();
              gpu = null;
            }
            // Any other GPU failure (out of GPU memory, a range the GPU Gram refuses): this matrix
            // is recomputed on WASM below, and in 'auto' mode the next ones stay there a while.
            gramRouter?.gpuTook(1, Infinity);
          }
        }
        out ??= await singularValuesOf(linalg, src, job, blockBytes);
        const details = spectrumScore(out.singularValues, job.rows, job.cols);
        const seconds = (performance.now() - t0) / 1000;
        return {
          id: job.id,
          singularValues: out.singularValues,
          details,
          bytesRead: out.bytesRead,
          seconds,
          backend,
          ...(out.eigenOnGpu ? { eigenOnGpu: true } : {}),
        };
      } catch (e) {
        if (e instanceof KernelError) {
          const msg = e.code === 'non-finite' ? 'weights contain NaN or Inf: not scored' : e.message;
          return { id: job.id, error: msg, code: e.code };
        }
        return { id: job.id, error: (e as Error).message ?? String(e), code: 'engine' };
      }
    },
  };
}

/**
 * A weight of more than two dimensions, scored as the reference scores it (spectrumScoreBatched):
 * every rows×cols matrix of the batch in turn, on WASM. A small tensor (a convolution's kernels:
 * Mamba's conv1d is 1,536 matrices of 1×4) is read and decoded at once, not with a read per
 * matrix; a large one (stacked experts) one matrix at a time, each as a 2-D job would be.
 */
async function batchedSingularValues(linalg: Linalg, src: ByteSource, job: MatrixJob, blockBytes: number): Promise<Omit<MatrixResult, 'seconds' | 'backend'>> {
  const batchShape = job.batchShape ?? [];
  const count = batchShape.reduce((a, b) => a * b, 1);
  const { rows, cols } = job;
  const k = Math.min(rows, cols);
  if (count === 0 || k === 0) throw new KernelError('bad-shape', `${job.tensor} is empty ([${[...batchShape, rows, cols].join(', ')}])`);
  const all = new Float64Array(count * k);
  const size = rows * cols;
  if (count * size * 4 <= READ_CHUNK_BYTES) {
    const w = new Float32Array(count * size);
    await readInto(src, job, 0, w);
    for (let i = 0; i < count; i++) all.set(linalg.singularValues(w.subarray(i * size, (i + 1) * size), rows, cols), i * k);
  } else {
    const matrixBytes = job.byteLength / count;
    for (let i = 0; i < count; i++) {
      const one = await singularValuesOf(linalg, src, { ...job, offset: job.offset + i * matrixBytes, byteLength: matrixBytes }, blockBytes);
      all.set(one.singularValues, i * k);
    }
  }
  return { id: job.id, singularValues: all, details: spectrumScoreBatched(all, batchShape, rows, cols), bytesRead: job.byteLength };
}

/** The experimental GPU band reduction, or null where it cannot open or fails its self-test. */
async function openBand(gpu: GpuGram, linalg: Linalg): Promise<GpuBandReduction | null> {
  if (!gpu.device) return null;
  const band = await createGpuBandReduction(gpu.device).catch(() => null);
  if (!band) return null;
  const err = await bandSelfTest(band, linalg).catch(() => Infinity);
  if (err <= BAND_SELF_TEST_TOLERANCE) return band;
  console.warn(`GPU band reduction disabled on ${gpu.info}: its self-test is off by ${err.toExponential(2)} (tolerance ${BAND_SELF_TEST_TOLERANCE})`);
  return null;
}

/** This worker's WASM Gram speed in multiply-adds per second (best of 3 on a 512×512 block: ~10 ms each). */
function wasmGramMacsPerSecond(linalg: Linalg): number {
  const n = 512;
  const block = new Float32Array(n * n);
  for (let i = 0; i < block.length; i++) block[i] = ((i * 2654435761) % 1000) / 1000 - 0.5;
  let best = Infinity;
  for (let rep = 0; rep < 3; rep++) {
    const acc = linalg.gramAccumulator(n);
    const t0 = performance.now();
    acc.addRows(block, n);
    best = Math.min(best, performance.now() - t0);
    acc.dispose();
  }
  return (n * n * n) / 2 / (Math.max(best, 1e-3) / 1000);
}

interface GpuRoute {
  /** Gets the seconds spent waiting for the GPU's Gram, reading the tensor excluded. */
  gramTook: (seconds: number) => void;
  /** Experimental: the reduction's dense → band stage on the GPU too, or null for all of it on WASM. */
  band: GpuBandReduction | null;
  /** Gets the wall seconds of the GPU reduction (Infinity when it failed and WASM redid it). */
  bandTook: (seconds: number) => void;
}

/**
 * The Gram on the GPU (compensated f32, see webgpu/), read back in chunks straight into the WASM
 * kernel's packed triangle, whose eigenvalues it then computes (float64). With `route.band`
 * (experimental), the Gram is read back dense instead and its reduction's dense → band stage runs
 * on the GPU too.
 */
async function singularValuesGpu(
  gpu: GpuGram,
  linalg: Linalg,
  src: ByteSource,
  job: MatrixJob,
  blockBytes: number,
  { gramTook, band, bandTook }: GpuRoute,
): Promise<{ singularValues: Float64Array; bytesRead: number; eigenOnGpu?: boolean }> {
  const { rows, cols } = job;
  let gpuMs = 0;
  const timed = async <T>(p: () => Promise<T>): Promise<T> => {
    const t0 = performance.now();
    try {
      return await p();
    } finally {
      gpuMs += performance.now() - t0;
    }
  };
  const k = Math.min(rows, cols);
  let eigenOnGpu = false;
  const onGpu = async (g: Float64Array) => {
    const t0 = performance.now();
    try {
      const sv = await band!.singularValues(g, k, linalg);
      eigenOnGpu = true;
      bandTook((performance.now() - t0) / 1000);
      return sv;
    } catch (e) {
      // Experimental path: any GPU failure falls back to the WASM reduction of the same Gram.
      console.warn(`GPU band reduction failed (${(e as Error).message}); this matrix's eigenvalues on WASM`);
      bandTook(Infinity);
      return linalg.eigenvaluesOfGram(g, k);
    }
  };
  let bytesRead = job.byteLength; // a column slab's runs of rows also read the gaps between them
  const sink = band ? denseGramSink(new Float64Array(k * k), k, onGpu) : linalg.gramSink(k);
  return using(sink, async (sink) => {
    const put = (i: number, upper: Float64Array) => sink.setUpperRow(i, upper);
    if (streamsInRowBlocks(rows, cols, blockBytes)) {
      await using(gpu.accumulator(cols), async (acc) => {
        await forEachRowBlock(src, job, blockBytes, (block, n) => timed(() => acc.addRows(block, n)));
        await timed(() => acc.finishInto(put));
      });
    } else if (streamsInColumnSlabs(rows, cols, blockBytes)) {
      await using(gpu.accumulator(rows), async (acc) => {
        bytesRead = await forEachColumnSlab(src, job, blockBytes, (slab, n) => timed(() => acc.addColumns(slab, n)));
        await timed(() => acc.finishInto(put));
      });
    } else {
      const w = await readWhole(src, job);
      await timed(() => gpu.gramInto(w, rows, cols, put));
    }
    gramTook(gpuMs / 1000);
    const singularValues = await sink.singularValues();
    return { singularValues, bytesRead, ...(eigenOnGpu ? { eigenOnGpu } : {}) };
  });
}

/** A GramSink-shaped collector of the whole symmetric Gram, finished by `finish`. */
function denseGramSink(g: Float64Array, k: number, finish: (g: Float64Array) => Promise<Float64Array>) {
  return {
    setUpperRow(i: number, upper: Float64Array) {
      for (let t = 0; t < upper.length; t++) {
        g[i * k + i + t] = upper[t]!;
        g[(i + t) * k + i] = upper[t]!;
      }
    },
    singularValues: () => finish(g),
    dispose() {},
  };
}

async function singularValuesOf(
  linalg: Linalg,
  src: ByteSource,
  job: MatrixJob,
  blockBytes: number,
): Promise<{ singularValues: Float64Array; bytesRead: number }> {
  const { rows, cols } = job;
  if (rows === 0 || cols === 0) throw new KernelError('bad-shape', `${job.tensor} is empty (${rows}×${cols})`);
  if (streamsInRowBlocks(rows, cols, blockBytes)) {
    return using(linalg.gramAccumulator(cols), async (acc) => {
      await forEachRowBlock(src, job, blockBytes, (block, n) => acc.addRows(block, n));
      return { singularValues: acc.singularValues(), bytesRead: job.byteLength };
    });
  }
  if (streamsInColumnSlabs(rows, cols, blockBytes)) {
    return using(linalg.columnGramAccumulator(rows), async (acc) => {
      const bytesRead = await forEachColumnSlab(src, job, blockBytes, (slab, n) => acc.addColumns(slab, n));
      return { singularValues: acc.singularValues(), bytesRead };
    });
  }
  return { singularValues: linalg.singularValues(await readWhole(src, job), rows, cols), bytesRead: job.byteLength };
}

/** use(acc), then acc.dispose() however it ends (an accumulator holds WASM or GPU memory). */
async function using<A extends { dispose(): void }, R>(acc: A, use: (acc: A) => Promise<R>): Promise<R> {
  try {
    return await use(acc);
  } finally {
    acc.dispose();
  }
}

/**
 * Tall matrices in row blocks of at most `blockBytes` decoded (at least one row), one block in
 * memory at a time, reused from block to block.
 */
async function forEachRowBlock(
  src: ByteSource,
  job: MatrixJob,
  blockBytes: number,
  add: (block: Float32Array, rows: number) => void | Promise<void>,
): Promise<void> {
  const { rows, cols } = job;
  const blockRows = Math.min(rows, Math.max(1, Math.floor(blockBytes / (cols * 4))));
  const block = new Float32Array(blockRows * cols);
  for (let r = 0; r < rows; r += blockRows) {
    const n = Math.min(blockRows, rows - r);
    const view = block.subarray(0, n * cols);
    await readInto(src, job, r * cols, view);
    await add(view, n);
  }
}

/**
 * Wide matrices in column slabs (all rows, `columnSlabWidth` columns; the last one ragged), one
 * slab in memory at a time. A slab's rows are strided in the file, so each row's segment is read
 * on its own, up to MAX_ROWS_IN_FLIGHT at once (and never more than READ_CHUNK_BYTES of them),
 * except when the gaps between segments are small: then runs of rows are read as one range,
 * since a page's Blob.slice() costs far more than the few extra bytes. Returns the bytes read.
 */
async function forEachColumnSlab(
  src: ByteSource,
  job: MatrixJob,
  blockBytes: number,
  add: (slab: Float32Array, cols: number) => void | Promise<void>,
): Promise<number> {
  const { rows, cols, dtype } = job;
  const bpe = bytesPerElement(dtype);
  const width = columnSlabWidth(rows, cols, blockBytes);
  const slab = new Float32Array(rows * width);
  let bytesRead = 0;
  for (let c0 = 0; c0 < cols; c0 += width) {
    const n = Math.min(width, cols - c0);
    const view = slab.subarray(0, rows * n);
    const segment = (r: number) => view.subarray(r * n, (r + 1) * n);
    if ((cols - n) * 8 <= n) {
      // Gaps of at most 1/8 of a segment: whole runs of rows, each run ≤ READ_CHUNK_BYTES.
      const run = Math.max(1, Math.floor(READ_CHUNK_BYTES / (cols * bpe)));
      for (let r0 = 0; r0 < rows; r0 += run) {
        const m = Math.min(run, rows - r0);
        const bytes = await src.read(job.offset + (r0 * cols + c0) * bpe, ((m - 1) * cols + n) * bpe);
        bytesRead += bytes.length;
        for (let i = 0; i < m; i++) decodeToFloat32(dtype, bytes.subarray(i * cols * bpe, (i * cols + n) * bpe), segment(r0 + i));
      }
    } else {
      const group = Math.max(1, Math.min(MAX_ROWS_IN_FLIGHT, Math.floor(READ_CHUNK_BYTES / (n * bpe))));
      for (let r0 = 0; r0 < rows; r0 += group) {
        const m = Math.min(group, rows - r0);
        await Promise.all(
          Array.from({ length: m }, async (_, i) => {
            const r = r0 + i;
            const bytes = await src.read(job.offset + (r * cols + c0) * bpe, n * bpe);
            bytesRead += bytes.length;
            decodeToFloat32(dtype, bytes, segment(r));
          }),
        );
      }
    }
    await add(view, n); // the slab is refilled next: the GPU must have copied it first
  }
  return bytesRead;
}

/**
 * The whole matrix, read and decoded in chunks straight into one float32 array, so the raw
 * bytes of the whole tensor never sit in memory next to their decoded copy.
 */
async function readWhole(src: ByteSource, job: MatrixJob): Promise<Float32Array> {
  const w = new Float32Array(job.rows * job.cols);
  await readInto(src, job, 0, w);
  return w;
}

/** `out.length` elements of the tensor from element `first`, read in chunks of at most READ_CHUNK_BYTES and decoded into `out`. */
async function readInto(src: ByteSource, job: MatrixJob, first: number, out: Float32Array): Promise<void> {
  const bpe = bytesPerElement(job.dtype);
  const chunkElems = Math.max(1, Math.floor(READ_CHUNK_BYTES / bpe));
  for (let e = 0; e < out.length; e += chunkElems) {
    const n = Math.min(chunkElems, out.length - e);
    const bytes = await src.read(job.offset + (first + e) * bpe, n * bpe);
    decodeToFloat32(job.dtype, bytes, out.subarray(e, e + n));
  }
}
