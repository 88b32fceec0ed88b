/**
 * Broken and hostile model folders, each with what a user must be told. Shared by the CLI tests
 * and the browser tests, so both front ends are held to the same messages.
 */
import { assemble, encodeFloats, headerObject, randomNormal, writeSafetensors, type TensorSpec } from './safetensors-writer.js';

export interface HostileCase {
  name: string;
  /** Relative path → contents. */
  files: Record<string, Uint8Array | string>;
  /** Extra small files to add (the 10,000-files case), generated on write. */
  fillerFiles?: number;
  /** 'error': the scan must refuse with a message matching `message` naming `file`; 'result': it must succeed. */
  outcome: 'error' | 'result';
  message: RegExp;
  /** The file the message must name ('' when none). */
  file?: string;
}

const CONFIG = JSON.stringify({ architectures: ['LlamaForCausalLM'], model_type: 'llama', tie_word_embeddings: false });
const q = (l: number, rows = 8, cols = 6, seed = l + 1): TensorSpec => ({
  name: `model.layers.${l}.self_attn.q_proj.weight`,
  dtype: 'F32',
  shape: [rows, cols],
  data: encodeFloats(randomNormal(rows * cols, seed, 0.02), 'F32'),
});
const good = () => writeSafetensors([q(0), q(1)]);
const withHeader = (h: unknown, dataLen: number) => assemble(JSON.stringify(h), new Uint8Array(dataLen));
const lenField = (bytes: Uint8Array, value: bigint) => {
  const b = bytes.slice();
  new DataView(b.buffer).setBigUint64(0, value, true);
  return b;
};
const F32 = (shape: number[], data_offsets: number[]) => ({ dtype: 'F32', shape, data_offsets });
const model = (st: Uint8Array, extra: Record<string, Uint8Array | string> = {}) => ({ 'config.json': CONFIG, 'model.safetensors': st, ...extra });
const err = (name: string, files: HostileCase['files'], message: RegExp, file = 'model.safetensors'): HostileCase => ({
  name,
  files,
  outcome: 'error',
  message,
  file,
});
const ok = (name: string, files: HostileCase['files'], message: RegExp): HostileCase => ({ name, files, outcome: 'result', message });

function matrix(values: number[], rows: number, cols: number, name = 'model.layers.0.self_attn.q_proj.weight'): TensorSpec {
  return { name, dtype: 'F32', shape: [rows, cols], data: encodeFloats(Float32Array.from(values), 'F32') };
}

