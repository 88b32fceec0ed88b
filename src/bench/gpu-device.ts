/**
 * GPU benchmark for a machine with a real GPU and no browser: the WebGPU backend through Dawn
 * for Node (the `webgpu` npm package, loaded from a path given on the command line, since it is
 * not a dependency of the app), next to torch.linalg.svdvals on the same GPU when python3 has
 * torch. Prints a table and writes JSON. Not part of CI. Also times the experimental GPU dense → band
 * reduction (band-gpu.ts) on each Gram, with its σ error against the WASM eigenvalues, the
 * Gram with the opt-in fma() TwoProduct where its self-test accepts it, the Gram of the same
 * matrix rounded to BF16 with and without the exact-product kernel, and where the Gram's time
 * goes (host scan, upload, GPU compute, read-back, host combine; once with each upload awaited),
 * and, for the diagnosis of the compensated kernels, the plain f32 kernel's time and theirs with
 * the inner loop kept rolled (rolledInnerLoop: an instruction-cache limit would show there), the
 * latter for the GPU band reduction's kernels too.
 *
 *   node dist-cli/gpu-bench.mjs [--webgpu /path/to/webgpu/index.js (default: the dev dependency)]
 *                               [--shapes 4096x4096,...] [--out f.json] [--allow-software] [--no-torch]
 */
import '../engine/node-wasm-features.js';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { spectrumScore } from '../core/spectrum.js';
import { createLinalg } from '../engine/kernels/linalg.js';
import { BAND_SELF_TEST_TOLERANCE, type GpuBandTimes, bandSelfTest, createGpuBandReduction } from '../engine/webgpu/band-gpu.js';
import { type GpuGram, type GpuGramStats, createGpuGram, maxRelativeError, roundToBf16 } from '../engine/webgpu/gram-gpu.js';
import { installNodeWebGpu, installedDawnModule, nodeGpuAdapterInfo } from '../engine/node-webgpu.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: {
    webgpu: { type: 'string' },
    shapes: { type: 'string' },
    out: { type: 'string' },
    'wasm-check-max': { type: 'string' },
    // a dry run of the GPU path on a software adapter (SwiftShader): right answers, no meaningful time
    'allow-software': { type: 'boolean' },
    'no-torch': { type: 'boolean' },
  },
});
/** --webgpu, else the webgpu dev dependency (Dawn for Node) when installed. */
const dawn = values.webgpu ?? installedDawnModule();
const shapes = (values.shapes ?? '1024x4096,4096x4096,4096x14336,14336x4096').split(',').map((s) => s.split('x').map(Number) as [number, number]);

/** The Gram of w on `gpu`, timed, with the phases of its time (GpuGramStats deltas, seconds rounded to 0.1 ms). */
async function timedGram(gpu: GpuGram, w: Float32Array, r: number, c: number): Promise<{ g: Float64Array; seconds: number; phases: Record<string, number> }> {
  const before: GpuGramStats = { ...gpu.stats };
  const t0 = performance.now();
  const g = await gpu.gram(w, r, c);
  const seconds = (performance.now() - t0) / 1000;
  const phases: Record<string, number> = {};
  for (const [key, value] of Object.entries(gpu.stats) as [keyof GpuGramStats, number][]) {
    const d = value - before[key];
    phases[key] = key.endsWith('Seconds') ? Math.round(d * 1e4) / 1e4 : d;
  }
  return { g, seconds, phases };
}

