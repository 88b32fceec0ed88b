/**
 * WebGPU backend for the heavy half of the Gram route: G = XᵀX (k×k, k = min(rows, cols)) on the
 * GPU in compensated f32 ("double-f32", see gram-gpu.wgsl.ts for the arithmetic and why), handed
 * back as float64 to the CPU eigensolver (the WASM kernel). Accuracy: per-entry error
 * ≈ √n·2⁻⁴⁸·Σ|a·b| (measured ≤ 7e-14 of max|G|), within ~30× of a float64 Gram, where plain f32
 * gives ~1e-6.
 *
 * Everything that can go wrong on the GPU surfaces as a GpuGramError, so the caller can fall back
 * to the WASM kernel: device loss, out-of-memory, validation errors, inputs out of range.
 */
import { GRAM_WGSL, TILE, TK } from './gram-gpu.wgsl.js';

export type GpuGramErrorCode = 'device-lost' | 'out-of-memory' | 'gpu-error' | 'non-finite' | 'range' | 'destroyed';

export class GpuGramError extends Error {
  constructor(
    readonly code: GpuGramErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'GpuGramError';
  }
}

export interface GpuGramOptions {
  /**
   * 'compensated' (default); 'compensated-fma': the product's rounding error from fma() instead
   * of Dekker's split (2 instructions instead of 7; it needs a fused fma, which the self-test
   * checks), for gpu-bench to measure against the default; 'f32': plain f32 accumulation, for
   * measurements only.
   */
  precision?: 'compensated' | 'compensated-fma' | 'f32';
  /** Accept a software adapter (SwiftShader). Default false: it is far slower than the WASM kernel. */
  allowFallbackAdapter?: boolean;
  /** Cap on the bytes bound per storage binding (default: the device's limit). Tests use it to force chunking and bands. */
  maxBindingBytes?: number;
  /** Multiply-adds per dispatch (default 2^32). Tests use it to force several passes. */
  maxMacsPerDispatch?: number;
  /** Bytes read back at once (default 16 MB, at least one tile row). Tests use it to force several chunks per band. */
  readbackBytes?: number;
  /**
   * Run chunks whose products are all exact in f32 (every significand ≤ 12 bits: BF16 and F16
   * weights) through the cheaper kernel without TwoProduct (default true; see EXACT PRODUCTS in
   * gram-gpu.wgsl.ts). false: every chunk takes the general kernel, for gpu-bench to compare.
   */
  exactProducts?: boolean;
  /** Wait for each upload to reach the GPU before dispatching on it, so that `stats` tells transfer from compute (gpu-bench). */
  syncUploads?: boolean;
  /**
   * Keep the kernels' inner loop from being unrolled completely (ROLLED_INNER in
   * gram-gpu.wgsl.ts): the same sums, possibly a different speed. Default false; gpu-bench times
   * both, to tell whether the unrolled kernel is bound by its instruction cache.
   */
  rolledInnerLoop?: boolean;
}

/** Where a GpuGram's time went, summed over its life (each field only grows). */
export interface GpuGramStats {
  /** Input chunks uploaded; of them, those that ran the exact-product kernel; compute dispatches. */
  chunks: number;
  exactChunks: number;
  dispatches: number;
  /** Host seconds: the range and bit scan of each chunk, the writeBuffer calls, and combining the read-back (s + c) into the sink. */
  scanSeconds: number;
  uploadSeconds: number;
  combineSeconds: number;
  /** Seconds waiting for uploads to land (only with syncUploads). */
  uploadWaitSeconds: number;
  /** Seconds waiting for dispatches to finish: before the input buffer is refilled, and before read-back. */
  computeWaitSeconds: number;
  /** Seconds waiting for each read-back chunk to be copied and mapped. */
  readbackWaitSeconds: number;
}

