/**
 * `npm run bench`: the whole singular-value computation per shape and backend, against scipy's
 * `svdvals` (LAPACK sgesdd, what the reference's torch.linalg.svdvals runs) timed in the same
 * run, plus a CLI scan of a generated Llama-3-8B-shaped BF16 checkpoint (2 layers by default).
 *
 *   npm run bench -- [--shapes 1024x4096,4096x4096] [--backends wasm-1,wasm-pool,chromium-wasm-threads]
 *                    [--no-scan] [--repeats N (default 3: medians)] [--gpu]
 *                    [--scan-layers N (default 2)] [--scan-webgpu PATH (Dawn for Node: the CLI's --webgpu)]
 *                    [--scan-gpu-eigen (with --scan-webgpu: the CLI's experimental --gpu-eigen)]
 * On a GPU machine, `--shapes 576x1536 --backends wasm-1 --scan-layers 32 --scan-webgpu PATH` times
 * a whole Llama-3-8B-shaped model (15 GB of BF16) through the CLI with the GPU.
 *
 * Backends: in Node wasm-1 (one thread), wasm-threads (shared-memory threads inside the matrix
 * on every core), wasm-pool (one matrix per worker, throughput), webgpu (the Gram through Dawn for
 * Node, the webgpu dev dependency, on a hardware adapter only; the eigenvalues on every core); in
 * headless Chromium (browser-bench.ts)
 * chromium-wasm-1, chromium-wasm-threads and chromium-webgpu (timed only on a hardware
 * adapter: --gpu lets Chromium use one). A backend that is not available is listed with the
 * reason, in the table and in bench-results.json's `skipped`.
 *
 * Every WASM figure is also read against the arithmetic peak of one core, measured first
 * (measureKernelPeak): a "(peak bound)" row per shape gives the least time our route could take at
 * that peak on every core, so a ratio to scipy that no kernel work can reach shows as such.
 *
 * Figures are ratios against scipy measured in the same run; nothing here is asserted.
 */
import '../engine/node-wasm-features.js';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { spectrumScore } from '../core/spectrum.js';
import { type Linalg, createLinalg, measureKernelPeak } from '../engine/kernels/linalg.js';
import { installNodeWebGpu, installedDawnModule, nodeGpuAdapterInfo } from '../engine/node-webgpu.js';
import { type GpuGram, createGpuGram } from '../engine/webgpu/gram-gpu.js';
import { createNodePool } from '../engine/pool-node.js';
import { isFailure } from '../engine/types.js';
import { benchFlops, benchMatrix, benchSeed, gpuSingularValues, median } from './bench-matrix.js';
import { type BrowserBench, startBrowserBench } from './browser-bench.js';
import type { BrowserBackend } from './browser-bench.worker.js';

const DEFAULT_SHAPES = ['576x1536', '1536x576', '1024x4096', '4096x4096', '4096x14336', '14336x4096'];
const NODE_BACKENDS = ['wasm-1', 'wasm-threads', 'wasm-pool', 'webgpu'] as const;
const BROWSER_BACKENDS = ['chromium-wasm-1', 'chromium-wasm-threads', 'chromium-webgpu'] as const;
const BACKENDS = [...NODE_BACKENDS, ...BROWSER_BACKENDS];
type Backend = (typeof BACKENDS)[number];

interface BenchRecord {
  rows: number;
  cols: number;
  backend: string;
  seconds: number;
  gflops: number;
  max_rel_score_error: number | null;
  scipy_seconds?: number;
  ratio_vs_scipy?: number;
  /** GFLOP/s ÷ (the WASM arithmetic peak × the cores this backend computes on); WASM backends only. */
  peak_fraction?: number;
  note?: string;
}

/** Per shape: the least time our route (Gram + reduction, benchFlops) could take at the WASM
 *  arithmetic peak on every core, with no memory traffic, threading loss or stage 2 at all. */
