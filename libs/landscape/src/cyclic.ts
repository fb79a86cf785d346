/**
 * Open question 3 of the paper: how does the ratio η_hi/η_lo of a cyclic schedule trade exploration against
 * exploitation? (docs/architecture.md, "Science definitions as implemented", "Cyclic ratio".)
 *
 * The study is fixed by the config (analysis.cyclic): the cyclic runs at one unstable η_hi, one ratio each, the
 * constant η_hi run as ratio 1, and each seed's matched-time baseline as the stable reference. Every period spans
 * the same gradient-flow time cycleTau = Σ η over one period, so cycle k ends at τ = k·cycleTau in every run
 * (the mean η differs by ratio: a fixed period in steps would compare cycles of different length in τ). Per run:
 *
 * - exploration: 1 − the mean overlap s between the full Hessian's top-m eigenspaces at the two ends of each
 *   compared cycle (consecutive cycle ends, where η is back at η_lo);
 * - the overlap to the baseline at the cycle ends (matched τ), read from the matched_time rows;
 * - instabilities per cycle (the primary detector's loss peaks inside the cycle);
 * - at matched loss L* (the first step with loss ≤ L*): λmax, and the test loss at the first test step there.
 *
 * The trend of each metric against the ratio is a per-seed Kendall τ over the ratios, summarised by a t-interval
 * over seeds (seeds are the independent units; with 3–5 of them a bootstrap covers poorly).
 */
import type { TableRow } from '@lrscape/artifacts';
import { cumulativeLearningRate, firstStepAtTime, sameLearningRate, type LearningRateSchedule } from '@lrscape/train';
import { eigenspaceOverlap, type CheckpointEigenspace, type ShiftSettings } from './shift';
import { kendallTau, signVerdict, tInterval } from './statistics';

/** The study as configured (analysis.cyclic). */
export interface CyclicSettings {
  /** η_hi of every cyclic run of the study, and η of the constant run that stands for ratio 1. */
  etaHigh: number;
  /** η_hi/η_lo of the compared runs; 1 is the constant η_hi run. */
  ratios: readonly number[];
  /** Gradient-flow time of one cycle, τ(T) = Σ_{s<T} η_s: cycle k ends at τ = k·cycleTau. */
  cycleTau: number;
  /** Cycles followed per run. */
  cycles: number;
  /** The first cycle the per-run means take (1-based); the first cycle starts at θ_0. */
  fromCycle: number;
  /** L*: the training loss at which λmax and the test loss are read. */
  matchedLoss: number;
}

/** A run as the study needs it (the aggregate's MatchedTimeRun fits). */
export interface CyclicRunInput {
  slug: string;
  schedule: LearningRateSchedule;
  seed: number;
  /** The last step training reached. */
  steps: number;
  diverged: boolean;
}

export interface CyclicInputs {
  runs: readonly CyclicRunInput[];
  steps: ReadonlyMap<string, readonly Pick<TableRow<'steps'>, 'step' | 'lr' | 'loss' | 'test_loss' | 'sharpness'>[]>;
  instabilities: readonly Pick<TableRow<'instabilities'>, 'run' | 'peak'>[];
  matchedTime: readonly TableRow<'matched_time'>[];
  /** Each run's full-Hessian eigenspaces (full and light checkpoints alike), by slug. */
  eigenspaces: ReadonlyMap<string, readonly CheckpointEigenspace[]>;
}

export interface CyclicTables {
  cyclic: TableRow<'cyclic'>[];
  cyclic_cycles: TableRow<'cyclic_cycles'>[];
  cyclic_trends: TableRow<'cyclic_trends'>[];
}

type Role = TableRow<'cyclic'>['role'];

