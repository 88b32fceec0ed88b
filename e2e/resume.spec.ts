/**
 * Nothing lost in the page: every matrix's result is kept in IndexedDB as it is computed; a
 * reload mid-scan, then the same folder again, offers to resume; the resumed scan computes only
 * what is missing and exports exactly what an uninterrupted scan does. Recent scans reopen the
 * stored results without the weights.
 */
import { writeSyntheticModel } from './synthetic.js';
import { download, expect, openFolder, shot, test, waitForScan } from './fixtures.js';

test('reload mid-scan, reopen, Resume: only the missing matrices are computed and the exports equal an uninterrupted scan’s; Recent scans reopen it without the weights', async ({
  page,
}, testInfo) => {
  test.setTimeout(240_000);
  const dir = testInfo.outputPath('resume-model');
  writeSyntheticModel(dir, { layers: 12, shards: 3, hidden: 256, intermediate: 688, vocab: 4000 });
  const doneCount = async () => Number(await page.getByTestId('scan-done').textContent());
  const totalCount = async () => Number(await page.getByTestId('scan-total').textContent());

  // 1. Part of the scan, then the tab reloads mid-scan.
  await page.goto('./');
  await openFolder(page, dir);
  await expect(page.getByTestId('cancel')).toBeVisible();
  await expect.poll(totalCount).toBeGreaterThan(0);
  const total = await totalCount();
  await expect.poll(doneCount, { timeout: 60_000, intervals: [50] }).toBeGreaterThanOrEqual(Math.ceil(total / 4));
  const doneBeforeReload = await doneCount();
  testInfo.annotations.push({ type: 'done at reload', description: `${doneBeforeReload} of ${total}` });
  expect(doneBeforeReload, 'the reload happens mid-scan').toBeLessThan(total);
  await page.reload();

  // 2. The same folder again: an offer, nothing computed until the user chooses.
  await openFolder(page, dir);
  const offer = page.getByTestId('resume-text');
  await expect(offer).toHaveText(/^Resume: \d+ of \d+ matrices kept from \d{4}-\d\d-\d\d \d\d:\d\d$/);
  const [, keptText, totalText] = /Resume: (\d+) of (\d+)/.exec((await offer.textContent())!)!;
  const kept = Number(keptText);
  expect(Number(totalText)).toBe(total);
  expect(kept).toBeGreaterThan(0);
  expect(kept).toBeLessThan(total);
  await expect(page.getByTestId('cancel')).toHaveCount(0);
  await shot(page, testInfo, 'resume-offer', { fullPage: false });
  await page.getByTestId('resume').click();
  await waitForScan(page, 120_000);
  // Only the missing matrices went to the engine.
  expect(await totalCount()).toBe(total - kept);
  await expect(page.getByTestId('scan-kept')).toHaveText(`+ ${kept} kept from before`);
  const resumed = { yaml: await download(page, 'yaml'), results: await download(page, 'results'), sorted: await download(page, 'sorted') };

  // 3. The uninterrupted scan of the same files: Start over computes everything.
  await page.reload();
  await openFolder(page, dir);
  await expect(offer).toContainText(`Resume: ${total} of ${total} matrices kept`);
  await page.getByTestId('start-over').click();
  await waitForScan(page, 120_000);
  expect(await totalCount()).toBe(total);
  const fresh = { yaml: await download(page, 'yaml'), results: await download(page, 'results'), sorted: await download(page, 'sorted') };
  expect(resumed.yaml).toEqual(fresh.yaml);
  expect(resumed.results).toEqual(fresh.results);
  expect(resumed.sorted).toEqual(fresh.sorted);

  // 4. Recent scans: the stored results open without the weights, spectra included.
  await page.reload();
  const item = page.getByTestId('recent-item');
  await expect(item).toHaveCount(1);
  await expect(item).toContainText('resume-model');
  await expect(item).toContainText(`${total} of ${total} matrices`);
  await shot(page, testInfo, 'recent-scans', { fullPage: false });
  await item.getByRole('button', { name: /Open the stored scan/ }).click();
  await waitForScan(page);
  await expect(page.getByTestId('stored-note')).toBeVisible();
  expect(await download(page, 'yaml')).toEqual(fresh.yaml);
  expect(await download(page, 'results')).toEqual(fresh.results);
  expect(await download(page, 'sorted')).toEqual(fresh.sorted);
  await expect(page.getByTestId('histogram')).toBeVisible();

  // 5. Deleting the entry forgets it.
  await page.reload();
  await item.getByTestId('recent-delete').click();
  await expect(page.getByTestId('recent')).toHaveCount(0);
  await page.reload();
  await expect(page.getByRole('heading', { name: 'Spectroscope' })).toBeVisible();
  await expect(page.getByTestId('recent')).toHaveCount(0);
});
