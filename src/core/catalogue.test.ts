import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NodeFileSource } from './bytesource-node.js';
import { buildCatalogue, moduleType, selectTypes, sortTypes } from './catalogue.js';
import { loadModelFolder } from './model.js';
import { oracleRuns, sharedModelDirs } from '../testing/shared-models.js';

async function openDir(dir: string) {
  const files = readdirSync(dir)
    .filter((n) => statSync(join(dir, n)).isFile())
    .map((n) => new NodeFileSource(join(dir, n), n, statSync(join(dir, n)).size));
  try {
    return await loadModelFolder(files);
  } finally {
    await Promise.all(files.map((f) => f.close()));
  }
}

describe('module types (spec §1)', () => {
  it.each([
    ['model.layers.3.mlp.down_proj', 'mlp.down_proj'],
    ['model.layers.12.block_sparse_moe.experts.7.w1', 'block_sparse_moe.experts.7.w1'],
    ['model.layers.0.mlp.experts.12.down_proj', 'mlp.experts.12.down_proj'],
    ['lm_head', 'lm_head'],
    ['model.embed_tokens', 'model.embed_tokens'],
    ['transformer.h.11.attn.c_attn', 'attn.c_attn'],
    ['model.layers.3', ''],
  ])('%s → %s', (name, type) => expect(moduleType(name)).toBe(type));

  it('orders types as the reference (grouped by first part, then sorted)', () => {
    expect(sortTypes(['self_attn.q_proj', 'mlp.up_proj', 'lm_head', 'mlp-x', 'mlp.down_proj', 'input_layernorm'])).toEqual([
      'input_layernorm',
      'lm_head',
      'mlp.down_proj',
      'mlp.up_proj',
      'mlp-x',
      'self_attn.q_proj',
    ]);
  });
});

describe('catalogue of the reference checkpoints', () => {
  for (const dir of sharedModelDirs()) {
    const runs = oracleRuns(dir);
    it(`${basename(dir)}: types, default selection and modules match the reference`, async () => {
      const folder = await openDir(dir);
      expect(folder.problems).toEqual([]);
      const cat = buildCatalogue(folder);
      for (const run of runs) {
        const selected = selectTypes(cat, { allTypes: run.variant === 'oracle_out_all_types' }).types;
        expect(selected.map((t) => t.name)).toEqual(run.meta.selected_types);
        // The reference's module order is its JSON's key order.
        expect(selected.flatMap((t) => t.modules.map((m) => m.name))).toEqual(Object.keys(run.details));
        for (const t of selected) for (const m of t.modules) expect(run.details[m.name]!.shape).toEqual([m.rows, m.cols]);
      }
      const oracleMeta = runs[0]!.meta as unknown as { lm_head_tied_in: boolean };
      expect(cat.tiedHead).toBe(oracleMeta.lm_head_tied_in);
    });
  }
});

describe('embeddings', () => {
  it.each([
    ['model.embed_tokens', true],
    ['transformer.wte', true],
    ['transformer.wpe', true],
    ['shared', true],
    ['gpt_neox.embed_in', true],
    ['model.decoder.embed_positions', true],
    ['embed_out', false],
    ['lm_head', false],
    ['model.layers.0.mlp.down_proj', false],
  ])('%s → %s', async (name, want) => {
    const { isEmbeddingModule } = await import('./catalogue.js');
    expect(isEmbeddingModule(name)).toBe(want);
  });
});
