/**
 * Shared e2e fixtures: every test's page records requests that leave the origin and every page
 * or console error, and fails if there was any; helpers to open folders, wait for the scan and
 * download exports.
 */
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test as base, expect, type Page, type TestInfo } from '@playwright/test';
import { parsePyJson } from '../src/core/pyjson.js';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const SHARED_MODELS = process.env.SPECTROSCOPE_SHARED_MODELS ?? resolve(REPO_ROOT, '../shared/models');

export interface Guard {
  offOrigin: string[];
  errors: string[];
}

export const test = base.extend<{ guard: Guard }>({
  guard: [
    async ({ page, baseURL }, use) => {
      const origin = new URL(baseURL!).origin;
      const guard: Guard = { offOrigin: [], errors: [] };
      const onRequest = (url: string) => {
        if (!(url.startsWith(origin + '/') || url === origin || url.startsWith('blob:') || url.startsWith('data:'))) guard.offOrigin.push(url);
      };
      page.context().on('request', (r) => onRequest(r.url()));
      page.on('pageerror', (e) => guard.errors.push(`page error: ${e.message}`));
      page.on('console', (m) => {
        if (m.type() === 'error') guard.errors.push(`console error: ${m.text()}`);
      });
      page.on('crash', () => guard.errors.push('page crashed'));
      await use(guard);
      expect(guard.offOrigin, 'requests that left the origin').toEqual([]);
      expect(guard.errors, 'page and console errors').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };

export interface SharedModel {
  name: string;
  dir: string;
  oracle: string | null;
  oracleAll: string | null;
}

/** Every folder in ../shared/models, listed now (not hardcoded). */
export function sharedModels(): SharedModel[] {
  if (!existsSync(SHARED_MODELS)) return [];
  return readdirSync(SHARED_MODELS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => {
      const dir = join(SHARED_MODELS, d.name);
      const o = join(dir, 'oracle_out');
      const oa = join(dir, 'oracle_out_all_types');
      return { name: d.name, dir, oracle: existsSync(o) ? o : null, oracleAll: existsSync(oa) ? oa : null };
    })
    .sort((a, b) => (a.name < b.name ? -1 : 1));
}

export function oracleFiles(dir: string): {
  results: string;
  sorted: string;
  yaml: string;
  meta: { top_percent: number; selected_types: string[]; model_name: string };
} {
  const names = readdirSync(dir);
  const pick = (re: RegExp) =>
    join(
      dir,
      names.find((n) => re.test(n))!,
    );
  return {
    results: pick(/^snr_results_.*(?<!_sorted)\.json$/),
    sorted: pick(/_sorted\.json$/),
    yaml: pick(/\.yaml$/),
    meta: JSON.parse(readFileSync(join(dir, 'oracle_meta.json'), 'utf8')),
  };
}

export async function openFolder(page: Page, dir: string): Promise<void> {
  await page.locator('input[type=file][webkitdirectory]').setInputFiles(dir);
}

/** Waits until every matrix of the chosen types is scored (the exports become available). */
export async function waitForScan(page: Page, timeout = 60_000): Promise<void> {
  await expect(page.getByTestId('download-yaml')).toBeEnabled({ timeout });
}

export async function download(page: Page, kind: 'yaml' | 'results' | 'sorted' | 'python' | 'csv'): Promise<{ name: string; text: string }> {
  const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId(`download-${kind}`).click()]);
  const path = await d.path();
  return { name: d.suggestedFilename(), text: readFileSync(path, 'utf8') };
}

export async function shot(page: Page, testInfo: TestInfo, name: string, opts: { fullPage?: boolean } = {}): Promise<void> {
  const path = testInfo.outputPath(`${name}.png`);
  // The header is sticky: a full-page shot taken while scrolled would show it mid-page.
  if (opts.fullPage ?? true) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path, fullPage: opts.fullPage ?? true });
  await testInfo.attach(name, { path, contentType: 'image/png' });
}

// ---------------------------------------------------------------- comparing with the reference

const RTOL = 1e-5;

function walk(a: unknown, b: unknown, path: string): void {
  if (typeof b === 'number') {
    expect(typeof a, path).toBe('number');
    const x = a as number;
    if (Number.isNaN(b)) expect(x, path).toBeNaN();
    else if (!Number.isFinite(b)) expect(x, path).toBe(b);
    else expect(Math.abs(x - b) / Math.max(Math.abs(b), Number.MIN_VALUE), `${path}: ${x} vs ${b}`).toBeLessThanOrEqual(RTOL);
    return;
  }
  if (typeof b === 'object' && b !== null) {
    expect(typeof a, path).toBe('object');
    expect(Object.keys(a as object), `${path} keys`).toEqual(Object.keys(b));
    for (const k of Object.keys(b)) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    return;
  }
  expect(a, path).toEqual(b);
}

/** Same keys in the same order, same layout, scores within 1e-5 relative. */
export function expectResultsMatch(ours: string, reference: string): void {
  walk(parsePyJson(ours), parsePyJson(reference), '$');
  const shape = (s: string) => s.replace(/-?(\d+\.?\d*(e[-+]\d+)?|Infinity|NaN)/g, '#');
  expect(shape(ours)).toBe(shape(reference));
}

export function read(path: string): string {
  return readFileSync(path, 'utf8');
}