/** Where each Gram's time went, one line per shape (seconds; '–' where not measured). */
function gramTable(rows: Record<string, unknown>[]): string {
  const f = (x: unknown) => (typeof x === 'number' ? x.toFixed(3) : '–');
  const head =
    'shape | Gram | host scan | upload | GPU compute wait | read-back wait | host combine | synced: upload wait / compute wait | plain f32 | BF16 exact / general | rolled: Gram / BF16 exact | fma | GPU band: default / rolled';
  const lines = [head, head.replace(/[^|]/g, '-')];
  for (const r of rows) {
    const p = (r.webgpu_gram_phases ?? {}) as Record<string, number>;
    const q = (r.webgpu_gram_synced_uploads_phases ?? {}) as Record<string, number>;
    lines.push(
      [
        `${String(r.rows)}×${String(r.cols)}`,
        f(r.webgpu_gram_seconds),
        f(p.scanSeconds),
        f(p.uploadSeconds),
        f(p.computeWaitSeconds),
        f(p.readbackWaitSeconds),
        f(p.combineSeconds),
        `${f(q.uploadWaitSeconds)} / ${f(q.computeWaitSeconds)}`,
        f(r.webgpu_plain_f32_gram_seconds),
        `${f(r.webgpu_bf16_exact_gram_seconds)} / ${f(r.webgpu_bf16_general_gram_seconds)}`,
        `${f(r.webgpu_rolled_gram_seconds)} / ${f(r.webgpu_rolled_bf16_exact_gram_seconds)}`,
        f(r.webgpu_fma_gram_seconds),
        `${f(r.gpu_band_eigen_seconds)} / ${f(r.gpu_band_rolled_eigen_seconds)}`,
      ].join(' | '),
    );
  }
  return lines.join('\n');
}

function matrix(rows: number, cols: number, seed: number): Float32Array {
  const w = new Float32Array(rows * cols);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < w.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    w[i] = ((s >>> 8) / 16777216 - 0.5) * 0.04;
  }
  // a planted rank-4 signal, so the spectrum has structure
  for (let k = 0; k < 4; k++) for (let i = 0; i < rows; i += 1) w[i * cols + ((i * 7 + k * 131) % cols)]! += 0.5 / (k + 1);
  return w;
}

const TORCH = String.raw`
import json, sys, time, torch
shapes = json.loads(sys.argv[1])
out = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__, "rows": []}
for rows, cols in shapes:
    w = (torch.rand(rows, cols, device="cuda") - 0.5) * 0.04
    torch.linalg.svdvals(w[:256, :256]); torch.cuda.synchronize()
    ts = []
    for _ in range(3):
        torch.cuda.synchronize(); t = time.perf_counter(); torch.linalg.svdvals(w); torch.cuda.synchronize(); ts.append(time.perf_counter() - t)
    out["rows"].append({"rows": rows, "cols": cols, "seconds": sorted(ts)[1]})
# a whole Llama-3-8B: 32 layers x (q, o 4096x4096; k, v 1024x4096; gate, up 14336x4096; down 4096x14336)
layer = [(4096, 4096), (1024, 4096), (1024, 4096), (4096, 4096), (14336, 4096), (14336, 4096), (4096, 14336)]
mats = {s: (torch.rand(*s, device="cuda") - 0.5) * 0.04 for s in set(layer)}
torch.cuda.synchronize(); t = time.perf_counter()
for s in layer: torch.linalg.svdvals(mats[s])
torch.cuda.synchronize(); out["llama3_8b_one_layer_seconds"] = time.perf_counter() - t
out["llama3_8b_all_224_seconds_estimate"] = 32 * out["llama3_8b_one_layer_seconds"]
json.dump(out, sys.stdout)
`;

