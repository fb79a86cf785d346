/**
 * Comparison of two subspaces given by orthonormal bases A (m_a vectors) and B (m_b vectors) in Rⁿ.
 * With C = AᵀB, the cosines of the principal angles are the singular values of C (Björck & Golub 1973),
 * and overlap = ‖C‖_F² / min(m_a, m_b) = mean of cos² over the min(m_a, m_b) principal angles:
 * 1 when the smaller subspace lies inside the other, 0 when they are orthogonal.
 */
import { symmetricEigen } from './symmetric-eigen';
import { dot } from './vector';

export function subspaceOverlap(a: Float64Array[], b: Float64Array[]): { overlap: number; cosines: Float64Array } {
  if (a.length === 0 || b.length === 0) throw new RangeError('subspaceOverlap: both bases need at least one vector');
  const n = a[0].length;
  for (const v of [...a, ...b]) {
    if (v.length !== n) throw new RangeError(`subspaceOverlap: vectors of lengths ${n} and ${v.length}`);
  }
  // Work with the smaller side so that the Gram matrix C Cᵀ is min(m_a, m_b) square; its eigenvalues are
  // the squared singular values of C either way.
  const [small, large] = a.length <= b.length ? [a, b] : [b, a];
  const m = small.length;
  const c = small.map((u) => Float64Array.from(large, (v) => dot(u, v))); // rows of C (m × m_large)
  let frobenius2 = 0;
  for (const row of c) frobenius2 += dot(row, row);
  const gram = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j <= i; j++) gram[i * m + j] = gram[j * m + i] = dot(c[i], c[j]);
  }
  // σ_i = √eig_i(C Cᵀ), descending; rounding can push them a hair outside [0, 1].
  const cosines = Float64Array.from(symmetricEigen(gram, m).values, (s2) => Math.min(1, Math.sqrt(Math.max(0, s2))));
  return { overlap: Math.min(1, Math.max(0, frobenius2 / m)), cosines };
}
