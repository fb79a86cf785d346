import { describe, expect, it } from 'vitest';
import { alongRunOverlaps, baselineOverlaps, displacementRows, eigenspaceOverlap, instabilityOverlaps } from './shift';

const e = (n: number, i: number) => Float64Array.from({ length: n }, (_, j) => (j === i ? 1 : 0));
const space = (step: number, vectors: Float64Array[], m = vectors.length) => ({ step, vectors, m });

describe('eigenspaceOverlap', () => {
  it('is 1 for a subspace with itself and invariant to rotations within it', () => {
    const c = Math.cos(0.3), s = Math.sin(0.3);
    const a = space(0, [e(4, 0), e(4, 1)]);
    const rotated = space(1, [Float64Array.from([c, s, 0, 0]), Float64Array.from([-s, c, 0, 0])]);
    expect(eigenspaceOverlap(a, a).overlap).toBeCloseTo(1, 12);
    expect(eigenspaceOverlap(a, rotated).overlap).toBeCloseTo(1, 12);
    expect(eigenspaceOverlap(a, rotated).minCos).toBeCloseTo(1, 8);
  });
  it('is 0 against the orthogonal complement', () => {
    expect(eigenspaceOverlap(space(0, [e(4, 0), e(4, 1)]), space(1, [e(4, 2), e(4, 3)])).overlap).toBeCloseTo(0, 12);
  });
  it('uses m = min(m_a, m_b) and gives cos² of the angle for one direction', () => {
    const t = 0.7;
    const r = eigenspaceOverlap(space(0, [e(3, 0), e(3, 1)], 1), space(1, [Float64Array.from([Math.cos(t), Math.sin(t), 0]), e(3, 2)], 2));
    expect(r.m).toBe(1);
    expect(r.overlap).toBeCloseTo(Math.cos(t) ** 2, 12);
    expect(r.minCos).toBeCloseTo(Math.cos(t), 12);
  });
  it('re-orthonormalises float32-rounded vectors', () => {
    const v = Float64Array.from(Float32Array.from([0.6, 0.8, 0]));
    expect(eigenspaceOverlap(space(0, [v]), space(1, [v])).overlap).toBeCloseTo(1, 12);
  });
});

describe('overlap rows', () => {
  const checkpoints = [space(20, [e(3, 1)]), space(0, [e(3, 0)]), space(40, [e(3, 1)])];
  it('lists consecutive pairs in step order and the full step×step matrix', () => {
    const rows = alongRunOverlaps('r', 'full', checkpoints);
    const consecutive = rows.filter((x) => x.kind === 'consecutive');
    expect(consecutive.map((x) => [x.step_a, x.step_b, x.overlap])).toEqual([
      [0, 20, expect.closeTo(0, 12)],
      [20, 40, expect.closeTo(1, 12)],
    ]);
    expect(rows.filter((x) => x.kind === 'step×step')).toHaveLength(9);
  });
  it('pairs a run with the baseline at shared steps only', () => {
    const rows = baselineOverlaps('r', 'base', 'full', checkpoints, [space(0, [e(3, 0)]), space(40, [e(3, 2)])]);
    expect(rows.map((x) => [x.step_a, x.step_b, x.run_b, x.overlap])).toEqual([
      [0, 0, 'base', expect.closeTo(1, 12)],
      [40, 40, 'base', expect.closeTo(0, 12)],
    ]);
  });
  it('compares the checkpoint before each instability with the one after it', () => {
    const rows = instabilityOverlaps('r', 'full', checkpoints, [{ start: 5, end: 30 }, { start: 35, end: null }]);
    expect(rows.map((x) => [x.step_a, x.step_b, x.kind])).toEqual([[0, 40, 'instability']]);
  });
});

describe('displacementRows', () => {
  it('is the cosine between the two displacements from θ_0', () => {
    const theta0 = Float32Array.from([1, 1]);
    const rows = displacementRows(
      'r',
      theta0,
      new Map([[10, Float32Array.from([2, 1])], [20, Float32Array.from([2, 2])], [30, Float32Array.from([5, 5])]]),
      new Map([[10, Float32Array.from([3, 1])], [20, Float32Array.from([1, 3])], [30, Float32Array.from([1, 1])]]),
    );
    expect(rows).toEqual([
      { run: 'r', step: 10, cos_to_baseline: expect.closeTo(1, 12) },
      { run: 'r', step: 20, cos_to_baseline: expect.closeTo(Math.SQRT1_2, 12) },
      { run: 'r', step: 30, cos_to_baseline: null },
    ]);
  });
});
