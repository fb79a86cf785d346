/** Table rows for this lib's tests, every column filled with a plain default (not exported from the index). */
import type { TableRow } from '@lrscape/artifacts';

/** An `instabilities` row of the primary relative detector; override what a test is about. */
export function instabilityRow(overrides: Partial<TableRow<'instabilities'>> & Pick<TableRow<'instabilities'>, 'run' | 'index'>): TableRow<'instabilities'> {
  return {
    eta: 0.2, start: 0, peak: 1, end: 2, loss_before: 1, peak_loss: 2, sharpness_before: 9, sharpness_peak: 11, sharpness_after: 8, heating_steps: 1, cooling_steps: 1,
    detector: 'relative', threshold: 0.1, up_crossing: null, down_crossing: null, sharpness_peak_step: null, sharpness_trough: null, sharpness_trough_step: null,
    ratio_peak: null, ratio_peak_step: null, ratio_trough: null, ratio_trough_step: null,
    ...overrides,
  };
}

/** A `runs` row of a constant-η run. */
export function runRow(overrides: Partial<TableRow<'runs'>> & Pick<TableRow<'runs'>, 'run' | 'eta'>): TableRow<'runs'> {
  return { schedule: 'constant', seed: 0, steps: 10, diverged: false, final_loss: 0.1, final_sharpness: 1, seconds: 1, backend: 'cpu', initial_regime: null, ...overrides };
}

/** A `steps` row. */
export function stepRow(overrides: Partial<TableRow<'steps'>> & Pick<TableRow<'steps'>, 'run' | 'step' | 'lr'>): TableRow<'steps'> {
  return { loss: 1, accuracy: null, test_loss: null, test_accuracy: null, grad_norm: 1, sharpness: null, sharpness_check: null, ...overrides };
}
