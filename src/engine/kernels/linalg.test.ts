import { describe, it, expect, beforeAll } from 'vitest';
import { createLinalg, gramBytes, KernelError, measureKernelPeak, packedRowOffset, relaxedSimdSupported, type Linalg } from './linalg.js';
import { LINALG_RELAXED_WASM_BASE64, LINALG_WASM_BASE64 } from './build/linalg-wasm.js';

import { type FixtureCase, lcgMatrix, manifest, matrixOf } from './test-fixtures.js';

function fixture(name: string): FixtureCase {
  const c = manifest.cases.find((x) => x.name === name);
  if (!c) throw new Error(`no fixture ${name}`);
  return c;
}

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = w[r * cols + c]!;
  return t;
}

/** max_i |a_i − b_i| / max(b) (0 when both are all-zero). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const at = (x: ArrayLike<number>, i: number): number => x[i] ?? Number.NaN;
  expect(a.length).toBe(b.length);
  let scale = 0;
  for (let i = 0; i < b.length; i++) scale = Math.max(scale, Math.abs(at(b, i)));
  let err = 0;
  for (let i = 0; i < a.length; i++) err = Math.max(err, Math.abs(at(a, i) - at(b, i)));
  return scale === 0 ? err : err / scale;
}

function expectDescendingNonNegative(s: Float64Array): void {
  for (let i = 0; i < s.length; i++) {
    expect(s[i]).toBeGreaterThanOrEqual(0);
    if (i > 0) expect(s[i]).toBeLessThanOrEqual(s[i - 1]!);
  }
}

// Required accuracy is 1e-5·σmax. Observed (max|Δσ|/σmax): ≤ 4e-15 on full-rank fixtures,
// 7e-12 for cond 1e6, 6.3e-9 for the rank-3 one (its float32-noise singular values ~2e-8
// come out as ~sqrt(ε)·σmax: the Gram-route floor). The guard catches regressions long
// before they matter; singular values above 1e-3·σmax must also be relatively accurate.
const REQUIRED = 1e-5;
const GUARD = 5e-8;
const LARGE_REL = 1e-10;

function expectLargeRelative(s: Float64Array, ref: number[]): void {
  const floor = 1e-3 * ref[0]!;
  ref.forEach((r, i) => {
    if (r > floor) expect(Math.abs(s[i]! - r)).toBeLessThanOrEqual(LARGE_REL * r);
  });
}

let la: Linalg;
beforeAll(async () => {
  la = await createLinalg();
});

describe('singularValues vs LAPACK fixtures', () => {
  for (const c of manifest.cases) {
    it(`${c.name} (${c.rows}×${c.cols})`, () => {
      const s = la.singularValues(matrixOf(c), c.rows, c.cols);
      expect(s).toBeInstanceOf(Float64Array);
      expect(s.length).toBe(Math.min(c.rows, c.cols));
      expectDescendingNonNegative(s);
      const err = relErr(s, c.sv);
      expect(err).toBeLessThanOrEqual(REQUIRED);
      expect(err).toBeLessThanOrEqual(GUARD);
      expectLargeRelative(s, c.sv);
    });
  }

  it('is invariant under transposition (tall and wide code paths agree)', () => {
    for (const name of ['gauss_40x90', 'rank3_50x30', 'cond1e6_60x40', 'lcg_300x500']) {
      const c = fixture(name);
      const t = la.singularValues(transpose(matrixOf(c), c.rows, c.cols), c.cols, c.rows);
      expect(relErr(t, c.sv)).toBeLessThanOrEqual(GUARD);
    }
  });

  it('agrees when the input is staged through tiny slabs', async () => {
    const small = await createLinalg({ stagingBytes: 4096 });
    const c = fixture('lcg_300x500');
    const w = matrixOf(c);
    expect(relErr(small.singularValues(w, 300, 500), c.sv)).toBeLessThanOrEqual(GUARD);
    expect(relErr(small.singularValues(transpose(w, 300, 500), 500, 300), c.sv)).toBeLessThanOrEqual(GUARD);
  });
});

describe('two-stage reduction (dense → band → tridiagonal) vs LAPACK fixtures', () => {
  // The default engine takes this path from order 1536; here it is forced on every fixture
  // with several band widths, including bands wider than the matrix and bands that leave a
  // short last panel.
  for (const [band, fromOrder] of [
    [4, 2],
    [8, 8],
    [12, 16],
    [32, 2],
    [64, 40],
  ] as const) {
    it(`band ${band} from order ${fromOrder}: every fixture within the guard`, async () => {
      const tuned = await createLinalg({ twoStage: { band, fromOrder } });
      for (const c of manifest.cases) {
        const s = tuned.singularValues(matrixOf(c), c.rows, c.cols);
        expectDescendingNonNegative(s);
        expect(relErr(s, c.sv), c.name).toBeLessThanOrEqual(GUARD);
        expectLargeRelative(s, c.sv);
      }
    });
  }

  it('agrees with the one-stage reduction to rounding on the large fixtures', async () => {
    const oneStage = await createLinalg({ twoStage: { band: 32, fromOrder: 1 << 30 } });
    const twoStage = await createLinalg({ twoStage: { band: 32, fromOrder: 512 } });
    for (const name of ['lcg_1100x700', 'lcg_graded_600x1300']) {
      const c = fixture(name);
      const w = matrixOf(c);
      expect(relErr(twoStage.singularValues(w, c.rows, c.cols), oneStage.singularValues(w, c.rows, c.cols)), name).toBeLessThanOrEqual(1e-13);
    }
  });
});

describe('columnGramAccumulator (wide matrices in column slabs)', () => {
  const c = fixture('lcg_300x500');
  const w = matrixOf(c);

  /** Columns [c0, c1) of the row-major rows×cols matrix w, as a rows×(c1−c0) slab. */
  function slab(c0: number, c1: number): Float32Array {
    const out = new Float32Array(c.rows * (c1 - c0));
    for (let r = 0; r < c.rows; r++) out.set(w.subarray(r * c.cols + c0, r * c.cols + c1), r * (c1 - c0));
    return out;
  }

  for (const widths of [[500], [1, 499], [256, 256 - 12], [7, 300, 193], Array(50).fill(10) as number[]]) {
    it(`column slabs ${widths.length > 6 ? `${widths.length}×10` : widths.join('+')} give the reference values`, () => {
      const acc = la.columnGramAccumulator(c.rows);
      let c0 = 0;
      for (const n of widths) {
        acc.addColumns(slab(c0, c0 + n), n);
        c0 += n;
      }
      const s = acc.singularValues();
      acc.dispose();
      expect(s.length).toBe(300);
      expect(relErr(s, c.sv)).toBeLessThanOrEqual(GUARD);
    });
  }

  it('rejects a slab of the wrong size and non-finite values, and ends after singularValues()', () => {
    const acc = la.columnGramAccumulator(3);
    expect(() => acc.addColumns(new Float32Array(4), 2)).toThrow(KernelError);
    acc.addColumns(new Float32Array([3, 0, 0, 4, 0, 0]), 2);
    expect(Array.from(acc.singularValues())).toEqual([4, 3]);
    expect(() => acc.addColumns(new Float32Array(3), 1)).toThrow();
    acc.dispose();
    const bad = la.columnGramAccumulator(2);
    expect(() => bad.addColumns(new Float32Array([1, Number.NaN]), 1)).toThrow(KernelError);
    bad.dispose();
  });
});

