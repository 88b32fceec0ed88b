import { afterEach, describe, expect, it, vi } from 'vitest';

// node-wasm-features.ts acts when imported, so each case mocks V8's flag setter and the probe's
// answer, then imports a fresh copy of the module.
const probe = vi.hoisted(() => ({ setFlagsFromString: vi.fn(), relaxedNow: false }));
vi.mock('node:v8', () => ({ setFlagsFromString: probe.setFlagsFromString }));
vi.mock('./kernels/linalg.js', () => ({ probeRelaxedSimd: () => probe.relaxedNow }));

afterEach(() => {
  probe.setFlagsFromString.mockClear();
  vi.resetModules();
});

describe('node-wasm-features', () => {
  it('turns the relaxed-SIMD flag on where the engine has relaxed SIMD off (Node 20)', async () => {
    probe.relaxedNow = false;
    await import('./node-wasm-features.js');
    expect(probe.setFlagsFromString).toHaveBeenCalledTimes(1);
    expect(probe.setFlagsFromString).toHaveBeenCalledWith('--experimental-wasm-relaxed-simd');
  });

  it('leaves V8 flags alone where relaxed SIMD is already on (Node 22+ prints "unrecognized flag" for it)', async () => {
    probe.relaxedNow = true;
    await import('./node-wasm-features.js');
    expect(probe.setFlagsFromString).not.toHaveBeenCalled();
  });
});
