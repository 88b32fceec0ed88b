/** Engine workers as module web workers (bundled by Vite). */
import { wrap } from 'comlink';
import { WorkerPool, type PoolOptions } from './pool.js';
import type { EngineWorkerApi } from './types.js';

export function createBrowserPool(options: Partial<Omit<PoolOptions, 'spawn'>> = {}): WorkerPool {
  return new WorkerPool({
    size: options.size ?? Math.max(1, Math.min(navigator.hardwareConcurrency || 2, 16)),
    ...options,
    spawn: () => {
      const worker = new Worker(new URL('../../workers/engine.worker.ts', import.meta.url), { type: 'module', name: 'spectroscope-engine' });
      return { api: wrap<EngineWorkerApi>(worker), terminate: () => worker.terminate() };
    },
  });
}
