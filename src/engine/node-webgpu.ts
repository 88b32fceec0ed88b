/**
 * WebGPU in Node, which has none of its own: the `webgpu` npm package (Dawn for Node) is not a
 * dependency (it ships native binaries per platform), so a GPU machine names its entry file
 * (`spectroscope scan --webgpu PATH`, `gpu-bench.mjs --webgpu PATH`). Installing it sets the
 * WebGPU globals and `navigator.gpu`, which is all the WebGPU backend looks for. Node-only.
 */
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

interface DawnModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

/** Imports the Dawn module at `modulePath` and installs it; throws an Error naming the path when it is not one. */
export async function installNodeWebGpu(modulePath: string): Promise<void> {
  const url = pathToFileURL(isAbsolute(modulePath) ? modulePath : resolve(modulePath)).href;
  let mod: Partial<DawnModule>;
  try {
    mod = (await import(url)) as Partial<DawnModule>;
  } catch (e) {
    throw new Error(`${modulePath}: cannot load it as the webgpu (Dawn for Node) module: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  if (typeof mod.create !== 'function' || typeof mod.globals !== 'object' || mod.globals === null)
    throw new Error(`${modulePath}: not the webgpu (Dawn for Node) module (it exports no create() and globals)`);
  Object.assign(globalThis, mod.globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: mod.create([]) }, configurable: true });
}

/** The GPU adapter's description, or null when there is none, or only a software one and
 *  `allowSoftware` is false. */
export async function nodeGpuAdapterInfo(allowSoftware = false): Promise<string | null> {
  const adapter = await (globalThis.navigator as Navigator | undefined)?.gpu?.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) return null;
  const info = adapter.info as GPUAdapterInfo | undefined;
  if (info?.isFallbackAdapter && !allowSoftware) return null;
  return ([info?.vendor, info?.architecture, info?.description].filter(Boolean).join(' ') || 'a GPU') + (info?.isFallbackAdapter ? ' (software)' : '');
}
