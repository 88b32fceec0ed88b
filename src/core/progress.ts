/**
 * Results kept as they are computed, so that a crash, Ctrl-C, a closed tab or Cancel loses
 * nothing: one JSON line per matrix after a first line that fingerprints the model's files
 * (names, sizes, header bytes). Reopening the same files resumes; other files start afresh.
 * The CLI appends these lines to a file beside its outputs; the page keeps them in IndexedDB.
 */
import type { ModelFolder } from './model.js';
import type { ScoreDetails } from './spectrum.js';

export const PROGRESS_FORMAT = 'spectroscope-progress/1';

export interface ProgressHeader {
  format: typeof PROGRESS_FORMAT;
  fingerprint: string;
  model: string;
}

export interface ProgressRecord {
  module: string;
  /** `file\0tensor` of the tensor scored: a record only counts for the same tensor. */
  tensor: string;
  details: ScoreDetails;
  singularValues: number[];
}

export function modelFingerprint(folder: Pick<ModelFolder, 'shards'>): string {
  return folder.shards
    .map((s) => `${s.file}:${s.fileSize}:${s.headerHash}`)
    .sort()
    .join('|');
}

export function tensorKey(file: string, tensor: string): string {
  return `${file}\u0000${tensor}`;
}

export function progressHeaderLine(h: ProgressHeader): string {
  return JSON.stringify(h) + '\n';
}

export function progressRecordLine(r: ProgressRecord): string {
  // Non-finite numbers (an all-zero matrix scores Infinity) are not JSON: spell them out.
  return JSON.stringify(r, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) + '\n';
}

/**
 * The records of a progress file whose fingerprint matches; an empty map when it does not or
 * the file is unreadable. A torn last line (killed mid-write) is ignored.
 */
export function parseProgress(text: string, fingerprint: string): Map<string, ProgressRecord> {
  const out = new Map<string, ProgressRecord>();
  const lines = text.split('\n');
  let header: ProgressHeader | null;
  try {
    header = JSON.parse(lines[0] ?? '') as ProgressHeader;
  } catch {
    return out;
  }
  if (header?.format !== PROGRESS_FORMAT || header.fingerprint !== fingerprint) return out;
  for (const line of lines.slice(1)) {
    if (!line.trim()) continue;
    try {
      const r = JSON.parse(line, (_k, v: unknown) => (v === 'Infinity' ? Infinity : v === '-Infinity' ? -Infinity : v === 'NaN' ? NaN : v)) as ProgressRecord;
      if (typeof r.module === 'string' && typeof r.details?.score === 'number' && Array.isArray(r.singularValues)) out.set(r.module, r);
    } catch {
      /* a torn line from an interrupted write */
    }
  }
  return out;
}
