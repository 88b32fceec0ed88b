/** The messages between the scan (page or CLI) and the engine workers. Plain data: they cross threads. */
import type { FloatDtype } from '../core/dtype.js';
import type { ScoreDetails } from '../core/spectrum.js';

/** Where a worker reads a tensor from: a dropped `File` in the page, a path in Node. */
export interface SourceRef {
  name: string;
  blob?: Blob;
  path?: string;
}

export interface MatrixJob {
  id: number;
  source: SourceRef;
  /** Tensor name, for messages. */
  tensor: string;
  offset: number;
  byteLength: number;
  dtype: FloatDtype;
  rows: number;
  cols: number;
  /** A weight of more than two dimensions: a batch of rows×cols matrices, stored one after the
   *  other, with these leading dimensions (see spectrumScoreBatched). */
  batchShape?: number[];
}

export interface MatrixResult {
  id: number;
  singularValues: Float64Array;
  details: ScoreDetails;
  bytesRead: number;
  seconds: number;
  backend: BackendName;
  /** The reduction's dense → band stage ran on the GPU too (the experimental gpuEigen option). */
  eigenOnGpu?: boolean;
}

export interface MatrixFailure {
  id: number;
  error: string;
  code: string;
}

export type BackendName = 'wasm' | 'webgpu';

/** What an engine worker got at init: its backend, and the threads it computes each matrix with. */
export interface EngineInfo {
  backend: BackendName;
  /** Threads granted inside each matrix: the number asked for, or 1 where shared-memory threads
   *  are unavailable (no cross-origin isolation, no SharedArrayBuffer, a helper that did not start). */
  threads: number;
}

export interface EngineWorkerApi {
  /** Loads the kernels; says which backend this worker runs and with how many threads. */
  /** `threads`: shared-memory threads inside each matrix (1 = none); the caller keeps workers × threads ≤ cores. */
  /** `gpuEigen` (experimental, with a GPU): the eigenvalue reduction's dense → band stage on the
   *  GPU too (webgpu/band-gpu.ts); it holds a dense k×k float64 Gram per matrix on the host. */
  init(options: { backend?: BackendName | 'auto'; blockBytes?: number; threads?: number; gpuEigen?: boolean }): Promise<EngineInfo>;
  compute(job: MatrixJob): Promise<MatrixResult | MatrixFailure>;
}

export function isFailure(r: MatrixResult | MatrixFailure): r is MatrixFailure {
  return (r as MatrixFailure).error !== undefined;
}
