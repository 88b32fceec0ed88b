/**
 * Where a worker computes each Gram in 'auto' mode when it has a GPU, and (with the experimental
 * GPU reduction) each reduction: one router for each, since their costs differ.
 *
 * Every worker of the pool opens its own device on the one GPU, so that the GPU computes every
 * Gram while the cores compute eigenvalues (the Gram is 40–70 % of a matrix's work on the CPU;
 * with one GPU worker, the other workers still did all of theirs on WASM). The GPU runs the
 * workers' Grams one after another, so the wall time a worker measures for its GPU Gram includes
 * waiting for the others'. Where the GPU is slower than that (a small integrated GPU under many
 * workers), the measured time exceeds what the worker's own cores would take: the router then
 * keeps this worker's next matrices on WASM (8, doubling up to 64 while the GPU stays slower),
 * which leaves the GPU to fewer workers until its Grams pay again. On a discrete GPU every Gram
 * stays there. Reductions on the GPU queue the same way, and once the GPU computes every Gram
 * and every reduction of 16 workers, it can be the slower even there: the cores, which then have
 * little else to do, take reductions back.
 */
const MIN_BACKOFF = 8;
const MAX_BACKOFF = 64;

export class GpuRouter {
  private skip = 0;
  private backoff = MIN_BACKOFF;

  /** `cpuMacsPerSecond`: this worker's WASM speed (multiply-adds per second, its threads included). */
  constructor(private readonly cpuMacsPerSecond: number) {}

  /** Whether the next eligible matrix's work of this kind goes to the GPU. */
  useGpu(): boolean {
    if (this.skip === 0) return true;
    this.skip--;
    return false;
  }

  /** GPU work that takes WASM `macs` multiply-adds took `seconds` of wall time (waiting included);
   *  work the GPU failed to do (out of its memory) is reported as taking forever. */
  gpuTook(macs: number, seconds: number): void {
    if (seconds * this.cpuMacsPerSecond > macs) {
      this.skip = this.backoff;
      this.backoff = Math.min(2 * this.backoff, MAX_BACKOFF);
    } else {
      this.backoff = MIN_BACKOFF;
    }
  }
}

/**
 * One GpuRouter per matrix shape. Waiting behind other workers costs a small matrix as much as
 * a big one, so a k/v projection's Gram or reduction can take longer on a busy GPU than on the
 * cores while a 14336×4096 one still takes a tenth of its CPU time there: one router for both
 * would send the big ones to the cores too.
 */
export class GpuRouters {
  private readonly byShape = new Map<string, GpuRouter>();

  /** `cpuMacsPerSecond`: this worker's WASM speed, as for GpuRouter. */
  constructor(readonly cpuMacsPerSecond: number) {}

  for(rows: number, cols: number): GpuRouter {
    const key = `${rows}x${cols}`;
    let router = this.byShape.get(key);
    if (!router) this.byShape.set(key, (router = new GpuRouter(this.cpuMacsPerSecond)));
    return router;
  }
}
