import { describe, expect, it } from 'vitest';
import { expectClose } from '../testing/compare.js';
import { spectrumScore, spectrumScoreBatched } from './spectrum.js';

/** w[i] = ((7i + 5 mod 11) − 5) / 4, in row-major order. */
function weights(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (((i * 7 + 5) % 11) - 5) / 4);
}

describe('spectrumScoreBatched: a weight of more than two dimensions, as torch.linalg.svdvals batches it', () => {
  // A batch of 1×4 matrices has one singular value each: the row's norm.
  const rowNorms = (w: Float32Array) => Array.from({ length: w.length / 4 }, (_, b) => Math.hypot(...w.subarray(4 * b, 4 * b + 4)));

  it('[5, 1, 4]: S[0] is one value, so the score is snr / S[0] over all five values', () => {
    // Expected: numpy, emulating the reference's float32 torch ops on svd(W) of shape [5, 1]
    // (quantiles, threshold with β = 1/4, sums over all values, divided by S[0, 0], which here
    // is the smallest value, not the largest).
    const s = rowNorms(weights(20));
    expect(s[0]).toBeLessThan(Math.max(...s));
    expectClose(spectrumScoreBatched(s, [5], 1, 4).score, 6.0376691818237305);
  });

  it('[2, 3, 1, 4] and [2, 3, 4]: S[0] holds several values, .item() fails, and the reference records NaN', () => {
    expect(spectrumScoreBatched(rowNorms(weights(24)), [2, 3], 1, 4).score).toBeNaN();
    const threeByFour = [2.1, 1.7, 0.8, 1.9, 1.7, 0.3]; // any values: the outcome does not depend on them
    expect(spectrumScoreBatched(threeByFour, [2], 3, 4).score).toBeNaN();
  });

  it('a batch of one 1×d matrix scores as the 1-D weight it is: 1.0', () => {
    expect(spectrumScoreBatched([2.5], [1], 1, 7).score).toBe(1);
    expect(spectrumScore([2.5], 1, 7).score).toBe(1);
  });
});
