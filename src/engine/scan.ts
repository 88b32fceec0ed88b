/**
 * A Spectrum scan: every scorable module of the chosen types through the worker pool, results
 * streamed as each matrix finishes, in the end ordered as the reference orders them.
 */
import { type Catalogue, type ModuleInfo, type TypeInfo, isScorable } from '../core/catalogue.js';
import type { FloatDtype } from '../core/dtype.js';
import type { ScoredModule } from '../core/selection.js';
import type { ScoreDetails } from '../core/spectrum.js';
import type { WorkerPool } from './pool.js';
import { type BackendName, type MatrixJob, type SourceRef, isFailure } from './types.js';

export interface ModuleResult {
  module: ModuleInfo;
  details?: ScoreDetails;
  singularValues?: Float64Array;
  /** Why it has no score (failed, unsupported, cancelled). */
  error?: string;
  seconds?: number;
  backend?: BackendName;
  /** The eigenvalue reduction ran on the GPU too (experimental). */
  eigenOnGpu?: boolean;
}

export interface ScanProgress {
  done: number;
  total: number;
  bytesRead: number;
  bytesTotal: number;
  elapsedSeconds: number;
  /** Estimated seconds left, from bytes done so far (null before the first result). */
  etaSeconds: number | null;
}

export interface ScanOptions {
  catalogue: Catalogue;
  types: TypeInfo[];
  pool: WorkerPool;
  sourceRef: (file: string) => SourceRef;
  /** Modules already computed (a resumed scan): not recomputed. */
  known?: Map<string, { details: ScoreDetails; singularValues?: Float64Array }>;
  onResult?: (r: ModuleResult, progress: ScanProgress) => void;
  signal?: AbortSignal;
}

export interface ScanOutcome {
  /** In scan order (types in reference order, modules in layer order). */
  results: ModuleResult[];
  cancelled: boolean;
  seconds: number;
}

/** The rows the exporters write: every module of the scanned types, NaN where not scored. */
export function toScored(results: ModuleResult[]): ScoredModule[] {
  return results.map((r) => ({ name: r.module.name, type: r.module.type, score: r.details ? r.details.score : NaN }));
}

/** The engine's job for one module's weight matrix. */
export function matrixJob(m: ModuleInfo, id: number, source: SourceRef): MatrixJob {
  const w = m.weight;
  const job: MatrixJob = { id, source, tensor: w.name, offset: w.offset, byteLength: w.byteLength, dtype: m.dtype as FloatDtype, rows: m.rows, cols: m.cols };
  return m.batchShape ? { ...job, batchShape: m.batchShape } : job;
}

export async function scanModel(opts: ScanOptions): Promise<ScanOutcome> {
  const t0 = performance.now();
  const modules = opts.types.flatMap((t) => t.modules);
  const results = new Map<string, ModuleResult>();
  // A tied lm_head reads the embedding's tensor: compute each tensor once.
  const byTensor = new Map<string, ModuleInfo[]>();
  for (const m of modules) {
    if (!isScorable(m)) {
      results.set(m.name, { module: m, error: m.unsupported });
      continue;
    }
    const known = opts.known?.get(m.name);
    if (known) {
      results.set(m.name, { module: m, details: known.details, ...(known.singularValues ? { singularValues: known.singularValues } : {}) });
      continue;
    }
    const key = `${m.weight.file}\u0000${m.weight.name}`;
    const list = byTensor.get(key);
    if (list) list.push(m);
    else byTensor.set(key, [m]);
  }

  const groups = [...byTensor.values()];
  const bytesTotal = groups.reduce((s, g) => s + g[0]!.weight.byteLength, 0);
  let bytesRead = 0;
  let done = 0;
  const progress = (): ScanProgress => {
    const elapsed = (performance.now() - t0) / 1000;
    return {
      done,
      total: groups.length,
      bytesRead,
      bytesTotal,
      elapsedSeconds: elapsed,
      etaSeconds: bytesRead > 0 ? (elapsed * (bytesTotal - bytesRead)) / bytesRead : null,
    };
  };

  let cancelled = false;
  const onAbort = () => {
    cancelled = true;
    opts.pool.cancelQueued();
  };
  opts.signal?.addEventListener('abort', onAbort);
  if (opts.signal?.aborted) onAbort();

  // Biggest first keeps the pool busy to the end; results are reordered at the end anyway.
  const order = groups.map((g, i) => ({ g, i })).sort((a, b) => b.g[0]!.weight.byteLength - a.g[0]!.weight.byteLength);
  await Promise.all(
    order.map(async ({ g, i }) => {
      const m = g[0]!;
      const job = matrixJob(m, i, opts.sourceRef(m.weight.file));
      const r = cancelled ? { id: i, error: 'cancelled', code: 'cancelled' } : await opts.pool.run(job);
      if (isFailure(r)) {
        for (const mod of g) results.set(mod.name, { module: mod, error: r.error });
        if (r.code === 'cancelled') return;
      } else {
        for (const mod of g)
          results.set(mod.name, {
            module: mod,
            details: r.details,
            singularValues: r.singularValues,
            seconds: r.seconds,
            backend: r.backend,
            ...(r.eigenOnGpu ? { eigenOnGpu: true } : {}),
          });
      }
      bytesRead += m.weight.byteLength;
      done++;
      const p = progress();
      for (const mod of g) opts.onResult?.(results.get(mod.name)!, p);
    }),
  );
  opts.signal?.removeEventListener('abort', onAbort);
  return { results: modules.map((m) => results.get(m.name)!), cancelled, seconds: (performance.now() - t0) / 1000 };
}
