import { describe, expect, it } from 'vitest';
import { alongRunOverlaps, baselineOverlaps, displacementRows, eigengap, eigenspaceOverlap, instabilityOverlaps, matchedTimeComparisons, windowComparisons } from './shift';

const e = (n: number, i: number) => Float64Array.from({ length: n }, (_, j) => (j === i ? 1 : 0));
/** Well-separated eigenvalues unless given: λ = 10, 5, 1, 0.5, …. */
const space = (step: number, vectors: Float64Array[], values: readonly number[] = [10, 5, 1, 0.5]) => ({ step, vectors, values });
const m1 = { m: 1, minGap: 1.5 };
const m2 = { m: 2, minGap: 1.5 };

describe('eigenspaceOverlap', () => {
  it('is 1 for a subspace with itself and invariant to rotations within it', () => {
    const c = Math.cos(0.3), s = Math.sin(0.3);
    const a = space(0, [e(4, 0), e(4, 1)]);
    const rotated = space(1, [Float64Array.from([c, s, 0, 0]), Float64Array.from([-s, c, 0, 0])]);
    expect(eigenspaceOverlap(a, a, m2).overlap).toBeCloseTo(1, 12);
    expect(eigenspaceOverlap(a, rotated, m2).overlap).toBeCloseTo(1, 12);
    expect(eigenspaceOverlap(a, rotated, m2).minCos).toBeCloseTo(1, 8);
    expect(eigenspaceOverlap(a, rotated, m2).cosRms).toBeCloseTo(1, 8);
  });
  it('is 0 against the orthogonal complement (cos of the RMS angle: cos(π/2) = 0)', () => {
    const o = eigenspaceOverlap(space(0, [e(4, 0), e(4, 1)]), space(1, [e(4, 2), e(4, 3)]), m2);
    expect(o.overlap).toBeCloseTo(0, 12);
    expect(o.cosRms).toBeCloseTo(0, 7);
  });
  it('uses the fixed m whatever each side holds, and gives cos² of the angle for one direction', () => {
    const t = 0.7;
    const r = eigenspaceOverlap(space(0, [e(3, 0), e(3, 1)]), space(1, [Float64Array.from([Math.cos(t), Math.sin(t), 0]), e(3, 2)]), m1);
    expect(r.m).toBe(1);
    expect(r.overlap).toBeCloseTo(Math.cos(t) ** 2, 12);
    expect(r.minCos).toBeCloseTo(Math.cos(t), 12);
    expect(r.cosRms).toBeCloseTo(Math.cos(t), 12);
    expect(() => eigenspaceOverlap(space(0, [e(3, 0)]), space(1, [e(3, 0)]), m2)).toThrow(/m = 2 needs 2 stored vectors/);
  });
  it('cos of the RMS principal angle for known angles θ1, θ2: cos(√((θ1² + θ2²)/2)), while s = (cos²θ1 + cos²θ2)/2', () => {
    // Rotate e0 towards e2 by t1 and e1 towards e3 by t2: principal angles exactly t1 and t2.
    const [t1, t2] = [0.3, 0.9];
    const b = [Float64Array.from([Math.cos(t1), 0, Math.sin(t1), 0]), Float64Array.from([0, Math.cos(t2), 0, Math.sin(t2)])];
    const o = eigenspaceOverlap(space(0, [e(4, 0), e(4, 1)]), space(1, b), m2);
    expect(o.cosRms).toBeCloseTo(Math.cos(Math.sqrt((t1 ** 2 + t2 ** 2) / 2)), 10);
    expect(o.overlap).toBeCloseTo((Math.cos(t1) ** 2 + Math.cos(t2) ** 2) / 2, 12);
    expect(o.minCos).toBeCloseTo(Math.cos(t2), 10);
  });
  it('records the gap λ_m/λ_{m+1} at both ends and flags a cut through the bulk', () => {
    const a = space(0, [e(3, 0), e(3, 1)], [10, 9.5, 9, 1]);
    const b = space(1, [e(3, 0), e(3, 1)], [10, 5, 1]);
    const o = eigenspaceOverlap(a, b, m2);
    expect([o.gapA, o.gapB]).toEqual([expect.closeTo(9.5 / 9, 12), expect.closeTo(5, 12)]);
    expect(o.wellDefined).toBe(false);
    expect(eigenspaceOverlap(b, b, m2).wellDefined).toBe(true);
    // A non-positive λ_{m+1}: no ratio, and the cut is clean.
    const c = space(2, [e(3, 0), e(3, 1)], [10, 5, -0.1]);
    expect(eigenspaceOverlap(c, c, m2)).toMatchObject({ gapA: null, wellDefined: true });
    // Unknown λ_{m+1} (too few Ritz values): not known to be well defined.
    expect(eigenspaceOverlap(space(3, [e(3, 0), e(3, 1)], [10, 5]), b, m2).wellDefined).toBe(false);
  });
  it('eigengap', () => {
    expect(eigengap([4, 2, 1], 1)).toBe(2);
    expect(eigengap([4, 2], 2)).toBeNull();
  });
  it('re-orthonormalises float32-rounded vectors', () => {
    const v = Float64Array.from(Float32Array.from([0.6, 0.8, 0]));
    expect(eigenspaceOverlap(space(0, [v]), space(1, [v]), m1).overlap).toBeCloseTo(1, 12);
  });
});

