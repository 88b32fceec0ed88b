/**
 * `spectroscope`: the command-line shell over core and engine. Bad input ends in one line on
 * stderr naming the file and the problem, and a non-zero exit; never a stack trace.
 */
import '../engine/node-wasm-features.js';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { NO_CONFIG_NOTE, buildCatalogue, isScorable, selectTypes, type Catalogue } from '../core/catalogue.js';
import { SpectroscopeError } from '../core/errors.js';
import { outputFileNames, resultsJson, sortedJson, unfrozenYaml } from '../core/export.js';
import { loadModelFolder, type ModelFolder } from '../core/model.js';
import { createNodePool } from '../engine/pool-node.js';
import { memoryBudgetFor } from '../engine/pool.js';
import { installNodeWebGpu, nodeGpuAdapterInfo } from '../engine/node-webgpu.js';
import { scanModel, toScored } from '../engine/scan.js';
import { listModelFolder } from './folder.js';
import { PROGRESS_FORMAT, modelFingerprint, parseProgress, progressHeaderLine, progressRecordLine, tensorKey } from '../core/progress.js';
import type { ScoreDetails } from '../core/spectrum.js';
import { engineShape } from './engine-shape.js';
import { formatBytes, formatCount, formatDuration } from './format.js';

const HELP = `spectroscope — choose which layers to fine-tune with Spectrum (signal-to-noise of each weight matrix)

Usage:
  spectroscope scan <folder> [--top-percent P] [--all-types | --types a,b] [--out DIR] [--model-name NAME]
  spectroscope inspect <folder>
  spectroscope --help | --version

Commands:
  scan      Compute every selected matrix's singular values and Spectrum score, and write the
            three files spectrum.py writes: snr_results_<slug>.json, snr_results_<slug>_sorted.json
            and snr_results_<slug>_unfrozenparameters_<P>percent.yaml (Axolotl's unfrozen_parameters).
  inspect   Summarise the model from its headers alone: architecture, parameters by dtype,
            shards, weight types with counts and shapes. Reads no tensor data.

Options (scan):
  --top-percent P    percent of each type's layers to unfreeze, integer 0-100 (default 50)
  --all-types        score every type with a weight, 1-D norms and embeddings included
  --types a,b        score exactly these types (names as \`inspect\` lists them)
  --out DIR          where to write the files (default: the current directory)
  --model-name NAME  name used in the file names (default: the folder's name); '/' and '_' become '-'
  --workers N        engine workers, one matrix each (default: the number of cores, or the number
                     of matrices left when fewer, their spare cores then going to --threads)
  --threads T        threads inside each matrix (default 1; e.g. --workers 1 --threads 8 computes
                     one big matrix at a time on 8 cores, holding one matrix in memory instead of 8)
  --block-mb M       matrices larger than M MB of float32 are streamed (default 64): tall ones in
                     row blocks, wide ones in column slabs of that size, so neither a 128k-vocabulary
                     embedding nor a large down_proj is ever decoded whole
  --memory-gb G      the workers start a matrix only while the matrices in flight fit G GB
                     (default: 0.5 per worker, at least 1.2 and at most a quarter of this
                     machine's memory); a matrix larger than G alone still runs, by itself
  --webgpu PATH      compute the Grams on the GPU: Node has no WebGPU of its own, so PATH is the
                     entry file of the \`webgpu\` package (Dawn for Node, e.g.
                     node_modules/webgpu/index.js); each worker sends its Grams there while the GPU
                     keeps up, and the cores compute the eigenvalues
  --backend B        auto (default: the GPU where --webgpu finds a hardware one), wasm (CPU
                     only), or webgpu (every matrix's Gram on the GPU, a software adapter
                     accepted: slow, for checking the GPU path; needs --webgpu)
  --gpu-eigen        experimental, with --webgpu: the eigenvalue reduction's dense → band stage on
                     the GPU too (not yet timed on a real GPU; holds a dense k×k float64 Gram on
                     the host per matrix in flight)
  --fresh            ignore results kept from an earlier, interrupted scan of the same files

Every matrix's result is appended to snr_results_<slug>.progress.jsonl in --out as soon as it is
computed; scanning the same files again (same names, sizes and headers) reuses those results, so
Ctrl-C or a crash loses nothing.

Default types: every 2-D weight type except embeddings (what spectrum.py's oracle runs used).
Types are grouped by their exact name (spectrum.py matches by substring; see the README).
`;

class UsageError extends Error {}

