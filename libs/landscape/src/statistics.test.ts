import { describe, expect, it } from 'vitest';
import { formatInterval, groupBootstrap, kendallTau, nullVerdict, partialKendallTau, signVerdict, tInterval } from './statistics';

describe('kendallTau', () => {
  it('matches scipy.stats.kendalltau (1.17), with and without ties', () => {
    expect(kendallTau([1, 2, 3, 4, 5, 6, 7, 8], [2, 1, 4, 3, 6, 5, 8, 7])).toBeCloseTo(0.7142857142857142, 14);
    expect(kendallTau([1, 2, 2, 3, 4, 5], [1, 3, 2, 2, 5, 4])).toBeCloseTo(0.6428571428571429, 14);
    expect(kendallTau([1, 2, 3], [3, 2, 1])).toBe(-1);
    expect(kendallTau([1, 1, 1], [1, 2, 3])).toBeNull();
    expect(kendallTau([1], [1])).toBeNull();
  });
});

describe('partialKendallTau', () => {
  it('is the textbook formula of the three τ, and removes a shared trend', () => {
    const x = [1, 2, 3, 4, 5, 6];
    const y = [2, 1, 4, 3, 6, 5];
    const z = [1, 3, 2, 5, 4, 6];
    const [xy, xz, yz] = [kendallTau(x, y)!, kendallTau(x, z)!, kendallTau(y, z)!];
    expect(partialKendallTau(x, y, z)).toBeCloseTo((xy - xz * yz) / Math.sqrt((1 - xz ** 2) * (1 - yz ** 2)), 14);
    // z identical to x: nothing left to explain.
    expect(partialKendallTau(x, y, x)).toBeNull();
  });
});

describe('tInterval', () => {
  it('matches scipy.stats.t.interval(0.95, n − 1, mean, sem)', () => {
    const interval = tInterval([0.3, -0.1, 0.5, 0.2, 0.4])!;
    expect(interval.estimate).toBeCloseTo(0.26, 14);
    expect(interval.lower).toBeCloseTo(-0.025852519098702342, 12);
    expect(interval.upper).toBeCloseTo(0.5458525190987022, 12);
    expect(tInterval([1])).toBeNull();
  });

  it('covers the true mean about 95% of the time (normal samples of 5, 400 trials: within 3 standard errors)', () => {
    let state = 12345;
    const uniform = () => ((state = (state * 1103515245 + 12345) % 2 ** 31) + 0.5) / 2 ** 31;
    const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
    const trials = 400;
    let covered = 0;
    for (let t = 0; t < trials; t++) {
      const i = tInterval(Array.from({ length: 5 }, normal))!;
      if (i.lower <= 0 && 0 <= i.upper) covered++;
    }
    const se = Math.sqrt((0.95 * 0.05) / trials);
    expect(Math.abs(covered / trials - 0.95)).toBeLessThan(3 * se);
  });
});

describe('groupBootstrap', () => {
  it('brackets the pooled mean and is deterministic for a seed', () => {
    const groups = [[1, 2], [2, 3], [3, 4], [4, 5]];
    const stat = (v: readonly number[]) => v.reduce((s, x) => s + x, 0) / v.length;
    const a = groupBootstrap(groups, stat, { seed: 3 })!;
    expect(a.estimate).toBe(3);
    expect(a.lower).toBeLessThan(3);
    expect(a.upper).toBeGreaterThan(3);
    expect(a.lower).toBeGreaterThanOrEqual(1.5);
    expect(a.upper).toBeLessThanOrEqual(4.5);
    expect(groupBootstrap(groups, stat, { seed: 3 })).toEqual(a);
    expect(groupBootstrap([[1, 2]], stat)).toBeNull();
  });
});

describe('verdicts', () => {
  const interval = (lower: number, upper: number) => ({ estimate: (lower + upper) / 2, lower, upper, n: 3, confidence: 0.95, method: 't' });
  it('signVerdict: pass on the predicted side, fail on the other, inconclusive across 0', () => {
    expect(signVerdict(interval(-0.5, -0.1), 'negative')).toBe('pass');
    expect(signVerdict(interval(0.1, 0.5), 'negative')).toBe('fail');
    expect(signVerdict(interval(-0.1, 0.5), 'negative')).toBe('inconclusive');
    expect(signVerdict(interval(0.1, 0.5), 'positive')).toBe('pass');
    expect(signVerdict(null, 'positive')).toBe('not-run');
  });
  it('nullVerdict: pass only when the whole interval lies within the margin', () => {
    expect(nullVerdict(interval(-0.05, 0.05), 0.1)).toBe('pass');
    expect(nullVerdict(interval(-0.05, 0.3), 0.1)).toBe('inconclusive');
    expect(nullVerdict(interval(0.2, 0.3), 0.1)).toBe('fail');
  });
  it('formatInterval states estimate, bounds, level and method', () => {
    expect(formatInterval(interval(-0.5, -0.1))).toBe('-0.300 [-0.500, -0.100] (95% t)');
  });
});
