/**
 * Node 20 ships WebAssembly relaxed SIMD (the FMA the kernels use for ~1.5–2× speed) behind a
 * V8 flag; Node 22+ and Chromium have it on. Turning the flag on before any module is compiled
 * lets the kernels pick their relaxed build; V8 flags are process-wide, so worker threads see it.
 * Node-only: import it first in Node entry points.
 *
 * Only where relaxed SIMD is off: Node 22+ (V8 12) no longer knows the flag, and setting an
 * unknown one prints "Error: unrecognized flag …" on stderr, which every CLI run then showed.
 */
import { setFlagsFromString } from 'node:v8';
import { probeRelaxedSimd } from './kernels/linalg.js';

if (!probeRelaxedSimd()) setFlagsFromString('--experimental-wasm-relaxed-simd');
