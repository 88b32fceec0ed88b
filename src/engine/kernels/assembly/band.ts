// Spectroscope numerical kernels: symmetric band → tridiagonal (stage 2 of the two-stage
// eigenvalue reduction; eigenvalues only, so no transformation is ever accumulated).
//
// Algorithm: Householder bulge chasing (Lang's successive band reduction, the scheme of
// LAPACK dsytrd_sb2st / dsb2st_kernels). Sweep j annihilates column j
// below its subdiagonal with one reflector H₀ of length ≤ b acting on rows/columns
// s₀ = j+1 .. j+b. Applying H₀ from the right to the b rows below that block fills in a
// b×b "bulge" (row − column up to 2b−1). Only the FIRST column of the bulge is annihilated
// (by H₁, acting on rows s₁ = s₀+b ..), which pushes the bulge b rows further down; the rest
// of each bulge is left in place, because it lies exactly in the column that sweep j+1's
// reflector for that block annihilates anyway. Each sweep is chased to the bottom of the
// matrix; on one thread before the next one starts (on several: pipelined, see below). Per step: a two-sided update of a b×b diagonal block
// (symv + syr2, 4b² flops) and a right+left update of the b×b block below it (8b² flops),
// so ≈ 6·n²·b flops in all, every kernel streaming contiguous rows (f64x2 SIMD).
//
// Storage: a working copy of the matrix in `work` with W = min(2b, n−1) subdiagonals, row-
// major compact lower band: A[i][c] (i−W ≤ c ≤ i) lives at double offset i·W + c + W. So
// the band behaves like a dense row-major matrix with leading dimension W: a row segment is
// contiguous and a column steps by W doubles. The bulge (row − column ≤ 2b−1) always fits.
// Only the lower triangle is stored and read; the upper one is implied by symmetry.
//
// Accuracy: every transformation is an exact-arithmetic orthogonal similarity computed with
// Householder reflectors, hence backward stable: the eigenvalues of the resulting
// tridiagonal are those of A + δA with ‖δA‖ ~ c·ε·‖A‖.
//
// Threads (the shared-memory build): sweeps are dealt round-robin in groups of GROUP, group g
// to thread g mod nt, and pipelined (each thread runs its group as a wavefront: bandSweeps).
// Step k of sweep j (s = j+1+k·b) works on the diagonal block D = [s, s+b)² and
// the block below it, rows [s+b, s+2b) × columns [s, s+b) (step 0 also on column s−1 of rows
// [s, s+b)): all in columns < s+b. Step k+1 of sweep j−1 has D' = [s+b−1, s+2b−1)², which
// overlaps D; step k+2 and every later one of sweep j−1 lie in columns ≥ s+2b−1, disjoint
// from step k. So step k of sweep j waits only until sweep j−1 has finished step k+1 (or the
// sweep), published as a counter per thread; the steps of sweep j−2 it depends on are then
// done too (sweep j−1 waited for them). Every step sees exactly the data it sees in the
// one-thread order and does the same arithmetic: results are bit-identical for any thread
// count.
//
// No alignment is assumed anywhere (v128 loads/stores are unaligned-safe in wasm, and row
// segments of a band start at arbitrary doubles anyway).
import { axpyN, dotN, hsum, madd } from './vec';

/** Effective half-bandwidth: a band wider than n−1 is just a dense matrix. */
function effBand(n: i32, b: i32): i32 {
  return b < n - 1 ? b : n - 1;
}

/** Subdiagonals kept in the working copy: the bulge reaches row − column = 2b−1. */
function workDiags(n: i32, be: i32): i32 {
  return 2 * be < n - 1 ? 2 * be : n - 1;
}

/** Doubles in each scratch vector (v, u, w, y): b+2, rounded up to even. */
function vecLen(be: i32): usize {
  return (<usize>(be + 3)) & ~(<usize>1);
}

/** Bytes between two threads' progress counters (one cache line each: no false sharing). */
const PROGRESS_STRIDE: usize = 64;

