import { describe, expect, it } from 'vitest';
import { attentionGeometry, initModelParameters, lastLayersScope, modelDims, modelLayout, modelScopes, type AttentionSpec } from './layout';
import { referenceModelGradient, referenceModelHessian, referenceModelLoss } from './reference';
import { tinyAttention, tokenBatch } from './testing/attention-fixtures';
import { randomTheta, relError } from './testing/fixtures';

describe('modelLayout of an attention model', () => {
  const spec: AttentionSpec = tinyAttention({ sequenceLength: 5, vocabulary: 3, width: 4, heads: 2, blocks: 2, dense: [3], outputDim: 2 });

  it('lays out the embedding tables, each block as one layer of four projections, then the readout', () => {
    const layout = modelLayout(spec);
    expect(layout.slots.map((s) => [s.name, s.layer, s.role, s.shape, s.offset, s.size])).toEqual([
      ['embed/token', 0, 'kernel', [3, 4], 0, 12],
      ['embed/position', 0, 'kernel', [5, 4], 12, 20],
      ['attn0/query', 1, 'kernel', [4, 4], 32, 16],
      ['attn0/key', 1, 'kernel', [4, 4], 48, 16],
      ['attn0/value', 1, 'kernel', [4, 4], 64, 16],
      ['attn0/output', 1, 'kernel', [4, 4], 80, 16],
      ['attn1/query', 2, 'kernel', [4, 4], 96, 16],
      ['attn1/key', 2, 'kernel', [4, 4], 112, 16],
      ['attn1/value', 2, 'kernel', [4, 4], 128, 16],
      ['attn1/output', 2, 'kernel', [4, 4], 144, 16],
      ['dense0/kernel', 3, 'kernel', [4, 3], 160, 12],
      ['dense0/bias', 3, 'bias', [3], 172, 3],
      ['dense1/kernel', 4, 'kernel', [3, 2], 175, 6],
      ['dense1/bias', 4, 'bias', [2], 181, 2],
    ]);
    expect(layout.size).toBe(183);
    expect(modelScopes(layout, [1, 3, 4])).toEqual([
      { kind: 'full', offset: 0, size: 183 },
      { kind: 'block', k: 1, offset: 175, size: 8, layers: ['dense1'] },
      { kind: 'block', k: 3, offset: 96, size: 87, layers: ['attn1', 'dense0', 'dense1'] },
      { kind: 'block', k: 4, offset: 32, size: 151, layers: ['attn0', 'attn1', 'dense0', 'dense1'] },
    ]);
    expect(lastLayersScope(layout, 5).layers).toEqual(['embed', 'attn0', 'attn1', 'dense0', 'dense1']);
    expect(modelDims(spec)).toEqual({ inputDim: 5, outputDim: 2 });
  });

  it('draws LeCun-uniform tables and projections with fan-in V, T and d, biases zero', () => {
    const layout = modelLayout(spec);
    const theta = initModelParameters(spec, 3);
    for (const slot of layout.slots) {
      const values = theta.subarray(slot.offset, slot.offset + slot.size);
      if (slot.role === 'bias') {
        expect(Array.from(values).every((v) => v === 0)).toBe(true);
        continue;
      }
      const limit = Math.sqrt(3 / slot.shape[0]);
      expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(limit);
      expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(limit / 2);
    }
    expect(Array.from(initModelParameters(spec, 3))).toEqual(Array.from(theta));
  });

  it('refuses a spec it cannot lay out, naming the setting', () => {
    expect(() => modelLayout({ ...spec, heads: 3 })).toThrow('AttentionSpec: heads = 3 does not divide width = 4');
    expect(() => modelLayout({ ...spec, blocks: -1 })).toThrow(/blocks must be a non-negative integer/);
    expect(() => modelLayout({ ...spec, vocabulary: 0 })).toThrow(/vocabulary must be a positive integer, got 0/);
    expect(() => modelLayout({ ...spec, readout: 'last' as 'first' })).toThrow(/unknown readout 'last' \(valid: first, mean\)/);
    expect(() => modelLayout({ ...spec, activation: 'swish' as 'tanh' })).toThrow(/AttentionSpec: unknown activation 'swish'/);
    expect(() => modelLayout({ ...spec, kind: 'transformer' as 'attention' })).toThrow(/unknown kind 'transformer' \(valid: mlp, cnn, attention\)/);
    expect(attentionGeometry(spec)).toEqual({ headWidth: 2, denseWidths: [4, 3, 2] });
  });
});

