import { describe, expect, it } from 'vitest';
import type { TableRow } from '@lrscape/artifacts';
import type { LearningRateSchedule } from '@lrscape/train';
import { atMatchedLoss, cycleEnds, cyclicRatio, cyclicTables, cyclicTrends, periodMismatch, type CyclicInputs, type CyclicRunInput, type CyclicSettings } from './cyclic';
import type { CheckpointEigenspace } from './shift';

// Periods spanning the same τ = 0.75: ratio 2 (0.05 → 0.1) has mean η 0.075, so T = 10; ratio 4 (0.025 → 0.1)
// has mean 0.0625, T = 12. The constant 0.1 reaches τ = 0.75k first at steps 8, 15, 23; the baseline 0.01 at 75k.
const R2: LearningRateSchedule = { kind: 'cyclic', etaLow: 0.05, etaHigh: 0.1, period: 10 };
const R4: LearningRateSchedule = { kind: 'cyclic', etaLow: 0.025, etaHigh: 0.1, period: 12 };
const C1: LearningRateSchedule = { kind: 'constant', eta: 0.1 };
const BASE: LearningRateSchedule = { kind: 'constant', eta: 0.01 };
const settings: CyclicSettings = { etaHigh: 0.1, ratios: [1, 2, 4], cycleTau: 0.75, cycles: 3, fromCycle: 2, matchedLoss: 0.1 };
const shift = { m: 1, minGap: 1.5 };

/** A 1-dimensional eigenspace at angle `angle` in the (e1, e2) plane: two such overlap by cos²(Δangle). */
const space = (step: number, angle: number, values: number[] = [2, 1]): CheckpointEigenspace => ({ step, vectors: [Float64Array.from([Math.cos(angle), Math.sin(angle), 0])], values });

describe('cycle ends', () => {
  it('are k·T for a cyclic run and the first step with τ ≥ k·cycleTau for a constant one, up to the last step', () => {
    expect(cycleEnds(R2, settings, 30)).toEqual([0, 10, 20, 30]);
    expect(cycleEnds(R2, settings, 25)).toEqual([0, 10, 20]);
    expect(cycleEnds(R4, settings, 100)).toEqual([0, 12, 24, 36]);
    // 0.1·t ≥ 0.75, 1.5, 2.25: t = 8, 15, 23 (τ = 0.8, 1.5, 2.3).
    expect(cycleEnds(C1, settings, 100)).toEqual([0, 8, 15, 23]);
    expect(cycleEnds(BASE, settings, 1000)).toEqual([0, 75, 150, 225]);
  });
  it('a period must span cycleTau: Σ η over T = 10 of 0.05 → 0.1 is 0.75, over T = 6 it is 0.45', () => {
    expect(periodMismatch(R2, 0.75)).toBeNull();
    expect(periodMismatch(R4, 0.75)).toBeNull();
    expect(periodMismatch(C1, 0.75)).toBeNull();
    expect(periodMismatch({ kind: 'cyclic', etaLow: 0.05, etaHigh: 0.1, period: 6 }, 0.75)).toMatch(/6 steps spans τ = 0\.450000/);
  });
  it('the ratio η_hi/η_lo of a run at η_hi (1 for the constant one), null for other runs', () => {
    expect(cyclicRatio(R4, 0.1)).toBeCloseTo(4, 12);
    expect(cyclicRatio(C1, 0.1)).toBe(1);
    expect(cyclicRatio(BASE, 0.1)).toBeNull();
    expect(cyclicRatio({ kind: 'cyclic', etaLow: 0.05, etaHigh: 0.2, period: 10 }, 0.1)).toBeNull();
  });
});

