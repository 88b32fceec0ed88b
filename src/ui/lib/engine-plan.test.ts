import { describe, expect, it } from 'vitest';
import { MAX_THREADS, MAX_WORKERS, parseThreadsParam, planEngine, threadOptions } from './engine-plan.js';

describe('planEngine', () => {
  it('auto, isolated: 2 threads per matrix (4 from 16 cores), workers × threads ≤ cores', () => {
    expect(planEngine(1, true, 'auto')).toEqual({ workers: 1, threads: 1, wanted: 1 });
    expect(planEngine(2, true, 'auto')).toEqual({ workers: 1, threads: 2, wanted: 2 });
    expect(planEngine(3, true, 'auto')).toEqual({ workers: 1, threads: 2, wanted: 2 });
    expect(planEngine(4, true, 'auto')).toEqual({ workers: 2, threads: 2, wanted: 2 });
    expect(planEngine(8, true, 'auto')).toEqual({ workers: 4, threads: 2, wanted: 2 });
    expect(planEngine(16, true, 'auto')).toEqual({ workers: 4, threads: 4, wanted: 4 });
    expect(planEngine(128, true, 'auto')).toEqual({ workers: MAX_WORKERS, threads: 4, wanted: 4 });
    for (let c = 1; c <= 64; c++) {
      const p = planEngine(c, true, 'auto');
      expect(p.workers * p.threads, `${c} cores`).toBeLessThanOrEqual(c);
    }
  });

  it('not isolated: no threads, the pool alone as before (one core left to the page)', () => {
    expect(planEngine(2, false, 'auto')).toEqual({ workers: 1, threads: 1, wanted: 2 });
    expect(planEngine(8, false, 'auto')).toEqual({ workers: 7, threads: 1, wanted: 2 });
    expect(planEngine(8, false, 4)).toEqual({ workers: 7, threads: 1, wanted: 4 });
  });

  it('an explicit choice: 1 is the pool alone; more gives ⌊cores / threads⌋ workers, at least one', () => {
    expect(planEngine(8, true, 1)).toEqual({ workers: 7, threads: 1, wanted: 1 });
    expect(planEngine(8, true, 8)).toEqual({ workers: 1, threads: 8, wanted: 8 });
    expect(planEngine(8, true, 3)).toEqual({ workers: 2, threads: 3, wanted: 3 });
    expect(planEngine(2, true, 4)).toEqual({ workers: 1, threads: 4, wanted: 4 });
    expect(planEngine(4, true, 1000).threads).toBe(MAX_THREADS);
  });

  it('a browser that does not report its cores counts as 2', () => {
    expect(planEngine(0, true, 'auto')).toEqual({ workers: 1, threads: 2, wanted: 2 });
  });
});

describe('?threads=', () => {
  it('takes a positive integer or auto; anything else is auto', () => {
    expect(parseThreadsParam('?threads=2')).toBe(2);
    expect(parseThreadsParam('?backend=wasm&threads=8')).toBe(8);
    expect(parseThreadsParam('?threads=999')).toBe(MAX_THREADS);
    for (const bad of ['', '?threads=', '?threads=0', '?threads=-2', '?threads=1.5', '?threads=two', '?threads=auto'])
      expect(parseThreadsParam(bad), bad).toBe('auto');
  });
});

describe('threadOptions', () => {
  it('powers of two up to the cores, the cores, and the current choice', () => {
    expect(threadOptions(2, 'auto')).toEqual([1, 2]);
    expect(threadOptions(12, 'auto')).toEqual([1, 2, 4, 8, 12]);
    expect(threadOptions(4, 6)).toEqual([1, 2, 4, 6]);
    expect(threadOptions(64, 'auto')).toEqual([1, 2, 4, 8, 16]);
  });
});
