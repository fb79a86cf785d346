import { describe, expect, it } from 'vitest';
import { createRng } from './random';
import { symmetricEigen, symmetricEigenvalues } from './symmetric-eigen';
import {
  descending,
  diagonalMatrix,
  fromSpectrum,
  orthonormalityError,
  randomOrthogonal,
  reconstructionError,
} from './testing/matrices';
import { dot } from './vector';

describe('symmetricEigen', () => {
  it('recovers a known spectrum (negative, repeated, clustered) of Q diag(λ) Qᵀ', () => {
    const n = 60;
    const rng = createRng(21);
    const lambda = [5, 5, 5, 1, 0.999, 0.998, -3, -3, ...Array.from({ length: n - 8 }, () => 2 * rng.uniform() - 1)];
    const h = fromSpectrum(lambda, randomOrthogonal(n, 22));
    const { values, vectors } = symmetricEigen(h, n);
    descending(lambda).forEach((x, i) => expect(values[i]).toBeCloseTo(x, 12));
    expect(orthonormalityError(vectors)).toBeLessThan(1e-13);
    expect(reconstructionError(h, values, vectors)).toBeLessThan(1e-12);
  });

  it('solves the dense 1-D Laplacian', () => {
    const n = 30;
    const h = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      h[i * n + i] = 2;
      if (i > 0) h[i * n + i - 1] = h[(i - 1) * n + i] = -1;
    }
    const { values } = symmetricEigen(h, n);
    for (let idx = 0; idx < n; idx++) {
      expect(values[idx]).toBeCloseTo(2 - 2 * Math.cos(((n - idx) * Math.PI) / (n + 1)), 13);
    }
  });

  it('decomposes a random symmetric 300 × 300 matrix: ‖AV − VΛ‖ tiny, V orthonormal, trace kept', () => {
    const n = 300;
    const rng = createRng(23);
    const h = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) h[i * n + j] = h[j * n + i] = rng.normal();
    const { values, vectors } = symmetricEigen(h, n);
    for (let i = 1; i < n; i++) expect(values[i]).toBeLessThanOrEqual(values[i - 1]);
    expect(orthonormalityError(vectors)).toBeLessThan(1e-12);
    expect(reconstructionError(h, values, vectors)).toBeLessThan(1e-11);
    let trace = 0;
    for (let i = 0; i < n; i++) trace += h[i * n + i];
    expect(values.reduce((s, x) => s + x, 0)).toBeCloseTo(trace, 9);
  });

  it('handles tiny and already diagonal matrices, and symmetrises its input', () => {
    expect(Array.from(symmetricEigen(Float64Array.from([4]), 1).values)).toEqual([4]);
    // [2 1; 1 2]: eigenvalues 3 and 1 with eigenvectors (1, ±1)/√2.
    const two = symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2);
    expect(two.values[0]).toBeCloseTo(3, 15);
    expect(two.values[1]).toBeCloseTo(1, 15);
    expect(Math.abs(dot(two.vectors[0], Float64Array.from([Math.SQRT1_2, Math.SQRT1_2])))).toBeCloseTo(1, 15);
    const diag = symmetricEigen(diagonalMatrix([1, -2, 7, 3]), 4);
    expect(Array.from(diag.values)).toEqual([7, 3, 1, -2]);
    // A slightly non-symmetric input is treated as (A + Aᵀ)/2.
    const skewed = symmetricEigen(Float64Array.from([2, 1.5, 0.5, 2]), 2);
    expect(skewed.values[0]).toBeCloseTo(3, 15);
    expect(symmetricEigen(new Float64Array(0), 0).values).toHaveLength(0);
    expect(() => symmetricEigen(new Float64Array(3), 2)).toThrow(RangeError);
  });
});

describe('symmetricEigenvalues', () => {
  it('gives the known spectrum of Q diag(λ) Qᵀ, descending, as symmetricEigen does', () => {
    const lambdas = [4, 2.5, 2.5, 1e-3, 0, -0.7, -3];
    const n = lambdas.length;
    const a = fromSpectrum(lambdas, randomOrthogonal(n, 9));
    const values = symmetricEigenvalues(a, n);
    expect([...values]).toEqual([...lambdas].map((v) => expect.closeTo(v, 12)));
    expect([...values]).toEqual([...symmetricEigen(a, n).values].map((v) => expect.closeTo(v, 13)));
    expect(() => symmetricEigenvalues(new Float64Array(3), 2)).toThrow(/expected n² = 4/);
  });
});
