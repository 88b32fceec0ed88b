/**
 * The page's results kept in IndexedDB as they are computed, so that a closed tab, a reload,
 * Cancel or a crash loses nothing already done. Three object stores:
 *
 * - `scans`: one small summary per model, keyed by `modelFingerprint(folder)` (shard names,
 *   sizes, header hashes); rewritten with every result (its count and date), so it stays small;
 * - `layouts`: the model's types and modules (what the views need without the weights), written
 *   once per scan;
 * - `records`: one per matrix, keyed `[fingerprint, module]`: the `ProgressRecord` of core/progress
 *   with the singular values as a Float32Array (not a JSON list), or the reason it failed.
 *
 * At most `MAX_SCANS` models are kept: the least recently updated go first. Every call fails
 * soft: where IndexedDB is missing or refuses (a private window, a full disk), the page works
 * as before and simply does not remember.
 */
import type { ScoreDetails } from '../../core/spectrum.js';

export const MAX_SCANS = 20;
const DB_NAME = 'spectroscope';
const DB_VERSION = 1;

export interface StoredModule {
  name: string;
  type: string;
  layer: number | null;
  rows?: number;
  cols?: number;
  /** A weight of more than two dimensions: the dimensions before rows×cols. */
  batchShape?: number[];
  dtype?: string;
  file?: string;
  tiedTo?: string;
  unsupported?: string;
}

export interface StoredType {
  name: string;
  modules: StoredModule[];
  defaultSelected: boolean;
  scorable: boolean;
  shapes: string[];
  dtypes: string[];
  oneD: boolean;
  embedding: boolean;
}

export interface ScanSummary {
  fingerprint: string;
  /** The name in file names when the scan ran. */
  model: string;
  folderName: string;
  created: number;
  updated: number;
  /** Matrices with a score. */
  kept: number;
  /** Matrices that failed (NaN/Inf weights, engine errors). */
  failed: number;
  /** Modules of the chosen types. */
  total: number;
  selectedTypes: string[];
  percent: number;
  layers: number;
}

export interface ScanLayout {
  fingerprint: string;
  types: StoredType[];
}

export interface StoredRecord {
  fingerprint: string;
  module: string;
  /** `tensorKey(file, tensor)`: a record only counts for the same tensor. */
  tensor: string;
  details?: ScoreDetails;
  singularValues?: Float32Array;
  /** Why it has no score. */
  error?: string;
}

function req<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error ?? new Error('IndexedDB transaction failed'));
    tx.onabort = () => reject(tx.error ?? new Error('IndexedDB transaction aborted'));
  });
}

/** Every record key of one model: `[fp]` sorts before `[fp, anyString]`, and arrays after strings. */
function recordRange(fp: string): IDBKeyRange {
  return IDBKeyRange.bound([fp], [fp, []]);
}

/** The summaries beyond the `max` most recently updated: the ones to drop. */
export function overflow(summaries: Pick<ScanSummary, 'fingerprint' | 'updated'>[], max = MAX_SCANS): string[] {
  return summaries
    .slice()
    .sort((a, b) => b.updated - a.updated)
    .slice(max)
    .map((s) => s.fingerprint);
}

export class ScanStore {
  private db: Promise<IDBDatabase | null> | null = null;

  private open(): Promise<IDBDatabase | null> {
    this.db ??= new Promise<IDBDatabase | null>((resolve) => {
      try {
        if (typeof indexedDB === 'undefined') return resolve(null);
        const r = indexedDB.open(DB_NAME, DB_VERSION);
        r.onupgradeneeded = () => {
          const db = r.result;
          if (!db.objectStoreNames.contains('scans')) db.createObjectStore('scans', { keyPath: 'fingerprint' });
          if (!db.objectStoreNames.contains('layouts')) db.createObjectStore('layouts', { keyPath: 'fingerprint' });
          if (!db.objectStoreNames.contains('records')) db.createObjectStore('records', { keyPath: ['fingerprint', 'module'] });
        };
        r.onsuccess = () => {
          const db = r.result;
          // Another tab upgrading: step aside.
          db.onversionchange = () => {
            db.close();
            this.db = null;
          };
          resolve(db);
        };
        r.onerror = () => resolve(null);
        r.onblocked = () => resolve(null);
      } catch {
        resolve(null);
      }
    });
    return this.db;
  }

  private async run<T>(stores: string[], mode: IDBTransactionMode, body: (tx: IDBTransaction) => Promise<T> | T, fallback: T): Promise<T> {
    try {
      const db = await this.open();
      if (!db) return fallback;
      const tx = db.transaction(stores, mode);
      const finished = done(tx);
      finished.catch(() => undefined); // awaited below; never an unhandled rejection
      const out = await body(tx);
      await finished;
      return out;
    } catch {
      return fallback;
    }
  }

  /** Most recently updated first. */
  list(): Promise<ScanSummary[]> {
    return this.run(
      ['scans'],
      'readonly',
      async (tx) => {
        const all = await req(tx.objectStore('scans').getAll() as IDBRequest<ScanSummary[]>);
        return all.sort((a, b) => b.updated - a.updated);
      },
      [],
    );
  }

  summary(fp: string): Promise<ScanSummary | null> {
    return this.run(['scans'], 'readonly', async (tx) => (await req(tx.objectStore('scans').get(fp) as IDBRequest<ScanSummary | undefined>)) ?? null, null);
  }

  layout(fp: string): Promise<ScanLayout | null> {
    return this.run(['layouts'], 'readonly', async (tx) => (await req(tx.objectStore('layouts').get(fp) as IDBRequest<ScanLayout | undefined>)) ?? null, null);
  }

  records(fp: string): Promise<StoredRecord[]> {
    return this.run(['records'], 'readonly', (tx) => req(tx.objectStore('records').getAll(recordRange(fp)) as IDBRequest<StoredRecord[]>), []);
  }

  /** A scan starts (or resumes): its summary and layout, then the oldest scans beyond the bound go. */
  async begin(summary: ScanSummary, layout: ScanLayout): Promise<void> {
    const drop = await this.run(
      ['scans', 'layouts'],
      'readwrite',
      async (tx) => {
        tx.objectStore('scans').put(summary);
        tx.objectStore('layouts').put(layout);
        return overflow(await req(tx.objectStore('scans').getAll() as IDBRequest<ScanSummary[]>));
      },
      [] as string[],
    );
    for (const fp of drop) await this.remove(fp);
  }

  /** One matrix's result and the summary's new counts, in one transaction. */
  put(record: StoredRecord, summary: ScanSummary): Promise<boolean> {
    return this.run(
      ['records', 'scans'],
      'readwrite',
      (tx) => {
        tx.objectStore('records').put(record);
        tx.objectStore('scans').put(summary);
        return true;
      },
      false,
    );
  }

  /** Forget a model: its summary, layout and every record. */
  remove(fp: string): Promise<boolean> {
    return this.run(
      ['scans', 'layouts', 'records'],
      'readwrite',
      (tx) => {
        tx.objectStore('scans').delete(fp);
        tx.objectStore('layouts').delete(fp);
        tx.objectStore('records').delete(recordRange(fp));
        return true;
      },
      false,
    );
  }

  /** Start over: the records go, the summary stays (counts reset by the caller). */
  clearRecords(fp: string): Promise<boolean> {
    return this.run(
      ['records'],
      'readwrite',
      (tx) => {
        tx.objectStore('records').delete(recordRange(fp));
        return true;
      },
      false,
    );
  }
}

export const scanStore = new ScanStore();
