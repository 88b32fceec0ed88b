import { describe, expect, it } from 'vitest';
import { resultsJson, unfrozenYaml } from './export.js';
import { parsePyJson } from './pyjson.js';
import { referenceOrder, type ScoredModule } from './selection.js';

const m = (name: string, type: string, score = 1): ScoredModule => ({ name, type, score });

describe("referenceOrder: where the reference's substring passes meet each module", () => {
  it('no type inside another: unchanged (the same array)', () => {
    const items = [m('model.layers.0.mlp.down_proj', 'mlp.down_proj'), m('model.layers.0.mlp.up_proj', 'mlp.up_proj')];
    expect(referenceOrder(items)).toBe(items);
  });

  // A DeepSeek-style model: layer 0 dense (mlp.gate_proj), layers 1–2 MoE (the router mlp.gate).
  // Types in the reference's scan order (sorted). Expected, by following spectrum.py by hand:
  // the "mlp.gate" pass takes every name containing "mlp.gate" in named_modules order (layer 0's
  // gate_proj, then layers 1 and 2's gate); the "mlp.gate_proj" pass finds layer 0's again and
  // only re-types it. Its YAML's headers follow the JSON's first appearances.
  const deepseek = [
    m('model.layers.0.mlp.down_proj', 'mlp.down_proj', 3),
    m('model.layers.1.mlp.gate', 'mlp.gate', 2),
    m('model.layers.2.mlp.gate', 'mlp.gate', 5),
    m('model.layers.0.mlp.gate_proj', 'mlp.gate_proj', 4),
    m('model.layers.1.mlp.shared_experts.gate_proj', 'mlp.shared_experts.gate_proj', 1),
    m('model.layers.2.mlp.shared_experts.gate_proj', 'mlp.shared_experts.gate_proj', 7),
    m('model.layers.0.mlp.up_proj', 'mlp.up_proj', 6),
  ];

  it('DeepSeek: a dense layer’s mlp.gate_proj is met in the mlp.gate pass', () => {
    expect(referenceOrder(deepseek).map((x) => x.name)).toEqual([
      'model.layers.0.mlp.down_proj',
      'model.layers.0.mlp.gate_proj',
      'model.layers.1.mlp.gate',
      'model.layers.2.mlp.gate',
      'model.layers.1.mlp.shared_experts.gate_proj',
      'model.layers.2.mlp.shared_experts.gate_proj',
      'model.layers.0.mlp.up_proj',
    ]);
    // types stay each module's own; the files follow that order
    expect(Object.keys(parsePyJson(resultsJson(deepseek)) as object)[1]).toBe('model.layers.0.mlp.gate_proj');
    expect(unfrozenYaml(deepseek, 50)).toBe(
      [
        'unfrozen_parameters:',
        '- ^lm_head.weight$',
        '- ^model.embed_tokens.weight$',
        '# mlp.down_proj layers',
        '# mlp.gate_proj layers',
        '# mlp.gate layers',
        '- model.layers.2.mlp.gate',
        '# mlp.shared_experts.gate_proj layers',
        '- model.layers.2.mlp.shared_experts.gate_proj',
        '# mlp.up_proj layers',
        '',
      ].join('\n'),
    );
  });

  it('OPT --all-types: model.decoder.final_layer_norm is met in the layers’ final_layer_norm pass, before them', () => {
    const opt = [
      m('model.decoder.layers.0.fc1', 'fc1'),
      m('model.decoder.layers.0.final_layer_norm', 'final_layer_norm'),
      m('model.decoder.layers.1.final_layer_norm', 'final_layer_norm'),
      m('model.decoder.embed_tokens', 'model.decoder.embed_tokens'),
      m('model.decoder.final_layer_norm', 'model.decoder.final_layer_norm'),
      m('model.decoder.layers.0.self_attn_layer_norm', 'self_attn_layer_norm'),
    ];
    expect(referenceOrder(opt).map((x) => x.name)).toEqual([
      'model.decoder.layers.0.fc1',
      'model.decoder.final_layer_norm',
      'model.decoder.layers.0.final_layer_norm',
      'model.decoder.layers.1.final_layer_norm',
      'model.decoder.embed_tokens',
      'model.decoder.layers.0.self_attn_layer_norm',
    ]);
  });
});