function die(line: string, code: number): never {
  process.stderr.write(`spectroscope: ${line}\n`);
  process.exit(code);
}

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean' },
        'top-percent': { type: 'string' },
        'all-types': { type: 'boolean' },
        types: { type: 'string' },
        out: { type: 'string' },
        'model-name': { type: 'string' },
        workers: { type: 'string' },
        threads: { type: 'string' },
        'block-mb': { type: 'string' },
        'memory-gb': { type: 'string' },
        webgpu: { type: 'string' },
        backend: { type: 'string' },
        'gpu-eigen': { type: 'boolean' },
        fresh: { type: 'boolean' },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message.split('\n')[0]!);
  }
  const { values, positionals } = parsed;
  const [command, folder, ...extra] = positionals;
  if (values.version) {
    process.stdout.write('spectroscope 0.1.0\n');
    return 0;
  }
  if (values.help || !command) {
    process.stdout.write(HELP);
    return command || values.help ? 0 : 2;
  }
  if (command !== 'scan' && command !== 'inspect') throw new UsageError(`unknown command ${JSON.stringify(command)} (try --help)`);
  if (!folder) throw new UsageError(`${command} needs a model folder (try --help)`);
  if (extra.length) throw new UsageError(`unexpected argument ${JSON.stringify(extra[0])}`);
  const dir = resolve(folder);
  const model = await loadModelFolder(await listModelFolder(dir));
  const catalogue = buildCatalogue(model);
  if (command === 'inspect') {
    process.stdout.write(inspectText(dir, model, catalogue));
    return model.problems.length ? 1 : 0;
  }
  return scan(dir, model, catalogue, values);
}

function firstProblem(model: ModelFolder): SpectroscopeError | null {
  const p = model.problems[0];
  if (!p) return null;
  const more = model.problems.length - 1;
  return more ? new SpectroscopeError(p.code, p.file, `${p.message} (and ${more} more problem${more > 1 ? 's' : ''})`) : p;
}

