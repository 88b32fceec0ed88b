/**
 * The engine's memory at the largest hidden sizes (not in CI): one k×k matrix (default
 * 16384, Llama-3-405B's hidden size) streamed into the kernels in 64 MB row blocks, exactly as
 * the CLI feeds a tall matrix, then all k singular values. Prints the time and the process's
 * peak RSS, and checks every σ against its closed form.
 *
 * The matrix is a column-scaled Walsh matrix, W[i][j] = d_j·(−1)^popcount(i & j) with k a power
 * of two: its columns are exactly orthogonal, so σ_j = d_j·√k, with no numerical computation.
 *
 *   node dist-cli/big-gram.mjs [--k 16384] [--threads N] [--band 32]
 */
import '../engine/node-wasm-features.js';
import { parseArgs } from 'node:util';
import { availableParallelism } from 'node:os';
import { createLinalg } from '../engine/kernels/linalg.js';
import { parity } from '../testing/walsh.js';

const { values } = parseArgs({
  args: process.argv.slice(2),
  options: { k: { type: 'string' }, threads: { type: 'string' }, band: { type: 'string' } },
});
const k = Number(values.k ?? 16384);
if (!Number.isInteger(Math.log2(k))) throw new Error('--k must be a power of two (Walsh matrix)');
const threads = Number(values.threads ?? availableParallelism());
const band = values.band ? Number(values.band) : undefined;

/** A float32-exact column scale spread over two decades. */
const scale = (j: number): number => (1 + (j % 97) / 97) * 2 ** -((j * 7) % 8);

const t0 = performance.now();
const la = await createLinalg({ threads, ...(band ? { twoStage: { band, fromOrder: 1536 } } : {}) });
const acc = la.gramAccumulator(k);
const blockRows = Math.max(1, Math.floor((64 << 20) / (4 * k)));
const block = new Float32Array(blockRows * k);
const d = Float32Array.from({ length: k }, (_, j) => scale(j));
for (let r0 = 0; r0 < k; r0 += blockRows) {
  const n = Math.min(blockRows, k - r0);
  for (let r = 0; r < n; r++) {
    const i = r0 + r;
    for (let j = 0; j < k; j++) block[r * k + j] = parity(i & j) ? -d[j]! : d[j]!;
  }
  acc.addRows(block.subarray(0, n * k), n);
}
const tGram = performance.now();
const s = acc.singularValues();
const tEig = performance.now();
acc.dispose();

const expected = Array.from(d, (x) => x * Math.sqrt(k)).sort((a, b) => b - a);
let err = 0;
for (let i = 0; i < k; i++) err = Math.max(err, Math.abs(s[i]! - expected[i]!));
const peak = process.resourceUsage().maxRSS * 1024;
console.log(
  `k=${k} threads=${la.threads}: Gram ${((tGram - t0) / 1000).toFixed(1)} s, eigenvalues ${((tEig - tGram) / 1000).toFixed(1)} s; ` +
    `peak RSS ${(peak / 1e9).toFixed(2)} GB; max |σ − closed form| / σmax = ${(err / expected[0]!).toExponential(2)}`,
);
la.dispose();
process.exitCode = err / expected[0]! <= 1e-9 && peak < 2e9 ? 0 : 1;