describe('gramAccumulator', () => {
  const c = fixture('tall_200x64');
  const w = matrixOf(c);

  for (const blocks of [[200], [1, 199], [64, 64, 64, 8], [7, 7, 7, 179], Array(200).fill(1) as number[]]) {
    it(`row blocks ${blocks.length > 6 ? `${blocks.length}×1` : blocks.join('+')} equal the one-shot result`, () => {
      const oneShot = la.singularValues(w, c.rows, c.cols);
      const acc = la.gramAccumulator(c.cols);
      let r0 = 0;
      for (const n of blocks) {
        acc.addRows(w.slice(r0 * c.cols, (r0 + n) * c.cols), n);
        r0 += n;
      }
      const s = acc.singularValues();
      acc.dispose();
      expect(s.length).toBe(64);
      expect(relErr(s, oneShot)).toBeLessThanOrEqual(1e-13);
      expect(relErr(s, c.sv)).toBeLessThanOrEqual(GUARD);
    });
  }

  it('with fewer rows than columns returns min(rows, cols) values', () => {
    const acc = la.gramAccumulator(c.cols);
    acc.addRows(w.subarray(0, 10 * c.cols), 10);
    const s = acc.singularValues();
    acc.dispose();
    const ref = la.singularValues(w.subarray(0, 10 * c.cols), 10, c.cols);
    expect(s.length).toBe(10);
    expect(relErr(s, ref)).toBeLessThanOrEqual(1e-12);
  });

  it('finishes once, then refuses more rows; refuses use after dispose', () => {
    const acc = la.gramAccumulator(3);
    acc.addRows(new Float32Array([3, 0, 0, 0, 4, 0]), 2);
    const s1 = acc.singularValues();
    expect(Array.from(s1)).toEqual([4, 3, 0].slice(0, 2));
    expect(Array.from(acc.singularValues())).toEqual(Array.from(s1));
    expect(() => acc.addRows(new Float32Array(3), 1)).toThrow();
    acc.dispose();
    acc.dispose();
    expect(() => acc.singularValues()).toThrow();
  });

  it('handles zero columns and zero rows', () => {
    const a0 = la.gramAccumulator(0);
    a0.addRows(new Float32Array(0), 5);
    expect(a0.singularValues().length).toBe(0);
    a0.dispose();
    const a1 = la.gramAccumulator(4);
    expect(a1.singularValues().length).toBe(0);
    a1.dispose();
  });

  it('throws non-finite at the offending block and bad-shape on a short block', () => {
    const acc = la.gramAccumulator(4);
    acc.addRows(new Float32Array([1, 2, 3, 4]), 1);
    expect(() => acc.addRows(new Float32Array(3), 1)).toThrow(KernelError);
    const bad = new Float32Array([1, 2, Number.NaN, 4]);
    try {
      acc.addRows(bad, 1);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(KernelError);
      expect((err as KernelError).code).toBe('non-finite');
    }
    expect(() => acc.singularValues()).toThrow(KernelError);
    acc.dispose();
  });
});

