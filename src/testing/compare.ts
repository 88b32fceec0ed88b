/** Comparing our JSON with the reference's: same keys in the same order, same layout, scores within 1e-5 relative. */
import { expect } from 'vitest';
import { parsePyJson } from '../core/pyjson.js';

export const SCORE_RTOL = 1e-5;

export function expectClose(actual: number, expected: number, rtol = SCORE_RTOL, what = ''): void {
  if (Number.isNaN(expected)) return void expect(actual, what).toBeNaN();
  if (!Number.isFinite(expected)) return void expect(actual, what).toBe(expected);
  const err = Math.abs(actual - expected) / Math.max(Math.abs(expected), Number.MIN_VALUE);
  expect(err, `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(rtol);
}

function walk(a: unknown, b: unknown, path: string): void {
  if (typeof b === 'number') {
    expect(typeof a, path).toBe('number');
    expectClose(a as number, b, SCORE_RTOL, path);
    return;
  }
  if (typeof b === 'object' && b !== null) {
    expect(typeof a, path).toBe('object');
    const ka = Object.keys(a as object);
    const kb = Object.keys(b);
    expect(ka, `${path} keys`).toEqual(kb);
    for (const k of kb) walk((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
    return;
  }
  expect(a, path).toEqual(b);
}

/** Our text against the reference's: values, key order, and the line layout (numbers aside). */
export function expectResultsMatch(ours: string, reference: string): void {
  walk(parsePyJson(ours), parsePyJson(reference), '$');
  const shape = (s: string) => s.replace(/-?(\d+\.?\d*(e[-+]\d+)?|Infinity|NaN)/g, '#');
  expect(shape(ours)).toBe(shape(reference));
}
