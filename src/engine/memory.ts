/** How much memory the engine's jobs take, so that the pool can bound it. */

/**
 * Tall matrices above this many decoded bytes are streamed in row blocks into the Gram
 * accumulator, so a 128k-vocabulary embedding never sits decoded in memory whole.
 */
export const DEFAULT_BLOCK_BYTES = 64 * 1024 * 1024;
export const READ_CHUNK_BYTES = 16 * 1024 * 1024;

/**
 * Peak bytes one job needs in its worker: the float64 Gram (k×k) plus either one row block
 * (streamed) or the whole decoded matrix. The pool admits jobs while their sum fits its budget.
 */
export function jobMemoryBytes(rows: number, cols: number, blockBytes = DEFAULT_BLOCK_BYTES): number {
  const k = Math.min(rows, cols);
  const streamed = streamsInRowBlocks(rows, cols, blockBytes);
  return k * k * 8 + (streamed ? blockBytes : rows * cols * 4) + READ_CHUNK_BYTES;
}

/** Whether a matrix is fed to the Gram in row blocks (tall and larger than a block) or whole. */
export function streamsInRowBlocks(rows: number, cols: number, blockBytes = DEFAULT_BLOCK_BYTES): boolean {
  return rows >= cols && rows > 1 && rows * cols * 4 > blockBytes;
}
