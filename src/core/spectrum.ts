/**
 * The Spectrum score of one weight matrix from its singular values (spec §2). The reference
 * does this in float32 torch ops; we round the same intermediate values to float32 (fround) so
 * that comparisons against the threshold fall the same way as the reference's.
 */
export interface ScoreDetails {
  rows: number;
  cols: number;
  sMax: number;
  sMin: number;
  q25: number;
  q75: number;
  sigma: number;
  threshold: number;
  nSignal: number;
  signalSum: number;
  noiseSum: number;
  snr: number;
  /** snr / sMax: what the reference calls the layer's "snr". */
  score: number;
}

const f = Math.fround;

/** torch.quantile's linear interpolation on ascending float32 values. */
export function quantileLinear(ascending: ArrayLike<number>, q: number): number {
  const n = ascending.length;
  const pos = q * (n - 1);
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const w = pos - lo;
  const a = ascending[lo]!;
  const b = ascending[hi]!;
  // torch.lerp's two-sided form keeps the result inside [a, b].
  return f(w < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w));
}

/** `singularValues` descending (any precision); rows×cols is the matrix's shape. */
export function spectrumScore(singularValues: ArrayLike<number>, rows: number, cols: number): ScoreDetails {
  return scoreOf(singularValues, rows, cols);
}

/**
 * The score of a weight with more than two dimensions (a convolution's [out, in, width], experts
 * stacked as [experts, rows, cols]), as the reference computes it: torch.linalg.svdvals takes it
 * as a batch of rows×cols matrices (its last two dimensions) and returns S of shape
 * batchShape + [k]. The quantiles, the threshold (from rows and cols) and the sums run over all
 * of S; the divisor S[0] is the first matrix's values (over the remaining batch dimensions), and
 * `.item()` of snr / S[0] succeeds only when that is a single value. Otherwise the reference's
 * except-branch records NaN, and so do we.
 * `singularValues`: each matrix's values, descending, the matrices in the tensor's order.
 */
export function spectrumScoreBatched(singularValues: ArrayLike<number>, batchShape: readonly number[], rows: number, cols: number): ScoreDetails {
  const divisorValues = batchShape.slice(1).reduce((a, b) => a * b, 1) * Math.min(rows, cols);
  const details = scoreOf(singularValues, rows, cols);
  return divisorValues === 1 ? details : { ...details, score: NaN };
}

/** The score with s[0] as the divisor (S_max for one matrix's descending values). */
function scoreOf(singularValues: ArrayLike<number>, rows: number, cols: number): ScoreDetails {
  const n = singularValues.length;
  if (n === 0) throw new RangeError('spectrumScore: no singular values (empty matrix)');
  const s = Float32Array.from(singularValues as ArrayLike<number>);
  const asc = s.slice().sort();
  const sMax = s[0]!;
  const q25 = quantileLinear(asc, 0.25);
  const q75 = quantileLinear(asc, 0.75);
  // torch computes tensor-by-Python-scalar ops in the tensor's dtype: the scalar becomes float32 first.
  const sigma = f(f(q75 - q25) / f(1.349));
  const beta = Math.min(rows, cols) / Math.max(rows, cols);
  const threshold = f(sigma * f(Math.sqrt((1 + Math.sqrt(beta)) ** 2)));
  let signal = 0;
  let noise = 0;
  let nSignal = 0;
  for (let i = 0; i < n; i++) {
    const v = s[i]!;
    if (v > threshold) {
      signal += v;
      nSignal++;
    } else noise += v;
  }
  signal = f(signal);
  const noiseSum = nSignal === n ? 1.0 : f(noise);
  const snr = noiseSum !== 0 ? f(signal / noiseSum) : Infinity;
  const score = f(snr / sMax);
  return { rows, cols, sMax, sMin: asc[0]!, q25, q75, sigma, threshold, nSignal, signalSum: signal, noiseSum, snr, score };
}
