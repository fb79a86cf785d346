import { describe, expect, it } from 'vitest';
import { powerIteration } from './power-iteration';
import { createRng } from './random';
import { denseOperator, fromSpectrum, matVec, randomOrthogonal } from './test-matrices';
import { axpy, dot, norm } from './vector';

function spectrum(head: number[], n: number, seed: number): number[] {
  const rng = createRng(seed);
  return [...head, ...Array.from({ length: n - head.length }, () => 2 * rng.uniform() - 1)];
}

describe('powerIteration', () => {
  it('finds the dominant eigenpair of Q diag(λ) Qᵀ with an honest residual', async () => {
    const n = 80;
    const q = randomOrthogonal(n, 31);
    const h = fromSpectrum(spectrum([10, 5], n, 1), q);
    const { op, calls } = denseOperator(h, n);
    const result = await powerIteration(op, n, { tolerance: 1e-10 });
    expect(result.value).toBeCloseTo(10, 12);
    expect(Math.abs(dot(result.vector, q[0]))).toBeCloseTo(1, 10);
    expect(norm(result.vector)).toBeCloseTo(1, 14);
    expect(result.residual).toBeCloseTo(norm(axpy(-result.value, result.vector, matVec(h, result.vector))), 14);
    expect(result.residual).toBeLessThanOrEqual(1e-10 * 10);
    expect(result.iterations).toBe(calls());
  });

  it('returns the largest-magnitude eigenvalue even when it is negative', async () => {
    const n = 50;
    const q = randomOrthogonal(n, 32);
    const h = fromSpectrum(spectrum([-6, 3], n, 2), q);
    const result = await powerIteration(denseOperator(h, n).op, n, { tolerance: 1e-9, seed: 4 });
    expect(result.value).toBeCloseTo(-6, 10);
    expect(Math.abs(dot(result.vector, q[0]))).toBeCloseTo(1, 9);
  });

  it('stops at once from the exact eigenvector and respects maxIterations', async () => {
    const n = 40;
    const q = randomOrthogonal(n, 33);
    const h = fromSpectrum(spectrum([2, 1.99], n, 3), q);
    const exact = await powerIteration(denseOperator(h, n).op, n, { startVector: q[0] });
    expect(exact.iterations).toBe(1);
    expect(exact.value).toBeCloseTo(2, 13);
    const capped = await powerIteration(denseOperator(h, n).op, n, { maxIterations: 5, tolerance: 1e-12 });
    expect(capped.iterations).toBe(5);
    expect(capped.residual).toBeGreaterThan(1e-12 * 2);
  });
});
