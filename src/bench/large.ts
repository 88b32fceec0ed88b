/**
 * `npm run test:large` (not in CI): a checkpoint far larger than memory — at least 20 GB in
 * several shards, including a 2,097,152×1024 BF16 embedding (4.3 GB) — scanned by the CLI under
 * the 2 GB memory bound (at the 1.2 GB pool budget, given explicitly: the CLI's default grows with
 * the workers on bigger machines), with results checked against singular values known in closed form.
 *
 * The scanned matrices are built from Walsh functions, whose rows (or columns) are exactly
 * orthogonal: W[i][j] = d(i or j) · (−1)^popcount(i & j). Their singular values are d·√n, with no
 * numerical computation at all — an independent check of the whole pipeline.
 *
 *   npm run test:large -- [--dir /path/with/25GB/free] [--keep]
 */
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parsePyJson } from '../core/pyjson.js';
import { spectrumScore } from '../core/spectrum.js';
import { parity } from '../testing/walsh.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { dir: { type: 'string' }, keep: { type: 'boolean' }, 'no-page': { type: 'boolean' }, 'no-cli': { type: 'boolean' } },
});
const root = values.dir ?? join(tmpdir(), 'spectroscope-large');
const modelDir = join(root, 'large-model');
const RSS_LIMIT = 2e9;

const EMB_ROWS = 2_097_152;
const EMB_COLS = 1024;
const LAYERS = 68;

/** A bf16-exact scale per index: mantissa from the low 7 bits, a gentle exponent from the rest. */
function scale(i: number): number {
  return (1 + (i % 128) / 128) * 2 ** -(4 + ((i >> 7) % 4));
}

function bf16(x: number): number {
  const f = new Float32Array([x]);
  return new Uint32Array(f.buffer)[0]! >>> 16;
}

interface Entry {
  name: string;
  shape: [number, number];
  /** Fills rows [r0, r0+n) of the tensor into `out` (BF16 bits). */
  fill: (r0: number, n: number, out: Uint16Array) => void;
}

/** Columns scaled: W[i][j] = d_j·(−1)^popcount(i&j): σ_j = d_j·√rows (tall). */
const walshColumns = (rows: number, cols: number): Entry['fill'] => {
  const pos = Uint16Array.from({ length: cols }, (_, j) => bf16(scale(j)));
  return (r0, n, out) => {
    for (let r = 0; r < n; r++) for (let j = 0; j < cols; j++) out[r * cols + j] = pos[j]! | (parity((r0 + r) & j) << 15);
  };
};
/** Rows scaled: W[i][j] = d_i·(−1)^popcount(i&j): σ_i = d_i·√cols (wide). */
const walshRows = (cols: number, seed: number): Entry['fill'] => {
  return (r0, n, out) => {
    for (let r = 0; r < n; r++) {
      const v = bf16(scale(r0 + r + seed));
      for (let j = 0; j < cols; j++) out[r * cols + j] = v | (parity((r0 + r) & j) << 15);
    }
  };
};
const noise = (): Entry['fill'] => {
  const block = new Uint16Array(1 << 22);
  let s = 7;
  for (let i = 0; i < block.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    block[i] = ((s >>> 31) << 15) | ((118 + ((s >>> 20) % 4)) << 7) | (s & 0x7f);
  }
  // Unscanned filler: a repeated random block writes at disk speed.
  return (_r0, _n, out) => {
    for (let i = 0; i < out.length; i += block.length) out.set(block.subarray(0, Math.min(block.length, out.length - i)), i);
  };
};

function writeShard(file: string, entries: Entry[]): number {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const e of entries) {
    const n = e.shape[0] * e.shape[1] * 2;
    header[e.name] = { dtype: 'BF16', shape: e.shape, data_offsets: [off, off + n] };
    off += n;
  }
  let text = JSON.stringify(header);
  while ((text.length + 8) % 8) text += ' ';
  const fd = openSync(file, 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(text.length));
  writeSync(fd, len);
  writeSync(fd, text);
  for (const e of entries) {
    const [rows, cols] = e.shape;
    const blockRows = Math.max(1, Math.floor((8 << 20) / cols));
    const buf = new Uint16Array(blockRows * cols);
    for (let r = 0; r < rows; r += blockRows) {
      const n = Math.min(blockRows, rows - r);
      e.fill(r, n, buf);
      writeSync(fd, new Uint8Array(buf.buffer, 0, n * cols * 2));
    }
  }
  closeSync(fd);
  return 8 + text.length + off;
}

