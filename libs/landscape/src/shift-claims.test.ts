import { describe, expect, it } from 'vitest';
import type { TableRow } from '@lrscape/artifacts';
import { matchedSlopeClaims, shiftWindowClaims } from './shift-claims';
import { tInterval } from './statistics';

const run = (name: string, eta: number, seed: number, diverged = false): TableRow<'runs'> => ({
  run: name, eta, schedule: 'constant', seed, steps: 100, diverged, final_loss: 0.1, final_sharpness: 1, seconds: 1, backend: 'cpu', initial_regime: null,
});
const paired = (name: string, eta: number, seed: number, instability: number, across: number, quiet: number): TableRow<'shift_windows'> => ({
  run: name, eta, seed, instability, status: 'paired', reason: '', quiet_start: 10, before: 20, after: 30, m: 2,
  overlap_instability: across, overlap_quiet: quiet, cos_rms_instability: across / 2, cos_rms_quiet: quiet / 2, well_defined: true,
});

describe('shiftWindowClaims', () => {
  it('averages d = across − quiet per seed over its instabilities and gives the t-interval over seeds', () => {
    const runs = [run('a', 0.1, 0), run('a-s1', 0.1, 1), run('b-s1', 0.2, 1), run('c-s2', 0.1, 2)];
    const windows = [
      paired('a', 0.1, 0, 1, 0.5, 0.9), paired('a', 0.1, 0, 2, 0.7, 0.9), // seed 0: d = −0.4, −0.2 → −0.3
      paired('a-s1', 0.1, 1, 1, 0.6, 0.8), paired('b-s1', 0.2, 1, 1, 0.2, 0.8), // seed 1: −0.2, −0.6 → −0.4
      paired('c-s2', 0.1, 2, 1, 0.85, 0.9), // seed 2: −0.05
      { ...paired('c-s2', 0.1, 2, 2, 0, 0), status: 'skipped', overlap_instability: null, overlap_quiet: null, cos_rms_instability: null, cos_rms_quiet: null, well_defined: null },
    ] satisfies TableRow<'shift_windows'>[];
    const [overlap, cosRms] = shiftWindowClaims(runs, windows);
    const expected = tInterval([-0.3, -0.4, -0.05])!;
    expect(overlap.id).toBe('shift-window');
    expect(overlap.measured).toBeCloseTo(-0.25, 12);
    expect(overlap.verdict).toBe(expected.upper < 0 ? 'pass' : 'inconclusive');
    expect(overlap.detail).toContain('5 paired instabilities over 4 run(s)');
    expect(overlap.detail).toContain('1 without a quiet window');
    // The cos-RMS columns are half the overlaps here: the same per-seed means, halved.
    expect(cosRms.id).toBe('shift-window-cos-rms');
    expect(cosRms.measured).toBeCloseTo(-0.125, 12);
  });
  it('passes, fails or is inconclusive by the interval’s sign; one seed is inconclusive; none is not-run', () => {
    const runs = [run('a', 0.1, 0), run('a-s1', 0.1, 1), run('a-s2', 0.1, 2)];
    const d = (values: number[]) => values.map((v, seed) => paired(seed ? `a-s${seed}` : 'a', 0.1, seed, 1, 0.5 + v, 0.5));
    expect(shiftWindowClaims(runs, d([-0.3, -0.32, -0.29]))[0].verdict).toBe('pass');
    expect(shiftWindowClaims(runs, d([0.3, 0.32, 0.29]))[0].verdict).toBe('fail');
    expect(shiftWindowClaims(runs, d([-0.3, 0.3, 0.01]))[0].verdict).toBe('inconclusive');
    const one = shiftWindowClaims([run('a', 0.1, 0)], [paired('a', 0.1, 0, 1, 0.1, 0.9)])[0];
    expect(one).toMatchObject({ verdict: 'inconclusive', measured: expect.closeTo(-0.8, 12) });
    expect(one.detail).toMatch(/^inconclusive \(one seed\)/);
    expect(shiftWindowClaims(runs, [])[0]).toMatchObject({ verdict: 'not-run', measured: null });
  });
  it('leaves out diverged runs', () => {
    const runs = [run('a', 0.1, 0), run('a-s1', 0.1, 1, true)];
    const [claim] = shiftWindowClaims(runs, [paired('a', 0.1, 0, 1, 0.1, 0.9), paired('a-s1', 0.1, 1, 1, 0.9, 0.1)]);
    expect(claim.measured).toBeCloseTo(-0.8, 12);
  });
});

