/**
 * Safetensors header parsing and validation, rule for rule as the reference `safetensors`
 * library checks a file, so that anything we accept the reference would load too. Only the
 * header is read; tensor bytes are read later, one tensor (or row block) at a time.
 */
import type { ByteSource } from './bytesource.js';
import { DTYPE_BITS, type Dtype, isKnownDtype } from './dtype.js';
import { SpectroscopeError, quoteForMessage } from './errors.js';

/** The reference library's limit on the JSON header. */
export const MAX_HEADER_BYTES = 100_000_000;

export interface TensorInfo {
  name: string;
  dtype: Dtype;
  shape: number[];
  /** Element count (a safe integer: larger shapes are rejected). */
  elements: number;
  /** Absolute byte offset of the tensor's data in the file. */
  offset: number;
  byteLength: number;
  /** The file it lives in. */
  file: string;
}

export interface SafetensorsHeader {
  file: string;
  fileSize: number;
  headerBytes: number;
  /** Where the data section starts (8 + headerBytes). */
  dataStart: number;
  metadata: Record<string, string> | null;
  /** FNV-1a hash of the raw header bytes: with name and size, identifies the file for resuming. */
  headerHash: string;
  /** In header order. */
  tensors: TensorInfo[];
}

const LFS_PREFIX = 'version https://git-lfs.github.com/spec/';

/** Recognise the common wrong files early, so the message says what the file really is. */
export function sniffWrongFormat(name: string, head: Uint8Array): SpectroscopeError | null {
  const text = new TextDecoder('latin1').decode(head.subarray(0, 64));
  if (text.startsWith(LFS_PREFIX)) {
    return new SpectroscopeError(
      'lfs-pointer',
      name,
      'is a Git LFS pointer, not the weights: run `git lfs pull` (or download the file itself) and open the folder again',
    );
  }
  if (text.startsWith('GGUF')) {
    return new SpectroscopeError('gguf', name, 'is a GGUF file (llama.cpp); Spectroscope reads Hugging Face safetensors: open the original safetensors model');
  }
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
    return new SpectroscopeError('pytorch-pickle', name, 'is a zip archive (a PyTorch checkpoint?), not safetensors: convert it to safetensors first');
  }
  if (head[0] === 0x80 && head[1] !== undefined && head[1] >= 2 && head[1] <= 5) {
    return new SpectroscopeError('pytorch-pickle', name, 'is a Python pickle (a PyTorch checkpoint?), not safetensors: convert it to safetensors first');
  }
  return null;
}

function fail(code: ConstructorParameters<typeof SpectroscopeError>[0], file: string, msg: string): never {
  throw new SpectroscopeError(code, file, msg);
}

