// Tests run the CLI as users do (bin/spectroscope.mjs → dist-cli/): build it (and the WASM it
// loads) first, so `npx vitest` works on its own too.
import { execFileSync } from 'node:child_process';

export default function setup() {
  execFileSync(process.execPath, ['scripts/build-wasm.mjs'], { stdio: 'inherit' });
  execFileSync(process.execPath, ['scripts/build-cli.mjs'], { stdio: 'inherit' });
}
