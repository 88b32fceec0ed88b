/**
 * How the CLI spreads its cores when the user does not say (--workers / --threads): one matrix
 * per worker is the fastest way to use cores while there are at least as many matrices as
 * cores; with fewer (a resumed scan's last matrices, `--types lm_head`), the spare cores become
 * threads inside those matrices instead of idling.
 */
export interface EngineShape {
  workers: number;
  threads: number;
}

export function engineShape(cores: number, pendingMatrices: number, asked: { workers?: number; threads?: number } = {}): EngineShape {
  const c = Math.max(1, Math.floor(cores));
  if (asked.workers !== undefined || asked.threads !== undefined) {
    return { workers: asked.workers ?? c, threads: asked.threads ?? 1 };
  }
  if (pendingMatrices >= c) return { workers: c, threads: 1 };
  const workers = Math.max(1, pendingMatrices);
  return { workers, threads: Math.max(1, Math.floor(c / workers)) };
}
