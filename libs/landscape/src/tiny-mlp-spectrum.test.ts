/**
 * The whole Hessian path on a tiny MLP against its exact spectrum: the exact Hessian (float64 hyper-dual
 * reference of @lrscape/engine), its dense eigenvalues, and Lanczos on (a) the exact H in float64 and
 * (b) the tfjs float32 R-operator HVP that the pipeline uses (through decomposeHessian on the full scope).
 */
import { describe, expect, it } from 'vitest';
import { fullScope, initMlpParameters, MlpObjective, referenceHessian, selectBackend, type MlpSpec } from '@lrscape/engine';
import { createRng, lanczosTopEigenpairs, symmetricEigen } from '@lrscape/linalg';
import { decomposeHessian } from './decompose';

const cases: MlpSpec[] = [
  { inputDim: 2, hidden: [5, 4], outputDim: 2, activation: 'tanh', loss: 'mse' },
  { inputDim: 2, hidden: [5, 4], outputDim: 3, activation: 'tanh', loss: 'cross_entropy' },
  { inputDim: 2, hidden: [6], outputDim: 2, activation: 'gelu', loss: 'cross_entropy' },
];

function tinyBatch(spec: MlpSpec, n: number) {
  const rng = createRng(11);
  const x = Float32Array.from({ length: n * spec.inputDim }, () => rng.normal());
  const labels = Int32Array.from({ length: n }, () => rng.int(spec.outputDim));
  const y = new Float32Array(n * spec.outputDim);
  labels.forEach((c, i) => (y[i * spec.outputDim + c] = 1));
  return { x, y, n, labels };
}

describe.each(cases)('Lanczos top-5 of a tiny $activation/$loss MLP', (spec) => {
  it('match the dense exact eigenvalues: 1e-6 on the float64 path, 1e-5 on the tfjs float32 HVP', async () => {
    await selectBackend('wasm');
    const batch = tinyBatch(spec, 12);
    // Move θ off the initial point so the spectrum is not degenerate.
    const theta32 = initMlpParameters(spec, 4).map((t, i) => t + 0.3 * Math.sin(i));
    const theta = Float64Array.from(theta32);
    const P = theta.length;
    const H = referenceHessian(spec, theta, batch);
    const exact = symmetricEigen(H, P).values.slice(0, 5);

    const denseHvp = async (v: Float64Array) => {
      const out = new Float64Array(P);
      for (let r = 0; r < P; r++) for (let c = 0; c < P; c++) out[r] += H[r * P + c] * v[c];
      return out;
    };
    const float64 = await lanczosTopEigenpairs(denseHvp, P, { count: 5, maxIterations: P, tolerance: 1e-12 });
    float64.pairs.forEach((pair, i) => expect(Math.abs(pair.value - exact[i]) / Math.abs(exact[i])).toBeLessThan(1e-6));

    const objective = new MlpObjective(spec, batch);
    const curvature = await objective.curvatureAt(theta32);
    try {
      const [full] = await decomposeHessian(curvature, [fullScope(objective.layout)], { topK: 5, maxIterations: P, tolerance: 1e-7 });
      const worst = Math.max(...full.pairs.map((pair, i) => Math.abs(pair.value - exact[i]) / Math.abs(exact[i])));
      // float32 HVPs (ε ≈ 6e-8) on a well-separated top-5: measured ≤ 1e-7; 1e-5 leaves room for other backends' summation order.
      expect(worst).toBeLessThan(1e-5);
    } finally {
      curvature.dispose();
      objective.dispose();
    }
  });
});
