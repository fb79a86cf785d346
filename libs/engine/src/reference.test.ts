import { describe, expect, it } from 'vitest';
import { ACTIVATIONS, LOSSES, mlpLayout, type MlpSpec } from './layout';
import { referenceGradient, referenceHessian, referenceLoss } from './reference';
import { randomTheta, relError, tinyBatch } from './testing/fixtures';

function centralDifference(f: (t: Float64Array) => number, theta: Float64Array, i: number, h: number): number {
  const t = Float64Array.from(theta);
  t[i] = theta[i] + h;
  const up = f(t);
  t[i] = theta[i] - h;
  return (up - f(t)) / (2 * h);
}

describe.each(ACTIVATIONS.flatMap((activation) => LOSSES.map((loss) => ({ activation, loss }))))(
  'float64 reference MLP, $activation + $loss',
  ({ activation, loss }) => {
    const spec: MlpSpec = { inputDim: 3, hidden: [4, 3], outputDim: 2, activation, loss };
    const P = mlpLayout(spec).size;
    const batch = tinyBatch(spec, 6, 11);
    const theta = randomTheta(spec, 5).f64;

    it('gradient matches central differences of the loss', () => {
      const g = referenceGradient(spec, theta, batch);
      const fd = Float64Array.from({ length: P }, (_, i) => centralDifference((t) => referenceLoss(spec, t, batch), theta, i, 1e-5));
      expect(relError(g, fd)).toBeLessThan(1e-6);
    });

    it('Hessian is symmetric and matches central differences of the gradient', () => {
      const H = referenceHessian(spec, theta, batch);
      let asym = 0;
      for (let i = 0; i < P; i++) for (let j = 0; j < P; j++) asym = Math.max(asym, Math.abs(H[i * P + j] - H[j * P + i]));
      expect(asym).toBe(0);
      const fd = new Float64Array(P * P);
      const h = 1e-5;
      for (let j = 0; j < P; j++) {
        const t = Float64Array.from(theta);
        t[j] = theta[j] + h;
        const up = referenceGradient(spec, t, batch);
        t[j] = theta[j] - h;
        const down = referenceGradient(spec, t, batch);
        for (let i = 0; i < P; i++) fd[i * P + j] = (up[i] - down[i]) / (2 * h);
      }
      expect(relError(H, fd)).toBeLessThan(1e-5);
      // Not degenerate: the curvature is there to be checked.
      expect(Math.max(...H.map(Math.abs))).toBeGreaterThan(1e-3);
    });
  },
);

describe('reference loss', () => {
  it('is the mean of ½‖f − y‖² for a linear model', () => {
    const spec: MlpSpec = { inputDim: 2, hidden: [], outputDim: 1, activation: 'linear', loss: 'mse' };
    // f = 2·x0 − x1 + 0.5
    const theta = Float64Array.from([2, -1, 0.5]);
    const batch = { x: Float32Array.from([1, 0, 0, 1]), y: Float32Array.from([3, 0]), n: 2 };
    // f = [2.5, −0.5]; residuals [−0.5, −0.5]; loss = ½(0.25 + 0.25)/2
    expect(referenceLoss(spec, theta, batch)).toBeCloseTo(0.125, 15);
  });
  it('is stable for cross-entropy at huge logits', () => {
    const spec: MlpSpec = { inputDim: 1, hidden: [], outputDim: 2, activation: 'linear', loss: 'cross_entropy' };
    const theta = Float64Array.from([1000, -1000, 0, 0]);
    const batch = { x: Float32Array.from([1]), y: Float32Array.from([0, 1]), n: 1 };
    expect(referenceLoss(spec, theta, batch)).toBeCloseTo(2000, 10);
    expect(Array.from(referenceGradient(spec, theta, batch))).toEqual([1, -1, 1, -1]);
  });
  it('rejects a batch of the wrong shape', () => {
    const spec: MlpSpec = { inputDim: 2, hidden: [], outputDim: 1, activation: 'linear', loss: 'mse' };
    expect(() => referenceLoss(spec, new Float64Array(3), { x: new Float32Array(3), y: new Float32Array(2), n: 2 })).toThrow(/x has 3/);
    expect(() => referenceLoss(spec, new Float64Array(2), { x: new Float32Array(4), y: new Float32Array(2), n: 2 })).toThrow(/θ has 2/);
  });
});
