import { describe, expect, it } from 'vitest';
import type { TableRow } from '@lrscape/artifacts';
import { instabilityRow } from './testing/rows';
import { CLAIM_IDS, edgeOfStabilityClaims, edgeOfStabilityHoverClaims, outlierCountClaims, peakThresholdRatio, verifyExperiment } from './claims';

const run = (name: string, eta: number, diverged = false): TableRow<'runs'> => ({
  run: name, eta, schedule: 'constant', seed: 0, steps: 10, diverged, final_loss: 0.1, final_sharpness: 1, seconds: 1, backend: 'cpu', initial_regime: null,
});
const step = (name: string, s: number, lr: number, sharpness: number | null): TableRow<'steps'> => ({
  run: name, step: s, lr, loss: 1, accuracy: null, test_loss: null, test_accuracy: null, grad_norm: 1, sharpness, sharpness_check: null,
});
const instability = (name: string, index: number): TableRow<'instabilities'> => instabilityRow({ run: name, index });

describe('edge-of-stability claims', () => {
  it('peakThresholdRatio is max λmax·η/2 over the sampled steps', () => {
    expect(peakThresholdRatio([step('a', 0, 0.1, 10), step('a', 1, 0.1, null), step('a', 2, 0.1, 19)])).toBeCloseTo(0.95, 12);
    expect(peakThresholdRatio([step('a', 0, 0.1, null)])).toBeNull();
  });

  it('passes on a stable small η and an unstable large η with two instabilities', () => {
    const claims = edgeOfStabilityClaims({
      runs: [run('eta-0.01', 0.01), run('eta-0.2', 0.2)],
      // η = 0.2 rises from λmax/(2/η) = 0.5 at step 0 to 1.02 at step 1: progressive sharpening.
      steps: [step('eta-0.01', 0, 0.01, 50), step('eta-0.2', 0, 0.2, 5), step('eta-0.2', 1, 0.2, 10.2)],
      spectra: [{ run: 'eta-0.2', step: 0, scope: 'full', end: 'top', rank: 1, eigenvalue: 10, residual: 1e-4, is_outlier: true }],
      instabilities: [instability('eta-0.2', 1), instability('eta-0.2', 2)],
    });
    expect(claims.map((c) => c.verdict)).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(claims[0].measured).toBeCloseTo(0.25, 12);
    expect(claims[1].measured).toBe(1); // one run rises from below
    expect(claims[2].measured).toBe(2);
    expect(claims[3].measured).toBeCloseTo(1e-5, 12);
  });

  it('fails honestly when nothing reaches the threshold and a diverged run is not counted', () => {
    const claims = edgeOfStabilityClaims({
      runs: [run('eta-0.01', 0.01), run('eta-0.5', 0.5, true), run('eta-0.05', 0.05)],
      steps: [step('eta-0.01', 0, 0.01, 50), step('eta-0.5', 0, 0.5, 100), step('eta-0.05', 0, 0.05, 20)],
      spectra: [],
      instabilities: [],
    });
    expect(claims.map((c) => c.verdict)).toEqual(['pass', 'fail', 'fail', 'not-run']);
    expect(claims[1].measured).toBe(0); // eta-0.05 sits at λmax/(2/η) = 0.5; eta-0.5 diverged
    expect(claims[1].detail).toBe('no run rises from below to 2/η; no initial catapult (no run that comes under 2/η started above it)');
  });

  it('progressive sharpening: a run that starts above 2/η and catapults down is not sharpening; rising again after the catapult is', () => {
    const runs = [run('eta-0.1', 0.1)]; // 2/η = 20
    const catapultOnly = [30, 12, 14, 15, 15].map((lambda, t) => step('eta-0.1', t, 0.1, lambda));
    const [, onlyCatapult] = edgeOfStabilityClaims({ runs, steps: catapultOnly, spectra: [], instabilities: [] });
    expect([onlyCatapult.verdict, onlyCatapult.measured]).toEqual(['fail', 0]);
    expect(onlyCatapult.detail).toContain('initial catapult excluded in eta-0.1 (starts at 1.50, under 2/η from step 1)');
    // The old rule (max λmax/(2/η) ≥ 0.95 over the run, step 0 included) passed this run on its first sample.
    const sharpensAgain = [30, 12, 14, 17, 19.5].map((lambda, t) => step('eta-0.1', t, 0.1, lambda));
    const [, again] = edgeOfStabilityClaims({ runs, steps: sharpensAgain, spectra: [], instabilities: [] });
    expect([again.verdict, again.measured]).toEqual(['pass', 1]);
    expect(again.detail).toContain('eta-0.1 (≤ 0.85 at step 1, ≥ 0.95 at step 4)');
    // Starting just under 2/η (0.9) and hovering is not a rise from below either.
    const [, hovering] = edgeOfStabilityClaims({ runs, steps: [18, 19.5, 20.5, 19].map((lambda, t) => step('eta-0.1', t, 0.1, lambda)), spectra: [], instabilities: [] });
    expect(hovering.verdict).toBe('fail');
  });
});

