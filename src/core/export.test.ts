import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { describe, expect, it } from 'vitest';
import { oracleRuns, sharedModelDirs } from '../testing/shared-models.js';
import { outputFileNames, parseResultsJson, resultsJson, sortedJson, unfrozenYaml } from './export.js';
import { spectrumScore } from './spectrum.js';
import type { ScoredModule } from './selection.js';
import { expectResultsMatch } from '../testing/compare.js';

describe('exporters against the reference files', () => {
  for (const modelDir of sharedModelDirs()) {
    for (const run of oracleRuns(modelDir)) {
      describe(`${basename(modelDir)}/${run.variant}`, () => {
        // Scores recomputed from the reference's own singular values: tests math + exporters
        // independently of our engine.
        const results: ScoredModule[] = Object.entries(run.details).map(([name, d]) => {
          const rows = d.shape.length === 1 ? 1 : d.shape[0]!;
          const cols = d.shape.length === 1 ? d.shape[0]! : d.shape[1]!;
          return { name, type: d.spectrum_type, score: spectrumScore(d.singular_values, rows, cols).score };
        });

        it('names the files as the reference does', () => {
          const names = outputFileNames(run.meta.model_name, run.meta.top_percent);
          expect(basename(run.files.results)).toBe(names.results);
          expect(basename(run.files.sorted)).toBe(names.sorted);
          expect(basename(run.files.yaml)).toBe(names.yaml);
        });

        it('writes the YAML byte for byte', () => {
          expect(unfrozenYaml(results, run.meta.top_percent)).toBe(readFileSync(run.files.yaml, 'utf8'));
        });

        it('writes both JSON files with the same keys, order, layout and scores', () => {
          expectResultsMatch(resultsJson(results), readFileSync(run.files.results, 'utf8'));
          expectResultsMatch(sortedJson(results), readFileSync(run.files.sorted, 'utf8'));
        });

        it('reads the reference results JSON back', () => {
          const back = parseResultsJson(readFileSync(run.files.results, 'utf8'), 'x.json');
          expect(back.map((r) => r.name)).toEqual(results.map((r) => r.name));
          expect(unfrozenYaml(back, run.meta.top_percent)).toBe(readFileSync(run.files.yaml, 'utf8'));
        });
      });
    }
  }
});

describe('results JSON with the reference’s non-finite tokens', () => {
  it('reads Infinity and NaN and writes them back as bare tokens', () => {
    const text = '{\n    "a.0.x": {\n        "snr": Infinity,\n        "type": "x"\n    },\n    "a.1.x": {\n        "snr": NaN,\n        "type": "x"\n    }\n}';
    const parsed = parseResultsJson(text, 'r.json');
    expect(parsed[0]!.score).toBe(Infinity);
    expect(parsed[1]!.score).toBeNaN();
    expect(resultsJson(parsed)).toBe(text);
  });
});
