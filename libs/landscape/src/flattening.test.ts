import { describe, expect, it } from 'vitest';
import type { TableRow } from '@lrscape/artifacts';
import { flatteningRows, spearman } from './flattening';

const run = (name: string, final_sharpness: number | null, schedule = 'constant', diverged = false): TableRow<'runs'> => ({
  run: name, eta: 0.2, schedule, seed: 0, steps: 100, diverged, final_loss: 0.1, final_sharpness, seconds: 1, backend: 'cpu',
});
const event = (name: string, index: number, start: number, sharpness_after: number | null): TableRow<'instabilities'> => ({
  run: name, eta: 0.2, index, start, peak: start + 5, end: start + 10, loss_before: 1, peak_loss: 2, sharpness_before: 10, sharpness_peak: 12, sharpness_after, heating_steps: 5, cooling_steps: 5,
});

describe('flatteningRows', () => {
  it('lists the sharpness after each instability along a run, and counts instabilities before each drop', () => {
    const rows = flatteningRows(
      [run('eta-0.2', 9), run('drop-a', 7, 'drop'), run('drop-b', 5, 'drop'), run('eta-0.5', null, 'constant', true)],
      [event('eta-0.2', 1, 10, 11), event('eta-0.2', 2, 50, 9.5), event('eta-0.2', 3, 90, null), event('drop-b', 1, 10, 8), event('drop-b', 2, 40, 7), event('drop-b', 3, 120, 6), event('eta-0.5', 1, 1, 3)],
      [{ run: 'drop-a', switchStep: 100 }, { run: 'drop-b', switchStep: 100 }],
    );
    expect(rows.filter((r) => r.kind === 'along_run' && r.run === 'eta-0.2').map((r) => [r.instabilities, r.sharpness])).toEqual([[1, 11], [2, 9.5]]);
    expect(rows.filter((r) => r.kind === 'drop')).toEqual([
      { run: 'drop-a', kind: 'drop', t_switch: 100, instabilities: 0, sharpness: 7 },
      { run: 'drop-b', kind: 'drop', t_switch: 100, instabilities: 2, sharpness: 5 },
    ]);
    expect(rows.some((r) => r.run === 'eta-0.5')).toBe(false);
  });
});

describe('spearman', () => {
  it('is ±1 for monotone relations, handles ties, and needs three points', () => {
    expect(spearman([1, 2, 3, 4], [10, 20, 30, 400])).toBeCloseTo(1, 12);
    expect(spearman([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    // ranks x = 1, 2.5, 2.5, 4; y = 1, 2, 3, 4 → ρ = 4.5 / sqrt(4.5 · 5)
    expect(spearman([1, 2, 2, 3], [1, 2, 3, 4])).toBeCloseTo(4.5 / Math.sqrt(4.5 * 5), 12);
    expect(spearman([1, 2], [2, 1])).toBeNull();
    expect(spearman([1, 1, 1], [1, 2, 3])).toBeNull();
  });
});
