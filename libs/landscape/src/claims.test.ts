import { describe, expect, it } from 'vitest';
import type { TableRow } from '@lrscape/artifacts';
import { edgeOfStabilityClaims, peakThresholdRatio } from './claims';

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
