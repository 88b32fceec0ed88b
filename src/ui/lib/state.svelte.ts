/**
 * The page's state: the open model (or saved result), the user's choices, the results as they
 * arrive. Components read it and call its methods; compute happens in the engine's workers.
 *
 * Results arrive one matrix at a time; they are written to plain Maps and made visible to the
 * components at most once per animation frame (one `version` bump), so a big model's stream of
 * results never re-renders the page per matrix.
 */
/* eslint-disable svelte/prefer-svelte-reactivity -- Maps and Sets here are either temporaries inside
   one computation or the deliberately non-reactive result stores, published through `version`. */
import { BlobSource } from '../../core/bytesource.js';
import { type Catalogue, NO_CONFIG_NOTE, buildCatalogue, moduleLayer } from '../../core/catalogue.js';
import { SpectroscopeError } from '../../core/errors.js';
import { modelSlug, outputFileNames, parseResultsJson, resultsJson, sortedJson, unfrozenYaml } from '../../core/export.js';
import { type ModelFolder, loadModelFolder } from '../../core/model.js';
import { type ScoredModule, selectTop, sortDescending, topCount } from '../../core/selection.js';
import type { ScoreDetails } from '../../core/spectrum.js';
import { createBrowserPool } from '../../engine/pool-browser.js';
import type { WorkerPool } from '../../engine/pool.js';
import { type ModuleResult, type ScanProgress, scanModel } from '../../engine/scan.js';
import { type CsvRow, figuresCsv, pythonSnippet } from '../../core/export-extra.js';
import { modelFingerprint, tensorKey } from '../../core/progress.js';
import { type EnginePlan, type ThreadsChoice, coreCount, parseThreadsParam, planEngine } from './engine-plan.js';
import { type Arranged, type PickedFile, arrange } from './files.js';
import { type ScanSummary, type StoredModule, type StoredType, type StoredRecord, scanStore } from './store.js';

export type BackendChoice = 'auto' | 'wasm' | 'webgpu';

/** What the views know of a module: the same shape IndexedDB keeps, so stored scans reopen as they were. */
export type ModuleView = StoredModule;

/** A type as the views show it: what the store keeps (scorable: at least one module can be scored). */
export type TypeView = StoredType;

export interface Outcome {
  /** NaN when it failed. */
  score: number;
  details?: ScoreDetails;
  error?: string;
  backend?: string;
  seconds?: number;
}

export interface Row extends ModuleView {
  status: 'pending' | 'done' | 'failed';
  score: number | undefined;
  /** 1 = best within its type; null until scored. */
  rank: number | null;
  selected: boolean;
  details?: ScoreDetails;
  error?: string;
}

export interface TypeResult {
  name: string;
  rows: Row[];
  /** Scored rows, best first (failed ones last). */
  ranked: Row[];
  /** How many of this type are kept at the chosen percent. */
  keep: number;
  done: number;
}

export interface ShardView {
  file: string;
  size: number;
  tensors: number;
}

export interface ModelSession {
  kind: 'model';
  folderName: string;
  folder: ModelFolder;
  catalogue: Catalogue;
  files: Map<string, File>;
  types: TypeView[];
  paramsByDtype: [string, number][];
  params: number;
  shards: ShardView[];
  bytes: number;
  layers: number;
  notes: string[];
}

export interface SavedSession {
  kind: 'saved';
  file: string;
  types: TypeView[];
  layers: number;
  /** Reopened from the page's own store (Recent scans), not from a JSON file. */
  stored?: { fingerprint: string; updated: number; kept: number; total: number };
}

/** Reopening a folder scanned before: what was kept, offered before anything is recomputed. */
export interface ResumeOffer {
  /** Matrices of the chosen types already computed. */
  kept: number;
  /** Modules of the chosen types. */
  total: number;
  /** When the last of them was stored. */
  date: number;
}

export type Session = ModelSession | SavedSession;

export interface ScanView {
  status: 'idle' | 'scanning' | 'cancelling' | 'cancelled' | 'done';
  done: number;
  total: number;
  bytesRead: number;
  bytesTotal: number;
  elapsed: number;
  eta: number | null;
  /** Matrices of the chosen types scored before this run (a resumed or widened scan): done, total
   *  and bytes count only what this run computes. */
  kept: number;
}

export interface Problem {
  file: string;
  message: string;
  /** What the user can do about it. */
  hint?: string;
}

/** Resolves after the next frame has been painted. */
function afterPaint(): Promise<void> {
  return new Promise((resolve) => {
    let done = false;
    const go = () => {
      if (!done) {
        done = true;
        setTimeout(resolve, 0);
      }
    };
    requestAnimationFrame(go);
    setTimeout(go, 100);
  });
}

/** Results are shown at most this often while scanning. */
const FLUSH_INTERVAL_MS = 150;

const IDLE_SCAN: ScanView = { status: 'idle', done: 0, total: 0, bytesRead: 0, bytesTotal: 0, elapsed: 0, eta: null, kept: 0 };

function readBackendParam(): BackendChoice {
  const v = new URLSearchParams(globalThis.location?.search ?? '').get('backend');
  return v === 'wasm' || v === 'webgpu' || v === 'auto' ? v : 'auto';
}

