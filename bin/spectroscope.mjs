#!/usr/bin/env node
// The CLI is bundled into dist-cli/ by `npm install` (the `prepare` script).
import { existsSync } from 'node:fs';

const cli = new URL('../dist-cli/cli.mjs', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('spectroscope: the CLI is not built yet: run `npm install` (or `npm run build:cli`) in the repository first\n');
  process.exit(1);
}
await import(cli.href);