/** Sweeps a thread runs together, as a wavefront (see bandSweeps). Band → σ at order 4096 on 2
 *  threads, medians of 7 against 8: 4 was 8 % slower, 16 8 % faster, 32 no better than 16.
 *  A group in flight spans ~GROUP·b rows of the band (~270 KB at b = 32): it stays in L2. */
const GROUP: i32 = 16;

/** Bytes of one sweep's state in a group: s, len, steps done, finished (i32), τ (f64), and
 *  which of its two vectors holds the current reflector (i32). */
const SLOT_STATE: usize = 32;

/** Bytes of one thread's scratch: w, y, then two vectors per sweep of a group, the sweeps'
 *  states, then its progress counter. */
function threadScratchBytes(be: i32): usize {
  return ((<usize>(2 + 2 * GROUP) * vecLen(be)) << 3) + <usize>GROUP * SLOT_STATE + PROGRESS_STRIDE;
}

/** Bytes of scratch the stage needs for order n, half-bandwidth b on nt threads: the working
 *  band, then each thread's scratch. */
export function bandWorkBytes(n: i32, b: i32, nt: i32): usize {
  if (n < 1 || b < 1) return 0;
  const be = effBand(n, b);
  if (be <= 1) return 0; // already tridiagonal: copied straight from ab
  const wd = workDiags(n, be);
  return ((<usize>n * <usize>(wd + 1)) << 3) + <usize>max(nt, 1) * threadScratchBytes(be);
}

// ---------------------------------------------------------------------------------------
// Householder reflector (LAPACK dlarfg semantics)
// ---------------------------------------------------------------------------------------

/** Set by house(): the value that replaces x[0] (H x = beta·e₀). */
let hBeta: f64 = 0;

/** Overwrites x[0..len) (contiguous) with the Householder vector v (v[0] = 1) such that
 *  (I − τ v vᵀ) x = beta·e₀; returns τ (0 when x[1..] is already zero: H = I) and leaves
 *  beta in hBeta. The sum of squares is first taken unscaled (one pass, which also finds
 *  the largest magnitude); only when that magnitude is so large or small that squaring
 *  could overflow or lose accuracy to underflow is it redone on x scaled by it (rare).
 *  (Comparisons, not f64.max: V8 expands the NaN-propagating max into a branchy sequence.) */
function house(x: usize, len: i32): f64 {
  const alpha = load<f64>(x);
  hBeta = alpha;
  let amax: f64 = 0,
    ssq: f64 = 0;
  for (let i = 1; i < len; i++) {
    const t = load<f64>(x + ((<usize>i) << 3));
    const at = abs(t);
    if (at > amax) amax = at;
    ssq += t * t;
  }
  if (amax == 0) {
    // Nothing to annihilate (also len ≤ 1). v = e₀ keeps every later formula valid.
    store<f64>(x, 1.0);
    return 0;
  }
  const sa = amax > abs(alpha) ? amax : abs(alpha);
  let nrm: f64;
  if (sa > 1e-140 && sa < 1e140) {
    nrm = sqrt(alpha * alpha + ssq);
  } else {
    const a0 = alpha / sa;
    ssq = a0 * a0;
    for (let i = 1; i < len; i++) {
      const t = load<f64>(x + ((<usize>i) << 3)) / sa;
      ssq += t * t;
    }
    nrm = sa * sqrt(ssq);
  }
  const beta = alpha >= 0 ? -nrm : nrm;
  hBeta = beta;
  // |alpha − beta| = |alpha| + |beta| ≥ amax > 0: no cancellation, no overflow.
  const f = 1.0 / (alpha - beta);
  store<f64>(x, 1.0);
  for (let i = 1; i < len; i++) {
    const p = x + ((<usize>i) << 3);
    store<f64>(p, load<f64>(p) * f);
  }
  return (beta - alpha) / beta;
}

// ---------------------------------------------------------------------------------------
// Kernels on the working band (ld = row stride in bytes)
// ---------------------------------------------------------------------------------------

