/**
 * WGSL for the Gram product G = XᵀX (X is n×k: the tall weight matrix, or the wide one read
 * transposed), upper-triangle tiles only, in "double-f32" (compensated) arithmetic.
 *
 * WHY compensated: the Gram route squares the condition number. An eigenvalue of G carries an
 * absolute error of about |δG|, so the small singular value σ = sqrt(λ) is off by about
 * sqrt(|δG|). With plain f32 sums |δG| ≈ 1e-7·√n·σmax² and σ errors reach ~1e-4·σmax, far
 * outside our 1e-5·σmax contract. WebGPU has no f64, so each G entry is kept as an unevaluated
 * f32 pair (s, c) with value s + c, and every product a·b is added without rounding error:
 *
 *  - TwoProduct (Dekker): a = ah + al with ah = a rounded to 12 significant bits (done with
 *    integer ops on the bit pattern, so no optimiser can "simplify" it). Then ah·bh, ah·bl,
 *    al·bh, al·bl are exact in f32 (≤ 24-bit significands), and p = fl(a·b) plus
 *    e = ((ah·bh − p) + ah·bl + al·bh) + al·bl is exactly a·b (Dekker 1971; each partial sum is
 *    representable). We do NOT use e = fma(a, b, −p): WGSL lets an implementation evaluate fma
 *    as an unfused multiply then add, which would make e = 0. Dekker's form is exact whether
 *    or not the compiler contracts any a·b + c into an fma (every product in it is exact).
 *  - TwoSum (Knuth): s' + err = s + p exactly, err = (s − (s' − z)) + (p − z), z = s' − s.
 *  - The exact error terms go into c in plain f32 (Ogita–Rump–Oishi "Dot2"). c's own rounding
 *    is ~2⁻²⁴·|c| per step; after each TK-step tile we renormalise (s, c) with FastTwoSum so c
 *    stays near ulp(s) and never grows. Net: a ~48-bit significand instead of float64's 53, a
 *    per-entry error ≈ √n·2⁻⁴⁸·Σ|a·b|. Measured: 4e-15…7e-14 of max|G| for n ≤ 1000 (plain
 *    f32: 2e-7…1e-6; naive float64: ~1e-15), σ errors ≤ 1e-7·σmax even on rank-deficient
 *    inputs (plain f32: 3e-4). Renormalising after every step only buys another 2–3×.
 *
 * EXACT PRODUCTS (the EXACT_PRODUCTS pipeline): when every value of a chunk has a significand of
 * at most 12 bits, which is what BF16 (8 bits) and F16 (11 bits) weights decode to, a·b has at
 * most 24 significant bits and fl(a·b) is already exact. TwoProduct is then skipped: no split,
 * e = 0, about 13 instructions per multiply-add instead of about 24. The host picks this pipeline
 * per chunk from the bit patterns it scans anyway, so the sums are exactly those of the general
 * kernel; a compiler may fuse the exact product into an add, which changes nothing.
 *
 * The host combines s + c in float64 (exact for an f32 pair) and hands G to the float64
 * eigensolver.
 *
 * CAVEAT (WGSL spec, "Reassociation and Fusion"): an implementation may reassociate and fuse
 * f32 expressions, which can fold err and e to 0. NVIDIA's driver did exactly that to the first
 * version of this kernel (probe error 7.8e-7 on an H200, the same as plain f32). So every
 * intermediate of TwoProduct and TwoSum now passes through opq(): an XOR of its bits with a
 * uniform that is always 0. A compiler cannot prove that value, so it cannot see through opq()
 * and is left no algebra to apply: the only freedom it keeps is fusing an exact product into an
 * add, which changes nothing here. createGpuGram() still runs this very pipeline on a probe
 * matrix and refuses the device when the result is not accurate to 1e-11 (plain f32 gives ~1e-6
 * there); the caller then stays on WASM, so a compiler that still breaks it costs speed, never
 * accuracy.
 *
 * Range: products and sums must stay normal f32. The host only accepts inputs with
 * max|x| ≤ 2^32 (no overflow for any n) and max|x| ≥ 2^-24 (anything flushed to zero is then
 * ≤ 2^-126, negligible against σmax² ≥ max|x|²).
 *
 * Layout of the work: workgroup = 16×16 threads = one 64×64 tile of G; thread (tx, ty) owns
 * rows ty + 16u and columns tx + 16v (u, v < 4) so that shared-memory reads are conflict-free
 * (A: broadcast, B: consecutive) and global stores coalesce. The reduction runs in steps of
 * TK = 16 through two 16×64 shared tiles (8 KiB). Tiles below the diagonal return at once.
 * X element (t, i) lives at x[t·strideT + i·strideI]: (strideT, strideI) = (k, 1) for row
 * blocks of a tall matrix and (1, ld) for a wide one, so neither is ever transposed.
 *
 * Each dispatch covers reduction indices [t0, tEnd) of the bound chunk and ONE band of tile
 * rows (row0 …), and adds into G, which it reads first: chunks, passes and bands all
 * accumulate on the GPU.
 */