interface PeakBound {
  rows: number;
  cols: number;
  seconds: number;
  ratio_vs_scipy?: number;
}

/** The CPU, since every ratio here depends on it: its model name and, on Linux, its family and
 *  model numbers. A VM often reports only "AMD EPYC", which spans Zen 2 to Zen 5: on 4096² and
 *  14336×4096 our ratios to scipy were 0.62–0.85× on a Zen 3 (family 25) and 0.73–1.06× on a
 *  Zen 5 (family 26) of the same 2-core VM type. */
function describeCpu(): string {
  const name = cpus()[0]?.model.trim() || 'unknown CPU';
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const family = /^cpu family\s*:\s*(\d+)/m.exec(info)?.[1];
    const model = /^model\s*:\s*(\d+)/m.exec(info)?.[1];
    if (family !== undefined && model !== undefined) return `${name} (family ${family}, model ${model})`;
  } catch {
    // no /proc/cpuinfo (not Linux): the model name alone
  }
  return name;
}

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    shapes: { type: 'string' },
    backends: { type: 'string' },
    'no-scan': { type: 'boolean' },
    'no-scipy': { type: 'boolean' },
    repeats: { type: 'string' },
    out: { type: 'string' },
    gpu: { type: 'boolean' },
    'scan-layers': { type: 'string' },
    'scan-webgpu': { type: 'string' },
    'scan-gpu-eigen': { type: 'boolean' },
  },
});
const scanLayers = Number(values['scan-layers'] ?? 2);
if (!(Number.isInteger(scanLayers) && scanLayers >= 1)) {
  console.error(`--scan-layers must be a positive integer, not ${values['scan-layers']}`);
  process.exit(2);
}
const shapes = (values.shapes ?? DEFAULT_SHAPES.join(',')).split(',').map((s) => s.split('x').map(Number) as [number, number]);
const backends = (values.backends ?? BACKENDS.join(',')).split(',') as Backend[];
for (const b of backends) {
  if (!BACKENDS.includes(b)) {
    console.error(`unknown backend "${b}"; the backends are ${BACKENDS.join(', ')}`);
    process.exit(2);
  }
}
const work = mkdtempSync(join(tmpdir(), 'spectroscope-bench-'));
const cores = availableParallelism();

const SCIPY = String.raw`
import json, sys, time, numpy as np, scipy.linalg as sl
path, rows, cols, reps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
w = np.fromfile(path, dtype=np.float32).reshape(rows, cols)
sl.svdvals(w[: min(rows, 256), : min(cols, 256)])  # warm up LAPACK/BLAS
ts = []
for _ in range(reps):
    t = time.perf_counter(); sl.svdvals(w); ts.append(time.perf_counter() - t)
s64 = sl.svdvals(w.astype(np.float64))
json.dump({"seconds": sorted(ts)[len(ts)//2], "sv": s64.tolist()}, sys.stdout)
`;

/** Dawn for Node on a hardware adapter, with the WebGPU Gram's self-test passed; else why not. */
async function openNodeGpu(): Promise<{ gpu: GpuGram } | string> {
  const dawn = installedDawnModule();
  if (!dawn) return 'the webgpu dev dependency (Dawn for Node) is not installed';
  try {
    await installNodeWebGpu(dawn);
  } catch (e) {
    return (e as Error).message;
  }
  const adapter = await nodeGpuAdapterInfo();
  if (!adapter) return 'Dawn for Node found no hardware GPU adapter (only a software one, or none); timed on a GPU machine only';
  const gpu = await createGpuGram();
  return gpu ? { gpu } : `the WebGPU Gram failed its self-test on ${adapter} (its shader compiler breaks the compensated arithmetic)`;
}

function hasScipy(): boolean {
  if (values['no-scipy']) return false;
  return spawnSync('python3', ['-c', 'import scipy'], { stdio: 'ignore' }).status === 0;
}

