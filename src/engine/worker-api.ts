/**
 * What runs inside each engine worker: read one tensor by byte range, decode it to float32,
 * compute all its singular values, score it. Reading and decoding happen here, not in the page
 * or CLI thread, so the main thread never touches tensor bytes.
 */
import type { ByteSource } from '../core/bytesource.js';
import { bytesPerElement, decodeToFloat32 } from '../core/dtype.js';
import { spectrumScore } from '../core/spectrum.js';
import { type Linalg, KernelError, createLinalg } from './kernels/linalg.js';
import { DEFAULT_BLOCK_BYTES, READ_CHUNK_BYTES } from './memory.js';
import type { BackendName, EngineWorkerApi, MatrixFailure, MatrixJob, MatrixResult, SourceRef } from './types.js';

export function createEngineWorker(openSource: (ref: SourceRef) => Promise<ByteSource>): EngineWorkerApi {
  let linalg: Linalg | null = null;
  let blockBytes = DEFAULT_BLOCK_BYTES;

  return {
    async init(options) {
      blockBytes = options.blockBytes ?? DEFAULT_BLOCK_BYTES;
      linalg ??= await createLinalg();
      return 'wasm';
    },

    async compute(job: MatrixJob): Promise<MatrixResult | MatrixFailure> {
      const t0 = performance.now();
      try {
        linalg ??= await createLinalg();
        const src = await openSource(job.source);
        const { singularValues, bytesRead } = await singularValuesOf(linalg, src, job, blockBytes);
        const details = spectrumScore(singularValues, job.rows, job.cols);
        return { id: job.id, singularValues, details, bytesRead, seconds: (performance.now() - t0) / 1000, backend: 'wasm' as BackendName };
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

async function singularValuesOf(
  linalg: Linalg,
  src: ByteSource,
  job: MatrixJob,
  blockBytes: number,
): Promise<{ singularValues: Float64Array; bytesRead: number }> {
  const bpe = bytesPerElement(job.dtype);
  const { rows, cols } = job;
  if (rows === 0 || cols === 0) throw new KernelError('bad-shape', `${job.tensor} is empty (${rows}×${cols})`);
  if (rows >= cols && rows > 1 && rows * cols * 4 > blockBytes) {
    const blockRows = Math.max(1, Math.floor(blockBytes / (cols * 4)));
    const acc = linalg.gramAccumulator(cols);
    try {
      for (let r = 0; r < rows; r += blockRows) {
        const n = Math.min(blockRows, rows - r);
        const bytes = await src.read(job.offset + r * cols * bpe, n * cols * bpe);
        acc.addRows(decodeToFloat32(job.dtype, bytes), n);
      }
      return { singularValues: acc.singularValues(), bytesRead: job.byteLength };
    } finally {
      acc.dispose();
    }
  }
  // Whole matrix (wide, or small): read and decode in chunks straight into one float32 array,
  // so the raw bytes of the whole tensor never sit in memory next to their decoded copy.
  const w = new Float32Array(rows * cols);
  const chunkElems = Math.max(1, Math.floor(READ_CHUNK_BYTES / bpe));
  for (let e = 0; e < w.length; e += chunkElems) {
    const n = Math.min(chunkElems, w.length - e);
    const bytes = await src.read(job.offset + e * bpe, n * bpe);
    decodeToFloat32(job.dtype, bytes, w.subarray(e, e + n));
  }
  return { singularValues: linalg.singularValues(w, rows, cols), bytesRead: job.byteLength };
}
