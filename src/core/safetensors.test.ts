import { describe, expect, it } from 'vitest';
import { MemorySource } from './bytesource.js';
import { SpectroscopeError } from './errors.js';
import { readSafetensorsHeader } from './safetensors.js';
import { assemble, headerObject, writeSafetensors } from '../testing/safetensors-writer.js';

const NAME = 'model.safetensors';

async function parse(bytes: Uint8Array) {
  return readSafetensorsHeader(new MemorySource(bytes, NAME));
}

async function expectError(bytes: Uint8Array, code: string, text?: RegExp) {
  const err = await parse(bytes).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err, 'expected a SpectroscopeError').toBeInstanceOf(SpectroscopeError);
  const e = err as SpectroscopeError;
  expect(e.code).toBe(code);
  expect(e.file).toBe(NAME);
  expect(e.describe()).toMatch(new RegExp(`^${NAME}: `));
  expect(e.describe()).not.toMatch(/\n/);
  if (text) expect(e.message).toMatch(text);
}

const valid = () =>
  writeSafetensors([
    { name: 'a.weight', dtype: 'F32', shape: [2, 3], data: new Uint8Array(24).fill(1) },
    { name: 'b.weight', dtype: 'BF16', shape: [4], data: new Uint8Array(8).fill(2) },
  ]);

/** A file whose header is the given object and whose data section has `dataLen` bytes. */
const withHeader = (h: unknown, dataLen = 0) => assemble(JSON.stringify(h), new Uint8Array(dataLen));

describe('readSafetensorsHeader: valid files', () => {
  it('reads tensors, offsets and metadata', async () => {
    const h = await parse(valid());
    expect(h.metadata).toEqual({ format: 'pt' });
    expect(h.tensors.map((t) => [t.name, t.dtype, t.shape, t.byteLength])).toEqual([
      ['a.weight', 'F32', [2, 3], 24],
      ['b.weight', 'BF16', [4], 8],
    ]);
    expect(h.tensors[0]!.offset).toBe(h.dataStart);
    expect(h.tensors[1]!.offset).toBe(h.dataStart + 24);
  });

  it('accepts an empty header and no data', async () => {
    expect((await parse(assemble('{}', new Uint8Array(0)))).tensors).toEqual([]);
  });

  it('accepts entries listed out of offset order, and zero-size tensors', async () => {
    const h = {
      b: { dtype: 'F32', shape: [1], data_offsets: [4, 8] },
      a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      z: { dtype: 'F16', shape: [0, 5], data_offsets: [8, 8] },
    };
    expect((await parse(withHeader(h, 8))).tensors.map((t) => t.name)).toEqual(['b', 'a', 'z']);
  });

  it('accepts sub-byte and new dtypes by their bit sizes', async () => {
    const h = { a: { dtype: 'F4', shape: [2, 4], data_offsets: [0, 4] }, b: { dtype: 'F8_E8M0', shape: [3], data_offsets: [4, 7] } };
    expect((await parse(withHeader(h, 7))).tensors.length).toBe(2);
  });
});