/** Read and validate one file's header. Throws SpectroscopeError naming the file. */
export async function readSafetensorsHeader(src: ByteSource): Promise<SafetensorsHeader> {
  const file = src.name;
  if (src.size < 8) {
    const head = src.size > 0 ? await src.read(0, src.size) : new Uint8Array(0);
    throw (
      sniffWrongFormat(file, head) ?? new SpectroscopeError('header-too-small', file, `is ${src.size} bytes: too small to be a safetensors file (truncated?)`)
    );
  }
  const first = await src.read(0, Math.min(src.size, 64));
  const dv = new DataView(first.buffer, first.byteOffset, 8);
  const len64 = dv.getBigUint64(0, true);
  if (len64 > BigInt(MAX_HEADER_BYTES)) {
    throw (
      sniffWrongFormat(file, first) ??
      new SpectroscopeError('header-too-large', file, `header length ${len64} is over the 100,000,000-byte limit: not a safetensors file, or corrupt`)
    );
  }
  const headerBytes = Number(len64);
  if (8 + headerBytes > src.size) {
    throw (
      sniffWrongFormat(file, first) ??
      new SpectroscopeError('header-length', file, `header length ${headerBytes} runs past the end of the ${src.size}-byte file (truncated?)`)
    );
  }
  const raw = await src.read(8, headerBytes);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    fail('header-utf8', file, 'header is not valid UTF-8');
  }
  if (!text.startsWith('{')) fail('header-not-object', file, 'header does not start with "{": not a safetensors file, or corrupt');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    fail('header-json', file, `header is not valid JSON (${(e as Error).message.split('\n')[0]})`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail('header-not-object', file, 'header is not a JSON object');
  const dataStart = 8 + headerBytes;
  const dataSize = src.size - dataStart;

  let metadata: Record<string, string> | null = null;
  const tensors: TensorInfo[] = [];
  for (const [name, entry] of Object.entries(json as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = parseMetadata(file, entry);
      continue;
    }
    tensors.push(parseEntry(file, name, entry, dataStart));
  }

  // Sorted by offset the tensors must tile the data section exactly, from 0 to its end.
  const sorted = tensors.slice().sort((a, b) => a.offset - b.offset || a.byteLength - b.byteLength);
  let expected = dataStart;
  for (const t of sorted) {
    if (t.offset !== expected) {
      fail(
        'not-contiguous',
        file,
        `tensor ${quoteForMessage(t.name)} starts at data offset ${t.offset - dataStart}, expected ${expected - dataStart}: tensors must be contiguous`,
      );
    }
    expected = t.offset + t.byteLength;
  }
  if (expected - dataStart !== dataSize) {
    fail(
      'data-size',
      file,
      expected - dataStart > dataSize
        ? `tensor data needs ${expected - dataStart} bytes but the file holds ${dataSize} after the header (truncated?)`
        : `file has ${dataSize - (expected - dataStart)} bytes after the last tensor: data size ${dataSize} does not match the header (${expected - dataStart})`,
    );
  }
  return { file, fileSize: src.size, headerBytes, dataStart, metadata, headerHash: fnv1a64(raw), tensors };
}

function parseMetadata(file: string, entry: unknown): Record<string, string> {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail('metadata', file, '__metadata__ is not an object of strings');
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(entry as Record<string, unknown>)) {
    if (typeof v !== 'string') fail('metadata', file, `__metadata__ value for ${quoteForMessage(k)} is not a string`);
    out[k] = v;
  }
  return out;
}

function parseEntry(file: string, name: string, entry: unknown, dataStart: number): TensorInfo {
  const q = quoteForMessage(name);
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail('tensor-entry', file, `entry ${q} is not an object`);
  const e = entry as Record<string, unknown>;
  if (!isKnownDtype(e.dtype)) {
    fail('unknown-dtype', file, `tensor ${q} has unknown dtype ${quoteForMessage(String(typeof e.dtype === 'string' ? e.dtype : JSON.stringify(e.dtype)))}`);
  }
  const dtype = e.dtype;
  if (!Array.isArray(e.shape)) fail('bad-shape', file, `tensor ${q} has no shape array`);
  let elements = 1;
  const shape: number[] = [];
  for (const d of e.shape as unknown[]) {
    if (typeof d !== 'number' || !Number.isInteger(d) || d < 0) fail('bad-shape', file, `tensor ${q} has a shape entry that is not a non-negative integer`);
    shape.push(d);
    elements *= d;
    if (!Number.isSafeInteger(elements)) fail('bad-shape', file, `tensor ${q} has shape [${(e.shape as number[]).join(', ')}]: its element count overflows`);
  }
  const offs = e.data_offsets;
  if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((x) => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0)) {
    fail('bad-offsets', file, `tensor ${q} needs data_offsets [begin, end] of non-negative integers`);
  }
  const [begin, end] = offs as [number, number];
  if (end < begin) fail('bad-offsets', file, `tensor ${q} has data_offsets [${begin}, ${end}] with end before begin`);
  const bits = elements * DTYPE_BITS[dtype];
  if (!Number.isSafeInteger(bits) || bits % 8 !== 0 || bits / 8 !== end - begin) {
    fail('size-mismatch', file, `tensor ${q}: ${dtype} [${shape.join(', ')}] needs ${bits / 8} bytes but data_offsets span ${end - begin}`);
  }
  return { name, dtype, shape, elements, offset: dataStart + begin, byteLength: end - begin, file };
}

/** 64-bit FNV-1a as two 32-bit halves (fast, sync, same in page, worker and Node; not for security). */
export function fnv1a64(bytes: Uint8Array): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x050c5d1f;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    h1 = Math.imul(h1 ^ b, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ b ^ (h1 >>> 24), 0x01000193) >>> 0;
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}
