/**
 * A pool of engine workers: one matrix per worker at a time, results as each finishes. The
 * spawning of a worker is the environment's business (web worker or worker_thread); the pool
 * only sees a comlink-wrapped EngineWorkerApi.
 */
import type { Remote } from 'comlink';
import type { BackendName, EngineInfo, EngineWorkerApi, MatrixFailure, MatrixJob, MatrixResult } from './types.js';
import { jobMemoryBytes } from './memory.js';

export interface SpawnedWorker {
  api: Remote<EngineWorkerApi>;
  terminate(): void;
}

export interface PoolOptions {
  size: number;
  spawn: () => SpawnedWorker;
  backend?: BackendName | 'auto';
  blockBytes?: number;
  /** Threads inside each matrix, per worker (default 1: cores are used by the pool across matrices). */
  threads?: number;
  /** Experimental: the eigenvalue reduction on the GPU too (see EngineWorkerApi.init). */
  gpuEigen?: boolean;
  /**
   * Bytes of matrix data the workers may hold at once (default 1.2 GB). A job that alone
   * exceeds it still runs, but only when nothing else is running: memory stays bounded by the
   * largest single matrix, not by the number of cores.
   */
  memoryBudget?: number;
}

export const DEFAULT_MEMORY_BUDGET = 1.2e9;
/**
 * What one worker's matrix needs at hidden size up to 8192 (Llama-2-70B's 8192×28672 down_proj:
 * ≈ 0.4 GB by jobMemoryBytes; an 8B model's matrices ≈ 0.18 GB).
 */
const PER_WORKER_BUDGET = 0.5e9;

/**
 * The budget for a pool of `workers` on a machine with `machineBytes` of memory: enough to keep
 * every worker busy on models up to hidden size 8192, but never more than a quarter of the
 * machine, and never less than DEFAULT_MEMORY_BUDGET. A flat 1.2 GB left most of a big server
 * idle: 16 workers on an 8B model (≈ 0.18 GB per matrix) ran 6 matrices at a time.
 */
export function memoryBudgetFor(workers: number, machineBytes: number): number {
  return Math.max(DEFAULT_MEMORY_BUDGET, Math.min(machineBytes / 4, Math.max(1, workers) * PER_WORKER_BUDGET));
}

interface Slot {
  worker: SpawnedWorker;
  ready: Promise<EngineInfo>;
  busy: boolean;
}

export class WorkerPool {
  private readonly slots: Slot[];
  private readonly queue: { job: MatrixJob; resolve: (r: MatrixResult | MatrixFailure) => void; reject: (e: unknown) => void }[] = [];
  private closed = false;
  private memoryInFlight = 0;
  /** Running jobs' cancellers, so that close() settles them as cancelled. */
  private readonly inFlight = new Map<number, () => void>();
  private nextTicket = 0;
  private running = 0;

  constructor(private readonly options: PoolOptions) {
    this.slots = Array.from({ length: Math.max(1, options.size) }, () => this.makeSlot());
  }

  private makeSlot(): Slot {
    const worker = this.options.spawn();
    // Every worker opens the GPU where there is one: in 'auto' mode each worker's router sends its
    // Grams there while the GPU keeps up (gpu-router.ts), and the cores compute the eigenvalues.
    const ready = worker.api.init({
      backend: this.options.backend ?? 'auto',
      blockBytes: this.options.blockBytes,
      threads: this.options.threads ?? 1,
      ...(this.options.gpuEigen ? { gpuEigen: true } : {}),
    }) as Promise<EngineInfo>;
    return { worker, ready, busy: false };
  }

  get size(): number {
    return this.slots.length;
  }

  /** The backend the workers run (the first worker's answer). */
  backend(): Promise<BackendName> {
    return this.slots[0]!.ready.then((i) => i.backend);
  }

  /** The first worker's backend and the threads it was granted inside each matrix. */
  info(): Promise<EngineInfo> {
    return this.slots[0]!.ready;
  }

  run(job: MatrixJob): Promise<MatrixResult | MatrixFailure> {
    if (this.closed) return Promise.reject(new Error('worker pool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ job, resolve, reject });
      this.pump();
    });
  }

  /** What a job holds in its worker (the experimental GPU reduction adds a dense Gram). */
  private jobBytes(job: MatrixJob): number {
    return jobMemoryBytes(job.rows, job.cols, this.options.blockBytes, this.options.gpuEigen ?? false);
  }

  private pump(): void {
    const budget = this.options.memoryBudget ?? DEFAULT_MEMORY_BUDGET;
    for (const slot of this.slots) {
      if (slot.busy || this.queue.length === 0) continue;
      // First queued job that fits the memory budget (or any job when nothing runs).
      const idx = this.running === 0 ? 0 : this.queue.findIndex((t) => this.memoryInFlight + this.jobBytes(t.job) <= budget);
      if (idx < 0) return;
      const task = this.queue.splice(idx, 1)[0]!;
      const need = this.jobBytes(task.job);
      this.memoryInFlight += need;
      this.running++;
      slot.busy = true;
      const ticket = this.nextTicket++;
      let settled = false;
      const resolve = (r: MatrixResult | MatrixFailure) => {
        if (settled) return;
        settled = true;
        this.inFlight.delete(ticket);
        task.resolve(r);
      };
      this.inFlight.set(ticket, () => resolve({ id: task.job.id, error: 'cancelled', code: 'cancelled' }));
      slot.ready
        .then(() => slot.worker.api.compute(task.job) as Promise<MatrixResult | MatrixFailure>)
        .then(resolve, (e: unknown) => {
          if (settled) return;
          // The worker died (out of memory, killed): replace it so the scan goes on, and report
          // this matrix as failed rather than losing the whole scan.
          const i = this.slots.indexOf(slot);
          try {
            slot.worker.terminate();
          } catch {
            /* already gone */
          }
          if (i >= 0 && !this.closed) this.slots[i] = this.makeSlot();
          resolve({ id: task.job.id, error: `worker failed: ${(e as Error)?.message ?? String(e)}`, code: 'worker' });
        })
        .finally(() => {
          this.memoryInFlight -= need;
          this.running--;
          slot.busy = false;
          this.pump();
        });
    }
  }

  /** Drop queued jobs (running ones finish); they resolve as cancelled failures. */
  cancelQueued(): void {
    for (const t of this.queue.splice(0)) t.resolve({ id: t.job.id, error: 'cancelled', code: 'cancelled' });
  }

  close(): void {
    this.closed = true;
    this.cancelQueued();
    // Jobs already running on a worker we terminate would never settle: settle them now.
    for (const settle of this.inFlight.values()) settle();
    this.inFlight.clear();
    for (const s of this.slots) s.worker.terminate();
  }
}
