// Spectroscope numerical kernels (AssemblyScript → WASM, SIMD128).
//
// All singular values of a float32 weight matrix W (rows×cols) via the Gram route:
//
//   G = XXᵀ (k×k, k = min(rows, cols), X = W or Wᵀ)   → accumulated in float64
//   G = Q T Qᵀ   (Householder tridiagonalisation, eigenvalues only: Q is never formed)
//                order ≥ 1536: two stages, dense → band (reduceToBand, all matrix–matrix
//                products) → tridiagonal (bulge chasing, band.ts);
//                below: one stage (LAPACK dsytrd-style: panels of read-only mat-vecs + SYR2K)
//   λ(T)         (Pal–Walker–Kahan rational QL, EISPACK tqlrat)
//   σ = sqrt(max(λ, 0)), descending
//
// WHY float64 accumulation: the Gram route squares the condition number. With
// backward-stable eigenvalues the absolute error in λ is ~ c·ε·λmax, hence the error in a
// small σ is ~ sqrt(c·ε)·σmax. In float32 (ε≈6e-8) that is ~1e-3·σmax for k in the
// thousands: useless for the tail of the spectrum. In float64 (ε≈1.1e-16) it is
// ~1e-7·σmax, which is below the float32 rounding noise of the weights themselves.
// Products of two float32 values are exact in float64 (24+24 < 53 bits), so the only
// Gram error is the summation rounding.
//
// Memory: a first-fit allocator with alloc/free over linear memory that grows on demand
// (the module is built with --maximumMemory 65536 pages = 4 GiB). No managed objects
// are ever created, so the AssemblyScript stub runtime is never used.
//
// Conventions: inputs are row-major; pointers are byte addresses. Symmetric matrices (the
// Gram and everything the reduction does to it) are stored as a padded packed lower
// triangle of order kp = ceil4(k) (see rowOff below), so the 4×4 micro-kernel never needs
// edge cases and the Gram takes half of k²·8 bytes.

import { bandCopyIn, bandCopyOut, bandFromNarrow, bandProgress, bandSweeps, bandWorkBytes as bandWorkBytesFor } from './band';
import { axpyN, dotN, hsum, madd } from './vec';
export { panelQR, panelT, panelUpdate } from './panel';

/** Bytes of stage 2's scratch (band.ts) for order n, half-bandwidth b, with the current
 *  thread count. */
export function bandWorkBytes(n: i32, b: i32): usize {
  return bandWorkBytesFor(n, b, max(thrN, 1));
}

// ---------------------------------------------------------------------------------------
// Allocator
// ---------------------------------------------------------------------------------------
// Blocks are [16-byte header | payload], contiguous from heapStart to heapTop.
// Header: u32 payload size (multiple of 16), u32 free flag. Payloads are 16-byte aligned
// (v128 loads on our buffers are then aligned). Few, large blocks live at any time, so a
// linear first-fit walk that coalesces free runs lazily is plenty.

const HDR: usize = 16;
let heapStart: usize = 0;
let heapTop: usize = 0;

function heapInit(): void {
  if (heapStart == 0) {
    heapStart = (__heap_base + 15) & ~(<usize>15);
    heapTop = heapStart;
  }
}

/** Allocates `bytes` (16-byte aligned, NOT zeroed). Returns 0 when memory cannot grow. */
export function alloc(bytes: usize): usize {
  heapInit();
  if (bytes > 0xffff0000) return 0;
  const size: usize = (bytes + 15) & ~(<usize>15);
  let p = heapStart;
  while (p < heapTop) {
    let sz = <usize>load<u32>(p);
    if (load<u32>(p, 4) != 0) {
      // Coalesce the run of free blocks starting here.
      let next = p + HDR + sz;
      while (next < heapTop && load<u32>(next, 4) != 0) {
        sz += HDR + <usize>load<u32>(next);
        next = p + HDR + sz;
      }
      if (next >= heapTop) {
        heapTop = p; // trailing free run: give it back to the top
        break;
      }
      store<u32>(p, <u32>sz);
      if (sz >= size) {
        if (sz - size >= HDR + 64) {
          const q = p + HDR + size;
          store<u32>(q, <u32>(sz - size - HDR));
          store<u32>(q, 1, 4);
          store<u32>(p, <u32>size);
        }
        store<u32>(p, 0, 4);
        return p + HDR;
      }
    }
    p += HDR + <usize>load<u32>(p);
  }
  const end: u64 = <u64>heapTop + <u64>HDR + <u64>size;
  if (end > 0x100000000) return 0;
  const needPages = <i32>((end + 0xffff) >> 16);
  const havePages = memory.size();
  if (needPages > havePages) {
    if (memory.grow(needPages - havePages) < 0) return 0;
  }
  p = heapTop;
  store<u32>(p, <u32>size);
  store<u32>(p, 0, 4);
  heapTop = <usize>end;
  return p + HDR;
}

/** Frees a pointer returned by alloc (0 is ignored). */
export function free(ptr: usize): void {
  if (ptr == 0) return;
  const h = ptr - HDR;
  store<u32>(h, 1, 4);
  if (h + HDR + <usize>load<u32>(h) == heapTop) heapTop = h;
}

/** Frees everything. */
export function reset(): void {
  heapInit();
  heapTop = heapStart;
}

// ---------------------------------------------------------------------------------------
// Gram matrix: G += X Xᵀ, lower triangle (4×4 tiles on the diagonal are computed whole)
// ---------------------------------------------------------------------------------------
// GotoBLAS-style SYRK. The shared dimension (length n) is cut into chunks of KC; each chunk
// of X (k×KC, float32) is converted to float64 and packed into "micro-panels" of 4 rows,
// p-major (4 doubles per p, 32 bytes). Because G = XXᵀ, the same packed buffer serves as
// both the "A" and the "B" operand. Loop order per chunk (syrkRange):
//   column block jb (MCG micro-panels = 256 KB, lives in L2)
//     row micro-panel ig (8 KB, lives in L1)
//       column micro-panels jg ≤ ig in the block → 4×4 micro-kernel
// so G, far larger than any cache, is walked row by row: 4 sequential streams the
// prefetcher follows. (Walking it column by column, as GotoBLAS does for a full C, touched 4
// cache lines on 4 different pages per tile of the packed triangle: 11 % slower at 4096².)
// The micro-kernel keeps a 4×4 tile of G in 8 f64x2 registers: per p it does 2 vector
// loads + 4 splat loads for 8 vector mul+add pairs (Zen3/Intel: 2 mul + 2 add ports → FP
// bound, which is what we want). In the relaxed-SIMD build each mul+add pair is one
// f64x2.relaxed_madd (FMA); the plain build (Safari, Node 20 without the flag) keeps mul+add.
// Measured on a 2.45 GHz EPYC with the operands in L1 (Node 20): 21 GFLOP/s per core in the
// relaxed build, 15 in the plain one. The plain build is bound by the front end rather than
// the FP ports: V8 emits ~31 instructions per p (6 loads, 8 mul, 8 add, plus loop, stack-check
// and address zero-extension overhead). A 2× unrolled loop does not help: binaryen folds the
// two steps into one expression tree whose 12 loads all come first, and V8 spills.

const KC: i32 = 256;
const MCG: i32 = 32;
const PANEL: usize = <usize>KC * 32; // bytes per packed micro-panel

// Storage of every symmetric matrix here (the Gram, the trailing matrix of the reduction):
// the LOWER triangle, row-major, packed with padding. Rows 4g..4g+3 hold 4(g+1) doubles
// each (columns 0..4g+3), so
//   * it takes ≈ n²/2 doubles, half of a full n×n array (the Gram of hidden size 16384 is
//     1.07 GB instead of 2.15 GB),
//   * the four rows of a 4×4 tile are equally spaced ((g+1)·32 bytes) and every row starts
//     32-byte aligned, so the 4×4 micro-kernels work on it unchanged,
//   * the entries right of the diagonal inside a diagonal tile exist (padding the kernels
//     may write, never read).

/** Byte offset of row i in the padded packed lower triangle. */
function rowOff(i: i32): usize {
  const g = <usize>(i >> 2);
  return ((g + 1) * (2 * g + <usize>(i & 3))) << 5; // 4(g+1)(2g+t) doubles
}

/** Bytes of a padded packed lower triangle of order n (rows up to ceil4(n)). */
export function packedBytes(n: i32): usize {
  return rowOff((n + 3) & ~3);
}

/** Byte stride between the four rows of tile row g. */
function tileLd(g: i32): usize {
  return (<usize>(g + 1)) << 5;
}

/** Bytes of the packing buffer needed by gramRows/gramCols for Gram order k. */
export function packBytes(k: i32): usize {
  return PANEL * <usize>((k + 3) >> 2);
}

/** Chunk length of the shared dimension (rows per pass of gramRows). */
export function chunkLength(): i32 {
  return KC;
}

function kernel4x4(a: usize, b: usize, pc: i32, c: usize, ldb: usize): void {
  let c00 = f64x2.splat(0),
    c01 = f64x2.splat(0);
  let c10 = f64x2.splat(0),
    c11 = f64x2.splat(0);
  let c20 = f64x2.splat(0),
    c21 = f64x2.splat(0);
  let c30 = f64x2.splat(0),
    c31 = f64x2.splat(0);
  // One p per iteration: 8 accumulators + 2 B vectors + 4 A splats = 14 of the 16 xmm
  // registers V8 has on x64. (Manual unrolling made binaryen hoist loads and V8 spill.)
  for (let p = 0; p < pc; p++) {
    const b0 = v128.load(b),
      b1 = v128.load(b, 16);
    const a0 = v128.load64_splat(a);
    c00 = madd(a0, b0, c00);
    c01 = madd(a0, b1, c01);
    const a1 = v128.load64_splat(a, 8);
    c10 = madd(a1, b0, c10);
    c11 = madd(a1, b1, c11);
    const a2 = v128.load64_splat(a, 16);
    c20 = madd(a2, b0, c20);
    c21 = madd(a2, b1, c21);
    const a3 = v128.load64_splat(a, 24);
    c30 = madd(a3, b0, c30);
    c31 = madd(a3, b1, c31);
    a += 32;
    b += 32;
  }
  addTile(c, ldb, c00, c01, c10, c11, c20, c21, c30, c31);
}

/** The 4×4 tile at c (rows ld bytes apart) += the accumulators (row t: ct0, ct1). */
function addTile(c: usize, ld: usize, c00: v128, c01: v128, c10: v128, c11: v128, c20: v128, c21: v128, c30: v128, c31: v128): void {
  let r = c;
  v128.store(r, f64x2.add(v128.load(r), c00));
  v128.store(r, f64x2.add(v128.load(r, 16), c01), 16);
  r += ld;
  v128.store(r, f64x2.add(v128.load(r), c10));
  v128.store(r, f64x2.add(v128.load(r, 16), c11), 16);
  r += ld;
  v128.store(r, f64x2.add(v128.load(r), c20));
  v128.store(r, f64x2.add(v128.load(r, 16), c21), 16);
  r += ld;
  v128.store(r, f64x2.add(v128.load(r), c30));
  v128.store(r, f64x2.add(v128.load(r, 16), c31), 16);
}

/** Lower-triangle 4×4 tiles of C (padded packed) += A·Bᵀ, A and B packed in 4-row
 *  micro-panels of pc p-slots (pb bytes apart), for the row micro-panels [g0, g1): C is
 *  walked row by row (4 rows, tiles left to right) within column blocks of nc micro-panels
 *  of B (kept in L2). Every tile is one whole kernel4x4 call whatever the range, so splitting
 *  the rows between threads leaves each result bit for bit the same. Serves the Gram (long
 *  shared dimension, chunks of KC) and the rank-2b updates of the reductions (pc = 2b). */