describe('readSafetensorsHeader: each rule broken', () => {
  it('file shorter than 8 bytes', () => expectError(new Uint8Array(5), 'header-too-small'));
  it('header length over 100,000,000', async () => {
    const b = valid();
    new DataView(b.buffer).setBigUint64(0, 100_000_001n, true);
    await expectError(b, 'header-too-large');
  });
  it('header length past the end of the file', async () => {
    const b = valid();
    new DataView(b.buffer).setBigUint64(0, BigInt(b.length), true);
    await expectError(b, 'header-length', /truncated/);
  });
  it('header length of 2^64-1', async () => {
    const b = valid();
    new DataView(b.buffer).setBigUint64(0, 0xffffffffffffffffn, true);
    await expectError(b, 'header-too-large');
  });
  it('header not UTF-8', async () => {
    const b = assemble('{"a":1}   ', new Uint8Array(0));
    b[10] = 0xff;
    await expectError(b, 'header-utf8');
  });
  it('header not JSON', () => expectError(assemble('{"a": ', new Uint8Array(0)), 'header-json'));
  it('header not an object', () => expectError(assemble('[1, 2]', new Uint8Array(0)), 'header-not-object'));
  it('header starting with whitespace', () => expectError(assemble('  {}', new Uint8Array(0)), 'header-not-object'));
  it('entry not an object', () => expectError(withHeader({ a: [1] }), 'tensor-entry'));
  it('unknown dtype', () => expectError(withHeader({ a: { dtype: 'F12', shape: [1], data_offsets: [0, 2] } }, 2), 'unknown-dtype', /F12/));
  it('missing dtype', () => expectError(withHeader({ a: { shape: [1], data_offsets: [0, 2] } }, 2), 'unknown-dtype'));
  it('shape not an array', () => expectError(withHeader({ a: { dtype: 'F32', shape: 4, data_offsets: [0, 16] } }, 16), 'bad-shape'));
  it('negative shape', () => expectError(withHeader({ a: { dtype: 'F32', shape: [-1, 4], data_offsets: [0, 16] } }, 16), 'bad-shape'));
  it('fractional shape', () => expectError(withHeader({ a: { dtype: 'F32', shape: [1.5], data_offsets: [0, 4] } }, 4), 'bad-shape'));
  it('element count overflowing 2^53', () =>
    expectError(withHeader({ a: { dtype: 'F32', shape: [2 ** 30, 2 ** 30, 2 ** 30], data_offsets: [0, 4] } }, 4), 'bad-shape', /overflow/));
  it('data_offsets missing', () => expectError(withHeader({ a: { dtype: 'F32', shape: [1] } }, 4), 'bad-offsets'));
  it('data_offsets of three numbers', () => expectError(withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4, 8] } }, 4), 'bad-offsets'));
  it('data_offsets negative', () => expectError(withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [-4, 0] } }, 4), 'bad-offsets'));
  it('data_offsets end before begin', () => expectError(withHeader({ a: { dtype: 'F32', shape: [0], data_offsets: [4, 0] } }, 4), 'bad-offsets'));
  it('byte span not elements × dtype size', () => expectError(withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, 4), 'size-mismatch'));
  it('first tensor not at offset 0', () => expectError(withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [4, 8] } }, 8), 'not-contiguous'));
  it('a gap between tensors', () =>
    expectError(
      withHeader({ a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, b: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, 12),
      'not-contiguous',
    ));
  it('overlapping tensors', () =>
    expectError(
      withHeader({ a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] }, b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] } }, 12),
      'not-contiguous',
    ));
  it('data section longer than the tensors', () => expectError(withHeader(headerObject([{ name: 'a', dtype: 'F32', shape: [1] }]), 8), 'data-size'));
  it('data section shorter than the tensors (truncated)', () => expectError(valid().slice(0, valid().length - 3), 'data-size', /truncated/));
  it('__metadata__ with a non-string value', () => expectError(withHeader({ __metadata__: { format: 1 } }), 'metadata'));
  it('__metadata__ not an object', () => expectError(withHeader({ __metadata__: 'x' }), 'metadata'));
});

describe('wrong formats are named for what they are', () => {
  const text = (s: string) => new TextEncoder().encode(s);
  it('Git LFS pointer', () => expectError(text('version https://git-lfs.github.com/spec/v1\noid sha256:abc\nsize 123456\n'), 'lfs-pointer', /git lfs pull/));
  it('GGUF', () => expectError(new Uint8Array([...text('GGUF'), 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 'gguf'));
  it('PyTorch zip', () => expectError(new Uint8Array([0x50, 0x4b, 0x03, 0x04, ...new Array(60).fill(0)]), 'pytorch-pickle', /zip/));
  it('pickle', () => expectError(new Uint8Array([0x80, 0x02, ...new Array(60).fill(0x41)]), 'pytorch-pickle', /pickle/));
  it('a 100 MB header of spaces is rejected quickly and clearly', async () => {
    const hdr = new Uint8Array(8 + 100_000_000).fill(0x20);
    new DataView(hdr.buffer).setBigUint64(0, 100_000_000n, true);
    const t0 = performance.now();
    await expectError(hdr, 'header-not-object');
    expect(performance.now() - t0).toBeLessThan(10_000);
  });
});
