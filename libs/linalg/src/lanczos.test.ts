import { describe, expect, it } from 'vitest';
import { lanczosTopEigenpairs, type LanczosResult } from './lanczos';
import { createRng } from './random';
import { subspaceOverlap } from './subspace';
import { symmetricEigen } from './symmetric-eigen';
import {
  denseOperator,
  descending,
  diagonalMatrix,
  fromSpectrum,
  matVec,
  orthonormalityError,
  randomOrthogonal,
} from './test-matrices';
import { axpy, norm } from './vector';

/** λ_head followed by n − head.length values drawn uniformly from [lo, hi]. */
function spectrum(head: number[], n: number, [lo, hi]: [number, number], seed: number): number[] {
  const rng = createRng(seed);
  return [...head, ...Array.from({ length: n - head.length }, () => lo + (hi - lo) * rng.uniform())];
}

/** The properties every result must have against a matrix with known spectrum. */
function expectExactTopPairs(result: LanczosResult, h: Float64Array, lambda: number[], count: number): void {
  const top = descending(lambda).slice(0, count);
  expect(result.pairs).toHaveLength(top.length);
  result.pairs.forEach((pair, i) => {
    expect(Math.abs(pair.value - top[i])).toBeLessThanOrEqual(1e-8 * Math.abs(top[i]));
    expect(norm(pair.vector)).toBeCloseTo(1, 12);
    // The reported residual is the true one: recompute it.
    const r = axpy(-pair.value, pair.vector, matVec(h, pair.vector));
    expect(pair.residual).toBeCloseTo(norm(r), 12);
    expect(pair.residual).toBeLessThanOrEqual(1e-5 * Math.abs(pair.value));
  });
  expect(orthonormalityError(result.pairs.map((p) => p.vector))).toBeLessThan(1e-10);
}

