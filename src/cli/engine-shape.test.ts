import { describe, expect, it } from 'vitest';
import { engineShape } from './engine-shape.js';

describe('engineShape (the CLI default of workers × threads)', () => {
  it('one matrix per worker while there are at least as many matrices as cores', () => {
    expect(engineShape(8, 224)).toEqual({ workers: 8, threads: 1 });
    expect(engineShape(2, 2)).toEqual({ workers: 2, threads: 1 });
  });
  it('spare cores become threads inside the few matrices left', () => {
    expect(engineShape(8, 1)).toEqual({ workers: 1, threads: 8 });
    expect(engineShape(8, 3)).toEqual({ workers: 3, threads: 2 });
    expect(engineShape(2, 1)).toEqual({ workers: 1, threads: 2 });
    expect(engineShape(4, 0)).toEqual({ workers: 1, threads: 4 });
  });
  it('what the user asked for wins', () => {
    expect(engineShape(8, 1, { workers: 2 })).toEqual({ workers: 2, threads: 1 });
    expect(engineShape(8, 1, { threads: 2 })).toEqual({ workers: 8, threads: 2 });
    expect(engineShape(8, 100, { workers: 1, threads: 8 })).toEqual({ workers: 1, threads: 8 });
  });
});