/** D ← H D H for the symmetric len×len diagonal block D at `dp` (lower triangle, rows ld
 *  bytes apart), H = I − τ v vᵀ. Classic symmetric rank-2 form:
 *    w = τ D v,  w ← w − (τ/2)(wᵀv) v,  D ← D − v wᵀ − w vᵀ.
 *  D v is formed from the lower triangle only: row i contributes its dot with v to w[i] and
 *  the axpy row·v[i] to w[0..i). Rows are taken in pairs so that each load of v and w
 *  (and each store of w) serves two rows: with rows this short (≤ b), memory operations
 *  and loop overhead, not flops, are what the time goes to (measured: ~1.5× over 1 row). */
function symUpdate(dp: usize, ld: usize, len: i32, v: usize, w: usize, tau: f64): void {
  for (let i = 0; i < len; i++) store<f64>(w + ((<usize>i) << 3), 0);
  let i = 0;
  for (; i + 1 < len; i += 2) {
    // Rows i and i+1 (i even, so the shared column range [0, i) has even length).
    const r0 = dp + <usize>i * ld,
      r1 = r0 + ld;
    const io = (<usize>i) << 3;
    const v0 = load<f64>(v + io),
      v1 = load<f64>(v + io, 8);
    const v0v = f64x2.splat(v0),
      v1v = f64x2.splat(v1);
    let s0 = f64x2.splat(0),
      s1 = f64x2.splat(0),
      t0 = f64x2.splat(0),
      t1 = f64x2.splat(0);
    let c = 0;
    for (; c + 3 < i; c += 4) {
      const o = (<usize>c) << 3;
      const a0 = v128.load(r0 + o),
        a1 = v128.load(r0 + o, 16),
        b0 = v128.load(r1 + o),
        b1 = v128.load(r1 + o, 16);
      const x0 = v128.load(v + o),
        x1 = v128.load(v + o, 16);
      s0 = madd(a0, x0, s0);
      s1 = madd(a1, x1, s1);
      t0 = madd(b0, x0, t0);
      t1 = madd(b1, x1, t1);
      v128.store(w + o, madd(b0, v1v, madd(a0, v0v, v128.load(w + o))));
      v128.store(w + o, madd(b1, v1v, madd(a1, v0v, v128.load(w + o, 16))), 16);
    }
    if (c < i) {
      const o = (<usize>c) << 3;
      const a0 = v128.load(r0 + o),
        b0 = v128.load(r1 + o),
        x0 = v128.load(v + o);
      s0 = madd(a0, x0, s0);
      t0 = madd(b0, x0, t0);
      v128.store(w + o, madd(b0, v1v, madd(a0, v0v, v128.load(w + o))));
    }
    const x = load<f64>(r1 + io); // A[i+1][i]
    store<f64>(w + io, load<f64>(w + io) + hsum(f64x2.add(s0, s1)) + load<f64>(r0 + io) * v0 + x * v1);
    store<f64>(w + io, load<f64>(w + io, 8) + hsum(f64x2.add(t0, t1)) + x * v0 + load<f64>(r1 + io, 8) * v1, 8);
  }
  if (i < len) {
    // Last row when len is odd (i even again).
    const r0 = dp + <usize>i * ld;
    const io = (<usize>i) << 3;
    const v0 = load<f64>(v + io);
    store<f64>(w + io, load<f64>(w + io) + dotN(r0, v, i) + load<f64>(r0 + io) * v0);
    axpyN(w, r0, v0, i);
  }
  let wv: f64 = 0;
  for (let k = 0; k < len; k++) {
    const o = (<usize>k) << 3;
    const t = tau * load<f64>(w + o);
    store<f64>(w + o, t);
    wv += t * load<f64>(v + o);
  }
  const al = -0.5 * tau * wv;
  for (let k = 0; k < len; k++) {
    const o = (<usize>k) << 3;
    store<f64>(w + o, load<f64>(w + o) + al * load<f64>(v + o));
  }
  i = 0;
  for (; i + 1 < len; i += 2) {
    const r0 = dp + <usize>i * ld;
    const io = (<usize>i) << 3;
    const v1 = load<f64>(v + io, 8),
      w1 = load<f64>(w + io, 8);
    rank2Rows(r0, r0 + ld, i + 1, w, v, load<f64>(v + io), load<f64>(w + io), v1, w1);
    // Diagonal element of row i+1.
    const q = r0 + ld + io + 8;
    store<f64>(q, load<f64>(q) - 2 * v1 * w1);
  }
  if (i < len) {
    const io = (<usize>i) << 3;
    rank2Row(dp + <usize>i * ld, i + 1, w, v, load<f64>(v + io), load<f64>(w + io));
  }
}

