import { describe, expect, it } from 'vitest';
import { arrange } from './files.js';
import { figuresCsv, pythonSnippet } from '../../core/export-extra.js';
import { formatDate, formatNumber, formatShape, groupDigits } from './format.js';
import { MAX_SCANS, overflow } from './store.js';

const f = (name: string) => new File(['x'], name);

describe('arrange: picked files → a model folder', () => {
  it('strips the folder’s own name, keeps model files at the top, skips the rest', () => {
    const a = arrange(
      ['m/config.json', 'm/model.safetensors', 'm/tokenizer.json', 'm/README.md', 'm/oracle_out/snr_results_m.json', 'm/original/consolidated.00.pth'].map(
        (path) => ({
          path,
          file: f(path),
        }),
      ),
    );
    expect(a.folderName).toBe('m');
    expect(a.modelFiles.sort()).toEqual(['config.json', 'model.safetensors']);
    expect(a.files.has('oracle_out/snr_results_m.json')).toBe(true);
  });

  it('loose files have no folder name; a results JSON alone is offered as saved results', () => {
    const a = arrange([{ path: 'snr_results_x.json', file: f('snr_results_x.json') }]);
    expect(a.folderName).toBe('');
    expect(a.modelFiles).toEqual([]);
    expect(a.jsonFiles).toEqual(['snr_results_x.json']);
  });

  it('several dropped folders: merged, named after the one with config.json, duplicates reported', () => {
    const a = arrange(
      ['shards/model-00002-of-00002.safetensors', 'base/config.json', 'base/model-00001-of-00002.safetensors', 'shards/config.json'].map((path) => ({
        path,
        file: f(path),
      })),
    );
    expect(a.folderName).toBe('base');
    expect(a.duplicates).toEqual(['config.json']);
    expect(a.modelFiles.sort()).toEqual(['config.json', 'model-00001-of-00002.safetensors', 'model-00002-of-00002.safetensors']);
  });
});

describe('page exports', () => {
  it('the Python snippet escapes names from files as Python string literals', () => {
    const py = pythonSnippet('evil"\nname', 25, new Map([['mlp.down_proj', ['model.layers.1.mlp.down_proj', 'x"); import os; ("']]]));
    expect(py).toContain('top 25% of each of 1 types (2 modules)');
    expect(py).toContain('    "x\\"); import os; (\\"",');
    expect(py).toContain('from_pretrained("evil\\"\\nname")');
    expect(py).not.toContain('evil"\nname');
  });

  it('the CSV quotes fields and defuses spreadsheet formulas', () => {
    const csv = figuresCsv([{ module: '=HYPERLINK("x")', type: 'a,b', layer: 3, score: Infinity, rank: 1, selected: true }]);
    const [, row] = csv.split('\r\n');
    expect(row).toBe(`"'=HYPERLINK(""x"")","a,b",3,,,,,Infinity,1,true,,,,,,,,,,,`);
  });
});

describe('format', () => {
  it('numbers for cells', () => {
    expect(formatNumber(NaN)).toBe('NaN');
    expect(formatNumber(Infinity)).toBe('∞');
    expect(formatNumber(4.924140930175781, 7)).toBe('4.924141');
    expect(formatNumber(1.5e-7)).toBe('1.5e-7');
    expect(formatNumber(2e9)).toBe('2e+9');
    expect(groupDigits(1234567)).toBe('1,234,567');
  });
  it('shapes: rows×cols, every dimension of a batched weight, nothing for a module not read', () => {
    expect(formatShape({ rows: 4, cols: 6 })).toBe('4×6');
    expect(formatShape({ rows: 1, cols: 4, batchShape: [5] })).toBe('5×1×4');
    expect(formatShape({})).toBe('');
  });
});

describe('kept scans', () => {
  it('keeps the 20 most recently updated and drops the rest', () => {
    const all = Array.from({ length: 25 }, (_, i) => ({ fingerprint: `fp${i}`, updated: 1000 + ((i * 7) % 25) }));
    const drop = overflow(all);
    expect(MAX_SCANS).toBe(20);
    expect(drop).toHaveLength(5);
    const oldest = all
      .slice()
      .sort((a, b) => a.updated - b.updated)
      .slice(0, 5)
      .map((s) => s.fingerprint);
    expect(drop.sort()).toEqual(oldest.sort());
    expect(overflow(all.slice(0, 20))).toEqual([]);
  });

  it('dates read the same everywhere', () => {
    expect(formatDate(new Date(2025, 0, 2, 3, 4).getTime())).toBe('2025-01-02 03:04');
  });
});

describe('exports mark modules that were not scored', () => {
  it('the Python snippet lists them with their reason', () => {
    const py = pythonSnippet('m', 50, new Map([['mlp.up_proj', ['model.layers.1.mlp.up_proj']]]), [
      { module: 'model.layers.0.mlp.up_proj', reason: 'weights contain NaN or Inf: not scored' },
    ]);
    expect(py).toContain(
      '# NOT SCORED (1 modules; no score, ranked last in their type):\n#   model.layers.0.mlp.up_proj: weights contain NaN or Inf: not scored\n',
    );
    expect(pythonSnippet('m', 50, new Map())).not.toContain('NOT SCORED');
  });
});