function syrkRange(ap0: usize, bp0: usize, pb: usize, pc: i32, c: usize, g0: i32, g1: i32, nc: i32): void {
  for (let jb = 0; jb < g1; jb += nc) {
    const je = jb + nc;
    for (let ig = max(g0, jb); ig < g1; ig++) {
      const ap = ap0 + pb * <usize>ig;
      const cr = c + rowOff(ig << 2);
      const ld = tileLd(ig);
      const jEnd = min(je, ig + 1);
      for (let jg = jb; jg < jEnd; jg++) kernel4x4(ap, bp0 + pb * <usize>jg, pc, cr + ((<usize>jg) << 5), ld);
    }
  }
}

/** Packs rows p0..p0+pc of a row-major float32 block B (stride k): X[a][p] = B[p][a],
 *  micro-panels [q0, q1) only. */
function packRows(bp: usize, k: i32, p0: i32, pc: i32, pk: usize, q0: i32, q1: i32): void {
  const full = min(k >> 2, q1);
  const rem = q1 > k >> 2 ? k & 3 : 0;
  for (let p = 0; p < pc; p++) {
    const src = bp + ((<usize>(p0 + p) * <usize>k) << 2);
    let dst = pk + PANEL * <usize>q0 + ((<usize>p) << 5);
    for (let gi = q0; gi < full; gi++) {
      const v = v128.load(src + ((<usize>gi) << 4));
      v128.store(dst, f64x2.promote_low_f32x4(v));
      v128.store(dst, f64x2.promote_low_f32x4(v128.shuffle<f32>(v, v, 2, 3, 2, 3)), 16);
      dst += PANEL;
    }
    if (rem != 0) {
      const s = src + ((<usize>(k >> 2)) << 4);
      dst = pk + PANEL * <usize>(k >> 2) + ((<usize>p) << 5);
      for (let t = 0; t < 4; t++) {
        store<f64>(dst + ((<usize>t) << 3), t < rem ? <f64>load<f32>(s + ((<usize>t) << 2)) : 0.0);
      }
    }
  }
}

/** Packs columns p0..p0+pc of a row-major float32 matrix X (k rows, stride s),
 *  micro-panels [q0, q1) only. */
function packCols(xp: usize, k: i32, s: i32, p0: i32, pc: i32, pk: usize, q0: i32, q1: i32): void {
  for (let gi = q0; gi < q1; gi++) {
    for (let t = 0; t < 4; t++) {
      const a = (gi << 2) + t;
      let dst = pk + PANEL * <usize>gi + ((<usize>t) << 3);
      if (a < k) {
        let src = xp + ((<usize>a * <usize>s + <usize>p0) << 2);
        for (let p = 0; p < pc; p++) {
          store<f64>(dst, <f64>load<f32>(src));
          src += 4;
          dst += 32;
        }
      } else {
        for (let p = 0; p < pc; p++) {
          store<f64>(dst, 0.0);
          dst += 32;
        }
      }
    }
  }
}

/**
 * G += BᵀB for a row block B (r rows × k cols, float32, row-major, contiguous).
 * G: float64, padded packed lower triangle of order k (packedBytes(k) bytes).
 * pk: packing buffer of packBytes(k) bytes. Used for tall W (rows >= cols), streamed.
 */
export function gramRows(b: usize, r: i32, k: i32, g: usize, pk: usize): void {
  for (let p0 = 0; p0 < r; p0 += KC) {
    const pc = min(KC, r - p0);
    const args = argBase();
    store<u32>(args, <u32>b);
    store<i32>(args, k, 4);
    store<i32>(args, p0, 8);
    store<i32>(args, pc, 12);
    store<u32>(args, <u32>pk, 16);
    if (!run(JOB_PACK_ROWS)) return;
    if (!syrkChunk(pk, k, pc, g)) return;
  }
}

/** G += the chunk packed in pk (length pc), rows split between the threads. */
function syrkChunk(pk: usize, k: i32, pc: i32, g: usize): bool {
  const args = argBase();
  store<u32>(args, <u32>pk);
  store<u32>(args, <u32>pk, 4);
  store<u32>(args, <u32>PANEL, 8);
  store<i32>(args, pc, 12);
  store<u32>(args, <u32>g, 16);
  store<i32>(args, (k + 3) >> 2, 24);
  store<i32>(args, MCG, 28);
  store<i32>(args, 0, 32);
  return run(JOB_SYRK);
}

/**
 * G += XXᵀ for X (k rows × n cols, float32, row stride s >= n). Used for wide W
 * (rows < cols), possibly streamed in column chunks.
 */
export function gramCols(x: usize, k: i32, n: i32, s: i32, g: usize, pk: usize): void {
  for (let p0 = 0; p0 < n; p0 += KC) {
    const pc = min(KC, n - p0);
    const args = argBase();
    store<u32>(args, <u32>x);
    store<i32>(args, k, 4);
    store<i32>(args, s, 8);
    store<i32>(args, p0, 12);
    store<i32>(args, pc, 16);
    store<u32>(args, <u32>pk, 20);
    if (!run(JOB_PACK_COLS)) return;
    if (!syrkChunk(pk, k, pc, g)) return;
  }
}

/** 1 when every diagonal entry of G is finite. A finite float32 input can never overflow
 *  the float64 Gram (n·(3.4e38)² ≪ 1.8e308), and any NaN/Inf input reaches the diagonal
 *  of its own row/column (Σx²), so this O(k) test detects non-finite input exactly. */
export function diagFinite(g: usize, k: i32): i32 {
  for (let i = 0; i < k; i++) {
    if (!isFinite<f64>(load<f64>(g + rowOff(i) + ((<usize>i) << 3)))) return 0;
  }
  return 1;
}

/** Benchmarks only (`npm run bench`): `rounds` rounds of 12 independent f64x2 multiply-adds
 *  (the FMA of the relaxed build, mul + add in the plain one), 48 flops per round. Twelve
 *  chains hide the latency (4 cycles × 2 pipes on current x64), so this is the arithmetic
 *  ceiling of this build on one core, against which the kernels' rates are read. Returns a
 *  value that depends on every chain, so that nothing is optimised away. */
export function fmaPeak(rounds: i32, x: f64): f64 {
  const a = f64x2.splat(x);
  const b = f64x2.splat(1.0 - x);
  let c0 = f64x2.splat(0),
    c1 = f64x2.splat(1),
    c2 = f64x2.splat(2),
    c3 = f64x2.splat(3);
  let c4 = f64x2.splat(4),
    c5 = f64x2.splat(5),
    c6 = f64x2.splat(6),
    c7 = f64x2.splat(7);
  let c8 = f64x2.splat(8),
    c9 = f64x2.splat(9),
    c10 = f64x2.splat(10),
    c11 = f64x2.splat(11);
  for (let i = 0; i < rounds; i++) {
    c0 = madd(a, b, c0);
    c1 = madd(a, b, c1);
    c2 = madd(a, b, c2);
    c3 = madd(a, b, c3);
    c4 = madd(a, b, c4);
    c5 = madd(a, b, c5);
    c6 = madd(a, b, c6);
    c7 = madd(a, b, c7);
    c8 = madd(a, b, c8);
    c9 = madd(a, b, c9);
    c10 = madd(a, b, c10);
    c11 = madd(a, b, c11);
  }
  const s = f64x2.add(f64x2.add(f64x2.add(c0, c1), f64x2.add(c2, c3)), f64x2.add(f64x2.add(c4, c5), f64x2.add(c6, c7)));
  return hsum(f64x2.add(s, f64x2.add(f64x2.add(c8, c9), f64x2.add(c10, c11))));
}

/** Zeroes n float64 values. */
export function zeroF64(p: usize, n: usize): void {
  memory.fill(p, 0, n << 3);
}

// ---------------------------------------------------------------------------------------
// Householder tridiagonalisation (eigenvalues only)
// ---------------------------------------------------------------------------------------
// Works on the LOWER triangle stored row-major, from the last row upwards (EISPACK tred1
// order): step i takes row i, elements 0..i-1 — contiguous in memory — as the Householder
// vector, annihilating all but A[i][i-1]. The leading i×i block is then updated
//   p = τ A v,  q = p − (τ/2)(pᵀv) v,  A ← A − v qᵀ − q vᵀ.
// Reading row r of the lower triangle gives both the dot product for p[r] and the axpy for
// p[0..r-1], so the symmetric mat-vec touches each stored element once, with unit stride.
//
// The rank-2 update of step i and the mat-vec of step i−1 are FUSED into one sweep: row
// i−1 is updated first (it holds the next Householder vector), then each row r < i−1 is
// updated and immediately used for the next mat-vec while it is in L1. The trailing
// matrix is thus streamed through memory once per step instead of twice (this phase is
// memory-bound once the trailing triangle outgrows the L3 cache: ~9 GB/s here).
// This routine now only finishes the last (cache-resident) rows of tridiagonalizeBlocked
// below, and serves as its reference in the tests.

/** row[0..len] −= u[r] w[c] + w[r] u[c] (row r of the pending rank-2 update, len = r). */
function updateRow(row: usize, len: i32, u: usize, w: usize, ur: f64, wr: f64): void {
  const urv = f64x2.splat(ur),
    wrv = f64x2.splat(wr);
  let c = 0;
  for (; c + 1 <= len; c += 2) {
    const o = (<usize>c) << 3;
    const x = f64x2.sub(v128.load(row + o), f64x2.add(f64x2.mul(urv, v128.load(w + o)), f64x2.mul(wrv, v128.load(u + o))));
    v128.store(row + o, x);
  }
  for (; c <= len; c++) {
    const o = (<usize>c) << 3;
    store<f64>(row + o, load<f64>(row + o) - (ur * load<f64>(w + o) + wr * load<f64>(u + o)));
  }
}

let reflectorBeta: f64 = 0.0; // reflector()'s second result

/** LAPACK dlarfg on x[0..len), keeping the last entry: H = I − τ v vᵀ with H x = β e_{len−1}.
 *  Writes v[0..len−1) to dst (dst may be x; v[len−1] = 1 is the caller's), returns τ (0 when
 *  there is nothing to annihilate: H = I) and leaves β in reflectorBeta (x[len−1] when τ = 0). */
function reflector(x: usize, len: i32, dst: usize): f64 {
  const alpha = load<f64>(x + ((<usize>(len - 1)) << 3));
  const xn2 = dotN(x, x, len - 1);
  reflectorBeta = alpha;
  if (!(xn2 > 0.0)) return 0.0;
  const beta = -copysign<f64>(sqrt<f64>(alpha * alpha + xn2), alpha);
  const scal = 1.0 / (alpha - beta);
  for (let c = 0; c < len - 1; c++) {
    const o = (<usize>c) << 3;
    store<f64>(dst + o, load<f64>(x + o) * scal);
  }
  reflectorBeta = beta;
  return (beta - alpha) / beta;
}

/** p[0..m) += A_m v (A_m = leading m×m block, lower triangle); optionally first applying
 *  the pending update A_m −= u wᵀ + w uᵀ to each row just before reading it. */
