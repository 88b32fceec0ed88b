// Host side of a dense → band reduction whose two O(n³) updates run elsewhere (the WebGPU
// dense → band stage, band-gpu.ts): per panel of b columns, O(m·b²) work on f64 vectors.
//
//   panelQR:     Householder QR of an m×b panel (column-major, in place): LAPACK dgeqr2 with
//                dlarfg's reflectors (β = −sign(α)·‖x‖, τ = (β − α)/β, v = x/(α − β), v₀ = 1).
//                Afterwards column c holds R[0..c] above the diagonal, β_c on it, and v_c below;
//                tau[c] = 0 where the column below the diagonal was already zero (H = I).
//   panelT:      T (b×b upper) with H₀H₁…H_{b−1} = I − V T Vᵀ (LAPACK dlarft, forward, columnwise).
//   panelUpdate: W = X − ½ V M with X = Y T and M = Tᵀ Vᵀ X, so that Qᵀ A Q = A − V Wᵀ − W Vᵀ
//                for Y = A V (Y, W row-major m×b; V from the column-major panel).
// Every loop is a contiguous dot or axpy (f64x2), or a short scalar one over b.
import { axpyN, dotN } from './vec';

/** Householder QR of the column-major m×b panel q (m ≥ 1), in place; tau: b doubles. */
export function panelQR(q: usize, m: i32, b: i32, tau: usize): void {
  const nref = min(m, b);
  for (let c = 0; c < b; c++) store<f64>(tau + ((<usize>c) << 3), 0.0);
  for (let c = 0; c < nref; c++) {
    const col = q + ((<usize>c * <usize>m) << 3);
    const xc = col + ((<usize>c) << 3); // x = q[c.., c]
    const len = m - c;
    const alpha = load<f64>(xc);
    const xnorm2 = dotN(xc + 8, xc + 8, len - 1);
    if (xnorm2 == 0.0) continue; // H = I, τ = 0
    const beta = (alpha >= 0.0 ? -1.0 : 1.0) * sqrt<f64>(alpha * alpha + xnorm2);
    const t = (beta - alpha) / beta;
    store<f64>(tau + ((<usize>c) << 3), t);
    const inv = 1.0 / (alpha - beta);
    for (let r = 1; r < len; r++) store<f64>(xc + ((<usize>r) << 3), load<f64>(xc + ((<usize>r) << 3)) * inv);
    store<f64>(xc, 1.0); // v₀ while the reflector is applied; β replaces it below
    for (let d = c + 1; d < b; d++) {
      const yd = q + ((<usize>d * <usize>m + <usize>c) << 3);
      axpyN(yd, xc, -t * dotN(xc, yd, len), len);
    }
    store<f64>(xc, beta);
  }
}

/** T (b×b, row-major, upper) from the reflectors panelQR left in q and tau. */
export function panelT(q: usize, m: i32, b: i32, tau: usize, t: usize, z: usize): void {
  memory.fill(t, 0, (<usize>(b * b)) << 3);
  const nref = min(m, b);
  for (let i = 0; i < nref; i++) {
    const ti = load<f64>(tau + ((<usize>i) << 3));
    store<f64>(t + ((<usize>(i * b + i)) << 3), ti);
    if (ti == 0.0) continue;
    // v_i = e_i + q[i+1.., i]; v_l (l < i) is q[l+1.., l] below its unit diagonal, so over rows ≥ i
    // v_l · v_i = q[i][l] + q[i+1..][l] · q[i+1..][i].
    const vi = q + ((<usize>i * <usize>m + <usize>(i + 1)) << 3);
    for (let l = 0; l < i; l++) {
      const cl = q + ((<usize>l * <usize>m) << 3);
      if (load<f64>(tau + ((<usize>l) << 3)) == 0.0) {
        store<f64>(z + ((<usize>l) << 3), 0.0);
        continue;
      }
      const d = load<f64>(cl + ((<usize>i) << 3)) + dotN(cl + ((<usize>(i + 1)) << 3), vi, m - i - 1);
      store<f64>(z + ((<usize>l) << 3), -ti * d);
    }
    for (let l = 0; l < i; l++) {
      let acc = 0.0;
      for (let p = l; p < i; p++) acc += load<f64>(t + ((<usize>(l * b + p)) << 3)) * load<f64>(z + ((<usize>p) << 3));
      store<f64>(t + ((<usize>(l * b + i)) << 3), acc);
    }
  }
}

/** V[r][p] (p ≤ r) of the reflectors in q: below the diagonal q itself (zero where τ_p = 0,
 *  since panelQR only skips columns that are already zero there), 1 or 0 on it. */
function vAt(q: usize, m: i32, tau: usize, r: i32, p: i32): f64 {
  if (r == p) return load<f64>(tau + ((<usize>p) << 3)) != 0.0 ? 1.0 : 0.0;
  return load<f64>(q + ((<usize>p * <usize>m + <usize>r) << 3));
}

/** w (row-major m×b) = X − ½ V M; y (row-major m×b) is overwritten with X = Y T.
 *  scratch: 2·b² + b doubles (Vᵀ X, M, a row). */
export function panelUpdate(y: usize, q: usize, m: i32, b: i32, tau: usize, t: usize, w: usize, scratch: usize): void {
  const rowBytes = (<usize>b) << 3;
  const s = scratch;
  const mm = scratch + ((<usize>(b * b)) << 3);
  const row = mm + ((<usize>(b * b)) << 3);
  // X = Y T, row by row: x_r = Σ_p y_r[p] · T[p][p..b) (T upper), then back into y.
  for (let r = 0; r < m; r++) {
    const yr = y + <usize>r * rowBytes;
    memory.fill(row, 0, rowBytes);
    for (let p = 0; p < b; p++) {
      const o = (<usize>p) << 3;
      axpyN(row + o, t + <usize>p * rowBytes + o, load<f64>(yr + o), b - p);
    }
    memory.copy(yr, row, rowBytes);
  }
  // S = Vᵀ X (b×b): row a accumulates V[r][a]·x_r.
  memory.fill(s, 0, (<usize>(b * b)) << 3);
  for (let r = 0; r < m; r++) {
    const xr = y + <usize>r * rowBytes;
    for (let a = 0; a < min(b, r + 1); a++) {
      const va = vAt(q, m, tau, r, a);
      if (va != 0.0) axpyN(s + <usize>a * rowBytes, xr, va, b);
    }
  }
  // M = Tᵀ S.
  for (let a = 0; a < b; a++) {
    const ma = mm + <usize>a * rowBytes;
    memory.fill(ma, 0, rowBytes);
    for (let p = 0; p <= a; p++) axpyN(ma, s + <usize>p * rowBytes, load<f64>(t + ((<usize>(p * b + a)) << 3)), b);
  }
  // W = X − ½ V M.
  for (let r = 0; r < m; r++) {
    const wr = w + <usize>r * rowBytes;
    memory.copy(wr, y + <usize>r * rowBytes, rowBytes);
    for (let p = 0; p < min(b, r + 1); p++) {
      const vp = vAt(q, m, tau, r, p);
      if (vp != 0.0) axpyN(wr, mm + <usize>p * rowBytes, -0.5 * vp, b);
    }
  }
}
