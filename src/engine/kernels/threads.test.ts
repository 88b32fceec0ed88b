// createLinalg({ threads }): shared-memory helper threads inside one matrix (linalg.ts,
// assembly/linalg.ts "Threads inside one matrix"). The split never changes the arithmetic,
// so threaded results must equal the single-threaded ones bit for bit (the contract asked
// for is 1e-13 relative; we check both).
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { createLinalg, injectHelperFaultForTesting, KernelError, type Linalg } from './linalg.js';

import { lcgMatrix, manifest, matrixOf } from './test-fixtures.js';

/** Ill-conditioned: column j scaled by 10^(−6 j / cols), so σ spans ~6 decades. */
function gradedMatrix(rows: number, cols: number, seed: number): Float32Array {
  const w = lcgMatrix(rows, cols, seed);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) w[r * cols + c]! *= 10 ** ((-6 * c) / cols);
  return w;
}

/** max_i |a_i − b_i| / |b_i| (elementwise relative; 0/0 counts as 0). */
function maxRel(a: Float64Array, b: Float64Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i]! - b[i]!);
    if (d > 0) m = Math.max(m, d / Math.abs(b[i]!));
  }
  return m;
}

let one: Linalg;
let two: Linalg;
let three: Linalg;
beforeAll(async () => {
  [one, two, three] = await Promise.all([createLinalg(), createLinalg({ threads: 2 }), createLinalg({ threads: 3 })]);
});
afterAll(() => {
  two.dispose();
  three.dispose();
});

describe('threads inside one matrix', () => {
  it('Node grants the threads asked for; the default stays single-threaded', () => {
    expect(one.threads).toBe(1);
    expect(two.threads).toBe(2);
    expect(three.threads).toBe(3);
  });

  it('starting a team clears its start timeout (a pending one kept a CLI or bench process alive 30 s)', async () => {
    const set = vi.spyOn(globalThis, 'setTimeout');
    const clear = vi.spyOn(globalThis, 'clearTimeout');
    try {
      const la = await createLinalg({ threads: 3 });
      expect(la.threads).toBe(3);
      // one 30 s limit per helper start, and every one of them cleared once its helper answered
      const started = set.mock.calls.flatMap((call, i) => (call[1] === 30_000 ? [set.mock.results[i]!.value as unknown] : []));
      expect(started.length).toBe(2);
      const cleared = new Set(clear.mock.calls.map((call) => call[0] as unknown));
      for (const t of started) expect(cleared.has(t)).toBe(true);
      la.dispose();
    } finally {
      set.mockRestore();
      clear.mockRestore();
    }
  });

  // Orders ≥ 384 take the split mat-vec; odd and non-multiple-of-4 orders exercise the edges.
  for (const [rows, cols, kind] of [
    [700, 500, 'tall'],
    [389, 1030, 'wide'],
    [803, 803, 'square'],
    [1031, 385, 'tall, graded'],
    [130, 3001, 'wide, small k'],
    [3, 5, 'tiny'],
  ] as const) {
    it(`${kind} ${rows}×${cols}: 2 and 3 threads give the single-threaded values bit for bit`, () => {
      const w = kind.includes('graded') ? gradedMatrix(rows, cols, rows) : lcgMatrix(rows, cols, rows + cols);
      const ref = one.singularValues(w, rows, cols);
      for (const la of [two, three]) {
        const s = la.singularValues(w, rows, cols);
        expect(maxRel(s, ref)).toBeLessThanOrEqual(1e-13);
        expect(Array.from(s)).toEqual(Array.from(ref));
      }
    });
  }

  it('the two-stage reduction (forced from order 64, band 8 and 32; stage 2 pipelined over the threads) is bit for bit the same with 1, 2, 3 and 5 threads', async () => {
    for (const band of [8, 32]) {
      const twoStage = { band, fromOrder: 64 };
      const las = await Promise.all([1, 2, 3, 5].map((threads) => createLinalg({ threads, twoStage })));
      for (const [rows, cols] of [
        [803, 803],
        [389, 1030],
        [258, 130],
      ] as const) {
        const w = gradedMatrix(rows, cols, rows);
        const ref = las[0]!.singularValues(w, rows, cols);
        for (const la of las.slice(1)) expect(Array.from(la.singularValues(w, rows, cols))).toEqual(Array.from(ref));
      }
      for (const la of las) la.dispose();
    }
  });

  it('streamed row blocks (gramAccumulator) and small staging slabs agree too', async () => {
    const rows = 900;
    const cols = 410;
    const w = lcgMatrix(rows, cols, 7);
    // Block boundaries change the Gram's chunking (hence its rounding): compare like with like.
    const streamed = (la: Linalg): number[] => {
      const acc = la.gramAccumulator(cols);
      for (const [r0, r1] of [
        [0, 1],
        [1, 300],
        [300, 900],
      ] as const)
        acc.addRows(w.subarray(r0 * cols, r1 * cols), r1 - r0);
      const s = Array.from(acc.singularValues());
      acc.dispose();
      return s;
    };
    expect(streamed(two)).toEqual(streamed(one));
    const [slab1, slab2] = await Promise.all([createLinalg({ stagingBytes: 64 << 10 }), createLinalg({ threads: 2, stagingBytes: 64 << 10 })]);
    try {
      expect(Array.from(slab2.singularValues(w, rows, cols))).toEqual(Array.from(slab1.singularValues(w, rows, cols)));
      const t = transpose(w, rows, cols);
      expect(Array.from(slab2.singularValues(t, cols, rows))).toEqual(Array.from(slab1.singularValues(t, cols, rows)));
    } finally {
      slab2.dispose();
    }
  });

  it('eigenvaluesOfGram agrees', () => {
    const k = 450;
    const x = lcgMatrix(k + 20, k, 11);
    const g = new Float64Array(k * k);
    for (let p = 0; p < k + 20; p++) for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) g[r * k + c]! += x[p * k + r]! * x[p * k + c]!;
    expect(Array.from(two.eigenvaluesOfGram(g, k))).toEqual(Array.from(one.eigenvaluesOfGram(g, k)));
  });

  it('meets the LAPACK fixtures with 2 threads (same values as 1 thread)', () => {
    for (const c of manifest.cases) {
      const w = matrixOf(c);
      const s = two.singularValues(w, c.rows, c.cols);
      expect(Array.from(s)).toEqual(Array.from(one.singularValues(w, c.rows, c.cols)));
      let err = 0;
      c.sv.forEach((r, i) => (err = Math.max(err, Math.abs(s[i]! - r))));
      expect(err).toBeLessThanOrEqual(5e-8 * Math.max(c.sv[0]!, Number.MIN_VALUE));
    }
  });

  it('dispose() stops the helpers; the Linalg goes on with one thread, same values', async () => {
    const la = await createLinalg({ threads: 2 });
    const w = lcgMatrix(500, 400, 3);
    const before = la.singularValues(w, 500, 400);
    la.dispose();
    la.dispose();
    expect(la.threads).toBe(1);
    expect(Array.from(la.singularValues(w, 500, 400))).toEqual(Array.from(before));
  });

  it('falls back to one thread without SharedArrayBuffer', async () => {
    vi.stubGlobal('SharedArrayBuffer', undefined);
    try {
      const la = await createLinalg({ threads: 4 });
      expect(la.threads).toBe(1);
      const w = lcgMatrix(60, 50, 5);
      expect(Array.from(la.singularValues(w, 60, 50))).toEqual(Array.from(one.singularValues(w, 60, 50)));
    } finally {
      vi.unstubAllGlobals();
    }
  });
});

