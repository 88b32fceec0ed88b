/**
 * The reference's three files (spec §4), byte for byte: the results JSON, the per-type sorted
 * JSON, and the Axolotl `unfrozen_parameters` YAML.
 */
import { pyJsonDump, parsePyJson, type PyValue } from './pyjson.js';
import { groupByType, referenceOrder, selectTop, sortDescending, type ScoredModule } from './selection.js';
import { SpectroscopeError } from './errors.js';

export function modelSlug(modelName: string): string {
  return modelName.replace(/\//g, '-').replace(/_/g, '-');
}

export function outputFileNames(modelName: string, percent: number) {
  const base = `snr_results_${modelSlug(modelName)}`;
  return {
    results: `${base}.json`,
    sorted: `${base}_sorted.json`,
    yaml: `${base}_unfrozenparameters_${percent}percent.yaml`,
  };
}

/** `snr_results_<slug>.json`: modules in scan order (types in scan order, layers in order),
 *  as the reference meets them (referenceOrder). */
export function resultsJson(results: ScoredModule[]): string {
  const obj: Record<string, PyValue> = {};
  for (const r of referenceOrder(results)) obj[r.name] = { snr: r.score, type: r.type };
  return pyJsonDump(obj);
}

/** `snr_results_<slug>_sorted.json`: per type, modules best first. */
export function sortedJson(results: ScoredModule[]): string {
  const obj: Record<string, PyValue> = {};
  for (const [type, group] of groupByType(referenceOrder(results))) {
    const inner: Record<string, PyValue> = {};
    for (const m of sortDescending(group)) inner[m.name] = m.score;
    obj[type] = inner;
  }
  return pyJsonDump(obj);
}

export function unfrozenYaml(results: ScoredModule[], percent: number): string {
  let out = 'unfrozen_parameters:\n- ^lm_head.weight$\n- ^model.embed_tokens.weight$\n';
  for (const [type, picks] of selectTop(referenceOrder(results), percent)) {
    out += `# ${type} layers\n`;
    for (const name of picks) out += `- ${name}\n`;
  }
  return out;
}

/**
 * Read a results JSON back: the reference's `{module: {snr, type}}` (Infinity/NaN tokens
 * included) or ours (the same, maybe with extra keys we ignore).
 */
export function parseResultsJson(text: string, file: string): ScoredModule[] {
  let data: unknown;
  try {
    data = parsePyJson(text);
  } catch (e) {
    throw new SpectroscopeError('results-json', file, `is not a results JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) throw new SpectroscopeError('results-json', file, 'is not a JSON object of modules');
  const out: ScoredModule[] = [];
  for (const [name, v] of Object.entries(data as Record<string, unknown>)) {
    const e = v as { snr?: unknown; type?: unknown } | null;
    if (typeof e !== 'object' || e === null || typeof e.snr !== 'number' || typeof e.type !== 'string') {
      throw new SpectroscopeError('results-json', file, `entry ${JSON.stringify(name).slice(0, 80)} needs {"snr": number, "type": string}`);
    }
    out.push({ name, type: e.type, score: e.snr });
  }
  return out;
}
