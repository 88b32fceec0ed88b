import { describe, expect, it } from 'vitest';
import { MemorySource } from './bytesource.js';
import { buildCatalogue } from './catalogue.js';
import { loadModelFolder } from './model.js';
import { type TensorSpec, writeSafetensors } from '../testing/safetensors-writer.js';

const text = (s: string) => new TextEncoder().encode(s);
const f32 = (name: string, shape: number[]) => ({ name, dtype: 'F32' as const, shape });
const shard = (name: string, tensors: TensorSpec[]) => new MemorySource(writeSafetensors(tensors), name);
const index = (map: Record<string, string>, name = 'model.safetensors.index.json') =>
  new MemorySource(text(JSON.stringify({ metadata: {}, weight_map: map })), name);
const config = (c: object) => new MemorySource(text(JSON.stringify(c)), 'config.json');

describe('a sharded folder', () => {
  const a = () => shard('model-00001-of-00002.safetensors', [f32('model.layers.0.mlp.up_proj.weight', [4, 2]), f32('model.embed_tokens.weight', [8, 2])]);
  const b = () => shard('model-00002-of-00002.safetensors', [f32('model.layers.1.mlp.up_proj.weight', [4, 2]), f32('lm_head.weight', [8, 2])]);
  const goodMap = {
    'model.embed_tokens.weight': 'model-00001-of-00002.safetensors',
    'model.layers.0.mlp.up_proj.weight': 'model-00001-of-00002.safetensors',
    'model.layers.1.mlp.up_proj.weight': 'model-00002-of-00002.safetensors',
    'lm_head.weight': 'model-00002-of-00002.safetensors',
  };

  it('reads all shards when index and shards agree', async () => {
    const m = await loadModelFolder([b(), a(), index(goodMap), config({ architectures: ['LlamaForCausalLM'] })]);
    expect(m.problems).toEqual([]);
    expect(m.tensors.size).toBe(4);
    const cat = buildCatalogue(m);
    expect(cat.types.map((t) => t.name)).toEqual(['lm_head', 'mlp.up_proj', 'model.embed_tokens']);
    expect(cat.types[1]!.modules.map((x) => x.name)).toEqual(['model.layers.0.mlp.up_proj', 'model.layers.1.mlp.up_proj']);
    expect(cat.architecture).toBe('LlamaForCausalLM');
  });

  it('a missing shard names the index and the shard', async () => {
    const m = await loadModelFolder([a(), index(goodMap)]);
    expect(m.problems.map((p) => p.describe())).toContain(
      'model.safetensors.index.json: weight_map names "model-00002-of-00002.safetensors" (for "model.layers.1.mlp.up_proj.weight"), which is not in the folder',
    );
    expect(m.tensors.size).toBe(2); // the rest is still read
  });

  it('a tensor in the wrong file names both', async () => {
    const m = await loadModelFolder([a(), b(), index({ ...goodMap, 'lm_head.weight': 'model-00001-of-00002.safetensors' })]);
    expect(m.problems.map((p) => p.describe())).toEqual([
      'model.safetensors.index.json: weight_map puts "lm_head.weight" in model-00001-of-00002.safetensors, but it is in model-00002-of-00002.safetensors',
    ]);
  });

  it('a tensor missing from the weight_map is reported', async () => {
    const map: Record<string, string> = { ...goodMap };
    delete map['lm_head.weight'];
    const m = await loadModelFolder([a(), b(), index(map)]);
    expect(m.problems.map((p) => p.code)).toEqual(['index-mismatch']);
    expect(m.problems[0]!.file).toBe('model-00002-of-00002.safetensors');
  });

  it('the same tensor in two shards names both files', async () => {
    const dup = shard('model-00002-of-00002.safetensors', [f32('model.layers.0.mlp.up_proj.weight', [4, 2])]);
    const m = await loadModelFolder([a(), dup]);
    expect(m.problems.map((p) => p.describe())).toEqual([
      'model-00002-of-00002.safetensors: tensor "model.layers.0.mlp.up_proj.weight" is also in model-00001-of-00002.safetensors: each tensor must be in one shard only',
    ]);
  });

  it.each(['../outside.safetensors', '/etc/passwd', 'C:\\x.safetensors', 'sub/../../x.safetensors'])(
    'an index path climbing out (%s) is refused',
    async (p) => {
      const m = await loadModelFolder([a(), index({ ...goodMap, 'lm_head.weight': p })]);
      expect(m.problems.some((x) => x.code === 'index-path' && x.file === 'model.safetensors.index.json')).toBe(true);
    },
  );

  it('an index that is not JSON', async () => {
    const m = await loadModelFolder([a(), new MemorySource(text('{"weight_map": '), 'model.safetensors.index.json')]);
    expect(m.problems.map((p) => p.code)).toEqual(['index-json']);
  });
});

