// Vector helpers shared by the kernels (linalg.ts, band.ts): contiguous float64 vectors,
// f64x2 SIMD, no alignment assumed (v128 loads and stores are unaligned-safe in wasm).

/** a·b + c, lane-wise. With --enable relaxed-simd this is f64x2.relaxed_madd (a fused
 *  multiply-add where the hardware has one: one rounding instead of two, so never less
 *  accurate); otherwise mul + add. ASC_FEATURE_RELAXED_SIMD is a compile-time constant, so
 *  each build contains exactly one of the two forms. (Binaryen -O3 inlines it; no
 *  @inline decorator, which prettier cannot parse on a function.) */
export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f64x2.relaxed_madd(a, b, c);
  return f64x2.add(f64x2.mul(a, b), c);
}

/** The sum of the two lanes. */
export function hsum(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/** x[0..n) · y[0..n). */
export function dotN(x: usize, y: usize, n: i32): f64 {
  let s0 = f64x2.splat(0),
    s1 = f64x2.splat(0);
  let c = 0;
  for (; c + 3 < n; c += 4) {
    const o = (<usize>c) << 3;
    s0 = madd(v128.load(x + o), v128.load(y + o), s0);
    s1 = madd(v128.load(x + o, 16), v128.load(y + o, 16), s1);
  }
  if (c + 1 < n) {
    const o = (<usize>c) << 3;
    s0 = madd(v128.load(x + o), v128.load(y + o), s0);
    c += 2;
  }
  let s = hsum(f64x2.add(s0, s1));
  if (c < n) {
    const o = (<usize>c) << 3;
    s += load<f64>(x + o) * load<f64>(y + o);
  }
  return s;
}

/** y[0..n) += s·x[0..n). */
export function axpyN(y: usize, x: usize, s: f64, n: i32): void {
  const sv = f64x2.splat(s);
  let c = 0;
  for (; c + 1 < n; c += 2) {
    const o = (<usize>c) << 3;
    v128.store(y + o, madd(sv, v128.load(x + o), v128.load(y + o)));
  }
  if (c < n) {
    const o = (<usize>c) << 3;
    store<f64>(y + o, load<f64>(y + o) + s * load<f64>(x + o));
  }
}