/** `?types=a,b` preselects exactly those types (links that reproduce a selection; long tests). */
function readTypesParam(): string[] | null {
  const v = new URLSearchParams(globalThis.location?.search ?? '').get('types');
  return v
    ? v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
    : null;
}

function hintFor(e: SpectroscopeError): string | undefined {
  switch (e.code) {
    case 'lfs-pointer':
      return 'Run `git lfs pull` in the model folder (or download the weights), then open it again.';
    case 'pytorch-pickle':
      return 'Convert the checkpoint to safetensors (e.g. `model.save_pretrained(dir, safe_serialization=True)`), or download the safetensors version.';
    case 'gguf':
      return 'Open the original Hugging Face safetensors model instead of the llama.cpp file.';
    case 'index-missing-shard':
      return 'Drop the whole folder, with every shard the index lists.';
    case 'header-length':
    case 'data-size':
    case 'header-too-small':
      return 'The file looks truncated: download it again.';
    case 'index-json':
    case 'config-json':
      return 'The file is damaged or not what its name says: download it again from the model’s repository.';
    case 'index-mismatch':
    case 'duplicate-tensor':
      return 'The index and the shards come from different versions of the model: download the folder again, index and shards together.';
    case 'header-too-large':
      return 'This is not a safetensors file, or it is damaged: download it again.';
    default:
      return undefined;
  }
}

export class AppState {
  /** The open model or saved result; raw: it holds Files and Maps, never proxied. */
  session = $state.raw<Session | null>(null);
  modelName = $state('');
  percent = $state(50);
  /** The percent field holds something that is not a whole number from 1 to 100 (the files
   *  would still be written at `percent`, which the field no longer shows). */
  percentInvalid = $state(false);
  selectedTypes = $state<string[]>([]);
  /** Reading headers or a results file. */
  busy = $state<string | null>(null);
  /** Opening failed: nothing is open. */
  openError = $state<Problem | null>(null);
  problems = $state.raw<Problem[]>([]);
  scan = $state<ScanView>({ ...IDLE_SCAN });
  backendChoice = $state<BackendChoice>(readBackendParam());
  backendInUse = $state<string | null>(null);
  backendError = $state<string | null>(null);
  /** Threads inside each matrix: the Engine menu's choice (`?threads=N`), see engine-plan.ts. */
  threadsChoice = $state<ThreadsChoice>(parseThreadsParam(globalThis.location?.search ?? ''));
  /** Threads the engine workers were granted inside each matrix; null until they start. */
  threadsInUse = $state<number | null>(null);
  /** Engine workers (matrices at once) of the running pool, and the threads it asked each for; null until they start. */
  workersInUse = $state<number | null>(null);
  threadsAsked = $state<number | null>(null);
  /** Shared-memory threads need it (COOP/COEP); it cannot change without a reload. */
  readonly isolated = globalThis.crossOriginIsolated === true;
  readonly cores = coreCount(globalThis.navigator?.hardwareConcurrency);
  /** Workers × threads for the current choice. */
  plan = $derived<EnginePlan>(planEngine(this.cores, this.isolated, this.threadsChoice));
  /** The module shown in the spectrum panel. */
  focus = $state<string | null>(null);
  /** Bumped (once per frame at most) when results change. */
  version = $state(0);
  /** Set while a reopened folder's kept results wait for Resume or Start over. */
  resumeOffer = $state.raw<ResumeOffer | null>(null);
  /** Stored scans, most recent first (the landing view's list). */
  recent = $state.raw<ScanSummary[]>([]);

  /** Non-reactive stores, read through `version`. */
  readonly results = new Map<string, Outcome>();
  readonly spectra = new Map<string, Float64Array>();

  private pool: WorkerPool | null = null;
  /** What the pool was made for (backend, workers × threads): another choice makes a new one. */
  private poolKey: string | null = null;
  private abort: AbortController | null = null;
  private running: Promise<void> | null = null;
  /** Set by Cancel: on-demand scanning waits for the user to ask again. */
  private paused = false;
  private flushQueued = false;
  private lastFlush = 0;
  private latestProgress: ScanProgress | null = null;
  private generation = 0;
  /** The open model's store entry: its summary as last written, and what is stored. */
  private stored: { summary: ScanSummary; ok: Set<string>; failed: Set<string> } | null = null;
  /** Kept records matching the open model, until Resume or Start over. */
  private keptRecords: StoredRecord[] = [];

  // ---------------------------------------------------------------- derived views

  /** The types the user has ticked, in scan order. */
  activeTypes = $derived.by(() => {
    const s = this.session;
    if (!s) return [] as TypeView[];
    const want = new Set(this.selectedTypes);
    return s.types.filter((t) => want.has(t.name));
  });

  /** Everything the views show, recomputed at most once per frame while scanning. */
  /**
   * Row objects are reused while nothing in them changed, so that a view keyed by module only
   * re-renders the rows a new result actually moved.
   */
  private rowCache = new Map<string, Row>();

