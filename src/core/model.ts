/**
 * A model folder: config.json, one or many *.safetensors, an optional
 * model.safetensors.index.json. Reads headers only, checks that the files agree with each
 * other, and lists every problem with the file it concerns. Problems do not stop the rest of
 * the folder from being read: the page shows them next to what could be read, the CLI refuses
 * to scan while there are any.
 */
import { type ByteSource, readText } from './bytesource.js';
import { SpectroscopeError, quoteForMessage } from './errors.js';
import { type SafetensorsHeader, type TensorInfo, readSafetensorsHeader, sniffWrongFormat } from './safetensors.js';

export interface ModelConfig {
  architectures?: string[];
  model_type?: string;
  tie_word_embeddings?: boolean;
  vocab_size?: number;
  quantization_config?: { quant_method?: string } & Record<string, unknown>;
  [key: string]: unknown;
}

export interface ShardIndex {
  file: string;
  weightMap: Map<string, string>;
}

export interface ModelFolder {
  config: ModelConfig | null;
  index: ShardIndex | null;
  shards: SafetensorsHeader[];
  /** Every tensor of every readable shard, by name. */
  tensors: Map<string, TensorInfo>;
  /** Tensor names in the order the shards list them (shards in index/name order). */
  tensorOrder: string[];
  problems: SpectroscopeError[];
  /** The byte sources by relative name, for reading tensors later. */
  sources: Map<string, ByteSource>;
}

const WEIGHT_OTHER_FORMATS = /\.(bin|pt|pth|ckpt|gguf|pkl|h5|msgpack)$/i;
const HEADER_CONCURRENCY = 8;

/** Natural order: shard 2 before shard 10. */
const NATURAL = new Intl.Collator('en', { numeric: true });
export function naturalCompare(a: string, b: string): number {
  return NATURAL.compare(a, b);
}

function isIndexName(name: string): boolean {
  return /(^|\/)[^/]*\.safetensors\.index\.json$/.test(name);
}

function baseName(name: string): string {
  return name.slice(name.lastIndexOf('/') + 1);
}

/** A weight_map path must stay inside the folder: no absolute paths, no `..`. */
function checkIndexPath(indexFile: string, p: string): SpectroscopeError | null {
  if (p.startsWith('/') || p.startsWith('\\') || /^[a-zA-Z]:/.test(p) || p.split(/[/\\]/).some((s) => s === '..')) {
    return new SpectroscopeError('index-path', indexFile, `weight_map names ${quoteForMessage(p)}, a path outside the model folder; refusing to read it`);
  }
  return null;
}

