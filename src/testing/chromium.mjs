// Headless Chromium for our browser tests and benchmarks (plain JS, so that scripts run by
// Node directly can import it too). esbuild and playwright-core are dev dependencies: the bundled
// benches import them only when they start Chromium, so the Node-only runs work without them
// (a GPU machine with nothing but node and dist-cli/).

/** Debian's Chromium: Playwright's own browser download does not work on our machines. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** No network of its own, no first-run work; WebGPU on (headless Chromium then offers its
 *  software adapter, SwiftShader). chromium.launch() adds a fresh temporary profile. */
export const BASE_ARGS = [
  '--no-sandbox',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--enable-unsafe-webgpu',
];

/** Added on a machine with a real GPU: Chromium uses it through Vulkan on Linux. */
export const GPU_ARGS = ['--enable-features=Vulkan', '--use-vulkan=native', '--use-angle=vulkan', '--ignore-gpu-blocklist', '--disable-vulkan-surface'];

/** One ES module for a page or worker: entry (a .ts path) bundled with its imports. */
export async function bundleForBrowser(entry) {
  const { build } = await import('esbuild');
  const out = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent' });
  return out.outputFiles[0].text;
}