  typeResults = $derived.by((): TypeResult[] => {
    void this.version;
    const percent = this.percent;
    const cache = this.rowCache;
    return this.activeTypes.map((t) => {
      const facts = t.modules.map((m) => {
        const o = this.results.get(m.name);
        const status: Row['status'] = !o ? 'pending' : o.error !== undefined && o.details === undefined ? 'failed' : 'done';
        return { m, o, status, score: o ? o.score : undefined, rank: null as number | null, selected: false };
      });
      const finished = facts.filter((f) => f.status !== 'pending');
      const order = sortDescending(finished.map((f) => ({ f, score: f.score! }))).map((x) => x.f);
      const keep = topCount(facts.length, percent);
      order.forEach((f, i) => {
        if (!Number.isNaN(f.score)) f.rank = i + 1;
        f.selected = i < keep;
      });
      const rows = facts.map(({ m, o, status, score, rank, selected }) => {
        const prev = cache.get(m.name);
        if (
          prev &&
          prev.status === status &&
          Object.is(prev.score, score) &&
          prev.rank === rank &&
          prev.selected === selected &&
          prev.details === o?.details &&
          prev.error === o?.error &&
          prev.file === m.file
        ) {
          return prev;
        }
        const row: Row = {
          ...m,
          status,
          score,
          rank,
          selected,
          ...(o?.details ? { details: o.details } : {}),
          ...(o?.error !== undefined ? { error: o.error } : {}),
        };
        cache.set(m.name, row);
        return row;
      });
      const byName = new Map(rows.map((r) => [r.name, r]));
      return { name: t.name, rows, ranked: order.map((f) => byName.get(f.m.name)!), keep, done: finished.length };
    });
  });

  allRows = $derived(this.typeResults.flatMap((t) => t.rows));

  complete = $derived(this.activeTypes.length > 0 && this.typeResults.every((t) => t.done === t.rows.length));

  layers = $derived.by(() => {
    const set = new Set<number>();
    for (const t of this.activeTypes) for (const m of t.modules) if (m.layer !== null) set.add(m.layer);
    return [...set].sort((a, b) => a - b);
  });

  fileNames = $derived(outputFileNames(this.modelName || 'model', this.percent));

  /** What the three reference files are written from: every module of the chosen types, in scan order. */
  scored = $derived.by((): ScoredModule[] => this.allRows.map((r) => ({ name: r.name, type: r.type, score: r.score ?? NaN })));

  selectedCount = $derived(this.allRows.filter((r) => r.selected).length);

  /** Modules of the chosen types that were tried and have no score (NaN/Inf weights, engine failures, unsupported). */
  notScored = $derived(this.allRows.filter((r) => r.status === 'failed'));

  // ---------------------------------------------------------------- exports

  exportText(kind: 'yaml' | 'results' | 'sorted' | 'python' | 'csv'): string {
    switch (kind) {
      case 'yaml':
        return unfrozenYaml(this.scored, this.percent);
      case 'results':
        return resultsJson(this.scored);
      case 'sorted':
        return sortedJson(this.scored);
      case 'python':
        return pythonSnippet(
          this.modelName || 'model',
          this.percent,
          selectTop(this.scored, this.percent),
          this.notScored.map((r) => ({ module: r.name, reason: r.error ?? 'not scored' })),
        );
      case 'csv':
        return figuresCsv(
          this.allRows.map((r): CsvRow => ({
            module: r.name,
            type: r.type,
            layer: r.layer,
            rows: r.rows,
            cols: r.cols,
            dtype: r.dtype,
            file: r.file,
            score: r.score,
            rank: r.rank,
            selected: r.selected,
            details: r.details,
            error: r.error,
          })),
        );
    }
  }

  exportName(kind: 'yaml' | 'results' | 'sorted' | 'python' | 'csv'): string {
    const base = `snr_results_${modelSlug(this.modelName || 'model')}`;
    switch (kind) {
      case 'yaml':
        return this.fileNames.yaml;
      case 'results':
        return this.fileNames.results;
      case 'sorted':
        return this.fileNames.sorted;
      case 'python':
        return `${base}_unfreeze_${this.percent}percent.py`;
      case 'csv':
        return `${base}_figures.csv`;
    }
  }

  // ---------------------------------------------------------------- choices

  setPercent(p: number): void {
    if (Number.isInteger(p) && p >= 1 && p <= 100) this.percent = p;
  }

  setTypeSelected(name: string, on: boolean): void {
    const s = this.session;
    if (!s) return;
    const want = new Set(this.selectedTypes);
    if (on) want.add(name);
    else want.delete(name);
    this.selectedTypes = s.types.filter((t) => want.has(t.name)).map((t) => t.name);
    if (on) {
      this.paused = false;
      void this.ensureScanned();
    }
  }

  setAllTypes(which: 'default' | 'all' | 'none'): void {
    const s = this.session;
    if (!s) return;
    this.selectedTypes = s.types
      .filter((t) => (which === 'all' ? t.scorable || s.kind === 'saved' : which === 'default' ? t.defaultSelected : false))
      .map((t) => t.name);
    this.paused = false;
    void this.ensureScanned();
  }

  setBackend(b: BackendChoice): void {
    this.backendChoice = b;
    this.dropIdlePool();
  }

  setThreads(t: ThreadsChoice): void {
    this.threadsChoice = t;
    this.dropIdlePool();
  }