function sweep(a: usize, m: i32, u: usize, w: usize, v: usize, p: usize, upd: bool): void {
  for (let r = 0; r < m; r++) {
    const row = a + rowOff(r);
    const ro = (<usize>r) << 3;
    const ur = upd ? load<f64>(u + ro) : 0.0;
    const wr = upd ? load<f64>(w + ro) : 0.0;
    const vr = load<f64>(v + ro);
    const urv = f64x2.splat(ur),
      wrv = f64x2.splat(wr),
      vrv = f64x2.splat(vr);
    let s0 = f64x2.splat(0),
      s1 = f64x2.splat(0);
    let c = 0;
    if (upd) {
      for (; c + 3 < r; c += 4) {
        const o = (<usize>c) << 3;
        const x0 = f64x2.sub(v128.load(row + o), f64x2.add(f64x2.mul(urv, v128.load(w + o)), f64x2.mul(wrv, v128.load(u + o))));
        const x1 = f64x2.sub(v128.load(row + o, 16), f64x2.add(f64x2.mul(urv, v128.load(w + o, 16)), f64x2.mul(wrv, v128.load(u + o, 16))));
        v128.store(row + o, x0);
        v128.store(row + o, x1, 16);
        s0 = f64x2.add(s0, f64x2.mul(x0, v128.load(v + o)));
        s1 = f64x2.add(s1, f64x2.mul(x1, v128.load(v + o, 16)));
        v128.store(p + o, f64x2.add(v128.load(p + o), f64x2.mul(x0, vrv)));
        v128.store(p + o, f64x2.add(v128.load(p + o, 16), f64x2.mul(x1, vrv)), 16);
      }
    } else {
      for (; c + 3 < r; c += 4) {
        const o = (<usize>c) << 3;
        const x0 = v128.load(row + o);
        const x1 = v128.load(row + o, 16);
        s0 = f64x2.add(s0, f64x2.mul(x0, v128.load(v + o)));
        s1 = f64x2.add(s1, f64x2.mul(x1, v128.load(v + o, 16)));
        v128.store(p + o, f64x2.add(v128.load(p + o), f64x2.mul(x0, vrv)));
        v128.store(p + o, f64x2.add(v128.load(p + o, 16), f64x2.mul(x1, vrv)), 16);
      }
    }
    let s = hsum(f64x2.add(s0, s1));
    for (; c < r; c++) {
      const o = (<usize>c) << 3;
      let x = load<f64>(row + o);
      if (upd) {
        x -= ur * load<f64>(w + o) + wr * load<f64>(u + o);
        store<f64>(row + o, x);
      }
      s += x * load<f64>(v + o);
      store<f64>(p + o, load<f64>(p + o) + x * vr);
    }
    let x = load<f64>(row + ro);
    if (upd) {
      x -= 2.0 * ur * wr;
      store<f64>(row + ro, x);
    }
    store<f64>(p + ro, load<f64>(p + ro) + s + x * vr);
  }
}

/**
 * Reduces the symmetric matrix (padded packed lower triangle a of order n; destroyed)
 * to tridiagonal form: diagonal d[0..n), sub-diagonal e[i] couples i−1 and i (e[0] = 0).
 * tmp: 4·n float64 of scratch.
 */
export function tridiagonalize(a: usize, n: i32, d: usize, e: usize, tmp: usize): void {
  if (n <= 0) return;
  const nb = (<usize>n) << 3;
  let u = tmp,
    w = tmp + nb,
    v = tmp + 2 * nb,
    p = tmp + 3 * nb;
  let pending = false; // a rank-2 update (u, w) of the leading block is still to be applied
  store<f64>(e, 0.0);
  for (let i = n - 1; i >= 1; i--) {
    const row = a + rowOff(i);
    const io = (<usize>i) << 3;
    if (pending) updateRow(row, i, u, w, load<f64>(u + io), load<f64>(w + io));
    store<f64>(d + io, load<f64>(row + io));

    // Householder reflector H = I − τ v vᵀ with H x = β e_{i−1}, x = row[0..i).
    const tau = reflector(row, i, v);
    store<f64>(v + io - 8, 1.0);
    store<f64>(e + io, reflectorBeta);

    if (tau != 0.0) {
      memory.fill(p, 0, (<usize>i) << 3);
      sweep(a, i, u, w, v, p, pending);
      // p ← τ p;  q = p − (τ/2)(pᵀv) v  (stored in p)
      let dot = 0.0;
      for (let c = 0; c < i; c++) {
        const o = (<usize>c) << 3;
        dot += load<f64>(p + o) * load<f64>(v + o);
      }
      const kk = 0.5 * tau * tau * dot;
      for (let c = 0; c < i; c++) {
        const o = (<usize>c) << 3;
        store<f64>(p + o, tau * load<f64>(p + o) - kk * load<f64>(v + o));
      }
      // The new pending update is (v, q): swap buffers.
      let t = u;
      u = v;
      v = t;
      t = w;
      w = p;
      p = t;
      pending = true;
    } else {
      if (pending) {
        for (let r = 0; r < i; r++) {
          const ro = (<usize>r) << 3;
          updateRow(a + rowOff(r), r, u, w, load<f64>(u + ro), load<f64>(w + ro));
        }
      }
      pending = false;
    }
  }
  store<f64>(d, load<f64>(a));
}

// ---------------------------------------------------------------------------------------
// Blocked Householder tridiagonalisation (LAPACK dsytrd/dlatrd, UPLO = 'U' in column-major
// terms, which is exactly our row-major lower triangle: "column j above the diagonal" is
// our row j, elements 0..j−1, contiguous).
// ---------------------------------------------------------------------------------------
// The unblocked sweep above streams the whole trailing triangle through memory twice per
// step (read + write), so for n in the thousands it runs at DRAM speed (~2 GFLOP/s). Here
// the steps are grouped in panels of NB rows (i = top … m, m = top − NB + 1):
//   * inside the panel the trailing block is NOT updated; step i only
//       - applies the panel's earlier transformations to its own row i:
//           A[i][0..i] −= Σ_j (v_j[i] w_j + w_j[i] v_j),
//       - builds its reflector v_i (stored in place in row i, v_i[i−1] = 1, like LAPACK),
//       - computes y = A v_i with a READ-ONLY symmetric mat-vec of the original leading
//         i×i block, corrected by the panel's pending rank-2 terms:
//           y −= Σ_j (v_j (w_jᵀ v_i) + w_j (v_jᵀ v_i)),
//       - w_i = τ y − (τ²/2)(yᵀ v_i) v_i;
//   * after the panel the leading m×m block takes the whole rank-2·NB update at once,
//       A −= V Wᵀ + W Vᵀ,
//     as a matrix–matrix product (SYR2K) with the same packed 4×4 SIMD micro-kernel and
//     cache blocking as the Gram.
// Half of the flops (the mat-vecs) stay memory-bound but read each element once per step
// instead of reading and writing it; the other half run at matrix-product speed. The last
// NX rows (a block that fits in cache) use the unblocked routine. Results agree with the
// unblocked reduction to rounding (same reflectors, same arithmetic up to summation order).

let triNb: i32 = 32; // panel width
let triNx: i32 = 128; // order below which the unblocked routine finishes the job

/** Tuning hook (benchmarks): panel width nb (even, 4..64) and crossover order nx (>= nb).
 *  Call before tridiagWorkBytes/eigWorkBytes. */
export function setTridiagBlocking(nb: i32, nx: i32): void {
  triNb = min(64, max(4, nb & ~1));
  triNx = max(nx, triNb);
}

/** Bytes of scratch needed by tridiagonalizeBlocked for order n. */
export function tridiagWorkBytes(n: i32): usize {
  const np = <usize>((n + 3) & ~3);
  const nb = <usize>triNb;
  // unblocked tail 4·np | W: nb·np | two packed panels 2·(2nb·np) | y: np
  // | mat-vec parts 1.. : (SYMV_PARTS − 1)·np   (float64)
  return (5 * np + 5 * nb * np + <usize>(SYMV_PARTS - 1) * np) << 3;
}

/** p += (rows r0..r1 of A) v, both ways: p[r] += A[r][0..r]·v[0..r] and p[0..r) +=
 *  A[r][0..r)·v[r] (lower triangle rows, read only; rBegin even). Two rows at a time, so each p
 *  element is loaded and stored once per pair of rows. */
function symvRows(a: usize, rBegin: i32, rEnd: i32, v: usize, p: usize): void {
  let r = rBegin;
  for (; r + 1 < rEnd; r += 2) {
    const r0 = a + rowOff(r);
    const r1 = r0 + tileLd(r >> 2); // r even: rows r, r+1 are in the same tile row
    const ro = (<usize>r) << 3;
    const vr0 = load<f64>(v + ro),
      vr1 = load<f64>(v + ro, 8);
    const v0 = f64x2.splat(vr0),
      v1 = f64x2.splat(vr1);
    let s00 = f64x2.splat(0),
      s01 = f64x2.splat(0),
      s10 = f64x2.splat(0),
      s11 = f64x2.splat(0);
    let c = 0;
    for (; c + 3 < r; c += 4) {
      const o = (<usize>c) << 3;
      const x00 = v128.load(r0 + o),
        x01 = v128.load(r0 + o, 16);
      const x10 = v128.load(r1 + o),
        x11 = v128.load(r1 + o, 16);
      const va = v128.load(v + o),
        vb = v128.load(v + o, 16);
      s00 = madd(x00, va, s00);
      s01 = madd(x01, vb, s01);
      s10 = madd(x10, va, s10);
      s11 = madd(x11, vb, s11);
      v128.store(p + o, madd(x10, v1, madd(x00, v0, v128.load(p + o))));
      v128.store(p + o, madd(x11, v1, madd(x01, v0, v128.load(p + o, 16))), 16);
    }
    let t0 = hsum(f64x2.add(s00, s01)),
      t1 = hsum(f64x2.add(s10, s11));
    for (; c < r; c++) {
      const o = (<usize>c) << 3;
      const x0 = load<f64>(r0 + o),
        x1 = load<f64>(r1 + o),
        vc = load<f64>(v + o);
      t0 += x0 * vc;
      t1 += x1 * vc;
      store<f64>(p + o, load<f64>(p + o) + (x0 * vr0 + x1 * vr1));
    }
    const a00 = load<f64>(r0 + ro),
      a10 = load<f64>(r1 + ro),
      a11 = load<f64>(r1 + ro, 8);
    store<f64>(p + ro, load<f64>(p + ro) + t0 + a00 * vr0 + a10 * vr1);
    store<f64>(p + ro, load<f64>(p + ro, 8) + t1 + a10 * vr0 + a11 * vr1, 8);
  }
  if (r < rEnd) {
    const rp = a + rowOff(r);
    const ro = (<usize>r) << 3;
    const vr = load<f64>(v + ro);
    let t = 0.0;
    for (let c = 0; c < r; c++) {
      const o = (<usize>c) << 3;
      const x = load<f64>(rp + o);
      t += x * load<f64>(v + o);
      store<f64>(p + o, load<f64>(p + o) + x * vr);
    }
    store<f64>(p + ro, load<f64>(p + ro) + t + load<f64>(rp + ro) * vr);
  }
}

// The symmetric mat-vec of a large step (m >= SYMV_SPLIT_MIN) is always cut into the same
// SYMV_PARTS row ranges of equal triangle area, each accumulated into its own vector, and the
// vectors are summed in part order. The parts are dealt out to the threads, so the summation
// order — hence every bit of the result — is the same for any thread count (1 included).
const SYMV_PARTS: i32 = 12; // divisible by 1, 2, 3, 4, 6 threads
const SYMV_SPLIT_MIN: i32 = 384;

/** First row of part b of P (even, non-decreasing in b; part P starts at m). */
function partBound(m: i32, b: i32, P: i32): i32 {
  if (b >= P) return m;
  return (<i32>(<f64>m * sqrt<f64>(<f64>b / <f64>P))) & ~1;
}

/** Parts [pa, pb) of the split mat-vec: part 0 into y, part b > 0 into yparts slot b−1. */
function symvParts(a: usize, m: i32, v: usize, y: usize, yparts: usize, np: i32, pa: i32, pb: i32): void {
  for (let b = pa; b < pb; b++) {
    const dst = b == 0 ? y : yparts + <usize>(b - 1) * ((<usize>np) << 3);
    const r1 = partBound(m, b + 1, SYMV_PARTS);
    memory.fill(dst, 0, (<usize>(b == 0 ? m : r1)) << 3); // y: all of it (the sum's base)
    symvRows(a, partBound(m, b, SYMV_PARTS), r1, v, dst);
  }
}

