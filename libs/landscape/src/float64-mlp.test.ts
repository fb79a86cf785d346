import { describe, expect, it } from 'vitest';
import { modelLayout, referenceModelGradient, referenceModelHessianVector, referenceModelLoss, type Batch, type MlpSpec, type ModelSpec } from '@lrscape/engine';
import { createRng } from '@lrscape/linalg';
import { Float64Mlp } from './float64-mlp';

function batchFor(spec: MlpSpec, n: number, seed: number): Batch {
  const rng = createRng(seed);
  const x = Float32Array.from({ length: n * spec.inputDim }, () => rng.normal());
  const y = new Float32Array(n * spec.outputDim);
  if (spec.loss === 'mse') y.forEach((_, i) => (y[i] = rng.normal()));
  else for (let row = 0; row < n; row++) y[row * spec.outputDim + rng.int(spec.outputDim)] = 1;
  return { x, y, n };
}

const randomVector = (n: number, seed: number, scale = 1) => {
  const rng = createRng(seed);
  return Float64Array.from({ length: n }, () => scale * rng.normal());
};

const relError = (a: Float64Array, b: Float64Array) => {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / den);
};

describe.each([
  { activation: 'tanh', loss: 'mse' },
  { activation: 'tanh', loss: 'cross_entropy' },
  { activation: 'relu', loss: 'mse' },
  { activation: 'linear', loss: 'cross_entropy' },
] as const)('Float64Mlp, $activation + $loss, against the hyper-dual reference', ({ activation, loss }) => {
  const spec: MlpSpec = { inputDim: 3, hidden: [5, 4], outputDim: 2, activation, loss };
  const P = modelLayout(spec).size;
  const batch = batchFor(spec, 7, 3);
  const theta = randomVector(P, 9, 0.7);
  const model = new Float64Mlp(spec, modelLayout(spec), batch);

  it('loss and gradient agree to float64 rounding', () => {
    const { loss: value, gradient } = model.lossAndGradient(theta);
    expect(Math.abs(value - referenceModelLoss(spec, theta, batch))).toBeLessThan(1e-14);
    expect(relError(gradient, referenceModelGradient(spec, theta, batch))).toBeLessThan(1e-12);
  });

  it('H·v agrees to float64 rounding', () => {
    for (const seed of [1, 2]) {
      const v = randomVector(P, seed);
      expect(relError(model.hessianVector(theta, v), referenceModelHessianVector(spec, theta, batch, v))).toBeLessThan(1e-12);
    }
  });

  it('a second θ is not served from the first one’s cached forward pass', () => {
    const other = randomVector(P, 10, 0.7);
    expect(relError(model.gradient(other), referenceModelGradient(spec, other, batch))).toBeLessThan(1e-12);
  });
});

describe('Float64Mlp refuses what it cannot compute', () => {
  it('gelu and CNNs', () => {
    const spec: MlpSpec = { inputDim: 1, hidden: [2], outputDim: 1, activation: 'tanh', loss: 'mse' };
    const batch = batchFor(spec, 3, 1);
    expect(() => new Float64Mlp({ ...spec, activation: 'gelu' }, modelLayout(spec), batch)).toThrow(/not gelu/);
    const cnn: ModelSpec = { kind: 'cnn', inputShape: [1, 1, 1], conv: [{ filters: 1, kernelSize: 1 }], pool: 'none', dense: [], outputDim: 1, activation: 'tanh', loss: 'mse' };
    expect(() => new Float64Mlp(cnn, modelLayout(cnn), batch)).toThrow(/not a CNN/);
    expect(() => new Float64Mlp(spec, modelLayout({ ...spec, hidden: [3] }), batch)).toThrow(/not that of the MLP 1-2-1/);
  });
});
