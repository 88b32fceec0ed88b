/**
 * Does onnxruntime-web's MatMul beat our Gram kernel? (benchmark only; nothing is asserted)
 *
 *   npx esbuild src/bench/ort/ort-bench.ts --bundle --platform=node --format=esm \
 *     --outfile=/tmp/ort-bench.mjs --log-level=warning && node /tmp/ort-bench.mjs
 *   options: --shapes 1024x4096,4096x4096,4096x14336  --reps 3  --threads 1,2 (ORT numThreads,
 *            default 1 and the core count)  --workers 2 (ours ×P, default the core count)
 *            --skip ours,ours-par,ort,accuracy,e2e   --json FILE
 *
 * Run from the repository root: the ORT wasm binaries are resolved from node_modules there.
 * onnxruntime-web is bundled in (its JS is small); only its .wasm/.mjs worker files are
 * loaded at run time, from ort.env.wasm.wasmPaths.
 *
 * For each W (rows×cols) the Gram is G = XXᵀ, k = min(rows, cols), n = max, X the k×n
 * orientation of W (X = W for wide W, Wᵀ for tall W). Times are medians of --reps runs after
 * one warm-up run of the same size. GFLOP/s is NOMINAL GEMM work 2·k²·n / t for every row, so
 * the columns compare wall time; our SYRK does only the lower triangle (k(k+1)·n flops), so its
 * hardware rate is about half the figure shown.
 *
 *   ours 1T     raw kernel export gramRows/gramCols on the whole W already in WASM memory, float64
 *               accumulation (as src/engine/kernels/bench-kernel.mjs does); single thread.
 *   ours ×P     P worker_threads each computing its own Gram of the same shape at once: how the
 *               engine uses P cores (one matrix per worker). Aggregate rate = P·2k²n / wall.
 *   ORT T       onnxruntime-web wasm backend, ort.env.wasm.numThreads = T, one MatMul node
 *               Z[k,k] = X[k,n]·Y[n,k] (Y = Xᵀ pre-transposed, outside the timing); float32
 *               accumulation. Each run includes ORT copying X and Y into its WASM heap. Each T runs
 *               in its own child process (numThreads is fixed once ORT's WASM is initialised).
 *
 * Accuracy: the matrix is weight-like (N(0, 0.02²) noise + a planted rank-8 signal). ORT's
 * float32 Gram (from the ORT child) is fed to OUR eigen step (raw export gramSingularValues:
 * Householder tridiagonalisation + tqlrat, float64) and compared with the same eigen step on our
 * float64 Gram: max |Δσ|/σmax and the relative Spectrum score error.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import * as ort from 'onnxruntime-web';
import { createLinalg } from '../../engine/kernels/linalg.js';
import {
  OurGram,
  compareSpectra,
  describeDiff,
  gramOperand,
  median,
  nominalFlops,
  rawKernel,
  transpose,
  weightLike,
  type Shape,
  type SpectrumDiff,
} from './common.js';
import { gramModel } from './onnx-matmul.js';

// ---------------------------------------------------------------------------------------
// Roles: worker thread (ours ×P), ORT child process, main
// ---------------------------------------------------------------------------------------

interface WorkerInit {
  rows: number;
  cols: number;
}

async function oursWorker(init: WorkerInit): Promise<void> {
  const port = parentPort!;
  const og = new OurGram(await rawKernel(), weightLike(init.rows, init.cols), init.rows, init.cols);
  port.on('message', (msg: string) => {
    if (msg === 'go') port.postMessage(og.run());
    else if (msg === 'exit') process.exit(0);
  });
  port.postMessage('ready');
}

interface OrtChildResult {
  threads: number;
  seconds: number[];
  warmup: number;
  sessionCreate: number;
  dumped?: string;
}

function ortDistUrl(): string {
  const req = createRequire(join(process.cwd(), 'package.json'));
  const main = req.resolve('onnxruntime-web'); // …/onnxruntime-web/dist/ort.node.min.js
  return pathToFileURL(dirname(main)).href + '/';
}

async function ortChild(rows: number, cols: number, threads: number, reps: number, dump: string | undefined): Promise<void> {
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.wasmPaths = ortDistUrl();
  ort.env.logLevel = 'error';
  const k = Math.min(rows, cols);
  const n = Math.max(rows, cols);
  const w = weightLike(rows, cols);
  const x = gramOperand(w, rows, cols); // k×n
  const y = transpose(x, k, n); // n×k
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(gramModel(k, n), { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  const sessionCreate = (performance.now() - t0) / 1000;
  const feeds = { X: new ort.Tensor('float32', x, [k, n]), Y: new ort.Tensor('float32', y, [n, k]) };
  const once = async (): Promise<[number, ort.Tensor]> => {
    const t = performance.now();
    const out = await session.run(feeds);
    return [(performance.now() - t) / 1000, out.Z!];
  };
  const [warmup, first] = await once();
  let z = first;
  const seconds: number[] = [];
  for (let i = 0; i < reps; i++) {
    z.dispose();
    const [s, zz] = await once();
    seconds.push(s);
    z = zz;
  }
  const res: OrtChildResult = { threads, seconds, warmup, sessionCreate };
  if (dump) {
    const data = z.data as Float32Array;
    writeFileSync(dump, new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    res.dumped = dump;
  }
  await session.release();
  process.stdout.write(`RESULT ${JSON.stringify(res)}\n`);
  process.exit(0);
}

function runOrtChild(rows: number, cols: number, threads: number, reps: number, dump: string | undefined): Promise<OrtChildResult> {
  const args = [fileURLToPath(import.meta.url), '--ort-child', `${rows}x${cols}`, '--threads', String(threads), '--reps', String(reps)];
  if (dump) args.push('--dump', dump);
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.on('exit', (code) => {
      const line = out.split('\n').find((l) => l.startsWith('RESULT '));
      if (code !== 0 || !line) reject(new Error(`ORT child (${threads} threads) exited ${code}: ${out.slice(-2000)}`));
      else resolve(JSON.parse(line.slice(7)) as OrtChildResult);
    });
  });
}

/** P workers computing one Gram each at the same time; wall seconds per round. */
async function oursParallel(rows: number, cols: number, workers: number, reps: number): Promise<number[]> {
  const ws = Array.from({ length: workers }, () => new Worker(fileURLToPath(import.meta.url), { workerData: { rows, cols } satisfies WorkerInit }));
  const next = (w: Worker): Promise<unknown> =>
    new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
  await Promise.all(ws.map(next)); // 'ready'
  const walls: number[] = [];
  for (let r = 0; r <= reps; r++) {
    const t0 = performance.now();
    await Promise.all(ws.map((w) => (w.postMessage('go'), next(w))));
    if (r > 0) walls.push((performance.now() - t0) / 1000); // round 0 is the warm-up
  }
  for (const w of ws) w.postMessage('exit');
  return walls;
}