const matched = (name: string, eta: number, seed: number, tau: number, overlap: number | null, baseline = seed ? `base-s${seed}` : 'base'): TableRow<'matched_time'> => ({
  run: name, baseline, eta, seed, tau, status: overlap === null ? 'not-run' : 'ok', reason: '', step: 1, baseline_step: 1,
  tau_run: tau, tau_baseline: tau, m: 2, overlap, cos_rms_angle: overlap === null ? null : overlap, well_defined: true,
});
const instability = (name: string, eta: number): TableRow<'instabilities'> => ({
  run: name, eta, index: 1, start: 10, peak: 12, end: 20, loss_before: 1, peak_loss: 2, sharpness_before: null, sharpness_peak: null, sharpness_after: null,
  heating_steps: 2, cooling_steps: 8, detector: 'relative', threshold: 0.1, up_crossing: null, down_crossing: null, sharpness_peak_step: null,
  sharpness_trough: null, sharpness_trough_step: null, ratio_peak: null, ratio_peak_step: null, ratio_trough: null, ratio_trough_step: null,
});

describe('matchedSlopeClaims', () => {
  // Baseline η 0.01; stable 0.02; onset 0.05; unstable 0.05, 0.1. Overlap falls by 1 per unit η below the onset,
  // and along 0.9 − 4(η − 0.05) above it at τ = 1 (slope −4), 0.8 − 6(η − 0.05) at τ = 2 (slope −6).
  const seedRuns = (seed: number) => {
    const n = (eta: number) => (seed ? `eta-${eta}-s${seed}` : `eta-${eta}`);
    return [run(seed ? `base-s${seed}` : 'base', 0.01, seed), run(n(0.02), 0.02, seed), run(n(0.05), 0.05, seed), run(n(0.1), 0.1, seed)];
  };
  const seedRows = (seed: number, shift = 0) => {
    const n = (eta: number) => (seed ? `eta-${eta}-s${seed}` : `eta-${eta}`);
    return [
      matched(n(0.02), 0.02, seed, 1, 1 - 0.01), matched(n(0.05), 0.05, seed, 1, 0.9), matched(n(0.1), 0.1, seed, 1, 0.9 - (4 + shift) * 0.05),
      matched(n(0.02), 0.02, seed, 2, 1 - 0.01), matched(n(0.05), 0.05, seed, 2, 0.8), matched(n(0.1), 0.1, seed, 2, 0.8 - (6 + shift) * 0.05),
      matched(n(0.1), 0.1, seed, 50, null),
    ];
  };
  const unstable = (seed: number) => [instability(seed ? `eta-0.05-s${seed}` : 'eta-0.05', 0.05), instability(seed ? `eta-0.1-s${seed}` : 'eta-0.1', 0.1)];
  it('per seed: mean over τ of slope above the onset minus slope below it (anchored at the baseline’s 1)', () => {
    const runs = [0, 1, 2].flatMap(seedRuns);
    const rows = [...seedRows(0, 0), ...seedRows(1, 1), ...seedRows(2, 2)];
    const [overlap, cosRms] = matchedSlopeClaims(runs, rows, [0, 1, 2].flatMap(unstable));
    // Seed s: slopes above −(4 + s) and −(6 + s), below −1 → differences −(3 + s), −(5 + s) → mean −(4 + s).
    const expected = tInterval([-4, -5, -6])!;
    expect(overlap.id).toBe('shift-matched-slope');
    expect(overlap.measured).toBeCloseTo(expected.estimate, 9);
    expect(overlap.verdict).toBe('pass');
    expect(overlap.detail).toContain('τ grid 1, 2 (3 comparisons not-run');
    expect(cosRms).toMatchObject({ id: 'shift-matched-slope-cos-rms', verdict: 'pass' });
  });
  it('needs two η on each side of the onset and a seed with an instability; without matchedTime it is not-run', () => {
    const runs = seedRuns(0);
    const [onlyOneAbove] = matchedSlopeClaims(runs, seedRows(0).filter((r) => r.eta !== 0.1), unstable(0));
    expect(onlyOneAbove.verdict).toBe('not-run');
    expect(onlyOneAbove.detail).toMatch(/fewer than two η on one side of the onset η\* = 0.05/);
    expect(matchedSlopeClaims(runs, seedRows(0), [])[0].detail).toMatch(/s0: no unstable η/);
    expect(matchedSlopeClaims(runs, [], unstable(0))[0].detail).toMatch(/config matchedTime not set/);
    // One seed: inconclusive whatever the sign.
    expect(matchedSlopeClaims(runs, seedRows(0), unstable(0))[0]).toMatchObject({ verdict: 'inconclusive', measured: expect.closeTo(-4, 9) });
  });
});