describe('edge cases', () => {
  it('empty matrices give no singular values', () => {
    expect(la.singularValues(new Float32Array(0), 0, 0).length).toBe(0);
    expect(la.singularValues(new Float32Array(0), 0, 7).length).toBe(0);
    expect(la.singularValues(new Float32Array(0), 7, 0).length).toBe(0);
  });

  it('vectors: the single singular value is the float64 2-norm', () => {
    for (const name of ['gauss_1x17', 'gauss_17x1']) {
      const c = fixture(name);
      const w = matrixOf(c);
      let ss = 0;
      for (const x of w) ss += x * x;
      const s = la.singularValues(w, c.rows, c.cols);
      expect(s.length).toBe(1);
      expect(Math.abs(s[0]! - Math.sqrt(ss))).toBeLessThanOrEqual(4e-16 * Math.sqrt(ss));
    }
    const big = lcgMatrix(1, 100_000, 7);
    let ss = 0;
    for (const x of big) ss += x * x;
    expect(la.singularValues(big, 1, 100_000)[0]).toBeCloseTo(Math.sqrt(ss), 10);
    expect(la.singularValues(big, 100_000, 1)[0]).toBeCloseTo(Math.sqrt(ss), 10);
  });

  it('1×1, and exactly orthogonal rows', () => {
    expect(Array.from(la.singularValues(new Float32Array([-3]), 1, 1))).toEqual([3]);
    expect(Array.from(la.singularValues(new Float32Array([0, 2, 0, 5, 0, 0]), 2, 3))).toEqual([5, 2]);
  });

  it('an all-zero matrix has all-zero singular values', () => {
    for (const [r, c] of [
      [8, 5],
      [5, 8],
      [33, 33],
    ] as const) {
      const s = la.singularValues(new Float32Array(r * c), r, c);
      expect(Array.from(s)).toEqual(new Array(Math.min(r, c)).fill(0));
    }
  });

  it('extreme scales stay accurate (no overflow / underflow in the Gram)', () => {
    const c = fixture('lcg_300x500');
    const w = matrixOf(c);
    for (const scale of [2 ** 100, 2 ** -120]) {
      const ws = w.map((x) => x * scale);
      const s = la.singularValues(ws, c.rows, c.cols);
      expect(
        relErr(
          s.map((x) => x / scale),
          c.sv,
        ),
      ).toBeLessThanOrEqual(GUARD);
    }
    // Largest finite float32 everywhere: Gram entries ~1e80, still finite in float64.
    const maxf = new Float32Array(12).fill(3.4028234663852886e38);
    const s = la.singularValues(maxf, 3, 4);
    expect(s[0]! / (3.4028234663852886e38 * Math.sqrt(12))).toBeCloseTo(1, 12);
    expect(s[1]).toBeLessThanOrEqual(1e-7 * s[0]!);
  });

  it('non-finite input throws KernelError("non-finite") on both paths', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (const [r, c] of [
        [6, 9],
        [9, 6],
        [1, 9],
        [9, 1],
      ] as const) {
        const w = lcgMatrix(r, c, 3);
        w[w.length - 1] = bad;
        try {
          la.singularValues(w, r, c);
          expect.unreachable();
        } catch (err) {
          expect(err).toBeInstanceOf(KernelError);
          expect((err as KernelError).code).toBe('non-finite');
        }
      }
    }
    // The instance stays usable after an error.
    const c = fixture('gauss_64x64');
    expect(relErr(la.singularValues(matrixOf(c), 64, 64), c.sv)).toBeLessThanOrEqual(GUARD);
  });

  it('shape mismatches throw KernelError("bad-shape")', () => {
    const cases: [Float32Array, number, number][] = [
      [new Float32Array(5), 2, 3],
      [new Float32Array(6), -2, -3],
      [new Float32Array(6), 2.5, 2.4],
      [new Float32Array(6), Number.NaN, 6],
    ];
    for (const [w, r, c] of cases) {
      try {
        la.singularValues(w, r, c);
        expect.unreachable();
      } catch (err) {
        expect(err).toBeInstanceOf(KernelError);
        expect((err as KernelError).code).toBe('bad-shape');
      }
    }
    expect(() => la.gramAccumulator(-1)).toThrow(KernelError);
  });

  it('repeated calls are deterministic', () => {
    const c = fixture('lcg_300x500');
    const w = matrixOf(c);
    const first = la.singularValues(w, 300, 500);
    for (let i = 0; i < 5; i++) la.singularValues(w, 300, 500);
    expect(Array.from(la.singularValues(w, 300, 500))).toEqual(Array.from(first));
  });
});