/** η_hi/η_lo of a run of the study at etaHigh (1 for the constant etaHigh run), null for any other run. */
export function cyclicRatio(schedule: LearningRateSchedule, etaHigh: number): number | null {
  if (schedule.kind === 'constant') return sameLearningRate(schedule.eta, etaHigh) ? 1 : null;
  if (schedule.kind === 'cyclic' && sameLearningRate(schedule.etaHigh, etaHigh)) return schedule.etaHigh / schedule.etaLow;
  return null;
}

/**
 * The steps at which cycles 0…cycles end (cycle 0's end is step 0), up to the run's last step: k·T for a cyclic
 * run, the first step with τ ≥ k·cycleTau otherwise (a constant η has no cycle of its own; at matched τ it is
 * compared over the same gradient-flow times).
 */
export function cycleEnds(schedule: LearningRateSchedule, settings: Pick<CyclicSettings, 'cycleTau' | 'cycles'>, lastStep: number): number[] {
  const ends: number[] = [];
  for (let k = 0; k <= settings.cycles; k++) {
    const step = schedule.kind === 'cyclic' ? k * schedule.period : firstStepAtTime(schedule, k * settings.cycleTau, lastStep);
    if (step === null || step > lastStep) break;
    ends.push(step);
  }
  return ends;
}

/** Why a cyclic run's period does not fit the study (its cycle does not span cycleTau), or null. */
export function periodMismatch(schedule: LearningRateSchedule, cycleTau: number): string | null {
  if (schedule.kind !== 'cyclic') return null;
  const tau = cumulativeLearningRate(schedule, schedule.period);
  return sameLearningRate(tau, cycleTau) ? null : `its period of ${schedule.period} steps spans τ = ${tau.toPrecision(6)}, not the study's cycleTau = ${cycleTau}`;
}

/** The first step with loss ≤ L* (and the first such step with a test loss): λmax and the test loss there. */
export function atMatchedLoss(steps: readonly Pick<TableRow<'steps'>, 'step' | 'lr' | 'loss' | 'test_loss' | 'sharpness'>[], matchedLoss: number, schedule: LearningRateSchedule) {
  const sorted = [...steps].sort((a, b) => a.step - b.step);
  const reached = (s: (typeof sorted)[number]) => s.loss !== null && Number.isFinite(s.loss) && s.loss <= matchedLoss;
  const first = sorted.find(reached);
  const test = sorted.find((s) => reached(s) && s.test_loss !== null);
  const notes: string[] = [];
  if (!first) notes.push(`the loss never reaches L* = ${matchedLoss}`);
  else if (first.sharpness === null) notes.push(`no λmax sample at step ${first.step}, where the loss first reaches L* (training.sharpnessEvery)`);
  if (first && !test) notes.push(`no test evaluation at or after step ${first.step} with the loss ≤ L* (training.testEvery)`);
  const sharpness = first?.sharpness ?? null;
  return {
    step_matched: first?.step ?? null,
    tau_matched: first ? cumulativeLearningRate(schedule, first.step) : null,
    lr_matched: first?.lr ?? null,
    sharpness_matched: sharpness,
    ratio_matched: first && sharpness !== null ? (sharpness * first.lr) / 2 : null,
    test_step_matched: test?.step ?? null,
    train_loss_test_matched: test?.loss ?? null,
    test_loss_matched: test?.test_loss ?? null,
    notes,
  };
}

const mean = (values: readonly number[]) => (values.length ? values.reduce((s, v) => s + v, 0) / values.length : null);

interface StudyRun {
  run: CyclicRunInput;
  role: Role;
  ratio: number | null;
}

