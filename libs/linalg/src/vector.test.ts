import { describe, expect, it } from 'vitest';
import { createRng } from './random';
import { orthonormalityError } from './test-matrices';
import { axpy, cosine, dot, norm, orthogonalizeAgainst, orthonormalize, randomNormalVector, scale } from './vector';

const f64 = (...xs: number[]) => Float64Array.from(xs);

describe('level-1 kernels', () => {
  it('dot, norm, cosine on known vectors', () => {
    expect(dot(f64(1, 2, 3), f64(4, -5, 6))).toBe(12);
    expect(norm(f64(3, 4))).toBe(5);
    expect(cosine(f64(1, 0), f64(1, 1))).toBeCloseTo(Math.SQRT1_2, 15);
    expect(cosine(f64(2, 0), f64(-3, 0))).toBe(-1);
    expect(cosine(f64(0, 0), f64(1, 1))).toBeNaN();
  });
  it('axpy and scale work in place and return their target', () => {
    const y = f64(1, 1, 1);
    expect(axpy(2, f64(1, 2, 3), y)).toBe(y);
    expect(Array.from(y)).toEqual([3, 5, 7]);
    expect(Array.from(scale(-0.5, y))).toEqual([-1.5, -2.5, -3.5]);
  });
  it('rejects mismatched lengths', () => {
    expect(() => dot(f64(1), f64(1, 2))).toThrow(RangeError);
    expect(() => axpy(1, f64(1), f64(1, 2))).toThrow(RangeError);
  });
});

describe('orthonormalize', () => {
  it('returns an orthonormal basis of the same span', () => {
    const rng = createRng(11);
    const vs = Array.from({ length: 8 }, () => randomNormalVector(30, rng));
    const q = orthonormalize(vs);
    expect(q).toHaveLength(8);
    expect(orthonormalityError(q)).toBeLessThan(1e-14);
    // Each input lies in span(q): its projection keeps its whole norm.
    for (const v of vs) {
      const projected2 = q.reduce((s, u) => s + dot(u, v) ** 2, 0);
      expect(Math.sqrt(projected2) / norm(v)).toBeCloseTo(1, 12);
    }
  });
  it('drops linearly dependent vectors and keeps nearly dependent ones orthonormal', () => {
    const a = f64(1, 0, 0, 0);
    const b = f64(1, 1e-9, 0, 0);
    const q = orthonormalize([a, b, axpy(2, a, Float64Array.from(b)), f64(0, 0, 1, 0)]);
    expect(q).toHaveLength(3);
    expect(orthonormalityError(q)).toBeLessThan(1e-15);
  });
  it('orthogonalizeAgainst projects out an orthonormal basis', () => {
    const rng = createRng(12);
    const basis = orthonormalize(Array.from({ length: 5 }, () => randomNormalVector(20, rng)));
    const w = orthogonalizeAgainst(randomNormalVector(20, rng), basis);
    for (const q of basis) expect(Math.abs(dot(q, w))).toBeLessThan(1e-15);
  });
});
