/**
 * WebGPU in Node, which has none of its own: the `webgpu` npm package (Dawn for Node). It is a
 * dev dependency only (native binaries per platform), so the CLI takes its entry file as
 * `--webgpu PATH`; the benchmarks find the installed one themselves. Installing it sets the
 * WebGPU globals and `navigator.gpu`, which is all the WebGPU backend looks for. Node-only.
 */
import { createRequire } from 'node:module';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** The entry file of the installed `webgpu` dev dependency, or undefined when it is not installed. */
export function installedDawnModule(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('webgpu');
  } catch {
    return undefined;
  }
}

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