export function hostileCases(): HostileCase[] {
  const nan = Array.from({ length: 48 }, (_, i) => (i === 7 ? NaN : Math.sin(i)));
  const inf = Array.from({ length: 48 }, (_, i) => (i === 3 ? Infinity : Math.cos(i)));
  const bigSpaces = new Uint8Array(8 + 100_000_000).fill(0x20);
  new DataView(bigSpaces.buffer).setBigUint64(0, 100_000_000n, true);
  const notUtf8Name = assemble(`{"model.layers.0.q\u00ff.weight":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}`, new Uint8Array(4));
  // Replace the 2-byte UTF-8 encoding of ÿ (c3 bf) with a lone 0xff byte + space: invalid UTF-8.
  const i = notUtf8Name.findIndex((b, k) => b === 0xc3 && notUtf8Name[k + 1] === 0xbf);
  notUtf8Name[i] = 0xff;
  notUtf8Name[i + 1] = 0x20;
  const html = '<img src=x onerror=alert(1)><script>alert(2)</script>';
  const idx = (map: Record<string, string>) => JSON.stringify({ metadata: {}, weight_map: map });

  return [
    err('header length over 100 MB', model(lenField(good(), 100_000_001n)), /over the 100,000,000-byte limit/),
    err('header length past the end', model(lenField(good(), 1_000_000n)), /runs past the end/),
    err('header length 2^64-1', model(lenField(good(), 0xffffffffffffffffn)), /over the 100,000,000-byte limit/),
    err('header of 100 MB of spaces', model(bigSpaces), /does not start with "\{"/),
    err('header not UTF-8 (a tensor name)', model(notUtf8Name), /not valid UTF-8/),
    err('header not JSON', model(assemble('{"a": [1, 2', new Uint8Array(0))), /not valid JSON/),
    err('header a JSON array', model(assemble('[]', new Uint8Array(0))), /does not start with "\{"|not a JSON object/),
    err('unknown dtype', model(withHeader({ 'a.weight': { dtype: 'Q4_K', shape: [1], data_offsets: [0, 1] } }, 1)), /unknown dtype "Q4_K"/),
    err('negative shape', model(withHeader({ 'a.weight': F32([-2, 2], [0, 16]) }, 16)), /non-negative integer/),
    err('shape overflowing 2^53', model(withHeader({ 'a.weight': F32([2 ** 31, 2 ** 31, 2 ** 31], [0, 4]) }, 4)), /overflows/),
    err('offsets past the end', model(withHeader({ 'a.weight': F32([4], [0, 16]) }, 8)), /truncated/),
    err('size not elements × dtype', model(withHeader({ 'a.weight': F32([4], [0, 12]) }, 12)), /needs 16 bytes but data_offsets span 12/),
    err('gap between tensors', model(withHeader({ 'a.weight': F32([1], [0, 4]), 'b.weight': F32([1], [8, 12]) }, 12)), /contiguous/),
    err('overlapping tensors', model(withHeader({ 'a.weight': F32([2], [0, 8]), 'b.weight': F32([2], [4, 12]) }, 12)), /contiguous/),
    err('bytes after the last tensor', model(withHeader(headerObject([{ name: 'a.weight', dtype: 'F32', shape: [1] }]), 9)), /bytes after the last tensor/),
    err('metadata not strings', model(withHeader({ __metadata__: { format: ['pt'] } }, 0)), /__metadata__/),
    err('truncated shard', model(good().slice(0, 150)), /truncated/),
    err(
      'Git LFS pointer',
      model(new TextEncoder().encode('version https://git-lfs.github.com/spec/v1\noid sha256:4d7a\nsize 4976698672\n')),
      /Git LFS pointer.*git lfs pull/,
    ),
    err(
      'PyTorch zip checkpoint',
      { 'config.json': CONFIG, 'pytorch_model.bin': new Uint8Array([0x50, 0x4b, 3, 4, 20, 0, 0, 0, 0, 0]) },
      /zip archive.*convert it to safetensors/,
      'pytorch_model.bin',
    ),
    err('pickle checkpoint', { 'config.json': CONFIG, 'model.pt': new Uint8Array([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]) }, /Python pickle/, 'model.pt'),
    err('GGUF file', { 'model.gguf': new Uint8Array([0x47, 0x47, 0x55, 0x46, 3, 0, 0, 0]) }, /GGUF/, 'model.gguf'),
    err(
      'index path climbing out',
      {
        'config.json': CONFIG,
        'model.safetensors': good(),
        'model.safetensors.index.json': idx({
          'model.layers.0.self_attn.q_proj.weight': '../outside.safetensors',
          'model.layers.1.self_attn.q_proj.weight': 'model.safetensors',
        }),
      },
      /outside the model folder/,
      'model.safetensors.index.json',
    ),
    err(
      'index absolute path',
      {
        'config.json': CONFIG,
        'model.safetensors': good(),
        'model.safetensors.index.json': idx({
          'model.layers.0.self_attn.q_proj.weight': '/etc/passwd',
          'model.layers.1.self_attn.q_proj.weight': 'model.safetensors',
        }),
      },
      /outside the model folder/,
      'model.safetensors.index.json',
    ),
    err(
      'index naming a missing shard',
      {
        'config.json': CONFIG,
        'model-00001-of-00002.safetensors': good(),
        'model.safetensors.index.json': idx({
          'model.layers.0.self_attn.q_proj.weight': 'model-00001-of-00002.safetensors',
          'model.layers.1.self_attn.q_proj.weight': 'model-00001-of-00002.safetensors',
          'x.weight': 'model-00002-of-00002.safetensors',
        }),
      },
      /model-00002-of-00002\.safetensors.*not in the folder/,
      'model.safetensors.index.json',
    ),
    err(
      'index not JSON',
      { 'config.json': CONFIG, 'model.safetensors': good(), 'model.safetensors.index.json': '{"weight_map": {' },
      /not valid JSON/,
      'model.safetensors.index.json',
    ),
    err(
      'same tensor in two shards',
      { 'config.json': CONFIG, 'model-00001-of-00002.safetensors': good(), 'model-00002-of-00002.safetensors': writeSafetensors([q(1)]) },
      /also in model-00001-of-00002\.safetensors/,
      'model-00002-of-00002.safetensors',
    ),
    err('config.json not JSON', { 'config.json': '{"architectures": [', 'model.safetensors': good() }, /not a valid JSON object/, 'config.json'),
    err('a folder of 10,000 small files and no weights', { 'README.md': 'hello' }, /no \*\.safetensors file/, ''),
    ok(
      'NaN weights in one matrix',
      model(writeSafetensors([matrix(nan, 8, 6), q(1)])),
      /model\.layers\.0\.self_attn\.q_proj not scored: weights contain NaN or Inf/,
    ),
    ok(
      'Inf weights in one matrix',
      model(writeSafetensors([matrix(inf, 8, 6), q(1)])),
      /model\.layers\.0\.self_attn\.q_proj not scored: weights contain NaN or Inf/,
    ),
    ok('an all-zero matrix', model(writeSafetensors([matrix(new Array(48).fill(0), 8, 6), q(1)])), /scored 2 of 2/),
    ok(
      '1×N and N×1 matrices',
      model(writeSafetensors([matrix([1, 2, 3, 4, 5, 6], 1, 6), matrix([1, 2, 3, 4, 5, 6], 6, 1, 'model.layers.1.self_attn.q_proj.weight')])),
      /scored 2 of 2/,
    ),
    ok(
      'an empty tensor',
      model(writeSafetensors([{ name: 'model.layers.0.self_attn.q_proj.weight', dtype: 'F32', shape: [0, 6] }, q(1)])),
      /model\.layers\.0\.self_attn\.q_proj not scored: .*empty/,
    ),
    ok(
      'names and metadata holding HTML and script',
      model(
        writeSafetensors(
          [
            { ...q(0), name: `model.layers.0.${html}.weight` },
            { ...q(1), name: `model.layers.1.${html}.weight` },
          ],
          { format: 'pt', note: html },
        ),
      ),
      /scored 2 of 2/,
    ),
  ].map((c) => (c.name.startsWith('a folder of 10,000') ? { ...c, fillerFiles: 10_000 } : c));
}
