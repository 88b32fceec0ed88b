/**
 * Runs the WebGPU Gram harness (gram-gpu.harness.ts) in headless Chromium: bundles it with esbuild,
 * serves it from 127.0.0.1 (WebGPU needs a secure context; localhost is one), launches Chromium
 * through playwright-core with a fresh profile, and returns the harness report.
 *
 *   node src/engine/webgpu/gram-gpu.browser-test.mjs [--chromium /path] [--gpu]
 *
 * prints the report and exits non-zero on failure. `--gpu` adds the flags that let Chromium use
 * a real GPU through Vulkan on Linux; without it Chromium offers its software adapter
 * (SwiftShader), which is what the unit test uses. gram-gpu.test.ts calls runGramBrowserTests().
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { BASE_ARGS, DEFAULT_CHROMIUM, GPU_ARGS, bundleForBrowser } from '../../testing/chromium.mjs';

const here = dirname(fileURLToPath(import.meta.url));
export { DEFAULT_CHROMIUM };

/**
 * Tolerances the unit test asserts. Contract: σ within 1e-5·σmax of float64 LAPACK, Spectrum
 * scores within 1e-5 relative; we hold the GPU route to 10× tighter on σ.
 */
export const LIMITS = { gram: 1e-12, sigma: 1e-6, score: 1e-5, selfTest: 1e-11, band: 1e-10 };

/**
 * @param {{ chromiumPath?: string, gpu?: boolean, timing?: [number, number][], timeoutMs?: number, log?: (line: string) => void }} [options]
 * @returns {Promise<import('./gram-gpu.harness').HarnessReport & { timing?: unknown }>}
 */
export async function runGramBrowserTests(options = {}) {
  const chromiumPath = options.chromiumPath ?? DEFAULT_CHROMIUM;
  const log = options.log ?? (() => {});
  if (!existsSync(chromiumPath)) return { adapter: null, skipped: `${chromiumPath} not found`, cases: [], chunked: [] };

  const js = await bundleForBrowser(join(here, 'gram-gpu.harness.ts'));
  const html = '<!doctype html><meta charset="utf-8"><title>gram-gpu</title><script type="module" src="/harness.js"></script>';
  const server = createServer((req, res) => {
    if (req.url === '/harness.js') {
      res.writeHead(200, { 'content-type': 'text/javascript', 'cache-control': 'no-store' });
      res.end(js);
    } else if (req.url === '/' || req.url === '/index.html') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(html);
    } else {
      res.writeHead(req.url === '/favicon.ico' ? 204 : 404);
      res.end();
    }
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = /** @type {import('node:net').AddressInfo} */ (server.address()).port;

  // chromium.launch() runs on a fresh temporary profile of its own (and deletes it on close).
  const args = [...BASE_ARGS, ...(options.gpu ? GPU_ARGS : [])];
  const browser = await chromium.launch({ executablePath: chromiumPath, headless: true, args });
  try {
    const page = await browser.newPage();
    page.on('console', (m) => log(`[page ${m.type()}] ${m.text()}`));
    page.on('pageerror', (e) => log(`[page error] ${e.message}`));
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => typeof window.runGramHarness === 'function', null, { timeout: 30_000 });
    page.setDefaultTimeout(options.timeoutMs ?? 170_000);
    const report = await page.evaluate(() => window.runGramHarness());
    if (!report.skipped) report.band = await page.evaluate(() => window.runBandHarness());
    if (options.timing && !report.skipped) {
      try {
        report.timing = await page.evaluate((shapes) => window.runGramTiming(shapes), options.timing);
      } catch (e) {
        report.timingError = String(e.message ?? e);
      }
    }
    return report;
  } finally {
    await browser.close();
    server.close();
  }
}

/** Failures as messages (empty when the report passes). */
export function checkReport(report) {
  const bad = [];
  for (const c of [...report.cases, ...report.chunked]) {
    if (!(c.gramErr <= LIMITS.gram)) bad.push(`${c.name}: Gram error ${c.gramErr} > ${LIMITS.gram}`);
    if (!(c.sigmaErr <= LIMITS.sigma)) bad.push(`${c.name}: σ error ${c.sigmaErr} > ${LIMITS.sigma}`);
    if (!c.degenerate && !(c.scoreErr <= LIMITS.score)) bad.push(`${c.name}: score error ${c.scoreErr} > ${LIMITS.score}`);
    if (c.streamErr !== undefined && !(c.streamErr <= LIMITS.gram)) bad.push(`${c.name}: streamed Gram error ${c.streamErr} > ${LIMITS.gram}`);
  }
  if (!(report.probeErr <= LIMITS.selfTest)) bad.push(`probe error ${report.probeErr} > ${LIMITS.selfTest}`);
  if (!(report.probeErrF32 > LIMITS.selfTest)) bad.push(`f32 probe error ${report.probeErrF32} does not exceed the self-test tolerance`);
  if (report.nonFiniteCode !== 'non-finite') bad.push(`NaN input gave ${report.nonFiniteCode}, expected non-finite`);
  if (report.deviceLostCode !== 'device-lost') bad.push(`lost device gave ${report.deviceLostCode}, expected device-lost`);
  if (!report.softwareRefusedByDefault) bad.push('a software adapter was accepted without allowFallbackAdapter');
  if (report.exact) {
    if (!(report.exact.probeErr <= LIMITS.selfTest)) bad.push(`exact-product kernel: BF16 probe error ${report.exact.probeErr} > ${LIMITS.selfTest}`);
    if (report.exact.exactChunksOnF32 !== 0) bad.push(`${report.exact.exactChunksOnF32} f32 chunks took the exact-product kernel`);
    for (const c of report.exact.cases) {
      if (!(c.gramErr <= LIMITS.gram)) bad.push(`exact-product kernel, ${c.name}: Gram error ${c.gramErr} > ${LIMITS.gram}`);
      if (c.exactChunks !== c.shortChunks) bad.push(`${c.name}: ${c.exactChunks} of ${c.chunks} chunks on the exact-product kernel, expected ${c.shortChunks}`);
    }
  }
  for (const c of report.rolled ?? []) {
    if (c.diff !== 0) bad.push(`rolled inner loop, ${c.name}: the Gram differs from the default's by ${c.diff} (the same sums must give 0)`);
    if (c.exactChunks !== (c.name.startsWith('BF16') ? 1 : 0)) bad.push(`rolled inner loop, ${c.name}: ${c.exactChunks} chunks on the exact-product kernel`);
  }
  if (report.band && !report.band.skipped && report.band.rolledDiff !== 0)
    bad.push(`GPU band reduction with rolled inner loops: σ differs from the default's by ${report.band.rolledDiff} (the same sums must give 0)`);
  for (const c of report.band?.cases ?? []) if (!(c.sigmaErr <= LIMITS.band)) bad.push(`GPU band reduction, ${c.name}: σ error ${c.sigmaErr} > ${LIMITS.band}`);
  return bad;
}

