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
