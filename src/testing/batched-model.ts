/**
 * The weights of the tests of batched (more than two-dimensional) weights, shared by the unit,
 * CLI and page tests so that they check the same numbers.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeFloats, writeSafetensors } from './safetensors-writer.js';

/** w[i] = ((7i + 5 mod 11) − 5) / 4, in row-major order. */
export function batchedTestWeights(n: number): Float32Array {
  return Float32Array.from({ length: n }, (_, i) => (((i * 7 + 5) % 11) - 5) / 4);
}

/** The reference's score of batchedTestWeights(20) as [5, 1, 4]: numpy, emulating its float32
 *  torch ops on svd(W) of shape [5, 1] (quantiles, threshold with β = 1/4, sums over all values,
 *  divided by S[0, 0], which here is the smallest value, not the largest). */
export const BATCHED_CONV1D_SCORE = 6.0376691818237305;

/**
 * A one-layer, Mamba-named model in `dir`: mixer.conv1d [5, 1, 4] (scored, BATCHED_CONV1D_SCORE),
 * mixer.stacked [2, 3, 4] (NaN: S[0] holds three values), mixer.out_proj [4, 6] (the only 2-D
 * type) and mixer.scale, a scalar weight (NaN). `config: false` leaves config.json out.
 */
export function writeBatchedModel(dir: string, { config = true } = {}): void {
  const w = (n: number) => encodeFloats(batchedTestWeights(n), 'F32');
  mkdirSync(dir, { recursive: true });
  if (config) writeFileSync(join(dir, 'config.json'), '{"model_type": "mamba", "architectures": ["MambaForCausalLM"]}');
  writeFileSync(
    join(dir, 'model.safetensors'),
    writeSafetensors([
      { name: 'backbone.layers.0.mixer.conv1d.weight', dtype: 'F32', shape: [5, 1, 4], data: w(20) },
      { name: 'backbone.layers.0.mixer.stacked.weight', dtype: 'F32', shape: [2, 3, 4], data: w(24) },
      { name: 'backbone.layers.0.mixer.out_proj.weight', dtype: 'F32', shape: [4, 6], data: w(24) },
      { name: 'backbone.layers.0.mixer.scale.weight', dtype: 'F32', shape: [], data: w(1) },
    ]),
  );
}
