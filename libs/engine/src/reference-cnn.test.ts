import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, LOSSES, modelLayout, type CnnSpec, type MlpSpec, type ModelSpec } from './layout';
import { referenceModelGradient, referenceModelHessian, referenceModelHessianVector, referenceModelLoss } from './reference';
import { matVec, randomTheta, randomVector, relError, tinyBatch } from './testing/fixtures';
import type { Batch } from './batch';

function centralDifference(f: (t: Float64Array) => number, theta: Float64Array, i: number, h: number): number {
  const t = Float64Array.from(theta);
  t[i] = theta[i] + h;
  const up = f(t);
  t[i] = theta[i] - h;
  return (up - f(t)) / (2 * h);
}

function gradientByDifferences(spec: ModelSpec, theta: Float64Array, batch: Batch): Float64Array {
  return Float64Array.from(theta, (_, i) => centralDifference((t) => referenceModelLoss(spec, t, batch), theta, i, 1e-5));
}

const tinyCnn = (spec: Partial<CnnSpec>): CnnSpec => ({
  kind: 'cnn',
  inputShape: [5, 5, 2],
  conv: [{ filters: 3, kernelSize: 3, padding: 'same' }],
  pool: 'avg',
  dense: [4],
  outputDim: 3,
  activation: 'tanh',
  loss: 'mse',
  ...spec,
});

/** Two convs (an even 'same' kernel, a 'valid' one), odd maps cropped by pooling, 'chw' rows, P = 53. */
const twoConv = (spec: Partial<CnnSpec>): CnnSpec => ({
  kind: 'cnn',
  inputShape: [7, 6, 2],
  inputLayout: 'chw',
  conv: [
    { filters: 2, kernelSize: 2 },
    { filters: 3, kernelSize: 2, padding: 'valid' },
  ],
  pool: 'avg',
  dense: [],
  outputDim: 2,
  activation: 'gelu',
  loss: 'cross_entropy',
  ...spec,
});

describe.each(ACTIVATIONS.flatMap((activation) => LOSSES.map((loss) => ({ activation, loss }))))(
  'float64 reference CNN, $activation + $loss',
  ({ activation, loss }) => {
    it('gradient matches central differences of the loss (avg and max pooling)', () => {
      for (const pool of ['avg', 'max'] as const) {
        const spec = tinyCnn({ activation, loss, pool });
        const batch = tinyBatch(spec, 4, 11);
        const theta = randomTheta(spec, 5).f64;
        expect(relError(referenceModelGradient(spec, theta, batch), gradientByDifferences(spec, theta, batch))).toBeLessThan(1e-6);
      }
    });
  },
);

describe('float64 reference CNN Hessian', () => {
  for (const spec of [twoConv({}), twoConv({ pool: 'max', activation: 'tanh', loss: 'mse' }), twoConv({ pool: 'none', activation: 'relu', inputShape: [4, 3, 2] })]) {
    it(`is symmetric and matches central differences of the gradient (${spec.pool} pooling, ${spec.activation} + ${spec.loss})`, () => {
      const P = modelLayout(spec).size;
      const batch = tinyBatch(spec, 3, 12);
      const theta = randomTheta(spec, 6).f64;
      const H = referenceModelHessian(spec, theta, batch);
      let asym = 0;
      for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) asym = Math.max(asym, Math.abs(H[i * P + j] - H[j * P + i]));
      expect(asym).toBe(0);
      const fd = new Float64Array(P * P);
      const h = 1e-5;
      for (let j = 0; j < P; j++) {
        const t = Float64Array.from(theta);
        t[j] = theta[j] + h;
        const up = referenceModelGradient(spec, t, batch);
        t[j] = theta[j] - h;
        const down = referenceModelGradient(spec, t, batch);
        for (let i = 0; i < P; i++) fd[i * P + j] = (up[i] - down[i]) / (2 * h);
      }
      expect(relError(H, fd)).toBeLessThan(1e-5);
      expect(Math.max(...H.map(Math.abs))).toBeGreaterThan(1e-3);
    });
  }

  it('referenceModelHessianVector is H·v (CNN and MLP)', () => {
    const mlp: MlpSpec = { inputDim: 3, hidden: [4], outputDim: 2, activation: 'gelu', loss: 'cross_entropy' };
    for (const spec of [twoConv({ pool: 'max' }), mlp] as ModelSpec[]) {
      const P = modelLayout(spec).size;
      const batch = tinyBatch(spec, 3, 13);
      const theta = randomTheta(spec, 7).f64;
      const v = randomVector(P, 1);
      expect(relError(referenceModelHessianVector(spec, theta, batch, v), matVec(referenceModelHessian(spec, theta, batch), P, P, v))).toBeLessThan(1e-13);
    }
  });
});

describe('reference CNN loss', () => {
  // 2×2×1 image, one 1×1 filter (k, b), pooling to one value, then f = w·pooled + c; MSE against y.
  const spec = (pool: 'avg' | 'max'): CnnSpec => ({
    kind: 'cnn',
    inputShape: [2, 2, 1],
    conv: [{ filters: 1, kernelSize: 1 }],
    pool,
    dense: [],
    outputDim: 1,
    activation: 'linear',
    loss: 'mse',
  });
  const theta = Float64Array.from([2, 1, 3, -1]);
  const batch = { x: Float32Array.from([1, 2, 3, 4]), y: Float32Array.from([15]), n: 1 };

  it('averages or takes the max of each 2×2 window', () => {
    // avg: s = 2x + 1 → mean 6 → f = 17, loss ½·2²; max: 9 → f = 26, y = 15 → ½·11².
    expect(referenceModelLoss(spec('avg'), theta, batch)).toBeCloseTo(2, 14);
    expect(referenceModelLoss(spec('max'), theta, batch)).toBeCloseTo(60.5, 14);
    // ∂L/∂k through the max routes only through the argmax x = 4: r·w·4 = 11·3·4.
    expect(referenceModelGradient(spec('max'), theta, batch)[0]).toBeCloseTo(132, 12);
  });

  it("reads 'chw' rows as channel planes", () => {
    const hwc = tinyCnn({ inputShape: [3, 2, 2], conv: [{ filters: 2, kernelSize: 2 }], pool: 'none', dense: [], outputDim: 2 });
    const batch2 = tinyBatch(hwc, 2, 3);
    const chw = new Float32Array(batch2.x.length);
    for (let n = 0; n < 2; n++) for (let p = 0; p < 6; p++) for (let c = 0; c < 2; c++) chw[n * 12 + c * 6 + p] = batch2.x[n * 12 + p * 2 + c];
    const theta2 = randomTheta(hwc, 1).f64;
    expect(referenceModelLoss({ ...hwc, inputLayout: 'chw' as const }, theta2, { ...batch2, x: chw })).toBe(referenceModelLoss(hwc, theta2, batch2));
  });
});
