/**
 * The layering rule, checked on every relative import of every source file: imports flow
 * ui → engine → core (and cli → engine → core), never back; core stays free of Node
 * modules except its Node byte source, and of the DOM's page globals, so that it runs in the
 * page, in workers and in Node alike. Tests and browser harnesses are not shipped and may
 * import across layers (the core fuzz test drives the engine's worker API, for one).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));

/** What each layer (a folder under src/, or workers/) may import besides itself. */
const ALLOWED: Record<string, string[]> = {
  core: [],
  engine: ['core'],
  ui: ['engine', 'core'],
  cli: ['engine', 'core'],
  workers: ['engine', 'core'],
  testing: ['engine', 'core'],
  bench: ['cli', 'engine', 'core', 'testing'],
  types: [],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|mts|mjs|svelte)$/.test(e.name) && !e.name.endsWith('.d.ts'))
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .filter((p) => !p.startsWith('src/engine/kernels/assembly/') && !p.startsWith('src/engine/kernels/build/'));
}

function layerOf(path: string): string | null {
  const parts = path.split('/');
  if (parts[0] === 'workers') return 'workers';
  return parts[0] === 'src' && parts.length > 2 ? parts[1]! : null;
}

const isTestSide = (path: string) => /\.test\.|browser-test|harness/.test(path);
const files = [...sourceFiles('src'), ...sourceFiles('workers')];

describe('layering', () => {
  it('finds the source tree', () => {
    expect(files.filter((f) => f.startsWith('src/core/')).length).toBeGreaterThan(10);
    expect(files.filter((f) => f.startsWith('src/ui/')).length).toBeGreaterThan(5);
  });

  it('imports flow ui/cli → engine → core, never back', () => {
    const bad: string[] = [];
    for (const file of files.filter((f) => !isTestSide(f))) {
      const from = layerOf(file);
      if (!from || from === 'types') continue;
      const text = readFileSync(join(root, file), 'utf8');
      for (const m of text.matchAll(/(?:\bfrom|\bimport)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
        const to = layerOf(normalize(join(file, '..', m[1]!)));
        if (!to || to === from || ALLOWED[from]!.includes(to)) continue;
        bad.push(`${file} imports ${m[1]} (${from} → ${to})`);
      }
    }
    expect(bad).toEqual([]);
  });

  it('core uses no Node module except in its Node byte source, and no page globals', () => {
    const bad: string[] = [];
    for (const file of files.filter((f) => f.startsWith('src/core/') && !isTestSide(f))) {
      const text = readFileSync(join(root, file), 'utf8');
      if (/from\s+['"]node:/.test(text) && !file.endsWith('bytesource-node.ts')) bad.push(`${file}: imports a node: module`);
      if (/\b(document|window|localStorage)\./.test(text)) bad.push(`${file}: uses a page global`);
    }
    expect(bad).toEqual([]);
  });
});
