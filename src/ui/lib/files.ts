/**
 * Getting the user's files into the page: a dropped folder (or several, or loose files), the
 * folder picker, the plain file inputs. Everything ends as `PickedFile`s: a `File` and its path
 * relative to what the user picked, folder name included (`stories260K/config.json`).
 */

export interface PickedFile {
  /** Path as picked, `/`-separated, starting with the picked folder's name when there is one. */
  path: string;
  file: File;
}

// Minimal typings for the File System Access API and the old Entries API, which the DOM lib
// only partly describes.
interface FsHandle {
  readonly kind: 'file' | 'directory';
  readonly name: string;
}
interface FsFileHandle extends FsHandle {
  readonly kind: 'file';
  getFile(): Promise<File>;
}
interface FsDirectoryHandle extends FsHandle {
  readonly kind: 'directory';
  values(): AsyncIterable<FsFileHandle | FsDirectoryHandle>;
}
interface ItemWithHandle extends DataTransferItem {
  getAsFileSystemHandle?: () => Promise<FsHandle | null>;
}
type PickerWindow = Window & { showDirectoryPicker?: (opts?: { id?: string; mode?: 'read' }) => Promise<FsDirectoryHandle> };

/** A folder this deep is not a model folder: stop rather than walk a whole disk. */
const MAX_DEPTH = 8;
const MAX_FILES = 100_000;

async function walkHandle(handle: FsHandle, prefix: string, out: PickedFile[], depth: number): Promise<void> {
  if (out.length >= MAX_FILES) return;
  if (handle.kind === 'file') {
    out.push({ path: prefix + handle.name, file: await (handle as FsFileHandle).getFile() });
    return;
  }
  if (depth > MAX_DEPTH) return;
  for await (const child of (handle as FsDirectoryHandle).values()) {
    await walkHandle(child, `${prefix}${handle.name}/`, out, depth + 1);
  }
}

function readAllEntries(dir: FileSystemDirectoryEntry): Promise<FileSystemEntry[]> {
  const reader = dir.createReader();
  const all: FileSystemEntry[] = [];
  return new Promise((resolve, reject) => {
    // Chromium returns at most 100 entries per call: keep reading until a call returns none.
    const next = () =>
      reader.readEntries((batch) => {
        if (batch.length === 0) resolve(all);
        else {
          all.push(...batch);
          if (all.length >= MAX_FILES) resolve(all);
          else next();
        }
      }, reject);
    next();
  });
}

async function walkEntry(entry: FileSystemEntry, out: PickedFile[], depth: number): Promise<void> {
  if (out.length >= MAX_FILES) return;
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ path: entry.fullPath.replace(/^\/+/, ''), file });
    return;
  }
  if (!entry.isDirectory || depth > MAX_DEPTH) return;
  for (const child of await readAllEntries(entry as FileSystemDirectoryEntry)) await walkEntry(child, out, depth + 1);
}

/**
 * Call synchronously inside the `drop` handler: the DataTransfer's items are only readable
 * during the event, so handles, entries and files are all taken now and walked afterwards.
 */
export function collectDrop(dt: DataTransfer): Promise<PickedFile[]> {
  const items = Array.from(dt.items ?? []).filter((i) => i.kind === 'file');
  const handles = items.map((i) => {
    const f = (i as ItemWithHandle).getAsFileSystemHandle;
    if (typeof f !== 'function') return null;
    try {
      return f.call(i).catch(() => null);
    } catch {
      return null;
    }
  });
  const entries = items.map((i) => (typeof i.webkitGetAsEntry === 'function' ? i.webkitGetAsEntry() : null));
  const plain = items.map((i) => i.getAsFile());
  const loose = items.length === 0 ? Array.from(dt.files ?? []) : [];

  return (async () => {
    const out: PickedFile[] = [];
    for (let k = 0; k < items.length; k++) {
      const h = handles[k] ? await handles[k] : null;
      if (h) {
        try {
          await walkHandle(h, '', out, 0);
          continue;
        } catch {
          /* fall back to the entry */
        }
      }
      const e = entries[k];
      if (e) {
        await walkEntry(e, out, 0);
        continue;
      }
      const f = plain[k];
      if (f) out.push({ path: f.name, file: f });
    }
    for (const f of loose) out.push({ path: f.name, file: f });
    return out;
  })();
}

/** From `<input type=file>` (with or without webkitdirectory). */
export function fromInput(files: FileList | null): PickedFile[] {
  return Array.from(files ?? []).map((file) => ({ path: file.webkitRelativePath || file.name, file }));
}

export function hasDirectoryPicker(): boolean {
  return typeof (window as PickerWindow).showDirectoryPicker === 'function';
}

/** `showDirectoryPicker`; null when the user closes the dialog. */
export async function pickDirectory(): Promise<PickedFile[] | null> {
  let dir: FsDirectoryHandle;
  try {
    dir = await (window as PickerWindow).showDirectoryPicker!({ id: 'spectroscope-model', mode: 'read' });
  } catch (e) {
    if ((e as DOMException)?.name === 'AbortError') return null;
    throw e;
  }
  const out: PickedFile[] = [];
  await walkHandle(dir, '', out, 0);
  return out;
}

/** A model's files and weight-looking files; everything else in a folder (tokenizer, README) is skipped. */
export const MODEL_FILE = /(\.safetensors|\.safetensors\.index\.json|(^|\/)config\.json|\.(bin|pt|pth|ckpt|gguf|pkl|h5|msgpack))$/i;

export interface Arranged {
  /** The picked folder's name ('' for loose files). */
  folderName: string;
  /** Relative to the model folder. */
  files: Map<string, File>;
  /** Files that look like weights or config. */
  modelFiles: string[];
  /** JSON files that may be saved results. */
  jsonFiles: string[];
  /** Names seen twice (two dropped folders with the same file): the first one is kept. */
  duplicates: string[];
}

/**
 * Strip the picked folder's own name: `stories260K/config.json` → `config.json`. Several
 * folders dropped together have their files merged at the top level.
 */
export function arrange(picked: PickedFile[]): Arranged {
  const roots = new Set(picked.map((p) => (p.path.includes('/') ? p.path.slice(0, p.path.indexOf('/')) : '')));
  const withFolder = [...roots].filter((r) => r !== '');
  const files = new Map<string, File>();
  const duplicates: string[] = [];
  let folderName = withFolder.length === 1 ? withFolder[0]! : '';
  for (const p of picked) {
    const rel = p.path.includes('/') ? p.path.slice(p.path.indexOf('/') + 1) : p.path;
    if (files.has(rel)) {
      duplicates.push(rel);
      continue;
    }
    files.set(rel, p.file);
  }
  if (withFolder.length > 1) {
    // Several folders: the one holding config.json names the model.
    const cfg = picked.find((p) => /^[^/]+\/config\.json$/.test(p.path));
    folderName = cfg ? cfg.path.slice(0, cfg.path.indexOf('/')) : withFolder[0]!;
  }
  const names = [...files.keys()];
  return {
    folderName,
    files,
    modelFiles: names.filter((n) => !n.includes('/') && MODEL_FILE.test(n)),
    jsonFiles: names.filter((n) => /\.json$/i.test(n) && !/(^|\/)(config|.*\.index)\.json$/i.test(n)),
    duplicates,
  };
}