describe('WASM allocator', () => {
  it('reuses freed blocks, coalesces, and fails cleanly beyond 4 GiB', async () => {
    const { instance } = await WebAssembly.instantiate(Buffer.from(LINALG_WASM_BASE64, 'base64'), {});
    const ex = instance.exports as unknown as {
      memory: WebAssembly.Memory;
      alloc(n: number): number;
      free(p: number): void;
    };
    const a = ex.alloc(1000) >>> 0;
    const b = ex.alloc(3 << 20) >>> 0;
    const c = ex.alloc(1000) >>> 0;
    expect(a % 16).toBe(0);
    expect(b).toBeGreaterThan(a);
    expect(c).toBeGreaterThan(b);
    const size = ex.memory.buffer.byteLength;
    ex.free(b);
    expect(ex.alloc(2 << 20) >>> 0).toBe(b); // first fit into the hole
    ex.free(b);
    ex.free(a);
    expect(ex.alloc(3 << 20) >>> 0).toBe(a); // a + b coalesced
    ex.free(a);
    ex.free(c);
    for (let i = 0; i < 50; i++) ex.free(ex.alloc(2 << 20));
    expect(ex.memory.buffer.byteLength).toBe(size); // no growth from reuse
    expect(ex.alloc(0xfffffff0) >>> 0).toBe(0); // beyond 4 GiB: 0, no trap
  });
});

