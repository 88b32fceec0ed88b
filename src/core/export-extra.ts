/**
 * The page's own exports, beside the reference's three files (which come from core/export.ts,
 * byte for byte as the CLI writes them): a Python snippet for transformers/TRL and a CSV of
 * every per-matrix figure.
 */
import { pyString } from './pyjson.js';
import type { ScoreDetails } from './spectrum.js';

/**
 * Freeze everything, then unfreeze what the YAML lists, matched as Axolotl matches
 * `unfrozen_parameters`: dots made literal, `re.match` at the start of the parameter name.
 */
export function pythonSnippet(modelName: string, percent: number, picks: Map<string, string[]>, notScored: { module: string; reason: string }[] = []): string {
  const lines: string[] = [];
  const count = [...picks.values()].reduce((s, l) => s + l.length, 0);
  lines.push(`# Spectrum layer selection for ${oneLine(modelName)}: top ${percent}% of each of ${picks.size} types (${count} modules).`);
  lines.push('# Made by Spectroscope; the same lines as the unfrozen_parameters YAML, matched as Axolotl matches them.');
  if (notScored.length) {
    lines.push(`# NOT SCORED (${notScored.length} modules; no score, ranked last in their type):`);
    for (const n of notScored) lines.push(`#   ${oneLine(n.module)}: ${oneLine(n.reason)}`);
  }
  lines.push('import re');
  lines.push('');
  lines.push('UNFROZEN_PARAMETERS = [');
  lines.push(`    ${pyString('^lm_head.weight$')},`);
  lines.push(`    ${pyString('^model.embed_tokens.weight$')},`);
  for (const [type, names] of picks) {
    lines.push(`    # ${oneLine(type)} layers`);
    for (const n of names) lines.push(`    ${pyString(n)},`);
  }
  lines.push(']');
  lines.push('');
  lines.push('');
  lines.push('def freeze_except_spectrum(model, patterns=UNFROZEN_PARAMETERS):');
  lines.push('    """Freeze every parameter, then unfreeze those whose name starts with a selected module."""');
  lines.push('    compiled = [re.compile(p.replace(".", "\\\\.")) for p in patterns]  # literal dots');
  lines.push('    for param in model.parameters():');
  lines.push('        param.requires_grad = False');
  lines.push('    for name, param in model.named_parameters():');
  lines.push('        if any(c.match(name) for c in compiled):');
  lines.push('            param.requires_grad = True');
  lines.push('    return model');
  lines.push('');
  lines.push('');
  lines.push('# from transformers import AutoModelForCausalLM');
  lines.push(`# model = AutoModelForCausalLM.from_pretrained(${pyString(modelName)})`);
  lines.push('# freeze_except_spectrum(model)');
  lines.push('# trainer = trl.SFTTrainer(model=model, ...)  # trains only the unfrozen parameters');
  return lines.join('\n') + '\n';
}

function oneLine(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, '?');
}

export interface CsvRow {
  module: string;
  type: string;
  layer: number | null;
  rows?: number;
  cols?: number;
  dtype?: string;
  file?: string;
  score: number | undefined;
  rank: number | null;
  selected: boolean;
  details?: ScoreDetails;
  error?: string;
}

const CSV_COLUMNS = [
  'module',
  'type',
  'layer',
  'rows',
  'cols',
  'dtype',
  'file',
  'score',
  'rank',
  'selected',
  'snr',
  's_max',
  's_min',
  'q25',
  'q75',
  'sigma',
  'mp_threshold',
  'n_signal',
  'signal_sum',
  'noise_sum',
  'error',
] as const;

/** RFC 4180 quoting; text cells that a spreadsheet would run as a formula get a leading quote. */
function cell(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isNaN(v) ? 'NaN' : v === Infinity ? 'Infinity' : v === -Infinity ? '-Infinity' : String(v);
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  let s = v;
  if (/^[=+\-@\t\r]/.test(s)) s = "'" + s;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function figuresCsv(rows: CsvRow[]): string {
  const out = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    const d = r.details;
    out.push(
      [
        cell(r.module),
        cell(r.type),
        cell(r.layer),
        cell(r.rows),
        cell(r.cols),
        cell(r.dtype),
        cell(r.file),
        cell(r.score),
        cell(r.rank),
        cell(r.selected),
        cell(d?.snr),
        cell(d?.sMax),
        cell(d?.sMin),
        cell(d?.q25),
        cell(d?.q75),
        cell(d?.sigma),
        cell(d?.threshold),
        cell(d?.nSignal),
        cell(d?.signalSum),
        cell(d?.noiseSum),
        cell(r.error),
      ].join(','),
    );
  }
  return out.join('\r\n') + '\r\n';
}