export function formatReport(report) {
  const e = (x) => (x === undefined ? '' : x.toExponential(1));
  const lines = [
    `adapter: ${report.adapter}`,
    'errors of the GPU compensated / GPU plain-f32 / naive float64 Gram routes',
    'case | max|ΔG|/max|G| vs exact | max|Δσ|/σmax vs SVD | |Δscore|/score | streamed G',
  ];
  const t = (a, b, c) => `${e(a)} / ${e(b)} / ${e(c)}`;
  for (const c of [...report.cases, ...report.chunked])
    lines.push(
      `${c.name} (${c.rows}×${c.cols})${c.degenerate ? ' [degenerate]' : ''} | ${t(c.gramErr, c.gramErrF32, c.gramErrF64)} | ${t(c.sigmaErr, c.sigmaErrF32, c.sigmaErrF64)} | ${t(c.scoreErr, c.scoreErrF32, c.scoreErrF64)} | ${e(c.streamErr)}`,
    );
  lines.push(`self-test probe: compensated ${e(report.probeErr)}, f32 ${e(report.probeErrF32)} (tolerance ${LIMITS.selfTest})`);
  lines.push(
    `NaN input → ${report.nonFiniteCode}; lost device → ${report.deviceLostCode}; software adapter refused by default: ${report.softwareRefusedByDefault}`,
  );
  if (report.fma)
    lines.push(
      report.fma.accepted
        ? `fma() TwoProduct (opt-in), max|ΔG|/max|G|: ${report.fma.cases.map((c) => `${c.name} ${e(c.gramErr)}`).join(', ')}`
        : 'fma() TwoProduct (opt-in): refused by its self-test here (fma not fused)',
    );
  if (report.exact)
    lines.push(
      `exact-product kernel (significands ≤ 12 bits): BF16 probe ${e(report.exact.probeErr)}; max|ΔG|/max|G| exact / general kernel, chunks on it: ${report.exact.cases
        .map((c) => `${c.name} ${e(c.gramErr)} / ${e(c.gramErrGeneral)}, ${c.exactChunks} of ${c.chunks}`)
        .join('; ')}`,
    );
  if (report.rolled)
    lines.push(
      `rolled inner loop (gpu-bench's instruction-cache diagnosis), max|ΔG|/max|G| vs the default: ${report.rolled.map((c) => `${c.name} ${e(c.diff)}`).join(', ')}`,
    );
  if (report.band?.cases.length)
    lines.push(`GPU dense → band reduction (experimental), max|Δσ|/σmax vs WASM: ${report.band.cases.map((c) => `${c.name} ${e(c.sigmaErr)}`).join(', ')}`);
  if (report.timingError) lines.push(`timing failed: ${report.timingError}`);
  if (report.timing) {
    lines.push(`timing on ${report.timing.adapter} (wall time of gram(): upload + compute + read-back)`);
    for (const x of report.timing.timings)
      lines.push(`${x.rows}×${x.cols}: compensated ${x.compensatedMs.toFixed(1)} ms (${x.compensatedGmacs.toFixed(0)} GMAC/s), f32 ${x.f32Ms.toFixed(1)} ms`);
  }
  return lines.join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  const at = argv.indexOf('--chromium');
  const gpu = argv.includes('--gpu');
  const timing = gpu
    ? [
        [4096, 4096],
        [16384, 4096],
        [2048, 8192],
        [32768, 1024],
      ]
    : undefined;
  const report = await runGramBrowserTests({ chromiumPath: at >= 0 ? argv[at + 1] : undefined, gpu, timing, log: (l) => console.error(l) });
  if (report.skipped) {
    console.log(`skipped: ${report.skipped}`);
  } else {
    console.log(formatReport(report));
    const bad = checkReport(report);
    for (const b of bad) console.error(`FAIL ${b}`);
    process.exitCode = bad.length ? 1 : 0;
  }
}
