import { describe, expect, it } from 'vitest';
import { effectiveParameters, splitOutliers } from './outliers';

describe('splitOutliers', () => {
  it('finds the gap after the sharp directions', () => {
    expect(splitOutliers([50, 40, 30, 2, 1.8, 1.5, 1.2, 1.0])).toEqual({ m: 3, rule: 'ratio-gap' });
    expect(splitOutliers([10, 1, 0.9, 0.8, 0.7, 0.6])).toEqual({ m: 1, rule: 'ratio-gap' });
  });
  it('looks only at i ≤ M/2', () => {
    // The largest ratio (6 → 0.1) sits at i = 5 > M/2 = 3: not eligible.
    expect(splitOutliers([10, 9, 4, 3.9, 6e-1, 1e-1]).m).toBe(2);
  });
  it('ignores gaps into eigenvalues below 1e-3·λmax', () => {
    expect(splitOutliers([10, 5, 1e-4, 1e-5]).m).toBe(1);
  });
  it('honours a fixed m, clipped to the spectrum', () => {
    expect(splitOutliers([3, 2, 1], { fixed: 2 })).toEqual({ m: 2, rule: 'fixed' });
    expect(splitOutliers([3, 2, 1], { fixed: 9 })).toEqual({ m: 3, rule: 'fixed' });
  });
});

describe('effectiveParameters', () => {
  it('sums λ/(λ+α) with α = λmax/2 by default, negatives clipped', () => {
    // α = 2: 4/6 + 2/4 + 0 = 7/6
    expect(effectiveParameters([4, 2, -1])).toBeCloseTo(7 / 6, 12);
    expect(effectiveParameters([4, 2], 4)).toBeCloseTo(0.5 + 1 / 3, 12);
    expect(effectiveParameters([])).toBe(0);
  });
});
