import { createHash } from 'node:crypto';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join, relative, resolve, sep } from 'node:path';
import { type Plugin, defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

/**
 * Cross-origin isolation (for shared-memory WASM threads) on the dev and preview servers;
 * static hosts get the same through the service worker (see docs/deploy.md).
 */
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await listFiles(p)));
    else if (e.isFile()) out.push(p);
  }
  return out;
}

/**
 * Fills in public/sw.js's precache list (every file of the build but source maps and the
 * worker itself) and its version (a hash of their contents), once the build is written.
 */
function serviceWorkerPrecache(): Plugin {
  let outDir = 'dist';
  return {
    name: 'spectroscope-sw',
    apply: 'build',
    configResolved(config) {
      outDir = resolve(config.root, config.build.outDir);
    },
    async closeBundle() {
      const swPath = join(outDir, 'sw.js');
      const files = (await listFiles(outDir))
        .map((f) => relative(outDir, f).split(sep).join('/'))
        .filter((f) => f !== 'sw.js' && !f.endsWith('.map') && !f.endsWith('.md') && !f.split('/').some((part) => part.startsWith('.')))
        .sort();
      const hash = createHash('sha256');
      for (const f of files) {
        hash.update(f);
        hash.update(await readFile(join(outDir, f)));
      }
      const version = hash.digest('hex').slice(0, 16);
      const sw = await readFile(swPath, 'utf8');
      const filled = sw
        .replace(/const VERSION = '[^']*'; \/\/ @spectroscope-version/, `const VERSION = '${version}'; // @spectroscope-version`)
        .replace(/const PRECACHE = \[\]; \/\/ @spectroscope-precache/, `const PRECACHE = ${JSON.stringify(['./', ...files])}; // @spectroscope-precache`);
      if (filled === sw) throw new Error('spectroscope-sw: the markers in public/sw.js were not found');
      await writeFile(swPath, filled);
    },
  };
}

export default defineConfig({
  base: './',
  plugins: [svelte(), serviceWorkerPrecache()],
  worker: { format: 'es' },
  build: { target: 'es2022', sourcemap: true, assetsInlineLimit: 0 },
  server: { headers: isolation },
  preview: { headers: isolation },
});
