import { describe, expect, it } from 'vitest';
import { arrange } from './files.js';
import { figuresCsv, pythonSnippet } from '../../core/export-extra.js';
import { formatNumber, groupDigits } from './format.js';

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
});
