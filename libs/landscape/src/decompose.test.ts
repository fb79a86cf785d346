import { describe, expect, it } from 'vitest';
import { createRng, symmetricEigen } from '@lrscape/linalg';
import type { Curvature, Scope } from '@lrscape/engine';
import { decomposeHessian, warmStartOf } from './decompose';

/** H = Q diag(λ) Qᵀ with a known spectrum; its k-layer "blocks" are trailing principal submatrices. */
function knownCurvature(lambdas: number[]): { ops: Pick<Curvature, 'operator'>; dense: Float64Array; scopes: Scope[] } {
  const n = lambdas.length;
  const rng = createRng(5);
  const q: Float64Array[] = [];
  for (let j = 0; j < n; j++) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (const u of q) {
      const d = u.reduce((s, ui, i) => s + ui * v[i], 0);
      for (let i = 0; i < n; i++) v[i] -= d * u[i];
    }
    const norm = Math.hypot(...v);
    q.push(v.map((x) => x / norm));
  }
  const dense = new Float64Array(n * n);
  for (let j = 0; j < n; j++) for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) dense[r * n + c] += lambdas[j] * q[j][r] * q[j][c];
  const apply = (offset: number) => async (v: Float64Array) => {
    const m = v.length;
    const out = new Float64Array(m);
    for (let r = 0; r < m; r++) for (let c = 0; c < m; c++) out[r] += dense[(offset + r) * n + offset + c] * v[c];
    return out;
  };
  // The "last k layers" of this operator: the trailing 4k coordinates.
  const scopes: Scope[] = [{ kind: 'full', offset: 0, size: n }, ...[1, 2].map((k) => ({ kind: 'block' as const, k, offset: n - 4 * k, size: 4 * k, layers: [] }))];
  return { ops: { operator: (scope) => apply(scope.offset) }, dense, scopes };
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
