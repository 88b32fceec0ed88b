/** Engine workers as module web workers (bundled by Vite). */
import { wrap } from 'comlink';
import { WorkerPool, type PoolOptions, DEFAULT_MEMORY_BUDGET, memoryBudgetFor } from './pool.js';
import type { EngineWorkerApi } from './types.js';

export function createBrowserPool(options: Partial<Omit<PoolOptions, 'spawn'>> = {}): WorkerPool {
  const size = options.size ?? Math.max(1, Math.min(navigator.hardwareConcurrency || 2, 16));
  // navigator.deviceMemory (GB, at most 8; Chromium only) is all a page can know of the machine.
  const deviceGb = (navigator as { deviceMemory?: number }).deviceMemory;
  return new WorkerPool({
    size,
    memoryBudget: deviceGb ? memoryBudgetFor(size, deviceGb * 2 ** 30) : DEFAULT_MEMORY_BUDGET,
    ...options,
    spawn: () => {
      const worker = new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), { type: 'module', name: 'spectroscope-engine' });
      return { api: wrap<EngineWorkerApi>(worker), terminate: () => worker.terminate() };
    },
  });
}
