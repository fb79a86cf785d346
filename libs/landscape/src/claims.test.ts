import { describe, expect, it } from 'vitest';
import type { TableRow } from '@lrscape/artifacts';
import { CLAIM_IDS, edgeOfStabilityClaims, edgeOfStabilityHoverClaims, flatteningClaims, outlierCountClaims, peakThresholdRatio, shiftClaims, verifyExperiment } from './claims';

const run = (name: string, eta: number, diverged = false): TableRow<'runs'> => ({
  run: name, eta, schedule: 'constant', seed: 0, steps: 10, diverged, final_loss: 0.1, final_sharpness: 1, seconds: 1, backend: 'cpu',
});
const step = (name: string, s: number, lr: number, sharpness: number | null): TableRow<'steps'> => ({
  run: name, step: s, lr, loss: 1, accuracy: null, test_loss: null, test_accuracy: null, grad_norm: 1, sharpness,
});
const instability = (name: string, index: number): TableRow<'instabilities'> => ({
  run: name, eta: 0.2, index, start: 0, peak: 1, end: 2, loss_before: 1, peak_loss: 2, sharpness_before: 9, sharpness_peak: 11, sharpness_after: 8, heating_steps: 1, cooling_steps: 1,
});

describe('edge-of-stability claims', () => {
  it('peakThresholdRatio is max λmax·η/2 over the sampled steps', () => {
    expect(peakThresholdRatio([step('a', 0, 0.1, 10), step('a', 1, 0.1, null), step('a', 2, 0.1, 19)])).toBeCloseTo(0.95, 12);
    expect(peakThresholdRatio([step('a', 0, 0.1, null)])).toBeNull();
  });

  it('passes on a stable small η and an unstable large η with two instabilities', () => {
    const claims = edgeOfStabilityClaims({
      runs: [run('eta-0.01', 0.01), run('eta-0.2', 0.2)],
      steps: [step('eta-0.01', 0, 0.01, 50), step('eta-0.2', 0, 0.2, 10.2)],
      spectra: [{ run: 'eta-0.2', step: 0, scope: 'full', rank: 1, eigenvalue: 10, residual: 1e-4, is_outlier: true }],
      instabilities: [instability('eta-0.2', 1), instability('eta-0.2', 2)],
    });
    expect(claims.map((c) => c.verdict)).toEqual(['pass', 'pass', 'pass', 'pass']);
    expect(claims[0].measured).toBeCloseTo(0.25, 12);
    expect(claims[1].measured).toBeCloseTo(1.02, 12);
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
    expect(claims[1].measured).toBeCloseTo(0.5, 12);
  });
});

describe('shift and flattening claims', () => {
  const overlap = (run_a: string, value: number): TableRow<'overlaps'> => ({ run_a, step_a: 0, run_b: 'eta-0.01', step_b: 0, scope: 'full', m: 1, overlap: value, min_cos_angle: 1, kind: 'baseline' });
  it('compares mean overlap to baseline at the smallest and largest non-diverged η, over seeds', () => {
    const runs = [run('eta-0.01', 0.01), run('eta-0.05', 0.05), { ...run('eta-0.05-s1', 0.05), seed: 1 }, run('eta-0.2', 0.2), run('eta-0.5', 0.5, true)];
    const [claim] = shiftClaims(runs, [overlap('eta-0.05', 0.9), overlap('eta-0.05', 0.7), overlap('eta-0.05-s1', 0.6), overlap('eta-0.2', 0.3), overlap('eta-0.5', 0)]);
    // η = 0.05: mean(0.8, 0.6) = 0.7; η = 0.2: 0.3; the diverged η = 0.5 is left out.
    expect(claim.measured).toBeCloseTo(0.4, 12);
    expect(claim.verdict).toBe('pass');
    expect(shiftClaims(runs, [overlap('eta-0.05', 0.1), overlap('eta-0.2', 0.3)])[0].verdict).toBe('fail');
    expect(shiftClaims(runs, [])[0].verdict).toBe('not-run');
  });
  it('counts drop times and reports the sign of the rank correlation', () => {
    const drop = (t: number, instabilities: number, sharpness: number): TableRow<'flattening'> => ({ run: `drop-t${t}`, kind: 'drop', t_switch: t, instabilities, sharpness });
    const falling = flatteningClaims([drop(0, 0, 10), drop(100, 1, 9), drop(200, 3, 7), drop(400, 5, 6)]);
    expect(falling.map((c) => c.verdict)).toEqual(['pass', 'pass']);
    expect(falling[1].measured).toBeCloseTo(-1, 12);
    const rising = flatteningClaims([drop(0, 0, 5), drop(100, 1, 9), drop(200, 3, 10)]);
    expect(rising.map((c) => c.verdict)).toEqual(['fail', 'fail']);
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
      Array.from({ length: 12 }, (_, i) => ({ run: name, step: stepAt, scope: 'full', rank: i + 1, eigenvalue: 12 - i, residual: 0, is_outlier: i < outliers }));
    const [claim] = outlierCountClaims([run('a', 0.1), run('b', 0.2), run('c', 0.3, true)], [...spec('a', 0, 1), ...spec('a', 100, 9), ...spec('b', 100, 10), ...spec('c', 100, 1)], 10);
    expect(claim.measured).toBe(9);
    expect(claim.verdict).toBe('pass');
  });
});

describe('verifyExperiment', () => {
  const runs = [run('eta-0.01', 0.01), run('eta-0.2', 0.2)];
  const steps = [step('eta-0.01', 0, 0.01, 50), step('eta-0.2', 0, 0.2, 10.2)];
  const tables = { runs, steps, spectra: [], instabilities: [], overlaps: [], flattening: [] };

  it('gives every claim its stable id, in CLAIM_IDS order, outliers only for classification', () => {
    const regression = verifyExperiment(tables, null).map((c) => c.id);
    expect(regression).toEqual(CLAIM_IDS.filter((id) => id !== 'outliers-classes'));
    expect(verifyExperiment(tables, 2).map((c) => c.id)).toEqual([...CLAIM_IDS]);
  });

  it('computes the same claims as the individual checks', () => {
    const claims = verifyExperiment(tables, null);
    const byId = new Map(claims.map((c) => [c.id, c]));
    expect(byId.get('stable-below-threshold')!.measured).toBeCloseTo(0.25, 12);
    expect(byId.get('progressive-sharpening')!.measured).toBeCloseTo(1.02, 12);
    // No overlaps and no drop runs: those claims are not run, with their reason.
    expect(byId.get('landscape-shift')!.verdict).toBe('not-run');
    expect(byId.get('drop-flattening')!.detail).toMatch(/needs ≥ 3 drop runs/);
  });
});
