/**
 * The CLI end to end, as a user runs it (`node bin/spectroscope.mjs`, the bundled build), on
 * every reference checkpoint and on derived folders whose expected output is still the
 * reference's.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { expectClose, expectResultsMatch } from '../testing/compare.js';
import { reshard, tieHead } from '../testing/generate.js';
import { parity } from '../testing/walsh.js';
import { REPO_ROOT, oracleRuns, sharedModelDirs } from '../testing/shared-models.js';
import { parsePyJson } from '../core/pyjson.js';

const work = mkdtempSync(join(tmpdir(), 'spectroscope-cli-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function cli(args: string[], timeout = 120_000, env?: NodeJS.ProcessEnv) {
  const r = spawnSync(process.execPath, [join(REPO_ROOT, 'bin/spectroscope.mjs'), ...args], {
    encoding: 'utf8',
    timeout,
    ...(env ? { env: { ...process.env, ...env } } : {}),
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function outputs(dir: string) {
  const names = readdirSync(dir);
  const read = (re: RegExp) => {
    const n = names.find((x) => re.test(x));
    if (!n) throw new Error(`no file matching ${re} in ${dir}: ${names.join(', ')}`);
    return { name: n, text: readFileSync(join(dir, n), 'utf8') };
  };
  return { results: read(/^snr_results_.*(?<!_sorted)\.json$/), sorted: read(/_sorted\.json$/), yaml: read(/\.yaml$/) };
}

describe('spectroscope scan on the reference checkpoints', () => {
  for (const modelDir of sharedModelDirs()) {
    for (const run of oracleRuns(modelDir)) {
      it(`${basename(modelDir)} ${run.variant === 'oracle_out' ? '(default types)' : '--all-types'}`, () => {
        const out = join(work, basename(modelDir), run.variant);
        const r = cli(['scan', modelDir, '--out', out, ...(run.variant === 'oracle_out_all_types' ? ['--all-types'] : [])]);
        expect(r.stderr).toMatch(/scored \d+ of \d+ modules/);
        expect(r.code).toBe(0);
        const ours = outputs(out);
        expect(ours.yaml.name).toBe(basename(run.files.yaml));
        expect(ours.yaml.text).toBe(readFileSync(run.files.yaml, 'utf8'));
        expect(ours.results.name).toBe(basename(run.files.results));
        expectResultsMatch(ours.results.text, readFileSync(run.files.results, 'utf8'));
        expectResultsMatch(ours.sorted.text, readFileSync(run.files.sorted, 'utf8'));
      });
    }
  }
});

describe('spectroscope scan on derived folders', () => {
  const bf16 = sharedModelDirs().find((d) => basename(d) === 'synthetic-llama-2l-bf16')!;
  it('a sharded BF16 model with an index gives the single-file reference result', async () => {
    const dir = join(work, 'sharded', 'synthetic-llama-2l-bf16');
    await reshard(bf16, dir, 3);
    const out = join(work, 'sharded-out');
    const r = cli(['scan', dir, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const run = oracleRuns(bf16)[0]!;
    expect(outputs(out).yaml.text).toBe(readFileSync(run.files.yaml, 'utf8'));
    expectResultsMatch(outputs(out).results.text, readFileSync(run.files.results, 'utf8'));
  });

  it('a tied head is scored from the embedding', async () => {
    const dir = join(work, 'tied', 'synthetic-llama-2l-bf16');
    await tieHead(bf16, dir);
    const out = join(work, 'tied-out');
    const r = cli(['scan', dir, '--all-types', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const ours = parsePyJson(outputs(out).results.text) as Record<string, { snr: number }>;
    const ref = oracleRuns(bf16).find((x) => x.variant === 'oracle_out_all_types')!;
    const refScores = parsePyJson(readFileSync(ref.files.results, 'utf8')) as Record<string, { snr: number }>;
    expectClose(ours['lm_head']!.snr, refScores['model.embed_tokens']!.snr, 1e-5, 'tied lm_head = embedding score');
    expectClose(ours['model.layers.1.mlp.down_proj']!.snr, refScores['model.layers.1.mlp.down_proj']!.snr);
  });

  /** Scans the BF16 checkpoint with these options and expects the reference's default-types files. */
  function expectReferenceScan(name: string, options: string[]) {
    const out = join(work, name);
    const r = cli(['scan', bf16, ...options, '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const run = oracleRuns(bf16)[0]!;
    expect(outputs(out).yaml.text).toBe(readFileSync(run.files.yaml, 'utf8'));
    expectResultsMatch(outputs(out).results.text, readFileSync(run.files.results, 'utf8'));
  }

  it('--workers 1 --threads 2 (threads inside each matrix) gives the reference result', () => {
    expectReferenceScan('threads', ['--workers', '1', '--threads', '2']);
  });

  it('--memory-gb below any one matrix still scans everything, one matrix at a time, to the reference result', () => {
    expectReferenceScan('memory', ['--workers', '2', '--memory-gb', '0.000001']);
  });

  describe('--webgpu (Dawn for Node, not installed here: stand-in modules)', () => {
    const dawn = (name: string, body: string) => {
      const path = join(work, `${name}.mjs`);
      writeFileSync(path, body);
      return path;
    };

    it('a path that is not the webgpu module is a usage error naming it', () => {
      for (const [path, why] of [
        [join(work, 'no-such-dawn.mjs'), /cannot load it as the webgpu \(Dawn for Node\) module/],
        [dawn('not-dawn', 'export const x = 1;'), /not the webgpu \(Dawn for Node\) module/],
      ] as const) {
        const r = cli(['scan', bf16, '--webgpu', path, '--out', join(work, 'webgpu-bad')]);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toContain(`--webgpu ${path}:`);
        expect(r.stderr).toMatch(why);
      }
    });

    it('without a hardware adapter it says so and computes on the CPU', () => {
      const path = dawn('no-adapter', 'export const globals = {};\nexport function create() { return { requestAdapter: async () => null }; }\n');
      const r = cli(['scan', bf16, '--webgpu', path, '--out', join(work, 'webgpu-none')]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/--webgpu: no hardware GPU adapter .*computing on the CPU/);
      expect(r.stderr).toMatch(/, wasm, /);
    });

    it('with an adapter, every worker loads the module; a device that cannot open leaves the scan on WASM with the reference result', () => {
      // A "hardware" adapter whose requestDevice fails: the CLI names it, each worker installs the
      // module (in its own thread) and its GPU backend declines, so every matrix runs on WASM.
      const loads = join(work, 'dawn-loads.txt');
      const path = dawn(
        'failing-device',
        [
          "import { appendFileSync } from 'node:fs';",
          `appendFileSync(${JSON.stringify(loads)}, 'x');`,
          'export const globals = {};',
          "const adapter = { info: { vendor: 'stand-in', architecture: 'test', isFallbackAdapter: false }, limits: {}, requestDevice: async () => { throw new Error('no device'); } };",
          'export function create() { return { requestAdapter: async () => adapter }; }',
        ].join('\n'),
      );
      const out = join(work, 'webgpu-failing');
      const r = cli(['scan', bf16, '--webgpu', path, '--workers', '2', '--out', out]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/WebGPU on stand-in test/);
      expect(r.stderr).toMatch(/, wasm, 2 workers/);
      expect(readFileSync(loads, 'utf8')).toBe('xxx'); // the CLI's check, then each of the 2 workers
      const run = oracleRuns(bf16)[0]!;
      expect(outputs(out).yaml.text).toBe(readFileSync(run.files.yaml, 'utf8'));
      expectResultsMatch(outputs(out).results.text, readFileSync(run.files.results, 'utf8'));
    });
  });

  describe('--webgpu with Dawn for Node (the webgpu dev dependency) on SwiftShader Vulkan', () => {
    const { dawnEntry, missing, env } = swiftShaderDawn;

    it("--backend webgpu: every worker computes its Grams on the GPU, and the files are the reference's", ({ skip }) => {
      if (missing) skip(`${missing} is missing`);
      const out = join(work, 'dawn-webgpu');
      const r = cli(['scan', bf16, '--webgpu', dawnEntry, '--backend', 'webgpu', '--workers', '2', '--out', out], 300_000, env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/WebGPU on .*swiftshader.*\(software\)/i);
      expect(r.stderr).toMatch(/, webgpu, 2 workers/);
      const run = oracleRuns(bf16)[0]!;
      expect(outputs(out).yaml.text).toBe(readFileSync(run.files.yaml, 'utf8'));
      expectResultsMatch(outputs(out).results.text, readFileSync(run.files.results, 'utf8'));
    });

    it("--gpu-eigen (experimental): the reductions run on the GPU too, and the files are still the reference's", ({ skip }) => {
      if (missing) skip(`${missing} is missing`);
      const out = join(work, 'dawn-gpu-eigen');
      const r = cli(['scan', bf16, '--webgpu', dawnEntry, '--backend', 'webgpu', '--gpu-eigen', '--workers', '2', '--out', out], 300_000, {
        ...env,
        SPECTROSCOPE_STATS: '1',
      });
      expect(r.code, r.stderr).toBe(0);
      const stats = JSON.parse(/SPECTROSCOPE_STATS (.*)/.exec(r.stderr)![1]!) as { gpuMatrices: number; gpuEigenMatrices: number };
      expect(stats.gpuEigenMatrices).toBeGreaterThan(0);
      expect(stats.gpuEigenMatrices).toBe(stats.gpuMatrices);
      expect(r.stderr).toMatch(/webgpu \(\d+ reductions on the GPU\)/);
      const run = oracleRuns(bf16)[0]!;
      expect(outputs(out).yaml.text).toBe(readFileSync(run.files.yaml, 'utf8'));
      expectResultsMatch(outputs(out).results.text, readFileSync(run.files.results, 'utf8'));
      expect(cli(['scan', bf16, '--gpu-eigen']).stderr).toMatch(/--gpu-eigen needs --webgpu PATH/);
    });

    it('auto mode does not take a software adapter: it says so and computes on the CPU', ({ skip }) => {
      if (missing) skip(`${missing} is missing`);
      const r = cli(['scan', bf16, '--webgpu', dawnEntry, '--out', join(work, 'dawn-auto')], 120_000, env);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/--webgpu: no hardware GPU adapter/);
      expect(r.stderr).toMatch(/, wasm, /);
    });

    it('--backend webgpu without --webgpu, and an unknown backend, are usage errors', () => {
      expect(cli(['scan', bf16, '--backend', 'webgpu']).stderr).toMatch(/--backend webgpu needs --webgpu PATH/);
      const r = cli(['scan', bf16, '--backend', 'cuda']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--backend must be auto, wasm or webgpu, not "cuda"/);
    });
  });

  it('--top-percent, --types and --model-name are honoured', () => {
    const out = join(work, 'opts');
    const r = cli(['scan', bf16, '--types', 'mlp.down_proj,self_attn.q_proj', '--top-percent', '100', '--model-name', 'org/my_model', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const o = outputs(out);
    expect(o.yaml.name).toBe('snr_results_org-my-model_unfrozenparameters_100percent.yaml');
    expect(o.yaml.text.split('\n').filter((l) => l.startsWith('# '))).toEqual(['# mlp.down_proj layers', '# self_attn.q_proj layers']);
    expect(o.yaml.text.split('\n').filter((l) => l.startsWith('- model.'))).toHaveLength(4);
  });
});

/**
 * Debian's Chromium ships a Vulkan loader and SwiftShader's Vulkan driver: pointed at them, Dawn
 * for Node offers the same software adapter the page's tests use.
 */
const swiftShaderDawn = (() => {
  const chromiumLib = '/usr/lib/chromium';
  const icd = join(chromiumLib, 'vk_swiftshader_icd.json');
  const dawnEntry = join(REPO_ROOT, 'node_modules/webgpu/index.js');
  const missing = [join(chromiumLib, 'libvulkan.so.1'), icd, dawnEntry].find((f) => !existsSync(f));
  return { dawnEntry, missing, env: { LD_LIBRARY_PATH: chromiumLib, VK_ICD_FILENAMES: icd } };
})();

describe('weights of more than two dimensions (--all-types)', () => {
  it('are scored as the reference batches them: snr / S[0] when S[0] is one value, else NaN', async () => {
    const { BATCHED_CONV1D_SCORE, writeBatchedModel } = await import('../testing/batched-model.js');
    const dir = join(work, 'batched');
    writeBatchedModel(dir);
    const out = join(work, 'batched-out');
    const r = cli(['scan', dir, '--all-types', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const results = parsePyJson(outputs(out).results.text) as Record<string, { snr: number; type: string }>;
    expectClose(results['backbone.layers.0.mixer.conv1d']!.snr, BATCHED_CONV1D_SCORE);
    expect(results['backbone.layers.0.mixer.stacked']!.snr).toBeNaN();
    expect(results['backbone.layers.0.mixer.out_proj']!.type).toBe('mixer.out_proj');
    // a scalar weight: NaN, as the reference's svdvals refuses it, and a warning; the scan goes on
    expect(results['backbone.layers.0.mixer.scale']!.snr).toBeNaN();
    expect(r.stderr).toMatch(/warning: model\.safetensors: backbone\.layers\.0\.mixer\.scale not scored: a scalar weight is not a matrix/);
    // the default selection keeps to 2-D types
    const d = cli(['scan', dir, '--out', join(work, 'batched-default')]);
    expect(d.code, d.stderr).toBe(0);
    expect(Object.keys(parsePyJson(outputs(join(work, 'batched-default')).results.text) as object)).toEqual(['backbone.layers.0.mixer.out_proj']);
  });
});

describe('--block-mb: matrices streamed in row blocks and column slabs', () => {
  // The reference checkpoints are too small for any block the CLI accepts (1 MB at least) to
  // stream them, so this model is built from Walsh functions, whose singular values are known
  // in closed form (src/testing/walsh.ts): W[i][j] = d(i or j)·(−1)^popcount(i&j) has
  // exactly orthogonal rows (wide) or columns (tall) over a power-of-two dimension, so σ = d·√n.
  const N = 2048;
  const K = 320;
  /** Exact in BF16, F16 and F32: a few spikes over a bulk that straddles the threshold. */
  const scales = (layer: number, seed: number) => Array.from({ length: K }, (_, i) => (i < 4 ? 2 + i / 4 + layer / 2 : (((i * 37 + seed) % 128) + 1) / 128));
  const walsh = (d: number[], wide: boolean) => {
    const rows = wide ? K : N;
    const cols = wide ? N : K;
    const w = new Float32Array(rows * cols);
    for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) w[i * cols + j] = (wide ? d[i]! : d[j]!) * (parity(i & j) ? -1 : 1);
    return { rows, cols, w };
  };
  const types = [
    { type: 'mlp.up_proj', dtype: 'F32', wide: false, seed: 1 },
    { type: 'mlp.down_proj', dtype: 'BF16', wide: true, seed: 2 },
    { type: 'self_attn.o_proj', dtype: 'F16', wide: true, seed: 3 },
  ] as const;

  it('--block-mb 1 gives the closed-form scores and the same files as the default block (and on the GPU, where Dawn is)', async () => {
    const { encodeFloats, writeSafetensors } = await import('../testing/safetensors-writer.js');
    const { spectrumScore } = await import('../core/spectrum.js');
    const dir = join(work, 'walsh', 'walsh-model');
    mkdirSync(dir, { recursive: true });
    const expected = new Map<string, number>();
    const best = new Map<string, string>();
    const tensors = [];
    for (const layer of [0, 1]) {
      for (const t of types) {
        const d = scales(layer, t.seed);
        const { rows, cols, w } = walsh(d, t.wide);
        // 2.6 MB as float32: streamed at --block-mb 1 (tall: blocks of 781 rows; wide: slabs of 768 columns, the last 512).
        expect(rows * cols * 4).toBeGreaterThan(2e6);
        const name = `model.layers.${layer}.${t.type}`;
        tensors.push({ name: `${name}.weight`, dtype: t.dtype, shape: [rows, cols], data: encodeFloats(w, t.dtype) });
        const sv = d.map((x) => x * Math.sqrt(N)).sort((a, b) => b - a);
        const details = spectrumScore(sv, rows, cols);
        // No σ within 1e-6 of the threshold, so rounding cannot move one across it.
        expect(Math.min(...sv.map((s) => Math.abs(s - details.threshold) / details.threshold))).toBeGreaterThan(1e-6);
        expect(details.nSignal).toBeGreaterThan(4);
        expect(details.nSignal).toBeLessThan(K);
        expected.set(name, details.score);
        const other = best.get(t.type);
        if (!other || details.score > expected.get(other)!) best.set(t.type, name);
      }
    }
    expect(expected.get('model.layers.0.mlp.down_proj')).not.toBe(expected.get('model.layers.1.mlp.down_proj'));
    writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(tensors));
    writeFileSync(join(dir, 'config.json'), '{"architectures": ["LlamaForCausalLM"]}');

    const { dawnEntry, missing, env } = swiftShaderDawn;
    const runs: [string, string[]][] = [
      ['default', []],
      ['block-1', ['--block-mb', '1']],
    ];
    // Row blocks and column slabs through the GPU accumulator too (SwiftShader: slow, but exact).
    if (!missing) runs.push(['webgpu-block-1', ['--block-mb', '1', '--webgpu', dawnEntry, '--backend', 'webgpu']]);
    else console.warn(`--block-mb on the GPU: skipped, ${missing} is missing`);
    const texts = runs.map(([what, extra]) => {
      const out = join(work, 'walsh', what);
      const r = cli(['scan', dir, '--out', out, '--workers', '2', ...extra], 300_000, { ...env, SPECTROSCOPE_STATS: '1' });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toMatch(/scored 6 of 6 modules/);
      const stats = JSON.parse(/SPECTROSCOPE_STATS (.*)/.exec(r.stderr)![1]!) as { gpuMatrices: number };
      expect(stats.gpuMatrices, what).toBe(what.startsWith('webgpu') ? 6 : 0);
      const o = outputs(out);
      const scores = parsePyJson(o.results.text) as Record<string, { snr: number }>;
      expect(Object.keys(scores).sort()).toEqual([...expected.keys()].sort());
      for (const [name, want] of expected) expectClose(scores[name]!.snr, want, 1e-5, `${what}: ${name}`);
      // Top 50 % of two layers: the better of each type, by the closed-form scores.
      const listed = o.yaml.text.split('\n').filter((l) => l.startsWith('- model.'));
      expect(listed.sort(), what).toEqual([...best.values()].map((n) => `- ${n}`).sort());
      return o;
    });
    for (const o of texts.slice(1)) {
      expect(o.yaml.text).toBe(texts[0]!.yaml.text);
      expectResultsMatch(o.results.text, texts[0]!.results.text);
      expectResultsMatch(o.sorted.text, texts[0]!.sorted.text);
    }
  }, 600_000);
});

describe('spectroscope inspect and errors', () => {
  const stories = sharedModelDirs().find((d) => basename(d) === 'stories260K')!;
  it('inspect summarises from headers alone', () => {
    const r = cli(['inspect', stories]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Architecture: LlamaForCausalLM/);
    expect(r.stdout).toMatch(/Tied head: lm_head is scored from model\.embed_tokens/);
    expect(r.stdout).toMatch(/\* mlp\.down_proj\s+5 × 64×172/);
    expect(r.stdout).toMatch(/Parameters: .*F32/);
  });

  it('--help', () => {
    const r = cli(['--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/spectroscope scan <folder>/);
  });

  const broken: [string, (dir: string) => void, RegExp][] = [
    [
      'a truncated shard',
      (d) => writeFileSync(join(d, 'model.safetensors'), readFileSync(join(stories, 'model.safetensors')).subarray(0, 5000)),
      /^spectroscope: model\.safetensors: .*truncated/,
    ],
    [
      'a Git LFS pointer',
      (d) => writeFileSync(join(d, 'model.safetensors'), 'version https://git-lfs.github.com/spec/v1\noid sha256:ab\nsize 9\n'),
      /^spectroscope: model\.safetensors: is a Git LFS pointer/,
    ],
    ['no weights at all', (d) => writeFileSync(join(d, 'config.json'), '{}'), /^spectroscope: no \*\.safetensors file/],
    [
      'an index naming a missing shard',
      (d) => {
        writeFileSync(join(d, 'model.safetensors'), readFileSync(join(stories, 'model.safetensors')));
        writeFileSync(join(d, 'model.safetensors.index.json'), JSON.stringify({ weight_map: { 'x.weight': 'model-2.safetensors' } }));
      },
      /^spectroscope: model\.safetensors\.index\.json: /,
    ],
  ];
  for (const [what, make, re] of broken) {
    it(`${what}: exits non-zero with one line naming the file`, () => {
      const dir = join(work, 'broken', what.replace(/\W+/g, '-'));
      mkdirSync(dir, { recursive: true });
      make(dir);
      const t0 = Date.now();
      const r = cli(['scan', dir, '--out', join(dir, 'out')], 10_000);
      expect(Date.now() - t0).toBeLessThan(10_000);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(re);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    });
  }

  it('a usage error exits 2', () => {
    const r = cli(['scan', stories, '--top-percent', 'abc']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--top-percent must be an integer/);
  });

  it('--memory-gb takes a positive number of gigabytes', () => {
    for (const bad of ['0', '0.0', 'lots', '1e9', '.5']) {
      const r = cli(['scan', stories, '--memory-gb', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr).toMatch(/--memory-gb must be a positive number of gigabytes/);
    }
  });

  it('a folder with no config.json is scanned, with a warning that says what that changes', () => {
    const dir = join(work, 'no-config');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.safetensors'), readFileSync(join(stories, 'model.safetensors')));
    const r = cli(['scan', dir, '--out', join(dir, 'out')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^spectroscope: warning: no-config: no config\.json: .*tied lm_head/m);
    expect(cli(['scan', stories, '--out', join(dir, 'out-with-config')]).stderr).not.toMatch(/config\.json/);
  });

  it('a folder that does not exist', () => {
    const r = cli(['scan', join(work, 'nope')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/nope: no such folder/);
  });
});

describe('nothing lost: a killed scan resumes', () => {
  it('kill halfway, scan again: finished matrices are kept and the result equals an uninterrupted scan', async () => {
    const { spawn } = await import('node:child_process');
    const { existsSync } = await import('node:fs');
    const { encodeFloats, randomNormal, writeSafetensors } = await import('../testing/safetensors-writer.js');
    const dir = join(work, 'resume', 'gen-model');
    mkdirSync(dir, { recursive: true });
    const n = 512;
    const tensors = Array.from({ length: 16 }, (_, i) => ({
      name: `model.layers.${i}.mlp.up_proj.weight`,
      dtype: 'F32' as const,
      shape: [n, n],
      data: encodeFloats(randomNormal(n * n, i + 1, 0.02), 'F32'),
    }));
    writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(tensors));
    writeFileSync(join(dir, 'config.json'), '{"architectures": ["LlamaForCausalLM"]}');

    const full = join(work, 'resume', 'full');
    expect(cli(['scan', dir, '--out', full, '--workers', '1']).code).toBe(0);

    const out = join(work, 'resume', 'killed');
    const progress = join(out, 'snr_results_gen-model.progress.jsonl');
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/spectroscope.mjs'), 'scan', dir, '--out', out, '--workers', '1'], { stdio: 'ignore' });
    const lines = () => (existsSync(progress) ? readFileSync(progress, 'utf8').split('\n').filter(Boolean).length - 1 : 0);
    const t0 = Date.now();
    while (lines() < 3 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 20));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const keptBefore = lines();
    expect(keptBefore).toBeGreaterThanOrEqual(3);
    expect(keptBefore).toBeLessThan(16);
    expect(existsSync(join(out, 'snr_results_gen-model.json'))).toBe(false);

    const again = cli(['scan', dir, '--out', out, '--workers', '1']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain(`resuming: ${keptBefore} matrices kept`);
    for (const f of ['snr_results_gen-model.json', 'snr_results_gen-model_sorted.json', 'snr_results_gen-model_unfrozenparameters_50percent.yaml']) {
      expect(readFileSync(join(out, f), 'utf8'), f).toBe(readFileSync(join(full, f), 'utf8'));
    }
  });
});

describe('Ctrl-C', () => {
  it('stops at once, keeps what is finished, and says how to resume', async () => {
    const { spawn } = await import('node:child_process');
    const { existsSync } = await import('node:fs');
    const { encodeFloats, randomNormal, writeSafetensors } = await import('../testing/safetensors-writer.js');
    const dir = join(work, 'sigint', 'gen-model');
    mkdirSync(dir, { recursive: true });
    const n = 640;
    const tensors = Array.from({ length: 12 }, (_, i) => ({
      name: `model.layers.${i}.mlp.up_proj.weight`,
      dtype: 'F32' as const,
      shape: [n, n],
      data: encodeFloats(randomNormal(n * n, i + 7, 0.02), 'F32'),
    }));
    writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(tensors));
    const out = join(work, 'sigint', 'out');
    const progress = join(out, 'snr_results_gen-model.progress.jsonl');
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin/spectroscope.mjs'), 'scan', dir, '--out', out, '--workers', '1'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const lines = () => (existsSync(progress) ? readFileSync(progress, 'utf8').split('\n').filter(Boolean).length - 1 : 0);
    const t0 = Date.now();
    while (lines() < 2 && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 20));
    const tKill = Date.now();
    child.kill('SIGINT');
    const code = await new Promise<number | null>((r) => child.once('exit', r));
    expect(Date.now() - tKill, 'exits promptly').toBeLessThan(5_000);
    expect(code).toBe(130);
    expect(stderr).toMatch(/scan cancelled; \d+ results kept in .*progress\.jsonl \(run the same command again to resume\)/);
    expect(lines()).toBeGreaterThanOrEqual(2);
    const again = cli(['scan', dir, '--out', out, '--workers', '1']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/resuming: \d+ matrices kept/);
  });
});
