/**
 * Byte sources: everything we read from a model goes through `read(offset, length)`, so no
 * code path ever needs a whole file in memory. A `File`/`Blob` in the page, a file handle in
 * Node (see bytesource-node.ts), plain bytes in tests.
 */
export interface ByteSource {
  /** Path relative to the model folder, e.g. `model-00001-of-00004.safetensors`. */
  readonly name: string;
  readonly size: number;
  /** Exactly `length` bytes from `offset`, in a fresh, zero-offset buffer (so typed views are aligned). */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** A `Blob` (a dropped `File`) read by `slice`, never whole. */
export class BlobSource implements ByteSource {
  readonly name: string;
  readonly size: number;
  readonly blob: Blob;

  constructor(blob: Blob, name: string) {
    this.blob = blob;
    this.name = name;
    this.size = blob.size;
  }

  async read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    const buf = await this.blob.slice(offset, offset + length).arrayBuffer();
    if (buf.byteLength !== length) {
      throw new RangeError(`${this.name}: short read at ${offset} (${buf.byteLength} of ${length} bytes)`);
    }
    return new Uint8Array(buf);
  }
}

/** In-memory bytes: tests and generated fixtures. */
export class MemorySource implements ByteSource {
  readonly name: string;
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array, name: string) {
    this.bytes = bytes;
    this.name = name;
  }

  get size(): number {
    return this.bytes.byteLength;
  }

  read(offset: number, length: number): Promise<Uint8Array> {
    checkRange(this, offset, length);
    return Promise.resolve(this.bytes.slice(offset, offset + length));
  }
}

export function checkRange(src: { name: string; size: number }, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > src.size) {
    throw new RangeError(`${src.name}: read of ${length} bytes at ${offset} is outside the file (${src.size} bytes)`);
  }
}

export async function readText(src: ByteSource, maxBytes = 64 * 1024 * 1024): Promise<string> {
  if (src.size > maxBytes) throw new RangeError(`${src.name}: ${src.size} bytes is too large to read as text`);
  return new TextDecoder('utf-8', { fatal: true }).decode(await src.read(0, src.size));
}
