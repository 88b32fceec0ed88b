/**
 * Node byte source: positional reads from a file handle. Node-only (imported by the CLI and by
 * Node workers, never by the page).
 */
import { open, stat } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { type ByteSource, checkRange } from './bytesource.js';

export class NodeFileSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  readonly path: string;
  private handle: Promise<FileHandle> | null = null;

  constructor(path: string, name: string, size: number) {
    this.path = path;
    this.name = name;
    this.size = size;
  }

  static async open(path: string, name: string): Promise<NodeFileSource> {
    const st = await stat(path);
    return new NodeFileSource(path, name, st.size);
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    this.handle ??= open(this.path, 'r');
    const fh = await this.handle;
    // A fresh ArrayBuffer (not Buffer's shared pool) keeps typed-array views aligned.
    const out = new Uint8Array(length);
    let done = 0;
    while (done < length) {
      const { bytesRead } = await fh.read(out, done, length - done, offset + done);
      if (bytesRead === 0) throw new RangeError(`${this.name}: file ended at ${offset + done} (was it truncated while reading?)`);
      done += bytesRead;
    }
    return out;
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = null;
    if (h) await (await h).close();
  }
}