function emptyGpuGramStats(): GpuGramStats {
  return {
    chunks: 0,
    exactChunks: 0,
    dispatches: 0,
    scanSeconds: 0,
    uploadSeconds: 0,
    combineSeconds: 0,
    uploadWaitSeconds: 0,
    computeWaitSeconds: 0,
    readbackWaitSeconds: 0,
  };
}

/** Receives row i of a Gram of order k from its diagonal on: upper[t] = G[i][i + t], upper.length = k − i.
 *  `upper` is reused for the next row: copy what you keep. */
export type GramRowSink = (i: number, upper: Float64Array) => void;

/** Streams the row blocks Bᵢ of a tall matrix (k columns): G = Σ BᵢᵀBᵢ, accumulated on the GPU. */
export interface GpuGramAccumulator {
  /** `rows`×k row-major block; the data is copied before the promise resolves. */
  addRows(block: Float32Array, rows: number): Promise<void>;
  /** A column slab of a wide matrix with k rows: k×`cols` row-major, G += S·Sᵀ; copied before the promise resolves. */
  addColumns(slab: Float32Array, cols: number): Promise<void>;
  /** The k×k Gram, row-major, both triangles; frees the GPU buffers. */
  finish(): Promise<Float64Array>;
  /** The Gram row by row into `sink` (read back in chunks of a few MB: no k×k copy); frees the GPU buffers. */
  finishInto(sink: GramRowSink): Promise<void>;
  /** Frees the GPU buffers (idempotent; finish() does it too). */
  dispose(): void;
}

export interface GpuGram {
  /** Adapter description, for logs. */
  readonly info: string;
  /** Its device, for other GPU work of the same worker (the band reduction) to share. */
  readonly device?: GPUDevice;
  /** The k×k Gram (WᵀW if rows ≥ cols, else WWᵀ), row-major, both triangles, float64. */
  gram(w: Float32Array, rows: number, cols: number): Promise<Float64Array>;
  /** The same Gram row by row into `sink`. */
  gramInto(w: Float32Array, rows: number, cols: number, sink: GramRowSink): Promise<void>;
  accumulator(cols: number): GpuGramAccumulator;
  /** Time and work so far, by phase. */
  readonly stats: GpuGramStats;
  destroy(): void;
}

/** WebGPU flag values (spec constants; TypeScript's DOM lib declares the types but not these globals). */
const BufferUsage = { MAP_READ: 0x0001, COPY_SRC: 0x0004, COPY_DST: 0x0008, UNIFORM: 0x0040, STORAGE: 0x0080 } as const;
const MAP_MODE_READ = 0x0001;
const SHADER_STAGE_COMPUTE = 0x4;

const seconds = (since: number) => (performance.now() - since) / 1000;

/** Bytes read back from the GPU at once (rounded to whole tile rows): all the host holds of a GPU Gram besides its sink. */
const READBACK_BYTES = 16 * 1024 * 1024;
/** Largest input chunk bound at once (also bounds the staging copy writeBuffer makes). */
const MAX_CHUNK_BYTES = 256 * 1024 * 1024;
/**
 * Multiply-adds per dispatch. Keeps each submit well under the ~2 s GPU watchdogs (Windows TDR,
 * Chrome's) even on small GPUs: 2^32 MACs × ~16 flops is ~0.1 s at 1 TFLOP/s.
 */
const MAX_MACS_PER_DISPATCH = 2 ** 32;
/** Accepted max|x| range (see gram-gpu.wgsl.ts: no overflow, flushed subnormals negligible). */
const MAX_ABS = 2 ** 32;
const MIN_MAX_ABS = 2 ** -24;

