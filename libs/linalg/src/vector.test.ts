import { describe, expect, it } from 'vitest';
import { createRng } from './random';
import { lanczosTopEigenpairs } from './lanczos';
import { orthonormalityError } from './testing/matrices';
import {
  axpy,
  combineInto,
  combineIntoJs,
  projectIntoJs,
  setBasisKernels,
  subtractCombinationJs,
  type BasisKernels,
  cosine,
  crossProducts,
  dot,
  norm,
  orthogonaliseAgainst,
  orthonormalise,
  projectInto,
  randomNormalVector,
  scale,
  subtractCombination,
} from './vector';

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

describe('orthonormalise', () => {
  it('returns an orthonormal basis of the same span', () => {
    const rng = createRng(11);
    const vs = Array.from({ length: 8 }, () => randomNormalVector(30, rng));
    const q = orthonormalise(vs);
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
    const q = orthonormalise([a, b, axpy(2, a, Float64Array.from(b)), f64(0, 0, 1, 0)]);
    expect(q).toHaveLength(3);
    expect(orthonormalityError(q)).toBeLessThan(1e-15);
  });
  it('orthogonaliseAgainst projects out an orthonormal basis', () => {
    const rng = createRng(12);
    const basis = orthonormalise(Array.from({ length: 5 }, () => randomNormalVector(20, rng)));
    const w = orthogonaliseAgainst(randomNormalVector(20, rng), basis);
    for (const q of basis) expect(Math.abs(dot(q, w))).toBeLessThan(1e-15);
  });
});

describe('kernels over a list of vectors', () => {
  // Lengths beyond one chunk (4096) and counts that are not multiples of four exercise every remainder loop.
  const n = 9001;
  const rng = createRng(21);
  const vectors = Array.from({ length: 7 }, () => randomNormalVector(n, rng));
  const w = randomNormalVector(n, rng);

  it('projectInto gives the products with the same w, over a range', () => {
    const out = new Float64Array(7);
    projectInto(out, vectors, w, 1, 7);
    for (let i = 1; i < 7; i++) expect(out[i - 1]).toBeCloseTo(dot(vectors[i], w), 9);
    expect(() => projectInto(out, [f64(1, 2)], w)).toThrow(RangeError);
  });

  it('subtractCombination subtracts in place and returns the new squared norm', () => {
    const c = Float64Array.from({ length: 5 }, (_, i) => 0.1 * (i + 1));
    const got = Float64Array.from(w);
    const squares = subtractCombination(got, vectors, c, 2, 7);
    const expected = Float64Array.from(w);
    for (let i = 2; i < 7; i++) axpy(-c[i - 2], vectors[i], expected);
    for (let t = 0; t < n; t += 997) expect(got[t]).toBeCloseTo(expected[t], 12);
    expect(squares).toBeCloseTo(dot(expected, expected), 6);
  });

  it('combineInto forms Q·M for odd and even numbers of outputs', () => {
    for (const m of [1, 2, 3]) {
      const coefficients = Float64Array.from({ length: 7 * m }, () => rng.normal());
      const outputs = Array.from({ length: m }, () => new Float64Array(n).fill(NaN)); // overwritten, not accumulated
      combineInto(outputs, vectors, coefficients);
      for (let o = 0; o < m; o++) {
        const expected = new Float64Array(n);
        vectors.forEach((v, i) => axpy(coefficients[i * m + o], v, expected));
        for (let t = 0; t < n; t += 499) expect(outputs[o][t]).toBeCloseTo(expected[t], 12);
      }
    }
    expect(() => combineInto([new Float64Array(n)], vectors, new Float64Array(3))).toThrow(RangeError);
  });

  it('crossProducts is the matrix of dot products, row-major', () => {
    const g = crossProducts(vectors.slice(0, 3), vectors.slice(3));
    for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) expect(g[i * 4 + j]).toBeCloseTo(dot(vectors[i], vectors[3 + j]), 9);
  });
});

describe('setBasisKernels', () => {
  it('routes every solver through the installed kernels (same values), and restores the JS ones', async () => {
    const calls = { projectInto: 0, subtractCombination: 0, combineInto: 0 };
    const counting: BasisKernels = {
      projectInto: (...args) => (calls.projectInto++, projectIntoJs(...args)),
      subtractCombination: (...args) => (calls.subtractCombination++, subtractCombinationJs(...args)),
      combineInto: (...args) => (calls.combineInto++, combineIntoJs(...args)),
    };
    const n = 60;
    const diagonal = Float64Array.from({ length: n }, (_, i) => 1 / (i + 1));
    const op = async (v: Float64Array) => Float64Array.from(v, (x, i) => diagonal[i] * x);
    const plain = await lanczosTopEigenpairs(op, n, { count: 3, tolerance: 1e-10 });
    expect(setBasisKernels(counting)).toBe(null);
    try {
      const routed = await lanczosTopEigenpairs(op, n, { count: 3, tolerance: 1e-10 });
      expect(routed.pairs.map((p) => p.value)).toEqual(plain.pairs.map((p) => p.value));
      expect(calls.projectInto).toBeGreaterThan(0);
      expect(calls.subtractCombination).toBeGreaterThan(0);
      expect(calls.combineInto).toBeGreaterThan(0);
    } finally {
      expect(setBasisKernels(null)).toBe(counting);
    }
    const before = { ...calls };
    await lanczosTopEigenpairs(op, n, { count: 3, tolerance: 1e-10 });
    expect(calls).toEqual(before);
  });
});