async function scan(dir: string, model: ModelFolder, catalogue: Catalogue, values: Record<string, string | boolean | undefined>): Promise<number> {
  const percentText = (values['top-percent'] as string | undefined) ?? '50';
  if (!/^\d+$/.test(percentText) || Number(percentText) > 100)
    throw new UsageError(`--top-percent must be an integer from 0 to 100, not ${JSON.stringify(percentText)}`);
  const percent = Number(percentText);
  if (values['all-types'] && values.types) throw new UsageError('use either --all-types or --types, not both');
  const workersText = values.workers as string | undefined;
  if (workersText !== undefined && !/^[1-9]\d*$/.test(workersText))
    throw new UsageError(`--workers must be a positive integer, not ${JSON.stringify(workersText)}`);
  const blockText = values['block-mb'] as string | undefined;
  if (blockText !== undefined && !/^[1-9]\d*$/.test(blockText)) throw new UsageError(`--block-mb must be a positive integer, not ${JSON.stringify(blockText)}`);
  const memoryText = values['memory-gb'] as string | undefined;
  if (memoryText !== undefined && !(/^\d+(\.\d+)?$/.test(memoryText) && Number(memoryText) > 0))
    throw new UsageError(`--memory-gb must be a positive number of gigabytes, not ${JSON.stringify(memoryText)}`);
  const threadsText = values.threads as string | undefined;
  if (threadsText !== undefined && !/^[1-9]\d*$/.test(threadsText))
    throw new UsageError(`--threads must be a positive integer, not ${JSON.stringify(threadsText)}`);
  const wantBackend = (values.backend as string | undefined) ?? 'auto';
  if (wantBackend !== 'auto' && wantBackend !== 'wasm' && wantBackend !== 'webgpu')
    throw new UsageError(`--backend must be auto, wasm or webgpu, not ${JSON.stringify(wantBackend)}`);
  let webgpuModule = wantBackend === 'wasm' ? undefined : (values.webgpu as string | undefined);
  if (wantBackend === 'webgpu' && webgpuModule === undefined) throw new UsageError('--backend webgpu needs --webgpu PATH (Node has no WebGPU of its own)');
  if (values['gpu-eigen'] && webgpuModule === undefined) throw new UsageError('--gpu-eigen needs --webgpu PATH (and not --backend wasm)');
  if (webgpuModule !== undefined) {
    try {
      await installNodeWebGpu(webgpuModule);
    } catch (e) {
      throw new UsageError(`--webgpu ${(e as Error).message}`);
    }
    const gpu = await nodeGpuAdapterInfo(wantBackend === 'webgpu');
    if (gpu) process.stderr.write(`spectroscope: WebGPU on ${gpu}\n`);
    else {
      process.stderr.write(
        `spectroscope: --webgpu: no ${wantBackend === 'webgpu' ? '' : 'hardware '}GPU adapter${wantBackend === 'webgpu' ? '' : ' (only a software one, or none)'}: computing on the CPU\n`,
      );
      webgpuModule = undefined;
    }
  }
  const problem = firstProblem(model);
  if (problem) throw problem;
  if (catalogue.modules.length === 0) throw new SpectroscopeError('no-weights', basename(dir), 'has no weight tensors (no tensor name ends in ".weight")');
  if (!model.config) process.stderr.write(`spectroscope: warning: ${basename(dir)}: ${NO_CONFIG_NOTE}\n`);

  const typeNames =
    typeof values.types === 'string'
      ? values.types
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      : undefined;
  const { types, unknown } = selectTypes(catalogue, { allTypes: values['all-types'] === true, ...(typeNames ? { types: typeNames } : {}) });
  if (unknown.length) throw new UsageError(`unknown type ${JSON.stringify(unknown[0])}; this model's types: ${catalogue.types.map((t) => t.name).join(', ')}`);
  if (types.length === 0) throw new UsageError('no types selected');
  // Quantized or integer weights stop the scan: their scores would say nothing. A scalar weight
  // only gets NaN, as in the reference (whose svdvals refuses it), and the scan goes on.
  const unsupported = types.flatMap((t) => t.modules).find((m) => m.unsupported && m.weight.shape.length > 0);
  if (unsupported)
    throw new SpectroscopeError('quantized', unsupported.weight.file, `${unsupported.name}: ${unsupported.unsupported}; open the unquantized checkpoint`);

  const modelName = (values['model-name'] as string | undefined) ?? basename(dir);
  const outDir = resolve((values.out as string | undefined) ?? '.');
  const names = outputFileNames(modelName, percent);
  await mkdir(outDir, { recursive: true });
  const progressPath = join(outDir, names.results.replace(/\.json$/, '.progress.jsonl'));
  const fingerprint = modelFingerprint(model);
  const kept = !values.fresh && existsSync(progressPath) ? parseProgress(readFileSync(progressPath, 'utf8'), fingerprint) : new Map();
  const known = new Map<string, { details: ScoreDetails; singularValues: Float64Array }>();
  for (const m of types.flatMap((t) => t.modules)) {
    const r = kept.get(m.name);
    if (r && r.tensor === tensorKey(m.weight.file, m.weight.name))
      known.set(m.name, { details: r.details, singularValues: Float64Array.from(r.singularValues) });
  }
  if (kept.size === 0) writeFileSync(progressPath, progressHeaderLine({ format: PROGRESS_FORMAT, fingerprint, model: modelName }));
  if (known.size) process.stderr.write(`spectroscope: resuming: ${known.size} matrices kept from an earlier scan of these files (--fresh to recompute)\n`);

  const pending = new Set(
    types
      .flatMap((t) => t.modules)
      .filter((m) => isScorable(m) && !known.has(m.name))
      .map((m) => tensorKey(m.weight.file, m.weight.name)),
  ).size;
  const shape = engineShape(availableParallelism(), pending, {
    ...(workersText ? { workers: Number(workersText) } : {}),
    ...(threadsText ? { threads: Number(threadsText) } : {}),
  });
  const pool = createNodePool(
    new URL('./engine-worker.mjs', import.meta.url),
    {
      size: shape.workers,
      threads: shape.threads,
      backend: wantBackend,
      ...(values['gpu-eigen'] && webgpuModule !== undefined ? { gpuEigen: true } : {}),
      memoryBudget: memoryText ? Number(memoryText) * 1e9 : memoryBudgetFor(shape.workers, totalmem()),
      ...(blockText ? { blockBytes: Number(blockText) * 1e6 } : {}),
    },
    webgpuModule,
  );
  const tty = process.stderr.isTTY === true;
  const ac = new AbortController();
  // Ctrl-C stops at once: every finished matrix is already in the progress file, and the
  // matrices in flight are dropped with their workers rather than waited for.
  const onSigint = () => {
    ac.abort();
    pool.close();
  };
  process.once('SIGINT', onSigint);
  let outcome;
  try {
    outcome = await scanModel({
      catalogue,
      types,
      pool,
      sourceRef: (file) => ({ name: file, path: join(dir, file) }),
      signal: ac.signal,
      known,
      onResult: (r, p) => {
        if (r.details && r.singularValues) {
          appendFileSync(
            progressPath,
            progressRecordLine({
              module: r.module.name,
              tensor: tensorKey(r.module.weight.file, r.module.weight.name),
              details: r.details,
              singularValues: Array.from(r.singularValues),
            }),
          );
        }
        if (!tty) return;
        const eta = p.etaSeconds === null ? '' : `, ETA ${formatDuration(p.etaSeconds)}`;
        process.stderr.write(
          `\r\x1b[2Kscanning: ${p.done}/${p.total} matrices, ${formatBytes(p.bytesRead)} of ${formatBytes(p.bytesTotal)} read, ${formatDuration(p.elapsedSeconds)} elapsed${eta}`,
        );
      },
    });
  } finally {
    process.off('SIGINT', onSigint);
    pool.close();
  }
  if (tty) process.stderr.write('\r\x1b[2K');
  if (outcome.cancelled)
    die(`scan cancelled; ${outcome.results.filter((r) => r.details).length} results kept in ${progressPath} (run the same command again to resume)`, 130);

  const scored = toScored(outcome.results);
  await writeFile(join(outDir, names.results), resultsJson(scored));
  await writeFile(join(outDir, names.sorted), sortedJson(scored));
  await writeFile(join(outDir, names.yaml), unfrozenYaml(scored, percent));
  const failed = outcome.results.filter((r) => r.error);
  const gpuEigenMatrices = outcome.results.filter((r) => r.eigenOnGpu).length;
  if (process.env.SPECTROSCOPE_STATS) {
    // For `npm run bench`: peak RSS of the whole process (worker threads included), the sum of
    // per-matrix engine times, and how many matrices had their Gram on the GPU.
    const engineSeconds = outcome.results.reduce((s, r) => s + (r.seconds ?? 0), 0);
    const gpuMatrices = outcome.results.filter((r) => r.backend === 'webgpu').length;
    process.stderr.write(
      `SPECTROSCOPE_STATS ${JSON.stringify({ peakRssBytes: process.resourceUsage().maxRSS * 1024, engineSeconds, workers: pool.size, gpuMatrices, gpuEigenMatrices })}\n`,
    );
  }
  for (const f of failed) process.stderr.write(`spectroscope: warning: ${f.module.weight.file}: ${f.module.name} not scored: ${f.error}\n`);
  const backend = `${(await pool.backend().catch(() => 'wasm')) ?? 'wasm'}${gpuEigenMatrices ? ` (${gpuEigenMatrices} reductions on the GPU)` : ''}`;
  process.stderr.write(
    `spectroscope: scored ${scored.length - failed.length} of ${scored.length} modules in ${types.length} types (${formatDuration(outcome.seconds)}, ${backend}, ${pool.size} worker${pool.size === 1 ? '' : 's'}${shape.threads > 1 ? ` × ${shape.threads} threads` : ''}); wrote ${names.yaml} and 2 JSON files to ${outDir}\n`,
  );
  return 0;
}

