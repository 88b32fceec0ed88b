/**
 * onnxruntime-web's MatMul Gram in headless Chromium: the wasm backend with threads (needs
 * cross-origin isolation: the page is served with COOP/COEP from 127.0.0.1) and the WebGPU
 * backend (on a machine without a GPU Chromium offers only its software adapter, SwiftShader:
 * we check that it runs and how accurate it is, its timing means nothing).
 *
 *   npx esbuild src/bench/ort/ort-browser.ts --bundle --platform=node --format=esm \
 *     --outfile=/tmp/ort-browser.mjs --log-level=warning && node /tmp/ort-browser.mjs
 *   options: --wasm-shapes 1024x4096,4096x4096  --threads 1,2  --reps 3
 *            --gpu-shape 512x2048  --chromium /usr/bin/chromium  --skip wasm,webgpu
 *
 * Run from the repository root (playwright-core and onnxruntime-web's dist/ are resolved from
 * node_modules there). Accuracy of each backend's float32 Gram is measured as in ort-bench.ts:
 * fed to our float64 eigen step and compared with our float64 Gram's spectrum.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { parseArgs } from 'node:util';
import type * as Playwright from 'playwright-core';
import { OurGram, compareSpectra, describeDiff, gramOperand, median, nominalFlops, rawKernel, transpose, weightLike, type Shape } from './common.js';
import { gramModel } from './onnx-matmul.js';
import { BASE_ARGS, DEFAULT_CHROMIUM } from '../../testing/chromium.mjs';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    'wasm-shapes': { type: 'string', default: '1024x4096,4096x4096' },
    threads: { type: 'string' },
    reps: { type: 'string', default: '3' },
    'gpu-shape': { type: 'string', default: '512x2048' },
    chromium: { type: 'string', default: DEFAULT_CHROMIUM },
    skip: { type: 'string', default: '' },
  },
});
const parseShape = (s: string): Shape => s.split('x').map(Number) as Shape;
const skip = new Set(values.skip.split(',').filter(Boolean));
const reps = Number(values.reps);
const cores = availableParallelism();
const threads = (values.threads ?? [...new Set([1, cores])].join(',')).split(',').map(Number);

const req = createRequire(join(process.cwd(), 'package.json'));
const ortDist = dirname(req.resolve('onnxruntime-web')); // …/onnxruntime-web/dist
const { chromium } = req('playwright-core') as typeof Playwright;

// ---------------------------------------------------------------------------------------
// Page (plain JS module, served as /page.js): window.runOrt(options) → timings + Z
// ---------------------------------------------------------------------------------------
const PAGE_JS = String.raw`
export async function runOrt({ bundle, ep, threads, rows, cols, reps, returnZ }) {
  const ort = await import('/ort/' + bundle);
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.wasmPaths = '/ort/';
  ort.env.logLevel = 'error';
  const k = Math.min(rows, cols), n = Math.max(rows, cols);
  const get = async (p) => new Uint8Array(await (await fetch(p)).arrayBuffer());
  const [model, xb, yb] = await Promise.all([get('/model/' + k + 'x' + n), get('/x/' + rows + 'x' + cols), get('/y/' + rows + 'x' + cols)]);
  let adapterInfo = null;
  if (ep === 'webgpu') {
    if (!navigator.gpu) throw new Error('navigator.gpu is missing');
    let adapter = await navigator.gpu.requestAdapter();
    if (!adapter) adapter = await navigator.gpu.requestAdapter({ forceFallbackAdapter: true });
    if (!adapter) throw new Error('no WebGPU adapter');
    const i = adapter.info ?? {};
    adapterInfo = [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' / ') + (adapter.isFallbackAdapter ? ' (fallback)' : '');
    ort.env.webgpu.adapter = adapter;
  }
  const session = await ort.InferenceSession.create(model, { executionProviders: [ep] });
  const feeds = {
    X: new ort.Tensor('float32', new Float32Array(xb.buffer), [k, n]),
    Y: new ort.Tensor('float32', new Float32Array(yb.buffer), [n, k]),
  };
  const once = async () => {
    const t = performance.now();
    const out = await session.run(feeds);
    const z = await out.Z.getData(); // downloads from the GPU for webgpu; plain data for wasm
    return [(performance.now() - t) / 1000, z];
  };
  const [warmup, z0] = await once();
  let z = z0;
  const seconds = [];
  for (let r = 0; r < reps; r++) {
    const [s, zz] = await once();
    seconds.push(s);
    z = zz;
  }
  let zB64 = null;
  if (returnZ) {
    const bytes = new Uint8Array(z.buffer, z.byteOffset, z.byteLength);
    let s = '';
    for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    zB64 = btoa(s);
  }
  let gpuDevice = null;
  if (ep === 'webgpu') {
    try { gpuDevice = !!(await ort.env.webgpu.device); } catch { gpuDevice = false; }
  }
  await session.release();
  return { crossOriginIsolated: self.crossOriginIsolated, sab: typeof SharedArrayBuffer === 'function', hardwareConcurrency: navigator.hardwareConcurrency, adapterInfo, gpuDevice, warmup, seconds, zB64 };
}
window.runOrt = runOrt;
window.pageReady = true;
`;
const HTML = '<!doctype html><meta charset="utf-8"><title>ort-browser</title><script type="module" src="/page.js"></script>';

// ---------------------------------------------------------------------------------------
// Server: COOP/COEP on every response so the page is cross-origin isolated (threads)
// ---------------------------------------------------------------------------------------
const operands = new Map<string, { x: Float32Array; y: Float32Array }>();
function operandsFor(rows: number, cols: number): { x: Float32Array; y: Float32Array } {
  const key = `${rows}x${cols}`;
  let o = operands.get(key);
  if (!o) {
    const x = gramOperand(weightLike(rows, cols), rows, cols);
    o = { x, y: transpose(x, Math.min(rows, cols), Math.max(rows, cols)) };
    operands.clear(); // one shape at a time: they are large
    operands.set(key, o);
  }
  return o;
}

const MIME: Record<string, string> = { '.mjs': 'text/javascript', '.js': 'text/javascript', '.wasm': 'application/wasm', '.html': 'text/html' };
const server = createServer((rq, res) => {
  const url = new URL(rq.url ?? '/', 'http://x');
  const head = (type: string): void => {
    res.writeHead(200, {
      'content-type': type,
      'cache-control': 'no-store',
      'cross-origin-opener-policy': 'same-origin',
      'cross-origin-embedder-policy': 'require-corp',
      'cross-origin-resource-policy': 'same-origin',
    });
  };
  const f32 = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const shapeOf = (p: string): Shape => parseShape(p.split('/').pop()!);
  try {
    if (url.pathname === '/') {
      head('text/html');
      res.end(HTML);
    } else if (url.pathname === '/page.js') {
      head('text/javascript');
      res.end(PAGE_JS);
    } else if (url.pathname.startsWith('/model/')) {
      const [k, n] = shapeOf(url.pathname);
      head('application/octet-stream');
      res.end(gramModel(k, n));
    } else if (url.pathname.startsWith('/x/') || url.pathname.startsWith('/y/')) {
      const [r, c] = shapeOf(url.pathname);
      const o = operandsFor(r, c);
      head('application/octet-stream');
      res.end(f32(url.pathname.startsWith('/x/') ? o.x : o.y));
    } else if (url.pathname.startsWith('/ort/')) {
      const file = normalize(join(ortDist, url.pathname.slice(5)));
      if (!file.startsWith(ortDist)) throw new Error('outside dist');
      const body = readFileSync(file);
      head(MIME[extname(file)] ?? 'application/octet-stream');
      res.end(body);
    } else {
      res.writeHead(url.pathname === '/favicon.ico' ? 204 : 404);
      res.end();
    }
  } catch {
    res.writeHead(404);
    res.end();
  }
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as AddressInfo).port;

interface PageResult {
  crossOriginIsolated: boolean;
  sab: boolean;
  hardwareConcurrency: number;
  adapterInfo: string | null;
  gpuDevice: boolean | null;
  warmup: number;
  seconds: number[];
  zB64: string | null;
}

/** One fresh browser (fresh profile) per run: ORT's numThreads is fixed per page load. */
async function inBrowser(opts: {
  bundle: string;
  ep: string;
  threads: number;
  rows: number;
  cols: number;
  reps: number;
  returnZ: boolean;
}): Promise<PageResult> {
  const profile = mkdtempSync(join(tmpdir(), 'ort-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: values.chromium,
    headless: true,
    args: BASE_ARGS,
  });
  try {
    const page = ctx.pages()[0] ?? (await ctx.newPage());
    page.on('pageerror', (e) => console.error(`[page error] ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') console.error(`[page ${m.type()}] ${m.text()}`);
    });
    page.setDefaultTimeout(590_000);
    await page.goto(`http://127.0.0.1:${port}/`);
    await page.waitForFunction(() => (window as unknown as { pageReady?: boolean }).pageReady === true, null, { timeout: 30_000 });
    return (await page.evaluate((o) => (window as unknown as { runOrt(o: unknown): Promise<unknown> }).runOrt(o), opts)) as PageResult;
  } finally {
    await ctx.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

/** Our float64 spectrum vs the spectrum of a float32 Gram Z (k×k), both through our eigen step. */
async function accuracy(rows: number, cols: number, zB64: string): Promise<string> {
  const buf = Buffer.from(zB64, 'base64');
  const z = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
  const og = new OurGram(await rawKernel(), weightLike(rows, cols), rows, cols);
  og.run();
  const g = new Float64Array(og.ex.memory.buffer, og.g, og.kp * og.kp);
  const k = og.k;
  let maxG = 0;
  let maxDG = 0;
  for (let i = 0; i < k; i++)
    for (let j = 0; j <= i; j++) {
      const ref = g[i * og.kp + j]!;
      maxG = Math.max(maxG, Math.abs(ref));
      maxDG = Math.max(maxDG, Math.abs(z[i * k + j]! - ref));
    }
  const ours = og.eigen().sv;
  og.load(z);
  const theirs = og.eigen().sv;
  return `max|ΔG|/max|G| ${(maxDG / maxG).toExponential(2)}; ${describeDiff(compareSpectra(ours, theirs, rows, cols))}`;
}

console.log(
  `ort-browser: ${values.chromium}, ${cores} cores, load avg ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')}; median of ${reps} after 1 warm-up`,
);
try {
  if (!skip.has('wasm')) {
    for (const s of values['wasm-shapes'].split(',')) {
      const [rows, cols] = parseShape(s);
      for (const t of threads) {
        const r = await inBrowser({ bundle: 'ort.wasm.min.mjs', ep: 'wasm', threads: t, rows, cols, reps, returnZ: false });
        const sec = median(r.seconds);
        console.log(
          `${s.padEnd(11)} Chromium ORT wasm ${t}T: ${sec.toFixed(3)} s, ${(nominalFlops(rows, cols) / sec / 1e9).toFixed(1)} GFLOP/s ` +
            `(runs ${r.seconds.map((x) => x.toFixed(2)).join(' ')}, warm-up ${r.warmup.toFixed(2)} s; crossOriginIsolated ${r.crossOriginIsolated}, SharedArrayBuffer ${r.sab}, hardwareConcurrency ${r.hardwareConcurrency})`,
        );
      }
    }
  }
  if (!skip.has('webgpu')) {
    const s = values['gpu-shape'];
    const [rows, cols] = parseShape(s);
    const r = await inBrowser({ bundle: 'ort.webgpu.min.mjs', ep: 'webgpu', threads: 1, rows, cols, reps: 1, returnZ: true });
    console.log(
      `${s.padEnd(11)} Chromium ORT webgpu: ran on adapter "${r.adapterInfo}", ORT GPU device ${r.gpuDevice}; ${median(r.seconds).toFixed(3)} s (software adapter: not a performance figure)`,
    );
    console.log(`${s.padEnd(11)} webgpu accuracy, ORT f32 Gram → our eigen vs our f64 Gram: ${await accuracy(rows, cols, r.zB64!)}`);
    const w = await inBrowser({ bundle: 'ort.wasm.min.mjs', ep: 'wasm', threads: 1, rows, cols, reps: 1, returnZ: true });
    console.log(`${s.padEnd(11)} Chromium wasm accuracy (same check):              ${await accuracy(rows, cols, w.zB64!)}`);
  }
} finally {
  server.close();
}
