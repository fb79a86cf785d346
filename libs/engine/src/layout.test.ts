import { describe, expect, it } from 'vitest';
import { initMlpParameters, lastLayersBlock, mlpLayout, type MlpSpec } from './layout';

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

describe('lastLayersBlock', () => {
  const layout = mlpLayout(spec);
  it('is the contiguous tail of the last k layers', () => {
    expect(lastLayersBlock(layout, 1)).toEqual({ offset: 41, size: 12 });
    expect(lastLayersBlock(layout, 2)).toEqual({ offset: 16, size: 37 });
    expect(lastLayersBlock(layout, 3)).toEqual({ offset: 0, size: 53 });
  });
  it('throws outside 1..layerCount', () => {
    expect(() => lastLayersBlock(layout, 0)).toThrow(/\[1, 3\]/);
    expect(() => lastLayersBlock(layout, 4)).toThrow(/\[1, 3\]/);
    expect(() => lastLayersBlock(layout, 1.5)).toThrow();
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