/** y[0..m) = A v for the leading m×m block. False when a helper thread failed. */
function symvLower(a: usize, m: i32, v: usize, y: usize, yparts: usize, np: i32): bool {
  if (m < SYMV_SPLIT_MIN) {
    memory.fill(y, 0, (<usize>m) << 3);
    symvRows(a, 0, m, v, y);
    return true;
  }
  const args = argBase();
  store<u32>(args, <u32>a);
  store<i32>(args, m, 8);
  store<u32>(args, <u32>v, 12);
  store<u32>(args, <u32>y, 16);
  store<u32>(args, <u32>yparts, 20);
  store<i32>(args, np, 24);
  if (!run(JOB_SYMV)) return false;
  for (let b = 1; b < SYMV_PARTS; b++) {
    const src = yparts + <usize>(b - 1) * ((<usize>np) << 3);
    const n = partBound(m, b + 1, SYMV_PARTS);
    let c = 0;
    for (; c + 1 < n; c += 2) {
      const o = (<usize>c) << 3;
      v128.store(y + o, f64x2.add(v128.load(y + o), v128.load(src + o)));
    }
    if (c < n) {
      const o = (<usize>c) << 3;
      store<f64>(y + o, load<f64>(y + o) + load<f64>(src + o));
    }
  }
  return true;
}

/** Reduces panel rows top, top−1, …, m (see above). W vector of row j: wv + (top−j)·np. */
function tridiagPanel(a: usize, top: i32, m: i32, d: usize, e: usize, wv: usize, np: i32, y: usize, yparts: usize): void {
  const ws = (<usize>np) << 3;
  for (let i = top; i >= m; i--) {
    const row = a + rowOff(i);
    const io = (<usize>i) << 3;
    // Bring row i up to date with the panel's earlier steps.
    for (let j = i + 1; j <= top; j++) {
      const vj = a + rowOff(j);
      const wj = wv + <usize>(top - j) * ws;
      updateRow(row, i, vj, wj, load<f64>(vj + io), load<f64>(wj + io));
    }
    store<f64>(d + io, load<f64>(row + io));

    // Householder reflector of x = row[0..i) (as in tridiagonalize), stored in place.
    const tau = reflector(row, i, row);
    store<f64>(e + io, reflectorBeta);
    store<f64>(row + io - 8, 1.0);
    const wi = wv + <usize>(top - i) * ws;
    if (tau == 0.0) {
      memory.fill(wi, 0, (<usize>i) << 3); // H = I: no contribution
      continue;
    }

    // y = (A − Σ_j v_j w_jᵀ + w_j v_jᵀ) v over the leading i×i block.
    if (!symvLower(a, i, row, y, yparts, np)) return;
    for (let j = i + 1; j <= top; j++) {
      const vj = a + rowOff(j);
      const wj = wv + <usize>(top - j) * ws;
      const aj = dotN(wj, row, i);
      const bj = dotN(vj, row, i);
      updateRow(y, i - 1, vj, wj, bj, aj); // y −= aj v_j + bj w_j
    }
    // w = τ y − (τ²/2)(yᵀv) v
    const kk = 0.5 * tau * tau * dotN(y, row, i);
    for (let c = 0; c < i; c++) {
      const o = (<usize>c) << 3;
      store<f64>(wi + o, tau * load<f64>(y + o) - kk * load<f64>(row + o));
    }
  }
}

/** Packs m entries of vector src (negated when neg) into p-slot `p` of 4-row micro-panels
 *  of pc slots (pc·32 bytes each); entries m..ceil4(m) are zero. Only micro-panels [g0, g1)
 *  when given (a thread's share). */
function packVec(src: usize, m: i32, dst: usize, p: i32, pc: i32, neg: bool, g0: i32 = 0, g1: i32 = 0x7fffffff): void {
  const pb = (<usize>pc) << 5;
  let q = dst + ((<usize>p) << 5) + <usize>g0 * pb;
  const full = min(m >> 2, g1);
  const sg = neg ? f64x2.splat(-1.0) : f64x2.splat(1.0);
  for (let g = g0; g < full; g++) {
    const o = (<usize>g) << 5;
    v128.store(q, f64x2.mul(v128.load(src + o), sg));
    v128.store(q, f64x2.mul(v128.load(src + o, 16), sg), 16);
    q += pb;
  }
  const rem = m & 3;
  if (rem != 0 && m >> 2 < g1 && m >> 2 >= g0) {
    const s = src + ((<usize>full) << 5);
    const f = neg ? -1.0 : 1.0;
    for (let t = 0; t < 4; t++) {
      store<f64>(q + ((<usize>t) << 3), t < rem ? f * load<f64>(s + ((<usize>t) << 3)) : 0.0);
    }
  }
}

/** Leading m×m block (lower triangle, whole 4×4 diagonal tiles) −= V Wᵀ + W Vᵀ, where the
 *  nb panel rows j = m+nb−1 … m hold v_j and W slot (top−j) holds w_j. */
function syr2kPanel(a: usize, m: i32, nb: i32, wv: usize, np: i32, xa: usize, yb: usize): void {
  const top = m + nb - 1;
  const ws = (<usize>np) << 3;
  for (let s = 0; s < nb; s++) packPair(a + rowOff(top - s), wv + <usize>s * ws, m, s, nb, xa, yb);
  syr2kPacked(a, m, nb, xa, yb);
}

/** Slot s of the rank-2·nb update's packed operands: X = −[V W], Y = [W V] (pc = 2·nb). */
function packPair(vj: usize, wj: usize, m: i32, s: i32, nb: i32, xa: usize, yb: usize, g0: i32 = 0, g1: i32 = 0x7fffffff): void {
  const pc = 2 * nb;
  packVec(vj, m, xa, s, pc, true, g0, g1);
  packVec(wj, m, xa, nb + s, pc, true, g0, g1);
  packVec(wj, m, yb, s, pc, false, g0, g1);
  packVec(vj, m, yb, nb + s, pc, false, g0, g1);
}

/** Leading m×m block (lower triangle) −= V Wᵀ + W Vᵀ from the operands packPair built: the
 *  threaded SYR2K job. False when a helper thread failed. */
function syr2kPacked(a: usize, m: i32, nb: i32, xa: usize, yb: usize): bool {
  syr2kArgs(a, nb, xa, yb, 0, (m + 3) >> 2);
  return run(JOB_SYR2K);
}

/** The SYR2K job's arguments for the row micro-panels [g0, g1) of the lower triangle at a. */
function syr2kArgs(a: usize, nb: i32, xa: usize, yb: usize, g0: i32, g1: i32): void {
  const pc = 2 * nb;
  const pb = (<usize>pc) << 5;
  const args = argBase();
  store<u32>(args, <u32>xa);
  store<u32>(args, <u32>yb, 4);
  store<u32>(args, <u32>pb, 8);
  store<i32>(args, pc, 12);
  store<u32>(args, <u32>a, 16);
  store<i32>(args, g1, 24);
  store<i32>(args, max(4, <i32>(<usize>(256 << 10) / pb)), 28); // column block of Y: ~256 KiB, in L2
  store<i32>(args, g0, 32);
}

/**
 * Same contract as tridiagonalize (padded packed lower triangle a of order n, destroyed → d, e), blocked.
 * work: tridiagWorkBytes(n) bytes. Rows of a are read up to ceil4(n) − 1 (padded buffers).
 */
export function tridiagonalizeBlocked(a: usize, n: i32, d: usize, e: usize, work: usize): void {
  if (n <= 0) return;
  const np = (n + 3) & ~3;
  const nb = triNb;
  const npb = (<usize>np) << 3;
  const tmp = work;
  const wv = tmp + 4 * npb;
  const xa = wv + <usize>nb * npb;
  const yb = xa + <usize>(2 * nb) * npb;
  const y = yb + <usize>(2 * nb) * npb;
  const yparts = y + npb;
  let top = n - 1;
  while (top + 1 > triNx) {
    const m = top + 1 - nb;
    tridiagPanel(a, top, m, d, e, wv, np, y, yparts);
    syr2kPanel(a, m, nb, wv, np, xa, yb);
    if (thrFailed != 0) return;
    top = m - 1;
  }
  tridiagonalize(a, top + 1, d, e, tmp);
}

// ---------------------------------------------------------------------------------------
// Two-stage reduction, stage 1: dense → band of half-bandwidth b (LAPACK dsytrd_sy2sb idea,
// in our orientation: from the last row upwards, on the padded packed lower triangle)
// ---------------------------------------------------------------------------------------
// Why: in the one-stage reduction above, every step does a mat-vec over the whole trailing
// triangle, so half of its flops run at memory speed (measured ~6 GB/s per core: 4096² spent
// 15 s there against 4–5 s for the Gram). Reducing to a band first needs ONE pass over the
// trailing matrix per b steps, as matrix–matrix products on the same 4×4 micro-kernel as the
// Gram; the band is then reduced to tridiagonal form by bulge chasing (band.ts), which works
// in a window of a few b² values that lives in L1/L2.
//
// Panel = rows r0..top (b rows, r0 = top − b + 1). Row i's prefix [0, i − b] is reduced to
// β e_{i−b} by a reflector H_i = I − τ v vᵀ acting on indices [0, i − b + 1) ⊂ [0, r0):
//   * panel factorisation (one-sided, an RQ factorisation of the b × r0 block B = A[panel][0..r0)):
//     for i = top … r0: reflector of row i's prefix, applied from the right to the panel rows
//     above it (B ← B H_i). Rows below are not touched: H_i acts where they are already zero.
//   * Q = H_top ⋯ H_r0 = I − V T Vᵀ (compact WY, T upper triangular: LAPACK dlarft 'F', 'C').
//   * leading block A ← Qᵀ A Q (indices [0, r0)), with X = A V T (the symmetric product A V
//     on the micro-kernel), W = X − ½ V (Tᵀ Vᵀ X), then A −= V Wᵀ + W Vᵀ (the Gram's SYRK job,
//     as in syr2kPanel). Derivation: QᵀAQ = A − X Vᵀ − V Xᵀ + V (Tᵀ Vᵀ X) Vᵀ, and the last
//     term is split half into each of W Vᵀ and V Wᵀ (Tᵀ Vᵀ A V T is symmetric).
// Vectors (V_j, A V_j, X_j, W_j, j = top − i) are stored contiguously, np doubles each.
// Every output element is computed by one thread in a fixed order: bit-identical results for
// any thread count, like the rest of the kernels.

let bandB: i32 = 32; // half-bandwidth = panel height
let twoStageMin: i32 = 1536; // below: the one-stage blocked routine (measured: same speed at 1536–2048, faster below)

/** Tuning hook (benchmarks, tests): half-bandwidth b (multiple of 4, 4..64) and the order
 *  from which gramSingularValues uses the two-stage reduction. Call before eigWorkBytes. */
export function setTwoStage(b: i32, minOrder: i32): void {
  bandB = min(64, max(4, b & ~3));
  twoStageMin = minOrder;
}

/** The current half-bandwidth and crossover order (so that a caller can restore them). */
export function twoStageBand(): i32 {
  return bandB;
}
export function twoStageFrom(): i32 {
  return twoStageMin;
}

/** Bytes of scratch reduceToBand needs for order n (depends on the thread count). */
export function bandStageWorkBytes(n: i32): usize {
  return bandBuf(0, (n + 3) & ~3, bandB, max(thrN, 1), B_END);
}