describe('folders without usable weights', () => {
  it('a Git LFS pointer named .safetensors', async () => {
    const m = await loadModelFolder([new MemorySource(text('version https://git-lfs.github.com/spec/v1\noid sha256:00\nsize 1000\n'), 'model.safetensors')]);
    expect(m.problems[0]!.describe()).toMatch(/^model\.safetensors: is a Git LFS pointer/);
  });
  it('only a PyTorch .bin', async () => {
    const m = await loadModelFolder([new MemorySource(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0]), 'pytorch_model.bin'), config({})]);
    expect(m.problems.map((p) => p.describe())).toContain(
      'pytorch_model.bin: is a zip archive (a PyTorch checkpoint?), not safetensors: convert it to safetensors first',
    );
  });
  it('a GGUF file', async () => {
    const m = await loadModelFolder([new MemorySource(text('GGUF\u0003\u0000\u0000\u0000'), 'model.gguf')]);
    expect(m.problems[0]!.code).toBe('gguf');
  });
  it('an empty folder', async () => {
    const m = await loadModelFolder([]);
    expect(m.problems.map((p) => p.code)).toEqual(['no-weights']);
  });
  it('an invalid config.json', async () => {
    const m = await loadModelFolder([shard('model.safetensors', [f32('a.weight', [2, 2])]), new MemorySource(text('{oops'), 'config.json')]);
    expect(m.problems.map((p) => p.describe())[0]).toMatch(/^config\.json: is not a valid JSON object/);
  });
});

describe('tied heads and quantized weights', () => {
  const base = [f32('model.embed_tokens.weight', [16, 4]), f32('model.layers.0.self_attn.q_proj.weight', [4, 4])];
  it('tie_word_embeddings: true adds lm_head scored from the embedding', async () => {
    const cat = buildCatalogue(await loadModelFolder([shard('model.safetensors', base), config({ tie_word_embeddings: true, vocab_size: 16 })]));
    const head = cat.modules.find((m) => m.name === 'lm_head')!;
    expect(head.tiedTo).toBe('model.embed_tokens');
    expect(head.weight.name).toBe('model.embed_tokens.weight');
    expect(cat.types.find((t) => t.name === 'lm_head')!.defaultSelected).toBe(true);
    expect(cat.types.find((t) => t.name === 'model.embed_tokens')!.defaultSelected).toBe(false);
  });
  it('tie_word_embeddings: true with lm_head.weight stored too: scored from the embedding, as transformers re-ties it after loading', async () => {
    const withHead = [...base, f32('lm_head.weight', [16, 4])];
    const cat = buildCatalogue(await loadModelFolder([shard('model.safetensors', withHead), config({ tie_word_embeddings: true, vocab_size: 16 })]));
    expect(cat.modules.filter((m) => m.name === 'lm_head').map((m) => m.weight.name)).toEqual(['model.embed_tokens.weight']);
    expect(cat.tiedHead).toBe(true);
    // saying nothing, or false, keeps the stored head
    for (const tie of [{}, { tie_word_embeddings: false }]) {
      const own = buildCatalogue(await loadModelFolder([shard('model.safetensors', withHead), config({ vocab_size: 16, ...tie })]));
      expect(own.modules.filter((m) => m.name === 'lm_head').map((m) => m.weight.name)).toEqual(['lm_head.weight']);
    }
  });
  it('tie_word_embeddings: false adds nothing', async () => {
    const cat = buildCatalogue(await loadModelFolder([shard('model.safetensors', base), config({ tie_word_embeddings: false })]));
    expect(cat.modules.some((m) => m.name === 'lm_head')).toBe(false);
  });
  it('GPTQ qweight modules are recognised, listed and not scorable', async () => {
    const q = [
      { name: 'model.layers.0.mlp.down_proj.qweight', dtype: 'I32' as const, shape: [2, 8] },
      { name: 'model.layers.0.mlp.down_proj.qzeros', dtype: 'I32' as const, shape: [1, 1] },
      { name: 'model.layers.0.mlp.down_proj.scales', dtype: 'F16' as const, shape: [1, 8] },
    ];
    const cat = buildCatalogue(await loadModelFolder([shard('model.safetensors', [...base, ...q]), config({ quantization_config: { quant_method: 'gptq' } })]));
    const m = cat.modules.find((x) => x.name === 'model.layers.0.mlp.down_proj')!;
    expect(m.unsupported).toMatch(/GPTQ\/AWQ.*gptq.*not supported yet/);
    expect(cat.types.find((t) => t.name === 'mlp.down_proj')!.defaultSelected).toBe(false);
    expect(cat.quantization).toBe('gptq');
  });
  it('integer .weight tensors (bitsandbytes int8) are not scored as floats', async () => {
    const t = [
      { name: 'model.layers.0.mlp.up_proj.weight', dtype: 'I8' as const, shape: [4, 4] },
      { name: 'model.layers.0.mlp.up_proj.SCB', dtype: 'F32' as const, shape: [4] },
    ];
    const cat = buildCatalogue(await loadModelFolder([shard('model.safetensors', t)]));
    expect(cat.modules[0]!.unsupported).toMatch(/bitsandbytes int8/);
  });
});

