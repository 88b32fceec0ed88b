/**
 * The model catalogue: the modules Spectrum scores, their types and layers, as the reference
 * derives them from `model.named_modules()` — here from tensor names alone, without the model's
 * code.
 *
 * Grouping is by the exact type string; the reference matches types by substring, which only
 * differs when one type is a substring of another module's name (see the README).
 */
import { type Dtype, type FloatDtype, isFloatDtype } from './dtype.js';
import { type ModelConfig, type ModelFolder, naturalCompare } from './model.js';
import type { TensorInfo } from './safetensors.js';

export interface ModuleInfo {
  /** Tensor name without `.weight`, e.g. `model.layers.3.mlp.down_proj`. */
  name: string;
  type: string;
  /** The first all-digit part of the name (the layer), or null. */
  layer: number | null;
  /** The tensor scored; for a tied lm_head, the embedding's tensor. */
  weight: TensorInfo;
  /** The 2-D view the score is computed on (1-D weights are 1×d; more dimensions: the last two). */
  rows: number;
  cols: number;
  /** A weight with more than two dimensions is a batch of rows×cols matrices, as torch's svdvals
   *  takes it: the dimensions before the last two. Absent for 1-D and 2-D weights. */
  batchShape?: number[];
  dtype: Dtype;
  /** Set when lm_head is scored from the tied embedding. */
  tiedTo?: string;
  /** Why this module cannot be scored (quantized, integer, a scalar); undefined when it can. */
  unsupported?: string;
}

export interface TypeInfo {
  name: string;
  modules: ModuleInfo[];
  /** Every module's weight is 2-D. */
  twoD: boolean;
  embedding: boolean;
  /** In the default selection: 2-D, not an embedding, scorable. */
  defaultSelected: boolean;
  /** Distinct shapes, e.g. ['4096×14336']. */
  shapes: string[];
}

export interface Catalogue {
  /** In the reference's scan order (see sortTypes). */
  types: TypeInfo[];
  modules: ModuleInfo[];
  layers: number[];
  tiedHead: boolean;
  quantization: string | null;
  architecture: string | null;
}

const DIGITS = /^\p{Nd}+$/u;

/** The reference's type rule: everything after the first all-digit part, or the name itself. */
export function moduleType(moduleName: string): string {
  const parts = moduleName.split('.');
  const i = parts.findIndex((p) => DIGITS.test(p));
  return i === -1 ? moduleName : parts.slice(i + 1).join('.');
}

export function moduleLayer(moduleName: string): number | null {
  const p = moduleName.split('.').find((x) => DIGITS.test(x));
  return p === undefined ? null : Number(p);
}

/** An embedding: last name part contains `embed`, or is `wte`, `wpe` or `shared`. */
export function isEmbeddingModule(moduleName: string): boolean {
  const last = moduleName.slice(moduleName.lastIndexOf('.') + 1);
  // GPT-NeoX's output head `embed_out` is an nn.Linear, which the reference's default selection
  // (linear layers) includes, despite its name.
  if (last === 'embed_out') return false;
  return last.includes('embed') || last === 'wte' || last === 'wpe' || last === 'shared';
}

/**
 * The reference's `sort_weight_types`: group by the first dotted part, groups in sorted order,
 * each group sorted. (Python compares strings by code point, as `<` does on JS strings of
 * BMP characters; compare by code point explicitly to be exact for astral ones too.)
 */
export function sortTypes(types: string[]): string[] {
  const cmp = (a: string, b: string) => {
    const ca = Array.from(a, (c) => c.codePointAt(0)!);
    const cb = Array.from(b, (c) => c.codePointAt(0)!);
    for (let i = 0; i < Math.min(ca.length, cb.length); i++) if (ca[i] !== cb[i]) return ca[i]! - cb[i]!;
    return ca.length - cb.length;
  };
  const cat = (t: string) => t.split('.')[0]!;
  return types.slice().sort((a, b) => cmp(cat(a), cat(b)) || cmp(a, b));
}

/** Sibling tensors that mark a module's weight as packed or scaled (not plain floats). */
const QUANT_SUFFIXES: [RegExp, string][] = [
  [/\.qweight$/, 'GPTQ/AWQ packed weights (qweight)'],
  [/\.weight_packed$/, 'compressed-tensors packed weights'],
  [/\.SCB$/, 'bitsandbytes int8 weights'],
  [/\.weight\.(absmax|quant_map|quant_state.*|nested_absmax)$/, 'bitsandbytes 4-bit weights'],
  [/\.weight_scale(_inv)?$/, 'scaled FP8/int weights (weight_scale)'],
];

function quantizedModules(names: Iterable<string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const n of names) {
    for (const [re, why] of QUANT_SUFFIXES) {
      const m = re.exec(n);
      if (m) out.set(n.slice(0, m.index), why);
    }
  }
  return out;
}

/**
 * transformers' `base_model_prefix` per model type. A checkpoint saved from the base model
 * (GPT-2's `h.0.attn.c_attn.weight`, OPT's `decoder.layers.0…`) has no key starting with it; loaded
 * into the *ForCausalLM class the reference scans, its modules are named with the prefix
 * (`transformer.h.0.attn.c_attn`), and so are the YAML's lines.
 */