describe('overlap rows', () => {
  const r = { slug: 'r', schedule: { kind: 'constant' as const, eta: 0.1 } };
  const base = { slug: 'base', schedule: { kind: 'constant' as const, eta: 0.01 } };
  const checkpoints = [space(20, [e(3, 1)]), space(0, [e(3, 0)]), space(40, [e(3, 1)])];
  it('lists consecutive pairs in step order and the full step×step matrix', () => {
    const rows = alongRunOverlaps(r, 'full', checkpoints, m1);
    const consecutive = rows.filter((x) => x.kind === 'consecutive');
    expect(consecutive.map((x) => [x.step_a, x.step_b, x.overlap, x.m, x.well_defined])).toEqual([
      [0, 20, expect.closeTo(0, 12), 1, true],
      [20, 40, expect.closeTo(1, 12), 1, true],
    ]);
    expect(rows.filter((x) => x.kind === 'step×step')).toHaveLength(9);
    // τ = η·t at each end.
    expect(consecutive.map((x) => [x.tau_a, x.tau_b])).toEqual([[0, 2], [2, 4]].map((p) => p.map((v) => expect.closeTo(v, 12))));
  });
  it('pairs a run with the baseline at shared steps only', () => {
    const rows = baselineOverlaps(r, base, 'full', checkpoints, [space(0, [e(3, 0)]), space(40, [e(3, 2)])], m1);
    expect(rows.map((x) => [x.step_a, x.step_b, x.run_b, x.overlap, x.cos_rms_angle])).toEqual([
      [0, 0, 'base', expect.closeTo(1, 12), expect.closeTo(1, 12)],
      [40, 40, 'base', expect.closeTo(0, 12), expect.closeTo(0, 7)],
    ]);
    // Same step, so the τ differ by the ratio of the η: the confound the matched-time kind removes.
    expect([rows[1].tau_a, rows[1].tau_b]).toEqual([expect.closeTo(4, 12), expect.closeTo(0.4, 12)]);
  });
  it('compares the checkpoint before each instability with the one after it', () => {
    const rows = instabilityOverlaps(r, 'full', checkpoints, [{ start: 5, end: 30 }, { start: 35, end: null }], m1);
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

describe('windowComparisons', () => {
  // Training's event checkpoints: instability 1 from 100 to 130 (quiet window 70 → 100), instability 2 from
  // 140 to 200 (its 60-step quiet window would start at 80, inside instability 1: skipped).
  const checkpoints = [
    { step: 0, reason: 'cadence' as const }, { step: 100, reason: 'event-before' as const }, { step: 130, reason: 'event-after' as const },
    { step: 140, reason: 'event-before' as const }, { step: 200, reason: 'event-after' as const }, { step: 300, reason: 'final' as const },
  ];
  const run = { slug: 'eta-0.1', schedule: { kind: 'constant' as const, eta: 0.1 }, eta: 0.1, seed: 3, checkpoints };
  const turn = (t: number) => Float64Array.from([Math.cos(t), Math.sin(t), 0, 0]);
  const spaces = [space(70, [turn(0)]), space(100, [turn(0.1)]), space(130, [turn(0.7)]), space(140, [turn(0.7)]), space(200, [turn(1)])];
  it('pairs each instability with the equal-length quiet window before it and compares both', () => {
    const { windows, overlaps } = windowComparisons(run, spaces, { instabilities: 12, minStep: 50 }, m1);
    expect(windows.map((w) => [w.instability, w.status, w.quiet_start, w.before, w.after])).toEqual([
      [1, 'paired', 70, 100, 130],
      [2, 'skipped', null, null, null],
    ]);
    expect(windows[1].reason).toMatch(/quiet window would start at step 80, before the previous instability’s end at step 130/);
    // Angles: across 0.1 → 0.7 (0.6), quiet 0 → 0.1 (0.1): s = cos², cos-RMS = cos of the angle.
    expect(windows[0]).toMatchObject({
      seed: 3, eta: 0.1, m: 1, well_defined: true,
      overlap_instability: expect.closeTo(Math.cos(0.6) ** 2, 12), overlap_quiet: expect.closeTo(Math.cos(0.1) ** 2, 12),
      cos_rms_instability: expect.closeTo(Math.cos(0.6), 12), cos_rms_quiet: expect.closeTo(Math.cos(0.1), 12),
    });
    expect(overlaps.map((o) => [o.kind, o.step_a, o.step_b, o.tau_a])).toEqual([['window-instability', 100, 130, expect.closeTo(10, 12)], ['window-quiet', 70, 100, expect.closeTo(7, 12)]]);
  });
  it('skips a paired window whose vectors are missing, naming the steps; minStep bounds the quiet start', () => {
    expect(windowComparisons(run, spaces.filter((s) => s.step !== 70), { instabilities: 12, minStep: 50 }, m1).windows[0]).toMatchObject({ status: 'skipped', reason: 'no stored eigenvectors at step(s) 70' });
    expect(windowComparisons(run, spaces, { instabilities: 12, minStep: 80 }, m1).windows[0]).toMatchObject({ status: 'skipped', reason: expect.stringMatching(/minSwitchStep 80/) });
  });
});

describe('matchedTimeComparisons', () => {
  const turn = (t: number) => Float64Array.from([Math.cos(t), Math.sin(t), 0]);
  // Run at η = 0.1 (checkpoints every 10 steps: τ = 1, 2, …), baseline at 0.03 (τ = 1 first reached at step 34).
  const run = { slug: 'eta-0.1', schedule: { kind: 'constant' as const, eta: 0.1 }, eta: 0.1, seed: 0, steps: 30, diverged: false };
  const baseline = { slug: 'eta-0.03', schedule: { kind: 'constant' as const, eta: 0.03 }, eta: 0.03, seed: 0, steps: 100, diverged: false };
  const own = [10, 20, 30].map((step) => space(step, [turn(step / 100)]));
  const theirs = [34, 67, 100].map((step) => space(step, [turn(0)]));
  it('compares at the first steps with τ ≥ each grid τ, and says why the others are not run', () => {
    const { rows, overlaps } = matchedTimeComparisons(run, baseline, own, theirs, [2, 1, 3, 4], m1);
    expect(rows.map((r) => [r.tau, r.status, r.step, r.baseline_step])).toEqual([
      [1, 'ok', 10, 34], [2, 'ok', 20, 67], [3, 'ok', 30, 100], [4, 'not-run', null, null],
    ]);
    expect(rows[0]).toMatchObject({ tau_run: expect.closeTo(1, 12), tau_baseline: expect.closeTo(1.02, 12), overlap: expect.closeTo(Math.cos(0.1) ** 2, 12), cos_rms_angle: expect.closeTo(Math.cos(0.1), 12) });
    expect(rows[3].reason).toBe('beyond the run: eta-0.1 ends at step 30 (τ = 3.000)');
    expect(overlaps.every((o) => o.kind === 'matched-time')).toBe(true);
    // A baseline that diverged at step 50 reaches only τ = 1.47.
    const short = matchedTimeComparisons(run, { ...baseline, steps: 50, diverged: true }, own, theirs, [1, 2], m1).rows;
    expect(short.map((r) => r.status)).toEqual(['ok', 'not-run']);
    expect(short[1].reason).toBe('beyond the baseline: eta-0.03 diverged at step 50 (τ = 1.470)');
    // No vectors at the matched step.
    expect(matchedTimeComparisons(run, baseline, own.slice(1), theirs, [1], m1).rows[0].reason).toMatch(/no stored eigenvectors at eta-0.1 step 10/);
  });
});