/** What fn throws (undefined when it returns). */
function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe('a failing helper thread', () => {
  it('that traps: the call throws thread-failure at once, and the Linalg refuses further work', async () => {
    const la = await createLinalg({ threads: 2 });
    expect(injectHelperFaultForTesting(la, 'trap')).toBe(true);
    const w = lcgMatrix(600, 500, 9);
    const t0 = performance.now();
    expect(() => la.singularValues(w, 600, 500)).toThrow(KernelError);
    expect(performance.now() - t0).toBeLessThan(10_000);
    let code: string | undefined;
    try {
      la.singularValues(w, 600, 500);
    } catch (e) {
      code = (e as KernelError).code;
    }
    expect(code).toBe('thread-failure');
    expect(() => la.gramAccumulator(5).addRows(new Float32Array(5), 1)).toThrow(/helper thread/);
  });

  it('that stops answering: the call throws thread-failure after threadTimeoutMs (no hang)', async () => {
    const la = await createLinalg({ threads: 2, threadTimeoutMs: 200 });
    injectHelperFaultForTesting(la, 'hang');
    const t0 = performance.now();
    const err = thrownBy(() => la.singularValues(lcgMatrix(600, 500, 9), 600, 500));
    expect(err).toBeInstanceOf(KernelError);
    expect((err as KernelError).code).toBe('thread-failure');
    expect(performance.now() - t0).toBeLessThan(10_000);
  });

  it('in stage 2, whose threads wait on each other: a trap or a hang there fails the call with thread-failure, no hang', async () => {
    for (const mode of ['trap', 'hang'] as const) {
      const la = await createLinalg({ threads: 2, threadTimeoutMs: 200, twoStage: { band: 8, fromOrder: 64 } });
      expect(injectHelperFaultForTesting(la, mode, true)).toBe(true);
      const t0 = performance.now();
      const err = thrownBy(() => la.singularValues(lcgMatrix(600, 500, 9), 600, 500));
      expect(err, mode).toBeInstanceOf(KernelError);
      expect((err as KernelError).code, mode).toBe('thread-failure');
      expect((err as KernelError).message, mode).toMatch(mode === 'trap' ? /trapped/ : /stopped answering/);
      expect(performance.now() - t0, mode).toBeLessThan(10_000);
      la.dispose();
    }
  });

  it('single-threaded Linalgs have no helpers to fault', () => {
    expect(injectHelperFaultForTesting(one, 'trap')).toBe(false);
  });
});

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c]!;
  return t;
}