// reduceToBand's scratch, in this order: V, AV (row-major), X, W, VP (b·np doubles each) | XA, YB (2b·np)
// | T, M (b²) | τ, z (b) | one SYMM_SCRATCH per thread | the per-part sums of Vᵀ X (parts·b²).
const B_V: i32 = 0;
const B_AV: i32 = 1;
const B_X: i32 = 2;
const B_W: i32 = 3;
const B_VP: i32 = 4;
const B_XA: i32 = 5;
const B_YB: i32 = 6;
const B_T: i32 = 7;
const B_M: i32 = 8;
const B_TAU: i32 = 9;
const B_Z: i32 = 10;
const B_SCRATCH: i32 = 11;
const B_PARTS: i32 = 12;
const B_END: i32 = 13;

/** Address of buffer `which` (B_*) of the scratch at `work` (order np, band b, nt threads). */
function bandBuf(work: usize, np: i32, b: i32, nt: i32, which: i32): usize {
  const vec = <usize>b * ((<usize>np) << 3); // b vectors
  const sq = (<usize>(b * b)) << 3;
  let p = work + <usize>min(which, B_XA) * vec;
  if (which > B_XA) p += <usize>(min(which, B_T) - B_XA) * 2 * vec;
  if (which > B_T) p += <usize>(min(which, B_TAU) - B_T) * sq;
  if (which > B_TAU) p += <usize>(min(which, B_SCRATCH) - B_TAU) * ((<usize>b) << 3);
  if (which > B_SCRATCH) p += <usize>nt * SYMM_SCRATCH;
  if (which > B_PARTS) p += <usize>SYMV_PARTS * sq;
  return p;
}

/** Panel factorisation (see above): rows top … r0, reflector j = top − i into V_j (zeroed
 *  beforehand; v[i−b] = 1) and tau[j]; row i's prefix becomes 0 … 0 β. */
function bandPanel(a: usize, r0: i32, top: i32, b: i32, v: usize, np: i32, tau: usize): void {
  const vs = (<usize>np) << 3;
  for (let i = top; i >= r0; i--) {
    const j = top - i;
    const row = a + rowOff(i);
    const len = i - b + 1; // the reflector's support [0, len), len ≥ 2 since r0 ≥ b + 1
    const lo = (<usize>(len - 1)) << 3;
    const vj = v + <usize>j * vs;
    const t = reflector(row, len, vj);
    store<f64>(row + lo, reflectorBeta);
    store<f64>(vj + lo, 1.0);
    store<f64>(tau + ((<usize>j) << 3), t);
    memory.fill(row, 0, lo); // below the band
    if (t == 0.0) continue;
    for (let i2 = i - 1; i2 >= r0; i2--) {
      const r2 = a + rowOff(i2);
      axpyN(r2, vj, -t * dotN(r2, vj, len), len);
    }
  }
}

// The symmetric product AV (order m, b vectors; stored row-major, b doubles per row) is computed
// tile by tile on 4×4 micro-kernels, in two threaded jobs over the lower triangle:
//   1. row group g (rows 4g..4g+3): the part of A left of its diagonal tile, read in place
//      (kernelRows: the four rows are tileLd apart), SYMM_KC columns at a time, then the
//      diagonal tile: AV[4g..][:] = Σ_{p ≤ 4g+3} A[4g..][p] ⊗ V[p];
//   2. the part right of the diagonal tile, A[x][p] = A[p][x] for p > 4h+3, taken from rows p:
//      AV[4h..][:] += Σ_p A[p][4h..4h+3] ⊗ V[p], in row blocks of SYMM_RB rows whose pieces
//      are packed SYMM_HB column groups at a time, so each row is read sequentially once.
// The V chunks come from L1/L2. The first version gathered the right part column by column (a
// 32-byte piece of every row: a cache miss on a different page each) and fed unchunked strips:
// 2.5× slower. Packing the left part too (as the right one) cost a quarter of its time: reading
// it in place is 19 % faster, and right-part row blocks of 256 rather than 64 rows are 8 %
// faster (fewer passes over AV), both at m = 1536–4096.
const SYMM_RB: i32 = 256; // rows per block of the right part
const SYMM_HB: i32 = 16; // column groups packed at a time in the right part
const SYMM_KC: i32 = 256; // columns per chunk of the left part
const SYMM_SCRATCH: usize = (<usize>(SYMM_HB * SYMM_RB)) << 5; // per thread (≥ the diagonal tile's 128 bytes)

/** C[4 rows][4 columns] (rows ldc bytes apart) += Σ_{p < pc} A[t][p] · V[p][0..4): the four
 *  rows of A read in place from r0, r0 + ld, r0 + 2ld, r0 + 3ld; V p-major (32 bytes per p).
 *  kernel4x4 with its first operand unpacked. Kept as a copy on purpose: one kernel with
 *  strides for both cases was 13–30 % slower in the relaxed-SIMD build's Gram (measured). */
function kernelRows(r0: usize, ld: usize, v: usize, pc: i32, c: usize, ldc: usize): void {
  let c00 = f64x2.splat(0),
    c01 = f64x2.splat(0);
  let c10 = f64x2.splat(0),
    c11 = f64x2.splat(0);
  let c20 = f64x2.splat(0),
    c21 = f64x2.splat(0);
  let c30 = f64x2.splat(0),
    c31 = f64x2.splat(0);
  const r1 = r0 + ld,
    r2 = r1 + ld,
    r3 = r2 + ld;
  for (let p = 0; p < pc; p++) {
    const o = (<usize>p) << 3;
    const b0 = v128.load(v),
      b1 = v128.load(v, 16);
    const a0 = v128.load64_splat(r0 + o);
    c00 = madd(a0, b0, c00);
    c01 = madd(a0, b1, c01);
    const a1 = v128.load64_splat(r1 + o);
    c10 = madd(a1, b0, c10);
    c11 = madd(a1, b1, c11);
    const a2 = v128.load64_splat(r2 + o);
    c20 = madd(a2, b0, c20);
    c21 = madd(a2, b1, c21);
    const a3 = v128.load64_splat(r3 + o);
    c30 = madd(a3, b0, c30);
    c31 = madd(a3, b1, c31);
    v += 32;
  }
  addTile(c, ldc, c00, c01, c10, c11, c20, c21, c30, c31);
}

/** Job 1 of AV for row groups [g0, g1): AV rows 4g..4g+3 (ldc bytes apart) from the part of A
 *  left of the diagonal tile, in chunks of SYMM_KC columns so that the V chunk (bq
 *  micro-panels) stays in L1/L2 and the four row pieces in L1, then from the diagonal tile
 *  (both triangles, packed p-major into sc; rows or columns ≥ m as 0). Rows ≥ m of the last,
 *  partial group get values that nothing reads. */
function symmLeft(a: usize, m: i32, vp: usize, bq: i32, av: usize, ldc: usize, sc: usize, g0: i32, g1: i32): void {
  const vpb = (<usize>m) << 5; // bytes of one packed group of 4 V vectors
  if (g0 >= g1) return;
  memory.fill(av + <usize>(4 * g0) * ldc, 0, <usize>(4 * (g1 - g0)) * ldc);
  for (let g = g0; g < g1; g++) {
    const r = g << 2;
    const base = a + rowOff(r);
    const ld = tileLd(g);
    const cRow = av + <usize>r * ldc;
    for (let p0 = 0; p0 < r; p0 += SYMM_KC) {
      const pc = min(SYMM_KC, r - p0);
      for (let q = 0; q < bq; q++) kernelRows(base + ((<usize>p0) << 3), ld, vp + <usize>q * vpb + ((<usize>p0) << 5), pc, cRow + ((<usize>q) << 5), ldc);
    }
    const pe = min(r + 4, m); // the diagonal tile's columns that exist
    for (let c = r; c < pe; c++) {
      for (let t = 0; t < 4; t++) {
        const rt = r + t;
        let x = 0.0;
        if (rt < m) x = c <= rt ? load<f64>(a + rowOff(rt) + ((<usize>c) << 3)) : load<f64>(a + rowOff(c) + ((<usize>rt) << 3));
        store<f64>(sc + ((<usize>(c - r)) << 5) + ((<usize>t) << 3), x);
      }
    }
    for (let q = 0; q < bq; q++) kernel4x4(sc, vp + <usize>q * vpb + ((<usize>r) << 5), pe - r, cRow + ((<usize>q) << 5), ldc);
  }
}

/** Job 2 of AV for column groups [h0, h1): adds the part right of their diagonal tiles, row
 *  block by row block (the same order whatever the split, so results are bit-identical). For
 *  each block, the rows' pieces in SYMM_HB column groups at a time are packed p-major (as the
 *  micro-kernel wants; group h takes rows p ≥ 4h + 4 only). */
function symmRight(a: usize, m: i32, vp: usize, bq: i32, av: usize, ldc: usize, sc: usize, h0: i32, h1: i32): void {
  const vpb = (<usize>m) << 5;
  for (let pb = 0; pb < m; pb += SYMM_RB) {
    const pe = min(pb + SYMM_RB, m);
    const panel = (<usize>(pe - pb)) << 5;
    const hEnd = min(h1, (pe - 1) >> 2); // rows p > 4h + 3 exist in this block only for 4h + 4 < pe
    for (let hb = h0; hb < hEnd; hb += SYMM_HB) {
      const he = min(hb + SYMM_HB, hEnd);
      // Four rows (one tile row: pb is a multiple of 4) at a time, so that four cache misses
      // are in flight instead of one (each piece is 512 bytes of a row tens of KB from the next):
      // the packing's own time fell by 27–40 % (one thread, m = 3000 and 4096, CPU profiles).
      let p = pb;
      for (; p + 4 <= pe; p += 4) {
        const s0 = a + rowOff(p);
        const ld = tileLd(p >> 2);
        const hp = min(he, p >> 2); // groups h with 4h + 4 ≤ p: the same for all four rows
        for (let h = hb; h < hp; h++) {
          const dst = sc + <usize>(h - hb) * panel + ((<usize>(p - max(pb, 4 * h + 4))) << 5);
          const s = s0 + ((<usize>h) << 5);
          v128.store(dst, v128.load(s));
          v128.store(dst, v128.load(s, 16), 16);
          v128.store(dst, v128.load(s + ld), 32);
          v128.store(dst, v128.load(s + ld, 16), 48);
          v128.store(dst, v128.load(s + 2 * ld), 64);
          v128.store(dst, v128.load(s + 2 * ld, 16), 80);
          v128.store(dst, v128.load(s + 3 * ld), 96);
          v128.store(dst, v128.load(s + 3 * ld, 16), 112);
        }
      }
      for (; p < pe; p++) {
        const src = a + rowOff(p);
        const hp = min(he, p >> 2); // groups h with 4h + 4 ≤ p
        for (let h = hb; h < hp; h++) {
          const dst = sc + <usize>(h - hb) * panel + ((<usize>(p - max(pb, 4 * h + 4))) << 5);
          const o = (<usize>h) << 5;
          v128.store(dst, v128.load(src + o));
          v128.store(dst, v128.load(src + o, 16), 16);
        }
      }
      for (let h = hb; h < he; h++) {
        const p0 = max(pb, 4 * h + 4);
        const bp = sc + <usize>(h - hb) * panel;
        const cRow = av + <usize>(4 * h) * ldc;
        for (let q = 0; q < bq; q++) kernel4x4(bp, vp + <usize>q * vpb + ((<usize>p0) << 5), pe - p0, cRow + ((<usize>q) << 5), ldc);
      }
    }
  }
}

/** Row groups of part p (of SYMV_PARTS) of a vector of length m: [first, end) in groups of 4. */
function partGroups(m: i32, p: i32): i32 {
  return evenSplit((m + 3) >> 2, p, SYMV_PARTS);
}

