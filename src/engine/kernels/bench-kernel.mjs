#!/usr/bin/env node
// Single-thread timing of the WASM kernels (Node only; needs `node scripts/build-wasm.mjs`).
//   node src/engine/kernels/bench-kernel.mjs [ROWSxCOLS ...]   (default 1024x4096 4096x4096)
// Prints the breakdown Gram / tridiagonalisation / QL from the raw kernel exports, then the
// end-to-end time through the TypeScript wrapper (bundled on the fly with esbuild).
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
const bytes = await readFile(join(here, 'build/linalg.wasm'));
const module = await WebAssembly.compile(bytes);
const shapes = (process.argv.length > 2 ? process.argv.slice(2) : ['1024x4096', '4096x4096']).map((s) => s.split('x').map(Number));

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

async function breakdown(w, rows, cols) {
  const { exports: ex } = await WebAssembly.instantiate(module, {});
  const k = Math.min(rows, cols);
  const kp = (k + 3) & ~3;
  const must = (p) => {
    if (p === 0) throw new Error('out of memory');
    return p >>> 0;
  };
  const wp = must(ex.alloc(rows * cols * 4));
  const g = must(ex.alloc(kp * kp * 8));
  const pk = must(ex.alloc(ex.packBytes(k)));
  const d = must(ex.alloc(k * 8));
  const e = must(ex.alloc(k * 8));
  const tmp = must(ex.alloc(k * 32));
  new Float32Array(ex.memory.buffer, wp, rows * cols).set(w);
  ex.zeroF64(g, kp * kp);
  let t = now();
  if (rows >= cols) ex.gramRows(wp, rows, cols, g, kp, pk);
  else ex.gramCols(wp, rows, cols, cols, g, kp, pk);
  const tGram = now() - t;
  t = now();
  const inv = ex.scaleLower(g, k, kp);
  ex.tridiagonalize(g, k, kp, d, e, tmp);
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

async function endToEnd(w, rows, cols) {
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
  const { createLinalg } = await import(url);
  const la = await createLinalg();
  const t = now();
  const s = la.singularValues(w, rows, cols);
  return { t: now() - t, smax: s[0], smin: s[s.length - 1] };
}

const flops = (rows, cols) => {
  const k = Math.min(rows, cols);
  const n = Math.max(rows, cols);
  return { gram: k * (k + 1) * n, tri: (4 / 3) * k ** 3 };
};

console.log(`node ${process.version}, single thread`);
for (const [rows, cols] of shapes) {
  const w = randomMatrix(rows, cols);
  const b = await breakdown(w, rows, cols);
  const f = flops(rows, cols);
  console.log(
    `${rows}x${cols}: gram ${b.tGram.toFixed(2)} s (${(f.gram / b.tGram / 1e9).toFixed(1)} GFLOP/s)` +
      ` | tridiag ${b.tTri.toFixed(2)} s (${(f.tri / b.tTri / 1e9).toFixed(1)} GFLOP/s)` +
      ` | QL ${b.tQl.toFixed(3)} s | total ${(b.tGram + b.tTri + b.tQl).toFixed(2)} s` +
      ` | info ${b.info} σmax ${b.smax.toPrecision(6)} σmin ${b.smin.toPrecision(6)}`,
  );
  const e = await endToEnd(w, rows, cols);
  console.log(`${rows}x${cols}: end-to-end singularValues() ${e.t.toFixed(2)} s (σmax ${e.smax.toPrecision(6)})`);
}