export async function createGpuGram(device?: GPUDevice, options: GpuGramOptions = {}): Promise<GpuGram | null> {
  let ownDevice = false;
  let info = 'caller-provided device';
  if (!device) {
    const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
    if (!gpu) return null;
    const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
    if (!adapter) return null;
    const ai = adapter.info as GPUAdapterInfo | undefined; // absent before Chrome 127
    const software = ai?.isFallbackAdapter ?? (adapter as { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false;
    if (software && !options.allowFallbackAdapter) return null;
    info = [ai?.vendor, ai?.architecture, ai?.description].filter(Boolean).join(' ') + (software ? ' (software)' : '');
    try {
      device = await adapter.requestDevice({
        requiredLimits: {
          maxStorageBufferBindingSize: adapter.limits.maxStorageBufferBindingSize,
          maxBufferSize: adapter.limits.maxBufferSize,
        },
      });
    } catch (e) {
      // Said, not thrown: the scan goes on without the GPU, and a GPU check's log shows why.
      console.warn(`WebGPU Gram unavailable on ${info}: requestDevice failed: ${(e as Error).message}`);
      return null;
    }
    ownDevice = true;
  }
  const gram = new GpuGramImpl(device, ownDevice, info, options);
  try {
    await gram.ready();
    if (options.precision !== 'f32') {
      const err = await selfTest(gram);
      if (!(err <= SELF_TEST_TOLERANCE)) {
        console.warn(
          options.precision === 'compensated-fma'
            ? `WebGPU Gram's fma() variant refused on ${info}: fma is not fused here (probe error ${err.toExponential(2)}).`
            : `WebGPU Gram disabled on ${info}: compensated arithmetic not preserved by this shader compiler (probe error ${err.toExponential(2)}).`,
        );
        gram.destroy();
        return null;
      }
      if (gram.hasExactProducts) {
        // The same check on a BF16-valued probe, which the exact-product kernel computes; when it
        // fails, every chunk takes the general kernel just checked.
        const errExact = await selfTest(gram, true);
        if (!(errExact <= SELF_TEST_TOLERANCE)) {
          console.warn(
            `WebGPU Gram's exact-product kernel refused on ${info} (probe error ${errExact.toExponential(2)}); BF16/F16 weights take the general kernel.`,
          );
          gram.dropExactProducts();
        }
      }
    }
  } catch (e) {
    gram.destroy();
    if (e instanceof GpuGramError) {
      console.warn(`WebGPU Gram unavailable on ${info}: ${e.message}`);
      return null;
    }
    throw e;
  }
  return gram;
}

class GpuGramImpl implements GpuGram {
  private readonly pipelines: Promise<[GPUComputePipeline, GPUComputePipeline | null]>;
  private pipelineResolved: GPUComputePipeline | null = null;
  /** The kernel for chunks whose products are exact in f32 (null: off, refused, or plain f32). */
  private exactPipeline: GPUComputePipeline | null = null;
  /** Shared by both pipelines, so one bind group serves either. */
  readonly bindGroupLayout: GPUBindGroupLayout;
  readonly stats = emptyGpuGramStats();
  readonly syncUploads: boolean;
  private lostInfo: GPUDeviceLostInfo | null = null;
  private destroyed = false;
  /** One operation at a time: error scopes are per device, and the queue is shared. */
  private tail: Promise<unknown> = Promise.resolve();
  readonly maxBinding: number;
  readonly maxMacsPerDispatch: number;
  readonly readbackBytes: number;

  constructor(
    readonly device: GPUDevice,
    private readonly ownDevice: boolean,
    readonly info: string,
    options: GpuGramOptions,
  ) {
    const lim = device.limits;
    this.maxBinding = Math.floor(Math.min(lim.maxStorageBufferBindingSize, lim.maxBufferSize, options.maxBindingBytes ?? Infinity) / 4) * 4;
    this.maxMacsPerDispatch = options.maxMacsPerDispatch ?? MAX_MACS_PER_DISPATCH;
    this.readbackBytes = options.readbackBytes ?? READBACK_BYTES;
    this.syncUploads = options.syncUploads ?? false;
    const precision = options.precision ?? 'compensated';
    void device.lost.then((li) => {
      this.lostInfo = li;
    });
    const module = device.createShaderModule({ code: GRAM_WGSL, label: 'gram' });
    this.bindGroupLayout = device.createBindGroupLayout({
      label: 'gram',
      entries: [
        { binding: 0, visibility: SHADER_STAGE_COMPUTE, buffer: { type: 'read-only-storage' } },
        { binding: 1, visibility: SHADER_STAGE_COMPUTE, buffer: { type: 'storage' } },
        { binding: 2, visibility: SHADER_STAGE_COMPUTE, buffer: { type: 'uniform' } },
      ],
    });
    const layout = device.createPipelineLayout({ label: 'gram', bindGroupLayouts: [this.bindGroupLayout] });
    const pipeline = (label: string, constants: Record<string, number>) =>
      device.createComputePipelineAsync({ label, layout, compute: { module, entryPoint: 'main', constants } });
    const compensated = precision !== 'f32';
    // ROLLED_INNER only when asked: the default pipelines keep exactly their former constants.
    const rolled: Record<string, number> = options.rolledInnerLoop ? { ROLLED_INNER: 1 } : {};
    this.pipelines = Promise.all([
      pipeline('gram', { COMPENSATED: compensated ? 1 : 0, FMA_PRODUCT: precision === 'compensated-fma' ? 1 : 0, ...rolled }),
      // Optional: where it fails to build, every chunk takes the general kernel.
      compensated && options.exactProducts !== false
        ? pipeline('gram, exact products', { COMPENSATED: 1, EXACT_PRODUCTS: 1, ...rolled }).catch((e: Error) => {
            console.warn(`WebGPU Gram's exact-product kernel failed to compile (${e.message}); BF16/F16 weights take the general kernel.`);
            return null;
          })
        : null,
    ]);
  }

  async ready(): Promise<void> {
    try {
      [this.pipelineResolved, this.exactPipeline] = await this.pipelines;
    } catch (e) {
      throw new GpuGramError('gpu-error', `WebGPU Gram pipeline failed to compile: ${(e as Error).message}`);
    }
  }

  get hasExactProducts(): boolean {
    return this.exactPipeline !== null;
  }

  dropExactProducts(): void {
    this.exactPipeline = null;
  }

  checkUsable(): void {
    if (this.lostInfo) throw new GpuGramError('device-lost', `WebGPU device lost (${this.lostInfo.reason}): ${this.lostInfo.message}`);
    if (this.destroyed) throw new GpuGramError('destroyed', 'WebGPU Gram used after destroy()');
  }

  /** Runs `fn` after every earlier operation, inside error scopes; GPU errors become GpuGramError. */
  serial<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(async () => {
      this.checkUsable();
      const d = this.device;
      d.pushErrorScope('out-of-memory');
      d.pushErrorScope('validation');
      d.pushErrorScope('internal');
      let result: T | undefined;
      let thrown: unknown = null;
      try {
        result = await fn();
      } catch (e) {
        thrown = e;
      }
      const scoped = await Promise.all([d.popErrorScope(), d.popErrorScope(), d.popErrorScope()]).catch(() => [null, null, null]);
      if (this.lostInfo) throw new GpuGramError('device-lost', `WebGPU device lost during ${what} (${this.lostInfo.reason}): ${this.lostInfo.message}`);
      const [internal, validation, oom] = scoped;
      if (oom) throw new GpuGramError('out-of-memory', `WebGPU out of memory during ${what}: ${oom.message}`);
      if (validation || internal) throw new GpuGramError('gpu-error', `WebGPU error during ${what}: ${(validation ?? internal)!.message}`);
      if (thrown !== null) {
        if (thrown instanceof GpuGramError) throw thrown;
        throw new GpuGramError('gpu-error', `WebGPU ${what} failed: ${(thrown as Error).message ?? String(thrown)}`);
      }
      return result as T;
    });
    this.tail = run.catch(() => undefined);
    return run;
  }

  /** The kernel for a chunk: `exact` when all its products are exact in f32. */
  pipelineFor(exact: boolean): GPUComputePipeline {
    return (exact ? this.exactPipeline : null) ?? this.pipelineResolved!;
  }

  accumulator(cols: number): GpuGramAccumulator {
    this.checkUsable();
    return new Accumulation(this, cols);
  }

  gram(w: Float32Array, rows: number, cols: number): Promise<Float64Array> {
    return this.accumulate(w, rows, cols, (acc) => acc.finish());
  }

  gramInto(w: Float32Array, rows: number, cols: number, sink: GramRowSink): Promise<void> {
    return this.accumulate(w, rows, cols, (acc) => acc.finishInto(sink));
  }

  private async accumulate<T>(w: Float32Array, rows: number, cols: number, finish: (acc: Accumulation) => Promise<T>): Promise<T> {
    if (!(rows > 0 && cols > 0) || w.length < rows * cols) throw new RangeError(`gram: bad shape ${rows}×${cols} for ${w.length} values`);
    const acc = new Accumulation(this, Math.min(rows, cols));
    try {
      if (rows >= cols) await acc.addRows(w, rows);
      else await acc.addWide(w, rows, cols);
      return await finish(acc);
    } finally {
      acc.dispose();
    }
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    if (this.ownDevice) this.device.destroy();
  }
}

interface Band {
  row0: number; // first tile row
  rows: number; // tile rows
  buffer: GPUBuffer;
  bindGroup: GPUBindGroup | null;
}

/** One Gram being accumulated: G (in bands of tile rows) stays on the GPU until finish(). */
class Accumulation implements GpuGramAccumulator {
  private readonly tiles: number;
  private readonly kp: number;
  private readonly bandRows: number;
  private bands: Band[] = [];
  private params: GPUBuffer | null = null;
  private input: GPUBuffer | null = null;
  private inputBytes = 0;
  private inflight: Promise<void> = Promise.resolve();
  private maxAbs = 0;
  private disposed = false;

  constructor(
    private readonly owner: GpuGramImpl,
    readonly k: number,
  ) {
    if (!(k > 0 && Number.isInteger(k))) throw new RangeError(`Gram order must be a positive integer, got ${k}`);
    this.tiles = Math.ceil(k / TILE);
    this.kp = this.tiles * TILE;
    const rowBytes = TILE * this.kp * 8; // one tile row of (s, c) pairs
    if (rowBytes > owner.maxBinding) throw new GpuGramError('out-of-memory', `Gram order ${k} too large for this GPU's buffer limits`);
    // G is split into bands of tile rows so that each band fits one storage binding.
    this.bandRows = Math.min(this.tiles, Math.max(1, Math.floor(Math.min(owner.maxBinding, MAX_CHUNK_BYTES) / rowBytes)));
  }

  /** Creates G (zero-filled by WebGPU: every dispatch adds to it) on first use, inside an error scope. */
  private ensureBuffers(): void {
    if (this.params) return;
    const d = this.owner.device;
    const rowBytes = TILE * this.kp * 8;
    this.params = d.createBuffer({ size: 32, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, label: 'gram params' });
    for (let r = 0; r < this.tiles; r += this.bandRows) {
      const rows = Math.min(this.bandRows, this.tiles - r);
      const buffer = d.createBuffer({ size: rows * rowBytes, usage: BufferUsage.STORAGE | BufferUsage.COPY_SRC, label: `gram band ${r}` });
      this.bands.push({ row0: r, rows, buffer, bindGroup: null });
    }
  }

  addRows(block: Float32Array, rows: number): Promise<void> {
    const k = this.k;
    if (!(rows >= 0) || block.length < rows * k) throw new RangeError(`addRows: ${rows}×${k} needs ${rows * k} values, got ${block.length}`);
    return this.owner.serial('Gram accumulation', async () => {
      const chunkRows = Math.max(1, Math.floor(Math.min(MAX_CHUNK_BYTES, this.owner.maxBinding) / (k * 4)));
      for (let r = 0; r < rows; r += chunkRows) {
        const n = Math.min(chunkRows, rows - r);
        const exact = await this.upload(block.subarray(r * k, (r + n) * k));
        this.dispatchAll(n, k, 1, exact);
      }
    });
  }

  addColumns(slab: Float32Array, cols: number): Promise<void> {
    const k = this.k;
    if (!(cols >= 0) || slab.length < k * cols) throw new RangeError(`addColumns: ${k}×${cols} needs ${k * cols} values, got ${slab.length}`);
    return cols === 0 ? Promise.resolve() : this.addWide(slab, k, cols);
  }

  /** Wide matrix (k rows × cols): G += WWᵀ, reduced over column blocks (packed when W is too big). */
  addWide(w: Float32Array, k: number, cols: number): Promise<void> {
    return this.owner.serial('Gram accumulation', async () => {
      const chunkCols = Math.max(1, Math.floor(Math.min(MAX_CHUNK_BYTES, this.owner.maxBinding) / (k * 4)));
      if (chunkCols >= cols) {
        const exact = await this.upload(w.subarray(0, k * cols));
        this.dispatchAll(cols, 1, cols, exact);
        return;
      }
      for (let c = 0; c < cols; c += chunkCols) {
        const n = Math.min(chunkCols, cols - c);
        const packed = new Float32Array(k * n);
        for (let i = 0; i < k; i++) packed.set(w.subarray(i * cols + c, i * cols + c + n), i * n);
        const exact = await this.upload(packed);
        this.dispatchAll(n, 1, n, exact);
      }
    });
  }

  finish(): Promise<Float64Array> {
    const k = this.k;
    const g = new Float64Array(k * k);
    return this.finishInto((i, upper) => {
      for (let t = 0; t < upper.length; t++) g[i * k + i + t] = g[(i + t) * k + i] = upper[t]!;
    }).then(() => g);
  }

  finishInto(sink: GramRowSink): Promise<void> {
    return this.owner.serial('Gram read-back', async () => {
      this.checkRange(true);
      const { k, kp, owner } = this;
      const d = owner.device;
      const rowBytes = TILE * kp * 8; // one tile row of (s, c) pairs
      const chunkRows = Math.max(1, Math.floor(owner.readbackBytes / rowBytes));
      const upper = new Float64Array(k);
      const stats = owner.stats;
      let since = performance.now();
      await this.inflight;
      stats.computeWaitSeconds += seconds(since);
      const staging = d.createBuffer({
        size: Math.min(chunkRows, this.bandRows) * rowBytes,
        usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST,
        label: 'gram read-back',
      });
      try {
        for (const band of this.bands) {
          for (let r = 0; r < band.rows; r += chunkRows) {
            const n = Math.min(chunkRows, band.rows - r);
            const enc = d.createCommandEncoder();
            enc.copyBufferToBuffer(band.buffer, r * rowBytes, staging, 0, n * rowBytes);
            d.queue.submit([enc.finish()]);
            since = performance.now();
            await staging.mapAsync(MAP_MODE_READ, 0, n * rowBytes);
            stats.readbackWaitSeconds += seconds(since);
            since = performance.now();
            const sc = new Float32Array(staging.getMappedRange(0, n * rowBytes));
            const i0 = (band.row0 + r) * TILE;
            const i1 = Math.min(k, i0 + n * TILE);
            for (let i = i0; i < i1; i++) {
              const base = (i - i0) * kp * 2;
              for (let j = i; j < k; j++) upper[j - i] = sc[base + 2 * j]! + sc[base + 2 * j + 1]!; // s + c, exact in float64
              sink(i, upper.subarray(0, k - i));
            }
            staging.unmap();
            stats.combineSeconds += seconds(since);
          }
        }
      } finally {
        staging.destroy();
      }
      this.dispose();
    });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.bands) b.buffer.destroy();
    this.input?.destroy();
    this.params?.destroy();
  }

  /**
   * Range/finiteness scan (host side: NaN handling on GPUs is implementation-defined). Returns
   * whether every significand fits in 12 bits (the low 12 bits of every f32 are zero), so that
   * all products are exact in f32: BF16 and F16 weights.
   */
  private scan(x: Float32Array): boolean {
    const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
    let m = this.maxAbs;
    let low = 0;
    for (let i = 0; i < x.length; i++) {
      const a = Math.abs(x[i]!);
      if (a > m) m = a;
      else if (a !== a) m = NaN;
      low |= bits[i]!;
    }
    this.maxAbs = m;
    this.checkRange(false);
    return (low & 0xfff) === 0;
  }

  private checkRange(final: boolean): void {
    const m = this.maxAbs;
    if (Number.isNaN(m) || m === Infinity) throw new GpuGramError('non-finite', 'weights contain NaN or Inf');
    if (m > MAX_ABS) throw new GpuGramError('range', `|w| up to ${m} exceeds the GPU Gram range (2^32)`);
    if (final && m > 0 && m < MIN_MAX_ABS) throw new GpuGramError('range', `max|w| = ${m} is below the GPU Gram range (2^-24)`);
  }

  /**
   * Copies x into the input buffer once the previous chunk's dispatches are done with it; returns
   * whether x can take the exact-product kernel.
   */
  private async upload(x: Float32Array): Promise<boolean> {
    if (this.disposed) throw new GpuGramError('destroyed', 'Gram accumulator used after finish()/dispose()');
    const stats = this.owner.stats;
    let since = performance.now();
    const exact = this.scan(x);
    stats.scanSeconds += seconds(since);
    this.ensureBuffers();
    since = performance.now();
    await this.inflight;
    stats.computeWaitSeconds += seconds(since);
    const d = this.owner.device;
    const bytes = Math.max(16, x.length * 4);
    if (!this.input || this.inputBytes < bytes) {
      this.input?.destroy();
      this.input = d.createBuffer({ size: bytes, usage: BufferUsage.STORAGE | BufferUsage.COPY_DST, label: 'gram input' });
      this.inputBytes = bytes;
      const layout = this.owner.bindGroupLayout;
      for (const b of this.bands) {
        b.bindGroup = d.createBindGroup({
          layout,
          entries: [
            { binding: 0, resource: { buffer: this.input } },
            { binding: 1, resource: { buffer: b.buffer } },
            { binding: 2, resource: { buffer: this.params! } },
          ],
        });
      }
    }
    since = performance.now();
    d.queue.writeBuffer(this.input, 0, x.buffer, x.byteOffset, x.length * 4);
    stats.uploadSeconds += seconds(since);
    stats.chunks++;
    if (this.owner.syncUploads) {
      since = performance.now();
      d.queue.submit([]); // an implementation may hold the copy until the next submit
      await d.queue.onSubmittedWorkDone();
      stats.uploadWaitSeconds += seconds(since);
    }
    return exact;
  }

  /** Dispatches the reduction over tCount indices of the bound chunk, in watchdog-sized passes. */
  private dispatchAll(tCount: number, strideT: number, strideI: number, exact: boolean): void {
    const d = this.owner.device;
    const pipeline = this.owner.pipelineFor(exact);
    const stats = this.owner.stats;
    if (exact && this.owner.hasExactProducts) stats.exactChunks++;
    const maxBandRows = this.bands[0]!.rows;
    const macsPerT = maxBandRows * this.tiles * TILE * TILE;
    const passLen = Math.max(TK, Math.floor(this.owner.maxMacsPerDispatch / macsPerT / TK) * TK);
    const params = new Uint32Array(8);
    for (let t0 = 0; t0 < tCount; t0 += passLen) {
      for (const band of this.bands) {
        params.set([this.k, this.kp, t0, Math.min(tCount, t0 + passLen), strideT, strideI, band.row0, 0 /* opaqueZero */]);
        d.queue.writeBuffer(this.params!, 0, params); // ordered before the submit below
        const enc = d.createCommandEncoder({ label: 'gram' });
        const pass = enc.beginComputePass();
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, band.bindGroup);
        pass.dispatchWorkgroups(this.tiles, band.rows);
        pass.end();
        d.queue.submit([enc.finish()]);
        stats.dispatches++;
      }
    }
    this.inflight = d.queue.onSubmittedWorkDone();
  }
}