/** Parts [pa, pb) of the vector work, in two phases (two jobs, M is formed in between):
 *  JOB_BAND_X: X = (AV) T (column j = Σ_{i ≤ j} T[i][j] (AV)_i) and Vᵀ X, each part's b×b sums
 *  in its own slot; JOB_BAND_W: W = X − ½ V M and the packed operands of the SYR2K. */
function bandVectorParts(job: i32, work: usize, m: i32, np: i32, b: i32, nb: i32, nt: i32, pa: i32, pb: i32): void {
  const vs = (<usize>np) << 3;
  const v = bandBuf(work, np, b, nt, B_V);
  const x = bandBuf(work, np, b, nt, B_X);
  for (let p = pa; p < pb; p++) {
    const g0 = partGroups(m, p);
    const g1 = partGroups(m, p + 1);
    const c0 = g0 << 2;
    const len = min(g1 << 2, m) - c0;
    const off = (<usize>c0) << 3;
    if (job == JOB_BAND_X) {
      // this part's rows of AV (row-major), transposed into W (free until JOB_BAND_W): (AV)_i
      const av = bandBuf(work, np, b, nt, B_AV) + <usize>c0 * ((<usize>b) << 3);
      const avt = bandBuf(work, np, b, nt, B_W);
      for (let r = 0; r < len; r++) {
        const src = av + <usize>r * ((<usize>b) << 3);
        const dst = avt + off + ((<usize>r) << 3);
        for (let i = 0; i < nb; i++) store<f64>(dst + <usize>i * vs, load<f64>(src + ((<usize>i) << 3)));
      }
      const tm = bandBuf(work, np, b, nt, B_T);
      const sums = bandBuf(work, np, b, nt, B_PARTS) + ((<usize>(p * b * b)) << 3);
      memory.fill(sums, 0, (<usize>(b * b)) << 3); // an empty part still adds its (zero) sums
      for (let j = 0; j < nb && len > 0; j++) {
        const xj = x + <usize>j * vs + off;
        memory.fill(xj, 0, (<usize>len) << 3);
        for (let i = 0; i <= j; i++) axpyN(xj, avt + <usize>i * vs + off, load<f64>(tm + ((<usize>(i * b + j)) << 3)), len);
      }
      for (let i = 0; i < nb && len > 0; i++) {
        for (let j = 0; j < nb; j++) store<f64>(sums + ((<usize>(i * b + j)) << 3), dotN(v + <usize>i * vs + off, x + <usize>j * vs + off, len));
      }
    } else if (len > 0) {
      const w = bandBuf(work, np, b, nt, B_W);
      const mm = bandBuf(work, np, b, nt, B_M);
      for (let j = 0; j < nb; j++) {
        const wj = w + <usize>j * vs + off;
        memory.copy(wj, x + <usize>j * vs + off, (<usize>len) << 3);
        for (let i = 0; i < nb; i++) axpyN(wj, v + <usize>i * vs + off, -0.5 * load<f64>(mm + ((<usize>(i * b + j)) << 3)), len);
      }
      const xa = bandBuf(work, np, b, nt, B_XA);
      const yb = bandBuf(work, np, b, nt, B_YB);
      for (let s = 0; s < nb; s++) packPair(v + <usize>s * vs, w + <usize>s * vs, m, s, nb, xa, yb, g0, g1);
    }
  }
}

/**
 * Reduces the symmetric matrix (padded packed lower triangle a, order n) to a band of
 * half-bandwidth bandB by orthogonal similarity (see above): afterwards row i holds its band
 * values in columns [i − b, i] and zeros left of them. work: bandStageWorkBytes(n) bytes.
 */
export function reduceToBand(a: usize, n: i32, work: usize): void {
  const b = bandB;
  const np = (n + 3) & ~3;
  const nt = max(thrN, 1);
  const v = bandBuf(work, np, b, nt, B_V);
  const av = bandBuf(work, np, b, nt, B_AV);
  const vp = bandBuf(work, np, b, nt, B_VP);
  const xa = bandBuf(work, np, b, nt, B_XA);
  const yb = bandBuf(work, np, b, nt, B_YB);
  const tm = bandBuf(work, np, b, nt, B_T);
  const mm = bandBuf(work, np, b, nt, B_M);
  const tau = bandBuf(work, np, b, nt, B_TAU);
  const z = bandBuf(work, np, b, nt, B_Z);
  const ap = bandBuf(work, np, b, nt, B_SCRATCH);
  const parts = bandBuf(work, np, b, nt, B_PARTS);
  let top = n - 1;
  if (top >= b + 1) factorBandPanel(a, top, b, np, v, vp, tau, tm, z);
  while (top >= b + 1) {
    const r0 = max(b + 1, top - b + 1);
    const nb = top - r0 + 1; // reflectors in this panel (factored: V, τ, T and VP are ready)
    const bq = (nb + 3) >> 2;
    const m = r0; // order of the leading block they act on
    const args = argBase();
    store<u32>(args, <u32>a);
    store<i32>(args, m, 4);
    store<u32>(args, <u32>vp, 8);
    store<i32>(args, bq, 12);
    store<u32>(args, <u32>av, 16);
    store<i32>(args, np, 20);
    store<u32>(args, <u32>ap, 24);
    store<u32>(args, <u32>work, 28);
    store<i32>(args, b, 32);
    store<i32>(args, nb, 36);
    if (!run(JOB_SYMM_LEFT)) return;
    if (!run(JOB_SYMM_RIGHT)) return;

    // X = (AV) T and the parts of Vᵀ X (threaded job), then M = Tᵀ (Vᵀ X); mm first holds Vᵀ X
    // (args as for the product)
    if (!run(JOB_BAND_X)) return;
    for (let i = 0; i < nb; i++) {
      for (let j = 0; j < nb; j++) {
        let sum = 0.0;
        for (let p = 0; p < SYMV_PARTS; p++) sum += load<f64>(parts + ((<usize>((p * b + i) * b + j)) << 3));
        store<f64>(mm + ((<usize>(i * b + j)) << 3), sum);
      }
    }
    for (let j = 0; j < nb; j++) {
      // column j of Tᵀ (VᵀX), bottom-up so that the column can be overwritten in place
      for (let i = nb - 1; i >= 0; i--) {
        let s = 0.0;
        for (let l = 0; l <= i; l++) s += load<f64>(tm + ((<usize>(l * b + i)) << 3)) * load<f64>(mm + ((<usize>(l * b + j)) << 3));
        store<f64>(mm + ((<usize>(i * b + j)) << 3), s);
      }
    }
    // W = X − ½ V M and the packed operands X = −[V W], Y = [W V] (threaded job), then
    // A[0..m) −= V Wᵀ + W Vᵀ (the threaded SYR2K).
    if (!run(JOB_BAND_W)) return;
    const next = r0 - 1; // the next panel's top row
    if (next >= b + 1) {
      // Look-ahead: the SYR2K of the micro-panels that hold the next panel's rows first (every
      // thread), then the rest on the helpers while this thread factors the next panel (serial
      // work that would otherwise leave them idle), then its share of what is left. The two
      // parts touch disjoint rows, and each tile is computed as before: bit-identical results.
      const split = max(b + 1, next - b + 1) >> 2;
      syr2kArgs(a, nb, xa, yb, split, (m + 3) >> 2);
      if (!run(JOB_SYR2K)) return;
      syr2kArgs(a, nb, xa, yb, 0, split);
      startJob(JOB_SYR2K);
      factorBandPanel(a, next, b, np, v, vp, tau, tm, z);
      if (!finishJob(JOB_SYR2K)) return;
    } else if (!syr2kPacked(a, m, nb, xa, yb)) return;
    top = next;
  }
}

/** The panel step of reduceToBand whose top row is `top`: its reflectors (bandPanel: V, τ, and
 *  rows top … r0 reduced to the band), T, and V packed for the symmetric product (VP). Reads
 *  and writes only rows r0 … top of a, and the buffers it names. */
function factorBandPanel(a: usize, top: i32, b: i32, np: i32, v: usize, vp: usize, tau: usize, tm: usize, z: usize): void {
  const vs = (<usize>np) << 3;
  const r0 = max(b + 1, top - b + 1);
  const nb = top - r0 + 1;
  const bq = (nb + 3) >> 2;
  const m = r0;
  memory.fill(v, 0, <usize>(bq << 2) * vs);
  bandPanel(a, r0, top, b, v, np, tau);

  // T (nb × nb, upper, row-major b): T[j][j] = τ_j, T[0..j)[j] = −τ_j T[0..j)[0..j) (Vᵀ v_j)[0..j)
  for (let j = 0; j < nb; j++) {
    const tj = load<f64>(tau + ((<usize>j) << 3));
    const vj = v + <usize>j * vs;
    const len = top - j - b + 1;
    for (let l = 0; l < j; l++) store<f64>(z + ((<usize>l) << 3), dotN(v + <usize>l * vs, vj, len));
    for (let i = 0; i < j; i++) {
      let s = 0.0;
      for (let l = i; l < j; l++) s += load<f64>(tm + ((<usize>(i * b + l)) << 3)) * load<f64>(z + ((<usize>l) << 3));
      store<f64>(tm + ((<usize>(i * b + j)) << 3), -tj * s);
    }
    store<f64>(tm + ((<usize>(j * b + j)) << 3), tj);
  }

  // V by groups of four vectors, p-major, as the symmetric product (AV) reads it.
  for (let q = 0; q < bq; q++) {
    let dst = vp + <usize>q * ((<usize>m) << 5);
    const s0 = v + <usize>(4 * q) * vs;
    for (let c = 0; c < m; c++) {
      const o = (<usize>c) << 3;
      store<f64>(dst, load<f64>(s0 + o));
      store<f64>(dst, load<f64>(s0 + vs + o), 8);
      store<f64>(dst, load<f64>(s0 + 2 * vs + o), 16);
      store<f64>(dst, load<f64>(s0 + 3 * vs + o), 24);
      dst += 32;
    }
  }
}

// ---------------------------------------------------------------------------------------
// Eigenvalues of the symmetric tridiagonal matrix: rational QL (tqlrat)
// ---------------------------------------------------------------------------------------
// Pal–Walker–Kahan square-root-free QL with implicit Wilkinson-like shift, working on the
// squared off-diagonal (Reinsch, CACM alg. 464; EISPACK tqlrat), written from its
// published description. Eigenvalues come out ascending. Iterations are capped at 30·n in
// total (like LAPACK dsterf): on failure we return the 1-based index of the eigenvalue
// that did not converge instead of spinning.

const MACHEP: f64 = 2.220446049250313e-16;

/** e2[0..n): e2[i] = e[i]² (e2[0] ignored). d is overwritten by ascending eigenvalues.
 *  Returns 0 or the 1-based index of the eigenvalue that did not converge. */
