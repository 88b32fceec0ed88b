/**
 * The accuracy contract, on every module of every reference checkpoint: singular values within
 * 1e-5·σ_max of the reference's (torch.linalg.svdvals), every score and intermediate within
 * 1e-5 relative. Runs the worker's code in-process.
 */
import { join } from 'node:path';
import { readdirSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NodeFileSource } from '../core/bytesource-node.js';
import { buildCatalogue, selectTypes } from '../core/catalogue.js';
import type { FloatDtype } from '../core/dtype.js';
import { loadModelFolder } from '../core/model.js';
import { expectClose } from '../testing/compare.js';
import { oracleRuns, sharedModelDirs } from '../testing/shared-models.js';
import { createEngineWorker } from './worker-api.js';
import { isFailure } from './types.js';
import { writeSafetensors, encodeFloats } from '../testing/safetensors-writer.js';
import { MemorySource } from '../core/bytesource.js';

describe('engine against oracle_details.json', () => {
  for (const dir of sharedModelDirs()) {
    it(`${basename(dir)}: every module of --all-types`, async () => {
      const files = readdirSync(dir)
        .filter((n) => statSync(join(dir, n)).isFile())
        .map((n) => new NodeFileSource(join(dir, n), n, statSync(join(dir, n)).size));
      const folder = await loadModelFolder(files);
      const cat = buildCatalogue(folder);
      const run = oracleRuns(dir).find((r) => r.variant === 'oracle_out_all_types')!;
      const engine = createEngineWorker((ref) => Promise.resolve(folder.sources.get(ref.name) as NodeFileSource));
      // Small blocks so the row-block path is exercised on these small matrices too.
      await engine.init({ blockBytes: 4096 });
      let checked = 0;
      for (const m of selectTypes(cat, { allTypes: true }).types.flatMap((t) => t.modules)) {
        const r = await engine.compute({
          id: 0,
          source: { name: m.weight.file },
          tensor: m.weight.name,
          offset: m.weight.offset,
          byteLength: m.weight.byteLength,
          dtype: m.dtype as FloatDtype,
          rows: m.rows,
          cols: m.cols,
        });
        if (isFailure(r)) throw new Error(`${m.name}: ${r.error}`);
        const ref = run.details[m.name]!;
        expect(r.singularValues.length, m.name).toBe(ref.singular_values.length);
        const tol = 1e-5 * ref.s_max;
        let worst = 0;
        ref.singular_values.forEach((s, i) => (worst = Math.max(worst, Math.abs(r.singularValues[i]! - s))));
        expect(worst, `${m.name}: max |Δσ| ${worst} vs tolerance ${tol}`).toBeLessThanOrEqual(tol);
        const d = r.details;
        expectClose(d.score, ref.spectrum_snr, 1e-5, `${m.name} score`);
        expectClose(d.sMax, ref.s_max, 1e-5, `${m.name} s_max`);
        expectClose(d.q25, ref.q25, 1e-5, `${m.name} q25`);
        expectClose(d.q75, ref.q75, 1e-5, `${m.name} q75`);
        expectClose(d.threshold, ref.mp_threshold, 1e-5, `${m.name} threshold`);
        expect(d.nSignal, `${m.name} n_signal`).toBe(ref.n_signal);
        expectClose(d.signalSum, ref.signal_sum, 1e-5, `${m.name} signal_sum`);
        expectClose(d.noiseSum, ref.noise_sum, 1e-5, `${m.name} noise_sum`);
        checked++;
      }
      expect(checked).toBe(Object.keys(run.details).length);
      await Promise.all(files.map((f) => f.close()));
    });
  }
});

describe('engine on hostile matrices', () => {
  const engineFor = (bytes: Uint8Array) => {
    const src = new MemorySource(bytes, 'model.safetensors');
    return createEngineWorker(() => Promise.resolve(src));
  };
  const job = (offset: number, rows: number, cols: number, dtype: FloatDtype = 'F32') => ({
    id: 1,
    source: { name: 'model.safetensors' },
    tensor: 't',
    offset,
    byteLength: rows * cols * 4,
    dtype,
    rows,
    cols,
  });

  it('NaN weights fail that matrix with a reason', async () => {
    const w = new Float32Array(12).fill(1);
    w[5] = NaN;
    const file = writeSafetensors([{ name: 't', dtype: 'F32', shape: [3, 4], data: encodeFloats(w, 'F32') }]);
    const r = await engineFor(file).compute(job(file.length - 48, 3, 4));
    expect(isFailure(r) && r.error).toMatch(/NaN or Inf/);
  });

  it('an all-zero matrix scores Infinity, as the reference', async () => {
    const file = writeSafetensors([{ name: 't', dtype: 'F32', shape: [3, 4] }]);
    const r = await engineFor(file).compute(job(file.length - 48, 3, 4));
    if (isFailure(r)) throw new Error(r.error);
    expect(r.details.score).toBe(Infinity);
  });

  it('a 1-D weight scores exactly 1', async () => {
    const w = new Float32Array([3, -4, 0, 12]);
    const file = writeSafetensors([{ name: 't', dtype: 'F32', shape: [4], data: encodeFloats(w, 'F32') }]);
    const r = await engineFor(file).compute(job(file.length - 16, 1, 4));
    if (isFailure(r)) throw new Error(r.error);
    expect(r.singularValues[0]).toBeCloseTo(13, 12);
    expect(r.details.score).toBe(1);
  });
});