function inspectText(dir: string, model: ModelFolder, cat: Catalogue): string {
  const lines: string[] = [];
  lines.push(`Model: ${basename(dir)}`);
  lines.push(`Architecture: ${cat.architecture ?? 'unknown (no config.json)'}${model.config?.model_type ? ` (${String(model.config.model_type)})` : ''}`);
  const byDtype = new Map<string, number>();
  let total = 0;
  for (const t of model.tensors.values()) {
    byDtype.set(t.dtype, (byDtype.get(t.dtype) ?? 0) + t.elements);
    total += t.elements;
  }
  lines.push(`Parameters: ${formatCount(total)} (${[...byDtype].map(([d, n]) => `${d} ${formatCount(n)}`).join(', ') || 'none'})`);
  lines.push(`Shards: ${model.shards.length}${model.index ? ` (index: ${model.index.file})` : ''}`);
  for (const s of model.shards) lines.push(`  ${s.file}  ${formatBytes(s.fileSize)}  ${s.tensors.length} tensors`);
  lines.push(`Layers: ${cat.layers.length}`);
  if (cat.tiedHead) lines.push(`Tied head: lm_head is scored from ${cat.modules.find((m) => m.tiedTo)?.tiedTo} (tie_word_embeddings)`);
  if (cat.quantization) lines.push(`Quantization: ${cat.quantization} (quantized modules are not supported yet)`);
  lines.push('Types (* = scanned by default):');
  const w = Math.max(...cat.types.map((t) => t.name.length), 4);
  for (const t of cat.types) {
    const note = t.modules.find((m) => m.unsupported)?.unsupported;
    lines.push(
      `  ${t.defaultSelected ? '*' : ' '} ${t.name.padEnd(w)}  ${String(t.modules.length).padStart(4)} × ${t.shapes.join(', ')}  ${t.modules[0]!.dtype}${note ? `  (${note})` : ''}`,
    );
  }
  for (const p of model.problems) lines.push(`Problem: ${p.describe()}`);
  return lines.join('\n') + '\n';
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) die(e.message, 2);
    if (e instanceof SpectroscopeError) die(e.describe(), 1);
    die(`internal error: ${(e as Error)?.message ?? String(e)}`, 70);
  },
);
