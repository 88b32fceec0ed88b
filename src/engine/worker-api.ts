/**
 * What runs inside each engine worker: read one tensor by byte range, decode it to float32,
 * compute all its singular values, score it. Reading and decoding happen here, not in the page
 * or CLI thread, so the main thread never touches tensor bytes.
 */
import type { ByteSource } from '../core/bytesource.js';
import { bytesPerElement, decodeToFloat32 } from '../core/dtype.js';
import { spectrumScore } from '../core/spectrum.js';
import { type Linalg, KernelError, createLinalg } from './kernels/linalg.js';
import { DEFAULT_BLOCK_BYTES, READ_CHUNK_BYTES, streamsInRowBlocks } from './memory.js';
import { type GpuGram, GpuGramError, createGpuGram } from './webgpu/gram-gpu.js';

/**
 * Below this many multiply-adds the GPU's submit/read-back latency outweighs its speed, so in
 * 'auto' mode small matrices stay on WASM. A forced 'webgpu' backend sends every matrix there.
 */
const GPU_MIN_MACS = 2 ** 27;
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
      return gpu ? 'webgpu' : 'wasm';
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
        if (gpu && k > 1 && (k * k * n) / 2 >= gpuMinMacs) {
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
    const acc = gpu.accumulator(cols);
    try {
      await forEachRowBlock(src, job, blockBytes, (block, n) => acc.addRows(block, n));
      g = await acc.finish();
    } finally {
      acc.dispose();
    }
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
    const acc = linalg.gramAccumulator(cols);
    try {
      await forEachRowBlock(src, job, blockBytes, (block, n) => acc.addRows(block, n));
      return { singularValues: acc.singularValues(), bytesRead: job.byteLength };
    } finally {
      acc.dispose();
    }
  }
  return { singularValues: linalg.singularValues(await readWhole(src, job), rows, cols), bytesRead: job.byteLength };
}

/** Tall matrices in row blocks of at most `blockBytes` decoded, one block in memory at a time. */
async function forEachRowBlock(
  src: ByteSource,
  job: MatrixJob,
  blockBytes: number,
  add: (block: Float32Array, rows: number) => void | Promise<void>,
): Promise<void> {
  const bpe = bytesPerElement(job.dtype);
  const { rows, cols } = job;
  const blockRows = Math.max(1, Math.floor(blockBytes / (cols * 4)));
  for (let r = 0; r < rows; r += blockRows) {
    const n = Math.min(blockRows, rows - r);
    const bytes = await src.read(job.offset + r * cols * bpe, n * cols * bpe);
    await add(decodeToFloat32(job.dtype, bytes), n);
  }
}

/**
 * The whole matrix, read and decoded in chunks straight into one float32 array, so the raw
 * bytes of the whole tensor never sit in memory next to their decoded copy.
 */
async function readWhole(src: ByteSource, job: MatrixJob): Promise<Float32Array> {
  const bpe = bytesPerElement(job.dtype);
  const w = new Float32Array(job.rows * job.cols);
  const chunkElems = Math.max(1, Math.floor(READ_CHUNK_BYTES / bpe));
  for (let e = 0; e < w.length; e += chunkElems) {
    const n = Math.min(chunkElems, w.length - e);
    const bytes = await src.read(job.offset + e * bpe, n * bpe);
    decodeToFloat32(job.dtype, bytes, w.subarray(e, e + n));
  }
  return w;
}