describe('eigenvaluesOfGram', () => {
  it('gives the singular values of W from an externally computed WᵀW', async () => {
    const { createLinalg: create } = await import('./linalg.js');
    const la = await create();
    const rows = 37;
    const cols = 11;
    const w = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 1.3) + (i % 7) * 0.1);
    const g = new Float64Array(cols * cols);
    for (let a = 0; a < cols; a++) for (let b = 0; b < cols; b++) for (let r = 0; r < rows; r++) g[a * cols + b]! += w[r * cols + a]! * w[r * cols + b]!;
    const want = la.singularValues(w, rows, cols);
    const got = la.eigenvaluesOfGram(g, cols);
    for (let i = 0; i < cols; i++) expect(Math.abs(got[i]! - want[i]!)).toBeLessThan(1e-12 * want[0]!);
    expect(() => la.eigenvaluesOfGram(new Float64Array(5), 2)).toThrow(/needs 4 values/);
  });
});

describe('bandSingularValues', () => {
  /** A symmetric band of order n, half-bandwidth b (compact rows) and the same matrix dense. */
  function band(n: number, b: number, seed: number): { ab: Float64Array; dense: Float64Array } {
    const ab = new Float64Array(n * (b + 1));
    const dense = new Float64Array(n * n);
    let s = seed;
    for (let i = 0; i < n; i++)
      for (let c = Math.max(0, i - b); c <= i; c++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        const x = c === i ? 2 * b + 1 + s / 2 ** 32 : s / 2 ** 32 - 0.5; // diagonally dominant: positive definite
        ab[i * (b + 1) + c - i + b] = x;
        dense[i * n + c] = x;
        dense[c * n + i] = x;
      }
    return { ab, dense };
  }

  it('matches the dense route (one-stage reduction) for bands of 1, 7, 32 and wider than the matrix', async () => {
    const la = await createLinalg();
    for (const [n, b] of [
      [300, 7],
      [257, 32],
      [40, 60],
      [90, 1],
      [1, 0],
    ] as const) {
      const { ab, dense } = band(n, b, n + b);
      expect(relErr(la.bandSingularValues(ab, n, b), la.eigenvaluesOfGram(dense, n)), `${n}, b ${b}`).toBeLessThan(1e-13);
    }
  });

  it('a tridiagonal Toeplitz band has λ_j = a + 2c·cos(jπ/(n+1))', async () => {
    const la = await createLinalg();
    const n = 64;
    const ab = new Float64Array(n * 2);
    for (let i = 0; i < n; i++) ab.set([i > 0 ? -1 : 0, 3], 2 * i);
    const want = Array.from({ length: n }, (_, j) => Math.sqrt(3 - 2 * Math.cos(((j + 1) * Math.PI) / (n + 1))));
    expect(
      relErr(
        la.bandSingularValues(ab, n, 1),
        want.sort((x, y) => y - x),
      ),
    ).toBeLessThan(1e-14);
  });

  it('refuses a band of the wrong length and non-finite entries', async () => {
    const la = await createLinalg();
    expect(() => la.bandSingularValues(new Float64Array(5), 3, 1)).toThrow(/needs 6 values/);
    expect(() => la.bandSingularValues(Float64Array.from([1, Number.NaN]), 1, 1)).toThrow(KernelError);
  });
});

