/**
 * Threads inside one matrix in the page. Under `vite preview` the page is cross-origin isolated
 * (COOP/COEP), so `?threads=2` makes each engine worker start the kernels' helper thread, a nested
 * worker from a blob: URL on the same shared WASM memory; the results must be those of one thread.
 * Without isolation the page falls back to one thread per matrix and says so, without an error.
 */
import { basename } from 'node:path';
import { download, expect, expectResultsMatch, openFolder, oracleFiles, read, sharedModels, test, waitForScan } from './fixtures.js';

const models = sharedModels().filter((m) => m.oracle);

for (const m of models) {
  test(`${m.name}: ?threads=2 → the engine is granted 2 threads inside each matrix; YAML and JSON match spectrum.py`, async ({ page }) => {
    const o = oracleFiles(m.oracle!);
    // WASM forced: every matrix goes through the threaded kernels, none to a GPU.
    await page.goto('./?backend=wasm&threads=2');
    expect(await page.evaluate(() => crossOriginIsolated), 'the preview server sends COOP/COEP').toBe(true);
    await expect(page.getByTestId('threads-choice')).toHaveValue('2');
    await openFolder(page, m.dir);
    await waitForScan(page);

    // What the worker reports it got (Linalg.threads), not what was asked: 2 means its helper started.
    await expect(page.getByTestId('threads')).toHaveAttribute('data-threads', '2');
    await expect(page.getByTestId('threads')).toContainText('1 worker × 2 threads');
    await expect(page.getByTestId('backend')).toContainText('WASM × 2 threads');
    await expect(page.getByTestId('threads-warning')).toHaveCount(0);
    // The helper is a nested worker from a blob: URL.
    expect(
      page.workers().some((w) => w.url().startsWith('blob:')),
      page
        .workers()
        .map((w) => w.url())
        .join(', '),
    ).toBe(true);

    if (o.meta.top_percent !== 50) await page.getByTestId('percent').fill(String(o.meta.top_percent));
    const yaml = await download(page, 'yaml');
    expect(yaml.name).toBe(basename(o.yaml));
    expect(yaml.text).toBe(read(o.yaml));
    expectResultsMatch((await download(page, 'results')).text, read(o.results));
    expectResultsMatch((await download(page, 'sorted')).text, read(o.sorted));
  });
}

test.describe('without cross-origin isolation', () => {
  // The service worker would add the isolation headers back (that is its job on static hosts).
  test.use({ serviceWorkers: 'block' });

  test('?threads=2 falls back to one thread per matrix, says threads are unavailable, and the scan still matches spectrum.py', async ({ page }) => {
    const m = models[0];
    test.skip(!m, 'no shared model with oracle_out/');
    const o = oracleFiles(m!.oracle!);
    await page.route('**/*', async (route) => {
      if (route.request().resourceType() !== 'document') return route.continue();
      const res = await route.fetch();
      const headers = Object.fromEntries(Object.entries(res.headers()).filter(([k]) => !/^cross-origin-(opener|embedder)-policy$/i.test(k)));
      await route.fulfill({ response: res, headers });
    });
    await page.goto('./?backend=wasm&threads=2');
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(false);
    await expect(page.getByTestId('threads-unavailable')).toContainText('unavailable');
    await openFolder(page, m!.dir);
    await waitForScan(page);
    if (o.meta.top_percent !== 50) await page.getByTestId('percent').fill(String(o.meta.top_percent));
    await expect(page.getByTestId('threads-warning')).toContainText('unavailable here');
    await expect(page.getByTestId('threads')).toHaveAttribute('data-threads', '1');
    await expect(page.getByTestId('backend')).not.toContainText('threads');
    expect((await download(page, 'yaml')).text).toBe(read(o.yaml));
    expectResultsMatch((await download(page, 'results')).text, read(o.results));
  });
});
