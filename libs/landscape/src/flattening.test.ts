import { describe, expect, it } from 'vitest';
import type { FamilyRecord } from '@lrscape/train';
import { flatteningTables, type DropFamilySettings } from './flattening';

const settings: DropFamilySettings = {
  name: 'main', field: 'dropFamilies.0', parentEta: 0.1, controlEta: 0.02, etaLow: 0.01, matchedLoss: 0.08, maxSteps: 500, pinnedRatio: 0.8, controlMargin: 0.05,
};
type Continuation = FamilyRecord['continuations'][number];
const continuation = (id: string, overrides: Partial<Continuation>): Continuation => ({
  id, seed: 0, role: 'unstable', source: 'eta-0.1', etaHigh: 0.1, kind: 'before-instability', instability: 1, step: 300, instabilitiesBefore: 0,
  replayed: 0, status: 'converged', steps: 120, lossAtSwitch: 0.1, matched: { step: 420, sharpness: 50, testLoss: 0.07 }, sharpnessConverged: 50,
  maxSharpness: 51, finalLoss: 0.079, seconds: 1, ...overrides,
});
const record: FamilyRecord = {
  family: 'main',
  backend: 'cpu',
  seconds: 3,
  provenance: { 'slice.continue.main': 'abc' },
  seeds: [
    { seed: 0, parent: 'eta-0.1', control: 'eta-0.02', status: 'ok', reason: '', parentInstabilities: 5, controlInstabilities: 0, paired: [1, 2], skipped: [] },
    { seed: 1, parent: 'eta-0.1-s1', control: 'eta-0.02-s1', status: 'parent-diverged', reason: 'x: field `dropFamilies.0.parentEta`: diverged', parentInstabilities: 0, controlInstabilities: 0, paired: [], skipped: [] },
  ],
  continuations: [
    continuation('a', {}),
    // 2/η_lo = 200: λ 170 is r = 0.85 > 0.8.
    continuation('b', { matched: { step: 420, sharpness: 170, testLoss: null } }),
    continuation('c', { status: 'capped', matched: null, sharpnessConverged: null, steps: 500 }),
    continuation('d', { status: 'diverged', matched: null, sharpnessConverged: null, steps: 7, finalLoss: null }),
    continuation('e', { role: 'control', source: 'eta-0.02', matched: { step: 300, sharpness: 40, testLoss: 0.1 }, steps: 0 }),
  ],
};

describe('flatteningTables', () => {
  const { flattening, drop_families } = flatteningTables([{ settings, records: [record] }]);

  it('gives one row per continuation with r = λ(L*)/(2/η_lo), and says whether the verdict uses it', () => {
    expect(flattening.map((r) => [r.run, r.ratio_matched, r.use])).toEqual([
      ['a', 0.25, 'used'],
      ['b', 0.85, 'pinned'],
      ['c', null, 'capped'],
      ['d', null, 'diverged'],
      // L* met at the switch itself: the source run's λ, not the continuation's.
      ['e', 0.2, 'below-at-switch'],
    ]);
    expect(flattening[0]).toEqual({
      family: 'main', run: 'a', source: 'eta-0.1', role: 'unstable', seed: 0, kind: 'before-instability', instability: 1, t_switch: 300, instabilities_before: 0,
      eta_high: 0.1, eta_low: 0.01, loss_at_switch: 0.1, matched_loss: 0.08, step_matched: 420, sharpness_matched: 50, ratio_matched: 0.25,
      test_loss_matched: 0.07, sharpness_converged: 50, max_sharpness: 51, steps: 120, status: 'converged', use: 'used',
    });
  });

  it('gives one drop_families row per seed with its settings, status, reason and counts', () => {
    expect(drop_families.map((d) => [d.seed, d.status, d.continuations, d.reached, d.capped, d.diverged, d.pinned, d.paired])).toEqual([
      [0, 'ok', 5, 3, 1, 1, 1, 2],
      [1, 'parent-diverged', 0, 0, 0, 0, 0, 0],
    ]);
    expect(drop_families[1]).toMatchObject({ field: 'dropFamilies.0', parent: 'eta-0.1-s1', reason: 'x: field `dropFamilies.0.parentEta`: diverged', pinned_ratio: 0.8, control_margin: 0.05, eta_low: 0.01 });
  });

  it('is empty without drop families', () => {
    expect(flatteningTables([])).toEqual({ flattening: [], drop_families: [] });
  });
});
