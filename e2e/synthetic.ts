/** Small synthetic Llama-shaped checkpoints written at test time (random BF16 weights, sharded). */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SyntheticOptions {
  layers: number;
  shards: number;
  hidden: number;
  intermediate: number;
  vocab: number;
}

export function writeSyntheticModel(dir: string, o: SyntheticOptions): void {
  mkdirSync(dir, { recursive: true });
  let seed = 12345;
  const rnd = () => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed / 0x7fffffff - 0.5;
  };
  const H = o.hidden;
  const tensors: [string, number[]][] = [['model.embed_tokens.weight', [o.vocab, H]]];
  for (let l = 0; l < o.layers; l++) {
    const mats: [string, number[]][] = [
      ['self_attn.q_proj', [H, H]],
      ['self_attn.k_proj', [H / 2, H]],
      ['self_attn.v_proj', [H / 2, H]],
      ['self_attn.o_proj', [H, H]],
      ['mlp.gate_proj', [o.intermediate, H]],
      ['mlp.up_proj', [o.intermediate, H]],
      ['mlp.down_proj', [H, o.intermediate]],
      ['input_layernorm', [H]],
      ['post_attention_layernorm', [H]],
    ];
    for (const [n, s] of mats) tensors.push([`model.layers.${l}.${n}.weight`, s]);
  }
  tensors.push(['model.norm.weight', [H]], ['lm_head.weight', [o.vocab, H]]);
  const per = Math.ceil(tensors.length / o.shards);
  const weightMap: Record<string, string> = {};
  const f32 = new Float32Array(1);
  const u16 = new Uint16Array(f32.buffer);
  for (let s = 0; s < o.shards; s++) {
    const part = tensors.slice(s * per, (s + 1) * per);
    const name = `model-${String(s + 1).padStart(5, '0')}-of-${String(o.shards).padStart(5, '0')}.safetensors`;
    const header: Record<string, unknown> = {};
    const bufs: Buffer[] = [];
    let off = 0;
    for (const [n, shape] of part) {
      const count = shape.reduce((a, b) => a * b, 1);
      const b = Buffer.alloc(count * 2);
      const scale = 0.02 * (1 + ((n.length * 7) % 5));
      for (let i = 0; i < count; i++) {
        f32[0] = rnd() * scale;
        b.writeUInt16LE(u16[1]!, i * 2);
      }
      header[n] = { dtype: 'BF16', shape, data_offsets: [off, off + b.length] };
      off += b.length;
      bufs.push(b);
      weightMap[n] = name;
    }
    const json = JSON.stringify(header);
    const h = Buffer.from(json + ' '.repeat((8 - (Buffer.byteLength(json) % 8)) % 8));
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    writeFileSync(join(dir, name), Buffer.concat([len, h, ...bufs]));
  }
  writeFileSync(join(dir, 'model.safetensors.index.json'), JSON.stringify({ metadata: {}, weight_map: weightMap }, null, 2));
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({
      architectures: ['LlamaForCausalLM'],
      model_type: 'llama',
      vocab_size: o.vocab,
      hidden_size: H,
      num_hidden_layers: o.layers,
      tie_word_embeddings: false,
    }),
  );
  // What a model folder also holds and the page must skip.
  writeFileSync(join(dir, 'README.md'), '# synthetic\n');
  writeFileSync(join(dir, 'tokenizer.json'), '{}');
}