describe('reference attention loss', () => {
  // d = 1, two positions, tokens [1, 0]: E = [0, 1], P = 0, so h = [1, 0]; W_q = W_k = 1, W_v = 2, W_o = 1, then f = h'_0 (w = 1, b = 0).
  // Position 0 attends with softmax([q·k·1, 0]) = [e/(e+1), 1/(e+1)], so O_0 = e/(e+1)·2 and h'_0 = 1 + 2e/(e+1).
  const spec = tinyAttention({ sequenceLength: 2, vocabulary: 2, width: 1, outputDim: 1 });
  const theta = Float64Array.from([0, 1, 0, 0, 1, 1, 2, 1, 1, 0]);
  const batch = { x: Float32Array.from([1, 0]), y: Float32Array.from([0]), n: 1 };
  const f = 1 + (2 * Math.E) / (Math.E + 1);

  it('is ½f² with f the residual plus the softmax-weighted value at the first position', () => {
    expect(modelLayout(spec).size).toBe(10);
    expect(referenceModelLoss(spec, theta, batch)).toBeCloseTo(0.5 * f * f, 14);
    // ∂L/∂W_v = f·∂f/∂W_v = f·e/(e+1) (through O_0 only); ∂L/∂b = f.
    const gradient = referenceModelGradient(spec, theta, batch);
    expect(gradient[6]).toBeCloseTo((f * Math.E) / (Math.E + 1), 14);
    expect(gradient[9]).toBeCloseTo(f, 14);
  });

  it("'mean' reads out the average over positions", () => {
    // h'_1: position 1 has h = 0, so Q_1 = 0 and it attends uniformly: O_1 = ½·(2·1 + 2·0) = 1, h'_1 = 0 + 1.
    expect(referenceModelLoss({ ...spec, readout: 'mean' as const }, theta, batch)).toBeCloseTo(0.5 * ((f + 1) / 2) ** 2, 14);
  });
});

describe('float64 reference attention model', () => {
  // Two blocks of two heads (width 2: one column each), mean readout, a tanh hidden layer: P = 54.
  const spec = tinyAttention({ sequenceLength: 3, vocabulary: 2, width: 2, heads: 2, blocks: 2, readout: 'mean', dense: [2], loss: 'cross_entropy' });
  const layout = modelLayout(spec);
  const P = layout.size;
  const batch = tokenBatch(spec, 3, 7);
  const theta = randomTheta(spec, 8).f64;
  const h = 1e-5;
  const shifted = (i: number, by: number) => {
    const t = Float64Array.from(theta);
    t[i] += by;
    return t;
  };

  it('gradient matches central differences of the loss', () => {
    const fd = Float64Array.from(theta, (_, i) => (referenceModelLoss(spec, shifted(i, h), batch) - referenceModelLoss(spec, shifted(i, -h), batch)) / (2 * h));
    expect(relError(referenceModelGradient(spec, theta, batch), fd)).toBeLessThan(1e-6);
  });

  it("Hessian is symmetric and its columns match central differences of the gradient (each slot's first and last)", () => {
    expect(P).toBe(54);
    const H = referenceModelHessian(spec, theta, batch);
    const columns = layout.slots.flatMap((slot) => [slot.offset, slot.offset + slot.size - 1]);
    const [exact, fd] = [new Float64Array(columns.length * P), new Float64Array(columns.length * P)];
    columns.forEach((j, c) => {
      const [up, down] = [referenceModelGradient(spec, shifted(j, h), batch), referenceModelGradient(spec, shifted(j, -h), batch)];
      for (let i = 0; i < P; i++) {
        fd[c * P + i] = (up[i] - down[i]) / (2 * h);
        exact[c * P + i] = H[i * P + j];
      }
    });
    let asym = 0;
    for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) asym = Math.max(asym, Math.abs(H[i * P + j] - H[j * P + i]));
    expect(asym).toBe(0);
    expect(relError(exact, fd)).toBeLessThan(1e-5);
    expect(Math.max(...H.map(Math.abs))).toBeGreaterThan(1e-2);
  });
});
