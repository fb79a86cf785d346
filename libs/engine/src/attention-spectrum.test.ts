/**
 * The Hessian of a tiny attention model against its exact spectrum: the exact Hessian (float64 hyper-dual
 * reference), its dense eigenvalues, and Lanczos on (a) the exact H in float64 and (b) the tfjs float32
 * R-operator HVP; then every last-k-layer block operator against the exact Hessian's sub-block (its products
 * and its top eigenvalues). A block is a whole layer of the layout: the embedding, an attention block (its
 * four projections), a dense layer.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lanczosTopEigenpairs, symmetricEigen } from '@lrscape/linalg';
import { selectBackend } from './backend';
import { initModelParameters, lastLayersScope, modelLayout } from './layout';
import { ModelObjective, type Curvature } from './objective';
import { referenceModelHessian } from './reference';
import { tinyAttention, tokenBatch } from './testing/attention-fixtures';
import { MLP_FLOAT32_TOL, matVec, randomVector, relError, subBlock } from './testing/fixtures';

/** Two heads of width 2, the first position read out, softmax cross-entropy on 2 classes (P = 102, 4 layers). */
const spec = tinyAttention({ heads: 2, loss: 'cross_entropy' });
const layout = modelLayout(spec);
const P = layout.size;
const batch = tokenBatch(spec, 4, 11);
// Off the initial point, so that the spectrum is not degenerate.
const theta32 = initModelParameters(spec, 4).map((t, i) => t + 0.3 * Math.sin(i));
const theta = Float64Array.from(theta32);

const maxRelativeError = (values: ArrayLike<number>, exact: ArrayLike<number>) => Math.max(...Array.from(values, (v, i) => Math.abs(v - exact[i]) / Math.abs(exact[i])));

describe('the Hessian of a tiny attention model', () => {
  let H: Float64Array;
  let objective: ModelObjective;
  let curvature: Curvature;

  beforeAll(async () => {
    await selectBackend('wasm');
    H = referenceModelHessian(spec, theta, batch);
    objective = new ModelObjective(spec, batch);
    curvature = await objective.curvatureAt(theta32);
  });
  afterAll(() => {
    curvature.dispose();
    objective.dispose();
  });

  it('Lanczos top-5 matches the dense exact eigenvalues: 1e-6 on the float64 path, 1e-5 on the tfjs float32 HVP', async () => {
    expect(layout.layers.map((l) => l.name)).toEqual(['embed', 'attn0', 'dense0']);
    const exact = symmetricEigen(H, P).values.slice(0, 5);
    // A spectrum with a clear top (not a tiny or clustered one that any operator would match).
    expect(exact[0]).toBeGreaterThan(1e-2);
    expect(exact[0] / exact[1]).toBeGreaterThan(1.05);
    const float64 = await lanczosTopEigenpairs(async (v) => matVec(H, P, P, v), P, { count: 5, maxIterations: P, tolerance: 1e-12 });
    expect(maxRelativeError(float64.pairs.map((p) => p.value), exact)).toBeLessThan(1e-6);
    const float32 = await lanczosTopEigenpairs((v) => curvature.hvp(v), P, { count: 5, maxIterations: P, tolerance: 1e-7 });
    // float32 HVPs (u ≈ 6e-8) on a separated top-5: measured 5e-8 (the blocks' top-3: ≤ 8e-8); the issue's bound is 1e-3, 1e-5 leaves room for other summation orders.
    expect(maxRelativeError(float32.pairs.map((p) => p.value), exact)).toBeLessThan(1e-5);
  });

  it('every last-k-layer block operator is the sub-block of the exact Hessian: its products and its top eigenvalues', async () => {
    for (let k = 1; k <= layout.layerCount; k++) {
      const scope = lastLayersScope(layout, k);
      const block = subBlock(H, P, scope.offset, scope.size);
      const apply = curvature.operator(scope);
      const w = randomVector(scope.size, 30 + k);
      expect(relError(await apply(w), matVec(block, scope.size, scope.size, w))).toBeLessThan(MLP_FLOAT32_TOL);
      const count = Math.min(3, scope.size);
      const exact = symmetricEigen(block, scope.size).values.slice(0, count);
      const ritz = await lanczosTopEigenpairs(apply, scope.size, { count, maxIterations: scope.size, tolerance: 1e-7 });
      expect(maxRelativeError(ritz.pairs.map((p) => p.value), exact)).toBeLessThan(1e-5);
    }
  });
});
