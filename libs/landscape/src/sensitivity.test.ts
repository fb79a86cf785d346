import { describe, expect, it } from 'vitest';
import type { TableRow } from '@lrscape/artifacts';
import { powerCheckRows } from './power-check';
import { emptySweepFields, instabilityTables } from './sensitivity';
import { instabilityRow, runRow, stepRow } from './testing/rows';

const decay = (t: number) => Math.exp(-t / 200);
/** Triangular spikes (±6 steps) of relative heights 2, 0.3 and 1 at steps 60, 150, 240; λmax peaks 26, 24, 22 there (2/η = 20). */
const SPIKES = [
  { at: 60, height: 2, lambda: 26 },
  { at: 150, height: 0.3, lambda: 24 },
  { at: 240, height: 1, lambda: 22 },
];
function steps(run: string): TableRow<'steps'>[] {
  return Array.from({ length: 300 }, (_, t) => {
    const spike = SPIKES.find((s) => Math.abs(t - s.at) <= 6);
    const bump = spike ? spike.height * Math.max(0, 1 - Math.abs(t - spike.at) / 6) : 0;
    const sharpness = spike && Math.abs(t - spike.at) <= 2 ? spike.lambda : 15;
    return stepRow({ run, step: t, lr: 0.1, loss: decay(t) * (1 + bump), sharpness });
  });
}

describe('instabilityTables', () => {
  const settings = { primary: { kind: 'relative' as const, threshold: 0.1 }, sweep: { relative: [0.05, 0.5], absolute: [0.1, 0.2] }, peakFollowsSharpness: false };
  const run = runRow({ run: 'eta-0.1', eta: 0.1, steps: 299 });
  const { instabilities, instability_sensitivity } = instabilityTables([run], new Map([['eta-0.1', steps('eta-0.1')]]), settings);

  it('writes the primary detector’s rows with the detector named', () => {
    expect(instabilities.map((e) => [e.detector, e.threshold, e.peak, e.ratio_peak])).toEqual([
      ['relative', 0.1, 60, 1.3],
      ['relative', 0.1, 150, 1.2],
      ['relative', 0.1, 240, 1.1],
    ]);
  });

  it('one sensitivity row per (detector, threshold, run), with the count and τ', () => {
    // The 0.3 spike rises 26% over its minimum (1.3·e^(−6/200)) and has prominence ≈ 0.127 in loss units (peak
    // 1.3·e^(−0.75) over its left base e^(−0.72)): under relative 0.5 and absolute 0.2 it is not counted.
    expect(instability_sensitivity.map((r) => [r.detector, r.threshold, r.count, r.tau_peak])).toEqual([
      ['relative', 0.05, 3, -1],
      ['relative', 0.5, 2, null],
      ['absolute', 0.1, 3, -1],
      ['absolute', 0.2, 2, null],
    ]);
    expect(instability_sensitivity[0]).toMatchObject({ run: 'eta-0.1', eta: 0.1, seed: 0, first_ratio_peak: 1.3, last_ratio_peak: 1.1 });
  });

  it('names empty sweep lists', () => {
    expect(emptySweepFields({ sweep: { relative: [0.1], absolute: [] } })).toEqual(['analysis.instabilities.sweep.absolute']);
    expect(emptySweepFields(settings)).toEqual([]);
  });
});

describe('powerCheckRows', () => {
  it('relative error of the power estimate against Lanczos, inside (start → recovery) and outside the instabilities', () => {
    const run = runRow({ run: 'a', eta: 0.1 });
    const rows = [
      stepRow({ run: 'a', step: 0, lr: 0.1, sharpness: 10, sharpness_check: 10 }),
      stepRow({ run: 'a', step: 10, lr: 0.1, sharpness: 9, sharpness_check: 10 }),
      stepRow({ run: 'a', step: 20, lr: 0.1, sharpness: 16, sharpness_check: 20 }), // inside [15, 25]
      stepRow({ run: 'a', step: 25, lr: 0.1, sharpness: 19, sharpness_check: 20 }), // inside, at the recovery step
      stepRow({ run: 'a', step: 30, lr: 0.1, sharpness: 20, sharpness_check: null }),
      stepRow({ run: 'a', step: 40, lr: 0.1, sharpness: 10.2, sharpness_check: 10 }),
    ];
    const power = powerCheckRows([run, runRow({ run: 'unchecked', eta: 0.1 })], new Map([['a', rows]]), [instabilityRow({ run: 'a', index: 1, start: 15, end: 25 })]);
    expect(power).toEqual([
      { run: 'a', eta: 0.1, phase: 'inside', checks: 2, median_rel_error: expect.closeTo(0.125, 12), max_rel_error: expect.closeTo(0.2, 12) },
      { run: 'a', eta: 0.1, phase: 'outside', checks: 3, median_rel_error: expect.closeTo(0.02, 12), max_rel_error: expect.closeTo(0.1, 12) },
    ]);
  });
});