const BASE_MODEL_PREFIX: Record<string, string> = {
  gpt2: 'transformer',
  gpt_neo: 'transformer',
  gptj: 'transformer',
  gpt_bigcode: 'transformer',
  bloom: 'transformer',
  falcon: 'transformer',
  mpt: 'transformer',
  codegen: 'transformer',
  gpt_neox: 'gpt_neox',
  gpt_neox_japanese: 'gpt_neox_japanese',
  mamba: 'backbone',
  mamba2: 'backbone',
  rwkv: 'rwkv',
  opt: 'model',
  llama: 'model',
  mistral: 'model',
  mixtral: 'model',
  qwen2: 'model',
  qwen2_moe: 'model',
  qwen3: 'model',
  qwen3_moe: 'model',
  gemma: 'model',
  gemma2: 'model',
  gemma3_text: 'model',
  phi: 'model',
  phi3: 'model',
  stablelm: 'model',
  starcoder2: 'model',
  olmo: 'model',
  olmo2: 'model',
  cohere: 'model',
  granite: 'model',
  granitemoe: 'model',
  xglm: 'model',
  deepseek_v2: 'model',
  deepseek_v3: 'model',
  olmoe: 'model',
  phimoe: 'model',
  jamba: 'model',
  nemotron: 'model',
  persimmon: 'model',
  cohere2: 'model',
  glm: 'model',
  glm4: 'model',
  helium: 'model',
  smollm3: 'model',
  dbrx: 'transformer',
  falcon_mamba: 'backbone',
};

/**
 * The prefix to put in front of module names ('' when the keys already carry it, or unknown).
 * It depends on `model_type` alone: AutoModelForCausalLM picks its class from the config's type
 * (gpt2 → GPT2LMHeadModel), whatever `architectures` says or whether it is there at all.
 */
export function missingBasePrefix(config: ModelConfig | null, tensorNames: string[]): string {
  const prefix =
    typeof config?.model_type === 'string' && Object.hasOwn(BASE_MODEL_PREFIX, config.model_type) ? BASE_MODEL_PREFIX[config.model_type] : undefined;
  if (!prefix || tensorNames.length === 0) return '';
  return tensorNames.some((n) => n.startsWith(prefix + '.')) ? '' : prefix + '.';
}

// Input embeddings a tied head can share: Llama's embed_tokens, GPT-2's wte, GPT-NeoX's embed_in,
// BLOOM's word_embeddings, llama2.c's tok_embeddings, T5's shared, Mamba's and RWKV's embeddings.
const HEAD_EMBEDDINGS = ['embed_tokens', 'wte', 'embed_in', 'word_embeddings', 'tok_embeddings', 'shared', 'embeddings'];

function findInputEmbedding(modules: ModuleInfo[], config: ModelConfig | null): ModuleInfo | undefined {
  const candidates = modules.filter(
    (m) => !m.unsupported && m.weight.shape.length === 2 && HEAD_EMBEDDINGS.includes(m.name.slice(m.name.lastIndexOf('.') + 1)),
  );
  const vocab = config?.vocab_size;
  return candidates.find((m) => typeof vocab === 'number' && m.rows === vocab) ?? candidates[0];
}

/** Said in the page and the CLI when a folder has no config.json. */
export const NO_CONFIG_NOTE =
  'no config.json: modules are named as the tensors are, with no tied lm_head (tie_word_embeddings) and no base-model prefix; the reference, which loads the model with transformers, needs config.json';