async function main() {
  // torch first: its figures survive a WebGPU stage that is stopped at the step's time limit.
  let torchOut: unknown = 'not run (--no-torch)';
  if (!values['no-torch']) {
    const torch = spawnSync('python3', ['-c', TORCH, JSON.stringify(shapes)], { encoding: 'utf8', maxBuffer: 1 << 26 });
    torchOut = torch.status === 0 ? (JSON.parse(torch.stdout) as unknown) : { error: torch.stderr.slice(-2000) };
    console.log('torch:', JSON.stringify(torchOut));
  }
  const rows: Record<string, unknown>[] = [];
  const linalg = await createLinalg();
  let gpuInfo = 'no webgpu module given, and the webgpu dev dependency is not installed';
  if (dawn) await installNodeWebGpu(dawn);
  const gpu = dawn ? await createGpuGram(undefined, { allowFallbackAdapter: values['allow-software'] ?? false }) : null;
  if (dawn) gpuInfo = (await nodeGpuAdapterInfo(true)) ?? 'no adapter';
  const band = gpu?.device ? await createGpuBandReduction(gpu.device) : null;
  const bandRolled = gpu?.device ? await createGpuBandReduction(gpu.device, { rolledInnerLoop: true }) : null;
  // The opt-in fma() TwoProduct (gram-gpu.wgsl.ts) on the same device, timed next to the default;
  // null where its self-test finds fma unfused.
  const gpuFma = gpu?.device ? await createGpuGram(gpu.device, { precision: 'compensated-fma' }) : null;
  if (gpu) console.log(`fma() TwoProduct variant: ${gpuFma ? 'accepted by its self-test' : 'refused (fma not fused here)'}`);
  // BF16 inputs on the general kernel (the default takes the exact-product one), and the default
  // with every upload awaited, which splits transfer from compute in the phases.
  const gpuGeneral = gpu?.device ? await createGpuGram(gpu.device, { exactProducts: false }) : null;
  const gpuSync = gpu?.device ? await createGpuGram(gpu.device, { syncUploads: true }) : null;
  // Plain f32 sums (1 multiply-add per product, wrong in the last digits): a diagnosis only. If it
  // is not many times faster than the compensated kernels, what limits them is not arithmetic.
  const gpuF32 = gpu?.device ? await createGpuGram(gpu.device, { precision: 'f32' }) : null;
  // Both kernels with their inner loop kept rolled: the same sums. Much faster than the default
  // would mean that the fully unrolled loop overflows the GPU's instruction cache.
  const gpuRolled = gpu?.device ? await createGpuGram(gpu.device, { rolledInnerLoop: true }) : null;
  console.log(`webgpu: ${gpuInfo}; backend ${gpu ? 'ready' : 'NOT available (createGpuGram returned null)'}`);
  if (band)
    console.log(
      `GPU band reduction (experimental) self-test: max|Δσ|/σmax ${(await bandSelfTest(band, linalg)).toExponential(2)} (tolerance ${BAND_SELF_TEST_TOLERANCE})`,
    );
  const wasmCheckMax = Number(values['wasm-check-max'] ?? 1024 * 4096);
  for (const [r, c] of shapes) {
    const w = matrix(r, c, r + c);
    const rec: Record<string, unknown> = { rows: r, cols: c };
    if (gpu) {
      await gpu.gram(matrix(256, 256, 1), 256, 256); // warm-up: pipeline compile
      const { g, seconds: gramSeconds, phases } = await timedGram(gpu, w, r, c);
      const t1 = performance.now();
      const sv = linalg.eigenvaluesOfGram(g, Math.min(r, c));
      const eigenSeconds = (performance.now() - t1) / 1000;
      Object.assign(rec, {
        webgpu_gram_seconds: gramSeconds,
        webgpu_gram_phases: phases,
        wasm_eigen_seconds: eigenSeconds,
        webgpu_total_seconds: gramSeconds + eigenSeconds,
        gram_tflops: (2 * Math.min(r, c) ** 2 * Math.max(r, c)) / gramSeconds / 1e12,
      });
      if (gpuSync) {
        const synced = await timedGram(gpuSync, w, r, c);
        Object.assign(rec, { webgpu_gram_synced_uploads_seconds: synced.seconds, webgpu_gram_synced_uploads_phases: synced.phases });
      }
      if (gpuF32) {
        const plain = await timedGram(gpuF32, w, r, c);
        Object.assign(rec, { webgpu_plain_f32_gram_seconds: plain.seconds, webgpu_plain_f32_gram_phases: plain.phases });
      }
      if (gpuGeneral) {
        // The exact-product kernel against the general one, on the matrix rounded to BF16 (what a
        // BF16 checkpoint decodes to); their Grams agree to rounding.
        const wb = roundToBf16(Float32Array.from(w));
        const exact = await timedGram(gpu, wb, r, c);
        const general = await timedGram(gpuGeneral, wb, r, c);
        Object.assign(rec, {
          webgpu_bf16_exact_gram_seconds: exact.seconds,
          webgpu_bf16_exact_chunks: `${exact.phases.exactChunks} of ${exact.phases.chunks}`,
          webgpu_bf16_general_gram_seconds: general.seconds,
          bf16_exact_vs_general_diff_over_max: maxRelativeError(exact.g, general.g),
        });
      }
      if (gpuRolled) {
        await gpuRolled.gram(matrix(256, 256, 1), 256, 256);
        const general = await timedGram(gpuRolled, w, r, c);
        const exact = await timedGram(gpuRolled, roundToBf16(Float32Array.from(w)), r, c);
        Object.assign(rec, {
          webgpu_rolled_gram_seconds: general.seconds,
          webgpu_rolled_bf16_exact_gram_seconds: exact.seconds,
          rolled_gram_diff_over_max: maxRelativeError(general.g, g),
        });
      }
      if (gpuFma) {
        await gpuFma.gram(matrix(256, 256, 1), 256, 256);
        const fma = await timedGram(gpuFma, w, r, c);
        Object.assign(rec, { webgpu_fma_gram_seconds: fma.seconds, fma_gram_diff_over_max: maxRelativeError(fma.g, g) });
      }
      if (band) {
        // The experimental GPU dense → band stage on the same Gram, against the WASM eigenvalues.
        const times: GpuBandTimes = { gpuSeconds: 0, hostSeconds: 0 };
        const t4 = performance.now();
        const sb = await band.singularValues(g, Math.min(r, c), linalg, times);
        let worst = 0;
        for (let i = 0; i < sv.length; i++) worst = Math.max(worst, Math.abs(sb[i]! - sv[i]!) / sv[0]!);
        Object.assign(rec, {
          gpu_band_eigen_seconds: (performance.now() - t4) / 1000,
          gpu_band_gpu_wait_seconds: times.gpuSeconds,
          gpu_band_host_seconds: times.hostSeconds,
          gpu_band_sigma_error_over_smax: worst,
        });
        if (bandRolled) {
          const t5 = performance.now();
          const sr = await bandRolled.singularValues(g, Math.min(r, c), linalg);
          let diff = 0;
          for (let i = 0; i < sr.length; i++) diff = Math.max(diff, Math.abs(sr[i]! - sb[i]!));
          Object.assign(rec, { gpu_band_rolled_eigen_seconds: (performance.now() - t5) / 1000, gpu_band_rolled_sigma_diff: diff });
        }
      }
      if (r * c <= wasmCheckMax) {
        const t3 = performance.now();
        const ref = linalg.singularValues(w, r, c);
        rec.wasm_total_seconds = (performance.now() - t3) / 1000;
        let worst = 0;
        for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ref[i]! - sv[i]!) / ref[0]!);
        rec.max_abs_sigma_error_over_smax = worst;
        rec.score_rel_error = Math.abs(spectrumScore(sv, r, c).score - spectrumScore(ref, r, c).score) / spectrumScore(ref, r, c).score;
      }
    }
    rows.push(rec);
    console.log(JSON.stringify(rec));
  }
  if (values.out) writeFileSync(values.out, JSON.stringify({ gpu: gpuInfo, rows, torch: torchOut }, null, 2));
  if (gpu) console.log(gramTable(rows));
  gpuFma?.destroy();
  gpuGeneral?.destroy();
  gpuSync?.destroy();
  gpuF32?.destroy();
  gpuRolled?.destroy();
  gpu?.destroy();
  process.exit(0);
}

await main();