/** row[0..cnt) −= a·x[0..cnt) + b·y[0..cnt) (x, y are the vectors, a, b the row's scalars). */
function rank2Row(row: usize, cnt: i32, x: usize, y: usize, a: f64, b: f64): void {
  const av = f64x2.splat(-a),
    bv = f64x2.splat(-b);
  let c = 0;
  for (; c + 1 < cnt; c += 2) {
    const o = (<usize>c) << 3;
    v128.store(row + o, madd(av, v128.load(x + o), madd(bv, v128.load(y + o), v128.load(row + o))));
  }
  if (c < cnt) {
    const o = (<usize>c) << 3;
    store<f64>(row + o, load<f64>(row + o) - (a * load<f64>(x + o) + b * load<f64>(y + o)));
  }
}

/** rank2Row on two rows at once (r0 with scalars a0, b0; r1 with a1, b1): x and y are
 *  loaded once for both. */
function rank2Rows(r0: usize, r1: usize, cnt: i32, x: usize, y: usize, a0: f64, b0: f64, a1: f64, b1: f64): void {
  const a0v = f64x2.splat(-a0),
    b0v = f64x2.splat(-b0),
    a1v = f64x2.splat(-a1),
    b1v = f64x2.splat(-b1);
  let c = 0;
  for (; c + 3 < cnt; c += 4) {
    const o = (<usize>c) << 3;
    const x0 = v128.load(x + o),
      x1 = v128.load(x + o, 16),
      y0 = v128.load(y + o),
      y1 = v128.load(y + o, 16);
    v128.store(r0 + o, madd(a0v, x0, madd(b0v, y0, v128.load(r0 + o))));
    v128.store(r0 + o, madd(a0v, x1, madd(b0v, y1, v128.load(r0 + o, 16))), 16);
    v128.store(r1 + o, madd(a1v, x0, madd(b1v, y0, v128.load(r1 + o))));
    v128.store(r1 + o, madd(a1v, x1, madd(b1v, y1, v128.load(r1 + o, 16))), 16);
  }
  if (c + 1 < cnt) {
    const o = (<usize>c) << 3;
    const x0 = v128.load(x + o),
      y0 = v128.load(y + o);
    v128.store(r0 + o, madd(a0v, x0, madd(b0v, y0, v128.load(r0 + o))));
    v128.store(r1 + o, madd(a1v, x0, madd(b1v, y0, v128.load(r1 + o))));
    c += 2;
  }
  if (c < cnt) {
    const o = (<usize>c) << 3;
    const xc = load<f64>(x + o),
      yc = load<f64>(y + o);
    store<f64>(r0 + o, load<f64>(r0 + o) - (a0 * xc + b0 * yc));
    store<f64>(r1 + o, load<f64>(r1 + o) - (a1 * xc + b1 * yc));
  }
}

/** Second result of dot2. */
let dot2b: f64 = 0;

