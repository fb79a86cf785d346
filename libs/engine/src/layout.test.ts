import { describe, expect, it } from 'vitest';
import { checkScope, fullScope, initMlpParameters, lastLayersScope, mlpLayout, modelScopes, type MlpSpec, type Scope } from './layout';

const spec: MlpSpec = { inputDim: 3, hidden: [4, 5], outputDim: 2, activation: 'tanh', loss: 'mse' };

describe('mlpLayout', () => {
  it('lays out kernels [in, out] then biases, layer by layer, contiguously', () => {
    const layout = mlpLayout(spec);
    expect(layout.layerCount).toBe(3);
    expect(layout.slots.map((s) => [s.name, s.layer, s.role, s.shape, s.offset, s.size])).toEqual([
      ['dense0/kernel', 0, 'kernel', [3, 4], 0, 12],
      ['dense0/bias', 0, 'bias', [4], 12, 4],
      ['dense1/kernel', 1, 'kernel', [4, 5], 16, 20],
      ['dense1/bias', 1, 'bias', [5], 36, 5],
      ['dense2/kernel', 2, 'kernel', [5, 2], 41, 10],
      ['dense2/bias', 2, 'bias', [2], 51, 2],
    ]);
    expect(layout.size).toBe(53);
  });
  it('handles a model without hidden layers', () => {
    const layout = mlpLayout({ ...spec, hidden: [] });
    expect(layout.layerCount).toBe(1);
    expect(layout.size).toBe(3 * 2 + 2);
  });
  it('rejects bad widths and unknown names', () => {
    expect(() => mlpLayout({ ...spec, hidden: [0] })).toThrow(/positive integers/);
    expect(() => mlpLayout({ ...spec, activation: 'sigmoid' as never })).toThrow(/tanh, relu, gelu, linear/);
    expect(() => mlpLayout({ ...spec, loss: 'hinge' as never })).toThrow(/mse, cross_entropy/);
  });
});

describe('scopes of an MLP 2-3-4-1', () => {
  // By hand: dense0 = kernel 2×3 (θ[0, 6)) + bias 3 (θ[6, 9)); dense1 = 3×4 (θ[9, 21)) + 4 (θ[21, 25));
  // dense2 = 4×1 (θ[25, 29)) + 1 (θ[29]); P = 30.
  const layout = mlpLayout({ inputDim: 2, hidden: [3, 4], outputDim: 1, activation: 'relu', loss: 'mse' });

  it('names the layers in order, each a contiguous run of its slots', () => {
    expect(layout.layers).toEqual([
      { name: 'dense0', offset: 0, size: 9 },
      { name: 'dense1', offset: 9, size: 16 },
      { name: 'dense2', offset: 25, size: 5 },
    ]);
    expect(layout.layerCount).toBe(3);
    expect(layout.slots.map((s) => [s.name, s.layer, s.offset, s.size])).toEqual([
      ['dense0/kernel', 0, 0, 6],
      ['dense0/bias', 0, 6, 3],
      ['dense1/kernel', 1, 9, 12],
      ['dense1/bias', 1, 21, 4],
      ['dense2/kernel', 2, 25, 4],
      ['dense2/bias', 2, 29, 1],
    ]);
  });

  it('the full scope is all of θ, a block the tail of the last k layers, naming them', () => {
    expect(fullScope(layout)).toEqual({ kind: 'full', offset: 0, size: 30 });
    expect(lastLayersScope(layout, 1)).toEqual({ kind: 'block', k: 1, offset: 25, size: 5, layers: ['dense2'] });
    expect(lastLayersScope(layout, 2)).toEqual({ kind: 'block', k: 2, offset: 9, size: 21, layers: ['dense1', 'dense2'] });
    expect(lastLayersScope(layout, 3)).toEqual({ kind: 'block', k: 3, offset: 0, size: 30, layers: ['dense0', 'dense1', 'dense2'] });
  });

  it('modelScopes lists the full scope first, then each k in the order given', () => {
    expect(modelScopes(layout, [2, 1])).toEqual([
      { kind: 'full', offset: 0, size: 30 },
      { kind: 'block', k: 2, offset: 9, size: 21, layers: ['dense1', 'dense2'] },
      { kind: 'block', k: 1, offset: 25, size: 5, layers: ['dense2'] },
    ]);
    expect(modelScopes(layout, [])).toEqual([{ kind: 'full', offset: 0, size: 30 }]);
  });

  it('throws for k outside 1..layerCount, naming the range', () => {
    for (const k of [0, 4, 1.5, Number.NaN]) expect(() => lastLayersScope(layout, k)).toThrow(`lastLayersScope: k must be an integer in [1, 3], got ${k}`);
    expect(() => modelScopes(layout, [1, 4])).toThrow(/\[1, 3\], got 4/);
  });

  it('checkScope accepts the layout’s own scopes and rejects any other', () => {
    for (const scope of modelScopes(layout, [1, 2, 3])) expect(() => checkScope(layout, scope, 'test')).not.toThrow();
    // 2·5 + 5 + 5·4 + 4 + 4·1 + 1 = 44 parameters.
    const other = mlpLayout({ inputDim: 2, hidden: [5, 4], outputDim: 1, activation: 'relu', loss: 'mse' });
    expect(() => checkScope(layout, fullScope(other), 'test')).toThrow(/test: scope full \(offset 0, size 44\) does not match this layout, whose is full \(offset 0, size 30\)/);
    // Same k, offset and size as this layout's but other layer names: not this model's block.
    const renamed: Scope = { ...lastLayersScope(layout, 1), layers: ['head'] };
    expect(() => checkScope(layout, renamed, 'test')).toThrow(/layers \["head"\]\) does not match this layout, whose is block k = 1 \(offset 25, size 5, layers \["dense2"\]\)/);
    expect(() => checkScope(layout, { kind: 'block', k: 4, offset: 0, size: 30, layers: [] }, 'test')).toThrow(/not one of this layout's: lastLayersScope: k must be an integer in \[1, 3\]/);
    expect(() => checkScope(layout, { kind: 'rows' } as unknown as Scope, 'test')).toThrow(/unknown scope kind 'rows'/);
  });
});

describe('initMlpParameters', () => {
  it('is deterministic per seed and differs across seeds', () => {
    expect(initMlpParameters(spec, 3)).toEqual(initMlpParameters(spec, 3));
    expect(initMlpParameters(spec, 3)).not.toEqual(initMlpParameters(spec, 4));
  });
  it('draws LeCun-uniform kernels within ±√(3/fan_in) and zero biases', () => {
    const wide: MlpSpec = { ...spec, inputDim: 50, hidden: [200] };
    const layout = mlpLayout(wide);
    const theta = initMlpParameters(wide, 1);
    for (const slot of layout.slots) {
      const values = theta.subarray(slot.offset, slot.offset + slot.size);
      if (slot.role === 'bias') {
        expect(values.every((v) => v === 0)).toBe(true);
        continue;
      }
      const limit = Math.sqrt(3 / slot.shape[0]);
      const max = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(max).toBeLessThanOrEqual(Math.fround(limit));
      expect(max).toBeGreaterThan(0.95 * limit); // the range is used, not a narrower one
      const variance = values.reduce((s, v) => s + v * v, 0) / values.length;
      expect(variance * slot.shape[0]).toBeCloseTo(1, 1); // variance 1/fan_in
    }
  });
});
