import { describe, expect, it } from 'vitest';
import { GpuRouter, GpuRouters } from './gpu-router.js';

/** Runs `n` eligible matrices of `macs` each; the GPU takes `gpuSeconds(i)` for the i-th it gets. */
function routes(router: GpuRouter, n: number, macs: number, gpuSeconds: (i: number) => number): string {
  let onGpu = 0;
  let out = '';
  for (let i = 0; i < n; i++) {
    if (router.useGpu()) {
      router.gpuTook(macs, gpuSeconds(onGpu++));
      out += 'G';
    } else {
      out += 'c';
    }
  }
  return out;
}

describe('GpuRouter', () => {
  const cpu = 1e10; // 10 G multiply-adds per second
  const macs = 1e11; // 10 s on the CPU

  it('keeps every Gram on a GPU faster than the cores', () => {
    expect(routes(new GpuRouter(cpu), 40, macs, () => 0.5)).toBe('G'.repeat(40));
  });

  it('a GPU slower than the cores gets one matrix in 9, then in 17, 33 and 65', () => {
    const r = routes(new GpuRouter(cpu), 1 + 9 + 17 + 33 + 65 + 1, macs, () => 20);
    expect(r).toBe('G' + 'c'.repeat(8) + 'G' + 'c'.repeat(16) + 'G' + 'c'.repeat(32) + 'G' + 'c'.repeat(64) + 'G' + 'c'.repeat(1));
  });

  it('a GPU that is fast again gets the next matrices and a later slow spell backs off from 8 again', () => {
    // Slow for its first two Grams (queued behind other workers), fast afterwards, slow once more.
    const seconds = [20, 20, 1, 1, 20];
    const r = routes(new GpuRouter(cpu), 1 + 8 + 1 + 16 + 2 + 1 + 8, macs, (i) => seconds[i] ?? 1);
    expect(r).toBe('G' + 'c'.repeat(8) + 'G' + 'c'.repeat(16) + 'GG' + 'G' + 'c'.repeat(8));
  });

  it('a GPU exactly as fast as the cores keeps the Grams (ties go to the GPU, which frees the cores)', () => {
    expect(routes(new GpuRouter(cpu), 5, macs, () => macs / cpu)).toBe('GGGGG');
  });
});

describe('GpuRouters', () => {
  it('routes each shape on its own: small matrices slowed by queueing leave the big ones on the GPU', () => {
    const routers = new GpuRouters(1e10);
    const small = { rows: 1024, cols: 4096, macs: 2e9 }; // 0.2 s on the cores, 1 s queued on the GPU
    const big = { rows: 14336, cols: 4096, macs: 1.2e11 }; // 12 s on the cores, 1.5 s on the GPU
    let out = '';
    for (let layer = 0; layer < 3; layer++)
      for (const [m, gpuSeconds] of [
        [small, 1],
        [big, 1.5],
        [small, 1],
        [big, 1.5],
      ] as const) {
        const r = routers.for(m.rows, m.cols);
        if (r.useGpu()) {
          r.gpuTook(m.macs, gpuSeconds);
          out += m === big ? 'B' : 'S';
        } else out += m === big ? 'b' : 's';
      }
    expect(out).toBe('SBsB' + 'sBsB' + 'sBsB');
    expect(routers.for(1024, 4096)).toBe(routers.for(1024, 4096));
  });
});