// ---------------------------------------------------------------------------------------------
// Self-test: the WGSL spec lets compilers reassociate f32 expressions, which silently turns the
// compensated sums back into plain f32 sums. We run the production pipeline on a probe whose
// float64 Gram we know and refuse the device unless it is float64-accurate.
// ---------------------------------------------------------------------------------------------

/** Plain f32 gives ~1e-7 on the probe; the compensated kernel ~1e-15. */
const SELF_TEST_TOLERANCE = 1e-11;

/** The probe's error through the general kernel, or with `exactProducts` rounded to BF16, through the exact-product one. */
async function selfTest(gram: GpuGram, exactProducts = false): Promise<number> {
  const rows = 512;
  const cols = 72; // two tile columns: a diagonal tile, an off-diagonal tile, zero padding
  const w = exactProducts ? roundToBf16(probeMatrix(rows, cols, 2)) : probeMatrix(rows, cols, 1);
  const g = await gram.gram(w, rows, cols);
  return maxRelativeError(g, gramReference(w, rows, cols));
}

/** x rounded to the nearest BF16 value (ties to even), in place; returns x. */
export function roundToBf16(x: Float32Array): Float32Array {
  const u = new Uint32Array(x.buffer, x.byteOffset, x.length);
  for (let i = 0; i < u.length; i++) {
    const b = u[i]!;
    if ((b & 0x7f800000) !== 0x7f800000) u[i] = ((b + 0x7fff + ((b >>> 16) & 1)) & 0xffff0000) >>> 0;
  }
  return x;
}