/** The runs of the study: every cyclic run at etaHigh with a listed ratio, the constant etaHigh run (if 1 is listed), the baselines. */
function studyRuns(inputs: CyclicInputs, settings: CyclicSettings): StudyRun[] {
  const chosen: StudyRun[] = [];
  for (const run of inputs.runs) {
    const ratio = cyclicRatio(run.schedule, settings.etaHigh);
    const listed = ratio !== null ? settings.ratios.find((r) => sameLearningRate(r, ratio)) : undefined;
    if (listed !== undefined) chosen.push({ run, role: run.schedule.kind === 'constant' ? 'constant' : 'cyclic', ratio: listed });
  }
  // The baselines are the matched-time comparisons' own (one per seed), so that both use the same run.
  const seeds = new Set(chosen.map((c) => c.run.seed));
  const baselines = new Set(inputs.matchedTime.filter((r) => seeds.has(r.seed)).map((r) => r.baseline));
  for (const run of inputs.runs) if (baselines.has(run.slug) && !chosen.some((c) => c.run.slug === run.slug)) chosen.push({ run, role: 'baseline', ratio: null });
  return chosen.sort((a, b) => (a.ratio ?? Infinity) - (b.ratio ?? Infinity) || a.run.seed - b.run.seed);
}

/** The study's tables; all empty when the experiment has no study (settings null). */
export function cyclicTables(inputs: CyclicInputs, settings: CyclicSettings | null, shift: ShiftSettings): CyclicTables {
  if (!settings) return { cyclic: [], cyclic_cycles: [], cyclic_trends: [] };
  const cyclic: TableRow<'cyclic'>[] = [];
  const cycles: TableRow<'cyclic_cycles'>[] = [];
  for (const study of studyRuns(inputs, settings)) {
    const { row, perCycle } = studyRow(study, inputs, settings, shift);
    cyclic.push(row);
    cycles.push(...perCycle);
  }
  return { cyclic, cyclic_cycles: cycles, cyclic_trends: cyclicTrends(cyclic) };
}