describe('bandPanelWork (host side of the GPU dense → band stage)', () => {
  const mat = (rows: number, cols: number, f: (r: number, c: number) => number) =>
    Array.from({ length: rows }, (_, r) => Array.from({ length: cols }, (_, c) => f(r, c)));
  const mul = (a: number[][], b: number[][]) => a.map((row) => b[0]!.map((_, c) => row.reduce((acc, x, p) => acc + x * b[p]![c]!, 0)));
  const tr = (a: number[][]) => a[0]!.map((_, c) => a.map((row) => row[c]!));
  const maxDiff = (a: number[][], b: number[][]) => Math.max(...a.flatMap((row, r) => row.map((x, c) => Math.abs(x - b[r]![c]!))));

  for (const [m, b, zeroCol] of [
    [30, 8, -1],
    [5, 8, -1],
    [25, 6, 2],
  ] as const) {
    it(`${m} rows, width ${b}${zeroCol >= 0 ? `, column ${zeroCol} already zero below its diagonal` : ''}: Q = I − V T Vᵀ is orthogonal, QᵀP = [R; 0], and Qᵀ A Q = A − V Wᵀ − W Vᵀ`, async () => {
      const la = await createLinalg();
      const work = la.bandPanelWork(40, b);
      const below = mat(m, b, (r, c) => (c === zeroCol ? (r <= c ? 0.3 : 0) : Math.sin(1.7 * r + 0.9 * c + 0.4)));
      const panel = new Float64Array((b + m) * b);
      below.forEach((row, r) => panel.set(row, (b + r) * b));
      const { v, t, r } = work.factor(panel, m);
      const V = mat(m, b, (i, c) => v[i * b + c]!);
      const T = mat(b, b, (i, c) => t[i * b + c]!);
      const VTVt = mul(mul(V, T), tr(V));
      const Q = mat(m, m, (i, j) => (i === j ? 1 : 0) - VTVt[i]![j]!);
      expect(
        maxDiff(
          mul(tr(Q), Q),
          mat(m, m, (i, j) => (i === j ? 1 : 0)),
        ),
      ).toBeLessThan(1e-14);
      const R0 = mat(m, b, (i, c) => (i < b && i <= c ? r[i * b + c]! : 0));
      expect(maxDiff(mul(Q, R0), below)).toBeLessThan(1e-14);
      const A = mat(m, m, (i, j) => Math.cos(0.3 * (i + j)) + (i === j ? 2 : 0) + 0.1 * Math.sin(i * j));
      const Y = mul(A, V);
      const w = work.update(Float64Array.from(Y.flat()), m);
      const W = mat(m, b, (i, c) => w[i * b + c]!);
      const want = mul(mul(tr(Q), A), Q);
      const VWt = mul(V, tr(W));
      const got = mat(m, m, (i, j) => A[i]![j]! - VWt[i]![j]! - VWt[j]![i]!);
      expect(maxDiff(got, want)).toBeLessThan(1e-13);
      expect(() => work.update(new Float64Array(m * b), m + 1)).toThrow(/after factor/);
      work.dispose();
      expect(() => work.factor(panel, m)).toThrow(/after dispose/);
    });
  }
});

