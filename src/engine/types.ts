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
}

export interface MatrixResult {
  id: number;
  singularValues: Float64Array;
  details: ScoreDetails;
  bytesRead: number;
  seconds: number;
  backend: BackendName;
}

export interface MatrixFailure {
  id: number;
  error: string;
  code: string;
}

export type BackendName = 'wasm' | 'webgpu';

export interface EngineWorkerApi {
  /** Loads the kernels; returns the backend this worker runs. */
  /** `threads`: shared-memory threads inside each matrix (1 = none); the pool keeps workers × threads ≤ cores. */
  init(options: { backend?: BackendName | 'auto'; blockBytes?: number; threads?: number }): Promise<BackendName>;
  compute(job: MatrixJob): Promise<MatrixResult | MatrixFailure>;
}

export function isFailure(r: MatrixResult | MatrixFailure): r is MatrixFailure {
  return (r as MatrixFailure).error !== undefined;
}
