/**
 * How the page spreads a scan over the machine's cores: W engine workers, each computing one
 * matrix at a time, × T shared-memory threads inside each matrix (the kernels' helper threads).
 *
 * The default (`auto`):
 *   - T = 2, or 4 from 16 cores up. The pool across matrices scales almost perfectly (the
 *     matrices are independent), threads inside one matrix less so (a join per step; each
 *     panel's vector work and the final QL stay serial), so most of the parallelism stays with
 *     the pool. But every thread added inside a matrix removes a worker: a worker's WASM memory
 *     grows to the largest matrix it met and never shrinks, so fewer workers hold less memory;
 *     and the scan's tail, where one big matrix (a 128k-vocabulary lm_head) computes while the
 *     other workers are idle, runs on T cores instead of one.
 *   - W = ⌊C / T⌋ with threads, so that W·T ≤ C. No core is set aside for the page: a threaded
 *     worker's helpers sleep through its serial parts (reading and decoding the tensor, the
 *     panel work, the QL), which leaves the page its share, and on 2–4 cores setting one aside
 *     would cost half the threads.
 *   - With one thread per matrix (asked for, or threads unavailable) it is the pool alone, as
 *     before: W = C − 1, one core left to the page so that it stays responsive.
 * Threads need a cross-origin-isolated page (SharedArrayBuffer; the COOP/COEP headers, sent by
 * the server or added by the service worker); without it T = 1 and the page says why.
 */

/** `auto`, or the threads inside each matrix asked for (the Engine menu, `?threads=N`). */
export type ThreadsChoice = 'auto' | number;

export interface EnginePlan {
  /** Engine workers: matrices computed at once. */
  workers: number;
  /** Threads asked of each worker inside each matrix. */
  threads: number;
  /** Threads the choice wants: more than `threads` when the page is not isolated. */
  wanted: number;
}

/** More workers than this only add memory (the pool's budget admits about that many big matrices). */
export const MAX_WORKERS = 16;
/** The kernels accept up to 64; past 16 the serial parts dominate. */
export const MAX_THREADS = 16;

/** The machine's cores as the browser reports them (at least 1; 2 when it does not say). */
export function coreCount(reported: number | undefined): number {
  return Math.max(1, Math.floor(reported || 2));
}

/** What `auto` picks on `cores` cores (see the header). */
export function autoThreads(cores: number): number {
  return cores >= 16 ? 4 : cores >= 2 ? 2 : 1;
}

export function planEngine(cores: number, isolated: boolean, choice: ThreadsChoice): EnginePlan {
  const c = coreCount(cores);
  // An explicit number is honoured even past the cores (it only oversubscribes them); the
  // menu offers no more than the cores.
  const wanted = choice === 'auto' ? autoThreads(c) : Math.max(1, Math.min(MAX_THREADS, Math.floor(choice)));
  const threads = isolated ? wanted : 1;
  const workers = threads === 1 ? Math.max(1, c - 1) : Math.max(1, Math.floor(c / threads));
  return { workers: Math.min(MAX_WORKERS, workers), threads, wanted };
}

/** `?threads=N` (a positive integer) or `?threads=auto`; anything else is `auto`. */
export function parseThreadsParam(search: string): ThreadsChoice {
  const v = new URLSearchParams(search).get('threads');
  return v !== null && /^[1-9]\d*$/.test(v) ? Math.min(MAX_THREADS, Number(v)) : 'auto';
}

/** The menu's numbers: powers of two up to the cores, the cores themselves, and the current choice. */
export function threadOptions(cores: number, choice: ThreadsChoice): number[] {
  const c = Math.min(MAX_THREADS, coreCount(cores));
  const out = new Set<number>([c]);
  for (let n = 1; n <= c; n *= 2) out.add(n);
  if (choice !== 'auto') out.add(choice);
  return [...out].sort((a, b) => a - b);
}
