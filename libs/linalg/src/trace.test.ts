import { describe, expect, it } from 'vitest';
import { createRng } from './random';
import { denseOperator, diagonalMatrix, fromSpectrum, randomOrthogonal } from './testing/matrices';
import { hutchinsonTrace } from './trace';

describe('hutchinsonTrace', () => {
  it('is exact, with zero spread, for a diagonal matrix (Rademacher probes)', async () => {
    const lambda = Array.from({ length: 64 }, (_, i) => Math.sin(i) * 3);
    const trace = lambda.reduce((s, x) => s + x, 0);
    const { op, calls } = denseOperator(diagonalMatrix(lambda), 64);
    const result = await hutchinsonTrace(op, 64, { probes: 10 });
    expect(result.estimate).toBeCloseTo(trace, 12);
    expect(result.stderr).toBeLessThan(1e-12);
    expect(calls()).toBe(10);
  });

  it('lands within 3 standard errors of the true trace of Q diag(λ) Qᵀ', async () => {
    const n = 100;
    const rng = createRng(41);
    const lambda = Array.from({ length: n }, () => rng.normal() + 0.5);
    const trace = lambda.reduce((s, x) => s + x, 0);
    const h = fromSpectrum(lambda, randomOrthogonal(n, 42));
    for (const seed of [1, 2, 3]) {
      const result = await hutchinsonTrace(denseOperator(h, n).op, n, { probes: 200, seed });
      expect(result.stderr).toBeGreaterThan(0);
      expect(Math.abs(result.estimate - trace)).toBeLessThan(3 * result.stderr);
    }
  });

  it('reports NaN stderr for a single probe and rejects zero probes', async () => {
    const op = async (v: Float64Array) => v;
    const one = await hutchinsonTrace(op, 5, { probes: 1 });
    expect(one.estimate).toBe(5);
    expect(one.stderr).toBeNaN();
    await expect(hutchinsonTrace(op, 5, { probes: 0 })).rejects.toThrow(RangeError);
  });
});
