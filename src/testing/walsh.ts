/**
 * Walsh functions: W[i][j] = (−1)^popcount(i & j). For n a power of two the n×n matrix has
 * exactly orthogonal rows and columns, so a row- or column-scaled one has singular values known
 * in closed form (scale·√n) — an independent check of the whole pipeline, used by the large
 * benchmarks and the streaming tests.
 */

/** popcount(x) mod 2, i.e. whether W[i][j] is −1 for x = i & j. */
export function parity(x: number): number {
  x ^= x >>> 16;
  x ^= x >>> 8;
  x ^= x >>> 4;
  x ^= x >>> 2;
  x ^= x >>> 1;
  return x & 1;
}
