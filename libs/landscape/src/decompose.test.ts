import { describe, expect, it } from 'vitest';
import { symmetricEigen } from '@lrscape/linalg';
import { knownHessian } from './testing/known-hessian';
import { decomposeHessian, warmStartOf } from './decompose';

/** H = Q diag(λ) Qᵀ with a known spectrum; its k-layer "blocks" are trailing principal submatrices. */
function knownCurvature(lambdas: number[]) {
  const { curvature, dense, scopes } = knownHessian(lambdas, { seed: 5, blocks: [1, 2] });
  return { ops: curvature, dense, scopes };
}

describe('decomposeHessian', () => {
  it('returns the known top eigenvalues of the full operator with small residuals, and one spectrum per k', async () => {
    const lambdas = [9, 7, 5, ...Array.from({ length: 27 }, (_, i) => 0.5 - i * 0.02)];
    const { ops, dense, scopes } = knownCurvature(lambdas);
    const spectra = await decomposeHessian(ops, scopes, { topK: 3, maxIterations: 30, tolerance: 1e-8 });
    expect(spectra.map((s) => s.scope)).toEqual(scopes);
    const full = spectra[0];
    expect(full.pairs.map((p) => p.value)).toEqual([expect.closeTo(9, 8), expect.closeTo(7, 8), expect.closeTo(5, 8)]);
    full.pairs.forEach((p) => expect(p.residual).toBeLessThan(1e-6));
    // Each k-layer spectrum is that of the trailing 4k×4k principal submatrix, checked by a dense solve.
    for (const [index, k] of [[1, 1], [2, 2]]) {
      const size = 4 * k;
      const sub = new Float64Array(size * size);
      const n = lambdas.length;
      for (let r = 0; r < size; r++) for (let c = 0; c < size; c++) sub[r * size + c] = dense[(n - size + r) * n + (n - size + c)];
      const exact = symmetricEigen(sub, size).values;
      expect(spectra[index].pairs).toHaveLength(3);
      spectra[index].pairs.forEach((p, i) => {
        expect(p.vector).toHaveLength(size);
        expect(p.value).toBeCloseTo(exact[i], 8);
      });
    }
  });

  it('warm-started from its own eigenvectors, converges in fewer operator calls to the same values', async () => {
    const lambdas = [9, 7, 5, ...Array.from({ length: 27 }, (_, i) => 0.5 - i * 0.02)];
    const { ops, scopes } = knownCurvature(lambdas);
    const cold = await decomposeHessian(ops, scopes.slice(0, 1), { topK: 3, maxIterations: 30, tolerance: 1e-8 });
    const warm = warmStartOf(cold);
    expect([...warm.keys()]).toEqual(['full']);
    const again = await decomposeHessian(ops, scopes.slice(0, 1), { topK: 3, maxIterations: 30, tolerance: 1e-8, warm });
    expect(again[0].pairs.map((p) => p.value)).toEqual(cold[0].pairs.map((p) => expect.closeTo(p.value, 8)));
    expect(again[0].operatorCalls).toBeLessThan(cold[0].operatorCalls);
  });
});