  /** A new engine choice takes effect at once when idle, else at the next scan (getPool). */
  private dropIdlePool(): void {
    if (this.scan.status !== 'scanning' && this.scan.status !== 'cancelling') {
      this.pool?.close();
      this.pool = null;
      this.poolKey = null;
      this.backendInUse = null;
      this.threadsInUse = null;
      this.workersInUse = null;
      this.threadsAsked = null;
      this.backendError = null;
    }
  }

  // ---------------------------------------------------------------- opening

  async openPicked(picked: PickedFile[]): Promise<void> {
    performance.mark('spectroscope:open');
    const gen = await this.reset();
    if (picked.length === 0) {
      this.openError = { file: '', message: 'Nothing was opened: the folder is empty.' };
      return;
    }
    const a = arrange(picked);
    if (a.modelFiles.length === 0 && a.jsonFiles.length > 0) return this.openSaved(a, gen);
    if (a.modelFiles.length === 0) {
      const nested = [
        ...new Set([...a.files.keys()].filter((n) => n.includes('/') && /(\.safetensors|\/config\.json)$/i.test(n)).map((n) => n.slice(0, n.lastIndexOf('/')))),
      ];
      this.openError = nested.length
        ? {
            file: a.folderName,
            message: `has no model files at its top level; model files are in ${nested.slice(0, 4).join(', ')}${nested.length > 4 ? ', …' : ''}.`,
            hint: 'Open the model folder itself.',
          }
        : {
            file: a.folderName,
            // The core's wording (the CLI says the same).
            message: 'has no *.safetensors file in the folder (and no config.json).',
            hint: 'Open a Hugging Face model folder (config.json and *.safetensors), or a saved snr_results_*.json.',
          };
      return;
    }
    await this.openModel(a, gen);
  }

  async openDemo(): Promise<void> {
    const gen = await this.reset();
    this.busy = 'Fetching the demo model…';
    try {
      const base = new URL('./demo/stories260K/', document.baseURI);
      const picked: PickedFile[] = [];
      for (const name of ['config.json', 'model.safetensors']) {
        const res = await fetch(new URL(name, base));
        if (!res.ok) throw new Error(`${name}: HTTP ${res.status}`);
        picked.push({ path: `stories260K/${name}`, file: new File([await res.blob()], name) });
      }
      if (gen !== this.generation) return;
      await this.openModel(arrange(picked), gen);
    } catch (e) {
      if (gen !== this.generation) return;
      this.busy = null;
      this.openError = {
        file: 'demo/stories260K',
        message: `could not be loaded (${(e as Error).message}).`,
        hint: 'Reload the page while online once, so the demo is cached.',
      };
    }
  }

  private async reset(): Promise<number> {
    const gen = ++this.generation;
    if (this.running) {
      // Drop the old scan at once, in-flight matrices included (a big one can take seconds):
      // its workers go with the pool; the generation check mutes anything it still reports.
      this.abort?.abort();
      this.abort = null;
      this.pool?.close();
      this.pool = null;
      this.running = null;
    }
    await Promise.resolve();
    this.results.clear();
    this.spectra.clear();
    this.rowCache.clear();
    this.session = null;
    this.problems = [];
    this.openError = null;
    this.focus = null;
    this.paused = false;
    this.resumeOffer = null;
    this.stored = null;
    this.keptRecords = [];
    this.scan = { ...IDLE_SCAN };
    this.version++;
    return gen;
  }

