/**
 * The headless-Chromium half of `npm run bench`: bundles browser-bench.worker.ts, serves it from
 * 127.0.0.1 with cross-origin isolation (COOP/COEP, so the kernels get shared-memory threads),
 * launches Chromium through playwright-core with a fresh profile, and times shapes there on
 * request. Nothing leaves the machine: the server answers only these two paths.
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { BASE_ARGS, DEFAULT_CHROMIUM, GPU_ARGS, bundleForBrowser } from '../testing/chromium.mjs';
import type { BrowserBenchRequest, BrowserBenchResult } from './browser-bench.worker.js';

export interface BrowserBench {
  /** Chromium's version, for the report. */
  readonly version: string;
  run(req: BrowserBenchRequest): Promise<BrowserBenchResult[]>;
  close(): Promise<void>;
}

const PAGE = `<!doctype html><meta charset="utf-8"><title>spectroscope bench</title>
<script type="module">
const worker = new Worker('/worker.js', { type: 'module' });
let pending = null;
worker.onmessage = (e) => { const p = pending; pending = null; p(e.data); };
worker.onerror = (e) => { const p = pending; pending = null; p?.({ error: e.message || 'worker failed' }); };
window.benchRun = (req) => new Promise((resolve) => { pending = resolve; worker.postMessage(req); });
</script>`;

/** Starts Chromium on the bench page, or says why it cannot (no Chromium here). */
export async function startBrowserBench(options: { chromiumPath?: string; gpu?: boolean; log?: (line: string) => void } = {}): Promise<BrowserBench | string> {
  const executablePath = options.chromiumPath ?? DEFAULT_CHROMIUM;
  if (!existsSync(executablePath)) return `${executablePath} not found`;
  let chromium: typeof import('playwright-core').chromium;
  try {
    ({ chromium } = await import('playwright-core'));
  } catch {
    return 'playwright-core is not installed (npm ci installs it)';
  }
  const worker = await bundleForBrowser(fileURLToPath(new URL('../src/bench/browser-bench.worker.ts', import.meta.url)));
  const isolation = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp', 'cache-control': 'no-store' };
  const server = createServer((req, res) => {
    if (req.url === '/') res.writeHead(200, { ...isolation, 'content-type': 'text/html' }).end(PAGE);
    else if (req.url === '/worker.js') res.writeHead(200, { ...isolation, 'content-type': 'text/javascript' }).end(worker);
    else res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  const browser = await chromium.launch({ executablePath, headless: true, args: [...BASE_ARGS, ...(options.gpu ? GPU_ARGS : [])] });
  const page = await browser.newPage();
  page.on('pageerror', (e) => options.log?.(`[page error] ${e.message}`));
  page.setDefaultTimeout(0); // a 14336×4096 matrix on one thread takes a while
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => typeof (window as { benchRun?: unknown }).benchRun === 'function');
  if (!(await page.evaluate(() => crossOriginIsolated))) options.log?.('bench page is not cross-origin isolated: no threads');
  return {
    version: browser.version(),
    async run(req) {
      const r = (await page.evaluate((q) => (window as unknown as { benchRun: (q: unknown) => Promise<unknown> }).benchRun(q), req)) as {
        results?: BrowserBenchResult[];
        error?: string;
      };
      if (!r.results) throw new Error(`bench worker in Chromium: ${r.error ?? 'no result'}`);
      return r.results;
    },
    async close() {
      await browser.close();
      server.close();
    },
  };
}