function studyRow(study: StudyRun, inputs: CyclicInputs, settings: CyclicSettings, shift: ShiftSettings): { row: TableRow<'cyclic'>; perCycle: TableRow<'cyclic_cycles'>[] } {
  const { run, role, ratio } = study;
  const { schedule } = run;
  const etaHigh = schedule.kind === 'constant' ? schedule.eta : schedule.etaHigh;
  const etaLow = schedule.kind === 'constant' ? schedule.eta : schedule.etaLow;
  // A diverged run's last recorded step is the non-finite one.
  const lastStep = run.diverged ? run.steps - 1 : run.steps;
  const ends = cycleEnds(schedule, settings, lastStep);
  const completed = Math.max(0, ends.length - 1);
  const notes: string[] = [];
  let blocked: string | null = null;
  if (run.diverged) blocked = `diverged at step ${run.steps}`;
  else if (completed < settings.cycles) blocked = `ends at step ${run.steps} after ${completed} of ${settings.cycles} cycles (τ = ${cumulativeLearningRate(schedule, lastStep).toPrecision(4)})`;
  else blocked = periodMismatch(schedule, settings.cycleTau);

  const spaces = new Map((inputs.eigenspaces.get(run.slug) ?? []).map((e) => [e.step, e]));
  const matched = new Map(inputs.matchedTime.filter((r) => r.run === run.slug && r.step !== null).map((r) => [r.step!, r]));
  const peaks = inputs.instabilities.filter((e) => e.run === run.slug).map((e) => e.peak);
  const perCycle: TableRow<'cyclic_cycles'>[] = [];
  for (let k = 1; k <= settings.cycles; k++) {
    const start = ends[k - 1] ?? null;
    const end = ends[k] ?? null;
    const base = {
      run: run.slug, role, ratio, seed: run.seed, cycle: k, compared: k >= settings.fromCycle,
      tau_start: (k - 1) * settings.cycleTau, tau_end: k * settings.cycleTau, start_step: start, end_step: end,
    };
    if (blocked !== null || start === null || end === null) {
      perCycle.push({ ...base, status: 'not-run', reason: blocked ?? `the run ends before cycle ${k} does`, instabilities: null, overlap: null, cos_rms_angle: null, well_defined: null, baseline_step: null, overlap_baseline: null, cos_rms_baseline: null });
      continue;
    }
    const reasons: string[] = [];
    const [a, b] = [spaces.get(start), spaces.get(end)];
    const overlap = a && b ? eigenspaceOverlap(a, b, shift) : null;
    if (!overlap) reasons.push(`no stored eigenvectors at step ${[a ? null : start, b ? null : end].filter((s) => s !== null).join(' and ')} (a light checkpoint at each cycle end comes from matchedTime.taus)`);
    const versus = matched.get(end);
    if (role !== 'baseline') {
      if (!versus) reasons.push(`no matched_time comparison at step ${end} (matchedTime.taus lacks τ = ${k * settings.cycleTau}, or there is no baseline)`);
      else if (versus.status !== 'ok') reasons.push(`matched_time at τ = ${versus.tau}: ${versus.reason}`);
    }
    const ok = versus?.status === 'ok' && role !== 'baseline';
    perCycle.push({
      ...base, status: 'ok', reason: reasons.join('; '),
      instabilities: peaks.filter((p) => p >= start && p < end).length,
      overlap: overlap?.overlap ?? null, cos_rms_angle: overlap?.cosRms ?? null, well_defined: overlap?.wellDefined ?? null,
      baseline_step: ok ? versus.baseline_step : null, overlap_baseline: ok ? versus.overlap : null, cos_rms_baseline: ok ? versus.cos_rms_angle : null,
    });
  }

  const compared = perCycle.filter((c) => c.compared && c.status === 'ok');
  const values = (pick: (c: TableRow<'cyclic_cycles'>) => number | null) => compared.map(pick).filter((v): v is number => v !== null);
  const overlaps = values((c) => c.overlap);
  const cosRms = values((c) => c.cos_rms_angle);
  const baseline = values((c) => c.overlap_baseline);
  const baselineCos = values((c) => c.cos_rms_baseline);
  const counts = values((c) => c.instabilities);
  if (blocked === null) {
    if (compared.length === 0) notes.push(`no cycle from fromCycle = ${settings.fromCycle} to ${settings.cycles}`);
    if (overlaps.length < compared.length) notes.push(`cycle-end overlap missing in ${compared.length - overlaps.length} of ${compared.length} compared cycles`);
    if (role !== 'baseline' && baseline.length < compared.length) notes.push(`baseline overlap missing in ${compared.length - baseline.length} of ${compared.length} compared cycles`);
    const firstMissing = compared.find((c) => c.reason !== '');
    if (firstMissing) notes.push(`cycle ${firstMissing.cycle}: ${firstMissing.reason}`);
  }
  const matchedLoss = blocked === null ? atMatchedLoss(inputs.steps.get(run.slug) ?? [], settings.matchedLoss, schedule) : null;
  if (matchedLoss) notes.push(...matchedLoss.notes);
  const overlapMean = mean(overlaps);
  const row: TableRow<'cyclic'> = {
    run: run.slug, role, ratio, eta_high: etaHigh, eta_low: etaLow, period: schedule.kind === 'cyclic' ? schedule.period : null, seed: run.seed,
    status: blocked === null ? 'ok' : 'not-run', reason: blocked ?? notes.join('; '),
    cycle_tau: settings.cycleTau, cycles: Math.min(completed, settings.cycles), from_cycle: settings.fromCycle, compared_cycles: compared.length, m: shift.m,
    exploration: overlapMean === null ? null : 1 - overlapMean, overlap_cycle: overlapMean, cos_rms_cycle: mean(cosRms),
    ill_defined_cycles: compared.filter((c) => c.well_defined === false).length,
    overlap_baseline: role === 'baseline' ? null : mean(baseline), cos_rms_baseline: role === 'baseline' ? null : mean(baselineCos),
    instabilities: blocked === null && compared.length ? counts.reduce((s, v) => s + v, 0) : null,
    instabilities_per_cycle: blocked === null ? mean(counts) : null,
    matched_loss: settings.matchedLoss,
    step_matched: matchedLoss?.step_matched ?? null, tau_matched: matchedLoss?.tau_matched ?? null, lr_matched: matchedLoss?.lr_matched ?? null,
    sharpness_matched: matchedLoss?.sharpness_matched ?? null, ratio_matched: matchedLoss?.ratio_matched ?? null,
    test_step_matched: matchedLoss?.test_step_matched ?? null, train_loss_test_matched: matchedLoss?.train_loss_test_matched ?? null,
    test_loss_matched: matchedLoss?.test_loss_matched ?? null,
  };
  return { row, perCycle };
}

