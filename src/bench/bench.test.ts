/**
 * `npm run bench` as a user runs it (dist-cli/bench.mjs, built by the global setup), on tiny
 * shapes: every requested backend, in Node and in headless Chromium, either yields a record
 * whose score agrees with scipy's float64 SVD (when python3 has scipy) or is listed as skipped
 * with a reason; unknown backends are refused. No time is asserted.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_CHROMIUM } from '../testing/chromium.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bench = join(root, 'dist-cli/bench.mjs');
const work = mkdtempSync(join(tmpdir(), 'spectroscope-bench-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface Results {
  machine: {
    cpu: string;
    cores: number;
    node: string;
    chromium?: string;
    wasm_peak_gflops_per_core: number;
    wasm_peak_build: string;
    chromium_wasm_peak_gflops_per_core?: number;
  };
  records: {
    rows: number;
    cols: number;
    backend: string;
    seconds: number;
    max_rel_score_error: number | null;
    scipy_seconds?: number;
    peak_fraction?: number;
  }[];
  peak_bounds: { rows: number; cols: number; seconds: number }[];
  skipped: { backend: string; reason: string }[];
  llama3_8b_scan: unknown;
}

function runBench(args: string[]) {
  return spawnSync(process.execPath, [bench, ...args], { cwd: work, encoding: 'utf8', timeout: 240_000 });
}

describe('npm run bench (tiny shapes)', () => {
  it('times every available backend in Node and Chromium, scores match float64, the rest is skipped with a reason', () => {
    const backends = ['wasm-1', 'wasm-threads', 'wasm-pool', 'webgpu', 'chromium-wasm-1', 'chromium-wasm-threads', 'chromium-webgpu'];
    const out = join(work, 'results.json');
    const r = runBench(['--shapes', '96x40,33x70', '--backends', backends.join(','), '--no-scan', '--repeats', '1', '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(readFileSync(out, 'utf8')) as Results;
    expect(res.llama3_8b_scan).toBeNull();
    const timed = new Set(res.records.map((x) => x.backend));
    const skipped = new Set(res.skipped.map((x) => x.backend));
    for (const b of backends) expect(timed.has(b) !== skipped.has(b), `${b}: exactly one of timed or skipped`).toBe(true);
    for (const s of res.skipped) expect(s.reason.length, s.backend).toBeGreaterThan(10);
    for (const b of ['wasm-1', 'wasm-threads', 'wasm-pool']) expect(timed.has(b), b).toBe(true);
    if (existsSync(DEFAULT_CHROMIUM)) {
      expect(res.machine.chromium).toMatch(/^\d+\./);
      expect(res.machine.chromium_wasm_peak_gflops_per_core).toBeGreaterThan(0);
      for (const b of ['chromium-wasm-1', 'chromium-wasm-threads']) expect(timed.has(b), b).toBe(true);
    }
    for (const x of res.records) {
      expect([96, 33]).toContain(x.rows);
      expect(x.seconds, x.backend).toBeGreaterThan(0);
      if (x.max_rel_score_error !== null) expect(x.max_rel_score_error, `${x.rows}x${x.cols} ${x.backend}`).toBeLessThanOrEqual(1e-5);
    }
    // one record per shape × timed backend
    expect(res.records.length).toBe(2 * timed.size);
    // the WASM records are read against the measured arithmetic peak; the GPU ones are not
    expect(res.machine.wasm_peak_gflops_per_core).toBeGreaterThan(0);
    expect(['relaxed', 'plain']).toContain(res.machine.wasm_peak_build);
    // the CPU the ratios were measured on, with its family and model where Linux tells them
    const cpuName = cpus()[0]?.model.trim();
    if (cpuName) expect(res.machine.cpu.startsWith(cpuName), res.machine.cpu).toBe(true);
    if (existsSync('/proc/cpuinfo')) expect(res.machine.cpu).toMatch(/ \(family \d+, model \d+\)$/);
    expect(res.peak_bounds.map((b) => `${b.rows}x${b.cols}`)).toEqual(['96x40', '33x70']);
    for (const b of res.peak_bounds) expect(b.seconds).toBeGreaterThan(0);
    for (const x of res.records) {
      if (x.backend.includes('wasm')) expect(x.peak_fraction, x.backend).toBeGreaterThan(0);
      else expect(x.peak_fraction, x.backend).toBeUndefined();
    }
    expect(r.stdout).toMatch(/WASM arithmetic peak: [\d.]+ GFLOP\/s per core/);
    expect(r.stdout).toMatch(/shape\s+backend\s+seconds/);
  }, 240_000);

  it('runs its Node backends from dist-cli alone, with no node_modules (a GPU machine gets only node and dist-cli)', () => {
    const alone = join(work, 'alone');
    cpSync(join(root, 'dist-cli'), join(alone, 'dist-cli'), { recursive: true });
    const out = join(work, 'alone.json');
    const r = spawnSync(
      process.execPath,
      [
        join(alone, 'dist-cli/bench.mjs'),
        '--shapes',
        '40x24',
        '--backends',
        'wasm-1,wasm-threads,wasm-pool',
        '--no-scan',
        '--no-scipy',
        '--repeats',
        '1',
        '--out',
        out,
      ],
      {
        cwd: alone,
        encoding: 'utf8',
        timeout: 120_000,
      },
    );
    expect(r.status, r.stderr).toBe(0);
    const res = JSON.parse(readFileSync(out, 'utf8')) as Results;
    expect(res.records.map((x) => x.backend).sort()).toEqual(['wasm-1', 'wasm-pool', 'wasm-threads']);
  }, 120_000);

  it('refuses an unknown backend by name', () => {
    const r = runBench(['--backends', 'wasm-1,cuda', '--no-scan']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/unknown backend "cuda"/);
  });
});