/** Dot products of rows x0 and x1 with y (length cnt): returns x0·y, leaves x1·y in dot2b. */
function dot2(x0: usize, x1: usize, y: usize, cnt: i32): f64 {
  let s0 = f64x2.splat(0),
    s1 = f64x2.splat(0),
    t0 = f64x2.splat(0),
    t1 = f64x2.splat(0);
  let c = 0;
  for (; c + 3 < cnt; c += 4) {
    const o = (<usize>c) << 3;
    const y0 = v128.load(y + o),
      y1 = v128.load(y + o, 16);
    s0 = madd(v128.load(x0 + o), y0, s0);
    s1 = madd(v128.load(x0 + o, 16), y1, s1);
    t0 = madd(v128.load(x1 + o), y0, t0);
    t1 = madd(v128.load(x1 + o, 16), y1, t1);
  }
  if (c + 1 < cnt) {
    const o = (<usize>c) << 3;
    const y0 = v128.load(y + o);
    s0 = madd(v128.load(x0 + o), y0, s0);
    t0 = madd(v128.load(x1 + o), y0, t0);
    c += 2;
  }
  let s = hsum(f64x2.add(s0, s1)),
    t = hsum(f64x2.add(t0, t1));
  if (c < cnt) {
    const o = (<usize>c) << 3;
    const yc = load<f64>(y + o);
    s += load<f64>(x0 + o) * yc;
    t += load<f64>(x1 + o) * yc;
  }
  dot2b = t;
  return s;
}

/** y[0..cnt) += a0·x0[0..cnt) + a1·x1[0..cnt) (one load/store of y for two rows). */
function axpy2(y: usize, x0: usize, x1: usize, cnt: i32, a0: f64, a1: f64): void {
  const a0v = f64x2.splat(a0),
    a1v = f64x2.splat(a1);
  let c = 0;
  for (; c + 3 < cnt; c += 4) {
    const o = (<usize>c) << 3;
    v128.store(y + o, madd(a1v, v128.load(x1 + o), madd(a0v, v128.load(x0 + o), v128.load(y + o))));
    v128.store(y + o, madd(a1v, v128.load(x1 + o, 16), madd(a0v, v128.load(x0 + o, 16), v128.load(y + o, 16))), 16);
  }
  if (c + 1 < cnt) {
    const o = (<usize>c) << 3;
    v128.store(y + o, madd(a1v, v128.load(x1 + o), madd(a0v, v128.load(x0 + o), v128.load(y + o))));
    c += 2;
  }
  if (c < cnt) {
    const o = (<usize>c) << 3;
    store<f64>(y + o, load<f64>(y + o) + a0 * load<f64>(x0 + o) + a1 * load<f64>(x1 + o));
  }
}

/** One chase step on the m×len block R at `rp` (rows ld bytes apart) lying below the
 *  diagonal block that H = I − τ v vᵀ (length len) has just transformed:
 *    R' = R H                         (right half of the similarity with H)
 *    U  = reflector annihilating R'[1..m)[0]  (returned: τ_u, vector u in `u`)
 *    R'' = U R', with R''[:, 0] = (beta, 0, …)
 *  fused into three passes over R instead of four, using R' = R − τ p vᵀ with p = R v:
 *    1. p = R v;  x = R[:, 0] − τ p v₀ → u = house(x)
 *    2. y = R'ᵀu = Rᵀu − τ (uᵀp) v            (columns 1..len)
 *    3. R[:, 1..] −= τ p vᵀ + τ_u u yᵀ
 *  p is kept in `pb`, y in `yb` (indexed by column). Rows go in pairs (shared loads). */
