import { describe, expect, it } from 'vitest';
import { createRng } from './random';
import { orthonormalityError } from './testing/matrices';
import { implicitQL, tridiagonalEigen } from './tridiagonal';
import { dot } from './vector';

/** ‖T v − λ v‖ for T = tridiag(e, d, e). */
function tridiagonalResidual(d: Float64Array, e: Float64Array, value: number, v: Float64Array): number {
  let s = 0;
  for (let i = 0; i < d.length; i++) {
    let tv = d[i] * v[i];
    if (i > 0) tv += e[i - 1] * v[i - 1];
    if (i < d.length - 1) tv += e[i] * v[i + 1];
    s += (tv - value * v[i]) ** 2;
  }
  return Math.sqrt(s);
}

describe('tridiagonalEigen', () => {
  it('solves the 1-D Laplacian tridiag(−1, 2, −1): λ_k = 2 − 2cos(kπ/(n+1)), v_k(j) ∝ sin(jkπ/(n+1))', () => {
    const n = 50;
    const d = new Float64Array(n).fill(2);
    const e = new Float64Array(n - 1).fill(-1);
    const { values, vectors } = tridiagonalEigen(d, e);
    for (let idx = 0; idx < n; idx++) {
      const k = n - idx; // descending order
      expect(values[idx]).toBeCloseTo(2 - 2 * Math.cos((k * Math.PI) / (n + 1)), 13);
      const exact = Float64Array.from({ length: n }, (_, j) => Math.sin(((j + 1) * k * Math.PI) / (n + 1)));
      const exactNorm = Math.sqrt(dot(exact, exact));
      expect(Math.abs(dot(exact, vectors[idx])) / exactNorm).toBeCloseTo(1, 12);
    }
    expect(orthonormalityError(vectors)).toBeLessThan(1e-13);
  });

  it('decomposes a random tridiagonal matrix: small residuals, orthonormal vectors, trace kept', () => {
    const rng = createRng(5);
    const n = 120;
    const d = Float64Array.from({ length: n }, () => rng.normal());
    const e = Float64Array.from({ length: n - 1 }, () => rng.normal());
    const { values, vectors } = tridiagonalEigen(d, e);
    for (let i = 1; i < n; i++) expect(values[i]).toBeLessThanOrEqual(values[i - 1]);
    for (let j = 0; j < n; j++) expect(tridiagonalResidual(d, e, values[j], vectors[j])).toBeLessThan(1e-13);
    expect(orthonormalityError(vectors)).toBeLessThan(1e-13);
    expect(values.reduce((s, x) => s + x, 0)).toBeCloseTo(d.reduce((s, x) => s + x, 0), 11);
  });

  it('handles zero couplings (block-diagonal T), a diagonal matrix, and tiny sizes', () => {
    // Blocks [3 1; 1 3] (eigenvalues 4, 2) and [−1] and [5 0; 0 5].
    const split = tridiagonalEigen(Float64Array.from([3, 3, -1, 5, 5]), Float64Array.from([1, 0, 0, 0]));
    expect(Array.from(split.values)).toEqual([5, 5, 4, 2, -1].map((x) => expect.closeTo(x, 14)));
    expect(orthonormalityError(split.vectors)).toBeLessThan(1e-15);
    expect(Array.from(tridiagonalEigen(Float64Array.from([7]), new Float64Array(0)).values)).toEqual([7]);
    expect(tridiagonalEigen(new Float64Array(0), new Float64Array(0)).values).toHaveLength(0);
    expect(() => tridiagonalEigen(Float64Array.from([1, 2]), Float64Array.from([1, 2]))).toThrow(RangeError);
  });

  it('implicitQL tracking one row returns that row of the eigenvector matrix', () => {
    const rng = createRng(6);
    const n = 40;
    const d = Float64Array.from({ length: n }, () => rng.normal());
    const e = Float64Array.from({ length: n - 1 }, () => rng.normal());
    const full = tridiagonalEigen(d, e);
    const dd = Float64Array.from(d);
    const ee = new Float64Array(n);
    ee.set(e);
    const first = new Float64Array(n);
    first[0] = 1;
    implicitQL(dd, ee, [first]);
    // Match each eigenvalue to the full solve; the first components agree up to the eigenvector's sign.
    for (let j = 0; j < n; j++) {
      const idx = full.values.findIndex((x) => Math.abs(x - dd[j]) < 1e-12);
      expect(Math.abs(first[j])).toBeCloseTo(Math.abs(full.vectors[idx][0]), 12);
    }
  });
});
