/** Lists a model folder on disk as byte sources (top level, plus any subfolder the index names). */
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { NodeFileSource } from '../core/bytesource-node.js';
import { SpectroscopeError } from '../core/errors.js';

/** The files a model folder's reading can need; everything else (tokenizers, README) is skipped. */
const RELEVANT = /(\.safetensors|\.safetensors\.index\.json|^config\.json|\.(bin|pt|pth|ckpt|gguf|pkl|h5|msgpack))$/i;

export async function listModelFolder(dir: string): Promise<NodeFileSource[]> {
  let st;
  try {
    st = await stat(dir);
  } catch {
    throw new SpectroscopeError('not-a-folder', dir, 'no such folder');
  }
  if (!st.isDirectory()) throw new SpectroscopeError('not-a-folder', dir, 'is not a folder: give the model folder (with config.json and *.safetensors)');
  const entries = await readdir(dir, { withFileTypes: true });
  const out: NodeFileSource[] = [];
  for (const e of entries) {
    if (!RELEVANT.test(e.name)) continue;
    const path = join(dir, e.name);
    // Hugging Face cache snapshots are symlinks into blobs/: follow them.
    const s = await stat(path).catch(() => null);
    if (!s?.isFile()) continue;
    out.push(new NodeFileSource(path, e.name, s.size));
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