interface Skipped {
  backend: string;
  reason: string;
}

async function main() {
  const records: BenchRecord[] = [];
  const bounds: PeakBound[] = [];
  let chromiumPeak: number | null = null;
  const skipped: Skipped[] = [];
  const scipy = hasScipy();
  const linalg = await createLinalg();
  // The ceiling every WASM figure is read against (see measureKernelPeak).
  const peak = await measureKernelPeak();
  const threaded = backends.includes('wasm-threads') ? await createLinalg({ threads: cores }) : null;
  const pool = backends.includes('wasm-pool') ? createNodePool(new URL('./engine-worker.mjs', import.meta.url)) : null;
  /** The cores a Node WASM backend computed on (Chromium's rows say theirs); null for a GPU backend. */
  const wasmCores = (backend: string): number | null => {
    if (backend === 'wasm-1') return 1;
    if (backend === 'wasm-threads') return threaded?.threads ?? 1;
    if (backend === 'wasm-pool') return pool?.size ?? 1;
    return null;
  };
  const browserBackends = backends.filter((b): b is BrowserBackend => (BROWSER_BACKENDS as readonly string[]).includes(b));
  let browser: BrowserBench | null = null;
  if (browserBackends.length > 0) {
    const started = await startBrowserBench({ gpu: values.gpu ?? false, log: (l) => console.error(l) });
    if (typeof started === 'string') for (const backend of browserBackends) skipped.push({ backend, reason: `no headless Chromium: ${started}` });
    else browser = started;
  }
  // Node's WebGPU: Dawn for Node (the webgpu dev dependency), timed on a hardware adapter only.
  let nodeGpu: GpuGram | null = null;
  let eigenLinalg: Linalg | null = null;
  if (backends.includes('webgpu')) {
    const reason = await openNodeGpu();
    if (typeof reason === 'string') skipped.push({ backend: 'webgpu', reason });
    else {
      nodeGpu = reason.gpu;
      eigenLinalg = threaded ?? (await createLinalg({ threads: cores }));
    }
  }
  const cpu = describeCpu();
  console.log(
    `spectroscope bench: ${cores} cores of ${cpu}, node ${process.version}${browser ? `, chromium ${browser.version}` : ''}, scipy ${scipy ? 'yes' : 'not found (no ratios)'}`,
  );
  console.log(
    `WASM arithmetic peak: ${peak.gflops.toFixed(1)} GFLOP/s per core (${peak.build} build: independent f64x2 ${peak.build === 'relaxed' ? 'FMAs' : 'mul + add'}, no memory traffic); ` +
      `"of peak" = GFLOP/s ÷ (peak × cores used); "peak bound" = our flops at the peak on all ${cores} cores`,
  );
  console.log('shape         backend                seconds   GFLOP/s  scipy s   ours/scipy  max rel score err  of peak');
  for (const s of skipped) console.log(`${'(all)'.padEnd(13)} ${s.backend.padEnd(21)} skipped: ${s.reason}`);
  for (const [rows, cols] of shapes) {
    const w = benchMatrix(rows, cols, benchSeed(rows, cols));
    // Medians of 3 by default, for every shape: on a shared machine one sample of a large
    // shape can be 10–25 % off either way (ours and scipy's alike), enough to flip a ratio.
    const repeats = Number(values.repeats ?? 3);
    const file = join(work, `m-${rows}x${cols}.f32`);
    writeFileSync(file, new Uint8Array(w.buffer));
    let scipySeconds: number | undefined;
    let refScore: number | null = null;
    if (scipy) {
      // OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE (set on some machines for old OpenBLAS builds) slow a
      // current numpy: unset them for the reference timing only.
      const env = { ...process.env };
      delete env.OPENBLAS_CORETYPE;
      delete env.OPENBLAS_L2_SIZE;
      const r = spawnSync('python3', ['-c', SCIPY, file, String(rows), String(cols), String(repeats)], { encoding: 'utf8', maxBuffer: 1 << 28, env });
      if (r.status === 0) {
        const j = JSON.parse(r.stdout) as { seconds: number; sv: number[] };
        scipySeconds = j.seconds;
        refScore = spectrumScore(j.sv, rows, cols).score;
      }
    }
    const row = (backend: string, seconds: number, gflops: number, ratio: number | undefined, err: string, ofPeak: number | undefined) =>
      console.log(
        `${`${rows}x${cols}`.padEnd(13)} ${backend.padEnd(21)} ${seconds.toFixed(3).padStart(8)} ${gflops.toFixed(2).padStart(9)} ${scipySeconds?.toFixed(3).padStart(8) ?? '       -'} ${ratio?.toFixed(2).padStart(11) ?? '          -'}  ${err.padEnd(17)}  ${ofPeak === undefined ? '-' : `${Math.round(ofPeak * 100)} %`}`,
      );
    const bound: PeakBound = { rows, cols, seconds: benchFlops(rows, cols) / (peak.gflops * 1e9 * cores) };
    if (scipySeconds !== undefined) bound.ratio_vs_scipy = bound.seconds / scipySeconds;
    bounds.push(bound);
    row('(peak bound)', bound.seconds, peak.gflops * cores, bound.ratio_vs_scipy, '', 1);
    const report = (backend: string, seconds: number, score: number, note?: string, peakPerCore = peak.gflops, used = wasmCores(backend)) => {
      const err = refScore === null ? null : Math.abs(score - refScore) / Math.abs(refScore);
      const rec: BenchRecord = { rows, cols, backend, seconds, gflops: benchFlops(rows, cols) / seconds / 1e9, max_rel_score_error: err };
      if (scipySeconds !== undefined) Object.assign(rec, { scipy_seconds: scipySeconds, ratio_vs_scipy: seconds / scipySeconds });
      if (used !== null) rec.peak_fraction = rec.gflops / (peakPerCore * used);
      if (note) rec.note = note;
      records.push(rec);
      row(backend, seconds, rec.gflops, rec.ratio_vs_scipy, err === null ? '-' : err.toExponential(1), rec.peak_fraction);
    };
    for (const backend of backends) {
      if (backend === 'wasm-1' || backend === 'wasm-threads') {
        // One matrix: on one thread, or with shared-memory threads on every core.
        const la = backend === 'wasm-1' ? linalg : threaded!;
        const ts: number[] = [];
        let sv: ArrayLike<number> = new Float64Array(0);
        for (let i = 0; i < repeats; i++) {
          const t0 = performance.now();
          sv = la.singularValues(w, rows, cols);
          ts.push((performance.now() - t0) / 1000);
        }
        report(backend, median(ts), spectrumScore(sv, rows, cols).score, backend === 'wasm-threads' ? `${la.threads} threads inside the matrix` : undefined);
      } else if (backend === 'webgpu' && nodeGpu && eigenLinalg) {
        // The Gram on the GPU, read back into the kernel's triangle; the eigenvalues on every core.
        const ts: number[] = [];
        let sv: ArrayLike<number> = new Float64Array(0);
        for (let i = 0; i < repeats; i++) {
          const t0 = performance.now();
          sv = await gpuSingularValues(nodeGpu, eigenLinalg, w, rows, cols);
          ts.push((performance.now() - t0) / 1000);
        }
        report(backend, median(ts), spectrumScore(sv, rows, cols).score, `Gram on ${nodeGpu.info}; eigenvalues on ${eigenLinalg.threads} threads`);
      } else if (backend === 'wasm-pool') {
        // Throughput of the pool across matrices: one copy per worker at once, time per matrix.
        const tensorFile = join(work, `t-${rows}x${cols}.safetensors`);
        writeFileSync(tensorFile, new Uint8Array(w.buffer));
        const n = pool!.size;
        const ts: number[] = [];
        let score = NaN;
        for (let rep = 0; rep < repeats; rep++) {
          const t0 = performance.now();
          const rs = await Promise.all(
            Array.from({ length: n }, (_, i) =>
              pool!.run({ id: i, source: { name: 't', path: tensorFile }, tensor: 't', offset: 0, byteLength: w.byteLength, dtype: 'F32', rows, cols }),
            ),
          );
          ts.push((performance.now() - t0) / 1000 / n);
          const r0 = rs[0]!;
          if (isFailure(r0)) throw new Error(r0.error);
          score = r0.details.score;
        }
        report(backend, median(ts), score, `${n} workers, one matrix each; seconds = wall / ${n}`);
      }
    }
    if (browser) {
      // The same matrix, generated again in the page's worker from the same seed.
      for (const r of await browser.run({ rows, cols, repeats, backends: browserBackends })) {
        if ('skipped' in r) {
          if (!skipped.some((s) => s.backend === r.backend)) {
            skipped.push({ backend: r.backend, reason: r.skipped });
            console.log(`${`${rows}x${cols}`.padEnd(13)} ${r.backend.padEnd(21)} skipped: ${r.skipped}`);
          }
        } else {
          if (r.peakGflops !== undefined) chromiumPeak = r.peakGflops;
          report(r.backend, r.seconds, r.score, r.note, r.peakGflops, r.threads ?? null);
        }
      }
    }
  }
  pool?.close();
  threaded?.dispose();
  if (eigenLinalg !== threaded) eigenLinalg?.dispose();
  nodeGpu?.destroy();
  await browser?.close();

  let scan: Record<string, number> | null = null;
  if (!values['no-scan']) scan = await scanBench();
  const outFile = values.out ?? 'bench-results.json';
  const machine = {
    cpu,
    cores,
    node: process.version,
    ...(browser ? { chromium: browser.version } : {}),
    wasm_peak_gflops_per_core: peak.gflops,
    wasm_peak_build: peak.build,
    ...(chromiumPeak !== null ? { chromium_wasm_peak_gflops_per_core: chromiumPeak } : {}),
  };
  if (chromiumPeak !== null) console.log(`Chromium's WASM arithmetic peak: ${chromiumPeak.toFixed(1)} GFLOP/s per core (its rows are read against it)`);
  writeFileSync(outFile, JSON.stringify({ machine, records, peak_bounds: bounds, skipped, llama3_8b_scan: scan }, null, 2) + '\n');
  console.log(`wrote ${outFile}`);
  rmSync(work, { recursive: true, force: true });
}

