/**
 * The hand-written tfjs backward pass and R-operator against the exact float64 reference
 * (hyper-dual Hessian), for every activation × loss, through MlpObjective on one chunk; float32 tolerance
 * MLP_FLOAT32_TOL (testing/fixtures.ts says why). On both kernel paths of the wasm backend (testing/kernels.ts):
 * tfjs's kernels with the 'input'/'delta' routes, the native ones with the 'flag' route.
 */
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectBackend } from './backend';
import { ACTIVATIONS, LOSSES, lastLayersScope, mlpLayout, type MlpSpec } from './layout';
import { disposeWeights, gradientRoutes, weightsFromFlat } from './mlp';
import { MlpObjective, type Curvature } from './objective';
import { referenceGradient, referenceHessian, referenceLoss } from './reference';
import { MLP_FLOAT32_TOL as TOL, matVec, randomTheta, randomVector, relError, subBlock, tinyBatch } from './testing/fixtures';
import { describeOnKernels } from './testing/kernels';

beforeAll(async () => {
  await selectBackend('wasm');
});

describeOnKernels('tfjs MLP vs float64 reference', () => describe.each(ACTIVATIONS.flatMap((activation) => LOSSES.map((loss) => ({ activation, loss }))))(
  '$activation + $loss',
  ({ activation, loss }) => {
    const spec: MlpSpec = { inputDim: 3, hidden: [4, 3], outputDim: 2, activation, loss };
    const layout = mlpLayout(spec);
    const P = layout.size;
    const batch = tinyBatch(spec, 6, 21);
    const theta = randomTheta(spec, 8);
    const H = referenceHessian(spec, theta.f64, batch);
    let objective: MlpObjective;
    let curvature: Curvature;

    beforeAll(async () => {
      objective = new MlpObjective(spec, batch);
      curvature = await objective.curvatureAt(theta.f32);
    });
    afterAll(() => {
      curvature.dispose();
      objective.dispose();
    });

    it('loss and gradient match the reference', async () => {
      const { loss: value, gradient } = await objective.lossAndGradient(theta.f32);
      const expected = referenceLoss(spec, theta.f64, batch);
      expect(relError([value], [expected])).toBeLessThan(TOL);
      expect(relError(gradient, referenceGradient(spec, theta.f64, batch))).toBeLessThan(TOL);
      expect(relError([(await objective.evaluate(theta.f32)).loss], [expected])).toBeLessThan(TOL);
    });

    it('hvp(v) equals the exact Hessian times v', async () => {
      for (const seed of [1, 2, 3]) {
        const v = randomVector(P, seed);
        expect(relError(await curvature.hvp(v), matVec(H, P, P, v))).toBeLessThan(TOL);
      }
      // A basis vector picks out one column of H.
      const e = new Float64Array(P);
      e[P - 3] = 1;
      expect(relError(await curvature.hvp(e), H.subarray((P - 3) * P, (P - 2) * P))).toBeLessThan(TOL);
      expect(curvature.hvpCount).toBe(4);
    });

    it('operator(last k layers) equals that block of the exact Hessian times v', async () => {
      for (const k of [1, 2, 3]) {
        const scope = lastLayersScope(layout, k);
        const { offset, size } = scope;
        const block = subBlock(H, P, offset, size);
        const apply = curvature.operator(scope);
        for (const seed of [4, 5]) {
          const v = randomVector(size, seed);
          expect(relError(await apply(v), matVec(block, size, size, v))).toBeLessThan(TOL);
        }
      }
    });
  },
));

describe('gradientRoutes', () => {
  // 3 → 2 → 5 → 3 → 2: layer 1 widens (a[1]ᵀ is transposed), layers 2 and 3 narrow (δᵀ is); layer 0 narrows too, but x's transpose is given.
  const spec: MlpSpec = { inputDim: 3, hidden: [2, 5, 3], outputDim: 2, activation: 'tanh', loss: 'mse' };
  it('routes as documented: by width on the wasm kernels, by the transpose flag on the native ones', () => {
    const weights = weightsFromFlat(mlpLayout(spec), randomTheta(spec, 5).f32);
    expect(gradientRoutes(weights, true, false)).toEqual(['input', 'input', 'delta', 'delta']);
    expect(gradientRoutes(weights, false, false)).toEqual(['delta', 'input', 'delta', 'delta']);
    expect(gradientRoutes(weights, true, true)).toEqual(['flag', 'flag', 'flag', 'flag']);
    disposeWeights(weights);
  });
});

describeOnKernels('every weight-gradient route on hidden layers', () => describe.each([
  { activation: 'tanh', loss: 'cross_entropy' },
  { activation: 'relu', loss: 'mse' },
  { activation: 'gelu', loss: 'mse' },
] as const)('$activation + $loss', ({ activation, loss }) => {
  // 3 → 2 → 5 → 3 → 2: layer 1 widens (a[1]ᵀ is transposed), layers 2 and 3 narrow (δᵀ is); layer 0 narrows too, but x's transpose is given.
  const spec: MlpSpec = { inputDim: 3, hidden: [2, 5, 3], outputDim: 2, activation, loss };
  const layout = mlpLayout(spec);
  const P = layout.size;
  const batch = tinyBatch(spec, 7, 23);
  const theta = randomTheta(spec, 5);

  it('gradient, HVP and every block HVP match the reference', async () => {
    const H = referenceHessian(spec, theta.f64, batch);
    const objective = new MlpObjective(spec, batch, { chunkSize: 4 });
    const curvature = await objective.curvatureAt(theta.f32);
    try {
      const { gradient } = await objective.lossAndGradient(theta.f32);
      expect(relError(gradient, referenceGradient(spec, theta.f64, batch))).toBeLessThan(TOL);
      const v = randomVector(P, 11);
      expect(relError(await curvature.hvp(v), matVec(H, P, P, v))).toBeLessThan(TOL);
      for (const k of [1, 2, 3]) {
        const scope = lastLayersScope(layout, k);
        const { offset, size } = scope;
        const w = randomVector(size, 12 + k);
        expect(relError(await curvature.operator(scope)(w), matVec(subBlock(H, P, offset, size), size, size, w))).toBeLessThan(TOL);
      }
    } finally {
      curvature.dispose();
      objective.dispose();
    }
  });
}));

describe('tfjs MLP on the cpu backend', () => {
  afterAll(async () => {
    await selectBackend('wasm');
  });
  it('gives the same exact gradient and HVP', async () => {
    expect(await selectBackend('cpu')).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    const spec: MlpSpec = { inputDim: 3, hidden: [4, 3], outputDim: 2, activation: 'gelu', loss: 'cross_entropy' };
    const P = mlpLayout(spec).size;
    const batch = tinyBatch(spec, 6, 31);
    const theta = randomTheta(spec, 9);
    const objective = new MlpObjective(spec, batch, { chunkSize: 4 });
    const curvature = await objective.curvatureAt(theta.f32);
    try {
      const { gradient } = await objective.lossAndGradient(theta.f32);
      expect(relError(gradient, referenceGradient(spec, theta.f64, batch))).toBeLessThan(TOL);
      const v = randomVector(P, 6);
      expect(relError(await curvature.hvp(v), matVec(referenceHessian(spec, theta.f64, batch), P, P, v))).toBeLessThan(TOL);
    } finally {
      curvature.dispose();
      objective.dispose();
    }
  });
});