/** Deterministic test matrix: signed values spanning 1e-2 … 1e2, plus a nearly dependent column. */
export function probeMatrix(rows: number, cols: number, seed: number): Float32Array {
  let s = seed >>> 0 || 1;
  const rnd = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
  const w = new Float32Array(rows * cols);
  for (let i = 0; i < w.length; i++) w[i] = (rnd() - 0.5) * 10 ** (4 * rnd() - 2);
  if (cols > 1) for (let r = 0; r < rows; r++) w[r * cols + 1] = w[r * cols]! * (1 + 1e-6 * (rnd() - 0.5));
  return w;
}

/**
 * Reference Gram of a float32 matrix, both triangles: products are exact in float64 and the sums
 * are compensated (Neumaier), so this is the exact Gram rounded once to float64.
 */
export function gramReference(w: Float32Array, rows: number, cols: number): Float64Array {
  const tall = rows >= cols;
  const k = tall ? cols : rows;
  const n = tall ? rows : cols;
  const g = new Float64Array(k * k);
  const at = (t: number, i: number) => (tall ? w[t * cols + i]! : w[i * cols + t]!);
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      let sum = 0;
      let comp = 0;
      for (let t = 0; t < n; t++) {
        const p = at(t, i) * at(t, j);
        const u = sum + p;
        comp += Math.abs(sum) >= Math.abs(p) ? sum - u + p : p - u + sum;
        sum = u;
      }
      g[i * k + j] = sum + comp;
      g[j * k + i] = sum + comp;
    }
  }
  return g;
}

/** max |a − b| / max |b|. */
export function maxRelativeError(a: Float64Array, b: Float64Array): number {
  let err = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    err = Math.max(err, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return scale > 0 ? err / scale : err;
}
