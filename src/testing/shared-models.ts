/** The reference checkpoints and the files spectrum.py wrote for them (../shared/models). */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const SHARED_MODELS = process.env.SPECTROSCOPE_SHARED_MODELS ?? resolve(REPO_ROOT, '../shared/models');

export interface OracleModule {
  shape: number[];
  s_max: number;
  s_min: number;
  q25: number;
  q75: number;
  sigma: number;
  mp_threshold: number;
  n_signal: number;
  signal_sum: number;
  noise_sum: number;
  singular_values: number[];
  spectrum_snr: number;
  spectrum_type: string;
}

export interface OracleRun {
  dir: string;
  variant: 'oracle_out' | 'oracle_out_all_types';
  meta: { model_name: string; top_percent: number; selected_types: string[] };
  details: Record<string, OracleModule>;
  files: { results: string; sorted: string; yaml: string };
}

export function sharedModelDirs(): string[] {
  if (!existsSync(SHARED_MODELS)) throw new Error(`reference models not found at ${SHARED_MODELS} (set SPECTROSCOPE_SHARED_MODELS)`);
  return readdirSync(SHARED_MODELS, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => join(SHARED_MODELS, d.name))
    .sort();
}

export function oracleRuns(modelDir: string): OracleRun[] {
  const runs: OracleRun[] = [];
  for (const variant of ['oracle_out', 'oracle_out_all_types'] as const) {
    const dir = join(modelDir, variant);
    if (!existsSync(dir)) continue;
    const names = readdirSync(dir);
    const pick = (re: RegExp) =>
      join(
        dir,
        names.find((n) => re.test(n))!,
      );
    runs.push({
      dir,
      variant,
      meta: JSON.parse(readFileSync(join(dir, 'oracle_meta.json'), 'utf8')),
      details: JSON.parse(readFileSync(join(dir, 'oracle_details.json'), 'utf8')),
      files: { results: pick(/^snr_results_.*(?<!_sorted)\.json$/), sorted: pick(/_sorted\.json$/), yaml: pick(/\.yaml$/) },
    });
  }
  return runs;
}
