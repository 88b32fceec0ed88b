/** How much memory the engine's jobs take, so that the pool can bound it. */
import { gramBytes } from './kernels/linalg.js';

/**
 * Matrices above this many decoded bytes are never decoded whole: tall ones are streamed in
 * row blocks, wide ones in column slabs, of at most this size, so neither a 128k-vocabulary
 * embedding nor a 16384×53248 down_proj ever sits decoded in memory whole.
 */
export const DEFAULT_BLOCK_BYTES = 64 * 1024 * 1024;
/** Raw (undecoded) bytes read at once: chunks of a whole matrix or row block, or the row segments of a column slab in flight. */
export const READ_CHUNK_BYTES = 16 * 1024 * 1024;
/** The kernels consume a shared dimension in chunks of this many lines (KC in kernels/assembly): slabs of a multiple of it keep the chunks aligned. */
const KERNEL_CHUNK = 256;
/**
 * The kernels' own scratch besides the Gram: an 8 MiB staging buffer (createLinalg's default)
 * and, per unit of k, the packing panels (2 KiB) and the reduction's work (≈2.4 KiB: the
 * two-stage reduction keeps 9 vectors per band column, 9·32·8 bytes, and a strip per thread).
 */
const KERNEL_STAGING_BYTES = 8 * 1024 * 1024;
const KERNEL_WORK_BYTES_PER_K = 5 * 1024;

/**
 * Below this many multiply-adds the GPU's submit/read-back latency outweighs its speed, so in
 * 'auto' mode small matrices stay on WASM. A forced 'webgpu' backend sends every matrix there.
 */
export const GPU_MIN_MACS = 2 ** 27;
/**
 * The GPU keeps the whole k×k Gram (8k² bytes: float32 value and compensation) until it is read
 * back, in 16 MB chunks, straight into the kernel's packed triangle (Linalg.gramSink), so the host
 * holds no dense copy. Above 2 GiB of GPU memory (order 16,384) matrices stay on WASM.
 */
export const GPU_MAX_GRAM_BYTES = 2 ** 31;

/**
 * Whether a worker with a GPU sends this matrix's Gram there: at least `minMacs` multiply-adds
 * (GPU_MIN_MACS in 'auto' mode, 0 when WebGPU is forced) and a Gram within GPU_MAX_GRAM_BYTES on
 * the GPU. Whole matrices, row blocks and column slabs all go (wide matrices such as down_proj
 * were once kept on WASM: on a 16-core H100 machine they then took about half of a whole
 * Llama-3-8B scan's engine time).
 */
export function gpuGramEligible(rows: number, cols: number, minMacs = GPU_MIN_MACS): boolean {
  const k = Math.min(rows, cols);
  const n = Math.max(rows, cols);
  return k > 1 && (k * k * n) / 2 >= minMacs && k * k * 8 <= GPU_MAX_GRAM_BYTES;
}

/**
 * Peak bytes one job needs in its worker: the float64 Gram of order k = min(rows, cols) as the
 * kernels keep it (a packed triangle, ≈ 4k²) and their scratch, plus one row block or column slab
 * (streamed) or the whole decoded matrix, plus the raw bytes being read (or a GPU Gram's read-back
 * chunk, no larger). With `denseGram` (the experimental GPU reduction, which takes the Gram
 * dense: 8k² bytes, and uploads it in 16 MB chunks) that copy is counted too. The pool admits
 * jobs while their sum fits its budget.
 */
export function jobMemoryBytes(rows: number, cols: number, blockBytes = DEFAULT_BLOCK_BYTES, denseGram = false): number {
  const k = Math.min(rows, cols);
  let decoded = rows * cols * 4;
  if (streamsInRowBlocks(rows, cols, blockBytes)) decoded = Math.min(rows, Math.max(1, Math.floor(blockBytes / (cols * 4)))) * cols * 4;
  else if (streamsInColumnSlabs(rows, cols, blockBytes)) decoded = rows * columnSlabWidth(rows, cols, blockBytes) * 4;
  return gramBytes(k) + KERNEL_STAGING_BYTES + KERNEL_WORK_BYTES_PER_K * k + decoded + READ_CHUNK_BYTES + (denseGram ? 8 * k * k + READ_CHUNK_BYTES : 0);
}

/** Whether a matrix is fed to the Gram in row blocks (tall and larger than a block) or whole. */
export function streamsInRowBlocks(rows: number, cols: number, blockBytes = DEFAULT_BLOCK_BYTES): boolean {
  return rows >= cols && rows > 1 && rows * cols * 4 > blockBytes;
}

/** Whether a matrix is fed to the Gram in column slabs (wide and larger than a block). */
export function streamsInColumnSlabs(rows: number, cols: number, blockBytes = DEFAULT_BLOCK_BYTES): boolean {
  return rows < cols && rows > 1 && rows * cols * 4 > blockBytes;
}

/**
 * Columns per slab of a wide matrix: as many as fit `blockBytes` decoded (at least one), rounded
 * down to a multiple of the kernel's chunk when that many fit, so each slab's chunks fall where
 * the whole-matrix path's do. Never more than `cols`.
 */
export function columnSlabWidth(rows: number, cols: number, blockBytes = DEFAULT_BLOCK_BYTES): number {
  let w = Math.max(1, Math.floor(blockBytes / (4 * rows)));
  if (w >= KERNEL_CHUNK) w -= w % KERNEL_CHUNK;
  return Math.min(w, Math.max(1, cols));
}
