/**
 * A test operator with a known spectrum: H = Q diag(λ) Qᵀ for a seeded random orthogonal Q, as a curvature
 * whose "last k layers" are its trailing 4k coordinates (block HVPs are trailing principal submatrices).
 */
import type { Curvature, Scope } from '@lrscape/engine';
import { createRng } from '@lrscape/linalg';

export function knownHessian(lambdas: readonly number[], options: { seed: number; blocks: readonly number[] }) {
  const n = lambdas.length;
  const rng = createRng(options.seed);
  const q: Float64Array[] = [];
  while (q.length < n) {
    const v = Float64Array.from({ length: n }, () => rng.normal());
    for (const u of q) {
      const d = u.reduce((s, ui, i) => s + ui * v[i], 0);
      for (let i = 0; i < n; i++) v[i] -= d * u[i];
    }
    const norm = Math.hypot(...v);
    q.push(v.map((x) => x / norm));
  }
  const dense = new Float64Array(n * n);
  q.forEach((u, j) => {
    for (let r = 0; r < n; r++) for (let c = 0; c < n; c++) dense[r * n + c] += lambdas[j] * u[r] * u[c];
  });
  const scopes: Scope[] = [
    { kind: 'full', offset: 0, size: n },
    ...options.blocks.map((k) => ({ kind: 'block' as const, k, offset: n - 4 * k, size: 4 * k, layers: [`dense${k}`] })),
  ];
  const curvature: Pick<Curvature, 'operator'> = {
    operator: (scope) => async (v) => {
      const out = new Float64Array(scope.size);
      for (let r = 0; r < scope.size; r++) for (let c = 0; c < scope.size; c++) out[r] += dense[(scope.offset + r) * n + scope.offset + c] * v[c];
      return out;
    },
  };
  return { dense, scopes, curvature, n };
}
