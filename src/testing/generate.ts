/**
 * Derived test folders whose expected results are still the reference's own: the same tensors
 * re-laid into shards with an index, or with the head removed and tied.
 */
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { NodeFileSource } from '../core/bytesource-node.js';
import { readSafetensorsHeader } from '../core/safetensors.js';
import { type TensorSpec, writeSafetensors } from './safetensors-writer.js';

export async function readAllTensors(file: string): Promise<TensorSpec[]> {
  const src = await NodeFileSource.open(file, 'model.safetensors');
  try {
    const h = await readSafetensorsHeader(src);
    return await Promise.all(h.tensors.map(async (t) => ({ name: t.name, dtype: t.dtype, shape: t.shape, data: await src.read(t.offset, t.byteLength) })));
  } finally {
    await src.close();
  }
}

/** Split a single-file model into `shards` files with a model.safetensors.index.json, tensors in sorted (HF-like) order. */
export async function reshard(srcDir: string, outDir: string, shards: number): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const tensors = (await readAllTensors(join(srcDir, 'model.safetensors'))).sort((a, b) => (a.name < b.name ? -1 : 1));
  const per = Math.ceil(tensors.length / shards);
  const weightMap: Record<string, string> = {};
  for (let i = 0; i < shards; i++) {
    const name = `model-${String(i + 1).padStart(5, '0')}-of-${String(shards).padStart(5, '0')}.safetensors`;
    const part = tensors.slice(i * per, (i + 1) * per);
    for (const t of part) weightMap[t.name] = name;
    writeFileSync(join(outDir, name), writeSafetensors(part));
  }
  writeFileSync(join(outDir, 'model.safetensors.index.json'), JSON.stringify({ metadata: { total_size: 0 }, weight_map: weightMap }, null, 2));
  copyConfig(srcDir, outDir, {});
}

/** The same model with lm_head.weight removed and tie_word_embeddings: true. */
export async function tieHead(srcDir: string, outDir: string): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const tensors = (await readAllTensors(join(srcDir, 'model.safetensors'))).filter((t) => t.name !== 'lm_head.weight');
  writeFileSync(join(outDir, 'model.safetensors'), writeSafetensors(tensors));
  copyConfig(srcDir, outDir, { tie_word_embeddings: true });
}

function copyConfig(srcDir: string, outDir: string, patch: Record<string, unknown>): void {
  if (!readdirSync(srcDir).includes('config.json')) return;
  const cfg = JSON.parse(readFileSync(join(srcDir, 'config.json'), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(outDir, 'config.json'), JSON.stringify({ ...cfg, ...patch }, null, 2));
}