export async function loadModelFolder(files: ByteSource[]): Promise<ModelFolder> {
  const problems: SpectroscopeError[] = [];
  const sources = new Map<string, ByteSource>();
  for (const f of files) sources.set(f.name, f);

  // config.json at the shallowest level.
  let config: ModelConfig | null = null;
  const configSrc = files.filter((f) => baseName(f.name) === 'config.json').sort((a, b) => a.name.split('/').length - b.name.split('/').length)[0];
  if (configSrc) {
    try {
      const parsed: unknown = JSON.parse(await readText(configSrc, 16 * 1024 * 1024));
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not a JSON object');
      config = parsed as ModelConfig;
    } catch (e) {
      problems.push(new SpectroscopeError('config-json', configSrc.name, `is not a valid JSON object (${(e as Error).message.split('\n')[0]})`));
    }
  }

  // The shard index.
  let index: ShardIndex | null = null;
  const indexSrcs = files.filter((f) => isIndexName(f.name)).sort((a, b) => naturalCompare(a.name, b.name));
  const indexSrc = indexSrcs.find((f) => baseName(f.name) === 'model.safetensors.index.json') ?? indexSrcs[0];
  if (indexSrc) index = await readIndex(indexSrc, problems);

  // Shards: every *.safetensors; a wrong-format file named so is reported as what it is.
  const shardSrcs = files.filter((f) => /\.safetensors$/i.test(f.name)).sort((a, b) => naturalCompare(a.name, b.name));
  const shards: SafetensorsHeader[] = [];
  const results = await mapLimit(shardSrcs, HEADER_CONCURRENCY, async (src) => {
    try {
      return await readSafetensorsHeader(src);
    } catch (e) {
      if (e instanceof SpectroscopeError) return e;
      return new SpectroscopeError('io', src.name, `could not be read (${(e as Error).message})`);
    }
  });
  for (const r of results) {
    if (r instanceof SpectroscopeError) problems.push(r);
    else shards.push(r);
  }

  if (shardSrcs.length === 0) {
    const others = files.filter((f) => WEIGHT_OTHER_FORMATS.test(f.name));
    for (const o of others) {
      const head = await o.read(0, Math.min(o.size, 64));
      problems.push(
        sniffWrongFormat(o.name, head) ??
          new SpectroscopeError('pytorch-pickle', o.name, 'is not a safetensors file; Spectroscope reads Hugging Face safetensors: convert the weights first'),
      );
    }
    if (!index) {
      problems.push(
        new SpectroscopeError(
          'no-weights',
          '',
          others.length
            ? 'no *.safetensors file in the folder'
            : 'no *.safetensors file in the folder: open a Hugging Face model folder (config.json and *.safetensors)',
        ),
      );
    }
  }

  // Across shards: each tensor once.
  const tensors = new Map<string, TensorInfo>();
  const tensorOrder: string[] = [];
  const shardOrder = index ? orderByIndex(shards, index) : shards;
  for (const s of shardOrder) {
    for (const t of s.tensors) {
      const prev = tensors.get(t.name);
      if (prev) {
        problems.push(
          new SpectroscopeError('duplicate-tensor', t.file, `tensor ${quoteForMessage(t.name)} is also in ${prev.file}: each tensor must be in one shard only`),
        );
        continue;
      }
      tensors.set(t.name, t);
      tensorOrder.push(t.name);
    }
  }

  // The index and the shards must agree.
  if (index) {
    const dir = index.file.includes('/') ? index.file.slice(0, index.file.lastIndexOf('/') + 1) : '';
    const shardByName = new Map(shards.map((s) => [s.file, s]));
    const failedShards = new Set(problems.map((p) => p.file));
    const missingReported = new Set<string>();
    for (const [tensor, rel] of index.weightMap) {
      const bad = checkIndexPath(index.file, rel);
      if (bad) {
        if (!missingReported.has(rel)) problems.push(bad);
        missingReported.add(rel);
        continue;
      }
      const file = dir + rel.replace(/^\.\//, '');
      if (!shardByName.has(file)) {
        if (!missingReported.has(file) && !failedShards.has(file)) {
          problems.push(
            new SpectroscopeError(
              'index-missing-shard',
              index.file,
              `weight_map names ${quoteForMessage(rel)} (for ${quoteForMessage(tensor)}), which is not in the folder`,
            ),
          );
        }
        missingReported.add(file);
        continue;
      }
      const t = tensors.get(tensor);
      if (!t) {
        problems.push(
          new SpectroscopeError('index-mismatch', index.file, `weight_map puts ${quoteForMessage(tensor)} in ${rel}, but ${rel} has no such tensor`),
        );
      } else if (t.file !== file) {
        problems.push(new SpectroscopeError('index-mismatch', index.file, `weight_map puts ${quoteForMessage(tensor)} in ${rel}, but it is in ${t.file}`));
      }
    }
    for (const t of tensors.values()) {
      if (!index.weightMap.has(t.name)) {
        problems.push(new SpectroscopeError('index-mismatch', t.file, `tensor ${quoteForMessage(t.name)} is not in ${index.file}'s weight_map`));
      }
    }
  }

  return { config, index, shards, tensors, tensorOrder, problems: dedupe(problems), sources };
}

async function readIndex(src: ByteSource, problems: SpectroscopeError[]): Promise<ShardIndex | null> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readText(src, 256 * 1024 * 1024));
  } catch (e) {
    const head = await src.read(0, Math.min(src.size, 64));
    problems.push(
      sniffWrongFormat(src.name, head) ?? new SpectroscopeError('index-json', src.name, `is not valid JSON (${(e as Error).message.split('\n')[0]})`),
    );
    return null;
  }
  const wm = (parsed as { weight_map?: unknown } | null)?.weight_map;
  if (typeof wm !== 'object' || wm === null || Array.isArray(wm)) {
    problems.push(new SpectroscopeError('index-json', src.name, 'has no "weight_map" object'));
    return null;
  }
  const weightMap = new Map<string, string>();
  for (const [k, v] of Object.entries(wm as Record<string, unknown>)) {
    if (typeof v !== 'string') {
      problems.push(new SpectroscopeError('index-json', src.name, `weight_map value for ${quoteForMessage(k)} is not a file name`));
      return null;
    }
    weightMap.set(k, v);
  }
  return { file: src.name, weightMap };
}

function orderByIndex(shards: SafetensorsHeader[], index: ShardIndex): SafetensorsHeader[] {
  const first = new Map<string, number>();
  let i = 0;
  for (const f of index.weightMap.values()) if (!first.has(f)) first.set(f, i++);
  const rank = (s: SafetensorsHeader) => first.get(baseName(s.file)) ?? Number.MAX_SAFE_INTEGER;
  return shards.slice().sort((a, b) => rank(a) - rank(b) || naturalCompare(a.file, b.file));
}

function dedupe(problems: SpectroscopeError[]): SpectroscopeError[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const k = p.describe();
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

export async function mapLimit<T, R>(items: T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
