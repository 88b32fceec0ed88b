/**
 * What runs inside each engine worker: read one tensor by byte range, decode it to float32,
 * compute all its singular values, score it. Reading and decoding happen here, not in the page
 * or CLI thread, so the main thread never touches tensor bytes.
 */
import type { ByteSource } from '../core/bytesource.js';
import { bytesPerElement, decodeToFloat32 } from '../core/dtype.js';
import { spectrumScore } from '../core/spectrum.js';
import { type Linalg, KernelError, createLinalg } from './kernels/linalg.js';
import { DEFAULT_BLOCK_BYTES, READ_CHUNK_BYTES, columnSlabWidth, streamsInColumnSlabs, streamsInRowBlocks } from './memory.js';
import { type GpuGram, GpuGramError, createGpuGram } from './webgpu/gram-gpu.js';

/**
 * Below this many multiply-adds the GPU's submit/read-back latency outweighs its speed, so in
 * 'auto' mode small matrices stay on WASM. A forced 'webgpu' backend sends every matrix there.
 */
const GPU_MIN_MACS = 2 ** 27;
/**
 * The GPU hands back its Gram as a dense k×k Float64Array (eigenvaluesOfGram's input), next to
 * the packed copy the kernel makes of it: above this size that transient alone would break the
 * memory bound, so such matrices stay on WASM, whose Gram is packed and never leaves it.
 */
const GPU_MAX_GRAM_BYTES = 512 * 1024 * 1024;
/** Row segments of a column slab read at once (each a separate read: a Promise in flight). */
const MAX_ROWS_IN_FLIGHT = 256;
import type { BackendName, EngineWorkerApi, MatrixFailure, MatrixJob, MatrixResult, SourceRef } from './types.js';

export function createEngineWorker(openSource: (ref: SourceRef) => Promise<ByteSource>): EngineWorkerApi {
  let linalg: Linalg | null = null;
  let blockBytes = DEFAULT_BLOCK_BYTES;
  let gpu: GpuGram | null = null;
  let gpuMinMacs = GPU_MIN_MACS;

  return {
    async init(options) {
      blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
      linalg ??= await createLinalg({ threads: options.threads ?? 1 });
      const want = options.backend ?? 'auto';
      if (want !== 'wasm' && !gpu && typeof navigator !== 'undefined' && 'gpu' in navigator) {
        // Forced WebGPU accepts a software adapter (headless CI); 'auto' only a real GPU, since
        // a software adapter is slower than WASM. createGpuGram also returns null when the
        // shader compiler breaks the compensated arithmetic (see gram-gpu.wgsl.ts).
        gpu = await createGpuGram(undefined, { allowFallbackAdapter: want === 'webgpu' }).catch(() => null);
        gpuMinMacs = want === 'webgpu' ? 0 : GPU_MIN_MACS;
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
        let out: { singularValues: Float64Array; bytesRead: number } | null = null;
        let backend: BackendName = 'wasm';
        // A wide matrix too large to decode whole stays on WASM: the GPU accumulator only takes
        // row blocks (its wide path wants the whole matrix at once).
        const gpuFits = k * k * 8 <= GPU_MAX_GRAM_BYTES && !streamsInColumnSlabs(job.rows, job.cols, blockBytes);
        if (gpu && k > 1 && (k * k * n) / 2 >= gpuMinMacs && gpuFits) {
          try {
            out = await singularValuesGpu(gpu, linalg, src, job, blockBytes);
            backend = 'webgpu';
          } catch (e) {
            if (!(e instanceof GpuGramError)) throw e;
            if (e.code === 'non-finite') throw new KernelError('non-finite', e.message);
            if (e.code === 'device-lost' || e.code === 'destroyed') {
              gpu.destroy();
              gpu = null;
            }
            // Any other GPU failure: this matrix is recomputed on WASM below.
          }
        }
        out ??= await singularValuesOf(linalg, src, job, blockBytes);
        const details = spectrumScore(out.singularValues, job.rows, job.cols);
        return { id: job.id, singularValues: out.singularValues, details, bytesRead: out.bytesRead, seconds: (performance.now() - t0) / 1000, backend };
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

/** The Gram on the GPU (compensated f32, see webgpu/), the eigenvalues in the WASM kernel (float64). */
async function singularValuesGpu(
  gpu: GpuGram,
  linalg: Linalg,
  src: ByteSource,
  job: MatrixJob,
  blockBytes: number,
): Promise<{ singularValues: Float64Array; bytesRead: number }> {
  const { rows, cols } = job;
  let g: Float64Array;
  if (streamsInRowBlocks(rows, cols, blockBytes)) {
    g = await using(gpu.accumulator(cols), async (acc) => {
      await forEachRowBlock(src, job, blockBytes, (block, n) => acc.addRows(block, n));
      return acc.finish();
    });
  } else {
    g = await gpu.gram(await readWhole(src, job), rows, cols);
  }
  return { singularValues: linalg.eigenvaluesOfGram(g, Math.min(rows, cols)), bytesRead: job.byteLength };
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
async function forEachColumnSlab(src: ByteSource, job: MatrixJob, blockBytes: number, add: (slab: Float32Array, cols: number) => void): Promise<number> {
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
    add(view, n);
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
