/** Every model in ../shared/models, opened through the folder input, against spectrum.py's own files. */
import { basename } from 'node:path';
import { download, expect, expectResultsMatch, openFolder, oracleFiles, read, sharedModels, shot, test, waitForScan } from './fixtures.js';

const models = sharedModels();

test('the shared reference models are there', () => {
  expect(models.length, 'folders in ../shared/models').toBeGreaterThan(0);
});

for (const m of models) {
  test(`${m.name}: folder input → scan → YAML and JSON match spectrum.py`, async ({ page }, testInfo) => {
    test.skip(!m.oracle, `${m.name} has no oracle_out/`);
    const o = oracleFiles(m.oracle!);
    await page.goto('./');
    await openFolder(page, m.dir);

    // The header summary, before and while computing.
    await expect(page.getByTestId('summary')).toBeVisible();
    await expect(page.getByTestId('model-name')).toHaveValue(m.name);
    await waitForScan(page);
    await expect(page.getByTestId('backend')).toContainText(/WASM|WebGPU/);

    // The default types are the reference's default run.
    const checked = await page
      .locator('fieldset.types input[type=checkbox]:checked')
      .evaluateAll((els) => els.map((e) => e.closest('li')!.querySelector('.tname')!.textContent!.trim()));
    expect(checked).toEqual(o.meta.selected_types);
    if (o.meta.top_percent !== 50) await page.getByTestId('percent').fill(String(o.meta.top_percent));

    const yaml = await download(page, 'yaml');
    expect(yaml.name).toBe(basename(o.yaml));
    expect(yaml.text).toBe(read(o.yaml));
    const results = await download(page, 'results');
    expect(results.name).toBe(basename(o.results));
    expectResultsMatch(results.text, read(o.results));
    const sorted = await download(page, 'sorted');
    expect(sorted.name).toBe(basename(o.sorted));
    expectResultsMatch(sorted.text, read(o.sorted));

    await shot(page, testInfo, `${m.name}-heatmap`);

    // Every type: scanned on demand, without rescanning the rest.
    if (m.oracleAll) {
      const oa = oracleFiles(m.oracleAll);
      await page.getByRole('button', { name: 'all', exact: true }).click();
      await waitForScan(page);
      const all = await download(page, 'yaml');
      expect(all.text).toBe(read(oa.yaml));
      expectResultsMatch((await download(page, 'results')).text, read(oa.results));
      expectResultsMatch((await download(page, 'sorted')).text, read(oa.sorted));
    }
  });
}
