/**
 * Dense symmetric eigensolver: Householder reduction to tridiagonal form, then implicit QL
 * (Golub & Van Loan §8.3.1 + §8.3.5). O(n³) overall, ~(4/3 + 4/3 + ~6)·n³ flops with vectors.
 * The exact check for Lanczos on tiny nets, where H is assembled column by column from P HVPs.
 */
import { implicitQL, identityRows, sortedEigenpairs } from './tridiagonal';
import { dot } from './vector';

/**
 * Householder tridiagonalisation A = Q T Qᵀ of the symmetric matrix held as rows `a` (destroyed).
 * Step k reflects column k below the diagonal onto a multiple of e_{k+1} with P_k = I − β v vᵀ acting on
 * indices k+1..n−1, and updates the trailing block B ← P_k B P_k as a symmetric rank-2 update.
 * Returns the diagonal d, the off-diagonal e (length n, e[n−1] = 0) and Q as rows (none when `withQ` is false).
 */
export function householderTridiagonalise(a: Float64Array[], withQ = true): { d: Float64Array; e: Float64Array; q: Float64Array[] } {
  const n = a.length;
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const reflectors: { v: Float64Array; beta: number }[] = [];
  for (let k = 0; k < n - 2; k++) {
    const m = n - k - 1; // length of the column below the diagonal
    const x = new Float64Array(m);
    for (let i = 0; i < m; i++) x[i] = a[k + 1 + i][k];
    const xNorm = Math.sqrt(dot(x, x));
    d[k] = a[k][k];
    if (xNorm === 0 || xNorm === Math.abs(x[0])) {
      // Already tridiagonal in this column: P_k = I.
      e[k] = x[0];
      reflectors.push({ v: x.fill(0), beta: 0 });
      continue;
    }
    // α = −sign(x₀)‖x‖ so that v₀ = x₀ − α adds magnitudes (no cancellation).
    const alpha = x[0] >= 0 ? -xNorm : xNorm;
    const v = x;
    v[0] -= alpha;
    const beta = 2 / dot(v, v);
    // p = β B v; w = p − (β/2)(pᵀv) v; B ← B − v wᵀ − w vᵀ  (= P B P).
    const p = new Float64Array(m);
    for (let i = 0; i < m; i++) {
      const row = a[k + 1 + i];
      let s = 0;
      for (let j = 0; j < m; j++) s += row[k + 1 + j] * v[j];
      p[i] = beta * s;
    }
    const K = 0.5 * beta * dot(p, v);
    for (let i = 0; i < m; i++) p[i] -= K * v[i];
    for (let i = 0; i < m; i++) {
      const row = a[k + 1 + i];
      const vi = v[i];
      const wi = p[i];
      for (let j = 0; j < m; j++) row[k + 1 + j] -= vi * p[j] + wi * v[j];
    }
    e[k] = alpha;
    reflectors.push({ v, beta });
  }
  if (n >= 2) {
    d[n - 2] = a[n - 2][n - 2];
    e[n - 2] = a[n - 1][n - 2];
  }
  if (n >= 1) d[n - 1] = a[n - 1][n - 1];

  if (!withQ) return { d, e, q: [] };
  // Q = P_0 P_1 … P_{n−3}, accumulated backwards (Q ← P_k Q) so that step k touches only rows and
  // columns k+1..n−1: Q[k+1.., :] −= β v (vᵀ Q[k+1.., :]).
  const q = identityRows(n);
  for (let k = reflectors.length - 1; k >= 0; k--) {
    const { v, beta } = reflectors[k];
    if (beta === 0) continue;
    const u = new Float64Array(n);
    for (let i = 0; i < v.length; i++) {
      const row = q[k + 1 + i];
      const vi = v[i];
      for (let j = k + 1; j < n; j++) u[j] += vi * row[j];
    }
    for (let i = 0; i < v.length; i++) {
      const row = q[k + 1 + i];
      const f = beta * v[i];
      for (let j = k + 1; j < n; j++) row[j] -= f * u[j];
    }
  }
  return { d, e, q };
}

/**
 * All eigenpairs of the dense symmetric n×n matrix `matrix` (row-major). The input is symmetrised as
 * (A + Aᵀ)/2 (a Hessian assembled from HVPs is symmetric only up to rounding) and is not modified.
 * Values DESCENDING; vectors[j] is the unit eigenvector of values[j]; the vectors are orthonormal.
 */
export function symmetricEigen(matrix: Float64Array, n: number): { values: Float64Array; vectors: Float64Array[] } {
  const { d, e, q } = householderTridiagonalise(symmetrisedRows(matrix, n, 'symmetricEigen'));
  // Rotations of QL applied to the rows of Q give the rows of Q Z: the eigenvectors of A.
  implicitQL(d, e, q);
  return sortedEigenpairs(d, q);
}

/**
 * The eigenvalues alone (descending) of the dense symmetric matrix, as symmetricEigen's: without Q and the
 * eigenvectors, ~(4/3)·n³ flops instead of ~9·n³.
 */
export function symmetricEigenvalues(matrix: Float64Array, n: number): Float64Array {
  const { d, e } = householderTridiagonalise(symmetrisedRows(matrix, n, 'symmetricEigenvalues'), false);
  implicitQL(d, e, []);
  return Float64Array.from(d).sort((a, b) => b - a);
}

function symmetrisedRows(matrix: Float64Array, n: number, what: string): Float64Array[] {
  if (!Number.isInteger(n) || n < 0 || matrix.length !== n * n) {
    throw new RangeError(`${what}: matrix has ${matrix.length} entries, expected n² = ${n * n}`);
  }
  return Array.from({ length: n }, (_, i) => {
    const row = new Float64Array(n);
    for (let j = 0; j < n; j++) row[j] = 0.5 * (matrix[i * n + j] + matrix[j * n + i]);
    return row;
  });
}