describe('gramSink', () => {
  /** W's Gram (smaller side), both triangles, summed in float64 (float32 products are exact). */
  function gramOf(w: Float32Array, rows: number, cols: number): { g: Float64Array; k: number } {
    const tall = rows >= cols;
    const k = tall ? cols : rows;
    const n = tall ? rows : cols;
    const at = (t: number, i: number) => (tall ? w[t * cols + i]! : w[i * cols + t]!);
    const g = new Float64Array(k * k);
    for (let i = 0; i < k; i++)
      for (let j = i; j < k; j++) {
        let sum = 0;
        for (let t = 0; t < n; t++) sum += at(t, i) * at(t, j);
        g[i * k + j] = g[j * k + i] = sum;
      }
    return { g, k };
  }

  for (const name of ['gauss_90x40', 'gauss_40x90', 'cond1e6_60x40', 'lcg_300x500']) {
    it(`${name}: rows in any order (memory growing in between) give LAPACK's singular values`, () => {
      const c = fixture(name);
      const { g, k } = gramOf(matrixOf(c), c.rows, c.cols);
      const sink = la.gramSink(k);
      const order = Array.from({ length: k }, (_, i) => (i * 7919) % k); // a permutation: k is never a multiple of 7919
      expect(new Set(order).size).toBe(k);
      const spare = la.gramAccumulator(2048); // allocates (and may grow memory) while the sink is open
      for (const i of order) sink.setUpperRow(i, g.slice(i * k + i, (i + 1) * k));
      spare.dispose();
      const s = sink.singularValues();
      expect(relErr(s, c.sv)).toBeLessThanOrEqual(GUARD);
      expectLargeRelative(s, c.sv);
      expect(sink.singularValues()).toBe(s);
      sink.dispose();
    });
  }

  it('refuses a row of the wrong length or index, and use after singularValues or dispose', () => {
    const sink = la.gramSink(3);
    expect(() => sink.setUpperRow(0, new Float64Array(2))).toThrow(/row 0 of a 3×3 Gram takes 3 values/);
    expect(() => sink.setUpperRow(3, new Float64Array(0))).toThrow(KernelError);
    sink.setUpperRow(0, new Float64Array([4, 0, 0]));
    sink.setUpperRow(1, new Float64Array([9, 0]));
    expect(Array.from(sink.singularValues())).toEqual([3, 2, 0]); // row 2 never set: zero
    expect(() => sink.setUpperRow(2, new Float64Array([1]))).toThrow(/after singularValues/);
    const other = la.gramSink(2);
    other.dispose();
    other.dispose();
    expect(() => other.setUpperRow(0, new Float64Array(2))).toThrow(/after dispose/);
    expect(() => other.singularValues()).toThrow(/after dispose/);
    expect(la.gramSink(0).singularValues()).toHaveLength(0);
  });
});

describe('kernel builds', () => {
  it('the relaxed-SIMD probe agrees with validating the relaxed build itself', () => {
    expect(relaxedSimdSupported()).toBe(WebAssembly.validate(Buffer.from(LINALG_RELAXED_WASM_BASE64, 'base64')));
    expect(WebAssembly.validate(Buffer.from(LINALG_WASM_BASE64, 'base64'))).toBe(true);
  });

  it("simd: 'plain' meets the fixtures; 'relaxed' does too where supported, else refuses", async () => {
    const plain = await createLinalg({ simd: 'plain' });
    for (const name of ['lcg_300x500', 'cond1e6_60x40', 'rank3_50x30']) {
      const c = fixture(name);
      expect(relErr(plain.singularValues(matrixOf(c), c.rows, c.cols), c.sv)).toBeLessThanOrEqual(GUARD);
    }
    if (relaxedSimdSupported()) {
      const relaxed = await createLinalg({ simd: 'relaxed' });
      for (const c of manifest.cases) {
        const s = relaxed.singularValues(matrixOf(c), c.rows, c.cols);
        expect(relErr(s, c.sv)).toBeLessThanOrEqual(GUARD);
        expectLargeRelative(s, c.sv);
      }
    } else {
      await expect(createLinalg({ simd: 'relaxed' })).rejects.toThrow(/relaxed SIMD/);
    }
  });

  it('measureKernelPeak times the build createLinalg would pick, and checks its arithmetic', async () => {
    // The rate itself is not asserted (tests never assert a time); measureKernelPeak throws
    // when fmaPeak's sum is not the exact expected one.
    const auto = await measureKernelPeak();
    expect(auto.build).toBe(relaxedSimdSupported() ? 'relaxed' : 'plain');
    const plain = await measureKernelPeak('plain');
    expect(plain.build).toBe('plain');
    for (const p of [auto, plain]) {
      expect(Number.isFinite(p.gflops)).toBe(true);
      expect(p.gflops).toBeGreaterThan(0);
    }
  });
});

