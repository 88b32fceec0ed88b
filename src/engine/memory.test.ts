import { describe, expect, it } from 'vitest';
import { DEFAULT_BLOCK_BYTES, columnSlabWidth, jobMemoryBytes, streamsInColumnSlabs, streamsInRowBlocks } from './memory.js';

const MiB = 1024 * 1024;

describe('jobMemoryBytes', () => {
  it('a 16384×53248 down_proj (3.5 GB as float32) is streamed, not decoded whole: under 2 GB', () => {
    const bytes = jobMemoryBytes(16384, 53248);
    expect(16384 * 53248 * 4).toBeGreaterThan(3.4e9);
    // The packed float64 triangle of order 16384 alone is ≈ 4·16384² = 1.07e9 bytes.
    expect(bytes).toBeGreaterThan(4 * 16384 ** 2 + DEFAULT_BLOCK_BYTES);
    expect(bytes).toBeLessThan(2e9);
  });

  it('the Gram is counted packed (≈ 4k²), not as a full k×k of float64 (8k²)', () => {
    // 8192×8192 is tall and streamed: Gram ≈ 268 MB packed, 537 MB full.
    const bytes = jobMemoryBytes(8192, 8192);
    expect(bytes).toBeGreaterThan(4 * 8192 ** 2);
    expect(bytes).toBeLessThan(4 * 8192 ** 2 + 200 * MiB);
  });

  it('a 128256×4096 embedding and its transpose are streamed in one block or slab of the default size', () => {
    for (const [rows, cols] of [
      [128256, 4096],
      [4096, 128256],
    ] as const) {
      const bytes = jobMemoryBytes(rows, cols);
      expect(bytes, `${rows}×${cols}`).toBeGreaterThan(4 * 4096 ** 2 + DEFAULT_BLOCK_BYTES);
      expect(bytes, `${rows}×${cols}`).toBeLessThan(4 * 4096 ** 2 + DEFAULT_BLOCK_BYTES + 64 * MiB);
    }
  });

  it('the experimental GPU reduction counts its dense float64 Gram (8k² bytes) and its upload chunk', () => {
    for (const [rows, cols] of [
      [4096, 4096],
      [14336, 4096],
      [4096, 14336],
    ]) {
      expect(jobMemoryBytes(rows!, cols!, DEFAULT_BLOCK_BYTES, true) - jobMemoryBytes(rows!, cols!), `${rows}×${cols}`).toBe(8 * 4096 ** 2 + 16 * MiB);
    }
  });

  it('a small matrix is held whole: its decoded bytes are counted', () => {
    expect(jobMemoryBytes(4096, 4096)).toBeGreaterThanOrEqual(4096 * 4096 * 4 + 4 * 4096 ** 2);
    expect(jobMemoryBytes(64, 172)).toBeGreaterThanOrEqual(64 * 172 * 4);
  });

  it('a smaller block lowers what a streamed wide matrix needs, by the slab', () => {
    const big = jobMemoryBytes(1024, 65536);
    const small = jobMemoryBytes(1024, 65536, 8 * MiB);
    expect(big - small).toBe((columnSlabWidth(1024, 65536) - columnSlabWidth(1024, 65536, 8 * MiB)) * 1024 * 4);
    expect(big - small).toBe(56 * MiB);
  });
});

describe('streamsInColumnSlabs', () => {
  it('wide matrices larger than a block, and only those', () => {
    expect(streamsInColumnSlabs(16384, 53248)).toBe(true);
    expect(streamsInColumnSlabs(4096, 14336)).toBe(true); // 235 MB
    expect(streamsInColumnSlabs(4096, 4096)).toBe(false); // square is fed as tall (and fits)
    expect(streamsInColumnSlabs(53248, 16384)).toBe(false); // tall: row blocks
    expect(streamsInRowBlocks(53248, 16384)).toBe(true);
    expect(streamsInColumnSlabs(1024, 4096)).toBe(false); // 16 MB: whole
    expect(streamsInColumnSlabs(1, 1e9)).toBe(false); // a 1-D weight: one row, one singular value
    expect(streamsInColumnSlabs(48, 700, 48 * 700 * 4)).toBe(false); // exactly one block
    expect(streamsInColumnSlabs(48, 700, 48 * 700 * 4 - 1)).toBe(true);
  });

  it('never both ways', () => {
    for (const [r, c] of [
      [2, 3],
      [3, 2],
      [5, 5],
      [100, 1e6],
      [1e6, 100],
    ]) {
      expect(streamsInColumnSlabs(r!, c!, 16) && streamsInRowBlocks(r!, c!, 16)).toBe(false);
      expect(streamsInColumnSlabs(r!, c!, 16) || streamsInRowBlocks(r!, c!, 16)).toBe(true);
    }
  });
});

describe('columnSlabWidth', () => {
  it('as many columns as fit the block', () => {
    expect(columnSlabWidth(48, 700, 30720)).toBe(160); // 30720 / (4·48)
    expect(columnSlabWidth(48, 700, 30720 + 191)).toBe(160);
    expect(columnSlabWidth(16384, 53248)).toBe(1024); // 64 MiB / (4·16384)
  });

  it('rounded down to a multiple of 256 from 256 up', () => {
    expect(columnSlabWidth(100, 10000, 4 * 100 * 300)).toBe(256);
    expect(columnSlabWidth(100, 10000, 4 * 100 * 767)).toBe(512);
    expect(columnSlabWidth(100, 10000, 4 * 100 * 255)).toBe(255);
  });

  it('at least one column, at most all of them', () => {
    expect(columnSlabWidth(1000, 5000, 16)).toBe(1);
    expect(columnSlabWidth(10, 300, 1e9)).toBe(300);
  });
});