/** Loss 1/(1+t), λmax 10 + t, the test loss (twice the training loss) every 4 steps; η_t from the schedule. */
function stepsOf(schedule: LearningRateSchedule, last: number): TableRow<'steps'>[] {
  const lr = (t: number) => (schedule.kind === 'cyclic' ? schedule.etaLow + (schedule.etaHigh - schedule.etaLow) * (1 - Math.abs(1 - (2 * (t % schedule.period)) / schedule.period)) : schedule.kind === 'constant' ? schedule.eta : 0);
  return Array.from({ length: last + 1 }, (_, t) => ({
    run: '', step: t, lr: lr(t), loss: 1 / (1 + t), accuracy: null, test_loss: t % 4 === 0 ? 2 / (1 + t) : null, test_accuracy: null, grad_norm: null, sharpness: 10 + t, sharpness_check: null,
  }));
}

describe('atMatchedLoss', () => {
  it('reads λmax at the first step with loss ≤ L* and the test loss at the first test step with loss ≤ L*', () => {
    const at = atMatchedLoss(stepsOf(R2, 30), 0.1, R2);
    // 1/(1+t) ≤ 0.1 first at t = 9; η_9 = 0.05 + 0.05·0.2 = 0.06; τ_9 = 9·0.05 + 0.05·(0 + .2 + .4 + .6 + .8 + 1 + .8 + .6 + .4) = 0.69.
    expect(at.step_matched).toBe(9);
    expect(at.sharpness_matched).toBe(19);
    expect(at.lr_matched).toBeCloseTo(0.06, 12);
    expect(at.ratio_matched).toBeCloseTo((19 * 0.06) / 2, 12);
    expect(at.tau_matched).toBeCloseTo(0.69, 12);
    expect(at.test_step_matched).toBe(12);
    expect(at.train_loss_test_matched).toBeCloseTo(1 / 13, 12);
    expect(at.test_loss_matched).toBeCloseTo(2 / 13, 12);
    expect(at.notes).toEqual([]);
  });
  it('says why where L* is never reached or no λmax was sampled there', () => {
    expect(atMatchedLoss(stepsOf(R2, 30), 0.01, R2)).toMatchObject({ step_matched: null, sharpness_matched: null, test_loss_matched: null, notes: [expect.stringMatching(/never reaches L\* = 0\.01/)] });
    const sparse = stepsOf(R2, 30).map((s) => ({ ...s, sharpness: s.step % 10 === 0 ? s.sharpness : null }));
    expect(atMatchedLoss(sparse, 0.1, R2)).toMatchObject({ step_matched: 9, sharpness_matched: null, ratio_matched: null, notes: [expect.stringMatching(/no λmax sample at step 9/)] });
  });
});

const run = (slug: string, schedule: LearningRateSchedule, seed: number, steps: number, diverged = false): CyclicRunInput => ({ slug, schedule, seed, steps, diverged });
const matched = (runSlug: string, seed: number, tau: number, step: number, overlap: number, status: 'ok' | 'not-run' = 'ok'): TableRow<'matched_time'> => ({
  run: runSlug, baseline: seed === 0 ? 'eta-0.01' : 'eta-0.01-s1', eta: 0.1, seed, tau, status, reason: status === 'ok' ? '' : 'beyond the baseline', step,
  baseline_step: status === 'ok' ? Math.round(tau / 0.01) : null, tau_run: null, tau_baseline: null, m: 1, overlap: status === 'ok' ? overlap : null,
  cos_rms_angle: status === 'ok' ? Math.sqrt(overlap) : null, well_defined: status === 'ok' ? true : null,
});

/**
 * Seed 0: ratio 2's eigenspace turns by 0.1, 0.2, 0.3 rad over its three cycles; ratio 4 by 0.2, 0.4, 0.6 (its
 * cycle-2 start has a small gap: ill defined); ratio 1 by 0.05 each; the baseline by 0.01 each. Seed 1: ratio 4 diverged,
 * ratio 1 stops after two cycles.
 */
