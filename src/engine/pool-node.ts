/** Engine workers as Node worker_threads. */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { wrap } from 'comlink';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { WorkerPool, type PoolOptions } from './pool.js';
import type { EngineWorkerApi } from './types.js';

/** `webgpuModule`: the Dawn for Node entry file each worker installs (node-webgpu.ts), if any. */
export function createNodePool(workerUrl: URL, options: Partial<Omit<PoolOptions, 'spawn'>> = {}, webgpuModule?: string): WorkerPool {
  return new WorkerPool({
    size: options.size ?? availableParallelism(),
    ...options,
    spawn: () => {
      const worker = new Worker(workerUrl, { workerData: { webgpuModule } });
      worker.unref();
      return { api: wrap<EngineWorkerApi>(nodeEndpoint(worker)), terminate: () => void worker.terminate() };
    },
  });
}