export function tqlrat(d: usize, e2: usize, n: i32): i32 {
  if (n <= 1) return 0;
  for (let i = 1; i < n; i++) store<f64>(e2 + ((<usize>i - 1) << 3), load<f64>(e2 + ((<usize>i) << 3)));
  store<f64>(e2 + ((<usize>n - 1) << 3), 0.0);
  let f = 0.0,
    b = 0.0,
    c = 0.0;
  let budget = 30 * n;
  for (let l = 0; l < n; l++) {
    const lo = (<usize>l) << 3;
    let h = MACHEP * (abs<f64>(load<f64>(d + lo)) + sqrt<f64>(load<f64>(e2 + lo)));
    if (b <= h) {
      b = h;
      c = b * b;
    }
    // Look for a small squared sub-diagonal element (e2[n-1] = 0 stops the scan).
    let m = l;
    while (load<f64>(e2 + ((<usize>m) << 3)) > c) m++;
    if (m != l) {
      while (true) {
        if (budget-- <= 0) return l + 1;
        // Shift from the leading 2×2 block.
        let s = sqrt<f64>(load<f64>(e2 + lo));
        let g = load<f64>(d + lo);
        let p = (load<f64>(d + lo + 8) - g) / (2.0 * s);
        const ap = abs<f64>(p);
        const r0 = ap > 1e150 ? ap : sqrt<f64>(p * p + 1.0);
        store<f64>(d + lo, s / (p + copysign<f64>(r0, p)));
        h = g - load<f64>(d + lo);
        for (let i = l + 1; i < n; i++) {
          const o = (<usize>i) << 3;
          store<f64>(d + o, load<f64>(d + o) - h);
        }
        f += h;
        // Rational QL transformation.
        g = load<f64>(d + ((<usize>m) << 3));
        if (g == 0.0) g = b;
        h = g;
        s = 0.0;
        for (let i = m - 1; i >= l; i--) {
          const o = (<usize>i) << 3;
          const e2i = load<f64>(e2 + o);
          const di = load<f64>(d + o);
          p = g * h;
          const r = p + e2i;
          store<f64>(e2 + o + 8, s * r);
          s = e2i / r;
          store<f64>(d + o + 8, h + s * (h + di));
          g = di - e2i / g;
          if (g == 0.0) g = b;
          h = (g * p) / r;
        }
        const sg = s * g;
        store<f64>(d + lo, h);
        // Guard against underflow in the convergence test.
        if (h == 0.0 || abs<f64>(sg) <= abs<f64>(c / h)) {
          store<f64>(e2 + lo, sg);
          break;
        }
        const e2l = h * sg;
        store<f64>(e2 + lo, e2l);
        if (e2l == 0.0) break;
      }
    }
    // Insert the converged eigenvalue into the ascending prefix.
    const pv = load<f64>(d + lo) + f;
    let i = l;
    while (i > 0 && pv < load<f64>(d + ((<usize>i - 1) << 3))) {
      store<f64>(d + ((<usize>i) << 3), load<f64>(d + ((<usize>i - 1) << 3)));
      i--;
    }
    store<f64>(d + ((<usize>i) << 3), pv);
  }
  return 0;
}

// ---------------------------------------------------------------------------------------
// Threads inside one matrix (the shared-memory build: --enable threads, imported shared
// memory; the other builds compile the same code with one thread)
// ---------------------------------------------------------------------------------------
// The owner instance (the one the TypeScript wrapper calls) and n−1 helper instances of the
// same module share one WebAssembly.Memory. Helpers sit in helperLoop; for each parallel
// job the owner writes its arguments into a control block, bumps a generation counter and
// notifies, runs its own share as thread 0, then waits for the helpers' done count (fork /
// join). Work is split statically, and always so that every output element is computed by
// one thread in the same order as with one thread: results are bit-identical for any
// thread count. Only the owner allocates (allocator state is per instance).
//
// Control block (i32 slots): GEN generation, DONE helpers finished, ERR set by a helper's
// host when it trapped, JOB, NT threads, FAULT (test hook: 1 trap, 2 hang), TIMEOUT (ms the
// owner waits for a join), NEXT (the next chunk to claim), then the job's arguments.
const C_GEN: usize = 0;
const C_DONE: usize = 4;
const C_ERR: usize = 8;
const C_JOB: usize = 12;
const C_NT: usize = 16;
const C_FAULT: usize = 20;
const C_TIMEOUT: usize = 24;
const C_NEXT: usize = 28; // the next unclaimed chunk of the current job (see claim)
const ERR_GAVE_UP: i32 = 3; // in ERR: a thread stopped waiting for another (it hangs or failed)
const C_ARGS: usize = 64;
const CTL_BYTES: usize = 128;

const JOB_QUIT: i32 = 1;
const JOB_PACK_ROWS: i32 = 2;
const JOB_PACK_COLS: i32 = 3;
const JOB_SYRK: i32 = 4;
const JOB_SYMV: i32 = 5;
const JOB_SYMM_LEFT: i32 = 6;
const JOB_SYMM_RIGHT: i32 = 7;
const JOB_SYR2K: i32 = 8;
const JOB_BAND_X: i32 = 9;
const JOB_BAND_W: i32 = 10;
const JOB_BAND_CHASE: i32 = 11;

const OWNER_SPIN: i32 = 1 << 16; // atomic loads before the owner sleeps in a join
const HELPER_SPIN: i32 = 1 << 18; // … and a helper between jobs (the next step's job comes soon)

let thrCtl: usize = 0;
let thrN: i32 = 1;
let thrFailed: i32 = 0; // 1: a helper trapped, 2: a join timed out
const ARGS_LOCAL: usize = memory.data(64); // job arguments when single-threaded

/** Bytes of the control block (allocate it 64-byte aligned, zeroed). */
export function ctlBytes(): usize {
  return CTL_BYTES;
}

/** Owner side: use n threads (the caller has started n − 1 helpers on ctl); a join that
 *  waits longer than timeoutMs fails. The non-shared builds always use one thread. */
export function setThreads(ctl: usize, n: i32, timeoutMs: i32): void {
  thrCtl = ctl;
  thrN = ASC_FEATURE_THREADS && ctl != 0 ? max(1, n) : 1;
  thrFailed = 0;
  if (ctl != 0) store<i32>(ctl + C_TIMEOUT, timeoutMs);
}

/** 0, or why the last threaded call failed (1: a helper trapped, 2: a helper timed out).
 *  Once set, every kernel call returns early (garbage results) until setThreads. */
export function threadError(): i32 {
  return thrFailed;
}

/** Asks the helpers to leave helperLoop. */
export function stopHelpers(): void {
  if (ASC_FEATURE_THREADS && thrN > 1) fork(JOB_QUIT);
  thrN = 1;
}

function argBase(): usize {
  return thrN > 1 ? thrCtl + C_ARGS : ARGS_LOCAL;
}

/** Boundary t of `chunks` guided chunks of the row micro-panels [g0, g1) of a lower triangle
 *  (micro-panel g costs ∝ g + 1, so the work up to boundary G is ∝ G² − g0²): chunk t carries a
 *  share of the work that shrinks linearly, 2(chunks − t) − 1 parts in chunks², so the first
 *  chunks claimed are large and the last ones small and the threads finish a job nearly
 *  together. Against equal chunks (2 threads, alternating processes, bit-identical results): the
 *  owner's waits at job ends fell from 0.15–0.48 s to 0.10–0.19 s at 4096² (median of 8 runs
 *  9.27 → 8.86 s) and from 0.23–1.03 s to 0.14–0.30 s at 14336×4096 (medians of 4 equal). */
function guidedRange(g0: i32, g1: i32, t: i32, chunks: i32): i32 {
  if (t <= 0) return g0;
  if (t >= chunks) return g1;
  const rest = 1.0 - <f64>t / <f64>chunks;
  const lo = <f64>g0 * <f64>g0;
  const hi = <f64>g1 * <f64>g1;
  return min(g1, max(g0, <i32>(sqrt<f64>(lo + (hi - lo) * (1.0 - rest * rest)) + 0.5)));
}

function evenSplit(n: i32, t: i32, nt: i32): i32 {
  return <i32>((<i64>n * <i64>t) / <i64>nt);
}

/** Chunks per thread in the jobs split dynamically: enough to even out a core that runs slower
 *  (another job's load, a noisy neighbour), few enough that each still streams its operands. */
const CHUNKS_PER_THREAD: i32 = 4;

/** The next chunk of the current job for the calling thread: with threads, 0, 1, 2, … handed
 *  out across all of them by an atomic counter (reset by fork), so a thread that finishes early
 *  takes more; on one thread, `i` itself. Which thread computes a chunk never changes its
 *  arithmetic, so results stay bit-identical. */
function claim(args: usize, nt: i32, i: i32): i32 {
  if (ASC_FEATURE_THREADS && nt > 1) return atomic.add<i32>(args - C_ARGS + C_NEXT, 1);
  return i;
}

/** Runs thread tid's share (of nt) of job with the arguments at args. */
function runJob(args: usize, job: i32, tid: i32, nt: i32): void {
  if (job == JOB_PACK_ROWS) {
    const k = load<i32>(args, 4);
    const groups = (k + 3) >> 2;
    packRows(load<u32>(args), k, load<i32>(args, 8), load<i32>(args, 12), load<u32>(args, 16), evenSplit(groups, tid, nt), evenSplit(groups, tid + 1, nt));
  } else if (job == JOB_PACK_COLS) {
    const k = load<i32>(args, 4);
    const groups = (k + 3) >> 2;
    packCols(
      load<u32>(args),
      k,
      load<i32>(args, 8),
      load<i32>(args, 12),
      load<i32>(args, 16),
      load<u32>(args, 20),
      evenSplit(groups, tid, nt),
      evenSplit(groups, tid + 1, nt),
    );
  } else if (job == JOB_SYRK || job == JOB_SYR2K) {
    // the Gram's long shared dimension, or the reductions' short one (see syrkRange)
    const groups = load<i32>(args, 24);
    const ap = load<u32>(args),
      bp = load<u32>(args, 4),
      pb = load<u32>(args, 8),
      pc = load<i32>(args, 12),
      c = load<u32>(args, 16);
    const blk = load<i32>(args, 28);
    const g0 = load<i32>(args, 32); // row micro-panels [g0, groups)
    const chunks = min(groups - g0, CHUNKS_PER_THREAD * nt);
    for (let i = 0, k = claim(args, nt, 0); k < chunks; k = claim(args, nt, ++i)) {
      syrkRange(ap, bp, pb, pc, c, guidedRange(g0, groups, k, chunks), guidedRange(g0, groups, k + 1, chunks), blk);
    }
  } else if (job == JOB_BAND_X || job == JOB_BAND_W) {
    const work = load<u32>(args, 28);
    const m = load<i32>(args, 4);
    const np = load<i32>(args, 20);
    const b = load<i32>(args, 32);
    const nb = load<i32>(args, 36);
    for (let i = 0, p = claim(args, nt, 0); p < SYMV_PARTS; p = claim(args, nt, ++i)) bandVectorParts(job, work, m, np, b, nb, nt, p, p + 1);
  } else if (job == JOB_SYMM_LEFT || job == JOB_SYMM_RIGHT) {
    const m = load<i32>(args, 4);
    const groups = (m + 3) >> 2;
    const a = load<u32>(args),
      vp = load<u32>(args, 8),
      bq = load<i32>(args, 12),
      av = load<u32>(args, 16);
    const ldc = (<usize>load<i32>(args, 32)) << 3; // AV: b doubles per row
    const sc = load<u32>(args, 24) + <usize>tid * SYMM_SCRATCH;
    const chunks = min(groups, CHUNKS_PER_THREAD * nt);
    for (let i = 0, k = claim(args, nt, 0); k < chunks; k = claim(args, nt, ++i)) {
      if (job == JOB_SYMM_LEFT) {
        // row group g costs ∝ g + 1
        symmLeft(a, m, vp, bq, av, ldc, sc, guidedRange(0, groups, k, chunks), guidedRange(0, groups, k + 1, chunks));
      } else {
        // column group h costs ∝ groups − h, so equal ranges of h are already guided chunks
        symmRight(a, m, vp, bq, av, ldc, sc, evenSplit(groups, k, chunks), evenSplit(groups, k + 1, chunks));
      }
    }
  } else if (job == JOB_BAND_CHASE) {
    const ctl = args - C_ARGS; // only read when nt > 1, i.e. args is in the control block
    if (!bandSweeps(load<i32>(args, 4), load<i32>(args, 8), load<u32>(args), tid, nt, ctl + C_ERR, nt > 1 ? load<i32>(ctl + C_TIMEOUT) : 0)) {
      // stops the others' waits too; a trap's code (set by the host) is kept
      if (ASC_FEATURE_THREADS) atomic.cmpxchg<i32>(ctl + C_ERR, 0, ERR_GAVE_UP);
    }
  } else if (job == JOB_SYMV) {
    const a = load<u32>(args),
      m = load<i32>(args, 8),
      v = load<u32>(args, 12),
      y = load<u32>(args, 16),
      yparts = load<u32>(args, 20),
      np = load<i32>(args, 24);
    for (let i = 0, p = claim(args, nt, 0); p < SYMV_PARTS; p = claim(args, nt, ++i)) symvParts(a, m, v, y, yparts, np, p, p + 1);
  }
}

