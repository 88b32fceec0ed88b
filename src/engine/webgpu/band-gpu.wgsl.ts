/**
 * WGSL for the dense → band stage of the symmetric eigenvalue reduction on the GPU (see
 * band-gpu.ts): the two O(n³) parts of each panel step, in "double-f32" arithmetic.
 *
 * The matrix is held as (hi, lo) f32 pairs with value hi + lo (~48 significant bits): unlike
 * the Gram, whose inputs are exact f32, every operand here is itself the result of earlier
 * updates, and the eigenvalues of a Gram need float64-class accuracy (see gram-gpu.wgsl.ts,
 * "WHY compensated"). A product (ah + al)(bh + bl) is taken as TwoProduct(ah, bh) (exact, Dekker
 * with a 12-bit split done on the bits) plus ah·bl + al·bh in plain f32 (relative weight 2⁻²⁴,
 * so its rounding is ~2⁻⁴⁸), and sums go through TwoSum. Every intermediate passes through
 * opq() (XOR with a uniform that is always 0) for the reason given in gram-gpu.wgsl.ts: no
 * shader compiler can then reassociate the compensation away.
 *
 * Entry points (one bind group layout each, 'auto'):
 *  - gather: P[r][c] = A[j + r][j + c] for the panel's rows (the host reads the panel and the
 *    diagonal block back through it);
 *  - symm:   Y_s = A22[:, slice s] · V[slice s, :]  (A22 = A[off.., off..], m×m, V m×B): one
 *    partial product per slice of the inner dimension (dispatch y), so that a short matrix
 *    still fills the GPU; ysum adds the slices (double-f32 TwoSum) for one m×B read-back;
 *  - syr2k:  A22 −= V Wᵀ + W Vᵀ on the lower tiles, each result also written to its mirror (both
 *    triangles are kept, exactly symmetric, so symm reads rows only).
 */
export const BAND_B = 32;