function generate(): { bytes: number; expected: Map<string, number> } {
  mkdirSync(modelDir, { recursive: true });
  const expected = new Map<string, number>();
  const weightMap: Record<string, string> = {};
  const shards: Entry[][] = [[{ name: 'model.embed_tokens.weight', shape: [EMB_ROWS, EMB_COLS], fill: walshColumns(EMB_ROWS, EMB_COLS) }]];
  expected.set(
    'model.embed_tokens',
    spectrumScore(descending(Array.from({ length: EMB_COLS }, (_, j) => scale(j) * Math.sqrt(EMB_ROWS))), EMB_ROWS, EMB_COLS).score,
  );
  const perShard = 10;
  for (let l = 0; l < LAYERS; l++) {
    if (l % perShard === 0) shards.push([]);
    const p = `model.layers.${l}.`;
    shards
      .at(-1)!
      .push(
        { name: p + 'self_attn.k_proj.weight', shape: [1024, 4096], fill: walshRows(4096, l) },
        { name: p + 'mlp.up_proj.weight', shape: [14336, 4096], fill: noise() },
        { name: p + 'mlp.down_proj.weight', shape: [4096, 14336], fill: noise() },
      );
    expected.set(p + 'self_attn.k_proj', spectrumScore(descending(Array.from({ length: 1024 }, (_, i) => scale(i + l) * 64)), 1024, 4096).score);
  }
  let bytes = 0;
  shards.forEach((entries, i) => {
    const name = `model-${String(i + 1).padStart(5, '0')}-of-${String(shards.length).padStart(5, '0')}.safetensors`;
    const file = join(modelDir, name);
    if (!existsSync(file)) console.log(`writing ${name}…`);
    bytes += existsSync(file) ? 0 : writeShard(file, entries);
    for (const e of entries) weightMap[e.name] = name;
  });
  writeFileSync(join(modelDir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }, null, 2));
  writeFileSync(
    join(modelDir, 'config.json'),
    JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama', tie_word_embeddings: false, vocab_size: EMB_ROWS }),
  );
  return { bytes, expected };
}

function descending(xs: number[]): number[] {
  return xs.sort((a, b) => b - a);
}

function check(what: string, results: Record<string, { snr: number }>, expected: Map<string, number>): number {
  let worst = 0;
  for (const [name, want] of expected) {
    const got = results[name]?.snr;
    if (got === undefined) throw new Error(`${what}: ${name} missing from the results`);
    worst = Math.max(worst, Math.abs(got - want) / Math.abs(want));
  }
  return worst;
}

const TYPES = 'model.embed_tokens,self_attn.k_proj';

async function cliScan(expected: Map<string, number>): Promise<boolean> {
  const out = join(root, 'out');
  const cli = new URL('./cli.mjs', import.meta.url).pathname;
  const t1 = performance.now();
  const child = spawn(process.execPath, [cli, 'scan', modelDir, '--types', TYPES, '--out', out, '--fresh', '--memory-gb', '1.2'], {
    env: { ...process.env, SPECTROSCOPE_STATS: '1' },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    process.stderr.write(d);
  });
  const code = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? 1)));
  if (code !== 0) throw new Error(`scan exited ${code}`);
  const stats = JSON.parse(/SPECTROSCOPE_STATS (.*)/.exec(stderr)![1]!) as { peakRssBytes: number };
  const worst = check('CLI', parsePyJson(readFileSync(join(out, 'snr_results_large-model.json'), 'utf8')) as Record<string, { snr: number }>, expected);
  const seconds = (performance.now() - t1) / 1000;
  console.log(
    `CLI scan: ${seconds.toFixed(0)} s, peak RSS ${(stats.peakRssBytes / 1e9).toFixed(2)} GB (limit ${RSS_LIMIT / 1e9} GB), max relative score error vs closed form ${worst.toExponential(2)} over ${expected.size} matrices`,
  );
  return report(stats.peakRssBytes, worst);
}

