/**
 * The WebGPU Gram in headless Chromium's software adapter (SwiftShader): accuracy against the
 * exact Gram and the float64 SVD, chunking/banding, error paths. WebGPU does not exist in Node,
 * so gram-gpu.browser-test.mjs bundles a harness page and drives Chromium through playwright-core.
 * Skipped (with the reason) only when Chromium is missing or offers no WebGPU adapter.
 */
import { existsSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BrowserReport, DEFAULT_CHROMIUM, LIMITS, checkReport, formatReport, runGramBrowserTests } from './gram-gpu.browser-test.mjs';

const haveChromium = existsSync(DEFAULT_CHROMIUM);
if (!haveChromium) console.warn(`gram-gpu.test: skipped, ${DEFAULT_CHROMIUM} not found`);

describe.skipIf(!haveChromium)('WebGPU Gram (headless Chromium)', () => {
  let report: BrowserReport;
  beforeAll(async () => {
    report = await runGramBrowserTests({ log: (l) => console.log(l) });
    if (report.skipped) console.warn(`gram-gpu.test: skipped, ${report.skipped}`);
    else console.log(formatReport(report));
  }, 240_000);

  it('matches the exact Gram to ~1e-13 (plain f32: ~1e-7) on tall, wide, square, 1×n, n×1, rank-deficient and wide-range inputs', ({ skip }) => {
    if (report.skipped) skip(report.skipped);
    expect(report.cases.length).toBeGreaterThanOrEqual(8);
    for (const c of report.cases) {
      expect(c.gramErr, c.name).toBeLessThanOrEqual(LIMITS.gram);
      expect(c.gramErrF32, `${c.name}: the plain f32 variant should be visibly worse`).toBeGreaterThan(100 * c.gramErr);
      if (c.streamErr !== undefined) expect(c.streamErr, `${c.name} streamed`).toBeLessThanOrEqual(LIMITS.gram);
    }
  });

  it('keeps every singular value within 1e-6·σmax of the float64 SVD, and well-conditioned scores within 1e-5', ({ skip }) => {
    if (report.skipped) skip(report.skipped);
    for (const c of [...report.cases, ...report.chunked]) {
      expect(c.sigmaErr, c.name).toBeLessThanOrEqual(LIMITS.sigma);
      if (!c.degenerate) expect(c.scoreErr, c.name).toBeLessThanOrEqual(LIMITS.score);
    }
  });

  it("the opt-in fma() TwoProduct (for gpu-bench) is as exact as Dekker's where its self-test accepts it", ({ skip }) => {
    if (report.skipped) skip(report.skipped);
    if (!report.fma?.accepted) skip("this adapter's fma() is not fused: the fma variant is refused");
    expect(report.fma!.cases).toHaveLength(report.cases.length);
    for (const c of report.fma!.cases) expect(c.gramErr, `fma: ${c.name}`).toBeLessThanOrEqual(LIMITS.gram);
  });

  it('gives the very same Gram with the inner loop kept rolled (rolledInnerLoop), on the general and the exact-product kernel', ({ skip }) => {
    if (report.skipped) skip(report.skipped);
    expect(report.rolled!.map((c) => [c.name, c.diff, c.exactChunks])).toEqual([
      ['tall gaussian', 0, 0],
      ['wide gaussian', 0, 0],
      ['square 130 (3 tiles, padding)', 0, 0],
      ['BF16 gaussian', 0, 1],
    ]);
  });

  it('runs BF16/F16-valued chunks (significands ≤ 12 bits) through the exact-product kernel, chosen per chunk, as exactly as the general one', ({ skip }) => {
    if (report.skipped) skip(report.skipped);
    const exact = report.exact!;
    expect(exact.probeErr, 'BF16 self-test probe').toBeLessThanOrEqual(LIMITS.selfTest);
    expect(exact.exactChunksOnF32, 'f32 inputs must take the general kernel').toBe(0);
    expect(exact.cases.map((c) => [c.name, c.chunks, c.exactChunks])).toEqual([
      ['BF16 gaussian', 1, 1],
      ['BF16 values 1e-3..1e3', 1, 1],
      ['12-bit significands (the limit)', 1, 1],
      ['13-bit significands (general kernel)', 1, 0],
      ['BF16 wide (read transposed)', 1, 1],
      ['row blocks BF16, f32, BF16', 3, 2],
    ]);
    for (const c of exact.cases) {
      expect(c.gramErr, c.name).toBeLessThanOrEqual(LIMITS.gram);
      expect(c.gramErrGeneral, `${c.name}, general kernel`).toBeLessThanOrEqual(LIMITS.gram);
    }
  });

  it('accumulates chunked inputs, banded G, multi-pass dispatches and chunked read-back exactly as one of each', ({ skip }) => {
    if (report.skipped) skip(report.skipped);
    expect(report.chunked.length).toBe(3);
    for (const c of report.chunked) {
      expect(c.gramErr, c.name).toBeLessThanOrEqual(LIMITS.gram);
      if (c.streamErr !== undefined) expect(c.streamErr, `${c.name} streamed`).toBeLessThanOrEqual(LIMITS.gram);
    }
  });

  it('the experimental GPU dense → band reduction (double-f32) gives the WASM σ to 1e-10·σmax, orders 1 to 150, a chunked upload and a diagonal', ({
    skip,
  }) => {
    if (report.skipped) skip(report.skipped);
    if (report.band?.skipped) skip(report.band.skipped);
    expect(report.band?.cases.length).toBe(8);
    for (const c of report.band!.cases) expect(c.sigmaErr, c.name).toBeLessThanOrEqual(LIMITS.band);
    expect(report.band!.probeErr, 'self-test probe (known eigenvalues)').toBeLessThanOrEqual(LIMITS.band);
    expect(report.band!.rolledDiff, 'rolled inner loops: the same σ').toBe(0);
  });

  it('self-test separates compensated from plain f32; errors surface as GpuGramError codes', ({ skip }) => {
    if (report.skipped) skip(report.skipped);
    expect(report.probeErr).toBeLessThanOrEqual(LIMITS.selfTest);
    expect(report.probeErrF32).toBeGreaterThan(LIMITS.selfTest);
    expect(report.nonFiniteCode).toBe('non-finite');
    expect(report.deviceLostCode).toBe('device-lost');
    expect(report.softwareRefusedByDefault).toBe(true);
    expect(checkReport(report)).toEqual([]);
  });
});
