#!/usr/bin/env node
// Timing of the WASM kernels (Node only; needs `node scripts/build-wasm.mjs`).
//   node src/engine/kernels/bench-kernel.mjs [options] [ROWSxCOLS ...]   (default 1024x4096 4096x4096)
// Prints the breakdown Gram / tridiagonalisation / QL from the raw kernel exports (the
// tridiagonalisation of orders ≥ the two-stage crossover, 1536, is the two-stage one: dense →
// band, then band → tridiagonal; --one-stage times the one-stage reduction there too), then the
// end-to-end time through the TypeScript wrapper (bundled on the fly with esbuild).
// Options (for before/after comparisons on a noisy machine: everything runs interleaved
// in one process, `--reps` times, and the medians are printed):
//   --wasm A.wasm,B.wasm   modules to compare (default build/linalg.wasm)
//   --unblocked            also time the unblocked tridiagonalisation of each module
//   --nb 32 --nx 128       panel width / crossover of the blocked tridiagonalisation
//   --reps N               repetitions (default 1)
//   --no-e2e               skip the end-to-end call through linalg.ts
//   --threads N            end-to-end with createLinalg({ threads: N }) next to threads: 1,
//                          interleaved in each repetition (medians and their ratio)
//   --no-breakdown         skip the single-thread breakdown from the raw exports
// Relaxed-SIMD modules need `node --experimental-wasm-relaxed-simd` on Node 20.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join, basename } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  if (i < 0) return dflt;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
};
const flag = (name) => {
  const i = argv.indexOf(name);
  if (i >= 0) argv.splice(i, 1);
  return i >= 0;
};
const wasmPaths = opt('--wasm', join(here, 'build/linalg.wasm')).split(',');
const nb = Number(opt('--nb', '0'));
const nx = Number(opt('--nx', '0'));
const reps = Number(opt('--reps', '1'));
const unblocked = flag('--unblocked');
const e2e = !flag('--no-e2e');
const threads = Number(opt('--threads', '1'));
const breakdownOn = !flag('--no-breakdown');
const oneStage = flag('--one-stage');
const modules = [];
for (const p of wasmPaths) modules.push({ name: basename(p), module: await WebAssembly.compile(await readFile(p)) });
const shapes = (argv.length > 0 ? argv : ['1024x4096', '4096x4096']).map((s) => s.split('x').map(Number));

function randomMatrix(rows, cols, seed = 1) {
  const w = new Float32Array(rows * cols);
  let s = seed >>> 0;
  for (let i = 0; i < w.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    w[i] = (((s >>> 8) - 8388608) / 8388608) * 0.02;
  }
  return w;
}

const now = () => performance.now() / 1000;

async function breakdown(module, w, rows, cols, blocked) {
  const { exports: ex } = await WebAssembly.instantiate(module, {});
  blocked &&= typeof ex.tridiagonalizeBlocked === 'function';
  if (blocked && nb > 0) ex.setTridiagBlocking(nb, nx > 0 ? nx : 128);
  const k = Math.min(rows, cols);
  const must = (p) => {
    if (p === 0) throw new Error('out of memory');
    return p >>> 0;
  };
  const wp = must(ex.alloc(rows * cols * 4));
  const gBytes = ex.packedBytes(k) >>> 0;
  const g = must(ex.alloc(gBytes));
  const pk = must(ex.alloc(ex.packBytes(k)));
  const d = must(ex.alloc(k * 8));
  const e = must(ex.alloc(k * 8));
  const twoStage = blocked && !oneStage && k >= ex.twoStageFrom();
  const tmp = must(
    ex.alloc(
      blocked
        ? Math.max(ex.tridiagWorkBytes(k), twoStage ? ex.bandStageWorkBytes(k) + ex.bandCopyBytes(k) + ex.bandWorkBytes(k, ex.twoStageBand()) : 0)
        : k * 32,
    ),
  );
  new Float32Array(ex.memory.buffer, wp, rows * cols).set(w);
  ex.zeroF64(g, gBytes / 8);
  let t = now();
  if (rows >= cols) ex.gramRows(wp, rows, cols, g, pk);
  else ex.gramCols(wp, rows, cols, cols, g, pk);
  const tGram = now() - t;
  t = now();
  const inv = ex.scaleLower(g, k);
  if (twoStage) ex.tridiagonalizeTwoStage(g, k, d, e, tmp);
  else if (blocked) ex.tridiagonalizeBlocked(g, k, d, e, tmp);
  else ex.tridiagonalize(g, k, d, e, tmp);
  const tTri = now() - t;
  t = now();
  const ev = new Float64Array(ex.memory.buffer, e, k);
  for (let i = 0; i < k; i++) ev[i] *= ev[i];
  const info = ex.tqlrat(d, e, k);
  const tQl = now() - t;
  const lam = new Float64Array(ex.memory.buffer, d, k);
  const smax = Math.sqrt(lam[k - 1] * inv);
  const smin = Math.sqrt(Math.max(0, lam[0] * inv));
  return { tGram, tTri, tQl, info, smax, smin };
}