describe('blocked tridiagonalisation', () => {
  interface TriExports {
    memory: WebAssembly.Memory;
    alloc(n: number): number;
    setTridiagBlocking(nb: number, nx: number): void;
    tridiagWorkBytes(n: number): number;
    packedBytes(n: number): number;
    tridiagonalize(a: number, n: number, d: number, e: number, tmp: number): void;
    tridiagonalizeBlocked(a: number, n: number, d: number, e: number, work: number): void;
    tqlrat(d: number, e2: number, n: number): number;
  }

  /** Eigenvalues (ascending) of the symmetric matrix `sym` (n×n) via one of the two reductions. */
  async function eig(sym: Float64Array, n: number, blocked: boolean, nb: number, nx: number): Promise<Float64Array> {
    const { instance } = await WebAssembly.instantiate(Buffer.from(LINALG_WASM_BASE64, 'base64'), {});
    const ex = instance.exports as unknown as TriExports;
    ex.setTridiagBlocking(nb, nx);
    const bytes = ex.packedBytes(n) >>> 0;
    expect(bytes).toBe(gramBytes(n));
    const a = ex.alloc(bytes) >>> 0;
    const d = ex.alloc(n * 8) >>> 0;
    const e = ex.alloc(n * 8) >>> 0;
    const work = ex.alloc(Math.max(ex.tridiagWorkBytes(n) >>> 0, n * 32)) >>> 0;
    // The reductions may write the padding (rows ≥ n, entries right of the diagonal) but
    // must not read it: NaN there would poison the result.
    const A = new Float64Array(ex.memory.buffer, a, bytes / 8).fill(Number.NaN);
    for (let r = 0; r < n; r++) for (let c = 0; c <= r; c++) A[packedRowOffset(r) + c] = sym[r * n + c]!;
    if (blocked) ex.tridiagonalizeBlocked(a, n, d, e, work);
    else ex.tridiagonalize(a, n, d, e, work);
    const E = new Float64Array(ex.memory.buffer, e, n);
    for (let i = 0; i < n; i++) E[i] = E[i]! * E[i]!;
    expect(ex.tqlrat(d, e, n)).toBe(0);
    return new Float64Array(ex.memory.buffer, d, n).slice();
  }

  function gramOf(n: number, rank: number, seed: number): Float64Array {
    const x = lcgMatrix(rank, n, seed);
    const g = new Float64Array(n * n);
    for (let p = 0; p < rank; p++) for (let r = 0; r < n; r++) for (let c = 0; c <= r; c++) g[r * n + c]! += x[p * n + r]! * x[p * n + c]!;
    return g;
  }

  for (const [n, rank, nb, nx] of [
    [150, 150, 32, 64],
    [203, 203, 8, 8],
    [131, 40, 16, 16], // rank-deficient: exact-zero reflectors inside panels
    [97, 97, 6, 6],
    [64, 64, 64, 64], // exactly one block: unblocked only
  ] as const) {
    it(`n=${n} rank ${rank}, nb=${nb}, nx=${nx}: same eigenvalues as the unblocked reduction`, async () => {
      const g = gramOf(n, rank, n + rank);
      const ref = await eig(g, n, false, nb, nx);
      const got = await eig(g, n, true, nb, nx);
      expect(relErr(got, ref)).toBeLessThanOrEqual(1e-13);
    });
  }

  it('a diagonal matrix (every reflector is the identity) keeps its diagonal', async () => {
    const n = 77;
    const g = new Float64Array(n * n);
    for (let i = 0; i < n; i++) g[i * n + i] = (i * 37) % n;
    const got = await eig(g, n, true, 8, 8);
    expect(Array.from(got)).toEqual(Array.from({ length: n }, (_, i) => i));
  });
});
