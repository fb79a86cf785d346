import { describe, expect, it } from 'vitest';
import type { TableRow } from '@lrscape/artifacts';
import { against2OverEta, FLAT_SLOPE, longHorizonClaim, longHorizonRows, olsSlope, trendOf } from './long-horizon';
import { instabilityRow, runRow, stepRow } from './testing/rows';

const interval = (lower: number, upper: number) => ({ estimate: (lower + upper) / 2, lower, upper, n: 3, confidence: 0.95, method: 't' });

describe('olsSlope', () => {
  it('is the least-squares slope; null under 3 points or without spread', () => {
    expect(olsSlope([0, 1, 2, 3], [1, 3, 5, 7])).toBeCloseTo(2, 12);
    expect(olsSlope([0, 1, 2, 3], [1, 2, 2, 4])).toBeCloseTo(0.9, 12); // Σ(x−1.5)(y−2.25) = 4.5, Σ(x−1.5)² = 5
    expect(olsSlope([1, 2], [1, 2])).toBeNull();
    expect(olsSlope([2, 2, 2], [1, 2, 3])).toBeNull();
  });
});

describe('longHorizonRows', () => {
  it('fits the later half of the instabilities against ln(step) and reads λmax/(2/η) over the late steps', () => {
    const run = runRow({ run: 'eta-0.1', eta: 0.1, steps: 1000 });
    const peaks = [50, 100, 150, 200, 300, 400];
    const instabilities = peaks.map((peak, i) =>
      instabilityRow({ run: 'eta-0.1', index: i + 1, peak, ratio_peak: 1.5 - 0.1 * Math.log(peak), ratio_trough: 0.7 + 0.05 * Math.log(peak) }),
    );
    // Steps 500–1000 (the late half): λmax/(2/η) 0.98 by the power estimate, 1.0 at the checks every 100 steps.
    const steps = Array.from({ length: 1001 }, (_, t) => stepRow({ run: 'eta-0.1', step: t, lr: 0.1, sharpness: t < 500 ? 15 : 19.6, sharpness_check: t % 100 === 0 ? 20 : null }));
    const [row, ...others] = longHorizonRows([run, runRow({ run: 'drop', eta: 0.1, schedule: 'drop' })], new Map([['eta-0.1', steps]]), instabilities, { lateFraction: 0.5 });
    expect(others).toEqual([]);
    expect(row).toMatchObject({ run: 'eta-0.1', steps: 1000, instabilities: 6, last_peak: 400, tail_from_index: 4, late_from: 500, late_instabilities: 0 });
    expect(row.tail_slope_peak).toBeCloseTo(-0.1, 12); // over instabilities 4–6
    expect(row.tail_slope_trough).toBeCloseTo(0.05, 12);
    expect(row.last_ratio_peak).toBeCloseTo(1.5 - 0.1 * Math.log(400), 12);
    expect(row.late_ratio_median).toBeCloseTo(0.98, 12);
    expect(row.late_ratio_max).toBeCloseTo(0.98, 12);
    expect(row.late_check_median).toBeCloseTo(1, 12);
  });
});

describe('longHorizonClaim', () => {
  const rows = (slopes: readonly (number | null)[], lastPeak = 1.02, late = 0): TableRow<'long_horizon'>[] =>
    slopes.map((tail_slope_peak, seed) => ({
      run: `eta-0.1-s${seed}`, eta: 0.1, seed, steps: 20000, instabilities: 10, last_peak: 1700 + seed, tail_from_index: 6, tail_slope_peak, tail_slope_trough: 0.05,
      last_ratio_peak: lastPeak + 0.001 * seed, last_ratio_trough: 0.98, late_from: 10000, late_instabilities: late,
      late_ratio_median: 0.998, late_ratio_max: 0.999, late_check_median: 1 + 0.0001 * (seed - 1),
    }));

  it('keeps falling: the t-interval of per-seed slopes (scipy: [−0.1348, −0.0852]) lies below 0; where it ends, in the text', () => {
    const claim = longHorizonClaim(rows([-0.1, -0.11, -0.12]))!;
    expect([claim.id, claim.verdict]).toEqual(['long-horizon-flattening', 'pass']);
    expect(claim.measured).toBeCloseTo(-0.11, 12);
    expect(claim.detail).toMatch(/^finding: the worst-case sharpness keeps falling through the later half of the instabilities \(slope of peak λmax\/\(2\/η\) per e-fold of steps -0\.110 \[-0\.135, -0\.0852\]/);
    expect(claim.detail).toContain('the last instability peaks at λmax/(2/η) 1.02 [');
    expect(claim.detail).toContain('above 2/η');
    expect(claim.detail).toContain('no instability in the late part of training (from step 10000): the instabilities have stopped');
    expect(claim.detail).toContain('(warm Lanczos checks), at 2/η within its CI');
  });

  it('flat: within ±FLAT_SLOPE (scipy: ±0.00248) is inconclusive for "keeps falling"; late instabilities are counted', () => {
    const claim = longHorizonClaim(rows([0.001, -0.001, 0], 1.02, 4))!;
    expect(claim.verdict).toBe('inconclusive');
    expect(claim.detail).toMatch(/^finding: the worst-case sharpness is flat/);
    expect(claim.detail).toContain('12 instabilities in the late part of training');
    expect(trendOf(interval(-FLAT_SLOPE * 2, FLAT_SLOPE * 2))).toBe('is undetermined');
    expect(trendOf(interval(0.05, 0.15))).toBe('rises');
    expect([against2OverEta(interval(1.01, 1.02)), against2OverEta(interval(0.9, 0.99)), against2OverEta(null)]).toEqual(['above 2/η', 'below 2/η', 'not computed']);
  });

  it('is absent without long-horizon rows and not-run with too few slopes', () => {
    expect(longHorizonClaim([])).toBeNull();
    const claim = longHorizonClaim(rows([-0.1, null, null]))!;
    expect([claim.verdict, claim.measured]).toEqual(['not-run', null]);
    expect(claim.detail).toMatch(/^finding: no trend/);
  });
});