export function buildCatalogue(folder: Pick<ModelFolder, 'tensors' | 'tensorOrder' | 'config'>): Catalogue {
  const { tensors, tensorOrder, config } = folder;
  const quantized = quantizedModules(tensorOrder);
  const quantMethod = typeof config?.quantization_config?.quant_method === 'string' ? config.quantization_config.quant_method : null;

  const modules: ModuleInfo[] = [];
  const prefixRank = new Map<string, number>();
  const basePrefix = missingBasePrefix(config, tensorOrder);
  const moduleName = (n: string) => (basePrefix && !n.startsWith('lm_head') ? basePrefix + n : n);
  for (const tname of tensorOrder) {
    if (!tname.endsWith('.weight')) continue;
    const t = tensors.get(tname)!;
    const name = moduleName(tname.slice(0, -'.weight'.length));
    const type = moduleType(name);
    const shape = t.shape;
    let unsupported: string | undefined;
    const quant = quantized.get(tname.slice(0, -'.weight'.length));
    if (quant) unsupported = `${quant}${quantMethod ? ` (${quantMethod})` : ''} are not supported yet`;
    else if (!isFloatDtype(t.dtype))
      unsupported = `${t.dtype} weights are not float weights${quantMethod ? ` (${quantMethod} quantized)` : ''}: not supported yet`;
    else if (shape.length === 0) unsupported = 'a scalar weight is not a matrix';
    const [rows, cols] = shape.length === 1 ? [1, shape[0]!] : [shape[shape.length - 2] ?? 0, shape[shape.length - 1] ?? 0];
    const batch = shape.length > 2 ? { batchShape: shape.slice(0, -2) } : {};
    modules.push({ name, type, layer: moduleLayer(name), weight: t, rows, cols, dtype: t.dtype, ...batch, ...(unsupported ? { unsupported } : {}) });
    const prefix = name.slice(0, name.length - type.length);
    if (!prefixRank.has(type + '\u0000' + stripLayer(prefix))) prefixRank.set(type + '\u0000' + stripLayer(prefix), prefixRank.size);
  }
  // GPTQ/AWQ modules have no `.weight` at all: list them so they are reported, never scored.
  for (const [tensorModule, why] of quantized) {
    if (tensors.has(tensorModule + '.weight')) continue;
    const packed = tensors.get(tensorModule + '.qweight') ?? tensors.get(tensorModule + '.weight_packed');
    if (!packed) continue;
    const name = moduleName(tensorModule);
    const type = moduleType(name);
    modules.push({
      name,
      type,
      layer: moduleLayer(name),
      weight: packed,
      rows: packed.shape[0] ?? 0,
      cols: packed.shape[1] ?? 0,
      dtype: packed.dtype,
      unsupported: `${why}${quantMethod ? ` (${quantMethod})` : ''} are not supported yet`,
    });
  }

  // Tied head: the reference (through transformers) scans `lm_head` even when only the
  // embedding is stored. Tie when the config says so, or says nothing and no head is stored.
  // With tie_word_embeddings: true, a stored lm_head.weight is replaced too: from_pretrained
  // ties the head to the embedding again after loading, so the stored one is never used.
  let tiedHead = false;
  const storedHead = modules.findIndex((m) => m.name === 'lm_head');
  const explicitTie = config?.tie_word_embeddings === true;
  if (config && config.tie_word_embeddings !== false && (storedHead < 0 || explicitTie)) {
    const hasOtherHead = modules.some((m) => /(^|\.)(embed_out|output)$/.test(m.name));
    const emb = findInputEmbedding(modules, config);
    if (emb && (explicitTie || !hasOtherHead)) {
      const head: ModuleInfo = { ...emb, name: 'lm_head', type: 'lm_head', layer: null, tiedTo: emb.name };
      if (storedHead < 0) modules.push(head);
      else modules[storedHead] = head;
      tiedHead = true;
    }
  }

  // Within a type: layer order (named_modules order), independent of the header's order.
  const byType = new Map<string, ModuleInfo[]>();
  for (const m of modules) {
    let list = byType.get(m.type);
    if (!list) byType.set(m.type, (list = []));
    list.push(m);
  }
  const rankOf = (m: ModuleInfo) => prefixRank.get(m.type + '\u0000' + stripLayer(m.name.slice(0, m.name.length - m.type.length))) ?? 0;
  const types: TypeInfo[] = sortTypes([...byType.keys()]).map((name) => {
    const list = byType
      .get(name)!
      .slice()
      .sort((a, b) => rankOf(a) - rankOf(b) || (a.layer ?? -1) - (b.layer ?? -1) || naturalKey(a.name, b.name));
    const twoD = list.every((m) => m.weight.shape.length === 2);
    const embedding = list.some((m) => m.tiedTo === undefined && isEmbeddingModule(m.name));
    const scorable = list.some((m) => !m.unsupported);
    return {
      name,
      modules: list,
      twoD,
      embedding,
      defaultSelected: twoD && !embedding && scorable,
      shapes: [...new Set(list.map((m) => m.weight.shape.join('×')))],
    };
  });
  const layers = [...new Set(modules.map((m) => m.layer).filter((l): l is number => l !== null))].sort((a, b) => a - b);
  return {
    types,
    modules: types.flatMap((t) => t.modules),
    layers,
    tiedHead,
    quantization: quantMethod ?? (quantized.size ? [...new Set(quantized.values())][0]! : null),
    architecture: config?.architectures?.[0] ?? config?.model_type ?? null,
  };
}

function stripLayer(prefix: string): string {
  return prefix.replace(/\.\p{Nd}+\.$/u, '.').replace(/^\p{Nd}+\.$/u, '');
}

const naturalKey = naturalCompare;

export function isScorable(m: ModuleInfo): m is ModuleInfo & { dtype: FloatDtype } {
  return m.unsupported === undefined;
}

/** Types to scan: the default set, every type, or exactly the named ones (in scan order). */
export function selectTypes(cat: Catalogue, opts: { allTypes?: boolean; types?: string[] }): { types: TypeInfo[]; unknown: string[] } {
  if (opts.types) {
    const want = new Set(opts.types);
    const known = new Set(cat.types.map((t) => t.name));
    return { types: cat.types.filter((t) => want.has(t.name)), unknown: opts.types.filter((t) => !known.has(t)) };
  }
  if (opts.allTypes) return { types: cat.types.slice(), unknown: [] };
  return { types: cat.types.filter((t) => t.defaultSelected), unknown: [] };
}
