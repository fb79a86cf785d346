/**
 * Matrices with known spectra for the tests of this lib (not exported from the package, and imported by no
 * production file: files under testing/ stay out of the hash that keys training):
 * H = Q diag(λ) Qᵀ with a seeded random orthogonal Q, applied as a dense operator that counts its calls.
 */
import type { LinearOperator } from '../operator';
import { createRng } from '../random';
import { dot, norm, orthonormalise, randomNormalVector } from '../vector';

/** Random orthogonal basis of Rⁿ: Gram–Schmidt of n seeded Gaussian vectors (columns q_0 … q_{n−1}). */
export function randomOrthogonal(n: number, seed: number): Float64Array[] {
  const rng = createRng(seed);
  const q = orthonormalise(Array.from({ length: n }, () => randomNormalVector(n, rng)));
  if (q.length !== n) throw new Error('random vectors were dependent');
  return q;
}

/** Row-major Q diag(λ) Qᵀ for columns q of Q. */
export function fromSpectrum(lambda: readonly number[], q: Float64Array[]): Float64Array {
  const n = lambda.length;
  const h = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const v = q[k];
    for (let i = 0; i < n; i++) {
      const f = lambda[k] * v[i];
      for (let j = 0; j < n; j++) h[i * n + j] += f * v[j];
    }
  }
  return h;
}

export function diagonalMatrix(lambda: readonly number[]): Float64Array {
  const n = lambda.length;
  const h = new Float64Array(n * n);
  lambda.forEach((x, i) => (h[i * n + i] = x));
  return h;
}

export function matVec(h: Float64Array, v: Float64Array): Float64Array {
  const n = v.length;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += h[i * n + j] * v[j];
    w[i] = s;
  }
  return w;
}

/** The dense matrix as an async operator, with an honest count of its applications. */
export function denseOperator(h: Float64Array, n: number): { op: LinearOperator; calls: () => number } {
  let calls = 0;
  return {
    op: async (v) => {
      calls++;
      return matVec(h, v);
    },
    calls: () => calls,
  };
}

/** max_{i,j} |uᵢᵀuⱼ − δᵢⱼ|. */
export function orthonormalityError(vectors: Float64Array[]): number {
  let worst = 0;
  for (let i = 0; i < vectors.length; i++) {
    for (let j = 0; j <= i; j++) worst = Math.max(worst, Math.abs(dot(vectors[i], vectors[j]) - (i === j ? 1 : 0)));
  }
  return worst;
}

/** max_j ‖A v_j − λ_j v_j‖ for a dense row-major A. */
export function reconstructionError(h: Float64Array, values: Float64Array, vectors: Float64Array[]): number {
  let worst = 0;
  vectors.forEach((v, j) => {
    const r = matVec(h, v);
    for (let i = 0; i < r.length; i++) r[i] -= values[j] * v[i];
    worst = Math.max(worst, norm(r));
  });
  return worst;
}

/** λ sorted descending (a copy). */
export function descending(lambda: readonly number[]): number[] {
  return [...lambda].sort((a, b) => b - a);
}