describe('lanczosTopEigenpairs', () => {
  it('finds the top pairs of a diagonal matrix and counts operator calls honestly', async () => {
    const n = 100;
    const lambda = spectrum([10, 9, 8, 7, 6], n, [0, 4], 1);
    const h = diagonalMatrix(lambda);
    const { op, calls } = denseOperator(h, n);
    const result = await lanczosTopEigenpairs(op, n, { count: 5 });
    expect(result.converged).toBe(true);
    expectExactTopPairs(result, h, lambda, 5);
    expect(result.operatorCalls).toBe(calls());
    expect(result.operatorCalls).toBe(result.iterations + 5); // one extra call per true residual
    expect(result.iterations).toBeLessThanOrEqual(30); // default cap max(2M + 20, 3M)
  });

  it('finds the top pairs of Q diag(λ) Qᵀ with a spread bulk, negatives included', async () => {
    const n = 200;
    const lambda = spectrum([20, 15, 12, 10, 9, 8], n, [-2, 5], 2);
    const h = fromSpectrum(lambda, randomOrthogonal(n, 102));
    const result = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 6, seed: 3 });
    expect(result.converged).toBe(true);
    expectExactTopPairs(result, h, lambda, 6);
  });

  it('resolves a tight cluster 1.0, 0.999, … at the top', async () => {
    const n = 150;
    const lambda = spectrum([1, 0.999, 0.998, 0.997, 0.996], n, [0, 0.5], 4);
    const h = fromSpectrum(lambda, randomOrthogonal(n, 104));
    const result = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 5 });
    expect(result.converged).toBe(true);
    expectExactTopPairs(result, h, lambda, 5);
  });

  it('returns every copy of a repeated top eigenvalue when the Krylov space breaks down (restarts)', async () => {
    // Three distinct eigenvalues: a Krylov sequence is invariant after 3 steps and sees each value once,
    // so the further copies of 5 come only from restarts orthogonal to the basis.
    const n = 100;
    const lambda = [5, 5, 5, ...Array<number>(20).fill(2), ...Array<number>(77).fill(1)];
    const q = randomOrthogonal(n, 105);
    const h = fromSpectrum(lambda, q);
    const result = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 4 });
    expect(result.converged).toBe(true);
    expectExactTopPairs(result, h, lambda, 4);
    expect(subspaceOverlap(result.pairs.slice(0, 3).map((p) => p.vector), q.slice(0, 3)).overlap).toBeCloseTo(1, 10);
  });

  it('returns every copy of a repeated top eigenvalue above a continuous bulk (full reorthogonalisation)', async () => {
    // No breakdown here: the copies grow out of rounding noise that full reorthogonalisation keeps out of the
    // found directions, each copy taking about as many steps as the first, hence the larger Krylov cap.
    const n = 150;
    const lambda = spectrum([10, 10, 10], n, [0, 3], 6);
    const q = randomOrthogonal(n, 106);
    const h = fromSpectrum(lambda, q);
    const result = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 3, maxIterations: 60 });
    expect(result.converged).toBe(true);
    expectExactTopPairs(result, h, lambda, 3);
    expect(subspaceOverlap(result.pairs.map((p) => p.vector), q.slice(0, 3)).overlap).toBeCloseTo(1, 10);
  });

  it('converges exact zero eigenvalues of a rank-deficient H (as on tiny nets) through restarts', async () => {
    const n = 40;
    const lambda = [5, 4, 3, 2, 1, ...Array<number>(n - 5).fill(0)];
    const h = fromSpectrum(lambda, randomOrthogonal(n, 109));
    const result = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 8 });
    expect(result.converged).toBe(true);
    expect(result.iterations).toBeLessThan(12);
    result.pairs.forEach((pair, i) => expect(pair.value).toBeCloseTo(descending(lambda)[i], 12));
    for (const pair of result.pairs) expect(pair.residual).toBeLessThan(1e-12);
    expect(orthonormalityError(result.pairs.map((p) => p.vector))).toBeLessThan(1e-10);
  });

  it('orders by algebraic value: a large negative eigenvalue is not "top"', async () => {
    const n = 120;
    const lambda = spectrum([3, 2.5, 2, -10, -12], n, [-1, 1], 7);
    const h = fromSpectrum(lambda, randomOrthogonal(n, 107));
    const result = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 3 });
    expect(result.converged).toBe(true);
    expectExactTopPairs(result, h, lambda, 3);
    // An entirely negative spectrum: the top is the least negative.
    const negative = spectrum([-1, -1.5, -2], n, [-10, -3], 8);
    const hn = fromSpectrum(negative, randomOrthogonal(n, 108));
    const resultNegative = await lanczosTopEigenpairs(denseOperator(hn, n).op, n, { count: 3 });
    expectExactTopPairs(resultNegative, hn, negative, 3);
  });

  it('returns all n pairs, exact, when n ≤ count', async () => {
    const n = 4;
    const rng = createRng(9);
    const h = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) h[i * n + j] = h[j * n + i] = rng.normal();
    const exact = symmetricEigen(h, n);
    const { op, calls } = denseOperator(h, n);
    const result = await lanczosTopEigenpairs(op, n, { count: 6 });
    expect(result.pairs).toHaveLength(n);
    expect(result.iterations).toBe(n);
    expect(result.operatorCalls).toBe(calls());
    result.pairs.forEach((pair, i) => {
      expect(pair.value).toBeCloseTo(exact.values[i], 12);
      expect(pair.residual).toBeLessThan(1e-12);
    });
    const one = await lanczosTopEigenpairs(async (v) => Float64Array.from(v, (x) => -2 * x), 1, { count: 3 });
    expect(one.pairs.map((p) => p.value)).toEqual([-2]);
  });

  it('converges the top pair in very few iterations from a warm start at the exact top vector', async () => {
    const n = 200;
    const lambda = spectrum([4, 3.9, 3.8], n, [0, 3.5], 10);
    const q = randomOrthogonal(n, 110);
    const h = fromSpectrum(lambda, q);
    const cold = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 1 });
    const warm = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 1, startVector: q[0] });
    expect(warm.converged).toBe(true);
    expectExactTopPairs(warm, h, lambda, 1);
    expect(warm.iterations).toBeLessThanOrEqual(3);
    expect(cold.iterations).toBeGreaterThan(warm.iterations);
  });

  it('warm vectors from a nearby matrix (a previous checkpoint) save iterations', async () => {
    const n = 200;
    const lambda = spectrum([6, 5, 4.5, 4.2], n, [0, 4], 11);
    const q = randomOrthogonal(n, 111);
    const h = fromSpectrum(lambda, q);
    // The "previous checkpoint": same eigenvectors, a slightly different spectrum, plus a small symmetric kick.
    const previous = fromSpectrum(lambda.map((x) => x * 1.01), q);
    const rng = createRng(12);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        const kick = 1e-3 * rng.normal();
        previous[i * n + j] += kick;
        if (i !== j) previous[j * n + i] += kick;
      }
    }
    const before = await lanczosTopEigenpairs(denseOperator(previous, n).op, n, { count: 4 });
    const cold = await lanczosTopEigenpairs(denseOperator(h, n).op, n, { count: 4, seed: 1 });
    const warm = await lanczosTopEigenpairs(denseOperator(h, n).op, n, {
      count: 4,
      warmVectors: before.pairs.map((p) => p.vector),
    });
    expectExactTopPairs(warm, h, lambda, 4);
    expect(warm.iterations).toBeLessThan(cold.iterations);
  });

  it('with trueResiduals: false reports the Lanczos estimates and spends no extra calls', async () => {
    const n = 100;
    const lambda = spectrum([10, 9, 8], n, [0, 5], 13);
    const h = fromSpectrum(lambda, randomOrthogonal(n, 113));
    const { op, calls } = denseOperator(h, n);
    const result = await lanczosTopEigenpairs(op, n, { count: 3, trueResiduals: false, tolerance: 1e-8 });
    expect(result.operatorCalls).toBe(result.iterations);
    expect(calls()).toBe(result.iterations);
    for (const pair of result.pairs) {
      expect(pair.residual).toBeLessThanOrEqual(1e-8 * pair.value);
      // With an orthonormal basis the estimate |β s_k| equals the true residual up to rounding.
      const trueResidual = norm(axpy(-pair.value, pair.vector, matVec(h, pair.vector)));
      expect(Math.abs(trueResidual - pair.residual)).toBeLessThan(1e-12 * pair.value);
    }
  });

  it('reports converged: false when the Krylov cap is too small, and is deterministic per seed', async () => {
    const n = 150;
    const lambda = spectrum([1, 0.99, 0.98], n, [0, 0.97], 14);
    const h = fromSpectrum(lambda, randomOrthogonal(n, 114));
    const { op, calls } = denseOperator(h, n);
    const capped = await lanczosTopEigenpairs(op, n, { count: 3, maxIterations: 6, seed: 5 });
    expect(capped.converged).toBe(false);
    expect(capped.iterations).toBe(6);
    expect(capped.pairs).toHaveLength(3);
    expect(capped.operatorCalls).toBe(calls());
    const again = await lanczosTopEigenpairs(op, n, { count: 3, maxIterations: 6, seed: 5 });
    expect(again.pairs.map((p) => p.value)).toEqual(capped.pairs.map((p) => p.value));
  });

  it('validates its arguments', async () => {
    const op = async (v: Float64Array) => v;
    await expect(lanczosTopEigenpairs(op, 0, { count: 1 })).rejects.toThrow(RangeError);
    await expect(lanczosTopEigenpairs(op, 5, { count: 0 })).rejects.toThrow(RangeError);
    await expect(lanczosTopEigenpairs(op, 5, { count: 1, startVector: new Float64Array(4) })).rejects.toThrow(RangeError);
    await expect(lanczosTopEigenpairs(async () => new Float64Array(3), 5, { count: 1 })).rejects.toThrow(RangeError);
  });
});