function study(): CyclicInputs {
  const runs = [
    run('cyclic-0.05-0.1-p10', R2, 0, 30), run('cyclic-0.025-0.1-p12', R4, 0, 36), run('eta-0.1', C1, 0, 23), run('eta-0.01', BASE, 0, 225),
    run('cyclic-0.05-0.1-p10-s1', R2, 1, 30), run('cyclic-0.025-0.1-p12-s1', R4, 1, 17, true), run('eta-0.1-s1', C1, 1, 20), run('eta-0.01-s1', BASE, 1, 225),
    // Not of the study: another η_hi, and a ratio that is not listed.
    run('cyclic-0.05-0.2-p10', { kind: 'cyclic', etaLow: 0.05, etaHigh: 0.2, period: 10 }, 0, 30), run('cyclic-0.0125-0.1-p14', { kind: 'cyclic', etaLow: 0.0125, etaHigh: 0.1, period: 14 }, 0, 42),
  ];
  const turning = (steps: number[], angles: number[], gapAt: number | null = null) => steps.map((s, i) => space(s, angles[i], s === gapAt ? [1.2, 1] : [2, 1]));
  const eigenspaces = new Map<string, CheckpointEigenspace[]>([
    ['cyclic-0.05-0.1-p10', turning([0, 10, 20, 30], [0, 0.1, 0.3, 0.6])],
    ['cyclic-0.025-0.1-p12', turning([0, 12, 24, 36], [0, 0.2, 0.6, 1.2], 12)],
    ['eta-0.1', turning([0, 8, 15, 23], [0, 0.05, 0.1, 0.15])],
    ['eta-0.01', turning([0, 75, 150, 225], [0, 0.01, 0.02, 0.03])],
    // Seed 1 lacks the eigenspace at ratio 2's last cycle end.
    ['cyclic-0.05-0.1-p10-s1', turning([0, 10, 20], [0, 0.1, 0.3])],
    ['eta-0.1-s1', turning([0, 8, 15], [0, 0.05, 0.1])],
    ['eta-0.01-s1', turning([0, 75, 150, 225], [0, 0.01, 0.02, 0.03])],
  ]);
  const steps = new Map(runs.map((r) => [r.slug, stepsOf(r.schedule, r.steps)]));
  const instabilities = [
    // Ratio 2 seed 0: loss peaks at 5 (cycle 1), 12 and 15 (cycle 2), 20 (cycle 3: a cycle is [start, end)).
    ...[5, 12, 15, 20].map((peak) => ({ run: 'cyclic-0.05-0.1-p10', peak })),
    ...[30].map((peak) => ({ run: 'cyclic-0.025-0.1-p12', peak })),
    ...[3, 9].map((peak) => ({ run: 'eta-0.1', peak })),
  ];
  const matchedTime = [
    matched('cyclic-0.05-0.1-p10', 0, 0.75, 10, 0.9), matched('cyclic-0.05-0.1-p10', 0, 1.5, 20, 0.8), matched('cyclic-0.05-0.1-p10', 0, 2.25, 30, 0.7),
    // Ratio 4 has no τ = 1.5 comparison; its τ = 2.25 one is not-run.
    matched('cyclic-0.025-0.1-p12', 0, 0.75, 12, 0.95), matched('cyclic-0.025-0.1-p12', 0, 2.25, 36, 0, 'not-run'),
    matched('eta-0.1', 0, 0.75, 8, 0.6), matched('eta-0.1', 0, 1.5, 15, 0.5), matched('eta-0.1', 0, 2.25, 23, 0.4),
    matched('cyclic-0.05-0.1-p10-s1', 1, 1.5, 20, 0.85), matched('cyclic-0.05-0.1-p10-s1', 1, 2.25, 30, 0.75),
  ];
  return { runs, steps, instabilities, matchedTime, eigenspaces };
}

