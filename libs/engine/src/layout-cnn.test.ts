import { describe, expect, it } from 'vitest';
import { cnnGeometry, initMlpParameters, initModelParameters, lastLayersScope, mlpLayout, modelDims, modelLayout, modelScopes, type CnnSpec, type MlpSpec } from './layout';

const spec: MlpSpec = { inputDim: 3, hidden: [4, 5], outputDim: 2, activation: 'tanh', loss: 'mse' };

describe('modelLayout of a CNN', () => {
  const cnn: CnnSpec = {
    kind: 'cnn',
    inputShape: [5, 5, 2],
    conv: [{ filters: 3, kernelSize: 3, padding: 'same' }],
    pool: 'avg',
    dense: [4],
    outputDim: 3,
    activation: 'relu',
    loss: 'cross_entropy',
  };

  it('lays out conv kernels [kh, kw, c_in, c_out] and biases, then the dense layers, layer by layer', () => {
    const layout = modelLayout(cnn);
    expect(layout.layerCount).toBe(3);
    expect(layout.slots.map((s) => [s.name, s.layer, s.role, s.shape, s.offset, s.size])).toEqual([
      ['conv0/kernel', 0, 'kernel', [3, 3, 2, 3], 0, 54],
      ['conv0/bias', 0, 'bias', [3], 54, 3],
      // 5×5 'same' → 5×5×3 → 2×2 pooling drops the odd row and column → 2×2×3 = 12 features
      ['dense0/kernel', 1, 'kernel', [12, 4], 57, 48],
      ['dense0/bias', 1, 'bias', [4], 105, 4],
      ['dense1/kernel', 2, 'kernel', [4, 3], 109, 12],
      ['dense1/bias', 2, 'bias', [3], 121, 3],
    ]);
    expect(layout.size).toBe(124);
    expect(layout.layers).toEqual([
      { name: 'conv0', offset: 0, size: 57 },
      { name: 'dense0', offset: 57, size: 52 },
      { name: 'dense1', offset: 109, size: 15 },
    ]);
    expect(modelScopes(layout, [1, 2, 3])).toEqual([
      { kind: 'full', offset: 0, size: 124 },
      { kind: 'block', k: 1, offset: 109, size: 15, layers: ['dense1'] },
      { kind: 'block', k: 2, offset: 57, size: 67, layers: ['dense0', 'dense1'] },
      { kind: 'block', k: 3, offset: 0, size: 124, layers: ['conv0', 'dense0', 'dense1'] },
    ]);
    expect(() => lastLayersScope(layout, 4)).toThrow(/\[1, 3\], got 4/);
    expect(modelDims(cnn)).toEqual({ inputDim: 50, outputDim: 3 });
  });

  it("tracks the map size through 'same'/'valid' convs and pooling", () => {
    const mnist: CnnSpec = {
      ...cnn,
      inputShape: [28, 28, 1],
      conv: [{ filters: 8, kernelSize: 3 }, { filters: 16, kernelSize: 3 }],
      dense: [],
      outputDim: 10,
    };
    const layout = modelLayout(mnist);
    expect(layout.slots.map((s) => [s.name, s.shape])).toEqual([
      ['conv0/kernel', [3, 3, 1, 8]],
      ['conv0/bias', [8]],
      ['conv1/kernel', [3, 3, 8, 16]],
      ['conv1/bias', [16]],
      ['dense0/kernel', [7 * 7 * 16, 10]],
      ['dense0/bias', [10]],
    ]);
    expect(layout.size).toBe(9098);
    // conv0 3·3·1·8 + 8 = 80, conv1 3·3·8·16 + 16 = 1168, dense0 784·10 + 10 = 7850.
    expect(layout.layers).toEqual([
      { name: 'conv0', offset: 0, size: 80 },
      { name: 'conv1', offset: 80, size: 1168 },
      { name: 'dense0', offset: 1248, size: 7850 },
    ]);
    expect(lastLayersScope(layout, 2)).toEqual({ kind: 'block', k: 2, offset: 80, size: 9018, layers: ['conv1', 'dense0'] });
    const unpooled: CnnSpec = { ...mnist, conv: [{ filters: 2, kernelSize: 4, padding: 'valid' }, { filters: 3, kernelSize: 2 }], pool: 'none' };
    const geometry = cnnGeometry(unpooled);
    expect(geometry.convs.map((g) => [g.outH, g.outW, g.padTop, g.padBottom])).toEqual([
      [25, 25, 0, 0],
      [25, 25, 0, 1], // an even 'same' kernel pads the extra row at the bottom (TensorFlow's rule)
    ]);
    expect(geometry.denseWidths).toEqual([25 * 25 * 3, 10]);
  });

  it('an MLP spec with kind: mlp is the same MLP', () => {
    expect(modelLayout({ ...spec, kind: 'mlp' })).toEqual(mlpLayout(spec));
    expect(modelLayout(spec)).toEqual(mlpLayout(spec));
    expect(initModelParameters({ ...spec, kind: 'mlp' }, 3)).toEqual(initMlpParameters(spec, 3));
  });

  it('rejects what it cannot build, naming it', () => {
    const withCnn = (patch: Partial<CnnSpec>): CnnSpec => ({ ...cnn, ...patch });
    expect(() => modelLayout(withCnn({ conv: [{ filters: 3, kernelSize: 3, stride: 2 as 1 }] }))).toThrow(/stride must be 1/);
    expect(() => modelLayout(withCnn({ conv: [{ filters: 3, kernelSize: 3, padding: 'full' as 'same' }] }))).toThrow(/padding/);
    expect(() => modelLayout(withCnn({ conv: [{ filters: 3, kernelSize: 6, padding: 'valid' }] }))).toThrow(/does not fit/);
    expect(() => modelLayout(withCnn({ inputShape: [1, 5, 2] }))).toThrow(/too small for 2×2 pooling/);
    expect(() => modelLayout(withCnn({ conv: [{ filters: 0, kernelSize: 3 }] }))).toThrow(/filters/);
    expect(() => modelLayout(withCnn({ pool: 'sum' as 'avg' }))).toThrow(/avg, max, none/);
    expect(() => modelLayout(withCnn({ inputShape: [5, 5] as unknown as [number, number, number] }))).toThrow(/inputShape/);
    expect(() => modelLayout(withCnn({ dense: [0] }))).toThrow(/positive integers/);
    expect(() => modelLayout(withCnn({ activation: 'sigmoid' as 'relu' }))).toThrow(/tanh, relu, gelu, linear/);
    expect(() => modelLayout({ ...cnn, kind: 'rnn' } as unknown as CnnSpec)).toThrow(/unknown kind 'rnn'/);
  });
});

describe('initModelParameters of a CNN', () => {
  it('draws conv kernels LeCun-uniform with fan_in = kh·kw·c_in, biases zero, deterministic per seed', () => {
    const cnn: CnnSpec = {
      kind: 'cnn',
      inputShape: [8, 8, 6],
      conv: [{ filters: 40, kernelSize: 3 }],
      pool: 'max',
      dense: [],
      outputDim: 2,
      activation: 'tanh',
      loss: 'mse',
    };
    const layout = modelLayout(cnn);
    const theta = initModelParameters(cnn, 1);
    expect(initModelParameters(cnn, 1)).toEqual(theta);
    const [kernel, bias] = layout.slots;
    const fanIn = 3 * 3 * 6;
    const values = theta.subarray(kernel.offset, kernel.offset + kernel.size);
    const limit = Math.sqrt(3 / fanIn);
    const max = values.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(max).toBeLessThanOrEqual(Math.fround(limit));
    expect(max).toBeGreaterThan(0.95 * limit);
    expect((values.reduce((s, v) => s + v * v, 0) / values.length) * fanIn).toBeCloseTo(1, 1);
    expect(theta.subarray(bias.offset, bias.offset + bias.size).every((v) => v === 0)).toBe(true);
  });
});
