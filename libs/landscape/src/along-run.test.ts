import { describe, expect, it } from 'vitest';
import type { TableRow } from '@lrscape/artifacts';
import { alongRunFlatteningClaim, alongRunRobustnessClaim, partialTauByEta, partialTauInterval, runTrend, summarizeTrend } from './along-run';
import { instabilityRow, runRow } from './testing/rows';

/** Instabilities of one run with these peak ratios, one every 10 steps from `from`. */
const events = (run: string, peaks: readonly number[], from = 10) =>
  peaks.map((ratio_peak, i) => instabilityRow({ run, index: i + 1, peak: from + 10 * i, ratio_peak, ratio_trough: ratio_peak / 2 }));

describe('runTrend', () => {
  it('Kendall τ of the peak and trough against the index; null under 3 instabilities', () => {
    const falling = runTrend(events('a', [1.5, 1.4, 1.45, 1.2]));
    expect(falling.tauPeak).toBeCloseTo(-2 / 3, 12); // 5 discordant, 1 concordant of 6 pairs
    expect(falling.tauTrough).toBeCloseTo(-2 / 3, 12);
    expect([falling.count, falling.firstRatioPeak, falling.lastRatioPeak]).toEqual([4, 1.5, 1.2]);
    expect(runTrend(events('a', [1.5, 1.4])).tauPeak).toBeNull();
    // Rows in any order: sorted by index first.
    expect(runTrend([...events('a', [1.5, 1.4, 1.3])].reverse()).tauPeak).toBe(-1);
  });
});

describe('summarizeTrend', () => {
  it('t-interval over per-seed mean τ (scipy: ttest_1samp([-0.8, -0.4, -0.6]).confidence_interval())', () => {
    const s = summarizeTrend([
      { seed: 0, tau: -1 },
      { seed: 0, tau: -0.6 },
      { seed: 1, tau: -0.4 },
      { seed: 2, tau: -0.6 },
      { seed: 2, tau: null },
    ]);
    expect(s.perSeed).toEqual([
      { seed: 0, mean: expect.closeTo(-0.8, 12), runs: 2 },
      { seed: 1, mean: -0.4, runs: 1 },
      { seed: 2, mean: -0.6, runs: 1 },
    ]);
    expect(s.interval!.estimate).toBeCloseTo(-0.6, 12);
    expect(s.interval!.lower).toBeCloseTo(-1.0968275423500662, 9);
    expect(s.interval!.upper).toBeCloseTo(-0.10317245764993405, 9);
    expect([s.verdict, s.used, s.tooFew]).toEqual(['pass', 4, 1]);
  });

  it('not-run with its reason from one seed or no τ at all', () => {
    expect(summarizeTrend([{ seed: 0, tau: -1 }, { seed: 0, tau: -0.5 }])).toMatchObject({ verdict: 'not-run', reason: expect.stringMatching(/at least 2 seeds/) });
    expect(summarizeTrend([{ seed: 0, tau: null }])).toMatchObject({ verdict: 'not-run', reason: expect.stringMatching(/no constant-η run has 3/) });
  });
});

describe('partial τ given ln t, per η over its seeds', () => {
  // Two seeds at one η, instabilities at steps 10, 20, 30 (seed 0) and 40, 50, 60 (seed 1), index 1–3 in each.
  const runs = [runRow({ run: 'a', eta: 0.1, seed: 0 }), runRow({ run: 'b', eta: 0.1, seed: 1 })];
  const pooled = (y: readonly number[]) => [
    ...y.slice(0, 3).map((ratio_peak, i) => instabilityRow({ run: 'a', index: i + 1, peak: 10 * (i + 1), ratio_peak })),
    ...y.slice(3).map((ratio_peak, i) => instabilityRow({ run: 'b', index: i + 1, peak: 10 * (i + 4), ratio_peak })),
  ];

  it('removes a trend that time explains (scipy.stats.kendalltau for each τ, then the partial formula)', () => {
    // The peak falls with time, not with the index: the raw pooled τ is −0.298, the partial +0.200.
    const [timeDriven] = partialTauByEta(runs, pooled([1.6, 1.45, 1.5, 1.3, 1.25, 1.1]));
    expect(timeDriven).toMatchObject({ eta: 0.1, seeds: 2, instabilities: 6 });
    expect(timeDriven.partial).toBeCloseTo(0.20044593143431808, 12);
    // The peak falls with the index within each seed: the partial stays strongly negative.
    const [indexDriven] = partialTauByEta(runs, pooled([1.5, 1.3, 1.1, 1.45, 1.35, 1.05]));
    expect(indexDriven.partial).toBeCloseTo(-0.8668451156610704, 12);
  });

  it('leaves out diverged and drop runs, and gives no bootstrap CI under 5 seeds', () => {
    const more = [...runs, runRow({ run: 'c', eta: 0.1, seed: 2, diverged: true }), runRow({ run: 'd', eta: 0.1, seed: 3, schedule: 'drop' })];
    const rows = [...pooled([1.5, 1.3, 1.1, 1.45, 1.35, 1.05]), ...events('c', [9, 9, 9]), ...events('d', [9, 9, 9])];
    expect(partialTauByEta(more, rows)[0].instabilities).toBe(6);
    expect(partialTauInterval(more, rows)).toBeNull();
  });

  it('bootstraps the mean partial τ over 5 seeds: the interval holds the estimate, below 0 when the index drives the peaks', () => {
    const seeds = [0, 1, 2, 3, 4];
    const runs5 = seeds.map((seed) => runRow({ run: `r${seed}`, eta: 0.1, seed }));
    // Within each seed the peak falls with the index; seeds start at different times, so index and time differ.
    const rows = seeds.flatMap((seed) =>
      [0, 1, 2, 3].map((i) => instabilityRow({ run: `r${seed}`, index: i + 1, peak: 100 * (seed + 1) + 37 * i, ratio_peak: 1.4 - 0.1 * i + 0.013 * seed })),
    );
    const interval = partialTauInterval(runs5, rows)!;
    expect(interval.n).toBe(5);
    expect(interval.lower).toBeLessThanOrEqual(interval.estimate);
    expect(interval.upper).toBeGreaterThanOrEqual(interval.estimate);
    expect(interval.upper).toBeLessThan(0);
    expect(interval.estimate).toBeCloseTo(partialTauByEta(runs5, rows)[0].partial!, 12);
  });
});

