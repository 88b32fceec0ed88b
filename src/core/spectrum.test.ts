import { describe, expect, it } from 'vitest';
import { BATCHED_CONV1D_SCORE, batchedTestWeights as weights } from '../testing/batched-model.js';
import { expectClose } from '../testing/compare.js';
import { spectrumScore, spectrumScoreBatched } from './spectrum.js';

describe('spectrumScoreBatched: a weight of more than two dimensions, as torch.linalg.svdvals batches it', () => {
  // A batch of 1×4 matrices has one singular value each: the row's norm.
  const rowNorms = (w: Float32Array) => Array.from({ length: w.length / 4 }, (_, b) => Math.hypot(...w.subarray(4 * b, 4 * b + 4)));

  it('[5, 1, 4]: S[0] is one value, so the score is snr / S[0] over all five values', () => {
    // S[0, 0] is the smallest value here, not the largest, so the divisor is tested
    const s = rowNorms(weights(20));
    expect(s[0]).toBeLessThan(Math.max(...s));
    expectClose(spectrumScoreBatched(s, [5], 1, 4).score, BATCHED_CONV1D_SCORE);
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
