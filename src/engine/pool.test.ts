import type { Remote } from 'comlink';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MEMORY_BUDGET, WorkerPool, memoryBudgetFor } from './pool.js';
import { jobMemoryBytes } from './memory.js';
import type { EngineWorkerApi, MatrixJob, MatrixResult } from './types.js';

const job = (id: number, rows: number, cols: number): MatrixJob => ({
  id,
  source: { name: 'f' },
  tensor: `t${id}`,
  offset: 0,
  byteLength: rows * cols * 4,
  dtype: 'F32',
  rows,
  cols,
});

/** Fake workers: each compute waits a tick; records how many run at once. */
function fakePool(size: number, memoryBudget: number, crashOn = new Set<number>()) {
  let running = 0;
  let maxRunning = 0;
  let spawned = 0;
  const asked: string[] = [];
  const pool = new WorkerPool({
    size,
    memoryBudget,
    spawn: () => {
      spawned++;
      const api = {
        init: (o: { backend?: string }) => {
          asked.push(o.backend ?? 'auto');
          return Promise.resolve({ backend: 'wasm', threads: 1 });
        },
        compute: async (j: MatrixJob) => {
          running++;
          maxRunning = Math.max(maxRunning, running);
          await new Promise((r) => setTimeout(r, 5));
          running--;
          if (crashOn.has(j.id)) throw new Error('worker terminated (out of memory)');
          return { id: j.id } as unknown as MatrixResult;
        },
      };
      return { api: api as unknown as Remote<EngineWorkerApi>, terminate: () => {} };
    },
  });
  return { pool, stats: () => ({ maxRunning, spawned, asked }) };
}

describe('WorkerPool', () => {
  it('runs up to one job per worker', async () => {
    const { pool, stats } = fakePool(3, 1e12);
    await Promise.all(Array.from({ length: 9 }, (_, i) => pool.run(job(i, 10, 10))));
    expect(stats().maxRunning).toBe(3);
  });

  it('keeps the matrices in flight within the memory budget', async () => {
    const big = jobMemoryBytes(4096, 14336);
    const { pool, stats } = fakePool(4, big * 1.5);
    const rs = await Promise.all(Array.from({ length: 6 }, (_, i) => pool.run(job(i, 4096, 14336))));
    expect(rs).toHaveLength(6);
    expect(stats().maxRunning).toBe(1);
  });

  it('runs a job larger than the whole budget alone rather than never', async () => {
    const { pool, stats } = fakePool(2, 1000);
    await Promise.all([pool.run(job(0, 1000, 1000)), pool.run(job(1, 1000, 1000))]);
    expect(stats().maxRunning).toBe(1);
  });

  it('a worker that dies fails only its matrix, and is replaced', async () => {
    const { pool, stats } = fakePool(2, 1e12, new Set([1]));
    const rs = await Promise.all([0, 1, 2, 3].map((i) => pool.run(job(i, 10, 10))));
    expect(rs.map((r) => ('error' in r ? 'failed' : 'ok'))).toEqual(['ok', 'failed', 'ok', 'ok']);
    expect((rs[1] as { error: string }).error).toMatch(/worker failed: worker terminated/);
    expect(stats().spawned).toBe(3);
  });
});

describe('WorkerPool with a GPU', () => {
  it("opens the GPU in every worker in 'auto' mode (each worker's router decides per matrix)", async () => {
    const { pool, stats } = fakePool(3, 1e12);
    await Promise.all([0, 1, 2].map((i) => pool.run(job(i, 10, 10))));
    expect(stats().asked).toEqual(['auto', 'auto', 'auto']);
  });
});

describe('memoryBudgetFor', () => {
  /** The matrices of order 4096 in one layer of Llama-3-8B (q, o, gate, up, down: 99 % of its flops). */
  const llamaLayer = (base: number) =>
    [
      [4096, 4096],
      [4096, 4096],
      [14336, 4096],
      [14336, 4096],
      [4096, 14336],
    ].map(([r, c], i) => job(base + i, r!, c!));

  it('the flat default keeps a 16-core server at 6 matrices at a time on an 8B model; the scaled budget runs all 16', async () => {
    const jobs = [0, 1, 2, 3, 4].flatMap((l) => llamaLayer(10 * l));
    const perMatrix = Math.max(...jobs.map((j) => jobMemoryBytes(j.rows, j.cols)));
    expect(Math.floor(DEFAULT_MEMORY_BUDGET / perMatrix)).toBe(6);
    const flat = fakePool(16, DEFAULT_MEMORY_BUDGET);
    await Promise.all(jobs.map((j) => flat.pool.run(j)));
    expect(flat.stats().maxRunning).toBe(6);
    const scaled = fakePool(16, memoryBudgetFor(16, 128e9));
    await Promise.all(jobs.map((j) => scaled.pool.run(j)));
    expect(scaled.stats().maxRunning).toBe(16);
  });

  it('is at least the flat default, at most a quarter of the machine, and covers a 70B matrix per worker in between', () => {
    expect(memoryBudgetFor(2, 24e9)).toBe(DEFAULT_MEMORY_BUDGET);
    expect(memoryBudgetFor(1, 1e9)).toBe(DEFAULT_MEMORY_BUDGET);
    expect(memoryBudgetFor(64, 16e9)).toBe(4e9);
    const budget = memoryBudgetFor(8, 128e9);
    expect(budget).toBeGreaterThanOrEqual(8 * jobMemoryBytes(8192, 28672));
    expect(budget).toBeLessThan(128e9 / 4);
  });
});

describe('WorkerPool.info', () => {
  it('passes the threads asked for to every worker and reports what the first was granted', async () => {
    const asked: (number | undefined)[] = [];
    const pool = new WorkerPool({
      size: 2,
      threads: 4,
      spawn: () => ({
        api: {
          init: (o: { threads?: number }) => {
            asked.push(o.threads);
            return Promise.resolve({ backend: 'wasm', threads: 1 });
          },
        } as unknown as Remote<EngineWorkerApi>,
        terminate: () => {},
      }),
    });
    expect(await pool.info()).toEqual({ backend: 'wasm', threads: 1 });
    expect(await pool.backend()).toBe('wasm');
    expect(asked).toEqual([4, 4]);
    pool.close();
  });
});

describe('WorkerPool.close', () => {
  it('settles running and queued jobs as cancelled', async () => {
    const pool = new WorkerPool({
      size: 1,
      spawn: () => ({
        api: { init: () => Promise.resolve({ backend: 'wasm', threads: 1 }), compute: () => new Promise(() => {}) } as unknown as Remote<EngineWorkerApi>,
        terminate: () => {},
      }),
    });
    const running = pool.run(job(0, 4, 4));
    const queued = pool.run(job(1, 4, 4));
    await new Promise((r) => setTimeout(r, 10));
    pool.close();
    expect(await running).toMatchObject({ id: 0, code: 'cancelled' });
    expect(await queued).toMatchObject({ id: 1, code: 'cancelled' });
  });
});
