/** Every hostile folder through the CLI: a clear one-line message naming the file, or the correct result, within 10 s. */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hostileCases } from '../testing/hostile-corpus.js';
import { REPO_ROOT } from '../testing/shared-models.js';

const work = mkdtempSync(join(tmpdir(), 'spectroscope-hostile-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe('hostile corpus through the CLI', () => {
  const cases = hostileCases();
  it('has at least 30 cases', () => expect(cases.length).toBeGreaterThanOrEqual(30));
  for (const c of cases) {
    it(c.name, () => {
      const dir = join(work, c.name.replace(/\W+/g, '-'));
      mkdirSync(dir, { recursive: true });
      for (const [name, data] of Object.entries(c.files)) writeFileSync(join(dir, name), data);
      for (let i = 0; i < (c.fillerFiles ?? 0); i++) writeFileSync(join(dir, `note-${i}.txt`), 'x');
      const t0 = Date.now();
      const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/spectroscope.mjs'), 'scan', dir, '--out', join(dir, 'out')], {
        encoding: 'utf8',
        timeout: 10_000,
      });
      expect(Date.now() - t0, 'within 10 s').toBeLessThan(10_000);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(r.stderr).toMatch(c.message);
      if (c.outcome === 'error') {
        expect(r.status).toBe(1);
        expect(r.stderr.trim().split('\n')).toHaveLength(1);
        if (c.file) expect(r.stderr).toMatch(new RegExp(`^spectroscope: ${c.file.replace(/\./g, '\\.')}: `));
      } else {
        expect(r.status).toBe(0);
      }
    });
  }
});