describe('alongRunFlatteningClaim', () => {
  const threeSeeds = (peaks: readonly (readonly number[])[]) => ({
    runs: peaks.map((_, seed) => runRow({ run: `eta-0.1-s${seed}`, eta: 0.1, seed })),
    instabilities: peaks.flatMap((p, seed) => events(`eta-0.1-s${seed}`, p, 10 + seed)),
  });

  it('pass when the peaks fall within every seed’s run, fail when they rise, with the CI in the text', () => {
    const falling = threeSeeds([[1.5, 1.4, 1.3, 1.2], [1.6, 1.4, 1.5, 1.1], [1.4, 1.3, 1.2]]);
    const claim = alongRunFlatteningClaim(falling.runs, falling.instabilities);
    expect(claim.id).toBe('along-run-flattening');
    expect(claim.verdict).toBe('pass');
    expect(claim.measured).toBeCloseTo((-1 - 2 / 3 - 1) / 3, 12);
    expect(claim.detail).toMatch(/^τ -0\.889 \[-1\.\d+, -0\.\d+\] \(95% t-interval over 3\)/);
    expect(claim.detail).toContain('partial τ given ln t');
    const rising = threeSeeds([[1.1, 1.2, 1.3], [1.0, 1.2, 1.4], [1.2, 1.3, 1.35]]);
    expect(alongRunFlatteningClaim(rising.runs, rising.instabilities).verdict).toBe('fail');
    const mixed = threeSeeds([[1.5, 1.4, 1.3], [1.0, 1.2, 1.4], [1.2, 1.3, 1.1]]);
    expect(alongRunFlatteningClaim(mixed.runs, mixed.instabilities).verdict).toBe('inconclusive');
  });

  it('not-run with its reason when no run has 3 instabilities', () => {
    const few = threeSeeds([[1.5, 1.4], [1.6], []]);
    const claim = alongRunFlatteningClaim(few.runs, few.instabilities);
    expect([claim.verdict, claim.measured]).toEqual(['not-run', null]);
    expect(claim.detail).toMatch(/^not computed: no constant-η run has 3 or more instabilities; 0 run\(s\) used, 3 with fewer than 3/);
  });
});

describe('alongRunRobustnessClaim', () => {
  const runs = [0, 1, 2].map((seed) => runRow({ run: `r${seed}`, eta: 0.1, seed }));
  const rows = (detector: 'relative' | 'absolute', threshold: number, taus: readonly (number | null)[]): TableRow<'instability_sensitivity'>[] =>
    taus.map((tau_peak, seed) => ({
      detector, threshold, run: `r${seed}`, eta: 0.1, seed, count: tau_peak === null ? 1 : 5, tau_peak, tau_trough: null, first_ratio_peak: null, last_ratio_peak: null,
    }));
  const falling = [-0.8, -0.6, -0.7];

  it('robust (pass) when every computable threshold gives the same verdict, stating the count', () => {
    const claim = alongRunRobustnessClaim(runs, [...rows('relative', 0.1, falling), ...rows('relative', 0.5, [null, null, null]), ...rows('absolute', 0.05, falling)]);
    expect([claim.id, claim.verdict, claim.measured]).toEqual(['along-run-flattening-robust', 'pass', 2]);
    expect(claim.detail).toMatch(/^robust: pass at the 2 of 3 thresholds where computable; relative 0\.1: pass/);
    expect(claim.detail).toContain('absolute 0.05: pass');
    expect(claim.detail).toContain('relative 0.5: not-run');
  });

  it('threshold-dependent (fail) when the verdicts differ', () => {
    const claim = alongRunRobustnessClaim(runs, [...rows('relative', 0.1, falling), ...rows('absolute', 0.05, [0.8, 0.6, 0.7]), ...rows('absolute', 0.1, [-0.5, 0.6, 0])]);
    expect([claim.verdict, claim.measured]).toEqual(['fail', 3]);
    expect(claim.detail).toMatch(/^threshold-dependent: pass \/ fail \/ inconclusive at the 3 of 3/);
  });

  it('not-run naming the field when a detector’s threshold list is empty', () => {
    const claim = alongRunRobustnessClaim(runs, rows('relative', 0.1, falling));
    expect(claim.verdict).toBe('not-run');
    expect(claim.detail).toBe('analysis.instabilities.sweep.absolute is empty: the sweep needs thresholds of both detectors');
  });
});