function chase(rp: usize, ld: usize, m: i32, len: i32, v: usize, tau: f64, u: usize, pb: usize, yb: usize): f64 {
  let i = 0;
  for (; i + 1 < m; i += 2) {
    const row = rp + <usize>i * ld;
    const io = (<usize>i) << 3;
    const p0 = dot2(row, row + ld, v, len),
      p1 = dot2b;
    store<f64>(pb + io, p0);
    store<f64>(pb + io, p1, 8);
    store<f64>(u + io, load<f64>(row) - tau * p0); // v₀ = 1
    store<f64>(u + io, load<f64>(row + ld) - tau * p1, 8);
  }
  if (i < m) {
    const row = rp + <usize>i * ld;
    const io = (<usize>i) << 3;
    const p = dotN(row, v, len);
    store<f64>(pb + io, p);
    store<f64>(u + io, load<f64>(row) - tau * p);
  }
  const tu = house(u, m);
  const beta = hBeta;
  const c1 = len - 1;
  if (c1 > 0) {
    const v1 = v + 8,
      y1 = yb + 8;
    for (let c = 1; c < len; c++) store<f64>(yb + ((<usize>c) << 3), 0);
    if (tu != 0) {
      let up: f64 = 0;
      for (i = 0; i < m; i++) up += load<f64>(u + ((<usize>i) << 3)) * load<f64>(pb + ((<usize>i) << 3));
      for (i = 0; i + 1 < m; i += 2) {
        const row = rp + <usize>i * ld + 8;
        const io = (<usize>i) << 3;
        axpy2(y1, row, row + ld, c1, load<f64>(u + io), load<f64>(u + io, 8));
      }
      if (i < m) axpyN(y1, rp + <usize>i * ld + 8, load<f64>(u + ((<usize>i) << 3)), c1);
      axpyN(y1, v1, -tau * up, c1);
    }
    for (i = 0; i + 1 < m; i += 2) {
      const row = rp + <usize>i * ld + 8;
      const io = (<usize>i) << 3;
      rank2Rows(row, row + ld, c1, v1, y1, tau * load<f64>(pb + io), tu * load<f64>(u + io), tau * load<f64>(pb + io, 8), tu * load<f64>(u + io, 8));
    }
    if (i < m) {
      const io = (<usize>i) << 3;
      rank2Row(rp + <usize>i * ld + 8, c1, v1, y1, tau * load<f64>(pb + io), tu * load<f64>(u + io));
    }
  }
  store<f64>(rp, beta);
  for (let k = 1; k < m; k++) store<f64>(rp + <usize>k * ld, 0);
  return tu;
}

// ---------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------

// Driver: bandCopyIn, then bandSweeps on every thread (one job), then bandCopyOut. Together
// they reduce the symmetric band matrix in `ab` to tridiagonal form by orthogonal similarity
// transformations: d[0..n) diagonal, e[i] couples i−1 and i, e[0] = 0. ab: compact lower
// band, row-major: row i holds A[i][i−b .. i] at ab + 8·(i·(b+1) + (c − i + b)) for column c
// in [i−b, i]; slots with c < 0 hold 0. work: bandWorkBytes(n, b, nt) bytes (not zeroed).

/** d, e straight from a band that is already tridiagonal or diagonal (effective b ≤ 1):
 *  A[i][i] at slot b, A[i][i−1] at slot b−1. */
export function bandFromNarrow(ab: usize, n: i32, b: i32, d: usize, e: usize): void {
  const bs = <usize>(b + 1);
  for (let i = 0; i < n; i++) {
    const row = ab + ((<usize>i * bs) << 3);
    store<f64>(d + ((<usize>i) << 3), load<f64>(row + ((<usize>b) << 3)));
    store<f64>(e + ((<usize>i) << 3), i > 0 && b > 0 ? load<f64>(row + ((<usize>(b - 1)) << 3)) : 0.0);
  }
}

/** Copies the band into the working band in `work` (zeroing the extra bulge diagonals and the
 *  c < 0 corner). False when there is nothing to chase (effective b ≤ 1: use bandFromNarrow).
 *  The caller zeroes the progress counters (bandProgress) before the sweeps. */
export function bandCopyIn(ab: usize, n: i32, b: i32, work: usize): bool {
  const be = n < 1 || b < 1 ? 0 : effBand(n, b);
  if (be <= 1) return false;
  const bs = <usize>(b + 1); // input row stride (doubles)
  const wd = workDiags(n, be);
  const W = <usize>wd;
  const a = work; // A[i][c] at a + 8·(i·W + c + W)
  for (let i = 0; i < n; i++) {
    const dst = a + ((<usize>i * (W + 1)) << 3); // A[i][i − W]
    const lo = i - be > 0 ? i - be : 0; // first stored column of the input row
    const zeros = lo - (i - wd); // columns i−W .. lo−1
    for (let k = 0; k < zeros; k++) store<f64>(dst + ((<usize>k) << 3), 0);
    const src = ab + ((<usize>i * bs + <usize>(lo - i + b)) << 3);
    memory.copy(dst + ((<usize>zeros) << 3), src, (<usize>(i - lo + 1)) << 3);
  }
  return true;
}