export const TILE = 64;
export const TK = 16;

export const GRAM_WGSL = /* wgsl */ `
override COMPENSATED: bool = true;
// e = fma(a, b, -p) instead of Dekker's TwoProduct: exact only where fma is fused (see the
// TwoProduct note above); opt-in, for gpu-bench, and refused by the self-test where unfused.
override FMA_PRODUCT: bool = false;
// Every product of the bound chunk is exact in f32 (significands of at most 12 bits): see
// EXACT PRODUCTS above. The host sets it per chunk.
override EXACT_PRODUCTS: bool = false;
// The inner loop's trip count as the compiler sees it. By default TK, a constant: a compiler may
// then unroll all TK steps, which in the general kernel is ~16 × 4 × 4 × ~33 ≈ 8 k instructions
// (~130 KB of machine code), more than a GPU's instruction caches hold. With ROLLED_INNER it is
// TK plus the opaque zero, which no compiler can unroll completely. A diagnosis for gpu-bench:
// the H100 ran the Gram at ~10 % of its instruction bound for reasons not yet seen, and an
// instruction-cache-bound loop would look exactly like that. Same arithmetic, same sums.
override ROLLED_INNER: bool = false;

const TILE: u32 = ${TILE}u;
const TK: u32 = ${TK}u;

struct Params {
  k: u32,        // Gram order: indices >= k are zero padding
  kp: u32,       // padded order = row stride of G
  t0: u32,       // reduction range of this dispatch within the bound chunk
  tEnd: u32,
  strideT: u32,  // element strides of X(t, i) in x
  strideI: u32,
  row0: u32,     // first tile row of the band that g holds
  opaqueZero: u32, // always 0: see opq()
};

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> g: array<vec2<f32>>; // (s, c) per entry, band rows only
@group(0) @binding(2) var<uniform> P: Params;

var<workgroup> As: array<f32, ${TK * TILE}>; // [TK][TILE]: X(t, i0 + i)
var<workgroup> Bs: array<f32, ${TK * TILE}>; // [TK][TILE]: X(t, j0 + j)

fn loadX(t: u32, i: u32) -> f32 {
  if (t < P.tEnd && i < P.k) {
    return x[t * P.strideT + i * P.strideI];
  }
  return 0.0;
}

// a rounded to 12 significant bits, by integer ops on the bits (round half away from zero).
// a - hi12(a) is then exact and also fits in 12 bits: Veltkamp's split without the
// multiply-by-4097 trick, which an optimiser could rewrite.
fn hi12(a: vec4<f32>) -> vec4<f32> {
  return bitcast<vec4<f32>>((bitcast<vec4<u32>>(a) + vec4<u32>(0x800u)) & vec4<u32>(0xfffff000u));
}

// Always zero (the host writes 0), but a compiler cannot know that: opq(x) is x, yet no
// algebra can see through it. Every intermediate of TwoProduct and TwoSum passes through one,
// so the order of evaluation below is the only one the compiler can use (see CAVEAT above).
fn opq(x: vec4<f32>) -> vec4<f32> {
  return bitcast<vec4<f32>>(bitcast<vec4<u32>>(x) ^ vec4<u32>(P.opaqueZero));
}

// (s, c) += a * b for 4 columns, without rounding error except in c.
fn dot2(s: ptr<function, vec4<f32>>, c: ptr<function, vec4<f32>>, a: f32, ah: f32, al: f32, b: vec4<f32>, bh: vec4<f32>, bl: vec4<f32>) {
  if (COMPENSATED) {
    let p = opq(a * b);                         // fl(a·b), fixed: no later fma can absorb it
    var e: vec4<f32>;
    if (FMA_PRODUCT) {
      e = fma(vec4<f32>(a), b, -p);             // a·b − p, exact when fused
    } else {
      let e1 = opq(ah * bh - p);                // TwoProduct (Dekker): every step is exact,
      let e2 = opq(e1 + ah * bl);               // so p + e == a·b
      let e3 = opq(e2 + al * bh);
      e = e3 + al * bl;
    }
    let s1 = opq(*s + p);                       // TwoSum (Knuth): s1 + err == s + p
    let z = opq(s1 - *s);
    let err = opq(*s - opq(s1 - z)) + opq(p - z);
    *s = s1;
    *c = *c + (err + e);
  } else {
    *s = *s + a * b;
  }
}

// (s, c) += a * b for 4 columns when a·b is exact in f32 (EXACT_PRODUCTS): TwoSum only.
fn dot2Exact(s: ptr<function, vec4<f32>>, c: ptr<function, vec4<f32>>, a: f32, b: vec4<f32>) {
  let p = a * b;                                // exact, so fusing it into an add below is harmless
  let s1 = opq(*s + p);                         // TwoSum (Knuth): s1 + err == s + p
  let z = opq(s1 - *s);
  let err = opq(*s - opq(s1 - z)) + opq(p - z);
  *s = s1;
  *c = *c + err;
}

// FastTwoSum (|s| >= |c|): keeps c within half an ulp of s so its own rounding stays tiny.
fn renorm(s: ptr<function, vec4<f32>>, c: ptr<function, vec4<f32>>) {
  if (COMPENSATED) {
    let h = opq(*s + *c);
    *c = *c - opq(h - *s);
    *s = h;
  }
}

fn gIndex(r: u32, col: u32) -> u32 {
  return r * P.kp + col;
}

struct Row4 { s: vec4<f32>, c: vec4<f32> }

// Row r of G at columns col, col + 16, col + 32, col + 48 (a thread's share of one tile row).
fn loadRow(r: u32, col: u32) -> Row4 {
  let e0 = g[gIndex(r, col)];
  let e1 = g[gIndex(r, col + 16u)];
  let e2 = g[gIndex(r, col + 32u)];
  let e3 = g[gIndex(r, col + 48u)];
  return Row4(vec4<f32>(e0.x, e1.x, e2.x, e3.x), vec4<f32>(e0.y, e1.y, e2.y, e3.y));
}

fn storeRow(r: u32, col: u32, s: vec4<f32>, c: vec4<f32>) {
  g[gIndex(r, col)] = vec2<f32>(s.x, c.x);
  g[gIndex(r, col + 16u)] = vec2<f32>(s.y, c.y);
  g[gIndex(r, col + 32u)] = vec2<f32>(s.z, c.z);
  g[gIndex(r, col + 48u)] = vec2<f32>(s.w, c.w);
}

@compute @workgroup_size(16, 16)
fn main(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let ti = P.row0 + wg.y;
  let tj = wg.x;
  if (tj < ti) {
    return; // lower triangle: the host mirrors it (uniform per workgroup, so barriers stay legal)
  }
  let tx = lid.x;
  let ty = lid.y;
  let i0 = ti * TILE;
  let j0 = tj * TILE;
  let rBase = wg.y * TILE + ty; // row within this band's buffer
  let cBase = j0 + tx;

  // The 4×4 (s, c) accumulators, by constant component only: a dynamic index into a vector
  // variable can make a compiler keep all of them in memory instead of registers.
  let q0 = loadRow(rBase, cBase);
  let q1 = loadRow(rBase + 16u, cBase);
  let q2 = loadRow(rBase + 32u, cBase);
  let q3 = loadRow(rBase + 48u, cBase);
  var s0 = q0.s; var s1 = q1.s; var s2 = q2.s; var s3 = q3.s;
  var c0 = q0.c; var c1 = q1.c; var c2 = q2.c; var c3 = q3.c;

  for (var t = P.t0; t < P.tEnd; t += TK) {
    // 2 × 1024 elements, 4 + 4 per thread; consecutive threads read consecutive addresses.
    for (var q = 0u; q < 4u; q++) {
      let e = li + q * 256u;
      var dt: u32;
      var di: u32;
      if (P.strideI == 1u) {
        dt = e / TILE; di = e % TILE;
      } else {
        dt = e % TK; di = e / TK;
      }
      As[dt * TILE + di] = loadX(t + dt, i0 + di);
      Bs[dt * TILE + di] = loadX(t + dt, j0 + di);
    }
    workgroupBarrier();
    var kkEnd = TK;
    if (ROLLED_INNER) {
      kkEnd = TK + P.opaqueZero;
    }
    for (var kk = 0u; kk < kkEnd; kk++) {
      let o = kk * TILE;
      let a = vec4<f32>(As[o + ty], As[o + ty + 16u], As[o + ty + 32u], As[o + ty + 48u]);
      let b = vec4<f32>(Bs[o + tx], Bs[o + tx + 16u], Bs[o + tx + 32u], Bs[o + tx + 48u]);
      if (COMPENSATED && EXACT_PRODUCTS) {
        dot2Exact(&s0, &c0, a.x, b);
        dot2Exact(&s1, &c1, a.y, b);
        dot2Exact(&s2, &c2, a.z, b);
        dot2Exact(&s3, &c3, a.w, b);
      } else {
        let ah = hi12(a);
        let al = opq(a - ah); // exact; opaque so that al·bh is never rewritten as a·bh − ah·bh
        let bh = hi12(b);
        let bl = opq(b - bh);
        dot2(&s0, &c0, a.x, ah.x, al.x, b, bh, bl);
        dot2(&s1, &c1, a.y, ah.y, al.y, b, bh, bl);
        dot2(&s2, &c2, a.z, ah.z, al.z, b, bh, bl);
        dot2(&s3, &c3, a.w, ah.w, al.w, b, bh, bl);
      }
    }
    renorm(&s0, &c0); renorm(&s1, &c1); renorm(&s2, &c2); renorm(&s3, &c3);
    workgroupBarrier();
  }

  storeRow(rBase, cBase, s0, c0);
  storeRow(rBase + 16u, cBase, s1, c1);
  storeRow(rBase + 32u, cBase, s2, c2);
  storeRow(rBase + 48u, cBase, s3, c3);
}
`;
