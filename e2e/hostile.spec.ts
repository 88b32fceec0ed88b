/**
 * The hostile corpus (src/testing/hostile-corpus.ts, the same cases the CLI is held to) through
 * the page's folder input: each gives a message naming its file, or the correct result, within
 * 10 s, with no page error, and nothing from a file is ever interpreted as HTML.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { hostileCases } from '../src/testing/hostile-corpus.js';
import { download, expect, openFolder, test } from './fixtures.js';

test('hostile corpus: every broken or hostile folder gives its message (or its result) within 10 s, and no file content becomes HTML', async ({
  page,
}, testInfo) => {
  test.setTimeout(150_000);
  const cases = hostileCases();
  expect(cases.length).toBeGreaterThanOrEqual(30);
  const root = mkdtempSync(join(tmpdir(), 'spectroscope-e2e-hostile-'));
  const dialogs: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(d.message());
    void d.dismiss();
  });
  const timings: string[] = [];
  try {
    await page.goto('./');
    for (const c of cases) {
      const dir = join(root, c.name.replace(/\W+/g, '-'));
      mkdirSync(dir, { recursive: true });
      for (const [name, data] of Object.entries(c.files)) writeFileSync(join(dir, name), data);
      for (let i = 0; i < (c.fillerFiles ?? 0); i++) writeFileSync(join(dir, `note-${i}.txt`), 'x');

      const opened = await page.evaluate(() => performance.getEntriesByName('spectroscope:open').length);
      const t0 = Date.now();
      await openFolder(page, dir);
      // This case's opening has begun (the previous case's views are gone).
      await page.waitForFunction((n) => performance.getEntriesByName('spectroscope:open').length > n, opened);
      if (c.outcome === 'error') {
        const box = page.getByTestId('problems').or(page.getByTestId('open-error')).first();
        await expect(box, c.name).toContainText(c.message, { timeout: 10_000 });
        if (c.file) await expect(box, c.name).toContainText(c.file, { timeout: 1_000 });
        // Refused: nothing is scanned.
        await expect(page.getByTestId('cancel'), c.name).toHaveCount(0);
      } else {
        await expect(page.getByTestId('model-name'), c.name).toHaveValue(basename(dir), { timeout: 10_000 });
        // Cases that differ only in tensor bytes share a fingerprint (file names, sizes, header
        // bytes): the page offers to resume the earlier one; these start over.
        const summaryOrOffer = page.getByTestId('scan-summary').or(page.getByTestId('resume-offer')).first();
        await expect(summaryOrOffer, c.name).toBeVisible({ timeout: 10_000 });
        if (await page.getByTestId('resume-offer').isVisible()) await page.getByTestId('start-over').click();
        await expect(page.getByTestId('scan-summary'), c.name).toBeVisible({ timeout: 10_000 });
        await expect(page.locator('main'), c.name).toContainText(c.message, { timeout: 1_000 });
        await expect(page.getByTestId('download-yaml'), c.name).toBeEnabled({ timeout: 1_000 });
      }
      const ms = Date.now() - t0;
      timings.push(`${c.name}: ${ms} ms`);
      expect(ms, `${c.name}: within 10 s`).toBeLessThan(10_000);

      if (c.name === 'NaN weights in one matrix') {
        // Listed with its reason, and every export says it was not scored.
        const bad = 'model.layers.0.self_attn.q_proj';
        await expect(page.getByTestId('failures')).toContainText(`${bad} not scored: weights contain NaN or Inf`);
        await expect(page.getByTestId('export-note')).toContainText('1 module was not scored');
        await expect(page.getByTestId('export-note')).toContainText(bad);
        expect((await download(page, 'results')).text).toContain(`"${bad}": {\n        "snr": NaN,`);
        expect((await download(page, 'python')).text).toContain(
          `# NOT SCORED (1 modules; no score, ranked last in their type):\n#   ${bad}: weights contain NaN or Inf`,
        );
        const csv = (await download(page, 'csv')).text.split('\r\n').find((l) => l.startsWith(`${bad},`));
        expect(csv).toMatch(/,NaN,.*,weights contain NaN or Inf: not scored$/);
      }
      if (/HTML/.test(c.name)) {
        // The names are on the page as text, and nothing of them became an element.
        await expect(page.locator('main')).toContainText('<img src=x onerror=alert(1)>');
        const injected = await page.evaluate(() => ({
          img: document.querySelectorAll('img').length,
          script: [...document.querySelectorAll('script')].filter((s) => /alert/.test(s.textContent ?? '')).length,
          attrs: [...document.querySelectorAll('*')].filter((el) => el.hasAttribute('onerror')).length,
        }));
        expect(injected).toEqual({ img: 0, script: 0, attrs: 0 });
      }
      rmSync(dir, { recursive: true, force: true });
    }
    expect(dialogs, 'dialogs opened by file contents').toEqual([]);
  } finally {
    testInfo.annotations.push({ type: 'time to message or result', description: timings.join('; ') });
    rmSync(root, { recursive: true, force: true });
  }
});