/** Thread tid's scratch: four vectors, then its progress counter. */
function threadScratch(n: i32, be: i32, work: usize, tid: i32): usize {
  const W = <usize>workDiags(n, be);
  return work + ((<usize>n * (W + 1)) << 3) + <usize>tid * threadScratchBytes(be);
}

/** Address of thread tid's progress counter (zeroed by the caller before the sweeps). */
export function bandProgress(n: i32, b: i32, work: usize, tid: i32): usize {
  const be = effBand(n, b);
  return threadScratch(n, be, work, tid) + threadScratchBytes(be) - PROGRESS_STRIDE;
}

/** Spins, then sleeps in 20 µs slices, until the i32 at p reaches target. False when the
 *  i32 at abort becomes non-zero or timeoutMs pass (a helper trapped or hangs). */
function waitAtLeast(p: usize, target: i32, abort: usize, timeoutMs: i32): bool {
  if (!ASC_FEATURE_THREADS) return true;
  for (let s = 0; s < 4096; s++) if (atomic.load<i32>(p) >= target) return true;
  const limit = <i64>timeoutMs * 1000000;
  let waited: i64 = 0;
  while (true) {
    const cur = atomic.load<i32>(p);
    if (cur >= target) return true;
    if (atomic.load<i32>(abort) != 0 || waited >= limit) return false;
    memory.atomic.wait32(p, cur, 20000);
    waited += 20000;
  }
}

/** Thread tid's share (of nt) of the chase: groups of GROUP consecutive sweeps, group g to
 *  thread g mod nt, in order. A thread runs its group as a wavefront: in round r, sweep i of
 *  the group does its step r − i, so each sweep stays one step behind the one before it, which
 *  is all the ordering a step needs (see the top: step k of sweep j only needs step k + 1 of
 *  sweep j − 1, and later steps of j − 1 are disjoint from it). The group's first sweep waits
 *  for the previous group's last sweep (on the previous thread) as a lone sweep did before.
 *  Why groups: consecutive sweeps touch nearly the same rows, so dealing single sweeps
 *  round-robin moved every row between the cores' caches once per sweep (2 threads were no
 *  faster than 1); a group keeps them in one core's cache for GROUP sweeps, and on one thread
 *  the group's rows stay in L2 between sweeps. Every step sees the data it sees in the
 *  one-thread, one-sweep-at-a-time order: results are bit-identical. With nt > 1, abort is the
 *  address of an i32 that becomes non-zero when another thread failed. False when it gave up. */