describe('cyclicTables', () => {
  const tables = cyclicTables(study(), settings, shift);
  const byRun = (slug: string) => tables.cyclic.find((r) => r.run === slug)!;
  const cos2 = (x: number) => Math.cos(x) ** 2;

  it('takes the listed ratios at η_hi, the constant η_hi run as ratio 1 and the matched-time baselines, in ratio then seed order', () => {
    expect(tables.cyclic.map((r) => [r.run, r.role, r.ratio])).toEqual([
      ['eta-0.1', 'constant', 1], ['eta-0.1-s1', 'constant', 1],
      ['cyclic-0.05-0.1-p10', 'cyclic', 2], ['cyclic-0.05-0.1-p10-s1', 'cyclic', 2],
      ['cyclic-0.025-0.1-p12', 'cyclic', 4], ['cyclic-0.025-0.1-p12-s1', 'cyclic', 4],
      ['eta-0.01', 'baseline', null], ['eta-0.01-s1', 'baseline', null],
    ]);
    expect(tables.cyclic_cycles.filter((c) => c.run === 'cyclic-0.05-0.1-p10').map((c) => [c.cycle, c.start_step, c.end_step, c.tau_start, c.tau_end, c.compared])).toEqual([
      [1, 0, 10, 0, 0.75, false], [2, 10, 20, 0.75, 1.5, true], [3, 20, 30, 1.5, 2.25, true],
    ]);
  });

  it('exploration: 1 − the mean overlap of the eigenspaces at consecutive cycle ends, from fromCycle on', () => {
    const r2 = byRun('cyclic-0.05-0.1-p10');
    expect(tables.cyclic_cycles.filter((c) => c.run === r2.run).map((c) => c.overlap)).toEqual([cos2(0.1), cos2(0.2), cos2(0.3)].map((v) => expect.closeTo(v, 12)));
    expect(r2.overlap_cycle).toBeCloseTo((cos2(0.2) + cos2(0.3)) / 2, 12);
    expect(r2.exploration).toBeCloseTo(1 - (cos2(0.2) + cos2(0.3)) / 2, 12);
    // m = 1: the RMS principal angle is the angle itself.
    expect(r2.cos_rms_cycle).toBeCloseTo((Math.cos(0.2) + Math.cos(0.3)) / 2, 12);
    expect(r2).toMatchObject({ status: 'ok', reason: '', cycles: 3, compared_cycles: 2, ill_defined_cycles: 0, m: 1, period: 10, eta_low: 0.05, eta_high: 0.1 });
    const r4 = byRun('cyclic-0.025-0.1-p12');
    expect(r4.exploration).toBeCloseTo(1 - (cos2(0.4) + cos2(0.6)) / 2, 12);
    // λ1/λ2 = 1.2 < minGap at step 12, the start of cycle 2.
    expect(r4.ill_defined_cycles).toBe(1);
    expect(byRun('eta-0.1').exploration).toBeCloseTo(1 - cos2(0.05), 12);
    expect(byRun('eta-0.01').exploration).toBeCloseTo(1 - cos2(0.01), 12);
  });

  it('overlap to the baseline: the matched_time overlap at the compared cycle ends, with the reason where one is missing', () => {
    expect(byRun('cyclic-0.05-0.1-p10').overlap_baseline).toBeCloseTo(0.75, 12);
    expect(byRun('cyclic-0.05-0.1-p10').cos_rms_baseline).toBeCloseTo((Math.sqrt(0.8) + Math.sqrt(0.7)) / 2, 12);
    expect(byRun('eta-0.1').overlap_baseline).toBeCloseTo(0.45, 12);
    const r4 = byRun('cyclic-0.025-0.1-p12');
    expect(r4.overlap_baseline).toBeNull();
    expect(r4.reason).toMatch(/baseline overlap missing in 2 of 2 compared cycles/);
    expect(tables.cyclic_cycles.find((c) => c.run === r4.run && c.cycle === 2)!.reason).toMatch(/no matched_time comparison at step 24 \(matchedTime\.taus lacks τ = 1\.5/);
    expect(tables.cyclic_cycles.find((c) => c.run === r4.run && c.cycle === 3)!.reason).toMatch(/matched_time at τ = 2\.25: beyond the baseline/);
    expect(byRun('eta-0.01')).toMatchObject({ overlap_baseline: null, cos_rms_baseline: null, reason: '' });
  });

  it('instabilities per cycle: loss peaks in [start, end) of each compared cycle', () => {
    expect(tables.cyclic_cycles.filter((c) => c.run === 'cyclic-0.05-0.1-p10').map((c) => c.instabilities)).toEqual([1, 2, 1]);
    expect(byRun('cyclic-0.05-0.1-p10')).toMatchObject({ instabilities: 3, instabilities_per_cycle: 1.5 });
    // The constant run's peaks (3, 9) lie in cycles 1 ([0, 8)) and 2 ([8, 15)).
    expect(byRun('eta-0.1')).toMatchObject({ instabilities: 1, instabilities_per_cycle: 0.5 });
    expect(byRun('eta-0.01')).toMatchObject({ instabilities: 0, instabilities_per_cycle: 0 });
  });

  it('λmax and the test loss at matched loss L*', () => {
    expect(byRun('cyclic-0.05-0.1-p10')).toMatchObject({ matched_loss: 0.1, step_matched: 9, sharpness_matched: 19, test_step_matched: 12 });
    expect(byRun('eta-0.1').ratio_matched).toBeCloseTo((19 * 0.1) / 2, 12);
  });

  it('not-run where the run diverged or ends before the cycles; partial rows say what is missing', () => {
    expect(byRun('cyclic-0.025-0.1-p12-s1')).toMatchObject({ status: 'not-run', reason: 'diverged at step 17', exploration: null, instabilities: null, sharpness_matched: null, step_matched: null });
    expect(byRun('eta-0.1-s1')).toMatchObject({ status: 'not-run', exploration: null, cycles: 2 });
    expect(byRun('eta-0.1-s1').reason).toMatch(/ends at step 20 after 2 of 3 cycles/);
    expect(tables.cyclic_cycles.filter((c) => c.run === 'eta-0.1-s1').map((c) => c.status)).toEqual(['not-run', 'not-run', 'not-run']);
    const partial = byRun('cyclic-0.05-0.1-p10-s1');
    expect(partial.status).toBe('ok');
    expect(partial.exploration).toBeCloseTo(1 - cos2(0.2), 12);
    expect(partial.overlap_baseline).toBeCloseTo(0.8, 12);
    expect(partial.reason).toMatch(/cycle-end overlap missing in 1 of 2 compared cycles.*cycle 3: no stored eigenvectors at step 30/);
  });

  it('is empty without a study', () => {
    expect(cyclicTables(study(), null, shift)).toEqual({ cyclic: [], cyclic_cycles: [], cyclic_trends: [] });
  });

  it('a cyclic run whose period does not span cycleTau is not-run, naming both', () => {
    const inputs = study();
    const odd = cyclicTables({ ...inputs, runs: [run('cyclic-0.05-0.1-p12', { kind: 'cyclic', etaLow: 0.05, etaHigh: 0.1, period: 12 }, 0, 36)] }, settings, shift);
    expect(odd.cyclic[0]).toMatchObject({ status: 'not-run', reason: expect.stringMatching(/period of 12 steps spans τ = 0\.900000, not the study's cycleTau = 0\.75/) });
  });
});

describe('cyclicTrends', () => {
  const row = (ratio: number | null, seed: number, exploration: number | null, role: TableRow<'cyclic'>['role'] = ratio === 1 ? 'constant' : 'cyclic'): TableRow<'cyclic'> => ({
    run: `r${ratio}-s${seed}`, role, ratio, eta_high: 0.1, eta_low: ratio ? 0.1 / ratio : 0.01, period: null, seed, status: 'ok', reason: '', cycle_tau: 1, cycles: 3, from_cycle: 2, compared_cycles: 2, m: 1,
    exploration, overlap_cycle: exploration === null ? null : 1 - exploration, cos_rms_cycle: null, ill_defined_cycles: 0, overlap_baseline: null, cos_rms_baseline: null,
    instabilities: 2, instabilities_per_cycle: 1, matched_loss: 0.1, step_matched: null, tau_matched: null, lr_matched: null, sharpness_matched: null, ratio_matched: null,
    test_step_matched: null, train_loss_test_matched: null, test_loss_matched: null,
  });
  const trend = (rows: TableRow<'cyclic'>[]) => cyclicTrends(rows).find((t) => t.metric === 'exploration')!;

  it('rises where every seed’s Kendall τ is 1 (zero spread), falls where every one is −1', () => {
    const rising = [0, 1, 2].flatMap((seed) => [1, 2, 4, 8].map((ratio, i) => row(ratio, seed, 0.1 * (i + 1) + 0.01 * seed)));
    expect(trend([...rising, row(null, 0, 0.001, 'baseline'), row(null, 1, 0.003, 'baseline')])).toMatchObject({
      metric: 'exploration', seeds: 3, tau: 1, tau_lower: 1, tau_upper: 1, direction: 'rises', reason: '', ratio_low: 1, ratio_high: 8,
      mean_low: expect.closeTo(0.11, 12), mean_high: expect.closeTo(0.41, 12), baseline_mean: expect.closeTo(0.002, 12),
    });
    const falling = rising.map((r) => ({ ...r, exploration: 1 - r.exploration! }));
    expect(trend(falling)).toMatchObject({ tau: -1, direction: 'falls' });
  });

  it('unclear where the seeds disagree: τ = 1 and 2/3 (one swapped pair of four points), interval clamped to [−1, 1]', () => {
    const seed0 = [1, 2, 4, 8].map((ratio, i) => row(ratio, 0, i));
    const seed1 = [1, 2, 4, 8].map((ratio, i) => row(ratio, 1, [1, 0, 2, 3][i]));
    // Seed 1: the pair (1, 2) discordant, the other 5 concordant: τ = (5 − 1)/6 = 2/3. Mean 5/6, sd (1/3)/√2,
    // half width t(0.975, 1)·sd/√2 = 12.706/6 ≈ 2.1: the interval runs past both ends.
    expect(trend([...seed0, ...seed1])).toMatchObject({ seeds: 2, tau: expect.closeTo(5 / 6, 12), tau_lower: -1, tau_upper: 1, direction: 'unclear' });
  });

  it('rises where the interval over three seeds (τ = 1, 1, 2/3) excludes 0: lower = (8 − t(0.975, 2))/9', () => {
    const seed1 = [1, 2, 4, 8].map((ratio, i) => row(ratio, 1, [1, 0, 2, 3][i]));
    const rows = [...[0, 2].flatMap((seed) => [1, 2, 4, 8].map((ratio, i) => row(ratio, seed, i))), ...seed1];
    // Mean 8/9, sd √3/9, half width t·(√3/9)/√3 = t/9 with t = t(0.975, 2) = 4.302652729911275 (scipy.stats.t.ppf).
    expect(trend(rows)).toMatchObject({ seeds: 3, tau: expect.closeTo(8 / 9, 12), tau_lower: expect.closeTo((8 - 4.302652729911275) / 9, 9), tau_upper: 1, direction: 'rises' });
  });

  it('leaves out seeds with fewer than 3 ratios with a value, and is not-run with fewer than 2 seeds', () => {
    const rows = [...[1, 2, 4].map((ratio, i) => row(ratio, 0, i)), row(1, 1, 0), row(2, 1, 1), row(4, 1, null)];
    expect(trend(rows)).toMatchObject({ seeds: 1, tau: 1, tau_lower: null, direction: 'not-run', reason: expect.stringMatching(/1 seed with the metric at 3 or more ratios/) });
    expect(trend([...rows, ...[1, 2, 4].map((ratio, i) => ({ ...row(ratio, 2, i), status: 'not-run' as const }))]).seeds).toBe(1);
  });
});
