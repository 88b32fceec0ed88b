// Bundles the CLI and its Node engine worker into dist-cli/ (run by `prepare`, so `npx
// spectroscope` works right after `npm ci`).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
await build({
  absWorkingDir: root,
  entryPoints: {
    cli: 'src/cli/main.ts',
    'engine-worker': 'workers/engine.node-worker.ts',
    bench: 'src/bench/bench.ts',
    large: 'src/bench/large.ts',
    'gpu-bench': 'src/bench/gpu-device.ts',
    'big-gram': 'src/bench/big-gram.ts',
  },
  outdir: 'dist-cli',
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
  external: ['playwright-core', 'esbuild'],
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