/** The metrics of `cyclic` whose trend against the ratio the finding states, in the order it states them. */
export const CYCLIC_METRICS = ['exploration', 'overlap_baseline', 'instabilities_per_cycle', 'sharpness_matched', 'test_loss_matched'] as const satisfies readonly TableRow<'cyclic_trends'>['metric'][];
/** Ratios a seed needs with a value for its Kendall τ to count (with 2 points τ is ±1 whatever the data). */
export const MIN_TREND_RATIOS = 3;

/**
 * One row per metric: per seed, Kendall τ of the metric against the ratio over that seed's ok rows with a value
 * (≥ MIN_TREND_RATIOS ratios), then the mean over seeds with a 95% t-interval; rises / falls where the interval
 * excludes 0 (signVerdict), unclear where it does not.
 */
export function cyclicTrends(rows: readonly TableRow<'cyclic'>[]): TableRow<'cyclic_trends'>[] {
  const compared = rows.filter((r) => r.status === 'ok' && r.ratio !== null);
  const baselines = rows.filter((r) => r.status === 'ok' && r.role === 'baseline');
  const ratios = [...new Set(compared.map((r) => r.ratio!))].sort((a, b) => a - b);
  const seeds = [...new Set(compared.map((r) => r.seed))].sort((a, b) => a - b);
  return CYCLIC_METRICS.map((metric) => {
    const value = (r: TableRow<'cyclic'>) => r[metric];
    const perSeed: number[] = [];
    for (const seed of seeds) {
      const own = compared.filter((r) => r.seed === seed && value(r) !== null);
      if (own.length < MIN_TREND_RATIOS) continue;
      const tau = kendallTau(own.map((r) => r.ratio!), own.map((r) => value(r)!));
      if (tau !== null) perSeed.push(tau);
    }
    const interval = tInterval(perSeed);
    const verdict = signVerdict(interval, 'positive');
    const atRatio = (ratio: number | undefined) => (ratio === undefined ? null : mean(compared.filter((r) => r.ratio === ratio && value(r) !== null).map((r) => value(r)!)));
    const clamp = (x: number) => Math.min(1, Math.max(-1, x));
    return {
      metric,
      seeds: perSeed.length,
      tau: interval ? interval.estimate : perSeed.length === 1 ? perSeed[0] : null,
      tau_lower: interval ? clamp(interval.lower) : null,
      tau_upper: interval ? clamp(interval.upper) : null,
      method: interval ? `mean of per-seed Kendall τ over the ratios, ${Math.round(interval.confidence * 100)}% t-interval over ${interval.n} seeds` : '',
      direction: verdict === 'pass' ? 'rises' : verdict === 'fail' ? 'falls' : verdict === 'inconclusive' ? 'unclear' : 'not-run',
      reason: interval ? '' : `${perSeed.length} seed${perSeed.length === 1 ? '' : 's'} with the metric at ${MIN_TREND_RATIOS} or more ratios (an interval needs 2)`,
      ratio_low: ratios[0] ?? null,
      mean_low: atRatio(ratios[0]),
      ratio_high: ratios.at(-1) ?? null,
      mean_high: atRatio(ratios.at(-1)),
      baseline_mean: mean(baselines.map(value).filter((v): v is number => v !== null)),
    };
  });
}