interface Row {
  shape: string;
  impl: string;
  seconds: number;
  gflops: number;
  runs: number[];
  note?: string;
}

interface Accuracy extends SpectrumDiff {
  shape: string;
  eigenSeconds: number;
  ortThreadsAgree: number | null;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      shapes: { type: 'string', default: '1024x4096,4096x4096,4096x14336' },
      reps: { type: 'string', default: '3' },
      threads: { type: 'string' },
      workers: { type: 'string' },
      skip: { type: 'string', default: '' },
      json: { type: 'string' },
    },
  });
  const shapes = values.shapes.split(',').map((s) => s.split('x').map(Number) as Shape);
  const reps = Number(values.reps);
  const cores = availableParallelism();
  const threads = (values.threads ?? [...new Set([1, cores])].join(',')).split(',').map(Number);
  const workerCounts = (values.workers ?? String(cores))
    .split(',')
    .map(Number)
    .filter((n) => n > 1);
  const skip = new Set(values.skip.split(',').filter(Boolean));
  const tmp = mkdtempSync(join(tmpdir(), 'ort-bench-'));
  const rows: Row[] = [];
  const acc: Accuracy[] = [];
  const e2e: { shape: string; seconds: number }[] = [];
  console.log(
    `ort-bench: ${cores} cores (${cpus()[0]?.model ?? '?'}), node ${process.version}, onnxruntime-web ${ort.env.versions.web}, load avg ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  console.log(`median of ${reps} after 1 warm-up; GFLOP/s = nominal 2·k²·n / t`);
  const push = (r: Row): void => {
    rows.push(r);
    console.log(
      `${r.shape.padEnd(11)} ${r.impl.padEnd(16)} ${r.seconds.toFixed(3).padStart(8)} s ${r.gflops.toFixed(1).padStart(7)} GFLOP/s  runs ${r.runs.map((x) => x.toFixed(2)).join(' ')}${r.note ? `  (${r.note})` : ''}`,
    );
  };

  for (const [r, c] of shapes) {
    const shape = `${r}x${c}`;
    const F = nominalFlops(r, c);
    let og: OurGram | undefined;
    if (!skip.has('ours') || !skip.has('accuracy')) {
      og = new OurGram(await rawKernel(), weightLike(r, c), r, c);
    }
    if (og && !skip.has('ours')) {
      og.run(); // warm-up
      const ts = Array.from({ length: reps }, () => og!.run());
      const s = median(ts);
      push({ shape, impl: 'ours 1T (f64)', seconds: s, gflops: F / s / 1e9, runs: ts });
    }
    for (const P of skip.has('ours-par') ? [] : workerCounts) {
      const walls = await oursParallel(r, c, P, reps);
      const s = median(walls);
      push({ shape, impl: `ours ×${P} workers`, seconds: s / P, gflops: (P * F) / s / 1e9, runs: walls, note: `${P} Grams at once; seconds = wall/${P}` });
    }
    const dumps: string[] = [];
    if (!skip.has('ort')) {
      for (const t of threads) {
        const dump = skip.has('accuracy') ? undefined : join(tmp, `z-${shape}-${t}.f32`);
        const res = await runOrtChild(r, c, t, reps, dump);
        if (dump) dumps.push(dump);
        const s = median(res.seconds);
        push({ shape, impl: `ORT wasm ${t}T (f32)`, seconds: s, gflops: F / s / 1e9, runs: res.seconds, note: `warm-up ${res.warmup.toFixed(2)} s` });
      }
    }
    if (og && !skip.has('accuracy') && dumps.length > 0) {
      og.run();
      const ours = og.eigen();
      const z = new Float32Array(readFileSync(dumps[dumps.length - 1]!).buffer.slice(0));
      let agree: number | null = null;
      if (dumps.length > 1) {
        const z0 = new Float32Array(readFileSync(dumps[0]!).buffer.slice(0));
        agree = 0;
        for (let i = 0; i < z.length; i++) agree = Math.max(agree, Math.abs(z[i]! - z0[i]!));
      }
      og.load(z);
      const theirs = og.eigen();
      const rec: Accuracy = { shape, ...compareSpectra(ours.sv, theirs.sv, r, c), eigenSeconds: ours.seconds, ortThreadsAgree: agree };
      acc.push(rec);
      console.log(
        `${shape.padEnd(11)} accuracy, ORT f32 Gram → our eigen vs our f64 Gram: ${describeDiff(rec)}; eigen step ${ours.seconds.toFixed(2)} s` +
          (agree === null ? '' : `; ORT ${threads.join('T vs ')}T Grams max|diff| ${agree.toExponential(2)}`),
      );
    }
    og = undefined;
    for (const d of dumps) rmSync(d, { force: true });
    if (!skip.has('e2e')) {
      const linalg = await createLinalg();
      const w = weightLike(r, c);
      const t0 = performance.now();
      linalg.singularValues(w, r, c);
      const s = (performance.now() - t0) / 1000;
      e2e.push({ shape, seconds: s });
      console.log(`${shape.padEnd(11)} ours end-to-end linalg.singularValues (Gram + eigen, 1 run): ${s.toFixed(2)} s`);
    }
  }
  rmSync(tmp, { recursive: true, force: true });
  console.log(
    `load avg at end ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
  );
  if (values.json) {
    writeFileSync(
      values.json,
      JSON.stringify({ cores, node: process.version, ort: ort.env.versions.web, reps, rows, accuracy: acc, endToEnd: e2e }, null, 2) + '\n',
    );
  }
}

// ---------------------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------------------

if (!isMainThread) {
  await oursWorker(workerData as WorkerInit);
} else if (process.argv[2] === '--ort-child') {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(3),
    allowPositionals: true,
    options: { threads: { type: 'string' }, reps: { type: 'string' }, dump: { type: 'string' } },
  });
  const [r, c] = positionals[0]!.split('x').map(Number) as Shape;
  await ortChild(r, c, Number(values.threads), Number(values.reps), values.dump);
} else {
  await main();
}