  private async openModel(a: Arranged, gen: number): Promise<void> {
    this.busy = 'Reading headers…';
    try {
      const sourcesFor = (names: string[]) => names.map((n) => new BlobSource(a.files.get(n)!, n));
      let names = a.modelFiles.slice();
      let folder = await loadModelFolder(sourcesFor(names));
      // An index may place shards in subfolders: read those too.
      if (folder.index) {
        const dir = folder.index.file.includes('/') ? folder.index.file.slice(0, folder.index.file.lastIndexOf('/') + 1) : '';
        const extra = [...new Set(folder.index.weightMap.values())]
          .map((f) => dir + f.replace(/^\.\//, ''))
          .filter((f) => f.includes('/') && a.files.has(f) && !names.includes(f));
        if (extra.length) {
          names = names.concat(extra);
          folder = await loadModelFolder(sourcesFor(names));
        }
      }
      if (gen !== this.generation) return;
      const catalogue = buildCatalogue(folder);
      const types: TypeView[] = catalogue.types.map((t) => ({
        name: t.name,
        modules: t.modules.map((m) => ({
          name: m.name,
          type: m.type,
          layer: m.layer,
          rows: m.rows,
          cols: m.cols,
          ...(m.batchShape ? { batchShape: m.batchShape } : {}),
          dtype: m.dtype,
          file: m.weight.file,
          ...(m.tiedTo ? { tiedTo: m.tiedTo } : {}),
          ...(m.unsupported ? { unsupported: m.unsupported } : {}),
        })),
        defaultSelected: t.defaultSelected,
        scorable: t.modules.some((m) => !m.unsupported),
        shapes: t.shapes,
        dtypes: [...new Set(t.modules.map((m) => m.dtype))],
        oneD: t.modules.every((m) => m.weight.shape.length === 1),
        embedding: t.embedding,
      }));
      const byDtype = new Map<string, number>();
      let params = 0;
      for (const t of folder.tensors.values()) {
        byDtype.set(t.dtype, (byDtype.get(t.dtype) ?? 0) + t.elements);
        params += t.elements;
      }
      const notes: string[] = [];
      if (catalogue.tiedHead)
        notes.push(
          `lm_head is tied to ${catalogue.modules.find((m) => m.tiedTo)?.tiedTo ?? 'the embedding'} (tie_word_embeddings): it is scored from the embedding's weights, as the reference does.`,
        );
      if (!folder.config && catalogue.modules.length) notes.push(NO_CONFIG_NOTE.charAt(0).toUpperCase() + NO_CONFIG_NOTE.slice(1) + '.');
      if (catalogue.quantization)
        notes.push(`Quantized weights (${catalogue.quantization}) cannot be scored yet; open the unquantized checkpoint to score those modules.`);
      if (a.duplicates.length)
        notes.push(
          `${a.duplicates.length} file name(s) appeared in more than one dropped folder; the first of each was used (${a.duplicates.slice(0, 3).join(', ')}).`,
        );

      this.problems = folder.problems.map((p) => ({ file: p.file, message: p.message, ...(hintFor(p) ? { hint: hintFor(p)! } : {}) }));
      if (folder.shards.length === 0 && this.problems.length) {
        // Nothing readable at all (only a config.json, a .bin, a .gguf): say why, with no empty model page around it.
        this.openError = this.problems[0]!;
        this.problems = [];
        this.busy = null;
        return;
      }
      if (catalogue.modules.length === 0 && folder.problems.length === 0) {
        this.problems = [{ file: '', message: 'No weight tensors were found (no tensor name ends in ".weight").' }];
      }
      this.modelName =
        a.folderName || (typeof folder.config?._name_or_path === 'string' ? String(folder.config._name_or_path).split('/').pop() || 'model' : 'model');
      const wanted = readTypesParam();
      this.selectedTypes = types.filter((t) => (wanted ? wanted.includes(t.name) : t.defaultSelected)).map((t) => t.name);
      // What an earlier scan of these very files kept (read while the summary renders).
      const fingerprint = modelFingerprint(folder);
      const earlier = Promise.all([scanStore.summary(fingerprint), scanStore.records(fingerprint)]);
      this.session = {
        kind: 'model',
        folderName: a.folderName,
        folder,
        catalogue,
        files: a.files,
        types,
        paramsByDtype: [...byDtype].sort((x, y) => y[1] - x[1]),
        params,
        shards: folder.shards.map((s) => ({ file: s.file, size: s.fileSize, tensors: s.tensors.length })),
        bytes: folder.shards.reduce((s, x) => s + x.fileSize, 0),
        layers: catalogue.layers.length,
        notes,
      };
      this.busy = null;
      performance.mark('spectroscope:summary');
      const [summary, records] = await earlier;
      if (gen !== this.generation) return;
      this.adoptStored(fingerprint, catalogue, summary, records);
      // Scan when the folder is sound (with problems the user decides), once the summary is
      // on screen: the first render is not squeezed in between scan results.
      if (this.resumeOffer) this.paused = true;
      else if (this.problems.length === 0) {
        // Two frames: the summary, then the result views (App mounts them a frame later).
        await afterPaint();
        await afterPaint();
        if (gen === this.generation) void this.ensureScanned();
      } else this.paused = true;
    } catch (e) {
      if (gen !== this.generation) return;
      this.busy = null;
      const err = e instanceof SpectroscopeError ? e : null;
      this.openError = err
        ? { file: err.file, message: err.message, ...(hintFor(err) ? { hint: hintFor(err)! } : {}) }
        : { file: a.folderName, message: `could not be read (${(e as Error)?.message ?? String(e)})` };
    }
  }

  private async openSaved(a: Arranged, gen: number): Promise<void> {
    this.busy = 'Reading results…';
    const rank = (n: string) => (/(^|\/)snr_results_[^/]*(?<!_sorted)\.json$/.test(n) ? 0 : /_sorted\.json$/.test(n) ? 2 : 1);
    const candidates = a.jsonFiles.slice().sort((x, y) => rank(x) - rank(y));
    let firstError: Problem | null = null;
    for (const name of candidates) {
      const file = a.files.get(name)!;
      if (file.size > 256 * 1024 * 1024) continue;
      const text = await file.text();
      if (gen !== this.generation) return;
      let scored: ScoredModule[];
      try {
        scored = parseResultsJson(text, name);
      } catch (e) {
        if (!firstError) {
          const err = e as SpectroscopeError;
          firstError = /_sorted\.json$/.test(name)
            ? {
                file: name,
                message: 'is the per-type sorted file, which has no types per module.',
                hint: `Open ${name.replace(/_sorted\.json$/, '.json')} instead.`,
              }
            : { file: err.file || name, message: err.message, hint: 'Open a results JSON written by Spectrum or Spectroscope (snr_results_<model>.json).' };
        }
        continue;
      }
      if (scored.length === 0) {
        firstError ??= { file: name, message: 'has no modules.' };
        continue;
      }
      const byType = new Map<string, ModuleView[]>();
      for (const m of scored) {
        let l = byType.get(m.type);
        if (!l) byType.set(m.type, (l = []));
        l.push({ name: m.name, type: m.type, layer: moduleLayer(m.name) });
        this.results.set(m.name, Number.isNaN(m.score) ? { score: NaN, error: 'NaN in the saved results' } : { score: m.score });
      }
      const types: TypeView[] = [...byType].map(([t, modules]) => ({
        name: t,
        modules,
        defaultSelected: true,
        scorable: true,
        shapes: [],
        dtypes: [],
        oneD: false,
        embedding: false,
      }));
      const base = name.slice(name.lastIndexOf('/') + 1);
      const m = /^snr_results_(.+?)(_sorted)?\.json$/.exec(base);
      this.modelName = m ? m[1]! : base.replace(/\.json$/i, '');
      this.selectedTypes = types.map((t) => t.name);
      this.session = { kind: 'saved', file: name, types, layers: new Set(scored.map((s) => moduleLayer(s.name)).filter((l) => l !== null)).size };
      this.scan = { ...IDLE_SCAN, status: 'done' };
      this.busy = null;
      this.version++;
      return;
    }
    this.busy = null;
    this.openError = firstError ?? { file: a.folderName, message: 'has no results JSON.' };
  }

  // ---------------------------------------------------------------- scanning

  private getPool(): WorkerPool {
    const plan = this.plan;
    const key = `${this.backendChoice} ${plan.workers}×${plan.threads}`;
    if (!this.pool || this.poolKey !== key) {
      this.pool?.close();
      this.poolKey = key;
      const pool = createBrowserPool({ backend: this.backendChoice, size: plan.workers, threads: plan.threads });
      this.pool = pool;
      this.backendInUse = null;
      this.threadsInUse = null;
      this.workersInUse = null;
      this.threadsAsked = null;
      this.backendError = null;
      pool.info().then(
        (info) => {
          if (this.pool !== pool) return;
          this.backendInUse = info.backend;
          this.threadsInUse = info.threads;
          this.workersInUse = pool.size;
          this.threadsAsked = plan.threads;
        },
        (e: unknown) => {
          if (this.pool === pool)
            this.backendError = `${this.backendChoice === 'webgpu' ? 'WebGPU' : 'The engine'} could not start: ${(e as Error)?.message ?? String(e)}`;
        },
      );
    }
    return this.pool;
  }

  /** Modules of the chosen types without a result. */
  pendingCount(): number {
    let n = 0;
    for (const t of this.activeTypes) for (const m of t.modules) if (!this.results.has(m.name)) n++;
    return n;
  }

  /** Scan what the chosen types still lack; on demand, one scan at a time. */
  ensureScanned(): Promise<void> {
    if (this.running) return this.running;
    const s = this.session;
    if (!s || s.kind !== 'model' || this.paused || this.resumeOffer) return Promise.resolve();
    const run: Promise<void> = this.scanLoop(s).finally(() => {
      if (this.running === run) this.running = null;
    });
    this.running = run;
    return run;
  }

  /** The Scan / Resume button. */
  startScan(): void {
    this.paused = false;
    void this.ensureScanned();
  }

  cancel(): void {
    if (!this.abort) return;
    this.paused = true;
    this.scan.status = 'cancelling';
    this.abort.abort();
  }

  private async scanLoop(s: ModelSession): Promise<void> {
    const gen = this.generation;
    for (;;) {
      if (gen !== this.generation || this.paused) return;
      const want = this.activeTypes.filter((t) => t.modules.some((m) => !this.results.has(m.name)));
      if (want.length === 0) {
        if (this.scan.status === 'scanning') this.scan.status = 'done';
        return;
      }
      const catTypes = s.catalogue.types.filter((t) => want.some((w) => w.name === t.name));
      const known = new Map<string, { details: ScoreDetails; singularValues?: Float64Array }>();
      for (const t of catTypes) {
        for (const m of t.modules) {
          const o = this.results.get(m.name);
          const sv = this.spectra.get(m.name);
          if (o?.details) known.set(m.name, { details: o.details, ...(sv ? { singularValues: sv } : {}) });
        }
      }
      this.beginStored(s);
      const ac = new AbortController();
      this.abort = ac;
      this.scan = { ...IDLE_SCAN, status: 'scanning', kept: this.keptMatrices(s) };
      this.latestProgress = null;
      let pool: WorkerPool;
      try {
        pool = this.getPool();
      } catch (e) {
        this.backendError = `The engine could not start: ${(e as Error).message}`;
        this.scan.status = 'idle';
        this.paused = true;
        return;
      }
      const before = this.results.size;
      const t0 = performance.now();
      performance.mark('spectroscope:scan-start');
      const ticker = setInterval(() => {
        if (gen !== this.generation) clearInterval(ticker);
        else if (this.scan.status === 'scanning') this.scan.elapsed = (performance.now() - t0) / 1000;
      }, 500);
      try {
        const outcome = await scanModel({
          catalogue: s.catalogue,
          types: catTypes,
          pool,
          known,
          sourceRef: (file) => ({ name: file, blob: s.files.get(file)! }),
          signal: ac.signal,
          onResult: (r, p) => {
            if (gen !== this.generation) return;
            this.record(r);
            this.keep(r);
            this.latestProgress = p;
            this.scheduleFlush();
          },
        });
        if (gen !== this.generation) return;
        // Modules that were never sent (unsupported) come back only in the outcome.
        for (const r of outcome.results) if (!this.results.has(r.module.name) && r.error !== 'cancelled') this.record(r);
        this.flush();
        // Show a spectrum once there is a full picture (not during the scan: one render less per
        // frame), in a task of its own so that the last flush and this render stay short each.
        if (this.focus === null)
          setTimeout(() => {
            if (gen === this.generation && this.focus === null) this.focus = this.firstScored();
          }, 0);
        this.scan.elapsed = outcome.seconds;
        if (outcome.cancelled) {
          this.scan.status = 'cancelled';
          return;
        }
        this.scan.status = 'done';
        // A pass that scored nothing new would only repeat itself: wait for the user.
        if (this.results.size === before) {
          this.paused = true;
          return;
        }
      } catch (e) {
        if (gen !== this.generation) return;
        this.backendError = `The scan failed: ${(e as Error)?.message ?? String(e)}`;
        this.scan.status = 'idle';
        this.paused = true;
        return;
      } finally {
        performance.mark('spectroscope:scan-end');
        clearInterval(ticker);
        if (this.abort === ac) this.abort = null;
      }
    }
  }

  // ---------------------------------------------------------------- kept results (IndexedDB)

  /** On opening a model: what an earlier scan of the same files kept becomes an offer to resume. */
  private adoptStored(fingerprint: string, catalogue: Catalogue, summary: ScanSummary | null, records: StoredRecord[]): void {
    const byName = new Map(catalogue.modules.map((m) => [m.name, m]));
    // A record only counts for the same tensor in the same file.
    const matching = records.filter((r) => {
      const m = byName.get(r.module);
      return r.details !== undefined && m !== undefined && r.tensor === tensorKey(m.weight.file, m.weight.name);
    });
    this.stored = summary
      ? { summary: { ...summary }, ok: new Set(matching.map((r) => r.module)), failed: new Set() }
      : {
          summary: {
            fingerprint,
            model: this.modelName,
            folderName: (this.session as ModelSession | null)?.folderName ?? '',
            created: Date.now(),
            updated: Date.now(),
            kept: 0,
            failed: 0,
            total: 0,
            selectedTypes: [],
            percent: this.percent,
            layers: catalogue.layers.length,
          },
          ok: new Set(),
          failed: new Set(),
        };
    if (!summary || matching.length === 0) return;
    const names = new Set(catalogue.types.map((t) => t.name));
    const chosen = summary.selectedTypes.filter((t) => names.has(t));
    if (chosen.length) this.selectedTypes = catalogue.types.filter((t) => chosen.includes(t.name)).map((t) => t.name);
    const want = new Set(this.selectedTypes);
    const modules = catalogue.types.filter((t) => want.has(t.name)).flatMap((t) => t.modules);
    const kept = new Set(matching.map((r) => r.module));
    this.keptRecords = matching;
    this.resumeOffer = { kept: modules.filter((m) => kept.has(m.name)).length, total: modules.length, date: summary.updated };
  }

  /** The banner's Resume: the kept matrices become results; only the rest is computed. */
  resume(): void {
    if (!this.resumeOffer) return;
    for (const r of this.keptRecords) {
      this.results.set(r.module, { score: r.details!.score, details: r.details! });
      if (r.singularValues) this.spectra.set(r.module, Float64Array.from(r.singularValues));
    }
    if (this.stored) this.percent = this.stored.summary.percent;
    this.keptRecords = [];
    this.resumeOffer = null;
    this.paused = false;
    this.version++;
    if (this.focus === null) this.focus = this.firstScored();
    void this.ensureScanned();
  }

  /** The banner's Start over: the kept records go, everything is computed afresh. */
  async startOver(): Promise<void> {
    if (!this.resumeOffer || !this.stored) return;
    const gen = this.generation;
    this.keptRecords = [];
    this.stored.ok.clear();
    this.stored.failed.clear();
    await scanStore.clearRecords(this.stored.summary.fingerprint);
    if (gen !== this.generation) return;
    this.resumeOffer = null;
    this.paused = false;
    void this.ensureScanned();
  }

  /** A scan pass starts: the summary (chosen types, percent) and the layout are written. */
  private beginStored(s: ModelSession): void {
    const st = this.stored;
    if (!st) return;
    st.summary = {
      ...st.summary,
      model: this.modelName || st.summary.model,
      folderName: s.folderName,
      updated: Date.now(),
      kept: st.ok.size,
      failed: st.failed.size,
      total: this.activeTypes.reduce((n, t) => n + t.modules.length, 0),
      selectedTypes: [...this.selectedTypes],
      percent: this.percent,
      layers: s.layers,
    };
    void scanStore.begin({ ...st.summary, selectedTypes: [...st.summary.selectedTypes] }, { fingerprint: st.summary.fingerprint, types: s.types });
  }

  /** One matrix's result, stored as soon as it is computed. */
  private keep(r: ModuleResult): void {
    const st = this.stored;
    if (!st || r.error === 'cancelled' || (!r.details && r.error === undefined)) return;
    const m = r.module;
    if (r.details) {
      st.ok.add(m.name);
      st.failed.delete(m.name);
    } else st.failed.add(m.name);
    st.summary = { ...st.summary, updated: Date.now(), kept: st.ok.size, failed: st.failed.size };
    const record: StoredRecord = {
      fingerprint: st.summary.fingerprint,
      module: m.name,
      tensor: tensorKey(m.weight.file, m.weight.name),
      ...(r.details ? { details: r.details } : { error: r.error! }),
      ...(r.singularValues ? { singularValues: Float32Array.from(r.singularValues) } : {}),
    };
    void scanStore.put(record, { ...st.summary, selectedTypes: [...st.summary.selectedTypes] });
  }

  /** The landing view's Recent scans. */
  async loadRecent(): Promise<void> {
    this.recent = await scanStore.list();
  }

  async deleteRecent(fingerprint: string): Promise<void> {
    await scanStore.remove(fingerprint);
    await this.loadRecent();
  }

  /** Reopen stored results without the weights: the views, the exports, and the spectra. */
  async openRecent(fingerprint: string): Promise<void> {
    const gen = await this.reset();
    this.busy = 'Reading stored results…';
    const [summary, layout, records] = await Promise.all([scanStore.summary(fingerprint), scanStore.layout(fingerprint), scanStore.records(fingerprint)]);
    if (gen !== this.generation) return;
    this.busy = null;
    if (!summary || !layout) {
      this.openError = { file: '', message: 'That stored scan is no longer there.' };
      await this.loadRecent();
      return;
    }
    const stored = new Set(records.map((r) => r.module));
    const types: TypeView[] = layout.types.filter((t) => t.modules.some((m) => stored.has(m.name)));
    for (const r of records) {
      if (r.details) {
        this.results.set(r.module, { score: r.details.score, details: r.details });
        if (r.singularValues) this.spectra.set(r.module, Float64Array.from(r.singularValues));
      } else if (r.error !== undefined) this.results.set(r.module, { score: NaN, error: r.error });
    }
    const chosen = types.filter((t) => summary.selectedTypes.includes(t.name)).map((t) => t.name);
    this.modelName = summary.model;
    this.percent = summary.percent;
    this.selectedTypes = chosen.length ? chosen : types.map((t) => t.name);
    this.session = {
      kind: 'saved',
      file: summary.folderName || summary.model,
      types,
      layers: summary.layers,
      stored: { fingerprint, updated: summary.updated, kept: summary.kept, total: summary.total },
    };
    this.scan = { ...IDLE_SCAN, status: 'done' };
    this.version++;
    this.focus = this.firstScored();
  }

  private record(r: ModuleResult): void {
    if (r.error === 'cancelled') return;
    const o: Outcome = r.details
      ? { score: r.details.score, details: r.details, ...(r.backend ? { backend: r.backend } : {}), ...(r.seconds !== undefined ? { seconds: r.seconds } : {}) }
      : { score: NaN, error: r.error ?? 'not scored' };
    this.results.set(r.module.name, o);
    if (r.singularValues) this.spectra.set(r.module.name, r.singularValues);
    if (r.backend && !this.backendInUse) this.backendInUse = r.backend;
  }

  private scheduleFlush(): void {
    if (this.flushQueued) return;
    this.flushQueued = true;
    const wait = Math.max(0, this.lastFlush + FLUSH_INTERVAL_MS - performance.now());
    setTimeout(() => {
      let done = false;
      const run = () => {
        if (done) return;
        done = true;
        this.flush();
      };
      // rAF paces updates to the screen; the timeout keeps a hidden tab's state current.
      requestAnimationFrame(run);
      setTimeout(run, 250);
    }, wait);
  }

  private flush(): void {
    this.flushQueued = false;
    this.lastFlush = performance.now();
    const p = this.latestProgress;
    if (p && (this.scan.status === 'scanning' || this.scan.status === 'cancelling')) {
      this.scan.done = p.done;
      this.scan.total = p.total;
      this.scan.bytesRead = p.bytesRead;
      this.scan.bytesTotal = p.bytesTotal;
      this.scan.elapsed = p.elapsedSeconds;
      this.scan.eta = p.etaSeconds;
    }
    this.version++;
  }

  /** Distinct tensors of the chosen types that already have a result (a tied head shares its embedding's). */
  private keptMatrices(s: ModelSession): number {
    const want = new Set(this.selectedTypes);
    const kept = new Set<string>();
    for (const t of s.catalogue.types) {
      if (!want.has(t.name)) continue;
      for (const m of t.modules) if (this.results.has(m.name)) kept.add(tensorKey(m.weight.file, m.weight.name));
    }
    return kept.size;
  }

  private firstScored(): string | null {
    for (const t of this.activeTypes) for (const m of t.modules) if (this.results.get(m.name)?.details && t.modules.length > 1) return m.name;
    for (const t of this.activeTypes) for (const m of t.modules) if (this.results.get(m.name)?.details) return m.name;
    return null;
  }

  outcomeOf(name: string): Outcome | undefined {
    void this.version;
    return this.results.get(name);
  }

  spectrumOf(name: string): Float64Array | undefined {
    void this.version;
    return this.spectra.get(name);
  }

  moduleView(name: string): ModuleView | undefined {
    for (const t of this.session?.types ?? []) for (const m of t.modules) if (m.name === name) return m;
    return undefined;
  }

  dispose(): void {
    this.abort?.abort();
    this.pool?.close();
    this.pool = null;
  }
}

export const app = new AppState();