/** Runs job (arguments at argBase()) on all threads. False when a helper failed. */
function run(job: i32): bool {
  startJob(job);
  return finishJob(job);
}

/** run() in two halves, so that the owner can do other work in between while the helpers
 *  start on the job (its arguments must stay as they are until finishJob returns). */
function startJob(job: i32): void {
  if (thrN > 1 && thrFailed == 0) fork(job);
}

/** The owner's share of a job startJob posted (all of it when single-threaded), then the join. */
function finishJob(job: i32): bool {
  if (thrN <= 1) {
    runJob(ARGS_LOCAL, job, 0, 1);
    return true;
  }
  if (thrFailed != 0) return false;
  runJob(thrCtl + C_ARGS, job, 0, thrN);
  return join();
}

function fork(job: i32): void {
  if (!ASC_FEATURE_THREADS) return;
  const ctl = thrCtl;
  atomic.store<i32>(ctl + C_DONE, 0);
  atomic.store<i32>(ctl + C_NEXT, 0);
  atomic.store<i32>(ctl + C_NT, thrN);
  atomic.store<i32>(ctl + C_JOB, job);
  atomic.add<i32>(ctl + C_GEN, 1);
  atomic.notify(ctl + C_GEN, -1);
}

function join(): bool {
  if (!ASC_FEATURE_THREADS) return true;
  const ctl = thrCtl;
  const want = thrN - 1;
  for (let s = 0; s < OWNER_SPIN; s++) {
    if (atomic.load<i32>(ctl + C_DONE) == want) return true;
  }
  const limit = <i64>load<i32>(ctl + C_TIMEOUT) * 1000000;
  let waited: i64 = 0;
  while (true) {
    const done = atomic.load<i32>(ctl + C_DONE);
    if (done == want) return true;
    const err = atomic.load<i32>(ctl + C_ERR);
    if (err != 0) {
      thrFailed = err == ERR_GAVE_UP ? 2 : 1;
      return false;
    }
    if (waited >= limit) {
      thrFailed = 2;
      return false;
    }
    memory.atomic.wait32(ctl + C_DONE, done, 1000000); // 1 ms slices
    waited += 1000000;
  }
}

/** Helper thread tid (1..n−1): runs its share of each job the owner posts until JOB_QUIT.
 *  seen: the generation before the first job (0 for a fresh control block). A trap here
 *  unwinds to the helper's host, which sets ERR and notifies DONE. */
export function helperLoop(ctl: usize, tid: i32, seen: i32): i32 {
  if (!ASC_FEATURE_THREADS) return -1;
  while (true) {
    let g = atomic.load<i32>(ctl + C_GEN);
    for (let s = 0; g == seen && s < HELPER_SPIN; s++) g = atomic.load<i32>(ctl + C_GEN);
    while (g == seen) {
      memory.atomic.wait32(ctl + C_GEN, seen, -1);
      g = atomic.load<i32>(ctl + C_GEN);
    }
    seen = g;
    const job = atomic.load<i32>(ctl + C_JOB);
    if (job == JOB_QUIT) return 0;
    // test hook: 1 trap, 2 hang at this job; 3 trap, 4 hang at stage 2's job only
    let fault = atomic.load<i32>(ctl + C_FAULT);
    if (fault >= 3) fault = job == JOB_BAND_CHASE ? fault - 2 : 0;
    if (fault == 1) unreachable();
    while (fault == 2 && atomic.load<i32>(ctl + C_FAULT) != 0) {
      // test hook: hang until the host terminates this thread
    }
    runJob(ctl + C_ARGS, job, tid, atomic.load<i32>(ctl + C_NT));
    atomic.add<i32>(ctl + C_DONE, 1);
    atomic.notify(ctl + C_DONE, 1);
  }
}

// ---------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------

/** Scales the lower triangle by a power of two so that max|a| ∈ [1, 2); returns the
 *  inverse factor (exact), or 0 when the matrix is zero. Keeps sums of squares in the
 *  Householder step far from overflow/underflow whatever the weight scale. */
export function scaleLower(a: usize, n: i32): f64 {
  let mx = 0.0;
  for (let r = 0; r < n; r++) {
    const row = a + rowOff(r);
    for (let c = 0; c <= r; c++) mx = max(mx, abs<f64>(load<f64>(row + ((<usize>c) << 3))));
  }
  if (mx == 0.0) return 0.0;
  let ex = <i32>((reinterpret<u64>(mx) >> 52) & 0x7ff);
  if (ex == 0) ex = 1; // subnormal max: scale by 2^1022 (still exact)
  if (ex > 2045) ex = 2045; // cannot happen for Gram matrices of float32 data
  const s = reinterpret<f64>((<u64>(2046 - ex)) << 52); // 2^-(ex-1023)
  const inv = reinterpret<f64>((<u64>ex) << 52); // 2^(ex-1023)
  for (let r = 0; r < n; r++) {
    const row = a + rowOff(r);
    for (let c = 0; c <= r; c++) {
      const o = row + ((<usize>c) << 3);
      store<f64>(o, load<f64>(o) * s);
    }
  }
  return inv;
}

/** Bytes of scratch needed by gramSingularValues for order n. */
export function eigWorkBytes(n: i32): usize {
  const stage = n >= twoStageMin ? max(bandStageWorkBytes(n), bandCopyBytes(n) + bandWorkBytes(n, bandB)) : 0;
  return ((<usize>n) << 4) + max(tridiagWorkBytes(n), stage);
}

/**
 * Same contract as tridiagonalizeBlocked, in two stages: reduceToBand, then bulge chasing on a
 * compact copy of the band (band.ts) in the stage-1 scratch, which is free again by then.
 * work: max(bandStageWorkBytes(n), bandCopyBytes(n) + bandWorkBytes(n, band)) bytes.
 */
export function tridiagonalizeTwoStage(a: usize, n: i32, d: usize, e: usize, work: usize): void {
  reduceToBand(a, n, work);
  if (thrFailed != 0) return;
  const b = bandB;
  const ab = work;
  for (let i = 0; i < n; i++) {
    const dst = ab + ((<usize>i * <usize>(b + 1)) << 3);
    const row = a + rowOff(i);
    for (let t = 0; t <= b; t++) {
      const c = i - b + t;
      store<f64>(dst + ((<usize>t) << 3), c >= 0 ? load<f64>(row + ((<usize>c) << 3)) : 0.0);
    }
  }
  bandToTridiagonal(ab, n, b, d, e, ab + bandCopyBytes(n));
}

/** Stage 2: the compact band ab (see bandSingularValues) → d, e, with bw (bandWorkBytes(n, b)
 *  bytes) as the working band. On a thread failure thrFailed is set and d, e are incomplete. */
function bandToTridiagonal(ab: usize, n: i32, b: i32, d: usize, e: usize, bw: usize): void {
  if (!bandCopyIn(ab, n, b, bw)) {
    bandFromNarrow(ab, n, b, d, e);
    return;
  }
  // On every thread (sweeps pipelined: see band.ts); progress counters start at 0.
  const nt = max(thrN, 1);
  for (let t = 0; t < nt; t++) store<i32>(bandProgress(n, b, bw, t), 0);
  const args = argBase();
  store<u32>(args, <u32>bw);
  store<i32>(args, n, 4);
  store<i32>(args, b, 8);
  if (!run(JOB_BAND_CHASE)) return;
  if (ASC_FEATURE_THREADS && nt > 1 && atomic.load<i32>(thrCtl + C_ERR) != 0) {
    thrFailed = 2; // every thread returned, but one gave up waiting: the band is incomplete
    return;
  }
  bandCopyOut(n, b, d, e, bw);
}

/** Bytes of bandSingularValues' scratch for order n, half-bandwidth b: d, e, then stage 2's work. */
export function bandEigWorkBytes(n: i32, b: i32): usize {
  return ((<usize>max(n, 1)) << 4) + bandWorkBytes(n, b);
}

/**
 * Singular values from a band that a reduction elsewhere produced (the WebGPU dense → band
 * stage): ab is the compact lower band (row i: A[i][i−b .. i] at doubles i·(b+1) + (c − i + b);
 * left of column 0: 0), already scaled to a safe range by the caller. out[0..n) =
 * sqrt(max(λ, 0)), descending. Stage 2 (bulge chasing, on every thread), then QL: the same
 * tail as gramSingularValues. Returns 0, >0 when QL did not converge, −1 on a thread failure.
 */
export function bandSingularValues(ab: usize, n: i32, b: i32, work: usize, out: usize): i32 {
  if (n <= 0) return 0;
  const nb = (<usize>n) << 3;
  const d = work,
    e = work + nb,
    bw = work + 2 * nb;
  bandToTridiagonal(ab, n, b, d, e, bw);
  if (thrFailed != 0) return -1;
  return tridiagonalSingularValues(d, e, n, 1.0, out);
}

/** out[0..n) = sqrt(max(λ·scale, 0)), descending, for the eigenvalues λ of the tridiagonal
 *  (d, e) (e[i] couples i−1 and i; destroyed). Returns 0, or >0 when QL did not converge. */
function tridiagonalSingularValues(d: usize, e: usize, n: i32, scale: f64, out: usize): i32 {
  for (let i = 0; i < n; i++) {
    const o = (<usize>i) << 3;
    const x = load<f64>(e + o);
    store<f64>(e + o, x * x);
  }
  const info = tqlrat(d, e, n);
  if (info != 0) return info;
  for (let i = 0; i < n; i++) {
    const lam = load<f64>(d + ((<usize>i) << 3)) * scale;
    store<f64>(out + ((<usize>(n - 1 - i)) << 3), sqrt<f64>(max(lam, 0.0)));
  }
  return 0;
}

/** Bytes of the compact band copy (n rows of b + 1 values), rounded to 64. */
export function bandCopyBytes(n: i32): usize {
  return (<usize>n * <usize>(bandB + 1) * 8 + 63) & ~(<usize>63);
}

/**
 * Singular values from a Gram matrix: G (padded packed lower triangle of order n; destroyed) → out[0..n)
 * = sqrt(max(λ, 0)) in descending order. work: eigWorkBytes(n) bytes.
 * Returns 0, or >0 when the QL iteration did not converge.
 */
export function gramSingularValues(g: usize, n: i32, work: usize, out: usize): i32 {
  if (n <= 0) return 0;
  const nb = (<usize>n) << 3;
  const d = work,
    e = work + nb,
    tmp = work + 2 * nb;
  const inv = scaleLower(g, n);
  if (inv == 0.0) {
    memory.fill(out, 0, nb);
    return 0;
  }
  if (n >= twoStageMin) {
    tridiagonalizeTwoStage(g, n, d, e, tmp);
    if (thrFailed != 0) return -1;
  } else {
    tridiagonalizeBlocked(g, n, d, e, tmp);
    if (thrFailed != 0) return -1;
  }
  return tridiagonalSingularValues(d, e, n, inv, out);
}
