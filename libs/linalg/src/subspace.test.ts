import { describe, expect, it } from 'vitest';
import { randomOrthogonal } from './testing/matrices';
import { subspaceOverlap } from './subspace';
import { axpy, orthonormalise, scale } from './vector';

const unit = (n: number, i: number) => {
  const e = new Float64Array(n);
  e[i] = 1;
  return e;
};

describe('subspaceOverlap', () => {
  const n = 30;
  const q = randomOrthogonal(n, 51);
  const u = q.slice(0, 4);

  it('is 1 for a subspace with itself and 0 with its orthogonal complement', () => {
    const self = subspaceOverlap(u, u);
    expect(self.overlap).toBeCloseTo(1, 13);
    expect(Array.from(self.cosines)).toEqual([1, 1, 1, 1].map((x) => expect.closeTo(x, 7)));
    const complement = subspaceOverlap(u, q.slice(4));
    expect(complement.overlap).toBeLessThan(1e-25);
    expect(complement.cosines).toHaveLength(4);
    for (const c of complement.cosines) expect(c).toBeLessThan(1e-7);
  });

  it('does not depend on the basis chosen within each subspace', () => {
    // Rotate u in its own plane (0, 1) and mix (2, 3): same subspace, different basis.
    const t = 0.7;
    const rotated = [
      axpy(Math.sin(t), u[1], scale(Math.cos(t), Float64Array.from(u[0]))),
      axpy(Math.cos(t), u[1], scale(-Math.sin(t), Float64Array.from(u[0]))),
      axpy(Math.SQRT1_2, u[3], scale(Math.SQRT1_2, Float64Array.from(u[2]))),
      axpy(-Math.SQRT1_2, u[3], scale(Math.SQRT1_2, Float64Array.from(u[2]))),
    ];
    const other = orthonormalise([q[0], q[5], q[2]].map((v, i) => axpy(0.3 * (i + 1), q[7 + i], Float64Array.from(v))));
    const a = subspaceOverlap(u, other);
    const b = subspaceOverlap(rotated, other);
    expect(b.overlap).toBeCloseTo(a.overlap, 13);
    // Cosines come from √eig(C Cᵀ): rounding of order ε in an eigenvalue near 0 shows as √ε.
    Array.from(a.cosines).forEach((c, i) => expect(Math.abs(b.cosines[i] - c)).toBeLessThan(1e-7));
    // Known answer: q0 + 0.3 q7 and q2 + 0.9 q9 lean into span(u); q5 + 0.6 q8 is orthogonal to it.
    expect(a.cosines[0]).toBeCloseTo(1 / Math.hypot(1, 0.3), 7);
    expect(a.cosines[1]).toBeCloseTo(1 / Math.hypot(1, 0.9), 7);
    expect(a.cosines[2]).toBeLessThan(1e-7);
    expect(subspaceOverlap(rotated, u).overlap).toBeCloseTo(1, 13);
  });

  it('recovers a known principal angle: span{e1} vs span{cos θ e1 + sin θ e2}', () => {
    const theta = 0.4;
    const v = axpy(Math.sin(theta), unit(3, 1), scale(Math.cos(theta), unit(3, 0)));
    const { overlap, cosines } = subspaceOverlap([unit(3, 0)], [v]);
    expect(cosines[0]).toBeCloseTo(Math.cos(theta), 14);
    expect(overlap).toBeCloseTo(Math.cos(theta) ** 2, 14);
  });

  it('normalises by the smaller dimension and returns min(m_a, m_b) cosines, descending', () => {
    // span{e1, e2} vs span{e1, e3, (e2 + e4)/√2}: cosines 1 and 1/√2; overlap (1 + ½)/2.
    const e = (i: number) => unit(5, i);
    const b = [e(0), e(2), scale(Math.SQRT1_2, axpy(1, e(3), e(1)))];
    const { overlap, cosines } = subspaceOverlap([e(0), e(1)], b);
    expect(Array.from(cosines)).toEqual([expect.closeTo(1, 14), expect.closeTo(Math.SQRT1_2, 14)]);
    expect(overlap).toBeCloseTo(0.75, 14);
    expect(subspaceOverlap(b, [e(0), e(1)]).overlap).toBeCloseTo(0.75, 14);
    expect(() => subspaceOverlap([], b)).toThrow(RangeError);
    expect(() => subspaceOverlap([e(0)], [unit(4, 0)])).toThrow(RangeError);
  });
});