export const BAND_WGSL = /* wgsl */ `
const B: u32 = ${BAND_B}u;
// symm's and syr2k's inner loops with a trip count no compiler can see (the opaque zero added):
// they are then not unrolled completely. The same sums; gpu-bench times both (the Gram's
// ROLLED_INNER in gram-gpu.wgsl.ts says why).
override ROLLED_INNER: bool = false;

struct Params {
  k: u32,      // order; A is k×k, row-major
  j: u32,      // first column of the panel
  off: u32,    // first row/column of the trailing matrix A22
  m: u32,      // its order
  rows: u32,   // rows gathered: k − j
  slice: u32,  // symm: inner-dimension length per slice (a multiple of 16)
  opaqueZero: u32,
  col0: u32,   // syr2k: first tile column of this dispatch (the look-ahead splits it in two)
};

@group(0) @binding(0) var<storage, read_write> A: array<vec2<f32>>;
@group(0) @binding(1) var<storage, read_write> P: array<vec2<f32>>;
@group(0) @binding(2) var<storage, read> V: array<vec2<f32>>;
@group(0) @binding(3) var<storage, read_write> Y: array<vec2<f32>>;
@group(0) @binding(4) var<storage, read> W: array<vec2<f32>>;
@group(0) @binding(5) var<uniform> Q: Params;

fn opq(x: f32) -> f32 {
  return bitcast<f32>(bitcast<u32>(x) ^ Q.opaqueZero);
}

// x rounded to 12 significant bits on its bit pattern (Veltkamp's split without a multiply).
fn split12(x: f32) -> f32 {
  return bitcast<f32>((bitcast<u32>(x) + 0x800u) & 0xfffff000u);
}

// A double-f32 operand as the tiles keep it: (hi, lo, hi's top 12 bits, the rest of hi). The
// split is done once per element loaded, not at each of its 32 uses.
fn operand(v: vec2<f32>) -> vec4<f32> {
  let h = split12(v.x);
  return vec4<f32>(v.x, v.y, h, opq(v.x - h));
}

// acc (hi, lo) += a · b, all three double-f32 (a, b as operand() gives them).
fn mac(acc: ptr<function, vec2<f32>>, a: vec4<f32>, b: vec4<f32>) {
  let p = opq(a.x * b.x);
  let e1 = opq(a.z * b.z - p);
  let e2 = opq(e1 + a.z * b.w);
  let e3 = opq(e2 + a.w * b.z);
  let e = e3 + a.w * b.w;
  let s = (*acc).x;
  let s1 = opq(s + p);
  let z = opq(s1 - s);
  let err = opq(s - opq(s1 - z)) + opq(p - z);
  *acc = vec2<f32>(s1, (*acc).y + (err + e + (a.x * b.y + a.y * b.x)));
}

// FastTwoSum: lo back within half an ulp of hi.
fn renorm(v: vec2<f32>) -> vec2<f32> {
  let h = opq(v.x + v.y);
  return vec2<f32>(h, v.y - opq(h - v.x));
}

// a − b, double-f32.
fn dsub(a: vec2<f32>, b: vec2<f32>) -> vec2<f32> {
  let s1 = opq(a.x - b.x);
  let z = opq(s1 - a.x);
  let err = opq(a.x - opq(s1 - z)) + opq(-b.x - z);
  return renorm(vec2<f32>(s1, err + (a.y - b.y)));
}

@compute @workgroup_size(64)
fn gather(@builtin(global_invocation_id) id: vec3<u32>) {
  let t = id.x + id.y * 65535u * 64u;
  if (t >= Q.rows * B) {
    return;
  }
  let r = t / B;
  let c = Q.j + t % B;
  var v = vec2<f32>(0.0, 0.0);
  if (c < Q.k) {
    v = A[(Q.j + r) * Q.k + c];
  }
  P[t] = v;
}

const TP: u32 = 16u; // inner-dimension step of symm
var<workgroup> As: array<vec4<f32>, ${32 * 16}>; // [32 rows][TP], operand()s
var<workgroup> Vs: array<vec4<f32>, ${16 * 32}>; // [TP][B]

@compute @workgroup_size(16, 16)
fn symm(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let i0 = wg.x * 32u;
  let p0 = wg.y * Q.slice;
  let pEnd = min(Q.m, p0 + Q.slice);
  var y00 = vec2<f32>(0.0, 0.0); var y01 = vec2<f32>(0.0, 0.0);
  var y10 = vec2<f32>(0.0, 0.0); var y11 = vec2<f32>(0.0, 0.0);
  for (var p = p0; p < pEnd; p += TP) {
    for (var q = 0u; q < 2u; q++) {
      let e = li + q * 256u;
      let ar = e / TP;
      let ap = e % TP;
      var av = vec2<f32>(0.0, 0.0);
      if (i0 + ar < Q.m && p + ap < pEnd) {
        av = A[(Q.off + i0 + ar) * Q.k + Q.off + p + ap];
      }
      As[e] = operand(av);
      let vp = e / B;
      var vv = vec2<f32>(0.0, 0.0);
      if (p + vp < pEnd) {
        vv = V[(p + vp) * B + e % B];
      }
      Vs[e] = operand(vv);
    }
    workgroupBarrier();
    var tEnd = TP;
    if (ROLLED_INNER) {
      tEnd = TP + Q.opaqueZero;
    }
    for (var t = 0u; t < tEnd; t++) {
      let a0 = As[lid.y * TP + t];
      let a1 = As[(lid.y + 16u) * TP + t];
      let v0 = Vs[t * B + lid.x];
      let v1 = Vs[t * B + lid.x + 16u];
      mac(&y00, a0, v0); mac(&y01, a0, v1);
      mac(&y10, a1, v0); mac(&y11, a1, v1);
    }
    y00 = renorm(y00); y01 = renorm(y01); y10 = renorm(y10); y11 = renorm(y11);
    workgroupBarrier();
  }
  let base = wg.y * Q.m * B;
  let r0 = i0 + lid.y;
  if (r0 < Q.m) {
    Y[base + r0 * B + lid.x] = y00;
    Y[base + r0 * B + lid.x + 16u] = y01;
  }
  if (r0 + 16u < Q.m) {
    Y[base + (r0 + 16u) * B + lid.x] = y10;
    Y[base + (r0 + 16u) * B + lid.x + 16u] = y11;
  }
}

// Y_0 += Y_1 + … + Y_{slices−1} (symm's partial products), so that one m×B block is read back.
@compute @workgroup_size(64)
fn ysum(@builtin(global_invocation_id) id: vec3<u32>) {
  let i = id.x;
  if (i >= Q.m * B) {
    return;
  }
  var acc = Y[i];
  for (var s = 1u; s < Q.rows; s++) {
    let p = Y[s * Q.m * B + i];
    let s1 = opq(acc.x + p.x);
    let z = opq(s1 - acc.x);
    let err = opq(acc.x - opq(s1 - z)) + opq(p.x - z);
    acc = renorm(vec2<f32>(s1, acc.y + p.y + err));
  }
  Y[i] = acc;
}

const TC: u32 = 8u; // columns of V and W per step of syr2k
var<workgroup> Vi: array<vec4<f32>, ${32 * 8}>; // [32 rows][TC], operand()s
var<workgroup> Wi: array<vec4<f32>, ${32 * 8}>;
var<workgroup> Vj: array<vec4<f32>, ${32 * 8}>;
var<workgroup> Wj: array<vec4<f32>, ${32 * 8}>;

@compute @workgroup_size(16, 16)
fn syr2k(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>, @builtin(local_invocation_index) li: u32) {
  let tx = wg.x + Q.col0;
  if (tx > wg.y) {
    return; // upper tiles: written as the mirror of their lower twins (uniform per workgroup)
  }
  let i0 = wg.y * 32u;
  let j0 = tx * 32u;
  var s00 = vec2<f32>(0.0, 0.0); var s01 = vec2<f32>(0.0, 0.0);
  var s10 = vec2<f32>(0.0, 0.0); var s11 = vec2<f32>(0.0, 0.0);
  for (var c0 = 0u; c0 < B; c0 += TC) {
    let r = li / TC;
    let c = c0 + li % TC;
    var vi = vec2<f32>(0.0, 0.0); var wi = vec2<f32>(0.0, 0.0);
    var vj = vec2<f32>(0.0, 0.0); var wj = vec2<f32>(0.0, 0.0);
    if (i0 + r < Q.m) { vi = V[(i0 + r) * B + c]; wi = W[(i0 + r) * B + c]; }
    if (j0 + r < Q.m) { vj = V[(j0 + r) * B + c]; wj = W[(j0 + r) * B + c]; }
    Vi[li] = operand(vi); Wi[li] = operand(wi); Vj[li] = operand(vj); Wj[li] = operand(wj);
    workgroupBarrier();
    var tEnd = TC;
    if (ROLLED_INNER) {
      tEnd = TC + Q.opaqueZero;
    }
    for (var t = 0u; t < tEnd; t++) {
      let a0 = lid.y * TC + t;
      let a1 = (lid.y + 16u) * TC + t;
      let b0 = lid.x * TC + t;
      let b1 = (lid.x + 16u) * TC + t;
      mac(&s00, Vi[a0], Wj[b0]); mac(&s00, Wi[a0], Vj[b0]);
      mac(&s01, Vi[a0], Wj[b1]); mac(&s01, Wi[a0], Vj[b1]);
      mac(&s10, Vi[a1], Wj[b0]); mac(&s10, Wi[a1], Vj[b0]);
      mac(&s11, Vi[a1], Wj[b1]); mac(&s11, Wi[a1], Vj[b1]);
    }
    workgroupBarrier();
  }
  let r0 = i0 + lid.y;
  let c0 = j0 + lid.x;
  put(r0, c0, s00);
  put(r0, c0 + 16u, s01);
  put(r0 + 16u, c0, s10);
  put(r0 + 16u, c0 + 16u, s11);
}

// A22[r][c] −= s for r ≥ c, and the same value into A22[c][r]: A stays exactly symmetric (entries
// above the diagonal of a diagonal tile are left to their mirror), and only the lower tiles compute.
fn put(r: u32, c: u32, s: vec2<f32>) {
  if (r >= Q.m || c > r) {
    return;
  }
  let x = (Q.off + r) * Q.k + Q.off + c;
  let v = dsub(A[x], s);
  A[x] = v;
  A[(Q.off + c) * Q.k + Q.off + r] = v;
}
`;
