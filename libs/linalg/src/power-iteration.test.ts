import { describe, expect, it } from 'vitest';
import { powerIteration, powerStep } from './power-iteration';
import { createRng } from './random';
import { denseOperator, diagonalMatrix, fromSpectrum, matVec, randomOrthogonal } from './testing/matrices';
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

describe('powerStep', () => {
  it('returns vᵀHv and Hv/‖Hv‖ exactly for a diagonal H, with one operator application', async () => {
    // H = diag(4, 2, −2, 1), v = (½, ½, ½, ½): Hv = (2, 1, −1, ½), vᵀHv = 5/4, ‖Hv‖ = 5/2.
    const { op, calls } = denseOperator(diagonalMatrix([4, 2, -2, 1]), 4);
    const v = Float64Array.from([0.5, 0.5, 0.5, 0.5]);
    const step = await powerStep(op, v);
    expect(calls()).toBe(1);
    expect(step.value).toBe(1.25);
    expect(Array.from(step.vector)).toEqual([0.8, 0.4, -0.4, 0.2]);
    // ‖Hv − (5/4)v‖² = ‖Hv‖² − (5/4)² = 6.25 − 1.5625.
    expect(step.residual).toBeCloseTo(Math.sqrt(4.6875), 15);
    expect(Array.from(v)).toEqual([0.5, 0.5, 0.5, 0.5]);
  });

  it('returns a copy of v, value 0 and residual 0 when Hv = 0', async () => {
    const v = Float64Array.from([0, 1, 0]);
    const step = await powerStep(denseOperator(diagonalMatrix([3, 0, 1]), 3).op, v);
    expect(step.value).toBe(0);
    expect(step.residual).toBe(0);
    expect(Array.from(step.vector)).toEqual([0, 1, 0]);
    expect(step.vector).not.toBe(v);
  });

  it('repeated steps converge to λmax at rate |λ₂/λ₁| (2×2 with known eigenpairs)', async () => {
    // H = [[2, 1], [1, 2]]: λ = 3 on u₁ = (1, 1)/√2, 1 on u₂ = (1, −1)/√2. From e₁ = (u₁ + u₂)/√2, the k-th
    // iterate ∝ 3ᵏu₁ + λ₂ᵏu₂: tan∠(v_k, u₁) = (λ₂/3)ᵏ, and vᵀHv = 3 − (3 − λ₂) sin²∠ = 3 − (3 − λ₂)/(9ᵏ + 1).
    // The same with λ₂ = −1 ([[1, 2], [2, 1]]: λ = 3 on u₁, −1 on u₂).
    for (const [h, lambda2] of [[[2, 1, 1, 2], 1], [[1, 2, 2, 1], -1]] as const) {
      const op = denseOperator(Float64Array.from(h), 2).op;
      let v: Float64Array = Float64Array.from([1, 0]);
      for (let k = 0; k <= 12; k++) {
        const step = await powerStep(op, v);
        const ratio = (lambda2 / 3) ** k;
        expect(Math.abs(step.value - (3 - (3 - lambda2) / (9 ** k + 1)))).toBeLessThanOrEqual(2e-15 * 3);
        const along1 = (v[0] + v[1]) / Math.SQRT2;
        const along2 = (v[0] - v[1]) / Math.SQRT2;
        expect(along2 / along1).toBeCloseTo(ratio, 14);
        expect(Math.abs(along2 / along1 - ratio)).toBeLessThanOrEqual(1e-13 * Math.abs(ratio) + 1e-16);
        v = step.vector;
      }
    }
  });
});