let linalgModule;
const linalgs = new Map();
async function endToEnd(w, rows, cols, nThreads = 1) {
  linalgModule ??= await bundleLinalg();
  if (!linalgs.has(nThreads)) linalgs.set(nThreads, await linalgModule.createLinalg({ threads: nThreads }));
  const la = linalgs.get(nThreads);
  const t = now();
  const s = la.singularValues(w, rows, cols);
  return { t: now() - t, smax: s[0], smin: s[s.length - 1], s, granted: la.threads };
}

async function bundleLinalg() {
  const esbuild = await import('esbuild');
  const out = await esbuild.build({
    entryPoints: [join(here, 'linalg.ts')],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    logLevel: 'silent',
  });
  const url = 'data:text/javascript;base64,' + Buffer.from(out.outputFiles[0].text).toString('base64');
  return import(url);
}

const flops = (rows, cols) => {
  const k = Math.min(rows, cols);
  const n = Math.max(rows, cols);
  return { gram: k * (k + 1) * n, tri: (4 / 3) * k ** 3 };
};

const median = (xs) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length % 2 ? a[(a.length - 1) >> 1] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
};

console.log(`node ${process.version}, ${threads > 1 ? `threads 1 vs ${threads}` : 'single thread'}, ${reps} rep(s), medians`);
for (const [rows, cols] of shapes) {
  const w = randomMatrix(rows, cols);
  const f = flops(rows, cols);
  const variants = [];
  for (const m of modules) {
    variants.push({ label: m.name, module: m.module, blocked: true, runs: [] });
    if (unblocked) variants.push({ label: `${m.name} unblocked`, module: m.module, blocked: false, runs: [] });
  }
  if (!breakdownOn) variants.length = 0;
  for (let r = 0; r < reps; r++) for (const v of variants) v.runs.push(await breakdown(v.module, w, rows, cols, v.blocked));
  for (const v of variants) {
    const tGram = median(v.runs.map((b) => b.tGram));
    const tTri = median(v.runs.map((b) => b.tTri));
    const tQl = median(v.runs.map((b) => b.tQl));
    const b = v.runs[0];
    console.log(
      `${rows}x${cols} [${v.label}]: gram ${tGram.toFixed(2)} s (${(f.gram / tGram / 1e9).toFixed(1)} GFLOP/s)` +
        ` | tridiag ${tTri.toFixed(2)} s (${(f.tri / tTri / 1e9).toFixed(1)} GFLOP/s)` +
        ` | QL ${tQl.toFixed(3)} s | total ${median(v.runs.map((x) => x.tGram + x.tTri + x.tQl)).toFixed(2)} s` +
        ` | info ${b.info} σmax ${b.smax.toPrecision(6)} σmin ${b.smin.toPrecision(6)}`,
    );
  }
  if (e2e && threads > 1) {
    const t1 = [];
    const tn = [];
    let maxRel = 0;
    let granted = 1;
    for (let r = 0; r < reps; r++) {
      const a = await endToEnd(w, rows, cols, 1);
      const b = await endToEnd(w, rows, cols, threads);
      t1.push(a.t);
      tn.push(b.t);
      granted = b.granted;
      for (let i = 0; i < a.s.length; i++) maxRel = Math.max(maxRel, Math.abs(a.s[i] - b.s[i]) / Math.max(a.s[i], Number.MIN_VALUE));
    }
    const m1 = median(t1);
    const mn = median(tn);
    console.log(
      `${rows}x${cols}: end-to-end singularValues() threads 1: ${m1.toFixed(2)} s | threads ${granted}: ${mn.toFixed(2)} s` +
        ` | ratio ${(mn / m1).toFixed(3)} (speedup ${(m1 / mn).toFixed(2)}×) | runs 1: ${t1.map((x) => x.toFixed(2)).join(' ')}` +
        ` | runs ${granted}: ${tn.map((x) => x.toFixed(2)).join(' ')} | max rel diff ${maxRel.toExponential(1)}`,
    );
  } else if (e2e) {
    const e = await endToEnd(w, rows, cols);
    console.log(`${rows}x${cols}: end-to-end singularValues() ${e.t.toFixed(2)} s (σmax ${e.smax.toPrecision(6)})`);
  }
}
for (const la of linalgs.values()) la.dispose();