export function bandSweeps(n: i32, b: i32, work: usize, tid: i32, nt: i32, abort: usize, timeoutMs: i32): bool {
  const be = effBand(n, b);
  const wd = workDiags(n, be);
  const W = <usize>wd;
  const ld: usize = W << 3; // a column steps by W doubles
  const a = work; // A[i][c] at a + 8·(i·W + c + W)
  const vl = vecLen(be) << 3;
  const scratch = threadScratch(n, be, work, tid);
  const w = scratch;
  const y = w + vl;
  const vecs = y + vl; // sweep i of the group: vectors at vecs + 2i·vl and vecs + (2i + 1)·vl
  const states = vecs + <usize>(2 * GROUP) * vl;
  const steps = (n + be - 1) / be + 4; // > the steps of any sweep, + the lag
  const mine = bandProgress(n, b, work, tid);
  const prev = bandProgress(n, b, work, tid > 0 ? tid - 1 : nt - 1);
  const sweeps = n - 2; // sweeps j with j + 2 < n

  for (let j0 = tid * GROUP; j0 < sweeps; j0 += nt * GROUP) {
    const cnt = min(GROUP, sweeps - j0);
    for (let i = 0; i < cnt; i++) {
      store<i32>(states + <usize>i * SLOT_STATE, 0, 12); // not finished
      store<i32>(states + <usize>i * SLOT_STATE, 0, 24); // the reflector in its first vector
    }
    // Progress of the group's last sweep, published after each of its steps: base + steps done;
    // base + steps at the end. The first sweep waits on the previous group's last sweep.
    const last = j0 + cnt - 1;
    const base = last * steps;
    const prevBase = (j0 - 1) * steps;
    const waits = nt > 1 && j0 > 0;
    for (let r = 0; ; r++) {
      let active = false;
      for (let i = 0; i < cnt; i++) {
        const k = r - i; // this round's step of sweep j0 + i
        if (k < 0) {
          active = true;
          break; // the sweeps after it start in later rounds
        }
        const st = states + <usize>i * SLOT_STATE;
        if (load<i32>(st, 12) != 0) continue; // finished
        active = true;
        const j = j0 + i;
        if (i == 0 && waits && !waitAtLeast(prev, prevBase + min(k + 2, steps), abort, timeoutMs)) return false;
        const v = vecs + <usize>(2 * i + load<i32>(st, 24)) * vl;
        let s = 0;
        let len = 0;
        let tau = 0.0;
        if (k == 0) {
          // Step 0 starts by annihilating column j below the subdiagonal (rows j+1 .. j+len).
          len = be < n - 1 - j ? be : n - 1 - j;
          const cp = a + ((<usize>(j + 1) * W + <usize>j + W) << 3); // A[j+1][j]
          for (let q = 0; q < len; q++) store<f64>(v + ((<usize>q) << 3), load<f64>(cp + <usize>q * ld));
          tau = house(v, len);
          store<f64>(cp, hBeta);
          for (let q = 1; q < len; q++) store<f64>(cp + <usize>q * ld, 0);
          s = j + 1;
        } else {
          s = load<i32>(st);
          len = load<i32>(st, 4);
          tau = load<f64>(st, 16);
        }
        // Two-sided update of the diagonal block [s, s+len).
        const dp = a + ((<usize>s * W + <usize>s + W) << 3);
        if (tau != 0) symUpdate(dp, ld, len, v, w, tau);
        const s1 = s + be;
        if (s1 >= n) {
          store<i32>(st, 1, 12);
          if (ASC_FEATURE_THREADS && nt > 1 && j == last) atomic.store<i32>(mine, base + steps);
          continue;
        }
        // Here len == be. Right-apply H to rows [s1, s1+m), create the bulge, and chase its
        // first column one block down with the next reflector (left-applied).
        const m = be < n - s1 ? be : n - s1;
        const rp = a + ((<usize>s1 * W + <usize>s + W) << 3); // A[s1][s]
        const u = vecs + <usize>(2 * i + 1 - load<i32>(st, 24)) * vl;
        tau = chase(rp, ld, m, len, v, tau, u, w, y);
        store<i32>(st, 1 - load<i32>(st, 24), 24); // u holds the current reflector now
        store<i32>(st, s1);
        store<i32>(st, m, 4);
        store<f64>(st, tau, 16);
        // Step k of this sweep is done.
        if (ASC_FEATURE_THREADS && nt > 1 && j == last) atomic.store<i32>(mine, base + k + 1);
      }
      if (!active) break;
    }
  }
  return true;
}

/** d, e from the working band once every sweep is done. */
export function bandCopyOut(n: i32, b: i32, d: usize, e: usize, work: usize): void {
  const W = <usize>workDiags(n, effBand(n, b));
  const a = work;
  for (let i = 0; i < n; i++) {
    const diag = a + ((<usize>i * (W + 1) + W) << 3);
    store<f64>(d + ((<usize>i) << 3), load<f64>(diag));
    store<f64>(e + ((<usize>i) << 3), i > 0 ? load<f64>(diag - 8) : 0.0);
  }
}