/** Writes a Llama-3-8B-shaped checkpoint of `layers` layers in BF16 (≈0.45 GB each) without holding it in memory. */
function writeLlamaCheckpoint(dir: string, layers: number): number {
  const shapes: [string, number[]][] = [];
  for (let l = 0; l < layers; l++) {
    const p = `model.layers.${l}.`;
    shapes.push(
      [p + 'input_layernorm.weight', [4096]],
      [p + 'self_attn.q_proj.weight', [4096, 4096]],
      [p + 'self_attn.k_proj.weight', [1024, 4096]],
      [p + 'self_attn.v_proj.weight', [1024, 4096]],
      [p + 'self_attn.o_proj.weight', [4096, 4096]],
      [p + 'post_attention_layernorm.weight', [4096]],
      [p + 'mlp.gate_proj.weight', [14336, 4096]],
      [p + 'mlp.up_proj.weight', [14336, 4096]],
      [p + 'mlp.down_proj.weight', [4096, 14336]],
    );
  }
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let off = 0;
  for (const [name, shape] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1) * 2;
    header[name] = { dtype: 'BF16', shape, data_offsets: [off, off + n] };
    off += n;
  }
  let text = JSON.stringify(header);
  while ((text.length + 8) % 8) text += ' ';
  const fd = openSync(join(dir, 'model.safetensors'), 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(text.length));
  writeSync(fd, len);
  writeSync(fd, text);
  // Uniform-ish BF16 noise with a little structure, written 16 MB at a time.
  const chunk = new Uint16Array(8 << 20);
  let s = 12345;
  let left = off / 2;
  while (left > 0) {
    const n = Math.min(left, chunk.length);
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      // sign | exponent 2^-7..2^-5 | random mantissa: magnitudes ~0.008–0.03
      chunk[i] = ((s >>> 31) << 15) | ((120 + ((s >>> 20) % 3)) << 7) | (s & 0x7f);
    }
    writeSync(fd, new Uint8Array(chunk.buffer, 0, n * 2));
    left -= n;
  }
  closeSync(fd);
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama', hidden_size: 4096, num_hidden_layers: layers, tie_word_embeddings: false }),
  );
  return 8 + text.length + off;
}

