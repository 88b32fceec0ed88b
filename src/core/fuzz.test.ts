/**
 * Fuzzing headers and tensor bytes: whatever the mutation, the parser gives either a header
 * whose every tensor lies inside the file, or one of our typed errors — never another exception
 * and never a hang; the engine gives a score or a typed failure. `npm run fuzz` runs many more.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemorySource } from './bytesource.js';
import { isFloatDtype } from './dtype.js';
import { SpectroscopeError } from './errors.js';
import { readSafetensorsHeader } from './safetensors.js';
import { loadModelFolder } from './model.js';
import { buildCatalogue } from './catalogue.js';
import { encodeFloats, randomNormal, writeSafetensors } from '../testing/safetensors-writer.js';
import { createEngineWorker } from '../engine/worker-api.js';
import { isFailure } from '../engine/types.js';

const RUNS = Number(process.env.FUZZ_RUNS ?? 300);

const base = writeSafetensors([
  { name: 'model.layers.0.self_attn.q_proj.weight', dtype: 'F32', shape: [6, 5], data: encodeFloats(randomNormal(30, 1), 'F32') },
  { name: 'model.layers.0.input_layernorm.weight', dtype: 'BF16', shape: [5], data: encodeFloats(randomNormal(5, 2), 'BF16') },
  { name: 'model.layers.1.self_attn.q_proj.weight', dtype: 'F16', shape: [5, 6], data: encodeFloats(randomNormal(30, 3), 'F16') },
]);
const headerEnd = 8 + Number(new DataView(base.buffer).getBigUint64(0, true));

type Mutation =
  | { kind: 'flip'; at: number; value: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'length'; value: bigint }
  | { kind: 'json'; text: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat({ max: base.length - 1 }), value: fc.nat({ max: 255 }) }),
  fc.record({ kind: fc.constant('flip' as const), at: fc.integer({ min: 8, max: headerEnd - 1 }), value: fc.integer({ min: 0x20, max: 0x7e }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat({ max: base.length }) }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat({ max: base.length }), bytes: fc.array(fc.nat({ max: 255 }), { maxLength: 16 }) }),
  fc.record({ kind: fc.constant('length' as const), value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }) }),
  fc.record({
    kind: fc.constant('json' as const),
    text: fc.oneof(
      fc.json(),
      fc.string(),
      fc.constantFrom(
        '{"a":{"dtype":"F32","shape":[9007199254740993],"data_offsets":[0,4]}}',
        '{"__metadata__":null}',
        '{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}',
      ),
    ),
  }),
);

function apply(m: Mutation): Uint8Array {
  switch (m.kind) {
    case 'flip': {
      const b = base.slice();
      b[m.at] = m.value;
      return b;
    }
    case 'truncate':
      return base.slice(0, m.at);
    case 'insert':
      return new Uint8Array([...base.subarray(0, m.at), ...m.bytes, ...base.subarray(m.at)]);
    case 'length': {
      const b = base.slice();
      new DataView(b.buffer).setBigUint64(0, m.value, true);
      return b;
    }
    case 'json': {
      const hb = new TextEncoder().encode(m.text);
      const out = new Uint8Array(8 + hb.length + (base.length - headerEnd));
      new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
      out.set(hb, 8);
      out.set(base.subarray(headerEnd), 8 + hb.length);
      return out;
    }
  }
}

describe('fuzz', () => {
  it(`parser and engine over ${RUNS} mutated files`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), async (ms) => {
        let bytes = base;
        for (const m of ms) bytes = apply(m);
        const src = new MemorySource(bytes, 'model.safetensors');
        let header;
        try {
          header = await readSafetensorsHeader(src);
        } catch (e) {
          expect(e).toBeInstanceOf(SpectroscopeError);
          expect((e as SpectroscopeError).describe()).toMatch(/^model\.safetensors: [^\n]+$/);
          return;
        }
        for (const t of header.tensors) {
          expect(t.offset).toBeGreaterThanOrEqual(header.dataStart);
          expect(t.offset + t.byteLength).toBeLessThanOrEqual(bytes.length);
        }
        const folder = await loadModelFolder([src]);
        const cat = buildCatalogue(folder);
        const engine = createEngineWorker(() => Promise.resolve(src));
        for (const m of cat.modules) {
          if (m.unsupported || !isFloatDtype(m.dtype) || m.rows * m.cols > 4096 || m.rows * m.cols === 0) continue;
          const r = await engine.compute({
            id: 0,
            source: { name: src.name },
            tensor: m.weight.name,
            offset: m.weight.offset,
            byteLength: m.weight.byteLength,
            dtype: m.dtype,
            rows: m.rows,
            cols: m.cols,
          });
          if (isFailure(r)) expect(r.error).toMatch(/\S/);
          else expect(r.singularValues.length).toBe(Math.min(m.rows, m.cols));
        }
      }),
      { numRuns: RUNS, seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : 42, interruptAfterTimeLimit: 120_000 },
    );
  });
});