function report(peak: number, worst: number): boolean {
  let ok = true;
  if (peak > RSS_LIMIT) {
    ok = false;
    console.error('FAIL: peak memory over the bound');
  }
  if (!(worst <= 1e-5)) {
    ok = false;
    console.error('FAIL: scores differ from the closed form');
  }
  return ok;
}

/** Resident memory of every process of the browser we launched (found by its profile folder). */
function browserRss(profile: string): number {
  const out = execFileSync('ps', ['-eo', 'rss=,args='], { encoding: 'utf8', maxBuffer: 1 << 24 });
  let kb = 0;
  for (const line of out.split('\n')) if (line.includes(profile)) kb += Number(line.trim().split(/\s+/)[0]) || 0;
  return kb * 1024;
}

async function pageScan(expected: Map<string, number>): Promise<boolean> {
  const { chromium } = await import('playwright-core');
  const repo = new URL('../', import.meta.url).pathname;
  if (!existsSync(join(repo, 'dist/index.html'))) throw new Error('dist/ is not built: run `npm run build` first');
  const port = 4179;
  const server = spawn(process.execPath, [join(repo, 'node_modules/vite/bin/vite.js'), 'preview', '--port', String(port), '--strictPort'], {
    cwd: repo,
    stdio: 'ignore',
  });
  const profile = mkdtempSync(join(tmpdir(), 'spectroscope-large-profile-'));
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    acceptDownloads: true,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, browserRss(profile))), 1000);
  try {
    const page = browser.pages()[0] ?? (await browser.newPage());
    for (let i = 0; ; i++) {
      try {
        await page.goto(`http://localhost:${port}/?types=${TYPES}`);
        break;
      } catch (e) {
        if (i > 50) throw e;
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    const t0 = performance.now();
    await page.locator('input[type=file][webkitdirectory]').setInputFiles(modelDir);
    await page.getByTestId('summary').waitFor({ timeout: 60_000 });
    console.log(
      `page: header summary of the ${(await page.getByTestId('summary').innerText()).length > 0 ? 'model' : '?'} after ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
    await page.getByTestId('download-yaml').waitFor({ state: 'visible', timeout: 120_000 });
    await page.waitForFunction(() => !(document.querySelector('[data-testid=download-yaml]') as HTMLButtonElement | null)?.disabled, null, {
      timeout: 3 * 3600_000,
      polling: 2000,
    });
    const seconds = (performance.now() - t0) / 1000;
    const [d] = await Promise.all([page.waitForEvent('download'), page.getByTestId('download-results').click()]);
    const worst = check('page', parsePyJson(readFileSync(await d.path(), 'utf8')) as Record<string, { snr: number }>, expected);
    peak = Math.max(peak, browserRss(profile));
    console.log(
      `page scan: ${seconds.toFixed(0)} s, peak memory of all browser processes ${(peak / 1e9).toFixed(2)} GB (limit ${RSS_LIMIT / 1e9} GB), max relative score error ${worst.toExponential(2)}`,
    );
    return report(peak, worst);
  } finally {
    clearInterval(timer);
    await browser.close();
    server.kill();
    rmSync(profile, { recursive: true, force: true });
  }
}

async function main() {
  const t0 = performance.now();
  const { expected } = generate();
  console.log(`checkpoint ready in ${((performance.now() - t0) / 1000).toFixed(0)} s at ${modelDir}`);
  let passed = 0;
  let failed = 0;
  for (const [run, skip] of [
    [cliScan, values['no-cli']],
    [pageScan, values['no-page']],
  ] as const) {
    if (skip) continue;
    if (await run(expected)) passed++;
    else failed++;
  }
  if (!values.keep) rmSync(root, { recursive: true, force: true });
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

await main();