async function scanBench(): Promise<Record<string, number>> {
  const dir = join(work, `llama3-8b-${scanLayers}layers`);
  spawnSync('mkdir', ['-p', dir]);
  console.log(`\nwriting a Llama-3-8B-shaped ${scanLayers}-layer BF16 checkpoint…`);
  const bytes = writeLlamaCheckpoint(dir, scanLayers);
  const cli = new URL('./cli.mjs', import.meta.url).pathname;
  const t0 = performance.now();
  const gpu = values['scan-webgpu'] ? ['--webgpu', values['scan-webgpu'], ...(values['scan-gpu-eigen'] ? ['--gpu-eigen'] : [])] : [];
  const child = spawn(process.execPath, [cli, 'scan', dir, '--out', join(work, 'scan-out'), ...gpu], {
    env: { ...process.env, SPECTROSCOPE_STATS: '1' },
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number>((r) => child.on('exit', (c) => r(c ?? 1)));
  const wall = (performance.now() - t0) / 1000;
  if (code !== 0) throw new Error(`scan failed: ${stderr}`);
  // The CLI's warnings (a GPU path that fell back, say) and its summary, which the table omits.
  const said = stderr.split('\n').filter((l) => /warn|fail|fell back|scored \d+ of/i.test(l));
  if (said.length)
    console.log(
      said
        .slice(0, 20)
        .map((l) => `  cli: ${l}`)
        .join('\n'),
    );
  const stats = JSON.parse(/SPECTROSCOPE_STATS (.*)/.exec(stderr)![1]!) as {
    peakRssBytes: number;
    engineSeconds: number;
    workers: number;
    gpuMatrices: number;
    gpuEigenMatrices: number;
  };
  const result = {
    layers: scanLayers,
    gpu_matrices: stats.gpuMatrices,
    gpu_eigen_matrices: stats.gpuEigenMatrices,
    wall_seconds: wall,
    bytes: bytes,
    bytes_per_second: bytes / wall,
    peak_rss_bytes: stats.peakRssBytes,
    engine_seconds_sum: stats.engineSeconds,
    workers: stats.workers,
    wall_over_engine_sum_per_worker: wall / (stats.engineSeconds / stats.workers),
  };
  console.log(
    `CLI scan${gpu.length ? ` with --webgpu (${stats.gpuMatrices} matrices' Grams on the GPU${stats.gpuEigenMatrices ? `, ${stats.gpuEigenMatrices} reductions` : ''})` : ''}, Llama-3-8B shapes, ${scanLayers} layers, BF16 ${(bytes / 1e9).toFixed(2)} GB: ${wall.toFixed(1)} s wall, ${(bytes / wall / 1e6).toFixed(0)} MB/s, peak RSS ${(stats.peakRssBytes / 1e9).toFixed(2)} GB, per-matrix engine time ${stats.engineSeconds.toFixed(1)} s over ${stats.workers} workers (wall / (sum/workers) = ${result.wall_over_engine_sum_per_worker.toFixed(2)})`,
  );
  return result;
}

await main();