describe('base-model checkpoints get the prefix transformers gives them', () => {
  const gpt2 = [
    f32('wte.weight', [50, 8]),
    f32('wpe.weight', [16, 8]),
    f32('h.0.ln_1.weight', [8]),
    f32('h.0.attn.c_attn.weight', [8, 24]),
    f32('h.0.attn.c_proj.weight', [8, 8]),
    f32('h.0.mlp.c_fc.weight', [8, 32]),
    f32('h.0.mlp.c_proj.weight', [32, 8]),
    f32('ln_f.weight', [8]),
  ];
  it('GPT-2 saved without `transformer.`: modules named as GPT2LMHeadModel names them, head tied to wte', async () => {
    const cat = buildCatalogue(
      await loadModelFolder([shard('model.safetensors', gpt2), config({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], vocab_size: 50 })]),
    );
    expect(cat.modules.map((m) => m.name)).toContain('transformer.h.0.attn.c_attn');
    expect(cat.modules.find((m) => m.name === 'lm_head')?.tiedTo).toBe('transformer.wte');
    expect(cat.types.filter((t) => t.defaultSelected).map((t) => t.name)).toEqual(['attn.c_attn', 'attn.c_proj', 'lm_head', 'mlp.c_fc', 'mlp.c_proj']);
    expect(cat.types.map((t) => t.name)).toContain('transformer.ln_f');
    // Reading still uses the file's own tensor names.
    expect(cat.modules.find((m) => m.name === 'transformer.h.0.attn.c_attn')!.weight.name).toBe('h.0.attn.c_attn.weight');
  });
  it('the prefix follows model_type, as AutoModelForCausalLM does, whatever `architectures` says', async () => {
    for (const extra of [{}, { architectures: ['GPT2Model'] }]) {
      const cat = buildCatalogue(await loadModelFolder([shard('model.safetensors', gpt2), config({ model_type: 'gpt2', vocab_size: 50, ...extra })]));
      expect(cat.modules.map((m) => m.name)).toContain('transformer.h.0.attn.c_attn');
      expect(cat.modules.find((m) => m.name === 'lm_head')?.tiedTo).toBe('transformer.wte');
    }
    // an unknown type (or a key of Object.prototype) adds nothing
    for (const model_type of ['not-a-model', 'constructor']) {
      const cat = buildCatalogue(await loadModelFolder([shard('model.safetensors', gpt2), config({ model_type })]));
      expect(cat.modules.map((m) => m.name)).toContain('h.0.attn.c_attn');
    }
  });
  it("Mamba: the tied head is the backbone's `embeddings`", async () => {
    const mamba = [f32('backbone.embeddings.weight', [50, 8]), f32('backbone.layers.0.mixer.in_proj.weight', [32, 8]), f32('backbone.norm_f.weight', [8])];
    const cat = buildCatalogue(
      await loadModelFolder([shard('model.safetensors', mamba), config({ model_type: 'mamba', tie_word_embeddings: true, vocab_size: 50 })]),
    );
    expect(cat.modules.find((m) => m.name === 'lm_head')?.tiedTo).toBe('backbone.embeddings');
    expect(cat.types.filter((t) => t.defaultSelected).map((t) => t.name)).toEqual(['lm_head', 'mixer.in_proj']);
  });
  it('keys that already carry the prefix are left alone', async () => {
    const prefixed = gpt2.map((t) => ({ ...t, name: 'transformer.' + t.name }));
    const cat = buildCatalogue(
      await loadModelFolder([shard('model.safetensors', prefixed), config({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'] })]),
    );
    expect(cat.modules.map((m) => m.name)).toContain('transformer.h.0.attn.c_attn');
    expect(cat.modules.map((m) => m.name)).not.toContain('transformer.transformer.h.0.attn.c_attn');
  });
  it('OPT saved as `decoder.…` becomes `model.decoder.…`', async () => {
    const opt = [
      f32('decoder.embed_tokens.weight', [50, 8]),
      f32('decoder.embed_positions.weight', [18, 8]),
      f32('decoder.layers.0.self_attn.q_proj.weight', [8, 8]),
    ];
    const cat = buildCatalogue(await loadModelFolder([shard('model.safetensors', opt), config({ model_type: 'opt', architectures: ['OPTForCausalLM'] })]));
    expect(cat.modules.map((m) => m.name)).toEqual([
      'lm_head',
      'model.decoder.embed_positions',
      'model.decoder.embed_tokens',
      'model.decoder.layers.0.self_attn.q_proj',
    ]);
    expect(cat.modules[0]!.tiedTo).toBe('model.decoder.embed_tokens');
  });
});
