/** A small, exact sample of the instability tables for the report's tests (not part of the report). */
import type { InstabilitiesRow, InstabilitySensitivityRow, LongHorizonRow, RunsRow, StepsRow } from '../rows.ts';

const runRow = (run: string, eta: number, schedule = 'constant'): RunsRow => ({
  run, eta, schedule, seed: 0, steps: 120, diverged: false, final_loss: 0.1, final_sharpness: 1, seconds: 1, backend: 'cpu', initial_regime: null,
});

/**
 * Runs eta-0.1 (two instabilities: loss peaks at 40 and 100, λmax above 2/η = 20 from 36 to 41 and 96 to 101, its
 * peak 24 then 22 at 38 and 98, troughs 16 and 17 at 44 and 104), eta-0.05 (one, at 60) and a drop run (one).
 */
export function instabilitySectionsFor() {
  const runs = [runRow('eta-0.05', 0.05), runRow('eta-0.1', 0.1), runRow('drop', 0.1, 'drop')];
  const lambdaOf = (t: number) => {
    for (const [c, peak, trough] of [[40, 24, 16], [100, 22, 17]] as const) {
      if (t >= c - 4 && t <= c + 1) return t === c - 2 ? peak : 21;
      if (t === c + 4) return trough;
    }
    return 19;
  };
  const steps: StepsRow[] = runs.flatMap((r) =>
    Array.from({ length: 121 }, (_, t) => ({
      run: r.run, step: t, lr: r.eta, loss: Math.exp(-t / 100) * (1 + (Math.abs(t - 40) <= 4 || Math.abs(t - 100) <= 4 ? 0.5 : 0)),
      accuracy: null, test_loss: null, test_accuracy: null, grad_norm: 1, sharpness: r.run === 'eta-0.1' ? lambdaOf(t) : 1 / r.eta, sharpness_check: t % 20 === 0 ? (r.run === 'eta-0.1' ? lambdaOf(t) * 1.01 : 1 / r.eta) : null,
    })),
  );
  const event = (run: string, eta: number, index: number, c: number, peak: number, trough: number): InstabilitiesRow => ({
    run, eta, index, start: c - 5, peak: c, end: c + 5, loss_before: 0.5, peak_loss: 0.8, sharpness_before: 19, sharpness_peak: peak, sharpness_after: 19,
    heating_steps: 5, cooling_steps: 5, detector: 'relative', threshold: 0.1, up_crossing: c - 4, down_crossing: c + 2,
    sharpness_peak_step: c - 2, sharpness_trough: trough, sharpness_trough_step: c + 4, ratio_peak: (peak * eta) / 2, ratio_peak_step: c - 2,
    ratio_trough: (trough * eta) / 2, ratio_trough_step: c + 4,
  });
  const instabilities = [event('eta-0.1', 0.1, 1, 40, 24, 16), event('eta-0.1', 0.1, 2, 100, 22, 17), event('eta-0.05', 0.05, 1, 60, 42, 38), event('drop', 0.1, 1, 50, 25, 15)];
  const sensitivity: InstabilitySensitivityRow[] = [0.1, 0.5].flatMap((threshold, k) =>
    (['relative', 'absolute'] as const).map((detector) => ({
      detector, threshold, run: 'eta-0.1', eta: 0.1, seed: 0, count: detector === 'relative' && k === 0 ? 3 : 2,
      tau_peak: detector === 'relative' && k === 0 ? -1 : null, tau_trough: null, first_ratio_peak: 1.2, last_ratio_peak: 1.1,
    })),
  );
  const longHorizon: LongHorizonRow[] = [{
    run: 'eta-0.1', eta: 0.1, seed: 0, steps: 120, instabilities: 2, last_peak: 100, tail_from_index: 2, tail_slope_peak: null, tail_slope_trough: null,
    last_ratio_peak: 1.1, last_ratio_trough: 0.85, late_from: 60, late_instabilities: 1, late_ratio_median: 0.95, late_ratio_max: 1.1, late_check_median: 0.96,
  }];
  return { runs, steps, instabilities, sensitivity, longHorizon };
}