describe('edge-of-stability hover and outlier-count claims', () => {
  it('takes the median of λmax/(2/η) over the second half for runs that reach 2/η', () => {
    const r = { ...run('eta-0.1', 0.1), steps: 100 };
    const s = [step('eta-0.1', 0, 0.1, 19.6), ...[50, 60, 70, 80, 90].map((t, i) => step('eta-0.1', t, 0.1, [21, 20, 19, 22, 30][i]))];
    // η = 0.01 is above 2/η only at step 0 (a catapult from a sharp start), then far below: not counted.
    const catapult = { ...run('eta-0.01', 0.01), steps: 100 };
    const fall = [step('eta-0.01', 0, 0.01, 250), step('eta-0.01', 60, 0.01, 120), step('eta-0.01', 90, 0.01, 130)];
    const [claim] = edgeOfStabilityHoverClaims([r, catapult], [...s, ...fall]);
    expect(claim.measured).toBeCloseTo(0.05, 12); // median of 1.05, 1, 0.95, 1.1, 1.5 is 1.05
    expect(claim.verdict).toBe('pass');
    expect(claim.detail).not.toContain('eta-0.01');
    const [far] = edgeOfStabilityHoverClaims([r], s.map((x) => (x.step >= 50 ? { ...x, sharpness: 26 } : x)));
    expect(far.verdict).toBe('fail');
    expect(edgeOfStabilityHoverClaims([run('eta-0.01', 0.01)], [step('eta-0.01', 0, 0.01, 50)])[0].verdict).toBe('not-run');
  });
  it('counts the outliers at the last checkpoint against C', () => {
    const spec = (name: string, stepAt: number, outliers: number) =>
      Array.from({ length: 12 }, (_, i) => ({ run: name, step: stepAt, scope: 'full', end: 'top' as const, rank: i + 1, eigenvalue: 12 - i, residual: 0, is_outlier: i < outliers }));
    const [claim] = outlierCountClaims([run('a', 0.1), run('b', 0.2), run('c', 0.3, true)], [...spec('a', 0, 1), ...spec('a', 100, 9), ...spec('b', 100, 10), ...spec('c', 100, 1)], 10);
    expect(claim.measured).toBe(9);
    expect(claim.verdict).toBe('pass');
  });
  it('holds C = 2 to ±0 (±20% of C, rounded): m = 3 fails, m = 2 passes', () => {
    const spec = (name: string, outliers: number) =>
      Array.from({ length: 8 }, (_, i) => ({ run: name, step: 100, scope: 'full', end: 'top' as const, rank: i + 1, eigenvalue: 8 - i, residual: 0, is_outlier: i < outliers }));
    expect(outlierCountClaims([run('a', 0.1)], spec('a', 3), 2)[0]).toMatchObject({ measured: 3, verdict: 'fail' });
    expect(outlierCountClaims([run('a', 0.1)], spec('a', 2), 2)[0]).toMatchObject({ measured: 2, verdict: 'pass' });
    expect(outlierCountClaims([run('a', 0.1)], spec('a', 2), 2)[0].expected).toMatch(/±0 of C = 2/);
  });
});

describe('verifyExperiment', () => {
  const runs = [run('eta-0.01', 0.01), run('eta-0.2', 0.2)];
  const steps = [step('eta-0.01', 0, 0.01, 50), step('eta-0.2', 0, 0.2, 5), step('eta-0.2', 1, 0.2, 10.2)];
  const tables = { runs, steps, spectra: [], instabilities: [], overlaps: [], flattening: [], drop_families: [], instability_sensitivity: [], long_horizon: [], shift_windows: [], matched_time: [] };
  const longHorizon: TableRow<'long_horizon'>[] = [0, 1, 2].map((seed) => ({
    run: `eta-0.1-s${seed}`, eta: 0.1, seed, steps: 100, instabilities: 9, last_peak: 90, tail_from_index: 5, tail_slope_peak: -0.1 - 0.01 * seed,
    tail_slope_trough: 0, last_ratio_peak: 1.05, last_ratio_trough: 0.9, late_from: 50, late_instabilities: 5, late_ratio_median: 1, late_ratio_max: 1.1, late_check_median: null,
  }));

  it('gives every claim its stable id, in CLAIM_IDS order, outliers only for classification, long horizon only with its rows', () => {
    const regression = verifyExperiment(tables, null).map((c) => c.id);
    expect(regression).toEqual(CLAIM_IDS.filter((id) => id !== 'outliers-classes' && id !== 'long-horizon-flattening'));
    expect(verifyExperiment({ ...tables, long_horizon: longHorizon }, 2).map((c) => c.id)).toEqual([...CLAIM_IDS]);
  });

  it('computes the same claims as the individual checks', () => {
    const claims = verifyExperiment(tables, null);
    const byId = new Map(claims.map((c) => [c.id, c]));
    expect(byId.get('stable-below-threshold')!.measured).toBeCloseTo(0.25, 12);
    expect(byId.get('progressive-sharpening')!.measured).toBe(1);
    // No overlaps and no drop families: those claims are not run, with their reason.
    expect(byId.get('shift-window')!.verdict).toBe('not-run');
    expect(byId.get('shift-matched-slope')!.detail).toMatch(/config matchedTime not set/);
    expect(byId.get('drop-flattening-pairs')!.detail).toMatch(/no drop family configured/);
  });
});
